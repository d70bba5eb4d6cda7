/* elections_votes.c — what people do inside an election: nominate, review, object and answer,
 * vote; and the certificate of an elected resident.
 *
 * Nominees are residents only: the resident_id must be an active resident of the election's
 * community, checked in the same transaction as the insert. A vote is one row of election_ballots;
 * the UNIQUE (election, category, resident) constraint is what makes it one per resident and
 * category — the check before the insert only gives the clearer message, the constraint holds even
 * when two requests race. The window is checked against the clock at the insert: [vote_from,
 * vote_until) in epoch ms. */
#include "modules/elections/elections_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "report/pdf.h"
#include "secure/audit.h"

/* Begin a write on election id as who: the election loaded into *el, and who one of its
 * community's voters unless staff (NX_EPERM with refused). On failure nothing is left open. */
static int begin_as_voter(nx_app *app, const nx_principal *who, int64_t id, bool staff, const char *refused,
                          store_tx **tx, election_row *el, nx_err *e)
{
    int rc = elections_open(app, STORE_WRITE, who, id, tx, el, e);
    if (rc || staff)
        return rc;
    bool voter = false;
    if ((rc = elections_voter(*tx, who, el->community, &voter, e)) == 0 && !voter)
        rc = nx_fail(e, NX_EPERM, "", "%s", refused);
    if (rc)
        store_rollback(*tx);
    return rc;
}

