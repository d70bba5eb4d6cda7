/* applications.c — applying for a service item: drafts, submission, materials, reading.
 *
 * Who: a resident or family member (self scope) applies for their own resident only; staff and
 * grid workers apply on behalf of a resident inside their scope (代办, recorded as proxy). Every
 * statement that reads or changes an application carries the caller's scope condition
 * (perm_scope_q on community_id / grid_id / resident_id), so an application outside it is "not
 * found", never "forbidden".
 *
 * The form values are stored encrypted as one JSON text (form_enc, context SERVICES_CTX_FORM) because items
 * ask for ID numbers and phones; responses mask id_number, phone and bank-account fields. Materials are files under
 * the upload store (store/upload.h: <data>/uploads, random names; the original name is kept only as
 * a label); their type is sniffed from the first bytes (PDF, JPEG, PNG), never taken from the
 * client. A file is written and fsync'ed before its row is inserted; if the transaction
 * fails the file is removed, so there are no rows without files (a crash between the two leaves at
 * most an orphan file). */
#include "modules/services/services_internal.h"

#include "base/log.h"
#include "base/str.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "store/upload.h"
#include "text/mask.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATERIALS_PER_KEY 5

static bool may_read(const nx_principal *who)
{
    return perm_has(who, RIGHT_SERVICE_APPLY) || perm_has(who, RIGHT_SERVICE_REVIEW);
}

static int encrypt_form(nx_app *app, json_t *form, unsigned char **ct, size_t *n, nx_err *e)
{
    char *text = json_dumps(form, JSON_COMPACT);
    if (text == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    int rc = field_encrypt_ad(app->keys, SERVICES_CTX_FORM, text, strlen(text), ct, n);
    sodium_memzero(text, strlen(text));
    free(text);
    return rc ? nx_fail(e, rc, "form", "表单内容无法保存") : 0;
}

/* Reply shape for form problems: NX_EINVAL with the first problem in e. */
static int problems_fail(json_t *problems, nx_err *e)
{
    json_t *first = json_array_get(problems, 0);
    return nx_fail(e, NX_EINVAL, json_string_value(json_object_get(first, "field")), "%s",
                   json_string_value(json_object_get(first, "message")));
}

static bool applicants_allow(const services_item *it, const char *who)
{
    size_t i;
    json_t *x;
    json_array_foreach(it->applicants, i, x) if (json_is_string(x) && strcmp(json_string_value(x), who) == 0) return true;
    return false;
}

/* Whom who applies for: their own resident (self scope; *resident_id 0 or that one) or, for staff, the
 * resident named (required). *self tells which. */
static int applicant_of(const nx_principal *who, int64_t *resident_id, bool *self, nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_APPLY))
        return nx_fail(e, NX_EPERM, "", "无权办理服务申请");
    *self = who->scope == SCOPE_SELF;
    if (*self) {
        if (who->resident_id == 0)
            return nx_fail(e, NX_EPERM, "", "账号未关联居民，不能申请");
        if (*resident_id && *resident_id != who->resident_id)
            return nx_fail(e, NX_EPERM, "resident_id", "只能为本人申请");
        *resident_id = who->resident_id;
    } else if (*resident_id == 0) {
        return nx_fail(e, NX_EINVAL, "resident_id", "代办申请需要指定居民");
    }
    return 0;
}

/* {"eligible", "reasons": [{"rule", "message"}]} of one loaded item for person: who may start it
 * (self or proxy) and the rules that do not depend on the form. */
static int eligibility_json(store_tx *tx, const services_item *it, const services_person *person, bool self,
                            json_t **out, nx_err *e)
{
    json_t *problems = json_array();
    if (!it->active)
        json_array_append_new(problems, json_pack("{s:s, s:s}", "rule", "active_item", "message", "该服务事项已停办"));
    else if (!applicants_allow(it, self ? "self" : "proxy"))
        json_array_append_new(problems, json_pack("{s:s, s:s}", "rule", "applicants", "message",
                                                  self ? "该事项须由社区工作人员代办，请联系社区" : "该事项须由本人申请"));
    int rc = services_eligibility(tx, it, person, 0, date_today(), problems, e);
    if (rc < 0) {
        json_decref(problems);
        return rc;
    }
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p) json_object_del(p, "field");
    *out = json_pack("{s:I, s:b, s:o}", "item_id", (json_int_t)it->id, "eligible", json_array_size(problems) == 0,
                     "reasons", problems);
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}

