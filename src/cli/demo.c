/* demo.c — `nuanxin demo`: a fictional aging downtown community, generated.
 *
 * What it builds: 幸福街道 / 暖心社区 with 第一网格 … 第八网格, six estates (old walk-ups, a unit
 * dormitory, one commercial estate with lifts), their buildings, units and rooms, a dozen shops and
 * night-market stalls, then households placed in rooms until the resident target is reached. A
 * household is drawn from eight shapes (an elder living alone, an elder couple, three generations,
 * a nuclear family, a young couple, a single renter, grandparents with a grandchild, a middle-aged
 * couple with a grown child) with weights that depend on the estate, so old estates are older and
 * the commercial estate younger. Ages inside a household agree with the relations (a child is
 * 22-35 years younger than its mother, a parent older than the head). Tags, care levels, political
 * status, work, phones and emergency contacts follow from age and household shape.
 *
 * Invariants:
 * - Determinism: every random choice comes from one splitmix64 stream seeded by the seed, consumed
 *   in a fixed order; no rand(), no hash-table iteration order. Ages count from today, so the
 *   same seed on another day shifts birth dates, not the community.
 * - Nothing real: names are independent draws of surname and given name; ID numbers come from
 *   idcard_fake (valid form, fictional sequence) and are unique (a set of the first 17 digits);
 *   mobiles are 13800001234-style numbers from a handful of 7-digit fictional prefixes.
 * - Every resident goes through people_resident_create_tx, so the demo exercises the real write
 *   path (validation, encryption, blind index, pinyin, suffixes, audit, events). Organisation rows,
 *   households and residents share one write transaction: a failure leaves nothing behind.
 * - The first household is always 王建国 and his wife, an elder couple: the resident and family
 *   demo accounts are bound to him and a search for "wjg" always has someone to find.
 * Threads: runs on the caller's thread; holds the store's writer for the whole fill (~seconds).
 * Caveat: the accounts are created after the commit (users_create runs its own transactions and
 * the password hash must not run inside one), so a failing account leaves the community in place. */
#include "cli/demo.h"
#include "cli/demo_courses.h"
#include "cli/demo_library.h"
#include "cli/demo_messages.h"
#include "cli/demo_council.h"
#include "cli/demo_party.h"
#include "cli/demo_services.h"
#include "cli/demo_volunteers.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/org/org.h"
#include "modules/people/people.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "secure/password.h"
#include "secure/session.h"
#include "text/idcard.h"
#include "text/pinyin.h"

#define STREET_NAME "幸福街道"
#define COMMUNITY_NAME "暖心社区"
#define GRID_COUNT 8
#define MAX_MEMBERS 8
#define RESIDENTS_MIN 10
#define RESIDENTS_MAX 2000000

/* ---- random numbers: splitmix64 ---- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, n) (the modulo bias of a 64-bit draw is negligible here). */
static unsigned rng_below(rng *r, unsigned n)
{
    return n ? (unsigned)(rng_next(r) % n) : 0;
}

static int rng_range(rng *r, int lo, int hi)
{
    return lo + (int)rng_below(r, (unsigned)(hi - lo + 1));
}

static bool rng_chance(rng *r, double p)
{
    return rng_unit(r) < p;
}

/* ---- the organisation, as data ---- */

enum profile { PROF_AGING = 0, PROF_COMMERCIAL, PROF_RENTERS, PROF_COUNT };

typedef struct estate_def {
    const char *name, *kind, *address, *property;
    int built, buildings, floors_lo, floors_hi, units, per_floor;
    int area_lo, area_hi;
    int grid_first, grid_count; /* grid indexes 0..7 */
    int profile;
} estate_def;

static const estate_def estate_defs[] = {
    {"和平里小区", "old", "幸福街道和平路 12 号", NULL, 1986, 8, 5, 7, 3, 2, 48, 75, 0, 2, PROF_AGING},
    {"幸福苑", "old", "幸福街道幸福路 66 号", "幸福苑业主自管会", 1996, 6, 6, 7, 2, 2, 60, 95, 2, 1, PROF_AGING},
    {"建设新村", "old", "幸福街道建设路 9 号", NULL, 1979, 10, 5, 6, 3, 2, 38, 62, 3, 2, PROF_AGING},
    {"纺织宿舍", "unit", "幸福街道纺织路 3 号", "纺织厂后勤服务中心", 1982, 4, 5, 6, 3, 2, 40, 60, 5, 1,
     PROF_AGING},
    {"春晖园", "commercial", "幸福街道春晖路 188 号", "春晖物业服务有限公司", 2012, 5, 18, 26, 2, 2, 85,
     140, 6, 1, PROF_COMMERCIAL},
    {"东关老街", "old", "幸福街道东关大街 27 号", NULL, 1972, 5, 5, 6, 2, 2, 30, 55, 7, 1, PROF_RENTERS},
};
#define ESTATE_COUNT (sizeof estate_defs / sizeof estate_defs[0])

static const char *const grid_names[GRID_COUNT] = {"第一网格", "第二网格", "第三网格", "第四网格",
                                                   "第五网格", "第六网格", "第七网格", "第八网格"};

typedef struct shop_def {
    const char *name, *kind, *address;
    int estate;
    bool open;
} shop_def;

static const shop_def shop_defs[] = {
    {"暖心便民超市", "shop", "和平路 10 号", 0, true},
    {"幸福食堂", "restaurant", "建设路 11 号", 2, true},
    {"东关羊汤馆", "restaurant", "东关大街 31 号", 5, true},
    {"和平里早点铺", "restaurant", "和平路 14 号", 0, true},
    {"春晖大药房", "shop", "春晖路 190 号", 4, true},
    {"巧手裁缝铺", "service", "纺织路 5 号", 3, true},
    {"老街理发店", "service", "东关大街 25 号", 5, true},
    {"纺织路五金店", "shop", "纺织路 7 号", 3, true},
    {"夜市·烤冷面", "market_stall", "东关夜市 3 号摊位", 5, true},
    {"夜市·糖葫芦", "market_stall", "东关夜市 8 号摊位", 5, true},
    {"夜市·炒田螺", "market_stall", "东关夜市 12 号摊位", 5, true},
    {"夜市·手机贴膜", "market_stall", "东关夜市 15 号摊位", 5, true},
    {"夜市·旧书摊", "market_stall", "东关夜市 21 号摊位", 5, false},
};
#define SHOP_COUNT (sizeof shop_defs / sizeof shop_defs[0])

/* ---- households, as data ---- */

enum hh_type {
    HT_ELDER_ALONE = 0, /* one elder, 62-96 */
    HT_ELDER_COUPLE,    /* two elders */
    HT_THREE_GEN,       /* elder parent(s), the head couple, their children */
    HT_NUCLEAR,         /* a couple and one or two children */
    HT_YOUNG_COUPLE,    /* a couple under 35, sometimes a baby */
    HT_SINGLE,          /* one working-age adult, often a renter */
    HT_SKIP_GEN,        /* grandparents and a grandchild whose parents work elsewhere */
    HT_MIDDLE_ADULT,    /* a middle-aged couple and a grown child */
    HT_COUNT
};

