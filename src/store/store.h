/* store.h — the one storage interface modules see.
 *
 * A store is a database: SQLite (a file path) or PostgreSQL (a postgres:// or postgresql:// URL,
 * src/store/postgres.c). Modules write SQL once, in the dialect both agree on: $1..$N parameters, INSERT …
 * RETURNING, ON CONFLICT, integer epoch-millisecond times, JSON as text, BLOBs for ciphertext.
 *
 * Work happens in transactions. A STORE_WRITE transaction holds the single writer connection (SQLite:
 * BEGIN IMMEDIATE under a mutex; PostgreSQL: a pooled connection, BEGIN, READ COMMITTED, so writers
 * run concurrently and see their own writes) until commit or rollback; a STORE_READ transaction takes
 * one of the reader connections and sees one consistent snapshot taken at store_begin (PostgreSQL:
 * REPEATABLE READ, READ ONLY; STORE_READ_DEFERRED: at its first statement). Prepared statements are
 * cached per connection,
 * keyed by the SQL text, so pass the same string each time. Every call is blocking and thread-safe
 * across transactions; one transaction belongs to one thread.
 *
 * Errors: NX_EDB (with the database's message in e, never the bound values), NX_ECONFLICT for a
 * unique or foreign-key violation, NX_EINVAL for a CHECK violation, NX_EBUSY when the database is
 * locked past the busy timeout, the pool is exhausted or the server is unreachable (PostgreSQL
 * reconnects on the next store_begin), NX_ENOTFOUND from the *_one helpers when no row matched. */
#ifndef NX_STORE_STORE_H
#define NX_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

typedef struct store store;
typedef struct store_tx store_tx;
typedef struct store_rows store_rows;

typedef enum { SP_NULL = 0, SP_INT, SP_REAL, SP_TEXT, SP_BLOB } store_ptype;

typedef struct store_param {
    store_ptype type;
    int64_t i;
    double r;
    const void *p;
    size_t n;
} store_param;

#define P_NULL ((store_param){.type = SP_NULL})
#define P_INT(v) ((store_param){.type = SP_INT, .i = (int64_t)(v)})
#define P_REAL(v) ((store_param){.type = SP_REAL, .r = (double)(v)})
/* A NULL string binds SQL NULL. (Functions, not macros: a macro testing `(s) ?` fails to compile
 * with -Werror=address when s is a char array.) */
static inline store_param store_p_text(const char *s)
{
    store_param p = {.type = s ? SP_TEXT : SP_NULL, .p = s, .n = s ? strlen(s) : 0};
    return p;
}
/* A NULL pointer binds SQL NULL; a non-NULL pointer with len 0 binds an empty blob. */
static inline store_param store_p_blob(const void *b, size_t len)
{
    store_param p = {.type = b ? SP_BLOB : SP_NULL, .p = b, .n = b ? len : 0};
    return p;
}
#define P_TEXT(s) store_p_text(s)
#define P_BLOB(b, len) store_p_blob((b), (len))
/* Integer, or NULL when v is 0 (optional foreign keys). */
#define P_ID(v) ((v) ? P_INT(v) : P_NULL)

/* STORE_WRITE_LAZY: a write transaction committed without waiting for the disk. SQLite commits it
 * with synchronous=NORMAL (no fsync of the WAL at this commit; the next durable commit or checkpoint
 * syncs it), PostgreSQL with synchronous_commit off (the WAL writer flushes it within a fraction of
 * a second). Atomic and consistent as ever; after a power loss (not a crash of the process) the
 * last such commits may be missing. Only for writes whose loss nobody was promised against: the
 * gateway's telemetry, answered to the device before it was written, and the dispatcher's cursors
 * (a cursor behind means events delivered again, which at-least-once allows). It keeps such commits from
 * queueing fsyncs ahead of an alarm's durable commit. Otherwise exactly STORE_WRITE. */
/* STORE_READ_DEFERRED: a read transaction whose snapshot is taken by its first statement instead of
 * at store_begin (SQLite's deferred BEGIN). Otherwise exactly STORE_READ: one consistent snapshot for
 * every statement of the transaction, read only. For a read that starts querying at once (an HTTP
 * read), where nothing can commit in between that the caller could tell apart: it saves SQLite the
 * snapshot statement and PostgreSQL a round trip (BEGIN travels with the first query). Use STORE_READ
 * when a commit made after store_begin returned must stay invisible. */
