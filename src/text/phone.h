/* phone.h — mainland Chinese telephone numbers as people type them: mobiles ("138 1234 5678",
 * "+86-13812345678") and landlines ("0531-86123456", "(010)12345678-123"), validated and
 * normalised for storage and look-ups. Pure functions, thread-safe. */
#ifndef NX_TEXT_PHONE_H
#define NX_TEXT_PHONE_H

#include <stddef.h>

#include "base/err.h"

/* Room for any number phone_parse_any writes ("0531-86123456-123456"), with its NUL. */
#define PHONE_MAX 24

/* Validate a mainland mobile number. Accepted: digits with spaces or dashes anywhere, surrounding
 * spaces, and a leading +86, 86 or 0086 (with or without a separator after it). The result is 11
 * digits starting 13-19, written with its NUL into out. Returns 0 or NX_EINVAL with field "phone"
 * and a Chinese message (out is then ""). */
int phone_parse_mobile(const char *s, char out[12], nx_err *e);

/* Validate a mobile (as above, written as 11 digits) or a landline, for emergency contacts.
 * A landline is an area code (010, 020-029, or 4 digits 03xx-09xx), a local number of 7 or 8
 * digits not starting 0, and an optional extension of 1-6 digits. Separators: spaces, dashes,
 * parentheses around the area code; without separators the area code length follows from its
 * first digits ("053186123456"). A leading +86/0086 may replace the area code's 0 ("+86 531
 * 86123456"). Normalised form: "0531-86123456" or "010-12345678-123". n must be at least
 * PHONE_MAX. Returns 0, NX_EINVAL (field "phone", Chinese message; out is "") or NX_EINTERNAL when
 * n is too small. */
int phone_parse_any(const char *s, char *out, size_t n, nx_err *e);

#endif