int services_eligibility_check(nx_app *app, const nx_principal *who, int64_t item_id, int64_t resident_id,
                               json_t *items, json_t **out, nx_err *e)
{
    bool self;
    int rc = applicant_of(who, &resident_id, &self, e);
    if (rc)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    services_person person;
    services_item it = {0};
    json_t *one = NULL;
    if ((rc = services_person_load(app, tx, resident_id, &person, e)))
        goto done;
    if (!self && !perm_covers(who, tx, person.community_id, person.grid_id)) {
        rc = nx_fail(e, NX_ENOTFOUND, "resident_id", "居民不存在");
        goto done;
    }
    if (items == NULL) {
        if ((rc = services_item_load(tx, item_id, &it, e)) || (rc = eligibility_json(tx, &it, &person, self, &one, e)))
            goto done;
        json_object_set_new(one, "resident_id", json_integer(resident_id));
        *out = one;
        goto done;
    }
    size_t i;
    json_t *x;
    json_array_foreach(items, i, x) {
        services_item_cleanup(&it);
        if ((rc = services_item_load(tx, json_integer_value(json_object_get(x, "id")), &it, e)) ||
            (rc = eligibility_json(tx, &it, &person, self, &one, e)))
            goto done;
        json_object_del(one, "item_id");
        json_object_set_new(x, "may_apply", one);
    }
done:
    services_item_cleanup(&it);
    store_rollback(tx);
    return rc;
}

int services_app_create(nx_app *app, const nx_principal *who, int64_t item_id, int64_t resident_id, json_t *form,
                        int64_t *id, nx_err *e)
{
    bool self;
    int rc = applicant_of(who, &resident_id, &self, e);
    if (rc)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    services_item it;
    services_person person;
    unsigned char *ct = NULL;
    size_t ctn = 0;
    json_t *problems = json_array(), *values = form ? json_incref(form) : json_object();
    if ((rc = services_item_load(tx, item_id, &it, e)))
        goto fail0;
    if (!it.active) {
        rc = nx_fail(e, NX_ENOTFOUND, "item_id", "服务事项不存在或已停办");
        goto fail;
    }
    if (!applicants_allow(&it, self ? "self" : "proxy")) {
        rc = nx_fail(e, NX_EPERM, "item_id", self ? "该事项须由社区工作人员代办" : "该事项须由本人申请");
        goto fail;
    }
    if ((rc = services_person_load(app, tx, resident_id, &person, e)))
        goto fail;
    if (!self && !perm_covers(who, tx, person.community_id, person.grid_id)) {
        rc = nx_fail(e, NX_ENOTFOUND, "resident_id", "居民不存在");
        goto fail;
    }
    /* A resident's own draft that could never be submitted (age, tags, already receiving …: the
     * rules do not depend on the form) is refused before it exists, with the reason; staff may still
     * start one on a resident's behalf, to see and explain the reason at submission. */
    if (self && (rc = services_eligibility(tx, &it, &person, 0, date_today(), problems, e)) != 0) {
        if (rc > 0)
            rc = problems_fail(problems, e);
        goto fail;
    }
    if (services_form_check(it.form, values, false, date_today(), problems) > 0) {
        rc = problems_fail(problems, e);
        goto fail;
    }
    if ((rc = encrypt_form(app, values, &ct, &ctn, e)))
        goto fail;
    int64_t now = clock_now_ms(), seq;
    nx_date today = date_today();
    char counter[32], serial[40];
    snprintf(counter, sizeof counter, "application:%04d%02d%02d", today.y, today.m, today.d);
    if ((rc = services_counter_next(tx, counter, &seq, e)))
        goto fail;
    snprintf(serial, sizeof serial, "FW%04d%02d%02d%04lld", today.y, today.m, today.d, (long long)seq);
    store_param p[] = {P_TEXT(serial),       P_INT(item_id),       P_INT(person.community_id),
                       P_ID(person.grid_id), P_INT(resident_id),   P_ID(who->user_id),
                       P_INT(self ? 0 : 1),  P_BLOB(ct, ctn),      P_INT(now)};
    if ((rc = store_one_int(
             tx,
             "INSERT INTO service_applications (serial, item_id, community_id, grid_id, resident_id, "
             "created_by, proxy, status, form_enc, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
             "$6, $7, 'draft', $8, $9, $9) RETURNING id",
             p, 9, id, e)) ||
        (rc = services_timeline(tx, who, *id, person.community_id, self ? "created" : "created_proxy", NULL,
                                "draft", NULL, NULL, e)))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "service_application", *id, person.community_id,
                              json_pack("{s:s, s:I, s:b}", "item", it.code, "resident_id",
                                        (json_int_t)resident_id, "proxy", !self),
                              e)))
        goto fail;
    services_item_cleanup(&it);
    json_decref(problems);
    json_decref(values);
    free(ct);
    return store_commit(tx, e);
fail:
    services_item_cleanup(&it);
fail0:
    json_decref(problems);
    json_decref(values);
    free(ct);
    store_rollback(tx);
    return rc;
}

