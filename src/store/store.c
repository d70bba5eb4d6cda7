/* store.c — the backend-neutral half of the storage interface.
 *
 * Every public function of store.h starts here. This file picks a backend by URL (store_open and
 * store_restore), applies defaults to the options, and then forwards through the backend's table of
 * functions (store_impl.h). What all backends must agree on is enforced here, once:
 *
 *   - A transaction has at most one open result (store_rows). Starting another statement while one
 *     is open is a caller bug (NX_EINTERNAL); committing with one open frees it and logs an error.
 *     PostgreSQL's protocol works this way, so SQLite is held to it too.
 *   - After a statement fails, the transaction is poisoned: later statements fail with the same
 *     code and store_commit rolls back, returning it. Again PostgreSQL's behaviour; code that relies
 *     on continuing after a unique violation must use ON CONFLICT instead.
 *   - Commit hooks run after a successful commit of a write transaction that asked for them
 *     (store_tx_notify). They run under a read lock, so store_off_commit (write lock) returns only
 *     when no call is in flight.
 *
 * The migration runner is here too: schema_migrations(version, name, applied_at) records what was
 * applied, nx_meta holds the marker ('app','nuanxin') that store_restore looks for. Each migration
 * runs in its own write transaction together with its schema_migrations row, so a failure leaves
 * the database at the previous version. The version is re-checked inside that transaction, so two
 * processes migrating at once do not apply a migration twice.
 *
 * Listeners (store_listen / store_notify) are kept here beside the commit hooks, under the same lock.
 * A backend with its own cross-process channel (PostgreSQL: LISTEN/NOTIFY) sends the notification in
 * the transaction and delivers through store_listeners_run; without one (SQLite, one process) the
 * channels named in a transaction are delivered here after its commit. Migrations take the backend's
 * migrate_lock (PostgreSQL: an advisory lock) so that processes starting together apply each once.
 *
 * Threads: a store is shared; a store_tx and its rows belong to one thread at a time. */
#include "store/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/vec.h"
#include "base/str.h"
#include "store/migrations.h"

/* The backends this binary knows, tried in order. postgres.c adds its table here. */
static const struct store_ops *const backends[] = {&store_postgres_ops, &store_sqlite_ops, NULL};

/* The backend whose accepts() takes url in *out (NULL on failure, so no caller reads garbage). */
static int pick_backend(const char *url, const struct store_ops **out, nx_err *e)
{
    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return nx_fail(e, NX_EINVAL, "database", "未指定数据库位置");
    for (int i = 0; backends[i]; i++) {
        if (backends[i]->accepts(url)) {
            *out = backends[i];
            return 0;
        }
    }
    return nx_fail(e, NX_EUNSUPP, "database", "不支持的数据库地址");
}

/* Newest migration number for backend in list (0 if none); NX_EINTERNAL when not ascending. */
static int newest_migration(const struct nx_migration *list, const char *backend, int *newest, nx_err *e)
{
    int prev = 0;
    for (const struct nx_migration *m = list; m->backend; m++) {
        if (strcmp(m->backend, backend) != 0)
            continue;
        if (m->number <= prev)
            return nx_fail(e, NX_EINTERNAL, "", "迁移编号重复或未按顺序排列：%d", m->number);
        prev = m->number;
    }
    *newest = prev;
    return 0;
}

