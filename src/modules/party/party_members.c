/* party_members.c — party members, their files and their transfers.
 *
 * A member is a resident of the organisation's community (resident_id, one active membership per
 * resident) or an outsider registered by name. A transfer never rewrites the past: it is a row of
 * party_transfers (direction, from, to, date, reason) written in the same transaction as the change
 * of the member's org_id or status, so the member's file shows where they were and when. A member
 * transferred out keeps every row (attendance, dues) and no longer counts in lists of active members.
 * Writes are by managers in scope or the secretary of the member's organisation (party_check_org). */
#include "modules/party/party_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "modules/volunteers/volunteers.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "store/page.h"

#define MEMBER_COLS                                                                                           \
    "SELECT m.id, m.community_id, m.org_id, o.name, m.resident_id, m.name, m.stage, m.joined_on, m.full_on, "  \
    "m.mobile, m.mobile_note, m.income_fen, m.status FROM party_members m JOIN party_orgs o ON o.id = m.org_id " \
    "WHERE 1 = 1"

static json_t *member_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i org_id:i org_name:t resident_id:i name:t stage:t joined_on:t "
                                  "full_on:t mobile:b mobile_note:t income_fen:i status:t");
    if (o) {
        const char *stage = store_text(r, 6);
        json_object_set_new(o, "stage_label", json_string(stage && strcmp(stage, "probationary") == 0 ? "预备党员" : "正式党员"));
    }
    return o;
}

static void member_where(sqlq *q, const char *head, const nx_principal *who, const party_filter *f)
{
    sqlq_init(q, head);
    party_view_q(q, who, "m.", "org_id", "m.id", false);
    sqlq_eq_int(q, "m.community_id", f->community_id);
    sqlq_eq_int(q, "m.org_id", f->org_id);
    sqlq_add(q, " AND m.status = $%d", P_TEXT(f->status ? f->status : "active"));
    if (f->q && *f->q)
        sqlq_like(q, " AND m.name LIKE $%d ESCAPE '!'", f->q, true);
}

int party_member_list(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e)
{
    int rc = party_list_check(who, f, "无权查看党员", e);
    if (rc)
        return rc;
    if (f->status && strcmp(f->status, "active") && strcmp(f->status, "transferred_out"))
        return nx_fail(e, NX_EINVAL, "status", "状态应为 active 或 transferred_out");
    return party_page(app, who, f, member_where, MEMBER_COLS, "SELECT COUNT(*) FROM party_members m WHERE 1 = 1", "m.",
                      true, member_row, out, e);
}

static json_t *transfer_row(store_rows *r)
{
    return store_json_row(r, "id:i direction:t from_org_id:i from_org_name:t to_org_id:i to_org_name:t outside_org:t "
                             "on_date:t reason:t");
}

/* Set o's "volunteer_hours" to the approved service hours of resident (the volunteers module's public
 * volunteers_hours_of, never its tables): {volunteer_id, number, minutes, hours}, zeros and nulls for a
 * member who is no volunteer (or no resident). */
static int volunteer_hours(store_tx *tx, int64_t resident, json_t *o, nx_err *e)
{
    json_t *h = NULL;
    int rc = resident ? volunteers_hours_of(tx, 0, resident, &h, e) : NX_ENOTFOUND;
    if (rc == NX_ENOTFOUND) {
        nx_err_clear(e);
        json_object_set_new(o, "volunteer_hours", json_pack("{s:n, s:n, s:i, s:f}", "volunteer_id", "number", "minutes",
                                                            0, "hours", 0.0));
        return 0;
    }
    if (rc)
        return rc;
    json_object_set_new(o, "volunteer_hours",
                        json_pack("{s:O, s:O, s:O, s:O}", "volunteer_id", json_object_get(h, "volunteer_id"), "number",
                                  json_object_get(h, "number"), "minutes", json_object_get(h, "minutes"), "hours",
                                  json_object_get(h, "hours")));
    json_decref(h);
    return 0;
}

