"""Black-box tests of care files, the home-visit system, problems to solve and grid management
(issue 6): a 勤访 care file gets weekly tasks; a grid worker records a visit that raises a need; the
need becomes a problem that is assigned, solved and rated by the resident; an overdue task shows as
overdue and escalates; 遇事必访 from life events, level raises and a resident's death; photos with
size and type limits; incidents from report to close; grid scopes (404 for another grid); bad input
changes nothing; the dashboard and the monthly register."""
import datetime
import urllib.parse
import io
import time
import zipfile

from nxtest import Server, check, check_eq, is_problem, make_id, run, run_cli

S = Server(extra=["--max-upload", "4096"])
S.start()
admin = S.login()
ctx = {}
PW = "Care2026pass"
TODAY = datetime.date.today()  # the server and the test run in the same (Shanghai) day in CI


def local_today():
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()


def schedule(day):
    p = run_cli(S.data, "visits", "schedule", "--now", day.isoformat() + "T10:00:00+08:00")
    import json
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "关怀街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "关怀社区"})
    check_eq(st, 201, "community")
    grids = []
    for name in ("一网格", "二网格"):
        st, _, g = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": name})
        grids.append(g)
    st, _, estate = admin.post("/api/v1/estates", {"community_id": comm["id"], "name": "暖阳小区"})
    rooms = []
    for i, g in enumerate(grids):
        st, _, b = admin.post("/api/v1/buildings", {"estate_id": estate["id"], "grid_id": g["id"], "name": f"{i + 1}号楼"})
        st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "101"})
        rooms.append(room)
    st, _, hh = admin.post("/api/v1/households", {"community_id": comm["id"], "room_id": rooms[0]["id"], "number": "G1-101"})
    check_eq(st, 201, f"household {hh}")
    people = [("周桂兰", make_id("110105", "19340512", 42), 0, True), ("吴德厚", make_id("110105", "19320101", 31), 0, True),
              ("郑秀珍", make_id("110105", "19400808", 62), 1, False)]
    res = []
    for name, idn, g, in_hh in people:
        body = {"name": name, "id_number": idn, "room_id": rooms[g]["id"]}
        if in_hh:
            body["household_id"] = hh["id"]
        st, _, r = admin.post("/api/v1/residents", body)
        check_eq(st, 201, f"resident {name} {r}")
        res.append(r)
    accounts = [("care_g1", "grid", ["--grid", str(grids[0]["id"])]), ("care_g2", "grid", ["--grid", str(grids[1]["id"])]),
                ("care_staff", "staff", ["--community", str(comm["id"])]),
                ("care_street", "street", ["--street", str(street["id"])]),
                ("care_zhou", "resident", ["--resident", str(res[0]["id"])]),
                ("care_zheng", "resident", ["--resident", str(res[2]["id"])])]
    for name, role, extra in accounts:
        p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
    ctx.update(comm=comm, grids=grids, res=res, hh=hh)
    ctx["g1"] = S.login("care_g1", PW)
    ctx["g2"] = S.login("care_g2", PW)
    ctx["staff"] = S.login("care_staff", PW)
    ctx["street"] = S.login("care_street", PW)
    ctx["zhou"] = S.login("care_zhou", PW)
    ctx["zheng"] = S.login("care_zheng", PW)
    st, _, users = admin.get("/api/v1/users?limit=100")
    ctx["uid"] = {u["username"]: u["id"] for u in users["items"]}


def test_vocab_and_policies():
    st, _, v = admin.get("/api/v1/care/vocab?kind=care_level")
    check_eq([x["label"] for x in v["items"]], ["常态", "重点", "勤访"], "levels as data")
    st, _, v = ctx["g1"].get("/api/v1/care/vocab?kind=care_category")
    check("独居" in [x["label"] for x in v["items"]], "categories readable by a grid worker")
    st, resp, body = ctx["staff"].post("/api/v1/care/vocab", {"kind": "care_category", "code": "veteran", "label": "退役军人"})
    check(is_problem(st, resp, body, 403), "staff cannot edit vocabularies")
    st, _, body = admin.post("/api/v1/care/vocab", {"kind": "care_category", "code": "veteran", "label": "退役军人"})
    check_eq(st, 201, f"admin adds a category {body}")
    st, resp, body = admin.post("/api/v1/care/vocab", {"kind": "care_category", "code": "veteran", "label": "重复"})
    check(is_problem(st, resp, body, 409, "code"), f"duplicate code ({st} {body})")
    st, resp, body = admin.post("/api/v1/care/vocab", {"kind": "colour", "code": "x", "label": "x"})
    check(is_problem(st, resp, body, 422, "kind"), "unknown vocabulary kind")
    st, _, pols = ctx["staff"].get("/api/v1/care/policies")
    by_level = {p["level"]: p for p in pols["items"] if p["community_id"] is None and p["category"] is None}
    check_eq((by_level["normal"]["period_unit"], by_level["normal"]["period_count"]), ("month", 1), "常态 monthly")
    check_eq((by_level["key"]["period_unit"], by_level["key"]["period_count"]), ("week", 2), "重点 biweekly")
    check_eq((by_level["frequent"]["period_unit"], by_level["frequent"]["period_count"]), ("week", 1), "勤访 weekly")
    st, resp, body = admin.post("/api/v1/care/policies", {"level": "frequent", "period_unit": "week"})
    check(is_problem(st, resp, body, 409), f"same policy key twice ({st})")
    st, resp, body = admin.post("/api/v1/care/policies", {"level": "frequent", "period_unit": "day",
                                                          "community_id": ctx["comm"]["id"]})
    check(is_problem(st, resp, body, 422, "period_unit"), "bad period unit")


