/* party.c — party organisations: the tree committee → branch → group of one community, and each
 * organisation's secretary.
 *
 * Invariants: a branch's parent is a committee of the same community, a group's a branch; an
 * organisation's name is unique in its community; a secretary is an active member of the
 * organisation or of one of its children. Reads go through party_scope_q (a secretary reads the
 * organisations they lead). Every write is audited in its own transaction. */
#include "modules/party/party_internal.h"

#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "secure/audit.h"
#include "store/page.h"

#define ORG_COLS                                                                                           \
    "SELECT o.id, o.community_id, o.parent_id, o.kind, o.name, o.secretary_member_id, s.name, o.founded_on, " \
    "(SELECT COUNT(*) FROM party_members m WHERE m.org_id = o.id AND m.status = 'active') FROM party_orgs o "  \
    "LEFT JOIN party_members s ON s.id = o.secretary_member_id WHERE 1 = 1"

static json_t *org_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i parent_id:i kind:t name:t secretary_member_id:i "
                                  "secretary_name:t founded_on:t member_count:i");
    if (o)
        json_object_set_new(o, "kind_label", json_string(party_org_kind_label(store_text(r, 3))));
    return o;
}

static void org_where(sqlq *q, const char *head, const nx_principal *who, const party_filter *f)
{
    sqlq_init(q, head);
    party_scope_q(q, who, "o.", "id");
    sqlq_eq_int(q, "o.community_id", f->community_id);
    sqlq_eq_text(q, "o.kind", f->kind);
    sqlq_eq_int(q, "o.parent_id", f->org_id);
    if (f->q && *f->q)
        sqlq_like(q, " AND o.name LIKE $%d ESCAPE '!'", f->q, true);
}

int party_org_list(nx_app *app, const nx_principal *who, const party_filter *f, json_t **out, nx_err *e)
{
    int rc = party_list_check(who, f, "无权查看党组织", e);
    if (rc)
        return rc;
    return party_page(app, who, f, org_where, ORG_COLS, "SELECT COUNT(*) FROM party_orgs o WHERE 1 = 1", "o.", true,
                      org_row, out, e);
}

int party_org_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!party_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权查看党组织");
    sqlq q;
    sqlq_init(&q, ORG_COLS);
    sqlq_add(&q, " AND o.id = $%d", P_INT(id));
    party_scope_q(&q, who, "o.", "id");
    return store_get_read(app->db, &q, &(store_page_spec){.row = org_row}, "党组织不存在", out, e);
}

static const char *parent_kind_of(const char *kind)
{
    if (strcmp(kind, "branch") == 0)
        return "committee";
    if (strcmp(kind, "group") == 0)
        return "branch";
    return NULL;
}

int party_org_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!party_manager(who))
        return nx_fail(e, NX_EPERM, "", "无权管理党组织");
    static const char *const allowed[] = {"name", "kind", "parent_id", "community_id", "founded_on", NULL};
    const char *name = NULL, *kind = NULL, *founded = NULL;
    int64_t parent = 0, given = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "name", true, 60, &name, e)) ||
        (rc = json_read_str(in, "kind", true, 20, &kind, e)) ||
        (rc = json_get_int(in, "parent_id", false, 1, INT64_MAX, &parent, e)) < 0 ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &given, e)) < 0 ||
        (rc = json_read_date(in, "founded_on", false, &founded, e)))
        return rc;
    if (!*party_org_kind_label(kind))
        return nx_fail(e, NX_EINVAL, "kind", "组织类型应为 committee、branch 或 group");
    const char *want_parent = parent_kind_of(kind);
    if (want_parent && !parent && strcmp(kind, "group") == 0)
        return nx_fail(e, NX_EINVAL, "parent_id", "党小组须属于一个党支部");
    if (!want_parent && parent)
        return nx_fail(e, NX_EINVAL, "parent_id", "党委（总支）没有上级组织");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    if (parent) {
        sqlq q;
        sqlq_init(&q, "SELECT o.community_id, o.kind FROM party_orgs o WHERE 1 = 1");
        sqlq_add(&q, " AND o.id = $%d", P_INT(parent));
        party_scope_q(&q, who, "o.", "id");
        store_rows *r;
        if ((rc = sqlq_query(tx, &q, &r, e)))
            goto fail;
        if ((rc = store_first(r, "上级组织不存在", e))) {
            store_rows_free(r);
            str_copy(e->field, "parent_id", sizeof e->field);
            goto fail;
        }
        community = store_int(r, 0);
        bool fits = strcmp(store_text(r, 1), want_parent) == 0;
        store_rows_free(r);
        if (!fits) {
            rc = nx_fail(e, NX_EINVAL, "parent_id", "党支部的上级应为党委（总支），党小组的上级应为党支部");
            goto fail;
        }
        if (given && given != community) {
            rc = nx_fail(e, NX_EINVAL, "community_id", "上级组织不在该社区");
            goto fail;
        }
    } else if ((rc = party_target_community(tx, who, given, &community, e))) {
        goto fail;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_ID(parent), P_TEXT(kind), P_TEXT(name), P_TEXT(founded), P_INT(now)};
    rc = store_one_int(tx,
                       "INSERT INTO party_orgs (community_id, parent_id, kind, name, founded_on, created_at, "
                       "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                       p, 6, id, e);
    if ((rc = store_conflict_field(rc, "name", e, "本社区已有同名党组织")))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "party_org", *id, community, json_pack("{s:s}", "kind", kind), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int party_org_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!party_manager(who))
        return nx_fail(e, NX_EPERM, "", "无权管理党组织");
    static const char *const allowed[] = {"name", "secretary_member_id", "founded_on", NULL};
    const char *name = NULL, *founded = NULL;
    int64_t sec = 0;
    bool clear_sec = json_is_null_field(in, "secretary_member_id");
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "name", false, 60, &name, e)) ||
        (rc = json_get_int(in, "secretary_member_id", false, 1, INT64_MAX, &sec, e)) < 0 ||
        (rc = json_read_date(in, "founded_on", false, &founded, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    if ((rc = party_check_org(tx, who, id, &community, e))) {
        if (rc == NX_ENOTFOUND)
            str_copy(e->field, "", sizeof e->field);
        goto fail;
    }
    if (sec) {
        store_param m[] = {P_INT(sec), P_INT(id)};
        if ((rc = store_exists_or_fail(
                 tx,
                 "SELECT COUNT(*) FROM party_members m JOIN party_orgs o ON o.id = m.org_id WHERE m.id = $1 "
                 "AND m.status = 'active' AND (o.id = $2 OR o.parent_id = $2)",
                 m, 2, "secretary_member_id", e, "书记须为本组织的在册党员")))
            goto fail;
    }
    store_param p[] = {P_TEXT(name), P_INT(clear_sec ? 2 : (sec ? 1 : 0)), P_ID(sec), P_TEXT(founded),
                       P_INT(clock_now_ms()), P_INT(id)};
    rc = store_exec(
        tx,
        "UPDATE party_orgs SET name = COALESCE($1, name), secretary_member_id = CASE WHEN $2 = 0 THEN "
        "secretary_member_id WHEN $2 = 2 THEN NULL ELSE $3 END, founded_on = COALESCE($4, founded_on), "
        "updated_at = $5 WHERE id = $6",
        p, 6, NULL, e);
    if ((rc = store_conflict_field(rc, "name", e, "本社区已有同名党组织")))
        goto fail;
    if ((rc = audit_write(tx, who, "update", "party_org", id, community, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
