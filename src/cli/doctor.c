/* doctor.c — `nuanxin doctor` and `nuanxin upgrade`: the two commands an installation's helper runs.
 *
 * doctor checks what makes a box fail at night — configuration, the key file's and data's
 * permissions, free disk, the clock, TLS cookies when listening beyond loopback, the open-files
 * limit against the gateway's target, the database and its migrations, the age of the last backup —
 * and prints one line per check: 正常 / 警告 / 错误, what it saw, and what to do. It changes nothing.
 * The exit status is 0 when no check is an error (warnings allowed), 1 otherwise, so scripts and
 * the package's tests can rely on it.
 *
 * upgrade is what the Debian package's postinst runs after a new binary is unpacked: it takes a
 * verified backup into the backup directory first (always: an upgrade is the moment for one), then
 * migrates (every pending migration in one transaction: store_migrate). A failed migration leaves
 * the database exactly as it was — the previous version still opens it — and the message says where
 * the backup is and how to go back. A database newer than the binary (a downgrade) is refused
 * before anything is touched. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/str.h"
#include "cli/flags.h"
#include "modules/people/people.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

enum { OK, WARN, FAIL };

typedef struct report {
    int warnings, errors;
} report;

/* One line: the verdict, the check's name, what was seen and (for a problem) what to do. */
static void line(report *r, int level, const char *check, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void line(report *r, int level, const char *check, const char *fmt, ...)
{
    static const char *const words[] = {"正常", "警告", "错误"};
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("[%s] %-10s %s\n", words[level], check, msg);
    if (level == WARN)
        r->warnings++;
    else if (level == FAIL)
        r->errors++;
}

/* Is path inside dir (textually, after the directory's own prefix)? */
static bool inside(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static void check_config(report *r)
{
    if (nx_cfg.config_file[0] && access(nx_cfg.config_file, R_OK) == 0)
        line(r, OK, "配置", "配置文件 %s 可读且有效", nx_cfg.config_file);
    else
        line(r, OK, "配置", "未使用配置文件（默认值与 NUANXIN_* 环境变量）");
    if (nx_cfg.web_root[0]) {
        char index[600];
        snprintf(index, sizeof index, "%s/index.html", nx_cfg.web_root);
        if (access(index, R_OK) == 0)
            line(r, OK, "网页", "网页目录 %s", nx_cfg.web_root);
        else
            line(r, WARN, "网页", "网页目录 %s 中没有 index.html：浏览器只能看到接口。请构建网页（make web）或设置 "
                                  "web_root",
                 nx_cfg.web_root);
    }
}

static void check_key(report *r)
{
    struct stat st;
    if (stat(nx_cfg.key_file, &st) != 0) {
        line(r, FAIL, "密钥文件", "%s 不存在或无法访问（%s）：个人信息无法解密。请从备份恢复密钥文件，新装请先运行 "
                                  "nuanxin init",
             nx_cfg.key_file, strerror(errno));
        return;
    }
    if (st.st_mode & 077)
        line(r, FAIL, "密钥文件", "%s 的权限是 %03o，其他用户可读。请执行：chmod 600 %s", nx_cfg.key_file,
             (unsigned)(st.st_mode & 0777), nx_cfg.key_file);
    else if (st.st_uid != geteuid())
        line(r, WARN, "密钥文件", "%s 不属于运行 nuanxin 的用户（uid %u，文件属于 uid %u）。请执行：chown 该用户 %s",
             nx_cfg.key_file, (unsigned)geteuid(), (unsigned)st.st_uid, nx_cfg.key_file);
    else if (access(nx_cfg.key_file, R_OK) != 0)
        line(r, FAIL, "密钥文件", "%s 不可读", nx_cfg.key_file);
    else if (inside(nx_cfg.key_file, nx_cfg.data_dir))
        line(r, WARN, "密钥文件", "%s 与数据库在同一目录：拿到数据目录（或它的备份）的人也拿到了密钥。建议移到 "
                                  "/etc/nuanxin/ 并设置 key_file",
             nx_cfg.key_file);
    else
        line(r, OK, "密钥文件", "%s 权限 0600，与数据分开存放", nx_cfg.key_file);
}

static void check_data(report *r)
{
    struct stat st;
    if (stat(nx_cfg.data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        line(r, FAIL, "数据目录", "%s 不存在。请运行 nuanxin init，或检查 --data / data 设置", nx_cfg.data_dir);
        return;
    }
    if (access(nx_cfg.data_dir, W_OK) != 0)
        line(r, FAIL, "数据目录", "%s 不可写：上传和数据库都会失败。请检查属主与权限", nx_cfg.data_dir);
    else if (st.st_mode & 007)
        line(r, WARN, "数据目录", "%s 的权限是 %03o，其他用户可进入。建议：chmod 750 %s", nx_cfg.data_dir,
             (unsigned)(st.st_mode & 0777), nx_cfg.data_dir);
    else
        line(r, OK, "数据目录", "%s 可写，其他用户不可访问", nx_cfg.data_dir);
    struct statvfs vf;
    if (statvfs(nx_cfg.data_dir, &vf) == 0) {
        double free_mb = (double)vf.f_bavail * (double)vf.f_frsize / (1024.0 * 1024.0);
        if (free_mb < 200)
            line(r, FAIL, "磁盘", "数据目录所在磁盘只剩 %.0f MiB：数据库写入和备份即将失败。请清理磁盘或扩容", free_mb);
        else if (free_mb < 1024)
            line(r, WARN, "磁盘", "数据目录所在磁盘只剩 %.0f MiB，请尽快清理或扩容", free_mb);
        else
            line(r, OK, "磁盘", "可用 %.1f GiB", free_mb / 1024.0);
    }
}

static void check_clock(report *r)
{
    int64_t now = clock_now_ms();
    if (now < 1704067200000LL) /* 2024-01-01 */
        line(r, FAIL, "时钟", "系统时间早于 2024 年：走访到期、津贴年龄和备份轮换都会算错。请校准时间（timedatectl "
                              "set-ntp true）");
    else
        line(r, OK, "时钟", "系统时间看起来合理（请确保已开启 NTP 同步：timedatectl）");
}

static void check_network(report *r)
{
    if (!cli_listen_is_loopback(nx_cfg.listen) && !nx_cfg.cookie_secure)
        line(r, WARN, "TLS", "监听 %s 超出本机，但 cookie_secure 未开启：登录 Cookie 可能明文传输。请放在 TLS 反向代理"
                             "（docs/nginx）之后并设置 cookie_secure = true",
             nx_cfg.listen);
    else if (!cli_listen_is_loopback(nx_cfg.listen))
        line(r, OK, "TLS", "监听 %s，cookie_secure 已开启", nx_cfg.listen);
    else
        line(r, OK, "TLS", "只监听本机 %s（由反向代理对外提供 HTTPS）", nx_cfg.listen);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        /* the gateway raises its soft limit to the hard one; beyond the devices, HTTP and the
         * database need descriptors of their own */
        uint64_t need = (uint64_t)nx_cfg.gw_max_connections + (uint64_t)nx_cfg.max_connections + 256;
        uint64_t have = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_max;
        bool gateway = strcmp(nx_cfg.watch_listen, "off") != 0 || strcmp(nx_cfg.iw_listen, "off") != 0;
        if (gateway && have < need)
            line(r, WARN, "打开文件数", "上限 %llu，低于手环网关目标 %lld 个连接所需的 %llu：网关最多约接 %llu 个手环。"
                                       "请在 systemd 服务中设置 LimitNOFILE=%llu（软件包已设为 65536）",
                 (unsigned long long)have, (long long)nx_cfg.gw_max_connections, (unsigned long long)need,
                 (unsigned long long)(have > 512 ? have - 512 : 0), (unsigned long long)need);
        else
            line(r, OK, "打开文件数", "上限 %llu", (unsigned long long)have);
    }
}

/* The database, its migrations and the backup notes; NULL-safe on a store that does not open. */
static void check_database(report *r, int64_t max_backup_age_h)
{
    store *s = NULL;
    nx_err e;
    nx_err_clear(&e);
    store_options so = {.busy_ms = (int)nx_cfg.db_busy_ms, .pool = 1, .readers = 1};
    char shown[1100];
    config_redact_url(nx_cfg.database, shown, sizeof shown);
    if (store_open(nx_cfg.database, &so, &s, &e) != 0) {
        line(r, FAIL, "数据库", "无法打开 %s：%s。请检查 database 设置与数据库服务", shown, e.msg);
        return;
    }
    int version = 0, newest = 0;
    if (store_schema_version(s, &version, &e) != 0 || store_schema_newest(s, &newest, &e) != 0) {
        line(r, FAIL, "数据库", "%s 无法读取：%s", shown, e.msg);
        store_close(s);
        return;
    }
    if (version == 0)
        line(r, FAIL, "数据库", "%s 是空的。请运行 nuanxin init", shown);
    else if (version > newest)
        line(r, FAIL, "数据库", "结构版本 %d 高于本程序支持的 %d：这是更新版本的数据。请安装新版 nuanxin，不要降级", version,
             newest);
    else if (version < newest)
        line(r, WARN, "数据库", "结构版本 %d，本程序为 %d：请运行 nuanxin upgrade（先备份再迁移）", version, newest);
    else if (store_check(s, &e) != 0)
        line(r, FAIL, "数据库", "完整性检查失败：%s。请从最近的备份恢复（nuanxin restore）", e.msg);
    else
        line(r, OK, "数据库", "%s（%s，结构版本 %d）", shown, store_backend(s), version);

    store_tx *tx;
    char *last_ok = NULL, *last_at = NULL, *last_err = NULL, *file = NULL;
    if (version > 0 && store_begin(s, STORE_READ, &tx, &e) == 0) {
        static const char q[] = "SELECT value FROM nx_meta WHERE key = $1";
        store_one_text(tx, q, (store_param[]){P_TEXT("backup_last_ok_at")}, 1, &last_ok, NULL);
        store_one_text(tx, q, (store_param[]){P_TEXT("backup_last_at")}, 1, &last_at, NULL);
        store_one_text(tx, q, (store_param[]){P_TEXT("backup_last_error")}, 1, &last_err, NULL);
        store_one_text(tx, q, (store_param[]){P_TEXT("backup_last_file")}, 1, &file, NULL);
        store_rollback(tx);
    }
    int64_t ok_at = last_ok ? strtoll(last_ok, NULL, 10) : 0, at = last_at ? strtoll(last_at, NULL, 10) : 0;
    double age_h = ok_at ? (double)(clock_now_ms() - ok_at) / 3600000.0 : -1;
    if (at > ok_at && last_err && *last_err)
        line(r, FAIL, "备份", "最近一次自动备份失败：%s。请查看 journalctl -u nuanxin-backup", last_err);
    else if (ok_at == 0)
        line(r, WARN, "备份", "还没有自动备份的记录。请启用 nuanxin-backup.timer，或手动运行 nuanxin backup --dir 目录");
    else if (age_h > (double)max_backup_age_h)
        line(r, WARN, "备份", "最近一次成功备份在 %.0f 小时前（%s）。请检查 nuanxin-backup.timer", age_h, file ? file : "");
    else
        line(r, OK, "备份", "最近一次成功备份在 %.1f 小时前：%s", age_h, file ? file : "");
    free(last_ok);
    free(last_at);
    free(last_err);
    free(file);
    store_close(s);
}

int cmd_doctor(int argc, char **argv)
{
    int64_t max_age = 36;
    cli_flag flags[] = {CLI_INT("--backup-max-age-hours", &max_age, 1, 24 * 365, NULL,
                                "最近一次备份最多可以是多少小时前 (36)")};
    if (cli_flags_parse(flags, 1, argc, argv, 1, NULL, 0, NULL))
        return 2;
    report r = {0};
    printf("nuanxin %s 自检（数据目录 %s）\n", NX_VERSION, nx_cfg.data_dir);
    check_config(&r);
    check_data(&r);
    check_key(&r);
    check_clock(&r);
    check_network(&r);
    check_database(&r, max_age);
    printf("结论：%d 个错误，%d 个警告\n", r.errors, r.warnings);
    return r.errors ? 1 : 0;
}

int cmd_upgrade(int argc, char **argv)
{
    const char *dir = NULL;
    cli_flag flags[] = {CLI_STR("--backup-dir", &dir, "迁移前的备份放在哪里 (<data>/backups)")};
    if (cli_flags_parse(flags, 1, argc, argv, 1, NULL, 0, NULL))
        return 2;
    char dflt[600];
    if (dir == NULL) {
        snprintf(dflt, sizeof dflt, "%s/backups", nx_cfg.data_dir);
        dir = dflt;
    }
    nx_app app;
    if (cli_open_app(&app, false, false))
        return 1;
    nx_err e;
    nx_err_clear(&e);
    int version = 0, newest = 0;
    int rc = store_schema_version(app.db, &version, &e);
    if (rc == 0)
        rc = store_schema_newest(app.db, &newest, &e);
    if (rc) {
        fprintf(stderr, "nuanxin: 无法读取数据库版本：%s\n", e.msg);
        cli_close_app(&app);
        return 1;
    }
    if (version > newest) {
        fprintf(stderr, "nuanxin: 数据库结构版本 %d 高于本程序支持的 %d：不能降级。请重新安装原来（或更新）版本的 "
                        "nuanxin；数据未做任何改动\n",
                version, newest);
        cli_close_app(&app);
        return 1;
    }
    cli_close_app(&app);
    /* the backup, by the same command the timer runs (named, verified, recorded) — also when there
     * is nothing to migrate: an upgrade of the program is the moment to have one */
    char *bargv[] = {"backup", "--dir", (char *)dir, NULL};
    if (cmd_backup(3, bargv) != 0) {
        fprintf(stderr, "nuanxin: 升级前备份失败，未迁移；数据库保持结构版本 %d\n", version);
        return 1;
    }
    if (version == newest) {
        printf("数据库已是最新（结构版本 %d），无需迁移\n", version);
        return 0;
    }
    if (cli_open_app(&app, false, false))
        return 1;
    int applied = 0;
    rc = store_migrate(app.db, &applied, &e);
    int64_t rekeyed = 0;
    if (rc == 0)
        rc = people_tails_rekey(&app, &rekeyed, &e);
    cli_close_app(&app);
    if (rc) {
        fprintf(stderr,
                "nuanxin: 迁移失败：%s\n数据库未被改动，仍是结构版本 %d，旧版本的 nuanxin 可以照常打开它。\n"
                "迁移前的备份在 %s（最新的 nuanxin-*.db / *.dump）。回退：重新安装旧版本的软件包"
                "（apt install nuanxin=旧版本号）后启动服务即可；如数据有损，用 nuanxin restore 备份文件 恢复。\n",
                e.msg, version, dir);
        return 1;
    }
    printf("已从结构版本 %d 升级到 %d（应用 %d 个迁移），迁移前的备份在 %s\n", version, newest, applied, dir);
    return 0;
}
