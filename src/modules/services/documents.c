/* documents.c — printable documents of the service hall and their verification.
 *
 * A document is a row of service_documents (an application form or a certificate of an approved
 * application) with a serial number from a yearly counter. Its verification code is
 *     "<document id>-<16 base32 characters>"
 * where the characters are the first 80 bits of crypto_document_mac over the id, serial,
 * application and kind. The code is printed (and put in the PDF's Keywords), the QR code links to
 * /verify/<code>. The MAC is recomputed at every check, never stored, so a database dump does not
 * yield valid codes for documents that were never issued, and changing any character of a code
 * makes it fail (a different id no longer matches its MAC). Revoked documents verify as genuine but
 * revoked.
 *
 * PDFs are rendered on request from the current rows (report/pdf.c); certificate text comes from
 * the item's document template with {placeholders} filled from the resident and the form. Personal
 * data printed is masked (ID numbers as 3714**********1234).
 *
 * A certificate whose document says "hours_from": "volunteer_ledger" (志愿服务证明) takes its figures
 * from the volunteers module's approved hours ledger at the time of printing, never from the form:
 * {hours} is the approved total, {volunteer_number} the volunteer's number, and one row per project
 * lists its hours — what the organisers recorded and approved (志愿服务记录与证明出具办法). A resident
 * with no approved hours (or no volunteer record) gets no certificate: NX_ECONFLICT, field "kind". */
#include "modules/services/services_internal.h"

#include "modules/volunteers/volunteers.h"

#include "base/str.h"
#include "report/pdf.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "text/mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_CHARS 16

static void base32(const unsigned char *in, size_t n, char *out, size_t chars)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t bit = 0;
    for (size_t i = 0; i < chars; i++, bit += 5) {
        size_t byte = bit / 8, off = bit % 8;
        unsigned v = (unsigned)in[byte] << 8;
        if (byte + 1 < n)
            v |= in[byte + 1];
        out[i] = alpha[(v >> (11 - off)) & 31];
    }
    out[chars] = '\0';
}

static void code_mac(const nx_keys *k, int64_t doc_id, const char *serial, int64_t app_id, const char *kind,
                     char out[CODE_CHARS + 1])
{
    char msg[256];
    int len = snprintf(msg, sizeof msg, "nxdoc|%lld|%s|%lld|%s", (long long)doc_id, serial ? serial : "",
                       (long long)app_id, kind ? kind : "");
    unsigned char mac[NX_DOC_MAC_BYTES];
    crypto_document_mac(k, msg, (size_t)len, mac);
    base32(mac, sizeof mac, out, CODE_CHARS);
}

void services_document_code(const nx_keys *k, int64_t doc_id, const char *serial, int64_t app_id, const char *kind,
                            char *out, size_t cap)
{
    char mac[CODE_CHARS + 1];
    code_mac(k, doc_id, serial, app_id, kind, mac);
    snprintf(out, cap, "%lld-%s", (long long)doc_id, mac);
}

static int new_document(store_tx *tx, const nx_principal *who, int64_t app_id, int64_t community, const char *kind,
                        const char *title, int64_t now_ms, int64_t *doc_id, nx_err *e)
{
    nx_date today = services_local_date(now_ms);
    char counter[32], serial[40];
    bool cert = strcmp(kind, "certificate") == 0;
    snprintf(counter, sizeof counter, "%s:%04d", cert ? "certificate" : "application_form", today.y);
    int64_t seq;
    int rc = services_counter_next(tx, counter, &seq, e);
    if (rc)
        return rc;
    snprintf(serial, sizeof serial, "%s%04d-%06lld", cert ? "ZM" : "SQ", today.y, (long long)seq);
    store_param p[] = {P_INT(app_id), P_INT(community), P_TEXT(kind), P_TEXT(title), P_TEXT(serial), P_INT(now_ms),
                       P_ID(who ? who->user_id : 0)};
    if ((rc = app_insert(tx, "service_documents",
                         "application_id, community_id, kind, title, serial, issued_at, issued_by",
                         p, 7, doc_id, e)))
        return rc;
    return audit_write_new(tx, who, "issue", "service_document", *doc_id, community,
                           json_pack("{s:s, s:s}", "kind", kind, "serial", serial), e);
}

