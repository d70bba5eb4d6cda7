/* devices_commands.c — commands to wristbands: staff queue them, the gateway sends them when the
 * device is connected, the device's answer closes them (see devices.h, "commands").
 *
 * A command is stored as its kind and a JSON object of arguments, validated at creation by encoding
 * it for the device's protocol (the codecs are the one place that knows what a protocol can say), so
 * a command that reaches the queue can always be sent. Phone numbers (SOS numbers, the centre number)
 * are personal data: args keeps them masked for screens and lists, and the whole JSON is stored
 * encrypted in secret, read back only by the gateway when it builds the frame. */
#include "modules/devices/devices.h"
#include "modules/devices/devices_internal.h"

#include "base/log.h"
#include "base/str.h"
#include "secure/audit.h"
#include "secure/crypto.h"
#include "text/mask.h"
#include "wire/iw.h"
#include "wire/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_AD "device_commands.secret"

typedef struct cmd_def {
    const char *kind, *label;
    int gw;
    const char *args[3]; /* the members it takes */
} cmd_def;

static const cmd_def defs[] = {
    {"locate", "立即定位", WIRE_CMD_LOCATE, {NULL}},
    {"upload_interval", "定位上报间隔", WIRE_CMD_UPLOAD, {"seconds"}},
    {"sos_numbers", "SOS 紧急号码", WIRE_CMD_SOS_NUMBERS, {"phones"}},
    {"center", "中心号码", WIRE_CMD_CENTER, {"phone"}},
    {"fall_detect", "跌倒检测开关", WIRE_CMD_FALL_DETECT, {"on", "call_centre"}},
    {"fall_level", "跌倒检测灵敏度", WIRE_CMD_FALL_LEVEL, {"level"}},
    {"lowbat_alarm", "低电量报警开关", WIRE_CMD_LOWBAT_ALARM, {"on"}},
    {"remove_alarm", "摘除报警开关", WIRE_CMD_REMOVE_ALARM, {"on"}},
    {"hr_interval", "心率测量间隔", WIRE_CMD_HR_INTERVAL, {"seconds"}},
    {"hr_now", "立即测量心率", WIRE_CMD_HR_NOW, {NULL}},
    {"message", "发送文字消息", WIRE_CMD_MESSAGE, {"text"}},
    {"find", "寻找手环（响铃）", WIRE_CMD_FIND, {NULL}},
    {"reset", "重启手环", WIRE_CMD_RESET, {NULL}},
    {"poweroff", "远程关机", WIRE_CMD_POWEROFF, {NULL}},
};

static const cmd_def *def_of(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof defs / sizeof defs[0]; i++)
        if (strcmp(defs[i].kind, kind) == 0)
            return &defs[i];
    return NULL;
}

const char *devices_command_label(const char *kind)
{
    const cmd_def *d = def_of(kind);
    return d ? d->label : kind;
}

static int int_arg(json_t *args, const char *key, int lo, int hi, int32_t *out, nx_err *e)
{
    json_t *v = json_object_get(args, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return nx_fail(e, NX_EINVAL, key, "%s 应为 %d 到 %d 之间的整数", key, lo, hi);
    *out = (int32_t)json_integer_value(v);
    return 0;
}

static int bool_arg(json_t *args, const char *key, bool required, int32_t *out, nx_err *e)
{
    json_t *v = json_object_get(args, key);
    if (!v && !required) {
        *out = 0;
        return 0;
    }
    if (!json_is_boolean(v))
        return nx_fail(e, NX_EINVAL, key, "%s 应为 true 或 false", key);
    *out = json_is_true(v) ? 1 : 0;
    return 0;
}

static int phone_arg(json_t *v, const char *field, const char **out, nx_err *e)
{
    if (!json_is_string(v))
        return nx_fail(e, NX_EINVAL, field, "电话号码应为字符串（空字符串表示清除）");
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    bool ok = n <= 20;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '+' && n > 1);
    if (!ok)
        return nx_fail(e, NX_EINVAL, field, "电话号码只能包含数字（可带前导 +），最多 20 位");
    *out = s;
    return 0;
}

