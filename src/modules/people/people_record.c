/* people_record.c — one resident: the detail with its tags, emergency contacts and household
 * members (written straight into the response), the members of a household, and the audited reveal
 * of personal data. Every read is restricted to the caller's scope in SQL; a resident or family
 * account (RIGHT_SELF without RIGHT_PEOPLE_READ) reads the one record it is bound to, without staff
 * notes, and its household's members only in the members list's reduced form. A read that fails is its error (503 when
 * the database went away), never "not found". */
#include "modules/people/people.h"

#include "base/clock.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/vec.h"
#include "modules/people/people_choices.h"
#include "modules/people/people_internal.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "store/query.h"
#include "text/mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A ciphertext column as a JSON string, masked unless c->reveal; null when absent. */
static json_t *secret(people_read_ctx *c, store_rows *r, int col, const char *context,
                      void (*mask)(const char *, char *, size_t))
{
    char buf[400];
    return people_secret_text(c, r, col, context, mask, buf, sizeof buf) ? json_string(buf) : json_null();
}

/* One emergency contact from the row of r whose columns from b on are id, name, relation,
 * phone_enc, is_primary, as an element of the open array in w. */
static void contact_write(people_read_ctx *c, store_rows *r, int b, jsonw *w)
{
    jsonw_obj_begin(w);
    jsonw_kint(w, "id", store_int(r, b));
    jsonw_kstr(w, "name", store_text(r, b + 1));
    jsonw_kstr(w, "relation", store_text(r, b + 2));
    people_w_secret(w, "phone", c, r, b + 3, CTX_CONTACT_PHONE, mask_phone);
    jsonw_kbool(w, "is_primary", store_int(r, b + 4) != 0);
    jsonw_obj_end(w);
}

/* The emergency contacts of a resident as one array value in w. */
static int contacts_write(people_read_ctx *c, store_tx *tx, int64_t id, jsonw *w, nx_err *e)
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
    while (store_row(r))
        contact_write(c, r, 0, w);
    jsonw_arr_end(w);
    return store_rows_end(r, e);
}

/* The end of a value written with w into b, rc being how the writing went: 0 with the value parsed
 * into *out, or rc, NX_ENOMEM "内存不足" or NX_EINTERNAL "无法生成<what>"; b is released either way. */
static int written_json(int rc, jsonw *w, strbuf *b, const char *what, json_t **out, nx_err *e)
{
    if (rc == 0 && jsonw_finish(w) != 0)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    json_t *v = rc == 0 ? people_json_parse(b) : NULL;
    if (rc == 0 && v == NULL)
        rc = nx_fail(e, NX_EINTERNAL, "", "无法生成%s", what);
    if (rc == 0)
        *out = v;
    strbuf_cleanup(b);
    return rc;
}

static int contacts_json(people_read_ctx *c, store_tx *tx, int64_t id, json_t **out, nx_err *e)
{
    strbuf b;
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    return written_json(contacts_write(c, tx, id, &w, e), &w, &b, "紧急联系人", out, e);
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
    jsonw_kstr(w, "relation_label", people_choice_label(people_choice_relation, m->relation));
    jsonw_kstr(w, "sex", sex);
    jsonw_kstr(w, "sex_label", people_choice_label(people_choice_sex, sex));
    jsonw_kint(w, "age", m->age);
    jsonw_kstr(w, "status", m->status);
    jsonw_kstr(w, "status_label", people_choice_label(people_choice_status, m->status));
    jsonw_kbool(w, "self", m->id == self);
    jsonw_obj_end(w);
}

/* The members' part of a query: staff see the members in their scope; a self view reaches only its
 * own household anyway. */
static void members_scope(const nx_principal *who, sqlq *q)
{
    if (!people_self_view(who))
        perm_scope_q(who, "r.", "id", q);
}

/* Copy the member in the row of r whose columns from b on are id, name, relation, (any), sex,
 * birth_date, status onto the end of v; non-zero when the push failed (v's error). */
static int member_push(store_rows *r, int b, nx_date today, vec *v)
{
    member x = {0};
    nx_date birth = {0};
    date_parse(store_text(r, b + 5), &birth);
    x.id = store_int(r, b);
    str_copy(x.name, store_text(r, b + 1) ? store_text(r, b + 1) : "", sizeof x.name);
    str_copy(x.relation, store_text(r, b + 2) ? store_text(r, b + 2) : "", sizeof x.relation);
    str_copy(x.status, store_text(r, b + 6) ? store_text(r, b + 6) : "", sizeof x.status);
    x.male = store_int(r, b + 4) == 1;
    x.age = birth.y ? date_age(birth, today) : 0;
    return vec_push(v, &x);
}

