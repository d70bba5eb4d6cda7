/* services.h — the online service hall (网上服务大厅): a catalogue of service items defined as data,
 * applications made by residents or by staff on their behalf (代办), a review workflow with time
 * limits per step, the old-age allowance (高龄津贴) with its tiers, printable documents that can be
 * verified, and statistics.
 *
 * Item definitions (form schema, materials, eligibility rules, workflow steps, the document issued)
 * are JSON held in service_items (migration 003_services.sql, which seeds the twelve built-in items);
 * docs/services.md describes the format. An application's life:
 *
 *     draft ──submit──► in_review (step 0 … n-1) ──approve at the last step──► approved
 *       ▲                   │  ├─return (what to correct)──► returned ──submit──► in_review (step 0)
 *       └── update ◄────────┘  └─reject (reason)──► rejected
 *     draft / returned / in_review ──withdraw──► withdrawn
 *
 * Every read and change is restricted to the caller's scope in SQL (an application carries
 * community_id, grid_id and resident_id); a resident sees only their own. Each change writes a time
 * line row, an audit row and an outbox event ("services.application.<action>") in the same
 * transaction, and an in-app notification to the resident. "Now" comes from clock_now_ms() (tests pin
 * it); the date rules take it as a parameter. All functions block on the store and are thread-safe. */
#ifndef NX_MODULES_SERVICES_H
#define NX_MODULES_SERVICES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "modules/app.h"
#include "notify/dispatcher.h"

/* Event kinds (outbox) of an application, subject "application:<id>", payload {"application_id",
 * "resident_id", "status" (after the change), "serial" (FW…), "title" (the item's name), "step_name",
 * "step_role" ("community" or "street": the step submitted to, decided at or overdue)}; step_approved
 * adds "next_step" (the next step's name), approved "document" (1 when a certificate was issued).
 * The message service's default rules (migration 030) turn them into the applicant's messages and,
 * for an overdue one, the next in the review chain's. */
#define SERVICES_EV_APPLICATION_PREFIX "services.application." /* every application event */
#define SERVICES_EV_APPLICATION_SUBMITTED "services.application.submitted"
#define SERVICES_EV_APPLICATION_WITHDRAWN "services.application.withdrawn"
#define SERVICES_EV_APPLICATION_STEP_APPROVED "services.application.step_approved"
#define SERVICES_EV_APPLICATION_APPROVED "services.application.approved"
#define SERVICES_EV_APPLICATION_RETURNED "services.application.returned"
#define SERVICES_EV_APPLICATION_REJECTED "services.application.rejected"
#define SERVICES_EV_APPLICATION_OVERDUE "services.application.overdue"
/* An old-age allowance stopped (the recipient died or moved out) and its tier changed (a birthday):
 * subject "allowance_change:<id>" (the allowance_changes row, whose note says what and how much),
 * payload {"allowance_id", "resident_id"}. */
#define SERVICES_EV_ALLOWANCE_STOPPED      "services.allowance.stopped"
#define SERVICES_EV_ALLOWANCE_TIER_CHANGED "services.allowance.tier_changed"

/* ---- the catalogue ---- */

/* Items as JSON: {"items": [...]} with every definition field. Inactive items are included only
 * for callers with RIGHT_SERVICE_ADMIN and include_inactive. */
