/* simulate.c — `nuanxin simulate`: N wristbands speaking the real protocols over TCP.
 *
 *   nuanxin simulate --devices N --interval S --sos-rate R --protocol watch|iw --target HOST:PORT
 *                    [--duration S] [--id-base N] [--lat D --lon D]
 *
 * One libuv loop holds every simulated device. A device connects, logs in (IW), then every interval
 * (with a random first offset so the fleet does not beat in step) sends a keep-alive, a position
 * around the community's centre and a health reading; with probability R per interval it presses
 * SOS (an alarm frame, half of them without a GPS fix) and counts the ack the server must send back
 * only once the alarm is committed. Device ids are id-base + i (10 digits for the watch, 15 for IW).
 * At the end it prints one JSON line of counters: frames sent, alarms sent and acknowledged, bytes
 * received, connection errors. Frames are built with the codecs' own framing (watch_frame). */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/str.h"
#include "gateway/codec.h"
#include "gateway/watch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

typedef struct sim sim;
typedef struct simdev {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t creq;
    sim *s;
    int index;
    bool connected, closed;
    char id[24];
    int64_t steps;
    int battery;
    char inbuf[256];
    size_t inlen;
} simdev;

struct sim {
    uv_loop_t loop;
    uv_timer_t end;
    struct sockaddr_in target;
    int proto, n;
    int interval_ms;
    double sos_rate;
    double lat, lon;
    simdev *devs;
    uint64_t frames, alarms, acks, bytes_in, errors, connected;
    unsigned seed;
    int drain_ticks; /* after the end: 50 ms waits so far for the last alarms' acks */
};

static double rnd(sim *s)
{
    return (double)rand_r(&s->seed) / ((double)RAND_MAX + 1.0);
}

typedef struct swreq {
    uv_write_t req;
    char data[];
} swreq;

static void on_sent(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void send_bytes(simdev *d, const char *data, size_t len)
{
    if (!d->connected || d->closed)
        return;
    swreq *w = malloc(sizeof *w + len);
    if (!w)
        return;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&d->tcp, &b, 1, on_sent) != 0) {
        free(w);
        return;
    }
    d->s->frames++;
}

static void send_watch(simdev *d, const char *content)
{
    char out[1200];
    size_t len;
    if (watch_frame("3G", d->id, NULL, content, strlen(content), out, sizeof out, &len) == 0)
        send_bytes(d, out, len);
}

static void send_iw(simdev *d, const char *body)
{
    char out[600];
    int n = snprintf(out, sizeof out, "IWAP%s#", body);
    if (n > 0 && (size_t)n < sizeof out)
        send_bytes(d, out, (size_t)n);
}

/* ddmm.mmmm from decimal degrees */
static void dm(double deg, int width, char *out, size_t n)
{
    double a = fabs(deg);
    int d = (int)a;
    double m = (a - d) * 60.0;
    snprintf(out, n, "%0*d%07.4f", width, d, m);
}

static void tick_device(simdev *d)
{
    sim *s = d->s;
    int64_t now = clock_now_ms();
    time_t t = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    double lat = s->lat + (rnd(s) - 0.5) * 0.004, lon = s->lon + (rnd(s) - 0.5) * 0.004;
    d->steps += (int64_t)(rnd(s) * 120);
    if (rnd(s) < 0.01 && d->battery > 5)
        d->battery--;
    bool sos = rnd(s) < s->sos_rate;
    bool fix = rnd(s) < 0.5;
    char buf[512];
    if (s->proto == GW_PROTO_WATCH) {
        snprintf(buf, sizeof buf, "LK,%lld,0,%d", (long long)d->steps, d->battery);
        send_watch(d, buf);
        snprintf(buf, sizeof buf, "UD,%02d%02d%02d,%02d%02d%02d,A,%.6f,N,%.6f,E,0.0,0.0,0.0,6,80,%d,%lld,0,00000008",
                 tm.tm_mday, tm.tm_mon + 1, tm.tm_year % 100, tm.tm_hour, tm.tm_min, tm.tm_sec, lat, lon, d->battery,
                 (long long)d->steps);
        send_watch(d, buf);
        snprintf(buf, sizeof buf, "bphrt,%d,%d,%d,,,,", 110 + (int)(rnd(s) * 30), 70 + (int)(rnd(s) * 15),
                 60 + (int)(rnd(s) * 30));
        send_watch(d, buf);
        if (sos) {
            if (fix)
                snprintf(buf, sizeof buf,
                         "AL,%02d%02d%02d,%02d%02d%02d,A,%.6f,N,%.6f,E,0.0,0.0,0.0,6,80,%d,%lld,0,00010008", tm.tm_mday,
                         tm.tm_mon + 1, tm.tm_year % 100, tm.tm_hour, tm.tm_min, tm.tm_sec, lat, lon, d->battery,
                         (long long)d->steps);
            else
                snprintf(buf, sizeof buf,
                         "AL,%02d%02d%02d,%02d%02d%02d,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,80,%d,%lld,0,00010008",
                         tm.tm_mday, tm.tm_mon + 1, tm.tm_year % 100, tm.tm_hour, tm.tm_min, tm.tm_sec, d->battery,
                         (long long)d->steps);
            send_watch(d, buf);
            s->alarms++;
        }
    } else {
        char la[20], lo[20];
        dm(lat, 2, la, sizeof la);
        dm(lon, 3, lo, sizeof lo);
        char block[128];
        snprintf(block, sizeof block, "%02d%02d%02d%c%sN%sE000.0%02d%02d%02d000.00060008%03d00102", tm.tm_year % 100,
                 tm.tm_mon + 1, tm.tm_mday, 'A', la, lo, tm.tm_hour, tm.tm_min, tm.tm_sec, d->battery);
        snprintf(buf, sizeof buf, "03,060009%03d00102,%lld,0", d->battery, (long long)d->steps);
        send_iw(d, buf);
        snprintf(buf, sizeof buf, "01%s,460,0,9520,3671", block);
        send_iw(d, buf);
        snprintf(buf, sizeof buf, "HT,%d,%d,%d", 60 + (int)(rnd(s) * 30), 110 + (int)(rnd(s) * 30),
                 70 + (int)(rnd(s) * 15));
        send_iw(d, buf);
        if (sos) {
            if (fix)
                snprintf(buf, sizeof buf, "10%s,460,0,9520,3671,01,zh-cn,00", block);
            else
                snprintf(buf, sizeof buf, "10%02d%02d%02dV0000.0000N00000.0000E000.0%02d%02d%02d000.00000000%03d00102,460,0,9520,3671,01,zh-cn,00",
                         tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, d->battery);
            send_iw(d, buf);
            s->alarms++;
        }
    }
}

