/* demo_messages.c — notices for the demo community, written through the message module's rules
 * (messages_notice_create) as the community's staff account would, so receipts, inbox messages
 * and audit entries are real; and a policy briefing the demo resident has signed up for. The events the rest of the demo emits (incidents, problems, the
 * scheduler's escalations, alarms) become inbox messages by themselves when the server's message
 * service reads the outbox: nothing is written here for them. */
#include "cli/demo_messages.h"

#include "base/clock.h"
#include "modules/messages/messages.h"

#include <stdio.h>
#include <string.h>

int demo_messages_fill(nx_app *app, int64_t community, int64_t self_resident, json_t *summary, nx_err *e)
{
    store_tx *tx;
    int rc = store_begin(app->db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    int64_t uid = 0, grid = 0;
    store_param u[] = {P_TEXT("shequ")};
    store_param r[] = {P_INT(self_resident)};
    rc = store_one_int(tx, "SELECT id FROM users WHERE username = $1", u, 1, &uid, e);
    if (rc == 0)
        rc = store_one_int(tx, "SELECT COALESCE(grid_id, 0) FROM residents WHERE id = $1", r, 1, &grid, e);
    store_rollback(tx);
    if (rc == NX_ENOTFOUND || !grid)
        return 0; /* an older demo without the account or the resident: nothing to add */
    if (rc)
        return rc;
    nx_principal who = {.user_id = uid, .username = "shequ", .role = ROLE_STAFF, .scope = SCOPE_COMMUNITY,
                        .community_id = community};
    json_t *one = json_pack("{s:s, s:s, s:{s:[I]}}", "title", "本周六上午网格内停水检修",
                            "body", "因供水管网检修，本周六 8:00—12:00 本网格停水，请提前储水。如有困难请联系网格员。",
                            "audience", "grids", (json_int_t)grid);
    int64_t id = 0;
    rc = messages_notice_create(app, &who, one, &id, e);
    json_decref(one);
    if (rc)
        return rc;
    /* tomorrow 09:00 Beijing time */
    int64_t day = (clock_now_ms() + NX_TZ_OFFSET_MS) / 86400000LL + 1;
    nx_date d = date_from_days(day);
    char at[32], ymd[11];
    date_format(d, ymd);
    snprintf(at, sizeof at, "%sT09:00", ymd);
    json_t *two = json_pack("{s:s, s:s, s:s, s:{s:[I]}}", "title", "新版医保政策宣讲会",
                            "body", "社区将于本周举办医保新政宣讲，欢迎居民参加。", "publish_at", at,
                            "audience", "communities", (json_int_t)community);
    rc = messages_notice_create(app, &who, two, &id, e);
    json_decref(two);
    if (rc)
        return rc;
    json_object_set_new(summary, "notices", json_integer(2));
    /* the briefing itself, three days ahead at 14:30, and the demo resident signed up for it */
    date_format(date_from_days(day + 2), ymd);
    snprintf(at, sizeof at, "%sT14:30", ymd);
    json_t *three = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "title", "新版医保政策宣讲会", "topic",
                              "城乡居民医保缴费标准、门诊报销比例和异地就医备案的变化", "speaker", "社区党委书记",
                              "place", "社区党群服务中心二楼会议室", "starts_at", at, "capacity", (json_int_t)40);
    rc = messages_briefing_create(app, &who, three, &id, e);
    json_decref(three);
    if (rc)
        return rc;
    nx_principal me = {.role = ROLE_RESIDENT, .scope = SCOPE_SELF, .community_id = community, .grid_id = grid,
                       .resident_id = self_resident};
    json_t *none = json_object();
    rc = messages_briefing_signup(app, &me, id, none, e);
    json_decref(none);
    if (rc == 0)
        json_object_set_new(summary, "briefings", json_integer(1));
    return rc;
}
