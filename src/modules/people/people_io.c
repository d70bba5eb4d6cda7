/* people_io.c — import from and export to spreadsheets.
 *
 * Import reads the header row to find the columns by their Chinese names (any order; unknown
 * columns are ignored and reported), then turns each row into a resident_input and hands it to the
 * same create rule the API uses, inside one write transaction. Each row runs under a SAVEPOINT so a
 * bad row leaves nothing behind; a dry run rolls the whole transaction back at the end, so the
 * report says exactly what a commit would do — duplicates inside the file included. Places are
 * found by name: 小区 + 楼栋 + 单元 + 房号 find (or, on commit, add) the room; 户号 finds or adds the
 * household; 网格 names the grid when there is no room.
 *
 * Export walks the same search as the list (people_resident_each) and streams rows into an xlsx
 * file in constant memory; ID numbers and phones are written as text cells. */
#include "modules/people/people_io.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "base/vec.h"
#include "modules/people/people_choices.h"
#include "report/sheet.h"
#include "report/export.h"
#include "secure/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col {
    COL_NAME, COL_SEX, COL_ID_TYPE, COL_ID, COL_BIRTH, COL_PHONE, COL_ETHNICITY, COL_POLITICAL, COL_RELATION,
    COL_RESIDENCE, COL_GRID, COL_ESTATE, COL_BUILDING, COL_UNIT, COL_ROOM, COL_HOUSEHOLD, COL_TAGS, COL_CARE,
    COL_WORK, COL_NOTES, COL_CONTACT, COL_CONTACT_REL, COL_CONTACT_PHONE, COL_COUNT
};

const char *const people_import_columns[] = {
    "姓名", "性别", "证件类型", "证件号码", "出生日期", "联系电话", "民族", "政治面貌", "与户主关系", "户籍状态",
    "网格", "小区", "楼栋", "单元", "房号", "户号", "标签", "关怀等级", "工作单位", "备注", "紧急联系人",
    "紧急联系人关系", "紧急联系人电话", NULL};

/* Other spellings staff use for the same column. */
static const struct {
    const char *alias;
    int col;
} aliases[] = {
    {"身份证号", COL_ID}, {"身份证号码", COL_ID}, {"公民身份号码", COL_ID}, {"手机号", COL_PHONE},
    {"手机号码", COL_PHONE}, {"电话", COL_PHONE}, {"与户主关系", COL_RELATION}, {"关系", COL_RELATION},
    {"人员类型", COL_RESIDENCE}, {"居住类型", COL_RESIDENCE}, {"所属网格", COL_GRID}, {"小区名称", COL_ESTATE},
    {"楼号", COL_BUILDING}, {"楼栋号", COL_BUILDING}, {"门牌号", COL_ROOM}, {"房间号", COL_ROOM},
    {"人员标签", COL_TAGS}, {"工作单位/职业", COL_WORK}, {"职业", COL_WORK}, {"出生年月", COL_BIRTH},
};

static const char *field_column(const char *field)
{
    static const struct {
        const char *field;
        int col;
    } map[] = {{"name", COL_NAME},         {"sex", COL_SEX},           {"id_type", COL_ID_TYPE},
               {"id_number", COL_ID},      {"birth_date", COL_BIRTH},  {"phone", COL_PHONE},
               {"ethnicity", COL_ETHNICITY}, {"political", COL_POLITICAL}, {"relation", COL_RELATION},
               {"residence", COL_RESIDENCE}, {"grid_id", COL_GRID},    {"room_id", COL_ROOM},
               {"household_id", COL_HOUSEHOLD}, {"tags", COL_TAGS},    {"care_level", COL_CARE},
               {"work", COL_WORK},         {"notes", COL_NOTES},       {"contacts", COL_CONTACT}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (str_starts_with(field, map[i].field))
            return people_import_columns[map[i].col];
    if (str_starts_with(field, "contacts"))
        return people_import_columns[COL_CONTACT];
    return "";
}

static int header_col(const char *h)
{
    char buf[64];
    str_copy(buf, h, sizeof buf);
    char *t = str_trim(buf);
    /* a trailing '*' marks required columns in the template */
    size_t n = strlen(t);
    if (n && t[n - 1] == '*')
        t[n - 1] = '\0';
    for (int i = 0; people_import_columns[i]; i++)
        if (strcmp(people_import_columns[i], t) == 0)
            return i;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(aliases[i].alias, t) == 0)
            return aliases[i].col;
    return -1;
}

