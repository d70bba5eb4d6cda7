/* query.c — the SQL condition builder (query.h).
 *
 * The one invariant: once anything did not fit (text, parameters, LIKE patterns), q->over is set,
 * nothing more is appended, and sqlq_check — which every run calls — fails. The text is kept NUL
 * terminated at all times so that a caller may still log or inspect it. */
#include "store/query.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"

void sqlq_init(sqlq *q, const char *head)
{
    q->len = 0;
    q->sql[0] = '\0';
    q->n = 0;
    q->tlen = 0;
    q->over = false;
    if (head)
        sqlq_append(q, head);
}

void sqlq_overflow(sqlq *q)
{
    q->over = true;
}

__attribute__((format(printf, 2, 0))) static void vappend(sqlq *q, const char *fmt, va_list ap)
{
    if (q->over)
        return;
    size_t room = sizeof q->sql - q->len;
    int w = vsnprintf(q->sql + q->len, room, fmt, ap);
    if (w < 0 || (size_t)w >= room) {
        q->sql[q->len] = '\0'; /* keep the text as it was before the failed append */
        q->over = true;
        return;
    }
    q->len += (size_t)w;
}

void sqlq_sql(sqlq *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vappend(q, fmt, ap);
    va_end(ap);
}

void sqlq_append(sqlq *q, const char *text)
{
    sqlq_sql(q, "%s", text);
}

int sqlq_param(sqlq *q, store_param v)
{
    if (q->over)
        return 0;
    if (q->n >= SQLQ_PARAMS) {
        q->over = true;
        return 0;
    }
    q->p[q->n++] = v;
    return q->n;
}

void sqlq_add(sqlq *q, const char *fmt_with_d, store_param v)
{
    int k = sqlq_param(q, v);
    if (k == 0)
        return;
    /* fmt_with_d is always a literal of the caller's with one %d (see query.h) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    sqlq_sql(q, fmt_with_d, k);
#pragma GCC diagnostic pop
}


/* " AND <column> <op> $N" with v: the one spelling of a filter's condition. */
static void cmp(sqlq *q, const char *column, const char *op, store_param v)
{
    int k = sqlq_param(q, v);
    if (k)
        sqlq_sql(q, " AND %s %s $%d", column, op, k);
}

void sqlq_eq_int(sqlq *q, const char *column, int64_t v)
{
    if (v)
        cmp(q, column, "=", P_INT(v));
}

void sqlq_eq_text(sqlq *q, const char *column, const char *v)
{
    if (v)
        cmp(q, column, "=", P_TEXT(v));
}

void sqlq_range_text(sqlq *q, const char *column, const char *from, const char *to)
{
    if (from)
        cmp(q, column, ">=", P_TEXT(from));
    if (to)
        cmp(q, column, "<=", P_TEXT(to));
}

void sqlq_range_ms(sqlq *q, const char *column, int64_t from_ms, int64_t to_ms)
{
    if (from_ms)
        cmp(q, column, ">=", P_INT(from_ms));
    if (to_ms)
        cmp(q, column, "<", P_INT(to_ms));
}

int sqlq_like(sqlq *q, const char *fmt_with_d, const char *term, bool infix)
{
    if (q->over)
        return 0;
    size_t room = sizeof q->text - q->tlen;
    /* every byte may be escaped, plus two %s, the NUL and str_like_pattern's margin */
    if (strlen(term) * 2 + 4 > room) {
        q->over = true;
        return 0;
    }
    char *pat = q->text + q->tlen;
    str_like_pattern(term, infix, pat, room);
    q->tlen += strlen(pat) + 1;
    int k = sqlq_param(q, P_TEXT(pat));
    if (k == 0)
        return 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    sqlq_sql(q, fmt_with_d, k);
#pragma GCC diagnostic pop
    return q->over ? 0 : k;
}

int sqlq_check(const sqlq *q, nx_err *e)
{
    return q->over ? nx_fail(e, NX_EINTERNAL, "", "查询过长") : 0;
}

int sqlq_query(store_tx *tx, const sqlq *q, store_rows **rows, nx_err *e)
{
    *rows = NULL;
    int rc = sqlq_check(q, e);
    return rc ? rc : store_query(tx, q->sql, q->p, q->n, rows, e);
}

int sqlq_read(store *db, const sqlq *q, store_tx **tx, store_rows **rows, nx_err *e)
{
    *rows = NULL;
    int rc = store_begin(db, STORE_READ, tx, e);
    if (rc) {
        *tx = NULL;
        return rc;
    }
    if ((rc = sqlq_query(*tx, q, rows, e))) {
        store_rollback(*tx);
        *tx = NULL;
    }
    return rc;
}

int sqlq_one_int(store_tx *tx, const sqlq *q, int64_t *out, nx_err *e)
{
    *out = 0;
    int rc = sqlq_check(q, e);
    return rc ? rc : store_one_int(tx, q->sql, q->p, q->n, out, e);
}

int sqlq_first(store_tx *tx, const sqlq *q, const char *missing, store_rows **rows, nx_err *e)
{
    *rows = NULL;
    int rc = sqlq_check(q, e);
    return rc ? rc : store_query_first(tx, q->sql, q->p, q->n, missing, rows, e);
}

int sqlq_query_vec(store_tx *tx, const sqlq *q, void (*fill)(store_rows *r, void *elem), struct vec *v, nx_err *e)
{
    int rc = sqlq_check(q, e);
    return rc ? rc : store_query_vec(tx, q->sql, q->p, q->n, fill, v, e);
}

int sqlq_exec(store_tx *tx, const sqlq *q, int64_t *changes, nx_err *e)
{
    int rc = sqlq_check(q, e);
    return rc ? rc : store_exec(tx, q->sql, q->p, q->n, changes, e);
}
