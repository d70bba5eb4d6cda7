/* people.c — residents: validation, storage with encrypted personal data, scoped reads, reveal.
 *
 * Invariants:
 * - id_enc/phone_enc/address_enc hold field_encrypt ciphertext bound to their column; *_bidx hold
 *   blind_index(domain, normalized value); *_tail hold the keyed tail index of the last four
 *   characters (people_tail_key), never the characters themselves. No plaintext of
 *   these values is written anywhere: not the database, not the log, not an error message.
 * - sex and birth date of an ID-card holder are derived from the number; a request that states
 *   different ones is rejected (it is almost always a typo in the number).
 * - name_s (simplified), name_pinyin, name_initials, sort_key and resident_name_suffixes are derived
 *   from the name on every write, so search never sees a stale form.
 * - Every change writes an audit row (the names of changed fields, never values) and an outbox
 *   event in the same transaction.
 * Threads: any HTTP worker; all state is in the store. */
#include "modules/people/people.h"

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/people/people_choices.h"
#include "modules/people/people_internal.h"
#include "notify/outbox.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "store/query.h"
#include "text/hanconv.h"
#include "text/idcard.h"
#include "text/mask.h"
#include "text/phone.h"
#include "text/pinyin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- input ---- */

static const char *const resident_fields[] = {
    "community_id", "name", "id_type", "id_number", "birth_date", "sex", "phone", "address", "household_id",
    "room_id", "grid_id", "relation", "residence", "ethnicity", "political", "education", "marital", "work",
    "care_level", "notes", "tags", "contacts", "status", "status_date", "version", NULL};

int people_get_ref(json_t *o, const char *key, int64_t *out, nx_err *e)
{
    if (json_is_null_field(o, key)) {
        *out = -1;
        return 0;
    }
    int rc = json_get_int(o, key, false, 1, INT64_MAX, out, e);
    return rc < 0 ? rc : 0;
}

