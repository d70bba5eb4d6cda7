/* test_audit.c — the audit log's writers on SQLite and (with NX_TEST_PG) PostgreSQL: audit_write
 * borrows its detail, audit_write_new takes it over and releases it on success and on failure alike,
 * and both write the same row (a NULL detail is written as {}). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "secure/audit.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"

static store *open_db(const char *name)
{
    return tb_open(name, 2, true);
}

/* The detail and action of the newest entry. */
static void newest(store *db, char *action, char *detail, size_t cap)
{
    nx_err e = {0};
    store_tx *tx;
    store_rows *r = NULL;
    action[0] = detail[0] = '\0';
    CHECK_INT(store_begin(db, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_query(tx, "SELECT action, detail FROM audit_log ORDER BY id DESC", NULL, 0, &r, &e), 0);
    if (store_first(r, "none", &e) == 0) {
        snprintf(action, cap, "%s", store_text(r, 0));
        snprintf(detail, cap, "%s", store_text(r, 1));
    }
    store_rows_free(r);
    store_rollback(tx);
}

static int64_t count(store *db)
{
    nx_err e = {0};
    store_tx *tx;
    int64_t n = -1;
    CHECK_INT(store_begin(db, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_one_int(tx, "SELECT count(*) FROM audit_log", NULL, 0, &n, &e), 0);
    store_rollback(tx);
    return n;
}

static store *s; /* the backend's database, for the tests below */

static void test_write_new(void)
{
    nx_err e = {0};
    nx_principal who = {.user_id = 0, .username = "tester", .ip = "127.0.0.1"};
    char action[256], detail[256];
    int64_t before = count(s);

    /* success: the row carries the detail, and the detail is released (our extra reference is the
     * only one left) */
    json_t *d = json_pack("{s:s}", "change", "bind");
    json_incref(d);
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(audit_write_new(tx, &who, "update", "device", 7, 0, d, &e), 0);
    CHECK_INT((int)d->refcount, 1);
    CHECK_INT(store_commit(tx, &e), 0);
    json_decref(d);
    newest(s, action, detail, sizeof detail);
    CHECK_STR(action, "update");
    CHECK_STR(detail, "{\"change\":\"bind\"}");

    /* NULL detail: written as {} */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(audit_write_new(tx, &who, "delete", "webhook", 3, 0, NULL, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    newest(s, action, detail, sizeof detail);
    CHECK_STR(action, "delete");
    CHECK_STR(detail, "{}");
    CHECK_INT(count(s), before + 2);

    /* failure (the transaction already failed): the error is returned, the detail still released */
    d = json_pack("{s:i}", "rows", 3);
    json_incref(d);
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK(store_exec(tx, "INSERT INTO no_such_table (x) VALUES (1)", NULL, 0, NULL, &e) != 0);
    nx_err e2 = {0};
    CHECK(audit_write_new(tx, &who, "export", "alert", 0, 0, d, &e2) != 0);
    CHECK(e2.code != 0);
    CHECK_INT((int)d->refcount, 1);
    store_rollback(tx);
    json_decref(d);
    CHECK_INT(count(s), before + 2);
}

/* audit_write borrows: the caller's detail is untouched. */
static void test_write_borrows(void)
{
    nx_err e = {0};
    nx_principal who = {.username = "tester"};
    json_t *d = json_pack("{s:b}", "dry_run", 1);
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(audit_write(tx, &who, "import", "resident", 0, 0, d, &e), 0);
    CHECK_INT((int)d->refcount, 1);
    CHECK_INT(store_commit(tx, &e), 0);
    json_decref(d);
    char action[256], detail[256];
    newest(s, action, detail, sizeof detail);
    CHECK_STR(action, "import");
    CHECK_STR(detail, "{\"dry_run\":true}");
}

static void run_backend(void)
{
    s = open_db("audit.db");
    if (s == NULL)
        return;
    fprintf(stderr, "-- %s\n", tb_backend());
    TEST_RUN(test_write_new);
    TEST_RUN(test_write_borrows);
    store_close(s);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    if (tb_init("nx-test-audit") != 0)
        return 1;
    run_backend();
    if (tb_use_pg())
        run_backend();
    tb_cleanup();
    return TEST_DONE();
}
