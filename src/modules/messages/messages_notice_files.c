/* messages_notice_files.c — what goes with a notice on paper and on the phone: its attachments and
 * the printable notice for the noticeboard.
 *
 * Attachments (a PDF of the policy, a photo of the map) are kept in the kit's upload store
 * (store/upload.h): the type is sniffed from the bytes (PDF, JPEG, PNG, WebP; the Content-Type
 * the client claims is never believed), pictures are walked and stripped of EXIF and the like,
 * everything is sealed at rest, and the size is capped by max_upload; a notice carries at most
 * NOTICE_FILES_MAX of them. The name the writer gives is a label only. A file saved inside a
 * transaction that does not commit is removed again. Whoever may read the notice may read its
 * attachments: staff with RIGHT_NOTICE_WRITE in scope, and the residents (and family) it reached.
 *
 * The printable notice is one A4 page from the report layer (report/pdf.h): the community as the
 * issuer, the title, the date it was published, the text, the attachments' names, and a QR code
 * with the notice's address on the phone (public_url + /m/notices/<id>) so that a passer-by at the
 * noticeboard can open it, read the attachments and have their reading counted. Staff only. */
#include "modules/messages/messages_internal.h"

#include "report/pdf.h"
#include "secure/audit.h"
#include "store/upload.h"

#include <stdio.h>
#include <string.h>

#define NOTICE_FILES_MAX 10
#define FILE_TYPES (UPLOAD_PDF | UPLOAD_JPEG | UPLOAD_PNG | UPLOAD_WEBP)

/* The notice id in who's scope inside tx (staff: theirs; residents: one they received): its
 * community. NX_ENOTFOUND. */
static int notice_in_scope(store_tx *tx, const nx_principal *who, int64_t id, int64_t *community, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT n.community_id FROM notices n WHERE 1 = 1");
    sqlq_add(&q, " AND n.id = $%d", P_INT(id));
    if (who->scope == SCOPE_SELF)
        sqlq_add(&q, " AND n.status = 'published' AND n.id IN (SELECT notice_id FROM notice_recipients WHERE "
                     "resident_id = $%d)",
                 P_INT(who->resident_id));
    else
        perm_scope_q(who, "n.", NULL, &q);
    int rc = sqlq_one_int(tx, &q, community, e);
    return rc == NX_ENOTFOUND ? nx_fail(e, NX_ENOTFOUND, "", "通知不存在") : rc;
}

