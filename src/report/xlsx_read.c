/* xlsx_read.c — a streaming reader for the first worksheet of an .xlsx file (libzip + expat).
 *
 * Debian 12 has no xlsx reader library, and a resident list needs only a small part of the format,
 * so this file reads exactly that part:
 *   1. xl/workbook.xml names the sheets in order; the first visible <sheet> gives a relationship id;
 *   2. xl/_rels/workbook.xml.rels maps that id to the sheet's part (and names the shared strings);
 *   3. the shared-string table (<si> items; rich-text runs <r><t> concatenated, phonetic guides <rPh>
 *      skipped) is loaded whole into one buffer with an offset per string;
 *   4. the sheet XML is fed to expat one 64 KiB chunk at a time; at every </row> that held a value the
 *      parser is suspended (XML_StopParser resumable) and the row handed out; the next call resumes it.
 * Namespaces are processed by expat and only local names are compared, so a prefixed main namespace
 * (<x:c>, written by some .NET libraries) and the Strict OOXML namespace read the same as Excel's.
 *
 * Caps and hostile input. A part is refused when the ZIP directory announces more than max_bytes
 * uncompressed, and the bytes actually inflated are counted too, since a directory can lie (a zip
 * bomb). Strings longer than max_cell, values in columns past max_cols and rows past max_rows are
 * errors, not truncations. DTDs are refused outright (no entity expansion tricks; expat's own
 * billion-laughs guard stays on as well). libzip checks each entry's CRC when it reaches its end.
 *
 * Invariants: a row's values live NUL-separated in r->row with off[col] pointing at each, SIZE_MAX
 * for a column without a value; off[] is reset for the columns used after every row. Once a handler
 * fails, r->hcode holds the error and every later callback returns at once.
 *
 * Threads: a reader is used by one thread at a time; nothing here is global. */
#include "report/xlsx_read.h"

#include "base/str.h"

#include <expat.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zip.h>

#define CHUNK          (64 * 1024)
#define NS_SEP         '|'
#define MAX_EXCEL_ROW  1048576
#define MAX_EXCEL_COL  16384
#define SMALL_PART_CAP (16u * 1024u * 1024u) /* workbook.xml and its rels */

static const char empty_cell[1] = "";

struct xlsx_reader {
    xlsx_reader *self; /* first member: every parser's user data starts with the reader pointer */
    zip_t *za;
    sheet_limits lim;
    nx_err *e; /* where handlers report; set by each public call */
    int hcode; /* error raised inside an expat handler, 0 if none */

    /* shared strings */
    strbuf sst;      /* all strings, NUL-terminated, back to back */
    size_t *sst_off; /* offset of each string in sst */
    size_t sst_n, sst_alloc;

    /* the sheet stream */
    zip_file_t *zf;
    XML_Parser xp;  /* the parser running now (a part's while opening, then the sheet's) */
    uint64_t bytes; /* uncompressed sheet bytes read so far */
    bool suspended, final, done;

    /* parse state */
    int data_depth; /* > 0 inside <sheetData> */
    bool in_row, in_cell, in_v, in_is, in_t;
    int rph_depth; /* > 0 inside a phonetic run */
    int cur_row, last_row, last_col, cell_col;
    char cell_type[16];
    strbuf cell; /* text of the current cell (or shared-string index) */
    strbuf row;  /* values of the current row */
    size_t *off; /* lim.max_cols */
    const char **ptr;
    int ncols; /* 1 + highest column holding a value in this row, 0 if none */
    bool row_ready;
};

/* ---- small helpers ---- */

static const char *lname(const char *name)
{
    const char *s = strrchr(name, NS_SEP);
    return s ? s + 1 : name;
}

/* An attribute by name: unqualified attributes match exactly; ns = true matches a namespaced
 * attribute by its local name (r:id). */
static const char *attr(const char **atts, const char *name, bool ns)
{
    for (int i = 0; atts[i]; i += 2) {
        const char *sep = strrchr(atts[i], NS_SEP);
        if (ns ? (sep && strcmp(sep + 1, name) == 0) : (!sep && strcmp(atts[i], name) == 0))
            return atts[i + 1];
    }
    return NULL;
}

