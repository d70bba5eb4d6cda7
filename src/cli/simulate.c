/* simulate.c — `nuanxin simulate`: N wristbands speaking the real protocols over TCP.
 *
 *   nuanxin simulate --devices N --interval S --sos-rate R --protocol watch|iw --target HOST:PORT
 *                    [--duration S] [--id-base N] [--lat D --lon D] [--interval-ms MS]
 *                    [--mode normal|flood|hold|probe] [--ramp PER_S] [--source IP,IP,…] [--inflight K]
 *                    [--sse HOST:PORT --token T --id-map FILE --sos-every-ms MS]
 *
 * One libuv loop holds every simulated device. Device ids are id-base + i (10 digits for the watch,
 * 15 for IW). A device connects (at most --ramp new connections a second, all at once by default;
 * round-robin over the --source addresses when given), logs in (IW) or says LK (watch), then acts
 * by mode:
 *   normal  every interval (random first offset so the fleet does not beat in step) a keep-alive, a
 *           position around the community's centre and a health reading; with probability R per
 *           interval it presses SOS (an alarm frame, half of them without a GPS fix) and counts the
 *           ack the server must send back only once the alarm is committed.
 *   flood   as fast as the server answers: a position and a health reading, and the next pair as
 *           soon as the reading's reply arrives (--inflight K pairs in flight per device, 1 by default).
 *           Measures the gateway's ingest; positions + readings sent are exactly the rows the server
 *           should store. With K = 1 the send rate is bounded by the round trip (device → loop → reply),
 *           not by the store; a larger K keeps a backlog in the server's write queue, so what is
 *           stored per second is what the writer can store.
 *   hold    keep-alives only, every interval: many idle connections, as a real fleet mostly is.
 *   probe   alarm latency: a C client reads GET /api/v1/events/stream (--sse, bearer --token) and,
 *           once the stream and every device are up, device k sends one SOS at k × --sos-every-ms;
 *           the time from writing the SOS to its ack and to the stream's devices.alert.opened event
 *           for that device (matched by the device's database id through --id-map, lines "IMEI ID")
 *           gives p50/p99/max. Each device presses once, so no SOS merges into an earlier one.
 * Like a real watch, a device answers server commands: a watch echoes the keyword of an SG frame
 * (`[SG*ID*LEN*CR]` → `[3G*ID*0002*CR]`), an IW device answers `IWBP<t>,<IMEI>,<serial>,…#` with
 * `IWAP<t>,<serial>#`. At the end it prints one JSON line of counters (frames sent, alarms sent and
 * acknowledged, commands answered, bytes received, connection errors, the send rate, and in probe
 * mode the latencies). The soft limit on open files is raised to the hard one; a warning says when
 * that is still too few for N connections. Frames are built with the codecs' own framing. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/str.h"
#include "modules/devices/devices.h"
#include "cli/flags.h"
#include "wire/codec.h"
#include "wire/watch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

enum { MODE_NORMAL, MODE_FLOOD, MODE_HOLD, MODE_PROBE };
#define MAX_SOURCES 32

typedef struct sim sim;
typedef struct simdev {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t creq;
    sim *s;
    int index;
    bool connected, closed, started;
    char id[24];
    int64_t steps;
    int battery;
    uint64_t sos_ns; /* probe: when its SOS was written (uv_hrtime), 0 = not yet */
    bool acked, matched;
    char inbuf[256];
    size_t inlen;
} simdev;

typedef struct idmap {
    int64_t db_id;
    int index;
} idmap;

/* The probe's reader of the event stream. */
typedef struct sse_client {
    uv_tcp_t tcp;
    uv_connect_t creq;
    struct sockaddr_in addr;
    char host[64];
    const char *token;
    bool inited, open, ready, closed;
    char buf[16384];
    size_t len;
    char event[64];
} sse_client;

