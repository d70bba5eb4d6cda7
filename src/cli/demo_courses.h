/* demo_courses.h — demo data of the courses and the activity rooms (see demo_courses.c). */
#ifndef NX_CLI_DEMO_COURSES_H
#define NX_CLI_DEMO_COURSES_H

#include <jansson.h>
#include <stdint.h>

#include "modules/app.h"

/* Three rooms of the demo community with four weeks of bookings from tomorrow (a weekly calligraphy
 * class, a reading club, residents' bookings, one awaiting approval), and a term of courses: two first
 * come first served classes for elders (one full with a waiting list), a children's class, a tai chi
 * class drawn by lottery from a seed derived from the demo's seed, and a resident's proposal awaiting
 * approval; the self resident (王建国) is enrolled in the smartphone class and has a room booking.
 * Everything goes through the modules' rules. Deterministic for a seed and today's date. Adds
 * "venues", "venue_bookings", "courses" and "course_enrolments" to summary. Blocking. */
int demo_courses_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary, nx_err *e);

#endif
