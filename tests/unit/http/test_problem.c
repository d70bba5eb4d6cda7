/* test_problem.c — the one mapping from NX_E* codes to HTTP statuses (src/http/problem.c). */
#include "http/http.h"
#include "test.h"

static void test_status_map(void)
{
    CHECK_INT(http_status_of(NX_EINVAL), 400);
    CHECK_INT(http_status_of(NX_ENOTFOUND), 404);
    CHECK_INT(http_status_of(NX_ECONFLICT), 409);
    CHECK_INT(http_status_of(NX_EPERM), 403);
    CHECK_INT(http_status_of(NX_EAUTH), 401);
    CHECK_INT(http_status_of(NX_ETOOBIG), 413);
    CHECK_INT(http_status_of(NX_EUNSUPP), 415);
    CHECK_INT(http_status_of(NX_ELOCKED), 429);
    CHECK_INT(http_status_of(NX_EBUSY), 503);
    CHECK_INT(http_status_of(NX_ENOMEM), 500);
    CHECK_INT(http_status_of(NX_EIO), 500);
    CHECK_INT(http_status_of(NX_EDB), 500);
    CHECK_INT(http_status_of(NX_EINTERNAL), 500);
    CHECK_INT(http_status_of(-99), 500);
}

int main(void)
{
    TEST_RUN(test_status_map);
    return TEST_DONE();
}