typedef struct import_ctx {
    nx_app *app;
    const nx_principal *who;
    store_tx *tx;
    bool dry_run;
    json_t *errors;
    int map[COL_COUNT]; /* column index in the sheet, -1 when absent */
} import_ctx;

static void add_error(import_ctx *c, int row, const char *column, const char *field, const char *reason)
{
    if (json_array_size(c->errors) >= 1000)
        return;
    json_array_append_new(c->errors, json_pack("{s:i, s:s, s:s, s:s}", "row", row, "column", column, "field",
                                               field, "reason", reason));
}

static const char *cell(import_ctx *c, const char *const *cells, int n, int col, char *buf, size_t cap)
{
    int k = c->map[col];
    if (k < 0 || k >= n)
        return NULL;
    str_copy(buf, cells[k], cap);
    char *t = str_trim(buf);
    return *t ? t : NULL;
}

/* Find (or on commit add) the room named by estate/building/unit/number in the caller's reach. */
static int find_room(import_ctx *c, const char *estate, const char *building, const char *unit, const char *room,
                     int64_t *room_id, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_TEXT(estate), P_TEXT(building), P_INT(c->who->community_id),
                       P_INT(c->who->scope == SCOPE_ALL || c->who->scope == SCOPE_STREET)};
    int rc = store_query(c->tx,
                         "SELECT b.id, b.community_id FROM buildings b JOIN estates es ON es.id = b.estate_id "
                         "WHERE es.name = $1 AND b.name = $2 AND (b.community_id = $3 OR $4 = 1)",
                         p, 4, &r, e);
    if (rc)
        return rc;
    int64_t bid = 0, community = 0;
    int found = 0;
    while (store_row(r)) {
        bid = store_int(r, 0);
        community = store_int(r, 1);
        found++;
    }
    if ((rc = store_rows_end(r, e)))
        return rc;
    if (found == 0)
        return nx_fail(e, NX_EINVAL, "room_id", "找不到小区“%s”的楼栋“%s”", estate, building);
    if (found > 1)
        return nx_fail(e, NX_EINVAL, "room_id", "小区“%s”楼栋“%s”不唯一，请在系统中逐个登记", estate, building);
    const char *u = unit ? unit : "";
    store_param q[] = {P_INT(bid), P_TEXT(u), P_TEXT(room)};
    rc = store_one_int(c->tx, "SELECT id FROM rooms WHERE building_id = $1 AND unit = $2 AND number = $3", q, 3,
                       room_id, e);
    if (rc != NX_ENOTFOUND)
        return rc;
    nx_err_clear(e);
    store_param a[] = {P_INT(community), P_INT(bid), P_TEXT(u), P_TEXT(room), P_INT(clock_now_ms())};
    rc = app_insert(c->tx, "rooms", "community_id, building_id, unit, number, created_at", a, 5, room_id, e);
    return rc == NX_ENOTFOUND ? nx_fail(e, NX_EDB, "", "添加房屋失败") : rc;
}

