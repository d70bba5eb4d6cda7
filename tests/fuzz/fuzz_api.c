/* fuzz_api.c — libFuzzer target for the JSON bodies of the API's write routes and the search query
 * string, through the same functions the handlers call, on a real migrated SQLite store (a scratch
 * directory under /tmp, removed at exit).
 *
 * Input: the first byte picks the route, the rest is the request body, parsed the way
 * http_json_body parses it (jansson, duplicate keys refused, an object required); for the search
 * route the rest is the q= value (valid UTF-8 only, as the server checks before any handler).
 * Each route's function then validates the object field by field (base/jsonin.h and the module's
 * own rules) and, when it is valid, writes it: a fuzzed body can create rows.
 * Invariants: no crash; the answer is 0 or a client error (400/404/409/403/413/415/422/429's codes),
 * never NX_EINTERNAL, NX_EDB, NX_EIO or NX_ENOMEM (a 500 for a body is a defect); a refusal has a
 * Chinese message that is valid UTF-8; a search answers a JSON object with an "items" array. */
#include "fuzz.h"

#include "base/config.h"
#include "base/log.h"
#include "base/str.h"
#include "modules/app.h"
#include "modules/devices/devices.h"
#include "modules/grid/grid.h"
#include "modules/people/people.h"
#include "modules/services/services.h"
#include "modules/visits/visits.h"
#include "secure/crypto.h"
#include "secure/perm.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static nx_app app;
static nx_config cfg;
static const nx_principal admin = {.user_id = 1, .username = "admin", .role = ROLE_ADMIN, .scope = SCOPE_ALL,
                                   .ip = "127.0.0.1"};

