/* partners.c — partner units (共建单位), their recurring services, the sessions those generate, the
 * slots of each session and residents' bookings of them.
 *
 * A service (义诊 every second Saturday, 爱心理发 monthly …) is created with its rule of recurrence
 * and generates its sessions at once (at most 52), each cut into slots of slot_minutes. Residents
 * book a slot for themselves; staff and volunteers book for an elder (a relative books through the
 * family account bound to the elder's record).
 *
 * One slot, one booking: partner_bookings.active_slot_id is the slot while the booking holds it and
 * NULL once cancelled, under a UNIQUE constraint. Two concurrent requests for a slot both insert;
 * the store lets exactly one commit and answers the other NX_ECONFLICT — no read-then-write window.
 * A resident holds at most one booking per session (checked in the transaction). Bookings emit
 * events for reminders; attendance and no-shows are recorded by staff and volunteers. */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "text/mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const partner_kinds[][2] = {{"hospital", "医院"}, {"salon", "理发店"}, {"school", "学校"},
                                                {"company", "企业"}, {"other", "其他"},   {NULL, NULL}};
static const char *const service_kinds[][2] = {
    {"clinic", "义诊"}, {"haircut", "爱心理发"}, {"other", "其他服务"}, {NULL, NULL}};

/* o (a row, or NULL when it failed) with "kind_label": its kind's label, null for a kind not in the table. */
static json_t *with_kind_label(json_t *o, const char *label)
{
    if (o)
        json_object_set_new(o, "kind_label", label ? json_string(label) : json_null());
    return o;
}

/* ---- partners ---- */

#define PARTNER_COLS                                                                                                \
    "SELECT p.id, p.community_id, p.name, p.kind, p.contact_name, p.phone_enc, p.address, p.offer, (SELECT "       \
    "COUNT(*) FROM partner_services s WHERE s.partner_id = p.id), (SELECT COUNT(*) FROM partner_sessions ss WHERE " \
    "ss.partner_id = p.id), p.created_at FROM partners p WHERE 1 = 1"

static json_t *partner_row(store_rows *r, void *ctx)
{
    json_t *o = store_json_row(r, "id:i community_id:i name:t kind:t contact_name:t - address:t offer:t "
                                  "service_count:i session_count:i created_at:d");
    if (with_kind_label(o, STR_LABEL(partner_kinds, store_text(r, 3))))
        vol_phone_out(ctx, r, 5, CTX_PARTNER_PHONE, o, "phone");
    return o;
}

static void partner_where(sqlq *q, const char *head, const nx_principal *who, const volunteers_filter *f)
{
    sqlq_init(q, head);
    vol_scope(q, who, "p.");
    sqlq_eq_int(q, "p.community_id", f->community_id);
    if (f->kind && *f->kind)
        sqlq_add(q, " AND p.kind = $%d", P_TEXT(f->kind));
    if (f->q && *f->q)
        sqlq_like(q, " AND p.name LIKE $%d ESCAPE '!'", f->q, true);
}

int volunteers_partner_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                            nx_err *e)
{
    return vol_list(app, who, f, vol_may_view, "无权查看共建单位", partner_where, PARTNER_COLS,
                    "SELECT COUNT(*) FROM partners p WHERE 1 = 1", "p.", true, partner_row, out, e);
}

int volunteers_partner_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return vol_get(app, who, vol_may_view, "无权查看共建单位", PARTNER_COLS, "p.", id,
                   &(store_page_spec){.row_ctx = partner_row, .ctx = app}, "共建单位不存在", out, e);
}

