/* audit.c — writing and listing the audit log. Listing is restricted to the reader's scope by the
 * community of the entry (entries without a community — logins, account changes — are visible to
 * platform admins only). */
#include "secure/audit.h"

#include "store/page.h"

#include "base/clock.h"
#include "base/str.h"

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

/* The Chinese words of the log: actions (the verbs every module writes, and the time-line actions
 * the care and grid modules audit), object types, and the keys and field names a detail carries.
 * A code that is not here shows as itself: the table grows with the modules. */
typedef struct {
    const char *code, *label;
} word;

static const word actions[] = {
    {"login", "登录"}, {"login_failed", "登录失败"}, {"logout", "退出登录"}, {"password_change", "修改密码"},
    {"password_reset", "重置密码"}, {"create", "新建"}, {"update", "修改"}, {"disable", "停用"},
    {"enable", "启用"}, {"reveal", "查看敏感信息"}, {"export", "导出"}, {"import", "导入"},
    {"search_exact", "按证件号码或手机号查询"},
    {"delete", "删除"}, {"approve", "审核通过"}, {"reject", "驳回"}, {"return", "退回修改"},
    {"upload", "上传"}, {"download", "下载材料"}, {"demo", "生成演示数据"}, {"acknowledge", "接警"},
    {"resolve", "处置完毕"}, {"allowance_start", "开始发放"}, {"answer", "答复"}, {"attendance", "考勤"},
    {"cancel", "取消"}, {"check_in", "签到"}, {"check_out", "签退"}, {"issue", "出具"}, {"nominate", "提名"},
    {"open", "开启"}, {"pay", "缴纳"}, {"print", "打印"}, {"refund", "退款"}, {"remove_material", "删除材料"},
    {"replace", "更换"}, {"reset", "重置"}, {"resubmit", "重新提交"}, {"reverse", "冲正"}, {"review", "审核"},
    {"schedule", "生成走访任务"}, {"signup", "报名"}, {"stage", "进入下一阶段"}, {"submit", "提交"},
    {"sweep", "超时检查"}, {"topup", "充值"}, {"redeem", "兑换"}, {"transfer", "转接"}, {"unblock", "解除限制"}, {"vote", "投票"},
    {"withdraw", "撤回"}, {"close", "结档"}, {"raised", "提出诉求"}, {"assigned", "交办"}, {"updated", "修改"},
    {"progress", "办理进展"}, {"resolved", "办结"}, {"rated", "评价"}, {"reported", "上报"},
    {"dispatched", "派发"}, {"handled", "处置"}, {"closed", "关闭"}, {"life_event", "关怀事件"},
    {"manual_trigger", "发起走访"}, {"escalated", "逾期上报"}, {"confirm_identity", "确认佩戴人"},
    {"move", "迁移"},
};

static const word objects[] = {
    {"user", "账号"}, {"resident", "居民"}, {"household", "户"}, {"street", "街道"}, {"community", "社区"},
    {"grid", "网格"}, {"estate", "小区"}, {"building", "楼栋"}, {"room", "房屋"}, {"shop", "商户"},
    {"tag", "标签"}, {"webhook", "通知渠道"}, {"device", "手环"}, {"alert", "报警"},
    {"care_file", "关怀档案"}, {"visit", "走访记录"}, {"visit_task", "走访任务"}, {"problem", "诉求"},
    {"incident", "网格事件"}, {"grid_member", "网格成员"}, {"service_item", "服务事项"},
    {"service_application", "服务申请"}, {"service_document", "证明文书"}, {"visit_policy", "走访规则"},
    {"care_vocab", "关怀字典"}, {"visit_register", "走访台账"}, {"photo", "照片"}, {"alert_rules", "报警规则"},
    {"allowance_tiers", "高龄津贴标准"}, {"allowance_roster", "高龄津贴名册"}, {"allowance_recipient", "高龄津贴对象"},
    {"device_command", "手环指令"}, {"canteen_card", "饭卡"}, {"canteen_dish", "菜品"}, {"canteen_round", "送餐路线"}, {"canteen_demo", "食堂演示数据"},
    {"canteen_price_rules", "食堂价格规则"}, {"canteen_sale", "食堂消费"}, {"canteen_subsidy", "助餐补贴"},
    {"election", "评选"}, {"library_reader", "图书馆读者"}, {"message_rules", "消息规则"}, {"notice", "通知公告"},
    {"partner", "共建单位"}, {"partner_booking", "共建服务预约"}, {"partner_service", "共建服务"},
    {"party_activity", "党组织活动"}, {"party_dues", "党费"}, {"party_dues_rule", "党费标准"},
    {"party_member", "党员"}, {"party_org", "党组织"}, {"volunteer", "志愿者"}, {"volunteer_activity", "志愿活动"},
    {"volunteer_hours", "志愿时长"}, {"volunteer_signup", "志愿报名"}, {"volunteer_team", "志愿队伍"}, {"volunteer_points", "时间银行积分"},
};

