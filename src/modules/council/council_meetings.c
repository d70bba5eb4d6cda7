/* council_meetings.c — meetings of an estate's council and the decisions they make, with the public
 * follow-up of each decision.
 *
 * A meeting has a place (required: the corridor, the courtyard, the 党群服务站), a time, an agenda
 * and the topics it will discuss (they become scheduled). Its quorum is a number of council members
 * present; attendance is taken by staff or by the resident scanning the meeting's QR code (a random
 * code printed on the notice and shown to staff only), and a second check-in changes nothing. The
 * minutes publish the meeting to the estate's resident pages. A decision is made at a meeting whose
 * quorum is met, for a topic on its agenda, once per topic (a unique index).
 *
 * The follow-up (公开与落实): milestones with responsible people and dates, photos kept by the
 * kit's upload store (cleaned of EXIF and sealed), completion, residents' ratings (one each), and a
 * problem (解难题) opened through the visits module's public header when the decision needs work.
 *
 * Each write is one transaction with its event. Blocking; thread-safe. */
#include "modules/council/council_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/visits/visits.h"
#include "report/qr.h"
#include "store/upload.h"

/* ---- meetings ---- */

#define MEETING_SELECT                                                                                          \
    "SELECT m.id, m.community_id, m.estate_id, s.name, m.title, m.place, m.starts_at, m.agenda, m.quorum, "    \
    "m.status, m.minutes, m.created_at, "                                                                      \
    "(SELECT COUNT(*) FROM council_attendance a WHERE a.meeting_id = m.id), "                                  \
    "(SELECT COUNT(*) FROM council_attendance a JOIN council_members cm ON cm.resident_id = a.resident_id AND " \
    "cm.estate_id = m.estate_id AND cm.active = 1 WHERE a.meeting_id = m.id), m.checkin_code "                 \
    "FROM council_meetings m JOIN estates s ON s.id = m.estate_id WHERE 1 = 1"

static json_t *meeting_row_ctx(store_rows *r, void *ctx)
{
    const nx_principal *who = ctx;
    json_t *o = store_json_row(r, "id:i community_id:i estate_id:i estate_name:t title:t place:t starts_at:t "
                                  "agenda:t quorum:i status:t minutes:t created_at:d present:i members_present:i");
    if (!o)
        return NULL;
    const char *st = store_text(r, 9);
    json_object_set_new(o, "status_label", json_string(st && strcmp(st, "held") == 0 ? "已召开" : "待召开"));
    json_object_set_new(o, "quorum_met", json_boolean(store_int(r, 13) >= store_int(r, 8)));
    if (cx_staff(who))
        json_object_set_new(o, "checkin_code", store_json_text(r, 14));
    return o;
}

int council_meeting_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e)
{
    store_page_spec s = {.row_ctx = meeting_row_ctx, .ctx = (void *)who};
    return cx_page(app, who, MEETING_SELECT, "m.", f, false, &s, out, e);
}

static int meeting_read(store_tx *tx, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    store_page_spec s = {.row_ctx = meeting_row_ctx, .ctx = (void *)who};
    return cx_get(tx, who, MEETING_SELECT, "m.", id, &s, "会议不存在", out, e);
}

/* The meeting with its topics and (for staff) who attended (a store_build_fn). */
static int meeting_build(store_tx *tx, const void *ctx, int64_t id, json_t **out, nx_err *e)
{
    const nx_principal *who = ctx;
    int rc = meeting_read(tx, who, id, out, e);
    json_t *o = *out;
    sqlq q;
    if (rc)
        return rc;
    sqlq_init(&q, "SELECT t.id, t.title, t.status, d.id, d.text FROM council_meeting_topics mt JOIN council_topics t ON "
                  "t.id = mt.topic_id LEFT JOIN council_decisions d ON d.topic_id = t.id AND d.meeting_id = "
                  "mt.meeting_id WHERE 1 = 1");
    sqlq_add(&q, " AND mt.meeting_id = $%d ORDER BY t.id", P_INT(id));
    if ((rc = cx_rows(tx, &q, "id:i title:t status:t decision_id:i decision:t", o, "topics", e)))
        return rc;
    if (cx_staff(who)) {
        sqlq_init(&q, "SELECT a.resident_id, r.name, a.via, a.at, CASE WHEN cm.id IS NULL THEN 0 ELSE 1 END FROM "
                      "council_attendance a JOIN residents r ON r.id = a.resident_id JOIN council_meetings m ON m.id = "
                      "a.meeting_id LEFT JOIN council_members cm ON cm.resident_id = a.resident_id AND cm.estate_id = "
                      "m.estate_id AND cm.active = 1 WHERE 1 = 1");
        sqlq_add(&q, " AND a.meeting_id = $%d ORDER BY a.at", P_INT(id));
        rc = cx_rows(tx, &q, "resident_id:i name:t via:t at:d member:b", o, "attendees", e);
    }
    return rc;
}

