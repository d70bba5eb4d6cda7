/* party.h — party building (党建): organisations (committee → branch → group) with their secretaries,
 * members and their transfers, 三会一课 activities with attendance, minutes and review, the yearly
 * calendar of what each branch held and missed, and dues (rate rules as data, monthly cycles,
 * payments of exactly the amount due, arrears, yearly statements).
 *
 * Who may do what. RIGHT_PARTY_MANAGE (community staff, admins) works on every row in the account's
 * scope (community, street or all). A branch secretary is data, not a right: a resident with an
 * account (RIGHT_SELF) whose member record is the secretary_member_id of an organisation sees and
 * manages that organisation and its direct children (a branch and its groups) and nothing else; a
 * row of another branch is NX_ENOTFOUND, exactly like a row that does not exist. Any other member
 * with an account sees their own record and dues and the activities of their organisation (and of
 * its parent). Reviewing minutes, dues rules and opening a dues month stay with the community.
 *
 * Inputs are JSON objects validated strictly (base/jsonin.h: unknown keys refused, every error names
 * its field in Chinese); nothing is changed when a call fails. Money is integer fen. Every change is
 * audited and, where a person should hear of it, emits an event (below) in the same transaction.
 * Threads: none of its own; every function blocks on the store and is thread-safe. */
#ifndef NX_MODULES_PARTY_H
#define NX_MODULES_PARTY_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Event kinds (notify/outbox.h). Payloads carry ids only:
 *   party.activity.scheduled  {"activity_id", "org_id", "kind", "held_on"}      subject activity:<id>
 *   party.activity.reviewed   {"activity_id", "org_id", "approved"}             subject activity:<id>
 *   party.member.transferred  {"member_id", "direction", "from_org_id", "to_org_id"} subject member:<id>
 *   party.dues.opened         {"month", "count"} (one per community and month)  no subject
 *   party.dues.paid           {"dues_id", "member_id", "month", "amount_fen"}   subject dues:<id>
 *   party.dues.reminder       {"dues_id", "member_id", "resident_id" (absent for an outsider member),
 *                             "month", "amount_fen", "title" ("2024年05月党费 91.85 元"), "link"}
 *                             subject dues:<id> — a month still unpaid on PARTY_DUES_REMIND_DAY (or
 *                             later); once per member and month */
#define PARTY_EV_ACTIVITY_SCHEDULED "party.activity.scheduled"
#define PARTY_EV_ACTIVITY_REVIEWED "party.activity.reviewed"
#define PARTY_EV_MEMBER_TRANSFERRED "party.member.transferred"
#define PARTY_EV_DUES_OPENED "party.dues.opened"
#define PARTY_EV_DUES_PAID "party.dues.paid"
#define PARTY_EV_DUES_REMINDER "party.dues.reminder"

#define PARTY_DUES_REMIND_DAY 20 /* a month's unpaid dues are reminded from this day of the month on */

/* List filters; 0 and NULL mean "any". limit is capped by page_max; after is the id cursor. */
typedef struct party_filter {
    int64_t community_id, org_id, member_id;
    const char *q;      /* name contains */
    const char *kind;   /* orgs: committee|branch|group; activities: the kind */
    const char *status; /* members: active|transferred_out; activities; dues: due|paid */
    const char *month;  /* dues: YYYY-MM */
    const char *year;   /* activities and dues: YYYY */
    int64_t after;
    int limit;
} party_filter;

/* ---- organisations (party.c) ---- */

/* A page of organisations: {items: [{id, community_id, parent_id, kind, kind_label, name,
 * secretary_member_id, secretary_name, founded_on, member_count}], total, next_cursor}. */
int party_org_list(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e);
int party_org_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {name, kind, parent_id?, community_id? (street/all scope), founded_on?}. A branch's parent is a
 * committee, a group's a branch (NX_EINVAL "parent_id" otherwise). PARTY_MANAGE. */
int party_org_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {name?, secretary_member_id? (null clears; an active member of this organisation or of its
 * children), founded_on?}. PARTY_MANAGE. */
int party_org_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);

/* ---- members and transfers (party_members.c) ---- */