int devices_command_build(const char *kind, json_t *args, wire_cmd *out, nx_err *e)
{
    memset(out, 0, sizeof *out);
    const cmd_def *d = def_of(kind);
    if (!d)
        return nx_fail(e, NX_EINVAL, "kind", "未知的指令类型：%s", kind ? kind : "");
    if (!json_is_object(args))
        return nx_fail(e, NX_EINVAL, "args", "args 应为 JSON 对象");
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v) {
        bool known = false;
        for (int i = 0; i < 3 && d->args[i] && !known; i++)
            known = strcmp(d->args[i], key) == 0;
        if (!known)
            return nx_fail(e, NX_EINVAL, key, "指令“%s”不接受参数 %s", d->label, key);
    }
    out->kind = d->gw;
    switch (d->gw) {
    case WIRE_CMD_UPLOAD: return int_arg(args, "seconds", 60, 65535, &out->seconds, e);
    case WIRE_CMD_HR_INTERVAL: return int_arg(args, "seconds", 0, 86400, &out->seconds, e);
    case WIRE_CMD_FALL_LEVEL: return int_arg(args, "level", 1, 9, &out->level, e);
    case WIRE_CMD_FALL_DETECT: {
        int rc = bool_arg(args, "on", true, &out->on, e);
        return rc ? rc : bool_arg(args, "call_centre", false, &out->call_centre, e);
    }
    case WIRE_CMD_LOWBAT_ALARM:
    case WIRE_CMD_REMOVE_ALARM: return bool_arg(args, "on", true, &out->on, e);
    case WIRE_CMD_CENTER: return phone_arg(json_object_get(args, "phone"), "phone", &out->phones[0], e);
    case WIRE_CMD_SOS_NUMBERS: {
        json_t *a = json_object_get(args, "phones");
        if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > 3)
            return nx_fail(e, NX_EINVAL, "phones", "phones 应为 1 到 3 个电话号码的数组");
        for (size_t i = 0; i < 3; i++) {
            out->phones[i] = "";
            int rc = i < json_array_size(a) ? phone_arg(json_array_get(a, i), "phones", &out->phones[i], e) : 0;
            if (rc)
                return rc;
        }
        return 0;
    }
    case WIRE_CMD_MESSAGE: {
        json_t *t = json_object_get(args, "text");
        if (!json_is_string(t) || json_string_length(t) == 0)
            return nx_fail(e, NX_EINVAL, "text", "请填写要发送的文字");
        out->text = json_string_value(t);
        return 0;
    }
    default: return 0;
    }
}

/* Encode cmd for a device of this protocol: the check at creation and what the gateway sends. */
int devices_command_encode(const wire_cmd *cmd, int proto, const char *mf_or_prefix, const char *device,
                           uint32_t serial, char *out, size_t cap, size_t *len, nx_err *e)
{
    int rc = proto == WIRE_PROTO_IW ? iw_encode_cmd(cmd, mf_or_prefix, device, serial, out, cap, len, e)
                                    : watch_encode_cmd(cmd, mf_or_prefix, device, out, cap, len, e);
    if (rc == NX_EUNSUPP)
        return nx_fail(e, NX_EINVAL, "kind", "该手环的协议（%s）没有这条指令",
                       proto == WIRE_PROTO_IW ? "IW" : "3G 手表");
    if (rc == NX_EINVAL && e && !e->field[0])
        str_copy(e->field, "args", sizeof e->field);
    return rc;
}

/* The args as screens show them: phone numbers masked. *has_phone says whether any was there. */
static json_t *masked_args(json_t *args, bool *has_phone)
{
    json_t *m = json_deep_copy(args);
    *has_phone = false;
    char buf[32];
    json_t *p = json_object_get(m, "phone");
    if (json_is_string(p) && json_string_length(p) > 0) {
        mask_phone(json_string_value(p), buf, sizeof buf);
        json_object_set_new(m, "phone", json_string(buf));
        *has_phone = true;
    }
    json_t *a = json_object_get(m, "phones");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (json_is_string(v) && json_string_length(v) > 0) {
            mask_phone(json_string_value(v), buf, sizeof buf);
            json_array_set_new(a, i, json_string(buf));
            *has_phone = true;
        }
    }
    return m;
}

