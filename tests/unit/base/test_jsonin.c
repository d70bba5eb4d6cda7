/* test_jsonin.c — the strict JSON getters (src/base/jsonin.c): right type, wrong type, missing
 * required, optional absent, null handling, lengths in characters with Chinese text, control
 * characters, dates, arrays and unknown fields. Each failure must name the JSON key in e.field. */
#include <jansson.h>
#include <string.h>

#include "base/jsonin.h"
#include "test.h"

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        fprintf(stderr, "bad test JSON: %s\n", je.text);
    return j;
}

static void test_only(void)
{
    json_t *o = parse("{\"name\":\"张三\",\"age\":80,\"secret\":1}");
    nx_err e;
    static const char *const allowed[] = {"name", "age", NULL};
    static const char *const all[] = {"name", "age", "secret", NULL};
    nx_err_clear(&e);
    CHECK_INT(json_only(o, allowed, &e), NX_EINVAL);
    CHECK_INT(e.code, NX_EINVAL);
    CHECK_STR(e.field, "secret");
    CHECK(strstr(e.msg, "secret") != NULL);
    CHECK_INT(json_only(o, all, &e), 0);
    json_t *arr = json_array();
    CHECK_INT(json_only(arr, all, &e), NX_EINVAL);
    CHECK_STR(e.field, "");
    json_decref(arr);
    json_decref(o);
}

