/* channel.c — the registry of outbound notification channels and the logging stub (see channel.h).
 * The registry is a small fixed array behind a mutex; sending copies the list first so a slow
 * channel does not hold the lock. */
#include "notify/channel.h"

#include "base/log.h"

#include <pthread.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static nx_channel channels[CHANNEL_MAX];
static int nchannels;

int channel_register(const nx_channel *c, nx_err *e)
{
    if (c == NULL || c->name == NULL || c->name[0] == '\0' || c->send == NULL)
        return nx_fail(e, NX_EINVAL, "channel", "通知渠道缺少名称或发送函数");
    pthread_mutex_lock(&lock);
    int rc = 0;
    if (nchannels >= CHANNEL_MAX)
        rc = nx_fail(e, NX_ETOOBIG, "channel", "通知渠道过多（最多 %d 个）", CHANNEL_MAX);
    else
        channels[nchannels++] = *c;
    pthread_mutex_unlock(&lock);
    return rc;
}

void channel_clear(void)
{
    pthread_mutex_lock(&lock);
    nchannels = 0;
    pthread_mutex_unlock(&lock);
}

int channel_count(void)
{
    pthread_mutex_lock(&lock);
    int n = nchannels;
    pthread_mutex_unlock(&lock);
    return n;
}

int channel_send_all(const nx_message *m, nx_err *e)
{
    nx_channel copy[CHANNEL_MAX];
    pthread_mutex_lock(&lock);
    int n = nchannels;
    memcpy(copy, channels, sizeof copy);
    pthread_mutex_unlock(&lock);
    int first = 0;
    for (int i = 0; i < n; i++) {
        nx_err ce = {0};
        int rc = copy[i].send(copy[i].ctx, m, &ce);
        if (rc) {
            nx_log(LOG_WARN, "channel.failed channel=%s event=%lld code=%s", copy[i].name, (long long)m->event_id,
                   nx_code_name(rc));
            if (first == 0) {
                first = rc;
                if (e)
                    *e = ce;
            }
        }
    }
    return first;
}

static int log_send(void *ctx, const nx_message *m, nx_err *e)
{
    (void)ctx;
    (void)e;
    nx_log(LOG_INFO, "channel.stub event=%lld kind=%s community=%lld resident=%lld", (long long)m->event_id,
           m->kind ? m->kind : "", (long long)m->community_id, (long long)m->resident_id);
    return 0;
}

const nx_channel CHANNEL_LOG_STUB = {.name = "log-stub", .send = log_send, .ctx = NULL};
