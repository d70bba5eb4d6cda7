/* volunteers_common.c — the helpers every file of the volunteers module shares: who reads what
 * (scope), the caller's own volunteer record and what a team leader may do, encrypted phones, local
 * times and hours.
 *
 * Scope. Staff and street accounts read what perm_scope_q gives them. The module's other readers —
 * grid workers, volunteer accounts, residents and family — take part in the life of their own
 * community (its activities, teams, partner sessions), so their scope here is that community; what
 * is personal (hours, bookings, sign-ups) is further narrowed to their own rows by each list.
 *
 * Times in the API are Shanghai local times ("2026-12-06T09:00"); the store keeps epoch ms. Hours
 * are taken as JSON numbers and kept as whole minutes, so that every sum is exact. */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "base/log.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "text/mask.h"
#include "text/phone.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool vol_may_read(const nx_principal *who)
{
    return perm_has(who, RIGHT_VOLUNTEER_MANAGE) || perm_has(who, RIGHT_VOLUNTEER_DUTY) || perm_has(who, RIGHT_SELF);
}

bool vol_oversees(const nx_principal *who)
{
    return who->role == ROLE_STREET && who->scope == SCOPE_STREET;
}

bool vol_may_view(const nx_principal *who)
{
    return vol_may_read(who) || vol_oversees(who);
}

bool vol_staff_read(const nx_principal *who)
{
    return perm_has(who, RIGHT_VOLUNTEER_MANAGE) || perm_has(who, RIGHT_VOLUNTEER_DUTY) || vol_oversees(who);
}

void vol_scope(sqlq *q, const nx_principal *who, const char *alias)
{
    if (who->scope == SCOPE_GRID || who->scope == SCOPE_SELF)
        sqlq_sql(q, " AND %scommunity_id = $%d", alias, sqlq_param(q, P_INT(who->community_id)));
    else
        perm_scope_q(who, alias, NULL, q);
}

bool vol_covers(store_tx *tx, const nx_principal *who, int64_t c)
{
    if (c <= 0)
        return false;
    switch (who->scope) {
    case SCOPE_ALL:
        return true;
    case SCOPE_STREET:
        return perm_covers(who, tx, c, 0);
    case SCOPE_COMMUNITY:
    case SCOPE_GRID:
    case SCOPE_SELF:
        return c == who->community_id;
    default:
        return false;
    }
}

int vol_community_of(store_tx *tx, const nx_principal *who, json_t *in, int64_t *community, nx_err *e)
{
    int64_t c = 0;
    int rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &c, e);
    if (rc < 0)
        return rc;
    if (who->scope == SCOPE_ALL || who->scope == SCOPE_STREET) {
        if (rc == 1)
            return nx_fail(e, NX_EINVAL, "community_id", "请选择社区");
    } else if (rc == 1) {
        c = who->community_id;
    }
    if (!vol_covers(tx, who, c))
        return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
    *community = c;
    return 0;
}

