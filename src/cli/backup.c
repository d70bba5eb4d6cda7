/* backup.c — `nuanxin backup`: one online backup to a named file, or the nightly backup that the
 * systemd timer runs (`--dir`): a new file named by the time, checked by opening it as a restore
 * would (store_backup_verify), then the directory rotated, and the outcome recorded in the database
 * (nx_meta backup_*) where the console's health card and `nuanxin doctor` read it.
 *
 * Rotation keeps the newest backup of each of the last D days, W ISO weeks and M months that have a
 * backup (grandfather-father-son; 7, 4 and 12 by default): a file is kept when any of the three
 * keeps it. Only names of the form nuanxin-YYYYMMDD-HHMMSS.db|.dump are ever deleted, so nothing
 * else in the directory is touched. The plan is a pure function of the names (backup_rotate_plan),
 * tested without a clock. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "base/vec.h"
#include "cli/flags.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Parse "nuanxin-YYYYMMDD-HHMMSS.db" / ".dump" into its date; false for any other name. */
static bool backup_name_date(const char *name, int *y, int *m, int *d)
{
    static const char prefix[] = "nuanxin-";
    size_t n = strlen(name);
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *p = name + sizeof prefix - 1;
    size_t rest = n - (sizeof prefix - 1);
    if (rest < 15 + 3)
        return false;
    for (int i = 0; i < 15; i++)
        if (i == 8 ? p[i] != '-' : (p[i] < '0' || p[i] > '9'))
            return false;
    if (strcmp(p + 15, ".db") != 0 && strcmp(p + 15, ".dump") != 0)
        return false;
    *y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
    *m = (p[4] - '0') * 10 + (p[5] - '0');
    *d = (p[6] - '0') * 10 + (p[7] - '0');
    return *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31;
}

/* The ISO-8601 week of a date as year * 100 + week. */
static int iso_week(int y, int m, int d)
{
    struct tm t = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    time_t s = timegm(&t);
    struct tm u;
    gmtime_r(&s, &u);
    char buf[16];
    strftime(buf, sizeof buf, "%G%V", &u);
    return (int)strtol(buf, NULL, 10);
}

static int by_name_desc(const void *a, const void *b)
{
    return strcmp(*(const char *const *)b, *(const char *const *)a);
}

void backup_rotate_plan(const char **names, size_t n, int keep_daily, int keep_weekly, int keep_monthly,
                        bool *keep)
{
    /* newest first: the name's timestamp sorts as text */
    const char **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (sorted == NULL) { /* no memory: delete nothing */
        for (size_t i = 0; i < n; i++)
            keep[i] = true;
        return;
    }
    memcpy(sorted, names, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_name_desc);
    int last_day = -1, last_week = -1, last_month = -1, days = 0, weeks = 0, months = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = 0;
        while (names[i] != sorted[k])
            i++;
        int y, m, d;
        if (!backup_name_date(names[i], &y, &m, &d)) {
            keep[i] = true; /* not ours: never deleted */
            continue;
        }
        int day = y * 10000 + m * 100 + d, week = iso_week(y, m, d), month = y * 100 + m;
        bool k_ = false;
        if (day != last_day && days < keep_daily) {
            days++;
            last_day = day;
            k_ = true;
        }
        if (week != last_week && weeks < keep_weekly) {
            weeks++;
            last_week = week;
            k_ = true;
        }
        if (month != last_month && months < keep_monthly) {
            months++;
            last_month = month;
            k_ = true;
        }
        keep[i] = k_;
    }
    free(sorted);
}

/* Record the outcome of a backup run in nx_meta (best effort: a database that cannot take the
 * note is reported by the caller anyway). */
static void record(nx_app *app, const char *file, const char *error)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)clock_now_ms());
    static const char upsert[] =
        "INSERT INTO nx_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    store_tx *tx;
    nx_err e;
    if (store_begin(app->db, STORE_WRITE, &tx, &e) != 0)
        return;
    int rc = store_exec(tx, upsert, (store_param[]){P_TEXT("backup_last_at"), P_TEXT(now)}, 2, NULL, &e);
    if (rc == 0)
        rc = store_exec(tx, upsert, (store_param[]){P_TEXT("backup_last_error"), P_TEXT(error ? error : "")}, 2,
                        NULL, &e);
    if (rc == 0 && error == NULL) {
        rc = store_exec(tx, upsert, (store_param[]){P_TEXT("backup_last_ok_at"), P_TEXT(now)}, 2, NULL, &e);
        if (rc == 0)
            rc = store_exec(tx, upsert, (store_param[]){P_TEXT("backup_last_file"), P_TEXT(file)}, 2, NULL, &e);
    }
    if (rc == 0)
        store_commit(tx, &e);
    else
        store_rollback(tx);
}

