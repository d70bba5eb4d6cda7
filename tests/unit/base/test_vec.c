/* test_vec.c — the growable array (base/vec.h): pushes copy elements of the caller's type and keep
 * their order across growth, the cap refuses the element past max (NX_ETOOBIG, array unchanged),
 * and is remembered for vec_error, max 0 means no cap, cleanup empties and the array is usable again. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/vec.h"
#include "test.h"

typedef struct row {
    int64_t id;
    char name[12];
} row;

static void test_push_grow(void)
{
    vec v;
    vec_init(&v, sizeof(row), 0);
    CHECK(v.items == NULL);
    CHECK_INT(v.len, 0);
    for (int i = 0; i < 1000; i++) {
        row r = {.id = i * 3};
        snprintf(r.name, sizeof r.name, "r%d", i);
        CHECK_INT(vec_push(&v, &r), 0);
    }
    CHECK_INT(v.len, 1000);
    CHECK(v.room >= 1000);
    CHECK_INT(vec_error(&v, NULL), 0);
    row *rows = v.items;
    CHECK_INT(rows[0].id, 0);
    CHECK_INT(rows[999].id, 2997);
    CHECK_STR(rows[517].name, "r517");
    vec_cleanup(&v);
    CHECK(v.items == NULL);
    CHECK_INT(v.len, 0);
    int64_t x = 7;
    vec_init(&v, sizeof x, 0);
    CHECK_INT(vec_push(&v, &x), 0);
    CHECK_INT(((int64_t *)v.items)[0], 7);
    vec_cleanup(&v);
    vec_cleanup(NULL);
}

static void test_cap(void)
{
    vec v;
    vec_init(&v, sizeof(int64_t), 20);
    nx_err e = {0};
    for (int64_t i = 0; i < 20; i++)
        CHECK_INT(vec_push(&v, &i), 0);
    CHECK_INT(vec_error(&v, &e), 0);
    CHECK_INT(v.room, 20); /* growth stops at the cap */
    int64_t more = 99;
    CHECK_INT(vec_push(&v, &more), NX_ETOOBIG);
    CHECK_INT(vec_push(&v, &more), NX_ETOOBIG);
    CHECK_INT(v.len, 20);
    CHECK_INT(((int64_t *)v.items)[19], 19);
    /* The refusal is remembered and reported once asked. */
    CHECK_INT(vec_error(&v, &e), NX_ETOOBIG);
    CHECK_INT(e.code, NX_ETOOBIG);
    CHECK(strstr(e.msg, "20") != NULL);
    CHECK_INT(vec_error(&v, NULL), NX_ETOOBIG);
    vec_cleanup(&v);
    CHECK_INT(vec_error(&v, NULL), 0);
    CHECK_INT(vec_push(&v, &more), 0); /* empty again, same cap */
    CHECK_INT(v.max, 20);
    vec_cleanup(&v);
    /* A cap of one. */
    vec_init(&v, sizeof(int64_t), 1);
    CHECK_INT(vec_push(&v, &more), 0);
    CHECK_INT(vec_push(&v, &more), NX_ETOOBIG);
    vec_cleanup(&v);
}

/* A cap larger than memory could hold is clamped, so room * size never wraps. */
static void test_huge(void)
{
    vec v;
    vec_init(&v, 1u << 20, SIZE_MAX);
    CHECK(v.max <= SIZE_MAX / 2 / (1u << 20));
    vec_cleanup(&v);
}

int main(void)
{
    TEST_RUN(test_push_grow);
    TEST_RUN(test_cap);
    TEST_RUN(test_huge);
    return TEST_DONE();
}
