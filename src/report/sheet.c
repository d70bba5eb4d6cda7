/* sheet.c — the format-independent row reader: sniffing, caps, sticky errors, Excel serial dates.
 *
 * A sheet_reader wraps exactly one backend (xlsx_read.c or csv.c) and forwards sheet_next_row to it.
 * The format is decided by content: "PK\3\4" starts every ZIP (xlsx), "\xD0\xCF\x11\xE0" an OLE2
 * compound file (old .xls, or an xlsx encrypted with a password) which is refused with a hint, and
 * anything else is treated as CSV, whose backend refuses binary content. A CSV file is read whole
 * (capped by max_bytes, since its encoding is decided over all of it); an xlsx file is left to libzip,
 * which reads it lazily.
 *
 * The first error is kept in the reader and returned again by every later call, so a caller that
 * loops "while ((rc = sheet_next_row(...)) > 0)" sees the error once it stops.
 *
 * Threads: one reader per thread at a time; no global state. */
#include "report/sheet.h"

#include "report/csv.h"
#include "report/xlsx_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind { KIND_XLSX, KIND_CSV };

struct sheet_reader {
    enum kind kind;
    xlsx_reader *x;
    csv_reader *c;
    char *filebuf; /* a CSV file's bytes, owned */
    int rownum;
    nx_err err;
};

static const unsigned char zip_magic[4] = {'P', 'K', 3, 4};
static const unsigned char ole_magic[4] = {0xD0, 0xCF, 0x11, 0xE0};

void sheet_limits_default(sheet_limits *lim)
{
    lim->max_rows = SHEET_DEFAULT_MAX_ROWS;
    lim->max_cols = SHEET_DEFAULT_MAX_COLS;
    lim->max_cell = SHEET_DEFAULT_MAX_CELL;
    lim->max_bytes = SHEET_DEFAULT_MAX_BYTES;
}

static sheet_limits complete(const sheet_limits *in)
{
    sheet_limits l;
    sheet_limits_default(&l);
    if (in) {
        if (in->max_rows > 0)
            l.max_rows = in->max_rows;
        if (in->max_cols > 0)
            l.max_cols = in->max_cols;
        if (in->max_cell > 0)
            l.max_cell = in->max_cell;
        if (in->max_bytes > 0)
            l.max_bytes = in->max_bytes;
    }
    return l;
}

static int refuse_ole(nx_err *e)
{
    return nx_fail(e, NX_EUNSUPP, NULL,
                   "不支持旧版 .xls 或加密的表格文件，请在 Excel 或 WPS 中另存为 .xlsx 或 CSV 后再导入");
}

static int wrap(enum kind k, xlsx_reader *x, csv_reader *c, char *filebuf, sheet_reader **out, nx_err *e)
{
    sheet_reader *r = calloc(1, sizeof *r);
    if (r == NULL) {
        xlsx_reader_free(x);
        csv_reader_free(c);
        free(filebuf);
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    }
    r->kind = k;
    r->x = x;
    r->c = c;
    r->filebuf = filebuf;
    nx_err_clear(&r->err);
    *out = r;
    return 0;
}

int sheet_open_mem_ex(const void *data, size_t len, const char *hint, const sheet_limits *lim,
                      sheet_reader **out, nx_err *e)
{
    *out = NULL;
    sheet_limits l = complete(lim);
    enum kind k;
    if (hint == NULL) {
        if (len >= 4 && memcmp(data, ole_magic, 4) == 0)
            return refuse_ole(e);
        k = len >= 4 && memcmp(data, zip_magic, 4) == 0 ? KIND_XLSX : KIND_CSV;
    } else if (strcasecmp(hint, "xlsx") == 0) {
        k = KIND_XLSX;
    } else if (strcasecmp(hint, "csv") == 0) {
        k = KIND_CSV;
    } else {
        return nx_fail(e, NX_EUNSUPP, NULL, "不支持的文件格式：只能导入 .xlsx 或 .csv 文件");
    }
    if (len > l.max_bytes)
        return nx_fail(e, NX_ETOOBIG, NULL, "文件过大：超过 %zu MiB 上限", l.max_bytes >> 20);
    int rc;
    if (k == KIND_XLSX) {
        xlsx_reader *x;
        if ((rc = xlsx_reader_open_mem(data, len, &l, &x, e)) != 0)
            return rc;
        return wrap(k, x, NULL, NULL, out, e);
    }
    csv_reader *c;
    if ((rc = csv_reader_open(data, len, &l, &c, e)) != 0)
        return rc;
    return wrap(k, NULL, c, NULL, out, e);
}

