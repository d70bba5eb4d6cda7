/* visits_http.c — the HTTP face of care files, visit policies and vocabularies, tasks, visits,
 * photos, problems, the care statistics and the monthly visit register. Thin: parse the path and
 * query, hand the JSON body to the rules (which validate it strictly), answer JSON. */
#include "modules/visits/visits_internal.h"

#include "base/str.h"
#include "modules/visits/visits_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int visits_parse_filter(http_req *r, nx_app *app, care_filter *f)
{
    memset(f, 0, sizeof *f);
    nx_err *e = http_err(r);
    int rc;
    if ((rc = app_query_id(r, "community_id", &f->community_id)) || (rc = app_query_id(r, "grid_id", &f->grid_id)) ||
        (rc = app_query_id(r, "resident_id", &f->resident_id)) ||
        (rc = app_query_id(r, "care_file_id", &f->care_file_id)) ||
        (rc = app_query_id(r, "assignee_user_id", &f->assignee_user_id)))
        return rc;
    f->status = http_query(r, "status");
    f->level = http_query(r, "level");
    f->category = http_query(r, "category");
    f->kind = http_query(r, "kind");
    f->from = http_query(r, "from");
    f->to = http_query(r, "to");
    f->cursor = http_query(r, "cursor");
    f->q = http_query(r, "q");
    const char *strs[] = {f->status, f->level, f->category, f->kind, f->cursor, f->q};
    const char *names[] = {"status", "level", "category", "kind", "cursor", "q"};
    for (int i = 0; i < 6; i++)
        if (strs[i] && strlen(strs[i]) > 40)
            return nx_fail(e, NX_EINVAL, names[i], "%s 过长", names[i]);
    nx_date d;
    if (f->from && (strlen(f->from) != 10 || date_parse(f->from, &d)))
        return nx_fail(e, NX_EINVAL, "from", "from 应为日期（YYYY-MM-DD）");
    if (f->to && (strlen(f->to) != 10 || date_parse(f->to, &d)))
        return nx_fail(e, NX_EINVAL, "to", "to 应为日期（YYYY-MM-DD）");
    if ((rc = app_query_bool(r, "overdue", &f->overdue)) || (rc = app_query_bool(r, "escalated", &f->escalated)))
        return rc;
    const char *order = http_query(r, "order");
    if (order && strcmp(order, "oldest") != 0 && strcmp(order, "newest") != 0)
        return nx_fail(e, NX_EINVAL, "order", "order 应为 oldest 或 newest");
    f->oldest = order && strcmp(order, "oldest") == 0;
    return app_query_limit(r, app, &f->limit);
}

