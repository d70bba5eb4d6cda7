/* test_library.c — the library's rules (library.c, library_loans.c) on a real, migrated store, on
 * SQLite and (with NX_TEST_PG) on PostgreSQL.
 *
 * Fixture: community A with three residents (王建国, 欧阳秀英, 李梅) and community B with one (赵强),
 * staff of each, and a resident account bound to 王建国. The tests check ISBN check digits, that a
 * copy on loan cannot be lent again — also when the code's own check is bypassed, so that it is the
 * database's unique index that refuses — that holds are served in the order placed and a hold not
 * collected passes to the next in line (the ticker at a pinned later instant), that a late return
 * blocks instead of fining, and that the drift page names people only as 王某. Expected values are
 * worked out by hand from the rows made here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"
#include "modules/library/library.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"


enum { COMM_A = 1, COMM_B = 2, R_WANG = 1, R_OUYANG = 2, R_LI = 3, R_ZHAO = 4 };

static const nx_principal staff_a = {.user_id = 1, .username = "staff_a", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                                     .street_id = 1, .community_id = COMM_A};
static const nx_principal staff_b = {.user_id = 2, .username = "staff_b", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                                     .street_id = 1, .community_id = COMM_B};
static const nx_principal wang = {.user_id = 3, .username = "wang", .role = ROLE_RESIDENT, .scope = SCOPE_SELF,
                                  .community_id = COMM_A, .resident_id = R_WANG};
static const nx_principal li = {.user_id = 4, .username = "li", .role = ROLE_RESIDENT, .scope = SCOPE_SELF,
                                .community_id = COMM_A, .resident_id = R_LI};

static int setup(void)
{
    if (tb_app_open("library.db", NULL, NULL))
        return -1;
    const char *b00 = tb_pg() ? "'\\x00'::bytea" : "X'00'";
    char bidx[4][24];
    for (int i = 0; i < 4; i++)
        snprintf(bidx[i], sizeof bidx[i], tb_pg() ? "'\\x0%d'::bytea" : "X'0%d'", i + 1);
    char sql[4000];
    char res[4][400];
    const char *names[] = {"王建国", "欧阳秀英", "李梅", "赵强"};
    for (int i = 0; i < 4; i++)
        snprintf(res[i], sizeof res[i],
                 "INSERT INTO residents (id, community_id, name, name_s, name_pinyin, name_initials, sort_key, sex, "
                 "birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES (%d, %d, '%s', '%s', 'x', 'x', "
                 "%s, 1, '1950-01-01', %s, %s, '', 0, 0);",
                 i + 1, i == 3 ? COMM_B : COMM_A, names[i], names[i], b00, b00, bidx[i]);
    snprintf(sql, sizeof sql,
             "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
             "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
             "INSERT INTO communities (id, street_id, name, created_at) VALUES (2, 1, '和平社区', 0);"
             "%s%s%s%s"
             "INSERT INTO users (id, username, display_name, role, scope, community_id, password_hash, created_at, "
             "updated_at) VALUES (1, 'staff_a', '甲', 'staff', 'community', 1, 'x', 0, 0), "
             "(2, 'staff_b', '乙', 'staff', 'community', 2, 'x', 0, 0);",
             res[0], res[1], res[2], res[3]);
    int rc = exec_w(sql);
    if (rc == 0 && tb_pg())
        rc = exec_w("SELECT setval(pg_get_serial_sequence('streets', 'id'), 1);"
                    "SELECT setval(pg_get_serial_sequence('communities', 'id'), 2);"
                    "SELECT setval(pg_get_serial_sequence('residents', 'id'), 4);"
                    "SELECT setval(pg_get_serial_sequence('users', 'id'), 2);");
    return rc;
}

static void teardown(void)
{
    clock_pin_ms(0);
    store_close(app.db);
    app.db = NULL;
}

static int64_t add_book(const nx_principal *who, const char *json)
{
    json_t *in = json_loads(json, 0, NULL);
    int64_t id = 0;
    nx_err e = {0};
    int rc = library_book_create(&app, who, in, &id, &e);
    if (rc)
        fprintf(stderr, "add_book: %s (%s)\n", e.msg, e.field);
    json_decref(in);
    return rc ? rc : id;
}

static int64_t add_copy(int64_t book, const char *kind, const char *code)
{
    json_t *in = json_pack("{s:I, s:s, s:s}", "book_id", (json_int_t)book, "kind", kind, "code", code);
    int64_t id = 0;
    nx_err e = {0};
    int rc = library_copy_create(&app, &staff_a, in, &id, &e);
    if (rc)
        fprintf(stderr, "add_copy: %s\n", e.msg);
    json_decref(in);
    return rc ? rc : id;
}

static int lend(const char *code, int64_t resident, int64_t *loan, nx_err *e)
{
    json_t *in = json_pack("{s:s, s:I}", "code", code, "resident_id", (json_int_t)resident);
    int64_t id = 0;
    int rc = library_loan_create(&app, &staff_a, in, &id, e);
    json_decref(in);
    if (loan)
        *loan = id;
    return rc;
}

static int hold(const nx_principal *who, int64_t book, int64_t resident, int64_t *id, nx_err *e)
{
    json_t *in = resident ? json_pack("{s:I, s:I}", "book_id", (json_int_t)book, "resident_id", (json_int_t)resident)
                          : json_pack("{s:I}", "book_id", (json_int_t)book);
    int rc = library_hold_create(&app, who, in, id, e);
    json_decref(in);
    return rc;
}

static void test_isbn(void)
{
    char out[14];
    nx_err e = {0};
    CHECK_INT(library_isbn_normalize("978-7-02-000220-7", out, &e), 0);
    CHECK_STR(out, "9787020002207");
    CHECK_INT(library_isbn_normalize("7-02-000220-X", out, &e), 0); /* the same book's ISBN-10 */
    CHECK_STR(out, "9787020002207");
    CHECK_INT(library_isbn_normalize("7020002201", out, &e), NX_EINVAL); /* wrong check digit */
    CHECK_INT(library_isbn_normalize("X020002201", out, &e), NX_EINVAL); /* X only last */
    CHECK_INT(library_isbn_normalize("0-306-40615-2", out, &e), 0); /* ISBN-10 → 978 + new check digit */
    CHECK_STR(out, "9780306406157");
    CHECK_INT(library_isbn_normalize("080442957X", out, &e), 0);
    CHECK_STR(out, "9780804429573");
    CHECK_INT(library_isbn_normalize("9787020002208", out, &e), NX_EINVAL);
    CHECK_STR(e.field, "isbn");
    CHECK_INT(library_isbn_normalize("9771234567003", out, &e), NX_EINVAL); /* not 978/979 */
    CHECK_INT(library_isbn_normalize("12345", out, &e), NX_EINVAL);
    CHECK_INT(library_isbn_normalize("97870200022O7", out, &e), NX_EINVAL);
}