/* Weights (per mille) of the shapes by estate profile. */
static const int hh_weights[PROF_COUNT][HT_COUNT] = {
    [PROF_AGING] = {118, 102, 80, 250, 60, 170, 35, 185},
    [PROF_COMMERCIAL] = {35, 60, 110, 410, 160, 110, 20, 95},
    [PROF_RENTERS] = {110, 90, 70, 195, 100, 290, 30, 115},
};

/* Chance that a household of the shape rents here without local registration (流动). */
static const double floating_chance[HT_COUNT] = {0.0, 0.0, 0.03, 0.14, 0.45, 0.68, 0.0, 0.05};

/* Tags (codes of org_seed_tags). */
enum {
    TAG_LIVING_ALONE = 1u << 0,
    TAG_SOLITARY = 1u << 1,
    TAG_EMPTY_NEST = 1u << 2,
    TAG_DISABLED = 1u << 3,
    TAG_LOW_INCOME = 1u << 4,
    TAG_PARTY = 1u << 5,
    TAG_VETERAN = 1u << 6,
    TAG_LEFT_BEHIND = 1u << 7,
    TAG_OFFICE = 1u << 8,
    TAG_ILL = 1u << 9,
    TAG_KEY_CARE = 1u << 10,
};
static const char *const tag_codes[] = {"living_alone", "solitary",    "empty_nest",      "disabled",
                                        "low_income",   "party_member", "veteran",         "left_behind_elder",
                                        "office_worker", "seriously_ill", "key_care"};
#define TAG_COUNT (sizeof tag_codes / sizeof tag_codes[0])

/* Fictional mobile ranges: 7-digit prefixes followed by 4 digits. */
static const char *const phone_prefixes[] = {"1380000", "1390000", "1350000", "1500000", "1860000", "1770000"};
#define PHONE_PREFIXES (sizeof phone_prefixes / sizeof phone_prefixes[0])

/* ---- generator state ---- */

typedef struct room_slot {
    int64_t id, grid;
    int estate, building, unit;
    char number[8];
} room_slot;

typedef struct member {
    char name[48];
    int sex, age;
    nx_date birth;
    const char *relation, *status;
    char status_date[11];
    unsigned tags;
    bool has_phone;
    char phone[12];
    const char *political, *education, *marital, *work, *care_level, *ethnicity, *notes;
    char c_name[48];
    const char *c_relation;
    char c_phone[12];
    bool has_contact;
    int region;
} member;

typedef struct gen {
    nx_app *app;
    store_tx *tx;
    rng r;
    unsigned seed;
    nx_principal who;
    nx_date today;
    int64_t today_days, now;
    int64_t street, community, grids[GRID_COUNT], estates[ESTATE_COUNT];
    room_slot *rooms;
    size_t n_rooms, cap_rooms, next_room;
    int buildings;
    uint64_t *ids; /* open-addressing set of the first 17 digits of issued ID numbers */
    size_t ids_mask;
    unsigned phone_seq;
    unsigned surname_total;
    /* counts */
    int households, residents, active, over60, over80, floating, moved_out, deceased;
    int64_t wjg_id;
    char wjg_name[48], wjg_contact[48];
} gen;

/* ---- small helpers ---- */

/* The failure of a demo row said as "写入演示<what>失败" (a RETURNING that gave no row as NX_EDB); a
 * column list that does not match its parameters (NX_EINTERNAL, app_insert) is left as it is. */
static int insert_failed(int rc, const char *what, nx_err *e)
{
    if (rc == 0 || rc == NX_EINTERNAL)
        return rc;
    return nx_fail(e, rc == NX_ENOTFOUND ? NX_EDB : rc, "", "写入演示%s失败", what);
}

int demo_insert_id(store_tx *tx, const char *sql, const store_param *p, int n, const char *what, int64_t *id,
                   nx_err *e)
{
    return insert_failed(store_one_int(tx, sql, p, n, id, e), what, e);
}

int demo_insert(store_tx *tx, const char *table, const char *cols, const store_param *p, int n,
                const char *what, int64_t *id, nx_err *e)
{
    return insert_failed(app_insert(tx, table, cols, p, n, id, e), what, e);
}

static int insert_id(store_tx *tx, const char *table, const char *cols, const store_param *p, int n,
                     int64_t *id, nx_err *e)
{
    return demo_insert(tx, table, cols, p, n, "数据", id, e);
}

static const char *pick_surname(gen *g)
{
    const demo_name_data *d = demo_names();
    unsigned x = rng_below(&g->r, g->surname_total);
    for (size_t i = 0; i < d->n_surnames; i++) {
        if (x < d->surnames[i].weight)
            return d->surnames[i].text;
        x -= d->surnames[i].weight;
    }
    return d->surnames[0].text;
}

static const char *pick_given(gen *g, int sex, int birth_year)
{
    int generation = birth_year < 1960 ? DEMO_GEN_ELDER : birth_year < 1990 ? DEMO_GEN_MIDDLE : DEMO_GEN_YOUNG;
    const char *const *list = demo_names()->given[generation][sex - 1];
    unsigned n = 0;
    while (list[n])
        n++;
    return list[rng_below(&g->r, n)];
}

/* A person of the given sex and age (years, 0..100); surname NULL = drawn. */
static void person(gen *g, member *m, int sex, int age, const char *surname, const char *relation)
{
    memset(m, 0, sizeof *m);
    if (age < 0)
        age = 0;
    if (age > 100)
        age = 100;
    int64_t days = g->today_days - (int64_t)age * 365 - age / 4 - (int64_t)rng_below(&g->r, 365);
    m->birth = date_from_days(days);
    m->age = date_age(m->birth, g->today);
    m->sex = sex;
    snprintf(m->name, sizeof m->name, "%s%s", surname ? surname : pick_surname(g),
             pick_given(g, sex, m->birth.y));
    m->relation = relation;
    m->status = "active";
}

static void next_phone(gen *g, char out[12])
{
    unsigned i = g->phone_seq++;
    unsigned tail = (i * 7919u + 1234u) % 10000u; /* 7919 is prime to 10000: a permutation */
    snprintf(out, 12, "%s%04u", phone_prefixes[(i / 10000u) % PHONE_PREFIXES], tail);
}

/* A random date within the last `days` days, as text. */
static void recent_date(gen *g, int days, char out[11])
{
    date_format(date_from_days(g->today_days - 1 - (int64_t)rng_below(&g->r, (unsigned)days)), out);
}

static int elder_age(gen *g)
{
    double u = rng_unit(&g->r);
    return u < 0.42 ? rng_range(&g->r, 62, 74) : u < 0.80 ? rng_range(&g->r, 75, 84) : rng_range(&g->r, 85, 96);
}

