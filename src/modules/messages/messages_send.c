/* messages_send.c — the sender: queued deliveries out through the external channels, with retries.
 *
 * A ticker (store/ticker.h, one process at a time) runs messages_tick every msg_tick_ms: it
 * publishes the notices whose time has come, emits the reminders of briefings starting within a day,
 * then takes the queued deliveries that are due
 * (next_at ≤ now) a batch at a time. For each: a voice call of a chain whose alarm has been
 * acknowledged meanwhile is cancelled (the chain stops at the first answer); otherwise the phone is
 * decrypted from its own table (residents, emergency_contacts, grid_members) only now, handed to the
 * channel's provider, and wiped. The outcome is written back: sent (with the provider's reference),
 * or — on a failure, a throttled answer or an answer that is not JSON — attempts + 1 and next_at
 * pushed back (msg_retry_base_s doubling, at most an hour) until msg_retry_max attempts, then
 * failed with the provider's words. Every state lives in the row, so a restart carries on where
 * the last run stopped. The provider call happens outside any transaction.
 *
 * Delivery reports: "sent" only says the provider accepted the SMS. The same tick then pulls the
 * reports that are due (an SMS sent with the provider's reference, next_at reached): the provider
 * is asked about that reference and that phone (sms_receipt — pull, so no inbound door is opened)
 * and the row becomes delivered, or failed with the provider's reason; without a report yet it is
 * asked again after as long again as the SMS has been out (at least msg_retry_base_s), for a day.
 * An answer that is not JSON, a refusal or throttling leaves the row "sent" with the reason in
 * last_error and asks again later. A voice call is followed the same way where the provider can be
 * asked (Aliyun's QueryCallDetailByCallId): delivered when it was answered, failed ("未接听（code
 * …）") when it was not. Tencent's voice messages document no such question, only a push of the
 * call's status to a URL of ours (messages_voice_callback): that door is opened only when an
 * operator sets its secret token, and is limited per source address (see docs/messages.md).
 *
 * Providers (notify/sms.h: Tencent Cloud or Aliyun for SMS and calls; notify/wecom.h for WeCom
 * application messages to staff accounts, addressed by the account's user name as WeCom UserID) are
 * configured from the configuration table: a channel with no provider is "not configured", and the
 * service then queues nothing for it. Credentials and phone numbers are never logged. */
#include "modules/messages/messages_internal.h"

#include "base/log.h"
#include "notify/sms.h"
#include "notify/wecom.h"
#include "store/ticker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct messages_sender {
    store_ticker *ticker;
};

static sms_provider *sms_prov, *voice_prov;
static wecom *wecom_prov;
static int64_t voice_gap_ms = 60000, retry_base_ms = 30000, daily_cap = 20;
static int retry_max = 5;

bool msg_channel_configured(const char *channel)
{
    if (strcmp(channel, "sms") == 0)
        return sms_prov != NULL;
    if (strcmp(channel, "voice") == 0)
        return voice_prov != NULL;
    if (strcmp(channel, "wecom") == 0)
        return wecom_prov != NULL;
    return false;
}

int64_t msg_voice_gap_ms(void)
{
    return voice_gap_ms;
}

int64_t msg_daily_cap(void)
{
    return daily_cap;
}

typedef struct due {
    int64_t id, contact_id, resident_id, user_id, sent_at;
    int attempts;
    char channel[8], contact_kind[12], subject[64], ref[SMS_REF_MAX];
    char *body;
} due;

#define BATCH 20

/* The deliveries of status whose next_at has come, a batch: the queued ones to send, the SMS and
 * calls sent whose report or result is due (reports). */
