/* test_config_outbound.c — configuration keys that say where nuanxin meets the outside (base/config.c):
 * outbound_allow, a list of networks parsed with netaddr's cidr_list_parse, refused with a message
 * naming the key when an entry is not a network, empty by default; public_url, the base of printed
 * documents' links, an http(s) URL without blanks, quotes, query or fragment, stored without a
 * trailing slash, empty by default; map_tiles, an XYZ tile template of one origin (the page's image
 * policy allows exactly that origin, config_url_origin), and its datum. */
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

static void test_public_url(void)
{
    nx_config c;
    config_defaults(&c);
    CHECK_STR(c.public_url, "");
    nx_err e = {0};
    CHECK_INT(config_set(&c, "public_url", "https://nuanxin.example.gov.cn/", "flag", &e), 0);
    CHECK_STR(c.public_url, "https://nuanxin.example.gov.cn");
    CHECK_INT(config_set(&c, "public-url", "http://10.0.0.5:8080/hall//", "env", &e), 0);
    CHECK_STR(c.public_url, "http://10.0.0.5:8080/hall");
    static const char *const bad[] = {"javascript:alert(1)", "nuanxin.example", "https://", "https:///x",
                                      "https://a.example/?x=1", "https://a.example/#f", "https://a b.example",
                                      "https://a.example/\")", "ftp://a.example", "https://a.example/<x>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(config_set(&c, "public_url", bad[i], "file", &e), NX_EINVAL);
        CHECK_STR(e.field, "public_url");
    }
    CHECK_STR(c.public_url, "http://10.0.0.5:8080/hall"); /* unchanged on refusal */
    CHECK_INT(config_set(&c, "public_url", "", "file", &e), 0);
    CHECK_STR(c.public_url, "");
}

static void test_map_tiles(void)
{
    nx_config c;
    config_defaults(&c);
    CHECK_STR(c.map_tiles, "");
    CHECK_STR(c.map_tiles_datum, "wgs84");
    nx_err e = {0};
    CHECK_INT(config_set(&c, "map_tiles", "https://Tiles.Example.org:8443/osm/{z}/{x}/{y}.png?key=k1", "flag", &e), 0);
    char origin[128];
    config_url_origin(c.map_tiles, origin, sizeof origin);
    CHECK_STR(origin, "https://tiles.example.org:8443");
    CHECK_INT(config_set(&c, "map-tiles", "http://127.0.0.1:9/{z}/{y}/{x}", "env", &e), 0);
    config_url_origin(c.map_tiles, origin, sizeof origin);
    CHECK_STR(origin, "http://127.0.0.1:9");
    static const char *const bad[] = {"tiles.example.org/{z}/{x}/{y}.png", "https://{s}.tile.example/{z}/{x}/{y}.png",
                                      "https://t.example/{z}/{x}.png", "https://t.example/{z}/{x}/{y}/{y}.png",
                                      "https://t.example/{z}/{x}/{y}{r}.png", "https://t.example/{z}/{x}/{y}.png; img-src *",
                                      "https://t.example/{z}/{x}/{y}.png#f", "https://a b/{z}/{x}/{y}",
                                      "https://t.example", "ftp://t.example/{z}/{x}/{y}", "https://u@t.example/{z}/{x}/{y}",
                                      "https://t.example/{z}/{x}/{y}\".png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(config_set(&c, "map_tiles", bad[i], "file", &e), NX_EINVAL);
        CHECK_STR(e.field, "map_tiles");
    }
    CHECK_STR(c.map_tiles, "http://127.0.0.1:9/{z}/{y}/{x}"); /* unchanged on refusal */
    CHECK_INT(config_set(&c, "map_tiles_datum", "gcj02", "file", &e), 0);
    CHECK_INT(config_set(&c, "map_tiles_datum", "bd09", "file", &e), NX_EINVAL);
    CHECK_STR(c.map_tiles_datum, "gcj02");
    config_url_origin("", origin, sizeof origin);
    CHECK_STR(origin, "");
}

int main(void)
{
    TEST_RUN(test_outbound_allow);
    TEST_RUN(test_public_url);
    TEST_RUN(test_map_tiles);
    return TEST_DONE();
}
