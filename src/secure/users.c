/* users.c — accounts: create, list, change role/scope, disable, reset password.
 *
 * Only platform admins manage accounts through the API; the CLI (`nuanxin user …`) acts as the
 * system and passes who = NULL. A scope must name the place it covers: a grid worker's account names
 * its grid (and the grid's community is filled from it), a resident's account names the resident. */
#include "secure/session.h"
#include "store/page.h"

#include "base/clock.h"
#include "base/str.h"
#include "secure/audit.h"
#include "secure/password.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_username(const char *u, nx_err *e)
{
    size_t n = u ? strlen(u) : 0;
    if (n < 3 || n > 32)
        return nx_fail(e, NX_EINVAL, "username", "用户名须为 3 到 32 个字符");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (!(isalnum(c) || c == '_' || c == '.' || c == '-'))
            return nx_fail(e, NX_EINVAL, "username", "用户名只能包含字母、数字、下划线、点和短横线");
    }
    if (!isalpha((unsigned char)u[0]))
        return nx_fail(e, NX_EINVAL, "username", "用户名须以字母开头");
    return 0;
}

/* The place id names: sql reads one column of its row (its parent's id) into *parent. NX_EINVAL naming
 * field ("请指定有效的<what>") when id is 0 or there is no such row; a failed read is its own error. */
static int place_parent(store_tx *tx, const char *sql, int64_t id, int64_t *parent, const char *field,
                        const char *what, nx_err *e)
{
    int rc = id ? store_one_int(tx, sql, (store_param[]){P_INT(id)}, 1, parent, e) : NX_ENOTFOUND;
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, field, "请指定有效的%s", what);
    return rc;
}

/* Resolve and check the place a scope names; fills the ids the scope implies. */
static int resolve_scope(store_tx *tx, user_input *in, nx_err *e)
{
    int rc;
    int64_t x;
    switch (in->scope) {
    case SCOPE_ALL:
        in->street_id = in->community_id = in->grid_id = 0;
        return 0;
    case SCOPE_STREET:
        rc = place_parent(tx, "SELECT id FROM streets WHERE id = $1", in->street_id, &x, "street_id", "街道",
                          e);
        if (rc == 0)
            in->community_id = in->grid_id = 0;
        return rc;
    case SCOPE_COMMUNITY:
        rc = place_parent(tx, "SELECT street_id FROM communities WHERE id = $1", in->community_id,
                          &in->street_id, "community_id", "社区", e);
        if (rc == 0)
            in->grid_id = 0;
        return rc;
    case SCOPE_GRID: {
        if ((rc = place_parent(tx, "SELECT community_id FROM grids WHERE id = $1", in->grid_id,
                               &in->community_id, "grid_id", "网格", e)))
            return rc;
        store_param q[] = {P_INT(in->community_id)};
        rc = store_one_int(tx, "SELECT street_id FROM communities WHERE id = $1", q, 1, &in->street_id, e);
        return rc;
    }
    case SCOPE_SELF: {
        if (!in->resident_id)
            return nx_fail(e, NX_EINVAL, "resident_id", "居民或家属账号须关联一位居民");
        store_rows *r;
        store_param p[] = {P_INT(in->resident_id)};
        if ((rc = store_query(tx, "SELECT community_id, grid_id FROM residents WHERE id = $1", p, 1, &r, e)))
            return rc;
        if ((rc = store_first(r, "关联的居民不存在", e)) == 0) {
            in->community_id = store_int(r, 0);
            in->grid_id = store_int(r, 1);
        }
        store_rows_free(r);
        return rc == NX_ENOTFOUND ? nx_fail(e, NX_EINVAL, "resident_id", "关联的居民不存在") : rc;
    }
    default:
        return nx_fail(e, NX_EINVAL, "scope", "管理范围无效");
    }
}