static int load_due(store *db, int64_t now, const char *status, bool reports, due *out, int *n, nx_err *e)
{
    *n = 0;
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    store_param p[] = {P_INT(now), P_INT(BATCH), P_TEXT(status), P_INT(reports ? 1 : 0)};
    if ((rc = store_query(tx,
                          "SELECT id, channel, contact_kind, contact_id, resident_id, subject, body, attempts, user_id, "
                          "provider_ref, sent_at FROM message_deliveries WHERE status = $3 AND next_at <= $1 AND ($4 = 0 "
                          "OR channel IN ('sms', 'voice')) ORDER BY next_at, id LIMIT $2",
                          p, 4, &r, e)) == 0) {
        while (store_row(r) && *n < BATCH) {
            due *d = &out[(*n)++];
            memset(d, 0, sizeof *d);
            d->id = store_int(r, 0);
            str_copy(d->channel, store_text(r, 1), sizeof d->channel);
            str_copy(d->contact_kind, store_text(r, 2), sizeof d->contact_kind);
            d->contact_id = store_int(r, 3);
            d->resident_id = store_int(r, 4);
            str_copy(d->subject, store_text(r, 5) ? store_text(r, 5) : "", sizeof d->subject);
            d->body = strdup(store_text(r, 6));
            d->attempts = (int)store_int(r, 7);
            d->user_id = store_int(r, 8);
            str_copy(d->ref, store_isnull(r, 9) ? "" : store_text(r, 9), sizeof d->ref);
            d->sent_at = store_int(r, 10);
        }
        rc = store_rows_end(r, e);
    }
    store_rollback(tx);
    return rc;
}

/* Whether the alarm a voice chain is about is still unanswered. */
static int alarm_open(store *db, const char *subject, bool *open, nx_err *e)
{
    *open = true;
    int64_t id = 0;
    if (!str_starts_with(subject, "alert:") || str_to_i64(subject + 6, 1, INT64_MAX, &id))
        return 0;
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    char *state = NULL;
    store_param p[] = {P_INT(id)};
    rc = store_one_text(tx, "SELECT state FROM alerts WHERE id = $1", p, 1, &state, e);
    store_rollback(tx);
    if (rc == 0)
        *open = strcmp(state, "open") == 0;
    free(state);
    return rc == NX_ENOTFOUND ? 0 : rc;
}

/* The WeCom UserID of d's account (its user name), into out; "" when the account is gone. */
static int wecom_user_of(store *db, const due *d, char *out, size_t cap, nx_err *e)
{
    out[0] = '\0';
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    char *name = NULL;
    store_param p[] = {P_INT(d->user_id)};
    rc = store_one_text(tx, "SELECT username FROM users WHERE id = $1 AND disabled = 0", p, 1, &name, e);
    store_rollback(tx);
    if (rc == 0)
        str_copy(out, name, cap);
    free(name);
    return rc == NX_ENOTFOUND ? 0 : rc;
}

/* The phone of d's recipient, decrypted (free with field_plain_free); NULL in *phone when none. */
static int phone_of(nx_app *app, const due *d, char **phone, nx_err *e)
{
    *phone = NULL;
    const char *sql = NULL, *ctx = NULL;
    if (strcmp(d->contact_kind, "resident") == 0) {
        sql = "SELECT phone_enc FROM residents WHERE id = $1";
        ctx = "resident.phone";
    } else if (strcmp(d->contact_kind, "emergency") == 0) {
        sql = "SELECT phone_enc FROM emergency_contacts WHERE id = $1";
        ctx = "contact.phone";
    } else if (strcmp(d->contact_kind, "member") == 0) {
        sql = "SELECT phone_enc FROM grid_members WHERE id = $1";
        ctx = "grid_member.phone";
    } else
        return 0;
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    store_param p[] = {P_INT(d->contact_id)};
    if ((rc = store_query(tx, sql, p, 1, &r, e)) == 0) {
        if (store_row(r) && !store_isnull(r, 0)) {
            size_t n = 0;
            const void *b = store_blob(r, 0, &n);
            if (field_decrypt_ad(app->keys, ctx, b, n, phone) != 0)
                *phone = NULL;
        }
        rc = store_rows_end(r, e);
    }
    store_rollback(tx);
    return rc;
}

