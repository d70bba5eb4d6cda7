/* serve.c — `nuanxin serve`: open the store (migrating it), start the events dispatcher and the HTTP
 * server, then wait for SIGINT/SIGTERM in the main thread.
 *
 * Signals are blocked before any thread starts so every thread inherits the mask and only sigwait
 * in main sees them. Everything serve starts is held in one `serving`; serving_stop is the one
 * teardown, taken by every exit (a start that fails half-way and the signal alike): it stops in
 * the reverse order of the start — MQTT and the gateway, the HTTP server (no new requests), the
 * tickers, then the dispatchers — and closes the store last. The line "nuanxin: listening on http://HOST:PORT" on stdout tells scripts
 * and tests the bound port (useful with --listen 127.0.0.1:0). */
#include "cli/cli.h"

#include "base/log.h"
#include "base/netaddr.h"
#include "base/sdnotify.h"
#include "base/str.h"
#include "base/trace.h"
#include "cli/flags.h"
#include "gateway/mqtt.h"
#include "http/http.h"
#include "modules/council/council.h"
#include "modules/devices/devices_webhooks.h"
#include "modules/library/library.h"
#include "modules/party/party.h"
#include "modules/people/people.h"
#include "modules/volunteers/volunteers.h"
#include "modules/messages/messages.h"
#include "modules/services/services.h"
#include "modules/venues/venues.h"
#include "modules/visits/visits.h"
#include "notify/channel.h"
#include "notify/dispatcher.h"
#include "notify/outbound.h"
#include "notify/sse_feed.h"
#include "store/ticker.h"
#include "store/upload.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char nx_openapi_json[];

/* The service hall's hourly sweep: step deadlines, escalation, allowance tiers and stops. */
static int services_tick(void *app, int64_t now_ms, nx_err *e)
{
    json_t *summary = NULL;
    int rc = services_sweep(app, NULL, now_ms, &summary, e);
    json_decref(summary);
    return rc;
}

static int ready_check(void *ctx, nx_err *e)
{
    nx_app *app = ctx;
    int version = 0;
    return store_schema_version(app->db, &version, e);
}

/* What a running server holds; each handle is NULL until started. */
typedef struct {
    nx_app app;
    dispatcher *disp, *hooks;
    visits_scheduler *sched;
    store_ticker *sweep;
    store_ticker_options sweep_o;
    library_ticker *library;
    store_ticker *venues; /* rooms' no-show release */
    store_ticker *jobs[3]; /* the modules' periodic jobs (start_jobs) */
    messages_sender *msg;
    http_server *srv;
    cli_devices *devs;
    sse_feed *inbox; /* MESSAGES_EV_INBOX_CHANGED to the inbox stream */
    gw_mqtt *mq;
} serving;

/* The one teardown: stops whatever sv has started (every stop function accepts NULL), in the
 * reverse order of serving_start, and closes the app. */
static void serving_stop(serving *sv)
{
    mqtt_stop(sv->mq);
    cli_devices_stop(sv->devs);
    sse_feed_stop(sv->inbox);
    http_server_free(sv->srv);
    library_ticker_stop(sv->library);
    store_ticker_stop(sv->venues);
    for (size_t i = 0; i < sizeof sv->jobs / sizeof sv->jobs[0]; i++)
        store_ticker_stop(sv->jobs[i]);
    messages_sender_stop(sv->msg);
    store_ticker_stop(sv->sweep);
    visits_scheduler_stop(sv->sched);
    dispatcher_stop(sv->hooks);
    dispatcher_stop(sv->disp);
    cli_close_app(&sv->app);
}

/* The modules' periodic jobs written as a tick function (store/ticker.h), each on a ticker of its own
 * name, the first tick at start: the volunteers' shift reminders, the party's dues reminders, the
 * council's overdue milestones and steps. SIGUSR1 (`kill -USR1`) runs them all at once. */
static int start_jobs(serving *sv, nx_err *e)
{
    static const struct {
        const char *name;
        int64_t period_ms;
        store_tick_fn fn;
    } jobs[] = {{"volunteers.ticker", VOLUNTEERS_TICK_MS, volunteers_tick_job},
                {"party.ticker", PARTY_TICK_MS, party_tick_job},
                {"council.ticker", COUNCIL_TICK_MS, council_tick_job}};
    _Static_assert(sizeof jobs / sizeof jobs[0] == sizeof sv->jobs / sizeof sv->jobs[0], "one ticker per job");
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        store_ticker_options o = {
            .name = jobs[i].name, .period_ms = jobs[i].period_ms, .run_at_start = true, .fn = jobs[i].fn, .ctx = &sv->app};
        if (store_ticker_start(sv->app.db, &o, &sv->jobs[i], e))
            return -1;
    }
    return 0;
}

