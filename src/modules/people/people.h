/* people.h — residents and households: the registry every other module stands on.
 *
 * A resident's ID number, phone and detailed address are stored only encrypted (field_encrypt), with
 * a keyed blind index for exact look-up and a keyed index of the last four characters for "tail"
 * search (never the characters). Every
 * response masks them; people_reveal returns the plain values to a caller with RIGHT_REVEAL and
 * writes an audit row in the same transaction. Residents are never deleted: they move out or die and
 * are kept, with the date. Every read and write is restricted to the caller's scope in SQL, so a
 * record outside it reads as "not found". */
#ifndef NX_MODULES_PEOPLE_H
#define NX_MODULES_PEOPLE_H

#include <jansson.h>
#include <stdbool.h>

#include "base/str.h"
#include "modules/app.h"

/* Event kinds (outbox): payload {"resident_id", …}, subject "resident:<id>". status_changed adds
 * "status" ("deceased", "moved_out", "active"). */
#define PEOPLE_EV_RESIDENT_CREATED "people.resident.created"
#define PEOPLE_EV_RESIDENT_UPDATED "people.resident.updated"
#define PEOPLE_EV_RESIDENT_STATUS_CHANGED "people.resident.status_changed"

/* Input for create (all required fields) and update (NULL / 0 = unchanged). Strings are borrowed. */
typedef struct resident_input {
    int64_t community_id;       /* create: required for street/admin scope, else the caller's */
    const char *name;
    const char *id_type;        /* "id_card" (default), "passport", "hk_macau", "taiwan", "foreign_permanent" */
    const char *id_number;
    const char *birth_date;     /* required for non-ID-card documents; must agree with an ID card */
    const char *sex;            /* "male"/"female" (or 男/女); must agree with an ID card */
    const char *phone;          /* mainland mobile */
    bool phone_clear;
    const char *address;        /* detailed address text */
    bool address_clear;
    int64_t household_id;       /* -1 = clear */
    int64_t room_id;            /* -1 = clear */
    int64_t grid_id;            /* when no room decides it */
    const char *relation, *residence, *ethnicity, *political, *education, *marital, *work;
    const char *care_level, *notes;
    json_t *tags;               /* array of tag codes; NULL = unchanged */
    json_t *contacts;           /* array of {name, relation, phone}; NULL = unchanged */
    const char *status;         /* "active", "moved_out", "deceased" */
    const char *status_date;    /* date of moving out or death (default today) */
    int64_t version;            /* update: optimistic lock, 0 = not checked */
} resident_input;

typedef struct resident_query {
    const char *q;              /* name, pinyin, initials, phone or ID tail, full phone or ID number */
    const char *tag;            /* tag code */
    int64_t community_id, grid_id, estate_id, household_id;
    int age_min, age_max;       /* -1 = open */
    const char *sex, *status, *residence, *care_level;   /* status default "active"; "all" = any */
    const char *sort;           /* "name" (pinyin, default), "age", "-age", "created", "-created" */
    const char *cursor;
    int limit;
    bool with_total;
} resident_query;

/* A resident body (the API's JSON, or a spreadsheet row turned into JSON) into in, strictly: unknown
 * keys, wrong types and over-long strings are NX_EINVAL with the field named. create: an explicit
 * null household_id/room_id means "none" rather than "clear". Strings in in are borrowed from o. */
int people_parse_resident(json_t *o, bool create, resident_input *in, nx_err *e);

/* Validation shared with import: parse and check one resident's fields without touching the store
 * beyond look-ups. Returns 0 or NX_EINVAL with field set. */
int people_resident_create(nx_app *app, const nx_principal *who, const resident_input *in, int64_t *id,
                           nx_err *e);
/* Create inside the caller's write transaction (import uses one transaction for all rows). */
int people_resident_create_tx(nx_app *app, store_tx *tx, const nx_principal *who, const resident_input *in,
                              int64_t *id, nx_err *e);
int people_resident_update(nx_app *app, const nx_principal *who, int64_t id, const resident_input *in,
                           nx_err *e);
/* The resident as JSON with masked personal data (new reference). */
int people_resident_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
/* The same detail as JSON text appended to out (the HTTP handler sends it without building a tree;
 * people_resident_get parses it). */
int people_resident_write(nx_app *app, const nx_principal *who, int64_t id, strbuf *out, nx_err *e);
/* Plain values of the named fields ("id_number", "phone", "address", "contacts"), audited. */
int people_reveal(nx_app *app, const nx_principal *who, int64_t id, json_t *fields, json_t **out, nx_err *e);
/* The numbers to call during an alarm: resident id's name and full phone and his emergency
 * contacts (name, relation, full phone) into *out (new reference), for the handler of active alarm
 * alert_id. The alarm is the reason and the right: the caller (devices_alert_phones) has checked
 * RIGHT_ALERT_HANDLE, the alarm's scope and that it is still active; no RIGHT_REVEAL is asked.
 * Audited in tx as a "reveal" of the resident with {"fields": ["phone", "contacts"], "alert_id"}.
 * 0, NX_ENOTFOUND, or the read's error. */
