/* test_store.c — the store conformance suite: parameters, types, errors, transactions and their
 * isolation, threads, the statement cache, migrations, backup and restore, wake-ups and leader locks.
 * It runs on SQLite, then again on PostgreSQL when NX_TEST_PG is set (backends.h); each test asks for
 * its own fresh database and creates its own tables (the real schema is the migrations' business).
 * Only what is meant to differ is backend-specific: files, modes and WAL (SQLite), pg_dump archives
 * and connection loss (PostgreSQL). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/trace.h"
#include "store/migrations.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tb_dir, name);
}

static store *open_new(const char *name, int readers)
{
    char p[512];
    tb_url(p, sizeof p, name);
    store_options o = {.readers = readers, .busy_ms = 2000, .create = true, .pool = readers};
    store *s = NULL;
    nx_err e = {0};
    int rc = store_open(p, &o, &s, &e);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "store_open: %s\n", e.msg);
    return s;
}

static int exec_w(store *s, const char *sql)
{
    store_tx *tx;
    nx_err e = {0};
    int rc = store_begin(s, STORE_WRITE, &tx, &e);
    if (rc)
        return rc;
    rc = store_exec_script(tx, tb_sql(sql), &e);
    if (rc) {
        fprintf(stderr, "script: %s\n", e.msg);
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, &e);
}

static int64_t count_rows(store *s, const char *sql)
{
    store_tx *tx;
    nx_err e = {0};
    int64_t n = -1;
    if (store_begin(s, STORE_READ, &tx, &e) != 0)
        return -1;
    if (store_one_int(tx, sql, NULL, 0, &n, &e) != 0)
        n = -1;
    store_rollback(tx);
    return n;
}

static void test_open(void)
{
    char p[512];
    nx_err e = {0};
    store *s = NULL;
    path_in(p, sizeof p, "missing.db");
    CHECK_INT(store_open(p, NULL, &s, &e), NX_ENOTFOUND);
    CHECK(s == NULL);
    CHECK(strstr(e.msg, "nuanxin init") != NULL);
    CHECK(access(p, F_OK) != 0); /* not created as a side effect */

    /* A PostgreSQL server that is not there: try again later. */
    CHECK_INT(store_open("postgres://nuanxin@127.0.0.1:1/nx", NULL, &s, &e), NX_EBUSY);
    CHECK(s == NULL);
    CHECK_INT(store_open("mysql://localhost/nx", NULL, &s, &e) == 0, 0);
    CHECK_INT(store_open("", NULL, &s, &e), NX_EINVAL);

    s = open_new("open.db", 2);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_STR(store_backend(s), "sqlite");
    CHECK_INT(exec_w(s, "CREATE TABLE t (a INTEGER)"), 0);
    struct stat sb;
    path_in(p, sizeof p, "open.db");
    CHECK_INT(stat(p, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    path_in(p, sizeof p, "open.db-wal");
    CHECK_INT(stat(p, &sb), 0); /* WAL mode took */
    CHECK_INT(sb.st_mode & 0777, 0600);
    CHECK_INT(store_check(s, &e), 0);
    int v = -1;
    CHECK_INT(store_schema_version(s, &v, &e), 0);
    CHECK_INT(v, 0);
    store_close(s);

    /* An existing database opens without create. */
    path_in(p, sizeof p, "open.db");
    CHECK_INT(store_open(p, NULL, &s, &e), 0);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM t"), 0);
    store_close(s);
    store_close(NULL);
}

static void test_params(void)
{
    store *s = open_new("params.db", 2);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE t (a INTEGER, b TEXT, c BLOB, r REAL)"), 0);
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    int64_t ch = -1;
    /* $2 before $1 in the SQL: bound by name, not by position. */
    CHECK_INT(store_exec(tx, "INSERT INTO t (b, a) VALUES ($2, $1)",
                         (store_param[]){P_INT(7), P_TEXT("seven")}, 2, &ch, &e),
              0);
    CHECK_INT(ch, 1);
    CHECK_INT(store_exec(tx, "INSERT INTO t (b, a) VALUES ($2, $1)",
                         (store_param[]){P_INT(8), P_TEXT("eight")}, 2, &ch, &e),
              0);
    /* A parameter the SQL does not use is allowed. */
    CHECK_INT(store_exec(tx, "INSERT INTO t (a, b) VALUES ($1, 'x')",
                         (store_param[]){P_INT(9), P_TEXT("unused")}, 2, NULL, &e),
              0);
    CHECK_INT(store_commit(tx, &e), 0);

    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    char *t = NULL;
    CHECK_INT(store_one_text(tx, "SELECT b FROM t WHERE b = $2 AND a = $1",
                             (store_param[]){P_INT(8), P_TEXT("eight")}, 2, &t, &e),
              0);
    CHECK_STR(t, "eight");
    free(t);
    /* Mismatched pair: a = 7 with b = 'eight' is no row. */
    CHECK_INT(store_one_text(tx, "SELECT b FROM t WHERE b = $2 AND a = $1",
                             (store_param[]){P_INT(7), P_TEXT("eight")}, 2, &t, &e),
              NX_ENOTFOUND);
    CHECK(t == NULL);
    int64_t v = 0;
    /* $1 used twice. */
    CHECK_INT(store_one_int(tx, "SELECT $1 * 10 + $1", (store_param[]){P_INT(4)}, 1, &v, &e), 0);
    CHECK_INT(v, 44);
    CHECK_INT(store_one_int(tx, "SELECT count(*) FROM t WHERE a = $1 OR a = $1 + 1",
                            (store_param[]){P_INT(7)}, 1, &v, &e),
              0);
    CHECK_INT(v, 2);
    /* $3 with two parameters: a bug, refused. */
    CHECK_INT(store_one_int(tx, "SELECT $3", (store_param[]){P_INT(1), P_INT(2)}, 2, &v, &e), NX_EINTERNAL);
    store_rollback(tx);

    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_one_int(tx, "SELECT ?", (store_param[]){P_INT(1)}, 1, &v, &e), NX_EINTERNAL);
    store_rollback(tx);
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_one_int(tx, "SELECT :a", (store_param[]){P_INT(1)}, 1, &v, &e), NX_EINTERNAL);
    store_rollback(tx);
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_one_int(tx, "SELECT $0", (store_param[]){P_INT(1)}, 1, &v, &e), NX_EINTERNAL);
    store_rollback(tx);

    /* A syntax error carries SQLite's message, an unknown table too. */
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_one_int(tx, "SELEC 1", NULL, 0, &v, &e), NX_EDB);
    CHECK(strstr(e.msg, "syntax error") != NULL);
    CHECK_STR(e.field, "");
    /* The transaction is now poisoned, as in PostgreSQL. */
    CHECK_INT(store_one_int(tx, "SELECT 1", NULL, 0, &v, &e), NX_EDB);
    CHECK_INT(store_commit(tx, &e), NX_EDB);

    /* Two statements at once belong in store_exec_script. */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO t (a) VALUES (1); INSERT INTO t (a) VALUES (2)", NULL, 0, NULL, &e),
              NX_EINTERNAL);
    store_rollback(tx);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM t"), 3);
    store_close(s);
}

