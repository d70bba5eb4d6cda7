/* test_services.c — the service hall's rules under a controlled clock, on a real migrated SQLite
 * store (module_test.h; SQLite only: the fixtures are written in SQLite's spelling): allowance tiers
 * by month (the 90th birthday moves a recipient to the next tier in the month after it, not
 * before), the sweep's tier change, stop with months to recover, and escalation of an overdue step
 * (each idempotent), the coming-of-age list for next month, form-schema checks, the monthly roster
 * that is complete or fails (a read failing on its second row leaves no file and no audit entry),
 * document codes that verify and fail when altered, the QR encoder and the PDF writer. Expected
 * values are worked out by hand from the dates used. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/services/services.h"
#include "modules/services/services_internal.h"
#include "report/pdf.h"
#include "report/qr.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"

/* Text found only in the roster's query (allowance.c), for NX_STORE_FAULT. */
#define ROSTER_QUERY_TEXT "ar.stop_date, ar.id, ar.community_id FROM allowance_recipients"

static const nx_principal admin = {.user_id = 0, .username = "admin", .role = ROLE_ADMIN, .scope = SCOPE_ALL};

/* Epoch ms of a Shanghai wall-clock time. */
static int64_t sh_ms(int y, int m, int d, int hh, int mm)
{
    return date_to_days((nx_date){y, m, d}) * 86400000LL - NX_TZ_OFFSET_MS + (hh * 3600LL + mm * 60LL) * 1000;
}

static int setup(void)
{
    if (tb_app_open("svc.db", NULL, "svc"))
        return -1;
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", tb_dir);
    /* Residents with the columns the rules read; ciphertext and keys are placeholders. */
    return exec_w(
        "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
        "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
        "INSERT INTO residents (id, community_id, name, name_s, name_pinyin, name_initials, sort_key, sex, "
        "birth_date, id_enc, id_bidx, id_tail, created_at, updated_at, status, deceased_on) VALUES "
        "(1, 1, '王寿山', '王寿山', 'wangshoushan', 'wss', x'01', 1, '1936-03-15', x'00', x'01', '0001', 0, 0, 'active', NULL),"
        "(2, 1, '赵桂芝', '赵桂芝', 'zhaoguizhi', 'zgz', x'02', 2, '1941-02-02', x'00', x'02', '0002', 0, 0, 'deceased', '2026-01-15'),"
        "(3, 1, '孙立新', '孙立新', 'sunlixin', 'slx', x'03', 1, '1946-05-10', x'00', x'03', '0003', 0, 0, 'active', NULL),"
        "(4, 1, '钱月华', '钱月华', 'qianyuehua', 'qyh', x'04', 2, '1946-04-10', x'00', x'04', '0004', 0, 0, 'active', NULL),"
        "(5, 1, '李百岁', '李百岁', 'libaisui', 'lbs', x'05', 1, '1926-05-31', x'00', x'05', '0005', 0, 0, 'active', NULL);"
        "INSERT INTO allowance_recipients (id, resident_id, community_id, region, tier_age, monthly_amount, "
        "start_month, status, created_at, updated_at) VALUES "
        "(1, 1, 1, 'default', 80, 10000, '2025-01', 'active', 0, 0),"
        "(2, 2, 1, 'default', 80, 10000, '2025-06', 'active', 0, 0);");
}

static void teardown(void)
{
    store_close(app.db);
    keys_free(app.keys);
}

