/* test_edge.c — the device edge of the TCP gateway (issue 21) on a real, migrated SQLite store:
 * the connection cap derived from the descriptor limit; a connection pinned to the first id it names
 * (a frame naming another id is dropped and counted, the real device's connection stays); an
 * unregistered id's SOS raises nothing and is not acknowledged, and the quarantine's bound holds; the
 * per-address limits on connections and alarms (loopback not exempt here); the identify timeout; the
 * alarm cap of the ingest queue; a takeover signal for an id back from another address soon after its
 * connection closed (and none for a reconnect from the same address); the allow-list. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "gateway/gateway.h"
#include "gateway/ingest.h"
#include "wire/proto.h"
#include "test.h"

static store *db;
static int port;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t count(const char *sql)
{
    store_tx *tx;
    int64_t n = -1;
    if (store_begin(db, STORE_READ, &tx, NULL) == 0) {
        store_one_int(tx, sql, NULL, 0, &n, NULL);
        store_rollback(tx);
    }
    return n;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    struct timeval tv = {0, 800 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void say(int fd, const char *dev, const char *content)
{
    char f[256];
    int n = snprintf(f, sizeof f, "[3G*%s*%04zx*%s]", dev, strlen(content), content);
    if (write(fd, f, (size_t)n) != n)
        fprintf(stderr, "short write\n");
}

/* What the gateway sent back within the timeout: "" for nothing, "EOF" for a closed connection. */
static const char *hear(int fd)
{
    static char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n == 0)
        return "EOF";
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

#define SOS "AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000"

static void test_conn_cap(void)
{
    CHECK_INT(gateway_conn_cap(50000, 1024, 1292), 256);     /* nofile below the reserve: a quarter */
    CHECK_INT(gateway_conn_cap(50000, 20000, 1292), 18708);  /* the reserve is kept */
    CHECK_INT(gateway_conn_cap(1000, 1048576, 1292), 1000);  /* the configured cap when it fits */
    CHECK_INT(gateway_conn_cap(50000, 40, 1292), 16);
}

static void test_alarm_cap(void)
{
    CHECK_INT(ingest_alarms_max(100000), 10000);
    CHECK_INT(ingest_alarms_max(40), 64);
}