struct sim {
    uv_loop_t loop;
    uv_timer_t end, ramp, sos;
    struct sockaddr_in target;
    struct sockaddr_in sources[MAX_SOURCES];
    int nsources;
    int proto, n, mode;
    int interval_ms, ramp_per_s, next_connect;
    int inflight; /* flood: pairs in flight per device */
    double sos_rate;
    double lat, lon;
    simdev *devs;
    uint64_t frames, positions, readings, alarms, acks, commands, bytes_in, errors, connected;
    uint64_t first_ns, stop_ns;
    bool stopping;
    unsigned seed;
    int drain_ticks; /* after the end: 50 ms waits so far for the last alarms' acks */
    /* probe */
    sse_client sse;
    idmap *map;
    int nmap;
    int sos_every_ms, sos_next, sos_count;
    double *ack_ms, *event_ms;
    int n_ack_ms, n_event_ms;
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

static int write_copy(uv_stream_t *st, const char *data, size_t len)
{
    swreq *w = malloc(sizeof *w + len);
    if (!w)
        return -1;
    memcpy(w->data, data, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, st, &b, 1, on_sent) != 0) {
        free(w);
        return -1;
    }
    return 0;
}

static void send_bytes(simdev *d, const char *data, size_t len)
{
    if (!d->connected || d->closed)
        return;
    if (write_copy((uv_stream_t *)&d->tcp, data, len) != 0)
        return;
    sim *s = d->s;
    if (!s->first_ns)
        s->first_ns = uv_hrtime();
    s->frames++;
}

static void send_watch_mf(simdev *d, const char *mf, const char *idx, const char *content)
{
    char out[1200];
    size_t len;
    if (watch_frame(mf, d->id, idx, content, strlen(content), out, sizeof out, &len) == 0)
        send_bytes(d, out, len);
}

