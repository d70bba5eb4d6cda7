/* courses_http.c — the routes of courses: parse the request, call the rules (courses.c,
 * courses_enrol.c), answer. */
#include <stdio.h>
#include <string.h>

#include "base/jsonin.h"
#include "base/str.h"
#include "modules/app_http.h"
#include "modules/courses/courses.h"

static int list_courses(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    courses_filter f = {.q = http_query(r, "q"), .status = http_query(r, "status"), .audience = http_query(r, "audience")};
    const char *mine = http_query(r, "mine");
    f.mine = mine && strcmp(mine, "1") == 0;
    bool present;
    json_t *out;
    int rc;
    if (f.q && str_utf8_len(f.q) > 50)
        return nx_fail(http_err(r), NX_EINVAL, "q", "搜索词最多 50 个字");
    if ((f.status && strlen(f.status) > 20) || (f.audience && strlen(f.audience) > 20))
        return nx_fail(http_err(r), NX_EINVAL, f.status && strlen(f.status) > 20 ? "status" : "audience", "取值无效");
    if ((rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &f.limit)) ||
        (rc = http_query_int(r, "cursor", 1, INT64_MAX, &present, &f.after)) ||
        (rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &f.community_id)) ||
        (rc = courses_list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int create_course(http_req *r, void *ctx)
{
    return app_http_create(r, ctx, courses_create, courses_get, "/api/v1/courses");
}

static int get_course(http_req *r, void *ctx)
{
    return app_http_get(r, ctx, courses_get);
}

/* An optional JSON body: absent when the request has none. */
static int optional_body(http_req *r, json_t **body)
{
    size_t n = 0;
    *body = NULL;
    http_body(r, &n);
    return n ? http_json_body(r, body) : 0;
}

static int decide(http_req *r, nx_app *app, const char *action)
{
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body, *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = optional_body(r, &body)) ||
        (rc = courses_decide(app, &who, id, action, body, http_err(r))) ||
        (rc = courses_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int approve(http_req *r, void *ctx)
{
    return decide(r, ctx, "approve");
}
static int reject(http_req *r, void *ctx)
{
    return decide(r, ctx, "reject");
}
static int cancel(http_req *r, void *ctx)
{
    return decide(r, ctx, "cancel");
}

static int enrol(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body, *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = courses_enrol(app, &who, id, body, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 201, out);
}

static int list_enrolments(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = courses_enrolments(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int withdraw(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = courses_withdraw(app, &who, id, http_err(r))))
        return rc;
    return http_reply_status(r, 204);
}

static int lottery(http_req *r, void *ctx)
{
    static const char *const keys[] = {"seed", NULL};
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body, *out;
    const char *seed = NULL;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = optional_body(r, &body)))
        return rc;
    if (body && ((rc = json_only(body, keys, http_err(r))) || (rc = json_read_str(body, "seed", false, 64, &seed, http_err(r)))))
        return rc;
    if ((rc = courses_lottery(app, &who, id, seed, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int feedback(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = courses_feedback(app, &who, id, body, http_err(r))))
        return rc;
    return http_reply_status(r, 204);
}

static int attendance_get(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = courses_attendance_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int attendance_set(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body, *out;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = courses_attendance_set(app, &who, id, body, http_err(r))) ||
        (rc = courses_attendance_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int leave(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = optional_body(r, &body)) ||
        (rc = courses_leave(app, &who, id, body, http_err(r))))
        return rc;
    return http_reply_status(r, 204);
}

int courses_routes(http_server *srv, nx_app *app)
{
    http_route(srv, "GET", "/api/v1/courses", list_courses, app, 0);
    http_route(srv, "POST", "/api/v1/courses", create_course, app, 0);
    http_route(srv, "GET", "/api/v1/courses/{id}", get_course, app, 0);
    http_route(srv, "POST", "/api/v1/courses/{id}/approve", approve, app, 0);
    http_route(srv, "POST", "/api/v1/courses/{id}/reject", reject, app, 0);
    http_route(srv, "POST", "/api/v1/courses/{id}/cancel", cancel, app, 0);
    http_route(srv, "GET", "/api/v1/courses/{id}/enrolments", list_enrolments, app, 0);
    http_route(srv, "POST", "/api/v1/courses/{id}/enrolments", enrol, app, 0);
    http_route(srv, "POST", "/api/v1/courses/{id}/lottery", lottery, app, 0);
    http_route(srv, "POST", "/api/v1/courses/{id}/feedback", feedback, app, 0);
    http_route(srv, "POST", "/api/v1/course-enrolments/{id}/withdraw", withdraw, app, 0);
    http_route(srv, "GET", "/api/v1/course-sessions/{id}/attendance", attendance_get, app, 0);
    http_route(srv, "POST", "/api/v1/course-sessions/{id}/attendance", attendance_set, app, 0);
    http_route(srv, "POST", "/api/v1/course-sessions/{id}/leave", leave, app, 0);
    return 0;
}