int services_items_list(nx_app *app, const nx_principal *who, bool include_inactive, json_t **out, nx_err *e);
int services_item_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* Create (id 0) or change an item from a JSON object (create: code, name, form, steps required;
 * update: any subset, optimistic lock on "version" when given). The definition is checked as a
 * whole (field types, steps' roles and days, material types, rule names). RIGHT_SERVICE_ADMIN. */
int services_item_save(nx_app *app, const nx_principal *who, int64_t id, json_t *body, int64_t *out_id, nx_err *e);

/* Check form values against an item's form schema (a JSON array of field definitions). complete:
 * also require the required fields (submission); false checks only the values present (drafts).
 * Appends one {"field": "form.<key>", "message": "…"} per problem to problems (an array) and returns
 * the number of problems. Unknown keys are problems. Pure. */
int services_form_check(json_t *schema, json_t *values, bool complete, nx_date today, json_t *problems);

/* ---- applications ---- */

/* Start a draft of item_id for resident_id (0 = the caller's own resident). A resident or family
 * member applies for themselves only; staff and grid workers apply on behalf of a resident in
 * their scope (代办, marked proxy). form (borrowed, may be NULL) is checked as a draft. */
int services_app_create(nx_app *app, const nx_principal *who, int64_t item_id, int64_t resident_id, json_t *form,
                        int64_t *id, nx_err *e);
/* Whether resident_id (0 = the caller's own) may apply, before any form: who may start the item (self
 * or proxy), whether it is running, and the eligibility rules (age, residence, tags, already
 * receiving, an open application). With items NULL, *out receives {"item_id", "resident_id",
 * "eligible", "reasons": [{"rule", "message"}]} for item_id; otherwise each object of items (as
 * listed by services_items_list, borrowed, changed in place) gains "may_apply": {"eligible",
 * "reasons"} and *out is untouched. Staff name a resident in their scope (else NX_ENOTFOUND). */
int services_eligibility_check(nx_app *app, const nx_principal *who, int64_t item_id, int64_t resident_id,
                               json_t *items, json_t **out, nx_err *e);
/* Replace the form values of a draft or returned application. version 0 = not checked. */
int services_app_update(nx_app *app, const nx_principal *who, int64_t id, json_t *form, int64_t version, nx_err *e);
/* Submit (or resubmit after a return): checks the form, the required materials and the eligibility
 * rules. On failure returns NX_EINVAL and, when problems is not NULL, *problems receives a new array
 * of every {"field", "message"} found (nothing is changed). */
int services_app_submit(nx_app *app, const nx_principal *who, int64_t id, json_t **problems, nx_err *e);
int services_app_withdraw(nx_app *app, const nx_principal *who, int64_t id, const char *note, nx_err *e);
/* One application with its item, resident summary, materials, documents, time line and due state. */
int services_app_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);

typedef struct services_query {
    int64_t item_id, resident_id, community_id; /* 0 = any */
    const char *status;  /* NULL = any */
    const char *step;    /* step code, NULL = any */
    bool queue;          /* only applications waiting at a step the caller may review */
    bool overdue;        /* only those past their step's deadline */
    const char *cursor;  /* from a previous page */
    int limit;
} services_query;
/* Newest first: {"items": [...], "total": all that match, "next_cursor": "…" | null}. */
int services_app_list(nx_app *app, const nx_principal *who, const services_query *q, json_t **out, nx_err *e);

/* Upload a material for key of the application's item. The content type is sniffed from the bytes
 * (PDF, JPEG, PNG) and must be one the item allows (NX_EUNSUPP otherwise); n must not exceed the
 * material's max_kb (NX_ETOOBIG). The file is written under <data>/uploads with a random name. */
int services_material_add(nx_app *app, const nx_principal *who, int64_t id, const char *key, const char *filename,
                          const void *data, size_t n, int64_t *material_id, nx_err *e);
int services_material_remove(nx_app *app, const nx_principal *who, int64_t id, int64_t material_id, nx_err *e);
/* Read a material for download, opened (uploads are sealed at rest): *data (release it with
 * upload_free), *size, content_type (at least 32 bytes). The download is audited ("download",
 * the application, {material_id, key}) in the same transaction; no audit entry, no bytes.
 * NX_EIO when the file is missing or does not open. */
int services_material_read(nx_app *app, const nx_principal *who, int64_t id, int64_t material_id,
                           unsigned char **data, size_t *size, char *content_type, size_t ct_cap, nx_err *e);

/* ---- review ---- */

/* action: "approve", "return" (note = what to correct, required) or "reject" (note = reason,
 * required). The application must be in review at a step whose role the caller holds: "community"
 * steps need community staff (or an admin), "street" steps a street officer of the application's
 * street (or an admin); NX_EPERM otherwise, NX_ENOTFOUND outside the caller's scope, NX_ECONFLICT when
 * it is not in review. Approving the last step approves the application, issues its certificate
 * (when the item has one) and applies the item's effect (the allowance starts; an effect "tag:<code>"
 * tags the resident, and the visits module opens a care file of that category on the approved event). */
int services_review(nx_app *app, const nx_principal *who, int64_t id, const char *action, const char *note,
                    nx_err *e);

/* Periodic work, safe to run any number of times (idempotent for a given now): escalate applications
 * past their step's deadline (once per step: a time line row and a notification to the next level),
 * move allowance recipients to the tier of their age this month, and stop the allowance of those who
 * died or moved out (with the months and amount to recover). who: NULL for the system (all
 * communities) or a principal (its scope only). *summary: {"escalated", "tier_changes", "stopped"}. */
int services_sweep(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **summary, nx_err *e);

/* Statistics in the caller's scope: by item, step and status, average handling hours of decided
 * applications, overdue counts. */
int services_stats(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **out, nx_err *e);

/* ---- 高龄津贴 ---- */