static int older_couple_age(gen *g)
{
    double u = rng_unit(&g->r);
    return u < 0.55 ? rng_range(&g->r, 60, 72) : u < 0.87 ? rng_range(&g->r, 73, 82) : rng_range(&g->r, 83, 92);
}

/* A child's age from the mother's: born when she was 22-35. */
static int child_age(gen *g, int mother_age)
{
    int a = mother_age - rng_range(&g->r, 22, 35);
    return a < 0 ? rng_range(&g->r, 0, 2) : a;
}

/* ---- ID numbers ---- */

static bool ids_add(gen *g, uint64_t key)
{
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 24) & g->ids_mask;
    while (g->ids[i]) {
        if (g->ids[i] == key)
            return false;
        i = (i + 1) & g->ids_mask;
    }
    g->ids[i] = key;
    return true;
}

/* A fresh valid fictional ID number for m; 0 or NX_EINTERNAL. */
static int make_id(gen *g, const member *m, char out[19])
{
    unsigned regions = idcard_fake_region_count();
    unsigned region = (unsigned)m->region;
    unsigned seq = rng_below(&g->r, 500);
    for (unsigned tries = 0; tries < 500u * regions; tries++) {
        if (idcard_fake(region, m->birth, m->sex, seq, out) != 0)
            return NX_EINTERNAL;
        uint64_t key = 0;
        for (int i = 0; i < 17; i++)
            key = key * 10 + (uint64_t)(out[i] - '0');
        if (ids_add(g, key))
            return 0;
        if (++seq == 500) {
            seq = 0;
            region = (region + 1) % regions;
        }
    }
    return NX_EINTERNAL;
}

/* ---- organisation ---- */

static int build_org(gen *g, int scale, nx_err *e)
{
    int rc;
    int64_t now = g->now;
    store_param sp[] = {P_TEXT(STREET_NAME), P_TEXT("DEMO-ST01"), P_INT(now)};
    if ((rc = insert_id(g->tx, "streets", "name, code, created_at", sp, 3, &g->street, e)))
        return rc;
    store_param cp[] = {P_INT(g->street), P_TEXT(COMMUNITY_NAME), P_TEXT("DEMO-SQ01"),
                        P_TEXT("幸福街道暖心路 1 号"), P_INT(now)};
    if ((rc = insert_id(g->tx, "communities", "street_id, name, code, address, created_at", cp, 5,
                        &g->community, e)))
        return rc;
    for (int i = 0; i < GRID_COUNT; i++) {
        char code[16], desc[120];
        snprintf(code, sizeof code, "G%02d", i + 1);
        const char *where = "";
        for (size_t k = 0; k < ESTATE_COUNT; k++)
            if (i >= estate_defs[k].grid_first && i < estate_defs[k].grid_first + estate_defs[k].grid_count)
                where = estate_defs[k].name;
        snprintf(desc, sizeof desc, "%s（演示数据）", where);
        store_param gp[] = {P_INT(g->community), P_TEXT(grid_names[i]), P_TEXT(code), P_TEXT(desc),
                            P_INT(now), P_INT(now)};
        if ((rc = insert_id(g->tx, "grids", "community_id, name, code, description, created_at, updated_at",
                            gp, 6, &g->grids[i], e)))
            return rc;
    }
    for (size_t k = 0; k < ESTATE_COUNT; k++) {
        const estate_def *d = &estate_defs[k];
        char py[200];
        if (pinyin_text(d->name, py, sizeof py, NULL, 0) != 0)
            py[0] = '\0';
        store_param ep[] = {P_INT(g->community), d->grid_count == 1 ? P_INT(g->grids[d->grid_first]) : P_NULL,
                            P_TEXT(d->name), P_TEXT(py), P_TEXT(d->address), P_INT(d->built), P_TEXT(d->kind),
                            P_TEXT(d->property), P_INT(now), P_INT(now)};
        if ((rc = insert_id(g->tx, "estates",
                            "community_id, grid_id, name, name_pinyin, address, built_year, kind, "
                            "property_company, created_at, updated_at",
                            ep, 10, &g->estates[k], e)))
            return rc;
        int nb = d->buildings * scale;
        for (int b = 0; b < nb; b++) {
            char bname[24];
            snprintf(bname, sizeof bname, "%d号楼", b + 1);
            int floors = rng_range(&g->r, d->floors_lo, d->floors_hi);
            /* Buildings of a two-grid estate are split in halves between the grids. */
            int gi = d->grid_first + (d->grid_count > 1 && b >= nb / 2 ? 1 : 0);
            /* Lifts: every commercial tower; one old building had one added (加装电梯). */
            bool lift = strcmp(d->kind, "commercial") == 0 || floors > 7 || (k == 0 && b == 0);
            int64_t bid;
            store_param bp[] = {P_INT(g->community), P_INT(g->estates[k]), P_INT(g->grids[gi]), P_TEXT(bname),
                                P_INT(floors), P_INT(d->units), P_INT(lift), P_INT(now), P_INT(now)};
            if ((rc = insert_id(g->tx, "buildings",
                                "community_id, estate_id, grid_id, name, floors, units, has_elevator, "
                                "created_at, updated_at",
                                bp, 9, &bid, e)))
                return rc;
            g->buildings++;
            for (int u = 1; u <= d->units; u++) {
                char unit[16];
                snprintf(unit, sizeof unit, "%d单元", u);
                for (int f = 1; f <= floors; f++) {
                    for (int x = 1; x <= d->per_floor; x++) {
                        if (g->n_rooms == g->cap_rooms) {
                            size_t cap = g->cap_rooms ? g->cap_rooms * 2 : 1024;
                            room_slot *nr = realloc(g->rooms, cap * sizeof *nr);
                            if (nr == NULL)
                                return nx_fail(e, NX_ENOMEM, "", "内存不足");
                            g->rooms = nr;
                            g->cap_rooms = cap;
                        }
                        room_slot *s = &g->rooms[g->n_rooms];
                        snprintf(s->number, sizeof s->number, "%d%02d", f, x);
                        double area = d->area_lo + (d->area_hi - d->area_lo) * rng_unit(&g->r);
                        area = (double)(int64_t)(area * 10.0) / 10.0;
                        store_param rp[] = {P_INT(g->community), P_INT(bid), P_TEXT(unit), P_TEXT(s->number),
                                            P_INT(f), P_REAL(area), P_INT(now)};
                        if ((rc = insert_id(g->tx, "rooms",
                                            "community_id, building_id, unit, number, floor, area, "
                                            "created_at",
                                            rp, 7, &s->id, e)))
                            return rc;
                        s->grid = g->grids[gi];
                        s->estate = (int)k;
                        s->building = b + 1;
                        s->unit = u;
                        g->n_rooms++;
                    }
                }
            }
        }
    }
    for (size_t i = 0; i < SHOP_COUNT; i++) {
        const shop_def *d = &shop_defs[i];
        char owner[48], phone[12], lic[32];
        snprintf(owner, sizeof owner, "%s%s", pick_surname(g), pick_given(g, rng_range(&g->r, 1, 2), 1975));
        next_phone(g, phone);
        unsigned char *ct = NULL;
        size_t ctn = 0;
        if (field_encrypt(g->app->keys, phone, strlen(phone), &ct, &ctn) != 0)
            return nx_fail(e, NX_EINTERNAL, "", "加密失败");
        bool stall = strcmp(d->kind, "market_stall") == 0;
        snprintf(lic, sizeof lic, "DEMO-LIC-%03zu", i + 1);
        const estate_def *es = &estate_defs[d->estate];
        int64_t sid;
        store_param p[] = {P_INT(g->community), P_INT(g->grids[es->grid_first]), P_TEXT(d->name), P_TEXT(d->kind),
                           P_TEXT(d->address), P_TEXT(owner), P_BLOB(ct, ctn), P_TEXT(phone + 7),
                           P_TEXT(stall ? NULL : lic), P_TEXT(d->open ? "open" : "closed"), P_INT(now),
                           P_INT(now)};
        rc = insert_id(g->tx, "shops",
                       "community_id, grid_id, name, kind, address, owner_name, phone_enc, phone_tail, "
                       "license_no, status, created_at, updated_at",
                       p, 12, &sid, e);
        free(ct);
        if (rc)
            return rc;
    }
    /* Shuffle the rooms (Fisher-Yates) so households spread over every estate and grid. */
    for (size_t i = g->n_rooms; i > 1; i--) {
        size_t j = rng_below(&g->r, (unsigned)i);
        room_slot t = g->rooms[i - 1];
        g->rooms[i - 1] = g->rooms[j];
        g->rooms[j] = t;
    }
    return 0;
}

