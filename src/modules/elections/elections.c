/* elections.c — elections, their stages, the count and the honour list (nominations, objections and
 * ballots are in elections_votes.c).
 *
 * The stage machine is the heart of the module: every move is checked against the stage the row is
 * in now, inside the write transaction that changes it (UPDATE … WHERE stage = the expected one), so
 * two staff pressing "next" at once move it once. Dates are days in Shanghai; the vote window is
 * stored as epoch ms [vote_from, vote_until). The count happens once, at close, from the ballots
 * table: votes per nomination, voters = distinct residents, valid when turnout reaches the minimum;
 * the result is then read from the stored figures and never recomputed. */
#include "modules/elections/elections_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "store/page.h"

bool elections_staff(const nx_principal *who)
{
    return perm_has(who, RIGHT_ELECTION_MANAGE);
}

bool elections_resident(const nx_principal *who)
{
    /* a family account is bound to the elder it looks after: it does not nominate or vote as them */
    return perm_has(who, RIGHT_SELF) && who->resident_id && who->role == ROLE_RESIDENT;
}

void elections_scope_q(sqlq *q, const nx_principal *who)
{
    if (elections_staff(who)) {
        if (who->scope == SCOPE_GRID || who->scope == SCOPE_SELF)
            sqlq_add(q, " AND e.community_id = $%d", P_INT(who->community_id));
        else
            perm_scope_q(who, "e.", NULL, q);
    } else if (elections_resident(who)) {
        sqlq_add(q, " AND e.community_id = (SELECT community_id FROM residents WHERE id = $%d)",
                 P_INT(who->resident_id));
    } else {
        sqlq_sql(q, " AND 1 = 0");
    }
}

const char *elections_stage_label(const char *stage)
{
    static const char *const map[][2] = {{"nomination", "提名"}, {"review", "资格审查"}, {"publicity", "公示"},
                                         {"voting", "投票"},     {"closed", "已结束"}};
    const char *l = STR_LABEL(map, stage);
    return l ? l : "";
}

int64_t elections_day_start(const char *day)
{
    nx_date d;
    if (date_parse(day, &d))
        return 0;
    return (date_to_days(d) * 86400LL - 8 * 3600LL) * 1000LL;
}

int elections_load(store_tx *tx, const nx_principal *who, int64_t id, election_row *el, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT e.id, e.community_id, e.stage, e.publicity_days, e.vote_from, e.vote_until, "
                  "e.min_turnout_pct, e.publicity_until, e.publicity_from FROM elections e WHERE 1 = 1");
    sqlq_add(&q, " AND e.id = $%d", P_INT(id));
    elections_scope_q(&q, who);
    store_rows *r;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "评选活动不存在", e)) == 0) {
        memset(el, 0, sizeof *el);
        el->id = store_int(r, 0);
        el->community = store_int(r, 1);
        str_copy(el->stage, store_text(r, 2), sizeof el->stage);
        el->publicity_days = store_int(r, 3);
        el->vote_from = store_int(r, 4);
        el->vote_until = store_int(r, 5);
        el->min_turnout = store_int(r, 6);
        str_copy(el->publicity_until, store_text(r, 7) ? store_text(r, 7) : "", sizeof el->publicity_until);
        str_copy(el->publicity_from, store_text(r, 8) ? store_text(r, 8) : "", sizeof el->publicity_from);
    }
    store_rows_free(r);
    return rc;
}

int elections_open(nx_app *app, int mode, const nx_principal *who, int64_t id, store_tx **tx, election_row *el,
                   nx_err *e)
{
    int rc = store_begin(app->db, mode, tx, e);
    if (rc == 0 && (rc = elections_load(*tx, who, id, el, e)))
        store_rollback(*tx);
    return rc;
}

