/* test_org.c — the organisation module's rules (org.c) on a real, migrated SQLite store
 * (module_test.h; SQLite only: the fixtures are written in SQLite's spelling).
 *
 * One temporary database holds a street with two communities: A with grids 1 and 2, B with one
 * grid. Principals of every kind of scope act on it directly through org.c: community staff build
 * A's estates, buildings and rooms; grid workers see only their grid's part; staff of B cannot
 * reach into A; validation errors name their field; each change writes exactly one audit row and
 * a failed one none; the tag seed is idempotent; shop phones are stored encrypted and shown
 * masked. Expected values are worked out by hand from the data inserted here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modules/org/org.h"
#include "text/pinyin.h"
#include "test.h"
#include "backends.h"
#include "module_test.h"

/* Ids of the fixture rows, fixed by the INSERTs in setup(). */
enum { STREET = 1, COMM_A = 1, COMM_B = 2, GRID_A1 = 1, GRID_A2 = 2, GRID_B1 = 3 };

static const nx_principal admin = {.user_id = 1, .username = "admin", .role = ROLE_ADMIN, .scope = SCOPE_ALL};
static const nx_principal street_officer = {
    .user_id = 2, .username = "jiedao", .role = ROLE_STREET, .scope = SCOPE_STREET, .street_id = STREET};
static const nx_principal staff_a = {.user_id = 3, .username = "staff_a", .role = ROLE_STAFF,
                                     .scope = SCOPE_COMMUNITY, .street_id = STREET, .community_id = COMM_A};
static const nx_principal staff_b = {.user_id = 4, .username = "staff_b", .role = ROLE_STAFF,
                                     .scope = SCOPE_COMMUNITY, .street_id = STREET, .community_id = COMM_B};
static const nx_principal grid_w1 = {.user_id = 5, .username = "wangge1", .role = ROLE_GRID, .scope = SCOPE_GRID,
                                     .street_id = STREET, .community_id = COMM_A, .grid_id = GRID_A1};
static const nx_principal grid_w2 = {.user_id = 6, .username = "wangge2", .role = ROLE_GRID, .scope = SCOPE_GRID,
                                     .street_id = STREET, .community_id = COMM_A, .grid_id = GRID_A2};
static const nx_principal resident = {.user_id = 7, .username = "jumin", .role = ROLE_RESIDENT,
                                      .scope = SCOPE_SELF, .community_id = COMM_A, .resident_id = 1};

/* Objects the tests create, in order (ids asserted where they are created). */
static int64_t estate_xfl, building_3, building_5, room_401;

static int64_t audit_rows(void)
{
    return q_int("SELECT COUNT(*) FROM audit_log");
}

static int setup(void)
{
    if (tb_app_open("org.db", NULL, "org"))
        return -1;
    return exec_w("INSERT INTO streets (id, name, created_at) VALUES (1, '解放路街道', 0);"
                  "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
                  "INSERT INTO communities (id, street_id, name, created_at) VALUES (2, 1, '和平社区', 0);"
                  "INSERT INTO grids (id, community_id, name, created_at, updated_at) VALUES "
                  "(1, 1, '第一网格', 0, 0), (2, 1, '第二网格', 0, 0), (3, 2, '和平一网格', 0, 0);");
}

static void teardown(void)
{
    store_close(app.db);
    keys_free(app.keys);
    pinyin_cleanup();
}

/* Helpers to build inputs. */
static org_input estate_in(const char *name)
{
    org_input in = {.set = ORG_F_NAME, .name = name};
    return in;
}

static int create(const nx_principal *p, int kind, const org_input *in, int64_t *id, nx_err *e)
{
    nx_err_clear(e);
    return org_create(&app, p, kind, in, id, e);
}

