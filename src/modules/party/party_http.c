/* party_http.c — the HTTP face of the party module (rules in party*.c): parse the request, call
 * the rules, answer. */
#include "modules/party/party.h"

#include "modules/app_http.h"

#include <string.h>
#include <unistd.h>

/* The filters every party list reads from the query string. */
static int read_filter(http_req *r, nx_app *app, party_filter *f)
{
    bool present;
    int rc;
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->kind = http_query(r, "kind");
    f->status = http_query(r, "status");
    f->month = http_query(r, "month");
    f->year = http_query(r, "year");
    if ((rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &f->limit)) ||
        (rc = http_query_int(r, "cursor", 1, INT64_MAX, &present, &f->after)) ||
        (rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &f->community_id)) ||
        (rc = http_query_int(r, "org_id", 1, INT64_MAX, &present, &f->org_id)) ||
        (rc = http_query_int(r, "member_id", 1, INT64_MAX, &present, &f->member_id)))
        return rc;
    return 0;
}

typedef int (*list_fn)(nx_app *, const nx_principal *, const party_filter *, json_t **, nx_err *);

static int list_of(http_req *r, nx_app *app, list_fn fn)
{
    nx_principal who = app_principal(r);
    party_filter f;
    json_t *out;
    int rc;
    if ((rc = read_filter(r, app, &f)) || (rc = fn(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int org_list(http_req *r, void *ctx)
{
    return list_of(r, ctx, party_org_list);
}
static int org_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, party_org_create, party_org_get, "/api/v1/party-orgs");
}
static int org_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, party_org_get);
}
static int org_patch(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, party_org_update, party_org_get);
}

static int member_list(http_req *r, void *ctx)
{
    return list_of(r, ctx, party_member_list);
}
static int member_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, party_member_create, party_member_get, "/api/v1/party-members");
}
static int member_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, party_member_get);
}
static int member_patch(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, party_member_update, party_member_get);
}

/* POST /party-members/{id}/transfers: 201 with the member's file (its transfers included). */
static int member_transfer(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id = 0, tid = 0;
    json_t *in = NULL, *out = NULL; /* in is owned by the request */
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &in)))
        return rc;
    rc = party_member_transfer(app, &who, id, in, &tid, http_err(r));
    if (rc || (rc = party_member_get(app, &who, id, &out, http_err(r))))
        return rc;
    json_object_set_new(out, "transfer_id", json_integer(tid));
    return http_reply_json(r, 201, out);
}

static int act_list(http_req *r, void *ctx)
{
    return list_of(r, ctx, party_activity_list);
}
static int act_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, party_activity_create, party_activity_get, "/api/v1/party-activities");
}
static int act_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, party_activity_get);
}
static int act_attendance(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, party_activity_attendance, party_activity_get);
}
static int act_minutes(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, party_activity_minutes, party_activity_get);
}
static int act_review(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, party_activity_review, party_activity_get);
}

