/* test_xlsx.c — xlsx export (report/xlsx_write.h) and import (report/sheet.h over xlsx_read.c):
 * a 2,000-row round trip, hand-built workbooks (shared strings with rich text and phonetic runs,
 * inline strings, a prefixed namespace, column gaps, skipped rows, hidden first sheet), caps and zip
 * bombs, garbage and damaged files, and Excel serial dates. */
#include "report/sheet.h"
#include "report/xlsx_write.h"

#include "base/str.h"
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

static char tmp_path[128];

static const char *tmpfile_path(const char *tag)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/nx_test_xlsx_%d_%s.xlsx", (int)getpid(), tag);
    return tmp_path;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Build a ZIP at path from n (name, content) pairs; returns 0 on success. */
static int make_zip(const char *path, const char *const *names, const char *const *bodies, int n)
{
    int err = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (za == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(za, bodies[i], strlen(bodies[i]), 0);
        if (s == NULL || zip_file_add(za, names[i], s, ZIP_FL_ENC_UTF_8) < 0) {
            zip_source_free(s);
            zip_discard(za);
            return -1;
        }
    }
    return zip_close(za) == 0 ? 0 : -1;
}

/* Build the ZIP and return its bytes (the file is removed). */
static unsigned char *zip_bytes(const char *const *names, const char *const *bodies, int n, size_t *len)
{
    const char *path = tmpfile_path("built");
    if (make_zip(path, names, bodies, n) != 0)
        return NULL;
    unsigned char *b = slurp(path, len);
    unlink(path);
    return b;
}

static void expect_row(sheet_reader *r, int rownum, int n, const char *const *want, const char *what)
{
    const char *const *cells = NULL;
    int nc = -1;
    int rc = sheet_next_row(r, &cells, &nc);
    CHECK_INT(rc, 1);
    if (rc != 1) {
        fprintf(stderr, "  (%s: %s)\n", what, sheet_error(r)->msg);
        return;
    }
    CHECK_INT(sheet_row_number(r), rownum);
    CHECK_INT(nc, n);
    for (int i = 0; i < n && i < nc; i++)
        CHECK_STR(cells[i], want[i]);
    if (nc != n)
        fprintf(stderr, "  (%s)\n", what);
}

static void expect_end(sheet_reader *r)
{
    const char *const *cells;
    int nc;
    int rc = sheet_next_row(r, &cells, &nc);
    CHECK_INT(rc, 0);
    if (rc < 0)
        fprintf(stderr, "  (end: %s)\n", sheet_error(r)->msg);
}

/* ---- export, then import ---- */

#define ROUND_ROWS 2000