/* The members collected in v (oldest first) as one array value in w. Heads first, the last one read
 * first, then everyone else oldest first: the order the earlier code produced by inserting each
 * head at the front of the array. */
static void members_emit(jsonw *w, const vec *v, int64_t self)
{
    const member *m = v->items;
    size_t n = v->len;
    jsonw_arr_begin(w);
    for (size_t i = n; i-- > 0;)
        if (strcmp(m[i].relation, "head") == 0)
            member_write(w, &m[i], self);
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].relation, "head") != 0)
            member_write(w, &m[i], self);
    jsonw_arr_end(w);
}

/* The members of a household as one array value in w: the head first, then oldest first. */
static int members_write(store_tx *tx, const nx_principal *who, int64_t household, int64_t self, jsonw *w,
                         nx_err *e)
{
    store_rows *r;
    sqlq q;
    sqlq_init(&q, "SELECT r.id, r.name, r.relation, NULL, r.sex, r.birth_date, r.status FROM residents r "
                  "WHERE r.household_id = $1");
    sqlq_param(&q, P_INT(household));
    members_scope(who, &q);
    /* Oldest first by the index; the head of the household is written first below. */
    sqlq_sql(&q, " ORDER BY r.birth_date");
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    /* No cap of its own: the response that carries the members has one (jsonw). */
    vec v;
    vec_init(&v, sizeof(member), 0);
    nx_date today = date_today();
    while (store_row(r))
        if (member_push(r, 0, today, &v))
            break;
    if ((rc = store_rows_end(r, e)) == 0 && (rc = vec_error(&v, e)) == 0)
        members_emit(w, &v, self);
    vec_cleanup(&v);
    return rc;
}

/* The query of the rest of resident id's detail after people_row_write (extras_write): three SELECTs
 * joined by UNION ALL, told apart by the first column and each in the order of the query it
 * replaces: tags by tag, contacts by sort and id, the members of the resident's household oldest
 * first (then by id). It depends on nothing read before it, so it can be sent with the resident's
 * row (store_query_ahead). */
static void extras_q(int64_t id, sqlq *q)
{
    /* columns: kind, order, then id, name, relation, phone_enc, is_primary (contact_write, from 2)
     * or id, name, relation, -, sex, birth_date, status (member_push, from 2) or -, code, name;
     * then a member's community_id, street and grid_id (9-11), which its scope is checked on. Every
     * member of the household is read: the viewer's scope is applied to them here, in memory
     * (member_visible), so that the cache can keep them all (people_cache.c). */
    sqlq_init(q, "SELECT 0, rt.tag_id, NULL, t.code, t.name, NULL, NULL, NULL, NULL, CAST(NULL AS BIGINT), "
                 "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) FROM resident_tags rt "
                 "JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = $1 "
                 "UNION ALL SELECT 1, ec.sort, ec.id, ec.name, ec.relation, ec.phone_enc, ec.is_primary, NULL, "
                 "NULL, NULL, NULL, NULL FROM emergency_contacts ec WHERE ec.resident_id = $1 "
                 "UNION ALL SELECT 2, 0, r.id, r.name, r.relation, NULL, r.sex, r.birth_date, r.status, "
                 "r.community_id, (SELECT cm.street_id FROM communities cm WHERE cm.id = r.community_id), r.grid_id "
                 "FROM residents r WHERE r.household_id = (SELECT h.household_id FROM residents h WHERE h.id = $1)");
    sqlq_param(q, P_INT(id));
    sqlq_sql(q, " ORDER BY 1, 8, 2, 3");
}

/* The scope columns of a member row of extras_q. */
static people_scope_row member_scope(store_rows *r)
{
    people_scope_row m = {.id = store_int(r, 2), .community = store_int(r, 9), .street = store_int(r, 10),
                          .has_grid = !store_isnull(r, 11), .grid = store_int(r, 11)};
    return m;
}