/* ---- people ---- */

/* Fill in what follows from age and household: phone, politics, schooling, work, tags, care. */
static void decorate(gen *g, member *m, bool floating_hh)
{
    rng *r = &g->r;
    int a = m->age;
    m->ethnicity = rng_chance(r, 0.03) ? "回族" : rng_chance(r, 0.01) ? "满族" : "汉族";
    double phone_p = a < 14 ? 0.0 : a < 22 ? 0.7 : a < 60 ? 0.96 : a < 80 ? 0.78 : 0.4;
    if (rng_chance(r, phone_p)) {
        m->has_phone = true;
        next_phone(g, m->phone);
    }
    /* Political status: more party members among the retired (老党员). */
    double party_p = a < 18 ? 0.0 : a < 36 ? 0.05 : a < 60 ? 0.10 : 0.17;
    if (rng_chance(r, party_p)) {
        m->political = "party_member";
        m->tags |= TAG_PARTY;
    } else if (a >= 14 && a <= 28 && rng_chance(r, 0.35)) {
        m->political = "league_member";
    } else if (a >= 14) {
        m->political = "masses";
    }
    if (m->sex == 1 && a >= 40 && rng_chance(r, 0.05))
        m->tags |= TAG_VETERAN;
    double dis_p = a < 60 ? 0.01 : a < 80 ? 0.045 : 0.10;
    if (rng_chance(r, dis_p))
        m->tags |= TAG_DISABLED;
    if (a >= 60 && rng_chance(r, 0.015))
        m->tags |= TAG_ILL;
    /* Schooling by generation. */
    static const char *const edu_old[] = {"小学", "初中", "初中", "高中", "中专"};
    static const char *const edu_mid[] = {"初中", "高中", "中专", "大专", "本科", "本科"};
    static const char *const edu_young[] = {"高中", "大专", "本科", "本科", "硕士研究生"};
    if (a < 3)
        m->education = NULL;
    else if (a < 6)
        m->education = "学龄前";
    else if (a < 12)
        m->education = "小学在读";
    else if (a < 15)
        m->education = "初中在读";
    else if (a < 18)
        m->education = "高中在读";
    else if (m->birth.y < 1960)
        m->education = edu_old[rng_below(r, 5)];
    else if (m->birth.y < 1990)
        m->education = edu_mid[rng_below(r, 6)];
    else
        m->education = edu_young[rng_below(r, 5)];
    /* Work. */
    static const char *const office_jobs[] = {"企业职员", "教师", "医护人员", "机关事业单位", "银行职员", "工程师"};
    static const char *const other_jobs[] = {"个体经营", "快递员", "外卖骑手", "建筑工人", "自由职业",
                                             "餐饮服务", "待业"};
    if (a >= 60)
        m->work = "退休";
    else if (a >= 6 && a < 22)
        m->work = "学生";
    else if (a >= 22) {
        if (rng_chance(r, floating_hh ? 0.45 : 0.65)) {
            m->work = office_jobs[rng_below(r, 6)];
            m->tags |= TAG_OFFICE;
        } else {
            m->work = other_jobs[rng_below(r, 7)];
        }
    }
}

/* Care level from the tags and age (after the household-level tags are set). */
static void care_of(member *m)
{
    unsigned t = m->tags;
    if ((t & TAG_SOLITARY) || ((t & TAG_LIVING_ALONE) && m->age >= 80) || ((t & TAG_ILL) && m->age >= 80))
        m->care_level = "frequent";
    else if ((t & (TAG_LIVING_ALONE | TAG_DISABLED | TAG_LOW_INCOME | TAG_ILL)) || m->age >= 80)
        m->care_level = "key";
    else if (t & (TAG_EMPTY_NEST | TAG_LEFT_BEHIND))
        m->care_level = "normal";
    else
        m->care_level = "none";
    if (strcmp(m->care_level, "frequent") == 0)
        m->tags |= TAG_KEY_CARE;
    if ((t & TAG_DISABLED) && m->age >= 60)
        m->notes = "行动不便，需上门服务";
    else if (t & TAG_LEFT_BEHIND)
        m->notes = "子女在外地工作";
    else if (t & TAG_SOLITARY)
        m->notes = "无子女，网格员每周探访";
}

/* An emergency contact living elsewhere: a son or daughter, or for the childless a nephew/niece. */
static void outside_contact(gen *g, member *m, const char *family_surname, bool childless)
{
    int sex = rng_range(&g->r, 1, 2);
    int age = m->age - rng_range(&g->r, 24, 34);
    if (age < 20)
        age = 20;
    member c;
    person(g, &c, sex, age, childless ? NULL : family_surname, "other");
    str_copy(m->c_name, c.name, sizeof m->c_name);
    m->c_relation = childless ? (sex == 1 ? "侄子" : "外甥女") : (sex == 1 ? "儿子" : "女儿");
    next_phone(g, m->c_phone);
    m->has_contact = true;
}

