/* trace.h — stage timestamps along the alarm's path, for measuring where an SOS waits.
 *
 * Off unless the environment names a file: NX_SOS_TRACE=/path makes every trace_mark append one line
 * "STAGE KEY MICROSECONDS THREAD" (monotonic µs; one write(2) per line on an O_APPEND descriptor, so
 * lines of different threads never mix). bench/sos_trace.py joins the lines of one alarm: the gateway's
 * stages are keyed by the alarm's token until its commit names the alert, the live stream's by the
 * outbox event. Off, a mark costs one load of a flag. Never used for anything but measurement: no
 * personal data, only stage names and numbers. */
#ifndef NX_BASE_TRACE_H
#define NX_BASE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/* Open the trace file named by NX_SOS_TRACE, if any (once, at start-up, before threads). */
void trace_init(void);
/* Whether tracing is on. */
bool trace_on(void);
/* Monotonic microseconds. */
int64_t trace_now_us(void);
/* Record stage (a literal) for key (and a second number, 0 when none), with the current time. */
void trace_mark(const char *stage, int64_t key, int64_t value);

#endif
