/* devices_admin.c — the registry of wristbands, residents' alert rules, and the handling of alerts by
 * people: list, read, acknowledge, resolve.
 *
 * Scope is applied in SQL (perm_scope_q) on the device's or the alert's community, grid and
 * resident columns, so a row outside the caller's scope reads as "not found". Exception, by design:
 * a device the gateway has seen but nobody has added or bound (community_id NULL) is visible to every
 * holder of RIGHT_DEVICE_WRITE, since it carries nothing but an IMEI and somebody must bind it.
 * Alerts of such a device have no community either: only platform-wide accounts see them.
 * Every change writes an audit row and, for alerts, an alert_log row and an outbox event, all in the
 * transaction of the change. */
#include "modules/devices/devices.h"
#include "modules/devices/devices_internal.h"

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/log.h"
#include "base/str.h"
#include "report/xlsx_write.h"
#include "secure/audit.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_coord(json_t *o, const char *key, store_rows *r, int col)
{
    json_object_set_new(o, key, store_isnull(r, col) ? json_null() : json_real((double)store_int(r, col) / 1e6));
}

/* ---- devices ---- */

#define DEVICE_COLS                                                                                                \
    "d.id, d.imei, d.protocol, d.model, d.sim, d.iccid, d.registered, d.community_id, d.grid_id, d.resident_id, "  \
    "res.name, d.online, d.battery, d.last_fix_at, d.last_lat_e6, d.last_lon_e6, d.last_hr, d.last_sys, "            \
    "d.last_dia, d.last_spo2, d.last_temp_e1, d.last_reading_at, d.steps_day, d.steps_today, d.worn, "              \
    "d.first_seen_at, d.last_seen_at, d.notes, d.created_at, d.updated_at "                                         \
    "FROM devices d LEFT JOIN residents res ON res.id = d.resident_id"

static json_t *device_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", store_json_int(r, 0));
    json_object_set_new(o, "imei", store_json_text(r, 1));
    json_object_set_new(o, "protocol", store_json_text(r, 2));
    json_object_set_new(o, "model", store_json_text(r, 3));
    json_object_set_new(o, "sim", store_json_text(r, 4));
    json_object_set_new(o, "iccid", store_json_text(r, 5));
    json_object_set_new(o, "registered", json_boolean(store_int(r, 6) != 0));
    json_object_set_new(o, "community_id", store_json_int(r, 7));
    json_object_set_new(o, "grid_id", store_json_int(r, 8));
    json_object_set_new(o, "resident_id", store_json_int(r, 9));
    json_object_set_new(o, "resident_name", store_json_text(r, 10));
    json_object_set_new(o, "online", json_boolean(store_int(r, 11) != 0));
    json_object_set_new(o, "status", json_string(store_int(r, 11) ? "online" : "offline"));
    json_object_set_new(o, "battery", store_json_int(r, 12));
    json_t *fix = json_object();
    json_object_set_new(fix, "at", store_json_time(r, 13));
    set_coord(fix, "lat", r, 14);
    set_coord(fix, "lon", r, 15);
    json_object_set_new(o, "last_fix", store_isnull(r, 13) ? (json_decref(fix), json_null()) : fix);
    json_t *rd = json_object();
    json_object_set_new(rd, "hr", store_json_int(r, 16));
    json_object_set_new(rd, "sys", store_json_int(r, 17));
    json_object_set_new(rd, "dia", store_json_int(r, 18));
    json_object_set_new(rd, "spo2", store_json_int(r, 19));
    json_object_set_new(rd, "temp", store_isnull(r, 20) ? json_null() : json_real((double)store_int(r, 20) / 10.0));
    json_object_set_new(rd, "at", store_json_time(r, 21));
    json_object_set_new(o, "last_readings", rd);
    json_object_set_new(o, "steps_day", store_json_text(r, 22));
    json_object_set_new(o, "steps_today", store_json_int(r, 23));
    json_object_set_new(o, "worn", store_isnull(r, 24) ? json_null() : json_boolean(store_int(r, 24) != 0));
    json_object_set_new(o, "first_seen_at", store_json_time(r, 25));
    json_object_set_new(o, "last_seen_at", store_json_time(r, 26));
    json_object_set_new(o, "notes", store_json_text(r, 27));
    json_object_set_new(o, "created_at", store_json_time(r, 28));
    json_object_set_new(o, "updated_at", store_json_time(r, 29));
    return o;
}

/* The caller's scope on devices d, letting unbound devices (no community yet) through for
 * DEVICE_WRITE holders, who must be able to find and bind them. */
static void device_scope(const nx_principal *who, sqlq *q)
{
    if (who->scope == SCOPE_ALL)
        return;
    if (!perm_has(who, RIGHT_DEVICE_WRITE)) {
        perm_scope_q(who, "d.", "resident_id", q);
        return;
    }
    sqlq_sql(q, " AND (d.community_id IS NULL OR (1 = 1");
    perm_scope_q(who, "d.", "resident_id", q);
    sqlq_sql(q, "))");
}

static bool imei_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* The resident's community and grid, in the caller's scope. */
static int resident_place(store_tx *tx, const nx_principal *who, int64_t resident, int64_t *community, int64_t *grid,
                          nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT r.community_id, r.grid_id FROM residents r WHERE 1 = 1");
    sqlq_add(&q, " AND r.id = $%d", P_INT(resident));
    perm_scope_q(who, "r.", "id", &q);
    store_rows *r = NULL;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "", e)) == 0) {
        *community = store_int(r, 0);
        *grid = store_int(r, 1);
    }
    store_rows_free(r);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "resident_id", "居民不存在或不在您的管辖范围内");
    return rc;
}

