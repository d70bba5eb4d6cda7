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
#include "store/page.h"
#include "store/query.h"
#include "text/hanconv.h"
#include "text/idcard.h"
#include "text/mask.h"
#include "text/phone.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RES_FROM                                                                                   \
    "FROM residents r LEFT JOIN grids g ON g.id = r.grid_id LEFT JOIN estates es ON es.id = r.estate_id " \
    "LEFT JOIN rooms rm ON rm.id = r.room_id LEFT JOIN buildings b ON b.id = rm.building_id "             \
    "JOIN communities c ON c.id = r.community_id"
#define RES_COLS                                                                                   \
    "SELECT r.id, r.community_id, r.grid_id, g.name, r.estate_id, es.name, r.household_id, r.room_id, "   \
    "r.name, r.name_pinyin, r.sex, r.birth_date, r.id_type, r.id_enc, r.phone_enc, r.address_enc, "       \
    "r.relation, r.residence, r.care_level, r.status, r.version, r.created_at, r.updated_at, "            \
    "r.ethnicity, r.political, r.education, r.marital, r.work, r.notes, r.moved_out_on, r.deceased_on, "  \
    "b.name, rm.unit, rm.number, r.sort_key, c.name " RES_FROM
/* The count of a search: the same joins (the filters name their tables). */
#define RES_COUNT "SELECT count(*) " RES_FROM

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
    /* at most TAGS_BATCH ids per query, well inside the builder's parameters */
    enum { TAGS_BATCH = SQLQ_PARAMS - 8 };
    for (size_t start = 0; start < n; start += TAGS_BATCH) {
        size_t end = start + TAGS_BATCH < n ? start + TAGS_BATCH : n;
        sqlq q;
        sqlq_init(&q, TAGS_SQL);
        for (size_t i = start; i < end; i++)
            sqlq_sql(&q, "%s$%d", i > start ? ", " : "",
                     sqlq_param(&q, P_INT(json_integer_value(json_object_get(json_array_get(items, i), "id")))));
        /* in (resident, tag id) order by the primary key: no sort step */
        sqlq_sql(&q, ")");
        store_rows *r;
        int rc = sqlq_query(tx, &q, &r, e);
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
    sqlq q;
    sqlq_init(&q, RES_COLS " WHERE r.id = $1");
    sqlq_param(&q, P_INT(id));
    if (!perm_has(who, RIGHT_PEOPLE_READ)) {
        /* A resident sees themselves and their household. */
        int k = sqlq_param(&q, P_INT(who->resident_id));
        sqlq_sql(&q, " AND (r.id = $%d OR r.household_id = (SELECT household_id FROM residents WHERE id = $%d))", k,
                 k);
    } else {
        perm_scope_q(who, "r.", "id", &q);
    }
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    read_ctx c = {.app = app};
    store_rows *r = NULL;
    jsonw w;
    jsonw_init(&w, out);
    if ((rc = load_computed(tx, &c, e)) || (rc = sqlq_query(tx, &q, &r, e)))
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
    sqlq q;
    sqlq_init(&q, "SELECT r.id_enc, r.phone_enc, r.address_enc, r.community_id FROM residents r WHERE r.id = $1");
    sqlq_param(&q, P_INT(id));
    perm_scope_q(who, "r.", "id", &q);
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)))
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

/* A search being built: the query and the text its parameters borrow (sqlq borrows P_TEXT and
 * P_BLOB values, so they live here, beside it). */
typedef struct search {
    sqlq q;
    char a[200], b[220], text[200], date[11], dates[4][11];
    unsigned char bidx[16];
    unsigned char key[512]; /* the sort key of a cursor */
    char suffix[16];        /* tail search longer than 4: the digits to check after decrypting */
    bool check_suffix;
} search;

/* What the tag filter of a query stands for: a computed tag is a condition on the birth date, an
 * assigned one a join on its id. */
typedef struct tag_filter {
    bool set;
    int64_t id;            /* assigned tag; 0 for a computed one */
    int min_age, max_age;  /* computed tag's bounds; -1 = open */
} tag_filter;

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