int store_open(const char *url, const store_options *opt, store **out, nx_err *e)
{
    *out = NULL;
    const struct store_ops *ops;
    int rc = pick_backend(url, &ops, e);
    if (rc)
        return rc;
    store_options o = {.readers = 4, .busy_ms = 5000, .create = false, .pool = 8};
    if (opt) {
        o = *opt;
        if (o.readers <= 0)
            o.readers = 4;
        if (o.readers > 64)
            o.readers = 64;
        if (o.busy_ms <= 0)
            o.busy_ms = 5000;
        if (o.pool <= 0)
            o.pool = 8;
        if (o.pool > 256)
            o.pool = 256;
    }
    store *s = NULL;
    rc = ops->open(url, &o, &s, e);
    if (rc)
        return rc;
    s->ops = ops;
    s->nhooks = 0;
    s->nlisteners = 0;
    s->nwatches = 0;
    if (pthread_rwlock_init(&s->hook_lock, NULL) != 0) {
        ops->close(s);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    *out = s;
    return 0;
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    if (s->ops->stop_threads)
        s->ops->stop_threads(s);
    pthread_rwlock_destroy(&s->hook_lock);
    s->ops->close(s);
}

const char *store_backend(const store *s)
{
    return s->ops->name;
}

/* ---- commit hooks ---- */

int store_on_commit(store *s, store_commit_fn fn, void *ctx)
{
    int rc = 0;
    pthread_rwlock_wrlock(&s->hook_lock);
    if (s->nhooks == STORE_MAX_HOOKS) {
        rc = NX_ETOOBIG;
    } else {
        s->hooks[s->nhooks].fn = fn;
        s->hooks[s->nhooks].ctx = ctx;
        s->nhooks++;
    }
    pthread_rwlock_unlock(&s->hook_lock);
    return rc;
}

void store_off_commit(store *s, store_commit_fn fn, void *ctx)
{
    pthread_rwlock_wrlock(&s->hook_lock);
    for (int i = 0; i < s->nhooks; i++) {
        if (s->hooks[i].fn == fn && s->hooks[i].ctx == ctx) {
            memmove(&s->hooks[i], &s->hooks[i + 1], (size_t)(s->nhooks - i - 1) * sizeof s->hooks[0]);
            s->nhooks--;
            break;
        }
    }
    pthread_rwlock_unlock(&s->hook_lock);
}

void store_tx_notify(store_tx *tx)
{
    tx->notify = true;
}

static void run_hooks(store *s)
{
    pthread_rwlock_rdlock(&s->hook_lock);
    for (int i = 0; i < s->nhooks; i++)
        s->hooks[i].fn(s->hooks[i].ctx);
    pthread_rwlock_unlock(&s->hook_lock);
}

/* ---- listeners (cross-process wake-ups) ---- */

static bool channel_ok(const char *ch)
{
    if (ch == NULL)
        return false;
    size_t n = strlen(ch);
    if (n == 0 || n > STORE_CHANNEL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((ch[i] >= 'a' && ch[i] <= 'z') || (ch[i] >= '0' && ch[i] <= '9') || ch[i] == '_'))
            return false;
    return true;
}

int store_listen(store *s, const char *channel, store_listen_fn fn, void *ctx, nx_err *e)
{
    if (fn == NULL || !channel_ok(channel))
        return nx_fail(e, NX_EINVAL, "channel", "通知频道名无效");
    int rc = 0;
    pthread_rwlock_wrlock(&s->hook_lock);
    if (s->nlisteners == STORE_MAX_LISTENERS) {
        rc = nx_fail(e, NX_ETOOBIG, "channel", "通知监听者已满");
    } else {
        str_copy(s->listeners[s->nlisteners].channel, channel, sizeof s->listeners[0].channel);
        s->listeners[s->nlisteners].fn = fn;
        s->listeners[s->nlisteners].ctx = ctx;
        s->nlisteners++;
    }
    pthread_rwlock_unlock(&s->hook_lock);
    if (rc == 0 && s->ops->listen)
        rc = s->ops->listen(s, e);
    return rc;
}

void store_unlisten(store *s, const char *channel, store_listen_fn fn, void *ctx)
{
    pthread_rwlock_wrlock(&s->hook_lock);
    for (int i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i].fn == fn && s->listeners[i].ctx == ctx &&
            strcmp(s->listeners[i].channel, channel ? channel : "") == 0) {
            memmove(&s->listeners[i], &s->listeners[i + 1],
                    (size_t)(s->nlisteners - i - 1) * sizeof s->listeners[0]);
            s->nlisteners--;
            break;
        }
    }
    pthread_rwlock_unlock(&s->hook_lock);
}

void store_listeners_run(store *s, const char *channel)
{
    pthread_rwlock_rdlock(&s->hook_lock);
    for (int i = 0; i < s->nlisteners; i++)
        if (channel == NULL || strcmp(s->listeners[i].channel, channel) == 0)
            s->listeners[i].fn(s->listeners[i].ctx, s->listeners[i].channel);
    pthread_rwlock_unlock(&s->hook_lock);
}