static void test_tier_rules(void)
{
    services_allowance_tier t[3] = {{80, 10000}, {90, 30000}, {100, 100000}};
    nx_date b = {1936, 3, 15}; /* 90 on 2026-03-15 */
    CHECK_INT(services_allowance_tier_for_month(t, 3, b, 2026, 3),
              0); /* the birthday month still pays the 80 tier */
    CHECK_INT(services_allowance_tier_for_month(t, 3, b, 2026, 4), 1); /* the month after: 90 */
    CHECK_INT(services_allowance_tier_for_month(t, 3, b, 2026, 2), 0);
    nx_date b79 = {1946, 5, 31};
    CHECK_INT(services_allowance_tier_for_month(t, 3, b79, 2026, 5), -1); /* 79 on 30 April */
    CHECK_INT(services_allowance_tier_for_month(t, 3, b79, 2026, 6), 0);  /* 80 on 31 May */
    nx_date b100 = {1926, 1, 1};
    CHECK_INT(services_allowance_tier_for_month(t, 3, b100, 2026, 1), 1); /* 99 on 31 December */
    CHECK_INT(services_allowance_tier_for_month(t, 3, b100, 2026, 2), 2);
    CHECK_INT(services_allowance_tier_for_month(t, 3, b, 2026, 13), -1);
    CHECK_INT(services_allowance_month_diff(2025, 11, 2026, 2), 3);
    int y = 0, m = 0;
    CHECK_INT(services_month_parse("2026-04", &y, &m), 0);
    CHECK_INT(y * 100 + m, 202604);
    CHECK_INT(services_month_parse("2026-13", &y, &m), NX_EINVAL);
    CHECK_INT(services_month_parse("2026-4", &y, &m), NX_EINVAL);
    CHECK_INT(services_month_parse("1899-12", &y, &m), NX_EINVAL);
    CHECK_INT(services_month_parse(NULL, &y, &m), NX_EINVAL);
    CHECK_INT(services_allowance_month_diff(2026, 2, 2025, 11), -3);
    CHECK_INT(services_allowance_month_diff(2026, 4, 2026, 4), 0);
}

static void test_sweep_tier_change_at_90(void)
{
    nx_err e = {0};
    json_t *s = NULL;
    /* 20 March 2026: he turned 90 on the 15th, the 80 tier still applies this month */
    clock_pin_ms(sh_ms(2026, 3, 20, 12, 0));
    CHECK_INT(services_sweep(&app, NULL, clock_now_ms(), &s, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(s, "tier_changes")), 0);
    json_decref(s);
    CHECK_INT(q_int("SELECT tier_age FROM allowance_recipients WHERE id = 1"), 80);
    /* 1 April 2026, 00:30 in Shanghai (still 31 March in UTC): the 90 tier */
    clock_pin_ms(sh_ms(2026, 4, 1, 0, 30));
    CHECK_INT(services_sweep(&app, NULL, clock_now_ms(), &s, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(s, "tier_changes")), 1);
    json_decref(s);
    CHECK_INT(q_int("SELECT tier_age FROM allowance_recipients WHERE id = 1"), 90);
    CHECK_INT(q_int("SELECT monthly_amount FROM allowance_recipients WHERE id = 1"), 30000);
    char *m = q_text("SELECT effective_month FROM allowance_changes WHERE recipient_id = 1 AND kind = 'tier'");
    CHECK_STR(m, "2026-04");
    free(m);
    /* the resident hears of it through the message service (default rule of migration 030): the
     * event names the change whose note the message reads */
    CHECK_INT(q_int("SELECT count(*) FROM events e JOIN allowance_changes c ON e.subject = 'allowance_change:' || c.id "
                  "WHERE e.kind = 'services.allowance.tier_changed' AND c.recipient_id = 1 AND c.kind = 'tier' AND "
                  "e.payload LIKE '%\"resident_id\":1%'"),
              1);
    /* idempotent */
    CHECK_INT(services_sweep(&app, NULL, clock_now_ms(), &s, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(s, "tier_changes")), 0);
    json_decref(s);
    CHECK_INT(q_int("SELECT count(*) FROM allowance_changes WHERE recipient_id = 1"), 1);
}

static void test_sweep_stop_on_death(void)
{
    /* resident 2 died on 15 January 2026; the first sweep (20 March) stopped the allowance: February
     * and March had been paid, at 100 yuan (the 80 tier) each */
    CHECK_INT(q_int("SELECT count(*) FROM allowance_recipients WHERE id = 2 AND status = 'stopped'"), 1);
    CHECK_INT(q_int("SELECT recover_months FROM allowance_recipients WHERE id = 2"), 2);
    CHECK_INT(q_int("SELECT recover_amount FROM allowance_recipients WHERE id = 2"), 20000);
    char *s = q_text("SELECT stop_reason FROM allowance_recipients WHERE id = 2");
    CHECK_STR(s, "deceased");
    free(s);
    s = q_text("SELECT paid_through FROM allowance_recipients WHERE id = 2");
    CHECK_STR(s, "2026-03");
    free(s);
    CHECK_INT(q_int("SELECT count(*) FROM events e JOIN allowance_changes c ON e.subject = 'allowance_change:' || c.id "
                  "WHERE e.kind = 'services.allowance.stopped' AND e.community_id = 1 AND c.recipient_id = 2 AND "
                  "c.kind = 'stop'"),
              1);
}