typedef struct services_allowance_tier {
    int min_age;
    int64_t monthly_amount; /* fen */
} services_allowance_tier;

/* The tier that applies to month (y, m) for someone born on birth: tiers (ascending min_age) apply
 * from the month after the birthday on which the age is reached (次月起). Returns the index into
 * tiers, or -1 when no tier applies. Pure. */
int services_allowance_tier_for_month(const services_allowance_tier *tiers, int n, nx_date birth, int y,
                                      int m);
/* Parse a month "YYYY-MM" (1900..2200, 01..12) into *y, *m: 0, or NX_EINVAL. Pure. */
int services_month_parse(const char *s, int *y, int *m);
/* Months from (y1, m1) to (y2, m2), negative when the second is earlier. Pure. */
int services_allowance_month_diff(int y1, int m1, int y2, int m2);

/* The tiers of every region and the active region: {"region", "regions": [{"region", "name",
 * "tiers": [{"min_age", "monthly_amount", "label"}]}]}. */
int services_allowance_tiers(nx_app *app, const nx_principal *who, json_t **out, nx_err *e);
/* Replace one region's tiers and/or choose the active region: {"region", "name", "tiers": [...],
 * "active": true}. RIGHT_SERVICE_ADMIN. */
int services_allowance_tiers_save(nx_app *app, const nx_principal *who, json_t *body, nx_err *e);
/* Residents in scope (active) who reach 80, 90 or 100 in the month after now's month, oldest
 * milestone first: {"month": "YYYY-MM", "items": [{"resident_id", "name", "birth_date",
 * "turning", "birthday", "receiving", "open_application", …}]}. */
int services_coming_of_age(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **out, nx_err *e);
/* Allowance outreach: residents in scope (active, 户籍) aged 80 or more on now's day who do not
 * receive the allowance, oldest first: {"total", "items": [{"resident_id", "name", "birth_date",
 * "age", "grid_name", "open_application"}]}. Needs PEOPLE_READ; more than 5000 is NX_ETOOBIG. */
int services_allowance_missing(nx_app *app, const nx_principal *who, int64_t now_ms, json_t **out, nx_err *e);
/* Recipients in scope with their current tier and status. */
int services_allowance_recipients(nx_app *app, const nx_principal *who, const char *status, const char *cursor,
                                  int limit, json_t **out, nx_err *e);
/* Write the monthly roster (花名册) of month y-m for the caller's scope to path (.xlsx): every
 * recipient entitled that month, with the tier and amount of that month; *rows = data rows. Needs
 * RIGHT_EXPORT; audited. Complete or nothing: a read that fails on the way (its code, e.g. NX_EBUSY)
 * or more rows than export_max_rows (NX_ETOOBIG) writes no audit entry and removes the file. */
int services_allowance_roster(nx_app *app, const nx_principal *who, int y, int m, const char *path, int64_t *rows,
                              nx_err *e);

/* ---- documents ---- */

/* Render the PDF of an application ("application") or of its certificate ("certificate", only once
 * approved and when the item issues one). The configured public_url prefixes the verification link
 * in the QR code (a relative "/verify/…" when it is not set; the request's Host is never used). The document row (serial number) is created on first print.
 * *pdf is malloc'd; filename (at least 128 bytes) receives a suggested file name. Audited. */
int services_document_pdf(nx_app *app, const nx_principal *who, int64_t id, const char *kind,
                          unsigned char **pdf, size_t *len, char *filename, size_t fn_cap, nx_err *e);
/* The verification code of document doc_id: "<id>-<16 base32 characters of a keyed MAC over the
 * id, serial, application and kind>" (crypto_document_mac). out: at least 48 bytes. */
void services_document_code(const nx_keys *k, int64_t doc_id, const char *serial, int64_t app_id, const char *kind,
                            char *out, size_t cap);
/* Public check of a code: *out {"valid": true, "title", "serial", "community", "issued_at",
 * "issued_on" (the day in Chinese, Shanghai), "status", "revoked"} for a genuine document; NX_ENOTFOUND (with a Chinese message) for a forged,
 * altered or unknown code. Reveals no personal data beyond a masked name. */
int services_verify(nx_app *app, const char *code, json_t **out, nx_err *e);

/* ---- wiring ---- */

/* Register the routes (services_http.c). */
int services_routes(http_server *srv, nx_app *app);
/* Subscribe the external notification channels (notify/channel.h) to the services events, so each
 * resident-facing change is also handed to SMS/WeChat channels when any is registered. */
int services_subscribe(dispatcher *d, nx_app *app);

#endif