static void test_drift_names(void)
{
    char n[64];
    library_drift_name("王建国", n, sizeof n);
    CHECK_STR(n, "王某");
    library_drift_name("欧阳秀英", n, sizeof n);
    CHECK_STR(n, "欧阳某");
    library_drift_name("欧阳", n, sizeof n); /* a two-character name is a surname and a given name */
    CHECK_STR(n, "欧某");
    library_drift_name("", n, sizeof n);
    CHECK_STR(n, "某");
    library_drift_name("\xff\xfe", n, sizeof n);
    CHECK_STR(n, "某");
}

static int64_t book1, book2, copy1, copy2, drift1;

static void test_catalogue(void)
{
    nx_err e = {0};
    book1 = add_book(&staff_a, "{\"title\": \"红楼梦\", \"isbn\": \"978-7-02-000220-7\", \"author\": \"曹雪芹\"}");
    CHECK(book1 > 0);
    /* the same ISBN typed again: a conflict naming the field; an invalid one: 422 naming it, nothing made */
    CHECK_INT(add_book(&staff_a, "{\"title\": \"红楼梦\", \"isbn\": \"9787020002207\"}"), NX_ECONFLICT);
    int64_t before = q_int("SELECT COUNT(*) FROM books");
    json_t *bad = json_loads("{\"title\": \"错书\", \"isbn\": \"9787020002208\"}", 0, NULL);
    int64_t id;
    CHECK_INT(library_book_create(&app, &staff_a, bad, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "isbn");
    json_decref(bad);
    CHECK_INT(q_int("SELECT COUNT(*) FROM books"), before);
    book2 = add_book(&staff_a, "{\"title\": \"手工登记的书\"}"); /* by hand, no ISBN */
    CHECK(book2 > 0);
    CHECK_INT(add_book(&wang, "{\"title\": \"居民不能编目\"}"), NX_EPERM);
    copy1 = add_copy(book1, "shelf", "hl-0001");
    copy2 = add_copy(book1, "shelf", "HL-0002");
    drift1 = add_copy(book2, "drift", "DRIFT-01");
    CHECK(copy1 > 0 && copy2 > 0 && drift1 > 0);
    CHECK_INT(add_copy(book1, "shelf", "HL-0001"), NX_ECONFLICT); /* codes are upper-cased, so this is a duplicate */
    /* a resident searches their community's catalogue; staff of B see none of A's */
    library_filter f = {.q = "红楼", .limit = 10};
    json_t *out = NULL;
    CHECK_INT(library_book_list(&app, &wang, &f, &out, &e), 0);
    CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(out, "items"), 0), "available")), 2);
    json_decref(out);
    CHECK_INT(library_book_list(&app, &staff_b, &f, &out, &e), 0);
    CHECK_INT(json_array_size(json_object_get(out, "items")), 0);
    json_decref(out);
    CHECK_INT(library_book_get(&app, &staff_b, book1, &out, &e), NX_ENOTFOUND);
}

