/* test_perm.c — the scope of a principal decided three ways must agree.
 *
 * perm_scope_q (and its older char-buffer twin perm_scope_sql) narrows a query in SQL; perm_scope_match
 * (secure/perm.h) decides the same thing in memory for one resident row, for the people module's cache
 * of resident rows (people_cache.c, people_record.c). perm.h promises they give the same answer for
 * every principal and row; this suite holds it to that on a small fixture of communities and residents,
 * on SQLite and (with NX_TEST_PG) PostgreSQL: for each kind of scope — all, street, community, grid,
 * self (own), none and a value outside the enum — with ids that match some rows, every row, no row and 0,
 * and with the other fields of the principal set to values that must not matter. Each principal's set
 * is also checked against the expected number of rows, so two answers that were both empty by mistake do
 * not pass as agreement. The same fixture serves perm_begin, the right check that opens a transaction. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "secure/perm.h"
#include "store/query.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"

/* Streets 1, 2 and 3 (3 has a community without residents); grids belong to one community; residents
 * 3, 5 and 8 have no grid. */
#define FIXTURE                                                                                        \
    "INSERT INTO communities (id, street_id) VALUES (10, 1), (11, 1), (20, 2), (30, 3);"               \
    "INSERT INTO residents (id, community_id, grid_id) VALUES (1, 10, 100), (2, 10, 101), (3, 10, NULL), " \
    "(4, 11, 110), (5, 11, NULL), (6, 20, 200), (7, 20, 200), (8, 20, NULL);"

#define NROWS 8

typedef struct row {
    int64_t id, community, street, grid;
    bool has_grid;
} row;

/* The fixture's rows as the cache holds them: the resident, its community and that community's street,
 * its grid or none. */
static int read_rows(store *s, row *rows, int *n)
{
    nx_err e = {0};
    sqlq q;
    sqlq_init(&q, "SELECT r.id, r.community_id, c.street_id, r.grid_id FROM residents r JOIN communities c ON "
                  "c.id = r.community_id ORDER BY r.id");
    store_tx *tx;
    store_rows *r;
    int rc = sqlq_read(s, &q, &tx, &r, &e);
    if (rc)
        return rc;
    *n = 0;
    while (store_row(r) && *n < NROWS) {
        row *w = &rows[(*n)++];
        w->id = store_int(r, 0);
        w->community = store_int(r, 1);
        w->street = store_int(r, 2);
        w->has_grid = !store_isnull(r, 3);
        w->grid = store_int(r, 3);
    }
    rc = store_rows_end(r, &e);
    store_rollback(tx);
    return rc;
}

/* The ids of the rows r (one id column) as a bit set, r and its read transaction ended; UINT32_MAX
 * when the query gave no rows object (it failed). */
static uint32_t id_set(store_tx *tx, store_rows *r)
{
    nx_err e = {0};
    uint32_t set = 0;
    if (r == NULL) {
        if (tx)
            store_rollback(tx);
        return UINT32_MAX;
    }
    while (store_row(r))
        set |= 1u << store_int(r, 0);
    CHECK_INT(store_rows_end(r, &e), 0);
    store_rollback(tx);
    return set;
}

/* The ids p's scope lets through, as a bit set (bit id), by perm_scope_q in SQL. */
static uint32_t by_query(store *s, const nx_principal *p)
{
    nx_err e = {0};
    sqlq q;
    sqlq_init(&q, "SELECT r.id FROM residents r WHERE 1 = 1");
    perm_scope_q(p, "r.", "id", &q);
    sqlq_sql(&q, " ORDER BY r.id");
    store_tx *tx = NULL;
    store_rows *r = NULL;
    CHECK_INT(sqlq_read(s, &q, &tx, &r, &e), 0);
    return id_set(tx, r);
}

/* The same by perm_scope_sql, the char-buffer form. */
static uint32_t by_sql(store *s, const nx_principal *p)
{
    nx_err e = {0};
    char sql[512] = "SELECT r.id FROM residents r WHERE 1 = 1";
    store_param params[4];
    int n = 0;
    CHECK_INT(perm_scope_sql(p, "r.", "id", sql, sizeof sql, params, &n), 0);
    store_tx *tx = NULL;
    store_rows *r = NULL;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_query(tx, sql, params, n, &r, &e), 0);
    return id_set(tx, r);
}

/* The same in memory, row by row, by perm_scope_match. */
static uint32_t by_match(const row *rows, int n, const nx_principal *p)
{
    uint32_t set = 0;
    for (int i = 0; i < n; i++)
        if (perm_scope_match(p, rows[i].id, rows[i].community, rows[i].street, rows[i].has_grid, rows[i].grid))
            set |= 1u << rows[i].id;
    return set;
}

static int bits(uint32_t v)
{
    return __builtin_popcount(v);
}

/* perm_begin: without the right, NX_EPERM with the caller's words and no transaction begun (the writer
 * stays free: a write transaction after it does not wait); with it, a transaction of the mode asked
 * for (a read one refuses a write). A NULL principal has no right. */
