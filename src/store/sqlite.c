/* sqlite.c — the SQLite backend of store.h: one database file, one writer, a pool of readers.
 *
 * Connections. The file is opened once for writing and opt->readers times for reading, every
 * connection with SQLITE_OPEN_NOMUTEX: SQLite does no locking of its own inside a connection because
 * we guarantee that a connection is used by one thread at a time. The writer is guarded by a gate
 * (base/gate.h) held from BEGIN IMMEDIATE to COMMIT/ROLLBACK: error-checking like a mutex (a thread
 * that nests two write transactions gets an error, not a deadlock), and a STORE_WRITE_URGENT
 * transaction (an alarm) gets it before every other waiting writer; readers sit in a pool guarded by a mutex and a
 * condition variable, and are PRAGMA query_only so that a read transaction can never become a second
 * writer. Waiting for either is bounded by busy_ms, then NX_EBUSY.
 *
 * Durability and isolation. WAL mode with synchronous=FULL: each commit fsyncs the WAL, so an
 * acknowledged write survives kill -9 and power loss. A read transaction runs BEGIN and then reads
 * the schema page, which pins its WAL snapshot at begin (a bare deferred BEGIN would only take the
 * snapshot at the first query and could see a commit made after store_begin returned); a
 * STORE_READ_DEFERRED transaction is that bare deferred BEGIN, one statement less.
 *
 * Parameters. Our SQL uses $1..$N. SQLite treats "$1" as a named parameter whose index is the order
 * of first appearance, so each cached statement carries a map from SQLite's index to our N, built
 * once at prepare time; "$2 ... $1" and "$1 ... $1" then bind correctly. A parameter that is not
 * $<digits> is refused, as is a $k with k > n.
 *
 * Statement cache. Per connection, stmt_cache.h's table keyed by the SQL text (shared with
 * postgres.c), at most CACHE_MAX statements, evicting the least recently used. Cached statements are
 * reset and their bindings cleared after each use (in store_rows_free for queries).
 *
 * Errors. SQLite's extended codes map to ours in map_err; the SQLite message (never a bound value)
 * goes to the log at WARN and into nx_err for NX_EDB. A full disk, a read-only file system and I/O
 * errors are NX_EBUSY (503, with a message saying which): the operator clears them and the process
 * goes on without a restart (tests/api/test_faults.py). If SQLite rolled a transaction back on its own
 * (an I/O error, a full disk), the next statement notices autocommit and fails instead of running
 * outside any transaction.
 *
 * WAL syncer (issue 18 item 3, tenth session). A thread per store ("nx-store-sync", its own
 * connection) does the WAL's background work outside the write gate, so that neither a gate holder
 * nor an alarm's durable commit pays for it: (1) checkpoints: the writer's wal hook replaces SQLite's
 * autocheckpoint, which ran in whichever commit crossed 1000 frames — a telemetry commit holding the
 * gate while an alarm waited, or the alarm's own — and wakes the syncer, which runs a PASSIVE
 * checkpoint on its connection beside the writers (SQLite allows one checkpointer beside a writer);
 * only when the WAL passes CKPT_BACKSTOP frames while the syncer is stalled (not scheduled, or hung
 * in a pass for SYNC_STALL_MS) does the committing writer checkpoint itself, as before — a WAL kept
 * long by a reader's old snapshot is no reason, since no checkpoint can copy past it;
 * (2) writeback: after a STORE_WRITE_LAZY commit (synchronous=NORMAL, no fsync) the syncer starts
 * and waits for the writeback of the WAL's dirty pages (sync_file_range), so a durable commit after
 * lazy ones finds their pages written and its fsync has little but its own to write. Durability is
 * unchanged: a durable commit still fsyncs the WAL itself (synchronous=FULL); the syncer only makes
 * that fsync shorter. NX_SOS_TRACE marks sq.ckpt
 * and sq.writeback (bench/sos_trace.py).
 *
 * Backup and restore use the online backup API; see the comments at store_backup and store_restore. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <sqlite3.h>

#include "base/clock.h"
#include "base/gate.h"
#include "base/log.h"
#include "base/str.h"
#include "base/trace.h"
#include "base/worker.h"
#include "store/stmt_cache.h"
#include "store/store_impl.h"

#define CACHE_MAX     256
#define PATH_CAP      4096
#define CACHE_KIB     16384     /* page cache per connection */
#define MMAP_BYTES    134217728 /* 128 MiB memory-mapped I/O per connection */
#define CKPT_FRAMES   1000      /* the syncer checkpoints the WAL from this many frames (SQLite's default) */
#define CKPT_RESTART  4000      /* ...and finishes the copy (in the gate) from this many, to start it over */
#define CKPT_TAIL     100       /* ...once at most this many frames are left to copy */
#define CKPT_BACKSTOP 16000     /* ...and the committing writer itself from this many, if the syncer stalls */
#define SYNC_STALL_MS 3000      /* the syncer stalls: no pass begun or ended, no wake-up, for this long */
#define SYNC_IDLE_MS  1000      /* the syncer looks at the WAL at least this often */

typedef struct stmt_ent {
    stmt_key k; /* first: the cache's links and key (stmt_cache.h) */
    sqlite3_stmt *st;
    int nparam; /* sqlite3_bind_parameter_count */
    int maxk;   /* largest $k used */
    int *kmap;  /* kmap[j-1] = k for SQLite parameter j */
} stmt_ent;

#define MEMO_SLOTS 64

typedef struct sq_conn sq_conn;

typedef struct sq_rows {
    store_rows base;
    sq_conn *c;
    stmt_ent *ent;
    int end; /* 0 while stepping; then the final result of store_next (0 or a negative code) */
    bool ended;
} sq_rows;

typedef struct sq_tx {
    store_tx base;
    sq_conn *c;
    sq_rows rows;
} sq_tx;

struct sq_conn {
    sqlite3 *db;
    bool writer;
    bool in_use; /* readers: taken from the pool */
    bool sync_normal; /* synchronous=NORMAL now, for a store_tx_lazy commit (else FULL) */
    sq_tx tx;    /* the one transaction this connection can carry */
    sqlite3_stmt *st_begin, *st_snap, *st_commit, *st_rollback;
    stmt_cache cache;
    /* Most SQL is a string literal, passed at the same address every time: a small memo keyed by
     * the address finds its statement without hashing the text (still confirmed with strcmp, since
     * a buffer can hold different SQL at the same address). Entries are dropped on eviction. */
    struct {
        const char *sql;
        stmt_ent *ent;
    } memo[MEMO_SLOTS];
};

