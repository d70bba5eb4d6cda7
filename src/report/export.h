/* export.h — an export to Excel: every row a person asked for, then the note of who took them.
 *
 * Every export of the modules (alerts, volunteer hours, the canteen's subsidy claim, the visit
 * register, the allowance roster, the resident list …) does the same three things, and before this
 * file each wrote them again:
 *
 *   1. open the workbook with its header row (export_open);
 *   2. read the rows into it — every row or none: a read that fails on the way, or one row past the
 *      cap (export_max_rows), fails the export; never a file that silently stops (export_rows);
 *   3. close the file, and only when it is complete write the audit entry of who exported what, in
 *      a write transaction of its own (export_finish).
 *
 * Whatever fails, nothing is left at the path and the error is the answer:
 *
 *     xlsx_out *x;
 *     if ((rc = export_open(path, "志愿服务时长", titles, widths, 6, &x, e)))
 *         return rc;
 *     export_rows_spec s = {.types = "ssssnn", .ncol = 6, .max = app->cfg->export_max_rows,
 *                           .too_many = "超过 %lld 行，请按月份导出", .cells = hours_cells, .ctx = &buf};
 *     if ((rc = export_rows_read(app->db, &q, x, &s, rows, e)))          (x discarded)
 *         return rc;
 *     return export_finish(app->db, x, path, who, "volunteer_hours", 0, who->community_id,
 *                          json_pack("{s:I}", "count", (json_int_t)*rows), e);
 *
 * An export whose rows do not come from one query (a statement built as JSON first, a resident list
 * read through its module) uses export_open and export_finish around its own loop. All calls block
 * on file I/O and the store; a handle belongs to one thread. */
#ifndef NX_REPORT_EXPORT_H
#define NX_REPORT_EXPORT_H

#include <jansson.h>
#include <stdint.h>

#include "report/xlsx_write.h"
#include "secure/perm.h"
#include "store/query.h"
#include "store/store.h"

#define EXPORT_MAX_COLS 64

/* Open path as a workbook of one sheet and write its header row (xlsx_out_open, xlsx_out_header:
 * titles, widths as there, n columns). 0 with *x open; otherwise nothing is left at path, *x is
 * NULL and e says why ("无法写入导出文件" when the header failed). */
int export_open(const char *path, const char *sheet, const char *const *titles, const double *widths, int n,
                xlsx_out **x, nx_err *e);

/* How the rows of a query become the sheet's rows. */
typedef struct export_rows_spec {
    const char *types;    /* one type a column, as xlsx_out_row_typed: 's' text, 'n' number, 'd' date */
    int ncol;             /* columns, 1 to EXPORT_MAX_COLS */
    int64_t max;          /* more rows written than this fails the export (NX_ETOOBIG); 0: no cap */
    const char *too_many; /* that failure's Chinese message, a literal with one %lld for max */
    /* Fill cells[0..ncol) for row r (NULL or "" for an empty cell; the texts must live until the
     * next call: the row's own, or buffers in ctx). Return 0 to write the row, 1 to pass over it,
     * or a negative NX_E* code with e filled to fail the export. */
    int (*cells)(store_rows *r, void *ctx, const char **cells, nx_err *e);
    void *ctx;
} export_rows_spec;

/* Every row of q on tx through s into x; *rows counts the rows written. tx and x stay open (the
 * caller closes, or discards on failure). Errors: q's or the read's (a read that fails on the way
 * fails the whole export, as store_rows_end), NX_ETOOBIG past s->max, a cells function's, NX_EIO
 * when a row cannot be written, NX_EINTERNAL for a spec out of range. */
int export_rows(store_tx *tx, const sqlq *q, xlsx_out *x, const export_rows_spec *s, int64_t *rows, nx_err *e);

/* export_rows in a read transaction of its own on db; on failure x is discarded (the file
 * removed) and must not be used again. */
int export_rows_read(store *db, const sqlq *q, xlsx_out *x, const export_rows_spec *s, int64_t *rows, nx_err *e);

/* Close x (the file complete at path), then write the export's audit entry — action "export",
 * object_type, object_id, community_id and detail, as audit_write_new, which takes detail over —
 * in a write transaction of its own on db. 0 when both are done; on any failure the file at path
 * is removed and the error returned (x is finished either way). detail never holds personal data:
 * the count and the filters, not the rows. */
int export_finish(store *db, xlsx_out *x, const char *path, const nx_principal *who, const char *object_type,
                  int64_t object_id, int64_t community_id, json_t *detail, nx_err *e);

#endif
