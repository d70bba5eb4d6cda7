/* test_query.c — the module kit's store half: the SQL condition builder (query.h), the page
 * builder and row helpers (page.h), the read API that tells "no row" from "failed" (store_row,
 * store_rows_end, store_first) and perm_scope_q, on SQLite and (with NX_TEST_PG) PostgreSQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/vec.h"
#include "secure/perm.h"
#include "store/page.h"
#include "store/query.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"

static void test_builder(void)
{
    sqlq q;
    sqlq_init(&q, "SELECT id FROM t WHERE 1 = 1");
    sqlq_add(&q, " AND a = $%d", P_INT(1));
    sqlq_add(&q, " AND b = $%d", P_TEXT("x"));
    int k = sqlq_like(&q, " AND (c LIKE $%d ESCAPE '!'", "5%_!", true);
    sqlq_sql(&q, " OR d LIKE $%d ESCAPE '!')", k);
    CHECK_STR(q.sql, "SELECT id FROM t WHERE 1 = 1 AND a = $1 AND b = $2 AND (c LIKE $3 ESCAPE '!' OR d LIKE $3 ESCAPE '!')");
    CHECK_INT(q.n, 3);
    CHECK_INT(k, 3);
    CHECK_STR((const char *)q.p[2].p, "%5!%!_!!%");
    nx_err e = {0};
    CHECK_INT(sqlq_check(&q, &e), 0);
}

/* An absent filter (0, NULL) adds nothing; a present one its condition and parameter, an empty text
 * included; past the parameter cap the query is marked, the condition not dropped silently. */
static void test_eq(void)
{
    sqlq q;
    sqlq_init(&q, "SELECT id FROM t WHERE 1 = 1");
    sqlq_eq_int(&q, "t.a", 0);
    sqlq_eq_text(&q, "t.b", NULL);
    CHECK_STR(q.sql, "SELECT id FROM t WHERE 1 = 1");
    CHECK_INT(q.n, 0);
    sqlq_eq_int(&q, "t.a", -7);
    sqlq_eq_text(&q, "t.b", "x");
    sqlq_eq_text(&q, "t.c", "");
    CHECK_STR(q.sql, "SELECT id FROM t WHERE 1 = 1 AND t.a = $1 AND t.b = $2 AND t.c = $3");
    CHECK_INT(q.n, 3);
    CHECK_INT(q.p[0].type, SP_INT);
    CHECK_INT((int)q.p[0].i, -7);
    CHECK_STR((const char *)q.p[1].p, "x");
    CHECK_INT((int)q.p[2].n, 0);
    for (int i = q.n; i < SQLQ_PARAMS; i++)
        sqlq_eq_int(&q, "t.x", 1);
    CHECK(!q.over);
    size_t before = strlen(q.sql);
    sqlq_eq_text(&q, "t.scope", "y");
    CHECK(q.over);
    CHECK_INT((int)strlen(q.sql), (int)before);
}

/* A range whose ends may be absent: each end only when set (text: both inclusive; ms: from
 * inclusive, to exclusive, 0 = absent); none adds nothing; past the parameter cap the query is
 * marked, the condition not dropped silently. */
static void test_range(void)
{
    sqlq q;
    sqlq_init(&q, "SELECT id FROM t WHERE 1 = 1");
    sqlq_range_text(&q, "t.day", NULL, NULL);
    sqlq_range_ms(&q, "t.at", 0, 0);
    CHECK_STR(q.sql, "SELECT id FROM t WHERE 1 = 1");
    CHECK_INT(q.n, 0);
    sqlq_range_text(&q, "t.day", "2030-03-01", "2030-03-31");
    sqlq_range_text(&q, "t.month", NULL, "2030-03");
    sqlq_range_ms(&q, "t.at", 1000, 0);
    sqlq_range_ms(&q, "t.done_at", 5, 86400005);
    CHECK_STR(q.sql, "SELECT id FROM t WHERE 1 = 1 AND t.day >= $1 AND t.day <= $2 AND t.month <= $3 AND t.at >= $4 "
                     "AND t.done_at >= $5 AND t.done_at < $6");
    CHECK_INT(q.n, 6);
    CHECK_STR((const char *)q.p[0].p, "2030-03-01");
    CHECK_STR((const char *)q.p[1].p, "2030-03-31");
    CHECK_STR((const char *)q.p[2].p, "2030-03");
    CHECK_INT(q.p[3].type, SP_INT);
    CHECK_INT(q.p[3].i, 1000);
    CHECK_INT(q.p[5].i, 86400005);
    for (int i = q.n; i < SQLQ_PARAMS - 1; i++)
        sqlq_eq_int(&q, "t.x", 1);
    CHECK(!q.over);
    sqlq_range_text(&q, "t.day", "2030-01-01", "2030-12-31"); /* room for one end only */
    CHECK(q.over);
    nx_err e = {0};
    CHECK_INT(sqlq_check(&q, &e), NX_EINTERNAL);
}

