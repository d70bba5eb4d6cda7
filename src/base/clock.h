/* clock.h — time as nuanxin keeps it: epoch milliseconds UTC in storage; dates shown and reasoned
 * about in Asia/Shanghai (UTC+8 all year, no daylight saving), since that is where a community's
 * "today" and a resident's birthday are. Civil-date arithmetic is pure and thread-safe. */
#ifndef NX_BASE_CLOCK_H
#define NX_BASE_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define NX_TZ_OFFSET_MS (8LL * 3600 * 1000)

typedef struct nx_date {
    int y, m, d;
} nx_date;

int64_t clock_now_ms(void);  /* wall clock, UTC ms; can be pinned for tests */
int64_t clock_mono_ms(void); /* monotonic ms, for durations and timeouts */

/* The instant ms milliseconds from now on clock clk, for the timed waits of pthreads:
 * CLOCK_MONOTONIC for condition variables made by clock_cond_init (and pthread_cond_clockwait),
 * CLOCK_REALTIME where POSIX leaves no choice (pthread_mutex_timedlock). */
struct timespec clock_deadline(clockid_t clk, int64_t ms);
/* Initialise cv so that pthread_cond_timedwait measures its deadline on CLOCK_MONOTONIC: a change of
 * the wall clock can neither stretch nor cut a wait. Returns pthread_cond_init's result. */
int clock_cond_init(pthread_cond_t *cv);
double clock_mono_sec(void);
/* Pin the wall clock (tests and demo generation); 0 returns to the real clock. */
void clock_pin_ms(int64_t ms);

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t date_to_days(nx_date d);
nx_date date_from_days(int64_t days);
bool date_valid(int y, int m, int d);
/* Parse "YYYY-MM-DD" strictly. 0 or NX_EINVAL. */
int date_parse(const char *s, nx_date *out);
/* Write "YYYY-MM-DD" into out[11]. */
void date_format(nx_date d, char out[11]);
/* Today in Shanghai. */
nx_date date_today(void);
/* Whole years from birth to on (birthday not yet reached this year does not count). */
int date_age(nx_date birth, nx_date on);
/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmm+08:00" (ISO 8601, Shanghai) into out[30]. */
void clock_format_local(int64_t ms, char out[30]);
/* Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out[25]. */
void clock_format_utc(int64_t ms, char out[25]);

#endif
