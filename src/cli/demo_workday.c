/* demo_workday.c — where the demo community's buildings stand (issue 19: the SOS screen's estate plan
 * and the family view name a wristband's position by the nearest building).
 *
 * The six estates are laid out around the community's centre (36.4574 N, 116.2984 E, the point the
 * wristband demo and simulator use) in two rows of three, about 270 m apart; 和平里小区, the first, sits
 * on the centre. Inside an estate its buildings stand in rows of four, in the order of their names,
 * about 45 m apart east-west and 50 m north-south. Positions are micro-degrees (WGS-84) in
 * buildings.lat_e6 / lon_e6 (migration 028). Nothing random: the layout depends only on the
 * estates and buildings the demo made, so it is the same for every seed of the same size. One write
 * transaction, one UPDATE per building; must run before demo_devices_fill, which puts each elder's
 * wristband home at their building. */
#include "cli/demo.h"

#include "base/str.h"
#include "store/query.h"

#include <stdlib.h>

#define CENTRE_LAT_E6 36457400
#define CENTRE_LON_E6 116298400
#define PER_ROW 4
#define STEP_LON 500 /* ≈ 45 m at this latitude */
#define STEP_LAT 450 /* ≈ 50 m */

/* Estate k's centre, as offsets from the community's centre (micro-degrees). */
static const int32_t estate_at[][2] = {{0, 0}, {0, 3000}, {0, -3000}, {-2600, -3000}, {-2600, 0}, {-2600, 3000}};
#define ESTATE_SLOTS (sizeof estate_at / sizeof estate_at[0])

typedef struct bpos {
    int64_t id, estate;
} bpos;

int demo_workday_fill(nx_app *app, int64_t community, json_t *summary, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(community)};
    store_rows *r = NULL;
    size_t n = 0, cap = 0;
    bpos *bs = NULL;
    /* estates by id, then their buildings by the number in their name (2号楼 before 10号楼) */
    rc = store_query(tx,
                     "SELECT b.id, b.estate_id FROM buildings b WHERE b.community_id = $1 "
                     "ORDER BY b.estate_id, length(b.name), b.name, b.id",
                     p, 1, &r, e);
    while (rc == 0 && store_row(r)) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            bpos *m = realloc(bs, nc * sizeof *bs);
            if (m == NULL) {
                rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
                break;
            }
            bs = m;
            cap = nc;
        }
        bs[n++] = (bpos){store_int(r, 0), store_int(r, 1)};
    }
    if (r) {
        int end = store_rows_end(r, e);
        rc = rc ? rc : end;
    }
    size_t estate = 0, first = 0, placed = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0 && bs[i].estate != bs[i - 1].estate) {
            estate++;
            first = i;
        }
        if (estate >= ESTATE_SLOTS)
            break; /* an estate added later is left unsurveyed */
        size_t count = 0;
        while (first + count < n && bs[first + count].estate == bs[i].estate)
            count++;
        size_t k = i - first, rows = (count + PER_ROW - 1) / PER_ROW, cols = count < PER_ROW ? count : PER_ROW;
        int32_t lat = CENTRE_LAT_E6 + estate_at[estate][0] +
                      (int32_t)(((double)(rows - 1) / 2.0 - (double)(k / PER_ROW)) * STEP_LAT);
        int32_t lon = CENTRE_LON_E6 + estate_at[estate][1] +
                      (int32_t)(((double)(k % PER_ROW) - (double)(cols - 1) / 2.0) * STEP_LON);
        store_param u[] = {P_INT(lat), P_INT(lon), P_INT(bs[i].id)};
        rc = store_exec(tx, "UPDATE buildings SET lat_e6 = $1, lon_e6 = $2 WHERE id = $3", u, 3, NULL, e);
        placed++;
    }
    free(bs);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    json_object_set_new(summary, "buildings_placed", json_integer((json_int_t)placed));
    return store_commit(tx, e);
}