/* Overflow is sticky: too many parameters, too much text or too long a LIKE term marks the query,
 * nothing more is appended, and running it fails — the condition is never silently dropped. */
static void test_overflow(void)
{
    sqlq q;
    nx_err e = {0};
    sqlq_init(&q, "SELECT 1 WHERE 1 = 1");
    for (int i = 0; i < SQLQ_PARAMS; i++)
        sqlq_add(&q, " AND x = $%d", P_INT(i));
    CHECK_INT(sqlq_check(&q, &e), 0);
    size_t before = strlen(q.sql);
    sqlq_add(&q, " AND scope = $%d", P_INT(7)); /* one too many */
    CHECK_INT(sqlq_check(&q, &e), NX_EINTERNAL);
    CHECK_STR(e.msg, "查询过长");
    CHECK_INT((int)strlen(q.sql), (int)before);
    sqlq_sql(&q, " ORDER BY 1"); /* nothing after an overflow */
    CHECK_INT((int)strlen(q.sql), (int)before);
    store_rows *r = (store_rows *)&q; /* must be reset to NULL by the failing run */
    CHECK_INT(sqlq_query(NULL, &q, &r, &e), NX_EINTERNAL);
    CHECK(r == NULL);

    static char big[SQLQ_SQL + 10];
    memset(big, 'a', sizeof big - 1);
    sqlq_init(&q, "SELECT 1");
    sqlq_append(&q, big);
    CHECK(q.over);
    CHECK_STR(q.sql, "SELECT 1");

    static char term[SQLQ_TEXT];
    memset(term, '%', sizeof term - 1);
    sqlq_init(&q, "SELECT 1 WHERE 1 = 1");
    CHECK_INT(sqlq_like(&q, " AND a LIKE $%d", term, true), 0);
    CHECK_INT(sqlq_check(&q, NULL), NX_EINTERNAL);
}

static void test_scope(void)
{
    sqlq q;
    nx_principal p = {.scope = SCOPE_COMMUNITY, .community_id = 12};
    sqlq_init(&q, "SELECT 1 FROM r WHERE 1 = 1");
    perm_scope_q(&p, "r.", "id", &q);
    CHECK_STR(q.sql, "SELECT 1 FROM r WHERE 1 = 1 AND r.community_id = $1");
    CHECK_INT((int)q.p[0].i, 12);
    nx_principal self = {.scope = SCOPE_SELF, .resident_id = 0};
    sqlq_init(&q, "W");
    perm_scope_q(&self, "r.", "id", &q);
    CHECK_STR(q.sql, "W AND 1 = 0");
    nx_principal grid = {.scope = SCOPE_GRID, .grid_id = 3};
    sqlq_init(&q, "W");
    for (int i = 0; i < SQLQ_PARAMS; i++)
        sqlq_param(&q, P_INT(i));
    perm_scope_q(&grid, "r.", "id", &q); /* no room: the query must not run without its scope */
    CHECK_INT(sqlq_check(&q, NULL), NX_EINTERNAL);
    /* one object in scope: the id first, then the scope */
    perm_scope_id_q(&p, "r.", "id", 5, "SELECT 1 FROM r WHERE 1 = 1", &q);
    CHECK_STR(q.sql, "SELECT 1 FROM r WHERE 1 = 1 AND r.id = $1 AND r.community_id = $2");
    CHECK_INT((int)q.p[0].i, 5);
    CHECK_INT((int)q.p[1].i, 12);
    perm_scope_id_q(&self, "", "resident_id", 5, "SELECT 1 FROM r WHERE 1 = 1", &q);
    CHECK_STR(q.sql, "SELECT 1 FROM r WHERE 1 = 1 AND id = $1 AND 1 = 0");
}

static store *open_db(const char *name)
{
    store *s = tb_open(name, 2, false);
    if (s == NULL)
        return NULL;
    tb_script(s, tb_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, at INTEGER, score REAL)"));
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    for (int i = 1; i <= 10; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "n%d", i);
        store_param p[] = {P_INT(i), P_TEXT(nm), i % 2 ? P_INT(1700000000000LL) : P_NULL, P_REAL(i / 2.0)};
        CHECK_INT(store_exec(tx, "INSERT INTO t (id, name, at, score) VALUES ($1, $2, $3, $4)", p, 4, NULL, &e), 0);
    }
    CHECK_INT(store_commit(tx, &e), 0);
    return s;
}

