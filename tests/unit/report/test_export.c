/* test_export.c — an Excel export's three steps (report/export.h) on SQLite and (with NX_TEST_PG)
 * PostgreSQL: every row of a query into the sheet (a row the cells function passes over does not
 * count), one row past the cap refuses the export and leaves no file, a read that fails on the way
 * fails it too (never a short file), and the audit entry is written only once the file is complete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "report/export.h"
#include "report/sheet.h"
#include "test.h"
#include "backends.h"

static store *open_db(const char *name)
{
    store *s = tb_open(name, 2, true);
    if (s)
        tb_script(s, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
                     "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'x'), (5, 'd')");
    return s;
}

/* "id, name": the id as a number, the name as text; the row named 'x' is passed over. */
static int cells(store_rows *r, void *ctx, const char **c, nx_err *e)
{
    char *id = ctx;
    if (strcmp(store_text(r, 1), "x") == 0)
        return 1;
    snprintf(id, 24, "%lld", (long long)store_int(r, 0));
    c[0] = id;
    c[1] = store_text(r, 1);
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int64_t audits(store *db)
{
    nx_err e = {0};
    store_tx *tx;
    int64_t n = -1;
    CHECK_INT(store_begin(db, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_one_int(tx, "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND object_type = 'things'",
                            NULL, 0, &n, &e), 0);
    store_rollback(tx);
    return n;
}

static void test_export(void)
{
    store *db = open_db("export.db");
    nx_err e = {0};
    char path[512], id[24];
    snprintf(path, sizeof path, "%s/export-%s.xlsx", tb_dir, tb_backend());
    static const char *const titles[] = {"编号", "名称"};
    const nx_principal who = {.user_id = 0, .scope = SCOPE_ALL};
    export_rows_spec s = {.types = "ns", .ncol = 2, .max = 4, .too_many = "超过 %lld 行", .cells = cells, .ctx = id};
    sqlq q;
    sqlq_init(&q, "SELECT id, name FROM t ORDER BY id");
    xlsx_out *x;
    int64_t rows = -1;

    /* four rows written (the fifth passed over), under the cap of four: the file and its audit entry */
    CHECK_INT(export_open(path, "导出", titles, NULL, 2, &x, &e), 0);
    CHECK_INT(export_rows_read(db, &q, x, &s, &rows, &e), 0);
    CHECK_INT((int)rows, 4);
    CHECK_INT(export_finish(db, x, path, &who, "things", 0, 1, json_pack("{s:I}", "count", (json_int_t)rows), &e), 0);
    CHECK((int)audits(db) == 1);
    sheet_reader *rd;
    const char *const *c;
    int nc, n = 0;
    CHECK_INT(sheet_open_file(path, &rd, &e), 0);
    while (sheet_next_row(rd, &c, &nc) == 1)
        n++;
    sheet_close(rd);
    CHECK_INT(n, 5); /* the header and four rows */

    /* a cap of three: the fourth row refuses the export; no file, no audit entry */
    s.max = 3;
    CHECK_INT(export_open(path, "导出", titles, NULL, 2, &x, &e), 0);
    CHECK_INT(export_rows_read(db, &q, x, &s, &rows, &e), NX_ETOOBIG);
    CHECK_STR(e.msg, "超过 3 行");
    CHECK(!exists(path));
    CHECK((int)audits(db) == 1);

    /* a read that fails on its fourth row fails the export: no file */
    s.max = 0;
    sqlq_init(&q, tb_pg() ? "SELECT id, CASE WHEN id > 3 THEN CAST(name AS integer) ELSE 0 END, name FROM t ORDER BY id"
                          : "SELECT id, CASE WHEN id > 3 THEN json(name) ELSE 0 END, name FROM t ORDER BY id");
    CHECK_INT(export_open(path, "导出", titles, NULL, 2, &x, &e), 0);
    int rc = export_rows_read(db, &q, x, &s, &rows, &e);
    CHECK(rc < 0 && rc != NX_ETOOBIG);
    CHECK(!exists(path));
    CHECK((int)audits(db) == 1);
    store_close(db);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    if (tb_init("nx-test-export") != 0)
        return 1;
    TEST_RUN(test_export);
    if (tb_use_pg())
        TEST_RUN(test_export);
    tb_cleanup();
    return TEST_DONE();
}