/* The surname at the start of a name (the compound ones included). */
static void surname_of(const char *name, char *out, size_t n)
{
    const demo_name_data *d = demo_names();
    for (size_t i = 0; i < d->n_surnames; i++) {
        size_t len = strlen(d->surnames[i].text);
        if (len > 3 && strncmp(name, d->surnames[i].text, len) == 0) {
            str_copy(out, d->surnames[i].text, n);
            return;
        }
    }
    char first[8] = "";
    size_t len = 1;
    while (name[len] && ((unsigned char)name[len] & 0xC0) == 0x80)
        len++;
    if (len < sizeof first) {
        memcpy(first, name, len);
        first[len] = '\0';
    }
    str_copy(out, first, n);
}

/* Build the members of one household of the given shape. Returns the member count. */
static int make_household(gen *g, int type, member *mm, bool *floating_hh)
{
    rng *r = &g->r;
    int n = 0;
    char fam[16];
    switch (type) {
    case HT_ELDER_ALONE: {
        int sex = rng_chance(r, 0.7) ? 2 : 1;
        person(g, &mm[n++], sex, elder_age(g), NULL, "head");
        break;
    }
    case HT_ELDER_COUPLE: {
        int ha = older_couple_age(g);
        person(g, &mm[n++], 1, ha, NULL, "head");
        person(g, &mm[n++], 2, ha - rng_range(r, 0, 5), NULL, "spouse");
        break;
    }
    case HT_THREE_GEN: {
        int ha = rng_range(r, 34, 52);
        bool head_male = rng_chance(r, 0.85);
        person(g, &mm[n++], head_male ? 1 : 2, ha, NULL, "head");
        surname_of(mm[0].name, fam, sizeof fam);
        person(g, &mm[n++], head_male ? 2 : 1, ha + (head_male ? -rng_range(r, 0, 4) : rng_range(r, 0, 4)), NULL,
               "spouse");
        int mother = head_male ? mm[1].age : mm[0].age;
        /* The head's own parents (the head's surname passes from the father). */
        int pa = ha + rng_range(r, 25, 36);
        if (rng_chance(r, 0.4)) {
            person(g, &mm[n++], 1, pa, head_male ? fam : NULL, "parent");
            person(g, &mm[n++], 2, pa - rng_range(r, 0, 4), NULL, "parent");
        } else {
            person(g, &mm[n++], rng_chance(r, 0.75) ? 2 : 1, pa, NULL, "parent");
        }
        const char *child_surname = head_male ? fam : NULL;
        char father_fam[16];
        if (!head_male) {
            surname_of(mm[1].name, father_fam, sizeof father_fam);
            child_surname = father_fam;
        }
        int kids = rng_chance(r, 0.75) ? 1 : 2;
        for (int k = 0; k < kids; k++)
            person(g, &mm[n++], rng_range(r, 1, 2), child_age(g, mother), child_surname, "child");
        break;
    }
    case HT_NUCLEAR:
    case HT_YOUNG_COUPLE:
    case HT_MIDDLE_ADULT: {
        int ha = type == HT_NUCLEAR ? rng_range(r, 28, 56) : type == HT_YOUNG_COUPLE ? rng_range(r, 24, 34)
                                                                                     : rng_range(r, 46, 62);
        person(g, &mm[n++], 1, ha, NULL, "head");
        surname_of(mm[0].name, fam, sizeof fam);
        person(g, &mm[n++], 2, ha - rng_range(r, -2, 4), NULL, "spouse");
        int mother = mm[1].age;
        int kids = 0;
        if (type == HT_NUCLEAR)
            kids = rng_chance(r, 0.72) ? 1 : 2;
        else if (type == HT_YOUNG_COUPLE)
            kids = rng_chance(r, 0.3) ? 1 : 0;
        else
            kids = 1;
        for (int k = 0; k < kids; k++) {
            int ca = type == HT_YOUNG_COUPLE ? rng_range(r, 0, 3) : child_age(g, mother);
            if (type == HT_MIDDLE_ADULT && ca < 18)
                ca = rng_range(r, 18, 26);
            person(g, &mm[n++], rng_range(r, 1, 2), ca, fam, "child");
        }
        break;
    }
    case HT_SINGLE:
        person(g, &mm[n++], rng_chance(r, 0.6) ? 1 : 2, rng_range(r, 21, 55), NULL, "head");
        break;
    case HT_SKIP_GEN:
    default: {
        int ha = rng_range(r, 58, 76);
        person(g, &mm[n++], 1, ha, NULL, "head");
        surname_of(mm[0].name, fam, sizeof fam);
        if (rng_chance(r, 0.75))
            person(g, &mm[n++], 2, ha - rng_range(r, 0, 4), NULL, "spouse");
        person(g, &mm[n++], rng_range(r, 1, 2), rng_range(r, 3, 15), fam, "grandchild");
        break;
    }
    }
    *floating_hh = rng_chance(r, floating_chance[type]);
    return n;
}