static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t int_of(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void test_build_tree_as_staff(void)
{
    nx_err e = {0};
    int64_t id = 0, before = audit_rows();

    /* a grid: the community is forced to staff_a's own */
    org_input g = {.set = ORG_F_NAME | ORG_F_CODE, .name = "第三网格", .code = "G3"};
    CHECK_INT(create(&staff_a, ORG_GRID, &g, &id, &e), 0);
    CHECK_INT(id, 4);
    json_t *o = NULL;
    CHECK_INT(org_get(&app, &staff_a, ORG_GRID, id, &o, &e), 0);
    CHECK_INT(int_of(o, "community_id"), COMM_A);
    CHECK_STR(str_of(o, "name"), "第三网格");
    CHECK_STR(str_of(o, "code"), "G3");
    CHECK(json_is_null(json_object_get(o, "description")));
    CHECK_INT(int_of(o, "building_count"), 0);
    json_decref(o);

    org_input es = {.set = ORG_F_NAME | ORG_F_KIND | ORG_F_BUILT_YEAR | ORG_F_ADDRESS,
                    .name = "幸福里小区", .kind = "old", .built_year = 1985, .address = "解放路 12 号"};
    CHECK_INT(create(&staff_a, ORG_ESTATE, &es, &estate_xfl, &e), 0);
    CHECK_INT(estate_xfl, 1);

    org_input b3 = {.set = ORG_F_ESTATE_ID | ORG_F_GRID_ID | ORG_F_NAME | ORG_F_FLOORS | ORG_F_UNITS,
                    .estate_id = estate_xfl, .grid_id = GRID_A1, .name = "3号楼", .floors = 6, .units = 3};
    CHECK_INT(create(&staff_a, ORG_BUILDING, &b3, &building_3, &e), 0);
    org_input b5 = {.set = ORG_F_ESTATE_ID | ORG_F_GRID_ID | ORG_F_NAME | ORG_F_HAS_ELEVATOR,
                    .estate_id = estate_xfl, .grid_id = GRID_A2, .name = "5号楼", .has_elevator = true};
    CHECK_INT(create(&staff_a, ORG_BUILDING, &b5, &building_5, &e), 0);
    CHECK_INT(building_3, 1);
    CHECK_INT(building_5, 2);

    org_input ro = {.set = ORG_F_BUILDING_ID | ORG_F_UNIT | ORG_F_NUMBER | ORG_F_FLOOR | ORG_F_AREA,
                    .building_id = building_3, .unit = "2单元", .number = "401", .floor = 4, .area = 72.5};
    CHECK_INT(create(&staff_a, ORG_ROOM, &ro, &room_401, &e), 0);
    CHECK_INT(room_401, 1);
    CHECK_INT(audit_rows() - before, 5); /* one audit row per create */
    CHECK_INT(q_int("SELECT COUNT(*) FROM audit_log WHERE action = 'create' AND object_type = 'room' "
                    "AND object_id = 1 AND community_id = 1 AND user_id = 3"),
              1);

    CHECK_INT(org_get(&app, &staff_a, ORG_BUILDING, building_3, &o, &e), 0);
    CHECK_INT(int_of(o, "community_id"), COMM_A);
    CHECK_STR(str_of(o, "estate_name"), "幸福里小区");
    CHECK_STR(str_of(o, "grid_name"), "第一网格");
    CHECK_INT(int_of(o, "floors"), 6);
    CHECK(json_is_false(json_object_get(o, "has_elevator")));
    CHECK_INT(int_of(o, "room_count"), 1);
    CHECK_INT(int_of(o, "resident_count"), 0);
    json_decref(o);

    CHECK_INT(org_get(&app, &staff_a, ORG_ROOM, room_401, &o, &e), 0);
    CHECK_STR(str_of(o, "label"), "幸福里小区 3号楼 2单元 401");
    CHECK_INT(int_of(o, "floor"), 4);
    CHECK(json_real_value(json_object_get(o, "area")) == 72.5);
    json_decref(o);

    CHECK_INT(q_int("SELECT COUNT(*) FROM estates WHERE id = 1 AND name_pinyin = 'xingfulixiaoqu'"), 1);
    org_filter pf = {.limit = 10, .q = "XingFu"};
    json_t *page = NULL;
    CHECK_INT(org_list(&app, &staff_a, ORG_ESTATE, &pf, &page, &e), 0);
    CHECK_INT(int_of(page, "total"), 1);
    json_decref(page);
    CHECK_INT(org_get(&app, &staff_a, ORG_ESTATE, estate_xfl, &o, &e), 0);
    CHECK_STR(str_of(o, "kind_label"), "老旧小区");
    CHECK_INT(int_of(o, "built_year"), 1985);
    CHECK_INT(int_of(o, "building_count"), 2);
    CHECK(json_is_null(json_object_get(o, "grid_id")));
    json_decref(o);

    /* org_room_label for the people module */
    store_tx *tx;
    char label[128];
    int64_t c = 0, gr = 0, est = 0;
    CHECK_INT(store_begin(app.db, STORE_READ, &tx, &e), 0);
    CHECK_INT(org_room_label(tx, room_401, label, sizeof label, &c, &gr, &est), 0);
    CHECK_STR(label, "幸福里小区 3号楼 2单元 401");
    CHECK_INT(c, COMM_A);
    CHECK_INT(gr, GRID_A1);
    CHECK_INT(est, estate_xfl);
    /* a short buffer cuts at a character boundary: "幸福" is 6 bytes, 8 bytes leave room for 7 */
    CHECK_INT(org_room_label(tx, room_401, label, 8, NULL, NULL, NULL), 0);
    CHECK_STR(label, "幸福");
    CHECK_INT(org_room_label(tx, 999, label, sizeof label, NULL, NULL, NULL), NX_ENOTFOUND);
    CHECK_STR(label, "");
    store_rollback(tx);

    /* a room without a unit is labelled without it */
    org_input r2 = {.set = ORG_F_BUILDING_ID | ORG_F_NUMBER, .building_id = building_5, .number = "101"};
    CHECK_INT(create(&staff_a, ORG_ROOM, &r2, &id, &e), 0);
    CHECK_INT(org_get(&app, &staff_a, ORG_ROOM, id, &o, &e), 0);
    CHECK_STR(str_of(o, "label"), "幸福里小区 5号楼 101");
    CHECK_STR(str_of(o, "unit"), "");
    json_decref(o);
}

static int64_t list_total(const nx_principal *p, int kind, const org_filter *f, nx_err *e, json_t **out)
{
    json_t *o = NULL;
    nx_err_clear(e);
    int rc = org_list(&app, p, kind, f, &o, e);
    if (rc) {
        if (out)
            *out = NULL;
        return rc;
    }
    int64_t t = int_of(o, "total");
    if (out)
        *out = o;
    else
        json_decref(o);
    return t;
}

static void test_grid_worker_scope(void)
{
    nx_err e = {0};
    json_t *o = NULL;
    org_filter f = {.limit = 50};

    CHECK_INT(list_total(&grid_w1, ORG_BUILDING, &f, &e, &o), 1);
    CHECK_INT(json_array_size(json_object_get(o, "items")), 1);
    CHECK_STR(str_of(json_array_get(json_object_get(o, "items"), 0), "name"), "3号楼");
    CHECK(json_is_null(json_object_get(o, "next_cursor")));
    json_decref(o);
    CHECK_INT(list_total(&grid_w2, ORG_BUILDING, &f, &e, &o), 1);
    CHECK_STR(str_of(json_array_get(json_object_get(o, "items"), 0), "name"), "5号楼");
    json_decref(o);
    CHECK_INT(list_total(&staff_a, ORG_BUILDING, &f, &e, NULL), 2);
    CHECK_INT(list_total(&staff_b, ORG_BUILDING, &f, &e, NULL), 0);

    /* another grid's building does not exist for this worker */
    CHECK_INT(org_get(&app, &grid_w1, ORG_BUILDING, building_5, &o, &e), NX_ENOTFOUND);
    CHECK(o == NULL);
    CHECK_INT(org_get(&app, &grid_w1, ORG_BUILDING, building_3, &o, &e), 0);
    json_decref(o);
    /* nor do its rooms */
    org_filter rf = {.limit = 50, .building_id = building_5};
    CHECK_INT(list_total(&grid_w1, ORG_ROOM, &rf, &e, NULL), NX_ENOTFOUND);
    CHECK_STR(e.field, "building_id");
    rf.building_id = building_3;
    CHECK_INT(list_total(&grid_w1, ORG_ROOM, &rf, &e, NULL), 1);
    CHECK_INT(org_get(&app, &grid_w2, ORG_ROOM, room_401, &o, &e), NX_ENOTFOUND);

    /* the estate spans both grids: each worker sees it through their building */
    CHECK_INT(list_total(&grid_w1, ORG_ESTATE, &f, &e, NULL), 1);
    CHECK_INT(list_total(&grid_w2, ORG_ESTATE, &f, &e, NULL), 1);
    CHECK_INT(org_get(&app, &grid_w2, ORG_ESTATE, estate_xfl, &o, &e), 0);
    json_decref(o);
    /* an estate of the community with no building in the grid is invisible to the worker */
    int64_t lone;
    CHECK_INT(create(&staff_a, ORG_ESTATE, &(org_input){.set = ORG_F_NAME, .name = "空地小区"}, &lone, &e), 0);
    CHECK_INT(org_get(&app, &grid_w1, ORG_ESTATE, lone, &o, &e), NX_ENOTFOUND);
    CHECK_INT(list_total(&staff_a, ORG_ESTATE, &f, &e, NULL), 2);

    /* grids: only their own */
    CHECK_INT(list_total(&grid_w1, ORG_GRID, &f, &e, &o), 1);
    CHECK_INT(int_of(json_array_get(json_object_get(o, "items"), 0), "id"), GRID_A1);
    json_decref(o);
    CHECK_INT(org_get(&app, &grid_w1, ORG_GRID, GRID_A2, &o, &e), NX_ENOTFOUND);
    CHECK_INT(list_total(&staff_a, ORG_GRID, &f, &e, NULL), 3); /* 1, 2 and the one staff made */

    /* grid workers may read but not write */
    int64_t id;
    CHECK_INT(create(&grid_w1, ORG_BUILDING,
                     &(org_input){.set = ORG_F_ESTATE_ID | ORG_F_NAME, .estate_id = estate_xfl, .name = "7号楼"},
                     &id, &e),
              NX_EPERM);
    CHECK_INT(org_update(&app, &grid_w1, ORG_BUILDING, building_3,
                         &(org_input){.set = ORG_F_FLOORS, .floors = 7}, &e),
              NX_EPERM);

    /* a resident has no organisation rights; self scope sees nothing even with a read */
    CHECK_INT(list_total(&resident, ORG_BUILDING, &f, &e, NULL), NX_EPERM);
    CHECK_INT(list_total(&resident, ORG_TAG, &f, &e, NULL), NX_EPERM);

    /* streets and communities are seen from below */
    CHECK_INT(list_total(&grid_w1, ORG_COMMUNITY, &f, &e, NULL), 1);
    CHECK_INT(list_total(&grid_w1, ORG_STREET, &f, &e, NULL), 1);
    CHECK_INT(list_total(&street_officer, ORG_COMMUNITY, &f, &e, NULL), 2);
    CHECK_INT(list_total(&street_officer, ORG_BUILDING, &f, &e, NULL), 2);
    CHECK_INT(org_get(&app, &staff_b, ORG_COMMUNITY, COMM_A, &o, &e), NX_ENOTFOUND);
}

static void test_cross_community(void)
{
    nx_err e = {0};
    int64_t id = 0, before = audit_rows();
    json_t *o = NULL;

    /* staff of B naming A: not found, whatever the body says */
    org_input es = {.set = ORG_F_NAME | ORG_F_COMMUNITY_ID, .name = "越界小区", .community_id = COMM_A};
    CHECK_INT(create(&staff_b, ORG_ESTATE, &es, &id, &e), NX_ENOTFOUND);
    CHECK_STR(e.field, "community_id");
    CHECK_INT(id, 0);
    CHECK_INT(create(&staff_b, ORG_GRID, &(org_input){.set = ORG_F_NAME | ORG_F_COMMUNITY_ID, .name = "X",
                                                       .community_id = COMM_A},
                     &id, &e),
              NX_ENOTFOUND);
    /* a building under A's estate */
    CHECK_INT(create(&staff_b, ORG_BUILDING,
                     &(org_input){.set = ORG_F_ESTATE_ID | ORG_F_NAME, .estate_id = estate_xfl, .name = "9号楼"},
                     &id, &e),
              NX_ENOTFOUND);
    CHECK_STR(e.field, "estate_id");
    /* a room in A's building */
    CHECK_INT(create(&staff_b, ORG_ROOM,
                     &(org_input){.set = ORG_F_BUILDING_ID | ORG_F_NUMBER, .building_id = building_3, .number = "1"},
                     &id, &e),
              NX_ENOTFOUND);
    CHECK_INT(org_get(&app, &staff_b, ORG_BUILDING, building_3, &o, &e), NX_ENOTFOUND);
    CHECK_INT(org_update(&app, &staff_b, ORG_ESTATE, estate_xfl, &(org_input){.set = ORG_F_NAME, .name = "改名"},
                         &e),
              NX_ENOTFOUND);
    CHECK_INT(audit_rows() - before, 0); /* nothing happened, nothing audited */

    /* staff of A giving their own community is fine */
    es.name = "本社区小区";
    CHECK_INT(create(&staff_a, ORG_ESTATE, &es, &id, &e), 0);

    /* an admin must name the community, and it must exist */
    CHECK_INT(create(&admin, ORG_GRID, &(org_input){.set = ORG_F_NAME, .name = "无主网格"}, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "community_id");
    CHECK_INT(create(&admin, ORG_GRID, &(org_input){.set = ORG_F_NAME | ORG_F_COMMUNITY_ID, .name = "无主网格",
                                                     .community_id = 99},
                     &id, &e),
              NX_ENOTFOUND);
    CHECK_INT(create(&admin, ORG_GRID, &(org_input){.set = ORG_F_NAME | ORG_F_COMMUNITY_ID, .name = "和平二网格",
                                                     .community_id = COMM_B},
                     &id, &e),
              0);
    CHECK_INT(org_get(&app, &staff_b, ORG_GRID, id, &o, &e), 0);
    CHECK_INT(int_of(o, "community_id"), COMM_B);
    json_decref(o);

    /* a building's grid must be of the estate's community */
    CHECK_INT(create(&staff_a, ORG_BUILDING,
                     &(org_input){.set = ORG_F_ESTATE_ID | ORG_F_GRID_ID | ORG_F_NAME, .estate_id = estate_xfl,
                                  .grid_id = GRID_B1, .name = "8号楼"},
                     &id, &e),
              NX_EINVAL);
    CHECK_STR(e.field, "grid_id");
    CHECK_INT(org_update(&app, &staff_a, ORG_BUILDING, building_3,
                         &(org_input){.set = ORG_F_GRID_ID, .grid_id = GRID_B1}, &e),
              NX_EINVAL);
    CHECK_STR(e.field, "grid_id");

    /* streets and communities: platform admins only */
    CHECK_INT(create(&staff_a, ORG_STREET, &(org_input){.set = ORG_F_NAME, .name = "新街道"}, &id, &e), NX_EPERM);
    CHECK_INT(org_update(&app, &staff_a, ORG_COMMUNITY, COMM_A, &(org_input){.set = ORG_F_NAME, .name = "新名"}, &e),
              NX_EPERM);
    CHECK_INT(create(&admin, ORG_STREET, &(org_input){.set = ORG_F_NAME, .name = "新街道"}, &id, &e), 0);
    CHECK_INT(id, 2);
    org_input c = {.set = ORG_F_STREET_ID | ORG_F_NAME | ORG_F_PHONE, .street_id = id, .name = "新社区",
                   .phone = "0531 8612 3456"};
    CHECK_INT(create(&admin, ORG_COMMUNITY, &c, &id, &e), 0);
    CHECK_INT(org_get(&app, &admin, ORG_COMMUNITY, id, &o, &e), 0);
    CHECK_STR(str_of(o, "phone"), "0531-86123456");
    CHECK_STR(str_of(o, "street_name"), "新街道");
    json_decref(o);
    /* the street officer of street 1 does not see the new street's community */
    CHECK_INT(org_get(&app, &street_officer, ORG_COMMUNITY, id, &o, &e), NX_ENOTFOUND);
}

static void test_validation(void)
{
    nx_err e = {0};
    int64_t id, before = audit_rows();
    org_input in;

    in = estate_in("");
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "name");
    CHECK(strstr(e.msg, "名称") != NULL);
    in = estate_in("   ");
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "name");
    in = (org_input){.set = ORG_F_ADDRESS, .address = "x"};
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_EINVAL); /* name missing */
    CHECK_STR(e.field, "name");

    char longname[64 * 3 + 1] = "";
    for (int i = 0; i < 51; i++)
        strncat(longname, "楼", sizeof longname - strlen(longname) - 1);
    in = estate_in(longname);
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "name");
    longname[50 * 3] = '\0'; /* 50 characters is the limit, accepted */
    in = estate_in(longname);
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), 0);

    in = (org_input){.set = ORG_F_NAME | ORG_F_BUILT_YEAR, .name = "古宅", .built_year = 1700};
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "built_year");
    in.built_year = 3000;
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "built_year");
    in = (org_input){.set = ORG_F_NAME | ORG_F_KIND, .name = "别墅区", .kind = "villa"};
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "kind");
    /* a field estates do not take */
    in = (org_input){.set = ORG_F_NAME | ORG_F_FLOORS, .name = "有层数的小区", .floors = 3};
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "floors");
    /* duplicate name in the same community */
    in = estate_in("幸福里小区");
    CHECK_INT(create(&staff_a, ORG_ESTATE, &in, &id, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "name");
    /* the same name in another community is another estate */
    CHECK_INT(create(&staff_b, ORG_ESTATE, &in, &id, &e), 0);

    /* buildings and rooms */
    in = (org_input){.set = ORG_F_NAME, .name = "无小区楼"};
    CHECK_INT(create(&staff_a, ORG_BUILDING, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "estate_id");
    in = (org_input){.set = ORG_F_ESTATE_ID | ORG_F_NAME | ORG_F_FLOORS, .estate_id = estate_xfl, .name = "高楼",
                     .floors = 0};
    CHECK_INT(create(&staff_a, ORG_BUILDING, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "floors");
    in = (org_input){.set = ORG_F_BUILDING_ID | ORG_F_NUMBER | ORG_F_AREA, .building_id = building_3,
                     .number = "402", .area = -3};
    CHECK_INT(create(&staff_a, ORG_ROOM, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "area");
    in = (org_input){.set = ORG_F_BUILDING_ID | ORG_F_UNIT | ORG_F_NUMBER, .building_id = building_3,
                     .unit = "2单元", .number = "401"};
    CHECK_INT(create(&staff_a, ORG_ROOM, &in, &id, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "number");

    /* updates: a required field cannot be cleared, an optional one can */
    in = (org_input){.set = ORG_F_NAME, .nulls = ORG_F_NAME};
    CHECK_INT(org_update(&app, &staff_a, ORG_BUILDING, building_3, &in, &e), NX_EINVAL);
    CHECK_STR(e.field, "name");
    in = (org_input){.set = ORG_F_COMMUNITY_ID, .community_id = COMM_B};
    CHECK_INT(org_update(&app, &staff_a, ORG_BUILDING, building_3, &in, &e), NX_EINVAL);
    CHECK_STR(e.field, "community_id");

    /* tags (the city's list: written by a city-scope account) */
    in = (org_input){.set = ORG_F_CODE | ORG_F_NAME, .code = "Bad-Code", .name = "坏标签"};
    CHECK_INT(create(&admin, ORG_TAG, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "code");
    in = (org_input){.set = ORG_F_CODE | ORG_F_NAME | ORG_F_RULE, .code = "old_65", .name = "老人",
                     .rule = "age>=abc"};
    CHECK_INT(create(&admin, ORG_TAG, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "rule");
    in = (org_input){.set = ORG_F_CODE | ORG_F_NAME | ORG_F_CATEGORY, .code = "old_65", .name = "老人",
                     .category = "misc"};
    CHECK_INT(create(&admin, ORG_TAG, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "category");

    /* shops: the phone must be a phone */
    in = (org_input){.set = ORG_F_NAME | ORG_F_PHONE, .name = "小卖部", .phone = "12345"};
    CHECK_INT(create(&staff_a, ORG_SHOP, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "phone");
    in = (org_input){.set = ORG_F_NAME | ORG_F_STATUS, .name = "小卖部", .status = "gone"};
    CHECK_INT(create(&staff_a, ORG_SHOP, &in, &id, &e), NX_EINVAL);
    CHECK_STR(e.field, "status");

    /* only the two successful creates above (the 50-character name, B's estate) were audited */
    CHECK_INT(audit_rows() - before, 2);
}

static void test_update(void)
{
    nx_err e = {0};
    json_t *o = NULL;
    int64_t before = audit_rows();

    org_input in = {.set = ORG_F_FLOORS | ORG_F_HAS_ELEVATOR | ORG_F_GRID_ID, .nulls = ORG_F_GRID_ID,
                    .floors = 7, .has_elevator = true};
    CHECK_INT(org_update(&app, &staff_a, ORG_BUILDING, building_3, &in, &e), 0);
    CHECK_INT(audit_rows() - before, 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM audit_log WHERE action = 'update' AND object_type = 'building' "
                    "AND object_id = 1 AND detail LIKE '%\"floors\"%' AND detail LIKE '%\"grid_id\"%'"),
              1);
    CHECK_INT(org_get(&app, &staff_a, ORG_BUILDING, building_3, &o, &e), 0);
    CHECK_INT(int_of(o, "floors"), 7);
    CHECK(json_is_true(json_object_get(o, "has_elevator")));
    CHECK(json_is_null(json_object_get(o, "grid_id")));
    CHECK(json_is_null(json_object_get(o, "grid_name")));
    CHECK_INT(int_of(o, "units"), 3); /* untouched */
    json_decref(o);
    /* out of grid 1 now: its worker no longer sees it */
    CHECK_INT(org_get(&app, &grid_w1, ORG_BUILDING, building_3, &o, &e), NX_ENOTFOUND);
    in = (org_input){.set = ORG_F_GRID_ID, .grid_id = GRID_A1};
    CHECK_INT(org_update(&app, &staff_a, ORG_BUILDING, building_3, &in, &e), 0);
    CHECK_INT(org_get(&app, &grid_w1, ORG_BUILDING, building_3, &o, &e), 0);
    json_decref(o);

    /* nothing given: no change, no audit */
    before = audit_rows();
    in = (org_input){.set = 0};
    CHECK_INT(org_update(&app, &staff_a, ORG_BUILDING, building_3, &in, &e), 0);
    CHECK_INT(audit_rows() - before, 0);
    /* a missing object */
    in = (org_input){.set = ORG_F_FLOORS, .floors = 5};
    CHECK_INT(org_update(&app, &staff_a, ORG_BUILDING, 999, &in, &e), NX_ENOTFOUND);
    /* renaming onto another building's name */
    in = (org_input){.set = ORG_F_NAME, .name = "5号楼"};
    CHECK_INT(org_update(&app, &staff_a, ORG_BUILDING, building_3, &in, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "name");
    CHECK_INT(audit_rows() - before, 0);
}

/* A staff account restricted to one grid (an admin can give staff a grid scope): it may write, but
 * only inside its grid. */
static void test_grid_scoped_writer(void)
{
    const nx_principal staff_g1 = {.user_id = 8, .username = "staff_g1", .role = ROLE_STAFF, .scope = SCOPE_GRID,
                                   .street_id = STREET, .community_id = COMM_A, .grid_id = GRID_A1};
    nx_err e = {0};
    int64_t id, before = audit_rows();
    org_input in = {.set = ORG_F_ESTATE_ID | ORG_F_GRID_ID | ORG_F_NAME, .estate_id = estate_xfl,
                    .grid_id = GRID_A2, .name = "11号楼"};
    CHECK_INT(create(&staff_g1, ORG_BUILDING, &in, &id, &e), NX_EPERM);
    in.set &= ~(uint32_t)ORG_F_GRID_ID; /* no grid at all is outside the grid too */
    CHECK_INT(create(&staff_g1, ORG_BUILDING, &in, &id, &e), NX_EPERM);
    CHECK_INT(create(&staff_g1, ORG_GRID, &(org_input){.set = ORG_F_NAME, .name = "第九网格"}, &id, &e), NX_EPERM);
    CHECK_INT(audit_rows() - before, 0);
    in.set |= ORG_F_GRID_ID;
    in.grid_id = GRID_A1;
    CHECK_INT(create(&staff_g1, ORG_BUILDING, &in, &id, &e), 0);
    /* moving a building out of the grid */
    org_input mv = {.set = ORG_F_GRID_ID, .grid_id = GRID_A2};
    CHECK_INT(org_update(&app, &staff_g1, ORG_BUILDING, id, &mv, &e), NX_EPERM);
    CHECK_STR(e.field, "grid_id");
    /* another grid's building is simply not there */
    mv = (org_input){.set = ORG_F_FLOORS, .floors = 3};
    CHECK_INT(org_update(&app, &staff_g1, ORG_BUILDING, building_5, &mv, &e), NX_ENOTFOUND);
    CHECK_INT(org_update(&app, &staff_g1, ORG_BUILDING, id, &mv, &e), 0);
    CHECK_INT(audit_rows() - before, 2);
}

static void test_shops(void)
{
    nx_err e = {0};
    json_t *o = NULL;
    int64_t id;
    org_input in = {.set = ORG_F_NAME | ORG_F_KIND | ORG_F_PHONE | ORG_F_GRID_ID | ORG_F_OWNER_NAME,
                    .name = "老王烧烤", .kind = "market_stall", .phone = "+86 138 1234 5678",
                    .grid_id = GRID_A2, .owner_name = "王建国"};
    CHECK_INT(create(&staff_a, ORG_SHOP, &in, &id, &e), 0);
    CHECK_INT(org_get(&app, &staff_a, ORG_SHOP, id, &o, &e), 0);
    CHECK_STR(str_of(o, "phone"), "138****5678");
    CHECK_STR(str_of(o, "kind_label"), "夜市摊位");
    CHECK_STR(str_of(o, "status"), "open");
    CHECK_STR(str_of(o, "status_label"), "营业中");
    json_decref(o);
    /* stored encrypted, with the tail for search */
    CHECK_INT(q_int("SELECT COUNT(*) FROM shops WHERE phone_tail = '5678' AND length(phone_enc) = 11 + 41 "
                    "AND instr(phone_enc, CAST('13812345678' AS BLOB)) = 0"),
              1);
    org_filter f = {.limit = 10, .q = "5678"};
    CHECK_INT(list_total(&staff_a, ORG_SHOP, &f, &e, NULL), 1);
    f.q = "烧烤";
    CHECK_INT(list_total(&grid_w2, ORG_SHOP, &f, &e, NULL), 1);
    CHECK_INT(list_total(&grid_w1, ORG_SHOP, &f, &e, NULL), 0);
    f = (org_filter){.limit = 10, .kind = "nightclub"};
    CHECK_INT(list_total(&staff_a, ORG_SHOP, &f, &e, NULL), NX_EINVAL);
    CHECK_STR(e.field, "kind");
    /* a coded filter given empty is a wrong code, not "any" (the one rule of a list's status filter) */
    const char *blank = "";
    f = (org_filter){.limit = 10, .status = blank};
    CHECK_INT(list_total(&staff_a, ORG_SHOP, &f, &e, NULL), NX_EINVAL);
    CHECK_STR(e.field, "status");
    f = (org_filter){.limit = 10, .kind = blank};
    CHECK_INT(list_total(&staff_a, ORG_SHOP, &f, &e, NULL), NX_EINVAL);
    CHECK_STR(e.field, "kind");
    f = (org_filter){.limit = 10, .status = "open"};
    CHECK(list_total(&staff_a, ORG_SHOP, &f, &e, NULL) >= 1);

    /* clearing the phone */
    in = (org_input){.set = ORG_F_PHONE | ORG_F_STATUS, .nulls = ORG_F_PHONE, .status = "closed"};
    CHECK_INT(org_update(&app, &staff_a, ORG_SHOP, id, &in, &e), 0);
    CHECK_INT(org_get(&app, &staff_a, ORG_SHOP, id, &o, &e), 0);
    CHECK(json_is_null(json_object_get(o, "phone")));
    CHECK_STR(str_of(o, "status_label"), "已停业");
    json_decref(o);
    CHECK_INT(q_int("SELECT COUNT(*) FROM shops WHERE phone_enc IS NULL AND phone_tail IS NULL"), 1);
}

static void test_counts(void)
{
    nx_err e = {0};
    json_t *o = NULL;
    /* one household in room 401 with one active and one moved-out resident */
    CHECK_INT(exec_w("INSERT INTO households (id, community_id, grid_id, room_id, created_at, updated_at) "
                     "VALUES (1, 1, 1, 1, 0, 0);"
                     "INSERT INTO residents (community_id, grid_id, household_id, room_id, estate_id, name, name_s, "
                     "name_pinyin, name_initials, sort_key, sex, birth_date, id_enc, id_bidx, id_tail, status, "
                     "created_at, updated_at) VALUES "
                     "(1, 1, 1, 1, 1, '甲', '甲', 'jia', 'j', x'01', 1, '1940-01-01', x'00', x'01', '0001', "
                     "'active', 0, 0),"
                     "(1, 1, 1, 1, 1, '乙', '乙', 'yi', 'y', x'02', 2, '1942-01-01', x'00', x'02', '0002', "
                     "'moved_out', 0, 0);"),
              0);
    CHECK_INT(org_get(&app, &staff_a, ORG_BUILDING, building_3, &o, &e), 0);
    CHECK_INT(int_of(o, "resident_count"), 1);
    json_decref(o);
    CHECK_INT(org_get(&app, &staff_a, ORG_ESTATE, estate_xfl, &o, &e), 0);
    CHECK_INT(int_of(o, "household_count"), 1);
    CHECK_INT(int_of(o, "resident_count"), 1);
    json_decref(o);
    CHECK_INT(org_get(&app, &staff_a, ORG_GRID, GRID_A1, &o, &e), 0);
    CHECK_INT(int_of(o, "resident_count"), 1);
    CHECK_INT(int_of(o, "building_count"), 2); /* 3号楼 and the grid-scoped writer's 11号楼 */
    json_decref(o);
    CHECK_INT(org_get(&app, &staff_a, ORG_COMMUNITY, COMM_A, &o, &e), 0);
    CHECK_INT(int_of(o, "resident_count"), 1);
    CHECK_INT(int_of(o, "grid_count"), 3);
    json_decref(o);
}

static void test_paging(void)
{
    nx_err e = {0};
    json_t *o = NULL;
    int64_t id;
    /* buildings of estate 1 in community A: 3号楼, 5号楼, 11号楼 and four more */
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "%d0号楼", i + 1);
        CHECK_INT(create(&staff_a, ORG_BUILDING,
                         &(org_input){.set = ORG_F_ESTATE_ID | ORG_F_NAME, .estate_id = estate_xfl, .name = name},
                         &id, &e),
                  0);
    }
    org_filter f = {.limit = 4, .estate_id = estate_xfl};
    CHECK_INT(list_total(&staff_a, ORG_BUILDING, &f, &e, &o), 7);
    CHECK_INT(json_array_size(json_object_get(o, "items")), 4);
    const char *next = str_of(o, "next_cursor");
    CHECK(next != NULL);
    char cur[32] = "";
    if (next)
        snprintf(cur, sizeof cur, "%s", next);
    int64_t last = int_of(json_array_get(json_object_get(o, "items"), 3), "id");
    json_decref(o);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)last);
    CHECK_STR(cur, want);
    f.cursor = cur;
    CHECK_INT(list_total(&staff_a, ORG_BUILDING, &f, &e, &o), 7);
    CHECK_INT(json_array_size(json_object_get(o, "items")), 3);
    CHECK(json_is_null(json_object_get(o, "next_cursor")));
    CHECK(int_of(json_array_get(json_object_get(o, "items"), 0), "id") > last);
    json_decref(o);

    f.q = "0号";
    f.cursor = NULL;
    CHECK_INT(list_total(&staff_a, ORG_BUILDING, &f, &e, NULL), 4);
    f.q = "%";
    CHECK_INT(list_total(&staff_a, ORG_BUILDING, &f, &e, NULL), 0); /* a literal %, not a wildcard */
    f.q = NULL;
    f.cursor = "abc";
    CHECK_INT(list_total(&staff_a, ORG_BUILDING, &f, &e, NULL), NX_EINVAL);
    CHECK_STR(e.field, "cursor");
    f.cursor = NULL;
    f.limit = 0;
    CHECK_INT(list_total(&staff_a, ORG_BUILDING, &f, &e, NULL), NX_EINVAL);
    CHECK_STR(e.field, "limit");
}

static void test_tags(void)
{
    nx_err e = {0};
    store_tx *tx;
    CHECK_INT(store_begin(app.db, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(org_seed_tags(tx, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM tags"), 13);
    CHECK_INT(q_int("SELECT COUNT(*) FROM tags WHERE code = 'elderly_80' AND name = '高龄' AND rule = 'age>=80'"), 1);
    CHECK_INT(q_int("SELECT COUNT(*) FROM tags WHERE code = 'key_care' AND name = '重点关注'"), 1);
    /* again: nothing new */
    CHECK_INT(store_begin(app.db, STORE_WRITE, &tx, &e), 0);
    CHECK_INT(org_seed_tags(tx, &e), 0);
    CHECK_INT(store_commit(tx, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM tags"), 13);

    /* the city adds one between 高龄 (sort 10) and 独居 (sort 20); a community's staff may not: the
     * list is every community's */
    int64_t id, tag70 = 0, before = audit_rows();
    org_input in = {.set = ORG_F_CODE | ORG_F_NAME | ORG_F_SORT | ORG_F_CATEGORY | ORG_F_RULE,
                    .code = "elderly_70", .name = "七十岁以上", .sort = 15, .category = "care", .rule = "age>=70"};
    CHECK_INT(create(&staff_a, ORG_TAG, &in, &tag70, &e), NX_EPERM);
    CHECK_INT(create(&admin, ORG_TAG, &in, &tag70, &e), 0);
    CHECK_INT(tag70, 14);
    CHECK_INT(audit_rows() - before, 1);
    CHECK_INT(create(&admin, ORG_TAG, &in, &id, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "code");
    in.code = "elderly_70b";
    CHECK_INT(create(&admin, ORG_TAG, &in, &id, &e), NX_ECONFLICT);
    CHECK_STR(e.field, "name");
    CHECK_INT(create(&grid_w1, ORG_TAG, &in, &id, &e), NX_EPERM);

    /* pages in sort order: 10, 15, 20 | 30 … */
    org_filter f = {.limit = 3};
    json_t *o = NULL;
    CHECK_INT(list_total(&grid_w1, ORG_TAG, &f, &e, &o), 14);
    json_t *items = json_object_get(o, "items");
    CHECK_STR(str_of(json_array_get(items, 0), "code"), "elderly_80");
    CHECK_STR(str_of(json_array_get(items, 1), "code"), "elderly_70");
    CHECK_STR(str_of(json_array_get(items, 2), "code"), "living_alone");
    char cur[32] = "";
    snprintf(cur, sizeof cur, "%s", str_of(o, "next_cursor") ? str_of(o, "next_cursor") : "");
    json_decref(o);
    f.cursor = cur;
    CHECK_INT(list_total(&grid_w1, ORG_TAG, &f, &e, &o), 14);
    CHECK_STR(str_of(json_array_get(json_object_get(o, "items"), 0), "code"), "solitary");
    json_decref(o);
    /* walk all pages: every tag once */
    int seen = 0, pages = 0;
    f.cursor = NULL;
    for (;;) {
        CHECK_INT(list_total(&staff_a, ORG_TAG, &f, &e, &o), 14);
        if (o == NULL)
            break;
        seen += (int)json_array_size(json_object_get(o, "items"));
        pages++;
        const char *n = str_of(o, "next_cursor");
        if (n == NULL || pages > 10) {
            json_decref(o);
            break;
        }
        snprintf(cur, sizeof cur, "%s", n);
        f.cursor = cur;
        json_decref(o);
    }
    CHECK_INT(seen, 14);
    CHECK_INT(pages, 5);
    f = (org_filter){.limit = 50, .category = "identity"};
    CHECK_INT(list_total(&staff_a, ORG_TAG, &f, &e, NULL), 2); /* 党员, 退役军人 */
    /* a coded filter is one of its table's codes (the tables end with {NULL, NULL}): an unknown,
     * empty or differently cased code is refused naming the filter, never read past the table's end */
    const char *bad_codes[] = {"misc", "", "Identity", "identity "};
    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
        json_t *page = NULL;
        f = (org_filter){.limit = 50, .category = bad_codes[i]};
        CHECK_INT(org_list(&app, &staff_a, ORG_TAG, &f, &page, &e), NX_EINVAL);
        CHECK_STR(e.field, "category");
        CHECK(page == NULL);
    }

    /* update: the rule can be cleared, the code cannot change */
    in = (org_input){.set = ORG_F_RULE, .nulls = ORG_F_RULE};
    CHECK_INT(org_update(&app, &staff_a, ORG_TAG, tag70, &in, &e), NX_EPERM);
    CHECK_INT(org_update(&app, &admin, ORG_TAG, tag70, &in, &e), 0);
    CHECK_INT(q_int("SELECT COUNT(*) FROM tags WHERE code = 'elderly_70' AND rule IS NULL"), 1);
    in = (org_input){.set = ORG_F_CODE, .code = "other"};
    CHECK_INT(org_update(&app, &admin, ORG_TAG, tag70, &in, &e), NX_EINVAL);
    CHECK_STR(e.field, "code");
}

int main(void)
{
    if (tb_init("nx_test_org") != 0 || setup() != 0) {
        fprintf(stderr, "setup failed\n");
        tb_cleanup();
        return 1;
    }
    TEST_RUN(test_build_tree_as_staff);
    TEST_RUN(test_grid_worker_scope);
    TEST_RUN(test_cross_community);
    TEST_RUN(test_validation);
    TEST_RUN(test_update);
    TEST_RUN(test_grid_scoped_writer);
    TEST_RUN(test_shops);
    TEST_RUN(test_counts);
    TEST_RUN(test_paging);
    TEST_RUN(test_tags);
    teardown();
    tb_cleanup();
    return TEST_DONE();
}