int elections_nominate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *nid, nx_err *e)
{
    bool staff = elections_staff(who);
    if (!staff && !elections_resident(who))
        return nx_fail(e, NX_EPERM, "", "无权提名");
    static const char *const allowed[] = {"category_id", "resident_id", "name", "reason", NULL};
    int64_t cat = 0, resident = 0;
    const char *reason = NULL, *name = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "category_id", true, 1, INT64_MAX, &cat, e)) < 0 ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_read_str(in, "name", false, 40, &name, e)) || (rc = json_read_str(in, "reason", true, 1000, &reason, e)))
        return rc;
    if (!resident && !name)
        return nx_fail(e, NX_EINVAL, "resident_id", "请选择被提名的居民或填写其姓名");
    store_tx *tx;
    election_row el;
    if ((rc = begin_as_voter(app, who, id, staff, "只有本社区居民可以提名", &tx, &el, e)))
        return rc;
    if (strcmp(el.stage, "nomination")) {
        rc = nx_fail(e, NX_ECONFLICT, "stage", "提名阶段已结束");
        goto fail;
    }
    store_param c[] = {P_INT(cat), P_INT(id)};
    if ((rc = store_exists_or_fail(
             tx, "SELECT COUNT(*) FROM election_categories WHERE id = $1 AND election_id = $2", c, 2,
             "category_id", e, "评选类别不存在")))
        goto fail;
    if (!resident) { /* a resident names a neighbour: exactly one active resident of that name */
        store_param nq[] = {P_INT(el.community), P_TEXT(name)};
        store_rows *rows;
        int found = 0;
        if ((rc = store_query(tx,
                              "SELECT id FROM residents WHERE community_id = $1 AND status = 'active' AND name = $2 ORDER BY "
                              "id LIMIT 2",
                              nq, 2, &rows, e)))
            goto fail;
        while (store_row(rows))
            if (found++ == 0)
                resident = store_int(rows, 0);
        if ((rc = store_rows_end(rows, e)))
            goto fail;
        if (found != 1) {
            rc = nx_fail(e, NX_EINVAL, "name",
                         found ? "本社区有同名居民，请联系社区工作人员提名" : "本社区没有这位居民，被提名人须为本社区在册居民");
            goto fail;
        }
    }
    store_param r[] = {P_INT(resident), P_INT(el.community)};
    if ((rc = store_exists_or_fail(
             tx, "SELECT COUNT(*) FROM residents WHERE id = $1 AND community_id = $2 AND status = 'active'",
             r, 2, "resident_id", e, "被提名人须为本社区在册居民")))
        goto fail;
    store_param p[] = {P_INT(id), P_INT(cat), P_INT(resident), P_TEXT(reason), P_ID(who->user_id),
                       P_ID(staff ? 0 : who->resident_id), P_INT(clock_now_ms())};
    rc = store_one_int(
        tx,
        "INSERT INTO election_nominations (election_id, category_id, resident_id, reason, "
        "nominated_by_user, nominated_by_resident, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, "
        "'pending', $7) RETURNING id",
        p, 7, nid, e);
    if ((rc = store_conflict_field(rc, "resident_id", e, "该居民已在此类别被提名")))
        goto fail;
    if ((rc = audit_write_new(tx, who, "nominate", "election", id, el.community,
                              json_pack("{s:I, s:I}", "nomination_id", (json_int_t)*nid, "category_id", (json_int_t)cat),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int elections_review(nx_app *app, const nx_principal *who, int64_t id, int64_t nid, json_t *in, nx_err *e)
{
    if (!elections_staff(who))
        return nx_fail(e, NX_EPERM, "", "无权审查资格");
    static const char *const allowed[] = {"eligible", "reason", NULL};
    bool eligible = false;
    const char *reason = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_bool(in, "eligible", true, &eligible, e)) < 0 ||
        (rc = json_read_str(in, "reason", true, 500, &reason, e)))
        return rc;
    store_tx *tx;
    election_row el;
    if ((rc = elections_open(app, STORE_WRITE, who, id, &tx, &el, e)))
        return rc;
    if (strcmp(el.stage, "nomination") && strcmp(el.stage, "review")) {
        rc = nx_fail(e, NX_ECONFLICT, "stage", "资格审查阶段已结束");
        goto fail;
    }
    int64_t resident = 0;
    store_param q[] = {P_INT(nid), P_INT(id)};
    rc = store_one_int(tx, "SELECT resident_id FROM election_nominations WHERE id = $1 AND election_id = $2", q, 2,
                       &resident, e);
    if (rc == NX_ENOTFOUND)
        rc = nx_fail(e, NX_ENOTFOUND, "", "提名不存在");
    if (rc)
        goto fail;
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(eligible ? "eligible" : "ineligible"), P_TEXT(reason), P_ID(who->user_id), P_INT(now),
                       P_INT(nid)};
    if ((rc = store_exec(tx,
                         "UPDATE election_nominations SET status = $1, review_reason = $2, reviewed_by = $3, reviewed_at = "
                         "$4 WHERE id = $5",
                         p, 5, NULL, e)) ||
        (rc = audit_write_new(tx, who, "review", "election", id, el.community,
                              json_pack("{s:I, s:b}", "nomination_id", (json_int_t)nid, "eligible", eligible), e)) ||
        (rc = outbox_emit_new(tx, ELECTIONS_EV_NOMINATION_REVIEWED, el.community, "election", id,
                              json_pack("{s:I, s:I, s:I, s:b}", "election_id", (json_int_t)id, "nomination_id",
                                        (json_int_t)nid, "resident_id", (json_int_t)resident, "eligible", eligible),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int elections_object(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *oid, nx_err *e)
{
    bool staff = elections_staff(who);
    if (!staff && !elections_resident(who))
        return nx_fail(e, NX_EPERM, "", "无权提出异议");
    static const char *const resident_keys[] = {"nomination_id", "body", NULL};
    static const char *const staff_keys[] = {"nomination_id", "body", "received_on", NULL};
    int64_t nid = 0;
    const char *body = NULL, *received = NULL;
    int rc;
    if ((rc = json_only(in, staff ? staff_keys : resident_keys, e)) ||
        (rc = json_get_int(in, "nomination_id", true, 1, INT64_MAX, &nid, e)) < 0 ||
        (rc = json_read_str(in, "body", true, 1000, &body, e)) || (rc = json_read_date(in, "received_on", false, &received, e)))
        return rc;
    char today[11];
    date_format(date_today(), today);
    if (received && strcmp(received, today) > 0)
        return nx_fail(e, NX_EINVAL, "received_on", "收到日期不能晚于今天");
    store_tx *tx;
    election_row el;
    if ((rc = begin_as_voter(app, who, id, staff, "只有本社区居民可以提出异议", &tx, &el, e)))
        return rc;
    /* online, during the notice; a paper objection staff enter later keeps the day it was received */
    const char *on = received ? received : today;
    if (strcmp(el.stage, "publicity")) {
        rc = nx_fail(e, NX_ECONFLICT, "stage", "只能在公示阶段提出异议");
        goto fail;
    }
    if (strcmp(on, el.publicity_from) < 0 || strcmp(on, el.publicity_until) > 0) {
        rc = nx_fail(e, NX_ECONFLICT, received ? "received_on" : "stage", "公示期为 %s 至 %s，不在公示期内",
                     el.publicity_from, el.publicity_until);
        goto fail;
    }
    store_param c[] = {P_INT(nid), P_INT(id)};
    if ((rc = store_exists_or_fail(tx,
                                   "SELECT COUNT(*) FROM election_nominations WHERE id = $1 AND election_id "
                                   "= $2 AND status = 'eligible'",
                                   c, 2, "nomination_id", e, "公示名单中没有该候选人")))
        goto fail;
    store_param p[] = {P_INT(id), P_INT(nid), P_ID(who->user_id), P_TEXT(body), P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "election_objections",
                         "election_id, nomination_id, by_user, body, created_at",
                         p, 5, oid, e)) ||
        (rc = audit_write_new(tx, who, "object", "election", id, el.community,
                              json_pack("{s:I}", "objection_id", (json_int_t)*oid), e)) ||
        (rc = outbox_emit_new(tx, ELECTIONS_EV_OBJECTION_RAISED, el.community, "election", id,
                              json_pack("{s:I, s:I, s:I}", "election_id", (json_int_t)id, "objection_id",
                                        (json_int_t)*oid, "nomination_id", (json_int_t)nid),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int elections_answer(nx_app *app, const nx_principal *who, int64_t id, int64_t oid, json_t *in, nx_err *e)
{
    if (!elections_staff(who))
        return nx_fail(e, NX_EPERM, "", "无权答复异议");
    static const char *const allowed[] = {"answer", "upheld", NULL};
    const char *answer = NULL;
    bool upheld = false;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "answer", true, 1000, &answer, e)) ||
        (rc = json_get_bool(in, "upheld", true, &upheld, e)) < 0)
        return rc;
    store_tx *tx;
    election_row el;
    if ((rc = elections_open(app, STORE_WRITE, who, id, &tx, &el, e)))
        return rc;
    int64_t nid = 0, now = clock_now_ms(), changed = 0;
    store_param q[] = {P_INT(oid), P_INT(id)};
    rc = store_one_int(tx, "SELECT nomination_id FROM election_objections WHERE id = $1 AND election_id = $2", q, 2, &nid, e);
    if (rc == NX_ENOTFOUND)
        rc = nx_fail(e, NX_ENOTFOUND, "", "异议不存在");
    if (rc)
        goto fail;
    store_param p[] = {P_TEXT(answer), P_INT(upheld ? 1 : 0), P_ID(who->user_id), P_INT(now), P_INT(oid)};
    if ((rc = store_exec(tx,
                         "UPDATE election_objections SET answer = $1, upheld = $2, answered_by = $3, answered_at = $4 WHERE "
                         "id = $5 AND answered_at IS NULL",
                         p, 5, &changed, e)))
        goto fail;
    if (changed != 1) {
        rc = nx_fail(e, NX_ECONFLICT, "answer", "该异议已答复");
        goto fail;
    }
    if (upheld) {
        store_param u[] = {P_TEXT(answer), P_INT(nid)};
        if ((rc = store_exec(tx,
                             "UPDATE election_nominations SET status = 'ineligible', review_reason = $1 WHERE id = $2", u,
                             2, NULL, e)))
            goto fail;
    }
    if ((rc = audit_write_new(tx, who, "answer", "election", id, el.community,
                              json_pack("{s:I, s:b}", "objection_id", (json_int_t)oid, "upheld", upheld), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int elections_vote(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *bid, nx_err *e)
{
    if (!elections_resident(who))
        return nx_fail(e, NX_EPERM, "", "只有实名登记的居民可以投票");
    static const char *const allowed[] = {"category_id", "nomination_id", NULL};
    int64_t cat = 0, nid = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "category_id", true, 1, INT64_MAX, &cat, e)) < 0 ||
        (rc = json_get_int(in, "nomination_id", true, 1, INT64_MAX, &nid, e)) < 0)
        return rc;
    store_tx *tx;
    election_row el;
    if ((rc = begin_as_voter(app, who, id, false, "只有本社区在册居民可以投票", &tx, &el, e)))
        return rc;
    int64_t now = clock_now_ms();
    if (strcmp(el.stage, "voting") || now < el.vote_from) {
        rc = nx_fail(e, NX_ECONFLICT, strcmp(el.stage, "closed") ? "vote_from" : "vote_until",
                     strcmp(el.stage, "closed") ? "投票尚未开始" : "投票已结束");
        goto fail;
    }
    if (now >= el.vote_until) {
        rc = nx_fail(e, NX_ECONFLICT, "vote_until", "投票已截止");
        goto fail;
    }
    store_param c[] = {P_INT(nid), P_INT(id), P_INT(cat)};
    if ((rc = store_exists_or_fail(tx,
                                   "SELECT COUNT(*) FROM election_nominations WHERE id = $1 AND election_id "
                                   "= $2 AND category_id = $3 AND status = 'eligible'",
                                   c, 3, "nomination_id", e, "该类别没有这位候选人")))
        goto fail;
    store_param p[] = {P_INT(id), P_INT(cat), P_INT(who->resident_id), P_INT(nid), P_INT(now)};
    rc = app_insert(tx, "election_ballots",
                    "election_id, category_id, resident_id, nomination_id, created_at",
                    p, 5, bid, e);
    if ((rc = store_conflict_field(rc, "category_id", e, "您已在该类别投过票")))
        goto fail;
    /* the ballot is secret: the audit says that the resident voted in the category, not for whom */
    if ((rc = audit_write_new(tx, who, "vote", "election", id, el.community,
                              json_pack("{s:I}", "category_id", (json_int_t)cat), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int elections_certificate(nx_app *app, const nx_principal *who, int64_t id, int64_t nid, unsigned char **pdf,
                          size_t *len, nx_err *e)
{
    bool staff = elections_staff(who);
    if (!staff && !elections_resident(who))
        return nx_fail(e, NX_EPERM, "", "无权查看证书");
    store_tx *tx;
    election_row el;
    int rc = elections_open(app, STORE_READ, who, id, &tx, &el, e);
    if (rc)
        return rc;
    store_rows *r = NULL;
    store_param p[] = {P_INT(nid), P_INT(id)};
    if ((rc = store_query(tx,
                          "SELECT n.resident_id, rs.name, c.name, e.title, cm.name, n.elected, e.closed_at, n.votes FROM "
                          "election_nominations n JOIN residents rs ON rs.id = n.resident_id JOIN election_categories c ON "
                          "c.id = n.category_id JOIN elections e ON e.id = n.election_id JOIN communities cm ON cm.id = "
                          "e.community_id WHERE n.id = $1 AND n.election_id = $2",
                          p, 2, &r, e)) ||
        (rc = store_first(r, "提名不存在", e)))
        goto done;
    if (!staff && store_int(r, 0) != who->resident_id) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "提名不存在");
        goto done;
    }
    if (!store_int(r, 5)) {
        rc = nx_fail(e, NX_ECONFLICT, "", "该候选人未当选，没有证书");
        goto done;
    }
    char issuer[200], body[600], serial[64], footer[240], when[30], day[11];
    snprintf(issuer, sizeof issuer, "%s居民委员会", store_text(r, 4));
    snprintf(body, sizeof body, "%s 同志：在“%s”中，经居民提名、资格审查、公示和居民投票，被评为“%s”。特发此证，以资鼓励。",
             store_text(r, 1), store_text(r, 3), store_text(r, 2));
    snprintf(serial, sizeof serial, "编号：DZ%lld-%06lld", (long long)id, (long long)nid);
    clock_format_local(store_int(r, 6), when);
    str_copy(day, when, sizeof day);
    snprintf(footer, sizeof footer, "%s（盖章）  %s", issuer, day);
    char votes[24];
    snprintf(votes, sizeof votes, "%lld", (long long)store_int(r, 7));
    pdf_row rows[] = {{"姓名", store_text(r, 1)}, {"荣誉", store_text(r, 2)}, {"评选", store_text(r, 3)}, {"得票", votes}};
    pdf_form f = {.issuer = issuer, .title = "荣誉证书", .serial = serial, .body = body, .rows = rows, .nrows = 4,
                  .footer = footer};
    rc = pdf_render_form(&f, pdf, len, e);
done:
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}