/* Household-level facts: who lives alone, whose children are away, who has died or moved out. */
static void household_facts(gen *g, int type, member *mm, int n, bool low_income)
{
    rng *r = &g->r;
    char fam[16];
    surname_of(mm[0].name, fam, sizeof fam);
    for (int i = 0; i < n && low_income; i++)
        mm[i].tags |= TAG_LOW_INCOME;
    switch (type) {
    case HT_ELDER_ALONE: {
        member *m = &mm[0];
        bool childless = rng_chance(r, 0.22);
        m->tags |= TAG_LIVING_ALONE;
        m->marital = rng_chance(r, 0.8) ? "丧偶" : childless ? "未婚" : "离异";
        if (childless) {
            m->tags |= TAG_SOLITARY;
        } else {
            m->tags |= TAG_EMPTY_NEST;
            if (rng_chance(r, 0.3))
                m->tags |= TAG_LEFT_BEHIND;
        }
        outside_contact(g, m, m->sex == 1 ? fam : NULL, childless);
        break;
    }
    case HT_ELDER_COUPLE: {
        bool away = rng_chance(r, 0.3);
        for (int i = 0; i < n; i++) {
            mm[i].marital = "已婚";
            mm[i].tags |= TAG_EMPTY_NEST | (away ? TAG_LEFT_BEHIND : 0u);
        }
        /* Sometimes one of the two has died; the survivor now lives alone. */
        if (rng_chance(r, 0.06)) {
            int d = mm[0].age >= mm[1].age ? 0 : 1;
            mm[d].status = "deceased";
            recent_date(g, 3 * 365, mm[d].status_date);
            mm[1 - d].tags |= TAG_LIVING_ALONE;
            mm[1 - d].marital = "丧偶";
        }
        outside_contact(g, &mm[0], fam, false);
        for (int i = 1; i < n; i++) {
            str_copy(mm[i].c_name, mm[0].c_name, sizeof mm[i].c_name);
            mm[i].c_relation = mm[0].c_relation;
            memcpy(mm[i].c_phone, mm[0].c_phone, sizeof mm[i].c_phone);
            mm[i].has_contact = true;
        }
        break;
    }
    case HT_SKIP_GEN:
        for (int i = 0; i < n; i++) {
            if (strcmp(mm[i].relation, "grandchild") != 0) {
                mm[i].marital = "已婚";
                if (mm[i].age >= 60)
                    mm[i].tags |= TAG_LEFT_BEHIND;
                outside_contact(g, &mm[i], fam, false);
            }
        }
        break;
    case HT_THREE_GEN: {
        /* The elders' contact is the head or the spouse, whoever is their child. */
        int parents = 0;
        for (int i = 0; i < n; i++)
            parents += strcmp(mm[i].relation, "parent") == 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(mm[i].relation, "head") == 0 || strcmp(mm[i].relation, "spouse") == 0)
                mm[i].marital = "已婚";
            if (strcmp(mm[i].relation, "parent") == 0) {
                mm[i].marital = parents == 2 ? "已婚" : "丧偶";
                if (mm[0].has_phone) {
                    str_copy(mm[i].c_name, mm[0].name, sizeof mm[i].c_name);
                    mm[i].c_relation = mm[0].sex == 1 ? "儿子" : "女儿";
                    memcpy(mm[i].c_phone, mm[0].phone, sizeof mm[i].c_phone);
                    mm[i].has_contact = true;
                }
                if (parents == 1 && mm[i].age >= 75 && rng_chance(r, 0.08)) {
                    mm[i].status = "deceased";
                    recent_date(g, 2 * 365, mm[i].status_date);
                }
            }
        }
        break;
    }
    case HT_MIDDLE_ADULT:
        for (int i = 0; i < n; i++) {
            if (strcmp(mm[i].relation, "child") == 0) {
                mm[i].marital = mm[i].age >= 26 && rng_chance(r, 0.4) ? "已婚" : "未婚";
                if (rng_chance(r, 0.25)) { /* grown up and moved away */
                    mm[i].status = "moved_out";
                    recent_date(g, 2 * 365, mm[i].status_date);
                }
            } else {
                mm[i].marital = "已婚";
            }
        }
        break;
    case HT_SINGLE:
        mm[0].marital = mm[0].age < 30 ? "未婚" : rng_chance(r, 0.6) ? "未婚" : "离异";
        if (rng_chance(r, 0.05)) {
            mm[0].status = "moved_out";
            recent_date(g, 365, mm[0].status_date);
        }
        break;
    default:
        for (int i = 0; i < n; i++)
            if (strcmp(mm[i].relation, "head") == 0 || strcmp(mm[i].relation, "spouse") == 0)
                mm[i].marital = "已婚";
        break;
    }
    /* Other elders in families get a contact too: the head, when someone else. */
    for (int i = 1; i < n; i++) {
        if (mm[i].age >= 60 && !mm[i].has_contact && mm[0].has_phone && mm[0].age < mm[i].age - 15) {
            str_copy(mm[i].c_name, mm[0].name, sizeof mm[i].c_name);
            mm[i].c_relation = "家人";
            memcpy(mm[i].c_phone, mm[0].phone, sizeof mm[i].c_phone);
            mm[i].has_contact = true;
        }
    }
}

static int create_member(gen *g, int64_t household, member *m, const char *residence, const char *address,
                         int64_t *id, nx_err *e)
{
    char idno[19];
    if (make_id(g, m, idno) != 0)
        return nx_fail(e, NX_EINTERNAL, "", "无法生成不重复的演示身份证号");
    bool gone = strcmp(m->status, "active") != 0;
    json_t *tags = json_array();
    json_t *contacts = json_array();
    if (tags == NULL || contacts == NULL) {
        json_decref(tags);
        json_decref(contacts);
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    }
    if (!gone)
        for (size_t t = 0; t < TAG_COUNT; t++)
            if (m->tags & (1u << t))
                json_array_append_new(tags, json_string(tag_codes[t]));
    if (!gone && m->has_contact)
        json_array_append_new(contacts, json_pack("{s:s, s:s, s:s, s:b}", "name", m->c_name, "relation",
                                                  m->c_relation, "phone", m->c_phone, "is_primary", 1));
    resident_input in = {0};
    in.name = m->name;
    in.id_type = "id_card";
    in.id_number = idno;
    char birth[11];
    date_format(m->birth, birth);
    in.birth_date = birth;
    in.sex = m->sex == 1 ? "male" : "female";
    in.phone = m->has_phone && !gone ? m->phone : NULL;
    in.address = address;
    in.household_id = household;
    in.relation = m->relation;
    in.residence = residence;
    in.ethnicity = m->ethnicity;
    in.political = m->political;
    in.education = m->education;
    in.marital = m->marital;
    in.work = gone && strcmp(m->status, "deceased") == 0 ? NULL : m->work;
    in.care_level = gone ? "none" : m->care_level;
    in.notes = gone ? NULL : m->notes;
    in.tags = tags;
    in.contacts = contacts;
    in.status = m->status;
    in.status_date = gone ? m->status_date : NULL;
    int rc = people_resident_create_tx(g->app, g->tx, &g->who, &in, id, e);
    json_decref(tags);
    json_decref(contacts);
    return rc;
}

static int pick_type(gen *g, int profile)
{
    int total = 0;
    for (int t = 0; t < HT_COUNT; t++)
        total += hh_weights[profile][t];
    int x = (int)rng_below(&g->r, (unsigned)total);
    for (int t = 0; t < HT_COUNT; t++) {
        if (x < hh_weights[profile][t])
            return t;
        x -= hh_weights[profile][t];
    }
    return HT_NUCLEAR;
}

