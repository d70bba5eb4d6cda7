/* nice.h — thread priorities for the alarm path (issue 18 item 3).
 *
 * On a box whose cores are busy (an export, a backup, a browser, other processes), a thread that is
 * woken waits for a core behind everything else at the same nice value. The threads an SOS passes
 * through ask for a higher priority (a lower nice value) once, at their start (nice_raise_self), and a
 * thread an alarm must wait for runs at the alarm's priority while it is waited for (nice_lend, then
 * nice_restore in that thread when it is done): priority inheritance with nice values, which the
 * kernel's own priority-inheriting mutexes do not give threads of the normal scheduling class.
 *
 * Lowering a nice value needs CAP_SYS_NICE or an RLIMIT_NICE above 20 - nice (systemd's LimitNICE=30
 * in the packaged unit). Without it nothing changes: the threads run at the process's priority, which
 * works, only later on a busy box. Raising one's own nice value (nice_restore) needs no right.
 * Linux: a thread's nice value is set by its kernel thread id (setpriority(PRIO_PROCESS, tid)). */
#ifndef NX_BASE_NICE_H
#define NX_BASE_NICE_H

#include <stdbool.h>

#define NICE_ALARM (-10) /* the alarm path's threads: the gateway loop, the alarm writer */

/* The calling thread to nice value `nice` when that is lower than its own. Logs at INFO, under
 * `what` (e.g. "gateway.alarm_thread_priority"), what it got. True when the thread runs at `nice`. */
bool nice_raise_self(int nice, const char *what);

/* Lend the calling thread's nice value to thread `tid` when it is lower than tid's present one.
 * Returns 1 when tid now runs at the caller's value, 0 when there was nothing to lend (tid already
 * at that priority or higher), -1 when not allowed or tid is gone. *was: tid's value before (set
 * only when 1 is returned) — which tid goes back to with nice_restore. */
int nice_lend(int tid, int *was);

/* The calling thread back to nice value `was` (after a lend has ended). */
void nice_restore(int was);

#endif
