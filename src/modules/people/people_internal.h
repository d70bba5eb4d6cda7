/* people_internal.h — helpers shared by the files of the people module (not for other modules):
 * people_common.c, and the resident row every read of one writes (people_record.c, people_search.c). */
#ifndef NX_MODULES_PEOPLE_INTERNAL_H
#define NX_MODULES_PEOPLE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/clock.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "modules/people/people.h"
#include "store/store.h"

/* Encryption contexts and blind-index domains of the personal-data columns. */
#define CTX_ID "resident.id_number"
#define CTX_PHONE "resident.phone"
#define CTX_ADDRESS "resident.address"
#define CTX_CONTACT_PHONE "contact.phone"
#define CTX_HOUSEHOLD_ADDRESS "household.address"

/* The tail index: what lets the database find a resident by the last four characters of an ID
 * number or phone ("1234" in the search box). It holds a keyed hash of those four characters, never
 * the characters: hex of blind_index under the column's domain and "#tail4", PEOPLE_TAIL_HEX
 * characters. A database dump therefore holds no digit of the numbers (migration 009 cleared the
 * clear tails; people_tails_rekey fills them in at start-up). */
#define PEOPLE_TAIL_HEX 32
/* The tail index of value (an ID number, a phone; its last four characters, or all when shorter)
 * in column context into out (PEOPLE_TAIL_HEX characters and a NUL). */
void people_tail_key(nx_app *app, const char *context, const char *value, char out[PEOPLE_TAIL_HEX + 1]);

/* Count one exact look-up of a whole ID number or phone by who in this hour (a search, or a
 * registration refused because the number is on a record outside who's scope: the same question);
 * NX_ELOCKED (429, field "q") when over exact_search_per_hour. Per process, in memory. */
int people_exact_take(nx_app *app, const nx_principal *who, nx_err *e);
/* 0 when community exists; NX_EINVAL on "community_id" when it does not; a failed read is its
 * error. */
int people_community_exists(store_tx *tx, int64_t community, nx_err *e);

/* Decrypt a ciphertext column encrypted under context; plaintext (release with field_plain_free) or NULL. */
char *people_open(nx_app *app, const char *context, const void *ct, size_t n);
/* Derived forms of a name (simplified, pinyin, initials, ICU sort key). */
int people_name_forms(const char *name, char *name_s, size_t ns, char *pinyin, size_t pn, char *initials,
                      size_t in, unsigned char *key, size_t kcap, size_t *klen);

/* The members of a household, head first then oldest first, as a JSON array (new reference); the
 * member whose id is self is marked "self": true (0 marks none). Members are restricted to who's
 * scope (a grid worker sees the members in their grid, not a member registered in another grid);
 * a caller reading through RIGHT_SELF (a resident or family account) sees every member of their own
 * household, in this reduced form only. Runs one query on tx. */
int people_household_members(store_tx *tx, const nx_principal *who, int64_t household, int64_t self, json_t **out,
                             nx_err *e);
/* Whether who reads residents only through RIGHT_SELF (a resident or family account): the reduced
 * self view — their own record (the resident they are bound to) without staff notes, and other
 * household members only as the members list shows them. */
bool people_self_view(const nx_principal *who);

/* A resident row as every read shows it (people_row_write), and its columns. */
#define RES_FROM                                                                                   \
    "FROM residents r LEFT JOIN grids g ON g.id = r.grid_id LEFT JOIN estates es ON es.id = r.estate_id " \
    "LEFT JOIN rooms rm ON rm.id = r.room_id LEFT JOIN buildings b ON b.id = rm.building_id "             \
    "JOIN communities c ON c.id = r.community_id"
#define RES_COLS                                                                                   \
    "SELECT r.id, r.community_id, r.grid_id, g.name, r.estate_id, es.name, r.household_id, r.room_id, "   \
    "r.name, r.name_pinyin, r.sex, r.birth_date, r.id_type, r.id_enc, r.phone_enc, r.address_enc, "       \
    "r.relation, r.residence, r.care_level, r.status, r.version, r.created_at, r.updated_at, "            \
    "r.ethnicity, r.political, r.education, r.marital, r.work, r.notes, r.moved_out_on, r.deceased_on, "  \
    "c.street_id, b.name, rm.unit, rm.number, r.sort_key, c.name " RES_FROM
/* The count of a search: the same joins (the filters name their tables). */
#define RES_COUNT "SELECT count(*) " RES_FROM

enum {
    C_ID, C_COMMUNITY, C_GRID, C_GRID_NAME, C_ESTATE, C_ESTATE_NAME, C_HOUSEHOLD, C_ROOM, C_NAME, C_PINYIN,
    C_SEX, C_BIRTH, C_ID_TYPE, C_ID_ENC, C_PHONE_ENC, C_ADDR_ENC, C_RELATION, C_RESIDENCE, C_CARE,
    C_STATUS, C_VERSION, C_CREATED, C_UPDATED, C_ETHNICITY, C_POLITICAL, C_EDUCATION, C_MARITAL, C_WORK,
    C_NOTES, C_MOVED_OUT, C_DECEASED, C_STREET, C_BUILDING, C_UNIT, C_ROOM_NO, C_SORT_KEY, C_COMMUNITY_NAME
};

