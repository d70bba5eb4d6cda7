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
    courses_filter f = {.q = http_query(r, "q"), .audience = http_query(r, "audience")};
    const char *mine;
    json_t *out;
    int rc;
    if ((rc = app_query_enum(r, "mine", "0 1", &mine))) /* docs/openapi.json: "0" or "1" */
        return rc;
    f.mine = mine && strcmp(mine, "1") == 0;
    if (f.q && str_utf8_len(f.q) > 50)
        return nx_fail(http_err(r), NX_EINVAL, "q", "搜索词最多 50 个字");
    if (f.audience && strlen(f.audience) > 20)
        return nx_fail(http_err(r), NX_EINVAL, "audience", "取值无效");
    if ((rc = app_query_enum(r, "status", "proposed approved rejected cancelled", &f.status)) ||
        (rc = app_query_page(r, app, &f.limit, &f.after, &f.community_id)) ||
        (rc = courses_list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
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
    if ((rc = http_param_id(r, "id", &id)) || (rc = app_json_body_opt(r, &body)))
        return rc;
    if (body && ((rc = json_only(body, keys, http_err(r))) || (rc = json_read_str(body, "seed", false, 64, &seed, http_err(r)))))
        return rc;
    if ((rc = courses_lottery(app, &who, id, seed, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static const app_route routes[] = {
    {"GET", "/api/v1/courses", .h = list_courses},
    {"POST", "/api/v1/courses", .create = courses_create, .get = courses_get},
    {"GET", "/api/v1/courses/{id}", .get = courses_get},
    {"POST", "/api/v1/courses/{id}/approve", .action = courses_decide, .arg = "approve", .get = courses_get},
    {"POST", "/api/v1/courses/{id}/reject", .action = courses_decide, .arg = "reject", .get = courses_get},
    {"POST", "/api/v1/courses/{id}/cancel", .action = courses_decide, .arg = "cancel", .get = courses_get},
    {"GET", "/api/v1/courses/{id}/enrolments", .get = courses_enrolments},
    {"POST", "/api/v1/courses/{id}/enrolments", .act = courses_enrol, .status = 201},
    {"POST", "/api/v1/courses/{id}/lottery", .h = lottery},
    {"POST", "/api/v1/courses/{id}/feedback", .change = courses_feedback},
    {"POST", "/api/v1/course-enrolments/{id}/withdraw", .del = courses_withdraw},
    {"GET", "/api/v1/course-sessions/{id}/attendance", .get = courses_attendance_get},
    {"POST", "/api/v1/course-sessions/{id}/attendance", .change = courses_attendance_set, .get = courses_attendance_get},
    {"POST", "/api/v1/course-sessions/{id}/leave", .change = courses_leave, .body_optional = true},
};

int courses_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