static void keep_masked(const services_item *it, json_t *stored, json_t *form);

int services_app_update(nx_app *app, const nx_principal *who, int64_t id, json_t *form, int64_t version, nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_APPLY))
        return nx_fail(e, NX_EPERM, "", "无权修改服务申请");
    if (!json_is_object(form))
        return nx_fail(e, NX_EINVAL, "form", "表单内容应为对象");
    services_app_tx o;
    unsigned char *ct = NULL;
    size_t ctn = 0;
    json_t *problems = json_array();
    bool owned = false; /* form is our copy (freed on the way out) */
    int rc;
    if ((rc = services_app_open(app, who, id, STORE_WRITE, true, &o, e)) ||
        (rc = services_app_editable(&o.a, "申请已提交，", "修改", e)))
        goto done;
    if (version && version != o.a.version) {
        rc = nx_fail(e, NX_ECONFLICT, "version", "申请已被修改，请刷新后重试");
        goto done;
    }
    /* The form came back as it was shown: an ID number or phone left as its masked form means "keep
     * the stored value" (the applicant correcting a returned application need not type them again). */
    form = json_deep_copy(form);
    owned = true;
    keep_masked(&o.it, o.a.form, form);
    if (services_form_check(o.it.form, form, false, date_today(), problems) > 0) {
        rc = problems_fail(problems, e);
        goto done;
    }
    if ((rc = encrypt_form(app, form, &ct, &ctn, e)))
        goto done;
    store_param p[] = {P_INT(id), P_BLOB(ct, ctn), P_INT(clock_now_ms())};
    if ((rc = store_exec(
             o.tx,
             "UPDATE service_applications SET form_enc = $2, version = version + 1, updated_at = $3 "
             "WHERE id = $1",
             p, 3, NULL, e)) ||
        (rc = services_timeline(o.tx, who, id, o.a.community_id, "updated", o.a.status, o.a.status, NULL, NULL, e)))
        goto done;
    json_t *fields = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(form, k, v) json_array_append_new(fields, json_string(k));
    if ((rc = audit_write_new(o.tx, who, "update", "service_application", id, o.a.community_id,
                              json_pack("{s:o}", "fields", fields), e)))
        goto done;
done:
    json_decref(problems);
    if (owned)
        json_decref(form);
    free(ct);
    return services_app_close(&o, rc, e);
}

/* Materials of the application per key that are present (not removed). */
static int materials_missing(store_tx *tx, const services_item *it, int64_t app_id, json_t *problems,
                             nx_err *e)
{
    size_t i;
    json_t *m;
    json_array_foreach(it->materials, i, m) {
        if (!json_is_true(json_object_get(m, "required")))
            continue;
        int64_t n = 0;
        store_param p[] = {P_INT(app_id), P_TEXT(json_string_value(json_object_get(m, "key")))};
        int rc = store_one_int(tx,
                               "SELECT count(*) FROM service_materials WHERE application_id = $1 AND material_key = $2 "
                               "AND removed_at IS NULL",
                               p, 2, &n, e);
        if (rc)
            return rc;
        if (n == 0) {
            char field[80], msg[200];
            snprintf(field, sizeof field, "materials.%s", json_string_value(json_object_get(m, "key")));
            snprintf(msg, sizeof msg, "请上传“%s”", json_string_value(json_object_get(m, "label")));
            json_array_append_new(problems, json_pack("{s:s, s:s}", "field", field, "message", msg));
        }
    }
    return 0;
}

