/* library.c — the library's catalogue: titles, copies and their labels, reader categories, readers,
 * donations, the dashboard figures and the public journey of a drifting copy.
 *
 * Titles and copies. A title (books) is what a reader searches and holds; a copy (book_copies) is
 * what a desk scans. A copy's label code is printed once and never changes: it is what the scanner
 * types at the desk and what the QR code of a drifting copy points to (/drift/{code}). Codes are
 * either pre-printed (given when the copy is added) or drawn at random from an alphabet without the
 * characters people confuse (0/O, 1/I/L), so that a label read aloud or typed by hand still works.
 *
 * The drift page is public. It shows the title, where the copy came from and who had it when — and
 * for people only library_drift_name ("王某"): the full name is read from the database into a local
 * buffer and never reaches the JSON.
 *
 * Scope: every read and write finds its row with the catalogue scope (lib_scope_q) inside the SQL,
 * so a row out of scope is "not found". Writes need RIGHT_LIBRARY_MANAGE. Threads: none; each
 * function runs its own transaction. */
#include "modules/library/library_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/jsonin.h"
#include "base/str.h"
#include "report/pdf.h"
#include "secure/audit.h"
#include "store/page.h"

#define Q_MAX_CHARS 50

/* ---- books ---- */

#define BOOK_COLS                                                                                                 \
    "b.id, b.community_id, b.isbn, b.title, b.author, b.publisher, b.year, b.subject, b.audience, b.large_print, " \
    "(SELECT COUNT(*) FROM book_copies c WHERE c.book_id = b.id AND c.status NOT IN ('lost', 'withdrawn')), "     \
    "(SELECT COUNT(*) FROM book_copies c WHERE c.book_id = b.id AND c.status = 'available' AND c.kind = 'shelf'), " \
    "(SELECT COUNT(*) FROM book_holds h WHERE h.book_id = b.id AND h.status = 'waiting'), b.created_at"

static json_t *book_row(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i isbn:t title:t author:t publisher:t year:i subject:t audience:t "
                             "large_print:b copies:i available:i holds_waiting:i created_at:d");
}

static void book_where(sqlq *q, const char *head, const nx_principal *who, const library_filter *f)
{
    sqlq_init(q, head);
    lib_scope_q(who, "b.", q);
    sqlq_eq_int(q, "b.community_id", f->community_id);
    sqlq_eq_text(q, "b.audience", f->audience);
    if (f->q && *f->q) {
        int k = sqlq_like(q, " AND (b.title LIKE $%d ESCAPE '!'", f->q, true);
        sqlq_sql(q, " OR b.author LIKE $%d ESCAPE '!' OR b.isbn LIKE $%d ESCAPE '!')", k, k);
    }
}

int library_book_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e)
{
    int rc = lib_can_read(who, e);
    if (rc)
        return rc;
    if (f->q && str_utf8_len(f->q) > Q_MAX_CHARS)
        return nx_fail(e, NX_EINVAL, "q", "搜索词最多 %d 个字", Q_MAX_CHARS);
    sqlq q, count;
    book_where(&q, "SELECT " BOOK_COLS " FROM books b WHERE 1 = 1", who, f);
    book_where(&count, "SELECT COUNT(*) FROM books b WHERE 1 = 1", who, f);
    return lib_page(app, &q, &count, "b.", true, f, book_row, out, e);
}

int library_book_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return lib_get(app, who, lib_can_read, "SELECT " BOOK_COLS " FROM books b WHERE 1 = 1", "b.", false, id,
                   book_row, "图书不存在", out, e);
}

typedef struct book_in {
    const char *title, *isbn, *author, *publisher, *subject, *audience;
    int64_t year, community_id;
    bool large_print, has_year, has_large_print;
    char isbn13[14];
} book_in;

static int book_read(json_t *in, bool create, book_in *b, nx_err *e)
{
    static const char *const allowed[] = {"title", "isbn", "author", "publisher", "year", "subject",
                                          "audience", "large_print", "community_id", NULL};
    memset(b, 0, sizeof *b);
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "title", create, 100, &b->title, e)) ||
        (rc = json_read_str(in, "isbn", false, 20, &b->isbn, e)) ||
        (rc = json_read_str(in, "author", false, 100, &b->author, e)) ||
        (rc = json_read_str(in, "publisher", false, 100, &b->publisher, e)) ||
        (rc = json_read_str(in, "subject", false, 40, &b->subject, e)) ||
        (rc = json_read_str(in, "audience", false, 20, &b->audience, e)))
        return rc;
    if ((rc = json_get_int(in, "year", false, 1400, 2100, &b->year, e)) < 0)
        return rc;
    b->has_year = rc == 0;
    if ((rc = json_get_bool(in, "large_print", false, &b->large_print, e)) < 0)
        return rc;
    b->has_large_print = rc == 0;
    if (create && (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &b->community_id, e)) < 0)
        return rc;
    if (!create && json_object_get(in, "community_id"))
        return nx_fail(e, NX_EINVAL, "community_id", "图书所属社区不能修改");
    if (!create && json_is_null_field(in, "title"))
        return nx_fail(e, NX_EINVAL, "title", "书名不能为空");
    if (b->audience && strcmp(b->audience, "all") != 0 && strcmp(b->audience, "children") != 0 &&
        strcmp(b->audience, "elders") != 0)
        return nx_fail(e, NX_EINVAL, "audience", "适读人群应为 all、children 或 elders");
    if (b->isbn && *b->isbn && (rc = library_isbn_normalize(b->isbn, b->isbn13, e)))
        return rc;
    return 0;
}

