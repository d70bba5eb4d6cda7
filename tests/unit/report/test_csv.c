/* test_csv.c — the CSV side of the row reader (report/sheet.h over report/csv.c): RFC 4180 quoting,
 * line ends, BOM, GBK conversion, row numbers, skipped blank records, caps and malformed input. */
#include "report/sheet.h"

#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read the next row and compare it with want[0..n) and the expected row number. */
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
}

static sheet_reader *open_str(const char *s, const sheet_limits *lim)
{
    sheet_reader *r = NULL;
    nx_err e;
    nx_err_clear(&e);
    int rc = sheet_open_mem_ex(s, strlen(s), NULL, lim, &r, &e);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "  open: %s\n", e.msg);
    return r;
}

static void expect_end(sheet_reader *r)
{
    const char *const *cells;
    int nc;
    CHECK_INT(sheet_next_row(r, &cells, &nc), 0);
    CHECK_INT(sheet_next_row(r, &cells, &nc), 0); /* stays at the end */
}

static void test_three_rows(void)
{
    sheet_reader *r = open_str("a,b,c\n1,2,3\nx,y,z\n", NULL);
    if (!r)
        return;
    CHECK_STR(sheet_format(r), "csv");
    CHECK_INT(sheet_row_number(r), 0);
    expect_row(r, 1, 3, (const char *const[]){"a", "b", "c"}, "row 1");
    expect_row(r, 2, 3, (const char *const[]){"1", "2", "3"}, "row 2");
    expect_row(r, 3, 3, (const char *const[]){"x", "y", "z"}, "row 3");
    expect_end(r);
    CHECK_INT(sheet_row_number(r), 3);
    CHECK_INT(sheet_error(r)->code, NX_OK);
    sheet_close(r);
}

static void test_quotes_crlf(void)
{
    const char *csv = "name,note\r\n"
                      "\"张三\",\"说 \"\"你好\"\", 再见\"\r\n"
                      "\"多\r\n行\",x\r\n"
                      "\"\",\"\"\"\"\r\n"
                      "last,\"a\"b\"";
    sheet_reader *r = open_str(csv, NULL);
    if (!r)
        return;
    expect_row(r, 1, 2, (const char *const[]){"name", "note"}, "header");
    expect_row(r, 2, 2, (const char *const[]){"张三", "说 \"你好\", 再见"}, "quotes");
    expect_row(r, 3, 2, (const char *const[]){"多\r\n行", "x"}, "newline in quotes");
    expect_row(r, 4, 2, (const char *const[]){"", "\""}, "empty quoted and a lone quote");
    /* No final line end; text after a closing quote is kept, as Excel does. */
    expect_row(r, 5, 2, (const char *const[]){"last", "ab\""}, "lenient");
    expect_end(r);
    sheet_close(r);
}

static void test_line_ends_and_blanks(void)
{
    /* LF, lone CR, blank lines, all-empty records, trailing empties trimmed, gaps kept. */
    sheet_reader *r = open_str("a,b,,\n\n,,\r\nc\rd,,f\r\n\r\n", NULL);
    if (!r)
        return;
    expect_row(r, 1, 2, (const char *const[]){"a", "b"}, "trailing empties trimmed");
    expect_row(r, 4, 1, (const char *const[]){"c"}, "blank records counted");
    expect_row(r, 5, 3, (const char *const[]){"d", "", "f"}, "gap");
    expect_end(r);
    sheet_close(r);

    r = open_str("", NULL);
    if (r) {
        expect_end(r);
        CHECK_INT(sheet_row_number(r), 0);
        sheet_close(r);
    }
}

static void test_bom(void)
{
    sheet_reader *r = open_str("\xEF\xBB\xBF姓名,年龄\n李四,30\n", NULL);
    if (!r)
        return;
    expect_row(r, 1, 2, (const char *const[]){"姓名", "年龄"}, "bom stripped");
    expect_row(r, 2, 2, (const char *const[]){"李四", "30"}, "after bom");
    expect_end(r);
    sheet_close(r);
}

static void test_gbk(void)
{
    /* "张三" in GBK is D5 C5 C8 FD; "姓名" is D0 D5 C3 FB. */
    const char gbk[] = "\xD0\xD5\xC3\xFB,\"\xD5\xC5\xC8\xFD\"\r\n\xD5\xC5\xC8\xFD,30\r\n";
    sheet_reader *r = open_str(gbk, NULL);
    if (!r)
        return;
    expect_row(r, 1, 2, (const char *const[]){"姓名", "张三"}, "gbk header");
    expect_row(r, 2, 2, (const char *const[]){"张三", "30"}, "gbk row");
    expect_end(r);
    sheet_close(r);

    /* Neither UTF-8 nor GB18030 (0xFF never starts a GB18030 character). */
    sheet_reader *bad = NULL;
    nx_err e;
    CHECK_INT(sheet_open_mem("a,\xFF\xFF\n", 5, "csv", &bad, &e), NX_EINVAL);
    CHECK(bad == NULL);
    CHECK(strstr(e.msg, "编码") != NULL);
    sheet_close(bad);
}

static void test_unterminated_quote(void)
{
    sheet_reader *r = open_str("a,b\n\"oops,c\nd,e\n", NULL);
    if (!r)
        return;
    expect_row(r, 1, 2, (const char *const[]){"a", "b"}, "before the error");
    const char *const *cells;
    int nc;
    CHECK_INT(sheet_next_row(r, &cells, &nc), NX_EINVAL);
    CHECK_INT(sheet_error(r)->code, NX_EINVAL);
    CHECK(strstr(sheet_error(r)->msg, "第 2 行") != NULL);
    CHECK(strstr(sheet_error(r)->msg, "引号") != NULL);
    CHECK_INT(sheet_next_row(r, &cells, &nc), NX_EINVAL); /* sticky */
    sheet_close(r);
}