static int find_household(import_ctx *c, const char *number, int64_t room_id, int64_t grid_id, int64_t *hid,
                          nx_err *e)
{
    store_param p[] = {P_TEXT(number), P_INT(c->who->community_id),
                       P_INT(c->who->scope == SCOPE_ALL || c->who->scope == SCOPE_STREET)};
    int rc = store_one_int(c->tx,
                           "SELECT id FROM households WHERE number = $1 AND (community_id = $2 OR $3 = 1) "
                           "ORDER BY id LIMIT 1",
                           p, 3, hid, e);
    if (rc != NX_ENOTFOUND)
        return rc;
    nx_err_clear(e);
    household_input in = {.room_id = room_id, .grid_id = room_id ? 0 : grid_id, .number = number};
    (void)in;
    int64_t community = c->who->community_id, grid = grid_id;
    if (room_id) {
        store_rows *r;
        store_param q[] = {P_INT(room_id)};
        if ((rc = store_query(c->tx,
                              "SELECT rm.community_id, b.grid_id FROM rooms rm JOIN buildings b ON b.id = "
                              "rm.building_id WHERE rm.id = $1",
                              q, 1, &r, e)))
            return rc;
        if ((rc = store_first(r, "", e)) == 0) {
            community = store_int(r, 0);
            grid = store_int(r, 1);
        }
        store_rows_free(r);
        if (rc && rc != NX_ENOTFOUND)
            return rc;
        nx_err_clear(e);
    }
    if (!community)
        return nx_fail(e, NX_EINVAL, "household_id", "无法确定户“%s”所属社区", number);
    if (!perm_covers(c->who, c->tx, community, grid))
        return nx_fail(e, NX_EPERM, "household_id", "无权在该社区或网格建户");
    int64_t now = clock_now_ms();
    store_param a[] = {P_INT(community), P_ID(grid), P_ID(room_id), P_TEXT(number), P_INT(now), P_INT(now)};
    rc = app_insert(c->tx, "households", "community_id, grid_id, room_id, number, created_at, updated_at", a,
                    6, hid, e);
    return rc == NX_ENOTFOUND ? nx_fail(e, NX_EDB, "", "建户失败") : rc;
}

