/* visits.c — `nuanxin visits schedule [--now ISO]`: run the visit scheduler once (for cron and
 * tests), printing its report as JSON. --now takes "YYYY-MM-DD" (midnight in Shanghai) or
 * "YYYY-MM-DDTHH:MM[:SS]" with an optional "Z" or "+HH:MM"/"-HH:MM" offset (Shanghai when absent);
 * it pins the scheduler's notion of now, nothing else. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/str.h"
#include "cli/flags.h"
#include "modules/visits/visits.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int two(const char *s, int *out)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return -1;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return 0;
}

/* Parse --now; 0 or -1. */
static int parse_now(const char *s, int64_t *out)
{
    char date[11];
    nx_date d;
    if (strlen(s) < 10)
        return -1;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (date_parse(date, &d))
        return -1;
    int h = 0, m = 0, sec = 0;
    int64_t offset = NX_TZ_OFFSET_MS;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (two(p, &h) || p[2] != ':' || two(p + 3, &m))
            return -1;
        p += 5;
        if (*p == ':') {
            if (two(p + 1, &sec))
                return -1;
            p += 3;
        }
        if (h > 23 || m > 59 || sec > 59)
            return -1;
        if (*p == 'Z') {
            offset = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            if (two(p + 1, &oh) || p[3] != ':' || two(p + 4, &om) || oh > 14 || om > 59)
                return -1;
            offset = (*p == '+' ? 1 : -1) * ((int64_t)oh * 3600 + om * 60) * 1000;
            p += 6;
        }
    }
    if (*p != '\0')
        return -1;
    *out = (date_to_days(d) * 86400LL + h * 3600LL + m * 60LL + sec) * 1000LL - offset;
    return 0;
}

int cmd_visits(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "schedule") != 0) {
        fprintf(stderr, "用法：nuanxin visits schedule [--now YYYY-MM-DD[THH:MM[:SS][Z|+08:00]]]\n");
        return 2;
    }
    int64_t now = clock_now_ms();
    const char *at = NULL;
    cli_flag flags[] = {CLI_STR("--now", &at, "当作此时运行 run as if it were this time (Shanghai unless given)")};
    if (cli_flags_parse(flags, 1, argc, argv, 2, NULL, 0, NULL))
        return 2;
    if (at && parse_now(at, &now)) {
        fprintf(stderr, "nuanxin: --now 应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]\n");
        return 2;
    }
    nx_app app;
    if (cli_open_app(&app, false, true))
        return 1;
    nx_err e;
    nx_err_clear(&e);
    json_t *report = NULL;
    int rc = visits_schedule(&app, now, &report, &e);
    if (rc) {
        fprintf(stderr, "nuanxin: 走访调度失败：%s\n", e.msg);
    } else {
        char *s = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS);
        printf("%s\n", s ? s : "{}");
        free(s);
    }
    json_decref(report);
    cli_close_app(&app);
    return rc ? 1 : 0;
}
