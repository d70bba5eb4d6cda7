/* jsonin.c — strict readers for JSON input (request bodies, imported rows).
 *
 * A rules function reads each field with one call that checks type, presence, range and length and, on
 * failure, fills nx_err with the JSON key as the field and a Chinese message naming it ("name
 * 应为字符串"), so the client can point at the input. The rules, the same for every module:
 *
 *  - JSON null counts as absent: optional → 1 (out untouched), required → "<key> 不能为空".
 *    Exception: json_get_version refuses null, which would silently skip the concurrency check.
 *    json_is_null_field tells a PATCH handler that the client wants a field cleared.
 *  - No coercion: "12" is not an integer, 1 is not a boolean, 3.0 is not an integer.
 *  - Strings must be valid UTF-8 (jansson guarantees it for parsed text; we check again for
 *    objects built in code) and contain no NUL and no control character (C0, DEL, C1). Exception:
 *    fields whose max_chars is at least JSON_TEXT_MULTILINE are free text (notes, descriptions)
 *    and may contain tab, line feed and carriage return.
 *  - A required string must contain something other than whitespace; an optional one may be "".
 *  - Lengths are counted in Unicode characters (str_utf8_len), not bytes: 姓名 is 2 characters.
 *    max_chars 0 means no limit beyond the request-body cap.
 * The returned strings and arrays are borrowed from the JSON object (which the request owns).
 * Thread-safe: no state. */
#include "base/jsonin.h"

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"

static int not_object(nx_err *e)
{
    return nx_fail(e, NX_EINVAL, NULL, "请求体应为 JSON 对象");
}

int json_only(json_t *obj, const char *const *allowed, nx_err *e)
{
    if (!json_is_object(obj))
        return not_object(e);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool known = false;
        for (size_t i = 0; allowed && allowed[i]; i++)
            if (strcmp(allowed[i], key) == 0) {
                known = true;
                break;
            }
        if (!known)
            return nx_fail(e, NX_EINVAL, key, "不支持的字段：%s", key);
    }
    return 0;
}

/* The value at key, or NULL when absent or null. */
static json_t *lookup(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static int absent(const char *key, bool required, nx_err *e)
{
    return required ? nx_fail(e, NX_EINVAL, key, "%s 不能为空", key) : 1;
}

/* Check one string value against the rules above. what names it in messages ("name" or
 * "tags 第 2 项"). */
static int check_string(json_t *v, const char *key, const char *what, bool required, size_t max_chars,
                        nx_err *e)
{
    if (!json_is_string(v))
        return nx_fail(e, NX_EINVAL, key, "%s 应为字符串", what);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(s) != len || !str_utf8_valid(s, len))
        return nx_fail(e, NX_EINVAL, key, "%s 含有无效字符", what);
    bool multiline = max_chars >= JSON_TEXT_MULTILINE;
    bool blank = true;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        unsigned c = p[i];
        bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (!ws)
            blank = false;
        if (c < 0x20 || c == 0x7f) {
            if (!(multiline && (c == '\t' || c == '\n' || c == '\r')))
                return nx_fail(e, NX_EINVAL, key, "%s 不能包含控制字符", what);
        } else if (c == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
            return nx_fail(e, NX_EINVAL, key, "%s 不能包含控制字符", what); /* C1: U+0080–U+009F */
        }
    }
    if (required && blank)
        return nx_fail(e, NX_EINVAL, key, "%s 不能为空", what);
    if (max_chars && str_utf8_len(s) > max_chars)
        return nx_fail(e, NX_EINVAL, key, "%s 不能超过 %zu 个字符", what, max_chars);
    return 0;
}

int json_get_str(json_t *obj, const char *key, bool required, size_t max_chars, const char **out, nx_err *e)
{
    if (!json_is_object(obj))
        return not_object(e);
    json_t *v = lookup(obj, key);
    if (v == NULL)
        return absent(key, required, e);
    int rc = check_string(v, key, key, required, max_chars, e);
    if (rc != 0)
        return rc;
    *out = json_string_value(v);
    return 0;
}

