/* devices_http.c — the HTTP face of wristbands, alert rules and alerts: strict JSON in, the rules
 * of devices_registry.c, devices_rules.c, devices_alerts.c and devices_commands.c, JSON out. Unknown
 * fields, wrong types and over-long strings are refused with the field named before any rule runs. */
#include "modules/devices/devices.h"

#include "base/clock.h"
#include "base/str.h"
#include "modules/app_http.h"

#include <string.h>
#include <unistd.h>

static int query_bool(http_req *r, const char *name, int *out)
{
    const char *v = http_query(r, name);
    *out = -1;
    if (!v)
        return 0;
    bool b;
    if (str_to_bool(v, &b))
        return nx_fail(http_err(r), NX_EINVAL, name, "%s 应为 true 或 false", name);
    *out = b ? 1 : 0;
    return 0;
}

static const char *const device_fields[] = {"imei", "protocol", "model", "sim", "notes", "resident_id", NULL};

static int parse_device(json_t *o, bool create, devices_device_input *in, nx_err *e)
{
    memset(in, 0, sizeof *in);
    int rc;
    if ((rc = json_only(o, device_fields, e)))
        return rc;
    if ((rc = json_get_str(o, "imei", create, 20, &in->imei, e)) < 0 ||
        (rc = json_get_str(o, "protocol", create, 10, &in->protocol, e)) < 0 ||
        (rc = json_get_str(o, "model", false, 40, &in->model, e)) < 0 ||
        (rc = json_get_str(o, "sim", false, 20, &in->sim, e)) < 0 ||
        (rc = json_get_str(o, "notes", false, 200, &in->notes, e)) < 0)
        return rc;
    if (!create && (json_object_get(o, "imei") || json_object_get(o, "protocol")))
        return nx_fail(e, NX_EINVAL, json_object_get(o, "imei") ? "imei" : "protocol", "设备号和协议登记后不能修改");
    if (json_is_null_field(o, "resident_id")) {
        in->resident_id = create ? 0 : -1;
    } else if ((rc = json_get_int(o, "resident_id", false, 1, INT64_MAX, &in->resident_id, e)) < 0) {
        return rc;
    }
    return 0;
}

/* The rules of the shared handler shapes (app_http.h): the body parsed strictly, then the registry. */
static int device_create(nx_app *app, const nx_principal *who, json_t *body, int64_t *id, nx_err *e)
{
    devices_device_input in;
    int rc = parse_device(body, true, &in, e);
    return rc ? rc : devices_add(app, who, &in, id, e);
}

static int device_update(nx_app *app, const nx_principal *who, int64_t id, json_t *body, nx_err *e)
{
    devices_device_input in;
    int rc = parse_device(body, false, &in, e);
    return rc ? rc : devices_update(app, who, id, &in, e);
}

