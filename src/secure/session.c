/* session.c — login, token authentication, logout and password change.
 *
 * The flow of a login: (1) refuse at once if the client address is locked; (2) read the account
 * in a read transaction; (3) verify the password on the bounded hash pool with no transaction
 * open, burning the same time for unknown accounts so timing does not tell which names exist;
 * (4) in one write transaction, record the outcome: reset or count failures, lock when over the
 * limit, create the session, write the audit row. Authentication of a request is a single indexed
 * read; the session's last_seen_at is bumped at most once a minute so reads stay reads. */
#include "secure/session.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "secure/password.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static session_settings cfg = {
    .idle_ms = 8LL * 3600 * 1000,
    .lifetime_ms = 24LL * 3600 * 1000,
    .max_fail = 5,
    .lockout_ms = 15LL * 60 * 1000,
    .ip_max_fail = 20,
    .ip_window_ms = 15LL * 60 * 1000,
};

void session_configure(const session_settings *s)
{
    cfg = *s;
}

static int minutes_left(int64_t until)
{
    int64_t ms = until - clock_now_ms();
    return ms <= 0 ? 1 : (int)((ms + 59999) / 60000);
}

/* Count a failure for the address; returns true when it is now locked. */
static bool ip_record_failure(store_tx *tx, const char *ip, nx_err *e)
{
    char key[80];
    snprintf(key, sizeof key, "ip:%s", ip ? ip : "?");
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(key), P_INT(now), P_INT(now - cfg.ip_window_ms), P_INT(cfg.ip_max_fail),
                       P_INT(now + cfg.lockout_ms)};
    int rc = store_exec(tx,
                        "INSERT INTO login_throttle (key, failures, window_start, locked_until) "
                        "VALUES ($1, 1, $2, 0) ON CONFLICT (key) DO UPDATE SET "
                        "failures = CASE WHEN login_throttle.window_start < $3 THEN 1 "
                        "ELSE login_throttle.failures + 1 END, "
                        "window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 "
                        "ELSE login_throttle.window_start END, "
                        "locked_until = CASE WHEN login_throttle.window_start >= $3 AND "
                        "login_throttle.failures + 1 >= $4 THEN $5 ELSE login_throttle.locked_until END",
                        p, 5, NULL, e);
    (void)rc;
    return false;
}

static int ip_locked_until(store_tx *tx, const char *ip, int64_t *until)
{
    char key[80];
    snprintf(key, sizeof key, "ip:%s", ip ? ip : "?");
    store_param p[] = {P_TEXT(key)};
    *until = 0;
    int rc = store_one_int(tx, "SELECT locked_until FROM login_throttle WHERE key = $1", p, 1, until, NULL);
    return rc == NX_ENOTFOUND ? 0 : rc;
}