static void test_edge(void)
{
    store_tx *tx;
    CHECK_INT(store_begin(db, STORE_WRITE, &tx, NULL), 0);
    CHECK_INT(store_exec(tx,
                         "INSERT INTO devices (imei, protocol, registered, online, created_at, updated_at) VALUES "
                         "('5678900001', 'watch', 1, 0, 1, 1), ('5678900002', 'watch', 1, 0, 1, 1)",
                         NULL, 0, NULL, NULL),
              0);
    CHECK_INT(store_commit(tx, NULL), 0);
    gw_options o = {.watch_listen = "127.0.0.1:0", .iw_listen = "off", .batch_ms = 20, .limit_exempt = "",
                    .conns_per_addr = 4, .alarms_per_min = 3, .identify_timeout_s = 1, .quarantine_max = 2,
                    .takeover_window_s = 60};
    gateway *g = NULL;
    nx_err e = {0};
    CHECK_INT(gateway_start(db, &o, &g, &e), 0);
    if (!g)
        return;
    port = gateway_port(g, WIRE_PROTO_WATCH);

    /* pinned: the real device, and a forger pinned to its own id */
    int real = dial(), forger = dial();
    say(real, "5678900001", "LK");
    CHECK_STR(hear(real), "[3G*5678900001*0002*LK]");
    say(forger, "5678900002", "LK");
    CHECK_STR(hear(forger), "[3G*5678900002*0002*LK]");
    say(forger, "5678900001", SOS);
    CHECK_STR(hear(forger), "");
    say(real, "5678900001", "LK");
    CHECK_STR(hear(real), "[3G*5678900001*0002*LK]"); /* not evicted */
    gw_stats st;
    gateway_stats(g, &st);
    CHECK_INT(st.forged, 1);
    CHECK_INT(count("SELECT COUNT(*) FROM alerts"), 0);

    /* a registered SOS is acknowledged (alarm 1 of 3 this minute) */
    say(real, "5678900001", SOS);
    CHECK_STR(hear(real), "[3G*5678900001*0002*AL]");
    CHECK_INT(count("SELECT COUNT(*) FROM alerts WHERE kind = 'sos'"), 1);

    /* quarantine: an unregistered id's SOS raises nothing and is not acknowledged (alarm 2) */
    int q = dial();
    say(q, "5670000001", "LK");
    CHECK_STR(hear(q), "[3G*5670000001*0002*LK]");
    say(q, "5670000001", SOS);
    CHECK_STR(hear(q), "");
    CHECK_INT(count("SELECT COUNT(*) FROM alerts"), 1);
    CHECK_INT(count("SELECT COUNT(*) FROM device_positions"), 1); /* the registered SOS's */
    CHECK_INT(count("SELECT COUNT(*) FROM devices WHERE registered = 0"), 1);
    say(q, "5670000001", SOS); /* held at the gateway now: not queued */
    CHECK_STR(hear(q), "");
    gateway_stats(g, &st);
    CHECK_INT(st.held, 1);

    /* connections per address: 3 open, the 4th allowed, a 5th closed at once */
    int c4 = dial(), c5 = dial();
    CHECK_STR(hear(c5), "EOF");
    /* the quarantine's bound: a second unknown id gets a row, a third does not */
    say(c4, "5670000002", "LK");
    CHECK_STR(hear(c4), "[3G*5670000002*0002*LK]");
    close(c4);
    sleep_ms(100);
    int c6 = dial();
    say(c6, "5670000003", "LK");
    CHECK_STR(hear(c6), "[3G*5670000003*0002*LK]"); /* still answered (watch.md) */
    sleep_ms(200);
    CHECK_INT(count("SELECT COUNT(*) FROM devices WHERE registered = 0"), 2);
    CHECK_INT(count("SELECT COUNT(*) FROM devices WHERE imei = '5670000003'"), 0);
    close(c6);
    /* an unknown id silent for over an hour (and nothing attached) makes room for a new one */
    CHECK_INT(store_begin(db, STORE_WRITE, &tx, NULL), 0);
    CHECK_INT(store_exec(tx, "UPDATE devices SET last_seen_at = 1 WHERE imei = '5670000002'", NULL, 0, NULL, NULL), 0);
    CHECK_INT(store_commit(tx, NULL), 0);
    sleep_ms(100);
    int c7 = dial();
    say(c7, "5670000003", "LK");
    CHECK_STR(hear(c7), "[3G*5670000003*0002*LK]");
    sleep_ms(200);
    CHECK_INT(count("SELECT COUNT(*) FROM devices WHERE registered = 0"), 2);
    CHECK_INT(count("SELECT COUNT(*) FROM devices WHERE imei = '5670000003'"), 1);
    CHECK_INT(count("SELECT COUNT(*) FROM devices WHERE imei = '5670000002'"), 0);
    close(c7);

    /* alarms per address and minute (3): the registered SOS, the quarantined one that was queued,
     * this one; the next is over the budget (the one held at the gateway was not counted) */
    say(real, "5678900001", SOS);
    CHECK_STR(hear(real), "[3G*5678900001*0002*AL]");
    say(real, "5678900001", SOS);
    CHECK_STR(hear(real), ""); /* over the address's alarm budget: not acknowledged */
    gateway_stats(g, &st);
    CHECK(st.limited >= 1);

    /* identify timeout: a connection that names no device is closed */
    sleep_ms(100);
    int mute = dial();
    sleep_ms(1500);
    CHECK_STR(hear(mute), "EOF");
    close(mute);
    close(real);
    close(forger);
    close(q);
    close(c5);
    gateway_stop(g);

    /* takeover, "shortly after": the device's connection closed, and the id comes back from another
     * address within takeover_window_s: flagged, alerted */
    CHECK_INT(count("SELECT COUNT(*) FROM devices WHERE takeover_at IS NOT NULL"), 0);
    CHECK_INT(gateway_start(db, &o, &g, &e), 0);
    if (!g)
        return;
    port = gateway_port(g, WIRE_PROTO_WATCH);
    int first = dial();
    say(first, "5678900002", "LK");
    CHECK_STR(hear(first), "[3G*5678900002*0002*LK]");
    close(first);
    sleep_ms(200);
    int again = dial(); /* the same address: a reconnect, no signal */
    say(again, "5678900002", "LK");
    CHECK_STR(hear(again), "[3G*5678900002*0002*LK]");
    close(again);
    sleep_ms(200);
    gateway_stats(g, &st);
    CHECK_INT(st.takeovers, 0);
    int other = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    from.sin_addr.s_addr = htonl(0x7f000002);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv0 = {0, 800 * 1000};
    setsockopt(other, SOL_SOCKET, SO_RCVTIMEO, &tv0, sizeof tv0);
    CHECK_INT(bind(other, (struct sockaddr *)&from, sizeof from), 0);
    CHECK_INT(connect(other, (struct sockaddr *)&to, sizeof to), 0);
    say(other, "5678900002", "LK");
    CHECK_STR(hear(other), "[3G*5678900002*0002*LK]");
    sleep_ms(300);
    gateway_stats(g, &st);
    CHECK_INT(st.takeovers, 1);
    CHECK_INT(count("SELECT COUNT(*) FROM devices WHERE imei = '5678900002' AND takeover_at IS NOT NULL"), 1);
    CHECK_INT(count("SELECT COUNT(*) FROM alerts WHERE kind = 'takeover'"), 1);
    close(other);
    gateway_stop(g);

    /* the allow-list: 127.0.0.2 is outside 127.0.0.1/32 and is closed at once */
    gw_options a = {.watch_listen = "127.0.0.1:0", .iw_listen = "off", .allow_from = "127.0.0.1/32",
                    .quarantine_max = 10};
    CHECK_INT(gateway_start(db, &a, &g, &e), 0);
    if (!g)
        return;
    port = gateway_port(g, WIRE_PROTO_WATCH);
    int in = dial();
    say(in, "5678900002", "LK");
    CHECK_STR(hear(in), "[3G*5678900002*0002*LK]");
    int out = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    src.sin_addr.s_addr = htonl(0x7f000002);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {0, 800 * 1000};
    setsockopt(out, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK_INT(bind(out, (struct sockaddr *)&src, sizeof src), 0);
    CHECK_INT(connect(out, (struct sockaddr *)&dst, sizeof dst), 0);
    say(out, "5678900002", "LK");
    const char *got = hear(out);
    CHECK(strcmp(got, "EOF") == 0 || strcmp(got, "") == 0);
    gateway_stats(g, &st);
    CHECK_INT(st.disallowed, 1);
    close(in);
    close(out);
    gateway_stop(g);
}

int main(void)
{
    char dir[] = "/tmp/nx_test_edge_XXXXXX", path[300];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/edge.db", dir);
    nx_err e = {0};
    store_options so = {.readers = 2, .busy_ms = 5000, .create = true};
    CHECK_INT(store_open(path, &so, &db, &e), 0);
    CHECK_INT(store_migrate(db, NULL, &e), 0);
    TEST_RUN(test_conn_cap);
    TEST_RUN(test_alarm_cap);
    TEST_RUN(test_edge);
    store_close(db);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return TEST_DONE();
}