static void send_watch(simdev *d, const char *content)
{
    send_watch_mf(d, "3G", NULL, content);
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

/* What one device reports in a round, frame by frame. */
typedef struct sample {
    struct tm tm;
    double lat, lon;
    char block[128]; /* IW position block */
} sample;

static void take_sample(simdev *d, sample *p)
{
    sim *s = d->s;
    time_t t = (time_t)(clock_now_ms() / 1000);
    gmtime_r(&t, &p->tm);
    p->lat = s->lat + (rnd(s) - 0.5) * 0.004;
    p->lon = s->lon + (rnd(s) - 0.5) * 0.004;
    d->steps += (int64_t)(rnd(s) * 120);
    if (rnd(s) < 0.01 && d->battery > 5)
        d->battery--;
    char la[20], lo[20];
    dm(p->lat, 2, la, sizeof la);
    dm(p->lon, 3, lo, sizeof lo);
    snprintf(p->block, sizeof p->block, "%02d%02d%02d%c%sN%sE000.0%02d%02d%02d000.00060008%03d00102",
             p->tm.tm_year % 100, p->tm.tm_mon + 1, p->tm.tm_mday, 'A', la, lo, p->tm.tm_hour, p->tm.tm_min,
             p->tm.tm_sec, d->battery);
}

static void send_keepalive(simdev *d)
{
    char buf[128];
    if (d->s->proto == WIRE_PROTO_WATCH) {
        snprintf(buf, sizeof buf, "LK,%lld,0,%d", (long long)d->steps, d->battery);
        send_watch(d, buf);
    } else {
        snprintf(buf, sizeof buf, "03,060009%03d00102,%lld,0", d->battery, (long long)d->steps);
        send_iw(d, buf);
    }
}

static void send_position(simdev *d, const sample *p)
{
    char buf[512];
    const struct tm *tm = &p->tm;
    if (d->s->proto == WIRE_PROTO_WATCH) {
        snprintf(buf, sizeof buf, "UD,%02d%02d%02d,%02d%02d%02d,A,%.6f,N,%.6f,E,0.0,0.0,0.0,6,80,%d,%lld,0,00000008",
                 tm->tm_mday, tm->tm_mon + 1, tm->tm_year % 100, tm->tm_hour, tm->tm_min, tm->tm_sec, p->lat, p->lon,
                 d->battery, (long long)d->steps);
        send_watch(d, buf);
    } else {
        snprintf(buf, sizeof buf, "01%s,460,0,9520,3671", p->block);
        send_iw(d, buf);
    }
    d->s->positions++;
}

static void send_reading(simdev *d)
{
    sim *s = d->s;
    char buf[128];
    if (s->proto == WIRE_PROTO_WATCH) {
        snprintf(buf, sizeof buf, "bphrt,%d,%d,%d,,,,", 110 + (int)(rnd(s) * 30), 70 + (int)(rnd(s) * 15),
                 60 + (int)(rnd(s) * 30));
        send_watch(d, buf);
    } else {
        snprintf(buf, sizeof buf, "HT,%d,%d,%d", 60 + (int)(rnd(s) * 30), 110 + (int)(rnd(s) * 30),
                 70 + (int)(rnd(s) * 15));
        send_iw(d, buf);
    }
    s->readings++;
}

static void send_sos(simdev *d, const sample *p, bool fix)
{
    char buf[512];
    const struct tm *tm = &p->tm;
    if (d->s->proto == WIRE_PROTO_WATCH) {
        if (fix)
            snprintf(buf, sizeof buf, "AL,%02d%02d%02d,%02d%02d%02d,A,%.6f,N,%.6f,E,0.0,0.0,0.0,6,80,%d,%lld,0,00010008",
                     tm->tm_mday, tm->tm_mon + 1, tm->tm_year % 100, tm->tm_hour, tm->tm_min, tm->tm_sec, p->lat,
                     p->lon, d->battery, (long long)d->steps);
        else
            snprintf(buf, sizeof buf,
                     "AL,%02d%02d%02d,%02d%02d%02d,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,80,%d,%lld,0,00010008",
                     tm->tm_mday, tm->tm_mon + 1, tm->tm_year % 100, tm->tm_hour, tm->tm_min, tm->tm_sec, d->battery,
                     (long long)d->steps);
        send_watch(d, buf);
    } else {
        if (fix)
            snprintf(buf, sizeof buf, "10%s,460,0,9520,3671,01,zh-cn,00", p->block);
        else
            snprintf(buf, sizeof buf,
                     "10%02d%02d%02dV0000.0000N00000.0000E000.0%02d%02d%02d000.00000000%03d00102,460,0,9520,3671,01,"
                     "zh-cn,00",
                     tm->tm_year % 100, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, d->battery);
        send_iw(d, buf);
    }
    d->s->alarms++;
}

static void tick_device(simdev *d)
{
    sim *s = d->s;
    if (s->mode == MODE_HOLD || s->mode == MODE_PROBE) {
        send_keepalive(d);
        return;
    }
    sample p;
    take_sample(d, &p);
    bool sos = rnd(s) < s->sos_rate;
    bool fix = rnd(s) < 0.5;
    send_keepalive(d);
    send_position(d, &p);
    send_reading(d);
    if (sos)
        send_sos(d, &p, fix);
}

/* Flood: the next position and reading, once the previous reading has been answered. */
static void flood_round(simdev *d)
{
    if (d->s->stopping)
        return;
    sample p;
    take_sample(d, &p);
    send_position(d, &p);
    send_reading(d);
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

static double ms_since(uint64_t ns)
{
    return (double)(uv_hrtime() - ns) / 1e6;
}

static void probe_check_done(sim *s);

static void on_alarm_ack(simdev *d)
{
    sim *s = d->s;
    s->acks++;
    if (s->mode == MODE_PROBE && d->sos_ns && !d->acked) {
        d->acked = true;
        s->ack_ms[s->n_ack_ms++] = ms_since(d->sos_ns);
        probe_check_done(s);
    }
}

/* A watch frame from the server: an ack ([3G*…]) or a command ([SG*…], answered with its keyword). */
static void watch_incoming(simdev *d, const char *f, size_t flen)
{
    sim *s = d->s;
    if (flen >= 4 && memcmp(f + flen - 4, "*AL]", 4) == 0) {
        on_alarm_ack(d);
        return;
    }
    if (s->mode == MODE_FLOOD && flen >= 7 && memcmp(f + flen - 7, "*bphrt]", 7) == 0) {
        flood_round(d);
        return;
    }
    if (flen < 4 || memcmp(f, "[SG*", 4) != 0)
        return;
    /* [SG*ID*LLLL*TEXT] or [SG*ID*IDX*LLLL*TEXT] */
    const char *star[4];
    int ns = 0;
    for (size_t i = 0; i < flen && ns < 4; i++)
        if (f[i] == '*')
            star[ns++] = f + i;
    if (ns < 3)
        return;
    char idx[5] = "";
    const char *content = star[2] + 1;
    if (ns == 4 && star[3] - star[2] == 5 && star[2] - star[1] == 5) {
        memcpy(idx, star[1] + 1, 4);
        content = star[3] + 1;
    }
    char kw[32];
    size_t k = 0;
    while (content + k < f + flen - 1 && content[k] != ',' && k < sizeof kw - 1) {
        kw[k] = content[k];
        k++;
    }
    kw[k] = '\0';
    if (!kw[0])
        return;
    send_watch_mf(d, "3G", idx[0] ? idx : NULL, kw);
    s->commands++;
}

/* An IW frame from the server: an ack (IWBP<t>#, IWBP00,…#) or a command IWBP<t>,<IMEI>,<serial>,…#. */
static void iw_incoming(simdev *d, const char *f, size_t flen)
{
    sim *s = d->s;
    if (flen >= 5 && memcmp(f + flen - 5, "BP10#", 5) == 0) {
        on_alarm_ack(d);
        return;
    }
    if (s->mode == MODE_FLOOD && flen >= 5 && memcmp(f + flen - 5, "BPHT#", 5) == 0) {
        flood_round(d);
        return;
    }
    const char *bp = NULL;
    for (size_t i = 0; i + 4 <= flen; i++)
        if (memcmp(f + i, "BP", 2) == 0) {
            bp = f + i;
            break;
        }
    if (!bp || bp + 5 > f + flen || bp[4] != ',')
        return;
    size_t idlen = strlen(d->id);
    const char *imei = bp + 5;
    if (imei + idlen + 1 > f + flen || memcmp(imei, d->id, idlen) != 0 || imei[idlen] != ',')
        return;
    const char *serial = imei + idlen + 1;
    size_t sl = 0;
    while (serial + sl < f + flen && serial[sl] >= '0' && serial[sl] <= '9')
        sl++;
    if (sl != 6)
        return;
    char body[32];
    snprintf(body, sizeof body, "%.2s,%.6s", bp + 2, serial);
    send_iw(d, body);
    s->commands++;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    simdev *d = st->data;
    if (nread < 0) {
        if (!d->s->stopping)
            d->s->errors++;
        dev_close(d);
        return;
    }
    d->s->bytes_in += (uint64_t)nread;
    d->inlen += (size_t)nread;
    char end = d->s->proto == WIRE_PROTO_WATCH ? ']' : '#';
    size_t start = 0;
    for (size_t i = 0; i < d->inlen; i++) {
        if (d->inbuf[i] != end)
            continue;
        if (d->s->proto == WIRE_PROTO_WATCH)
            watch_incoming(d, d->inbuf + start, i + 1 - start);
        else
            iw_incoming(d, d->inbuf + start, i + 1 - start);
        start = i + 1;
    }
    memmove(d->inbuf, d->inbuf + start, d->inlen - start);
    d->inlen -= start;
    if (d->inlen == sizeof d->inbuf)
        d->inlen = 0; /* a reply that does not fit: forget it */
}

static void probe_maybe_start(sim *s);

static void on_connect(uv_connect_t *req, int status)
{
    simdev *d = req->data;
    sim *s = d->s;
    if (status < 0) {
        s->errors++;
        dev_close(d);
        probe_maybe_start(s);
        return;
    }
    if (d->closed)
        return;
    d->connected = true;
    s->connected++;
    uv_tcp_nodelay(&d->tcp, 1); /* a round's frames go out at once, not after the first one's ACK */
    uv_read_start((uv_stream_t *)&d->tcp, on_alloc, on_read);
    if (s->proto == WIRE_PROTO_IW) {
        char b[64];
        snprintf(b, sizeof b, "00%s", d->id);
        send_iw(d, b);
    } else {
        send_watch(d, "LK");
    }
    if (s->mode == MODE_FLOOD) {
        for (int k = 0; k < s->inflight; k++)
            flood_round(d);
    } else {
        uint64_t first = (uint64_t)(rnd(s) * s->interval_ms);
        uv_timer_start(&d->timer, on_timer, first, (uint64_t)s->interval_ms);
    }
    probe_maybe_start(s);
}

static void dev_connect(sim *s, simdev *d)
{
    d->started = true;
    int rc = 0;
    if (s->nsources > 0)
        rc = uv_tcp_bind(&d->tcp, (const struct sockaddr *)&s->sources[d->index % s->nsources], 0);
    if (rc == 0)
        rc = uv_tcp_connect(&d->creq, &d->tcp, (const struct sockaddr *)&s->target, on_connect);
    if (rc != 0) {
        s->errors++;
        d->closed = true;
        uv_close((uv_handle_t *)&d->tcp, on_closed);
    }
}

/* Every 10 ms: the next ramp_per_s / 100 connections. */
static void on_ramp(uv_timer_t *t)
{
    sim *s = t->data;
    int step = s->ramp_per_s / 100 > 0 ? s->ramp_per_s / 100 : 1;
    for (int k = 0; k < step && s->next_connect < s->n && !s->stopping; k++)
        dev_connect(s, &s->devs[s->next_connect++]);
    if (s->next_connect >= s->n || s->stopping)
        uv_timer_stop(t);
}

/* ---- the probe: the event stream and the SOS schedule ---- */

static int cmp_map(const void *a, const void *b)
{
    const idmap *x = a, *y = b;
    return x->db_id < y->db_id ? -1 : x->db_id > y->db_id;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void on_sos_timer(uv_timer_t *t)
{
    sim *s = t->data;
    while (s->sos_next < s->sos_count) {
        simdev *d = &s->devs[s->sos_next++];
        if (!d->connected || d->closed)
            continue;
        sample p;
        take_sample(d, &p);
        d->sos_ns = uv_hrtime();
        send_sos(d, &p, true);
        break;
    }
    if (s->sos_next >= s->sos_count)
        uv_timer_stop(t);
}

static void probe_maybe_start(sim *s)
{
    if (s->mode != MODE_PROBE || !s->sse.ready || s->stopping || uv_is_active((uv_handle_t *)&s->sos) ||
        s->sos_next > 0)
        return;
    if (s->connected + s->errors < (uint64_t)s->n)
        return;
    uv_timer_start(&s->sos, on_sos_timer, (uint64_t)s->sos_every_ms, (uint64_t)s->sos_every_ms);
}

static void sim_finish(sim *s);

static void probe_check_done(sim *s)
{
    if (s->sos_next >= s->sos_count && !uv_is_active((uv_handle_t *)&s->sos) &&
        s->n_ack_ms + s->n_event_ms >= 2 * (int)s->alarms && !s->stopping)
        sim_finish(s);
}

static void sse_event(sim *s, const char *data)
{
    if (strcmp(s->sse.event, DEVICES_EV_ALERT_OPENED) != 0)
        return;
    const char *p = strstr(data, "\"device_id\":");
    if (!p)
        return;
    idmap key = {.db_id = strtoll(p + 12, NULL, 10)};
    idmap *m = bsearch(&key, s->map, (size_t)s->nmap, sizeof *s->map, cmp_map);
    if (!m)
        return;
    simdev *d = &s->devs[m->index];
    if (!d->sos_ns || d->matched)
        return;
    d->matched = true;
    s->event_ms[s->n_event_ms++] = ms_since(d->sos_ns);
    probe_check_done(s);
}

static void sse_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    sse_client *c = h->data;
    buf->base = c->buf + c->len;
    buf->len = sizeof c->buf - c->len;
}

static void sse_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    sim *s = st->loop->data;
    sse_client *c = &s->sse;
    if (nread < 0) {
        if (!s->stopping) {
            fprintf(stderr, "nuanxin: 实时推送连接断开：%s\n", uv_strerror((int)nread));
            s->errors++;
            sim_finish(s);
        }
        return;
    }
    c->len += (size_t)nread;
    size_t start = 0;
    for (size_t i = 0; i < c->len; i++) {
        if (c->buf[i] != '\n')
            continue;
        char *line = c->buf + start;
        size_t ll = i - start;
        if (ll > 0 && line[ll - 1] == '\r')
            ll--;
        line[ll] = '\0';
        start = i + 1;
        if (!c->open) { /* the response head: status line and headers, up to an empty line */
            if (strncmp(line, "HTTP/", 5) == 0 && !strstr(line, " 200")) {
                fprintf(stderr, "nuanxin: 实时推送请求失败：%s\n", line);
                s->errors++;
                sim_finish(s);
                return;
            }
            if (ll == 0)
                c->open = true;
            continue;
        }
        if (strcmp(line, ": connected") == 0) {
            c->ready = true;
            probe_maybe_start(s);
        } else if (strncmp(line, "event: ", 7) == 0) {
            str_copy(c->event, line + 7, sizeof c->event);
        } else if (strncmp(line, "data: ", 6) == 0) {
            sse_event(s, line + 6);
        } else if (ll == 0) {
            c->event[0] = '\0';
        }
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
    if (c->len == sizeof c->buf)
        c->len = 0;
}

static void sse_connected(uv_connect_t *req, int status)
{
    sim *s = req->data;
    sse_client *c = &s->sse;
    if (status < 0) {
        fprintf(stderr, "nuanxin: 无法连接实时推送：%s\n", uv_strerror(status));
        s->errors++;
        sim_finish(s);
        return;
    }
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "GET /api/v1/events/stream HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                     "Accept: text/event-stream\r\n\r\n",
                     c->host, c->token);
    if (n <= 0 || (size_t)n >= sizeof head || write_copy((uv_stream_t *)&c->tcp, head, (size_t)n) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, sse_alloc, sse_read) != 0) {
        s->errors++;
        sim_finish(s);
    }
}