static int build_q(nx_app *app, search *s, const char *q0, nx_err *e)
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
        sqlq_add(&s->q, " AND r.id_bidx = $%d", P_BLOB(s->bidx, 16));
        return 0;
    }
    if (n == 11 && t[0] == '1' && all_digits(t, n)) {
        blind_index(app->keys, CTX_PHONE, t, s->bidx);
        sqlq_add(&s->q, " AND r.phone_bidx = $%d", P_BLOB(s->bidx, 16));
        return 0;
    }
    bool tailx = n >= 4 && n <= 10 && (t[n - 1] == 'X' || t[n - 1] == 'x') && all_digits(t, n - 1);
    if (n >= 4 && n <= 10 && (all_digits(t, n) || tailx)) {
        for (size_t i = 0; i < n; i++)
            t[i] = (char)toupper((unsigned char)t[i]);
        str_copy(s->text, t + n - 4, sizeof s->text);
        if (n > 4) {
            str_copy(s->suffix, t, sizeof s->suffix);
            s->check_suffix = true;
        }
        int k = sqlq_param(&s->q, P_TEXT(s->text));
        sqlq_sql(&s->q,
                 " AND r.id IN (SELECT id FROM residents WHERE phone_tail = $%d "
                 "UNION ALL SELECT id FROM residents WHERE id_tail = $%d)",
                 k, k);
        return 0;
    }
    bool ascii = true;
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)t[i]))
            ascii = false;
    if (ascii) {
        for (size_t i = 0; i < n; i++)
            s->a[i] = (char)tolower((unsigned char)t[i]);
        s->a[n] = '\0';
        snprintf(s->b, sizeof s->b, "%s{", s->a); /* '{' follows 'z' */
        int ka = sqlq_param(&s->q, P_TEXT(s->a)), kb = sqlq_param(&s->q, P_TEXT(s->b));
        sqlq_sql(&s->q,
                 " AND r.id IN (SELECT id FROM residents WHERE name_initials >= $%d AND name_initials < $%d "
                 "UNION ALL SELECT id FROM residents WHERE name_pinyin >= $%d AND name_pinyin < $%d)",
                 ka, kb, ka, kb);
        return 0;
    }
    char *simp = hanconv_t2s(t);
    str_copy(s->a, simp ? simp : t, sizeof s->a);
    free(simp);
    /* the smallest string greater than every string starting with a (a range scan) */
    snprintf(s->b, sizeof s->b, "%s\xf4\x8f\xbf\xbf", s->a);
    int ka = sqlq_param(&s->q, P_TEXT(s->a)), kb = sqlq_param(&s->q, P_TEXT(s->b));
    sqlq_sql(&s->q,
             " AND r.id IN (SELECT resident_id FROM resident_name_suffixes WHERE suffix >= $%d AND suffix < $%d)",
             ka, kb);
    return 0;
}

static void years_ago(nx_date today, int years, char out[11])
{
    nx_date d = {today.y - years, today.m, today.d};
    if (d.m == 2 && d.d == 29 && !date_valid(d.y, 2, 29))
        d.d = 28;
    date_format(d, out);
}

/* The cursor that continues after row r, one writer per ordering (store_page_spec.cursor): the
 * text is "<kind>.<hex sort key, birth date or x>.<id>". */
static void cursor_name(store_rows *r, char *out, size_t cap)
{
    size_t kl;
    const unsigned char *k = store_blob(r, C_SORT_KEY, &kl);
    char hex[1025];
    if (kl > 512)
        kl = 512;
    str_hex(hex, k, kl);
    snprintf(out, cap, "n.%s.%lld", hex, (long long)store_int(r, C_ID));
}

static void cursor_birth(char kind, store_rows *r, char *out, size_t cap)
{
    const char *birth = store_text(r, C_BIRTH);
    snprintf(out, cap, "%c.%s.%lld", kind, birth ? birth : "", (long long)store_int(r, C_ID));
}

static void cursor_age(store_rows *r, char *out, size_t cap)
{
    cursor_birth('a', r, out, cap);
}

static void cursor_age_desc(store_rows *r, char *out, size_t cap)
{
    cursor_birth('A', r, out, cap);
}

static void cursor_created(store_rows *r, char *out, size_t cap)
{
    snprintf(out, cap, "c.x.%lld", (long long)store_int(r, C_ID));
}

static void cursor_created_desc(store_rows *r, char *out, size_t cap)
{
    snprintf(out, cap, "C.x.%lld", (long long)store_int(r, C_ID));
}

typedef struct sort_spec {
    const char *order;  /* ORDER BY clause */
    char kind;          /* cursor prefix */
    void (*cursor)(store_rows *r, char *out, size_t cap);
} sort_spec;