int services_app_submit(nx_app *app, const nx_principal *who, int64_t id, json_t **problems_out, nx_err *e)
{
    if (problems_out)
        *problems_out = NULL;
    if (!perm_has(who, RIGHT_SERVICE_APPLY))
        return nx_fail(e, NX_EPERM, "", "无权提交服务申请");
    services_app_tx o;
    services_person person;
    json_t *problems = json_array();
    int64_t now = clock_now_ms();
    nx_date today = date_today();
    int rc;
    if ((rc = services_app_open(app, who, id, STORE_WRITE, true, &o, e)) ||
        (rc = services_person_load(app, o.tx, o.a.resident_id, &person, e)) ||
        (rc = services_app_editable(&o.a, "申请", "提交", e)))
        goto done;
    if (!o.it.active) {
        rc = nx_fail(e, NX_ECONFLICT, "item_id", "该服务事项已停办");
        goto done;
    }
    services_form_check(o.it.form, o.a.form, true, today, problems);
    if ((rc = materials_missing(o.tx, &o.it, id, problems, e)))
        goto done;
    rc = services_eligibility(o.tx, &o.it, &person, id, today, problems, e);
    if (rc < 0)
        goto done;
    if (json_array_size(problems) > 0) {
        rc = problems_fail(problems, e);
        if (problems_out) {
            *problems_out = problems;
            problems = NULL;
        }
        goto done;
    }
    const char *step_code = services_step_str(&o.it, 0, "code"), *role = services_step_str(&o.it, 0, "role");
    int64_t due = now + (int64_t)services_step_days(&o.it, 0) * SERVICES_DAY_MS;
    store_param p[] = {P_INT(id), P_TEXT(step_code), P_TEXT(role), P_INT(due), P_INT(now)};
    bool resubmit = strcmp(o.a.status, "returned") == 0;
    if ((rc = store_exec(o.tx,
                         "UPDATE service_applications SET status = 'in_review', step = 0, step_code = $2, "
                         "step_role = $3, "
                         "due_at = $4, escalated_at = NULL, submitted_at = $5, correction = NULL, "
                         "version = version + 1, updated_at = $5 WHERE id = $1",
                         p, 5, NULL, e)) ||
        (rc = services_timeline(o.tx, who, id, o.a.community_id, resubmit ? "resubmitted" : "submitted", o.a.status,
                                "in_review", step_code, NULL, e)))
        goto done;
    o.a.step = 0;
    str_copy(o.a.step_role, role ? role : "", sizeof o.a.step_role);
    if ((rc = audit_write(o.tx, who, resubmit ? "resubmit" : "submit", "service_application", id,
                          o.a.community_id, NULL, e)) ||
        (rc = services_emit(o.tx, SERVICES_EV_APPLICATION_SUBMITTED, &o.a, &o.it, "in_review", NULL, e)))
        goto done;
done:
    json_decref(problems);
    return services_app_close(&o, rc, e);
}

int services_app_withdraw(nx_app *app, const nx_principal *who, int64_t id, const char *note, nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_APPLY))
        return nx_fail(e, NX_EPERM, "", "无权撤回服务申请");
    services_app_tx o;
    int rc;
    if ((rc = services_app_open(app, who, id, STORE_WRITE, false, &o, e)))
        goto done;
    if (strcmp(o.a.status, "draft") != 0 && strcmp(o.a.status, "returned") != 0 && strcmp(o.a.status, "in_review") != 0) {
        rc =
            nx_fail(e, NX_ECONFLICT, "status", "申请已办结（%s），不能撤回", services_status_label(o.a.status));
        goto done;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(id), P_INT(now)};
    if ((rc = store_exec(
             o.tx,
             "UPDATE service_applications SET status = 'withdrawn', due_at = NULL, decided_at = $2, "
             "version = version + 1, updated_at = $2 WHERE id = $1",
             p, 2, NULL, e)) ||
        (rc = services_timeline(o.tx, who, id, o.a.community_id, "withdrawn", o.a.status, "withdrawn", NULL, note,
                                e)) ||
        (rc = audit_write(o.tx, who, "withdraw", "service_application", id, o.a.community_id, NULL, e)) ||
        (rc = services_emit(o.tx, SERVICES_EV_APPLICATION_WITHDRAWN, &o.a, NULL, "withdrawn", NULL, e)))
        goto done;
done:
    return services_app_close(&o, rc, e);
}

/* ---- reading ---- */

static const char *due_state(const services_app_row *a, int64_t now)
{
    if (strcmp(a->status, "in_review") != 0 || a->due_at == 0)
        return "none";
    if (now > a->due_at)
        return "overdue";
    if (a->due_at - now <= SERVICES_DAY_MS)
        return "due_soon";
    return "on_time";
}

static json_t *masked_form(const services_item *it, json_t *form)
{
    json_t *o = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(form, k, v) {
        size_t i;
        json_t *f;
        const char *type = "";
        json_array_foreach(it->form, i, f) if (strcmp(json_string_value(json_object_get(f, "key")), k) == 0) type =
            json_string_value(json_object_get(f, "type"));
        char buf[200];
        if (json_is_string(v) && strcmp(type, "id_number") == 0) {
            mask_id(json_string_value(v), buf, sizeof buf);
            json_object_set_new(o, k, json_string(buf));
        } else if (json_is_string(v) && strcmp(type, "phone") == 0) {
            mask_phone(json_string_value(v), buf, sizeof buf);
            json_object_set_new(o, k, json_string(buf));
        } else if (json_is_string(v) && services_field_is_account(k, type)) {
            services_mask_account(json_string_value(v), buf, sizeof buf);
            json_object_set_new(o, k, json_string(buf));
        } else {
            json_object_set(o, k, v);
        }
    }
    return o;
}

/* For each ID-number, phone or bank-account field of form whose value is exactly the masked form of the stored
 * value (what the application showed), put the stored value back. */
