/* audit.c — writing and listing the audit log. Listing is restricted to the reader's scope by the
 * community of the entry (entries without a community — logins, account changes — are visible to
 * platform admins only). */
#include "secure/audit.h"

#include "store/page.h"

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

int audit_write_new(store_tx *tx, const nx_principal *who, const char *action, const char *object_type,
                    int64_t object_id, int64_t community_id, json_t *detail, nx_err *e)
{
    int rc = audit_write(tx, who, action, object_type, object_id, community_id, detail, e);
    json_decref(detail);
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
    {"search_exact", "按证件号码或手机号查询"},
    {"delete", "删除"}, {"approve", "审核通过"}, {"reject", "驳回"}, {"return", "退回修改"},
    {"upload", "上传"}, {"download", "下载材料"},
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

static json_t *audit_row(store_rows *r)
{
    json_t *detail = json_loads(store_text(r, 9) ? store_text(r, 9) : "{}", 0, NULL);
    json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}",
        "id", (json_int_t)store_int(r, 0), "at", store_json_time(r, 1), "user_id", store_json_int(r, 2),
        "username", store_json_text(r, 3), "action", store_text(r, 4), "action_label",
        audit_action_label(store_text(r, 4)), "object_type", store_json_text(r, 5), "object_label",
        audit_object_label(store_text(r, 5)), "object_id", store_json_int(r, 6), "community_id",
        store_json_int(r, 7), "ip", store_json_text(r, 8), "detail", detail ? detail : json_object());
    return o;
}

/* The filters of f and who's scope, after head. */
static void audit_where(sqlq *q, const char *head, const nx_principal *who, const audit_filter *f)
{
    sqlq_init(q, head);
    if (f->user_id)
        sqlq_add(q, " AND user_id = $%d", P_INT(f->user_id));
    if (f->username)
        sqlq_add(q, " AND username = $%d", P_TEXT(f->username));
    if (f->action)
        sqlq_add(q, " AND action = $%d", P_TEXT(f->action));
    if (f->object_type)
        sqlq_add(q, " AND object_type = $%d", P_TEXT(f->object_type));
    if (f->object_id)
        sqlq_add(q, " AND object_id = $%d", P_INT(f->object_id));
    if (f->from_ms)
        sqlq_add(q, " AND at >= $%d", P_INT(f->from_ms));
    if (f->to_ms)
        sqlq_add(q, " AND at < $%d", P_INT(f->to_ms));
    perm_scope_q(who, "", NULL, q);
}

int audit_list(store *s, const nx_principal *who, const audit_filter *f, int max, json_t **out, nx_err *e)
{
    sqlq *q = malloc(sizeof *q), *count = malloc(sizeof *count);
    int rc;
    if (q == NULL || count == NULL) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    audit_where(q, "SELECT id, at, user_id, username, action, object_type, object_id, community_id, ip, detail "
                   "FROM audit_log WHERE 1 = 1", who, f);
    audit_where(count, "SELECT count(*) FROM audit_log WHERE 1 = 1", who, f);
    if (f->before_id)
        sqlq_add(q, " AND id < $%d", P_INT(f->before_id));
    sqlq_sql(q, " ORDER BY id DESC");
    store_page_spec spec = {.limit = f->limit, .max = max, .count = f->before_id ? NULL : count, .row = audit_row};
    rc = store_page_read(s, q, &spec, out, e);
done:
    free(q);
    free(count);
    return rc;
}
