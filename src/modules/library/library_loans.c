/* library_loans.c — the desk and the queue: check-out by label, return, renewal, holds, and the
 * ticker that expires holds and emits due-soon and overdue events.
 *
 * A copy on loan cannot be lent again, and the database says so, not only this code: a check-out
 * first moves the copy from available (or the hold shelf) to on_loan with a conditional UPDATE —
 * on PostgreSQL a second desk's UPDATE waits for the first transaction and then finds the status
 * changed — and then inserts the loan, which the partial unique index book_loans_open refuses for
 * a copy that already has an open loan. Either refusal is a 409 that says the copy is out.
 *
 * Holds are per title, served in the order placed (by id): "you are number 2" is the count of
 * waiting holds of the title up to and including yours. A returned shelf copy goes to the first
 * waiting hold (lib_serve_copy in library_common.c); a held copy not collected by pickup_by is
 * released by the ticker to the next in line.
 *
 * The ticker (library_tick) does its work in one write transaction per run, at most TICK_BATCH rows
 * of each kind (the rest on the next run), and each event once: a loan's reminded_at and overdue_at
 * record that its event was emitted, a hold's status that it expired. So it may run as often as
 * anyone likes, in any process that holds the lock. */
#include "modules/library/library_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/vec.h"
#include "notify/outbox.h"
#include "store/page.h"

#define TICK_BATCH 500

/* ---- loans: reading ---- */

#define LOAN_FROM                                                                                            \
    " FROM book_loans l JOIN book_copies c ON c.id = l.copy_id JOIN books b ON b.id = l.book_id "          \
    "JOIN residents r ON r.id = l.resident_id WHERE 1 = 1"

/* The head of a loan SELECT with now as its first parameter (for "overdue"). */
static void loan_head(sqlq *q, int64_t now)
{
    sqlq_init(q, "SELECT l.id, l.community_id, l.grid_id, l.copy_id, c.code, c.kind, l.book_id, b.title, l.resident_id, "
                 "r.name, l.out_at, l.due_at, l.renewals, l.returned_at, ");
    sqlq_add(q, "CASE WHEN l.returned_at IS NULL AND l.due_at < $%d THEN 1 ELSE 0 END" LOAN_FROM, P_INT(now));
}

static json_t *loan_row(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i grid_id:i copy_id:i code:t kind:t book_id:i title:t resident_id:i "
                             "reader_name:t out_at:d due_at:d renewals:i returned_at:d overdue:b");
}

static void loan_filters(sqlq *q, const nx_principal *who, const library_filter *f, int64_t now)
{
    perm_scope_q(who, "l.", "resident_id", q);
    sqlq_eq_int(q, "l.community_id", f->community_id);
    sqlq_eq_int(q, "l.resident_id", f->resident_id);
    sqlq_eq_int(q, "l.book_id", f->book_id);
    if (f->state && strcmp(f->state, "open") == 0)
        sqlq_sql(q, " AND l.returned_at IS NULL");
    else if (f->state && strcmp(f->state, "overdue") == 0)
        sqlq_add(q, " AND l.returned_at IS NULL AND l.due_at < $%d", P_INT(now));
    else if (f->state && strcmp(f->state, "returned") == 0)
        sqlq_sql(q, " AND l.returned_at IS NOT NULL");
}

int library_loan_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e)
{
    int rc = lib_can_read(who, e);
    if (rc)
        return rc;
    static const char *const states[] = {"open", "overdue", "returned", NULL};
    bool ok = f->state == NULL;
    for (int i = 0; !ok && states[i]; i++)
        ok = strcmp(states[i], f->state) == 0;
    if (!ok)
        return nx_fail(e, NX_EINVAL, "state", "state 应为 open、overdue 或 returned");
    int64_t now = clock_now_ms();
    sqlq q, count;
    loan_head(&q, now);
    loan_filters(&q, who, f, now);
    sqlq_init(&count, "SELECT COUNT(*) FROM book_loans l WHERE 1 = 1");
    loan_filters(&count, who, f, now);
    return lib_page(app, &q, &count, "l.", false, f, loan_row, out, e);
}