/* NX_ECONFLICT when another title of community has isbn13. */
static int isbn_free(store_tx *tx, int64_t community, const char *isbn13, int64_t self, nx_err *e)
{
    if (!isbn13[0])
        return 0;
    store_param p[] = {P_INT(community), P_TEXT(isbn13), P_INT(self)};
    int64_t other = 0;
    int rc = store_one_int(tx, "SELECT id FROM books WHERE community_id = $1 AND isbn = $2 AND id <> $3", p, 3, &other, e);
    if (rc == 0)
        return nx_fail(e, NX_ECONFLICT, "isbn", "本社区已有这本书（ISBN 相同，编号 %lld），请直接为它添加馆藏",
                       (long long)other);
    return rc == NX_ENOTFOUND ? 0 : rc;
}

int library_book_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    book_in b;
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = book_read(in, true, &b, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, now = clock_now_ms();
    if ((rc = lib_target_community(tx, who, b.community_id, &community, e)) ||
        (rc = isbn_free(tx, community, b.isbn13, 0, e)))
        goto done;
    store_param p[] = {P_INT(community),         P_TEXT(b.isbn13[0] ? b.isbn13 : NULL),
                       P_TEXT(b.title),          P_TEXT(b.author),
                       P_TEXT(b.publisher),      b.has_year ? P_INT(b.year) : P_NULL,
                       P_TEXT(b.subject),        P_TEXT(b.audience ? b.audience : "all"),
                       P_INT(b.large_print),     P_INT(now)};
    rc = store_one_int(tx,
                       "INSERT INTO books (community_id, isbn, title, author, publisher, year, subject, audience, "
                       "large_print, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) "
                       "RETURNING id",
                       p, 10, id, e);
done:
    return store_finish(tx, rc, e);
}

/* The community of a row of table (alias "x.") with id in who's scope: NX_ENOTFOUND with missing. */
static int find_in_scope(store_tx *tx, const nx_principal *who, const char *table, int64_t id, const char *missing,
                         const char *field, int64_t *community, nx_err *e)
{
    sqlq q;
    sqlq_init(&q, "SELECT x.community_id FROM ");
    sqlq_sql(&q, "%s x WHERE 1 = 1", table);
    sqlq_add(&q, " AND x.id = $%d", P_INT(id));
    lib_scope_q(who, "x.", &q);
    int rc = sqlq_one_int(tx, &q, community, e);
    if (rc == NX_ENOTFOUND)
        return nx_fail(e, field ? NX_EINVAL : NX_ENOTFOUND, field ? field : "", "%s", missing);
    return rc;
}

int library_book_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    book_in b;
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = book_read(in, false, &b, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    if ((rc = find_in_scope(tx, who, "books", id, "图书不存在", NULL, &community, e)) ||
        (rc = isbn_free(tx, community, b.isbn13, id, e)))
        goto done;
    sqlq q;
    sqlq_init(&q, "UPDATE books SET ");
    sqlq_add(&q, "updated_at = $%d", P_INT(clock_now_ms()));
    if (b.title)
        sqlq_add(&q, ", title = $%d", P_TEXT(b.title));
    if (b.isbn13[0])
        sqlq_add(&q, ", isbn = $%d", P_TEXT(b.isbn13));
    else if (json_is_null_field(in, "isbn") || (b.isbn && !*b.isbn))
        sqlq_sql(&q, ", isbn = NULL");
    static const char *const texts[] = {"author", "publisher", "subject", NULL};
    const char *vals[] = {b.author, b.publisher, b.subject};
    for (int i = 0; texts[i]; i++) {
        if (vals[i])
            sqlq_sql(&q, ", %s = $%d", texts[i], sqlq_param(&q, P_TEXT(vals[i])));
        else if (json_is_null_field(in, texts[i]))
            sqlq_sql(&q, ", %s = NULL", texts[i]);
    }
    if (b.has_year)
        sqlq_add(&q, ", year = $%d", P_INT(b.year));
    else if (json_is_null_field(in, "year"))
        sqlq_sql(&q, ", year = NULL");
    if (b.audience)
        sqlq_add(&q, ", audience = $%d", P_TEXT(b.audience));
    if (b.has_large_print)
        sqlq_add(&q, ", large_print = $%d", P_INT(b.large_print));
    sqlq_add(&q, " WHERE id = $%d", P_INT(id));
    rc = sqlq_exec(tx, &q, NULL, e);
done:
    return store_finish(tx, rc, e);
}

/* ---- copies ---- */

#define COPY_COLS                                                                                               \
    "c.id, c.community_id, c.book_id, b.title, c.code, c.kind, c.status, c.status, c.shelf, c.donation_id, l.id, " \
    "l.due_at, c.created_at"