static json_t *row(store_rows *r)
{
    json_t *o = json_object();
    store_json_set(o, "id", store_json_int, r, 0);
    store_json_set(o, "name", store_json_text, r, 1);
    store_json_set(o, "at", store_json_time, r, 2);
    return o;
}

static json_t *row_fails(store_rows *r)
{
    return store_int(r, 0) == 3 ? NULL : row(r);
}

static json_t *row_refuses(store_rows *r, void *ctx)
{
    if (store_int(r, 0) == 2) {
        nx_fail(ctx, NX_EINVAL, "name", "第二行不合格");
        return NULL;
    }
    return row(r);
}

/* A row function that returns NULL fails the page with NX_ENOMEM, whatever an earlier call left in
 * the caller's nx_err; one that reports its own error through ctx keeps that error. */
static void test_page_row_failure(void)
{
    store *s = open_db("page-fail.db");
    nx_err e;
    sqlq q;
    json_t *out = NULL;
    nx_fail(&e, NX_ECONFLICT, "old", "上一次调用留下的错误");
    sqlq_init(&q, "SELECT id, name, at FROM t ORDER BY id");
    store_page_spec spec = {.limit = 5, .max = 50, .row = row_fails};
    CHECK_INT(store_page_read(s, &q, &spec, &out, &e), NX_ENOMEM);
    CHECK(out == NULL);
    CHECK_STR(e.msg, "无法生成列表");
    sqlq_init(&q, "SELECT id, name, at FROM t ORDER BY id");
    spec = (store_page_spec){.limit = 5, .max = 50, .row_ctx = row_refuses, .ctx = &e};
    CHECK_INT(store_page_read(s, &q, &spec, &out, &e), NX_EINVAL);
    CHECK_STR(e.field, "name");
    CHECK(out == NULL);
    store_close(s);
}

static void test_page(void)
{
    store *s = open_db("page.db");
    nx_err e = {0};
    sqlq q, c;
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE 1 = 1");
    sqlq_init(&c, "SELECT COUNT(*) FROM t WHERE 1 = 1");
    sqlq_add(&q, " AND id > $%d", P_INT(2));
    sqlq_add(&c, " AND id > $%d", P_INT(2));
    sqlq_sql(&q, " ORDER BY id");
    store_page_spec spec = {.limit = 3, .max = 200, .count = &c, .row = row};
    json_t *out = NULL;
    CHECK_INT(store_page_read(s, &q, &spec, &out, &e), 0);
    CHECK_INT((int)json_array_size(json_object_get(out, "items")), 3);
    CHECK_INT((int)json_integer_value(json_object_get(out, "total")), 8);
    CHECK_STR(json_string_value(json_object_get(out, "next_cursor")), "5");
    json_t *first = json_array_get(json_object_get(out, "items"), 0);
    CHECK_INT((int)json_integer_value(json_object_get(first, "id")), 3);
    CHECK(json_is_string(json_object_get(first, "at")));
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(out, "items"), 1), "at")));
    json_decref(out);

    /* the cap wins over the request; the last page has no cursor and no total unless asked */
    sqlq_init(&q, "SELECT id, name, at FROM t ORDER BY id");
    spec = (store_page_spec){.limit = 1000, .max = 4, .row = row};
    CHECK_INT(store_page_read(s, &q, &spec, &out, &e), 0);
    CHECK_INT((int)json_array_size(json_object_get(out, "items")), 4);
    CHECK(json_object_get(out, "total") == NULL);
    json_decref(out);
    sqlq_init(&q, "SELECT id, name, at FROM t ORDER BY id");
    spec = (store_page_spec){.limit = 0, .max = 50, .row = row};
    CHECK_INT(store_page_read(s, &q, &spec, &out, &e), 0);
    CHECK_INT((int)json_array_size(json_object_get(out, "items")), 10);
    CHECK(json_is_null(json_object_get(out, "next_cursor")));
    json_decref(out);
    CHECK_INT(store_page_limit(-1, 200), 200);
    CHECK_INT(store_page_limit(20, 200), 20);
    store_close(s);
}

/* store_json_row reads the columns in order, passes over "-", gives null for SQL NULL in every
 * type, and refuses a spec that does not parse. */
