/* mqtt.c — the MQTT input of the wristband gateway (see mqtt.h for topics and promises).
 *
 * One libmosquitto client. Its network thread (mosquitto_loop_start) calls on_message for every
 * message on "<prefix>/+/+/up": the topic is parsed and checked, the payload is capped, cut into
 * frames by the topic's framer, each frame decoded and checked against the topic's device, queued
 * on this input's own ingest writer (ingest.h) and answered on ".../down" — at once for everything
 * but alarms, from the writer thread after the commit for alarms (alarm_done publishes with QoS 1;
 * libmosquitto's publish is safe from any thread and keeps a QoS 1 message for the next connection
 * when the broker is away).
 *
 * Topic state: a framer lives in a small table only while its topic holds half a frame (most
 * messages carry whole frames and leave nothing behind, so an idle device costs nothing). The table
 * (a dev_table, like the one of devices heard from) is a hash of topic keys plus a list in order of
 * last use: states idle longer than idle_ms are
 * dropped from the old end on every message, and when max_topics are held the oldest is dropped to
 * make room. The table is touched only on the network thread, and by mqtt_stop after that thread
 * has been joined.
 *
 * Shutdown: `stopping` (under mu, which on_message holds while it works) turns new messages away;
 * then the writer drains (its acks still go out), then the client disconnects and the network
 * thread is joined. Logs carry the protocol and counts, never a device id or payload bytes. */
#include "gateway/mqtt.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "gateway/cmdq.h"
#include "gateway/ingest.h"
#include "wire/frame.h"
#include "wire/proto.h"

#include <mosquitto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_BUCKETS 4096u
#define ID_MAX        20

/* An entry of a device table: keyed by (protocol, device id), listed in order of last use. */
typedef struct dev_key {
    struct dev_key *map_next;
    struct dev_key *older, *newer; /* use order: the table's oldest … newest */
    int proto;
    char id[ID_MAX + 1];
    int64_t last_ms; /* monotonic */
} dev_key;

/* A device table: STATE_BUCKETS hash chains plus the use list; entries begin with their dev_key. */
typedef struct dev_table {
    dev_key **map;
    dev_key *oldest, *newest;
    int n;
} dev_table;

typedef struct tstate {
    dev_key k; /* first */
    wire_framer framer;
} tstate;

/* A device heard from over MQTT lately: where queued commands can be published (cmd_post). */
typedef struct seen {
    dev_key k;  /* first */
    char mf[4]; /* watch manufacturer or IW prefix of its last frame */
} seen;

#define SEEN_MAX 200000

typedef struct alarm_tok {
    size_t len;
    char topic[MQTT_TOPIC_MAX];
    char reply[WIRE_REPLY_MAX];
} alarm_tok;

struct gw_mqtt {
    struct mosquitto *m;
    gw_ingest *ingest;
    bool loop_started;
    char host[256];
    int port;
    char prefix[MQTT_PREFIX_MAX + 1];
    char sub[MQTT_PREFIX_MAX + 16];
    gw_mqtt_options o; /* strings not kept: the caller's */
    size_t payload_cap[3];
    int64_t idle_ms;
    pthread_mutex_t mu; /* held by on_message; guards stopping */
    bool stopping;
    /* topic states (network thread only) */
    dev_table topics;
    /* devices heard from (network thread writes, command thread reads; under seen_mu) */
    pthread_mutex_t seen_mu;
    dev_table seen;
    cmdq *cmds;
    /* counters, __atomic */
    uint64_t n_connects, n_disconnects, n_messages, n_frames, n_bad, n_bad_topics, n_oversized, n_dropped,
        n_acked;
    int connected;
};

#define BUMP(q, f) __atomic_fetch_add(&(q)->f, 1, __ATOMIC_RELAXED)

