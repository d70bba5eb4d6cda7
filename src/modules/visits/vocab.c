/* vocab.c — the care vocabularies (care_vocab): care categories and levels, grid member roles,
 * incident and problem categories. Codes are stable identifiers (lower-case letters, digits and
 * underscores); labels and the sort order are editable, and an entry is retired by deactivating it
 * (rows referring to it keep their code). A level's sort is its rank: a higher sort is a raise.
 * Reading needs CARE_READ or SELF (residents pick a category when they raise a problem); changes
 * need CARE_ADMIN and are audited.
 * Threads: none of its own; every function runs its own transaction. */
#include "modules/visits/visits_internal.h"

#include "base/jsonin.h"
#include "secure/audit.h"

#include <string.h>

static const char *const vocab_kinds[] = {"care_category", "care_level", "member_role", "incident_category",
                                          "problem_category", NULL};

static bool vocab_kind_ok(const char *k)
{
    for (int i = 0; vocab_kinds[i]; i++)
        if (strcmp(vocab_kinds[i], k) == 0)
            return true;
    return false;
}

#define VOCAB_COLS "SELECT id, kind, code, label, sort, active FROM care_vocab"

static json_t *vocab_row(store_rows *r)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:I, s:b}", "id", (json_int_t)store_int(r, 0), "kind", store_text(r, 1),
                     "code", store_text(r, 2), "label", store_text(r, 3), "sort", (json_int_t)store_int(r, 4),
                     "active", (int)store_int(r, 5));
}

int visits_vocab_list(nx_app *app, const nx_principal *who, const char *kind, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看关怀字典");
    if (kind && !vocab_kind_ok(kind))
        return nx_fail(e, NX_EINVAL, "kind",
                       "字典类别无效，可选 care_category、care_level、member_role、incident_category、problem_category");
    sqlq q;
    sqlq_init(&q, VOCAB_COLS " WHERE 1 = 1");
    if (kind)
        sqlq_add(&q, " AND kind = $%d", P_TEXT(kind));
    sqlq_sql(&q, " ORDER BY kind, sort, id");
    return store_items_read(app->db, &q, &(store_page_spec){.row = vocab_row}, out, e);
}

int visits_vocab_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看关怀字典");
    sqlq q;
    sqlq_init(&q, VOCAB_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND id = $%d", P_INT(id));
    return store_get_read(app->db, &q, &(store_page_spec){.row = vocab_row}, "字典项不存在", out, e);
}

static bool code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40)
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

int visits_vocab_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "只有系统管理员可以修改关怀字典");
    static const char *const allowed[] = {"kind", "code", "label", "sort", NULL};
    const char *kind = NULL, *code = NULL, *label = NULL;
    int64_t sort = 50;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "kind", true, 40, &kind, e)) ||
        (rc = json_read_str(in, "code", true, 40, &code, e)) ||
        (rc = json_read_str(in, "label", true, 20, &label, e)) ||
        (rc = json_get_int(in, "sort", false, 0, 9999, &sort, e)) < 0)
        return rc;
    if (!vocab_kind_ok(kind))
        return nx_fail(e, NX_EINVAL, "kind", "字典类别无效");
    if (!code_ok(code))
        return nx_fail(e, NX_EINVAL, "code", "代码只能由小写字母、数字和下划线组成（最多 40 个）");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(kind), P_TEXT(code), P_TEXT(label), P_INT(sort), P_INT(1), P_INT(now),
                       P_INT(now)};
    rc = app_insert(tx, "care_vocab", "kind, code, label, sort, active, created_at, updated_at", p, 7,
                    id, e);
    if ((rc = store_conflict_field(rc, "code", e, "该类别中已有此代码")))
        goto fail;
    json_t *d = json_pack("{s:s, s:s}", "kind", kind, "code", code);
    rc = audit_write(tx, who, "create", "care_vocab", *id, 0, d, e);
    json_decref(d);
fail:
    return store_finish(tx, rc, e);
}

int visits_vocab_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_ADMIN))
        return nx_fail(e, NX_EPERM, "", "只有系统管理员可以修改关怀字典");
    static const char *const allowed[] = {"label", "sort", "active", NULL};
    const char *label = NULL;
    int64_t sort = -1;
    bool active = true;
    int rc, has_active = 1;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "label", false, 20, &label, e)) ||
        (rc = json_get_int(in, "sort", false, 0, 9999, &sort, e)) < 0)
        return rc;
    if ((has_active = json_get_bool(in, "active", false, &active, e)) < 0)
        return has_active;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_param p[] = {P_TEXT(label), P_INT(sort), P_INT(has_active == 0 ? (active ? 1 : 0) : -1),
                       P_INT(clock_now_ms()), P_INT(id)};
    int64_t changes = 0;
    if ((rc = store_exec(tx,
                         "UPDATE care_vocab SET label = COALESCE($1, label), sort = CASE WHEN $2 < 0 THEN sort ELSE "
                         "$2 END, active = CASE WHEN $3 < 0 THEN active ELSE $3 END, updated_at = $4 WHERE id = $5",
                         p, 5, &changes, e)))
        goto fail;
    if (changes == 0) {
        rc = nx_fail(e, NX_ENOTFOUND, "", "字典项不存在");
        goto fail;
    }
    if ((rc = audit_write(tx, who, "update", "care_vocab", id, 0, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