def test_care_file_weekly_tasks():
    zhou = ctx["res"][0]
    st, _, f = ctx["g1"].post("/api/v1/care-files", {"resident_id": zhou["id"], "category": "living_alone",
                                                    "level": "frequent", "living": "独居，子女在外地",
                                                    "health": "高血压", "needs": "助餐"})
    check_eq(st, 201, f"grid worker opens a care file {f}")
    check_eq((f.get("level_label"), f.get("category_label")), ("勤访", "独居"), "labels")
    check_eq(len(f.get("open_tasks", [])), 1, "the current week's task exists at once")
    ctx["file"] = f
    t = f["open_tasks"][0]
    due = datetime.date.fromisoformat(t["due_date"])
    check_eq(due.weekday(), 6, "a weekly task is due on Sunday")
    check(0 <= (due - local_today()).days <= 6, f"due this week ({due})")
    st, resp, body = ctx["g1"].post("/api/v1/care-files", {"resident_id": zhou["id"], "category": "elderly",
                                                           "level": "key"})
    check(is_problem(st, resp, body, 409, "resident_id"), "one active file per resident")
    # the scheduler: the next weeks get one task each, idempotently
    r1 = schedule(local_today() + datetime.timedelta(days=7))
    check(r1["created"] >= 1, f"week +1 task created {r1}")
    r2 = schedule(local_today() + datetime.timedelta(days=7))
    check_eq(r2["created"], 0, "running twice creates nothing")
    st, _, tasks = ctx["g1"].get(f"/api/v1/visit-tasks?care_file_id={f['id']}&status=all&kind=routine")
    starts = sorted(x["period_start"] for x in tasks["items"])
    check_eq(len(starts), 2, f"two weekly tasks {starts}")
    if len(starts) == 2:
        a, b = (datetime.date.fromisoformat(s) for s in starts)
        check_eq(((b - a).days, a.weekday()), (7, 0), "periods are Monday-Sunday weeks, 7 days apart")


