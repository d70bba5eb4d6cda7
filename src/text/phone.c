/* phone.c — parsing mainland phone numbers.
 *
 * Input is first split into groups of digits: spaces, dashes and parentheses separate groups, a
 * '+' may only lead, anything else is refused. A country code is then removed ("+86", "0086", or
 * "86" when what follows is a whole mobile number). What remains is a mobile when its digits start
 * with 1, otherwise a landline: the area code is the first group (or, in an unbroken run of
 * digits, 3 digits for 010/02x and 4 for the rest, which is how China's area codes are laid out),
 * the local number is the next digits up to 7-8, and a last group is the extension.
 *
 * The groups live in a small fixed array: inputs longer than MAX_INPUT bytes or with more than
 * MAX_GROUPS groups are refused before any copying. Pure and thread-safe. */
#include "text/phone.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define FIELD         "phone"
#define MAX_INPUT     64
#define MAX_GROUPS    6
#define MAX_GROUP_LEN 24

typedef struct groups {
    int n;
    bool plus; /* the number began with '+' */
    char g[MAX_GROUPS][MAX_GROUP_LEN + 1];
} groups;

/* Split s into digit groups. Returns 0 or NX_EINVAL with a message. */
static int split(const char *s, groups *out, nx_err *e)
{
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return nx_fail(e, NX_EINVAL, FIELD, "请填写电话号码");
    while (isspace((unsigned char)*s))
        s++;
    if (strlen(s) > MAX_INPUT)
        return nx_fail(e, NX_EINVAL, FIELD, "电话号码过长");
    if (*s == '+') {
        out->plus = true;
        s++;
    }
    size_t cur = 0; /* length of the group being read */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isdigit(c)) {
            if (cur == 0) {
                if (out->n == MAX_GROUPS)
                    return nx_fail(e, NX_EINVAL, FIELD, "电话号码格式不正确");
                out->n++;
            }
            if (cur == MAX_GROUP_LEN)
                return nx_fail(e, NX_EINVAL, FIELD, "电话号码过长");
            out->g[out->n - 1][cur++] = (char)c;
        } else if (c == ' ' || c == '\t' || c == '-' || c == '(' || c == ')') {
            cur = 0;
        } else {
            return nx_fail(e, NX_EINVAL, FIELD, "电话号码只能包含数字、空格、短横线和括号");
        }
    }
    if (out->n == 0)
        return nx_fail(e, NX_EINVAL, FIELD, "请填写电话号码");
    return 0;
}

static void drop_prefix(groups *g, size_t k)
{
    char *first = g->g[0];
    size_t len = strlen(first);
    if (k >= len) {
        memmove(g->g[0], g->g[1], sizeof g->g[0] * (size_t)(g->n - 1));
        memset(g->g[g->n - 1], 0, sizeof g->g[0]);
        g->n--;
    } else {
        memmove(first, first + k, len - k + 1);
    }
}

static size_t total_len(const groups *g)
{
    size_t t = 0;
    for (int i = 0; i < g->n; i++)
        t += strlen(g->g[i]);
    return t;
}

/* Remove a country code. Returns true when one was removed. */
static bool strip_country(groups *g)
{
    const char *first = g->g[0];
    if (g->plus) {
        if (strncmp(first, "86", 2) == 0) {
            drop_prefix(g, 2);
            return true;
        }
        return false; /* another country: left for the caller to refuse */
    }
    if (strncmp(first, "0086", 4) == 0) {
        drop_prefix(g, 4);
        return true;
    }
    /* A bare 86 only in front of a whole mobile number: 86 + 11 digits starting 1. */
    if (strncmp(first, "86", 2) == 0 && total_len(g) == 13) {
        const char *next = strlen(first) > 2 ? first + 2 : (g->n > 1 ? g->g[1] : "");
        if (next[0] == '1') {
            drop_prefix(g, 2);
            return true;
        }
    }
    return false;
}

static int mobile_from(const groups *g, char out[12], nx_err *e)
{
    char d[MAX_GROUPS * MAX_GROUP_LEN + 1];
    size_t k = 0;
    for (int i = 0; i < g->n; i++) {
        size_t l = strlen(g->g[i]);
        memcpy(d + k, g->g[i], l);
        k += l;
    }
    d[k] = '\0';
    if (k != 11)
        return nx_fail(e, NX_EINVAL, FIELD, "手机号码应为11位数字，当前为%zu位", k);
    if (d[0] != '1' || d[1] < '3')
        return nx_fail(e, NX_EINVAL, FIELD, "手机号码应以13至19开头");
    memcpy(out, d, 12);
    return 0;
}

