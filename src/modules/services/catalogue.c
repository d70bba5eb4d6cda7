/* catalogue.c — service items as data, and the rules that read them: form schemas, eligibility.
 *
 * An item's definition lives in JSON columns of service_items (see services.h and docs/services.md).
 * Saving an item checks the whole definition, so the application code can trust it: every form
 * field has a known type and a key, every step a role of "community" or "street" and 1..365 days,
 * every material allowed types among pdf/jpeg/png and a size cap, every rule a known name. Reading
 * is open to every signed-in user (the catalogue is public information); changing it needs
 * RIGHT_SERVICE_ADMIN and is audited.
 * The eligibility rules are checked here too (services_eligibility), since they are part of an item's
 * definition. */
#include "modules/services/services_internal.h"

#include "modules/volunteers/volunteers.h"

#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "text/idcard.h"
#include "text/phone.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_types[] = {"text", "number", "date", "choice", "id_number", "phone", NULL};
static const char *const rule_names[] = {"active", "age_min", "age_max", "residence", "tag", "not_receiving",
                                         "no_open_application", "volunteer_hours", NULL};
static const char *const material_types[] = {"pdf", "jpeg", "png", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (int i = 0; s && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* ---- items ---- */

#define ITEM_COLS                                                                                  \
    "SELECT id, code, name, category, description, applicants, form, materials, eligibility, steps, document, " \
    "effect, active, sort, version, created_at, updated_at FROM service_items"

static json_t *parse_col(store_rows *r, int col, json_t *def)
{
    const char *s = store_text(r, col);
    json_t *v = s ? json_loads(s, 0, NULL) : NULL;
    if (v == NULL) {
        return def;
    }
    json_decref(def);
    return v;
}

static json_t *item_json(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i code:t name:t category:t description:t - - - - - - effect:t active:b sort:i "
                                  "version:i");
    if (!o)
        return NULL;
    static const char *const lists[] = {"applicants", "form", "materials", "eligibility", "steps"};
    for (int i = 0; i < 5; i++) /* columns 5 to 9: JSON arrays */
        json_object_set_new(o, lists[i], parse_col(r, 5 + i, json_array()));
    json_object_set_new(o, "document", parse_col(r, 10, json_null()));
    return o;
}

int services_items_list(nx_app *app, const nx_principal *who, bool include_inactive, json_t **out, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, ITEM_COLS " WHERE 1 = 1");
    if (!(include_inactive && perm_has(who, RIGHT_SERVICE_ADMIN)))
        sqlq_sql(&q, " AND active = 1");
    sqlq_sql(&q, " ORDER BY sort, id");
    return store_items_read(app->db, &q, &(store_page_spec){.row = item_json}, out, e);
}

int services_item_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, ITEM_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND id = $%d", P_INT(id));
    if (!perm_has(who, RIGHT_SERVICE_ADMIN)) /* a retired item is an administrator's to see */
        sqlq_sql(&q, " AND active = 1");
    return store_get_read(app->db, &q, &(store_page_spec){.row = item_json}, "服务事项不存在", out, e);
}

int services_item_load(store_tx *tx, int64_t id, services_item *it, nx_err *e)
{
    memset(it, 0, sizeof *it);
    store_rows *r;
    store_param p[] = {P_INT(id)};
    int rc = store_query(tx, ITEM_COLS " WHERE id = $1", p, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "服务事项不存在", e))) {
        store_rows_free(r);
        if (rc == NX_ENOTFOUND)
            nx_fail(e, NX_ENOTFOUND, "item_id", "服务事项不存在");
        return rc;
    }
    it->id = store_int(r, 0);
    str_copy(it->code, store_text(r, 1), sizeof it->code);
    str_copy(it->name, store_text(r, 2), sizeof it->name);
    it->applicants = parse_col(r, 5, json_array());
    it->form = parse_col(r, 6, json_array());
    it->materials = parse_col(r, 7, json_array());
    it->eligibility = parse_col(r, 8, json_array());
    it->steps = parse_col(r, 9, json_array());
    it->document = parse_col(r, 10, NULL);
    if (it->document && !json_is_object(it->document)) {
        json_decref(it->document);
        it->document = NULL;
    }
    str_copy(it->effect, store_text(r, 11) ? store_text(r, 11) : "", sizeof it->effect);
    it->active = store_int(r, 12) != 0;
    it->version = store_int(r, 14);
    store_rows_free(r);
    return 0;
}

