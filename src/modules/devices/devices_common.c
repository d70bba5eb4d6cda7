/* devices_common.c — what the files of the devices module share: the page cap, the length check
 * of a text field, and where a resident lives (in the caller's scope).
 *
 * These are helpers of this module only (devices_internal.h); what other modules may use is in
 * devices.h. */
#include "modules/devices/devices_internal.h"

#include "base/str.h"

int devices_page_max(const nx_app *app)
{
    return app->cfg && app->cfg->page_max > 0 ? (int)app->cfg->page_max : 200;
}

int devices_items_of(nx_app *app, const nx_principal *who, int64_t id, devices_scope_fn in_scope, sqlq *q,
                     const store_page_spec *s, json_t **out, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    json_t *items = NULL;
    if ((rc = in_scope(tx, who, id, e)) == 0 && (rc = store_items(tx, q, s, &items, e)) == 0 &&
        (*out = json_pack("{s:o}", "items", items)) == NULL)
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
    store_rollback(tx);
    return rc;
}

int devices_device_seen(store_tx *tx, const nx_principal *who, int64_t id, nx_err *e)
{
    return devices_device_in_scope(tx, who, id, NULL, NULL, e);
}

/* The resident's community and grid, in the caller's scope. */
int devices_resident_place(store_tx *tx, const nx_principal *who, int64_t resident, int64_t *community,
                           int64_t *grid, nx_err *e)
{
    sqlq q;
    perm_scope_id_q(who, "r.", "id", resident,
                    "SELECT r.community_id, r.grid_id FROM residents r WHERE 1 = 1", &q);
    store_rows *r = NULL;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "", e)) == 0) {
        *community = store_int(r, 0);
        *grid = store_int(r, 1);
    }
    store_rows_free(r);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "resident_id", "居民不存在或不在您的管辖范围内");
    return rc;
}

int devices_check_text(const char *s, size_t max, const char *field, nx_err *e)
{
    if (s && str_utf8_len(s) > max)
        return nx_fail(e, NX_EINVAL, field, "%s 过长（最多 %zu 个字符）", field, max);
    return 0;
}