#define COPY_FROM                                                                                                \
    " FROM book_copies c JOIN books b ON b.id = c.book_id LEFT JOIN book_loans l ON l.copy_id = c.id AND " \
    "l.returned_at IS NULL WHERE 1 = 1"

static json_t *copy_row(store_rows *r)
{
    json_t *o = store_json_row(r, "id:i community_id:i book_id:i title:t code:t kind:t status:t - shelf:t "
                                  "donation_id:i loan_id:i due_at:d created_at:d");
    lib_set_status_label(o, lib_copy_status_label(store_text(r, 7)));
    return o;
}

static void copy_where(sqlq *q, const char *head, const nx_principal *who, const library_filter *f, const char *code)
{
    sqlq_init(q, head);
    lib_scope_q(who, "c.", q);
    sqlq_eq_int(q, "c.community_id", f->community_id);
    sqlq_eq_int(q, "c.book_id", f->book_id);
    sqlq_eq_text(q, "c.kind", f->kind);
    sqlq_eq_text(q, "c.status", f->status);
    if (code && *code)
        sqlq_like(q, " AND c.code LIKE $%d ESCAPE '!'", code, false);
}

int library_copy_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e)
{
    /* a reader lists the drifting copies of their community (a copy row names no person) */
    bool drift = f->kind && strcmp(f->kind, "drift") == 0;
    int rc = drift ? lib_can_read(who, e) : lib_can_manage(who, e);
    if (rc)
        return rc;
    char code[24] = "";
    if (f->q && *f->q && (rc = lib_code_read(f->q, code, sizeof code, "q", e)))
        return rc;
    sqlq q, count;
    copy_where(&q, "SELECT " COPY_COLS COPY_FROM, who, f, code);
    copy_where(&count, "SELECT COUNT(*) FROM book_copies c WHERE 1 = 1", who, f, code);
    return lib_page(app, &q, &count, "c.", true, f, copy_row, out, e);
}

int library_copy_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return lib_get(app, who, lib_can_manage, "SELECT " COPY_COLS COPY_FROM, "c.", false, id, copy_row,
                   "馆藏不存在", out, e);
}

static bool one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

