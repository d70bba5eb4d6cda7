/* test_login.c — the login throttle of session.c on SQLite and (with NX_TEST_PG) PostgreSQL, with
 * the wall clock pinned: free failures and then locks that double up to their cap, counters that
 * belong to a typed name and an address (another address is not slowed), the name-wide back-off
 * that spares known addresses and an address's first try, the address counter across names, the
 * same refusal for unknown and existing names, the reset by an administrator, the attempt limit of
 * the password change, and session_alive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "secure/password.h"
#include "secure/session.h"
#include "store/store.h"
#include "test.h"
#include "backends.h"

#define T0 1790000000000LL /* an arbitrary fixed instant: the tests do not depend on today's date */
#define PW "Throttle2026pw"

static store *s;
static int64_t now_ms;

static void at(int64_t ms)
{
    now_ms = ms;
    clock_pin_ms(ms);
}

static store *open_db(const char *name)
{
    return tb_open(name, 2, true);
}

static int64_t add_user(const char *name)
{
    nx_err e = {0};
    user_input in = {.username = name, .display_name = name, .password = PW, .role = ROLE_ADMIN,
                     .scope = SCOPE_ALL, .disabled = -1};
    int64_t id = 0;
    CHECK_INT(users_create(s, NULL, &in, &id, &e), 0);
    return id;
}

/* One attempt; returns the code, *retry the Retry-After seconds (0 unless NX_ELOCKED). */
static int try_login(const char *name, const char *pw, const char *ip, int *retry, char *msg)
{
    nx_err e = {0};
    session_login_result r;
    int rc = session_login(s, name, pw, ip, "test", &r, &e);
    if (retry)
        *retry = rc == NX_ELOCKED ? r.retry_after_s : 0;
    if (msg)
        snprintf(msg, 256, "%s", rc ? e.msg : "");
    return rc;
}

static void test_pair_backoff_doubles_and_stays_with_its_address(void)
{
    add_user("amy");
    int retry;
    at(T0);
    for (int i = 0; i < 4; i++)
        CHECK_INT(try_login("amy", "wrong-one-1", "198.51.100.1", NULL, NULL), NX_EAUTH);
    CHECK_INT(try_login("amy", "wrong-one-1", "198.51.100.1", &retry, NULL), NX_ELOCKED);
    CHECK_INT(retry, 30);
    at(T0 + 10000);
    CHECK_INT(try_login("amy", PW, "198.51.100.1", &retry, NULL), NX_ELOCKED);
    CHECK_INT(retry, 20); /* the real remaining wait */
    CHECK_INT(try_login("amy", PW, "198.51.100.2", NULL, NULL), 0); /* another address */
    at(T0 + 30000);
    CHECK_INT(try_login("amy", "wrong-one-1", "198.51.100.1", &retry, NULL), NX_ELOCKED);
    CHECK_INT(retry, 60); /* doubled */
    at(T0 + 90000);
    CHECK_INT(try_login("amy", "wrong-one-1", "198.51.100.1", &retry, NULL), NX_ELOCKED);
    CHECK_INT(retry, 120);
    /* the lock never exceeds lockout_ms (15 minutes by default) */
    int64_t t = T0 + 90000;
    for (int i = 0; i < 6; i++) {
        t += (int64_t)retry * 1000;
        at(t);
        CHECK_INT(try_login("amy", "wrong-one-1", "198.51.100.1", &retry, NULL), NX_ELOCKED);
    }
    CHECK_INT(retry, 900);
    /* after the lock, the right password works and forgets the counter */
    at(t + 900000);
    CHECK_INT(try_login("amy", PW, "198.51.100.1", NULL, NULL), 0);
    CHECK_INT(try_login("amy", "wrong-one-1", "198.51.100.1", NULL, NULL), NX_EAUTH);
}

static void test_unknown_names_are_throttled_alike(void)
{
    add_user("ben");
    char m1[256], m2[256];
    int r1, r2;
    at(T0 + 10LL * 86400000);
    CHECK_INT(try_login("ben", "wrong-one-1", "198.51.100.3", NULL, m1), NX_EAUTH);
    CHECK_INT(try_login("no-such-user", "wrong-one-1", "198.51.100.3", NULL, m2), NX_EAUTH);
    CHECK_STR(m1, m2);
    for (int i = 0; i < 3; i++) {
        try_login("ben", "wrong-one-1", "198.51.100.3", NULL, NULL);
        try_login("no-such-user", "wrong-one-1", "198.51.100.3", NULL, NULL);
    }
    CHECK_INT(try_login("ben", "wrong-one-1", "198.51.100.3", &r1, m1), NX_ELOCKED);
    CHECK_INT(try_login("no-such-user", "wrong-one-1", "198.51.100.3", &r2, m2), NX_ELOCKED);
    CHECK_INT(r1, r2);
    CHECK_STR(m1, m2);
    CHECK(strstr(m1, "还可尝试") == NULL);
}

static void test_address_counter_spans_names(void)
{
    add_user("cid");
    at(T0 + 20LL * 86400000);
    int rc = 0, retry = 0;
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "guess-%d", i);
        rc = try_login(name, "wrong-one-1", "198.51.100.4", &retry, NULL);
    }
    CHECK_INT(rc, NX_ELOCKED); /* the 20th failure of the address */
    CHECK_INT(retry, 30);
    CHECK_INT(try_login("cid", PW, "198.51.100.4", NULL, NULL), NX_ELOCKED);
    CHECK_INT(try_login("cid", PW, "198.51.100.5", NULL, NULL), 0);
    /* an address's counter is forgotten after ip_window_ms (15 minutes) without a failure */
    at(T0 + 20LL * 86400000 + 30000 + 15 * 60000 + 1);
    CHECK_INT(try_login("cid", PW, "198.51.100.4", NULL, NULL), 0);
}

