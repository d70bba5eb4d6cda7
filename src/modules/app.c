/* app.c — the kit of modules/app.h that needs no HTTP: app_insert, the INSERT whose VALUES list is
 * made from its column list. Stateless and thread-safe: each call lives on its transaction. */
#include "modules/app.h"

#include <stdio.h>

/* Every INSERT of the tree fits: the widest (residents) names 34 columns in about 500 bytes. */
#define INSERT_SQL 4096

/* The number of names in s ("a, b_2, c": lower-case letters, digits and _, separated by ", "), or 0
 * when s is anything else (empty, a space out of place, a quote …). */
static int names(const char *s)
{
    int count = 0;
    for (;;) {
        const char *start = s;
        while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')
            s++;
        if (s == start)
            return 0;
        count++;
        if (*s == '\0')
            return count;
        if (s[0] != ',' || s[1] != ' ')
            return 0;
        s += 2;
    }
}

int app_insert(store_tx *tx, const char *table, const char *cols, const store_param *p, int n, int64_t *id,
               nx_err *e)
{
    if (n < 1 || names(table) != 1 || names(cols) != n)
        return nx_fail(e, NX_EINTERNAL, "", "插入语句的列与参数不符");
    char sql[INSERT_SQL];
    size_t len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO %s (%s) VALUES (", table, cols);
    for (int i = 1; i <= n && len < sizeof sql; i++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, i < n ? "$%d, " : "$%d)", i);
    if (len < sizeof sql && id)
        len += (size_t)snprintf(sql + len, sizeof sql - len, " RETURNING id");
    if (len >= sizeof sql)
        return nx_fail(e, NX_EINTERNAL, "", "插入语句过长");
    return id ? store_one_int(tx, sql, p, n, id, e) : store_exec(tx, sql, p, n, NULL, e);
}