int store_listened_channels(store *s, char out[][STORE_CHANNEL_MAX + 1], int cap)
{
    int n = 0;
    pthread_rwlock_rdlock(&s->hook_lock);
    for (int i = 0; i < s->nlisteners && n < cap; i++) {
        bool seen = false;
        for (int j = 0; j < n && !seen; j++)
            seen = strcmp(out[j], s->listeners[i].channel) == 0;
        if (!seen)
            str_copy(out[n++], s->listeners[i].channel, STORE_CHANNEL_MAX + 1);
    }
    pthread_rwlock_unlock(&s->hook_lock);
    return n;
}

int store_notify(store_tx *tx, const char *channel, nx_err *e)
{
    if (!channel_ok(channel))
        return nx_fail(e, NX_EINVAL, "channel", "通知频道名无效");
    if (tx->mode != STORE_WRITE)
        return nx_fail(e, NX_EINTERNAL, "", "只能在写事务中发送通知");
    if (tx->s->ops->notify) {
        if (tx->rows)
            return nx_fail(e, NX_EINTERNAL, "", "上一条查询的结果尚未释放，不能执行新语句");
        if (tx->failed)
            return nx_fail(e, tx->failed, "", "事务中先前的语句已失败，只能回滚");
        int rc = tx->s->ops->notify(tx, channel, e);
        if (rc)
            tx->failed = rc;
        return rc;
    }
    for (int i = 0; i < tx->nchannels; i++)
        if (strcmp(tx->channels[i], channel) == 0)
            return 0;
    if (tx->nchannels == STORE_TX_CHANNELS)
        return nx_fail(e, NX_ETOOBIG, "channel", "一个事务最多通知 %d 个频道", STORE_TX_CHANNELS);
    str_copy(tx->channels[tx->nchannels++], channel, sizeof tx->channels[0]);
    return 0;
}

bool store_listen_live(store *s)
{
    return s->ops->listen_live == NULL || s->ops->listen_live(s);
}

int store_watch(store *s, const char *channel, const char *const *tables, nx_err *e)
{
    if (!channel_ok(channel) || tables == NULL)
        return nx_fail(e, NX_EINVAL, "channel", "通知频道名无效");
    int n = 0;
    while (tables[n])
        if (strlen(tables[n++]) >= sizeof s->watches[0].tables[0])
            return nx_fail(e, NX_EINVAL, "tables", "表名过长");
    int rc = 0;
    pthread_rwlock_wrlock(&s->hook_lock);
    if (s->nwatches == STORE_MAX_WATCHES || n > STORE_WATCH_TABLES) {
        rc = nx_fail(e, NX_ETOOBIG, "tables", "监视的表过多");
    } else {
        str_copy(s->watches[s->nwatches].channel, channel, sizeof s->watches[0].channel);
        for (int i = 0; i < n; i++)
            str_copy(s->watches[s->nwatches].tables[i], tables[i], sizeof s->watches[0].tables[0]);
        s->watches[s->nwatches].ntables = n;
        __atomic_store_n(&s->nwatches, s->nwatches + 1, __ATOMIC_RELEASE);
    }
    pthread_rwlock_unlock(&s->hook_lock);
    return rc;
}

void store_tx_changed(store_tx *tx, const char *table)
{
    store *s = tx->s;
    int n = __atomic_load_n(&s->nwatches, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++) {
        if (tx->watched & (1u << i))
            continue;
        for (int j = 0; j < s->watches[i].ntables; j++)
            if (strcmp(s->watches[i].tables[j], table) == 0) {
                tx->watched |= 1u << i;
                break;
            }
    }
}

int store_leader(store *s, const char *name, bool *leader, nx_err *e)
{
    *leader = false;
    if (name == NULL || name[0] == '\0' || strlen(name) > STORE_CHANNEL_MAX)
        return nx_fail(e, NX_EINVAL, "name", "锁名无效");
    if (s->ops->leader == NULL) {
        *leader = true;
        return 0;
    }
    return s->ops->leader(s, name, leader, e);
}

/* ---- transactions ---- */