static void check_begin(store *s)
{
    nx_principal family = {.role = ROLE_FAMILY, .scope = SCOPE_SELF, .resident_id = 1};
    nx_principal staff = {.role = ROLE_STAFF, .scope = SCOPE_COMMUNITY, .community_id = 10};
    nx_err e = {0};
    store_tx *tx = NULL;
    CHECK_INT(perm_begin(s, &family, RIGHT_DEVICE_WRITE, STORE_WRITE, "无权配置通知渠道", &tx, &e), NX_EPERM);
    CHECK(tx == NULL);
    CHECK_STR(e.field, "");
    CHECK_STR(e.msg, "无权配置通知渠道");
    CHECK_INT(perm_begin(s, NULL, RIGHT_DEVICE_READ, STORE_READ, "无权查看报警", &tx, &e), NX_EPERM);
    CHECK(tx == NULL);
    CHECK_STR(e.msg, "无权查看报警");
    /* a right the role has in part only is not held: both bits are asked for */
    CHECK_INT(perm_begin(s, &family, RIGHT_DEVICE_READ | RIGHT_DEVICE_WRITE, STORE_READ, "无权", &tx, &e), NX_EPERM);
    CHECK(tx == NULL);
    CHECK_INT(perm_begin(s, &family, RIGHT_DEVICE_READ, STORE_READ, "无权查看报警", &tx, &e), 0);
    CHECK(tx != NULL);
    int64_t n = 0;
    CHECK_INT(store_one_int(tx, "SELECT count(*) FROM residents", NULL, 0, &n, &e), 0);
    CHECK_INT(n, NROWS);
    CHECK(store_exec(tx, "DELETE FROM residents", NULL, 0, NULL, &e) < 0); /* a read transaction */
    store_rollback(tx);
    tx = NULL;
    CHECK_INT(perm_begin(s, &staff, RIGHT_DEVICE_WRITE, STORE_WRITE, "无权配置通知渠道", &tx, &e), 0);
    CHECK(tx != NULL);
    CHECK_INT(store_exec(tx, "UPDATE residents SET grid_id = grid_id WHERE id = 1", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
}

static void run_backend(void)
{
    store *s = tb_open("perm.db", 2, false);
    if (s == NULL)
        return;
    tb_script(s, tb_sql("CREATE TABLE communities (id INTEGER PRIMARY KEY, street_id INTEGER NOT NULL);"
                        "CREATE TABLE residents (id INTEGER PRIMARY KEY, community_id INTEGER NOT NULL, "
                        "grid_id INTEGER)"));
    tb_script(s, FIXTURE);
    row rows[NROWS];
    int n = 0;
    CHECK_INT(read_rows(s, rows, &n), 0);
    CHECK_INT(n, NROWS);
    /* principal, rows its scope holds; the fields its scope does not read are set to values that
     * would let other rows through if they were read */
    const struct {
        nx_principal p;
        int want;
    } cases[] = {
        {{.scope = SCOPE_ALL}, NROWS},
        {{.scope = SCOPE_ALL, .street_id = 2, .community_id = 20, .grid_id = 200, .resident_id = 6}, NROWS},
        {{.scope = SCOPE_STREET, .street_id = 1}, 5},
        {{.scope = SCOPE_STREET, .street_id = 2, .community_id = 10, .grid_id = 100, .resident_id = 1}, 3},
        {{.scope = SCOPE_STREET, .street_id = 3}, 0}, /* a street whose community has no residents */
        {{.scope = SCOPE_STREET, .street_id = 99}, 0},
        {{.scope = SCOPE_STREET, .street_id = 0}, 0},
        {{.scope = SCOPE_COMMUNITY, .community_id = 10}, 3},
        {{.scope = SCOPE_COMMUNITY, .community_id = 11, .street_id = 2, .grid_id = 200, .resident_id = 6}, 2},
        {{.scope = SCOPE_COMMUNITY, .community_id = 20}, 3},
        {{.scope = SCOPE_COMMUNITY, .community_id = 30}, 0},
        {{.scope = SCOPE_COMMUNITY, .community_id = 0}, 0},
        {{.scope = SCOPE_GRID, .grid_id = 100}, 1},
        {{.scope = SCOPE_GRID, .grid_id = 200, .community_id = 10, .street_id = 1, .resident_id = 1}, 2},
        {{.scope = SCOPE_GRID, .grid_id = 110}, 1},
        {{.scope = SCOPE_GRID, .grid_id = 999}, 0},
        {{.scope = SCOPE_GRID, .grid_id = 0}, 0}, /* no grid is not "the rows without a grid" */
        {{.scope = SCOPE_SELF, .resident_id = 3}, 1},
        {{.scope = SCOPE_SELF, .resident_id = 6, .community_id = 10, .street_id = 1, .grid_id = 100}, 1},
        {{.scope = SCOPE_SELF, .resident_id = 99}, 0},
        {{.scope = SCOPE_SELF, .resident_id = 0}, 0},
        {{.scope = SCOPE_NONE}, 0},
        {{.scope = SCOPE_NONE, .street_id = 1, .community_id = 10, .grid_id = 100, .resident_id = 1}, 0},
        {{.scope = 42, .street_id = 1, .community_id = 10, .grid_id = 100, .resident_id = 1}, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const nx_principal *p = &cases[i].p;
        uint32_t q = by_query(s, p), w = by_sql(s, p), m = by_match(rows, n, p);
        if (q != m || w != m || bits(m) != cases[i].want)
            fprintf(stderr, "case %zu (scope %d, %s): query %#x, sql %#x, match %#x, want %d rows\n", i, p->scope,
                    tb_backend(), q, w, m, cases[i].want);
        CHECK_INT(q, m);
        CHECK_INT(w, m);
        CHECK_INT(bits(m), cases[i].want);
    }
    check_begin(s);
    store_close(s);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    if (tb_init("nx-test-perm") != 0)
        return 1;
    TEST_RUN(run_backend);
    if (tb_use_pg())
        TEST_RUN(run_backend);
    tb_cleanup();
    return TEST_DONE();
}
