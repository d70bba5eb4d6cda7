/* demo_services.c — application history for the demo community (see demo_services.h).
 *
 * The history is made by acting as the demo's own accounts would: the resident "jumin" applies for
 * a 居住证明 himself; community staff apply on behalf of residents (代办); staff review the community
 * step, the street officer the street step. Each application then has its timestamps shifted back
 * by a chosen number of days (created, submitted, decided, due, time line, documents), so the
 * statistics show handling times and a few applications sit past their deadline. The random choices
 * come from a small xorshift generator seeded from the demo seed, so a seed gives the same history. */
#include "cli/demo_services.h"

#include "cli/demo.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/services/services.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DAY_MS (24LL * 3600 * 1000)

typedef struct dsv {
    nx_app *app;
    demo_rng rng;
    nx_principal staff, street, self;
    nx_date today;
    int made, approved, recipients;
} dsv;

static unsigned pick(dsv *d, unsigned n)
{
    return demo_roll(&d->rng, n);
}

static void days_ago(dsv *d, int n, char out[11])
{
    date_format(date_from_days(date_to_days(d->today) - n), out);
}

/* The id sql (one text parameter $1 = key) answers, in a read transaction of its own; 0 when it
 * answers none or the read fails (the demo then leaves the rows that needed it out). */
static int64_t id_of(store *db, const char *sql, const char *key)
{
    store_tx *tx;
    int64_t id = 0;
    if (store_begin(db, STORE_READ, &tx, NULL))
        return 0;
    store_param p[] = {P_TEXT(key)};
    store_one_int(tx, sql, p, 1, &id, NULL);
    store_rollback(tx);
    return id;
}

static int64_t user_id(store *db, const char *username)
{
    return id_of(db, "SELECT id FROM users WHERE username = $1", username);
}

static int64_t item_id(store *db, const char *code)
{
    return id_of(db, "SELECT id FROM service_items WHERE code = $1", code);
}

/* Residents of the community: active, ordered by id, born between the two dates. */
static int residents(dsv *d, int64_t community, const char *born_after, const char *born_before, bool registered,
                     int64_t *out, int cap, int *n, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(d->app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(community), P_TEXT(born_after), P_TEXT(born_before), P_INT(registered ? 1 : 0),
                       P_INT(cap)};
    store_rows *r;
    rc = store_query(tx,
                     "SELECT id FROM residents WHERE community_id = $1 AND status = 'active' AND birth_date > $2 "
                     "AND birth_date <= $3 AND ($4 = 0 OR residence = 'registered') ORDER BY id LIMIT $5",
                     p, 5, &r, e);
    *n = 0;
    if (rc == 0) {
        while (*n < cap && store_row(r))
            out[(*n)++] = store_int(r, 0);
        rc = store_rows_end(r, e);
    }
    store_rollback(tx);
    return rc;
}

/* Move every timestamp of application id back by ms, and what happened before the review (creation,
 * materials, submission) back by handle_ms more: a decision comes hours or days after the
 * submission, not the millisecond after it, so the statistics' 平均办理时长 means something. */