int people_parse_resident(json_t *o, bool create, resident_input *in, nx_err *e)
{
    memset(in, 0, sizeof *in);
    int rc;
    if ((rc = json_only(o, resident_fields, e)))
        return rc;
#define STR(key, max)                                                                              \
    if ((rc = json_get_str(o, #key, false, max, &in->key, e)) < 0)                                 \
        return rc;
    STR(name, 40) STR(id_type, 20) STR(id_number, 32) STR(sex, 10) STR(relation, 20) STR(residence, 20)
    STR(ethnicity, 20) STR(political, 20) STR(education, 20) STR(marital, 20) STR(work, 100) STR(care_level, 20)
    STR(notes, 500) STR(status, 20)
#undef STR
    if ((rc = json_get_date(o, "birth_date", false, &in->birth_date, e)) < 0 ||
        (rc = json_get_date(o, "status_date", false, &in->status_date, e)) < 0)
        return rc;
    if (json_is_null_field(o, "phone"))
        in->phone_clear = true;
    else if ((rc = json_get_str(o, "phone", false, 30, &in->phone, e)) < 0)
        return rc;
    if (json_is_null_field(o, "address"))
        in->address_clear = true;
    else if ((rc = json_get_str(o, "address", false, 120, &in->address, e)) < 0)
        return rc;
    if ((rc = people_get_ref(o, "household_id", &in->household_id, e)) ||
        (rc = people_get_ref(o, "room_id", &in->room_id, e)))
        return rc;
    if ((rc = json_get_int(o, "grid_id", false, 1, INT64_MAX, &in->grid_id, e)) < 0 ||
        (rc = json_get_int(o, "community_id", false, 1, INT64_MAX, &in->community_id, e)) < 0 ||
        (rc = json_get_version(o, &in->version, e)) < 0)
        return rc;
    json_t *tags = json_object_get(o, "tags");
    if (tags) {
        if ((rc = json_get_str_array(o, "tags", false, 50, 40, &in->tags, e)) < 0)
            return rc;
    }
    json_t *contacts = json_object_get(o, "contacts");
    if (contacts) {
        if (!json_is_array(contacts))
            return nx_fail(e, NX_EINVAL, "contacts", "contacts 应为数组");
        in->contacts = contacts;
    }
    if (create && in->household_id < 0)
        in->household_id = 0;
    if (create && in->room_id < 0)
        in->room_id = 0;
    return 0;
}

/* ---- derived values ---- */

/* A resident's values after validation, ready to store. */
typedef struct resident_rec {
    char name[160], name_s[160], pinyin[400], initials[80];
    unsigned char sort_key[512];
    size_t sort_key_len;
    int sex;
    char birth[11];
    const char *id_type;
    char id_norm[40];
    char phone[16];
    bool has_phone;
    const char *address;
    const char *relation, *residence, *care_level, *status;
    const char *political; /* the code when given (labels accepted), NULL = unchanged */
} resident_rec;

static int check_text(const char *v, const char *field, const char *label, size_t max, nx_err *e)
{
    if (v == NULL)
        return 0;
    if (!str_utf8_valid(v, strlen(v)))
        return nx_fail(e, NX_EINVAL, field, "%s含有无效字符", label);
    if (str_utf8_len(v) > max)
        return nx_fail(e, NX_EINVAL, field, "%s不能超过 %zu 个字", label, max);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 && *p != '\n' && *p != '\t')
            return nx_fail(e, NX_EINVAL, field, "%s含有控制字符", label);
    return 0;
}

static int check_name(const char *name, nx_err *e)
{
    if (name == NULL || *name == '\0')
        return nx_fail(e, NX_EINVAL, "name", "姓名不能为空");
    if (!str_utf8_valid(name, strlen(name)))
        return nx_fail(e, NX_EINVAL, "name", "姓名含有无效字符");
    size_t n = str_utf8_len(name);
    if (n > 40)
        return nx_fail(e, NX_EINVAL, "name", "姓名不能超过 40 个字");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || strchr("<>\"'%;\\/{}[]|`$", *p))
            return nx_fail(e, NX_EINVAL, "name", "姓名含有不允许的字符");
    if (isspace((unsigned char)name[0]) || isspace((unsigned char)name[strlen(name) - 1]))
        return nx_fail(e, NX_EINVAL, "name", "姓名首尾不能有空格");
    return 0;
}

int people_name_forms(const char *name, char *name_s, size_t ns, char *pinyin, size_t pn, char *initials,
                      size_t in, unsigned char *key, size_t kcap, size_t *klen)
{
    char *s = hanconv_t2s(name);
    str_copy(name_s, s ? s : name, ns);
    free(s);
    if (pinyin_name(name_s, pinyin, pn, initials, in) != 0)
        return NX_EINVAL;
    if (collate_key(name_s, key, kcap, klen) != 0)
        return NX_EINVAL;
    return 0;
}

static int parse_sex(const char *s, int *out)
{
    const char *c = people_choice_parse(people_choice_sex, s);
    if (c == NULL)
        return NX_EINVAL;
    *out = strcmp(c, "male") == 0 ? 1 : 2;
    return 0;
}

/* Validate the fields present in in over the current record cur (may be NULL for a create). */
static int validate(const resident_input *in, const resident_rec *cur, resident_rec *rec, nx_err *e)
{
    int rc;
    if (cur)
        *rec = *cur;
    else
        memset(rec, 0, sizeof *rec);

    if (in->name || !cur) {
        if ((rc = check_name(in->name, e)))
            return rc;
        str_copy(rec->name, in->name, sizeof rec->name);
        if (people_name_forms(rec->name, rec->name_s, sizeof rec->name_s, rec->pinyin, sizeof rec->pinyin,
                              rec->initials, sizeof rec->initials, rec->sort_key, sizeof rec->sort_key,
                              &rec->sort_key_len))
            return nx_fail(e, NX_EINVAL, "name", "姓名无法转换为拼音");
    }

    /* Identity document, sex and birth date decide each other. */
    if (in->id_type) {
        int t = id_type_parse(in->id_type);
        if (!t)
            return nx_fail(e, NX_EINVAL, "id_type",
                           "证件类型无效，应为 id_card、passport、hk_macau、taiwan 或 foreign_permanent");
        rec->id_type = id_type_code(t);
    } else if (!cur) {
        rec->id_type = "id_card";
    }
    bool id_changed = in->id_number != NULL || (in->id_type && cur);
    idcard_info info = {0};
    bool derived = false;
    if (id_changed || !cur) {
        if (in->id_number == NULL || *in->id_number == '\0')
            return nx_fail(e, NX_EINVAL, "id_number", "证件号码不能为空");
        if (strlen(in->id_number) > 32)
            return nx_fail(e, NX_EINVAL, "id_number", "证件号码过长");
        if ((rc = id_doc_parse(id_type_parse(rec->id_type), in->id_number, rec->id_norm, sizeof rec->id_norm,
                               &info, e))) {
            str_copy(e->field, "id_number", sizeof e->field);
            return rc;
        }
        derived = strcmp(rec->id_type, "id_card") == 0 || info.birth.y != 0;
    }
    if (derived) {
        char b[11];
        date_format(info.birth, b);
        if (in->birth_date && strcmp(in->birth_date, b) != 0)
            return nx_fail(e, NX_EINVAL, "birth_date", "出生日期与身份证号不符（身份证号显示为 %s）", b);
        int sx = 0;
        if (in->sex && (parse_sex(in->sex, &sx) || sx != info.sex))
            return nx_fail(e, NX_EINVAL, "sex", "性别与身份证号不符");
        str_copy(rec->birth, b, sizeof rec->birth);
        rec->sex = info.sex;
    } else {
        if (in->birth_date) {
            nx_date d;
            if (date_parse(in->birth_date, &d))
                return nx_fail(e, NX_EINVAL, "birth_date", "出生日期格式应为 YYYY-MM-DD");
            if (date_to_days(d) > date_to_days(date_today()) || d.y < 1890)
                return nx_fail(e, NX_EINVAL, "birth_date", "出生日期不合理");
            if (cur && strcmp(cur->id_type, "id_card") == 0 && !id_changed &&
                strcmp(in->birth_date, cur->birth) != 0)
                return nx_fail(e, NX_EINVAL, "birth_date", "出生日期与身份证号不符");
            str_copy(rec->birth, in->birth_date, sizeof rec->birth);
        } else if (!cur) {
            return nx_fail(e, NX_EINVAL, "birth_date", "请填写出生日期");
        }
        if (in->sex) {
            int sx;
            if (parse_sex(in->sex, &sx))
                return nx_fail(e, NX_EINVAL, "sex", "性别应为 male（男）或 female（女）");
            if (cur && strcmp(cur->id_type, "id_card") == 0 && !id_changed && sx != cur->sex)
                return nx_fail(e, NX_EINVAL, "sex", "性别与身份证号不符");
            rec->sex = sx;
        } else if (!cur) {
            return nx_fail(e, NX_EINVAL, "sex", "请填写性别");
        }
    }

    if (in->phone_clear) {
        rec->has_phone = false;
    } else if (in->phone) {
        if ((rc = phone_parse_mobile(in->phone, rec->phone, e)))
            return rc;
        rec->has_phone = true;
    }
    if (in->address && (rc = check_text(in->address, "address", "详细地址", 120, e)))
        return rc;

#define CHOICE(field, list, label)                                                                 \
    do {                                                                                           \
        if (in->field) {                                                                           \
            rec->field = people_choice_parse(list, in->field);                                            \
            if (rec->field == NULL) {                                                              \
                char all[200];                                                                     \
                people_choice_labels(list, all, sizeof all);                                              \
                return nx_fail(e, NX_EINVAL, #field, label "无效，可选：%s", all);                 \
            }                                                                                      \
        } else if (!cur) {                                                                         \
            rec->field = list[0].code;                                                             \
        }                                                                                          \
    } while (0)
    CHOICE(relation, people_choice_relation, "与户主关系");
    CHOICE(residence, people_choice_residence, "户籍状态");
    CHOICE(care_level, people_choice_care_level, "关怀等级");
    CHOICE(status, people_choice_status, "人员状态");
#undef CHOICE
    if (!cur && !in->relation)
        rec->relation = "other";
    if (in->political && !(rec->political = people_choice_parse(people_choice_political, in->political))) {
        char all[200];
        people_choice_labels(people_choice_political, all, sizeof all);
        return nx_fail(e, NX_EINVAL, "political", "政治面貌无效，可选：%s", all);
    }
    if ((rc = check_text(in->ethnicity, "ethnicity", "民族", 20, e)) ||
        (rc = check_text(in->education, "education", "文化程度", 20, e)) ||
        (rc = check_text(in->marital, "marital", "婚姻状况", 20, e)) ||
        (rc = check_text(in->work, "work", "工作单位/职业", 100, e)) ||
        (rc = check_text(in->notes, "notes", "备注", 500, e)))
        return rc;
    if (in->status_date) {
        nx_date d;
        if (date_parse(in->status_date, &d))
            return nx_fail(e, NX_EINVAL, "status_date", "日期格式应为 YYYY-MM-DD");
    }
    return 0;
}

/* ---- encryption helpers ---- */

/* Encrypt a value bound to its column (context), so a ciphertext moved to another column fails. */
static int seal(nx_app *app, const char *context, const char *plain, unsigned char **out, size_t *len)
{
    return field_encrypt_ad(app->keys, context, plain, strlen(plain), out, len);
}

/* A record's personal fields as a create or an update stores them: the ID number's ciphertext, blind
 * index and keyed tail, the phone's (when it has one) and the address's ciphertext (when address is
 * given and not empty). The ciphertexts are released with sealed_free. */
typedef struct sealed {
    unsigned char idb[16], phb[16], *id_ct, *ph_ct, *ad_ct;
    size_t id_n, ph_n, ad_n;
    char id_t[PEOPLE_TAIL_HEX + 1], ph_t[PEOPLE_TAIL_HEX + 1];
} sealed;

/* The blind index of the ID number first (a write checks it for a duplicate before sealing), then
 * seal_rest for everything else: 0, or NX_EINTERNAL "加密失败". s starts zeroed. */
static void seal_id_index(nx_app *app, const resident_rec *rec, sealed *s)
{
    memset(s, 0, sizeof *s);
    blind_index(app->keys, CTX_ID, rec->id_norm, s->idb);
}

static int seal_rest(nx_app *app, const resident_rec *rec, const char *address, sealed *s, nx_err *e)
{
    people_tail_key(app, CTX_ID, rec->id_norm, s->id_t);
    if (seal(app, CTX_ID, rec->id_norm, &s->id_ct, &s->id_n) ||
        (rec->has_phone && seal(app, CTX_PHONE, rec->phone, &s->ph_ct, &s->ph_n)) ||
        (address && *address && seal(app, CTX_ADDRESS, address, &s->ad_ct, &s->ad_n)))
        return nx_fail(e, NX_EINTERNAL, "", "加密失败");
    if (rec->has_phone) {
        blind_index(app->keys, CTX_PHONE, rec->phone, s->phb);
        people_tail_key(app, CTX_PHONE, rec->phone, s->ph_t);
    }
    return 0;
}

static void sealed_free(sealed *s)
{
    free(s->id_ct);
    free(s->ph_ct);
    free(s->ad_ct);
}


/* ---- tags, contacts, suffixes ---- */

static int write_suffixes(store_tx *tx, int64_t id, int64_t community, const char *name_s, nx_err *e)
{
    store_param d[] = {P_INT(id)};
    int rc = store_exec(tx, "DELETE FROM resident_name_suffixes WHERE resident_id = $1", d, 1, NULL, e);
    for (const char *p = name_s; rc == 0 && *p;) {
        store_param a[] = {P_TEXT(p), P_INT(id), P_INT(community)};
        rc = store_exec(tx,
                        "INSERT INTO resident_name_suffixes (suffix, resident_id, community_id) "
                        "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        a, 3, NULL, e);
        p++;
        while (*p && ((unsigned char)*p & 0xC0) == 0x80)
            p++;
    }
    return rc;
}

static int write_tags(store_tx *tx, int64_t id, json_t *tags, nx_err *e)
{
    if (!json_is_array(tags))
        return nx_fail(e, NX_EINVAL, "tags", "tags 应为标签代码数组");
    if (json_array_size(tags) > 50)
        return nx_fail(e, NX_EINVAL, "tags", "标签过多");
    store_param d[] = {P_INT(id)};
    int rc = store_exec(tx, "DELETE FROM resident_tags WHERE resident_id = $1", d, 1, NULL, e);
    size_t i;
    json_t *v;
    json_array_foreach(tags, i, v) {
        if (rc)
            break;
        if (!json_is_string(v))
            return nx_fail(e, NX_EINVAL, "tags", "标签应为字符串");
        const char *code = json_string_value(v);
        store_rows *r;
        store_param q[] = {P_TEXT(code)};
        if ((rc = store_query(tx, "SELECT id, rule FROM tags WHERE code = $1 OR name = $1", q, 1, &r, e)))
            return rc;
        int64_t tag_id = 0;
        bool computed = false;
        if ((rc = store_first(r, "", e)) == 0) {
            tag_id = store_int(r, 0);
            computed = !store_isnull(r, 1);
        }
        store_rows_free(r);
        if (rc && rc != NX_ENOTFOUND)
            return rc;
        if (!tag_id)
            return nx_fail(e, NX_EINVAL, "tags", "标签“%.60s”不存在", code);
        if (computed)
            continue; /* derived from the birth date; stating it changes nothing */
        store_param a[] = {P_INT(id), P_INT(tag_id), P_INT(clock_now_ms())};
        rc = store_exec(tx,
                        "INSERT INTO resident_tags (resident_id, tag_id, created_at) VALUES ($1, $2, $3) "
                        "ON CONFLICT DO NOTHING",
                        a, 3, NULL, e);
    }
    return rc;
}

/* A stored contact's phone, kept when an edit names the contact by id without a new phone (the
 * client only ever saw it masked). */
typedef struct kept_phone {
    int64_t id;
    unsigned char *ct;
    size_t n;
    char tail[PEOPLE_TAIL_HEX + 1];
} kept_phone;

static int load_kept_phones(store_tx *tx, int64_t id, kept_phone *kept, int *nkept, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_INT(id)};
    int rc = store_query(tx, "SELECT id, phone_enc, phone_tail FROM emergency_contacts WHERE resident_id = $1", p, 1,
                         &r, e);
    if (rc)
        return rc;
    *nkept = 0;
    while (*nkept < 10 && store_row(r)) {
        kept_phone *k = &kept[(*nkept)++];
        size_t n;
        const void *b = store_blob(r, 1, &n);
        k->id = store_int(r, 0);
        k->ct = malloc(n ? n : 1);
        if (k->ct)
            memcpy(k->ct, b, n);
        k->n = n;
        str_copy(k->tail, store_text(r, 2) ? store_text(r, 2) : "", sizeof k->tail);
    }
    if ((rc = store_rows_end(r, e))) {
        for (int j = 0; j < *nkept; j++)
            free(kept[j].ct);
        *nkept = 0;
    }
    return rc;
}

static int write_contacts(nx_app *app, store_tx *tx, int64_t id, json_t *contacts, nx_err *e)
{
    if (!json_is_array(contacts))
        return nx_fail(e, NX_EINVAL, "contacts", "contacts 应为数组");
    if (json_array_size(contacts) > 10)
        return nx_fail(e, NX_EINVAL, "contacts", "紧急联系人最多 10 位");
    kept_phone kept[10];
    int nkept = 0;
    int rc = load_kept_phones(tx, id, kept, &nkept, e);
    if (rc)
        return rc;
    store_param d[] = {P_INT(id)};
    rc = store_exec(tx, "DELETE FROM emergency_contacts WHERE resident_id = $1", d, 1, NULL, e);
    size_t i;
    json_t *c;
    static const char *const allowed[] = {"id", "name", "relation", "phone", "is_primary", NULL};
    json_array_foreach(contacts, i, c) {
        if (rc)
            break;
        char field[24];
        snprintf(field, sizeof field, "contacts[%zu]", i % 100);
        if (!json_is_object(c)) {
            rc = nx_fail(e, NX_EINVAL, field, "紧急联系人应为对象");
            break;
        }
        const char *name, *relation, *phone = NULL;
        bool primary = false;
        int64_t cid = 0;
        if ((rc = json_only(c, allowed, e)) || (rc = json_get_str(c, "name", true, 40, &name, e)) ||
            (rc = json_get_str(c, "relation", true, 20, &relation, e)) < 0 ||
            (rc = json_get_int(c, "id", false, 1, INT64_MAX, &cid, e)) < 0 ||
            (rc = json_get_str(c, "phone", cid == 0, 30, &phone, e)) < 0 ||
            (rc = json_get_bool(c, "is_primary", false, &primary, e)) < 0) {
            char sub[128];
            snprintf(sub, sizeof sub, "%s.%s", field, e->field);
            str_copy(e->field, sub, sizeof e->field);
            rc = rc < 0 ? rc : NX_EINVAL;
            break;
        }
        rc = 0;
        if (*name == '\0') {
            rc = nx_fail(e, NX_EINVAL, field, "紧急联系人姓名不能为空");
            break;
        }
        unsigned char *ct = NULL;
        size_t ctn = 0;
        char t[PEOPLE_TAIL_HEX + 1];
        if (phone) {
            char norm[32];
            if ((rc = phone_parse_any(phone, norm, sizeof norm, e))) {
                snprintf(e->field, sizeof e->field, "%s.phone", field);
                break;
            }
            if (seal(app, CTX_CONTACT_PHONE, norm, &ct, &ctn)) {
                rc = nx_fail(e, NX_EINTERNAL, "", "加密失败");
                break;
            }
            people_tail_key(app, CTX_CONTACT_PHONE, norm, t);
        } else {
            kept_phone *k = NULL;
            for (int j = 0; j < nkept; j++)
                if (kept[j].id == cid)
                    k = &kept[j];
            if (k == NULL || k->ct == NULL) {
                rc = nx_fail(e, NX_EINVAL, field, "紧急联系人不存在，请填写电话");
                break;
            }
            ct = k->ct;
            ctn = k->n;
            k->ct = NULL; /* handed over */
            str_copy(t, k->tail, sizeof t);
        }
        store_param a[] = {P_INT(id), P_TEXT(name), P_TEXT(relation), P_BLOB(ct, ctn), P_TEXT(t),
                           P_INT(primary), P_INT((int64_t)i)};
        rc = app_insert(tx, "emergency_contacts",
                        "resident_id, name, relation, phone_enc, phone_tail, is_primary, sort", a, 7, NULL,
                        e);
        free(ct);
    }
    for (int j = 0; j < nkept; j++)
        free(kept[j].ct);
    return rc;
}

/* Place: a room decides community, grid and estate; otherwise a household's; else the grid given. */
typedef struct place {
    int64_t community, grid, estate, room, household;
} place;

static int resolve_place(store_tx *tx, const nx_principal *who, const resident_input *in, place *pl, nx_err *e)
{
    int rc;
    if (in->household_id > 0) {
        store_rows *r;
        store_param p[] = {P_INT(in->household_id)};
        if ((rc = store_query(tx, "SELECT community_id, grid_id, room_id FROM households WHERE id = $1", p, 1,
                              &r, e)))
            return rc;
        int frc = store_first(r, "", e);
        bool found = frc == 0;
        if (found) {
            pl->household = in->household_id;
            pl->community = store_int(r, 0);
            pl->grid = store_int(r, 1);
            if (in->room_id == 0)
                pl->room = store_int(r, 2);
        }
        store_rows_free(r);
        if (frc && frc != NX_ENOTFOUND)
            return frc;
        if (!found || !perm_covers(who, tx, pl->community, pl->grid))
            return nx_fail(e, NX_EINVAL, "household_id", "户不存在");
    } else if (in->household_id < 0) {
        pl->household = 0;
    }
    if (in->room_id > 0)
        pl->room = in->room_id;
    else if (in->room_id < 0)
        pl->room = 0, pl->estate = 0;
    if (pl->room) {
        int64_t g;
        if ((rc = people_room_place(tx, pl->room, pl->community, "房屋与所在户不属于同一社区", &pl->community, &g,
                                    &pl->estate, e)))
            return rc;
        if (g)
            pl->grid = g;
    }
    if (in->grid_id > 0 && !pl->room) {
        if ((rc = people_grid_community(tx, in->grid_id, pl->community, &pl->community, e)))
            return rc;
        pl->grid = in->grid_id;
    }
    if (!pl->community) {
        if (in->community_id)
            pl->community = in->community_id;
        else if (who->scope == SCOPE_COMMUNITY || who->scope == SCOPE_GRID)
            pl->community = who->community_id;
    }
    if (!pl->community)
        return nx_fail(e, NX_EINVAL, "community_id", "请指定所属社区");
    if (who->scope == SCOPE_GRID && !pl->grid)
        pl->grid = who->grid_id;
    if (!perm_covers(who, tx, pl->community, pl->grid))
        return nx_fail(e, NX_EPERM, pl->grid ? "grid_id" : "community_id", "无权在该社区或网格登记居民");
    /* a community that does not exist is the caller's mistake, not a duplicate ID (the foreign key
     * used to fail the insert as a conflict) */
    return people_community_exists(tx, pl->community, e);
}

/* The answer when another record holds the number: one the caller may see is named as registered
 * (409 "该证件号码已登记"); one outside the caller's scope is refused all the same — one person, one
 * record city-wide; a move between communities goes through the street or an admin — but with a
 * message that does not say the number is registered, and the refusal counts as an exact look-up
 * (people_exact_take), so registering or import dry runs cannot be used to sweep guessed numbers
 * faster than searching (docs/security.md §5). */
#define DUP_ELSEWHERE "该证件号码不能在此登记，请核对号码；如居民从其他社区迁入，请联系街道或系统管理员办理"
static int check_duplicate(nx_app *app, store_tx *tx, const nx_principal *who, const unsigned char idb[16],
                           int64_t self, nx_err *e)
{
    store_rows *r;
    store_param p[] = {P_BLOB(idb, 16), P_INT(self)};
    int rc = store_query(tx, "SELECT community_id, grid_id FROM residents WHERE id_bidx = $1 AND id <> $2", p, 2,
                         &r, e);
    if (rc)
        return rc;
    int frc = store_first(r, "", e);
    int64_t community = frc == 0 ? store_int(r, 0) : 0, grid = frc == 0 ? store_int(r, 1) : 0;
    store_rows_free(r);
    if (frc == NX_ENOTFOUND)
        return 0;
    if (frc)
        return frc;
    if (perm_covers(who, tx, community, grid))
        return nx_fail(e, NX_ECONFLICT, "id_number", "该证件号码已登记");
    nx_log(LOG_INFO, "people.register_refused_elsewhere user=%lld", (long long)who->user_id);
    if ((rc = people_exact_take(app, who, e)))
        return rc;
    return nx_fail(e, NX_ECONFLICT, "id_number", DUP_ELSEWHERE);
}

static json_t *changed_fields(const resident_input *in)
{
    json_t *a = json_array();
#define F(x)                                                                                       \
    if (in->x)                                                                                     \
        json_array_append_new(a, json_string(#x));
    F(name) F(id_type) F(id_number) F(birth_date) F(sex) F(phone) F(address) F(relation) F(residence)
    F(ethnicity) F(political) F(education) F(marital) F(work) F(care_level) F(notes) F(tags) F(contacts)
    F(status)
#undef F
    if (in->phone_clear)
        json_array_append_new(a, json_string("phone"));
    if (in->address_clear)
        json_array_append_new(a, json_string("address"));
    if (in->household_id)
        json_array_append_new(a, json_string("household_id"));
    if (in->room_id)
        json_array_append_new(a, json_string("room_id"));
    if (in->grid_id)
        json_array_append_new(a, json_string("grid_id"));
    return a;
}

/* Emit kind about resident id: payload extra (stolen; NULL = {}) with "resident_id" added. */
static int emit(store_tx *tx, const char *kind, int64_t community, int64_t id, json_t *extra, nx_err *e)
{
    json_t *payload = extra ? extra : json_object();
    if (payload)
        json_object_set_new(payload, "resident_id", json_integer(id));
    return outbox_emit_new(tx, kind, community, "resident", id, payload, e);
}

int people_resident_create_tx(nx_app *app, store_tx *tx, const nx_principal *who, const resident_input *in,
                              int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_PEOPLE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权登记居民");
    resident_rec rec;
    int rc = validate(in, NULL, &rec, e);
    if (rc)
        return rc;
    place pl = {0};
    if ((rc = resolve_place(tx, who, in, &pl, e)))
        return rc;

    sealed s;
    seal_id_index(app, &rec, &s);
    if ((rc = check_duplicate(app, tx, who, s.idb, 0, e)) || (rc = seal_rest(app, &rec, in->address, &s, e)))
        goto done;
    int64_t now = clock_now_ms();
    char today[11];
    date_format(date_today(), today);
    const char *sdate = in->status_date ? in->status_date : today;
    store_param p[] = {
        P_INT(pl.community), P_ID(pl.grid), P_ID(pl.household), P_ID(pl.room), P_ID(pl.estate),
        P_TEXT(rec.name), P_TEXT(rec.name_s), P_TEXT(rec.pinyin), P_TEXT(rec.initials),
        P_BLOB(rec.sort_key, rec.sort_key_len), P_INT(rec.sex), P_TEXT(rec.birth), P_TEXT(rec.id_type),
        P_BLOB(s.id_ct, s.id_n), P_BLOB(s.idb, 16), P_TEXT(s.id_t), P_BLOB(s.ph_ct, s.ph_n),
        rec.has_phone ? P_BLOB(s.phb, 16) : P_NULL, P_TEXT(rec.has_phone ? s.ph_t : NULL),
        P_BLOB(s.ad_ct, s.ad_n),
        P_TEXT(rec.relation), P_TEXT(rec.residence), P_TEXT(in->ethnicity), P_TEXT(rec.political),
        P_TEXT(in->education), P_TEXT(in->marital), P_TEXT(in->work), P_TEXT(rec.care_level),
        P_TEXT(in->notes), P_TEXT(rec.status),
        P_TEXT(strcmp(rec.status, "moved_out") == 0 ? sdate : NULL),
        P_TEXT(strcmp(rec.status, "deceased") == 0 ? sdate : NULL), P_INT(now), P_INT(now)};
    rc = app_insert(tx, "residents",
                    "community_id, grid_id, household_id, room_id, estate_id, name, name_s, name_pinyin, "
                    "name_initials, sort_key, sex, birth_date, id_type, id_enc, id_bidx, id_tail, phone_enc, "
                    "phone_bidx, phone_tail, address_enc, relation, residence, ethnicity, political, "
                    "education, marital, work, care_level, notes, status, moved_out_on, deceased_on, "
                    "created_at, updated_at",
                    p, 34, id, e);
    if (rc == NX_ENOTFOUND) /* RETURNING gave no row: the database misbehaved */
        rc = nx_fail(e, NX_EDB, "", "登记居民失败");
    if ((rc = store_conflict_field(rc, "id_number", e, "该证件号码已登记")))
        goto done;
    if ((rc = write_suffixes(tx, *id, pl.community, rec.name_s, e)))
        goto done;
    if (in->tags && (rc = write_tags(tx, *id, in->tags, e)))
        goto done;
    if (in->contacts && (rc = write_contacts(app, tx, *id, in->contacts, e)))
        goto done;
    if (pl.household && strcmp(rec.relation, "head") == 0) {
        store_param hp[] = {P_INT(*id), P_INT(pl.household)};
        if ((rc = store_exec(tx, "UPDATE households SET head_resident_id = $1 WHERE id = $2", hp, 2, NULL, e)))
            goto done;
    }
    if ((rc = audit_write(tx, who, "create", "resident", *id, pl.community, NULL, e)) ||
        (rc = emit(tx, PEOPLE_EV_RESIDENT_CREATED, pl.community, *id, NULL, e)))
        goto done;
done:
    sealed_free(&s);
    return rc;
}

int people_resident_create(nx_app *app, const nx_principal *who, const resident_input *in, int64_t *id,
                           nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    if ((rc = people_resident_create_tx(app, tx, who, in, id, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* Load the stored record of a resident in scope, for update. */
static int load_rec(nx_app *app, store_tx *tx, const nx_principal *who, int64_t id, resident_rec *rec,
                    place *pl, int64_t *version, char *old_status, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT name, name_s, name_pinyin, name_initials, sort_key, sex, birth_date, id_type, "
                  "id_enc, community_id, grid_id, estate_id, room_id, household_id, relation, residence, "
                  "care_level, status, version, phone_enc FROM residents r WHERE r.id = $1");
    sqlq_param(&q, P_INT(id));
    perm_scope_q(who, "r.", "id", &q);
    store_rows *r;
    int rc;
    if ((rc = sqlq_first(tx, &q, "居民不存在", &r, e)))
        return rc;
    memset(rec, 0, sizeof *rec);
    str_copy(rec->name, store_text(r, 0), sizeof rec->name);
    str_copy(rec->name_s, store_text(r, 1), sizeof rec->name_s);
    str_copy(rec->pinyin, store_text(r, 2), sizeof rec->pinyin);
    str_copy(rec->initials, store_text(r, 3), sizeof rec->initials);
    size_t kl;
    const void *k = store_blob(r, 4, &kl);
    if (kl > sizeof rec->sort_key)
        kl = sizeof rec->sort_key;
    memcpy(rec->sort_key, k, kl);
    rec->sort_key_len = kl;
    rec->sex = (int)store_int(r, 5);
    str_copy(rec->birth, store_text(r, 6), sizeof rec->birth);
    rec->id_type = id_type_code(id_type_parse(store_text(r, 7)));
    size_t cn;
    const void *ct = store_blob(r, 8, &cn);
    char *plain = people_open(app, CTX_ID, ct, cn);
    str_copy(rec->id_norm, plain ? plain : "", sizeof rec->id_norm);
    field_plain_free(plain);
    pl->community = store_int(r, 9);
    pl->grid = store_int(r, 10);
    pl->estate = store_int(r, 11);
    pl->room = store_int(r, 12);
    pl->household = store_int(r, 13);
    rec->relation = people_choice_parse(people_choice_relation, store_text(r, 14));
    rec->residence = people_choice_parse(people_choice_residence, store_text(r, 15));
    rec->care_level = people_choice_parse(people_choice_care_level, store_text(r, 16));
    rec->status = people_choice_parse(people_choice_status, store_text(r, 17));
    str_copy(old_status, store_text(r, 17), 16);
    *version = store_int(r, 18);
    const void *pc = store_blob(r, 19, &cn);
    char *ph = people_open(app, CTX_PHONE, pc, cn);
    rec->has_phone = ph != NULL;
    str_copy(rec->phone, ph ? ph : "", sizeof rec->phone);
    field_plain_free(ph);
    store_rows_free(r);
    return 0;
}

int people_resident_update(nx_app *app, const nx_principal *who, int64_t id, const resident_input *in, nx_err *e)
{
    store_tx *tx;
    int rc = perm_begin(app->db, who, RIGHT_PEOPLE_WRITE, STORE_WRITE, "无权修改居民信息", &tx, e);
    if (rc)
        return rc;
    resident_rec cur, rec;
    place pl;
    int64_t version = 0;
    char old_status[16];
    sealed s = {0};
    if ((rc = load_rec(app, tx, who, id, &cur, &pl, &version, old_status, e)))
        goto fail;
    if (in->version && in->version != version) {
        rc = nx_fail(e, NX_ECONFLICT, "version", "该居民信息已被他人修改，请刷新后重试");
        goto fail;
    }
    if (in->community_id && in->community_id != pl.community) {
        rc = nx_fail(e, NX_EINVAL, "community_id", "不能直接修改所属社区，请办理迁出后在新社区登记");
        goto fail;
    }
    if ((rc = validate(in, &cur, &rec, e)))
        goto fail;
    if ((in->household_id || in->room_id || in->grid_id) && (rc = resolve_place(tx, who, in, &pl, e)))
        goto fail;

    /* The document: re-encrypt only when it changed. */
    seal_id_index(app, &rec, &s);
    if ((rc = check_duplicate(app, tx, who, s.idb, id, e)) || (rc = seal_rest(app, &rec, in->address, &s, e)))
        goto fail;
    char today[11];
    date_format(date_today(), today);
    const char *sdate = in->status_date ? in->status_date : today;
    bool status_changed = strcmp(rec.status, old_status) != 0;
    bool keep_addr = !in->address && !in->address_clear;
    store_param p[] = {
        P_ID(pl.grid), P_ID(pl.household), P_ID(pl.room), P_ID(pl.estate), P_TEXT(rec.name),
        P_TEXT(rec.name_s), P_TEXT(rec.pinyin), P_TEXT(rec.initials), P_BLOB(rec.sort_key, rec.sort_key_len),
        P_INT(rec.sex), P_TEXT(rec.birth), P_TEXT(rec.id_type), P_BLOB(s.id_ct, s.id_n), P_BLOB(s.idb, 16),
        P_TEXT(s.id_t), P_BLOB(s.ph_ct, s.ph_n), rec.has_phone ? P_BLOB(s.phb, 16) : P_NULL,
        P_TEXT(rec.has_phone ? s.ph_t : NULL), P_INT(keep_addr), P_BLOB(s.ad_ct, s.ad_n),
        P_TEXT(rec.relation),
        P_TEXT(rec.residence), P_TEXT(rec.care_level), P_TEXT(rec.status),
        P_TEXT(status_changed && strcmp(rec.status, "moved_out") == 0 ? sdate : NULL),
        P_TEXT(status_changed && strcmp(rec.status, "deceased") == 0 ? sdate : NULL), P_INT(status_changed),
        P_INT(clock_now_ms()), P_INT(id),
        /* optional free-text fields: NULL means unchanged */
        P_TEXT(in->ethnicity), P_TEXT(rec.political), P_TEXT(in->education), P_TEXT(in->marital),
        P_TEXT(in->work), P_TEXT(in->notes)};
    rc = store_exec(tx,
                    "UPDATE residents SET grid_id = $1, household_id = $2, room_id = $3, estate_id = $4, "
                    "name = $5, name_s = $6, name_pinyin = $7, name_initials = $8, sort_key = $9, sex = $10, "
                    "birth_date = $11, id_type = $12, id_enc = $13, id_bidx = $14, id_tail = $15, "
                    "phone_enc = $16, phone_bidx = $17, phone_tail = $18, "
                    "address_enc = CASE WHEN $19 = 1 THEN address_enc ELSE $20 END, relation = $21, "
                    "residence = $22, care_level = $23, status = $24, "
                    "moved_out_on = CASE WHEN $27 = 1 THEN $25 ELSE moved_out_on END, "
                    "deceased_on = CASE WHEN $27 = 1 THEN $26 ELSE deceased_on END, "
                    "ethnicity = COALESCE($30, ethnicity), political = COALESCE($31, political), "
                    "education = COALESCE($32, education), marital = COALESCE($33, marital), "
                    "work = COALESCE($34, work), notes = COALESCE($35, notes), "
                    "version = version + 1, updated_at = $28 WHERE id = $29",
                    p, 35, NULL, e);
    if (rc) {
        if (rc == NX_ECONFLICT)
            nx_fail(e, NX_ECONFLICT, "id_number", "该证件号码已登记");
        goto fail;
    }
    if (in->name && (rc = write_suffixes(tx, id, pl.community, rec.name_s, e)))
        goto fail;
    if (in->tags && (rc = write_tags(tx, id, in->tags, e)))
        goto fail;
    if (in->contacts && (rc = write_contacts(app, tx, id, in->contacts, e)))
        goto fail;
    json_t *fields = changed_fields(in);
    if ((rc = audit_write_new(tx, who, "update", "resident", id, pl.community,
                              json_pack("{s:o}", "fields", fields), e)))
        goto fail;
    json_t *extra = json_pack("{s:o}", "fields", changed_fields(in));
    if (status_changed)
        json_object_set_new(extra, "status", json_string(rec.status));
    rc = emit(tx, status_changed ? PEOPLE_EV_RESIDENT_STATUS_CHANGED : PEOPLE_EV_RESIDENT_UPDATED, pl.community, id,
              extra, e);
    if (rc)
        goto fail;
fail:
    sealed_free(&s);
    return store_finish(tx, rc, e);
}

/* ---- the keyed tail index after an upgrade ---- */

/* One row whose tail index is to be written: its id and the keyed tails (computed before the
 * update, since a transaction runs one statement at a time). */
typedef struct rekey_row {
    int64_t id;
    char a[PEOPLE_TAIL_HEX + 1], b[PEOPLE_TAIL_HEX + 1];
    bool has_a, has_b;
} rekey_row;

/* The tail key of a ciphertext column (context) into out; false when it is absent or does not
 * decrypt. The plaintext is wiped. */
static bool rekey_one(nx_app *app, store_rows *r, int col, const char *context, char *out)
{
    size_t n;
    const void *ct = store_blob(r, col, &n);
    char *plain = people_open(app, context, ct, n);
    if (plain == NULL)
        return false;
    people_tail_key(app, context, plain, out);
    field_plain_free(plain);
    return true;
}

/* One batch of table (residents when contacts is false): the rows after *after whose tail is ''
 * get their keyed tails; *after moves past the batch, *done says whether it was the last. */
static int rekey_batch(nx_app *app, bool contacts, int64_t *after, int64_t *written, int64_t *failed, bool *done,
                       nx_err *e)
{
    enum { BATCH = 500 };
    rekey_row *rows = calloc(BATCH, sizeof *rows);
    if (rows == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc) {
        free(rows);
        return rc;
    }
    store_rows *r;
    store_param p[] = {P_INT(*after)};
    rc = store_query(tx,
                     contacts ? "SELECT id, phone_enc FROM emergency_contacts WHERE phone_tail = '' AND id > $1 "
                                "ORDER BY id LIMIT 500"
                              : "SELECT id, id_enc, phone_enc FROM residents WHERE (id_tail = '' OR phone_tail = '') "
                                "AND id > $1 ORDER BY id LIMIT 500",
                     p, 1, &r, e);
    int n = 0;
    while (rc == 0 && n < BATCH && store_row(r)) {
        rekey_row *x = &rows[n++];
        x->id = store_int(r, 0);
        if (contacts) {
            x->has_a = rekey_one(app, r, 1, CTX_CONTACT_PHONE, x->a);
        } else {
            x->has_a = rekey_one(app, r, 1, CTX_ID, x->a);
            x->has_b = rekey_one(app, r, 2, CTX_PHONE, x->b);
        }
    }
    if (rc == 0)
        rc = store_rows_end(r, e);
    for (int i = 0; rc == 0 && i < n; i++) {
        rekey_row *x = &rows[i];
        if (!x->has_a && (contacts || !x->has_b)) {
            (*failed)++;
            continue;
        }
        if (contacts) {
            store_param u[] = {P_TEXT(x->a), P_INT(x->id)};
            rc = store_exec(tx, "UPDATE emergency_contacts SET phone_tail = $1 WHERE id = $2", u, 2, NULL, e);
        } else {
            store_param u[] = {P_TEXT(x->has_a ? x->a : NULL), P_TEXT(x->has_b ? x->b : NULL), P_INT(x->id)};
            rc = store_exec(tx,
                            "UPDATE residents SET id_tail = COALESCE($1, id_tail), phone_tail = CASE WHEN "
                            "phone_tail IS NULL THEN NULL ELSE COALESCE($2, phone_tail) END WHERE id = $3",
                            u, 3, NULL, e);
        }
        (*written)++;
    }
    if (n)
        *after = rows[n - 1].id;
    *done = n < BATCH;
    free(rows);
    if (rc) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

int people_tails_rekey(nx_app *app, int64_t *written, nx_err *e)
{
    int64_t failed = 0;
    *written = 0;
    for (int t = 0; t < 2; t++) {
        int64_t after = 0;
        bool done = false;
        while (!done) {
            int rc = rekey_batch(app, t == 1, &after, written, &failed, &done, e);
            if (rc)
                return rc;
        }
    }
    if (*written)
        nx_log(LOG_INFO, "people.tails_rekeyed rows=%lld", (long long)*written);
    if (failed) /* the key file does not open them: a tail search will not find these rows */
        nx_log(LOG_WARN, "people.tails_not_rekeyed rows=%lld", (long long)failed);
    return 0;
}
