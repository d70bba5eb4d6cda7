/* xlsx_write.h — streaming .xlsx exports: a thin wrapper over libxlsxwriter in constant_memory mode.
 *
 * One worksheet per file, rows written strictly in order (each row is flushed to a temporary file as
 * soon as the next one starts, so memory stays flat for a million rows). Cells are text by default so
 * that 18-digit ID numbers stay exact and phone numbers keep their leading digits; a typed row can
 * also write numbers and dates. The file carries the document properties title = the sheet name,
 * author = "nuanxin", company = "nuanxin" and a comment saying it was exported by nuanxin.
 *
 * Temporary files go to $TMPDIR when it is set, else to /tmp (glibc's tmpfile()). They are unlinked
 * as soon as they are created, so nothing is left behind even after a crash.
 *
 * Errors are sticky: after the first failed call every later call returns the same code, and
 * xlsx_out_close reports it (with a Chinese message) and removes the incomplete file. A handle is used
 * by one thread at a time. All calls block on file I/O. */
#ifndef NX_REPORT_XLSX_WRITE_H
#define NX_REPORT_XLSX_WRITE_H

#include "base/err.h"

typedef struct xlsx_out xlsx_out;

/* Start a workbook that will be written to path, with one worksheet named sheet_name (1-31
 * characters, none of []:*?/\ and not starting or ending with an apostrophe; NULL means "Sheet1").
 * The path is created (truncated) at once so an unwritable location fails here rather than after a
 * long export; the content is written by xlsx_out_close. On success *out owns the handle.
 * Errors: NX_EINVAL (bad sheet name), NX_EIO (path not writable), NX_ENOMEM. */
int xlsx_out_open(const char *path, const char *sheet_name, xlsx_out **out, nx_err *e);

/* Write the header row (row 1): n titles in bold on a light-blue fill, the pane frozen below it and
 * an autofilter over the columns (spanning every row written by close time). widths[i] is the width
 * of column i in Excel character units; NULL or a value <= 0 picks a width from the title (CJK
 * characters count double). Must come before any other row. Returns 0 or NX_EINVAL / NX_ETOOBIG. */
int xlsx_out_header(xlsx_out *x, const char *const *titles, const double *widths, int n);

/* Write the next row: n cells, each as TEXT (formatted "@", so Excel keeps it text when edited).
 * NULL or "" leaves the cell empty. Control characters other than tab, LF and CR are dropped (XML
 * cannot carry them). Errors: NX_EINVAL (invalid UTF-8), NX_ETOOBIG (more than 1,048,576 rows,
 * 16,384 columns or a cell over 32,767 characters), NX_EIO, NX_ENOMEM. */
int xlsx_out_row(xlsx_out *x, const char *const *cells, int n);

/* As xlsx_out_row, with a type per cell in types[0..n): 's' text; 'n' a number (a finite decimal
 * such as "42", "-3.5" or "1e3", written as a numeric cell); 'd' a date "YYYY-MM-DD" (written as an
 * Excel date, shown as yyyy-mm-dd). A value that does not parse as its type is NX_EINVAL. */
int xlsx_out_row_typed(xlsx_out *x, const char *const *cells, const char *types, int n);

/* Number of rows written so far, the header included. */
int xlsx_out_rows(const xlsx_out *x);

/* Assemble and write the file, then free the handle (always, even on error). On error the file at
 * path is removed and e gets the Chinese reason. NULL x is accepted (returns 0). */
int xlsx_out_close(xlsx_out *x, nx_err *e);

/* Abandon the export (e.g. the database query behind it failed): free the handle and remove the
 * file. NULL is accepted. */
void xlsx_out_discard(xlsx_out *x);

#endif