static void test_caps(void)
{
    const char *const *cells;
    int nc;
    sheet_limits lim = {.max_cols = 3};
    sheet_reader *r = open_str("a,b,c,,,\nd,e,f,g\n", &lim);
    if (r) {
        expect_row(r, 1, 3, (const char *const[]){"a", "b", "c"}, "empty fields past the cap are fine");
        CHECK_INT(sheet_next_row(r, &cells, &nc), NX_ETOOBIG);
        CHECK(strstr(sheet_error(r)->msg, "第 2 行") != NULL);
        sheet_close(r);
    }

    lim = (sheet_limits){.max_cell = 6}; /* bytes: two CJK characters */
    r = open_str("张三,x\n\"张三丰\",y\n", &lim);
    if (r) {
        expect_row(r, 1, 2, (const char *const[]){"张三", "x"}, "at the cell cap");
        CHECK_INT(sheet_next_row(r, &cells, &nc), NX_ETOOBIG);
        sheet_close(r);
    }

    lim = (sheet_limits){.max_rows = 2};
    r = open_str("1\n2\n3\n", &lim);
    if (r) {
        expect_row(r, 1, 1, (const char *const[]){"1"}, "row 1 of 2");
        expect_row(r, 2, 1, (const char *const[]){"2"}, "row 2 of 2");
        CHECK_INT(sheet_next_row(r, &cells, &nc), NX_ETOOBIG);
        CHECK(strstr(sheet_error(r)->msg, "2 行") != NULL);
        sheet_close(r);
    }

    lim = (sheet_limits){.max_bytes = 8};
    sheet_reader *big = NULL;
    nx_err e;
    CHECK_INT(sheet_open_mem_ex("123456789", 9, "csv", &lim, &big, &e), NX_ETOOBIG);
    CHECK(big == NULL);
    CHECK_INT(e.code, NX_ETOOBIG);
}

static void test_bad_input(void)
{
    sheet_reader *r = NULL;
    nx_err e;
    static const unsigned char bin[] = {'a', ',', 'b', 0, 'c', '\n'};
    CHECK_INT(sheet_open_mem(bin, sizeof bin, NULL, &r, &e), NX_EINVAL);
    CHECK(r == NULL);
    static const unsigned char utf16[] = {0xFF, 0xFE, 'a', 0, ',', 0};
    CHECK_INT(sheet_open_mem(utf16, sizeof utf16, NULL, &r, &e), NX_EUNSUPP);
    static const unsigned char ole[] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    CHECK_INT(sheet_open_mem(ole, sizeof ole, NULL, &r, &e), NX_EUNSUPP);
    CHECK(strstr(e.msg, ".xls") != NULL);
    CHECK_INT(sheet_open_mem("a", 1, "pdf", &r, &e), NX_EUNSUPP);
    CHECK(r == NULL);
}

static void test_file(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/nx_test_csv_%d.csv", (int)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs("\xEF\xBB\xBF\xE5\xA7\x93\xE5\x90\x8D,phone\n\xD5\xC5\xC8\xFD,13800000000\n", f);
    fclose(f);
    sheet_reader *r = NULL;
    nx_err e;
    /* Mixed: a UTF-8 BOM and header, then GBK bytes: not valid UTF-8 as a whole, so GB18030 decoding
     * is tried and the UTF-8 header bytes turn into other characters; the GBK row reads right. */
    CHECK_INT(sheet_open_file(path, &r, &e), 0);
    if (r) {
        const char *const *cells;
        int nc;
        CHECK_INT(sheet_next_row(r, &cells, &nc), 1);
        CHECK_INT(sheet_next_row(r, &cells, &nc), 1);
        if (nc == 2) {
            CHECK_STR(cells[0], "张三");
            CHECK_STR(cells[1], "13800000000");
        }
        CHECK_INT(sheet_row_number(r), 2);
        sheet_close(r);
    }
    f = fopen(path, "wb");
    if (f) {
        fputs("姓名,电话\n王五,\"0531-1234\"\n", f);
        fclose(f);
    }
    r = NULL;
    CHECK_INT(sheet_open_file(path, &r, &e), 0);
    if (r) {
        expect_row(r, 1, 2, (const char *const[]){"姓名", "电话"}, "file header");
        expect_row(r, 2, 2, (const char *const[]){"王五", "0531-1234"}, "file row");
        expect_end(r);
        sheet_close(r);
    }
    unlink(path);
    r = NULL;
    CHECK_INT(sheet_open_file(path, &r, &e), NX_ENOTFOUND);
    CHECK(r == NULL);
    CHECK_INT(sheet_open_file("/tmp", &r, &e), NX_EINVAL);
    sheet_close(NULL);
}

int main(void)
{
    TEST_RUN(test_three_rows);
    TEST_RUN(test_quotes_crlf);
    TEST_RUN(test_line_ends_and_blanks);
    TEST_RUN(test_bom);
    TEST_RUN(test_gbk);
    TEST_RUN(test_unterminated_quote);
    TEST_RUN(test_caps);
    TEST_RUN(test_bad_input);
    TEST_RUN(test_file);
    return TEST_DONE();
}
