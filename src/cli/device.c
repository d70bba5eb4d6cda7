/* device.c — `nuanxin device add|list|bind`, and the gateway and alert ticker that serve starts.
 *
 * The commands act as the platform itself (an administrator's rights, every scope) and are audited
 * like API calls, with no user. The gateway runs in the serve process: listeners from watch_listen
 * and iw_listen ("off" disables one; port 0 picks a free one, printed on stdout as
 * "nuanxin: gateway watch on HOST:PORT" so tests and scripts can find it). */
#include "cli/cli.h"

#include "base/log.h"
#include "base/str.h"
#include "cli/flags.h"
#include "gateway/gateway.h"
#include "http/http.h"
#include "modules/devices/devices.h"
#include "notify/sse_feed.h"
#include "wire/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cli_devices {
    gateway *gw;
    devices_ticker *ticker;
    sse_feed *feed;
    char watch_host[128], iw_host[128];
};

static void host_of(const char *listen, char *out, size_t n)
{
    str_copy(out, listen, n);
    char *colon = strrchr(out, ':');
    if (colon)
        *colon = '\0';
}

int cli_devices_start(nx_app *app, http_server *srv, cli_devices **out, nx_err *e)
{
    cli_devices *d = calloc(1, sizeof *d);
    if (!d)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    gw_options o = {
        .watch_listen = nx_cfg.watch_listen,
        .iw_listen = nx_cfg.iw_listen,
        .max_connections = (int)nx_cfg.gw_max_connections,
        .idle_timeout_s = (int)nx_cfg.gw_idle_timeout_s,
        .batch_ms = (int)nx_cfg.gw_batch_ms,
        .esc_ms = nx_cfg.alert_escalate_s * 1000,
        .keys = app->keys,
        .allow_from = nx_cfg.device_allow_from,
        .limit_exempt = nx_cfg.device_limit_exempt,
        .conns_per_addr = (int)nx_cfg.device_conns_per_addr,
        .frames_per_min = (int)nx_cfg.device_frames_per_min,
        .alarms_per_min = (int)nx_cfg.device_alarms_per_min,
        .identify_timeout_s = (int)nx_cfg.device_identify_timeout_s,
        .quarantine_max = (int)nx_cfg.device_quarantine_max,
        .takeover_window_s = (int)nx_cfg.device_takeover_window_s,
        /* HTTP connections, the database's, uploads and logs */
        .fd_reserve = (int)(nx_cfg.max_connections + nx_cfg.db_pool + nx_cfg.db_readers + 256),
    };
    host_of(nx_cfg.watch_listen, d->watch_host, sizeof d->watch_host);
    host_of(nx_cfg.iw_listen, d->iw_host, sizeof d->iw_host);
    http_sse_hub *hub = srv ? http_sse_hub_find(srv, DEVICES_SSE_HUB) : NULL;
    int rc = 0;
    if (hub && (rc = sse_feed_start(app->db, hub, DEVICES_EV_ALERT_PREFIX, &d->feed, e))) {
        free(d);
        return rc;
    }
    if (d->feed) { /* an alarm's event goes to the live streams from the writer, right after its commit */
        o.after_alarms = sse_feed_pump_cb;
        o.after_alarms_ctx = d->feed;
    }
    if ((rc = gateway_start(app->db, &o, &d->gw, e)) || (rc = devices_ticker_start(app, 1000, &d->ticker, e))) {
        gateway_stop(d->gw);
        sse_feed_stop(d->feed);
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void cli_devices_print(const cli_devices *d)
{
    if (!d)
        return;
    int wp = gateway_port(d->gw, WIRE_PROTO_WATCH), ip = gateway_port(d->gw, WIRE_PROTO_IW);
    if (wp)
        printf("nuanxin: gateway watch on %s:%d\n", d->watch_host, wp);
    if (ip)
        printf("nuanxin: gateway iw on %s:%d\n", d->iw_host, ip);
}

void cli_devices_stop(cli_devices *d)
{
    if (!d)
        return;
    gateway_stop(d->gw);
    devices_ticker_stop(d->ticker);
    sse_feed_stop(d->feed);
    free(d);
}

static void usage(void)
{
    fprintf(stderr, "用法：nuanxin device add IMEI --protocol watch|iw [--model M] [--sim S] [--resident ID]\n"
                    "      nuanxin device list [--unregistered]\n"
                    "      nuanxin device bind IMEI RESIDENT_ID\n");
}

int cmd_device(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *sub = argv[1];
    nx_principal sys = {.role = ROLE_ADMIN, .scope = SCOPE_ALL, .username = "cli", .ip = "cli"};
    nx_err e;
    nx_err_clear(&e);
    int64_t resident = 0;
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    if (strcmp(sub, "add") == 0) {
        devices_device_input in = {.protocol = "watch"};
        cli_flag flags[] = {
            CLI_STR("--protocol", &in.protocol, "协议 watch|iw (watch)"),
            CLI_STR("--model", &in.model, "型号 model"),
            CLI_STR("--sim", &in.sim, "SIM 卡号 SIM number"),
            CLI_INT("--resident", &in.resident_id, 1, INT64_MAX, "居民编号", "绑定的居民编号 resident to bind"),
        };
        if (cli_flags_parse(flags, sizeof flags / sizeof flags[0], argc, argv, 2, pos, 1, &npos))
            return 2;
        if (npos < 1) {
            usage();
            return 2;
        }
        in.imei = pos[0];
        nx_app app;
        if (cli_open_app(&app, false, true))
            return 1;
        int64_t id = 0;
        int rc = devices_add(&app, &sys, &in, &id, &e);
        cli_close_app(&app);
        if (rc) {
            fprintf(stderr, "nuanxin: 登记设备失败：%s\n", e.msg);
            return 1;
        }
        printf("已登记设备 %s（编号 %lld）\n", in.imei, (long long)id);
        return 0;
    }
    if (strcmp(sub, "bind") == 0) {
        if (cli_flags_parse(NULL, 0, argc, argv, 2, pos, 2, &npos))
            return 2;
        if (npos < 2 || str_to_i64(pos[1], 1, INT64_MAX, &resident)) {
            usage();
            return 2;
        }
        nx_app app;
        if (cli_open_app(&app, false, true))
            return 1;
        int64_t id = 0;
        devices_device_input in = {.resident_id = resident};
        int rc = devices_find(app.db, pos[0], &id, &e);
        if (rc == 0)
            rc = devices_update(&app, &sys, id, &in, &e);
        cli_close_app(&app);
        if (rc) {
            fprintf(stderr, "nuanxin: 绑定失败：%s\n", e.msg);
            return 1;
        }
        printf("设备 %s 已绑定居民 %lld\n", pos[0], (long long)resident);
        return 0;
    }
    if (strcmp(sub, "list") == 0) {
        bool unreg = false;
        cli_flag flags[] = {CLI_BOOL("--unregistered", &unreg, "只列未登记的 only devices not registered")};
        if (cli_flags_parse(flags, 1, argc, argv, 2, NULL, 0, NULL))
            return 2;
        nx_app app;
        if (cli_open_app(&app, false, true))
            return 1;
        /* every device, page by page (a page is at most page_max rows) */
        devices_device_filter f = {.registered = unreg ? 0 : -1, .online = -1};
        printf("%-20s %-6s %-4s %-8s %-8s %s\n", "设备号", "协议", "登记", "状态", "电量", "居民");
        int rc = 0;
        do {
            json_t *out = NULL;
            if ((rc = devices_list(&app, &sys, &f, &out, &e)))
                break;
            size_t i;
            json_t *d;
            json_array_foreach(json_object_get(out, "items"), i, d)
            {
                json_t *bat = json_object_get(d, "battery");
                json_t *rid = json_object_get(d, "resident_id");
                char b[16] = "-", r[24] = "-";
                if (json_is_integer(bat))
                    snprintf(b, sizeof b, "%lld%%", (long long)json_integer_value(bat));
                if (json_is_integer(rid))
                    snprintf(r, sizeof r, "%lld", (long long)json_integer_value(rid));
                printf("%-20s %-6s %-4s %-8s %-8s %s\n", json_string_value(json_object_get(d, "imei")),
                       json_string_value(json_object_get(d, "protocol")),
                       json_is_true(json_object_get(d, "registered")) ? "是" : "否",
                       json_is_true(json_object_get(d, "online")) ? "在线" : "离线", b, r);
            }
            const char *next = json_string_value(json_object_get(out, "next_cursor"));
            f.after_id = 0;
            if (next && str_to_i64(next, 1, INT64_MAX, &f.after_id))
                f.after_id = 0;
            json_decref(out);
        } while (f.after_id > 0);
        cli_close_app(&app);
        if (rc) {
            fprintf(stderr, "nuanxin: 读取设备失败：%s\n", e.msg);
            return 1;
        }
        return 0;
    }
    usage();
    return 2;
}
