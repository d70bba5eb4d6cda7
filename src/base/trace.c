/* trace.c — stage timestamps of the alarm's path (see trace.h).
 *
 * One descriptor opened at start-up and never closed (the process's life); each mark formats its line
 * on the stack and writes it with one write(2), which O_APPEND keeps whole between threads. The flag is
 * set before any thread starts and read without a lock afterwards. */
#include "base/trace.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int trace_fd = -1;

void trace_init(void)
{
    const char *path = getenv("NX_SOS_TRACE");
    if (trace_fd < 0 && path && *path)
        trace_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

bool trace_on(void)
{
    return trace_fd >= 0;
}

int64_t trace_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void trace_mark(const char *stage, int64_t key, int64_t value)
{
    if (trace_fd < 0)
        return;
    long long us = (long long)trace_now_us();
    char name[16] = "";
    prctl(PR_GET_NAME, name, 0, 0, 0);
    for (char *p = name; *p; p++)
        if (*p == ' ')
            *p = '_';
    char line[160];
    int n = snprintf(line, sizeof line, "%s %lld %lld %lld %ld:%s\n", stage, (long long)key, (long long)value, us,
                     (long)syscall(SYS_gettid), name);
    if (n > 0 && (size_t)n < sizeof line && write(trace_fd, line, (size_t)n) < 0)
        return;
}
