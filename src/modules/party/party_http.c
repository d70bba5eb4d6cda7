/* party_http.c — the HTTP face of the party module (rules in party*.c): parse the request, call
 * the rules, answer. */
#include "modules/party/party.h"

#include "modules/app_http.h"

#include <string.h>

/* The filters every party list reads from the query string. */
/* statuses: the list's status vocabulary (its route row's .arg), read with the kit's rule
 * (app_query_enum); NULL: the rules check the status themselves (members, dues). */
static int read_filter(http_req *r, nx_app *app, const char *statuses, party_filter *f)
{
    int rc;
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->kind = http_query(r, "kind");
    f->status = http_query(r, "status");
    f->month = http_query(r, "month");
    f->year = http_query(r, "year");
    if ((statuses && (rc = app_query_enum(r, "status", statuses, &f->status))) ||
        (rc = app_query_page(r, app, &f->limit, &f->after, &f->community_id)) ||
        (rc = app_query_id(r, "org_id", &f->org_id)))
        return rc;
    return app_query_id(r, "member_id", &f->member_id);
}

APP_FILTERED_LIST(list_of, party_filter, read_filter)

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

static int dues_statement_xlsx(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    party_filter f;
    char path[512];
    int64_t rows = 0;
    int rc;
    if ((rc = read_filter(r, app, NULL, &f)) || (rc = http_export_path(path, sizeof path, http_err(r))))
        return rc;
    rc = party_dues_statement_xlsx(app, &who, &f, path, &rows, http_err(r));
    return app_reply_export(r, rc, path, "party-dues.xlsx", "党费年度台账.xlsx", rows);
}

static int act_photo(http_req *r, void *ctx)
{
    return app_http_put_file(r, ctx, party_activity_photo, "/api/v1/party-photos");
}

static int photo_get(http_req *r, void *ctx)
{
    return app_http_get_file(r, ctx, party_photo_read);
}

static const app_route routes[] = {
    {"GET", "/api/v1/party-orgs", .with = list_of, .fn = APP_FN(party_org_list)},
    {"POST", "/api/v1/party-orgs", .create = party_org_create, .get = party_org_get},
    {"GET", "/api/v1/party-orgs/{id}", .get = party_org_get},
    {"PATCH", "/api/v1/party-orgs/{id}", .change = party_org_update, .get = party_org_get},
    {"GET", "/api/v1/party-members", .with = list_of, .fn = APP_FN(party_member_list)},
    {"POST", "/api/v1/party-members", .create = party_member_create, .get = party_member_get},
    {"GET", "/api/v1/party-members/{id}", .get = party_member_get},
    {"PATCH", "/api/v1/party-members/{id}", .change = party_member_update, .get = party_member_get},
    {"POST", "/api/v1/party-members/{id}/transfers", .spawn = party_member_transfer, .get = party_member_get, .arg = "transfer_id"},
    {"GET", "/api/v1/party-activities", .with = list_of, .fn = APP_FN(party_activity_list), .arg = "planned submitted approved returned"},
    {"POST", "/api/v1/party-activities", .create = party_activity_create, .get = party_activity_get},
    {"GET", "/api/v1/party-activities/{id}", .get = party_activity_get},
    {"POST", "/api/v1/party-activities/{id}/attendance", .change = party_activity_attendance, .get = party_activity_get},
    {"POST", "/api/v1/party-activities/{id}/minutes", .change = party_activity_minutes, .get = party_activity_get},
    {"POST", "/api/v1/party-activities/{id}/review", .change = party_activity_review, .get = party_activity_get},
    {"POST", "/api/v1/party-activities/{id}/photos", .h = act_photo, .flags = HTTP_UPLOAD},
    {"GET", "/api/v1/party-photos/{id}", .h = photo_get},
    {"GET", "/api/v1/party-calendar", .h = calendar},
    {"GET", "/api/v1/party-dues-rules", .community = party_rule_list},
    {"POST", "/api/v1/party-dues-rules", .create = party_rule_create, .get = rule_get_one},
    {"GET", "/api/v1/party-dues", .with = list_of, .fn = APP_FN(party_dues_list)},
    {"POST", "/api/v1/party-dues/cycles", .post = party_dues_open},
    {"GET", "/api/v1/party-dues/arrears", .with = list_of, .fn = APP_FN(party_dues_arrears)},
    {"GET", "/api/v1/party-dues/statement", .with = list_of, .fn = APP_FN(party_dues_statement)},
    {"GET", "/api/v1/party-dues/statement.xlsx", .h = dues_statement_xlsx},
    {"GET", "/api/v1/party-dues/{id}", .get = party_dues_get},
    {"POST", "/api/v1/party-dues/{id}/payments", .spawn = party_dues_pay, .get = party_dues_get},
};

int party_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
