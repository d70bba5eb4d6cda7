/* services_common.c — the helpers every file of the services module shares (services_internal.h):
 * the time line row, named counters, the outbox event (what the message service turns into the inbox
 * messages of the applicant and of the reviewers), the status labels, the
 * facts about a resident that the rules and documents read, one application loaded in the caller's
 * scope (the applicant's form decrypted), and the local calendar date of a time.
 *
 * Each writing helper runs inside the caller's write transaction and fails with it: a change to an
 * application, its time line row and its event are committed together or not at
 * all. The resident's ID number is decrypted only to be masked (never returned or logged) and the
 * plain text is wiped before it is freed. */
#include "modules/services/services_internal.h"

#include "base/str.h"
#include "modules/people/people.h"
#include "notify/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *services_json_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

const char *services_status_label(const char *s)
{
    static const char *const map[][2] = {{"draft", "草稿"},        {"in_review", "审核中"},
                                         {"returned", "退回补正"}, {"approved", "已办结"},
                                         {"rejected", "不予受理"}, {"withdrawn", "已撤回"}};
    const char *l = STR_LABEL(map, s);
    return l ? l : s ? s : "";
}

int services_timeline(store_tx *tx, const nx_principal *who, int64_t app_id, int64_t community,
                      const char *action, const char *from, const char *to, const char *step,
                      const char *note, nx_err *e)
{
    store_param p[] = {P_INT(app_id),
                       P_INT(community),
                       P_INT(clock_now_ms()),
                       P_ID(who ? who->user_id : 0),
                       P_TEXT(who && who->username ? who->username : "系统"),
                       P_TEXT(action),
                       P_TEXT(from),
                       P_TEXT(to),
                       P_TEXT(step),
                       P_TEXT(note)};
    return app_insert(tx, "service_timeline",
                      "application_id, community_id, at, user_id, username, action, from_status, "
                      "to_status, step_code, note",
                      p, 10, NULL, e);
}

int services_counter_next(store_tx *tx, const char *name, int64_t *out, nx_err *e)
{
    store_param p[] = {P_TEXT(name)};
    return store_one_int(
        tx,
        "INSERT INTO service_counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE "
        "SET value = service_counters.value + 1 RETURNING value",
        p, 1, out, e);
}

int services_emit(store_tx *tx, const char *kind, const services_app_row *a, const services_item *it,
                  const char *status, json_t *more, nx_err *e)
{
    const char *step_name = it ? services_step_str(it, a->step, "name") : NULL;
    json_t *p = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "application_id", (json_int_t)a->id, "resident_id",
                          (json_int_t)a->resident_id, "status", status ? status : "", "serial", a->serial, "title",
                          it ? it->name : "", "step_name", step_name ? step_name : "", "step_role",
                          a->step_role);
    if (p && more && json_object_update(p, more) != 0) {
        json_decref(p);
        p = NULL;
    }
    json_decref(more);
    return outbox_emit_new(tx, kind, a->community_id, "application", a->id, p, e);
}

int services_person_load(nx_app *app, store_tx *tx, int64_t resident_id, services_person *p, nx_err *e)
{
    memset(p, 0, sizeof *p);
    store_rows *r;
    store_param a[] = {P_INT(resident_id)};
    int rc =
        store_query(tx,
                    "SELECT r.id, r.community_id, r.grid_id, c.street_id, r.name, r.sex, r.birth_date, "
                    "r.residence, r.status, r.id_enc, c.name FROM residents r JOIN communities c ON c.id = "
                    "r.community_id WHERE r.id = $1",
                    a, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "居民不存在", e))) {
        store_rows_free(r);
        if (rc == NX_ENOTFOUND)
            nx_fail(e, NX_ENOTFOUND, "resident_id", "居民不存在");
        return rc;
    }
    p->id = store_int(r, 0);
    p->community_id = store_int(r, 1);
    p->grid_id = store_int(r, 2);
    p->street_id = store_int(r, 3);
    str_copy(p->name, store_text(r, 4), sizeof p->name);
    str_copy(p->sex, store_int(r, 5) == 1 ? "男" : "女", sizeof p->sex);
    str_copy(p->birth, store_text(r, 6), sizeof p->birth);
    str_copy(p->residence, store_text(r, 7), sizeof p->residence);
    str_copy(p->status, store_text(r, 8), sizeof p->status);
    str_copy(p->community_name, store_text(r, 10), sizeof p->community_name);
    size_t n;
    const void *ct = store_blob(r, 9, &n);
    people_id_masked(app, ct, n, p->id_masked, sizeof p->id_masked);
    store_rows_free(r);
    return 0;
}

/* ---- applications ---- */

