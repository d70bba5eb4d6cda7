/* store_impl.h — what a storage backend implements (internal to src/store/; modules never see it).
 *
 * store.c owns the public functions of store.h and the parts every backend shares (choosing a
 * backend by URL, the migration runner, the one-value helpers, commit hooks, the "one open result
 * per transaction" and "a failed transaction can only roll back" rules). A backend fills a table of
 * function pointers, as SQLite's VFS does, and embeds the base structs below as the FIRST member of
 * its own structs so that a base pointer converts to the backend's type:
 *
 *     struct sq_store { store base; ... };   (sqlite.c)
 *
 * postgres.c is the second backend, listed next to sqlite.c in store.c; no module knows which one
 * runs.
 *
 * The backend allocates and frees its structs; store.c initialises and reads the base fields. */
#ifndef NX_STORE_STORE_IMPL_H
#define NX_STORE_STORE_IMPL_H

#include <pthread.h>

#include "store/store.h"

#define STORE_MAX_HOOKS     16
#define STORE_MAX_LISTENERS 16
#define STORE_TX_CHANNELS   4
#define STORE_CHANNEL_MAX   63
#define STORE_MAX_WATCHES   4
#define STORE_WATCH_TABLES  16

struct store_ops;

struct store {
    const struct store_ops *ops;
    pthread_rwlock_t hook_lock; /* read-held while hooks run, write-held to change them */
    int nhooks;
    struct {
        store_commit_fn fn;
        void *ctx;
    } hooks[STORE_MAX_HOOKS];
    int nlisteners; /* under hook_lock, like the hooks */
    struct {
        char channel[STORE_CHANNEL_MAX + 1];
        store_listen_fn fn;
        void *ctx;
    } listeners[STORE_MAX_LISTENERS];
    int nwatches; /* store_watch; set at start-up, before the tables are written */
    struct {
        char channel[STORE_CHANNEL_MAX + 1];
        int ntables;
        char tables[STORE_WATCH_TABLES][64];
    } watches[STORE_MAX_WATCHES];
};

struct store_tx {
    store *s;
    int mode;         /* STORE_READ or STORE_WRITE */
    bool notify;      /* store_tx_notify was called */
    bool lazy;        /* begun as STORE_WRITE_LAZY (mode is then STORE_WRITE) */
    int failed;       /* 0, or the code of the first failed statement */
    store_rows *rows; /* the open result, if any */
    bool savepoint;   /* inside store_savepoint */
    int nchannels;    /* store_notify channels to wake after commit (backends without ops->notify) */
    char channels[STORE_TX_CHANNELS][STORE_CHANNEL_MAX + 1];
    unsigned watched; /* bit i: a table of watches[i] was changed (backends that note it: SQLite) */
};

struct store_rows {
    store_tx *tx;
    int err;       /* the error store_next met (0: none); reported by store_rows_end */
    int64_t seen;  /* rows stepped so far (fault injection, see store.h) */
    int64_t fault; /* fail at this row (0: never) */
};

/* Every function gets base pointers that the backend itself produced. Errors follow store.h. */
struct store_ops {
    const char *name; /* "sqlite", "postgres": matches nx_migration.backend */
    /* true when this backend handles url */
    bool (*accepts)(const char *url);
    /* opt is complete (defaults applied by store.c). */
    int (*open)(const char *url, const store_options *opt, store **out, nx_err *e);
    void (*close)(store *s);

    int (*begin)(store *s, int mode, store_tx **tx, nx_err *e);
    /* Commits; always releases tx. (store.c rolls a failed tx back through rollback instead.) */
    int (*commit)(store_tx *tx, nx_err *e);
    void (*rollback)(store_tx *tx);

    int (*exec)(store_tx *tx, const char *sql, const store_param *p, int n, int64_t *changes, nx_err *e);
    int (*exec_script)(store_tx *tx, const char *sql, nx_err *e);
    int (*query)(store_tx *tx, const char *sql, const store_param *p, int n, store_rows **rows, nx_err *e);
    int (*next)(store_rows *r);
    int (*ncols)(store_rows *r);
    bool (*isnull)(store_rows *r, int col);
    int64_t (*col_int)(store_rows *r, int col);
    double (*col_real)(store_rows *r, int col);
    const char *(*col_text)(store_rows *r, int col);
    const void *(*col_blob)(store_rows *r, int col, size_t *len);
    void (*rows_free)(store_rows *r);

    /* Optional (NULL: false). See store_urgent_waiting. */
    bool (*urgent_waiting)(store *s);
    /* Optional (NULL: store_query_ahead does nothing). See store_query_ahead. */
    int (*query_ahead)(store_tx *tx, const char *sql, const store_param *p, int n, bool last, nx_err *e);

    /* Whether a table of that name exists (inside tx). */
    int (*table_exists)(store_tx *tx, const char *name, bool *exists, nx_err *e);
    int (*backup)(store *s, const char *dest, nx_err *e);
    /* Restore without a store; refuse a backup whose schema version exceeds max_version. */
    int (*restore)(const char *url, const char *src, int max_version, nx_err *e);
    int (*verify)(const char *src, int max_version, nx_err *e);
    int (*check)(store *s, nx_err *e);

    /* Optional (NULL for SQLite). Send a cross-process notification in tx (channel is validated). */
    int (*notify)(store_tx *tx, const char *channel, nx_err *e);
    /* Optional. The set of listened channels grew: make sure they are listened to (may start a
     * thread). The backend delivers with store_listeners_run. */
    int (*listen)(store *s, nx_err *e);
    /* Optional (NULL: always live). See store_listen_live. */
    bool (*listen_live)(store *s);
    /* Optional (NULL: always the leader). See store_leader. */
    int (*leader)(store *s, const char *name, bool *leader, nx_err *e);
    /* Optional. Serialise migrations across processes inside tx (PostgreSQL: an advisory lock). */
    int (*migrate_lock)(store_tx *tx, nx_err *e);
    /* Optional. Stop the backend's own threads (listeners) before store.c tears down shared state;
     * ops->close follows. */
    void (*stop_threads)(store *s);
};

/* For backends: create the backup file dest, empty, mode 0600, refusing one that exists
 * (NX_ECONFLICT) or cannot be created (NX_EIO). The backend fills it, and unlinks it on failure. */
int store_backup_create(const char *dest, nx_err *e);
/* For backends: a row of table was changed in tx (SQLite's update hook): note the watches that
 * name it (store_watch), whose listeners store_commit calls after a successful commit. */
void store_tx_changed(store_tx *tx, const char *table);
/* For backends: call every listener of channel (NULL: every listener). Takes the hook lock. */
void store_listeners_run(store *s, const char *channel);
/* For backends: copy the distinct listened channels into out (at most cap); returns how many. */
int store_listened_channels(store *s, char out[][STORE_CHANNEL_MAX + 1], int cap);

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_postgres_ops;

#endif
