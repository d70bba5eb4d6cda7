/* devices_family.c — what a family member sees of their elder (issue 19, item 5): where the elder was
 * last (named by the nearest building of the community's plan), the latest health readings with
 * the bands they are held to and which they break, and the latest visit by the community.
 *
 * The view is read through the caller's scope like every resident read (perm_scope_q): a family or
 * resident account reaches only the one resident it is bound to, staff the residents of their
 * scope; anyone else gets "not found". A position and health readings are personal data, so every
 * answer is written to the audit log as a reveal of the resident ({"revealed": ["position",
 * "readings"], "via": "family_view"}) in the same transaction that read them — no answer without
 * its audit row. Buildings are placed by their lat_e6 / lon_e6 (migration 028); a position more than
 * FAMILY_NEAR_M from every building is "not at home" and still names the nearest one with the
 * distance. Alarm history is the alert list (GET /alerts, already limited to the elder). */
#include "modules/devices/devices_internal.h"

#include "secure/audit.h"
#include "store/page.h"
#include "store/query.h"

#include <math.h>
#include <string.h>

#define FAMILY_NEAR_M 120.0 /* within this of a building's centre: "at" that building */
#define FAMILY_READINGS 6

/* The elder's home: building and estate from the room (all null when the resident has no room). */
static int home_of(store_tx *tx, int64_t resident, json_t *out, int64_t *estate, nx_err *e)
{
    store_param p[] = {P_INT(resident)};
    store_rows *r;
    int rc = store_query_first(tx,
                               "SELECT x.name, b.id, b.name, e.id, e.name FROM residents x "
                               "LEFT JOIN rooms ro ON ro.id = x.room_id LEFT JOIN buildings b ON b.id = ro.building_id "
                               "LEFT JOIN estates e ON e.id = COALESCE(b.estate_id, x.estate_id) WHERE x.id = $1",
                               p, 1, "居民不存在", &r, e);
    if (rc)
        return rc;
    json_object_set_new(out, "resident", json_pack("{s:I, s:o}", "id", (json_int_t)resident, "name", store_json_text(r, 0)));
    json_object_set_new(out, "home", store_json_row(r, "- building_id:i building_name:t estate_id:i estate_name:t"));
    *estate = store_isnull(r, 3) ? 0 : store_int(r, 3);
    store_rows_free(r);
    return 0;
}

/* The building of community nearest to (lat, lon) among those with a position: *id 0 when none. */
static int nearest_building(store_tx *tx, int64_t community, int32_t lat, int32_t lon, int64_t *id, int64_t *estate,
                            double *dist, json_t **names, nx_err *e)
{
    store_param p[] = {P_INT(community)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT b.id, b.estate_id, b.lat_e6, b.lon_e6, b.name, e.name FROM buildings b "
                         "JOIN estates e ON e.id = b.estate_id WHERE b.community_id = $1 AND b.lat_e6 IS NOT NULL "
                         "AND b.lon_e6 IS NOT NULL ORDER BY b.id",
                         p, 1, &r, e);
    if (rc)
        return rc;
    *id = 0;
    *dist = INFINITY;
    while (store_row(r)) {
        double d = devices_distance_m(lat, lon, (int32_t)store_int(r, 2), (int32_t)store_int(r, 3));
        if (d < *dist) {
            *dist = d;
            *id = store_int(r, 0);
            *estate = store_int(r, 1);
            json_decref(*names);
            *names = store_json_row(r, "- - - - building_name:t estate_name:t");
        }
    }
    return store_rows_end(r, e);
}

/* The elder's wristband heard from last, its last fix named by the nearest building. */
static int device_and_position(store_tx *tx, int64_t resident, int64_t community, json_t *out, int64_t *device,
                               int64_t *plan_estate, nx_err *e)
{
    store_param p[] = {P_INT(resident)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT id, online, battery, last_seen_at, last_fix_at, last_lat_e6, last_lon_e6 FROM devices "
                         "WHERE resident_id = $1 ORDER BY COALESCE(last_seen_at, 0) DESC, id DESC LIMIT 1",
                         p, 1, &r, e);
    if (rc)
        return rc;
    *device = 0;
    json_t *dev = json_null(), *pos = json_null();
    int32_t lat = 0, lon = 0;
    bool fix = false;
    if (store_row(r)) {
        *device = store_int(r, 0);
        dev = store_json_row(r, "id:i online:b battery:i last_seen_at:d");
        if (!store_isnull(r, 5) && !store_isnull(r, 6)) {
            fix = true;
            lat = (int32_t)store_int(r, 5);
            lon = (int32_t)store_int(r, 6);
            pos = json_pack("{s:o, s:f, s:f}", "at", store_json_time(r, 4), "lat", lat / 1e6, "lon", lon / 1e6);
        }
    }
    if ((rc = store_rows_end(r, e))) {
        json_decref(dev);
        json_decref(pos);
        return rc;
    }
    json_object_set_new(out, "device", dev);
    json_object_set_new(out, "position", pos);
    if (!fix)
        return 0;
    int64_t b = 0, estate = 0;
    double dist = 0;
    json_t *names = NULL;
    if ((rc = nearest_building(tx, community, lat, lon, &b, &estate, &dist, &names, e)) == 0 && b) {
        json_object_update(pos, names);
        json_object_set_new(pos, "building_id", json_integer(b));
        json_object_set_new(pos, "distance_m", json_integer((json_int_t)lround(dist)));
        json_object_set_new(pos, "near", json_boolean(dist <= FAMILY_NEAR_M));
        *plan_estate = estate;
    }
    json_decref(names);
    return rc;
}

