/* test_demo.c — the demo community generator: options, shape of the community (counts, age
 * pyramid, grids, estates, relations that agree with ages), search, accounts and their roles and
 * scopes, the refusal to fill twice, determinism for a seed, and that no plain ID number reaches
 * the database file. Each fill runs in its own temporary database with real migrations and keys;
 * password hashing runs at a test cost. */
#include "test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "base/str.h"
#include "cli/demo.h"
#include "modules/people/people.h"
#include "secure/crypto.h"
#include "secure/password.h"
#include "secure/session.h"
#include "store/store.h"
#include "text/hanconv.h"
#include "text/idcard.h"
#include "text/pinyin.h"

static char dir[256];
static nx_config cfg;

typedef struct env {
    char name[32];
    nx_app app;
} env;

static void path_of(char *out, size_t n, const char *db, const char *suffix)
{
    snprintf(out, n, "%s/%s%s", dir, db, suffix);
}

/* A fresh migrated database named name (and its own key file). */
static int env_open(env *v, const char *name)
{
    memset(v, 0, sizeof *v);
    str_copy(v->name, name, sizeof v->name);
    char db[512], key[512];
    path_of(db, sizeof db, name, ".db");
    path_of(key, sizeof key, name, ".key");
    nx_err e = {0};
    store_options o = {.readers = 2, .busy_ms = 5000, .create = true};
    if (store_open(db, &o, &v->app.db, &e) || store_migrate(v->app.db, NULL, &e) || keyfile_create(key, &e) ||
        keys_load(key, &v->app.keys, &e)) {
        fprintf(stderr, "env_open: %s\n", e.msg);
        return -1;
    }
    v->app.cfg = &cfg;
    return 0;
}

static void env_close(env *v)
{
    store_close(v->app.db);
    keys_free(v->app.keys);
    v->app.db = NULL;
    v->app.keys = NULL;
    static const char *const suffixes[] = {".db", ".db-wal", ".db-shm", ".key"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char p[600];
        path_of(p, sizeof p, v->name, suffixes[i]);
        unlink(p);
    }
}

static int64_t count_q(env *v, const char *sql, const store_param *p, int n)
{
    store_tx *tx;
    nx_err e = {0};
    int64_t out = -1;
    if (store_begin(v->app.db, STORE_READ, &tx, &e) != 0)
        return -1;
    if (store_one_int(tx, sql, p, n, &out, &e) != 0) {
        fprintf(stderr, "count: %s\n", e.msg);
        out = -1;
    }
    store_rollback(tx);
    return out;
}

static int64_t count(env *v, const char *sql)
{
    return count_q(v, sql, NULL, 0);
}

