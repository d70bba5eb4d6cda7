/* test_outbox.c — events written with the change, delivered by the dispatcher at least once to each
 * subscriber: nothing from a rolled-back transaction, once per subscriber, kind prefixes, retries of
 * a failing handler, and resumption from the cursor after a restart. On SQLite and, with NX_TEST_PG,
 * on PostgreSQL (backends.h), where two more things are tested: two processes with the same
 * subscriber get each event delivered once between them, also when the serving one is killed, and
 * concurrent writers never make the dispatcher skip an event whose id became visible late. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "notify/dispatcher.h"
#include "notify/outbox.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"

/* The same DDL as outbox.h documents (the real one comes from the migration). */
static const char ddl[] = "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
                          " community_id INTEGER, kind TEXT NOT NULL, subject TEXT,"
                          " payload TEXT NOT NULL DEFAULT '{}');"
                          "CREATE TABLE event_cursors (subscriber TEXT PRIMARY KEY,"
                          " last_id INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);";

/* What a subscriber received, filled on the dispatcher thread. */
typedef struct rec {
    pthread_mutex_t mu;
    int n;
    int64_t ids[64];
    char kinds[64][32];
    int64_t communities[64];
    char subjects[64][32];
    char payloads[64][64];
    int fail_first; /* fail this many calls before succeeding */
    int calls;
} rec;

static void rec_init(rec *r, int fail_first)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->fail_first = fail_first;
}

static int handler(store *s, const nx_event *ev, void *ctx)
{
    rec *r = ctx;
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    r->calls++;
    if (r->calls <= r->fail_first) {
        rc = NX_EBUSY;
    } else if (r->n < 64) {
        r->ids[r->n] = ev->id;
        snprintf(r->kinds[r->n], sizeof r->kinds[0], "%s", ev->kind);
        r->communities[r->n] = ev->community_id;
        snprintf(r->subjects[r->n], sizeof r->subjects[0], "%s", ev->subject ? ev->subject : "(null)");
        snprintf(r->payloads[r->n], sizeof r->payloads[0], "%s", ev->payload);
        r->n++;
    }
    pthread_mutex_unlock(&r->mu);
    (void)s;
    return rc;
}

