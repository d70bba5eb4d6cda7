/* people_read.c — reading residents: one record, a page of a search, every match for an export,
 * and the audited reveal of personal data.
 *
 * Search turns the box staff type into one of a few indexed look-ups:
 *   18 characters that parse as an ID number  → blind index of the ID number (exact)
 *   11 digits starting with 1                  → blind index of the phone (exact)
 *   4-10 digits (an optional trailing X)       → the last four digits of phone or ID, then the longer
 *                                                 suffix checked on the decrypted value
 *   ASCII letters                              → prefix of pinyin initials ("wjg") or full pinyin
 *   anything else                              → traditional folded to simplified, then a prefix of
 *                                                 any suffix of the name ("建国" finds 王建国)
 * and combines it with the filters and the caller's scope in one SQL statement ordered by the ICU
 * pinyin sort key (or age, or creation), paged by a cursor that carries the last row's sort value. */
#include "modules/people/people.h"

#include "base/clock.h"
#include "base/jsonw.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/people/choices.h"
#include "modules/people/people_internal.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "text/hanconv.h"
#include "text/idcard.h"
#include "text/mask.h"
#include "text/phone.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RES_COLS                                                                                   \
    "SELECT r.id, r.community_id, r.grid_id, g.name, r.estate_id, es.name, r.household_id, r.room_id, "   \
    "r.name, r.name_pinyin, r.sex, r.birth_date, r.id_type, r.id_enc, r.phone_enc, r.address_enc, "       \
    "r.relation, r.residence, r.care_level, r.status, r.version, r.created_at, r.updated_at, "            \
    "r.ethnicity, r.political, r.education, r.marital, r.work, r.notes, r.moved_out_on, r.deceased_on, "  \
    "b.name, rm.unit, rm.number, r.sort_key, c.name "                                                     \
    "FROM residents r LEFT JOIN grids g ON g.id = r.grid_id LEFT JOIN estates es ON es.id = r.estate_id " \
    "LEFT JOIN rooms rm ON rm.id = r.room_id LEFT JOIN buildings b ON b.id = rm.building_id "             \
    "JOIN communities c ON c.id = r.community_id"

enum {
    C_ID, C_COMMUNITY, C_GRID, C_GRID_NAME, C_ESTATE, C_ESTATE_NAME, C_HOUSEHOLD, C_ROOM, C_NAME, C_PINYIN,
    C_SEX, C_BIRTH, C_ID_TYPE, C_ID_ENC, C_PHONE_ENC, C_ADDR_ENC, C_RELATION, C_RESIDENCE, C_CARE,
    C_STATUS, C_VERSION, C_CREATED, C_UPDATED, C_ETHNICITY, C_POLITICAL, C_EDUCATION, C_MARITAL, C_WORK,
    C_NOTES, C_MOVED_OUT, C_DECEASED, C_BUILDING, C_UNIT, C_ROOM_NO, C_SORT_KEY, C_COMMUNITY_NAME
};

/* Computed tags ("age>=80") loaded once per request. */
typedef struct computed_tag {
    char code[40], name[40];
    int min_age, max_age; /* the rule's bounds in whole years; -1 = open */
} computed_tag;

typedef struct read_ctx {
    nx_app *app;
    computed_tag computed[8];
    int ncomputed;
    nx_date today;
    bool reveal;
} read_ctx;

/* The computed tags change only when an admin edits the tag list; they are read from the database at
 * most every few seconds and shared by all threads. */
#define COMPUTED_TTL_MS 5000
static struct {
    pthread_mutex_t lock;
    int64_t loaded_at;
    computed_tag t[8];
    int n;
} computed_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int load_computed(store_tx *tx, read_ctx *c, nx_err *e)
{
    int64_t now = clock_now_ms();
    c->today = date_today();
    pthread_mutex_lock(&computed_cache.lock);
    if (computed_cache.loaded_at && now - computed_cache.loaded_at < COMPUTED_TTL_MS) {
        memcpy(c->computed, computed_cache.t, sizeof c->computed);
        c->ncomputed = computed_cache.n;
        pthread_mutex_unlock(&computed_cache.lock);
        return 0;
    }
    pthread_mutex_unlock(&computed_cache.lock);
    store_rows *r;
    int rc = store_query(tx, "SELECT code, name, rule FROM tags WHERE rule IS NOT NULL ORDER BY sort, id", NULL,
                         0, &r, e);
    if (rc)
        return rc;
    c->ncomputed = 0;
    while (c->ncomputed < 8 && store_row(r)) {
        int64_t age;
        const char *rule = store_text(r, 2);
        /* the rule forms org.c accepts: age>=N, age>N, age<=N, age<N */
        int min = -1, max = -1;
        if (rule && str_starts_with(rule, "age>=") && str_to_i64(rule + 5, 0, 150, &age) == 0)
            min = (int)age;
        else if (rule && str_starts_with(rule, "age>") && str_to_i64(rule + 4, 0, 150, &age) == 0)
            min = (int)age + 1;
        else if (rule && str_starts_with(rule, "age<=") && str_to_i64(rule + 5, 0, 150, &age) == 0)
            max = (int)age;
        else if (rule && str_starts_with(rule, "age<") && str_to_i64(rule + 4, 1, 150, &age) == 0)
            max = (int)age - 1;
        if (min >= 0 || max >= 0) {
            computed_tag *t = &c->computed[c->ncomputed++];
            str_copy(t->code, store_text(r, 0), sizeof t->code);
            str_copy(t->name, store_text(r, 1), sizeof t->name);
            t->min_age = min;
            t->max_age = max;
        }
    }
    if ((rc = store_rows_end(r, e)))
        return rc;
    pthread_mutex_lock(&computed_cache.lock);
    memcpy(computed_cache.t, c->computed, sizeof computed_cache.t);
    computed_cache.n = c->ncomputed;
    computed_cache.loaded_at = now;
    pthread_mutex_unlock(&computed_cache.lock);
    return 0;
}