/* Whether who sees that member in the members list: members_scope's rule, in memory. */
static bool member_visible(const nx_principal *who, const people_scope_row *m)
{
    return people_self_view(who) || perm_scope_match(who, m->id, m->community, m->street, m->has_grid, m->grid);
}

/* The rest of a resident's detail after people_row_write, from ONE query q (extras_q: one round trip
 * on PostgreSQL, one statement on SQLite instead of three): the assigned tags into the open "tags"
 * array, which it closes, then "contacts" and "household_members" (none without a household). */
static int extras_write(people_read_ctx *c, store_tx *tx, const nx_principal *who, const sqlq *q, int64_t id,
                        vec *scopes, uint64_t *mask, jsonw *w, nx_err *e)
{
    store_rows *r;
    int rc = sqlq_query(tx, q, &r, e);
    if (rc)
        return rc;
    vec v;
    vec_init(&v, sizeof(member), 0);
    nx_date today = c->today;
    bool contacts = false; /* the "contacts" array is open */
    while (store_row(r)) {
        int64_t kind = store_int(r, 0);
        if (kind == 0) {
            people_w_tag(w, store_text(r, 3), store_text(r, 4), false);
            continue;
        }
        if (!contacts) {
            jsonw_arr_end(w);
            jsonw_key(w, "contacts");
            jsonw_arr_begin(w);
            contacts = true;
        }
        if (kind == 1) {
            contact_write(c, r, 2, w);
            continue;
        }
        people_scope_row m = member_scope(r);
        bool in = member_visible(who, &m);
        if (in && scopes->len < 64)
            *mask |= 1ull << scopes->len;
        if (vec_push(scopes, &m) || (in && member_push(r, 2, today, &v)))
            break;
    }
    if ((rc = store_rows_end(r, e)) == 0 && (rc = vec_error(&v, e)) == 0 && (rc = vec_error(scopes, e)) == 0) {
        if (!contacts) {
            jsonw_arr_end(w);
            jsonw_key(w, "contacts");
            jsonw_arr_begin(w);
        }
        jsonw_arr_end(w);
        jsonw_key(w, "household_members");
        members_emit(w, &v, id);
    }
    vec_cleanup(&v);
    return rc;
}

int people_household_members(store_tx *tx, const nx_principal *who, int64_t household, int64_t self, json_t **out,
                             nx_err *e)
{
    strbuf b;
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    return written_json(members_write(tx, who, household, self, &w, e), &w, &b, "家庭成员列表", out, e);
}

