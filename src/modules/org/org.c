/* org.c — the rules of the organisation tree: streets, communities, grids, estates, buildings,
 * rooms, shops and the tag catalogue.
 *
 * Eight kinds of object share one shape (list, get, create, update), so the file is driven by a
 * table: each kind names its table, the columns it shows, its FROM clause, which input fields it
 * takes and which are required. The per-kind code that remains is what really differs: the scope
 * condition, the list filters, the references a write must check, and the JSON of a row.
 *
 * Invariants.
 * - Scope is always part of the SQL (scope_cond): a read of a row out of scope finds nothing, so
 *   the caller answers 404, never 403 with data. Writes first find the target with the same
 *   condition, then ask perm_covers for the write itself.
 * - Every row below a community carries that community's id and every reference it holds (a
 *   building's estate and grid, an estate's or shop's grid) points into the same community. The
 *   community of a new row comes from its parent or from the caller, never from a free choice of
 *   a community-scoped caller.
 * - A grid worker sees the grids, buildings and shops of their grid, the rooms of those
 *   buildings, and the estates assigned to their grid or holding one of its buildings.
 * - Every change writes one audit row in the same transaction, naming the changed fields, never
 *   their values (a shop's phone is personal data).
 * - Shop phones are stored encrypted (field_encrypt) with their last 4 digits for search, and are
 *   shown masked. An estate's name_pinyin follows its name, so "xingfu" finds 幸福里小区.
 *
 * SQL is written for both backends: $N parameters numbered in order of appearance and never
 * reused (a repeated value is bound twice), "1 = 1" rather than a bare integer as a condition.
 *
 * Threads: no state of its own; every function runs its own transaction (org_room_label and
 * org_seed_tags run on the caller's). Caveat: resident counts of estates and buildings read
 * residents by estate_id and room_id, which 001_init does not index; fine for one community,
 * worth an index before a district-sized database. */
#include "modules/org/org.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/log.h"
#include "base/str.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "store/page.h"
#include "store/query.h"
#include "text/mask.h"
#include "text/phone.h"
#include "text/pinyin.h"

#define Q_MAX_CHARS 50
#define WB_PARAMS 24 /* columns of one INSERT or UPDATE (wb below) */

/* ---- fields ---- */

#define FIELD(k, lbl, b, t, member, maxc) {k, lbl, b, t, offsetof(org_input, member), maxc}

static const org_field fields[] = {
    FIELD("street_id", "街道", ORG_F_STREET_ID, ORG_T_ID, street_id, 0),
    FIELD("community_id", "社区", ORG_F_COMMUNITY_ID, ORG_T_ID, community_id, 0),
    FIELD("grid_id", "网格", ORG_F_GRID_ID, ORG_T_ID, grid_id, 0),
    FIELD("estate_id", "小区", ORG_F_ESTATE_ID, ORG_T_ID, estate_id, 0),
    FIELD("building_id", "楼栋", ORG_F_BUILDING_ID, ORG_T_ID, building_id, 0),
    FIELD("name", "名称", ORG_F_NAME, ORG_T_TEXT, name, 50),
    FIELD("code", "编码", ORG_F_CODE, ORG_T_TEXT, code, 32),
    FIELD("description", "说明", ORG_F_DESCRIPTION, ORG_T_TEXT, description, 500),
    FIELD("address", "地址", ORG_F_ADDRESS, ORG_T_TEXT, address, 200),
    FIELD("phone", "电话", ORG_F_PHONE, ORG_T_TEXT, phone, 30),
    FIELD("built_year", "建成年份", ORG_F_BUILT_YEAR, ORG_T_INT, built_year, 0),
    FIELD("kind", "类型", ORG_F_KIND, ORG_T_TEXT, kind, 20),
    FIELD("property_company", "物业公司", ORG_F_PROPERTY_COMPANY, ORG_T_TEXT, property_company, 100),
    FIELD("floors", "层数", ORG_F_FLOORS, ORG_T_INT, floors, 0),
    FIELD("units", "单元数", ORG_F_UNITS, ORG_T_INT, units, 0),
    FIELD("has_elevator", "是否有电梯", ORG_F_HAS_ELEVATOR, ORG_T_BOOL, has_elevator, 0),
    FIELD("unit", "单元", ORG_F_UNIT, ORG_T_TEXT, unit, 20),
    FIELD("number", "房号", ORG_F_NUMBER, ORG_T_TEXT, number, 20),
    FIELD("floor", "楼层", ORG_F_FLOOR, ORG_T_INT, floor, 0),
    FIELD("area", "面积", ORG_F_AREA, ORG_T_REAL, area, 0),
    FIELD("owner_name", "经营者", ORG_F_OWNER_NAME, ORG_T_TEXT, owner_name, 50),
    FIELD("license_no", "营业执照号", ORG_F_LICENSE_NO, ORG_T_TEXT, license_no, 50),
    FIELD("status", "状态", ORG_F_STATUS, ORG_T_TEXT, status, 20),
    FIELD("category", "类别", ORG_F_CATEGORY, ORG_T_TEXT, category, 20),
    FIELD("rule", "规则", ORG_F_RULE, ORG_T_TEXT, rule, 64),
    FIELD("sort", "排序", ORG_F_SORT, ORG_T_INT, sort, 0),
    FIELD("lat_e6", "纬度", ORG_F_LAT_E6, ORG_T_INT, lat_e6, 0),
    FIELD("lon_e6", "经度", ORG_F_LON_E6, ORG_T_INT, lon_e6, 0),
    {NULL, NULL, 0, ORG_T_ID, 0, 0},
};

const org_field *org_field_table(void)
{
    return fields;
}

static const char *const *text_at(const org_input *in, const org_field *f)
{
    return (const char *const *)(const void *)((const char *)in + f->off);
}

static int64_t int_at(const org_input *in, const org_field *f)
{
    return *(const int64_t *)(const void *)((const char *)in + f->off);
}

/* ---- enumerations ---- */

static const char *const estate_kinds[][2] = {
    {"old", "老旧小区"}, {"commercial", "商品房小区"}, {"unit", "单位宿舍"}, {"other", "其他"}, {NULL, NULL}};
static const char *const shop_kinds[][2] = {{"shop", "商铺"},   {"restaurant", "餐饮"},     {"market_stall", "夜市摊位"},
                                            {"service", "生活服务"}, {"other", "其他"}, {NULL, NULL}};
static const char *const shop_statuses[][2] = {{"open", "营业中"}, {"closed", "已停业"}, {NULL, NULL}};
static const char *const tag_categories[][2] = {
    {"care", "关爱"}, {"identity", "身份"}, {"work", "工作"}, {NULL, NULL}};

/* The label of code in t, NULL when it is not there (every table here ends with {NULL, NULL}, where
 * str_label stops). */
static const char *label_of(const char *const (*t)[2], const char *code)
{
    return str_label(t, SIZE_MAX, code);
}

/* ---- kinds ---- */

/* What a kind's JSON adds to the columns its json spec reads: labels, a masked phone. */
typedef void (*row_extra_fn)(nx_app *app, store_rows *r, json_t *o);

