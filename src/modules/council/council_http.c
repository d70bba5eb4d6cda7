/* council_http.c — the courtyard council's routes: parse the path, the query and the body, call the
 * rules (council.c, council_meetings.c, council_polls.c), answer JSON. Thin and stateless; every
 * check of rights, scope and input is the rules' own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/app_http.h"
#include "modules/council/council.h"
#include "store/upload.h"

/* The filters every list of the module reads from the query string. */
static int read_filter(http_req *r, nx_app *app, council_filter *f)
{
    bool present;
    int64_t overdue = 0;
    int rc;
    f->status = http_query(r, "status");
    f->q = http_query(r, "q");
    if ((rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &f->limit)) ||
        (rc = http_query_int(r, "cursor", 1, INT64_MAX, &present, &f->after)) ||
        (rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &f->community_id)) ||
        (rc = http_query_int(r, "estate_id", 1, INT64_MAX, &present, &f->estate_id)) ||
        (rc = http_query_int(r, "decision_id", 1, INT64_MAX, &present, &f->decision_id)) ||
        (rc = http_query_int(r, "overdue", 0, 1, &present, &overdue)))
        return rc;
    f->overdue = overdue == 1;
    return 0;
}

typedef int (*list_fn)(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e);

static int list(http_req *r, nx_app *app, list_fn fn)
{
    nx_principal who = app_principal(r);
    council_filter f = {0};
    json_t *out;
    int rc;
    if ((rc = read_filter(r, app, &f)) || (rc = fn(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* ---- templates, topics, members ---- */

static int template_list(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *out;
    int rc = council_template_list(app, &who, &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}
static int template_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, council_template_create, council_template_get, "/api/v1/council-templates");
}
static int topic_list(http_req *r, void *ctx)
{
    return list(r, ctx, council_topic_list);
}
static int topic_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, council_topic_create, council_topic_get, "/api/v1/topics");
}
static int topic_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, council_topic_get);
}
static int topic_support(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_topic_support, council_topic_get);
}
static int topic_merge(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_topic_merge, council_topic_get);
}
static int topic_advance(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_topic_advance, council_topic_get);
}
static int member_list(http_req *r, void *ctx)
{
    return list(r, ctx, council_member_list);
}
static int member_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, council_member_create, council_member_get, "/api/v1/council-members");
}
static int member_patch(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_member_update, council_member_get);
}

/* ---- meetings and decisions ---- */

static int meeting_list(http_req *r, void *ctx)
{
    return list(r, ctx, council_meeting_list);
}
static int meeting_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, council_meeting_create, council_meeting_get, "/api/v1/council-meetings");
}
static int meeting_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, council_meeting_get);
}
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
static int meeting_attend(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_meeting_attend, council_meeting_get);
}
static int meeting_minutes(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_meeting_minutes, council_meeting_get);
}
static int decision_list(http_req *r, void *ctx)
{
    return list(r, ctx, council_decision_list);
}
static int decision_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, council_decision_create, council_decision_get, "/api/v1/decisions");
}
static int decision_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, council_decision_get);
}
static int decision_progress(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_decision_progress, council_decision_get);
}
static int decision_rate(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_decision_rate, council_decision_get);
}
static int decision_problem(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_decision_problem, council_decision_get);
}

static int decision_photo(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, photo;
    size_t len;
    int rc = http_param_id(r, "id", &id);
    if (rc)
        return rc;
    const void *body = http_body(r, &len);
    if ((rc = council_decision_photo(app, &who, id, body, len, &photo, http_err(r))))
        return rc;
    char url[64];
    snprintf(url, sizeof url, "/api/v1/council-photos/%lld", (long long)photo);
    http_add_header(r, "Location", url);
    return http_reply_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)photo, "url", url));
}

static int photo_get(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    unsigned char *data;
    char ctype[32];
    size_t size;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = council_photo_read(app, &who, id, &data, &size, ctype, http_err(r))))
        return rc;
    http_add_header(r, "Cache-Control", "no-store");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    rc = http_reply_bytes(r, 200, ctype, data, size);
    upload_free(data, size);
    return rc;
}