int users_create(store *s, const nx_principal *who, const user_input *in0, int64_t *id, nx_err *e)
{
    user_input in = *in0;
    int rc;
    if (who && !perm_has(who, RIGHT_USER_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权管理账号");
    if ((rc = check_username(in.username, e)))
        return rc;
    if (in.role <= ROLE_NONE || in.role >= ROLE_COUNT)
        return nx_fail(e, NX_EINVAL, "role", "角色无效");
    if (in.scope == SCOPE_NONE)
        in.scope = role_default_scope(in.role);
    if (in.role == ROLE_ADMIN && in.scope != SCOPE_ALL)
        return nx_fail(e, NX_EINVAL, "scope", "系统管理员的管理范围须为全部");
    if ((in.role == ROLE_RESIDENT || in.role == ROLE_FAMILY) && in.scope != SCOPE_SELF)
        return nx_fail(e, NX_EINVAL, "scope", "居民和家属账号的范围须为本人");
    if (in.role != ROLE_ADMIN && in.scope == SCOPE_ALL)
        return nx_fail(e, NX_EINVAL, "scope", "只有系统管理员可以管理全部范围");
    const char *display = in.display_name && *in.display_name ? in.display_name : in.username;
    if (str_utf8_len(display) > 32)
        return nx_fail(e, NX_EINVAL, "display_name", "姓名不能超过 32 个字");
    if ((rc = password_policy_check(in.password, in.username, e)))
        return rc;
    char hash[128];
    if ((rc = password_hash(in.password, hash, e)))
        return rc;

    store_tx *tx;
    if ((rc = store_begin(s, STORE_WRITE, &tx, e)))
        return rc;
    if ((rc = resolve_scope(tx, &in, e)))
        goto fail;
    if (who && in.community_id && !perm_covers(who, tx, in.community_id, in.grid_id)) {
        rc = nx_fail(e, NX_EPERM, "community_id", "无权在该范围创建账号");
        goto fail;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(in.username), P_TEXT(display), P_TEXT(role_code(in.role)),
                       P_TEXT(scope_code(in.scope)), P_ID(in.street_id), P_ID(in.community_id),
                       P_ID(in.grid_id), P_ID(in.resident_id), P_TEXT(hash),
                       P_INT(in.must_change_password), P_INT(now)};
    rc = store_one_int(tx,
                       "INSERT INTO users (username, display_name, role, scope, street_id, community_id, "
                       "grid_id, resident_id, password_hash, must_change_password, created_at, updated_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                       p, 11, id, e);
    if (rc == NX_ENOTFOUND) /* RETURNING gave no row: the database misbehaved */
        rc = nx_fail(e, NX_EDB, "", "创建账号失败");
    if ((rc = store_conflict_field(rc, "username", e, "用户名 %s 已存在", in.username)))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "user", *id, in.community_id,
                              json_pack("{s:s, s:s, s:s}", "username", in.username, "role",
                                        role_code(in.role), "scope", scope_code(in.scope)),
                              e)))
        goto fail;
    return store_commit(tx, e);
fail:
    store_rollback(tx);
    return rc;
}

static int find_user(store_tx *tx, const char *username, int64_t *id, int64_t *community, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_TEXT(username)};
    int rc = store_query(tx, "SELECT id, community_id FROM users WHERE username = $1", p, 1, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "用户不存在", e)) == 0) {
        *id = store_int(r, 0);
        *community = store_int(r, 1);
    }
    store_rows_free(r);
    return rc == NX_ENOTFOUND ? nx_fail(e, NX_ENOTFOUND, "username", "用户 %s 不存在", username) : rc;
}

/* Start an account change: a write transaction in *tx, and the id and community of the account named
 * username. On failure nothing is left open. */
static int account_begin(store *s, const char *username, store_tx **tx, int64_t *id, int64_t *community,
                         nx_err *e)
{
    int rc = store_begin(s, STORE_WRITE, tx, e);
    if (rc == 0 && (rc = find_user(*tx, username, id, community, e)))
        store_rollback(*tx);
    return rc;
}

/* End an account change: commit and forget the account's cached sessions, or (rc != 0) roll back and
 * return rc. */