/* The WAL's background work (issue 18 item 3, tenth session): see "WAL syncer" at the top. */
typedef struct sq_syncer {
    nx_worker w;         /* w.mu guards nothing but the wake-ups */
    bool started;
    sqlite3 *db;         /* its own connection, for checkpoints only (the syncer thread's) */
    int fd;              /* the -wal file, read-only, for writeback; -1 until it exists */
    char wal[PATH_CAP];  /* its path */
    atomic_int frames;   /* frames in the WAL after the last commit (the writer's wal hook) */
    atomic_bool dirty;   /* lazy commits since the last writeback */
    int ckpt_at;         /* frames in the WAL at the last checkpoint (the syncer's) */
    atomic_llong alive_ms; /* when the syncer last woke or began or ended a pass (clock_mono_ms) */
    struct sq_store *q;
} sq_syncer;

typedef struct sq_store {
    store base;
    int busy_ms;
    sq_conn writer;
    sq_syncer sync;
    nx_gate wgate;  /* the writer: urgent (alarm) transactions first */
    int64_t wmu_at; /* when wgate was last taken (NX_SOS_TRACE only) */
    int lazy_since; /* STORE_WRITE_LAZY commits since the last durable one (under wgate; for the trace) */
    sq_conn *readers;
    int nreaders;
    pthread_mutex_t pmu;
    pthread_cond_t pcv;
} sq_store;

static const char magic[16] = "SQLite format 3";

/* ---- errors ---- */

static int map_code(int rc, nx_err *e, const char *msg)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return nx_fail(e, NX_ECONFLICT, "", "数据重复");
    case SQLITE_CONSTRAINT_FOREIGNKEY: return nx_fail(e, NX_ECONFLICT, "", "关联数据不存在或仍被引用");
    case SQLITE_CONSTRAINT_CHECK: return nx_fail(e, NX_EINVAL, "", "数据不符合约束：%s", msg);
    case SQLITE_TOOBIG: return nx_fail(e, NX_ETOOBIG, "", "数据过大");
    case SQLITE_NOMEM: return nx_fail(e, NX_ENOMEM, "", "内存不足");
    case SQLITE_READONLY: return nx_fail(e, NX_EINTERNAL, "", "只读事务中不能写入：%s", msg);
    default: break;
    }
    /* The disk and the file system: conditions an operator clears (free space, remount) while the
     * process keeps running, so they are "unavailable, try again" (503) and say what is wrong. */
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return nx_fail(e, NX_EBUSY, "", "数据库繁忙，请稍后重试");
    case SQLITE_FULL: return nx_fail(e, NX_EBUSY, "", "磁盘已满，数据库暂时无法写入，请联系管理员");
    case SQLITE_READONLY: return nx_fail(e, NX_EBUSY, "", "数据目录只读，数据库暂时无法写入，请联系管理员");
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: return nx_fail(e, NX_EBUSY, "", "数据库文件读写失败，请稍后重试或联系管理员");
    default: return nx_fail(e, NX_EDB, "", "数据库错误：%s", msg);
    }
}

/* Map the connection's last error (rc is the extended code returned by the failing call). */
static int map_err(sqlite3 *db, int rc, nx_err *e)
{
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    /* A constraint violation is an answer, not a fault: the caller maps it to 409/422, and some
     * callers expect it (a slot booked twice). It is logged at DEBUG; everything else warns. */
    nx_log((rc & 0xff) == SQLITE_CONSTRAINT ? LOG_DEBUG : LOG_WARN, "store.sqlite_error rc=%d msg=\"%s\"", rc, msg);
    /* A plain SQLITE_READONLY is a write through a read-only connection (a bug) unless the file
     * itself cannot be written: SQLite opens a file on a read-only file system read-only without a
     * word, and every write then fails this way until the file system is writable again. */
    const char *file = db && rc == SQLITE_READONLY ? sqlite3_db_filename(db, "main") : NULL;
    if (file && file[0] && access(file, W_OK) != 0)
        return map_code(SQLITE_READONLY_DIRECTORY, e, msg);
    return map_code(rc, e, msg);
}

static int64_t deadline_after(int ms)
{
    return clock_mono_ms() + ms;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static struct timespec abs_time(clockid_t clk, int ms)
{
    return clock_deadline(clk, ms);
}

/* ---- statement cache ---- */

static void ent_free(stmt_ent *x)
{
    if (x == NULL)
        return;
    sqlite3_finalize(x->st);
    free(x->k.sql);
    free(x->kmap);
    free(x);
}

static void key_free(stmt_key *k)
{
    ent_free((stmt_ent *)k);
}

static void cache_evict_lru(sq_conn *c)
{
    stmt_ent *x = (stmt_ent *)stmt_cache_lru(&c->cache);
    if (x == NULL)
        return;
    stmt_cache_remove(&c->cache, &x->k);
    for (int i = 0; i < MEMO_SLOTS; i++)
        if (c->memo[i].ent == x)
            c->memo[i].ent = NULL, c->memo[i].sql = NULL;
    ent_free(x);
}

static void cache_clear(sq_conn *c)
{
    stmt_cache_clear(&c->cache, key_free);
    memset(c->memo, 0, sizeof c->memo);
}

static bool only_space(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != ';')
            return false;
    return true;
}