/* Keys of a detail and the field names a change lists ("fields": ["assignee_user_id"]). */
static const word fields[] = {
    {"fields", "修改内容"}, {"action", "操作"}, {"step", "环节"}, {"kind", "类型"}, {"key", "材料"},
    {"type", "格式"}, {"size", "大小（字节）"}, {"item", "事项"}, {"proxy", "代办"}, {"resident_id", "居民编号"}, {"volunteer_id", "志愿者编号"}, {"offer_id", "兑换项目编号"},
    {"serial", "编号"}, {"username", "用户名"}, {"role", "角色"}, {"scope", "范围"}, {"seed", "随机种子"},
    {"households", "户数"}, {"residents", "居民数"}, {"care_files", "关怀档案数"}, {"visits", "走访数"},
    {"problems", "诉求数"}, {"incidents", "事件数"}, {"date", "日期"}, {"created", "新建"}, {"overdue", "逾期"},
    {"escalated", "已上报"}, {"problems_overdue", "逾期诉求"}, {"problems_escalated", "上报诉求"},
    {"revealed", "查看内容"}, {"matches", "匹配数"}, {"format", "格式"}, {"rows", "行数"}, {"total_rows", "总行数"},
    {"imported", "已导入"}, {"dry_run", "试导入"}, {"month", "月份"}, {"period", "期间"}, {"count", "数量"},
    {"total", "合计"}, {"amount", "金额"}, {"amount_fen", "金额（分）"}, {"category", "类别"},
    {"category_id", "类别"}, {"status", "状态"}, {"state", "状态"}, {"note", "备注"}, {"by", "来源"},
    {"to", "至"}, {"change", "变更"}, {"eligible", "符合条件"}, {"tiers", "档次"}, {"tier_changes", "档次变化"},
    {"needs_followup", "需要回访"}, {"device_id", "手环"}, {"direction", "方向"}, {"protocol", "协议"},
    {"correction", "补正内容"}, {"corrected", "已补正"}, {"certificate", "证书"}, {"application", "申请"},
    {"material_id", "材料编号"}, {"manual", "手动"}, {"bad_old_password", "原密码错误"}, {"result", "结果"},
    {"minutes", "分钟"}, {"own", "本人"}, {"self", "本人"}, {"phone", "电话"}, {"region", "区域"},
    {"assignee_user_id", "责任人"}, {"deadline", "办理期限"}, {"urgency", "紧急程度"}, {"name", "姓名"},
    {"display_name", "显示名称"}, {"password", "密码"}, {"disabled", "停用"}, {"id_number", "证件号码"},
    {"id_type", "证件类型"}, {"birth_date", "出生日期"}, {"sex", "性别"}, {"ethnicity", "民族"},
    {"political", "政治面貌"}, {"education", "文化程度"}, {"marital", "婚姻状况"}, {"work", "工作单位"},
    {"notes", "备注"}, {"address", "住址"}, {"household_id", "家庭户"}, {"room_id", "房屋"},
    {"from_household_id", "原家庭户"}, {"to_household_id", "迁入家庭户"}, {"from_room_id", "原房屋"}, {"to_room_id", "迁入房屋"},
    {"relation", "与户主关系"}, {"residence", "户籍状态"}, {"care_level", "关怀等级"}, {"tags", "标签"},
    {"contacts", "紧急联系人"}, {"grid_id", "网格"}, {"community_id", "社区"}, {"street_id", "街道"},
    {"estate_id", "小区"}, {"building_id", "楼栋"}, {"title", "标题"}, {"description", "说明"},
    {"level", "等级"}, {"living", "居住情况"}, {"health", "健康状况"}, {"needs", "需求"},
    {"responsible_user_id", "责任人"}, {"due_date", "到期日"}, {"moved_out", "迁出"}, {"deceased", "去世"},
    {"number", "门牌号"}, {"active", "启用"}, {"rules", "规则"}, {"steps", "审核环节"}, {"form", "表单"},
    {"materials", "材料"}, {"bank_account", "银行账号"}, {"bank_name", "开户银行"}, {"contact_phone", "联系电话"},
    {"imei", "IMEI"}, {"sos_numbers", "SOS 号码"}, {"sessions", "场次"}, {"teams", "队伍"},
    {"volunteers", "志愿者"}, {"cards", "饭卡"}, {"sales", "消费"}, {"nomination_id", "提名"},
    {"objection_id", "异议"}, {"upheld", "维持"}, {"signup_id", "报名"}, {"org_id", "党组织"},
    {"reversal_id", "冲正记录"}, {"new_card_id", "新卡"}, {"unblock", "解除"}, {"stopped", "已停止"},
    {"occurrences", "次数"}, {"slots_per_session", "每场名额"}, {"args", "参数"}, {"bound", "绑定"},
    {"confirm_identity", "确认佩戴人"}, {"version", "版本"}, {"id", "编号"},
    {"price", "价格"}, {"half_price", "半份价格"}, {"nutrition", "营养"}, {"allergens", "过敏原"},
    {"soft", "软烂"}, {"low_salt", "低盐"}, {"diabetic", "控糖"},
    {"via", "途径"},
};

