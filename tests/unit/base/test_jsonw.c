/* test_jsonw.c — the append-only JSON writer: exact text for structures and escapes, byte-equality
 * with jansson's json_dumps for valid input, valid output for invalid UTF-8, embedded NUL, the
 * sticky errors (misuse, cap) and a randomised round trip through jansson's parser. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "test.h"

/* Write one string value as the whole text of b (initialised here; the caller cleans it up). */
static int write_one(strbuf *b, const char *s, size_t n)
{
    jsonw w;
    strbuf_init(b, 0);
    jsonw_init(&w, b);
    jsonw_strn(&w, s, n);
    return jsonw_finish(&w);
}

static void test_structure(void)
{
    strbuf b;
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    jsonw_obj_begin(&w);
    jsonw_kint(&w, "id", 42);
    jsonw_kstr(&w, "name", "王建国");
    jsonw_kstr(&w, "none", NULL);
    jsonw_knull(&w, "n");
    jsonw_kbool(&w, "t", true);
    jsonw_kbool(&w, "f", false);
    jsonw_key(&w, "empty_a");
    jsonw_arr_begin(&w);
    jsonw_arr_end(&w);
    jsonw_key(&w, "empty_o");
    jsonw_obj_begin(&w);
    jsonw_obj_end(&w);
    jsonw_key(&w, "list");
    jsonw_arr_begin(&w);
    jsonw_int(&w, -7);
    jsonw_str(&w, "x");
    jsonw_obj_begin(&w);
    jsonw_kint(&w, "a", 1);
    jsonw_obj_end(&w);
    jsonw_arr_begin(&w);
    jsonw_null(&w);
    jsonw_arr_end(&w);
    jsonw_raw(&w, "{\"r\":[1,2]}", 11);
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    CHECK_INT(jsonw_finish(&w), 0);
    CHECK_STR(b.data, "{\"id\":42,\"name\":\"王建国\",\"none\":null,\"n\":null,\"t\":true,\"f\":false,"
                      "\"empty_a\":[],\"empty_o\":{},\"list\":[-7,\"x\",{\"a\":1},[null],{\"r\":[1,2]}]}");
    CHECK_INT(b.len, strlen(b.data));
    strbuf_cleanup(&b);

    /* appends after text already in the buffer */
    strbuf_init(&b, 0);
    strbuf_puts(&b, "prefix:");
    jsonw_init(&w, &b);
    jsonw_arr_begin(&w);
    jsonw_int(&w, 1);
    jsonw_int(&w, 2);
    jsonw_arr_end(&w);
    CHECK_INT(jsonw_finish(&w), 0);
    CHECK_STR(b.data, "prefix:[1,2]");
    strbuf_cleanup(&b);
}

static void test_integers(void)
{
    strbuf b;
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    jsonw_arr_begin(&w);
    jsonw_int(&w, 0);
    jsonw_int(&w, -1);
    jsonw_int(&w, 9);
    jsonw_int(&w, 10);
    jsonw_int(&w, INT64_MAX);
    jsonw_int(&w, INT64_MIN);
    jsonw_arr_end(&w);
    CHECK_INT(jsonw_finish(&w), 0);
    CHECK_STR(b.data, "[0,-1,9,10,9223372036854775807,-9223372036854775808]");
    strbuf_cleanup(&b);
}

