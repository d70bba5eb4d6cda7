/* test_people_cache.c — the cache of assembled resident details (people_cache.c) on both backends.
 *
 * One street with two communities (A: grids 1 and 2; B: grid 3) and a second street (community C),
 * residents made through people.c, a household whose members live in two grids. The suite checks:
 * - a detail served from memory is byte for byte the detail read from the database, for viewers of
 *   every scope, including viewers who come after another viewer filled the slot (the scope and
 *   the household members' visibility are applied per request; out of scope stays "not found");
 * - after a write to each table the detail is read from (residents, resident_tags,
 *   emergency_contacts, tags, grids, estates, rooms, buildings, communities), through SQL and
 *   through people.c, the next read shows the change — it fails when a table is not watched;
 * - a computed tag's rule changed shows at once (the rules kept in memory are reloaded);
 * - on PostgreSQL, a write by another connection (as another server process would) is seen once
 *   its NOTIFY arrives (waited for, not timed: the check is that it arrives at all).
 * Expected values are the database reads themselves, or the values written here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/str.h"
#include "modules/people/people.h"
#include "modules/people/people_internal.h"
#include "text/pinyin.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"

enum { STREET = 1, STREET2 = 2, COMM_A = 1, COMM_B = 2, COMM_C = 3, GRID_1 = 1, GRID_2 = 2, GRID_3 = 3 };

static const nx_principal admin = {.user_id = 1, .username = "admin", .role = ROLE_ADMIN, .scope = SCOPE_ALL};
static const nx_principal street_officer = {.user_id = 2, .username = "jd", .role = ROLE_STREET,
                                            .scope = SCOPE_STREET, .street_id = STREET};
static const nx_principal street2_officer = {.user_id = 3, .username = "jd2", .role = ROLE_STREET,
                                             .scope = SCOPE_STREET, .street_id = STREET2};
static const nx_principal staff_a = {.user_id = 4, .username = "sa", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                                     .street_id = STREET, .community_id = COMM_A};
static const nx_principal staff_b = {.user_id = 5, .username = "sb", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                                     .street_id = STREET, .community_id = COMM_B};
static const nx_principal grid_1 = {.user_id = 6, .username = "g1", .role = ROLE_GRID, .scope = SCOPE_GRID,
                                    .street_id = STREET, .community_id = COMM_A, .grid_id = GRID_1};
static const nx_principal grid_2 = {.user_id = 7, .username = "g2", .role = ROLE_GRID, .scope = SCOPE_GRID,
                                    .street_id = STREET, .community_id = COMM_A, .grid_id = GRID_2};
static nx_principal self_1; /* a resident account bound to the household head (set in setup) */
static nx_principal self_2; /* bound to the member in grid 2 */

static int64_t head, member, lone, other_c, room_1;

static int64_t create_resident(const char *json)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    resident_input in;
    nx_err e = {0};
    int64_t id = 0;
    if (o == NULL || people_parse_resident(o, true, &in, &e) || people_resident_create(&app, &admin, &in, &id, &e)) {
        fprintf(stderr, "create_resident: %s (%s)\n", e.msg, e.field);
        id = 0;
    }
    json_decref(o);
    return id;
}

