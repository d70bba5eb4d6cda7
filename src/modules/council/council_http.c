/* council_http.c — the courtyard council's routes: parse the path, the query and the body, call the
 * rules (council.c, council_meetings.c, council_polls.c), answer JSON. Thin and stateless; every
 * check of rights, scope and input is the rules' own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/app_http.h"
#include "modules/council/council.h"

/* The filters every list of the module reads from the query string; statuses is the list's status
 * vocabulary (its route row's .arg; NULL: the list has no status filter). */
static int read_filter(http_req *r, nx_app *app, const char *statuses, council_filter *f)
{
    bool present;
    int64_t overdue = 0;
    int rc;
    f->q = http_query(r, "q");
    if ((statuses && (rc = app_query_enum(r, "status", statuses, &f->status))) ||
        (rc = app_query_page(r, app, &f->limit, &f->after, &f->community_id)) ||
        (rc = app_query_id(r, "estate_id", &f->estate_id)) || (rc = app_query_id(r, "decision_id", &f->decision_id)) ||
        (rc = http_query_int(r, "overdue", 0, 1, &present, &overdue)))
        return rc;
    f->overdue = overdue == 1;
    return 0;
}

APP_FILTERED_LIST(list, council_filter, read_filter)

/* ---- templates, topics, members ---- */

/* ---- meetings and decisions ---- */

static int meeting_qr(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    char *svg = NULL;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = council_meeting_qr(app, &who, id, &svg, http_err(r))))
        return rc;
    http_add_header(r, "Cache-Control", "no-store");
    rc = http_reply_bytes(r, 200, "image/svg+xml", svg, strlen(svg));
    free(svg);
    return rc;
}
/* POST /decisions/{id}/photos: 201 {"id", "url"}; GET /council-photos/{id}: the photo (not cached). */
static int decision_photo(http_req *r, void *ctx)
{
    return app_http_put_file(r, ctx, council_decision_photo, "/api/v1/council-photos");
}

static int photo_get(http_req *r, void *ctx)
{
    return app_http_get_file(r, ctx, council_photo_read);
}

/* ---- polls ---- */

static const app_route routes[] = {
    {"GET", "/api/v1/council-templates", .read = council_template_list},
    {"POST", "/api/v1/council-templates", .create = council_template_create, .get = council_template_get},
    {"GET", "/api/v1/topics", .with = list, .fn = APP_FN(council_topic_list), .arg = "open scheduled decided done merged rejected"},
    {"POST", "/api/v1/topics", .create = council_topic_create, .get = council_topic_get},
    {"GET", "/api/v1/topics/{id}", .get = council_topic_get},
    {"POST", "/api/v1/topics/{id}/supports", .change = council_topic_support, .get = council_topic_get},
    {"POST", "/api/v1/topics/{id}/merge", .change = council_topic_merge, .get = council_topic_get},
    {"POST", "/api/v1/topics/{id}/advance", .change = council_topic_advance, .get = council_topic_get},
    {"GET", "/api/v1/council-members", .with = list, .fn = APP_FN(council_member_list)},
    {"POST", "/api/v1/council-members", .create = council_member_create, .get = council_member_get},
    {"PATCH", "/api/v1/council-members/{id}", .change = council_member_update, .get = council_member_get},
    {"GET", "/api/v1/council-meetings", .with = list, .fn = APP_FN(council_meeting_list), .arg = "scheduled held"},
    {"POST", "/api/v1/council-meetings", .create = council_meeting_create, .get = council_meeting_get},
    {"GET", "/api/v1/council-meetings/{id}", .get = council_meeting_get},
    {"GET", "/api/v1/council-meetings/{id}/qr", .h = meeting_qr},
    {"POST", "/api/v1/council-meetings/{id}/attendance", .change = council_meeting_attend, .get = council_meeting_get},
    {"POST", "/api/v1/council-meetings/{id}/minutes", .change = council_meeting_minutes, .get = council_meeting_get},
    {"GET", "/api/v1/decisions", .with = list, .fn = APP_FN(council_decision_list), .arg = "tracking done"},
    {"POST", "/api/v1/decisions", .create = council_decision_create, .get = council_decision_get},
    {"GET", "/api/v1/decisions/{id}", .get = council_decision_get},
    {"POST", "/api/v1/decisions/{id}/progress", .change = council_decision_progress, .get = council_decision_get},
    {"POST", "/api/v1/decisions/{id}/ratings", .change = council_decision_rate, .get = council_decision_get},
    {"POST", "/api/v1/decisions/{id}/problem", .change = council_decision_problem, .get = council_decision_get},
    {"POST", "/api/v1/decisions/{id}/photos", .h = decision_photo, .flags = HTTP_UPLOAD},
    {"GET", "/api/v1/council-photos/{id}", .h = photo_get},
    {"GET", "/api/v1/polls", .with = list, .fn = APP_FN(council_poll_list), .arg = "open closed"},
    {"POST", "/api/v1/polls", .create = council_poll_create, .get = council_poll_get},
    {"GET", "/api/v1/polls/{id}", .get = council_poll_get},
    /* a ballot is created (201) and answered with the poll as the voter now sees it (voted: true; a
     * secret poll's answer carries no choice) */
    {"POST", "/api/v1/polls/{id}/ballots", .change = council_poll_vote, .get = council_poll_get, .status = 201},
    {"POST", "/api/v1/polls/{id}/close", .change = council_poll_close, .get = council_poll_get},
    {"GET", "/api/v1/polls/{id}/result", .get = council_poll_result},
    {"GET", "/api/v1/council/stats", .community = council_stats},
};

int council_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