int library_copy_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"book_id", "kind", "code", "shelf", "donation_id", NULL};
    static const char *const kinds[] = {"shelf", "drift", NULL};
    int64_t book = 0, donation = 0;
    const char *kind = NULL, *code_in = NULL, *shelf = NULL;
    char code[24] = "";
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "book_id", true, 1, INT64_MAX, &book, e)) < 0 ||
        (rc = json_read_str(in, "kind", true, 10, &kind, e)) || (rc = json_read_str(in, "code", false, 40, &code_in, e)) ||
        (rc = json_read_str(in, "shelf", false, 40, &shelf, e)) ||
        (rc = json_get_int(in, "donation_id", false, 1, INT64_MAX, &donation, e)) < 0)
        return rc;
    if (!one_of(kind, kinds))
        return nx_fail(e, NX_EINVAL, "kind", "馆藏类型应为 shelf（在架）或 drift（漂流）");
    if (code_in && (rc = lib_code_read(code_in, code, sizeof code, "code", e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, dcomm = 0, now = clock_now_ms(), other = 0;
    if ((rc = find_in_scope(tx, who, "books", book, "图书不存在", "book_id", &community, e)))
        goto done;
    if (donation && (rc = find_in_scope(tx, who, "library_donations", donation, "捐赠记录不存在", "donation_id", &dcomm, e)))
        goto done;
    if (donation && dcomm != community) {
        rc = nx_fail(e, NX_EINVAL, "donation_id", "捐赠记录不属于这本书所在的社区");
        goto done;
    }
    if (!code[0])
        lib_new_code(code);
    store_param cp[] = {P_TEXT(code)};
    if ((rc = store_one_int(tx, "SELECT id FROM book_copies WHERE code = $1", cp, 1, &other, e)) == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "code", "标签号 %s 已被使用", code);
        goto done;
    }
    if (rc != NX_ENOTFOUND)
        goto done;
    store_param p[] = {P_INT(community), P_INT(book), P_TEXT(code), P_TEXT(kind), P_TEXT(shelf), P_ID(donation), P_INT(now)};
    if ((rc = store_one_int(tx,
                            "INSERT INTO book_copies (community_id, book_id, code, kind, status, shelf, donation_id, "
                            "created_at, updated_at) VALUES ($1, $2, $3, $4, 'available', $5, $6, $7, $7) RETURNING id",
                            p, 7, id, e)) ||
        (rc = lib_serve_copy(tx, *id, now, NULL, e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

int library_copy_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"kind", "shelf", "status", NULL};
    static const char *const kinds[] = {"shelf", "drift", NULL};
    static const char *const statuses[] = {"available", "lost", "withdrawn", NULL};
    const char *kind = NULL, *shelf = NULL, *status = NULL;
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_read_str(in, "kind", false, 10, &kind, e)) || (rc = json_read_str(in, "shelf", false, 40, &shelf, e)) ||
        (rc = json_read_str(in, "status", false, 20, &status, e)))
        return rc;
    if (kind && !one_of(kind, kinds))
        return nx_fail(e, NX_EINVAL, "kind", "馆藏类型应为 shelf（在架）或 drift（漂流）");
    if (status && !one_of(status, statuses))
        return nx_fail(e, NX_EINVAL, "status", "状态只能改为 available、lost 或 withdrawn");
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, now = clock_now_ms();
    char *cur = NULL;
    if ((rc = find_in_scope(tx, who, "book_copies", id, "馆藏不存在", NULL, &community, e)))
        goto done;
    store_param ip[] = {P_INT(id)};
    if ((rc = store_one_text(tx, "SELECT status FROM book_copies WHERE id = $1", ip, 1, &cur, e)))
        goto done;
    bool busy = cur && (strcmp(cur, "on_loan") == 0 || strcmp(cur, "on_hold_shelf") == 0);
    if (busy && (kind || status)) {
        rc = nx_fail(e, NX_ECONFLICT, status ? "status" : "kind", "这册书已借出或在预约架上，请先归还或取消预约");
        goto done;
    }
    sqlq q;
    sqlq_init(&q, "UPDATE book_copies SET ");
    sqlq_add(&q, "updated_at = $%d", P_INT(now));
    if (kind)
        sqlq_add(&q, ", kind = $%d", P_TEXT(kind));
    if (shelf)
        sqlq_add(&q, ", shelf = $%d", P_TEXT(shelf));
    else if (json_is_null_field(in, "shelf"))
        sqlq_sql(&q, ", shelf = NULL");
    if (status)
        sqlq_add(&q, ", status = $%d", P_TEXT(status));
    sqlq_add(&q, " WHERE id = $%d", P_INT(id));
    if ((rc = sqlq_exec(tx, &q, NULL, e)))
        goto done;
    /* back on the shelf (found again, or turned into a shelf copy): the hold queue comes first */
    if (!busy && (status ? strcmp(status, "available") == 0 : (cur && strcmp(cur, "available") == 0)) &&
        (rc = lib_serve_copy(tx, id, now, NULL, e)))
        goto done;
done:
    free(cur);
    return store_finish(tx, rc, e);
}

/* ---- the label sheet ---- */

typedef struct label_rows {
    pdf_label *labels;
    char (*texts)[3][160];
    int n;
    const char *base;
} label_rows;

int library_labels(nx_app *app, const nx_principal *who, const library_filter *f, unsigned char **pdf, size_t *len,
                   nx_err *e)
{
    int rc = lib_can_manage(who, e);
    if (rc)
        return rc;
    char code[24] = "";
    if (f->q && *f->q && (rc = lib_code_read(f->q, code, sizeof code, "q", e)))
        return rc;
    sqlq q;
    copy_where(&q, "SELECT c.code, c.kind, b.title FROM book_copies c JOIN books b ON b.id = c.book_id WHERE 1 = 1",
               who, f, code);
    sqlq_add(&q, " ORDER BY c.id LIMIT $%d", P_INT(PDF_LABELS_MAX + 1));
    label_rows lr = {.labels = calloc(PDF_LABELS_MAX, sizeof(pdf_label)), .texts = calloc(PDF_LABELS_MAX, sizeof *lr.texts),
                     .base = app->cfg->public_url};
    if (!lr.labels || !lr.texts) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        goto done;
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0) {
        while (store_row(r)) {
            if (lr.n == PDF_LABELS_MAX) {
                rc = nx_fail(e, NX_ETOOBIG, "", "一次最多打印 %d 张标签，请按图书或类型分批打印", PDF_LABELS_MAX);
                break;
            }
            char(*t)[160] = lr.texts[lr.n];
            bool drift = store_text(r, 1) && strcmp(store_text(r, 1), "drift") == 0;
            const char *copy_code = store_text(r, 0) ? store_text(r, 0) : "";
            str_copy(t[0], copy_code, sizeof t[0]);
            str_copy(t[1], store_text(r, 2) ? store_text(r, 2) : "", sizeof t[1]);
            if (drift && lr.base[0]) /* from the row, not t[0]: one array may not feed its own snprintf */
                snprintf(t[2], sizeof t[2], "%s/drift/%s", lr.base, copy_code);
            else
                str_copy(t[2], t[0], sizeof t[2]);
            lr.labels[lr.n] = (pdf_label){.code = t[0], .title = t[1], .qr_text = t[2],
                                          .line = drift ? "邻里图书馆 · 图书漂流 · 扫码看旅程" : "邻里图书馆"};
            lr.n++;
        }
        int end = store_rows_end(r, e);
        if (rc == 0)
            rc = end;
    }
    store_rollback(tx);
    if (rc == 0 && lr.n == 0)
        rc = nx_fail(e, NX_ENOTFOUND, "", "没有符合条件的馆藏");
    if (rc == 0)
        rc = pdf_render_labels("图书标签", lr.labels, lr.n, pdf, len, e);
done:
    free(lr.labels);
    free(lr.texts);
    return rc;
}

/* ---- reader categories ---- */