/* One household in the next room: members drawn, household row, each resident created. */
static int add_household(gen *g, bool first, nx_err *e)
{
    rng *r = &g->r;
    room_slot *room = &g->rooms[g->next_room++ % g->n_rooms];
    const estate_def *es = &estate_defs[room->estate];
    member mm[MAX_MEMBERS];
    bool floating_hh = false;
    int type, n;
    if (first) {
        /* 王建国 and his wife: the resident and family accounts are bound to him. */
        type = HT_ELDER_COUPLE;
        person(g, &mm[0], 1, 75, "王", "head");
        str_copy(mm[0].name, "王建国", sizeof mm[0].name);
        person(g, &mm[1], 2, 73, NULL, "spouse");
        n = 2;
    } else {
        type = pick_type(g, es->profile);
        n = make_household(g, type, mm, &floating_hh);
    }
    if (es->profile == PROF_RENTERS && !floating_hh && type != HT_ELDER_ALONE && type != HT_ELDER_COUPLE)
        floating_hh = rng_chance(r, 0.15);
    const char *kind = floating_hh ? "floating" : rng_chance(r, 0.08) ? "resident" : "registered";
    bool low_income = !first && rng_chance(r, es->profile == PROF_COMMERCIAL ? 0.005 : 0.025);
    unsigned regions = idcard_fake_region_count();
    for (int i = 0; i < n; i++) {
        decorate(g, &mm[i], floating_hh);
        /* Registered here: mostly Jinan districts (the first five codes), some Dezhou; renters from anywhere. */
        mm[i].region = floating_hh ? (int)rng_below(r, regions) : rng_chance(r, 0.9) ? (int)rng_below(r, 5) : 5;
    }
    household_facts(g, type, mm, n, low_income);
    if (first) /* his children live in town: an empty nest, not left behind */
        for (int i = 0; i < n; i++)
            mm[i].tags &= ~(unsigned)TAG_LEFT_BEHIND;
    for (int i = 0; i < n; i++)
        care_of(&mm[i]);

    char number[16], notes[64] = "", address[200];
    snprintf(number, sizeof number, "%06d", g->households + 1);
    if (floating_hh)
        str_copy(notes, "租住", sizeof notes);
    if (low_income)
        snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "%s低保户", *notes ? "，" : "");
    snprintf(address, sizeof address, "%s%s%s%d号楼%d单元%s室", STREET_NAME, COMMUNITY_NAME, es->name,
             room->building, room->unit, room->number);
    int64_t hid;
    store_param hp[] = {P_INT(g->community), P_INT(room->grid), P_INT(room->id), P_TEXT(number), P_TEXT(kind),
                        P_TEXT(*notes ? notes : NULL), P_INT(g->now), P_INT(g->now)};
    int rc = insert_id(g->tx, "households",
                       "community_id, grid_id, room_id, number, kind, notes, created_at, updated_at", hp, 8,
                       &hid, e);
    if (rc || (rc = audit_write(g->tx, &g->who, "create", "household", hid, g->community, NULL, e)))
        return rc;
    g->households++;
    const char *residence = floating_hh ? "floating" : kind;
    for (int i = 0; i < n; i++) {
        int64_t id;
        if ((rc = create_member(g, hid, &mm[i], residence, address, &id, e)))
            return rc;
        g->residents++;
        if (strcmp(mm[i].status, "active") == 0) {
            g->active++;
            g->over60 += mm[i].age >= 60;
            g->over80 += mm[i].age >= 80;
            g->floating += floating_hh;
        } else if (strcmp(mm[i].status, "deceased") == 0) {
            g->deceased++;
        } else {
            g->moved_out++;
        }
        if (first && i == 0) {
            g->wjg_id = id;
            str_copy(g->wjg_name, mm[0].name, sizeof g->wjg_name);
            str_copy(g->wjg_contact, mm[0].c_name, sizeof g->wjg_contact);
        }
    }
    return 0;
}

/* ---- accounts ---- */

typedef struct account_def {
    const char *username, *display;
    int role, scope, grid; /* grid: 1..8 for grid workers */
} account_def;

static const account_def account_defs[] = {
    {"admin", "系统管理员", ROLE_ADMIN, SCOPE_ALL, 0},
    {"jiedao", "幸福街道工作人员", ROLE_STREET, SCOPE_STREET, 0},
    {"shequ", "暖心社区工作人员", ROLE_STAFF, SCOPE_COMMUNITY, 0},
    {"shuji", "社区书记", ROLE_STAFF, SCOPE_COMMUNITY, 0},
    {"wangge1", "第一网格网格员", ROLE_GRID, SCOPE_GRID, 1},
    {"wangge2", "第二网格网格员", ROLE_GRID, SCOPE_GRID, 2},
    {"wangge3", "第三网格网格员", ROLE_GRID, SCOPE_GRID, 3},
    {"wangge4", "第四网格网格员", ROLE_GRID, SCOPE_GRID, 4},
    {"wangge5", "第五网格网格员", ROLE_GRID, SCOPE_GRID, 5},
    {"wangge6", "第六网格网格员", ROLE_GRID, SCOPE_GRID, 6},
    {"wangge7", "第七网格网格员", ROLE_GRID, SCOPE_GRID, 7},
    {"wangge8", "第八网格网格员", ROLE_GRID, SCOPE_GRID, 8},
    {"shitang", "幸福食堂", ROLE_CANTEEN, SCOPE_COMMUNITY, 0},
    {"zhiyuan", "社区志愿者", ROLE_VOLUNTEER, SCOPE_COMMUNITY, 0},
    {"jumin", NULL, ROLE_RESIDENT, SCOPE_SELF, 0},
    {"jiashu", NULL, ROLE_FAMILY, SCOPE_SELF, 0},
};
#define ACCOUNT_COUNT (sizeof account_defs / sizeof account_defs[0])

static int account_exists(store *db, const char *username, bool *exists, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t n = 0;
    store_param p[] = {P_TEXT(username)};
    rc = store_one_int(tx, "SELECT count(*) FROM users WHERE username = $1", p, 1, &n, e);
    store_rollback(tx);
    *exists = n > 0;
    return rc;
}

/* Create the demo accounts: every one with password, or (password NULL) each with its own random
 * password that passes the policy, listed once in the summary and stored nowhere in clear. */
static int create_accounts(gen *g, const char *password, json_t *list, nx_err *e)
{
    for (size_t i = 0; i < ACCOUNT_COUNT; i++) {
        char own[32];
        const char *pw = password;
        if (pw == NULL) {
            do
                password_generate(own, sizeof own);
            while (password_policy_check(own, account_defs[i].username, NULL));
            pw = own;
        }
        const account_def *d = &account_defs[i];
        char display[96];
        if (d->role == ROLE_RESIDENT)
            str_copy(display, g->wjg_name, sizeof display);
        else if (d->role == ROLE_FAMILY)
            snprintf(display, sizeof display, "%s（%s家属）", g->wjg_contact, g->wjg_name);
        else
            str_copy(display, d->display, sizeof display);
        user_input in = {0};
        in.username = d->username;
        in.display_name = display;
        in.password = pw;
        in.role = d->role;
        in.scope = d->scope;
        in.street_id = g->street;
        in.community_id = g->community;
        in.grid_id = d->grid ? g->grids[d->grid - 1] : 0;
        in.resident_id = d->scope == SCOPE_SELF ? g->wjg_id : 0;
        in.disabled = 0;
        bool existing = false;
        int rc = account_exists(g->app->db, d->username, &existing, e);
        int64_t id;
        if (rc || (!existing && (rc = users_create(g->app->db, NULL, &in, &id, e))))
            return rc;
        json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "username", d->username, "role",
                              role_code(d->role), "role_label", role_label(d->role), "scope", scope_code(d->scope),
                              "display_name", display, "password", existing ? "（已存在，未修改）" : pw,
                              "existing", existing);
        if (a == NULL)
            return nx_fail(e, NX_ENOMEM, "", "内存不足");
        json_array_append_new(list, a);
    }
    return 0;
}

/* ---- the fill ---- */