static int check_text(const char *s, size_t max, const char *field, nx_err *e)
{
    if (s && str_utf8_len(s) > max)
        return nx_fail(e, NX_EINVAL, field, "%s 过长（最多 %zu 个字符）", field, max);
    return 0;
}

int devices_add(nx_app *app, const nx_principal *who, const device_input *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权登记设备");
    if (!in->imei || !imei_ok(in->imei))
        return nx_fail(e, NX_EINVAL, "imei", "设备号应为 1-20 位数字");
    if (!in->protocol || (strcmp(in->protocol, "watch") != 0 && strcmp(in->protocol, "iw") != 0))
        return nx_fail(e, NX_EINVAL, "protocol", "协议应为 watch 或 iw");
    int rc;
    if ((rc = check_text(in->model, 40, "model", e)) || (rc = check_text(in->sim, 20, "sim", e)) ||
        (rc = check_text(in->notes, 200, "notes", e)))
        return rc;
    store_tx *tx = NULL;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, grid = 0, now = clock_now_ms();
    if (in->resident_id > 0 && (rc = resident_place(tx, who, in->resident_id, &community, &grid, e)))
        goto fail;
    if (in->resident_id <= 0 && who->scope != SCOPE_ALL) {
        community = who->community_id; /* a community's own stock, not yet handed out */
        if (!community) {
            rc = nx_fail(e, NX_EINVAL, "resident_id", "请指定佩戴设备的居民");
            goto fail;
        }
    }
    int64_t existing = 0, registered = 0;
    store_param q[] = {P_TEXT(in->imei)};
    store_rows *r = NULL;
    if ((rc = store_query(tx, "SELECT id, registered FROM devices WHERE imei = $1", q, 1, &r, e)))
        goto fail;
    if (store_row(r)) {
        existing = store_int(r, 0);
        registered = store_int(r, 1);
    }
    if ((rc = store_rows_end(r, e)))
        goto fail;
    if (registered) {
        rc = nx_fail(e, NX_ECONFLICT, "imei", "该设备已登记");
        goto fail;
    }
    store_param p[] = {P_TEXT(in->imei),     P_TEXT(in->protocol), P_TEXT(in->model),
                       P_TEXT(in->sim),      P_ID(community),      P_ID(grid),
                       P_ID(in->resident_id > 0 ? in->resident_id : 0), P_TEXT(in->notes), P_INT(now)};
    if (existing) {
        p[0] = P_INT(existing);
        rc = store_exec(tx,
                        "UPDATE devices SET protocol = $2, model = $3, sim = $4, community_id = $5, grid_id = $6, "
                        "resident_id = $7, notes = $8, registered = 1, updated_at = $9 WHERE id = $1",
                        p, 9, NULL, e);
        *id = existing;
    } else {
        rc = store_one_int(tx,
                           "INSERT INTO devices (imei, protocol, model, sim, community_id, grid_id, resident_id, notes, "
                           "registered, online, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, 0, $9, $9) "
                           "RETURNING id",
                           p, 9, id, e);
    }
    if (rc == NX_ECONFLICT)
        nx_fail(e, NX_ECONFLICT, "imei", "该设备已登记");
    if (rc)
        goto fail;
    json_t *d = json_pack("{s:s, s:b}", "protocol", in->protocol, "bound", in->resident_id > 0);
    rc = audit_write(tx, who, "create", "device", *id, community, d, e);
    json_decref(d);
    if (rc)
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

/* Load a device in the caller's scope: community, resident. */
int dev_device_in_scope(store_tx *tx, const nx_principal *who, int64_t id, int64_t *community, int64_t *resident,
                        nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT d.community_id, d.resident_id FROM devices d WHERE 1 = 1");
    sqlq_add(&q, " AND d.id = $%d", P_INT(id));
    device_scope(who, &q);
    store_rows *r = NULL;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "设备不存在", e)) == 0) {
        if (community)
            *community = store_int(r, 0);
        if (resident)
            *resident = store_int(r, 1);
    }
    store_rows_free(r);
    return rc;
}

int devices_update(nx_app *app, const nx_principal *who, int64_t id, const device_input *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改设备");
    int rc;
    if ((rc = check_text(in->model, 40, "model", e)) || (rc = check_text(in->sim, 20, "sim", e)) ||
        (rc = check_text(in->notes, 200, "notes", e)))
        return rc;
    store_tx *tx = NULL;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, resident = 0, now = clock_now_ms();
    if ((rc = dev_device_in_scope(tx, who, id, &community, &resident, e)))
        goto fail;
    store_param p[] = {P_INT(id), P_TEXT(in->model), P_TEXT(in->sim), P_TEXT(in->notes), P_INT(now)};
    if ((rc = store_exec(tx,
                         "UPDATE devices SET model = COALESCE($2, model), sim = COALESCE($3, sim), notes = COALESCE($4, notes), "
                         "updated_at = $5 WHERE id = $1",
                         p, 5, NULL, e)))
        goto fail;
    const char *action = "update";
    if (in->resident_id > 0) {
        int64_t c = 0, g = 0;
        if ((rc = resident_place(tx, who, in->resident_id, &c, &g, e)))
            goto fail;
        store_param b[] = {P_INT(id), P_INT(in->resident_id), P_INT(c), P_ID(g), P_INT(now)};
        if ((rc = store_exec(tx,
                             "UPDATE devices SET resident_id = $2, community_id = $3, grid_id = $4, registered = 1, "
                             "updated_at = $5 WHERE id = $1",
                             b, 5, NULL, e)))
            goto fail;
        community = c;
        action = "bind";
    } else if (in->resident_id < 0) {
        store_param b[] = {P_INT(id), P_INT(now)};
        if ((rc = store_exec(tx, "UPDATE devices SET resident_id = NULL, updated_at = $2 WHERE id = $1", b, 2, NULL, e)))
            goto fail;
        action = "unbind";
    }
    json_t *d = json_pack("{s:s}", "change", action);
    rc = audit_write(tx, who, "update", "device", id, community, d, e);
    json_decref(d);
    if (rc)
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

int devices_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看设备");
    sqlq q;
    sqlq_init(&q, "SELECT " DEVICE_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND d.id = $%d", P_INT(id));
    device_scope(who, &q);
    store_tx *tx = NULL;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r = NULL;
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0 && (rc = store_first(r, "设备不存在", e)) == 0)
        *out = device_row(r);
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}