/* Delete the backups of dir the plan does not keep; the number deleted, or -1 when dir cannot be
 * read. */
static int rotate(const char *dir, int kd, int kw, int km)
{
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return -1;
    vec names;
    vec_init(&names, sizeof(char *), 100000);
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        int y, m, d;
        if (!backup_name_date(de->d_name, &y, &m, &d))
            continue;
        char *copy = strdup(de->d_name);
        if (copy == NULL || vec_push(&names, &copy) != 0) {
            free(copy);
            break;
        }
    }
    closedir(dp);
    size_t n = names.len;
    char **list = names.items;
    bool *keep = calloc(n ? n : 1, sizeof *keep);
    int deleted = 0;
    if (keep) {
        backup_rotate_plan((const char **)list, n, kd, kw, km, keep);
        for (size_t i = 0; i < n; i++) {
            if (keep[i])
                continue;
            char path[1200];
            snprintf(path, sizeof path, "%s/%s", dir, list[i]);
            if (unlink(path) == 0)
                deleted++;
            else
                nx_log(LOG_WARN, "backup.rotate_failed file=%s errno=%d", list[i], errno);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(keep);
    vec_cleanup(&names);
    return deleted;
}

int cmd_backup(int argc, char **argv)
{
    const char *dir = NULL, *pos[1] = {NULL};
    int64_t kd = 7, kw = 4, km = 12;
    cli_flag flags[] = {
        CLI_STR("--dir", &dir, "备份目录：按时间命名、校验、轮换 nightly backup into DIR"),
        CLI_INT("--keep-daily", &kd, 1, 3650, NULL, "保留最近几天各一份 (7)"),
        CLI_INT("--keep-weekly", &kw, 0, 520, NULL, "保留最近几周各一份 (4)"),
        CLI_INT("--keep-monthly", &km, 0, 1200, NULL, "保留最近几个月各一份 (12)"),
    };
    int npos = 0;
    if (cli_flags_parse(flags, 4, argc, argv, 1, pos, 1, &npos))
        return 2;
    if ((npos == 1) == (dir != NULL)) {
        fprintf(stderr, "用法：nuanxin backup FILE | nuanxin backup --dir DIR [--keep-daily 7] [--keep-weekly 4] "
                        "[--keep-monthly 12]\n");
        return 2;
    }
    if (dir && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "nuanxin: 无法创建备份目录 %s：%s\n", dir, strerror(errno));
        return 1;
    }
    nx_app app;
    if (cli_open_app(&app, false, false))
        return 1;
    char file[1100];
    if (dir) {
        /* Named by the second. A backup already made in this second (a manual run beside the timer,
         * an upgrade retried at once) is never overwritten: this one waits for the next second. */
        for (int tries = 0;; tries++) {
            int64_t ms = clock_now_ms();
            time_t now = (time_t)(ms / 1000);
            struct tm t;
            gmtime_r(&now, &t);
            char stamp[32];
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &t);
            snprintf(file, sizeof file, "%s/nuanxin-%s.%s", dir, stamp,
                     strcmp(store_backend(app.db), "postgres") == 0 ? "dump" : "db");
            if (tries == 2 || access(file, F_OK) != 0)
                break;
            usleep((useconds_t)(1000 - ms % 1000 + 5) * 1000);
        }
    } else {
        str_copy(file, pos[0], sizeof file);
    }
    nx_err e;
    nx_err_clear(&e);
    int rc = store_backup(app.db, file, &e);
    if (rc == 0 && (rc = store_backup_verify(nx_cfg.database, file, &e)) != 0)
        unlink(file); /* a backup that would not restore is not a backup */
    if (rc) {
        fprintf(stderr, "nuanxin: 备份失败：%s\n", e.msg);
        nx_log(LOG_ERROR, "backup.failed reason=%s", e.msg);
        if (dir)
            record(&app, file, e.msg);
        cli_close_app(&app);
        return 1;
    }
    printf("已备份到 %s 并已校验（密钥文件 %s 需另行妥善备份）\n", file, nx_cfg.key_file);
    if (dir) {
        record(&app, file, NULL);
        int deleted = rotate(dir, (int)kd, (int)kw, (int)km);
        if (deleted < 0)
            fprintf(stderr, "nuanxin: 警告：无法读取备份目录 %s，未轮换\n", dir);
        else if (deleted > 0)
            printf("已按保留规则（%lld 天、%lld 周、%lld 月）删除 %d 份旧备份\n", (long long)kd, (long long)kw,
                   (long long)km, deleted);
    }
    cli_close_app(&app);
    return 0;
}
