/* teams.c — volunteer teams and volunteers.
 *
 * A team belongs to one community. A volunteer is either a resident of the community (resident_id:
 * their name and birth date come from the record, their phone stays on it) or an outsider (name and
 * phone, the phone encrypted under "volunteer.phone" with its last four digits kept for search and
 * shown masked). A volunteer may be bound to an account (user_id), which is how a volunteer account
 * acts as its volunteer. The leader of a team (is_leader) manages that team only: they add members
 * to it, but never make a leader — that is staff's (RIGHT_VOLUNTEER_MANAGE).
 *
 * Volunteer numbers are "V" and the row id on six digits, given in the insert's transaction, so two
 * concurrent creates never draw the same number. Every create is audited. */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "base/str.h"
#include "secure/audit.h"
#include "secure/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- teams ---- */

#define TEAM_COLS                                                                                             \
    "SELECT t.id, t.community_id, t.name, t.description, (SELECT COUNT(*) FROM volunteers v WHERE v.team_id = " \
    "t.id AND v.status = 'active'), (SELECT MIN(v.name) FROM volunteers v WHERE v.team_id = t.id AND "         \
    "v.is_leader = 1 AND v.status = 'active'), t.created_at FROM volunteer_teams t WHERE 1 = 1"

static json_t *team_row(store_rows *r, void *ctx)
{
    (void)ctx;
    return store_json_row(r, "id:i community_id:i name:t description:t member_count:i leader_name:t created_at:d");
}

static void team_where(sqlq *q, const char *head, const nx_principal *who, const volunteers_filter *f)
{
    sqlq_init(q, head);
    vol_scope(q, who, "t.");
    sqlq_eq_int(q, "t.community_id", f->community_id);
    if (f->q && *f->q)
        sqlq_like(q, " AND t.name LIKE $%d ESCAPE '!'", f->q, true);
}

int volunteers_team_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e)
{
    return vol_list(app, who, f, vol_may_view, "无权查看志愿队伍", team_where, TEAM_COLS,
                    "SELECT COUNT(*) FROM volunteer_teams t WHERE 1 = 1", "t.", true, team_row, out, e);
}

int volunteers_team_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return vol_get(app, who, vol_may_view, "无权查看志愿队伍", TEAM_COLS, "t.", id,
                   &(store_page_spec){.row_ctx = team_row}, "志愿队伍不存在", out, e);
}

int volunteers_team_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"name", "description", "community_id", NULL};
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权管理志愿队伍");
    const char *name = NULL, *desc = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "name", true, 50, &name, e)) ||
        (rc = json_read_str(in, "description", false, 500, &desc, e)))
        return rc;
    store_param p[] = {P_TEXT(name), P_TEXT(desc), P_ID(who->user_id), P_INT(clock_now_ms())};
    return vol_create_named(app, who, in,
                            "INSERT INTO volunteer_teams (community_id, name, description, created_by, created_at) "
                            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                            p, 4, "name", "本社区已有同名志愿队伍", "volunteer_team", id, e);
}

/* ---- volunteers ---- */

#define VOL_COLS                                                                                                 \
    "SELECT v.id, v.community_id, v.team_id, t.name, v.number, v.name, v.resident_id, v.user_id, v.phone_enc, "   \
    "v.skills, v.availability, v.trained_on, v.insured_until, v.is_leader, v.status, (SELECT COALESCE(SUM(h.minutes), " \
    "0) FROM volunteer_hours h WHERE h.volunteer_id = v.id AND h.status = 'approved'), v.created_at "             \
    "FROM volunteers v LEFT JOIN volunteer_teams t ON t.id = v.team_id WHERE 1 = 1"

static json_t *vol_row(store_rows *r, void *ctx)
{
    json_t *o = store_json_row(r, "id:i community_id:i team_id:i team_name:t number:t name:t resident_id:i user_id:i "
                                  "- skills:t availability:t trained_on:t insured_until:t is_leader:b status:t "
                                  "approved_minutes:i created_at:d");
    if (o) {
        vol_phone_out(ctx, r, 8, CTX_VOL_PHONE, o, "phone");
        json_object_set_new(o, "approved_hours", vol_hours_json(store_int(r, 15)));
    }
    return o;
}