int devices_command_create(nx_app *app, const nx_principal *who, int64_t device_id, const char *kind, json_t *args,
                           int64_t expires_in_s, int64_t now, int64_t *id, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_WRITE))
        return nx_fail(e, NX_EPERM, "", "无权向手环发送指令");
    if (expires_in_s == 0)
        expires_in_s = DEVICES_CMD_EXPIRES_S;
    if (expires_in_s < 60 || expires_in_s > 30 * 86400)
        return nx_fail(e, NX_EINVAL, "expires_in_s", "有效期应为 60 秒到 30 天");
    json_t *empty = NULL;
    if (!args)
        args = empty = json_object();
    wire_cmd cmd;
    int rc = devices_command_build(kind, args, &cmd, e);
    store_tx *tx = NULL;
    json_t *shown = NULL;
    char *full = NULL;
    unsigned char *secret = NULL;
    size_t secret_len = 0;
    if (rc)
        goto out;
    if ((rc = store_begin(app->db, STORE_WRITE, &tx, e)))
        goto out;
    int64_t community = 0;
    if ((rc = devices_device_in_scope(tx, who, device_id, &community, NULL, e)))
        goto out;
    char *proto = NULL;
    store_param pd[] = {P_INT(device_id)};
    if ((rc = store_one_text(tx, "SELECT protocol FROM devices WHERE id = $1", pd, 1, &proto, e)))
        goto out;
    int p = proto && strcmp(proto, "iw") == 0 ? WIRE_PROTO_IW : WIRE_PROTO_WATCH;
    free(proto);
    char frame[WATCH_OUT_MAX > IW_OUT_MAX ? WATCH_OUT_MAX : IW_OUT_MAX];
    size_t flen;
    if ((rc = devices_command_encode(&cmd, p, p == WIRE_PROTO_IW ? "IW" : "SG",
                                     p == WIRE_PROTO_IW ? "860000000000000" : "1234567890", 0, frame,
                                     sizeof frame, &flen, e)))
        goto out;
    bool has_phone;
    shown = masked_args(args, &has_phone);
    full = json_dumps(args, JSON_COMPACT);
    char *shown_text = json_dumps(shown, JSON_COMPACT);
    if (!full || !shown_text ||
        (has_phone && field_encrypt_ad(app->keys, SECRET_AD, full, strlen(full), &secret, &secret_len))) {
        free(shown_text);
        rc = nx_fail(e, NX_ENOMEM, "", "内存不足");
        goto out;
    }
    store_param p2[] = {P_INT(device_id), P_TEXT(kind), P_TEXT(shown_text),
                        has_phone ? P_BLOB(secret, secret_len) : P_NULL, P_ID(who->user_id), P_INT(now),
                        P_INT(now + expires_in_s * 1000)};
    rc = app_insert(tx, "device_commands",
                    "device_id, kind, args, secret, created_by, created_at, expires_at",
                    p2, 7, id, e);
    free(shown_text);
    if (rc == NX_ENOTFOUND) /* INSERT … RETURNING gave no row */
        rc = nx_fail(e, NX_EDB, "", "保存指令失败");
    if (rc)
        goto out;
    rc = audit_write_new(
        tx, who, "create", "device_command", *id, community,
        json_pack("{s:s, s:I, s:O}", "kind", kind, "device_id", (json_int_t)device_id, "args", shown), e);
    if (rc == 0)
        rc = store_commit(tx, e);
    tx = NULL;
    if (rc == 0)
        nx_log(LOG_INFO, "devices.command_queued command=%lld device=%lld kind=%s", (long long)*id, (long long)device_id,
               kind);
out:
    store_rollback(tx);
    json_decref(empty);
    json_decref(shown);
    free(full);
    free(secret);
    return rc;
}

static const char *cmd_state_label(const char *s)
{
    static const char *const states[][2] = {{"queued", "等待设备在线"}, {"sent", "已下发，等待确认"}, {"done", "设备已确认"},
                                            {"failed", "失败"},         {"expired", "已过期"},          {"cancelled", "已撤销"}};
    const char *l = STR_LABEL(states, s);
    return l ? l : s ? s : "";
}

#define CMD_COLS                                                                                                   \
    "c.id, c.device_id, c.kind, c.args, c.state, c.wire, c.serial, c.created_by, u.display_name, c.created_at, "     \
    "c.expires_at, c.sent_at, c.done_at, c.result, c.cancelled_by "                                                 \
    "FROM device_commands c LEFT JOIN users u ON u.id = c.created_by"

static json_t *cmd_row(store_rows *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", store_json_int(r, 0));
    json_object_set_new(o, "device_id", store_json_int(r, 1));
    json_object_set_new(o, "kind", store_json_text(r, 2));
    json_object_set_new(o, "kind_label", json_string(devices_command_label(store_text(r, 2))));
    json_t *args = json_loads(store_text(r, 3) ? store_text(r, 3) : "{}", 0, NULL);
    json_object_set_new(o, "args", args ? args : json_object());
    json_object_set_new(o, "state", store_json_text(r, 4));
    json_object_set_new(o, "state_label", json_string(cmd_state_label(store_text(r, 4))));
    json_object_set_new(o, "wire", store_json_text(r, 5));
    json_object_set_new(o, "serial", store_json_int(r, 6));
    json_object_set_new(o, "created_by", store_json_int(r, 7));
    json_object_set_new(o, "created_by_name", store_json_text(r, 8));
    json_object_set_new(o, "created_at", store_json_time(r, 9));
    json_object_set_new(o, "expires_at", store_json_time(r, 10));
    json_object_set_new(o, "sent_at", store_json_time(r, 11));
    json_object_set_new(o, "done_at", store_json_time(r, 12));
    json_object_set_new(o, "result", store_json_text(r, 13));
    json_object_set_new(o, "cancelled_by", store_json_int(r, 14));
    return o;
}