static void test_types(void)
{
    store *s = open_new("types.db", 2);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c BLOB, r REAL)"), 0);
    nx_err e = {0};
    store_tx *tx;
    static const unsigned char bin[] = {'a', 0, 'b', 0, 0xff};
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    const char *none = NULL;
    CHECK_INT(store_exec(tx, "INSERT INTO t (id, a, b, c, r) VALUES ($1, $2, $3, $4, $5)",
                         (store_param[]){P_INT(1), P_ID(0), P_TEXT(none), P_BLOB(NULL, 0), P_NULL}, 5, NULL,
                         &e),
              0);
    CHECK_INT(store_exec(tx, "INSERT INTO t (id, a, b, c, r) VALUES ($1, $2, $3, $4, $5)",
                         (store_param[]){P_INT(2), P_INT(INT64_MIN), P_TEXT("暖心"), P_BLOB(bin, sizeof bin),
                                         P_REAL(2.5)},
                         5, NULL, &e),
              0);
    char empty[1] = "";
    CHECK_INT(
        store_exec(tx, "INSERT INTO t (id, a, b, c, r) VALUES ($1, $2, $3, $4, $5)",
                   (store_param[]){P_INT(3), P_INT(INT64_MAX), P_TEXT(empty), P_BLOB(bin, 0), P_REAL(-0.25)},
                   5, NULL, &e),
        0);
    CHECK_INT(store_commit(tx, &e), 0);

    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    store_rows *r;
    CHECK_INT(store_query(tx, "SELECT a, b, c, r FROM t ORDER BY id", NULL, 0, &r, &e), 0);
    CHECK_INT(store_ncols(r), 4);
    size_t len = 99;
    CHECK_INT(store_next(r), 1);
    CHECK(store_isnull(r, 0) && store_isnull(r, 1) && store_isnull(r, 2) && store_isnull(r, 3));
    CHECK_INT(store_int(r, 0), 0);
    CHECK(store_text(r, 1) == NULL);
    CHECK(store_blob(r, 2, &len) == NULL);
    CHECK_INT(len, 0);
    CHECK(store_real(r, 3) == 0.0);
    CHECK_INT(store_next(r), 1);
    CHECK_INT(store_int(r, 0), INT64_MIN);
    CHECK_STR(store_text(r, 1), "暖心");
    const unsigned char *b = store_blob(r, 2, &len);
    CHECK_INT(len, 5);
    CHECK(b && memcmp(b, bin, 5) == 0);
    CHECK(store_real(r, 3) == 2.5);
    CHECK_INT(store_next(r), 1);
    CHECK_INT(store_int(r, 0), INT64_MAX);
    CHECK(!store_isnull(r, 1));
    CHECK_STR(store_text(r, 1), "");
    CHECK(!store_isnull(r, 2)); /* an empty blob is not NULL */
    len = 99;
    CHECK(store_blob(r, 2, &len) != NULL);
    CHECK_INT(len, 0);
    CHECK(store_real(r, 3) == -0.25);
    CHECK_INT(store_next(r), 0);
    CHECK_INT(store_next(r), 0); /* stays at the end, does not restart */
    /* A second statement while the result is open is refused. */
    int64_t v;
    CHECK_INT(store_one_int(tx, "SELECT 1", NULL, 0, &v, &e), NX_EINTERNAL);
    store_rows_free(r);
    store_rows_free(NULL);
    CHECK_INT(store_one_int(tx, "SELECT count(*) FROM t WHERE c IS NULL", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 1);
    char *t = (char *)"x";
    CHECK_INT(store_one_text(tx, "SELECT b FROM t WHERE id = 1", NULL, 0, &t, &e), 0);
    CHECK(t == NULL);
    CHECK_INT(store_one_int(tx, "SELECT a FROM t WHERE id = 1", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 0);
    CHECK_INT(store_commit(tx, &e), 0);
    store_close(s);
}

static void test_errors_and_rollback(void)
{
    store *s = open_new("errors.db", 2);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE NOT NULL);"
                        "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER NOT NULL REFERENCES p(id),"
                        " n INTEGER CHECK (n >= 0))"),
              0);
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO p (code) VALUES ('A')", NULL, 0, NULL, &e), 0); /* id 1 */
    CHECK_INT(store_commit(tx, &e), 0);

    /* Unique violation. */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(
        store_exec(tx, "INSERT INTO p (id, code) VALUES (2, $1)", (store_param[]){P_TEXT("A")}, 1, NULL, &e),
        NX_ECONFLICT);
    CHECK_STR(e.msg, "数据重复");
    CHECK(strstr(e.msg, "A") == NULL);
    CHECK_INT(store_commit(tx, &e), NX_ECONFLICT); /* poisoned: rolled back */
    /* Primary key violation. */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO p (id, code) VALUES (1, 'B')", NULL, 0, NULL, &e), NX_ECONFLICT);
    store_rollback(tx);
    /* Foreign key violation (foreign_keys=ON). */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO c (p_id, n) VALUES (42, 1)", NULL, 0, NULL, &e), NX_ECONFLICT);
    CHECK_STR(e.msg, "关联数据不存在或仍被引用");
    store_rollback(tx);
    /* CHECK → NX_EINVAL, NOT NULL → NX_EDB (a bug in the caller). */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO c (p_id, n) VALUES (1, -1)", NULL, 0, NULL, &e), NX_EINVAL);
    store_rollback(tx);
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO p (id) VALUES (5)", NULL, 0, NULL, &e), NX_EDB);
    store_rollback(tx);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM p"), 1);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM c"), 0);

    /* Rollback leaves nothing, and the tx's changes are visible inside it. */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    int64_t ch = 0, v = 0;
    CHECK_INT(store_exec(tx, "INSERT INTO p (id, code) VALUES (2, 'B'), (3, 'C')", NULL, 0, &ch, &e), 0);
    CHECK_INT(ch, 2);
    CHECK_INT(store_exec(tx, "INSERT INTO c (p_id, n) VALUES (2, 1)", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_one_int(tx, "SELECT count(*) FROM p", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 3);
    store_rollback(tx);
    store_rollback(NULL);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM p"), 1);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM c"), 0);

    /* RETURNING through store_query in a write transaction. */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_one_int(tx, "INSERT INTO p (code) VALUES ($1) RETURNING id", (store_param[]){P_TEXT("Z")},
                            1, &v, &e),
              0);
    CHECK_INT(v, 2);
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM p WHERE code = 'Z'"), 1);

    /* A read transaction cannot write. */
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO p (code) VALUES ('R')", NULL, 0, NULL, &e), NX_EINTERNAL);
    store_rollback(tx);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM p WHERE code = 'R'"), 0);

    /* A script that ends the transaction is refused. */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec_script(tx, "INSERT INTO p (code) VALUES ('S'); COMMIT;", &e), NX_EINTERNAL);
    store_rollback(tx);

    /* Nested write transactions on one thread: an error, not a deadlock. */
    store_tx *tx2 = NULL;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_begin(s, STORE_WRITE, &tx2, &e), NX_EINTERNAL);
    CHECK(tx2 == NULL);
    store_rollback(tx);
    store_close(s);
}

/* A failure inside a savepoint is undone by rolling back to it; the transaction goes on and its
 * work before and after the savepoint commits. */
