/* session.c — login, token authentication, logout and password change.
 *
 * The flow of a login: (1) read, in one read transaction, the account and the throttle counters
 * that apply (this typed name from this address, this name from anywhere, this address for any
 * name) and refuse at once while one of them holds a lock; (2) verify the password on the bounded
 * hash pool with no transaction open, burning the same time for unknown accounts so timing does not
 * tell which names exist; (3) in one write transaction, record the outcome: count the failure in
 * each counter (a counter over its free failures locks for a short time that doubles with each
 * further failure, up to a cap) or, on success, forget this name's counters and remember the
 * address as one this account logs in from; create the session; write the audit row.
 *
 * The counters live in login_throttle, keyed by a keyed hash of the typed name (never the name
 * itself: it is sometimes a password typed into the wrong field) whether or not such an account
 * exists, so an unknown name is slowed exactly like a real one and a lock tells nothing. The
 * name-wide counter does not slow an address that has logged in to the account before, nor an
 * address's first try at the name: a stranger can slow guessing at an account but cannot keep its
 * owner out. Rows unused for a day are purged (at most once a minute, by a failing login).
 *
 * Authentication of a request is a single indexed read; the session's last_seen_at is bumped at
 * most once a minute so reads stay reads. */
#include "secure/session.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "secure/password.h"

#include <pthread.h>
#include <stdatomic.h>
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

/* ---- the throttle ---- */

#define THROTTLE_FIRST_MS  30000LL                  /* the first lock of any counter */
#define THROTTLE_FORGET_MS (24LL * 3600 * 1000)     /* a name's counters are forgotten after a quiet day */
#define NAME_LOCK_CAP_MS   (5LL * 60 * 1000)        /* the name-wide lock never exceeds this */
#define KNOWN_KEEP_MS      (30LL * 24 * 3600 * 1000) /* an address is "known" for 30 days after a login */

typedef struct throttle_rule {
    int free;          /* failures without a lock */
    int64_t cap_ms;    /* the longest lock */
    int64_t forget_ms; /* quiet time (after the last failure and the end of the lock) that resets */
} throttle_rule;

typedef struct throttle_state {
    int64_t failures, until;
} throttle_state;

/* The keys of one login attempt in login_throttle. */
typedef struct throttle_keys {
    char pair[160], name[48], addr[80], known[160];
} throttle_keys;

static void throttle_keys_make(const char *username, const char *ip, throttle_keys *k)
{
    unsigned char h[NX_TOKEN_HASH_BYTES > NX_BIDX_BYTES ? NX_TOKEN_HASH_BYTES : NX_BIDX_BYTES];
    if (cfg.keys) {
        blind_index(cfg.keys, "login.name", username, h);
    } else {
        char buf[200];
        snprintf(buf, sizeof buf, "login.name:%s", username ? username : "");
        token_hash(buf, h);
    }
    char tag[2 * NX_BIDX_BYTES + 1];
    for (int i = 0; i < NX_BIDX_BYTES; i++)
        snprintf(tag + 2 * i, 3, "%02x", h[i]);
    const char *a = ip && *ip ? ip : "?";
    snprintf(k->pair, sizeof k->pair, "pair:%s:%s", tag, a);
    snprintf(k->name, sizeof k->name, "name:%s", tag);
    snprintf(k->addr, sizeof k->addr, "addr:%s", a);
    snprintf(k->known, sizeof k->known, "known:%s:%s", tag, a);
}

static const throttle_rule *rule_pair(void)
{
    static throttle_rule r;
    r = (throttle_rule){cfg.max_fail, cfg.lockout_ms, THROTTLE_FORGET_MS};
    return &r;
}

static int64_t lock_ms(const throttle_rule *ru, int64_t failures)
{
    if (failures < ru->free)
        return 0;
    int64_t shift = failures - ru->free, ms = THROTTLE_FIRST_MS;
    while (shift-- > 0 && ms < ru->cap_ms)
        ms *= 2;
    return ms < ru->cap_ms ? ms : ru->cap_ms;
}

/* The counter at key as of now (a forgotten one reads as zero). */
static int throttle_get(store_tx *tx, const char *key, const throttle_rule *ru, int64_t now, throttle_state *st,
                        nx_err *e)
{
    memset(st, 0, sizeof *st);
    store_rows *r;
    store_param p[] = {P_TEXT(key)};
    int rc = store_query(tx, "SELECT failures, window_start, locked_until FROM login_throttle WHERE key = $1", p,
                         1, &r, e);
    if (rc)
        return rc;
    rc = store_first(r, "", e);
    if (rc == 0) {
        int64_t last = store_int(r, 1), until = store_int(r, 2);
        if ((last > until ? last : until) + ru->forget_ms >= now) {
            st->failures = store_int(r, 0);
            st->until = until;
        }
    }
    store_rows_free(r);
    if (rc == NX_ENOTFOUND) {
        nx_err_clear(e);
        rc = 0;
    }
    return rc;
}

