/* page.c — the page builder and row-to-JSON helpers (page.h).
 *
 * store_page never trusts the caller's limit: it is clamped to [1, max] here, once, so that no list
 * handler can forget the configured cap. The count query runs after the rows, in the same
 * transaction, so a read transaction gives a total that matches the rows of the same snapshot. */
#include "store/page.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"

int store_page_limit(int limit, int max)
{
    if (max < 1)
        max = 1;
    return limit <= 0 || limit > max ? max : limit;
}

static void int_cursor(store_rows *r, char *out, size_t cap)
{
    snprintf(out, cap, "%lld", (long long)store_int(r, 0));
}

int store_page(store_tx *tx, sqlq *q, const store_page_spec *s, json_t **out, nx_err *e)
{
    *out = NULL;
    int limit = store_page_limit(s->limit, s->max);
    sqlq_sql(q, " LIMIT %d", limit + 1);
    store_rows *r;
    int rc = sqlq_query(tx, q, &r, e);
    if (rc)
        return rc;
    /* Whatever an earlier call left in e is not this page's error: a row function that reports its
     * own sets it afresh, and a NULL without a report is NX_ENOMEM. */
    nx_err_clear(e);
    void (*cursor)(store_rows *, char *, size_t) = s->cursor ? s->cursor : int_cursor;
    json_t *items = json_array();
    char next[STORE_PAGE_CURSOR] = "";
    bool more = false;
    int count = 0;
    while (items && store_row(r)) {
        if (count == limit) {
            more = true;
            break;
        }
        json_t *item = s->row ? s->row(r) : s->row_ctx(r, s->ctx);
        if (item == NULL || json_array_append_new(items, item)) {
            store_rows_free(r);
            json_decref(items);
            return e && e->code ? e->code : nx_fail(e, NX_ENOMEM, "", "无法生成列表");
        }
        cursor(r, next, sizeof next);
        count++;
    }
    if ((rc = store_rows_end(r, e)) || items == NULL) {
        json_decref(items);
        return rc ? rc : nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    json_t *o = json_object();
    json_object_set_new(o, "items", items);
    if (s->count) {
        int64_t total = 0;
        if ((rc = sqlq_one_int(tx, s->count, &total, e))) {
            json_decref(o);
            return rc;
        }
        json_object_set_new(o, "total", json_integer(total));
    }
    json_object_set_new(o, "next_cursor", more ? json_string(next) : json_null());
    *out = o;
    return 0;
}

int store_page_read(store *db, sqlq *q, const store_page_spec *s, json_t **out, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    rc = store_page(tx, q, s, out, e);
    store_rollback(tx);
    return rc;
}

int store_page_by_id(store *db, sqlq *q, const char *alias, int64_t after, bool oldest_first, const store_page_spec *s,
                     json_t **out, nx_err *e)
{
    if (after)
        sqlq_sql(q, " AND %sid %c $%d", alias, oldest_first ? '>' : '<', sqlq_param(q, P_INT(after)));
    sqlq_sql(q, " ORDER BY %sid%s", alias, oldest_first ? "" : " DESC");
    return store_page_read(db, q, s, out, e);
}

/* Rows of q through s's row function into a new array *items, on tx: all of them (more than
 * s->max, when it is set, is NX_ETOOBIG), or only the first when one. *items is NULL on failure. */
static int read_rows_tx(store_tx *tx, sqlq *q, const store_page_spec *s, bool one, json_t **items, nx_err *e)
{
    *items = NULL;
    store_rows *r;
    int rc = sqlq_query(tx, q, &r, e);
    if (rc)
        return rc;
    nx_err_clear(e); /* as in store_page: a row function's own report, else NX_ENOMEM */
    json_t *a = json_array();
    while (a && rc == 0 && store_row(r)) {
        if (!one && s->max > 0 && json_array_size(a) == (size_t)s->max) {
            rc = nx_fail(e, NX_ETOOBIG, "", "列表超过 %d 项", s->max);
            break;
        }
        json_t *item = s->row ? s->row(r) : s->row_ctx(r, s->ctx);
        if (item == NULL || json_array_append_new(a, item))
            rc = e && e->code ? e->code : nx_fail(e, NX_ENOMEM, "", "无法生成列表");
        else if (one)
            break;
    }
    if (rc)
        store_rows_free(r);
    else if ((rc = store_rows_end(r, e)) == 0 && a == NULL)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    if (rc)
        json_decref(a);
    else
        *items = a;
    return rc;
}

int store_items(store_tx *tx, sqlq *q, const store_page_spec *s, json_t **items, nx_err *e)
{
    return read_rows_tx(tx, q, s, false, items, e);
}

int store_items_of(store_tx *tx, const char *sql, int64_t id, const store_page_spec *s, json_t *o, const char *key,
                   nx_err *e)
{
    sqlq q;
    sqlq_init(&q, sql);
    sqlq_param(&q, P_INT(id));
    json_t *items;
    int rc = store_items(tx, &q, s, &items, e);
    if (rc == 0)
        json_object_set_new(o, key, items);
    return rc;
}

/* read_rows_tx in a read transaction of its own on db. */
static int read_rows(store *db, sqlq *q, const store_page_spec *s, bool one, json_t **items, nx_err *e)
{
    *items = NULL;
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    rc = read_rows_tx(tx, q, s, one, items, e);
    store_rollback(tx);
    return rc;
}

int store_items_read(store *db, sqlq *q, const store_page_spec *s, json_t **out, nx_err *e)
{
    json_t *items;
    int rc = read_rows(db, q, s, false, &items, e);
    if (rc == 0 && (*out = json_pack("{s:o}", "items", items)) == NULL)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    return rc;
}

/* The first of items (a new reference) into *out, or NX_ENOTFOUND with missing; items released. */
static int first_item(json_t *items, const char *missing, json_t **out, nx_err *e)
{
    int rc = 0;
    if (json_array_size(items) == 0)
        rc = nx_fail(e, NX_ENOTFOUND, "", "%s", missing ? missing : "未找到数据");
    else
        *out = json_incref(json_array_get(items, 0));
    json_decref(items);
    return rc;
}

int store_get(store_tx *tx, sqlq *q, const store_page_spec *s, const char *missing, json_t **out, nx_err *e)
{
    json_t *items;
    int rc = read_rows_tx(tx, q, s, true, &items, e);
    return rc ? rc : first_item(items, missing, out, e);
}

int store_get_read(store *db, sqlq *q, const store_page_spec *s, const char *missing, json_t **out, nx_err *e)
{
    json_t *items;
    int rc = read_rows(db, q, s, true, &items, e);
    return rc ? rc : first_item(items, missing, out, e);
}

int store_build_read(store *db, store_build_fn build, const void *ctx, int64_t id, json_t **out, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    json_t *o = NULL;
    rc = build(tx, ctx, id, &o, e);
    return store_read_finish(tx, rc, o, out);
}

int store_read_finish(store_tx *tx, int rc, json_t *o, json_t **out)
{
    store_rollback(tx);
    if (rc)
        json_decref(o);
    else
        *out = o;
    return rc;
}

int store_page_cursor_id(const char *cursor, int64_t *out, nx_err *e)
{
    *out = 0;
    if (cursor == NULL || *cursor == '\0')
        return 0;
    if (str_to_i64(cursor, 1, INT64_MAX, out))
        return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
    return 0;
}

json_t *store_json_text(store_rows *r, int col)
{
    const char *s = store_text(r, col);
    return s ? json_string(s) : json_null();
}

json_t *store_json_int(store_rows *r, int col)
{
    return store_isnull(r, col) ? json_null() : json_integer(store_int(r, col));
}

json_t *store_json_real(store_rows *r, int col)
{
    return store_isnull(r, col) ? json_null() : json_real(store_real(r, col));
}

json_t *store_json_bool(store_rows *r, int col)
{
    return store_isnull(r, col) ? json_null() : json_boolean(store_int(r, col) != 0);
}

json_t *store_json_time(store_rows *r, int col)
{
    if (store_isnull(r, col))
        return json_null();
    char t[30];
    clock_format_local(store_int(r, col), t);
    return json_string(t);
}

void store_json_set(json_t *o, const char *key, json_t *(*conv)(store_rows *, int), store_rows *r, int col)
{
    json_object_set_new(o, key, conv(r, col));
}

int store_json_cols(json_t *o, store_rows *r, int col, const char *spec)
{
    for (const char *w = spec; *w; col++) {
        while (*w == ' ')
            w++;
        if (!*w)
            break;
        size_t n = strcspn(w, " ");
        if (n == 1 && *w == '-') {
            w += n;
            continue;
        }
        const char *colon = memchr(w, ':', n);
        char key[64];
        size_t klen = colon ? (size_t)(colon - w) : 0;
        static const char types[] = "itrbd";
        static json_t *(*const convs[])(store_rows *, int) = {store_json_int, store_json_text, store_json_real,
                                                               store_json_bool, store_json_time};
        const char *t = colon && colon + 2 == w + n ? strchr(types, colon[1]) : NULL;
        json_t *(*conv)(store_rows *, int) = t ? convs[t - types] : NULL;
        if (!conv || klen == 0 || klen >= sizeof key)
            return -1;
        memcpy(key, w, klen);
        key[klen] = '\0';
        json_object_set_new(o, key, conv(r, col));
        w += n;
    }
    return 0;
}

json_t *store_json_row(store_rows *r, const char *spec)
{
    json_t *o = json_object();
    if (o && store_json_cols(o, r, 0, spec)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *store_json_row_ctx(store_rows *r, void *spec)
{
    return store_json_row(r, spec);
}