static int load_map(sim *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "nuanxin: 无法读取 %s\n", path);
        return -1;
    }
    s->map = calloc((size_t)s->n, sizeof *s->map);
    char line[128], imei[64];
    long long id;
    while (s->map && fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %lld", imei, &id) == 2)
            for (int i = 0; i < s->n; i++)
                if (strcmp(s->devs[i].id, imei) == 0 && s->nmap < s->n) {
                    s->map[s->nmap++] = (idmap){.db_id = id, .index = i};
                    break;
                }
    fclose(f);
    if (!s->map)
        return -1;
    qsort(s->map, (size_t)s->nmap, sizeof *s->map, cmp_map);
    return 0;
}

/* ---- the end ---- */

static void close_all(sim *s)
{
    for (int i = 0; i < s->n; i++) {
        simdev *d = &s->devs[i];
        if (!d->started) {
            d->closed = true;
            uv_close((uv_handle_t *)&d->tcp, on_closed);
        } else {
            dev_close(d);
        }
        if (!uv_is_closing((uv_handle_t *)&d->timer))
            uv_close((uv_handle_t *)&d->timer, on_closed);
    }
    uv_close((uv_handle_t *)&s->end, on_closed);
    uv_close((uv_handle_t *)&s->ramp, on_closed);
    uv_close((uv_handle_t *)&s->sos, on_closed);
    if (s->sse.inited && !s->sse.closed) {
        s->sse.closed = true;
        uv_close((uv_handle_t *)&s->sse.tcp, on_closed);
    }
}