/* ---- polls ---- */

static int poll_list(http_req *r, void *ctx)
{
    return list(r, ctx, council_poll_list);
}
static int poll_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, council_poll_create, council_poll_get, "/api/v1/polls");
}
static int poll_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, council_poll_get);
}
static int poll_close(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, council_poll_close, council_poll_get);
}
static int poll_result(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, council_poll_result);
}

/* A ballot is created (201) and answered with the poll as the voter now sees it (voted: true); a
 * secret poll's answer carries no choice. */
static int poll_vote(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body, *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = council_poll_vote(app, &who, id, body, http_err(r))) ||
        (rc = council_poll_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 201, out);
}

static int stats(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    bool present;
    int64_t community = 0;
    json_t *out;
    int rc;
    if ((rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &community)) ||
        (rc = council_stats(app, &who, community, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

int council_routes(http_server *srv, nx_app *app)
{
    http_route(srv, "GET", "/api/v1/council-templates", template_list, app, 0);
    http_route(srv, "POST", "/api/v1/council-templates", template_create, app, 0);
    http_route(srv, "GET", "/api/v1/topics", topic_list, app, 0);
    http_route(srv, "POST", "/api/v1/topics", topic_create, app, 0);
    http_route(srv, "GET", "/api/v1/topics/{id}", topic_get, app, 0);
    http_route(srv, "POST", "/api/v1/topics/{id}/supports", topic_support, app, 0);
    http_route(srv, "POST", "/api/v1/topics/{id}/merge", topic_merge, app, 0);
    http_route(srv, "POST", "/api/v1/topics/{id}/advance", topic_advance, app, 0);
    http_route(srv, "GET", "/api/v1/council-members", member_list, app, 0);
    http_route(srv, "POST", "/api/v1/council-members", member_create, app, 0);
    http_route(srv, "PATCH", "/api/v1/council-members/{id}", member_patch, app, 0);
    http_route(srv, "GET", "/api/v1/council-meetings", meeting_list, app, 0);
    http_route(srv, "POST", "/api/v1/council-meetings", meeting_create, app, 0);
    http_route(srv, "GET", "/api/v1/council-meetings/{id}", meeting_get, app, 0);
    http_route(srv, "GET", "/api/v1/council-meetings/{id}/qr", meeting_qr, app, 0);
    http_route(srv, "POST", "/api/v1/council-meetings/{id}/attendance", meeting_attend, app, 0);
    http_route(srv, "POST", "/api/v1/council-meetings/{id}/minutes", meeting_minutes, app, 0);
    http_route(srv, "GET", "/api/v1/decisions", decision_list, app, 0);
    http_route(srv, "POST", "/api/v1/decisions", decision_create, app, 0);
    http_route(srv, "GET", "/api/v1/decisions/{id}", decision_get, app, 0);
    http_route(srv, "POST", "/api/v1/decisions/{id}/progress", decision_progress, app, 0);
    http_route(srv, "POST", "/api/v1/decisions/{id}/ratings", decision_rate, app, 0);
    http_route(srv, "POST", "/api/v1/decisions/{id}/problem", decision_problem, app, 0);
    http_route(srv, "POST", "/api/v1/decisions/{id}/photos", decision_photo, app, HTTP_UPLOAD);
    http_route(srv, "GET", "/api/v1/council-photos/{id}", photo_get, app, 0);
    http_route(srv, "GET", "/api/v1/polls", poll_list, app, 0);
    http_route(srv, "POST", "/api/v1/polls", poll_create, app, 0);
    http_route(srv, "GET", "/api/v1/polls/{id}", poll_get, app, 0);
    http_route(srv, "POST", "/api/v1/polls/{id}/ballots", poll_vote, app, 0);
    http_route(srv, "POST", "/api/v1/polls/{id}/close", poll_close, app, 0);
    http_route(srv, "GET", "/api/v1/polls/{id}/result", poll_result, app, 0);
    http_route(srv, "GET", "/api/v1/council/stats", stats, app, 0);
    return 0;
}
