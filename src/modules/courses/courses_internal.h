/* courses_internal.h — helpers shared by the courses module's own files (never included from
 * outside src/modules/courses/). */
#ifndef NX_MODULES_COURSES_INTERNAL_H
#define NX_MODULES_COURSES_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "modules/courses/courses.h"
#include "store/query.h"

typedef struct course_row {
    int64_t id, community_id, capacity, enrolled, min_age, max_age, prereg_until, newcomer_quota, lottery_at;
    bool residents_only, has_min, has_max;
    char status[16], mode[16];
} course_row;

/* Load course id visible to who on tx. NX_ENOTFOUND "课程不存在". */
int courses_load(store_tx *tx, const nx_principal *who, int64_t id, course_row *c, nx_err *e);
/* Begin a transaction of mode (STORE_READ, STORE_WRITE) and load course id visible to who into *c;
 * on failure nothing is left open. */
int courses_open(nx_app *app, int mode, const nx_principal *who, int64_t id, store_tx **tx, course_row *c, nx_err *e);
/* Whether who manages courses of community c. */
bool courses_manages(const nx_principal *who, store_tx *tx, int64_t community_id);

#endif