static int account_done(store_tx *tx, int rc, int64_t id, nx_err *e)
{
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    rc = store_commit(tx, e);
    session_cache_forget(id, 0);
    return rc;
}

int users_set_password(store *s, const nx_principal *who, const char *username, const char *pw,
                       bool must_change, nx_err *e)
{
    int rc;
    if (who && !perm_has(who, RIGHT_USER_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权管理账号");
    if ((rc = password_policy_check(pw, username, e)))
        return rc;
    char hash[128];
    if ((rc = password_hash(pw, hash, e)))
        return rc;
    store_tx *tx;
    int64_t id, community;
    if ((rc = account_begin(s, username, &tx, &id, &community, e)))
        return rc;
    store_param p[] = {P_TEXT(hash), P_INT(must_change), P_INT(clock_now_ms()), P_INT(id)};
    store_param d[] = {P_INT(id)};
    rc = store_exec(tx,
                    "UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, "
                    "locked_until = 0, updated_at = $3 WHERE id = $4",
                    p, 4, NULL, e);
    if (rc == 0)
        rc = store_exec(tx, "DELETE FROM sessions WHERE user_id = $1", d, 1, NULL, e);
    if (rc == 0)
        rc = session_throttle_clear(tx, username, e);
    if (rc == 0)
        rc = audit_write(tx, who, "password_reset", "user", id, community, NULL, e);
    return account_done(tx, rc, id, e);
}

int users_set_disabled(store *s, const nx_principal *who, const char *username, bool disabled, nx_err *e)
{
    int rc;
    if (who && !perm_has(who, RIGHT_USER_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权管理账号");
    store_tx *tx;
    int64_t id, community;
    if ((rc = account_begin(s, username, &tx, &id, &community, e)))
        return rc;
    if (who && id == who->user_id && disabled)
        return account_done(tx, nx_fail(e, NX_EINVAL, "disabled", "不能停用自己的账号"), id, e);
    store_param p[] = {P_INT(disabled), P_INT(clock_now_ms()), P_INT(id)};
    store_param d[] = {P_INT(id)};
    rc = store_exec(tx, "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3", p, 3, NULL, e);
    if (rc == 0 && disabled)
        rc = store_exec(tx, "DELETE FROM sessions WHERE user_id = $1", d, 1, NULL, e);
    if (rc == 0)
        rc = audit_write(tx, who, disabled ? "disable" : "enable", "user", id, community, NULL, e);
    return account_done(tx, rc, id, e);
}

#define USER_COLS                                                                                  \
    "SELECT id, username, display_name, role, scope, street_id, community_id, grid_id, resident_id, " \
    "disabled, must_change_password, locked_until, last_login_at, created_at FROM users"

json_t *users_row_json(store_rows *r)
{
    char created[30], last[30];
    clock_format_local(store_int(r, 13), created);
    if (!store_isnull(r, 12))
        clock_format_local(store_int(r, 12), last);
    int role = role_parse(store_text(r, 3));
#define IDV(col) (store_isnull(r, col) ? json_null() : json_integer(store_int(r, col)))
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:b, s:o, s:s}",
                     "id", (json_int_t)store_int(r, 0), "username", store_text(r, 1), "display_name",
                     store_text(r, 2), "role", role_code(role), "role_label", role_label(role), "scope",
                     store_text(r, 4), "street_id", IDV(5), "community_id", IDV(6), "grid_id", IDV(7),
                     "resident_id", IDV(8), "disabled", (int)store_int(r, 9), "must_change_password",
                     (int)store_int(r, 10), "locked", store_int(r, 11) > clock_now_ms(), "last_login_at",
                     store_isnull(r, 12) ? json_null() : json_string(last), "created_at", created);
#undef IDV
}

int users_list(store *s, const nx_principal *who, const users_filter *f, json_t **out, nx_err *e)
{
    *out = NULL;
    if (!perm_has(who, RIGHT_USER_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权查看账号");
    if (f->q && str_utf8_len(f->q) > 32)
        return nx_fail(e, NX_EINVAL, "q", "搜索词不能超过 32 个字");
    sqlq q, count;
    sqlq_init(&q, USER_COLS " WHERE 1 = 1");
    sqlq_init(&count, "SELECT COUNT(*) FROM users WHERE 1 = 1");
    if (f->q && *f->q) {
        int a = sqlq_like(&q, " AND (username LIKE $%d ESCAPE '!'", f->q, true);
        sqlq_sql(&q, " OR display_name LIKE $%d ESCAPE '!')", a);
        a = sqlq_like(&count, " AND (username LIKE $%d ESCAPE '!'", f->q, true);
        sqlq_sql(&count, " OR display_name LIKE $%d ESCAPE '!')", a);
    }
    if (f->after)
        sqlq_add(&q, " AND id > $%d", P_INT(f->after));
    sqlq_sql(&q, " ORDER BY id");
    store_page_spec spec = {.limit = f->limit, .max = f->max, .count = &count, .row = users_row_json};
    return store_page_read(s, &q, &spec, out, e);
}

int users_get(store *s, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_USER_ADMIN) && who->user_id != id)
        return nx_fail(e, NX_ENOTFOUND, "", "账号不存在");
    sqlq q;
    sqlq_init(&q, USER_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND id = $%d", P_INT(id));
    return store_get_read(s, &q, &(store_page_spec){.row = users_row_json}, "账号不存在", out, e);
}

int users_update(store *s, const nx_principal *who, int64_t id, const user_input *in0, nx_err *e)
{
    if (!perm_has(who, RIGHT_USER_ADMIN))
        return nx_fail(e, NX_EPERM, "", "无权管理账号");
    user_input in = *in0;
    store_tx *tx;
    int rc = store_begin(s, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    store_param p[] = {P_INT(id)};
    if ((rc = store_query(tx,
                          "SELECT username, role, display_name, scope, street_id, community_id, grid_id, "
                          "resident_id FROM users WHERE id = $1",
                          p, 1, &r, e)))
        goto fail;
    char username[64] = "", display[200] = "";
    int role = 0, scope = 0;
    int64_t cur_ids[4] = {0, 0, 0, 0};
    if ((rc = store_first(r, "账号不存在", e)) == 0) {
        str_copy(username, store_text(r, 0), sizeof username);
        role = role_parse(store_text(r, 1));
        str_copy(display, store_text(r, 2), sizeof display);
        scope = scope_parse(store_text(r, 3));
        for (int i = 0; i < 4; i++)
            cur_ids[i] = store_int(r, 4 + i);
    }
    store_rows_free(r);
    if (rc)
        goto fail;
    if (!role) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "账号不存在");
        goto fail;
    }
    /* What the request leaves out stays as it was: role, scope and the place the scope names. */
    bool place_given = in.street_id || in.community_id || in.grid_id || in.resident_id;
    if (in.role == ROLE_NONE)
        in.role = role;
    if (in.scope == SCOPE_NONE)
        in.scope = in.role == role ? scope : role_default_scope(in.role);
    if (!place_given && in.scope == scope) {
        in.street_id = cur_ids[0];
        in.community_id = cur_ids[1];
        in.grid_id = cur_ids[2];
        in.resident_id = cur_ids[3];
    }
    if (id == who->user_id && in.disabled == 1) {
        rc = nx_fail(e, NX_EINVAL, "disabled", "不能停用自己的账号");
        goto fail;
    }
    if (in.display_name == NULL)
        in.display_name = display;
    if (id == who->user_id && in.role != ROLE_ADMIN) {
        rc = nx_fail(e, NX_EINVAL, "role", "不能取消自己的管理员角色");
        goto fail;
    }
    if (in.role == ROLE_ADMIN && in.scope != SCOPE_ALL) {
        rc = nx_fail(e, NX_EINVAL, "scope", "系统管理员的管理范围须为全部");
        goto fail;
    }
    if (in.role != ROLE_ADMIN && in.scope == SCOPE_ALL) {
        rc = nx_fail(e, NX_EINVAL, "scope", "只有系统管理员可以管理全部范围");
        goto fail;
    }
    if ((rc = resolve_scope(tx, &in, e)))
        goto fail;
    store_param u[] = {P_TEXT(in.display_name), P_TEXT(role_code(in.role)), P_TEXT(scope_code(in.scope)),
                       P_ID(in.street_id), P_ID(in.community_id), P_ID(in.grid_id), P_ID(in.resident_id),
                       P_INT(clock_now_ms()), P_INT(id)};
    if ((rc = store_exec(tx,
                         "UPDATE users SET display_name = $1, role = $2, scope = $3, street_id = $4, "
                         "community_id = $5, grid_id = $6, resident_id = $7, updated_at = $8 WHERE id = $9",
                         u, 9, NULL, e)))
        goto fail;
    if (in.disabled >= 0) {
        store_param dp[] = {P_INT(in.disabled), P_INT(id)};
        store_param sp[] = {P_INT(id)};
        if ((rc = store_exec(tx, "UPDATE users SET disabled = $1 WHERE id = $2", dp, 2, NULL, e)))
            goto fail;
        if (in.disabled && (rc = store_exec(tx, "DELETE FROM sessions WHERE user_id = $1", sp, 1, NULL, e)))
            goto fail;
    }
    if (in.must_change_password) {
        store_param mp[] = {P_INT(id)};
        if ((rc = store_exec(tx, "UPDATE users SET must_change_password = 1 WHERE id = $1", mp, 1, NULL, e)))
            goto fail;
    }
    rc = audit_write_new(tx, who, "update", "user", id, in.community_id,
                         json_pack("{s:s, s:s, s:s}", "username", username, "role", role_code(in.role),
                                   "scope", scope_code(in.scope)),
                         e);
fail:
    return account_done(tx, rc, id, e);
}

int users_get_preferences(store *s, int64_t user_id, json_t **out, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(s, STORE_READ, &tx, e);
    if (rc)
        return rc;
    char *text = NULL;
    store_param p[] = {P_INT(user_id)};
    rc = store_one_text(tx, "SELECT preferences FROM users WHERE id = $1", p, 1, &text, e);
    store_rollback(tx);
    if (rc)
        return rc;
    json_t *o = json_loads(text ? text : "{}", 0, NULL);
    free(text);
    *out = json_is_object(o) ? o : (json_decref(o), json_object());
    return 0;
}

int users_set_preferences(store *s, const nx_principal *who, json_t *prefs, nx_err *e)
{
    json_t *cur;
    int rc = users_get_preferences(s, who->user_id, &cur, e);
    if (rc)
        return rc;
    const char *key;
    json_t *v;
    json_object_foreach(prefs, key, v) {
        if (strcmp(key, "elder_mode") == 0) {
            if (!json_is_boolean(v)) {
                json_decref(cur);
                return nx_fail(e, NX_EINVAL, "elder_mode", "elder_mode 应为 true 或 false");
            }
        } else if (strcmp(key, "language") == 0) {
            const char *l = json_string_value(v);
            if (!l || (strcmp(l, "zh-CN") != 0 && strcmp(l, "en") != 0)) {
                json_decref(cur);
                return nx_fail(e, NX_EINVAL, "language", "language 应为 zh-CN 或 en");
            }
        } else {
            json_decref(cur);
            return nx_fail(e, NX_EINVAL, key, "未知的偏好设置 %s", key);
        }
        json_object_set(cur, key, v);
    }
    char *text = json_dumps(cur, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(cur);
    store_tx *tx;
    if ((rc = store_begin(s, STORE_WRITE, &tx, e))) {
        free(text);
        return rc;
    }
    store_param p[] = {P_TEXT(text), P_INT(clock_now_ms()), P_INT(who->user_id)};
    rc = store_exec(tx, "UPDATE users SET preferences = $1, updated_at = $2 WHERE id = $3", p, 3, NULL, e);
    free(text);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}
