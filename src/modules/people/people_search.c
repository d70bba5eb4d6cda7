/* people_search.c — finding residents: a page of a search (the resident list) and every match for
 * an export.
 *
 * Search turns the box staff type into one of a few indexed look-ups:
 *   18 characters that parse as an ID number  → blind index of the ID number (exact)
 *   11 digits starting with 1                  → blind index of the phone (exact)
 *   4-10 digits (an optional trailing X)       → the keyed tail index of the last four digits of phone
 *                                                 or ID, then the longer suffix checked on the
 *                                                 decrypted value
 *   ASCII letters                              → prefix of pinyin initials ("wjg") or full pinyin
 *   anything else                              → traditional folded to simplified, then a prefix of
 *                                                 any suffix of the name ("建国" finds 王建国)
 * and combines it with the filters and the caller's scope in one SQL statement ordered by the ICU
 * pinyin sort key (or age, or creation), paged by a cursor that carries the last row's sort value.
 *
 * An exact search (a whole ID number or mobile number) answers "is this person registered here?",
 * which is how a guessed number is confirmed. So each one is counted per account against
 * exact_search_per_hour (beyond: NX_ELOCKED, 429) and audited after it ran ("search_exact": who,
 * which kind, how many matched; never the number), in its own write transaction: a search whose
 * audit row cannot be written is not answered. The counter is per process, kept in memory. */
#include "modules/people/people.h"

#include "base/clock.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "modules/people/people_choices.h"
#include "modules/people/people_internal.h"
#include "base/log.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "store/page.h"
#include "store/query.h"
#include "text/hanconv.h"
#include "text/idcard.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The JSON of the current row as a json_t (assigned tags added separately by attach_tags), NULL on
 * failure. scratch is reused from row to row. */
static json_t *row_json(people_read_ctx *c, store_rows *r, bool detail, strbuf *scratch)
{
    scratch->len = 0;
    jsonw w;
    jsonw_init(&w, scratch);
    people_row_write(c, r, detail, &w);
    jsonw_arr_end(&w);
    jsonw_obj_end(&w);
    if (jsonw_finish(&w))
        return NULL;
    return people_json_parse(scratch);
}

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

/* A search being built: the query and the text its parameters borrow (sqlq borrows P_TEXT and
 * P_BLOB values, so they live here, beside it). */
