/* main.c — the `nuanxin` command: parses the subcommand and the configuration flags, then hands
 * over to the subcommand.
 *
 * Flags that name configuration entries (--data, --listen, --max-body …, see `nuanxin --help`) are
 * applied in two passes: --data and --config first, so the configuration file can be found; then,
 * after the file and NUANXIN_* environment variables, every flag again, so flags win. Other flags
 * belong to the subcommand and are left in argv for it. */
#include "base/config.h"
#include "base/log.h"
#include "base/str.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "cli/flags.h"
#include "http/http.h"
#include "modules/org/org.h"
#include "modules/people/people.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "secure/password.h"
#include "secure/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "nuanxin %s — 暖心智慧社区平台 (smart-community platform)\n\n"
               "用法 Usage: nuanxin [--data DIR] <command> [options]\n\n"
               "Commands:\n"
               "  serve [--listen HOST:PORT]   启动服务 run the server (default 127.0.0.1:8080)\n"
               "  init [--admin NAME]          新建数据目录：数据库、密钥、管理员账号\n"
               "  demo [--seed N] [--residents N]  填充虚构的演示社区 fill a fictional demo community\n"
               "  migrate                      升级数据库结构 apply database migrations\n"
               "  user add NAME --role ROLE [--scope S] [--street ID] [--community ID] [--grid ID]\n"
               "                [--resident ID] [--display NAME]   (password from stdin when not a tty)\n"
               "  user passwd NAME | user list | user disable NAME | user enable NAME\n"
               "  visits schedule [--now ISO]   生成走访任务、标记逾期并上报 run the visit scheduler once\n"
               "  device add IMEI --protocol watch|iw [--model M] [--sim S] [--resident ID]\n"
               "  device list [--unregistered] | device bind IMEI RESIDENT_ID   手环登记与绑定 wristbands\n"
               "  simulate --devices N --interval S --sos-rate R --protocol watch|iw --target HOST:PORT\n"
               "           [--duration S] [--id-base N] [--mode normal|flood|hold|probe] [--ramp N/S] [--inflight K]\n"
               "                               模拟手环 simulated wristbands over TCP (src/cli/simulate.c)\n"
               "  backup FILE | backup --dir DIR [--keep-daily 7 --keep-weekly 4 --keep-monthly 12]\n"
               "                               在线备份并校验；--dir 按时间命名并轮换 online backup, checked\n"
               "  doctor                       检查配置、权限、磁盘、数据库与备份 check an installation\n"
               "  upgrade [--backup-dir DIR]   先备份再迁移（软件包升级时运行） back up, then migrate\n"
               "  restore FILE                 从备份恢复（须先停止服务） restore (server stopped)\n"
               "  config                       显示生效的配置（隐去机密） effective configuration\n"
               "  --version | --help\n\n",
            NX_VERSION);
    config_help();
}

/* Apply configuration flags from argv; remove them, leaving the command's own arguments. When
 * only_paths, apply just --data and --config (and keep everything). */
static int apply_flags(int *argc, char **argv, bool only_paths)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || strlen(a) < 3) {
            argv[out++] = argv[i];
            continue;
        }
        char key[64];
        const char *eq = strchr(a + 2, '=');
        size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (klen >= sizeof key) {
            argv[out++] = argv[i];
            continue;
        }
        memcpy(key, a + 2, klen);
        key[klen] = '\0';
        if (!config_known(key)) {
            argv[out++] = argv[i];
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        int used = 1;
        if (!value) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "nuanxin: --%s 需要一个值\n", key);
                return 2;
            }
            value = argv[i + 1];
            used = 2;
        }
        bool path = strcmp(key, "data") == 0 || strcmp(key, "config") == 0;
        if (!only_paths || path) {
            nx_err e;
            if (config_set(&nx_cfg, key, value, "命令行", &e)) {
                fprintf(stderr, "nuanxin: %s\n", e.msg);
                return 2;
            }
        }
        if (only_paths) {
            argv[out++] = argv[i];
            if (used == 2)
                argv[out++] = argv[i + 1];
        }
        i += used - 1;
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

/* Is there already a nuanxin database? A file for SQLite; for PostgreSQL (the database itself is
 * created by its administrator) a schema version above 0. */
static bool init_exists(void)
{
    if (!str_starts_with(nx_cfg.database, "postgres://") && !str_starts_with(nx_cfg.database, "postgresql://"))
        return access(nx_cfg.database, F_OK) == 0;
    store *s = NULL;
    nx_err e;
    int version = 0;
    store_options so = {.busy_ms = (int)nx_cfg.db_busy_ms, .pool = 1};
    if (store_open(nx_cfg.database, &so, &s, &e) == 0)
        store_schema_version(s, &version, &e);
    store_close(s);
    return version > 0;
}

