/* err.h — the one error convention of nuanxin.
 *
 * Every function that can fail returns int: 0 (NX_OK) on success, a negative NX_E* code on failure.
 * Results go in out-parameters. When the caller needs words for a person, it passes an nx_err that
 * the callee fills: the code, the offending field (for validation errors) and a message in Chinese.
 * Codes map to HTTP statuses in exactly one place: http/problem.c. */
#ifndef NX_BASE_ERR_H
#define NX_BASE_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum nx_code {
    NX_OK = 0,
    NX_EINVAL = -1,     /* input failed validation (400/422) */
    NX_ENOTFOUND = -2,  /* no such thing, or not visible to the caller (404) */
    NX_ECONFLICT = -3,  /* duplicate or state conflict (409) */
    NX_EPERM = -4,      /* authenticated but not allowed (403) */
    NX_EAUTH = -5,      /* not authenticated (401) */
    NX_ETOOBIG = -6,    /* over a configured cap (413) */
    NX_ENOMEM = -7,     /* allocation failed (500) */
    NX_EIO = -8,        /* file or socket error (500) */
    NX_EDB = -9,        /* database error (500) */
    NX_EBUSY = -10,     /* try again later: pool full, database locked (503) */
    NX_ELOCKED = -11,   /* account locked or throttled (429) */
    NX_EUNSUPP = -12,   /* unsupported media type or operation (415) */
    NX_EINTERNAL = -13, /* a bug: an invariant that should hold did not (500) */
};

typedef struct nx_err {
    int code;
    char field[64];   /* offending field for validation errors, "" otherwise */
    char msg[320];    /* Chinese, for a person; never contains personal data */
} nx_err;

/* Fill e (which may be NULL) and return code. fmt is printf-style and gives the Chinese message. */
int nx_fail(nx_err *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* nx_fail with the message's arguments as a va_list, for a function that takes a printf message of
 * its own and fails with it (store_exists_or_fail, store_conflict_field): the words go into e as
 * they are, with no second buffer and no "%s" hop. ap is used up (va_end is the caller's). */
int nx_failv(nx_err *e, int code, const char *field, const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* Reset e to "no error". NULL is accepted. */
void nx_err_clear(nx_err *e);

/* A short stable English name for a code ("invalid", "not_found" …), used in problem types and logs. */
const char *nx_code_name(int code);

#endif