int store_begin(store *s, int mode, store_tx **tx, nx_err *e)
{
    *tx = NULL;
    if (mode != STORE_READ && mode != STORE_WRITE && mode != STORE_WRITE_LAZY && mode != STORE_READ_DEFERRED &&
        mode != STORE_WRITE_URGENT)
        return nx_fail(e, NX_EINTERNAL, "", "未知的事务模式 %d", mode);
    store_tx *t = NULL;
    int rc = s->ops->begin(s, mode, &t, e);
    if (rc)
        return rc;
    t->s = s;
    t->mode = mode == STORE_READ || mode == STORE_READ_DEFERRED ? STORE_READ : STORE_WRITE;
    t->notify = false;
    t->lazy = mode == STORE_WRITE_LAZY;
    t->failed = 0;
    t->rows = NULL;
    t->savepoint = false;
    t->nchannels = 0;
    *tx = t;
    return 0;
}

bool store_urgent_waiting(store *s)
{
    return s->ops->urgent_waiting && s->ops->urgent_waiting(s);
}

static void close_leaked_rows(store_tx *tx)
{
    if (tx->rows) {
        nx_log(LOG_ERROR, "store.rows_leak backend=%s (rows not freed before the end of the transaction)",
               tx->s->ops->name);
        store_rows_free(tx->rows);
    }
}

int store_commit(store_tx *tx, nx_err *e)
{
    store *s = tx->s;
    bool hooks = tx->mode == STORE_WRITE && tx->notify;
    int nch = tx->nchannels;
    char channels[STORE_TX_CHANNELS][STORE_CHANNEL_MAX + 1];
    memcpy(channels, tx->channels, sizeof channels); /* tx is freed by commit */
    unsigned watched = tx->watched;
    close_leaked_rows(tx);
    if (tx->failed) { /* a poisoned transaction can only roll back (see the top of this file) */
        int code = tx->failed;
        s->ops->rollback(tx);
        return nx_fail(e, code, "", "事务中有语句失败，已回滚");
    }
    int rc = s->ops->commit(tx, e);
    if (rc == 0 && hooks)
        run_hooks(s);
    for (int i = 0; rc == 0 && i < nch; i++)
        store_listeners_run(s, channels[i]);
    for (int i = 0; rc == 0 && watched && i < STORE_MAX_WATCHES; i++)
        if (watched & (1u << i))
            store_listeners_run(s, s->watches[i].channel);
    return rc;
}

void store_rollback(store_tx *tx)
{
    if (tx == NULL)
        return;
    close_leaked_rows(tx);
    tx->s->ops->rollback(tx);
}

store *store_tx_store(store_tx *tx)
{
    return tx->s;
}

/* Common checks before a statement: no open result, not poisoned, sane parameters. */
static int pre_statement(store_tx *tx, const char *sql, const store_param *p, int n, nx_err *e)
{
    if (tx->rows)
        return nx_fail(e, NX_EINTERNAL, "", "上一条查询的结果尚未释放，不能执行新语句");
    if (tx->failed)
        return nx_fail(e, tx->failed, "", "事务中先前的语句已失败，只能回滚");
    if (sql == NULL || n < 0 || (n > 0 && p == NULL))
        return nx_fail(e, NX_EINTERNAL, "", "语句或参数无效");
    return 0;
}

int store_exec(store_tx *tx, const char *sql, const store_param *p, int n, int64_t *changes, nx_err *e)
{
    if (changes)
        *changes = 0;
    int rc = pre_statement(tx, sql, p, n, e);
    if (rc)
        return rc;
    rc = tx->s->ops->exec(tx, sql, p, n, changes, e);
    if (rc)
        tx->failed = rc;
    return rc;
}

/* Savepoints (one level): the same SQL on both backends. Rolling back to the savepoint clears a
 * failure that happened after it, as PostgreSQL does, so the transaction can go on. */
int store_savepoint(store_tx *tx, nx_err *e)
{
    if (tx->mode != STORE_WRITE || tx->savepoint)
        return nx_fail(e, NX_EINTERNAL, "", "保存点只能在写事务中使用，且不能嵌套");
    int rc = store_exec(tx, "SAVEPOINT nx_savepoint", NULL, 0, NULL, e);
    if (rc == 0)
        tx->savepoint = true;
    return rc;
}

