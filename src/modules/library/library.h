/* library.h — the neighbourhood library (邻里图书馆) and book drifting (图书漂流): a catalogue of
 * titles, the physical copies with their printed label codes, reader categories with loan rules,
 * loans by scanning a label, holds with a queue and a hold shelf, blocks instead of fines, donations,
 * and the public journey page of a drifting copy.
 *
 * Every row belongs to a community. Staff with RIGHT_LIBRARY_MANAGE act in their scope (applied in
 * SQL); readers (resident and family accounts, RIGHT_SELF) search their community's catalogue and
 * read, renew and hold for the resident their account is bound to. Out of scope reads as "not found".
 * Changes emit their events (below) in the same transaction as the change. Threads: none of its own;
 * every function is called from an HTTP worker, a ticker or a test and blocks on the store.
 *
 * Invariants the database holds, not only the code: a copy has at most one open loan (the partial
 * unique index book_loans_open), a reader at most one active hold per title and a copy at most one
 * hold keeping it on the hold shelf. */
#ifndef NX_MODULES_LIBRARY_H
#define NX_MODULES_LIBRARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/app.h" /* nx_app, nx_principal — no HTTP */
#include "store/ticker.h"

/* Event kinds (notify/outbox.h), emitted in the transaction of the change. Payloads carry ids and
 * times, never names:
 *   due_soon  {loan_id, resident_id, book_id, copy_id, due_at}      less than LIBRARY_DUE_SOON_MS left
 *   overdue   {loan_id, resident_id, book_id, copy_id, due_at}      once, when the due time has passed
 *   ready     {hold_id, resident_id, book_id, copy_id, pickup_by}   a copy waits on the hold shelf
 *   expired   {hold_id, resident_id, book_id, copy_id}              not picked up by pickup_by
 *   blocked   {resident_id, blocked_until}                          a late return blocks borrowing
 * (times in epoch ms). The messages module turns them into notifications for the reader. */
#define LIBRARY_EV_LOAN_DUE_SOON  "library.loan.due_soon"
#define LIBRARY_EV_LOAN_OVERDUE   "library.loan.overdue"
#define LIBRARY_EV_HOLD_READY     "library.hold.ready"
#define LIBRARY_EV_HOLD_EXPIRED   "library.hold.expired"
#define LIBRARY_EV_READER_BLOCKED "library.reader.blocked"

#define LIBRARY_DAY_MS       (24LL * 3600 * 1000)
#define LIBRARY_DUE_SOON_MS  (2 * LIBRARY_DAY_MS) /* the reminder before the due time */
#define LIBRARY_PICKUP_DAYS  3                    /* days a held copy waits on the hold shelf */
#define LIBRARY_BLOCK_MAX_DAYS 60                 /* the longest block a late return earns */

/* List filters; 0 / NULL = any. Each list reads those that apply to it:
 *   books: q (title, author or ISBN contains), community_id, audience
 *   copies: q (label code starts with), book_id, kind, status, community_id
 *   loans: resident_id, book_id, state ("open", "overdue", "returned"), community_id
 *   holds: resident_id, book_id, state ("active" = waiting or ready, or one status), community_id
 *   donations: community_id */
typedef struct library_filter {
    const char *q, *kind, *status, *state, *audience;
    int64_t community_id, book_id, resident_id;
    int64_t after; /* cursor: rows with id beyond it (books, copies by id ascending; loans, holds,
                      donations by id descending) */
    int limit;     /* clamped to page_max */
} library_filter;

/* ---- ISBN and names (pure) ---- */

/* Normalise an ISBN-10 or ISBN-13 (hyphens and spaces allowed; a final X for ISBN-10) into the 13
 * digits of ISBN-13 in out (NUL-terminated). 0, or NX_EINVAL (field "isbn") when the length, the
 * characters or the check digit are wrong, or an ISBN-13 does not start 978/979. No network. */
int library_isbn_normalize(const char *isbn, char out[14], nx_err *e);