static int64_t int_of(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The date `years` years before today, as YYYY-MM-DD (29 Feb falls back to 28 Feb). */
static void years_ago(int years, char out[11])
{
    nx_date t = date_today();
    t.y -= years;
    if (t.m == 2 && t.d == 29)
        t.d = 28;
    date_format(t, out);
}

static const nx_principal admin = {.user_id = 1, .username = "t", .role = ROLE_ADMIN, .scope = SCOPE_ALL};

/* ---- tests ---- */

static void test_bad_options(void)
{
    env v;
    if (env_open(&v, "bad") != 0) {
        CHECK(0);
        return;
    }
    json_t *s = NULL;
    nx_err e = {0};
    demo_options o = {.seed = 1, .residents = 5};
    CHECK_INT(demo_fill(&v.app, &o, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "residents");
    CHECK(s == NULL);
    o.residents = 2000001;
    CHECK_INT(demo_fill(&v.app, &o, &s, &e), NX_EINVAL);
    /* A password the policy refuses: too short; no digit; contains a demo username. */
    o.residents = 100;
    o.password = "Ab1";
    CHECK_INT(demo_fill(&v.app, &o, &s, &e), NX_EINVAL);
    CHECK_STR(e.field, "password");
    o.password = "NoDigitsHere";
    CHECK_INT(demo_fill(&v.app, &o, &s, &e), NX_EINVAL);
    o.password = "xJumin2026";
    CHECK_INT(demo_fill(&v.app, &o, &s, &e), NX_EINVAL);
    CHECK(s == NULL);
    /* Nothing was written by the refused calls. */
    CHECK_INT(count(&v, "SELECT count(*) FROM streets"), 0);
    CHECK_INT(count(&v, "SELECT count(*) FROM residents"), 0);
    CHECK_INT(count(&v, "SELECT count(*) FROM users"), 0);
    env_close(&v);
}

/* Reads the whole file at path (NULL when missing); *n receives its size. */
static unsigned char *slurp(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size <= 0) {
        fclose(f);
        return NULL;
    }
    unsigned char *buf = malloc((size_t)st.st_size);
    if (buf && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
        *n = (size_t)st.st_size;
    fclose(f);
    return buf;
}

static bool file_contains(const char *path, const char *needle)
{
    size_t n;
    unsigned char *b = slurp(path, &n);
    bool found = b && memmem(b, n, needle, strlen(needle)) != NULL;
    free(b);
    return found;
}

static void test_fill_600(void)
{
    env v;
    if (env_open(&v, "fill") != 0) {
        CHECK(0);
        return;
    }
    json_t *s = NULL;
    nx_err e = {0};
    demo_options o = {.seed = 2026, .residents = 600};
    int64_t t0 = clock_mono_ms();
    int rc = demo_fill(&v.app, &o, &s, &e);
    int64_t ms = clock_mono_ms() - t0;
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "demo_fill: %s (%s)\n", e.msg, e.field);
        env_close(&v);
        return;
    }
    fprintf(stderr, "demo_fill 600: %lld ms total, people %lld ms\n", (long long)ms,
            (long long)int_of(s, "people_ms"));

    /* Counts: the summary agrees with the database. */
    int64_t residents = count(&v, "SELECT count(*) FROM residents");
    int64_t households = count(&v, "SELECT count(*) FROM households");
    CHECK(residents >= 600 && residents < 610);
    CHECK_INT(int_of(s, "residents"), residents);
    CHECK_INT(int_of(s, "households"), households);
    CHECK(households >= 600 / 2.5 * 0.7 && households <= 600 / 2.5 * 1.3);
    CHECK_INT(count(&v, "SELECT count(*) FROM streets WHERE name = '幸福街道'"), 1);
    CHECK_INT(count(&v, "SELECT count(*) FROM communities WHERE name = '暖心社区'"), 1);
    CHECK_INT(count(&v, "SELECT count(*) FROM grids"), 8);
    CHECK_INT(count(&v, "SELECT count(*) FROM grids WHERE name IN ('第一网格', '第八网格')"), 2);
    CHECK_INT(count(&v, "SELECT count(*) FROM estates"), 6);
    CHECK_INT(int_of(s, "grids"), 8);
    CHECK_INT(int_of(s, "estates"), 6);
    CHECK_INT(int_of(s, "buildings"), count(&v, "SELECT count(*) FROM buildings"));
    CHECK_INT(int_of(s, "rooms"), count(&v, "SELECT count(*) FROM rooms"));
    /* 3 to 10 buildings per estate, each in a grid; old estates are walk-ups, the commercial one towers. */
    CHECK_INT(count(&v, "SELECT count(*) FROM (SELECT estate_id, count(*) n FROM buildings GROUP BY estate_id) "
                        "WHERE n < 3 OR n > 10"),
              0);
    CHECK_INT(count(&v, "SELECT count(*) FROM buildings WHERE grid_id IS NULL"), 0);
    CHECK_INT(count(&v, "SELECT count(*) FROM buildings b JOIN estates es ON es.id = b.estate_id WHERE es.kind = "
                        "'old' AND (b.floors < 5 OR b.floors > 7)"),
              0);
    CHECK_INT(count(&v, "SELECT count(*) FROM buildings b JOIN estates es ON es.id = b.estate_id WHERE es.kind = "
                        "'commercial' AND (b.floors < 18 OR b.floors > 26 OR b.has_elevator = 0)"),
              0);
    CHECK_INT(count(&v, "SELECT count(*) FROM estates WHERE kind = 'commercial'"), 1);
    CHECK_INT(count(&v, "SELECT count(*) FROM estates WHERE kind = 'unit'"), 1);
    CHECK(count(&v, "SELECT count(*) FROM shops") >= 12);
    CHECK(count(&v, "SELECT count(*) FROM shops WHERE kind = 'market_stall'") >= 3);
    CHECK(count(&v, "SELECT count(*) FROM shops WHERE kind = 'restaurant'") >= 2);
    CHECK(count(&v, "SELECT count(*) FROM tags") >= 13);
    /* The library (demo_library.c): a few hundred titles with drifting copies and loan history, the
     * summary agreeing with the database, no copy on two open loans. */
    CHECK(count(&v, "SELECT count(*) FROM books") >= 200);
    CHECK_INT(int_of(s, "books"), count(&v, "SELECT count(*) FROM books"));
    CHECK_INT(int_of(s, "book_loans"), count(&v, "SELECT count(*) FROM book_loans"));
    CHECK(count(&v, "SELECT count(*) FROM book_copies WHERE kind = 'drift'") > 0);
    CHECK(count(&v, "SELECT count(*) FROM book_loans WHERE returned_at IS NULL") > 0);
    CHECK_INT(count(&v, "SELECT count(*) FROM book_copies c WHERE (c.status = 'on_loan') <> EXISTS (SELECT 1 FROM "
                        "book_loans l WHERE l.copy_id = c.id AND l.returned_at IS NULL)"),
              0);
    /* Every module's demo step ran: demo.c calls them in a chain, and a merge that drops one link (a
     * lost `goto done`, a call left out) leaves that module's tables empty while the rest look fine. */
    static const char *const filled[] = {
        "canteen_dishes", "canteen_menus", "canteen_sales", "volunteers", "volunteer_hours", "partners",
        "venues", "venue_bookings", "courses", "course_enrolments", "council_topics", "council_meetings",
        "party_members", "party_dues", "elections", "notices", "message_rules",
    };
    for (size_t i = 0; i < sizeof filled / sizeof filled[0]; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", filled[i]);
        int64_t n = count(&v, sql);
        if (n <= 0)
            fprintf(stderr, "  the demo left %s empty\n", filled[i]);
        CHECK(n > 0);
    }

    /* Every household lives in a room; every resident belongs to a household with one head. */
    CHECK_INT(count(&v, "SELECT count(*) FROM households WHERE room_id IS NULL OR grid_id IS NULL"), 0);
    CHECK_INT(count(&v, "SELECT count(*) FROM residents WHERE household_id IS NULL OR room_id IS NULL OR "
                        "estate_id IS NULL"),
              0);
    CHECK_INT(count(&v, "SELECT count(*) FROM households WHERE head_resident_id IS NULL"), 0);
    CHECK_INT(count(&v, "SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id "
                        "WHERE r.grid_id IS NOT h.grid_id"),
              0);

    /* Age pyramid of active residents, counted here from birth dates (not from the summary). */
    char d60[11], d80[11];
    years_ago(60, d60);
    years_ago(80, d80);
    int64_t active = count(&v, "SELECT count(*) FROM residents WHERE status = 'active'");
    store_param p60[] = {P_TEXT(d60)}, p80[] = {P_TEXT(d80)};
    int64_t over60 =
        count_q(&v, "SELECT count(*) FROM residents WHERE status = 'active' AND birth_date <= $1", p60, 1);
    int64_t over80 =
        count_q(&v, "SELECT count(*) FROM residents WHERE status = 'active' AND birth_date <= $1", p80, 1);
    fprintf(stderr, "active %lld, over 60 %.1f%%, over 80 %.1f%%\n", (long long)active,
            100.0 * (double)over60 / (double)active, 100.0 * (double)over80 / (double)active);
    CHECK_INT(int_of(s, "active"), active);
    CHECK_INT(int_of(s, "over_60"), over60);
    CHECK_INT(int_of(s, "over_80"), over80);
    CHECK(over60 >= active * 12 / 100 && over60 <= active * 25 / 100);
    CHECK(over80 >= active * 1 / 100 && over80 <= active * 6 / 100);
    CHECK(count(&v, "SELECT count(*) FROM residents WHERE status = 'moved_out'") +
              count(&v, "SELECT count(*) FROM residents WHERE status = 'deceased'") > 0);
    CHECK_INT(count(&v, "SELECT count(*) FROM residents WHERE status = 'deceased' AND deceased_on IS NULL"), 0);

    /* Floating population about 15%, party members about 8%. */
    int64_t floating = count(&v, "SELECT count(*) FROM residents WHERE status = 'active' AND residence = 'floating'");
    CHECK_INT(int_of(s, "floating"), floating);
    CHECK(floating >= active * 7 / 100 && floating <= active * 25 / 100);
    int64_t party = count(&v, "SELECT count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id "
                              "WHERE t.code = 'party_member'");
    CHECK(party >= active * 4 / 100 && party <= active * 13 / 100);
    CHECK_INT(count(&v, "SELECT count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id JOIN residents r "
                        "ON r.id = rt.resident_id WHERE t.code = 'party_member' AND r.political <> 'party_member'"),
              0);
    /* Living alone means alone among the active members of the household. */
    CHECK(count(&v, "SELECT count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id "
                    "WHERE t.code = 'living_alone'") > 0);
    CHECK_INT(count(&v, "SELECT count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id JOIN residents r "
                        "ON r.id = rt.resident_id WHERE t.code = 'living_alone' AND (SELECT count(*) FROM "
                        "residents m WHERE m.household_id = r.household_id AND m.status = 'active') <> 1"),
              0);
    CHECK(count(&v, "SELECT count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id "
                    "WHERE t.code = 'empty_nest'") > 0);
    CHECK(count(&v, "SELECT count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id "
                    "WHERE t.code = 'office_worker'") > 0);
    CHECK(count(&v, "SELECT count(*) FROM residents WHERE care_level IN ('key', 'frequent')") > 0);
    CHECK(count(&v, "SELECT count(*) FROM emergency_contacts") > 0);
    /* Most elders have an emergency contact. */
    int64_t elder_contacts = count_q(&v, "SELECT count(*) FROM residents r WHERE r.status = 'active' AND "
                                         "r.birth_date <= $1 AND EXISTS (SELECT 1 FROM emergency_contacts c WHERE "
                                         "c.resident_id = r.id)",
                                     p60, 1);
    CHECK(elder_contacts >= over60 * 6 / 10);
    /* Some residents have no phone, most adults do. */
    CHECK(count(&v, "SELECT count(*) FROM residents WHERE phone_enc IS NULL") > 0);
    CHECK(count(&v, "SELECT count(*) FROM residents WHERE phone_enc IS NOT NULL") > residents / 2);

    /* Every grid has residents. */
    CHECK_INT(count(&v, "SELECT count(*) FROM grids g WHERE (SELECT count(*) FROM residents r WHERE r.grid_id = "
                        "g.id AND r.status = 'active') = 0"),
              0);

    /* Relations agree with ages: children 15+ years younger than the head, parents 15+ older,
     * grandchildren 35+ younger. */
    CHECK_INT(count(&v, "SELECT count(*) FROM residents c JOIN households h ON h.id = c.household_id JOIN "
                        "residents hd ON hd.id = h.head_resident_id WHERE c.relation = 'child' AND "
                        "julianday(c.birth_date) - julianday(hd.birth_date) < 15 * 365"),
              0);
    CHECK_INT(count(&v, "SELECT count(*) FROM residents c JOIN households h ON h.id = c.household_id JOIN "
                        "residents hd ON hd.id = h.head_resident_id WHERE c.relation = 'parent' AND "
                        "julianday(hd.birth_date) - julianday(c.birth_date) < 15 * 365"),
              0);
    CHECK_INT(count(&v, "SELECT count(*) FROM residents c JOIN households h ON h.id = c.household_id JOIN "
                        "residents hd ON hd.id = h.head_resident_id WHERE c.relation = 'grandchild' AND "
                        "julianday(c.birth_date) - julianday(hd.birth_date) < 35 * 365"),
              0);
    CHECK(count(&v, "SELECT count(*) FROM residents WHERE relation = 'spouse'") > 0);
    CHECK(count(&v, "SELECT count(*) FROM residents WHERE relation = 'child'") > 0);

    /* Names: generated Chinese names of two to four characters. */
    CHECK_INT(count(&v, "SELECT count(*) FROM residents WHERE length(name) < 2 OR length(name) > 4"), 0);
    CHECK(count(&v, "SELECT count(DISTINCT substr(name, 1, 1)) FROM residents") >= 25);

    /* Search "wjg" finds 王建国. */
    resident_query q = {.q = "wjg", .limit = 200, .age_min = -1, .age_max = -1};
    json_t *found = NULL;
    CHECK_INT(people_resident_search(&v.app, &admin, &q, &found, &e), 0);
    int64_t wjg = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(found, "items"), i, it) {
        if (str_of(it, "name") && strcmp(str_of(it, "name"), "王建国") == 0)
            wjg = int_of(it, "id");
    }
    json_decref(found);
    CHECK(wjg > 0);

    /* His ID number is valid and agrees with his birth date and sex. */
    json_t *fields = json_pack("[s, s]", "id_number", "phone");
    json_t *plain = NULL;
    char idno[32] = "", phone[32] = "";
    CHECK_INT(people_reveal(&v.app, &admin, wjg, fields, &plain, &e), 0);
    json_decref(fields);
    if (plain) {
        str_copy(idno, str_of(plain, "id_number") ? str_of(plain, "id_number") : "", sizeof idno);
        str_copy(phone, json_is_string(json_object_get(plain, "phone")) ? str_of(plain, "phone") : "", sizeof phone);
    }
    json_decref(plain);
    CHECK_INT((int)strlen(idno), 18);
    char norm[19];
    idcard_info info;
    CHECK_INT(idcard_parse(idno, norm, &info, &e), 0);
    CHECK_INT(info.sex, 1);
    char birth[11];
    date_format(info.birth, birth);
    store_param pw[] = {P_INT(wjg), P_TEXT(birth)};
    CHECK_INT(count_q(&v, "SELECT count(*) FROM residents WHERE id = $1 AND birth_date = $2 AND sex = 1", pw, 2), 1);
    CHECK(info.birth.y <= date_today().y - 60);

    /* Accounts of every role with the right scopes. */
    json_t *acc = json_object_get(s, "accounts");
    CHECK_INT(json_array_size(acc), 16);
    /* Each account its own random password, passing the policy: no password everyone knows. */
    const char *wangge3_pw = NULL;
    json_array_foreach(acc, i, it) {
        const char *own = str_of(it, "password");
        CHECK(own != NULL && strlen(own) >= 8);
        CHECK_INT(password_policy_check(own ? own : "", str_of(it, "username"), NULL), 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(own ? own : "", str_of(json_array_get(acc, j), "password")) != 0);
        if (strcmp(str_of(it, "username"), "wangge3") == 0)
            wangge3_pw = own;
    }
    CHECK(wangge3_pw != NULL);
    CHECK_INT(count(&v, "SELECT count(*) FROM users"), 16);
    CHECK_INT(count(&v, "SELECT count(*) FROM users WHERE username = 'admin' AND role = 'admin' AND scope = 'all'"), 1);
    CHECK_INT(count(&v, "SELECT count(*) FROM users u JOIN streets s ON s.id = u.street_id WHERE username = 'jiedao' "
                        "AND role = 'street' AND scope = 'street' AND s.name = '幸福街道'"),
              1);
    CHECK_INT(count(&v, "SELECT count(*) FROM users u JOIN communities c ON c.id = u.community_id WHERE username IN "
                        "('shequ', 'shuji') AND role = 'staff' AND scope = 'community' AND c.name = '暖心社区'"),
              2);
    CHECK_INT(count(&v, "SELECT count(*) FROM users WHERE username = 'shuji' AND display_name = '社区书记'"), 1);
    CHECK_INT(count(&v, "SELECT count(*) FROM users u JOIN grids g ON g.id = u.grid_id WHERE role = 'grid' AND "
                        "scope = 'grid' AND ((username = 'wangge1' AND g.name = '第一网格') OR (username = "
                        "'wangge8' AND g.name = '第八网格') OR (username = 'wangge3' AND g.name = '第三网格'))"),
              3);
    CHECK_INT(count(&v, "SELECT count(DISTINCT grid_id) FROM users WHERE role = 'grid'"), 8);
    CHECK_INT(count(&v, "SELECT count(*) FROM users WHERE username = 'shitang' AND role = 'canteen'"), 1);
    CHECK_INT(count(&v, "SELECT count(*) FROM users WHERE username = 'zhiyuan' AND role = 'volunteer'"), 1);
    store_param pr[] = {P_INT(wjg)};
    CHECK_INT(count_q(&v, "SELECT count(*) FROM users WHERE resident_id = $1 AND scope = 'self' AND ((username = "
                          "'jumin' AND role = 'resident') OR (username = 'jiashu' AND role = 'family'))",
                      pr, 1),
              2);
    /* The printed password really logs in. */
    session_login_result lr;
    CHECK_INT(session_login(v.app.db, "wangge3", wangge3_pw ? wangge3_pw : "", "127.0.0.1", "test", &lr, &e), 0);
    CHECK_INT(session_login(v.app.db, "wangge3", str_of(json_array_get(acc, 0), "password"), "127.0.0.2", "test",
                            &lr, &e),
              NX_EAUTH); /* another account's password does not open it */
    CHECK_INT(session_login(v.app.db, "jumin", "Wrong2026x", "127.0.0.1", "test", &lr, &e), NX_EAUTH);

    /* Filling again is refused, and changes nothing. */
    json_t *s2 = NULL;
    nx_err_clear(&e);
    CHECK_INT(demo_fill(&v.app, &o, &s2, &e), NX_ECONFLICT);
    CHECK(s2 == NULL);
    CHECK(e.msg[0] != '\0');
    CHECK_INT(count(&v, "SELECT count(*) FROM residents"), residents);
    CHECK_INT(count(&v, "SELECT count(*) FROM streets"), 1);

    /* No plain ID number or phone in the database files. */
    /* 高龄 is a care category for the old only (issue 19: it was used for people aged 62-65) */
    {
        nx_date t = date_today();
        char by[11];
        date_format((nx_date){t.y - 80, t.m, t.d == 29 && t.m == 2 ? 28 : t.d}, by);
        store_param bp[] = {P_TEXT(by)};
        CHECK(count(&v, "SELECT count(*) FROM care_files WHERE category = 'elderly'") > 0);
        CHECK_INT(count_q(&v,
                          "SELECT count(*) FROM care_files f JOIN residents r ON r.id = f.resident_id "
                          "WHERE f.category = 'elderly' AND r.birth_date > $1",
                          bp, 1),
                  0);
    }
    store_close(v.app.db);
    v.app.db = NULL;
    char db[600], wal[600];
    path_of(db, sizeof db, v.name, ".db");
    path_of(wal, sizeof wal, v.name, ".db-wal");
    CHECK(!file_contains(db, idno));
    CHECK(!file_contains(wal, idno));
    CHECK(file_contains(db, "王建国")); /* the check can see plain text where there is some */
    if (phone[0]) {
        CHECK(!file_contains(db, phone));
        CHECK(!file_contains(wal, phone));
    }
    json_decref(s);
    env_close(&v);
}