int devices_find(store *s, const char *imei, int64_t *id, nx_err *e)
{
    store_tx *tx = NULL;
    int rc = store_begin(s, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_TEXT(imei)};
    rc = store_one_int(tx, "SELECT id FROM devices WHERE imei = $1", p, 1, id, e);
    store_rollback(tx);
    if (rc == NX_ENOTFOUND)
        nx_fail(e, NX_ENOTFOUND, "imei", "设备不存在");
    return rc;
}

int dev_page_max(const nx_app *app)
{
    return app->cfg && app->cfg->page_max > 0 ? (int)app->cfg->page_max : 200;
}

/* The filters of f on devices d (joined with residents res), scope first. */
static void device_where(const nx_principal *who, const device_filter *f, sqlq *q)
{
    device_scope(who, q);
    if (f->registered >= 0)
        sqlq_sql(q, " AND d.registered = %d", f->registered ? 1 : 0);
    if (f->online >= 0)
        sqlq_sql(q, " AND d.online = %d", f->online ? 1 : 0);
    if (f->low_battery)
        sqlq_sql(q, " AND d.battery IS NOT NULL AND d.battery <= 20");
    if (f->resident_id > 0)
        sqlq_add(q, " AND d.resident_id = $%d", P_INT(f->resident_id));
    if (f->community_id > 0)
        sqlq_add(q, " AND d.community_id = $%d", P_INT(f->community_id));
    if (f->q && f->q[0]) {
        /* the IMEI, SIM, pinyin and initials from their start; the name anywhere */
        int pre = sqlq_like(q, " AND (d.imei LIKE $%d ESCAPE '!'", f->q, false);
        sqlq_like(q, " OR res.name LIKE $%d ESCAPE '!'", f->q, true);
        sqlq_sql(q, " OR res.name_pinyin LIKE $%d ESCAPE '!' OR res.name_initials LIKE $%d ESCAPE '!' OR d.sim LIKE $%d "
                    "ESCAPE '!')",
                 pre, pre, pre);
    }
}

int devices_list(nx_app *app, const nx_principal *who, const device_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看设备");
    if (f->q && strlen(f->q) > 40)
        return nx_fail(e, NX_EINVAL, "q", "搜索词最多 40 个字符");
    sqlq q, count;
    sqlq_init(&q, "SELECT " DEVICE_COLS " WHERE 1 = 1");
    device_where(who, f, &q);
    sqlq_add(&q, " AND d.id > $%d", P_INT(f->after_id));
    sqlq_sql(&q, " ORDER BY d.id");
    sqlq_init(&count, "SELECT COUNT(*) FROM devices d LEFT JOIN residents res ON res.id = d.resident_id WHERE 1 = 1");
    device_where(who, f, &count);
    store_page_spec s = {.limit = f->limit, .max = dev_page_max(app), .count = &count, .row = device_row};
    return store_page_read(app->db, &q, &s, out, e);
}