/* The end: stop sending, give the server up to 5 s to acknowledge the alarms already sent (a real
 * watch keeps waiting for them too), then close everything. */
static void on_end(uv_timer_t *t)
{
    sim *s = t->data;
    if (s->drain_ticks == 0) {
        s->stopping = true;
        s->stop_ns = uv_hrtime();
        uv_timer_stop(&s->ramp);
        uv_timer_stop(&s->sos);
        for (int i = 0; i < s->n; i++)
            uv_timer_stop(&s->devs[i].timer);
    }
    if (s->acks < s->alarms && s->drain_ticks < 100) {
        s->drain_ticks++;
        uv_timer_start(&s->end, on_end, 50, 0);
        return;
    }
    close_all(s);
}

static void sim_finish(sim *s)
{
    if (s->stopping)
        return;
    uv_timer_stop(&s->end);
    s->drain_ticks = 0;
    on_end(&s->end);
}

static int parse_hostport(const char *target, struct sockaddr_in *out, char *host, size_t hostn)
{
    str_copy(host, target, hostn);
    char *colon = strrchr(host, ':');
    int64_t port = 0;
    if (!colon || str_to_i64(colon + 1, 1, 65535, &port))
        return -1;
    *colon = '\0';
    return uv_ip4_addr(strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, (int)port, out) == 0 ? 0 : -1;
}

