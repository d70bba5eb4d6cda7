/* accounts_http.c — login, logout, the current user, password change, account administration and
 * the audit log over HTTP; and the authenticator.
 *
 * The authenticator accepts `Authorization: Bearer <token>` (integrations; no CSRF needed, since a
 * browser never attaches it by itself) or the `nx_session` cookie (the web app), in which case every
 * method other than GET/HEAD/OPTIONS must carry the session's CSRF token in `X-CSRF-Token`.
 *
 * A session whose account must change its password (a new account, an administrator's reset)
 * reaches only what changing it needs: GET /api/v1/me, POST /api/v1/me/password and POST
 * /api/v1/auth/logout; everything else answers 403. Event streams end when their session is
 * revoked (logout, password change, reset, disable: session_on_revoke) and are re-checked against
 * the store at every heartbeat, so a session ended by another process ends its streams too. */
#include "modules/accounts/accounts.h"

#include "base/clock.h"
#include "base/str.h"
#include "modules/app_http.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "secure/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int authenticate(http_req *r, http_auth *out, nx_err *e, void *ctx)
{
    nx_app *app = ctx;
    const char *token = NULL;
    bool cookie = false;
    const char *h = http_header(r, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        token = h + 7;
    } else if ((token = http_cookie(r, ACCOUNTS_COOKIE)) != NULL) {
        cookie = true;
    }
    if (token == NULL || *token == '\0')
        return nx_fail(e, NX_EAUTH, "", "未登录或登录已过期");
    char *buf = arena_alloc(http_arena(r), 512);
    session_identity id;
    if (buf == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    int rc = session_authenticate(app->db, token, &id, buf, 512, e);
    if (rc)
        return rc;
    const char *m = http_method(r);
    if (id.must_change_password) {
        const char *path = http_path(r);
        bool allowed = (strcmp(m, "GET") == 0 && strcmp(path, "/api/v1/me") == 0) ||
                       (strcmp(m, "POST") == 0 &&
                        (strcmp(path, "/api/v1/me/password") == 0 || strcmp(path, "/api/v1/auth/logout") == 0));
        if (!allowed)
            return nx_fail(e, NX_EPERM, "", "请先修改初始密码，修改后才能使用其他功能");
    }
    if (cookie && strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0) {
        const char *csrf = http_header(r, "X-CSRF-Token");
        size_t n = id.csrf ? strlen(id.csrf) : 0;
        if (csrf == NULL || n == 0 || strlen(csrf) != n || !crypto_equal(csrf, id.csrf, n))
            return nx_fail(e, NX_EPERM, "", "缺少或错误的 CSRF 令牌，请刷新页面后重试");
    }
    memset(out, 0, sizeof *out);
    out->user_id = id.who.user_id;
    out->username = id.who.username;
    out->display_name = id.display_name;
    out->role = id.who.role;
    out->scope = id.who.scope;
    out->street_id = id.who.street_id;
    out->community_id = id.who.community_id;
    out->grid_id = id.who.grid_id;
    out->resident_id = id.who.resident_id;
    out->session_id = id.session_id;
    out->via_cookie = cookie;
    return 0;
}

static void set_cookie(http_req *r, nx_app *app, const char *value, int64_t max_age_s)
{
    char c[256];
    snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", ACCOUNTS_COOKIE, value,
             (long long)max_age_s, app->cfg->cookie_secure ? "; Secure" : "");
    http_add_header(r, "Set-Cookie", c);
}