/* Count one failure at key; st receives the counter after it (until: the lock it now holds). The
 * upsert takes the row's lock, so concurrent failures on PostgreSQL count one after the other. */
static int throttle_fail(store_tx *tx, const char *key, const throttle_rule *ru, int64_t now, throttle_state *st,
                         nx_err *e)
{
    store_param p[] = {P_TEXT(key), P_INT(now), P_INT(now - ru->forget_ms)};
    int rc = store_exec(tx,
                        "INSERT INTO login_throttle (key, failures, window_start, locked_until) "
                        "VALUES ($1, 1, $2, 0) ON CONFLICT (key) DO UPDATE SET "
                        "failures = CASE WHEN login_throttle.window_start < $3 AND login_throttle.locked_until < $3 "
                        "THEN 1 ELSE login_throttle.failures + 1 END, window_start = $2",
                        p, 3, NULL, e);
    if (rc == 0)
        rc = throttle_get(tx, key, ru, now, st, e);
    if (rc)
        return rc;
    int64_t ms = lock_ms(ru, st->failures);
    if (ms > 0) {
        st->until = now + ms;
        store_param u[] = {P_TEXT(key), P_INT(st->until)};
        rc = store_exec(tx, "UPDATE login_throttle SET locked_until = $2 WHERE key = $1", u, 2, NULL, e);
    }
    return rc;
}

static int throttle_forget(store_tx *tx, const char *key, nx_err *e)
{
    store_param p[] = {P_TEXT(key)};
    return store_exec(tx, "DELETE FROM login_throttle WHERE key = $1", p, 1, NULL, e);
}

/* Drop rows nobody needs any more, at most once a minute per process. */
static void throttle_purge(store_tx *tx, int64_t now)
{
    static _Atomic int64_t last;
    int64_t prev = atomic_load(&last);
    if (now - prev < 60000 || !atomic_compare_exchange_strong(&last, &prev, now))
        return;
    int64_t quiet = THROTTLE_FORGET_MS > cfg.ip_window_ms ? THROTTLE_FORGET_MS : cfg.ip_window_ms;
    store_param p[] = {P_INT(now - quiet), P_INT(now - KNOWN_KEEP_MS)};
    store_exec(tx,
               "DELETE FROM login_throttle WHERE (key NOT LIKE 'known:%' AND window_start < $1 AND "
               "locked_until < $1) OR (key LIKE 'known:%' AND window_start < $2)",
               p, 2, NULL, NULL);
}

int session_throttle_clear(store_tx *tx, const char *username, nx_err *e)
{
    throttle_keys k;
    throttle_keys_make(username, "", &k);
    /* k.pair is "pair:<tag>:?"; every address of the name shares "pair:<tag>:" */
    char like[160];
    size_t n = strlen(k.pair) - 1;
    snprintf(like, sizeof like, "%.*s%%", (int)n, k.pair);
    store_param p[] = {P_TEXT(k.name), P_TEXT(like)};
    return store_exec(tx, "DELETE FROM login_throttle WHERE key = $1 OR key LIKE $2", p, 2, NULL, e);
}

/* The refusal while slowed: the same words for every name, the wait in whole minutes (the exact
 * seconds go into Retry-After). */
static int fail_locked(nx_err *e, int64_t until, int64_t now, int *retry_after_s)
{
    int64_t ms = until - now;
    int secs = (int)((ms + 999) / 1000);
    if (secs < 1)
        secs = 1;
    if (retry_after_s)
        *retry_after_s = secs;
    return nx_fail(e, NX_ELOCKED, "", "尝试次数过多，请 %d 分钟后再试", (secs + 59) / 60);
}

/* The lock that applies to this attempt: the pair's and the address's always, the name's unless
 * the address is known for the account or has not failed at this name yet. */
static int64_t applies(const throttle_state *pair, const throttle_state *name, const throttle_state *addr,
                       bool known)
{
    int64_t until = pair->until > addr->until ? pair->until : addr->until;
    if (!known && pair->failures > 0 && name->until > until)
        until = name->until;
    return until;
}