int elections_voter(store_tx *tx, const nx_principal *who, int64_t community, bool *ok, nx_err *e)
{
    *ok = false;
    if (!elections_resident(who))
        return 0;
    int64_t n = 0;
    store_param p[] = {P_INT(who->resident_id), P_INT(community)};
    int rc = store_one_int(tx, "SELECT COUNT(*) FROM residents WHERE id = $1 AND community_id = $2 AND status = 'active'",
                           p, 2, &n, e);
    *ok = n > 0;
    return rc;
}

#define ELECTION_COLS                                                                                            \
    "SELECT e.id, e.community_id, e.title, e.stage, e.publicity_days, e.publicity_from, e.publicity_until, "        \
    "e.vote_from, e.vote_until, e.min_turnout_pct, e.eligible_voters, e.voters, e.valid, e.closed_at, (SELECT "     \
    "COUNT(*) FROM election_nominations n WHERE n.election_id = e.id) FROM elections e WHERE 1 = 1"

static json_t *election_row_json(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i title:t stage:t publicity_days:i publicity_from:t "
                                  "publicity_until:t vote_from:d - min_turnout_pct:i eligible_voters:i voters:i valid:b "
                                  "closed_at:d nomination_count:i");
    if (o) {
        json_object_set_new(o, "stage_label", json_string(elections_stage_label(store_text(r, 3))));
        /* the window's last day (vote_until is the exclusive end, midnight after it) */
        if (store_isnull(r, 8)) {
            json_object_set_new(o, "vote_until", json_null());
        } else {
            char last[11];
            date_format(date_from_days((store_int(r, 8) / 1000 + 8 * 3600) / 86400 - 1), last);
            json_object_set_new(o, "vote_until", json_string(last));
        }
        if (!store_isnull(r, 7)) {
            char first[11];
            date_format(date_from_days((store_int(r, 7) / 1000 + 8 * 3600) / 86400), first);
            json_object_set_new(o, "vote_from", json_string(first));
        }
    }
    return o;
}

static void election_where(sqlq *q, const char *head, const nx_principal *who, const elections_filter *f)
{
    sqlq_init(q, head);
    elections_scope_q(q, who);
    sqlq_eq_int(q, "e.community_id", f->community_id);
    sqlq_eq_text(q, "e.stage", f->stage);
}

int elections_list(nx_app *app, const nx_principal *who, const elections_filter *f, json_t **out, nx_err *e)
{
    if (!elections_staff(who) && !elections_resident(who))
        return nx_fail(e, NX_EPERM, "", "无权查看评选活动");
    if (f->stage && !*elections_stage_label(f->stage))
        return nx_fail(e, NX_EINVAL, "stage", "阶段不正确");
    sqlq q, count;
    election_where(&q, ELECTION_COLS, who, f);
    election_where(&count, "SELECT COUNT(*) FROM elections e WHERE 1 = 1", who, f);
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = &count, .row = election_row_json};
    return store_page_by_id(app->db, &q, "e.", f->after, false, &s, out, e);
}

/* Append to o[key] every row of sql (one parameter, the election) through spec. */
static int add_rows(store_tx *tx, json_t *o, const char *key, const char *sql, const store_param *p, int n,
                    const char *spec, nx_err *e)
{
    store_rows *r;
    int rc = store_query(tx, sql, p, n, &r, e);
    if (rc)
        return rc;
    json_t *list = json_array();
    json_object_set_new(o, key, list);
    while (store_row(r))
        json_array_append_new(list, store_json_row(r, spec));
    return store_rows_end(r, e);
}