static void test_round_trip(void)
{
    const char *path = tmpfile_path("round");
    unsetenv("TMPDIR"); /* libxlsxwriter's temp files then go to /tmp */
    xlsx_out *x = NULL;
    nx_err e;
    nx_err_clear(&e);
    CHECK_INT(xlsx_out_open(path, "居民名单", &x, &e), 0);
    if (!x)
        return;
    const char *titles[] = {"姓名", "身份证号", "年龄", "备注", "出生日期"};
    const double widths[] = {12, 22, 0, 30, 14};
    CHECK_INT(xlsx_out_header(x, titles, widths, 5), 0);
    char name[32], age[16];
    for (int i = 0; i < ROUND_ROWS; i++) {
        snprintf(name, sizeof name, "居民%d", i);
        snprintf(age, sizeof age, "%d", 20 + i % 80);
        const char *cells[] = {i == 0 ? "张三" : name, "371402199001011234", age, (i % 2) ? "独居老人" : NULL,
                               "1990-01-01"};
        CHECK_INT(xlsx_out_row_typed(x, cells, "ssnsd", 5), 0);
    }
    /* An empty row (skipped by the reader, but counted), then text-only rows via xlsx_out_row. */
    const char *none[] = {NULL, "", NULL};
    CHECK_INT(xlsx_out_row(x, none, 3), 0);
    const char *tail[] = {NULL, NULL, "013812345678", "a\001b", "_x0041_"};
    CHECK_INT(xlsx_out_row(x, tail, 5), 0);
    CHECK_INT(xlsx_out_rows(x), ROUND_ROWS + 3);
    CHECK_INT(xlsx_out_close(x, &e), 0);

    sheet_reader *r = NULL;
    CHECK_INT(sheet_open_file(path, &r, &e), 0);
    if (!r) {
        fprintf(stderr, "  open: %s\n", e.msg);
        return;
    }
    CHECK_STR(sheet_format(r), "xlsx");
    expect_row(r, 1, 5, titles, "header");
    int bad = 0;
    for (int i = 0; i < ROUND_ROWS; i++) {
        const char *const *c;
        int nc;
        if (sheet_next_row(r, &c, &nc) != 1) {
            bad++;
            break;
        }
        snprintf(name, sizeof name, "居民%d", i);
        snprintf(age, sizeof age, "%d", 20 + i % 80);
        bool ok = sheet_row_number(r) == i + 2 && nc == 5 && strcmp(c[0], i == 0 ? "张三" : name) == 0 &&
                  strcmp(c[1], "371402199001011234") == 0 && strcmp(c[2], age) == 0 &&
                  strcmp(c[3], (i % 2) ? "独居老人" : "") == 0 && strcmp(c[4], "32874") == 0;
        if (!ok && bad++ < 3)
            fprintf(stderr, "  row %d: [%s|%s|%s|%s|%s] n=%d\n", sheet_row_number(r), c[0],
                    nc > 1 ? c[1] : "", nc > 2 ? c[2] : "", nc > 3 ? c[3] : "", nc > 4 ? c[4] : "", nc);
        if (i == ROUND_ROWS - 1) {
            nx_date d;
            CHECK_INT(sheet_excel_serial_to_date(c[4], &d), 0);
            CHECK(d.y == 1990 && d.m == 1 && d.d == 1);
        }
    }
    CHECK_INT(bad, 0);
    /* Row ROUND_ROWS + 2 was empty; the tail is row ROUND_ROWS + 3. Control characters are dropped;
     * a literal _x0041_ survives (escaped on write, decoded on read). */
    expect_row(r, ROUND_ROWS + 3, 5, (const char *const[]){"", "", "013812345678", "ab", "_x0041_"}, "tail");
    expect_end(r);
    sheet_close(r);

    /* Document properties. */
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &zerr);
    CHECK(za != NULL);
    if (za) {
        zip_file_t *zf = zip_fopen(za, "docProps/core.xml", 0);
        CHECK(zf != NULL);
        if (zf) {
            char buf[4096];
            zip_int64_t n = zip_fread(zf, buf, sizeof buf - 1);
            buf[n > 0 ? n : 0] = '\0';
            CHECK(strstr(buf, "<dc:creator>nuanxin</dc:creator>") != NULL);
            CHECK(strstr(buf, "<dc:title>居民名单</dc:title>") != NULL);
            zip_fclose(zf);
        }
        /* Text cells carry the built-in text format "@" (numFmtId 49), so edits keep them text. */
        zf = zip_fopen(za, "xl/styles.xml", 0);
        CHECK(zf != NULL);
        if (zf) {
            char buf[8192];
            zip_int64_t n = zip_fread(zf, buf, sizeof buf - 1);
            buf[n > 0 ? n : 0] = '\0';
            CHECK(strstr(buf, "numFmtId=\"49\"") != NULL);
            zip_fclose(zf);
        }
        zip_discard(za);
    }

    /* The same file from memory, with caps that the file exceeds. */
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    CHECK(bytes != NULL);
    if (bytes) {
        const char *const *c;
        int nc;
        sheet_limits lim = {.max_rows = 100};
        CHECK_INT(sheet_open_mem_ex(bytes, len, NULL, &lim, &r, &e), 0);
        if (r) {
            int rc, rows = 0;
            while ((rc = sheet_next_row(r, &c, &nc)) == 1)
                rows++;
            CHECK_INT(rows, 100);
            CHECK_INT(rc, NX_ETOOBIG);
            CHECK(strstr(sheet_error(r)->msg, "100 行") != NULL);
            sheet_close(r);
        }
        lim = (sheet_limits){.max_cols = 3};
        CHECK_INT(sheet_open_mem_ex(bytes, len, "XLSX", &lim, &r, &e), 0);
        if (r) {
            CHECK_INT(sheet_next_row(r, &c, &nc), NX_ETOOBIG);
            CHECK(strstr(sheet_error(r)->msg, "第 1 行") != NULL);
            sheet_close(r);
        }
        lim = (sheet_limits){.max_cell = 12}; /* the longest title is 12 bytes */
        CHECK_INT(sheet_open_mem_ex(bytes, len, NULL, &lim, &r, &e), 0);
        if (r) {
            CHECK_INT(sheet_next_row(r, &c, &nc), 1); /* the titles fit */
            CHECK_INT(sheet_next_row(r, &c, &nc), NX_ETOOBIG);
            CHECK(strstr(sheet_error(r)->msg, "第 2 行 B 列") != NULL);
            sheet_close(r);
        }
        /* Truncated: the ZIP directory at the end is gone. */
        CHECK_INT(sheet_open_mem(bytes, len / 2, NULL, &r, &e), NX_EINVAL);
        CHECK(r == NULL);
        CHECK_INT(sheet_open_mem(bytes, len - 10, NULL, &r, &e), NX_EINVAL);
        free(bytes);
    }
    unlink(path);
}