/* ---- pure helpers ---- */

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int mqtt_url_parse(const char *url, char *host, size_t hostcap, int *port, nx_err *e)
{
    static const char scheme[] = "mqtt://";
    if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0)
        return nx_fail(e, NX_EINVAL, "mqtt_url", "MQTT 地址应以 mqtt:// 开头（暂不支持 mqtts://）");
    const char *p = url + sizeof scheme - 1;
    size_t n = strlen(p);
    if (n > 0 && p[n - 1] == '/')
        n--;
    if (memchr(p, '@', n))
        return nx_fail(e, NX_EINVAL, "mqtt_url",
                       "MQTT 地址中不能含用户名或密码，请使用 mqtt_username 和 mqtt_password");
    if (memchr(p, '/', n) || memchr(p, '?', n))
        return nx_fail(e, NX_EINVAL, "mqtt_url", "MQTT 地址应为 mqtt://主机[:端口]");
    const char *hs = p, *he, *ps = NULL;
    if (n > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return nx_fail(e, NX_EINVAL, "mqtt_url", "MQTT 地址中的 IPv6 地址缺少 ]");
        hs = p + 1;
        he = close;
        if (close + 1 < p + n) {
            if (close[1] != ':')
                return nx_fail(e, NX_EINVAL, "mqtt_url", "MQTT 地址应为 mqtt://主机[:端口]");
            ps = close + 2;
        }
    } else {
        const char *colon = memchr(p, ':', n);
        he = colon ? colon : p + n;
        if (colon)
            ps = colon + 1;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= hostcap)
        return nx_fail(e, NX_EINVAL, "mqtt_url", "MQTT 地址缺少主机名或主机名过长");
    for (size_t i = 0; i < hl; i++)
        if (hs[i] <= ' ' || hs[i] >= 0x7f || hs[i] == '[' || hs[i] == ']')
            return nx_fail(e, NX_EINVAL, "mqtt_url", "MQTT 地址的主机名无效");
    *port = MQTT_DEFAULT_PORT;
    if (ps) {
        char num[8];
        size_t pl = (size_t)(p + n - ps);
        int64_t v;
        if (pl == 0 || pl >= sizeof num || !all_digits(ps, pl))
            return nx_fail(e, NX_EINVAL, "mqtt_url", "MQTT 地址的端口无效");
        memcpy(num, ps, pl);
        num[pl] = '\0';
        if (str_to_i64(num, 1, 65535, &v))
            return nx_fail(e, NX_EINVAL, "mqtt_url", "MQTT 地址的端口应在 1 到 65535 之间");
        *port = (int)v;
    }
    memcpy(host, hs, hl);
    host[hl] = '\0';
    return 0;
}

int mqtt_prefix_check(const char *prefix, nx_err *e)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0 || n > MQTT_PREFIX_MAX)
        return nx_fail(e, NX_EINVAL, "mqtt_topic_prefix", "MQTT 主题前缀应为 1 到 %d 个字符",
                       MQTT_PREFIX_MAX);
    if (prefix[0] == '/' || prefix[n - 1] == '/' || strstr(prefix, "//"))
        return nx_fail(e, NX_EINVAL, "mqtt_topic_prefix",
                       "MQTT 主题前缀不能以 / 开头或结尾，也不能有空的层级");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)prefix[i];
        if (c <= ' ' || c >= 0x7f || c == '+' || c == '#')
            return nx_fail(e, NX_EINVAL, "mqtt_topic_prefix",
                           "MQTT 主题前缀只能含可见 ASCII 字符，不能含通配符 + 或 #");
    }
    return 0;
}

int mqtt_topic_parse(const char *prefix, const char *topic, int *proto, char *id, size_t idcap)
{
    size_t pl = strlen(prefix);
    if (strncmp(topic, prefix, pl) != 0 || topic[pl] != '/')
        return NX_EINVAL;
    const char *p = topic + pl + 1;
    const char *s1 = strchr(p, '/');
    if (!s1)
        return NX_EINVAL;
    const char *s2 = strchr(s1 + 1, '/');
    if (!s2 || strcmp(s2 + 1, "up") != 0)
        return NX_EINVAL;
    int pr = wire_proto_from_name(p, (size_t)(s1 - p));
    size_t il = (size_t)(s2 - s1 - 1);
    if (!pr || il > ID_MAX || il + 1 > idcap || !all_digits(s1 + 1, il))
        return NX_EINVAL;
    memcpy(id, s1 + 1, il);
    id[il] = '\0';
    *proto = pr;
    return 0;
}

