/* stats.c — dashboard figures. One pass over the active residents in scope (grid, sex, birth date,
 * tags computed from age) is aggregated in C; a community has thousands of residents, a street tens
 * of thousands, so this is a few milliseconds and needs no summary table yet. Households by estate
 * and assigned tags by grid are grouped in SQL. */
#include "modules/stats/stats.h"

#include "base/clock.h"
#include "base/str.h"
#include "store/query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#define BANDS 21 /* 0-4 … 95-99, 100+ */
#define MAX_GRIDS 512

typedef struct grid_agg {
    int64_t id;
    char name[96];
    int64_t residents, over60, over80, households, alone;
} grid_agg;

static grid_agg *grid_of(grid_agg *g, int *n, int64_t id, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (g[i].id == id)
            return &g[i];
    if (*n >= MAX_GRIDS)
        return NULL;
    grid_agg *x = &g[(*n)++];
    memset(x, 0, sizeof *x);
    x->id = id;
    str_copy(x->name, name ? name : "未分网格", sizeof x->name);
    return x;
}

int stats_overview(nx_app *app, const nx_principal *who, int64_t community, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看统计");
    grid_agg *grids = calloc(MAX_GRIDS, sizeof *grids);
    if (!grids)
        return NX_ENOMEM;
    int ngrids = 0;
    int64_t male[BANDS] = {0}, female[BANDS] = {0};
    int64_t total = 0, over60 = 0, over80 = 0, care = 0, alone = 0, households = 0;
    nx_date today = date_today();
    store_tx *tx;
    store_rows *r = NULL;
    json_t *res = NULL;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc) {
        free(grids);
        return rc;
    }
    rc = perm_scoped_query(tx, who, community,
                           "SELECT r.grid_id, g.name, r.sex, r.birth_date, "
                           "CASE WHEN EXISTS (SELECT 1 FROM care_files cf WHERE cf.resident_id = r.id AND "
                           "cf.status = 'active') THEN 'file' ELSE 'none' END, "
                           "EXISTS (SELECT 1 FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id "
                           "WHERE rt.resident_id = r.id AND t.code = 'living_alone') "
                           "FROM residents r LEFT JOIN grids g ON g.id = r.grid_id WHERE r.status = 'active'",
                           "r.", "", &r, e);
    if (rc)
        goto done;
    while (store_row(r)) {
        nx_date b;
        if (date_parse(store_text(r, 3), &b))
            continue;
        int age = date_age(b, today);
        int band = age / 5 >= BANDS - 1 ? BANDS - 1 : age / 5;
        (store_int(r, 2) == 1 ? male : female)[band < 0 ? 0 : band]++;
        total++;
        grid_agg *g = grid_of(grids, &ngrids, store_int(r, 0), store_text(r, 1));
        if (g)
            g->residents++;
        if (age >= 60) {
            over60++;
            if (g)
                g->over60++;
        }
        if (age >= 80) {
            over80++;
            if (g)
                g->over80++;
        }
        if (strcmp(store_text(r, 4), "none") != 0)
            care++;
        if (store_int(r, 5)) {
            alone++;
            if (g)
                g->alone++;
        }
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;
    if ((rc = perm_scoped_query(tx, who, community,
                                "SELECT h.grid_id, g.name, count(*) FROM households h LEFT JOIN grids g ON g.id = "
                                "h.grid_id WHERE 1 = 1",
                                "h.", " GROUP BY h.grid_id, g.name", &r, e)))
        goto done;
    while (store_row(r)) {
        grid_agg *g = grid_of(grids, &ngrids, store_int(r, 0), store_text(r, 1));
        if (g)
            g->households = store_int(r, 2);
        households += store_int(r, 2);
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;

    json_t *by_grid = json_array();
    for (int i = 0; i < ngrids; i++)
        json_array_append_new(by_grid, json_pack("{s:o, s:s, s:I, s:I, s:I, s:I, s:I}", "grid_id",
                                                 grids[i].id ? json_integer(grids[i].id) : json_null(), "grid_name",
                                                 grids[i].name, "residents", (json_int_t)grids[i].residents,
                                                 "households", (json_int_t)grids[i].households, "over_60",
                                                 (json_int_t)grids[i].over60, "over_80", (json_int_t)grids[i].over80,
                                                 "living_alone", (json_int_t)grids[i].alone));
    json_t *pyramid = json_array();
    for (int i = 0; i < BANDS; i++) {
        char band[16];
        if (i == BANDS - 1)
            snprintf(band, sizeof band, "100+");
        else
            snprintf(band, sizeof band, "%d-%d", i * 5, i * 5 + 4);
        json_array_append_new(pyramid, json_pack("{s:s, s:I, s:I}", "band", band, "male", (json_int_t)male[i],
                                                 "female", (json_int_t)female[i]));
    }
    res = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "residents", (json_int_t)total, "households",
                    (json_int_t)households, "over_60", (json_int_t)over60, "over_80", (json_int_t)over80,
                    "living_alone", (json_int_t)alone, "care_files", (json_int_t)care, "by_grid", by_grid,
                    "pyramid", pyramid);

    /* assigned tags by grid */
    json_t *tags = json_array();
    json_object_set_new(res, "tags_by_grid", tags);
    if ((rc = perm_scoped_query(tx, who, community,
                                "SELECT t.code, t.name, r.grid_id, g.name, count(*) FROM resident_tags rt "
                                "JOIN tags t ON t.id = rt.tag_id JOIN residents r ON r.id = rt.resident_id "
                                "LEFT JOIN grids g ON g.id = r.grid_id WHERE r.status = 'active'",
                                "r.", " GROUP BY t.code, t.name, t.sort, r.grid_id, g.name ORDER BY t.sort, t.code, r.grid_id",
                                &r, e)))
        goto done;
    while (store_row(r))
        json_array_append_new(tags, json_pack("{s:s, s:s, s:o, s:s, s:I}", "tag", store_text(r, 0), "tag_name",
                                              store_text(r, 1), "grid_id",
                                              store_isnull(r, 2) ? json_null() : json_integer(store_int(r, 2)),
                                              "grid_name", store_text(r, 3) ? store_text(r, 3) : "未分网格",
                                              "count", (json_int_t)store_int(r, 4)));
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;

    json_t *estates = json_array();
    json_object_set_new(res, "households_by_estate", estates);
    if ((rc = perm_scoped_query(tx, who, community,
                                "SELECT es.id, es.name, count(DISTINCT h.id), count(DISTINCT rs.id) FROM households h "
                                "JOIN rooms rm ON rm.id = h.room_id JOIN buildings b ON b.id = rm.building_id "
                                "JOIN estates es ON es.id = b.estate_id "
                                "LEFT JOIN residents rs ON rs.household_id = h.id AND rs.status = 'active' WHERE 1 = 1",
                                "h.", " GROUP BY es.id, es.name ORDER BY es.id", &r, e)))
        goto done;
    while (store_row(r))
        json_array_append_new(estates, json_pack("{s:I, s:s, s:I, s:I}", "estate_id", (json_int_t)store_int(r, 0),
                                                 "estate_name", store_text(r, 1), "households",
                                                 (json_int_t)store_int(r, 2), "residents", (json_int_t)store_int(r, 3)));
    rc = store_rows_end(r, e);
    r = NULL;
done:
    store_rows_free(r);
    store_rollback(tx);
    free(grids);
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return 0;
}