static void vol_where(sqlq *q, const char *head, const nx_principal *who, const volunteers_filter *f)
{
    sqlq_init(q, head);
    vol_scope(q, who, "v.");
    sqlq_eq_int(q, "v.community_id", f->community_id);
    sqlq_eq_int(q, "v.team_id", f->team_id);
    sqlq_eq_text(q, "v.status", f->status);
    if (f->q && *f->q) {
        int k = sqlq_like(q, " AND (v.name LIKE $%d ESCAPE '!'", f->q, true);
        sqlq_sql(q, " OR v.number = $%d", sqlq_param(q, P_TEXT(f->q)));
        sqlq_sql(q, " OR v.phone_tail = $%d)", sqlq_param(q, P_TEXT(f->q)));
        (void)k;
    }
}

int volunteers_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e)
{
    return vol_list(app, who, f, vol_staff_read, "无权查看志愿者", vol_where, VOL_COLS,
                    "SELECT COUNT(*) FROM volunteers v WHERE 1 = 1", "v.", true, vol_row, out, e);
}

int volunteers_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!vol_may_view(who))
        return nx_fail(e, NX_EPERM, "", "无权查看志愿者");
    sqlq q;
    vol_id_q(&q, VOL_COLS, "v.", id, who);
    if (!vol_staff_read(who)) {
        /* a resident reads their own volunteer record only */
        sqlq_add(&q, " AND (v.user_id = $%d", P_INT(who->user_id));
        sqlq_add(&q, " OR v.resident_id = $%d)", P_INT(who->resident_id ? who->resident_id : -1));
    }
    store_page_spec s = {.row_ctx = vol_row, .ctx = app};
    return store_get_read(app->db, &q, &s, "志愿者不存在", out, e);
}

/* A date field, kept as its text. */
static int opt_date(json_t *in, const char *key, const char **out, nx_err *e)
{
    return json_read_date(in, key, false, out, e);
}

static int vol_create_on(store_tx *tx, nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);