int library_loan_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    int rc = lib_can_read(who, e);
    if (rc)
        return rc;
    sqlq q;
    loan_head(&q, clock_now_ms());
    sqlq_add(&q, " AND l.id = $%d", P_INT(id));
    perm_scope_q(who, "l.", "resident_id", &q);
    store_page_spec s = {.row = loan_row};
    return store_get_read(app->db, &q, &s, "借阅记录不存在", out, e);
}

/* ---- loans: the desk ---- */

/* The copy with label code in who's catalogue scope: id, community, title, status (malloc'd). */
typedef struct copy_at {
    int64_t id, community_id, book_id;
    char status[20], kind[8];
} copy_at;

static int copy_by_code(store_tx *tx, const nx_principal *who, const char *code, copy_at *c, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT c.id, c.community_id, c.book_id, c.status, c.kind FROM book_copies c WHERE 1 = 1");
    sqlq_add(&q, " AND c.code = $%d", P_TEXT(code));
    lib_scope_q(who, "c.", &q);
    store_rows *r;
    int rc = sqlq_first(tx, &q, "没有这个标签号的图书", &r, e);
    if (rc == 0) {
        c->id = store_int(r, 0);
        c->community_id = store_int(r, 1);
        c->book_id = store_int(r, 2);
        snprintf(c->status, sizeof c->status, "%s", store_text(r, 3) ? store_text(r, 3) : "");
        snprintf(c->kind, sizeof c->kind, "%s", store_text(r, 4) ? store_text(r, 4) : "");
    }
    store_rows_free(r);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, NX_EINVAL, "code", "没有这个标签号的图书：%s", code);
    return rc;
}

int library_loan_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"code", "resident_id", NULL};
    const char *code_in = NULL;
    int64_t resident = 0;
    char code[24];
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_read_str(in, "code", true, 40, &code_in, e)) ||
        (rc = json_get_int(in, "resident_id", true, 1, INT64_MAX, &resident, e)) < 0 ||
        (rc = lib_code_read(code_in, code, sizeof code, "code", e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t now = clock_now_ms(), hold = 0, holder = 0;
    copy_at c;
    lib_reader rd;
    if ((rc = copy_by_code(tx, who, code, &c, e)) || (rc = lib_reader_load(tx, who, resident, "resident_id", now, &rd, e)))
        goto done;
    if (strcmp(c.status, "on_loan") == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "code", "这册书（%s）已借出，尚未归还，不能再借", code);
        goto done;
    }
    if (strcmp(c.status, "lost") == 0 || strcmp(c.status, "withdrawn") == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "code", "这册书（%s）已登记为遗失或剔除", code);
        goto done;
    }
    if (strcmp(c.status, "on_hold_shelf") == 0) {
        store_param hp[] = {P_INT(c.id)};
        store_rows *r;
        if ((rc = store_query(tx, "SELECT id, resident_id FROM book_holds WHERE copy_id = $1 AND status = 'ready'", hp, 1,
                              &r, e)))
            goto done;
        if (store_row(r)) {
            hold = store_int(r, 0);
            holder = store_int(r, 1);
        }
        if ((rc = store_rows_end(r, e)))
            goto done;
        if (hold && holder != resident) {
            rc = nx_fail(e, NX_ECONFLICT, "code", "这册书在预约架上，为其他读者保留");
            goto done;
        }
    }
    if ((rc = lib_reader_check_block(&rd, now, "resident_id", e)))
        goto done;
    if (rd.open_loans >= rd.max_loans) {
        rc = nx_fail(e, NX_ECONFLICT, "resident_id", "该读者已借 %lld 本，达到上限（%lld 本）", (long long)rd.open_loans,
                     (long long)rd.max_loans);
        goto done;
    }
    int64_t changed = 0;
    store_param up[] = {P_INT(now), P_INT(c.id)};
    if ((rc = store_exec(tx,
                         "UPDATE book_copies SET status = 'on_loan', updated_at = $1 WHERE id = $2 "
                         "AND status IN ('available', 'on_hold_shelf')",
                         up, 2, &changed, e)))
        goto done;
    if (changed == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "code", "这册书（%s）刚被借出，不能再借", code);
        goto done;
    }
    int64_t due = now + rd.loan_days * LIBRARY_DAY_MS;
    store_param lp[] = {P_INT(c.community_id), P_ID(rd.grid_id), P_INT(c.id), P_INT(c.book_id), P_INT(resident),
                        P_INT(now), P_INT(due), P_ID(who->user_id)};
    rc = store_one_int(tx,
                       "INSERT INTO book_loans (community_id, grid_id, copy_id, book_id, resident_id, out_at, due_at, "
                       "renewals, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) RETURNING id",
                       lp, 8, id, e);
    /* book_loans_open: the copy has an open loan */
    if ((rc = store_conflict_field(rc, "code", e, "这册书（%s）已借出，尚未归还，不能再借", code)))
        goto done;
    /* the reader's hold of this title is fulfilled: the copy kept for them, or one taken from the shelf */
    store_param fp[] = {P_INT(now), P_INT(c.book_id), P_INT(resident)};
    rc = store_exec(tx,
                    "UPDATE book_holds SET status = 'fulfilled', closed_at = $1 WHERE book_id = $2 AND resident_id = $3 "
                    "AND status IN ('waiting', 'ready')",
                    fp, 3, NULL, e);
