/* fuzz_config.c — libFuzzer target for the configuration file (base/config.c: inih's INI reading and
 * every key's validation in the declarative table): the input is written to a scratch file and
 * loaded as an explicit --config over the defaults. NUANXIN_* variables are cleared first so that
 * only the file speaks.
 * Invariants: no crash; the load answers 0 or NX_EINVAL with a Chinese message; after a successful
 * load the derived paths are filled and every string is NUL-terminated within its buffer; the
 * redacted database URL never contains the password of a postgres:// URL with one. */
#include "fuzz.h"

#include "base/config.h"
#include "base/str.h"

#include <string.h>
#include <unistd.h>

extern char **environ;

static char path[64];

static void cleanup(void)
{
    if (path[0])
        unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nx_config c;
    if (path[0] == '\0') {
        snprintf(path, sizeof path, "/tmp/nx_fuzz_config_%ld.conf", (long)getpid());
        atexit(cleanup);
        for (char **v = environ; v && *v;) { /* only the file speaks */
            if (strncmp(*v, "NUANXIN_", 8) == 0) {
                char name[128];
                size_t k = strcspn(*v, "=");
                snprintf(name, sizeof name, "%.*s", (int)(k < sizeof name - 1 ? k : sizeof name - 1), *v);
                unsetenv(name);
            } else {
                v++;
            }
        }
    }
    FILE *f = fopen(path, "wb");
    FUZZ_ASSERT(f != NULL);
    FUZZ_ASSERT(fwrite(data, 1, size, f) == size);
    fclose(f);
    config_defaults(&c);
    snprintf(c.data_dir, sizeof c.data_dir, "/nonexistent/nx-fuzz");
    snprintf(c.config_file, sizeof c.config_file, "%s", path);
    nx_err e = {0};
    int rc = config_load_file_env(&c, &e);
    if (rc != 0) {
        FUZZ_ASSERT(rc == NX_EINVAL);
        FUZZ_ASSERT(e.msg[0] != '\0' && str_utf8_valid(e.msg, strlen(e.msg)));
        return 0;
    }
    FUZZ_ASSERT(memchr(c.database, '\0', sizeof c.database) && c.database[0] != '\0');
    FUZZ_ASSERT(memchr(c.key_file, '\0', sizeof c.key_file) && c.key_file[0] != '\0');
    FUZZ_ASSERT(memchr(c.listen, '\0', sizeof c.listen));
    FUZZ_ASSERT(memchr(c.log_level, '\0', sizeof c.log_level));
    char red[sizeof c.database + 32];
    config_redact_url(c.database, red, sizeof red);
    const char *scheme = strstr(c.database, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = scheme && at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (colon && at - colon > 4) { /* a password of 4+ bytes is not in the redacted form */
        char pw[1024];
        snprintf(pw, sizeof pw, "%.*s", (int)(at - colon - 1), colon + 1);
        char rest[sizeof c.database + 16]; /* the URL without its password, and the marker */
        snprintf(rest, sizeof rest, "%.*s<redacted>%s", (int)(colon - c.database + 1), c.database, at);
        FUZZ_ASSERT(strstr(red, pw) == NULL || strstr(rest, pw) != NULL);
    }
    return 0;
}
