/* canteen_cards.c — meal cards (饭卡): the QR code a diner shows at the counter and the prepaid
 * balance behind it.
 *
 * A card belongs to one resident; a resident has at most one active card (a unique index says so).
 * The QR code carries a random token (never the resident's id or anything personal), so a lost card
 * is replaced by a new card with a new token and the balance carried over; the old token stops
 * working at once. The balance only moves together with a card transaction row (top-up, refund,
 * sale, reversal, transfer), written in the same transaction with the balance after it and a receipt
 * number, and the UPDATE that moves it refuses to go below zero, so two counters charging the same
 * card at once cannot overdraw it. Family members (self scope bound to the elder) may read the card
 * and top it up; every top-up emits CANTEEN_EV_CARD_TOPPED_UP. */
#include "modules/canteen/canteen_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonin.h"
#include "base/str.h"
#include "notify/outbox.h"
#include "report/pdf.h"
#include "report/qr.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "store/page.h"

#define TOPUP_MAX 1000000 /* 10 000 yuan in one top-up */
#define SEARCH_MAX 20

static const char *const topup_methods[] = {"cash", "wechat", "alipay", NULL};

#define CARD_COLS                                                                                            \
    "c.id, c.community_id, c.resident_id, r.name, c.number, c.code, c.status, c.balance, c.replaced_by, "      \
    "c.created_at, r.status"
#define CARD_FROM " FROM canteen_cards c JOIN residents r ON r.id = c.resident_id WHERE 1 = 1"

static json_t *card_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i resident_id:i resident_name:t number:t code:t status:t "
                                  "balance:i replaced_by:i created_at:d resident_status:t");
    if (o && strcmp(store_text(r, 6) ? store_text(r, 6) : "", "active") != 0)
        json_object_set_new(o, "code", json_null()); /* a dead code is never shown again */
    return o;
}

static bool can_operate(const nx_principal *who)
{
    return perm_has(who, RIGHT_CANTEEN_OPERATE);
}

int canteen_card_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    if (!can_operate(who) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看饭卡");
    return cn_get(app, who, "SELECT " CARD_COLS CARD_FROM, "c.", id, NULL, card_row, "饭卡不存在", out, e);
}

static void card_where(sqlq *q, const char *head, const nx_principal *who, const canteen_filter *f)
{
    sqlq_init(q, head);
    cn_scope_q(who, "c.", "resident_id", q);
    sqlq_eq_int(q, "c.community_id", f->community_id);
    sqlq_eq_int(q, "c.resident_id", f->resident_id);
    sqlq_eq_text(q, "c.status", f->status);
    if (f->q && *f->q)
        cn_name_q(q, f->q, true);
}