/* Build the $k map of a fresh statement. */
static int map_params(stmt_ent *x, nx_err *e)
{
    x->nparam = sqlite3_bind_parameter_count(x->st);
    x->maxk = 0;
    if (x->nparam == 0)
        return 0;
    x->kmap = calloc((size_t)x->nparam, sizeof *x->kmap);
    if (x->kmap == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    for (int j = 1; j <= x->nparam; j++) {
        const char *name = sqlite3_bind_parameter_name(x->st, j);
        int64_t k = 0;
        if (name == NULL || name[0] != '$' || str_to_i64(name + 1, 1, 32766, &k) != 0 || name[1] == '+' ||
            name[1] == '-' || name[1] == '0')
            return nx_fail(e, NX_EINTERNAL, "", "不支持的参数写法 %s（请用 $1..$N）", name ? name : "?");
        x->kmap[j - 1] = (int)k;
        if (k > x->maxk)
            x->maxk = (int)k;
    }
    return 0;
}

static int cache_get(sq_conn *c, const char *sql, stmt_ent **out, nx_err *e)
{
    size_t slot = ((uintptr_t)sql >> 3) % MEMO_SLOTS;
    stmt_ent *m = c->memo[slot].ent;
    if (m && c->memo[slot].sql == sql && strcmp(m->k.sql, sql) == 0) {
        stmt_cache_touch(&c->cache, &m->k);
        *out = m;
        return 0;
    }
    uint32_t h = stmt_hash(sql);
    stmt_ent *x = (stmt_ent *)stmt_cache_find(&c->cache, sql, h);
    if (x) {
        c->memo[slot].sql = sql;
        c->memo[slot].ent = x;
        *out = x;
        return 0;
    }
    x = calloc(1, sizeof *x);
    if (x == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &x->st, &tail);
    if (rc != SQLITE_OK) {
        rc = map_err(c->db, sqlite3_extended_errcode(c->db), e);
        ent_free(x);
        return rc;
    }
    if (x->st == NULL) {
        ent_free(x);
        return nx_fail(e, NX_EINTERNAL, "", "空语句");
    }
    if (tail && !only_space(tail)) {
        ent_free(x);
        return nx_fail(e, NX_EINTERNAL, "", "一次只能执行一条语句（多条语句请用 store_exec_script）");
    }
    rc = map_params(x, e);
    x->k.sql = strdup(sql);
    if (rc == 0 && x->k.sql == NULL)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    if (rc) {
        ent_free(x);
        return rc;
    }
    if (c->cache.n >= CACHE_MAX)
        cache_evict_lru(c);
    stmt_cache_add(&c->cache, &x->k, h);
    c->memo[slot].sql = sql;
    c->memo[slot].ent = x;
    *out = x;
    return 0;
}

static void ent_release(stmt_ent *x)
{
    sqlite3_reset(x->st);
    sqlite3_clear_bindings(x->st);
}

static int bind_params(sq_conn *c, stmt_ent *x, const store_param *p, int n, nx_err *e)
{
    if (x->maxk > n)
        return nx_fail(e, NX_EINTERNAL, "", "语句使用了参数 $%d，但只提供了 %d 个", x->maxk, n);
    for (int j = 1; j <= x->nparam; j++) {
        const store_param *q = &p[x->kmap[j - 1] - 1];
        int rc;
        switch (q->type) {
        case SP_NULL: rc = sqlite3_bind_null(x->st, j); break;
        case SP_INT: rc = sqlite3_bind_int64(x->st, j, q->i); break;
        case SP_REAL: rc = sqlite3_bind_double(x->st, j, q->r); break;
        case SP_TEXT:
            rc = q->p ? sqlite3_bind_text64(x->st, j, q->p, q->n, SQLITE_TRANSIENT, SQLITE_UTF8)
                      : sqlite3_bind_null(x->st, j);
            break;
        case SP_BLOB:
            /* A non-NULL pointer with n == 0 is an empty blob, not NULL. */
            rc = q->p ? sqlite3_bind_blob64(x->st, j, q->p, q->n, SQLITE_TRANSIENT)
                      : sqlite3_bind_null(x->st, j);
            break;
        default: return nx_fail(e, NX_EINTERNAL, "", "未知的参数类型 %d", (int)q->type);
        }
        if (rc != SQLITE_OK)
            return map_err(c->db, rc, e);
    }
    return 0;
}

/* ---- connections ---- */

static int simple_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void conn_close(sq_conn *c)
{
    if (c->db == NULL)
        return;
    cache_clear(c);
    sqlite3_finalize(c->st_begin);
    sqlite3_finalize(c->st_snap);
    sqlite3_finalize(c->st_commit);
    sqlite3_finalize(c->st_rollback);
    int rc = sqlite3_close(c->db);
    if (rc != SQLITE_OK)
        nx_log(LOG_ERROR, "store.sqlite_close_failed rc=%d", rc);
    c->db = NULL;
}

static int conn_exec(sq_conn *c, const char *sql, nx_err *e)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : map_err(c->db, sqlite3_extended_errcode(c->db), e);
}

static int conn_open(sq_conn *c, const char *url, int flags, bool writer, int busy_ms, nx_err *e)
{
    memset(c, 0, sizeof *c);
    c->writer = writer;
    int rc = sqlite3_open_v2(url, &c->db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
    if (rc != SQLITE_OK) {
        if ((rc & 0xff) == SQLITE_CANTOPEN)
            rc = nx_fail(e, NX_ENOTFOUND, "database", "数据库不存在，请先运行 nuanxin init");
        else
            rc = map_err(c->db, rc, e);
        sqlite3_close(c->db);
        c->db = NULL;
        return rc;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, busy_ms);
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY;"
             " PRAGMA cache_size=-%d; PRAGMA mmap_size=%d;%s",
             CACHE_KIB, MMAP_BYTES, writer ? "" : " PRAGMA query_only=ON;");
    rc = conn_exec(c, pragmas, e);
    if (rc)
        goto fail;
    const char *begin = writer ? "BEGIN IMMEDIATE" : "BEGIN";
    if (sqlite3_prepare_v3(c->db, begin, -1, SQLITE_PREPARE_PERSISTENT, &c->st_begin, NULL) ||
        sqlite3_prepare_v3(c->db, "SELECT 1 FROM sqlite_schema LIMIT 1", -1, SQLITE_PREPARE_PERSISTENT,
                           &c->st_snap, NULL) ||
        sqlite3_prepare_v3(c->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &c->st_commit, NULL) ||
        sqlite3_prepare_v3(c->db, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &c->st_rollback, NULL)) {
        rc = map_err(c->db, sqlite3_extended_errcode(c->db), e);
        goto fail;
    }
    return 0;
fail:
    conn_close(c);
    return rc;
}

/* Switch the writer to WAL and check that it took (it does not for :memory: or some VFSes). */
static int enable_wal(sq_conn *c, nx_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = map_err(c->db, sqlite3_extended_errcode(c->db), e);
        sqlite3_finalize(st);
        return rc;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    bool wal = mode && strcmp(mode, "wal") == 0;
    nx_log(wal ? LOG_DEBUG : LOG_ERROR, "store.journal_mode mode=%s", mode ? mode : "?");
    sqlite3_finalize(st);
    return wal ? 0 : nx_fail(e, NX_EDB, "database", "无法启用 WAL 日志模式（数据库必须是磁盘上的文件）");
}

/* ---- the WAL syncer ---- */

/* Whether the syncer has stopped keeping up: a thread that is not scheduled, or a pass that hangs.
 * A WAL that stays long while the syncer runs is not that: a reader's old snapshot (a long export)
 * keeps the frames after it from being copied by any checkpoint, the writer's no more than the
 * syncer's, and a checkpoint in the commit would only hold the gate, an alarm waiting behind it. */
static bool syncer_stalled(sq_syncer *y)
{
    return clock_mono_ms() - atomic_load_explicit(&y->alive_ms, memory_order_relaxed) > SYNC_STALL_MS;
}

/* The writer's wal hook (sqlite3_wal_hook: after each commit, in the committing thread, under the
 * gate): note the WAL's size and whether the commit was lazy, and wake the syncer. Cheap: no I/O
 * unless the WAL passes CKPT_BACKSTOP frames with the syncer stalled, or the syncer is not running
 * (then SQLite's own behaviour). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    sq_store *q = arg;
    sq_syncer *y = &q->sync;
    atomic_store_explicit(&y->frames, frames, memory_order_relaxed);
    if (!y->started || (frames >= CKPT_BACKSTOP && syncer_stalled(y))) {
        if (frames >= CKPT_FRAMES) {
            int64_t t0 = trace_on() ? trace_now_us() : 0;
            sqlite3_wal_checkpoint(db, name);
            if (t0)
                trace_mark("sq.ckpt", frames, trace_now_us() - t0);
        }
        return SQLITE_OK;
    }
    bool lazy = q->writer.sync_normal;
    if (lazy)
        atomic_store_explicit(&y->dirty, true, memory_order_relaxed);
    if (lazy || frames >= CKPT_FRAMES)
        worker_wake(&y->w);
    return SQLITE_OK;
}

/* Start the writeback of the WAL's dirty pages and wait for it (no flush of the disk's cache, no
 * metadata: the next durable commit's fsync does those). */
