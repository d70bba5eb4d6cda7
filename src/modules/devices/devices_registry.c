/* devices_registry.c — the registry of wristbands: add, bind and unbind, read, list and search,
 * and a device's telemetry (positions, readings, steps).
 *
 * Scope is applied in SQL (device_scope, on sqlq) on the device's community, grid and resident
 * columns, so a device outside the caller's scope reads as "not found". Exception, by design: a
 * device the gateway has seen but nobody has added or bound (community_id NULL) is visible to every
 * holder of RIGHT_DEVICE_WRITE, since it carries nothing but an IMEI and somebody must bind it.
 * Every change writes an audit row in the transaction of the change. The device list pages by id
 * (store_page, capped by page_max), with the total that match. */
#include "modules/devices/devices.h"
#include "modules/devices/devices_internal.h"

#include "base/clock.h"
#include "secure/audit.h"

#include <ctype.h>
#include <string.h>

static void set_coord(json_t *o, const char *key, store_rows *r, int col)
{
    json_object_set_new(o, key, store_isnull(r, col) ? json_null() : json_real((double)store_int(r, col) / 1e6));
}

#define DEVICE_COLS                                                                                                \
    "d.id, d.imei, d.protocol, d.model, d.sim, d.iccid, d.registered, d.community_id, d.grid_id, d.resident_id, "  \
    "res.name, d.online, d.battery, d.last_fix_at, d.last_lat_e6, d.last_lon_e6, d.last_hr, d.last_sys, "            \
    "d.last_dia, d.last_spo2, d.last_temp_e1, d.last_reading_at, d.steps_day, d.steps_today, d.worn, "              \
    "d.first_seen_at, d.last_seen_at, d.notes, d.created_at, d.updated_at, d.takeover_at, "                       \
    "d.takeover_confirmed_at "                                                                                       \
    "FROM devices d LEFT JOIN residents res ON res.id = d.resident_id"

static json_t *device_row(store_rows *r)
{
    json_t *o = store_json_row(
        r, "id:i imei:t protocol:t model:t sim:t iccid:t - community_id:i grid_id:i "
           "resident_id:i resident_name:t - battery:i - - - - - - - - - steps_day:t "
           "steps_today:i worn:b first_seen_at:d last_seen_at:d notes:t created_at:d updated_at:d "
           "takeover_at:d takeover_confirmed_at:d");
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "registered", json_boolean(store_int(r, 6) != 0));
    json_object_set_new(o, "online", json_boolean(store_int(r, 11) != 0));
    json_object_set_new(o, "status", json_string(store_int(r, 11) ? "online" : "offline"));
    json_t *fix = json_object();
    json_object_set_new(fix, "at", store_json_time(r, 13));
    set_coord(fix, "lat", r, 14);
    set_coord(fix, "lon", r, 15);
    json_object_set_new(o, "last_fix", store_isnull(r, 13) ? (json_decref(fix), json_null()) : fix);
    json_t *rd = json_object();
    store_json_cols(rd, r, 16, "hr:i sys:i dia:i spo2:i");
    json_object_set_new(rd, "temp", store_isnull(r, 20) ? json_null() : json_real((double)store_int(r, 20) / 10.0));
    json_object_set_new(rd, "at", store_json_time(r, 21));
    json_object_set_new(o, "last_readings", rd);
    json_object_set_new(o, "commands_held", json_boolean(!store_isnull(r, 30)));
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

/* Check the free-text fields of in (model, sim, notes), then begin a write transaction *tx. */
static int input_begin(nx_app *app, const devices_device_input *in, store_tx **tx, nx_err *e)
{
    int rc;
    if ((rc = devices_check_text(in->model, 40, "model", e)) ||
        (rc = devices_check_text(in->sim, 20, "sim", e)) ||
        (rc = devices_check_text(in->notes, 200, "notes", e)))
        return rc;
    return store_begin(app->db, STORE_WRITE, tx, e);
}

