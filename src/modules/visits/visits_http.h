/* visits_http.h — the HTTP glue of the visits module that other modules' <name>_http.c share (grid
 * lists incidents with the same filters as care files). Only *_http.c files include it. */
#ifndef NX_MODULES_VISITS_VISITS_HTTP_H
#define NX_MODULES_VISITS_VISITS_HTTP_H

#include "modules/app_http.h"
#include "modules/visits/visits.h"

/* The list filters from the query string of r: community_id, grid_id, resident_id, care_file_id,
 * assignee_user_id, status, level, category, kind, from, to (dates), overdue and escalated
 * (true/false), q, cursor, limit (page_default/page_max of app->cfg). Strings in f are borrowed
 * from the request. 0, or NX_EINVAL with http_err(r) naming the parameter. */
int visits_parse_filter(http_req *r, nx_app *app, care_filter *f);

/* A list of the usual shape on those filters: GET …?filters, then 200 with list(filters). Returns
 * what a handler returns (app_http.h). */
typedef int (*visits_list_fn)(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e);
int visits_http_list(http_req *r, nx_app *app, visits_list_fn list);

/* POST …/{id}/photos of an object of owner_type ("visit", "incident"): the body is the image
 * (visits_photo_add), answered 201 with {id, content_type, url, size} and a Location. */
int visits_http_photo(http_req *r, nx_app *app, const char *owner_type);

#endif