static void estate_extra(nx_app *app, store_rows *r, json_t *o);
static void room_extra(nx_app *app, store_rows *r, json_t *o);
static void shop_extra(nx_app *app, store_rows *r, json_t *o);

typedef struct kind_def {
    const char *name, *label, *table;
    const char *cols;       /* what row() reads, column 0 is the id */
    const char *from;       /* FROM clause with the kind's alias */
    const char *id_col;     /* "g.id" */
    const char *place_cols; /* community id, grid id of a row (0 when none) */
    const char *order;      /* ORDER BY of lists */
    uint32_t create, patch, required;
    bool updated_at;        /* the table has updated_at */
    const char *json;       /* a row's JSON, column by column (store_json_row) */
    row_extra_fn extra;     /* and what it adds to it; NULL: nothing */
} kind_def;

static const kind_def kinds[ORG_KIND_COUNT] = {
    [ORG_STREET] = {
        "street", "街道", "streets",
        "s.id, s.name, s.code, (SELECT COUNT(*) FROM communities c WHERE c.street_id = s.id)",
        "streets s", "s.id", "0, 0", "s.id",
        ORG_F_NAME | ORG_F_CODE, ORG_F_NAME | ORG_F_CODE, ORG_F_NAME, false,
        "id:i name:t code:t community_count:i", NULL},
    [ORG_COMMUNITY] = {
        "community", "社区", "communities",
        "c.id, c.street_id, st.name, c.name, c.code, c.address, c.phone, "
        "(SELECT COUNT(*) FROM grids g WHERE g.community_id = c.id), "
        "(SELECT COUNT(*) FROM residents r WHERE r.community_id = c.id AND r.status = 'active')",
        "communities c JOIN streets st ON st.id = c.street_id", "c.id", "c.id, 0", "c.id",
        ORG_F_STREET_ID | ORG_F_NAME | ORG_F_CODE | ORG_F_ADDRESS | ORG_F_PHONE,
        ORG_F_STREET_ID | ORG_F_NAME | ORG_F_CODE | ORG_F_ADDRESS | ORG_F_PHONE,
        ORG_F_STREET_ID | ORG_F_NAME, false,
        "id:i street_id:i street_name:t name:t code:t address:t phone:t grid_count:i resident_count:i", NULL},
    [ORG_GRID] = {
        "grid", "网格", "grids",
        "g.id, g.community_id, g.name, g.code, g.description, "
        "(SELECT COUNT(*) FROM residents r WHERE r.grid_id = g.id AND r.status = 'active'), "
        "(SELECT COUNT(*) FROM buildings b WHERE b.grid_id = g.id)",
        "grids g", "g.id", "g.community_id, g.id", "g.id",
        ORG_F_COMMUNITY_ID | ORG_F_NAME | ORG_F_CODE | ORG_F_DESCRIPTION,
        ORG_F_NAME | ORG_F_CODE | ORG_F_DESCRIPTION, ORG_F_NAME, true,
        "id:i community_id:i name:t code:t description:t resident_count:i building_count:i", NULL},
    [ORG_ESTATE] = {
        "estate", "小区", "estates",
        "e.id, e.community_id, e.grid_id, e.name, e.address, e.built_year, e.kind, e.property_company, "
        "(SELECT COUNT(*) FROM buildings b WHERE b.estate_id = e.id), "
        "(SELECT COUNT(*) FROM households h JOIN rooms ro ON ro.id = h.room_id "
        "JOIN buildings b ON b.id = ro.building_id WHERE b.estate_id = e.id), "
        "(SELECT COUNT(*) FROM residents r WHERE r.estate_id = e.id AND r.status = 'active')",
        "estates e", "e.id", "e.community_id, e.grid_id", "e.id",
        ORG_F_COMMUNITY_ID | ORG_F_GRID_ID | ORG_F_NAME | ORG_F_ADDRESS | ORG_F_BUILT_YEAR | ORG_F_KIND |
            ORG_F_PROPERTY_COMPANY,
        ORG_F_GRID_ID | ORG_F_NAME | ORG_F_ADDRESS | ORG_F_BUILT_YEAR | ORG_F_KIND | ORG_F_PROPERTY_COMPANY,
        ORG_F_NAME, true,
        "id:i community_id:i grid_id:i name:t address:t built_year:i kind:t property_company:t building_count:i "
        "household_count:i resident_count:i",
        estate_extra},
    [ORG_BUILDING] = {
        "building", "楼栋", "buildings",
        "b.id, b.community_id, b.estate_id, e.name, b.grid_id, g.name, b.name, b.floors, b.units, "
        "b.has_elevator, (SELECT COUNT(*) FROM rooms ro WHERE ro.building_id = b.id), "
        "(SELECT COUNT(*) FROM residents r JOIN rooms ro ON ro.id = r.room_id "
        "WHERE ro.building_id = b.id AND r.status = 'active'), b.lat_e6, b.lon_e6",
        "buildings b JOIN estates e ON e.id = b.estate_id LEFT JOIN grids g ON g.id = b.grid_id", "b.id",
        "b.community_id, b.grid_id", "b.id",
        ORG_F_ESTATE_ID | ORG_F_GRID_ID | ORG_F_NAME | ORG_F_FLOORS | ORG_F_UNITS | ORG_F_HAS_ELEVATOR |
            ORG_F_LAT_E6 | ORG_F_LON_E6,
        ORG_F_ESTATE_ID | ORG_F_GRID_ID | ORG_F_NAME | ORG_F_FLOORS | ORG_F_UNITS | ORG_F_HAS_ELEVATOR |
            ORG_F_LAT_E6 | ORG_F_LON_E6,
        ORG_F_ESTATE_ID | ORG_F_NAME, true,
        "id:i community_id:i estate_id:i estate_name:t grid_id:i grid_name:t name:t floors:i units:i has_elevator:b "
        "room_count:i resident_count:i lat_e6:i lon_e6:i",
        NULL},
    [ORG_ROOM] = {
        "room", "房屋", "rooms",
        "ro.id, ro.building_id, ro.unit, ro.number, ro.floor, ro.area, e.name, b.name",
        "rooms ro JOIN buildings b ON b.id = ro.building_id JOIN estates e ON e.id = b.estate_id", "ro.id",
        "ro.community_id, b.grid_id", "ro.id",
        ORG_F_BUILDING_ID | ORG_F_UNIT | ORG_F_NUMBER | ORG_F_FLOOR | ORG_F_AREA,
        ORG_F_UNIT | ORG_F_NUMBER | ORG_F_FLOOR | ORG_F_AREA, ORG_F_BUILDING_ID | ORG_F_NUMBER, false,
        "id:i building_id:i unit:t number:t floor:i area:r", room_extra},
    [ORG_SHOP] = {
        "shop", "商铺", "shops",
        "s.id, s.community_id, s.grid_id, s.name, s.kind, s.address, s.owner_name, s.phone_enc, "
        "s.license_no, s.status",
        "shops s", "s.id", "s.community_id, s.grid_id", "s.id",
        ORG_F_COMMUNITY_ID | ORG_F_GRID_ID | ORG_F_NAME | ORG_F_KIND | ORG_F_ADDRESS | ORG_F_OWNER_NAME |
            ORG_F_PHONE | ORG_F_LICENSE_NO | ORG_F_STATUS,
        ORG_F_GRID_ID | ORG_F_NAME | ORG_F_KIND | ORG_F_ADDRESS | ORG_F_OWNER_NAME | ORG_F_PHONE |
            ORG_F_LICENSE_NO | ORG_F_STATUS,
        ORG_F_NAME, true, "id:i community_id:i grid_id:i name:t kind:t address:t owner_name:t - license_no:t status:t",
        shop_extra},
    [ORG_TAG] = {
        "tag", "标签", "tags", "t.id, t.code, t.name, t.category, t.rule, t.sort", "tags t", "t.id", "0, 0",
        "t.sort, t.id", ORG_F_CODE | ORG_F_NAME | ORG_F_CATEGORY | ORG_F_RULE | ORG_F_SORT,
        ORG_F_NAME | ORG_F_CATEGORY | ORG_F_RULE | ORG_F_SORT, ORG_F_CODE | ORG_F_NAME, false,
        "id:i code:t name:t category:t rule:t sort:i", NULL},
};

