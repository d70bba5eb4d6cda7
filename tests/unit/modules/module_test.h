/* module_test.h — what the module suites share: the application they test against (app and its
 * configuration cfg), opened on a fresh, migrated database of the backend being run (backends.h),
 * and the fixtures' helpers every suite wrote for itself: run a script of statements, read one
 * number or one text. A suite includes it after test.h and backends.h, in its one file, and keeps
 * only what is its own (its rows, its principals). */
#ifndef NX_TEST_MODULE_TEST_H
#define NX_TEST_MODULE_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "modules/app.h"
#include "secure/crypto.h"
#include "store/store.h"

static nx_app app;
static nx_config cfg;

/* Run the statements of sql in one write transaction on app's database; 0, or the error (said on
 * stderr) with nothing written. */
__attribute__((unused)) static int exec_w(const char *sql)
{
    nx_err e = {0};
    store_tx *tx = NULL;
    int rc = store_begin(app.db, STORE_WRITE, &tx, &e);
    if (rc == 0 && (rc = store_exec_script(tx, sql, &e)) == 0)
        return store_commit(tx, &e);
    fprintf(stderr, "exec_w: %s\n", e.msg);
    store_rollback(tx);
    return rc;
}

/* The one integer sql (no parameters) reads on app's database; -1 when it fails or finds nothing. */
__attribute__((unused)) static int64_t q_int(const char *sql)
{
    nx_err e = {0};
    store_tx *tx = NULL;
    int64_t v = -1;
    if (store_begin(app.db, STORE_READ, &tx, &e) == 0) {
        if (store_one_int(tx, sql, NULL, 0, &v, &e))
            v = -1;
        store_rollback(tx);
    }
    return v;
}

/* The one text sql (no parameters) reads on app's database, a copy to free(); NULL when it fails or
 * finds nothing. */
__attribute__((unused)) static char *q_text(const char *sql)
{
    nx_err e = {0};
    store_tx *tx = NULL;
    char *s = NULL;
    if (store_begin(app.db, STORE_READ, &tx, &e) == 0) {
        if (store_one_text(tx, sql, NULL, 0, &s, &e))
            s = NULL;
        store_rollback(tx);
    }
    return s;
}

/* Open app (zeroed first) on a fresh database called name (tb_url), migrated, with the default
 * configuration in cfg. o: the store's options, NULL for two readers, a 5 s busy wait and the
 * default pool. key: when not NULL, a fresh key file "<tb_dir>/<key>-<backend>.key" is made and
 * loaded as app.keys. 0, or -1 with the reason on stderr. */
__attribute__((unused)) static int tb_app_open(const char *name, const store_options *o, const char *key)
{
    char db[512], keyfile[600];
    tb_url(db, sizeof db, name);
    memset(&app, 0, sizeof app);
    nx_err e = {0};
    store_options def = {.readers = 2, .busy_ms = 5000, .create = true};
    if (key) {
        snprintf(keyfile, sizeof keyfile, "%s/%s-%s.key", tb_dir, key, tb_backend());
        unlink(keyfile);
    }
    if (store_open(db, o ? o : &def, &app.db, &e) || store_migrate(app.db, NULL, &e) ||
        (key && (keyfile_create(keyfile, &e) || keys_load(keyfile, &app.keys, &e)))) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    config_defaults(&cfg);
    app.cfg = &cfg;
    return 0;
}

#endif