/* The name a drifting copy's public page shows for a person: the surname and 某 ("王建国" →
 * "王某", "欧阳建国" → "欧阳某"), "某" for an empty or invalid name. Never the full name. out is
 * always terminated. */
void library_drift_name(const char *full, char *out, size_t n);

/* ---- catalogue ----
 * Reads need RIGHT_LIBRARY_MANAGE or RIGHT_SELF (a reader sees their community's catalogue);
 * writes RIGHT_LIBRARY_MANAGE and the community in scope. Bad input is NX_EINVAL naming the field
 * in Chinese; nothing is changed. */

/* {"items": [book…], "total", "next_cursor"}; a book is {id, community_id, isbn, title, author,
 * publisher, year, subject, audience, large_print, copies, available, holds_waiting, created_at}. */
int library_book_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e);
int library_book_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* in: {title, isbn?, author?, publisher?, year?, subject?, audience?, large_print?, community_id?}.
 * The ISBN is validated (library_isbn_normalize); a title with the same ISBN in the community is
 * NX_ECONFLICT (field "isbn"). community_id: required for callers above one community. */
int library_book_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int library_book_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* A copy: {id, community_id, book_id, title, code, kind, status, status_label, shelf, donation_id,
 * loan_id, due_at, created_at}. Readers list only the drifting copies (kind "drift") of their
 * community, to find one to pass on; other lists of copies are staff's. */
int library_copy_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e);
int library_copy_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* in: {book_id, kind ("shelf" | "drift"), code?, shelf?, donation_id?}. code: the pre-printed label
 * (4..20 of A-Z 0-9 -, upper-cased); absent: a random 8-character code. A new shelf copy serves
 * the first waiting hold of its title at once. */
int library_copy_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* in: {kind?, shelf?, status? ("available" | "lost" | "withdrawn")}; a copy on loan or on the hold
 * shelf cannot be marked (NX_ECONFLICT). */
int library_copy_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* Reader categories: {id, community_id, name, loan_days, renewals, max_loans, max_holds,
 * is_default}. A community without one gets "普通读者" (30 days, 1 renewal, 5 loans, 3 holds) the
 * first time a reader of it borrows or holds. */
int library_category_list(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);
int library_category_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int library_category_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
int library_category_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* A reader (id = the resident's id): {resident_id, community_id, name, category_id, category_name,
 * loan_days, renewals, max_loans, max_holds, open_loans, overdue_loans, active_holds, blocked,
 * blocked_until, block_reason}. Staff in scope or the reader themselves. */
int library_reader_get(nx_app *app, const nx_principal *who, int64_t resident_id, json_t **out, nx_err *e);
/* in: {category_id?, unblock? (true lifts a block from a late return; audited)}. Staff only. */
int library_reader_update(nx_app *app, const nx_principal *who, int64_t resident_id, json_t *in, nx_err *e);

/* Donations: {id, community_id, donor_resident_id, donor, books, note, received_on, created_at};
 * donor is the resident's drift name (王某) or the label. in: {donor_resident_id? | donor_label?,
 * books?, note?, received_on?, community_id?}. Staff only. */
int library_donation_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e);
int library_donation_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int library_donation_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);

/* ---- loans and holds (library_loans.c) ---- */

/* A loan: {id, community_id, grid_id, copy_id, code, kind, book_id, title, resident_id, reader_name,
 * out_at, due_at, renewals, returned_at, overdue}. Staff see their scope, readers their own. */
int library_loan_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e);
int library_loan_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Check out: in {code (the label, as scanned), resident_id}. Staff only. NX_EINVAL (field "code")
 * for an unknown label, ("resident_id") for an unknown reader; NX_ECONFLICT for a copy on loan, lost
 * or kept on the hold shelf for someone else, and for a blocked reader or one at their limit. A
 * copy kept for this reader fulfils their hold. Due after the category's loan_days. */
