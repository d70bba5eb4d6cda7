/* party_activities.c — 三会一课: branch member meetings, committee meetings, group meetings and
 * party lessons, plus themed party days; attendance and leave; minutes and their review; the yearly
 * calendar of what each branch held and what is missing.
 *
 * An activity moves planned → submitted (the branch hands in the minutes) → approved, or returned
 * to the branch with a note and submitted again. Attendance is one row per (activity, member):
 * present, leave (a reason is required) or absent; it can be corrected until the minutes are
 * approved. "Held" in the calendar means minutes submitted or approved: an activity only planned is
 * shown as planned, and a period whose end has passed without one held is missing. */
#include "modules/party/party_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "store/page.h"
#include "store/upload.h"

#define ACT_COLS                                                                                              \
    "SELECT a.id, a.community_id, a.org_id, o.name, a.kind, a.title, a.held_on, a.place, a.notice, a.status, "    \
    "a.minutes, a.review_note, (SELECT COUNT(*) FROM party_attendance t WHERE t.activity_id = a.id AND t.status = " \
    "'present'), (SELECT COUNT(*) FROM party_attendance t WHERE t.activity_id = a.id AND t.status = 'leave'), "     \
    "(SELECT COUNT(*) FROM party_attendance t WHERE t.activity_id = a.id AND t.status = 'absent') FROM "            \
    "party_activities a JOIN party_orgs o ON o.id = a.org_id WHERE 1 = 1"

static const char *status_label(const char *s)
{
    if (!s)
        return "";
    if (strcmp(s, "planned") == 0)
        return "已安排";
    if (strcmp(s, "submitted") == 0)
        return "待审核";
    if (strcmp(s, "approved") == 0)
        return "已通过";
    if (strcmp(s, "returned") == 0)
        return "已退回";
    return "";
}

static json_t *act_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i org_id:i org_name:t kind:t title:t held_on:t place:t notice:t "
                                  "status:t minutes:t review_note:t present:i leave:i absent:i");
    if (o) {
        json_object_set_new(o, "kind_label", json_string(party_kind_label(store_text(r, 4))));
        json_object_set_new(o, "status_label", json_string(status_label(store_text(r, 9))));
    }
    return o;
}

static void act_where(sqlq *q, const char *head, const nx_principal *who, const party_filter *f)
{
    sqlq_init(q, head);
    party_view_q(q, who, "a.", "org_id", NULL, true);
    sqlq_eq_int(q, "a.community_id", f->community_id);
    sqlq_eq_int(q, "a.org_id", f->org_id);
    sqlq_eq_text(q, "a.kind", f->kind);
    sqlq_eq_text(q, "a.status", f->status);
    if (f->year)
        sqlq_like(q, " AND a.held_on LIKE $%d ESCAPE '!'", f->year, false);
}

int party_activity_list(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e)
{
    int rc = party_list_check(who, f, "无权查看组织生活", e);
    if (rc)
        return rc;
    if (f->kind && !*party_kind_label(f->kind))
        return nx_fail(e, NX_EINVAL, "kind", "活动类型不正确");
    return party_page(app, who, f, act_where, ACT_COLS, "SELECT COUNT(*) FROM party_activities a WHERE 1 = 1", "a.",
                      false, act_row, out, e);
}

static json_t *attendance_row(store_rows *r)
{
    return store_json_row(r, "member_id:i name:t status:t reason:t");
}

static json_t *photo_row(store_rows *r)
{
    json_t *ph = store_json_row(r, "id:i content_type:t size:i created_at:d");
    if (ph) {
        char url[64];
        snprintf(url, sizeof url, "/api/v1/party-photos/%lld", (long long)store_int(r, 0));
        json_object_set_new(ph, "url", json_string(url));
    }
    return ph;
}

int party_activity_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    sqlq q;
    int rc = party_view_id_q(who, "无权查看组织生活", &q, ACT_COLS, "a.", id, NULL, true, e);
    if (rc)
        return rc;
    store_tx *tx;
    json_t *o = NULL;
    rc = party_get_begin(app, &q, act_row, "活动不存在", &tx, &o, e);
    if (rc)
        return rc;
    if ((rc = store_items_of(tx,
                           "SELECT t.member_id, m.name, t.status, t.reason FROM party_attendance t JOIN party_members m ON "
                           "m.id = t.member_id WHERE t.activity_id = $1 ORDER BY t.member_id",
                           id, &(store_page_spec){.row = attendance_row}, o, "attendance", e)) == 0)
        rc = store_items_of(tx,
                          "SELECT id, content_type, size, created_at FROM party_activity_photos WHERE activity_id = $1 "
                          "ORDER BY id",
                          id, &(store_page_spec){.row = photo_row}, o, "photos", e);
    return store_read_finish(tx, rc, o, out);
}