int store_savepoint_release(store_tx *tx, nx_err *e)
{
    if (!tx->savepoint)
        return nx_fail(e, NX_EINTERNAL, "", "没有打开的保存点");
    int rc = store_exec(tx, "RELEASE SAVEPOINT nx_savepoint", NULL, 0, NULL, e);
    tx->savepoint = false;
    return rc;
}

int store_savepoint_rollback(store_tx *tx, nx_err *e)
{
    if (!tx->savepoint)
        return nx_fail(e, NX_EINTERNAL, "", "没有打开的保存点");
    if (tx->rows)
        store_rows_free(tx->rows);
    tx->failed = 0;
    int rc = tx->s->ops->exec(tx, "ROLLBACK TO SAVEPOINT nx_savepoint", NULL, 0, NULL, e);
    if (rc == 0)
        rc = tx->s->ops->exec(tx, "RELEASE SAVEPOINT nx_savepoint", NULL, 0, NULL, e);
    tx->savepoint = false;
    if (rc)
        tx->failed = rc;
    return rc;
}

int store_exec_script(store_tx *tx, const char *sql, nx_err *e)
{
    int rc = pre_statement(tx, sql, NULL, 0, e);
    if (rc)
        return rc;
    rc = tx->s->ops->exec_script(tx, sql, e);
    if (rc)
        tx->failed = rc;
    return rc;
}

/* ---- fault injection (tests only; see store.h) ---- */

static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
static char fault_text[128];
static int64_t fault_at;

static void fault_load(void)
{
    const char *v = getenv("NX_STORE_FAULT");
    const char *at = v ? strrchr(v, '@') : NULL;
    int64_t n;
    if (at == NULL || at == v || (size_t)(at - v) >= sizeof fault_text || str_to_i64(at + 1, 1, INT64_MAX, &n))
        return;
    memcpy(fault_text, v, (size_t)(at - v));
    fault_text[at - v] = '\0';
    fault_at = n;
    nx_log(LOG_WARN, "store: NX_STORE_FAULT set: reads of queries containing the text fail at row=%lld", (long long)n);
}

static int64_t fault_row(const char *sql)
{
    pthread_once(&fault_once, fault_load);
    return fault_at && strstr(sql, fault_text) ? fault_at : 0;
}

int store_query(store_tx *tx, const char *sql, const store_param *p, int n, store_rows **rows, nx_err *e)
{
    *rows = NULL;
    int rc = pre_statement(tx, sql, p, n, e);
    if (rc)
        return rc;
    rc = tx->s->ops->query(tx, sql, p, n, rows, e);
    if (rc) {
        tx->failed = rc;
        return rc;
    }
    (*rows)->tx = tx;
    (*rows)->err = 0;
    (*rows)->seen = 0;
    (*rows)->fault = fault_row(sql);
    tx->rows = *rows;
    return 0;
}

int store_query_ahead(store_tx *tx, const char *sql, const store_param *p, int n, bool last, nx_err *e)
{
    int rc = pre_statement(tx, sql, p, n, e);
    if (rc || tx->s->ops->query_ahead == NULL)
        return rc;
    if ((rc = tx->s->ops->query_ahead(tx, sql, p, n, last && tx->mode == STORE_READ, e)))
        tx->failed = rc;
    return rc;
}

int store_next(store_rows *r)
{
    if (r->err)
        return r->err;
    int rc = r->fault && r->seen + 1 >= r->fault ? NX_EBUSY : r->tx->s->ops->next(r);
    if (rc < 0) {
        r->err = rc;
        r->tx->failed = rc;
        if (r->fault)
            nx_log(LOG_WARN, "store: injected read failure at row=%lld", (long long)r->fault);
    } else if (rc == 1) {
        r->seen++;
    }
    return rc;
}

bool store_row(store_rows *r)
{
    return store_next(r) == 1;
}

int store_rows_end(store_rows *r, nx_err *e)
{
    if (r == NULL)
        return 0;
    int rc = r->err;
    store_rows_free(r);
    if (rc)
        return nx_fail(e, rc, "", rc == NX_EBUSY ? "数据库连接中断，请稍后重试" : "数据库读取失败");
    return 0;
}

