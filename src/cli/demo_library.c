/* demo_library.c — the demo community's neighbourhood library (see demo_library.h).
 *
 * Titles come from a short list of well-known books and from topic × form patterns ("太极拳图解",
 * "智能手机入门" …) that a community reading room really holds; their ISBN-13s are made up but
 * valid (978-7-50 + a serial + the check digit), so the desk's check-digit validation accepts them.
 * Each copy's history is written backwards from now: maybe a loan still out (sometimes overdue, which
 * blocks its reader), then earlier loans separated by gaps, so no copy is ever on two loans at once
 * (the database's unique index would refuse it anyway). Rows are inserted directly, in one write
 * transaction: this is history, not actions, so no events are emitted (the library ticker emits the
 * overdue events at its first run). Random choices come from one xorshift stream seeded by the demo
 * seed. */
#include "cli/demo_library.h"

#include "base/clock.h"
#include "base/str.h"
#include "modules/library/library.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS LIBRARY_DAY_MS
#define MAX_READERS 80

typedef struct dlib {
    store_tx *tx;
    uint64_t rng;
    int64_t community, now;
    int64_t cat_default, cat_elder, cat_child;
    int64_t readers[MAX_READERS], reader_grid[MAX_READERS];
    int nreaders;
    int books, copies, drifting, loans;
} dlib;

static unsigned pick(dlib *d, unsigned n)
{
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return n ? (unsigned)(d->rng % n) : 0;
}

static const char *const classics[][2] = {
    {"红楼梦", "曹雪芹"},     {"西游记", "吴承恩"},       {"水浒传", "施耐庵"},     {"三国演义", "罗贯中"},
    {"呐喊", "鲁迅"},         {"朝花夕拾", "鲁迅"},       {"骆驼祥子", "老舍"},     {"茶馆", "老舍"},
    {"四世同堂", "老舍"},     {"边城", "沈从文"},         {"家", "巴金"},           {"围城", "钱锺书"},
    {"平凡的世界", "路遥"},   {"人生", "路遥"},           {"活着", "余华"},         {"白鹿原", "陈忠实"},
    {"城南旧事", "林海音"},   {"子夜", "茅盾"},           {"雷雨", "曹禺"},         {"繁星·春水", "冰心"},
    {"唐诗三百首", "蘅塘退士"}, {"宋词三百首", "上彊村民"}, {"论语译注", "杨伯峻"},   {"史记选", "司马迁"},
    {"人间词话", "王国维"},   {"浮生六记", "沈复"},       {"小王子", "圣埃克苏佩里"}, {"安徒生童话", "安徒生"},
    {"格林童话", "格林兄弟"}, {"十万个为什么", "编写组"}, {"草房子", "曹文轩"},     {"稻草人", "叶圣陶"},
};
static const char *const topics[] = {"太极拳", "八段锦", "家常菜", "书法", "国画", "园艺花卉", "中医养生",
                                     "智能手机", "防诈骗", "老年营养", "育儿", "象棋", "围棋", "剪纸",
                                     "本地历史", "广场舞", "摄影", "急救常识", "家庭理财", "英语口语"};
static const char *const forms[] = {"入门", "图解", "百问百答", "实用手册", "故事集", "（大字版）"};

/* A made-up but valid ISBN-13: 978750 + a six-digit serial + the check digit. */
static void isbn_for(int serial, char out[14])
{
    snprintf(out, 14, "978750%06d", serial % 1000000);
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (out[i] - '0') * (i % 2 ? 3 : 1);
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = '\0';
}

static void code_for(dlib *d, char out[9])
{
    static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    for (int i = 0; i < 8; i++)
        out[i] = alphabet[pick(d, (unsigned)(sizeof alphabet - 1))];
    out[8] = '\0';
}