static void test_write_errors(void)
{
    xlsx_out *x = NULL;
    nx_err e;
    CHECK_INT(xlsx_out_open(tmpfile_path("bad"), "a[b]", &x, &e), NX_EINVAL);
    CHECK(x == NULL);
    CHECK_STR(e.field, "sheet_name");
    CHECK(access(tmp_path, F_OK) != 0);
    CHECK_INT(xlsx_out_open("/nonexistent-dir/x.xlsx", "名单", &x, &e), NX_EIO);

    /* With TMPDIR pointing at /tmp explicitly (libxlsxwriter's own tmpdir code path). */
    setenv("TMPDIR", "/tmp", 1);
    const char *path = tmpfile_path("errs");
    CHECK_INT(xlsx_out_open(path, NULL, &x, &e), 0);
    unsetenv("TMPDIR");
    if (!x)
        return;
    const char *row[] = {"1", "12abc"};
    CHECK_INT(xlsx_out_row_typed(x, row, "nn", 2), NX_EINVAL);
    const char *ok[] = {"fine"};
    CHECK_INT(xlsx_out_row(x, ok, 1), NX_EINVAL); /* sticky */
    CHECK_INT(xlsx_out_header(x, ok, NULL, 1), NX_EINVAL);
    CHECK_INT(xlsx_out_close(x, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "第 1 行第 2 列") != NULL);
    CHECK(access(path, F_OK) != 0); /* the incomplete file is removed */

    CHECK_INT(xlsx_out_open(path, "S", &x, &e), 0);
    if (x) {
        const char *bad_utf8[] = {"\xC3\x28"};
        CHECK_INT(xlsx_out_row(x, bad_utf8, 1), NX_EINVAL);
        CHECK_INT(xlsx_out_close(x, &e), NX_EINVAL);
    }
    CHECK_INT(xlsx_out_open(path, "S", &x, &e), 0);
    if (x) {
        const char *d[] = {"2024-02-30"};
        CHECK_INT(xlsx_out_row_typed(x, d, "d", 1), NX_EINVAL);
        xlsx_out_discard(x);
    }
    CHECK(access(path, F_OK) != 0);
    CHECK_INT(xlsx_out_close(NULL, &e), 0);
    xlsx_out_discard(NULL);

    /* A typed row: numbers are numeric cells, read back as their stored text. */
    CHECK_INT(xlsx_out_open(path, "S", &x, &e), 0);
    if (x) {
        const char *cells[] = {"-3.5", "1e3", "0123"};
        CHECK_INT(xlsx_out_row_typed(x, cells, "nns", 3), 0);
        CHECK_INT(xlsx_out_close(x, &e), 0);
        sheet_reader *r = NULL;
        CHECK_INT(sheet_open_file(path, &r, &e), 0);
        if (r) {
            expect_row(r, 1, 3, (const char *const[]){"-3.5", "1000", "0123"}, "typed");
            expect_end(r);
            sheet_close(r);
        }
    }
    unlink(path);
}