static void keep_masked(const services_item *it, json_t *stored, json_t *form)
{
    if (!json_is_object(stored))
        return;
    json_t *shown = masked_form(it, stored);
    const char *k;
    json_t *v;
    json_object_foreach(form, k, v) {
        json_t *old = json_object_get(stored, k), *m = json_object_get(shown, k);
        if (json_is_string(v) && json_is_string(old) && json_is_string(m) && !json_equal(m, old) && json_equal(v, m))
            json_object_set(form, k, old);
    }
    json_decref(shown);
}

static void time_or_null(json_t *o, const char *key, int64_t ms)
{
    if (ms == 0) {
        json_object_set_new(o, key, json_null());
        return;
    }
    char t[30];
    clock_format_local(ms, t);
    json_object_set_new(o, key, json_string(t));
}

static json_t *app_json(const services_app_row *a, const char *item_name, const char *resident_name,
                        const char *step_name, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "serial", json_string(a->serial));
    json_object_set_new(o, "item_id", json_integer(a->item_id));
    json_object_set_new(o, "item_name", services_json_str(item_name));
    json_object_set_new(o, "community_id", json_integer(a->community_id));
    json_object_set_new(o, "resident_id", json_integer(a->resident_id));
    char masked[64] = "";
    if (resident_name)
        mask_name(resident_name, masked, sizeof masked);
    json_object_set_new(o, "resident_name", json_string(masked));
    json_object_set_new(o, "proxy", json_boolean(a->proxy));
    json_object_set_new(o, "status", json_string(a->status));
    json_object_set_new(o, "status_label", json_string(services_status_label(a->status)));
    bool in_review = strcmp(a->status, "in_review") == 0;
    json_object_set_new(o, "step", in_review ? json_integer(a->step) : json_null());
    json_object_set_new(o, "step_code", in_review ? json_string(a->step_code) : json_null());
    json_object_set_new(o, "step_name", in_review && step_name ? json_string(step_name) : json_null());
    json_object_set_new(o, "step_role", in_review ? json_string(a->step_role) : json_null());
    json_object_set_new(o, "due_state", json_string(due_state(a, now)));
    time_or_null(o, "due_at", in_review ? a->due_at : 0);
    json_object_set_new(o, "escalated", json_boolean(in_review && a->escalated_at != 0));
    json_object_set_new(o, "correction", a->correction[0] ? json_string(a->correction) : json_null());
    json_object_set_new(o, "reason", a->reason[0] ? json_string(a->reason) : json_null());
    time_or_null(o, "submitted_at", a->submitted_at);
    time_or_null(o, "decided_at", a->decided_at);
    time_or_null(o, "created_at", a->created_at);
    time_or_null(o, "updated_at", a->updated_at);
    json_object_set_new(o, "version", json_integer(a->version));
    return o;
}

/* The sub-lists of one application, each read in the application's own transaction: every row of
 * sql (whose one parameter $1 is the application's id) through row (with ctx) into the array *out. */
static int app_items(store_tx *tx, const char *sql, int64_t id, json_t *(*row)(store_rows *, void *),
                     void *ctx, json_t **out, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, sql);
    sqlq_param(&q, P_INT(id));
    store_page_spec s = {.row_ctx = row, .ctx = ctx};
    return store_items(tx, &q, &s, out, e);
}

typedef struct {
    nx_app *app;
    int64_t id;
} doc_ctx;

/* A document with its verification code; "revoked" says whether revoked_at is set. */
static json_t *document_row(store_rows *r, void *ctx)
{
    const doc_ctx *c = ctx;
    char code[64];
    services_document_code(c->app->keys, store_int(r, 0), store_text(r, 3), c->id, store_text(r, 1), code,
                           sizeof code);
    json_t *d = store_json_row(r, "id:i kind:t title:t serial:t");
    if (d) {
        json_object_set_new(d, "verify_code", json_string(code));
        json_object_set_new(d, "revoked", json_boolean(!store_isnull(r, 5)));
        store_json_set(d, "issued_at", store_json_time, r, 4);
    }
    return d;
}

