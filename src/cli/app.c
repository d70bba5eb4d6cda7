/* app.c — wiring: opening what every command needs, and the list of modules' routes. This is the
 * one place that knows every module (DESIGN.md §3: cli/ wires everything at start). */
#include "cli/cli.h"

#include "base/log.h"
#include "modules/accounts/accounts.h"
#include "modules/canteen/canteen.h"
#include "modules/courses/courses.h"
#include "modules/council/council.h"
#include "modules/devices/devices_webhooks.h"
#include "modules/devices/devices.h"
#include "modules/grid/grid.h"
#include "modules/elections/elections.h"
#include "modules/party/party.h"
#include "modules/library/library.h"
#include "modules/messages/messages.h"
#include "modules/org/org.h"
#include "modules/people/people.h"
#include "modules/services/services.h"
#include "modules/stats/stats.h"
#include "modules/venues/venues.h"
#include "modules/visits/visits.h"
#include "modules/volunteers/volunteers.h"
#include "secure/crypto.h"
#include "secure/password.h"
#include "secure/session.h"
#include "text/hanconv.h"
#include "text/pinyin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int cli_open_app(nx_app *app, bool create, bool migrate)
{
    nx_err e;
    nx_err_clear(&e);
    memset(app, 0, sizeof *app);
    app->cfg = &nx_cfg;
    if (crypto_init(&e) || pinyin_init(&e) || hanconv_init(&e)) {
        fprintf(stderr, "nuanxin: 初始化失败：%s\n", e.msg);
        return 1;
    }
    if (keys_load(nx_cfg.key_file, &app->keys, &e)) {
        fprintf(stderr, "nuanxin: 无法读取密钥文件 %s：%s\n", nx_cfg.key_file, e.msg);
        return 1;
    }
    store_options so = {.readers = (int)nx_cfg.db_readers, .busy_ms = (int)nx_cfg.db_busy_ms, .create = create,
                        .pool = (int)nx_cfg.db_pool};
    if (store_open(nx_cfg.database, &so, &app->db, &e)) {
        fprintf(stderr, "nuanxin: 无法打开数据库：%s\n", e.msg);
        keys_free(app->keys);
        return 1;
    }
    if (migrate) {
        int applied = 0;
        if (store_migrate(app->db, &applied, &e)) {
            fprintf(stderr, "nuanxin: 数据库迁移失败：%s\n", e.msg);
            cli_close_app(app);
            return 1;
        }
        if (applied)
            nx_log(LOG_INFO, "store.migrated applied=%d", applied);
        int64_t rekeyed = 0;
        if (people_tails_rekey(app, &rekeyed, &e)) {
            fprintf(stderr, "nuanxin: 重建尾号索引失败：%s\n", e.msg);
            cli_close_app(app);
            return 1;
        }
    }
    /* Logins may hold at most half of the HTTP threads (hashing or waiting for a hash slot), so a
     * burst of logins cannot starve other requests; beyond that they get 503 with Retry-After. */
    int workers = (int)nx_cfg.hash_workers;
    if (workers == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        workers = cores >= 2 ? (int)(cores / 2) : 1;
    }
    password_pool_init(workers, workers);
    /* The test suites (tests/api/nxtest.py) start hundreds of servers and log in thousands of times;
     * NX_TEST_HASH_COST=1 lets them hash new passwords at libsodium's minimum cost. Never set on a
     * real box (docs/security.md): the warning below is in every log it touches, and a later start
     * without it rehashes each such password at the next login (password_needs_rehash). */
    const char *cheap = getenv("NX_TEST_HASH_COST");
    if (cheap && strcmp(cheap, "1") == 0) {
        password_set_cost_for_tests(1, 8192);
        nx_log(LOG_WARN, "password.test_cost new password hashes use the minimum cost (NX_TEST_HASH_COST=1)");
    }
    session_settings ss = {
        .idle_ms = nx_cfg.session_ttl_min * 60000,
        .lifetime_ms = nx_cfg.token_ttl_min * 60000,
        .max_fail = (int)nx_cfg.login_max_fail,
        .lockout_ms = nx_cfg.lockout_min * 60000,
        .ip_max_fail = (int)nx_cfg.login_max_fail * 4,
        .ip_window_ms = nx_cfg.lockout_min * 60000,
        .keys = app->keys,
    };
    session_configure(&ss);
    return 0;
}

void cli_close_app(nx_app *app)
{
    if (app->db)
        people_detail_stop(app);
    store_close(app->db);
    keys_free(app->keys);
    password_pool_shutdown();
    hanconv_cleanup();
    pinyin_cleanup();
    app->db = NULL;
    app->keys = NULL;
}

int cli_register_routes(http_server *srv, nx_app *app)
{
    accounts_routes(srv, app);
    org_routes(srv, app);
    people_routes(srv, app);
    devices_routes(srv, app);
    devices_webhooks_routes(srv, app);
    services_routes(srv, app);
    stats_routes(srv, app);
    visits_routes(srv, app);
    grid_routes(srv, app);
    party_routes(srv, app);
    elections_routes(srv, app);
    venues_routes(srv, app);
    volunteers_routes(srv, app);
    library_routes(srv, app);
    messages_routes(srv, app);
    canteen_routes(srv, app);
    courses_routes(srv, app);
    council_routes(srv, app);
    return 0;
}

int cli_subscribe(struct dispatcher *d, nx_app *app)
{
    int rc = visits_subscribe(d, app);
    if (rc == 0)
        rc = services_subscribe(d, app);
    if (rc == 0)
        rc = messages_subscribe(d, app);
    return rc;
}

int cli_read_password(const char *prompt, char *out, size_t n)
{
    if (!isatty(STDIN_FILENO)) {
        if (fgets(out, (int)n, stdin) == NULL) {
            fprintf(stderr, "nuanxin: 未从标准输入读到密码\n");
            return 1;
        }
        out[strcspn(out, "\r\n")] = '\0';
        return 0;
    }
    struct termios old, noecho;
    tcgetattr(STDIN_FILENO, &old);
    noecho = old;
    noecho.c_lflag &= ~(tcflag_t)ECHO;
    char again[256];
    fprintf(stderr, "%s", prompt);
    tcsetattr(STDIN_FILENO, TCSANOW, &noecho);
    char *a = fgets(out, (int)n, stdin);
    fprintf(stderr, "\n再次输入：");
    char *b = fgets(again, sizeof again, stdin);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fprintf(stderr, "\n");
    if (!a || !b) {
        fprintf(stderr, "nuanxin: 未输入密码\n");
        return 1;
    }
    out[strcspn(out, "\r\n")] = '\0';
    again[strcspn(again, "\r\n")] = '\0';
    if (strcmp(out, again) != 0) {
        fprintf(stderr, "nuanxin: 两次输入的密码不一致\n");
        return 1;
    }
    return 0;
}