def test_visit_need_problem_rating():
    f = ctx["file"]
    g1 = ctx["g1"]
    body = {"care_file_id": f["id"], "visited_on": local_today().isoformat(), "kind": "home",
            "visitors": "网格员李娜、书记王芳", "findings": "老人独自在家，午饭没有热饭", "mood": "fair",
            "health": "fair", "followup_on": (local_today() + datetime.timedelta(days=3)).isoformat(),
            "needs": [{"category": "meals", "title": "吃不上热饭", "description": "希望有人送餐", "urgency": "urgent"}]}
    st, resp, v = g1.post("/api/v1/visits", body)
    check_eq(st, 201, f"grid worker records a visit {v}")
    check(resp.getheader("Location", "").startswith("/api/v1/visits/"), "Location header")
    check_eq(len(v.get("problems", [])), 1, "the need became a problem")
    ctx["visit"] = v
    st, _, f2 = g1.get(f"/api/v1/care-files/{f['id']}")
    check_eq(f2.get("last_visit_on"), local_today().isoformat(), "last visit recorded")
    reasons = sorted(t["reason"] for t in f2["open_tasks"])
    check_eq(reasons, ["followup", "routine"], "this week's task done; next week's and a follow-up open")
    pid = v["problems"][0]["id"]
    staff = ctx["staff"]
    st, _, p = staff.patch(f"/api/v1/problems/{pid}", {"assignee_user_id": ctx["uid"]["care_g1"],
                                                       "deadline": (local_today() + datetime.timedelta(days=5)).isoformat()})
    check(st == 200 and p["status"] == "assigned", f"assigned {p}")
    zhou = ctx["zhou"]
    st, resp, body = zhou.post(f"/api/v1/problems/{pid}/rate", {"rating": 5})
    check(is_problem(st, resp, body, 409), f"no rating before resolution ({st})")
    st, _, p = g1.post(f"/api/v1/problems/{pid}/notes", {"note": "已联系幸福食堂"})
    check_eq(p.get("status"), "in_progress", "a note moves it in progress")
    st, _, p = g1.post(f"/api/v1/problems/{pid}/resolve", {"resolution": "幸福食堂每天中午送餐上门"})
    check(st == 200 and p["status"] == "resolved", f"resolved {p}")
    st, _, mine = zhou.get("/api/v1/problems")
    check_eq([x["id"] for x in mine["items"]], [pid], "the resident sees her own problem")
    st, resp, body = ctx["zheng"].post(f"/api/v1/problems/{pid}/rate", {"rating": 1})
    check(is_problem(st, resp, body, 404), f"another resident cannot see or rate it ({st})")
    st, resp, body = zhou.post(f"/api/v1/problems/{pid}/rate", {"rating": 6})
    check(is_problem(st, resp, body, 422, "rating"), "rating 1-5")
    st, _, p = zhou.post(f"/api/v1/problems/{pid}/rate", {"rating": 5, "note": "很满意"})
    check(st == 200 and p["rating"] == 5 and p["status"] == "closed", f"rated by the resident {p}")
    actions = [e["action"] for e in p["timeline"]]
    check_eq(actions, ["raised", "assigned", "progress", "resolved", "rated"], "timeline of every change")
    st, resp, body = zhou.post(f"/api/v1/problems/{pid}/rate", {"rating": 4})
    check(is_problem(st, resp, body, 409), "rated once")
    check("已评价" in body.get("detail", "") + body.get("title", "") + str(body.get("errors", "")),
          f"a second rating is told it was rated already, not that the problem is unresolved ({body})")
    # a resident raises a problem for herself only
    st, _, own = zhou.post("/api/v1/problems", {"category": "housing", "title": "厨房水管漏水"})
    check(st == 201 and own["source"] == "resident" and own["resident_id"] == ctx["res"][0]["id"], f"own problem {own}")
    # time lines name people by their display name, not their account's user name
    st, _, me = admin.get("/api/v1/me")
    st, _, noted = admin.post(f"/api/v1/problems/{own['id']}/notes", {"note": "已电话联系物业"})
    check_eq(st, 200, f"a note by the administrator {noted}")
    check_eq(noted["timeline"][-1]["actor"], me["display_name"], "the time line shows the display name")
    check(me["display_name"] != me["username"], "the administrator's display name differs from its user name")
    # the audit log reads in Chinese: the action, the object, the changed fields, and who by display name
    st, _, log = admin.get(f"/api/v1/audit?object_type=problem&object_id={pid}")
    assigned = [x for x in log["items"] if x["action"] == "assigned"]
    check(assigned and assigned[0]["action_label"] == "交办" and assigned[0]["object_label"] == "诉求",
          f"action and object in Chinese: {assigned}")
    text = assigned[0].get("detail_text", "") if assigned else ""
    check("责任人" in text and "办理期限" in text and "assignee_user_id" not in text and "fields" not in text,
          f"the changed fields in Chinese: {text!r}")
    st, _, log = admin.get(f"/api/v1/audit?object_type=problem&object_id={own['id']}")
    check(any(x["user_name"] == me["display_name"] for x in log["items"]), f"who by display name: {log['items']}")
    st, resp, body = zhou.post("/api/v1/problems", {"category": "housing", "title": "x", "resident_id": ctx["res"][2]["id"]})
    check(is_problem(st, resp, body, 422, "resident_id"), "a resident cannot raise for someone else")
    # the list that opens on the work: unresolved only, oldest first, paged forward
    st, _, pend = ctx["staff"].get("/api/v1/problems?status=pending&order=oldest&limit=1")
    check(st == 200 and pend["items"] and pend["items"][0]["status"] not in ("resolved", "closed"), f"pending {pend}")
    st, _, nxt = ctx["staff"].get(f"/api/v1/problems?status=pending&order=oldest&limit=1&cursor={pend['next_cursor']}") \
        if pend.get("next_cursor") else (200, None, {"items": []})
    ids = [x["id"] for x in pend["items"] + nxt["items"]]
    check_eq(ids, sorted(ids), "oldest first across pages")
    st, resp, body = ctx["staff"].get("/api/v1/problems?order=sideways")
    check(is_problem(st, resp, body, 422, "order") or is_problem(st, resp, body, 400), "bad order refused")