int mqtt_topic_make(const char *prefix, int proto, const char *id, const char *dir, char *out, size_t cap)
{
    const char *name = wire_proto_name(proto);
    if (!name)
        return NX_EINVAL;
    int n = snprintf(out, cap, "%s/%s/%s/%s", prefix, name, id, dir);
    return n < 0 || (size_t)n >= cap ? NX_ETOOBIG : 0;
}

/* ---- device tables ---- */

static uint32_t hash_key(int proto, const char *id)
{
    uint32_t h = 2166136261u ^ (uint32_t)proto;
    for (; *id; id++)
        h = (h ^ (uint8_t)*id) * 16777619u;
    return h % STATE_BUCKETS;
}

static dev_key *table_find(dev_table *d, int proto, const char *id)
{
    for (dev_key *k = d->map[hash_key(proto, id)]; k; k = k->map_next)
        if (k->proto == proto && strcmp(k->id, id) == 0)
            return k;
    return NULL;
}

static void use_unlink(dev_table *d, dev_key *k)
{
    if (k->older)
        k->older->newer = k->newer;
    else
        d->oldest = k->newer;
    if (k->newer)
        k->newer->older = k->older;
    else
        d->newest = k->older;
    k->older = k->newer = NULL;
}

/* Make k (not in the use list) the most recently used, at mono. */
static void use_append(dev_table *d, dev_key *k, int64_t mono)
{
    k->last_ms = mono;
    k->older = d->newest;
    k->newer = NULL;
    if (d->newest)
        d->newest->newer = k;
    else
        d->oldest = k;
    d->newest = k;
}

/* Link a new entry under (proto, id); it joins the use list with use_append. */
static void table_insert(dev_table *d, dev_key *k, int proto, const char *id)
{
    k->proto = proto;
    str_copy(k->id, id, sizeof k->id);
    uint32_t h = hash_key(proto, id);
    k->map_next = d->map[h];
    d->map[h] = k;
    d->n++;
}

/* Unlink k from the hash and the use list; the caller frees the entry. */
static void table_remove(dev_table *d, dev_key *k)
{
    dev_key **pp = &d->map[hash_key(k->proto, k->id)];
    while (*pp && *pp != k)
        pp = &(*pp)->map_next;
    if (*pp)
        *pp = k->map_next;
    use_unlink(d, k);
    d->n--;
}

/* ---- topic states (network thread) ---- */

static tstate *state_find(gw_mqtt *q, int proto, const char *id)
{
    return (tstate *)table_find(&q->topics, proto, id);
}

static void state_free(gw_mqtt *q, tstate *t)
{
    table_remove(&q->topics, &t->k);
    wire_framer_cleanup(&t->framer);
    free(t);
}

/* Half frames left too long: dropped from the old end of the use list. */
static void sweep_idle(gw_mqtt *q, int64_t now)
{
    while (q->topics.oldest && now - q->topics.oldest->last_ms > q->idle_ms) {
        state_free(q, (tstate *)q->topics.oldest);
        BUMP(q, n_dropped);
    }
}

/* Keep f (holding half a frame) as the topic's state. The framer struct is moved, not shared. */
static void state_keep(gw_mqtt *q, int proto, const char *id, const wire_framer *f, int64_t now)
{
    if (q->topics.n >= q->o.max_topics && q->topics.oldest) {
        state_free(q, (tstate *)q->topics.oldest);
        BUMP(q, n_dropped);
        nx_log(LOG_WARN, "mqtt.topics_full max_topics=%d", q->o.max_topics);
    }
    tstate *t = calloc(1, sizeof *t);
    if (!t) {
        wire_framer copy = *f;
        wire_framer_cleanup(&copy);
        BUMP(q, n_dropped);
        return;
    }
    t->framer = *f;
    table_insert(&q->topics, &t->k, proto, id);
    use_append(&q->topics, &t->k, now);
}