static void print_lat(const char *name, double *v, int n)
{
    if (n == 0) {
        printf(",\"%s\":null", name);
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i50 = (int)ceil(0.50 * n) - 1, i99 = (int)ceil(0.99 * n) - 1;
    printf(",\"%s\":{\"n\":%d,\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f}", name, n, v[i50 < 0 ? 0 : i50],
           v[i99 < 0 ? 0 : i99], v[n - 1]);
}

int cmd_simulate(int argc, char **argv)
{
    const char *target = NULL, *sse = NULL, *token = NULL, *idmap_path = NULL, *sources = NULL;
    int proto = 0, m = MODE_NORMAL;
    int64_t n = 10, interval = 60, duration = 0, base = 0, interval_ms = 0, ramp = 0, sos_every = 100, inflight = 1;
    double rate = 0.0, lat = 36.4574, lon = 116.2984;
    static const char *const protocols[] = {"watch", "iw", NULL};
    static const char *const modes[] = {"normal", "flood", "hold", "probe", NULL}; /* MODE_* order */
    cli_flag flags[] = {
        CLI_INT("--devices", &n, 1, 200000, NULL, "手环数 number of wristbands (10)"),
        CLI_INT("--interval", &interval, 1, 86400, NULL, "每只手环的上报间隔（秒） seconds between reports (60)"),
        CLI_INT("--interval-ms", &interval_ms, 1, 86400000, NULL, "同上，毫秒 the same in milliseconds"),
        CLI_INT("--duration", &duration, 0, 86400 * 365, NULL, "运行秒数，0 为一直运行 seconds to run (0: forever)"),
        CLI_INT("--ramp", &ramp, 0, 1000000, NULL, "每秒新建连接数，0 为一次连完 connections per second"),
        CLI_INT("--sos-every-ms", &sos_every, 1, 3600000, NULL, "probe: 两次 SOS 的间隔 ms between SOS (100)"),
        CLI_INT("--inflight", &inflight, 1, 64, NULL, "flood: 每只手环同时在途的数据对 pairs in flight per device (1)"),
        CLI_INT("--id-base", &base, 0, 999999999LL, NULL, "设备号起点 first device number (0)"),
        CLI_REAL("--sos-rate", &rate, 0, 1, "每次上报带 SOS 的概率 chance of an SOS per report (0)"),
        CLI_REAL("--lat", &lat, -90, 90, "纬度 latitude"),
        CLI_REAL("--lon", &lon, -180, 180, "经度 longitude"),
        CLI_CHOICE("--protocol", &proto, protocols, "watch|iw (watch)"),
        CLI_CHOICE("--mode", &m, modes, "normal|flood|hold|probe (normal)"),
        CLI_STR("--target", &target, "HOST:PORT (127.0.0.1:5093, iw 5010)"),
        CLI_STR("--source", &sources, "本机源地址，逗号分隔 source addresses, comma-separated"),
        CLI_STR("--sse", &sse, "probe: 事件流 HOST:PORT the event stream"),
        CLI_STR("--token", &token, "probe: 访问令牌 bearer token"),
        CLI_STR("--id-map", &idmap_path, "probe: 设备号与居民对照文件 device-to-resident map file"),
    };
    if (cli_flags_parse(flags, sizeof flags / sizeof flags[0], argc, argv, 1, NULL, 0, NULL))
        return 2;
    if (m == MODE_PROBE && (!sse || !token || !idmap_path)) {
        fprintf(stderr, "nuanxin: --mode probe 需要 --sse HOST:PORT、--token 和 --id-map 文件\n");
        return 2;
    }
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    int rc = 2;
    s->proto = proto == 1 ? WIRE_PROTO_IW : WIRE_PROTO_WATCH;
    s->mode = m;
    if (!target)
        target = s->proto == WIRE_PROTO_IW ? "127.0.0.1:5010" : "127.0.0.1:5093";
    char host[64];
    if (parse_hostport(target, &s->target, host, sizeof host)) {
        fprintf(stderr, "nuanxin: --target 应为 HOST:PORT：%s\n", target);
        goto done;
    }
    if (sources) {
        char list[1024];
        str_copy(list, sources, sizeof list);
        char *save = NULL;
        for (char *a = strtok_r(list, ",", &save); a && s->nsources < MAX_SOURCES; a = strtok_r(NULL, ",", &save))
            if (uv_ip4_addr(a, 0, &s->sources[s->nsources++]) != 0) {
                fprintf(stderr, "nuanxin: --source 地址无效：%s\n", a);
                goto done;
            }
    }
    if (m == MODE_PROBE && parse_hostport(sse, &s->sse.addr, s->sse.host, sizeof s->sse.host)) {
        fprintf(stderr, "nuanxin: --sse 应为 HOST:PORT：%s\n", sse);
        goto done;
    }
    s->n = (int)n;
    s->interval_ms = interval_ms > 0 ? (int)interval_ms : (int)(interval * 1000);
    s->ramp_per_s = (int)ramp;
    s->inflight = (int)inflight;
    s->sos_rate = rate;
    s->lat = lat;
    s->lon = lon;
    s->seed = (unsigned)clock_mono_ms();
    s->sos_every_ms = (int)sos_every;
    s->sos_count = s->n;
    rc = 1;
    s->devs = calloc((size_t)n, sizeof *s->devs);
    if (!s->devs)
        goto done;
    if (m == MODE_PROBE) {
        s->ack_ms = calloc((size_t)n, sizeof *s->ack_ms);
        s->event_ms = calloc((size_t)n, sizeof *s->event_ms);
        if (!s->ack_ms || !s->event_ms)
            goto done;
    }
    /* one descriptor per device, plus a few of our own */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur != RLIM_INFINITY && (uint64_t)n + 16 > (uint64_t)rl.rlim_cur)
            fprintf(stderr, "nuanxin: 警告：打开文件数上限 %llu，不够 %lld 个连接\n", (unsigned long long)rl.rlim_cur,
                    (long long)n);
    }
    uv_loop_init(&s->loop);
    s->loop.data = s;
    for (int i = 0; i < s->n; i++) {
        simdev *d = &s->devs[i];
        d->s = s;
        d->index = i;
        d->battery = 60 + i % 40;
        if (s->proto == WIRE_PROTO_WATCH)
            snprintf(d->id, sizeof d->id, "%010lld", (long long)(5600000000LL + base + i));
        else
            snprintf(d->id, sizeof d->id, "86%013lld", (long long)(base + i));
        uv_tcp_init(&s->loop, &d->tcp);
        uv_timer_init(&s->loop, &d->timer);
        d->tcp.data = d;
        d->timer.data = d;
        d->creq.data = d;
    }
    uv_timer_init(&s->loop, &s->end);
    uv_timer_init(&s->loop, &s->ramp);
    uv_timer_init(&s->loop, &s->sos);
    s->end.data = s->ramp.data = s->sos.data = s;
    if (m == MODE_PROBE) {
        if (load_map(s, idmap_path)) {
            s->stopping = true;
            close_all(s);
            uv_run(&s->loop, UV_RUN_DEFAULT);
            uv_loop_close(&s->loop);
            goto done;
        }
        s->sse.token = token;
        uv_tcp_init(&s->loop, &s->sse.tcp);
        s->sse.inited = true;
        s->sse.tcp.data = &s->sse;
        s->sse.creq.data = s;
        uv_tcp_connect(&s->sse.creq, &s->sse.tcp, (const struct sockaddr *)&s->sse.addr, sse_connected);
    }
    if (s->ramp_per_s > 0) {
        uv_timer_start(&s->ramp, on_ramp, 0, 10);
    } else {
        for (int i = 0; i < s->n; i++)
            dev_connect(s, &s->devs[i]);
        s->next_connect = s->n;
    }
    if (duration > 0)
        uv_timer_start(&s->end, on_end, (uint64_t)duration * 1000u, 0);
    fprintf(stderr, "模拟 %d 个%s手环 → %s（%s，每 %d 毫秒一轮，SOS 概率 %.3f）\n", s->n,
            s->proto == WIRE_PROTO_IW ? " IW " : "", target, modes[m], s->interval_ms, rate);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    uv_loop_close(&s->loop);
    double secs = s->first_ns && s->stop_ns > s->first_ns ? (double)(s->stop_ns - s->first_ns) / 1e9 : 0;
    printf("{\"devices\":%d,\"mode\":\"%s\",\"connected\":%llu,\"frames\":%llu,\"positions\":%llu,\"readings\":%llu,"
           "\"alarms\":%llu,\"alarm_acks\":%llu,\"commands\":%llu,\"bytes_in\":%llu,\"errors\":%llu,\"seconds\":%.3f,"
           "\"frames_per_s\":%.1f,\"rows_per_s\":%.1f",
           s->n, modes[m], (unsigned long long)s->connected, (unsigned long long)s->frames,
           (unsigned long long)s->positions, (unsigned long long)s->readings, (unsigned long long)s->alarms,
           (unsigned long long)s->acks, (unsigned long long)s->commands, (unsigned long long)s->bytes_in,
           (unsigned long long)s->errors, secs, secs > 0 ? (double)s->frames / secs : 0.0,
           secs > 0 ? (double)(s->positions + s->readings) / secs : 0.0);
    if (m == MODE_PROBE) {
        printf(",\"sos_sent\":%llu,\"mapped\":%d", (unsigned long long)s->alarms, s->nmap);
        print_lat("ack_ms", s->ack_ms, s->n_ack_ms);
        print_lat("event_ms", s->event_ms, s->n_event_ms);
    }
    printf("}\n");
    rc = 0;
done:
    free(s->map);
    free(s->ack_ms);
    free(s->event_ms);
    free(s->devs);
    free(s);
    return rc;
}
