/* devices_alerts.c — alerts as people handle them: the list (pages, newest first), the Excel
 * export, one alert with its log, acknowledge and resolve.
 *
 * Scope is applied in SQL (perm_scope_q) on the alert's community, grid and resident columns, so an
 * alert outside the caller's scope reads as "not found". Alerts of a device nobody has bound have no
 * community: only platform-wide accounts see them. Acknowledge and resolve change the row only from
 * the state they expect (UPDATE … WHERE state = …), so two people answering at once get one success
 * and one conflict; each writes an alert_log row, an audit row and an outbox event in the
 * transaction of the change. Opening, repeats and escalation are devices.c's. */
#include "modules/devices/devices.h"
#include "modules/devices/devices_internal.h"

#include "base/clock.h"
#include "base/str.h"
#include "report/export.h"
#include "modules/people/people.h"
#include "secure/audit.h"

#include <stdio.h>
#include <string.h>

#define ALERT_COLS                                                                                                 \
    "a.id, a.kind, a.source, a.severity, a.state, a.community_id, a.grid_id, a.resident_id, res.name, a.device_id, " \
    "d.imei, a.opened_at, a.last_at, a.repeats, a.fix, a.lat_e6, a.lon_e6, a.detail, a.acked_by, a.acked_at, "       \
    "a.resolved_by, a.resolved_at, a.note, a.needs_followup, a.escalation_level, a.next_escalation_at, a.ack_ms, "   \
    "a.resolve_ms, ua.display_name, ur.display_name "                                                               \
    "FROM alerts a LEFT JOIN residents res ON res.id = a.resident_id LEFT JOIN devices d ON d.id = a.device_id "     \
    "LEFT JOIN users ua ON ua.id = a.acked_by LEFT JOIN users ur ON ur.id = a.resolved_by"

static const char *state_label(const char *s)
{
    static const char *const states[][2] = {
        {"open", "待处理"}, {"acknowledged", "处理中"}, {"resolved", "已解决"}, {"false_alarm", "误报"}};
    const char *l = STR_LABEL(states, s);
    return l ? l : s;
}

static json_t *alert_row(store_rows *r)
{
    json_t *o =
        store_json_row(r, "id:i kind:t source:t severity:t state:t community_id:i grid_id:i resident_id:i "
                          "resident_name:t device_id:i imei:t opened_at:d last_at:d repeats:i - - - - "
                          "acked_by:i acked_at:d resolved_by:i resolved_at:d note:t - escalation_level:i "
                          "next_escalation_at:d ack_ms:i resolve_ms:i acked_by_name:t resolved_by_name:t");
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "kind_label", json_string(devices_kind_label(store_text(r, 1))));
    json_object_set_new(o, "state_label", json_string(state_label(store_text(r, 4))));
    json_object_set_new(o, "fix", json_boolean(store_int(r, 14) != 0));
    json_t *pos = json_null();
    if (!store_isnull(r, 15) && !store_isnull(r, 16))
        pos = json_pack("{s:f, s:f}", "lat", store_int(r, 15) / 1e6, "lon", store_int(r, 16) / 1e6);
    json_object_set_new(o, "position", pos);
    json_t *detail = json_loads(store_text(r, 17) ? store_text(r, 17) : "{}", 0, NULL);
    json_object_set_new(o, "detail", detail ? detail : json_object());
    json_object_set_new(o, "needs_followup", json_boolean(store_int(r, 23) != 0));
    return o;
}

/* The caller's scope and the filters of f (not its cursor) on alerts a. */
static void alert_where(const nx_principal *who, const devices_alert_filter *f, sqlq *q)
{
    perm_scope_q(who, "a.", "resident_id", q);
    if (f->state && strcmp(f->state, "active") == 0)
        sqlq_sql(q, " AND a.state IN ('open', 'acknowledged')");
    else if (f->state)
        sqlq_add(q, " AND a.state = $%d", P_TEXT(f->state));
    sqlq_eq_text(q, "a.kind", f->kind);
    sqlq_eq_int(q, "a.resident_id", f->resident_id);
    sqlq_eq_int(q, "a.device_id", f->device_id);
    sqlq_eq_int(q, "a.community_id", f->community_id);
    sqlq_range_ms(q, "a.opened_at", f->from_ms, f->to_ms);
}

