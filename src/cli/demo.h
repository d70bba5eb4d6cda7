/* demo.h — `nuanxin demo`: fill an empty database with a fictional but realistic community.
 *
 * One street (幸福街道), one community (暖心社区), eight grids, six estates with their buildings,
 * units and rooms, a dozen shops and night-market stalls, ~1,200 households of ~3,000 residents (an
 * aging downtown: ~18% over 60, ~3% over 80, many elders living alone), tags, care levels,
 * emergency contacts, and one staff account of every role, each with its own random password (printed
 * once: a demo reachable from a network must not open with a password everyone knows). Every name
 * is generated from surname and given-name lists; every ID number is valid in form only; every
 * phone number comes from a fictional range. The output depends only on the seed (and today's date,
 * from which ages are counted), the passwords excepted. */
#ifndef NX_CLI_DEMO_H
#define NX_CLI_DEMO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/app.h"

typedef struct demo_options {
    unsigned seed;        /* deterministic output for a seed (0 = default 2026) */
    int residents;        /* target number of residents (0 = default 3000; 10..2000000) */
    const char *password; /* one password for every account (automated tests); NULL or "" = each
                             account gets its own random password, listed once in the summary */
} demo_options;

#define DEMO_DEFAULT_SEED 2026u
#define DEMO_DEFAULT_RESIDENTS 3000

/* Fill an empty, migrated database with the demo community. o may be NULL (all defaults).
 *
 * Requires app->db, app->keys, pinyin and hanconv initialised, and the password pool (accounts are
 * hashed at the real cost unless a test lowered it). The organisation, households and residents are
 * written in one write transaction (every resident through people_resident_create_tx, so
 * encryption, pinyin, name suffixes, audit rows and events happen for real); the accounts are then
 * created one by one with users_create (who = NULL). A demo account whose username already exists
 * is left unchanged and listed with "existing": true and "password": "（已存在，未修改）".
 *
 * Prints nothing. On success *summary receives a new JSON object whose integer members are the
 * counts (flat, so a caller can print every integer member):
 *   {"seed", "grids", "estates", "buildings", "rooms", "shops", "households", "residents",
 *    "active", "over_60", "over_80", "floating", "moved_out", "deceased",
 *    "people_ms", "accounts_ms",
 *    "street": "幸福街道", "community": "暖心社区",
 *    "accounts": [{"username", "role", "role_label", "scope", "display_name", "password",
 *                  "existing"}]}
 * over_60/over_80/floating count active residents (aged 60/80 or more today; living here as
 * floating population); residents counts every row written, moved out and deceased included.
 *
 * Returns 0; NX_EINVAL for options out of range or a password that fails password_policy_check for
 * one of the demo usernames (field "password"); NX_ECONFLICT (Chinese message) when the database
 * already holds residents or the demo street; NX_EBUSY, NX_EDB and the codes of the functions it
 * calls otherwise. On failure nothing of the organisation or people is left behind (the
 * transaction is rolled back); accounts created before a failing account are kept. Blocking. */
int demo_fill(nx_app *app, const demo_options *o, json_t **summary, nx_err *e);

/* The small random stream of the module demos (demo_care.c, demo_devices.c, demo_party.c,
 * demo_canteen.c, demo_services.c): xorshift64, seeded by the caller with a nonzero value derived from the demo's
 * seed, so that each module's data is deterministic whatever the others draw. */
typedef struct demo_rng {
    uint64_t s;
} demo_rng;

/* The next number in [0, n) from r (0 when n is 0). */
static inline unsigned demo_roll(demo_rng *r, unsigned n)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return n ? (unsigned)(r->s % n) : 0;
}

/* A demo row: app_insert (modules/app.h: INSERT INTO table (cols), the VALUES list made from cols, with
 * RETURNING id into *id when id is not NULL); a failure says "写入演示<what>失败" (a RETURNING that gives
 * no row, which only a misbehaving database does, is NX_EDB). */
int demo_insert(store_tx *tx, const char *table, const char *cols, const store_param *p, int n,
                const char *what, int64_t *id, nx_err *e);
/* The same for an INSERT … RETURNING id written out in sql, as store_one_int. */
int demo_insert_id(store_tx *tx, const char *sql, const store_param *p, int n, const char *what, int64_t *id,
                   nx_err *e);

/* A year of care work (demo_care.c): care files for residents with a care level, routine visit
 * tasks and visits of the last 365 days, problems raised on visits, grid members and incidents;
 * then one scheduler run for today. Called by demo_fill after the residents and accounts exist;
 * adds "care_files", "visits", "visit_tasks", "problems", "incidents", "grid_members" to summary.
 * One write transaction (rolled back on failure). */
int demo_care_fill(nx_app *app, unsigned seed, json_t *summary, nx_err *e);

/* The demo's 79 wristbands (demo_devices.c): one for first_resident (王建国, whom the family account
 * follows) and the oldest residents living alone, watch ids 5600000001… (the simulator's with
 * --id-base 1), a week of positions, readings and steps each, ~40 handled alerts of the last 30
 * days. Adds "devices" and "alerts" to summary. One write transaction. */
int demo_devices_fill(nx_app *app, int64_t first_resident, unsigned seed, json_t *summary, nx_err *e);

/* Where the buildings of community stand (demo_workday.c): each building's lat_e6 / lon_e6, the
 * estates in two rows of three around the centre the wristband demo uses, the buildings in rows of
 * four. Deterministic (no seed); adds "buildings_placed" to summary. Must run before
 * demo_devices_fill (an elder's wristband home is their building). One write transaction. */
int demo_workday_fill(nx_app *app, int64_t community, json_t *summary, nx_err *e);

/* The canteen's three months (demo_canteen.c): dishes, price rules, menus for the last 90 days and
 * the coming week, cards for first_resident (王建国) and the oldest residents of 60 and over with
 * top-ups, and their counter sales on the hash chain. Adds "canteen_sales" and "canteen_cards" to
 * summary. One write transaction. */
int demo_canteen_fill(nx_app *app, int64_t community, int64_t first_resident, unsigned seed, json_t *summary,
                      nx_err *e);

/* ---- name data (demo_names.c), for demo.c and its test ---- */

/* A surname and its relative frequency (per 10,000 people, roughly). */
typedef struct demo_surname {
    const char *text;
    unsigned weight;
} demo_surname;

/* Generations of given names, by birth year: before 1960, 1960-1989, 1990 and later. */
enum { DEMO_GEN_ELDER = 0, DEMO_GEN_MIDDLE = 1, DEMO_GEN_YOUNG = 2, DEMO_GEN_COUNT = 3 };

typedef struct demo_name_data {
    const demo_surname *surnames;
    size_t n_surnames;
    /* given[generation][sex - 1]: given names typical of that generation, NULL-terminated. */
    const char *const *given[DEMO_GEN_COUNT][2];
} demo_name_data;

/* The static name lists; never NULL, never freed. */
const demo_name_data *demo_names(void);

#endif