/* ---- hand-built workbooks ---- */

static const char content_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
    "<Override PartName=\"/xl/workbook.xml\" "
    "ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
    "</Types>";

#define NS_MAIN  "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define NS_REL   "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define REL_TYPE "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

static const char workbook_xml[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                   "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><sheets>"
                                   "<sheet name=\"隐藏\" sheetId=\"2\" state=\"hidden\" r:id=\"rId2\"/>"
                                   "<sheet name=\"名单\" sheetId=\"1\" r:id=\"rId1\"/>"
                                   "</sheets></workbook>";

static const char workbook_rels[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId2\" Type=\"" REL_TYPE "worksheet\" Target=\"/xl/worksheets/hidden.xml\"/>"
    "<Relationship Id=\"rId3\" Type=\"" REL_TYPE "sharedStrings\" Target=\"./strings/sst.xml\"/>"
    "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "worksheet\" Target=\"worksheets/../worksheets/data.xml\"/>"
    "</Relationships>";

static const char shared_strings[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<sst xmlns=\"" NS_MAIN "\" count=\"3\" uniqueCount=\"3\">"
    "<si><t>姓名</t></si>"
    "<si><r><rPr><b/></rPr><t>张</t></r><r><t xml:space=\"preserve\">三 </t></r>"
    "<rPh sb=\"0\" eb=\"1\"><t>zhang</t></rPh><phoneticPr fontId=\"1\"/></si>"
    "<si><t>一_x000D_二 &amp; &lt;三&gt;</t></si>"
    "</sst>";

static const char sheet_data[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<worksheet xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\">"
    "<dimension ref=\"A1:E6\"/><sheetViews><sheetView workbookViewId=\"0\"/></sheetViews>"
    "<sheetData>"
    "<row r=\"1\" spans=\"1:3\"><c r=\"A1\" t=\"s\"><v>0</v></c>"
    "<c r=\"C1\" t=\"inlineStr\"><is><t>备注</t></is></c></row>"
    "<row r=\"2\"><c r=\"A2\" t=\"s\" s=\"1\"><v>1</v></c><c r=\"B2\"><v>3.71402199001011E+17</v></c>"
    "<c r=\"C2\" t=\"b\"><v>1</v></c><c r=\"D2\" t=\"str\"><f>A2&amp;\"x\"</f><v>张三 x</v></c></row>"
    "<row r=\"3\"><c r=\"A3\" s=\"1\"/><c r=\"B3\" t=\"s\" s=\"2\"/></row>"
    "<row r=\"5\"><c r=\"B5\" t=\"inlineStr\"><is><r><t>富</t></r><r><rPr><i/></rPr><t>文本</t></r></is></c>"
    "<c r=\"E5\" t=\"s\"><v>2</v></c><c r=\"Z5\" s=\"3\"/></row>"
    "<row><c><v>42</v></c><c t=\"inlineStr\"><is><t>无引用</t></is></c><c t=\"e\"><v>#N/A</v></c></row>"
    "</sheetData><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" "
    "footer=\"0.3\"/></worksheet>";

static const char hidden_sheet[] =
    "<worksheet xmlns=\"" NS_MAIN "\"><sheetData><row r=\"1\"><c t=\"inlineStr\">"
    "<is><t>不应读取</t></is></c></row></sheetData></worksheet>";

static const char *const built_names[] = {"[Content_Types].xml",        "xl/workbook.xml",
                                          "xl/_rels/workbook.xml.rels", "xl/strings/sst.xml",
                                          "xl/worksheets/data.xml",     "xl/worksheets/hidden.xml"};

static void check_built_rows(sheet_reader *r)
{
    expect_row(r, 1, 3, (const char *const[]){"姓名", "", "备注"}, "A1, C1 with a gap");
    expect_row(r, 2, 4, (const char *const[]){"张三 ", "3.71402199001011E+17", "TRUE", "张三 x"},
               "rich text, number as stored, boolean, formula string");
    expect_row(r, 5, 5, (const char *const[]){"", "富文本", "", "", "一\r二 & <三>"},
               "skipped rows keep numbers");
    expect_row(r, 6, 3, (const char *const[]){"42", "无引用", "#N/A"}, "no r attributes");
    expect_end(r);
}

static void test_built(void)
{
    const char *bodies[] = {content_types,  workbook_xml, workbook_rels,
                            shared_strings, sheet_data,   hidden_sheet};
    size_t len;
    unsigned char *zip = zip_bytes(built_names, bodies, 6, &len);
    CHECK(zip != NULL);
    if (!zip)
        return;
    sheet_reader *r = NULL;
    nx_err e;
    CHECK_INT(sheet_open_mem(zip, len, NULL, &r, &e), 0);
    if (r) {
        check_built_rows(r);
        sheet_close(r);
    } else {
        fprintf(stderr, "  open: %s\n", e.msg);
    }

    /* The same through a file. */
    const char *path = tmpfile_path("file");
    CHECK_INT(make_zip(path, built_names, bodies, 6), 0);
    CHECK_INT(sheet_open_file(path, &r, &e), 0);
    if (r) {
        check_built_rows(r);
        sheet_close(r);
    }
    unlink(path);

    /* Robustness: every truncation and many single-byte corruptions end cleanly (no crash, no hang;
     * ASan watches the memory). */
    int opened = 0, failed = 0;
    unsigned char *copy = malloc(len);
    for (size_t cut = 0; copy && cut < len; cut += 37) {
        memcpy(copy, zip, len);
        sheet_reader *t = NULL;
        if (sheet_open_mem(copy, cut, "xlsx", &t, &e) == 0) {
            opened++;
            sheet_close(t);
        } else {
            failed++;
        }
    }
    CHECK_INT(opened, 0); /* no prefix of the ZIP is a workbook */
    uint32_t seed = 12345;
    for (int i = 0; copy && i < 400; i++) {
        memcpy(copy, zip, len);
        seed = seed * 1103515245u + 12345u;
        size_t at = (seed >> 8) % len;
        copy[at] ^= (unsigned char)(1u + (seed >> 24) % 255u);
        sheet_reader *t = NULL;
        if (sheet_open_mem(copy, len, "xlsx", &t, &e) == 0) {
            const char *const *c;
            int nc, rc, rows = 0;
            while ((rc = sheet_next_row(t, &c, &nc)) == 1)
                rows++;
            CHECK(rows <= 4);
            sheet_close(t);
        }
    }
    free(copy);
    free(zip);
    (void)failed;
}

static void test_prefixed_namespace(void)
{
    const char *names[] = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                           "xl/worksheets/sheet1.xml"};
    const char *bodies[] = {
        content_types,
        "<x:workbook xmlns:x=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><x:sheets>"
        "<x:sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></x:sheets></x:workbook>",
        "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
        "<Relationship Id=\"rId1\" Type=\"" REL_TYPE "worksheet\" Target=\"worksheets/sheet1.xml\"/>"
        "</Relationships>",
        "<x:worksheet xmlns:x=\"" NS_MAIN "\"><x:sheetData>"
        "<x:row r=\"2\"><x:c r=\"B2\" t=\"inlineStr\"><x:is><x:t>前缀</x:t></x:is></x:c>"
        "<x:c r=\"C2\"><x:v>7</x:v></x:c></x:row>"
        "</x:sheetData></x:worksheet>",
    };
    size_t len;
    unsigned char *zip = zip_bytes(names, bodies, 4, &len);
    CHECK(zip != NULL);
    if (!zip)
        return;
    sheet_reader *r = NULL;
    nx_err e;
    CHECK_INT(sheet_open_mem(zip, len, NULL, &r, &e), 0);
    if (r) {
        expect_row(r, 2, 3, (const char *const[]){"", "前缀", "7"}, "prefixed");
        expect_end(r);
        sheet_close(r);
    }
    free(zip);
}

static void test_refusals(void)
{
    sheet_reader *r = NULL;
    nx_err e;
    /* A sheet with a DTD (the door to entity expansion) is refused. */
    const char *names[] = {"xl/workbook.xml", "xl/worksheets/sheet1.xml"};
    const char *bodies[] = {
        "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><sheets><sheet name=\"S\" sheetId=\"1\" "
        "r:id=\"rId1\"/></sheets></workbook>",
        "<!DOCTYPE worksheet [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
        "<worksheet xmlns=\"" NS_MAIN "\"><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>&b;</t></is></c>"
        "</row></sheetData></worksheet>",
    };
    size_t len;
    unsigned char *zip = zip_bytes(names, bodies, 2, &len);
    CHECK(zip != NULL);
    if (zip) {
        /* No rels: the reader falls back to xl/worksheets/sheet1.xml. */
        CHECK_INT(sheet_open_mem(zip, len, NULL, &r, &e), 0);
        if (r) {
            const char *const *c;
            int nc;
            CHECK_INT(sheet_next_row(r, &c, &nc), NX_EINVAL);
            CHECK(strstr(sheet_error(r)->msg, "DTD") != NULL);
            sheet_close(r);
        }
        free(zip);
    }

    /* A shared-string index out of range, and a ZIP without a workbook. */
    const char *names2[] = {"xl/workbook.xml", "xl/worksheets/sheet1.xml"};
    const char *bodies2[] = {bodies[0],
                             "<worksheet xmlns=\"" NS_MAIN "\"><sheetData><row r=\"3\"><c r=\"A3\" "
                             "t=\"s\"><v>0</v></c></row></sheetData></worksheet>"};
    zip = zip_bytes(names2, bodies2, 2, &len);
    if (zip) {
        CHECK_INT(sheet_open_mem(zip, len, NULL, &r, &e), 0);
        if (r) {
            const char *const *c;
            int nc;
            CHECK_INT(sheet_next_row(r, &c, &nc), NX_EINVAL);
            CHECK(strstr(sheet_error(r)->msg, "第 3 行") != NULL);
            sheet_close(r);
        }
        free(zip);
    }
    const char *names3[] = {"hello.txt"};
    const char *bodies3[] = {"hello"};
    zip = zip_bytes(names3, bodies3, 1, &len);
    if (zip) {
        CHECK_INT(sheet_open_mem(zip, len, NULL, &r, &e), NX_EINVAL);
        CHECK(strstr(e.msg, "workbook") != NULL);
        free(zip);
    }

    /* A shared string over the cell cap is refused while opening, with words for a person. */
    const char *names4[] = {"xl/workbook.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"};
    const char *bodies4[] = {
        bodies[0], "<sst xmlns=\"" NS_MAIN "\"><si><t>短</t></si><si><t>长长长长</t></si></sst>", bodies2[1]};
    zip = zip_bytes(names4, bodies4, 3, &len);
    if (zip) {
        sheet_limits lim = {.max_cell = 6};
        nx_err_clear(&e);
        CHECK_INT(sheet_open_mem_ex(zip, len, NULL, &lim, &r, &e), NX_ETOOBIG);
        CHECK(r == NULL);
        CHECK(strstr(e.msg, "6 字节上限") != NULL);
        free(zip);
    }

    /* Garbage: random bytes as "xlsx", and a ZIP signature followed by junk. */
    unsigned char junk[4096];
    uint32_t seed = 7;
    for (size_t i = 0; i < sizeof junk; i++) {
        seed = seed * 1664525u + 1013904223u;
        junk[i] = (unsigned char)(seed >> 24);
    }
    CHECK_INT(sheet_open_mem(junk, sizeof junk, "xlsx", &r, &e), NX_EINVAL);
    CHECK(r == NULL);
    memcpy(junk, "PK\x03\x04", 4);
    CHECK_INT(sheet_open_mem(junk, sizeof junk, NULL, &r, &e), NX_EINVAL);
    CHECK(r == NULL);
    CHECK_INT(sheet_open_mem(junk, 0, "xlsx", &r, &e), NX_EINVAL);
}

/* Find the local header and the central-directory entry of `name` and overwrite the uncompressed
 * size both declare: a ZIP directory that lies, as a zip bomb's would. */
static int lie_about_size(unsigned char *z, size_t len, const char *name, uint32_t size)
{
    size_t nl = strlen(name);
    int patched = 0;
    for (size_t i = 0; i + 46 + nl <= len; i++) {
        if (memcmp(z + i, "PK\x01\x02", 4) == 0 && (size_t)(z[i + 28] | z[i + 29] << 8) == nl &&
            memcmp(z + i + 46, name, nl) == 0) {
            for (int k = 0; k < 4; k++)
                z[i + 24 + k] = (unsigned char)(size >> (8 * k));
            patched++;
        } else if (memcmp(z + i, "PK\x03\x04", 4) == 0 && (size_t)(z[i + 26] | z[i + 27] << 8) == nl &&
                   memcmp(z + i + 30, name, nl) == 0) {
            for (int k = 0; k < 4; k++)
                z[i + 22 + k] = (unsigned char)(size >> (8 * k));
            patched++;
        }
    }
    return patched;
}

static void test_zip_bomb(void)
{
    /* 3 MiB of sheet XML compresses to a few KiB. */
    strbuf sb;
    strbuf_init(&sb, 0);
    strbuf_puts(&sb, "<worksheet xmlns=\"" NS_MAIN "\"><sheetData>");
    while (sb.len < 3u * 1024 * 1024)
        strbuf_puts(
            &sb,
            "<row><c t=\"inlineStr\"><is><t>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</t></is></c></row>");
    strbuf_puts(&sb, "</sheetData></worksheet>");
    const char *names[] = {"xl/workbook.xml", "xl/worksheets/sheet1.xml"};
    const char *bodies[] = {"<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL
                            "\"><sheets><sheet name=\"S\" "
                            "sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
                            sb.data};
    size_t len;
    unsigned char *zip = zip_bytes(names, bodies, 2, &len);
    strbuf_cleanup(&sb);
    CHECK(zip != NULL);
    if (!zip)
        return;
    CHECK(len < 200 * 1024);
    sheet_limits lim = {.max_bytes = 1024 * 1024, .max_rows = 1000000};
    sheet_reader *r = NULL;
    nx_err e;
    /* The directory tells the truth: refused at open. */
    CHECK_INT(sheet_open_mem_ex(zip, len, NULL, &lim, &r, &e), NX_ETOOBIG);
    CHECK(r == NULL);
    CHECK(strstr(e.msg, "1 MiB") != NULL);

    /* The directory lies (claims 100 bytes): the inflated bytes are counted while reading. */
    CHECK_INT(lie_about_size(zip, len, "xl/worksheets/sheet1.xml", 100), 2);
    CHECK_INT(sheet_open_mem_ex(zip, len, NULL, &lim, &r, &e), 0);
    if (r) {
        const char *const *c;
        int nc, rc, rows = 0;
        while ((rc = sheet_next_row(r, &c, &nc)) == 1)
            rows++;
        CHECK_INT(rc, NX_ETOOBIG);
        CHECK(rows > 1000 && rows < 20000);
        CHECK(strstr(sheet_error(r)->msg, "1 MiB") != NULL);
        sheet_close(r);
    }
    free(zip);
}

static void test_serial_dates(void)
{
    nx_date d = {0, 0, 0};
    CHECK_INT(sheet_excel_serial_to_date("1", &d), 0);
    CHECK(d.y == 1900 && d.m == 1 && d.d == 1);
    CHECK_INT(sheet_excel_serial_to_date("59", &d), 0);
    CHECK(d.y == 1900 && d.m == 2 && d.d == 28);
    CHECK_INT(sheet_excel_serial_to_date("60", &d), NX_EINVAL); /* Excel's 1900-02-29 */
    CHECK_INT(sheet_excel_serial_to_date("61", &d), 0);
    CHECK(d.y == 1900 && d.m == 3 && d.d == 1);
    CHECK_INT(sheet_excel_serial_to_date("25569", &d), 0);
    CHECK(d.y == 1970 && d.m == 1 && d.d == 1);
    CHECK_INT(sheet_excel_serial_to_date("36526.75", &d), 0);
    CHECK(d.y == 2000 && d.m == 1 && d.d == 1);
    CHECK_INT(sheet_excel_serial_to_date("45351", &d), 0);
    CHECK(d.y == 2024 && d.m == 2 && d.d == 29);
    CHECK_INT(sheet_excel_serial_to_date("2958465", &d), 0);
    CHECK(d.y == 9999 && d.m == 12 && d.d == 31);
    const char *bad[] = {"0", "-1", "2958466", "3.7E+4", "", "abc", "12.", ".5", " 1", "1 ", "99999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(sheet_excel_serial_to_date(bad[i], &d), NX_EINVAL);
    CHECK_INT(sheet_excel_serial_to_date(NULL, &d), NX_EINVAL);
}

/* A damaged archive in memory (found by fuzz_xlsx, kept in its corpus): libzip says "no such file",
 * which must not become NX_ENOTFOUND (404 "文件不存在") for bytes that were uploaded. */
static void test_damaged_upload_is_invalid(void)
{
    const char *src = getenv("NX_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_xlsx/found_noent_in_memory", src ? src : "../..");
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    static unsigned char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    sheet_reader *r = NULL;
    nx_err e = {0};
    CHECK_INT(sheet_open_mem(buf, n, "xlsx", &r, &e), NX_EINVAL);
    CHECK(strstr(e.msg, "xlsx") != NULL);
    sheet_close(r);
}

/* Row numbers must increase (found by fuzz_xlsx: two rows numbered 1 were both returned as row 1). */
static void test_rows_out_of_order(void)
{
    const char *names[] = {"xl/workbook.xml", "xl/worksheets/sheet1.xml"};
    const char *bodies[] = {
        "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL "\"><sheets><sheet name=\"S\" sheetId=\"1\" "
        "r:id=\"rId1\"/></sheets></workbook>",
        "<worksheet xmlns=\"" NS_MAIN "\"><sheetData>"
        "<row r=\"1\"><c t=\"inlineStr\"><is><t>a</t></is></c></row>"
        "<row r=\"3\"><c t=\"inlineStr\"><is><t>b</t></is></c></row>"
        "<row r=\"3\"><c t=\"inlineStr\"><is><t>c</t></is></c></row>"
        "</sheetData></worksheet>",
    };
    size_t len;
    unsigned char *zip = zip_bytes(names, bodies, 2, &len);
    CHECK(zip != NULL);
    if (zip == NULL)
        return;
    sheet_reader *r = NULL;
    nx_err e;
    CHECK_INT(sheet_open_mem(zip, len, NULL, &r, &e), 0);
    if (r) {
        const char *const *c;
        int nc;
        CHECK_INT(sheet_next_row(r, &c, &nc), 1);
        CHECK_INT(sheet_row_number(r), 1);
        CHECK_INT(sheet_next_row(r, &c, &nc), 1);
        CHECK_INT(sheet_row_number(r), 3);
        CHECK_INT(sheet_next_row(r, &c, &nc), NX_EINVAL);
        CHECK(strstr(sheet_error(r)->msg, "第 3 行") != NULL);
        sheet_close(r);
    }
    free(zip);
}

int main(void)
{
    TEST_RUN(test_round_trip);
    TEST_RUN(test_write_errors);
    TEST_RUN(test_built);
    TEST_RUN(test_prefixed_namespace);
    TEST_RUN(test_refusals);
    TEST_RUN(test_zip_bomb);
    TEST_RUN(test_serial_dates);
    TEST_RUN(test_damaged_upload_is_invalid);
    TEST_RUN(test_rows_out_of_order);
    return TEST_DONE();
}