static int cmd_init(int argc, char **argv)
{
    const char *admin = "admin";
    cli_flag flags[] = {CLI_STR("--admin", &admin, "管理员用户名 the administrator's user name (admin)")};
    if (cli_flags_parse(flags, 1, argc, argv, 1, NULL, 0, NULL))
        return 2;
    if (mkdir(nx_cfg.data_dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "nuanxin: 无法创建数据目录 %s：%s\n", nx_cfg.data_dir, strerror(errno));
        return 1;
    }
    if (init_exists()) {
        fprintf(stderr, "nuanxin: 数据库 %s 已存在，未做任何改动（升级请用 nuanxin migrate）\n",
                str_starts_with(nx_cfg.database, "postgres") ? "(PostgreSQL)" : nx_cfg.database);
        return 1;
    }
    nx_err e;
    if (crypto_init(&e) || keyfile_create(nx_cfg.key_file, &e)) {
        fprintf(stderr, "nuanxin: 无法创建密钥文件 %s：%s\n", nx_cfg.key_file, e.msg);
        return 1;
    }
    nx_app app;
    if (cli_open_app(&app, true, true))
        return 1;
    store_tx *tx = NULL;
    int src = store_begin(app.db, STORE_WRITE, &tx, &e);
    if (src == 0 && (src = org_seed_tags(tx, &e)) != 0)
        store_rollback(tx);
    else if (src == 0)
        src = store_commit(tx, &e);
    if (src) {
        fprintf(stderr, "nuanxin: 写入内置标签失败：%s\n", e.msg);
        cli_close_app(&app);
        return 1;
    }
    char pw[32];
    password_generate(pw, sizeof pw);
    while (password_policy_check(pw, admin, NULL))
        password_generate(pw, sizeof pw);
    user_input in = {.username = admin, .display_name = "系统管理员", .password = pw, .role = ROLE_ADMIN,
                     .scope = SCOPE_ALL, .disabled = -1, .must_change_password = true};
    int64_t id;
    int rc = users_create(app.db, NULL, &in, &id, &e);
    if (rc) {
        fprintf(stderr, "nuanxin: 创建管理员失败：%s\n", e.msg);
        cli_close_app(&app);
        return 1;
    }
    char shown_db[1100];
    config_redact_url(nx_cfg.database, shown_db, sizeof shown_db);
    printf("已创建数据目录 %s\n  数据库：%s\n  密钥文件：%s（权限 0600，请另行备份，丢失后个人信息无法解密）\n"
           "管理员账号：%s\n初始密码（只显示这一次，首次登录后请修改）：%s\n",
           nx_cfg.data_dir, shown_db, nx_cfg.key_file, admin, pw);
    cli_close_app(&app);
    return 0;
}

static int cmd_migrate(int argc, char **argv)
{
    if (cli_flags_parse(NULL, 0, argc, argv, 1, NULL, 0, NULL))
        return 2;
    nx_app app;
    if (cli_open_app(&app, false, false))
        return 1;
    nx_err e;
    int applied = 0, version = 0;
    int64_t rekeyed = 0;
    int rc = store_migrate(app.db, &applied, &e);
    if (rc == 0)
        rc = people_tails_rekey(&app, &rekeyed, &e);
    if (rc == 0)
        rc = store_schema_version(app.db, &version, &e);
    if (rc)
        fprintf(stderr, "nuanxin: 迁移失败：%s\n", e.msg);
    else
        printf("数据库结构版本 %d（本次应用 %d 个迁移）\n", version, applied);
    cli_close_app(&app);
    return rc ? 1 : 0;
}

static int cmd_demo(int argc, char **argv)
{
    int64_t seed = 2026, residents = 3000;
    cli_flag flags[] = {
        CLI_INT("--seed", &seed, 0, UINT32_MAX, "非负整数", "随机种子 random seed (2026)"),
        CLI_INT("--residents", &residents, 10, 2000000, NULL, "居民人数 number of residents (3000)"),
    };
    if (cli_flags_parse(flags, 2, argc, argv, 1, NULL, 0, NULL))
        return 2;
    /* NX_DEMO_PASSWORD gives every account one password (the browser tests set it); otherwise each
     * account gets its own, printed below and never again. */
    demo_options o = {.seed = (unsigned)seed, .residents = (int)residents, .password = getenv("NX_DEMO_PASSWORD")};
    nx_app app;
    if (cli_open_app(&app, false, true))
        return 1;
    json_t *summary = NULL;
    nx_err e;
    int rc = demo_fill(&app, &o, &summary, &e);
    if (rc) {
        fprintf(stderr, "nuanxin: 生成演示数据失败：%s\n", e.msg);
    } else {
        printf("演示社区已生成：");
        const char *k;
        json_t *val;
        json_object_foreach(summary, k, val) {
            if (json_is_integer(val))
                printf(" %s=%lld", k, (long long)json_integer_value(val));
        }
        printf("\n\n演示账号（%s）：\n", o.password && *o.password ? "密码来自 NX_DEMO_PASSWORD"
                                                                     : "每个账号的密码只显示这一次，请记下");
        size_t i;
        json_t *acc;
        json_array_foreach(json_object_get(summary, "accounts"), i, acc) {
            printf("  %-10s %-8s %-12s 密码 %s\n", json_string_value(json_object_get(acc, "username")),
                   json_string_value(json_object_get(acc, "role")),
                   json_string_value(json_object_get(acc, "display_name")),
                   json_string_value(json_object_get(acc, "password")));
        }
    }
    json_decref(summary);
    cli_close_app(&app);
    return rc ? 1 : 0;
}