static void test_escapes(void)
{
    strbuf b;
    CHECK_INT(write_one(&b, "a\"b\\c/d", 7), 0);
    CHECK_STR(b.data, "\"a\\\"b\\\\c/d\"");
    strbuf_cleanup(&b);
    CHECK_INT(write_one(&b, "\b\f\n\r\t", 5), 0);
    CHECK_STR(b.data, "\"\\b\\f\\n\\r\\t\"");
    strbuf_cleanup(&b);
    CHECK_INT(write_one(&b, "\x01\x1f\x7f", 3), 0);
    CHECK_STR(b.data, "\"\\u0001\\u001F\x7f\"");
    strbuf_cleanup(&b);
    /* keys are escaped too */
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    jsonw_obj_begin(&w);
    jsonw_kint(&w, "k\"\n", 1);
    jsonw_obj_end(&w);
    CHECK_INT(jsonw_finish(&w), 0);
    CHECK_STR(b.data, "{\"k\\\"\\n\":1}");
    strbuf_cleanup(&b);
    /* U+2028, 4-byte emoji, the highest code point: passed through */
    CHECK_INT(write_one(&b, "\xe2\x80\xa8\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 11), 0);
    CHECK_STR(b.data, "\"\xe2\x80\xa8\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
    strbuf_cleanup(&b);
}

static void test_invalid_utf8(void)
{
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"\xff", 1, "\"\xef\xbf\xbd\""},                                      /* never valid */
        {"a\x80z", 3, "\"a\xef\xbf\xbdz\""},                                  /* stray continuation */
        {"\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},                      /* overlong '/' */
        {"\xe0\x80\xaf", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},      /* overlong 3-byte */
        {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},      /* surrogate D800 */
        {"\xf4\x90\x80\x80", 4,
         "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},             /* above U+10FFFF */
        {"\xe4\xb8", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},                      /* truncated 中 */
        {"\xe4\xb8\xad\xe4", 4, "\"\xe4\xb8\xad\xef\xbf\xbd\""},              /* 中 then a cut one */
        {"\xe4\"", 2, "\"\xef\xbf\xbd\\\"\""},                                /* lead byte, then a quote */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strbuf b;
        CHECK_INT(write_one(&b, cases[i].in, cases[i].n), 0);
        CHECK_STR(b.data, cases[i].out);
        json_error_t err;
        json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, &err);
        CHECK(v != NULL && json_is_string(v));
        json_decref(v);
        strbuf_cleanup(&b);
    }
}

static void test_nul(void)
{
    strbuf b;
    CHECK_INT(write_one(&b, "a\0b", 3), 0);
    CHECK_STR(b.data, "\"a\\u0000b\"");
    json_error_t err;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    CHECK(v != NULL && json_string_length(v) == 3 && memcmp(json_string_value(v), "a\0b", 3) == 0);
    json_decref(v);
    strbuf_cleanup(&b);
    /* jsonw_str stops at the first NUL like any C string */
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    jsonw_str(&w, "a\0b");
    CHECK_INT(jsonw_finish(&w), 0);
    CHECK_STR(b.data, "\"a\"");
    strbuf_cleanup(&b);
}

static void test_misuse(void)
{
    strbuf b;
    jsonw w;
    /* a value in an object without a key */
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    jsonw_obj_begin(&w);
    jsonw_int(&w, 1);
    jsonw_obj_end(&w);
    CHECK_INT(jsonw_finish(&w), NX_EINTERNAL);
    strbuf_cleanup(&b);
    /* a key in an array */
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    jsonw_arr_begin(&w);
    jsonw_key(&w, "k");
    jsonw_arr_end(&w);
    CHECK_INT(jsonw_finish(&w), NX_EINTERNAL);
    strbuf_cleanup(&b);
    /* unclosed */
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    jsonw_obj_begin(&w);
    CHECK_INT(jsonw_finish(&w), NX_EINTERNAL);
    strbuf_cleanup(&b);
    /* mismatched close */
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    jsonw_obj_begin(&w);
    jsonw_arr_end(&w);
    CHECK_INT(jsonw_finish(&w), NX_EINTERNAL);
    strbuf_cleanup(&b);
    /* a dangling key */
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    jsonw_obj_begin(&w);
    jsonw_key(&w, "k");
    jsonw_obj_end(&w);
    CHECK_INT(jsonw_finish(&w), NX_EINTERNAL);
    strbuf_cleanup(&b);
    /* two top-level values; nothing at all */
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    jsonw_int(&w, 1);
    jsonw_int(&w, 2);
    CHECK_INT(jsonw_finish(&w), NX_EINTERNAL);
    strbuf_cleanup(&b);
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    CHECK_INT(jsonw_finish(&w), NX_EINTERNAL);
    strbuf_cleanup(&b);
    /* too deep */
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    for (int i = 0; i < JSONW_MAX_DEPTH + 1; i++)
        jsonw_arr_begin(&w);
    CHECK_INT(jsonw_finish(&w), NX_EINTERNAL);
    strbuf_cleanup(&b);
    /* exactly the maximum depth is fine */
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    for (int i = 0; i < JSONW_MAX_DEPTH; i++)
        jsonw_arr_begin(&w);
    for (int i = 0; i < JSONW_MAX_DEPTH; i++)
        jsonw_arr_end(&w);
    CHECK_INT(jsonw_finish(&w), 0);
    CHECK_INT(b.len, 2 * JSONW_MAX_DEPTH);
    strbuf_cleanup(&b);
}

static void test_cap(void)
{
    strbuf b;
    jsonw w;
    /* 100 bytes of cap: a 200-byte string does not fit, and the error sticks */
    char big[200];
    memset(big, 'x', sizeof big);
    strbuf_init(&b, 100);
    jsonw_init(&w, &b);
    jsonw_arr_begin(&w);
    jsonw_strn(&w, big, sizeof big);
    jsonw_int(&w, 1);
    jsonw_arr_end(&w);
    CHECK_INT(jsonw_finish(&w), NX_ETOOBIG);
    CHECK(b.len <= 100);
    strbuf_cleanup(&b);
    /* a long string (past the 512-byte stage) with escapes spread through it */
    size_t n = 5000;
    char *s = malloc(n);
    for (size_t i = 0; i < n; i++)
        s[i] = (i % 97 == 0) ? '\n' : (char)('a' + i % 26);
    strbuf_init(&b, 0);
    jsonw_init(&w, &b);
    jsonw_strn(&w, s, n);
    CHECK_INT(jsonw_finish(&w), 0);
    json_error_t err;
    json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, &err);
    CHECK(v != NULL && json_string_length(v) == n && memcmp(json_string_value(v), s, n) == 0);
    char *ref = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    CHECK_STR(b.data, ref);
    free(ref);
    json_decref(v);
    strbuf_cleanup(&b);
    free(s);
}

/* Random strings from pieces likely to matter: ASCII, quotes, backslashes, control characters,
 * NUL, valid 2/3/4-byte sequences and random bytes (often invalid). */
static size_t random_string(unsigned *seed, char *out, size_t cap)
{
    static const char *const pieces[] = {"a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "\x7f",
                                         "é", "中", "😀", "\xe2\x80\xa8"};
    size_t n = 0, len = (size_t)(rand_r(seed) % 40);
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        int k = rand_r(seed) % 20;
        if (k < 15) {
            size_t pl = strlen(pieces[k]);
            memcpy(out + n, pieces[k], pl);
            n += pl;
        } else if (k == 15) {
            out[n++] = '\0';
        } else {
            out[n++] = (char)(rand_r(seed) & 0xff);
        }
    }
    return n;
}

