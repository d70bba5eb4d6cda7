/* remind.h — the reminder tick of the module kit: find the rows that are due, mark each one reminded
 * and emit its event, in ONE write transaction.
 *
 * Modules with reminders (a volunteer's shift tomorrow, a month of party dues unpaid …) keep a
 * "reminded_at" column on the row to be reminded of. A tick (store/ticker.h: one process at a time)
 * calls remind_run, which reads at most spec->batch due rows, then for each row sets the mark and
 * emits spec->kind with the payload the module builds from the row, and commits. The mark and the
 * event commit together, so a row is reminded exactly once: a second tick, a restart or a second
 * process finds the mark; a failure leaves neither. The messages module turns the events into
 * notifications; nothing here writes one.
 *
 * The rows are read completely before anything is written (no statement is left open while the
 * marks are written), which is why a tick handles a bounded batch and leaves the rest to the next. */
#ifndef NX_NOTIFY_REMIND_H
#define NX_NOTIFY_REMIND_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

typedef struct remind_spec {
    /* The due rows, oldest first, at most batch of them (the query's own LIMIT): column 0 the row's
     * id (also the event's subject id), column 1 its community (0 or NULL: none). */
    const char *select;
    const store_param *params;
    int nparams;
    int batch; /* 1..10000 */
    /* The mark: two parameters, $1 the tick's now_ms and $2 the row's id; e.g. "UPDATE t SET
     * reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL". */
    const char *mark;
    const char *kind;    /* the event's kind (MODULE_EV_…) */
    const char *subject; /* the event's subject type ("dues" → "dues:<id>") */
    /* The event's payload for the current row (a new JSON object; NULL is out of memory). */
    json_t *(*payload)(store_rows *r, void *ctx);
    void *ctx;
} remind_spec;

/* Run one tick of spec at now_ms on db: 0 with *reminded (may be NULL) the rows marked and emitted,
 * or the store's error (nothing written), NX_ENOMEM. Blocks on the store. */
int remind_run(store *db, const remind_spec *spec, int64_t now_ms, int *reminded, nx_err *e);

#endif
