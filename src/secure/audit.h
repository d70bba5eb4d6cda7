/* audit.h — the audit log: who did what, when, from where, to which record.
 *
 * Every login, change and reveal of personal data writes one row, inside the same transaction as
 * the change (a change that rolls back leaves no audit row; a reveal whose audit row cannot be
 * written is not shown). detail is a JSON object and must never contain personal data values —
 * name the fields that were changed or revealed, not their contents. */
#ifndef NX_SECURE_AUDIT_H
#define NX_SECURE_AUDIT_H

#include <jansson.h>

#include "secure/perm.h"
#include "store/store.h"

/* who may be NULL (system actions, failed logins: pass username in detail). detail (may be NULL)
 * is borrowed. */
int audit_write(store_tx *tx, const nx_principal *who, const char *action, const char *object_type,
                int64_t object_id, int64_t community_id, json_t *detail, nx_err *e);

/* audit_write that takes ownership of detail: the entry is written as by audit_write, and detail
 * (NULL accepted, written as {}) is released whether or not the write succeeded. Made for the tail
 * of a change, where the detail is built in the call itself:
 *     if ((rc = audit_write_new(tx, who, "update", "device", id, community,
 *                               json_pack("{s:s}", "change", action), e)))
 *         goto fail;
 * A detail that json_pack could not build (NULL) writes {} rather than failing the change, as
 * audit_write does with a NULL detail. */
int audit_write_new(store_tx *tx, const nx_principal *who, const char *action, const char *object_type,
                    int64_t object_id, int64_t community_id, json_t *detail, nx_err *e);

/* Same, for an actor known only by name (a failed login). */
int audit_write_anon(store_tx *tx, const char *username, const char *ip, const char *action,
                     json_t *detail, nx_err *e);

typedef struct audit_filter {
    int64_t user_id;        /* 0 = any */
    const char *username;   /* NULL = any; exact account name */
    const char *action;     /* NULL = any */
    const char *object_type;
    int64_t object_id;
    int64_t from_ms, to_ms; /* 0 = open */
    int64_t before_id;      /* cursor: rows with id < before_id; 0 = newest */
    int limit;
} audit_filter;

/* One page of entries in who's scope, newest first: *out is {"items", "next_cursor", "total"}
 * (store/page.h; "total", the number of entries matching the filter, on the first page only), at
 * most max (the configured page_max) entries. Each entry carries action_label and object_label in
 * Chinese, user_name (the account's display name, else the user name stored with the entry) and
 * detail_text (the detail in Chinese words: "修改内容：责任人、办理期限"). */
int audit_list(store *s, const nx_principal *who, const audit_filter *f, int max, json_t **out, nx_err *e);

/* Chinese names of audit actions and object types ("reveal" → "查看敏感信息"); the code itself when
 * unknown. */
const char *audit_action_label(const char *action);
const char *audit_object_label(const char *object_type);
/* The detail object in Chinese words, keys and code values by their labels, "；" between entries;
 * the caller frees the string (NULL when out of memory). */
char *audit_detail_text(json_t *detail);

#endif