/* Start everything on sv->app (opened): 0, or 1 with the reason printed and whatever started left
 * for serving_stop. */
static int serving_start(serving *sv)
{
    nx_app *app = &sv->app;
    nx_err e;
    nx_err_clear(&e);
    /* Outbound requests (webhooks) may reach inside only where outbound_allow says; channels
     * written before migration 008 get their URL and secret encrypted before anything reads them. */
    int sealed = 0;
    if (outbound_allow_set(nx_cfg.outbound_allow, &e) || devices_webhooks_seal(app, &sealed, &e)) {
        fprintf(stderr, "nuanxin: 无法准备报警通知渠道：%s\n", e.msg);
        return 1;
    }
    if (sealed)
        nx_log(LOG_INFO, "webhooks.sealed channels=%d", sealed);
    if (dispatcher_start(app->db, &sv->disp, &e)) {
        fprintf(stderr, "nuanxin: 无法启动事件分发：%s\n", e.msg);
        return 1;
    }
    /* Webhook messages (group robots) leave from a dispatcher of their own: a robot that answers
     * slowly must not hold the other subscribers' events. */
    if (dispatcher_start(app->db, &sv->hooks, &e) || devices_webhooks_subscribe(sv->hooks, app)) {
        fprintf(stderr, "nuanxin: 无法启动报警通知：%s\n", e.msg);
        return 1;
    }
    sv->sweep_o = (store_ticker_options){
        .name = "services.sweep", .period_ms = 3600 * 1000, .fn = services_tick, .ctx = app};
    /* Notifications to residents leave through the registered channels; only the log stand-in
     * exists so far (SMS and WeChat are interfaces waiting for a provider). */
    channel_register(&CHANNEL_LOG_STUB, NULL);
    if (cli_subscribe(sv->disp, app) || visits_scheduler_start(app, 0, &sv->sched, &e) ||
        store_ticker_start(app->db, &sv->sweep_o, &sv->sweep, &e) ||
        library_ticker_start(app, 0, &sv->library, &e) || venues_ticker_start(app, 0, &sv->venues, &e) ||
        start_jobs(sv, &e) ||
        messages_sender_start(app, &sv->msg, &e)) {
        fprintf(stderr, "nuanxin: 无法启动后台任务：%s\n", e.msg);
        return 1;
    }
    char map_origin[320]; /* the map tile server's origin: the page may load images from it */
    config_url_origin(nx_cfg.map_tiles, map_origin, sizeof map_origin);
    http_options ho = {
        .listen = nx_cfg.listen,
        .threads = (int)nx_cfg.http_threads,
        .max_body = (size_t)nx_cfg.max_body,
        .max_upload = (size_t)nx_cfg.max_upload,
        .max_header = (size_t)nx_cfg.max_header,
        .request_arena = (size_t)nx_cfg.request_arena,
        .max_connections = (int)nx_cfg.max_connections,
        .max_per_address = (int)nx_cfg.max_connections_per_address,
        .header_timeout_s = (int)nx_cfg.header_timeout_s,
        .web_root = nx_cfg.web_root,
        .img_origin = map_origin,
        .access_log = nx_cfg.access_log,
        .trusted_proxies = nx_cfg.trusted_proxies,
    };
    if (http_server_new(&ho, &sv->srv, &e)) {
        fprintf(stderr, "nuanxin: 无法创建 HTTP 服务：%s\n", e.msg);
        return 1;
    }
    http_set_openapi(sv->srv, nx_openapi_json);
    http_set_ready_check(sv->srv, ready_check, app);
    cli_register_routes(sv->srv, app);
    /* Resident details from memory (people_cache.c), dropped by any change to their tables. */
    if (nx_cfg.detail_cache && people_detail_start(app, &e)) {
        fprintf(stderr, "nuanxin: 无法启用居民详情缓存：%s\n", e.msg);
        return 1;
    }
    if (http_server_start(sv->srv, &e)) {
        fprintf(stderr, "nuanxin: 无法监听 %s：%s\n", nx_cfg.listen, e.msg);
        return 1;
    }
    /* The inbox stream: each account hears that its inbox changed (messages.h). */
    http_sse_hub *inbox = http_sse_hub_find(sv->srv, MESSAGES_SSE_HUB);
    if (inbox && sse_feed_start(app->db, inbox, MESSAGES_EV_INBOX_CHANGED, &sv->inbox, &e)) {
        fprintf(stderr, "nuanxin: 无法启动消息推送：%s\n", e.msg);
        return 1;
    }
    /* The wristband gateway and the alert ticker (cli/device.c). */
    if (cli_devices_start(app, sv->srv, &sv->devs, &e)) {
        fprintf(stderr, "nuanxin: 无法启动设备网关：%s\n", e.msg);
        return 1;
    }
    /* Devices behind an MQTT broker (gateway/mqtt.h), when mqtt_url is set. */
    gw_mqtt_options mo = {
        .url = nx_cfg.mqtt_url,
        .topic_prefix = nx_cfg.mqtt_topic_prefix,
        .username = nx_cfg.mqtt_username,
        .password = nx_cfg.mqtt_password,
        .client_id = nx_cfg.mqtt_client_id,
        .max_topics = (int)nx_cfg.mqtt_max_topics,
        .idle_timeout_s = (int)nx_cfg.gw_idle_timeout_s,
        .batch_ms = (int)nx_cfg.gw_batch_ms,
        .esc_ms = nx_cfg.alert_escalate_s * 1000,
        .keys = app->keys,
    };
    if (nx_cfg.mqtt_url[0] && mqtt_start(app->db, &mo, &sv->mq, &e)) {
        fprintf(stderr, "nuanxin: 无法启动 MQTT 设备接入：%s\n", e.msg);
        return 1;
    }
    return 0;
}