int phone_parse_mobile(const char *s, char out[12], nx_err *e)
{
    out[0] = '\0';
    groups g;
    int rc = split(s, &g, e);
    if (rc)
        return rc;
    if (!strip_country(&g) && g.plus)
        return nx_fail(e, NX_EINVAL, FIELD, "只支持中国大陆手机号码（+86）");
    if (g.n == 0)
        return nx_fail(e, NX_EINVAL, FIELD, "请填写手机号码");
    return mobile_from(&g, out, e);
}

static bool area_valid(const char *a, size_t len)
{
    if (a[0] != '0')
        return false;
    if (len == 3)
        return (a[1] == '1' && a[2] == '0') || a[1] == '2';
    if (len == 4)
        return a[1] >= '3' && a[1] <= '9';
    return false;
}

int phone_parse_any(const char *s, char *out, size_t n, nx_err *e)
{
    if (out == NULL || n < PHONE_MAX)
        return nx_fail(e, NX_EINTERNAL, FIELD, "电话号码缓冲区过小");
    out[0] = '\0';
    groups g;
    int rc = split(s, &g, e);
    if (rc)
        return rc;
    bool country = strip_country(&g);
    if (g.plus && !country)
        return nx_fail(e, NX_EINVAL, FIELD, "只支持中国大陆电话号码（+86）");
    if (g.n == 0)
        return nx_fail(e, NX_EINVAL, FIELD, "请填写电话号码");
    /* Mobiles start with 1; so does Beijing's area code 10 once +86 has taken its 0. */
    if (g.g[0][0] == '1' && !(country && g.g[0][1] == '0'))
        return mobile_from(&g, out, e);

    /* Landline. After a country code the area code's leading 0 is usually left out. */
    char area[6] = "", number[12] = "", ext[8] = "";
    char first[MAX_GROUP_LEN + 2];
    if (country && g.g[0][0] != '0')
        snprintf(first, sizeof first, "0%s", g.g[0]);
    else
        snprintf(first, sizeof first, "%s", g.g[0]);
    if (first[0] != '0')
        return nx_fail(e, NX_EINVAL, FIELD, "固定电话应以区号开头（如0531），手机号码应以1开头");

    size_t flen = strlen(first), alen;
    if (g.n == 1 || flen > 4)
        alen = (first[1] == '1' || first[1] == '2') ? 3 : 4; /* unbroken digits: infer */
    else
        alen = flen;
    if (alen > flen || !area_valid(first, alen))
        return nx_fail(e, NX_EINVAL, FIELD, "区号不正确：应为010、02X或4位区号");
    memcpy(area, first, alen);
    area[alen] = '\0';

    /* The local number. */
    size_t nlen = 0;
    int next = 1;
    const char *rest = first + alen;
    if (*rest) {
        nlen = strlen(rest);
        if (nlen > 8)
            return nx_fail(e, NX_EINVAL, FIELD, "固定电话号码应为7或8位数字");
        memcpy(number, rest, nlen + 1);
    }
    /* When the first group held more than the area code it holds the whole number; otherwise
     * the number is made of the next groups, up to 7 digits ("0531 8612 3456"). */
    while (rest[0] == '\0' && nlen < 7 && next < g.n) {
        size_t l = strlen(g.g[next]);
        if (nlen + l > 8)
            return nx_fail(e, NX_EINVAL, FIELD, "固定电话号码应为7或8位数字");
        memcpy(number + nlen, g.g[next], l + 1);
        nlen += l;
        next++;
    }
    if (nlen < 7 || nlen > 8)
        return nx_fail(e, NX_EINVAL, FIELD, "固定电话号码应为7或8位数字");
    if (number[0] == '0')
        return nx_fail(e, NX_EINVAL, FIELD, "固定电话号码（区号之后）不能以0开头");
    if (next < g.n) {
        size_t l = strlen(g.g[next]);
        if (l > 6 || next + 1 < g.n)
            return nx_fail(e, NX_EINVAL, FIELD, "分机号应为1至6位数字");
        memcpy(ext, g.g[next], l + 1);
    }
    if (ext[0])
        snprintf(out, n, "%s-%s-%s", area, number, ext);
    else
        snprintf(out, n, "%s-%s", area, number);
    return 0;
}