static void test_escalation(void)
{
    int64_t now = sh_ms(2026, 4, 10, 9, 0);
    clock_pin_ms(now);
    char sql[800];
    snprintf(sql, sizeof sql,
             "INSERT INTO service_applications (id, serial, item_id, community_id, resident_id, status, step, step_code, "
             "step_role, due_at, submitted_at, created_at, updated_at) VALUES (1, 'FW202604010001', 3, 1, 3, "
             "'in_review', 0, 'community', 'community', %lld, %lld, %lld, %lld), (2, 'FW202604010002', 3, 1, 4, "
             "'in_review', 0, 'community', 'community', %lld, %lld, %lld, %lld)",
             (long long)(now - 3600000), (long long)(now - 4 * 86400000LL), (long long)(now - 4 * 86400000LL),
             (long long)(now - 4 * 86400000LL), (long long)(now + 2 * 86400000LL), (long long)now, (long long)now,
             (long long)now);
    CHECK_INT(exec_w(sql), 0);
    nx_err e = {0};
    json_t *s = NULL;
    CHECK_INT(services_sweep(&app, NULL, now, &s, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(s, "escalated")), 1);
    json_decref(s);
    CHECK_INT(q_int("SELECT count(*) FROM service_timeline WHERE application_id = 1 AND action = 'escalated'"), 1);
    CHECK_INT(q_int("SELECT count(*) FROM events WHERE kind = 'services.application.overdue'"), 1);
    char *payload = q_text("SELECT payload FROM events WHERE kind = 'services.application.overdue'");
    /* what the message service's rule needs to reach the next in the review chain and say which */
    CHECK_STR(payload ? payload : "",
              "{\"application_id\":1,\"resident_id\":3,\"status\":\"in_review\",\"serial\":\"FW202604010001\","
              "\"title\":\"居住证明\",\"step_name\":\"社区受理审核\",\"step_role\":\"community\"}");
    free(payload);
    CHECK_INT(services_sweep(&app, NULL, now, &s, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(s, "escalated")), 0);
    json_decref(s);
    /* statistics see one overdue of two waiting */
    json_t *st = NULL;
    CHECK_INT(services_stats(&app, &admin, now, &st, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(st, "waiting")), 2);
    CHECK_INT(json_integer_value(json_object_get(st, "overdue")), 1);
    json_decref(st);
    /* a staff member of the community sees the overdue one in the overdue list */
    nx_principal staff = {.user_id = 9, .username = "s", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                          .street_id = 1, .community_id = 1};
    services_query q = {.overdue = true, .limit = 10};
    json_t *page = NULL;
    CHECK_INT(services_app_list(&app, &staff, &q, &page, &e), 0);
    CHECK_INT(json_array_size(json_object_get(page, "items")), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(page, "items"), 0), "due_state")),
              "overdue");
    json_decref(page);
}

static void test_coming_of_age(void)
{
    nx_err e = {0};
    json_t *out = NULL;
    /* 15 April 2026: next month is May; 孙立新 (1946-05-10) turns 80, 李百岁 (1926-05-31) turns 100;
     * 钱月华 (1946-04-10) turned 80 this month and is not listed */
    CHECK_INT(services_coming_of_age(&app, &admin, sh_ms(2026, 4, 15, 10, 0), &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "month")), "2026-05");
    json_t *items = json_object_get(out, "items");
    CHECK_INT(json_array_size(items), 2);
    json_t *a = json_array_get(items, 0), *b = json_array_get(items, 1);
    CHECK_INT(json_integer_value(json_object_get(a, "resident_id")), 5);
    CHECK_INT(json_integer_value(json_object_get(a, "turning")), 100);
    CHECK_STR(json_string_value(json_object_get(a, "birthday")), "2026-05-31");
    CHECK_INT(json_integer_value(json_object_get(a, "monthly_amount")), 100000);
    CHECK_INT(json_integer_value(json_object_get(b, "resident_id")), 3);
    CHECK_INT(json_integer_value(json_object_get(b, "turning")), 80);
    json_decref(out);
    nx_principal resident = {.user_id = 7, .role = ROLE_RESIDENT, .scope = SCOPE_SELF, .resident_id = 3};
    CHECK_INT(services_coming_of_age(&app, &resident, clock_now_ms(), &out, &e), NX_EPERM);
}