/* Lists share the filters of the query string; the other shapes are app_http.h's. */
int visits_http_list(http_req *r, nx_app *app, visits_list_fn list)
{
    nx_principal who = app_principal(r);
    care_filter f;
    json_t *out;
    int rc;
    if ((rc = visits_parse_filter(r, app, &f)) || (rc = list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* The table's list rows: fn is a visits_list_fn. */
static int list(http_req *r, nx_app *app, const app_route *t)
{
    return visits_http_list(r, app, (visits_list_fn)t->fn);
}

/* ---- vocabularies and policies ---- */

static int vocab_list(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    const char *kind = http_query(r, "kind");
    if (kind && strlen(kind) > 40)
        return nx_fail(http_err(r), NX_EINVAL, "kind", "kind 过长");
    json_t *out;
    int rc = visits_vocab_list(ctx, &who, kind, &out, http_err(r));
    return rc ? rc : http_reply_json(r, 200, out);
}

/* ---- tasks, visits, photos ---- */

/* Photos of visits and of grid incidents share one upload route shape. */
int visits_http_photo(http_req *r, nx_app *app, const char *owner_type)
{
    nx_principal who = app_principal(r);
    int64_t id, photo;
    size_t len;
    int rc = http_param_id(r, "id", &id);
    if (rc)
        return rc;
    const void *body = http_body(r, &len);
    size_t stored = 0;
    if ((rc = visits_photo_add(app, &who, owner_type, id, body, len, (size_t)app->cfg->max_upload, &photo, &stored,
                               http_err(r))))
        return rc;
    char url[64];
    snprintf(url, sizeof url, "/api/v1/photos/%lld", (long long)photo);
    http_add_header(r, "Location", url);
    return http_reply_json(r, 201, json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)photo, "content_type",
                                             visits_sniff_image(body, len), "url", url, "size", (json_int_t)stored));
}

static int visit_photo(http_req *r, void *ctx)
{
    return visits_http_photo(r, ctx, "visit");
}

/* a photo of a resident's home is not kept by the browser or anything between (a shared office
 * computer, a proxy); the web app asks again when it shows it again (app_http_get_file) */
static int photo_get(http_req *r, void *ctx)
{
    return app_http_get_file(r, ctx, visits_photo_read);
}

/* ---- problems ---- */


/* ---- statistics and the register ---- */

static int register_xlsx(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    const char *month = http_query(r, "month");
    bool present;
    int64_t community = 0;
    int rc = http_query_int(r, "community_id", 1, INT64_MAX, &present, &community);
    if (rc)
        return rc;
    char def[8];
    if (!month) {
        nx_date d = visits_local_date(clock_now_ms());
        snprintf(def, sizeof def, "%04d-%02d", d.y, d.m);
        month = def;
    }
    char path[256];
    if ((rc = http_export_path(path, sizeof path, http_err(r))))
        return rc;
    int64_t count = 0;
    rc = visits_register_xlsx(app, &who, month, community, path, &count, http_err(r));
    char ascii[40], utf8[60];
    snprintf(ascii, sizeof ascii, "visit-register-%s.xlsx", month);
    snprintf(utf8, sizeof utf8, "走访台账-%s.xlsx", month);
    return app_reply_export(r, rc, path, ascii, utf8, -1);
}

static const app_route routes[] = {
    {"GET", "/api/v1/care/vocab", .h = vocab_list},
    {"POST", "/api/v1/care/vocab", .create = visits_vocab_create, .get = visits_vocab_get},
    {"GET", "/api/v1/care/vocab/{id}", .get = visits_vocab_get},
    {"PATCH", "/api/v1/care/vocab/{id}", .change = visits_vocab_update, .get = visits_vocab_get},
    {"GET", "/api/v1/care/policies", .read = visits_policy_list},
    {"POST", "/api/v1/care/policies", .create = visits_policy_create, .get = visits_policy_get},
    {"GET", "/api/v1/care/policies/{id}", .get = visits_policy_get},
    {"PATCH", "/api/v1/care/policies/{id}", .change = visits_policy_update, .get = visits_policy_get},
    {"GET", "/api/v1/care-files", .with = list, .fn = APP_FN(visits_care_file_list)},
    {"POST", "/api/v1/care-files", .create = visits_care_file_create, .get = visits_care_file_get},
    {"GET", "/api/v1/care-files/{id}", .get = visits_care_file_get},
    {"PATCH", "/api/v1/care-files/{id}", .change = visits_care_file_update, .get = visits_care_file_get},
    {"POST", "/api/v1/care-files/{id}/close", .change = visits_care_file_close, .get = visits_care_file_get},
    /* a care file's life event or a manual trigger creates a task: 201 with the task */
    {"POST", "/api/v1/care-files/{id}/events", .spawn = visits_care_file_event, .get = visits_task_get},
    {"POST", "/api/v1/care-files/{id}/tasks", .spawn = visits_care_file_trigger, .get = visits_task_get},
    {"GET", "/api/v1/visit-tasks", .with = list, .fn = APP_FN(visits_task_list)},
    {"GET", "/api/v1/visit-tasks/{id}", .get = visits_task_get},
    {"PATCH", "/api/v1/visit-tasks/{id}", .change = visits_task_update, .get = visits_task_get},
    {"GET", "/api/v1/visits", .with = list, .fn = APP_FN(visits_list)},
    {"POST", "/api/v1/visits", .create = visits_record, .get = visits_get},
    {"GET", "/api/v1/visits/register", .h = register_xlsx},
    {"GET", "/api/v1/visits/{id}", .get = visits_get},
    {"POST", "/api/v1/visits/{id}/photos", .h = visit_photo, .flags = HTTP_UPLOAD},
    {"GET", "/api/v1/photos/{id}", .h = photo_get},
    {"GET", "/api/v1/problems", .with = list, .fn = APP_FN(visits_problem_list)},
    {"POST", "/api/v1/problems", .create = visits_problem_create, .get = visits_problem_get},
    {"GET", "/api/v1/problems/{id}", .get = visits_problem_get},
    {"PATCH", "/api/v1/problems/{id}", .change = visits_problem_update, .get = visits_problem_get},
    {"POST", "/api/v1/problems/{id}/notes", .change = visits_problem_note, .get = visits_problem_get},
    {"POST", "/api/v1/problems/{id}/resolve", .change = visits_problem_resolve, .get = visits_problem_get},
    {"POST", "/api/v1/problems/{id}/rate", .change = visits_problem_rate, .get = visits_problem_get},
    {"GET", "/api/v1/stats/care", .community_now = visits_stats},
};

int visits_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