int services_certificate_issue(store_tx *tx, const nx_principal *who, const services_item *it, int64_t app_id,
                               int64_t community, int64_t now_ms, nx_err *e)
{
    int64_t doc;
    const char *title = json_string_value(json_object_get(it->document, "title"));
    int rc = new_document(tx, who, app_id, community, "certificate", title ? title : it->name, now_ms, &doc, e);
    if (rc)
        return rc;
    return services_timeline(tx, who, app_id, community, "document_issued", "approved", "approved", NULL,
                             title, e);
}

/* ---- rendering ---- */

static void cn_date(int64_t ms, char *out, size_t cap)
{
    nx_date d = services_local_date(ms);
    snprintf(out, cap, "%d年%d月%d日", d.y, d.m, d.d);
}

static void cn_date_text(const char *iso, char *out, size_t cap)
{
    nx_date d;
    if (iso && date_parse(iso, &d) == 0)
        snprintf(out, cap, "%d年%d月%d日", d.y, d.m, d.d);
    else
        str_copy(out, iso ? iso : "", cap);
}

/* The printable value of a form field (masked when personal). */
static void form_value(const services_item *it, json_t *form, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    json_t *v = json_object_get(form, key);
    if (v == NULL || json_is_null(v))
        return;
    const char *type = "";
    size_t i;
    json_t *f;
    json_array_foreach(it->form, i, f) if (strcmp(json_string_value(json_object_get(f, "key")), key) == 0) type =
        json_string_value(json_object_get(f, "type"));
    if (json_is_number(v)) {
        snprintf(out, cap, "%g", json_number_value(v));
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(type, "id_number") == 0)
            mask_id(s, out, cap);
        else if (strcmp(type, "phone") == 0)
            mask_phone(s, out, cap);
        else if (services_field_is_account(key, type))
            services_mask_account(s, out, cap);
        else if (strcmp(type, "date") == 0)
            cn_date_text(s, out, cap);
        else
            str_copy(out, s, cap);
    }
}

/* Fill {placeholders} of tpl: name, sex, id_number, birth_date, community, date, then the keys of
 * ledger (may be NULL: the volunteer hours of a ledger certificate), then form keys. */
static int fill_template(const char *tpl, const services_item *it, const services_person *p, json_t *form,
                         json_t *ledger, int64_t now_ms, strbuf *b)
{
    for (const char *c = tpl; *c;) {
        const char *close = *c == '{' ? strchr(c, '}') : NULL;
        if (close == NULL || close - c > 41) {
            strbuf_append(b, c, 1);
            c++;
            continue;
        }
        char key[48], val[300] = "";
        memcpy(key, c + 1, (size_t)(close - c - 1));
        key[close - c - 1] = '\0';
        if (strcmp(key, "name") == 0)
            str_copy(val, p->name, sizeof val);
        else if (strcmp(key, "sex") == 0)
            str_copy(val, p->sex, sizeof val);
        else if (strcmp(key, "id_number") == 0)
            str_copy(val, p->id_masked, sizeof val);
        else if (strcmp(key, "birth_date") == 0)
            cn_date_text(p->birth, val, sizeof val);
        else if (strcmp(key, "community") == 0)
            str_copy(val, p->community_name, sizeof val);
        else if (strcmp(key, "date") == 0)
            cn_date(now_ms, val, sizeof val);
        else if (ledger && json_is_number(json_object_get(ledger, key)))
            snprintf(val, sizeof val, "%g", json_number_value(json_object_get(ledger, key)));
        else if (ledger && json_is_string(json_object_get(ledger, key)))
            str_copy(val, json_string_value(json_object_get(ledger, key)), sizeof val);
        else
            form_value(it, form, key, val, sizeof val);
        strbuf_puts(b, val);
        c = close + 1;
    }
    return b->overflow ? NX_ETOOBIG : 0;
}

