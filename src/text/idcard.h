/* idcard.h — identity documents of people living in mainland China: the 18-digit resident ID number
 * (居民身份证号码, GB 11643-1999) with its MOD 11-2 check digit, birth date, sex and region code,
 * and the other documents a resident may hold (passport, Hong Kong/Macau and Taiwan permits and
 * residence permits, foreign permanent residence ID). Pure functions, thread-safe; the only state
 * read is the clock (to refuse birth dates in the future). */
#ifndef NX_TEXT_IDCARD_H
#define NX_TEXT_IDCARD_H

#include <stddef.h>

#include "base/clock.h"
#include "base/err.h"

enum id_type {
    ID_CARD = 1,              /* 居民身份证 */
    ID_PASSPORT = 2,          /* 护照 */
    ID_HK_MACAU = 3,          /* 港澳居民来往内地通行证 or 港澳居民居住证 */
    ID_TAIWAN = 4,            /* 台湾居民来往大陆通行证 or 台湾居民居住证 */
    ID_FOREIGN_PERMANENT = 5, /* 外国人永久居留身份证 */
};

/* Room for any normalised document number id_doc_parse produces, with its NUL. */
#define ID_DOC_MAX 24

/* What an 18-digit number tells about its holder. sex: 1 男, 2 女; 0 when the document does not
 * say (passports, permits). region: the first six digits ("371402"), "" when unknown. */
typedef struct idcard_info {
    nx_date birth;
    int sex;
    char region[7];
} idcard_info;

/* Stable code of a type for JSON and storage: "id_card", "passport", "hk_macau", "taiwan",
 * "foreign_permanent"; NULL for an unknown type. */
const char *id_type_code(int type);
/* The enum value of a code as above (exact, lower case), or 0 if unknown or NULL. */
int id_type_parse(const char *code);
/* Chinese label ("居民身份证" …) for screens and exports; NULL for an unknown type. */
const char *id_type_label(int type);

/* The GB 11643-1999 MOD 11-2 check character of the first 17 digits: '0'..'9' or 'X'.
 * first17 must start with 17 ASCII digits (characters after them are ignored); returns 0 when it
 * does not (including NULL). */
char idcard_check_digit(const char *first17);

/* Validate a resident ID number. Surrounding ASCII spaces are trimmed; a final lower-case 'x' is
 * accepted and written as 'X'. Checks, in order: only digits (X only last), 18 characters, a real
 * province code (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82), a real birth date between
 * 1890-01-01 and today (Asia/Shanghai), the check digit. On success writes the 18 characters and a
 * NUL into norm (if not NULL) and fills info (if not NULL; sex from the 17th digit, odd = 男).
 * Returns 0 or NX_EINVAL with field "id_number" and a Chinese message that names the problem but
 * never the number or the expected check digit. */
int idcard_parse(const char *s, char norm[19], idcard_info *info, nx_err *e);

/* Validate and normalise a document number of the given type (enum id_type). norm receives the
 * normalised number; n must be at least ID_DOC_MAX. What is accepted (spaces around trimmed, letters
 * upper-cased):
 *   ID_CARD              as idcard_parse.
 *   ID_PASSPORT          5-20 letters or digits ("E12345678", "EA1234567", foreign passports).
 *   ID_HK_MACAU          通行证: H or M and 8 or 10 digits ("H12345678", "M1234567801");
 *                        居住证: 18 digits starting 810000 (Hong Kong) or 820000 (Macau), birth date
 *                        and check digit verified as for an ID card.
 *   ID_TAIWAN            台胞证: 8 digits ("12345678"); 居住证: 18 digits starting 830000, verified
 *                        as for an ID card.
 *   ID_FOREIGN_PERMANENT old format: 15 characters, 3 letters (nationality) and 12 digits
 *                        ("USA310078010812"); new format (2023): 18 characters starting 9, a province
 *                        code in digits 2-3, birth date in digits 7-14, the ID card check digit.
 * info (may be NULL) is filled for the 18-digit forms; otherwise it is zeroed (sex 0, region "").
 * Returns 0, NX_EINVAL (field "id_number", Chinese message; also for an unknown type) or
 * NX_EINTERNAL when n < ID_DOC_MAX. */
int id_doc_parse(int type, const char *s, char *norm, size_t n, idcard_info *info_or_null, nx_err *e);

/* Number of entries in the table of real county codes idcard_fake draws from (Jinan, Dezhou,
 * Beijing and Shanghai districts). */
unsigned idcard_fake_region_count(void);

/* Build a valid fictional ID number for the demo and tests: county code
 * table[seed_region_index % idcard_fake_region_count()], the birth date, a sequence number
 * 2*seq+1 for sex 1 (男) or 2*seq for sex 2 (女), and the right check digit. seq must be 0..499,
 * birth a real date from 1890 up to today, sex 1 or 2. Writes 18 characters and a NUL into out.
 * Returns 0 or NX_EINVAL (out is then ""). The numbers are valid in form only. */
int idcard_fake(unsigned seed_region_index, nx_date birth, int sex, unsigned seq, char out[19]);

#endif
