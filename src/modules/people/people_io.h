/* people_io.h — residents in and out of spreadsheets: the import wizard's dry run and commit, the
 * Excel export of a filtered list, and the template staff fill in. */
#ifndef NX_MODULES_PEOPLE_IO_H
#define NX_MODULES_PEOPLE_IO_H

#include "modules/people/people.h"

/* The columns of the template and the export, in order (Chinese headers staff already use). */
extern const char *const people_import_columns[];

/* Read a spreadsheet (xlsx or csv, hint may be NULL) and import its residents. Every row is checked
 * exactly as a create through the API would be, inside one write transaction with a savepoint per
 * row. dry_run: nothing is kept. Otherwise every valid row is committed at once (atomically) and
 * bad rows are skipped. *report: {"dry_run", "total_rows", "valid_rows", "imported", "errors": [{row,
 * column, field, reason}]}. NX_EINVAL (with e) only when the file as a whole is unreadable. */
int people_import(nx_app *app, const nx_principal *who, const void *data, size_t len, const char *hint,
                  bool dry_run, json_t **report, nx_err *e);

/* Write the residents matching q to an xlsx file at path. Masked unless reveal (RIGHT_REVEAL).
 * Audited (count and whether revealed; never the search text). */
int people_export_xlsx(nx_app *app, const nx_principal *who, const resident_query *q, bool reveal,
                       const char *path, int64_t *count, nx_err *e);

/* The import template: headers, one example row of a fictional resident, a notes sheet. */
int people_template_xlsx(const char *path, nx_err *e);

#endif