static void on_timer(uv_timer_t *t)
{
    simdev *d = t->data;
    if (d->connected && !d->closed)
        tick_device(d);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    simdev *d = h->data;
    buf->base = d->inbuf + d->inlen;
    buf->len = sizeof d->inbuf - d->inlen;
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void dev_close(simdev *d)
{
    if (d->closed)
        return;
    d->closed = true;
    uv_timer_stop(&d->timer);
    if (!uv_is_closing((uv_handle_t *)&d->tcp))
        uv_close((uv_handle_t *)&d->tcp, on_closed);
}

/* Count alarm acks: "[SG*ID*0002*AL]" or "IWBP10#". */
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    simdev *d = st->data;
    if (nread < 0) {
        d->s->errors++;
        dev_close(d);
        return;
    }
    d->s->bytes_in += (uint64_t)nread;
    d->inlen += (size_t)nread;
    char end = d->s->proto == GW_PROTO_WATCH ? ']' : '#';
    size_t start = 0;
    for (size_t i = 0; i < d->inlen; i++) {
        if (d->inbuf[i] != end)
            continue;
        size_t flen = i + 1 - start;
        const char *f = d->inbuf + start;
        if (d->s->proto == GW_PROTO_WATCH ? (flen >= 4 && memcmp(f + flen - 4, "*AL]", 4) == 0)
                                          : (flen >= 5 && memcmp(f + flen - 5, "BP10#", 5) == 0))
            d->s->acks++;
        start = i + 1;
    }
    memmove(d->inbuf, d->inbuf + start, d->inlen - start);
    d->inlen -= start;
    if (d->inlen == sizeof d->inbuf)
        d->inlen = 0; /* a reply that does not fit: forget it */
}

static void on_connect(uv_connect_t *req, int status)
{
    simdev *d = req->data;
    sim *s = d->s;
    if (status < 0) {
        s->errors++;
        dev_close(d);
        return;
    }
    d->connected = true;
    s->connected++;
    uv_read_start((uv_stream_t *)&d->tcp, on_alloc, on_read);
    if (s->proto == GW_PROTO_IW) {
        char b[64];
        snprintf(b, sizeof b, "00%s", d->id);
        send_iw(d, b);
    } else {
        send_watch(d, "LK");
    }
    uint64_t first = (uint64_t)(rnd(s) * s->interval_ms);
    uv_timer_start(&d->timer, on_timer, first, (uint64_t)s->interval_ms);
}

/* The end: stop sending, give the server up to 5 s to acknowledge the alarms already sent (a real
 * watch keeps waiting for them too), then close everything. */
static void on_end(uv_timer_t *t)
{
    sim *s = t->data;
    if (s->drain_ticks == 0)
        for (int i = 0; i < s->n; i++)
            uv_timer_stop(&s->devs[i].timer);
    if (s->acks < s->alarms && s->drain_ticks < 100) {
        s->drain_ticks++;
        uv_timer_start(&s->end, on_end, 50, 0);
        return;
    }
    for (int i = 0; i < s->n; i++) {
        dev_close(&s->devs[i]);
        if (!uv_is_closing((uv_handle_t *)&s->devs[i].timer))
            uv_close((uv_handle_t *)&s->devs[i].timer, on_closed);
    }
    uv_close((uv_handle_t *)&s->end, on_closed);
}