done:
    return store_finish(tx, rc, e);
}

/* Return loan id on tx. */
static int do_return(store_tx *tx, const nx_principal *who, int64_t id, int64_t now, nx_err *e)
{
    sqlq q;
    perm_scope_id_q(who, "l.", "resident_id", id,
                    "SELECT l.copy_id, l.resident_id, l.due_at, l.returned_at, l.community_id FROM "
                    "book_loans l WHERE 1 = 1",
                    &q);
    int64_t copy = 0, resident = 0, due = 0, community = 0;
    bool returned = false;
    store_rows *r;
    int rc = sqlq_first(tx, &q, "借阅记录不存在", &r, e);
    if (rc)
        return rc;
    copy = store_int(r, 0);
    resident = store_int(r, 1);
    due = store_int(r, 2);
    returned = !store_isnull(r, 3);
    community = store_int(r, 4);
    store_rows_free(r);
    if (returned)
        return nx_fail(e, NX_ECONFLICT, "", "这笔借阅已经归还");
    int64_t changed = 0;
    store_param p[] = {P_INT(now), P_INT(id)};
    if ((rc = store_exec(tx, "UPDATE book_loans SET returned_at = $1 WHERE id = $2 AND returned_at IS NULL", p, 2,
                         &changed, e)))
        return rc;
    if (changed == 0)
        return nx_fail(e, NX_ECONFLICT, "", "这笔借阅已经归还");
    if (now > due) { /* late: a block of as many days as it was late, never a fine */
        int64_t days = (now - due + LIBRARY_DAY_MS - 1) / LIBRARY_DAY_MS;
        if (days > LIBRARY_BLOCK_MAX_DAYS)
            days = LIBRARY_BLOCK_MAX_DAYS;
        int64_t until = now + days * LIBRARY_DAY_MS;
        store_param b[] = {P_INT(until), P_INT(until), P_INT(now), P_INT(resident)};
        if ((rc = store_exec(tx,
                             "UPDATE library_readers SET blocked_until = CASE WHEN blocked_until < $1 THEN $2 "
                             "ELSE blocked_until END, updated_at = $3 WHERE resident_id = $4",
                             b, 4, NULL, e)) ||
            (rc = outbox_emit_new(tx, LIBRARY_EV_READER_BLOCKED, community, "resident", resident,
                                  json_pack("{s:I, s:I}", "resident_id", (json_int_t)resident, "blocked_until",
                                            (json_int_t)until),
                                  e)))
            return rc;
    }
    return lib_serve_copy(tx, copy, now, NULL, e);
}

