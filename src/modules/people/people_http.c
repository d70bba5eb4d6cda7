/* people_http.c — the HTTP face of residents and households: JSON in, rules of people.c, JSON out.
 * Parsing is strict: unknown fields, wrong types and over-long strings are refused with the field
 * named, before any rule runs. */
#include "modules/people/people.h"

#include "base/clock.h"
#include "base/str.h"
#include "modules/app_http.h"
#include "modules/people/people_io.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A resident's detail is a few KiB even with a large household; 4 MiB is far beyond any real one. */
#define RESIDENT_JSON_CAP ((size_t)4 << 20)

/* The rules of the shared handler shapes (app_http.h): the body parsed strictly, then people.c. */
APP_PARSED_RULES(resident_create, resident_update, resident_input, people_parse_resident, people_resident_create,
                 people_resident_update)
APP_PARSED_RULES(household_create, household_update, household_input, people_parse_household,
                 people_household_create, people_household_update)

/* The hot read path: the text is written once into a buffer that libmicrohttpd sends as it is. */
static int get_resident(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    int rc = http_param_id(r, "id", &id);
    if (rc)
        return rc;
    strbuf body;
    strbuf_init(&body, RESIDENT_JSON_CAP);
    if ((rc = people_resident_write(app, &who, id, &body, http_err(r)))) {
        strbuf_cleanup(&body);
        return rc;
    }
    return http_reply_json_text(r, 200, &body);
}

static int reveal_resident(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    int rc = http_param_id(r, "id", &id);
    if (rc)
        return rc;
    json_t *body, *fields, *out;
    static const char *const allowed[] = {"fields", NULL};
    if ((rc = http_json_body(r, &body)) || (rc = json_only(body, allowed, http_err(r))))
        return rc;
    if ((rc = json_get_str_array(body, "fields", true, 4, 20, &fields, http_err(r))) < 0)
        return rc;
    if ((rc = people_reveal(app, &who, id, fields, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int people_parse_query(http_req *r, nx_app *app, resident_query *q)
{
    memset(q, 0, sizeof *q);
    nx_err *e = http_err(r);
    int rc;
    bool present;
    int64_t v;
    q->q = http_query(r, "q");
    q->tag = http_query(r, "tag");
    q->sex = http_query(r, "sex");
    q->status = http_query(r, "status");
    q->residence = http_query(r, "residence");
    q->care_level = http_query(r, "care_level");
    q->sort = http_query(r, "sort");
    q->cursor = http_query(r, "cursor");
    if (q->cursor && strlen(q->cursor) > 1200)
        return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
    if ((rc = app_query_id(r, "community_id", &q->community_id)) || (rc = app_query_id(r, "grid_id", &q->grid_id)) ||
        (rc = app_query_id(r, "estate_id", &q->estate_id)) ||
        (rc = app_query_id(r, "household_id", &q->household_id)))
        return rc;
    q->age_min = q->age_max = -1;
    if ((rc = http_query_int(r, "age_min", 0, 150, &present, &v)))
        return rc;
    if (present)
        q->age_min = (int)v;
    if ((rc = http_query_int(r, "age_max", 0, 150, &present, &v)))
        return rc;
    if (present)
        q->age_max = (int)v;
    if (q->age_min >= 0 && q->age_max >= 0 && q->age_min > q->age_max)
        return nx_fail(e, NX_EINVAL, "age_min", "最小年龄不能大于最大年龄");
    if ((rc = app_query_limit(r, app, &q->limit)))
        return rc;
    q->with_total = true;
    return 0;
}

static int list_residents(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    resident_query q;
    int rc = people_parse_query(r, app, &q);
    if (rc)
        return rc;
    json_t *out;
    if ((rc = people_resident_search(app, &who, &q, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* ---- households ---- */

static int list_households(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *out;
    int64_t grid = 0, estate = 0;
    int limit, rc;
    if ((rc = app_query_id(r, "grid_id", &grid)) || (rc = app_query_id(r, "estate_id", &estate)) ||
        (rc = app_query_limit(r, app, &limit)) ||
        (rc = people_household_list(app, &who, grid, estate, http_query(r, "q"), http_query(r, "cursor"), limit,
                                    &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* ---- spreadsheets (rules in people_io.c) ---- */

static int export_handler(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    resident_query q;
    int rc = people_parse_query(r, app, &q);
    if (rc)
        return rc;
    bool reveal = false;
    char path[256];
    if ((rc = app_query_bool(r, "reveal", &reveal)) || (rc = http_export_path(path, sizeof path, http_err(r))))
        return rc;
    int64_t count = 0;
    rc = people_export_xlsx(app, &who, &q, reveal, path, &count, http_err(r));
    char name[80];
    nx_date d = date_today();
    snprintf(name, sizeof name, "居民名单-%04d%02d%02d.xlsx", d.y, d.m, d.d);
    return app_reply_export(r, rc, path, "export.xlsx", name, count);
}

static int template_handler(http_req *r, void *ctx)
{
    (void)ctx;
    char path[256];
    int rc = http_export_path(path, sizeof path, http_err(r));
    if (rc)
        return rc;
    rc = people_template_xlsx(path, http_err(r));
    return app_reply_export(r, rc, path, "export.xlsx", "居民导入模板.xlsx", -1);
}

static int import_handler(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    bool dry_run = true;
    int rc = app_query_bool(r, "dry_run", &dry_run);
    if (rc)
        return rc;
    size_t len;
    const void *body = http_body(r, &len);
    if (len == 0)
        return nx_fail(http_err(r), NX_EINVAL, "file", "请上传 .xlsx 或 .csv 文件");
    const char *ct = http_header(r, "Content-Type");
    const char *hint = NULL;
    if (ct && strstr(ct, "csv"))
        hint = "csv";
    else if (ct && strstr(ct, "spreadsheetml"))
        hint = "xlsx";
    json_t *report;
    if ((rc = people_import(app, &who, body, len, hint, dry_run, &report, http_err(r))))
        return rc;
    return http_reply_json(r, 200, report);
}

static const app_route routes[] = {
    {"GET", "/api/v1/residents", .h = list_residents},
    {"POST", "/api/v1/residents", .create = resident_create, .get = people_resident_get},
    {"GET", "/api/v1/residents/{id}", .h = get_resident},
    {"PATCH", "/api/v1/residents/{id}", .change = resident_update, .get = people_resident_get},
    {"POST", "/api/v1/residents/{id}/reveal", .h = reveal_resident},
    {"POST", "/api/v1/residents/{id}/move", .change = people_resident_move, .get = people_resident_get},
    {"GET", "/api/v1/residents/{id}/moves", .get = people_resident_moves},
    {"GET", "/api/v1/households", .h = list_households},
    {"POST", "/api/v1/households", .create = household_create, .get = people_household_get},
    {"GET", "/api/v1/households/{id}", .get = people_household_get},
    {"PATCH", "/api/v1/households/{id}", .change = household_update, .get = people_household_get},
    {"GET", "/api/v1/residents/export", .h = export_handler},
    {"GET", "/api/v1/residents/import/template", .h = template_handler},
    {"POST", "/api/v1/residents/import", .h = import_handler, .flags = HTTP_UPLOAD},
};

int people_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