static int import_row(import_ctx *c, const char *const *cells, int n, int rownum, nx_err *e)
{
    char b[COL_COUNT][256];
    const char *v[COL_COUNT];
    for (int i = 0; i < COL_COUNT; i++)
        v[i] = cell(c, cells, n, i, b[i], sizeof b[i]);
    resident_input in;
    memset(&in, 0, sizeof in);
    in.name = v[COL_NAME];
    in.sex = v[COL_SEX];
    in.id_type = v[COL_ID_TYPE] ? v[COL_ID_TYPE] : NULL;
    if (in.id_type) {
        static const struct {
            const char *label, *code;
        } types[] = {{"居民身份证", "id_card"}, {"身份证", "id_card"}, {"护照", "passport"},
                     {"港澳居民来往内地通行证", "hk_macau"}, {"港澳通行证", "hk_macau"},
                     {"台湾居民来往大陆通行证", "taiwan"}, {"台胞证", "taiwan"},
                     {"外国人永久居留身份证", "foreign_permanent"}};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcmp(in.id_type, types[i].label) == 0)
                in.id_type = types[i].code;
    }
    in.id_number = v[COL_ID];
    if (in.id_number && (strchr(in.id_number, 'E') || strchr(in.id_number, 'e') || strchr(in.id_number, '.')))
        return nx_fail(e, NX_EINVAL, "id_number",
                       "证件号码被 Excel 存成了数字（科学计数法），请把该列设为文本后重新填写");
    char birth[11];
    if (v[COL_BIRTH]) {
        nx_date d;
        if (date_parse(v[COL_BIRTH], &d) == 0 || sheet_excel_serial_to_date(v[COL_BIRTH], &d) == 0) {
            date_format(d, birth);
            in.birth_date = birth;
        } else {
            /* accept 1950/3/7 and 1950.3.7 */
            int y, m, dd;
            char sep1, sep2, rest;
            if (sscanf(v[COL_BIRTH], "%d%c%d%c%d%c", &y, &sep1, &m, &sep2, &dd, &rest) == 5 && sep1 == sep2 &&
                (sep1 == '/' || sep1 == '.') && date_valid(y, m, dd)) {
                date_format((nx_date){y, m, dd}, birth);
                in.birth_date = birth;
            } else {
                return nx_fail(e, NX_EINVAL, "birth_date", "出生日期格式应为 YYYY-MM-DD");
            }
        }
    }
    in.phone = v[COL_PHONE];
    in.ethnicity = v[COL_ETHNICITY];
    in.political = v[COL_POLITICAL];
    in.relation = v[COL_RELATION];
    in.residence = v[COL_RESIDENCE];
    in.care_level = v[COL_CARE];
    in.work = v[COL_WORK];
    in.notes = v[COL_NOTES];
    int rc;
    if (v[COL_GRID]) {
        store_param p[] = {P_TEXT(v[COL_GRID]), P_INT(c->who->community_id),
                           P_INT(c->who->scope == SCOPE_ALL || c->who->scope == SCOPE_STREET)};
        int lrc = store_one_int(c->tx, "SELECT id FROM grids WHERE name = $1 AND (community_id = $2 OR $3 = 1) LIMIT 1",
                                p, 3, &in.grid_id, e);
        if (lrc == NX_ENOTFOUND)
            return nx_fail(e, NX_EINVAL, "grid_id", "网格“%s”不存在", v[COL_GRID]);
        if (lrc)
            return lrc;
    }
    if (v[COL_ESTATE] || v[COL_BUILDING] || v[COL_ROOM]) {
        if (!v[COL_ESTATE] || !v[COL_BUILDING] || !v[COL_ROOM])
            return nx_fail(e, NX_EINVAL, "room_id", "小区、楼栋、房号须一起填写");
        if ((rc = find_room(c, v[COL_ESTATE], v[COL_BUILDING], v[COL_UNIT], v[COL_ROOM], &in.room_id, e)))
            return rc;
    }
    if (v[COL_HOUSEHOLD] && (rc = find_household(c, v[COL_HOUSEHOLD], in.room_id, in.grid_id, &in.household_id, e)))
        return rc;
    json_t *tags = NULL, *contacts = NULL;
    if (v[COL_TAGS]) {
        tags = json_array();
        char tb[256];
        str_copy(tb, v[COL_TAGS], sizeof tb);
        char *save = NULL;
        for (char *t = strtok_r(tb, ",，、;； ", &save); t; t = strtok_r(NULL, ",，、;； ", &save))
            json_array_append_new(tags, json_string(t));
        in.tags = tags;
    }
    if (v[COL_CONTACT] || v[COL_CONTACT_PHONE]) {
        contacts = json_pack("[{s:s, s:s, s:s}]", "name", v[COL_CONTACT] ? v[COL_CONTACT] : "", "relation",
                             v[COL_CONTACT_REL] ? v[COL_CONTACT_REL] : "家属", "phone",
                             v[COL_CONTACT_PHONE] ? v[COL_CONTACT_PHONE] : "");
        in.contacts = contacts;
    }
    int64_t id;
    rc = people_resident_create_tx(c->app, c->tx, c->who, &in, &id, e);
    json_decref(tags);
    json_decref(contacts);
    (void)rownum;
    return rc;
}