/* Decrypt a ciphertext column into buf, masked unless c->reveal. False when the column is NULL or
 * does not decrypt. */
static bool secret_text(read_ctx *c, store_rows *r, int col, const char *context,
                        void (*mask)(const char *, char *, size_t), char *buf, size_t cap)
{
    size_t n;
    const void *ct = store_blob(r, col, &n);
    char *plain = people_open(c->app, context, ct, n);
    if (plain == NULL)
        return false;
    if (c->reveal)
        str_copy(buf, plain, cap);
    else
        mask(plain, buf, cap);
    field_plain_free(plain);
    return true;
}

static json_t *secret(read_ctx *c, store_rows *r, int col, const char *context,
                      void (*mask)(const char *, char *, size_t))
{
    char buf[400];
    return secret_text(c, r, col, context, mask, buf, sizeof buf) ? json_string(buf) : json_null();
}

static void w_secret(jsonw *w, const char *key, read_ctx *c, store_rows *r, int col, const char *context,
                     void (*mask)(const char *, char *, size_t))
{
    char buf[400];
    jsonw_kstr(w, key, secret_text(c, r, col, context, mask, buf, sizeof buf) ? buf : NULL);
}

static void w_id_or_null(jsonw *w, const char *key, store_rows *r, int col)
{
    if (store_isnull(r, col))
        jsonw_knull(w, key);
    else
        jsonw_kint(w, key, store_int(r, col));
}

static void w_tag(jsonw *w, const char *code, const char *name, bool computed)
{
    jsonw_obj_begin(w);
    jsonw_kstr(w, "code", code);
    jsonw_kstr(w, "name", name);
    jsonw_kbool(w, "computed", computed);
    jsonw_obj_end(w);
}

/* Append s to the text of len bytes in buf (cap bytes), truncating as snprintf would; the new
 * length. */
static size_t cat(char *buf, size_t cap, size_t len, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - 1 - len)
        n = cap - 1 - len;
    memcpy(buf + len, s, n);
    buf[len + n] = '\0';
    return len + n;
}

/* The one description of a resident as JSON, used by the detail (written straight into the
 * response), the list and the export (parsed into a json_t by row_json). Writes the current row's
 * object up to and including the computed tags, and leaves the object and its "tags" array open:
 * the caller appends the assigned tags (a separate query), closes the array, may add members of
 * its own, and closes the object. Errors are sticky in w. */
static void row_write(read_ctx *c, store_rows *r, bool detail, jsonw *w)
{
    nx_date b = {0};
    int age = 0;
    if (date_parse(store_text(r, C_BIRTH), &b) == 0)
        age = date_age(b, c->today);
    const char *sex = store_int(r, C_SEX) == 1 ? "male" : "female";
    char location[300] = "";
    size_t loclen = 0;
    const char *estate = store_text(r, C_ESTATE_NAME), *building = store_text(r, C_BUILDING);
    if (estate) {
        loclen = cat(location, sizeof location, loclen, estate);
        if (building) {
            loclen = cat(location, sizeof location, loclen, " ");
            loclen = cat(location, sizeof location, loclen, building);
        }
    }
    const char *status = store_text(r, C_STATUS);
    jsonw_obj_begin(w);
    jsonw_kint(w, "id", store_int(r, C_ID));
    jsonw_kint(w, "community_id", store_int(r, C_COMMUNITY));
    jsonw_kstr(w, "community_name", store_text(r, C_COMMUNITY_NAME));
    w_id_or_null(w, "grid_id", r, C_GRID);
    jsonw_kstr(w, "grid_name", store_text(r, C_GRID_NAME));
    w_id_or_null(w, "estate_id", r, C_ESTATE);
    jsonw_kstr(w, "estate_name", store_text(r, C_ESTATE_NAME));
    w_id_or_null(w, "household_id", r, C_HOUSEHOLD);
    w_id_or_null(w, "room_id", r, C_ROOM);
    jsonw_kstr(w, "location", location);
    jsonw_kstr(w, "name", store_text(r, C_NAME));
    jsonw_kstr(w, "name_pinyin", store_text(r, C_PINYIN));
    jsonw_kstr(w, "sex", sex);
    jsonw_kstr(w, "sex_label", choice_label(choice_sex, sex));
    jsonw_kstr(w, "birth_date", store_text(r, C_BIRTH));
    jsonw_kint(w, "age", age);
    jsonw_kstr(w, "id_type", store_text(r, C_ID_TYPE));
    jsonw_kstr(w, "id_type_label", id_type_label(id_type_parse(store_text(r, C_ID_TYPE))));
    w_secret(w, "id_number", c, r, C_ID_ENC, CTX_ID, mask_id);
    w_secret(w, "phone", c, r, C_PHONE_ENC, CTX_PHONE, mask_phone);
    w_secret(w, "address", c, r, C_ADDR_ENC, CTX_ADDRESS, mask_address);
    jsonw_kstr(w, "relation", store_text(r, C_RELATION));
    jsonw_kstr(w, "relation_label", choice_label(choice_relation, store_text(r, C_RELATION)));
    jsonw_kstr(w, "residence", store_text(r, C_RESIDENCE));
    jsonw_kstr(w, "residence_label", choice_label(choice_residence, store_text(r, C_RESIDENCE)));
    jsonw_kstr(w, "care_level", store_text(r, C_CARE));
    jsonw_kstr(w, "care_level_label", choice_label(choice_care_level, store_text(r, C_CARE)));
    jsonw_kstr(w, "status", status);
    jsonw_kstr(w, "status_label", choice_label(choice_status, status));
    jsonw_kint(w, "version", store_int(r, C_VERSION));
    if (detail) {
        char t[30];
        jsonw_kstr(w, "ethnicity", store_text(r, C_ETHNICITY));
        jsonw_kstr(w, "political", store_text(r, C_POLITICAL));
        jsonw_kstr(w, "political_label", choice_label(choice_political, store_text(r, C_POLITICAL)));
        jsonw_kstr(w, "education", store_text(r, C_EDUCATION));
        jsonw_kstr(w, "marital", store_text(r, C_MARITAL));
        jsonw_kstr(w, "work", store_text(r, C_WORK));
        jsonw_kstr(w, "notes", store_text(r, C_NOTES));
        jsonw_kstr(w, "moved_out_on", store_text(r, C_MOVED_OUT));
        jsonw_kstr(w, "deceased_on", store_text(r, C_DECEASED));
        char room[200] = "";
        const char *room_no = store_text(r, C_ROOM_NO), *unit = store_text(r, C_UNIT);
        if (room_no) {
            size_t len = cat(room, sizeof room, 0, location);
            len = cat(room, sizeof room, len, " ");
            if (unit && *unit) {
                len = cat(room, sizeof room, len, unit);
                len = cat(room, sizeof room, len, " ");
            }
            cat(room, sizeof room, len, room_no);
        }
        jsonw_kstr(w, "room_label", room[0] ? room : NULL);
        clock_format_local(store_int(r, C_CREATED), t);
        jsonw_kstr(w, "created_at", t);
        clock_format_local(store_int(r, C_UPDATED), t);
        jsonw_kstr(w, "updated_at", t);
    }
    jsonw_key(w, "tags");
    jsonw_arr_begin(w);
    for (int i = 0; i < c->ncomputed; i++)
        if (b.y && (c->computed[i].min_age < 0 || age >= c->computed[i].min_age) &&
            (c->computed[i].max_age < 0 || age <= c->computed[i].max_age) && strcmp(status, "deceased") != 0)
            w_tag(w, c->computed[i].code, c->computed[i].name, true);
}

