/* nice.c — see nice.h. */
#include "base/nice.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/log.h"

static int nice_of(int tid, bool *ok)
{
    errno = 0;
    int v = getpriority(PRIO_PROCESS, (id_t)tid);
    *ok = errno == 0;
    return v;
}

bool nice_raise_self(int nice, const char *what)
{
    bool ok;
    int was = nice_of((int)gettid(), &ok);
    if (!ok)
        return false;
    if (was <= nice)
        return true;
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), nice) == 0) {
        nx_log(LOG_INFO, "%s nice=%d", what, nice);
        return true;
    }
    /* no right: the process's priority, which works, only later on a busy box */
    nx_log(LOG_INFO, "%s nice=%d wanted=%d (needs CAP_SYS_NICE or LimitNICE=%d)", what, was, nice, 20 - nice);
    return false;
}

int nice_lend(int tid, int *was)
{
    bool ok;
    int mine = nice_of((int)gettid(), &ok);
    if (!ok)
        return -1;
    int theirs = nice_of(tid, &ok);
    if (!ok)
        return -1;
    if (theirs <= mine)
        return 0;
    if (setpriority(PRIO_PROCESS, (id_t)tid, mine) != 0)
        return -1;
    *was = theirs;
    return 1;
}

void nice_restore(int was)
{
    setpriority(PRIO_PROCESS, (id_t)gettid(), was);
}