int store_first(store_rows *r, const char *missing, nx_err *e)
{
    int rc = store_next(r);
    if (rc == 1)
        return 0;
    if (rc == 0)
        return nx_fail(e, NX_ENOTFOUND, "", "%s", missing ? missing : "未找到数据");
    return nx_fail(e, rc, "", rc == NX_EBUSY ? "数据库连接中断，请稍后重试" : "数据库读取失败");
}

int store_finish(store_tx *tx, int rc, nx_err *e)
{
    if (rc == 0)
        return store_commit(tx, e);
    store_rollback(tx);
    return rc;
}

int store_query_first(store_tx *tx, const char *sql, const store_param *p, int n, const char *missing,
                      store_rows **rows, nx_err *e)
{
    *rows = NULL;
    store_rows *r;
    int rc = store_query(tx, sql, p, n, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, missing, e))) {
        store_rows_free(r);
        return rc;
    }
    *rows = r;
    return 0;
}

int store_query_vec(store_tx *tx, const char *sql, const store_param *p, int n, void (*fill)(store_rows *r, void *elem),
                    vec *v, nx_err *e)
{
    void *elem = calloc(1, v->size);
    if (!elem)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    store_rows *r;
    int rc = store_query(tx, sql, p, n, &r, e);
    if (rc == 0) {
        while (store_row(r)) {
            memset(elem, 0, v->size);
            fill(r, elem);
            if (vec_push(v, elem))
                break;
        }
        if ((rc = store_rows_end(r, e)) == 0)
            rc = vec_error(v, e);
    }
    free(elem);
    return rc;
}

static void id_fill(store_rows *r, void *elem)
{
    *(int64_t *)elem = store_int(r, 0);
}

int store_query_ids(store_tx *tx, const char *sql, const store_param *p, int n, vec *ids, nx_err *e)
{
    return store_query_vec(tx, sql, p, n, id_fill, ids, e);
}

int store_ncols(store_rows *r)
{
    return r->tx->s->ops->ncols(r);
}

bool store_isnull(store_rows *r, int col)
{
    return r->tx->s->ops->isnull(r, col);
}

int64_t store_int(store_rows *r, int col)
{
    return r->tx->s->ops->col_int(r, col);
}

double store_real(store_rows *r, int col)
{
    return r->tx->s->ops->col_real(r, col);
}

const char *store_text(store_rows *r, int col)
{
    return r->tx->s->ops->col_text(r, col);
}

const void *store_blob(store_rows *r, int col, size_t *len)
{
    return r->tx->s->ops->col_blob(r, col, len);
}

void store_rows_free(store_rows *r)
{
    if (r == NULL)
        return;
    store_tx *tx = r->tx;
    tx->s->ops->rows_free(r);
    tx->rows = NULL;
}

/* ---- one-value helpers ---- */

int store_one_int(store_tx *tx, const char *sql, const store_param *p, int n, int64_t *out, nx_err *e)
{
    *out = 0;
    store_rows *r;
    int rc = store_query(tx, sql, p, n, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "未找到数据", e)) == 0)
        *out = store_int(r, 0);
    store_rows_free(r);
    return rc;
}

int store_exists_or_fail(store_tx *tx, const char *sql, const store_param *p, int n, const char *field,
                         nx_err *e, const char *fmt, ...)
{
    int64_t found = 0;
    int rc = store_one_int(tx, sql, p, n, &found, e);
    if (rc == 0 && found)
        return 0;
    if (rc && rc != NX_ENOTFOUND)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    nx_failv(e, NX_EINVAL, field, fmt, ap);
    va_end(ap);
    return NX_EINVAL;
}

int store_conflict_field(int rc, const char *field, nx_err *e, const char *fmt, ...)
{
    if (rc != NX_ECONFLICT)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    nx_failv(e, NX_ECONFLICT, field, fmt, ap);
    va_end(ap);
    return NX_ECONFLICT;
}

