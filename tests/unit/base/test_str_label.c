/* test_str_label.c — str_label / STR_LABEL (base/str.h): the label of a code in a table of {code,
 * label} pairs, as the modules' vocabularies use it — the first match, NULL for NULL or an unknown
 * code (no prefix or case folding), and a table ending with {NULL, NULL} stops the scan there. */
#include <stddef.h>

#include "base/str.h"
#include "test.h"

static const char *const meals[][2] = {{"breakfast", "早餐"}, {"lunch", "午餐"}, {"dinner", "晚餐"}};
static const char *const ended[][2] = {{"clinic", "义诊"}, {"haircut", "爱心理发"}, {NULL, NULL}};

static void test_found(void)
{
    CHECK_STR(STR_LABEL(meals, "breakfast"), "早餐");
    CHECK_STR(STR_LABEL(meals, "dinner"), "晚餐"); /* the last pair */
    CHECK_STR(STR_LABEL(ended, "haircut"), "爱心理发");
}

static void test_not_found(void)
{
    CHECK(STR_LABEL(meals, NULL) == NULL);
    CHECK(STR_LABEL(meals, "") == NULL);
    CHECK(STR_LABEL(meals, "lunc") == NULL);   /* no prefix match */
    CHECK(STR_LABEL(meals, "lunch ") == NULL); /* no trimming */
    CHECK(STR_LABEL(meals, "LUNCH") == NULL);  /* no case folding */
    CHECK(STR_LABEL(ended, "other") == NULL);  /* stops at {NULL, NULL} instead of comparing NULL */
    CHECK(str_label(meals, 1, "lunch") == NULL); /* n bounds the scan */
    CHECK(str_label(meals, 0, "breakfast") == NULL);
}

int main(void)
{
    TEST_RUN(test_found);
    TEST_RUN(test_not_found);
    return TEST_DONE();
}