static bool framer_pending(const wire_framer *f)
{
    return f->len > 0 || f->mlen > 0;
}

/* ---- devices heard from (for commands) ---- */

static seen *seen_find(gw_mqtt *q, int proto, const char *id)
{
    return (seen *)table_find(&q->seen, proto, id);
}

static void seen_drop(gw_mqtt *q, seen *x)
{
    table_remove(&q->seen, &x->k);
    free(x);
}

/* The device spoke on its topic: it can be sent commands for the next idle_ms. */
static void seen_touch(gw_mqtt *q, int proto, const char *id, const char *mf, int64_t mono)
{
    pthread_mutex_lock(&q->seen_mu);
    while (q->seen.oldest && (mono - q->seen.oldest->last_ms > q->idle_ms || q->seen.n >= SEEN_MAX))
        seen_drop(q, (seen *)q->seen.oldest);
    seen *x = seen_find(q, proto, id);
    if (x)
        use_unlink(&q->seen, &x->k);
    else if ((x = calloc(1, sizeof *x)))
        table_insert(&q->seen, &x->k, proto, id);
    if (x) {
        if (mf[0])
            str_copy(x->mf, mf, sizeof x->mf);
        use_append(&q->seen, &x->k, mono);
    }
    pthread_mutex_unlock(&q->seen_mu);
}

/* ---- publishing ---- */

static void publish(gw_mqtt *q, const char *topic, const void *data, size_t len, int qos)
{
    int rc = mosquitto_publish(q->m, NULL, topic, (int)len, data, qos, false);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
        nx_log(LOG_WARN, "mqtt.publish_failed qos=%d error=%s", qos, mosquitto_strerror(rc));
}

/* Writer thread: an alarm's transaction has ended; ack only a committed one. */
static void alarm_done(void *ctx, void *token, int rc, int64_t alert_id)
{
    gw_mqtt *q = ctx;
    alarm_tok *t = token;
    if (rc == 0) {
        nx_log(LOG_DEBUG, "mqtt.alarm_committed alert=%lld", (long long)alert_id);
        if (t->len) {
            publish(q, t->topic, t->reply, t->len, 1);
            BUMP(q, n_acked);
        }
    }
    free(t);
}

/* ---- receiving (network thread) ---- */

static void handle_frame(gw_mqtt *q, int proto, const char *id, const uint8_t *frame, size_t len, int64_t now)
{
    wire_msg m;
    nx_err e;
    nx_err_clear(&e);
    bool refused = false;
    if (wire_proto_decode(proto, frame, len, &m, &e)) {
        BUMP(q, n_bad);
        nx_log(LOG_DEBUG, "mqtt.bad_frame proto=%s field=%s", wire_proto_name(proto), e.field);
        /* a health reading out of range is still answered (the protocol requires it); nothing stored */
        if (wire_proto_decode_refused(proto, frame, len, &m))
            return;
        refused = true;
    }
    /* the topic names the device: a frame that names another one is not believed */
    bool names_other = m.device_id[0] && strcmp(m.device_id, id) != 0;
    if (names_other && (proto == WIRE_PROTO_WATCH || m.kind == WIRE_LOGIN)) {
        BUMP(q, n_bad);
        nx_log(LOG_INFO, "mqtt.id_mismatch proto=%s type=%s", wire_proto_name(proto), m.type);
        return;
    }
    if (!refused)
        BUMP(q, n_frames);
    seen_touch(q, proto, id, proto == WIRE_PROTO_WATCH ? m.mf : m.prefix, clock_mono_ms());
    char down[MQTT_TOPIC_MAX];
    if (mqtt_topic_make(q->prefix, proto, id, "down", down, sizeof down))
        return; /* cannot happen: prefix and id are bounded */
    if (refused) {
        char out[WIRE_REPLY_MAX];
        size_t olen = 0;
        wire_proto_reply(&m, now, out, sizeof out, &olen);
        if (olen)
            publish(q, down, out, olen, 0);
        return;
    }
    devices_in in;
    ingest_item_frame(&in, &m, id, now);
    if (m.kind == WIRE_ALARM) {
        alarm_tok *t = malloc(sizeof *t);
        if (!t)
            return; /* not acknowledged: the device repeats the alarm */
        wire_proto_reply(&m, now, t->reply, sizeof t->reply, &t->len);
        str_copy(t->topic, down, sizeof t->topic);
        if (ingest_push(q->ingest, &in, t) != 0)
            free(t);
        return;
    }
    char out[WIRE_REPLY_MAX];
    size_t olen = 0;
    wire_proto_reply(&m, now, out, sizeof out, &olen);
    ingest_push(q->ingest, &in, NULL); /* a full queue drops the row (counted by ingest) */
    if (olen)
        publish(q, down, out, olen, 0);
}