typedef struct search {
    sqlq q;
    char a[200], b[220], text[200], date[11], dates[4][11];
    unsigned char bidx[16];
    unsigned char key[512]; /* the sort key of a cursor */
    char suffix[16];        /* tail search longer than 4: the digits to check after decrypting */
    bool check_suffix;
    const char *exact;      /* "id_number" or "phone" for an exact search, else NULL */
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
        s->exact = "id_number";
        return 0;
    }
    if (n == 11 && t[0] == '1' && all_digits(t, n)) {
        blind_index(app->keys, CTX_PHONE, t, s->bidx);
        sqlq_add(&s->q, " AND r.phone_bidx = $%d", P_BLOB(s->bidx, 16));
        s->exact = "phone";
        return 0;
    }
    bool tailx = n >= 4 && n <= 10 && (t[n - 1] == 'X' || t[n - 1] == 'x') && all_digits(t, n - 1);
    if (n >= 4 && n <= 10 && (all_digits(t, n) || tailx)) {
        for (size_t i = 0; i < n; i++)
            t[i] = (char)toupper((unsigned char)t[i]);
        /* the tail index is keyed per column: one key for phones, one for ID numbers */
        people_tail_key(app, CTX_PHONE, t, s->a);
        people_tail_key(app, CTX_ID, t, s->b);
        if (n > 4) {
            str_copy(s->suffix, t, sizeof s->suffix);
            s->check_suffix = true;
        }
        int kp = sqlq_param(&s->q, P_TEXT(s->a)), ki = sqlq_param(&s->q, P_TEXT(s->b));
        sqlq_sql(&s->q,
                 " AND r.id IN (SELECT id FROM residents WHERE phone_tail = $%d "
                 "UNION ALL SELECT id FROM residents WHERE id_tail = $%d)",
                 kp, ki);
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
static int resolve_tag(store_tx *tx, const people_read_ctx *c, const char *tag, tag_filter *out, nx_err *e)
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
        const char *code = people_choice_parse(people_choice_status, status);
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
        const char *sx = people_choice_parse(people_choice_sex, q->sex);
        if (!sx)
            return nx_fail(e, NX_EINVAL, "sex", "性别应为 male 或 female");
        sqlq_add(&s->q, " AND r.sex = $%d", P_INT(strcmp(sx, "male") == 0 ? 1 : 2));
    }
    if (q->residence) {
        const char *c = people_choice_parse(people_choice_residence, q->residence);
        if (!c)
            return nx_fail(e, NX_EINVAL, "residence", "户籍状态无效");
        sqlq_add(&s->q, " AND r.residence = $%d", P_TEXT(c));
    }
    if (q->care_level) {
        const char *c = people_choice_parse(people_choice_care_level, q->care_level);
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

/* ---- exact searches: counted per account, audited ---- */

#define EXACT_SLOTS 1024
static struct {
    pthread_mutex_t lock;
    struct {
        int64_t user, window; /* window: the hour (epoch ms / 3 600 000) the count is for */
        int64_t count;
    } slot[EXACT_SLOTS];
} exact_counts = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The table is indexed by user id (a collision with another account in the same hour shares a
 * count, which errs on the side of refusing; 1 024 slots make it rare). */
int people_exact_take(nx_app *app, const nx_principal *who, nx_err *e)
{
    int64_t hour = clock_now_ms() / 3600000;
    int64_t limit = app->cfg->exact_search_per_hour;
    pthread_mutex_lock(&exact_counts.lock);
    size_t i = (size_t)((uint64_t)who->user_id % EXACT_SLOTS);
    if (exact_counts.slot[i].window != hour || exact_counts.slot[i].user != who->user_id) {
        if (exact_counts.slot[i].window != hour)
            exact_counts.slot[i].count = 0;
        exact_counts.slot[i].window = hour;
        exact_counts.slot[i].user = who->user_id;
    }
    bool over = exact_counts.slot[i].count >= limit;
    if (!over)
        exact_counts.slot[i].count++;
    pthread_mutex_unlock(&exact_counts.lock);
    if (over) {
        nx_log(LOG_WARN, "people.exact_search_limited user=%lld", (long long)who->user_id);
        return nx_fail(e, NX_ELOCKED, "q", "按证件号码或手机号查询过于频繁（每小时最多 %lld 次），请稍后再试",
                       (long long)limit);
    }
    return 0;
}

/* The audit row of an exact search that found matches residents (the first one's id and
 * community when there are any, else the searcher's community). */
static int exact_audit(nx_app *app, const nx_principal *who, const char *kind, json_t *items, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    json_t *first = json_array_get(items, 0);
    int64_t rid = first ? json_integer_value(json_object_get(first, "id")) : 0;
    int64_t community = first ? json_integer_value(json_object_get(first, "community_id")) : who->community_id;
    if ((rc = audit_write_new(tx, who, "search_exact", "resident", rid, community,
                              json_pack("{s:s, s:I}", "by", kind, "matches", (json_int_t)json_array_size(items)),
                              e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
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
    people_read_ctx *c;
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
    people_read_ctx c = {.app = app};
    list_ctx l = {.c = &c, .scratch = &scratch};
    tag_filter tf;
    if (!perm_has(who, RIGHT_PEOPLE_READ)) {
        rc = nx_fail(e, NX_EPERM, "", "无权查看居民信息");
        goto done;
    }
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)) || (rc = people_load_computed(tx, &c, e)) ||
        (rc = resolve_tag(tx, &c, q->tag, &tf, e)) ||
        (rc = build_where(app, who, q, &tf, RES_COLS " WHERE 1 = 1", &s[0], e)) ||
        (rc = apply_cursor(&s[0], &sp, q->cursor, e)))
        goto done;
    if (s[0].exact && (rc = people_exact_take(app, who, e)))
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
    if (rc == 0 && s[0].exact) {
        store_rollback(tx); /* the read ends before the audit's write begins */
        tx = NULL;
        rc = exact_audit(app, who, s[0].exact, json_object_get(res, "items"), e);
    }
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
    people_read_ctx c = {.app = app, .reveal = reveal};
    tag_filter tf;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)) || (rc = people_load_computed(tx, &c, e)) ||
        (rc = resolve_tag(tx, &c, q->tag, &tf, e)))
        goto done;
    /* Pages of 200 in one read transaction (one snapshot): a page's rows are read and released
     * before its tags are fetched, since a transaction runs one statement at a time. */
    for (bool first = true;; first = false) {
        if ((rc = build_where(app, who, q, &tf, RES_COLS " WHERE 1 = 1", s, e)) ||
            (rc = apply_cursor(s, &sp, cursor[0] ? cursor : NULL, e)))
            goto done;
        /* an export by a whole number is the same question as a search: counted the same (the
         * export's own audit row records it) */
        if (first && s->exact && (rc = people_exact_take(app, who, e)))
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
            if (*count >= q->limit) {
                rc = nx_fail(e, NX_ETOOBIG, "", "符合条件的居民超过 %d 人，请缩小筛选范围后再导出", q->limit);
                goto done;
            }
            if ((rc = fn(row, ctx)))
                goto done;
            (*count)++;
        }
        json_array_clear(batch);
        if (rows < 200)
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
