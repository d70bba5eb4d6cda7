/* devices_webhooks.c — webhook channels of a community and the subscriber that sends alarms to them
 * (see devices_webhooks.h).
 *
 * The handler reads the alert and the channels in a read transaction, sends without holding any
 * transaction (a robot may take seconds), and records each attempt in its own short write
 * transaction, so the writer is never held across the network. Messages name the resident only by
 * a masked name; the full record is one click away in the console for those allowed to see it.
 * Threads: the handler runs on the webhook dispatcher's thread; the channel functions on HTTP threads
 * (devices_webhooks_http.c). Both only meet in the database. */
#include "modules/devices/devices_webhooks.h"

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/devices/devices_internal.h"
#include "notify/outbound.h"
#include "notify/webhook.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "text/mask.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEVELS_ALL 7
#define CHANNELS_MAX 32
#define CTX_URL      "webhook_channels.url"
#define CTX_SECRET   "webhook_channels.secret"
#define MASK_MARK    "\xe2\x80\xa6" /* "…": what a masked URL has and a real one does not */
#define MASKED_MAX   (WEBHOOK_URL_MAX + 16)

static const char *const level_act[] = {"grid_worker", "duty_staff", "family"};

/* ---- channels: JSON in and out ---- */

static json_t *levels_json(int64_t mask)
{
    json_t *a = json_array();
    for (int i = 0; i <= DEVICES_ESC_LEVEL_MAX; i++)
        if (mask & (1 << i))
            json_array_append_new(a, json_integer(i));
    return a;
}

#define CHANNEL_COLS                                                                                          \
    "w.id, w.community_id, w.grid_id, w.name, w.format, w.url, CASE WHEN w.secret IS NULL AND w.secret_enc IS NULL THEN 0 ELSE 1 END, " \
    "w.levels, w.enabled, w.created_at, w.updated_at"

static json_t *channel_json(store_rows *r)
{
    json_t *o =
        store_json_row(r, "id:i community_id:i grid_id:i name:t format:t url:t has_secret:b - enabled:b "
                          "created_at:d updated_at:d");
    if (o)
        json_object_set_new(o, "levels", levels_json(store_int(r, 7)));
    return o;
}

/* ---- secrets at rest ---- */

/* What screens show of a URL: scheme, host and port (without any user:password@), then "/…" and
 * the URL's last four characters, e.g. "https://qyapi.weixin.qq.com/…ab12". The robot key (in the
 * query or the path) is never shown whole. */
static void mask_url(const char *url, char *out, size_t n)
{
    const char *scheme = strstr(url, "://");
    const char *auth = scheme ? scheme + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen);
    if (at) {
        alen -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    size_t len = strlen(url);
    const char *tail = len > 4 ? url + len - 4 : url;
    snprintf(out, n, "%.*s%.*s/" MASK_MARK "%s", scheme ? (int)(scheme + 3 - url) : 0, url, (int)alen, auth, tail);
}

/* A channel's URL and secret as stored: the URL encrypted and masked, the secret encrypted. */
typedef struct sealed {
    unsigned char *url, *secret;
    size_t url_n, secret_n;
    char masked[MASKED_MAX];
} sealed;

static void sealed_free(sealed *x)
{
    free(x->url);
    free(x->secret);
}

/* Encrypt url (may be NULL: not changed) and secret (NULL or "": none) into x. */
static int seal(const nx_app *app, const char *url, const char *secret, sealed *x, nx_err *e)
{
    memset(x, 0, sizeof *x);
    if (url) {
        mask_url(url, x->masked, sizeof x->masked);
        if (field_encrypt_ad(app->keys, CTX_URL, url, strlen(url), &x->url, &x->url_n))
            return nx_fail(e, NX_EINTERNAL, "", "Webhook 地址加密失败");
    }
    if (secret && secret[0] && field_encrypt_ad(app->keys, CTX_SECRET, secret, strlen(secret), &x->secret, &x->secret_n)) {
        sealed_free(x);
        return nx_fail(e, NX_EINTERNAL, "", "Webhook 密钥加密失败");
    }
    return 0;
}

/* The URL must lead to the internet (or to the allow-list), resolved now: 422 on url otherwise.
 * Blocks on DNS: called outside any transaction. */