static void test_loan_once(void)
{
    nx_err e = {0};
    int64_t loan = 0, again = 0;
    CHECK_INT(lend(" hl-0001", R_WANG, &loan, &e), 0); /* typed by hand, lower case: the same label */
    CHECK(loan > 0);
    CHECK_INT(lend("HL-0001", R_LI, &again, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "code");
    /* bypass the code's own check (a stale status, as two desks racing would see): the database's
     * unique index on open loans still refuses the second loan */
    CHECK_INT(exec_w("UPDATE book_copies SET status = 'available' WHERE code = 'HL-0001'"), 0);
    CHECK_INT(lend("HL-0001", R_LI, &again, &e), NX_ECONFLICT);
    CHECK_INT(q_int("SELECT COUNT(*) FROM book_loans WHERE copy_id = 1 AND returned_at IS NULL"), 1);
    CHECK_INT(exec_w("UPDATE book_copies SET status = 'on_loan' WHERE code = 'HL-0001'"), 0);
    /* unknown label and unknown reader: 422 naming the field */
    CHECK_INT(lend("NOPE-999", R_LI, NULL, &e), NX_EINVAL);
    CHECK_STR(e.field, "code");
    CHECK_INT(lend("HL-0002", 999, NULL, &e), NX_EINVAL);
    CHECK_STR(e.field, "resident_id");
    CHECK_INT(lend("HL-0002", R_ZHAO, NULL, &e), NX_EINVAL); /* another community's resident */
    /* the resident sees their own loan, and nobody else's */
    library_filter f = {.limit = 10};
    json_t *out = NULL;
    CHECK_INT(library_loan_list(&app, &wang, &f, &out, &e), 0);
    CHECK_INT(json_array_size(json_object_get(out, "items")), 1);
    json_decref(out);
    CHECK_INT(library_loan_list(&app, &li, &f, &out, &e), 0);
    CHECK_INT(json_array_size(json_object_get(out, "items")), 0);
    json_decref(out);
    CHECK_INT(library_loan_get(&app, &li, loan, &out, &e), NX_ENOTFOUND);
    /* returned: it can go out again */
    CHECK_INT(library_loan_return(&app, &staff_a, loan, NULL, &e), 0);
    CHECK_INT(library_loan_return(&app, &staff_a, loan, NULL, &e), NX_ECONFLICT);
    CHECK_INT(lend("HL-0001", R_LI, &again, &e), 0);
    int64_t back = 0;
    json_t *by_code = json_pack("{s:s}", "code", "HL-0001");
    CHECK_INT(library_loan_return_code(&app, &staff_a, by_code, &back, &e), 0);
    CHECK_INT(back, again);
    CHECK_INT(library_loan_return_code(&app, &staff_a, by_code, &back, &e), NX_ECONFLICT);
    CHECK_INT(library_loan_return_code(&app, &wang, by_code, &back, &e), NX_EPERM);
    json_decref(by_code);
}

static void test_hold_queue(void)
{
    nx_err e = {0};
    int64_t l1, l2, h_li, h_ouyang, h_wang;
    /* both copies out */
    CHECK_INT(lend("HL-0001", R_OUYANG, &l1, &e), 0);
    CHECK_INT(lend("HL-0002", R_OUYANG, &l2, &e), 0);
    /* 李梅 first, then 王建国 (for themselves), then staff for nobody else — the queue is 李, 王 */
    CHECK_INT(hold(&li, book1, 0, &h_li, &e), 0);
    CHECK_INT(hold(&wang, book1, 0, &h_wang, &e), 0);
    CHECK_INT(hold(&wang, book1, 0, &h_ouyang, &e), NX_ECONFLICT); /* twice */
    CHECK_INT(hold(&wang, book1, R_LI, &h_ouyang, &e), NX_EINVAL); /* for someone else */
    CHECK_INT(hold(&staff_a, book1, R_OUYANG, &h_ouyang, &e), NX_ECONFLICT); /* she has it on loan */
    json_t *out = NULL;
    CHECK_INT(library_hold_get(&app, &wang, h_wang, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "position")), 2);
    CHECK_STR(json_string_value(json_object_get(out, "status")), "waiting");
    json_decref(out);
    CHECK_INT(library_hold_get(&app, &wang, h_li, &out, &e), NX_ENOTFOUND); /* not his */
    /* renewing is refused while people wait */
    CHECK_INT(library_loan_renew(&app, &staff_a, l2, NULL, &e), NX_ECONFLICT);
    /* a copy returns: the first in line (李梅) gets it on the hold shelf, with an event */
    int64_t events = q_int("SELECT COUNT(*) FROM events WHERE kind = 'library.hold.ready'");
    CHECK_INT(library_loan_return(&app, &staff_a, l1, NULL, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'library.hold.ready'"), events + 1);
    CHECK_INT(library_hold_get(&app, &li, h_li, &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "status")), "ready");
    CHECK_STR(json_string_value(json_object_get(out, "copy_code")), "HL-0001");
    json_decref(out);
    CHECK_INT(library_hold_get(&app, &wang, h_wang, &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "position")), 1);
    json_decref(out);
    /* the held copy cannot go to 王建国 */
    CHECK_INT(lend("HL-0001", R_WANG, NULL, &e), NX_ECONFLICT);
    /* 李梅 does not come: after the pickup deadline the ticker passes it to 王建国 */
    int64_t later = clock_now_ms() + (LIBRARY_PICKUP_DAYS + 1) * LIBRARY_DAY_MS;
    json_t *rep = NULL;
    CHECK_INT(library_tick(&app, later, &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "expired")), 1);
    json_decref(rep);
    CHECK_INT(library_hold_get(&app, &li, h_li, &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "status")), "expired");
    json_decref(out);
    CHECK_INT(library_hold_get(&app, &wang, h_wang, &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "status")), "ready");
    json_decref(out);
    CHECK_INT(library_tick(&app, later, &rep, &e), 0); /* idempotent */
    CHECK_INT(json_integer_value(json_object_get(rep, "expired")), 0);
    json_decref(rep);
    /* 王建国 picks it up: his hold is fulfilled */
    int64_t l3;
    CHECK_INT(lend("HL-0001", R_WANG, &l3, &e), 0);
    CHECK_INT(library_hold_get(&app, &wang, h_wang, &out, &e), 0);
    CHECK_STR(json_string_value(json_object_get(out, "status")), "fulfilled");
    json_decref(out);
    CHECK_INT(library_loan_renew(&app, &wang, l3, NULL, &e), 0); /* nobody waits now */
    CHECK_INT(library_loan_renew(&app, &wang, l3, NULL, &e), NX_ECONFLICT); /* one renewal */
    CHECK_INT(library_loan_return(&app, &staff_a, l3, NULL, &e), 0);
    CHECK_INT(library_loan_return(&app, &staff_a, l2, NULL, &e), 0);
}