/* The columns services_app_row_fill reads, in its order. */
#define APP_COLS                                                                                             \
    "SELECT a.id, a.item_id, a.community_id, a.grid_id, a.resident_id, a.created_by, a.due_at, "             \
    "a.submitted_at, "                                                                                       \
    "a.decided_at, a.created_at, a.updated_at, a.escalated_at, a.version, a.proxy, a.step, a.status, "       \
    "a.step_code, "                                                                                          \
    "a.step_role, a.serial, a.correction, a.reason, a.form_enc FROM service_applications a"

void services_app_row_fill(nx_app *app, store_rows *r, services_app_row *a)
{
    memset(a, 0, sizeof *a);
    a->id = store_int(r, 0);
    a->item_id = store_int(r, 1);
    a->community_id = store_int(r, 2);
    a->grid_id = store_int(r, 3);
    a->resident_id = store_int(r, 4);
    a->created_by = store_int(r, 5);
    a->due_at = store_int(r, 6);
    a->submitted_at = store_int(r, 7);
    a->decided_at = store_int(r, 8);
    a->created_at = store_int(r, 9);
    a->updated_at = store_int(r, 10);
    a->escalated_at = store_int(r, 11);
    a->version = store_int(r, 12);
    a->proxy = store_int(r, 13) != 0;
    a->step = (int)store_int(r, 14);
    str_copy(a->status, store_text(r, 15), sizeof a->status);
    str_copy(a->step_code, store_text(r, 16) ? store_text(r, 16) : "", sizeof a->step_code);
    str_copy(a->step_role, store_text(r, 17) ? store_text(r, 17) : "", sizeof a->step_role);
    str_copy(a->serial, store_text(r, 18), sizeof a->serial);
    str_copy(a->correction, store_text(r, 19) ? store_text(r, 19) : "", sizeof a->correction);
    str_copy(a->reason, store_text(r, 20) ? store_text(r, 20) : "", sizeof a->reason);
    size_t n;
    const void *ct = store_blob(r, 21, &n);
    char *plain = NULL;
    if (ct && n && field_decrypt_ad(app->keys, SERVICES_CTX_FORM, ct, n, &plain) == 0) {
        a->form = json_loads(plain, 0, NULL);
        field_plain_free(plain);
    }
    if (!json_is_object(a->form)) {
        json_decref(a->form);
        a->form = json_object();
    }
}

void services_app_row_cleanup(services_app_row *a)
{
    json_decref(a->form);
    a->form = NULL;
}

int services_app_load(nx_app *app, store_tx *tx, const nx_principal *who, int64_t id, services_app_row *a,
                      nx_err *e)
{
    store_rows *r;
    int rc = perm_scope_first(tx, who, "a.", "resident_id", id, APP_COLS " WHERE 1 = 1", "申请不存在", &r, e);
    if (rc)
        return rc;
    services_app_row_fill(app, r, a);
    store_rows_free(r);
    return 0;
}

int services_app_open(nx_app *app, const nx_principal *who, int64_t id, int mode, bool with_item,
                      services_app_tx *o, nx_err *e)
{
    memset(o, 0, sizeof *o);
    o->mode = mode;
    int rc = store_begin(app->db, mode, &o->tx, e);
    if (rc) {
        o->tx = NULL;
        return rc;
    }
    if ((rc = services_app_load(app, o->tx, who, id, &o->a, e)))
        return rc;
    return with_item ? services_item_load(o->tx, o->a.item_id, &o->it, e) : 0;
}

int services_app_editable(const services_app_row *a, const char *before, const char *doing, nx_err *e)
{
    if (strcmp(a->status, "draft") == 0 || strcmp(a->status, "returned") == 0)
        return 0;
    return nx_fail(e, NX_ECONFLICT, "status", "%s当前状态（%s）不能%s", before, services_status_label(a->status),
                   doing);
}

int services_app_close(services_app_tx *o, int rc, nx_err *e)
{
    services_app_row_cleanup(&o->a);
    services_item_cleanup(&o->it);
    if (o->mode == STORE_WRITE)
        return store_finish(o->tx, rc, e);
    store_rollback(o->tx);
    return rc;
}

nx_date services_local_date(int64_t ms)
{
    int64_t local = ms + NX_TZ_OFFSET_MS;
    int64_t days = local / 86400000;
    if (local % 86400000 < 0)
        days--;
    return date_from_days(days);
}

void services_mask_account(const char *v, char *out, size_t cap)
{
    if (cap == 0)
        return;
    size_t n = v ? strlen(v) : 0, keep = n > 4 ? 4 : 0, i = 0;
    for (; i + keep < n && i + 1 < cap; i++)
        out[i] = '*';
    for (size_t k = n - keep; k < n && i + 1 < cap; k++)
        out[i++] = v[k];
    out[i] = '\0';
}

bool services_field_is_account(const char *key, const char *type)
{
    return (key && strcmp(key, "bank_account") == 0) || (type && strcmp(type, "bank_account") == 0);
}
