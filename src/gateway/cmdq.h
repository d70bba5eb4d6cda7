/* cmdq.h — the gateway's command sender: a thread that finds queued device commands in the store and
 * hands them to the loop that holds the devices' connections (devices.h, "commands").
 *
 * Every poll_ms the thread reads the queued, unexpired commands of devices marked online (oldest
 * first), builds each into a protocol-neutral wire_cmd, claims it in the store (state "sent", with the
 * keyword or IW type and the serial the device will echo) and posts it to the loop with post(). The
 * loop answers with cmdq_result: sent (the bytes went to the device's connection), not here (no
 * connection for that device in this process: the claim is undone and the command tried again at the
 * next poll — another process may hold the connection), or failed (the codec refused it for this
 * device's manufacturer code). A command is posted once at a time (an in-flight set
 * until the loop answers). The loop never touches the store; the thread never touches a socket. */
#ifndef NX_GATEWAY_CMDQ_H
#define NX_GATEWAY_CMDQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "secure/crypto.h"
#include "store/store.h"
#include "wire/codec.h"

/* One command for the loop. cmd's strings borrow from args, which the request owns. */
typedef struct cmdq cmdq;

typedef struct cmdq_req {
    struct cmdq_req *next;
    cmdq *q;         /* the sender that posted it: answer with cmdq_result(req->q, …) */
    int64_t id;
    int proto;
    char imei[24];
    uint32_t serial; /* IW serial: the command id modulo 1 000 000 */
    wire_cmd cmd;
    json_t *args;
} cmdq_req;

enum cmdq_outcome { CMDQ_SENT = 1, CMDQ_NOT_HERE = 0, CMDQ_FAILED = -1 };

typedef void (*cmdq_post_fn)(void *ctx, cmdq_req *req); /* the loop now owns req: cmdq_req_free it */
/* Whether this input can reach the device now (a connection, a recent message); called on the
 * command thread, so it must be thread-safe. Commands of devices it cannot reach are not claimed. */
typedef bool (*cmdq_holds_fn)(void *ctx, int proto, const char *imei);

/* Start the thread (poll_ms 0 = 500). keys decrypt the commands' phone numbers; holds (may be NULL =
 * try every online device) keeps other processes' and other inputs' devices from being claimed. */
int cmdq_start(store *s, const nx_keys *keys, int poll_ms, cmdq_post_fn post, cmdq_holds_fn holds, void *ctx,
               cmdq **out, nx_err *e);
/* The loop's answer for a posted command; why = a reason (CMDQ_FAILED). Thread-safe; wakes the
 * thread. */
void cmdq_result(cmdq *q, int64_t id, int outcome, const char *why);
void cmdq_req_free(cmdq_req *r);
/* Apply the last answers, stop and join. NULL accepted. */
void cmdq_stop(cmdq *q);

/* The keyword (watch) or type (IW) of an encoded command frame, for matching the device's answer. */
void cmdq_wire_of(int proto, const char *frame, size_t len, char *out, size_t cap);

#endif
