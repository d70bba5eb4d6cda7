/* postgres.c — the PostgreSQL backend of store.h (libpq): a pool of connections, prepared
 * statements per connection, a listener thread for LISTEN/NOTIFY and a connection for leader locks.
 *
 * Connections. A pool of opt->pool slots guarded by a mutex and a condition variable; a slot gets
 * its connection on first use (store_open connects one at once, to report a bad URL early). Waiting
 * for a free slot is bounded by busy_ms, then NX_EBUSY. Checking a slot out repairs it: a missing
 * or broken connection (the server restarted) is reconnected (PQreset), its statement cache cleared;
 * a connection the server closed while it sat idle is noticed then without a round trip (its last
 * message is already in the socket: probe_idle). A connection that breaks during an eager BEGIN is
 * reset and BEGIN retried once, so the first request after a server restart succeeds; a connection
 * that breaks later fails its statement with NX_EBUSY (HTTP 503) and is repaired at its next
 * checkout. nuanxin never needs a restart after the server's.
 *
 * Transactions. STORE_WRITE is BEGIN (READ COMMITTED): writers run concurrently, each sees its own
 * writes and the latest committed rows; code that must not race relies on unique constraints
 * (23505 -> NX_ECONFLICT), as it must across processes anyway. STORE_READ is BEGIN ISOLATION LEVEL
 * REPEATABLE READ, READ ONLY followed by SELECT 1, which pins the snapshot at store_begin as the
 * SQLite backend does; STORE_READ_DEFERRED is the same BEGIN without the SELECT 1 (the snapshot is
 * the first statement's). A thread holding a write transaction of this store cannot start a second
 * one (NX_EINTERNAL), as with SQLite, where it would deadlock.
 *
 * Round trips. A write's BEGIN (no snapshot of its own under READ COMMITTED) and a deferred read's
 * are not sent at store_begin but in one libpq pipeline with the transaction's first statement, so
 * BEGIN costs no wait; a transaction that runs nothing never reaches the server. A read transaction
 * ends, committed or rolled back, with a ROLLBACK sent without waiting for the answer (a read has
 * nothing to commit), and so does a rolled-back write; the next checkout of the connection reads
 * that answer, which has long arrived. A lazy commit sends its setting and COMMIT as one round trip.
 * So a read of one statement is one round trip, and a write of k statements k + 1.
 *
 * Statements. Our SQL uses $1..$N, which is PostgreSQL's own syntax. Each statement is scanned once
 * (outside quotes and comments) for its parameters, a second statement, and the '?' / ':name'
 * spellings we refuse, then prepared (PQprepare) under a per-connection name and cached keyed by the
 * SQL text (stmt_cache.h, shared with sqlite.c), at most CACHE_MAX per connection, least recently
 * used deallocated.
 * Parameter types are fixed at prepare time from the first call: integers int8, reals float8, blobs
 * bytea (sent binary), text and NULL left for the server to infer from the context. Values go as
 * text except blobs. Results come back as text, one row at a time (single-row mode) so that exports
 * stream without holding the whole result; bytea columns are decoded from hex on demand, booleans
 * read as 1/0 through store_int.
 *
 * Errors. SQLSTATE decides: 23505 and 23503 -> NX_ECONFLICT, 23514 -> NX_EINVAL, 25006 (write in a
 * read transaction) -> NX_EINTERNAL, class 08, 57P0x, 53300, 40001, 40P01, 55P03 and a broken
 * connection -> NX_EBUSY, 53100 (disk full) -> NX_EBUSY too (503: the operator frees space, the
 * process goes on), 54000 -> NX_ETOOBIG, the rest NX_EDB. The server's
 * primary message goes to the log and into nx_err for NX_EDB, except for data exceptions (class 22)
 * whose messages quote the offending value: those keep only the SQLSTATE.
 *
 * Listen and leader. The first store_listen starts one thread with its own connection that LISTENs
 * on every listened channel and calls store_listeners_run for each notification; it polls with a
 * timeout so that new channels and store_close are noticed, reconnects with a pause when the server
 * goes away, and then calls every listener once (notifications sent meanwhile are lost). Leader
 * locks are session advisory locks (pg_try_advisory_lock on a 64-bit FNV-1a of the name) on another
 * dedicated connection, under a mutex; a held lock is re-verified with a round trip at most once a
 * second, and losing the connection loses every lock.
 *
 * Backup is pg_dump's custom format; restore checks the archive's nx_meta marker and schema version
 * (pg_restore -a -t ... -f -), refuses while other sessions use the database, and replays the
 * archive through psql in one transaction after dropping and recreating the public schema, so a
 * failure leaves the old database. pg_dump, pg_restore and psql come from postgresql-client.
 *
 * Threads: the pool is shared; a transaction, its connection and its rows belong to one thread. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "store/stmt_cache.h"
#include "store/store_impl.h"

#define CACHE_MAX     256
#define MAX_PARAMS    1024
#define INLINE_PARAMS 32
#define LEADER_MAX    32
#define LEADER_NAME   128
#define LISTEN_POLL_MS 250

#define OID_BOOL  16
#define OID_BYTEA 17
#define OID_INT8  20
#define OID_TEXT  25
#define OID_FLOAT8 701

#define MIGRATE_LOCK_KEY 0x6e78006d69677261LL /* "nx\0migra" */

extern char **environ;

typedef struct pstmt {
    stmt_key k;  /* first: the cache's links and key (stmt_cache.h) */
    int nparams; /* highest $k */
    char name[24];
} pstmt;

/* Parameter values in libpq's form. */
typedef struct pvals {
    const char *v_in[INLINE_PARAMS];
    int len_in[INLINE_PARAMS], fmt_in[INLINE_PARAMS];
    char num_in[INLINE_PARAMS][32];
    const char **v;
    int *len, *fmt;
    char (*num)[32];
} pvals;

typedef struct pg_conn pg_conn;

typedef struct pg_rows {
    store_rows base;
    pg_conn *c;
    PGresult *cur;     /* the current row (single-row result) */
    PGresult *pending; /* the first row, fetched by query, handed out by the first next */
    bool ended;
    int end;
    int ncols;
    bool *bytea; /* per column */
    unsigned char **dec; /* decoded bytea per column, valid until the next row */
    size_t *declen;
} pg_rows;

typedef struct pg_tx {
    store_tx base;
    pg_conn *c;
    pg_rows rows;
} pg_tx;

struct pg_conn {
    PGconn *db;
    bool in_use;
    bool writing;   /* holds a write transaction */
    const char *begin_sql; /* the deferred BEGIN, sent with the transaction's first statement */
    bool pipe;      /* in pipeline mode (a deferred BEGIN and its statement are in flight) */
    bool end_pending; /* a ROLLBACK was sent without waiting: its answer is read at the next checkout */
    bool stuck;     /* the connection could not leave pipeline mode: reconnect at the next checkout */
    /* store_query_ahead: the announced statement, not yet sent (ahead, its values in ahead_pv), then
     * in flight behind the current one (ahead_sent: its answer follows the current one's) */
    pstmt *ahead, *ahead_sent;
    pvals ahead_pv;
    bool ahead_last;     /* the transaction's ROLLBACK goes in the same pipeline */
    uint64_t ahead_hash; /* of its values (params_hash): the store_query that takes the answer must match */
    pthread_t owner; /* thread that checked it out */
    pg_tx tx;
    stmt_cache cache;
    unsigned serial;
};

typedef struct pg_store {
    store base;
    char *url;
    int busy_ms;
    int npool;
    pg_conn *pool;
    pthread_mutex_t pmu;
    pthread_cond_t pcv;
    atomic_int urgent_waiting; /* changed under pmu: STORE_WRITE_URGENT transactions waiting for a connection */

    pthread_mutex_t lmu; /* guards starting the listener */
    bool lstarted;
    pthread_t lthread;
    atomic_bool lstop;
    atomic_bool lresub;
    atomic_int lwant, lhave; /* store_listen_live: subscriptions asked for / confirmed (-1: none) */
    char origin[40]; /* this store's nx.origin (connect_url): random, hex */

    pthread_mutex_t leader_mu;
    PGconn *leader_db;
    int nheld;
    struct {
        char name[LEADER_NAME + 1];
        int64_t verified; /* monotonic ms */
    } held[LEADER_MAX];
} pg_store;