/* Fields that can never be null (NOT NULL columns and required references). */
static const uint32_t never_null = ORG_F_NAME | ORG_F_NUMBER | ORG_F_KIND | ORG_F_STATUS | ORG_F_CATEGORY |
                                   ORG_F_HAS_ELEVATOR | ORG_F_SORT | ORG_F_STREET_ID | ORG_F_ESTATE_ID |
                                   ORG_F_BUILDING_ID | ORG_F_COMMUNITY_ID;

static const kind_def *kdef(int kind)
{
    return kind > ORG_NONE && kind < ORG_KIND_COUNT ? &kinds[kind] : NULL;
}

const char *org_kind_name(int kind)
{
    const kind_def *k = kdef(kind);
    return k ? k->name : "";
}

uint32_t org_fields_for(int kind, bool patch)
{
    const kind_def *k = kdef(kind);
    return k ? (patch ? k->patch : k->create) : 0;
}

/* ---- JSON of rows ---- */

static json_t *j_label(const char *const (*t)[2], const char *code)
{
    const char *l = label_of(t, code);
    return l ? json_string(l) : json_null();
}

/* A row of kind k as JSON: its json spec, then its extra. NULL when out of memory. */
static json_t *kind_row(nx_app *app, const kind_def *k, store_rows *r)
{
    json_t *o = store_json_row(r, k->json);
    if (o && k->extra)
        k->extra(app, r, o);
    return o;
}

static void estate_extra(nx_app *app, store_rows *r, json_t *o)
{
    (void)app;
    json_object_set_new(o, "kind_label", j_label(estate_kinds, store_text(r, 6)));
}

/* "幸福里小区 3号楼 2单元 401" into out, cut at a character boundary when n is short. */
static void make_label(const char *estate, const char *building, const char *unit, const char *number,
                       char *out, size_t n)
{
    char full[1024];
    if (n == 0)
        return;
    if (unit && *unit)
        snprintf(full, sizeof full, "%s %s %s %s", estate ? estate : "", building ? building : "", unit,
                 number ? number : "");
    else
        snprintf(full, sizeof full, "%s %s %s", estate ? estate : "", building ? building : "",
                 number ? number : "");
    size_t len = strlen(full), m = len < n - 1 ? len : n - 1;
    while (m > 0 && m < len && ((unsigned char)full[m] & 0xC0) == 0x80)
        m--;
    memcpy(out, full, m);
    out[m] = '\0';
}

static void room_extra(nx_app *app, store_rows *r, json_t *o)
{
    (void)app;
    char label[512];
    make_label(store_text(r, 6), store_text(r, 7), store_text(r, 2), store_text(r, 3), label, sizeof label);
    json_object_set_new(o, "label", json_string(label));
}

static void shop_extra(nx_app *app, store_rows *r, json_t *o)
{
    json_object_set_new(o, "kind_label", j_label(shop_kinds, store_text(r, 4)));
    json_object_set_new(o, "status_label", j_label(shop_statuses, store_text(r, 9)));
    size_t len = 0;
    const void *enc = store_blob(r, 7, &len);
    if (enc == NULL || len == 0) {
        json_object_set_new(o, "phone", json_null());
        return;
    }
    char *plain = NULL;
    char masked[64] = "****";
    if (app && app->keys && field_decrypt(app->keys, enc, len, &plain) == 0)
        mask_phone(plain, masked, sizeof masked);
    else
        nx_log(LOG_WARN, "org.shop_phone_undecryptable shop=%lld", (long long)store_int(r, 0));
    field_plain_free(plain);
    json_object_set_new(o, "phone", json_string(masked));
}

/* ---- scope ---- */

/* The scope of a street or community, which are seen from below: nothing added for the platform;
 * by_street (one $%d: the caller's street) for street scope; by_community (one $%d: the caller's
 * community) for a community's staff and grid workers, who see their own community and its street;
 * nothing visible for any other scope. */
static void scope_above(sqlq *q, const nx_principal *p, const char *by_street, const char *by_community)
{
    switch (p->scope) {
    case SCOPE_ALL:
        return;
    case SCOPE_STREET:
        sqlq_add(q, by_street, P_INT(p->street_id));
        return;
    case SCOPE_COMMUNITY:
    case SCOPE_GRID:
        sqlq_add(q, by_community, P_INT(p->community_id));
        return;
    default:
        sqlq_sql(q, " AND 1 = 0");
        return;
    }
}

/* Append p's scope for kind to q. */
static void scope_cond(sqlq *q, const nx_principal *p, int kind)
{
    int a, b;
    switch (kind) {
    case ORG_TAG:
        return;
    case ORG_STREET:
        return scope_above(q, p, " AND s.id = $%d", " AND s.id = (SELECT street_id FROM communities WHERE id = $%d)");
    case ORG_COMMUNITY:
        return scope_above(q, p, " AND c.street_id = $%d", " AND c.id = $%d");
    case ORG_GRID:
        if (p->scope == SCOPE_GRID) {
            a = sqlq_param(q, P_INT(p->grid_id));
            b = sqlq_param(q, P_INT(p->community_id));
            sqlq_sql(q, " AND g.id = $%d AND g.community_id = $%d", a, b);
            return;
        }
        break;
    case ORG_ESTATE:
        if (p->scope == SCOPE_GRID) {
            a = sqlq_param(q, P_INT(p->community_id));
            b = sqlq_param(q, P_INT(p->grid_id));
            int c = sqlq_param(q, P_INT(p->grid_id));
            sqlq_sql(q,
                      " AND e.community_id = $%d AND (e.grid_id = $%d OR EXISTS (SELECT 1 FROM buildings b2 "
                      "WHERE b2.estate_id = e.id AND b2.grid_id = $%d))",
                      a, b, c);
            return;
        }
        break;
    default:
        break;
    }
    if (p->scope != SCOPE_ALL && p->scope != SCOPE_STREET && p->scope != SCOPE_COMMUNITY &&
        p->scope != SCOPE_GRID) {
        sqlq_sql(q, " AND 1 = 0"); /* self scope and unknown scopes see no organisation rows */
        return;
    }
    const char *alias = kind == ORG_GRID ? "g." : kind == ORG_ESTATE ? "e." : kind == ORG_SHOP ? "s." : "b.";
    perm_scope_q(p, alias, NULL, q);
}