int devices_telemetry(nx_app *app, const nx_principal *who, int64_t id, const char *what, int64_t from_ms, int limit,
                      json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看设备");
    bool pos = strcmp(what, "positions") == 0, steps = strcmp(what, "steps") == 0;
    store_tx *tx = NULL;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    if ((rc = dev_device_in_scope(tx, who, id, NULL, NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    sqlq q;
    sqlq_init(&q, steps ? "SELECT day, steps FROM device_steps WHERE 1 = 1"
                  : pos ? "SELECT at, fix_at, fix, lat_e6, lon_e6, speed_e1, satellites, cells, wifi, delayed "
                          "FROM device_positions WHERE 1 = 1"
                        : "SELECT at, hr, sys, dia, spo2, temp_e1, sugar_e2 FROM device_readings WHERE 1 = 1");
    sqlq_add(&q, " AND device_id = $%d", P_INT(id));
    sqlq_add(&q, steps ? " AND updated_at >= $%d" : " AND at >= $%d", P_INT(from_ms));
    sqlq_sql(&q, steps ? " ORDER BY day DESC" : " ORDER BY at DESC, id DESC");
    sqlq_sql(&q, " LIMIT %d", store_page_limit(limit, dev_page_max(app)));
    store_rows *r = NULL;
    json_t *items = json_array();
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0) {
        while (store_row(r)) {
            json_t *o = json_object();
            if (steps) {
                json_object_set_new(o, "day", store_json_text(r, 0));
                json_object_set_new(o, "steps", store_json_int(r, 1));
                json_array_append_new(items, o);
                continue;
            }
            json_object_set_new(o, "at", store_json_time(r, 0));
            if (pos) {
                json_object_set_new(o, "fix_at", store_json_time(r, 1));
                json_object_set_new(o, "fix", json_boolean(store_int(r, 2) != 0));
                set_coord(o, "lat", r, 3);
                set_coord(o, "lon", r, 4);
                json_object_set_new(o, "speed_kmh", store_isnull(r, 5) ? json_null() : json_real(store_int(r, 5) / 10.0));
                json_object_set_new(o, "satellites", store_json_int(r, 6));
                json_object_set_new(o, "cells", store_json_int(r, 7));
                json_object_set_new(o, "wifi", store_json_int(r, 8));
                json_object_set_new(o, "delayed", json_boolean(store_int(r, 9) != 0));
            } else {
                json_object_set_new(o, "hr", store_json_int(r, 1));
                json_object_set_new(o, "sys", store_json_int(r, 2));
                json_object_set_new(o, "dia", store_json_int(r, 3));
                json_object_set_new(o, "spo2", store_json_int(r, 4));
                json_object_set_new(o, "temp", store_isnull(r, 5) ? json_null() : json_real(store_int(r, 5) / 10.0));
                json_object_set_new(o, "sugar", store_isnull(r, 6) ? json_null() : json_real(store_int(r, 6) / 100.0));
            }
            json_array_append_new(items, o);
        }
        rc = store_rows_end(r, e);
    }
    store_rollback(tx);
    if (rc) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{s:o}", "items", items);
    return 0;
}

/* ---- rules ---- */

static const char *const rule_keys[] = {"hr_min",   "hr_max",      "sys_min",       "sys_max",       "dia_max",
                                        "spo2_min", "temp_min",    "temp_max",      "offline_min",   "no_steps_hour",
                                        "home_lat", "home_lon",    "home_radius_m", NULL};

static json_t *rules_json(const dev_rules *r, bool custom)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:i, s:i, s:o, s:o, s:i, s:b}", "hr_min", r->hr_min, "hr_max",
                     r->hr_max, "sys_min", r->sys_min, "sys_max", r->sys_max, "dia_max", r->dia_max, "spo2_min",
                     r->spo2_min, "temp_min", r->temp_min_e1 / 10.0, "temp_max", r->temp_max_e1 / 10.0, "offline_min",
                     r->offline_min, "no_steps_hour", r->no_steps_hour, "home_lat",
                     r->home_radius_m ? json_real(r->home_lat_e6 / 1e6) : json_null(), "home_lon",
                     r->home_radius_m ? json_real(r->home_lon_e6 / 1e6) : json_null(), "home_radius_m", r->home_radius_m,
                     "custom", custom);
}

int devices_rules_get(nx_app *app, const nx_principal *who, int64_t resident_id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看报警规则");
    store_tx *tx = NULL;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t c, g;
    dev_rules r;
    bool custom = false;
    if ((rc = resident_place(tx, who, resident_id, &c, &g, e)) == NX_EINVAL)
        rc = nx_fail(e, NX_ENOTFOUND, "", "居民不存在");
    if (rc == 0 && (rc = dev_rules_load(tx, resident_id, &r, &custom, e)) == 0) {
        dev_rules d;
        devices_rules_default(&d);
        *out = rules_json(&r, custom);
        json_t *defaults = rules_json(&d, false);
        json_object_del(defaults, "custom");
        json_object_set_new(*out, "defaults", defaults);
    }
    store_rollback(tx);
    return rc;
}

static int real_e(json_t *in, const char *key, double min, double max, double scale, bool *set, int64_t *out, nx_err *e)
{
    json_t *v = json_object_get(in, key);
    *set = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return nx_fail(e, NX_EINVAL, key, "%s 应为数字", key);
    double d = json_number_value(v);
    if (d < min || d > max)
        return nx_fail(e, NX_EINVAL, key, "%s 超出范围", key);
    *set = true;
    *out = (int64_t)(d * scale + (d >= 0 ? 0.5 : -0.5));
    return 0;
}