static void test_name_backoff_spares_the_owner(void)
{
    add_user("dee");
    int64_t t = T0 + 30LL * 86400000;
    at(t);
    CHECK_INT(try_login("dee", PW, "198.51.100.9", NULL, NULL), 0); /* the owner's address */
    int rc = 0, retry = 0;
    for (int i = 0; i < 21; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "203.0.113.%d", i + 1);
        rc = try_login("dee", "wrong-one-1", ip, &retry, NULL);
    }
    CHECK_INT(rc, NX_ELOCKED);
    CHECK(retry > 0 && retry <= 60);
    CHECK_INT(try_login("dee", PW, "203.0.113.1", NULL, NULL), NX_ELOCKED); /* a guesser waits */
    CHECK_INT(try_login("dee", "wrong-one-2", "198.51.100.9", NULL, NULL), NX_EAUTH); /* known: not slowed */
    CHECK_INT(try_login("dee", PW, "198.51.100.9", NULL, NULL), 0);
    /* the name-wide lock is capped at 5 minutes however long the guessing goes on */
    for (int i = 0; i < 12; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "203.0.114.%d", i + 1);
        t += 1000;
        at(t);
        try_login("dee", "wrong-one-1", ip, &retry, NULL);
    }
    for (int i = 0; i < 20; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "203.0.115.%d", i + 1);
        t += 1000;
        at(t);
        rc = try_login("dee", "wrong-one-1", ip, &retry, NULL);
    }
    CHECK_INT(rc, NX_ELOCKED);
    CHECK(retry <= 300);
}

static void test_admin_reset_clears_the_name(void)
{
    add_user("eve");
    at(T0 + 40LL * 86400000);
    for (int i = 0; i < 5; i++)
        try_login("eve", "wrong-one-1", "198.51.100.6", NULL, NULL);
    CHECK_INT(try_login("eve", PW, "198.51.100.6", NULL, NULL), NX_ELOCKED);
    nx_err e = {0};
    CHECK_INT(users_set_password(s, NULL, "eve", "Reset2026pw", false, &e), 0);
    CHECK_INT(try_login("eve", "Reset2026pw", "198.51.100.6", NULL, NULL), 0);
}

static void test_password_change_attempts(void)
{
    int64_t id = add_user("fay");
    at(T0 + 50LL * 86400000);
    nx_principal who = {.user_id = id, .username = "fay", .role = ROLE_ADMIN, .scope = SCOPE_ALL, .ip = "::1"};
    nx_err e = {0};
    int retry = 0;
    for (int i = 0; i < 4; i++)
        CHECK_INT(session_change_password(s, &who, 0, "wrong-one-1", "New2026pwX", &retry, &e), NX_EINVAL);
    CHECK_INT(session_change_password(s, &who, 0, "wrong-one-1", "New2026pwX", &retry, &e), NX_ELOCKED);
    CHECK_INT(retry, 30);
    CHECK_INT(session_change_password(s, &who, 0, PW, "New2026pwX", &retry, &e), NX_ELOCKED);
    at(T0 + 50LL * 86400000 + 30000);
    CHECK_INT(session_change_password(s, &who, 0, PW, "New2026pwX", &retry, &e), 0);
}

static void test_session_alive(void)
{
    add_user("gus");
    at(T0 + 60LL * 86400000);
    nx_err e = {0};
    session_login_result r;
    CHECK_INT(session_login(s, "gus", PW, "198.51.100.7", "test", &r, &e), 0);
    session_identity id;
    char buf[512];
    CHECK_INT(session_authenticate(s, r.token, &id, buf, sizeof buf, &e), 0);
    CHECK_INT(session_alive(s, id.session_id, &e), 0);
    nx_principal who = {.user_id = id.who.user_id, .username = "gus"};
    CHECK_INT(session_logout(s, id.session_id, &who, &e), 0);
    CHECK_INT(session_alive(s, id.session_id, &e), NX_EAUTH);
    CHECK_INT(session_login(s, "gus", PW, "198.51.100.7", "test", &r, &e), 0);
    CHECK_INT(session_authenticate(s, r.token, &id, buf, sizeof buf, &e), 0);
    CHECK_INT(users_set_disabled(s, NULL, "gus", true, &e), 0);
    CHECK_INT(session_alive(s, id.session_id, &e), NX_EAUTH);
}

static void run_backend(void)
{
    s = open_db("login.db");
    if (s == NULL)
        return;
    fprintf(stderr, "-- %s\n", tb_backend());
    TEST_RUN(test_pair_backoff_doubles_and_stays_with_its_address);
    TEST_RUN(test_unknown_names_are_throttled_alike);
    TEST_RUN(test_address_counter_spans_names);
    TEST_RUN(test_name_backoff_spares_the_owner);
    TEST_RUN(test_admin_reset_clears_the_name);
    TEST_RUN(test_password_change_attempts);
    TEST_RUN(test_session_alive);
    store_close(s);
    at(0);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    password_set_cost_for_tests(1, 8192);
    if (password_pool_init(2, 8) != 0)
        return 1;
    if (tb_init("nx-test-login") != 0)
        return 1;
    run_backend();
    if (tb_use_pg())
        run_backend();
    tb_cleanup();
    password_pool_shutdown();
    return TEST_DONE();
}
