/* test_backup_rotate.c — the nightly backup's rotation plan (cli/backup.c) on names alone: the newest
 * backup of each of the last D days, W ISO weeks and M months is kept, several backups of one day
 * keep only the newest, and names that are not nuanxin backups are never deleted. */
#include "cli/cli.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* n daily backups at 02:30 going back from 2026-12-06, newest first (day i = 6 Dec minus i days). */
static const char **daily(int n)
{
    const char **names = calloc((size_t)n, sizeof *names);
    for (int i = 0; i < n; i++) {
        struct tm t = {.tm_year = 126, .tm_mon = 11, .tm_mday = 6 - i, .tm_hour = 2, .tm_min = 30};
        time_t s = timegm(&t);
        struct tm u;
        gmtime_r(&s, &u);
        char *name = malloc(40);
        strftime(name, 40, "nuanxin-%Y%m%d-%H%M%S.db", &u);
        names[i] = name;
    }
    return names;
}

static int kept(const char **names, const bool *keep, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return keep[i];
    return -1;
}

static void test_a_year_of_nights(void)
{
    int n = 400;
    const char **names = daily(n);
    bool *keep = calloc((size_t)n, sizeof *keep);
    backup_rotate_plan(names, (size_t)n, 7, 4, 12, keep);
    int total = 0;
    for (int i = 0; i < n; i++)
        total += keep[i];
    /* 7 days; weeks and months mostly overlap the newest days: the union is at most 7 + 4 + 12 */
    CHECK(total <= 23);
    CHECK(total >= 12);
    for (int i = 0; i < 7; i++)
        CHECK(keep[i]); /* the last seven nights */
    CHECK_INT(kept(names, keep, n, "nuanxin-20261129-023000.db"), 1); /* newest of the ISO week before (Sun) */
    CHECK_INT(kept(names, keep, n, "nuanxin-20261130-023000.db"), 1); /* within the last 7 days */
    CHECK_INT(kept(names, keep, n, "nuanxin-20261128-023000.db"), 0); /* same week as 29 Nov, older */
    CHECK_INT(kept(names, keep, n, "nuanxin-20261031-023000.db"), 1); /* newest of October */
    CHECK_INT(kept(names, keep, n, "nuanxin-20261030-023000.db"), 0);
    CHECK_INT(kept(names, keep, n, "nuanxin-20260131-023000.db"), 1); /* 12th month back */
    CHECK_INT(kept(names, keep, n, "nuanxin-20251231-023000.db"), 0); /* 13th month: gone */
    for (int i = 0; i < n; i++)
        free((char *)names[i]);
    free(names);
    free(keep);
}

static void test_same_day_and_foreign_names(void)
{
    const char *names[] = {"nuanxin-20261206-010000.db", "nuanxin-20261206-230000.db", "notes.txt",
                           "nuanxin-20261206.db",        "nuanxin-20261205-230000.dump", "nuanxin-20261399-000000.db"};
    bool keep[6];
    backup_rotate_plan(names, 6, 1, 0, 0, keep);
    CHECK(!keep[0]); /* an earlier backup of the same day */
    CHECK(keep[1]);  /* the newest */
    CHECK(keep[2] && keep[3] && keep[5]); /* not ours: never deleted */
    CHECK(!keep[4]); /* the day before, with one day kept */
    backup_rotate_plan(names, 6, 2, 0, 0, keep);
    CHECK(keep[1] && keep[4] && !keep[0]);
}

int main(void)
{
    TEST_RUN(test_a_year_of_nights);
    TEST_RUN(test_same_day_and_foreign_names);
    return TEST_DONE();
}