/* STORE_WRITE_URGENT: exactly STORE_WRITE (durable, committed with the disk's sync), but it goes ahead
 * of every other transaction waiting for the writer (SQLite: the writer's gate, base/gate.h;
 * PostgreSQL: a connection of the pool when all are taken). For an alarm's short transaction only:
 * whatever waits behind it waits that much longer. */
enum store_mode { STORE_READ = 0, STORE_WRITE = 1, STORE_WRITE_LAZY = 2, STORE_READ_DEFERRED = 3, STORE_WRITE_URGENT = 4 };

typedef struct store_options {
    int readers;      /* SQLite reader connections (0 = default 4, at most 64) */
    int busy_ms;      /* SQLite busy timeout, also the wait for a free connection (0 = default 5000) */
    bool create;      /* create the database if it does not exist (SQLite: file mode 0600; PostgreSQL:
                         ignored, the database must exist) */
    int pool;         /* PostgreSQL connections (0 = default 8, at most 256); SQLite ignores it */
} store_options;

/* Open the database at url (a file path, a "file:" URI, or a postgres:// URL). opt may be NULL
 * (defaults, no create). Does not migrate. NX_ENOTFOUND when the file (or the PostgreSQL database)
 * is missing and !opt->create, NX_EBUSY when the PostgreSQL server cannot be reached, NX_EDB
 * otherwise. PostgreSQL opens one connection at once and the rest of the pool on demand. */
int store_open(const char *url, const store_options *opt, store **out, nx_err *e);
void store_close(store *s); /* NULL accepted; all transactions must be finished */
const char *store_backend(const store *s); /* "sqlite" or "postgres" */

/* Apply every migration not yet recorded, in number order, all in ONE transaction: a failure
 * leaves the database as it was before the run. *applied
 * (may be NULL) receives the number applied. Refuses a database from a newer nuanxin.
 * FOR TESTS: NX_TEST_MIGRATE_UPTO=N in the environment stops at migration N (logged as a WARN), so a
 * test can make a database that is really one version behind. */
int store_migrate(store *s, int *applied, nx_err *e);
/* The newest migration this binary carries for s's backend (what store_migrate brings it to). */
int store_schema_newest(store *s, int *newest, nx_err *e);
/* Highest applied migration number (0 for an empty database). */
int store_schema_version(store *s, int *version, nx_err *e);

/* Start a transaction. Blocks until the writer (STORE_WRITE, STORE_WRITE_LAZY, STORE_WRITE_URGENT) or a free reader (STORE_READ) is
 * available, at most busy_ms, then NX_EBUSY. A read transaction sees one snapshot taken at begin and
 * cannot write. One thread must not nest two write transactions (NX_EINTERNAL). After any statement
 * of a transaction fails, the transaction can only be rolled back (as in PostgreSQL): later
 * statements fail and store_commit rolls back and returns the first error's code. */
int store_begin(store *s, int mode, store_tx **tx, nx_err *e);
/* Whether a STORE_WRITE_URGENT transaction waits for the writer now (SQLite: at the writer's gate;
 * PostgreSQL: for a connection of the pool). A long write transaction of lesser worth (a batch of
 * telemetry) checks it between rows and gives way. A snapshot; false when the backend cannot tell. */
bool store_urgent_waiting(store *s);
/* Commit and free tx (even on failure, when the transaction is rolled back). */
int store_commit(store_tx *tx, nx_err *e);
/* Roll back and free tx. NULL accepted. */
void store_rollback(store_tx *tx);
store *store_tx_store(store_tx *tx);

/* A savepoint inside a write transaction (one level, not nested): work after it can be kept
 * (release) or undone (rollback) on its own. Rolling back also clears a statement failure that
 * happened after the savepoint, so the transaction goes on (import uses one per row). */
int store_savepoint(store_tx *tx, nx_err *e);
int store_savepoint_release(store_tx *tx, nx_err *e);
int store_savepoint_rollback(store_tx *tx, nx_err *e);

