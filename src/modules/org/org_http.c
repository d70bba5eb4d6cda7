/* org_http.c — the organisation module's routes: JSON in, org.c, JSON out.
 *
 * Every kind has the same four operations, so the route table (app_route, modules/app_http.h) names
 * one generic handler per operation and the kind in each row's .arg: list (GET /things), create (POST /things → 201
 * with the new object and a Location header), get (GET /things/{id}) and update (PATCH
 * /things/{id} → 200 with the object as it now is). Rooms hang below their building for list and
 * create (/buildings/{id}/rooms); tags have no GET by id.
 *
 * Bodies are read strictly: only the keys org_fields_for() allows for the kind and operation
 * (anything else is an error naming the key), each with its JSON type; null clears an optional
 * field in PATCH. The values' rules (lengths, ranges, enumerations, references, scope) are all in
 * org.c so that they hold for every caller. Write rights are checked before the body is read, so
 * a caller who may not write gets 403 whatever they send.
 *
 * Threads: handlers run on HTTP workers; the only shared state is the nx_app, which is read-only. */
#include "modules/app_http.h"
#include "modules/org/org.h"

#include <stdio.h>
#include <string.h>


#define FIELD_KEYS 40

static const char *const paths[ORG_KIND_COUNT] = {
    [ORG_STREET] = "streets", [ORG_COMMUNITY] = "communities", [ORG_GRID] = "grids",
    [ORG_ESTATE] = "estates", [ORG_BUILDING] = "buildings",    [ORG_ROOM] = "rooms",
    [ORG_SHOP] = "shops",     [ORG_TAG] = "tags",
};

