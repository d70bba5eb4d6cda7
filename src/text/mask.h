/* mask.h — masking personal data for display (脱敏): responses show "3714**********1234" unless the
 * caller may see the full value. All functions are UTF-8 aware (they count code points, never cut
 * one in half), always NUL-terminate out when n > 0, truncate at a code point boundary when out is
 * too small, and write "****" for input that is not valid UTF-8. NULL input gives "". Pure and
 * thread-safe. */
#ifndef NX_TEXT_MASK_H
#define NX_TEXT_MASK_H

#include <stddef.h>

/* Document numbers. A resident ID card number (18 characters, or the old 15 digits) keeps only the
 * first 4 (province and city): "371402199001011234" → "3714**************". The county, the birth
 * date, the sequence and the check digit stay hidden, so the masked number together with a birth
 * date, sex and age shown beside it still leaves tens of thousands of candidates (docs/security.md
 * §5; a mask that kept the last four as well left about nine). Other documents of more than 8
 * characters keep the first 2 and last 2 ("E12345678" → "E1*****78"); 3 to 8 characters keep only
 * the last 2 ("H1234567" → "******67"); 1 or 2 characters are all stars. One '*' per hidden
 * character. */
void mask_id(const char *id, char *out, size_t n);

/* Phone numbers: an 11-digit mobile keeps 3 + 4 ("13812345678" → "138****5678"); a landline with a
 * dash keeps the area code and the last 2 characters, dashes kept ("0531-86123456" →
 * "0531-******56"); an unbroken landline starting 0 keeps its inferred area code (3 digits for
 * 010/02x, else 4) and the last 2; anything else is masked as a document number. */
void mask_phone(const char *p, char *out, size_t n);

/* Addresses: more than 6 code points keep the first 6 and append "****" ("幸福里小区3号楼2单元401"
 * → "幸福里小区3****"); 6 or fewer keep the first half (rounded down) and append "****"; "" stays "". */
void mask_address(const char *addr, char *out, size_t n);

/* Names: the first code point, then '*' for each code point but the last, then the last:
 * "王建国" → "王*国", "欧阳建国" → "欧**国"; two code points → first + '*' ("王伟" → "王*");
 * one → "*". */
void mask_name(const char *name, char *out, size_t n);

#endif
