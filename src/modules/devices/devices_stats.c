/* devices_stats.c — the numbers of the wristband service for dashboards: devices and how many are
 * online, alerts still waiting and handled, and how long acknowledging takes (see devices.h). */
#include "modules/devices/devices.h"

#include "base/clock.h"
#include "base/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

/* Append the caller's scope and, when community > 0, that community to sql (alias "d." or "a."). */
static int narrow(const nx_principal *who, const char *alias, int64_t community, char *sql, size_t cap,
                  store_param *p, int *n, nx_err *e)
{
    if (perm_scope_sql(who, alias, "resident_id", sql, cap, p, n))
        return nx_fail(e, NX_ETOOBIG, "", "查询过长");
    if (community > 0) {
        p[(*n)++] = P_INT(community);
        size_t l = strlen(sql);
        snprintf(sql + l, cap - l, " AND %scommunity_id = $%d", alias, *n);
    }
    return 0;
}

/* One integer from sql_head (a SELECT) narrowed to the scope and community, base parameters first. */
static int scoped_int(store_tx *tx, const nx_principal *who, const char *alias, int64_t community,
                      const char *sql_head, const store_param *base, int nbase, int64_t *out, nx_err *e)
{
    char sql[1200];
    store_param p[12];
    int n = nbase;
    memcpy(p, base, (size_t)nbase * sizeof *p);
    str_copy(sql, sql_head, sizeof sql);
    int rc = narrow(who, alias, community, sql, sizeof sql, p, &n, e);
    return rc ? rc : store_one_int(tx, sql, p, n, out, e);
}

int devices_stats(nx_app *app, const nx_principal *who, int64_t community, int64_t now, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看设备统计");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t local_midnight = (now + NX_TZ_OFFSET_MS) / DAY_MS * DAY_MS - NX_TZ_OFFSET_MS;
    int64_t since = now - 30 * DAY_MS;
    int64_t devices = 0, online = 0, open = 0, acked = 0, today = 0, low_battery = 0;
    store_param none[] = {P_INT(0)};
    store_param t[] = {P_INT(local_midnight)};
    if ((rc = scoped_int(tx, who, "d.", community, "SELECT COUNT(*) FROM devices d WHERE d.registered = 1", none, 0, &devices, e)) ||
        (rc = scoped_int(tx, who, "d.", community, "SELECT COUNT(*) FROM devices d WHERE d.registered = 1 AND d.online = 1", none, 0,
                         &online, e)) ||
        (rc = scoped_int(tx, who, "d.", community,
                         "SELECT COUNT(*) FROM devices d WHERE d.registered = 1 AND d.battery IS NOT NULL AND d.battery <= 20",
                         none, 0, &low_battery, e)) ||
        (rc = scoped_int(tx, who, "a.", community, "SELECT COUNT(*) FROM alerts a WHERE a.state = 'open'", none, 0, &open, e)) ||
        (rc = scoped_int(tx, who, "a.", community, "SELECT COUNT(*) FROM alerts a WHERE a.state = 'acknowledged'", none, 0, &acked,
                         e)) ||
        (rc = scoped_int(tx, who, "a.", community, "SELECT COUNT(*) FROM alerts a WHERE a.opened_at >= $1", t, 1, &today, e)))
        goto fail;
    /* Time to acknowledge over the last 30 days: median and 90th percentile (nearest rank). */
    char sql[1200] = "SELECT a.ack_ms FROM alerts a WHERE a.ack_ms IS NOT NULL AND a.opened_at >= $1";
    store_param p[12] = {P_INT(since)};
    int n = 1;
    if ((rc = narrow(who, "a.", community, sql, sizeof sql, p, &n, e)))
        goto fail;
    size_t l = strlen(sql);
    snprintf(sql + l, sizeof sql - l, " ORDER BY a.ack_ms LIMIT 100000");
    store_rows *r = NULL;
    int64_t *acks = NULL;
    size_t na = 0, cap = 0;
    if ((rc = store_query(tx, sql, p, n, &r, e)))
        goto fail;
    bool oom = false;
    while (store_row(r)) {
        if (na == cap) {
            size_t nc = cap ? cap * 2 : 256;
            int64_t *bigger = realloc(acks, nc * sizeof *acks);
            if (!bigger) {
                oom = true;
                break;
            }
            acks = bigger;
            cap = nc;
        }
        acks[na++] = store_int(r, 0);
    }
    rc = store_rows_end(r, e);
    if (rc == 0 && oom)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    if (rc) {
        free(acks);
        goto fail;
    }
    /* Alerts of the last 30 days by kind. */
    json_t *by_kind = json_object();
    char sql2[1200] = "SELECT a.kind, COUNT(*) FROM alerts a WHERE a.opened_at >= $1";
    store_param p2[12] = {P_INT(since)};
    int n2 = 1;
    rc = narrow(who, "a.", community, sql2, sizeof sql2, p2, &n2, e);
    l = strlen(sql2);
    snprintf(sql2 + l, sizeof sql2 - l, " GROUP BY a.kind ORDER BY a.kind");
    if (rc == 0 && (rc = store_query(tx, sql2, p2, n2, &r, e)) == 0) {
        while (store_row(r))
            json_object_set_new(by_kind, store_text(r, 0), json_integer(store_int(r, 1)));
        rc = store_rows_end(r, e);
    }
    store_rollback(tx);
    if (rc) {
        free(acks);
        json_decref(by_kind);
        return rc;
    }
    json_t *o = json_object();
    json_object_set_new(o, "devices", json_integer(devices));
    json_object_set_new(o, "online", json_integer(online));
    json_object_set_new(o, "low_battery", json_integer(low_battery));
    json_object_set_new(o, "open_alerts", json_integer(open));
    json_object_set_new(o, "acknowledged_alerts", json_integer(acked));
    json_object_set_new(o, "alerts_today", json_integer(today));
    json_object_set_new(o, "acknowledged_30d", json_integer((json_int_t)na));
    json_object_set_new(o, "ack_ms_median", na ? json_integer(acks[(na - 1) / 2]) : json_null());
    json_object_set_new(o, "ack_ms_p90", na ? json_integer(acks[(na * 9 + 9) / 10 - 1]) : json_null());
    json_object_set_new(o, "by_kind", by_kind);
    free(acks);
    *out = o;
    return 0;
fail:
    store_rollback(tx);
    return rc;
}
