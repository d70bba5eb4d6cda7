/* page.h — one list page, and the row-to-JSON helpers every module uses.
 *
 * Every list of the API answers the same envelope:
 *
 *     {"items": [...], "total": N, "next_cursor": "…" | null}
 *
 * ("total" only when the caller asks for a count). The page builder runs the list query with
 * LIMIT limit + 1: the extra row only says that more follow, and the cursor for the next page is
 * taken from the last row shown (by default column 0, the id, for "WHERE id < $cursor ORDER BY id
 * DESC" or "id > $cursor ORDER BY id"). The limit is clamped to the configured cap (page_max):
 * no list answers more rows than the operator allowed, and no list is unbounded. A read that fails
 * on the way fails the page (store_rows_end): never a short list with a 200.
 *
 * The row helpers turn one column into a JSON value, SQL NULL into null. */
#ifndef NX_STORE_PAGE_H
#define NX_STORE_PAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/query.h"
#include "store/store.h"

/* Room for a cursor, NUL included (the longest: the resident list's hex ICU sort key and id). */
#define STORE_PAGE_CURSOR 1200

typedef struct store_page_spec {
    int limit;            /* rows asked for; <= 0 or over max: max */
    int max;              /* the configured cap (nx_config.page_max); must be >= 1 */
    const sqlq *count;    /* a COUNT(*) query of the same filters for "total"; NULL: no total */
    /* One item per row: row(r) or, when row is NULL, row_ctx(r, ctx). Returning NULL fails the
     * page (NX_ENOMEM: "无法生成列表"); a row function that needs to report its own error sets
     * *err in ctx and returns NULL. */
    json_t *(*row)(store_rows *r);
    json_t *(*row_ctx)(store_rows *r, void *ctx);
    void *ctx;
    /* Writes the cursor that continues after row r (NUL-terminated, at most cap bytes; cap is
     * STORE_PAGE_CURSOR). NULL: the integer in column 0. */
    void (*cursor)(store_rows *r, char *out, size_t cap);
} store_page_spec;

/* Append " LIMIT $N" (the clamped limit + 1) to q, run it on tx, and build the page into *out (a new
 * reference). tx stays open (the caller commits or rolls back). Errors: q's overflow
 * (NX_EINTERNAL), the database's (rows as store_rows_end), NX_ENOMEM. */
int store_page(store_tx *tx, sqlq *q, const store_page_spec *s, json_t **out, nx_err *e);
/* store_page in a read transaction of its own on db. */
int store_page_read(store *db, sqlq *q, const store_page_spec *s, json_t **out, nx_err *e);
/* The end of a list paged by id, then store_page_read: newest first, " AND <alias>id < $after" (only
 * when after is set) and " ORDER BY <alias>id DESC"; with oldest_first, " AND <alias>id > $after" and
 * " ORDER BY <alias>id". alias is the table's with its dot ("l.") or "". s's limit and max are the
 * caller's (the request's and page_max). Errors as store_page. */
int store_page_by_id(store *db, sqlq *q, const char *alias, int64_t after, bool oldest_first, const store_page_spec *s,
                     json_t **out, nx_err *e);
/* Every row of q on tx through s's row function into *items, a new JSON array (not an envelope):
 * the sub-lists of one record read in the record's own transaction (an application's materials and
 * timeline). tx stays open. s->max > 0 is a cap as in store_items_read; errors as store_page. */
int store_items(store_tx *tx, sqlq *q, const store_page_spec *s, json_t **items, nx_err *e);
/* A record's sub-list read in the record's own transaction: every row of sql, whose one parameter
 * ($1) is id, on tx through s's row function (store_items, s->max a cap as there), set as o[key]
 * (o keeps the array). 0, or store_items' error with o left without key. tx stays open. */
int store_items_of(store_tx *tx, const char *sql, int64_t id, const store_page_spec *s, json_t *o, const char *key,
                   nx_err *e);