static int check_target(const char *url, nx_err *e)
{
    outbound_target *t = malloc(sizeof *t);
    if (!t)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    nx_err oe = {0};
    int rc = outbound_check(url, t, &oe);
    free(t);
    if (rc == 0)
        return 0;
    if (rc == NX_ENOMEM)
        return nx_fail(e, rc, "", "内存不足");
    if (rc == NX_EBUSY)
        return nx_fail(e, NX_EINVAL, "url", "无法解析 Webhook 地址的主机名，请检查地址");
    return nx_fail(e, NX_EINVAL, "url", "Webhook %s", oe.msg);
}

typedef struct channel_in {
    bool has_community, has_grid, has_name, has_format, has_url, has_secret, has_levels, has_enabled;
    int64_t community_id, grid_id; /* grid 0 = none */
    const char *name, *format, *url, *secret;
    int64_t levels;
    bool enabled;
} channel_in;

static const char *const channel_fields[] = {"community_id", "grid_id", "name", "format", "url",
                                             "secret", "levels", "enabled", NULL};

static int parse_channel(json_t *o, bool create, channel_in *in, nx_err *e)
{
    memset(in, 0, sizeof *in);
    int rc;
    if (!o)
        return nx_fail(e, NX_EINVAL, "", "请求体应为 JSON 对象");
    if ((rc = json_only(o, channel_fields, e)))
        return rc;
    if (!create && json_object_get(o, "community_id"))
        return nx_fail(e, NX_EINVAL, "community_id", "渠道所属社区不能修改");
    if ((rc = json_get_int(o, "community_id", false, 1, INT64_MAX, &in->community_id, e)) < 0)
        return rc;
    in->has_community = rc == 0;
    if (json_is_null_field(o, "grid_id")) {
        in->has_grid = true;
    } else {
        if ((rc = json_get_int(o, "grid_id", false, 1, INT64_MAX, &in->grid_id, e)) < 0)
            return rc;
        in->has_grid = rc == 0;
    }
    if ((rc = json_get_str(o, "name", create, 40, &in->name, e)) < 0)
        return rc;
    in->has_name = rc == 0;
    if ((rc = json_get_str(o, "format", create, 10, &in->format, e)) < 0)
        return rc;
    in->has_format = rc == 0;
    if (in->has_format && !webhook_format_parse(in->format))
        return nx_fail(e, NX_EINVAL, "format", "格式应为 wecom（企业微信）、dingtalk（钉钉）或 json");
    if ((rc = json_get_str(o, "url", create, WEBHOOK_URL_MAX, &in->url, e)) < 0)
        return rc;
    in->has_url = rc == 0;
    if (in->has_url && !webhook_url_ok(in->url))
        return nx_fail(e, NX_EINVAL, "url", "Webhook 地址应以 https:// 开头，且不含空格");
    if (json_is_null_field(o, "secret")) {
        in->has_secret = true;
    } else {
        if ((rc = json_get_str(o, "secret", false, WEBHOOK_SECRET_MAX, &in->secret, e)) < 0)
            return rc;
        in->has_secret = rc == 0;
    }
    json_t *lv = json_object_get(o, "levels");
    if (lv && !json_is_null(lv)) {
        if (!json_is_array(lv) || json_array_size(lv) == 0)
            return nx_fail(e, NX_EINVAL, "levels", "levels 应为非空数组，元素取 0（网格员）、1（值班人员）、2（家属）");
        size_t i;
        json_t *v;
        json_array_foreach(lv, i, v)
        {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > DEVICES_ESC_LEVEL_MAX)
                return nx_fail(e, NX_EINVAL, "levels", "levels 的元素应为 0、1 或 2");
            in->levels |= 1LL << json_integer_value(v);
        }
        in->has_levels = true;
    }
    if ((rc = json_get_bool(o, "enabled", false, &in->enabled, e)) < 0)
        return rc;
    in->has_enabled = rc == 0;
    return 0;
}

/* The grid must be of the community. */
static int check_grid(store_tx *tx, int64_t community, int64_t grid, nx_err *e)
{
    if (!grid)
        return 0;
    int64_t c = 0;
    store_param p[] = {P_INT(grid)};
    int rc = store_one_int(tx, "SELECT community_id FROM grids WHERE id = $1", p, 1, &c, e);
    if (rc == NX_ENOTFOUND || (rc == 0 && c != community))
        return nx_fail(e, NX_EINVAL, "grid_id", "网格不属于该社区");
    return rc;
}