/* Parse what a writer produced into a json_t (new reference), NULL on failure. */
static json_t *parse_text(const strbuf *b)
{
    json_error_t err;
    json_t *v = json_loadb(b->data, b->len, 0, &err);
    if (v == NULL)
        nx_log(LOG_ERROR, "people.json_reparse_failed (a bug) msg=\"%s\"", err.text);
    return v;
}

/* The JSON of the current row as a json_t (assigned tags added separately by attach_tags), NULL on
 * failure. scratch is reused from row to row. */
static json_t *row_json(read_ctx *c, store_rows *r, bool detail, strbuf *scratch)
{
    scratch->len = 0;
    jsonw w;
    jsonw_init(&w, scratch);
    row_write(c, r, detail, &w);
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    if (jsonw_finish(&w))
        return NULL;
    return parse_text(scratch);
}

/* SQL of the assigned tags of one resident: the same text attach_tags builds for a single id, so
 * both share one prepared statement. */
#define TAGS_SQL "SELECT rt.resident_id, t.code, t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id IN ("

/* Append the assigned tags of the residents in items (an array of row_json objects). */
static int attach_tags(store_tx *tx, json_t *items, nx_err *e)
{
    size_t n = json_array_size(items);
    if (n == 0)
        return 0;
    for (size_t start = 0; start < n; start += 100) {
        size_t end = start + 100 < n ? start + 100 : n;
        char sql[2048] = TAGS_SQL;
        store_param p[100];
        int k = 0;
        for (size_t i = start; i < end; i++) {
            p[k] = P_INT(json_integer_value(json_object_get(json_array_get(items, i), "id")));
            size_t len = strlen(sql);
            snprintf(sql + len, sizeof sql - len, "%s$%d", k ? ", " : "", k + 1);
            k++;
        }
        size_t len = strlen(sql);
        /* in (resident, tag id) order by the primary key: no sort step */
        snprintf(sql + len, sizeof sql - len, ")");
        store_rows *r;
        int rc = store_query(tx, sql, p, k, &r, e);
        if (rc)
            return rc;
        while (store_row(r)) {
            int64_t rid = store_int(r, 0);
            for (size_t i = start; i < end; i++) {
                json_t *it = json_array_get(items, i);
                if (json_integer_value(json_object_get(it, "id")) == rid) {
                    json_array_append_new(json_object_get(it, "tags"),
                                          json_pack("{s:s, s:s, s:b}", "code", store_text(r, 1), "name",
                                                    store_text(r, 2), "computed", 0));
                    break;
                }
            }
        }
        if ((rc = store_rows_end(r, e)))
            return rc;
    }
    return 0;
}

/* The assigned tags of one resident as elements of the open array in w. */
static int tags_write(store_tx *tx, int64_t id, jsonw *w, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_INT(id)};
    int rc = store_query(tx, TAGS_SQL "$1)", p, 1, &r, e);
    if (rc)
        return rc;
    while (store_row(r))
        w_tag(w, store_text(r, 1), store_text(r, 2), false);
    return store_rows_end(r, e);
}

/* The emergency contacts of a resident as one array value in w. */
static int contacts_write(read_ctx *c, store_tx *tx, int64_t id, jsonw *w, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_INT(id)};
    int rc = store_query(tx,
                         "SELECT id, name, relation, phone_enc, is_primary FROM emergency_contacts "
                         "WHERE resident_id = $1 ORDER BY sort, id",
                         p, 1, &r, e);
    if (rc)
        return rc;
    jsonw_arr_begin(w);
    while (store_row(r)) {
        jsonw_obj_begin(w);
        jsonw_kint(w, "id", store_int(r, 0));
        jsonw_kstr(w, "name", store_text(r, 1));
        jsonw_kstr(w, "relation", store_text(r, 2));
        w_secret(w, "phone", c, r, 3, CTX_CONTACT_PHONE, mask_phone);
        jsonw_kbool(w, "is_primary", store_int(r, 4) != 0);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    return store_rows_end(r, e);
}