static int setup(void)
{
    if (tb_app_open("people_cache.db", NULL, "pc"))
        return -1;
    if (exec_w("INSERT INTO streets (id, name, created_at) VALUES (1, '解放路街道', 0), (2, '和平路街道', 0);"
               "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0),"
               " (2, 1, '和平社区', 0), (3, 2, '东风社区', 0);"
               "INSERT INTO grids (id, community_id, name, created_at, updated_at) VALUES "
               "(1, 1, '第一网格', 0, 0), (2, 1, '第二网格', 0, 0), (3, 2, '和平一网格', 0, 0);"
               "INSERT INTO estates (id, community_id, grid_id, name, created_at, updated_at) VALUES "
               "(1, 1, 1, '幸福苑', 0, 0);"
               "INSERT INTO buildings (id, community_id, estate_id, grid_id, name, created_at, updated_at) VALUES "
               "(1, 1, 1, 1, '3号楼', 0, 0);"
               "INSERT INTO rooms (id, community_id, building_id, unit, number, created_at) VALUES "
               "(1, 1, 1, '2单元', '401', 0);"
               "INSERT INTO households (id, community_id, grid_id, room_id, created_at, updated_at) VALUES "
               "(1, 1, 1, 1, 0, 0);"
               "INSERT INTO tags (id, code, name, rule, sort, created_at) VALUES "
               "(1, 'low_income', '低保', NULL, 1, 0), (2, 'elderly', '高龄', 'age>=80', 2, 0),"
               " (3, 'disabled', '残疾', NULL, 3, 0);"))
        return -1;
    room_1 = 1;
    head = create_resident("{\"community_id\":1,\"grid_id\":1,\"room_id\":1,\"household_id\":1,\"relation\":\"head\","
                           "\"name\":\"张桂兰\",\"id_type\":\"id_card\",\"id_number\":\"110101194001011226\","
                           "\"sex\":\"female\",\"phone\":\"13800138000\",\"address\":\"幸福苑3号楼2单元401\","
                           "\"tags\":[\"low_income\"],\"notes\":\"独居\",\"contacts\":[{\"name\":\"李明\","
                           "\"relation\":\"son\",\"phone\":\"13900139000\",\"is_primary\":true}]}");
    member = create_resident("{\"community_id\":1,\"grid_id\":2,\"household_id\":1,\"relation\":\"spouse\","
                             "\"name\":\"李建国\",\"id_type\":\"passport\",\"id_number\":\"E10000001\",\"birth_date\":\"1950-03-04\",\"sex\":\"male\"}");
    lone = create_resident("{\"community_id\":2,\"grid_id\":3,\"name\":\"王芳\",\"id_type\":\"passport\",\"id_number\":\"E10000002\",\"birth_date\":\"1990-05-06\","
                           "\"sex\":\"female\"}");
    other_c = create_resident("{\"community_id\":3,\"name\":\"赵强\",\"id_type\":\"passport\",\"id_number\":\"E10000003\",\"birth_date\":\"1985-07-08\",\"sex\":\"male\"}");
    if (!head || !member || !lone || !other_c)
        return -1;
    self_1 = (nx_principal){.user_id = 8, .username = "jm1", .role = ROLE_RESIDENT, .scope = SCOPE_SELF,
                            .community_id = COMM_A, .resident_id = head};
    self_2 = (nx_principal){.user_id = 9, .username = "jm2", .role = ROLE_RESIDENT, .scope = SCOPE_SELF,
                            .community_id = COMM_A, .resident_id = member};
    nx_err e = {0};
    if (people_detail_start(&app, &e)) {
        fprintf(stderr, "people_detail_start: %s\n", e.msg);
        return -1;
    }
    /* PostgreSQL: the listener thread sends its LISTEN a moment after start; until then nothing is
     * served (store_listen_live). Wait for it (bounded), so that the suite tests the cache. */
    for (int i = 0; i < 400 && !people_detail_enabled(&app); i++)
        usleep(25000);
    return people_detail_enabled(&app) ? 0 : -1;
}

static void teardown(void)
{
    people_detail_stop(&app);
    store_close(app.db);
    keys_free(app.keys);
}

/* A read's outcome: the code and the text. */
typedef struct answer {
    int rc;
    char *text;
} answer;

static answer read_as(const nx_principal *who, int64_t id)
{
    strbuf b;
    strbuf_init(&b, 0);
    nx_err e = {0};
    answer a = {.rc = people_resident_write(&app, who, id, &b, &e)};
    a.text = a.rc == 0 ? strdup(b.data ? b.data : "") : NULL;
    strbuf_cleanup(&b);
    return a;
}

static bool same(answer a, answer b)
{
    return a.rc == b.rc && (a.text == NULL) == (b.text == NULL) && (a.text == NULL || strcmp(a.text, b.text) == 0);
}

static void answer_free(answer a)
{
    free(a.text);
}

/* A change to a watched table that changes nothing a detail shows: the next read asks the
 * database (the generation moved). */
static void bump(void)
{
    CHECK_INT(exec_w("UPDATE communities SET code = code WHERE id = 1"), 0);
}

static uint64_t hit_count(void)
{
    uint64_t h, m;
    people_detail_stats(&h, &m);
    return h;
}

static const nx_principal *const viewers[] = {&admin, &street_officer, &street2_officer, &staff_a, &staff_b,
                                              &grid_1, &grid_2, &self_1, &self_2};

/* For every viewer and resident: the second read (from memory) equals the first (the database). */
static void test_hit_equals_database_read(void)
{
    int64_t ids[] = {head, member, lone, other_c, 999999};
    for (size_t v = 0; v < sizeof viewers / sizeof viewers[0]; v++) {
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
            bump();
            uint64_t h0 = hit_count();
            answer a = read_as(viewers[v], ids[i]);
            answer b = read_as(viewers[v], ids[i]);
            CHECK(same(a, b));
            if (a.rc == 0)
                CHECK(hit_count() == h0 + 1); /* the second came from memory */
            answer_free(a);
            answer_free(b);
        }
    }
}