static void handler_fail_code(xlsx_reader *r, int code)
{
    r->hcode = code;
    XML_StopParser(r->xp, XML_FALSE);
}

/* Fail from inside an expat handler: record the error and abort the running parser. */
#define HFAIL(r, code, ...) handler_fail_code((r), nx_fail((r)->e, (code), NULL, __VA_ARGS__))

/* Every parser's user data is a struct whose first member is the reader pointer. */
static xlsx_reader *reader_of(void *ud)
{
    return *(xlsx_reader **)ud;
}

static void XMLCALL refuse_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                                   const XML_Char *pubid, int has_internal)
{
    xlsx_reader *r = reader_of(ud);
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    if (!r->hcode)
        HFAIL(r, NX_EINVAL, "xlsx 文件包含不支持的 DTD 声明");
}

/* A namespace-aware parser with user data ud (whose first member is the reader), made the reader's
 * current parser. */
static XML_Parser new_parser(xlsx_reader *r, void *ud)
{
    XML_Parser p = XML_ParserCreateNS("UTF-8", NS_SEP);
    if (p == NULL)
        return NULL;
    XML_SetUserData(p, ud);
    XML_SetStartDoctypeDeclHandler(p, refuse_doctype);
    r->xp = p;
    return p;
}

/* The code unit of an _xHHHH_ escape at s[i..i+7) (inside s[0..n)), or -1 when there is none. */
static long xescape(const char *s, size_t i, size_t n)
{
    if (i + 7 > n || s[i] != '_' || s[i + 1] != 'x' || s[i + 6] != '_')
        return -1;
    long cp = 0;
    for (size_t k = i + 2; k < i + 6; k++) {
        int v = str_hexval(s[k]);
        if (v < 0)
            return -1;
        cp = cp * 16 + v;
    }
    return cp;
}

/* Decode OOXML's _xHHHH_ escapes (used for control characters, e.g. _x000D_ for CR) from s[0..n)
 * into out. Escapes that would produce NUL or a lone surrogate are kept as written. */
static int decode_xstring(const char *s, size_t n, strbuf *out)
{
    size_t i = 0, lit = 0;
    int rc = 0;
    while (i + 7 <= n) {
        long x = xescape(s, i, n);
        size_t used = 7;
        if (x >= 0xD800 && x <= 0xDBFF) {
            long lo = xescape(s, i + 7, n);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                x = 0x10000 + ((x - 0xD800) << 10) + (lo - 0xDC00);
                used = 14;
            } else {
                x = -1; /* a high surrogate without its low half */
            }
        }
        if (x <= 0 || (x >= 0xDC00 && x <= 0xDFFF)) {
            i++;
            continue;
        }
        unsigned cp = (unsigned)x;
        char u[4];
        size_t un;
        if (cp < 0x80) {
            u[0] = (char)cp;
            un = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | (cp >> 6));
            u[1] = (char)(0x80 | (cp & 0x3F));
            un = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | (cp >> 12));
            u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            un = 3;
        } else {
            u[0] = (char)(0xF0 | (cp >> 18));
            u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            u[3] = (char)(0x80 | (cp & 0x3F));
            un = 4;
        }
        if ((rc = strbuf_append(out, s + lit, i - lit)) != 0 || (rc = strbuf_append(out, u, un)) != 0)
            return rc;
        i += used;
        lit = i;
    }
    return strbuf_append(out, s + lit, n - lit);
}

static int zip_code_to_nx(int zcode)
{
    switch (zcode) {
    case ZIP_ER_MEMORY: return NX_ENOMEM;
    case ZIP_ER_NOENT: return NX_ENOTFOUND;
    case ZIP_ER_OPEN:
    case ZIP_ER_READ:
    case ZIP_ER_SEEK: return NX_EIO;
    case ZIP_ER_NOPASSWD:
    case ZIP_ER_ENCRNOTSUPP:
    case ZIP_ER_COMPNOTSUPP:
    case ZIP_ER_WRONGPASSWD: return NX_EUNSUPP;
    default: return NX_EINVAL;
    }
}