static int rec_count(rec *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Wait up to ms for r to hold at least n events. */
static bool wait_for(rec *r, int n, int ms)
{
    int64_t until = clock_mono_ms() + ms;
    while (clock_mono_ms() < until) {
        if (rec_count(r) >= n)
            return true;
        usleep(5000);
    }
    return rec_count(r) >= n;
}

static store *open_db(const char *name)
{
    store *s = tb_open(name, 4, false);
    if (s)
        tb_script(s, tb_sql(ddl));
    return s;
}

/* Emit one event in its own transaction; returns its id (or -1). */
static int64_t emit(store *s, const char *kind, int64_t community, const char *subject, const char *payload,
                    bool commit)
{
    nx_err e = {0};
    store_tx *tx;
    if (store_begin(s, STORE_WRITE, &tx, &e) != 0)
        return -1;
    int64_t id = -1;
    if (outbox_emit(tx, kind, community, subject, payload, &e) != 0 ||
        store_one_int(tx, "SELECT max(id) FROM events", NULL, 0, &id, &e) != 0) {
        fprintf(stderr, "emit: %s\n", e.msg);
        store_rollback(tx);
        return -1;
    }
    if (!commit) {
        store_rollback(tx);
        return id;
    }
    return store_commit(tx, &e) == 0 ? id : -1;
}

static int64_t cursor_of(store *s, const char *name)
{
    nx_err e = {0};
    store_tx *tx;
    int64_t v = -1;
    if (store_begin(s, STORE_READ, &tx, &e) != 0)
        return -1;
    if (store_one_int(tx, "SELECT last_id FROM event_cursors WHERE subscriber = $1",
                      (store_param[]){P_TEXT(name)}, 1, &v, &e) != 0)
        v = -1;
    store_rollback(tx);
    return v;
}

static void test_validation(void)
{
    store *s = open_db("valid.db");
    if (s == NULL)
        return;
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(outbox_emit(tx, "", 1, NULL, NULL, &e), NX_EINVAL);
    CHECK_STR(e.field, "kind");
    CHECK_INT(outbox_emit(tx, "Devices.Alert", 1, NULL, NULL, &e), NX_EINVAL);
    CHECK_INT(outbox_emit(tx, "a b", 1, NULL, NULL, &e), NX_EINVAL);
    CHECK_INT(outbox_emit(tx, NULL, 1, NULL, NULL, &e), NX_EINVAL);
    char longkind[OUTBOX_KIND_MAX + 2];
    memset(longkind, 'k', sizeof longkind - 1);
    longkind[sizeof longkind - 1] = '\0';
    CHECK_INT(outbox_emit(tx, longkind, 1, NULL, NULL, &e), NX_EINVAL);
    CHECK_INT(outbox_emit(tx, "x.y", 1, NULL, "[1,2]", &e), NX_EINVAL);
    CHECK_STR(e.field, "payload");
    CHECK_INT(outbox_emit(tx, "x.y", 1, NULL, "not json", &e), NX_EINVAL);
    CHECK_INT(outbox_emit(tx, "x.y", 1, NULL, "{\"a\":\"\xff\"}", &e), NX_EINVAL);
    CHECK_INT(outbox_emit(tx, "x.y", -5, NULL, NULL, &e), NX_EINVAL);
    char *big = malloc(OUTBOX_PAYLOAD_MAX + 3);
    if (big) {
        memset(big, ' ', OUTBOX_PAYLOAD_MAX + 2);
        big[0] = '{';
        big[OUTBOX_PAYLOAD_MAX + 1] = '}';
        big[OUTBOX_PAYLOAD_MAX + 2] = '\0';
        CHECK_INT(outbox_emit(tx, "x.y", 1, NULL, big, &e), NX_ETOOBIG);
        free(big);
    }
    char longsubj[OUTBOX_SUBJECT_MAX + 2];
    memset(longsubj, 's', sizeof longsubj - 1);
    longsubj[sizeof longsubj - 1] = '\0';
    CHECK_INT(outbox_emit(tx, "x.y", 1, longsubj, NULL, &e), NX_ETOOBIG);
    /* Valid ones: NULL payload becomes {}, community 0 becomes NULL. */
    CHECK_INT(outbox_emit(tx, "people.resident-created_v2", 0, NULL, NULL, &e), 0);
    CHECK_INT(outbox_emit(tx, "x.y", 3, "alert:1", " {\"k\": 1} \n", &e), 0);
    int64_t v = -1;
    CHECK_INT(store_one_int(tx,
                            "SELECT count(*) FROM events WHERE community_id IS NULL AND payload = '{}'"
                            " AND subject IS NULL AND at > 1600000000000",
                            NULL, 0, &v, &e),
              0);
    CHECK_INT(v, 1);
    CHECK_INT(store_one_int(tx, "SELECT count(*) FROM events", NULL, 0, &v, &e), 0);
    CHECK_INT(v, 2);
    CHECK_INT(store_commit(tx, &e), 0);

    /* outbox_emit_new: the payload serialised compactly (a string with a quote stays JSON), the
     * subject "<type>:<id>", no subject for a NULL type; a NULL payload is out of memory, an array
     * is refused; the payload reference is taken in every case. */
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    json_t *kept = json_pack("{s:I, s:s}", "application_id", (json_int_t)7, "status", "a\"b");
    json_incref(kept);
    CHECK_INT(outbox_emit_new(tx, "services.application.submitted", 4, "application", 7, kept, &e), 0);
    CHECK_INT(kept->refcount, 1); /* one reference taken, ours left */
    json_decref(kept);
    CHECK_INT(outbox_emit_new(tx, "x.z", 0, NULL, 0, json_object(), &e), 0);
    CHECK_INT(outbox_emit_new(tx, "x.z", 0, "alert", 1, NULL, &e), NX_ENOMEM);
    CHECK_INT(outbox_emit_new(tx, "x.z", 0, "alert", 1, json_pack("[i]", 1), &e), NX_EINVAL);
    CHECK_STR(e.field, "payload");
    CHECK_INT(outbox_emit_new(tx, "Bad Kind", 0, "alert", 1, json_object(), &e), NX_EINVAL);
    CHECK_STR(e.field, "kind");
    store_rows *r;
    CHECK_INT(store_query(tx, "SELECT kind, community_id, subject, payload FROM events WHERE id > 2 ORDER BY id", NULL, 0,
                          &r, &e),
              0);
    CHECK_INT(store_first(r, "", &e), 0);
    CHECK_STR(store_text(r, 0), "services.application.submitted");
    CHECK_INT(store_int(r, 1), 4);
    CHECK_STR(store_text(r, 2), "application:7");
    CHECK_STR(store_text(r, 3), "{\"application_id\":7,\"status\":\"a\\\"b\"}");
    CHECK(store_row(r));
    CHECK_STR(store_text(r, 0), "x.z");
    CHECK(store_isnull(r, 1));
    CHECK(store_isnull(r, 2));
    CHECK_STR(store_text(r, 3), "{}");
    CHECK(!store_row(r));
    CHECK_INT(store_rows_end(r, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);

    /* Only a write transaction can emit. */
    CHECK_INT(store_begin(s, STORE_READ, &tx, &e), 0);
    CHECK(outbox_emit(tx, "x.y", 1, NULL, NULL, &e) != 0);
    store_rollback(tx);
    store_close(s);
}

static void test_delivery(void)
{
    store *s = open_db("deliver.db");
    if (s == NULL)
        return;
    /* Events from before the dispatcher starts are delivered too (a new subscriber starts at 0). */
    int64_t early = emit(s, "devices.alert.opened", 7, "alert:1", "{\"level\":\"sos\"}", true);
    CHECK(early > 0);
    int64_t ghost = emit(s, "devices.alert.opened", 7, "alert:ghost", NULL, false); /* rolled back */
    CHECK(ghost > 0);

    dispatcher *d = NULL;
    nx_err e = {0};
    CHECK_INT(dispatcher_start(s, &d, &e), 0);
    if (d == NULL) {
        store_close(s);
        return;
    }
    rec all, dev;
    rec_init(&all, 0);
    rec_init(&dev, 0);
    CHECK_INT(dispatcher_subscribe(d, "test.all", "", handler, &all), 0);
    CHECK_INT(dispatcher_subscribe(d, "test.devices", "devices.", handler, &dev), 0);
    CHECK_INT(dispatcher_subscribe(d, "test.all", "", handler, &all), NX_ECONFLICT);
    CHECK_INT(dispatcher_subscribe(d, "", "", handler, &all), NX_EINVAL);
    CHECK_INT(dispatcher_subscribe(d, "x", "", NULL, &all), NX_EINVAL);
    CHECK_INT(dispatcher_subscribe(d, "bad name", "", handler, &all), NX_EINVAL);

    CHECK(wait_for(&all, 1, 3000));
    CHECK(wait_for(&dev, 1, 3000));
    /* A committed event of another kind and another devices event, emitted while running: the
     * commit hook wakes the dispatcher, well before its one-second poll. */
    int64_t t0 = clock_mono_ms();
    int64_t p1 = emit(s, "people.resident.created", 0, NULL, NULL, true);
    int64_t d2 = emit(s, "devices.alert.resolved", 7, "alert:1", "{}", true);
    CHECK(wait_for(&all, 3, 3000));
    CHECK(wait_for(&dev, 2, 3000));
    CHECK(clock_mono_ms() - t0 < 500);
    /* No duplicates arrive later (cursor advanced). */
    usleep(1300 * 1000);
    CHECK_INT(rec_count(&all), 3);
    CHECK_INT(rec_count(&dev), 2);
    if (rec_count(&all) == 3) {
        CHECK_INT(all.ids[0], early);
        CHECK_INT(all.ids[1], p1);
        CHECK_INT(all.ids[2], d2);
        CHECK_STR(all.kinds[0], "devices.alert.opened");
        CHECK_INT(all.communities[0], 7);
        CHECK_STR(all.subjects[0], "alert:1");
        CHECK_STR(all.payloads[0], "{\"level\":\"sos\"}");
        CHECK_STR(all.subjects[1], "(null)");
        CHECK_INT(all.communities[1], 0);
        CHECK_STR(all.payloads[1], "{}");
    }
    if (rec_count(&dev) == 2) {
        CHECK_INT(dev.ids[0], early);
        CHECK_INT(dev.ids[1], d2);
    }
    /* The rolled-back event's id was reused by a committed one or never existed: never "alert:ghost". */
    for (int i = 0; i < rec_count(&all); i++)
        CHECK(strcmp(all.subjects[i], "alert:ghost") != 0);
    dispatcher_stop(d);
    CHECK_INT(cursor_of(s, "test.all"), d2);
    CHECK_INT(cursor_of(s, "test.devices"), d2);
    store_close(s);
}

static void test_retry(void)
{
    store *s = open_db("retry.db");
    if (s == NULL)
        return;
    dispatcher *d = NULL;
    nx_err e = {0};
    CHECK_INT(dispatcher_start(s, &d, &e), 0);
    if (d == NULL) {
        store_close(s);
        return;
    }
    rec flaky, steady;
    rec_init(&flaky, 2);
    rec_init(&steady, 0);
    CHECK_INT(dispatcher_subscribe(d, "test.flaky", "", handler, &flaky), 0);
    CHECK_INT(dispatcher_subscribe(d, "test.steady", "", handler, &steady), 0);
    int64_t a = emit(s, "x.a", 1, NULL, NULL, true);
    int64_t b = emit(s, "x.b", 1, NULL, NULL, true);
    /* The steady subscriber is not held up by the failing one. */
    CHECK(wait_for(&steady, 2, 1000));
    CHECK(rec_count(&flaky) == 0);
    /* Failures at ~0 and ~0.2 s, success at ~0.6 s; then b right after. */
    CHECK(wait_for(&flaky, 2, 5000));
    pthread_mutex_lock(&flaky.mu);
    CHECK_INT(flaky.calls, 4);
    CHECK_INT(flaky.ids[0], a); /* a was retried, not skipped */
    CHECK_INT(flaky.ids[1], b);
    pthread_mutex_unlock(&flaky.mu);
    dispatcher_stop(d);
    CHECK_INT(cursor_of(s, "test.flaky"), b);
    store_close(s);
}

static void test_restart(void)
{
    store *s = open_db("restart.db");
    if (s == NULL)
        return;
    nx_err e = {0};
    dispatcher *d = NULL;
    rec r1, q1;
    rec_init(&r1, 0);
    rec_init(&q1, 0);
    CHECK_INT(dispatcher_start(s, &d, &e), 0);
    if (d == NULL) {
        store_close(s);
        return;
    }
    CHECK_INT(dispatcher_subscribe(d, "test.r", "", handler, &r1), 0);
    CHECK_INT(dispatcher_subscribe(d, "test.q", "rare.", handler, &q1), 0);
    int64_t a = emit(s, "x.one", 0, NULL, NULL, true);
    int64_t b = emit(s, "x.two", 0, NULL, NULL, true);
    CHECK(wait_for(&r1, 2, 3000));
    dispatcher_stop(d);
    CHECK_INT(cursor_of(s, "test.r"), b);
    CHECK_INT(rec_count(&q1), 0);

    /* While stopped: two more events, one of which the rare subscriber wants. */
    int64_t c = emit(s, "x.three", 0, NULL, NULL, true);
    int64_t r = emit(s, "rare.thing", 0, NULL, NULL, true);
    rec r2, q2;
    rec_init(&r2, 0);
    rec_init(&q2, 0);
    CHECK_INT(dispatcher_start(s, &d, &e), 0);
    if (d == NULL) {
        store_close(s);
        return;
    }
    CHECK_INT(dispatcher_subscribe(d, "test.r", "", handler, &r2), 0);
    CHECK_INT(dispatcher_subscribe(d, "test.q", "rare.", handler, &q2), 0);
    CHECK(wait_for(&r2, 2, 3000));
    CHECK(wait_for(&q2, 1, 3000));
    usleep(1200 * 1000);
    CHECK_INT(rec_count(&r2), 2); /* c and r only: a and b were acknowledged before */
    if (rec_count(&r2) == 2) {
        CHECK_INT(r2.ids[0], c);
        CHECK_INT(r2.ids[1], r);
    }
    CHECK_INT(rec_count(&q2), 1);
    CHECK_INT(q2.ids[0], r);
    (void)a;
    /* outbox_notify wakes a running dispatcher for rows written without outbox_emit. */
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec(tx, "INSERT INTO events (at, kind) VALUES (1, 'rare.raw')", NULL, 0, NULL, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    int64_t t0 = clock_mono_ms();
    outbox_notify();
    CHECK(wait_for(&q2, 2, 3000));
    CHECK(clock_mono_ms() - t0 < 300);
    dispatcher_stop(d);
    dispatcher_stop(NULL);
    store_close(s);
}

/* ---- PostgreSQL: several processes ---- */

/* The handler of the processes below: one row per delivery, written in its own transaction. */
static int record_delivery(store *s, const nx_event *ev, void *ctx)
{
    (void)ctx;
    nx_err e = {0};
    store_tx *tx;
    int rc = store_begin(s, STORE_WRITE, &tx, &e);
    if (rc)
        return rc;
    rc = store_exec(tx, "INSERT INTO deliveries (event_id, pid) VALUES ($1, $2)",
                    (store_param[]){P_INT(ev->id), P_INT(getpid())}, 2, NULL, &e);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, &e);
}

/* A child process: its own store and dispatcher with the shared subscriber, until its pipe closes. */
static pid_t spawn_dispatcher(const char *url, int *wfd)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[1]);
        store_options o = {.busy_ms = 2000, .pool = 3};
        store *s = NULL;
        dispatcher *d = NULL;
        nx_err e = {0};
        if (store_open(url, &o, &s, &e) || dispatcher_start(s, &d, &e) ||
            dispatcher_subscribe(d, "test.shared", "", record_delivery, NULL))
            _exit(2);
        char c;
        while (read(fds[0], &c, 1) > 0) {
        }
        dispatcher_stop(d);
        store_close(s);
        _exit(0);
    }
    close(fds[0]);
    *wfd = fds[1];
    return pid;
}

