/* demo_messages.h — the message module's part of `nuanxin demo` (cli/demo_messages.c). */
#ifndef NX_CLI_DEMO_MESSAGES_H
#define NX_CLI_DEMO_MESSAGES_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Two notices of the community's staff account ("shequ"): one published now to the grid of the
 * demo resident self_resident (so the resident pages have a notice to read, and its receipts an
 * exact unread list), one to the whole community scheduled for tomorrow 09:00. Adds "notices" to
 * summary. Deterministic (no random choice); 0 or the first error. Blocking, a few milliseconds. */
int demo_messages_fill(nx_app *app, int64_t community, int64_t self_resident, json_t *summary, nx_err *e);

#endif