/* The one FILE argument of backup and restore, or NULL with the usage printed. */
static const char *file_arg(int argc, char **argv, const char *cmd)
{
    const char *file = NULL;
    int n = 0;
    if (cli_flags_parse(NULL, 0, argc, argv, 1, &file, 1, &n))
        return NULL;
    if (n < 1)
        fprintf(stderr, "用法：nuanxin %s FILE\n", cmd);
    return file;
}

static int cmd_restore(int argc, char **argv)
{
    const char *file = file_arg(argc, argv, "restore");
    if (file == NULL)
        return 2;
    nx_err e;
    int rc = store_restore(nx_cfg.database, file, &e);
    char shown_db[1100];
    config_redact_url(nx_cfg.database, shown_db, sizeof shown_db);
    if (rc)
        fprintf(stderr, "nuanxin: 恢复失败：%s\n", e.msg);
    else
        printf("已从 %s 恢复数据库 %s\n", file, shown_db);
    return rc ? 1 : 0;
}

static void print_route(const char *method, const char *pattern, unsigned flags, void *ctx)
{
    (void)ctx;
    printf("%s %s%s\n", method, pattern, (flags & HTTP_PUBLIC) ? " public" : "");
}

/* `nuanxin routes`: every registered route, one per line (the OpenAPI conformance test reads it). */
static int cmd_routes(void)
{
    http_options ho = {.listen = "127.0.0.1:0", .max_body = 1024, .max_upload = 1024, .max_header = 8192,
                       .request_arena = 1 << 20, .max_connections = 4};
    http_server *srv;
    nx_err e;
    nx_app app = {.cfg = &nx_cfg};
    if (http_server_new(&ho, &srv, &e)) {
        fprintf(stderr, "nuanxin: %s\n", e.msg);
        return 1;
    }
    cli_register_routes(srv, &app);
    http_routes_each(srv, print_route, NULL);
    http_server_free(srv);
    return 0;
}

int main(int argc, char **argv)
{
    config_defaults(&nx_cfg);
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("nuanxin %s\n", NX_VERSION);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int rc = apply_flags(&argc, argv, true);
    if (rc)
        return rc;
    nx_err e;
    if (config_load_file_env(&nx_cfg, &e)) {
        fprintf(stderr, "nuanxin: 配置错误：%s\n", e.msg);
        return 2;
    }
    if ((rc = apply_flags(&argc, argv, false)))
        return rc;
    config_resolve(&nx_cfg);
    nx_log_threshold = nx_log_level_parse(nx_cfg.log_level);
    /* find the command: the first argument that is not an option */
    int ci = 1;
    while (ci < argc && argv[ci][0] == '-')
        ci++;
    if (ci >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[ci];
    /* One-shot commands talk to a person: only warnings and errors, unless debugging. */
    if (strcmp(cmd, "serve") != 0 && nx_log_threshold == LOG_INFO)
        nx_log_threshold = LOG_WARN;
    argv[ci] = argv[0];
    argc -= ci;
    argv += ci;
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc, argv);
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc, argv);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc, argv);
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate(argc, argv);
    if (strcmp(cmd, "user") == 0)
        return cmd_user(argc, argv);
    if (strcmp(cmd, "visits") == 0)
        return cmd_visits(argc, argv);
    if (strcmp(cmd, "device") == 0)
        return cmd_device(argc, argv);
    if (strcmp(cmd, "simulate") == 0)
        return cmd_simulate(argc, argv);
    if (strcmp(cmd, "backup") == 0)
        return cmd_backup(argc, argv);
    if (strcmp(cmd, "doctor") == 0)
        return cmd_doctor(argc, argv);
    if (strcmp(cmd, "upgrade") == 0)
        return cmd_upgrade(argc, argv);
    if (strcmp(cmd, "restore") == 0)
        return cmd_restore(argc, argv);
    if (strcmp(cmd, "routes") == 0)
        return cmd_routes();
    if (strcmp(cmd, "config") == 0) {
        config_dump(&nx_cfg);
        return 0;
    }
    fprintf(stderr, "nuanxin: 未知命令 %s（nuanxin --help 查看用法）\n", cmd);
    return 2;
}