static void wal_writeback(sq_syncer *y)
{
    if (y->fd < 0) {
        y->fd = open(y->wal, O_RDONLY | O_CLOEXEC);
        if (y->fd < 0)
            return; /* not created yet */
    }
    int64_t t0 = trace_on() ? trace_now_us() : 0;
    if (sync_file_range(y->fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
        nx_log(LOG_DEBUG, "store.wal_writeback_failed errno=%d", errno);
    if (t0)
        trace_mark("sq.writeback", 0, trace_now_us() - t0);
}

/* A PASSIVE checkpoint on the syncer's connection: copies the frames no reader still needs, never
 * waits for the writer or readers; with synchronous=FULL it syncs the WAL first (the lazy pages too),
 * then the database. Returns SQLite's code; *done: the frames copied so far. */
static int passive(sq_syncer *y, bool gated, int *done)
{
    int64_t t0 = trace_on() ? trace_now_us() : 0;
    int log = 0;
    *done = 0;
    atomic_store_explicit(&y->alive_ms, clock_mono_ms(), memory_order_relaxed);
    int rc = sqlite3_wal_checkpoint_v2(y->db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, done);
    atomic_store_explicit(&y->alive_ms, clock_mono_ms(), memory_order_relaxed);
    if (t0)
        trace_mark(gated ? "sq.ckpt_gated" : "sq.ckpt", log - *done, trace_now_us() - t0);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
        nx_log(LOG_WARN, "store.checkpoint_failed rc=%d", rc);
    return rc;
}

/* Each CKPT_FRAMES frames, one checkpoint out of the gate: the writer appends meanwhile. SQLite starts
 * the WAL over (at the next write transaction) only once every frame was copied, which a checkpoint
 * beside a steady flood never achieves; so once the WAL holds CKPT_RESTART frames, further passes out
 * of the gate bring what is left down to CKPT_TAIL frames (else it tries again later), and a last
 * one copies that tail inside the gate (as a normal writer: an alarm waiting goes first and lends its priority; not started
 * while one waits), so that nothing is appended during it. A gated pass still syncs the WAL and the
 * database, so it comes once per CKPT_RESTART frames, where SQLite's autocheckpoint held the writer
 * for a whole checkpoint every 1000. */
static void checkpoint(sq_syncer *y, int frames)
{
    sq_store *q = y->q;
    int done = 0, left = frames;
    for (int pass = 0; pass < 3; pass++) {
        if (passive(y, false, &done) != SQLITE_OK)
            return;
        left = atomic_load_explicit(&y->frames, memory_order_relaxed) - done;
        if (frames < CKPT_RESTART || left <= CKPT_TAIL)
            break;
    }
    /* left 0: all copied, the next write starts the WAL over; more than CKPT_TAIL: not in the gate,
     * try again CKPT_FRAMES frames later (what keeps more left is a reader's old snapshot, and no
     * checkpoint copies past it: the WAL grows while that reader lasts, as with SQLite's own) */
    if (frames < CKPT_RESTART || left <= 0 || left > CKPT_TAIL)
        return;
    struct timespec until = abs_time(CLOCK_MONOTONIC, q->busy_ms);
    if (gate_waiting(&q->wgate, true) > 0 || gate_enter(&q->wgate, false, &until) != 0)
        return;
    passive(y, true, &done);
    if (gate_leave(&q->wgate) != 0)
        nx_log(LOG_ERROR, "store.writer_unlock_failed (syncer)");
}

static void *syncer_main(void *arg)
{
    sq_syncer *y = arg;
    pthread_setname_np(pthread_self(), "nx-store-sync"); /* top -H, NX_SOS_TRACE */
    pthread_mutex_lock(&y->w.mu);
    while (worker_wait(&y->w, SYNC_IDLE_MS)) {
        y->w.woken = false;
        pthread_mutex_unlock(&y->w.mu);
        atomic_store_explicit(&y->alive_ms, clock_mono_ms(), memory_order_relaxed);
        int frames = atomic_load_explicit(&y->frames, memory_order_relaxed);
        if (frames < y->ckpt_at) /* the WAL started over */
            y->ckpt_at = 0;
        if (frames >= CKPT_FRAMES && frames - y->ckpt_at >= CKPT_FRAMES) {
            /* as often as SQLite's autocheckpoint did: each CKPT_FRAMES frames */
            y->ckpt_at = frames;
            checkpoint(y, frames);
        }
        if (atomic_exchange_explicit(&y->dirty, false, memory_order_relaxed))
            wal_writeback(y);
        pthread_mutex_lock(&y->w.mu);
    }
    pthread_mutex_unlock(&y->w.mu);
    return NULL;
}

/* Open the syncer's connection, hook the writer and start the thread. Failing leaves SQLite's own
 * autocheckpoint in the writer's commits (logged): slower under load, not wrong. */
static void syncer_start(sq_store *q, const char *url, int flags)
{
    sq_syncer *y = &q->sync;
    sqlite3_wal_hook(q->writer.db, wal_hook, q); /* without the syncer, SQLite's autocheckpoint (traced) */
    const char *wal = sqlite3_filename_wal(sqlite3_db_filename(q->writer.db, "main"));
    if (wal == NULL || strlen(wal) >= sizeof y->wal ||
        sqlite3_open_v2(url, &y->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        /* reading the schema opens its view of the WAL, which a checkpoint needs */
        sqlite3_exec(y->db, "PRAGMA synchronous=FULL; SELECT 1 FROM sqlite_schema LIMIT 1", NULL, NULL, NULL) !=
            SQLITE_OK) {
        nx_log(LOG_WARN, "store.syncer_unavailable (checkpoints stay in the writer's commits)");
        return;
    }
    str_copy(y->wal, wal, sizeof y->wal);
    atomic_store_explicit(&y->alive_ms, clock_mono_ms(), memory_order_relaxed);
    y->started = worker_start(&y->w, syncer_main, y) == 0;
    if (!y->started)
        nx_log(LOG_WARN, "store.syncer_unavailable (checkpoints stay in the writer's commits)");
}

static void syncer_stop(sq_store *q)
{
    sq_syncer *y = &q->sync;
    if (y->started)
        worker_stop(&y->w);
    y->started = false;
    if (y->fd >= 0)
        close(y->fd);
    y->fd = -1;
    if (y->db && sqlite3_close(y->db) != SQLITE_OK)
        nx_log(LOG_ERROR, "store.sqlite_close_failed (syncer)");
    y->db = NULL;
}

static bool sq_accepts(const char *url)
{
    return !str_starts_with(url, "postgres://") && !str_starts_with(url, "postgresql://");
}

static void sq_close(store *s);

/* Process-wide SQLite settings, before the library initialises: no memory statistics, since keeping
 * them takes a global mutex on every allocation and serialises the reader threads. */
static pthread_once_t sq_global_once = PTHREAD_ONCE_INIT;

static void sq_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

/* The writer's update hook: a row of table changed in the writer's transaction (store_watch). The
 * hook runs inside sqlite3_step on the thread that owns the transaction. */
static void on_update(void *arg, int op, const char *dbname, const char *table, sqlite3_int64 rowid)
{
    (void)op;
    (void)dbname;
    (void)rowid;
    sq_conn *c = arg;
    if (c->tx.base.s && table)
        store_tx_changed(&c->tx.base, table);
}

static int sq_open(const char *url, const store_options *opt, store **out, nx_err *e)
{
    if (!sqlite3_threadsafe())
        return nx_fail(e, NX_EINTERNAL, "", "SQLite 未以线程安全方式编译");
    pthread_once(&sq_global_once, sq_global_init);
    bool uri = str_starts_with(url, "file:");
    bool precreated = false;
    if (!uri) {
        if (strlen(url) >= PATH_CAP)
            return nx_fail(e, NX_EINVAL, "database", "数据库路径过长");
        struct stat sb;
        if (stat(url, &sb) != 0) {
            if (errno != ENOENT)
                return nx_fail(e, NX_EIO, "database", "无法访问数据库文件：%s", strerror(errno));
            if (!opt->create)
                return nx_fail(e, NX_ENOTFOUND, "database", "数据库不存在，请先运行 nuanxin init");
            /* An empty file is an empty database; creating it ourselves gives it mode 0600, and
             * SQLite creates -wal and -shm with the same mode as the database file. */
            int fd = open(url, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0 && errno != EEXIST)
                return nx_fail(e, NX_EIO, "database", "无法创建数据库文件：%s", strerror(errno));
            if (fd >= 0) {
                close(fd);
                precreated = true;
            }
        }
        /* The database, its -wal and -shm are written in place: a read-only data directory (a file
         * system mounted read-only, or one the kernel remounted after errors) is named as such
         * rather than as SQLite's "unable to open database file". */
        char dir[PATH_CAP];
        str_copy(dir, url, sizeof dir);
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        if (access(slash ? dir : ".", W_OK) != 0 && (errno == EROFS || errno == EACCES))
            return nx_fail(e, NX_EIO, "database", "数据库所在目录不可写（%s）：请检查数据目录的挂载方式与权限",
                           strerror(errno));
    }
    sq_store *q = calloc(1, sizeof *q);
    if (q == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    q->busy_ms = opt->busy_ms;
    if (gate_init(&q->wgate) != 0) {
        free(q);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    pthread_mutex_init(&q->pmu, NULL);
    clock_cond_init(&q->pcv);
    worker_init(&q->sync.w);
    q->sync.fd = -1;
    q->sync.q = q;

    int flags = SQLITE_OPEN_READWRITE | (uri ? SQLITE_OPEN_URI : 0);
    int rc = conn_open(&q->writer, url, flags | (opt->create && uri ? SQLITE_OPEN_CREATE : 0), true,
                       opt->busy_ms, e);
    if (rc)
        goto fail;
    if (uri && opt->create) {
        /* We cannot pre-create through a URI: tighten a new (still empty) file before the WAL exists. */
        const char *path = sqlite3_db_filename(q->writer.db, "main");
        struct stat sb;
        if (path && stat(path, &sb) == 0 && sb.st_size == 0)
            chmod(path, 0600);
    }
    rc = enable_wal(&q->writer, e);
    if (rc)
        goto fail;
    syncer_start(q, url, flags);
    sqlite3_update_hook(q->writer.db, on_update, &q->writer);
    q->readers = calloc((size_t)opt->readers, sizeof *q->readers);
    if (q->readers == NULL) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto fail;
    }
    for (int i = 0; i < opt->readers; i++) {
        rc = conn_open(&q->readers[i], url, flags, false, opt->busy_ms, e);
        if (rc)
            goto fail;
        q->nreaders++;
    }
    nx_log(LOG_DEBUG, "store.sqlite_open readers=%d busy_ms=%d created=%d", q->nreaders, q->busy_ms,
           precreated);
    *out = &q->base;
    return 0;
fail:
    sq_close(&q->base);
    if (precreated)
        unlink(url);
    return rc;
}

static void sq_close(store *s)
{
    sq_store *q = (sq_store *)s;
    syncer_stop(q); /* first: its connection must not be the last (the writer's close checkpoints) */
    worker_cleanup(&q->sync.w);
    for (int i = 0; i < q->nreaders; i++) {
        if (q->readers[i].in_use)
            nx_log(LOG_ERROR, "store.close_busy reader=%d (a transaction is still open)", i);
        conn_close(&q->readers[i]);
    }
    free(q->readers);
    conn_close(&q->writer); /* last: checkpoints the WAL and removes it */
    gate_destroy(&q->wgate);
    pthread_mutex_destroy(&q->pmu);
    pthread_cond_destroy(&q->pcv);
    free(q);
}

/* ---- transactions ---- */

static int reader_acquire(sq_store *q, sq_conn **out, nx_err *e)
{
    struct timespec until = abs_time(CLOCK_MONOTONIC, q->busy_ms);
    int rc = 0;
    pthread_mutex_lock(&q->pmu);
    for (;;) {
        for (int i = 0; i < q->nreaders; i++) {
            if (!q->readers[i].in_use) {
                q->readers[i].in_use = true;
                *out = &q->readers[i];
                pthread_mutex_unlock(&q->pmu);
                return 0;
            }
        }
        rc = pthread_cond_timedwait(&q->pcv, &q->pmu, &until);
        if (rc == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&q->pmu);
    nx_log(LOG_WARN, "store.reader_pool_exhausted readers=%d busy_ms=%d", q->nreaders, q->busy_ms);
    return nx_fail(e, NX_EBUSY, "", "数据库繁忙，请稍后重试");
}

static void reader_release(sq_store *q, sq_conn *c)
{
    pthread_mutex_lock(&q->pmu);
    c->in_use = false;
    pthread_cond_signal(&q->pcv);
    pthread_mutex_unlock(&q->pmu);
}

static int writer_acquire(sq_store *q, bool urgent, nx_err *e)
{
    struct timespec until = abs_time(CLOCK_MONOTONIC, q->busy_ms);
    int64_t t0 = trace_on() ? trace_now_us() : 0;
    int rc = gate_enter(&q->wgate, urgent, &until);
    if (rc == 0) {
        if (t0) {
            q->wmu_at = trace_now_us();
            trace_mark("sq.wlock_wait", urgent, q->wmu_at - t0);
        }
        return 0;
    }
    if (rc == EDEADLK)
        return nx_fail(e, NX_EINTERNAL, "", "同一线程不能嵌套写事务");
    nx_log(LOG_WARN, "store.writer_wait_timeout busy_ms=%d", q->busy_ms);
    return nx_fail(e, NX_EBUSY, "", "数据库繁忙，请稍后重试");
}

static void conn_release(sq_store *q, sq_conn *c)
{
    if (!c->writer) {
        reader_release(q, c);
        return;
    }
    if (q->wmu_at) /* NX_SOS_TRACE: how long this thread held the write lock */
        trace_mark("sq.wlock_held", 0, trace_now_us() - q->wmu_at);
    if (gate_leave(&q->wgate) != 0) /* error-checking: another thread's tx */
        nx_log(LOG_ERROR, "store.writer_unlock_failed (transaction ended on another thread)");
}

static bool sq_urgent_waiting(store *s)
{
    return gate_waiting(&((sq_store *)s)->wgate, true) > 0;
}

static int sq_begin(store *s, int mode, store_tx **out, nx_err *e)
{
    sq_store *q = (sq_store *)s;
    sq_conn *c = NULL;
    int rc;
    if (mode == STORE_WRITE || mode == STORE_WRITE_LAZY || mode == STORE_WRITE_URGENT) {
        rc = writer_acquire(q, mode == STORE_WRITE_URGENT, e);
        c = &q->writer;
    } else {
        rc = reader_acquire(q, &c, e);
    }
    if (rc)
        return rc;
    /* STORE_WRITE_LAZY: SQLite changes the safety level only outside a transaction, so the writer
     * switches here and remembers its mode; a durable transaction that cannot switch back to FULL
     * is refused rather than committed without the sync. */
    bool lazy = mode == STORE_WRITE_LAZY;
    if (c->writer && lazy != c->sync_normal) {
        if (sqlite3_exec(c->db, lazy ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", NULL, NULL, NULL) ==
            SQLITE_OK) {
            c->sync_normal = lazy;
        } else if (!lazy) {
            rc = map_err(c->db, sqlite3_errcode(c->db), e);
            conn_release(q, c);
            return rc;
        }
    }
    rc = simple_step(c->st_begin);
    if (rc == SQLITE_OK && !c->writer && mode != STORE_READ_DEFERRED) {
        /* Pin the snapshot now: a deferred BEGIN takes it at the first read (which is what
         * STORE_READ_DEFERRED asks for). */
        rc = simple_step(c->st_snap);
        if (rc != SQLITE_OK) {
            int r2 = map_err(c->db, rc, e);
            simple_step(c->st_rollback);
            conn_release(q, c);
            return r2;
        }
    }
    if (rc != SQLITE_OK) {
        rc = map_err(c->db, rc, e);
        conn_release(q, c);
        return rc;
    }
    memset(&c->tx, 0, sizeof c->tx);
    c->tx.c = c;
    *out = &c->tx.base;
    return 0;
}

static void finish(sq_store *q, sq_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        simple_step(c->st_rollback);
    conn_release(q, c);
}

static int sq_commit(store_tx *t, nx_err *e)
{
    sq_tx *tx = (sq_tx *)t;
    sq_conn *c = tx->c;
    sq_store *q = (sq_store *)t->s;
    if (sqlite3_get_autocommit(c->db)) {
        conn_release(q, c);
        return nx_fail(e, NX_EDB, "", "事务已被数据库中止并回滚");
    }
    int64_t until = deadline_after(q->busy_ms);
    int64_t t0 = trace_on() ? trace_now_us() : 0;
    int rc;
    for (;;) {
        rc = simple_step(c->st_commit);
        if ((rc & 0xff) != SQLITE_BUSY || clock_mono_ms() >= until)
            break;
        sleep_ms(5);
    }
    if (c->writer && c->sync_normal) {
        q->lazy_since++;
        if (t0) /* NX_SOS_TRACE: a lazy commit holds the gate this long (without the syncer: checkpoints too) */
            trace_mark("sq.lazy_commit", 0, trace_now_us() - t0);
    } else if (c->writer) {
        /* NX_SOS_TRACE: a durable commit's fsync also writes the WAL pages of the lazy commits since
         * the last one: how many there were, and how long this commit took */
        if (t0)
            trace_mark("sq.durable_commit", q->lazy_since, trace_now_us() - t0);
        q->lazy_since = 0;
    }

    if (rc != SQLITE_OK) {
        rc = map_err(c->db, rc, e);
        finish(q, c);
        return rc;
    }
    conn_release(q, c);
    return 0;
}

static void sq_rollback(store_tx *t)
{
    sq_tx *tx = (sq_tx *)t;
    finish((sq_store *)t->s, tx->c);
}

/* Before a statement: SQLite may have rolled the transaction back by itself. */
static int check_active(sq_conn *c, nx_err *e)
{
    if (sqlite3_get_autocommit(c->db))
        return nx_fail(e, NX_EDB, "", "事务已被数据库中止，只能回滚");
    return 0;
}

static int prepare_bound(sq_conn *c, const char *sql, const store_param *p, int n, stmt_ent **out, nx_err *e)
{
    int rc = check_active(c, e);
    if (rc == 0)
        rc = cache_get(c, sql, out, e);
    if (rc)
        return rc;
    rc = bind_params(c, *out, p, n, e);
    if (rc)
        ent_release(*out);
    return rc;
}

static int sq_exec(store_tx *t, const char *sql, const store_param *p, int n, int64_t *changes, nx_err *e)
{
    sq_conn *c = ((sq_tx *)t)->c;
    stmt_ent *x;
    int rc = prepare_bound(c, sql, p, n, &x, e);
    if (rc)
        return rc;
    do
        rc = sqlite3_step(x->st);
    while (rc == SQLITE_ROW);
    if (rc == SQLITE_DONE) {
        rc = 0;
        if (changes)
            *changes = sqlite3_changes64(c->db);
    } else {
        rc = map_err(c->db, sqlite3_extended_errcode(c->db), e);
    }
    ent_release(x);
    return rc;
}

static int sq_exec_script(store_tx *t, const char *sql, nx_err *e)
{
    sq_conn *c = ((sq_tx *)t)->c;
    int rc = check_active(c, e);
    if (rc)
        return rc;
    char *msg = NULL;
    rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK)
        return map_err(c->db, sqlite3_extended_errcode(c->db), e);
    /* A script must not end our transaction (COMMIT / ROLLBACK inside it). */
    if (sqlite3_get_autocommit(c->db))
        return nx_fail(e, NX_EINTERNAL, "", "脚本结束了当前事务（脚本中不能有 BEGIN/COMMIT）");
    return 0;
}

static int sq_query(store_tx *t, const char *sql, const store_param *p, int n, store_rows **rows, nx_err *e)
{
    sq_tx *tx = (sq_tx *)t;
    stmt_ent *x;
    int rc = prepare_bound(tx->c, sql, p, n, &x, e);
    if (rc)
        return rc;
    tx->rows.c = tx->c;
    tx->rows.ent = x;
    tx->rows.ended = false;
    tx->rows.end = 0;
    *rows = &tx->rows.base;
    return 0;
}

static int sq_next(store_rows *r)
{
    sq_rows *w = (sq_rows *)r;
    if (w->ended) /* stepping again would silently restart the query */
        return w->end;
    int rc = sqlite3_step(w->ent->st);
    if (rc == SQLITE_ROW)
        return 1;
    w->ended = true;
    w->end = rc == SQLITE_DONE ? 0 : map_err(w->c->db, sqlite3_extended_errcode(w->c->db), NULL);
    return w->end;
}

static int sq_ncols(store_rows *r)
{
    return sqlite3_column_count(((sq_rows *)r)->ent->st);
}

static bool sq_isnull(store_rows *r, int col)
{
    return sqlite3_column_type(((sq_rows *)r)->ent->st, col) == SQLITE_NULL;
}

static int64_t sq_int(store_rows *r, int col)
{
    return sqlite3_column_int64(((sq_rows *)r)->ent->st, col);
}

static double sq_real(store_rows *r, int col)
{
    return sqlite3_column_double(((sq_rows *)r)->ent->st, col);
}

static const char *sq_text(store_rows *r, int col)
{
    sqlite3_stmt *st = ((sq_rows *)r)->ent->st;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    const char *t = (const char *)sqlite3_column_text(st, col);
    return t ? t : "";
}

static const void *sq_blob(store_rows *r, int col, size_t *len)
{
    sqlite3_stmt *st = ((sq_rows *)r)->ent->st;
    *len = 0;
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    const void *b = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);
    *len = n > 0 ? (size_t)n : 0;
    return b ? b : ""; /* an empty blob is not NULL */
}

static void sq_rows_free(store_rows *r)
{
    sq_rows *w = (sq_rows *)r;
    ent_release(w->ent);
    w->ent = NULL;
}

static int sq_table_exists(store_tx *t, const char *name, bool *exists, nx_err *e)
{
    int64_t n = 0;
    *exists = false;
    /* Through store.c so that the statement is cached and the result bookkeeping is kept. */
    int rc = store_one_int(t, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = $1",
                           (store_param[]){P_TEXT(name)}, 1, &n, e);
    if (rc == 0)
        *exists = n > 0;
    return rc;
}

/* ---- files ---- */

static int fsync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int fsync_parent(const char *path)
{
    char dir[PATH_CAP];
    str_copy(dir, path, sizeof dir);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        str_copy(dir, ".", sizeof dir);
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return fsync_path(dir, true);
}

/* Copy src (an open database) into the file at path, which must already exist (empty). The copy is
 * made single-file (journal_mode=DELETE) and fsync'ed. */
static int copy_db(sqlite3 *src, const char *path, int busy_ms, nx_err *e)
{
    sqlite3 *dst = NULL;
    int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = map_err(dst, rc, e);
        sqlite3_close(dst);
        return rc;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL) {
        rc = map_err(dst, sqlite3_extended_errcode(dst), e);
        sqlite3_close(dst);
        return rc;
    }
    int64_t until = deadline_after(busy_ms);
    for (;;) {
        /* -1: all pages in one step, so the copy is one consistent snapshot of src. */
        rc = sqlite3_backup_step(b, -1);
        if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && clock_mono_ms() < until) {
            sleep_ms(10);
            continue;
        }
        break;
    }
    int frc = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE || frc != SQLITE_OK) {
        int code = rc != SQLITE_DONE ? rc : frc;
        rc = map_err(sqlite3_errcode(src) != SQLITE_OK ? src : dst, code, e);
        sqlite3_close(dst);
        return rc;
    }
    rc = sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = map_err(dst, sqlite3_extended_errcode(dst), e);
        sqlite3_close(dst);
        return rc;
    }
    sqlite3_close(dst);
    if (fsync_path(path, false) != 0)
        return nx_fail(e, NX_EIO, "", "无法写入备份文件：%s", strerror(errno));
    return 0;
}