int volunteers_partner_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"name", "kind", "contact_name", "phone", "address", "offer", "community_id",
                                          NULL};
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权管理共建单位");
    const char *name = NULL, *kind = NULL, *contact = NULL, *address = NULL, *offer = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "name", true, 100, &name, e)) ||
        (rc = json_read_str(in, "kind", true, 20, &kind, e)) ||
        (rc = json_read_str(in, "contact_name", false, 50, &contact, e)) ||
        (rc = json_read_str(in, "address", false, 200, &address, e)) ||
        (rc = json_read_str(in, "offer", false, 500, &offer, e)))
        return rc;
    if (!STR_LABEL(partner_kinds, kind))
        return nx_fail(e, NX_EINVAL, "kind", "单位类型只能是 hospital、salon、school、company 或 other");
    unsigned char *enc = NULL;
    size_t elen = 0;
    char tail[5];
    if ((rc = vol_phone_in(app, in, "phone", CTX_PARTNER_PHONE, &enc, &elen, tail, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        free(enc);
        return rc;
    }
    int64_t c;
    if ((rc = vol_community_of(tx, who, in, &c, e)))
        goto fail;
    store_param p[] = {P_INT(c), P_TEXT(name), P_TEXT(kind), P_TEXT(contact), P_BLOB(enc, elen),
                       P_TEXT(tail[0] ? tail : NULL), P_TEXT(address), P_TEXT(offer), P_ID(who->user_id),
                       P_INT(clock_now_ms())};
    rc = app_insert(tx, "partners",
                    "community_id, name, kind, contact_name, phone_enc, phone_tail, address, offer, "
                    "created_by, created_at",
                    p, 10, id, e);
    if ((rc = store_conflict_field(rc, "name", e, "本社区已有同名共建单位")))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "partner", *id, c, NULL, e)))
        goto fail;
    free(enc);
    return store_commit(tx, e);
fail:
    free(enc);
    store_rollback(tx);
    return rc;
}

/* ---- services ---- */

#define SERVICE_COLS                                                                                                \
    "SELECT s.id, s.community_id, s.partner_id, p.name, s.title, s.kind, s.place, s.recurrence, s.start_time, "    \
    "s.end_time, s.slot_minutes, (SELECT COUNT(*) FROM partner_sessions ss WHERE ss.service_id = s.id), "         \
    "s.created_at FROM partner_services s JOIN partners p ON p.id = s.partner_id WHERE 1 = 1"

static json_t *service_row(store_rows *r, void *ctx)
{
    (void)ctx;
    json_t *o = store_json_row(r, "id:i community_id:i partner_id:i partner_name:t title:t kind:t place:t recurrence:t "
                                  "start_time:t end_time:t slot_minutes:i session_count:i created_at:d");
    return with_kind_label(o, STR_LABEL(service_kinds, store_text(r, 5)));
}

static void service_where(sqlq *q, const char *head, const nx_principal *who, const volunteers_filter *f)
{
    sqlq_init(q, head);
    vol_scope(q, who, "s.");
    sqlq_eq_int(q, "s.community_id", f->community_id);
    sqlq_eq_int(q, "s.partner_id", f->partner_id);
    if (f->kind && *f->kind)
        sqlq_add(q, " AND s.kind = $%d", P_TEXT(f->kind));
}

int volunteers_service_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                            nx_err *e)
{
    return vol_list(app, who, f, vol_may_view, "无权查看共建服务", service_where, SERVICE_COLS,
                    "SELECT COUNT(*) FROM partner_services s WHERE 1 = 1", "s.", true, service_row, out, e);
}

int volunteers_service_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return vol_get(app, who, vol_may_view, "无权查看共建服务", SERVICE_COLS, "s.", id,
                   &(store_page_spec){.row_ctx = service_row}, "共建服务不存在", out, e);
}