int services_app_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看服务申请");
    services_app_tx x;
    services_person person;
    json_t *o = NULL, *m = NULL, *t = NULL, *d = NULL;
    int rc;
    if ((rc = services_app_open(app, who, id, STORE_READ, true, &x, e)) ||
        (rc = services_person_load(app, x.tx, x.a.resident_id, &person, e)) ||
        (rc = app_items(
             x.tx,
             "SELECT id, material_key, filename, content_type, size, created_at FROM service_materials "
             "WHERE application_id = $1 AND removed_at IS NULL ORDER BY id",
             id, store_json_row_ctx, "id:i key:t filename:t content_type:t size:i uploaded_at:d", &m, e)) ||
        (rc = app_items(
             x.tx,
             "SELECT t.id, t.at, COALESCE(u.display_name, t.username), t.action, t.from_status, "
             "t.to_status, t.step_code, t.note FROM service_timeline t LEFT JOIN users u ON u.id = t.user_id "
             "WHERE t.application_id = $1 ORDER BY t.id",
             id, store_json_row_ctx, "id:i at:d by:t action:t from_status:t to_status:t step_code:t note:t",
             &t, e)) ||
        (rc = app_items(x.tx,
                        "SELECT id, kind, title, serial, issued_at, revoked_at FROM service_documents "
                        "WHERE application_id = $1 ORDER BY id",
                        id, document_row, &(doc_ctx){app, id}, &d, e)))
        goto done;
    o = app_json(&x.a, x.it.name, person.name, services_step_str(&x.it, x.a.step, "name"), clock_now_ms());
    json_object_set_new(o, "resident", json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)person.id, "name",
                                                 person.name, "sex", person.sex, "id_number", person.id_masked,
                                                 "community_name", person.community_name));
    json_object_set_new(o, "form", masked_form(&x.it, x.a.form));
    json_object_set_new(o, "materials", m);
    json_object_set_new(o, "timeline", t);
    json_object_set_new(o, "documents", d);
    m = t = d = NULL;
    json_object_set_new(o, "item", json_pack("{s:I, s:s, s:s, s:O, s:O, s:O}", "id", (json_int_t)x.it.id, "code", x.it.code,
                                             "name", x.it.name, "steps", x.it.steps, "form", x.it.form, "materials",
                                             x.it.materials));
    bool editable = strcmp(x.a.status, "draft") == 0 || strcmp(x.a.status, "returned") == 0;
    json_object_set_new(o, "can_edit", json_boolean(editable && perm_has(who, RIGHT_SERVICE_APPLY)));
    bool can_review = strcmp(x.a.status, "in_review") == 0 && perm_has(who, RIGHT_SERVICE_REVIEW) &&
                      (who->role == ROLE_ADMIN || (strcmp(x.a.step_role, "community") == 0 && who->role == ROLE_STAFF) ||
                       (strcmp(x.a.step_role, "street") == 0 && who->role == ROLE_STREET));
    json_object_set_new(o, "can_review", json_boolean(can_review));
done:
    json_decref(m);
    json_decref(t);
    json_decref(d);
    rc = services_app_close(&x, rc, e);
    if (rc == 0)
        *out = o;
    return rc;
}

/* The conditions of a list query: the filters asked for, then the caller's scope. */
static void app_filters(sqlq *q, const nx_principal *who, const services_query *f, int64_t now)
{
    sqlq_eq_int(q, "a.item_id", f->item_id);
    sqlq_eq_int(q, "a.resident_id", f->resident_id);
    sqlq_eq_int(q, "a.community_id", f->community_id);
    sqlq_eq_text(q, "a.status", f->status);
    sqlq_eq_text(q, "a.step_code", f->step);
    if (f->queue) {
        sqlq_sql(q, " AND a.status = 'in_review'");
        if (who->role == ROLE_STAFF)
            sqlq_add(q, " AND a.step_role = $%d", P_TEXT("community"));
        else if (who->role == ROLE_STREET)
            sqlq_add(q, " AND a.step_role = $%d", P_TEXT("street"));
        else if (who->role != ROLE_ADMIN)
            sqlq_sql(q, " AND 1 = 0");
    }
    if (f->overdue) {
        sqlq_sql(q, " AND a.status = 'in_review'");
        sqlq_add(q, " AND a.due_at < $%d", P_INT(now));
    }
    perm_scope_q(who, "a.", "resident_id", q);
}

typedef struct list_ctx {
    nx_app *app;
    int64_t now;
} list_ctx;

static json_t *app_list_row(store_rows *r, void *ctx)
{
    list_ctx *c = ctx;
    services_app_row a;
    services_app_row_fill(c->app, r, &a);
    json_t *steps = json_loads(store_text(r, 24), 0, NULL);
    const char *step_name = json_string_value(json_object_get(json_array_get(steps, (size_t)a.step), "name"));
    json_t *o = app_json(&a, store_text(r, 22), store_text(r, 23), step_name, c->now);
    json_decref(steps);
    services_app_row_cleanup(&a);
    return o;
}