int elections_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    bool staff = elections_staff(who);
    if (!staff && !elections_resident(who))
        return nx_fail(e, NX_EPERM, "", "无权查看评选活动");
    sqlq q;
    sqlq_init(&q, ELECTION_COLS);
    sqlq_add(&q, " AND e.id = $%d", P_INT(id));
    elections_scope_q(&q, who);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r = NULL;
    json_t *o = NULL;
    if ((rc = sqlq_query(tx, &q, &r, e)) || (rc = store_first(r, "评选活动不存在", e))) {
        store_rows_free(r);
        goto done;
    }
    o = election_row_json(r);
    bool closed = strcmp(store_text(r, 3), "closed") == 0;
    bool public = closed || strcmp(store_text(r, 3), "publicity") == 0 || strcmp(store_text(r, 3), "voting") == 0;
    store_rows_free(r);
    store_param p1[] = {P_INT(id)};
    store_param p2[] = {P_INT(id), P_INT(staff ? 1 : 0), P_INT(public ? 1 : 0), P_INT(who->resident_id),
                        P_INT(closed ? 1 : 0)};
    if ((rc = add_rows(tx, o, "categories", "SELECT id, name, seats FROM election_categories WHERE election_id = $1 "
                                            "ORDER BY sort, id",
                       p1, 1, "id:i name:t seats:i", e)) ||
        (rc = add_rows(tx, o, "nominations",
                       "SELECT n.id, n.category_id, n.resident_id, r.name, n.reason, n.status, n.review_reason, CASE "
                       "WHEN $5 = 1 THEN n.votes END, n.elected FROM election_nominations n JOIN residents r ON r.id = "
                       "n.resident_id WHERE n.election_id = $1 AND ($2 = 1 OR ($3 = 1 AND n.status = 'eligible') OR "
                       "n.nominated_by_resident = $4) ORDER BY n.category_id, n.id",
                       p2, 5, "id:i category_id:i resident_id:i name:t reason:t status:t review_reason:t votes:i elected:b",
                       e)))
        goto done;
    store_param p3[] = {P_INT(id), P_INT(staff ? 1 : 0), P_INT(who->user_id)};
    if ((rc = add_rows(tx, o, "objections",
                       "SELECT id, nomination_id, body, answer, upheld, answered_at FROM election_objections WHERE "
                       "election_id = $1 AND ($2 = 1 OR by_user = $3) ORDER BY id",
                       p3, 3, "id:i nomination_id:i body:t answer:t upheld:b answered_at:d", e)))
        goto done;
    store_param p4[] = {P_INT(id), P_INT(who->resident_id)};
    if ((rc = add_rows(tx, o, "my_votes",
                       "SELECT category_id, nomination_id FROM election_ballots WHERE election_id = $1 AND resident_id = $2 "
                       "ORDER BY category_id",
                       p4, 2, "category_id:i nomination_id:i", e)))
        goto done;
done:
    return store_read_finish(tx, rc, o, out);
}

static int target_community(store_tx *tx, const nx_principal *who, int64_t given, int64_t *community, nx_err *e)
{
    if (who->scope == SCOPE_COMMUNITY || who->scope == SCOPE_GRID) {
        if (given && given != who->community_id)
            return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
        *community = who->community_id;
        return 0;
    }
    if (!given)
        return nx_fail(e, NX_EINVAL, "community_id", "请指定社区");
    int64_t one = 0;
    store_param p[] = {P_INT(given)};
    int rc = store_one_int(tx, "SELECT id FROM communities WHERE id = $1", p, 1, &one, e);
    if (rc == NX_ENOTFOUND || (rc == 0 && !perm_covers(who, tx, given, 0)))
        return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
    *community = given;
    return rc;
}