/* Run a statement that returns no rows. *changes (may be NULL) receives the affected row count. */
int store_exec(store_tx *tx, const char *sql, const store_param *p, int n, int64_t *changes, nx_err *e);
/* End a write transaction by how it went: commit tx when rc is 0 (and return the commit's result),
 * otherwise roll it back and return rc (e still holds the error rc came with). tx is finished either
 * way. A write then has one exit for success and failure alike, with its cleanup once:
 *     if ((rc = …) || (rc = …))
 *         goto done;
 *     …
 * done:
 *     free(text);
 *     return store_finish(tx, rc, e); */
int store_finish(store_tx *tx, int rc, nx_err *e);
/* Run several statements without parameters (DDL). */
int store_exec_script(store_tx *tx, const char *sql, nx_err *e);

/* Run a query; step with store_next. The rows must be freed before the next statement on tx. */
int store_query(store_tx *tx, const char *sql, const store_param *p, int n, store_rows **rows, nx_err *e);
/* Announce the query that will follow the next statement on tx, so that a backend with round trips
 * sends both at once. PostgreSQL: sql and its values go in one pipeline with the next statement (and
 * a deferred BEGIN); the store_query of exactly this sql with the same values that comes right after
 * that statement reads the answer already on its way. When last (a read transaction only) nothing
 * but these two statements runs in tx: the transaction's ROLLBACK travels in the same pipeline, and
 * the read costs one round trip in all. Any other statement next, or the end of tx, drops the
 * announced answer unread, which costs nothing but the server's work. The values of p must stay
 * valid until the next statement is sent. SQLite (no round trips): does nothing. */
int store_query_ahead(store_tx *tx, const char *sql, const store_param *p, int n, bool last, nx_err *e);
/* 1 when a row is ready, 0 at the end, a negative code on error. Prefer the three calls below,
 * which keep the error for the caller: a loop over rows ends on "done", and an error met on the way
 * is the answer, never a short list or a "not found" (STYLE.md). */
int store_next(store_rows *r);

/* The read loop:
 *
 *     while (store_row(r)) { ...columns of this row... }
 *     rc = store_rows_end(r, e);           (frees r: 0 after the last row, or the error met)
 *
 * store_row is true while a row is ready; false at the end or on an error, which r remembers.
 * Breaking out of the loop early is fine: store_rows_end then returns 0. */
bool store_row(store_rows *r);
/* Free r (NULL accepted: 0) and return the error store_row or store_next met, if any, with e filled
 * ("数据库读取失败"; the backend's code is kept: NX_EBUSY when the connection was lost, NX_EDB for a
 * statement that failed on a row). */
int store_rows_end(store_rows *r, nx_err *e);
/* Step to the first row: 0 when it is ready, NX_ENOTFOUND with the message missing (field "") when
 * there is none, the read's error otherwise. r stays open either way (free it with store_rows_end or
 * store_rows_free). Replaces `if (store_next(r) == 1) … else not found`, which turned a failed read
 * into a 404. */
int store_first(store_rows *r, const char *missing, nx_err *e);
/* store_query, then store_first: 0 with *rows open on the first row (read its columns, then
 * store_rows_free); otherwise *rows is NULL (nothing to free) and the error is store_query's, or
 * NX_ENOTFOUND with missing, or the read's. For "read the one row of this object", which every
 * module writes many times. */
int store_query_first(store_tx *tx, const char *sql, const store_param *p, int n, const char *missing,
                      store_rows **rows, nx_err *e);
/* Every row of sql (parameters as store_query) through fill(r, elem), which sets the columns of one
 * element (handed in zeroed), appended to v (vec_init'ed by the caller with the element's size and
 * the cap: the query should LIMIT itself to it). 0; the query's or the read's error; or v's refusal
 * (NX_ETOOBIG past its max, NX_ENOMEM), e filled. v keeps the rows read before an error: the caller
 * frees it with vec_cleanup either way. For "read a batch of rows, then act on each", where acting
 * needs statements of its own on tx (the rows are closed before store_query_vec returns). */
struct vec;
int store_query_vec(store_tx *tx, const char *sql, const store_param *p, int n, void (*fill)(store_rows *r, void *elem),
                    struct vec *v, nx_err *e);