static int login(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    json_t *body;
    static const char *const allowed[] = {"username", "password", NULL};
    const char *username, *password;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = json_only(body, allowed, http_err(r))) ||
        (rc = json_get_str(body, "username", true, 64, &username, http_err(r))) < 0 ||
        (rc = json_get_str(body, "password", true, 128, &password, http_err(r))) < 0)
        return rc;
    if (*username == '\0')
        return nx_fail(http_err(r), NX_EINVAL, "username", "请输入用户名");
    if (*password == '\0')
        return nx_fail(http_err(r), NX_EINVAL, "password", "请输入密码");
    session_login_result res;
    if ((rc = session_login(app->db, username, password, http_client_ip(r), http_header(r, "User-Agent"), &res,
                            http_err(r)))) {
        if (rc == NX_ELOCKED) {
            char ra[16];
            snprintf(ra, sizeof ra, "%d", res.retry_after_s);
            http_add_header(r, "Retry-After", ra);
        }
        return rc;
    }
    set_cookie(r, app, res.token, (res.expires_at - clock_now_ms()) / 1000);
    char exp[30];
    clock_format_local(res.expires_at, exp);
    json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:b}", "token", res.token, "token_type", "Bearer", "csrf_token",
                            res.csrf, "expires_at", exp, "must_change_password", res.must_change_password);
    return http_reply_json(r, 200, out);
}

static int logout(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    int rc = session_logout(app->db, http_auth_of(r)->session_id, &who, http_err(r));
    if (rc)
        return rc;
    set_cookie(r, app, "", 0);
    return http_reply_status(r, 204);
}

/* The rights as the web app names them. */
static const struct {
    unsigned bit;
    const char *name;
} right_names[] = {{RIGHT_PEOPLE_READ, "people.read"}, {RIGHT_PEOPLE_WRITE, "people.write"},
                   {RIGHT_REVEAL, "people.reveal"},    {RIGHT_EXPORT, "people.export"},
                   {RIGHT_IMPORT, "people.import"},    {RIGHT_ORG_READ, "org.read"},
                   {RIGHT_ORG_WRITE, "org.write"},     {RIGHT_USER_ADMIN, "users.admin"},
                   {RIGHT_AUDIT_READ, "audit.read"},   {RIGHT_SELF, "self"},
                   {RIGHT_CARE_READ, "care.read"},     {RIGHT_CARE_WRITE, "care.write"},
                   {RIGHT_CARE_ADMIN, "care.admin"},   {RIGHT_SERVICE_APPLY, "services.apply"},
                   {RIGHT_SERVICE_REVIEW, "services.review"}, {RIGHT_SERVICE_ADMIN, "services.admin"},
                   {RIGHT_DEVICE_READ, "devices.read"}, {RIGHT_DEVICE_WRITE, "devices.write"},
                   {RIGHT_ALERT_HANDLE, "alerts.handle"},
                   {RIGHT_CANTEEN_OPERATE, "canteen.operate"}, {RIGHT_CANTEEN_ADMIN, "canteen.admin"},
                   {RIGHT_VOLUNTEER_MANAGE, "volunteers.manage"}, {RIGHT_VOLUNTEER_DUTY, "volunteers.duty"},
                   {RIGHT_COURSE_MANAGE, "courses.manage"}, {RIGHT_LIBRARY_MANAGE, "library.manage"},
                   {RIGHT_VENUE_MANAGE, "venues.manage"}, {RIGHT_COUNCIL_MANAGE, "council.manage"},
                   {RIGHT_PARTY_MANAGE, "party.manage"}, {RIGHT_ELECTION_MANAGE, "elections.manage"},
                   {RIGHT_NOTICE_WRITE, "notices.write"}, {RIGHT_MESSAGE_ADMIN, "messages.admin"}};