static int calendar(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    bool present;
    int64_t org = 0;
    json_t *out;
    int rc;
    if ((rc = http_query_int(r, "org_id", 1, INT64_MAX, &present, &org)) ||
        (rc = party_calendar(ctx, &who, http_query(r, "year"), org, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int rule_list(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    bool present;
    int64_t community = 0;
    json_t *out;
    int rc;
    if ((rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &community)) ||
        (rc = party_rule_list(ctx, &who, community, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int rule_get_one(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    json_t *all;
    int rc = party_rule_list(app, who, 0, &all, e);
    if (rc)
        return rc;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(all, "items"), i, it) {
        if (json_integer_value(json_object_get(it, "id")) == id) {
            *out = json_incref(it);
            json_decref(all);
            return 0;
        }
    }
    json_decref(all);
    return nx_fail(e, NX_ENOTFOUND, "", "党费标准不存在");
}

static int rule_create(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, party_rule_create, rule_get_one, "/api/v1/party-dues-rules");
}

static int dues_list(http_req *r, void *ctx)
{
    return list_of(r, ctx, party_dues_list);
}
static int dues_get(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, party_dues_get);
}
static int dues_arrears(http_req *r, void *ctx)
{
    return list_of(r, ctx, party_dues_arrears);
}
static int dues_statement(http_req *r, void *ctx)
{
    return list_of(r, ctx, party_dues_statement);
}

static int dues_open(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    json_t *in = NULL, *out = NULL; /* in is owned by the request */
    int rc = http_json_body(r, &in);
    if (rc)
        return rc;
    rc = party_dues_open(ctx, &who, in, &out, http_err(r));
    if (rc)
        return rc;
    return http_reply_json(r, 200, out);
}

static int dues_pay(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id = 0, pid = 0;
    json_t *in = NULL, *out = NULL; /* in is owned by the request */
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &in)))
        return rc;
    rc = party_dues_pay(app, &who, id, in, &pid, http_err(r));
    if (rc || (rc = party_dues_get(app, &who, pid, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 201, out);
}

static int dues_statement_xlsx(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    party_filter f;
    char path[512];
    int64_t rows = 0;
    int rc;
    if ((rc = read_filter(r, app, &f)) || (rc = http_export_path(path, sizeof path, http_err(r))))
        return rc;
    if ((rc = party_dues_statement_xlsx(app, &who, &f, path, &rows, http_err(r)))) {
        unlink(path);
        return rc;
    }
    return http_reply_export(r, path, NULL, "party-dues.xlsx", "党费年度台账.xlsx", rows);
}

int party_routes(http_server *srv, nx_app *app)
{
    http_route(srv, "GET", "/api/v1/party-orgs", org_list, app, 0);
    http_route(srv, "POST", "/api/v1/party-orgs", org_create, app, 0);
    http_route(srv, "GET", "/api/v1/party-orgs/{id}", org_get, app, 0);
    http_route(srv, "PATCH", "/api/v1/party-orgs/{id}", org_patch, app, 0);
    http_route(srv, "GET", "/api/v1/party-members", member_list, app, 0);
    http_route(srv, "POST", "/api/v1/party-members", member_create, app, 0);
    http_route(srv, "GET", "/api/v1/party-members/{id}", member_get, app, 0);
    http_route(srv, "PATCH", "/api/v1/party-members/{id}", member_patch, app, 0);
    http_route(srv, "POST", "/api/v1/party-members/{id}/transfers", member_transfer, app, 0);
    http_route(srv, "GET", "/api/v1/party-activities", act_list, app, 0);
    http_route(srv, "POST", "/api/v1/party-activities", act_create, app, 0);
    http_route(srv, "GET", "/api/v1/party-activities/{id}", act_get, app, 0);
    http_route(srv, "POST", "/api/v1/party-activities/{id}/attendance", act_attendance, app, 0);
    http_route(srv, "POST", "/api/v1/party-activities/{id}/minutes", act_minutes, app, 0);
    http_route(srv, "POST", "/api/v1/party-activities/{id}/review", act_review, app, 0);
    http_route(srv, "GET", "/api/v1/party-calendar", calendar, app, 0);
    http_route(srv, "GET", "/api/v1/party-dues-rules", rule_list, app, 0);
    http_route(srv, "POST", "/api/v1/party-dues-rules", rule_create, app, 0);
    http_route(srv, "GET", "/api/v1/party-dues", dues_list, app, 0);
    http_route(srv, "POST", "/api/v1/party-dues/cycles", dues_open, app, 0);
    http_route(srv, "GET", "/api/v1/party-dues/arrears", dues_arrears, app, 0);
    http_route(srv, "GET", "/api/v1/party-dues/statement", dues_statement, app, 0);
    http_route(srv, "GET", "/api/v1/party-dues/statement.xlsx", dues_statement_xlsx, app, 0);
    http_route(srv, "GET", "/api/v1/party-dues/{id}", dues_get, app, 0);
    http_route(srv, "POST", "/api/v1/party-dues/{id}/payments", dues_pay, app, 0);
    return 0;
}
