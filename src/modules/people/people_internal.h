/* people_internal.h — helpers shared by the files of the people module (not for other modules). */
#ifndef NX_MODULES_PEOPLE_INTERNAL_H
#define NX_MODULES_PEOPLE_INTERNAL_H

#include "modules/people/people.h"

/* Encryption contexts and blind-index domains of the personal-data columns. */
#define CTX_ID "resident.id_number"
#define CTX_PHONE "resident.phone"
#define CTX_ADDRESS "resident.address"
#define CTX_CONTACT_PHONE "contact.phone"
#define CTX_HOUSEHOLD_ADDRESS "household.address"

/* Decrypt a ciphertext column encrypted under context; plaintext (release with field_plain_free) or NULL. */
char *people_open(nx_app *app, const char *context, const void *ct, size_t n);
/* Derived forms of a name (simplified, pinyin, initials, ICU sort key). */
int people_name_forms(const char *name, char *name_s, size_t ns, char *pinyin, size_t pn, char *initials,
                      size_t in, unsigned char *key, size_t kcap, size_t *klen);

/* The members of a household, head first then oldest first, as a JSON array (new reference); the
 * member whose id is self is marked "self": true (0 marks none). Runs one query on tx. */
int people_household_members(store_tx *tx, int64_t household, int64_t self, json_t **out, nx_err *e);

#endif