int devices_webhooks_list(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权查看通知渠道");
    /* a community's channels are a handful of robots: the whole list, no pages */
    sqlq q;
    sqlq_init(&q, "SELECT " CHANNEL_COLS " FROM webhook_channels w WHERE 1 = 1");
    if (community_id)
        sqlq_add(&q, " AND w.community_id = $%d", P_INT(community_id));
    perm_scope_q(who, "w.", NULL, &q);
    sqlq_sql(&q, " ORDER BY w.id");
    return store_items_read(app->db, &q, &(store_page_spec){.row = channel_json}, out, e);
}

/* Load one channel in scope (row of CHANNEL_COLS); NX_ENOTFOUND outside it. */
static int load_channel(store_tx *tx, const nx_principal *who, int64_t id, json_t **out, int64_t *community,
                        int64_t *grid, nx_err *e)
{
    sqlq q;
    perm_scope_id_q(who, "w.", NULL, id, "SELECT " CHANNEL_COLS " FROM webhook_channels w WHERE 1 = 1", &q);
    store_rows *r = NULL;
    int rc = sqlq_first(tx, &q, "通知渠道不存在", &r, e);
    if (rc)
        return rc;
    if (out)
        *out = channel_json(r);
    if (community)
        *community = store_int(r, 1);
    if (grid)
        *grid = store_int(r, 2);
    store_rows_free(r);
    return 0;
}

int devices_webhook_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    store_tx *tx = NULL;
    int rc = perm_begin(app->db, who, RIGHT_DEVICE_WRITE, STORE_READ, "无权查看通知渠道", &tx, e);
    if (rc == 0)
        rc = load_channel(tx, who, id, out, NULL, NULL, e);
    store_rollback(tx);
    return rc;
}

int devices_webhook_create(nx_app *app, const nx_principal *who, json_t *in_json, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权配置通知渠道");
    channel_in in;
    int rc = parse_channel(in_json, true, &in, e);
    if (rc)
        return rc;
    if (!in.has_community)
        in.community_id = who->community_id;
    if (!in.community_id)
        return nx_fail(e, NX_EINVAL, "community_id", "请指定社区");
    if ((rc = check_target(in.url, e)))
        return rc;
    sealed x;
    if ((rc = seal(app, in.url, in.secret, &x, e)))
        return rc;
    store_tx *tx = NULL;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        sealed_free(&x);
        return rc;
    }
    int64_t exists = 0, now = clock_now_ms();
    store_param cp[] = {P_INT(in.community_id)};
    rc = store_one_int(tx, "SELECT id FROM communities WHERE id = $1", cp, 1, &exists, e);
    if (rc == NX_ENOTFOUND)
        rc = nx_fail(e, NX_EINVAL, "community_id", "社区不存在");
    if (rc || (rc = check_grid(tx, in.community_id, in.grid_id, e)))
        goto fail;
    if (!perm_covers(who, tx, in.community_id, in.grid_id)) {
        rc = nx_fail(e, NX_EPERM, "community_id", "无权配置该社区的通知渠道");
        goto fail;
    }
    store_param p[] = {P_INT(in.community_id), P_ID(in.grid_id), P_TEXT(in.name), P_TEXT(in.format),
                       P_TEXT(x.masked), P_BLOB(x.url, x.url_n), P_BLOB(x.secret, x.secret_n),
                       P_INT(in.has_levels ? in.levels : LEVELS_ALL), P_INT(in.has_enabled ? in.enabled : 1),
                       P_ID(who->user_id), P_INT(now)};
    if ((rc = store_one_int(tx,
                            "INSERT INTO webhook_channels (community_id, grid_id, name, format, url, url_enc, "
                            "secret_enc, levels, enabled, created_by, created_at, updated_at) VALUES ($1, $2, $3, "
                            "$4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                            p, 11, id, e)))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "webhook", *id, in.community_id,
                              json_pack("{s:s}", "format", in.format), e)))
        goto fail;
fail:
    sealed_free(&x);
    return store_finish(tx, rc, e);
}

