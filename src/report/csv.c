/* csv.c — reading CSV records out of a buffer held in memory.
 *
 * The whole file is in memory (capped by sheet_limits.max_bytes) because the encoding can only be
 * decided by looking at all of it: a file that is entirely valid UTF-8 is taken as UTF-8; otherwise
 * it is converted once, up front, from GB18030 with glibc's iconv. Chinese Excel writes "CSV (逗号分隔)"
 * in the system code page, GBK, and GB18030 decodes every GBK file the same way. The usual caveat
 * holds: a very short GBK text can happen to be valid UTF-8 (the classic "联通" file) and is then
 * misread; real resident lists are long enough that this does not happen in practice.
 *
 * Parsing is one pass of a small hand-written scanner. A record's fields are copied, unquoted, into
 * one row buffer separated by NULs; an offset per field points into it, and the pointer array handed
 * to the caller is rebuilt after the record is complete (the buffer may move while it grows).
 * Invariants: r->pos never exceeds r->len; at most lim.max_cols offsets are stored; a field longer
 * than lim.max_cell, a value beyond lim.max_cols or a record number beyond lim.max_rows is an error,
 * never a silent truncation.
 *
 * Leniency follows Excel: a quote inside an unquoted field is data, and text after a closing quote is
 * appended to the field. The only structural error is a quoted field that never closes; it is
 * reported with the record number where it began. Records whose fields are all empty (blank lines,
 * ",,,") are skipped but still counted, so row numbers stay those Excel shows. */
#include "report/csv.h"

#include "base/str.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct csv_reader {
    const char *buf; /* UTF-8 text without BOM: data, or owned when converted */
    char *owned;
    size_t len, pos;
    sheet_limits lim;
    int recno;        /* number of the last record scanned */
    strbuf row;       /* field bytes of the current record, NUL-separated */
    size_t *off;      /* lim.max_cols offsets into row */
    const char **ptr; /* lim.max_cols cell pointers handed out */
};

static const char empty_cell[1] = "";

/* Convert GB18030 bytes to newly allocated UTF-8. Every GB18030 sequence of n bytes becomes at most
 * n * 3 / 2 + 2 bytes of UTF-8 (2 -> 3, 4 -> 4, 1 -> 1), so twice the input always suffices. */
static int from_gb18030(const char *in, size_t len, char **out, size_t *outlen, nx_err *e)
{
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1)
        return nx_fail(e, NX_EINTERNAL, NULL, "系统缺少 GB18030 编码转换支持");
    size_t cap = len * 2 + 16;
    char *buf = malloc(cap);
    if (buf == NULL) {
        iconv_close(cd);
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足，无法转换文件编码");
    }
    char *ip = (char *)in, *op = buf;
    size_t il = len, ol = cap - 1;
    size_t n = iconv(cd, &ip, &il, &op, &ol);
    if (n != (size_t)-1)
        n = iconv(cd, NULL, NULL, &op, &ol);
    iconv_close(cd);
    if (n == (size_t)-1) {
        free(buf);
        return nx_fail(e, NX_EINVAL, NULL, "无法识别文件编码：既不是 UTF-8，也不是 GBK/GB18030");
    }
    *op = '\0';
    *out = buf;
    *outlen = (size_t)(op - buf);
    return 0;
}

int csv_reader_open(const void *data, size_t len, const sheet_limits *lim, csv_reader **out, nx_err *e)
{
    *out = NULL;
    if (len > lim->max_bytes)
        return nx_fail(e, NX_ETOOBIG, NULL, "文件过大：超过 %zu MiB 上限", lim->max_bytes >> 20);
    const unsigned char *p = data;
    if (len >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)))
        return nx_fail(e, NX_EUNSUPP, NULL,
                       "不支持 UTF-16（Unicode 文本）格式，请在 Excel 中另存为“CSV UTF-8”或 .xlsx 文件");
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        p += 3;
        len -= 3;
    }
    if (len > 0 && memchr(p, 0, len) != NULL)
        return nx_fail(e, NX_EINVAL, NULL, "文件包含二进制内容，不是 CSV 或 xlsx 表格");

    csv_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    r->lim = *lim;
    r->buf = (const char *)p;
    r->len = len;
    strbuf_init(&r->row, (size_t)lim->max_cols * (lim->max_cell + 1) + 1);
    r->off = calloc((size_t)lim->max_cols, sizeof *r->off);
    r->ptr = calloc((size_t)lim->max_cols, sizeof *r->ptr);
    int rc = 0;
    if (r->off == NULL || r->ptr == NULL) {
        rc = nx_fail(e, NX_ENOMEM, NULL, "内存不足");
        goto fail;
    }
    if (!str_utf8_valid(r->buf, r->len)) {
        rc = from_gb18030(r->buf, r->len, &r->owned, &r->len, e);
        if (rc)
            goto fail;
        r->buf = r->owned;
    }
    *out = r;
    return 0;
