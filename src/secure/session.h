/* session.h — logging in and out, sessions and tokens, and user accounts.
 *
 * A successful login creates one session row holding the SHA-less BLAKE2b hash of a random token
 * (the token itself is never stored). The token works two ways: as `Authorization: Bearer <token>`
 * for integrations, and as the HttpOnly SameSite=Strict cookie `nx_session` for the web app, where
 * every unsafe request must also carry the session's CSRF token in `X-CSRF-Token`.
 *
 * Throttling: failed logins count per account (lockout after login_max_fail for lockout_min) and
 * per client address (a sliding window, so guessing across many accounts is slowed too). Password
 * hashes run on the bounded pool of password.h outside any database transaction. */
#ifndef NX_SECURE_SESSION_H
#define NX_SECURE_SESSION_H

#include <jansson.h>
#include <stdbool.h>

#include "secure/perm.h"
#include "store/store.h"

typedef struct session_settings {
    int64_t idle_ms;      /* web session idle timeout */
    int64_t lifetime_ms;  /* absolute lifetime of any session */
    int max_fail;         /* per-account failures before lockout */
    int64_t lockout_ms;
    int ip_max_fail;      /* per-address failures in ip_window_ms before the address is slowed */
    int64_t ip_window_ms;
} session_settings;

void session_configure(const session_settings *s);

typedef struct session_login_result {
    char token[64];
    char csrf[64];
    int64_t user_id;
    int64_t expires_at;
    bool must_change_password;
} session_login_result;

/* Check a username and password. NX_EAUTH (wrong), NX_ELOCKED (account or address locked; e says
 * for how long), NX_EBUSY (hash pool full). Audits success and failure. */
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
 * after every change that ends sessions or changes what an account may do. */
void session_cache_forget(int64_t user_id, int64_t session_id);

/* Change one's own password: checks the old one and the policy; ends other sessions. */
int session_change_password(store *s, const nx_principal *who, int64_t keep_session_id,
                            const char *old_pw, const char *new_pw, nx_err *e);

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
