/* devices_internal.h — what the files of the devices module share and nobody else uses: devices.c
 * (ingest, alert opening, escalation), devices_registry.c, devices_rules.c, devices_alerts.c,
 * devices_commands.c, devices_stats.c, devices_webhooks.c and the helpers of devices_common.c. */
#ifndef NX_MODULES_DEVICES_INTERNAL_H
#define NX_MODULES_DEVICES_INTERNAL_H

#include "modules/devices/devices.h"
#include "store/page.h"
#include "store/query.h"

/* Where an alert belongs: the device and, once bound, its resident's community and grid (0 = none). */
typedef struct devices_target {
    int64_t device_id, community_id, grid_id, resident_id;
} devices_target;

/* What an alert event says (strings borrowed). */
typedef struct devices_alert_ref {
    int64_t id, community_id, grid_id, resident_id, device_id;
    const char *kind, *severity;
    int level;
} devices_alert_ref;

/* Chinese name of an alert kind (the kind itself when unknown), and whether it is one. */
const char *devices_kind_label(const char *kind);
bool devices_kind_known(const char *kind);

/* Open a new alert of kind for t, or merge into the one it repeats (devices.h: suppression).
 * source "device" or "server"; pos may be NULL; detail a JSON object text. *id gets the alert. */
int devices_alert_raise(store_tx *tx, const devices_target *t, const char *kind, const char *source,
                        const wire_pos *pos, const char *detail, int64_t now, int64_t esc_ms, int64_t *id, nx_err *e);
/* Emit an alert event (kind DEVICES_EV_ALERT_*) with the payload of devices.h. */
int devices_alert_emit(store_tx *tx, const char *kind, const devices_alert_ref *a, const char *state, bool followup,
                       nx_err *e);
/* Append to alert_log (user 0 = the system, level -1 = NULL is not used: pass the level). */
int devices_alert_log(store_tx *tx, int64_t alert, int64_t at, const char *action, int64_t user, int level,
                      const char *note, nx_err *e);
/* The resident's effective rules (defaults overlaid by the alert_rules row); *custom (may be NULL)
 * says whether a row exists. */
int devices_rules_load(store_tx *tx, int64_t resident, devices_alert_rules *out, bool *custom, nx_err *e);
/* The rules as the API shows them ({"hr_min", …, "temp_min" in °C, "home_lat", "custom"}; new object). */
json_t *devices_rules_json(const devices_alert_rules *r, bool custom);

/* The device if it is in the caller's scope (unbound devices too for DEVICE_WRITE holders): its
 * community and resident (either pointer may be NULL); NX_ENOTFOUND otherwise (devices_registry.c). */
int devices_device_in_scope(store_tx *tx, const nx_principal *who, int64_t id, int64_t *community, int64_t *resident,
                            nx_err *e);

/* Helpers (devices_common.c). */
/* Whether object id (a device, a channel) is in who's scope: 0, NX_ENOTFOUND outside it, or the
 * read's error. */
typedef int (*devices_scope_fn)(store_tx *tx, const nx_principal *who, int64_t id, nx_err *e);
/* A list below one object of the caller's scope (a device's commands or readings, a channel's
 * deliveries): in one read transaction, in_scope for id first, then every row of q (which carries
 * its own ORDER BY and LIMIT) through s's row function into *out as {"items": [...]} (a new
 * reference). Errors as in_scope and store_items. */
int devices_items_of(nx_app *app, const nx_principal *who, int64_t id, devices_scope_fn in_scope, sqlq *q,
                     const store_page_spec *s, json_t **out, nx_err *e);
/* devices_device_in_scope as a devices_scope_fn. */
int devices_device_seen(store_tx *tx, const nx_principal *who, int64_t id, nx_err *e);
/* The configured cap of a list page (nx_config.page_max; 200 without a configuration). */
int devices_page_max(const nx_app *app);
/* The resident's community and grid if the resident is in the caller's scope; NX_EINVAL (field
 * "resident_id") when not, or the read's error. */
int devices_resident_place(store_tx *tx, const nx_principal *who, int64_t resident, int64_t *community,
                           int64_t *grid, nx_err *e);
/* NX_EINVAL (field, Chinese message) when s (NULL accepted) is longer than max characters. */
int devices_check_text(const char *s, size_t max, const char *field, nx_err *e);

/* Commands (devices_commands.c): a device's answer to a command (WIRE_CMD_REPLY) closes the command
 * it answers — IW by serial, the watch by keyword, the oldest sent first; and the ticker's part:
 * queued commands past expires_at expire, sent ones unanswered for DEVICES_CMD_REPLY_MS fail. */
int devices_command_reply(store_tx *tx, int64_t device, const wire_msg *m, int64_t now, nx_err *e);
int devices_commands_tick(store_tx *tx, int64_t now, nx_err *e);

#endif
