/* volunteers_http.c — the routes of the volunteers module: parse the request, call the rules
 * (teams.c, activities.c, hours.c, partners.c), answer. Nothing here decides who may do what; the
 * rules do, with the principal of the request. */
#include "modules/volunteers/volunteers.h"

#include "base/clock.h"
#include "http/http.h"
#include "modules/app_http.h"

#include <stdlib.h>
#include <string.h>

/* The list filters every list understands, from the query string; statuses is the list's status
 * vocabulary (its route row's .arg; NULL: the list has no status filter). */
static int filter_of(http_req *r, nx_app *app, const char *statuses, volunteers_filter *f)
{
    bool has;
    int64_t mine = 0, upcoming = 0;
    int rc;
    memset(f, 0, sizeof *f);
    f->q = http_query(r, "q");
    f->kind = http_query(r, "kind");
    if ((f->q && strlen(f->q) > 150) || (f->kind && strlen(f->kind) > 20))
        return nx_fail(http_err(r), NX_EINVAL, f->q && strlen(f->q) > 150 ? "q" : "kind", "查询条件过长");
    if ((statuses && (rc = app_query_enum(r, "status", statuses, &f->status))) ||
        (rc = app_query_page(r, app, &f->limit, &f->after, &f->community_id)) ||
        (rc = app_query_id(r, "team_id", &f->team_id)) || (rc = app_query_id(r, "volunteer_id", &f->volunteer_id)) ||
        (rc = app_query_id(r, "activity_id", &f->activity_id)) || (rc = app_query_id(r, "partner_id", &f->partner_id)) ||
        (rc = app_query_id(r, "service_id", &f->service_id)) || (rc = app_query_id(r, "session_id", &f->session_id)) ||
        (rc = http_query_int(r, "mine", 0, 1, &has, &mine)) ||
        (rc = http_query_int(r, "upcoming", 0, 1, &has, &upcoming)))
        return rc;
    f->mine = mine == 1;
    if (upcoming == 1) /* only what has not ended: ends_at ≥ now */
        f->from_ms = clock_now_ms();
    return 0;
}

APP_FILTERED_LIST(list_with, volunteers_filter, filter_of)

/* ---- activities ---- */

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

/* ---- hours ---- */

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
    rc = volunteers_hours_export(app, &who, http_query(r, "period"), path, &rows, http_err(r));
    return app_reply_export(r, rc, path, "volunteer-hours.xlsx", "志愿服务时长.xlsx", rows);
}

static int thanks_letter(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    int64_t id = 0, year = 0;
    bool has = false;
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_query_int(r, "year", 2000, 2999, &has, &year)))
        return rc;
    if (!has)
        return nx_fail(http_err(r), NX_EINVAL, "year", "请指定年份（如 2026）");
    if ((rc = volunteers_partner_thanks(ctx, &who, id, (int)year, &pdf, &len, http_err(r))))
        return rc;
    http_add_header(r, "Content-Disposition", "inline; filename=\"thanks-letter.pdf\"");
    rc = http_reply_bytes(r, 200, "application/pdf", pdf, len);
    free(pdf);
    return rc;
}

static const app_route routes[] = {
    {"GET", "/api/v1/volunteer-teams", .with = list_with, .fn = APP_FN(volunteers_team_list)},
    {"POST", "/api/v1/volunteer-teams", .create = volunteers_team_create, .get = volunteers_team_get},
    {"GET", "/api/v1/volunteer-teams/{id}", .get = volunteers_team_get},
    {"GET", "/api/v1/volunteers", .with = list_with, .fn = APP_FN(volunteers_list), .arg = "active inactive"},
    {"POST", "/api/v1/volunteers", .create = volunteers_create, .get = volunteers_get},
    {"GET", "/api/v1/volunteers/{id}", .get = volunteers_get},
    {"GET", "/api/v1/volunteer-activities", .with = list_with, .fn = APP_FN(volunteers_activity_list), .arg = "open cancelled"},
    {"POST", "/api/v1/volunteer-activities", .create = volunteers_activity_create, .get = volunteers_activity_get},
    {"GET", "/api/v1/volunteer-activities/{id}", .get = volunteers_activity_get},
    {"POST", "/api/v1/volunteer-activities/{id}/signups", .act = volunteers_signup, .status = 201},
    {"GET", "/api/v1/volunteer-activities/{id}/check-in-code", .h = checkin_code},
    {"POST", "/api/v1/volunteer-activities/{id}/check-ins", .act = volunteers_check},
    {"POST", "/api/v1/volunteer-signups/{id}/cancel", .change = volunteers_signup_cancel},
    {"GET", "/api/v1/volunteer-hours", .with = list_with, .fn = APP_FN(volunteers_hours_list), .arg = "pending approved rejected"},
    {"POST", "/api/v1/volunteer-hours", .create = volunteers_hours_add, .get = volunteers_hours_get},
    {"GET", "/api/v1/volunteer-hours/honour", .h = honour},
    {"GET", "/api/v1/volunteer-hours/export", .h = export_hours},
    {"GET", "/api/v1/volunteer-hours/summary", .h = hours_summary},
    {"GET", "/api/v1/volunteer-hours/{id}", .get = volunteers_hours_get},
    {"POST", "/api/v1/volunteer-hours/{id}/approve", .change = volunteers_hours_approve, .get = volunteers_hours_get},
    {"GET", "/api/v1/volunteer-points", .with = list_with, .fn = APP_FN(volunteers_points_get)},
    {"POST", "/api/v1/volunteer-points/redemptions", .post = volunteers_points_redeem, .status = 201},
    {"GET", "/api/v1/volunteer-points/rule", .community = volunteers_point_rule_get},
    {"PUT", "/api/v1/volunteer-points/rule", .post = volunteers_point_rule_set},
    {"GET", "/api/v1/volunteer-point-offers", .with = list_with, .fn = APP_FN(volunteers_offer_list)},
    {"POST", "/api/v1/volunteer-point-offers", .create = volunteers_offer_create, .get = volunteers_offer_get},
    {"GET", "/api/v1/volunteer-point-offers/{id}", .get = volunteers_offer_get},
    {"GET", "/api/v1/partners", .with = list_with, .fn = APP_FN(volunteers_partner_list)},
    {"POST", "/api/v1/partners", .create = volunteers_partner_create, .get = volunteers_partner_get},
    {"GET", "/api/v1/partners/{id}", .get = volunteers_partner_get},
    {"GET", "/api/v1/partners/{id}/thanks-letter", .h = thanks_letter},
    {"GET", "/api/v1/partner-services", .with = list_with, .fn = APP_FN(volunteers_service_list)},
    {"POST", "/api/v1/partner-services", .create = volunteers_service_create, .get = volunteers_service_get},
    {"GET", "/api/v1/partner-services/{id}", .get = volunteers_service_get},
    {"GET", "/api/v1/partner-sessions", .with = list_with, .fn = APP_FN(volunteers_session_list)},
    {"GET", "/api/v1/partner-sessions/{id}", .get = volunteers_session_get},
    {"POST", "/api/v1/partner-sessions/{id}/bookings", .act = volunteers_booking_create, .status = 201},
    {"GET", "/api/v1/partner-bookings", .with = list_with, .fn = APP_FN(volunteers_booking_list), .arg = "booked cancelled attended no_show"},
    {"PATCH", "/api/v1/partner-bookings/{id}", .change = volunteers_booking_update},
};

int volunteers_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