/* store_backup: a reader connection is the source, so writers carry on during the copy (WAL). The
 * destination must not exist: it is created 0600 with O_EXCL, and removed again if the copy fails. */
static int sq_backup(store *s, const char *dest, nx_err *e)
{
    sq_store *q = (sq_store *)s;
    if (strlen(dest) >= PATH_CAP)
        return nx_fail(e, NX_EINVAL, "dest", "备份路径过长");
    int rc = store_backup_create(dest, e);
    if (rc)
        return rc;
    sq_conn *c = NULL;
    rc = reader_acquire(q, &c, e);
    if (rc == 0) {
        rc = copy_db(c->db, dest, q->busy_ms, e);
        reader_release(q, c);
    }
    if (rc == 0 && fsync_parent(dest) != 0)
        rc = nx_fail(e, NX_EIO, "dest", "无法写入备份文件：%s", strerror(errno));
    if (rc) {
        unlink(dest);
        return rc;
    }
    nx_log(LOG_INFO, "store.backup_done");
    return 0;
}

/* Run a one-row pragma or query on db and copy the first column into out (cap bytes). */
static int one_text(sqlite3 *db, const char *sql, char *out, size_t cap, int *rcp)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    out[0] = '\0';
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            str_copy(out, t ? t : "", cap);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK)
        rc = sqlite3_extended_errcode(db);
    sqlite3_finalize(st);
    for (char *c = out; *c; c++) /* integrity_check answers in lines; keep logs one line */
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    *rcp = rc;
    return rc == SQLITE_OK ? 0 : -1;
}