/* Open entry `name`; refuse it when the directory already announces more than cap bytes. */
static int open_entry(xlsx_reader *r, const char *name, size_t cap, zip_file_t **zf, nx_err *e)
{
    *zf = NULL;
    zip_int64_t idx = zip_name_locate(r->za, name, ZIP_FL_NOCASE);
    if (idx < 0)
        return NX_ENOTFOUND; /* the caller decides whether that matters */
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(r->za, (zip_uint64_t)idx, 0, &st) != 0)
        return nx_fail(e, NX_EINVAL, NULL, "xlsx 文件已损坏：无法读取 %s", name);
    if ((st.valid & ZIP_STAT_SIZE) && st.size > cap)
        return nx_fail(e, NX_ETOOBIG, NULL, "表格内容过大：%s 解压后超过 %zu MiB 上限", name, cap >> 20);
    *zf = zip_fopen_index(r->za, (zip_uint64_t)idx, 0);
    if (*zf == NULL) {
        int code = zip_code_to_nx(zip_error_code_zip(zip_get_error(r->za)));
        if (code == NX_EUNSUPP)
            return nx_fail(e, code, NULL, "不支持加密或特殊压缩方式的表格文件");
        if (code == NX_ENOMEM)
            return nx_fail(e, code, NULL, "内存不足");
        return nx_fail(e, code == NX_ENOTFOUND ? NX_EINVAL : code, NULL, "xlsx 文件已损坏：无法读取 %s",
                       name);
    }
    return 0;
}

/* Read a whole part through parser p (handlers already set). ENOTFOUND is returned silently. */
static int parse_part(xlsx_reader *r, const char *name, size_t cap, XML_Parser p, nx_err *e)
{
    zip_file_t *zf;
    int rc = open_entry(r, name, cap, &zf, e);
    if (rc)
        return rc;
    uint64_t total = 0;
    for (;;) {
        void *buf = XML_GetBuffer(p, CHUNK);
        if (buf == NULL) {
            rc = nx_fail(e, NX_ENOMEM, NULL, "内存不足");
            break;
        }
        zip_int64_t n = zip_fread(zf, buf, CHUNK);
        if (n < 0) {
            rc = nx_fail(e, NX_EINVAL, NULL, "xlsx 文件已损坏：读取 %s 失败", name);
            break;
        }
        total += (uint64_t)n;
        if (total > cap) {
            rc = nx_fail(e, NX_ETOOBIG, NULL, "表格内容过大：%s 解压后超过 %zu MiB 上限", name, cap >> 20);
            break;
        }
        if (XML_ParseBuffer(p, (int)n, n == 0) == XML_STATUS_ERROR) {
            if (r->hcode)
                rc = r->hcode;
            else
                rc =
                    nx_fail(e, NX_EINVAL, NULL, "xlsx 文件已损坏：%s 不是有效的 XML（第 %lu 行：%s）", name,
                            (unsigned long)XML_GetCurrentLineNumber(p), XML_ErrorString(XML_GetErrorCode(p)));
            break;
        }
        if (n == 0)
            break;
    }
    zip_fclose(zf);
    return rc;
}

/* Read a whole part with a parser of its own calling start, end and text (NULL: none) with ud. */
static int read_part(xlsx_reader *r, const char *name, size_t cap, void *ud, XML_StartElementHandler start,
                     XML_EndElementHandler end, XML_CharacterDataHandler text, nx_err *e)
{
    XML_Parser p = new_parser(r, ud);
    if (p == NULL)
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    XML_SetElementHandler(p, start, end);
    if (text)
        XML_SetCharacterDataHandler(p, text);
    int rc = parse_part(r, name, cap, p, e);
    r->xp = NULL;
    XML_ParserFree(p);
    return rc;
}

/* Join the relationship target to the directory of the source part ("xl/") and normalise "." and
 * ".."; an absolute target ("/xl/worksheets/sheet1.xml") is taken from the package root. */