/* The roster is every entitled recipient or nothing. The process runs with NX_STORE_FAULT naming the
 * roster's query (main), so its third read step fails as a lost connection: a month with three
 * recipients stops after two rows, and the export answers NX_EBUSY, writes no audit entry and leaves
 * no file — never a short roster recorded as complete. A month with one recipient (its read ends at
 * the second step, before the fault) is exported and audited. */
static void test_roster_complete_or_nothing(void)
{
    const nx_principal exporter = {.user_id = 0, .username = "admin", .role = ROLE_ADMIN, .scope = SCOPE_ALL};
    char path[600];
    snprintf(path, sizeof path, "%s/roster.xlsx", tb_dir);
    const char *audits = "SELECT count(*) FROM audit_log WHERE action = 'export' AND object_type = 'allowance_roster'";
    int64_t before = q_int(audits), rows = -1;
    nx_err e = {0};
    CHECK_INT(exec_w("INSERT INTO allowance_recipients (id, resident_id, community_id, region, tier_age, "
                     "monthly_amount, start_month, status, created_at, updated_at) VALUES "
                     "(3, 5, 1, 'default', 90, 30000, '2025-05', 'active', 0, 0)"),
              0);
    /* 2025-03: only 王寿山 (from 2025-01) */
    CHECK_INT(services_allowance_roster(&app, &exporter, 2025, 3, path, &rows, &e), 0);
    CHECK_INT((int)rows, 1);
    CHECK(access(path, F_OK) == 0);
    CHECK_INT((int)q_int(audits), (int)(before + 1));
    unlink(path);
    /* 2025-07 with room for one row: refused, not cut (before the fault is reached) */
    int64_t cap = cfg.export_max_rows;
    cfg.export_max_rows = 1;
    CHECK_INT(services_allowance_roster(&app, &exporter, 2025, 7, path, &rows, &e), NX_ETOOBIG);
    cfg.export_max_rows = cap;
    CHECK(access(path, F_OK) != 0);
    CHECK_INT((int)q_int(audits), (int)(before + 1));
    /* 2025-07: three recipients; the third row fails */
    rows = -1;
    CHECK_INT(services_allowance_roster(&app, &exporter, 2025, 7, path, &rows, &e), NX_EBUSY);
    CHECK_INT((int)rows, 0);
    CHECK(access(path, F_OK) != 0);
    CHECK_INT((int)q_int(audits), (int)(before + 1));
}

static void test_form_check(void)
{
    json_error_t je;
    json_t *schema = json_loads(
        "[{\"key\":\"purpose\",\"label\":\"证明用途\",\"type\":\"choice\",\"required\":true,\"options\":[\"就业\",\"入学\"]},"
        "{\"key\":\"since\",\"label\":\"起始日期\",\"type\":\"date\",\"required\":true,\"not_future\":true},"
        "{\"key\":\"copies\",\"label\":\"份数\",\"type\":\"number\",\"min\":1,\"max\":5},"
        "{\"key\":\"idn\",\"label\":\"配偶身份证号\",\"type\":\"id_number\"},"
        "{\"key\":\"tel\",\"label\":\"电话\",\"type\":\"phone\"},"
        "{\"key\":\"acct\",\"label\":\"账号\",\"type\":\"text\",\"min_len\":4,\"max_len\":8,\"digits\":true}]",
        0, &je);
    CHECK(schema != NULL);
    nx_date today = {2026, 4, 10};
    json_t *p = json_array();
    /* a draft may be incomplete */
    json_t *v = json_pack("{}");
    CHECK_INT(services_form_check(schema, v, false, today, p), 0);
    CHECK_INT(services_form_check(schema, v, true, today, p), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(p, 0), "field")), "form.purpose");
    CHECK_STR(json_string_value(json_object_get(json_array_get(p, 0), "message")), "请填写“证明用途”");
    json_decref(v);
    json_array_clear(p);
    v = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:i}", "purpose", "买房", "since", "2026-04-11", "copies", 6, "idn",
                  "110105194503120311", "tel", "12345", "acct", "12a4", "extra", 1);
    CHECK_INT(services_form_check(schema, v, true, today, p), 7);
    json_decref(v);
    json_array_clear(p);
    v = json_pack("{s:s, s:s, s:i, s:s, s:s}", "purpose", "就业", "since", "2026-04-10", "copies", 2, "tel",
                  "138 0013 8000", "acct", "12345678");
    CHECK_INT(services_form_check(schema, v, true, today, p), 0);
    json_decref(v);
    v = json_pack("[]");
    CHECK_INT(services_form_check(schema, v, false, today, p), 1);
    json_decref(v);
    json_decref(p);
    json_decref(schema);
}

