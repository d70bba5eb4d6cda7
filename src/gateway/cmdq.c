/* cmdq.c — the gateway's command sender thread (see cmdq.h). */
#include "gateway/cmdq.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "base/worker.h"
#include "modules/devices/devices.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INFLIGHT_MAX 256
#define BATCH 64

typedef struct answer {
    struct answer *next;
    int64_t id;
    int outcome;
    char why[160];
} answer;

struct cmdq {
    store *db;
    const nx_keys *keys;
    int poll_ms;
    cmdq_post_fn post;
    cmdq_holds_fn holds;
    void *ctx;
    nx_worker w; /* the sender thread; w.mu guards answers and inflight */
    answer *answers;
    int64_t inflight[INFLIGHT_MAX];
    int ninflight;
};

void cmdq_req_free(cmdq_req *r)
{
    if (!r)
        return;
    json_decref(r->args);
    free(r);
}

void cmdq_wire_of(int proto, const char *frame, size_t len, char *out, size_t cap)
{
    size_t start = 0, stars = 0;
    if (proto == WIRE_PROTO_IW) {
        const char *bp = NULL;
        for (size_t i = 0; i + 1 < len && !bp; i++)
            if (frame[i] == 'B' && frame[i + 1] == 'P')
                bp = frame + i;
        start = bp ? (size_t)(bp - frame) + 2 : len;
    } else {
        /* [MF*ID*LLLL*CONTENT] */
        for (start = 0; start < len && stars < 3; start++)
            if (frame[start] == '*')
                stars++;
    }
    size_t n = 0;
    for (size_t i = start; i < len && n + 1 < cap; i++) {
        char c = frame[i];
        if (c == ',' || c == ']' || c == '#')
            break;
        out[n++] = c;
    }
    if (cap)
        out[n] = '\0';
}

static bool inflight_has(cmdq *q, int64_t id)
{
    for (int i = 0; i < q->ninflight; i++)
        if (q->inflight[i] == id)
            return true;
    return false;
}

static void inflight_drop(cmdq *q, int64_t id)
{
    for (int i = 0; i < q->ninflight; i++)
        if (q->inflight[i] == id) {
            q->inflight[i] = q->inflight[--q->ninflight];
            return;
        }
}

/* Store the loop's answers (outside the lock). */
static void apply_answers(cmdq *q)
{
    pthread_mutex_lock(&q->w.mu);
    answer *a = q->answers;
    q->answers = NULL;
    pthread_mutex_unlock(&q->w.mu);
    while (a) {
        answer *next = a->next;
        nx_err e;
        nx_err_clear(&e);
        int rc = 0;
        if (a->outcome == CMDQ_NOT_HERE)
            rc = devices_command_mark(q->db, a->id, DEVICES_CMD_UNCLAIM, NULL, -1, NULL, clock_now_ms(), &e);
        else if (a->outcome == CMDQ_FAILED)
            rc = devices_command_mark(q->db, a->id, DEVICES_CMD_FAIL, NULL, -1, a->why, clock_now_ms(), &e);
        if (rc && rc != NX_ECONFLICT)
            nx_log(LOG_WARN, "gateway.command_state command=%lld code=%s", (long long)a->id, nx_code_name(rc));
        else
            nx_log(LOG_INFO, "gateway.command_%s command=%lld",
                   a->outcome == CMDQ_SENT ? "sent" : a->outcome == CMDQ_FAILED ? "failed" : "not_here", (long long)a->id);
        pthread_mutex_lock(&q->w.mu);
        inflight_drop(q, a->id);
        pthread_mutex_unlock(&q->w.mu);
        free(a);
        a = next;
    }
}