int services_app_list(nx_app *app, const nx_principal *who, const services_query *f, json_t **out, nx_err *e)
{
    if (!may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看服务申请");
    int64_t before = 0, now = clock_now_ms();
    if (f->cursor && f->cursor[0] && str_to_i64(f->cursor, 1, INT64_MAX, &before) != 0)
        return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
#define FROM                                                                                       \
    " FROM service_applications a JOIN service_items i ON i.id = a.item_id JOIN residents r ON r.id = a.resident_id " \
    "WHERE 1 = 1"
    sqlq count, q;
    sqlq_init(&count, "SELECT COUNT(*)" FROM);
    app_filters(&count, who, f, now);
    sqlq_init(&q, "SELECT a.id, a.item_id, a.community_id, a.grid_id, a.resident_id, a.created_by, a.due_at, "
                  "a.submitted_at, a.decided_at, a.created_at, a.updated_at, a.escalated_at, a.version, a.proxy, a.step, "
                  "a.status, a.step_code, a.step_role, a.serial, a.correction, a.reason, a.form_enc, i.name, r.name, "
                  "i.steps" FROM);
#undef FROM
    app_filters(&q, who, f, now);
    if (before)
        sqlq_add(&q, " AND a.id < $%d", P_INT(before));
    sqlq_sql(&q, " ORDER BY a.id DESC");
    list_ctx c = {app, now};
    store_page_spec spec = {
        .limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row_ctx = app_list_row, .ctx = &c};
    return store_page_read(app->db, &q, &spec, out, e);
}

/* ---- materials ---- */

int services_material_add(nx_app *app, const nx_principal *who, int64_t id, const char *key, const char *filename,
                          const void *data, size_t n, int64_t *material_id, nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_APPLY))
        return nx_fail(e, NX_EPERM, "", "无权上传材料");
    if (key == NULL || key[0] == '\0')
        return nx_fail(e, NX_EINVAL, "key", "请指定材料项（key）");
    if (filename == NULL || filename[0] == '\0')
        filename = "upload";
    if (!str_utf8_valid(filename, strlen(filename)) || str_utf8_len(filename) > 100)
        return nx_fail(e, NX_EINVAL, "filename", "文件名无效或过长（最多 100 字）");
    for (const unsigned char *c = (const unsigned char *)filename; *c; c++)
        if (*c < 0x20 || *c == '/' || *c == '\\')
            return nx_fail(e, NX_EINVAL, "filename", "文件名含有不允许的字符");
    if (n == 0)
        return nx_fail(e, NX_EINVAL, "file", "上传的文件为空");
    char name[UPLOAD_NAME_MAX] = "";
    unsigned char *clean = NULL;
    size_t clean_n = 0;
    int rc;
    services_app_tx o;
    if ((rc = services_app_open(app, who, id, STORE_WRITE, true, &o, e)) ||
        (rc = services_app_editable(&o.a, "申请", "上传材料", e)))
        goto done;
    json_t *def = NULL, *m;
    size_t i;
    json_array_foreach(o.it.materials, i, m) if (strcmp(json_string_value(json_object_get(m, "key")), key) == 0) def = m;
    if (def == NULL) {
        rc = nx_fail(e, NX_EINVAL, "key", "该事项没有“%.40s”这项材料", key);
        goto done;
    }
    const char *label = json_string_value(json_object_get(def, "label"));
    int64_t max = (int64_t)json_integer_value(json_object_get(def, "max_kb")) * 1024;
    if ((int64_t)n > max) {
        rc = nx_fail(e, NX_ETOOBIG, "file", "“%s”文件过大：%.1f MB，最大 %.1f MB", label, (double)n / 1048576.0,
                     (double)max / 1048576.0);
        goto done;
    }
    const upload_type *type = upload_sniff(data, n, UPLOAD_PDF | UPLOAD_JPEG | UPLOAD_PNG);
    const char *kind = type ? type->kind : NULL;
    bool allowed = false;
    json_t *t;
    json_array_foreach(json_object_get(def, "types"), i, t) if (kind && strcmp(json_string_value(t), kind) == 0) allowed =
        true;
    if (!allowed) {
        char list[64] = "";
        json_array_foreach(json_object_get(def, "types"), i, t) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", l ? "、" : "", json_string_value(t));
        }
        rc = nx_fail(e, NX_EUNSUPP, "file", "“%s”只接受 %s 文件，上传的文件%s", label, list,
                     kind ? "类型不符" : "不是可识别的 PDF 或图片");
        goto done;
    }
    /* the structure is walked and metadata (a photo's EXIF GPS position) dropped before storing */
    if ((rc = upload_clean(type, data, n, &clean, &clean_n, e)))
        goto done;
    int64_t count = 0;
    store_param cp[] = {P_INT(id), P_TEXT(key)};
    if ((rc = store_one_int(o.tx,
                            "SELECT count(*) FROM service_materials WHERE application_id = $1 AND material_key = $2 "
                            "AND removed_at IS NULL",
                            cp, 2, &count, e)))
        goto done;
    if (count >= MATERIALS_PER_KEY) {
        rc = nx_fail(e, NX_ECONFLICT, "key", "“%s”最多上传 %d 个文件", label, MATERIALS_PER_KEY);
        goto done;
    }
    if ((rc = upload_save(app->cfg->data_dir, app->keys, clean, clean_n, (size_t)max, NULL, name, e)))
        goto done;
    store_param p[] = {P_INT(id),       P_INT(o.a.community_id), P_TEXT(key),          P_TEXT(filename),
                       P_TEXT(type->mime), P_INT((int64_t)clean_n), P_TEXT(name), P_ID(who->user_id),
                       P_INT(clock_now_ms())};
    if ((rc = store_one_int(
             o.tx,
             "INSERT INTO service_materials (application_id, community_id, material_key, filename, "
             "content_type, size, stored_name, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, "
             "$7, $8, $9) RETURNING id",
             p, 9, material_id, e)) ||
        (rc = services_timeline(o.tx, who, id, o.a.community_id, "material_added", o.a.status, o.a.status, NULL,
                                label, e)))
        goto done;
    if ((rc = audit_write_new(o.tx, who, "upload", "service_application", id, o.a.community_id,
                              json_pack("{s:s, s:s, s:I}", "key", key, "type", kind, "size", (json_int_t)clean_n),
                              e)))
        goto done;