int vol_create_named(nx_app *app, const nx_principal *who, json_t *in, const char *insert_sql, const store_param *rest,
                     int nrest, const char *field, const char *dup_msg, const char *object, int64_t *id, nx_err *e)
{
    store_param p[8];
    if (nrest < 0 || nrest > 7)
        return nx_fail(e, NX_EINVAL, "", "参数过多");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    int64_t c;
    if ((rc = vol_community_of(tx, who, in, &c, e)))
        goto fail;
    p[0] = P_INT(c);
    for (int i = 0; i < nrest; i++)
        p[i + 1] = rest[i];
    rc = store_one_int(tx, insert_sql, p, nrest + 1, id, e);
    if ((rc = store_conflict_field(rc, field, e, "%s", dup_msg)))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", object, *id, c, NULL, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int vol_me(store_tx *tx, const nx_principal *who, vol_self *me, nx_err *e)
{
    memset(me, 0, sizeof *me);
    if (who->user_id == 0 && who->resident_id == 0)
        return 0;
    store_param p[] = {P_INT(who->user_id), P_INT(who->resident_id ? who->resident_id : -1)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT id, team_id, is_leader, community_id FROM volunteers WHERE status = 'active' AND "
                         "(user_id = $1 OR resident_id = $2) ORDER BY id LIMIT 1",
                         p, 2, &r, e);
    if (rc)
        return rc;
    if (store_row(r)) {
        me->id = store_int(r, 0);
        me->team_id = store_int(r, 1);
        me->leader = store_int(r, 2) != 0;
        me->community_id = store_int(r, 3);
    }
    return store_rows_end(r, e);
}

bool vol_manages_team(const nx_principal *who, const vol_self *me, int64_t team_id)
{
    if (perm_has(who, RIGHT_VOLUNTEER_MANAGE))
        return true;
    return team_id != 0 && me->id != 0 && me->leader && me->team_id == team_id &&
           perm_has(who, RIGHT_VOLUNTEER_DUTY);
}

int vol_phone_in(const nx_app *app, json_t *in, const char *key, const char *context, unsigned char **enc,
                 size_t *len, char tail[5], nx_err *e)
{
    const char *s = NULL;
    *enc = NULL;
    *len = 0;
    tail[0] = '\0';
    int rc = json_get_str(in, key, false, 30, &s, e);
    if (rc)
        return rc < 0 ? rc : 0;
    char norm[PHONE_MAX];
    if (phone_parse_any(s, norm, sizeof norm, e))
        return nx_fail(e, NX_EINVAL, key, "电话号码格式不正确");
    size_t n = strlen(norm);
    memcpy(tail, norm + (n >= 4 ? n - 4 : 0), n >= 4 ? 4 : n);
    tail[n >= 4 ? 4 : n] = '\0';
    if (field_encrypt_ad(app->keys, context, norm, n, enc, len))
        return nx_fail(e, NX_ENOMEM, "", "无法加密电话");
    return 0;
}

void vol_phone_out(const nx_app *app, store_rows *r, int col, const char *context, json_t *o, const char *key)
{
    size_t len = 0;
    const void *enc = store_blob(r, col, &len);
    if (enc == NULL || len == 0) {
        json_object_set_new(o, key, json_null());
        return;
    }
    char *plain = NULL;
    char masked[64] = "****";
    if (app && app->keys && field_decrypt_ad(app->keys, context, enc, len, &plain) == 0)
        mask_phone(plain, masked, sizeof masked);
    else
        nx_log(LOG_WARN, "volunteers.phone_undecryptable context=%s", context);
    field_plain_free(plain);
    json_object_set_new(o, key, json_string(masked));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int vol_time_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, sec = 0;
    size_t n = s ? strlen(s) : 0;
    if (n < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
        digits(s + 14, 2, &mi))
        return -1;
    const char *rest = s + 16;
    if (*rest == ':') {
        if (digits(rest + 1, 2, &sec))
            return -1;
        rest += 3;
        if (*rest == '.') /* milliseconds, as clock_format_local writes them */
            for (rest++; *rest >= '0' && *rest <= '9'; rest++)
                ;
    }
    if (*rest && strcmp(rest, "+08:00") != 0)
        return -1;
    if (!date_valid(y, mo, d) || h > 23 || mi > 59 || sec > 59)
        return -1;
    int64_t days = date_to_days((nx_date){y, mo, d});
    *ms = (days * 86400LL + h * 3600LL + mi * 60LL + sec) * 1000LL - NX_TZ_OFFSET_MS;
    return 0;
}

int vol_get_time(json_t *in, const char *key, bool required, int64_t *ms, nx_err *e)
{
    const char *s = NULL;
    int rc = json_get_str(in, key, required, 40, &s, e);
    if (rc)
        return rc;
    if (vol_time_parse(s, ms))
        return nx_fail(e, NX_EINVAL, key, "时间格式应为 YYYY-MM-DDTHH:MM");
    return 0;
}

int vol_get_hours(json_t *in, const char *key, bool required, bool min_exclusive, double max, int64_t *minutes,
                  nx_err *e)
{
    json_t *v = json_object_get(in, key);
    if (v == NULL || json_is_null(v)) {
        if (required)
            return nx_fail(e, NX_EINVAL, key, "请填写服务时长（小时）");
        return 1;
    }
    if (!json_is_number(v))
        return nx_fail(e, NX_EINVAL, key, "服务时长应为数字（小时）");
    double h = json_number_value(v);
    if (!isfinite(h) || h < 0 || (min_exclusive && h == 0))
        return nx_fail(e, NX_EINVAL, key, "服务时长不能为负数或零");
    if (h > max)
        return nx_fail(e, NX_EINVAL, key, "服务时长不能超过 %g 小时", max);
    *minutes = (int64_t)llround(h * 60.0);
    if (min_exclusive && *minutes == 0)
        return nx_fail(e, NX_EINVAL, key, "服务时长至少 1 分钟");
    return 0;
}

void vol_local_date(int64_t ms, char out[11])
{
    int64_t local = ms + NX_TZ_OFFSET_MS;
    int64_t days = local >= 0 ? local / 86400000LL : -((-local + 86399999LL) / 86400000LL);
    date_format(date_from_days(days), out);
}

json_t *vol_hours_json(int64_t minutes)
{
    return json_real((double)llround((double)minutes * 100.0 / 60.0) / 100.0);
}

int vol_page(nx_app *app, sqlq *q, const sqlq *count, const char *alias, bool oldest_first, const volunteers_filter *f,
             json_t *(*row)(store_rows *r, void *ctx), json_t **out, nx_err *e)
{
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = count, .row_ctx = row, .ctx = app};
    return store_page_by_id(app->db, q, alias, f->after, oldest_first, &s, out, e);
}

int vol_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, bool (*may)(const nx_principal *),
             const char *deny, vol_where_fn *where, const char *cols, const char *count_sql, const char *alias,
             bool oldest_first, json_t *(*row)(store_rows *r, void *ctx), json_t **out, nx_err *e)
{
    if (!may(who))
        return nx_fail(e, NX_EPERM, "", "%s", deny);
    sqlq q, count;
    where(&q, cols, who, f);
    where(&count, count_sql, who, f);
    return vol_page(app, &q, &count, alias, oldest_first, f, row, out, e);
}

void vol_id_q(sqlq *q, const char *head, const char *alias, int64_t id, const nx_principal *who)
{
    sqlq_init(q, head);
    sqlq_sql(q, " AND %sid = $%d", alias, sqlq_param(q, P_INT(id)));
    vol_scope(q, who, alias);
}

int vol_get(nx_app *app, const nx_principal *who, bool (*may)(const nx_principal *), const char *deny, const char *head,
            const char *alias, int64_t id, const store_page_spec *s, const char *missing, json_t **out, nx_err *e)
{
    if (!may(who))
        return nx_fail(e, NX_EPERM, "", "%s", deny);
    sqlq q;
    vol_id_q(&q, head, alias, id, who);
    return store_get_read(app->db, &q, s, missing, out, e);
}
