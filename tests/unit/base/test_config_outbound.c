/* test_config_outbound.c — the outbound_allow configuration key (base/config.c): a list of networks
 * parsed with netaddr's cidr_list_parse, refused with a message naming the key when an entry is not
 * a network, empty by default. */
#include "base/config.h"

#include "test.h"

#include <string.h>

static void test_outbound_allow(void)
{
    nx_config c;
    config_defaults(&c);
    CHECK_STR(c.outbound_allow, "");
    nx_err e = {0};
    CHECK_INT(config_set(&c, "outbound_allow", "10.2.0.0/16, 127.0.0.1 fd00::/8", "flag", &e), 0);
    CHECK_STR(c.outbound_allow, "10.2.0.0/16, 127.0.0.1 fd00::/8");
    CHECK_INT(config_set(&c, "outbound-allow", "10.0.0.1/8", "flag", &e), NX_EINVAL);
    CHECK_STR(e.field, "outbound_allow");
    CHECK(strstr(e.msg, "outbound_allow") != NULL);
    CHECK_STR(c.outbound_allow, "10.2.0.0/16, 127.0.0.1 fd00::/8"); /* unchanged on refusal */
    CHECK_INT(config_set(&c, "outbound_allow", "intranet.example", "env", &e), NX_EINVAL);
    CHECK_INT(config_set(&c, "outbound_allow", "", "file", &e), 0);
    CHECK_STR(c.outbound_allow, "");
}

int main(void)
{
    TEST_RUN(test_outbound_allow);
    return TEST_DONE();
}