static void test_json_row(void)
{
    store *s = open_db("json-row.db");
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    store_rows *r;
    CHECK_INT(store_query(tx, "SELECT id, name, at, score, id - 1, at FROM t WHERE id IN (1, 2) ORDER BY id", NULL,
                          0, &r, &e), 0);
    CHECK(store_row(r));
    json_t *o = store_json_row(r, " id:i  -  at:d score:r zero:b t:i ");
    CHECK(o != NULL);
    CHECK_INT((int)json_object_size(o), 5);
    CHECK_INT((int)json_integer_value(json_object_get(o, "id")), 1);
    CHECK(json_object_get(o, "name") == NULL);
    json_t *want = json_object();
    store_json_set(want, "at", store_json_time, r, 2);
    CHECK(json_equal(json_object_get(o, "at"), json_object_get(want, "at")));
    json_decref(want);
    CHECK(json_real_value(json_object_get(o, "score")) == 0.5);
    CHECK(json_is_false(json_object_get(o, "zero")));
    CHECK(json_integer_value(json_object_get(o, "t")) == 1700000000000LL);
    json_decref(o);
    CHECK(store_row(r));
    o = store_json_row(r, "id:i name:t at:d score:r one:b raw:i");
    CHECK_STR(json_string_value(json_object_get(o, "name")), "n2");
    CHECK(json_is_null(json_object_get(o, "at")));
    CHECK(json_is_null(json_object_get(o, "raw")));
    CHECK(json_is_true(json_object_get(o, "one")));
    json_decref(o);
    CHECK(store_json_row(r, "id:i name") == NULL);
    CHECK(store_json_row(r, "id:x") == NULL);
    CHECK(store_json_row(r, ":i") == NULL);
    CHECK(store_json_row(r, "id:ii") == NULL);
    o = json_object();
    CHECK_INT(store_json_cols(o, r, 1, "name:t"), 0);
    CHECK_STR(json_string_value(json_object_get(o, "name")), "n2");
    json_decref(o);
    CHECK_INT(store_rows_end(r, &e), 0);
    store_rollback(tx);
    store_close(s);
}

/* store_items_read and store_get_read: all rows or the first, "no row" told from a failed read, a
 * row function's NULL fails the read. */
static void test_items_get(void)
{
    store *s = open_db("items.db");
    nx_err e = {0};
    sqlq q;
    json_t *out = NULL;
    store_page_spec spec = {.row = row};
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE id <= 3 ORDER BY id");
    CHECK_INT(store_items_read(s, &q, &spec, &out, &e), 0);
    CHECK_INT((int)json_array_size(json_object_get(out, "items")), 3);
    json_decref(out);
    out = NULL;
    spec.max = 2; /* a cap refuses the list, never cuts it */
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE id <= 3 ORDER BY id");
    CHECK_INT(store_items_read(s, &q, &spec, &out, &e), NX_ETOOBIG);
    CHECK(out == NULL);
    spec.max = 3;
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE id <= 3 ORDER BY id");
    CHECK_INT(store_items_read(s, &q, &spec, &out, &e), 0);
    json_decref(out);
    spec.max = 0;
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE id = 4");
    CHECK_INT(store_get_read(s, &q, &spec, "没有这一行", &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "name")), "n4");
    json_decref(out);
    out = NULL;
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE id = 99");
    CHECK_INT(store_get_read(s, &q, &spec, "没有这一行", &out, &e), NX_ENOTFOUND);
    CHECK_STR(e.msg, "没有这一行");
    CHECK(out == NULL);
    spec.row = row_fails;
    sqlq_init(&q, "SELECT id, name, at FROM t ORDER BY id");
    CHECK_INT(store_items_read(s, &q, &spec, &out, &e), NX_ENOMEM);
    CHECK(out == NULL);
    sqlq_init(&q, tb_pg() ? "SELECT id, CASE WHEN id > 3 THEN CAST(name AS integer) ELSE id END, NULL FROM t ORDER BY 1"
                          : "SELECT id, CASE WHEN id > 3 THEN json(name) ELSE id END, NULL FROM t ORDER BY 1");
    spec.row = row;
    CHECK(store_items_read(s, &q, &spec, &out, &e) < 0);
    CHECK(out == NULL);
    store_close(s);
}

/* store_items_of: a record's sub-list set on it by key ($1 the id); a failed read or a row function's
 * NULL leaves the record without the key. */