static int contacts_json(read_ctx *c, store_tx *tx, int64_t id, json_t **out, nx_err *e)
{
    strbuf b;
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    int rc = contacts_write(c, tx, id, &w, e);
    if (rc == 0 && jsonw_finish(&w) != 0)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    json_t *v = rc == 0 ? parse_text(&b) : NULL;
    if (rc == 0 && v == NULL)
        rc = nx_fail(e, NX_EINTERNAL, "", "无法生成紧急联系人");
    if (rc == 0)
        *out = v;
    strbuf_cleanup(&b);
    return rc;
}

/* One household member, copied out of its row so that the head can be written first. */
typedef struct member {
    int64_t id;
    char name[128], relation[32], status[32];
    bool male;
    int age;
} member;

static void member_write(jsonw *w, const member *m, int64_t self)
{
    const char *sex = m->male ? "male" : "female";
    jsonw_obj_begin(w);
    jsonw_kint(w, "id", m->id);
    jsonw_kstr(w, "name", m->name);
    jsonw_kstr(w, "relation", m->relation);
    jsonw_kstr(w, "relation_label", choice_label(choice_relation, m->relation));
    jsonw_kstr(w, "sex", sex);
    jsonw_kstr(w, "sex_label", choice_label(choice_sex, sex));
    jsonw_kint(w, "age", m->age);
    jsonw_kstr(w, "status", m->status);
    jsonw_kstr(w, "status_label", choice_label(choice_status, m->status));
    jsonw_kbool(w, "self", m->id == self);
    jsonw_obj_end(w);
}

/* The members of a household as one array value in w: the head first, then oldest first. */
static int members_write(store_tx *tx, int64_t household, int64_t self, jsonw *w, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_INT(household)};
    /* Oldest first by the index; the head of the household is written first below. */
    int rc = store_query(tx,
                         "SELECT id, name, relation, sex, birth_date, status FROM residents WHERE household_id = $1 "
                         "ORDER BY birth_date",
                         p, 1, &r, e);
    if (rc)
        return rc;
    member stack[16], *m = stack;
    size_t n = 0, cap = sizeof stack / sizeof stack[0];
    nx_date today = date_today();
    while (store_row(r)) {
        if (n == cap) {
            member *bigger = malloc(2 * cap * sizeof *bigger);
            if (bigger == NULL) {
                rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
                break;
            }
            memcpy(bigger, m, n * sizeof *m);
            if (m != stack)
                free(m);
            m = bigger;
            cap *= 2;
        }
        member *x = &m[n++];
        nx_date b = {0};
        date_parse(store_text(r, 4), &b);
        x->id = store_int(r, 0);
        str_copy(x->name, store_text(r, 1) ? store_text(r, 1) : "", sizeof x->name);
        str_copy(x->relation, store_text(r, 2) ? store_text(r, 2) : "", sizeof x->relation);
        str_copy(x->status, store_text(r, 5) ? store_text(r, 5) : "", sizeof x->status);
        x->male = store_int(r, 3) == 1;
        x->age = b.y ? date_age(b, today) : 0;
    }
    int end = store_rows_end(r, rc ? NULL : e);
    if (rc == 0)
        rc = end;
    if (rc == 0) {
        /* Heads first, the last one read first, then everyone else oldest first: the order the
         * earlier code produced by inserting each head at the front of the array. */
        jsonw_arr_begin(w);
        for (size_t i = n; i-- > 0;)
            if (strcmp(m[i].relation, "head") == 0)
                member_write(w, &m[i], self);
        for (size_t i = 0; i < n; i++)
            if (strcmp(m[i].relation, "head") != 0)
                member_write(w, &m[i], self);
        jsonw_arr_end(w);
    }
    if (m != stack)
        free(m);
    return rc;
}

int people_household_members(store_tx *tx, int64_t household, int64_t self, json_t **out, nx_err *e)
{
    strbuf b;
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    int rc = members_write(tx, household, self, &w, e);
    if (rc == 0 && jsonw_finish(&w) != 0)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    json_t *v = rc == 0 ? parse_text(&b) : NULL;
    if (rc == 0 && v == NULL)
        rc = nx_fail(e, NX_EINTERNAL, "", "无法生成家庭成员列表");
    if (rc == 0)
        *out = v;
    strbuf_cleanup(&b);
    return rc;
}

/* The detail of a resident written into out (declared in people_http.c, which uses it; see there).
 * Same contract as people_resident_get; out receives the JSON text of the object. */
int people_resident_write(nx_app *app, const nx_principal *who, int64_t id, strbuf *out, nx_err *e);

int people_resident_write(nx_app *app, const nx_principal *who, int64_t id, strbuf *out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ) && !(perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权查看居民信息");
    char sql[2048] = RES_COLS " WHERE r.id = $1";
    store_param p[4] = {P_INT(id)};
    int n = 1, rc;
    if (!perm_has(who, RIGHT_PEOPLE_READ)) {
        /* A resident sees themselves and their household. */
        p[n] = P_INT(who->resident_id);
        size_t len = strlen(sql);
        snprintf(sql + len, sizeof sql - len,
                 " AND (r.id = $%d OR r.household_id = (SELECT household_id FROM residents WHERE id = $%d))", n + 1,
                 n + 1);
        n++;
    } else if ((rc = perm_scope_sql(who, "r.", "id", sql, sizeof sql, p, &n))) {
        return rc;
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    read_ctx c = {.app = app};
    store_rows *r = NULL;
    jsonw w;
    jsonw_init(&w, out);
    if ((rc = load_computed(tx, &c, e)) || (rc = store_query(tx, sql, p, n, &r, e)))
        goto done;
    if ((rc = store_first(r, "居民不存在", e)))
        goto done;
    row_write(&c, r, true, &w);
    int64_t household = store_int(r, C_HOUSEHOLD);
    store_rows_free(r);
    r = NULL;
    if ((rc = tags_write(tx, id, &w, e)))
        goto done;
    jsonw_arr_end(&w);
    jsonw_key(&w, "contacts");
    if ((rc = contacts_write(&c, tx, id, &w, e)))
        goto done;
    jsonw_key(&w, "household_members");
    if (household) {
        if ((rc = members_write(tx, household, id, &w, e)))
            goto done;
    } else {
        jsonw_arr_begin(&w);
        jsonw_arr_end(&w);
    }
    jsonw_kbool(&w, "can_reveal", perm_has(who, RIGHT_REVEAL));
    jsonw_kbool(&w, "can_edit", perm_has(who, RIGHT_PEOPLE_WRITE));
    jsonw_obj_end(&w);
    if ((rc = jsonw_finish(&w)))
        rc = nx_fail(e, rc, "", rc == NX_ETOOBIG ? "响应过大" : "无法生成居民信息");
done:
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}

int people_resident_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    strbuf b;
    strbuf_init(&b, 0);
    int rc = people_resident_write(app, who, id, &b, e);
    if (rc == 0 && (*out = parse_text(&b)) == NULL)
        rc = nx_fail(e, NX_EINTERNAL, "", "无法生成居民信息");
    strbuf_cleanup(&b);
    return rc;
}

