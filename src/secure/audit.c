/* audit.c — writing and listing the audit log. Listing is restricted to the reader's scope by the
 * community of the entry (entries without a community — logins, account changes — are visible to
 * platform admins only). */
#include "secure/audit.h"

#include "base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int audit_write(store_tx *tx, const nx_principal *who, const char *action, const char *object_type,
                int64_t object_id, int64_t community_id, json_t *detail, nx_err *e)
{
    char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    store_param p[] = {
        P_INT(clock_now_ms()),
        who ? P_ID(who->user_id) : P_NULL,
        P_TEXT(who ? who->username : NULL),
        P_TEXT(action),
        P_TEXT(object_type),
        P_ID(object_id),
        P_ID(community_id),
        P_TEXT(who ? who->ip : NULL),
        P_TEXT(d ? d : "{}"),
    };
    int rc = store_exec(tx,
                        "INSERT INTO audit_log (at, user_id, username, action, object_type, object_id, "
                        "community_id, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        p, 9, NULL, e);
    free(d);
    return rc;
}

int audit_write_anon(store_tx *tx, const char *username, const char *ip, const char *action,
                     json_t *detail, nx_err *e)
{
    nx_principal anon = {.username = username, .ip = ip};
    return audit_write(tx, &anon, action, "user", 0, 0, detail, e);
}

static const struct {
    const char *code, *label;
} actions[] = {
    {"login", "登录"}, {"login_failed", "登录失败"}, {"logout", "退出登录"}, {"password_change", "修改密码"},
    {"password_reset", "重置密码"}, {"create", "新建"}, {"update", "修改"}, {"disable", "停用"},
    {"enable", "启用"}, {"reveal", "查看敏感信息"}, {"export", "导出"}, {"import", "导入"},
    {"delete", "删除"}, {"approve", "审核通过"}, {"reject", "驳回"}, {"return", "退回修改"},
}, objects[] = {
    {"user", "账号"}, {"resident", "居民"}, {"household", "户"}, {"street", "街道"}, {"community", "社区"},
    {"grid", "网格"}, {"estate", "小区"}, {"building", "楼栋"}, {"room", "房屋"}, {"shop", "商户"},
    {"tag", "标签"}, {"webhook", "通知渠道"}, {"device", "手环"}, {"alert", "报警"},
    {"care_file", "关怀档案"}, {"visit", "走访记录"}, {"visit_task", "走访任务"}, {"problem", "诉求"},
    {"incident", "网格事件"}, {"grid_member", "网格成员"}, {"service_item", "服务事项"},
    {"service_application", "服务申请"}, {"service_document", "证明文书"}, {"visit_policy", "走访规则"},
    {"care_vocab", "关怀字典"}, {"visit_register", "走访台账"}, {"photo", "照片"}, {"alert_rules", "报警规则"},
    {"allowance_tiers", "高龄津贴标准"}, {"allowance_roster", "高龄津贴名册"}, {"allowance_recipient", "高龄津贴对象"},
};

const char *audit_action_label(const char *action)
{
    for (size_t i = 0; action && i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(actions[i].code, action) == 0)
            return actions[i].label;
    return action ? action : "";
}

const char *audit_object_label(const char *object_type)
{
    for (size_t i = 0; object_type && i < sizeof objects / sizeof objects[0]; i++)
        if (strcmp(objects[i].code, object_type) == 0)
            return objects[i].label;
    return object_type ? object_type : "";
}

int audit_list(store *s, const nx_principal *who, const audit_filter *f, json_t **out,
               int64_t *next_cursor, int64_t *total, nx_err *e)
{
    char sql[1024] = "SELECT id, at, user_id, username, action, object_type, object_id, community_id, "
                     "ip, detail FROM audit_log WHERE 1 = 1";
    store_param p[12];
    int n = 0;
    size_t len;
#define ADD(cond, param)                                                                           \
    do {                                                                                           \
        p[n] = (param);                                                                            \
        len = strlen(sql);                                                                         \
        snprintf(sql + len, sizeof sql - len, cond, ++n);                                          \
    } while (0)
    if (f->user_id)
        ADD(" AND user_id = $%d", P_INT(f->user_id));
    if (f->username)
        ADD(" AND username = $%d", P_TEXT(f->username));
    if (f->action)
        ADD(" AND action = $%d", P_TEXT(f->action));
    if (f->object_type)
        ADD(" AND object_type = $%d", P_TEXT(f->object_type));
    if (f->object_id)
        ADD(" AND object_id = $%d", P_INT(f->object_id));
    if (f->from_ms)
        ADD(" AND at >= $%d", P_INT(f->from_ms));
    if (f->to_ms)
        ADD(" AND at < $%d", P_INT(f->to_ms));
    if (who->scope != SCOPE_ALL) {
        int rc = perm_scope_sql(who, "", NULL, sql, sizeof sql, p, &n);
        if (rc)
            return nx_fail(e, rc, "", "查询条件过长");
    }
    store_tx *tx;
    int rc = store_begin(s, STORE_READ, &tx, e);
    if (rc)
        return rc;
    if (total)
        *total = -1;
    if (total && !f->before_id) {
        char csql[1100];
        snprintf(csql, sizeof csql, "SELECT count(*) FROM audit_log%s", strstr(sql, " WHERE "));
        if ((rc = store_one_int(tx, csql, p, n, total, e))) {
            store_rollback(tx);
            return rc;
        }
    }
    if (f->before_id)
        ADD(" AND id < $%d", P_INT(f->before_id));
#undef ADD
    len = strlen(sql);
    snprintf(sql + len, sizeof sql - len, " ORDER BY id DESC LIMIT %d", f->limit + 1);
    store_rows *r;
    rc = store_query(tx, sql, p, n, &r, e);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    json_t *arr = json_array();
    int count = 0;
    *next_cursor = 0;
    while ((rc = store_next(r)) == 1) {
        if (count == f->limit) {
            *next_cursor = json_integer_value(json_object_get(json_array_get(arr, (size_t)count - 1), "id"));
            break;
        }
        char at[30];
        clock_format_local(store_int(r, 1), at);
        json_t *detail = json_loads(store_text(r, 9) ? store_text(r, 9) : "{}", 0, NULL);
        json_t *row = json_pack("{s:I, s:s, s:o, s:o, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}",
            "id", (json_int_t)store_int(r, 0), "at", at,
            "user_id", store_isnull(r, 2) ? json_null() : json_integer(store_int(r, 2)),
            "username", store_text(r, 3) ? json_string(store_text(r, 3)) : json_null(),
            "action", store_text(r, 4), "action_label", audit_action_label(store_text(r, 4)),
            "object_type", store_text(r, 5) ? json_string(store_text(r, 5)) : json_null(),
            "object_label", audit_object_label(store_text(r, 5)),
            "object_id", store_isnull(r, 6) ? json_null() : json_integer(store_int(r, 6)),
            "community_id", store_isnull(r, 7) ? json_null() : json_integer(store_int(r, 7)),
            "ip", store_text(r, 8) ? json_string(store_text(r, 8)) : json_null(),
            "detail", detail ? detail : json_object());
        json_array_append_new(arr, row);
        count++;
    }
    store_rows_free(r);
    store_rollback(tx);
    if (rc < 0) {
        json_decref(arr);
        return nx_fail(e, NX_EDB, "", "读取审计日志失败");
    }
    *out = arr;
    return 0;
}