int devices_rules_put(nx_app *app, const nx_principal *who, int64_t resident_id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改报警规则");
    int rc;
    if ((rc = json_only(in, rule_keys, e)))
        return rc;
    static const struct {
        const char *key;
        int64_t min, max;
    } ints[] = {{"hr_min", 20, 250},  {"hr_max", 20, 250},       {"sys_min", 40, 300},    {"sys_max", 40, 300},
                {"dia_max", 30, 200}, {"spo2_min", 50, 100},     {"offline_min", 0, 10080}, {"no_steps_hour", -1, 23},
                {"home_radius_m", 0, 100000}};
    store_param p[16];
    for (int i = 0; i < 16; i++)
        p[i] = P_NULL;
    p[0] = P_INT(resident_id);
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int64_t v;
        if (json_is_null_field(in, ints[i].key))
            continue;
        if ((rc = json_get_int(in, ints[i].key, false, ints[i].min, ints[i].max, &v, e)) < 0)
            return rc;
        if (rc == 0)
            p[2 + i] = P_INT(v);
    }
    /* p: 1 community, 2 hr_min … 10 home_radius_m, 11 temp_min, 12 temp_max, 13 lat, 14 lon, 15 now */
    static const struct {
        const char *key;
        double min, max, scale;
        int slot;
    } reals[] = {{"temp_min", 30, 42, 10, 11}, {"temp_max", 30, 42, 10, 12}, {"home_lat", -90, 90, 1e6, 13},
                 {"home_lon", -180, 180, 1e6, 14}};
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        bool set;
        int64_t v;
        if ((rc = real_e(in, reals[i].key, reals[i].min, reals[i].max, reals[i].scale, &set, &v, e)))
            return rc;
        if (set)
            p[reals[i].slot] = P_INT(v);
    }
    if (p[10].type == SP_INT && p[10].i > 0 && (p[13].type != SP_INT || p[14].type != SP_INT))
        return nx_fail(e, NX_EINVAL, "home_lat", "设置居住范围须同时给出中心点坐标");
    /* Each band's lower end below its upper end, with the defaults where a side is not given. */
    {
        dev_rules d;
        devices_rules_default(&d);
        static const struct {
            int lo, hi;
            const char *field, *what;
        } bands[] = {{2, 3, "hr_max", "心率"}, {4, 5, "sys_max", "收缩压"}, {11, 12, "temp_max", "体温"}};
        int64_t def[16] = {0};
        def[2] = d.hr_min, def[3] = d.hr_max, def[4] = d.sys_min, def[5] = d.sys_max;
        def[11] = d.temp_min_e1, def[12] = d.temp_max_e1;
        for (size_t i = 0; i < sizeof bands / sizeof bands[0]; i++) {
            int64_t lo = p[bands[i].lo].type == SP_INT ? p[bands[i].lo].i : def[bands[i].lo];
            int64_t hi = p[bands[i].hi].type == SP_INT ? p[bands[i].hi].i : def[bands[i].hi];
            if (lo >= hi)
                return nx_fail(e, NX_EINVAL, bands[i].field, "%s的上限应高于下限", bands[i].what);
        }
    }
    bool any = false;
    for (int i = 2; i <= 14; i++)
        any = any || p[i].type != SP_NULL;
    store_tx *tx = NULL;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t c, g;
    if ((rc = resident_place(tx, who, resident_id, &c, &g, e)) == NX_EINVAL)
        rc = nx_fail(e, NX_ENOTFOUND, "", "居民不存在");
    if (rc)
        goto fail;
    p[1] = P_INT(c);
    p[15] = P_INT(clock_now_ms());
    if (!any) {
        /* nothing of its own: back to the defaults (no row, "custom": false) */
        if ((rc = store_exec(tx, "DELETE FROM alert_rules WHERE resident_id = $1", p, 1, NULL, e)) ||
            (rc = audit_write(tx, who, "reset", "alert_rules", resident_id, c, NULL, e)))
            goto fail;
        return store_commit(tx, e);
    }
    if ((rc = store_exec(tx,
                         "INSERT INTO alert_rules (resident_id, community_id, hr_min, hr_max, sys_min, sys_max, dia_max, "
                         "spo2_min, offline_min, no_steps_hour, home_radius_m, temp_min_e1, temp_max_e1, home_lat_e6, "
                         "home_lon_e6, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
                         "ON CONFLICT (resident_id) DO UPDATE SET community_id = excluded.community_id, hr_min = excluded.hr_min, "
                         "hr_max = excluded.hr_max, sys_min = excluded.sys_min, sys_max = excluded.sys_max, "
                         "dia_max = excluded.dia_max, spo2_min = excluded.spo2_min, offline_min = excluded.offline_min, "
                         "no_steps_hour = excluded.no_steps_hour, home_radius_m = excluded.home_radius_m, "
                         "temp_min_e1 = excluded.temp_min_e1, temp_max_e1 = excluded.temp_max_e1, "
                         "home_lat_e6 = excluded.home_lat_e6, home_lon_e6 = excluded.home_lon_e6, "
                         "updated_at = excluded.updated_at",
                         (store_param[]){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12],
                                         p[13], p[14], p[15]},
                         16, NULL, e)))
        goto fail;
    if ((rc = audit_write(tx, who, "update", "alert_rules", resident_id, c, NULL, e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

/* ---- alerts ---- */

#define ALERT_COLS                                                                                                 \
    "a.id, a.kind, a.source, a.severity, a.state, a.community_id, a.grid_id, a.resident_id, res.name, a.device_id, " \
    "d.imei, a.opened_at, a.last_at, a.repeats, a.fix, a.lat_e6, a.lon_e6, a.detail, a.acked_by, a.acked_at, "       \
    "a.resolved_by, a.resolved_at, a.note, a.needs_followup, a.escalation_level, a.next_escalation_at, a.ack_ms, "   \
    "a.resolve_ms, ua.display_name, ur.display_name "                                                               \
    "FROM alerts a LEFT JOIN residents res ON res.id = a.resident_id LEFT JOIN devices d ON d.id = a.device_id "     \
    "LEFT JOIN users ua ON ua.id = a.acked_by LEFT JOIN users ur ON ur.id = a.resolved_by"

static const char *state_label(const char *s)
{
    if (strcmp(s, "open") == 0)
        return "待处理";
    if (strcmp(s, "acknowledged") == 0)
        return "处理中";
    if (strcmp(s, "resolved") == 0)
        return "已解决";
    if (strcmp(s, "false_alarm") == 0)
        return "误报";
    return s;
}

static json_t *alert_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", store_json_int(r, 0));
    json_object_set_new(o, "kind", store_json_text(r, 1));
    json_object_set_new(o, "kind_label", json_string(dev_kind_label(store_text(r, 1))));
    json_object_set_new(o, "source", store_json_text(r, 2));
    json_object_set_new(o, "severity", store_json_text(r, 3));
    json_object_set_new(o, "state", store_json_text(r, 4));
    json_object_set_new(o, "state_label", json_string(state_label(store_text(r, 4))));
    json_object_set_new(o, "community_id", store_json_int(r, 5));
    json_object_set_new(o, "grid_id", store_json_int(r, 6));
    json_object_set_new(o, "resident_id", store_json_int(r, 7));
    json_object_set_new(o, "resident_name", store_json_text(r, 8));
    json_object_set_new(o, "device_id", store_json_int(r, 9));
    json_object_set_new(o, "imei", store_json_text(r, 10));
    json_object_set_new(o, "opened_at", store_json_time(r, 11));
    json_object_set_new(o, "last_at", store_json_time(r, 12));
    json_object_set_new(o, "repeats", store_json_int(r, 13));
    json_object_set_new(o, "fix", json_boolean(store_int(r, 14) != 0));
    json_t *pos = json_null();
    if (!store_isnull(r, 15) && !store_isnull(r, 16))
        pos = json_pack("{s:f, s:f}", "lat", store_int(r, 15) / 1e6, "lon", store_int(r, 16) / 1e6);
    json_object_set_new(o, "position", pos);
    json_t *detail = json_loads(store_text(r, 17) ? store_text(r, 17) : "{}", 0, NULL);
    json_object_set_new(o, "detail", detail ? detail : json_object());
    json_object_set_new(o, "acked_by", store_json_int(r, 18));
    json_object_set_new(o, "acked_by_name", store_json_text(r, 28));
    json_object_set_new(o, "acked_at", store_json_time(r, 19));
    json_object_set_new(o, "resolved_by", store_json_int(r, 20));
    json_object_set_new(o, "resolved_by_name", store_json_text(r, 29));
    json_object_set_new(o, "resolved_at", store_json_time(r, 21));
    json_object_set_new(o, "note", store_json_text(r, 22));
    json_object_set_new(o, "needs_followup", json_boolean(store_int(r, 23) != 0));
    json_object_set_new(o, "escalation_level", store_json_int(r, 24));
    json_object_set_new(o, "next_escalation_at", store_json_time(r, 25));
    json_object_set_new(o, "ack_ms", store_json_int(r, 26));
    json_object_set_new(o, "resolve_ms", store_json_int(r, 27));
    return o;
}

/* The caller's scope and the filters of f (not its cursor) on alerts a. */
static void alert_where(const nx_principal *who, const alert_filter *f, sqlq *q)
{
    perm_scope_q(who, "a.", "resident_id", q);
    if (f->state && strcmp(f->state, "active") == 0)
        sqlq_sql(q, " AND a.state IN ('open', 'acknowledged')");
    else if (f->state)
        sqlq_add(q, " AND a.state = $%d", P_TEXT(f->state));
    if (f->kind)
        sqlq_add(q, " AND a.kind = $%d", P_TEXT(f->kind));
    if (f->resident_id)
        sqlq_add(q, " AND a.resident_id = $%d", P_INT(f->resident_id));
    if (f->device_id)
        sqlq_add(q, " AND a.device_id = $%d", P_INT(f->device_id));
    if (f->community_id)
        sqlq_add(q, " AND a.community_id = $%d", P_INT(f->community_id));
    if (f->from_ms)
        sqlq_add(q, " AND a.opened_at >= $%d", P_INT(f->from_ms));
    if (f->to_ms)
        sqlq_add(q, " AND a.opened_at < $%d", P_INT(f->to_ms));
}

int devices_alert_list(nx_app *app, const nx_principal *who, const alert_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看报警");
    sqlq q, count;
    sqlq_init(&q, "SELECT " ALERT_COLS " WHERE 1 = 1");
    alert_where(who, f, &q);
    if (f->before_id)
        sqlq_add(&q, " AND a.id < $%d", P_INT(f->before_id));
    sqlq_sql(&q, " ORDER BY a.id DESC");
    /* the same conditions without the cursor: all that match */
    sqlq_init(&count, "SELECT COUNT(*) FROM alerts a WHERE 1 = 1");
    alert_where(who, f, &count);
    store_page_spec s = {.limit = f->limit > 0 ? f->limit : 50, .max = dev_page_max(app), .count = &count, .row = alert_row};
    return store_page_read(app->db, &q, &s, out, e);
}

static void local_time(store_rows *r, int col, char out[32])
{
    out[0] = '\0';
    if (!store_isnull(r, col)) {
        char t[30];
        clock_format_local(store_int(r, col), t);
        /* "YYYY-MM-DDTHH:MM:SS.mmm+08:00" → "YYYY-MM-DD HH:MM:SS" */
        snprintf(out, 32, "%.10s %.8s", t, t + 11);
    }
}

int devices_alert_export(nx_app *app, const nx_principal *who, const alert_filter *f, const char *path,
                         int64_t *rows, nx_err *e)
{
    *rows = 0;
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权导出报警");
    /* Every alert of the filters or none: one row past the cap refuses the export, never a file
     * that silently stops at the cap. */
    int64_t max = app->cfg ? app->cfg->export_max_rows : 200000;
    sqlq q;
    sqlq_init(&q, "SELECT " ALERT_COLS " WHERE 1 = 1");
    alert_where(who, f, &q);
    sqlq_sql(&q, " ORDER BY a.id DESC LIMIT %lld", (long long)max + 1);
    int rc;
    xlsx_out *x = NULL;
    if ((rc = xlsx_out_open(path, "报警记录", &x, e)))
        return rc;
    static const char *const titles[] = {"编号",     "发生时间", "报警类型", "级别",     "状态",     "居民",
                                         "手环",     "定位",     "重复次数", "接警人",   "接警时间", "接警用时（秒）",
                                         "处置人",   "处置时间", "处置用时（分钟）", "处置说明", "需上门回访"};
    static const double widths[] = {8, 20, 14, 8, 10, 10, 14, 8, 10, 12, 20, 14, 12, 20, 16, 36, 12};
    enum { NCOL = sizeof titles / sizeof titles[0] };
    if ((rc = xlsx_out_header(x, titles, widths, NCOL))) {
        xlsx_out_discard(x);
        return nx_fail(e, rc, "", "无法写入导出文件");
    }
    store_tx *tx = NULL;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e))) {
        xlsx_out_discard(x);
        return rc;
    }
    store_rows *r = NULL;
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0) {
        while (rc == 0 && store_row(r)) {
            if (*rows == max) {
                rc = nx_fail(e, NX_ETOOBIG, "", "报警记录超过 %lld 条，请缩小时间范围或筛选条件后再导出", (long long)max);
                break;
            }
            char id[24], opened[32], acked[32], resolved[32], repeats[24], ack_s[24] = "", res_min[24] = "";
            snprintf(id, sizeof id, "%lld", (long long)store_int(r, 0));
            local_time(r, 11, opened);
            local_time(r, 19, acked);
            local_time(r, 21, resolved);
            snprintf(repeats, sizeof repeats, "%lld", (long long)store_int(r, 13));
            if (!store_isnull(r, 26))
                snprintf(ack_s, sizeof ack_s, "%lld", (long long)(store_int(r, 26) / 1000));
            if (!store_isnull(r, 27))
                snprintf(res_min, sizeof res_min, "%.1f", store_int(r, 27) / 60000.0);
            const char *sev = store_text(r, 3) ? store_text(r, 3) : "";
            const char *cells[NCOL] = {id,
                                       opened,
                                       dev_kind_label(store_text(r, 1)),
                                       strcmp(sev, "critical") == 0 ? "紧急" : strcmp(sev, "high") == 0 ? "重要" : "一般",
                                       state_label(store_text(r, 4)),
                                       store_text(r, 8) ? store_text(r, 8) : "（未绑定）",
                                       store_text(r, 10),
                                       store_int(r, 14) ? "有" : "无",
                                       repeats,
                                       store_text(r, 28),
                                       acked,
                                       ack_s,
                                       store_text(r, 29),
                                       resolved,
                                       res_min,
                                       store_text(r, 22),
                                       store_int(r, 23) ? "是" : "否"};
            if (xlsx_out_row_typed(x, cells, "nsssssssnssnssnss", NCOL))
                rc = nx_fail(e, NX_EIO, "", "无法写入导出文件");
            else
                (*rows)++;
        }
        int rrc = store_rows_end(r, e);
        rc = rc ? rc : rrc;
    }
    store_rollback(tx);
    if (rc) {
        xlsx_out_discard(x);
        return rc;
    }
    if ((rc = xlsx_out_close(x, e)))
        return rc;
    /* residents' names left the system: who exported what */
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    json_t *d = json_pack("{s:I, s:s?, s:s?}", "count", (json_int_t)*rows, "state", f->state, "kind", f->kind);
    rc = audit_write(tx, who, "export", "alert", 0, who->community_id, d, e);
    json_decref(d);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* Read one alert in scope into *out (may be NULL) and its state. */