/* A page of members: {items: [{id, community_id, org_id, org_name, resident_id, name, stage,
 * stage_label, joined_on, full_on, mobile, mobile_note, income_fen, status}], …}. */
int party_member_list(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e);
/* One member with their file: the fields above plus transfers [{id, direction, from_org_id,
 * from_org_name, to_org_id, to_org_name, outside_org, on_date, reason}], attendance {present, leave,
 * absent}, dues {due_count, due_fen, paid_count, paid_fen}, volunteer_hours {volunteer_id, number,
 * minutes, hours} (approved service hours, read through the volunteers module's public API; zeros and
 * nulls for a member who is no volunteer). */
int party_member_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {org_id, resident_id? | name, stage?, joined_on, full_on?, mobile?, mobile_note?, income_fen?,
 * transferred_from?, transferred_on?}. A resident must be an active resident of the organisation's
 * community (NX_EINVAL "resident_id") and not already an active member (NX_ECONFLICT). With
 * transferred_from (the outside organisation) the member arrives by transfer: an "in" transfer row is
 * written with transferred_on (default joined_on). PARTY_MANAGE or the secretary of org_id. */
int party_member_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {stage?, full_on?, mobile?, mobile_note? (null clears), income_fen?}. */
int party_member_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* Record a transfer: {direction: "internal"|"out"|"in", on_date, reason?, to_org_id (internal, in),
 * outside_org (out: where to; in: where from)}. internal moves the member to to_org_id (same
 * community); out marks them transferred_out (their rows stay); in brings a transferred-out member
 * back into to_org_id. The transfer row keeps from/to, so the history survives the move.
 * NX_ECONFLICT for a move that does not fit the status (out of a member already out …).
 * *tid receives the transfer's id. PARTY_MANAGE or the secretary of the member's organisation. */
int party_member_transfer(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *tid, nx_err *e);

/* ---- 三会一课 (party_activities.c) ---- */

/* A page of activities: {items: [{id, community_id, org_id, org_name, kind, kind_label, title,
 * held_on, place, notice, status, status_label, minutes, review_note, present, leave, absent}], …};
 * f->year filters held_on. */
int party_activity_list(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e);
/* One activity with attendance: [{member_id, name, status, reason}]. */
int party_activity_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {org_id, kind, title, held_on, place?, notice?}. PARTY_MANAGE or the org's secretary. */
int party_activity_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* {items: [{member_id, status: present|leave|absent, reason? (required for leave)}]}: members of
 * the activity's organisation (or its children); upserts. Not once approved. */