static void test_str(void)
{
    json_t *o = parse("{\"name\":\"张三丰\",\"n\":5,\"empty\":\"\",\"blank\":\"  \",\"nul\":null,"
                      "\"ctl\":\"a\\u0001b\",\"nl\":\"line1\\nline2\",\"c1\":\"a\\u0085b\","
                      "\"del\":\"a\\u007fb\"}");
    nx_err e;
    const char *s = "untouched";

    nx_err_clear(&e);
    CHECK_INT(json_get_str(o, "name", true, 3, &s, &e), 0);
    CHECK_STR(s, "张三丰");
    CHECK_INT(e.code, 0);
    /* 3 characters but 9 bytes: a limit of 2 characters fails, naming the key. */
    CHECK_INT(json_get_str(o, "name", true, 2, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "name");
    CHECK_STR(e.msg, "name 不能超过 2 个字符");
    /* 0 = no limit */
    CHECK_INT(json_get_str(o, "name", true, 0, &s, &e), 0);

    CHECK_INT(json_get_str(o, "n", true, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "n");
    CHECK_STR(e.msg, "n 应为字符串");

    s = "untouched";
    CHECK_INT(json_get_str(o, "missing", false, 10, &s, &e), 1);
    CHECK_STR(s, "untouched");
    CHECK_INT(json_get_str(o, "missing", true, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "missing");
    CHECK_STR(e.msg, "missing 不能为空");
    /* null is absent */
    CHECK_INT(json_get_str(o, "nul", false, 10, &s, &e), 1);
    CHECK_STR(s, "untouched");
    CHECK_INT(json_get_str(o, "nul", true, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "nul");

    /* Empty and blank: fine when optional, refused when required. */
    CHECK_INT(json_get_str(o, "empty", false, 10, &s, &e), 0);
    CHECK_STR(s, "");
    CHECK_INT(json_get_str(o, "empty", true, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "empty");
    CHECK_INT(json_get_str(o, "blank", true, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "blank");
    CHECK_INT(json_get_str(o, "blank", false, 10, &s, &e), 0);

    /* Control characters: refused in short fields; newline allowed in free text. */
    CHECK_INT(json_get_str(o, "ctl", false, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "ctl");
    CHECK_STR(e.msg, "ctl 不能包含控制字符");
    CHECK_INT(json_get_str(o, "ctl", false, JSON_TEXT_MULTILINE, &s, &e), NX_EINVAL);
    CHECK_INT(json_get_str(o, "nl", false, 100, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "nl");
    CHECK_INT(json_get_str(o, "nl", false, JSON_TEXT_MULTILINE, &s, &e), 0);
    CHECK_STR(s, "line1\nline2");
    CHECK_INT(json_get_str(o, "c1", false, 1000, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "c1");
    CHECK_INT(json_get_str(o, "del", false, 1000, &s, &e), NX_EINVAL);

    /* A string with an embedded NUL (possible when built in code). */
    json_object_set_new(o, "zero", json_stringn("a\0b", 3));
    CHECK_INT(json_get_str(o, "zero", false, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "zero");

    /* Not an object. */
    json_t *arr = json_array();
    CHECK_INT(json_get_str(arr, "name", false, 10, &s, &e), NX_EINVAL);
    CHECK_INT(json_get_str(NULL, "name", false, 10, &s, &e), NX_EINVAL);
    json_decref(arr);
    json_decref(o);
}

static void test_int(void)
{
    json_t *o =
        parse("{\"age\":80,\"neg\":-5,\"real\":3.0,\"str\":\"12\",\"b\":true,\"big\":9223372036854775807,"
              "\"nul\":null}");
    nx_err e;
    int64_t v = 42;
    nx_err_clear(&e);
    CHECK_INT(json_get_int(o, "age", true, 0, 150, &v, &e), 0);
    CHECK_INT(v, 80);
    CHECK_INT(json_get_int(o, "age", true, 0, 79, &v, &e), NX_EINVAL);
    CHECK_STR(e.field, "age");
    CHECK_STR(e.msg, "age 应在 0 到 79 之间");
    CHECK_INT(json_get_int(o, "neg", true, 0, 10, &v, &e), NX_EINVAL);
    CHECK_STR(e.field, "neg");
    CHECK_INT(json_get_int(o, "neg", true, -10, 10, &v, &e), 0);
    CHECK_INT(v, -5);
    CHECK_INT(json_get_int(o, "real", true, 0, 10, &v, &e), NX_EINVAL);
    CHECK_STR(e.msg, "real 应为整数");
    CHECK_INT(json_get_int(o, "str", true, 0, 100, &v, &e), NX_EINVAL);
    CHECK_STR(e.field, "str");
    CHECK_INT(json_get_int(o, "b", true, 0, 1, &v, &e), NX_EINVAL);
    CHECK_INT(json_get_int(o, "big", true, INT64_MIN, INT64_MAX, &v, &e), 0);
    CHECK(v == INT64_MAX);
    v = 7;
    CHECK_INT(json_get_int(o, "missing", false, 0, 1, &v, &e), 1);
    CHECK_INT(v, 7);
    CHECK_INT(json_get_int(o, "nul", false, 0, 1, &v, &e), 1);
    CHECK_INT(json_get_int(o, "missing", true, 0, 1, &v, &e), NX_EINVAL);
    CHECK_STR(e.field, "missing");
    json_decref(o);
}

static void test_bool(void)
{
    json_t *o = parse("{\"t\":true,\"f\":false,\"one\":1,\"s\":\"true\"}");
    nx_err e;
    bool b = false;
    nx_err_clear(&e);
    CHECK_INT(json_get_bool(o, "t", true, &b, &e), 0);
    CHECK(b == true);
    CHECK_INT(json_get_bool(o, "f", true, &b, &e), 0);
    CHECK(b == false);
    CHECK_INT(json_get_bool(o, "one", true, &b, &e), NX_EINVAL);
    CHECK_STR(e.field, "one");
    CHECK_STR(e.msg, "one 应为 true 或 false");
    CHECK_INT(json_get_bool(o, "s", false, &b, &e), NX_EINVAL);
    b = true;
    CHECK_INT(json_get_bool(o, "x", false, &b, &e), 1);
    CHECK(b == true);
    CHECK_INT(json_get_bool(o, "x", true, &b, &e), NX_EINVAL);
    CHECK_STR(e.field, "x");
    json_decref(o);
}

static void test_date(void)
{
    json_t *o = parse("{\"d\":\"1946-03-08\",\"leap\":\"2024-02-29\",\"noleap\":\"2023-02-29\","
                      "\"month\":\"2024-13-01\",\"short\":\"2024-1-01\",\"num\":19460308,"
                      "\"trail\":\"2024-01-01x\"}");
    nx_err e;
    const char *s = NULL;
    nx_err_clear(&e);
    CHECK_INT(json_get_date(o, "d", true, &s, &e), 0);
    CHECK_STR(s, "1946-03-08");
    CHECK_INT(json_get_date(o, "leap", true, &s, &e), 0);
    CHECK_INT(json_get_date(o, "noleap", true, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "noleap");
    CHECK_INT(json_get_date(o, "month", true, &s, &e), NX_EINVAL);
    CHECK_INT(json_get_date(o, "short", true, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "short");
    CHECK_INT(json_get_date(o, "trail", true, &s, &e), NX_EINVAL);
    CHECK_INT(json_get_date(o, "num", true, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "num");
    CHECK_INT(json_get_date(o, "none", false, &s, &e), 1);
    CHECK_INT(json_get_date(o, "none", true, &s, &e), NX_EINVAL);
    json_decref(o);
}

static void test_str_array(void)
{
    json_t *o = parse("{\"tags\":[\"独居\",\"低保\"],\"empty\":[],\"mixed\":[\"a\",1],\"str\":\"a\","
                      "\"long\":[\"一二三四\"],\"blank\":[\"a\",\"\"],\"ctl\":[\"a\\tb\"]}");
    nx_err e;
    json_t *arr = NULL;
    nx_err_clear(&e);
    CHECK_INT(json_get_str_array(o, "tags", true, 5, 2, &arr, &e), 0);
    CHECK(arr == json_object_get(o, "tags"));
    CHECK_INT(json_array_size(arr), 2);
    CHECK_INT(json_get_str_array(o, "tags", true, 1, 2, &arr, &e), NX_EINVAL);
    CHECK_STR(e.field, "tags");
    CHECK_STR(e.msg, "tags 最多 1 项");
    CHECK_INT(json_get_str_array(o, "empty", false, 5, 2, &arr, &e), 0);
    CHECK_INT(json_get_str_array(o, "empty", true, 5, 2, &arr, &e), NX_EINVAL);
    CHECK_INT(json_get_str_array(o, "mixed", true, 5, 2, &arr, &e), NX_EINVAL);
    CHECK_STR(e.field, "mixed");
    CHECK_STR(e.msg, "mixed 第 2 项 应为字符串");
    CHECK_INT(json_get_str_array(o, "str", true, 5, 2, &arr, &e), NX_EINVAL);
    CHECK_STR(e.msg, "str 应为字符串数组");
    CHECK_INT(json_get_str_array(o, "long", true, 5, 3, &arr, &e), NX_EINVAL);
    CHECK_STR(e.field, "long");
    CHECK_STR(e.msg, "long 第 1 项 不能超过 3 个字符");
    CHECK_INT(json_get_str_array(o, "long", true, 5, 4, &arr, &e), 0);
    CHECK_INT(json_get_str_array(o, "blank", true, 5, 4, &arr, &e), NX_EINVAL);
    CHECK_INT(json_get_str_array(o, "ctl", true, 5, 4, &arr, &e), NX_EINVAL);
    arr = NULL;
    CHECK_INT(json_get_str_array(o, "none", false, 5, 4, &arr, &e), 1);
    CHECK(arr == NULL);
    CHECK_INT(json_get_str_array(o, "none", true, 5, 4, &arr, &e), NX_EINVAL);
    CHECK_STR(e.field, "none");
    json_decref(o);
}

/* json_read_*: the same checks, but absent-and-optional is 0, so a chain of || only stops on errors. */
static void test_read(void)
{
    json_t *o = parse("{\"name\":\"张三\",\"d\":\"2024-02-29\",\"bad\":\"2023-02-29\",\"n\":3}");
    nx_err e;
    nx_err_clear(&e);
    const char *s = "untouched", *d = NULL;
    CHECK_INT(json_read_str(o, "name", true, 10, &s, &e), 0);
    CHECK_STR(s, "张三");
    s = "untouched";
    CHECK_INT(json_read_str(o, "none", false, 10, &s, &e), 0);
    CHECK_STR(s, "untouched");
    CHECK_INT(json_read_str(o, "none", true, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "none");
    CHECK_INT(json_read_str(o, "n", false, 10, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "n");
    CHECK_INT(json_read_str(o, "name", false, 1, &s, &e), NX_EINVAL);
    CHECK_INT(json_read_date(o, "d", true, &d, &e), 0);
    CHECK_STR(d, "2024-02-29");
    CHECK_INT(json_read_date(o, "none", false, &d, &e), 0);
    CHECK_INT(json_read_date(o, "bad", false, &d, &e), NX_EINVAL);
    CHECK_STR(e.field, "bad");
    json_decref(o);
}

static void test_null_field(void)
{
    json_t *o = parse("{\"phone\":null,\"name\":\"x\",\"zero\":0,\"f\":false}");
    CHECK(json_is_null_field(o, "phone"));
    CHECK(!json_is_null_field(o, "name"));
    CHECK(!json_is_null_field(o, "zero"));
    CHECK(!json_is_null_field(o, "f"));
    CHECK(!json_is_null_field(o, "absent"));
    CHECK(!json_is_null_field(NULL, "phone"));
    json_decref(o);
}

/* version: optional, but null refused (it would skip the concurrency check silently). */
static void test_version(void)
{
    nx_err e;
    int64_t v = 0;
    json_t *o = parse("{\"version\":3}");
    nx_err_clear(&e);
    CHECK_INT(json_get_version(o, &v, &e), 0);
    CHECK_INT(v, 3);
    json_decref(o);
    o = parse("{}");
    v = 0;
    CHECK_INT(json_get_version(o, &v, &e), 1);
    CHECK_INT(v, 0);
    json_decref(o);
    o = parse("{\"version\":null}");
    CHECK_INT(json_get_version(o, &v, &e), NX_EINVAL);
    CHECK_STR(e.field, "version");
    json_decref(o);
    o = parse("{\"version\":0}");
    CHECK_INT(json_get_version(o, &v, &e), NX_EINVAL);
    json_decref(o);
}

int main(void)
{
    TEST_RUN(test_only);
    TEST_RUN(test_str);
    TEST_RUN(test_int);
    TEST_RUN(test_bool);
    TEST_RUN(test_date);
    TEST_RUN(test_str_array);
    TEST_RUN(test_read);
    TEST_RUN(test_null_field);
    TEST_RUN(test_version);
    return TEST_DONE();
}