int people_import(nx_app *app, const nx_principal *who, const void *data, size_t len, const char *hint,
                  bool dry_run, json_t **report, nx_err *e)
{
    if (!perm_has(who, RIGHT_IMPORT))
        return nx_fail(e, NX_EPERM, "", "无权导入居民");
    sheet_reader *sr;
    int rc = sheet_open_mem(data, len, hint, &sr, e);
    if (rc) {
        if (rc == NX_EINVAL || rc == NX_EUNSUPP || rc == NX_ETOOBIG)
            str_copy(e->field, "file", sizeof e->field); /* what to fix is the file */
        return rc;
    }
    import_ctx c = {.app = app, .who = who, .dry_run = dry_run, .errors = json_array()};
    const char *const *cells;
    int n, total = 0, valid = 0;
    json_t *ignored = json_array();
    if ((rc = sheet_next_row(sr, &cells, &n)) != 1) {
        rc = rc < 0 ? nx_fail(e, rc, "file", "%s", sheet_error(sr)->msg)
                    : nx_fail(e, NX_EINVAL, "file", "文件是空的：第一行应为表头");
        goto out;
    }
    for (int i = 0; i < COL_COUNT; i++)
        c.map[i] = -1;
    for (int i = 0; i < n; i++) {
        int k = header_col(cells[i]);
        if (k >= 0 && c.map[k] < 0)
            c.map[k] = i;
        else if (cells[i][0])
            json_array_append_new(ignored, json_string(cells[i]));
    }
    if (c.map[COL_NAME] < 0 || c.map[COL_ID] < 0) {
        rc = nx_fail(e, NX_EINVAL, "file", "表头缺少必填列“%s”，请使用导入模板",
                     c.map[COL_NAME] < 0 ? "姓名" : "证件号码");
        goto out;
    }
    if ((rc = store_begin(app->db, STORE_WRITE, &c.tx, e)))
        goto out;
    while ((rc = sheet_next_row(sr, &cells, &n)) == 1) {
        int rownum = sheet_row_number(sr);
        total++;
        nx_err re;
        nx_err_clear(&re);
        if ((rc = store_savepoint(c.tx, e)))
            break;
        int r = import_row(&c, cells, n, rownum, &re);
        if (r == 0) {
            valid++;
            rc = store_savepoint_release(c.tx, e);
        } else {
            add_error(&c, rownum, field_column(re.field), re.field, re.msg[0] ? re.msg : "数据有误");
            rc = store_savepoint_rollback(c.tx, e);
        }
        if (rc)
            break;
    }
    if (rc < 0) {
        if (e->code == 0)
            nx_fail(e, rc, "file", "%s", sheet_error(sr)->msg);
        store_rollback(c.tx);
        goto out;
    }
    if (dry_run)
        rc = 0;
    else
        rc = audit_write_new(
            c.tx, who, "import", "resident", 0, who->community_id,
            json_pack("{s:i, s:i, s:b}", "total_rows", total, "imported", valid, "dry_run", false), e);
    if (dry_run || rc)
        store_rollback(c.tx);
    else
        rc = store_commit(c.tx, e);
    if (rc)
        goto out;
    *report = json_pack("{s:b, s:i, s:i, s:i, s:i, s:O, s:O}", "dry_run", dry_run, "total_rows", total,
                        "valid_rows", valid, "bad_rows", total - valid, "imported", dry_run ? 0 : valid,
                        "errors", c.errors, "ignored_columns", ignored);
    nx_log(LOG_INFO, "people.import rows=%d valid=%d dry_run=%d", total, valid, dry_run);
out:
    json_decref(ignored);
    json_decref(c.errors);
    sheet_close(sr);
    return rc;
}

/* ---- export ---- */

static const char *const export_titles[] = {"姓名", "性别", "年龄", "出生日期", "证件类型", "证件号码", "联系电话",
                                            "网格", "小区楼栋", "与户主关系", "户籍状态", "关怀等级", "标签", "状态",
                                            "详细地址"};
static const double export_widths[] = {10, 6, 6, 12, 12, 22, 15, 12, 20, 10, 10, 10, 24, 8, 30};

/* The residents an export wrote, counted per community: each community's audit view shows the
 * exports that touched its residents, also those made by a street or city account (whose own
 * community is none). */
typedef struct export_comm {
    int64_t community, count;
} export_comm;

typedef struct export_ctx {
    xlsx_out *x;
    vec comms; /* export_comm, in order of first appearance */
} export_ctx;

static int count_community(export_ctx *c, int64_t community)
{
    export_comm *a = c->comms.items;
    for (size_t i = 0; i < c->comms.len; i++)
        if (a[i].community == community) {
            a[i].count++;
            return 0;
        }
    export_comm n = {community, 1};
    vec_push(&c->comms, &n); /* a failure is kept in the vec: vec_error after the walk */
    return 0;
}

static const char *sval(json_t *row, const char *key)
{
    const char *s = json_string_value(json_object_get(row, key));
    return s ? s : "";
}