int canteen_card_list(nx_app *app, const nx_principal *who, const canteen_filter *f, json_t **out, nx_err *e)
{
    if (!can_operate(who) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权查看饭卡");
    return cn_list(app, who, f, card_where, "SELECT " CARD_COLS CARD_FROM, "SELECT COUNT(*)" CARD_FROM, "c.", false, card_row,
                   out, e);
}

int canteen_card_by_code(nx_app *app, const nx_principal *who, const char *code, json_t **out, nx_err *e)
{
    if (!can_operate(who))
        return nx_fail(e, NX_EPERM, "", "无权查看饭卡");
    if (!code || !*code || strlen(code) > 64)
        return nx_fail(e, NX_EINVAL, "code", "卡码无效");
    sqlq q;
    sqlq_init(&q, "SELECT " CARD_COLS CARD_FROM);
    sqlq_add(&q, " AND c.code = $%d AND c.status = 'active'", P_TEXT(code));
    cn_scope_q(who, "c.", "resident_id", &q);
    store_page_spec s = {.row = card_row};
    int rc = store_get_read(app->db, &q, &s, "饭卡不存在或已挂失", out, e);
    if (rc == NX_ENOTFOUND)
        str_copy(e->field, "code", sizeof e->field);
    return rc;
}

/* Insert a new active card for resident d (no checks); *id. */
static int card_insert(store_tx *tx, const nx_principal *who, const cn_diner *d, int64_t balance, int64_t *id,
                       nx_err *e)
{
    char code[NX_TOKEN_CHARS], number[40];
    token_random(code, sizeof code);
    cn_number("K", number, sizeof number);
    int64_t now = clock_now_ms();
    store_param a[] = {P_INT(d->community_id), P_INT(d->id), P_TEXT(code), P_TEXT(number), P_INT(balance),
                       P_ID(who->user_id), P_INT(now)};
    return store_one_int(tx,
                         "INSERT INTO canteen_cards (community_id, resident_id, code, number, balance, created_by, "
                         "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                         a, 7, id, e);
}

int canteen_card_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"resident_id", NULL};
    if (!can_operate(who))
        return nx_fail(e, NX_EPERM, "", "无权办理饭卡");
    int64_t resident = 0;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_get_int(in, "resident_id", true, 1, INT64_MAX, &resident, e)) < 0)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    cn_diner d;
    if ((rc = cn_diner_load(tx, resident, &d, e)))
        goto fail;
    if (!perm_covers(who, tx, d.community_id, d.grid_id) &&
        !(who->scope == SCOPE_GRID && who->community_id == d.community_id)) {
        rc = nx_fail(e, NX_ENOTFOUND, "resident_id", "居民不存在");
        goto fail;
    }
    if (strcmp(d.status, "active") != 0) {
        rc = nx_fail(e, NX_EINVAL, "resident_id", "该居民已登记去世或迁出，不能办理饭卡");
        goto fail;
    }
    rc = card_insert(tx, who, &d, 0, id, e);
    if ((rc = store_conflict_field(rc, "resident_id", e, "该居民已有在用的饭卡")))
        goto fail;
    if ((rc = audit_write_new(tx, who, "create", "canteen_card", *id, d.community_id,
                              json_pack("{s:I}", "resident_id", (json_int_t)resident), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

/* The card's community, resident and status, with who's right to touch it (operators in scope, the
 * holder's own self account when self_ok). NX_ENOTFOUND ("card_id") otherwise. */
static int card_load(store_tx *tx, const nx_principal *who, int64_t card_id, bool self_ok, int64_t *community,
                     int64_t *resident, char status[16], int64_t *balance, nx_err *e)
{
    store_param a[] = {P_INT(card_id)};
    store_rows *r;
    int rc = store_query(tx, "SELECT community_id, resident_id, status, balance FROM canteen_cards WHERE id = $1", a, 1,
                         &r, e);
    if (rc)
        return rc;
    if ((rc = store_first(r, "饭卡不存在", e)) == 0) {
        *community = store_int(r, 0);
        *resident = store_int(r, 1);
        str_copy(status, store_text(r, 2) ? store_text(r, 2) : "", 16);
        *balance = store_int(r, 3);
    }
    int end = store_rows_end(r, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_ENOTFOUND, "card_id", "饭卡不存在");
    if (rc || end)
        return rc ? rc : end;
    bool ok = (can_operate(who) && (perm_covers(who, tx, *community, 0) ||
                                    (who->scope == SCOPE_GRID && who->community_id == *community))) ||
              (self_ok && cn_self_for(who, *resident));
    return ok ? 0 : nx_fail(e, NX_ENOTFOUND, "card_id", "饭卡不存在");
}

int cn_card_move(store_tx *tx, const nx_principal *who, int64_t card_id, int64_t community, const char *kind,
                 int64_t amount, const char *method, int64_t sale_id, const char *note, int64_t *txn_id,
                 int64_t *balance_after, nx_err *e)
{
    store_param a[] = {P_INT(amount), P_INT(clock_now_ms()), P_INT(card_id)};
    store_rows *r;
    int rc = store_query(tx,
                         "UPDATE canteen_cards SET balance = balance + $1, updated_at = $2 "
                         "WHERE id = $3 AND status = 'active' AND balance + $1 >= 0 RETURNING balance",
                         a, 3, &r, e);
    if (rc)
        return rc;
    rc = store_first(r, "余额不足", e);
    int64_t after = rc == 0 ? store_int(r, 0) : 0;
    int end = store_rows_end(r, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "card_id", "饭卡余额不足或已停用");
    if (rc || end)
        return rc ? rc : end;
    char receipt[40];
    cn_number(amount >= 0 ? "R" : "P", receipt, sizeof receipt);
    store_param t[] = {P_INT(card_id), P_INT(community), P_TEXT(kind), P_INT(amount), P_INT(after), P_TEXT(method),
                       P_TEXT(receipt), P_ID(sale_id), P_TEXT(note), P_ID(who->user_id), P_INT(clock_now_ms())};
    int64_t tid = 0;
    if ((rc = app_insert(tx, "canteen_card_txns",
                         "card_id, community_id, kind, amount, balance_after, method, receipt_no, sale_id, "
                         "note, created_by, created_at",
                         t, 11, &tid, e)))
        return rc;
    if (txn_id)
        *txn_id = tid;
    if (balance_after)
        *balance_after = after;
    return 0;
}

int canteen_card_topup(nx_app *app, const nx_principal *who, int64_t card_id, json_t *in, bool refund,
                       int64_t *txn_id, nx_err *e)
{
    static const char *const allowed[] = {"amount", "method", "note", NULL};
    if (!can_operate(who) && !perm_has(who, RIGHT_SELF))
        return nx_fail(e, NX_EPERM, "", "无权充值");
    if (refund && !can_operate(who))
        return nx_fail(e, NX_EPERM, "", "退款须由食堂办理");
    int64_t amount = 0;
    const char *method = NULL, *note = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)))
        return rc;
    if (!json_is_integer(json_object_get(in, "amount")))
        return nx_fail(e, NX_EINVAL, "amount", "金额（分）应为正整数");
    if ((rc = json_get_int(in, "amount", true, 1, TOPUP_MAX, &amount, e)) < 0)
        return nx_fail(e, NX_EINVAL, "amount", "金额（分）应在 1 到 %d 之间", TOPUP_MAX);
    if ((rc = json_read_str(in, "method", true, 10, &method, e)) || (rc = json_read_str(in, "note", false, 100, &note, e)))
        return rc;
    if (!cn_in_list(topup_methods, method))
        return nx_fail(e, NX_EINVAL, "method", "方式应为 cash、wechat 或 alipay");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, resident = 0, balance = 0, after = 0;
    char status[16];
    if ((rc = card_load(tx, who, card_id, !refund, &community, &resident, status, &balance, e)))
        goto fail;
    if (strcmp(status, "active") != 0) {
        rc = nx_fail(e, NX_EINVAL, "card_id", "饭卡已挂失或停用");
        goto fail;
    }
    if (refund && amount > balance) {
        rc = nx_fail(e, NX_EINVAL, "amount", "退款金额超过余额（%lld 分）", (long long)balance);
        goto fail;
    }
    if ((rc = cn_card_move(tx, who, card_id, community, refund ? "refund" : "topup", refund ? -amount : amount, method,
                           0, note, txn_id, &after, e)))
        goto fail;
    if ((rc = audit_write_new(tx, who, refund ? "refund" : "topup", "canteen_card", card_id, community,
                              json_pack("{s:I}", "amount", (json_int_t)amount), e)))
        goto fail;
    if (!refund &&
        (rc = outbox_emit_new(tx, CANTEEN_EV_CARD_TOPPED_UP, community, "canteen_card", card_id,
                              json_pack("{s:I, s:I, s:I, s:I}", "card_id", (json_int_t)card_id, "resident_id",
                                        (json_int_t)resident, "amount", (json_int_t)amount, "balance", (json_int_t)after),
                              e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

int canteen_card_replace(nx_app *app, const nx_principal *who, int64_t card_id, json_t *in, int64_t *new_id, nx_err *e)
{
    static const char *const allowed[] = {"reason", NULL};
    if (!can_operate(who))
        return nx_fail(e, NX_EPERM, "", "无权补办饭卡");
    const char *reason = NULL;
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "reason", false, 100, &reason, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, resident = 0, balance = 0;
    char status[16];
    cn_diner d;
    if ((rc = card_load(tx, who, card_id, false, &community, &resident, status, &balance, e)))
        goto fail;
    if (strcmp(status, "active") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "card_id", "该卡已挂失或停用");
        goto fail;
    }
    if ((rc = cn_diner_load(tx, resident, &d, e)))
        goto fail;
    if (balance > 0 && (rc = cn_card_move(tx, who, card_id, community, "transfer_out", -balance, "transfer", 0,
                                          reason ? reason : "挂失补卡", NULL, NULL, e)))
        goto fail;
    store_param a[] = {P_INT(clock_now_ms()), P_INT(card_id)};
    if ((rc = store_exec(tx, "UPDATE canteen_cards SET status = 'replaced', updated_at = $1 WHERE id = $2", a, 2, NULL, e)))
        goto fail;
    if ((rc = card_insert(tx, who, &d, 0, new_id, e)))
        goto fail;
    if (balance > 0 && (rc = cn_card_move(tx, who, *new_id, community, "transfer_in", balance, "transfer", 0,
                                          reason ? reason : "挂失补卡", NULL, NULL, e)))
        goto fail;
    store_param b[] = {P_INT(*new_id), P_INT(card_id)};
    if ((rc = store_exec(tx, "UPDATE canteen_cards SET replaced_by = $1 WHERE id = $2", b, 2, NULL, e)) ||
        (rc = audit_write_new(tx, who, "replace", "canteen_card", card_id, community,
                              json_pack("{s:I}", "new_card_id", (json_int_t)*new_id), e)))
        goto fail;
fail:
    return store_finish(tx, rc, e);
}

static json_t *txn_row(store_rows *r)
{
    return store_json_row(r, "id:i card_id:i kind:t amount:i balance_after:i method:t receipt_no:t sale_id:i note:t "
                             "created_at:d");
}

int canteen_card_txns(nx_app *app, const nx_principal *who, int64_t card_id, const canteen_filter *f, json_t **out,
                      nx_err *e)
{
    json_t *card;
    int rc = canteen_card_get(app, who, card_id, &card, e); /* the right and the scope */
    if (rc)
        return rc;
    json_decref(card);
    int64_t after = 0;
    if ((rc = store_page_cursor_id(f->cursor, &after, e)))
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT t.id, t.card_id, t.kind, t.amount, t.balance_after, t.method, t.receipt_no, t.sale_id, "
                  "t.note, t.created_at FROM canteen_card_txns t WHERE 1 = 1");
    sqlq_add(&q, " AND t.card_id = $%d", P_INT(card_id));
    store_page_spec s = {.limit = f->limit, .max = (int)app->cfg->page_max, .row = txn_row};
    return store_page_by_id(app->db, &q, "t.", after, false, &s, out, e);
}

/* The card (as canteen_card_get, *card a new reference) and its live code: a card without one (lost or
 * stopped) is NX_ECONFLICT naming "card_id" with the message none. */
static int card_with_code(nx_app *app, const nx_principal *who, int64_t card_id, const char *none, json_t **card,
                          const char **code, nx_err *e)
{
    int rc = canteen_card_get(app, who, card_id, card, e);
    if (rc)
        return rc;
    *code = json_string_value(json_object_get(*card, "code"));
    if (!*code) {
        json_decref(*card);
        return nx_fail(e, NX_ECONFLICT, "card_id", "%s", none);
    }
    return 0;
}

int canteen_card_pdf(nx_app *app, const nx_principal *who, int64_t card_id, unsigned char **pdf, size_t *len, nx_err *e)
{
    json_t *card;
    const char *code;
    int rc = card_with_code(app, who, card_id, "该卡已挂失或停用，不能打印", &card, &code, e);
    if (rc)
        return rc;
    char serial[64], name[80];
    snprintf(serial, sizeof serial, "卡号：%s", json_string_value(json_object_get(card, "number")));
    str_copy(name, json_string_value(json_object_get(card, "resident_name")), sizeof name);
    pdf_row rows[] = {{"持卡人", name}, {"卡号", json_string_value(json_object_get(card, "number"))}};
    pdf_form f = {.issuer = "幸福食堂", .title = "饭卡", .serial = serial,
                  .body = "就餐时请出示此卡，收银台扫码即可。挂失请到食堂补办，旧卡随即作废。", .rows = rows,
                  .nrows = 2, .footer = "一元吃饱 · 两元吃好", .qr_text = code, .verify_code = NULL};
    rc = pdf_render_form(&f, pdf, len, e);
    json_decref(card);
    return rc;
}

int canteen_card_qr_svg(nx_app *app, const nx_principal *who, int64_t card_id, char **svg, nx_err *e)
{
    json_t *card;
    const char *code;
    int rc = card_with_code(app, who, card_id, "该卡已挂失或停用", &card, &code, e);
    if (rc)
        return rc;
    qr_matrix m = {0};
    rc = qr_encode(code, &m, e);
    json_decref(card);
    if (rc)
        return rc;
    strbuf b;
    strbuf_init(&b, 256 * 1024);
    int w = m.width + 8;
    strbuf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">"
                      "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"", w, w, w, w);
    for (int y = 0; y < m.width; y++)
        for (int x = 0; x < m.width; x++)
            if (m.modules[y * m.width + x])
                strbuf_printf(&b, "M%d %dh1v1h-1z", x + 4, y + 4);
    rc = strbuf_puts(&b, "\"/></svg>");
    qr_free(&m);
    *svg = strbuf_steal(&b);
    if (rc || !*svg) {
        free(*svg);
        *svg = NULL;
        strbuf_cleanup(&b);
        return nx_fail(e, NX_ENOMEM, "", "二维码生成失败");
    }
    return 0;
}

static json_t *diner_row(store_rows *r)
{
    json_t *o = store_json_row(r, "resident_id:i name:t - status:t card_id:i card_number:t balance:i community_id:i");
    if (!o)
        return NULL;
    nx_date b, today = date_today();
    if (store_text(r, 2) && date_parse(store_text(r, 2), &b) == 0)
        json_object_set_new(o, "age", json_integer(date_age(b, today)));
    return o;
}

int canteen_diner_search(nx_app *app, const nx_principal *who, const char *q, json_t **out, nx_err *e)
{
    if (!can_operate(who))
        return nx_fail(e, NX_EPERM, "", "无权查找就餐人");
    if (!q || !*q || str_utf8_len(q) > 20)
        return nx_fail(e, NX_EINVAL, "q", "请输入姓名、拼音或首字母（最多 20 个字）");
    char lower[64];
    size_t i = 0;
    for (; q[i] && i < sizeof lower - 1; i++)
        lower[i] = (q[i] >= 'A' && q[i] <= 'Z') ? (char)(q[i] - 'A' + 'a') : q[i];
    lower[i] = '\0';
    sqlq s;
    sqlq_init(&s, "SELECT r.id, r.name, r.birth_date, r.status, c.id, c.number, c.balance, r.community_id "
                  "FROM residents r LEFT JOIN canteen_cards c ON c.resident_id = r.id AND c.status = 'active' "
                  "WHERE r.status = 'active'");
    nx_principal p = *who;
    if (p.scope == SCOPE_GRID)
        p.scope = SCOPE_COMMUNITY;
    perm_scope_q(&p, "r.", "id", &s);
    int k = sqlq_like(&s, " AND (r.name_s LIKE $%d ESCAPE '!'", q, true);
    int k2 = sqlq_like(&s, " OR r.name_pinyin LIKE $%d ESCAPE '!'", lower, false);
    sqlq_sql(&s, " OR r.name_initials LIKE $%d ESCAPE '!' OR r.name LIKE $%d ESCAPE '!')", k2, k);
    sqlq_sql(&s, " ORDER BY c.id IS NULL, r.name_pinyin, r.id");
    store_page_spec spec = {.limit = SEARCH_MAX, .max = SEARCH_MAX, .row = diner_row};
    return store_page_read(app->db, &s, &spec, out, e);
}
