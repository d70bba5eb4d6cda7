/* library_common.c — what the library's rules share: ISBN check digits, the names a drifting copy's
 * page may show, the catalogue scope, a reader's rules and block, and serving the hold queue.
 *
 * ISBN. A title is keyed by its ISBN-13 (an ISBN-10 is converted: "978" + its first nine digits + a
 * new check digit), so that the same book typed either way is one title. The check digit is the
 * only validation there is: no network look-up, by design (the reading room has no guaranteed
 * connection, and a typo caught at the desk is the common case).
 *
 * Readers. A reader is a resident with a category (the loan rules). The reader row is made the first
 * time a resident borrows or holds, with the community's default category — and the default
 * category itself is made then if the community has none, so a fresh community can lend at once.
 * Both inserts are ON CONFLICT DO NOTHING, so two desks serving the same new reader at once do not
 * fail each other.
 *
 * Blocks instead of fines. A reader is blocked while any loan is overdue, and after a late return
 * for as many days as it was late (library_readers.blocked_until, capped): borrowing and holding are
 * refused with a 409 that says why; nothing is ever charged.
 *
 * The hold queue. Holds are per title and served in the order they were placed (their id). A shelf
 * copy coming back (or added, or released from the hold shelf) goes to the first waiting hold —
 * status ready, the copy kept on the hold shelf until pickup_by — or back to the shelf. Drifting
 * copies are never held: they go back to the drift hut for whoever comes by. */
#include "modules/library/library_internal.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"

/* ---- ISBN ---- */

int library_isbn_normalize(const char *isbn, char out[14], nx_err *e)
{
    char d[16];
    size_t n = 0;
    out[0] = '\0';
    for (const char *c = isbn ? isbn : ""; *c; c++) {
        if (*c == '-' || *c == ' ')
            continue;
        if (n >= 13)
            return nx_fail(e, NX_EINVAL, "isbn", "ISBN 应为 10 位或 13 位数字");
        bool x = (*c == 'X' || *c == 'x');
        if (!(*c >= '0' && *c <= '9') && !x)
            return nx_fail(e, NX_EINVAL, "isbn", "ISBN 只能包含数字、连字符和末位的 X");
        d[n++] = x ? 'X' : *c;
    }
    d[n] = '\0';
    if (n == 10) {
        int sum = 0;
        for (int i = 0; i < 10; i++) {
            int v;
            if (d[i] == 'X') {
                if (i != 9)
                    return nx_fail(e, NX_EINVAL, "isbn", "ISBN 只有末位可以是 X");
                v = 10;
            } else {
                v = d[i] - '0';
            }
            sum += (10 - i) * v;
        }
        if (sum % 11 != 0)
            return nx_fail(e, NX_EINVAL, "isbn", "ISBN 校验位不对，请核对书上的号码");
        memcpy(out, "978", 3);
        memcpy(out + 3, d, 9);
        int s13 = 0;
        for (int i = 0; i < 12; i++)
            s13 += (out[i] - '0') * (i % 2 ? 3 : 1);
        out[12] = (char)('0' + (10 - s13 % 10) % 10);
        out[13] = '\0';
        return 0;
    }
    if (n != 13)
        return nx_fail(e, NX_EINVAL, "isbn", "ISBN 应为 10 位或 13 位数字");
    if (strchr(d, 'X'))
        return nx_fail(e, NX_EINVAL, "isbn", "ISBN-13 只能包含数字");
    if (strncmp(d, "978", 3) != 0 && strncmp(d, "979", 3) != 0)
        return nx_fail(e, NX_EINVAL, "isbn", "ISBN-13 应以 978 或 979 开头");
    int sum = 0;
    for (int i = 0; i < 13; i++)
        sum += (d[i] - '0') * (i % 2 ? 3 : 1);
    if (sum % 10 != 0)
        return nx_fail(e, NX_EINVAL, "isbn", "ISBN 校验位不对，请核对书上的号码");
    memcpy(out, d, 14);
    return 0;
}

/* ---- names ---- */

/* Bytes of the UTF-8 code point starting at s (1 for a stray byte). */
static size_t cp_len(const unsigned char *s)
{
    if (*s >= 0xF0)
        return 4;
    if (*s >= 0xE0)
        return 3;
    if (*s >= 0xC0)
        return 2;
    return 1;
}