/* Read the body's fields for kind into in (strings borrowed from body). */
static int parse_input(json_t *body, int kind, bool patch, org_input *in, nx_err *e)
{
    uint32_t mask = org_fields_for(kind, patch);
    if (kind == ORG_ROOM)
        mask &= ~(uint32_t)ORG_F_BUILDING_ID; /* from the path */
    const char *keys[FIELD_KEYS + 1];
    size_t nk = 0;
    for (const org_field *f = org_field_table(); f->key && nk < FIELD_KEYS; f++)
        if (mask & f->bit)
            keys[nk++] = f->key;
    keys[nk] = NULL;
    int rc = json_only(body, keys, e);
    if (rc)
        return rc;

    memset(in, 0, sizeof *in);
    for (const org_field *f = org_field_table(); f->key; f++) {
        if (!(mask & f->bit))
            continue;
        json_t *v = json_object_get(body, f->key);
        if (v == NULL)
            continue;
        in->set |= f->bit;
        if (json_is_null(v)) {
            in->nulls |= f->bit;
            continue;
        }
        void *at = (char *)in + f->off;
        switch (f->type) {
        case ORG_T_ID:
            rc = json_get_int(body, f->key, false, 1, INT64_MAX, (int64_t *)at, e);
            break;
        case ORG_T_INT:
            /* wide bounds here: org.c checks the field's real range with a clearer message */
            rc = json_get_int(body, f->key, false, -1000000000, 1000000000, (int64_t *)at, e);
            break;
        case ORG_T_BOOL:
            rc = json_get_bool(body, f->key, false, (bool *)at, e);
            break;
        case ORG_T_REAL:
            if (!json_is_number(v))
                return nx_fail(e, NX_EINVAL, f->key, "%s 应为数字", f->key);
            *(double *)at = json_number_value(v);
            rc = 0;
            break;
        case ORG_T_TEXT:
            rc = json_get_str(body, f->key, false, f->max_chars, (const char **)at, e);
            break;
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int page_limit(http_req *r, nx_app *app, int *out)
{
    int max = app->cfg && app->cfg->page_max > 0 ? (int)app->cfg->page_max : 200;
    if (max > 1000)
        max = 1000;
    int def = app->cfg && app->cfg->page_default > 0 ? (int)app->cfg->page_default : 50;
    if (def > max)
        def = max;
    return http_query_limit(r, def, max, out);
}

static int query_id(http_req *r, const char *name, int64_t *out)
{
    bool present;
    *out = 0;
    return http_query_int(r, name, 1, INT64_MAX, &present, out);
}

/* The kind a route row is for: its .arg is the kind's name ("street" …). */
static int row_kind(const app_route *t)
{
    for (int k = ORG_NONE + 1; k < ORG_KIND_COUNT; k++)
        if (strcmp(org_kind_name(k), t->arg) == 0)
            return k;
    return ORG_NONE;
}

static int do_list(http_req *r, nx_app *app, const app_route *t)
{
    int kind = row_kind(t);
    nx_principal p = app_principal(r);
    nx_err *e = http_err(r);
    org_filter f = {.limit = 0};
    int rc;
    if ((rc = page_limit(r, app, &f.limit)))
        return rc;
    if (kind == ORG_ROOM && (rc = http_param_id(r, "id", &f.building_id)))
        return rc;
    if ((rc = query_id(r, "street_id", &f.street_id)) || (rc = query_id(r, "community_id", &f.community_id)) ||
        (rc = query_id(r, "grid_id", &f.grid_id)) || (rc = query_id(r, "estate_id", &f.estate_id)))
        return rc;
    f.q = http_query(r, "q");
    f.kind = http_query(r, "kind");
    f.status = http_query(r, "status");
    f.category = http_query(r, "category");
    f.cursor = http_query(r, "cursor");
    json_t *out;
    if ((rc = org_list(app, &p, kind, &f, &out, e)))
        return rc;
    return http_reply_json(r, 200, out);
}

static int do_get(http_req *r, nx_app *app, const app_route *t)
{
    int kind = row_kind(t);
    nx_principal p = app_principal(r);
    int64_t id;
    json_t *out;
    int rc = http_param_id(r, "id", &id);
    if (rc || (rc = org_get(app, &p, kind, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* Create (patch false: POST, 201 with a Location) or update (patch true: PATCH, 200) a row of the
 * route's kind from the body, then answer the object as it now is. The path's {id} is the row to
 * update, or the building a new room belongs to. */
static int write_row(http_req *r, nx_app *app, const app_route *t, bool patch)
{
    int kind = row_kind(t);
    nx_principal p = app_principal(r);
    nx_err *e = http_err(r);
    json_t *body, *out;
    org_input in;
    int64_t id = 0;
    int rc;
    if ((rc = org_can_write(&p, kind, e)))
        return rc;
    if ((patch || kind == ORG_ROOM) && (rc = http_param_id(r, "id", &id)))
        return rc;
    if ((rc = http_json_body(r, &body)) || (rc = parse_input(body, kind, patch, &in, e)))
        return rc;
    if (patch) {
        rc = org_update(app, &p, kind, id, &in, e);
    } else {
        if (kind == ORG_ROOM) {
            in.building_id = id;
            in.set |= ORG_F_BUILDING_ID;
        }
        rc = org_create(app, &p, kind, &in, &id, e);
    }
    if (rc || (rc = org_get(app, &p, kind, id, &out, e)))
        return rc;
    if (patch)
        return http_reply_json(r, 200, out);
    char loc[96];
    snprintf(loc, sizeof loc, "/api/v1/%s/%lld", paths[kind], (long long)id);
    http_add_header(r, "Location", loc);
    return http_reply_json(r, 201, out);
}

static int do_create(http_req *r, nx_app *app, const app_route *t)
{
    return write_row(r, app, t, false);
}

static int do_update(http_req *r, nx_app *app, const app_route *t)
{
    return write_row(r, app, t, true);
}

/* The routes: four per kind, each row naming its kind (.arg) for the generic handler (.with). */
#define ORG_KIND_ROUTES(coll, name)                                                                \
    {"GET", "/api/v1/" coll, .with = do_list, .arg = name},                                          \
    {"POST", "/api/v1/" coll, .with = do_create, .arg = name},                                       \
    {"GET", "/api/v1/" coll "/{id}", .with = do_get, .arg = name},                                   \
    {"PATCH", "/api/v1/" coll "/{id}", .with = do_update, .arg = name}

static const app_route routes[] = {
    ORG_KIND_ROUTES("streets", "street"),
    ORG_KIND_ROUTES("communities", "community"),
    ORG_KIND_ROUTES("grids", "grid"),
    ORG_KIND_ROUTES("estates", "estate"),
    ORG_KIND_ROUTES("buildings", "building"),
    ORG_KIND_ROUTES("shops", "shop"),
    {"GET", "/api/v1/buildings/{id}/rooms", .with = do_list, .arg = "room"},
    {"POST", "/api/v1/buildings/{id}/rooms", .with = do_create, .arg = "room"},
    {"GET", "/api/v1/rooms/{id}", .with = do_get, .arg = "room"},
    {"PATCH", "/api/v1/rooms/{id}", .with = do_update, .arg = "room"},
    {"GET", "/api/v1/tags", .with = do_list, .arg = "tag"},
    {"POST", "/api/v1/tags", .with = do_create, .arg = "tag"},
    {"PATCH", "/api/v1/tags/{id}", .with = do_update, .arg = "tag"},
};

int org_routes(http_server *srv, nx_app *app)
{
    return APP_ROUTES(srv, app, routes);
}