int devices_command_list(nx_app *app, const nx_principal *who, int64_t device_id, int64_t command_id, int limit,
                         json_t **out, nx_err *e)
{
    if (!perm_has(who, RIGHT_DEVICE_READ))
        return nx_fail(e, NX_EPERM, "", "无权查看设备");
    sqlq q;
    sqlq_init(&q, "SELECT " CMD_COLS " WHERE 1 = 1");
    sqlq_add(&q, " AND c.device_id = $%d", P_INT(device_id));
    if (command_id)
        sqlq_add(&q, " AND c.id = $%d", P_INT(command_id));
    sqlq_sql(&q, " ORDER BY c.id DESC LIMIT %d", store_page_limit(limit > 0 ? limit : 50, devices_page_max(app)));
    json_t *list;
    int rc = devices_items_of(app, who, device_id, devices_device_seen, &q, &(store_page_spec){.row = cmd_row},
                              &list, e);
    if (rc || !command_id) {
        if (rc == 0)
            *out = list;
        return rc;
    }
    json_t *one = json_incref(json_array_get(json_object_get(list, "items"), 0));
    json_decref(list);
    if (!one)
        return nx_fail(e, NX_ENOTFOUND, "", "指令不存在");
    *out = one;
    return 0;
}

int devices_command_cancel(nx_app *app, const nx_principal *who, int64_t device_id, int64_t command_id, int64_t now,
                           nx_err *e)
{
    store_tx *tx;
    int rc = perm_begin(app->db, who, RIGHT_DEVICE_WRITE, STORE_WRITE, "无权撤销指令", &tx, e);
    if (rc)
        return rc;
    int64_t community = 0;
    char *state = NULL;
    store_param p[] = {P_INT(command_id), P_INT(device_id), P_INT(now), P_ID(who->user_id)};
    if ((rc = devices_device_in_scope(tx, who, device_id, &community, NULL, e)) ||
        (rc = store_one_text(tx, "SELECT state FROM device_commands WHERE id = $1 AND device_id = $2", p, 2, &state, e)))
        goto out;
    if (strcmp(state, "queued") != 0) {
        rc = nx_fail(e, NX_ECONFLICT, "state", "指令当前状态为“%s”，只能撤销等待下发的指令", cmd_state_label(state));
        goto out;
    }
    if ((rc = store_exec(tx,
                         "UPDATE device_commands SET state = 'cancelled', done_at = $3, cancelled_by = $4, "
                         "result = '已撤销' WHERE id = $1 AND device_id = $2 AND state = 'queued'",
                         p, 4, NULL, e)) ||
        (rc = audit_write(tx, who, "cancel", "device_command", command_id, community, NULL, e)))
        goto out;
    rc = store_commit(tx, e);
    tx = NULL;
out:
    free(state);
    store_rollback(tx);
    if (rc == NX_ENOTFOUND && e && strcmp(e->msg, "设备不存在") != 0)
        nx_fail(e, NX_ENOTFOUND, "", "指令不存在");
    return rc;
}

/* ---- the gateway's side ---- */