void library_drift_name(const char *full, char *out, size_t n)
{
    static const char *const compound[] = {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐",
                                           "司徒", "夏侯", "尉迟", "长孙", "宇文", "端木", "公孙", "西门", NULL};
    if (n == 0)
        return;
    out[0] = '\0';
    size_t len = full ? strlen(full) : 0;
    if (len == 0 || !str_utf8_valid(full, len)) {
        str_copy(out, "某", n);
        return;
    }
    size_t take = cp_len((const unsigned char *)full);
    size_t chars = str_utf8_len(full);
    for (int i = 0; compound[i] && chars >= 3; i++)
        if (str_starts_with(full, compound[i])) {
            take = strlen(compound[i]);
            break;
        }
    /* a one-character name, or a surname that is all there is, still shows only 某 after it */
    if (take >= len)
        take = chars > 1 ? cp_len((const unsigned char *)full) : len;
    char buf[32];
    if (take + sizeof "某" > sizeof buf) {
        str_copy(out, "某", n);
        return;
    }
    memcpy(buf, full, take);
    memcpy(buf + take, "某", sizeof "某");
    if (strlen(buf) + 1 > n) {
        str_copy(out, "某", n);
        return;
    }
    str_copy(out, buf, n);
}

/* ---- scope and rights ---- */

void lib_scope_q(const nx_principal *who, const char *alias, sqlq *q)
{
    if (who->scope == SCOPE_SELF) {
        if (who->resident_id == 0) {
            sqlq_append(q, " AND 1 = 0");
            return;
        }
        sqlq_sql(q, " AND %scommunity_id = (SELECT community_id FROM residents WHERE id = $%d)", alias,
                 sqlq_param(q, P_INT(who->resident_id)));
        return;
    }
    nx_principal p = *who;
    if (p.scope == SCOPE_GRID) /* the catalogue has no grids: a grid scope reads its community */
        p.scope = SCOPE_COMMUNITY;
    perm_scope_q(&p, alias, NULL, q);
}

int lib_can_read(const nx_principal *who, nx_err *e)
{
    if (perm_has(who, RIGHT_LIBRARY_MANAGE) || (perm_has(who, RIGHT_SELF) && who->scope == SCOPE_SELF))
        return 0;
    return nx_fail(e, NX_EPERM, "", "无权查看图书馆");
}

int lib_can_manage(const nx_principal *who, nx_err *e)
{
    return perm_has(who, RIGHT_LIBRARY_MANAGE) ? 0 : nx_fail(e, NX_EPERM, "", "无权管理图书馆");
}

int lib_target_community(store_tx *tx, const nx_principal *who, int64_t given, int64_t *out, nx_err *e)
{
    if (given == 0) {
        if (who->community_id == 0 || who->scope == SCOPE_ALL || who->scope == SCOPE_STREET)
            return nx_fail(e, NX_EINVAL, "community_id", "请选择社区");
        *out = who->community_id;
        return 0;
    }
    store_param p[] = {P_INT(given)};
    int64_t found = 0;
    int rc = store_one_int(tx, "SELECT id FROM communities WHERE id = $1", p, 1, &found, e);
    if (rc == NX_ENOTFOUND || (rc == 0 && !perm_covers(who, tx, given, who->grid_id)))
        return nx_fail(e, NX_ENOTFOUND, "community_id", "社区不存在");
    if (rc)
        return rc;
    *out = given;
    return 0;
}

/* ---- readers ---- */

/* The community's default category, made when it has none. */
static int default_category(store_tx *tx, int64_t community, int64_t now, int64_t *out, nx_err *e)
{
    store_param p[] = {P_INT(community)};
    int rc = store_one_int(tx,
                           "SELECT id FROM library_categories WHERE community_id = $1 "
                           "ORDER BY is_default DESC, id LIMIT 1",
                           p, 1, out, e);
    if (rc != NX_ENOTFOUND)
        return rc;
    store_param ins[] = {P_INT(community), P_INT(now)};
    if ((rc = store_exec(tx,
                         "INSERT INTO library_categories (community_id, name, loan_days, renewals, max_loans, "
                         "max_holds, is_default, created_at, updated_at) VALUES ($1, '普通读者', 30, 1, 5, 3, 1, $2, $2) "
                         "ON CONFLICT (community_id, name) DO NOTHING",
                         ins, 2, NULL, e)))
        return rc;
    return store_one_int(tx,
                         "SELECT id FROM library_categories WHERE community_id = $1 ORDER BY is_default DESC, id LIMIT 1",
                         p, 1, out, e);
}