static void test_document_codes(void)
{
    CHECK_INT(exec_w("INSERT INTO service_documents (id, application_id, community_id, kind, title, serial, issued_at) "
                     "VALUES (7, 1, 1, 'certificate', '居住证明', 'ZM2026-000007', 0)"),
              0);
    char code[64];
    services_document_code(app.keys, 7, "ZM2026-000007", 1, "certificate", code, sizeof code);
    CHECK(strncmp(code, "7-", 2) == 0 && strlen(code) == 18);
    nx_err e = {0};
    json_t *out = NULL;
    CHECK_INT(services_verify(&app, code, &out, &e), 0);
    CHECK(json_is_true(json_object_get(out, "valid")));
    CHECK_STR(json_string_value(json_object_get(out, "community")), "暖心社区");
    CHECK_STR(json_string_value(json_object_get(out, "serial")), "ZM2026-000007");
    json_decref(out);
    /* the same serial under another kind or application gives another code */
    char other[64];
    services_document_code(app.keys, 7, "ZM2026-000007", 1, "application", other, sizeof other);
    CHECK(strcmp(other, code) != 0);
    CHECK_INT(services_verify(&app, other, &out, &e), NX_ENOTFOUND);
    char altered[64];
    snprintf(altered, sizeof altered, "%s", code);
    altered[5] = altered[5] == 'a' ? 'b' : 'a';
    CHECK_INT(services_verify(&app, altered, &out, &e), NX_ENOTFOUND);
    snprintf(altered, sizeof altered, "8%s", code + 1);
    CHECK_INT(services_verify(&app, altered, &out, &e), NX_ENOTFOUND);
    CHECK_INT(services_verify(&app, "7-AAAAAAAAAAAAAAAA", &out, &e), NX_ENOTFOUND);
    CHECK_INT(services_verify(&app, "07-aaaaaaaaaaaaaaaa", &out, &e), NX_ENOTFOUND);
    CHECK_INT(services_verify(&app, "", &out, &e), NX_ENOTFOUND);
    CHECK_INT(services_verify(&app, NULL, &out, &e), NX_ENOTFOUND);
    /* a revoked document is genuine but not valid */
    CHECK_INT(exec_w("UPDATE service_documents SET revoked_at = 1 WHERE id = 7"), 0);
    CHECK_INT(services_verify(&app, code, &out, &e), 0);
    CHECK(json_is_false(json_object_get(out, "valid")) && json_is_true(json_object_get(out, "genuine")));
    json_decref(out);
}

static int dark(const qr_matrix *m, int r, int c)
{
    return m->modules[r * m->width + c];
}

/* A finder pattern at (r, c): a dark 7x7 ring, a light ring inside it, a dark 3x3 centre. */
static int finder_at(const qr_matrix *m, int r, int c)
{
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++) {
            int ring = i == 0 || i == 6 || j == 0 || j == 6;
            int inner = i >= 2 && i <= 4 && j >= 2 && j <= 4;
            if (dark(m, r + i, c + j) != (ring || inner))
                return 0;
        }
    return 1;
}