/* The ordered names, birth dates and relations of every resident, as one string. */
static char *fingerprint(env *v)
{
    store_tx *tx;
    nx_err e;
    strbuf b;
    strbuf_init(&b, 1 << 22);
    if (store_begin(v->app.db, STORE_READ, &tx, &e) != 0)
        return NULL;
    store_rows *r;
    if (store_query(tx,
                    "SELECT r.name, r.birth_date, r.sex, r.relation, r.status, r.care_level, g.name FROM residents r "
                    "JOIN grids g ON g.id = r.grid_id ORDER BY r.id",
                    NULL, 0, &r, &e) == 0) {
        while (store_next(r) == 1)
            strbuf_printf(&b, "%s|%s|%lld|%s|%s|%s|%s\n", store_text(r, 0), store_text(r, 1),
                          (long long)store_int(r, 2), store_text(r, 3), store_text(r, 4), store_text(r, 5),
                          store_text(r, 6));
        store_rows_free(r);
    }
    store_rollback(tx);
    return strbuf_steal(&b);
}

static void test_deterministic(void)
{
    env a, b, c;
    if (env_open(&a, "det_a") || env_open(&b, "det_b") || env_open(&c, "det_c")) {
        CHECK(0);
        return;
    }
    demo_options o = {.seed = 42, .residents = 150, .password = "Warm2Heart9"};
    json_t *sa = NULL, *sb = NULL, *sc = NULL;
    nx_err e;
    CHECK_INT(demo_fill(&a.app, &o, &sa, &e), 0);
    CHECK_INT(demo_fill(&b.app, &o, &sb, &e), 0);
    o.seed = 43;
    CHECK_INT(demo_fill(&c.app, &o, &sc, &e), 0);
    char *fa = fingerprint(&a), *fb = fingerprint(&b), *fc = fingerprint(&c);
    CHECK(fa && fb && fc);
    if (fa && fb && fc) {
        CHECK(strlen(fa) > 1000);
        CHECK_INT(strcmp(fa, fb), 0);
        CHECK(strcmp(fa, fc) != 0);
        /* The forced first household is there whatever the seed. */
        CHECK(str_starts_with(fc, "王建国|"));
    }
    free(fa);
    free(fb);
    free(fc);
    /* The chosen password is the one listed and the one that works. */
    json_t *first = json_array_get(json_object_get(sa, "accounts"), 0);
    CHECK_STR(str_of(first, "password"), "Warm2Heart9");
    session_login_result lr;
    CHECK_INT(session_login(a.app.db, "admin", "Warm2Heart9", "127.0.0.1", "test", &lr, &e), 0);
    CHECK_INT(int_of(sa, "residents"), int_of(sb, "residents"));
    CHECK(int_of(sa, "residents") >= 150);
    json_decref(sa);
    json_decref(sb);
    json_decref(sc);
    env_close(&a);
    env_close(&b);
    env_close(&c);
}