int lib_reader_load(store_tx *tx, const nx_principal *who, int64_t resident_id, const char *field, int64_t now,
                    lib_reader *out, nx_err *e)
{
    memset(out, 0, sizeof *out);
    out->resident_id = resident_id;
    store_param p[] = {P_INT(resident_id)};
    store_rows *r;
    int rc = store_query_first(tx, "SELECT community_id, grid_id, status FROM residents WHERE id = $1", p, 1, "读者不存在", &r, e);
    bool active = false;
    if (rc == 0) {
        out->community_id = store_int(r, 0);
        out->grid_id = store_int(r, 1);
        active = store_text(r, 2) && strcmp(store_text(r, 2), "active") == 0;
    }
    store_rows_free(r);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, field, "读者不存在");
    if (rc)
        return rc;
    bool mine = who->scope == SCOPE_SELF && who->resident_id == resident_id;
    if (!mine && (who->scope == SCOPE_SELF || !perm_covers(who, tx, out->community_id, out->grid_id)))
        return nx_fail(e, NX_EINVAL, field, "读者不存在");
    if (!active)
        return nx_fail(e, NX_EINVAL, field, "该居民已迁出或去世，不能借阅");
    int64_t category = 0;
    if ((rc = default_category(tx, out->community_id, now, &category, e)))
        return rc;
    store_param ins[] = {P_INT(resident_id), P_INT(out->community_id), P_ID(out->grid_id), P_INT(category), P_INT(now)};
    if ((rc = store_exec(tx,
                         "INSERT INTO library_readers (resident_id, community_id, grid_id, category_id, blocked_until, "
                         "created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $5) ON CONFLICT (resident_id) DO NOTHING",
                         ins, 5, NULL, e)))
        return rc;
    store_param q[] = {P_INT(resident_id), P_INT(now), P_INT(resident_id), P_INT(resident_id)};
    if ((rc = store_query(tx,
                          "SELECT rd.category_id, c.loan_days, c.renewals, c.max_loans, c.max_holds, rd.blocked_until, "
                          "(SELECT COUNT(*) FROM book_loans l WHERE l.resident_id = rd.resident_id AND l.returned_at IS NULL), "
                          "(SELECT COUNT(*) FROM book_loans l WHERE l.resident_id = $1 AND l.returned_at IS NULL "
                          "AND l.due_at < $2), "
                          "(SELECT COUNT(*) FROM book_holds h WHERE h.resident_id = $3 AND h.status IN ('waiting', 'ready')) "
                          "FROM library_readers rd JOIN library_categories c ON c.id = rd.category_id "
                          "WHERE rd.resident_id = $4",
                          q, 4, &r, e)))
        return rc;
    if ((rc = store_first(r, "读者不存在", e)) == 0) {
        out->category_id = store_int(r, 0);
        out->loan_days = store_int(r, 1);
        out->renewals = store_int(r, 2);
        out->max_loans = store_int(r, 3);
        out->max_holds = store_int(r, 4);
        out->blocked_until = store_int(r, 5);
        out->open_loans = store_int(r, 6);
        out->overdue_loans = store_int(r, 7);
        out->active_holds = store_int(r, 8);
    }
    store_rows_free(r);
    return rc;
}

int lib_reader_check_block(const lib_reader *rd, int64_t now, const char *field, nx_err *e)
{
    if (rd->overdue_loans > 0)
        return nx_fail(e, NX_ECONFLICT, field, "该读者有 %lld 本逾期未还的图书，归还后才能借阅或预约（不收罚款）",
                       (long long)rd->overdue_loans);
    if (rd->blocked_until > now) {
        char day[11];
        lib_day(rd->blocked_until, day);
        return nx_fail(e, NX_ECONFLICT, field, "该读者因逾期归还暂停借阅至 %s（以停借代替罚款）", day);
    }
    return 0;
}

/* ---- the hold queue ---- */

