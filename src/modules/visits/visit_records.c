/* visit_records.c — visit records (走访记录) and their photos.
 *
 * A visit answers the open tasks of its resident: the task it names, every routine task whose
 * period began on or before the visit day, and every open event task; it moves the care file's
 * last_visit_on forward (never back, so a late entry of an old visit does not hide a gap). Needs
 * raised in the visit become problems in the same transaction (problems.c), and a follow-up date
 * becomes an event task due that day (source "followup:<visit>"), so nothing found on a visit is
 * lost.
 *
 * Photos (of visits and of grid incidents) are stored in the upload store (store/upload.h:
 * <data_dir>/uploads/, 16 random bytes in hex plus the extension of the sniffed type); the
 * client's name and Content-Type are ignored. A row in care_photos carries the owner's community,
 * grid and resident, so reading a photo is scoped in SQL like everything else. A file written for
 * a transaction that then fails is removed.
 * Threads: none of its own; every function runs its own transaction. */
#include "modules/visits/visits_internal.h"

#include "base/jsonin.h"
#include "base/log.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "store/upload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VISIT_COLS                                                                                 \
    "SELECT v.id, v.community_id, v.grid_id, g.name, v.resident_id, r.name, v.care_file_id, v.task_id, "  \
    "v.visited_on, v.kind, v.visitors, v.findings, v.mood, v.health, v.followup_on, v.remarks, v.user_id, " \
    "v.created_at FROM visits v JOIN residents r ON r.id = v.resident_id LEFT JOIN grids g ON g.id = v.grid_id"

static json_t *visit_row(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i grid_id:i grid_name:t resident_id:i resident_name:t care_file_id:i "
                             "task_id:i visited_on:t kind:t visitors:t findings:t mood:t health:t followup_on:t "
                             "remarks:t user_id:i created_at:d");
}

static const char *const visit_kinds[] = {"home", "phone", "video", NULL};
static const char *const moods[] = {"good", "fair", "low", NULL};
static const char *const healths[] = {"good", "fair", "poor", NULL};

/* The resident (and care file) a visit is about, from the task, the file or the resident. */
static int visit_target(store_tx *tx, const nx_principal *who, int64_t task, int64_t file, int64_t *resident,
                        int64_t *file_out, nx_err *e)
{
    sqlq q;
    if (task) {
        perm_scope_id_q(who, "t.", "resident_id", task,
                        "SELECT t.resident_id, t.care_file_id, t.status FROM visit_tasks t WHERE 1 = 1", &q);
    } else if (file) {
        perm_scope_id_q(who, "f.", "resident_id", file,
                        "SELECT f.resident_id, f.id, f.status FROM care_files f WHERE 1 = 1", &q);
    } else {
        sqlq_init(&q, "SELECT r.id, f.id, 'open' FROM residents r LEFT JOIN care_files f ON f.resident_id = r.id AND "
                      "f.status = 'active' WHERE 1 = 1");
        sqlq_add(&q, " AND r.id = $%d", P_INT(*resident));
        perm_scope_q(who, "r.", "id", &q);
    }
    store_rows *r;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, task ? "走访任务不存在" : file ? "关怀档案不存在" : "居民不存在", e))) {
        store_rows_free(r);
        if (rc == NX_ENOTFOUND)
            str_copy(e->field, task ? "task_id" : file ? "care_file_id" : "resident_id", sizeof e->field);
        return rc;
    }
    int64_t res = store_int(r, 0), f = store_int(r, 1);
    store_rows_free(r);
    if (*resident && *resident != res)
        return nx_fail(e, NX_EINVAL, "resident_id", "居民与任务或档案不符");
    *resident = res;
    *file_out = f;
    if (!f && !task && !file) {
        *file_out = 0;
    } else if (!f) {
        if ((rc = vx_active_file(tx, res, file_out, e)))
            return rc;
    }
    return 0;
}

