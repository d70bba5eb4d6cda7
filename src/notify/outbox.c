/* outbox.c — writing domain events (see outbox.h for the table and the contract).
 *
 * outbox_emit validates what it is given (kinds are identifiers chosen by code, but subjects and
 * payloads may carry text from people), INSERTs the row with the caller's transaction and marks that
 * transaction with store_tx_notify, so store_commit runs the dispatchers' commit hooks after a
 * successful commit. On PostgreSQL it also takes the events advisory lock (ids visible in id order)
 * and sends a NOTIFY on OUTBOX_CHANNEL so that the dispatchers of other processes wake too. No state
 * of its own; thread-safe as far as the caller's transaction is. outbox_emit_new is the modules' door:
 * the payload as a jansson object, serialised compactly here, and the usual "<type>:<id>" subject. */
#include "notify/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/str.h"
#include "notify/dispatcher.h"

#define OUTBOX_LOCK_KEY 0x6e78006576656e74LL /* "nx\0event" */

static bool kind_valid(const char *k, size_t n)
{
    if (n == 0 || n > OUTBOX_KIND_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int outbox_emit(store_tx *tx, const char *kind, int64_t community_id, const char *subject,
                const char *payload_json, nx_err *e)
{
    if (kind == NULL || !kind_valid(kind, strlen(kind)))
        return nx_fail(e, NX_EINVAL, "kind", "事件类型无效");
    if (community_id < 0)
        return nx_fail(e, NX_EINVAL, "community_id", "社区编号无效");
    if (subject) {
        size_t n = strlen(subject);
        if (n > OUTBOX_SUBJECT_MAX)
            return nx_fail(e, NX_ETOOBIG, "subject", "事件主题过长");
        if (!str_utf8_valid(subject, n))
            return nx_fail(e, NX_EINVAL, "subject", "事件主题不是有效的 UTF-8 文本");
    }
    const char *payload = payload_json ? payload_json : "{}";
    size_t n = strlen(payload);
    if (n > OUTBOX_PAYLOAD_MAX)
        return nx_fail(e, NX_ETOOBIG, "payload", "事件内容过大");
    if (!str_utf8_valid(payload, n))
        return nx_fail(e, NX_EINVAL, "payload", "事件内容不是有效的 UTF-8 文本");
    size_t a = strspn(payload, " \t\r\n"), b = n;
    while (b > a && strchr(" \t\r\n", payload[b - 1]))
        b--;
    if (b - a < 2 || payload[a] != '{' || payload[b - 1] != '}')
        return nx_fail(e, NX_EINVAL, "payload", "事件内容必须是 JSON 对象");
    /* PostgreSQL: event ids must become visible in id order (dispatcher.c relies on it), and other
     * processes' dispatchers must hear of the event. The transaction-level advisory lock makes every
     * event-writing transaction take its id and commit before the next one takes its id (held from
     * here to commit or rollback: emit events late in a transaction); NOTIFY goes out on commit. */
    bool pg = strcmp(store_backend(store_tx_store(tx)), "postgres") == 0;
    int rc;
    if (pg && (rc = store_exec(tx, "SELECT pg_advisory_xact_lock($1)", (store_param[]){P_INT(OUTBOX_LOCK_KEY)}, 1,
                               NULL, e)) != 0)
        return rc;
    rc = store_exec(tx,
                        "INSERT INTO events (at, community_id, kind, subject, payload)"
                        " VALUES ($1, $2, $3, $4, $5)",
                        (store_param[]){P_INT(clock_now_ms()), P_ID(community_id), P_TEXT(kind),
                                        P_TEXT(subject), P_TEXT(payload)},
                        5, NULL, e);
    if (rc)
        return rc;
    store_tx_notify(tx);
    if (pg)
        return store_notify(tx, OUTBOX_CHANNEL, e);
    return 0;
}

int outbox_emit_new(store_tx *tx, const char *kind, int64_t community_id, const char *subject_type,
                    int64_t subject_id, json_t *payload, nx_err *e)
{
    if (payload == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    if (!json_is_object(payload)) {
        json_decref(payload);
        return nx_fail(e, NX_EINVAL, "payload", "事件内容必须是 JSON 对象");
    }
    char *text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    if (text == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    char subject[OUTBOX_SUBJECT_MAX + 1];
    if (subject_type)
        snprintf(subject, sizeof subject, "%s:%lld", subject_type, (long long)subject_id);
    int rc = outbox_emit(tx, kind, community_id, subject_type ? subject : NULL, text, e);
    free(text);
    return rc;
}

void outbox_notify(void)
{
    dispatcher_wake_all();
}
