/* test_ingest.c — the gateway's writer queue on a real, migrated SQLite store: rows pushed while the
 * store's single writer is held by the test pile up; ingest_over_high says so once high rows wait
 * (and not before); when the writer gets the store back it writes them all, and the drained callback
 * is called exactly once, on the way down to the low mark. Past queue_max a non-alarm row is refused
 * (the hard cap), an alarm is not: alarms have a cap of their own (ingest_alarms_max), so that a flood
 * of forged alarms cannot grow the queue without limit (issue 21). A backlog is written in batches
 * of up to INGEST_BATCH_MAX rows (issue 18). Alarms have a thread of their own whose transaction
 * goes ahead of other writers waiting for the store, and a device's rows stay in order across the two
 * threads (issue 18, ninth session). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/str.h"
#include "gateway/ingest.h"
#include "store/store.h"
#include "wire/watch.h"
#include "test.h"

static int drained_calls;
static int alarms_done;

static void on_drained(void *ctx)
{
    (void)ctx;
    __atomic_fetch_add(&drained_calls, 1, __ATOMIC_SEQ_CST);
}

static int64_t count_rows(store *db, const char *sql);
#define SQL_B_POSITIONS                                                                                      \
    "SELECT COUNT(*) FROM device_positions p JOIN devices d ON d.id = p.device_id WHERE d.imei = '5678900002'"

static void on_done(void *ctx, void *token, int rc, int64_t alert_id)
{
    (void)ctx;
    (void)token;
    (void)alert_id;
    if (rc == 0)
        __atomic_fetch_add(&alarms_done, 1, __ATOMIC_SEQ_CST);
}

static int64_t count_rows(store *db, const char *sql)
{
    store_tx *tx;
    int64_t n = -1;
    if (store_begin(db, STORE_READ, &tx, NULL) == 0) {
        store_one_int(tx, sql, NULL, 0, &n, NULL);
        store_rollback(tx);
    }
    return n;
}

/* Whether the first position stored after row id `after` is device 5678900002's (the alarm's): its
 * transaction committed before any other that stored positions (ids grow with each insert, and the
 * writer's transactions do not overlap). A count taken in on_done could not tell: the next
 * transaction may commit between the alarm's commit and the count. */
static bool alarm_first_after(store *db, int64_t after)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM device_positions p JOIN devices d ON d.id = p.device_id"
             " WHERE d.imei = '5678900002' AND p.id = (SELECT MIN(id) FROM device_positions WHERE id > %lld)",
             (long long)after);
    return count_rows(db, sql) == 1;
}

static int exec_w_script(store *db, const char *sql)
{
    store_tx *tx;
    nx_err e = {0};
    int rc = store_begin(db, STORE_WRITE, &tx, &e);
    return rc ? rc : store_finish(tx, store_exec_script(tx, sql, &e), &e);
}