int party_member_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    sqlq q;
    int rc = party_view_id_q(who, "无权查看党员", &q, MEMBER_COLS, "m.", id, "m.id", false, e);
    if (rc)
        return rc;
    store_tx *tx;
    json_t *o = NULL;
    rc = party_get_begin(app, &q, member_row, "党员不存在", &tx, &o, e);
    if (rc)
        return rc;
    if ((rc = store_items_of(tx,
                           "SELECT t.id, t.direction, t.from_org_id, f.name, t.to_org_id, o.name, t.outside_org, t.on_date, "
                           "t.reason FROM party_transfers t LEFT JOIN party_orgs f ON f.id = t.from_org_id LEFT JOIN "
                           "party_orgs o ON o.id = t.to_org_id WHERE t.member_id = $1 ORDER BY t.on_date, t.id",
                           id, &(store_page_spec){.row = transfer_row}, o, "transfers", e)) == 0 &&
        (rc = party_attach_row(tx, o, "attendance",
                               "SELECT COALESCE(SUM(CASE WHEN status = 'present' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE "
                               "WHEN status = 'leave' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN status = 'absent' THEN 1 "
                               "ELSE 0 END), 0) FROM party_attendance WHERE member_id = $1",
                               id, "present:i leave:i absent:i", "党员不存在", e)) == 0 &&
        (rc = party_attach_row(tx, o, "dues",
                               "SELECT COALESCE(SUM(CASE WHEN status = 'due' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN "
                               "status = 'due' THEN amount_fen ELSE 0 END), 0), COALESCE(SUM(CASE WHEN status = 'paid' THEN 1 "
                               "ELSE 0 END), 0), COALESCE(SUM(CASE WHEN status = 'paid' THEN paid_fen ELSE 0 END), 0) FROM "
                               "party_dues WHERE member_id = $1",
                               id, "due_count:i due_fen:i paid_count:i paid_fen:i", "党员不存在", e)) == 0)
        rc = volunteer_hours(tx, json_integer_value(json_object_get(o, "resident_id")), o, e);
    return store_read_finish(tx, rc, o, out);
}

static int write_transfer(store_tx *tx, const nx_principal *who, int64_t community, int64_t member, const char *dir,
                          int64_t from, int64_t to, const char *outside, const char *on, const char *reason,
                          int64_t *tid, nx_err *e)
{
    store_param p[] = {P_INT(community), P_INT(member), P_TEXT(dir), P_ID(from), P_ID(to), P_TEXT(outside),
                       P_TEXT(on), P_TEXT(reason), P_ID(who->user_id), P_INT(clock_now_ms())};
    int rc = app_insert(tx, "party_transfers",
                        "community_id, member_id, direction, from_org_id, to_org_id, outside_org, on_date, "
                        "reason, created_by, created_at",
                        p, 10, tid, e);
    if (rc)
        return rc;
    return outbox_emit_new(tx, PARTY_EV_MEMBER_TRANSFERRED, community, "member", member,
                           json_pack("{s:I, s:s, s:o, s:o}", "member_id", (json_int_t)member, "direction", dir,
                                     "from_org_id", from ? json_integer(from) : json_null(), "to_org_id",
                                     to ? json_integer(to) : json_null()),
                           e);
}