static void test_items_of(void)
{
    store *s = open_db("items_of.db");
    nx_err e = {0};
    store_tx *tx;
    store_page_spec spec = {.row = row};
    json_t *o = json_object();
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_items_of(tx, "SELECT id, name, at FROM t WHERE id <= $1 ORDER BY id", 3, &spec, o, "rows", &e), 0);
    CHECK_INT((int)json_array_size(json_object_get(o, "rows")), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(o, "rows"), 2), "name")), "n3");
    CHECK_INT(store_items_of(tx, "SELECT id, name, at FROM t WHERE id = $1", 99, &spec, o, "none", &e), 0);
    CHECK(json_is_array(json_object_get(o, "none")) && json_array_size(json_object_get(o, "none")) == 0);
    spec.row = row_fails;
    CHECK_INT(store_items_of(tx, "SELECT id, name, at FROM t WHERE id <= $1", 3, &spec, o, "failed", &e), NX_ENOMEM);
    CHECK(json_object_get(o, "failed") == NULL);
    store_rollback(tx);
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    spec.row = row;
    CHECK(store_items_of(tx,
                         tb_pg() ? "SELECT id, CASE WHEN id > $1 THEN CAST(name AS integer) ELSE id END, NULL FROM t "
                                   "ORDER BY 1"
                                 : "SELECT id, CASE WHEN id > $1 THEN json(name) ELSE id END, NULL FROM t ORDER BY 1",
                         3, &spec, o, "broken", &e) < 0);
    CHECK(json_object_get(o, "broken") == NULL);
    store_rollback(tx);
    json_decref(o);
    store_close(s);
}

/* A store_build_fn: the row of id, then a part set on it; id 5 fails after making the object. */
static int build_row(store_tx *tx, const void *ctx, int64_t id, json_t **obj, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE 1 = 1");
    sqlq_add(&q, " AND id = $%d", P_INT(id));
    int rc = store_get(tx, &q, ctx, "没有这一行", obj, e);
    if (rc)
        return rc;
    json_object_set_new(*obj, "part", json_true());
    return id == 5 ? nx_fail(e, NX_EINVAL, "part", "部分失败") : 0;
}

/* store_get and sqlq_first / store_query_first on an open transaction, store_build_read in one of
 * its own: a row, "no row" (404 with the caller's words), a failed read, and nothing left over on
 * failure. */
static void test_get_first_build(void)
{
    store *s = open_db("first.db");
    nx_err e = {0};
    store_tx *tx;
    sqlq q;
    store_rows *r = NULL;
    json_t *out = NULL;
    store_page_spec spec = {.row = row};
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE id = 2");
    CHECK_INT(store_get(tx, &q, &spec, "没有这一行", &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "name")), "n2");
    json_decref(out);
    out = NULL;
    sqlq_init(&q, "SELECT id, name, at FROM t WHERE id = 99");
    CHECK_INT(store_get(tx, &q, &spec, "没有这一行", &out, &e), NX_ENOTFOUND);
    CHECK_STR(e.msg, "没有这一行");
    CHECK(out == NULL);
    sqlq_init(&q, "SELECT name FROM t WHERE 1 = 1");
    sqlq_add(&q, " AND id = $%d", P_INT(3));
    CHECK_INT(sqlq_first(tx, &q, "没有", &r, &e), 0);
    CHECK_STR(store_text(r, 0), "n3");
    store_rows_free(r);
    sqlq_add(&q, " AND id = $%d", P_INT(4));
    CHECK_INT(sqlq_first(tx, &q, "没有第三行", &r, &e), NX_ENOTFOUND);
    CHECK_STR(e.msg, "没有第三行");
    CHECK(r == NULL);
    store_param p[] = {P_INT(4)};
    CHECK_INT(store_query_first(tx, "SELECT name FROM t WHERE id = $1", p, 1, "没有", &r, &e), 0);
    CHECK_STR(store_text(r, 0), "n4");
    store_rows_free(r);
    r = (store_rows *)&q; /* a failed read leaves NULL, not a row set to free */
    CHECK(store_query_first(tx, tb_pg() ? "SELECT CAST(name AS integer) FROM t ORDER BY id"
                                        : "SELECT json(name) FROM t ORDER BY id",
                            NULL, 0, "没有", &r, &e) < 0);
    CHECK(r == NULL);
    CHECK(e.code != NX_ENOTFOUND);
    store_rollback(tx);
    CHECK_INT(store_build_read(s, build_row, &spec, 4, &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "name")), "n4");
    CHECK(json_is_true(json_object_get(out, "part")));
    json_decref(out);
    out = NULL;
    CHECK_INT(store_build_read(s, build_row, &spec, 99, &out, &e), NX_ENOTFOUND);
    CHECK(out == NULL);
    CHECK_INT(store_build_read(s, build_row, &spec, 5, &out, &e), NX_EINVAL); /* the half-made object released (ASan) */
    CHECK(out == NULL);
    store_close(s);
}

/* store_exists_or_fail: a count above 0 passes; 0 (or no row) is 422 naming the field with the
 * caller's formatted words; a failed read stays the read's error, never a 422. */