static void post_pending(cmdq *q)
{
    devices_pending_cmd *rows = calloc(BATCH, sizeof *rows);
    if (!rows)
        return;
    int n = 0;
    nx_err e;
    nx_err_clear(&e);
    if (devices_commands_pending(q->db, q->keys, clock_now_ms(), rows, BATCH, &n, &e)) {
        nx_log(LOG_WARN, "gateway.commands_read code=%s", nx_code_name(e.code));
        free(rows);
        return;
    }
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&q->w.mu);
        bool skip = inflight_has(q, rows[i].id) || q->ninflight >= INFLIGHT_MAX;
        pthread_mutex_unlock(&q->w.mu);
        if (skip || (q->holds && !q->holds(q->ctx, rows[i].proto, rows[i].imei)))
            continue; /* in flight, or another process's (or input's) device */
        cmdq_req *r = calloc(1, sizeof *r);
        if (!r)
            break;
        r->q = q;
        r->id = rows[i].id;
        r->proto = rows[i].proto;
        r->serial = (uint32_t)(rows[i].id % 1000000);
        str_copy(r->imei, rows[i].imei, sizeof r->imei);
        r->args = json_loads(rows[i].args, 0, NULL);
        nx_err_clear(&e);
        char frame[1200], wire[24];
        size_t flen = 0;
        if (!r->args || devices_command_build(rows[i].kind, r->args, &r->cmd, &e) ||
            devices_command_encode(&r->cmd, r->proto, r->proto == WIRE_PROTO_IW ? "IW" : "SG", r->imei,
                                   r->serial, frame, sizeof frame, &flen, &e)) {
            /* stored by an older version, or edited by hand: it can never be sent */
            nx_err_clear(&e);
            devices_command_mark(q->db, r->id, DEVICES_CMD_FAIL, NULL, -1, "指令参数无效，无法下发",
                                 clock_now_ms(), &e);
            cmdq_req_free(r);
            continue;
        }
        /* Claimed (sent, with what the device will echo) before the bytes go out, so the echo always
         * finds it and staff can no longer cancel what is on its way. */
        cmdq_wire_of(r->proto, frame, flen, wire, sizeof wire);
        nx_err_clear(&e);
        if (devices_command_mark(q->db, r->id, DEVICES_CMD_CLAIM, wire,
                                 r->proto == WIRE_PROTO_IW ? (int64_t)r->serial : -1, NULL, clock_now_ms(),
                                 &e)) {
            cmdq_req_free(r);
            continue;
        }
        pthread_mutex_lock(&q->w.mu);
        q->inflight[q->ninflight++] = r->id;
        pthread_mutex_unlock(&q->w.mu);
        q->post(q->ctx, r);
    }
    free(rows);
}

static void *run(void *arg)
{
    cmdq *q = arg;
    int64_t last_poll = 0;
    for (;;) {
        pthread_mutex_lock(&q->w.mu);
        if (!q->w.stop && !q->answers) {
            struct timespec ts = clock_deadline(CLOCK_MONOTONIC, q->poll_ms);
            pthread_cond_timedwait(&q->w.cv, &q->w.mu, &ts);
        }
        bool stop = q->w.stop;
        pthread_mutex_unlock(&q->w.mu);
        apply_answers(q);
        if (stop)
            break;
        /* answers wake the thread too; the store is read at most once per poll_ms */
        if (clock_mono_ms() - last_poll >= q->poll_ms) {
            last_poll = clock_mono_ms();
            post_pending(q);
        }
    }
    return NULL;
}

int cmdq_start(store *s, const nx_keys *keys, int poll_ms, cmdq_post_fn post, cmdq_holds_fn holds, void *ctx,
               cmdq **out, nx_err *e)
{
    cmdq *q = calloc(1, sizeof *q);
    if (!q)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    q->db = s;
    q->keys = keys;
    q->poll_ms = poll_ms > 0 ? poll_ms : 500;
    q->post = post;
    q->holds = holds;
    q->ctx = ctx;
    worker_init(&q->w);
    if (worker_start(&q->w, run, q) != 0) {
        worker_cleanup(&q->w);
        free(q);
        return nx_fail(e, NX_EINTERNAL, "", "无法启动设备指令线程");
    }
    *out = q;
    return 0;
}

void cmdq_result(cmdq *q, int64_t id, int outcome, const char *why)
{
    answer *a = calloc(1, sizeof *a);
    if (!a)
        return; /* the command stays in flight until restart; it is still queued in the store */
    a->id = id;
    a->outcome = outcome;
    str_copy(a->why, why ? why : "", sizeof a->why);
    pthread_mutex_lock(&q->w.mu);
    a->next = q->answers;
    q->answers = a;
    pthread_cond_signal(&q->w.cv);
    pthread_mutex_unlock(&q->w.mu);
}

void cmdq_stop(cmdq *q)
{
    if (!q)
        return;
    worker_stop(&q->w);
    apply_answers(q);
    worker_cleanup(&q->w);
    free(q);
}