#define CAT_COLS "k.id, k.community_id, k.name, k.loan_days, k.renewals, k.max_loans, k.max_holds, k.is_default"

static json_t *cat_row(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i name:t loan_days:i renewals:i max_loans:i max_holds:i is_default:b");
}

int library_category_list(nx_app *app, const nx_principal *who, int64_t community_id, json_t **out, nx_err *e)
{
    int rc = lib_can_manage(who, e);
    if (rc)
        return rc;
    sqlq q;
    sqlq_init(&q, "SELECT " CAT_COLS " FROM library_categories k WHERE 1 = 1");
    lib_scope_q(who, "k.", &q);
    sqlq_eq_int(&q, "k.community_id", community_id);
    sqlq_sql(&q, " ORDER BY k.community_id, k.id");
    store_page_spec s = {.max = 500, .row = cat_row};
    return store_items_read(app->db, &q, &s, out, e);
}

int library_category_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return lib_get(app, who, lib_can_manage, "SELECT " CAT_COLS " FROM library_categories k WHERE 1 = 1",
                   "k.", false, id, cat_row, "读者类别不存在", out, e);
}

typedef struct cat_in {
    const char *name;
    int64_t v[4], community_id;
    bool has[4], is_default, has_default;
} cat_in;

static const char *const cat_nums[] = {"loan_days", "renewals", "max_loans", "max_holds"};

static int cat_read(json_t *in, bool create, cat_in *c, nx_err *e)
{
    static const char *const allowed[] = {"name", "loan_days", "renewals", "max_loans", "max_holds", "is_default",
                                          "community_id", NULL};
    static const int64_t lo[] = {1, 0, 1, 0}, hi[] = {180, 10, 50, 50};
    memset(c, 0, sizeof *c);
    int rc;
    if ((rc = json_only(in, allowed, e)) || (rc = json_read_str(in, "name", create, 20, &c->name, e)))
        return rc;
    for (int i = 0; i < 4; i++) {
        if ((rc = json_get_int(in, cat_nums[i], create, lo[i], hi[i], &c->v[i], e)) < 0)
            return rc;
        c->has[i] = rc == 0;
    }
    if ((rc = json_get_bool(in, "is_default", false, &c->is_default, e)) < 0)
        return rc;
    c->has_default = rc == 0;
    if (create && (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &c->community_id, e)) < 0)
        return rc;
    if (!create && json_object_get(in, "community_id"))
        return nx_fail(e, NX_EINVAL, "community_id", "读者类别所属社区不能修改");
    return 0;
}

/* NX_ECONFLICT (field "name") when community has another category called name. */
static int cat_name_free(store_tx *tx, int64_t community, const char *name, int64_t self, nx_err *e)
{
    if (!name)
        return 0;
    store_param p[] = {P_INT(community), P_TEXT(name), P_INT(self)};
    int64_t other;
    int rc = store_one_int(tx, "SELECT id FROM library_categories WHERE community_id = $1 AND name = $2 AND id <> $3",
                           p, 3, &other, e);
    if (rc == 0)
        return nx_fail(e, NX_ECONFLICT, "name", "已有同名的读者类别");
    return rc == NX_ENOTFOUND ? 0 : rc;
}

static int cat_clear_default(store_tx *tx, int64_t community, int64_t self, nx_err *e)
{
    store_param p[] = {P_INT(community), P_INT(self)};
    return store_exec(tx, "UPDATE library_categories SET is_default = 0 WHERE community_id = $1 AND id <> $2", p, 2,
                      NULL, e);
}

int library_category_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    cat_in c;
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = cat_read(in, true, &c, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, now = clock_now_ms();
    if ((rc = lib_target_community(tx, who, c.community_id, &community, e)) ||
        (rc = cat_name_free(tx, community, c.name, 0, e)))
        goto done;
    store_param p[] = {P_INT(community), P_TEXT(c.name), P_INT(c.v[0]), P_INT(c.v[1]),
                       P_INT(c.v[2]),    P_INT(c.v[3]),  P_INT(c.is_default), P_INT(now)};
    if ((rc = store_one_int(tx,
                            "INSERT INTO library_categories (community_id, name, loan_days, renewals, max_loans, max_holds, "
                            "is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                            p, 8, id, e)) ||
        (c.is_default && (rc = cat_clear_default(tx, community, *id, e))))
        goto done;
done:
    return store_finish(tx, rc, e);
}

int library_category_update(nx_app *app, const nx_principal *who, int64_t id, json_t *in, nx_err *e)
{
    cat_in c;
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = cat_read(in, false, &c, e)))
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0;
    if ((rc = find_in_scope(tx, who, "library_categories", id, "读者类别不存在", NULL, &community, e)) ||
        (rc = cat_name_free(tx, community, c.name, id, e)))
        goto done;
    sqlq q;
    sqlq_init(&q, "UPDATE library_categories SET ");
    sqlq_add(&q, "updated_at = $%d", P_INT(clock_now_ms()));
    if (c.name)
        sqlq_add(&q, ", name = $%d", P_TEXT(c.name));
    for (int i = 0; i < 4; i++)
        if (c.has[i])
            sqlq_sql(&q, ", %s = $%d", cat_nums[i], sqlq_param(&q, P_INT(c.v[i])));
    if (c.has_default)
        sqlq_add(&q, ", is_default = $%d", P_INT(c.is_default));
    sqlq_add(&q, " WHERE id = $%d", P_INT(id));
    if ((rc = sqlq_exec(tx, &q, NULL, e)) || (c.has_default && c.is_default && (rc = cat_clear_default(tx, community, id, e))))
        goto done;
done:
    return store_finish(tx, rc, e);
}