int session_login(store *s, const char *username, const char *password, const char *ip,
                  const char *user_agent, session_login_result *out, nx_err *e)
{
    memset(out, 0, sizeof *out);
    int64_t now = clock_now_ms();
    int64_t user_id = 0, disabled = 0, must_change = 0, known_at = 0;
    char *hash = NULL;
    int rc;
    throttle_keys k;
    throttle_keys_make(username, ip, &k);
    const throttle_rule rp = *rule_pair(),
                        rn = {cfg.max_fail * 4, cfg.lockout_ms < NAME_LOCK_CAP_MS ? cfg.lockout_ms : NAME_LOCK_CAP_MS,
                              THROTTLE_FORGET_MS},
                        ra = {cfg.ip_max_fail, cfg.lockout_ms, cfg.ip_window_ms};
    throttle_state pair, name, addr;

    store_tx *tx;
    if ((rc = store_begin(s, STORE_READ, &tx, e)))
        return rc;
    store_param kp[] = {P_TEXT(k.known)};
    if ((rc = throttle_get(tx, k.pair, &rp, now, &pair, e)) || (rc = throttle_get(tx, k.name, &rn, now, &name, e)) ||
        (rc = throttle_get(tx, k.addr, &ra, now, &addr, e)) ||
        ((rc = store_one_int(tx, "SELECT window_start FROM login_throttle WHERE key = $1", kp, 1, &known_at, e)) &&
         rc != NX_ENOTFOUND)) {
        store_rollback(tx);
        return nx_fail(e, rc, "", "读取登录限制失败");
    }
    nx_err_clear(e);
    bool known = known_at + KNOWN_KEEP_MS >= now && known_at > 0;
    store_rows *r;
    store_param up[] = {P_TEXT(username)};
    rc = store_query(tx,
                     "SELECT id, password_hash, disabled, must_change_password FROM users WHERE username = $1",
                     up, 1, &r, e);
    int found = rc ? rc : store_first(r, "用户不存在", e);
    if (found == 0) {
        user_id = store_int(r, 0);
        hash = strdup(store_text(r, 1));
        disabled = store_int(r, 2);
        must_change = store_int(r, 3);
    }
    if (rc == 0)
        store_rows_free(r);
    store_rollback(tx);
    if (found && found != NX_ENOTFOUND) { /* the read failed: not "no such user" */
        rc = found;
        goto done;
    }
    nx_err_clear(e);

    int64_t until = applies(&pair, &name, &addr, known);
    if (until > now) {
        rc = fail_locked(e, until, now, &out->retry_after_s);
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
        nx_err we = {0};
        /* An unknown name is recorded as such, never as the text typed. */
        nx_principal anon = {.username = user_id ? username : NULL, .ip = ip};
        json_t *d = json_pack("{s:s}", "reason", !user_id ? "unknown_user" : disabled ? "disabled" : "bad_password");
        if ((rc = throttle_fail(tx, k.pair, &rp, now, &pair, &we)) ||
            (rc = throttle_fail(tx, k.name, &rn, now, &name, &we)) ||
            (rc = throttle_fail(tx, k.addr, &ra, now, &addr, &we)) ||
            (rc = audit_write_new(tx, &anon, "login_failed", "user", user_id, 0, d, &we))) {
            store_rollback(tx);
            rc = nx_fail(e, rc, "", "记录登录失败时出错，请稍后重试");
            goto done;
        }
        if (user_id) {
            store_param fp[] = {P_INT(name.failures), P_INT(name.until), P_INT(user_id)};
            store_exec(tx, "UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3", fp, 3, NULL,
                       NULL);
        }
        throttle_purge(tx, now);
        if ((rc = store_commit(tx, &we))) {
            rc = nx_fail(e, rc, "", "记录登录失败时出错，请稍后重试");
            goto done;
        }
        until = applies(&pair, &name, &addr, known);
        if (until > now)
            rc = fail_locked(e, until, now, &out->retry_after_s);
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
    store_param rpar[] = {P_INT(now), P_INT(user_id)};
    store_param knp[] = {P_TEXT(k.known), P_INT(now)};
    nx_principal who = {.user_id = user_id, .username = username, .ip = ip};
    if ((rc = store_exec(tx,
                         "INSERT INTO sessions (token_hash, user_id, kind, csrf, created_at, last_seen_at, "
                         "expires_at, ip, user_agent) VALUES ($1, $2, 'web', $3, $4, $4, $5, $6, $7)",
                         sp, 7, NULL, e)) ||
        (rc = store_exec(tx,
                         "UPDATE users SET failed_logins = 0, locked_until = 0, last_login_at = $1 "
                         "WHERE id = $2",
                         rpar, 2, NULL, e)) ||
        (rc = throttle_forget(tx, k.pair, e)) || (rc = throttle_forget(tx, k.name, e)) ||
        (rc = store_exec(tx,
                         "INSERT INTO login_throttle (key, failures, window_start, locked_until) "
                         "VALUES ($1, 0, $2, 0) ON CONFLICT (key) DO UPDATE SET window_start = $2",
                         knp, 2, NULL, e)) ||
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

static _Atomic(session_revoke_fn) revoke_fn;
static void *_Atomic revoke_ctx;

void session_on_revoke(session_revoke_fn fn, void *ctx)
{
    atomic_store(&revoke_ctx, ctx);
    atomic_store(&revoke_fn, fn);
}

void session_cache_forget(int64_t user_id, int64_t session_id)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].used && ((user_id && cache[i].user_id == user_id) ||
                              (session_id && cache[i].session_id == session_id)))
            cache[i].used = false;
    pthread_mutex_unlock(&cache_lock);
    session_revoke_fn fn = atomic_load(&revoke_fn);
    if (fn)
        fn(user_id, session_id, atomic_load(&revoke_ctx));
}