int devices_alert_list(nx_app *app, const nx_principal *who, const devices_alert_filter *f, json_t **out,
                       nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看报警");
    sqlq q, count;
    sqlq_init(&q, "SELECT " ALERT_COLS " WHERE 1 = 1");
    alert_where(who, f, &q);
    if (f->before_id)
        sqlq_add(&q, " AND a.id < $%d", P_INT(f->before_id));
    sqlq_sql(&q, " ORDER BY a.id DESC");
    /* the same conditions without the cursor: all that match */
    sqlq_init(&count, "SELECT COUNT(*) FROM alerts a WHERE 1 = 1");
    alert_where(who, f, &count);
    store_page_spec s = {.limit = f->limit > 0 ? f->limit : 50, .max = devices_page_max(app), .count = &count, .row = alert_row};
    return store_page_read(app->db, &q, &s, out, e);
}

static void local_time(store_rows *r, int col, char out[32])
{
    out[0] = '\0';
    if (!store_isnull(r, col)) {
        char t[30];
        clock_format_local(store_int(r, col), t);
        /* "YYYY-MM-DDTHH:MM:SS.mmm+08:00" → "YYYY-MM-DD HH:MM:SS" */
        snprintf(out, 32, "%.10s %.8s", t, t + 11);
    }
}

/* One row of the alert export (ALERT_COLS), formatted into b. */
typedef struct alert_buf {
    char id[24], opened[32], acked[32], resolved[32], repeats[24], ack_s[24], res_min[24];
} alert_buf;

static int alert_cells(store_rows *r, void *ctx, const char **cells, nx_err *e)
{
    alert_buf *b = ctx;
    snprintf(b->id, sizeof b->id, "%lld", (long long)store_int(r, 0));
    local_time(r, 11, b->opened);
    local_time(r, 19, b->acked);
    local_time(r, 21, b->resolved);
    snprintf(b->repeats, sizeof b->repeats, "%lld", (long long)store_int(r, 13));
    b->ack_s[0] = b->res_min[0] = '\0';
    if (!store_isnull(r, 26))
        snprintf(b->ack_s, sizeof b->ack_s, "%lld", (long long)(store_int(r, 26) / 1000));
    if (!store_isnull(r, 27))
        snprintf(b->res_min, sizeof b->res_min, "%.1f", store_int(r, 27) / 60000.0);
    const char *sev = store_text(r, 3) ? store_text(r, 3) : "";
    const char *row[] = {b->id,
                         b->opened,
                         devices_kind_label(store_text(r, 1)),
                         strcmp(sev, "critical") == 0 ? "紧急" : strcmp(sev, "high") == 0 ? "重要" : "一般",
                         state_label(store_text(r, 4)),
                         store_text(r, 8) ? store_text(r, 8) : "（未绑定）",
                         store_text(r, 10),
                         store_int(r, 14) ? "有" : "无",
                         b->repeats,
                         store_text(r, 28),
                         b->acked,
                         b->ack_s,
                         store_text(r, 29),
                         b->resolved,
                         b->res_min,
                         store_text(r, 22),
                         store_int(r, 23) ? "是" : "否"};
    memcpy(cells, row, sizeof row);
    return 0;
}

int devices_alert_export(nx_app *app, const nx_principal *who, const devices_alert_filter *f,
                         const char *path, int64_t *rows, nx_err *e)
{
    *rows = 0;
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权导出报警");
    /* Every alert of the filters or none: one row past the cap refuses the export, never a file
     * that silently stops at the cap. */
    int64_t max = app->cfg ? app->cfg->export_max_rows : 200000;
    sqlq q;
    sqlq_init(&q, "SELECT " ALERT_COLS " WHERE 1 = 1");
    alert_where(who, f, &q);
    sqlq_sql(&q, " ORDER BY a.id DESC LIMIT %lld", (long long)max + 1);
    static const char *const titles[] = {"编号",     "发生时间", "报警类型", "级别",     "状态",     "居民",
                                         "手环",     "定位",     "重复次数", "接警人",   "接警时间", "接警用时（秒）",
                                         "处置人",   "处置时间", "处置用时（分钟）", "处置说明", "需上门回访"};
    static const double widths[] = {8, 20, 14, 8, 10, 10, 14, 8, 10, 12, 20, 14, 12, 20, 16, 36, 12};
    enum { NCOL = sizeof titles / sizeof titles[0] };
    alert_buf b;
    export_rows_spec s = {.types = "nsssssssnssnssnss", .ncol = NCOL, .max = max,
                          .too_many = "报警记录超过 %lld 条，请缩小时间范围或筛选条件后再导出",
                          .cells = alert_cells, .ctx = &b};
    xlsx_out *x;
    int rc;
    if ((rc = export_open(path, "报警记录", titles, widths, NCOL, &x, e)) ||
        (rc = export_rows_read(app->db, &q, x, &s, rows, e)))
        return rc;
    /* residents' names left the system: who exported what */
    return export_finish(
        app->db, x, path, who, "alert", 0, who->community_id,
        json_pack("{s:I, s:s?, s:s?}", "count", (json_int_t)*rows, "state", f->state, "kind", f->kind), e);
}

