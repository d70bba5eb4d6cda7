/* council_polls.c — polls on a council decision (表决).
 *
 * The electorate is the estate's active council members, or every registered adult resident of the
 * estate (status active, 18 or older today), as the poll says. Each eligible person votes once:
 * online on the resident pages, or on paper, entered by staff — both go through one register
 * (council_poll_register, primary key poll + resident), so a second vote either way is a conflict.
 *
 * Secrecy. In a secret poll the register holds who voted and how (online or paper) and nothing else;
 * the choice goes only into council_poll_tally, one counter per choice with no voter, no id of a
 * ballot and no time. Every ballot updates every counter of the poll (adding 1 to one and 0 to the
 * others) in the transaction of the register row, so not even the row versions of the counters tell
 * which one a given transaction changed. No event, audit entry or log line carries a choice. The
 * counts are shown only once the poll is closed, so watching them move cannot link a voter either.
 * Caveat: until vacuum (PostgreSQL's dead tuples) or a checkpoint (SQLite's WAL pages) the database
 * keeps old versions of the counters, which a superuser with page-level tools could compare against
 * a transaction's register row; that is database-host access, guarded like the rest of the data.
 * In an open poll the register also keeps the choice, and staff see who voted what.
 *
 * Closing counts the electorate and the register: turnout below the poll's minimum publishes the
 * result as "not valid". The counts' total always equals the register (checked and shown).
 * Blocking; thread-safe. */
#include "modules/council/council_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_SELECT                                                                                          \
    "SELECT p.id, p.community_id, p.estate_id, s.name, p.decision_id, p.question, p.electorate, p.secret, "   \
    "p.min_turnout, p.status, p.eligible, p.ballots, p.valid, p.created_at, p.closed_at, p.choices FROM "      \
    "council_polls p JOIN estates s ON s.id = p.estate_id WHERE 1 = 1"
#define POLL_SPEC                                                                                              \
    "id:i community_id:i estate_id:i estate_name:t decision_id:i question:t electorate:t secret:b min_turnout:i " \
    "status:t eligible:i ballots:i - created_at:d closed_at:d"

static json_t *poll_row(store_rows *r)
{
    json_t *o = store_json_row(r, POLL_SPEC);
    if (!o)
        return NULL;
    const char *choices = store_text(r, 15);
    json_t *c = choices ? json_loads(choices, 0, NULL) : NULL;
    json_object_set_new(o, "choices", c ? c : json_array());
    const char *st = store_text(r, 9);
    bool closed = st && strcmp(st, "closed") == 0;
    json_object_set_new(o, "result", !closed ? json_null() : json_string(store_int(r, 12) ? "valid" : "not_valid"));
    json_object_set_new(o, "status_label", json_string(closed ? "已结束" : "表决中"));
    const char *el = store_text(r, 6);
    json_object_set_new(o, "electorate_label",
                        json_string(el && strcmp(el, "council") == 0 ? "议事会成员" : "本小区全体成年居民"));
    return o;
}

int council_poll_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e)
{
    store_page_spec s = {.row = poll_row};
    return cx_page(app, who, POLL_SELECT, "p.", f, true, &s, out, e);
}

/* The poll row in who's scope, on tx. */
static int poll_read(store_tx *tx, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    store_page_spec s = {.row = poll_row};
    return cx_get(tx, who, POLL_SELECT, "p.", id, &s, "表决不存在", out, e);
}

/* poll_read, and the poll still open: else NX_ECONFLICT on "status" with closed (the poll is left in
 * *out either way for the caller to release). */
static int open_poll(store_tx *tx, const nx_principal *who, int64_t id, const char *closed, json_t **out, nx_err *e)
{
    int rc = poll_read(tx, who, id, out, e);
    if (rc == 0 && strcmp(json_string_value(json_object_get(*out, "status")), "open") != 0)
        rc = nx_fail(e, NX_ECONFLICT, "status", "%s", closed);
    return rc;
}

/* The electorate's condition on residents r (and council members) of estate $N, adults born on or
 * before cutoff. */