def test_overdue_and_escalation():
    f = ctx["file"]
    later = local_today() + datetime.timedelta(days=21)
    rep = schedule(later)
    check(rep["overdue"] >= 1 and rep["escalated"] >= 1, f"overdue and escalated {rep}")
    st, _, tasks = ctx["g1"].get(f"/api/v1/visit-tasks?care_file_id={f['id']}&overdue=true")
    wk1 = [t for t in tasks["items"] if t["kind"] == "routine" and t["status"] == "open"]
    check(wk1 and all(t["overdue"] for t in wk1), f"open past tasks are overdue {tasks['items']}")
    first = min(wk1, key=lambda t: t["period_start"]) if wk1 else None
    if first:
        check(first["escalated"], f"the oldest escalated {first}")
        st, _, full = ctx["g1"].get(f"/api/v1/visit-tasks/{first['id']}")
        check("escalated" in [e["action"] for e in full["timeline"]], "escalation on the task's timeline")
    st, _, esc = ctx["g1"].get(f"/api/v1/visit-tasks?care_file_id={f['id']}&escalated=true")
    check_eq(st, 200, "escalated filter")
    check(esc["items"] and all(t["escalated"] for t in esc["items"]), f"only escalated tasks: {esc['items']}")
    check(len(esc["items"]) < len(tasks["items"]) + 1 and (not first or first["id"] in [t["id"] for t in esc["items"]]),
          "the escalated task is listed")
    st, resp, body = ctx["g1"].get("/api/v1/visit-tasks?escalated=perhaps")
    check(is_problem(st, resp, body, 422, "escalated"), "escalated must be a boolean")
    # care files found by the resident's name, its pinyin and its initials
    for q in ("桂兰", "zhougui", "zgl"):
        st, _, found = ctx["staff"].get("/api/v1/care-files?q=" + urllib.parse.quote(q))
        check_eq([x["resident_id"] for x in found["items"]], [ctx["res"][0]["id"]], f"care file search {q}")
    st, _, found = ctx["staff"].get("/api/v1/care-files?q=" + urllib.parse.quote("桂%"))
    check_eq(found["items"], [], "% is not a wildcard")
    st, resp, body = ctx["staff"].get("/api/v1/care-files?q=" + "x" * 41)
    check(is_problem(st, resp, body, 422, "q"), "search too long")
    st, _, stats = ctx["staff"].get("/api/v1/stats/care")
    check(any(o["resident_id"] == ctx["res"][0]["id"] for o in stats["overdue"]), "overdue list on the dashboard")
    check(stats["files"] >= 1 and 0 <= stats["coverage"] <= 1, f"coverage {stats['coverage']}")
    check(stats["problems"]["avg_rating"] == 5, f"average rating {stats['problems']}")
    check_eq(stats["problems"]["by_status"], by_status(ctx["staff"], "/api/v1/problems"), "problems by status")


def by_status(who, path):
    """The rows of a list (one page, all of them) counted by status, as the dashboard counts them."""
    st, _, page = who.get(path + "?limit=100")
    check(st == 200 and not page.get("next_cursor"), f"{path} in one page")
    counts = {}
    for x in page["items"]:
        counts[x["status"]] = counts.get(x["status"], 0) + 1
    return counts


def test_life_events_and_raise():
    f = ctx["file"]
    g1 = ctx["g1"]
    st, _, t = g1.post(f"/api/v1/care-files/{f['id']}/events", {"kind": "hospitalised", "note": "脑梗住院"})
    check(st == 201 and t["reason"] == "hospitalised" and t["kind"] == "event", f"life event task {t}")
    st, resp, body = g1.post(f"/api/v1/care-files/{f['id']}/events", {"kind": "party"})
    check(is_problem(st, resp, body, 422, "kind"), "unknown life event kind")
    st, _, t = g1.post(f"/api/v1/care-files/{f['id']}/tasks", {"note": "节前慰问"})
    check(st == 201 and t["reason"] == "manual", "manual trigger")
    wu = ctx["res"][1]
    st, _, wf = g1.post("/api/v1/care-files", {"resident_id": wu["id"], "category": "elderly", "level": "normal"})
    check_eq(st, 201, "second file")
    ctx["wu_file"] = wf
    st, _, wf2 = g1.patch(f"/api/v1/care-files/{wf['id']}", {"level": "key"})
    check("level_raise" in [x["reason"] for x in wf2["open_tasks"]], f"a raise makes a 遇事必访 task {wf2['open_tasks']}")
    routine = [x for x in wf2["open_tasks"] if x["kind"] == "routine"]
    check_eq(len(routine), 1, f"the raise closes the old level's routine task: one open ({routine})")
    st, _, r = g1.get(f"/api/v1/residents/{wu['id']}")
    check_eq(r.get("care_level"), "key", "the resident record's care level follows the file's")
    st, _, wf3 = g1.patch(f"/api/v1/care-files/{wf['id']}", {"level": "normal"})
    check_eq([x["reason"] for x in wf3["open_tasks"]].count("level_raise"), 1, "lowering makes no task")
    check_eq(len([x for x in wf3["open_tasks"] if x["kind"] == "routine"]), 1, "one routine task after lowering")
    st, _, ov = ctx["staff"].get("/api/v1/stats/overview")
    st, _, files = ctx["staff"].get("/api/v1/care-files?limit=200")
    check_eq(ov.get("care_files"), len(files.get("items", [])), "the dashboard's 关怀对象 counts the active care files")