int elections_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!elections_staff(who))
        return nx_fail(e, NX_EPERM, "", "无权组织评选");
    static const char *const allowed[] = {"title", "categories", "publicity_days", "min_turnout_pct", "community_id", NULL};
    static const char *const cat_keys[] = {"name", "seats", NULL};
    const char *title = NULL;
    int64_t days = 7, turnout = 0, given = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "title", true, 100, &title, e)) ||
        (rc = json_get_int(in, "publicity_days", false, 1, 30, &days, e)) < 0 ||
        (rc = json_get_int(in, "min_turnout_pct", false, 0, 100, &turnout, e)) < 0 ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &given, e)) < 0)
        return rc;
    json_t *cats = json_object_get(in, "categories");
    if (!json_is_array(cats) || json_array_size(cats) < 1 || json_array_size(cats) > 20)
        return nx_fail(e, NX_EINVAL, "categories", "请设置 1 至 20 个评选类别");
    size_t i;
    json_t *c;
    json_array_foreach(cats, i, c) {
        const char *name = NULL;
        int64_t seats = 0;
        if ((rc = json_only(c, cat_keys, e)) || (rc = json_read_str(c, "name", true, 40, &name, e)) ||
            (rc = json_get_int(c, "seats", true, 1, 100, &seats, e)) < 0) {
            char f[64];
            snprintf(f, sizeof f, "categories[%zu].%s", i, e->field);
            str_copy(e->field, f, sizeof e->field);
            return rc;
        }
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, now = clock_now_ms();
    if ((rc = target_community(tx, who, given, &community, e)))
        goto fail;
    store_param p[] = {P_INT(community), P_TEXT(title), P_INT(days), P_INT(turnout), P_ID(who->user_id), P_INT(now)};
    if ((rc = store_one_int(tx,
                            "INSERT INTO elections (community_id, title, stage, publicity_days, min_turnout_pct, created_by, "
                            "created_at, updated_at) VALUES ($1, $2, 'nomination', $3, $4, $5, $6, $6) RETURNING id",
                            p, 6, id, e)))
        goto fail;
    json_array_foreach(cats, i, c) {
        store_param cp[] = {P_INT(*id), P_TEXT(json_string_value(json_object_get(c, "name"))),
                            P_INT(json_integer_value(json_object_get(c, "seats"))), P_INT((int64_t)i)};
        rc = app_insert(tx, "election_categories",
                        "election_id, name, seats, sort",
                        cp, 4, NULL, e);
        if ((rc = store_conflict_field(rc, "categories", e, "评选类别重名")))
            goto fail;
    }
    if ((rc = audit_write(tx, who, "create", "election", *id, community, NULL, e)) ||
        (rc = outbox_emit_new(tx, ELECTIONS_EV_STAGE_CHANGED, community, "election", *id,
                              json_pack("{s:I, s:s}", "election_id", (json_int_t)*id, "stage", "nomination"), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* The count at close: votes per nomination, voters, validity, the elected. */
static int count_votes(store_tx *tx, const election_row *el, int64_t now, json_t *elected, nx_err *e)
{
    store_param p[] = {P_INT(el->id)};
    int rc;
    if ((rc = store_exec(tx,
                         "UPDATE election_nominations SET votes = (SELECT COUNT(*) FROM election_ballots b WHERE "
                         "b.nomination_id = election_nominations.id) WHERE election_id = $1",
                         p, 1, NULL, e)))
        return rc;
    int64_t voters = 0, eligible = 0;
    if ((rc = store_one_int(tx, "SELECT COUNT(DISTINCT resident_id) FROM election_ballots WHERE election_id = $1", p, 1,
                            &voters, e)) ||
        (rc = store_one_int(tx, "SELECT COALESCE(eligible_voters, 0) FROM elections WHERE id = $1", p, 1, &eligible, e)))
        return rc;
    bool valid = eligible > 0 && voters * 100 >= el->min_turnout * eligible;
    store_param u[] = {P_INT(voters), P_INT(valid ? 1 : 0), P_INT(now), P_INT(el->id)};
    if ((rc = store_exec(tx, "UPDATE elections SET voters = $1, valid = $2, closed_at = $3 WHERE id = $4", u, 4, NULL, e)))
        return rc;
    if (!valid)
        return 0;
    if ((rc = store_exec(tx,
                         "UPDATE election_nominations SET elected = 1 WHERE election_id = $1 AND status = 'eligible' AND "
                         "votes > 0 AND (SELECT COUNT(*) FROM election_nominations o WHERE o.category_id = "
                         "election_nominations.category_id AND o.status = 'eligible' AND o.votes > "
                         "election_nominations.votes) < (SELECT seats FROM election_categories c WHERE c.id = "
                         "election_nominations.category_id)",
                         p, 1, NULL, e)))
        return rc;
    store_rows *r;
    if ((rc = store_query(tx, "SELECT resident_id FROM election_nominations WHERE election_id = $1 AND elected = 1 ORDER "
                              "BY id",
                          p, 1, &r, e)))
        return rc;
    while (store_row(r))
        json_array_append_new(elected, json_integer(store_int(r, 0)));
    return store_rows_end(r, e);
}

int elections_stage(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!elections_staff(who))
        return nx_fail(e, NX_EPERM, "", "无权推进评选阶段");
    static const char *const allowed[] = {"to", "publicity_from", "vote_from", "vote_until", NULL};
    const char *to = NULL, *pfrom = NULL, *vfrom = NULL, *vuntil = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "to", true, 20, &to, e)) ||
        (rc = json_read_date(in, "publicity_from", false, &pfrom, e)) ||
        (rc = json_read_date(in, "vote_from", false, &vfrom, e)) ||
        (rc = json_read_date(in, "vote_until", false, &vuntil, e)))
        return rc;
    static const char *const order[] = {"nomination", "review", "publicity", "voting", "closed"};
    int want = -1;
    for (int k = 1; k < 5; k++)
        if (strcmp(order[k], to) == 0)
            want = k;
    if (want < 0)
        return nx_fail(e, NX_EINVAL, "to", "阶段应为 review、publicity、voting 或 closed");
    char today[11];
    date_format(date_today(), today);
    store_tx *tx;
    election_row el;
    if ((rc = elections_open(app, STORE_WRITE, who, id, &tx, &el, e)))
        return rc;
    json_t *elected = json_array();
    if (strcmp(el.stage, order[want - 1])) {
        rc = nx_fail(e, NX_ECONFLICT, "to", "评选当前为“%s”阶段，不能进入“%s”阶段", elections_stage_label(el.stage),
                     elections_stage_label(to));
        goto fail;
    }
    int64_t now = clock_now_ms(), n = 0;
    store_param pid[] = {P_INT(id)};
    if (want == 1) {
        store_param p[] = {P_INT(now), P_INT(id)};
        rc = store_exec(tx, "UPDATE elections SET stage = 'review', updated_at = $1 WHERE id = $2 AND stage = 'nomination'",
                        p, 2, NULL, e);
    } else if (want == 2) {
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM election_nominations WHERE election_id = $1 AND status = 'pending'",
                                pid, 1, &n, e)))
            goto fail;
        if (n) {
            rc = nx_fail(e, NX_ECONFLICT, "to", "还有 %lld 个提名未审查", (long long)n);
            goto fail;
        }
        if ((rc = store_one_int(tx,
                                "SELECT COUNT(*) FROM election_nominations WHERE election_id = $1 AND status = 'eligible'",
                                pid, 1, &n, e)))
            goto fail;
        if (!n) {
            rc = nx_fail(e, NX_ECONFLICT, "to", "没有通过资格审查的候选人");
            goto fail;
        }
        const char *from = pfrom ? pfrom : today;
        if (strcmp(from, today) > 0) {
            rc = nx_fail(e, NX_EINVAL, "publicity_from", "公示开始日期不能晚于今天");
            goto fail;
        }
        nx_date d;
        date_parse(from, &d);
        char until[11];
        date_format(date_from_days(date_to_days(d) + el.publicity_days - 1), until);
        store_param p[] = {P_TEXT(from), P_TEXT(until), P_INT(now), P_INT(id)};
        rc = store_exec(tx,
                        "UPDATE elections SET stage = 'publicity', publicity_from = $1, publicity_until = $2, updated_at = "
                        "$3 WHERE id = $4 AND stage = 'review'",
                        p, 4, NULL, e);
    } else if (want == 3) {
        if (strcmp(el.publicity_until, today) >= 0) {
            rc = nx_fail(e, NX_ECONFLICT, "to", "公示期至 %s，尚未结束", el.publicity_until);
            goto fail;
        }
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM election_objections WHERE election_id = $1 AND answered_at IS NULL",
                                pid, 1, &n, e)))
            goto fail;
        if (n) {
            rc = nx_fail(e, NX_ECONFLICT, "to", "还有 %lld 条异议未答复", (long long)n);
            goto fail;
        }
        if (!vfrom || !vuntil) {
            rc = nx_fail(e, NX_EINVAL, vfrom ? "vote_until" : "vote_from", "请设置投票起止日期");
            goto fail;
        }
        if (strcmp(vfrom, el.publicity_until) <= 0) {
            rc = nx_fail(e, NX_EINVAL, "vote_from", "投票须在公示结束（%s）之后开始", el.publicity_until);
            goto fail;
        }
        if (strcmp(vuntil, vfrom) < 0) {
            rc = nx_fail(e, NX_EINVAL, "vote_until", "投票截止日期不能早于开始日期");
            goto fail;
        }
        int64_t from_ms = elections_day_start(vfrom), until_ms = elections_day_start(vuntil) + 86400000LL, voters = 0;
        store_param c[] = {P_INT(el.community)};
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM residents WHERE community_id = $1 AND status = 'active'", c, 1,
                                &voters, e)))
            goto fail;
        store_param p[] = {P_INT(from_ms), P_INT(until_ms), P_INT(voters), P_INT(now), P_INT(id)};
        rc = store_exec(tx,
                        "UPDATE elections SET stage = 'voting', vote_from = $1, vote_until = $2, eligible_voters = $3, "
                        "updated_at = $4 WHERE id = $5 AND stage = 'publicity'",
                        p, 5, NULL, e);
    } else {
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM election_objections WHERE election_id = $1 AND answered_at IS NULL",
                                pid, 1, &n, e)))
            goto fail;
        if (n) {
            rc = nx_fail(e, NX_ECONFLICT, "to", "还有 %lld 条异议未答复，不能公布结果", (long long)n);
            goto fail;
        }
        /* closing early ends the window now: no ballot is accepted after the count */
        store_param p[] = {P_INT(now), P_INT(id)};
        if ((rc = store_exec(tx,
                             "UPDATE elections SET stage = 'closed', vote_until = CASE WHEN vote_until > $1 THEN $1 ELSE "
                             "vote_until END, updated_at = $1 WHERE id = $2 AND stage = 'voting'",
                             p, 2, NULL, e)) ||
            (rc = count_votes(tx, &el, now, elected, e)))
            goto fail;
    }
    if (rc)
        goto fail;
    if ((rc = audit_write_new(tx, who, "stage", "election", id, el.community, json_pack("{s:s}", "to", to), e)) ||
        (rc = outbox_emit_new(tx, ELECTIONS_EV_STAGE_CHANGED, el.community, "election", id,
                              json_pack("{s:I, s:s}", "election_id", (json_int_t)id, "stage", to), e)))
        goto fail;
    if (want == 4) {
        int64_t valid = 0;
        if ((rc = store_one_int(tx, "SELECT valid FROM elections WHERE id = $1", pid, 1, &valid, e)) ||
            (rc = outbox_emit_new(tx, ELECTIONS_EV_RESULT_PUBLISHED, el.community, "election", id,
                                  json_pack("{s:I, s:b, s:O}", "election_id", (json_int_t)id, "valid", valid != 0,
                                            "elected", elected),
                                  e)))
            goto fail;
    }
    json_decref(elected);
    return store_commit(tx, e);