static int alert_load(store_tx *tx, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT " ALERT_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND a.id = $%d", P_INT(id));
    perm_scope_q(who, "a.", "resident_id", &q);
    store_rows *r = NULL;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "报警不存在", e)) == 0)
        *out = alert_row(r);
    store_rows_free(r);
    return rc;
}

int devices_alert_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看报警");
    store_tx *tx = NULL;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    json_t *o = NULL;
    if ((rc = alert_load(tx, who, id, &o, e)))
        goto done;
    store_param p[] = {P_INT(id)};
    store_rows *r = NULL;
    json_t *log = json_array();
    json_object_set_new(o, "log", log);
    if ((rc = store_query(tx,
                          "SELECT l.at, l.action, l.user_id, u.display_name, l.level, l.note FROM alert_log l "
                          "LEFT JOIN users u ON u.id = l.user_id WHERE l.alert_id = $1 ORDER BY l.id",
                          p, 1, &r, e)) == 0) {
        while (store_row(r)) {
            json_t *x = json_object();
            json_object_set_new(x, "at", store_json_time(r, 0));
            json_object_set_new(x, "action", store_json_text(r, 1));
            json_object_set_new(x, "user_id", store_json_int(r, 2));
            json_object_set_new(x, "user_name", store_json_text(r, 3));
            json_object_set_new(x, "level", store_json_int(r, 4));
            json_object_set_new(x, "note", store_json_text(r, 5));
            json_array_append_new(log, x);
        }
        rc = store_rows_end(r, e);
    }