/* The resolved directory of a file path (symlinks and ".." resolved): 0, or -1 when it does not exist. */
static int dir_of(const char *path, char out[PATH_MAX])
{
    char d[PATH_MAX];
    return str_dirname(path, d, sizeof d) && realpath(d, out) ? 0 : -1;
}

/* Personal data at rest, checked once at start: the key file should not sit with the data it
 * protects — in the data directory, or beside the SQLite database — since a copy of that directory
 * or a backup of it would then hold both the ciphertext and its key; and uploads an older version
 * stored in clear are sealed now (store/upload.h). Neither stops the start. */
static void check_at_rest(nx_app *app)
{
    char key_dir[PATH_MAX], data_dir[PATH_MAX], db_dir[PATH_MAX];
    bool sqlite = !str_starts_with(nx_cfg.database, "postgres://") && !str_starts_with(nx_cfg.database, "postgresql://");
    if (dir_of(nx_cfg.key_file, key_dir) == 0) {
        size_t n = realpath(nx_cfg.data_dir, data_dir) ? strlen(data_dir) : 0;
        bool in_data = n > 0 && strncmp(key_dir, data_dir, n) == 0 &&
                       (key_dir[n] == '\0' || key_dir[n] == '/' || n == 1);
        bool beside_db = sqlite && dir_of(nx_cfg.database, db_dir) == 0 && strcmp(key_dir, db_dir) == 0;
        if (in_data || beside_db) {
            nx_log(LOG_WARN, "security.key_file_beside_data key_file=%s data_dir=%s", nx_cfg.key_file,
                   nx_cfg.data_dir);
            fprintf(stderr,
                    "nuanxin: 警告：密钥文件 %s 与数据放在一起，拿到数据目录或其整体备份的人即可解密全部个人信息；"
                    "请把密钥文件移到数据目录之外并设置 key_file（见 docs/operations.md）。"
                    "Warning: the key file sits with the data it protects; move it out and set key_file.\n",
                    nx_cfg.key_file);
        }
    }
    int sealed = 0, failed = 0;
    nx_err e;
    nx_err_clear(&e);
    if (upload_seal_legacy(nx_cfg.data_dir, app->keys, &sealed, &failed, &e))
        nx_log(LOG_WARN, "uploads.seal_failed msg=\"%s\"", e.msg);
    else if (sealed || failed)
        nx_log(failed ? LOG_WARN : LOG_INFO, "uploads.sealed_legacy sealed=%d failed=%d", sealed, failed);
}

