/* thanks.c — the community's thanks letter (感谢信) to a partner unit: what the unit delivered in one
 * year, as a printable PDF (report/pdf.c, like the other documents).
 *
 * The figures are read from the sessions at the time of printing, never typed: per service of the
 * unit, the sessions of that year (Shanghai calendar) that have ended ("held"), the residents served
 * (bookings of those sessions marked attended) and the no-shows; then the totals. Services with no
 * session held that year are left out; a year with none at all is NX_ECONFLICT (nothing to thank
 * for), not an empty letter. The serial number is "GX<year>-<partner id>", so a second print of the
 * same year is the same letter with the figures of the day.
 *
 * No verification QR code: the letter holds no personal data and certifies nothing about a person;
 * the service hall's /verify codes are bound to its own documents (service_documents). */
#include "modules/volunteers/volunteers_internal.h"

#include "base/clock.h"
#include "report/pdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THANKS_ROWS_MAX 40 /* service rows printed (a unit has a handful) */

static const char *kind_label(const char *k)
{
    return !k ? "" : strcmp(k, "clinic") == 0 ? "义诊" : strcmp(k, "haircut") == 0 ? "爱心理发" : "其他服务";
}

int volunteers_partner_thanks(nx_app *app, const nx_principal *who, int64_t id, int year, unsigned char **pdf,
                              size_t *len, nx_err *e)
{
    *pdf = NULL;
    *len = 0;
    if (!perm_has(who, RIGHT_VOLUNTEER_MANAGE) && !vol_oversees(who))
        return nx_fail(e, NX_EPERM, "", "无权出具感谢信");
    if (year < 2000 || year > 2999)
        return nx_fail(e, NX_EINVAL, "year", "年份应为四位数字，如 2026");
    int64_t from = date_to_days((nx_date){year, 1, 1}) * 86400000LL - NX_TZ_OFFSET_MS;
    int64_t until = date_to_days((nx_date){year + 1, 1, 1}) * 86400000LL - NX_TZ_OFFSET_MS;
    int64_t now = clock_now_ms();
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r = NULL;
    char partner[200] = "", community[200] = "";
    sqlq q;
    sqlq_init(&q, "SELECT p.name, c.name FROM partners p JOIN communities c ON c.id = p.community_id WHERE 1 = 1");
    sqlq_add(&q, " AND p.id = $%d", P_INT(id));
    vol_scope(&q, who, "p.");
    if ((rc = sqlq_query(tx, &q, &r, e)) || (rc = store_first(r, "共建单位不存在", e)))
        goto done;
    snprintf(partner, sizeof partner, "%s", store_text(r, 0));
    snprintf(community, sizeof community, "%s", store_text(r, 1));
    store_rows_free(r);
    r = NULL;
    /* per service: sessions held that year, residents served, no-shows */
    store_param p[] = {P_INT(id), P_INT(from), P_INT(until), P_INT(now)};
    if ((rc = store_query(tx,
                          "SELECT sv.title, sv.kind, COUNT(*), COALESCE(SUM((SELECT COUNT(*) FROM partner_bookings b "
                          "WHERE b.session_id = ss.id AND b.status = 'attended')), 0), COALESCE(SUM((SELECT COUNT(*) "
                          "FROM partner_bookings b WHERE b.session_id = ss.id AND b.status = 'no_show')), 0) FROM "
                          "partner_sessions ss JOIN partner_services sv ON sv.id = ss.service_id WHERE ss.partner_id = "
                          "$1 AND ss.starts_at >= $2 AND ss.starts_at < $3 AND ss.ends_at <= $4 GROUP BY sv.id, "
                          "sv.title, sv.kind ORDER BY sv.id",
                          p, 4, &r, e)))
        goto done;
    pdf_row rows[THANKS_ROWS_MAX + 2];
    char labels[THANKS_ROWS_MAX + 2][220], values[THANKS_ROWS_MAX + 2][120], kinds[400] = "";
    int n = 0;
    int64_t sessions = 0, served = 0, missed = 0;
    while (store_row(r)) {
        int64_t s = store_int(r, 2), a = store_int(r, 3), m = store_int(r, 4);
        sessions += s;
        served += a;
        missed += m;
        const char *kl = kind_label(store_text(r, 1));
        if (!strstr(kinds, kl) && strlen(kinds) + strlen(kl) + 4 < sizeof kinds)
            snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", kinds[0] ? "、" : "", kl);
        if (n < THANKS_ROWS_MAX) {
            snprintf(labels[n], sizeof labels[n], "%s（%s）", store_text(r, 0) ? store_text(r, 0) : "", kl);
            snprintf(values[n], sizeof values[n], "%lld 场，服务 %lld 人次", (long long)s, (long long)a);
            rows[n] = (pdf_row){labels[n], values[n]};
            n++;
        }
    }
    rc = store_rows_end(r, e);
    r = NULL;
    if (rc)
        goto done;
    if (sessions == 0) {
        rc = nx_fail(e, NX_ECONFLICT, "year", "%d 年该单位没有已开展的服务场次，无法出具感谢信", year);
        goto done;
    }
    snprintf(labels[n], sizeof labels[n], "合计");
    snprintf(values[n], sizeof values[n], "%lld 场，服务 %lld 人次（预约未到 %lld 人次）", (long long)sessions,
             (long long)served, (long long)missed);
    rows[n] = (pdf_row){labels[n], values[n]};
    n++;
    char issuer[240], serial[64], body[1200], footer[300], today[30];
    snprintf(issuer, sizeof issuer, "%s居民委员会", community);
    snprintf(serial, sizeof serial, "编号：GX%d-%04lld", year, (long long)id);
    snprintf(body, sizeof body,
             "%s：\n%d 年，贵单位与%s结对共建，在社区开展%s等志愿服务共 %lld 场，服务居民 %lld 人次，"
             "把关爱送到了居民身边。值此岁末，谨向贵单位和参与服务的每一位同志致以诚挚的感谢！"
             "愿我们继续携手，共建和谐幸福社区。",
             partner, year, community, kinds, (long long)sessions, (long long)served);
    clock_format_local(now, today);
    snprintf(footer, sizeof footer, "%s（盖章）  %.4s年%.2s月%.2s日", issuer, today, today + 5, today + 8);
    pdf_form f = {.issuer = issuer, .title = "感谢信", .serial = serial, .body = body, .rows = rows, .nrows = n,
                  .footer = footer};
    rc = pdf_render_form(&f, pdf, len, e);
done:
    store_rows_free(r);
    store_rollback(tx);
    return rc;
}