/* A computed tag ("age>=80"): a rule on the age, not a row of resident_tags. */
typedef struct people_computed_tag {
    char code[40], name[40];
    int min_age, max_age; /* the rule's bounds in whole years; -1 = open */
} people_computed_tag;

/* What a read of residents carries from row to row: the computed tags (people_load_computed) and
 * whether personal data is shown plain (reveal, export with RIGHT_REVEAL) or masked. */
typedef struct people_read_ctx {
    nx_app *app;
    uint64_t gen; /* people_detail_gen taken before the read's snapshot (0: none): the computed tags
                   * are then taken from memory only when loaded under the same generation */
    people_computed_tag computed[8];
    int ncomputed;
    nx_date today;
    bool reveal;
    bool self_view; /* people_self_view: staff notes are left out */
} people_read_ctx;

/* SQL of the assigned tags of one resident: the same text attach_tags builds for a single id, so
 * both share one prepared statement (close it with ")"). */
#define TAGS_SQL "SELECT rt.resident_id, t.code, t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id IN ("

/* An optional id of a body: absent → out untouched, JSON null → -1 (clear), a positive integer → itself;
 * anything else NX_EINVAL naming key. */
int people_get_ref(json_t *o, const char *key, int64_t *out, nx_err *e);

/* Where room is: its community *c, grid *g (0 when its building has none) and estate. NX_EINVAL on
 * "room_id" when there is no such room, or (with message mismatch) when community is not 0 and the
 * room lies in another; a failed read is its error. */
int people_room_place(store_tx *tx, int64_t room, int64_t community, const char *mismatch, int64_t *c, int64_t *g,
                      int64_t *estate, nx_err *e);
/* The community *c of grid. NX_EINVAL on "grid_id" when there is no such grid or when community is
 * not 0 and the grid lies in another; a failed read is its error. */
int people_grid_community(store_tx *tx, int64_t grid, int64_t community, int64_t *c, nx_err *e);

/* Load the computed tags into c (cached for a few seconds across threads; read on tx when stale). */
int people_load_computed(store_tx *tx, people_read_ctx *c, nx_err *e);
/* Decrypt column col of r (encrypted under context) into buf, masked with mask unless c->reveal.
 * False when the column is NULL or does not decrypt. The plaintext is wiped. */
bool people_secret_text(people_read_ctx *c, store_rows *r, int col, const char *context,
                        void (*mask)(const char *, char *, size_t), char *buf, size_t cap);
/* people_secret_text as the member key of w (null when absent). */
void people_w_secret(jsonw *w, const char *key, people_read_ctx *c, store_rows *r, int col,
                     const char *context, void (*mask)(const char *, char *, size_t));
/* One tag {code, name, computed} as an element of the open array in w. */
void people_w_tag(jsonw *w, const char *code, const char *name, bool computed);
/* The one description of the resident in the current row of r (a RES_COLS query) as JSON: writes
 * the object up to and including its computed tags and leaves the object and its "tags" array open
 * (the caller appends the assigned tags, closes the array, may add members, closes the object).
 * detail adds the record's fields. Errors are sticky in w. */
void people_row_write(people_read_ctx *c, store_rows *r, bool detail, jsonw *w);
/* Parse what a writer produced into a json_t (new reference); NULL on failure (logged: a bug). */
json_t *people_json_parse(const strbuf *b);

/* The cache of assembled resident details (people_cache.c). What a scope rule needs of one resident
 * row: its id, community, the community's street and its grid (has_grid false: NULL). */
typedef struct people_scope_row {
    int64_t id, community, street, grid;
    bool has_grid;
} people_scope_row;
/* The generation of the tables a detail is read from: taken before a read's snapshot, a detail
 * read under it may be kept (people_detail_put) and is served only while it has not moved. */
uint64_t people_detail_gen(void);
/* Whether app's store has the cache (people_detail_start) and its changes are heard now
 * (store_listen_live). */
bool people_detail_enabled(nx_app *app);
/* Serve resident id's detail for who from memory into out: true when served, with *rc 0 (written),
 * NX_ENOTFOUND when the resident is out of who's scope (the answer the database read gives) or
 * another error when out overflows; false when there is nothing to serve (read the database). */
bool people_detail_lookup(nx_app *app, const nx_principal *who, int64_t id, strbuf *out, int *rc, nx_err *e);
/* Keep the detail body (the text up to, without, its ",\"can_reveal\"…}" tail) that
 * people_resident_write wrote for who under generation gen with ages on day: self is the
 * resident's row, members[0..nmembers) every member of the household in the order read, mask
 * which of them are in the text. Too large a detail is not kept. */
void people_detail_put(nx_app *app, const nx_principal *who, uint64_t gen, nx_date day, int64_t id,
                       const people_scope_row *self, const people_scope_row *members, int nmembers, uint64_t mask,
                       const char *body, size_t len);
/* Counters for tests and the bench: lookups served and not. */
void people_detail_stats(uint64_t *hits, uint64_t *misses);

#endif