/* One nx_meta value (NULL when absent) — the backup command's notes (cli/backup.c). */
static char *meta(store_tx *tx, const char *key)
{
    char *v = NULL;
    if (store_one_text(tx, "SELECT value FROM nx_meta WHERE key = $1", (store_param[]){P_TEXT(key)}, 1, &v, NULL))
        return NULL;
    return v;
}

int stats_health(nx_app *app, const nx_principal *who, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_AUDIT_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看系统状态");
    int version = 0, newest = 0;
    int rc = store_schema_version(app->db, &version, e);
    if (rc == 0)
        rc = store_schema_newest(app->db, &newest, e);
    if (rc)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)) != 0)
        return rc;
    char *ok_at = meta(tx, "backup_last_ok_at"), *at = meta(tx, "backup_last_at");
    char *err = meta(tx, "backup_last_error"), *file = meta(tx, "backup_last_file");
    store_rollback(tx);
    int64_t ok_ms = ok_at ? strtoll(ok_at, NULL, 10) : 0, at_ms = at ? strtoll(at, NULL, 10) : 0;
    int64_t now = clock_now_ms();
    /* failed: the last run failed; stale: the last good one is older than 36 h (a night missed);
     * never: no run recorded (the timer is not installed or has not run yet) */
    const char *status = at_ms > ok_ms && err && *err ? "failed"
                         : ok_ms == 0                 ? "never"
                         : now - ok_ms > 36 * 3600000LL ? "stale"
                                                      : "ok";
    json_t *backup = json_pack("{s:s}", "status", status);
    json_object_set_new(backup, "last_ok_at", ok_ms ? json_integer(ok_ms) : json_null());
    json_object_set_new(backup, "last_run_at", at_ms ? json_integer(at_ms) : json_null());
    /* only the file's name: where the backups live is the server's business */
    const char *base = file ? strrchr(file, '/') : NULL;
    json_object_set_new(backup, "file", file ? json_string(base ? base + 1 : file) : json_null());
    json_object_set_new(backup, "error", at_ms > ok_ms && err && *err ? json_string(err) : json_null());
    free(ok_at);
    free(at);
    free(err);
    free(file);
    json_t *disk = json_null();
    struct statvfs vf;
    if (statvfs(app->cfg->data_dir, &vf) == 0)
        disk = json_pack("{s:I}", "free_bytes", (json_int_t)((uint64_t)vf.f_bavail * vf.f_frsize));
    *out = json_pack("{s:{s:s,s:i,s:i},s:o,s:o}", "database", "backend", store_backend(app->db), "schema_version",
                     version, "schema_newest", newest, "backup", backup, "disk", disk);
    return 0;
}