int devices_webhook_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in_json, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权配置通知渠道");
    channel_in in;
    int rc = parse_channel(in_json, false, &in, e);
    if (rc)
        return rc;
    /* a URL with "…" is the masked one the API showed, sent back unchanged (checked below) */
    bool masked = in.has_url && strstr(in.url, MASK_MARK) != NULL;
    if (in.has_url && !masked && (rc = check_target(in.url, e)))
        return rc;
    sealed x;
    if ((rc = seal(app, in.has_url && !masked ? in.url : NULL, in.has_secret ? in.secret : NULL, &x, e)))
        return rc;
    store_tx *tx = NULL;
    json_t *cur = NULL;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        sealed_free(&x);
        return rc;
    }
    int64_t community = 0, grid = 0;
    if ((rc = load_channel(tx, who, id, &cur, &community, &grid, e)))
        goto fail;
    if (masked) {
        const char *shown = json_string_value(json_object_get(cur, "url"));
        if (!shown || strcmp(shown, in.url) != 0) {
            rc = nx_fail(e, NX_EINVAL, "url", "Webhook 地址应为完整地址（带“…”的是隐去密钥后的显示形式）");
            goto fail;
        }
    }
    if (in.has_grid) {
        if ((rc = check_grid(tx, community, in.grid_id, e)))
            goto fail;
        if (!perm_covers(who, tx, community, in.grid_id)) {
            rc = nx_fail(e, NX_EPERM, "grid_id", "无权配置该网格的通知渠道");
            goto fail;
        }
        grid = in.grid_id;
    }
    /* COALESCE keeps what is not given; flags say which columns to replace. */
    store_param p[] = {P_INT(id),
                       P_INT(in.has_grid),
                       P_ID(grid),
                       P_TEXT(in.has_name ? in.name : NULL),
                       P_TEXT(in.has_format ? in.format : NULL),
                       P_TEXT(x.url ? x.masked : NULL),
                       P_INT(in.has_secret),
                       P_BLOB(x.secret, x.secret_n),
                       P_INT(in.has_levels ? in.levels : 0),
                       P_INT(in.has_enabled ? (in.enabled ? 1 : 0) : -1),
                       P_INT(clock_now_ms()),
                       P_BLOB(x.url, x.url_n)};
    /* url keeps the masked form, url_enc the whole; a secret given replaces both secret columns */
    rc = store_exec(tx,
                    "UPDATE webhook_channels SET grid_id = CASE WHEN $2 = 1 THEN $3 ELSE grid_id END, "
                    "name = COALESCE($4, name), format = COALESCE($5, format), url = COALESCE($6, url), "
                    "url_enc = COALESCE($12, url_enc), "
                    "secret_enc = CASE WHEN $7 = 1 THEN $8 ELSE secret_enc END, "
                    "secret = CASE WHEN $7 = 1 THEN NULL ELSE secret END, "
                    "levels = CASE WHEN $9 > 0 THEN $9 ELSE levels END, "
                    "enabled = CASE WHEN $10 >= 0 THEN $10 ELSE enabled END, updated_at = $11 WHERE id = $1",
                    p, 12, NULL, e);
    if (rc || (rc = audit_write(tx, who, "update", "webhook", id, community, NULL, e)))
        goto fail;
fail:
    json_decref(cur);
    sealed_free(&x);
    return store_finish(tx, rc, e);
}