static void test_qr(void)
{
    qr_matrix m;
    nx_err e = {0};
    CHECK_INT(qr_encode("http://127.0.0.1:8080/verify/12-abcdefghijklmnop", &m, &e), 0);
    CHECK_INT(m.width, 21 + 4 * (m.version - 1));
    CHECK(m.version >= 3 && m.version <= 5);
    CHECK(finder_at(&m, 0, 0));
    CHECK(finder_at(&m, 0, m.width - 7));
    CHECK(finder_at(&m, m.width - 7, 0));
    CHECK(!finder_at(&m, m.width - 7, m.width - 7)); /* only three corners have one */
    /* timing pattern on row 6 alternates between the finders */
    int alt = 1;
    for (int c = 8; c < m.width - 8; c++)
        alt = alt && dark(&m, 6, c) == (c % 2 == 0);
    CHECK(alt);
    qr_matrix m2;
    CHECK_INT(qr_encode("http://127.0.0.1:8080/verify/12-abcdefghijklmnop", &m2, &e), 0);
    CHECK(m2.width == m.width && memcmp(m.modules, m2.modules, (size_t)(m.width * m.width)) == 0);
    qr_free(&m2);
    qr_free(&m);
    CHECK_INT(qr_encode("", &m, &e), NX_EINVAL);
    char big[QR_TEXT_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(qr_encode(big, &m, &e), NX_EINVAL);
    qr_free(NULL);
}

static void test_pdf(void)
{
    if (pdf_font_path() == NULL) {
        fprintf(stderr, "note: fonts-wqy-zenhei not installed, PDF test skipped\n");
        return;
    }
    pdf_row rows[] = {{"姓名", "王寿山"}, {"身份证号", "3701**********1234"}, {"备注", NULL}};
    pdf_form f = {.issuer = "暖心社区居民委员会", .title = "居住证明", .serial = "编号：ZM2026-000007",
                  .body = "兹证明王寿山自2010年起在本社区居住至今。\n特此证明。", .rows = rows, .nrows = 3,
                  .footer = "暖心社区居民委员会（盖章）", .qr_text = "http://x/verify/7-abc", .verify_code = "7-abc"};
    unsigned char *pdf = NULL;
    size_t len = 0;
    nx_err e = {0};
    CHECK_INT(pdf_render_form(&f, &pdf, &len, &e), 0);
    CHECK(len > 1000 && pdf && memcmp(pdf, "%PDF-", 5) == 0);
    CHECK(pdf && len > 6 && memmem(pdf, len, "%%EOF", 5) != NULL);
    free(pdf);
    f.title = NULL;
    CHECK_INT(pdf_render_form(&f, &pdf, &len, &e), NX_EINVAL);
    f.title = "\xff\xfe";
    CHECK_INT(pdf_render_form(&f, &pdf, &len, &e), NX_EINVAL);
}

/* The eligibility rules decided by a count (catalogue.c count_rule): a tag the resident must have
 * fails when none is found, "not receiving" fails when an active allowance is found; each with its
 * own message, and nothing added when the rule holds. */
static void test_count_rules(void)
{
    CHECK_INT(exec_w("INSERT INTO tags (id, code, name, created_at) VALUES (900, 'kit10_tag', '测试标记', 0)"), 0);
    services_item it = {.id = 1};
    it.eligibility = json_pack("[{s:s, s:s}, {s:s}]", "rule", "tag", "value", "kit10_tag", "rule", "not_receiving");
    services_person p1 = {.id = 1}, p3 = {.id = 3};
    snprintf(p1.status, sizeof p1.status, "active");
    snprintf(p3.status, sizeof p3.status, "active");
    store_tx *tx;
    nx_err e = {0};
    CHECK_INT(store_begin(app.db, STORE_READ, &tx, &e), 0);
    json_t *problems = json_array();
    /* resident 1: no tag, an active allowance (setup) — both rules fail */
    services_eligibility(tx, &it, &p1, 0, (nx_date){2026, 3, 1}, problems, &e);
    CHECK_INT((int)json_array_size(problems), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(problems, 0), "rule")), "tag");
    CHECK_STR(json_string_value(json_object_get(json_array_get(problems, 0), "message")),
              "申请人不具有“kit10_tag”身份标记，请先由社区核实登记");
    CHECK_STR(json_string_value(json_object_get(json_array_get(problems, 1), "message")),
              "申请人已在享受高龄津贴，无需重复申请");
    json_array_clear(problems);
    store_rollback(tx);
    /* resident 3 with the tag and no allowance: both hold */
    CHECK_INT(exec_w("INSERT INTO resident_tags (resident_id, tag_id, created_at) VALUES (3, 900, 0)"), 0);
    CHECK_INT(store_begin(app.db, STORE_READ, &tx, &e), 0);
    services_eligibility(tx, &it, &p3, 0, (nx_date){2026, 3, 1}, problems, &e);
    CHECK_INT((int)json_array_size(problems), 0);
    store_rollback(tx);
    CHECK_INT(exec_w("DELETE FROM resident_tags WHERE tag_id = 900; DELETE FROM tags WHERE id = 900"), 0);
    json_decref(problems);
    json_decref(it.eligibility);
}