static void item(devices_in *in, const char *frame)
{
    memset(in, 0, sizeof *in);
    in->kind = DEVICES_IN_FRAME;
    in->proto = WIRE_PROTO_WATCH;
    in->at = 1795000000000LL;
    nx_err e = {0};
    watch_decode((const uint8_t *)frame, strlen(frame), &in->msg, &e);
    str_copy(in->imei, in->msg.device_id, sizeof in->imei);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Another writer of the store (an HTTP write): one row in a table of its own. */
static void *other_writer(void *arg)
{
    store *s = arg;
    store_tx *tx;
    nx_err e = {0};
    if (store_begin(s, STORE_WRITE, &tx, &e) == 0)
        store_finish(tx, store_exec(tx, "INSERT INTO t_other (v) SELECT COUNT(*) FROM device_positions", NULL, 0, NULL, &e), &e);
    return NULL;
}

int main(void)
{
    char dir[] = "/tmp/nx_test_ingest_XXXXXX", db[300];
    if (!mkdtemp(dir))
        return 1;
    snprintf(db, sizeof db, "%s/ingest.db", dir);
    nx_err e = {0};
    store *s = NULL;
    store_options o = {.readers = 2, .busy_ms = 5000, .create = true};
    CHECK_INT(store_open(db, &o, &s, &e), 0);
    CHECK_INT(store_migrate(s, NULL, &e), 0);
    gw_ingest *g = NULL;
    /* batch_ms 1 s: the writer takes nothing before the alarm (no batch of 200 can form under a cap of 40) */
    CHECK_INT(ingest_start(s, 1000, 60000, 40, on_done, NULL, &g, &e), 0);
    ingest_backpressure(g, 20, 5, on_drained);
    devices_in pos, sos;
    item(&pos, "[3G*5678900001*0050*UD,041126,081530,A,36.457400,N,116.298400,E,1.2,90.0,30.0,6,80,75,900,0,00000008]");
    item(&sos, "[3G*5678900002*0050*AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000]");

    /* hold the single writer: nothing can be written */
    store_tx *hold = NULL;
    CHECK_INT(store_begin(s, STORE_WRITE, &hold, &e), 0);
    CHECK(!ingest_over_high(g));
    int pushed = 0;
    for (int i = 0; i < 60; i++)
        if (ingest_push(g, &pos, NULL) == 0)
            pushed++;
    CHECK_INT(pushed, 40); /* queue_max */
    CHECK(ingest_over_high(g));
    int token = 1;
    CHECK_INT(ingest_push(g, &sos, &token), 0); /* an alarm is never refused */
    CHECK_INT(__atomic_load_n(&drained_calls, __ATOMIC_SEQ_CST), 0);
    store_rollback(hold);

    /* the alarm frame carries a position section too (without a fix): pushed + 1 positions */
    for (int i = 0; i < 200 && (count_rows(s, "SELECT COUNT(*) FROM device_positions") < pushed + 1 ||
                                __atomic_load_n(&alarms_done, __ATOMIC_SEQ_CST) < 1);
         i++)
        sleep_ms(20);
    CHECK_INT(count_rows(s, "SELECT COUNT(*) FROM device_positions"), pushed + 1);
    CHECK_INT(count_rows(s, "SELECT COUNT(*) FROM alerts WHERE kind = 'sos'"), 1);
    CHECK_INT(__atomic_load_n(&alarms_done, __ATOMIC_SEQ_CST), 1);
    CHECK_INT(__atomic_load_n(&drained_calls, __ATOMIC_SEQ_CST), 1);
    uint64_t written, dropped, batches;
    ingest_counters(g, &written, &dropped, &batches);
    CHECK_INT(dropped, 60 - pushed);
    CHECK(!ingest_over_high(g));
    ingest_stop(g);
    CHECK_INT(__atomic_load_n(&drained_calls, __ATOMIC_SEQ_CST), 1); /* once per crossing */

    /* the alarms' own cap: with the store held, a flood of alarms is refused past it (the writer may
     * have taken one batch out of the queue before it blocked) */
    CHECK_INT(ingest_start(s, 1000, 60000, 40, on_done, NULL, &g, &e), 0);
    CHECK_INT(store_begin(s, STORE_WRITE, &hold, &e), 0);
    int accepted = 0;
    for (int i = 0; i < 2000; i++)
        if (ingest_push(g, &sos, &token) == 0)
            accepted++;
    CHECK(accepted >= ingest_alarms_max(40));
    CHECK(accepted <= ingest_alarms_max(40) + INGEST_BATCH);
    store_rollback(hold);
    ingest_stop(g);

    /* An alarm's batch is only the alarm's (issue 18): telemetry of other devices queued before it
     * is written after it, so the alarm's commit is short. When the alarm is done, none of the 30
     * positions of the other device queued before it are in the store yet. */
    CHECK_INT(ingest_start(s, 1000, 60000, 1000, on_done, NULL, &g, &e), 0);
    CHECK_INT(store_begin(s, STORE_WRITE, &hold, &e), 0);
    int64_t before = count_rows(s, "SELECT COUNT(*) FROM device_positions");
    int64_t max_id = count_rows(s, "SELECT COALESCE(MAX(id), 0) FROM device_positions");
    for (int i = 0; i < 30; i++)
        CHECK_INT(ingest_push(g, &pos, NULL), 0);
    int done0 = __atomic_load_n(&alarms_done, __ATOMIC_SEQ_CST);
    CHECK_INT(ingest_push(g, &sos, &token), 0);
    store_rollback(hold);
    for (int i = 0; i < 200 && count_rows(s, "SELECT COUNT(*) FROM device_positions") < before + 31; i++)
        sleep_ms(20);
    ingest_stop(g);
    CHECK_INT(__atomic_load_n(&alarms_done, __ATOMIC_SEQ_CST), done0 + 1);
    CHECK(alarm_first_after(s, max_id));
    CHECK_INT(count_rows(s, "SELECT COUNT(*) FROM device_positions"), before + 31);

    /* The alarm's own thread and urgent transaction (issue 18, ninth session): while the store is held,
     * a batch of telemetry and another writer wait for it; an alarm pushed after them is written
     * first — when it is done, neither the other writer's row nor the telemetry is in the store. (A
     * single writer thread would have the alarm wait behind its telemetry batch, a plain lock would
     * let the other writer in first about as often as not.) */
    CHECK_INT(exec_w_script(s, "CREATE TABLE t_other (v INTEGER NOT NULL)"), 0);
    CHECK_INT(ingest_start(s, 10, 60000, 1000, on_done, NULL, &g, &e), 0);
    CHECK_INT(store_begin(s, STORE_WRITE, &hold, &e), 0);
    before = count_rows(s, "SELECT COUNT(*) FROM device_positions");
    max_id = count_rows(s, "SELECT COALESCE(MAX(id), 0) FROM device_positions");
    for (int i = 0; i < 30; i++)
        CHECK_INT(ingest_push(g, &pos, NULL), 0);
    pthread_t other;
    pthread_create(&other, NULL, other_writer, s);
    sleep_ms(100); /* both start waiting for the store (if not, the alarm is first all the more) */
    done0 = __atomic_load_n(&alarms_done, __ATOMIC_SEQ_CST);
    CHECK_INT(ingest_push(g, &sos, &token), 0);
    for (int i = 0; i < 500 && !store_urgent_waiting(s); i++) /* a hang guard, not a timing */
        sleep_ms(2);
    CHECK(store_urgent_waiting(s));
    store_rollback(hold);
    pthread_join(other, NULL);
    for (int i = 0; i < 200 && count_rows(s, "SELECT COUNT(*) FROM device_positions") < before + 31; i++)
        sleep_ms(20);
    ingest_stop(g);
    CHECK_INT(__atomic_load_n(&alarms_done, __ATOMIC_SEQ_CST), done0 + 1);
    CHECK(alarm_first_after(s, max_id)); /* before the telemetry */
    /* the other writer saw the alarm's position: it came after the alarm */
    char q[200];
    snprintf(q, sizeof q, "SELECT COUNT(*) FROM t_other WHERE v > %lld", (long long)before);
    CHECK_INT(count_rows(s, q), 1);
    CHECK_INT(count_rows(s, "SELECT COUNT(*) FROM device_positions"), before + 31);

    /* A device's order across the two threads: its 30 positions are in the writer's batch (taken,
     * waiting for the held store) when its alarm comes; the alarm is written after them (in the same
     * transaction, or after theirs): the alarm's position (no fix) has a higher id than all 30. */
    devices_in pos_b;
    item(&pos_b, "[3G*5678900002*0050*UD,041126,081530,A,36.457400,N,116.298400,E,1.2,90.0,30.0,6,80,75,900,0,00000008]");
    CHECK_INT(ingest_start(s, 10, 60000, 1000, on_done, NULL, &g, &e), 0);
    CHECK_INT(store_begin(s, STORE_WRITE, &hold, &e), 0);
    int64_t b_before = count_rows(s, SQL_B_POSITIONS);
    for (int i = 0; i < 30; i++)
        CHECK_INT(ingest_push(g, &pos_b, NULL), 0);
    sleep_ms(100); /* the writer takes them (batch_ms 10) and waits for the store */
    done0 = __atomic_load_n(&alarms_done, __ATOMIC_SEQ_CST);
    CHECK_INT(ingest_push(g, &sos, &token), 0);
    store_rollback(hold);
    for (int i = 0; i < 200 && count_rows(s, SQL_B_POSITIONS) < b_before + 31; i++)
        sleep_ms(20);
    ingest_stop(g);
    CHECK_INT(__atomic_load_n(&alarms_done, __ATOMIC_SEQ_CST), done0 + 1);
    CHECK_INT(count_rows(s, SQL_B_POSITIONS), b_before + 31);
    CHECK_INT(count_rows(s, "SELECT COUNT(*) FROM device_positions p JOIN devices d ON d.id = p.device_id"
                            " WHERE d.imei = '5678900002' AND p.fix = 1 AND p.id > (SELECT MAX(p2.id)"
                            " FROM device_positions p2 WHERE p2.device_id = d.id AND p2.fix = 0)"), 0);
    CHECK_INT(count_rows(s, "SELECT COUNT(*) FROM device_positions p JOIN devices d ON d.id = p.device_id"
                            " WHERE d.imei = '5678900002' AND p.fix = 1"), 30);

    /* A backlog is written in batches of up to INGEST_BATCH_MAX rows (issue 18): 1500 rows queued
     * while the store is held take at most three batches once it is free (the first one the writer
     * took before it blocked, then what waits: 1000 and the rest), not 1500 / INGEST_BATCH = 8. */
    CHECK_INT(ingest_start(s, 1000, 60000, 2000, on_done, NULL, &g, &e), 0);
    CHECK_INT(store_begin(s, STORE_WRITE, &hold, &e), 0);
    before = count_rows(s, "SELECT COUNT(*) FROM device_positions");
    for (int i = 0; i < 1500; i++)
        CHECK_INT(ingest_push(g, &pos, NULL), 0);
    store_rollback(hold);
    /* wait for the writer's counters, not for the rows: they are counted after the commit that makes
     * them visible (a reader could see the last batch's rows before it is counted) */
    for (int i = 0; i < 500; i++) {
        ingest_counters(g, &written, &dropped, &batches);
        if (written >= 1500)
            break;
        sleep_ms(20);
    }
    ingest_stop(g);
    CHECK_INT(count_rows(s, "SELECT COUNT(*) FROM device_positions"), before + 1500);
    CHECK_INT(written, 1500);
    CHECK(batches >= 2 && batches <= 3);
    store_close(s);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return TEST_DONE();
}