static void cleanup(void)
{
    if (app.db)
        store_close(app.db);
    app.db = NULL;
    keys_free(app.keys);
    app.keys = NULL;
    const char *files[] = {"api.db", "api.db-wal", "api.db-shm", "nuanxin.key"};
    char p[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void setup(void)
{
    nx_log_threshold = NX_LOG_ERROR; /* refusals log at WARN: millions of lines otherwise */
    snprintf(dir, sizeof dir, "/tmp/nx_fuzz_api_XXXXXX");
    FUZZ_ASSERT(mkdtemp(dir) != NULL);
    atexit(cleanup);
    char db[128], key[128];
    snprintf(db, sizeof db, "%s/api.db", dir);
    snprintf(key, sizeof key, "%s/nuanxin.key", dir);
    nx_err e = {0};
    store_options o = {.readers = 2, .busy_ms = 2000, .create = true};
    FUZZ_ASSERT(store_open(db, &o, &app.db, &e) == 0);
    FUZZ_ASSERT(store_migrate(app.db, NULL, &e) == 0);
    FUZZ_ASSERT(keyfile_create(key, &e) == 0 && keys_load(key, &app.keys, &e) == 0);
    config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    app.cfg = &cfg;
    store_tx *tx;
    FUZZ_ASSERT(store_begin(app.db, STORE_WRITE, &tx, &e) == 0);
    FUZZ_ASSERT(store_exec_script(tx,
                                  "INSERT INTO streets (id, name, created_at) VALUES (1, '幸福街道', 0);"
                                  "INSERT INTO communities (id, street_id, name, created_at) VALUES (1, 1, '暖心社区', 0);"
                                  "INSERT INTO grids (id, community_id, name, created_at, updated_at) VALUES (1, 1, '一网格', 0, 0);",
                                  &e) == 0);
    FUZZ_ASSERT(store_commit(tx, &e) == 0);
    /* One resident through the real path, for the routes that name resident 1. */
    json_t *r = json_pack("{s:s, s:s, s:i, s:i}", "name", "王寿山", "id_number", "110105193603150013",
                          "community_id", 1, "grid_id", 1);
    resident_input in;
    int64_t id = 0;
    FUZZ_ASSERT(people_parse_resident(r, true, &in, &e) == 0);
    if (people_resident_create(&app, &admin, &in, &id, &e) != 0) {
        fprintf(stderr, "fuzz_api setup: %s\n", e.msg);
        abort();
    }
    json_decref(r);
}

static int r_resident_create(json_t *j, nx_err *e)
{
    resident_input in;
    int rc = people_parse_resident(j, true, &in, e);
    int64_t id;
    return rc ? rc : people_resident_create(&app, &admin, &in, &id, e);
}

static int r_resident_update(json_t *j, nx_err *e)
{
    resident_input in;
    int rc = people_parse_resident(j, false, &in, e);
    return rc ? rc : people_resident_update(&app, &admin, 1, &in, e);
}

static int r_item(json_t *j, nx_err *e)
{
    int64_t id;
    return services_item_save(&app, &admin, 0, j, &id, e);
}

static int r_item_update(json_t *j, nx_err *e)
{
    int64_t id;
    return services_item_save(&app, &admin, 1, j, &id, e);
}

static int r_application(json_t *j, nx_err *e)
{
    int64_t id;
    return services_app_create(&app, &admin, 1, 1, json_object_get(j, "form"), &id, e);
}

static int r_tiers(json_t *j, nx_err *e)
{
    return services_allowance_tiers_save(&app, &admin, j, e);
}

static int r_rules(json_t *j, nx_err *e)
{
    return devices_rules_put(&app, &admin, 1, j, e);
}

#define CREATE(name, fn)                                                                                     \
    static int name(json_t *j, nx_err *e)                                                                    \
    {                                                                                                        \
        int64_t id;                                                                                          \
        return fn(&app, &admin, j, &id, e);                                                                  \
    }
#define CHANGE(name, fn)                                                                                     \
    static int name(json_t *j, nx_err *e)                                                                    \
    {                                                                                                        \
        return fn(&app, &admin, 1, j, e);                                                                    \
    }
CREATE(r_member, grid_member_create)
CHANGE(r_member_update, grid_member_update)
CREATE(r_incident, grid_incident_create)
CHANGE(r_incident_dispatch, grid_incident_dispatch)
CHANGE(r_incident_handle, grid_incident_handle)
CREATE(r_vocab, visits_vocab_create)
CREATE(r_policy, visits_policy_create)
CHANGE(r_policy_update, visits_policy_update)
CREATE(r_care_file, visits_care_file_create)
CHANGE(r_care_file_update, visits_care_file_update)
CREATE(r_visit, visits_record)
CREATE(r_problem, visits_problem_create)
CHANGE(r_problem_note, visits_problem_note)
CHANGE(r_task_update, visits_task_update)

static int (*const routes[])(json_t *, nx_err *) = {
    r_resident_create, r_resident_update, r_item,         r_item_update,     r_application,
    r_tiers,           r_rules,           r_member,       r_member_update,   r_incident,
    r_incident_dispatch, r_incident_handle, r_vocab,      r_policy,          r_policy_update,
    r_care_file,       r_care_file_update, r_visit,       r_problem,         r_problem_note,
    r_task_update,
};
#define NROUTES (sizeof routes / sizeof routes[0])

static void check_answer(int rc, const nx_err *e)
{
    if (rc == 0)
        return;
    if (rc == NX_EINTERNAL || rc == NX_EDB || rc == NX_EIO || rc == NX_ENOMEM)
        fprintf(stderr, "fuzz_api: server error %s: %s (field %s)\n", nx_code_name(rc), e->msg, e->field);
    FUZZ_ASSERT(rc == NX_EINVAL || rc == NX_ENOTFOUND || rc == NX_ECONFLICT || rc == NX_EPERM ||
                rc == NX_ETOOBIG || rc == NX_EUNSUPP || rc == NX_ELOCKED);
    FUZZ_ASSERT(e->msg[0] != '\0' && str_utf8_valid(e->msg, strlen(e->msg)));
}

static void search(const uint8_t *data, size_t size)
{
    char q[512];
    if (size >= sizeof q || memchr(data, '\0', size) || !str_utf8_valid((const char *)data, size))
        return;
    memcpy(q, data, size);
    q[size] = '\0';
    resident_query rq = {.q = q, .age_min = -1, .age_max = -1, .status = "all", .limit = 20, .with_total = true};
    json_t *out = NULL;
    nx_err e = {0};
    int rc = people_resident_search(&app, &admin, &rq, &out, &e);
    check_answer(rc, &e);
    if (rc == 0) {
        FUZZ_ASSERT(json_is_array(json_object_get(out, "items")));
        json_decref(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (app.db == NULL)
        setup();
    if (size < 1 || size > 65536)
        return 0;
    size_t pick = data[0] % (NROUTES + 1);
    if (pick == NROUTES) {
        search(data + 1, size - 1);
        return 0;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        return 0; /* http_json_body answers 400 */
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    nx_err e = {0};
    int rc = routes[pick](j, &e);
    check_answer(rc, &e);
    json_decref(j);
    return 0;
}