/* True when the listen address (HOST:PORT, [V6]:PORT, :PORT) is a loopback address only. */
bool cli_listen_is_loopback(const char *listen)
{
    char host[128];
    str_copy(host, listen[0] == '[' ? listen + 1 : listen, sizeof host);
    char *end = listen[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
    if (end)
        *end = '\0';
    if (strcmp(host, "localhost") == 0)
        return true;
    nx_addr a, lo4, lo6;
    if (netaddr_parse(host, &a) != 0 || netaddr_parse("127.0.0.1", &lo4) != 0 || netaddr_parse("::1", &lo6) != 0)
        return false; /* "", "*", 0.0.0.0, a host name: every interface or unknown */
    return netaddr_equal(&a, &lo6) || (netaddr_is_v4(&a) && a.b[12] == 127);
}

/* Tell systemd (Type=notify) how we are; a failure is logged once per call and changes nothing. */
static void notify(const char *state)
{
    if (sd_notify_send(state) < 0)
        nx_log(LOG_WARN, "serve.sd_notify_failed errno=%d", errno);
}

/* SIGHUP (`systemctl reload nuanxin`): re-read the configuration file and the NUANXIN_*
 * environment and apply what can change while serving — today the log level. Everything else
 * (addresses, the database, limits) needs a restart; a file that no longer parses is reported and
 * the running settings stay. */
static void reload(void)
{
    notify("RELOADING=1");
    static nx_config fresh;
    config_defaults(&fresh);
    memcpy(fresh.data_dir, nx_cfg.data_dir, sizeof fresh.data_dir);
    memcpy(fresh.config_file, nx_cfg.config_file, sizeof fresh.config_file);
    nx_err e;
    nx_err_clear(&e);
    if (config_load_file_env(&fresh, &e)) {
        nx_log(LOG_ERROR, "serve.reload_failed reason=%s (the running settings stay)", e.msg);
    } else {
        config_resolve(&fresh);
        int level = nx_log_level_parse(fresh.log_level);
        memcpy(nx_cfg.log_level, fresh.log_level, sizeof nx_cfg.log_level);
        nx_log_threshold = LOG_INFO; /* the line below is always written */
        nx_log(LOG_INFO, "serve.reloaded log_level=%s (other settings need a restart)", fresh.log_level);
        nx_log_threshold = level;
    }
    notify("READY=1");
}

int cmd_serve(int argc, char **argv)
{
    /* serve's settings are configuration (--listen …, applied by main.c); anything left is a typo */
    if (cli_flags_parse(NULL, 0, argc, argv, 1, NULL, 0, NULL))
        return 2;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    trace_init(); /* NX_SOS_TRACE: the alarm path's stage timestamps (bench/sos.sh TRACE=1) */

    serving sv = {0};
    if (cli_open_app(&sv.app, false, true))
        return 1;
    check_at_rest(&sv.app);
    int rc = serving_start(&sv);
    if (rc == 0) {
        char host[128];
        snprintf(host, sizeof host, "%s", nx_cfg.listen);
        char *colon = strrchr(host, ':');
        if (colon)
            *colon = '\0';
        int port = http_server_port(sv.srv);
        printf("nuanxin: listening on http://%s:%d\n", host, port);
        printf("暖心社区平台已启动：http://%s:%d （按 Ctrl+C 停止）\n", host, port);
        if (!nx_cfg.cookie_secure && !cli_listen_is_loopback(nx_cfg.listen)) {
            /* stderr: the first stdout line is the address scripts read */
            fprintf(stderr, "nuanxin: 警告：监听 %s 超出本机回环地址，但未开启 cookie_secure——登录 Cookie 可能经明文 "
                            "HTTP 传输。生产环境请在 TLS 反向代理（docs/nginx）之后运行并设置 cookie_secure = true\n",
                    nx_cfg.listen);
            nx_log(LOG_WARN, "serve.insecure listen=%s cookie_secure=false (beyond loopback without TLS cookies)",
                   nx_cfg.listen);
        }
        cli_devices_print(sv.devs);
        fflush(stdout);
        nx_log(LOG_INFO, "serve.started port=%d database=%s", port, store_backend(sv.app.db));
        char status[256];
        snprintf(status, sizeof status, "READY=1\nSTATUS=listening on %s:%d", host, port);
        notify(status);
        int sig = 0;
        while (sigwait(&set, &sig) == 0 && (sig == SIGHUP || sig == SIGUSR1)) {
            if (sig == SIGHUP) {
                reload();
                continue;
            }
            /* SIGUSR1: the modules' periodic jobs (reminders, overdue steps) run now, not at the end of
             * their period — after downtime, or in a test that made something due */
            nx_log(LOG_INFO, "serve.jobs_woken");
            for (size_t i = 0; i < sizeof sv.jobs / sizeof sv.jobs[0]; i++)
                store_ticker_wake(sv.jobs[i]);
        }
        nx_log(LOG_INFO, "serve.stopping signal=%d", sig);
        notify("STOPPING=1");
    }
    serving_stop(&sv);
    if (rc == 0)
        nx_log(LOG_INFO, "serve.stopped");
    return rc;
}