/* A slot filled by one viewer, read by another: the answer is the other's database answer. */
static void test_other_viewer_after_fill(void)
{
    int64_t ids[] = {head, member, lone, other_c};
    size_t nv = sizeof viewers / sizeof viewers[0];
    for (size_t f = 0; f < nv; f++)
        for (size_t v = 0; v < nv; v++)
            for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
                bump();
                answer db = read_as(viewers[v], ids[i]);
                bump();
                answer_free(read_as(viewers[f], ids[i])); /* f fills the slot (when it may see it) */
                answer got = read_as(viewers[v], ids[i]);
                if (!same(db, got))
                    fprintf(stderr, "  filler %zu, viewer %zu, resident %lld differ\n", f, v, (long long)ids[i]);
                CHECK(same(db, got));
                answer_free(db);
                answer_free(got);
            }
}

/* Read head's detail twice (the second from memory), run sql, read again: the new text must contain
 * want (and differ from the old one). */
static void write_then_read(const char *sql, int64_t id, const char *want)
{
    answer a = read_as(&admin, id);
    uint64_t h0 = hit_count();
    answer b = read_as(&admin, id);
    CHECK(hit_count() == h0 + 1);
    CHECK(same(a, b));
    CHECK_INT(exec_w(sql), 0);
    answer c = read_as(&admin, id);
    if (want) {
        CHECK(c.text != NULL && strstr(c.text, want) != NULL);
        if (!(c.text && strstr(c.text, want)))
            fprintf(stderr, "  after %s: %s not in the detail\n", sql, want);
    } else {
        CHECK_INT(c.rc, NX_ENOTFOUND);
    }
    CHECK(!same(a, c));
    answer_free(a);
    answer_free(b);
    answer_free(c);
}

static void test_every_table_invalidates(void)
{
    char sql[300];
    snprintf(sql, sizeof sql, "UPDATE residents SET work = '退休教师' WHERE id = %lld", (long long)head);
    write_then_read(sql, head, "\"work\":\"退休教师\"");
    snprintf(sql, sizeof sql, "UPDATE residents SET name = '李建军' WHERE id = %lld", (long long)member);
    write_then_read(sql, head, "\"name\":\"李建军\""); /* a household member's row */
    snprintf(sql, sizeof sql, "INSERT INTO resident_tags (resident_id, tag_id, created_at) VALUES (%lld, 3, 0)",
             (long long)head);
    write_then_read(sql, head, "\"code\":\"disabled\"");
    snprintf(sql, sizeof sql, "UPDATE emergency_contacts SET name = '李华' WHERE resident_id = %lld", (long long)head);
    write_then_read(sql, head, "\"name\":\"李华\"");
    write_then_read("UPDATE tags SET name = '低保户' WHERE id = 1", head, "\"name\":\"低保户\"");
    write_then_read("UPDATE grids SET name = '幸福网格' WHERE id = 1", head, "\"grid_name\":\"幸福网格\"");
    write_then_read("UPDATE estates SET name = '幸福家园' WHERE id = 1", head, "\"estate_name\":\"幸福家园\"");
    write_then_read("UPDATE buildings SET name = '5号楼' WHERE id = 1", head, "\"location\":\"幸福家园 5号楼\"");
    write_then_read("UPDATE rooms SET number = '402' WHERE id = 1", head, "2单元 402\"");
    write_then_read("UPDATE communities SET name = '暖心新社区' WHERE id = 1", head, "\"community_name\":\"暖心新社区\"");
    /* a computed tag's rule: the head (born 1940) is 80 or older */
    answer a = read_as(&admin, head);
    CHECK(a.text && strstr(a.text, "\"code\":\"elderly\"") != NULL);
    answer_free(a);
    write_then_read("UPDATE tags SET rule = 'age>=120' WHERE id = 2", head, "\"tags\":[{\"code\":\"low_income\"");
    a = read_as(&admin, head);
    CHECK(a.text && strstr(a.text, "\"code\":\"elderly\"") == NULL);
    answer_free(a);
    /* moved to another grid: grid 1's worker no longer sees it, from memory either */
    answer g = read_as(&grid_1, head);
    CHECK_INT(g.rc, 0);
    answer_free(g);
    snprintf(sql, sizeof sql, "UPDATE residents SET grid_id = 2 WHERE id = %lld", (long long)head);
    write_then_read(sql, head, "\"grid_id\":2");
    g = read_as(&grid_1, head);
    CHECK_INT(g.rc, NX_ENOTFOUND);
    answer_free(g);
    /* deleted (people.c never deletes a resident; an operator's SQL or a tool may) */
    const char *blob = tb_pg() ? "'\\x01'::bytea" : "x'01'";
    snprintf(sql, sizeof sql,
             "INSERT INTO residents (id, community_id, name, name_s, name_pinyin, name_initials, sort_key, sex, "
             "birth_date, id_enc, id_bidx, id_tail, created_at, updated_at) VALUES (900, 3, '钱多', '钱多', "
             "'qianduo', 'qd', %s, 1, '1970-01-01', %s, %s, '', 0, 0)", blob, blob, blob);
    CHECK_INT(exec_w(sql), 0);
    other_c = 900;
    snprintf(sql, sizeof sql, "DELETE FROM residents WHERE id = %lld", (long long)other_c);
    write_then_read(sql, other_c, NULL);
}