def test_death_closes_file_and_visits_family():
    wu = ctx["res"][1]
    st, _, r = admin.patch(f"/api/v1/residents/{wu['id']}", {"status": "deceased"})
    check_eq(st, 200, "resident deceased")
    deadline = time.time() + 15
    closed = bereaved = False
    while time.time() < deadline and not (closed and bereaved):
        st, _, wf = ctx["g1"].get(f"/api/v1/care-files/{ctx['wu_file']['id']}")
        closed = wf.get("status") == "closed"
        st, _, tasks = ctx["g1"].get(f"/api/v1/visit-tasks?care_file_id={ctx['file']['id']}&kind=event")
        bereaved = "bereaved" in [t["reason"] for t in tasks["items"]]
        time.sleep(0.3)
    check(closed, "the deceased's care file closed by the status event")
    check(bereaved, "a 遇事必访 task for the bereaved household member")
    st, _, tasks = ctx["g1"].get(f"/api/v1/visit-tasks?care_file_id={ctx['file']['id']}&kind=event&status=all")
    check_eq([t["reason"] for t in tasks["items"]].count("bereaved"), 1, "exactly one")


def test_scopes():
    f, g2, street = ctx["file"], ctx["g2"], ctx["street"]
    st, resp, body = g2.get(f"/api/v1/care-files/{f['id']}")
    check(is_problem(st, resp, body, 404), f"other grid's care file is 404 ({st})")
    check("周桂兰" not in str(body), "nothing leaked")
    st, _, lst = g2.get("/api/v1/care-files")
    check(f["id"] not in [x["id"] for x in lst["items"]], "not listed for another grid")
    st, resp, body = g2.patch(f"/api/v1/care-files/{f['id']}", {"needs": "x"})
    check(is_problem(st, resp, body, 404), "cannot edit another grid's file")
    st, resp, body = g2.post("/api/v1/visits", {"care_file_id": f["id"], "visited_on": local_today().isoformat(),
                                                "kind": "phone", "visitors": "x"})
    check(is_problem(st, resp, body, 404), "cannot record a visit in another grid")
    st, resp, body = g2.get(f"/api/v1/visits/{ctx['visit']['id']}")
    check(is_problem(st, resp, body, 404), "cannot read another grid's visit")
    st, _, lst = g2.get("/api/v1/problems")
    check_eq(lst["items"], [], "no problems of another grid")
    st, _, lst = g2.get("/api/v1/visit-tasks?status=all")
    check_eq(lst["items"], [], "no tasks of another grid")
    st, _, body = street.get(f"/api/v1/care-files/{f['id']}")
    check_eq(st, 200, "a street officer reads")
    st, resp, body = street.post(f"/api/v1/care-files/{f['id']}/tasks", {})
    check(is_problem(st, resp, body, 403), "a street officer does not write")
    st, resp, body = ctx["zhou"].get(f"/api/v1/care-files/{f['id']}")
    check(is_problem(st, resp, body, 403), "residents do not read care files")


def count(path, client=None):
    st, _, body = (client or admin).get(path)
    return len(body.get("items", []))


def test_bad_input_changes_nothing():
    g1 = ctx["g1"]
    f = ctx["file"]
    before = (count("/api/v1/care-files?status=all"), count("/api/v1/visits?limit=500"), count("/api/v1/problems?limit=500"))
    good = {"care_file_id": f["id"], "visited_on": local_today().isoformat(), "kind": "home", "visitors": "李娜"}
    cases = [(dict(good, weather="晴"), 422, "weather"), (dict(good, kind="letter"), 422, "kind"),
             (dict(good, visited_on="2026-02-30"), 422, "visited_on"),
             (dict(good, visited_on=(local_today() + datetime.timedelta(days=2)).isoformat()), 422, "visited_on"),
             (dict(good, visitors=42), 422, "visitors"), (dict(good, mood="angry"), 422, "mood"),
             (dict(good, needs=[{"category": "meals"}]), 422, "needs.title"),
             (dict(good, needs=[{"category": "no_such", "title": "x"}]), 422, "category")]
    for body, code, field in cases:
        st, resp, out = g1.post("/api/v1/visits", body)
        check(is_problem(st, resp, out, code, field), f"{field}: {st} {out}")
    st, resp, out = g1.post("/api/v1/care-files", {"resident_id": ctx["res"][2]["id"], "category": "elderly"})
    check(is_problem(st, resp, out, 422, "level"), "level required")
    st, resp, out = g1.post("/api/v1/care-files", {"resident_id": "12", "category": "elderly", "level": "key"})
    check(is_problem(st, resp, out, 422, "resident_id"), "wrong type")
    st, resp, out = g1.post("/api/v1/care-files", {"resident_id": ctx["res"][0]["id"], "category": "x", "level": "key",
                                                   "opened_on": "2026-13-01"})
    check(is_problem(st, resp, out, 422, "opened_on"), "bad date")
    after = (count("/api/v1/care-files?status=all"), count("/api/v1/visits?limit=500"), count("/api/v1/problems?limit=500"))
    check_eq(after, before, "nothing changed")