int store_one_text(store_tx *tx, const char *sql, const store_param *p, int n, char **out, nx_err *e)
{
    *out = NULL;
    store_rows *r;
    int rc = store_query(tx, sql, p, n, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "未找到数据", e)) == 0) {
        const char *t = store_text(r, 0);
        if (t && (*out = strdup(t)) == NULL)
            rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    store_rows_free(r);
    return rc;
}

/* ---- migrations ---- */

/* The tables of the runner itself. Valid on both backends (BIGINT is INTEGER in SQLite). */
static const char bootstrap_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS nx_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* Create the runner's tables and the marker; return the database's version. */
static int bootstrap(store *s, int *version, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(s, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    char *app = NULL;
    if (s->ops->migrate_lock && (rc = s->ops->migrate_lock(tx, e)) != 0)
        goto done;
    rc = store_exec_script(tx, bootstrap_sql, e);
    if (rc)
        goto done;
    rc = store_one_text(tx, "SELECT value FROM nx_meta WHERE key = 'app'", NULL, 0, &app, e);
    if (rc == NX_ENOTFOUND) {
        char now[24];
        snprintf(now, sizeof now, "%lld", (long long)clock_now_ms());
        rc = store_exec(tx, "INSERT INTO nx_meta (key, value) VALUES ('app', 'nuanxin')", NULL, 0, NULL, e);
        if (rc == 0)
            rc = store_exec(tx,
                            "INSERT INTO nx_meta (key, value) VALUES ('created_at', $1)"
                            " ON CONFLICT (key) DO NOTHING",
                            (store_param[]){P_TEXT(now)}, 1, NULL, e);
    } else if (rc == 0 && (app == NULL || strcmp(app, "nuanxin") != 0)) {
        rc = nx_fail(e, NX_EINVAL, "database", "这不是 nuanxin 的数据库");
    }
    if (rc)
        goto done;
    int64_t v = 0;
    rc = store_one_int(tx, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, 0, &v, e);
    if (rc)
        goto done;
    *version = (int)v;
    free(app);
    return store_commit(tx, e);
done:
    free(app);
    store_rollback(tx);
    return rc;
}

/* Apply m in tx unless it is recorded already (by another process that got the lock first, or
 * out of order: a migration numbered below the newest that was added later). */
static int apply_one(store_tx *tx, const struct nx_migration *m, bool *applied, nx_err *e)
{
    *applied = false;
    int64_t have = 0;
    int rc = store_one_int(tx, "SELECT count(*) FROM schema_migrations WHERE version = $1",
                           (store_param[]){P_INT(m->number)}, 1, &have, e);
    if (rc || have)
        return rc;
    if ((rc = store_exec_script(tx, m->sql, e)) != 0) {
        nx_log(LOG_ERROR, "store.migrate_failed version=%d name=%s", m->number, m->name);
        return rc;
    }
    rc = store_exec(tx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    (store_param[]){P_INT(m->number), P_TEXT(m->name), P_INT(clock_now_ms())}, 3, NULL, e);
    *applied = rc == 0;
    return rc;
}

/* Every pending migration is applied in ONE write transaction: an upgrade that fails at its third
 * migration leaves the database exactly as it was before the first (both backends run DDL inside a
 * transaction), so the previous nuanxin still opens it and nothing needs restoring. */
int store_migrate_list(store *s, const struct nx_migration *list, int *applied, nx_err *e)
{
    if (applied)
        *applied = 0;
    const char *be = s->ops->name;
    int newest = 0, version = 0;
    int rc = newest_migration(list, be, &newest, e);
    if (rc)
        return rc;
    rc = bootstrap(s, &version, e);
    if (rc)
        return rc;
    if (version > newest)
        return nx_fail(e, NX_EUNSUPP, "database", "数据库版本 %d 高于本程序支持的 %d，请升级 nuanxin",
                       version, newest);
    store_tx *tx;
    if ((rc = store_begin(s, STORE_WRITE, &tx, e)) != 0)
        return rc;
    if (s->ops->migrate_lock && (rc = s->ops->migrate_lock(tx, e)) != 0) {
        store_rollback(tx);
        return rc;
    }
    int n = 0;
    for (const struct nx_migration *m = list; m->backend; m++) {
        if (strcmp(m->backend, be) != 0)
            continue;
        bool done = false;
        if ((rc = apply_one(tx, m, &done, e)) != 0) {
            store_rollback(tx);
            return rc;
        }
        n += done;
    }
    if ((rc = store_commit(tx, e)) != 0)
        return rc;
    if (n)
        nx_log(LOG_INFO, "store.migrated count=%d newest=%d", n, newest);
    if (applied)
        *applied = n;
    return 0;
}

int store_migrate(store *s, int *applied, nx_err *e)
{
    /* FOR TESTS (like NX_STORE_FAULT): NX_TEST_MIGRATE_UPTO=N stops at migration N, so a test can make
     * a database that is really one version behind and upgrade it (tests/api/test_install.py); deleting
     * the newest row of schema_migrations instead would re-run a migration over its own changes. */
    const char *upto = getenv("NX_TEST_MIGRATE_UPTO");
    int64_t max = 0;
    if (!upto || str_to_i64(upto, 1, INT32_MAX, &max) != 0)
        return store_migrate_list(s, nx_migrations, applied, e);
    size_t n = 0;
    while (nx_migrations[n].backend)
        n++;
    struct nx_migration *some = calloc(n + 1, sizeof *some);
    if (!some)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (nx_migrations[i].number <= max)
            some[k++] = nx_migrations[i];
    nx_log(LOG_WARN, "store.migrate_upto version=%lld (NX_TEST_MIGRATE_UPTO)", (long long)max);
    int rc = store_migrate_list(s, some, applied, e);
    free(some);
    return rc;
}

int store_schema_newest(store *s, int *newest, nx_err *e)
{
    return newest_migration(nx_migrations, s->ops->name, newest, e);
}

int store_schema_version(store *s, int *version, nx_err *e)
{
    *version = 0;
    store_tx *tx;
    int rc = store_begin(s, STORE_READ, &tx, e);
    if (rc)
        return rc;
    bool exists = false;
    rc = s->ops->table_exists(tx, "schema_migrations", &exists, e);
    int64_t v = 0;
    if (rc == 0 && exists)
        rc = store_one_int(tx, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, 0, &v, e);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    *version = (int)v;
    return store_commit(tx, e);
}

/* ---- backup, restore, check ---- */

int store_backup_create(const char *dest, nx_err *e)
{
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return nx_fail(e, NX_ECONFLICT, "dest", "备份文件已存在，不会覆盖");
        return nx_fail(e, NX_EIO, "dest", "无法创建备份文件：%s", strerror(errno));
    }
    close(fd);
    return 0;
}

