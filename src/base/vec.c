/* vec.c — see vec.h. Room doubles from 16 up to max; sizes are checked for overflow before any
 * multiplication, so a huge max cannot wrap an allocation size. */
#include "base/vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void vec_init(vec *v, size_t size, size_t max)
{
    size_t limit = size ? SIZE_MAX / 2 / size : 0;
    *v = (vec){.size = size, .max = max && max < limit ? max : limit};
}

static int refuse(vec *v, int code)
{
    if (v->err == 0)
        v->err = code;
    return code;
}

int vec_push(vec *v, const void *elem)
{
    if (v->len >= v->max)
        return refuse(v, NX_ETOOBIG);
    if (v->len == v->room) {
        size_t room = v->room ? v->room * 2 : 16;
        if (room > v->max)
            room = v->max;
        void *p = realloc(v->items, room * v->size);
        if (p == NULL)
            return refuse(v, NX_ENOMEM);
        v->items = p;
        v->room = room;
    }
    memcpy((char *)v->items + v->len * v->size, elem, v->size);
    v->len++;
    return 0;
}

int vec_error(const vec *v, nx_err *e)
{
    if (v->err == NX_ETOOBIG)
        return nx_fail(e, NX_ETOOBIG, "", "超过 %zu 条的上限", v->max);
    if (v->err)
        return nx_fail(e, v->err, "", "内存不足");
    return 0;
}

void vec_cleanup(vec *v)
{
    if (v == NULL)
        return;
    free(v->items);
    v->items = NULL;
    v->len = v->room = 0;
    v->err = 0;
}