def _png_chunk(kind, data):
    import struct, zlib
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# A well-formed 1x1 RGBA PNG (every chunk's CRC right): uploads are walked by their structure.
PNG = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
       + _png_chunk(b"IDAT", __import__("zlib").compress(b"\x00\xff\x00\x00\xff")) + _png_chunk(b"IEND", b""))


def test_photos():
    vid = ctx["visit"]["id"]
    g1 = ctx["g1"]
    hdr = {"Content-Type": "application/octet-stream"}
    st, resp, body = g1.request("POST", f"/api/v1/visits/{vid}/photos", raw=b"GIF89a" + b"\x00" * 100, headers=hdr)
    check(is_problem(st, resp, body, 415), f"GIF refused ({st} {body})")
    st, resp, body = g1.request("POST", f"/api/v1/visits/{vid}/photos", raw=b"\xff\xd8\xff" + b"\x00" * 5000, headers=hdr)
    check(st == 413, f"oversized photo refused ({st})")
    st, resp, body = g1.request("POST", f"/api/v1/visits/{vid}/photos", raw=b"", headers=hdr)
    check(st in (400, 422), f"empty upload refused ({st})")
    st, resp, body = ctx["g2"].request("POST", f"/api/v1/visits/{vid}/photos", raw=PNG, headers=hdr)
    check(is_problem(st, resp, body, 404), "another grid cannot attach photos")
    st, _, v = g1.get(f"/api/v1/visits/{vid}")
    check_eq(v["photos"], [], "refused uploads left nothing")
    st, resp, body = g1.request("POST", f"/api/v1/visits/{vid}/photos", raw=PNG, headers=hdr)
    check(st == 201 and body["content_type"] == "image/png", f"PNG stored ({st} {body})")
    url = body["url"]
    st, resp, data = g1.get(url)
    check(st == 200 and data == PNG and resp.getheader("Content-Type") == "image/png", "photo served back")
    st, resp, data = ctx["g2"].get(url)
    check(is_problem(st, resp, data, 404), "photo out of scope is 404")
    import os
    names = os.listdir(os.path.join(S.data, "uploads"))
    check(len(names) == 1 and names[0].endswith(".png") and len(names[0]) == 36, f"random stored name {names}")


def test_grid_members_and_incidents():
    staff, g1, g2 = ctx["staff"], ctx["g1"], ctx["g2"]
    grid = ctx["grids"][0]
    st, _, m = staff.post("/api/v1/grid-members", {"grid_id": grid["id"], "role": "grid_police", "name": "赵警官",
                                                   "phone": "13912345678"})
    check(st == 201 and m["phone"] == "139****5678" and m["role_label"] == "网格警员", f"member with masked phone {m}")
    st, _, m2 = staff.post("/api/v1/grid-members", {"grid_id": grid["id"], "role": "grid_worker",
                                                    "user_id": ctx["uid"]["care_g1"]})
    check(st == 201 and m2["user_id"] == ctx["uid"]["care_g1"], "member linked to a user")
    st, resp, body = staff.post("/api/v1/grid-members", {"grid_id": grid["id"], "role": "mayor", "name": "x"})
    check(is_problem(st, resp, body, 422, "role"), "unknown member role")
    st, _, lst = g2.get("/api/v1/grid-members")
    check(m["id"] not in [x["id"] for x in lst["items"]], "another grid's members hidden")
    zhou = ctx["zhou"]
    st, _, inc = zhou.post("/api/v1/incidents", {"category": "facility", "title": "楼道灯坏了", "place": "1号楼2单元"})
    check(st == 201 and inc["status"] == "reported" and inc["grid_id"] == grid["id"], f"resident reports {inc}")
    st, resp, body = zhou.post("/api/v1/incidents", {"category": "facility", "title": "x", "place": "y", "grid_id": 1})
    check(is_problem(st, resp, body, 422, "grid_id"), "a resident cannot choose the grid")
    iid = inc["id"]
    st, resp, body = g2.get(f"/api/v1/incidents/{iid}")
    check(is_problem(st, resp, body, 404), "another grid's incident is 404")
    st, resp, body = g2.post(f"/api/v1/incidents/{iid}/dispatch", {"assignee_member_id": m["id"]})
    check(is_problem(st, resp, body, 404), "another grid cannot dispatch")
    st, _, inc = g1.post(f"/api/v1/incidents/{iid}/dispatch", {"assignee_member_id": m2["id"], "note": "请尽快处理"})
    check(st == 200 and inc["status"] == "dispatched", f"dispatched {inc}")
    st, _, inc = g1.post(f"/api/v1/incidents/{iid}/handle", {"result": "已更换灯泡"})
    check_eq(inc.get("status"), "handled", "handled")
    st, _, inc = g1.post(f"/api/v1/incidents/{iid}/close", {})
    check_eq(inc.get("status"), "closed", "closed")
    check_eq([e["action"] for e in inc["timeline"]], ["reported", "dispatched", "handled", "closed"], "incident timeline")
    st, resp, body = g1.post(f"/api/v1/incidents/{iid}/handle", {"result": "again"})
    check(is_problem(st, resp, body, 409), "no move back from closed")
    st, _, mine = zhou.get("/api/v1/incidents")
    check_eq([x["id"] for x in mine["items"]], [iid], "the reporter sees her incident")
    st, _, theirs = ctx["zheng"].get("/api/v1/incidents")
    check_eq(theirs["items"], [], "other residents do not")
    st, _, stats = ctx["staff"].get("/api/v1/stats/care")
    check(any(c["category"] == "facility" and c["count"] == 1 for c in stats["incidents"]["by_category"]),
          f"incidents by category {stats['incidents']}")
    check_eq(stats["incidents"]["by_status"], by_status(ctx["staff"], "/api/v1/incidents"), "incidents by status")