/* Writes through people.c (PATCH of a resident) are seen by the next read, like any other. */
static void test_module_write_invalidates(void)
{
    answer a = read_as(&admin, lone);
    answer b = read_as(&admin, lone);
    CHECK(same(a, b));
    json_error_t je;
    char body[200];
    int64_t version = q_int("SELECT version FROM residents WHERE id = (SELECT max(id) FROM residents WHERE name = '王芳')");
    snprintf(body, sizeof body, "{\"work\":\"社区医生\",\"tags\":[\"disabled\"],\"version\":%lld}", (long long)version);
    json_t *o = json_loads(body, 0, &je);
    resident_input in;
    nx_err e = {0};
    CHECK_INT(people_parse_resident(o, false, &in, &e), 0);
    CHECK_INT(people_resident_update(&app, &admin, lone, &in, &e), 0);
    json_decref(o);
    answer c = read_as(&admin, lone);
    CHECK(c.text && strstr(c.text, "\"work\":\"社区医生\"") && strstr(c.text, "\"code\":\"disabled\""));
    answer_free(a);
    answer_free(b);
    answer_free(c);
}

/* PostgreSQL: another connection (another server process) writes; this process hears of it. */
static void test_other_process_write(void)
{
    if (!tb_pg())
        return;
    char name[64], url[512];
    snprintf(name, sizeof name, "nxt_%d_people_cache_db", (int)getpid()); /* tb_url's name for it */
    tb_pg_url(url, sizeof url, name);
    answer a = read_as(&admin, lone);
    answer b = read_as(&admin, lone);
    CHECK(same(a, b));
    PGconn *db = PQconnectdb(url);
    CHECK(PQstatus(db) == CONNECTION_OK);
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE residents SET work = '另一进程' WHERE id = %lld", (long long)lone);
    PGresult *r = PQexec(db, sql);
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(db);
    /* Delivered through the LISTEN thread: wait for it (up to 20 s; it takes milliseconds). */
    bool seen = false;
    for (int i = 0; i < 800 && !seen; i++) {
        answer c = read_as(&admin, lone);
        seen = c.text && strstr(c.text, "\"work\":\"另一进程\"") != NULL;
        answer_free(c);
        if (!seen)
            usleep(25000);
    }
    CHECK(seen);
    answer_free(a);
    answer_free(b);
}

static int run_store_tests(void)
{
    if (setup() != 0) {
        fprintf(stderr, "setup failed (%s)\n", tb_backend());
        return 1;
    }
    TEST_RUN(test_hit_equals_database_read);
    TEST_RUN(test_other_viewer_after_fill);
    TEST_RUN(test_every_table_invalidates);
    TEST_RUN(test_module_write_invalidates);
    TEST_RUN(test_other_process_write);
    teardown();
    return 0;
}

int main(void)
{
    nx_err e = {0};
    if (crypto_init(&e) || pinyin_init(&e)) {
        fprintf(stderr, "init: %s\n", e.msg);
        return 1;
    }
    if (tb_init("nx_test_people_cache") != 0 || run_store_tests() != 0 || (tb_use_pg() && run_store_tests() != 0)) {
        tb_cleanup();
        return 1;
    }
    pinyin_cleanup();
    tb_cleanup();
    return TEST_DONE();
}