int people_reveal_for_alarm(store_tx *tx, nx_app *app, const nx_principal *who, int64_t id, int64_t alert_id,
                            json_t **out, nx_err *e);
/* The masked ID number ("110105********002X") of a resident from the stored ciphertext of the
 * residents.id_enc column (ct, n) into out (at most cap bytes); "" when there is none or it does
 * not decrypt. For other modules that read the column in their own queries: the encryption context
 * stays people's. The plaintext is wiped before it is freed. */
void people_id_masked(nx_app *app, const void *ct, size_t n, char *out, size_t cap);
/* A page of residents: {"items":[…], "next_cursor":…, "total":…} (new reference). */
int people_resident_search(nx_app *app, const nx_principal *who, const resident_query *q, json_t **out,
                           nx_err *e);
/* Iterate every match of q (no paging) for export: fn gets each resident's JSON (masked unless
 * reveal, which requires RIGHT_REVEAL and writes one audit row for the whole export). q->limit is a
 * cap, not a page: a match past it fails the whole walk with NX_ETOOBIG (never an export that
 * silently stops at the cap). A failing fn stops the walk with its code. */
int people_resident_each(nx_app *app, const nx_principal *who, const resident_query *q, bool reveal,
                         int (*fn)(json_t *row, void *ctx), void *ctx, int64_t *count, nx_err *e);

/* Move resident id to another household or room (people_move.c), with a history row (migration
 * 029), an audit entry "move" and PEOPLE_EV_RESIDENT_UPDATED ({"fields": ["household_id", "room_id"],
 * "moved": true}), all in one transaction. in: {"household_id": id | null, "room_id": id | null,
 * "relation"?: a relation code, "reason": text (required, at most 200 characters)}; at least one of
 * household_id and room_id; null leaves the household or the room. A household given without a room
 * brings its own room; a room decides grid and estate. NX_EPERM without RIGHT_PEOPLE_WRITE or into a
 * grid out of who's scope; NX_ENOTFOUND for a resident out of scope; NX_EINVAL (field named) for bad
 * input, a household or room of another community or out of scope, a resident not active, or no
 * change. Nothing is changed on an error. */
int people_resident_move(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e);
/* The moves of resident id, newest first: {"items": [{id, from_household_id, to_household_id,
 * from_room_id, to_room_id, from_label, to_label, reason, moved_by, moved_by_name, moved_at}]}.
 * NX_EPERM without RIGHT_PEOPLE_READ; NX_ENOTFOUND out of scope. */
int people_resident_moves(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);

/* A household body: create takes what is given (null = none); update changes what is given, and JSON
 * null clears a field: room_id, grid_id and head_resident_id are then -1, and the *_clear flags are set
 * for number, notes and address (kind and community_id cannot be cleared: null is NX_EINVAL). */
typedef struct household_input {
    int64_t community_id, grid_id, room_id, head_resident_id;
    const char *number, *kind, *notes, *address;
    bool number_clear, notes_clear, address_clear;
} household_input;

/* A household body (POST or PATCH) into in, strictly: unknown keys, wrong types, over-long strings and
 * a null kind or community_id are NX_EINVAL naming the field. create: null means none, not clear.
 * Strings in in are borrowed from o. */
int people_parse_household(json_t *o, bool create, household_input *in, nx_err *e);
int people_household_create(nx_app *app, const nx_principal *who, const household_input *in, int64_t *id,
                            nx_err *e);
int people_household_update(nx_app *app, const nx_principal *who, int64_t id, const household_input *in,
                            nx_err *e);
int people_household_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e);
int people_household_list(nx_app *app, const nx_principal *who, int64_t grid_id, int64_t estate_id,
                          const char *q, const char *cursor, int limit, json_t **out, nx_err *e);

/* Write the keyed tail index (people_internal.h) of every resident and emergency contact whose tail
 * is '' (migration 009 cleared the clear tails; SQL cannot compute keyed ones). Run at start-up
 * after store_migrate, before serving; idempotent, batches of 500 rows per write transaction, so a
 * large registry does not hold one long lock. *written counts the rows written; rows whose
 * ciphertext does not open with the key file are left '' and logged as a count. Blocks. Returns 0
 * or the store's error. */
int people_tails_rekey(nx_app *app, int64_t *written, nx_err *e);

/* Keep assembled resident details in memory for app's store (people_cache.c): watches the tables a
 * detail is read from (store_watch, store_listen) so that any change, in this process or another,
 * drops them. Call once at start-up, before serving; people_detail_stop before store_close. Without
 * it every read asks the database. */
int people_detail_start(nx_app *app, nx_err *e);
void people_detail_stop(nx_app *app);

/* Register the routes of residents and households (people_http.c). */
int people_routes(http_server *srv, nx_app *app);

#endif