int library_loan_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* Return loan id (in: {} ), or by label (library_loan_return_code, in: {code}: *id gets the loan). A late
 * return blocks the reader for as many days as it was late (at most LIBRARY_BLOCK_MAX_DAYS); a
 * shelf copy goes to the hold shelf for the first waiting hold of its title (event "ready"), or
 * back on the shelf. NX_ECONFLICT when already returned. Staff only. */
int library_loan_return(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
int library_loan_return_code(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* Renew (in: {}): staff, or the reader for their own loan. NX_ECONFLICT when overdue, out of
 * renewals, or someone waits for the title. The new due time is loan_days from now (never earlier
 * than the old one). */
int library_loan_renew(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* A hold: {id, community_id, book_id, title, resident_id, reader_name, status, status_label,
 * position (1-based place in the queue while waiting, else null), copy_code (while ready),
 * placed_at, ready_at, pickup_by, closed_at}. */
int library_hold_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e);
int library_hold_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Place: in {book_id, resident_id?} (a reader holds for themselves; staff name the reader). The
 * title must have a shelf copy that is not lost or withdrawn. When a copy stands on the shelf and
 * nobody waits, it is put on the hold shelf at once. NX_ECONFLICT: blocked, at max_holds, already
 * holding or borrowing the title. */
int library_hold_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* Cancel (in: {}): the reader's own or staff; a copy on the hold shelf goes to the next in line. */
int library_hold_cancel(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* The ticker's work at now_ms: expire holds not picked up (the copy goes to the next in line), emit
 * due-soon and overdue events once per loan. *report (may be NULL) gets {expired, due_soon, overdue}.
 * Idempotent; runs its own write transaction. */
int library_tick(nx_app *app, int64_t now_ms, json_t **report, nx_err *e);
/* The ticker (store/ticker.h) running library_tick every period_ms (0 = 10 minutes) while this
 * process holds the lock "library.ticker". NULL *out on failure. */
typedef store_ticker library_ticker;
int library_ticker_start(nx_app *app, int64_t period_ms, library_ticker **out, nx_err *e);
void library_ticker_stop(library_ticker *t); /* NULL accepted; joins */

/* Figures for the dashboard in who's scope (community_id 0 = the whole scope): {books, copies,
 * drifting, loans_today, loans_this_month, open_loans, overdue_loans, holds_waiting, holds_ready,
 * readers_blocked}; "today" and "this month" are the local day and calendar month of now_ms. Staff
 * only. */
int library_stats(nx_app *app, const nx_principal *who, int64_t community_id, int64_t now_ms, json_t **out, nx_err *e);

/* The public page of a drifting copy (no principal): {code, title, author, status, status_label,
 * donated_by, stops, journey: [{holder, from, to}]}, holders as library_drift_name, dates as
 * YYYY-MM-DD. NX_ENOTFOUND for an unknown code and for a shelf copy. */
int library_drift(nx_app *app, const char *code, json_t **out, nx_err *e);

/* The label sheet of the copies matching f (book_id, kind, q = label code prefix, community_id) in
 * who's scope, in id order, as a PDF (report/pdf.h: 24 labels per A4 page) in *pdf (malloc'd, *len
 * bytes). Each label has the code, the title and a QR code: for a drifting copy the URL of its public
 * page (public_url + /drift/CODE; the code alone when public_url is not set), for a shelf copy the
 * code itself, which a 2D scanner types at the desk. Staff only. NX_ENOTFOUND when no copy matches,
 * NX_ETOOBIG over PDF_LABELS_MAX copies (narrow the filter; never a cut sheet). */
int library_labels(nx_app *app, const nx_principal *who, const library_filter *f, unsigned char **pdf, size_t *len,
                   nx_err *e);

/* ---- HTTP (library_http.c) ---- */
/* /api/v1/books, /book-copies, /loans, /returns, /holds, /library/{categories,readers,donations,
 * stats}, and the public GET /drift/{code}. app must outlive the server. Returns 0. */
int library_routes(http_server *srv, nx_app *app);

#endif
