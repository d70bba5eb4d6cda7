/* venues_http.c — the routes of the rooms, their bookings and the waiting list: parse the request,
 * call the rules (venues.c, venues_bookings.c), answer. The ICS feed answers text/calendar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"
#include "modules/app_http.h"
#include "modules/venues/venues.h"

static int list_filter(http_req *r, nx_app *app, venues_filter *f)
{
    bool present;
    int rc;
    f->q = http_query(r, "q");
    f->status = http_query(r, "status");
    const char *mine = http_query(r, "mine");
    f->mine = mine && strcmp(mine, "1") == 0;
    if (f->q && str_utf8_len(f->q) > 50)
        return nx_fail(http_err(r), NX_EINVAL, "q", "搜索词最多 50 个字");
    if (f->status && strlen(f->status) > 20)
        return nx_fail(http_err(r), NX_EINVAL, "status", "状态无效");
    if ((rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &f->limit)) ||
        (rc = http_query_int(r, "cursor", 1, INT64_MAX, &present, &f->after)) ||
        (rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &f->community_id)) ||
        (rc = http_query_int(r, "venue_id", 1, INT64_MAX, &present, &f->venue_id)))
        return rc;
    const char *keys[2] = {"from", "to"};
    int64_t *outs[2] = {&f->from_ms, &f->to_ms};
    for (int i = 0; i < 2; i++) {
        const char *v = http_query(r, keys[i]);
        nx_date d;
        if (!v)
            continue;
        if (date_parse(v, &d))
            return nx_fail(http_err(r), NX_EINVAL, keys[i], "日期格式应为 YYYY-MM-DD");
        *outs[i] = venues_local_ms(d, i == 0 ? 0 : 1440);
    }
    return 0;
}

static int list_venues(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    venues_filter f = {0};
    json_t *out;
    int rc;
    if ((rc = list_filter(r, app, &f)) || (rc = venues_list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int create_venue(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, venues_create, venues_get, "/api/v1/venues");
}

static int get_venue(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, venues_get);
}

static int patch_venue(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, venues_update, venues_get);
}

static int add_closure(http_req *r, void *ctx)
{
    return app_http_change(r, ctx, venues_closure_add, venues_get);
}

static int calendar(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, days = 7;
    bool present;
    nx_date from = date_today();
    const char *f = http_query(r, "from");
    json_t *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_query_int(r, "days", 1, 42, &present, &days)))
        return rc;
    if (f && date_parse(f, &from))
        return nx_fail(http_err(r), NX_EINVAL, "from", "日期格式应为 YYYY-MM-DD");
    if ((rc = venues_calendar(app, &who, id, from, (int)days, &out, http_err(r))))
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

static int list_bookings(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    venues_filter f = {0};
    json_t *out;
    int rc;
    if ((rc = list_filter(r, app, &f)) || (rc = venues_booking_list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
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

static int get_booking(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, venues_booking_get);
}

/* POST /api/v1/venue-bookings/{id}/<action>: an optional JSON body {"note"}. */
static int act(http_req *r, nx_app *app, const char *action)
{
    nx_principal who = app_principal(r);
    int64_t id;
    size_t n = 0;
    json_t *body = NULL, *out;
    int rc;
    http_body(r, &n);
    if ((rc = http_param_id(r, "id", &id)) || (n && (rc = http_json_body(r, &body))) ||
        (rc = venues_booking_act(app, &who, id, action, body, http_err(r))) ||
        (rc = venues_booking_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int cancel(http_req *r, void *ctx)
{
    return act(r, ctx, "cancel");
}
static int approve(http_req *r, void *ctx)
{
    return act(r, ctx, "approve");
}
static int reject(http_req *r, void *ctx)
{
    return act(r, ctx, "reject");
}
static int check_in(http_req *r, void *ctx)
{
    return act(r, ctx, "check-in");
}
static int no_show(http_req *r, void *ctx)
{
    return act(r, ctx, "no-show");
}

static int list_waits(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    venues_filter f = {0};
    json_t *out;
    int rc;
    if ((rc = list_filter(r, app, &f)) || (rc = venues_wait_list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
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

int venues_routes(http_server *srv, nx_app *app)
{
    http_route(srv, "GET", "/api/v1/venues", list_venues, app, 0);
    http_route(srv, "POST", "/api/v1/venues", create_venue, app, 0);
    http_route(srv, "GET", "/api/v1/venues/{id}", get_venue, app, 0);
    http_route(srv, "PATCH", "/api/v1/venues/{id}", patch_venue, app, 0);
    http_route(srv, "POST", "/api/v1/venues/{id}/closures", add_closure, app, 0);
    http_route(srv, "GET", "/api/v1/venues/{id}/calendar", calendar, app, 0);
    http_route(srv, "GET", "/api/v1/venues/{id}/calendar.ics", calendar_ics, app, 0);
    http_route(srv, "GET", "/api/v1/venue-bookings", list_bookings, app, 0);
    http_route(srv, "POST", "/api/v1/venue-bookings", create_booking, app, 0);
    http_route(srv, "GET", "/api/v1/venue-bookings/{id}", get_booking, app, 0);
    http_route(srv, "POST", "/api/v1/venue-bookings/{id}/cancel", cancel, app, 0);
    http_route(srv, "POST", "/api/v1/venue-bookings/{id}/approve", approve, app, 0);
    http_route(srv, "POST", "/api/v1/venue-bookings/{id}/reject", reject, app, 0);
    http_route(srv, "POST", "/api/v1/venue-bookings/{id}/check-in", check_in, app, 0);
    http_route(srv, "POST", "/api/v1/venue-bookings/{id}/no-show", no_show, app, 0);
    http_route(srv, "GET", "/api/v1/venue-waits", list_waits, app, 0);
    http_route(srv, "POST", "/api/v1/venue-waits", create_wait, app, 0);
    http_route(srv, "POST", "/api/v1/venue-waits/{id}/accept", accept_wait, app, 0);
    return 0;
}