/* "HH:MM" into minutes of the day; -1 when malformed. */
static int hhmm(const char *s)
{
    if (s == NULL || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' ||
        s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 ? h * 60 + m : -1;
}

/* ISO weekday (1 Monday … 7 Sunday) of a day number (1970-01-01, day 0, was a Thursday). */
static int weekday_of(int64_t days)
{
    return (int)(((days % 7) + 7 + 3) % 7) + 1;
}

/* The nth (1..5) weekday wd of month (y, m) as a day number; -1 when the month has no such day. */
static int64_t nth_weekday(int y, int m, int nth, int wd)
{
    int64_t first = date_to_days((nx_date){y, m, 1});
    int64_t d = first + ((wd - weekday_of(first) + 7) % 7) + 7LL * (nth - 1);
    nx_date x = date_from_days(d);
    return x.m == m ? d : -1;
}

int volunteers_service_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"partner_id", "title", "kind",    "place",   "first_date", "start_time",
                                          "end_time",   "slot_minutes", "repeat", "nth", "weekday",    "count",
                                          NULL};
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE))
        return nx_fail(e, NX_EPERM, "", "无权管理共建服务");
    const char *title = NULL, *kind = NULL, *place = NULL, *first = NULL, *st = NULL, *et = NULL, *repeat = "once";
    int64_t partner = 0, slot = 0, nth = 0, wd = 0, count = 1;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "partner_id", true, 1, INT64_MAX, &partner, e)) < 0 ||
        (rc = json_read_str(in, "title", true, 50, &title, e)) || (rc = json_read_str(in, "kind", true, 20, &kind, e)) ||
        (rc = json_read_str(in, "place", true, 100, &place, e)) ||
        (rc = json_read_date(in, "first_date", true, &first, e)) ||
        (rc = json_read_str(in, "start_time", true, 5, &st, e)) ||
        (rc = json_read_str(in, "end_time", true, 5, &et, e)) ||
        (rc = json_get_int(in, "slot_minutes", true, 5, 240, &slot, e)) < 0 ||
        (rc = json_read_str(in, "repeat", false, 20, &repeat, e)) ||
        (rc = json_get_int(in, "nth", false, 1, 5, &nth, e)) < 0 ||
        (rc = json_get_int(in, "weekday", false, 1, 7, &wd, e)) < 0 ||
        (rc = json_get_int(in, "count", false, 1, 52, &count, e)) < 0)
        return rc;
    if (!STR_LABEL(service_kinds, kind))
        return nx_fail(e, NX_EINVAL, "kind", "服务类型只能是 clinic（义诊）、haircut（爱心理发）或 other");
    int smin = hhmm(st), emin = hhmm(et);
    if (smin < 0)
        return nx_fail(e, NX_EINVAL, "start_time", "时间格式应为 HH:MM");
    if (emin < 0)
        return nx_fail(e, NX_EINVAL, "end_time", "时间格式应为 HH:MM");
    if (emin <= smin)
        return nx_fail(e, NX_EINVAL, "end_time", "结束时间应晚于开始时间");
    int nslots = (emin - smin) / (int)slot;
    if (nslots < 1)
        return nx_fail(e, NX_EINVAL, "slot_minutes", "每个时段不能长于服务时间");
    if (nslots > 100)
        return nx_fail(e, NX_EINVAL, "slot_minutes", "一场服务至多 100 个时段");
    bool once = strcmp(repeat, "once") == 0, weekly = strcmp(repeat, "weekly") == 0,
         monthly = strcmp(repeat, "monthly") == 0, nthwd = strcmp(repeat, "nth_weekday") == 0;
    if (!once && !weekly && !monthly && !nthwd)
        return nx_fail(e, NX_EINVAL, "repeat", "重复规则只能是 once、weekly、monthly 或 nth_weekday");
    if (nthwd && (nth == 0 || wd == 0))
        return nx_fail(e, NX_EINVAL, nth ? "weekday" : "nth", "每月第几个星期几：请填写 nth（1-5）和 weekday（1-7）");
    if (once)
        count = 1;
    nx_date d0;
    date_parse(first, &d0);
    int64_t day0 = date_to_days(d0);
    /* the days of the sessions */
    int64_t days[52];
    int n = 0;
    if (nthwd) {
        int y = d0.y, m = d0.m;
        for (int guard = 0; n < count && guard < 80; guard++) {
            int64_t d = nth_weekday(y, m, (int)nth, (int)wd);
            if (d >= day0)
                days[n++] = d;
            if (++m > 12)
                m = 1, y++;
        }
    } else {
        for (int k = 0; k < count; k++) {
            if (monthly) {
                int m0 = d0.m - 1 + k;
                nx_date x = {d0.y + m0 / 12, m0 % 12 + 1, d0.d};
                while (x.d > 28 && !date_valid(x.y, x.m, x.d))
                    x.d--;
                days[n++] = date_to_days(x);
            } else {
                days[n++] = day0 + (weekly ? 7LL * k : 0);
            }
        }
    }
    char rule[64];
    if (nthwd)
        snprintf(rule, sizeof rule, "nth_weekday:%lld:%lld", (long long)nth, (long long)wd);
    else
        str_copy(rule, repeat, sizeof rule);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t c = 0, now = clock_now_ms();
    store_param pp[] = {P_INT(partner)};
    store_rows *r;
    if ((rc = store_query(tx, "SELECT community_id FROM partners WHERE id = $1", pp, 1, &r, e)))
        goto fail;
    bool found = store_row(r);
    if (found)
        c = store_int(r, 0);
    if ((rc = store_rows_end(r, e)))
        goto fail;
    if (!found || !vol_covers(tx, who, c)) {
        rc = nx_fail(e, NX_EINVAL, "partner_id", "共建单位不存在");
        goto fail;
    }
    store_param p[] = {P_INT(c),  P_INT(partner), P_TEXT(title), P_TEXT(kind),     P_TEXT(place), P_TEXT(rule),
                       P_TEXT(st), P_TEXT(et),    P_INT(slot),   P_ID(who->user_id), P_INT(now)};
    if ((rc = app_insert(tx, "partner_services",
                         "community_id, partner_id, title, kind, place, recurrence, start_time, end_time, "
                         "slot_minutes, created_by, created_at",
                         p, 11, id, e)))
        goto fail;
    for (int k = 0; k < n; k++) {
        int64_t base = days[k] * 86400000LL - NX_TZ_OFFSET_MS;
        int64_t s_at = base + smin * 60000LL, e_at = base + emin * 60000LL, sid;
        store_param sp[] = {P_INT(c), P_INT(*id), P_INT(partner), P_INT(s_at), P_INT(e_at), P_INT(now)};
        if ((rc = app_insert(tx, "partner_sessions",
                             "community_id, service_id, partner_id, starts_at, ends_at, created_at",
                             sp, 6, &sid, e)))
            goto fail;
        for (int j = 0; j < nslots; j++) {
            int64_t a = s_at + (int64_t)j * slot * 60000LL;
            store_param lp[] = {P_INT(sid), P_INT(a), P_INT(a + slot * 60000LL)};
            if ((rc = app_insert(tx, "partner_slots",
                                 "session_id, starts_at, ends_at",
                                 lp, 3, NULL, e)))
                goto fail;
        }
    }
    if ((rc = audit_write_new(tx, who, "create", "partner_service", *id, c,
                              json_pack("{s:i, s:i}", "sessions", n, "slots_per_session", nslots), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* ---- sessions ---- */

#define SESSION_COLS                                                                                                \
    "SELECT ss.id, ss.community_id, ss.service_id, ss.partner_id, p.name, s.title, s.kind, s.place, ss.starts_at, " \
    "ss.ends_at, (SELECT COUNT(*) FROM partner_slots sl WHERE sl.session_id = ss.id), (SELECT COUNT(*) FROM "      \
    "partner_bookings b WHERE b.session_id = ss.id AND b.active_slot_id IS NOT NULL) FROM partner_sessions ss "    \
    "JOIN partner_services s ON s.id = ss.service_id JOIN partners p ON p.id = ss.partner_id WHERE 1 = 1"

static json_t *session_row(store_rows *r, void *ctx)
{
    (void)ctx;
    json_t *o = store_json_row(r, "id:i community_id:i service_id:i partner_id:i partner_name:t title:t kind:t place:t "
                                  "starts_at:d ends_at:d slot_count:i booked:i");
    return with_kind_label(o, STR_LABEL(service_kinds, store_text(r, 6)));
}

static void session_where(sqlq *q, const char *head, const nx_principal *who, const volunteers_filter *f)
{
    sqlq_init(q, head);
    vol_scope(q, who, "ss.");
    sqlq_eq_int(q, "ss.community_id", f->community_id);
    sqlq_eq_int(q, "ss.service_id", f->service_id);
    sqlq_eq_int(q, "ss.partner_id", f->partner_id);
    if (f->kind && *f->kind)
        sqlq_add(q, " AND s.kind = $%d", P_TEXT(f->kind));
    sqlq_range_ms(q, "ss.ends_at", f->from_ms, 0);
}

int volunteers_session_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                            nx_err *e)
{
    return vol_list(app, who, f, vol_may_view, "无权查看服务场次", session_where, SESSION_COLS,
                    "SELECT COUNT(*) FROM partner_sessions ss JOIN partner_services s ON s.id = "
                    "ss.service_id WHERE 1 = 1",
                    "ss.", true, session_row, out, e);
}

/* Who reads a session's slots: their own booking shown, the others' only to staff. */
typedef struct slot_reader {
    const nx_principal *who;
    bool staff;
} slot_reader;

static json_t *slot_row(store_rows *r, void *ctx)
{
    const slot_reader *sr = ctx;
    json_t *s = store_json_row(r, "id:i starts_at:d ends_at:d");
    if (s == NULL)
        return NULL;
    bool booked = !store_isnull(r, 3);
    bool mine = booked && sr->who->resident_id && store_int(r, 4) == sr->who->resident_id;
    json_object_set_new(s, "booked", json_boolean(booked));
    json_object_set_new(s, "mine", json_boolean(mine));
    json_object_set_new(s, "booking_id", (mine || (booked && sr->staff)) ? json_integer(store_int(r, 3)) : json_null());
    if (booked && sr->staff) {
        char masked[200];
        mask_name(store_text(r, 5) ? store_text(r, 5) : "", masked, sizeof masked);
        json_object_set_new(s, "resident_name", json_string(masked));
        json_object_set_new(s, "status", store_json_text(r, 6));
    }
    return s;
}

int volunteers_session_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!vol_may_view(who))
        return nx_fail(e, NX_EPERM, "", "无权查看服务场次");
    sqlq q;
    vol_id_q(&q, SESSION_COLS, "ss.", id, who);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    json_t *o = NULL;
    slot_reader sr = {.who = who, .staff = vol_staff_read(who)};
    if ((rc = store_get(tx, &q, &(store_page_spec){.row_ctx = session_row}, "服务场次不存在", &o, e)) == 0)
        rc = store_items_of(tx,
                            "SELECT sl.id, sl.starts_at, sl.ends_at, b.id, b.resident_id, r.name, b.status FROM "
                            "partner_slots sl LEFT JOIN partner_bookings b ON b.active_slot_id = sl.id LEFT JOIN "
                            "residents r ON r.id = b.resident_id WHERE sl.session_id = $1 ORDER BY sl.starts_at, sl.id",
                            id, &(store_page_spec){.row_ctx = slot_row, .ctx = &sr}, o, "slots", e);
    return store_read_finish(tx, rc, o, out);
}