static void test_savepoints(void)
{
    store *s = open_new("savepoints.db", 1);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE NOT NULL)"), 0);
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO p (code) VALUES ('A')", NULL, 0, NULL, &e), 0);
    /* kept */
    CHECK_INT(store_savepoint(tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO p (code) VALUES ('B')", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_savepoint_release(tx, &e), 0);
    /* failed and undone, including the row written before the failure */
    CHECK_INT(store_savepoint(tx, &e), 0);
    CHECK_INT(store_savepoint(tx, &e), NX_EINTERNAL); /* not nested */
    CHECK_INT(store_exec(tx, "INSERT INTO p (code) VALUES ('C')", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO p (code) VALUES ('A')", NULL, 0, NULL, &e), NX_ECONFLICT);
    CHECK_INT(store_exec(tx, "INSERT INTO p (code) VALUES ('D')", NULL, 0, NULL, &e), NX_ECONFLICT); /* poisoned */
    CHECK_INT(store_savepoint_rollback(tx, &e), 0);
    /* the transaction goes on */
    CHECK_INT(store_exec(tx, "INSERT INTO p (code) VALUES ('E')", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_savepoint_release(tx, &e), NX_EINTERNAL); /* none open */
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM p"), 3);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM p WHERE code IN ('A', 'B', 'E')"), 3);
    /* not in a read transaction */
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_savepoint(tx, &e), NX_EINTERNAL);
    store_rollback(tx);
    store_close(s);
}

static void test_snapshot_and_pool(void)
{
    char p[512];
    tb_url(p, sizeof p, "snap.db");
    store_options o = {.readers = 2, .busy_ms = 150, .create = true, .pool = 2};
    store *s = NULL;
    nx_err e = {0};
    CHECK_INT(store_open(p, &o, &s, &e), 0);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE t (a INTEGER)"), 0);
    store_tx *rd, *rd2, *rd3 = NULL, *wr;
    int64_t v = -1;
    CHECK_INT(store_begin(s, STORE_READ, &rd, &e), 0);
    /* The write commits after the read transaction began and before it reads anything. */
    CHECK_INT(store_begin(s, STORE_WRITE, &wr, &e), 0);
    CHECK_INT(store_exec(wr, "INSERT INTO t (a) VALUES (1)", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_commit(wr, &e), 0);
    CHECK_INT(store_one_int(rd, "SELECT count(*) FROM t", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 0);
    CHECK_INT(store_begin(s, STORE_READ, &rd2, &e), 0);
    CHECK_INT(store_one_int(rd2, "SELECT count(*) FROM t", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 1);
    /* Both readers taken: the third waits busy_ms, then NX_EBUSY. */
    int64_t t0 = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_INT(store_begin(s, STORE_READ, &rd3, &e), NX_EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &b);
    t0 = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    CHECK(t0 >= 140 && t0 < 2000);
    CHECK(rd3 == NULL);
    CHECK_STR(e.msg, "数据库繁忙，请稍后重试");
    CHECK_INT(store_one_int(rd, "SELECT count(*) FROM t", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 0); /* still its own snapshot */
    CHECK_INT(store_commit(rd, &e), 0);
    CHECK_INT(store_commit(rd2, &e), 0);
    CHECK_INT(store_begin(s, STORE_READ, &rd3, &e), 0);
    store_rollback(rd3);
    store_close(s);
}

/* STORE_READ_DEFERRED takes its snapshot at the first statement (on PostgreSQL BEGIN travels with
 * it), keeps it for the rest of the transaction, cannot write; the first statement of a write
 * transaction (BEGIN deferred too) fails and rolls back like any other; a transaction that ran
 * nothing commits and rolls back; a connection ended without waiting is clean for the next user. */
static void test_deferred(void)
{
    store *s = open_new("deferred.db", 2);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE d (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE)"), 0);
    nx_err e = {0};
    store_tx *rd, *wr;
    int64_t v = -1;
    CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &rd, &e), 0);
    CHECK_INT(exec_w(s, "INSERT INTO d (v) VALUES (1)"), 0); /* before the first statement: seen */
    CHECK_INT(store_one_int(rd, "SELECT count(*) FROM d", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 1);
    CHECK_INT(exec_w(s, "INSERT INTO d (v) VALUES (2)"), 0); /* after it: not seen */
    CHECK_INT(store_one_int(rd, "SELECT count(*) FROM d", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 1);
    CHECK(store_exec(rd, "INSERT INTO d (v) VALUES (3)", NULL, 0, NULL, &e) != 0);
    store_rollback(rd);
    /* the first statement of a write fails: the transaction only rolls back, nothing is kept */
    CHECK_INT(store_begin(s, STORE_WRITE, &wr, &e), 0);
    CHECK_INT(store_exec(wr, "INSERT INTO d (v) VALUES (1)", NULL, 0, NULL, &e), NX_ECONFLICT);
    CHECK(store_exec(wr, "INSERT INTO d (v) VALUES (4)", NULL, 0, NULL, &e) != 0);
    CHECK(store_commit(wr, &e) != 0);
    /* a failed first query of a deferred read */
    CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &rd, &e), 0);
    CHECK(store_one_int(rd, "SELECT count(*) FROM no_such_table", NULL, 0, &v, &e) != 0);
    store_rollback(rd);
    /* nothing run: commit and rollback both end it */
    CHECK_INT(store_begin(s, STORE_WRITE, &wr, &e), 0);
    CHECK_INT(store_commit(wr, &e), 0);
    CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &rd, &e), 0);
    CHECK_INT(store_commit(rd, &e), 0);
    CHECK_INT(store_begin(s, STORE_WRITE_LAZY, &wr, &e), 0);
    CHECK_INT(store_exec(wr, "INSERT INTO d (v) VALUES (5)", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_commit(wr, &e), 0);
    /* rows of several statements of one deferred read, each read to the end or dropped early */
    CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &rd, &e), 0);
    for (int i = 0; i < 3; i++) {
        store_rows *r;
        CHECK_INT(store_query(rd, "SELECT v FROM d ORDER BY v", NULL, 0, &r, &e), 0);
        int n = 0;
        while (store_row(r) && (i != 1 || n < 1))
            n++;
        CHECK_INT(store_rows_end(r, &e), 0);
        CHECK_INT(n, i == 1 ? 1 : 3);
    }
    CHECK_INT(store_commit(rd, &e), 0);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM d"), 3);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM d WHERE v = 4"), 0);
    store_close(s);
}

/* The count of rows of q (SELECT v FROM a WHERE v >= $1 …) read through tx, or -1 on an error. */
static int64_t ahead_count(store_tx *tx, const char *q, int64_t min)
{
    nx_err e = {0};
    store_rows *r;
    store_param p[] = {P_INT(min)};
    if (store_query(tx, q, p, 1, &r, &e))
        return -1;
    int64_t n = 0;
    while (store_row(r))
        n++;
    return store_rows_end(r, &e) ? -1 : n;
}

/* store_query_ahead: the announced query's answer is the one a plain store_query gives, whether it
 * comes right after the next statement (read to the end or dropped early) or not at all; another
 * query or other values next, or the end of the transaction, drop it; `last` ends a read in the same
 * round trip and leaves the connection clean; a failed first statement fails only the transaction;
 * a write transaction may announce too. Every connection is reused afterwards (2 of them). */
static void test_query_ahead(void)
{
    store *s = open_new("ahead.db", 2);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE a (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"), 0);
    CHECK_INT(exec_w(s, "INSERT INTO a (v) VALUES (1), (2), (3), (4)"), 0);
    const char *q1 = "SELECT v FROM a WHERE v >= $1 ORDER BY v", *q2 = "SELECT v, v * 2 FROM a WHERE v >= $1";
    store_param p1[] = {P_INT(2)};
    nx_err e = {0};
    for (int round = 0; round < 3; round++) {
        store_tx *tx;
        /* right after the next statement, with and without `last` */
        for (int last = 0; last < 2; last++) {
            CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &tx, &e), 0);
            CHECK_INT(store_query_ahead(tx, q2, p1, 1, last, &e), 0);
            CHECK_INT(ahead_count(tx, q1, 3), 2);
            CHECK_INT(ahead_count(tx, q2, 2), 3);
            store_rollback(tx);
        }
        /* the next statement's rows dropped after one row, then the announced one */
        CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &tx, &e), 0);
        CHECK_INT(store_query_ahead(tx, q2, p1, 1, true, &e), 0);
        store_rows *r;
        CHECK_INT(store_query(tx, q1, p1, 1, &r, &e), 0);
        CHECK(store_row(r));
        CHECK_INT(store_int(r, 0), 2);
        CHECK_INT(store_rows_end(r, &e), 0);
        CHECK_INT(store_query(tx, q2, p1, 1, &r, &e), 0);
        CHECK(store_row(r));
        CHECK_INT(store_int(r, 1), 4);
        store_rows_free(r); /* dropped early too */
        CHECK_INT(store_commit(tx, &e), 0);
        /* other values next: a fresh answer to them */
        CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &tx, &e), 0);
        CHECK_INT(store_query_ahead(tx, q2, p1, 1, false, &e), 0);
        CHECK_INT(ahead_count(tx, q1, 1), 4);
        CHECK_INT(ahead_count(tx, q2, 4), 1);
        CHECK_INT(ahead_count(tx, q1, 4), 1);
        store_rollback(tx);
        /* another query next: the announced answer is dropped */
        CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
        CHECK_INT(store_query_ahead(tx, q2, p1, 1, false, &e), 0);
        CHECK_INT(ahead_count(tx, q1, 1), 4);
        CHECK_INT(ahead_count(tx, q1, 3), 2);
        CHECK_INT(ahead_count(tx, q2, 2), 3);
        store_rollback(tx);
        /* never taken: the end of the transaction drops it */
        CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &tx, &e), 0);
        CHECK_INT(store_query_ahead(tx, q2, p1, 1, true, &e), 0);
        CHECK_INT(ahead_count(tx, q1, 1), 4);
        store_rollback(tx);
        /* announced, nothing run */
        CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &tx, &e), 0);
        CHECK_INT(store_query_ahead(tx, q2, p1, 1, true, &e), 0);
        CHECK_INT(store_commit(tx, &e), 0);
        /* the next statement fails: the transaction fails, and only rolls back */
        CHECK_INT(store_begin(s, STORE_READ_DEFERRED, &tx, &e), 0);
        CHECK_INT(store_query_ahead(tx, q2, p1, 1, true, &e), 0);
        CHECK(ahead_count(tx, "SELECT v FROM no_such_table WHERE v >= $1", 1) < 0);
        CHECK(ahead_count(tx, q2, 2) < 0);
        store_rollback(tx);
        /* a write: its statements stay in the transaction, which commits */
        CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
        CHECK_INT(store_query_ahead(tx, q2, p1, 1, true, &e), 0);
        CHECK_INT(store_exec(tx, "INSERT INTO a (v) VALUES (5)", NULL, 0, NULL, &e), 0);
        CHECK_INT(ahead_count(tx, q2, 2), 4);
        CHECK_INT(store_exec(tx, "DELETE FROM a WHERE v = 5", NULL, 0, NULL, &e), 0);
        CHECK_INT(store_commit(tx, &e), 0);
    }
    CHECK_INT(count_rows(s, "SELECT count(*) FROM a"), 4);
    store_close(s);
}