int party_member_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权登记党员");
    static const char *const allowed[] = {"org_id",     "resident_id",      "name",           "stage",
                                          "joined_on",  "full_on",          "mobile",         "mobile_note",
                                          "income_fen", "transferred_from", "transferred_on", NULL};
    int64_t org = 0, resident = 0, income = 0;
    const char *name = NULL, *stage = "full", *joined = NULL, *full_on = NULL, *note = NULL, *from = NULL,
               *from_on = NULL;
    bool mobile = false;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "org_id", true, 1, INT64_MAX, &org, e)) < 0 ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_read_str(in, "name", false, 40, &name, e)) || (rc = json_read_str(in, "stage", false, 20, &stage, e)) ||
        (rc = json_read_date(in, "joined_on", true, &joined, e)) || (rc = json_read_date(in, "full_on", false, &full_on, e)) ||
        (rc = json_get_bool(in, "mobile", false, &mobile, e)) < 0 ||
        (rc = json_read_str(in, "mobile_note", false, 200, &note, e)) ||
        (rc = json_get_int(in, "income_fen", false, 0, 100000000, &income, e)) < 0 ||
        (rc = json_read_str(in, "transferred_from", false, 100, &from, e)) ||
        (rc = json_read_date(in, "transferred_on", false, &from_on, e)))
        return rc;
    if (strcmp(stage, "full") && strcmp(stage, "probationary"))
        return nx_fail(e, NX_EINVAL, "stage", "党员类别应为 full（正式）或 probationary（预备）");
    if (!resident && !name)
        return nx_fail(e, NX_EINVAL, "name", "请选择居民或填写姓名");
    if (from_on && !from)
        return nx_fail(e, NX_EINVAL, "transferred_from", "请填写转出组织");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    char *rname = NULL;
    if ((rc = party_check_org(tx, who, org, &community, e)))
        goto fail;
    if (resident) {
        store_param rp[] = {P_INT(resident), P_INT(community)};
        int lrc = store_one_text(tx, "SELECT name FROM residents WHERE id = $1 AND community_id = $2 AND status = 'active'",
                                 rp, 2, &rname, e);
        if (lrc == NX_ENOTFOUND) {
            rc = nx_fail(e, NX_EINVAL, "resident_id", "该居民不是本社区的在册居民");
            goto fail;
        }
        if ((rc = lrc))
            goto fail;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_INT(org),          P_ID(resident),  P_TEXT(name ? name : rname),
                       P_TEXT(stage),    P_TEXT(joined),      P_TEXT(full_on), P_INT(mobile ? 1 : 0),
                       P_TEXT(note),     P_INT(income),       P_INT(now)};
    rc = store_one_int(
        tx,
        "INSERT INTO party_members (community_id, org_id, resident_id, name, stage, joined_on, full_on, "
        "mobile, mobile_note, income_fen, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
        "$6, $7, $8, $9, $10, 'active', $11, $11) RETURNING id",
        p, 11, id, e);
    if ((rc = store_conflict_field(rc, "resident_id", e, "该居民已是在册党员")))
        goto fail;
    int64_t tid = 0;
    if (from && (rc = write_transfer(tx, who, community, *id, "in", 0, org, from, from_on ? from_on : joined, NULL,
                                     &tid, e)))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "party_member", *id, community,
                              json_pack("{s:I}", "org_id", (json_int_t)org), e)))
        goto fail;
    free(rname);
    return store_commit(tx, e);
fail:
    free(rname);
    store_rollback(tx);
    return rc;
}

/* The member's community, organisation and status, when who manages its organisation. */
static int load_member(store_tx *tx, const nx_principal *who, int64_t id, int64_t *community, int64_t *org,
                       char status[20], nx_err *e)
{
    return party_load_managed(tx, who, "party_members", id, "党员不存在", community, org, status, 20, e);
}