/* ---- readers ---- */

int library_reader_get(nx_app *app, const nx_principal *who, int64_t resident_id, json_t **out, nx_err *e)
{
    int rc = lib_can_read(who, e);
    if (rc)
        return rc;
    int64_t now = clock_now_ms();
    sqlq q;
    sqlq_init(&q, "SELECT r.id, r.community_id, r.name, k.id, k.name, k.loan_days, k.renewals, k.max_loans, k.max_holds, "
                  "(SELECT COUNT(*) FROM book_loans l WHERE l.resident_id = r.id AND l.returned_at IS NULL), ");
    sqlq_add(&q, "(SELECT COUNT(*) FROM book_loans l WHERE l.resident_id = r.id AND l.returned_at IS NULL AND l.due_at < $%d), ",
             P_INT(now));
    sqlq_sql(&q, "(SELECT COUNT(*) FROM book_holds h WHERE h.resident_id = r.id AND h.status IN ('waiting', 'ready')), "
                 "COALESCE(rd.blocked_until, 0) FROM residents r LEFT JOIN library_readers rd ON rd.resident_id = r.id "
                 "LEFT JOIN library_categories k ON k.id = rd.category_id WHERE 1 = 1");
    sqlq_add(&q, " AND r.id = $%d", P_INT(resident_id));
    perm_scope_q(who, "r.", "id", &q);
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    store_rows *r;
    if ((rc = sqlq_query(tx, &q, &r, e)) == 0) {
        if ((rc = store_first(r, "读者不存在", e)) == 0) {
            json_t *o = store_json_row(r, "resident_id:i community_id:i name:t category_id:i category_name:t loan_days:i "
                                          "renewals:i max_loans:i max_holds:i open_loans:i overdue_loans:i active_holds:i");
            int64_t overdue = store_int(r, 10), until = store_int(r, 12);
            if (!o) {
                rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
            } else {
                const char *reason = overdue > 0 ? "有逾期未还的图书" : until > now ? "逾期归还，暂停借阅" : NULL;
                json_object_set_new(o, "blocked", json_boolean(reason != NULL));
                json_object_set_new(o, "blocked_until", until > now ? store_json_time(r, 12) : json_null());
                json_object_set_new(o, "block_reason", reason ? json_string(reason) : json_null());
                *out = o;
            }
        }
        store_rows_free(r);
    }
    store_rollback(tx);
    return rc;
}

int library_reader_update(nx_app *app, const nx_principal *who, int64_t resident_id, json_t *in, nx_err *e)
{
    static const char *const allowed[] = {"category_id", "unblock", NULL};
    int64_t category = 0;
    bool unblock = false;
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "category_id", false, 1, INT64_MAX, &category, e)) < 0 ||
        (rc = json_get_bool(in, "unblock", false, &unblock, e)) < 0)
        return rc;
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t now = clock_now_ms();
    lib_reader rd;
    rc = lib_reader_load(tx, who, resident_id, "resident_id", now, &rd, e);
    if (rc == NX_EINVAL) /* the path names the reader: an unknown one is "not found" */
        rc = nx_fail(e, NX_ENOTFOUND, "", "%s", e->msg);
    if (rc)
        goto done;
    if (category) {
        int64_t ccomm = 0;
        store_param cp[] = {P_INT(category)};
        rc = store_one_int(tx, "SELECT community_id FROM library_categories WHERE id = $1", cp, 1, &ccomm, e);
        if (rc == NX_ENOTFOUND || (rc == 0 && ccomm != rd.community_id)) {
            rc = nx_fail(e, NX_EINVAL, "category_id", "读者类别不存在或不属于该读者的社区");
            goto done;
        }
        if (rc)
            goto done;
        store_param p[] = {P_INT(category), P_INT(now), P_INT(resident_id)};
        if ((rc = store_exec(tx, "UPDATE library_readers SET category_id = $1, updated_at = $2 WHERE resident_id = $3",
                             p, 3, NULL, e)))
            goto done;
    }
    if (unblock) {
        store_param p[] = {P_INT(now), P_INT(resident_id)};
        if ((rc = store_exec(tx, "UPDATE library_readers SET blocked_until = 0, updated_at = $1 WHERE resident_id = $2",
                             p, 2, NULL, e)))
            goto done;
    }
    if ((category || unblock) &&
        (rc = audit_write_new(tx, who, unblock ? "unblock" : "update", "library_reader", resident_id, rd.community_id,
                              json_pack("{s:b, s:b}", "category", category != 0, "unblock", unblock), e)))
        goto done;
done:
    return store_finish(tx, rc, e);
}

/* ---- donations ---- */