fail:
    csv_reader_free(r);
    return rc;
}

static int append(csv_reader *r, const char *p, size_t n, size_t field_start, int col, nx_err *e)
{
    int rc = strbuf_append(&r->row, p, n);
    if (rc == NX_ENOMEM)
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    if (rc || r->row.len - field_start > r->lim.max_cell)
        return nx_fail(e, NX_ETOOBIG, NULL, "第 %d 行第 %d 列内容过长：超过 %zu 字节上限", r->recno, col + 1,
                       r->lim.max_cell);
    return 0;
}

/* Scan one record starting at r->pos into r->row / r->off. Sets *nf to the number of stored fields
 * after trimming trailing empties. Returns 0 or an error. */
static int scan_record(csv_reader *r, int *nf, nx_err *e)
{
    const char *b = r->buf;
    size_t len = r->len;
    int used = 0; /* fields up to and including the last non-empty one */
    r->row.len = 0;
    r->recno++;
    for (int col = 0;; col++) {
        size_t start = r->row.len;
        int rc;
        if (r->pos < len && b[r->pos] == '"') {
            r->pos++;
            for (;;) {
                const char *q = memchr(b + r->pos, '"', len - r->pos);
                if (q == NULL)
                    return nx_fail(e, NX_EINVAL, NULL, "第 %d 行格式错误：引号未闭合", r->recno);
                size_t k = (size_t)(q - (b + r->pos));
                if ((rc = append(r, b + r->pos, k, start, col, e)) != 0)
                    return rc;
                r->pos += k + 1;
                if (r->pos < len && b[r->pos] == '"') {
                    if ((rc = append(r, "\"", 1, start, col, e)) != 0)
                        return rc;
                    r->pos++;
                    continue;
                }
                break;
            }
        }
        size_t s = r->pos;
        while (r->pos < len && b[r->pos] != ',' && b[r->pos] != '\n' && b[r->pos] != '\r')
            r->pos++;
        if ((rc = append(r, b + s, r->pos - s, start, col, e)) != 0)
            return rc;
        size_t flen = r->row.len - start;
        if (flen > 0 && col >= r->lim.max_cols)
            return nx_fail(e, NX_ETOOBIG, NULL, "第 %d 行列数过多：超过 %d 列上限", r->recno,
                           r->lim.max_cols);
        if (col < r->lim.max_cols) {
            if (strbuf_append(&r->row, "", 1) != 0) /* the NUL; row's cap leaves room for it */
                return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
            r->off[col] = start;
            if (flen > 0)
                used = col + 1;
        } else {
            r->row.len = start;
        }
        if (r->pos < len && b[r->pos] == ',') {
            r->pos++;
            continue;
        }
        if (r->pos < len && b[r->pos] == '\r') {
            r->pos++;
            if (r->pos < len && b[r->pos] == '\n')
                r->pos++;
        } else if (r->pos < len && b[r->pos] == '\n') {
            r->pos++;
        }
        break;
    }
    *nf = used;
    return 0;
}

int csv_reader_next(csv_reader *r, const char *const **cells, int *ncells, int *rownum, nx_err *e)
{
    for (;;) {
        if (r->pos >= r->len)
            return 0;
        int nf = 0;
        int rc = scan_record(r, &nf, e);
        if (rc)
            return rc;
        if (nf == 0)
            continue;
        if (r->recno > r->lim.max_rows)
            return nx_fail(e, NX_ETOOBIG, NULL, "表格行数过多：超过 %d 行上限", r->lim.max_rows);
        for (int i = 0; i < nf; i++)
            r->ptr[i] = r->row.len ? r->row.data + r->off[i] : empty_cell;
        *cells = r->ptr;
        *ncells = nf;
        *rownum = r->recno;
        return 1;
    }
}

void csv_reader_free(csv_reader *r)
{
    if (r == NULL)
        return;
    strbuf_cleanup(&r->row);
    free(r->owned);
    free(r->off);
    free(r->ptr);
    free(r);
}