int party_member_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权修改党员");
    static const char *const allowed[] = {"stage", "full_on", "mobile", "mobile_note", "income_fen", NULL};
    const char *stage = NULL, *full_on = NULL, *note = NULL;
    bool mobile = false, clear_note = json_is_null_field(in, "mobile_note");
    int64_t income = -1;
    int rc, has_mobile;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "stage", false, 20, &stage, e)) ||
        (rc = json_read_date(in, "full_on", false, &full_on, e)) ||
        (!clear_note && (rc = json_read_str(in, "mobile_note", false, 200, &note, e))) ||
        (rc = json_get_int(in, "income_fen", false, 0, 100000000, &income, e)) < 0)
        return rc;
    if ((has_mobile = json_get_bool(in, "mobile", false, &mobile, e)) < 0)
        return has_mobile;
    if (stage && strcmp(stage, "full") && strcmp(stage, "probationary"))
        return nx_fail(e, NX_EINVAL, "stage", "党员类别应为 full（正式）或 probationary（预备）");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, org = 0;
    char status[20];
    if ((rc = load_member(tx, who, id, &community, &org, status, e)))
        goto fail;
    store_param p[] = {P_TEXT(stage), P_TEXT(full_on), P_INT(has_mobile == 0 ? (mobile ? 1 : 0) : -1),
                       P_INT(clear_note ? 1 : 0), P_TEXT(note), P_INT(income), P_INT(clock_now_ms()), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE party_members SET stage = COALESCE($1, stage), full_on = COALESCE($2, full_on), mobile = "
                         "CASE WHEN $3 < 0 THEN mobile ELSE $3 END, mobile_note = CASE WHEN $4 = 1 THEN NULL ELSE "
                         "COALESCE($5, mobile_note) END, income_fen = CASE WHEN $6 < 0 THEN income_fen ELSE $6 END, "
                         "updated_at = $7 WHERE id = $8",
                         p, 8, NULL, e)) ||
        (rc = audit_write(tx, who, "update", "party_member", id, community, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int party_member_transfer(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *tid, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权办理组织关系转接");
    static const char *const allowed[] = {"direction", "on_date", "reason", "to_org_id", "outside_org", NULL};
    const char *dir = NULL, *on = NULL, *reason = NULL, *outside = NULL;
    int64_t to = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "direction", true, 10, &dir, e)) ||
        (rc = json_read_date(in, "on_date", true, &on, e)) || (rc = json_read_str(in, "reason", false, 200, &reason, e)) ||
        (rc = json_get_int(in, "to_org_id", false, 1, INT64_MAX, &to, e)) < 0 ||
        (rc = json_read_str(in, "outside_org", false, 100, &outside, e)))
        return rc;
    bool out = strcmp(dir, "out") == 0, internal = strcmp(dir, "internal") == 0, back = strcmp(dir, "in") == 0;
    if (!out && !internal && !back)
        return nx_fail(e, NX_EINVAL, "direction", "转接方向应为 internal、out 或 in");
    if ((internal || back) && !to)
        return nx_fail(e, NX_EINVAL, "to_org_id", "请指定转入的党组织");
    if (out && !outside)
        return nx_fail(e, NX_EINVAL, "outside_org", "请填写转往的党组织");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, org = 0, to_comm = 0;
    char status[20];
    /* A member out of the community is read in the manager's scope (a secretary cannot bring back a
     * member who left another branch). */
    if ((rc = load_member(tx, who, id, &community, &org, status, e)))
        goto fail;
    bool active = strcmp(status, "active") == 0;
    if ((out || internal) && !active) {
        rc = nx_fail(e, NX_ECONFLICT, "direction", "该党员已转出");
        goto fail;
    }
    if (back && active) {
        rc = nx_fail(e, NX_ECONFLICT, "direction", "该党员在册，无需转入");
        goto fail;
    }
    if (to) {
        if ((rc = party_check_org(tx, who, to, &to_comm, e))) {
            str_copy(e->field, "to_org_id", sizeof e->field);
            goto fail;
        }
        if (to_comm != community || (internal && to == org)) {
            rc = nx_fail(e, NX_EINVAL, "to_org_id", to == org ? "转入组织与原组织相同" : "转入组织不在本社区");
            goto fail;
        }
    }
    store_param p[] = {P_INT(out ? 0 : to), P_INT(out ? 1 : 0), P_INT(clock_now_ms()), P_INT(id)};
    rc = store_exec(tx,
                    "UPDATE party_members SET org_id = CASE WHEN $1 = 0 THEN org_id ELSE $1 END, status = CASE WHEN "
                    "$2 = 1 THEN 'transferred_out' ELSE 'active' END, updated_at = $3 WHERE id = $4",
                    p, 4, NULL, e);
    /* a conflict: the resident became a member again meanwhile */
    if ((rc = store_conflict_field(rc, "direction", e, "该居民已是在册党员")))
        goto fail;
    if (out) { /* a secretary who leaves no longer leads */
        store_param s[] = {P_INT(id)};
        if ((rc = store_exec(tx, "UPDATE party_orgs SET secretary_member_id = NULL WHERE secretary_member_id = $1", s, 1,
                             NULL, e)))
            goto fail;
    }
    if ((rc = write_transfer(tx, who, community, id, dir, back ? 0 : org, out ? 0 : to, outside, on, reason, tid, e)) ||
        (rc = audit_write_new(tx, who, "transfer", "party_member", id, community, json_pack("{s:s}", "direction", dir),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