int visits_record(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权登记走访");
    static const char *const allowed[] = {"resident_id", "care_file_id", "task_id", "visited_on", "kind",
                                          "visitors", "findings", "mood", "health", "followup_on", "remarks",
                                          "needs", NULL};
    int64_t resident = 0, file = 0, task = 0;
    const char *on = NULL, *kind = NULL, *visitors = NULL, *findings = NULL, *mood = NULL, *health = NULL,
               *followup = NULL, *remarks = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = json_get_int(in, "care_file_id", false, 1, INT64_MAX, &file, e)) < 0 ||
        (rc = json_get_int(in, "task_id", false, 1, INT64_MAX, &task, e)) < 0 ||
        (rc = json_read_date(in, "visited_on", true, &on, e)) ||
        (rc = json_read_str(in, "kind", true, 10, &kind, e)) ||
        (rc = json_read_str(in, "visitors", true, 100, &visitors, e)) ||
        (rc = json_read_str(in, "findings", false, 2000, &findings, e)) ||
        (rc = json_read_str(in, "mood", false, 10, &mood, e)) ||
        (rc = json_read_str(in, "health", false, 10, &health, e)) ||
        (rc = json_read_date(in, "followup_on", false, &followup, e)) ||
        (rc = json_read_str(in, "remarks", false, 500, &remarks, e)))
        return rc;
    if (!resident && !file && !task)
        return nx_fail(e, NX_EINVAL, "resident_id", "请指定走访对象（resident_id、care_file_id 或 task_id）");
    if (!vx_one_of(kind, visit_kinds))
        return nx_fail(e, NX_EINVAL, "kind", "走访方式应为 home（入户）、phone（电话）或 video（视频）");
    if (mood && !vx_one_of(mood, moods))
        return nx_fail(e, NX_EINVAL, "mood", "情绪应为 good、fair 或 low");
    if (health && !vx_one_of(health, healths))
        return nx_fail(e, NX_EINVAL, "health", "健康状况应为 good、fair 或 poor");
    int64_t now = clock_now_ms();
    char today[11];
    vx_day(now, 0, today);
    if (strcmp(on, today) > 0)
        return nx_fail(e, NX_EINVAL, "visited_on", "走访日期不能晚于今天");
    if (followup && strcmp(followup, on) <= 0)
        return nx_fail(e, NX_EINVAL, "followup_on", "跟进日期应晚于走访日期");
    json_t *needs = json_object_get(in, "needs");
    if (needs && !json_is_null(needs) && (!json_is_array(needs) || json_array_size(needs) > 10))
        return nx_fail(e, NX_EINVAL, "needs", "needs 应为数组（最多 10 项）");
    vx_problem_in pins[10];
    size_t nneeds = json_is_array(needs) ? json_array_size(needs) : 0;
    for (size_t i = 0; i < nneeds; i++) {
        memset(&pins[i], 0, sizeof pins[i]);
        if ((rc = vx_parse_need(json_array_get(needs, i), &pins[i], e)))
            return rc;
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, grid = 0;
    if ((rc = visit_target(tx, who, task, file, &resident, &file, e)) ||
        (rc = vx_resident_place(tx, who, resident, &community, &grid, e)))
        goto fail;
    store_param p[] = {P_INT(community), P_ID(grid),     P_INT(resident), P_ID(file),      P_ID(task),
                       P_TEXT(on),       P_TEXT(kind),   P_TEXT(visitors), P_TEXT(findings), P_TEXT(mood),
                       P_TEXT(health),   P_TEXT(followup), P_TEXT(remarks), P_ID(who->user_id), P_INT(now)};
    if ((rc = app_insert(tx, "visits",
                         "community_id, grid_id, resident_id, care_file_id, task_id, visited_on, kind, "
                         "visitors, findings, mood, health, followup_on, remarks, user_id, created_at",
                         p, 15, id, e)))
        goto fail;
    /* the tasks it answers */
    store_param t[] = {P_INT(*id), P_INT(now), P_INT(resident), P_INT(task), P_TEXT(on)};
    int64_t done = 0;
    if ((rc = store_exec(tx,
                         "UPDATE visit_tasks SET status = 'done', visit_id = $1, done_at = $2, updated_at = $2 WHERE "
                         "resident_id = $3 AND status = 'open' AND (id = $4 OR kind = 'event' OR (kind = 'routine' "
                         "AND period_start <= $5))",
                         t, 5, &done, e)))
        goto fail;
    if (file) {
        store_param f[] = {P_TEXT(on), P_INT(now), P_INT(file)};
        if ((rc = store_exec(tx,
                             "UPDATE care_files SET last_visit_on = CASE WHEN last_visit_on IS NULL OR last_visit_on "
                             "< $1 THEN $1 ELSE last_visit_on END, updated_at = $2 WHERE id = $3",
                             f, 3, NULL, e)))
            goto fail;
        json_t *d = json_pack("{s:I, s:s, s:s}", "visit_id", (json_int_t)*id, "visited_on", on, "kind", kind);
        rc = visits_timeline_add(tx, community, "care_file", file, who, "visited", NULL, d, NULL, e);
        json_decref(d);
        if (rc)
            goto fail;
    }
    for (size_t i = 0; i < nneeds; i++) {
        pins[i].community = community;
        pins[i].grid = grid;
        pins[i].resident = resident;
        pins[i].file = file;
        pins[i].visit = *id;
        pins[i].source = "visit";
        int64_t pid;
        if ((rc = vx_problem_insert(tx, who, &pins[i], &pid, e)))
            goto fail;
    }
    if (followup) {
        char key[48];
        snprintf(key, sizeof key, "followup:%lld", (long long)*id);
        if ((rc = vx_event_task(tx, community, grid, resident, file, who->user_id, "followup", "走访后跟进", key,
                                followup, now, NULL, e)))
            goto fail;
    }
    json_t *d = json_pack("{s:I, s:I}", "tasks_done", (json_int_t)done, "needs", (json_int_t)nneeds);
    rc = audit_write(tx, who, "create", "visit", *id, community, d, e);
    json_decref(d);
    if (rc)
        goto fail;
    rc = outbox_emit_new(tx, VISITS_EV_VISIT_RECORDED, community, "visit", *id,
                         json_pack("{s:I, s:I, s:o}", "visit_id", (json_int_t)*id, "resident_id", (json_int_t)resident,
                                   "care_file_id", file ? json_integer(file) : json_null()),
                         e);
    if (rc)
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* The problems a visit recorded. */
static int visit_more(store_tx *tx, int64_t id, json_t *o, nx_err *e)
{
    return vx_set_items(tx, o, "problems",
                        "SELECT id, title, status FROM problems WHERE visit_id = $1 ORDER BY id", id,
                        "id:i title:t status:t", e);
}

int visits_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访记录");
    sqlq q;
    perm_scope_id_q(who, "v.", "resident_id", id, VISIT_COLS " WHERE 1 = 1", &q);
    store_page_spec s = {.row = visit_row};
    return vx_get_record(app, &q, &s, "走访记录不存在", "visit", id, VX_PHOTOS, visit_more, out, e);
}