/* ---- small helpers ---- */

static int64_t fnv1a64(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (int64_t)h;
}

static struct timespec abs_time(int ms)
{
    return clock_deadline(CLOCK_MONOTONIC, ms);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* One line of a libpq message, for logs. */
static void one_line(char *out, size_t cap, const char *msg)
{
    str_copy(out, msg ? msg : "", cap);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == ' ')
        out[--n] = '\0';
}

/* ---- errors ---- */

static int broken(nx_err *e, PGconn *db)
{
    char m[256];
    one_line(m, sizeof m, db ? PQerrorMessage(db) : "no connection");
    nx_log(LOG_WARN, "store.pg_connection_lost msg=\"%s\"", m);
    return nx_fail(e, NX_EBUSY, "", "数据库连接中断，请稍后重试");
}

/* Map a failed result (res may be NULL when libpq could not even send). */
static int map_result(PGconn *db, const PGresult *res, nx_err *e)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (st == NULL || PQstatus(db) == CONNECTION_BAD)
        return broken(e, db);
    const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char m[256];
    bool quotes_value = st[0] == '2' && (st[1] == '2' || st[1] == '3');
    one_line(m, sizeof m, quotes_value ? "" : prim);
    /* A constraint violation (class 23) is an answer, not a fault: the caller maps it to 409/422, and
     * some callers expect it (a slot booked twice). It is logged at DEBUG; everything else warns. */
    nx_log(st[0] == '2' && st[1] == '3' ? LOG_DEBUG : LOG_WARN, "store.pg_error sqlstate=%s msg=\"%s\"", st, m);
    if (strcmp(st, "23505") == 0)
        return nx_fail(e, NX_ECONFLICT, "", "数据重复");
    if (strcmp(st, "23503") == 0)
        return nx_fail(e, NX_ECONFLICT, "", "关联数据不存在或仍被引用");
    if (strcmp(st, "23514") == 0) {
        const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        return nx_fail(e, NX_EINVAL, "", "数据不符合约束：%s", cons ? cons : "CHECK");
    }
    if (strcmp(st, "25006") == 0)
        return nx_fail(e, NX_EINTERNAL, "", "只读事务中不能写入：%s", m);
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P0", 4) == 0 || strcmp(st, "53300") == 0 ||
        strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0)
        return nx_fail(e, NX_EBUSY, "", "数据库繁忙，请稍后重试");
    if (strcmp(st, "53100") == 0)
        return nx_fail(e, NX_EBUSY, "", "磁盘已满，数据库暂时无法写入，请联系管理员");
    if (strcmp(st, "54000") == 0)
        return nx_fail(e, NX_ETOOBIG, "", "数据过大");
    if (quotes_value)
        return nx_fail(e, NX_EDB, "", "数据库错误（SQLSTATE %s）", st);
    return nx_fail(e, NX_EDB, "", "数据库错误：%s", m);
}

/* ---- SQL scanning ---- */

typedef struct scan_info {
    int maxk;
    uint64_t used; /* bit k-1 for k <= 64 */
    bool multi;    /* a second statement after ';' */
    bool badparam; /* '?', ':name' or $0 / $01 */
} scan_info;