static int category(dlib *d, const char *name, int days, int renewals, int loans, int holds, int is_default,
                    int64_t *id, nx_err *e)
{
    store_param p[] = {P_INT(d->community), P_TEXT(name), P_INT(days), P_INT(renewals), P_INT(loans), P_INT(holds),
                       P_INT(is_default), P_INT(d->now)};
    return store_one_int(d->tx,
                         "INSERT INTO library_categories (community_id, name, loan_days, renewals, max_loans, max_holds, "
                         "is_default, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                         p, 8, id, e);
}

/* Readers: the demo resident first, then active residents spread over the community; each gets a
 * reader row with the category of their age. */
static int readers(dlib *d, int64_t self_resident, nx_err *e)
{
    char y60[11], y14[11];
    date_format(date_from_days(date_to_days(date_today()) - 60 * 366), y60);
    date_format(date_from_days(date_to_days(date_today()) - 14 * 366), y14);
    store_param p[] = {P_INT(d->community), P_INT(self_resident)};
    store_rows *r;
    int rc = store_query(d->tx,
                         "SELECT id, grid_id, birth_date FROM residents WHERE community_id = $1 AND status = 'active' "
                         "ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END, id",
                         p, 2, &r, e);
    if (rc)
        return rc;
    int64_t cand[MAX_READERS * 4], grid[MAX_READERS * 4];
    char born[MAX_READERS * 4][11];
    int n = 0, seen = 0;
    while (store_row(r)) {
        /* the first row is the demo resident; then about every fifth resident, up to the cap */
        if (n < MAX_READERS * 4 && (seen == 0 || pick(d, 5) == 0)) {
            cand[n] = store_int(r, 0);
            grid[n] = store_int(r, 1);
            str_copy(born[n], store_text(r, 2) ? store_text(r, 2) : "1970-01-01", sizeof born[n]);
            n++;
        }
        seen++;
    }
    if ((rc = store_rows_end(r, e)))
        return rc;
    for (int i = 0; i < n && d->nreaders < MAX_READERS; i++) {
        int64_t cat = strcmp(born[i], y60) <= 0 ? d->cat_elder : strcmp(born[i], y14) > 0 ? d->cat_child : d->cat_default;
        store_param rp[] = {P_INT(cand[i]), P_INT(d->community), P_ID(grid[i]), P_INT(cat), P_INT(d->now)};
        if ((rc = store_exec(d->tx,
                             "INSERT INTO library_readers (resident_id, community_id, grid_id, category_id, blocked_until, "
                             "created_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $5)",
                             rp, 5, NULL, e)))
            return rc;
        d->readers[d->nreaders] = cand[i];
        d->reader_grid[d->nreaders] = grid[i];
        d->nreaders++;
    }
    return 0;
}

static int loan(dlib *d, int64_t copy, int64_t book, int who, int64_t out_at, int64_t due, int64_t back, nx_err *e)
{
    store_param p[] = {P_INT(d->community), P_ID(d->reader_grid[who]), P_INT(copy), P_INT(book),
                       P_INT(d->readers[who]), P_INT(out_at), P_INT(due), back ? P_INT(back) : P_NULL};
    int rc = store_exec(d->tx,
                        "INSERT INTO book_loans (community_id, grid_id, copy_id, book_id, resident_id, out_at, due_at, "
                        "renewals, returned_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
                        p, 8, NULL, e);
    if (rc == 0)
        d->loans++;
    return rc;
}

/* One copy and its history. out: whether it is on loan now. */
static int copy(dlib *d, int64_t book, const char *kind, int64_t donation, bool *out, nx_err *e)
{
    char code[9];
    code_for(d, code);
    int64_t id = 0;
    int64_t made = d->now - (int64_t)(200 + pick(d, 400)) * DAY_MS;
    store_param p[] = {P_INT(d->community), P_INT(book), P_TEXT(code), P_TEXT(kind), P_ID(donation), P_INT(made)};
    int rc = store_one_int(d->tx,
                           "INSERT INTO book_copies (community_id, book_id, code, kind, status, shelf, donation_id, "
                           "created_at, updated_at) VALUES ($1, $2, $3, $4, 'available', NULL, $5, $6, $6) RETURNING id",
                           p, 6, &id, e);
    if (rc)
        return rc;
    d->copies++;
    *out = false;
    /* walking back from now: a loan still out for a quarter of the copies (one in six of those overdue) */
    int64_t t = d->now - (int64_t)pick(d, 6) * DAY_MS;
    bool drift = strcmp(kind, "drift") == 0;
    if (d->nreaders > 0 && pick(d, 4) == 0) {
        int64_t ago = pick(d, 6) == 0 ? 32 + pick(d, 12) : 1 + pick(d, 24);
        int64_t o = d->now - ago * DAY_MS - (int64_t)pick(d, 36000) * 1000;
        if ((rc = loan(d, id, book, (int)pick(d, (unsigned)d->nreaders), o, o + 30 * DAY_MS, 0, e)))
            return rc;
        *out = true;
        t = o - (int64_t)(2 + pick(d, 10)) * DAY_MS;
    }
    /* earlier loans, returned; drifting copies travel more */
    int stops = (int)pick(d, drift ? 5 : 3);
    for (int i = 0; i < stops && d->nreaders > 0; i++) {
        int64_t len = (int64_t)(7 + pick(d, 25)) * DAY_MS;
        int64_t back = t - (int64_t)pick(d, 36000) * 1000;
        int64_t o = back - len;
        if (o < made)
            break;
        if ((rc = loan(d, id, book, (int)pick(d, (unsigned)d->nreaders), o, o + 30 * DAY_MS, back, e)))
            return rc;
        t = o - (int64_t)(3 + pick(d, 20)) * DAY_MS;
    }
    if (*out) {
        store_param s[] = {P_INT(id)};
        rc = store_exec(d->tx, "UPDATE book_copies SET status = 'on_loan' WHERE id = $1", s, 1, NULL, e);
    }
    return rc;
}

static int book(dlib *d, const char *title, const char *author, const char *subject, const char *audience,
                bool large, bool with_isbn, int serial, int64_t *id, nx_err *e)
{
    char isbn[14];
    isbn_for(serial, isbn);
    store_param p[] = {P_INT(d->community), P_TEXT(with_isbn ? isbn : NULL), P_TEXT(title), P_TEXT(author),
                       P_TEXT(subject), P_TEXT(audience), P_INT(large), P_INT(d->now - 400 * DAY_MS)};
    int rc = store_one_int(d->tx,
                           "INSERT INTO books (community_id, isbn, title, author, publisher, year, subject, audience, "
                           "large_print, created_at, updated_at) VALUES ($1, $2, $3, $4, NULL, NULL, $5, $6, $7, $8, $8) "
                           "RETURNING id",
                           p, 8, id, e);
    if (rc == 0)
        d->books++;
    return rc;
}

static int donation(dlib *d, int64_t resident, const char *label, int books, int days_ago, int64_t *id, nx_err *e)
{
    char on[11];
    date_format(date_from_days(date_to_days(date_today()) - days_ago), on);
    store_param p[] = {P_INT(d->community), P_ID(resident), P_TEXT(label), P_INT(books), P_TEXT(on), P_INT(d->now)};
    return store_one_int(d->tx,
                         "INSERT INTO library_donations (community_id, donor_resident_id, donor_label, books, note, "
                         "received_on, created_at) VALUES ($1, $2, $3, $4, '捐给图书漂流', $5, $6) RETURNING id",
                         p, 6, id, e);
}

/* The demo resident's own loans and a hold; a hold queue and one copy on the hold shelf. */
static int self_and_holds(dlib *d, nx_err *e)
{
    if (d->nreaders < 4)
        return 0;
    /* two copies on the shelf go to the demo resident (readers[0]): one due in a few days */
    store_param cp[] = {P_INT(d->community)};
    store_rows *r;
    int rc = store_query(d->tx,
                         "SELECT id, book_id FROM book_copies WHERE community_id = $1 AND kind = 'shelf' "
                         "AND status = 'available' ORDER BY id LIMIT 3",
                         cp, 1, &r, e);
    if (rc)
        return rc;
    int64_t ids[3] = {0}, books[3] = {0};
    int n = 0;
    while (n < 3 && store_row(r)) {
        ids[n] = store_int(r, 0);
        books[n] = store_int(r, 1);
        n++;
    }
    if ((rc = store_rows_end(r, e)) || n < 3)
        return rc;
    int64_t o1 = d->now - 27 * DAY_MS, o2 = d->now - 5 * DAY_MS;
    if ((rc = loan(d, ids[0], books[0], 0, o1, o1 + 30 * DAY_MS, 0, e)) ||
        (rc = loan(d, ids[1], books[1], 0, o2, o2 + 30 * DAY_MS, 0, e)))
        return rc;
    store_param s[] = {P_INT(ids[0]), P_INT(ids[1])};
    if ((rc = store_exec(d->tx, "UPDATE book_copies SET status = 'on_loan' WHERE id IN ($1, $2)", s, 2, NULL, e)))
        return rc;
    /* the third copy waits on the hold shelf for reader 1; the demo resident and reader 2 queue for the
     * first title of a book whose copies are all out */
    int64_t pickup = d->now + 2 * DAY_MS;
    store_param h[] = {P_INT(d->community), P_ID(d->reader_grid[1]), P_INT(books[2]), P_INT(d->readers[1]),
                       P_INT(ids[2]), P_INT(d->now - DAY_MS), P_INT(pickup)};
    if ((rc = store_exec(d->tx,
                         "INSERT INTO book_holds (community_id, grid_id, book_id, resident_id, status, copy_id, placed_at, "
                         "ready_at, pickup_by) VALUES ($1, $2, $3, $4, 'ready', $5, $6, $6, $7)",
                         h, 7, NULL, e)))
        return rc;
    store_param s3[] = {P_INT(ids[2])};
    if ((rc = store_exec(d->tx, "UPDATE book_copies SET status = 'on_hold_shelf' WHERE id = $1", s3, 1, NULL, e)))
        return rc;
    int64_t busy = 0;
    rc = store_one_int(d->tx,
                       "SELECT b.id FROM books b WHERE b.community_id = $1 AND NOT EXISTS (SELECT 1 FROM book_copies c "
                       "WHERE c.book_id = b.id AND c.status <> 'on_loan') AND EXISTS (SELECT 1 FROM book_copies c "
                       "WHERE c.book_id = b.id AND c.kind = 'shelf') ORDER BY b.id LIMIT 1",
                       cp, 1, &busy, e);
    if (rc == NX_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    for (int i = 2; i >= 0; i -= 2) { /* reader 2 first, then the demo resident: "you are number 2" */
        store_param w[] = {P_INT(d->community), P_ID(d->reader_grid[i]), P_INT(busy), P_INT(d->readers[i]),
                           P_INT(d->now - (int64_t)(3 - i) * DAY_MS)};
        rc = store_exec(d->tx,
                        "INSERT INTO book_holds (community_id, grid_id, book_id, resident_id, status, placed_at) "
                        "SELECT $1, $2, $3, $4, 'waiting', $5 WHERE NOT EXISTS (SELECT 1 FROM book_loans l "
                        "WHERE l.book_id = $3 AND l.resident_id = $4 AND l.returned_at IS NULL)",
                        w, 5, NULL, e);
        if (rc)
            return rc;
    }
    return 0;
}

int demo_library_fill(nx_app *app, int64_t community, int64_t self_resident, unsigned seed, json_t *summary,
                      nx_err *e)
{
    dlib d = {.rng = 0x2545F4914F6CDD1Dull ^ ((uint64_t)seed << 1 | 1), .community = community, .now = clock_now_ms()};
    int rc = store_begin(app->db, STORE_WRITE, &d.tx, e);
    if (rc)
        return rc;
    if ((rc = category(&d, "普通读者", 30, 1, 5, 3, 1, &d.cat_default, e)) ||
        (rc = category(&d, "长者", 45, 2, 5, 3, 0, &d.cat_elder, e)) ||
        (rc = category(&d, "少儿", 21, 1, 3, 2, 0, &d.cat_child, e)) || (rc = readers(&d, self_resident, e)))
        goto fail;
    int64_t donations[6];
    static const char *const units[] = {"幸福小学", "街道文化站", "新华书店（公益）"};
    for (int i = 0; i < 6; i++) {
        int64_t donor = i < 3 && d.nreaders > 5 ? d.readers[3 + i] : 0;
        if ((rc = donation(&d, donor, donor ? NULL : units[i - 3 < 0 ? 0 : i - 3], 10 + (int)pick(&d, 40),
                           20 + (int)pick(&d, 300), &donations[i], e)))
            goto fail;
    }
    int serial = 1;
    size_t nclassics = sizeof classics / sizeof classics[0];
    size_t ntopics = sizeof topics / sizeof topics[0], nforms = sizeof forms / sizeof forms[0];
    /* the classics, then topic × form: 32 + 20 × 6 = 152 titles, each topic in two volumes for the
     * popular forms — about three hundred in all */
    for (size_t i = 0; i < nclassics + ntopics * nforms * 2; i++) {
        char title[96];
        const char *author, *subject, *audience = "all";
        bool large = false;
        if (i < nclassics) {
            str_copy(title, classics[i][0], sizeof title);
            author = classics[i][1];
            subject = i >= 26 ? "少儿读物" : "文学";
            audience = i >= 26 ? "children" : "all";
        } else {
            size_t k = i - nclassics, t = (k / 2) % ntopics, f = (k / 2) / ntopics;
            if (k % 2)
                snprintf(title, sizeof title, "%s%s（下册）", topics[t], forms[f]);
            else
                snprintf(title, sizeof title, "%s%s", topics[t], forms[f]);
            author = "社区读书会";
            subject = topics[t];
            large = f == 5;
            audience = large || t < 2 ? "elders" : t == 10 ? "children" : "all";
        }
        int64_t b = 0;
        bool on_loan;
        if ((rc = book(&d, title, author, subject, audience, large, pick(&d, 10) != 0, serial++, &b, e)))
            goto fail;
        int shelf = 1 + (pick(&d, 3) == 0);
        for (int c = 0; c < shelf; c++)
            if ((rc = copy(&d, b, "shelf", 0, &on_loan, e)))
                goto fail;
        if (pick(&d, 5) == 0) {
            if ((rc = copy(&d, b, "drift", donations[pick(&d, 6)], &on_loan, e)))
                goto fail;
            d.drifting++;
        }
    }
    if ((rc = self_and_holds(&d, e)) || (rc = store_commit(d.tx, e)))
        return rc;
    json_object_set_new(summary, "books", json_integer(d.books));
    json_object_set_new(summary, "book_copies", json_integer(d.copies));
    json_object_set_new(summary, "drifting_copies", json_integer(d.drifting));
    json_object_set_new(summary, "book_loans", json_integer(d.loans));
    return 0;
fail:
    store_rollback(d.tx);
    return rc;
}