done:
    upload_free(clean, clean_n);
    if ((rc = services_app_close(&o, rc, e)))
        upload_remove(app->cfg->data_dir, name);
    return rc;
}

int services_material_remove(nx_app *app, const nx_principal *who, int64_t id, int64_t material_id, nx_err *e)
{
    if (!perm_has(who, RIGHT_SERVICE_APPLY))
        return nx_fail(e, NX_EPERM, "", "无权删除材料");
    services_app_tx o;
    int rc;
    if ((rc = services_app_open(app, who, id, STORE_WRITE, false, &o, e)) ||
        (rc = services_app_editable(&o.a, "申请", "删除材料", e)))
        goto done;
    int64_t changes = 0;
    store_param p[] = {P_INT(material_id), P_INT(id), P_INT(clock_now_ms())};
    if ((rc = store_exec(o.tx,
                         "UPDATE service_materials SET removed_at = $3 WHERE id = $1 AND application_id = $2 "
                         "AND removed_at IS NULL",
                         p, 3, &changes, e)))
        goto done;
    if (changes == 0) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "材料不存在");
        goto done;
    }
    if ((rc = services_timeline(o.tx, who, id, o.a.community_id, "material_removed", o.a.status, o.a.status, NULL,
                                NULL, e)) ||
        (rc = audit_write(o.tx, who, "remove_material", "service_application", id, o.a.community_id, NULL, e)))
        goto done;
done:
    return services_app_close(&o, rc, e);
}

int services_material_read(nx_app *app, const nx_principal *who, int64_t id, int64_t material_id,
                           unsigned char **data, size_t *size, char *content_type, size_t ct_cap, nx_err *e)
{
    *data = NULL;
    *size = 0;
    if (!may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看材料");
    services_app_tx o;
    char name[64] = "", key[64] = "";
    int rc;
    if ((rc = services_app_open(app, who, id, STORE_WRITE, false, &o, e)))
        goto done;
    store_rows *r;
    store_param p[] = {P_INT(material_id), P_INT(id)};
    if ((rc = store_query(o.tx,
                          "SELECT stored_name, content_type, material_key FROM service_materials WHERE id = $1 "
                          "AND application_id = $2 AND removed_at IS NULL",
                          p, 2, &r, e)))
        goto done;
    if ((rc = store_first(r, "材料不存在", e)) == 0) {
        str_copy(name, store_text(r, 0), sizeof name);
        str_copy(content_type, store_text(r, 1), ct_cap);
        str_copy(key, store_text(r, 2), sizeof key);
    }
    store_rows_free(r);
    if (rc)
        goto done;
    if (upload_read(app->cfg->data_dir, app->keys, name, (size_t)app->cfg->max_upload, data, size) != 0) {
        nx_log(LOG_WARN, "services.material_unreadable material=%lld errno=%d", (long long)material_id, errno);
        rc = errno == EBADMSG ? nx_fail(e, NX_EIO, "", "材料文件无法解密（已损坏或密钥文件不符）")
                              : nx_fail(e, NX_EIO, "", "材料文件丢失");
        goto done;
    }
    /* a scan of an ID card or a household register leaving the system: who, which, when */
    if ((rc = audit_write_new(o.tx, who, "download", "service_application", id, o.a.community_id,
                              json_pack("{s:I, s:s}", "material_id", (json_int_t)material_id, "key", key), e)))
        goto done;
done:
    if ((rc = services_app_close(&o, rc, e))) {
        upload_free(*data, *size);
        *data = NULL;
        *size = 0;
    }
    return rc;
}