static void test_overdue_blocks(void)
{
    nx_err e = {0};
    int64_t loan;
    CHECK_INT(lend("HL-0002", R_LI, &loan, &e), 0);
    int64_t due = q_int("SELECT due_at FROM book_loans WHERE returned_at IS NULL AND copy_id = 2");
    json_t *rep = NULL;
    CHECK_INT(library_tick(&app, due - LIBRARY_DAY_MS, &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "due_soon")), 1);
    json_decref(rep);
    CHECK_INT(library_tick(&app, due + 1000, &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "overdue")), 1);
    json_decref(rep);
    CHECK_INT(library_tick(&app, due + 2000, &rep, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(rep, "overdue")), 0);
    json_decref(rep);
    /* three days late: blocked while it is out, and for three days after it comes back */
    clock_pin_ms(due + 3 * LIBRARY_DAY_MS - 3600 * 1000);
    CHECK_INT(lend("HL-0001", R_LI, NULL, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "resident_id");
    CHECK_INT(library_loan_return(&app, &staff_a, loan, NULL, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM events WHERE kind = 'library.reader.blocked'"), 1);
    json_t *out = NULL;
    CHECK_INT(library_reader_get(&app, &li, R_LI, &out, &e), 0);
    CHECK(json_is_true(json_object_get(out, "blocked")));
    json_decref(out);
    CHECK_INT(lend("HL-0001", R_LI, NULL, &e), NX_ECONFLICT);
    json_t *in = json_pack("{s:b}", "unblock", 1);
    CHECK_INT(library_reader_update(&app, &staff_a, R_LI, in, &e), 0);
    json_decref(in);
    int64_t l2;
    CHECK_INT(lend("HL-0001", R_LI, &l2, &e), 0);
    CHECK_INT(library_loan_return(&app, &staff_a, l2, NULL, &e), 0);
    clock_pin_ms(0);
}

static void test_drift_page(void)
{
    nx_err e = {0};
    int64_t a, b;
    CHECK_INT(lend("drift-01", R_WANG, &a, &e), 0);
    CHECK_INT(library_loan_return(&app, &staff_a, a, NULL, &e), 0);
    CHECK_INT(lend("DRIFT-01", R_OUYANG, &b, &e), 0);
    json_t *out = NULL;
    CHECK_INT(library_drift(&app, "drift-01", &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "stops")), 2);
    json_t *j = json_object_get(out, "journey");
    CHECK_INT(json_array_size(j), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(j, 0), "holder")), "王某");
    CHECK_STR(json_string_value(json_object_get(json_array_get(j, 1), "holder")), "欧阳某");
    CHECK(json_is_null(json_object_get(json_array_get(j, 1), "to")));
    char *text = json_dumps(out, 0);
    CHECK(text && !strstr(text, "王建国") && !strstr(text, "欧阳秀英") && !strstr(text, "建国"));
    free(text);
    json_decref(out);
    /* a shelf copy has no public page; nor has an unknown code */
    CHECK_INT(library_drift(&app, "HL-0001", &out, &e), NX_ENOTFOUND);
    CHECK_INT(library_drift(&app, "ZZZZ-0000", &out, &e), NX_ENOTFOUND);
    CHECK_INT(library_drift(&app, "<script>", &out, &e), NX_ENOTFOUND);
    CHECK_INT(library_loan_return(&app, &staff_a, b, NULL, &e), 0);
}

