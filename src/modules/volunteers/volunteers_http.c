/* volunteers_http.c — the routes of the volunteers module: parse the request, call the rules
 * (teams.c, activities.c, hours.c, partners.c), answer. Nothing here decides who may do what; the
 * rules do, with the principal of the request. */
#include "modules/volunteers/volunteers.h"

#include "base/clock.h"
#include "http/http.h"
#include "modules/app_http.h"

#include <string.h>
#include <unistd.h>

/* The list filters every list understands, from the query string. */
static int filter_of(http_req *r, nx_app *app, volunteers_filter *f)
{
    bool has;
    int64_t mine = 0;
    int rc;
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->status = http_query(r, "status");
    f->kind = http_query(r, "kind");
    if ((f->q && strlen(f->q) > 150) || (f->status && strlen(f->status) > 20) || (f->kind && strlen(f->kind) > 20))
        return nx_fail(http_err(r), NX_EINVAL, f->q && strlen(f->q) > 150 ? "q" : f->kind && strlen(f->kind) > 20 ? "kind" : "status",
                       "查询条件过长");
    if ((rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &f->limit)) ||
        (rc = http_query_int(r, "cursor", 1, INT64_MAX, &has, &f->after)) ||
        (rc = http_query_int(r, "community_id", 1, INT64_MAX, &has, &f->community_id)) ||
        (rc = http_query_int(r, "team_id", 1, INT64_MAX, &has, &f->team_id)) ||
        (rc = http_query_int(r, "volunteer_id", 1, INT64_MAX, &has, &f->volunteer_id)) ||
        (rc = http_query_int(r, "activity_id", 1, INT64_MAX, &has, &f->activity_id)) ||
        (rc = http_query_int(r, "partner_id", 1, INT64_MAX, &has, &f->partner_id)) ||
        (rc = http_query_int(r, "service_id", 1, INT64_MAX, &has, &f->service_id)) ||
        (rc = http_query_int(r, "session_id", 1, INT64_MAX, &has, &f->session_id)) ||
        (rc = http_query_int(r, "mine", 0, 1, &has, &mine)))
        return rc;
    f->mine = mine == 1;
    const char *upcoming = http_query(r, "upcoming");
    if (upcoming && strcmp(upcoming, "1") == 0)
        f->from_ms = clock_now_ms();
    return 0;
}

typedef int (*list_fn)(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out, nx_err *e);

static int list_with(http_req *r, nx_app *app, list_fn fn)
{
    nx_principal who = app_principal(r);
    volunteers_filter f;
    json_t *out;
    int rc;
    if ((rc = filter_of(r, app, &f)) || (rc = fn(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* POST …/{id}/<action> whose rules answer a JSON object of their own. */
typedef int (*act_fn)(nx_app *app, const nx_principal *who, int64_t id, json_t *in, json_t **out, nx_err *e);

static int post_action(http_req *r, nx_app *app, act_fn fn, int status)
{
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body = NULL, *out = NULL;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)))
        return rc;
    rc = fn(app, &who, id, body, &out, http_err(r));
    if (rc)
        return rc;
    return http_reply_json(r, status, out);
}

/* ---- teams and volunteers ---- */

static int list_teams(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_team_list);
}

static int create_team(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, volunteers_team_create, volunteers_team_get, "/api/v1/volunteer-teams");
}

static int get_team(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, volunteers_team_get);
}

static int list_volunteers(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_list);
}

static int create_volunteer(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, volunteers_create, volunteers_get, "/api/v1/volunteers");
}

static int get_volunteer(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, volunteers_get);
}

/* ---- activities ---- */

static int list_activities(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_activity_list);
}

static int create_activity(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, volunteers_activity_create, volunteers_activity_get, "/api/v1/volunteer-activities");
}

static int get_activity(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, volunteers_activity_get);
}

static int signup(http_req *r, void *ctx)
{
    return post_action(r, ctx, volunteers_signup, 201);
}

static int cancel_signup(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body = NULL;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)))
        return rc;
    rc = volunteers_signup_cancel(app, &who, id, body, http_err(r));
    return rc ? rc : http_reply_status(r, 204);
}

static int checkin_code(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) ||
        (rc = volunteers_checkin_code(app, &who, id, clock_now_ms(), &out, http_err(r))))
        return rc;
    http_add_header(r, "Cache-Control", "no-store");
    return http_reply_json(r, 200, out);
}

static int check(http_req *r, void *ctx)
{
    return post_action(r, ctx, volunteers_check, 200);
}

/* ---- hours ---- */

static int list_hours(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_hours_list);
}

static int add_hours(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, volunteers_hours_add, volunteers_hours_get, "/api/v1/volunteer-hours");
}

static int get_hours(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, volunteers_hours_get);
}

static int approve_hours(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, volunteers_hours_approve, volunteers_hours_get);
}