int services_document_pdf(nx_app *app, const nx_principal *who, int64_t id, const char *kind,
                          unsigned char **pdf, size_t *len, char *filename, size_t fn_cap, nx_err *e)
{
    *pdf = NULL;
    *len = 0;
    if (!perm_has(who, RIGHT_SERVICE_APPLY) && !perm_has(who, RIGHT_SERVICE_REVIEW))
        return nx_fail(e, NX_EPERM, "", "无权打印文书");
    bool cert = kind && strcmp(kind, "certificate") == 0;
    if (!cert && !(kind && strcmp(kind, "application") == 0))
        return nx_fail(e, NX_EINVAL, "kind", "文书类型应为 application 或 certificate");
    int rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    services_app_row a = {0};
    services_item it = {0};
    services_person person;
    strbuf body;
    strbuf_init(&body, 8192);
    pdf_row *rows = NULL;
    char (*cells)[300] = NULL;
    char *plain = NULL;
    json_t *ledger = NULL;
    store_rows *r;
    if ((rc = services_app_load(app, tx, who, id, &a, e)))
        goto fail;
    int64_t item_id = a.item_id, community = a.community_id, resident = a.resident_id;
    int64_t submitted = a.submitted_at, decided = a.decided_at;
    bool proxy = a.proxy;
    const char *serial = a.serial, *status = a.status;
    json_t *form = a.form; /* borrowed from a */
    if ((rc = services_item_load(tx, item_id, &it, e)) ||
        (rc = services_person_load(app, tx, resident, &person, e)))
        goto fail;
    if (cert && (strcmp(status, "approved") != 0 || it.document == NULL)) {
        rc = strcmp(status, "approved") != 0 ? nx_fail(e, NX_ECONFLICT, "kind", "申请尚未办结，不能出具证明")
                                             : nx_fail(e, NX_ENOTFOUND, "kind", "该事项不出具证明文书");
        goto fail;
    }
    /* the document row: found, or created on first print */
    int64_t doc_id = 0, issued_at = 0;
    char doc_serial[40] = "", title[128];
    if (cert)
        str_copy(title, json_string_value(json_object_get(it.document, "title")), sizeof title);
    else
        snprintf(title, sizeof title, "%s申请表", it.name);
    store_param dp[] = {P_INT(id), P_TEXT(cert ? "certificate" : "application")};
    if ((rc = store_query(tx, "SELECT id, serial, issued_at FROM service_documents WHERE application_id = $1 AND kind = $2",
                          dp, 2, &r, e)))
        goto fail;
    if ((rc = store_first(r, NULL, e)) == 0) {
        doc_id = store_int(r, 0);
        str_copy(doc_serial, store_text(r, 1), sizeof doc_serial);
        issued_at = store_int(r, 2);
    }
    store_rows_free(r);
    if (rc == NX_ENOTFOUND) {
        rc = 0; /* not printed yet: created below */
        nx_err_clear(e);
    }
    if (rc)
        goto fail;
    int64_t now = clock_now_ms();
    if (doc_id == 0) {
        if ((rc = new_document(tx, who, id, community, cert ? "certificate" : "application", title, now, &doc_id, e)) ||
            (rc = store_one_text(tx, "SELECT serial FROM service_documents WHERE id = $1",
                                 (store_param[]){P_INT(doc_id)}, 1, &plain, e)))
            goto fail;
        str_copy(doc_serial, plain, sizeof doc_serial);
        free(plain);
        issued_at = now;
    }
    char code[64], url[600], serial_line[80], footer[200], issuer[200], date_s[40];
    services_document_code(app->keys, doc_id, doc_serial, id, cert ? "certificate" : "application", code, sizeof code);
    /* the link's base is configuration (public_url), never the request's Host: a forged Host would
     * otherwise print an attacker's address on a stamped certificate */
    snprintf(url, sizeof url, "%s/verify/%s", app->cfg->public_url, code);
    snprintf(serial_line, sizeof serial_line, "编号：%s", doc_serial);
    snprintf(issuer, sizeof issuer, "%s居民委员会", person.community_name);
    cn_date(cert ? issued_at : now, date_s, sizeof date_s);
    snprintf(footer, sizeof footer, "%s（盖章）  %s", issuer, date_s);

    /* a ledger certificate: the approved hours as the volunteers module has them now */
    const char *hours_from = cert ? json_string_value(json_object_get(it.document, "hours_from")) : NULL;
    if (hours_from && strcmp(hours_from, "volunteer_ledger") == 0) {
        /* no certificate of nothing: a resident who is no volunteer, or has no approved hours */
        if ((rc = volunteers_hours_of(tx, 0, resident, &ledger, e)) == NX_ENOTFOUND ||
            (rc == 0 && json_integer_value(json_object_get(ledger, "minutes")) <= 0)) {
            rc = nx_fail(e, NX_ECONFLICT, "kind", "没有经审核的志愿服务时长，不能出具志愿服务证明");
            goto fail;
        }
        if (rc)
            goto fail;
        json_object_set(ledger, "volunteer_number", json_object_get(ledger, "number"));
    }
    int cap = 12 + (int)json_array_size(it.form) + (ledger ? 2 + (int)json_array_size(json_object_get(ledger, "projects")) : 0);
    rows = calloc((size_t)cap, sizeof *rows);
    cells = calloc((size_t)cap, sizeof *cells);
    if (rows == NULL || cells == NULL) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto fail;
    }
    int nr = 0;
