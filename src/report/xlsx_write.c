/* xlsx_write.c — exports to .xlsx through libxlsxwriter, one worksheet, rows in order.
 *
 * libxlsxwriter's constant_memory mode writes each finished row to a temporary file (tmpfile(),
 * i.e. /tmp, or $TMPDIR through the tmpdir option) and assembles the ZIP in workbook_close, so memory
 * does not grow with the export. The price is order: a row, once left, cannot be revisited, which is
 * why this wrapper only offers "the next row". In that mode strings are written inline in the sheet
 * (t="inlineStr") instead of in a shared-string table; Excel, WPS and our own reader accept both.
 *
 * Every text cell carries the text number format "@": an 18-digit ID number written as text stays
 * exact, and if someone edits the cell Excel keeps it text instead of turning it into
 * 3.71402199001011E+17. Cell text is checked to be UTF-8, stripped of control characters that XML
 * 1.0 cannot carry, and a literal "_xHHHH_" is protected as "_x005F_xHHHH_" so Excel does not decode
 * it as an escape.
 *
 * Invariants: next_row is the 0-based row the next call writes; header_n is the header's width, for the
 * autofilter range set at close. Once x->err.code is set nothing more is written and close
 * removes the file. */
#include "report/xlsx_write.h"

#include "base/clock.h"
#include "base/str.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#define MAX_ROWS       1048576
#define MAX_COLS       16384
#define MAX_CELL_CHARS 32767

struct xlsx_out {
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *f_header, *f_text, *f_date;
    char *path, *tmpdir, *title;
    int next_row;
    int header_n; /* columns of the header row, 0 without one: the autofilter's width */
    strbuf scratch;
    nx_err err;
};

static int fail(xlsx_out *x, int code, const char *msg, int row, int col)
{
    if (x->err.code == NX_OK) {
        if (row > 0)
            nx_fail(&x->err, code, NULL, "导出第 %d 行第 %d 列失败：%s", row, col, msg);
        else
            nx_fail(&x->err, code, NULL, "导出失败：%s", msg);
    }
    return x->err.code;
}

static void free_handle(xlsx_out *x)
{
    free(x->path);
    free(x->tmpdir);
    free(x->title);
    strbuf_cleanup(&x->scratch);
    free(x);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int xlsx_out_open(const char *path, const char *sheet_name, xlsx_out **out, nx_err *e)
{
    *out = NULL;
    const char *name = sheet_name ? sheet_name : "Sheet1";
    xlsx_out *x = calloc(1, sizeof *x);
    if (x == NULL)
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    strbuf_init(&x->scratch, 4u * MAX_CELL_CHARS + 64);
    nx_err_clear(&x->err);
    const char *td = getenv("TMPDIR");
    x->path = strdup(path);
    x->title = strdup(name);
    x->tmpdir = td && *td ? dup_or_null(td) : NULL;
    int rc = 0;
    if (x->path == NULL || x->title == NULL || (td && *td && x->tmpdir == NULL)) {
        rc = nx_fail(e, NX_ENOMEM, NULL, "内存不足");
        goto fail;
    }

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = nx_fail(e, NX_EIO, "path", "无法创建导出文件（%s）",
                     errno == ENOENT ? "目录不存在" : "没有写入权限");
        goto fail;
    }
    close(fd);

    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = x->tmpdir, .use_zip64 = LXW_FALSE};
    x->wb = workbook_new_opt(path, &opt);
    if (x->wb == NULL) {
        rc = nx_fail(e, NX_ENOMEM, NULL, "无法创建工作簿");
        goto fail_unlink;
    }
    if (workbook_validate_sheet_name(x->wb, name) != LXW_NO_ERROR) {
        rc = nx_fail(e, NX_EINVAL, "sheet_name",
                     "工作表名称无效：最多 31 个字符，不能包含 []:*?/\\，也不能以单引号开头或结尾");
        goto fail_unlink;
    }
    x->ws = workbook_add_worksheet(x->wb, name);
    if (x->ws == NULL) {
        rc = nx_fail(e, NX_EIO, NULL, "无法创建工作表（临时目录不可写？）");
        goto fail_unlink;
    }
    lxw_doc_properties props = {
        .title = x->title,
        .author = "nuanxin",
        .company = "nuanxin",
        .comments = "由 nuanxin 导出",
    };
    workbook_set_properties(x->wb, &props);

    x->f_header = workbook_add_format(x->wb);
    x->f_text = workbook_add_format(x->wb);
    x->f_date = workbook_add_format(x->wb);
    if (x->f_header == NULL || x->f_text == NULL || x->f_date == NULL) {
        rc = nx_fail(e, NX_ENOMEM, NULL, "内存不足");
        goto fail_unlink;
    }
    format_set_bold(x->f_header);
    format_set_pattern(x->f_header, LXW_PATTERN_SOLID);
    format_set_bg_color(x->f_header, 0xDDEBF7);
    format_set_border(x->f_header, LXW_BORDER_THIN);
    format_set_align(x->f_header, LXW_ALIGN_CENTER);
    format_set_align(x->f_header, LXW_ALIGN_VERTICAL_CENTER);
    format_set_num_format_index(x->f_text, 49); /* Excel's built-in text format "@" */
    format_set_num_format(x->f_date, "yyyy-mm-dd");
    *out = x;
    return 0;