int party_activity_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权安排组织生活");
    static const char *const allowed[] = {"org_id", "kind", "title", "held_on", "place", "notice", NULL};
    int64_t org = 0;
    const char *kind = NULL, *title = NULL, *held = NULL, *place = NULL, *notice = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "org_id", true, 1, INT64_MAX, &org, e)) < 0 ||
        (rc = json_read_str(in, "kind", true, 30, &kind, e)) || (rc = json_read_str(in, "title", true, 100, &title, e)) ||
        (rc = json_read_date(in, "held_on", true, &held, e)) || (rc = json_read_str(in, "place", false, 100, &place, e)) ||
        (rc = json_read_str(in, "notice", false, 2000, &notice, e)))
        return rc;
    if (!*party_kind_label(kind))
        return nx_fail(e, NX_EINVAL, "kind",
                       "活动类型应为 member_meeting、committee_meeting、group_meeting、lesson 或 theme_day");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    if ((rc = party_check_org(tx, who, org, &community, e)))
        goto fail;
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_INT(org), P_TEXT(kind), P_TEXT(title), P_TEXT(held), P_TEXT(place),
                       P_TEXT(notice), P_INT(now)};
    if ((rc = store_one_int(tx,
                            "INSERT INTO party_activities (community_id, org_id, kind, title, held_on, place, notice, "
                            "status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'planned', $8, $8) "
                            "RETURNING id",
                            p, 8, id, e)) ||
        (rc = audit_write(tx, who, "create", "party_activity", *id, community, NULL, e)) ||
        (rc = outbox_emit_new(tx, PARTY_EV_ACTIVITY_SCHEDULED, community, "activity", *id,
                              json_pack("{s:I, s:I, s:s, s:s}", "activity_id", (json_int_t)*id, "org_id",
                                        (json_int_t)org, "kind", kind, "held_on", held),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* An activity as a write of its minutes, attendance or photos sees it. */
typedef struct act_ref {
    int64_t community, org;
    char status[16];
} act_ref;

/* Open a write transaction *tx and load into a the activity id that who manages (party_load_managed:
 * NX_ENOTFOUND "活动不存在" when out of scope). 0 with *tx open for the caller's write, or the error
 * with nothing left open. */
static int act_open(nx_app *app, const nx_principal *who, int64_t id, store_tx **tx, act_ref *a, nx_err *e)
{
    int rc = store_begin(app->db, STORE_WRITE, tx, e);
    if (rc)
        return rc;
    if ((rc = party_load_managed(*tx, who, "party_activities", id, "活动不存在", &a->community, &a->org, a->status,
                                 sizeof a->status, e)))
        store_rollback(*tx);
    return rc;
}

int party_activity_attendance(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权登记考勤");
    static const char *const allowed[] = {"items", NULL};
    static const char *const item_keys[] = {"member_id", "status", "reason", NULL};
    int rc;
    if ((rc = json_only(in, allowed, e)))
        return rc;
    json_t *items = json_object_get(in, "items");
    if (!json_is_array(items) || json_array_size(items) == 0 || json_array_size(items) > 500)
        return nx_fail(e, NX_EINVAL, "items", "请提供 1 至 500 条考勤记录");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        int64_t m = 0;
        const char *st = NULL, *reason = NULL;
        if ((rc = json_only(it, item_keys, e)) || (rc = json_get_int(it, "member_id", true, 1, INT64_MAX, &m, e)) < 0 ||
            (rc = json_read_str(it, "status", true, 10, &st, e)) || (rc = json_read_str(it, "reason", false, 200, &reason, e))) {
            snprintf(e->field, sizeof e->field, "items[%zu].%s", i, e->field[0] ? e->field : "member_id");
            return rc;
        }
        if (strcmp(st, "present") && strcmp(st, "leave") && strcmp(st, "absent"))
            return nx_fail(e, NX_EINVAL, "status", "考勤应为 present、leave 或 absent");
        if (strcmp(st, "leave") == 0 && !reason)
            return nx_fail(e, NX_EINVAL, "reason", "请假须填写原因");
    }
    store_tx *tx;
    act_ref a;
    if ((rc = act_open(app, who, id, &tx, &a, e)))
        return rc;
    if (strcmp(a.status, "approved") == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "纪要已审核通过，考勤不能再修改");
        goto fail;
    }
    int64_t now = clock_now_ms();
    json_array_foreach(items, i, it) {
        int64_t m = json_integer_value(json_object_get(it, "member_id"));
        const char *st = json_string_value(json_object_get(it, "status"));
        const char *reason = json_string_value(json_object_get(it, "reason"));
        store_param c[] = {P_INT(m), P_INT(a.org)};
        if ((rc = store_exists_or_fail(tx,
                                       "SELECT COUNT(*) FROM party_members m JOIN party_orgs o ON o.id = "
                                       "m.org_id WHERE m.id = $1 AND (o.id = $2 OR o.parent_id = $2 OR o.id "
                                       "= (SELECT parent_id FROM party_orgs WHERE id = $2))",
                                       c, 2, "member_id", e, "党员 %lld 不属于该组织", (long long)m)))
            goto fail;
        store_param p[] = {P_INT(id), P_INT(m), P_TEXT(st), P_TEXT(reason), P_INT(now)};
        if ((rc = store_exec(tx,
                             "INSERT INTO party_attendance (activity_id, member_id, status, reason, updated_at) VALUES ($1, "
                             "$2, $3, $4, $5) ON CONFLICT (activity_id, member_id) DO UPDATE SET status = excluded.status, "
                             "reason = excluded.reason, updated_at = excluded.updated_at",
                             p, 5, NULL, e)))
            goto fail;
    }
    if ((rc = audit_write_new(tx, who, "attendance", "party_activity", id, a.community,
                              json_pack("{s:I}", "count", (json_int_t)json_array_size(items)), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int party_activity_minutes(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权提交纪要");
    static const char *const allowed[] = {"minutes", NULL};
    const char *minutes = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "minutes", true, 20000, &minutes, e)))
        return rc;
    store_tx *tx;
    act_ref a;
    if ((rc = act_open(app, who, id, &tx, &a, e)))
        return rc;
    if (strcmp(a.status, "planned") && strcmp(a.status, "returned")) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "纪要已提交，请等待审核");
        goto fail;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(minutes), P_INT(now), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE party_activities SET minutes = $1, status = 'submitted', submitted_at = $2, updated_at = "
                         "$2 WHERE id = $3",
                         p, 3, NULL, e)) ||
        (rc = audit_write(tx, who, "submit", "party_activity", id, a.community, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int party_activity_review(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!party_manager(who))
        return nx_fail(e, NX_EPERM, "", "纪要由社区党委审核");
    static const char *const allowed[] = {"approved", "note", NULL};
    bool approved = false;
    const char *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_bool(in, "approved", true, &approved, e)) < 0 ||
        (rc = json_read_str(in, "note", false, 500, &note, e)))
        return rc;
    if (!approved && !note)
        return nx_fail(e, NX_EINVAL, "note", "退回须说明原因");
    store_tx *tx;
    act_ref a;
    if ((rc = act_open(app, who, id, &tx, &a, e)))
        return rc;
    if (strcmp(a.status, "submitted")) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "只能审核已提交的纪要");
        goto fail;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(approved ? "approved" : "returned"), P_ID(who->user_id), P_INT(now), P_TEXT(note),
                       P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE party_activities SET status = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4, "
                         "updated_at = $3 WHERE id = $5",
                         p, 5, NULL, e)) ||
        (rc = audit_write_new(tx, who, approved ? "approve" : "return", "party_activity", id, a.community, NULL, e)) ||
        (rc = outbox_emit_new(tx, PARTY_EV_ACTIVITY_REVIEWED, a.community, "activity", id,
                              json_pack("{s:I, s:I, s:b}", "activity_id", (json_int_t)id, "org_id", (json_int_t)a.org,
                                        "approved", approved),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* ---- the yearly calendar ---- */

static const char *const KINDS[] = {"member_meeting", "committee_meeting", "group_meeting", "lesson", "theme_day"};
static const bool QUARTERLY[] = {true, false, false, true, false};
#define NKINDS 5

static int kind_index(const char *k)
{
    for (int i = 0; k && i < NKINDS; i++)
        if (strcmp(KINDS[i], k) == 0)
            return i;
    return -1;
}

typedef struct branch_cal {
    int64_t id;
    char name[200];
    int held[12][NKINDS], planned[12][NKINDS];
} branch_cal;

#define CAL_BRANCHES 200

int party_calendar(nx_app *app, const nx_principal *who, const char *year, int64_t org_id, json_t **out, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看组织生活");
    nx_date d;
    char first[11];
    if (!year || strlen(year) != 4)
        return nx_fail(e, NX_EINVAL, "year", "年份格式应为 YYYY");
    snprintf(first, sizeof first, "%s-01-01", year);
    if (date_parse(first, &d))
        return nx_fail(e, NX_EINVAL, "year", "年份格式应为 YYYY");
    branch_cal *cal = calloc(CAL_BRANCHES, sizeof *cal);
    if (!cal)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    int nb = 0, rc;
    store_tx *tx = NULL;
    store_rows *r = NULL;
    json_t *res = NULL;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        goto done;
    sqlq q;
    sqlq_init(&q, "SELECT o.id, o.name FROM party_orgs o WHERE o.kind = 'branch'");
    party_scope_q(&q, who, "o.", "id");
    sqlq_eq_int(&q, "o.id", org_id);
    sqlq_sql(&q, " ORDER BY o.id LIMIT %d", CAL_BRANCHES + 1);
    if ((rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    while (store_row(r)) {
        if (nb == CAL_BRANCHES) {
            store_rows_free(r);
            r = NULL;
            rc = nx_fail(e, NX_ETOOBIG, "org_id", "党支部超过 %d 个，请按支部查看", CAL_BRANCHES);
            goto done;
        }
        cal[nb].id = store_int(r, 0);
        str_copy(cal[nb].name, store_text(r, 1), sizeof cal[nb].name);
        nb++;
    }
    if ((rc = store_rows_end(r, e)))
        goto done;
    r = NULL;
    for (int b = 0; b < nb; b++) {
        char lo[11], hi[11];
        snprintf(lo, sizeof lo, "%s-01-01", year);
        snprintf(hi, sizeof hi, "%s-12-31", year);
        store_param p[] = {P_INT(cal[b].id), P_TEXT(lo), P_TEXT(hi)};
        if ((rc = store_query(tx,
                              "SELECT a.kind, a.held_on, a.status FROM party_activities a JOIN party_orgs o ON o.id = "
                              "a.org_id WHERE (o.id = $1 OR o.parent_id = $1) AND a.held_on >= $2 AND a.held_on <= $3",
                              p, 3, &r, e)))
            goto done;
        while (store_row(r)) {
            int k = kind_index(store_text(r, 0));
            const char *on = store_text(r, 1), *st = store_text(r, 2);
            int m = on && strlen(on) >= 7 ? (on[5] - '0') * 10 + (on[6] - '0') : 0;
            if (k < 0 || m < 1 || m > 12)
                continue;
            if (strcmp(st, "submitted") == 0 || strcmp(st, "approved") == 0)
                cal[b].held[m - 1][k]++;
            else
                cal[b].planned[m - 1][k]++;
        }
        if ((rc = store_rows_end(r, e)))
            goto done;
        r = NULL;
    }
    char today[11];
    party_today(today);
    res = json_pack("{s:s, s:[]}", "year", year, "branches");
    json_t *branches = json_object_get(res, "branches");
    for (int b = 0; b < nb; b++) {
        json_t *months = json_array(), *missing = json_array();
        int held_total = 0;
        for (int m = 0; m < 12; m++) {
            json_t *h = json_object(), *pl = json_object();
            for (int k = 0; k < NKINDS; k++) {
                if (cal[b].held[m][k])
                    json_object_set_new(h, KINDS[k], json_integer(cal[b].held[m][k]));
                if (cal[b].planned[m][k])
                    json_object_set_new(pl, KINDS[k], json_integer(cal[b].planned[m][k]));
                held_total += cal[b].held[m][k];
            }
            json_array_append_new(months, json_pack("{s:i, s:o, s:o}", "month", m + 1, "held", h, "planned", pl));
        }
        for (int k = 0; k < NKINDS; k++) {
            int span = QUARTERLY[k] ? 3 : 1;
            for (int start = 0; start < 12; start += span) {
                int n = 0;
                for (int m = start; m < start + span; m++)
                    n += cal[b].held[m][k];
                /* the period's last day, "YYYY-MM-31" compares after every day of that month */
                char end[11], period[12];
                snprintf(end, sizeof end, "%s-%02d-31", year, start + span);
                if (n || strcmp(end, today) >= 0)
                    continue;
                if (QUARTERLY[k])
                    snprintf(period, sizeof period, "%s-Q%d", year, start / 3 + 1);
                else
                    snprintf(period, sizeof period, "%s-%02d", year, start + 1);
                json_array_append_new(missing, json_pack("{s:s, s:s, s:s}", "kind", KINDS[k], "kind_label",
                                                         party_kind_label(KINDS[k]), "period", period));
            }
        }
        json_array_append_new(branches, json_pack("{s:I, s:s, s:o, s:o, s:i, s:i}", "org_id", (json_int_t)cal[b].id,
                                                   "name", cal[b].name, "months", months, "missing", missing,
                                                   "held_total", held_total, "missing_total",
                                                   (int)json_array_size(missing)));
    }
done:
    store_rows_free(r);
    store_rollback(tx);
    free(cal);
    if (rc)
        json_decref(res);
    else
        *out = res;
    return rc;
}

/* ---- photos of the minutes ---- */

#define PHOTO_TYPES (UPLOAD_JPEG | UPLOAD_PNG | UPLOAD_WEBP)

int party_activity_photo(nx_app *app, const nx_principal *who, int64_t id, const void *data, size_t len,
                         int64_t *photo, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权上传会议照片");
    store_tx *tx;
    act_ref a;
    char name[UPLOAD_NAME_MAX] = "";
    const upload_type *type = NULL;
    /* who manages the activity (act_open's scope), and not once the minutes are approved */
    int rc = act_open(app, who, id, &tx, &a, e);
    if (rc)
        return rc;
    if (strcmp(a.status, "approved") == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "纪要已审核通过，不能再添加照片");
        goto fail;
    }
    int64_t count = 0;
    store_param c[] = {P_INT(id)};
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM party_activity_photos WHERE activity_id = $1", c, 1, &count, e)))
        goto fail;
    if (count >= PARTY_PHOTOS_MAX) {
        rc = nx_fail(e, NX_ECONFLICT, "file", "每次活动最多 %d 张照片", PARTY_PHOTOS_MAX);
        goto fail;
    }
    if ((rc = upload_accept(app->cfg->data_dir, app->keys, data, len, (size_t)app->cfg->max_upload, PHOTO_TYPES, &type,
                            name, e)))
        goto fail;
    store_param p[] = {P_INT(id), P_TEXT(name), P_TEXT(type->mime), P_INT((int64_t)len), P_ID(who->user_id),
                       P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "party_activity_photos",
                         "activity_id, file_name, content_type, size, user_id, created_at",
                         p, 6, photo, e)) ||
        (rc = audit_write(tx, who, "photo", "party_activity", id, a.community, NULL, e)))
        goto fail;
    if ((rc = store_commit(tx, e)))
        upload_remove(app->cfg->data_dir, name);
    return rc;
fail:
    store_rollback(tx);
    if (name[0])
        upload_remove(app->cfg->data_dir, name);
    return rc;
}

int party_photo_read(nx_app *app, const nx_principal *who, int64_t id, unsigned char **data, size_t *n,
                     char ctype[32], nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看会议照片");
    sqlq q;
    sqlq_init(&q, "SELECT p.file_name, p.content_type FROM party_activity_photos p JOIN party_activities a ON a.id = "
                  "p.activity_id WHERE 1 = 1");
    sqlq_add(&q, " AND p.id = $%d", P_INT(id));
    party_view_q(&q, who, "a.", "org_id", NULL, true); /* whoever may read the activity */
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    char name[UPLOAD_NAME_MAX] = "";
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0) {
        if ((rc = store_first(r, "照片不存在", e)) == 0) {
            str_copy(name, store_text(r, 0) ? store_text(r, 0) : "", sizeof name);
            str_copy(ctype, store_text(r, 1) ? store_text(r, 1) : "application/octet-stream", 32);
        }
        store_rows_free(r);
    }
    store_rollback(tx);
    if (rc)
        return rc;
    if (upload_read(app->cfg->data_dir, app->keys, name, (size_t)app->cfg->max_upload, data, n) != 0)
        return nx_fail(e, NX_EIO, "", "照片无法读取");
    return 0;
}
