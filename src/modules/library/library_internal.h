/* library_internal.h — what the library module's own .c files share (never included from outside
 * src/modules/library/): the catalogue scope, the reader's rules and state, serving the hold queue,
 * and the vocabularies. */
#ifndef NX_MODULES_LIBRARY_INTERNAL_H
#define NX_MODULES_LIBRARY_INTERNAL_H

#include "modules/library/library.h"
#include "store/page.h"
#include "store/query.h"

/* Restrict rows of a catalogue table (books, copies, categories, donations: community_id, no grid)
 * under alias (e.g. "b.") to who's scope: staff by their scope (a grid scope reads as its
 * community), readers (SCOPE_SELF) to the community of the resident they are bound to. */
void lib_scope_q(const nx_principal *who, const char *alias, sqlq *q);

/* Whether who may read the catalogue (manage or self); NX_EPERM otherwise. */
int lib_can_read(const nx_principal *who, nx_err *e);
/* RIGHT_LIBRARY_MANAGE, else NX_EPERM with the message "无权管理图书馆". */
int lib_can_manage(const nx_principal *who, nx_err *e);

/* The community a staff member's new catalogue row goes to: given (it must be in scope, else
 * NX_ENOTFOUND field "community_id"), or theirs when they have one; required above a community. */
int lib_target_community(store_tx *tx, const nx_principal *who, int64_t given, int64_t *out, nx_err *e);

/* A reader's rules and state, read (and created with the community's default category, made when
 * missing) inside a write transaction. */
typedef struct lib_reader {
    int64_t resident_id, community_id, grid_id, category_id;
    int64_t loan_days, renewals, max_loans, max_holds;
    int64_t blocked_until, open_loans, overdue_loans, active_holds;
} lib_reader;

/* Load resident_id as a reader on tx (a write transaction), creating the reader row when missing.
 * The resident must exist, be active and in who's scope (self: be who's own resident), else
 * NX_EINVAL naming field. */
int lib_reader_load(store_tx *tx, const nx_principal *who, int64_t resident_id, const char *field, int64_t now,
                    lib_reader *out, nx_err *e);
/* NX_ECONFLICT (field) when rd is blocked at now: an overdue loan out, or a block from a late
 * return. */
int lib_reader_check_block(const lib_reader *rd, int64_t now, const char *field, nx_err *e);

/* A copy that has just come back (or was added, or was released from the hold shelf): give it to the
 * first waiting hold of its title (the hold turns ready with a pickup deadline, event
 * LIBRARY_EV_HOLD_READY) or put it on the shelf. Drifting copies go back to the hut (available).
 * *served (may be NULL) gets the hold id or 0. */
int lib_serve_copy(store_tx *tx, int64_t copy_id, int64_t now, int64_t *served, nx_err *e);

/* Labels of the vocabularies ("available" → "在架" …); NULL for an unknown code. */
const char *lib_copy_status_label(const char *status);
const char *lib_hold_status_label(const char *status);
/* Set o's "status_label" to label (one of the above), JSON null when there is none; o NULL: nothing. */
void lib_set_status_label(json_t *o, const char *label);

/* A label code as typed or scanned (spaces dropped; from a drifting copy's QR code, the part of its
 * URL after /drift/), upper-cased into out
 * (cap >= 21): 0, or NX_EINVAL naming field when it is not 4..20 of A-Z, 0-9 and -. */
int lib_code_read(const char *in, char *out, size_t cap, const char *field, nx_err *e);

/* A fresh random label code of 8 characters from an alphabet without 0/O, 1/I/L. */
void lib_new_code(char out[9]);

/* The local calendar day of ms as YYYY-MM-DD. */
void lib_day(int64_t ms, char out[11]);

/* A page of a list: store_page_by_id of q (total from count) by alias's id after f->after, f->limit
 * under page_max, one item per row. */
int lib_page(nx_app *app, sqlq *q, const sqlq *count, const char *alias, bool oldest_first, const library_filter *f,
             json_t *(*row)(store_rows *r), json_t **out, nx_err *e);
/* A record behind its gate (lib_can_read or lib_can_manage): the row of head (a "SELECT … WHERE
 * 1 = 1") with " AND <alias>id = id", in the catalogue's scope (lib_scope_q) or, own, in the reader's
 * (perm_scope_q on resident_id), through row; NX_ENOTFOUND with missing. */
int lib_get(nx_app *app, const nx_principal *who, int (*gate)(const nx_principal *, nx_err *), const char *head,
            const char *alias, bool own, int64_t id, json_t *(*row)(store_rows *r), const char *missing, json_t **out,
            nx_err *e);
/* The opening of an action that takes no body (return, renew, cancel): gate(who), in empty when
 * given (json_only), then a write transaction *tx. 0 with *tx open, or the error. */
int lib_action_begin(nx_app *app, const nx_principal *who, int (*gate)(const nx_principal *, nx_err *), json_t *in,
                     store_tx **tx, nx_err *e);
#endif