static bool may_read(const nx_principal *p, int kind)
{
    if (perm_has(p, RIGHT_ORG_READ))
        return true;
    return kind == ORG_TAG && perm_has(p, RIGHT_PEOPLE_READ);
}

/* Find row id of kind within p's scope; fill its community and grid (0 when none). */
static int visible(store_tx *tx, const nx_principal *p, int kind, int64_t id, int64_t *community,
                   int64_t *grid, const char *field, nx_err *e)
{
    const kind_def *k = kdef(kind);
    sqlq q;
    sqlq_init(&q, NULL);
    sqlq_sql(&q, "SELECT %s FROM %s WHERE 1 = 1", k->place_cols, k->from);
    sqlq_sql(&q, " AND %s = $%d", k->id_col, sqlq_param(&q, P_INT(id)));
    scope_cond(&q, p, kind);
    store_rows *r;
    int rc = sqlq_query(tx, &q, &r, e);
    if (rc)
        return rc;
    char missing[64];
    snprintf(missing, sizeof missing, "%s不存在", k->label);
    if ((rc = store_first(r, missing, e)) == 0) {
        if (community)
            *community = store_int(r, 0);
        if (grid)
            *grid = store_int(r, 1);
    } else if (rc == NX_ENOTFOUND) {
        nx_fail(e, NX_ENOTFOUND, field, "%s", missing);
    }
    store_rows_free(r);
    return rc;
}

/* ---- reading ---- */

/* A list filter of one kind: a member of org_filter (an id, or a code checked against allowed)
 * and the condition it adds when given. */
typedef struct kind_filter {
    int kind;
    size_t off;                /* offsetof(org_filter, …) */
    const char *cond;          /* " AND b.grid_id = $%d" */
    const char *const (*allowed)[2]; /* NULL: an int64_t id; else a const char * code from this table */
    const char *field, *invalid;
} kind_filter;