#define ROW(label_, ...)                                                                           \
    do {                                                                                           \
        snprintf(cells[nr], sizeof cells[nr], __VA_ARGS__);                                        \
        rows[nr].label = (label_);                                                                 \
        rows[nr].value = cells[nr];                                                                \
        nr++;                                                                                      \
    } while (0)
    if (cert) {
        const char *tpl = json_string_value(json_object_get(it.document, "body"));
        if ((rc = fill_template(tpl ? tpl : "", &it, &person, form, ledger, issued_at, &body)))
            goto fail;
        ROW("申请编号", "%s", serial);
        ROW("办理事项", "%s", it.name);
        ROW("办结日期", "%s", date_s);
        if (ledger) {
            ROW("志愿者编号", "%s", json_string_value(json_object_get(ledger, "volunteer_number")));
            ROW("累计服务时长", "%g 小时", json_number_value(json_object_get(ledger, "hours")));
            size_t i;
            json_t *pj;
            json_array_foreach(json_object_get(ledger, "projects"), i, pj) {
                if (nr >= cap)
                    break;
                snprintf(cells[nr], sizeof cells[nr], "%g 小时", json_number_value(json_object_get(pj, "hours")));
                rows[nr].label = json_string_value(json_object_get(pj, "title"));
                rows[nr].value = cells[nr];
                nr++;
            }
        }
    } else {
        char t1[40] = "", t2[40] = "";
        if (submitted)
            cn_date(submitted, t1, sizeof t1);
        if (decided)
            cn_date(decided, t2, sizeof t2);
        ROW("申请编号", "%s", serial);
        ROW("申请事项", "%s", it.name);
        ROW("申请人", "%s", person.name);
        ROW("性别", "%s", person.sex);
        ROW("身份证号", "%s", person.id_masked);
        ROW("所在社区", "%s", person.community_name);
        ROW("办理方式", "%s", proxy ? "社区代办" : "本人申请");
        ROW("办理状态", "%s", services_status_label(status));
        ROW("提交日期", "%s", t1);
        if (decided)
            ROW("办结日期", "%s", t2);
        size_t i;
        json_t *f;
        json_array_foreach(it.form, i, f) {
            if (nr >= cap)
                break;
            form_value(&it, form, json_string_value(json_object_get(f, "key")), cells[nr], sizeof cells[nr]);
            rows[nr].label = json_string_value(json_object_get(f, "label"));
            rows[nr].value = cells[nr];
            nr++;
        }
    }
#undef ROW
    pdf_form pf = {.issuer = issuer,
                   .title = title,
                   .serial = serial_line,
                   .body = body.len ? body.data : NULL,
                   .rows = rows,
                   .nrows = nr,
                   .footer = footer,
                   .qr_text = url,
                   .verify_code = code};
    if ((rc = audit_write_new(
             tx, who, "print", "service_document", doc_id, community,
             json_pack("{s:s, s:s}", "kind", cert ? "certificate" : "application", "serial", doc_serial),
             e)) ||
        (rc = pdf_render_form(&pf, pdf, len, e)))
        goto fail;
    if ((rc = store_commit(tx, e))) {
        free(*pdf);
        *pdf = NULL;
        tx = NULL;
        goto done;
    }
    snprintf(filename, fn_cap, "%s.pdf", doc_serial);
    tx = NULL;
    goto done;
fail:
    store_rollback(tx);