static int may_read(const nx_principal *who, nx_err *e)
{
    if (who->scope == SCOPE_SELF ? who->resident_id == 0 : !perm_has(who, RIGHT_NOTICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权查看通知");
    return 0;
}

int messages_notice_attach(nx_app *app, const nx_principal *who, int64_t id, const char *label, const void *data,
                           size_t len, int64_t *file, nx_err *e)
{
    if (who->scope == SCOPE_SELF || !perm_has(who, RIGHT_NOTICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权上传通知附件");
    if (label && (!str_utf8_valid(label, strlen(label)) || str_utf8_len(label) > 100 || !*label))
        return nx_fail(e, NX_EINVAL, "name", "附件名称无效或过长（最多 100 字）");
    for (const unsigned char *c = (const unsigned char *)(label ? label : ""); *c; c++)
        if (*c < 0x20 || *c == '/' || *c == '\\' || *c == 0x7f)
            return nx_fail(e, NX_EINVAL, "name", "附件名称含有不允许的字符");
    size_t max = (size_t)app->cfg->max_upload;
    if (len == 0)
        return nx_fail(e, NX_EINVAL, "file", "请上传文件");
    if (len > max)
        return nx_fail(e, NX_ETOOBIG, "file", "文件过大（上限 %zu 字节）", max);
    const upload_type *type = upload_sniff(data, len, FILE_TYPES);
    if (!type)
        return nx_fail(e, NX_EUNSUPP, "file", "只接受 PDF、JPEG、PNG 或 WebP 文件");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    char name[UPLOAD_NAME_MAX] = "", fallback[32];
    unsigned char *clean = NULL;
    size_t clean_n = 0;
    int64_t community = 0, count = 0;
    store_param c[] = {P_INT(id)};
    if ((rc = notice_in_scope(tx, who, id, &community, e)) ||
        (rc = store_one_int(tx, "SELECT count(*) FROM notice_attachments WHERE notice_id = $1", c, 1, &count, e)))
        goto fail;
    if (count >= NOTICE_FILES_MAX) {
        rc = nx_fail(e, NX_ECONFLICT, "file", "每条通知至多 %d 个附件", NOTICE_FILES_MAX);
        goto fail;
    }
    if (!label) {
        snprintf(fallback, sizeof fallback, "附件%lld.%s", (long long)count + 1, type->ext);
        label = fallback;
    }
    if ((rc = upload_clean(type, data, len, &clean, &clean_n, e)) ||
        (rc = upload_save(app->cfg->data_dir, app->keys, clean, clean_n, max, type->ext, name, e)))
        goto fail;
    store_param p[] = {P_INT(id),           P_TEXT(name),       P_TEXT(label), P_TEXT(type->mime),
                       P_INT((int64_t)clean_n), P_ID(who->user_id), P_INT(clock_now_ms())};
    if ((rc = app_insert(tx, "notice_attachments",
                         "notice_id, file_name, label, content_type, size, user_id, created_at",
                         p, 7, file, e)) ||
        (rc = audit_write_new(tx, who, "attach", "notice", id, community,
                              json_pack("{s:I, s:s}", "attachment_id", (json_int_t)*file, "type", type->kind), e)))
        goto fail;
    free(clean);
    if ((rc = store_commit(tx, e)))
        upload_remove(app->cfg->data_dir, name);
    return rc;
fail:
    free(clean);
    store_rollback(tx);
    if (name[0])
        upload_remove(app->cfg->data_dir, name);
    return rc;
}

static json_t *file_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i label:t content_type:t size:i created_at:d");
    char url[64];
    snprintf(url, sizeof url, "/api/v1/notice-attachments/%lld", (long long)store_int(r, 0));
    json_object_set_new(o, "url", json_string(url));
    return o;
}

int msg_notice_files(store_tx *tx, int64_t id, json_t *o, nx_err *e)
{
    return store_items_of(tx,
                          "SELECT id, label, content_type, size, created_at FROM notice_attachments WHERE notice_id = $1 "
                          "ORDER BY id",
                          id, &(store_page_spec){.row = file_row}, o, "attachments", e);
}

int messages_notice_file_read(nx_app *app, const nx_principal *who, int64_t file, unsigned char **data, size_t *n,
                              char ctype[32], nx_err *e)
{
    int rc = may_read(who, e);
    if (rc)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    store_rows *r;
    store_param p[] = {P_INT(file)};
    char name[UPLOAD_NAME_MAX] = "";
    int64_t notice = 0, community = 0;
    if ((rc = store_query(tx, "SELECT notice_id, file_name, content_type FROM notice_attachments WHERE id = $1",
                          p, 1, &r, e)) == 0) {
        if ((rc = store_first(r, "附件不存在", e)) == 0) {
            notice = store_int(r, 0);
            str_copy(name, store_text(r, 1), sizeof name);
            str_copy(ctype, store_text(r, 2), 32);
        }
        store_rows_free(r);
    }
    if (rc == 0 && (rc = notice_in_scope(tx, who, notice, &community, e)) == NX_ENOTFOUND)
        rc = nx_fail(e, NX_ENOTFOUND, "", "附件不存在");
    store_rollback(tx);
    if (rc)
        return rc;
    if (upload_read(app->cfg->data_dir, app->keys, name, (size_t)app->cfg->max_upload, data, n) != 0)
        return nx_fail(e, NX_EIO, "", "附件无法读取");
    return 0;
}

int messages_notice_pdf(nx_app *app, const nx_principal *who, int64_t id, unsigned char **pdf, size_t *len, nx_err *e)
{
    if (who->scope == SCOPE_SELF || !perm_has(who, RIGHT_NOTICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权打印通知");
    json_t *n = NULL;
    int rc = messages_notice_get(app, who, id, &n, e);
    if (rc)
        return rc;
    const char *status = json_string_value(json_object_get(n, "status"));
    if (!status || strcmp(status, "published") != 0) {
        json_decref(n);
        return nx_fail(e, NX_ECONFLICT, "", "通知尚未发布，不能打印");
    }
    char *issuer = NULL;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)) == 0) {
        store_param p[] = {P_INT(json_integer_value(json_object_get(n, "community_id")))};
        rc = store_one_text(tx, "SELECT name FROM communities WHERE id = $1", p, 1, &issuer, e);
        store_rollback(tx);
    }
    if (rc) {
        json_decref(n);
        return rc;
    }
    const char *published = json_string_value(json_object_get(n, "published_at"));
    char serial[64], footer[200], url[400], names[600] = "";
    snprintf(serial, sizeof serial, "发布时间：%.10s %.5s", published ? published : "", published ? published + 11 : "");
    snprintf(footer, sizeof footer, "%s  %.10s　扫码在手机上阅读全文与附件", issuer, published ? published : "");
    snprintf(url, sizeof url, "%s/m/notices/%lld", app->cfg->public_url, (long long)id);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(n, "attachments"), i, a)
    {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i ? "、" : "", json_string_value(json_object_get(a, "label")));
    }
    pdf_row rows[] = {{"附件", names}};
    pdf_form f = {.issuer = issuer, .title = json_string_value(json_object_get(n, "title")), .serial = serial,
                  .body = json_string_value(json_object_get(n, "body")), .rows = rows, .nrows = names[0] ? 1 : 0,
                  .footer = footer, .qr_text = url, .verify_code = NULL};
    rc = pdf_render_form(&f, pdf, len, e);
    free(issuer);
    json_decref(n);
    return rc;
}