int lib_serve_copy(store_tx *tx, int64_t copy_id, int64_t now, int64_t *served, nx_err *e)
{
    if (served)
        *served = 0;
    store_param p[] = {P_INT(copy_id)};
    bool shelf = false;
    int64_t book = 0;
    store_rows *r;
    int rc = store_query_first(tx, "SELECT kind, book_id FROM book_copies WHERE id = $1", p, 1, "图书不存在", &r, e);
    if (rc)
        return rc;
    shelf = store_text(r, 0) && strcmp(store_text(r, 0), "shelf") == 0;
    book = store_int(r, 1);
    store_rows_free(r);
    int64_t hold = 0, resident = 0, community = 0;
    if (shelf) {
        store_param b[] = {P_INT(book)};
        if ((rc = store_query(tx,
                              "SELECT id, resident_id, community_id FROM book_holds WHERE book_id = $1 AND status = 'waiting' "
                              "ORDER BY id LIMIT 1",
                              b, 1, &r, e)))
            return rc;
        if (store_row(r)) {
            hold = store_int(r, 0);
            resident = store_int(r, 1);
            community = store_int(r, 2);
        }
        if ((rc = store_rows_end(r, e)))
            return rc;
    }
    store_param c[] = {P_TEXT(hold ? "on_hold_shelf" : "available"), P_INT(now), P_INT(copy_id)};
    if ((rc = store_exec(tx, "UPDATE book_copies SET status = $1, updated_at = $2 WHERE id = $3", c, 3, NULL, e)))
        return rc;
    if (!hold)
        return 0;
    int64_t pickup = now + LIBRARY_PICKUP_DAYS * LIBRARY_DAY_MS;
    store_param h[] = {P_INT(copy_id), P_INT(now), P_INT(pickup), P_INT(hold)};
    if ((rc = store_exec(tx,
                         "UPDATE book_holds SET status = 'ready', copy_id = $1, ready_at = $2, pickup_by = $3 WHERE id = $4",
                         h, 4, NULL, e)) ||
        (rc = outbox_emit_new(tx, LIBRARY_EV_HOLD_READY, community, "hold", hold,
                              json_pack("{s:I, s:I, s:I, s:I, s:I}", "hold_id", (json_int_t)hold, "resident_id",
                                        (json_int_t)resident, "book_id", (json_int_t)book, "copy_id",
                                        (json_int_t)copy_id, "pickup_by", (json_int_t)pickup),
                              e)))
        return rc;
    if (served)
        *served = hold;
    return 0;
}

/* ---- vocabularies and small things ---- */

int lib_code_read(const char *in, char *out, size_t cap, const char *field, nx_err *e)
{
    size_t n = 0;
    const char *drift = strstr(in, "/drift/"); /* a drifting copy's QR code holds its page's URL */
    if (drift)
        in = drift + strlen("/drift/");
    for (const char *c = in; *c; c++) {
        if (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
            continue; /* a scanner's trailing newline, a space typed by hand */
        char u = (char)toupper((unsigned char)*c);
        if (!((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-') || n + 1 >= cap)
            return nx_fail(e, NX_EINVAL, field, "标签号应为 4 到 20 位字母、数字或连字符");
        out[n++] = u;
    }
    out[n] = '\0';
    if (n < 4 || n > 20)
        return nx_fail(e, NX_EINVAL, field, "标签号应为 4 到 20 位字母、数字或连字符");
    return 0;
}



const char *lib_copy_status_label(const char *status)
{
    static const char *const t[][2] = {{"available", "在架"},       {"on_loan", "已借出"}, {"on_hold_shelf", "预约保留"},
                                       {"lost", "遗失"},            {"withdrawn", "已剔除"}};
    return STR_LABEL(t, status);
}

const char *lib_hold_status_label(const char *status)
{
    static const char *const t[][2] = {{"waiting", "排队中"},   {"ready", "待取书"},  {"fulfilled", "已取书"},
                                       {"cancelled", "已取消"}, {"expired", "已过期"}};
    return STR_LABEL(t, status);
}

void lib_set_status_label(json_t *o, const char *label)
{
    if (o)
        json_object_set_new(o, "status_label", label ? json_string(label) : json_null());
}

void lib_new_code(char out[9])
{
    static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    for (int i = 0; i < 8; i++)
        out[i] = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
    out[8] = '\0';
}

void lib_day(int64_t ms, char out[11])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

int lib_page(nx_app *app, sqlq *q, const sqlq *count, const char *alias, bool oldest_first, const library_filter *f,
             json_t *(*row)(store_rows *r), json_t **out, nx_err *e)
{
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .count = count, .row = row};
    return store_page_by_id(app->db, q, alias, f->after, oldest_first, &s, out, e);
}

int lib_get(nx_app *app, const nx_principal *who, int (*gate)(const nx_principal *, nx_err *), const char *head,
            const char *alias, bool own, int64_t id, json_t *(*row)(store_rows *r), const char *missing, json_t **out,
            nx_err *e)
{
    int rc = gate(who, e);
    if (rc)
        return rc;
    sqlq q;
    if (own) {
        perm_scope_id_q(who, alias, "resident_id", id, head, &q);
    } else {
        sqlq_init(&q, head);
        sqlq_sql(&q, " AND %sid = $%d", alias, sqlq_param(&q, P_INT(id)));
        lib_scope_q(who, alias, &q);
    }
    return store_get_read(app->db, &q, &(store_page_spec){.row = row}, missing, out, e);
}

int lib_action_begin(nx_app *app, const nx_principal *who, int (*gate)(const nx_principal *, nx_err *), json_t *in,
                     store_tx **tx, nx_err *e)
{
    static const char *const allowed[] = {NULL};
    int rc;
    if ((rc = gate(who, e)) || (in && (rc = json_only(in, allowed, e))))
        return rc;
    return store_begin(app->db, STORE_WRITE, tx, e);
}
