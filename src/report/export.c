/* export.c — the three steps of an Excel export (export.h): open with the header, every row or
 * none, the file complete before its audit entry.
 *
 * The row loop writes through xlsx_out_row_typed, whose errors are sticky in the handle; the loop
 * still stops at the first one so that a full disk does not cost a read of every remaining row. A
 * cap is checked when a row is about to be written (a row the cells function passes over does not
 * count), so a query may ask for LIMIT max + 1 and the extra row is what refuses the export.
 * Nothing here keeps state between calls. */
#include "report/export.h"

#include <unistd.h>

#include "secure/audit.h"

int export_open(const char *path, const char *sheet, const char *const *titles, const double *widths, int n,
                xlsx_out **x, nx_err *e)
{
    *x = NULL;
    xlsx_out *o;
    int rc = xlsx_out_open(path, sheet, &o, e);
    if (rc)
        return rc;
    if ((rc = xlsx_out_header(o, titles, widths, n))) {
        xlsx_out_discard(o);
        return nx_fail(e, rc, "", "无法写入导出文件");
    }
    *x = o;
    return 0;
}

/* The caller's message for one row past the cap: a literal of its own with one %lld (export.h). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int too_many(const export_rows_spec *s, nx_err *e)
{
    return nx_fail(e, NX_ETOOBIG, "", s->too_many ? s->too_many : "导出超过 %lld 行", (long long)s->max);
}
#pragma GCC diagnostic pop

int export_rows(store_tx *tx, const sqlq *q, xlsx_out *x, const export_rows_spec *s, int64_t *rows, nx_err *e)
{
    *rows = 0;
    if (s->ncol < 1 || s->ncol > EXPORT_MAX_COLS)
        return nx_fail(e, NX_EINTERNAL, "", "导出列数超出范围");
    store_rows *r;
    int rc = sqlq_query(tx, q, &r, e);
    if (rc)
        return rc;
    const char *cells[EXPORT_MAX_COLS];
    while (rc == 0 && store_row(r)) {
        for (int i = 0; i < s->ncol; i++)
            cells[i] = NULL;
        int k = s->cells(r, s->ctx, cells, e);
        if (k < 0) {
            rc = k;
        } else if (k > 0) {
            continue;
        } else if (s->max > 0 && *rows >= s->max) {
            rc = too_many(s, e);
        } else if (xlsx_out_row_typed(x, cells, s->types, s->ncol)) {
            rc = nx_fail(e, NX_EIO, "", "无法写入导出文件");
        } else {
            (*rows)++;
        }
    }
    int end = store_rows_end(r, e);
    return rc ? rc : end;
}

int export_rows_read(store *db, const sqlq *q, xlsx_out *x, const export_rows_spec *s, int64_t *rows, nx_err *e)
{
    *rows = 0;
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc == 0) {
        rc = export_rows(tx, q, x, s, rows, e);
        store_rollback(tx);
    }
    if (rc)
        xlsx_out_discard(x);
    return rc;
}

int export_finish(store *db, xlsx_out *x, const char *path, const nx_principal *who, const char *object_type,
                  int64_t object_id, int64_t community_id, json_t *detail, nx_err *e)
{
    int rc = xlsx_out_close(x, e); /* on error it removes the file */
    if (rc) {
        json_decref(detail);
        return rc;
    }
    store_tx *tx;
    if ((rc = store_begin(db, STORE_WRITE, &tx, e))) {
        json_decref(detail);
    } else {
        rc = audit_write_new(tx, who, "export", object_type, object_id, community_id, detail, e);
        rc = store_finish(tx, rc, e);
    }
    if (rc)
        unlink(path);
    return rc;
}