static const char *opt(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], name, n) != 0)
            continue;
        if (argv[i][n] == '=')
            return argv[i] + n + 1;
        if (argv[i][n] == '\0' && i + 1 < argc)
            return argv[i + 1];
    }
    return NULL;
}

int cmd_simulate(int argc, char **argv)
{
    const char *target = opt(argc, argv, "--target"), *proto = opt(argc, argv, "--protocol");
    int64_t n = 10, interval = 60, duration = 0, base = 0;
    const char *v;
    double rate = 0.0;
    if (((v = opt(argc, argv, "--devices")) && str_to_i64(v, 1, 200000, &n)) ||
        ((v = opt(argc, argv, "--interval")) && str_to_i64(v, 1, 86400, &interval)) ||
        ((v = opt(argc, argv, "--duration")) && str_to_i64(v, 0, 86400 * 365, &duration)) ||
        ((v = opt(argc, argv, "--id-base")) && str_to_i64(v, 0, 999999999LL, &base))) {
        fprintf(stderr, "nuanxin: 参数不是有效的整数：%s\n", v);
        return 2;
    }
    if ((v = opt(argc, argv, "--sos-rate"))) {
        char *end = NULL;
        rate = strtod(v, &end);
        if (!end || *end || rate < 0 || rate > 1) {
            fprintf(stderr, "nuanxin: --sos-rate 应为 0 到 1 之间的小数\n");
            return 2;
        }
    }
    if (!proto)
        proto = "watch";
    if (strcmp(proto, "watch") != 0 && strcmp(proto, "iw") != 0) {
        fprintf(stderr, "nuanxin: --protocol 应为 watch 或 iw\n");
        return 2;
    }
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    s->proto = strcmp(proto, "iw") == 0 ? GW_PROTO_IW : GW_PROTO_WATCH;
    if (!target)
        target = s->proto == GW_PROTO_IW ? "127.0.0.1:5010" : "127.0.0.1:5093";
    char host[64];
    str_copy(host, target, sizeof host);
    char *colon = strrchr(host, ':');
    int64_t port = 0;
    if (!colon || str_to_i64(colon + 1, 1, 65535, &port)) {
        fprintf(stderr, "nuanxin: --target 应为 HOST:PORT\n");
        free(s);
        return 2;
    }
    *colon = '\0';
    if (uv_ip4_addr(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, (int)port, &s->target) != 0) {
        fprintf(stderr, "nuanxin: 无法解析 %s\n", target);
        free(s);
        return 2;
    }
    s->n = (int)n;
    s->interval_ms = (int)(interval * 1000);
    s->sos_rate = rate;
    s->lat = 36.4574;
    s->lon = 116.2984;
    s->seed = (unsigned)clock_mono_ms();
    s->devs = calloc((size_t)n, sizeof *s->devs);
    if (!s->devs) {
        free(s);
        return 1;
    }
    uv_loop_init(&s->loop);
    for (int i = 0; i < s->n; i++) {
        simdev *d = &s->devs[i];
        d->s = s;
        d->index = i;
        d->battery = 60 + i % 40;
        if (s->proto == GW_PROTO_WATCH)
            snprintf(d->id, sizeof d->id, "%010lld", (long long)(5600000000LL + base + i));
        else
            snprintf(d->id, sizeof d->id, "86%013lld", (long long)(base + i));
        uv_tcp_init(&s->loop, &d->tcp);
        uv_timer_init(&s->loop, &d->timer);
        d->tcp.data = d;
        d->timer.data = d;
        d->creq.data = d;
        if (uv_tcp_connect(&d->creq, &d->tcp, (const struct sockaddr *)&s->target, on_connect) != 0) {
            s->errors++;
            d->closed = true;
            uv_close((uv_handle_t *)&d->tcp, on_closed);
        }
    }
    uv_timer_init(&s->loop, &s->end);
    s->end.data = s;
    if (duration > 0)
        uv_timer_start(&s->end, on_end, (uint64_t)duration * 1000u, 0);
    fprintf(stderr, "模拟 %d 个%s手环 → %s（每 %lld 秒一轮，SOS 概率 %.3f）\n", s->n,
            s->proto == GW_PROTO_IW ? " IW " : "", target, (long long)interval, rate);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    printf("{\"devices\":%d,\"connected\":%llu,\"frames\":%llu,\"alarms\":%llu,\"alarm_acks\":%llu,\"bytes_in\":%llu,"
           "\"errors\":%llu}\n",
           s->n, (unsigned long long)s->connected, (unsigned long long)s->frames, (unsigned long long)s->alarms,
           (unsigned long long)s->acks, (unsigned long long)s->bytes_in, (unsigned long long)s->errors);
    free(s->devs);
    free(s);
    return 0;
}