static int export_row(json_t *row, void *ctx)
{
    export_ctx *c = ctx;
    char age[8];
    snprintf(age, sizeof age, "%lld", (long long)json_integer_value(json_object_get(row, "age")));
    /* every tag of the resident in one cell (at most 50 tags of a short name: far below the cap) */
    strbuf tags;
    strbuf_init(&tags, 64 * 1024);
    size_t i;
    json_t *t;
    int rc = 0;
    json_array_foreach(json_object_get(row, "tags"), i, t) {
        if (rc == 0)
            rc = strbuf_printf(&tags, "%s%s", i ? "、" : "", sval(t, "name"));
    }
    if (rc == 0)
        rc = count_community(c, json_integer_value(json_object_get(row, "community_id")));
    if (rc == 0) {
        const char *cells[] = {sval(row, "name"), sval(row, "sex_label"), age, sval(row, "birth_date"),
                               sval(row, "id_type_label"), sval(row, "id_number"), sval(row, "phone"),
                               sval(row, "grid_name"), sval(row, "location"), sval(row, "relation_label"),
                               sval(row, "residence_label"), sval(row, "care_level_label"),
                               tags.data ? tags.data : "", sval(row, "status_label"), sval(row, "address")};
        rc = xlsx_out_row_typed(c->x, cells, "ssnsssssssssss" "s", 15);
    }
    strbuf_cleanup(&tags);
    return rc;
}

int people_export_xlsx(nx_app *app, const nx_principal *who, const resident_query *q0, bool reveal, const char *path,
                       int64_t *count, nx_err *e)
{
    resident_query q = *q0;
    q.cursor = NULL;
    q.limit = (int)app->cfg->export_max_rows;
    export_ctx c;
    vec_init(&c.comms, sizeof(export_comm), 0);
    int rc = export_open(path, "居民名单", export_titles, export_widths, 15, &c.x, e);
    if (rc)
        goto done;
    if ((rc = people_resident_each(app, who, &q, reveal, export_row, &c, count, e)) ||
        (rc = vec_error(&c.comms, e))) {
        xlsx_out_discard(c.x);
        goto done;
    }
    if ((rc = xlsx_out_close(c.x, e)))
        goto done;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        goto done;
    /* one entry per community whose residents are in the file (each community's audit view sees
     * its own count and the total); none touched: one entry in the caller's community */
    const export_comm *a = c.comms.items;
    size_t n = c.comms.len ? c.comms.len : 1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = audit_write_new(tx, who, "export", "resident", 0, c.comms.len ? a[i].community : who->community_id,
                             json_pack("{s:I, s:I, s:b}", "count", (json_int_t)(c.comms.len ? a[i].count : 0),
                                       "total", (json_int_t)*count, "revealed", reveal),
                             e);
    if (rc)
        store_rollback(tx);
    else
        rc = store_commit(tx, e);
done:
    vec_cleanup(&c.comms);
    return rc;
}

int people_template_xlsx(const char *path, nx_err *e)
{
    xlsx_out *x;
    double widths[COL_COUNT];
    const char *titles[COL_COUNT];
    for (int i = 0; i < COL_COUNT; i++) {
        widths[i] = i == COL_ID ? 22 : 12;
        titles[i] = people_import_columns[i];
    }
    int rc = export_open(path, "居民导入模板", titles, widths, COL_COUNT, &x, e);
    if (rc)
        return rc;
    const char *example[COL_COUNT] = {"张示例", "男", "居民身份证", "11010519491231002X", "1949-12-31", "13800000000",
                                      "汉族", "群众", "户主", "户籍", "第一网格", "示例小区", "1号楼", "1单元", "101",
                                      "H0001", "高龄、独居", "常态", "", "示例行：导入前请删除", "张小示", "子女",
                                      "13900000000"};
    if ((rc = xlsx_out_row(x, example, COL_COUNT))) {
        xlsx_out_discard(x);
        return nx_fail(e, rc, "", "生成模板失败");
    }
    return xlsx_out_close(x, e);
}
