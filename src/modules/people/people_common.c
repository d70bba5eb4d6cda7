/* people_common.c — what the files of the people module share.
 *
 * Opening an encrypted column (people_open), the computed tags ("age>=80", cached for a few seconds
 * and shared by all threads), and the one description of a resident row as JSON (people_row_write),
 * which the record (people_record.c), the list and the export (people_search.c) all write, so that
 * a resident reads the same wherever it appears. Personal data is masked in that description unless
 * the read context reveals it; plaintext is wiped as soon as it has been masked or copied. */
#include "modules/people/people_internal.h"

#include "base/clock.h"
#include "base/jsonw.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/org/org.h"
#include "modules/people/people_choices.h"
#include "secure/crypto.h"
#include "secure/masked.h"
#include "text/idcard.h"
#include "text/mask.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *people_open(nx_app *app, const char *context, const void *ct, size_t n)
{
    if (ct == NULL || n == 0)
        return NULL;
    char *plain = NULL;
    if (field_decrypt_ad(app->keys, context, ct, n, &plain) != 0)
        return NULL;
    return plain;
}

void people_tail_key(nx_app *app, const char *context, const char *value, char out[PEOPLE_TAIL_HEX + 1])
{
    char domain[160];
    size_t n = strlen(value);
    snprintf(domain, sizeof domain, "%s#tail4", context);
    unsigned char k[NX_BIDX_BYTES];
    blind_index(app->keys, domain, n > 4 ? value + n - 4 : value, k);
    str_hex(out, k, sizeof k);
}

int people_room_place(store_tx *tx, int64_t room, int64_t community, const char *mismatch, int64_t *c, int64_t *g,
                      int64_t *estate, nx_err *e)
{
    char label[300];
    int64_t rcomm = 0, rg = 0, res = 0;
    int rc = org_room_label(tx, room, label, sizeof label, &rcomm, &rg, &res);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "room_id", "房屋不存在");
    if (rc)
        return nx_fail(e, rc, "", "读取房屋失败");
    if (community && rcomm != community)
        return nx_fail(e, NX_EINVAL, "room_id", "%s", mismatch);
    *c = rcomm;
    *g = rg;
    *estate = res;
    return 0;
}

bool people_self_view(const nx_principal *who)
{
    return !perm_has(who, RIGHT_PEOPLE_READ);
}

int people_community_exists(store_tx *tx, int64_t community, nx_err *e)
{
    store_param p[] = {P_INT(community)};
    int64_t one;
    int rc = store_one_int(tx, "SELECT 1 FROM communities WHERE id = $1", p, 1, &one, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "community_id", "社区不存在");
    return rc;
}

int people_grid_community(store_tx *tx, int64_t grid, int64_t community, int64_t *c, nx_err *e)
{
    store_param p[] = {P_INT(grid)};
    int64_t gc = 0;
    int rc = store_one_int(tx, "SELECT community_id FROM grids WHERE id = $1", p, 1, &gc, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "grid_id", "网格不存在");
    if (rc)
        return rc;
    if (community && gc != community)
        return nx_fail(e, NX_EINVAL, "grid_id", "网格不属于该社区");
    *c = gc;
    return 0;
}

void people_id_masked(nx_app *app, const void *ct, size_t n, char *out, size_t cap)
{
    field_masked(app->keys, CTX_ID, ct, n, mask_id, out, cap);
}

/* The computed tags change only when an admin edits the tag list; they are read from the database at
 * most every few seconds and shared by all threads. */
#define COMPUTED_TTL_MS 5000
static struct {
    pthread_mutex_t lock;
    int64_t loaded_at;
    uint64_t gen; /* the read context's gen when loaded (0: loaded without one) */
    people_computed_tag t[8];
    int n;
} computed_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