def test_register_export():
    month = local_today().strftime("%Y-%m")
    st, resp, data = ctx["staff"].get(f"/api/v1/visits/register?month={month}")
    check_eq(st, 200, "register exported")
    check("spreadsheetml" in resp.getheader("Content-Type", ""), "xlsx content type")
    z = zipfile.ZipFile(io.BytesIO(data))
    text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    for word in ("序号", "走访方式", "发现问题/需求", "处理结果", "周桂兰", "入户走访", "吃不上热饭", "已办结"):
        check(word in text, f"register holds {word}")
    st, resp, body = ctx["staff"].get("/api/v1/visits/register?month=2026-13")
    check(is_problem(st, resp, body, 422, "month"), "bad month")
    st, resp, body = ctx["g1"].get(f"/api/v1/visits/register?month={month}")
    check(is_problem(st, resp, body, 403), "grid workers do not export")


def test_date_filters():
    """from/to of the visit list (visited_on) and the task list (due_date), both built with the kit's
    sqlq_range_text: each end only when given, both ends inclusive (docs/openapi.json says 含); a date
    that is not YYYY-MM-DD is 422 naming the parameter (http/problem.c: a query parameter error names its field), in Chinese, and nothing changes. Rows are made on
    dates counted from today, and what each filter must answer is worked out from the unfiltered list."""
    staff = ctx["staff"]
    rid = ctx["res"][2]["id"]

    def day(n):
        return (local_today() + datetime.timedelta(days=n)).isoformat()

    def check_filter(base, key, mine):
        st, _, every = staff.get(base)
        check_eq(st, 200, f"{base} without dates")
        every = every["items"]
        check(set(mine.values()) <= {x["id"] for x in every}, f"{base}: the rows made are listed")

        def ids(query):
            st, _, body = staff.get(base + query)
            check_eq(st, 200, f"{base}{query}")
            return {x["id"] for x in body.get("items", [])}

        def want(lo, hi):
            return {x["id"] for x in every if (lo is None or x[key] >= lo) and (hi is None or x[key] <= hi)}

        a, b, c = sorted(mine)
        for lo, hi in ((a, c), (b, b), (b, None), (None, b), (a, None), (None, c)):
            query = (f"&from={lo}" if lo else "") + (f"&to={hi}" if hi else "")
            got = ids(query)
            check_eq(got, want(lo, hi), f"{base}{query}")
            for d, i in mine.items():
                check_eq(i in got, (lo is None or d >= lo) and (hi is None or d <= hi), f"{base}{query}: row of {d}")
        # between two of them: none of the three; and wholly outside
        inner = ids(f"&from={(datetime.date.fromisoformat(a) + datetime.timedelta(days=1)).isoformat()}"
                    f"&to={(datetime.date.fromisoformat(b) - datetime.timedelta(days=1)).isoformat()}")
        check(not inner & set(mine.values()), f"{base}: between the days, none of them")
        after = (datetime.date.fromisoformat(max(x[key] for x in every)) + datetime.timedelta(days=1)).isoformat()
        before = (datetime.date.fromisoformat(min(x[key] for x in every)) - datetime.timedelta(days=1)).isoformat()
        check_eq(ids(f"&from={after}"), set(), f"{base}: from after the last")
        check_eq(ids(f"&to={before}"), set(), f"{base}: to before the first")
        check_eq(ids(f"&from={c}&to={a}"), set(), f"{base}: from after to")
        for name, bad in (("from", "2026-02-30"), ("to", "2026-1-5"), ("from", "20261201"), ("to", "明天"), ("from", "")):
            st, resp, body = staff.get(f"{base}&{name}={urllib.parse.quote(bad)}")
            check(is_problem(st, resp, body, 422, name) and "YYYY-MM-DD" in body.get("detail", ""),
                  f"{base}: {name}={bad!r} is 422 ({st} {body})")
        check_eq(len(staff.get(base)[2]["items"]), len(every), f"{base}: nothing changed")

    visits = {}
    for n in (-40, -30, -20):
        st, _, v = staff.post("/api/v1/visits", {"resident_id": rid, "visited_on": day(n), "kind": "phone",
                                                 "visitors": "社区工作人员"})
        check_eq(st, 201, f"a visit on {day(n)} ({v})")
        visits[day(n)] = v["id"]
    check_filter(f"/api/v1/visits?resident_id={rid}&limit=200", "visited_on", visits)

    st, _, files = staff.get("/api/v1/care-files?limit=100")
    check(st == 200 and files["items"], f"an active care file ({st})")
    fid = files["items"][0]["id"]
    tasks = {}
    for n in (20, 30, 40):
        st, _, t = staff.post(f"/api/v1/care-files/{fid}/tasks", {"due_date": day(n), "note": "按期回访"})
        check(st == 201 and t["due_date"] == day(n), f"a task due {day(n)} ({st} {t})")
        tasks[day(n)] = t["id"]
    check_filter(f"/api/v1/visit-tasks?care_file_id={fid}&status=all&limit=200", "due_date", tasks)