static int64_t count_q(store *s, const char *sql)
{
    nx_err e = {0};
    store_tx *tx;
    int64_t v = -1;
    if (store_begin(s, STORE_READ, &tx, &e) != 0)
        return -1;
    if (store_one_int(tx, sql, NULL, 0, &v, &e) != 0)
        v = -1;
    store_rollback(tx);
    return v;
}

static bool wait_count(store *s, const char *sql, int64_t n, int ms)
{
    int64_t until = clock_mono_ms() + ms;
    while (clock_mono_ms() < until) {
        if (count_q(s, sql) >= n)
            return true;
        usleep(20000);
    }
    return count_q(s, sql) >= n;
}

static void test_two_processes(void)
{
    char url[512];
    store *s = open_db("twoproc");
    if (s == NULL)
        return;
    {
        char name[64];
        snprintf(name, sizeof name, "nxt_%d_twoproc", (int)getpid());
        tb_pg_url(url, sizeof url, name);
    }
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(s, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(store_exec_script(tx, "CREATE TABLE deliveries (event_id BIGINT NOT NULL, pid BIGINT NOT NULL)", &e),
              0);
    CHECK_INT(store_commit(tx, &e), 0);
    store_close(s); /* no threads of ours across fork */

    int w1 = -1, w2 = -1;
    pid_t p1 = spawn_dispatcher(url, &w1);
    pid_t p2 = spawn_dispatcher(url, &w2);
    CHECK(p1 > 0 && p2 > 0);
    store_options o = {.busy_ms = 2000, .pool = 4};
    CHECK_INT(store_open(url, &o, &s, &e), 0);
    if (s == NULL)
        return;
    int64_t last = 0;
    for (int i = 0; i < 40; i++) {
        last = emit(s, "x.shared", 1, NULL, NULL, true);
        if (i % 8 == 0)
            usleep(20000);
    }
    CHECK(wait_count(s, "SELECT count(*) FROM deliveries", 40, 8000));
    CHECK(wait_count(s, "SELECT count(*) FROM event_cursors WHERE subscriber = 'test.shared' AND last_id = "
                        "(SELECT max(id) FROM events)",
                     1, 5000));
    usleep(1200 * 1000); /* the other process had its rounds too */
    CHECK_INT(count_q(s, "SELECT count(*) FROM deliveries"), 40);
    CHECK_INT(count_q(s, "SELECT count(DISTINCT event_id) FROM deliveries"), 40);
    CHECK_INT(count_q(s, "SELECT count(DISTINCT pid) FROM deliveries"), 1); /* one process serves it */
    int64_t server = count_q(s, "SELECT min(pid) FROM deliveries");
    CHECK(server == p1 || server == p2);

    /* kill -9 the serving process: the other takes over from the cursor. */
    pid_t dead = server == p1 ? p1 : p2, alive = server == p1 ? p2 : p1;
    kill(dead, SIGKILL);
    waitpid(dead, NULL, 0);
    close(dead == p1 ? w1 : w2);
    for (int i = 0; i < 20; i++)
        last = emit(s, "x.shared", 1, NULL, NULL, true);
    CHECK(wait_count(s, "SELECT count(*) FROM deliveries", 60, 10000));
    usleep(1200 * 1000);
    CHECK_INT(count_q(s, "SELECT count(*) FROM deliveries"), 60);
    CHECK_INT(count_q(s, "SELECT count(DISTINCT event_id) FROM deliveries"), 60);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM deliveries WHERE pid = %d", (int)alive);
    CHECK_INT(count_q(s, sql), 20);
    CHECK(last > 0);
    close(alive == p1 ? w1 : w2);
    int status = -1;
    waitpid(alive, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    store_close(s);
}

/* Writers in several threads emit concurrently; each transaction sleeps a little after its emit
 * so that, without the events lock, a later id would often commit first. Every event arrives. */
typedef struct emit_arg {
    store *s;
    int n;
} emit_arg;

static void *emitter(void *p)
{
    emit_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        nx_err e = {0};
        store_tx *tx;
        if (store_begin(a->s, STORE_WRITE, &tx, &e) != 0)
            continue;
        if (outbox_emit(tx, "x.race", 1, NULL, NULL, &e) != 0) {
            store_rollback(tx);
            continue;
        }
        usleep((unsigned)(rand() % 3000));
        store_commit(tx, &e);
    }
    return NULL;
}

static void test_concurrent_emit(void)
{
    store *s = open_db("race.db");
    if (s == NULL)
        return;
    dispatcher *d = NULL;
    nx_err e = {0};
    rec r;
    rec_init(&r, 0);
    CHECK_INT(dispatcher_start(s, &d, &e), 0);
    if (d == NULL) {
        store_close(s);
        return;
    }
    CHECK_INT(dispatcher_subscribe(d, "test.race", "x.", handler, &r), 0);
    pthread_t th[3];
    emit_arg args[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (emit_arg){.s = s, .n = 20};
        pthread_create(&th[i], NULL, emitter, &args[i]);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    CHECK(wait_for(&r, 60, 8000));
    usleep(300000);
    CHECK_INT(rec_count(&r), 60);
    bool ordered = true;
    for (int i = 1; i < rec_count(&r); i++)
        ordered = ordered && r.ids[i] > r.ids[i - 1];
    CHECK(ordered);
    dispatcher_stop(d);
    store_close(s);
}

static void run_all(void)
{
    TEST_RUN(test_validation);
    TEST_RUN(test_delivery);
    TEST_RUN(test_retry);
    TEST_RUN(test_restart);
    TEST_RUN(test_concurrent_emit);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    if (tb_init("nx-test-outbox") != 0)
        return 1;
    run_all();
    if (tb_use_pg()) {
        run_all();
        TEST_RUN(test_two_processes);
    }
    tb_cleanup();
    return TEST_DONE();
}