static int resolve_target(const char *base_dir, const char *target, char *out, size_t outsz)
{
    char joined[512];
    int n = target[0] == '/' ? snprintf(joined, sizeof joined, "%s", target + 1)
                             : snprintf(joined, sizeof joined, "%s%s", base_dir, target);
    if (n < 0 || (size_t)n >= sizeof joined)
        return NX_EINVAL;
    size_t len = 0;
    out[0] = '\0';
    char *save = NULL;
    for (char *seg = strtok_r(joined, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            char *slash = strrchr(out, '/');
            if (len == 0)
                return NX_EINVAL;
            len = slash ? (size_t)(slash - out) : 0;
            out[len] = '\0';
            continue;
        }
        size_t sl = strlen(seg);
        if (len + (len ? 1 : 0) + sl + 1 > outsz)
            return NX_EINVAL;
        if (len)
            out[len++] = '/';
        memcpy(out + len, seg, sl + 1);
        len += sl;
    }
    return len ? 0 : NX_EINVAL;
}

/* ---- workbook.xml: the first visible sheet's relationship id ---- */

typedef struct {
    xlsx_reader *r;
    bool in_sheets;
    char first_rid[128], visible_rid[128];
} wb_ctx;

static void XMLCALL wb_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    wb_ctx *c = ud;
    const char *n = lname(name);
    if (strcmp(n, "sheets") == 0) {
        c->in_sheets = true;
    } else if (c->in_sheets && strcmp(n, "sheet") == 0) {
        const char *rid = attr(atts, "id", true);
        const char *state = attr(atts, "state", false);
        if (rid == NULL)
            return;
        if (c->first_rid[0] == '\0')
            str_copy(c->first_rid, rid, sizeof c->first_rid);
        if (c->visible_rid[0] == '\0' && (state == NULL || strcmp(state, "visible") == 0))
            str_copy(c->visible_rid, rid, sizeof c->visible_rid);
    }
}

static void XMLCALL wb_end(void *ud, const XML_Char *name)
{
    wb_ctx *c = ud;
    if (strcmp(lname(name), "sheets") == 0)
        c->in_sheets = false;
}

/* ---- workbook.xml.rels: targets of the sheet and of the shared strings ---- */

typedef struct {
    xlsx_reader *r;
    const char *want_id;
    char sheet_target[256], sst_target[256];
} rels_ctx;

static void XMLCALL rels_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    rels_ctx *c = ud;
    if (strcmp(lname(name), "Relationship") != 0)
        return;
    const char *id = attr(atts, "Id", false), *type = attr(atts, "Type", false);
    const char *target = attr(atts, "Target", false), *mode = attr(atts, "TargetMode", false);
    if (target == NULL || (mode && strcmp(mode, "External") == 0))
        return;
    if (id && c->want_id[0] && strcmp(id, c->want_id) == 0)
        str_copy(c->sheet_target, target, sizeof c->sheet_target);
    if (type && str_ends_with(type, "/sharedStrings"))
        str_copy(c->sst_target, target, sizeof c->sst_target);
}

/* ---- sharedStrings.xml ---- */

typedef struct {
    xlsx_reader *r;
    bool in_si, in_t;
    int rph_depth;
    strbuf cur;
} sst_ctx;

static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    sst_ctx *c = ud;
    (void)atts;
    if (c->r->hcode)
        return;
    const char *n = lname(name);
    if (strcmp(n, "si") == 0) {
        c->in_si = true;
        c->cur.len = 0;
    } else if (c->in_si && strcmp(n, "rPh") == 0) {
        c->rph_depth++;
    } else if (c->in_si && strcmp(n, "t") == 0) {
        c->in_t = true;
    }
}

static void XMLCALL sst_text(void *ud, const XML_Char *s, int len)
{
    sst_ctx *c = ud;
    if (c->r->hcode || !c->in_t || c->rph_depth > 0)
        return;
    int rc = strbuf_append(&c->cur, s, (size_t)len);
    if (rc == NX_ENOMEM)
        HFAIL(c->r, NX_ENOMEM, "内存不足");
    else if (rc)
        HFAIL(c->r, NX_ETOOBIG, "表格中有单元格内容过长：超过 %zu 字节上限", c->r->lim.max_cell);
}