static void test_exists_or_fail(void)
{
    store *s = open_db("exists.db");
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    store_param p[] = {P_INT(3)};
    CHECK_INT(store_exists_or_fail(tx, "SELECT COUNT(*) FROM t WHERE id = $1", p, 1, "t_id", &e, "没有 %d", 3), 0);
    p[0] = P_INT(99);
    CHECK_INT(store_exists_or_fail(tx, "SELECT COUNT(*) FROM t WHERE id = $1", p, 1, "t_id", &e, "没有 %d", 99),
              NX_EINVAL);
    CHECK_STR(e.field, "t_id");
    CHECK_STR(e.msg, "没有 99");
    nx_err_clear(&e);
    CHECK_INT(store_exists_or_fail(tx, "SELECT id FROM t WHERE id = $1", p, 1, "t_id", &e, "没有"), NX_EINVAL);
    CHECK_STR(e.msg, "没有");
    int rc = store_exists_or_fail(tx, tb_pg() ? "SELECT CAST(name AS integer) FROM t ORDER BY id"
                                              : "SELECT json(name) FROM t ORDER BY id",
                                  NULL, 0, "t_id", &e, "没有");
    CHECK(rc < 0 && rc != NX_EINVAL);
    store_rollback(tx);
    store_close(s);
}

/* store_conflict_field: a unique conflict of the write becomes 409 naming the field with the caller's
 * formatted words; success and every other failure pass through as they are. */
static void test_conflict_field(void)
{
    store *s = open_db("conflict.db");
    tb_script(s, tb_sql("CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"));
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    store_param p[] = {P_TEXT("甲")};
    const char *ins = "INSERT INTO u (name) VALUES ($1) RETURNING id";
    int64_t id = 0;
    CHECK_INT(store_conflict_field(store_one_int(tx, ins, p, 1, &id, &e), "name", &e, "已有 %s", "甲"), 0);
    CHECK(id > 0);
    CHECK_STR(e.field, "");
    CHECK_INT(store_savepoint(tx, &e), 0);
    CHECK_INT(store_conflict_field(store_one_int(tx, ins, p, 1, &id, &e), "name", &e, "已有 %s", "甲"), NX_ECONFLICT);
    CHECK_STR(e.field, "name");
    CHECK_STR(e.msg, "已有 甲");
    CHECK_INT(store_savepoint_rollback(tx, &e), 0);
    nx_err_clear(&e);
    /* not a conflict: the NOT NULL failure stays what the store said */
    store_param q[] = {P_NULL};
    int rc = store_conflict_field(store_exec(tx, "INSERT INTO u (name) VALUES ($1)", q, 1, NULL, &e), "name", &e, "已有");
    CHECK(rc != 0 && rc != NX_ECONFLICT);
    CHECK(strcmp(e.msg, "已有") != 0);
    store_rollback(tx);
    store_close(s);
}