def test_read_failure_is_503():
    """A read that fails on the way (NX_STORE_FAULT: the Nth row of matching queries fails as a lost
    connection) answers 503: never a short list with 200, never a 404 for a row that exists."""
    import os
    wf, visit = ctx["wu_file"], ctx["visit"]
    problem = visit["problems"][0]["id"]
    for fault, paths in (
            ("FROM care_timeline@2", [f"/api/v1/care-files/{wf['id']}", f"/api/v1/problems/{problem}"]),
            ("FROM visit_tasks t JOIN residents r@2", ["/api/v1/visit-tasks?status=all"]),
            ("FROM problems p LEFT JOIN residents r@1", [f"/api/v1/problems/{problem}", "/api/v1/problems"]),
            ("FROM incidents i LEFT JOIN grids g@1", ["/api/v1/incidents"]),
            ("FROM care_files f JOIN residents r@1", [f"/api/v1/care-files/{wf['id']}", "/api/v1/care-files"])):
        S.stop()
        S.start(env=dict(os.environ, NX_STORE_FAULT=fault))
        staff = S.login("care_staff", PW)
        for path in paths:
            st, resp, body = staff.get(path)
            check(is_problem(st, resp, body, 503), f"{fault}: {path} answers 503, not {st}")
    # a write that reads on the way: a failed read of the grid worker a new task goes to is the
    # answer (503) and the transaction writes nothing
    S.stop()
    S.start()
    staff = S.login("care_staff", PW)
    st, _, files = staff.get("/api/v1/care-files")
    target = next((x for x in files["items"] if x["responsible_user_id"] is None and x["grid_id"]), None)
    check(target is not None, "an active care file without a responsible worker")
    st, _, before = staff.get(f"/api/v1/care-files/{target['id']}")
    S.stop()
    S.start(env=dict(os.environ, NX_STORE_FAULT="FROM users WHERE role = 'grid'@1"))
    staff = S.login("care_staff", PW)
    st, resp, body = staff.post(f"/api/v1/care-files/{target['id']}/tasks", {"note": "读取失败时不应建任务"})
    check(is_problem(st, resp, body, 503), f"a failed read while picking the assignee answers 503, not {st}")
    S.stop()
    S.start()
    staff = S.login("care_staff", PW)
    st, _, f = staff.get(f"/api/v1/care-files/{wf['id']}")
    check_eq(st, 200, "without the fault the file reads again")
    st, _, after = staff.get(f"/api/v1/care-files/{target['id']}")
    check_eq(len(after["open_tasks"]), len(before["open_tasks"]), "no task was made by the failed trigger")
    ctx["staff"] = staff


def test_clean_stop():
    S.cleanup()  # a graceful stop with no sanitizer report, checked before the summary


try:
    run([test_setup, test_vocab_and_policies, test_care_file_weekly_tasks, test_visit_need_problem_rating,
         test_overdue_and_escalation, test_life_events_and_raise, test_death_closes_file_and_visits_family, test_scopes,
         test_bad_input_changes_nothing, test_photos, test_grid_members_and_incidents, test_register_export, test_date_filters, test_read_failure_is_503,
         test_clean_stop])
finally:
    S.cleanup()