static int parse_sort(const char *s, sort_spec *out, nx_err *e)
{
    if (s == NULL || strcmp(s, "name") == 0)
        *out = (sort_spec){" ORDER BY r.sort_key, r.id", 'n', cursor_name};
    else if (strcmp(s, "age") == 0)
        *out = (sort_spec){" ORDER BY r.birth_date DESC, r.id DESC", 'a', cursor_age};
    else if (strcmp(s, "-age") == 0)
        *out = (sort_spec){" ORDER BY r.birth_date, r.id", 'A', cursor_age_desc};
    else if (strcmp(s, "created") == 0)
        *out = (sort_spec){" ORDER BY r.id", 'c', cursor_created};
    else if (strcmp(s, "-created") == 0)
        *out = (sort_spec){" ORDER BY r.id DESC", 'C', cursor_created_desc};
    else
        return nx_fail(e, NX_EINVAL, "sort", "排序方式无效，可选 name、age、-age、created、-created");
    return 0;
}

static int hexval(char h)
{
    return isdigit((unsigned char)h) ? h - '0' : tolower((unsigned char)h) - 'a' + 10;
}

/* The condition that starts after cursor (see the cursor writers above). */
static int apply_cursor(search *s, const sort_spec *sp, const char *cursor, nx_err *e)
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
    switch (sp->kind) {
    case 'n': {
        if (vlen % 2 || vlen / 2 > sizeof s->key)
            return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
        for (size_t i = 0; i < vlen / 2; i++) {
            if (!isxdigit((unsigned char)v[2 * i]) || !isxdigit((unsigned char)v[2 * i + 1]))
                return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
            s->key[i] = (unsigned char)(hexval(v[2 * i]) << 4 | hexval(v[2 * i + 1]));
        }
        int kk = sqlq_param(&s->q, P_BLOB(s->key, vlen / 2)), ki = sqlq_param(&s->q, P_INT(last_id));
        sqlq_sql(&s->q, " AND (r.sort_key > $%d OR (r.sort_key = $%d AND r.id > $%d))", kk, kk, ki);
        return 0;
    }
    case 'a':
    case 'A': {
        nx_date d;
        if (vlen != 10)
            return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
        memcpy(s->date, v, 10);
        s->date[10] = '\0';
        if (date_parse(s->date, &d))
            return nx_fail(e, NX_EINVAL, "cursor", "分页游标无效");
        int kd = sqlq_param(&s->q, P_TEXT(s->date)), ki = sqlq_param(&s->q, P_INT(last_id));
        const char *op = sp->kind == 'a' ? "<" : ">";
        sqlq_sql(&s->q, " AND (r.birth_date %s $%d OR (r.birth_date = $%d AND r.id %s $%d))", op, kd, kd, op, ki);
        return 0;
    }
    default:
        sqlq_sql(&s->q, " AND r.id %s $%d", sp->kind == 'c' ? ">" : "<", sqlq_param(&s->q, P_INT(last_id)));
        return 0;
    }
}

/* Check the tag filter of q on tx and say what it stands for (c's computed tags loaded). */
static int resolve_tag(store_tx *tx, const read_ctx *c, const char *tag, tag_filter *out, nx_err *e)
{
    *out = (tag_filter){.min_age = -1, .max_age = -1};
    if (tag == NULL)
        return 0;
    out->set = true;
    store_param tp[] = {P_TEXT(tag)};
    int rc = store_one_int(tx, "SELECT id FROM tags WHERE code = $1", tp, 1, &out->id, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "tag", "标签不存在");
    if (rc)
        return rc;
    for (int i = 0; i < c->ncomputed; i++)
        if (strcmp(c->computed[i].code, tag) == 0) {
            out->id = 0;
            out->min_age = c->computed[i].min_age;
            out->max_age = c->computed[i].max_age;
            break;
        }
    return 0;
}

/* Start s with head ("SELECT … FROM residents r … WHERE 1 = 1") and add the caller's scope and
 * every filter of q: everything but the cursor, ordering and limit. */
