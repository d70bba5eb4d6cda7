/* elections_http.c — the HTTP face of the elections module (rules in elections*.c). */
#include "modules/elections/elections.h"

#include <stdlib.h>
#include <string.h>

#include "modules/app_http.h"

static int list(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    elections_filter f = {.stage = http_query(r, "stage")};
    json_t *out;
    int rc;
    if ((rc = app_query_page(r, app, &f.limit, &f.after, &f.community_id)) ||
        (rc = elections_list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

typedef int (*child_change_fn)(nx_app *, const nx_principal *, int64_t, int64_t, json_t *, nx_err *);

/* POST …/{id}/<children>/{cid}/<action>: 200 with the election. */
static int child_change(http_req *r, nx_app *app, const char *param, child_change_fn fn)
{
    nx_principal who = app_principal(r);
    int64_t id = 0, cid = 0;
    json_t *in = NULL, *out = NULL; /* in is owned by the request */
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_param_id(r, param, &cid)) || (rc = http_json_body(r, &in)))
        return rc;
    rc = fn(app, &who, id, cid, in, http_err(r));
    if (rc || (rc = elections_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int review(http_req *r, void *ctx)
{
    return child_change(r, ctx, "nid", elections_review);
}
static int answer(http_req *r, void *ctx)
{
    return child_change(r, ctx, "oid", elections_answer);
}

static int certificate(http_req *r, void *ctx)
{
    nx_principal who = app_principal(r);
    int64_t id = 0, nid = 0;
    unsigned char *pdf = NULL;
    size_t len = 0;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_param_id(r, "nid", &nid)) ||
        (rc = elections_certificate(ctx, &who, id, nid, &pdf, &len, http_err(r))))
        return rc;
    rc = http_reply_bytes(r, 200, "application/pdf", pdf, len);
    free(pdf);
    return rc;
}

static const app_route routes[] = {
    {"GET", "/api/v1/elections", .h = list},
    {"POST", "/api/v1/elections", .create = elections_create, .get = elections_get},
    {"GET", "/api/v1/elections/honours", .community = elections_honours},
    {"GET", "/api/v1/elections/{id}", .get = elections_get},
    {"POST", "/api/v1/elections/{id}/stage", .change = elections_stage, .get = elections_get},
    {"POST", "/api/v1/elections/{id}/nominations", .spawn = elections_nominate, .get = elections_get, .arg = "created_id"},
    {"POST", "/api/v1/elections/{id}/nominations/{nid}/review", .h = review},
    {"GET", "/api/v1/elections/{id}/nominations/{nid}/certificate.pdf", .h = certificate},
    {"POST", "/api/v1/elections/{id}/objections", .spawn = elections_object, .get = elections_get, .arg = "created_id"},
    {"POST", "/api/v1/elections/{id}/objections/{oid}/answer", .h = answer},
    {"POST", "/api/v1/elections/{id}/ballots", .spawn = elections_vote, .get = elections_get, .arg = "created_id"},
    {"GET", "/api/v1/elections/{id}/result", .get = elections_result},
};

int elections_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