static void handle_message(gw_mqtt *q, const struct mosquitto_message *msg)
{
    int proto = 0;
    char id[ID_MAX + 1];
    int64_t mono = clock_mono_ms();
    sweep_idle(q, mono);
    if (!msg->topic || mqtt_topic_parse(q->prefix, msg->topic, &proto, id, sizeof id)) {
        BUMP(q, n_bad_topics);
        nx_log(LOG_DEBUG, "mqtt.bad_topic");
        return;
    }
    BUMP(q, n_messages);
    tstate *t = state_find(q, proto, id);
    if (msg->payloadlen < 0 || (size_t)msg->payloadlen > q->payload_cap[proto]) {
        BUMP(q, n_oversized);
        nx_log(LOG_WARN, "mqtt.payload_cap proto=%s bytes=%d cap=%zu", wire_proto_name(proto),
               msg->payloadlen, q->payload_cap[proto]);
        if (t) {
            state_free(q, t);
            BUMP(q, n_dropped);
        }
        return;
    }
    if (msg->retain) {
        /* a retained message would be replayed on every reconnect: not a device's frame */
        BUMP(q, n_bad_topics);
        nx_log(LOG_INFO, "mqtt.retained_ignored proto=%s", wire_proto_name(proto));
        return;
    }
    wire_framer local;
    wire_framer *f = &local;
    if (t) {
        use_unlink(&q->topics, &t->k);
        use_append(&q->topics, &t->k, mono);
        f = &t->framer;
    } else {
        wire_framer_init(&local, proto, proto == WIRE_PROTO_WATCH ? q->o.watch_frame_max : q->o.iw_frame_max);
    }
    int64_t now = clock_now_ms();
    wire_framer_push(f, msg->payload, (size_t)msg->payloadlen);
    const uint8_t *frame;
    size_t len;
    int rc;
    while ((rc = wire_framer_next(f, &frame, &len)) == 1)
        handle_frame(q, proto, id, frame, len, now);
    if (rc < 0) {
        BUMP(q, n_dropped);
        nx_log(LOG_WARN, "mqtt.frame_cap proto=%s code=%s", wire_proto_name(proto), nx_code_name(rc));
        if (t)
            state_free(q, t);
        else
            wire_framer_cleanup(&local);
        return;
    }
    if (t && !framer_pending(&t->framer))
        state_free(q, t);
    else if (!t && framer_pending(&local))
        state_keep(q, proto, id, &local, mono);
    else if (!t)
        wire_framer_cleanup(&local);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    gw_mqtt *q = obj;
    pthread_mutex_lock(&q->mu);
    if (!q->stopping)
        handle_message(q, msg);
    pthread_mutex_unlock(&q->mu);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    gw_mqtt *q = obj;
    if (rc != 0) {
        nx_log(LOG_WARN, "mqtt.connect_refused host=%s port=%d reason=\"%s\"", q->host, q->port,
               mosquitto_connack_string(rc));
        return;
    }
    BUMP(q, n_connects);
    __atomic_store_n(&q->connected, 1, __ATOMIC_RELAXED);
    nx_log(LOG_INFO, "mqtt.connected host=%s port=%d", q->host, q->port);
    int src = mosquitto_subscribe(mosq, NULL, q->sub, 1);
    if (src != MOSQ_ERR_SUCCESS)
        nx_log(LOG_ERROR, "mqtt.subscribe_failed error=\"%s\"", mosquitto_strerror(src));
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    gw_mqtt *q = obj;
    __atomic_store_n(&q->connected, 0, __ATOMIC_RELAXED);
    if (rc == 0) {
        nx_log(LOG_INFO, "mqtt.disconnected host=%s port=%d", q->host, q->port);
        return;
    }
    BUMP(q, n_disconnects);
    nx_log(LOG_WARN, "mqtt.connection_lost host=%s port=%d error=\"%s\" retry=backoff", q->host, q->port,
           mosquitto_strerror(rc));
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted)
{
    int g = qos_count > 0 ? granted[0] : -1;
    /* 0x80: the broker refused (its ACL does not allow nuanxin to read the up topics) */
    nx_log(g == 0x80 ? LOG_ERROR : LOG_INFO, "mqtt.subscribed granted_qos=%d", g);
}

