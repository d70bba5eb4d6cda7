/* hanconv.c — 繁→简 through OpenCC's C API.
 *
 * One opencc_t, opened from "t2s.json" (OpenCC looks it up in /usr/share/opencc/). Note that
 * opencc_open reports failure with (opencc_t)-1, not NULL; this file keeps NULL for "not open".
 *
 * Threads: OpenCC 1.1's header states that every C function except opencc_error() is
 * thread-safe; conversion only reads the loaded dictionaries (marisa tries, looked up through a
 * per-call agent), so one converter serves all threads at once. A read-write lock lets any number
 * of conversions run together while keeping open and close (the writers) away from them. We never
 * call opencc_error(), whose buffer is a shared global.
 *
 * Memory: opencc_convert_utf8 returns memory from C++ new[] that only opencc_convert_utf8_free may
 * release; we copy it into a malloc'd string so that callers can use plain free(). */
#include "text/hanconv.h"

#include <opencc/opencc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static opencc_t conv; /* NULL while closed */

int hanconv_init(nx_err *e)
{
    int rc = 0;
    pthread_rwlock_wrlock(&lock);
    if (conv == NULL) {
        opencc_t c = opencc_open("t2s.json");
        if (c == (opencc_t)-1) {
            nx_log(LOG_ERROR, "hanconv_open_failed config=t2s.json");
            rc = nx_fail(e, NX_EIO, "", "无法加载繁简转换数据（OpenCC t2s.json）");
        } else {
            conv = c;
        }
    }
    pthread_rwlock_unlock(&lock);
    return rc;
}

void hanconv_cleanup(void)
{
    pthread_rwlock_wrlock(&lock);
    if (conv != NULL)
        opencc_close(conv);
    conv = NULL;
    pthread_rwlock_unlock(&lock);
}

char *hanconv_t2s(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s);
    if (!str_utf8_valid(s, len))
        return NULL;
    if (len == 0)
        return strdup("");

    pthread_rwlock_rdlock(&lock);
    if (conv == NULL) {
        pthread_rwlock_unlock(&lock);
        if (hanconv_init(NULL) != 0)
            return NULL;
        pthread_rwlock_rdlock(&lock);
        if (conv == NULL) { /* closed again in between */
            pthread_rwlock_unlock(&lock);
            return NULL;
        }
    }
    char *res = NULL;
    char *tmp = opencc_convert_utf8(conv, s, len);
    pthread_rwlock_unlock(&lock);
    if (tmp != NULL) {
        res = strdup(tmp);
        opencc_convert_utf8_free(tmp);
    }
    return res;
}