/* Eight readers check an invariant while one writer keeps changing the table: every write inserts
 * +k and -k in one transaction, so any snapshot has an even count and a zero sum. */
typedef struct {
    store *s;
    int iterations;
    int bad;
    int errors;
    int64_t max_seen;
} rd_arg;

static atomic_bool writer_finished;

static void *reader_main(void *p)
{
    rd_arg *a = p;
    /* at least `iterations` reads, and on until the writer is done (a busy machine may start the
     * writer late), so that readers do see writes */
    for (int i = 0; i < a->iterations || (!atomic_load(&writer_finished) && i < 200000); i++) {
        store_tx *tx;
        nx_err e = {0};
        if (store_begin(a->s, STORE_READ, &tx, &e) != 0) {
            a->errors++;
            continue;
        }
        store_rows *r;
        if (store_query(tx, "SELECT count(*), coalesce(sum(v), 0) FROM t", NULL, 0, &r, &e) != 0 ||
            store_next(r) != 1) {
            a->errors++;
            store_rollback(tx);
            continue;
        }
        int64_t n = store_int(r, 0), sum = store_int(r, 1);
        store_rows_free(r);
        if (n % 2 != 0 || sum != 0)
            a->bad++;
        if (n > a->max_seen)
            a->max_seen = n;
        if (store_commit(tx, &e) != 0)
            a->errors++;
    }
    return NULL;
}

static void *writer_main(void *p)
{
    rd_arg *a = p;
    for (int i = 1; i <= a->iterations; i++) {
        store_tx *tx;
        nx_err e = {0};
        if (store_begin(a->s, STORE_WRITE, &tx, &e) != 0) {
            a->errors++;
            continue;
        }
        if (store_exec(tx, "INSERT INTO t (v) VALUES ($1)", (store_param[]){P_INT(i)}, 1, NULL, &e) != 0 ||
            store_exec(tx, "INSERT INTO t (v) VALUES (-$1)", (store_param[]){P_INT(i)}, 1, NULL, &e) != 0) {
            a->errors++;
            store_rollback(tx);
            continue;
        }
        if (store_commit(tx, &e) != 0)
            a->errors++;
    }
    atomic_store(&writer_finished, true);
    return NULL;
}

static void test_threads(void)
{
    store *s = open_new("threads.db", 4);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"), 0);
    pthread_t th[9];
    rd_arg args[9];
    atomic_store(&writer_finished, false);
    for (int i = 0; i < 9; i++) {
        args[i] = (rd_arg){.s = s, .iterations = i == 0 ? 150 : 400};
        pthread_create(&th[i], NULL, i == 0 ? writer_main : reader_main, &args[i]);
    }
    int bad = 0, errors = 0;
    int64_t seen = 0;
    for (int i = 0; i < 9; i++) {
        pthread_join(th[i], NULL);
        bad += args[i].bad;
        errors += args[i].errors;
        if (args[i].max_seen > seen)
            seen = args[i].max_seen;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(errors, 0);
    CHECK(seen > 0); /* readers did see writes */
    CHECK_INT(count_rows(s, "SELECT count(*) FROM t"), 300);
    CHECK_INT(count_rows(s, "SELECT sum(v) FROM t"), 0);
    store_close(s);
}

static void test_stmt_cache(void)
{
    store *s = open_new("cache.db", 1);
    if (s == NULL)
        return;
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    int64_t v = 0, total = 0;
    for (int i = 0; i < 5000; i++) {
        if (store_one_int(tx, "SELECT $1 + 1", (store_param[]){P_INT(i)}, 1, &v, &e) != 0)
            break;
        total += v;
    }
    CHECK_INT(total, 5000LL * 5001 / 2);
    /* More distinct statements than the cache holds: evictions, right answers, no leak (ASan). */
    char sql[64];
    int right = 0;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 700; i++) {
            snprintf(sql, sizeof sql, "SELECT %d + $1", i);
            if (store_one_int(tx, sql, (store_param[]){P_INT(round)}, 1, &v, &e) == 0 && v == i + round)
                right++;
        }
    }
    CHECK_INT(right, 1400);
    CHECK_INT(store_commit(tx, &e), 0);
    store_close(s);
}

/* "B" is replaced by the backend under test and "O" by the other one (mig_fix), so each list
 * carries an entry the runner must ignore. */
static struct nx_migration mig_v2[] = {
    {"O", 1, "001_other", "THIS IS NOT FOR THIS BACKEND"},
    {"B", 1, "001_a", "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT); INSERT INTO a (x) VALUES ('one');"},
    {"B", 2, "002_b", "CREATE TABLE b (id INTEGER PRIMARY KEY); ALTER TABLE a ADD COLUMN y INTEGER;"},
    {0, 0, 0, 0},
};
static struct nx_migration mig_v1[] = {
    {"B", 1, "001_a", "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT); INSERT INTO a (x) VALUES ('one');"},
    {0, 0, 0, 0},
};
static struct nx_migration mig_bad3[] = {
    {"B", 1, "001_a", "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT); INSERT INTO a (x) VALUES ('one');"},
    {"B", 2, "002_b", "CREATE TABLE b (id INTEGER PRIMARY KEY); ALTER TABLE a ADD COLUMN y INTEGER;"},
    {"B", 3, "003_c", "CREATE TABLE c (id INTEGER); SELEC oops;"},
    {0, 0, 0, 0},
};
static struct nx_migration mig_gap[] = {
    {"B", 1, "001_a", "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT); INSERT INTO a (x) VALUES ('one');"},
    {"B", 2, "002_b", "CREATE TABLE b (id INTEGER PRIMARY KEY); ALTER TABLE a ADD COLUMN y INTEGER;"},
    {"B", 4, "004_d", "CREATE TABLE d (id INTEGER PRIMARY KEY);"},
    {0, 0, 0, 0},
};
static struct nx_migration mig_skip2[] = {
    {"B", 1, "001_a", "CREATE TABLE a (id INTEGER PRIMARY KEY, x TEXT); INSERT INTO a (x) VALUES ('one');"},
    {"B", 4, "004_d", "CREATE TABLE d (id INTEGER PRIMARY KEY);"},
    {0, 0, 0, 0},
};
static struct nx_migration mig_unsorted[] = {
    {"B", 2, "002_b", "SELECT 1;"},
    {"B", 1, "001_a", "SELECT 1;"},
    {0, 0, 0, 0},
};

/* Point the lists at the backend under test, with its DDL spelling (kept across runs). */
static void mig_fix(void)
{
    static char sqls[24][512];
    static const char *orig[24];
    static bool saved;
    struct nx_migration *lists[] = {mig_v2, mig_v1, mig_bad3, mig_unsorted, mig_gap, mig_skip2};
    int k = 0;
    for (int l = 0; l < 6; l++) {
        for (struct nx_migration *m = lists[l]; m->backend; m++, k++) {
            if (!saved)
                orig[k] = m->sql;
            if (strcmp(m->backend, "B") == 0 || strcmp(m->backend, "O") == 0 ||
                strcmp(m->backend, "sqlite") == 0 || strcmp(m->backend, "postgres") == 0) {
                bool is_other = strcmp(m->backend, "O") == 0 || strcmp(m->name, "001_other") == 0;
                m->backend = is_other ? tb_other_backend() : tb_backend();
            }
            snprintf(sqls[k], sizeof sqls[0], "%s", tb_sql(orig[k]));
            m->sql = sqls[k];
        }
    }
    saved = true;
}