int people_load_computed(store_tx *tx, people_read_ctx *c, nx_err *e)
{
    int64_t now = clock_now_ms();
    c->today = date_today();
    pthread_mutex_lock(&computed_cache.lock);
    if (computed_cache.loaded_at && now - computed_cache.loaded_at < COMPUTED_TTL_MS &&
        (c->gen == 0 || computed_cache.gen == c->gen)) {
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
            people_computed_tag *t = &c->computed[c->ncomputed++];
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
    computed_cache.gen = c->gen;
    pthread_mutex_unlock(&computed_cache.lock);
    return 0;
}

/* Decrypt a ciphertext column into buf, masked unless c->reveal. False when the column is NULL or
 * does not decrypt. The masked form comes from field_masked's memo: a plain read of a value read
 * before decrypts nothing. */
bool people_secret_text(people_read_ctx *c, store_rows *r, int col, const char *context,
                        void (*mask)(const char *, char *, size_t), char *buf, size_t cap)
{
    size_t n;
    const void *ct = store_blob(r, col, &n);
    if (!c->reveal)
        return field_masked(c->app->keys, context, ct, n, mask, buf, cap);
    char *plain = people_open(c->app, context, ct, n);
    if (plain == NULL)
        return false;
    str_copy(buf, plain, cap);
    field_plain_free(plain);
    return true;
}

void people_w_secret(jsonw *w, const char *key, people_read_ctx *c, store_rows *r, int col,
                     const char *context, void (*mask)(const char *, char *, size_t))
{
    char buf[400];
    jsonw_kstr(w, key, people_secret_text(c, r, col, context, mask, buf, sizeof buf) ? buf : NULL);
}

static void w_id_or_null(jsonw *w, const char *key, store_rows *r, int col)
{
    if (store_isnull(r, col))
        jsonw_knull(w, key);
    else
        jsonw_kint(w, key, store_int(r, col));
}

void people_w_tag(jsonw *w, const char *code, const char *name, bool computed)
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
void people_row_write(people_read_ctx *c, store_rows *r, bool detail, jsonw *w)
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
    jsonw_kstr(w, "sex_label", people_choice_label(people_choice_sex, sex));
    jsonw_kstr(w, "birth_date", store_text(r, C_BIRTH));
    jsonw_kint(w, "age", age);
    jsonw_kstr(w, "id_type", store_text(r, C_ID_TYPE));
    jsonw_kstr(w, "id_type_label", id_type_label(id_type_parse(store_text(r, C_ID_TYPE))));
    people_w_secret(w, "id_number", c, r, C_ID_ENC, CTX_ID, mask_id);
    people_w_secret(w, "phone", c, r, C_PHONE_ENC, CTX_PHONE, mask_phone);
    people_w_secret(w, "address", c, r, C_ADDR_ENC, CTX_ADDRESS, mask_address);
    jsonw_kstr(w, "relation", store_text(r, C_RELATION));
    jsonw_kstr(w, "relation_label", people_choice_label(people_choice_relation, store_text(r, C_RELATION)));
    jsonw_kstr(w, "residence", store_text(r, C_RESIDENCE));
    jsonw_kstr(w, "residence_label", people_choice_label(people_choice_residence, store_text(r, C_RESIDENCE)));
    jsonw_kstr(w, "care_level", store_text(r, C_CARE));
    jsonw_kstr(w, "care_level_label", people_choice_label(people_choice_care_level, store_text(r, C_CARE)));
    jsonw_kstr(w, "status", status);
    jsonw_kstr(w, "status_label", people_choice_label(people_choice_status, status));
    jsonw_kint(w, "version", store_int(r, C_VERSION));
    if (detail) {
        char t[30];
        jsonw_kstr(w, "ethnicity", store_text(r, C_ETHNICITY));
        jsonw_kstr(w, "political", store_text(r, C_POLITICAL));
        jsonw_kstr(w, "political_label", people_choice_label(people_choice_political, store_text(r, C_POLITICAL)));
        jsonw_kstr(w, "education", store_text(r, C_EDUCATION));
        jsonw_kstr(w, "marital", store_text(r, C_MARITAL));
        jsonw_kstr(w, "work", store_text(r, C_WORK));
        jsonw_kstr(w, "notes", c->self_view ? NULL : store_text(r, C_NOTES)); /* staff notes */
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
            people_w_tag(w, c->computed[i].code, c->computed[i].name, true);
}

/* Parse what a writer produced into a json_t (new reference), NULL on failure. */
json_t *people_json_parse(const strbuf *b)
{
    json_error_t err;
    json_t *v = json_loadb(b->data, b->len, 0, &err);
    if (v == NULL)
        nx_log(LOG_ERROR, "people.json_reparse_failed (a bug) msg=\"%s\"", err.text);
    return v;
}