int people_reveal(nx_app *app, const nx_principal *who, int64_t id, json_t *fields, json_t **out, nx_err *e)
{
    static const char *const known[] = {"id_number", "phone", "address", "contacts"};
    bool want[4] = {false, false, false, false};
    if (!json_is_array(fields) || json_array_size(fields) == 0)
        return nx_fail(e, NX_EINVAL, "fields", "请指定要查看的字段：id_number、phone、address、contacts");
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        int k = -1;
        for (int j = 0; j < 4; j++)
            if (json_is_string(f) && strcmp(json_string_value(f), known[j]) == 0)
                k = j;
        if (k < 0)
            return nx_fail(e, NX_EINVAL, "fields", "不能查看的字段：%.40s", json_is_string(f) ? json_string_value(f) : "?");
        want[k] = true;
    }
    if (!perm_has(who, RIGHT_REVEAL))
        return nx_fail(e, NX_EPERM, "", "无权查看完整个人信息");
    char sql[800] = "SELECT r.id_enc, r.phone_enc, r.address_enc, r.community_id FROM residents r WHERE r.id = $1";
    store_param p[4] = {P_INT(id)};
    int n = 1, rc;
    if ((rc = perm_scope_sql(who, "r.", "id", sql, sizeof sql, p, &n)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_rows *r;
    if ((rc = store_query(tx, sql, p, n, &r, e)))
        goto fail;
    if ((rc = store_first(r, "居民不存在", e))) {
        store_rows_free(r);
        goto fail;
    }
    read_ctx c = {.app = app, .reveal = true};
    json_t *o = json_object();
    if (want[0])
        json_object_set_new(o, "id_number", secret(&c, r, 0, CTX_ID, mask_id));
    if (want[1])
        json_object_set_new(o, "phone", secret(&c, r, 1, CTX_PHONE, mask_phone));
    if (want[2])
        json_object_set_new(o, "address", secret(&c, r, 2, CTX_ADDRESS, mask_address));
    int64_t community = store_int(r, 3);
    store_rows_free(r);
    if (want[3]) {
        json_t *contacts;
        if ((rc = contacts_json(&c, tx, id, &contacts, e))) {
            json_decref(o);
            goto fail;
        }
        json_object_set_new(o, "contacts", contacts);
    }
    json_t *detail = json_pack("{s:O}", "fields", fields);
    rc = audit_write(tx, who, "reveal", "resident", id, community, detail, e);
    json_decref(detail);
    if (rc) {
        json_decref(o);
        goto fail;
    }
    if ((rc = store_commit(tx, e))) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
fail:
    store_rollback(tx);
    return rc;
}

/* ---- search ---- */

typedef struct search_sql {
    char sql[4096];
    store_param p[40];
    int n;
    /* text kept alive for the parameters */
    char a[200], b[220], q[200], date[11], dates[4][11];
    unsigned char bidx[16];
    char suffix[16];  /* for tail search longer than 4: the digits to check after decrypting */
    bool check_phone_suffix;
} search_sql;

/* Append a condition with one parameter; fmt is a literal with one %d (the parameter number). */
#define add(s, fmt, v)                                                                             \
    do {                                                                                           \
        (s)->p[(s)->n++] = (v);                                                                    \
        size_t l_ = strlen((s)->sql);                                                              \
        snprintf((s)->sql + l_, sizeof(s)->sql - l_, fmt, (s)->n);                                 \
    } while (0)

/* The smallest string greater than every string starting with prefix (for range scans). */
static void prefix_end(const char *prefix, char *out, size_t n)
{
    snprintf(out, n, "%s\xf4\x8f\xbf\xbf", prefix);
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

static int build_q(nx_app *app, search_sql *s, const char *q0, nx_err *e)
{
    char q[200];
    str_copy(q, q0, sizeof q);
    char *t = str_trim(q);
    size_t n = strlen(t);
    if (n == 0)
        return 0;
    if (!str_utf8_valid(t, n))
        return nx_fail(e, NX_EINVAL, "q", "搜索内容含有无效字符");
    if (str_utf8_len(t) > 40)
        return nx_fail(e, NX_EINVAL, "q", "搜索内容过长");
    char norm[40];
    idcard_info info;
    if (n == 18 && idcard_parse(t, norm, &info, NULL) == 0) {
        blind_index(app->keys, CTX_ID, norm, s->bidx);
        add(s, " AND r.id_bidx = $%d", P_BLOB(s->bidx, 16));
        return 0;
    }
    if (n == 11 && t[0] == '1' && all_digits(t, n)) {
        blind_index(app->keys, CTX_PHONE, t, s->bidx);
        add(s, " AND r.phone_bidx = $%d", P_BLOB(s->bidx, 16));
        return 0;
    }
    bool tailx = n >= 4 && n <= 10 && (t[n - 1] == 'X' || t[n - 1] == 'x') && all_digits(t, n - 1);
    if (n >= 4 && n <= 10 && (all_digits(t, n) || tailx)) {
        for (size_t i = 0; i < n; i++)
            t[i] = (char)toupper((unsigned char)t[i]);
        str_copy(s->q, t + n - 4, sizeof s->q);
        if (n > 4) {
            str_copy(s->suffix, t, sizeof s->suffix);
            s->check_phone_suffix = true;
        }
        s->p[s->n++] = P_TEXT(s->q);
        size_t l = strlen(s->sql);
        snprintf(s->sql + l, sizeof s->sql - l,
                 " AND r.id IN (SELECT id FROM residents WHERE phone_tail = $%d "
                 "UNION ALL SELECT id FROM residents WHERE id_tail = $%d)",
                 s->n, s->n);
        return 0;
    }
    bool ascii = true;
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)t[i]))
            ascii = false;
    if (ascii) {
        for (size_t i = 0; i < n; i++)
            s->q[i] = (char)tolower((unsigned char)t[i]);
        s->q[n] = '\0';
        str_copy(s->a, s->q, sizeof s->a);
        snprintf(s->b, sizeof s->b, "%s{", s->q); /* '{' follows 'z' */
        s->p[s->n++] = P_TEXT(s->a);
        s->p[s->n++] = P_TEXT(s->b);
        size_t len = strlen(s->sql);
        snprintf(s->sql + len, sizeof s->sql - len,
                 " AND r.id IN (SELECT id FROM residents WHERE name_initials >= $%d AND name_initials < $%d "
                 "UNION ALL SELECT id FROM residents WHERE name_pinyin >= $%d AND name_pinyin < $%d)",
                 s->n - 1, s->n, s->n - 1, s->n);
        return 0;
    }
    char *simp = hanconv_t2s(t);
    str_copy(s->a, simp ? simp : t, sizeof s->a);
    free(simp);
    prefix_end(s->a, s->b, sizeof s->b);
    s->p[s->n++] = P_TEXT(s->a);
    s->p[s->n++] = P_TEXT(s->b);
    size_t len = strlen(s->sql);
    snprintf(s->sql + len, sizeof s->sql - len,
             " AND r.id IN (SELECT resident_id FROM resident_name_suffixes WHERE suffix >= $%d AND suffix < $%d)",
             s->n - 1, s->n);
    return 0;
}

