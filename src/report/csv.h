/* csv.h — the CSV half of the row reader (see sheet.h, which callers normally use instead).
 *
 * RFC 4180 with Excel's leniencies: comma separator, fields optionally in double quotes (a doubled
 * quote is a literal quote; commas and line breaks inside quotes are data), CRLF, LF or lone CR line
 * ends, a UTF-8 byte-order mark stripped. Bytes that are not valid UTF-8 are converted from GB18030
 * (a superset of GBK, Chinese Excel's default "CSV" encoding). */
#ifndef NX_REPORT_CSV_H
#define NX_REPORT_CSV_H

#include "base/err.h"
#include "report/sheet.h"

#include <stddef.h>

typedef struct csv_reader csv_reader;

/* Open a reader over len bytes of CSV. data is BORROWED and must outlive the reader (when a GB18030
 * conversion is needed the reader keeps its own UTF-8 copy). lim must be complete (no zero fields).
 * Errors: NX_EINVAL (binary content, unknown encoding), NX_EUNSUPP (UTF-16 text), NX_ETOOBIG
 * (len > lim->max_bytes), NX_ENOMEM. */
int csv_reader_open(const void *data, size_t len, const sheet_limits *lim, csv_reader **out, nx_err *e);

/* Next non-empty record, with the contract of sheet_next_row; *rownum gets its record number.
 * Errors fill e. */
int csv_reader_next(csv_reader *r, const char *const **cells, int *ncells, int *rownum, nx_err *e);

/* Free the reader. NULL is accepted. */
void csv_reader_free(csv_reader *r);

#endif
