/* remind.c — the kit's reminder tick (remind.h): read the due rows and their payloads, then mark
 * each row and emit its event, then commit — all in one write transaction, so that the mark and the
 * event exist together or not at all. Used by the volunteers' shift reminders and the party's dues
 * reminders; any module with a "reminded_at" column can use it. */
#include "notify/remind.h"

#include "notify/outbox.h"

#include <stdlib.h>

typedef struct due {
    int64_t id, community;
    json_t *payload;
} due;

int remind_run(store *db, const remind_spec *s, int64_t now_ms, int *reminded, nx_err *e)
{
    if (reminded)
        *reminded = 0;
    if (s->batch < 1 || s->batch > 10000)
        return nx_fail(e, NX_EINVAL, "batch", "批量大小无效");
    store_tx *tx;
    int rc = store_begin(db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    due *rows = calloc((size_t)s->batch, sizeof *rows);
    int n = 0;
    store_rows *r = NULL;
    if (rows == NULL) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto fail;
    }
    if ((rc = store_query(tx, s->select, s->params, s->nparams, &r, e)))
        goto fail;
    while (n < s->batch && store_row(r)) {
        rows[n] = (due){.id = store_int(r, 0), .community = store_int(r, 1), .payload = s->payload(r, s->ctx)};
        if (rows[n++].payload == NULL) {
            store_rows_free(r);
            r = NULL;
            rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
            goto fail;
        }
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto fail;
    for (int i = 0; i < n; i++) {
        store_param u[] = {P_INT(now_ms), P_INT(rows[i].id)};
        if ((rc = store_exec(tx, s->mark, u, 2, NULL, e)))
            goto fail;
        json_t *payload = rows[i].payload;
        rows[i].payload = NULL; /* outbox_emit_new steals it, whatever happens */
        if ((rc = outbox_emit_new(tx, s->kind, rows[i].community, s->subject, rows[i].id, payload, e)))
            goto fail;
    }
    free(rows);
    rows = NULL;
    if ((rc = store_commit(tx, e)))
        return rc;
    if (reminded)
        *reminded = n;
    return 0;
fail:
    store_rows_free(r);
    for (int i = 0; rows && i < n; i++)
        json_decref(rows[i].payload);
    free(rows);
    store_rollback(tx);
    return rc;
}
