"""Black-box tests of reads that fail on the way: a list whose query fails on its Nth row, or a
one-record read whose only row fails, answers 503 (problem+json), never a short 200 or a 404.

The store has a test-only hook (src/store/store.h): with NX_STORE_FAULT="TEXT@N" in the server's
environment, the Nth row of every query whose SQL contains TEXT fails as a lost connection (NX_EBUSY,
which the HTTP layer answers with 503). One server holds one fault, so the test fills one data
directory (or PostgreSQL database) once and restarts the server on it with a different fault for each
phase. Each phase also reads an endpoint whose queries do not contain the fault's text and expects a
200 there: the fault is narrow, and the server is still healthy around it.

Covered: residents (list and search pages under every ordering, export, one record), households
(list, one), org's grids (list, one), devices (list, one, alarm list and export), visits (tasks,
care files, problems, visit records) and grid incidents. The fault texts below are pieces of the
SQL of the read under test, chosen to appear in no other query; if a module's SQL changes, the
phase's 503 check fails and the text must follow it."""
import datetime
import io
import os
import zipfile

from nxtest import Server, check, check_eq, is_problem, make_id, run

S = Server()
S.start()
ctx = {}

# The column list of a resident (people_read.c RES_COLS): every resident list, search, export page
# and one-record read, and nothing else.
RESIDENT_COLS = "r.sort_key, c.name FROM residents r"
# The column list of a household (people_household.c HH_COLS).
HOUSEHOLD_COLS = "hr.name, h.notes, h.address_enc"
# The columns of a grid in the organisation module (org.c): the grid list and one grid.
GRID_COLS = "FROM buildings b WHERE b.grid_id = g.id"
# The columns of a wristband (devices_registry.c DEVICE_COLS): the device list and one device.
DEVICE_COLS = "d.first_seen_at, d.last_seen_at, d.notes"
# The columns of an alarm (devices_alerts.c ALERT_COLS): the alarm list, its export and one alarm.
ALERT_COLS = "a.resolve_ms, ua.display_name, ur.display_name"
# The columns of a visit task (visits/tasks.c TASK_COLS): the task list and one task.
TASK_COLS = "t.escalated_at, t.visit_id, t.done_at"
# The columns of a care file, a problem, a visit record (visits) and a grid incident (grid).
FILE_COLS = "f.close_reason, f.last_visit_on, f.version"
PROBLEM_COLS = "p.rating_note, p.rated_at, p.overdue"
VISIT_COLS = "v.followup_on, v.remarks, v.user_id"
INCIDENT_COLS = "i.assignee_member_id, m.name, i.result"


def restart(fault=None):
    """Restart the server on the same data, with fault as NX_STORE_FAULT (None: no fault); a client
    logged in as admin."""
    S.stop()
    env = dict(os.environ)
    env.pop("NX_STORE_FAULT", None)
    if fault:
        env["NX_STORE_FAULT"] = fault
    S.start(env=env)
    return S.login()


def is_503(st, resp, body):
    return is_problem(st, resp, body, 503)


def test_setup():
    admin = S.login()
    st, _, street = admin.post("/api/v1/streets", {"name": "故障街道"})
    check_eq(st, 201, f"create street {street}")
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "故障社区"})
    check_eq(st, 201, f"create community {comm}")
    grids = []
    for name in ("甲网格", "乙网格", "丙网格"):
        st, _, g = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": name})
        check_eq(st, 201, f"create grid {g}")
        grids.append(g)
    households = []
    for number in ("F001", "F002", "F003"):
        st, _, h = admin.post("/api/v1/households", {"community_id": comm["id"], "number": number})
        check_eq(st, 201, f"create household {h}")
        households.append(h)
    residents = []
    names = ("赵一", "钱二", "孙三", "李四", "周五", "吴六")
    for i, name in enumerate(names):
        # phones: the first two share their last four digits and differ in the fifth from last
        body = {"name": name, "id_number": make_id("110105", f"19{40 + i:02d}0101", 11 + 2 * i),
                "community_id": comm["id"], "grid_id": grids[i % 3]["id"], "phone": f"138000{2 + i}1234"}
        st, _, r = admin.post("/api/v1/residents", body)
        check_eq(st, 201, f"create resident {name}: {r}")
        residents.append(r)
    # Two names of the longest allowed (40 characters), whose ICU sort keys make the longest cursors.
    for i, name in enumerate((("欧阳" + "春夏秋冬东南西北" * 5)[:40], ("欧阳" + "梅兰竹菊琴棋书画" * 5)[:40])):
        body = {"name": name, "id_number": make_id("110105", f"1990010{i + 1}", 31 + 2 * i),
                "community_id": comm["id"], "phone": f"138000{8 + i}1234"}
        st, _, r = admin.post("/api/v1/residents", body)
        check_eq(st, 201, f"create resident with a long name: {r}")
        residents.append(r)
    devices = []
    for i in range(3):
        st, _, d = admin.post("/api/v1/devices", {"imei": f"86000000000{i:04d}", "protocol": "watch",
                                                  "resident_id": residents[i]["id"]})
        check_eq(st, 201, f"add device {d}")
        devices.append(d)
    files = []
    for r in residents[:3]:
        st, _, f = admin.post("/api/v1/care-files", {"resident_id": r["id"], "category": "elderly", "level": "key"})
        check_eq(st, 201, f"open a care file {f}")
        files.append(f)
    ctx.update(community=comm, grids=grids, households=households, residents=residents, devices=devices,
               files=files)
    # Without a fault every read below answers 200 with every row: the baseline of the phases.
    st, _, body = admin.get("/api/v1/residents?limit=100")
    check_eq((st, len(body.get("items", []))), (200, len(residents)), "the full list without a fault")