static int honour(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    bool has;
    int64_t c = 0;
    json_t *out;
    int rc;
    const char *period = http_query(r, "period");
    if (period == NULL)
        return nx_fail(http_err(r), NX_EINVAL, "period", "请指定期间（YYYY 或 YYYY-MM）");
    if ((rc = http_query_int(r, "community_id", 1, INT64_MAX, &has, &c)) ||
        (rc = volunteers_honour(app, &who, period, c, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int hours_summary(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    bool has;
    int64_t vid = 0;
    json_t *out;
    int rc;
    if ((rc = http_query_int(r, "volunteer_id", 1, INT64_MAX, &has, &vid)) ||
        (rc = volunteers_hours_summary(app, &who, vid, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int export_hours(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    char path[256];
    int rc;
    if ((rc = http_export_path(path, sizeof path, http_err(r))))
        return rc;
    int64_t rows = 0;
    if ((rc = volunteers_hours_export(app, &who, http_query(r, "period"), path, &rows, http_err(r)))) {
        unlink(path);
        return rc;
    }
    return http_reply_export(r, path, NULL, "volunteer-hours.xlsx", "志愿服务时长.xlsx", rows);
}

/* ---- time-bank points ---- */

static int get_points(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_points_get);
}

static int get_point_rule(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    bool has;
    int64_t c = 0;
    json_t *out;
    int rc;
    if ((rc = http_query_int(r, "community_id", 1, INT64_MAX, &has, &c)) ||
        (rc = volunteers_point_rule_get(app, &who, c, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* POST/PUT of a body whose rules answer a JSON object of their own. */
typedef int (*body_fn)(nx_app *app, const nx_principal *who, json_t *in, json_t **out, nx_err *e);

static int with_body(http_req *r, nx_app *app, body_fn fn, int status)
{
    nx_principal who = app_principal(r);
    json_t *body = NULL, *out = NULL;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = fn(app, &who, body, &out, http_err(r))))
        return rc;
    return http_reply_json(r, status, out);
}

static int set_point_rule(http_req *r, void *ctx)
{
    return with_body(r, ctx, volunteers_point_rule_set, 200);
}

static int list_offers(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_offer_list);
}

static int create_offer(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, volunteers_offer_create, volunteers_offer_get, "/api/v1/volunteer-point-offers");
}

static int get_offer(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, volunteers_offer_get);
}

static int redeem(http_req *r, void *ctx)
{
    return with_body(r, ctx, volunteers_points_redeem, 201);
}

/* ---- partners, services, sessions, bookings ---- */

static int list_partners(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_partner_list);
}

static int create_partner(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, volunteers_partner_create, volunteers_partner_get, "/api/v1/partners");
}

static int get_partner(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, volunteers_partner_get);
}

static int list_services(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_service_list);
}

static int create_service(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, volunteers_service_create, volunteers_service_get, "/api/v1/partner-services");
}

static int get_service(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, volunteers_service_get);
}

static int list_sessions(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_session_list);
}

static int get_session(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, volunteers_session_get);
}

static int book(http_req *r, void *ctx)
{
    return post_action(r, ctx, volunteers_booking_create, 201);
}

static int list_bookings(http_req *r, void *ctx)
{
    return list_with(r, ctx, volunteers_booking_list);
}

static int update_booking(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body = NULL;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)))
        return rc;
    rc = volunteers_booking_update(app, &who, id, body, http_err(r));
    return rc ? rc : http_reply_status(r, 204);
}

int volunteers_routes(http_server *srv, nx_app *app)
{
    http_route(srv, "GET", "/api/v1/volunteer-teams", list_teams, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-teams", create_team, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-teams/{id}", get_team, app, 0);
    http_route(srv, "GET", "/api/v1/volunteers", list_volunteers, app, 0);
    http_route(srv, "POST", "/api/v1/volunteers", create_volunteer, app, 0);
    http_route(srv, "GET", "/api/v1/volunteers/{id}", get_volunteer, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-activities", list_activities, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-activities", create_activity, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-activities/{id}", get_activity, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-activities/{id}/signups", signup, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-activities/{id}/check-in-code", checkin_code, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-activities/{id}/check-ins", check, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-signups/{id}/cancel", cancel_signup, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-hours", list_hours, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-hours", add_hours, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-hours/honour", honour, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-hours/export", export_hours, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-hours/summary", hours_summary, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-hours/{id}", get_hours, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-hours/{id}/approve", approve_hours, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-points", get_points, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-points/redemptions", redeem, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-points/rule", get_point_rule, app, 0);
    http_route(srv, "PUT", "/api/v1/volunteer-points/rule", set_point_rule, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-point-offers", list_offers, app, 0);
    http_route(srv, "POST", "/api/v1/volunteer-point-offers", create_offer, app, 0);
    http_route(srv, "GET", "/api/v1/volunteer-point-offers/{id}", get_offer, app, 0);
    http_route(srv, "GET", "/api/v1/partners", list_partners, app, 0);
    http_route(srv, "POST", "/api/v1/partners", create_partner, app, 0);
    http_route(srv, "GET", "/api/v1/partners/{id}", get_partner, app, 0);
    http_route(srv, "GET", "/api/v1/partner-services", list_services, app, 0);
    http_route(srv, "POST", "/api/v1/partner-services", create_service, app, 0);
    http_route(srv, "GET", "/api/v1/partner-services/{id}", get_service, app, 0);
    http_route(srv, "GET", "/api/v1/partner-sessions", list_sessions, app, 0);
    http_route(srv, "GET", "/api/v1/partner-sessions/{id}", get_session, app, 0);
    http_route(srv, "POST", "/api/v1/partner-sessions/{id}/bookings", book, app, 0);
    http_route(srv, "GET", "/api/v1/partner-bookings", list_bookings, app, 0);
    http_route(srv, "PATCH", "/api/v1/partner-bookings/{id}", update_booking, app, 0);
    return 0;
}
