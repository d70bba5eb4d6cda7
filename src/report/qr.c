/* qr.c — QR encoding through libqrencode (see qr.h).
 *
 * libqrencode gives one byte per module with many flag bits; only bit 0 (dark) matters to us, so it
 * is copied into a plain 0/1 matrix the PDF writer can draw without knowing libqrencode. */
#include "report/qr.h"

#include <errno.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

int qr_encode(const char *text, qr_matrix *out, nx_err *e)
{
    memset(out, 0, sizeof *out);
    if (text == NULL || text[0] == '\0')
        return nx_fail(e, NX_EINVAL, "text", "二维码内容为空");
    if (strlen(text) > QR_TEXT_MAX)
        return nx_fail(e, NX_EINVAL, "text", "二维码内容过长（最多 %d 字节）", QR_TEXT_MAX);
    QRcode *q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (q == NULL)
        return errno == ENOMEM ? nx_fail(e, NX_ENOMEM, "", "内存不足")
                               : nx_fail(e, NX_EINVAL, "text", "无法生成二维码");
    size_t n = (size_t)q->width * (size_t)q->width;
    out->modules = malloc(n);
    if (out->modules == NULL) {
        QRcode_free(q);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    for (size_t i = 0; i < n; i++)
        out->modules[i] = q->data[i] & 1;
    out->width = q->width;
    out->version = q->version;
    QRcode_free(q);
    return 0;
}

void qr_free(qr_matrix *m)
{
    if (m == NULL)
        return;
    free(m->modules);
    m->modules = NULL;
    m->width = 0;
}