#define DON_COLS                                                                                                     \
    "d.id, d.community_id, d.donor_resident_id, r.name, d.donor_label, d.books, d.note, d.received_on, d.created_at " \
    "FROM library_donations d LEFT JOIN residents r ON r.id = d.donor_resident_id WHERE 1 = 1"

static json_t *don_row(store_rows *r)
{
    return store_json_row(r, "id:i community_id:i donor_resident_id:i donor_name:t donor_label:t books:i note:t "
                             "received_on:t created_at:d");
}

int library_donation_list(nx_app *app, const nx_principal *who, const library_filter *f, json_t **out, nx_err *e)
{
    int rc = lib_can_manage(who, e);
    if (rc)
        return rc;
    sqlq q, count;
    sqlq_init(&q, "SELECT " DON_COLS);
    sqlq_init(&count, "SELECT COUNT(*) FROM library_donations d WHERE 1 = 1");
    lib_scope_q(who, "d.", &q);
    lib_scope_q(who, "d.", &count);
    sqlq_eq_int(&q, "d.community_id", f->community_id);
    sqlq_eq_int(&count, "d.community_id", f->community_id);
    return lib_page(app, &q, &count, "d.", false, f, don_row, out, e);
}

int library_donation_get(nx_app *app, const nx_principal *who, int64_t id, json_t **out, nx_err *e)
{
    return lib_get(app, who, lib_can_manage, "SELECT " DON_COLS, "d.", false, id, don_row, "捐赠记录不存在",
                   out, e);
}

int library_donation_create(nx_app *app, const nx_principal *who, json_t *in, int64_t *id, nx_err *e)
{
    static const char *const allowed[] = {"donor_resident_id", "donor_label", "books", "note", "received_on",
                                          "community_id", NULL};
    int64_t donor = 0, books = 0, given = 0;
    const char *label = NULL, *note = NULL, *on = NULL;
    int rc;
    if ((rc = lib_can_manage(who, e)) || (rc = json_only(in, allowed, e)) ||
        (rc = json_get_int(in, "donor_resident_id", false, 1, INT64_MAX, &donor, e)) < 0 ||
        (rc = json_read_str(in, "donor_label", false, 50, &label, e)) ||
        (rc = json_get_int(in, "books", false, 0, 100000, &books, e)) < 0 ||
        (rc = json_read_str(in, "note", false, 200, &note, e)) || (rc = json_read_date(in, "received_on", false, &on, e)) ||
        (rc = json_get_int(in, "community_id", false, 1, INT64_MAX, &given, e)) < 0)
        return rc;
    if (!donor && !label)
        return nx_fail(e, NX_EINVAL, "donor_label", "请填写捐赠人（居民或单位名称）");
    char today[11];
    if (!on) {
        date_format(date_today(), today);
        on = today;
    }
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t community = 0, now = clock_now_ms();
    if (donor) {
        sqlq q;
        sqlq_init(&q, "SELECT r.community_id FROM residents r WHERE 1 = 1");
        sqlq_add(&q, " AND r.id = $%d", P_INT(donor));
        perm_scope_q(who, "r.", "id", &q);
        rc = sqlq_one_int(tx, &q, &community, e);
        if (rc == NX_ENOTFOUND)
            rc = nx_fail(e, NX_EINVAL, "donor_resident_id", "捐赠的居民不存在");
        if (rc)
            goto done;
        if (given && given != community) {
            rc = nx_fail(e, NX_EINVAL, "community_id", "捐赠的居民不属于这个社区");
            goto done;
        }
    } else if ((rc = lib_target_community(tx, who, given, &community, e))) {
        goto done;
    }
    store_param p[] = {P_INT(community), P_ID(donor), P_TEXT(label), P_INT(books), P_TEXT(note), P_TEXT(on),
                       P_ID(who->user_id), P_INT(now)};
    rc = app_insert(tx, "library_donations",
                    "community_id, donor_resident_id, donor_label, books, note, received_on, created_by, "
                    "created_at",
                    p, 8, id, e);
done:
    return store_finish(tx, rc, e);
}

/* ---- figures ---- */

/* Local midnight of now_ms's day, or of the first day of its month. */
static int64_t local_start(int64_t now_ms, bool month)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (month)
        tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm) * 1000;
}

