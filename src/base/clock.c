/* clock.c — see clock.h. Civil-date conversion uses the days-from-civil algorithm on a 400-year
 * era; no libc time-zone state is touched, so it is safe from every thread. */
#include "base/clock.h"

#include "base/err.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t pinned_ms;

int64_t clock_now_ms(void)
{
    int64_t p = atomic_load(&pinned_ms);
    if (p)
        return p;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double clock_mono_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_pin_ms(int64_t ms)
{
    atomic_store(&pinned_ms, ms);
}

int64_t date_to_days(nx_date dt)
{
    int64_t y = dt.y - (dt.m <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (dt.m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + dt.d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

nx_date date_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return (nx_date){(int)(y + (m <= 2)), (int)m, (int)d};
}

bool date_valid(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1)
        return false;
    int max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

int date_parse(const char *s, nx_date *out)
{
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return NX_EINVAL;
    int v[3] = {0, 0, 0};
    const int start[3] = {0, 5, 8}, len[3] = {4, 2, 2};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < len[k]; i++) {
            char c = s[start[k] + i];
            if (c < '0' || c > '9')
                return NX_EINVAL;
            v[k] = v[k] * 10 + (c - '0');
        }
    if (!date_valid(v[0], v[1], v[2]))
        return NX_EINVAL;
    *out = (nx_date){v[0], v[1], v[2]};
    return 0;
}

static void digits(char *out, int v, int n)
{
    if (v < 0)
        v = 0;
    for (int i = n - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

void date_format(nx_date d, char out[11])
{
    digits(out, d.y, 4);
    out[4] = '-';
    digits(out + 5, d.m, 2);
    out[7] = '-';
    digits(out + 8, d.d, 2);
    out[10] = '\0';
}

nx_date date_today(void)
{
    int64_t ms = clock_now_ms() + NX_TZ_OFFSET_MS;
    int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
    return date_from_days(days);
}

int date_age(nx_date b, nx_date on)
{
    int age = on.y - b.y;
    if (on.m < b.m || (on.m == b.m && on.d < b.d))
        age--;
    return age;
}

static void format_ms(int64_t ms, const char *suffix, char *out, size_t n)
{
    int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
    int64_t rem = ms - days * 86400000;
    nx_date d = date_from_days(days);
    size_t sl = strlen(suffix);
    if (d.y < 0 || d.y > 9999 || n < 24 + sl) {
        /* not written by the fast path below: what it writes, or its truncation, for any year */
        snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", d.y % 10000, d.m % 100, d.d % 100,
                 (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000),
                 suffix);
        return;
    }
    /* The same text as the snprintf above, without its format parsing: a resident's detail writes two
     * of these per request (about 3 600 instructions each through snprintf, docs/performance.md). */
    date_format(d, out);
    out[10] = 'T';
    digits(out + 11, (int)(rem / 3600000), 2);
    out[13] = ':';
    digits(out + 14, (int)(rem / 60000 % 60), 2);
    out[16] = ':';
    digits(out + 17, (int)(rem / 1000 % 60), 2);
    out[19] = '.';
    digits(out + 20, (int)(rem % 1000), 3);
    memcpy(out + 23, suffix, sl + 1);
}

void clock_format_local(int64_t ms, char out[30])
{
    format_ms(ms + NX_TZ_OFFSET_MS, "+08:00", out, 30);
}

void clock_format_utc(int64_t ms, char out[25])
{
    format_ms(ms, "Z", out, 25);
}

struct timespec clock_deadline(clockid_t clk, int64_t ms)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int clock_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}