int session_login(store *s, const char *username, const char *password, const char *ip,
                  const char *user_agent, session_login_result *out, nx_err *e)
{
    memset(out, 0, sizeof *out);
    int64_t now = clock_now_ms();
    int64_t user_id = 0, locked_until = 0, ip_until = 0, disabled = 0, failed = 0, must_change = 0;
    char *hash = NULL;
    int rc;

    store_tx *tx;
    if ((rc = store_begin(s, STORE_READ, &tx, e)))
        return rc;
    if ((rc = ip_locked_until(tx, ip, &ip_until))) {
        store_rollback(tx);
        return nx_fail(e, rc, "", "读取登录限制失败");
    }
    store_rows *r;
    store_param up[] = {P_TEXT(username)};
    rc = store_query(tx,
                     "SELECT id, password_hash, disabled, locked_until, failed_logins, "
                     "must_change_password FROM users WHERE username = $1",
                     up, 1, &r, e);
    int found = rc ? rc : store_first(r, "用户不存在", e);
    if (found == 0) {
        user_id = store_int(r, 0);
        hash = strdup(store_text(r, 1));
        disabled = store_int(r, 2);
        locked_until = store_int(r, 3);
        failed = store_int(r, 4);
        must_change = store_int(r, 5);
    }
    store_rows_free(r);
    store_rollback(tx);
    if (found && found != NX_ENOTFOUND) { /* the read failed: not "no such user" */
        rc = found;
        goto done;
    }
    nx_err_clear(e);

    if (ip_until > now) {
        rc = nx_fail(e, NX_ELOCKED, "", "登录失败次数过多，请 %d 分钟后再试", minutes_left(ip_until));
        goto done;
    }
    if (user_id && locked_until > now) {
        rc = nx_fail(e, NX_ELOCKED, "", "账号已被锁定，请 %d 分钟后再试或联系管理员",
                     minutes_left(locked_until));
        goto done;
    }

    bool ok = false;
    if (user_id && hash) {
        int v = password_verify(hash, password);
        if (v == NX_EBUSY) {
            rc = nx_fail(e, NX_EBUSY, "", "登录人数过多，请稍后重试");
            goto done;
        }
        ok = v == 0 && !disabled;
    } else {
        password_burn(password);
    }

    if ((rc = store_begin(s, STORE_WRITE, &tx, e)))
        goto done;
    if (!ok) {
        ip_record_failure(tx, ip, e);
        json_t *d = json_pack("{s:s, s:s}", "username", username,
                              "reason", !user_id ? "unknown_user" : disabled ? "disabled" : "bad_password");
        audit_write_anon(tx, username, ip, "login_failed", d, NULL);
        json_decref(d);
        int left = 0;
        if (user_id && !disabled) {
            int64_t nf = failed + 1;
            int64_t lock = nf >= cfg.max_fail ? now + cfg.lockout_ms : 0;
            store_param fp[] = {P_INT(nf >= cfg.max_fail ? 0 : nf), P_INT(lock), P_INT(user_id),
                                P_INT(now)};
            store_exec(tx,
                       "UPDATE users SET failed_logins = $1, locked_until = $2, updated_at = $4 "
                       "WHERE id = $3",
                       fp, 4, NULL, NULL);
            left = (int)(cfg.max_fail - nf);
        }
        int crc = store_commit(tx, NULL);
        (void)crc;
        if (user_id && !disabled && left <= 0)
            rc = nx_fail(e, NX_ELOCKED, "", "密码错误次数过多，账号已锁定 %d 分钟",
                         (int)(cfg.lockout_ms / 60000));
        else if (user_id && !disabled && left <= 2)
            rc = nx_fail(e, NX_EAUTH, "", "用户名或密码错误，还可尝试 %d 次", left);
        else if (disabled)
            rc = nx_fail(e, NX_EAUTH, "", "用户名或密码错误");
        else
            rc = nx_fail(e, NX_EAUTH, "", "用户名或密码错误");
        goto done;
    }

    unsigned char th[32];
    token_random(out->token, sizeof out->token);
    token_random(out->csrf, sizeof out->csrf);
    token_hash(out->token, th);
    out->user_id = user_id;
    out->expires_at = now + cfg.lifetime_ms;
    out->must_change_password = must_change != 0;
    char ua[256];
    str_copy(ua, user_agent ? user_agent : "", sizeof ua);
    store_param sp[] = {P_BLOB(th, sizeof th), P_INT(user_id), P_TEXT(out->csrf), P_INT(now),
                        P_INT(out->expires_at), P_TEXT(ip), P_TEXT(ua)};
    store_param rp[] = {P_INT(now), P_INT(user_id)};
    nx_principal who = {.user_id = user_id, .username = username, .ip = ip};
    if ((rc = store_exec(tx,
                         "INSERT INTO sessions (token_hash, user_id, kind, csrf, created_at, last_seen_at, "
                         "expires_at, ip, user_agent) VALUES ($1, $2, 'web', $3, $4, $4, $5, $6, $7)",
                         sp, 7, NULL, e)) ||
        (rc = store_exec(tx,
                         "UPDATE users SET failed_logins = 0, locked_until = 0, last_login_at = $1 "
                         "WHERE id = $2",
                         rp, 2, NULL, e)) ||
        (rc = audit_write(tx, &who, "login", "user", user_id, 0, NULL, e))) {
        store_rollback(tx);
        goto done;
    }
    rc = store_commit(tx, e);
    if (rc == 0)
        nx_log(LOG_INFO, "auth.login user_id=%lld", (long long)user_id);
done:
    free(hash);
    return rc;
}

/* ---- the identity cache ----
 * Authenticating every request against the database costs a read transaction; a direct-mapped
 * cache of recent identities, keyed by token hash, answers most requests from memory. An entry is
 * trusted for at most CACHE_TTL_MS; logout, password changes and account changes in this process
 * drop the affected entries at once, so in a single process nothing stale is ever served, and with
 * several processes on one database a revoked session lives on elsewhere for at most that long. */
#define CACHE_SLOTS 1024
#define CACHE_TTL_MS 2000

typedef struct cached_identity {
    bool used;
    unsigned char key[32];
    int64_t cached_at, last_seen, expires;
    int64_t session_id, user_id, street_id, community_id, grid_id, resident_id;
    int role, scope;
    bool must_change;
    char csrf[64], username[64], display[128];
} cached_identity;

