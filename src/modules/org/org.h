/* org.h — the organisation module: street → community → grid → estate → building → room, plus
 * shops and the tag catalogue.
 *
 * The rules live in org.c and know nothing of HTTP: each takes the app, the acting principal and C
 * values, and returns 0 or a negative NX_E* code with a Chinese message (and the offending field)
 * in e. Reads are restricted to the principal's scope inside the SQL, so a row out of scope is
 * NX_ENOTFOUND, exactly like a row that does not exist. Writes need RIGHT_ORG_WRITE and the target
 * in scope; streets and communities are written by platform admins (SCOPE_ALL) only. Every change
 * writes one audit row in its own transaction.
 *
 * Objects come back as jansson objects in the API's shape (snake_case keys, documented at
 * org_get). Inputs are one struct for every kind, org_input, whose `set` mask says which fields
 * were given; org_field_table() describes the fields so that a caller (org_http.c) can read them
 * generically. All functions are blocking and thread-safe (each runs its own transaction unless it
 * takes one). */
#ifndef NX_MODULES_ORG_ORG_H
#define NX_MODULES_ORG_ORG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules/app.h"
#include "secure/perm.h"
#include "store/store.h"

/* What kind of object. The names ("street" …) are the audit log's object_type. */
enum org_kind {
    ORG_NONE = 0,
    ORG_STREET,
    ORG_COMMUNITY,
    ORG_GRID,
    ORG_ESTATE,
    ORG_BUILDING,
    ORG_ROOM,
    ORG_SHOP,
    ORG_TAG,
    ORG_KIND_COUNT
};

const char *org_kind_name(int kind); /* "grid" …; "" for an unknown kind */

/* Field bits of org_input.set / .nulls. */
enum org_field_bit {
    ORG_F_STREET_ID = 1u << 0,
    ORG_F_COMMUNITY_ID = 1u << 1,
    ORG_F_GRID_ID = 1u << 2,
    ORG_F_ESTATE_ID = 1u << 3,
    ORG_F_BUILDING_ID = 1u << 4,
    ORG_F_NAME = 1u << 5,
    ORG_F_CODE = 1u << 6,
    ORG_F_DESCRIPTION = 1u << 7,
    ORG_F_ADDRESS = 1u << 8,
    ORG_F_PHONE = 1u << 9,
    ORG_F_BUILT_YEAR = 1u << 10,
    ORG_F_KIND = 1u << 11,
    ORG_F_PROPERTY_COMPANY = 1u << 12,
    ORG_F_FLOORS = 1u << 13,
    ORG_F_UNITS = 1u << 14,
    ORG_F_HAS_ELEVATOR = 1u << 15,
    ORG_F_UNIT = 1u << 16,
    ORG_F_NUMBER = 1u << 17,
    ORG_F_FLOOR = 1u << 18,
    ORG_F_AREA = 1u << 19,
    ORG_F_OWNER_NAME = 1u << 20,
    ORG_F_LICENSE_NO = 1u << 21,
    ORG_F_STATUS = 1u << 22,
    ORG_F_CATEGORY = 1u << 23,
    ORG_F_RULE = 1u << 24,
    ORG_F_SORT = 1u << 25,
    ORG_F_LAT_E6 = 1u << 26, /* a building's position (micro-degrees, WGS-84), for the estate plan */
    ORG_F_LON_E6 = 1u << 27,
};

/* The input of a create or an update. Only fields whose bit is in `set` are read. A bit also in
 * `nulls` means "given as null": on update it clears an optional field (a required one is
 * NX_EINVAL); on create it is the same as absent. Strings are borrowed for the call. */
typedef struct org_input {
    uint32_t set, nulls;
    int64_t street_id, community_id, grid_id, estate_id, building_id;
    const char *name, *code, *description, *address, *phone, *kind, *property_company, *unit,
        *number, *owner_name, *license_no, *status, *category, *rule;
    int64_t built_year, floors, units, floor, sort, lat_e6, lon_e6;
    bool has_elevator;
    double area;
} org_input;

typedef enum { ORG_T_ID, ORG_T_TEXT, ORG_T_INT, ORG_T_BOOL, ORG_T_REAL } org_ftype;

/* One input field: its JSON key, its Chinese name (for messages), bit, type, where its value lives
 * in org_input (offsetof) and, for text, the most characters (code points) it may have. */
typedef struct org_field {
    const char *key;
    const char *label;
    uint32_t bit;
    org_ftype type;
    size_t off;
    size_t max_chars;
} org_field;

/* Every input field, terminated by an entry whose key is NULL. Static; never freed. */
const org_field *org_field_table(void);
/* The field bits a create (patch false) or an update (patch true) of kind accepts. For rooms the
 * create mask includes ORG_F_BUILDING_ID, which the HTTP layer takes from the path. 0 for an
 * unknown kind. */
uint32_t org_fields_for(int kind, bool patch);

/* List filters. Ids of 0 and NULL strings are "any". Each kind reads the filters that apply to it:
 *   communities: street_id, q          grids: community_id, q
 *   estates: community_id, grid_id (estates assigned to the grid or holding one of its buildings),
 *            kind, q (name or its pinyin, "xingfu")   buildings: community_id, grid_id, estate_id, q
 *   rooms: building_id (NX_ENOTFOUND when that building is out of scope), q (room number)
 *   shops: community_id, grid_id, kind, status, q (name, or the last 4 digits of the phone)
 *   tags: category, q (name or code)   streets: q
 * q is "contains", at most 50 characters. limit is the page size (1..1000, the caller applies the
 * configured default and cap). cursor is NULL/"" for the first page or a previous next_cursor. */