/* ---- commands (cmdq.h) ---- */

/* Command thread: a device heard from on its topic within idle_ms. */
static bool cmd_holds(void *ctx, int proto, const char *imei)
{
    gw_mqtt *q = ctx;
    pthread_mutex_lock(&q->seen_mu);
    seen *x = seen_find(q, proto, imei);
    bool here = x && clock_mono_ms() - x->k.last_ms <= q->idle_ms;
    pthread_mutex_unlock(&q->seen_mu);
    return here;
}

/* Command thread: publish a queued command to a device heard from within idle_ms (QoS 1, so the
 * broker keeps it for a device that reconnects); otherwise it is not here and stays queued. */
static void cmd_post(void *ctx, cmdq_req *r)
{
    gw_mqtt *q = ctx;
    char mf[4] = "";
    bool here = false;
    pthread_mutex_lock(&q->seen_mu);
    seen *x = seen_find(q, r->proto, r->imei);
    if (x && clock_mono_ms() - x->k.last_ms <= q->idle_ms) {
        here = true;
        str_copy(mf, x->mf, sizeof mf);
    }
    pthread_mutex_unlock(&q->seen_mu);
    char down[MQTT_TOPIC_MAX], out[WIRE_REPLY_MAX > 1200 ? WIRE_REPLY_MAX : 1200];
    size_t len = 0;
    nx_err e;
    nx_err_clear(&e);
    if (!here || !__atomic_load_n(&q->connected, __ATOMIC_RELAXED) ||
        mqtt_topic_make(q->prefix, r->proto, r->imei, "down", down, sizeof down)) {
        cmdq_result(r->q, r->id, CMDQ_NOT_HERE, NULL);
    } else if (devices_command_encode(&r->cmd, r->proto,
                                      mf[0] ? mf : (r->proto == WIRE_PROTO_IW ? "IW" : "SG"), r->imei,
                                      r->serial, out, sizeof out, &len, &e)) {
        cmdq_result(r->q, r->id, CMDQ_FAILED, e.msg);
    } else {
        int rc = mosquitto_publish(q->m, NULL, down, (int)len, out, 1, false);
        cmdq_result(r->q, r->id, rc == MOSQ_ERR_SUCCESS ? CMDQ_SENT : CMDQ_NOT_HERE, NULL);
    }
    cmdq_req_free(r);
}

/* ---- start and stop ---- */

static int client_id_check(const char *id, nx_err *e)
{
    size_t n = strlen(id);
    if (n > 64)
        return nx_fail(e, NX_EINVAL, "mqtt_client_id", "MQTT 客户端标识最多 64 个字符");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f)
            return nx_fail(e, NX_EINVAL, "mqtt_client_id", "MQTT 客户端标识只能含可见 ASCII 字符");
    return 0;
}