static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
    sst_ctx *c = ud;
    xlsx_reader *r = c->r;
    if (r->hcode)
        return;
    const char *n = lname(name);
    if (strcmp(n, "t") == 0) {
        c->in_t = false;
    } else if (strcmp(n, "rPh") == 0 && c->rph_depth > 0) {
        c->rph_depth--;
    } else if (strcmp(n, "si") == 0 && c->in_si) {
        c->in_si = false;
        if (r->sst_n == r->sst_alloc) {
            size_t na = r->sst_alloc ? r->sst_alloc * 2 : 1024;
            size_t *p = realloc(r->sst_off, na * sizeof *p);
            if (p == NULL) {
                HFAIL(r, NX_ENOMEM, "内存不足");
                return;
            }
            r->sst_off = p;
            r->sst_alloc = na;
        }
        size_t at = r->sst.len;
        int rc = decode_xstring(c->cur.data ? c->cur.data : "", c->cur.len, &r->sst);
        if (rc == 0)
            rc = strbuf_append(&r->sst, "", 1);
        if (rc) {
            HFAIL(r, rc == NX_ENOMEM ? NX_ENOMEM : NX_ETOOBIG, "表格的共享字符串过大");
            return;
        }
        r->sst_off[r->sst_n++] = at;
    }
}

static int load_shared_strings(xlsx_reader *r, const char *path, nx_err *e)
{
    sst_ctx c = {.r = r};
    strbuf_init(&c.cur, r->lim.max_cell);
    int rc = read_part(r, path, r->lim.max_bytes, &c, sst_start, sst_end, sst_text, e);
    strbuf_cleanup(&c.cur);
    return rc == NX_ENOTFOUND ? 0 : rc; /* no shared strings is fine until a cell needs one */
}

/* ---- the sheet ---- */

static void clear_row(xlsx_reader *r)
{
    for (int i = 0; i < r->ncols; i++)
        r->off[i] = SIZE_MAX;
    r->ncols = 0;
    r->row.len = 0;
}

/* "AB12" -> 27 (0-based column), or -1 when there are no letters or the column is past XFD. */
static int ref_col(const char *ref)
{
    int col = 0, k = 0;
    for (; ref[k]; k++) {
        char ch = ref[k];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch < 'A' || ch > 'Z')
            break;
        col = col * 26 + (ch - 'A' + 1);
        if (col > MAX_EXCEL_COL)
            return -1;
    }
    return k ? col - 1 : -1;
}

static void col_name(int col, char out[8])
{
    char tmp[8];
    int n = 0;
    for (col += 1; col > 0 && n < 7; col = (col - 1) / 26)
        tmp[n++] = (char)('A' + (col - 1) % 26);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xlsx_reader *r = reader_of(ud);
    if (r->hcode)
        return;
    const char *n = lname(name);
    if (r->data_depth == 0) {
        if (strcmp(n, "sheetData") == 0)
            r->data_depth = 1;
        return;
    }
    if (strcmp(n, "row") == 0) {
        const char *rs = attr(atts, "r", false);
        int64_t v;
        r->cur_row = r->last_row + 1;
        if (rs && str_to_i64(rs, 1, MAX_EXCEL_ROW, &v) == 0)
            r->cur_row = (int)v;
        /* Rows come in increasing order (the OOXML schema; every spreadsheet program writes them so):
         * a repeated or backward row number would make "第 N 行" messages name the wrong row
         * (fuzz_xlsx found two rows numbered 1). */
        if (r->cur_row <= r->last_row) {
            HFAIL(r, NX_EINVAL, "第 %d 行格式错误：行号重复或顺序颠倒（上一行是第 %d 行）", r->cur_row, r->last_row);
            return;
        }
        r->in_row = true;
        r->last_col = -1;
    } else if (r->in_row && strcmp(n, "c") == 0) {
        const char *ref = attr(atts, "r", false), *t = attr(atts, "t", false);
        int col = ref ? ref_col(ref) : -1;
        r->cell_col = col >= 0 ? col : r->last_col + 1;
        str_copy(r->cell_type, t ? t : "n", sizeof r->cell_type);
        r->in_cell = true;
        r->in_v = r->in_is = r->in_t = false;
        r->rph_depth = 0;
        r->cell.len = 0;
    } else if (r->in_cell) {
        if (strcmp(n, "v") == 0)
            r->in_v = true;
        else if (strcmp(n, "is") == 0)
            r->in_is = true;
        else if (r->in_is && strcmp(n, "rPh") == 0)
            r->rph_depth++;
        else if (r->in_is && strcmp(n, "t") == 0)
            r->in_t = true;
    }
}