static cached_identity cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const unsigned char key[32])
{
    return ((size_t)key[0] | (size_t)key[1] << 8) % CACHE_SLOTS;
}

static size_t copy_str(char *buf, size_t bufsize, size_t *used, const char *v, const char **out)
{
    size_t n = strlen(v) + 1;
    if (*used + n > bufsize)
        return 0;
    memcpy(buf + *used, v, n);
    *out = buf + *used;
    *used += n;
    return n;
}

/* Fill id from a cached entry still fresh and valid at now; false on a miss. */
static bool cache_lookup(const unsigned char key[32], int64_t now, session_identity *id, char *buf, size_t bufsize)
{
    bool hit = false;
    pthread_mutex_lock(&cache_lock);
    cached_identity *c = &cache[slot_of(key)];
    if (c->used && memcmp(c->key, key, 32) == 0 && now - c->cached_at < CACHE_TTL_MS && c->expires > now &&
        now - c->last_seen < cfg.idle_ms) {
        size_t used = 0;
        memset(id, 0, sizeof *id);
        if (copy_str(buf, bufsize, &used, c->csrf, &id->csrf) && copy_str(buf, bufsize, &used, c->username, &id->who.username) &&
            copy_str(buf, bufsize, &used, c->display, &id->display_name)) {
            id->session_id = c->session_id;
            id->who.user_id = c->user_id;
            id->who.role = c->role;
            id->who.scope = c->scope;
            id->who.street_id = c->street_id;
            id->who.community_id = c->community_id;
            id->who.grid_id = c->grid_id;
            id->who.resident_id = c->resident_id;
            id->must_change_password = c->must_change;
            hit = true;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

static void cache_store(const unsigned char key[32], int64_t now, int64_t last_seen, int64_t expires,
                        const session_identity *id)
{
    pthread_mutex_lock(&cache_lock);
    cached_identity *c = &cache[slot_of(key)];
    memset(c, 0, sizeof *c);
    c->used = true;
    memcpy(c->key, key, 32);
    c->cached_at = now;
    c->last_seen = last_seen;
    c->expires = expires;
    c->session_id = id->session_id;
    c->user_id = id->who.user_id;
    c->street_id = id->who.street_id;
    c->community_id = id->who.community_id;
    c->grid_id = id->who.grid_id;
    c->resident_id = id->who.resident_id;
    c->role = id->who.role;
    c->scope = id->who.scope;
    c->must_change = id->must_change_password;
    str_copy(c->csrf, id->csrf, sizeof c->csrf);
    str_copy(c->username, id->who.username, sizeof c->username);
    str_copy(c->display, id->display_name, sizeof c->display);
    pthread_mutex_unlock(&cache_lock);
}

void session_cache_forget(int64_t user_id, int64_t session_id)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].used && ((user_id && cache[i].user_id == user_id) ||
                              (session_id && cache[i].session_id == session_id)))
            cache[i].used = false;
    pthread_mutex_unlock(&cache_lock);
}