/* store_query_vec of the commonest batch: the first column of every row (an id) appended to ids, a
 * vec of int64_t (vec_init(&ids, sizeof(int64_t), cap)); errors as store_query_vec, ids freed by the
 * caller either way. */
int store_query_ids(store_tx *tx, const char *sql, const store_param *p, int n, struct vec *ids, nx_err *e);
int store_ncols(store_rows *r);
bool store_isnull(store_rows *r, int col);
int64_t store_int(store_rows *r, int col);   /* 0 for NULL */
double store_real(store_rows *r, int col);
/* Valid until the next store_next or store_rows_free; NULL for SQL NULL. */
const char *store_text(store_rows *r, int col);
const void *store_blob(store_rows *r, int col, size_t *len);
void store_rows_free(store_rows *r); /* NULL accepted */

/* One-value helpers: NX_ENOTFOUND when there is no row; a NULL value reads as 0 / NULL. */
int store_one_int(store_tx *tx, const char *sql, const store_param *p, int n, int64_t *out, nx_err *e);
/* *out is malloc'd (caller frees); NULL for SQL NULL. */
int store_one_text(store_tx *tx, const char *sql, const store_param *p, int n, char **out, nx_err *e);
/* The check a write makes of an id its body names ("the grid must be one of this community's"):
 * sql returns one integer (SELECT COUNT(*) …). 0 when it is not 0; when it is 0, or there is no row,
 * NX_EINVAL (422) naming field with the printf message fmt; a read that fails is its own error.
 * Blocks on the store; tx stays open. */