static void free_states(gw_mqtt *q)
{
    while (q->topics.oldest)
        state_free(q, (tstate *)q->topics.oldest);
}

static void destroy(gw_mqtt *q)
{
    if (q->m)
        mosquitto_destroy(q->m);
    free_states(q);
    free(q->topics.map);
    while (q->seen.oldest)
        seen_drop(q, (seen *)q->seen.oldest);
    free(q->seen.map);
    pthread_mutex_destroy(&q->seen_mu);
    pthread_mutex_destroy(&q->mu);
    free(q);
    mosquitto_lib_cleanup();
}

int mqtt_start(store *s, const gw_mqtt_options *o, gw_mqtt **out, nx_err *e)
{
    gw_mqtt *q = calloc(1, sizeof *q);
    if (!q)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    mosquitto_lib_init();
    pthread_mutex_init(&q->mu, NULL);
    pthread_mutex_init(&q->seen_mu, NULL);
    q->o = *o;
    q->o.url = q->o.topic_prefix = q->o.username = q->o.password = q->o.client_id = NULL;
    if (q->o.max_topics <= 0)
        q->o.max_topics = 10000;
    if (q->o.idle_timeout_s <= 0)
        q->o.idle_timeout_s = 900;
    if (q->o.keepalive_s <= 0)
        q->o.keepalive_s = 60;
    q->idle_ms = (int64_t)q->o.idle_timeout_s * 1000;
    wire_framer probe;
    wire_framer_init(&probe, WIRE_PROTO_WATCH, o->watch_frame_max);
    q->payload_cap[WIRE_PROTO_WATCH] = probe.cap * MQTT_PAYLOAD_FRAMES;
    wire_framer_init(&probe, WIRE_PROTO_IW, o->iw_frame_max);
    q->payload_cap[WIRE_PROTO_IW] = probe.cap * MQTT_PAYLOAD_FRAMES;
    const char *prefix = o->topic_prefix && o->topic_prefix[0] ? o->topic_prefix : MQTT_DEFAULT_PREFIX;
    const char *cid = o->client_id ? o->client_id : "";
    char gen_id[96];
    int rc = mqtt_url_parse(o->url, q->host, sizeof q->host, &q->port, e);
    if (rc || (rc = mqtt_prefix_check(prefix, e)) || (rc = client_id_check(cid, e)))
        goto fail;
    str_copy(q->prefix, prefix, sizeof q->prefix);
    snprintf(q->sub, sizeof q->sub, "%s/+/+/up", q->prefix);
    q->topics.map = calloc(STATE_BUCKETS, sizeof *q->topics.map);
    q->seen.map = calloc(STATE_BUCKETS, sizeof *q->seen.map);
    if (!q->topics.map || !q->seen.map) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto fail;
    }
    bool persistent = cid[0] != '\0';
    if (!persistent) {
        char hn[48] = "";
        gethostname(hn, sizeof hn - 1);
        hn[sizeof hn - 1] = '\0';
        snprintf(gen_id, sizeof gen_id, "nuanxin-%s-%ld", hn[0] ? hn : "host", (long)getpid());
        cid = gen_id;
    }
    q->m = mosquitto_new(cid, !persistent, q);
    if (!q->m) {
        rc = nx_fail(e, NX_ENOMEM, "", "无法创建 MQTT 客户端");
        goto fail;
    }
    mosquitto_int_option(q->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(q->m, on_connect);
    mosquitto_disconnect_callback_set(q->m, on_disconnect);
    mosquitto_message_callback_set(q->m, on_message);
    mosquitto_subscribe_callback_set(q->m, on_subscribe);
    mosquitto_reconnect_delay_set(q->m, 1, 30, true);
    if (o->username && o->username[0] &&
        mosquitto_username_pw_set(q->m, o->username, o->password && o->password[0] ? o->password : NULL) !=
            MOSQ_ERR_SUCCESS) {
        rc = nx_fail(e, NX_EINVAL, "mqtt_username", "MQTT 用户名或密码无效");
        goto fail;
    }
    if ((rc = ingest_start(s, o->batch_ms, o->esc_ms, o->queue_max, alarm_done, q, &q->ingest, e)))
        goto fail;
    if (mosquitto_loop_start(q->m) != MOSQ_ERR_SUCCESS) {
        rc = nx_fail(e, NX_EINTERNAL, "", "无法启动 MQTT 网络线程");
        goto fail;
    }
    q->loop_started = true;
    if (o->keys && (rc = cmdq_start(s, o->keys, o->cmd_poll_ms, cmd_post, cmd_holds, q, &q->cmds, e))) {
        mosquitto_loop_stop(q->m, true);
        goto fail;
    }
    /* A broker that is not reachable yet is not an error: the network thread retries. */
    int crc = mosquitto_connect_async(q->m, q->host, q->port, q->o.keepalive_s);
    if (crc != MOSQ_ERR_SUCCESS)
        nx_log(LOG_WARN, "mqtt.connect_failed host=%s port=%d error=\"%s\" retry=backoff", q->host, q->port,
               crc == MOSQ_ERR_ERRNO ? "connection failed" : mosquitto_strerror(crc));
    nx_log(LOG_INFO, "mqtt.started host=%s port=%d topics=%s persistent_session=%d", q->host, q->port, q->sub,
           persistent);
    *out = q;
    return 0;
fail:
    ingest_stop(q->ingest);
    destroy(q);
    return rc;
}