/* Every row of q as {"items": [...]} through s's row function, in a read transaction of its own on
 * db: for the short lists that are not paged (vocabularies, visit policies, service items, a grid's
 * members). s->max > 0 is a cap: more rows than that is NX_ETOOBIG ("列表超过 N 项"), never a cut
 * list; 0 leaves the list to what an administrator keeps short. s's limit, count and cursor are not
 * used. Otherwise errors as store_page. */
int store_items_read(store *db, sqlq *q, const store_page_spec *s, json_t **out, nx_err *e);
/* The first row of q through s's row function into *out (a new reference), in a read transaction of
 * its own on db: NX_ENOTFOUND with missing (Chinese, field "") when q finds no row; a failed read,
 * or a row function's NULL, as store_page. */
int store_get_read(store *db, sqlq *q, const store_page_spec *s, const char *missing, json_t **out, nx_err *e);
/* store_get_read on tx, which stays open (the caller commits or rolls back): a record read in the
 * transaction that goes on to read its parts, or a write that reads its object first. */
int store_get(store_tx *tx, sqlq *q, const store_page_spec *s, const char *missing, json_t **out, nx_err *e);
/* A record with its parts (its row, then the lists of its children set on it), read in one read
 * transaction of its own on db: build(tx, ctx, id, &obj) makes the object; *out gets it only when
 * build returns 0, otherwise whatever build had left in obj is released and build's error returned.
 * ctx is the caller's (a principal, say), passed through. Blocks on the store. */
typedef int (*store_build_fn)(store_tx *tx, const void *ctx, int64_t id, json_t **obj, nx_err *e);
int store_build_read(store *db, store_build_fn build, const void *ctx, int64_t id, json_t **out, nx_err *e);
/* The one exit of a read transaction that built the answer o: roll tx back, then give o to *out when
 * rc is 0, or release o (NULL accepted) otherwise. Returns rc. A read then ends
 *     done:
 *         return store_read_finish(tx, rc, o, out); */
int store_read_finish(store_tx *tx, int rc, json_t *o, json_t **out);
/* The limit store_page uses for a request of limit rows under the cap max. */
int store_page_limit(int limit, int max);

/* The id cursor of a list ("123", the id of the last row shown) into *out: 0 when cursor is NULL
 * or "", else a positive integer; anything else is NX_EINVAL naming "cursor". */
int store_page_cursor_id(const char *cursor, int64_t *out, nx_err *e);

/* Row-to-JSON: SQL NULL gives null. */
json_t *store_json_text(store_rows *r, int col);
json_t *store_json_int(store_rows *r, int col);
json_t *store_json_real(store_rows *r, int col);
json_t *store_json_bool(store_rows *r, int col); /* 0 false, other true */
json_t *store_json_time(store_rows *r, int col); /* epoch ms → local ISO 8601 time (base/clock.h) */
/* Set key on o to the column's JSON value (the helpers above), so that a row reads as a list of
 * columns. */
void store_json_set(json_t *o, const char *key, json_t *(*conv)(store_rows *, int), store_rows *r, int col);

/* A row as a JSON object, column by column, so that a module's row function is one line of what
 * its SELECT shows: spec names the columns in order as space-separated "key:type" words, type one
 * of i (integer), t (text), r (real), b (boolean), d (epoch ms as local time, store_json_time);
 * SQL NULL is null in every type. A word "-" passes over its column (the caller sets what it
 * needs from it: a decrypted phone, a label). Example, for "SELECT id, name, phone_enc, at ...":
 *     json_t *o = store_json_row(r, "id:i name:t - at:d");
 * Returns a new object; NULL when out of memory or when a word does not parse (a programming
 * error, so that a typo fails the module's first test: store_page fails on a NULL row). */
json_t *store_json_row(store_rows *r, const char *spec);
/* store_json_row for a spec's row_ctx, ctx being the words: for the lists whose rows are nothing but
 * their columns, e.g. (store_page_spec){.row_ctx = store_json_row_ctx, .ctx = "id:i title:t"}. */
json_t *store_json_row_ctx(store_rows *r, void *spec);
/* The same words, set on o starting at column col (for a row whose first columns another spec or
 * the caller reads). Returns 0, or -1 on a word that does not parse. */
int store_json_cols(json_t *o, store_rows *r, int col, const char *spec);

#endif
