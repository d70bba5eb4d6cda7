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

/* The assigned tags of one resident as elements of the open array in w. */
static int tags_write(store_tx *tx, int64_t id, jsonw *w, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_INT(id)};
    int rc = store_query(tx, TAGS_SQL "$1)", p, 1, &r, e);
    if (rc)
        return rc;
    while (store_row(r))
        people_w_tag(w, store_text(r, 1), store_text(r, 2), false);
    return store_rows_end(r, e);
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
    while (store_row(r)) {
        jsonw_obj_begin(w);
        jsonw_kint(w, "id", store_int(r, 0));
        jsonw_kstr(w, "name", store_text(r, 1));
        jsonw_kstr(w, "relation", store_text(r, 2));
        people_w_secret(w, "phone", c, r, 3, CTX_CONTACT_PHONE, mask_phone);
        jsonw_kbool(w, "is_primary", store_int(r, 4) != 0);
        jsonw_obj_end(w);
    }
    jsonw_arr_end(w);
    return store_rows_end(r, e);
}

static int contacts_json(people_read_ctx *c, store_tx *tx, int64_t id, json_t **out, nx_err *e)
{
    strbuf b;
    strbuf_init(&b, 0);
    jsonw w;
    jsonw_init(&w, &b);
    int rc = contacts_write(c, tx, id, &w, e);
    if (rc == 0 && jsonw_finish(&w) != 0)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    json_t *v = rc == 0 ? people_json_parse(&b) : NULL;
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
    jsonw_kstr(w, "relation_label", people_choice_label(people_choice_relation, m->relation));
    jsonw_kstr(w, "sex", sex);
    jsonw_kstr(w, "sex_label", people_choice_label(people_choice_sex, sex));
    jsonw_kint(w, "age", m->age);
    jsonw_kstr(w, "status", m->status);
    jsonw_kstr(w, "status_label", people_choice_label(people_choice_status, m->status));
    jsonw_kbool(w, "self", m->id == self);
    jsonw_obj_end(w);
}

/* The members of a household as one array value in w: the head first, then oldest first. */
static int members_write(store_tx *tx, const nx_principal *who, int64_t household, int64_t self, jsonw *w,
                         nx_err *e)
{
    store_rows *r;
    sqlq q;
    sqlq_init(&q, "SELECT r.id, r.name, r.relation, r.sex, r.birth_date, r.status FROM residents r "
                  "WHERE r.household_id = $1");
    sqlq_param(&q, P_INT(household));
    /* staff see the members in their scope; a self view reaches only its own household anyway */
    if (!people_self_view(who))
        perm_scope_q(who, "r.", "id", &q);
    /* Oldest first by the index; the head of the household is written first below. */
    sqlq_sql(&q, " ORDER BY r.birth_date");
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    /* No cap of its own: the response that carries the members has one (jsonw). */
    vec v;
    vec_init(&v, sizeof(member), 0);
    nx_date today = date_today();
    while (store_row(r)) {
        member x = {0};
        nx_date b = {0};
        date_parse(store_text(r, 4), &b);
        x.id = store_int(r, 0);
        str_copy(x.name, store_text(r, 1) ? store_text(r, 1) : "", sizeof x.name);
        str_copy(x.relation, store_text(r, 2) ? store_text(r, 2) : "", sizeof x.relation);
        str_copy(x.status, store_text(r, 5) ? store_text(r, 5) : "", sizeof x.status);
        x.male = store_int(r, 3) == 1;
        x.age = b.y ? date_age(b, today) : 0;
        if (vec_push(&v, &x))
            break;
    }
    const member *m = v.items;
    size_t n = v.len;
    if ((rc = store_rows_end(r, e)) == 0 && (rc = vec_error(&v, e)) == 0) {
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
    int rc = members_write(tx, who, household, self, &w, e);
    if (rc == 0 && jsonw_finish(&w) != 0)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    json_t *v = rc == 0 ? people_json_parse(&b) : NULL;
    if (rc == 0 && v == NULL)
        rc = nx_fail(e, NX_EINTERNAL, "", "无法生成家庭成员列表");
    if (rc == 0)
        *out = v;
    strbuf_cleanup(&b);
    return rc;
}

int people_resident_write(nx_app *app, const nx_principal *who, int64_t id, strbuf *out, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_READ) && !(perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权查看居民信息");
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
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    people_read_ctx c = {.app = app, .self_view = people_self_view(who)};
    store_rows *r = NULL;
    jsonw w;
    jsonw_init(&w, out);
    if ((rc = people_load_computed(tx, &c, e)) || (rc = sqlq_query(tx, &q, &r, e)))
        goto done;
    if ((rc = store_first(r, "居民不存在", e)))
        goto done;
    people_row_write(&c, r, true, &w);
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
        if ((rc = members_write(tx, who, household, id, &w, e)))
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
