/* services_internal.h — helpers shared by the files of the services module (not for other modules). */
#ifndef NX_MODULES_SERVICES_INTERNAL_H
#define NX_MODULES_SERVICES_INTERNAL_H

#include "modules/services/services.h"
#include "store/page.h"
#include "store/query.h"

#define SERVICES_CTX_FORM "service.form" /* encryption context of service_applications.form_enc */

/* Days in ms, for step deadlines. */
#define SERVICES_DAY_MS (24LL * 3600 * 1000)

/* An item definition loaded from service_items (JSON members owned). */
typedef struct services_item {
    int64_t id, version;
    char code[64], name[128], effect[32];
    bool active;
    json_t *applicants, *form, *materials, *eligibility, *steps, *document; /* document may be NULL */
} services_item;

int services_item_load(store_tx *tx, int64_t id, services_item *it, nx_err *e);
void services_item_cleanup(services_item *it);
int services_item_nsteps(const services_item *it);
/* Step i's member (code, name, role) or NULL; days as an integer. */
const char *services_step_str(const services_item *it, int i, const char *member);
int services_step_days(const services_item *it, int i);

/* The facts about a resident the rules and documents need. */
typedef struct services_person {
    int64_t id, community_id, grid_id, street_id;
    char name[64], sex[8], birth[11], residence[20], status[20];
    char id_masked[40], community_name[128];
} services_person;

int services_person_load(nx_app *app, store_tx *tx, int64_t resident_id, services_person *p, nx_err *e);

/* One application as stored (services_common.c). */
typedef struct services_app_row {
    int64_t id, item_id, community_id, grid_id, resident_id, created_by, due_at, submitted_at, decided_at,
        created_at, updated_at, escalated_at, version;
    bool proxy;
    int step;
    char status[16], step_code[48], step_role[16], serial[40];
    char correction[600], reason[600];
    json_t *form; /* decrypted values, {} when none (owned) */
} services_app_row;

/* Load application id in who's scope into *a: NX_ENOTFOUND outside it (never "forbidden"), the
 * read's error when it fails. Free with services_app_row_cleanup (also after a failure). */
int services_app_load(nx_app *app, store_tx *tx, const nx_principal *who, int64_t id, services_app_row *a,
                      nx_err *e);
/* Fill *a from a row whose first 22 columns are those of services_app_load, in its order (a.id,
 * a.item_id, a.community_id, a.grid_id, a.resident_id, a.created_by, a.due_at, a.submitted_at,
 * a.decided_at, a.created_at, a.updated_at, a.escalated_at, a.version, a.proxy, a.step, a.status,
 * a.step_code, a.step_role, a.serial, a.correction, a.reason, a.form_enc); the form is decrypted. */
void services_app_row_fill(nx_app *app, store_rows *r, services_app_row *a);
void services_app_row_cleanup(services_app_row *a);

/* One application opened for a step in its own transaction: the row, and its service item when
 * asked for (otherwise zeroed). */
typedef struct services_app_tx {
    store_tx *tx;
    int mode; /* STORE_READ or STORE_WRITE */
    services_app_row a;
    services_item it;
} services_app_tx;

/* Begin a transaction of mode and load application id in who's scope into o->a (services_app_load)
 * and, when with_item, its item into o->it. 0, NX_ENOTFOUND, or the store's error. o is always
 * ready for services_app_close, also after a failure. */
int services_app_open(nx_app *app, const nx_principal *who, int64_t id, int mode, bool with_item,
                      services_app_tx *o, nx_err *e);
/* NX_ECONFLICT naming "status" ("<before>当前状态（…）不能<doing>") unless a is a draft or returned,
 * the states in which its applicant may still change it; else 0. */
int services_app_editable(const services_app_row *a, const char *before, const char *doing, nx_err *e);
/* Free o and end its transaction: a write is committed when rc is 0 (store_finish), a read rolled
 * back. Returns rc, or the commit's error. */
int services_app_close(services_app_tx *o, int rc, nx_err *e);

/* Eligibility rules of it for p (today for ages; exclude_app: the application being submitted).
 * Appends {"field": "eligibility", "rule", "message"} problems; returns their number or a negative
 * store error. */
int services_eligibility(store_tx *tx, const services_item *it, const services_person *p, int64_t exclude_app,
                         nx_date today, json_t *problems, nx_err *e);

/* Write a time-line row. who may be NULL (system). */
int services_timeline(store_tx *tx, const nx_principal *who, int64_t app_id, int64_t community,
                      const char *action, const char *from, const char *to, const char *step,
                      const char *note, nx_err *e);
/* Next value of a named counter (1, 2, …). */
int services_counter_next(store_tx *tx, const char *name, int64_t *out, nx_err *e);
/* Emit kind (SERVICES_EV_APPLICATION_*) about application a (of item it) with {"application_id",
 * "resident_id", "status", "serial", "title" (the item's name), "step_name", "step_role"} (the step
 * a is at: the step submitted to, decided or overdue) and the members of more (stolen, NULL for none;
 * services.h lists them). The message service reads its templates' values from these. */
int services_emit(store_tx *tx, const char *kind, const services_app_row *a, const services_item *it,
                  const char *status, json_t *more, nx_err *e);
/* Chinese label of a status ("in_review" → "审核中"). */
const char *services_status_label(const char *status);
/* Approve-time effects and certificates (documents.c / allowance.c). */
int services_certificate_issue(store_tx *tx, const nx_principal *who, const services_item *it, int64_t app_id,
                               int64_t community, int64_t now_ms, nx_err *e);
int services_allowance_start(nx_app *app, store_tx *tx, const nx_principal *who, int64_t app_id,
                             const services_person *p, int64_t now_ms, nx_err *e);
/* The allowance part of services_sweep, in its transaction tx: tier changes of this month and stops
 * (deceased, moved out) with the months and amount to recover; who NULL = every community. */
int services_allowance_sweep(nx_app *app, store_tx *tx, const nx_principal *who, int64_t now_ms, int *changes,
                             int *stopped, nx_err *e);
/* Load the tiers of the active region (ascending) into t; more than cap is NX_EINTERNAL. */
int services_allowance_load_tiers(store_tx *tx, char *region, size_t rcap, services_allowance_tier *t,
                                  int cap, int *n, nx_err *e);

/* The Asia/Shanghai calendar date of epoch ms (base/clock.h's offset). */
nx_date services_local_date(int64_t ms);

/* Text helpers. */
json_t *services_json_str(const char *s);
/* A bank account number as reviewers see it: stars for every character but the last four
 * ("6222020200112233445" → "***************3445"); four or fewer characters are all stars. Always
 * NUL-terminates out (cap > 0). A form field is a bank account when its key is "bank_account" or
 * its type is "bank_account". */
void services_mask_account(const char *v, char *out, size_t cap);
bool services_field_is_account(const char *key, const char *type);

#endif