static void electorate_q(sqlq *q, const char *electorate, int64_t estate, const char *cutoff)
{
    if (strcmp(electorate, "council") == 0) {
        sqlq_add(q, " AND r.id IN (SELECT cm.resident_id FROM council_members cm WHERE cm.active = 1 AND cm.estate_id = $%d)",
                 P_INT(estate));
    }
    sqlq_add(q, " AND r.estate_id = $%d AND r.status = 'active'", P_INT(estate));
    sqlq_add(q, " AND r.birth_date <= $%d", P_TEXT(cutoff));
}

/* Whether resident may vote in a poll of estate with electorate (on tx). */
static int eligible(store_tx *tx, const char *electorate, int64_t estate, int64_t resident, bool *ok, nx_err *e)
{
    char cutoff[11];
    cx_adult_cutoff(cutoff);
    sqlq q;
    sqlq_init(&q, "SELECT COUNT(*) FROM residents r WHERE 1 = 1");
    sqlq_add(&q, " AND r.id = $%d", P_INT(resident));
    electorate_q(&q, electorate, estate, cutoff);
    int64_t n = 0;
    int rc = cx_int(tx, &q, &n, e);
    *ok = n > 0;
    return rc;
}

static int count_electorate(store_tx *tx, const char *electorate, int64_t estate, int64_t *n, nx_err *e)
{
    char cutoff[11];
    cx_adult_cutoff(cutoff);
    sqlq q;
    sqlq_init(&q, "SELECT COUNT(*) FROM residents r WHERE 1 = 1");
    electorate_q(&q, electorate, estate, cutoff);
    return cx_int(tx, &q, n, e);
}

/* The poll with whether the reader voted and may vote (a store_build_fn). */
static int poll_build(store_tx *tx, const void *ctx, int64_t id, json_t **out, nx_err *e)
{
    const nx_principal *who = ctx;
    int rc = poll_read(tx, who, id, out, e);
    json_t *o = *out;
    if (rc)
        return rc;
    bool voted = false, may = false;
    if (who->resident_id && !cx_staff(who)) {
        sqlq q;
        sqlq_init(&q, "SELECT COUNT(*) FROM council_poll_register WHERE 1 = 1");
        sqlq_add(&q, " AND poll_id = $%d", P_INT(id));
        sqlq_add(&q, " AND resident_id = $%d", P_INT(who->resident_id));
        int64_t n = 0;
        if ((rc = cx_int(tx, &q, &n, e)) ||
            (rc = eligible(tx, json_string_value(json_object_get(o, "electorate")),
                           json_integer_value(json_object_get(o, "estate_id")), who->resident_id, &may, e)))
            return rc;
        voted = n > 0;
    }
    json_object_set_new(o, "voted", json_boolean(voted));
    json_object_set_new(o, "eligible_me", json_boolean(may && who->role == ROLE_RESIDENT));
    return 0;
}

int council_poll_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return cx_build(app, who, id, poll_build, out, e);
}