/* An account that already exists (say, created by `nuanxin init`) is kept as it is. */
static void test_existing_account(void)
{
    env v;
    if (env_open(&v, "exist") != 0) {
        CHECK(0);
        return;
    }
    nx_err e;
    user_input in = {.username = "admin", .display_name = "原管理员", .password = "OwnSecret77", .role = ROLE_ADMIN};
    int64_t id;
    CHECK_INT(users_create(v.app.db, NULL, &in, &id, &e), 0);
    demo_options o = {.seed = 5, .residents = 40, .password = "Shared2026pw"}; /* as NX_DEMO_PASSWORD gives */
    json_t *s = NULL;
    CHECK_INT(demo_fill(&v.app, &o, &s, &e), 0);
    json_t *first = json_array_get(json_object_get(s, "accounts"), 0);
    CHECK_STR(str_of(first, "username"), "admin");
    CHECK(json_is_true(json_object_get(first, "existing")));
    CHECK_STR(str_of(first, "password"), "（已存在，未修改）");
    CHECK_STR(str_of(json_array_get(json_object_get(s, "accounts"), 1), "password"), "Shared2026pw");
    CHECK_INT(count(&v, "SELECT count(*) FROM users"), 16);
    CHECK_INT(count(&v, "SELECT count(*) FROM users WHERE username = 'admin' AND display_name = '原管理员'"), 1);
    session_login_result lr;
    CHECK_INT(session_login(v.app.db, "admin", "OwnSecret77", "127.0.0.1", "test", &lr, &e), 0);
    json_decref(s);
    env_close(&v);
}

int main(void)
{
    nx_log_threshold = NX_LOG_WARN;
    snprintf(dir, sizeof dir, "/tmp/nx_test_demo_XXXXXX");
    nx_err e = {0};
    if (mkdtemp(dir) == NULL || crypto_init(&e) || pinyin_init(&e) || hanconv_init(&e)) {
        fprintf(stderr, "setup failed: %s\n", e.msg);
        return 1;
    }
    config_defaults(&cfg);
    password_set_cost_for_tests(1, 8192);
    password_pool_init(2, 32);
    TEST_RUN(test_bad_options);
    TEST_RUN(test_fill_600);
    TEST_RUN(test_deterministic);
    TEST_RUN(test_existing_account);
    password_pool_shutdown();
    hanconv_cleanup();
    pinyin_cleanup();
    rmdir(dir);
    return TEST_DONE();
}
