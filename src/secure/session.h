/* session.h — logging in and out, sessions and tokens, and user accounts.
 *
 * A successful login creates one session row holding the SHA-less BLAKE2b hash of a random token
 * (the token itself is never stored). The token works two ways: as `Authorization: Bearer <token>`
 * for integrations, and as the HttpOnly SameSite=Strict cookie `nx_session` for the web app, where
 * every unsafe request must also carry the session's CSRF token in `X-CSRF-Token`.
 *
 * Throttling (docs/security.md §3): failed logins count per typed user name and client address, per
 * typed user name from any address (except addresses this account has logged in from before), and
 * per address across all names; each counter allows a few free failures and then short locks that
 * double, each capped. Counters are keyed by the typed name, whether or not such an account exists,
 * so neither the answer nor the throttle tells which names exist. Password hashes run on the bounded
 * pool of password.h outside any database transaction. */
#ifndef NX_SECURE_SESSION_H
#define NX_SECURE_SESSION_H

#include <jansson.h>
#include <stdbool.h>

#include "secure/crypto.h"
#include "secure/perm.h"
#include "store/store.h"

typedef struct session_settings {
    int64_t idle_ms;      /* web session idle timeout */
    int64_t lifetime_ms;  /* absolute lifetime of any session */
    int max_fail;         /* failures of one name from one address before it is slowed (also the
                             attempts at the current password in /me/password) */
    int64_t lockout_ms;   /* the longest lock of one name from one address or of one address */
    int ip_max_fail;      /* failures of one address (all names) before the address is slowed */
    int64_t ip_window_ms; /* an address's failures are forgotten after this long without one */
    const nx_keys *keys;  /* keys the typed names in the throttle table (blind_index); borrowed,
                             outlives the sessions; NULL hashes them unkeyed (tests) */
} session_settings;

/* Set the settings (copied; keys borrowed). Call before serving, from one thread. */
void session_configure(const session_settings *s);

typedef struct session_login_result {
    char token[64];
    char csrf[64];
    int64_t user_id;
    int64_t expires_at;
    bool must_change_password;
    int retry_after_s; /* on NX_ELOCKED: whole seconds until the lock ends (at least 1) */
} session_login_result;

/* Check a username and password. NX_EAUTH for every refusal of the credentials (unknown name, wrong
 * password, disabled account: one message), NX_ELOCKED when the name from this address, the name,
 * or the address is slowed (out->retry_after_s says for how long; e says it in minutes), NX_EBUSY
 * (hash pool full). Audits success and failure; a failure with a name that is no account is audited
 * without the name (what was typed may have been a password). */
int session_login(store *s, const char *username, const char *password, const char *ip,
                  const char *user_agent, session_login_result *out, nx_err *e);

/* The identity behind a token. Fills p (strings point into buf of bufsize bytes) and *csrf (into
 * buf too). NX_EAUTH when unknown, expired or the account is disabled. */
typedef struct session_identity {
    nx_principal who;
    int64_t session_id;
    const char *display_name;
    const char *csrf;
    bool must_change_password;
} session_identity;
int session_authenticate(store *s, const char *token, session_identity *id, char *buf, size_t bufsize,
                         nx_err *e);

int session_logout(store *s, int64_t session_id, const nx_principal *who, nx_err *e);

/* Drop cached identities of a user (user_id) or of one session (session_id); 0 = not by that. Called
 * after every change that ends sessions or changes what an account may do; then calls the revoke
 * listener (session_on_revoke) with the same arguments. */
void session_cache_forget(int64_t user_id, int64_t session_id);

/* The one listener told of every session_cache_forget (after the cache is updated, with no lock
 * held): the HTTP layer ends the event streams of those sessions. fn NULL removes it. Set before
 * serving; fn must not block. */
typedef void (*session_revoke_fn)(int64_t user_id, int64_t session_id, void *ctx);
void session_on_revoke(session_revoke_fn fn, void *ctx);

/* Whether session_id still exists, is unexpired and belongs to an enabled account: 0 yes,
 * NX_EAUTH no, or the read's error (NX_EBUSY, NX_EDB …), which a caller must not take for "no".
 * One indexed read. */
int session_alive(store *s, int64_t session_id, nx_err *e);

/* Change one's own password: checks the old one and the policy; ends other sessions. A wrong old
 * password counts against the account like a failed login (max_fail free attempts, then locks that
 * double): NX_ELOCKED with *retry_after_s set (may be NULL) while slowed. */
int session_change_password(store *s, const nx_principal *who, int64_t keep_session_id,
                            const char *old_pw, const char *new_pw, int *retry_after_s, nx_err *e);

/* Forget the login throttle of a typed user name (its counters from every address), in tx: an
 * administrator's password reset lets the user in at once. */
int session_throttle_clear(store_tx *tx, const char *username, nx_err *e);

/* ---- accounts (users.c) ---- */
typedef struct user_input {
    const char *username, *display_name, *password;
    int role, scope;                 /* scope 0 = the role's default */
    int64_t street_id, community_id, grid_id, resident_id;
    int disabled;                    /* -1 = unchanged */
    bool must_change_password;
} user_input;

/* Validate and create; *id receives the new id. The password must pass the policy. Audited when
 * who is not NULL (the CLI passes NULL and writes its own audit row). */
int users_create(store *s, const nx_principal *who, const user_input *in, int64_t *id, nx_err *e);
/* Set a new password (admin reset or `nuanxin user passwd`); ends the user's sessions. */
int users_set_password(store *s, const nx_principal *who, const char *username, const char *pw,
                       bool must_change, nx_err *e);
int users_set_disabled(store *s, const nx_principal *who, const char *username, bool disabled, nx_err *e);
/* Update role, scope, names, disabled (fields of in that are set). */
int users_update(store *s, const nx_principal *who, int64_t id, const user_input *in, nx_err *e);
/* One page of accounts for an account administrator (others: NX_EPERM), by id: limit rows (capped
 * by max, the configured page_max), those with id > after, username or display name containing q
 * (NULL: all). *out: {"items", "total", "next_cursor"} (store/page.h). */
typedef struct users_filter {
    int limit, max;
    int64_t after;
    const char *q;
} users_filter;
int users_list(store *s, const nx_principal *who, const users_filter *f, json_t **out, nx_err *e);
int users_get(store *s, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
json_t *users_row_json(store_rows *r); /* for the SELECT in users.c */

/* A user's own preferences (a JSON object, new reference) and their update: only the known keys
 * elder_mode (bool) and language ("zh-CN" or "en") are accepted. */
int users_get_preferences(store *s, int64_t user_id, json_t **out, nx_err *e);
int users_set_preferences(store *s, const nx_principal *who, json_t *prefs, nx_err *e);

#endif