/* strbuf_put_html (base/str.h, the text writer of the public pages): the five characters that could
 * end an element or a quoted attribute are escaped, the rest (Chinese included) copied; NULL writes
 * nothing; past the cap the append's error. */
static void test_html_escapes(void)
{
    strbuf b;
    strbuf_init(&b, 0);
    CHECK_INT(strbuf_put_html(&b, "<a href=\"x\">王's & co</a>"), 0);
    CHECK_INT(strbuf_put_html(&b, NULL), 0);
    CHECK_INT(strbuf_puts(&b, ""), 0);
    CHECK_STR(b.data, "&lt;a href=&quot;x&quot;&gt;王&#39;s &amp; co&lt;/a&gt;");
    strbuf_cleanup(&b);
    strbuf_init(&b, 8);
    CHECK(strbuf_put_html(&b, "<<<<") != 0);
    CHECK(b.overflow);
    strbuf_cleanup(&b);
}

static void test_random_round_trip(void)
{
    unsigned seed = 12345;
    int valid_cases = 0, invalid_cases = 0;
    for (int iter = 0; iter < 3000; iter++) {
        char s[200];
        size_t n = random_string(&seed, s, sizeof s);
        strbuf b;
        strbuf_init(&b, 0);
        jsonw w;
        jsonw_init(&w, &b);
        jsonw_obj_begin(&w);
        jsonw_key(&w, "k");
        jsonw_strn(&w, s, n);
        jsonw_key(&w, "a");
        jsonw_arr_begin(&w);
        jsonw_strn(&w, s, n);
        jsonw_int(&w, iter);
        jsonw_arr_end(&w);
        jsonw_obj_end(&w);
        int rc = jsonw_finish(&w);
        CHECK_INT(rc, 0);
        json_error_t err;
        json_t *v = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &err);
        CHECK(v != NULL);
        if (v == NULL) {
            fprintf(stderr, "iteration %d: %s\n", iter, err.text);
            strbuf_cleanup(&b);
            continue;
        }
        json_t *k = json_object_get(v, "k");
        CHECK(json_is_string(k));
        CHECK(json_equal(k, json_array_get(json_object_get(v, "a"), 0)));
        CHECK_INT(json_integer_value(json_array_get(json_object_get(v, "a"), 1)), iter);
        json_t *ref = json_stringn(s, n); /* NULL when s is not valid UTF-8 */
        if (ref) {
            valid_cases++;
            /* valid input: the same string back, and the same bytes jansson would have written */
            CHECK(json_equal(k, ref));
            json_t *o = json_pack("{s:O, s:[O, i]}", "k", ref, "a", ref, iter);
            char *text = json_dumps(o, JSON_COMPACT);
            CHECK_STR(b.data, text);
            free(text);
            json_decref(o);
            json_decref(ref);
        } else {
            invalid_cases++;
            CHECK(strstr(json_string_value(k), "\xef\xbf\xbd") != NULL ||
                  memmem(json_string_value(k), json_string_length(k), "\xef\xbf\xbd", 3) != NULL);
        }
        json_decref(v);
        strbuf_cleanup(&b);
    }
    CHECK(valid_cases > 200);
    CHECK(invalid_cases > 200);
}

int main(void)
{
    TEST_RUN(test_structure);
    TEST_RUN(test_integers);
    TEST_RUN(test_escapes);
    TEST_RUN(test_invalid_utf8);
    TEST_RUN(test_nul);
    TEST_RUN(test_misuse);
    TEST_RUN(test_cap);
    TEST_RUN(test_random_round_trip);
    TEST_RUN(test_html_escapes);
    return TEST_DONE();
}
