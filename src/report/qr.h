/* qr.h — QR codes for printed documents: a thin wrapper over libqrencode.
 *
 * A document's QR code carries the URL of its verification page. The matrix is returned as one
 * byte per module (1 = dark), row by row, without the quiet zone (callers draw a 4-module margin).
 * Thread-safe (libqrencode's encoder is re-entrant). */
#ifndef NX_REPORT_QR_H
#define NX_REPORT_QR_H

#include <stddef.h>

#include "base/err.h"

#define QR_TEXT_MAX 1024 /* bytes of text accepted */

typedef struct qr_matrix {
    int width;              /* modules per side: 21 + 4 * (version - 1) */
    int version;            /* 1..40 */
    unsigned char *modules; /* width * width bytes, 1 = dark; malloc'd */
} qr_matrix;

/* Encode text (8-bit mode, error correction level M, the smallest version that fits) into *out.
 * Returns 0; NX_EINVAL for NULL or empty text or text over QR_TEXT_MAX bytes; NX_ENOMEM. The caller
 * releases the matrix with qr_free. */
int qr_encode(const char *text, qr_matrix *out, nx_err *e);

/* Free the modules of m (m itself is the caller's); NULL accepted. */
void qr_free(qr_matrix *m);

#endif