static void XMLCALL sheet_text(void *ud, const XML_Char *s, int len)
{
    xlsx_reader *r = reader_of(ud);
    if (r->hcode || !r->in_cell || !(r->in_v || (r->in_is && r->in_t && r->rph_depth == 0)))
        return;
    int rc = strbuf_append(&r->cell, s, (size_t)len);
    if (rc == NX_ENOMEM) {
        HFAIL(r, NX_ENOMEM, "内存不足");
    } else if (rc) {
        char cn[8];
        col_name(r->cell_col, cn);
        HFAIL(r, NX_ETOOBIG, "第 %d 行 %s 列内容过长：超过 %zu 字节上限", r->cur_row, cn, r->lim.max_cell);
    }
}

/* Store the finished cell's value in the row. */
static void finish_cell(xlsx_reader *r)
{
    const char *t = r->cell_type;
    const char *val = r->cell.data ? r->cell.data : "";
    size_t vlen = r->cell.len;
    bool decode = false;
    r->last_col = r->cell_col;
    if (strcmp(t, "s") == 0) {
        int64_t idx;
        if (vlen == 0)
            return;
        if (str_to_i64(val, 0, (int64_t)r->sst_n - 1, &idx) != 0) {
            HFAIL(r, NX_EINVAL, "第 %d 行格式错误：共享字符串引用无效", r->cur_row);
            return;
        }
        val = r->sst.data + r->sst_off[idx];
        vlen = strlen(val);
    } else if (strcmp(t, "b") == 0) {
        if (strcmp(val, "1") == 0)
            val = "TRUE";
        else if (strcmp(val, "0") == 0)
            val = "FALSE";
        vlen = strlen(val);
    } else if (strcmp(t, "inlineStr") == 0 || strcmp(t, "str") == 0) {
        decode = true;
    }
    if (vlen == 0)
        return;
    if (r->cell_col >= r->lim.max_cols) {
        HFAIL(r, NX_ETOOBIG, "第 %d 行列数过多：超过 %d 列上限", r->cur_row, r->lim.max_cols);
        return;
    }
    size_t at = r->row.len;
    int rc = decode ? decode_xstring(val, vlen, &r->row) : strbuf_append(&r->row, val, vlen);
    if (rc == 0)
        rc = strbuf_append(&r->row, "", 1);
    if (rc) {
        HFAIL(r, rc == NX_ENOMEM ? NX_ENOMEM : NX_ETOOBIG, "第 %d 行内容过多", r->cur_row);
        return;
    }
    if (r->cell_col >= r->ncols) {
        for (int i = r->ncols; i < r->cell_col; i++)
            r->off[i] = SIZE_MAX;
        r->ncols = r->cell_col + 1;
    }
    r->off[r->cell_col] = at;
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
    xlsx_reader *r = reader_of(ud);
    if (r->hcode || r->data_depth == 0)
        return;
    const char *n = lname(name);
    if (r->in_cell) {
        if (strcmp(n, "c") == 0) {
            r->in_cell = false;
            finish_cell(r);
        } else if (strcmp(n, "v") == 0) {
            r->in_v = false;
        } else if (strcmp(n, "is") == 0) {
            r->in_is = false;
        } else if (strcmp(n, "rPh") == 0 && r->rph_depth > 0) {
            r->rph_depth--;
        } else if (strcmp(n, "t") == 0) {
            r->in_t = false;
        }
    } else if (r->in_row && strcmp(n, "row") == 0) {
        r->in_row = false;
        r->last_row = r->cur_row;
        if (r->ncols == 0)
            return;
        if (r->cur_row > r->lim.max_rows) {
            HFAIL(r, NX_ETOOBIG, "表格行数过多：超过 %d 行上限", r->lim.max_rows);
            return;
        }
        for (int i = 0; i < r->ncols; i++)
            r->ptr[i] = r->off[i] == SIZE_MAX ? empty_cell : r->row.data + r->off[i];
        r->row_ready = true;
        XML_StopParser(r->xp, XML_TRUE);
    } else if (strcmp(n, "sheetData") == 0) {
        r->data_depth = 0;
    }
}