int council_poll_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"decision_id", "question", "electorate", "secret", "choices", "min_turnout", NULL};
    int64_t decision = 0, min_turnout = 0;
    const char *question = NULL, *electorate = NULL;
    bool secret = false;
    json_t *choices = NULL;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "decision_id", true, 1, INT64_MAX, &decision, e)) < 0 ||
        (rc = json_read_str(in, "question", false, 200, &question, e)) ||
        (rc = json_read_str(in, "electorate", true, 20, &electorate, e)) ||
        (rc = json_get_bool(in, "secret", true, &secret, e)) < 0 ||
        (rc = json_get_int(in, "min_turnout", false, 0, 100, &min_turnout, e)) < 0 ||
        (rc = json_get_str_array(in, "choices", false, 10, 30, &choices, e)) < 0)
        return rc;
    if (strcmp(electorate, "council") && strcmp(electorate, "residents"))
        return nx_fail(e, NX_EINVAL, "electorate", "投票范围须为 council（议事会成员）或 residents（全体成年居民）");
    json_t *list = json_array();
    size_t i, j;
    json_t *v;
    if (choices) {
        json_array_foreach(choices, i, v)
        {
            for (j = 0; j < i; j++)
                if (strcmp(json_string_value(json_array_get(choices, j)), json_string_value(v)) == 0) {
                    json_decref(list);
                    return nx_fail(e, NX_EINVAL, "choices", "选项不能重复");
                }
            json_array_append(list, v);
        }
        if (json_array_size(list) < 2) {
            json_decref(list);
            return nx_fail(e, NX_EINVAL, "choices", "至少需要两个选项");
        }
    } else {
        json_array_append_new(list, json_string("同意"));
        json_array_append_new(list, json_string("反对"));
        json_array_append_new(list, json_string("弃权"));
    }
    char *ctext = json_dumps(list, JSON_COMPACT);
    size_t nchoices = json_array_size(list);
    json_decref(list);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        free(ctext);
        return rc;
    }
    json_t *d = NULL;
    sqlq q;
    sqlq_init(&q, "SELECT d.community_id, d.grid_id, d.estate_id, t.title FROM council_decisions d JOIN council_topics t "
                  "ON t.id = d.topic_id WHERE 1 = 1");
    sqlq_add(&q, " AND d.id = $%d", P_INT(decision));
    cx_scope_q(who, "d.", &q);
    if ((rc = cx_one(tx, &q, "community_id:i grid_id:i estate_id:i title:t", "决定不存在", &d, e)) == NX_ENOTFOUND)
        rc = nx_fail(e, NX_EINVAL, "decision_id", "决定不存在");
    if (rc)
        goto done;
    int64_t community = json_integer_value(json_object_get(d, "community_id")),
            grid = json_integer_value(json_object_get(d, "grid_id")),
            estate = json_integer_value(json_object_get(d, "estate_id"));
    char qbuf[200];
    if (!question) {
        snprintf(qbuf, sizeof qbuf, "是否同意：%s", json_string_value(json_object_get(d, "title")));
        question = qbuf;
    }
    store_param p[] = {P_INT(community), P_ID(grid),           P_INT(estate),      P_INT(decision),
                       P_TEXT(question), P_TEXT(electorate),   P_INT(secret ? 1 : 0), P_TEXT(ctext),
                       P_INT(min_turnout), P_ID(who->user_id), P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "council_polls",
                         "community_id, grid_id, estate_id, decision_id, question, electorate, secret, "
                         "choices, min_turnout, created_by, created_at",
                         p, 11, id, e)))
        goto done;
    for (i = 0; i < nchoices; i++) {
        store_param pt[] = {P_INT(*id), P_INT((int64_t)i)};
        if ((rc = store_exec(tx, "INSERT INTO council_poll_tally (poll_id, choice, votes) VALUES ($1, $2, 0)", pt, 2,
                             NULL, e)))
            goto done;
    }
    rc = outbox_emit_new(tx, COUNCIL_EV_POLL_OPENED, community, "poll", *id,
                         json_pack("{s:I, s:I, s:I, s:s}", "poll_id", (json_int_t)*id, "decision_id",
                                   (json_int_t)decision, "estate_id", (json_int_t)estate, "electorate", electorate),
                         e);
done:
    json_decref(d);
    free(ctext);
    return store_finish(tx, rc, e);
}