static int64_t count_tables(store *s, const char *name)
{
    store_tx *tx;
    nx_err e = {0};
    int64_t n = -1;
    if (store_begin(s, STORE_READ, &tx, &e) != 0)
        return -1;
    if (store_one_int(tx, tb_count_tables_sql(), (store_param[]){P_TEXT(name)}, 1, &n, &e) != 0)
        n = -1;
    store_rollback(tx);
    return n;
}

static void test_migrations(void)
{
    store *s = open_new("mig.db", 2);
    if (s == NULL)
        return;
    nx_err e = {0};
    int applied = -1, v = -1;
    mig_fix();
    CHECK_INT(store_migrate_list(s, mig_unsorted, &applied, &e), NX_EINTERNAL);
    CHECK_INT(store_migrate_list(s, mig_v2, &applied, &e), 0);
    CHECK_INT(applied, 2);
    CHECK_INT(store_schema_version(s, &v, &e), 0);
    CHECK_INT(v, 2);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM schema_migrations"), 2);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM schema_migrations WHERE version = 2 AND name = '002_b'"),
              1);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM a WHERE y IS NULL"), 1);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM nx_meta WHERE key = 'app' AND value = 'nuanxin'"), 1);
    CHECK_INT(count_rows(s,
                         "SELECT count(*) FROM nx_meta WHERE key = 'created_at' AND CAST(value AS BIGINT) > "
                         "1600000000000"),
              1);
    /* Idempotent. */
    CHECK_INT(store_migrate_list(s, mig_v2, &applied, &e), 0);
    CHECK_INT(applied, 0);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM a"), 1);
    /* An older binary refuses the newer database. */
    CHECK_INT(store_migrate_list(s, mig_v1, &applied, &e), NX_EUNSUPP);
    CHECK_STR(e.msg, "数据库版本 2 高于本程序支持的 1，请升级 nuanxin");
    /* A failing migration leaves the database at the previous version, with nothing half done. */
    CHECK_INT(store_migrate_list(s, mig_bad3, &applied, &e), NX_EDB);
    CHECK_INT(applied, 0);
    CHECK_INT(store_schema_version(s, &v, &e), 0);
    CHECK_INT(v, 2);
    CHECK_INT(count_tables(s, "c"), 0);
    CHECK_INT(count_tables(s, "b"), 1);
    store_close(s);

    /* A fresh database in steps: v1 then v2 applies only 002. */
    s = open_new("mig2.db", 1);
    if (s == NULL)
        return;
    CHECK_INT(store_migrate_list(s, mig_v1, &applied, &e), 0);
    CHECK_INT(applied, 1);
    CHECK_INT(store_migrate_list(s, mig_v2, NULL, &e), 0);
    CHECK_INT(store_schema_version(s, &v, &e), 0);
    CHECK_INT(v, 2);
    store_close(s);

    /* An upgrade over several versions that fails at the last one changes nothing at all: the
     * earlier pending migrations of the same run are rolled back with it (one transaction). */
    s = open_new("mig3.db", 1);
    if (s == NULL)
        return;
    CHECK_INT(store_migrate_list(s, mig_v1, &applied, &e), 0);
    CHECK_INT(store_migrate_list(s, mig_bad3, &applied, &e), NX_EDB);
    CHECK_INT(applied, 0);
    CHECK_INT(store_schema_version(s, &v, &e), 0);
    CHECK_INT(v, 1);
    CHECK_INT(count_tables(s, "b"), 0);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM a"), 1);
    /* A migration numbered below the newest one applied, added later (two branches merged), is
     * applied, not skipped. */
    CHECK_INT(store_migrate_list(s, mig_gap, &applied, &e), 0);
    CHECK_INT(applied, 2);
    CHECK_INT(count_tables(s, "b"), 1);
    CHECK_INT(count_tables(s, "d"), 1);
    store_close(s);
    s = open_new("mig4.db", 1);
    if (s == NULL)
        return;
    CHECK_INT(store_migrate_list(s, mig_v1, &applied, &e), 0);
    CHECK_INT(store_migrate_list(s, mig_skip2, &applied, &e), 0);
    CHECK_INT(applied, 1);
    CHECK_INT(store_migrate_list(s, mig_gap, &applied, &e), 0);
    CHECK_INT(applied, 1); /* 002, which 004 had jumped over */
    CHECK_INT(count_tables(s, "b"), 1);
    store_close(s);

    /* The real, embedded migrations apply to an empty database and are idempotent. */
    s = open_new("mig_real.db", 1);
    if (s == NULL)
        return;
    /* Numbers may have gaps (each change takes the number it was given), so every migration of
     * the backend applies and the version is the newest number. */
    int newest = 0, count = 0;
    for (const struct nx_migration *m = nx_migrations; m->backend; m++)
        if (strcmp(m->backend, tb_backend()) == 0) {
            newest = m->number;
            count++;
        }
    CHECK(newest >= 1);
    CHECK_INT(store_migrate(s, &applied, &e), 0);
    if (applied != count)
        fprintf(stderr, "store_migrate: %s\n", e.msg);
    CHECK_INT(applied, count);
    CHECK_INT(store_migrate(s, &applied, &e), 0);
    CHECK_INT(applied, 0);
    CHECK_INT(store_schema_version(s, &v, &e), 0);
    CHECK_INT(v, newest);
    store_close(s);
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void test_backup_restore(void)
{
    char db[512], bak[512], p[512];
    path_in(db, sizeof db, "live.db");
    path_in(bak, sizeof bak, "live.bak");
    store *s = open_new("live.db", 2);
    if (s == NULL)
        return;
    nx_err e = {0};
    CHECK_INT(store_migrate_list(s, mig_v2, NULL, &e), 0);
    CHECK_INT(exec_w(s, "CREATE TABLE big (id INTEGER PRIMARY KEY, pad TEXT);"
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
                        " INSERT INTO big (pad) SELECT printf('%0200d', i) FROM n;"),
              0);
    CHECK_INT(store_backup(s, bak, &e), 0);
    struct stat sb;
    CHECK_INT(stat(bak, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    path_in(p, sizeof p, "live.bak-wal");
    CHECK(access(p, F_OK) != 0); /* a single self-contained file */
    /* Never overwrites. */
    CHECK_INT(store_backup(s, bak, &e), NX_ECONFLICT);
    /* Changes after the backup. */
    CHECK_INT(exec_w(s, "DELETE FROM big WHERE id > 10; INSERT INTO a (x) VALUES ('after');"), 0);
    /* The server is running: restore refuses. */
    CHECK_INT(store_restore_max(db, bak, 2, &e), NX_EBUSY);
    CHECK_STR(e.msg, "数据库正在使用，请先停止 nuanxin serve");
    store_close(s);

    /* This binary only knows version 1: refuses a version-2 backup. */
    CHECK_INT(store_restore_max(db, bak, 1, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "高于本程序支持的 1") != NULL);
    CHECK_INT(store_restore_max(db, bak, 2, &e), 0);
    path_in(p, sizeof p, "live.db.restore-tmp");
    CHECK(access(p, F_OK) != 0);
    CHECK_INT(stat(db, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    CHECK_INT(store_open(db, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(count_rows(s, "SELECT count(*) FROM big"), 2000);
        CHECK_INT(count_rows(s, "SELECT count(*) FROM a"), 1);
        int v = 0;
        CHECK_INT(store_schema_version(s, &v, &e), 0);
        CHECK_INT(v, 2);
        CHECK_INT(store_check(s, &e), 0);
        store_close(s);
    }

    /* Not an SQLite file. */
    path_in(p, sizeof p, "notes.txt");
    CHECK_INT(write_file(p, "hello, this is not a database at all.\n", 38), 0);
    CHECK_INT(store_restore_max(db, p, 99, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "不是 nuanxin 备份文件") != NULL);
    path_in(p, sizeof p, "nothing-here.bak");
    CHECK_INT(store_restore_max(db, p, 99, &e), NX_ENOTFOUND);

    /* An SQLite file without nuanxin's marker. */
    store *o = open_new("other.db", 1);
    if (o) {
        CHECK_INT(exec_w(o, "CREATE TABLE whatever (x)"), 0);
        path_in(p, sizeof p, "other.bak");
        CHECK_INT(store_backup(o, p, &e), 0);
        store_close(o);
        CHECK_INT(store_restore_max(db, p, 99, &e), NX_EINVAL);
        CHECK(strstr(e.msg, "不是 nuanxin 备份文件") != NULL);
    }

    /* A corrupted backup: garbage over some pages in the middle of the file. */
    char bak2[512];
    path_in(bak2, sizeof bak2, "corrupt.bak");
    CHECK_INT(store_open(db, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(store_backup(s, bak2, &e), 0);
        store_close(s);
    }
    int fd = open(bak2, O_RDWR);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(fstat(fd, &sb) == 0 && sb.st_size > 40 * 4096);
        unsigned char junk[4096 * 8];
        for (size_t i = 0; i < sizeof junk; i++)
            junk[i] = (unsigned char)(i * 131 + 7);
        CHECK_INT(pwrite(fd, junk, sizeof junk, 4096 * 20), (long long)sizeof junk);
        close(fd);
    }
    CHECK_INT(store_restore_max(db, bak2, 99, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "损坏") != NULL);
    /* The refused restores left the database alone. */
    CHECK_INT(store_open(db, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(count_rows(s, "SELECT count(*) FROM big"), 2000);
        store_close(s);
    }
    /* Restoring over a damaged database (the usual reason to restore). */
    path_in(p, sizeof p, "damaged.db");
    CHECK_INT(write_file(p, "garbage garbage garbage garbage garbage garbage garbage", 55), 0);
    CHECK_INT(store_restore_max(p, bak, 2, &e), 0);
    CHECK_INT(store_open(p, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(count_rows(s, "SELECT count(*) FROM big"), 2000);
        store_close(s);
    }
    /* Restoring onto a path with no database yet (a new machine). */
    path_in(p, sizeof p, "fresh.db");
    CHECK_INT(store_restore_max(p, bak, 2, &e), 0);
    CHECK_INT(store_open(p, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(count_rows(s, "SELECT count(*) FROM a"), 1);
        store_close(s);
    }
}

/* An acknowledged write survives kill -9; an unfinished one leaves no trace. */
static void test_kill9(void)
{
    char p[512];
    tb_url(p, sizeof p, "kill9.db");
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        store_options o = {.readers = 1, .busy_ms = 1000, .create = true, .pool = 2};
        store *s = NULL;
        nx_err e = {0};
        store_tx *tx;
        if (store_open(p, &o, &s, &e) || exec_w(s, "CREATE TABLE t (a INTEGER)") ||
            store_begin(s, STORE_WRITE, &tx, &e) ||
            store_exec(tx, "INSERT INTO t (a) VALUES (1)", NULL, 0, NULL, &e) || store_commit(tx, &e) ||
            store_begin(s, STORE_WRITE, &tx, &e) ||
            store_exec(tx, "INSERT INTO t (a) VALUES (2)", NULL, 0, NULL, &e))
            _exit(2);
        if (write(fds[1], "k", 1) != 1)
            _exit(3);
        for (;;)
            pause(); /* killed here, inside the second transaction */
    }
    close(fds[1]);
    CHECK(pid > 0);
    char c = 0;
    CHECK_INT(read(fds[0], &c, 1), 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    store *s = NULL;
    nx_err e = {0};
    CHECK_INT(store_open(p, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(count_rows(s, "SELECT count(*) FROM t WHERE a = 1"), 1);
        CHECK_INT(count_rows(s, "SELECT count(*) FROM t WHERE a = 2"), 0);
        CHECK_INT(store_check(s, &e), 0);
        store_close(s);
    }
}

/* PostgreSQL only: open errors, backup with pg_dump and restore with pg_restore, and the
 * reconnect after the server closed every connection (pg_terminate_backend stands in for a restart). */
static void test_pg_open(void)
{
    nx_err e = {0};
    store *s = NULL;
    char url[512];
    tb_pg_url(url, sizeof url, "nxt_no_such_database");
    CHECK_INT(store_open(url, NULL, &s, &e), NX_ENOTFOUND);
    CHECK(s == NULL);
    s = open_new("pgopen", 2);
    if (s == NULL)
        return;
    CHECK_STR(store_backend(s), "postgres");
    CHECK_INT(store_check(s, &e), 0);
    int v = -1;
    CHECK_INT(store_schema_version(s, &v, &e), 0);
    CHECK_INT(v, 0);
    /* Byte-wise text order, as SQLite's (the schema uses COLLATE "C"; here the test's own). */
    CHECK_INT(exec_w(s, "CREATE TABLE w (t TEXT COLLATE \"C\")"), 0);
    CHECK_INT(exec_w(s, "INSERT INTO w VALUES ('b'), ('B'), ('a'), ('建国'), ('建')"), 0);
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    int64_t n = 0;
    /* the prefix range scan of the suffix index: t >= $1 AND t < $1 || U+10FFFF */
    CHECK_INT(store_one_int(tx, "SELECT count(*) FROM w WHERE t >= $1 AND t < $1 || '\xf4\x8f\xbf\xbf'",
                            (store_param[]){P_TEXT("建")}, 1, &n, &e),
              0);
    CHECK_INT(n, 2);
    char *first = NULL;
    CHECK_INT(store_one_text(tx, "SELECT t FROM w ORDER BY t LIMIT 1", NULL, 0, &first, &e), 0);
    CHECK_STR(first, "B");
    free(first);
    /* booleans read as integers */
    CHECK_INT(store_one_int(tx, "SELECT 2 > 1", NULL, 0, &n, &e), 0);
    CHECK_INT(n, 1);
    store_rollback(tx);

    /* Every connection of the pool is cut; the next transactions reconnect by themselves. */
    store_close(s);
    s = open_new("pgopen", 2);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE t (a INTEGER)"), 0);
    CHECK_INT(exec_w(s, "INSERT INTO t VALUES (1)"), 0);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'nxt_%d_pgopen'"
             " AND pid <> pg_backend_pid()",
             (int)getpid());
    PGconn *db = PQconnectdb(tb_pgbase);
    PQclear(PQexec(db, sql));
    PQfinish(db);
    usleep(100000);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM t"), 1);
    CHECK_INT(exec_w(s, "INSERT INTO t VALUES (2)"), 0);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM t"), 2);
    /* Cut in the middle of a transaction: that statement fails with NX_EBUSY (HTTP 503). */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    db = PQconnectdb(tb_pgbase);
    PQclear(PQexec(db, sql));
    PQfinish(db);
    usleep(100000);
    CHECK_INT(store_exec(tx, "INSERT INTO t VALUES (3)", NULL, 0, NULL, &e), NX_EBUSY);
    CHECK_INT(store_commit(tx, &e), NX_EBUSY);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM t"), 2);
    store_close(s);
}

static void test_pg_backup_restore(void)
{
    char db[512], bak[512], p[512];
    path_in(bak, sizeof bak, "pg.dump");
    store *s = open_new("pglive", 2);
    tb_url(db, sizeof db, "pgfresh"); /* a second, empty database to restore into */
    if (s == NULL)
        return;
    nx_err e = {0};
    mig_fix();
    CHECK_INT(store_migrate_list(s, mig_v2, NULL, &e), 0);
    CHECK_INT(exec_w(s, "CREATE TABLE big (id INTEGER PRIMARY KEY, pad TEXT, bin BLOB);"
                        "INSERT INTO big (pad, bin) SELECT lpad(i::text, 200, '0'), '\\x00ff'::bytea"
                        " FROM generate_series(1, 2000) AS i;"),
              0);
    CHECK_INT(store_backup(s, bak, &e), 0);
    struct stat sb;
    CHECK_INT(stat(bak, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    CHECK_INT(store_backup(s, bak, &e), NX_ECONFLICT); /* never overwrites */
    CHECK_INT(exec_w(s, "DELETE FROM big WHERE id > 10; INSERT INTO a (x) VALUES ('after');"), 0);
    /* restore into the live database while it is open: refused */
    char liveurl[512], name[64];
    snprintf(name, sizeof name, "nxt_%d_pglive", (int)getpid());
    tb_pg_url(liveurl, sizeof liveurl, name);
    CHECK_INT(store_restore_max(liveurl, bak, 2, &e), NX_EBUSY);
    store_close(s);
    CHECK_INT(store_restore_max(liveurl, bak, 1, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "高于本程序支持的 1") != NULL);
    CHECK_INT(store_restore_max(liveurl, bak, 2, &e), 0);
    CHECK_INT(store_open(liveurl, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(count_rows(s, "SELECT count(*) FROM big"), 2000);
        CHECK_INT(count_rows(s, "SELECT count(*) FROM big WHERE bin = '\\x00ff'::bytea"), 2000);
        CHECK_INT(count_rows(s, "SELECT count(*) FROM a"), 1);
        int v = 0;
        CHECK_INT(store_schema_version(s, &v, &e), 0);
        CHECK_INT(v, 2);
        /* the identity goes on after the restored rows */
        CHECK_INT(exec_w(s, "INSERT INTO big (pad) VALUES ('new')"), 0);
        CHECK_INT(count_rows(s, "SELECT max(id) FROM big"), 2001);
        store_close(s);
    }
    /* Restoring into another (empty) database: a new server. */
    CHECK_INT(store_restore_max(db, bak, 2, &e), 0);
    CHECK_INT(store_open(db, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(count_rows(s, "SELECT count(*) FROM big"), 2000);
        store_close(s);
    }
    /* Not an archive, missing, an archive without the marker. */
    path_in(p, sizeof p, "notes.txt");
    CHECK_INT(write_file(p, "hello, this is not a database at all.\n", 38), 0);
    CHECK_INT(store_restore_max(db, p, 99, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "不是 nuanxin 备份文件") != NULL);
    path_in(p, sizeof p, "nothing-here.dump");
    CHECK_INT(store_restore_max(db, p, 99, &e), NX_ENOTFOUND);
    store *o = open_new("pgother", 1);
    if (o) {
        CHECK_INT(exec_w(o, "CREATE TABLE whatever (x INTEGER)"), 0);
        path_in(p, sizeof p, "other.dump");
        CHECK_INT(store_backup(o, p, &e), 0);
        store_close(o);
        CHECK_INT(store_restore_max(db, p, 99, &e), NX_EINVAL);
        CHECK(strstr(e.msg, "不是 nuanxin 备份文件") != NULL);
    }
    /* A truncated archive is refused or fails as a whole; the database stays as it was. */
    int fd = open(bak, O_RDWR);
    if (fd >= 0) {
        CHECK_INT(ftruncate(fd, sb.st_size / 2), 0);
        close(fd);
    }
    CHECK(store_restore_max(db, bak, 99, &e) != 0);
    CHECK_INT(store_open(db, NULL, &s, &e), 0);
    if (s) {
        CHECK_INT(count_rows(s, "SELECT count(*) FROM big"), 2000);
        store_close(s);
    }
}

typedef struct wake_rec {
    pthread_mutex_t mu;
    int calls;
    char last[64];
} wake_rec;

static void on_wake(void *ctx, const char *channel)
{
    wake_rec *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->calls++;
    snprintf(w->last, sizeof w->last, "%s", channel);
    pthread_mutex_unlock(&w->mu);
}

static int wake_calls(wake_rec *w)
{
    pthread_mutex_lock(&w->mu);
    int n = w->calls;
    pthread_mutex_unlock(&w->mu);
    return n;
}

static bool wait_calls(wake_rec *w, int n, int ms)
{
    for (int i = 0; i < ms / 10 && wake_calls(w) < n; i++)
        usleep(10000);
    return wake_calls(w) >= n;
}

/* store_notify wakes the listeners of its channel after commit, in every store on the database (two
 * stores stand for two processes on PostgreSQL); nothing after a rollback. store_leader: one holder. */
static void test_listen_and_leader(void)
{
    char url[512];
    tb_url(url, sizeof url, "listen.db");
    store_options o = {.readers = 1, .busy_ms = 2000, .create = true, .pool = 2};
    store *a = NULL, *b = NULL;
    nx_err e = {0};
    CHECK_INT(store_open(url, &o, &a, &e), 0);
    if (a == NULL)
        return;
    /* SQLite's listeners are per process: the second store only on PostgreSQL. */
    if (tb_pg())
        CHECK_INT(store_open(url, &o, &b, &e), 0);
    wake_rec wa = {.mu = PTHREAD_MUTEX_INITIALIZER}, wb = {.mu = PTHREAD_MUTEX_INITIALIZER},
             wother = {.mu = PTHREAD_MUTEX_INITIALIZER};
    CHECK_INT(store_listen(a, "bad-name", on_wake, &wa, &e), NX_EINVAL);
    CHECK_INT(store_listen(a, "", on_wake, &wa, &e), NX_EINVAL);
    CHECK_INT(store_listen(a, "nx_test", on_wake, &wa, &e), 0);
    CHECK_INT(store_listen(a, "nx_other", on_wake, &wother, &e), 0);
    store *rx = b ? b : a;
    if (b)
        CHECK_INT(store_listen(b, "nx_test", on_wake, &wb, &e), 0);
    wake_rec *wr = b ? &wb : &wa;
    usleep(300000); /* the listener threads are LISTENing */
    int base_a = wake_calls(&wa), base_r = wake_calls(wr), base_o = wake_calls(&wother);
    (void)rx;
    store_tx *tx;
    /* rolled back: nobody is woken */
    CHECK_INT(store_begin(a, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_notify(tx, "nx_test", &e), 0);
    CHECK_INT(store_notify(tx, "No", &e), NX_EINVAL);
    store_rollback(tx);
    usleep(300000);
    CHECK_INT(wake_calls(&wa), base_a);
    CHECK_INT(wake_calls(wr), base_r);
    /* committed: both stores' listeners of the channel, not the other channel's */
    CHECK_INT(store_begin(a, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_notify(tx, "nx_test", &e), 0);
    CHECK_INT(store_notify(tx, "nx_test", &e), 0); /* twice in one transaction: one wake-up */
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK(wait_calls(&wa, base_a + 1, 3000));
    CHECK(wait_calls(wr, base_r + 1, 3000));
    usleep(200000);
    CHECK_INT(wake_calls(&wa), base_a + 1);
    CHECK_STR(wa.last, "nx_test");
    CHECK_INT(wake_calls(&wother), base_o);
    /* not in a read transaction */
    CHECK_INT(store_begin(a, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_notify(tx, "nx_test", &e), NX_EINTERNAL);
    store_rollback(tx);
    store_unlisten(a, "nx_test", on_wake, &wa);
    CHECK_INT(store_begin(a, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_notify(tx, "nx_test", &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK(wait_calls(wr, base_r + (b ? 2 : 1), 3000));
    usleep(200000);
    CHECK_INT(wake_calls(&wa), base_a + 1); /* unlistened */

    /* Leader locks: one holder at a time; released when the holder closes. */
    bool la = false, lb = false;
    CHECK_INT(store_leader(a, "", &la, &e), NX_EINVAL);
    CHECK_INT(store_leader(a, "nx.test.scheduler", &la, &e), 0);
    CHECK(la);
    CHECK_INT(store_leader(a, "nx.test.scheduler", &la, &e), 0);
    CHECK(la); /* still */
    if (b) {
        CHECK_INT(store_leader(b, "nx.test.scheduler", &lb, &e), 0);
        CHECK(!lb);
        CHECK_INT(store_leader(b, "nx.test.other", &lb, &e), 0);
        CHECK(lb); /* another name, another lock */
        store_close(a);
        a = NULL;
        usleep(200000);
        CHECK_INT(store_leader(b, "nx.test.scheduler", &lb, &e), 0);
        CHECK(lb); /* the holder is gone: taken over */
    }
    store_close(a);
    store_close(b);
}

/* STORE_WRITE_LAZY: a write transaction like any other (it writes, commits, rolls back), committed
 * without waiting for the disk; on SQLite the writer runs it with synchronous=NORMAL and every
 * durable transaction after it with FULL again (an acknowledged write must stay fsync'ed). */
static void test_lazy(void)
{
    store *s = open_new("lazy.db", 1);
    if (s == NULL)
        return;
    bool sqlite = strcmp(store_backend(s), "sqlite") == 0;
    CHECK_INT(exec_w(s, "CREATE TABLE z (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"), 0);
    nx_err e = {0};
    store_tx *tx;
    int64_t level = -1;
    for (int round = 0; round < 2; round++) {
        CHECK_INT(store_begin(s, STORE_WRITE_LAZY, &tx, &e), 0);
        CHECK_INT(store_exec(tx, "INSERT INTO z (v) VALUES (1)", NULL, 0, NULL, &e), 0);
        if (sqlite) {
            CHECK_INT(store_one_int(tx, "PRAGMA synchronous", NULL, 0, &level, &e), 0);
            CHECK_INT(level, 1); /* NORMAL */
        }
        CHECK_INT(store_commit(tx, &e), 0);
        CHECK_INT(store_begin(s, STORE_WRITE_LAZY, &tx, &e), 0); /* rolled back: nothing */
        CHECK_INT(store_exec(tx, "INSERT INTO z (v) VALUES (9)", NULL, 0, NULL, &e), 0);
        store_rollback(tx);
        CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
        CHECK_INT(store_exec(tx, "INSERT INTO z (v) VALUES (2)", NULL, 0, NULL, &e), 0);
        if (sqlite) {
            CHECK_INT(store_one_int(tx, "PRAGMA synchronous", NULL, 0, &level, &e), 0);
            CHECK_INT(level, 2); /* FULL again */
        }
        CHECK_INT(store_commit(tx, &e), 0);
    }
    CHECK_INT(count_rows(s, "SELECT count(*) FROM z"), 4);
    CHECK_INT(count_rows(s, "SELECT count(*) FROM z WHERE v = 9"), 0);
    /* a read transaction cannot write, lazy or not */
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK(store_exec(tx, "INSERT INTO z (v) VALUES (3)", NULL, 0, NULL, &e) != 0);
    store_rollback(tx);
    store_close(s);
}

typedef struct urg_arg {
    store *s;
    int mode;
    int v;
    int rc;
} urg_arg;

static void *urg_main(void *p)
{
    urg_arg *a = p;
    store_tx *tx;
    nx_err e = {0};
    a->rc = store_begin(a->s, a->mode, &tx, &e);
    if (a->rc == 0)
        a->rc = store_finish(tx, store_exec(tx, "INSERT INTO u (v) VALUES ($1)", (store_param[]){P_INT(a->v)}, 1, NULL, &e), &e);
    return NULL;
}

/* STORE_WRITE_URGENT goes ahead of the write transactions already waiting (SQLite: the writer's
 * gate; PostgreSQL: the pool, here of one connection), and store_urgent_waiting says that it waits.
 * The normal writers are given a moment to start waiting before the urgent one starts (if they were
 * slower, the urgent one would still be first: the check cannot fail for that reason). */
static void test_urgent(void)
{
    store *s = open_new("urgent.db", 1);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE u (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"), 0);
    CHECK(!store_urgent_waiting(s));
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO u (v) VALUES (0)", NULL, 0, NULL, &e), 0);
    urg_arg a[3] = {{s, STORE_WRITE, 1, -1}, {s, STORE_WRITE_LAZY, 2, -1}, {s, STORE_WRITE_URGENT, 9, -1}};
    pthread_t th[3];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, urg_main, &a[i]);
    struct timespec nap = {0, 50000000};
    nanosleep(&nap, NULL);
    pthread_create(&th[2], NULL, urg_main, &a[2]);
    for (int i = 0; i < 2000 && !store_urgent_waiting(s); i++) { /* a hang guard, not a timing */
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(store_urgent_waiting(s));
    CHECK_INT(store_commit(tx, &e), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(a[i].rc, 0);
    }
    CHECK(!store_urgent_waiting(s));
    CHECK_INT(count_rows(s, "SELECT v FROM u ORDER BY id LIMIT 1 OFFSET 1"), 9); /* right after the holder's */
    CHECK_INT(count_rows(s, "SELECT count(*) FROM u"), 4);
    store_close(s);
}

/* SQLite, the WAL syncer (sqlite.c, issue 18 item 3): the WAL's checkpoints run on the store's own
 * thread "nx-store-sync", never in a writer's commit (where an alarm would wait for them at the
 * gate), and really copy the pages into the database file; the syncer writes back the pages of lazy
 * commits. Seen through NX_SOS_TRACE, whose lines name the thread (the test's main thread commits).
 * Run last: the trace stays on for the process. The wait for the syncer is a hang guard, not a timing. */
static bool trace_has(const char *path, const char *stage, int *n, int *other)
{
    FILE *f = fopen(path, "r");
    *n = *other = 0;
    if (f == NULL)
        return false;
    char line[256], st[64], th[64];
    long long k, v, us;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %lld %lld %lld %63s", st, &k, &v, &us, th) == 5 && strcmp(st, stage) == 0) {
            const char *name = strchr(th, ':');
            if (name && strcmp(name + 1, "nx-store-sync") == 0)
                (*n)++;
            else
                (*other)++;
        }
    fclose(f);
    return *n > 0;
}

static void test_wal_syncer(void)
{
    char trace[512], db[512];
    path_in(trace, sizeof trace, "syncer.trace");
    path_in(db, sizeof db, "syncer.db");
    setenv("NX_SOS_TRACE", trace, 1);
    trace_init();
    CHECK(trace_on());
    store *s = open_new("syncer.db", 1);
    if (s == NULL)
        return;
    CHECK_INT(exec_w(s, "CREATE TABLE b (v BLOB NOT NULL)"), 0);
    nx_err e = {0};
    store_tx *tx;
    /* 12 lazy commits of 200 pages' worth each: past the 1000 frames at which the WAL is checkpointed */
    for (int i = 0; i < 12; i++) {
        CHECK_INT(store_begin(s, STORE_WRITE_LAZY, &tx, &e), 0);
        CHECK_INT(store_exec(tx,
                             "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200) "
                             "INSERT INTO b (v) SELECT randomblob(4000) FROM c",
                             NULL, 0, NULL, &e),
                  0);
        CHECK_INT(store_commit(tx, &e), 0);
    }
    int ck = 0, ck_other = 0, wb = 0, wb_other = 0;
    for (int i = 0; i < 10000 && !(trace_has(trace, "sq.ckpt", &ck, &ck_other) && trace_has(trace, "sq.writeback", &wb, &wb_other)); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(ck > 0);        /* checkpointed by the syncer */
    CHECK_INT(ck_other, 0); /* and by no committing writer */
    CHECK(wb > 0);        /* the lazy commits' pages written back */
    CHECK_INT(wb_other, 0);
    struct stat sb;
    CHECK_INT(stat(db, &sb), 0);
    CHECK(sb.st_size > 4 * 1000 * 1000); /* the pages are in the database file, not only in the WAL */
    CHECK_INT(count_rows(s, "SELECT count(*) FROM b"), 12 * 200);
    store_close(s);
}

/* The part of the suite that both backends must pass alike. */
static void run_common(void)
{
    TEST_RUN(test_params);
    TEST_RUN(test_types);
    TEST_RUN(test_errors_and_rollback);
    TEST_RUN(test_savepoints);
    TEST_RUN(test_lazy);
    TEST_RUN(test_urgent);
    TEST_RUN(test_snapshot_and_pool);
    TEST_RUN(test_deferred);
    TEST_RUN(test_query_ahead);
    TEST_RUN(test_threads);
    TEST_RUN(test_stmt_cache);
    TEST_RUN(test_migrations);
    TEST_RUN(test_kill9);
    TEST_RUN(test_listen_and_leader);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    if (tb_init("nx-test-store") != 0)
        return 1;
    TEST_RUN(test_open);
    run_common();
    TEST_RUN(test_backup_restore);
    TEST_RUN(test_wal_syncer); /* last on SQLite: it leaves NX_SOS_TRACE on */
    if (tb_use_pg()) {
        TEST_RUN(test_pg_open);
        run_common();
        TEST_RUN(test_pg_backup_restore);
    }
    tb_cleanup();
    return TEST_DONE();
}
