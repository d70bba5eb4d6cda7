/* devices_stats.c — the numbers of the wristband service for dashboards: devices and how many are
 * online, alerts still waiting and handled, and how long acknowledging takes (see devices.h).
 *
 * Every number is one query narrowed to the caller's scope (and to one community when asked), all
 * in one read transaction so that they describe the same moment. The median and 90th percentile of
 * the time to acknowledge are read as single rows at their rank (ORDER BY … LIMIT 1 OFFSET k), so
 * they are exact however many alerts the month had, without loading them. */
#include "modules/devices/devices.h"
#include "modules/devices/devices_internal.h"

#include "base/clock.h"

#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)

/* Start q with head (a SELECT … WHERE …) narrowed to the caller's scope and, when community is set
 * (≠ 0, the kit's filter rule), to that community (alias "d." or "a."). */
static void narrow(sqlq *q, const char *head, const nx_principal *who, const char *alias, int64_t community)
{
    sqlq_init(q, head);
    perm_scope_q(who, alias, "resident_id", q);
    sqlq_eq_int(q, strcmp(alias, "d.") == 0 ? "d.community_id" : "a.community_id", community);
}

/* One integer from head (a SELECT COUNT(*) … WHERE …, no parameters of its own) narrowed as above. */
static int scoped_count(store_tx *tx, const nx_principal *who, const char *alias, int64_t community, const char *head,
                        int64_t *out, nx_err *e)
{
    sqlq q;
    narrow(&q, head, who, alias, community);
    return sqlq_one_int(tx, &q, out, e);
}

/* The time to acknowledge at rank k (0-based, ascending) of the alerts opened since. */
static int ack_at_rank(store_tx *tx, const nx_principal *who, int64_t community, int64_t since, int64_t k, int64_t *out,
                       nx_err *e)
{
    sqlq q;
    narrow(&q, "SELECT a.ack_ms FROM alerts a WHERE a.ack_ms IS NOT NULL", who, "a.", community);
    sqlq_add(&q, " AND a.opened_at >= $%d", P_INT(since));
    sqlq_add(&q, " ORDER BY a.ack_ms LIMIT 1 OFFSET $%d", P_INT(k));
    return sqlq_one_int(tx, &q, out, e);
}

int devices_stats(nx_app *app, const nx_principal *who, int64_t community, int64_t now, json_t **out, nx_err *e)
{
    store_tx *tx;
    int rc = perm_begin(app->db, who, RIGHT_DEVICE_READ, STORE_READ, "无权查看设备统计", &tx, e);
    if (rc)
        return rc;
    int64_t local_midnight = (now + NX_TZ_OFFSET_MS) / DAY_MS * DAY_MS - NX_TZ_OFFSET_MS;
    int64_t since = now - 30 * DAY_MS;
    int64_t devices = 0, online = 0, open = 0, acked = 0, today = 0, low_battery = 0, na = 0, median = 0, p90 = 0;
    json_t *by_kind = json_object();
    sqlq q;
    if ((rc = scoped_count(tx, who, "d.", community, "SELECT COUNT(*) FROM devices d WHERE d.registered = 1", &devices,
                           e)) ||
        (rc = scoped_count(tx, who, "d.", community, "SELECT COUNT(*) FROM devices d WHERE d.registered = 1 AND d.online = 1",
                           &online, e)) ||
        (rc = scoped_count(tx, who, "d.", community,
                           "SELECT COUNT(*) FROM devices d WHERE d.registered = 1 AND d.battery IS NOT NULL AND d.battery <= 20",
                           &low_battery, e)) ||
        (rc = scoped_count(tx, who, "a.", community, "SELECT COUNT(*) FROM alerts a WHERE a.state = 'open'", &open, e)) ||
        (rc = scoped_count(tx, who, "a.", community, "SELECT COUNT(*) FROM alerts a WHERE a.state = 'acknowledged'", &acked,
                           e)))
        goto fail;
    narrow(&q, "SELECT COUNT(*) FROM alerts a WHERE 1 = 1", who, "a.", community);
    sqlq_add(&q, " AND a.opened_at >= $%d", P_INT(local_midnight));
    if ((rc = sqlq_one_int(tx, &q, &today, e)))
        goto fail;
    /* Time to acknowledge over the last 30 days: median and 90th percentile (nearest rank). */
    narrow(&q, "SELECT COUNT(*) FROM alerts a WHERE a.ack_ms IS NOT NULL", who, "a.", community);
    sqlq_add(&q, " AND a.opened_at >= $%d", P_INT(since));
    if ((rc = sqlq_one_int(tx, &q, &na, e)))
        goto fail;
    if (na > 0 && ((rc = ack_at_rank(tx, who, community, since, (na - 1) / 2, &median, e)) ||
                   (rc = ack_at_rank(tx, who, community, since, (na * 9 + 9) / 10 - 1, &p90, e))))
        goto fail;
    /* Alerts of the last 30 days by kind. */
    narrow(&q, "SELECT a.kind, COUNT(*) FROM alerts a WHERE 1 = 1", who, "a.", community);
    sqlq_add(&q, " AND a.opened_at >= $%d", P_INT(since));
    sqlq_sql(&q, " GROUP BY a.kind ORDER BY a.kind");
    store_rows *r = NULL;
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto fail;
    while (store_row(r))
        json_object_set_new(by_kind, store_text(r, 0), json_integer(store_int(r, 1)));
    if ((rc = store_rows_end(r, e)))
        goto fail;
    store_rollback(tx);
    json_t *o = json_object();
    json_object_set_new(o, "devices", json_integer(devices));
    json_object_set_new(o, "online", json_integer(online));
    json_object_set_new(o, "low_battery", json_integer(low_battery));
    json_object_set_new(o, "open_alerts", json_integer(open));
    json_object_set_new(o, "acknowledged_alerts", json_integer(acked));
    json_object_set_new(o, "alerts_today", json_integer(today));
    json_object_set_new(o, "acknowledged_30d", json_integer(na));
    json_object_set_new(o, "ack_ms_median", na ? json_integer(median) : json_null());
    json_object_set_new(o, "ack_ms_p90", na ? json_integer(p90) : json_null());
    json_object_set_new(o, "by_kind", by_kind);
    *out = o;
    return 0;
fail:
    json_decref(by_kind);
    store_rollback(tx);
    return rc;
}