static int me(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    const http_auth *a = http_auth_of(r);
    json_t *user;
    nx_principal who = app_principal(r);
    int rc = users_get(app->db, &who, a->user_id, &user, http_err(r));
    if (rc)
        return rc;
    unsigned rights = role_rights(a->role);
    json_t *arr = json_array();
    for (size_t i = 0; i < sizeof right_names / sizeof right_names[0]; i++)
        if (rights & right_names[i].bit)
            json_array_append_new(arr, json_string(right_names[i].name));
    json_object_set_new(user, "rights", arr);
    /* names of the places the account's scope covers, for the header */
    store_tx *tx;
    if (store_begin(app->db, STORE_READ, &tx, NULL) == 0) {
        static const struct {
            const char *key, *sql;
        } names[] = {{"street_name", "SELECT name FROM streets WHERE id = $1"},
                     {"community_name", "SELECT name FROM communities WHERE id = $1"},
                     {"grid_name", "SELECT name FROM grids WHERE id = $1"}};
        const int64_t ids[] = {a->street_id, a->community_id, a->grid_id};
        for (int i = 0; i < 3; i++) {
            char *name = NULL;
            store_param p[] = {P_INT(ids[i])};
            if (ids[i] && store_one_text(tx, names[i].sql, p, 1, &name, NULL) == 0 && name)
                json_object_set_new(user, names[i].key, json_string(name));
            else
                json_object_set_new(user, names[i].key, json_null());
            free(name);
        }
        store_rollback(tx);
    }
    /* The real map when a tile server is configured (docs/operations.md): the page draws the estate
     * plan over these tiles; null = the plan alone. */
    json_t *map = json_null();
    if (app->cfg->map_tiles[0])
        map = json_pack("{s:s, s:s, s:s?}", "tiles", app->cfg->map_tiles, "datum", app->cfg->map_tiles_datum,
                        "attribution", app->cfg->map_attribution[0] ? app->cfg->map_attribution : NULL);
    json_object_set_new(user, "map", map ? map : json_null());
    json_t *prefs;
    if (users_get_preferences(app->db, a->user_id, &prefs, NULL) == 0)
        json_object_set_new(user, "preferences", prefs);
    /* The web app needs the CSRF token after a reload; it is only useful together with the cookie. */
    if (a->via_cookie) {
        char buf[512];
        session_identity id;
        const char *tok = http_cookie(r, ACCOUNTS_COOKIE);
        if (tok && session_authenticate(app->db, tok, &id, buf, sizeof buf, NULL) == 0)
            json_object_set_new(user, "csrf_token", json_string(id.csrf));
    }
    return http_reply_json(r, 200, user);
}

static int change_password(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *body;
    static const char *const allowed[] = {"old_password", "new_password", NULL};
    const char *old_pw, *new_pw;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = json_only(body, allowed, http_err(r))) ||
        (rc = json_get_str(body, "old_password", true, 128, &old_pw, http_err(r))) < 0 ||
        (rc = json_get_str(body, "new_password", true, 128, &new_pw, http_err(r))) < 0)
        return rc;
    int retry = 0;
    if ((rc = session_change_password(app->db, &who, http_auth_of(r)->session_id, old_pw, new_pw, &retry,
                                      http_err(r)))) {
        if (rc == NX_ELOCKED) {
            char ra[16];
            snprintf(ra, sizeof ra, "%d", retry);
            http_add_header(r, "Retry-After", ra);
        }
        return rc;
    }
    return http_reply_status(r, 204);
}