fail:
    json_decref(elected);
    store_rollback(tx);
    return rc;
}

int elections_result(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!elections_staff(who) && !elections_resident(who))
        return nx_fail(e, NX_EPERM, "", "无权查看评选结果");
    store_tx *tx;
    election_row el;
    int rc = elections_open(app, STORE_READ, who, id, &tx, &el, e);
    if (rc)
        return rc;
    json_t *o = NULL;
    store_rows *r = NULL;
    if (strcmp(el.stage, "closed")) {
        rc = nx_fail(e, NX_ECONFLICT, "stage", "评选尚未结束，结果未公布");
        goto done;
    }
    store_param p[] = {P_INT(id)};
    if ((rc = store_query(tx, "SELECT title, eligible_voters, voters, valid FROM elections WHERE id = $1", p, 1, &r, e)) ||
        (rc = store_first(r, "评选活动不存在", e)))
        goto done;
    int64_t eligible = store_int(r, 1), voters = store_int(r, 2);
    o = json_pack("{s:I, s:s, s:I, s:I, s:f, s:I, s:b, s:[]}", "election_id", (json_int_t)id, "title", store_text(r, 0),
                  "eligible_voters", (json_int_t)eligible, "voters", (json_int_t)voters, "turnout_pct",
                  eligible ? (double)(voters * 1000 / eligible) / 10.0 : 0.0, "min_turnout_pct",
                  (json_int_t)el.min_turnout, "valid", store_int(r, 3) != 0, "categories");
    store_rows_free(r);
    r = NULL;
    json_t *cats = json_object_get(o, "categories"), *cur = NULL;
    if ((rc = store_query(tx,
                          "SELECT c.id, c.name, c.seats, n.id, n.resident_id, rs.name, n.votes, n.elected FROM "
                          "election_categories c LEFT JOIN election_nominations n ON n.category_id = c.id AND n.status = "
                          "'eligible' LEFT JOIN residents rs ON rs.id = n.resident_id WHERE c.election_id = $1 ORDER BY "
                          "c.sort, c.id, n.votes DESC, n.id",
                          p, 1, &r, e)))
        goto done;
    int64_t cur_id = 0;
    while (store_row(r)) {
        if (!cur || store_int(r, 0) != cur_id) {
            cur_id = store_int(r, 0);
            cur = json_pack("{s:I, s:s, s:I, s:[]}", "id", (json_int_t)cur_id, "name", store_text(r, 1), "seats",
                            (json_int_t)store_int(r, 2), "candidates");
            json_array_append_new(cats, cur);
        }
        if (!store_isnull(r, 3)) {
            json_t *c = json_object();
            store_json_cols(c, r, 3, "nomination_id:i resident_id:i name:t votes:i elected:b");
            json_array_append_new(json_object_get(cur, "candidates"), c);
        }
    }
    rc = store_rows_end(r, e);
    r = NULL;