int visits_list(nx_app *app, const nx_principal *who, const care_filter *f, json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_CARE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看走访记录");
    sqlq q;
    sqlq_init(&q, VISIT_COLS " WHERE 1 = 1");
    perm_scope_q(who, "v.", "resident_id", &q);
    sqlq_range_text(&q, "v.visited_on", f->from, f->to);
    return visits_list_page(app, &q, "v.", f,
                            VISITS_BY_COMMUNITY | VISITS_BY_GRID | VISITS_BY_RESIDENT | VISITS_BY_FILE | VISITS_BY_KIND,
                            (store_page_spec){.row = visit_row}, out, e);
}

/* ---- photos ---- */

#define PHOTO_TYPES (UPLOAD_JPEG | UPLOAD_PNG | UPLOAD_WEBP)

const char *visits_sniff_image(const void *data, size_t len)
{
    const upload_type *t = upload_sniff(data, len, PHOTO_TYPES);
    return t ? t->mime : NULL;
}

int visits_photo_add(nx_app *app, const nx_principal *who, const char *owner_type, int64_t owner_id,
                     const void *data, size_t len, size_t max, int64_t *id, size_t *stored, nx_err *e)
{
    bool incident = strcmp(owner_type, "incident") == 0;
    if (!incident && strcmp(owner_type, "visit") != 0)
        return nx_fail(e, NX_EINTERNAL, "", "未知的照片归属");
    if (!perm_has(who, RIGHT_CARE_WRITE) && !(incident && perm_has(who, RIGHT_SELF) && who->resident_id))
        return nx_fail(e, NX_EPERM, "", "无权上传照片");
    if (len == 0)
        return nx_fail(e, NX_EINVAL, "file", "请上传照片");
    if (len > max)
        return nx_fail(e, NX_ETOOBIG, "file", "照片过大（上限 %zu 字节）", max);
    const upload_type *type = upload_sniff(data, len, PHOTO_TYPES);
    if (!type)
        return nx_fail(e, NX_EUNSUPP, "file", "只接受 JPEG、PNG 或 WebP 图片");
    int rc;
    char name[UPLOAD_NAME_MAX] = "";
    unsigned char *clean = NULL;
    size_t clean_n = 0;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    store_rows *r;
    if ((rc = perm_scope_first(
             tx, who, "o.", incident ? "reporter_resident_id" : "resident_id", owner_id,
             incident ? "SELECT o.community_id, o.grid_id, o.reporter_resident_id FROM incidents o WHERE 1 = 1"
                      : "SELECT o.community_id, o.grid_id, o.resident_id FROM visits o WHERE 1 = 1",
             incident ? "事件不存在" : "走访记录不存在", &r, e)))
        goto fail;
    int64_t community = store_int(r, 0), grid = store_int(r, 1), resident = store_int(r, 2);
    store_rows_free(r);
    int64_t count = 0;
    store_param c[] = {P_TEXT(owner_type), P_INT(owner_id)};
    if ((rc = store_one_int(tx, "SELECT count(*) FROM care_photos WHERE owner_type = $1 AND owner_id = $2", c, 2,
                            &count, e)))
        goto fail;
    if (count >= 9) {
        rc = nx_fail(e, NX_ECONFLICT, "file", "每条记录最多 9 张照片");
        goto fail;
    }
    const char *ctype = type->mime;
    /* the structure is walked and EXIF (a GPS position of the resident's home) dropped before storing */
    if ((rc = upload_clean(type, data, len, &clean, &clean_n, e)) ||
        (rc = upload_save(app->cfg->data_dir, app->keys, clean, clean_n, max, type->ext, name, e)))
        goto fail;
    store_param ins[] = {P_INT(community), P_ID(grid), P_TEXT(owner_type), P_INT(owner_id), P_ID(resident),
                         P_TEXT(name), P_TEXT(ctype), P_INT((int64_t)clean_n), P_ID(who->user_id), P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "care_photos",
                         "community_id, grid_id, owner_type, owner_id, resident_id, file_name, content_type, "
                         "size, user_id, created_at",
                         ins, 10, id, e)))
        goto fail;
    json_t *d = json_pack("{s:s, s:I, s:s, s:I}", "owner_type", owner_type, "owner_id", (json_int_t)owner_id,
                          "content_type", ctype, "size", (json_int_t)clean_n);
    rc = audit_write(tx, who, "upload", "photo", *id, community, d, e);
    json_decref(d);
    if (rc)
        goto fail;
    if ((rc = store_commit(tx, e)))
        upload_remove(app->cfg->data_dir, name);
    else if (stored)
        *stored = clean_n;
    free(clean);
    return rc;
