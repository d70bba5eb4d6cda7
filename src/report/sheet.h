/* sheet.h — one row reader over the two formats staff exchange resident lists in: .xlsx (Excel,
 * WPS) and .csv (UTF-8, or GBK/GB18030 as Chinese Excel saves it by default).
 *
 * The reader hands out one row at a time as an array of UTF-8 strings; the whole sheet is never held
 * in memory (an xlsx sheet is parsed as a stream; a CSV file is held whole but capped). Rows without a
 * single non-empty cell are skipped, trailing empty cells are trimmed, and sheet_row_number() keeps
 * the true spreadsheet row (what a person sees in Excel's left margin), so messages such as
 * "第 12 行：身份证号无效" point at the right line. Every input is capped (sheet_limits).
 *
 * A reader belongs to one thread at a time; different readers are independent. */
#ifndef NX_REPORT_SHEET_H
#define NX_REPORT_SHEET_H

#include "base/clock.h"
#include "base/err.h"

#include <stddef.h>

typedef struct sheet_reader sheet_reader;

/* Caps. Past any of them, the open or sheet_next_row fails with NX_ETOOBIG and a Chinese message. */
typedef struct sheet_limits {
    int max_rows;     /* highest spreadsheet row number returned (default 200,000) */
    int max_cols;     /* highest column holding a value (default 256, i.e. up to column IV) */
    size_t max_cell;  /* bytes of UTF-8 in one cell (default 32 KiB) */
    size_t max_bytes; /* uncompressed bytes of one xlsx part (the sheet XML, the shared strings), and
                         the size of a CSV or xlsx file (default 100 MiB) */
} sheet_limits;

#define SHEET_DEFAULT_MAX_ROWS  200000
#define SHEET_DEFAULT_MAX_COLS  256
#define SHEET_DEFAULT_MAX_CELL  (32u * 1024u)
#define SHEET_DEFAULT_MAX_BYTES (100u * 1024u * 1024u)

/* Fill lim with the defaults above. */
void sheet_limits_default(sheet_limits *lim);

/* Open a spreadsheet file. The format is sniffed from the content, not the name: a ZIP ("PK\3\4") is
 * xlsx, an OLE2 file (old .xls) is refused with NX_EUNSUPP, anything else is CSV. For xlsx, the first
 * visible worksheet is read (the first sheet if all are hidden). On success *out owns the reader
 * (free with sheet_close). Errors: NX_ENOTFOUND / NX_EIO (file), NX_EINVAL (not a readable
 * spreadsheet), NX_EUNSUPP, NX_ETOOBIG, NX_ENOMEM; e gets a Chinese message. Blocks on file I/O. */
int sheet_open_file(const char *path, sheet_reader **out, nx_err *e);

/* As sheet_open_file, with caps (lim NULL = defaults; zero fields take the default). */
int sheet_open_file_ex(const char *path, const sheet_limits *lim, sheet_reader **out, nx_err *e);

/* Open a spreadsheet held in memory (an upload). hint is "xlsx", "csv" (case-insensitive) or NULL to
 * sniff as sheet_open_file does. data is BORROWED: it must stay valid and unchanged until
 * sheet_close. Same errors as sheet_open_file. */
int sheet_open_mem(const void *data, size_t len, const char *hint, sheet_reader **out, nx_err *e);

/* As sheet_open_mem, with caps (lim NULL = defaults; zero fields take the default). */
int sheet_open_mem_ex(const void *data, size_t len, const char *hint, const sheet_limits *lim,
                      sheet_reader **out, nx_err *e);

/* Read the next row. Returns 1 when a row is ready: *cells points at *ncells NUL-terminated UTF-8
 * strings (empty cells are "", never NULL; *ncells >= 1), valid until the next call or sheet_close.
 * Returns 0 at the end of the sheet, and a negative NX_E* code on error (NX_EINVAL for malformed
 * content, NX_ETOOBIG past a cap, NX_EIO, NX_ENOMEM); the detail is then in sheet_error(r) with a
 * Chinese message naming the row (e.g. "第 12 行：引号未闭合"). Errors are sticky: later calls return
 * the same code.
 *
 * Cell text: xlsx strings (shared, rich-text runs concatenated, phonetic runs ignored, inline,
 * formula results) as written, with OOXML _xHHHH_ escapes decoded; numbers as the raw stored text
 * ("42", "3.5", "3.71402199001011E+17" — an ID number Excel turned into a number arrives like that,
 * and the caller must reject it); booleans "TRUE" / "FALSE"; dates are numbers (see
 * sheet_excel_serial_to_date). CSV fields are unquoted and otherwise untouched (no trimming). */
int sheet_next_row(sheet_reader *r, const char *const **cells, int *ncells);

/* The 1-based spreadsheet row of the row last returned by sheet_next_row (0 before the first).
 * xlsx: from the row's r attribute; CSV: the record number (a quoted field spanning lines is still
 * one record, as Excel shows it). */
int sheet_row_number(sheet_reader *r);

/* The reader's last error (code NX_OK when none). Borrowed; valid until sheet_close. */
const nx_err *sheet_error(sheet_reader *r);

/* "xlsx" or "csv": what the reader found. */
const char *sheet_format(sheet_reader *r);

/* Free the reader and everything it owns. NULL is accepted. */
void sheet_close(sheet_reader *r);

/* Convert an Excel serial date (1900 date system, as a cell's text: "32874" or "32874.5"; the time
 * fraction is ignored) to a civil date. Follows Excel's numbering including its 1900 leap-year bug:
 * 1 = 1900-01-01, 59 = 1900-02-28, 60 (Excel's phantom 1900-02-29) is rejected, 61 = 1900-03-01,
 * 2958465 = 9999-12-31. Returns 0, or NX_EINVAL for anything else (negative, 0, exponents, junk). */
int sheet_excel_serial_to_date(const char *v, nx_date *out);

#endif
