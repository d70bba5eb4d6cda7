/* council_internal.h — helpers shared by the council module's own files (council_common.c). Never
 * included from outside src/modules/council/. */
#ifndef NX_MODULES_COUNCIL_INTERNAL_H
#define NX_MODULES_COUNCIL_INTERNAL_H

#include <stdbool.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "modules/council/council.h"
#include "notify/outbox.h"
#include "store/page.h"
#include "store/query.h"

/* Staff of the council (RIGHT_COUNCIL_MANAGE). */
bool cx_staff(const nx_principal *who);
/* A resident acting for themselves (role resident with a bound record). */
bool cx_resident(const nx_principal *who);
/* 0 when who may read council objects (staff, or SELF with a resident), else NX_EPERM. */
int cx_can_read(const nx_principal *who, nx_err *e);
/* 0 with RIGHT_COUNCIL_MANAGE, else NX_EPERM ("无权管理议事会"). */
int cx_need_staff(const nx_principal *who, nx_err *e);
/* A staff action without a body (in NULL or {}): cx_need_staff, the body checked, then *tx a write
 * transaction begun on app's store (the caller finishes it). 0, or the first error (nothing begun). */
int cx_staff_begin(nx_app *app, const nx_principal *who, json_t *in, store_tx **tx, nx_err *e);
/* The reader's scope on a table alias with community_id, grid_id, estate_id: staff by perm_scope_q,
 * a resident (or family) by their record's estate. */
void cx_scope_q(const nx_principal *who, const char *alias, sqlq *q);
/* Today (Shanghai) as "YYYY-MM-DD", and day + n days. */
void cx_today(char out[11]);
void cx_add_days(const char *day, int n, char out[11]);
/* The birth-date cutoff of adults today: born on or before it is 18 or older. */
void cx_adult_cutoff(char out[11]);
/* The estate's community and grid, checked against who's scope. NX_EINVAL naming field when it does
 * not exist or is out of scope. Runs on tx. */
int cx_estate_place(store_tx *tx, const nx_principal *who, int64_t estate, const char *field, int64_t *community,
                    int64_t *grid, nx_err *e);
/* A resident's estate (0 when none), whether active and adult. NX_ENOTFOUND when absent. */
int cx_resident_info(store_tx *tx, int64_t resident, int64_t *estate, bool *active, bool *adult, nx_err *e);
/* Row id of head (a "SELECT … FROM <table> <alias> WHERE 1 = 1"; alias with its dot, "t.") in who's
 * read scope, on tx: cx_first stands on it (0 with *r open: read it, then store_rows_free; else *r is
 * NULL), cx_get makes it an object through s's row function. NX_ENOTFOUND with missing when there is
 * no such row or it is out of scope. */
int cx_first(store_tx *tx, const nx_principal *who, const char *head, const char *alias, int64_t id,
             const char *missing, store_rows **r, nx_err *e);
int cx_get(store_tx *tx, const nx_principal *who, const char *head, const char *alias, int64_t id,
           const store_page_spec *s, const char *missing, json_t **out, nx_err *e);
/* cx_get for a reader (cx_can_read first), in a read transaction of its own. */
int cx_get_read(nx_app *app, const nx_principal *who, const char *head, const char *alias, int64_t id,
                const store_page_spec *s, const char *missing, json_t **out, nx_err *e);
/* A record with its parts for a reader (cx_can_read first): build(tx, who, id, &obj) in a read
 * transaction of its own (store_build_read); *out only on success. */
int cx_build(nx_app *app, const nx_principal *who, int64_t id, store_build_fn build, json_t **out, nx_err *e);
/* One page of a council list for a reader (cx_can_read first): head over alias, who's read scope,
 * f's estate, community and status filters (and its decision with by_decision) on alias's columns,
 * newest first from f's cursor; rows through s's row function (its limit and max are set here). */
int cx_page(nx_app *app, const nx_principal *who, const char *head, const char *alias, const council_filter *f,
            bool by_decision, store_page_spec *s, json_t **out, nx_err *e);
/* One row of q as an object (store_json_row spec), NX_ENOTFOUND with missing. On tx. */
int cx_one(store_tx *tx, sqlq *q, const char *spec, const char *missing, json_t **out, nx_err *e);
/* Every row of q as an array (store_json_row spec) set as key on o. On tx. */
int cx_rows(store_tx *tx, sqlq *q, const char *spec, json_t *o, const char *key, nx_err *e);
/* One integer of a parameterless-by-builder query on tx (0 when no row). */
int cx_int(store_tx *tx, sqlq *q, int64_t *out, nx_err *e);
/* Chinese labels. */
const char *cx_topic_status_label(const char *s);

#endif