fail:
    upload_remove(app->cfg->data_dir, name);
    free(clean);
    store_rollback(tx);
    return rc;
}

int visits_photo_read(nx_app *app, const nx_principal *who, int64_t id, unsigned char **data, size_t *size,
                      char ctype[32], nx_err *e)
{
    *data = NULL;
    *size = 0;
    if (!perm_has(who, RIGHT_CARE_READ) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看照片");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    char name[80] = "";
    if ((rc = perm_scope_first(tx, who, "p.", "resident_id", id,
                               "SELECT p.file_name, p.content_type FROM care_photos p WHERE 1 = 1", "照片不存在", &r,
                               e)) == 0) {
        str_copy(name, store_text(r, 0), sizeof name);
        str_copy(ctype, store_text(r, 1), 32);

        store_rows_free(r);
    }
    store_rollback(tx);
    if (rc)
        return rc;
    if (upload_read(app->cfg->data_dir, app->keys, name, (size_t)app->cfg->max_upload, data, size) != 0) {
        if (errno == ENOENT)
            return nx_fail(e, NX_ENOTFOUND, "", "照片文件不存在");
        nx_log(LOG_WARN, "visits.photo_unreadable photo=%lld errno=%d", (long long)id, errno);
        return nx_fail(e, NX_EIO, "", "照片文件无法读取（已损坏或密钥文件不符）");
    }
    return 0;
}

int visits_photos_json(store_tx *tx, const char *owner_type, int64_t owner_id, json_t **out, nx_err *e)
{
    store_param p[] = {P_TEXT(owner_type), P_INT(owner_id)};
    store_rows *r;
    int rc = store_query(tx,
                         "SELECT id, content_type, size FROM care_photos WHERE owner_type = $1 AND owner_id = $2 "
                         "ORDER BY id",
                         p, 2, &r, e);
    if (rc)
        return rc;
    json_t *a = json_array();
    while (store_row(r)) {
        char url[64];
        snprintf(url, sizeof url, "/api/v1/photos/%lld", (long long)store_int(r, 0));
        json_array_append_new(a, json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)store_int(r, 0), "content_type",
                                           store_text(r, 1), "size", (json_int_t)store_int(r, 2), "url", url));
    }
    if ((rc = store_rows_end(r, e))) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}