void services_item_cleanup(services_item *it)
{
    if (it == NULL)
        return;
    json_decref(it->applicants);
    json_decref(it->form);
    json_decref(it->materials);
    json_decref(it->eligibility);
    json_decref(it->steps);
    json_decref(it->document);
    memset(it, 0, sizeof *it);
}

int services_item_nsteps(const services_item *it)
{
    return (int)json_array_size(it->steps);
}

const char *services_step_str(const services_item *it, int i, const char *member)
{
    return json_string_value(json_object_get(json_array_get(it->steps, (size_t)i), member));
}

int services_step_days(const services_item *it, int i)
{
    return (int)json_integer_value(json_object_get(json_array_get(it->steps, (size_t)i), "days"));
}

/* ---- checking a definition ---- */

static int bad(nx_err *e, const char *field, const char *msg, size_t i)
{
    return nx_fail(e, NX_EINVAL, field, "%s（第 %zu 项）", msg, i + 1);
}

static bool key_ok(const char *k)
{
    if (k == NULL || k[0] == '\0' || strlen(k) > 40)
        return false;
    for (const char *c = k; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

static bool label_ok(json_t *o, const char *member, size_t max)
{
    const char *s = json_string_value(json_object_get(o, member));
    return s && s[0] && str_utf8_valid(s, strlen(s)) && str_utf8_len(s) <= max;
}

static int check_form_schema(json_t *form, nx_err *e)
{
    if (!json_is_array(form) || json_array_size(form) > 60)
        return nx_fail(e, NX_EINVAL, "form", "表单定义应为字段数组（最多 60 个）");
    static const char *const allowed[] = {"key", "label", "type", "required", "min", "max", "min_len", "max_len",
                                          "digits", "options", "not_future", "help", NULL};
    size_t i, j;
    json_t *f;
    json_array_foreach(form, i, f) {
        if (!json_is_object(f))
            return bad(e, "form", "表单字段应为对象", i);
        const char *k;
        json_t *v;
        json_object_foreach(f, k, v) {
            if (!in_list(allowed, k))
                return nx_fail(e, NX_EINVAL, "form", "表单字段含有未知属性“%.40s”（第 %zu 项）", k, i + 1);
        }
        if (!key_ok(json_string_value(json_object_get(f, "key"))))
            return bad(e, "form", "表单字段的 key 只能由小写字母、数字和下划线组成", i);
        if (!label_ok(f, "label", 40))
            return bad(e, "form", "表单字段缺少名称（最多 40 字）", i);
        if (!in_list(field_types, json_string_value(json_object_get(f, "type"))))
            return bad(e, "form", "表单字段类型应为 text、number、date、choice、id_number 或 phone", i);
        json_t *opts = json_object_get(f, "options");
        if (strcmp(json_string_value(json_object_get(f, "type")), "choice") == 0 &&
            (!json_is_array(opts) || json_array_size(opts) == 0))
            return bad(e, "form", "选择题字段需要选项", i);
        if (opts) {
            json_t *o;
            if (!json_is_array(opts))
                return bad(e, "form", "选项应为字符串数组", i);
            json_array_foreach(opts, j, o) if (!json_is_string(o) || json_string_length(o) == 0) return bad(
                e, "form", "选项应为非空字符串", i);
        }
        for (size_t m = 0; m < 4; m++) {
            static const char *const nums[] = {"min", "max", "min_len", "max_len"};
            json_t *n = json_object_get(f, nums[m]);
            if (n && !json_is_number(n))
                return bad(e, "form", "min、max、min_len、max_len 应为数字", i);
        }
        for (size_t k2 = 0; k2 < i; k2++)
            if (strcmp(json_string_value(json_object_get(json_array_get(form, k2), "key")),
                       json_string_value(json_object_get(f, "key"))) == 0)
                return bad(e, "form", "表单字段的 key 重复", i);
    }
    return 0;
}

static int check_definition(json_t *body, nx_err *e)
{
    int rc;
    json_t *v;
    size_t i, j;
    json_t *x;
    if ((v = json_object_get(body, "form")) && (rc = check_form_schema(v, e)))
        return rc;
    if ((v = json_object_get(body, "materials"))) {
        if (!json_is_array(v) || json_array_size(v) > 20)
            return nx_fail(e, NX_EINVAL, "materials", "材料定义应为数组（最多 20 项）");
        json_array_foreach(v, i, x) {
            if (!json_is_object(x) || !key_ok(json_string_value(json_object_get(x, "key"))) || !label_ok(x, "label", 60))
                return bad(e, "materials", "材料需要 key 和名称", i);
            json_t *types = json_object_get(x, "types"), *t;
            if (!json_is_array(types) || json_array_size(types) == 0)
                return bad(e, "materials", "材料需要允许的文件类型（pdf、jpeg、png）", i);
            json_array_foreach(types, j, t) if (!in_list(material_types, json_string_value(t))) return bad(
                e, "materials", "文件类型只能是 pdf、jpeg、png", i);
            json_int_t kb = json_integer_value(json_object_get(x, "max_kb"));
            if (kb < 1 || kb > 51200)
                return bad(e, "materials", "max_kb 应在 1 到 51200 之间", i);
        }
    }
    if ((v = json_object_get(body, "eligibility"))) {
        if (!json_is_array(v) || json_array_size(v) > 20)
            return nx_fail(e, NX_EINVAL, "eligibility", "条件定义应为数组（最多 20 项）");
        json_array_foreach(v, i, x) {
            const char *rule = json_string_value(json_object_get(x, "rule"));
            if (!in_list(rule_names, rule))
                return bad(e, "eligibility", "未知的条件规则", i);
            if ((strcmp(rule, "age_min") == 0 || strcmp(rule, "age_max") == 0) &&
                !json_is_integer(json_object_get(x, "value")))
                return bad(e, "eligibility", "年龄条件需要整数 value", i);
            if (strcmp(rule, "residence") == 0 && !json_is_array(json_object_get(x, "value")))
                return bad(e, "eligibility", "户籍条件需要 value 数组", i);
            if (strcmp(rule, "tag") == 0 && !json_is_string(json_object_get(x, "value")))
                return bad(e, "eligibility", "标签条件需要 value（标签代码）", i);
        }
    }
    if ((v = json_object_get(body, "steps"))) {
        if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 5)
            return nx_fail(e, NX_EINVAL, "steps", "审核环节应为 1 到 5 个");
        json_array_foreach(v, i, x) {
            const char *role = json_string_value(json_object_get(x, "role"));
            json_int_t days = json_integer_value(json_object_get(x, "days"));
            if (!key_ok(json_string_value(json_object_get(x, "code"))) || !label_ok(x, "name", 20))
                return bad(e, "steps", "审核环节需要 code 和名称", i);
            if (role == NULL || (strcmp(role, "community") != 0 && strcmp(role, "street") != 0))
                return bad(e, "steps", "审核环节的 role 应为 community 或 street", i);
            if (days < 1 || days > 365)
                return bad(e, "steps", "审核时限 days 应在 1 到 365 天之间", i);
        }
    }
    if ((v = json_object_get(body, "applicants"))) {
        if (!json_is_array(v) || json_array_size(v) == 0)
            return nx_fail(e, NX_EINVAL, "applicants", "申请人应为 self、proxy 的数组");
        json_array_foreach(v, i, x) {
            const char *s = json_string_value(x);
            if (s == NULL || (strcmp(s, "self") != 0 && strcmp(s, "proxy") != 0))
                return nx_fail(e, NX_EINVAL, "applicants", "申请人应为 self（本人）或 proxy（代办）");
        }
    }
    if ((v = json_object_get(body, "document")) && !json_is_null(v)) {
        if (!json_is_object(v) || !label_ok(v, "title", 30) || !json_is_string(json_object_get(v, "body")))
            return nx_fail(e, NX_EINVAL, "document", "证明文书需要 title 和 body");
    }
    if ((v = json_object_get(body, "effect")) && !json_is_null(v)) {
        const char *ef = json_string_value(v);
        if (!ef || !(strcmp(ef, "allowance") == 0 ||
                     (strncmp(ef, "tag:", 4) == 0 && strlen(ef) > 4 && strlen(ef) < 32)))
            return nx_fail(e, NX_EINVAL, "effect", "effect 只能是 allowance、tag:<标签代码> 或 null");
    }
    return 0;
}

static char *dump(json_t *v)
{
    return json_dumps(v, JSON_COMPACT);
}

int services_item_save(nx_app *app, const nx_principal *who, int64_t id, json_t *body, int64_t *out_id, nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权维护服务事项");
    static const char *const allowed[] = {"code", "name", "category", "description", "applicants", "form",
                                          "materials", "eligibility", "steps", "document", "effect", "active",
                                          "sort", "version", NULL};
    int rc;
    bool creating = id == 0;
    if ((rc = json_only(body, allowed, e)))
        return rc;
    const char *code = NULL, *name = NULL, *category = NULL, *description = NULL;
    int64_t sort = 0, version = 0;
    bool active = true, has_active = false;
    if ((rc = json_get_str(body, "code", id == 0, 40, &code, e)) < 0 ||
        (rc = json_get_str(body, "name", id == 0, 40, &name, e)) < 0 ||
        (rc = json_get_str(body, "category", false, 20, &category, e)) < 0 ||
        (rc = json_get_str(body, "description", false, 1000, &description, e)) < 0 ||
        (rc = json_get_int(body, "sort", false, 0, 100000, &sort, e)) < 0 ||
        (rc = json_get_version(body, &version, e)) < 0)
        return rc;
    if ((rc = json_get_bool(body, "active", false, &active, e)) < 0)
        return rc;
    has_active = rc == 0;
    if (code && !key_ok(code))
        return nx_fail(e, NX_EINVAL, "code", "代码只能由小写字母、数字和下划线组成");
    if (id == 0 && (!json_object_get(body, "form") || !json_object_get(body, "steps")))
        return nx_fail(e, NX_EINVAL, json_object_get(body, "form") ? "steps" : "form", "新事项需要表单和审核环节");
    if ((rc = check_definition(body, e)))
        return rc;

    char *js[6] = {0};
    static const char *const cols[6] = {"applicants", "form", "materials", "eligibility", "steps", "document"};
    for (int i = 0; i < 6; i++) {
        json_t *v = json_object_get(body, cols[i]);
        if (v && !json_is_null(v))
            js[i] = dump(v);
    }
    const char *effect = json_string_value(json_object_get(body, "effect"));
    bool clear_document = json_is_null_field(body, "document"), clear_effect = json_is_null_field(body, "effect");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        goto done;
    int64_t now = clock_now_ms();
    if (id == 0) {
        store_param p[] = {P_TEXT(code), P_TEXT(name), P_TEXT(category ? category : "general"),
                           P_TEXT(description ? description : ""), P_TEXT(js[0] ? js[0] : "[\"self\",\"proxy\"]"),
                           P_TEXT(js[1]), P_TEXT(js[2] ? js[2] : "[]"), P_TEXT(js[3] ? js[3] : "[]"), P_TEXT(js[4]),
                           P_TEXT(js[5]), P_TEXT(effect), P_INT(active ? 1 : 0), P_INT(sort), P_INT(now)};
        rc = store_one_int(tx,
                           "INSERT INTO service_items (code, name, category, description, applicants, form, materials, "
                           "eligibility, steps, document, effect, active, sort, version, created_at, updated_at) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14) RETURNING id",
                           p, 14, &id, e);
        if (rc == NX_ECONFLICT)
            nx_fail(e, NX_ECONFLICT, "code", "事项代码或名称已存在");
    } else {
        int64_t changes = 0;
        store_param p[] = {P_INT(id),
                           P_TEXT(code),
                           P_TEXT(name),
                           P_TEXT(category),
                           P_TEXT(description),
                           P_TEXT(js[0]),
                           P_TEXT(js[1]),
                           P_TEXT(js[2]),
                           P_TEXT(js[3]),
                           P_TEXT(js[4]),
                           P_TEXT(js[5]),
                           P_INT(clear_document ? 1 : 0),
                           P_TEXT(effect),
                           P_INT(clear_effect ? 1 : 0),
                           P_INT(has_active ? (active ? 1 : 0) : -1),
                           P_INT(json_object_get(body, "sort") ? sort : -1),
                           P_INT(version),
                           P_INT(now)};
        rc = store_exec(tx,
                        "UPDATE service_items SET code = COALESCE($2, code), name = COALESCE($3, name), "
                        "category = COALESCE($4, category), description = COALESCE($5, description), "
                        "applicants = COALESCE($6, applicants), form = COALESCE($7, form), "
                        "materials = COALESCE($8, materials), eligibility = COALESCE($9, eligibility), "
                        "steps = COALESCE($10, steps), "
                        "document = CASE WHEN $12 = 1 THEN NULL ELSE COALESCE($11, document) END, "
                        "effect = CASE WHEN $14 = 1 THEN NULL ELSE COALESCE($13, effect) END, "
                        "active = CASE WHEN $15 < 0 THEN active ELSE $15 END, "
                        "sort = CASE WHEN $16 < 0 THEN sort ELSE $16 END, version = version + 1, updated_at = $18 "
                        "WHERE id = $1 AND ($17 = 0 OR version = $17)",
                        p, 18, &changes, e);
        if (rc == NX_ECONFLICT)
            nx_fail(e, NX_ECONFLICT, "code", "事项代码或名称已存在");
        if (rc == 0 && changes == 0) {
            int64_t n = 0;
            store_param q[] = {P_INT(id)};
            rc = store_one_int(tx, "SELECT count(*) FROM service_items WHERE id = $1", q, 1, &n, e);
            if (rc == 0)
                rc = n ? nx_fail(e, NX_ECONFLICT, "version", "事项已被他人修改，请刷新后重试")
                       : nx_fail(e, NX_ENOTFOUND, "", "服务事项不存在");
        }
    }
    if (rc == 0) {
        json_t *fields = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) json_array_append_new(fields, json_string(k));
        rc = audit_write_new(tx, who, creating ? "create" : "update", "service_item", id, 0,
                             json_pack("{s:o}", "fields", fields), e);
    }
    if (rc) {
        store_rollback(tx);
        goto done;
    }
    rc = store_commit(tx, e);
    if (rc == 0 && out_id)
        *out_id = id;
done:
    for (int i = 0; i < 6; i++)
        free(js[i]);
    return rc;
}