done:
    services_item_cleanup(&it);
    services_app_row_cleanup(&a);
    strbuf_cleanup(&body);
    json_decref(ledger);
    free(rows);
    free(cells);
    return rc;
}

/* ---- verification ---- */

int services_verify(nx_app *app, const char *code, json_t **out, nx_err *e)
{
    static const char fail_msg[] = "核验失败：文书核验码无效，或文书已被篡改";
    if (code == NULL || strlen(code) > 40)
        return nx_fail(e, NX_ENOTFOUND, "", fail_msg);
    const char *dash = strchr(code, '-');
    if (dash == NULL || strlen(dash + 1) != CODE_CHARS || dash - code > 18 || dash == code)
        return nx_fail(e, NX_ENOTFOUND, "", fail_msg);
    char idpart[24], given[CODE_CHARS + 1];
    memcpy(idpart, code, (size_t)(dash - code));
    idpart[dash - code] = '\0';
    for (int i = 0; i < CODE_CHARS; i++) {
        char c = dash[1 + i];
        if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
            return nx_fail(e, NX_ENOTFOUND, "", fail_msg);
        given[i] = c;
    }
    given[CODE_CHARS] = '\0';
    int64_t doc_id;
    if (idpart[0] == '0' || str_to_i64(idpart, 1, INT64_MAX, &doc_id) != 0)
        return nx_fail(e, NX_ENOTFOUND, "", fail_msg);
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    store_param p[] = {P_INT(doc_id)};
    if ((rc = store_query(tx,
                          "SELECT d.serial, d.application_id, d.kind, d.title, d.issued_at, d.revoked_at, c.name, "
                          "a.serial, a.status, i.name, res.name FROM service_documents d "
                          "JOIN communities c ON c.id = d.community_id "
                          "JOIN service_applications a ON a.id = d.application_id "
                          "JOIN service_items i ON i.id = a.item_id JOIN residents res ON res.id = a.resident_id "
                          "WHERE d.id = $1",
                          p, 1, &r, e))) {
        store_rollback(tx);
        return rc;
    }
    rc = store_first(r, fail_msg, e);
    if (rc && rc != NX_ENOTFOUND) {
        store_rows_free(r);
        store_rollback(tx);
        return rc;
    }
    bool found = rc == 0;
    char expect[CODE_CHARS + 1] = "";
    if (found)
        code_mac(app->keys, doc_id, store_text(r, 0), store_int(r, 1), store_text(r, 2), expect);
    else
        memset(expect, 'x', CODE_CHARS); /* compare anyway: same time for unknown ids */
    bool ok = crypto_equal(expect, given, CODE_CHARS) && found;
    if (!ok) {
        store_rows_free(r);
        store_rollback(tx);
        return nx_fail(e, NX_ENOTFOUND, "", fail_msg);
    }
    char holder[64];
    mask_name(store_text(r, 10), holder, sizeof holder);
    bool revoked = !store_isnull(r, 5);
    json_t *o = json_object();
    json_object_set_new(o, "valid", json_boolean(!revoked));
    json_object_set_new(o, "genuine", json_true());
    json_object_set_new(o, "revoked", json_boolean(revoked));
    json_object_set_new(o, "kind", json_string(store_text(r, 2)));
    json_object_set_new(o, "title", json_string(store_text(r, 3)));
    json_object_set_new(o, "serial", json_string(store_text(r, 0)));
    store_json_set(o, "issued_at", store_json_time, r, 4);
    char issued_on[32];
    cn_date(store_int(r, 4), issued_on, sizeof issued_on);
    json_object_set_new(o, "issued_on", json_string(issued_on));
    json_object_set_new(o, "community", json_string(store_text(r, 6)));
    json_object_set_new(o, "application_serial", json_string(store_text(r, 7)));
    json_object_set_new(o, "application_status", json_string(store_text(r, 8)));
    json_object_set_new(o, "application_status_label", json_string(services_status_label(store_text(r, 8))));
    json_object_set_new(o, "item", json_string(store_text(r, 9)));
    json_object_set_new(o, "holder", json_string(holder));
    json_object_set_new(o, "message", json_string(revoked ? "文书真实，但已被撤销" : "文书真实有效，由暖心平台签发"));
    store_rows_free(r);
    store_rollback(tx);
    *out = o;
    return 0;
}