static int list_devices(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    devices_device_filter f = {0};
    int low, rc;
    if ((rc = query_bool(r, "registered", &f.registered)) || (rc = query_bool(r, "online", &f.online)) ||
        (rc = query_bool(r, "low_battery", &low)) ||
        (rc = app_query_page(r, app, &f.limit, &f.after_id, &f.community_id)) ||
        (rc = app_query_id(r, "resident_id", &f.resident_id)))
        return rc;
    f.low_battery = low == 1;
    f.q = http_query(r, "q");
    json_t *out;
    if ((rc = devices_list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* Staff vouch for a device flagged as taken over: the body is an empty object. */
static const char *const no_fields[] = {NULL};

static int device_confirm(nx_app *app, const nx_principal *who, int64_t id, json_t *body, nx_err *e)
{
    int rc = json_only(body, no_fields, e);
    return rc ? rc : devices_confirm_identity(app, who, id, clock_now_ms(), e);
}

static int telemetry(http_req *r, nx_app *app, const char *what)
{
    nx_principal who = app_principal(r);
    int64_t id, from = 0;
    int limit, rc;
    bool has;
    json_t *out;
    if ((rc = http_param_id(r, "id", &id)) || (rc = app_query_limit(r, app, &limit)) ||
        (rc = http_query_int(r, "from", 0, INT64_MAX, &has, &from)) ||
        (rc = devices_telemetry(app, &who, id, what, from, limit, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int device_positions(http_req *r, void *ctx)
{
    return telemetry(r, ctx, "positions");
}

static int device_readings(http_req *r, void *ctx)
{
    return telemetry(r, ctx, "readings");
}

/* The alert list's query parameters into f (shared by the list and its export). */
static int alert_query(http_req *r, nx_app *app, devices_alert_filter *f)
{
    bool has;
    int rc;
    memset(f, 0, sizeof *f);
    if ((rc = app_query_enum(r, "state", "open acknowledged resolved false_alarm active", &f->state)))
        return rc;
    f->kind = http_query(r, "kind");
    if (f->kind && strlen(f->kind) > 24)
        return nx_fail(http_err(r), NX_EINVAL, "kind", "kind 过长");
    if ((rc = app_query_id(r, "resident_id", &f->resident_id)) || (rc = app_query_id(r, "device_id", &f->device_id)) ||
        (rc = http_query_int(r, "from", 0, INT64_MAX, &has, &f->from_ms)) ||
        (rc = http_query_int(r, "to", 0, INT64_MAX, &has, &f->to_ms)) ||
        (rc = app_query_page(r, app, &f->limit, &f->before_id, &f->community_id)))
        return rc;
    return 0;
}

static int list_alerts(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    devices_alert_filter f;
    json_t *out;
    int rc;
    if ((rc = alert_query(r, app, &f)) || (rc = devices_alert_list(app, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int export_alerts(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    devices_alert_filter f;
    int rc;
    if ((rc = alert_query(r, app, &f)))
        return rc;
    char path[256];
    if ((rc = http_export_path(path, sizeof path, http_err(r))))
        return rc;
    int64_t rows = 0;
    rc = devices_alert_export(app, &who, &f, path, &rows, http_err(r));
    return app_reply_export(r, rc, path, "alerts.xlsx", "报警记录.xlsx", rows);
}

static const char *const ack_fields[] = {"note", NULL};
static const char *const resolve_fields[] = {"outcome", "note", "needs_followup", NULL};

static int ack_alert(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    json_t *body = NULL, *out;
    const char *note = NULL;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = app_json_body_opt(r, &body)))
        return rc;
    if (body && ((rc = json_only(body, ack_fields, http_err(r))) ||
                 (rc = json_get_str(body, "note", false, 500, &note, http_err(r))) < 0))
        return rc;
    if ((rc = devices_alert_ack(app, &who, id, note, clock_now_ms(), http_err(r))) ||
        (rc = devices_alert_get(app, &who, id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* Closing an alert: an outcome (resolved or false_alarm), a note, a follow-up flag. */
static int alert_resolve(nx_app *app, const nx_principal *who, int64_t id, json_t *body, nx_err *e)
{
    const char *note = NULL, *outcome = NULL;
    bool followup = false;
    int rc;
    if ((rc = json_only(body, resolve_fields, e)))
        return rc;
    if ((rc = json_get_str(body, "outcome", false, 20, &outcome, e)) < 0 ||
        (rc = json_get_str(body, "note", true, 500, &note, e)) < 0 ||
        (rc = json_get_bool(body, "needs_followup", false, &followup, e)) < 0)
        return rc;
    if (outcome && strcmp(outcome, "resolved") != 0 && strcmp(outcome, "false_alarm") != 0)
        return nx_fail(e, NX_EINVAL, "outcome", "outcome 应为 resolved 或 false_alarm");
    bool false_alarm = outcome && strcmp(outcome, "false_alarm") == 0;
    return devices_alert_resolve(app, who, id, false_alarm, note, followup, clock_now_ms(), e);
}

static int device_steps(http_req *r, void *ctx)
{
    return telemetry(r, ctx, "steps");
}

static const char *const command_fields[] = {"kind", "args", "expires_in_s", NULL};

static int create_command(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, cid, expires = 0;
    json_t *body, *out;
    const char *kind = NULL;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = json_only(body, command_fields, http_err(r))))
        return rc;
    if ((rc = json_get_str(body, "kind", true, 24, &kind, http_err(r))) < 0 ||
        (rc = json_get_int(body, "expires_in_s", false, 60, 30 * 86400, &expires, http_err(r))) < 0)
        return rc;
    json_t *args = json_object_get(body, "args");
    if (args && !json_is_object(args))
        return nx_fail(http_err(r), NX_EINVAL, "args", "args 应为 JSON 对象");
    if ((rc = devices_command_create(app, &who, id, kind, args, expires, clock_now_ms(), &cid, http_err(r))) ||
        (rc = devices_command_list(app, &who, id, cid, 1, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 201, out);
}

static int list_commands(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id;
    int limit, rc;
    json_t *out;
    if ((rc = http_param_id(r, "id", &id)) || (rc = app_query_limit(r, app, &limit)) ||
        (rc = devices_command_list(app, &who, id, 0, limit, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

static int cancel_command(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int64_t id, cid;
    int rc;
    json_t *out;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_param_id(r, "cid", &cid)) ||
        (rc = devices_command_cancel(app, &who, id, cid, clock_now_ms(), http_err(r))) ||
        (rc = devices_command_list(app, &who, id, cid, 1, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* Who sees an alert event on the live stream: DEVICE_READ holders whose scope covers it (family
 * members: their elder's alerts). Alerts of unbound devices (no community) only platform-wide. */
static bool stream_filter(const http_auth *who, const http_sse_scope *sc, void *ctx)
{
    (void)ctx;
    if (!who || !(role_rights(who->role) & RIGHT_DEVICE_READ))
        return false;
    switch (who->scope) {
    case SCOPE_ALL:
        return true;
    case SCOPE_STREET:
        return sc->street_id && sc->street_id == who->street_id;
    case SCOPE_COMMUNITY:
        return sc->community_id && sc->community_id == who->community_id;
    case SCOPE_GRID:
        return sc->grid_id && sc->grid_id == who->grid_id;
    case SCOPE_SELF:
        return sc->resident_id && sc->resident_id == who->resident_id;
    default:
        return false;
    }
}

static int event_stream(http_req *r, void *ctx)
{
    http_sse_hub *hub = ctx;
    const http_auth *a = http_auth_of(r);
    if (!a || !(role_rights(a->role) & RIGHT_DEVICE_READ))
        return nx_fail(http_err(r), NX_EPERM, "", "无权订阅报警推送");
    return http_reply_sse(r, hub, http_sse_last_id(hub));
}

static const app_route routes[] = {
    {"GET", "/api/v1/devices", .h = list_devices},
    {"POST", "/api/v1/devices", .create = device_create, .get = devices_get},
    {"GET", "/api/v1/devices/{id}", .get = devices_get},
    {"PATCH", "/api/v1/devices/{id}", .change = device_update, .get = devices_get},
    {"POST", "/api/v1/devices/{id}/confirm-identity", .change = device_confirm, .get = devices_get},
    {"GET", "/api/v1/devices/{id}/positions", .h = device_positions},
    {"GET", "/api/v1/devices/{id}/readings", .h = device_readings},
    {"GET", "/api/v1/devices/{id}/steps", .h = device_steps},
    {"GET", "/api/v1/devices/{id}/commands", .h = list_commands},
    {"POST", "/api/v1/devices/{id}/commands", .h = create_command},
    {"POST", "/api/v1/devices/{id}/commands/{cid}/cancel", .h = cancel_command},
    {"GET", "/api/v1/stats/devices", .community_now = devices_stats},
    {"GET", "/api/v1/residents/{id}/alert-rules", .get = devices_rules_get},
    {"GET", "/api/v1/residents/{id}/family-view", .get = devices_family_view},
    {"PUT", "/api/v1/residents/{id}/alert-rules", .change = devices_rules_put, .get = devices_rules_get},
    {"GET", "/api/v1/alerts", .h = list_alerts},
    {"GET", "/api/v1/alerts/export", .h = export_alerts},
    {"GET", "/api/v1/alerts/{id}", .get = devices_alert_get},
    /* POST, not GET: each call reveals the numbers and is audited */
    {"POST", "/api/v1/alerts/{id}/phones", .get = devices_alert_phones},
    {"POST", "/api/v1/alerts/{id}/acknowledge", .h = ack_alert},
    {"POST", "/api/v1/alerts/{id}/resolve", .change = alert_resolve, .get = devices_alert_get},
};

int devices_routes(http_server *srv, nx_app *app)
{
    http_sse_hub *hub = NULL;
    if (http_sse_hub_new(srv, DEVICES_SSE_HUB, 20, stream_filter, NULL, &hub) == 0)
        http_route(srv, "GET", "/api/v1/events/stream", event_stream, hub, 0);
    return APP_ROUTES(srv, app, routes);
}