done:
    store_rollback(tx);
    if (rc)
        json_decref(o);
    else
        *out = o;
    return rc;
}

typedef struct alert_state {
    int64_t community, grid, resident, device, opened_at, acked_at;
    int level;
    char state[16], kind[24], severity[12];
} alert_state;

static int alert_lock(store_tx *tx, const nx_principal *who, int64_t id, alert_state *s, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT a.community_id, a.grid_id, a.resident_id, a.device_id, a.opened_at, a.acked_at, "
                  "a.escalation_level, a.state, a.kind, a.severity FROM alerts a WHERE 1 = 1");
    sqlq_add(&q, " AND a.id = $%d", P_INT(id));
    perm_scope_q(who, "a.", "resident_id", &q);
    store_rows *r = NULL;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "报警不存在", e)) == 0) {
        s->community = store_int(r, 0);
        s->grid = store_int(r, 1);
        s->resident = store_int(r, 2);
        s->device = store_int(r, 3);
        s->opened_at = store_int(r, 4);
        s->acked_at = store_int(r, 5);
        s->level = (int)store_int(r, 6);
        str_copy(s->state, store_text(r, 7), sizeof s->state);
        str_copy(s->kind, store_text(r, 8), sizeof s->kind);
        str_copy(s->severity, store_text(r, 9), sizeof s->severity);
    }
    store_rows_free(r);
    return rc;
}