int sheet_open_mem(const void *data, size_t len, const char *hint, sheet_reader **out, nx_err *e)
{
    return sheet_open_mem_ex(data, len, hint, NULL, out, e);
}

int sheet_open_file_ex(const char *path, const sheet_limits *lim, sheet_reader **out, nx_err *e)
{
    *out = NULL;
    sheet_limits l = complete(lim);
    int rc = 0;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? nx_fail(e, NX_ENOTFOUND, NULL, "文件不存在")
                               : nx_fail(e, NX_EIO, NULL, "无法打开文件");
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = nx_fail(e, NX_EIO, NULL, "无法读取文件");
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = nx_fail(e, NX_EINVAL, NULL, "不是普通文件");
        goto done;
    }
    if ((uint64_t)st.st_size > l.max_bytes) {
        rc = nx_fail(e, NX_ETOOBIG, NULL, "文件过大：超过 %zu MiB 上限", l.max_bytes >> 20);
        goto done;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size + 1);
    if (buf == NULL) {
        rc = nx_fail(e, NX_ENOMEM, NULL, "内存不足");
        goto done;
    }
    /* Read the head first: an xlsx is then handed to libzip by path and not read here. */
    while (got < size) {
        size_t want = got < 4 ? 4 - got : size - got;
        if (want > size - got)
            want = size - got;
        ssize_t n = read(fd, buf + got, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = nx_fail(e, NX_EIO, NULL, "无法读取文件");
            goto done;
        }
        got += (size_t)n;
        if (got == 4 || got == size) {
            if (got >= 4 && memcmp(buf, ole_magic, 4) == 0) {
                rc = refuse_ole(e);
                goto done;
            }
            if (got >= 4 && memcmp(buf, zip_magic, 4) == 0) {
                close(fd);
                fd = -1;
                free(buf);
                buf = NULL;
                xlsx_reader *x;
                if ((rc = xlsx_reader_open_file(path, &l, &x, e)) != 0)
                    return rc;
                return wrap(KIND_XLSX, x, NULL, NULL, out, e);
            }
        }
    }
    csv_reader *c;
    if ((rc = csv_reader_open(buf, got, &l, &c, e)) != 0)
        goto done;
    close(fd);
    rc = wrap(KIND_CSV, NULL, c, buf, out, e);
    buf = NULL;
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

int sheet_open_file(const char *path, sheet_reader **out, nx_err *e)
{
    return sheet_open_file_ex(path, NULL, out, e);
}

int sheet_next_row(sheet_reader *r, const char *const **cells, int *ncells)
{
    if (r->err.code)
        return r->err.code;
    int rownum = 0;
    int rc = r->kind == KIND_XLSX ? xlsx_reader_next(r->x, cells, ncells, &rownum, &r->err)
                                  : csv_reader_next(r->c, cells, ncells, &rownum, &r->err);
    if (rc < 0) {
        if (r->err.code == NX_OK) /* a backend returned a code without words: still report it */
            nx_fail(&r->err, rc, NULL, "读取表格失败");
        r->err.code = rc;
        return rc;
    }
    if (rc > 0)
        r->rownum = rownum;
    return rc;
}

int sheet_row_number(sheet_reader *r)
{
    return r->rownum;
}

const nx_err *sheet_error(sheet_reader *r)
{
    return &r->err;
}

const char *sheet_format(sheet_reader *r)
{
    return r->kind == KIND_XLSX ? "xlsx" : "csv";
}

void sheet_close(sheet_reader *r)
{
    if (r == NULL)
        return;
    xlsx_reader_free(r->x);
    csv_reader_free(r->c);
    free(r->filebuf);
    free(r);
}

int sheet_excel_serial_to_date(const char *v, nx_date *out)
{
    if (v == NULL)
        return NX_EINVAL;
    int64_t serial = 0;
    int digits = 0;
    const char *p = v;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (++digits > 7)
            return NX_EINVAL;
        serial = serial * 10 + (*p - '0');
    }
    if (digits == 0)
        return NX_EINVAL;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return NX_EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p != '\0' || serial < 1 || serial == 60 || serial > 2958465)
        return NX_EINVAL;
    /* Excel counts 1900-02-29, which never existed: serials after it are one day too high. */
    nx_date base = serial < 60 ? (nx_date){1899, 12, 31} : (nx_date){1899, 12, 30};
    *out = date_from_days(date_to_days(base) + serial);
    return 0;
}
