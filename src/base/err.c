/* err.c — filling nx_err and naming codes. See err.h for the convention. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int nx_failv(nx_err *e, int code, const char *field, const char *fmt, va_list ap)
{
    if (e == NULL)
        return code;
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    return code;
}

int nx_fail(nx_err *e, int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nx_failv(e, code, field, fmt, ap);
    va_end(ap);
    return code;
}

void nx_err_clear(nx_err *e)
{
    if (e == NULL)
        return;
    e->code = NX_OK;
    e->field[0] = '\0';
    e->msg[0] = '\0';
}

const char *nx_code_name(int code)
{
    switch (code) {
    case NX_OK: return "ok";
    case NX_EINVAL: return "invalid";
    case NX_ENOTFOUND: return "not_found";
    case NX_ECONFLICT: return "conflict";
    case NX_EPERM: return "forbidden";
    case NX_EAUTH: return "unauthenticated";
    case NX_ETOOBIG: return "too_large";
    case NX_ENOMEM: return "no_memory";
    case NX_EIO: return "io";
    case NX_EDB: return "database";
    case NX_EBUSY: return "busy";
    case NX_ELOCKED: return "locked";
    case NX_EUNSUPP: return "unsupported";
    case NX_EINTERNAL: return "internal";
    default: return "unknown";
    }
}