int volunteers_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && !perm_has(who, RIGHT_VOLUNTEER_DUTY))
        return nx_fail(e, NX_EPERM, "", "无权登记志愿者");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    if ((rc = vol_create_on(tx, app, who, in, id, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* The create of volunteers_create on tx. */
static int vol_create_on(store_tx *tx, nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"resident_id", "name", "phone", "team_id", "user_id", "skills",
                                          "availability", "birth_date", "trained_on", "insured_until",
                                          "is_leader", "community_id", NULL};
    const char *name = NULL, *skills = NULL, *avail = NULL, *birth = NULL, *trained = NULL, *insured = NULL;
    int64_t resident = 0, team = 0, user = 0, c = 0;
    bool leader = false;
    unsigned char *enc = NULL;
    size_t elen = 0;
    char tail[5] = "";
    store_rows *r = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_get_int(in, "team_id", false, 1, INT64_MAX, &team, e)) < 0 ||
        (rc = json_get_int(in, "user_id", false, 1, INT64_MAX, &user, e)) < 0 ||
        (rc = json_get_bool(in, "is_leader", false, &leader, e)) < 0 ||
        (rc = json_read_str(in, "name", false, 50, &name, e)) ||
        (rc = json_read_str(in, "skills", false, 200, &skills, e)) ||
        (rc = json_read_str(in, "availability", false, 200, &avail, e)) ||
        (rc = opt_date(in, "birth_date", &birth, e)) || (rc = opt_date(in, "trained_on", &trained, e)) ||
        (rc = opt_date(in, "insured_until", &insured, e)))
        return rc;
    if (resident == 0 && name == NULL)
        return nx_fail(e, NX_EINVAL, "name", "请选择居民，或填写社区外志愿者的姓名");
    if (resident && json_object_get(in, "phone"))
        return nx_fail(e, NX_EINVAL, "phone", "居民志愿者的电话以居民档案为准");
    if ((rc = vol_community_of(tx, who, in, &c, e)))
        return rc;
    vol_self me;
    if ((rc = vol_me(tx, who, &me, e)))
        return rc;
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE)) {
        if (team == 0 || !vol_manages_team(who, &me, team))
            return nx_fail(e, NX_EPERM, "team_id", "队长只能管理本队");
        if (leader)
            return nx_fail(e, NX_EPERM, "is_leader", "只有社区工作人员可以指定队长");
    }
    if (team) {
        store_param p[] = {P_INT(team), P_INT(c)};
        if ((rc = store_exists_or_fail(
                 tx, "SELECT COUNT(*) FROM volunteer_teams WHERE id = $1 AND community_id = $2", p, 2,
                 "team_id", e, "志愿队伍不存在")))
            return rc;
    }
    char rname[200] = "", rbirth[11] = "";
    if (resident) {
        store_param p[] = {P_INT(resident), P_INT(c)};
        if ((rc = store_query(tx, "SELECT name, birth_date FROM residents WHERE id = $1 AND community_id = $2", p, 2, &r,
                              e)))
            return rc;
        if ((rc = store_first(r, "居民不存在", e))) {
            store_rows_free(r);
            return rc == NX_ENOTFOUND ? nx_fail(e, NX_EINVAL, "resident_id", "居民不存在") : rc;
        }
        str_copy(rname, store_text(r, 0) ? store_text(r, 0) : "", sizeof rname);
        str_copy(rbirth, store_text(r, 1) ? store_text(r, 1) : "", sizeof rbirth);
        store_rows_free(r);
        name = rname;
        if (birth == NULL && rbirth[0])
            birth = rbirth;
    } else if ((rc = vol_phone_in(app, in, "phone", CTX_VOL_PHONE, &enc, &elen, tail, e))) {
        return rc;
    }
    if (user) {
        store_param p[] = {P_INT(user), P_INT(c)};
        if ((rc = store_exists_or_fail(tx, "SELECT COUNT(*) FROM users WHERE id = $1 AND community_id = $2",
                                       p, 2, "user_id", e, "账号不存在")))
            goto out;
    }
    char tmp[NX_TOKEN_CHARS];
    token_random(tmp, sizeof tmp);
    store_param p[] = {P_INT(c),       P_ID(team),         P_ID(resident),  P_ID(user),       P_TEXT(tmp),
                       P_TEXT(name),   P_BLOB(enc, elen),  P_TEXT(tail[0] ? tail : NULL),     P_TEXT(birth),
                       P_TEXT(skills), P_TEXT(avail),      P_TEXT(trained), P_TEXT(insured),  P_INT(leader ? 1 : 0),
                       P_INT(clock_now_ms())};
    rc = app_insert(tx, "volunteers",
                    "community_id, team_id, resident_id, user_id, number, name, phone_enc, phone_tail, "
                    "birth_date, skills, availability, trained_on, insured_until, is_leader, created_at",
                    p, 15, id, e);
    if ((rc =
             store_conflict_field(rc, resident ? "resident_id" : "user_id", e, "该居民或账号已登记为志愿者")))
        goto out;
    char number[32];
    snprintf(number, sizeof number, "V%06lld", (long long)*id);
    store_param u[] = {P_TEXT(number), P_INT(*id)};
    if ((rc = store_exec(tx, "UPDATE volunteers SET number = $1 WHERE id = $2", u, 2, NULL, e)))
        goto out;
    rc = audit_write_new(tx, who, "create", "volunteer", *id, c,
                         json_pack("{s:b, s:b}", "resident", resident != 0, "phone", enc != NULL), e);
out:
    free(enc);
    return rc;
}

int vol_register_self(store_tx *tx, const nx_principal *who, int64_t *id, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_INT(who->resident_id)};
    int rc = store_query(tx, "SELECT community_id, name, birth_date FROM residents WHERE id = $1", p, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "居民不存在", e))) {
        store_rows_free(r);
        return rc;
    }
    char tmp[NX_TOKEN_CHARS], name[200], birth[16];
    token_random(tmp, sizeof tmp);
    int64_t c = store_int(r, 0);
    str_copy(name, store_text(r, 1) ? store_text(r, 1) : "", sizeof name);
    str_copy(birth, store_text(r, 2) ? store_text(r, 2) : "", sizeof birth);
    store_rows_free(r);
    store_param q[] = {P_INT(c), P_INT(who->resident_id), P_ID(who->role == ROLE_RESIDENT ? who->user_id : 0),
                       P_TEXT(tmp), P_TEXT(name), P_TEXT(birth[0] ? birth : NULL), P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "volunteers",
                         "community_id, resident_id, user_id, number, name, birth_date, created_at",
                         q, 7, id, e)))
        return rc;
    char number[32];
    snprintf(number, sizeof number, "V%06lld", (long long)*id);
    store_param u[] = {P_TEXT(number), P_INT(*id)};
    if ((rc = store_exec(tx, "UPDATE volunteers SET number = $1 WHERE id = $2", u, 2, NULL, e)))
        return rc;
    return audit_write_new(tx, who, "create", "volunteer", *id, c, json_pack("{s:b}", "self", 1), e);
}
