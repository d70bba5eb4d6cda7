/* council_common.c — what the council's rules files share: who may act (staff of the council, a
 * resident for themselves), the reader's scope in SQL (staff by the usual scope, a resident by the
 * estate of their own record, so a resident sees their estate's topics, meetings and polls and no
 * other), Shanghai dates for steps and the adult cutoff of polls, the estate of a new object checked
 * against the caller's scope, and small readers over the kit (one row, rows into an array).
 * Stateless and thread-safe. */
#include "modules/council/council_internal.h"

#include "base/str.h"

#include <stdio.h>
#include <string.h>

bool cx_staff(const nx_principal *who)
{
    return perm_has(who, RIGHT_COUNCIL_MANAGE);
}

bool cx_resident(const nx_principal *who)
{
    return !cx_staff(who) && who->role == ROLE_RESIDENT && perm_has(who, RIGHT_SELF) && who->resident_id > 0;
}

int cx_can_read(const nx_principal *who, nx_err *e)
{
    if (cx_staff(who) || (perm_has(who, RIGHT_SELF) && who->resident_id > 0))
        return 0;
    return nx_fail(e, NX_EPERM, "", "无权查看议事会");
}

int cx_need_staff(const nx_principal *who, nx_err *e)
{
    return cx_staff(who) ? 0 : nx_fail(e, NX_EPERM, "", "无权管理议事会");
}

int cx_staff_begin(nx_app *app, const nx_principal *who, json_t *in, store_tx **tx, nx_err *e)
{
    static const char *const none[] = {NULL};
    int rc;
    if ((rc = cx_need_staff(who, e)) || (in && (rc = json_only(in, none, e))))
        return rc;
    return store_begin(app->db, STORE_WRITE, tx, e);
}

void cx_scope_q(const nx_principal *who, const char *alias, sqlq *q)
{
    if (cx_staff(who)) {
        perm_scope_q(who, alias, NULL, q);
        return;
    }
    int n = sqlq_param(q, P_INT(who->resident_id > 0 ? who->resident_id : -1));
    sqlq_sql(q, " AND %sestate_id = (SELECT rr.estate_id FROM residents rr WHERE rr.id = $%d)", alias, n);
}

void cx_today(char out[11])
{
    date_format(date_today(), out);
}

void cx_add_days(const char *day, int n, char out[11])
{
    nx_date d;
    if (date_parse(day, &d) != 0)
        d = date_today();
    date_format(date_from_days(date_to_days(d) + n), out);
}

void cx_adult_cutoff(char out[11])
{
    nx_date d = date_today();
    d.y -= 18;
    if (d.m == 2 && d.d == 29 && !date_valid(d.y, 2, 29))
        d.d = 28;
    date_format(d, out);
}

int cx_estate_place(store_tx *tx, const nx_principal *who, int64_t estate, const char *field, int64_t *community,
                    int64_t *grid, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT s.community_id, s.grid_id FROM estates s WHERE 1 = 1");
    sqlq_add(&q, " AND s.id = $%d", P_INT(estate));
    store_rows *r;
    int rc = sqlq_first(tx, &q, "小区不存在", &r, e);
    if (rc == 0) {
        *community = store_int(r, 0);
        *grid = store_int(r, 1);
        store_rows_free(r);
    }
    if (rc == 0 && !perm_covers(who, tx, *community, *grid))
        rc = NX_ENOTFOUND;
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, field, "小区不存在或不在管理范围内");
    return rc;
}

int cx_resident_info(store_tx *tx, int64_t resident, int64_t *estate, bool *active, bool *adult, nx_err *e)
{
    char cutoff[11];
    cx_adult_cutoff(cutoff);
    sqlq q;
    sqlq_init(&q, "SELECT r.estate_id, r.status, r.birth_date FROM residents r WHERE 1 = 1");
    sqlq_add(&q, " AND r.id = $%d", P_INT(resident));
    store_rows *r;
    int rc = sqlq_first(tx, &q, "居民不存在", &r, e);
    if (rc)
        return rc;
    *estate = store_int(r, 0);
    const char *st = store_text(r, 1), *birth = store_text(r, 2);
    *active = st && strcmp(st, "active") == 0;
    *adult = birth && strcmp(birth, cutoff) <= 0;
    store_rows_free(r);
    return 0;
}