static int bad_backup(sqlite3 *db, int rc, nx_err *e)
{
    const char *msg = sqlite3_errmsg(db);
    nx_log(LOG_WARN, "store.restore_refused rc=%d msg=\"%s\"", rc, msg);
    if ((rc & 0xff) == SQLITE_NOTADB)
        return nx_fail(e, NX_EINVAL, "src", "不是 nuanxin 备份文件（不是有效的 SQLite 数据库）");
    return nx_fail(e, NX_EINVAL, "src", "备份文件已损坏或无法读取：%s", msg);
}

/* Check that src is a nuanxin backup this binary understands. */
static int check_backup(sqlite3 *db, int max_version, nx_err *e)
{
    char buf[512];
    int rc;
    if (one_text(db, "PRAGMA integrity_check", buf, sizeof buf, &rc) != 0)
        return bad_backup(db, rc, e);
    if (strcmp(buf, "ok") != 0) {
        nx_log(LOG_WARN, "store.restore_refused integrity=\"%s\"", buf);
        return nx_fail(e, NX_EINVAL, "src", "备份文件已损坏：%s", buf);
    }
    if (one_text(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'nx_meta'", buf,
                 sizeof buf, &rc) != 0)
        return bad_backup(db, rc, e);
    if (strcmp(buf, "1") != 0)
        return nx_fail(e, NX_EINVAL, "src", "不是 nuanxin 备份文件（缺少 nuanxin 标记）");
    if (one_text(db, "SELECT value FROM nx_meta WHERE key = 'app'", buf, sizeof buf, &rc) != 0)
        return bad_backup(db, rc, e);
    if (strcmp(buf, "nuanxin") != 0)
        return nx_fail(e, NX_EINVAL, "src", "不是 nuanxin 备份文件（标记不符）");
    if (one_text(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'",
                 buf, sizeof buf, &rc) != 0)
        return bad_backup(db, rc, e);
    int64_t version = 0;
    if (strcmp(buf, "1") == 0) {
        if (one_text(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", buf, sizeof buf, &rc) !=
            0)
            return bad_backup(db, rc, e);
        if (str_to_i64(buf, 0, INT_MAX, &version) != 0)
            return nx_fail(e, NX_EINVAL, "src", "备份文件的版本信息无效");
    }
    if (version > max_version)
        return nx_fail(e, NX_EINVAL, "src", "备份的数据库版本 %lld 高于本程序支持的 %d，请升级 nuanxin",
                       (long long)version, max_version);
    return 0;
}

/* Best effort "is the server running?": a connection in exclusive locking mode must take an
 * exclusive lock on the database file, which fails while any other connection (which in WAL mode
 * keeps a shared lock) has it open. */
static int check_target_idle(const char *url, nx_err *e)
{
    if (access(url, F_OK) != 0)
        return 0; /* restoring onto a new machine */
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(url, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;", NULL, NULL, NULL);
    int out = 0;
    if (rc != SQLITE_OK) {
        int x = db ? sqlite3_extended_errcode(db) : rc;
        if ((x & 0xff) == SQLITE_BUSY || (x & 0xff) == SQLITE_LOCKED)
            out = nx_fail(e, NX_EBUSY, "database", "数据库正在使用，请先停止 nuanxin serve");
        else /* a damaged database is a reason to restore, not a reason to refuse */
            nx_log(LOG_WARN, "store.restore_target_unreadable rc=%d msg=\"%s\"", x,
                   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    }
    sqlite3_close(db);
    return out;
}

static int remove_if_exists(const char *path)
{
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* store_restore: check src, then copy it to url.restore-tmp (0600, fsync), drop the old -wal and
 * -shm, and rename over url (then fsync the directory), so a crash leaves either the old database
 * or the new one, never a mix. */
/* The checks a restore makes before touching anything: a SQLite file that passes integrity_check,
 * with nuanxin's marker and a schema version this binary understands. */
static int sq_verify(const char *src, int max_version, nx_err *e)
{
    char head[16];
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nx_fail(e, errno == ENOENT ? NX_ENOTFOUND : NX_EIO, "src", "无法打开备份文件：%s",
                       strerror(errno));
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    if (got != (ssize_t)sizeof head || memcmp(head, magic, sizeof magic) != 0)
        return nx_fail(e, NX_EINVAL, "src", "不是 nuanxin 备份文件（不是 SQLite 数据库）");
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        rc = bad_backup(db, rc, e);
    else {
        sqlite3_extended_result_codes(db, 1);
        rc = check_backup(db, max_version, e);
    }
    sqlite3_close(db);
    return rc;
}

static int sq_restore(const char *url, const char *src, int max_version, nx_err *e)
{
    if (str_starts_with(url, "file:"))
        return nx_fail(e, NX_EUNSUPP, "database", "恢复只支持普通文件路径");
    if (strlen(url) + 16 >= PATH_CAP)
        return nx_fail(e, NX_EINVAL, "database", "数据库路径过长");
    int rc = sq_verify(src, max_version, e);
    if (rc)
        return rc;

    char tmp[PATH_CAP], wal[PATH_CAP], shm[PATH_CAP];
    snprintf(tmp, sizeof tmp, "%s.restore-tmp", url);
    snprintf(wal, sizeof wal, "%s-wal", url);
    snprintf(shm, sizeof shm, "%s-shm", url);

    sqlite3 *db = NULL;
    bool made_tmp = false;
    rc = sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = bad_backup(db, rc, e);
        goto done;
    }
    sqlite3_extended_result_codes(db, 1);
    rc = check_target_idle(url, e);
    if (rc)
        goto done;
    if (remove_if_exists(tmp) != 0) {
        rc = nx_fail(e, NX_EIO, "database", "无法删除旧的临时文件：%s", strerror(errno));
        goto done;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = nx_fail(e, NX_EIO, "database", "无法创建临时文件：%s", strerror(errno));
        goto done;
    }
    close(fd);
    made_tmp = true;
    rc = copy_db(db, tmp, 5000, e);
    if (rc)
        goto done;
    if (remove_if_exists(wal) != 0 || remove_if_exists(shm) != 0 || rename(tmp, url) != 0) {
        rc = nx_fail(e, NX_EIO, "database", "无法替换数据库文件：%s", strerror(errno));
        goto done;
    }
    made_tmp = false;
    if (fsync_parent(url) != 0) {
        rc = nx_fail(e, NX_EIO, "database", "无法同步数据库目录：%s", strerror(errno));
        goto done;
    }
    nx_log(LOG_INFO, "store.restore_done");
done:
    sqlite3_close(db);
    if (made_tmp)
        unlink(tmp);
    return rc;
}

static int sq_check(store *s, nx_err *e)
{
    sq_store *q = (sq_store *)s;
    sq_conn *c = NULL;
    int rc = reader_acquire(q, &c, e);
    if (rc)
        return rc;
    char buf[512];
    int src;
    if (one_text(c->db, "PRAGMA integrity_check", buf, sizeof buf, &src) != 0)
        rc = map_err(c->db, src, e);
    else if (strcmp(buf, "ok") != 0)
        rc = nx_fail(e, NX_EDB, "", "数据库完整性检查失败：%s", buf);
    reader_release(q, c);
    return rc;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .accepts = sq_accepts,
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .urgent_waiting = sq_urgent_waiting,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .exec_script = sq_exec_script,
    .query = sq_query,
    .next = sq_next,
    .ncols = sq_ncols,
    .isnull = sq_isnull,
    .col_int = sq_int,
    .col_real = sq_real,
    .col_text = sq_text,
    .col_blob = sq_blob,
    .rows_free = sq_rows_free,
    .table_exists = sq_table_exists,
    .backup = sq_backup,
    .verify = sq_verify,
    .restore = sq_restore,
    .check = sq_check,
};