static int shift(dsv *d, int64_t id, int64_t ms, int64_t handle_ms, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(d->app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(id), P_INT(ms), P_INT(ms + handle_ms)};
    if ((rc = store_exec(tx,
                         "UPDATE service_applications SET created_at = created_at - $3, updated_at = updated_at - $2, "
                         "submitted_at = submitted_at - $3, decided_at = decided_at - $2, due_at = due_at - $2 "
                         "WHERE id = $1",
                         p, 3, NULL, e)) ||
        (rc = store_exec(tx,
                         "UPDATE service_timeline SET at = at - (CASE WHEN action IN ('created', 'material_added', "
                         "'submitted') THEN $3 ELSE $2 END) WHERE application_id = $1",
                         p, 3, NULL, e)) ||
        (rc = store_exec(tx, "UPDATE service_materials SET created_at = created_at - $3 WHERE application_id = $1", p,
                         3, NULL, e)) ||
        (rc = store_exec(tx, "UPDATE service_documents SET issued_at = issued_at - $2 WHERE application_id = $1", p, 2,
                         NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* A stand-in scan: a well-formed 1x1 grey baseline JPEG (SOI, JFIF, tables, frame, one scan, EOI),
 * the smallest file the upload store's structure walk accepts. */
static const unsigned char fake_jpeg[] = {
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01,
    0x01, 0x01, 0x11, 0x00, 0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xC4,
    0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00,
    0x3F, 0x00, 0x3F, 0xFF, 0xD9,
};

/* Upload a stand-in scan for every required material of the item. */
static int materials(dsv *d, const nx_principal *who, int64_t item, int64_t app_id, nx_err *e)
{
    json_t *it;
    int rc = services_item_get(d->app, who, item, &it, e);
    if (rc)
        return rc;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(it, "materials"), i, m) {
        if (!json_is_true(json_object_get(m, "required")))
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s.jpg", json_string_value(json_object_get(m, "key")));
        int64_t mid;
        if ((rc = services_material_add(d->app, who, app_id, json_string_value(json_object_get(m, "key")), name,
                                        fake_jpeg, sizeof fake_jpeg, &mid, e)))
            break;
    }
    json_decref(it);
    return rc;
}

/* Valid form values for an item (new reference). */
static json_t *form_for(dsv *d, const char *code)
{
    char date[11], phone[12];
    snprintf(phone, sizeof phone, "1380000%04u", 1000 + pick(d, 9000));
    if (strcmp(code, "residence_certificate") == 0) {
        static const char *const purposes[] = {"子女入学", "就业", "办理居住证", "社保医保"};
        days_ago(d, 365 * (3 + (int)pick(d, 15)), date);
        return json_pack("{s:s, s:s}", "purpose", purposes[pick(d, 4)], "since", date);
    }
    if (strcmp(code, "medical_insurance") == 0)
        return json_pack("{s:s, s:s}", "insured_kind", pick(d, 2) ? "老年居民" : "成年居民", "contact_phone", phone);
    if (strcmp(code, "temporary_assistance") == 0) {
        days_ago(d, 10 + (int)pick(d, 40), date);
        return json_pack("{s:s, s:s, s:i}", "incident_date", date, "reason", "家庭成员突发疾病住院，医疗费用负担较重",
                         "amount", 1000 + 500 * (int)pick(d, 6));
    }
    if (strcmp(code, "hardship_assistance") == 0)
        return json_pack("{s:s, s:s, s:i}", "difficulty", pick(d, 2) ? "因病" : "因残", "description",
                         "独居老人，慢性病长期服药，收入仅有基本养老金", "monthly_income", 1200 + 100 * (int)pick(d, 10));
    if (strcmp(code, "senior_card") == 0)
        return json_pack("{s:s}", "contact_phone", phone);
    if (strcmp(code, "dibao_initial") == 0)
        return json_pack("{s:i, s:i, s:s, s:s}", "household_size", 1 + (int)pick(d, 4), "monthly_income",
                         800 + 100 * (int)pick(d, 8), "reason", "家庭主要劳动力患病，收入低于低保标准", "contact_phone",
                         phone);
    if (strcmp(code, "elderly_allowance") == 0) {
        char acct[20];
        snprintf(acct, sizeof acct, "622202%013llu", (unsigned long long)(d->rng.s % 10000000000000ull));
        return json_pack("{s:s, s:s, s:s}", "bank_name", pick(d, 2) ? "中国工商银行" : "中国农业银行", "bank_account",
                         acct, "contact_phone", phone);
    }
    return json_object();
}

/* One application: create (self or proxy), materials, submit, then the outcome, then back-date. */
enum { OUT_DRAFT, OUT_WAITING, OUT_RETURNED, OUT_APPROVED, OUT_REJECTED };

static int one(dsv *d, const nx_principal *applicant, const char *code, int64_t resident, int outcome, int ago,
               nx_err *e)
{
    int64_t item = item_id(d->app->db, code);
    if (item == 0)
        return 0;
    json_t *form = form_for(d, code);
    int64_t id;
    int rc = services_app_create(d->app, applicant, item, applicant->scope == SCOPE_SELF ? 0 : resident, form, &id, e);
    json_decref(form);
    if (rc == NX_EINVAL || rc == NX_ENOTFOUND || rc == NX_EPERM)
        return 0; /* this resident does not fit the item: skip */
    if (rc || (rc = materials(d, applicant, item, id, e)))
        return rc;
    d->made++;
    if (outcome != OUT_DRAFT) {
        json_t *problems = NULL;
        rc = services_app_submit(d->app, applicant, id, &problems, e);
        json_decref(problems);
        if (rc == NX_EINVAL)
            return shift(d, id, (int64_t)ago * DAY_MS, 0, e); /* not eligible: stays a draft */
        if (rc)
            return rc;
    }
    if (outcome == OUT_RETURNED) {
        rc = services_review(d->app, &d->staff, id, "return", "材料照片不清晰，请重新上传身份证正反面", e);
    } else if (outcome == OUT_REJECTED) {
        rc = services_review(d->app, &d->staff, id, "reject", "经入户核实，家庭收入超过规定标准", e);
    } else if (outcome == OUT_APPROVED) {
        rc = services_review(d->app, &d->staff, id, "approve", "材料齐全，情况属实", e);
        json_t *a = NULL;
        if (rc == 0 && (rc = services_app_get(d->app, &d->staff, id, &a, e)) == 0 &&
            strcmp(json_string_value(json_object_get(a, "status")), "in_review") == 0)
            rc = services_review(d->app, &d->street, id, "approve", "同意", e);
        json_decref(a);
        if (rc == 0) {
            d->approved++;
            if (strcmp(code, "elderly_allowance") == 0)
                d->recipients++;
        }
    }
    if (rc)
        return rc;
    /* a decision or a return comes 2 to 70 hours after the submission (hashed from the id, so the
     * generator's sequence, and with it every other choice of the demo, stays as it was) */
    int64_t handle = outcome == OUT_APPROVED || outcome == OUT_REJECTED || outcome == OUT_RETURNED
                         ? (int64_t)(2 + (uint64_t)id * 2654435761u % 69) * 3600 * 1000
                         : 0;
    return shift(d, id, (int64_t)ago * DAY_MS, handle, e);
}

int demo_services_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary,
                       nx_err *e)
{
    struct stat st;
    if (app->cfg == NULL || app->cfg->data_dir[0] == '\0' || stat(app->cfg->data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    dsv d = {.app = app, .rng = {0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 1 | 1)}};
    d.today = date_today();
    store_tx *tx;
    int64_t street = 0;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_param cp[] = {P_INT(community)};
    rc = store_one_int(tx, "SELECT street_id FROM communities WHERE id = $1", cp, 1, &street, e);
    store_rollback(tx);
    if (rc)
        return rc;
    d.staff = (nx_principal){.user_id = user_id(app->db, "shequ"), .username = "shequ", .role = ROLE_STAFF,
                             .scope = SCOPE_COMMUNITY, .street_id = street, .community_id = community};
    d.street = (nx_principal){.user_id = user_id(app->db, "jiedao"), .username = "jiedao", .role = ROLE_STREET,
                              .scope = SCOPE_STREET, .street_id = street};
    d.self = (nx_principal){.user_id = user_id(app->db, "jumin"), .username = "jumin", .role = ROLE_RESIDENT,
                            .scope = SCOPE_SELF, .community_id = community, .resident_id = self_resident};

    char y80[11], y60[11], y18[11], oldest[11] = "1900-01-01";
    days_ago(&d, 80 * 366, y80);
    days_ago(&d, 60 * 366, y60);
    days_ago(&d, 18 * 366, y18);
    int64_t elders[8], seniors[40], adults[60];
    int ne, ns, na;
    if ((rc = residents(&d, community, oldest, y80, true, elders, 8, &ne, e)) ||
        (rc = residents(&d, community, y80, y60, false, seniors, 40, &ns, e)) ||
        (rc = residents(&d, community, y60, y18, false, adults, 60, &na, e)))
        return rc;

    /* the demo resident's own 居住证明, approved last week (his account shows a finished application) */
    if (self_resident && (rc = one(&d, &d.self, "residence_certificate", self_resident, OUT_APPROVED, 7, e)))
        return rc;
    /* 高龄津贴: most elders approved over the last two months, one waiting at the street, one overdue */
    for (int i = 0; i < ne; i++) {
        int outcome = i < ne - 2 ? OUT_APPROVED : OUT_WAITING;
        int ago = i == ne - 1 ? 20 : 5 + (int)pick(&d, 50);
        if ((rc = one(&d, &d.staff, "elderly_allowance", elders[i], outcome, ago, e)))
            return rc;
    }
    static const char *const senior_items[] = {"senior_card", "medical_insurance", "hardship_assistance",
                                               "temporary_assistance"};
    /* no 志愿服务证明 here: it is refused to whoever has no approved volunteer hours (rule
     * "volunteer_hours"), and the volunteers' ledger is filled after this (demo_volunteers.c) */
    static const char *const adult_items[] = {"residence_certificate", "medical_insurance", "medical_insurance",
                                              "dibao_initial", "temporary_assistance"};
    static const int outcomes[] = {OUT_APPROVED, OUT_APPROVED, OUT_APPROVED, OUT_APPROVED, OUT_WAITING, OUT_WAITING,
                                   OUT_RETURNED, OUT_REJECTED, OUT_DRAFT};
    int nout = (int)(sizeof outcomes / sizeof outcomes[0]);
    /* waiting applications are recent (a few of them past a 3- or 5-day limit); the rest spread over
     * two months; the first adult's application is rejected so every outcome appears */
    for (int i = 0; i < ns && i < 16; i++) {
        int outcome = outcomes[pick(&d, (unsigned)nout)];
        int ago = outcome == OUT_WAITING ? 1 + (int)pick(&d, 5) : 1 + (int)pick(&d, 60);
        if ((rc = one(&d, &d.staff, senior_items[pick(&d, 4)], seniors[i], outcome, ago, e)))
            return rc;
    }
    for (int i = 0; i < na && i < 24; i++) {
        int outcome = i == 0 ? OUT_REJECTED : outcomes[pick(&d, (unsigned)nout)];
        int ago = outcome == OUT_WAITING ? 1 + (int)pick(&d, 5) : 1 + (int)pick(&d, 60);
        if ((rc = one(&d, &d.staff, adult_items[i == 0 ? 3 : pick(&d, 5)], adults[i], outcome, ago, e)))
            return rc;
    }
    json_object_set_new(summary, "service_applications", json_integer(d.made));
    json_object_set_new(summary, "service_approved", json_integer(d.approved));
    json_object_set_new(summary, "allowance_recipients", json_integer(d.recipients));
    nx_log(LOG_INFO, "demo.services applications=%d approved=%d recipients=%d", d.made, d.approved, d.recipients);
    return 0;
}