/* ---- opening ---- */

static int open_workbook(xlsx_reader *r, nx_err *e)
{
    int rc;
    char sheet_path[256] = "xl/worksheets/sheet1.xml", sst_path[256] = "xl/sharedStrings.xml";
    r->e = e; /* handlers report here while the parts are read */

    wb_ctx wb = {.r = r};
    rc = read_part(r, "xl/workbook.xml", SMALL_PART_CAP, &wb, wb_start, wb_end, NULL, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, NULL, "不是有效的 xlsx 表格：缺少 xl/workbook.xml");
    if (rc)
        return rc;

    rels_ctx rels = {.r = r, .want_id = wb.visible_rid[0] ? wb.visible_rid : wb.first_rid};
    if (rels.want_id[0] == '\0')
        return nx_fail(e, NX_EINVAL, NULL, "xlsx 表格中没有工作表");
    rc = read_part(r, "xl/_rels/workbook.xml.rels", SMALL_PART_CAP, &rels, rels_start, NULL, NULL, e);
    if (rc && rc != NX_ENOTFOUND)
        return rc;
    if (rels.sheet_target[0] && resolve_target("xl/", rels.sheet_target, sheet_path, sizeof sheet_path) != 0)
        return nx_fail(e, NX_EINVAL, NULL, "不是有效的 xlsx 表格：工作表路径无效");
    if (rels.sst_target[0] && resolve_target("xl/", rels.sst_target, sst_path, sizeof sst_path) != 0)
        return nx_fail(e, NX_EINVAL, NULL, "不是有效的 xlsx 表格：共享字符串路径无效");

    if ((rc = load_shared_strings(r, sst_path, e)) != 0)
        return rc;

    rc = open_entry(r, sheet_path, r->lim.max_bytes, &r->zf, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, NULL, "不是有效的 xlsx 表格：找不到第一个工作表");
    if (rc)
        return rc;
    if (new_parser(r, r) == NULL)
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    XML_SetElementHandler(r->xp, sheet_start, sheet_end);
    XML_SetCharacterDataHandler(r->xp, sheet_text);
    return 0;
}

static int reader_new(const sheet_limits *lim, xlsx_reader **out, nx_err *e)
{
    xlsx_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    r->self = r;
    r->lim = *lim;
    strbuf_init(&r->sst, lim->max_bytes);
    strbuf_init(&r->cell, lim->max_cell);
    strbuf_init(&r->row, (size_t)lim->max_cols * (lim->max_cell + 1) + 1);
    r->off = malloc((size_t)lim->max_cols * sizeof *r->off);
    r->ptr = calloc((size_t)lim->max_cols, sizeof *r->ptr);
    if (r->off == NULL || r->ptr == NULL) {
        xlsx_reader_free(r);
        return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
    }
    for (int i = 0; i < lim->max_cols; i++)
        r->off[i] = SIZE_MAX;
    *out = r;
    return 0;
}

static int zip_open_failed(int zcode, nx_err *e)
{
    int code = zip_code_to_nx(zcode);
    switch (code) {
    case NX_ENOTFOUND: return nx_fail(e, code, NULL, "文件不存在");
    case NX_EIO: return nx_fail(e, code, NULL, "无法读取文件");
    case NX_ENOMEM: return nx_fail(e, code, NULL, "内存不足");
    default: return nx_fail(e, NX_EINVAL, NULL, "不是有效的 xlsx 表格：文件已损坏或不完整");
    }
}