typedef struct org_filter {
    int64_t street_id, community_id, grid_id, estate_id, building_id;
    const char *q, *kind, *status, *category;
    int limit;
    const char *cursor;
} org_filter;

/* A page of kind in p's scope: *out = {"items": [...], "next_cursor": "…" | null, "total": N}
 * (new reference; total counts every row matching the filters, ignoring the cursor). Lists are
 * ordered by id (tags by sort, then id); the cursor is the last id of the page as a string.
 * Returns 0; NX_EPERM without RIGHT_ORG_READ (tags: ORG_READ or PEOPLE_READ); NX_EINVAL for a bad
 * filter, limit or cursor (field named); NX_ENOTFOUND (rooms of a building out of scope); NX_EDB. */
int org_list(nx_app *app, const nx_principal *p, int kind, const org_filter *f, json_t **out, nx_err *e);

/* One object in p's scope; *out is a new reference. Shapes:
 *   street    {id, name, code, community_count}
 *   community {id, street_id, street_name, name, code, address, phone, grid_count, resident_count}
 *   grid      {id, community_id, name, code, description, resident_count, building_count}
 *   estate    {id, community_id, grid_id, name, address, built_year, kind, kind_label,
 *              property_company, building_count, household_count, resident_count}
 *   building  {id, community_id, estate_id, estate_name, grid_id, grid_name, name, floors, units,
 *              has_elevator, room_count, resident_count, lat_e6, lon_e6 (null until surveyed)}
 *   room      {id, building_id, unit, number, floor, area, label}
 *   shop      {id, community_id, grid_id, name, kind, kind_label, address, owner_name, phone
 *              (masked), license_no, status, status_label}
 *   tag       {id, code, name, category, rule, sort}
 * Optional values are JSON null when unset; resident counts count residents with status 'active'.
 * Returns 0; NX_ENOTFOUND when absent or out of scope; NX_EPERM without the read right; NX_EDB. */
int org_get(nx_app *app, const nx_principal *p, int kind, int64_t id, json_t **out, nx_err *e);

/* Whether p may create or change objects of kind at all (the right, and SCOPE_ALL for streets and
 * communities). 0 or NX_EPERM. Lets a caller answer 403 before it reads a body. */
int org_can_write(const nx_principal *p, int kind, nx_err *e);

/* Create an object of kind; *id receives its id. The community of the new row is: for grids,
 * estates and shops, in->community_id for callers of street or platform scope (required) and the
 * caller's own community otherwise (a different one given is NX_ENOTFOUND); for buildings, the
 * estate's; for rooms, the building's. Validation (NX_EINVAL, field named): fields the kind does
 * not take, required fields (name; a building's estate_id; a room's number; a tag's code and
 * name; a community's street_id), lengths, ranges, enumerations, a grid or estate that is not of
 * the same community, a shop or community phone that is not a valid number. NX_ENOTFOUND for a
 * parent (community, estate, building) that does not exist or is out of scope; NX_ECONFLICT for a
 * duplicate name (field named); NX_EPERM without the right. Audited as "create". */
int org_create(nx_app *app, const nx_principal *p, int kind, const org_input *in, int64_t *id, nx_err *e);

/* Change the given fields of object id (see org_fields_for for what may change). Same codes as
 * org_create; NX_ENOTFOUND when the object is absent or out of scope. Giving no field is a no-op
 * (0, nothing audited). Audited as "update" with the names (never the values) of the fields. */
int org_update(nx_app *app, const nx_principal *p, int kind, int64_t id, const org_input *in, nx_err *e);

/* A room's full label, "幸福里小区 3号楼 2单元 401" (the unit is left out when empty), and its
 * place: community, grid (the building's; 0 when the building has none) and estate. Any out
 * pointer may be NULL. No scope check: the caller has already checked its own. Runs on tx.
 * Returns 0, NX_ENOTFOUND (room_id does not exist), NX_EDB. out is always terminated (truncated at
 * a character boundary when n is too small). */
int org_room_label(store_tx *tx, int64_t room_id, char *out, size_t n, int64_t *community_id,
                   int64_t *grid_id, int64_t *estate_id);

/* Insert the built-in tags (高龄 "age>=80", 独居, 孤寡, 空巢, 残疾, 低保, 特困, 党员, 退役军人,
 * 留守老人, 上班族, 重病, 重点关注) unless a tag with the same code or name exists. Idempotent.
 * Runs on tx (a write transaction); 0 or NX_EDB. */
int org_seed_tags(store_tx *tx, nx_err *e);

/* ---- HTTP (org_http.c) ---- */

/* Register the module's routes under /api/v1 (all authenticated): GET/POST /streets,
 * GET/PATCH /streets/{id}, and the same for /communities, /grids, /estates, /buildings, /shops;
 * GET/POST /buildings/{id}/rooms, GET/PATCH /rooms/{id}; GET/POST /tags, PATCH /tags/{id}.
 * app must outlive the server. Returns 0. */
int org_routes(http_server *srv, nx_app *app);

#endif