static int build_where(nx_app *app, const nx_principal *who, const resident_query *q, const tag_filter *tf,
                       const char *head, search *s, nx_err *e)
{
    int rc;
    nx_date today = date_today();
    if (!perm_has(who, RIGHT_PEOPLE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看居民信息");
    memset(s, 0, sizeof *s);
    sqlq_init(&s->q, head);
    perm_scope_q(who, "r.", "id", &s->q);
    const char *status = q->status ? q->status : "active";
    if (strcmp(status, "all") != 0) {
        const char *code = choice_parse(choice_status, status);
        if (!code)
            return nx_fail(e, NX_EINVAL, "status", "状态无效，可选 active、moved_out、deceased、all");
        sqlq_add(&s->q, " AND r.status = $%d", P_TEXT(code));
    }
    if (q->community_id)
        sqlq_add(&s->q, " AND r.community_id = $%d", P_INT(q->community_id));
    if (q->grid_id)
        sqlq_add(&s->q, " AND r.grid_id = $%d", P_INT(q->grid_id));
    if (q->estate_id)
        sqlq_add(&s->q, " AND r.estate_id = $%d", P_INT(q->estate_id));
    if (q->household_id)
        sqlq_add(&s->q, " AND r.household_id = $%d", P_INT(q->household_id));
    if (q->sex) {
        const char *sx = choice_parse(choice_sex, q->sex);
        if (!sx)
            return nx_fail(e, NX_EINVAL, "sex", "性别应为 male 或 female");
        sqlq_add(&s->q, " AND r.sex = $%d", P_INT(strcmp(sx, "male") == 0 ? 1 : 2));
    }
    if (q->residence) {
        const char *c = choice_parse(choice_residence, q->residence);
        if (!c)
            return nx_fail(e, NX_EINVAL, "residence", "户籍状态无效");
        sqlq_add(&s->q, " AND r.residence = $%d", P_TEXT(c));
    }
    if (q->care_level) {
        const char *c = choice_parse(choice_care_level, q->care_level);
        if (!c)
            return nx_fail(e, NX_EINVAL, "care_level", "关怀等级无效");
        sqlq_add(&s->q, " AND r.care_level = $%d", P_TEXT(c));
    }
    if (q->age_min >= 0) {
        years_ago(today, q->age_min, s->dates[0]);
        sqlq_add(&s->q, " AND r.birth_date <= $%d", P_TEXT(s->dates[0]));
    }
    if (q->age_max >= 0) {
        years_ago(today, q->age_max + 1, s->dates[1]);
        sqlq_add(&s->q, " AND r.birth_date > $%d", P_TEXT(s->dates[1]));
    }
    if (tf->set && tf->id) {
        sqlq_add(&s->q, " AND r.id IN (SELECT rt.resident_id FROM resident_tags rt WHERE rt.tag_id = $%d)",
                 P_INT(tf->id));
    } else if (tf->set) {
        if (tf->min_age >= 0) {
            years_ago(today, tf->min_age, s->dates[2]);
            sqlq_add(&s->q, " AND r.birth_date <= $%d", P_TEXT(s->dates[2]));
        }
        if (tf->max_age >= 0) {
            years_ago(today, tf->max_age + 1, s->dates[3]);
            sqlq_add(&s->q, " AND r.birth_date > $%d", P_TEXT(s->dates[3]));
        }
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

typedef struct list_ctx {
    read_ctx *c;
    strbuf *scratch;
} list_ctx;

static json_t *list_row(store_rows *r, void *ctx)
{
    list_ctx *l = ctx;
    return row_json(l->c, r, false, l->scratch);
}

/* The page of a search by a tail of more than four digits: the query finds the residents whose
 * last four digits match, and only those whose decrypted phone or ID number ends with the whole
 * tail count; so the rows are read to the end of the page by hand, with no LIMIT and no total. */
static int suffix_page(nx_app *app, store_tx *tx, search *s, const sort_spec *sp, int limit, list_ctx *l,
                       json_t **out, nx_err *e)
{
    store_rows *r;
    int rc = sqlq_query(tx, &s->q, &r, e);
    if (rc)
        return rc;
    json_t *items = json_array();
    char next[STORE_PAGE_CURSOR] = "";
    int count = 0, matched = 0;
    while (items && store_row(r)) {
        if (!suffix_matches(app, r, s->suffix))
            continue;
        matched++;
        if (count == limit)
            break; /* one more row exists: the cursor made below stands */
        json_t *row = list_row(r, l);
        if (row == NULL || json_array_append_new(items, row)) {
            store_rows_free(r);
            json_decref(items);
            return nx_fail(e, NX_EINTERNAL, "", "无法生成居民信息");
        }
        count++;
        if (count == limit) /* while the last row is current, for its sort key */
            sp->cursor(r, next, sizeof next);
    }
    if ((rc = store_rows_end(r, e)) || items == NULL) {
        json_decref(items);
        return rc ? rc : nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    if (count < limit || matched <= limit)
        next[0] = '\0';
    *out = json_pack("{s:o, s:o}", "items", items, "next_cursor", next[0] ? json_string(next) : json_null());
    return *out ? 0 : nx_fail(e, NX_ENOMEM, "", "内存不足");
}

int people_resident_search(nx_app *app, const nx_principal *who, const resident_query *q, json_t **out, nx_err *e)
{
    sort_spec sp;
    int rc = parse_sort(q->sort, &sp, e);
    if (rc)
        return rc;
    search *s = calloc(2, sizeof *s); /* the page's query and its count's */
    if (s == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    store_tx *tx = NULL;
    json_t *res = NULL;
    strbuf scratch;
    strbuf_init(&scratch, 0);
    read_ctx c = {.app = app};
    list_ctx l = {.c = &c, .scratch = &scratch};
    tag_filter tf;
    if (!perm_has(who, RIGHT_PEOPLE_READ)) {
        rc = nx_fail(e, NX_EPERM, "", "无权查看居民信息");
        goto done;
    }
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)) || (rc = load_computed(tx, &c, e)) ||
        (rc = resolve_tag(tx, &c, q->tag, &tf, e)) || (rc = build_where(app, who, q, &tf, RES_COLS " WHERE 1 = 1", &s[0], e)) ||
        (rc = apply_cursor(&s[0], &sp, q->cursor, e)))
        goto done;
    sqlq_sql(&s[0].q, "%s", sp.order);
    int limit = store_page_limit(q->limit, (int)app->cfg->page_max);
    if (s[0].check_suffix) {
        rc = suffix_page(app, tx, &s[0], &sp, limit, &l, &res, e);
    } else {
        bool total = q->with_total && !(q->cursor && *q->cursor);
        if (total && (rc = build_where(app, who, q, &tf, RES_COUNT " WHERE 1 = 1", &s[1], e)))
            goto done;
        store_page_spec spec = {.limit = limit, .max = (int)app->cfg->page_max, .count = total ? &s[1].q : NULL,
                                .row_ctx = list_row, .ctx = &l, .cursor = sp.cursor};
        rc = store_page(tx, &s[0].q, &spec, &res, e);
    }
    if (rc == 0)
        rc = attach_tags(tx, json_object_get(res, "items"), e);
done:
    store_rollback(tx);
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
    search *s = calloc(1, sizeof *s);
    if (s == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    store_tx *tx = NULL;
    store_rows *r = NULL;
    json_t *batch = json_array();
    char cursor[STORE_PAGE_CURSOR] = "";
    strbuf scratch;
    strbuf_init(&scratch, 0);
    *count = 0;
    read_ctx c = {.app = app, .reveal = reveal};
    tag_filter tf;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)) || (rc = load_computed(tx, &c, e)) ||
        (rc = resolve_tag(tx, &c, q->tag, &tf, e)))
        goto done;
    /* Pages of 200 in one read transaction (one snapshot): a page's rows are read and released
     * before its tags are fetched, since a transaction runs one statement at a time. */
    for (;;) {
        if ((rc = build_where(app, who, q, &tf, RES_COLS " WHERE 1 = 1", s, e)) ||
            (rc = apply_cursor(s, &sp, cursor[0] ? cursor : NULL, e)))
            goto done;
        sqlq_sql(&s->q, "%s LIMIT 200", sp.order);
        if ((rc = sqlq_query(tx, &s->q, &r, e)))
            goto done;
        int rows = 0;
        cursor[0] = '\0';
        while (store_row(r)) {
            rows++;
            sp.cursor(r, cursor, sizeof cursor);
            if (s->check_suffix && !suffix_matches(app, r, s->suffix))
                continue;
            json_t *row = row_json(&c, r, true, &scratch);
            if (row == NULL || json_array_append_new(batch, row)) {
                rc = nx_fail(e, NX_EINTERNAL, "", "无法生成居民信息");
                goto done;
            }
        }
        rc = store_rows_end(r, e);
        r = NULL;
        if (rc || (rc = attach_tags(tx, batch, e)))
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
