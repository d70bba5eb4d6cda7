/* elections.h — model-resident selections (四德标兵 — 孝德, 诚德, 公德, 美德 — and similar): categories
 * and seats, nominations of residents, eligibility review, public notice (公示) with objections,
 * one vote per verified resident per category, results, an honour list and certificates.
 *
 * Stages only move forward, each by staff (RIGHT_ELECTION_MANAGE) and each checked:
 *   nomination → review → publicity → voting → closed
 * review → publicity needs every nomination reviewed; publicity_from (a date, today or earlier, so a
 * notice already posted on the board can be recorded) starts a notice of publicity_days days;
 * publicity → voting needs the notice over (today after publicity_until) and every objection
 * answered, and the vote window (vote_from..vote_until, dates, Shanghai days, inclusive) starts after
 * the notice; a ballot outside the window or stage is refused (NX_ECONFLICT naming the field).
 * Closing counts the ballots once: turnout against the community's active residents when the vote
 * opened; the election is valid when turnout reaches min_turnout_pct; in a valid election a candidate
 * is elected when fewer candidates of the category than its seats have more votes (and they have at
 * least one vote), so a tie for the last seat elects every tied candidate.
 *
 * Voters are verified residents: accounts bound to an active resident record of the election's
 * community (RIGHT_SELF with a resident). One ballot per (election, category, resident) is a UNIQUE
 * constraint of the database, never a phone, a device or an address. Nominees are residents only.
 * Inputs are validated strictly (base/jsonin.h); nothing changes when a call fails. Blocking,
 * thread-safe, no threads of its own. */
#ifndef NX_MODULES_ELECTIONS_H
#define NX_MODULES_ELECTIONS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/app.h"

/* Events (notify/outbox.h), ids only in payloads:
 *   elections.stage.changed      {"election_id", "stage"}  subject election:<id> (voting: a vote opened)
 *   elections.nomination.reviewed {"election_id", "nomination_id", "resident_id", "eligible"}
 *   elections.objection.raised   {"election_id", "objection_id", "nomination_id"}
 *   elections.result.published   {"election_id", "valid", "elected": [resident ids]} */
#define ELECTIONS_EV_STAGE_CHANGED "elections.stage.changed"
#define ELECTIONS_EV_NOMINATION_REVIEWED "elections.nomination.reviewed"
#define ELECTIONS_EV_OBJECTION_RAISED "elections.objection.raised"
#define ELECTIONS_EV_RESULT_PUBLISHED "elections.result.published"

typedef struct elections_filter {
    int64_t community_id;
    const char *stage;
    int64_t after;
    int limit;
} elections_filter;

/* A page of elections in view: staff their scope, residents their community's. Items: {id,
 * community_id, title, stage, stage_label, publicity_days, publicity_from, publicity_until,
 * vote_from, vote_until, min_turnout_pct, eligible_voters, voters, valid, nomination_count}. */
int elections_list(nx_app *app, const nx_principal *who, const elections_filter *f, json_t **out, nx_err *e);
/* One election with categories [{id, name, seats}], nominations [{id, category_id, resident_id,
 * name, reason, status, review_reason, votes (closed only), elected}] (residents see the eligible
 * ones from publicity on, and the ones they nominated), objections [{id, nomination_id, body,
 * answer, upheld, answered_at}] (staff; residents their own), my_votes [category ids] (residents). */
int elections_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {title, categories: [{name, seats}] (1..20), publicity_days? (1..30, default 7),
 * min_turnout_pct? (0..100), community_id? (street/all scope)}. ELECTION_MANAGE. */
int elections_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* Move to the next stage: {to: review|publicity|voting|closed, publicity_from? (publicity),
 * vote_from?, vote_until? (voting, both required)}. NX_ECONFLICT (field "to") for a stage out of
 * order or a condition not met (named in the message); NX_EINVAL for a bad date. */
int elections_stage(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* {category_id, resident_id | name, reason}: by staff or by a resident of the community (nominating
 * anyone, themselves included), in the nomination stage. A nominee who is not an active resident of
 * the community is NX_EINVAL naming resident_id; a name must be that of exactly one active resident
 * of the community (else NX_EINVAL naming name: none, or namesakes staff must tell apart); the same
 * person twice in a category NX_ECONFLICT. */
int elections_nominate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *nid, nx_err *e);
/* {eligible: bool, reason}: staff, nomination or review stage. */
int elections_review(nx_app *app, const nx_principal *who, int64_t id, int64_t nid, json_t *in, nx_err *e);
/* {nomination_id, body}: a resident of the community during the notice (publicity_from ..
 * publicity_until), on an eligible nomination; staff may also enter a paper objection later, with
 * received_on (a day of the notice), while the election is still in publicity. *oid receives the
 * objection's id. */
int elections_object(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *oid, nx_err *e);
/* {answer, upheld: bool}: staff, once. An upheld objection makes the nomination ineligible. */
int elections_answer(nx_app *app, const nx_principal *who, int64_t id, int64_t oid, json_t *in, nx_err *e);
/* {category_id, nomination_id}: a verified resident of the community, in the window. *bid receives the
 * ballot's id. A second ballot in the category is NX_ECONFLICT naming category_id. */
int elections_vote(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *bid, nx_err *e);
/* The result of a closed election (NX_ECONFLICT before): {election_id, title, eligible_voters,
 * voters, turnout_pct (one decimal, as a number), min_turnout_pct, valid, categories: [{id, name,
 * seats, candidates: [{nomination_id, resident_id, name, votes, elected}]}]}. */
int elections_result(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* The honour list: {items: [{election_id, title, category, resident_id, name, votes, closed_at}]} of
 * the valid closed elections in view, newest first. */
int elections_honours(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);
/* The certificate of an elected nomination as a PDF (*pdf malloc'd, caller frees): staff, or the
 * honoured resident. NX_ECONFLICT when the nomination was not elected. */
int elections_certificate(nx_app *app, const nx_principal *who, int64_t id, int64_t nid, unsigned char **pdf,
                          size_t *len, nx_err *e);

/* Routes (elections_http.c): /api/v1/elections, /elections/honours, /elections/{id}, /stage,
 * /nominations, /nominations/{nid}/review, /nominations/{nid}/certificate.pdf, /objections,
 * /objections/{oid}/answer, /ballots, /result. */
int elections_routes(http_server *srv, nx_app *app);

#endif