/* The estate's buildings with their positions, for the plan the elder's position is drawn on. */
static int plan_of(store_tx *tx, int64_t estate, json_t *out, nx_err *e)
{
    if (estate == 0) {
        json_object_set_new(out, "plan", json_null());
        return 0;
    }
    store_param p[] = {P_INT(estate)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT e.name, b.id, b.name, b.floors, b.lat_e6, b.lon_e6 FROM buildings b "
                         "JOIN estates e ON e.id = b.estate_id WHERE b.estate_id = $1 ORDER BY b.id LIMIT 200",
                         p, 1, &r, e);
    if (rc)
        return rc;
    json_t *items = json_array(), *plan = json_pack("{s:I, s:o}", "estate_id", (json_int_t)estate, "buildings", items);
    while (store_row(r)) {
        if (json_object_get(plan, "estate_name") == NULL)
            json_object_set_new(plan, "estate_name", store_json_text(r, 0));
        json_array_append_new(items, store_json_row(r, "- id:i name:t floors:i lat_e6:i lon_e6:i"));
    }
    json_object_set_new(out, "plan", plan);
    return store_rows_end(r, e);
}

/* The latest readings, each with the bands it breaks (devices_rules_check), and the bands. */
static int readings_of(store_tx *tx, int64_t resident, int64_t device, json_t *out, nx_err *e)
{
    devices_alert_rules bands;
    bool custom = false;
    int rc = devices_rules_load(tx, resident, &bands, &custom, e);
    if (rc)
        return rc;
    json_object_set_new(out, "bands", devices_rules_json(&bands, custom));
    json_t *items = json_array();
    json_object_set_new(out, "readings", items);
    if (device == 0)
        return 0;
    store_param p[] = {P_INT(device), P_INT(FAMILY_READINGS)};
    store_rows *r;
    if ((rc = store_query(tx,
                          "SELECT at, hr, sys, dia, spo2, temp_e1 FROM device_readings WHERE device_id = $1 "
                          "ORDER BY at DESC, id DESC LIMIT $2",
                          p, 2, &r, e)))
        return rc;
    while (store_row(r)) {
        json_t *o = store_json_row(r, "at:d hr:i sys:i dia:i spo2:i");
        json_object_set_new(o, "temp", store_isnull(r, 5) ? json_null() : json_real(store_int(r, 5) / 10.0));
        wire_health h = {.hr_bpm = WIRE_NONE, .sys_mmhg = WIRE_NONE, .dia_mmhg = WIRE_NONE, .spo2_pct = WIRE_NONE,
                         .temp_c_e1 = WIRE_NONE, .temp_mode = WIRE_NONE, .sugar_mmol_e2 = WIRE_NONE};
        int32_t *f[] = {&h.hr_bpm, &h.sys_mmhg, &h.dia_mmhg, &h.spo2_pct, &h.temp_c_e1};
        for (int i = 0; i < 5; i++)
            if (!store_isnull(r, i + 1))
                *f[i] = (int32_t)store_int(r, i + 1);
        const char *kinds[4];
        int n = devices_rules_check(&bands, &h, kinds);
        json_t *out_of = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(out_of, json_string(kinds[i]));
        json_object_set_new(o, "out_of_band", out_of);
        json_array_append_new(items, o);
    }
    return store_rows_end(r, e);
}

/* The community's latest visit to the elder (date, how, who, mood and health as recorded). */
static int last_visit(store_tx *tx, int64_t resident, json_t *out, nx_err *e)
{
    store_param p[] = {P_INT(resident)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT visited_on, kind, visitors, mood, health FROM visits WHERE resident_id = $1 "
                         "ORDER BY visited_on DESC, id DESC LIMIT 1",
                         p, 1, &r, e);
    if (rc)
        return rc;
    json_object_set_new(out, "last_visit",
                        store_row(r) ? store_json_row(r, "visited_on:t kind:t visitors:t mood:t health:t") : json_null());
    return store_rows_end(r, e);
}

/* The parts of the view, in order, into o; the audit entry last, in the same transaction. */
static int view_parts(store_tx *tx, const nx_principal *who, int64_t resident, json_t *o, nx_err *e)
{
    int64_t community = 0, grid = 0, device = 0, estate = 0;
    int rc = devices_resident_place(tx, who, resident, &community, &grid, e);
    if (rc == NX_EINVAL)
        rc = nx_fail(e, NX_ENOTFOUND, "", "居民不存在");
    if (rc || (rc = home_of(tx, resident, o, &estate, e)) ||
        (rc = device_and_position(tx, resident, community, o, &device, &estate, e)) ||
        (rc = plan_of(tx, estate, o, e)) || (rc = readings_of(tx, resident, device, o, e)) ||
        (rc = last_visit(tx, resident, o, e)))
        return rc;
    return audit_write_new(tx, who, "reveal", "resident", resident, community,
                           json_pack("{s:[s, s], s:s}", "revealed", "position", "readings", "via", "family_view"), e);
}

int devices_family_view(nx_app *app, const nx_principal *who, int64_t resident, json_t **out, nx_err *e)
{
    store_tx *tx;
    int rc = perm_begin(app->db, who, RIGHT_DEVICE_READ, STORE_WRITE, "无权查看老人的位置和健康数据", &tx, e);
    if (rc)
        return rc;
    json_t *o = json_object();
    if ((rc = store_finish(tx, view_parts(tx, who, resident, o, e), e))) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}