static int years_ago(nx_date today, int years, char out[11])
{
    nx_date d = {today.y - years, today.m, today.d};
    if (d.m == 2 && d.d == 29 && !date_valid(d.y, 2, 29))
        d.d = 28;
    date_format(d, out);
    return 0;
}

typedef struct sort_spec {
    const char *order;  /* ORDER BY clause */
    char kind;          /* cursor prefix */
} sort_spec;

static int parse_sort(const char *s, sort_spec *out, nx_err *e)
{
    if (s == NULL || strcmp(s, "name") == 0)
        *out = (sort_spec){" ORDER BY r.sort_key, r.id", 'n'};
    else if (strcmp(s, "age") == 0)
        *out = (sort_spec){" ORDER BY r.birth_date DESC, r.id DESC", 'a'};
    else if (strcmp(s, "-age") == 0)
        *out = (sort_spec){" ORDER BY r.birth_date, r.id", 'A'};
    else if (strcmp(s, "created") == 0)
        *out = (sort_spec){" ORDER BY r.id", 'c'};
    else if (strcmp(s, "-created") == 0)
        *out = (sort_spec){" ORDER BY r.id DESC", 'C'};
    else
        return nx_fail(e, NX_EINVAL, "sort", "排序方式无效，可选 name、age、-age、created、-created");
    return 0;
}

/* Cursor text: "<kind>.<hex or date>.<id>". */
static int apply_cursor(search_sql *s, const sort_spec *sp, const char *cursor, unsigned char *keybuf,
                        size_t keycap, nx_err *e)
{
    if (cursor == NULL || *cursor == '\0')
        return 0;
    const char *dot1 = strchr(cursor, '.');
    const char *dot2 = dot1 ? strrchr(cursor, '.') : NULL;
    int64_t last_id;
    if (cursor[0] != sp->kind || dot1 != cursor + 1 || dot2 == NULL || dot2 == dot1 ||
        str_to_i64(dot2 + 1, 1, INT64_MAX, &last_id))
        return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
    size_t vlen = (size_t)(dot2 - dot1 - 1);
    const char *v = dot1 + 1;
    size_t len = strlen(s->sql);
    switch (sp->kind) {
    case 'n': {
        if (vlen % 2 || vlen / 2 > keycap)
            return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
        for (size_t i = 0; i < vlen / 2; i++) {
            unsigned hi, lo;
            char h[3] = {v[2 * i], v[2 * i + 1], 0};
            if (!isxdigit((unsigned char)h[0]) || !isxdigit((unsigned char)h[1]))
                return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
            hi = (unsigned)(isdigit((unsigned char)h[0]) ? h[0] - '0' : (tolower((unsigned char)h[0]) - 'a' + 10));
            lo = (unsigned)(isdigit((unsigned char)h[1]) ? h[1] - '0' : (tolower((unsigned char)h[1]) - 'a' + 10));
            keybuf[i] = (unsigned char)(hi << 4 | lo);
        }
        s->p[s->n++] = P_BLOB(keybuf, vlen / 2);
        s->p[s->n++] = P_INT(last_id);
        snprintf(s->sql + len, sizeof s->sql - len, " AND (r.sort_key > $%d OR (r.sort_key = $%d AND r.id > $%d))",
                 s->n - 1, s->n - 1, s->n);
        return 0;
    }
    case 'a':
    case 'A': {
        nx_date d;
        char date[11];
        if (vlen != 10)
            return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
        memcpy(date, v, 10);
        date[10] = '\0';
        if (date_parse(date, &d))
            return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
        str_copy(s->date, date, sizeof s->date);
        s->p[s->n++] = P_TEXT(s->date);
        s->p[s->n++] = P_INT(last_id);
        const char *op = sp->kind == 'a' ? "<" : ">";
        snprintf(s->sql + len, sizeof s->sql - len,
                 " AND (r.birth_date %s $%d OR (r.birth_date = $%d AND r.id %s $%d))", op, s->n - 1, s->n - 1, op,
                 s->n);
        return 0;
    }
    default:
        s->p[s->n++] = P_INT(last_id);
        snprintf(s->sql + len, sizeof s->sql - len, " AND r.id %s $%d", sp->kind == 'c' ? ">" : "<", s->n);
        return 0;
    }
}