/* head for row id of alias in who's read scope. */
static void id_q(sqlq *q, const nx_principal *who, const char *head, const char *alias, int64_t id)
{
    sqlq_init(q, head);
    int n = sqlq_param(q, P_INT(id));
    sqlq_sql(q, " AND %sid = $%d", alias, n);
    cx_scope_q(who, alias, q);
}

int cx_first(store_tx *tx, const nx_principal *who, const char *head, const char *alias, int64_t id,
             const char *missing, store_rows **r, nx_err *e)
{
    sqlq q;
    id_q(&q, who, head, alias, id);
    return sqlq_first(tx, &q, missing, r, e);
}

int cx_get(store_tx *tx, const nx_principal *who, const char *head, const char *alias, int64_t id,
           const store_page_spec *s, const char *missing, json_t **out, nx_err *e)
{
    sqlq q;
    id_q(&q, who, head, alias, id);
    return store_get(tx, &q, s, missing, out, e);
}

int cx_get_read(nx_app *app, const nx_principal *who, const char *head, const char *alias, int64_t id,
                const store_page_spec *s, const char *missing, json_t **out, nx_err *e)
{
    int rc = cx_can_read(who, e);
    if (rc)
        return rc;
    sqlq q;
    id_q(&q, who, head, alias, id);
    return store_get_read(app->db, &q, s, missing, out, e);
}

int cx_build(nx_app *app, const nx_principal *who, int64_t id, store_build_fn build, json_t **out, nx_err *e)
{
    int rc = cx_can_read(who, e);
    return rc ? rc : store_build_read(app->db, build, who, id, out, e);
}

/* " AND <alias><col> = $N" for a filter the request gave. */
static void eq_int(sqlq *q, const char *alias, const char *col, int64_t v)
{
    if (v)
        sqlq_sql(q, " AND %s%s = $%d", alias, col, sqlq_param(q, P_INT(v)));
}

int cx_page(nx_app *app, const nx_principal *who, const char *head, const char *alias, const council_filter *f,
            bool by_decision, store_page_spec *s, json_t **out, nx_err *e)
{
    int rc = cx_can_read(who, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, head);
    cx_scope_q(who, alias, &q);
    eq_int(&q, alias, "estate_id", f->estate_id);
    eq_int(&q, alias, "community_id", f->community_id);
    if (by_decision)
        eq_int(&q, alias, "decision_id", f->decision_id);
    if (f->status && *f->status)
        sqlq_sql(&q, " AND %sstatus = $%d", alias, sqlq_param(&q, P_TEXT(f->status)));
    s->limit = f->limit;
    s->max = (int)app->cfg->page_max;
    return store_page_by_id(app->db, &q, alias, f->after, false, s, out, e);
}

int cx_one(store_tx *tx, sqlq *q, const char *spec, const char *missing, json_t **out, nx_err *e)
{
    store_rows *r;
    int rc = sqlq_first(tx, q, missing, &r, e);
    if (rc)
        return rc;
    if (!(*out = store_json_row(r, spec)))
        rc = nx_fail(e, NX_ENOMEM, "", "无法生成结果");
    store_rows_free(r);
    return rc;
}

int cx_rows(store_tx *tx, sqlq *q, const char *spec, json_t *o, const char *key, nx_err *e)
{
    store_rows *r;
    int rc = sqlq_query(tx, q, &r, e);
    if (rc)
        return rc;
    json_t *a = json_array();
    while (store_row(r)) {
        json_t *item = store_json_row(r, spec);
        if (item)
            json_array_append_new(a, item);
    }
    rc = store_rows_end(r, e);
    json_object_set_new(o, key, a);
    return rc;
}

int cx_int(store_tx *tx, sqlq *q, int64_t *out, nx_err *e)
{
    int rc = sqlq_one_int(tx, q, out, e);
    if (rc == NX_ENOTFOUND) {
        *out = 0;
        nx_err_clear(e);
        return 0;
    }
    return rc;
}

const char *cx_topic_status_label(const char *s)
{
    static const char *const map[][2] = {{"open", "征集中"},  {"scheduled", "已排会"}, {"decided", "已议定"},
                                         {"done", "已办结"},  {"merged", "已合并"},    {"rejected", "未采纳"}};
    const char *l = STR_LABEL(map, s);
    return l ? l : "";
}
