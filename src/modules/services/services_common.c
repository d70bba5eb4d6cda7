/* services_common.c — the helpers every file of the services module shares (services_internal.h):
 * the time line row, in-app notifications, named counters, the outbox event, the status labels and
 * the facts about a resident that the rules and documents read.
 *
 * Each writing helper runs inside the caller's write transaction and fails with it: a change to an
 * application, its time line row, its notification and its event are committed together or not at
 * all. The resident's ID number is decrypted only to be masked (never returned or logged) and the
 * plain text is wiped before it is freed. */
#include "modules/services/services_internal.h"

#include "base/str.h"
#include "modules/people/people_internal.h"
#include "notify/outbox.h"
#include "secure/crypto.h"
#include "text/mask.h"

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
    for (size_t i = 0; s && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], s) == 0)
            return map[i][1];
    return s ? s : "";
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
    return store_exec(
        tx,
        "INSERT INTO service_timeline (application_id, community_id, at, user_id, username, action, "
        "from_status, to_status, step_code, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        p, 10, NULL, e);
}

int services_notify(store_tx *tx, int64_t community, int64_t resident, const char *role, const char *kind,
                    const char *title, const char *body, const char *link, nx_err *e)
{
    store_param p[] = {P_ID(community), P_ID(resident),           P_TEXT(role), P_TEXT(kind),
                       P_TEXT(title),   P_TEXT(body ? body : ""), P_TEXT(link), P_INT(clock_now_ms())};
    return store_exec(
        tx,
        "INSERT INTO notifications (community_id, resident_id, target_role, kind, title, body, link, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        p, 8, NULL, e);
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

int services_emit(store_tx *tx, const char *kind, int64_t community, int64_t app_id, int64_t resident,
                  const char *status, nx_err *e)
{
    char subject[64], payload[256], k[OUTBOX_KIND_MAX + 1];
    snprintf(k, sizeof k, "services.%s", kind);
    snprintf(subject, sizeof subject, "application:%lld", (long long)app_id);
    snprintf(payload, sizeof payload, "{\"application_id\":%lld,\"resident_id\":%lld,\"status\":\"%s\"}",
             (long long)app_id, (long long)resident, status ? status : "");
    return outbox_emit(tx, k, community, subject, payload, e);
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
    services_id_masked(app, ct, n, p->id_masked, sizeof p->id_masked);
    store_rows_free(r);
    return 0;
}

void services_id_masked(nx_app *app, const void *ct, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    char *plain = ct && n ? people_open(app, CTX_ID, ct, n) : NULL;
    if (plain == NULL)
        return;
    mask_id(plain, out, cap);
    field_plain_free(plain);
}