/* ---- form values ---- */

static void problem(json_t *problems, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(json_t *problems, const char *key, const char *fmt, ...)
{
    char field[80], msg[320];
    snprintf(field, sizeof field, "form.%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(problems, json_pack("{s:s, s:s}", "field", field, "message", msg));
}

static json_t *schema_field(json_t *schema, const char *key)
{
    size_t i;
    json_t *f;
    json_array_foreach(schema, i, f) {
        const char *k = json_string_value(json_object_get(f, "key"));
        if (k && strcmp(k, key) == 0)
            return f;
    }
    return NULL;
}

static void check_value(json_t *f, json_t *v, nx_date today, json_t *problems)
{
    const char *key = json_string_value(json_object_get(f, "key"));
    const char *label = json_string_value(json_object_get(f, "label"));
    const char *type = json_string_value(json_object_get(f, "type"));
    char num[64];
    if (strcmp(type, "number") == 0) {
        if (!json_is_number(v)) {
            problem(problems, key, "“%s”应为数字", label);
            return;
        }
        double d = json_number_value(v);
        json_t *mn = json_object_get(f, "min"), *mx = json_object_get(f, "max");
        if (mn && d < json_number_value(mn)) {
            snprintf(num, sizeof num, "%g", json_number_value(mn));
            problem(problems, key, "“%s”不能小于 %s", label, num);
        } else if (mx && d > json_number_value(mx)) {
            snprintf(num, sizeof num, "%g", json_number_value(mx));
            problem(problems, key, "“%s”不能大于 %s", label, num);
        }
        return;
    }
    if (!json_is_string(v)) {
        problem(problems, key, "“%s”应为文字", label);
        return;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (!str_utf8_valid(s, n) || strlen(s) != n) {
        problem(problems, key, "“%s”含有无效字符", label);
        return;
    }
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 && *c != '\n') {
            problem(problems, key, "“%s”含有控制字符", label);
            return;
        }
    size_t chars = str_utf8_len(s);
    if (strcmp(type, "text") == 0) {
        json_t *mn = json_object_get(f, "min_len"), *mx = json_object_get(f, "max_len");
        size_t maxc = mx ? (size_t)json_number_value(mx) : 500;
        if (mn && chars < (size_t)json_number_value(mn)) {
            snprintf(num, sizeof num, "%g", json_number_value(mn));
            problem(problems, key, "“%s”至少 %s 个字", label, num);
        } else if (chars > maxc) {
            snprintf(num, sizeof num, "%zu", maxc);
            problem(problems, key, "“%s”最多 %s 个字", label, num);
        } else if (json_is_true(json_object_get(f, "digits"))) {
            for (const char *c = s; *c; c++)
                if (*c < '0' || *c > '9') {
                    problem(problems, key, "“%s”只能填写数字", label);
                    break;
                }
        }
    } else if (strcmp(type, "date") == 0) {
        nx_date d;
        if (date_parse(s, &d) != 0)
            problem(problems, key, "“%s”应为日期（年-月-日）", label);
        else if (json_is_true(json_object_get(f, "not_future")) && date_to_days(d) > date_to_days(today))
            problem(problems, key, "“%s”不能晚于今天", label);
    } else if (strcmp(type, "choice") == 0) {
        size_t i;
        json_t *o;
        bool found = false;
        json_array_foreach(json_object_get(f, "options"), i, o) if (json_is_string(o) &&
                                                                     strcmp(json_string_value(o), s) == 0) found =
            true;
        if (!found)
            problem(problems, key, "“%s”只能从给定选项中选择", label);
    } else if (strcmp(type, "id_number") == 0) {
        if (idcard_parse(s, NULL, NULL, NULL) != 0)
            problem(problems, key, "“%s”不是有效的身份证号码", label);
    } else if (strcmp(type, "phone") == 0) {
        char out[12];
        if (phone_parse_mobile(s, out, NULL) != 0)
            problem(problems, key, "“%s”不是有效的手机号码", label);
    }
}

int services_form_check(json_t *schema, json_t *values, bool complete, nx_date today, json_t *problems)
{
    size_t before = json_array_size(problems);
    if (values != NULL && !json_is_object(values)) {
        json_array_append_new(problems, json_pack("{s:s, s:s}", "field", "form", "message", "表单内容应为对象"));
        return 1;
    }
    const char *k;
    json_t *v;
    if (values) {
        json_object_foreach(values, k, v) {
            json_t *f = schema_field(schema, k);
            if (f == NULL) {
                char field[80], msg[160];
                snprintf(field, sizeof field, "form.%.60s", k);
                snprintf(msg, sizeof msg, "表单中没有“%.60s”这一项", k);
                json_array_append_new(problems, json_pack("{s:s, s:s}", "field", field, "message", msg));
            } else if (!json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0)) {
                check_value(f, v, today, problems);
            }
        }
    }
    if (complete) {
        size_t i;
        json_t *f;
        json_array_foreach(schema, i, f) {
            if (!json_is_true(json_object_get(f, "required")))
                continue;
            json_t *val = values ? json_object_get(values, json_string_value(json_object_get(f, "key"))) : NULL;
            bool blank = val == NULL || json_is_null(val) ||
                         (json_is_string(val) && str_utf8_len(json_string_value(val)) == 0);
            if (json_is_string(val) && !blank) {
                char tmp[64];
                str_copy(tmp, json_string_value(val), sizeof tmp);
                blank = str_trim(tmp)[0] == '\0';
            }
            if (blank)
                problem(problems, json_string_value(json_object_get(f, "key")), "请填写“%s”",
                        json_string_value(json_object_get(f, "label")));
        }
    }
    return (int)(json_array_size(problems) - before);
}

/* ---- residents and eligibility ---- */

static void rule_problem(json_t *problems, const char *rule, const char *msg)
{
    json_array_append_new(problems, json_pack("{s:s, s:s, s:s}", "field", "eligibility", "rule", rule, "message", msg));
}

/* A rule decided by a count (sql: SELECT count(*) …): it fails, with msg, when rows are found and
 * found_fails, or when none are and not. 0, or the read's error. */
static int count_rule(store_tx *tx, json_t *problems, const char *rule, const char *sql, const store_param *p, int n,
                      bool found_fails, const char *msg, nx_err *e)
{
    int64_t count = 0;
    int rc = store_one_int(tx, sql, p, n, &count, e);
    if (rc == 0 && (count > 0) == found_fails)
        rule_problem(problems, rule, msg);
    return rc;
}

int services_eligibility(store_tx *tx, const services_item *it, const services_person *p, int64_t exclude_app,
                         nx_date today, json_t *problems, nx_err *e)
{
    size_t before = json_array_size(problems);
    nx_date birth = {0};
    int age = date_parse(p->birth, &birth) == 0 ? date_age(birth, today) : -1;
    size_t i;
    json_t *r;
    char msg[320];
    json_array_foreach(it->eligibility, i, r) {
        const char *rule = json_string_value(json_object_get(r, "rule"));
        json_t *val = json_object_get(r, "value");
        if (rule == NULL)
            continue;
        if (strcmp(rule, "active") == 0) {
            if (strcmp(p->status, "active") != 0)
                rule_problem(problems, rule,
                             strcmp(p->status, "deceased") == 0 ? "申请人已故，不能申请" : "申请人已迁出本社区，不能申请");
        } else if (strcmp(rule, "age_min") == 0) {
            if (age < json_integer_value(val)) {
                snprintf(msg, sizeof msg, "年满 %lld 周岁方可申请（申请人现年 %d 周岁）", (long long)json_integer_value(val),
                         age);
                rule_problem(problems, rule, msg);
            }
        } else if (strcmp(rule, "age_max") == 0) {
            if (age > json_integer_value(val)) {
                snprintf(msg, sizeof msg, "仅限 %lld 周岁及以下（申请人现年 %d 周岁）", (long long)json_integer_value(val),
                         age);
                rule_problem(problems, rule, msg);
            }
        } else if (strcmp(rule, "residence") == 0) {
            bool ok = false;
            size_t j;
            json_t *x;
            json_array_foreach(val, j, x) if (json_is_string(x) && strcmp(json_string_value(x), p->residence) == 0) ok =
                true;
            if (!ok)
                rule_problem(problems, rule,
                             strcmp(p->residence, "registered") == 0 ? "户籍条件不符"
                                                                     : "仅限本社区户籍居民申请（申请人非本社区户籍）");
        } else if (strcmp(rule, "tag") == 0) {
            store_param a[] = {P_INT(p->id), P_TEXT(json_string_value(val))};
            snprintf(msg, sizeof msg, "申请人不具有“%.40s”身份标记，请先由社区核实登记", json_string_value(val));
            int rc = count_rule(tx, problems, rule,
                                "SELECT count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id "
                                "WHERE rt.resident_id = $1 AND t.code = $2",
                                a, 2, false, msg, e);
            if (rc)
                return rc;
        } else if (strcmp(rule, "not_receiving") == 0) {
            store_param a[] = {P_INT(p->id)};
            int rc = count_rule(tx, problems, rule,
                                "SELECT count(*) FROM allowance_recipients WHERE resident_id = $1 AND status = 'active'", a,
                                1, true, "申请人已在享受高龄津贴，无需重复申请", e);
            if (rc)
                return rc;
        } else if (strcmp(rule, "no_open_application") == 0) {
            store_param a[] = {P_INT(p->id), P_INT(it->id), P_INT(exclude_app)};
            int rc = count_rule(tx, problems, rule,
                                "SELECT count(*) FROM service_applications WHERE resident_id = $1 AND item_id = $2 "
                                "AND id <> $3 AND status IN ('in_review', 'returned')",
                                a, 3, true, "申请人已有一件同类申请正在办理中", e);
            if (rc)
                return rc;
        } else if (strcmp(rule, "volunteer_hours") == 0) {
            /* 志愿服务证明 certifies the approved ledger: nothing approved, nothing to certify */
            json_t *ledger = NULL;
            int rc = volunteers_hours_of(tx, 0, p->id, &ledger, e);
            if (rc && rc != NX_ENOTFOUND)
                return rc;
            if (rc == NX_ENOTFOUND)
                nx_err_clear(e);
            if (rc || json_integer_value(json_object_get(ledger, "minutes")) <= 0)
                rule_problem(problems, rule,
                             rc ? "申请人不是本社区登记的志愿者，没有可证明的志愿服务时长"
                                : "申请人还没有经组织方审核的志愿服务时长，暂不能申请志愿服务证明");
            json_decref(ledger);
        }
    }
    return (int)(json_array_size(problems) - before);
}