/* Read one alert in scope into *out (may be NULL) and its state. */
static int alert_load(store_tx *tx, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    sqlq q;
    perm_scope_id_q(who, "a.", "resident_id", id, "SELECT " ALERT_COLS " WHERE 1 = 1", &q);
    store_rows *r = NULL;
    int rc = sqlq_first(tx, &q, "报警不存在", &r, e);
    if (rc)
        return rc;
    *out = alert_row(r);
    store_rows_free(r);
    return 0;
}

static json_t *log_row(store_rows *r)
{
    return store_json_row(r, "at:d action:t user_id:i user_name:t level:i note:t");
}

int devices_alert_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    store_tx *tx = NULL;
    int rc = perm_begin(app->db, who, RIGHT_DEVICE_READ, STORE_READ, "无权查看报警", &tx, e);
    if (rc)
        return rc;
    json_t *o = NULL;
    if ((rc = alert_load(tx, who, id, &o, e)))
        goto done;
    sqlq q;
    sqlq_init(&q, "SELECT l.at, l.action, l.user_id, u.display_name, l.level, l.note FROM alert_log l "
                  "LEFT JOIN users u ON u.id = l.user_id WHERE 1 = 1");
    sqlq_add(&q, " AND l.alert_id = $%d", P_INT(id));
    sqlq_sql(&q, " ORDER BY l.id");
    store_page_spec ls = {.row = log_row};
    json_t *log = NULL;
    if ((rc = store_items(tx, &q, &ls, &log, e)) == 0)
        json_object_set_new(o, "log", log);
done:
    store_rollback(tx);
    if (rc)
        json_decref(o);
    else
        *out = o;
    return rc;
}

typedef struct alert_state {
    int64_t community, grid, resident, device, opened_at, acked_at;
    int level;
    char state[16], kind[24], severity[12];
} alert_state;

static int alert_lock(store_tx *tx, const nx_principal *who, int64_t id, alert_state *s, nx_err *e)
{
    sqlq q;
    perm_scope_id_q(who, "a.", "resident_id", id,
                    "SELECT a.community_id, a.grid_id, a.resident_id, a.device_id, a.opened_at, a.acked_at, "
                    "a.escalation_level, a.state, a.kind, a.severity FROM alerts a WHERE 1 = 1",
                    &q);
    store_rows *r = NULL;
    int rc = sqlq_first(tx, &q, "报警不存在", &r, e);
    if (rc)
        return rc;
    s->community = store_int(r, 0);
    s->grid = store_int(r, 1);
    s->resident = store_int(r, 2);
    s->device = store_int(r, 3);
    s->opened_at = store_int(r, 4);
    s->acked_at = store_int(r, 5);
    s->level = (int)store_int(r, 6);
    str_copy(s->state, store_text(r, 7), sizeof s->state);
    str_copy(s->kind, store_text(r, 8), sizeof s->kind);
    str_copy(s->severity, store_text(r, 9), sizeof s->severity);
    store_rows_free(r);
    return 0;
}

static devices_alert_ref ref_of(int64_t id, const alert_state *s)
{
    return (devices_alert_ref){.id = id, .community_id = s->community, .grid_id = s->grid, .resident_id = s->resident,
                           .device_id = s->device, .kind = s->kind, .severity = s->severity, .level = s->level};
}

/* Begin handling the alert id: the right ALERT_HANDLE (NX_EPERM), with need_note a note that is not
 * blank (NX_EINVAL naming "note"), note (NULL: none) at most 500 characters, then a write transaction
 * with the alert locked in who's scope (*s) and in state "open", or with acked_too also
 * "acknowledged"; otherwise NX_ECONFLICT "<done>（<state>）<tail>". On success *tx is open (the caller
 * commits or rolls back); on error nothing is. */
static int alert_begin(nx_app *app, const nx_principal *who, int64_t id, const char *note, bool need_note,
                       bool acked_too, const char *done, const char *tail, store_tx **tx, alert_state *s, nx_err *e)
{
    if (!perm_has(who, RIGHT_ALERT_HANDLE))
        return nx_fail(e, NX_EPERM, "", "无权处理报警");
    if (need_note && (!note || strspn(note, " \t\r\n") == strlen(note)))
        return nx_fail(e, NX_EINVAL, "note", "请填写处理情况");
    int rc;
    if ((rc = devices_check_text(note, 500, "note", e)) || (rc = store_begin(app->db, STORE_WRITE, tx, e)))
        return rc;
    if ((rc = alert_lock(*tx, who, id, s, e)) == 0 && strcmp(s->state, "open") != 0 &&
        !(acked_too && strcmp(s->state, "acknowledged") == 0))
        rc = nx_fail(e, NX_ECONFLICT, "state", "%s（%s）%s", done, state_label(s->state), tail);
    if (rc)
        store_rollback(*tx);
    return rc;
}