int devices_webhook_delete(nx_app *app, const nx_principal *who, int64_t id, nx_err *e)
{
    store_tx *tx = NULL;
    int rc = perm_begin(app->db, who, RIGHT_DEVICE_WRITE, STORE_WRITE, "无权配置通知渠道", &tx, e);
    if (rc)
        return rc;
    int64_t community = 0;
    store_param p[] = {P_INT(id)};
    if ((rc = load_channel(tx, who, id, NULL, &community, NULL, e)) ||
        (rc = store_exec(tx, "DELETE FROM webhook_deliveries WHERE channel_id = $1", p, 1, NULL, e)) ||
        (rc = store_exec(tx, "DELETE FROM webhook_channels WHERE id = $1", p, 1, NULL, e)) ||
        (rc = audit_write(tx, who, "delete", "webhook", id, community, NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

static int channel_seen(store_tx *tx, const nx_principal *who, int64_t id, nx_err *e)
{
    return load_channel(tx, who, id, NULL, NULL, NULL, e);
}

int devices_webhook_deliveries(nx_app *app, const nx_principal *who, int64_t id, int limit, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权查看通知渠道");
    sqlq q;
    sqlq_init(&q, "SELECT event_id, alert_id, state, attempts, http_status, error, created_at, updated_at "
                  "FROM webhook_deliveries WHERE 1 = 1");
    sqlq_add(&q, " AND channel_id = $%d", P_INT(id));
    sqlq_sql(&q, " ORDER BY event_id DESC LIMIT %d", store_page_limit(limit > 0 ? limit : 50, devices_page_max(app)));
    store_page_spec s = {.row_ctx = store_json_row_ctx,
                         .ctx = "event_id:i alert_id:i state:t attempts:i http_status:i error:t created_at:d "
                                "updated_at:d"};
    return devices_items_of(app, who, id, channel_seen, &q, &s, out, e);
}

/* ---- the message ---- */

typedef struct alert_view {
    int64_t id, community_id, grid_id, resident_id, device_id, opened_at, lat_e6, lon_e6;
    bool fix;
    char kind[32], severity[16], community[128], grid[128], masked[64];
} alert_view;

static const char *severity_label(const char *s)
{
    static const char *const severities[][2] = {{"critical", "紧急"}, {"high", "重要"}};
    const char *l = STR_LABEL(severities, s);
    return l ? l : "一般";
}

/* "39.904200" from micro-degrees, exactly (no floating point). */
static void coord_text(int64_t e6, char *out, size_t n)
{
    int64_t a = e6 < 0 ? -e6 : e6;
    snprintf(out, n, "%s%lld.%06lld", e6 < 0 ? "-" : "", (long long)(a / 1000000), (long long)(a % 1000000));
}

/* Title and text of the message for an alert at level (opened: !escalated). */
static int message_text(const alert_view *a, int level, bool escalated, char *title, size_t tn, strbuf *text)
{
    snprintf(title, tn, "%s%s", escalated ? "【报警升级】" : "【暖心报警】", devices_kind_label(a->kind));
    char when[30], lat[24], lon[24], who[200];
    clock_format_local(a->opened_at, when);
    when[10] = ' ';
    when[19] = '\0';
    if (level <= 0)
        snprintf(who, sizeof who, a->grid[0] ? "网格员（%s）" : "网格员%s", a->grid);
    else if (level == 1)
        str_copy(who, "社区值班人员", sizeof who);
    else
        str_copy(who, "家属", sizeof who);
    int rc = strbuf_printf(text, "居民：%s\n社区：%s\n", a->masked[0] ? a->masked : "未绑定居民", a->community);
    if (!rc && a->grid[0])
        rc = strbuf_printf(text, "网格：%s\n", a->grid);
    if (!rc)
        rc = strbuf_printf(text, "时间：%s\n", when);
    if (!rc && a->fix) {
        coord_text(a->lat_e6, lat, sizeof lat);
        coord_text(a->lon_e6, lon, sizeof lon);
        rc = strbuf_printf(text, "位置：纬度 %s，经度 %s\n", lat, lon);
    } else if (!rc) {
        rc = strbuf_puts(text, "位置：无定位\n");
    }
    if (!rc)
        rc = strbuf_printf(text, "级别：%s\n", severity_label(a->severity));
    if (!rc)
        rc = strbuf_printf(text, escalated ? "请处理：%s（超时未确认，已升级）\n" : "请处理：%s\n", who);
    if (!rc)
        rc = strbuf_printf(text, "报警编号：%lld", (long long)a->id);
    return rc;
}

static json_t *message_data(const nx_event *ev, const alert_view *a, int level)
{
    char when[30];
    clock_format_local(a->opened_at, when);
    return json_pack("{s:s, s:I, s:I, s:s, s:s, s:i, s:s, s:I, s:o, s:o, s:o, s:s, s:o, s:o}", "event", ev->kind,
                     "event_id", (json_int_t)ev->id, "alert_id", (json_int_t)a->id, "kind", a->kind, "severity",
                     a->severity, "level", level, "act", level_act[level], "community_id",
                     (json_int_t)a->community_id, "grid_id", a->grid_id ? json_integer(a->grid_id) : json_null(),
                     "resident_id", a->resident_id ? json_integer(a->resident_id) : json_null(), "device_id",
                     a->device_id ? json_integer(a->device_id) : json_null(), "opened_at", when, "lat",
                     a->fix ? json_real(a->lat_e6 / 1e6) : json_null(), "lon",
                     a->fix ? json_real(a->lon_e6 / 1e6) : json_null());
}

/* ---- the subscriber ---- */

typedef struct target {
    int64_t id;
    int format;
    char url[WEBHOOK_URL_MAX + 1];
    char secret[WEBHOOK_SECRET_MAX + 1];
    int64_t attempts;
    bool sealed_bad; /* the stored URL or secret does not decrypt (wrong key file) */
} target;

/* Decrypt a sealed column into out (n bytes); NX_EINVAL when it does not decrypt or fit. */
static int open_field(const nx_keys *keys, const char *ctx, const void *in, size_t len, char *out, size_t n)
{
    char *plain = NULL;
    if (field_decrypt_ad(keys, ctx, in, len, &plain))
        return NX_EINVAL;
    int rc = strlen(plain) < n ? 0 : NX_EINVAL;
    if (rc == 0)
        str_copy(out, plain, n);
    field_plain_free(plain);
    return rc;
}

static int load_alert(store_tx *tx, int64_t id, alert_view *a, nx_err *e)
{
    memset(a, 0, sizeof *a);
    store_param p[] = {P_INT(id)};
    store_rows *r = NULL;
    int rc = store_query(tx,
                         "SELECT a.id, a.community_id, a.grid_id, a.resident_id, a.device_id, a.opened_at, a.fix, "
                         "a.lat_e6, a.lon_e6, a.kind, a.severity, c.name, g.name, res.name FROM alerts a "
                         "LEFT JOIN communities c ON c.id = a.community_id LEFT JOIN grids g ON g.id = a.grid_id "
                         "LEFT JOIN residents res ON res.id = a.resident_id WHERE a.id = $1",
                         p, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "报警不存在", e)) == 0) {
        a->id = store_int(r, 0);
        a->community_id = store_int(r, 1);
        a->grid_id = store_int(r, 2);
        a->resident_id = store_int(r, 3);
        a->device_id = store_int(r, 4);
        a->opened_at = store_int(r, 5);
        a->fix = store_int(r, 6) != 0 && !store_isnull(r, 7) && !store_isnull(r, 8);
        a->lat_e6 = store_int(r, 7);
        a->lon_e6 = store_int(r, 8);
        str_copy(a->kind, store_text(r, 9), sizeof a->kind);
        str_copy(a->severity, store_text(r, 10), sizeof a->severity);
        str_copy(a->community, store_text(r, 11) ? store_text(r, 11) : "", sizeof a->community);
        str_copy(a->grid, store_text(r, 12) ? store_text(r, 12) : "", sizeof a->grid);
        if (store_text(r, 13))
            mask_name(store_text(r, 13), a->masked, sizeof a->masked);
    }
    store_rows_free(r);
    return rc;
}

/* The channels still owed this event: enabled, of the alert's community and grid, serving level,
 * created before the event (a new channel gets no old alarms), and not yet sent (or given up). At
 * most CHANNELS_MAX into t; *more says that others are owed too (the next round sends them). */
static int load_targets(store_tx *tx, const nx_keys *keys, const alert_view *a, const nx_event *ev, int level,
                        target *t, int *n, bool *more, nx_err *e)
{
    store_param p[] = {P_INT(a->community_id), P_INT(ev->id), P_ID(a->grid_id), P_INT(1LL << level), P_INT(ev->at)};
    store_rows *r = NULL;
    int rc = store_query(tx,
                         "SELECT w.id, w.format, w.url, w.secret, d.state, d.attempts, w.url_enc, w.secret_enc "
                         "FROM webhook_channels w "
                         "LEFT JOIN webhook_deliveries d ON d.channel_id = w.id AND d.event_id = $2 "
                         "WHERE w.community_id = $1 AND w.enabled = 1 AND (w.grid_id IS NULL OR w.grid_id = $3) "
                         "AND (w.levels & $4) <> 0 AND w.created_at <= $5 ORDER BY w.id",
                         p, 5, &r, e);
    if (rc)
        return rc;
    *n = 0;
    while (store_row(r)) {
        const char *state = store_text(r, 4);
        if (state && strcmp(state, "retrying") != 0)
            continue; /* sent, or given up */
        if (*n >= CHANNELS_MAX) {
            *more = true;
            break;
        }
        target *x = &t[(*n)++];
        x->id = store_int(r, 0);
        x->format = webhook_format_parse(store_text(r, 1));
        /* sealed rows (url_enc set) are read from the ciphertexts; a row written before migration
         * 008 and not yet sealed at start-up, from its clear columns */
        size_t un = 0, sn = 0;
        const void *ue = store_blob(r, 6, &un), *se = store_blob(r, 7, &sn);
        if (ue && un) {
            if (open_field(keys, CTX_URL, ue, un, x->url, sizeof x->url) ||
                (se && sn && open_field(keys, CTX_SECRET, se, sn, x->secret, sizeof x->secret)))
                x->sealed_bad = true;
        } else {
            str_copy(x->url, store_text(r, 2), sizeof x->url);
            str_copy(x->secret, store_text(r, 3) ? store_text(r, 3) : "", sizeof x->secret);
        }
        x->attempts = store_int(r, 5);
    }
    return store_rows_end(r, e);
}

static int record(store *s, int64_t event, int64_t channel, int64_t alert, const char *state, long status,
                  const char *error, nx_err *e)
{
    store_tx *tx = NULL;
    int rc = store_begin(s, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(event),   P_INT(channel),  P_ID(alert), P_TEXT(state),
                       P_ID(status),   P_TEXT(error),   P_INT(clock_now_ms())};
    rc = store_exec(tx,
                    "INSERT INTO webhook_deliveries (event_id, channel_id, alert_id, state, attempts, http_status, "
                    "error, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $7) "
                    "ON CONFLICT (event_id, channel_id) DO UPDATE SET state = excluded.state, "
                    "attempts = webhook_deliveries.attempts + 1, http_status = excluded.http_status, "
                    "error = excluded.error, updated_at = excluded.updated_at",
                    p, 7, NULL, e);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

static int on_alert_event(store *s, const nx_event *ev, void *ctx)
{
    nx_app *app = ctx;
    bool escalated = strcmp(ev->kind, DEVICES_EV_ALERT_ESCALATED) == 0;
    if (!escalated && strcmp(ev->kind, DEVICES_EV_ALERT_OPENED) != 0)
        return 0;
    json_t *pl = json_loads(ev->payload ? ev->payload : "{}", 0, NULL);
    int64_t alert_id = pl ? json_integer_value(json_object_get(pl, "alert_id")) : 0;
    int level = pl ? (int)json_integer_value(json_object_get(pl, "level")) : 0;
    json_decref(pl);
    if (alert_id <= 0)
        return 0;
    if (level < 0 || level > DEVICES_ESC_LEVEL_MAX)
        level = level < 0 ? 0 : DEVICES_ESC_LEVEL_MAX;

    nx_err e;
    nx_err_clear(&e);
    alert_view a;
    target *t = calloc(CHANNELS_MAX, sizeof *t);
    if (!t)
        return NX_ENOMEM;
    int n = 0, rc;
    bool more = false;
    store_tx *tx = NULL;
    if ((rc = store_begin(s, STORE_READ, &tx, &e)) == 0) {
        rc = load_alert(tx, alert_id, &a, &e);
        if (rc == 0 && a.community_id)
            rc = load_targets(tx, app->keys, &a, ev, level, t, &n, &more, &e);
        store_rollback(tx);
    }
    if (rc == NX_ENOTFOUND || (rc == 0 && (n == 0 || !a.community_id))) {
        free(t);
        return 0; /* nothing to say, or nobody to tell */
    }
    if (rc) {
        free(t);
        return rc;
    }
    char title[160];
    strbuf text;
    strbuf_init(&text, 4096);
    char *bodies[4] = {0};
    json_t *data = message_data(ev, &a, level);
    if (message_text(&a, level, escalated, title, sizeof title, &text) == 0)
        for (int f = WEBHOOK_WECOM; f <= WEBHOOK_JSON; f++)
            bodies[f] = webhook_body(f, title, text.data, data);
    json_decref(data);
    int result = 0;
    for (int i = 0; i < n; i++) {
        const char *body = t[i].format ? bodies[t[i].format] : NULL;
        long status = 0;
        nx_err se;
        nx_err_clear(&se);
        int src;
        if (t[i].sealed_bad)
            src = nx_fail(&se, NX_EINVAL, "", "Webhook 地址或密钥无法解密（密钥文件不符）");
        else if (!body)
            src = nx_fail(&se, NX_ENOMEM, "", "消息生成失败");
        else
            src = webhook_post(t[i].format, t[i].url, t[i].secret, body, DEVICES_WEBHOOK_TIMEOUT_MS, clock_now_ms(),
                               &status, &se);
        const char *state = "sent";
        if (src == NX_EPERM) {
            /* refused by the outbound gate: no request was made, and retrying will not make an
             * internal address public; the record says so in fixed words (no oracle) */
            state = "failed";
        } else if (src) {
            state = t[i].attempts + 1 >= DEVICES_WEBHOOK_ATTEMPTS ? "failed" : "retrying";
            nx_log(LOG_WARN, "webhook.failed channel=%lld event=%lld attempt=%lld status=%ld code=%s",
                   (long long)t[i].id, (long long)ev->id, (long long)t[i].attempts + 1, status, nx_code_name(src));
        } else {
            nx_log(LOG_INFO, "webhook.sent channel=%lld event=%lld alert=%lld level=%d", (long long)t[i].id,
                   (long long)ev->id, (long long)alert_id, level);
        }
        int wrc = record(s, ev->id, t[i].id, alert_id, state, status, src ? se.msg : NULL, &e);
        if (wrc && result == 0)
            result = wrc;
        if (src && strcmp(state, "retrying") == 0 && result == 0)
            result = NX_EBUSY;
    }
    /* more channels than one round holds: the event comes back at once (after the dispatcher's
     * first back-off) for the rest; the ones sent now are recorded and skipped then */
    if (more && result == 0)
        result = NX_EBUSY;
    for (int f = 0; f < 4; f++)
        free(bodies[f]);
    strbuf_cleanup(&text);
    free(t);
    return result;
}

int devices_webhooks_seal(nx_app *app, int *count, nx_err *e)
{
    *count = 0;
    store_tx *tx = NULL;
    store_rows *r = NULL;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    /* a handful of channels per community: read them all, then write each */
    typedef struct clear_row {
        int64_t id;
        char url[WEBHOOK_URL_MAX + 1], secret[WEBHOOK_SECRET_MAX + 1];
    } clear_row;
    clear_row *rows = NULL;
    size_t n = 0, cap = 0;
    if ((rc = store_query(tx, "SELECT id, url, secret FROM webhook_channels WHERE url_enc IS NULL ORDER BY id", NULL,
                          0, &r, e)))
        goto done;
    while (store_row(r)) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            clear_row *nr = realloc(rows, nc * sizeof *nr);
            if (!nr) {
                store_rows_free(r);
                rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
                goto done;
            }
            rows = nr;
            cap = nc;
        }
        rows[n].id = store_int(r, 0);
        str_copy(rows[n].url, store_text(r, 1) ? store_text(r, 1) : "", sizeof rows[n].url);
        str_copy(rows[n].secret, store_text(r, 2) ? store_text(r, 2) : "", sizeof rows[n].secret);
        n++;
    }
    if ((rc = store_rows_end(r, e)))
        goto done;
    /* SQLite: the rows rewritten below leave no clear bytes in the pages' free space (the old page
     * images in the main file are replaced at the next checkpoint, at the latest at shutdown) */
    if (n && strcmp(store_backend(app->db), "sqlite") == 0 &&
        (rc = store_exec(tx, "PRAGMA secure_delete = ON", NULL, 0, NULL, e)))
        goto done;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sealed x;
        if ((rc = seal(app, rows[i].url, rows[i].secret, &x, e)))
            break;
        store_param p[] = {P_INT(rows[i].id), P_TEXT(x.masked), P_BLOB(x.url, x.url_n), P_BLOB(x.secret, x.secret_n)};
        rc = store_exec(tx,
                        "UPDATE webhook_channels SET url = $2, url_enc = $3, secret = NULL, secret_enc = $4 "
                        "WHERE id = $1 AND url_enc IS NULL",
                        p, 4, NULL, e);
        sealed_free(&x);
    }
done:
    if (rows) {
        sodium_memzero(rows, n * sizeof *rows);
        free(rows);
    }
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    if ((rc = store_commit(tx, e)) == 0)
        *count = (int)n;
    return rc;
}

int devices_webhooks_subscribe(dispatcher *d, nx_app *app)
{
    return dispatcher_subscribe(d, DEVICES_WEBHOOK_SUBSCRIBER, DEVICES_EV_ALERT_PREFIX, on_alert_event, app);
}
