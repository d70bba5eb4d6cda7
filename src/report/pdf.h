/* pdf.h — printable A4 documents (service applications, certificates) with libharu and an
 * embedded CJK font.
 *
 * One call lays out one page: a heading with the issuing community, the title, the serial number,
 * an optional body paragraph, a table of label/value rows, a footer line, and a QR code in the
 * bottom-right corner with the verification code (and, for an absolute URL, the address itself as
 * text and as a link over the code) printed beside it. Text is UTF-8; the font is
 * WenQuanYi Zen Hei (fonts-wqy-zenhei), embedded so the document reads the same everywhere; the
 * verification code is also written into the document's Keywords so tools can read it back.
 * Content that does not fit is cut at the bottom of the page (documents here are one page).
 *
 * Thread-safe: every call builds its own libharu document. Blocks on reading the font file (about
 * 50 ms). */
#ifndef NX_REPORT_PDF_H
#define NX_REPORT_PDF_H

#include <stddef.h>

#include "base/err.h"

typedef struct pdf_row {
    const char *label; /* "姓名" */
    const char *value; /* may be NULL or "" (printed as a blank) */
} pdf_row;

typedef struct pdf_form {
    const char *issuer;      /* "暖心社区居民委员会" (heading, required) */
    const char *title;       /* "居住证明" (required) */
    const char *serial;      /* "编号：…" line (required) */
    const char *body;        /* paragraph, wrapped to the page width; may be NULL */
    const pdf_row *rows;     /* may be NULL when nrows is 0 */
    int nrows;
    const char *footer;      /* e.g. "暖心社区居民委员会（盖章） 2026年3月15日"; may be NULL */
    const char *qr_text;     /* QR payload (the verification URL); NULL = no QR code. An absolute
                              * http(s) URL is also printed under the code and made a link */
    const char *verify_code; /* printed under the QR code and stored as Keywords; may be NULL */
} pdf_form;

/* The font file used (the first of the known locations that exists), or NULL when none does. */
const char *pdf_font_path(void);

/* Render f into a new PDF in memory. *out is malloc'd (caller frees), *len its size.
 * Returns 0; NX_EINVAL for a missing issuer/title/serial or invalid UTF-8; NX_EIO when the CJK font
 * is not installed (the message names the package); NX_ENOMEM; NX_EINTERNAL for a libharu error. */
int pdf_render_form(const pdf_form *f, unsigned char **out, size_t *len, nx_err *e);

/* One label of a label sheet: the QR code of qr_text at the left, the code large at the right with
 * the title (cut with "…" to the label's width) and an optional line under it. */
typedef struct pdf_label {
    const char *code;    /* required, printed large: what a scanner or a person types */
    const char *title;   /* may be NULL */
    const char *line;    /* may be NULL, e.g. "邻里图书馆 · 漂流书" */
    const char *qr_text; /* required: the QR payload (a URL, or the code itself) */
} pdf_label;

#define PDF_LABELS_MAX 960 /* labels in one sheet document (40 pages) */

/* Render n labels onto A4 sheets of 3 × 8 stickers (70 × 37 mm, the common label sheet), in order,
 * with title (required) as the document's title. Returns as pdf_render_form; NX_EINVAL for n < 1,
 * n over PDF_LABELS_MAX, a label without code or qr_text, or invalid UTF-8. */
int pdf_render_labels(const char *title, const pdf_label *labels, int n, unsigned char **out, size_t *len, nx_err *e);

#endif