int library_loan_return(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    store_tx *tx;
    int rc = lib_action_begin(app, who, lib_can_manage, in, &tx, e);
    if (rc)
        return rc;
    if ((rc = do_return(tx, who, id, clock_now_ms(), e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

int library_loan_return_code(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"code", NULL};
    const char *code_in = NULL;
    char code[24];
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_read_str(in, "code", true, 40, &code_in, e)) ||
        (rc = lib_code_read(code_in, code, sizeof code, "code", e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    copy_at c;
    int64_t now = clock_now_ms();
    if ((rc = copy_by_code(tx, who, code, &c, e)))
        goto done;
    store_param p[] = {P_INT(c.id)};
    rc = store_one_int(tx, "SELECT id FROM book_loans WHERE copy_id = $1 AND returned_at IS NULL", p, 1, id, e);
    if (rc == NX_ENOTFOUND)
        rc = nx_fail(e, NX_ECONFLICT, "code", "这册书（%s）没有借出，无需归还", code);
    if (rc || (rc = do_return(tx, who, *id, now, e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

int library_loan_renew(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    store_tx *tx;
    int rc = lib_action_begin(app, who, lib_can_read, in, &tx, e);
    if (rc)
        return rc;
    int64_t now = clock_now_ms(), resident = 0, due = 0, renewals = 0, book = 0, waiting = 0;
    bool returned = false;
    sqlq q;
    perm_scope_id_q(
        who, "l.", "resident_id", id,
        "SELECT l.resident_id, l.due_at, l.renewals, l.returned_at, l.book_id FROM book_loans l WHERE 1 = 1",
        &q);
    store_rows *r;
    if ((rc = sqlq_first(tx, &q, "借阅记录不存在", &r, e)))
        goto done;
    resident = store_int(r, 0);
    due = store_int(r, 1);
    renewals = store_int(r, 2);
    returned = !store_isnull(r, 3);
    book = store_int(r, 4);
    store_rows_free(r);
    lib_reader rd;
    if (returned) {
        rc = nx_fail(e, NX_ECONFLICT, "", "这笔借阅已经归还");
        goto done;
    }
    if (due < now) {
        rc = nx_fail(e, NX_ECONFLICT, "", "已经逾期，不能续借，请尽快归还");
        goto done;
    }
    if ((rc = lib_reader_load(tx, who, resident, "resident_id", now, &rd, e)))
        goto done;
    if (renewals >= rd.renewals) {
        rc = nx_fail(e, NX_ECONFLICT, "", "续借次数已用完（每本可续借 %lld 次）", (long long)rd.renewals);
        goto done;
    }
    store_param bp[] = {P_INT(book)};
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM book_holds WHERE book_id = $1 AND status = 'waiting'", bp, 1,
                            &waiting, e)))
        goto done;
    if (waiting > 0) {
        rc = nx_fail(e, NX_ECONFLICT, "", "有 %lld 位读者在排队预约这本书，不能续借", (long long)waiting);
        goto done;
    }
    int64_t next = now + rd.loan_days * LIBRARY_DAY_MS;
    if (next < due)
        next = due;
    store_param p[] = {P_INT(next), P_INT(id)};
    rc = store_exec(tx,
                    "UPDATE book_loans SET due_at = $1, renewals = renewals + 1, reminded_at = NULL "
                    "WHERE id = $2 AND returned_at IS NULL",
                    p, 2, NULL, e);
done:
    return store_finish(tx, rc, e);
}

/* ---- holds ---- */

#define HOLD_COLS                                                                                                  \
    "h.id, h.community_id, h.grid_id, h.book_id, b.title, h.resident_id, r.name, h.status, h.status, "              \
    "CASE WHEN h.status = 'waiting' THEN (SELECT COUNT(*) FROM book_holds w WHERE w.book_id = h.book_id AND "      \
    "w.status = 'waiting' AND w.id <= h.id) END, c.code, h.placed_at, h.ready_at, h.pickup_by, h.closed_at "       \
    "FROM book_holds h JOIN books b ON b.id = h.book_id JOIN residents r ON r.id = h.resident_id "                 \
    "LEFT JOIN book_copies c ON c.id = h.copy_id AND h.status = 'ready' WHERE 1 = 1"

static json_t *hold_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i grid_id:i book_id:i title:t resident_id:i reader_name:t status:t - "
                                  "position:i copy_code:t placed_at:d ready_at:d pickup_by:d closed_at:d");
    lib_set_status_label(o, lib_hold_status_label(store_text(r, 8)));
    return o;
}

static int hold_filters(sqlq *q, const nx_principal *who, const library_filter *f, nx_err *e)
{
    static const char *const states[] = {"active", "waiting", "ready", "fulfilled", "cancelled", "expired", NULL};
    bool ok = f->state == NULL;
    for (int i = 0; !ok && states[i]; i++)
        ok = strcmp(states[i], f->state) == 0;
    if (!ok)
        return nx_fail(e, NX_EINVAL, "state", "state 应为 active、waiting、ready、fulfilled、cancelled 或 expired");
    perm_scope_q(who, "h.", "resident_id", q);
    sqlq_eq_int(q, "h.community_id", f->community_id);
    sqlq_eq_int(q, "h.resident_id", f->resident_id);
    sqlq_eq_int(q, "h.book_id", f->book_id);
    if (f->state && strcmp(f->state, "active") == 0)
        sqlq_sql(q, " AND h.status IN ('waiting', 'ready')");
    else if (f->state)
        sqlq_add(q, " AND h.status = $%d", P_TEXT(f->state));
    return 0;
}

int library_hold_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e)
{
    int rc = lib_can_read(who, e);
    if (rc)
        return rc;
    sqlq q, count;
    sqlq_init(&q, "SELECT " HOLD_COLS);
    sqlq_init(&count, "SELECT COUNT(*) FROM book_holds h WHERE 1 = 1");
    if ((rc = hold_filters(&q, who, f, e)) || (rc = hold_filters(&count, who, f, e)))
        return rc;
    return lib_page(app, &q, &count, "h.", false, f, hold_row, out, e);
}

int library_hold_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return lib_get(app, who, lib_can_read, "SELECT " HOLD_COLS, "h.", true, id, hold_row, "预约不存在", out,
                   e);
}

int library_hold_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"book_id", "resident_id", NULL};
    int64_t book = 0, resident = 0;
    int rc;
    if ((rc = lib_can_read(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "book_id", true, 1, INT64_MAX, &book, e)) < 0 ||
        (rc = json_get_int(in, "resident_id", false, 1, INT64_MAX, &resident, e)) < 0)
        return rc;
    bool manage = perm_has(who, RIGHT_LIBRARY_MANAGE);
    if (!manage) {
        if (resident && resident != who->resident_id)
            return nx_fail(e, NX_EINVAL, "resident_id", "只能为自己（或绑定的老人）预约");
        resident = who->resident_id;
    }
    if (!resident)
        return nx_fail(e, NX_EINVAL, "resident_id", "请选择读者");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t now = clock_now_ms(), n = 0, copy = 0;
    lib_reader rd;
    sqlq q;
    sqlq_init(&q, "SELECT b.community_id FROM books b WHERE 1 = 1");
    sqlq_add(&q, " AND b.id = $%d", P_INT(book));
    lib_scope_q(who, "b.", &q);
    int64_t community = 0;
    rc = sqlq_one_int(tx, &q, &community, e);
    if (rc == NX_ENOTFOUND)
        rc = nx_fail(e, NX_EINVAL, "book_id", "图书不存在");
    if (rc || (rc = lib_reader_load(tx, who, resident, "resident_id", now, &rd, e)) ||
        (rc = lib_reader_check_block(&rd, now, "resident_id", e)))
        goto done;
    store_param bp[] = {P_INT(book)};
    if ((rc = store_one_int(tx,
                            "SELECT COUNT(*) FROM book_copies WHERE book_id = $1 AND kind = 'shelf' "
                            "AND status NOT IN ('lost', 'withdrawn')",
                            bp, 1, &n, e)))
        goto done;
    if (n == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "book_id", "这本书没有可预约的在架馆藏");
        goto done;
    }
    store_param rp[] = {P_INT(book), P_INT(resident)};
    if ((rc = store_one_int(tx,
                            "SELECT COUNT(*) FROM book_holds WHERE book_id = $1 AND resident_id = $2 "
                            "AND status IN ('waiting', 'ready')",
                            rp, 2, &n, e)))
        goto done;
    if (n > 0) {
        rc = nx_fail(e, NX_ECONFLICT, "book_id", "已经预约过这本书");
        goto done;
    }
    if ((rc = store_one_int(tx, "SELECT COUNT(*) FROM book_loans WHERE book_id = $1 AND resident_id = $2 "
                                "AND returned_at IS NULL",
                            rp, 2, &n, e)))
        goto done;
    if (n > 0) {
        rc = nx_fail(e, NX_ECONFLICT, "book_id", "这本书正借在该读者手上");
        goto done;
    }
    if (rd.active_holds >= rd.max_holds) {
        rc = nx_fail(e, NX_ECONFLICT, "resident_id", "最多同时预约 %lld 本", (long long)rd.max_holds);
        goto done;
    }
    store_param hp[] = {P_INT(community), P_ID(rd.grid_id), P_INT(book), P_INT(resident), P_INT(now)};
    rc = store_one_int(tx,
                       "INSERT INTO book_holds (community_id, grid_id, book_id, resident_id, status, placed_at) "
                       "VALUES ($1, $2, $3, $4, 'waiting', $5) RETURNING id",
                       hp, 5, id, e);
    if ((rc = store_conflict_field(rc, "book_id", e, "已经预约过这本书")))
        goto done;
    /* a copy standing on the shelf goes to the hold shelf at once (to the first in line) */
    rc = store_one_int(tx,
                       "SELECT id FROM book_copies WHERE book_id = $1 AND kind = 'shelf' AND status = 'available' "
                       "ORDER BY id LIMIT 1",
                       bp, 1, &copy, e);
    if (rc == 0)
        rc = lib_serve_copy(tx, copy, now, NULL, e);
    else if (rc == NX_ENOTFOUND)
        rc = 0;