/* ---- bookings ---- */

#define BOOKING_COLS                                                                                                \
    "SELECT b.id, b.community_id, b.session_id, b.slot_id, b.resident_id, r.name, b.status, sl.starts_at, "        \
    "sl.ends_at, s.title, s.kind, s.place, p.name, b.created_at FROM partner_bookings b JOIN partner_slots sl ON "  \
    "sl.id = b.slot_id JOIN partner_sessions ss ON ss.id = b.session_id JOIN partner_services s ON s.id = "        \
    "ss.service_id JOIN partners p ON p.id = ss.partner_id JOIN residents r ON r.id = b.resident_id WHERE 1 = 1"

static json_t *booking_row(store_rows *r, void *ctx)
{
    (void)ctx;
    json_t *o = store_json_row(r, "id:i community_id:i session_id:i slot_id:i resident_id:i - status:t starts_at:d "
                                  "ends_at:d title:t kind:t place:t partner_name:t created_at:d");
    if (o) {
        char masked[200];
        mask_name(store_text(r, 5) ? store_text(r, 5) : "", masked, sizeof masked);
        json_object_set_new(o, "resident_name", json_string(masked));
    }
    return o;
}

static void booking_where(sqlq *q, const char *head, const nx_principal *who, const volunteers_filter *f)
{
    sqlq_init(q, head);
    vol_scope(q, who, "b.");
    bool staff = perm_has(who, RIGHT_VOLUNTEER_MANAGE) || perm_has(who, RIGHT_VOLUNTEER_DUTY);
    if (!staff || f->mine)
        sqlq_add(q, " AND b.resident_id = $%d", P_INT(who->resident_id ? who->resident_id : -1));
    sqlq_eq_int(q, "b.session_id", f->session_id);
    sqlq_eq_text(q, "b.status", f->status);
}