int council_meeting_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return cx_build(app, who, id, meeting_build, out, e);
}

/* "YYYY-MM-DDTHH:MM" with a valid date and time. */
static bool valid_starts_at(const char *s)
{
    if (strlen(s) != 16 || s[10] != 'T' || s[13] != ':')
        return false;
    char day[11];
    memcpy(day, s, 10);
    day[10] = '\0';
    nx_date d;
    if (date_parse(day, &d) != 0)
        return false;
    for (int i = 11; i < 16; i++)
        if (i != 13 && (s[i] < '0' || s[i] > '9'))
            return false;
    int h = (s[11] - '0') * 10 + (s[12] - '0'), m = (s[14] - '0') * 10 + (s[15] - '0');
    return h < 24 && m < 60;
}

int council_meeting_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"estate_id", "title", "place", "starts_at", "agenda", "quorum", "topic_ids", NULL};
    int64_t estate = 0, quorum = 0;
    const char *title = NULL, *place = NULL, *starts = NULL, *agenda = NULL;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "estate_id", true, 1, INT64_MAX, &estate, e)) < 0 ||
        (rc = json_read_str(in, "title", true, 60, &title, e)) ||
        (rc = json_read_str(in, "place", true, 60, &place, e)) ||
        (rc = json_read_str(in, "starts_at", true, 16, &starts, e)) ||
        (rc = json_read_str(in, "agenda", false, 2000, &agenda, e)) ||
        (rc = json_get_int(in, "quorum", false, 1, 1000, &quorum, e)) < 0)
        return rc;
    if (!valid_starts_at(starts))
        return nx_fail(e, NX_EINVAL, "starts_at", "开会时间格式须为 YYYY-MM-DDTHH:MM");
    json_t *tids = json_object_get(in, "topic_ids");
    if (tids && !json_is_null(tids) && (!json_is_array(tids) || json_array_size(tids) > 50))
        return nx_fail(e, NX_EINVAL, "topic_ids", "议题须为编号列表（至多 50 个）");
    size_t i;
    json_t *v;
    json_array_foreach(tids, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return nx_fail(e, NX_EINVAL, "topic_ids", "议题编号无效");
    }
    unsigned char rnd[12];
    char code[25];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(code, sizeof code, rnd, sizeof rnd);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community, grid;
    if ((rc = cx_estate_place(tx, who, estate, "estate_id", &community, &grid, e)))
        goto done;
    if (!quorum) {
        store_param pm[] = {P_INT(estate)};
        int64_t members = 0;
        if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM council_members WHERE estate_id = $1 AND active = 1", pm, 1,
                                &members, e)))
            goto done;
        quorum = members / 2 + 1;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_ID(grid),   P_INT(estate),  P_TEXT(title),      P_TEXT(place),
                       P_TEXT(starts),   P_TEXT(agenda), P_INT(quorum), P_TEXT(code),      P_ID(who->user_id),
                       P_INT(now)};
    if ((rc = store_one_int(tx,
                            "INSERT INTO council_meetings (community_id, grid_id, estate_id, title, place, starts_at, "
                            "agenda, quorum, checkin_code, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, "
                            "$5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                            p, 11, id, e)))
        goto done;
    json_array_foreach(tids, i, v)
    {
        int64_t tid = json_integer_value(v), est = 0;
        char *st = NULL;
        store_param pt[] = {P_INT(tid)};
        if ((rc = store_one_text(tx, "SELECT status FROM council_topics WHERE id = $1", pt, 1, &st, e)) == 0 &&
            (rc = store_one_int(tx, "SELECT estate_id FROM council_topics WHERE id = $1", pt, 1, &est, e)) == 0 &&
            (est != estate || !st || (strcmp(st, "open") && strcmp(st, "scheduled"))))
            rc = nx_fail(e, NX_EINVAL, "topic_ids", "议题 %lld 不属于该小区或已不在征集中", (long long)tid);
        free(st);
        if (rc == NX_ENOTFOUND)
            rc = nx_fail(e, NX_EINVAL, "topic_ids", "议题 %lld 不存在", (long long)tid);
        store_param pl[] = {P_INT(*id), P_INT(tid), P_INT(now)};
        if (rc ||
            (rc = store_exec(tx,
                             "INSERT INTO council_meeting_topics (meeting_id, topic_id) VALUES ($1, $2) "
                             "ON CONFLICT (meeting_id, topic_id) DO NOTHING",
                             pl, 2, NULL, e)) ||
            (rc = store_exec(tx, "UPDATE council_topics SET status = 'scheduled', updated_at = $3 WHERE id = $2 AND $1 > 0",
                             pl, 3, NULL, e)))
            goto done;
    }
    rc = outbox_emit_new(tx, COUNCIL_EV_MEETING_SCHEDULED, community, "meeting", *id,
                         json_pack("{s:I, s:I, s:s, s:s}", "meeting_id", (json_int_t)*id, "estate_id",
                                   (json_int_t)estate, "starts_at", starts, "place", place),
                         e);
done:
    return store_finish(tx, rc, e);
}

/* The meeting's estate and community in who's scope (on tx); status optional. */
static int meeting_state(store_tx *tx, const nx_principal *who, int64_t id, int64_t *estate, int64_t *community,
                         char status[16], char code[32], nx_err *e)
{
    store_rows *r;
    int rc = cx_first(tx, who, "SELECT m.estate_id, m.community_id, m.status, m.checkin_code FROM council_meetings m "
                               "WHERE 1 = 1", "m.", id, "会议不存在", &r, e);
    if (rc)
        return rc;
    *estate = store_int(r, 0);
    *community = store_int(r, 1);
    if (status)
        snprintf(status, 16, "%s", store_text(r, 2) ? store_text(r, 2) : "");
    if (code)
        snprintf(code, 32, "%s", store_text(r, 3) ? store_text(r, 3) : "");
    store_rows_free(r);
    return 0;
}

int council_meeting_attend(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    bool staff = cx_staff(who), self = cx_resident(who);
    if (!staff && !self)
        return nx_fail(e, NX_EPERM, "", "无权签到");
    static const char *const staff_fields[] = {"resident_id", NULL};
    static const char *const self_fields[] = {"code", NULL};
    int64_t resident = 0;
    const char *code = NULL;
    int rc;
    if ((rc = json_only(in, staff ? staff_fields : self_fields, e)))
        return rc;
    if (staff && (rc = json_get_int(in, "resident_id", true, 1, INT64_MAX, &resident, e)) < 0)
        return rc;
    if (self && (rc = json_read_str(in, "code", true, 64, &code, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t estate, community, rest = 0;
    char mcode[32];
    bool active, adult;
    if ((rc = meeting_state(tx, who, id, &estate, &community, NULL, mcode, e)))
        goto done;
    if (self) {
        if (strlen(code) != strlen(mcode) || sodium_memcmp(mcode, code, strlen(mcode)) != 0) {
            rc = nx_fail(e, NX_EINVAL, "code", "签到码不正确");
            goto done;
        }
        resident = who->resident_id;
    }
    if ((rc = cx_resident_info(tx, resident, &rest, &active, &adult, e)) == NX_ENOTFOUND)
        rc = nx_fail(e, NX_EINVAL, "resident_id", "居民不存在");
    if (rc)
        goto done;
    if (rest != estate || !active) {
        rc = nx_fail(e, staff ? NX_EINVAL : NX_EPERM, staff ? "resident_id" : "", "不是本小区的居民");
        goto done;
    }
    store_param p[] = {P_INT(id), P_INT(resident), P_TEXT(staff ? "staff" : "qr"), P_INT(clock_now_ms())};
    rc = store_exec(tx,
                    "INSERT INTO council_attendance (meeting_id, resident_id, via, at) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (meeting_id, resident_id) DO NOTHING",
                    p, 4, NULL, e);
done:
    return store_finish(tx, rc, e);
}

int council_meeting_qr(nx_app *app, const nx_principal *who, int64_t id, char **svg, nx_err *e)
{
    int rc = cx_need_staff(who, e);
    if (rc)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    int64_t estate, community;
    char code[32];
    rc = meeting_state(tx, who, id, &estate, &community, NULL, code, e);
    store_rollback(tx);
    if (rc)
        return rc;
    char text[128];
    snprintf(text, sizeof text, "/m/council?meeting=%lld&code=%s", (long long)id, code);
    qr_matrix m;
    if ((rc = qr_encode(text, &m, e)))
        return rc;
    /* one path of unit squares, a 4-module quiet zone, scaled by the viewer */
    int side = m.width + 8;
    size_t cap = 256 + (size_t)m.width * (size_t)m.width * 24;
    char *out = malloc(cap);
    if (!out) {
        qr_free(&m);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    size_t n = (size_t)snprintf(out, cap,
                                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                                "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                                "<path fill=\"#000\" d=\"",
                                side, side, side, side);
    for (int y = 0; y < m.width; y++)
        for (int x = 0; x < m.width; x++)
            if (m.modules[y * m.width + x] && n + 24 < cap)
                n += (size_t)snprintf(out + n, cap - n, "M%d %dh1v1h-1z", x + 4, y + 4);
    if (n + 16 < cap)
        snprintf(out + n, cap - n, "\"/></svg>");
    qr_free(&m);
    *svg = out;
    return 0;
}

int council_meeting_minutes(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"minutes", NULL};
    const char *minutes = NULL;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_read_str(in, "minutes", true, 20000, &minutes, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t estate, community;
    if ((rc = meeting_state(tx, who, id, &estate, &community, NULL, NULL, e)))
        goto done;
    store_param p[] = {P_INT(id), P_TEXT(minutes), P_INT(clock_now_ms())};
    if ((rc = store_exec(tx, "UPDATE council_meetings SET minutes = $2, status = 'held', updated_at = $3 WHERE id = $1",
                         p, 3, NULL, e)) ||
        (rc = outbox_emit_new(tx, COUNCIL_EV_MEETING_MINUTES, community, "meeting", id,
                              json_pack("{s:I, s:I}", "meeting_id", (json_int_t)id, "estate_id", (json_int_t)estate), e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

/* ---- decisions ---- */

#define DECISION_SELECT                                                                                      \
    "SELECT d.id, d.community_id, d.estate_id, s.name, d.meeting_id, m.title, d.topic_id, t.title, d.text, "  \
    "d.responsible, d.status, d.problem_id, d.created_at, d.done_at, "                                       \
    "(SELECT AVG(CAST(g.rating AS REAL)) FROM council_ratings g WHERE g.decision_id = d.id), "                \
    "(SELECT COUNT(*) FROM council_ratings g WHERE g.decision_id = d.id), d.grid_id FROM council_decisions d "           \
    "JOIN estates s ON s.id = d.estate_id JOIN council_meetings m ON m.id = d.meeting_id "                   \
    "JOIN council_topics t ON t.id = d.topic_id WHERE 1 = 1"
#define DECISION_SPEC                                                                                          \
    "id:i community_id:i estate_id:i estate_name:t meeting_id:i meeting_title:t topic_id:i topic_title:t text:t " \
    "responsible:t status:t problem_id:i created_at:d done_at:d rating_avg:r ratings:i grid_id:i"

static json_t *decision_row(store_rows *r)
{
    json_t *o = store_json_row(r, DECISION_SPEC);
    if (o) {
        const char *st = store_text(r, 10);
        json_object_set_new(o, "status_label", json_string(st && strcmp(st, "done") == 0 ? "已落实" : "落实中"));
    }
    return o;
}

int council_decision_list(nx_app *app, const nx_principal *who, const council_filter *f, json_t **out, nx_err *e)
{
    store_page_spec s = {.row = decision_row};
    return cx_page(app, who, DECISION_SELECT, "d.", f, false, &s, out, e);
}

/* The decision with its progress, photos, polls and the reader's own rating (a store_build_fn). */
static int decision_build(store_tx *tx, const void *ctx, int64_t id, json_t **out, nx_err *e)
{
    const nx_principal *who = ctx;
    store_page_spec s = {.row = decision_row};
    int rc = cx_get(tx, who, DECISION_SELECT, "d.", id, &s, "决定不存在", out, e);
    json_t *o = *out;
    sqlq q;
    if (rc)
        return rc;
    sqlq_init(&q, "SELECT id, title, responsible, due_on, done, note, created_at FROM council_progress WHERE 1 = 1");
    sqlq_add(&q, " AND decision_id = $%d ORDER BY id", P_INT(id));
    if ((rc = cx_rows(tx, &q, "id:i title:t responsible:t due_on:t done:b note:t created_at:d", o, "progress", e)))
        return rc;
    sqlq_init(&q, "SELECT id, content_type, created_at FROM council_photos WHERE 1 = 1");
    sqlq_add(&q, " AND decision_id = $%d ORDER BY id", P_INT(id));
    if ((rc = cx_rows(tx, &q, "id:i content_type:t created_at:d", o, "photos", e)))
        return rc;
    size_t i;
    json_t *ph;
    json_array_foreach(json_object_get(o, "photos"), i, ph)
    {
        char url[64];
        snprintf(url, sizeof url, "/api/v1/council-photos/%lld",
                 (long long)json_integer_value(json_object_get(ph, "id")));
        json_object_set_new(ph, "url", json_string(url));
    }
    sqlq_init(&q, "SELECT id, question, status, secret, electorate FROM council_polls WHERE 1 = 1");
    sqlq_add(&q, " AND decision_id = $%d ORDER BY id", P_INT(id));
    if ((rc = cx_rows(tx, &q, "id:i question:t status:t secret:b electorate:t", o, "polls", e)))
        return rc;
    int64_t mine = 0;
    if (who->resident_id && !cx_staff(who)) {
        sqlq_init(&q, "SELECT rating FROM council_ratings WHERE 1 = 1");
        sqlq_add(&q, " AND decision_id = $%d", P_INT(id));
        sqlq_add(&q, " AND resident_id = $%d", P_INT(who->resident_id));
        if ((rc = cx_int(tx, &q, &mine, e)))
            return rc;
    }
    json_object_set_new(o, "my_rating", mine ? json_integer(mine) : json_null());
    return 0;
}

int council_decision_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return cx_build(app, who, id, decision_build, out, e);
}

int council_decision_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"meeting_id", "topic_id", "text", "responsible", NULL};
    int64_t meeting = 0, topic = 0;
    const char *text = NULL, *responsible = NULL;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "meeting_id", true, 1, INT64_MAX, &meeting, e)) < 0 ||
        (rc = json_get_int(in, "topic_id", true, 1, INT64_MAX, &topic, e)) < 0 ||
        (rc = json_read_str(in, "text", true, 2000, &text, e)) ||
        (rc = json_read_str(in, "responsible", false, 100, &responsible, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t estate = 0, community = 0, grid = 0, on_agenda = 0;
    json_t *m = NULL;
    if ((rc = meeting_state(tx, who, meeting, &estate, &community, NULL, NULL, e)) == NX_ENOTFOUND)
        rc = nx_fail(e, NX_EINVAL, "meeting_id", "会议不存在");
    if (rc || (rc = meeting_read(tx, who, meeting, &m, e)))
        goto done;
    bool quorum = json_is_true(json_object_get(m, "quorum_met"));
    json_decref(m);
    store_param pa[] = {P_INT(meeting), P_INT(topic)};
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM council_meeting_topics WHERE meeting_id = $1 AND topic_id = $2",
                            pa, 2, &on_agenda, e)))
        goto done;
    if (!on_agenda) {
        rc = nx_fail(e, NX_EINVAL, "topic_id", "该议题不在本次会议的议程上");
        goto done;
    }
    if (!quorum) {
        rc = nx_fail(e, NX_ECONFLICT, "quorum", "到会议事会成员未达法定人数，不能作出决定");
        goto done;
    }
    store_param pg[] = {P_INT(estate)};
    if ((rc = store_one_int(tx, "SELECT COALESCE(grid_id, 0) FROM estates WHERE id = $1", pg, 1, &grid, e)))
        goto done;
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(community), P_ID(grid),   P_INT(estate),       P_INT(meeting),
                       P_INT(topic),     P_TEXT(text), P_TEXT(responsible), P_INT(now)};
    rc = app_insert(tx, "council_decisions",
                    "community_id, grid_id, estate_id, meeting_id, topic_id, text, responsible, "
                    "created_at",
                    p, 8, id, e);
    if (rc == NX_ECONFLICT)
        rc = nx_fail(e, NX_ECONFLICT, "topic_id", "该议题已有决定");
    store_param pt[] = {P_INT(topic), P_INT(now)};
    if (rc ||
        (rc = store_exec(tx, "UPDATE council_topics SET status = 'decided', updated_at = $2 WHERE id = $1", pt, 2, NULL,
                         e)) ||
        (rc = outbox_emit_new(tx, COUNCIL_EV_DECISION_MADE, community, "decision", *id,
                              json_pack("{s:I, s:I, s:I, s:I}", "decision_id", (json_int_t)*id, "topic_id",
                                        (json_int_t)topic, "meeting_id", (json_int_t)meeting, "estate_id",
                                        (json_int_t)estate),
                              e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

/* The decision's estate, community, topic and status in who's scope, on tx. */
static int decision_state(store_tx *tx, const nx_principal *who, int64_t id, int64_t *estate, int64_t *community,
                          int64_t *topic, char status[16], int64_t *problem, nx_err *e)
{
    store_rows *r;
    int rc = cx_first(tx, who, "SELECT d.estate_id, d.community_id, d.topic_id, d.status, d.problem_id FROM "
                               "council_decisions d WHERE 1 = 1", "d.", id, "决定不存在", &r, e);
    if (rc)
        return rc;
    *estate = store_int(r, 0);
    *community = store_int(r, 1);
    *topic = store_int(r, 2);
    snprintf(status, 16, "%s", store_text(r, 3) ? store_text(r, 3) : "");
    if (problem)
        *problem = store_int(r, 4);
    store_rows_free(r);
    return 0;
}

int council_decision_progress(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"title", "responsible", "due_on", "done", "note", "complete", NULL};
    const char *title = NULL, *responsible = NULL, *due = NULL, *note = NULL;
    bool done = false, complete = false;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_read_str(in, "title", true, 60, &title, e)) ||
        (rc = json_read_str(in, "responsible", false, 60, &responsible, e)) ||
        (rc = json_read_date(in, "due_on", false, &due, e)) ||
        (rc = json_read_str(in, "note", false, 1000, &note, e)) ||
        (rc = json_get_bool(in, "done", false, &done, e)) < 0 ||
        (rc = json_get_bool(in, "complete", false, &complete, e)) < 0)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t estate, community, topic, pid = 0;
    char status[16];
    if ((rc = decision_state(tx, who, id, &estate, &community, &topic, status, NULL, e)))
        goto done;
    if (strcmp(status, "done") == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "该决定已落实完毕");
        goto done;
    }
    int64_t now = clock_now_ms();
    store_param p[] = {P_INT(id),  P_TEXT(title), P_TEXT(responsible), P_TEXT(due), P_INT(done || complete ? 1 : 0),
                       P_TEXT(note), P_ID(who->user_id), P_INT(now)};
    if ((rc = app_insert(tx, "council_progress",
                         "decision_id, title, responsible, due_on, done, note, user_id, created_at",
                         p, 8, &pid, e)) ||
        (rc = outbox_emit_new(tx, COUNCIL_EV_DECISION_PROGRESS, community, "decision", id,
                              json_pack("{s:I, s:I, s:I, s:b}", "decision_id", (json_int_t)id, "estate_id",
                                        (json_int_t)estate, "progress_id", (json_int_t)pid, "done", done || complete),
                              e)))
        goto done;
    if (complete) {
        store_param pc[] = {P_INT(id), P_INT(now), P_INT(topic)};
        if ((rc = store_exec(tx, "UPDATE council_decisions SET status = 'done', done_at = $2 WHERE id = $1 AND $3 > 0",
                             pc, 3, NULL, e)) ||
            (rc = store_exec(tx, "UPDATE council_topics SET status = 'done', updated_at = $2 WHERE id = $3 AND $1 > 0",
                             pc, 3, NULL, e)) ||
            (rc = outbox_emit_new(tx, COUNCIL_EV_DECISION_DONE, community, "decision", id,
                                  json_pack("{s:I, s:I, s:I}", "decision_id", (json_int_t)id, "topic_id",
                                            (json_int_t)topic, "estate_id", (json_int_t)estate),
                                  e)))
            goto done;
    }
done:
    return store_finish(tx, rc, e);
}

int council_decision_rate(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"rating", "note", NULL};
    int64_t rating = 0;
    const char *note = NULL;
    int rc;
    if (!cx_resident(who))
        return nx_fail(e, NX_EPERM, "", "只有居民本人可以评议");
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "rating", true, 1, 5, &rating, e)) < 0 ||
        (rc = json_read_str(in, "note", false, 500, &note, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t estate, community, topic;
    char status[16];
    if ((rc = decision_state(tx, who, id, &estate, &community, &topic, status, NULL, e)))
        goto done;
    if (strcmp(status, "done")) {
        rc = nx_fail(e, NX_ECONFLICT, "status", "决定尚未落实，落实后再评议");
        goto done;
    }
    store_param p[] = {P_INT(id), P_INT(who->resident_id), P_INT(rating), P_TEXT(note), P_INT(clock_now_ms())};
    rc = app_insert(tx, "council_ratings",
                    "decision_id, resident_id, rating, note, created_at",
                    p, 5, NULL, e);
    if (rc == NX_ECONFLICT)
        rc = nx_fail(e, NX_ECONFLICT, "", "您已评议过");
done:
    return store_finish(tx, rc, e);
}

int council_decision_problem(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"category", "title", "description", NULL};
    const char *category = NULL, *title = NULL, *desc = NULL;
    int rc;
    if ((rc = cx_need_staff(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_read_str(in, "category", true, 40, &category, e)) ||
        (rc = json_read_str(in, "title", false, 100, &title, e)) ||
        (rc = json_read_str(in, "description", false, 1000, &desc, e)))
        return rc;
    json_t *d = NULL;
    if ((rc = council_decision_get(app, who, id, &d, e)))
        return rc;
    if (!json_is_null(json_object_get(d, "problem_id"))) {
        json_decref(d);
        return nx_fail(e, NX_ECONFLICT, "problem_id", "该决定已转为诉求");
    }
    char buf[160];
    if (!title) {
        snprintf(buf, sizeof buf, "议事会决定落实：%s", json_string_value(json_object_get(d, "topic_title")));
        title = buf;
    }
    json_t *pin = json_pack("{s:s, s:s, s:s}", "category", category, "title", title, "description",
                            desc ? desc : json_string_value(json_object_get(d, "text")));
    json_int_t grid = json_integer_value(json_object_get(d, "grid_id"));
    if (grid)
        json_object_set_new(pin, "grid_id", json_integer(grid));
    int64_t problem = 0;
    rc = visits_problem_create(app, who, pin, &problem, e);
    json_decref(pin);
    json_decref(d);
    if (rc)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_param p[] = {P_INT(id), P_INT(problem)};
    if ((rc = store_exec(tx, "UPDATE council_decisions SET problem_id = $2 WHERE id = $1 AND problem_id IS NULL", p, 2,
                         NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

#define PHOTO_TYPES (UPLOAD_JPEG | UPLOAD_PNG | UPLOAD_WEBP)

int council_decision_photo(nx_app *app, const nx_principal *who, int64_t id, const void *data, size_t len,
                           int64_t *photo, nx_err *e)
{
    int rc = cx_need_staff(who, e);
    if (rc)
        return rc;
    char name[UPLOAD_NAME_MAX] = "";
    const upload_type *type = NULL;
    /* the file is judged first (empty, too large, not a picture), then the decision */
    if ((rc = upload_accept(app->cfg->data_dir, app->keys, data, len, (size_t)app->cfg->max_upload, PHOTO_TYPES, &type,
                            name, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e))) {
        upload_remove(app->cfg->data_dir, name);
        return rc;
    }
    int64_t estate, community, topic;
    char status[16];
    store_param p[] = {P_INT(id), P_TEXT(name), P_TEXT(type->mime), P_INT((int64_t)len), P_ID(who->user_id),
                       P_INT(clock_now_ms())};
    if ((rc = decision_state(tx, who, id, &estate, &community, &topic, status, NULL, e)) ||
        (rc = app_insert(tx, "council_photos",
                         "decision_id, file_name, content_type, size, user_id, created_at",
                         p, 6, photo, e)))
        store_rollback(tx);
    else
        rc = store_commit(tx, e);
    if (rc)
        upload_remove(app->cfg->data_dir, name);
    return rc;
}

int council_photo_read(nx_app *app, const nx_principal *who, int64_t id, unsigned char **data, size_t *n, char ctype[32],
                       nx_err *e)
{
    int rc = cx_can_read(who, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT p.file_name, p.content_type FROM council_photos p JOIN council_decisions d ON d.id = "
                  "p.decision_id WHERE 1 = 1");
    sqlq_add(&q, " AND p.id = $%d", P_INT(id));
    cx_scope_q(who, "d.", &q);
    return upload_read_first(app->db, &q, "照片不存在", app->cfg->data_dir, app->keys, (size_t)app->cfg->max_upload,
                             data, n, ctype, e);
}