int council_poll_vote(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    bool staff = cx_staff(who), self = cx_resident(who);
    if (!staff && !self)
        return nx_fail(e, NX_EPERM, "", "无权投票");
    static const char *const staff_fields[] = {"resident_id", "choice", NULL};
    static const char *const self_fields[] = {"choice", NULL};
    int64_t resident = 0;
    const char *choice = NULL;
    int rc;
    if ((rc = json_only(in, staff ? staff_fields : self_fields, e)) ||
        (staff && (rc = json_get_int(in, "resident_id", true, 1, INT64_MAX, &resident, e)) < 0) ||
        (rc = json_read_str(in, "choice", true, 30, &choice, e)))
        return rc;
    if (self)
        resident = who->resident_id;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    json_t *p = NULL;
    if ((rc = open_poll(tx, who, id, "表决已结束，不能再投票", &p, e)))
        goto done;
    int64_t index = -1;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(p, "choices"), i, c)
    {
        if (strcmp(json_string_value(c), choice) == 0)
            index = (int64_t)i;
    }
    if (index < 0) {
        rc = nx_fail(e, NX_EINVAL, "choice", "没有这个选项");
        goto done;
    }
    bool ok = false, secret = json_is_true(json_object_get(p, "secret"));
    if ((rc = eligible(tx, json_string_value(json_object_get(p, "electorate")),
                       json_integer_value(json_object_get(p, "estate_id")), resident, &ok, e)))
        goto done;
    if (!ok) {
        rc = staff ? nx_fail(e, NX_EINVAL, "resident_id", "该居民不在本次表决的投票范围内")
                   : nx_fail(e, NX_EPERM, "", "您不在本次表决的投票范围内");
        goto done;
    }
    store_param pr[] = {P_INT(id), P_INT(resident), P_TEXT(staff ? "paper" : "online"), secret ? P_NULL : P_INT(index)};
    rc = app_insert(tx, "council_poll_register",
                    "poll_id, resident_id, via, choice",
                    pr, 4, NULL, e);
    if (rc == NX_ECONFLICT)
        rc = nx_fail(e, NX_ECONFLICT, "", staff ? "该居民已经投过票（网上或纸质）" : "您已经投过票");
    store_param pt[] = {P_INT(id), P_INT(index)};
    /* every counter of the poll is written, one of them by 1 (see the essay) */
    if (rc || (rc = store_exec(tx,
                               "UPDATE council_poll_tally SET votes = votes + CASE WHEN choice = $2 THEN 1 ELSE 0 END "
                               "WHERE poll_id = $1",
                               pt, 2, NULL, e)))
        goto done;
done:
    json_decref(p);
    return store_finish(tx, rc, e);
}

int council_poll_close(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    store_tx *tx;
    int rc = cx_staff_begin(app, who, in, &tx, e);
    if (rc)
        return rc;
    json_t *p = NULL;
    if ((rc = open_poll(tx, who, id, "表决已结束", &p, e)))
        goto done;
    int64_t estate = json_integer_value(json_object_get(p, "estate_id")),
            community = json_integer_value(json_object_get(p, "community_id")),
            decision = json_integer_value(json_object_get(p, "decision_id")),
            min = json_integer_value(json_object_get(p, "min_turnout")), n = 0, ballots = 0;
    store_param pi[] = {P_INT(id)};
    if ((rc = count_electorate(tx, json_string_value(json_object_get(p, "electorate")), estate, &n, e)) ||
        (rc = store_one_int(tx, "SELECT COUNT(*) FROM council_poll_register WHERE poll_id = $1", pi, 1, &ballots, e)))
        goto done;
    bool valid = n > 0 && ballots * 100 >= min * n;
    store_param pc[] = {P_INT(id), P_INT(n), P_INT(ballots), P_INT(valid ? 1 : 0), P_INT(clock_now_ms())};
    if ((rc = store_exec(tx,
                         "UPDATE council_polls SET status = 'closed', eligible = $2, ballots = $3, valid = $4, "
                         "closed_at = $5 WHERE id = $1 AND status = 'open'",
                         pc, 5, NULL, e)) ||
        (rc = outbox_emit_new(tx, COUNCIL_EV_POLL_CLOSED, community, "poll", id,
                              json_pack("{s:I, s:I, s:I, s:b, s:I, s:I}", "poll_id", (json_int_t)id, "decision_id",
                                        (json_int_t)decision, "estate_id", (json_int_t)estate, "valid", valid,
                                        "ballots", (json_int_t)ballots, "eligible", (json_int_t)n),
                              e)))
        goto done;
done:
    json_decref(p);
    return store_finish(tx, rc, e);
}