int volunteers_booking_list(nx_app *app, const nx_principal *who, const volunteers_filter *f, json_t **out,
                            nx_err *e)
{
    return vol_list(app, who, f, vol_may_read, "无权查看预约", booking_where, BOOKING_COLS,
                    "SELECT COUNT(*) FROM partner_bookings b WHERE 1 = 1", "b.", false, booking_row, out, e);
}

int volunteers_booking_create(nx_app *app, const nx_principal *who, int64_t session_id, json_t *in, json_t **out,
                              nx_err *e)
{
    static const char *const allowed[] = {"slot_id", "resident_id", NULL};
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权预约");
    int64_t slot = 0, resident = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "slot_id", true, 1, INT64_MAX, &slot, e)) < 0 ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0)
        return rc;
    bool staff = perm_has(who, RIGHT_VOLUNTEER_MANAGE) || perm_has(who, RIGHT_VOLUNTEER_DUTY);
    if (!staff) {
        if (resident && resident != who->resident_id)
            return nx_fail(e, NX_EPERM, "resident_id", "只能为本人预约");
        resident = who->resident_id;
        if (resident == 0)
            return nx_fail(e, NX_EPERM, "", "账号未绑定居民档案");
    } else if (resident == 0) {
        if (who->resident_id == 0)
            return nx_fail(e, NX_EINVAL, "resident_id", "请选择为哪位居民预约");
        resident = who->resident_id;
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    sqlq q;
    vol_id_q(&q, "SELECT ss.community_id, ss.starts_at, ss.ends_at FROM partner_sessions ss WHERE 1 = 1",
             "ss.", session_id, who);
    store_rows *r;
    int64_t c = 0, starts = 0, ends = 0, slot_start = 0, id = 0;
    if ((rc = sqlq_first(tx, &q, "服务场次不存在", &r, e)) == 0) {
        c = store_int(r, 0);
        starts = store_int(r, 1);
        ends = store_int(r, 2);
    }
    store_rows_free(r);
    if (rc)
        goto fail;
    (void)starts;
    int64_t now = clock_now_ms();
    if (now > ends) {
        rc = nx_fail(e, NX_ECONFLICT, "", "该场次已结束");
        goto fail;
    }
    store_param sp[] = {P_INT(slot), P_INT(session_id)};
    if ((rc = store_query(tx, "SELECT starts_at FROM partner_slots WHERE id = $1 AND session_id = $2", sp, 2, &r, e)))
        goto fail;
    bool found = store_row(r);
    if (found)
        slot_start = store_int(r, 0);
    if ((rc = store_rows_end(r, e)))
        goto fail;
    if (!found) {
        rc = nx_fail(e, NX_EINVAL, "slot_id", "该场次没有这个时段");
        goto fail;
    }
    if (slot_start < now) {
        rc = nx_fail(e, NX_ECONFLICT, "slot_id", "该时段已过");
        goto fail;
    }
    store_param rp[] = {P_INT(resident), P_INT(c)};
    int64_t n = 0;
    if ((rc = store_exists_or_fail(
             tx, "SELECT COUNT(*) FROM residents WHERE id = $1 AND community_id = $2 AND status = 'active'",
             rp, 2, "resident_id", e, "居民不存在")))
        goto fail;
    store_param dp[] = {P_INT(session_id), P_INT(resident)};
    if ((rc = store_one_int(tx,
                            "SELECT COUNT(*) FROM partner_bookings WHERE session_id = $1 AND resident_id = $2 AND "
                            "active_slot_id IS NOT NULL",
                            dp, 2, &n, e)))
        goto fail;
    if (n) {
        rc = nx_fail(e, NX_ECONFLICT, "resident_id", "已预约本场次的其他时段");
        goto fail;
    }
    store_param ip[] = {P_INT(c), P_INT(session_id), P_INT(slot), P_INT(slot), P_INT(resident), P_ID(who->user_id),
                        P_INT(now)};
    rc = store_one_int(
        tx,
        "INSERT INTO partner_bookings (community_id, session_id, slot_id, active_slot_id, resident_id, "
        "status, booked_by, created_at) VALUES ($1, $2, $3, $4, $5, 'booked', $6, $7) RETURNING id",
        ip, 7, &id, e);
    if ((rc = store_conflict_field(rc, "slot_id", e, "该时段已被预约，请选择其他时段")))
        goto fail;
    char at[30];
    clock_format_local(slot_start, at);
    if ((rc = outbox_emit_new(tx, VOLUNTEERS_EV_BOOKING_CREATED, c, "partner_booking", id,
                              json_pack("{s:I, s:I, s:I, s:s}", "booking_id", (json_int_t)id, "session_id",
                                        (json_int_t)session_id, "resident_id", (json_int_t)resident, "starts_at", at),
                              e)) ||
        (rc = audit_write_new(tx, who, "create", "partner_booking", id, c,
                              json_pack("{s:b}", "proxy", resident != who->resident_id), e)))
        goto fail;
    if ((rc = store_commit(tx, e)))
        return rc;
    *out = json_pack("{s:I, s:I, s:I, s:I, s:s, s:s}", "id", (json_int_t)id, "session_id", (json_int_t)session_id,
                     "slot_id", (json_int_t)slot, "resident_id", (json_int_t)resident, "status", "booked", "starts_at",
                     at);
    return 0;
fail:
    store_rollback(tx);
    return rc;
}