int json_get_int(json_t *obj, const char *key, bool required, int64_t min, int64_t max, int64_t *out,
                 nx_err *e)
{
    if (!json_is_object(obj))
        return not_object(e);
    json_t *v = lookup(obj, key);
    if (v == NULL)
        return absent(key, required, e);
    if (!json_is_integer(v))
        return nx_fail(e, NX_EINVAL, key, "%s 应为整数", key);
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return nx_fail(e, NX_EINVAL, key, "%s 应在 %lld 到 %lld 之间", key, (long long)min, (long long)max);
    *out = (int64_t)n;
    return 0;
}

int json_get_bool(json_t *obj, const char *key, bool required, bool *out, nx_err *e)
{
    if (!json_is_object(obj))
        return not_object(e);
    json_t *v = lookup(obj, key);
    if (v == NULL)
        return absent(key, required, e);
    if (!json_is_boolean(v))
        return nx_fail(e, NX_EINVAL, key, "%s 应为 true 或 false", key);
    *out = json_is_true(v);
    return 0;
}

int json_get_date(json_t *obj, const char *key, bool required, const char **out, nx_err *e)
{
    if (!json_is_object(obj))
        return not_object(e);
    json_t *v = lookup(obj, key);
    if (v == NULL)
        return absent(key, required, e);
    if (!json_is_string(v))
        return nx_fail(e, NX_EINVAL, key, "%s 应为日期（YYYY-MM-DD）", key);
    const char *s = json_string_value(v);
    nx_date d;
    if (strlen(s) != 10 || date_parse(s, &d) != 0)
        return nx_fail(e, NX_EINVAL, key, "%s 应为有效日期（YYYY-MM-DD）", key);
    *out = s;
    return 0;
}

int json_get_str_array(json_t *obj, const char *key, bool required, size_t max_items, size_t max_chars,
                       json_t **out, nx_err *e)
{
    if (!json_is_object(obj))
        return not_object(e);
    json_t *v = lookup(obj, key);
    if (v == NULL)
        return absent(key, required, e);
    if (!json_is_array(v))
        return nx_fail(e, NX_EINVAL, key, "%s 应为字符串数组", key);
    size_t n = json_array_size(v);
    if (required && n == 0)
        return nx_fail(e, NX_EINVAL, key, "%s 不能为空", key);
    if (n > max_items)
        return nx_fail(e, NX_EINVAL, key, "%s 最多 %zu 项", key, max_items);
    for (size_t i = 0; i < n; i++) {
        char what[96];
        snprintf(what, sizeof what, "%s 第 %zu 项", key, i + 1);
        int rc = check_string(json_array_get(v, i), key, what, true, max_chars, e);
        if (rc != 0)
            return rc;
    }
    *out = v;
    return 0;
}

int json_read_str(json_t *obj, const char *key, bool required, size_t max_chars, const char **out, nx_err *e)
{
    int rc = json_get_str(obj, key, required, max_chars, out, e);
    return rc < 0 ? rc : 0;
}

int json_read_date(json_t *obj, const char *key, bool required, const char **out, nx_err *e)
{
    int rc = json_get_date(obj, key, required, out, e);
    return rc < 0 ? rc : 0;
}

int json_get_version(json_t *obj, int64_t *out, nx_err *e)
{
    if (json_is_object(obj) && json_is_null(json_object_get(obj, "version")))
        return nx_fail(e, NX_EINVAL, "version", "version 不能为 null：请填写读取时的版本号，或省略该字段");
    return json_get_int(obj, "version", false, 1, INT64_MAX, out, e);
}

bool json_is_null_field(json_t *obj, const char *key)
{
    return json_is_object(obj) && json_is_null(json_object_get(obj, key));
}