int devices_alert_phones(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    store_tx *tx = NULL;
    alert_state s;
    int rc = alert_begin(app, who, id, NULL, false, true, "报警已处理", "，电话号码不再显示", &tx, &s, e);
    if (rc)
        return rc;
    if (s.resident == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "resident_id", "报警的手环没有绑定居民");
        goto fail;
    }
    if ((rc = people_reveal_for_alarm(tx, app, who, s.resident, id, out, e)))
        goto fail;
    if ((rc = store_commit(tx, e))) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
fail:
    store_rollback(tx);
    return rc;
}

/* Run sql, the UPDATE that moves an alert on from the states it names (n parameters p): NX_ECONFLICT
 * naming "state" with raced when it moved no row (someone else moved the alert first). */
static int alert_move(store_tx *tx, const char *sql, const store_param *p, int n, const char *raced, nx_err *e)
{
    int64_t changes = 0;
    int rc = store_exec(tx, sql, p, n, &changes, e);
    if (rc == 0 && changes != 1)
        rc = nx_fail(e, NX_ECONFLICT, "state", "%s", raced);
    return rc;
}

int devices_alert_ack(nx_app *app, const nx_principal *who, int64_t id, const char *note, int64_t now, nx_err *e)
{
    store_tx *tx = NULL;
    alert_state s;
    int rc = alert_begin(app, who, id, note, false, false, "报警已被接警或已处理", "", &tx, &s, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(id), P_INT(who->user_id), P_INT(now), P_INT(now - s.opened_at)};
    if ((rc = alert_move(tx,
                         "UPDATE alerts SET state = 'acknowledged', acked_by = $2, acked_at = $3, ack_ms = $4, "
                         "next_escalation_at = NULL WHERE id = $1 AND state = 'open'",
                         p, 4, "报警已被他人接警", e)))
        goto fail;
    devices_alert_ref ref = ref_of(id, &s);
    if ((rc = devices_alert_log(tx, id, now, "acknowledged", who->user_id, s.level, note, e)) ||
        (rc = audit_write(tx, who, "acknowledge", "alert", id, s.community, NULL, e)) ||
        (rc = devices_alert_emit(tx, DEVICES_EV_ALERT_ACKNOWLEDGED, &ref, "acknowledged", false, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int devices_alert_resolve(nx_app *app, const nx_principal *who, int64_t id, bool false_alarm, const char *note,
                          bool needs_followup, int64_t now, nx_err *e)
{
    store_tx *tx = NULL;
    alert_state s;
    int rc = alert_begin(app, who, id, note, true, true, "报警已处理", "", &tx, &s, e);
    if (rc)
        return rc;
    const char *state = false_alarm ? "false_alarm" : "resolved";
    bool was_open = strcmp(s.state, "open") == 0;
    store_param p[] = {P_INT(id),  P_INT(who->user_id), P_INT(now),         P_INT(now - s.opened_at),
                       P_TEXT(state), P_TEXT(note),     P_INT(needs_followup ? 1 : 0)};
    if ((rc = alert_move(tx,
                         "UPDATE alerts SET state = $5, resolved_by = $2, resolved_at = $3, resolve_ms = $4, note = $6, "
                         "needs_followup = $7, next_escalation_at = NULL, acked_by = COALESCE(acked_by, $2), "
                         "acked_at = COALESCE(acked_at, $3), ack_ms = COALESCE(ack_ms, $4) "
                         "WHERE id = $1 AND state IN ('open', 'acknowledged')",
                         p, 7, "报警已被他人处理", e)))
        goto fail;
    devices_alert_ref ref = ref_of(id, &s);
    if ((was_open && (rc = devices_alert_log(tx, id, now, "acknowledged", who->user_id, s.level, NULL, e))) ||
        (rc = devices_alert_log(tx, id, now, state, who->user_id, s.level, note, e)) ||
        (rc = audit_write_new(tx, who, "resolve", "alert", id, s.community,
                              json_pack("{s:s, s:b}", "state", state, "needs_followup", needs_followup),
                              e)) ||
        (rc = devices_alert_emit(tx, DEVICES_EV_ALERT_RESOLVED, &ref, state, needs_followup, e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