static void make_cursor(const sort_spec *sp, json_t *last, store_rows *r, char *out, size_t n)
{
    int64_t id = json_integer_value(json_object_get(last, "id"));
    if (sp->kind == 'n') {
        size_t kl;
        const unsigned char *k = store_blob(r, C_SORT_KEY, &kl);
        char hex[1100];
        if (kl > 512)
            kl = 512;
        str_hex(hex, k, kl);
        snprintf(out, n, "n.%s.%lld", hex, (long long)id);
    } else if (sp->kind == 'a' || sp->kind == 'A') {
        snprintf(out, n, "%c.%s.%lld", sp->kind, json_string_value(json_object_get(last, "birth_date")), (long long)id);
    } else {
        snprintf(out, n, "%c.x.%lld", sp->kind, (long long)id);
    }
}

/* Everything but the cursor, ordering and limit. */
static int build_where(nx_app *app, const nx_principal *who, const resident_query *q, search_sql *s, nx_err *e)
{
    int rc;
    nx_date today = date_today();
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看居民信息");
    str_copy(s->sql, RES_COLS " WHERE 1 = 1", sizeof s->sql);
    s->n = 0;
    if ((rc = perm_scope_sql(who, "r.", "id", s->sql, sizeof s->sql, s->p, &s->n)))
        return rc;
    const char *status = q->status ? q->status : "active";
    if (strcmp(status, "all") != 0) {
        const char *code = choice_parse(choice_status, status);
        if (!code)
            return nx_fail(e, NX_EINVAL, "status", "状态无效，可选 active、moved_out、deceased、all");
        add(s, " AND r.status = $%d", P_TEXT(code));
    }
    if (q->community_id)
        add(s, " AND r.community_id = $%d", P_INT(q->community_id));
    if (q->grid_id)
        add(s, " AND r.grid_id = $%d", P_INT(q->grid_id));
    if (q->estate_id)
        add(s, " AND r.estate_id = $%d", P_INT(q->estate_id));
    if (q->household_id)
        add(s, " AND r.household_id = $%d", P_INT(q->household_id));
    if (q->sex) {
        const char *sx = choice_parse(choice_sex, q->sex);
        if (!sx)
            return nx_fail(e, NX_EINVAL, "sex", "性别应为 male 或 female");
        add(s, " AND r.sex = $%d", P_INT(strcmp(sx, "male") == 0 ? 1 : 2));
    }
    if (q->residence) {
        const char *c = choice_parse(choice_residence, q->residence);
        if (!c)
            return nx_fail(e, NX_EINVAL, "residence", "户籍状态无效");
        add(s, " AND r.residence = $%d", P_TEXT(c));
    }
    if (q->care_level) {
        const char *c = choice_parse(choice_care_level, q->care_level);
        if (!c)
            return nx_fail(e, NX_EINVAL, "care_level", "关怀等级无效");
        add(s, " AND r.care_level = $%d", P_TEXT(c));
    }
    if (q->age_min >= 0) {
        years_ago(today, q->age_min, s->dates[0]);
        add(s, " AND r.birth_date <= $%d", P_TEXT(s->dates[0]));
    }
    if (q->age_max >= 0) {
        years_ago(today, q->age_max + 1, s->dates[1]);
        add(s, " AND r.birth_date > $%d", P_TEXT(s->dates[1]));
    }
    if (q->tag) {
        /* A computed tag is a condition on the birth date; an assigned one a join. */
        store_tx *tx;
        if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
            return rc;
        read_ctx c = {.app = app};
        rc = load_computed(tx, &c, e);
        int64_t exists = 0;
        store_param tp[] = {P_TEXT(q->tag)};
        int found = rc ? rc : store_one_int(tx, "SELECT id FROM tags WHERE code = $1", tp, 1, &exists, NULL);
        store_rollback(tx);
        if (rc)
            return rc;
        if (found)
            return nx_fail(e, NX_EINVAL, "tag", "标签不存在");
        bool computed = false;
        for (int i = 0; i < c.ncomputed; i++)
            if (strcmp(c.computed[i].code, q->tag) == 0) {
                if (c.computed[i].min_age >= 0) {
                    years_ago(today, c.computed[i].min_age, s->dates[2]);
                    add(s, " AND r.birth_date <= $%d", P_TEXT(s->dates[2]));
                }
                if (c.computed[i].max_age >= 0) {
                    years_ago(today, c.computed[i].max_age + 1, s->dates[3]);
                    add(s, " AND r.birth_date > $%d", P_TEXT(s->dates[3]));
                }
                computed = true;
            }
        if (!computed)
            add(s, " AND r.id IN (SELECT rt.resident_id FROM resident_tags rt WHERE rt.tag_id = $%d)",
                P_INT(exists));
    }
    if (q->q && (rc = build_q(app, s, q->q, e)))
        return rc;
    return 0;
}

static bool suffix_matches(nx_app *app, store_rows *r, const char *suffix)
{
    size_t sl = strlen(suffix);
    for (int col = C_ID_ENC; col <= C_PHONE_ENC; col++) {
        size_t n;
        const void *ct = store_blob(r, col, &n);
        char *plain = people_open(app, col == C_ID_ENC ? CTX_ID : CTX_PHONE, ct, n);
        bool ok = plain && strlen(plain) >= sl && strcmp(plain + strlen(plain) - sl, suffix) == 0;
        field_plain_free(plain);
        if (ok)
            return true;
    }
    return false;
}