int people_resident_write(nx_app *app, const nx_principal *who, int64_t id, strbuf *out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ) && !(perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权查看居民信息");
    /* From memory when the same detail was read before under the same generation (people_cache.c);
     * the generation is taken before the snapshot below, so a detail read here while a write
     * commits is kept under the old one and never served. */
    bool cache = people_detail_enabled(app);
    uint64_t gen = cache ? people_detail_gen() : 0;
    int rc;
    if (cache && people_detail_lookup(app, who, id, out, &rc, e))
        return rc;
    sqlq q;
    sqlq_init(&q, RES_COLS " WHERE r.id = $1");
    sqlq_param(&q, P_INT(id));
    if (people_self_view(who)) {
        /* The reduced self view: a resident (or family account) reads the one record it is bound to;
         * the other members of the household only as its members list shows them. */
        sqlq_add(&q, " AND r.id = $%d", P_INT(who->resident_id));
    } else {
        perm_scope_q(who, "r.", "id", &q);
    }
    sqlq xq;
    extras_q(id, &xq);
    store_tx *tx;
    /* The snapshot is the first query's: nothing happens in between (PostgreSQL: BEGIN, the row's
     * query, the extras' query announced ahead and the ROLLBACK travel in one round trip). The extras
     * of a resident out of scope or missing are read by no one. */
    if ((rc = store_begin(app->db, STORE_READ_DEFERRED, &tx, e)))
        return rc;
    people_read_ctx c = {.app = app, .gen = gen, .self_view = people_self_view(who)};
    store_rows *r = NULL;
    size_t start = out->len;
    jsonw w;
    jsonw_init(&w, out);
    vec scopes;
    vec_init(&scopes, sizeof(people_scope_row), 0);
    uint64_t mask = 0;
    people_scope_row self = {0};
    if ((rc = people_load_computed(tx, &c, e)) || (rc = sqlq_check(&xq, e)) ||
        (rc = store_query_ahead(tx, xq.sql, xq.p, xq.n, true, e)) || (rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    if ((rc = store_first(r, "居民不存在", e)))
        goto done;
    self = (people_scope_row){.id = id, .community = store_int(r, C_COMMUNITY), .street = store_int(r, C_STREET),
                              .has_grid = !store_isnull(r, C_GRID), .grid = store_int(r, C_GRID)};
    people_row_write(&c, r, true, &w);
    store_rows_free(r);
    r = NULL;
    if ((rc = extras_write(&c, tx, who, &xq, id, &scopes, &mask, &w, e)))
        goto done;
    size_t body = jsonw_flush(&w) == 0 ? out->len - start : 0;
    jsonw_kbool(&w, "can_reveal", perm_has(who, RIGHT_REVEAL));
    jsonw_kbool(&w, "can_edit", perm_has(who, RIGHT_PEOPLE_WRITE));
    jsonw_obj_end(&w);
    if ((rc = jsonw_finish(&w)))
        rc = nx_fail(e, rc, "", rc == NX_ETOOBIG ? "响应过大" : "无法生成居民信息");
    else if (cache && body && scopes.len <= 64)
        people_detail_put(app, who, gen, c.today, id, &self, scopes.items, (int)scopes.len, mask, out->data + start,
                          body);
done:
    vec_cleanup(&scopes);
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}

int people_resident_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    strbuf b;
    strbuf_init(&b, 0);
    int rc = people_resident_write(app, who, id, &b, e);
    if (rc == 0 && (*out = people_json_parse(&b)) == NULL)
        rc = nx_fail(e, NX_EINTERNAL, "", "无法生成居民信息");
    strbuf_cleanup(&b);
    return rc;
}

/* The fields of resident id that want names, decrypted (want: id_number, phone, address, contacts,
 * name), in the transaction tx, with the audit entry "reveal" and its detail (taken over) written in
 * it: *out a new object. scoped applies who's scope (out of scope reads as "not found"); the alarm
 * path checked its own (the alert's) already. Nothing is committed here. */
static int reveal(store_tx *tx, nx_app *app, const nx_principal *who, int64_t id, bool scoped,
                  const bool want[5], json_t *detail, json_t **out, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT r.id_enc, r.phone_enc, r.address_enc, r.community_id, r.name FROM residents r "
                  "WHERE r.id = $1");
    sqlq_param(&q, P_INT(id));
    if (scoped)
        perm_scope_q(who, "r.", "id", &q);
    store_rows *r;
    int rc = sqlq_first(tx, &q, "居民不存在", &r, e);
    if (rc) {
        json_decref(detail);
        return rc;
    }
    people_read_ctx c = {.app = app, .reveal = true};
    json_t *o = json_object();
    if (want[4])
        json_object_set_new(o, "name", json_string(store_text(r, 4) ? store_text(r, 4) : ""));
    if (want[0])
        json_object_set_new(o, "id_number", secret(&c, r, 0, CTX_ID, mask_id));
    if (want[1])
        json_object_set_new(o, "phone", secret(&c, r, 1, CTX_PHONE, mask_phone));
    if (want[2])
        json_object_set_new(o, "address", secret(&c, r, 2, CTX_ADDRESS, mask_address));
    int64_t community = store_int(r, 3);
    store_rows_free(r);
    json_t *contacts;
    if (want[3] && (rc = contacts_json(&c, tx, id, &contacts, e)) == 0)
        json_object_set_new(o, "contacts", contacts);
    if (rc)
        json_decref(detail);
    else
        rc = audit_write_new(tx, who, "reveal", "resident", id, community, detail, e);
    if (rc) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
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
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    json_t *o;
    if ((rc = reveal(tx, app, who, id, true, (bool[5]){want[0], want[1], want[2], want[3], false},
                     json_pack("{s:O}", "fields", fields), &o, e))) {
        store_rollback(tx);
        return rc;
    }
    if ((rc = store_commit(tx, e))) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

int people_reveal_for_alarm(store_tx *tx, nx_app *app, const nx_principal *who, int64_t id, int64_t alert_id,
                            json_t **out, nx_err *e)
{
    return reveal(tx, app, who, id, false, (bool[5]){false, true, false, true, true},
                  json_pack("{s:[ss], s:I}", "fields", "phone", "contacts", "alert_id", (json_int_t)alert_id),
                  out, e);
}