#define ID_FILTER(kind, member, cond) {kind, offsetof(org_filter, member), cond, NULL, NULL, NULL}
#define CODE_FILTER(kind, member, cond, allowed, invalid) \
    {kind, offsetof(org_filter, member), cond, allowed, #member, invalid}

static const kind_filter kind_filters[] = {
    ID_FILTER(ORG_COMMUNITY, street_id, " AND c.street_id = $%d"),
    ID_FILTER(ORG_GRID, community_id, " AND g.community_id = $%d"),
    ID_FILTER(ORG_ESTATE, community_id, " AND e.community_id = $%d"),
    CODE_FILTER(ORG_ESTATE, kind, " AND e.kind = $%d", estate_kinds, "小区类型无效"),
    ID_FILTER(ORG_BUILDING, community_id, " AND b.community_id = $%d"),
    ID_FILTER(ORG_BUILDING, grid_id, " AND b.grid_id = $%d"),
    ID_FILTER(ORG_BUILDING, estate_id, " AND b.estate_id = $%d"),
    ID_FILTER(ORG_ROOM, building_id, " AND ro.building_id = $%d"),
    ID_FILTER(ORG_SHOP, community_id, " AND s.community_id = $%d"),
    ID_FILTER(ORG_SHOP, grid_id, " AND s.grid_id = $%d"),
    CODE_FILTER(ORG_SHOP, kind, " AND s.kind = $%d", shop_kinds, "商铺类型无效"),
    CODE_FILTER(ORG_SHOP, status, " AND s.status = $%d", shop_statuses, "商铺状态无效"),
    CODE_FILTER(ORG_TAG, category, " AND t.category = $%d", tag_categories, "标签类别无效"),
};

/* What the search word q matches, per kind: a LIKE on like_col, or also (same parameter) on
 * also_col, or an exact match on eq_col (a shop's phone tail). */
static const struct {
    const char *like_col, *also_col, *eq_col;
} searches[ORG_KIND_COUNT] = {
    [ORG_STREET] = {"s.name", NULL, NULL},        [ORG_COMMUNITY] = {"c.name", NULL, NULL},
    [ORG_GRID] = {"g.name", NULL, NULL},          [ORG_ESTATE] = {"e.name", "e.name_pinyin", NULL},
    [ORG_BUILDING] = {"b.name", NULL, NULL},      [ORG_ROOM] = {"ro.number", NULL, NULL},
    [ORG_SHOP] = {"s.name", NULL, "s.phone_tail"}, [ORG_TAG] = {"t.name", "t.code", NULL},
};

static int filters(sqlq *q, int kind, const org_filter *f, nx_err *e)
{
    if (f->q && *f->q) {
        if (!str_utf8_valid(f->q, strlen(f->q)) || str_utf8_len(f->q) > Q_MAX_CHARS)
            return nx_fail(e, NX_EINVAL, "q", "搜索词不能超过 %d 个字", Q_MAX_CHARS);
    }
    for (size_t i = 0; i < sizeof kind_filters / sizeof kind_filters[0]; i++) {
        const kind_filter *kf = &kind_filters[i];
        const void *at = (const char *)f + kf->off;
        if (kf->kind != kind)
            continue;
        if (kf->allowed == NULL) {
            int64_t id = *(const int64_t *)at;
            if (id)
                sqlq_add(q, kf->cond, P_INT(id));
            continue;
        }
        const char *code = *(const char *const *)at;
        if (code) { /* given: one of the codes; empty is not "any" (the kit's rule, app_query_enum) */
            if (!label_of(kf->allowed, code))
                return nx_fail(e, NX_EINVAL, kf->field, "%s", kf->invalid);
            sqlq_add(q, kf->cond, P_TEXT(code));
        }
    }
    if (kind == ORG_ESTATE && f->grid_id) {
        int a = sqlq_param(q, P_INT(f->grid_id));
        int b = sqlq_param(q, P_INT(f->grid_id));
        sqlq_sql(q,
                  " AND (e.grid_id = $%d OR EXISTS (SELECT 1 FROM buildings b3 WHERE b3.estate_id = e.id "
                  "AND b3.grid_id = $%d))",
                  a, b);
    }
    if (!(f->q && *f->q) || kdef(kind) == NULL)
        return 0;
    char cond[96];
    if (searches[kind].also_col == NULL && searches[kind].eq_col == NULL) {
        snprintf(cond, sizeof cond, " AND %s LIKE $%%d ESCAPE '!'", searches[kind].like_col);
        sqlq_like(q, cond, f->q, true);
        return 0;
    }
    snprintf(cond, sizeof cond, " AND (%s LIKE $%%d ESCAPE '!'", searches[kind].like_col);
    int a = sqlq_like(q, cond, f->q, true);
    if (searches[kind].also_col)
        sqlq_sql(q, " OR %s LIKE $%d ESCAPE '!')", searches[kind].also_col, a);
    else
        sqlq_sql(q, " OR %s = $%d)", searches[kind].eq_col, sqlq_param(q, P_TEXT(f->q)));
    return 0;
}

/* One item of an org list: the kind's row function with the app it needs. */
typedef struct list_ctx {
    nx_app *app;
    const kind_def *k;
} list_ctx;

static json_t *list_row(store_rows *r, void *ctx)
{
    list_ctx *c = ctx;
    return kind_row(c->app, c->k, r);
}

/* The query of kind with p's scope and f's filters: "SELECT what FROM … WHERE 1 = 1 AND …". */
static int list_query(sqlq *q, const char *what, int kind, const nx_principal *p, const org_filter *f, nx_err *e)
{
    const kind_def *k = kdef(kind);
    sqlq_init(q, NULL);
    sqlq_sql(q, "SELECT %s FROM %s WHERE 1 = 1", what, k->from);
    scope_cond(q, p, kind);
    return filters(q, kind, f, e);
}

int org_list(nx_app *app, const nx_principal *p, int kind, const org_filter *f, json_t **out, nx_err *e)
{
    const kind_def *k = kdef(kind);
    *out = NULL;
    if (k == NULL)
        return nx_fail(e, NX_EINVAL, "", "对象类型无效");
    if (!may_read(p, kind))
        return nx_fail(e, NX_EPERM, "", "无权查看%s", k->label);
    int max = app->cfg && app->cfg->page_max > 0 ? (int)app->cfg->page_max : 200;
    if (f->limit < 1 || f->limit > max)
        return nx_fail(e, NX_EINVAL, "limit", "每页条数须在 1 到 %d 之间", max);
    int64_t cursor;
    int rc = store_page_cursor_id(f->cursor, &cursor, e);
    if (rc)
        return rc;

    sqlq *q = malloc(sizeof *q), *count = malloc(sizeof *count);
    store_tx *tx = NULL;
    if (!q || !count) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    if ((rc = list_query(count, "COUNT(*)", kind, p, f, e)) || (rc = list_query(q, k->cols, kind, p, f, e)))
        goto done;
    if (cursor && kind == ORG_TAG) {
        int a = sqlq_param(q, P_INT(cursor));
        sqlq_sql(q,
                 " AND (t.sort > (SELECT sort FROM tags WHERE id = $%d) OR (t.sort = (SELECT sort FROM tags "
                 "WHERE id = $%d) AND t.id > $%d))",
                 a, a, a);
    } else if (cursor) {
        sqlq_sql(q, " AND %s > $%d", k->id_col, sqlq_param(q, P_INT(cursor)));
    }
    sqlq_sql(q, " ORDER BY %s", k->order);
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        goto done;
    if (kind == ORG_ROOM && f->building_id &&
        (rc = visible(tx, p, ORG_BUILDING, f->building_id, NULL, NULL, "building_id", e)))
        goto done;
    list_ctx c = {app, k};
    store_page_spec spec = {.limit = f->limit, .max = max, .count = count, .row_ctx = list_row, .ctx = &c};
    rc = store_page(tx, q, &spec, out, e);
done:
    store_rollback(tx);
    free(count);
    free(q);
    return rc;
}

int org_get(nx_app *app, const nx_principal *p, int kind, int64_t id, json_t **out, nx_err *e)
{
    const kind_def *k = kdef(kind);
    *out = NULL;
    if (k == NULL)
        return nx_fail(e, NX_EINVAL, "", "对象类型无效");
    if (!may_read(p, kind))
        return nx_fail(e, NX_EPERM, "", "无权查看%s", k->label);
    sqlq q;
    sqlq_init(&q, NULL);
    sqlq_sql(&q, "SELECT %s FROM %s WHERE 1 = 1", k->cols, k->from);
    sqlq_sql(&q, " AND %s = $%d", k->id_col, sqlq_param(&q, P_INT(id)));
    scope_cond(&q, p, kind);
    char missing[64];
    snprintf(missing, sizeof missing, "%s不存在", k->label);
    list_ctx c = {app, k};
    return store_get_read(app->db, &q, &(store_page_spec){.row_ctx = list_row, .ctx = &c}, missing, out, e);
}

/* ---- validation ---- */

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* "age>=80", "age<60" …: the only rule form the people module computes. */
static bool rule_valid(const char *s)
{
    if (strncmp(s, "age", 3) != 0)
        return false;
    s += 3;
    if ((s[0] == '>' || s[0] == '<') && s[1] == '=')
        s += 2;
    else if (s[0] == '>' || s[0] == '<')
        s += 1;
    else
        return false;
    int64_t v;
    return str_to_i64(s, 0, 150, &v) == 0 && isdigit((unsigned char)s[0]);
}

static bool tag_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 32 || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int check_int(const org_field *f, int64_t v, int64_t lo, int64_t hi, nx_err *e)
{
    if (v < lo || v > hi)
        return nx_fail(e, NX_EINVAL, f->key, "%s须在 %lld 到 %lld 之间", f->label, (long long)lo,
                       (long long)hi);
    return 0;
}

/* One given, non-null field of kind. */
static int check_field(int kind, const org_field *f, const org_input *in, nx_err *e)
{
    switch (f->type) {
    case ORG_T_ID:
        if (int_at(in, f) <= 0)
            return nx_fail(e, NX_EINVAL, f->key, "%s无效", f->label);
        return 0;
    case ORG_T_BOOL:
        return 0;
    case ORG_T_REAL:
        if (!isfinite(in->area) || in->area <= 0 || in->area > 100000)
            return nx_fail(e, NX_EINVAL, f->key, "面积须大于 0 且不超过 100000 平方米");
        return 0;
    case ORG_T_INT: {
        int64_t v = int_at(in, f);
        switch (f->bit) {
        case ORG_F_BUILT_YEAR:
            return check_int(f, v, 1800, date_today().y + 5, e);
        case ORG_F_FLOORS:
            return check_int(f, v, 1, 200, e);
        case ORG_F_UNITS:
            return check_int(f, v, 1, 100, e);
        case ORG_F_FLOOR:
            return check_int(f, v, -10, 300, e);
        case ORG_F_SORT:
            return check_int(f, v, -1000000, 1000000, e);
        case ORG_F_LAT_E6:
            return check_int(f, v, -90000000, 90000000, e);
        case ORG_F_LON_E6:
            return check_int(f, v, -180000000, 180000000, e);
        default:
            return 0;
        }
    }
    case ORG_T_TEXT:
        break;
    }
    const char *s = *text_at(in, f);
    if (s == NULL)
        return nx_fail(e, NX_EINVAL, f->key, "%s不能为空", f->label);
    if (!str_utf8_valid(s, strlen(s)))
        return nx_fail(e, NX_EINVAL, f->key, "%s含有无效字符", f->label);
    if (str_utf8_len(s) > f->max_chars)
        return nx_fail(e, NX_EINVAL, f->key, "%s不能超过 %zu 个字", f->label, f->max_chars);
    bool multiline = f->max_chars >= JSON_TEXT_MULTILINE; /* as base/jsonin.c: long texts may hold line breaks */
    for (const char *c = s; *c; c++)
        if (((unsigned char)*c < 0x20 || *c == 0x7f) && !(multiline && (*c == '\n' || *c == '\r' || *c == '\t')))
            return nx_fail(e, NX_EINVAL, f->key, "%s含有控制字符", f->label);
    switch (f->bit) {
    case ORG_F_NAME:
    case ORG_F_NUMBER:
        if (blank(s))
            return nx_fail(e, NX_EINVAL, f->key, "%s不能为空", f->label);
        return 0;
    case ORG_F_CODE:
        if (kind == ORG_TAG && !tag_code_valid(s))
            return nx_fail(e, NX_EINVAL, f->key,
                           "标签编码须以小写字母开头，由 2 到 32 个小写字母、数字或下划线组成");
        return 0;
    case ORG_F_KIND: {
        const char *const (*t)[2] = kind == ORG_ESTATE ? estate_kinds : shop_kinds;
        if (!label_of(t, s))
            return nx_fail(e, NX_EINVAL, f->key, "%s类型无效", kind == ORG_ESTATE ? "小区" : "商铺");
        return 0;
    }
    case ORG_F_STATUS:
        if (!label_of(shop_statuses, s))
            return nx_fail(e, NX_EINVAL, f->key, "商铺状态无效（open 或 closed）");
        return 0;
    case ORG_F_CATEGORY:
        if (!label_of(tag_categories, s))
            return nx_fail(e, NX_EINVAL, f->key, "标签类别无效（care、identity 或 work）");
        return 0;
    case ORG_F_RULE:
        if (*s && !rule_valid(s))
            return nx_fail(e, NX_EINVAL, f->key, "规则格式无效，例如 age>=80");
        return 0;
    case ORG_F_PHONE:
        if (*s) {
            char norm[PHONE_MAX];
            if (phone_parse_any(s, norm, sizeof norm, NULL))
                return nx_fail(e, NX_EINVAL, f->key, "电话号码格式不正确");
        }
        return 0;
    default:
        return 0;
    }
}

static int validate(int kind, const org_input *in, bool patch, nx_err *e)
{
    const kind_def *k = kdef(kind);
    uint32_t allowed = patch ? k->patch : k->create;
    uint32_t given = in->set & ~in->nulls;
    for (const org_field *f = fields; f->key; f++) {
        if ((in->set & f->bit) && !(allowed & f->bit))
            return nx_fail(e, NX_EINVAL, f->key, "%s不接受字段 %s", k->label, f->key);
        if (!patch && (k->required & f->bit) && !(given & f->bit))
            return nx_fail(e, NX_EINVAL, f->key, "%s不能为空", f->label);
        if (patch && (in->set & in->nulls & f->bit) && (never_null & f->bit))
            return nx_fail(e, NX_EINVAL, f->key, "%s不能为空", f->label);
    }
    for (const org_field *f = fields; f->key; f++) {
        int rc;
        if ((given & f->bit) && (rc = check_field(kind, f, in, e)))
            return rc;
    }
    return 0;
}

/* ---- writing ---- */

int org_can_write(const nx_principal *p, int kind, nx_err *e)
{
    const kind_def *k = kdef(kind);
    if (k == NULL)
        return nx_fail(e, NX_EINVAL, "", "对象类型无效");
    if (!perm_has(p, RIGHT_ORG_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权修改%s", k->label);
    if ((kind == ORG_STREET || kind == ORG_COMMUNITY) && p->scope != SCOPE_ALL)
        return nx_fail(e, NX_EPERM, "", "只有系统管理员可以修改%s", k->label);
    /* The tag list is one for the whole city (every community's residents carry the same tags):
     * a community's staff changing it would change every other community's registry. */
    if (kind == ORG_TAG && p->scope != SCOPE_ALL)
        return nx_fail(e, NX_EPERM, "", "标签目录全市共用，只有全市范围的账号可以修改");
    return 0;
}

/* The community a new grid, estate or shop goes into (see org_create). */
static int pick_community(store_tx *tx, const nx_principal *p, const org_input *in, int64_t *out, nx_err *e)
{
    bool given = (in->set & ORG_F_COMMUNITY_ID) && !(in->nulls & ORG_F_COMMUNITY_ID);
    int rc;
    if (p->scope == SCOPE_ALL || p->scope == SCOPE_STREET) {
        if (!given)
            return nx_fail(e, NX_EINVAL, "community_id", "请选择社区");
        if ((rc = visible(tx, p, ORG_COMMUNITY, in->community_id, NULL, NULL, "community_id", e)))
            return rc == NX_ENOTFOUND
                       ? nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在或不在您的管理范围内")
                       : rc;
        *out = in->community_id;
        return 0;
    }
    if (p->community_id == 0 || (given && in->community_id != p->community_id))
        return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在或不在您的管理范围内");
    *out = p->community_id;
    return 0;
}

/* id (> 0) must be a row of table in community; otherwise NX_EINVAL on field. */
static int same_community(store_tx *tx, const char *sql, int64_t id, int64_t community, const char *field,
                          const char *what, nx_err *e)
{
    int64_t c = 0;
    store_param a[] = {P_INT(id)};
    int rc = store_one_int(tx, sql, a, 1, &c, e);
    if (rc == NX_ENOTFOUND || (rc == 0 && c != community))
        return nx_fail(e, NX_EINVAL, field, "%s不存在或不属于本社区", what);
    return rc;
}

static int check_grid(store_tx *tx, const org_input *in, int64_t community, nx_err *e)
{
    if (!(in->set & ORG_F_GRID_ID) || (in->nulls & ORG_F_GRID_ID))
        return 0;
    return same_community(tx, "SELECT community_id FROM grids WHERE id = $1", in->grid_id, community, "grid_id",
                          "网格", e);
}

/* Columns and parameters of an INSERT or UPDATE being built. */
typedef struct wb {
    strbuf cols, vals;
    store_param p[WB_PARAMS];
    int n;
    json_t *names; /* changed field names, for the audit row */
    unsigned char *enc;
    char phone[PHONE_MAX], tail[8];
    char pinyin[512];
} wb;

static void wb_col(wb *w, bool update, const char *col, store_param v)
{
    if (w->n >= WB_PARAMS) {
        w->cols.overflow = true;
        return;
    }
    w->p[w->n++] = v;
    if (update) {
        strbuf_printf(&w->cols, "%s%s = $%d", w->cols.len ? ", " : "", col, w->n);
    } else {
        strbuf_printf(&w->cols, "%s%s", w->cols.len ? ", " : "", col);
        strbuf_printf(&w->vals, "%s$%d", w->vals.len ? ", " : "", w->n);
    }
}

/* Add the given input fields of kind (except community_id, which the caller resolves). */
static int wb_fields(wb *w, nx_app *app, int kind, const org_input *in, bool update, nx_err *e)
{
    for (const org_field *f = fields; f->key; f++) {
        if (!(in->set & f->bit) || f->bit == ORG_F_COMMUNITY_ID)
            continue;
        bool null = (in->nulls & f->bit) != 0;
        if (null && !update)
            continue;
        json_array_append_new(w->names, json_string(f->key));
        if (f->bit == ORG_F_PHONE) {
            const char *s = null ? NULL : in->phone;
            if (s && *s && phone_parse_any(s, w->phone, sizeof w->phone, NULL))
                return nx_fail(e, NX_EINVAL, "phone", "电话号码格式不正确");
            bool has = s && *s;
            if (kind == ORG_COMMUNITY) {
                wb_col(w, update, "phone", has ? P_TEXT(w->phone) : P_NULL);
                continue;
            }
            size_t elen = 0;
            if (has) {
                if (app->keys == NULL)
                    return nx_fail(e, NX_EINTERNAL, "", "未加载加密密钥");
                int rc = field_encrypt(app->keys, w->phone, strlen(w->phone), &w->enc, &elen);
                if (rc)
                    return nx_fail(e, rc, "phone", "电话加密失败");
                size_t d = 0;
                char digits[PHONE_MAX];
                for (const char *c = w->phone; *c; c++)
                    if (isdigit((unsigned char)*c))
                        digits[d++] = *c;
                digits[d] = '\0';
                str_copy(w->tail, d > 4 ? digits + d - 4 : digits, sizeof w->tail);
            }
            wb_col(w, update, "phone_enc", has ? P_BLOB(w->enc, elen) : P_NULL);
            wb_col(w, update, "phone_tail", has ? P_TEXT(w->tail) : P_NULL);
            continue;
        }
        if (kind == ORG_ESTATE && f->bit == ORG_F_NAME) {
            /* for search by pinyin ("xingfu" finds 幸福里小区). On failure pinyin_text leaves ""
             * (or a truncated spelling), which only loses that search, so the code is not checked. */
            w->pinyin[0] = '\0';
            (void)pinyin_text(in->name, w->pinyin, sizeof w->pinyin, NULL, 0);
            wb_col(w, update, "name_pinyin", P_TEXT(w->pinyin));
        }
        store_param v = P_NULL;
        switch (f->type) {
        case ORG_T_ID:
        case ORG_T_INT:
            if (!null)
                v = P_INT(int_at(in, f));
            break;
        case ORG_T_BOOL:
            v = P_INT(in->has_elevator ? 1 : 0);
            break;
        case ORG_T_REAL:
            if (!null)
                v = P_REAL(in->area);
            break;
        case ORG_T_TEXT: {
            const char *s = null ? NULL : *text_at(in, f);
            if (f->bit == ORG_F_UNIT)
                v = P_TEXT(s ? s : ""); /* NOT NULL DEFAULT '' */
            else if (s && *s)
                v = P_TEXT(s);
            break;
        }
        }
        wb_col(w, update, f->key, v);
    }
    return 0;
}

/* Start a create (update false) or an update of kind by p: w's empty buffers, then p's right to
 * write kind and the input's validity, then a write transaction in *tx (NULL unless it began).
 * wb_cleanup frees w in every case. */
static int wb_begin(wb *w, nx_app *app, const nx_principal *p, int kind, const org_input *in, bool update,
                    store_tx **tx, nx_err *e)
{
    *w = (wb){.n = 0};
    strbuf_init(&w->cols, 2048);
    strbuf_init(&w->vals, update ? 16 : 1024);
    w->names = json_array();
    *tx = NULL;
    int rc;
    if ((rc = org_can_write(p, kind, e)) || (rc = validate(kind, in, update, e)))
        return rc;
    return store_begin(app->db, STORE_WRITE, tx, e);
}

/* End a write of row id of kind k: the audit row naming w's fields, the commit (which takes *tx,
 * left NULL), and a log line "org.<action>". */
static int wb_finish(wb *w, store_tx **tx, const nx_principal *p, const char *action, const kind_def *k,
                     int64_t id, int64_t community, nx_err *e)
{
    int rc = audit_write_new(*tx, p, action, k->name, id, community, json_pack("{s:O}", "fields", w->names), e);
    if (rc)
        return rc;
    rc = store_commit(*tx, e);
    *tx = NULL;
    if (rc == 0)
        nx_log(LOG_INFO, "org.%s kind=%s id=%lld user=%lld", action, k->name, (long long)id,
               (long long)p->user_id);
    return rc;
}

static void wb_cleanup(wb *w)
{
    strbuf_cleanup(&w->cols);
    strbuf_cleanup(&w->vals);
    json_decref(w->names);
    free(w->enc);
}

/* Turn a unique violation into words naming the field. */
static int conflict(int kind, nx_err *e)
{
    switch (kind) {
    case ORG_STREET: return nx_fail(e, NX_ECONFLICT, "name", "已有同名街道");
    case ORG_COMMUNITY: return nx_fail(e, NX_ECONFLICT, "name", "该街道已有同名社区");
    case ORG_GRID: return nx_fail(e, NX_ECONFLICT, "name", "该社区已有同名网格");
    case ORG_ESTATE: return nx_fail(e, NX_ECONFLICT, "name", "该社区已有同名小区");
    case ORG_BUILDING: return nx_fail(e, NX_ECONFLICT, "name", "该小区已有同名楼栋");
    case ORG_ROOM: return nx_fail(e, NX_ECONFLICT, "number", "该楼栋已有相同单元和房号的房屋");
    case ORG_TAG: return nx_fail(e, NX_ECONFLICT, "name", "已有同名标签");
    default: return nx_fail(e, NX_ECONFLICT, "", "数据冲突");
    }
}

static int street_exists(store_tx *tx, int64_t street, nx_err *e)
{
    int64_t x;
    store_param a[] = {P_INT(street)};
    int rc = store_one_int(tx, "SELECT id FROM streets WHERE id = $1", a, 1, &x, e);
    return rc == NX_ENOTFOUND ? nx_fail(e, NX_EINVAL, "street_id", "街道不存在") : rc;
}

/* The grid an input names: 0 when it names none or clears it. */
static int64_t input_grid(const org_input *in)
{
    return (in->set & ORG_F_GRID_ID) && !(in->nulls & ORG_F_GRID_ID) ? in->grid_id : 0;
}

static int tag_code_free(store_tx *tx, const char *code, nx_err *e)
{
    int64_t x;
    store_param a[] = {P_TEXT(code)};
    int rc = store_one_int(tx, "SELECT id FROM tags WHERE code = $1", a, 1, &x, e);
    if (rc == 0)
        return nx_fail(e, NX_ECONFLICT, "code", "标签编码 %s 已存在", code);
    if (rc == NX_ENOTFOUND) {
        nx_err_clear(e);
        return 0;
    }
    return rc;
}

int org_create(nx_app *app, const nx_principal *p, int kind, const org_input *in, int64_t *id, nx_err *e)
{
    const kind_def *k = kdef(kind);
    int rc;
    *id = 0;
    wb w;
    store_tx *tx;
    if ((rc = wb_begin(&w, app, p, kind, in, false, &tx, e)))
        goto done;

    int64_t community = 0, grid = 0;
    switch (kind) {
    case ORG_COMMUNITY:
        rc = street_exists(tx, in->street_id, e);
        break;
    case ORG_GRID:
        rc = pick_community(tx, p, in, &community, e);
        break;
    case ORG_ESTATE:
    case ORG_SHOP:
        if (!(rc = pick_community(tx, p, in, &community, e)) && !(rc = check_grid(tx, in, community, e)))
            grid = input_grid(in);
        break;
    case ORG_BUILDING:
        if (!(rc = visible(tx, p, ORG_ESTATE, in->estate_id, &community, NULL, "estate_id", e)) &&
            !(rc = check_grid(tx, in, community, e)))
            grid = input_grid(in);
        break;
    case ORG_ROOM:
        rc = visible(tx, p, ORG_BUILDING, in->building_id, &community, &grid, "building_id", e);
        break;
    case ORG_TAG:
        rc = tag_code_free(tx, in->code, e);
        break;
    default:
        break;
    }
    if (rc)
        goto done;
    if (community && !perm_covers(p, tx, community, grid)) {
        rc = nx_fail(e, NX_EPERM, "", "无权在该范围内新建%s", k->label);
        goto done;
    }

    if ((rc = wb_fields(&w, app, kind, in, false, e)))
        goto done;
    int64_t now = clock_now_ms();
    if (community && kind != ORG_COMMUNITY)
        wb_col(&w, false, "community_id", P_INT(community));
    wb_col(&w, false, "created_at", P_INT(now));
    if (k->updated_at)
        wb_col(&w, false, "updated_at", P_INT(now));
    if (w.cols.overflow || w.vals.overflow) {
        rc = nx_fail(e, NX_ETOOBIG, "", "字段过多");
        goto done;
    }
    char sql[4096];
    snprintf(sql, sizeof sql, "INSERT INTO %s (%s) VALUES (%s) RETURNING id", k->table, w.cols.data,
             w.vals.data);
    if ((rc = store_one_int(tx, sql, w.p, w.n, id, e))) {
        rc = rc == NX_ECONFLICT    ? conflict(kind, e)
             : rc == NX_ENOTFOUND ? nx_fail(e, NX_EDB, "", "新建%s失败", k->label)
                                  : rc;
        goto done;
    }
    rc = wb_finish(&w, &tx, p, "create", k, *id, kind == ORG_COMMUNITY ? *id : community, e);
done:
    store_rollback(tx);
    wb_cleanup(&w);
    if (rc)
        *id = 0;
    return rc;
}

int org_update(nx_app *app, const nx_principal *p, int kind, int64_t id, const org_input *in, nx_err *e)
{
    const kind_def *k = kdef(kind);
    int rc;
    wb w;
    store_tx *tx;
    if ((rc = wb_begin(&w, app, p, kind, in, true, &tx, e)))
        goto done;
    int64_t community = 0, grid = 0;
    if ((rc = visible(tx, p, kind, id, &community, &grid, "", e)))
        goto done;
    if (kind == ORG_COMMUNITY)
        community = id;
    if (community && !perm_covers(p, tx, community, grid)) {
        rc = nx_fail(e, NX_EPERM, "", "无权修改该%s", k->label);
        goto done;
    }
    if (in->set == 0) {
        rc = 0;
        goto done;
    }

    switch (kind) {
    case ORG_COMMUNITY:
        if (in->set & ORG_F_STREET_ID)
            rc = street_exists(tx, in->street_id, e);
        break;
    case ORG_BUILDING:
        if ((in->set & ORG_F_ESTATE_ID) &&
            (rc = same_community(tx, "SELECT community_id FROM estates WHERE id = $1", in->estate_id, community,
                                 "estate_id", "小区", e)))
            break;
        /* fall through */
    case ORG_ESTATE:
    case ORG_SHOP:
        if ((rc = check_grid(tx, in, community, e)))
            break;
        if (in->set & ORG_F_GRID_ID) {
            if (p->scope == SCOPE_GRID && !perm_covers(p, tx, community, input_grid(in)))
                rc = nx_fail(e, NX_EPERM, "grid_id", "无权把%s移出您的网格", k->label);
        }
        break;
    default:
        break;
    }
    if (rc)
        goto done;

    if ((rc = wb_fields(&w, app, kind, in, true, e)))
        goto done;
    if (k->updated_at)
        wb_col(&w, true, "updated_at", P_INT(clock_now_ms()));
    if (w.cols.overflow || w.n >= WB_PARAMS) {
        rc = nx_fail(e, NX_ETOOBIG, "", "字段过多");
        goto done;
    }
    w.p[w.n++] = P_INT(id);
    int idn = w.n;
    char sql[4096];
    snprintf(sql, sizeof sql, "UPDATE %s SET %s WHERE id = $%d", k->table, w.cols.data, idn);
    if ((rc = store_exec(tx, sql, w.p, w.n, NULL, e))) {
        if (rc == NX_ECONFLICT)
            conflict(kind, e);
        goto done;
    }
    rc = wb_finish(&w, &tx, p, "update", k, id, community, e);
done:
    store_rollback(tx);
    wb_cleanup(&w);
    return rc;
}

/* ---- for other modules ---- */

int org_room_label(store_tx *tx, int64_t room_id, char *out, size_t n, int64_t *community_id,
                   int64_t *grid_id, int64_t *estate_id)
{
    if (out && n)
        out[0] = '\0';
    store_rows *r;
    store_param a[] = {P_INT(room_id)};
    int rc = store_query(tx,
                         "SELECT e.name, b.name, ro.unit, ro.number, ro.community_id, b.grid_id, b.estate_id "
                         "FROM rooms ro JOIN buildings b ON b.id = ro.building_id "
                         "JOIN estates e ON e.id = b.estate_id WHERE ro.id = $1",
                         a, 1, &r, NULL);
    if (rc)
        return rc;
    if ((rc = store_first(r, "房间不存在", NULL)) == 0) {
        if (out && n)
            make_label(store_text(r, 0), store_text(r, 1), store_text(r, 2), store_text(r, 3), out, n);
        if (community_id)
            *community_id = store_int(r, 4);
        if (grid_id)
            *grid_id = store_int(r, 5);
        if (estate_id)
            *estate_id = store_int(r, 6);
    }
    store_rows_free(r);
    return rc;
}

static const struct {
    const char *code, *name, *category, *rule;
} builtin_tags[] = {
    {"elderly_80", "高龄", "care", "age>=80"},
    {"living_alone", "独居", "care", NULL},
    {"solitary", "孤寡", "care", NULL},
    {"empty_nest", "空巢", "care", NULL},
    {"disabled", "残疾", "care", NULL},
    {"low_income", "低保", "care", NULL},
    {"extreme_poverty", "特困", "care", NULL},
    {"party_member", "党员", "identity", NULL},
    {"veteran", "退役军人", "identity", NULL},
    {"left_behind_elder", "留守老人", "care", NULL},
    {"office_worker", "上班族", "work", NULL},
    {"seriously_ill", "重病", "care", NULL},
    {"key_care", "重点关注", "care", NULL},
};

int org_seed_tags(store_tx *tx, nx_err *e)
{
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < sizeof builtin_tags / sizeof builtin_tags[0]; i++) {
        store_param a[] = {P_TEXT(builtin_tags[i].code), P_TEXT(builtin_tags[i].name),
                           P_TEXT(builtin_tags[i].category), P_TEXT(builtin_tags[i].rule),
                           P_INT((int64_t)(i + 1) * 10), P_INT(now)};
        int rc = store_exec(tx,
                            "INSERT INTO tags (code, name, category, rule, sort, created_at) "
                            "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                            a, 6, NULL, e);
        if (rc)
            return rc;
    }
    return 0;
}