int library_stats(nx_app *app, const nx_principal *who, int64_t community_id, int64_t now_ms, json_t **out, nx_err *e)
{
    int rc = lib_can_manage(who, e);
    if (rc)
        return rc;
    static const struct {
        const char *key, *sql;
        int with; /* 0: no time parameter; 1: now; 2: the month's start; 3: blocked at now; 4: the day's start */
    } figures[] = {
        {"books", "SELECT COUNT(*) FROM books x WHERE 1 = 1", 0},
        {"copies", "SELECT COUNT(*) FROM book_copies x WHERE x.status NOT IN ('lost', 'withdrawn')", 0},
        {"drifting", "SELECT COUNT(*) FROM book_copies x WHERE x.kind = 'drift' AND x.status NOT IN ('lost', 'withdrawn')", 0},
        {"loans_today", "SELECT COUNT(*) FROM book_loans x WHERE 1 = 1", 4},
        {"loans_this_month", "SELECT COUNT(*) FROM book_loans x WHERE 1 = 1", 2},
        {"open_loans", "SELECT COUNT(*) FROM book_loans x WHERE x.returned_at IS NULL", 0},
        {"overdue_loans", "SELECT COUNT(*) FROM book_loans x WHERE x.returned_at IS NULL", 1},
        {"holds_waiting", "SELECT COUNT(*) FROM book_holds x WHERE x.status = 'waiting'", 0},
        {"holds_ready", "SELECT COUNT(*) FROM book_holds x WHERE x.status = 'ready'", 0},
        {"readers_blocked", "SELECT COUNT(*) FROM library_readers x WHERE 1 = 1", 3},
    };
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_READ, &tx, e)))
        return rc;
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof figures / sizeof figures[0] && rc == 0; i++) {
        sqlq q;
        sqlq_init(&q, figures[i].sql);
        lib_scope_q(who, "x.", &q);
        sqlq_eq_int(&q, "x.community_id", community_id);
        if (figures[i].with == 1)
            sqlq_add(&q, " AND x.due_at < $%d", P_INT(now_ms));
        else if (figures[i].with == 2 || figures[i].with == 4)
            sqlq_add(&q, " AND x.out_at >= $%d", P_INT(local_start(now_ms, figures[i].with == 2)));
        else if (figures[i].with == 3) {
            int k = sqlq_param(&q, P_INT(now_ms));
            sqlq_sql(&q, " AND (x.blocked_until > $%d OR EXISTS (SELECT 1 FROM book_loans l WHERE l.resident_id = "
                         "x.resident_id AND l.returned_at IS NULL AND l.due_at < $%d))",
                     k, sqlq_param(&q, P_INT(now_ms)));
        }
        int64_t n = 0;
        if ((rc = sqlq_one_int(tx, &q, &n, e)) == 0)
            json_object_set_new(o, figures[i].key, json_integer(n));
    }
    return store_read_finish(tx, rc, o, out);
}

/* ---- the public drift page ---- */

/* The journey shows the most recent 100 stops; "stops" counts them all. */
int library_drift(nx_app *app, const char *code_in, json_t **out, nx_err *e)
{
    char code[24];
    nx_err ignored;
    if (!code_in || lib_code_read(code_in, code, sizeof code, "code", &ignored))
        return nx_fail(e, NX_ENOTFOUND, "", "没有这个漂流书标签");
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    json_t *o = NULL, *journey = NULL;
    store_rows *r = NULL;
    int64_t copy = 0;
    store_param p[] = {P_TEXT(code)};
    if ((rc = store_query_first(
             tx,
             "SELECT c.id, c.code, b.title, b.author, c.status, rd.name, d.donor_label, d.received_on, "
             "(SELECT COUNT(*) FROM book_loans l WHERE l.copy_id = c.id) "
             "FROM book_copies c JOIN books b ON b.id = c.book_id "
             "LEFT JOIN library_donations d ON d.id = c.donation_id "
             "LEFT JOIN residents rd ON rd.id = d.donor_resident_id "
             "WHERE c.code = $1 AND c.kind = 'drift'",
             p, 1, "没有这个漂流书标签", &r, e)))
        goto done;
    copy = store_int(r, 0);
    o = store_json_row(r, "- code:t title:t author:t status:t");
    if (!o) {
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto done;
    }
    lib_set_status_label(o, lib_copy_status_label(store_text(r, 4)));
    char who[64];
    if (store_text(r, 5)) {
        library_drift_name(store_text(r, 5), who, sizeof who);
        json_object_set_new(o, "donated_by", json_string(who));
    } else {
        json_object_set_new(o, "donated_by", store_json_text(r, 6));
    }
    json_object_set_new(o, "donated_on", store_json_text(r, 7));
    json_object_set_new(o, "stops", store_json_int(r, 8));
    store_rows_free(r);
    r = NULL;
    store_param jp[] = {P_INT(copy)};
    if ((rc = store_query(tx,
                          "SELECT x.name, x.out_at, x.returned_at FROM (SELECT r.name, l.id, l.out_at, l.returned_at "
                          "FROM book_loans l JOIN residents r ON r.id = l.resident_id WHERE l.copy_id = $1 "
                          "ORDER BY l.id DESC LIMIT 100) x ORDER BY x.id",
                          jp, 1, &r, e)))
        goto done;
    journey = json_array();
    while (store_row(r)) {
        char from[11], to[11];
        library_drift_name(store_text(r, 0), who, sizeof who);
        lib_day(store_int(r, 1), from);
        if (!store_isnull(r, 2))
            lib_day(store_int(r, 2), to);
        json_array_append_new(journey, json_pack("{s:s, s:s, s:o}", "holder", who, "from", from, "to",
                                                 store_isnull(r, 2) ? json_null() : json_string(to)));
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;
    json_object_set_new(o, "journey", journey);
    journey = NULL;
    *out = o;
    o = NULL;
done:
    store_rows_free(r);
    json_decref(journey);
    json_decref(o);
    store_rollback(tx);
    return rc;
}