int volunteers_booking_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"status", NULL};
    if (!vol_may_read(who))
        return nx_fail(e, NX_EPERM, "", "无权修改预约");
    const char *status = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "status", true, 20, &status, e)))
        return rc;
    bool cancel = strcmp(status, "cancelled") == 0;
    if (!cancel && strcmp(status, "attended") != 0 && strcmp(status, "no_show") != 0)
        return nx_fail(e, NX_EINVAL, "status", "状态只能是 cancelled、attended 或 no_show");
    bool staff = perm_has(who, RIGHT_VOLUNTEER_MANAGE) || perm_has(who, RIGHT_VOLUNTEER_DUTY);
    if (!cancel && !staff)
        return nx_fail(e, NX_EPERM, "status", "只有工作人员或志愿者可以登记到场情况");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    volunteers_filter none = {0};
    sqlq q;
    booking_where(&q, "SELECT b.community_id, b.status, b.resident_id, b.session_id FROM partner_bookings b WHERE 1 = 1",
                  who, &none);
    sqlq_add(&q, " AND b.id = $%d", P_INT(id));
    store_rows *r;
    int64_t c = 0, resident = 0, session = 0;
    char cur[16] = "";
    if ((rc = sqlq_first(tx, &q, "预约不存在", &r, e)) == 0) {
        c = store_int(r, 0);
        str_copy(cur, store_text(r, 1), sizeof cur);
        resident = store_int(r, 2);
        session = store_int(r, 3);
    }
    store_rows_free(r);
    if (rc)
        goto fail;
    if (strcmp(cur, "booked") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "该预约已不能更改");
        goto fail;
    }
    store_param u[] = {P_TEXT(status), P_INT(id)};
    if ((rc = store_exec(tx,
                         cancel ? "UPDATE partner_bookings SET status = $1, active_slot_id = NULL WHERE id = $2"
                                : "UPDATE partner_bookings SET status = $1 WHERE id = $2",
                         u, 2, NULL, e)))
        goto fail;
    if (cancel && (rc = outbox_emit_new(tx, VOLUNTEERS_EV_BOOKING_CANCELLED, c, "partner_booking", id,
                                        json_pack("{s:I, s:I, s:I}", "booking_id", (json_int_t)id, "session_id",
                                                  (json_int_t)session, "resident_id", (json_int_t)resident),
                                        e)))
        goto fail;
    if ((rc = audit_write_new(tx, who, "update", "partner_booking", id, c, json_pack("{s:s}", "status", status), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}