static void test_labels(void)
{
    nx_err e = {0};
    unsigned char *pdf = NULL;
    size_t len = 0;
    library_filter f = {.book_id = book1};
    CHECK_INT(library_labels(&app, &staff_a, &f, &pdf, &len, &e), 0);
    CHECK(pdf && len > 1000 && memcmp(pdf, "%PDF-", 5) == 0);
    free(pdf);
    pdf = NULL;
    CHECK_INT(library_labels(&app, &staff_b, &f, &pdf, &len, &e), NX_ENOTFOUND); /* not B's copies */
    CHECK_INT(library_labels(&app, &wang, &f, &pdf, &len, &e), NX_EPERM);
    CHECK(pdf == NULL);
    /* the desk scanner reading a drifting copy's QR code types its URL: the code is taken from it */
    int64_t loan = 0;
    CHECK_INT(lend("https://example.org/drift/DRIFT-01", R_LI, &loan, &e), 0);
    CHECK_INT(library_loan_return(&app, &staff_a, loan, NULL, &e), 0);
}

static void test_stats(void)
{
    nx_err e = {0};
    json_t *out = NULL;
    CHECK_INT(library_stats(&app, &staff_a, 0, clock_now_ms(), &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "books")), 2);
    CHECK_INT(json_integer_value(json_object_get(out, "copies")), 3);
    CHECK_INT(json_integer_value(json_object_get(out, "drifting")), 1);
    CHECK_INT(json_integer_value(json_object_get(out, "open_loans")), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "loans_this_month")), q_int("SELECT COUNT(*) FROM book_loans"));
    json_decref(out);
    CHECK_INT(library_stats(&app, &staff_b, 0, clock_now_ms(), &out, &e), 0);
    CHECK_INT(json_integer_value(json_object_get(out, "books")), 0);
    json_decref(out);
    CHECK_INT(library_stats(&app, &wang, 0, clock_now_ms(), &out, &e), NX_EPERM);
}

static int run_store_tests(void)
{
    if (setup() != 0) {
        fprintf(stderr, "setup failed (%s)\n", tb_backend());
        return 1;
    }
    TEST_RUN(test_catalogue);
    TEST_RUN(test_loan_once);
    TEST_RUN(test_hold_queue);
    TEST_RUN(test_overdue_blocks);
    TEST_RUN(test_drift_page);
    TEST_RUN(test_labels);
    TEST_RUN(test_stats);
    teardown();
    return 0;
}

int main(void)
{
    TEST_RUN(test_isbn);
    TEST_RUN(test_drift_names);
    if (tb_init("nx_test_library") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    tb_cleanup();
    return TEST_DONE();
}