done:
    return store_finish(tx, rc, e);
}

/* End hold id (waiting or ready) as status at now; a copy it kept goes to the next in line. */
static int hold_end(store_tx *tx, int64_t id, const char *status, int64_t now, int64_t *copy_out, nx_err *e)
{
    store_param p[] = {P_INT(id)};
    bool ready = false, open = false;
    int64_t copy = 0;
    store_rows *r;
    int rc = store_query_first(tx, "SELECT status, copy_id FROM book_holds WHERE id = $1", p, 1, "预约不存在", &r, e);
    if (rc)
        return rc;
    const char *s = store_text(r, 0);
    ready = s && strcmp(s, "ready") == 0;
    open = ready || (s && strcmp(s, "waiting") == 0);
    copy = store_int(r, 1);
    store_rows_free(r);
    if (!open)
        return nx_fail(e, NX_ECONFLICT, "", "这个预约已经结束");
    store_param u[] = {P_TEXT(status), P_INT(now), P_INT(id)};
    if ((rc = store_exec(tx, "UPDATE book_holds SET status = $1, closed_at = $2 WHERE id = $3", u, 3, NULL, e)))
        return rc;
    if (copy_out)
        *copy_out = ready ? copy : 0;
    return ready && copy ? lib_serve_copy(tx, copy, now, NULL, e) : 0;
}