def walk(admin, path, limit):
    """Every item of a list, page by page with its cursor: (ids, the first page's total)."""
    ids, cursor, total = [], None, None
    sep = "&" if "?" in path else "?"
    for _ in range(20):
        st, _, body = admin.get(f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        if not check_eq(st, 200, f"GET {path} page"):
            break
        total = body.get("total") if total is None else total
        ids += [r["id"] for r in body["items"]]
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return ids, total


def test_lists_whole_without_fault():
    """The reads the phases below break, whole: every ordering pages through all residents in the
    order of the one-page list, with the total on the first page; the tail search checks the whole
    tail; the household list pages and searches."""
    admin = S.login()
    n = len(ctx["residents"])
    for sort in ("name", "age", "-age", "created", "-created"):
        st, _, full = admin.get(f"/api/v1/residents?sort={sort}&limit=100")
        want = [r["id"] for r in full["items"]]
        check_eq(len(want), n, f"sort={sort}: one page holds all")
        ids, total = walk(admin, f"/api/v1/residents?sort={sort}", 2)
        check_eq(ids, want, f"sort={sort}: pages of 2 give the same order")
        check_eq(total, n, f"sort={sort}: total on the first page")
    # the longest cursors: the sort keys of the longest names
    ids, _ = walk(admin, "/api/v1/residents?sort=name&q=oy", 1)
    check_eq(len(ids), 2, "pages of one through the long names")
    st, _, body = admin.get("/api/v1/residents?q=1234")
    check_eq(len(body.get("items", [])), n, "four-digit phone tail finds all")
    st, _, body = admin.get("/api/v1/residents?q=21234")
    check_eq([r["name"] for r in body.get("items", [])], ["赵一"], "five-digit tail checks the fifth digit")
    ids, _ = walk(admin, "/api/v1/residents?q=01234", 1)
    check_eq(ids, [], "a tail nobody has")
    st, _, raw = admin.get("/api/v1/residents/export")
    z = zipfile.ZipFile(io.BytesIO(raw)) if st == 200 else None
    text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")) if z else ""
    check(st == 200 and all(r["name"] in text for r in ctx["residents"]) and "高龄" in text,
          f"the export holds every resident with their tags ({st})")
    hh = [h["id"] for h in ctx["households"]]
    ids, total = walk(admin, "/api/v1/households", 1)
    check_eq((ids, total), (hh, len(hh)), "households page by id with the total")
    st, _, body = admin.get("/api/v1/households?q=F00")
    check_eq(([h["id"] for h in body.get("items", [])], body.get("total")), (hh, len(hh)), "household number prefix")
    st, _, body = admin.get("/api/v1/households?q=F002")
    check_eq([h["number"] for h in body.get("items", [])], ["F002"], "one household by number")
    st, _, body = admin.get("/api/v1/households?q=F_0")
    check_eq(body.get("items"), [], "_ typed by a person is literal")


def test_resident_list_fails_mid_stream():
    """The list's third row fails: the answer is 503, not a 200 with the first two."""
    admin = restart(RESIDENT_COLS + "@3")
    for path in ("/api/v1/residents", "/api/v1/residents?limit=100", "/api/v1/residents?limit=2",
                 "/api/v1/residents?sort=-created", "/api/v1/residents?sort=age",
                 f"/api/v1/residents?community_id={ctx['community']['id']}", "/api/v1/residents?status=all"):
        st, resp, body = admin.get(path)
        check(is_503(st, resp, body), f"GET {path} failing on row 3 → 503 problem+json ({st} {body})")
    # The first page's rows come before the failing one, but the page needs the row after them to
    # know whether more follow: limit=1 reads two rows and is whole.
    st, _, body = admin.get("/api/v1/residents?limit=1")
    check_eq((st, len(body.get("items", []))), (200, 1), "a page that ends before the failing row")
    # The Excel export reads every row: it fails too, before anything is sent.
    st, resp, body = admin.get("/api/v1/residents/export")
    check(is_503(st, resp, body), f"export failing on row 3 → 503 ({st} {str(body)[:200]})")
    # One record reads one row: it is whole.
    rid = ctx["residents"][0]["id"]
    st, _, body = admin.get(f"/api/v1/residents/{rid}")
    check_eq((st, body.get("id")), (200, rid), "one record is read before row 3")
    # Control: other reads of the same server answer.
    for path in ("/api/v1/me", "/api/v1/households", "/api/v1/grids"):
        st, _, body = admin.get(path)
        check_eq(st, 200, f"control GET {path}")


def test_resident_record_fails():
    """The one row of a record fails: 503, not 404 (a failed read is not a missing resident)."""
    admin = restart(RESIDENT_COLS + "@1")
    for r in ctx["residents"][:2]:
        st, resp, body = admin.get(f"/api/v1/residents/{r['id']}")
        check(is_503(st, resp, body), f"GET /api/v1/residents/{r['id']} failing → 503, not 404 ({st} {body})")
    st, resp, body = admin.get("/api/v1/residents")
    check(is_503(st, resp, body), f"the list failing on its first row → 503, not an empty 200 ({st} {body})")
    st, _, body = admin.get(f"/api/v1/households/{ctx['households'][0]['id']}")
    check_eq(st, 200, "control GET one household")


def test_household_reads_fail():
    admin = restart(HOUSEHOLD_COLS + "@3")
    st, resp, body = admin.get("/api/v1/households")
    check(is_503(st, resp, body), f"household list failing on row 3 → 503 ({st} {body})")
    st, _, body = admin.get("/api/v1/households?limit=1")
    check_eq((st, len(body.get("items", []))), (200, 1), "a household page that ends before the failing row")
    admin = restart(HOUSEHOLD_COLS + "@1")
    st, resp, body = admin.get(f"/api/v1/households/{ctx['households'][0]['id']}")
    check(is_503(st, resp, body), f"one household failing → 503, not 404 ({st} {body})")
    st, _, body = admin.get("/api/v1/residents")
    check_eq(st, 200, "control GET /api/v1/residents")


def test_org_grid_reads_fail():
    """The organisation module (on the module kit): the grid list and one grid."""
    admin = restart(GRID_COLS + "@2")
    cid = ctx["community"]["id"]
    st, resp, body = admin.get(f"/api/v1/grids?community_id={cid}")
    check(is_503(st, resp, body), f"grid list failing on row 2 → 503 ({st} {body})")
    admin = restart(GRID_COLS + "@1")
    st, resp, body = admin.get(f"/api/v1/grids/{ctx['grids'][0]['id']}")
    check(is_503(st, resp, body), f"one grid failing → 503, not 404 ({st} {body})")
    st, _, body = admin.get("/api/v1/residents")
    check_eq(st, 200, "control GET /api/v1/residents")


def test_device_reads_fail():
    """The devices module (on the module kit): the device list mid-stream, one device, and the alarm
    list and export failing on their first row (no alarm exists: a failed read is not an empty list)."""
    admin = restart(DEVICE_COLS + "@2")
    st, resp, body = admin.get("/api/v1/devices")
    check(is_503(st, resp, body), f"device list failing on row 2 → 503 ({st} {body})")
    dev = ctx["devices"][0]["id"]
    st, _, body = admin.get(f"/api/v1/devices/{dev}")
    check_eq((st, body.get("id")), (200, dev), "one device is read before row 2")
    admin = restart(DEVICE_COLS + "@1")
    st, resp, body = admin.get(f"/api/v1/devices/{dev}")
    check(is_503(st, resp, body), f"one device failing → 503, not 404 ({st} {body})")
    admin = restart(ALERT_COLS + "@1")
    for path in ("/api/v1/alerts", "/api/v1/alerts/export"):
        st, resp, body = admin.get(path)
        check(is_503(st, resp, body), f"GET {path} failing on its first row → 503, not an empty 200 ({st})")
    st, _, body = admin.get("/api/v1/devices")
    check_eq(st, 200, "control GET /api/v1/devices")


def test_visit_task_list_fails():
    """The visits module (on the module kit): the task list failing on its first row."""
    admin = restart(TASK_COLS + "@1")
    st, resp, body = admin.get("/api/v1/visit-tasks")
    check(is_503(st, resp, body), f"visit task list failing → 503, not an empty 200 ({st} {body})")
    st, _, body = admin.get("/api/v1/visits")
    check_eq(st, 200, "control GET /api/v1/visits")


def test_care_and_grid_lists_fail():
    """The rest of visits and grid: the care file list mid-stream, one care file whole before the
    failing row; the problem, visit record and incident lists failing on their first row."""
    admin = restart(FILE_COLS + "@2")
    st, resp, body = admin.get("/api/v1/care-files")
    check(is_503(st, resp, body), f"care file list failing on row 2 → 503 ({st} {body})")
    fid = ctx["files"][0]["id"]
    st, _, body = admin.get(f"/api/v1/care-files/{fid}")
    check_eq((st, body.get("id")), (200, fid), "one care file is read before row 2")
    for text, path in ((PROBLEM_COLS, "/api/v1/problems"), (VISIT_COLS, "/api/v1/visits"),
                       (INCIDENT_COLS, "/api/v1/incidents")):
        admin = restart(text + "@1")
        st, resp, body = admin.get(path)
        check(is_503(st, resp, body), f"GET {path} failing on its first row → 503, not an empty 200 ({st} {body})")
        st, _, body = admin.get("/api/v1/care-files")
        check_eq(st, 200, f"control GET /api/v1/care-files beside {path}")


# The problems of a month's visit register (visits/care_stats.c): the second query of the register.
REGISTER_PROBLEMS = "p.visit_id, p.title, p.status, p.resolution FROM problems"


def test_visit_register_fails_on_its_problems():
    """The monthly visit register (xlsx) reads its visits, then their problems: the problems failing
    on their first row answers 503, not a register whose problem columns are silently empty."""
    admin = restart(None)
    today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()
    body = {"care_file_id": ctx["files"][0]["id"], "visited_on": today.isoformat(), "kind": "home",
            "visitors": "书记", "findings": "独自在家",
            "needs": [{"category": "meals", "title": "吃不上热饭", "urgency": "normal"}]}
    st, _, v = admin.post("/api/v1/visits", body)
    check_eq((st, len(v.get("problems", []))), (201, 1), f"a visit with one need {v}")
    path = f"/api/v1/visits/register?month={today.strftime('%Y-%m')}"
    st, _, data = admin.get(path)
    check_eq(st, 200, "the register without a fault")
    admin = restart(REGISTER_PROBLEMS + "@1")
    st, resp, body = admin.get(path)
    check(is_503(st, resp, body), f"the register's problems failing → 503, not a short register ({st})")
    st, _, body = admin.get("/api/v1/care-files")
    check_eq(st, 200, "control GET /api/v1/care-files beside the register")


def test_export_refuses_past_its_cap():
    """Not a fault but the same rule: an export over export_max_rows is refused (413), never a file
    that silently stops at the cap."""
    conf = os.path.join(S.data, "nuanxin.conf")
    before = open(conf).read() if os.path.exists(conf) else None
    n = len(ctx["residents"])
    try:
        with open(conf, "a") as f:
            f.write(f"\nexport_max_rows = {n - 1}\n")
        admin = restart(None)
        st, resp, body = admin.get("/api/v1/residents/export")
        check(is_problem(st, resp, body, 413), f"export of {n} residents with a cap of {n - 1} → 413 ({st})")
        st, _, body = admin.get(f"/api/v1/residents/export?community_id={ctx['community']['id']}&age_min=83")
        check_eq(st, 200, "an export under the cap")
    finally:
        if before is None:
            os.unlink(conf)
        else:
            with open(conf, "w") as f:
                f.write(before)


def test_no_fault_again():
    """Back without a fault, everything reads whole: the failures above changed nothing."""
    admin = restart(None)
    st, _, body = admin.get("/api/v1/residents?limit=100")
    check_eq((st, len(body.get("items", []))), (200, len(ctx["residents"])), "the full list again")
    S.cleanup()


run([test_setup, test_lists_whole_without_fault, test_resident_list_fails_mid_stream, test_resident_record_fails, test_household_reads_fail,
     test_org_grid_reads_fail, test_device_reads_fail, test_visit_task_list_fails, test_care_and_grid_lists_fail,
     test_visit_register_fails_on_its_problems, test_export_refuses_past_its_cap,
     test_no_fault_again])