done:
    store_rows_free(r);
    return store_read_finish(tx, rc, o, out);
}

#define HONOURS_MAX 1000

static json_t *honour_row(store_rows *r)
{
    return store_json_row(r, "election_id:i title:t category:t resident_id:i name:t votes:i closed_at:d");
}

int elections_honours(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    if (!elections_staff(who) && !elections_resident(who))
        return nx_fail(e, NX_EPERM, "", "无权查看光荣榜");
    sqlq q;
    sqlq_init(&q, "SELECT e.id, e.title, c.name, n.resident_id, r.name, n.votes, e.closed_at FROM election_nominations n "
                  "JOIN elections e ON e.id = n.election_id JOIN election_categories c ON c.id = n.category_id JOIN "
                  "residents r ON r.id = n.resident_id WHERE n.elected = 1 AND e.stage = 'closed' AND e.valid = 1");
    elections_scope_q(&q, who);
    sqlq_eq_int(&q, "e.community_id", community_id);
    sqlq_sql(&q, " ORDER BY e.closed_at DESC, e.id DESC, c.sort, n.votes DESC, n.id LIMIT %d", HONOURS_MAX);
    /* the newest HONOURS_MAX names are the board: older ones stay in each election's result */
    return store_items_read(app->db, &q, &(store_page_spec){.row = honour_row}, out, e);
}