int devices_commands_pending(store *s, const nx_keys *keys, int64_t now, devices_pending_cmd *out, int cap,
                             int *n, nx_err *e)
{
    *n = 0;
    store_tx *tx;
    int rc = store_begin(s, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_param p[] = {P_INT(now), P_INT(cap)};
    store_rows *r = NULL;
    rc = store_query(tx,
                     "SELECT c.id, d.imei, d.protocol, c.kind, c.args, c.secret FROM device_commands c "
                     "JOIN devices d ON d.id = c.device_id WHERE c.state = 'queued' AND c.expires_at > $1 "
                     "AND d.online = 1 AND d.takeover_at IS NULL ORDER BY c.id LIMIT $2",
                     p, 2, &r, e);
    while (rc == 0 && *n < cap && store_row(r)) {
        devices_pending_cmd *c = &out[*n];
        memset(c, 0, sizeof *c);
        c->id = store_int(r, 0);
        str_copy(c->imei, store_text(r, 1), sizeof c->imei);
        c->proto = strcmp(store_text(r, 2), "iw") == 0 ? WIRE_PROTO_IW : WIRE_PROTO_WATCH;
        str_copy(c->kind, store_text(r, 3), sizeof c->kind);
        size_t blen = 0;
        const void *blob = store_blob(r, 5, &blen);
        char *plain = NULL;
        if (blob && blen) {
            if (field_decrypt_ad(keys, SECRET_AD, blob, blen, &plain) != 0) {
                nx_log(LOG_ERROR, "devices.command_secret_unreadable command=%lld", (long long)c->id);
                continue;
            }
        }
        const char *args = plain ? plain : store_text(r, 4);
        if (strlen(args) >= sizeof c->args) {
            field_plain_free(plain);
            continue;
        }
        str_copy(c->args, args, sizeof c->args);
        field_plain_free(plain);
        (*n)++;
    }
    if (rc == 0)
        rc = store_rows_end(r, e);
    store_rollback(tx);
    return rc;
}

int devices_command_mark(store *s, int64_t id, int what, const char *wire, int64_t serial, const char *why, int64_t now,
                         nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(s, STORE_WRITE, &tx, e);
    if (rc)
        return rc;
    int64_t changed = 0;
    if (what == DEVICES_CMD_CLAIM) {
        store_param p[] = {P_INT(id), P_TEXT(wire), serial >= 0 ? P_INT(serial) : P_NULL, P_INT(now)};
        rc = store_exec(tx,
                        "UPDATE device_commands SET state = 'sent', wire = $2, serial = $3, sent_at = $4 "
                        "WHERE id = $1 AND state = 'queued'",
                        p, 4, &changed, e);
    } else if (what == DEVICES_CMD_UNCLAIM) {
        store_param p[] = {P_INT(id)};
        rc = store_exec(tx,
                        "UPDATE device_commands SET state = 'queued', wire = NULL, serial = NULL, sent_at = NULL "
                        "WHERE id = $1 AND state = 'sent'",
                        p, 1, &changed, e);
    } else {
        store_param p[] = {P_INT(id), P_TEXT(why), P_INT(now)};
        rc = store_exec(tx,
                        "UPDATE device_commands SET state = 'failed', result = $2, done_at = $3 "
                        "WHERE id = $1 AND state IN ('queued', 'sent')",
                        p, 3, &changed, e);
    }
    if (rc == 0 && (rc = store_commit(tx, e)) == 0)
        return changed ? 0 : nx_fail(e, NX_ECONFLICT, "state", "指令状态已改变");
    store_rollback(tx);
    return rc;
}

int devices_command_reply(store_tx *tx, int64_t device, const wire_msg *m, int64_t now, nx_err *e)
{
    char result[64];
    snprintf(result, sizeof result, "设备已确认（%s）", m->type);
    if (m->proto == WIRE_PROTO_IW) {
        if (m->serial == WIRE_NONE)
            return 0;
        store_param p[] = {P_INT(device), P_INT(m->serial), P_TEXT(result), P_INT(now)};
        return store_exec(tx,
                          "UPDATE device_commands SET state = 'done', done_at = $4, result = $3 "
                          "WHERE device_id = $1 AND state = 'sent' AND serial = $2",
                          p, 4, NULL, e);
    }
    /* A watch echoes the keyword: the oldest command sent with it (SOS1..3 answer an SOS command). */
    char word[24];
    str_copy(word, m->type, sizeof word);
    for (char *c = word; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    if (strncmp(word, "SOS", 3) == 0)
        word[3] = '\0';
    store_param p[] = {P_INT(device), P_TEXT(word), P_TEXT(result), P_INT(now)};
    return store_exec(tx,
                      "UPDATE device_commands SET state = 'done', done_at = $4, result = $3 WHERE id = "
                      "(SELECT MIN(id) FROM device_commands WHERE device_id = $1 AND state = 'sent' AND UPPER(wire) = $2)",
                      p, 4, NULL, e);
}

int devices_commands_tick(store_tx *tx, int64_t now, nx_err *e)
{
    store_param p[] = {P_INT(now), P_INT(now - DEVICES_CMD_REPLY_MS)};
    int rc = store_exec(tx,
                        "UPDATE device_commands SET state = 'expired', done_at = $1, result = '设备在有效期内未上线' "
                        "WHERE state = 'queued' AND expires_at <= $1",
                        p, 1, NULL, e);
    if (rc == 0)
        rc = store_exec(tx,
                        "UPDATE device_commands SET state = 'failed', done_at = $1, result = '设备未应答' "
                        "WHERE state = 'sent' AND sent_at <= $2",
                        p, 2, NULL, e);
    return rc;
}
