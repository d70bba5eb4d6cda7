/* query.h — the SQL condition builder every module uses.
 *
 * A query is built as text plus its parameters: a fixed SELECT … WHERE 1 = 1 head, then one
 * condition per filter the request asked for, each with its $N parameter, then ORDER BY. Before
 * this builder every module had its own, and they disagreed on the one thing that matters: what
 * happens when the text or the parameter array is full. Here the answer is one: the builder records
 * the overflow, stops growing, and every later run of the query fails with NX_EINTERNAL ("查询过长").
 * A condition is never silently dropped — a dropped scope condition would be a data leak.
 *
 *     sqlq q;
 *     sqlq_init(&q, "SELECT … FROM tasks t WHERE 1 = 1");
 *     perm_scope_q(who, "t.", "resident_id", &q);                 (secure/perm.h)
 *     if (f->status) sqlq_add(&q, " AND t.status = $%d", P_TEXT(f->status));
 *     sqlq_like(&q, " AND t.title LIKE $%d ESCAPE '!'", f->q, true);
 *     sqlq_sql(&q, " ORDER BY t.id DESC");
 *     rc = sqlq_query(tx, &q, &rows, e);                          (or store_page, store/page.h)
 *
 * Text parameters are borrowed: the strings passed to P_TEXT must outlive the query. LIKE patterns
 * made by sqlq_like are copied into the builder itself. A builder is a plain value (about 10 KiB);
 * it lives on the caller's stack and needs no cleanup. Not thread-safe (one per request). */
#ifndef NX_STORE_QUERY_H
#define NX_STORE_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

#define SQLQ_SQL    6144 /* bytes of SQL text */
#define SQLQ_PARAMS 48   /* parameters */
#define SQLQ_TEXT   1024 /* bytes of LIKE patterns kept inside */

typedef struct sqlq {
    char sql[SQLQ_SQL];
    size_t len;
    store_param p[SQLQ_PARAMS];
    int n;
    char text[SQLQ_TEXT];
    size_t tlen;
    bool over; /* sticky: the query no longer says what the caller asked for */
} sqlq;

/* Start a query with head (copied; NULL = empty). */
void sqlq_init(sqlq *q, const char *head);
/* Append printf-formatted SQL text (a literal of the caller's, never input). */
void sqlq_sql(sqlq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add a parameter and return its number N for "$N" (on overflow: marks q and returns 0). */
int sqlq_param(sqlq *q, store_param v);
/* Add one parameter and append fmt_with_d with its number, e.g. " AND t.kind = $%d". fmt_with_d
 * must be a literal with exactly one %d. */
void sqlq_add(sqlq *q, const char *fmt_with_d, store_param v);
/* Add a LIKE pattern for term (escaped for ESCAPE '!': "term%" or, with infix, "%term%"), copied
 * into q, and append fmt_with_d with its number. Returns the parameter's number (0 on overflow) so
 * that the same pattern can be named again with sqlq_sql. */
int sqlq_like(sqlq *q, const char *fmt_with_d, const char *term, bool infix);
/* A list filter that may be absent: " AND <column> = $N" with v, only when v is set — an id other
 * than 0, a text other than NULL (an empty text is a value: it is compared). column is a literal of
 * the caller's with its alias ("l.book_id"). What every filter reader spelled as
 *     if (f->book_id) sqlq_add(&q, " AND l.book_id = $%d", P_INT(f->book_id));
 * is sqlq_eq_int(&q, "l.book_id", f->book_id). */
void sqlq_eq_int(sqlq *q, const char *column, int64_t v);
void sqlq_eq_text(sqlq *q, const char *column, const char *v);
/* A range filter whose ends may each be absent, on a text column that orders as it reads (a day
 * "YYYY-MM-DD", a month): " AND <column> >= $N" when from is set, " AND <column> <= $M" when to is
 * set (both ends inclusive; NULL = open). What list filters spelled as
 *     if (f->from) sqlq_add(&q, " AND v.visited_on >= $%d", P_TEXT(f->from));
 *     if (f->to) sqlq_add(&q, " AND v.visited_on <= $%d", P_TEXT(f->to));
 * is sqlq_range_text(&q, "v.visited_on", f->from, f->to). */
void sqlq_range_text(sqlq *q, const char *column, const char *from, const char *to);
/* The same for a time in epoch milliseconds, half-open as a span of days is: " AND <column> >= $N"
 * when from_ms is not 0, " AND <column> < $M" when to_ms is not 0. */
void sqlq_range_ms(sqlq *q, const char *column, int64_t from_ms, int64_t to_ms);
/* Append a full parameter-less fragment built elsewhere (e.g. a fixed scope condition). */
void sqlq_append(sqlq *q, const char *text);
/* 0, or NX_EINTERNAL with e filled when the query overflowed. */
int sqlq_check(const sqlq *q, nx_err *e);
/* Mark q as overflowed (for code that writes into q->sql itself and ran out of room). */
void sqlq_overflow(sqlq *q);

/* Run q on tx (sqlq_check first). Rows as store_query. */
int sqlq_query(store_tx *tx, const sqlq *q, store_rows **rows, nx_err *e);
/* Run q in a read transaction of its own on db: 0 with *tx and *rows open (read the rows, then
 *     rc = store_rows_end(r, e);
 *     store_rollback(tx);
 * ), otherwise both NULL and nothing left open (the transaction's error, q's overflow or the
 * query's). For a read that walks the rows of one query itself (groups them, sums them) rather than
 * through a row function (store/page.h). */
int sqlq_read(store *db, const sqlq *q, store_tx **tx, store_rows **rows, nx_err *e);
/* Run q, which returns one integer (COUNT(*) …); NX_ENOTFOUND when no row. */
int sqlq_one_int(store_tx *tx, const sqlq *q, int64_t *out, nx_err *e);
/* Run q and stand on its first row (store_query_first): 0 with *rows open on it (then
 * store_rows_free); otherwise *rows is NULL and the error is q's overflow, NX_ENOTFOUND with
 * missing, or the read's. */
int sqlq_first(store_tx *tx, const sqlq *q, const char *missing, store_rows **rows, nx_err *e);
/* Every row of q through fill into v, as store_query_vec (store/store.h): the batch a ticker or a sweep
 * reads first and acts on after, its conditions built with sqlq (a scope, a due time). q's overflow
 * (NX_EINTERNAL), the query's or the read's error, or v's refusal; v is freed by the caller either way. */
int sqlq_query_vec(store_tx *tx, const sqlq *q, void (*fill)(store_rows *r, void *elem), struct vec *v, nx_err *e);
/* Run q as a statement without rows. */
int sqlq_exec(store_tx *tx, const sqlq *q, int64_t *changes, nx_err *e);

#endif
