/* devices_rules.c — a resident's alert rules: the bands a reading must stay within, the offline
 * and no-activity rules and the home radius, read with the defaults shown beside them and replaced
 * as a whole (no field = back to the defaults).
 *
 * The rules are kept as overrides: an alert_rules row holds only what differs (NULL = the default),
 * so a change of the built-in bands reaches every resident who did not set their own. Reading and
 * writing need the resident in the caller's scope; a change is audited. devices_rules_check is the
 * one place that says which band a reading breaks (ingest calls it for every reading). */
#include "modules/devices/devices.h"
#include "modules/devices/devices_internal.h"

#include "base/clock.h"
#include "base/jsonin.h"
#include "secure/audit.h"

void devices_rules_default(devices_alert_rules *r)
{
    *r = (devices_alert_rules){.hr_min = 50,
                               .hr_max = 120,
                               .sys_min = 90,
                               .sys_max = 160,
                               .dia_max = 100,
                               .spo2_min = 90,
                               .temp_min_e1 = 350,
                               .temp_max_e1 = 375,
                               .offline_min = 60,
                               .no_steps_hour = 10,
                               .home_lat_e6 = 0,
                               .home_lon_e6 = 0,
                               .home_radius_m = 0};
}

int devices_rules_check(const devices_alert_rules *r, const wire_health *h, const char *kinds[4])
{
    int n = 0;
    if (h->hr_bpm != WIRE_NONE && h->hr_bpm > 0 && (h->hr_bpm < r->hr_min || h->hr_bpm > r->hr_max))
        kinds[n++] = "heart_rate";
    bool bp = (h->sys_mmhg != WIRE_NONE && h->sys_mmhg > 0 &&
               (h->sys_mmhg < r->sys_min || h->sys_mmhg > r->sys_max)) ||
              (h->dia_mmhg != WIRE_NONE && h->dia_mmhg > 0 && h->dia_mmhg > r->dia_max);
    if (bp)
        kinds[n++] = "blood_pressure";
    if (h->spo2_pct != WIRE_NONE && h->spo2_pct > 0 && h->spo2_pct < r->spo2_min)
        kinds[n++] = "spo2";
    if (h->temp_c_e1 != WIRE_NONE && h->temp_c_e1 > 0 &&
        (h->temp_c_e1 < r->temp_min_e1 || h->temp_c_e1 > r->temp_max_e1))
        kinds[n++] = "temperature";
    return n;
}

int devices_rules_load(store_tx *tx, int64_t resident, devices_alert_rules *out, bool *custom, nx_err *e)
{
    devices_rules_default(out);
    if (custom)
        *custom = false;
    if (!resident)
        return 0;
    store_param p[] = {P_INT(resident)};
    store_rows *r = NULL;
    int rc = store_query(tx,
                         "SELECT hr_min, hr_max, sys_min, sys_max, dia_max, spo2_min, temp_min_e1, temp_max_e1, offline_min, "
                         "no_steps_hour, home_lat_e6, home_lon_e6, home_radius_m FROM alert_rules WHERE resident_id = $1",
                         p, 1, &r, e);
    if (rc)
        return rc;
    if (store_row(r)) {
        int32_t *f[] = {&out->hr_min,      &out->hr_max,        &out->sys_min,     &out->sys_max,   &out->dia_max,
                        &out->spo2_min,    &out->temp_min_e1,   &out->temp_max_e1, &out->offline_min, &out->no_steps_hour,
                        &out->home_lat_e6, &out->home_lon_e6,   &out->home_radius_m};
        for (int i = 0; i < 13; i++)
            if (!store_isnull(r, i))
                *f[i] = (int32_t)store_int(r, i);
        if (custom)
            *custom = true;
    }
    return store_rows_end(r, e);
}

static const char *const rule_keys[] = {"hr_min",   "hr_max",      "sys_min",       "sys_max",       "dia_max",
                                        "spo2_min", "temp_min",    "temp_max",      "offline_min",   "no_steps_hour",
                                        "home_lat", "home_lon",    "home_radius_m", NULL};

json_t *devices_rules_json(const devices_alert_rules *r, bool custom)
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
    store_tx *tx = NULL;
    int rc = perm_begin(app->db, who, RIGHT_DEVICE_READ, STORE_READ, "无权查看报警规则", &tx, e);
    if (rc)
        return rc;
    int64_t c, g;
    devices_alert_rules r;
    bool custom = false;
    if ((rc = devices_resident_place(tx, who, resident_id, &c, &g, e)) == NX_EINVAL)
        rc = nx_fail(e, NX_ENOTFOUND, "", "居民不存在");
    if (rc == 0 && (rc = devices_rules_load(tx, resident_id, &r, &custom, e)) == 0) {
        devices_alert_rules d;
        devices_rules_default(&d);
        *out = devices_rules_json(&r, custom);
        json_t *defaults = devices_rules_json(&d, false);
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
        devices_alert_rules d;
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
    if ((rc = devices_resident_place(tx, who, resident_id, &c, &g, e)) == NX_EINVAL)
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
fail:
    return store_finish(tx, rc, e);
}