static dev_alert_ref ref_of(int64_t id, const alert_state *s)
{
    return (dev_alert_ref){.id = id, .community_id = s->community, .grid_id = s->grid, .resident_id = s->resident,
                           .device_id = s->device, .kind = s->kind, .severity = s->severity, .level = s->level};
}

int devices_alert_ack(nx_app *app, const nx_principal *who, int64_t id, const char *note, int64_t now, nx_err *e)
{
    if (!perm_has(who, RIGHT_ALERT_HANDLE))
        return nx_fail(e, NX_EPERM, "", "无权处理报警");
    int rc;
    if ((rc = check_text(note, 500, "note", e)))
        return rc;
    store_tx *tx = NULL;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    alert_state s;
    if ((rc = alert_lock(tx, who, id, &s, e)))
        goto fail;
    if (strcmp(s.state, "open") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "state", "报警已被接警或已处理（%s）", state_label(s.state));
        goto fail;
    }
    int64_t changes = 0;
    store_param p[] = {P_INT(id), P_INT(who->user_id), P_INT(now), P_INT(now - s.opened_at)};
    if ((rc = store_exec(tx,
                         "UPDATE alerts SET state = 'acknowledged', acked_by = $2, acked_at = $3, ack_ms = $4, "
                         "next_escalation_at = NULL WHERE id = $1 AND state = 'open'",
                         p, 4, &changes, e)))
        goto fail;
    if (changes != 1) {
        rc = nx_fail(e, NX_ECONFLICT, "state", "报警已被他人接警");
        goto fail;
    }
    dev_alert_ref ref = ref_of(id, &s);
    if ((rc = dev_log(tx, id, now, "acknowledged", who->user_id, s.level, note, e)) ||
        (rc = audit_write(tx, who, "acknowledge", "alert", id, s.community, NULL, e)) ||
        (rc = dev_emit(tx, "devices.alert.acknowledged", &ref, "acknowledged", false, e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

int devices_alert_resolve(nx_app *app, const nx_principal *who, int64_t id, bool false_alarm, const char *note,
                          bool needs_followup, int64_t now, nx_err *e)
{
    if (!perm_has(who, RIGHT_ALERT_HANDLE))
        return nx_fail(e, NX_EPERM, "", "无权处理报警");
    if (!note || strspn(note, " \t\r\n") == strlen(note))
        return nx_fail(e, NX_EINVAL, "note", "请填写处理情况");
    int rc;
    if ((rc = check_text(note, 500, "note", e)))
        return rc;
    store_tx *tx = NULL;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    alert_state s;
    if ((rc = alert_lock(tx, who, id, &s, e)))
        goto fail;
    if (strcmp(s.state, "open") != 0 && strcmp(s.state, "acknowledged") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "state", "报警已处理（%s）", state_label(s.state));
        goto fail;
    }
    const char *state = false_alarm ? "false_alarm" : "resolved";
    bool was_open = strcmp(s.state, "open") == 0;
    int64_t changes = 0;
    store_param p[] = {P_INT(id),  P_INT(who->user_id), P_INT(now),         P_INT(now - s.opened_at),
                       P_TEXT(state), P_TEXT(note),     P_INT(needs_followup ? 1 : 0)};
    if ((rc = store_exec(tx,
                         "UPDATE alerts SET state = $5, resolved_by = $2, resolved_at = $3, resolve_ms = $4, note = $6, "
                         "needs_followup = $7, next_escalation_at = NULL, acked_by = COALESCE(acked_by, $2), "
                         "acked_at = COALESCE(acked_at, $3), ack_ms = COALESCE(ack_ms, $4) "
                         "WHERE id = $1 AND state IN ('open', 'acknowledged')",
                         p, 7, &changes, e)))
        goto fail;
    if (changes != 1) {
        rc = nx_fail(e, NX_ECONFLICT, "state", "报警已被他人处理");
        goto fail;
    }
    dev_alert_ref ref = ref_of(id, &s);
    json_t *d = json_pack("{s:s, s:b}", "state", state, "needs_followup", needs_followup);
    if ((was_open && (rc = dev_log(tx, id, now, "acknowledged", who->user_id, s.level, NULL, e))) ||
        (rc = dev_log(tx, id, now, state, who->user_id, s.level, note, e)) ||
        (rc = audit_write(tx, who, "resolve", "alert", id, s.community, d, e)) ||
        (rc = dev_emit(tx, "devices.alert.resolved", &ref, state, needs_followup, e))) {
        json_decref(d);
        goto fail;
    }
    json_decref(d);
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}