fail_unlink:
    unlink(path);
fail:
    if (x->wb)
        lxw_workbook_free(x->wb); /* frees without writing anything */
    free_handle(x);
    return rc;
}

/* Display width of UTF-8 text in Excel character units (wide for CJK and fullwidth forms). */
static double text_width(const char *s)
{
    double w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int k;
        if (*p < 0x80) {
            cp = *p;
            k = 1;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = *p & 0x1Fu;
            k = 2;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = *p & 0x0Fu;
            k = 3;
        } else {
            cp = *p & 0x07u;
            k = 4;
        }
        int i = 1;
        for (; i < k && (p[i] & 0xC0) == 0x80; i++)
            cp = (cp << 6) | (p[i] & 0x3Fu);
        p += i;
        w += cp >= 0x1100 ? 2.0 : 1.0;
    }
    return w;
}

/* Copy s into scratch without C0 controls (tab, LF and CR kept) and with literal _xHHHH_ protected.
 * Returns NX_EINVAL for invalid UTF-8, NX_ETOOBIG past Excel's cell length. */
static int clean_text(xlsx_out *x, const char *s, const char **out)
{
    size_t n = strlen(s);
    if (!str_utf8_valid(s, n))
        return NX_EINVAL;
    if (str_utf8_len(s) > MAX_CELL_CHARS)
        return NX_ETOOBIG;
    bool plain = true;
    for (size_t i = 0; i < n && plain; i++) {
        unsigned char c = (unsigned char)s[i];
        plain = !((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c == '_' && s[i + 1] == 'x'));
    }
    if (plain) {
        *out = s;
        return 0;
    }
    strbuf *b = &x->scratch;
    b->len = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            continue;
        if (c == '_' && i + 7 <= n && s[i + 1] == 'x' && s[i + 6] == '_') {
            bool hex = true;
            for (size_t k = i + 2; k < i + 6; k++)
                hex = hex && strchr("0123456789abcdefABCDEF", s[k]) != NULL;
            if (hex) {
                rc = strbuf_puts(b, "_x005F_");
                continue;
            }
        }
        rc = strbuf_append(b, s + i, 1);
    }
    if (rc)
        return rc;
    if (b->data == NULL && (rc = strbuf_append(b, "", 0)) != 0)
        return rc;
    *out = b->data;
    return 0;
}

static int map_lxw(xlsx_out *x, lxw_error le, int row, int col)
{
    if (le == LXW_NO_ERROR)
        return 0;
    if (le == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED)
        return fail(x, NX_ETOOBIG, "单元格内容超过 32767 个字符", row, col);
    if (le == LXW_ERROR_MEMORY_MALLOC_FAILED)
        return fail(x, NX_ENOMEM, "内存不足", row, col);
    return fail(x, NX_EIO, lxw_strerror(le), row, col);
}

static int write_text(xlsx_out *x, int row, int col, const char *s, lxw_format *f)
{
    const char *clean;
    int rc = clean_text(x, s, &clean);
    if (rc == NX_EINVAL)
        return fail(x, rc, "文本不是有效的 UTF-8", row + 1, col + 1);
    if (rc == NX_ETOOBIG)
        return fail(x, rc, "单元格内容超过 32767 个字符", row + 1, col + 1);
    if (rc)
        return fail(x, rc, "内存不足", row + 1, col + 1);
    if (clean[0] == '\0')
        return 0;
    return map_lxw(x, worksheet_write_string(x->ws, (lxw_row_t)row, (lxw_col_t)col, clean, f), row + 1,
                   col + 1);
}

/* A finite decimal number: optional sign, digits with an optional fraction, optional exponent. No
 * hex, no inf/nan, no surrounding spaces. */