/* The result: counts once closed, the register for staff (a store_build_fn). */
static int result_build(store_tx *tx, const void *ctx, int64_t id, json_t **out, nx_err *e)
{
    const nx_principal *who = ctx;
    json_t *p = NULL, *o = *out = json_object();
    int rc = poll_read(tx, who, id, &p, e);
    if (rc)
        goto done;
    bool closed = strcmp(json_string_value(json_object_get(p, "status")), "closed") == 0,
         secret = json_is_true(json_object_get(p, "secret"));
    const char *electorate = json_string_value(json_object_get(p, "electorate"));
    int64_t estate = json_integer_value(json_object_get(p, "estate_id")),
            min = json_integer_value(json_object_get(p, "min_turnout")), eligible_n = 0, ballots = 0;
    store_param pi[] = {P_INT(id)};
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM council_poll_register WHERE poll_id = $1", pi, 1, &ballots, e)))
        goto done;
    if (closed)
        eligible_n = json_integer_value(json_object_get(p, "eligible"));
    else if ((rc = count_electorate(tx, electorate, estate, &eligible_n, e)))
        goto done;
    json_object_set_new(o, "poll_id", json_integer(id));
    json_object_set(o, "question", json_object_get(p, "question"));
    json_object_set(o, "status", json_object_get(p, "status"));
    json_object_set_new(o, "secret", json_boolean(secret));
    json_object_set_new(o, "electorate", json_string(electorate));
    json_object_set_new(o, "eligible", json_integer(eligible_n));
    json_object_set_new(o, "ballots", json_integer(ballots));
    json_object_set_new(o, "turnout_pct", json_real(eligible_n ? 100.0 * (double)ballots / (double)eligible_n : 0.0));
    json_object_set_new(o, "min_turnout", json_integer(min));
    json_object_set(o, "result", json_object_get(p, "result"));
    const char *res = json_string_value(json_object_get(p, "result"));
    json_object_set_new(o, "result_label",
                        json_string(!res ? "表决中" : strcmp(res, "valid") == 0 ? "有效" : "无效（投票率未达最低要求）"));
    if (closed) {
        json_t *counts = json_array();
        int64_t total = 0;
        store_rows *r;
        if ((rc = store_query(tx, "SELECT choice, votes FROM council_poll_tally WHERE poll_id = $1 ORDER BY choice", pi, 1,
                              &r, e))) {
            json_decref(counts);
            goto done;
        }
        json_t *labels = json_object_get(p, "choices");
        while (store_row(r)) {
            int64_t ch = store_int(r, 0), votes = store_int(r, 1);
            total += votes;
            json_t *label = json_array_get(labels, (size_t)ch);
            json_array_append_new(counts, json_pack("{s:I, s:s, s:I}", "choice", (json_int_t)ch, "label",
                                                    label ? json_string_value(label) : "", "votes", (json_int_t)votes));
        }
        if ((rc = store_rows_end(r, e))) {
            json_decref(counts);
            goto done;
        }
        json_object_set_new(o, "counts", counts);
        json_object_set_new(o, "counts_total", json_integer(total));
        json_object_set_new(o, "matches_register", json_boolean(total == ballots));
    } else {
        json_object_set_new(o, "counts", json_null());
    }
    if (cx_staff(who)) {
        sqlq q;
        sqlq_init(&q, secret ? "SELECT g.resident_id, r.name, g.via FROM council_poll_register g JOIN residents r ON "
                               "r.id = g.resident_id WHERE 1 = 1"
                             : "SELECT g.resident_id, r.name, g.via, g.choice FROM council_poll_register g JOIN "
                               "residents r ON r.id = g.resident_id WHERE 1 = 1");
        sqlq_add(&q, " AND g.poll_id = $%d ORDER BY r.id", P_INT(id));
        if ((rc = cx_rows(tx, &q, secret ? "resident_id:i name:t via:t" : "resident_id:i name:t via:t choice:i", o,
                          "register", e)))
            goto done;
    }
done:
    json_decref(p);
    return rc;
}

int council_poll_result(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return cx_build(app, who, id, result_build, out, e);
}