int xlsx_reader_open_mem(const void *data, size_t len, const sheet_limits *lim, xlsx_reader **out, nx_err *e)
{
    *out = NULL;
    xlsx_reader *r;
    int rc = reader_new(lim, &r, e);
    if (rc)
        return rc;
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &zerr);
    if (src == NULL) {
        rc = zip_open_failed(zip_error_code_zip(&zerr), e);
        goto fail;
    }
    r->za = zip_open_from_source(src, ZIP_RDONLY, &zerr);
    if (r->za == NULL) {
        zip_source_free(src);
        /* The bytes are here: libzip's "no such file" (an archive whose directory names a member it
         * cannot find) is a broken upload, not a missing one (fuzz_xlsx: it was answered 404). */
        int zc = zip_error_code_zip(&zerr);
        rc = zip_open_failed(zc == ZIP_ER_NOENT ? ZIP_ER_INCONS : zc, e);
        goto fail;
    }
    if ((rc = open_workbook(r, e)) != 0)
        goto fail;
    zip_error_fini(&zerr);
    *out = r;
    return 0;
fail:
    zip_error_fini(&zerr);
    xlsx_reader_free(r);
    return rc;
}

int xlsx_reader_open_file(const char *path, const sheet_limits *lim, xlsx_reader **out, nx_err *e)
{
    *out = NULL;
    xlsx_reader *r;
    int rc = reader_new(lim, &r, e);
    if (rc)
        return rc;
    int zcode = 0;
    r->za = zip_open(path, ZIP_RDONLY, &zcode);
    if (r->za == NULL) {
        rc = zip_open_failed(zcode, e);
        goto fail;
    }
    if ((rc = open_workbook(r, e)) != 0)
        goto fail;
    *out = r;
    return 0;
fail:
    xlsx_reader_free(r);
    return rc;
}

/* ---- reading rows ---- */

int xlsx_reader_next(xlsx_reader *r, const char *const **cells, int *ncells, int *rownum, nx_err *e)
{
    r->e = e;
    if (r->row_ready) {
        clear_row(r);
        r->row_ready = false;
    }
    if (r->hcode)
        return r->hcode;
    while (!r->done) {
        enum XML_Status st;
        if (r->suspended) {
            st = XML_ResumeParser(r->xp);
        } else {
            void *buf = XML_GetBuffer(r->xp, CHUNK);
            if (buf == NULL)
                return nx_fail(e, NX_ENOMEM, NULL, "内存不足");
            zip_int64_t n = zip_fread(r->zf, buf, CHUNK);
            if (n < 0)
                return nx_fail(e, NX_EINVAL, NULL, "xlsx 文件已损坏：第 %d 行之后的数据无法读取",
                               r->last_row);
            r->bytes += (uint64_t)n;
            if (r->bytes > r->lim.max_bytes)
                return nx_fail(e, NX_ETOOBIG, NULL, "表格内容过大：工作表解压后超过 %zu MiB 上限",
                               r->lim.max_bytes >> 20);
            r->final = n == 0;
            st = XML_ParseBuffer(r->xp, (int)n, r->final);
        }
        if (st == XML_STATUS_ERROR) {
            if (r->hcode)
                return r->hcode;
            return nx_fail(e, NX_EINVAL, NULL, "第 %d 行附近格式错误：工作表 XML 无效（%s）", r->last_row + 1,
                           XML_ErrorString(XML_GetErrorCode(r->xp)));
        }
        if (st == XML_STATUS_SUSPENDED) {
            r->suspended = true;
            if (r->row_ready) {
                *cells = r->ptr;
                *ncells = r->ncols;
                *rownum = r->cur_row;
                return 1;
            }
            continue;
        }
        r->suspended = false;
        if (r->final)
            r->done = true;
    }
    return 0;
}

void xlsx_reader_free(xlsx_reader *r)
{
    if (r == NULL)
        return;
    if (r->xp)
        XML_ParserFree(r->xp);
    if (r->zf)
        zip_fclose(r->zf);
    if (r->za)
        zip_discard(r->za);
    strbuf_cleanup(&r->sst);
    strbuf_cleanup(&r->cell);
    strbuf_cleanup(&r->row);
    free(r->sst_off);
    free(r->off);
    free(r->ptr);
    free(r);
}