int library_hold_cancel(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    store_tx *tx;
    int rc = lib_action_begin(app, who, lib_can_read, in, &tx, e);
    if (rc)
        return rc;
    sqlq q;
    perm_scope_id_q(who, "h.", "resident_id", id, "SELECT h.id FROM book_holds h WHERE 1 = 1", &q);
    int64_t found = 0;
    rc = sqlq_one_int(tx, &q, &found, e);
    if (rc == NX_ENOTFOUND)
        rc = nx_fail(e, NX_ENOTFOUND, "", "预约不存在");
    if (rc || (rc = hold_end(tx, id, "cancelled", clock_now_ms(), NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

/* ---- the ticker ---- */

typedef struct due_row {
    int64_t id, resident_id, book_id, copy_id, at, community_id;
} due_row;

static void due_fill(store_rows *r, void *elem)
{
    *(due_row *)elem = (due_row){store_int(r, 0), store_int(r, 1), store_int(r, 2),
                                 store_int(r, 3), store_int(r, 4), store_int(r, 5)};
}

/* What a tick does to one due row: the clock, and for loans the stamp (an UPDATE of the loan's id as
 * $2 with now as $1, so a loan is announced once) and the event kind. */
typedef struct tick_ctx {
    int64_t now_ms;
    const char *stamp, *kind;
} tick_ctx;

typedef int (*due_fn)(store_tx *tx, const due_row *row, const tick_ctx *c, nx_err *e);

/* The rows of sql (parameters p, np; columns as due_row), up to TICK_BATCH, each through fn. *count:
 * how many. */
static int each_due(store_tx *tx, const char *sql, const store_param *p, int np, due_fn fn, const tick_ctx *c,
                    int *count, nx_err *e)
{
    vec v;
    vec_init(&v, sizeof(due_row), TICK_BATCH);
    int rc = store_query_vec(tx, sql, p, np, due_fill, &v, e);
    for (size_t i = 0; rc == 0 && i < v.len; i++)
        rc = fn(tx, (const due_row *)v.items + i, c, e);
    *count = (int)v.len;
    vec_cleanup(&v);
    return rc;
}

/* A loan overdue or due soon: stamped, then announced with c->kind. */
static int loan_announce(store_tx *tx, const due_row *l, const tick_ctx *c, nx_err *e)
{
    store_param u[] = {P_INT(c->now_ms), P_INT(l->id)};
    int rc = store_exec(tx, c->stamp, u, 2, NULL, e);
    return rc ? rc
              : outbox_emit_new(tx, c->kind, l->community_id, "loan", l->id,
                                json_pack("{s:I, s:I, s:I, s:I, s:I}", "loan_id", (json_int_t)l->id, "resident_id",
                                          (json_int_t)l->resident_id, "book_id", (json_int_t)l->book_id, "copy_id",
                                          (json_int_t)l->copy_id, "due_at", (json_int_t)l->at),
                                e);
}

/* A ready hold not collected by its pickup time: announced, then ended "expired" (its copy goes to
 * the next in line). */
static int hold_expire(store_tx *tx, const due_row *h, const tick_ctx *c, nx_err *e)
{
    int rc = outbox_emit_new(tx, LIBRARY_EV_HOLD_EXPIRED, h->community_id, "hold", h->id,
                             json_pack("{s:I, s:I, s:I, s:I}", "hold_id", (json_int_t)h->id, "resident_id",
                                       (json_int_t)h->resident_id, "book_id", (json_int_t)h->book_id, "copy_id",
                                       (json_int_t)h->copy_id),
                             e);
    return rc ? rc : hold_end(tx, h->id, "expired", c->now_ms, NULL, e);
}

int library_tick(nx_app *app, int64_t now_ms, json_t **report, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    int expired = 0, overdue = 0, soon = 0;
    store_param now[] = {P_INT(now_ms), P_INT(now_ms + LIBRARY_DUE_SOON_MS)};
    tick_ctx hold = {now_ms, NULL, NULL},
             late = {now_ms, "UPDATE book_loans SET overdue_at = $1 WHERE id = $2", LIBRARY_EV_LOAN_OVERDUE},
             due = {now_ms, "UPDATE book_loans SET reminded_at = $1 WHERE id = $2", LIBRARY_EV_LOAN_DUE_SOON};
    /* holds not collected in time; overdue loans, once per loan; loans due soon, once per due time (a
     * renewal clears reminded_at) */
    if ((rc = each_due(tx,
                       "SELECT id, resident_id, book_id, copy_id, pickup_by, community_id FROM book_holds "
                       "WHERE status = 'ready' AND pickup_by < $1 ORDER BY id LIMIT 500",
                       now, 1, hold_expire, &hold, &expired, e)) == 0 &&
        (rc = each_due(tx,
                       "SELECT id, resident_id, book_id, copy_id, due_at, community_id FROM book_loans "
                       "WHERE returned_at IS NULL AND overdue_at IS NULL AND due_at < $1 ORDER BY id LIMIT 500",
                       now, 1, loan_announce, &late, &overdue, e)) == 0)
        rc = each_due(tx,
                      "SELECT id, resident_id, book_id, copy_id, due_at, community_id FROM book_loans "
                      "WHERE returned_at IS NULL AND reminded_at IS NULL AND due_at >= $1 AND due_at < $2 "
                      "ORDER BY id LIMIT 500",
                      now, 2, loan_announce, &due, &soon, e);
    if ((rc = store_finish(tx, rc, e)))
        return rc;
    if (report)
        *report = json_pack("{s:i, s:i, s:i}", "expired", expired, "due_soon", soon, "overdue", overdue);
    return 0;
}

static int ticker_fn(void *ctx, int64_t now_ms, nx_err *e)
{
    return library_tick(ctx, now_ms, NULL, e);
}

int library_ticker_start(nx_app *app, int64_t period_ms, library_ticker **out, nx_err *e)
{
    *out = NULL;
    store_ticker_options o = {.name = "library.ticker",
                              .period_ms = period_ms > 0 ? period_ms : 600 * 1000LL,
                              .run_at_start = true,
                              .fn = ticker_fn,
                              .ctx = app};
    return store_ticker_start(app->db, &o, out, e);
}

void library_ticker_stop(library_ticker *t)
{
    store_ticker_stop(t);
}
