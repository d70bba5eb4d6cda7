/* user.c — `nuanxin user add|passwd|list|disable|enable`: account administration from the shell,
 * acting as the system (audited with no user). Passwords come from standard input when it is not a
 * terminal, so scripts can pipe them; on a terminal they are asked twice without echo. */
#include "cli/cli.h"

#include "base/str.h"
#include "cli/flags.h"
#include "secure/session.h"

#include <stdio.h>
#include <string.h>

int cmd_user(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "用法：nuanxin user add|passwd|list|disable|enable …\n");
        return 2;
    }
    const char *sub = argv[1];
    const char *name = NULL, *role = NULL, *scope = NULL, *display = NULL;
    user_input in = {.disabled = -1};
    /* only `user add` takes flags */
    cli_flag add_flags[] = {
        CLI_STR("--role", &role, "角色 admin|street|staff|grid|canteen|volunteer|resident|family"),
        CLI_STR("--scope", &scope, "范围 all|street|community|grid|self"),
        CLI_INT("--street", &in.street_id, 1, INT64_MAX, "正整数", "街道编号 street id"),
        CLI_INT("--community", &in.community_id, 1, INT64_MAX, "正整数", "社区编号 community id"),
        CLI_INT("--grid", &in.grid_id, 1, INT64_MAX, "正整数", "网格编号 grid id"),
        CLI_INT("--resident", &in.resident_id, 1, INT64_MAX, "正整数", "居民编号 resident id"),
        CLI_STR("--display", &display, "姓名 display name"),
    };
    bool add = strcmp(sub, "add") == 0;
    if (cli_flags_parse(add_flags, add ? sizeof add_flags / sizeof add_flags[0] : 0, argc, argv, 2, &name, 1, NULL))
        return 2;
    if (strcmp(sub, "list") != 0 && name == NULL) {
        fprintf(stderr, "nuanxin: 请给出用户名，如 nuanxin user %s NAME\n", sub);
        return 2;
    }
    nx_app app;
    if (cli_open_app(&app, false, true))
        return 1;
    nx_err e;
    nx_err_clear(&e);
    int rc = 0;
    nx_principal system = {.role = ROLE_ADMIN, .scope = SCOPE_ALL, .username = "system"};
    if (add) {
        in.username = name;
        in.display_name = display;
        if (!role || !(in.role = role_parse(role))) {
            fprintf(stderr, "nuanxin: 请用 --role 指定角色：admin、street、staff、grid、canteen、volunteer、resident、family\n");
            rc = 2;
            goto out;
        }
        if (scope && !(in.scope = scope_parse(scope))) {
            fprintf(stderr, "nuanxin: --scope 应为 all、street、community、grid 或 self\n");
            rc = 2;
            goto out;
        }
        char pw[256];
        if (cli_read_password("新密码：", pw, sizeof pw)) {
            rc = 1;
            goto out;
        }
        in.password = pw;
        int64_t id;
        rc = users_create(app.db, NULL, &in, &id, &e);
        if (rc == 0)
            printf("已创建账号 %s（编号 %lld，角色 %s）\n", name, (long long)id, role_label(in.role));
    } else if (strcmp(sub, "passwd") == 0) {
        char pw[256];
        if (cli_read_password("新密码：", pw, sizeof pw)) {
            rc = 1;
            goto out;
        }
        rc = users_set_password(app.db, NULL, name, pw, false, &e);
        if (rc == 0)
            printf("已修改 %s 的密码，其所有登录会话已失效\n", name);
    } else if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
        bool disable = strcmp(sub, "disable") == 0;
        rc = users_set_disabled(app.db, NULL, name, disable, &e);
        if (rc == 0)
            printf("已%s账号 %s\n", disable ? "停用" : "启用", name);
    } else if (strcmp(sub, "list") == 0) {
        json_t *page = NULL;
        users_filter f = {.limit = 500, .max = 500};
        printf("%-6s %-16s %-14s %-10s %-10s %s\n", "编号", "用户名", "姓名", "角色", "范围", "状态");
        while ((rc = users_list(app.db, &system, &f, &page, &e)) == 0) {
            json_t *list = json_object_get(page, "items");
            size_t i;
            json_t *u;
            json_array_foreach(list, i, u) {
                printf("%-6lld %-16s %-14s %-10s %-10s %s\n", (long long)json_integer_value(json_object_get(u, "id")),
                       json_string_value(json_object_get(u, "username")),
                       json_string_value(json_object_get(u, "display_name")),
                       json_string_value(json_object_get(u, "role")), json_string_value(json_object_get(u, "scope")),
                       json_is_true(json_object_get(u, "disabled")) ? "停用" : "正常");
            }
            const char *next = json_string_value(json_object_get(page, "next_cursor"));
            bool more = next && str_to_i64(next, 1, INT64_MAX, &f.after) == 0;
            json_decref(page);
            if (!more)
                break;
        }
    } else {
        fprintf(stderr, "nuanxin: 未知的 user 子命令 %s\n", sub);
        rc = 2;
        goto out;
    }
    if (rc < 0) {
        fprintf(stderr, "nuanxin: %s\n", e.msg[0] ? e.msg : "操作失败");
        rc = 1;
    }
out:
    cli_close_app(&app);
    return rc;
}
