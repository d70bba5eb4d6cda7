/* venues_http.c — the routes of the rooms, their bookings and the waiting list: parse the request,
 * call the rules (venues.c, venues_bookings.c), answer. The ICS feed answers text/calendar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"
#include "modules/app_http.h"
#include "modules/venues/venues.h"

/* The list filters of the query string; statuses is the list's status vocabulary (its route row's
 * .arg; NULL: the list has no status filter). */
static int list_filter(http_req *r, nx_app *app, const char *statuses, venues_filter *f)
{
    int rc;
    f->q = http_query(r, "q");
    const char *mine;
    if ((rc = app_query_enum(r, "mine", "0 1", &mine))) /* docs/openapi.json: "0" or "1" */
        return rc;
    f->mine = mine && strcmp(mine, "1") == 0;
    if (f->q && str_utf8_len(f->q) > 50)
        return nx_fail(http_err(r), NX_EINVAL, "q", "搜索词最多 50 个字");
    if ((statuses && (rc = app_query_enum(r, "status", statuses, &f->status))) ||
        (rc = app_query_page(r, app, &f->limit, &f->after, &f->community_id)) ||
        (rc = app_query_id(r, "venue_id", &f->venue_id)))
        return rc;
    const char *keys[2] = {"from", "to"};
    int64_t *outs[2] = {&f->from_ms, &f->to_ms};
    for (int i = 0; i < 2; i++) {
        const char *v;
        nx_date d;
        if ((rc = app_query_date(r, keys[i], &v, &d)))
            return rc;
        if (v)
            *outs[i] = venues_local_ms(d, i == 0 ? 0 : 1440);
    }
    return 0;
}

APP_FILTERED_LIST(list, venues_filter, list_filter)

static int calendar(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, days = 7;
    bool present;
    nx_date from = date_today();
    json_t *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_query_int(r, "days", 1, 42, &present, &days)) ||
        (rc = app_query_date(r, "from", NULL, &from)) ||
        (rc = venues_calendar(app, &who, id, from, (int)days, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int calendar_ics(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    char *text = NULL;
    size_t len = 0;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = venues_ics(app, &who, id, &text, &len, http_err(r))))
        return rc;
    rc = http_reply_bytes(r, 200, "text/calendar; charset=utf-8", text, len);
    free(text);
    return rc;
}

static int create_booking(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = venues_booking_create(app, &who, body, &out, http_err(r))))
        return rc;
    char loc[96];
    snprintf(loc, sizeof loc, "/api/v1/venue-bookings/%lld", (long long)json_integer_value(json_object_get(out, "id")));
    http_add_header(r, "Location", loc);
    return http_reply_json(r, 201, out);
}

static int create_wait(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *body;
    int64_t id;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = venues_wait_create(app, &who, body, &id, http_err(r))))
        return rc;
    return http_reply_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "waiting"));
}

static int accept_wait(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = venues_wait_accept(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 201, out);
}

static const app_route routes[] = {
    {"GET", "/api/v1/venues", .with = list, .fn = APP_FN(venues_list)},
    {"POST", "/api/v1/venues", .create = venues_create, .get = venues_get},
    {"GET", "/api/v1/venues/{id}", .get = venues_get},
    {"PATCH", "/api/v1/venues/{id}", .change = venues_update, .get = venues_get},
    {"POST", "/api/v1/venues/{id}/closures", .change = venues_closure_add, .get = venues_get},
    {"GET", "/api/v1/venues/{id}/calendar", .h = calendar},
    {"GET", "/api/v1/venues/{id}/calendar.ics", .h = calendar_ics},
    {"GET", "/api/v1/venue-bookings", .with = list, .fn = APP_FN(venues_booking_list), .arg = "pending confirmed cancelled rejected no_show"},
    {"POST", "/api/v1/venue-bookings", .h = create_booking},
    {"GET", "/api/v1/venue-bookings/{id}", .get = venues_booking_get},
    {"POST", "/api/v1/venue-bookings/{id}/cancel", .action = venues_booking_act, .arg = "cancel", .get = venues_booking_get},
    {"POST", "/api/v1/venue-bookings/{id}/approve", .action = venues_booking_act, .arg = "approve", .get = venues_booking_get},
    {"POST", "/api/v1/venue-bookings/{id}/reject", .action = venues_booking_act, .arg = "reject", .get = venues_booking_get},
    {"POST", "/api/v1/venue-bookings/{id}/check-in", .action = venues_booking_act, .arg = "check-in", .get = venues_booking_get},
    {"POST", "/api/v1/venue-bookings/{id}/no-show", .action = venues_booking_act, .arg = "no-show", .get = venues_booking_get},
    {"GET", "/api/v1/venue-waits", .with = list, .fn = APP_FN(venues_wait_list), .arg = "waiting offered booked expired cancelled"},
    {"POST", "/api/v1/venue-waits", .h = create_wait},
    {"POST", "/api/v1/venue-waits/{id}/accept", .h = accept_wait},
};

int venues_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