/* One UPDATE of a delivery (sql with the n parameters p) in a write transaction of its own. */
static int update_delivery(store *db, const char *sql, const store_param *p, int n, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(db, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    if ((rc = store_exec(tx, sql, p, n, NULL, e))) {
        store_rollback(tx);
        return rc;
    }
    return store_commit(tx, e);
}

static int record(store *db, int64_t id, const char *status, int attempts, int64_t next_at, const char *error,
                  const char *ref, nx_err *e)
{
    int64_t now = clock_now_ms();
    store_param p[] = {P_TEXT(status), P_INT(attempts), P_ID(next_at), P_TEXT(error), P_TEXT(ref), P_INT(now), P_INT(id)};
    return update_delivery(db,
                           "UPDATE message_deliveries SET status = $1, attempts = $2, next_at = $3, last_error = $4, "
                           "provider_ref = COALESCE($5, provider_ref), sent_at = CASE WHEN $1 = 'sent' THEN $6 ELSE "
                           "sent_at END, updated_at = $6 WHERE id = $7 AND status = 'queued'",
                           p, 7, e);
}

static int send_one(nx_app *app, due *d, int64_t now, nx_err *e)
{
    bool voice = strcmp(d->channel, "voice") == 0;
    if (voice) {
        bool open = true;
        int rc = alarm_open(app->db, d->subject, &open, e);
        if (rc)
            return rc;
        if (!open)
            return record(app->db, d->id, "cancelled", d->attempts, 0, "告警已有人响应，呼叫停止", NULL, e);
    }
    char ref[SMS_REF_MAX] = "";
    nx_err pe;
    nx_err_clear(&pe);
    int src, rc;
    if (strcmp(d->channel, "wecom") == 0) {
        char member[128];
        if (!wecom_prov)
            return record(app->db, d->id, "failed", d->attempts, 0, "渠道未配置", NULL, e);
        if ((rc = wecom_user_of(app->db, d, member, sizeof member, e)))
            return rc;
        if (!member[0])
            return record(app->db, d->id, "failed", d->attempts, 0, "账号不存在或已停用", NULL, e);
        src = wecom_send(wecom_prov, member, d->body, ref, &pe);
    } else {
        sms_provider *prov = voice ? voice_prov : strcmp(d->channel, "sms") == 0 ? sms_prov : NULL;
        if (!prov)
            return record(app->db, d->id, "failed", d->attempts, 0, "渠道未配置", NULL, e);
        char *phone = NULL;
        if ((rc = phone_of(app, d, &phone, e)))
            return rc;
        if (!phone)
            return record(app->db, d->id, "failed", d->attempts, 0, "没有可用的手机号", NULL, e);
        src = sms_send(prov, phone, d->body, ref, &pe);
        field_plain_free(phone);
    }
    int attempts = d->attempts + 1;
    if (src == 0) {
        nx_log(LOG_INFO, "messages.sent delivery=%lld channel=%s", (long long)d->id, d->channel);
        /* an SMS or a call with the provider's reference: its report or result is asked for from
         * next_at on, when the provider has a way to be asked */
        bool receipt = strcmp(d->channel, "wecom") != 0 && ref[0] &&
                       sms_pulls_results(voice ? voice_prov : sms_prov);
        return record(app->db, d->id, "sent", attempts, receipt ? now + retry_base_ms : 0, NULL, ref, e);
    }
    nx_log(LOG_WARN, "messages.send_failed delivery=%lld channel=%s attempt=%d code=%s", (long long)d->id, d->channel,
           attempts, nx_code_name(src));
    if (attempts >= retry_max)
        return record(app->db, d->id, "failed", attempts, 0, pe.msg, NULL, e);
    int64_t wait = retry_base_ms;
    for (int i = 1; i < attempts && wait < 3600000; i++)
        wait *= 2;
    if (wait > 3600000)
        wait = 3600000;
    return record(app->db, d->id, "queued", attempts, now + wait, pe.msg, NULL, e);
}

/* ---- delivery reports (SMS) and call results (voice) ---- */

#define RECEIPT_WINDOW_MS (24LL * 3600 * 1000) /* after a day without a report, "sent" it stays */

/* Write what the report said: delivered (a call: answered) or failed (with the provider's reason),
 * else when to ask again (the wait doubles with the time since sending; none after
 * RECEIPT_WINDOW_MS), with error the reason the last question went unanswered (NULL when it was
 * answered). */
static int record_receipt(store *db, const due *d, int state, const char *reason, int64_t sent_at, int64_t now,
                          const char *error, nx_err *e)
{
    int64_t id = d->id;
    const char *status = state == SMS_RECEIPT_DELIVERED ? "delivered" : state == SMS_RECEIPT_FAILED ? "failed" : "sent";
    int64_t next = 0;
    if (state == SMS_RECEIPT_PENDING && now - sent_at < RECEIPT_WINDOW_MS)
        next = now + (now - sent_at > retry_base_ms ? now - sent_at : retry_base_ms);
    char why[SMS_REASON_MAX + 32] = "";
    if (state == SMS_RECEIPT_FAILED)
        snprintf(why, sizeof why, strcmp(d->channel, "voice") == 0 ? "未接听（%s）" : "未送达（%s）", reason);
    store_param p[] = {P_TEXT(status), P_ID(next), P_TEXT(state == SMS_RECEIPT_FAILED ? why : error), P_INT(now),
                       P_INT(id)};
    return update_delivery(db,
                           "UPDATE message_deliveries SET status = $1, next_at = $2, last_error = $3, updated_at = $4 "
                           "WHERE id = $5 AND status = 'sent'",
                           p, 5, e);
}

/* Ask the providers for the reports and call results due: the phone decrypted only for the question. */
static int pull_receipts(nx_app *app, int64_t now, nx_err *e)
{
    if (!sms_prov && !voice_prov)
        return 0;
    due batch[BATCH];
    int n = 0;
    int rc = load_due(app->db, now, "sent", true, batch, &n, e);
    for (int i = 0; i < n; i++)
        free(batch[i].body);
    for (int i = 0; rc == 0 && i < n; i++) {
        char *phone = NULL;
        if ((rc = phone_of(app, &batch[i], &phone, e)))
            break;
        int state = SMS_RECEIPT_PENDING;
        char reason[SMS_REASON_MAX] = "";
        nx_err pe;
        nx_err_clear(&pe);
        sms_provider *prov = strcmp(batch[i].channel, "voice") == 0 ? voice_prov : sms_prov;
        int src = prov && phone && batch[i].ref[0]
                      ? sms_receipt(prov, phone, batch[i].ref, batch[i].sent_at, &state, reason, &pe)
                      : NX_EUNSUPP;
        field_plain_free(phone);
        if (src)
            nx_log(LOG_WARN, "messages.receipt_failed delivery=%lld channel=%s code=%s", (long long)batch[i].id,
                   batch[i].channel, nx_code_name(src));
        else if (state != SMS_RECEIPT_PENDING)
            nx_log(LOG_INFO, "messages.receipt delivery=%lld channel=%s state=%s", (long long)batch[i].id,
                   batch[i].channel, state == SMS_RECEIPT_DELIVERED ? "delivered" : "failed");
        /* no phone or no reference: nothing to ask, ever */
        int64_t sent = src == NX_EUNSUPP ? now - RECEIPT_WINDOW_MS : batch[i].sent_at;
        rc = record_receipt(app->db, &batch[i], src ? SMS_RECEIPT_PENDING : state, reason, sent, now,
                            src ? pe.msg : NULL, e);
    }
    return rc;
}

/* ---- Tencent voice-call results: the provider's push (VMS 语音通知状态通知) ---- */

/* Callbacks per source address and minute: a fixed table of slots by a hash of the address (two
 * addresses sharing a slot share a count, which errs on the side of refusing), per process. */
#define CB_SLOTS 256
static struct {
    pthread_mutex_t mu;
    struct {
        char addr[64];
        int64_t minute;
        int64_t count;
    } slot[CB_SLOTS];
} cb_rate = {.mu = PTHREAD_MUTEX_INITIALIZER};
static char cb_token[128]; /* tencent_voice_callback_token ("" = the callback is not open) */
static int64_t cb_per_min = 120;

static int callback_take(const char *source, nx_err *e)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *c = source; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    int64_t minute = clock_now_ms() / 60000;
    pthread_mutex_lock(&cb_rate.mu);
    size_t i = (size_t)(h % CB_SLOTS);
    if (cb_rate.slot[i].minute != minute || strcmp(cb_rate.slot[i].addr, source) != 0) {
        if (cb_rate.slot[i].minute != minute)
            cb_rate.slot[i].count = 0;
        cb_rate.slot[i].minute = minute;
        str_copy(cb_rate.slot[i].addr, source, sizeof cb_rate.slot[i].addr);
    }
    bool over = cb_rate.slot[i].count >= cb_per_min;
    if (!over)
        cb_rate.slot[i].count++;
    pthread_mutex_unlock(&cb_rate.mu);
    if (over)
        return nx_fail(e, NX_ELOCKED, "", "回调过于频繁（每个地址每分钟最多 %lld 次），请稍后再试", (long long)cb_per_min);
    return 0;
}