static int set_preferences(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *body, *out;
    int rc;
    if ((rc = http_json_body(r, &body)) || (rc = users_set_preferences(app->db, &who, body, http_err(r))) ||
        (rc = users_get_preferences(app->db, who.user_id, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* The roles an account may have, with their default scope and rights (for the users page). */
static int roles_h(http_req *r, void *ctx)
{
    (void)ctx;
    nx_principal who = app_principal(r);
    if (!perm_has(&who, RIGHT_USER_ADMIN))
        return nx_fail(http_err(r), NX_EPERM, "", "无权查看角色");
    json_t *items = json_array();
    for (int role = ROLE_NONE + 1; role < ROLE_COUNT; role++) {
        json_t *rights = json_array();
        for (size_t i = 0; i < sizeof right_names / sizeof right_names[0]; i++)
            if (role_rights(role) & right_names[i].bit)
                json_array_append_new(rights, json_string(right_names[i].name));
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:o}", "role", role_code(role), "label",
                                               role_label(role), "default_scope",
                                               scope_code(role_default_scope(role)), "rights", rights));
    }
    return http_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static const char *const user_fields[] = {"username", "display_name", "password", "role", "scope", "street_id",
                                          "community_id", "grid_id", "resident_id", "disabled",
                                          "must_change_password", NULL};

static int parse_user(json_t *body, user_input *in, bool create, nx_err *e)
{
    memset(in, 0, sizeof *in);
    in->disabled = -1;
    int rc;
    const char *role = NULL, *scope = NULL;
    bool disabled = false, must = false;
    if ((rc = json_only(body, user_fields, e)) ||
        (rc = json_get_str(body, "username", create, 32, &in->username, e)) < 0 ||
        (rc = json_get_str(body, "display_name", false, 32, &in->display_name, e)) < 0 ||
        (rc = json_get_str(body, "password", create, 128, &in->password, e)) < 0 ||
        (rc = json_get_str(body, "role", create, 20, &role, e)) < 0 ||
        (rc = json_get_str(body, "scope", false, 20, &scope, e)) < 0 ||
        (rc = json_get_int(body, "street_id", false, 1, INT64_MAX, &in->street_id, e)) < 0 ||
        (rc = json_get_int(body, "community_id", false, 1, INT64_MAX, &in->community_id, e)) < 0 ||
        (rc = json_get_int(body, "grid_id", false, 1, INT64_MAX, &in->grid_id, e)) < 0 ||
        (rc = json_get_int(body, "resident_id", false, 1, INT64_MAX, &in->resident_id, e)) < 0)
        return rc;
    if ((rc = json_get_bool(body, "disabled", false, &disabled, e)) < 0 ||
        (rc = json_get_bool(body, "must_change_password", false, &must, e)) < 0)
        return rc;
    if (json_object_get(body, "disabled"))
        in->disabled = disabled;
    in->must_change_password = must;
    if (role && !(in->role = role_parse(role)))
        return nx_fail(e, NX_EINVAL, "role", "角色无效，可选 admin、street、staff、grid、canteen、volunteer、resident、family");
    if (scope && !(in->scope = scope_parse(scope)))
        return nx_fail(e, NX_EINVAL, "scope", "管理范围无效，可选 all、street、community、grid、self");
    if (!create && in->username)
        return nx_fail(e, NX_EINVAL, "username", "用户名不能修改");
    if (!create && in->password)
        return nx_fail(e, NX_EINVAL, "password", "请使用重置密码接口修改密码");
    return 0;
}

static int users_list_h(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *out;
    users_filter f = {.max = (int)app->cfg->page_max, .q = http_query(r, "q")};
    bool present;
    int rc;
    if ((rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &f.limit)) ||
        (rc = http_query_int(r, "cursor", 1, INT64_MAX, &present, &f.after)) ||
        (rc = users_list(app->db, &who, &f, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* The rules of the shared handler shapes (app_http.h): accounts live in the app's store. */
static int user_create(nx_app *app, const nx_principal *who, json_t *body, int64_t *id, nx_err *e)
{
    user_input in;
    int rc = parse_user(body, &in, true, e);
    return rc ? rc : users_create(app->db, who, &in, id, e);
}

static int user_update(nx_app *app, const nx_principal *who, int64_t id, json_t *body, nx_err *e)
{
    user_input in;
    int rc = parse_user(body, &in, false, e);
    return rc ? rc : users_update(app->db, who, id, &in, e);
}

static int user_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return users_get(app->db, who, id, out, e);
}

static int users_reset_h(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    json_t *body, *user;
    static const char *const allowed[] = {"password", "must_change_password", NULL};
    const char *pw;
    bool must = true;
    int64_t id;
    int rc;
    if ((rc = http_param_id(r, "id", &id)) || (rc = http_json_body(r, &body)) ||
        (rc = json_only(body, allowed, http_err(r))) ||
        (rc = json_get_str(body, "password", true, 128, &pw, http_err(r))) < 0 ||
        (rc = json_get_bool(body, "must_change_password", false, &must, http_err(r))) < 0 ||
        (rc = users_get(app->db, &who, id, &user, http_err(r))))
        return rc;
    char username[64];
    str_copy(username, json_string_value(json_object_get(user, "username")), sizeof username);
    json_decref(user);
    if ((rc = users_set_password(app->db, &who, username, pw, must, http_err(r))))
        return rc;
    return http_reply_status(r, 204);
}

static int audit_h(http_req *r, void *ctx)
{
    nx_app *app = ctx;
    nx_principal who = app_principal(r);
    if (!perm_has(&who, RIGHT_AUDIT_READ))
        return nx_fail(http_err(r), NX_EPERM, "", "无权查看审计日志");
    audit_filter f = {0};
    bool present;
    int rc, limit;
    if ((rc = http_query_int(r, "user_id", 1, INT64_MAX, &present, &f.user_id)) ||
        (rc = http_query_int(r, "object_id", 1, INT64_MAX, &present, &f.object_id)) ||
        (rc = http_query_int(r, "cursor", 1, INT64_MAX, &present, &f.before_id)) ||
        (rc = http_query_limit(r, (int)app->cfg->page_default, (int)app->cfg->page_max, &limit)))
        return rc;
    f.limit = limit;
    f.action = http_query(r, "action");
    f.username = http_query(r, "username");
    f.object_type = http_query(r, "object_type");
    const char *from = http_query(r, "from"), *to = http_query(r, "to");
    nx_date d;
    if (from) {
        if (date_parse(from, &d))
            return nx_fail(http_err(r), NX_EINVAL, "from", "日期格式应为 YYYY-MM-DD");
        f.from_ms = date_to_days(d) * 86400000 - NX_TZ_OFFSET_MS;
    }
    if (to) {
        if (date_parse(to, &d))
            return nx_fail(http_err(r), NX_EINVAL, "to", "日期格式应为 YYYY-MM-DD");
        f.to_ms = (date_to_days(d) + 1) * 86400000 - NX_TZ_OFFSET_MS;
    }
    json_t *out;
    if ((rc = audit_list(app->db, &who, &f, (int)app->cfg->page_max, &out, http_err(r))))
        return rc;
    return http_reply_json(r, 200, out);
}

/* Ending sessions ends their event streams in this process at once. */
static void revoke_streams(int64_t user_id, int64_t session_id, void *ctx)
{
    http_sse_revoke(ctx, user_id, session_id);
}

/* At every heartbeat a stream asks whether its session still holds (another process may have
 * ended it); a failed read keeps the stream (the next heartbeat asks again). */
static bool stream_alive(const http_auth *who, void *ctx)
{
    nx_app *app = ctx;
    if (who->session_id == 0)
        return true;
    return session_alive(app->db, who->session_id, NULL) != NX_EAUTH;
}

static const app_route routes[] = {
    {"POST", "/api/v1/auth/login", .h = login, .flags = HTTP_PUBLIC},
    {"POST", "/api/v1/auth/logout", .h = logout},
    {"GET", "/api/v1/me", .h = me},
    {"POST", "/api/v1/me/password", .h = change_password},
    {"PATCH", "/api/v1/me/preferences", .h = set_preferences},
    {"GET", "/api/v1/users", .h = users_list_h},
    {"POST", "/api/v1/users", .create = user_create, .get = user_get},
    {"GET", "/api/v1/users/{id}", .get = user_get},
    {"PATCH", "/api/v1/users/{id}", .change = user_update, .get = user_get},
    {"POST", "/api/v1/users/{id}/password", .h = users_reset_h},
    {"GET", "/api/v1/audit", .h = audit_h},
    {"GET", "/api/v1/roles", .h = roles_h},
};

int accounts_routes(http_server *srv, nx_app *app)
{
    http_set_authenticator(srv, authenticate, app);
    session_on_revoke(revoke_streams, srv);
    http_sse_set_check(srv, stream_alive, app);
    return APP_ROUTES(srv, app, routes);
}