int store_exists_or_fail(store_tx *tx, const char *sql, const store_param *p, int n, const char *field,
                         nx_err *e, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* The unique constraint a write may meet, said as a field error: rc is the write's result (store_exec,
 * store_one_int, or any call that passes the store's NX_ECONFLICT through). NX_ECONFLICT (409) is
 * restated naming field with the printf message fmt ("本社区已有同名菜品"); any other rc, 0 included,
 * is returned as it is with e untouched. Use: if ((rc = store_conflict_field(store_exec(…), "name", e,
 * "…"))) goto fail; */
int store_conflict_field(int rc, const char *field, nx_err *e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Online backup to dest (a new file); the server keeps running. The backup carries nuanxin's
 * marker so that restore can tell it from any other file. */
int store_backup(store *s, const char *dest, nx_err *e);
/* Replace the database at url with the backup at src after checking it is a nuanxin backup whose
 * schema this binary understands (and passes integrity_check). The server must be stopped. */
int store_restore(const char *url, const char *src, nx_err *e);
/* The checks store_restore makes, without restoring: src is a readable backup of the backend of url
 * (SQLite: opens and passes integrity_check; PostgreSQL: pg_restore reads the archive) with
 * nuanxin's marker and a schema version this binary understands. The nightly backup runs it on each
 * new file, so a backup that cannot be restored is reported the night it is taken. */
int store_backup_verify(const char *url, const char *src, nx_err *e);
/* PRAGMA integrity_check (SQLite), a cheap query (PostgreSQL) — 0 when "ok". PostgreSQL backups
 * are pg_dump custom-format archives, restored with pg_restore into the (existing) database of url
 * after the same marker and version checks; pg_dump and pg_restore must be on PATH. */
int store_check(store *s, nx_err *e);

/* Commit hooks. fn(ctx) runs on the committing thread right after a write transaction that called
 * store_tx_notify commits successfully (never after a rollback). Hooks must be quick (signal a
 * condition variable) and must not use the store. Register at start-up; at most 16 hooks
 * (NX_ETOOBIG). store_off_commit removes the hook and returns only once no call of it is running. */
typedef void (*store_commit_fn)(void *ctx);
int store_on_commit(store *s, store_commit_fn fn, void *ctx);
void store_off_commit(store *s, store_commit_fn fn, void *ctx);
/* Ask for the commit hooks to run when this (write) transaction commits. The outbox calls it. */
void store_tx_notify(store_tx *tx);


/* ---- several processes on one database ----
 *
 * Wake-ups across processes. store_notify(tx, channel) asks that every listener of channel, in every
 * process on this database, be called after tx commits (never after a rollback). PostgreSQL: a
 * NOTIFY sent in tx, received by one listener thread per store on its own connection (LISTEN); that
 * thread calls fn(ctx, channel) for each registered listener of the channel, and after a reconnect
 * it calls every listener once, since notifications sent while it was away are lost. SQLite (one
 * process): the listeners of this process are called on the committing thread right after commit.
 * A wake-up is a hint that something changed, not a message: callbacks must be quick (signal a
 * condition variable) and re-read the database; several notifications may come as one call, and a
 * call may come without a change. This is the primitive the SSE fan-out and the events dispatcher
 * use. channel: 1..63 bytes of [a-z0-9_]. At most 16 listeners per store (NX_ETOOBIG).
 * store_unlisten returns only once no call of that listener is running. */
typedef void (*store_listen_fn)(void *ctx, const char *channel);
int store_listen(store *s, const char *channel, store_listen_fn fn, void *ctx, nx_err *e);
void store_unlisten(store *s, const char *channel, store_listen_fn fn, void *ctx);
/* Whether every channel listened to so far is being received from other processes now: false on
 * PostgreSQL from a store_listen until the listener thread has sent its LISTEN, and while its
 * connection is down (notifications sent meanwhile are lost; at the reconnect every listener is
 * called once, before this turns true again). Always true on SQLite (one process). A cache kept
 * fresh by listeners serves and fills only while this is true. */
bool store_listen_live(store *s);
/* Inside a write transaction. NX_EINVAL for a bad channel name; at most 4 channels per transaction. */
int store_notify(store_tx *tx, const char *channel, nx_err *e);

/* Watched tables: a commit that changed a row of one of tables (a NULL-terminated list) calls the
 * listeners of channel (store_listen) — in this process on the committing thread before
 * store_commit returns, in other processes on PostgreSQL through LISTEN/NOTIFY as store_notify
 * does — whichever code path wrote the row. For caches of what those tables hold: after
 * store_commit returns, every listener of this process has been called. SQLite: an update hook on
 * the writer connection notes the tables a transaction changed (every INSERT, UPDATE and DELETE of
 * a rowid table, including those of triggers and foreign-key actions). PostgreSQL: each table needs
 * a statement-level trigger (a migration) that runs nx_watch_changed('<channel>'): it sends the
 * NOTIFY and names the channel in a transaction-local setting that store_commit reads in the same
 * round trip as the COMMIT; tables is not used there (the migration is the list). A statement that
 * changed no row may call the listeners too (a hint, as for store_notify). Call at start-up, before
 * the tables are written; at most 4 watches of 16 tables (NX_ETOOBIG). */
int store_watch(store *s, const char *channel, const char *const *tables, nx_err *e);

/* Leader election for work that must run in one process only (schedulers). Tries to take, or
 * confirms that this store still holds, the lock called name (1..63 bytes); *leader says whether it
 * does. PostgreSQL: a session-level advisory lock on a dedicated connection, so it is held until
 * store_close or until that connection is lost (then another process can take it; the next call here
 * reconnects and tries again). Call it at every tick of the scheduler and do the work only when
 * *leader is true. SQLite: always the leader (one process per database file). Blocks for one round
 * trip at most; NX_EBUSY when the server is unreachable (then *leader is false). */
int store_leader(store *s, const char *name, bool *leader, nx_err *e);

/* Fault injection for tests (never set in production): when the environment variable
 * NX_STORE_FAULT is "TEXT@N" at the first store_open of the process, the Nth step (1-based) of every
 * query whose SQL contains TEXT fails as if the connection had been lost (NX_EBUSY, "数据库连接中断"),
 * on every backend: the step that would deliver row N, or — for a query of exactly N - 1 rows — the
 * step that would report the end (a query of fewer rows never meets the fault). The API tests use
 * it to prove that a read failing mid-stream answers 503, not a short 200 or a 404. */

/* For tests and tools: store_migrate with an explicit list (ending with backend NULL; only entries
 * for this store's backend are used, they must be in ascending order of number). */
struct nx_migration;
int store_migrate_list(store *s, const struct nx_migration *list, int *applied, nx_err *e);
/* For tests and tools: store_restore that accepts schema versions up to max_version. */
int store_restore_max(const char *url, const char *src, int max_version, nx_err *e);

#endif