int session_authenticate(store *s, const char *token, session_identity *id, char *buf, size_t bufsize,
                         nx_err *e)
{
    if (token == NULL || strlen(token) < 20 || strlen(token) > 128)
        return nx_fail(e, NX_EAUTH, "", "未登录或登录已过期");
    unsigned char th[32];
    token_hash(token, th);
    int64_t now = clock_now_ms();
    if (cache_lookup(th, now, id, buf, bufsize))
        return 0;
    store_tx *tx;
    int rc = store_begin(s, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    int64_t expires_at = 0;
    store_param p[] = {P_BLOB(th, sizeof th)};
    rc = store_query(tx,
                     "SELECT s.id, s.csrf, s.last_seen_at, s.expires_at, u.id, u.username, u.display_name, "
                     "u.role, u.scope, u.street_id, u.community_id, u.grid_id, u.resident_id, u.disabled, "
                     "u.must_change_password FROM sessions s JOIN users u ON u.id = s.user_id "
                     "WHERE s.token_hash = $1",
                     p, 1, &r, e);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    int64_t last_seen = 0, sid = 0;
    rc = store_first(r, "会话不存在", NULL);
    if (rc == NX_ENOTFOUND)
        rc = NX_EAUTH;
    if (rc == 0) {
        rc = NX_EAUTH;
        last_seen = store_int(r, 2);
        int64_t expires = expires_at = store_int(r, 3);
        if (expires > now && now - last_seen < cfg.idle_ms && !store_int(r, 13)) {
            size_t used = 0;
            const char *src[3] = {store_text(r, 1), store_text(r, 5), store_text(r, 6)};
            const char *dst[3];
            rc = 0;
            for (int i = 0; i < 3; i++) {
                const char *v = src[i] ? src[i] : "";
                size_t n = strlen(v) + 1;
                if (used + n > bufsize) {
                    rc = NX_ETOOBIG;
                    break;
                }
                memcpy(buf + used, v, n);
                dst[i] = buf + used;
                used += n;
            }
            if (rc == 0) {
                sid = store_int(r, 0);
                memset(id, 0, sizeof *id);
                id->session_id = sid;
                id->csrf = dst[0];
                id->who.user_id = store_int(r, 4);
                id->who.username = dst[1];
                id->display_name = dst[2];
                id->who.role = role_parse(store_text(r, 7));
                id->who.scope = scope_parse(store_text(r, 8));
                id->who.street_id = store_int(r, 9);
                id->who.community_id = store_int(r, 10);
                id->who.grid_id = store_int(r, 11);
                id->who.resident_id = store_int(r, 12);
                id->must_change_password = store_int(r, 14) != 0;
            }
        }
    }
    store_rows_free(r);
    store_rollback(tx);
    if (rc && rc != NX_EAUTH && rc != NX_ETOOBIG) /* the read failed: not "logged out" */
        return nx_fail(e, rc, "", "数据库读取失败");
    if (rc)
        return nx_fail(e, NX_EAUTH, "", "未登录或登录已过期");
    cache_store(th, now, now - last_seen > 60000 ? now : last_seen, expires_at, id);
    if (now - last_seen > 60000) {
        store_tx *wt;
        if (store_begin(s, STORE_WRITE, &wt, NULL) == 0) {
            store_param up[] = {P_INT(now), P_INT(sid)};
            if (store_exec(wt, "UPDATE sessions SET last_seen_at = $1 WHERE id = $2", up, 2, NULL, NULL) == 0)
                store_commit(wt, NULL);
            else
                store_rollback(wt);
        }
    }
    return 0;
}

int session_logout(store *s, int64_t session_id, const nx_principal *who, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(s, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(session_id)};
    session_cache_forget(0, session_id);
    if ((rc = store_exec(tx, "DELETE FROM sessions WHERE id = $1", p, 1, NULL, e)) ||
        (rc = audit_write(tx, who, "logout", "user", who->user_id, 0, NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

int session_change_password(store *s, const nx_principal *who, int64_t keep_session_id,
                            const char *old_pw, const char *new_pw, nx_err *e)
{
    char *hash = NULL;
    int rc;
    store_tx *tx;
    if ((rc = store_begin(s, STORE_READ, &tx, e)))
        return rc;
    store_param p[] = {P_INT(who->user_id)};
    rc = store_one_text(tx, "SELECT password_hash FROM users WHERE id = $1", p, 1, &hash, e);
    store_rollback(tx);
    if (rc)
        return rc;
    int v = password_verify(hash, old_pw);
    free(hash);
    if (v == NX_EBUSY)
        return nx_fail(e, NX_EBUSY, "", "系统繁忙，请稍后重试");
    if (v != 0)
        return nx_fail(e, NX_EINVAL, "old_password", "原密码不正确");
    if (strcmp(old_pw, new_pw) == 0)
        return nx_fail(e, NX_EINVAL, "new_password", "新密码不能与原密码相同");
    if ((rc = password_policy_check(new_pw, who->username, e))) {
        str_copy(e->field, "new_password", sizeof e->field);
        return rc;
    }
    char nh[128];
    if ((rc = password_hash(new_pw, nh, e)))
        return rc;
    if ((rc = store_begin(s, STORE_WRITE, &tx, e)))
        return rc;
    int64_t now = clock_now_ms();
    store_param up[] = {P_TEXT(nh), P_INT(now), P_INT(who->user_id)};
    store_param dp[] = {P_INT(who->user_id), P_INT(keep_session_id)};
    if ((rc = store_exec(tx,
                         "UPDATE users SET password_hash = $1, must_change_password = 0, updated_at = $2 "
                         "WHERE id = $3",
                         up, 3, NULL, e)) ||
        (rc = store_exec(tx, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2", dp, 2, NULL, e)) ||
        (rc = audit_write(tx, who, "password_change", "user", who->user_id, 0, NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    rc = store_commit(tx, e);
    session_cache_forget(who->user_id, 0);
    return rc;
}