/* Values that are codes too: the steps of a review and a few states. */
static const word values[] = {
    {"approve", "通过"}, {"reject", "驳回"}, {"return", "退回"}, {"community", "社区"}, {"street", "街道"},
    {"admin", "管理员"}, {"staff", "社区工作人员"}, {"grid", "网格员"}, {"resident", "居民"},
    {"family", "家属"}, {"canteen", "食堂"}, {"volunteer", "志愿者"}, {"all", "全部"}, {"self", "本人"},
    {"id_card", "身份证"}, {"hukou", "户口簿"}, {"bank_card", "银行卡"}, {"certificate", "证明"},
    {"position", "位置"}, {"readings", "健康读数"}, {"family_view", "家属查看老人"},
};

static const char *lookup(const word *t, size_t n, const char *code)
{
    for (size_t i = 0; code && i < n; i++)
        if (strcmp(t[i].code, code) == 0)
            return t[i].label;
    return NULL;
}

#define LOOKUP(t, code) lookup(t, sizeof t / sizeof t[0], code)

const char *audit_action_label(const char *action)
{
    const char *l = LOOKUP(actions, action);
    return l ? l : action ? action : "";
}

const char *audit_object_label(const char *object_type)
{
    const char *l = LOOKUP(objects, object_type);
    return l ? l : object_type ? object_type : "";
}

/* One value of a detail in words: a field name, an action, an object type or a known code by its
 * label, yes/no for booleans, arrays joined with 、. */
static void value_text(strbuf *b, json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v), *l = LOOKUP(fields, s);
        if (l == NULL)
            l = LOOKUP(values, s);
        if (l == NULL)
            l = LOOKUP(objects, s);
        if (l == NULL)
            l = LOOKUP(actions, s);
        strbuf_puts(b, l ? l : s);
    } else if (json_is_boolean(v)) {
        strbuf_puts(b, json_is_true(v) ? "是" : "否");
    } else if (json_is_integer(v)) {
        strbuf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        strbuf_printf(b, "%g", json_real_value(v));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            if (i)
                strbuf_puts(b, "、");
            value_text(b, x);
        }
    } else if (json_is_object(v)) {
        char *d = json_dumps(v, JSON_COMPACT);
        strbuf_puts(b, d ? d : "");
        free(d);
    }
}

char *audit_detail_text(json_t *detail)
{
    strbuf b;
    strbuf_init(&b, 4096);
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach(detail, k, v)
    {
        if (json_is_null(v))
            continue;
        const char *l = LOOKUP(fields, k);
        strbuf_printf(&b, "%s%s：", first ? "" : "；", l ? l : k);
        value_text(&b, v);
        first = false;
    }
    char *out = strbuf_steal(&b);
    strbuf_cleanup(&b);
    return out;
}

static json_t *audit_row(store_rows *r)
{
    json_t *detail = json_loads(store_text(r, 9) ? store_text(r, 9) : "{}", 0, NULL);
    if (detail == NULL)
        detail = json_object();
    char *text = audit_detail_text(detail);
    json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s}",
        "id", (json_int_t)store_int(r, 0), "at", store_json_time(r, 1), "user_id", store_json_int(r, 2),
        "username", store_json_text(r, 3), "user_name", store_json_text(r, 10), "action", store_text(r, 4),
        "action_label", audit_action_label(store_text(r, 4)), "object_type", store_json_text(r, 5), "object_label",
        audit_object_label(store_text(r, 5)), "object_id", store_json_int(r, 6), "community_id",
        store_json_int(r, 7), "ip", store_json_text(r, 8), "detail", detail, "detail_text", text ? text : "");
    free(text);
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
    audit_where(q, "SELECT id, at, user_id, username, action, object_type, object_id, community_id, ip, detail, "
                   "COALESCE((SELECT u.display_name FROM users u WHERE u.id = audit_log.user_id), username) "
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