/* perm_scoped_query: the scope, then the community the caller chose within it, then the tail. */
static void test_scoped_query(void)
{
    store *s = open_db("scoped.db");
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec_script(tx, "CREATE TABLE h (id INTEGER PRIMARY KEY, community_id INTEGER, grid_id INTEGER)", &e),
              0);
    CHECK_INT(store_exec_script(tx, "INSERT INTO h VALUES (1, 1, 1), (2, 1, 2), (3, 2, 3), (4, 2, 3)", &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    const nx_principal all = {.scope = SCOPE_ALL}, one = {.scope = SCOPE_COMMUNITY, .community_id = 1};
    const struct {
        const nx_principal *p;
        int64_t community, want;
    } cases[] = {{&all, 0, 4}, {&all, 2, 2}, {&one, 0, 2}, {&one, 2, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_rows *r;
        CHECK_INT(perm_scoped_query(tx, cases[i].p, cases[i].community, "SELECT count(*) FROM h x WHERE 1 = 1", "x.",
                                    " GROUP BY 1 = 1", &r, &e), 0);
        int64_t n = store_row(r) ? store_int(r, 0) : 0;
        CHECK_INT(store_rows_end(r, &e), 0);
        CHECK_INT((int)n, (int)cases[i].want);
    }
    store_rollback(tx);
    store_close(s);
}

/* A statement that fails on its fourth row: the loop sees three rows, then the end of the read
 * reports the error (never a short success); store_first tells "no row" from "failed". */
static void test_read_errors(void)
{
    store *s = open_db("fail.db");
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    const char *sql = tb_pg() ? "SELECT id, CASE WHEN id > 3 THEN CAST(name AS integer) ELSE id END AS v FROM t ORDER BY 1"
                              : "SELECT id, CASE WHEN id > 3 THEN json(name) ELSE id END AS v FROM t ORDER BY 1";
    store_rows *r;
    int rc = store_query(tx, sql, NULL, 0, &r, &e);
    int seen = 0;
    bool streamed = rc == 0; /* SQLite fails on the row; PostgreSQL may fail at once or on the row */
    if (rc == 0) {
        while (store_row(r))
            seen++;
        rc = store_rows_end(r, &e);
    }
    CHECK(rc < 0);
    CHECK(seen <= 3);
    if (streamed)
        CHECK_STR(e.msg, "数据库读取失败");
    CHECK(!tb_pg() ? streamed && seen == 3 : true);
    store_rollback(tx);

    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    store_param p[] = {P_INT(99)};
    CHECK_INT(store_query(tx, "SELECT name FROM t WHERE id = $1", p, 1, &r, &e), 0);
    CHECK_INT(store_first(r, "没有这一行", &e), NX_ENOTFOUND);
    CHECK_STR(e.msg, "没有这一行");
    CHECK_INT(store_rows_end(r, &e), 0);
    p[0] = P_INT(4);
    CHECK_INT(store_query(tx, "SELECT name FROM t WHERE id = $1", p, 1, &r, &e), 0);
    CHECK_INT(store_first(r, "没有这一行", &e), 0);
    CHECK_STR(store_text(r, 0), "n4");
    CHECK_INT(store_rows_end(r, &e), 0);
    /* breaking out early is not an error */
    CHECK_INT(store_query(tx, "SELECT id FROM t ORDER BY id", NULL, 0, &r, &e), 0);
    CHECK(store_row(r));
    CHECK_INT(store_rows_end(r, &e), 0);
    CHECK_INT(store_rows_end(NULL, &e), 0);
    store_rollback(tx);

    /* the page builder fails the whole page on such a read */
    sqlq q;
    sqlq_init(&q, sql);
    store_page_spec spec = {.limit = 5, .max = 200, .row = row};
    json_t *out = NULL;
    CHECK(store_page_read(s, &q, &spec, &out, &e) < 0);
    CHECK(out == NULL);
    store_close(s);
}

typedef struct named {
    int64_t id;
    char name[8];
} named;

static void named_fill(store_rows *r, void *elem)
{
    named *n = elem;
    n->id = store_int(r, 0);
    snprintf(n->name, sizeof n->name, "%s", store_text(r, 1));
}

/* store_query_vec: the rows into the caller's array; over its cap NX_ETOOBIG (never a cut batch); a
 * read that fails on a row is the error, not a short batch. store_query_ids: the same for a batch of
 * ids. sqlq_query_vec: the batch of a built query, nothing run when it overflowed. store_read_finish:
 * the answer given on success, released (ASan) on failure. */
static void test_query_vec_read_finish(void)
{
    store *s = open_db("vec.db");
    nx_err e = {0};
    store_tx *tx;
    vec v;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    vec_init(&v, sizeof(named), 10);
    store_param p[] = {P_INT(7)};
    CHECK_INT(store_query_vec(tx, "SELECT id, name FROM t WHERE id >= $1 ORDER BY id", p, 1, named_fill, &v, &e), 0);
    CHECK_INT((int)v.len, 4);
    CHECK_INT((int)((named *)v.items)[0].id, 7);
    CHECK_STR(((named *)v.items)[3].name, "n10");
    vec_cleanup(&v);
    vec_init(&v, sizeof(named), 3);
    CHECK_INT(store_query_vec(tx, "SELECT id, name FROM t ORDER BY id", NULL, 0, named_fill, &v, &e), NX_ETOOBIG);
    CHECK_INT((int)v.len, 3);
    vec_cleanup(&v);
    /* store_query_ids: the first column as int64_t, the same cap and errors */
    vec_init(&v, sizeof(int64_t), 10);
    CHECK_INT(store_query_ids(tx, "SELECT id, name FROM t WHERE id >= $1 ORDER BY id DESC", p, 1, &v, &e), 0);
    CHECK_INT((int)v.len, 4);
    CHECK_INT((int)((int64_t *)v.items)[0], 10);
    CHECK_INT((int)((int64_t *)v.items)[3], 7);
    vec_cleanup(&v);
    vec_init(&v, sizeof(int64_t), 2);
    CHECK_INT(store_query_ids(tx, "SELECT id FROM t ORDER BY id", NULL, 0, &v, &e), NX_ETOOBIG);
    CHECK_INT((int)v.len, 2);
    vec_cleanup(&v);
    /* sqlq_query_vec: the same batch from a built query; an overflowed query runs nothing */
    sqlq q;
    sqlq_init(&q, "SELECT id, name FROM t WHERE 1 = 1");
    sqlq_add(&q, " AND id >= $%d", P_INT(7));
    sqlq_sql(&q, " ORDER BY id");
    vec_init(&v, sizeof(named), 10);
    CHECK_INT(sqlq_query_vec(tx, &q, named_fill, &v, &e), 0);
    CHECK_INT((int)v.len, 4);
    CHECK_INT((int)((named *)v.items)[0].id, 7);
    CHECK_STR(((named *)v.items)[3].name, "n10");
    vec_cleanup(&v);
    vec_init(&v, sizeof(named), 2);
    CHECK_INT(sqlq_query_vec(tx, &q, named_fill, &v, &e), NX_ETOOBIG);
    CHECK_INT((int)v.len, 2);
    vec_cleanup(&v);
    sqlq_overflow(&q);
    vec_init(&v, sizeof(named), 10);
    CHECK_INT(sqlq_query_vec(tx, &q, named_fill, &v, &e), NX_EINTERNAL);
    CHECK_INT((int)v.len, 0);
    vec_cleanup(&v);
    vec_init(&v, sizeof(named), 10);
    CHECK(store_query_vec(tx, tb_pg() ? "SELECT id, CAST(name AS integer) FROM t ORDER BY id"
                                      : "SELECT id, CASE WHEN id > 3 THEN json(name) ELSE name END FROM t ORDER BY id",
                          NULL, 0, named_fill, &v, &e) < 0);
    CHECK(e.code != NX_ETOOBIG);
    CHECK((int)v.len <= 3);
    vec_cleanup(&v);
    json_t *out = NULL;
    CHECK_INT(store_read_finish(tx, 0, json_pack("{s:i}", "n", 1), &out), 0);
    CHECK_INT((int)json_integer_value(json_object_get(out, "n")), 1);
    json_decref(out);
    out = NULL;
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK_INT(store_read_finish(tx, NX_EINVAL, json_pack("{s:i}", "n", 2), &out), NX_EINVAL);
    CHECK(out == NULL);
    store_close(s);
}

/* sqlq_read: q's rows in a read transaction of its own, or nothing left open — an overflowed
 * query and a statement that fails each leave *tx and *rows NULL, and the store takes the next
 * transactions (a write among them) as before. */
static void test_sqlq_read(void)
{
    store *s = open_db("read.db");
    nx_err e = {0};
    sqlq q;
    store_tx *tx = NULL;
    store_rows *r = NULL;
    sqlq_init(&q, "SELECT id, name FROM t WHERE 1 = 1");
    sqlq_range_text(&q, "name", "n2", "n4");
    sqlq_sql(&q, " ORDER BY id");
    CHECK_INT(sqlq_read(s, &q, &tx, &r, &e), 0);
    CHECK(tx != NULL && r != NULL);
    int64_t sum = 0;
    int n = 0;
    while (store_row(r)) {
        sum += store_int(r, 0);
        n++;
    }
    CHECK_INT(store_rows_end(r, &e), 0);
    store_rollback(tx);
    CHECK_INT(n, 3);
    CHECK_INT(sum, 2 + 3 + 4);
    for (int i = 0; i < 3; i++) {
        sqlq_init(&q, "SELECT id FROM t WHERE 1 = 1");
        for (int k = 0; k <= SQLQ_PARAMS; k++)
            sqlq_eq_int(&q, "id", 1);
        CHECK_INT(sqlq_read(s, &q, &tx, &r, &e), NX_EINTERNAL);
        CHECK(tx == NULL && r == NULL);
        sqlq_init(&q, "SELECT id FROM no_such_table");
        CHECK(sqlq_read(s, &q, &tx, &r, &e) < 0);
        CHECK(tx == NULL && r == NULL);
    }
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "UPDATE t SET name = name WHERE id = 1", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    store_close(s);
}

static void run_backend(void)
{
    TEST_RUN(test_page);
    TEST_RUN(test_page_row_failure);
    TEST_RUN(test_json_row);
    TEST_RUN(test_scoped_query);
    TEST_RUN(test_items_get);
    TEST_RUN(test_items_of);
    TEST_RUN(test_get_first_build);
    TEST_RUN(test_exists_or_fail);
    TEST_RUN(test_conflict_field);
    TEST_RUN(test_read_errors);
    TEST_RUN(test_query_vec_read_finish);
    TEST_RUN(test_sqlq_read);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    if (tb_init("nx-test-query") != 0)
        return 1;
    TEST_RUN(test_builder);
    TEST_RUN(test_eq);
    TEST_RUN(test_range);
    TEST_RUN(test_overflow);
    TEST_RUN(test_scope);
    run_backend();
    if (tb_use_pg())
        run_backend();
    tb_cleanup();
    return TEST_DONE();
}