int store_backup(store *s, const char *dest, nx_err *e)
{
    if (dest == NULL || dest[0] == '\0')
        return nx_fail(e, NX_EINVAL, "dest", "未指定备份文件");
    return s->ops->backup(s, dest, e);
}

int store_restore_max(const char *url, const char *src, int max_version, nx_err *e)
{
    const struct store_ops *ops;
    int rc = pick_backend(url, &ops, e);
    if (rc)
        return rc;
    if (src == NULL || src[0] == '\0')
        return nx_fail(e, NX_EINVAL, "src", "未指定备份文件");
    return ops->restore(url, src, max_version, e);
}

int store_restore(const char *url, const char *src, nx_err *e)
{
    const struct store_ops *ops;
    int rc = pick_backend(url, &ops, e);
    if (rc)
        return rc;
    int newest = 0;
    rc = newest_migration(nx_migrations, ops->name, &newest, e);
    if (rc)
        return rc;
    return store_restore_max(url, src, newest, e);
}

int store_backup_verify(const char *url, const char *src, nx_err *e)
{
    const struct store_ops *ops;
    int rc = pick_backend(url, &ops, e);
    if (rc)
        return rc;
    if (src == NULL || src[0] == '\0')
        return nx_fail(e, NX_EINVAL, "src", "未指定备份文件");
    int newest = 0;
    if ((rc = newest_migration(nx_migrations, ops->name, &newest, e)) != 0)
        return rc;
    return ops->verify(src, newest, e);
}

int store_check(store *s, nx_err *e)
{
    return s->ops->check(s, e);
}