/* Equal tokens, in a time that does not depend on where they differ (only on the length). */
static bool token_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

int messages_voice_callback(nx_app *app, const char *source, const char *token, const void *body, size_t len,
                            nx_err *e)
{
    int rc = callback_take(source ? source : "", e);
    if (rc)
        return rc;
    if (!cb_token[0])
        return nx_fail(e, NX_ENOTFOUND, "", "未开放语音呼叫结果回调（未设置 tencent_voice_callback_token）");
    if (!token || !token_equal(token, cb_token)) {
        nx_log(LOG_WARN, "messages.voice_callback_refused reason=token source=%s", source ? source : "");
        return nx_fail(e, NX_EPERM, "token", "回调令牌不正确");
    }
    json_error_t je;
    json_t *in = body && len ? json_loadb(body, len, 0, &je) : NULL;
    if (!json_is_object(in)) {
        json_decref(in);
        return nx_fail(e, NX_EINVAL, "", "回调内容不是 JSON 对象");
    }
    json_t *cb = json_object_get(in, "voiceprompt_callback");
    json_t *callid = json_object_get(cb, "callid"), *result = json_object_get(cb, "result");
    const char *code = json_is_string(result) ? json_string_value(result) : NULL;
    char num[8] = "";
    if (json_is_integer(result) && json_integer_value(result) >= 0 && json_integer_value(result) <= 2) {
        snprintf(num, sizeof num, "%d", (int)json_integer_value(result));
        code = num;
    }
    if (!json_is_object(cb))
        rc = nx_fail(e, NX_EINVAL, "voiceprompt_callback", "缺少 voiceprompt_callback（语音通知状态）");
    else if (!json_is_string(callid) || !json_string_length(callid) || json_string_length(callid) >= SMS_REF_MAX)
        rc = nx_fail(e, NX_EINVAL, "voiceprompt_callback.callid", "callid 应为呼叫编号（非空字符串）");
    else if (!code || (strcmp(code, "0") != 0 && strcmp(code, "1") != 0 && strcmp(code, "2") != 0))
        rc = nx_fail(e, NX_EINVAL, "voiceprompt_callback.result", "result 应为 0（接听）、1（未接听）或 2（呼叫异常）");
    if (rc) {
        json_decref(in);
        return rc;
    }
    char ref[SMS_REF_MAX];
    str_copy(ref, json_string_value(callid), sizeof ref);
    bool answered = strcmp(code, "0") == 0;
    char why[SMS_REASON_MAX + 32];
    snprintf(why, sizeof why, "未接听（%s %s）", code, strcmp(code, "1") == 0 ? "用户未接听" : "呼叫异常");
    json_decref(in);
    int64_t now = clock_now_ms();
    store_tx *tx;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        return rc;
    int64_t known = 0, changed = 0;
    store_param k[] = {P_TEXT(ref)};
    store_param u[] = {P_TEXT(answered ? "delivered" : "failed"), P_TEXT(answered ? NULL : why), P_INT(now), P_TEXT(ref)};
    if ((rc = store_one_int(tx, "SELECT count(*) FROM message_deliveries WHERE channel = 'voice' AND provider_ref = $1",
                            k, 1, &known, e)) ||
        (rc = store_exec(tx,
                         "UPDATE message_deliveries SET status = $1, next_at = NULL, last_error = $2, updated_at = $3 "
                         "WHERE channel = 'voice' AND provider_ref = $4 AND status = 'sent'",
                         u, 4, &changed, e))) {
        store_rollback(tx);
        return rc;
    }
    if (known == 0) {
        store_rollback(tx);
        return nx_fail(e, NX_ENOTFOUND, "voiceprompt_callback.callid", "没有这个呼叫编号的语音呼叫");
    }
    if ((rc = store_commit(tx, e)))
        return rc;
    /* a repeated callback (the provider retries) finds the call decided already: nothing changes */
    nx_log(LOG_INFO, "messages.voice_callback state=%s changed=%lld", answered ? "delivered" : "failed",
           (long long)changed);
    return 0;
}