static int parse_number(const char *s, double *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    int digits = 0;
    while (*p >= '0' && *p <= '9')
        p++, digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits == 0)
        return NX_EINVAL;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (*p < '0' || *p > '9')
            return NX_EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p != '\0')
        return NX_EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return NX_EINVAL;
    *out = v;
    return 0;
}

static int begin_row(xlsx_out *x, int n)
{
    if (x->err.code)
        return x->err.code;
    if (n < 0 || n > MAX_COLS)
        return fail(x, NX_ETOOBIG, "列数超过 Excel 的 16384 列上限", 0, 0);
    if (x->next_row >= MAX_ROWS)
        return fail(x, NX_ETOOBIG, "行数超过 Excel 的 1048576 行上限", 0, 0);
    return 0;
}

int xlsx_out_header(xlsx_out *x, const char *const *titles, const double *widths, int n)
{
    int rc = begin_row(x, n);
    if (rc)
        return rc;
    if (x->next_row != 0 || n == 0)
        return fail(x, NX_EINVAL, "表头必须是第一行且至少有一列", 0, 0);
    for (int i = 0; i < n; i++) {
        const char *t = titles[i] ? titles[i] : "";
        if ((rc = write_text(x, 0, i, t, x->f_header)) != 0)
            return rc;
        double w = widths && widths[i] > 0 ? widths[i] : text_width(t) + 4;
        if (w < 8)
            w = 8;
        if (w > 80)
            w = 80;
        if ((rc = map_lxw(x, worksheet_set_column(x->ws, (lxw_col_t)i, (lxw_col_t)i, w, NULL), 0, 0)) != 0)
            return rc;
    }
    worksheet_freeze_panes(x->ws, 1, 0);
    x->header_n = n;
    x->next_row = 1;
    return 0;
}

int xlsx_out_row_typed(xlsx_out *x, const char *const *cells, const char *types, int n)
{
    int rc = begin_row(x, n);
    if (rc)
        return rc;
    int row = x->next_row;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *v = cells[i];
        char t = types ? types[i] : 's';
        if (v == NULL || v[0] == '\0')
            continue;
        if (t == 's') {
            rc = write_text(x, row, i, v, x->f_text);
        } else if (t == 'n') {
            double d;
            if (parse_number(v, &d) != 0)
                return fail(x, NX_EINVAL, "不是有效的数字", row + 1, i + 1);
            rc = map_lxw(x, worksheet_write_number(x->ws, (lxw_row_t)row, (lxw_col_t)i, d, NULL), row + 1,
                         i + 1);
        } else if (t == 'd') {
            nx_date dt;
            if (date_parse(v, &dt) != 0 || dt.y < 1900)
                return fail(x, NX_EINVAL, "不是有效的日期（应为 YYYY-MM-DD）", row + 1, i + 1);
            lxw_datetime ldt = {.year = dt.y, .month = dt.m, .day = dt.d};
            rc = map_lxw(x, worksheet_write_datetime(x->ws, (lxw_row_t)row, (lxw_col_t)i, &ldt, x->f_date),
                         row + 1, i + 1);
        } else {
            return fail(x, NX_EINVAL, "未知的单元格类型", row + 1, i + 1);
        }
    }
    if (rc)
        return rc;
    x->next_row++;
    return 0;
}

int xlsx_out_row(xlsx_out *x, const char *const *cells, int n)
{
    return xlsx_out_row_typed(x, cells, NULL, n);
}

int xlsx_out_rows(const xlsx_out *x)
{
    return x->next_row;
}

int xlsx_out_close(xlsx_out *x, nx_err *e)
{
    if (x == NULL)
        return 0;
    int rc = x->err.code;
    if (rc == 0 && x->header_n > 0) {
        lxw_error le =
            worksheet_autofilter(x->ws, 0, 0, (lxw_row_t)(x->next_row - 1), (lxw_col_t)(x->header_n - 1));
        rc = map_lxw(x, le, 0, 0);
    }
    if (rc) {
        lxw_workbook_free(x->wb); /* an export that failed is not assembled at all */
    } else {
        lxw_error le = workbook_close(x->wb);
        if (le != LXW_NO_ERROR)
            rc = fail(x, NX_EIO, lxw_strerror(le), 0, 0);
    }
    if (rc) {
        unlink(x->path);
        if (e)
            *e = x->err;
    }
    free_handle(x);
    return rc;
}

void xlsx_out_discard(xlsx_out *x)
{
    if (x == NULL)
        return;
    lxw_workbook_free(x->wb); /* no assembly: the rows written so far are simply dropped */
    unlink(x->path);
    free_handle(x);
}