int devices_add(nx_app *app, const nx_principal *who, const devices_device_input *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权登记设备");
    if (!in->imei || !imei_ok(in->imei))
        return nx_fail(e, NX_EINVAL, "imei", "设备号应为 1-20 位数字");
    if (!in->protocol || (strcmp(in->protocol, "watch") != 0 && strcmp(in->protocol, "iw") != 0))
        return nx_fail(e, NX_EINVAL, "protocol", "协议应为 watch 或 iw");
    store_tx *tx = NULL;
    int rc = input_begin(app, in, &tx, e);
    if (rc)
        return rc;
    int64_t community = 0, grid = 0, now = clock_now_ms();
    if (in->resident_id > 0 && (rc = devices_resident_place(tx, who, in->resident_id, &community, &grid, e)))
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
    if ((rc = audit_write_new(tx, who, "create", "device", *id, community,
                              json_pack("{s:s, s:b}", "protocol", in->protocol, "bound", in->resident_id > 0),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* Load a device in the caller's scope: community, resident. */
int devices_device_in_scope(store_tx *tx, const nx_principal *who, int64_t id, int64_t *community, int64_t *resident,
                            nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT d.community_id, d.resident_id FROM devices d WHERE 1 = 1");
    sqlq_add(&q, " AND d.id = $%d", P_INT(id));
    device_scope(who, &q);
    store_rows *r = NULL;
    int rc = sqlq_first(tx, &q, "设备不存在", &r, e);
    if (rc)
        return rc;
    if (community)
        *community = store_int(r, 0);
    if (resident)
        *resident = store_int(r, 1);
    store_rows_free(r);
    return 0;
}

int devices_update(nx_app *app, const nx_principal *who, int64_t id, const devices_device_input *in,
                   nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改设备");
    store_tx *tx = NULL;
    int rc = input_begin(app, in, &tx, e);
    if (rc)
        return rc;
    int64_t community = 0, resident = 0, now = clock_now_ms();
    if ((rc = devices_device_in_scope(tx, who, id, &community, &resident, e)))
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
        if ((rc = devices_resident_place(tx, who, in->resident_id, &c, &g, e)))
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
    if ((rc = audit_write_new(tx, who, "update", "device", id, community,
                              json_pack("{s:s}", "change", action), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int devices_confirm_identity(nx_app *app, const nx_principal *who, int64_t id, int64_t now, nx_err *e)
{
    store_tx *tx = NULL;
    int rc = perm_begin(app->db, who, RIGHT_DEVICE_WRITE, STORE_WRITE, "无权确认设备身份", &tx, e);
    if (rc)
        return rc;
    int64_t community = 0, changed = 0;
    if ((rc = devices_device_in_scope(tx, who, id, &community, NULL, e)))
        goto fail;
    store_param p[] = {P_INT(id), P_INT(now), P_INT(who->user_id)};
    if ((rc = store_exec(tx,
                         "UPDATE devices SET takeover_at = NULL, takeover_confirmed_at = $2, takeover_confirmed_by = $3, "
                         "updated_at = $2 WHERE id = $1 AND takeover_at IS NOT NULL",
                         p, 3, &changed, e)))
        goto fail;
    if (changed == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "", "该设备没有待确认的身份异常");
        goto fail;
    }
    if ((rc = audit_write_new(tx, who, "update", "device", id, community, json_pack("{s:s}", "change", "confirm_identity"),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int devices_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看设备");
    sqlq q;
    sqlq_init(&q, "SELECT " DEVICE_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND d.id = $%d", P_INT(id));
    device_scope(who, &q);
    store_page_spec s = {.row = device_row};
    return store_get_read(app->db, &q, &s, "设备不存在", out, e);
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

/* The filters of f on devices d (joined with residents res), scope first. */
static void device_where(const nx_principal *who, const devices_device_filter *f, sqlq *q)
{
    device_scope(who, q);
    if (f->registered >= 0)
        sqlq_sql(q, " AND d.registered = %d", f->registered ? 1 : 0);
    if (f->online >= 0)
        sqlq_sql(q, " AND d.online = %d", f->online ? 1 : 0);
    if (f->low_battery)
        sqlq_sql(q, " AND d.battery IS NOT NULL AND d.battery <= 20");
    sqlq_eq_int(q, "d.resident_id", f->resident_id);
    sqlq_eq_int(q, "d.community_id", f->community_id);
    if (f->q && f->q[0]) {
        /* the IMEI, SIM, pinyin and initials from their start; the name anywhere */
        int pre = sqlq_like(q, " AND (d.imei LIKE $%d ESCAPE '!'", f->q, false);
        sqlq_like(q, " OR res.name LIKE $%d ESCAPE '!'", f->q, true);
        sqlq_sql(q, " OR res.name_pinyin LIKE $%d ESCAPE '!' OR res.name_initials LIKE $%d ESCAPE '!' OR d.sim LIKE $%d "
                    "ESCAPE '!')",
                 pre, pre, pre);
    }
}

int devices_list(nx_app *app, const nx_principal *who, const devices_device_filter *f, json_t **out,
                 nx_err *e)
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
    store_page_spec s = {.limit = f->limit, .max = devices_page_max(app), .count = &count, .row = device_row};
    return store_page_read(app->db, &q, &s, out, e);
}

static json_t *steps_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "day", store_json_text(r, 0));
    json_object_set_new(o, "steps", store_json_int(r, 1));
    return o;
}

static json_t *position_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "at", store_json_time(r, 0));
    json_object_set_new(o, "fix_at", store_json_time(r, 1));
    json_object_set_new(o, "fix", json_boolean(store_int(r, 2) != 0));
    set_coord(o, "lat", r, 3);
    set_coord(o, "lon", r, 4);
    json_object_set_new(o, "speed_kmh", store_isnull(r, 5) ? json_null() : json_real(store_int(r, 5) / 10.0));
    json_object_set_new(o, "satellites", store_json_int(r, 6));
    json_object_set_new(o, "cells", store_json_int(r, 7));
    json_object_set_new(o, "wifi", store_json_int(r, 8));
    json_object_set_new(o, "delayed", json_boolean(store_int(r, 9) != 0));
    return o;
}

static json_t *reading_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "at", store_json_time(r, 0));
    json_object_set_new(o, "hr", store_json_int(r, 1));
    json_object_set_new(o, "sys", store_json_int(r, 2));
    json_object_set_new(o, "dia", store_json_int(r, 3));
    json_object_set_new(o, "spo2", store_json_int(r, 4));
    json_object_set_new(o, "temp", store_isnull(r, 5) ? json_null() : json_real(store_int(r, 5) / 10.0));
    json_object_set_new(o, "sugar", store_isnull(r, 6) ? json_null() : json_real(store_int(r, 6) / 100.0));
    return o;
}

int devices_telemetry(nx_app *app, const nx_principal *who, int64_t id, const char *what, int64_t from_ms, int limit,
                      json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看设备");
    bool pos = strcmp(what, "positions") == 0, steps = strcmp(what, "steps") == 0;
    sqlq q;
    sqlq_init(&q, steps ? "SELECT day, steps FROM device_steps WHERE 1 = 1"
                  : pos ? "SELECT at, fix_at, fix, lat_e6, lon_e6, speed_e1, satellites, cells, wifi, delayed "
                          "FROM device_positions WHERE 1 = 1"
                        : "SELECT at, hr, sys, dia, spo2, temp_e1, sugar_e2 FROM device_readings WHERE 1 = 1");
    sqlq_add(&q, " AND device_id = $%d", P_INT(id));
    sqlq_add(&q, steps ? " AND updated_at >= $%d" : " AND at >= $%d", P_INT(from_ms));
    sqlq_sql(&q, steps ? " ORDER BY day DESC" : " ORDER BY at DESC, id DESC");
    sqlq_sql(&q, " LIMIT %d", store_page_limit(limit, devices_page_max(app)));
    store_page_spec s = {.row = steps ? steps_row : pos ? position_row : reading_row};
    return devices_items_of(app, who, id, devices_device_seen, &q, &s, out, e);
}