void mqtt_stats(gw_mqtt *q, gw_mqtt_stats *out)
{
    memset(out, 0, sizeof *out);
    out->connects = __atomic_load_n(&q->n_connects, __ATOMIC_RELAXED);
    out->disconnects = __atomic_load_n(&q->n_disconnects, __ATOMIC_RELAXED);
    out->messages = __atomic_load_n(&q->n_messages, __ATOMIC_RELAXED);
    out->frames = __atomic_load_n(&q->n_frames, __ATOMIC_RELAXED);
    out->bad_frames = __atomic_load_n(&q->n_bad, __ATOMIC_RELAXED);
    out->bad_topics = __atomic_load_n(&q->n_bad_topics, __ATOMIC_RELAXED);
    out->oversized = __atomic_load_n(&q->n_oversized, __ATOMIC_RELAXED);
    out->states_dropped = __atomic_load_n(&q->n_dropped, __ATOMIC_RELAXED);
    out->alarms_acked = __atomic_load_n(&q->n_acked, __ATOMIC_RELAXED);
    out->connected = __atomic_load_n(&q->connected, __ATOMIC_RELAXED) != 0;
    pthread_mutex_lock(&q->mu);
    out->topics = q->topics.n;
    pthread_mutex_unlock(&q->mu);
    ingest_counters(q->ingest, &out->rows_written, &out->rows_dropped, &out->batches);
}

void mqtt_stop(gw_mqtt *q)
{
    if (!q)
        return;
    /* 0. No more commands. */
    cmdq_stop(q->cmds);
    q->cmds = NULL;
    /* 1. No new messages are taken (on_message holds mu while it works). */
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_mutex_unlock(&q->mu);
    /* 2. What is queued is written; acks of committed alarms are published meanwhile. */
    ingest_stop(q->ingest);
    q->ingest = NULL;
    /* 3. Disconnect (queued publishes leave first) and join the network thread. */
    mosquitto_disconnect(q->m);
    if (q->loop_started)
        mosquitto_loop_stop(q->m, false);
    nx_log(LOG_INFO, "mqtt.stopped messages=%llu frames=%llu bad_frames=%llu alarms_acked=%llu",
           (unsigned long long)q->n_messages, (unsigned long long)q->n_frames, (unsigned long long)q->n_bad,
           (unsigned long long)q->n_acked);
    destroy(q);
}
