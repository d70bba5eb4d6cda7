/* demo_library.h — the neighbourhood library's part of `nuanxin demo` (demo_library.c). */
#ifndef NX_CLI_DEMO_LIBRARY_H
#define NX_CLI_DEMO_LIBRARY_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Fill the demo community's library: three reader categories (普通读者, 长者, 少儿), about three
 * hundred titles (most with a valid ISBN-13, some entered by hand), one or two shelf copies each, a
 * few dozen drifting copies from recorded donations, half a year of loan history with some loans
 * still out (a few overdue, so some readers are blocked), holds waiting and one copy on the hold
 * shelf; the resident account's own person (self_resident) has loans and a hold. Rows are written
 * directly in one write transaction (history, not actions: no events), with times counted back from
 * now. Deterministic for a seed (and the day). Adds "books", "book_copies", "drifting_copies" and
 * "book_loans" to summary. Returns 0 or the first error (nothing written then). Blocking, well under
 * a second. */
int demo_library_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary,
                      nx_err *e);

#endif