int session_alive(store *s, int64_t session_id, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(s, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t n = 0, now = clock_now_ms();
    store_param p[] = {P_INT(session_id), P_INT(now), P_INT(now - cfg.idle_ms)};
    rc = store_one_int(tx,
                       "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 "
                       "AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.disabled = 0",
                       p, 3, &n, e);
    store_rollback(tx);
    if (rc)
        return rc;
    return n ? 0 : nx_fail(e, NX_EAUTH, "", "未登录或登录已过期");
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
    rc = store_commit(tx, e);
    session_cache_forget(0, session_id); /* again: a request between the first and the commit cached it */
    return rc;
}

int session_change_password(store *s, const nx_principal *who, int64_t keep_session_id,
                            const char *old_pw, const char *new_pw, int *retry_after_s, nx_err *e)
{
    char *hash = NULL;
    int rc;
    store_tx *tx;
    char key[48];
    snprintf(key, sizeof key, "pw:%lld", (long long)who->user_id);
    const throttle_rule *ru = rule_pair();
    throttle_state st;
    int64_t now = clock_now_ms();
    if ((rc = store_begin(s, STORE_READ, &tx, e)))
        return rc;
    store_param p[] = {P_INT(who->user_id)};
    if ((rc = throttle_get(tx, key, ru, now, &st, e)) == 0)
        rc = store_one_text(tx, "SELECT password_hash FROM users WHERE id = $1", p, 1, &hash, e);
    store_rollback(tx);
    if (rc)
        return rc;
    if (st.until > now) {
        free(hash);
        return fail_locked(e, st.until, now, retry_after_s);
    }
    int v = password_verify(hash, old_pw);
    free(hash);
    if (v == NX_EBUSY)
        return nx_fail(e, NX_EBUSY, "", "系统繁忙，请稍后重试");
    if (v != 0) {
        /* A wrong current password is a guess at it: counted, and slowed like a login. */
        if ((rc = store_begin(s, STORE_WRITE, &tx, e)))
            return rc;
        if ((rc = throttle_fail(tx, key, ru, now, &st, e)) ||
            (rc = audit_write_new(tx, who, "password_change", "user", who->user_id, 0,
                                  json_pack("{s:s}", "result", "bad_old_password"), e))) {
            store_rollback(tx);
            return rc;
        }
        if ((rc = store_commit(tx, e)))
            return rc;
        if (st.until > now)
            return fail_locked(e, st.until, now, retry_after_s);
        return nx_fail(e, NX_EINVAL, "old_password", "原密码不正确");
    }
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
    now = clock_now_ms();
    store_param up[] = {P_TEXT(nh), P_INT(now), P_INT(who->user_id)};
    store_param dp[] = {P_INT(who->user_id), P_INT(keep_session_id)};
    if ((rc = store_exec(tx,
                         "UPDATE users SET password_hash = $1, must_change_password = 0, updated_at = $2 "
                         "WHERE id = $3",
                         up, 3, NULL, e)) ||
        (rc = store_exec(tx, "DELETE FROM sessions WHERE user_id = $1 AND id <> $2", dp, 2, NULL, e)) ||
        (rc = throttle_forget(tx, key, e)) ||
        (rc = audit_write(tx, who, "password_change", "user", who->user_id, 0, NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    rc = store_commit(tx, e);
    session_cache_forget(who->user_id, 0);
    return rc;
}