/* Skip a quoted or commented span starting at p; returns the position after it, or p. */
static const char *skip_span(const char *p)
{
    if (*p == '\'' || *p == '"') {
        char q = *p++;
        while (*p) {
            if (*p == q) {
                if (p[1] == q) {
                    p += 2;
                    continue;
                }
                return p + 1;
            }
            p++;
        }
        return p;
    }
    if (p[0] == '-' && p[1] == '-') {
        while (*p && *p != '\n')
            p++;
        return p;
    }
    if (p[0] == '/' && p[1] == '*') {
        p += 2;
        while (*p && !(p[0] == '*' && p[1] == '/'))
            p++;
        return *p ? p + 2 : p;
    }
    if (p[0] == '$' && (p[1] == '$' || ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') || p[1] == '_'))) {
        /* a dollar-quoted string: $tag$ ... $tag$ */
        const char *t = p + 1;
        while (*t && *t != '$' && ((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || *t == '_' ||
                                   (*t >= '0' && *t <= '9')))
            t++;
        if (*t != '$')
            return p;
        size_t tl = (size_t)(t - p + 1);
        const char *end;
        for (end = t + 1; *end; end++)
            if (strncmp(end, p, tl) == 0)
                return end + tl;
        return end;
    }
    return p;
}

static void scan_sql(const char *sql, scan_info *si)
{
    memset(si, 0, sizeof *si);
    const char *p = sql;
    while (*p) {
        const char *q = skip_span(p);
        if (q != p) {
            p = q;
            continue;
        }
        char c = *p;
        if (c == '$' && p[1] >= '0' && p[1] <= '9') {
            if (p[1] == '0') {
                si->badparam = true;
                p += 2;
                continue;
            }
            int k = 0;
            p++;
            while (*p >= '0' && *p <= '9' && k < 100000)
                k = k * 10 + (*p++ - '0');
            if (k > si->maxk)
                si->maxk = k;
            if (k <= 64)
                si->used |= 1ull << (k - 1);
            continue;
        }
        if (c == '?')
            si->badparam = true;
        if (c == ':') {
            if (p[1] == ':') {
                p += 2;
                continue;
            }
            if ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') || p[1] == '_')
                si->badparam = true;
        }
        if (c == ';') {
            const char *r = p + 1;
            for (;;) {
                while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r' || *r == ';')
                    r++;
                const char *s2 = (r[0] == '-' && r[1] == '-') || (r[0] == '/' && r[1] == '*') ? skip_span(r) : r;
                if (s2 == r)
                    break;
                r = s2;
            }
            if (*r)
                si->multi = true;
            p = r;
            continue;
        }
        p++;
    }
}

/* Does the script contain a statement that ends or starts a transaction? */
static bool script_has_txn_control(const char *sql)
{
    static const char *const words[] = {"BEGIN", "COMMIT", "ROLLBACK", "END", "START", "ABORT", NULL};
    const char *p = sql;
    bool at_start = true;
    while (*p) {
        if (at_start) {
            while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                p++;
            const char *q = skip_span(p);
            if (q != p && (p[0] == '-' || p[0] == '/')) {
                p = q;
                continue;
            }
            for (int i = 0; words[i]; i++) {
                size_t n = strlen(words[i]);
                if (strncasecmp(p, words[i], n) == 0 &&
                    !((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_'))
                    return true;
            }
            at_start = false;
            if (*p == '\0')
                break;
        }
        const char *q = skip_span(p);
        if (q != p) {
            p = q;
            continue;
        }
        if (*p == ';')
            at_start = true;
        p++;
    }
    return false;
}

/* ---- connections ---- */

/* Server notices ("relation already exists, skipping") are not for the log at INFO. */
static void on_notice(void *arg, const char *msg)
{
    (void)arg;
    char m[256];
    one_line(m, sizeof m, msg);
    nx_log(LOG_DEBUG, "store.pg_notice msg=\"%s\"", m);
}

/* origin (a store's pg_store.origin, or NULL): set as nx.origin on the session, which the watch
 * triggers (migration 034) send as their NOTIFY's payload, so that the listener of the same store
 * can skip what its own commits already delivered (commit_watched). */
static PGconn *connect_url(const char *url, const char *origin, char *err, size_t cap)
{
    /* Defaults first: keywords in the URL win over them. */
    char opt[64] = "";
    if (origin)
        snprintf(opt, sizeof opt, "-c nx.origin=%s", origin);
    const char *kw[] = {"connect_timeout", "application_name", "client_encoding", "options", "dbname", NULL};
    const char *val[] = {"5", "nuanxin", "UTF8", opt, url, NULL};
    PGconn *db = PQconnectdbParams(kw, val, 1);
    if (db && PQstatus(db) == CONNECTION_OK) {
        PQsetNoticeProcessor(db, on_notice, NULL);
        return db;
    }
    one_line(err, cap, db ? PQerrorMessage(db) : "out of memory");
    PQfinish(db);
    return NULL;
}

static void stmt_free(pstmt *x)
{
    if (x) {
        free(x->k.sql);
        free(x);
    }
}

static void key_free(stmt_key *k)
{
    stmt_free((pstmt *)k);
}

/* Forget the statement cache (after a reconnect the server has forgotten it too). */
static void cache_forget(pg_conn *c)
{
    stmt_cache_clear(&c->cache, key_free);
}

static void conn_close(pg_conn *c)
{
    cache_forget(c);
    PQfinish(c->db);
    c->db = NULL;
}

static int simple(PGconn *db, const char *sql, nx_err *e);
static void ahead_drop(pg_conn *c);

/* Read the answer to the ROLLBACK that ended c's last transaction without waiting (finish). It has
 * usually arrived long ago: this costs no round trip. */
static void settle(pg_conn *c)
{
    if (!c->end_pending)
        return;
    c->end_pending = false;
    PGresult *r;
    while ((r = PQgetResult(c->db)) != NULL)
        PQclear(r);
    if (PQstatus(c->db) == CONNECTION_OK && PQtransactionStatus(c->db) != PQTRANS_IDLE)
        simple(c->db, "ROLLBACK", NULL);
}

/* Has the server closed c while it sat idle in the pool (a restart, pg_terminate_backend)? Its last
 * words are already in the socket: read them without waiting, so that conn_repair sees the broken
 * connection before a transaction starts on it. A deferred BEGIN would otherwise only find out at
 * the first statement, too late to reconnect without losing that statement. */
static void probe_idle(pg_conn *c)
{
    if (c->db == NULL || PQstatus(c->db) != CONNECTION_OK)
        return;
    struct pollfd pfd = {.fd = PQsocket(c->db), .events = POLLIN};
    if (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0)
        PQconsumeInput(c->db);
}

/* Make sure c has a working connection. */
static int conn_repair(pg_store *q, pg_conn *c, bool force, nx_err *e)
{
    if (c->stuck) { /* a fresh connection rather than a reset one */
        c->stuck = false;
        c->pipe = false;
        conn_close(c);
    }
    if (c->db && PQstatus(c->db) == CONNECTION_OK && !force)
        return 0;
    char err[256];
    if (c->db) {
        cache_forget(c);
        PQreset(c->db);
        if (PQstatus(c->db) == CONNECTION_OK) {
            nx_log(LOG_INFO, "store.pg_reconnected");
            return 0;
        }
        one_line(err, sizeof err, PQerrorMessage(c->db));
        conn_close(c);
    } else {
        c->db = connect_url(q->url, q->origin, err, sizeof err);
        if (c->db)
            return 0;
    }
    nx_log(LOG_WARN, "store.pg_connect_failed msg=\"%s\"", err);
    return nx_fail(e, NX_EBUSY, "", "无法连接数据库服务器，请稍后重试");
}

/* A connection of the pool; urgent (STORE_WRITE_URGENT): before every other waiter when all are
 * taken (the others leave a freed connection to it). */
static int conn_acquire(pg_store *q, bool write, bool urgent, pg_conn **out, nx_err *e)
{
    pthread_t me = pthread_self();
    struct timespec until = abs_time(q->busy_ms);
    pthread_mutex_lock(&q->pmu);
    if (write) {
        for (int i = 0; i < q->npool; i++) {
            if (q->pool[i].in_use && q->pool[i].writing && pthread_equal(q->pool[i].owner, me)) {
                pthread_mutex_unlock(&q->pmu);
                return nx_fail(e, NX_EINTERNAL, "", "同一线程不能嵌套写事务");
            }
        }
    }
    if (urgent)
        q->urgent_waiting++;
    for (;;) {
        /* Prefer a slot that is already connected. */
        int pick = -1;
        int n = urgent || q->urgent_waiting == 0 ? q->npool : 0; /* none while an urgent one waits */
        for (int i = 0; i < n; i++) {
            if (!q->pool[i].in_use) {
                if (q->pool[i].db) {
                    pick = i;
                    break;
                }
                if (pick < 0)
                    pick = i;
            }
        }
        if (pick >= 0) {
            pg_conn *c = &q->pool[pick];
            if (urgent && --q->urgent_waiting == 0)
                pthread_cond_broadcast(&q->pcv); /* others held back by it may take a free one */
            c->in_use = true;
            c->writing = write;
            c->owner = me;
            pthread_mutex_unlock(&q->pmu);
            settle(c);
            probe_idle(c);
            int rc = conn_repair(q, c, false, e);
            if (rc) {
                pthread_mutex_lock(&q->pmu);
                c->in_use = false;
                c->writing = false;
                pthread_cond_signal(&q->pcv);
                pthread_mutex_unlock(&q->pmu);
                return rc;
            }
            *out = c;
            return 0;
        }
        if (pthread_cond_timedwait(&q->pcv, &q->pmu, &until) == ETIMEDOUT)
            break;
    }
    if (urgent) {
        q->urgent_waiting--;
        pthread_cond_broadcast(&q->pcv); /* the others may take a connection again */
    }
    pthread_mutex_unlock(&q->pmu);
    nx_log(LOG_WARN, "store.pg_pool_exhausted pool=%d busy_ms=%d", q->npool, q->busy_ms);
    return nx_fail(e, NX_EBUSY, "", "数据库繁忙，请稍后重试");
}

static void conn_release(pg_store *q, pg_conn *c)
{
    pthread_mutex_lock(&q->pmu);
    c->in_use = false;
    c->writing = false;
    if (q->urgent_waiting) /* wake the urgent waiter, whichever thread the signal would pick */
        pthread_cond_broadcast(&q->pcv);
    else
        pthread_cond_signal(&q->pcv);
    pthread_mutex_unlock(&q->pmu);
}

/* Run a command without parameters; 0 or the mapped error. */
static int simple(PGconn *db, const char *sql, nx_err *e)
{
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : map_result(db, r, e);
    PQclear(r);
    return rc;
}

/* ---- open and close ---- */

static bool pg_accepts(const char *url)
{
    return str_starts_with(url, "postgres://") || str_starts_with(url, "postgresql://");
}

static void pg_close(store *s);

static int pg_open(const char *url, const store_options *opt, store **out, nx_err *e)
{
    pg_store *q = calloc(1, sizeof *q);
    if (q == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    q->url = strdup(url);
    unsigned char rnd[12] = {0};
    if (getentropy(rnd, sizeof rnd) != 0) {
        int64_t t = clock_mono_ms();
        memcpy(rnd, &t, sizeof t);
    }
    int pid = (int)getpid();
    memcpy(rnd + 8, &pid, sizeof pid);
    str_hex(q->origin, rnd, sizeof rnd);
    q->busy_ms = opt->busy_ms;
    q->npool = opt->pool > 0 ? opt->pool : 8;
    q->pool = calloc((size_t)q->npool, sizeof *q->pool);
    pthread_mutex_init(&q->pmu, NULL);
    clock_cond_init(&q->pcv);
    pthread_mutex_init(&q->lmu, NULL);
    pthread_mutex_init(&q->leader_mu, NULL);
    atomic_init(&q->lstop, false);
    atomic_init(&q->lresub, false);
    atomic_init(&q->lwant, 0);
    atomic_init(&q->lhave, -1);
    if (q->url == NULL || q->pool == NULL) {
        pg_close(&q->base);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    char err[256];
    q->pool[0].db = connect_url(url, q->origin, err, sizeof err);
    if (q->pool[0].db == NULL) {
        nx_log(LOG_WARN, "store.pg_connect_failed msg=\"%s\"", err);
        int rc;
        if (strstr(err, "does not exist"))
            rc = nx_fail(e, NX_ENOTFOUND, "database", "PostgreSQL 数据库不存在，请先创建（CREATE DATABASE）");
        else if (strstr(err, "authentication") || strstr(err, "password"))
            rc = nx_fail(e, NX_EAUTH, "database", "PostgreSQL 认证失败，请检查用户名和密码");
        else if (strstr(err, "invalid") || strstr(err, "missing"))
            rc = nx_fail(e, NX_EINVAL, "database", "PostgreSQL 连接地址无效");
        else
            rc = nx_fail(e, NX_EBUSY, "database", "无法连接 PostgreSQL 服务器，请确认它已启动");
        pg_close(&q->base);
        return rc;
    }
    nx_log(LOG_DEBUG, "store.pg_open pool=%d busy_ms=%d server=%d", q->npool, q->busy_ms,
           PQserverVersion(q->pool[0].db));
    *out = &q->base;
    return 0;
}

static void listener_stop(pg_store *q)
{
    pthread_mutex_lock(&q->lmu);
    bool started = q->lstarted;
    q->lstarted = false;
    pthread_mutex_unlock(&q->lmu);
    if (started) {
        atomic_store(&q->lstop, true);
        pthread_join(q->lthread, NULL);
    }
}

static void pg_stop_threads(store *s)
{
    listener_stop((pg_store *)s);
}

static void pg_close(store *s)
{
    pg_store *q = (pg_store *)s;
    listener_stop(q);
    for (int i = 0; q->pool && i < q->npool; i++) {
        if (q->pool[i].in_use)
            nx_log(LOG_ERROR, "store.close_busy conn=%d (a transaction is still open)", i);
        conn_close(&q->pool[i]);
    }
    free(q->pool);
    PQfinish(q->leader_db);
    pthread_mutex_destroy(&q->pmu);
    pthread_cond_destroy(&q->pcv);
    pthread_mutex_destroy(&q->lmu);
    pthread_mutex_destroy(&q->leader_mu);
    free(q->url);
    free(q);
}

/* ---- transactions ---- */

static bool pg_urgent_waiting(store *s)
{
    return atomic_load_explicit(&((pg_store *)s)->urgent_waiting, memory_order_relaxed) > 0;
}

static int pg_begin(store *s, int mode, store_tx **out, nx_err *e)
{
    pg_store *q = (pg_store *)s;
    pg_conn *c = NULL;
    bool urgent = mode == STORE_WRITE_URGENT;
    if (mode == STORE_WRITE_LAZY || urgent) /* pg_commit turns synchronous_commit off (t->lazy) */
        mode = STORE_WRITE;
    int rc = conn_acquire(q, mode == STORE_WRITE, urgent, &c, e);
    if (rc)
        return rc;
    memset(&c->tx, 0, sizeof c->tx);
    c->tx.c = c;
    if (mode == STORE_WRITE || mode == STORE_READ_DEFERRED) {
        /* READ COMMITTED takes a snapshot per statement anyway, and a deferred read asked for its
         * snapshot at the first statement: BEGIN goes with that statement (send_stmt). */
        c->begin_sql = mode == STORE_WRITE ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
        *out = &c->tx.base;
        return 0;
    }
    const char *sql = mode == STORE_WRITE ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT 1";
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = simple(c->db, sql, e);
        if (rc == 0 || PQstatus(c->db) == CONNECTION_OK || attempt == 1)
            break;
        /* The server went away since this connection was last used: reconnect, try once more. */
        rc = conn_repair(q, c, true, e);
        if (rc)
            break;
    }
    if (rc) {
        if (c->db && PQstatus(c->db) == CONNECTION_OK && PQtransactionStatus(c->db) != PQTRANS_IDLE)
            simple(c->db, "ROLLBACK", NULL);
        conn_release(q, c);
        return rc;
    }
    *out = &c->tx.base;
    return 0;
}

/* End c's transaction (if BEGIN was ever sent) and give c back. The ROLLBACK is sent without waiting
 * for its answer, which the next checkout reads (settle): the request that used c does not wait a
 * round trip for it, and the server ends the transaction (its snapshot, its locks) at once. */
static void finish(pg_store *q, pg_conn *c)
{
    c->begin_sql = NULL;
    ahead_drop(c);
    if (c->db && PQstatus(c->db) == CONNECTION_OK && PQtransactionStatus(c->db) != PQTRANS_IDLE) {
        if (PQsendQuery(c->db, "ROLLBACK"))
            c->end_pending = true;
        else
            simple(c->db, "ROLLBACK", NULL);
    }
    conn_release(q, c);
}

/* The commit of a store with watched tables (store_watch): in the same round trip as the COMMIT,
 * read the channels that nx_watch_changed (the tables' triggers) named in this transaction
 * (nx.changed, transaction-local: comma-separated, each once), and call this process's listeners
 * of each after the commit succeeded; other processes hear of it through the NOTIFY the trigger
 * sent. */
static int commit_watched(store_tx *t, pg_store *q, pg_conn *c, nx_err *e)
{
    const char *sql = t->lazy ? "SELECT current_setting('nx.changed', true); SET LOCAL synchronous_commit TO off; COMMIT"
                              : "SELECT current_setting('nx.changed', true); COMMIT";
    char changed[4 * (STORE_CHANNEL_MAX + 1)] = "";
    int rc = 0;
    bool committed = false;
    if (!PQsendQuery(c->db, sql)) {
        rc = broken(e, c->db);
        finish(q, c);
        return rc;
    }
    PGresult *r;
    while ((r = PQgetResult(c->db)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK) {
            if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
                str_copy(changed, PQgetvalue(r, 0, 0), sizeof changed);
        } else if (st == PGRES_COMMAND_OK) {
            if (strcmp(PQcmdStatus(r), "COMMIT") == 0)
                committed = true;
            else if (strcmp(PQcmdStatus(r), "ROLLBACK") == 0 && rc == 0) /* the server had aborted it */
                rc = nx_fail(e, NX_EDB, "", "事务已被数据库中止并回滚");
        } else if (rc == 0) {
            rc = map_result(c->db, r, e);
        }
        PQclear(r);
    }
    if (rc == 0 && !committed)
        rc = nx_fail(e, NX_EDB, "", "事务已被数据库中止并回滚");
    finish(q, c);
    if (rc == 0 && changed[0]) {
        char *save = NULL;
        for (char *ch = strtok_r(changed, ",", &save); ch; ch = strtok_r(NULL, ",", &save))
            store_listeners_run(&q->base, ch);
    }
    return rc;
}

static int pg_commit(store_tx *t, nx_err *e)
{
    pg_tx *tx = (pg_tx *)t;
    pg_conn *c = tx->c;
    pg_store *q = (pg_store *)t->s;
    if (c->begin_sql || t->mode == STORE_READ) {
        /* Nothing was sent (BEGIN is still deferred), or a read, which has nothing to commit: end
         * it as a rollback does, without waiting. */
        finish(q, c);
        return 0;
    }
    /* One round trip also for a lazy commit (STORE_WRITE_LAZY): the setting and the COMMIT. */
    if (__atomic_load_n(&t->s->nwatches, __ATOMIC_ACQUIRE) > 0)
        return commit_watched(t, q, c, e);
    PGresult *r = PQexec(c->db, t->lazy ? "SET LOCAL synchronous_commit TO off; COMMIT" : "COMMIT");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = map_result(c->db, r, e);
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) /* "ROLLBACK": the server had aborted it */
        rc = nx_fail(e, NX_EDB, "", "事务已被数据库中止并回滚");
    PQclear(r);
    finish(q, c);
    return rc;
}

static void pg_rollback(store_tx *t)
{
    pg_tx *tx = (pg_tx *)t;
    finish((pg_store *)t->s, tx->c);
}

/* ---- statements ---- */

static int stmt_get(pg_conn *c, const char *sql, const store_param *p, int n, pstmt **out, nx_err *e)
{
    uint32_t h = stmt_hash(sql);
    pstmt *hit = (pstmt *)stmt_cache_find(&c->cache, sql, h);
    if (hit) {
        *out = hit;
        return 0;
    }
    scan_info si;
    scan_sql(sql, &si);
    if (si.badparam)
        return nx_fail(e, NX_EINTERNAL, "", "不支持的参数写法（请用 $1..$N）");
    if (si.multi)
        return nx_fail(e, NX_EINTERNAL, "", "一次只能执行一条语句（多条语句请用 store_exec_script）");
    if (si.maxk > MAX_PARAMS)
        return nx_fail(e, NX_EINTERNAL, "", "参数过多");
    if (si.maxk > n)
        return nx_fail(e, NX_EINTERNAL, "", "语句使用了参数 $%d，但只提供了 %d 个", si.maxk, n);
    Oid inline_types[INLINE_PARAMS];
    Oid *types = si.maxk <= INLINE_PARAMS ? inline_types : calloc((size_t)si.maxk, sizeof *types);
    if (types == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    for (int k = 1; k <= si.maxk; k++) {
        Oid t = 0;
        switch (p[k - 1].type) {
        case SP_INT: t = OID_INT8; break;
        case SP_REAL: t = OID_FLOAT8; break;
        case SP_BLOB: t = OID_BYTEA; break;
        default: t = 0; break;
        }
        if (k <= 64 && !(si.used & (1ull << (k - 1))))
            t = t ? t : OID_TEXT; /* unused: any type, but one */
        types[k - 1] = t;
    }
    if (c->cache.n >= CACHE_MAX) {
        /* Evict the least recently used statement. */
        pstmt *victim = (pstmt *)stmt_cache_lru(&c->cache);
        if (victim) {
            char dealloc[48];
            snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", victim->name);
            int rc = simple(c->db, dealloc, e);
            if (rc) {
                if (types != inline_types)
                    free(types);
                return rc;
            }
            stmt_cache_remove(&c->cache, &victim->k);
            stmt_free(victim);
        }
    }
    pstmt *x = calloc(1, sizeof *x);
    if (x)
        x->k.sql = strdup(sql);
    if (x == NULL || x->k.sql == NULL) {
        stmt_free(x);
        if (types != inline_types)
            free(types);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    snprintf(x->name, sizeof x->name, "nx%u", ++c->serial);
    x->nparams = si.maxk;
    PGresult *r = PQprepare(c->db, x->name, sql, si.maxk, types);
    if (types != inline_types)
        free(types);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : map_result(c->db, r, e);
    PQclear(r);
    if (rc) {
        stmt_free(x);
        return rc;
    }
    stmt_cache_add(&c->cache, &x->k, h);
    *out = x;
    return 0;
}

static void pvals_free(pvals *pv)
{
    if (pv->v != pv->v_in) {
        free(pv->v);
        free(pv->len);
        free(pv->fmt);
        free(pv->num);
    }
}

static int pvals_fill(pvals *pv, const store_param *p, int n, nx_err *e)
{
    pv->v = pv->v_in;
    pv->len = pv->len_in;
    pv->fmt = pv->fmt_in;
    pv->num = pv->num_in;
    if (n > INLINE_PARAMS) {
        pv->v = calloc((size_t)n, sizeof *pv->v);
        pv->len = calloc((size_t)n, sizeof *pv->len);
        pv->fmt = calloc((size_t)n, sizeof *pv->fmt);
        pv->num = calloc((size_t)n, sizeof *pv->num);
        if (!pv->v || !pv->len || !pv->fmt || !pv->num) {
            pvals_free(pv);
            return nx_fail(e, NX_ENOMEM, "", "内存不足");
        }
    }
    for (int i = 0; i < n; i++) {
        const store_param *x = &p[i];
        pv->fmt[i] = 0;
        pv->len[i] = 0;
        switch (x->type) {
        case SP_NULL: pv->v[i] = NULL; break;
        case SP_INT:
            snprintf(pv->num[i], sizeof pv->num[i], "%lld", (long long)x->i);
            pv->v[i] = pv->num[i];
            break;
        case SP_REAL:
            snprintf(pv->num[i], sizeof pv->num[i], "%.17g", x->r);
            pv->v[i] = pv->num[i];
            break;
        case SP_TEXT: pv->v[i] = x->p; break;
        case SP_BLOB:
            if (x->n > INT_MAX) {
                pvals_free(pv);
                return nx_fail(e, NX_ETOOBIG, "", "数据过大");
            }
            pv->v[i] = x->p ? x->p : NULL;
            if (pv->v[i] && x->n == 0)
                pv->v[i] = ""; /* an empty blob, not NULL */
            pv->len[i] = (int)x->n;
            pv->fmt[i] = 1;
            break;
        default: pvals_free(pv); return nx_fail(e, NX_EINTERNAL, "", "未知的参数类型 %d", (int)x->type);
        }
    }
    return 0;
}

/* Read and drop the rest of the current statement's results. In pipeline mode (a deferred BEGIN or an
 * announced statement went with this statement) also the pipeline's end, then leave pipeline mode,
 * unless an announced statement's answer is still to be read (ahead_sent); a connection that cannot
 * leave it (lost mid-pipeline) is replaced at its next checkout. */
static void drain(pg_conn *c)
{
    PGresult *r;
    while ((r = PQgetResult(c->db)) != NULL)
        PQclear(r);
    if (!c->pipe || c->ahead_sent) /* the announced statement's answer is next: left for it (ahead_drop) */
        return;
    for (int nulls = 0; nulls < 2 && PQstatus(c->db) == CONNECTION_OK;) {
        r = PQgetResult(c->db);
        if (r == NULL) {
            nulls++;
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC)
            break;
    }
    if (PQexitPipelineMode(c->db))
        c->pipe = false;
    else
        c->stuck = true;
}

/* Drop what store_query_ahead left on c: the announced statement not yet sent (its values freed),
 * and the answer of one in flight, read and dropped with the rest of the pipeline. */
static void ahead_drop(pg_conn *c)
{
    if (c->ahead) {
        pvals_free(&c->ahead_pv);
        c->ahead = NULL;
    }
    if (c->ahead_sent) {
        c->ahead_sent = NULL;
        drain(c);
    }
}

/* The deferred BEGIN (if pending), the statement x and the announced statement (if any, with the
 * transaction's ROLLBACK when it is the last) in one pipeline: one round trip for all. BEGIN's answer
 * is read here; the statement's results are next on the connection, then the announced one's. */
static int send_pipelined(pg_conn *c, const pstmt *x, const pvals *pv, nx_err *e)
{
    PGconn *db = c->db;
    pstmt *a = c->ahead;
    c->ahead = NULL;
    bool ok = PQenterPipelineMode(db);
    if (ok) {
        c->pipe = true;
        ok = (!c->begin_sql || PQsendQueryParams(db, c->begin_sql, 0, NULL, NULL, NULL, NULL, 0)) &&
             PQsendQueryPrepared(db, x->name, x->nparams, pv->v, pv->len, pv->fmt, 0);
        if (ok && a)
            ok = PQsendQueryPrepared(db, a->name, a->nparams, c->ahead_pv.v, c->ahead_pv.len, c->ahead_pv.fmt, 0) &&
                 (!c->ahead_last || PQsendQueryParams(db, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
        ok = ok && PQpipelineSync(db);
    }
    if (a)
        pvals_free(&c->ahead_pv);
    if (!ok) {
        int rc = broken(e, db);
        if (c->pipe)
            drain(c);
        return rc;
    }
    if (c->begin_sql) {
        PGresult *r = PQgetResult(db);
        int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : map_result(db, r, e);
        PQclear(r);
        if (rc) {
            drain(c); /* BEGIN's end, the statements (skipped by the server) and the pipeline's end */
            return rc;
        }
        PQclear(PQgetResult(db)); /* the NULL that ends BEGIN's results */
        c->begin_sql = NULL;
    }
    c->ahead_sent = a;
    return 0;
}

/* A hash of n parameter values (type and bytes): the announced statement's values against those of
 * the store_query that would take its answer. */
static uint64_t params_hash(const store_param *p, int n)
{
    uint64_t h = 1469598103934665603ull;
#define MIX(ptr, len)                                                                                   \
    for (size_t k_ = 0; k_ < (len); k_++)                                                               \
        h = (h ^ ((const unsigned char *)(ptr))[k_]) * 1099511628211ull;
    for (int i = 0; i < n; i++) {
        MIX(&p[i].type, sizeof p[i].type);
        if (p[i].type == SP_INT)
            MIX(&p[i].i, sizeof p[i].i);
        if (p[i].type == SP_REAL)
            MIX(&p[i].r, sizeof p[i].r);
        if ((p[i].type == SP_TEXT || p[i].type == SP_BLOB) && p[i].p) {
            MIX(&p[i].n, sizeof p[i].n);
            MIX(p[i].p, p[i].n);
        }
    }
#undef MIX
    return h;
}

/* The prepared statement for sql and its parameter values in libpq's form (pvals_free them). */
static int prepare_values(pg_conn *c, const char *sql, const store_param *p, int n, pstmt **x, pvals *pv,
                          nx_err *e)
{
    int rc = stmt_get(c, sql, p, n, x, e);
    return rc ? rc : pvals_fill(pv, p, (*x)->nparams, e);
}

/* Prepare sql and send it with its values, after the deferred BEGIN if one is pending. On 0 its
 * results are next on the connection (one row at a time when rows). */
/* Single-row mode for the statement whose answer is next on c. libpq refuses it when that answer
 * has already begun to arrive, which happens when the connection or the pipeline failed first (the
 * server shutting down mid-pipeline: a PostgreSQL restart under load answered one write 500 in CI).
 * Then that failure is the answer, as for any statement: a lost connection is 503 (broken), an
 * error result is mapped as always; only a refusal with neither is an internal fault. */
static int single_row(pg_conn *c, nx_err *e)
{
    if (PQsetSingleRowMode(c->db))
        return 0;
    int rc;
    PGresult *r = PQstatus(c->db) == CONNECTION_OK ? PQgetResult(c->db) : NULL;
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (PQstatus(c->db) != CONNECTION_OK || st == PGRES_PIPELINE_ABORTED)
        rc = broken(e, c->db);
    else if (r && st == PGRES_FATAL_ERROR)
        rc = map_result(c->db, r, e);
    else
        rc = nx_fail(e, NX_EINTERNAL, "", "无法逐行读取查询结果");
    PQclear(r);
    drain(c);
    return rc;
}

static int send_stmt(store_tx *t, const char *sql, const store_param *p, int n, bool rows, nx_err *e)
{
    pg_conn *c = ((pg_tx *)t)->c;
    if (c->ahead_sent) {
        /* The announced statement's answer is next: this is it, or it is dropped. */
        pstmt *a = c->ahead_sent;
        if (rows && strcmp(a->k.sql, sql) == 0 && n >= a->nparams && params_hash(p, a->nparams) == c->ahead_hash) {
            c->ahead_sent = NULL;
            return single_row(c, e);
        }
        ahead_drop(c);
    }
    pstmt *x = NULL;
    pvals pv;
    int rc = prepare_values(c, sql, p, n, &x, &pv, e);
    if (rc)
        return rc;
    if (c->begin_sql || c->ahead)
        rc = send_pipelined(c, x, &pv, e);
    else if (!PQsendQueryPrepared(c->db, x->name, x->nparams, pv.v, pv.len, pv.fmt, 0))
        rc = broken(e, c->db);
    pvals_free(&pv);
    if (rc == 0 && rows)
        rc = single_row(c, e);
    return rc;
}

static int pg_query_ahead(store_tx *t, const char *sql, const store_param *p, int n, bool last, nx_err *e)
{
    pg_conn *c = ((pg_tx *)t)->c;
    ahead_drop(c);
    pstmt *x = NULL;
    int rc = stmt_get(c, sql, p, n, &x, e);
    if (rc == 0 && (rc = pvals_fill(&c->ahead_pv, p, x->nparams, e)) == 0) {
        c->ahead = x;
        c->ahead_last = last;
        c->ahead_hash = params_hash(p, x->nparams);
    }
    return rc;
}

static int pg_exec(store_tx *t, const char *sql, const store_param *p, int n, int64_t *changes, nx_err *e)
{
    pg_conn *c = ((pg_tx *)t)->c;
    int rc = send_stmt(t, sql, p, n, false, e);
    if (rc)
        return rc;
    PGresult *r = PQgetResult(c->db);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (changes) {
            const char *ct = PQcmdTuples(r);
            int64_t v = 0;
            if (ct && ct[0] && str_to_i64(ct, 0, INT64_MAX, &v) == 0)
                *changes = v;
        }
        rc = 0;
    } else {
        rc = map_result(c->db, r, e);
    }
    PQclear(r);
    drain(c);
    return rc;
}

static int pg_exec_script(store_tx *t, const char *sql, nx_err *e)
{
    pg_conn *c = ((pg_tx *)t)->c;
    if (script_has_txn_control(sql))
        return nx_fail(e, NX_EINTERNAL, "", "脚本结束了当前事务（脚本中不能有 BEGIN/COMMIT）");
    ahead_drop(c);
    if (c->begin_sql) {
        int rc = simple(c->db, c->begin_sql, e);
        if (rc)
            return rc;
        c->begin_sql = NULL;
    }
    int rc = simple(c->db, sql, e);
    if (rc == 0 && PQtransactionStatus(c->db) != PQTRANS_INTRANS)
        return nx_fail(e, NX_EINTERNAL, "", "脚本结束了当前事务（脚本中不能有 BEGIN/COMMIT）");
    return rc;
}


static void rows_clear_decoded(pg_rows *w)
{
    for (int i = 0; w->dec && i < w->ncols; i++) {
        if (w->dec[i])
            PQfreemem(w->dec[i]);
        w->dec[i] = NULL;
    }
}

static void rows_reset(pg_rows *w)
{
    rows_clear_decoded(w);
    free(w->bytea);
    free(w->dec);
    free(w->declen);
    w->bytea = NULL;
    w->dec = NULL;
    w->declen = NULL;
    w->ncols = 0;
}

/* Remember the shape of the result (columns, which are bytea). */
static int rows_describe(pg_rows *w, const PGresult *r, nx_err *e)
{
    w->ncols = PQnfields(r);
    if (w->ncols == 0)
        return 0;
    w->bytea = calloc((size_t)w->ncols, sizeof *w->bytea);
    w->dec = calloc((size_t)w->ncols, sizeof *w->dec);
    w->declen = calloc((size_t)w->ncols, sizeof *w->declen);
    if (!w->bytea || !w->dec || !w->declen) {
        rows_reset(w);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    for (int i = 0; i < w->ncols; i++)
        w->bytea[i] = PQftype(r, i) == OID_BYTEA;
    return 0;
}

static int pg_query(store_tx *t, const char *sql, const store_param *p, int n, store_rows **rows, nx_err *e)
{
    pg_tx *tx = (pg_tx *)t;
    pg_conn *c = tx->c;
    int rc = send_stmt(t, sql, p, n, true, e);
    if (rc)
        return rc;
    pg_rows *w = &tx->rows;
    memset(w, 0, sizeof *w);
    w->c = c;
    PGresult *r = PQgetResult(c->db);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_SINGLE_TUPLE) {
        w->pending = r;
    } else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        w->ended = true;
        w->end = 0;
    } else {
        rc = map_result(c->db, r, e);
        PQclear(r);
        drain(c);
        return rc;
    }
    rc = rows_describe(w, r, e);
    if (w->ended) {
        PQclear(r);
        drain(c);
    }
    if (rc) {
        PQclear(w->pending);
        w->pending = NULL;
        if (!w->ended)
            drain(c);
        return rc;
    }
    *rows = &w->base;
    return 0;
}

static int pg_next(store_rows *rr)
{
    pg_rows *w = (pg_rows *)rr;
    rows_clear_decoded(w);
    PQclear(w->cur);
    w->cur = NULL;
    if (w->pending) {
        w->cur = w->pending;
        w->pending = NULL;
        return 1;
    }
    if (w->ended)
        return w->end;
    PGresult *r = PQgetResult(w->c->db);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_SINGLE_TUPLE) {
        w->cur = r;
        return 1;
    }
    w->ended = true;
    w->end = (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) ? 0 : map_result(w->c->db, r, NULL);
    PQclear(r);
    drain(w->c);
    return w->end;
}

static int pg_ncols(store_rows *rr)
{
    return ((pg_rows *)rr)->ncols;
}

static const char *cell(store_rows *rr, int col)
{
    pg_rows *w = (pg_rows *)rr;
    if (w->cur == NULL || col < 0 || col >= w->ncols || PQgetisnull(w->cur, 0, col))
        return NULL;
    return PQgetvalue(w->cur, 0, col);
}

static bool pg_isnull(store_rows *rr, int col)
{
    return cell(rr, col) == NULL;
}

static int64_t pg_int(store_rows *rr, int col)
{
    const char *v = cell(rr, col);
    if (v == NULL)
        return 0;
    if (v[0] == 't' && v[1] == '\0')
        return 1;
    if (v[0] == 'f' && v[1] == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end && *end == '\0' && errno == 0)
        return x;
    double d = strtod(v, NULL); /* numeric results: sum(), avg() */
    if (d >= 9.2233720368547758e18)
        return INT64_MAX;
    if (d <= -9.2233720368547758e18)
        return INT64_MIN;
    return (int64_t)d;
}

static double pg_real(store_rows *rr, int col)
{
    const char *v = cell(rr, col);
    return v ? strtod(v, NULL) : 0.0;
}

static const char *pg_text(store_rows *rr, int col)
{
    return cell(rr, col);
}

static const void *pg_blob(store_rows *rr, int col, size_t *len)
{
    pg_rows *w = (pg_rows *)rr;
    *len = 0;
    const char *v = cell(rr, col);
    if (v == NULL)
        return NULL;
    if (!w->bytea[col]) {
        *len = (size_t)PQgetlength(w->cur, 0, col);
        return v;
    }
    if (w->dec[col] == NULL) {
        w->dec[col] = PQunescapeBytea((const unsigned char *)v, &w->declen[col]);
        if (w->dec[col] == NULL)
            return NULL;
    }
    *len = w->declen[col];
    return w->dec[col];
}

static void pg_rows_free(store_rows *rr)
{
    pg_rows *w = (pg_rows *)rr;
    PQclear(w->cur);
    PQclear(w->pending);
    w->cur = w->pending = NULL;
    if (!w->ended)
        drain(w->c); /* the rest of the rows are read and dropped */
    w->ended = true;
    rows_reset(w);
}

static int pg_table_exists(store_tx *t, const char *name, bool *exists, nx_err *e)
{
    int64_t n = 0;
    *exists = false;
    int rc = store_one_int(t,
                           "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
                           " AND tablename = $1",
                           (store_param[]){P_TEXT(name)}, 1, &n, e);
    if (rc == 0)
        *exists = n > 0;
    return rc;
}

/* ---- notify, listen, leader, migrations lock ---- */

static int pg_notify(store_tx *t, const char *channel, nx_err *e)
{
    return store_exec(t, "SELECT pg_notify($1, '')", (store_param[]){P_TEXT(channel)}, 1, NULL, e);
}

static int pg_migrate_lock(store_tx *t, nx_err *e)
{
    return store_exec(t, "SELECT pg_advisory_xact_lock($1)", (store_param[]){P_INT(MIGRATE_LOCK_KEY)}, 1, NULL,
                      e);
}

static bool listen_all(pg_store *q, PGconn *db)
{
    char ch[STORE_MAX_LISTENERS][STORE_CHANNEL_MAX + 1];
    int n = store_listened_channels(&q->base, ch, STORE_MAX_LISTENERS);
    for (int i = 0; i < n; i++) {
        char sql[STORE_CHANNEL_MAX + 16];
        snprintf(sql, sizeof sql, "LISTEN \"%s\"", ch[i]); /* names are [a-z0-9_] (store.c) */
        if (simple(db, sql, NULL) != 0)
            return false;
    }
    return true;
}

static void *listener_main(void *arg)
{
    pg_store *q = arg;
    nx_log_set_ctx("pg-listen");
    PGconn *db = NULL;
    bool had = false; /* had a connection before: a reconnect must wake everyone */
    while (!atomic_load(&q->lstop)) {
        if (db == NULL || PQstatus(db) != CONNECTION_OK) {
            char err[256];
            atomic_store(&q->lhave, -1); /* not live until listen_all succeeds again */
            PQfinish(db);
            db = connect_url(q->url, q->origin, err, sizeof err);
            if (db == NULL) {
                nx_log(LOG_WARN, "store.pg_listen_connect_failed msg=\"%s\"", err);
                for (int i = 0; i < 4 && !atomic_load(&q->lstop); i++)
                    sleep_ms(LISTEN_POLL_MS);
                continue;
            }
            atomic_store(&q->lresub, true);
            if (had) {
                nx_log(LOG_INFO, "store.pg_listen_reconnected");
                store_listeners_run(&q->base, NULL);
            }
            had = true;
        }
        if (atomic_load(&q->lresub)) {
            int want = atomic_load(&q->lwant);
            atomic_store(&q->lresub, false);
            if (!listen_all(q, db)) {
                atomic_store(&q->lresub, true);
                continue;
            }
            atomic_store(&q->lhave, want);
        }
        struct pollfd pfd = {.fd = PQsocket(db), .events = POLLIN};
        int pr = poll(&pfd, 1, LISTEN_POLL_MS);
        if (pr < 0 && errno != EINTR)
            sleep_ms(LISTEN_POLL_MS);
        if (pr > 0 && !PQconsumeInput(db))
            continue; /* broken: reconnect above */
        PGnotify *nt;
        while ((nt = PQnotifies(db)) != NULL) {
            /* A watch trigger's NOTIFY from this store's own commit: commit_watched has delivered it. */
            if (!(nt->extra && strcmp(nt->extra, q->origin) == 0))
                store_listeners_run(&q->base, nt->relname);
            PQfreemem(nt);
        }
    }
    PQfinish(db);
    return NULL;
}

static int pg_listen(store *s, nx_err *e)
{
    pg_store *q = (pg_store *)s;
    int rc = 0;
    pthread_mutex_lock(&q->lmu);
    atomic_fetch_add(&q->lwant, 1);
    atomic_store(&q->lresub, true);
    if (!q->lstarted) {
        atomic_store(&q->lstop, false);
        if (pthread_create(&q->lthread, NULL, listener_main, q) != 0)
            rc = nx_fail(e, NX_EINTERNAL, "", "无法启动数据库通知线程");
        else
            q->lstarted = true;
    }
    pthread_mutex_unlock(&q->lmu);
    return rc;
}

static bool pg_listen_live(store *s)
{
    pg_store *q = (pg_store *)s;
    return atomic_load(&q->lhave) == atomic_load(&q->lwant);
}

/* One-value query on the leader connection: 1 true, 0 false, -1 connection trouble. */
static int leader_query(PGconn *db, const char *sql, int64_t key)
{
    char k[32];
    snprintf(k, sizeof k, "%lld", (long long)key);
    const char *v[1] = {k};
    PGresult *r = key ? PQexecParams(db, sql, 1, NULL, v, NULL, NULL, 0) : PQexec(db, sql);
    int out = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        out = strcmp(PQgetvalue(r, 0, 0), "t") == 0 || strcmp(PQgetvalue(r, 0, 0), "1") == 0;
    PQclear(r);
    return out;
}

static int pg_leader(store *s, const char *name, bool *leader, nx_err *e)
{
    pg_store *q = (pg_store *)s;
    if (strlen(name) > LEADER_NAME)
        return nx_fail(e, NX_EINVAL, "name", "锁名过长");
    int rc = 0;
    pthread_mutex_lock(&q->leader_mu);
    int held = -1;
    for (int i = 0; i < q->nheld; i++)
        if (strcmp(q->held[i].name, name) == 0)
            held = i;
    int64_t now = clock_mono_ms();
    if (held >= 0 && now - q->held[held].verified < 1000 && q->leader_db &&
        PQstatus(q->leader_db) == CONNECTION_OK) {
        *leader = true;
        goto out;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        if (q->leader_db == NULL || PQstatus(q->leader_db) != CONNECTION_OK) {
            char err[256];
            PQfinish(q->leader_db);
            q->nheld = 0; /* the session's locks went with it */
            held = -1;
            q->leader_db = connect_url(q->url, q->origin, err, sizeof err);
            if (q->leader_db == NULL) {
                nx_log(LOG_WARN, "store.pg_leader_connect_failed msg=\"%s\"", err);
                rc = nx_fail(e, NX_EBUSY, "", "无法连接数据库服务器，请稍后重试");
                goto out;
            }
        }
        int got = held >= 0 ? leader_query(q->leader_db, "SELECT true", 0)
                            : leader_query(q->leader_db, "SELECT pg_try_advisory_lock($1::bigint)", fnv1a64(name));
        if (got < 0) {
            if (PQstatus(q->leader_db) != CONNECTION_OK)
                continue; /* reconnect and try again */
            rc = nx_fail(e, NX_EDB, "", "领导锁查询失败");
            goto out;
        }
        if (got && held < 0 && q->nheld < LEADER_MAX) {
            held = q->nheld++;
            str_copy(q->held[held].name, name, sizeof q->held[held].name);
        }
        if (got && held >= 0)
            q->held[held].verified = now;
        *leader = got == 1;
        if (got && held >= 0 && q->nheld == 1)
            nx_log(LOG_DEBUG, "store.pg_leader name=%s", name);
        break;
    }
out:
    pthread_mutex_unlock(&q->leader_mu);
    return rc;
}

/* ---- backup and restore ---- */

/* Run argv with stdout to out_fd (-1: inherit) and stdin from /dev/null; exit status or -1. */
static int run_tool(char *const argv[], int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        nx_log(LOG_WARN, "store.pg_tool_missing tool=%s err=%s", argv[0], strerror(rc));
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run argv and collect up to cap-1 bytes of its stdout into a malloc'd string. */
static int run_capture(char *const argv[], char **out, size_t cap)
{
    *out = NULL;
    char tmpl[] = "/tmp/nx-pg-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return -1;
    unlink(tmpl);
    int st = run_tool(argv, fd);
    if (st != 0) {
        close(fd);
        return st;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0 || (size_t)size >= cap) {
        close(fd);
        return -2;
    }
    char *buf = malloc((size_t)size + 1);
    if (buf == NULL || pread(fd, buf, (size_t)size, 0) != size) {
        free(buf);
        close(fd);
        return -1;
    }
    buf[size] = '\0';
    close(fd);
    *out = buf;
    return 0;
}

static int pg_backup(store *s, const char *dest, nx_err *e)
{
    pg_store *q = (pg_store *)s;
    int rc = store_backup_create(dest, e);
    if (rc)
        return rc;
    char *argv[] = {"pg_dump", "--format=custom", "--no-owner", "--no-acl", "--file", (char *)dest, "--dbname",
                    q->url, NULL};
    int st = run_tool(argv, -1);
    if (st != 0) {
        unlink(dest);
        if (st < 0)
            return nx_fail(e, NX_EIO, "", "无法运行 pg_dump（请安装 postgresql-client）");
        return nx_fail(e, NX_EDB, "", "pg_dump 失败（退出码 %d）", st);
    }
    int fd = open(dest, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    nx_log(LOG_INFO, "store.backup_done backend=postgres");
    return 0;
}

/* In pg_restore's plain output of one table's data, find the COPY block and call fn for each line. */
static void copy_lines(char *text, void (*fn)(const char *line, void *ctx), void *ctx)
{
    bool in = false;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!in) {
            in = str_starts_with(line, "COPY ");
            continue;
        }
        if (strcmp(line, "\\.") == 0) {
            in = false;
            continue;
        }
        fn(line, ctx);
    }
}

static void meta_line(const char *line, void *ctx)
{
    if (strcmp(line, "app\tnuanxin") == 0)
        *(bool *)ctx = true;
}

static void version_line(const char *line, void *ctx)
{
    int64_t *max = ctx, v = 0;
    char num[24];
    size_t n = strcspn(line, "\t");
    if (n == 0 || n >= sizeof num)
        return;
    memcpy(num, line, n);
    num[n] = '\0';
    if (str_to_i64(num, 0, INT_MAX, &v) == 0 && v > *max)
        *max = v;
}

/* The checks a restore makes before touching anything: a pg_dump custom archive that pg_restore
 * can read, with nuanxin's marker and a schema version this binary understands. */
static int pg_verify(const char *src, int max_version, nx_err *e)
{
    char head[5];
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nx_fail(e, errno == ENOENT ? NX_ENOTFOUND : NX_EIO, "src", "无法打开备份文件：%s", strerror(errno));
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    if (got != (ssize_t)sizeof head || memcmp(head, "PGDMP", 5) != 0)
        return nx_fail(e, NX_EINVAL, "src", "不是 nuanxin 备份文件（不是 pg_dump 自定义格式）");

    char *text = NULL;
    char *a1[] = {"pg_restore", "--data-only", "--table=nx_meta", "--file=-", (char *)src, NULL};
    int st = run_capture(a1, &text, 1 << 20);
    if (st == -1)
        return nx_fail(e, NX_EIO, "", "无法运行 pg_restore（请安装 postgresql-client）");
    if (st != 0)
        return nx_fail(e, NX_EINVAL, "src", "备份文件已损坏或无法读取");
    bool marked = false;
    copy_lines(text, meta_line, &marked);
    free(text);
    if (!marked)
        return nx_fail(e, NX_EINVAL, "src", "不是 nuanxin 备份文件（缺少 nuanxin 标记）");
    char *a2[] = {"pg_restore", "--data-only", "--table=schema_migrations", "--file=-", (char *)src, NULL};
    if (run_capture(a2, &text, 1 << 20) != 0)
        return nx_fail(e, NX_EINVAL, "src", "备份文件已损坏或无法读取");
    int64_t version = 0;
    copy_lines(text, version_line, &version);
    free(text);
    if (version > max_version)
        return nx_fail(e, NX_EINVAL, "src", "备份的数据库版本 %lld 高于本程序支持的 %d，请升级 nuanxin",
                       (long long)version, max_version);

    return 0;
}

static int pg_restore_(const char *url, const char *src, int max_version, nx_err *e)
{
    int rc = pg_verify(src, max_version, e);
    if (rc)
        return rc;
    /* Nobody else may be using the target database. */
    char err[256];
    PGconn *db = connect_url(url, NULL, err, sizeof err);
    if (db == NULL) {
        nx_log(LOG_WARN, "store.pg_connect_failed msg=\"%s\"", err);
        return nx_fail(e, NX_EBUSY, "database", "无法连接 PostgreSQL 服务器，请确认它已启动且数据库已创建");
    }
    int busy = leader_query(db,
                            "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                            0);
    PQfinish(db);
    if (busy != 0)
        return busy < 0 ? nx_fail(e, NX_EDB, "database", "无法检查数据库是否在使用")
                        : nx_fail(e, NX_EBUSY, "database", "数据库正在使用，请先停止所有 nuanxin serve 进程");

    /* The whole replacement is one transaction: psql --single-transaction over a script that drops
     * the schema and then replays the archive. */
    char script[] = "/tmp/nx-restore-XXXXXX";
    int fd = mkstemp(script);
    if (fd < 0)
        return nx_fail(e, NX_EIO, "", "无法创建临时文件：%s", strerror(errno));
    static const char prelude[] =
        "SET client_min_messages = warning;\nDROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n";
    if (write(fd, prelude, sizeof prelude - 1) != (ssize_t)(sizeof prelude - 1)) {
        rc = nx_fail(e, NX_EIO, "", "无法写入临时文件：%s", strerror(errno));
        goto done;
    }
    char *a3[] = {"pg_restore", "--no-owner", "--no-acl", "--file=-", (char *)src, NULL};
    int st = run_tool(a3, fd);
    if (st != 0) {
        rc = nx_fail(e, NX_EINVAL, "src", "备份文件无法读取（pg_restore 退出码 %d）", st);
        goto done;
    }
    char *a4[] = {"psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
                  "--dbname", (char *)url, "--file", script, NULL};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    st = run_tool(a4, devnull);
    if (devnull >= 0)
        close(devnull);
    if (st != 0) {
        rc = st < 0 ? nx_fail(e, NX_EIO, "", "无法运行 psql（请安装 postgresql-client）")
                    : nx_fail(e, NX_EDB, "database", "恢复失败，数据库保持原样（psql 退出码 %d）", st);
        goto done;
    }
    nx_log(LOG_INFO, "store.restore_done backend=postgres");
done:
    close(fd);
    unlink(script);
    return rc;
}

static int pg_check(store *s, nx_err *e)
{
    pg_store *q = (pg_store *)s;
    pg_conn *c = NULL;
    int rc = conn_acquire(q, false, false, &c, e);
    if (rc)
        return rc;
    rc = simple(c->db, "SELECT 1", e);
    if (rc && PQstatus(c->db) != CONNECTION_OK && conn_repair(q, c, true, NULL) == 0)
        rc = simple(c->db, "SELECT 1", e);
    conn_release(q, c);
    return rc;
}

const struct store_ops store_postgres_ops = {
    .name = "postgres",
    .accepts = pg_accepts,
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .urgent_waiting = pg_urgent_waiting,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
    .query = pg_query,
    .query_ahead = pg_query_ahead,
    .next = pg_next,
    .ncols = pg_ncols,
    .isnull = pg_isnull,
    .col_int = pg_int,
    .col_real = pg_real,
    .col_text = pg_text,
    .col_blob = pg_blob,
    .rows_free = pg_rows_free,
    .table_exists = pg_table_exists,
    .backup = pg_backup,
    .verify = pg_verify,
    .restore = pg_restore_,
    .check = pg_check,
    .notify = pg_notify,
    .listen_live = pg_listen_live,
    .listen = pg_listen,
    .leader = pg_leader,
    .migrate_lock = pg_migrate_lock,
    .stop_threads = pg_stop_threads,
};