int people_resident_search(nx_app *app, const nx_principal *who, const resident_query *q, json_t **out, nx_err *e)
{
    search_sql *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NX_ENOMEM;
    sort_spec sp;
    unsigned char keybuf[512];
    int rc = parse_sort(q->sort, &sp, e);
    if (rc || (rc = build_where(app, who, q, s, e))) {
        free(s);
        return rc;
    }
    store_tx *tx = NULL;
    store_rows *r = NULL;
    json_t *items = json_array(), *res = NULL;
    int64_t total = -1;
    strbuf scratch;
    strbuf_init(&scratch, 0);
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        goto done;
    read_ctx c = {.app = app};
    if ((rc = load_computed(tx, &c, e)))
        goto done;
    if (q->with_total && !(q->cursor && *q->cursor)) {
        /* Count with the same conditions: replace the column list. */
        char csql[4096];
        const char *from = strstr(s->sql, " FROM residents r");
        snprintf(csql, sizeof csql, "SELECT count(*)%s", from);
        if ((rc = store_one_int(tx, csql, s->p, s->n, &total, e)))
            goto done;
    }
    if ((rc = apply_cursor(s, &sp, q->cursor, keybuf, sizeof keybuf, e)))
        goto done;
    size_t len = strlen(s->sql);
    if (s->check_phone_suffix)
        snprintf(s->sql + len, sizeof s->sql - len, "%s", sp.order);
    else
        snprintf(s->sql + len, sizeof s->sql - len, "%s LIMIT %d", sp.order, q->limit + 1);
    if ((rc = store_query(tx, s->sql, s->p, s->n, &r, e)))
        goto done;
    char next[1200] = "";
    int count = 0, matched = 0;
    while (store_row(r)) {
        if (s->check_phone_suffix && !suffix_matches(app, r, s->suffix))
            continue;
        matched++;
        if (count == q->limit)
            break; /* one more row exists: the cursor made below stands */
        json_t *row = row_json(&c, r, false, &scratch);
        if (row == NULL) {
            rc = nx_fail(e, NX_EINTERNAL, "", "无法生成居民信息");
            goto done;
        }
        json_array_append_new(items, row);
        count++;
        if (count == q->limit) /* while the last row is current, for its sort key */
            make_cursor(&sp, json_array_get(items, (size_t)count - 1), r, next, sizeof next);
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;
    if (count < q->limit || matched <= q->limit)
        next[0] = '\0';
    if (s->check_phone_suffix && total >= 0)
        total = -1; /* the count above covered only the last four digits */
    if ((rc = attach_tags(tx, items, e)))
        goto done;
    res = json_pack("{s:O, s:o}", "items", items, "next_cursor", next[0] ? json_string(next) : json_null());
    if (total >= 0)
        json_object_set_new(res, "total", json_integer(total));
done:
    store_rows_free(r);
    store_rollback(tx);
    json_decref(items);
    strbuf_cleanup(&scratch);
    free(s);
    if (rc) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return 0;
}

int people_resident_each(nx_app *app, const nx_principal *who, const resident_query *q, bool reveal,
                         int (*fn)(json_t *row, void *ctx), void *ctx, int64_t *count, nx_err *e)
{
    if (reveal && !perm_has(who, RIGHT_REVEAL))
        return nx_fail(e, NX_EPERM, "", "无权导出完整个人信息");
    if (!perm_has(who, RIGHT_EXPORT))
        return nx_fail(e, NX_EPERM, "", "无权导出居民名单");
    sort_spec sp;
    int rc = parse_sort(q->sort, &sp, e);
    if (rc)
        return rc;
    search_sql *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NX_ENOMEM;
    store_tx *tx = NULL;
    store_rows *r = NULL;
    json_t *batch = json_array();
    unsigned char keybuf[512];
    char cursor[1200] = "";
    strbuf scratch;
    strbuf_init(&scratch, 0);
    *count = 0;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        goto done;
    read_ctx c = {.app = app, .reveal = reveal};
    if ((rc = load_computed(tx, &c, e)))
        goto done;
    /* Pages of 200 in one read transaction (one snapshot): a page's rows are read and released
     * before its tags are fetched, since a transaction runs one statement at a time. */
    for (;;) {
        memset(s, 0, sizeof *s);
        if ((rc = build_where(app, who, q, s, e)) ||
            (rc = apply_cursor(s, &sp, cursor[0] ? cursor : NULL, keybuf, sizeof keybuf, e)))
            goto done;
        size_t len = strlen(s->sql);
        snprintf(s->sql + len, sizeof s->sql - len, "%s LIMIT 200", sp.order);
        if ((rc = store_query(tx, s->sql, s->p, s->n, &r, e)))
            goto done;
        int rows = 0;
        cursor[0] = '\0';
        while (store_row(r)) {
            rows++;
            json_t *row = row_json(&c, r, true, &scratch);
            if (row == NULL) {
                rc = nx_fail(e, NX_EINTERNAL, "", "无法生成居民信息");
                goto done;
            }
            make_cursor(&sp, row, r, cursor, sizeof cursor);
            if (s->check_phone_suffix && !suffix_matches(app, r, s->suffix)) {
                json_decref(row);
                continue;
            }
            json_array_append_new(batch, row);
        }
        rc = store_rows_end(r, e);
        r = NULL;
        if (rc)
            goto done;
        if ((rc = attach_tags(tx, batch, e)))
            goto done;
        size_t i;
        json_t *row;
        json_array_foreach(batch, i, row) {
            if (*count >= q->limit)
                break;
            if ((rc = fn(row, ctx)))
                goto done;
            (*count)++;
        }
        json_array_clear(batch);
        if (rows < 200 || *count >= q->limit)
            break;
    }
done:
    json_decref(batch);
    strbuf_cleanup(&scratch);
    store_rows_free(r);
    store_rollback(tx);
    free(s);
    return rc;
}