/* The no_open_application rule (catalogue.c): an applicant with an application of the same item in
 * review or returned for correction is refused with the rule's message; one whose applications of
 * the item are all closed (approved, rejected, withdrawn), or open only for another item, is
 * accepted; and the application being resubmitted (exclude_app) does not count against itself. */
static void test_no_open_application(void)
{
    services_item it = {.id = 1};
    it.eligibility = json_pack("[{s:s}]", "rule", "no_open_application");
    services_person p4 = {.id = 4};
    snprintf(p4.status, sizeof p4.status, "active");
    nx_err e = {0};
    int64_t other = q_int("SELECT MIN(id) FROM service_items WHERE id <> 1");
    CHECK(other > 1);
    char sql[1024];
    /* resident 4: closed applications of item 1, an open one of another item */
    snprintf(sql, sizeof sql,
             "INSERT INTO service_applications (id, serial, item_id, community_id, resident_id, status, created_at, "
             "updated_at) VALUES (9101, 'T9101', 1, 1, 4, 'approved', 0, 0), (9102, 'T9102', 1, 1, 4, 'rejected', 0, "
             "0), (9103, 'T9103', 1, 1, 4, 'withdrawn', 0, 0), (9104, 'T9104', %lld, 1, 4, 'in_review', 0, 0)",
             (long long)other);
    CHECK_INT(exec_w(sql), 0);
    const char *const open[] = {"in_review", "returned"};
    json_t *problems = json_array();
    store_tx *tx;
    CHECK_INT(store_begin(app.db, STORE_READ, &tx, &e), 0);
    CHECK_INT(services_eligibility(tx, &it, &p4, 0, (nx_date){2026, 3, 1}, problems, &e), 0);
    CHECK_INT((int)json_array_size(problems), 0);
    store_rollback(tx);
    for (int i = 0; i < 2; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO service_applications (id, serial, item_id, community_id, resident_id, status, created_at, "
                 "updated_at) VALUES (9105, 'T9105', 1, 1, 4, '%s', 0, 0)",
                 open[i]);
        CHECK_INT(exec_w(sql), 0);
        CHECK_INT(store_begin(app.db, STORE_READ, &tx, &e), 0);
        CHECK_INT(services_eligibility(tx, &it, &p4, 0, (nx_date){2026, 3, 1}, problems, &e), 1);
        CHECK_STR(json_string_value(json_object_get(json_array_get(problems, 0), "rule")), "no_open_application");
        CHECK_STR(json_string_value(json_object_get(json_array_get(problems, 0), "message")),
                  "申请人已有一件同类申请正在办理中");
        json_array_clear(problems);
        /* resubmitting that very application: it does not count against itself */
        CHECK_INT(services_eligibility(tx, &it, &p4, 9105, (nx_date){2026, 3, 1}, problems, &e), 0);
        store_rollback(tx);
        CHECK_INT(exec_w("DELETE FROM service_applications WHERE id = 9105"), 0);
    }
    CHECK_INT(exec_w("DELETE FROM service_applications WHERE id BETWEEN 9101 AND 9105"), 0);
    json_decref(problems);
    json_decref(it.eligibility);
}

int main(void)
{
    /* Read before the first store_open: the roster query's second row fails (test_roster_...). */
    setenv("NX_STORE_FAULT", ROSTER_QUERY_TEXT "@3", 1);
    if (tb_init("nx_test_services") != 0 || setup() != 0) {
        fprintf(stderr, "setup failed\n");
        tb_cleanup();
        return 1;
    }
    TEST_RUN(test_tier_rules);
    TEST_RUN(test_sweep_tier_change_at_90);
    TEST_RUN(test_sweep_stop_on_death);
    TEST_RUN(test_escalation);
    TEST_RUN(test_coming_of_age);
    TEST_RUN(test_roster_complete_or_nothing);
    TEST_RUN(test_form_check);
    TEST_RUN(test_count_rules);
    TEST_RUN(test_no_open_application);
    TEST_RUN(test_document_codes);
    TEST_RUN(test_qr);
    TEST_RUN(test_pdf);
    clock_pin_ms(0);
    teardown();
    tb_cleanup();
    return TEST_DONE();
}