int party_activity_attendance(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {minutes}: the branch submits (planned or returned → submitted). */
int party_activity_minutes(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* {approved: bool, note? (required when returned)}: the community reviews submitted minutes
 * (→ approved or returned). PARTY_MANAGE only. */
int party_activity_review(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* A photo of the activity's minutes (JPEG, PNG or WebP; sniffed, capped by max_upload, cleaned of
 * EXIF/GPS and sealed by the upload store): who manages the activity (PARTY_MANAGE in scope or the
 * organisation's secretary), until the minutes are approved (NX_ECONFLICT), at most PARTY_PHOTOS_MAX
 * each. Another file type is NX_EUNSUPP (415), an empty or oversized one NX_EINVAL / NX_ETOOBIG, all
 * naming "file". *photo gets the id; party_activity_get lists the photos with their urls. */
#define PARTY_PHOTOS_MAX 20
int party_activity_photo(nx_app *app, const nx_principal *who, int64_t id, const void *data, size_t len,
                         int64_t *photo, nx_err *e);
/* The bytes of photo id (malloc'd, release with upload_free) and its type, for whoever may read its
 * activity (party_activity_get's view); NX_ENOTFOUND otherwise. */
int party_photo_read(nx_app *app, const nx_principal *who, int64_t id, unsigned char **data, size_t *n,
                     char ctype[32], nx_err *e);
/* The yearly calendar of year (YYYY) for every branch in view (org_id 0) or one:
 * {year, branches: [{org_id, name, months: [{month, held: {kind: n}, planned: {kind: n}}],
 * missing: [{kind, kind_label, period}], held_total, missing_total}]}. Held = minutes submitted or
 * approved, counted for the branch and its groups. Required: committee meeting, group meeting and
 * theme day monthly, member meeting and lesson quarterly; a period is missing only once it has
 * ended (before today, Shanghai) without one held. */
int party_calendar(nx_app *app, const nx_principal *who, const char *year, int64_t org_id, json_t **out, nx_err *e);

/* ---- dues (party_dues.c) ---- */

/* {items: [{id, community_id, name, min_income_fen, max_income_fen, rate_bp, fixed_fen}]}. */
int party_rule_list(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e);
/* {name, min_income_fen, max_income_fen?, rate_bp? | fixed_fen?, community_id?}. PARTY_MANAGE. */
int party_rule_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e);
/* The amount due on income under the community's rules: the rule with the highest min_income_fen
 * not above income (and max_income_fen, when set, not below it); fixed_fen, else income × rate_bp /
 * 10000 rounded half up. NX_ENOTFOUND when no rule fits (field "income_fen"). Runs on tx. */
int party_dues_amount(store_tx *tx, int64_t community_id, int64_t income_fen, int64_t *rule_id, int64_t *amount,
                      nx_err *e);
/* Open the month: {month: YYYY-MM, community_id?}: one dues row per active member of the community
 * (not before the month they joined) at the amount of the rules; rows already there stay (the call is
 * idempotent). *out = {month, created, skipped: [member ids without a fitting rule]}. PARTY_MANAGE. */
int party_dues_open(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e);
/* A page of dues: {items: [{id, org_id, org_name, member_id, member_name, month, base_fen,
 * amount_fen, status, paid_fen, paid_on, paid_by_member_id, paid_by_name}], …}. */
int party_dues_list(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e);
int party_dues_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* {amount_fen, paid_on?, paid_by_member_id?}: amount_fen must equal the amount due (NX_EINVAL
 * "amount_fen" otherwise); paid_by_member_id, when given, is an active member of the same community
 * (someone paying on the member's behalf). NX_ECONFLICT when already paid. The secretary of the
 * member's organisation or PARTY_MANAGE. *pid receives the dues id. */
int party_dues_pay(nx_app *app, const nx_principal *who, int64_t id, json_t *in, int64_t *pid, nx_err *e);
/* Members with unpaid months: {items: [{member_id, name, org_id, org_name, months, amount_fen,
 * first_month}]} (every member in view with arrears, ordered by amount). */
int party_dues_arrears(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e);
/* The yearly statement of f->year for the members in view (f->org_id, f->member_id narrow it):
 * {year, members: [{member_id, name, org_name, months: [{month, amount_fen, status} | null ×12],
 * due_fen, paid_fen, arrears_fen}], due_fen, paid_fen, arrears_fen}. */
int party_dues_statement(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e);
/* The same statement as an .xlsx file written at path (one row per member, then a total row);
 * *rows receives the data rows written. */
int party_dues_statement_xlsx(nx_app *app, const nx_principal *who, const party_filter *f, const char *path,
                              int64_t *rows, nx_err *e);

/* ---- reminders (party_reminders.c) ---- */

/* Emit PARTY_EV_DUES_REMINDER for every unpaid dues row of an active member whose month is before the
 * month of now_ms (Shanghai), or is that month and today is PARTY_DUES_REMIND_DAY or later, and that
 * was not reminded yet; each row is marked in the same transaction, so a member hears once per month
 * whatever the number of ticks or processes. *reminded (may be NULL) gets the count. */
int party_tick(nx_app *app, int64_t now_ms, int *reminded, nx_err *e);
/* party_tick as a store_tick_fn (store/ticker.h; ctx: the nx_app), for the server's ticker
 * "party.ticker" (every PARTY_TICK_MS). */
int party_tick_job(void *app, int64_t now_ms, nx_err *e);
#define PARTY_TICK_MS (3600 * 1000LL)

/* Register the routes (party_http.c): /api/v1/party-orgs, /party-members (+ /{id}/transfers),
 * /party-activities (+ /{id}/attendance, /minutes, /review, /photos), /party-photos/{id}, /party-calendar, /party-dues-rules,
 * /party-dues (+ /cycles, /arrears, /statement, /statement.xlsx, /{id}/payments). */
int party_routes(http_server *srv, nx_app *app);

#endif
