/* xlsx_read.h — the xlsx half of the row reader (see sheet.h, which callers normally use instead).
 *
 * A streaming reader of the first visible worksheet of an Office Open XML workbook, on libzip and
 * expat: the shared-string table is loaded whole (capped), the sheet XML is parsed a chunk at a time
 * and the parser is suspended after every row, so memory stays at one chunk plus one row. */
#ifndef NX_REPORT_XLSX_READ_H
#define NX_REPORT_XLSX_READ_H

#include "base/err.h"
#include "report/sheet.h"

#include <stddef.h>

typedef struct xlsx_reader xlsx_reader;

/* Open the xlsx held in data[0..len). data is BORROWED and must outlive the reader. lim must be
 * complete (no zero fields). Errors: NX_EINVAL (not a ZIP, not a workbook, malformed XML), NX_EUNSUPP
 * (encrypted entries), NX_ETOOBIG (a part over lim->max_bytes, a string over lim->max_cell),
 * NX_ENOMEM; e gets a Chinese message. */
int xlsx_reader_open_mem(const void *data, size_t len, const sheet_limits *lim, xlsx_reader **out, nx_err *e);

/* Open the xlsx file at path (read lazily by libzip). Adds NX_ENOTFOUND and NX_EIO to the above. */
int xlsx_reader_open_file(const char *path, const sheet_limits *lim, xlsx_reader **out, nx_err *e);

/* Next row with a value, with the contract of sheet_next_row; *rownum gets the row's r attribute
 * (or its position when a writer left r out). Errors fill e. */
int xlsx_reader_next(xlsx_reader *r, const char *const **cells, int *ncells, int *rownum, nx_err *e);

/* Free the reader (closes the archive). NULL is accepted. */
void xlsx_reader_free(xlsx_reader *r);

#endif