int messages_tick(nx_app *app, int64_t now_ms, nx_err *e)
{
    int published = 0;
    int rc = messages_notices_due(app, now_ms, &published, e);
    if (rc == 0)
        rc = messages_briefings_due(app, now_ms, &published, e);
    if (rc)
        return rc;
    due batch[BATCH];
    int n = 0;
    if ((rc = load_due(app->db, now_ms, "queued", false, batch, &n, e)))
        return rc;
    for (int i = 0; i < n; i++) {
        if (rc == 0 && batch[i].body)
            rc = send_one(app, &batch[i], now_ms, e);
        free(batch[i].body);
    }
    return rc ? rc : pull_receipts(app, now_ms, e);
}

static int tick(void *ctx, int64_t now_ms, nx_err *e)
{
    return messages_tick(ctx, now_ms, e);
}

int messages_sender_start(nx_app *app, messages_sender **out, nx_err *e)
{
    *out = NULL;
    const nx_config *c = app->cfg;
    if (c->tencent_voice_callback_token[0] && strlen(c->tencent_voice_callback_token) < 16)
        return nx_fail(e, NX_EINVAL, "tencent_voice_callback_token", "tencent_voice_callback_token 至少 16 个字符");
    str_copy(cb_token, c->tencent_voice_callback_token, sizeof cb_token);
    cb_per_min = c->msg_callback_per_min;
    voice_gap_ms = c->msg_voice_gap_s * 1000;
    daily_cap = c->msg_daily_cap;
    retry_base_ms = c->msg_retry_base_s * 1000;
    retry_max = (int)c->msg_retry_max;
    int rc = sms_provider_from_config(c, SMS_KIND_SMS, &sms_prov, e);
    if (rc == 0)
        rc = sms_provider_from_config(c, SMS_KIND_VOICE, &voice_prov, e);
    if (rc == 0)
        rc = wecom_from_config(c, &wecom_prov, e);
    if (rc)
        return rc;
    messages_sender *s = calloc(1, sizeof *s);
    if (!s)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    store_ticker_options o = {.name = "messages.sender", .period_ms = c->msg_tick_ms, .run_at_start = true, .fn = tick,
                              .ctx = app};
    if ((rc = store_ticker_start(app->db, &o, &s->ticker, e))) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void messages_sender_stop(messages_sender *s)
{
    if (!s)
        return;
    store_ticker_stop(s->ticker);
    free(s);
    sms_provider_free(sms_prov);
    sms_provider_free(voice_prov);
    wecom_free(wecom_prov);
    sms_prov = voice_prov = NULL;
    wecom_prov = NULL;
    explicit_bzero(cb_token, sizeof cb_token);
}
