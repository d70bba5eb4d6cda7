/* test_app.c — the module kit of modules/app.h that touches the store: app_insert, the INSERT whose
 * VALUES list is made from its column list, on SQLite and (with NX_TEST_PG) PostgreSQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "modules/app.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"

static int64_t count_rows(store *s)
{
    nx_err e = {0};
    store_tx *tx;
    int64_t n = -1;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_one_int(tx, "SELECT count(*) FROM t", NULL, 0, &n, &e), 0);
    store_rollback(tx);
    return n;
}

/* A row with RETURNING id and one without; each parameter lands in its column, a constant and a
 * repeated value included; a unique violation is NX_ECONFLICT as store_exec says. */
static void test_insert(void)
{
    store *s = tb_open("app_insert", 2, false);
    if (s == NULL)
        return;
    tb_script(s, tb_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, n INTEGER, "
                        "note TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)"));
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    int64_t id = 0;
    store_param p[] = {P_TEXT("a"), P_INT(7), P_NULL, P_INT(1000), P_INT(1000)};
    CHECK_INT(app_insert(tx, "t", "code, n, note, created_at, updated_at", p, 5, &id, &e), 0);
    CHECK(id > 0);
    store_param q[] = {P_TEXT("b"), P_TEXT("注"), P_INT(5), P_INT(6)};
    CHECK_INT(app_insert(tx, "t", "code, note, created_at, updated_at", q, 4, NULL, &e), 0);
    CHECK_INT(app_insert(tx, "t", "code, note, created_at, updated_at", q, 4, NULL, &e), NX_ECONFLICT);
    store_rollback(tx);

    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(app_insert(tx, "t", "code, n, note, created_at, updated_at", p, 5, &id, &e), 0);
    CHECK_INT(app_insert(tx, "t", "code, note, created_at, updated_at", q, 4, NULL, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK_INT(count_rows(s), 2);
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    store_rows *r = NULL;
    CHECK_INT(store_query_first(tx, "SELECT code, n, note, created_at, updated_at FROM t WHERE id = $1",
                                (store_param[]){P_INT(id)}, 1, "none", &r, &e),
              0);
    if (r) {
        CHECK_STR(store_text(r, 0), "a");
        CHECK_INT(store_int(r, 1), 7);
        CHECK(store_isnull(r, 2));
        CHECK_INT(store_int(r, 3), 1000);
        CHECK_INT(store_int(r, 4), 1000);
    }
    store_rows_free(r);
    r = NULL;
    CHECK_INT(store_query_first(tx, "SELECT note, n, created_at, updated_at FROM t WHERE code = 'b'", NULL, 0,
                                "none", &r, &e),
              0);
    if (r) {
        CHECK_STR(store_text(r, 0), "注");
        CHECK(store_isnull(r, 1));
        CHECK_INT(store_int(r, 2), 5);
        CHECK_INT(store_int(r, 3), 6);
    }
    store_rows_free(r);
    store_rollback(tx);
    store_close(s);
}

/* A column list that does not agree with the parameters, or is not a list of plain names, is a bug
 * of the caller: NX_EINTERNAL before anything runs (the transaction stays usable). */
static void test_insert_refused(void)
{
    store *s = tb_open("app_insert_refused", 2, false);
    if (s == NULL)
        return;
    tb_script(s, tb_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT, note TEXT)"));
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    int64_t id = 0;
    store_param p[] = {P_TEXT("a"), P_TEXT("b")};
    CHECK_INT(app_insert(tx, "t", "code, note", p, 1, &id, &e), NX_EINTERNAL);
    CHECK_INT(app_insert(tx, "t", "code", p, 2, &id, &e), NX_EINTERNAL);
    CHECK_INT(app_insert(tx, "t", "code,note", p, 2, &id, &e), NX_EINTERNAL);
    CHECK_INT(app_insert(tx, "t", "code, note, ", p, 2, &id, &e), NX_EINTERNAL);
    CHECK_INT(app_insert(tx, "t", "code, note) VALUES ('x', 'y'); --", p, 2, &id, &e), NX_EINTERNAL);
    CHECK_INT(app_insert(tx, "t x", "code, note", p, 2, &id, &e), NX_EINTERNAL);
    CHECK_INT(app_insert(tx, "t", "", p, 0, &id, &e), NX_EINTERNAL);
    CHECK_INT(app_insert(tx, "t", "code, note", p, 2, &id, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK_INT(count_rows(s), 1);
    store_close(s);
}

static void run_backend(void)
{
    TEST_RUN(test_insert);
    TEST_RUN(test_insert_refused);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    if (tb_init("nx-test-app") != 0)
        return 1;
    run_backend();
    if (tb_use_pg())
        run_backend();
    tb_cleanup();
    return TEST_DONE();
}