static int refuse_if_filled(store_tx *tx, nx_err *e)
{
    int64_t n = 0;
    int rc = store_one_int(tx, "SELECT count(*) FROM residents", NULL, 0, &n, e);
    if (rc)
        return rc;
    if (n > 0)
        return nx_fail(e, NX_ECONFLICT, "", "数据库中已有 %lld 位居民，演示数据只能写入空数据库", (long long)n);
    store_param p[] = {P_TEXT(STREET_NAME)};
    rc = store_one_int(tx, "SELECT count(*) FROM streets WHERE name = $1", p, 1, &n, e);
    if (rc)
        return rc;
    if (n > 0)
        return nx_fail(e, NX_ECONFLICT, "", "数据库中已有“%s”，演示数据只能写入空数据库", STREET_NAME);
    return 0;
}

static int fill_people(gen *g, int target, nx_err *e)
{
    int rc;
    int scale = (target + 3499) / 3500;
    if ((rc = refuse_if_filled(g->tx, e)) || (rc = org_seed_tags(g->tx, e)) || (rc = build_org(g, scale, e)))
        return rc;
    size_t want = (size_t)target + 64, slots = 1024;
    while (slots < want * 2)
        slots <<= 1;
    g->ids = calloc(slots, sizeof *g->ids);
    if (g->ids == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    g->ids_mask = slots - 1;
    bool first = true;
    while (g->residents < target) {
        if ((rc = add_household(g, first, e)))
            return rc;
        first = false;
    }
    return audit_write_new(g->tx, &g->who, "demo", "community", g->community, g->community,
                           json_pack("{s:I, s:i, s:i}", "seed", (json_int_t)g->seed, "households",
                                     g->households, "residents", g->residents),
                           e);
}

int demo_fill(nx_app *app, const demo_options *o, json_t **summary, nx_err *e)
{
    *summary = NULL;
    unsigned seed = o && o->seed ? o->seed : DEMO_DEFAULT_SEED;
    int target = o && o->residents ? o->residents : DEMO_DEFAULT_RESIDENTS;
    const char *password = o && o->password && *o->password ? o->password : NULL;
    if (target < RESIDENTS_MIN || target > RESIDENTS_MAX)
        return nx_fail(e, NX_EINVAL, "residents", "居民人数应在 %d 到 %d 之间", RESIDENTS_MIN, RESIDENTS_MAX);
    if (app == NULL || app->db == NULL || app->keys == NULL)
        return nx_fail(e, NX_EINTERNAL, "", "演示数据需要已打开的数据库和密钥");
    for (size_t i = 0; password && i < ACCOUNT_COUNT; i++) {
        int rc = password_policy_check(password, account_defs[i].username, e);
        if (rc)
            return rc;
    }
    int64_t t0 = clock_mono_ms();
    gen *g = calloc(1, sizeof *g);
    if (g == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    g->app = app;
    g->seed = seed;
    g->r.s = 0x6E75616E78696E00ull ^ (uint64_t)seed; /* "nuanxin" */
    g->who = (nx_principal){.user_id = 0, .username = "demo", .role = ROLE_ADMIN, .scope = SCOPE_ALL};
    g->today = date_today();
    g->today_days = date_to_days(g->today);
    g->now = clock_now_ms();
    for (size_t i = 0; i < demo_names()->n_surnames; i++)
        g->surname_total += demo_names()->surnames[i].weight;

    json_t *out = NULL, *accounts = NULL;
    int rc = store_begin(app->db, STORE_WRITE, &g->tx, e);
    if (rc)
        goto done;
    if ((rc = fill_people(g, target, e))) {
        store_rollback(g->tx);
        g->tx = NULL;
        goto done;
    }
    rc = store_commit(g->tx, e);
    g->tx = NULL;
    if (rc)
        goto done;
    int64_t t1 = clock_mono_ms();
    nx_log(LOG_INFO, "demo.people households=%d residents=%d ms=%lld", g->households, g->residents,
           (long long)(t1 - t0));

    accounts = json_array();
    if (accounts == NULL) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    if ((rc = create_accounts(g, password, accounts, e)))
        goto done;
    int64_t t2 = clock_mono_ms();
    out = json_object();
    if (out == NULL) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    json_object_set_new(out, "seed", json_integer(seed));
    json_object_set_new(out, "street", json_string(STREET_NAME));
    json_object_set_new(out, "community", json_string(COMMUNITY_NAME));
    json_object_set_new(out, "grids", json_integer(GRID_COUNT));
    json_object_set_new(out, "estates", json_integer((json_int_t)ESTATE_COUNT));
    json_object_set_new(out, "buildings", json_integer(g->buildings));
    json_object_set_new(out, "rooms", json_integer((json_int_t)g->n_rooms));
    json_object_set_new(out, "shops", json_integer((json_int_t)SHOP_COUNT));
    json_object_set_new(out, "households", json_integer(g->households));
    json_object_set_new(out, "residents", json_integer(g->residents));
    json_object_set_new(out, "active", json_integer(g->active));
    json_object_set_new(out, "over_60", json_integer(g->over60));
    json_object_set_new(out, "over_80", json_integer(g->over80));
    json_object_set_new(out, "floating", json_integer(g->floating));
    json_object_set_new(out, "moved_out", json_integer(g->moved_out));
    json_object_set_new(out, "deceased", json_integer(g->deceased));
    json_object_set_new(out, "people_ms", json_integer(t1 - t0));
    json_object_set_new(out, "accounts_ms", json_integer(t2 - t1));
    json_object_set_new(out, "accounts", accounts);
    accounts = NULL;
    if ((rc = demo_care_fill(app, seed, out, e)))
        goto done;
    nx_log(LOG_INFO, "demo.done accounts=%zu ms=%lld", ACCOUNT_COUNT, (long long)(t2 - t0));
    if ((rc = demo_services_fill(app, g->community, g->wjg_id, seed, out, e)))
        goto done;
    if ((rc = demo_workday_fill(app, g->community, out, e)))
        goto done;
    if ((rc = demo_devices_fill(app, g->wjg_id, seed, out, e)))
        goto done;
    if ((rc = demo_volunteers_fill(app, g->community, g->wjg_id, seed, out, e)))
        goto done;
    if ((rc = demo_library_fill(app, g->community, g->wjg_id, seed, out, e)))
        goto done;
    if ((rc = demo_canteen_fill(app, g->community, g->wjg_id, seed, out, e)))
        goto done;
    if ((rc = demo_courses_fill(app, g->community, g->wjg_id, seed, out, e)))
        goto done;
    if ((rc = demo_messages_fill(app, g->community, g->wjg_id, out, e)))
        goto done;
    if ((rc = demo_council_fill(app, g->community, g->wjg_id, seed, out, e)))
        goto done;
    if ((rc = demo_party_fill(app, g->community, g->wjg_id, seed, out, e)))
        goto done;
    *summary = out;
    out = NULL;
    rc = 0;
done:
    json_decref(accounts);
    json_decref(out);
    free(g->rooms);
    free(g->ids);
    free(g);
    return rc;
}
