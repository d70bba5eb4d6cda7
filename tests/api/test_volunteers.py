"""Black-box tests of volunteers and partner units (issue 13): teams with leaders who manage their own
team only; an outsider volunteer's phone masked; an activity beyond its capacity puts the next sign-up on
the waiting list, which moves up when a place is cancelled; check-in with the board's rotating code
(a wrong code, a check-in outside the activity's window, a check-in for someone else and a check-out
before the check-in refused); hours counted only once approved, never by the volunteer themselves, and
summing exactly; the honour list and its Excel export; partner units whose clinic service generates
sessions with slots, a slot booked once only (two concurrent requests: exactly one wins); bad input
answering a clear 4xx naming the field with nothing changed.

Times come from the clock of the run (activities are created around "now" in Shanghai time), never
from the demo."""
import datetime
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

from nxtest import check_enum_filter, PG, Server, check, check_eq, is_problem, make_id, psql, run, run_cli

S = Server()
S.start()
admin = S.login()
ctx = {}
PW = "Volunteer2026pass"


def local_now():
    return datetime.datetime.utcnow() + datetime.timedelta(hours=8)


BASE = local_now().replace(second=0, microsecond=0)


def at(delta_minutes):
    """BASE (the minute the run started, Shanghai time) moved by delta_minutes, as the API takes it."""
    return (BASE + datetime.timedelta(minutes=delta_minutes)).strftime("%Y-%m-%dT%H:%M")


def sql_rows(query):
    """Rows of one text column from the database, on either backend (events are not an API)."""
    if PG:
        return [line for line in psql(S.database, query).splitlines() if line]
    db = sqlite3.connect(os.path.join(S.data, "nuanxin.db"))
    try:
        return [str(r[0]) for r in db.execute(query).fetchall()]
    finally:
        db.close()


def sql_exec(statement):
    """Write to the database directly, on either backend: for what the API rightly refuses (a booking of
    a session that is over), as the demo writes its past season."""
    if PG:
        psql(S.database, statement)
        return
    db = sqlite3.connect(os.path.join(S.data, "nuanxin.db"))
    try:
        db.execute(statement)
        db.commit()
    finally:
        db.close()


def events_of(kind, subject):
    return [json.loads(p) for p in sql_rows(f"SELECT payload FROM events WHERE kind = '{kind}' AND subject = '{subject}' "
                                            "ORDER BY id")]


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "志愿街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "志愿社区"})
    check_eq(st, 201, "community")
    st, _, comm2 = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "邻社区"})
    st, _, estate = admin.post("/api/v1/estates", {"community_id": comm["id"], "name": "和乐小区"})
    st, _, b = admin.post("/api/v1/buildings", {"estate_id": estate["id"], "name": "1号楼"})
    st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "101"})
    res = []
    for name, birth, seq in (("周桂兰", "19400512", 42), ("吴德厚", "19450101", 31)):
        st, _, r = admin.post("/api/v1/residents", {"name": name, "id_number": make_id("110105", birth, seq),
                                                   "room_id": room["id"]})
        check_eq(st, 201, f"resident {name} {r}")
        res.append(r)
    accounts = [("vol_staff", "staff", ["--community", str(comm["id"])]),
                ("vol_lead_a", "volunteer", ["--community", str(comm["id"])]),
                ("vol_lead_b", "volunteer", ["--community", str(comm["id"])]),
                ("vol_x", "volunteer", ["--community", str(comm["id"])]),
                ("vol_zhou", "resident", ["--resident", str(res[0]["id"])]),
                ("vol_wu", "resident", ["--resident", str(res[1]["id"])])]
    for name, role, extra in accounts:
        p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
        ctx[name] = S.login(name, PW)
    st, _, users = admin.get("/api/v1/users?limit=200")
    ctx["uid"] = {u["username"]: u["id"] for u in users["items"]}
    ctx.update(comm=comm, comm2=comm2, res=res)


def test_teams_and_volunteers():
    staff = ctx["vol_staff"]
    st, _, ta = staff.post("/api/v1/volunteer-teams", {"name": "邻里守望队"})
    check_eq(st, 201, f"team A {ta}")
    st, _, tb = staff.post("/api/v1/volunteer-teams", {"name": "银龄互助队"})
    st, resp, body = staff.post("/api/v1/volunteer-teams", {"name": "邻里守望队"})
    check(is_problem(st, resp, body, 409, "name"), f"same name twice ({st} {body})")
    st, resp, body = ctx["vol_x"].post("/api/v1/volunteer-teams", {"name": "自封队"})
    check(is_problem(st, resp, body, 403), "a volunteer does not create teams")
    uid = ctx["uid"]
    st, _, la = staff.post("/api/v1/volunteers", {"name": "甲队长", "phone": "13812345678", "team_id": ta["id"],
                                                  "user_id": uid["vol_lead_a"], "is_leader": True})
    check_eq(st, 201, f"leader A {la}")
    check(la["phone"] != "13812345678" and la["phone"].endswith("5678") and "*" in la["phone"], f"phone masked {la['phone']}")
    check(la["number"].startswith("V"), "a volunteer number")
    st, _, lb = staff.post("/api/v1/volunteers", {"name": "乙队长", "team_id": tb["id"], "user_id": uid["vol_lead_b"],
                                                  "is_leader": True})
    check_eq(st, 201, "leader B")
    # a leader manages their own team only
    st, _, vx = ctx["vol_lead_a"].post("/api/v1/volunteers", {"name": "王小明", "phone": "13900001234",
                                                              "team_id": ta["id"], "user_id": uid["vol_x"]})
    check_eq(st, 201, f"leader A adds a member {vx}")
    st, resp, body = ctx["vol_lead_a"].post("/api/v1/volunteers", {"name": "外队人", "team_id": tb["id"]})
    check(is_problem(st, resp, body, 403, "team_id"), f"leader A cannot add to team B ({st} {body})")
    st, _, lst = staff.get("/api/v1/volunteers?q=1234")
    check_eq([v["id"] for v in lst["items"]], [vx["id"]], "found by the phone's last four digits")
    st, _, far = admin.post("/api/v1/volunteers", {"name": "邻社区志愿者", "community_id": ctx["comm2"]["id"]})
    check_eq(st, 201, "admin registers a volunteer of the other community")
    st, _, _ = staff.get(f"/api/v1/volunteers/{far['id']}")
    check_eq(st, 404, "another community's volunteer")
    st, _, lst = ctx["vol_zhou"].get("/api/v1/volunteers")
    check_eq(st, 403, "residents do not list volunteers")
    ctx.update(ta=ta, tb=tb, la=la, lb=lb, vx=vx)


def test_waiting_list():
    staff = ctx["vol_staff"]
    before = staff.get("/api/v1/volunteer-activities")[2]["total"]
    body = {"title": "零人", "place": "广场", "starts_at": at(60 * 24), "ends_at": at(60 * 26), "capacity": 0}
    st, resp, b = staff.post("/api/v1/volunteer-activities", body)
    check(is_problem(st, resp, b, 422, "capacity"), f"capacity 0 ({st} {b})")
    st, resp, b = staff.post("/api/v1/volunteer-activities", dict(body, capacity=2, title=""))
    check(is_problem(st, resp, b, 422, "title"), "empty title")
    st, resp, b = staff.post("/api/v1/volunteer-activities", dict(body, capacity=2, starts_at="明天上午"))
    check(is_problem(st, resp, b, 422, "starts_at"), "bad time")
    st, resp, b = staff.post("/api/v1/volunteer-activities", dict(body, capacity=2, colour="红"))
    check(is_problem(st, resp, b, 422, "colour"), "unknown field")
    st, resp, b = ctx["vol_lead_a"].post("/api/v1/volunteer-activities", dict(body, capacity=2, team_id=ctx["tb"]["id"]))
    check(is_problem(st, resp, b, 403, "team_id"), "leader A cannot publish for team B")
    check_eq(staff.get("/api/v1/volunteer-activities")[2]["total"], before, "nothing created")
    st, _, a = ctx["vol_lead_a"].post("/api/v1/volunteer-activities", dict(body, capacity=2, title="敬老院探访",
                                                                          team_id=ctx["ta"]["id"]))
    check_eq(st, 201, f"leader A publishes {a}")
    path = f"/api/v1/volunteer-activities/{a['id']}/signups"
    st, _, s1 = ctx["vol_x"].post(path, {})
    st2, _, s2 = ctx["vol_lead_b"].post(path, {})
    st3, _, s3 = ctx["vol_zhou"].post(path, {})
    check_eq((st, st2, st3), (201, 201, 201), "three sign-ups")
    check_eq((s1["status"], s2["status"], s3["status"]), ("confirmed", "confirmed", "waiting"), "the third waits")
    check_eq(s3["position"], 1, "first on the waiting list")
    st, resp, b = ctx["vol_x"].post(path, {})
    check(is_problem(st, resp, b, 409), "twice")
    st, _, mine = ctx["vol_zhou"].get(f"/api/v1/volunteer-activities/{a['id']}")
    check_eq((mine["my_signup"]["status"], mine["my_signup"]["position"]), ("waiting", 1), "the resident sees their place")
    check("signups" not in mine, "a resident does not see the sheet")
    st, _, _ = ctx["vol_wu"].post(f"/api/v1/volunteer-signups/{s1['id']}/cancel", {})
    check(st in (403, 404), f"another resident cannot cancel ({st})")
    st, _, _ = ctx["vol_x"].post(f"/api/v1/volunteer-signups/{s1['id']}/cancel", {})
    check_eq(st, 204, "cancelled")
    st, _, mine = ctx["vol_zhou"].get(f"/api/v1/volunteer-activities/{a['id']}")
    check_eq(mine["my_signup"]["status"], "confirmed", "moved up from the waiting list")
    st, _, full = staff.get(f"/api/v1/volunteer-activities/{a['id']}")
    check_eq((full["confirmed"], full["waiting"]), (2, 0), "counts")
    st, resp, b = ctx["vol_x"].post("/api/v1/volunteer-activities/99999999/signups", {})
    check(is_problem(st, resp, b, 404), "unknown activity")


def test_check_in_and_hours():
    staff, lead_a = ctx["vol_staff"], ctx["vol_lead_a"]
    st, _, a = lead_a.post("/api/v1/volunteer-activities", {
        "title": "义诊引导", "place": "社区卫生室", "starts_at": at(-20), "ends_at": at(60),
        "signup_deadline": at(60), "capacity": 5, "team_id": ctx["ta"]["id"]})
    check_eq(st, 201, f"an activity under way {a}")
    st, _, later = lead_a.post("/api/v1/volunteer-activities", {
        "title": "明日清扫", "place": "小区", "starts_at": at(60 * 24), "ends_at": at(60 * 25), "capacity": 5,
        "team_id": ctx["ta"]["id"]})
    for who in ("vol_x", "vol_lead_b"):
        st, _, _ = ctx[who].post(f"/api/v1/volunteer-activities/{a['id']}/signups", {})
        check_eq(st, 201, f"{who} signs up")
        ctx[who].post(f"/api/v1/volunteer-activities/{later['id']}/signups", {})
    st, resp, b = ctx["vol_x"].get(f"/api/v1/volunteer-activities/{a['id']}/check-in-code")
    check(is_problem(st, resp, b, 403), "only the organiser shows the code")
    st, _, code = lead_a.get(f"/api/v1/volunteer-activities/{a['id']}/check-in-code")
    check_eq(st, 200, f"the board's code {code}")
    check(len(code["code"]) == 6 and code["open"] is True and code["payload"].endswith(code["code"]), "code and QR payload")
    path = f"/api/v1/volunteer-activities/{a['id']}/check-ins"
    wrong = "%06d" % ((int(code["code"]) + 1) % 1000000)
    st, resp, b = ctx["vol_x"].post(path, {"action": "in", "code": wrong})
    check(is_problem(st, resp, b, 422, "code"), f"wrong code ({st} {b})")
    st, resp, b = ctx["vol_x"].post(path, {"action": "out", "code": code["code"]})
    check(is_problem(st, resp, b, 422, "action"), f"check-out before check-in ({st} {b})")
    st, resp, b = ctx["vol_x"].post(path, {"action": "sideways", "code": code["code"]})
    check(is_problem(st, resp, b, 422, "action"), "bad action")
    # tomorrow's activity: its own code, but outside its window
    st, _, code2 = lead_a.get(f"/api/v1/volunteer-activities/{later['id']}/check-in-code")
    check_eq(code2["open"], False, "tomorrow's board is not open yet")
    st, resp, b = ctx["vol_x"].post(f"/api/v1/volunteer-activities/{later['id']}/check-ins",
                                    {"action": "in", "code": code2["code"]})
    check(is_problem(st, resp, b, 409, "action"), f"outside the window ({st} {b})")
    st, _, done = ctx["vol_x"].post(path, {"action": "in", "code": code["code"]})
    check_eq(st, 200, f"checked in {done}")
    # no check-in for someone else
    st, _, sheet = lead_a.get(f"/api/v1/volunteer-activities/{a['id']}")
    other = [s for s in sheet["signups"] if s["volunteer_id"] == ctx["lb"]["id"]][0]
    st, resp, b = ctx["vol_x"].post(path, {"action": "in", "code": code["code"], "signup_id": other["id"]})
    check(is_problem(st, resp, b, 403, "signup_id"), f"not for someone else ({st} {b})")
    # the organiser corrects: B came at the start and left 40 minutes later
    st, resp, b = lead_a.post(path, {"action": "in", "signup_id": other["id"], "at": at(-20)})
    check(is_problem(st, resp, b, 422, "reason"), "a correction needs a reason")
    st, _, _ = lead_a.post(path, {"action": "in", "signup_id": other["id"], "at": at(-20), "reason": "现场登记"})
    check_eq(st, 200, "organiser checks B in")
    st, _, _ = lead_a.post(path, {"action": "out", "signup_id": other["id"], "at": at(20), "reason": "提前离场"})
    check_eq(st, 200, "organiser checks B out")
    st, _, led = staff.get(f"/api/v1/volunteer-hours?activity_id={a['id']}")
    check_eq(len(led["items"]), 1, "one pending entry")
    entry = led["items"][0]
    check_eq((entry["volunteer_id"], entry["minutes"], entry["status"]), (ctx["lb"]["id"], 40, "pending"), "40 minutes pending")
    check_eq(led["approved_minutes"], 0, "not counted before approval")
    # nobody approves their own hours; the other team's leader neither
    st, resp, b = ctx["vol_lead_b"].post(f"/api/v1/volunteer-hours/{entry['id']}/approve", {})
    check(is_problem(st, resp, b, 403), f"B cannot approve their own hours ({st})")
    st, _, ok = lead_a.post(f"/api/v1/volunteer-hours/{entry['id']}/approve", {})
    check_eq((st, ok.get("status")), (200, "approved"), f"the organiser approves {ok}")
    st, resp, b = lead_a.post(f"/api/v1/volunteer-hours/{entry['id']}/approve", {})
    check(is_problem(st, resp, b, 409), "approved once")
    # manual entries: negative hours refused, 1.5 hours added and approved → 40 + 90 = 130 minutes exactly
    st, resp, b = staff.post("/api/v1/volunteer-hours", {"volunteer_id": ctx["lb"]["id"], "hours": -1,
                                                          "served_on": "2026-01-05", "reason": "负数"})
    check(is_problem(st, resp, b, 422, "hours"), f"negative hours ({st} {b})")
    st, resp, b = staff.post("/api/v1/volunteer-hours", {"volunteer_id": ctx["lb"]["id"], "hours": "两小时",
                                                          "served_on": "2026-01-05", "reason": "文字"})
    check(is_problem(st, resp, b, 422, "hours"), "hours as text")
    st, _, m = staff.post("/api/v1/volunteer-hours", {"volunteer_id": ctx["lb"]["id"], "hours": 1.5,
                                                       "served_on": local_now().strftime("%Y-%m-%d"), "reason": "宣传补录"})
    check_eq(st, 201, f"manual entry {m}")
    staff.post(f"/api/v1/volunteer-hours/{m['id']}/approve", {})
    st, _, summ = ctx["vol_lead_b"].get("/api/v1/volunteer-hours/summary")
    check_eq((st, summ.get("minutes")), (200, 130), f"B's approved total {summ}")
    check_eq(sorted(p["minutes"] for p in summ["projects"]), [40, 90], "per project")
    st, _, mine = ctx["vol_lead_b"].get("/api/v1/volunteer-hours")
    check(all(e["volunteer_id"] == ctx["lb"]["id"] for e in mine["items"]) and mine["approved_minutes"] == 130,
          "a volunteer sees their own ledger")
    # honour list and export
    st, _, hon = staff.get("/api/v1/volunteer-hours/honour?period=" + local_now().strftime("%Y-%m"))
    check(st == 200 and any(i["volunteer_id"] == ctx["lb"]["id"] for i in hon["items"]), f"honour list {hon}")
    st, resp, b = staff.get("/api/v1/volunteer-hours/honour?period=2026-13")
    check(is_problem(st, resp, b, 422, "period"), "bad period")
    st, resp, data = admin.get("/api/v1/volunteer-hours/export?period=" + local_now().strftime("%Y"))
    check(st == 200 and data[:2] == b"PK" and int(resp.getheader("X-Row-Count")) >= 2, f"export {st}")
    st, _, _ = ctx["vol_x"].get("/api/v1/volunteer-hours/export")
    check_eq(st, 403, "volunteers do not export")


def test_partners_and_bookings():
    staff = ctx["vol_staff"]
    st, _, p = staff.post("/api/v1/partners", {"name": "市第一医院", "kind": "hospital", "contact_name": "李医生",
                                                "phone": "0531-86123456", "offer": "每月义诊"})
    check_eq(st, 201, f"partner {p}")
    check("86123456" not in (p.get("phone") or ""), "partner phone masked")
    st, resp, b = staff.post("/api/v1/partners", {"name": "某公司", "kind": "bank"})
    check(is_problem(st, resp, b, 422, "kind"), "bad kind")
    first = (local_now() + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    body = {"partner_id": p["id"], "title": "健康义诊", "kind": "clinic", "place": "社区卫生室", "first_date": first,
            "start_time": "09:00", "end_time": "10:00", "slot_minutes": 20, "repeat": "weekly", "count": 3}
    st, resp, b = staff.post("/api/v1/partner-services", dict(body, end_time="08:00"))
    check(is_problem(st, resp, b, 422, "end_time"), "end before start")
    st, _, svc = staff.post("/api/v1/partner-services", body)
    check_eq((st, svc.get("session_count")), (201, 3), f"three weekly sessions {svc}")
    st, _, sessions = ctx["vol_zhou"].get(f"/api/v1/partner-sessions?service_id={svc['id']}")
    check_eq(len(sessions["items"]), 3, "a resident sees the sessions")
    sess = sessions["items"][0]
    st, _, detail = ctx["vol_zhou"].get(f"/api/v1/partner-sessions/{sess['id']}")
    check_eq(len(detail["slots"]), 3, "three 20-minute slots")
    slot = detail["slots"][0]["id"]
    path = f"/api/v1/partner-sessions/{sess['id']}/bookings"
    # two concurrent requests for one slot: exactly one wins
    results = []

    def book(who):
        results.append(ctx[who].post(path, {"slot_id": slot})[0])
    ctx["vol_zhou2"] = S.client()
    ctx["vol_zhou2"].token = ctx["vol_zhou"].token  # a second connection of the same session
    threads = [threading.Thread(target=book, args=(w,)) for w in ("vol_zhou2", "vol_wu")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check_eq(sorted(results), [201, 409], f"one slot, one booking ({results})")
    st, _, detail = ctx["vol_zhou"].get(f"/api/v1/partner-sessions/{sess['id']}")
    check(detail["slots"][0]["booked"] is True, "the slot shows booked")
    st, resp, b = ctx["vol_wu"].post(path, {"slot_id": 99999999})
    check(is_problem(st, resp, b, 422, "slot_id"), "a slot of another session")
    st, _, mine = ctx["vol_zhou"].get("/api/v1/partner-bookings")
    st2, _, mine2 = ctx["vol_wu"].get("/api/v1/partner-bookings")
    check_eq(len(mine["items"]) + len(mine2["items"]), 1, "one booking in all")
    holder = "vol_zhou" if mine["items"] else "vol_wu"
    other = "vol_wu" if holder == "vol_zhou" else "vol_zhou"
    bid = (mine["items"] or mine2["items"])[0]["id"]
    st, _, _ = ctx[other].patch(f"/api/v1/partner-bookings/{bid}", {"status": "cancelled"})
    check_eq(st, 404, "someone else's booking")
    st, resp, b = ctx[holder].patch(f"/api/v1/partner-bookings/{bid}", {"status": "attended"})
    check(is_problem(st, resp, b, 403), "a resident does not mark attendance")
    st, _, _ = ctx[holder].patch(f"/api/v1/partner-bookings/{bid}", {"status": "cancelled"})
    check_eq(st, 204, "cancelled")
    st, _, nb = ctx[other].post(path, {"slot_id": slot})
    check_eq(st, 201, "the freed slot is booked by the other")
    # staff book for an elder of their community, not of another
    st, _, sb = staff.post(path, {"slot_id": detail["slots"][1]["id"], "resident_id": ctx["res"][0]["id"] if other != "vol_zhou" else ctx["res"][1]["id"]})
    check_eq(st, 201, f"staff book for an elder {sb}")
    st, _, p2 = admin.post("/api/v1/partners", {"name": "邻社区理发店", "kind": "salon", "community_id": ctx["comm2"]["id"]})
    check_eq(st, 201, "a partner of the other community")
    st, _, _ = staff.get(f"/api/v1/partners/{p2['id']}")
    check_eq(st, 404, "another community's partner")
    ctx.update(partner=p, partner2=p2)


def test_thanks_letter():
    """The thanks letter (感谢信) of a partner unit for a year: per service the sessions of that year that
    were held and the residents served (bookings marked attended), the totals — checked against the
    sessions and bookings the API lists. 2024 is in the past whatever the date: a monthly clinic from
    2024-11-16 has two sessions in 2024 and one in 2025."""
    staff, p = ctx["vol_staff"], ctx["partner"]
    st, _, svc = staff.post("/api/v1/partner-services", {
        "partner_id": p["id"], "title": "冬季义诊", "kind": "clinic", "place": "社区卫生室", "first_date": "2024-11-16",
        "start_time": "09:00", "end_time": "10:00", "slot_minutes": 20, "repeat": "monthly", "count": 3})
    check_eq((st, svc.get("session_count")), (201, 3), f"three monthly sessions {svc}")
    st, _, lst = staff.get(f"/api/v1/partner-sessions?service_id={svc['id']}&limit=50")
    sess = sorted(lst["items"], key=lambda x: x["starts_at"])
    check_eq([x["starts_at"][:10] for x in sess], ["2024-11-16", "2024-12-16", "2025-01-16"], "the dates")
    # the season as it went (the API refuses bookings of sessions that are over): two served and one
    # no-show in November, one served in December, one in January 2025
    marks = [(sess[0], 0, ctx["res"][0]["id"], "attended"), (sess[0], 1, ctx["res"][1]["id"], "attended"),
             (sess[0], 2, ctx["res"][2]["id"] if len(ctx["res"]) > 2 else ctx["res"][0]["id"], "no_show"),
             (sess[1], 0, ctx["res"][0]["id"], "attended"), (sess[2], 0, ctx["res"][1]["id"], "attended")]
    for se, i, rid, status in marks:
        st, _, d = staff.get(f"/api/v1/partner-sessions/{se['id']}")
        slot = d["slots"][i]["id"]
        sql_exec("INSERT INTO partner_bookings (community_id, session_id, slot_id, active_slot_id, resident_id, status, "
                 f"created_at) VALUES ({ctx['comm']['id']}, {se['id']}, {slot}, {slot}, {rid}, '{status}', 0)")
    # what the sessions and bookings say about 2024
    held = [x for x in sess if x["starts_at"].startswith("2024")]
    served = 0
    for x in held:
        st, _, bk = staff.get(f"/api/v1/partner-bookings?session_id={x['id']}&limit=50")
        served += sum(1 for b in bk["items"] if b["status"] == "attended")
    check_eq((len(held), served), (2, 3), "two sessions held in 2024, three residents served")
    st, resp, data = staff.get(f"/api/v1/partners/{p['id']}/thanks-letter?year=2024")
    check(st == 200 and data[:5] == b"%PDF-" and resp.getheader("Content-Type") == "application/pdf", f"a PDF ({st})")
    text = pdf_text(data).replace(" ", "").replace("\n", "")
    check("感谢信" in text and p["name"] in text, f"the letter and the unit {text[:300]!r}")
    check(f"冬季义诊（义诊）{len(held)}场，服务{served}人次" in text, f"the service's figures {text!r}")
    check(f"共{len(held)}场，服务居民{served}人次" in text, "the body's totals")
    check("预约未到1人次" in text, "the no-show counted")
    check("GX2024-" in text, "the serial")
    st, resp, b = staff.get(f"/api/v1/partners/{p['id']}/thanks-letter?year=2023")
    check(is_problem(st, resp, b, 409, "year"), f"nothing held in 2023 ({st} {b})")
    st, resp, b = staff.get(f"/api/v1/partners/{p['id']}/thanks-letter")
    check(is_problem(st, resp, b, 422, "year"), "a year is required")
    st, resp, b = staff.get(f"/api/v1/partners/{p['id']}/thanks-letter?year=24")
    check(is_problem(st, resp, b, 422, "year"), "a four-digit year")
    check_eq(ctx["vol_zhou"].get(f"/api/v1/partners/{p['id']}/thanks-letter?year=2024")[0], 403, "not for residents")
    check_eq(staff.get(f"/api/v1/partners/{ctx['partner2']['id']}/thanks-letter?year=2024")[0], 404,
             "another community's unit")


def test_street_oversight():
    """The street office oversees volunteer work: a street officer reads teams, volunteers, activities
    with their sign-up sheets, the hours ledger, partners and sessions of the communities of their
    street only (another street's are 404 or absent), and every write is refused (403)."""
    staff = ctx["vol_staff"]
    street_id = ctx["comm"]["street_id"]
    st, _, s2 = admin.post("/api/v1/streets", {"name": "别的街道"})
    st, _, c3 = admin.post("/api/v1/communities", {"street_id": s2["id"], "name": "别街社区"})
    st, _, far_team = admin.post("/api/v1/volunteer-teams", {"name": "别街服务队", "community_id": c3["id"]})
    check_eq(st, 201, f"a team of another street {far_team}")
    st, _, far_p = admin.post("/api/v1/partners", {"name": "别街诊所", "kind": "hospital", "community_id": c3["id"]})
    check_eq(st, 201, "a partner of another street")
    st, _, u = admin.post("/api/v1/users", {"username": "vol_street", "password": PW, "role": "street",
                                            "street_id": street_id})
    check_eq(st, 201, f"street officer {u}")
    so = S.login("vol_street", PW)
    ours = {ctx["comm"]["id"], ctx["comm2"]["id"]}
    for path in ("/api/v1/volunteer-teams", "/api/v1/volunteers", "/api/v1/volunteer-activities", "/api/v1/volunteer-hours",
                 "/api/v1/partners", "/api/v1/partner-services", "/api/v1/partner-sessions"):
        st, _, page = so.get(path + "?limit=200")
        check_eq(st, 200, f"the street reads {path}")
        comms = {i.get("community_id") for i in page.get("items", []) if "community_id" in i}
        check(comms <= ours, f"{path}: only the street's communities {comms}")
    st, _, teams = so.get("/api/v1/volunteer-teams?limit=200")
    check({ctx["ta"]["id"], ctx["tb"]["id"]} <= {t["id"] for t in teams["items"]}, "both teams of the community")
    check_eq(so.get(f"/api/v1/volunteer-teams/{far_team['id']}")[0], 404, "another street's team")
    check_eq(so.get(f"/api/v1/partners/{far_p['id']}")[0], 404, "another street's partner")
    check_eq(so.get(f"/api/v1/partners/{ctx['partner']['id']}/thanks-letter?year=2024")[0], 200, "the thanks letter, to read")
    st, _, mine = staff.get("/api/v1/volunteer-hours?limit=200")
    st, _, led = so.get("/api/v1/volunteer-hours?limit=200")
    check_eq((led["total"], led["approved_minutes"]), (mine["total"], mine["approved_minutes"]),
             "the street's ledger is its communities' (here: the one with hours)")
    entry = led["items"][0]
    check_eq(so.get(f"/api/v1/volunteer-hours/{entry['id']}")[0], 200, "an entry")
    st, _, summ = so.get(f"/api/v1/volunteer-hours/summary?volunteer_id={ctx['lb']['id']}")
    st2, _, by_staff = staff.get(f"/api/v1/volunteer-hours/summary?volunteer_id={ctx['lb']['id']}")
    check_eq((st, summ.get("minutes")), (200, by_staff["minutes"]), "a volunteer's approved total, as staff see it")
    st, _, acts = so.get("/api/v1/volunteer-activities?limit=200")
    st, _, a = so.get(f"/api/v1/volunteer-activities/{acts['items'][0]['id']}")
    check(st == 200 and "signups" in a and a["manage"] is False, f"the sign-up sheet, to read ({st})")
    # nothing that writes
    for method, path, body in (("POST", "/api/v1/volunteer-teams", {"name": "街道队"}),
                               ("POST", "/api/v1/volunteers", {"name": "某人", "community_id": ctx["comm"]["id"]}),
                               ("POST", "/api/v1/volunteer-activities", {"title": "x"}),
                               ("POST", f"/api/v1/volunteer-activities/{a['id']}/signups", {}),
                               ("POST", f"/api/v1/volunteer-activities/{a['id']}/check-ins", {"action": "in", "code": "000000"}),
                               ("POST", "/api/v1/volunteer-hours", {"volunteer_id": ctx["lb"]["id"], "hours": 1}),
                               ("POST", f"/api/v1/volunteer-hours/{entry['id']}/approve", {}),
                               ("POST", "/api/v1/partners", {"name": "街道单位", "kind": "company"}),
                               ("POST", "/api/v1/partner-services", {"title": "x"}),
                               ("GET", "/api/v1/partner-bookings", None),
                               ("GET", "/api/v1/volunteer-points", None)):
        st, _, b = so.request(method, path, body) if body is not None else so.request(method, path)
        check_eq(st, 403, f"{method} {path}: the street does not write ({b})")
    check_eq(so.get("/api/v1/volunteer-teams?limit=200")[2]["total"], teams["total"], "nothing created")


def test_cancel_rules():
    """Cancelling a sign-up: a reason at short notice and for someone else's; not by oneself once the
    activity started; the place goes to the waiting list; an event says who cancelled and who moved up."""
    lead_a, x, zhou = ctx["vol_lead_a"], ctx["vol_x"], ctx["vol_zhou"]
    st, _, soon = lead_a.post("/api/v1/volunteer-activities", {
        "title": "午间送餐", "place": "长者食堂", "starts_at": at(60), "ends_at": at(120), "capacity": 1,
        "team_id": ctx["ta"]["id"]})
    check_eq(st, 201, f"an activity within two hours {soon}")
    path = f"/api/v1/volunteer-activities/{soon['id']}/signups"
    st, _, sx = x.post(path, {})
    st2, _, sz = zhou.post(path, {})
    check_eq((sx["status"], sz["status"]), ("confirmed", "waiting"), "one place, one waiting")
    st, resp, b = x.post(f"/api/v1/volunteer-signups/{sx['id']}/cancel", {})
    check(is_problem(st, resp, b, 422, "reason"), f"short notice needs a reason ({st} {b})")
    st, _, mine = zhou.get(f"/api/v1/volunteer-activities/{soon['id']}")
    check_eq(mine["my_signup"]["status"], "waiting", "nothing changed")
    check_eq(events_of("volunteers.signup.cancelled", f"volunteer_signup:{sx['id']}"), [], "no event yet")
    st, resp, b = x.post(f"/api/v1/volunteer-signups/{sx['id']}/cancel", {"reason": "临时加班", "colour": "红"})
    check(is_problem(st, resp, b, 422, "colour"), "unknown field")
    st, _, _ = x.post(f"/api/v1/volunteer-signups/{sx['id']}/cancel", {"reason": "临时加班"})
    check_eq(st, 204, "cancelled with a reason")
    st, _, mine = zhou.get(f"/api/v1/volunteer-activities/{soon['id']}")
    check_eq(mine["my_signup"]["status"], "confirmed", "the freed place went to the waiting list")
    ev = events_of("volunteers.signup.cancelled", f"volunteer_signup:{sx['id']}")
    check_eq(len(ev), 1, f"one cancellation event {ev}")
    check_eq((ev[0]["by"], ev[0]["freed"], ev[0]["promoted_signup_id"], ev[0]["volunteer_id"]),
             ("self", True, sz["id"], ctx["vx"]["id"]), "who cancelled, the place freed, who moved up")
    check_eq(len(events_of("volunteers.signup.promoted", f"volunteer_signup:{sz['id']}")), 1, "the promoted event")
    st, resp, b = x.post(f"/api/v1/volunteer-signups/{sx['id']}/cancel", {"reason": "再取消"})
    check(is_problem(st, resp, b, 409), "cancelled once")
    # the organiser cancels someone else's place: a reason is required
    st, resp, b = lead_a.post(f"/api/v1/volunteer-signups/{sz['id']}/cancel", {})
    check(is_problem(st, resp, b, 422, "reason"), f"the organiser gives a reason ({st} {b})")
    # under way: the volunteer can no longer cancel; the organiser still can, until the end
    st, _, now_on = lead_a.post("/api/v1/volunteer-activities", {
        "title": "巡楼", "place": "3号楼", "starts_at": at(-10), "ends_at": at(50), "signup_deadline": at(50),
        "capacity": 3, "team_id": ctx["ta"]["id"]})
    st, _, s = x.post(f"/api/v1/volunteer-activities/{now_on['id']}/signups", {})
    check_eq(st, 201, "signed up for an activity under way")
    st, resp, b = x.post(f"/api/v1/volunteer-signups/{s['id']}/cancel", {"reason": "走不开"})
    check(is_problem(st, resp, b, 409, "starts_at"), f"too late to cancel oneself ({st} {b})")
    st, _, _ = lead_a.post(f"/api/v1/volunteer-signups/{s['id']}/cancel", {"reason": "人员调整"})
    check_eq(st, 204, "the organiser cancels during the activity")
    ev = events_of("volunteers.signup.cancelled", f"volunteer_signup:{s['id']}")
    check_eq((len(ev), ev[0]["by"] if ev else None), (1, "organiser"), "the organiser's cancellation event")


def test_time_bank():
    """Approved hours earn points by the community's rule; a redemption is a ledger entry and never
    takes the balance below zero; a volunteer reads and spends only their own."""
    staff, lb, x = ctx["vol_staff"], ctx["vol_lead_b"], ctx["vol_x"]
    st, _, rule = staff.get("/api/v1/volunteer-points/rule")
    check_eq((st, rule.get("points_per_hour"), rule.get("own")), (200, 1, False), f"the default rule {rule}")
    st, _, pts = lb.get("/api/v1/volunteer-points")
    check_eq(st, 200, f"B's points {pts}")
    # B has 130 approved minutes (test_check_in_and_hours): 40 → 0.66, 90 → 1.5 at 1 point an hour
    check_eq((pts["earned"], pts["balance"], pts["redeemed"]), (2.16, 2.16, 0), "earned at 1 point an hour")
    check_eq(sorted(i["points"] for i in pts["items"]), [0.66, 1.5], "one earn entry per approved entry")
    st, resp, b = x.request("PUT", "/api/v1/volunteer-points/rule", body={"points_per_hour": 2})
    check(is_problem(st, resp, b, 403), "a volunteer does not set the rule")
    st, resp, b = staff.request("PUT", "/api/v1/volunteer-points/rule", body={"points_per_hour": -1})
    check(is_problem(st, resp, b, 422, "points_per_hour"), "a negative rule")
    st, _, rule = staff.request("PUT", "/api/v1/volunteer-points/rule", body={"points_per_hour": 2})
    check_eq((st, rule["points_per_hour"], rule["own"]), (200, 2, True), "the community's own rule")
    day = local_now().strftime("%Y-%m-%d")
    st, _, m = staff.post("/api/v1/volunteer-hours", {"volunteer_id": ctx["lb"]["id"], "hours": 1.5, "served_on": day,
                                                       "reason": "社区宣传"})
    check_eq(staff.get("/api/v1/volunteer-points?volunteer_id=%d" % ctx["lb"]["id"])[2]["balance"], 2.16,
             "pending hours earn nothing")
    staff.post(f"/api/v1/volunteer-hours/{m['id']}/approve", {})
    st, _, pts = staff.get("/api/v1/volunteer-points?volunteer_id=%d" % ctx["lb"]["id"])
    check_eq((pts["balance"], pts["points_per_hour"]), (5.16, 2), "1.5 hours at 2 points an hour: +3")
    # offers
    st, resp, b = staff.post("/api/v1/volunteer-point-offers", {"title": "爱心理发", "points": 0})
    check(is_problem(st, resp, b, 422, "points"), "an offer of 0 points")
    st, resp, b = x.post("/api/v1/volunteer-point-offers", {"title": "自定兑换", "points": 1})
    check(is_problem(st, resp, b, 403), "a volunteer does not create offers")
    st, _, cut = staff.post("/api/v1/volunteer-point-offers", {"title": "爱心理发", "points": 2})
    check_eq((st, cut.get("points")), (201, 2), f"an offer {cut}")
    st, _, clean = staff.post("/api/v1/volunteer-point-offers", {"title": "上门保洁", "points": 4})
    st, _, offers = lb.get("/api/v1/volunteer-point-offers")
    check({cut["id"], clean["id"]} <= {o["id"] for o in offers["items"]}, "a volunteer sees the offers")
    # redeem: 5.16 → 3.16 → 1.16, then 4 more refused with nothing changed
    st, _, r1 = lb.post("/api/v1/volunteer-points/redemptions", {"offer_id": cut["id"]})
    check_eq((st, r1.get("balance"), r1.get("points")), (201, 3.16, -2), f"redeemed {r1}")
    st, _, r2 = staff.post("/api/v1/volunteer-points/redemptions", {"offer_id": cut["id"],
                                                                    "volunteer_id": ctx["lb"]["id"], "note": "代为兑换"})
    check_eq((st, r2.get("balance")), (201, 1.16), "staff redeem on B's behalf")
    st, resp, b = lb.post("/api/v1/volunteer-points/redemptions", {"offer_id": clean["id"]})
    check(is_problem(st, resp, b, 409, "points"), f"not enough points ({st} {b})")
    st, resp, b = lb.post("/api/v1/volunteer-points/redemptions", {"offer_id": 99999999})
    check(is_problem(st, resp, b, 422, "offer_id"), "an unknown offer")
    st, resp, b = x.post("/api/v1/volunteer-points/redemptions", {"offer_id": cut["id"], "volunteer_id": ctx["lb"]["id"]})
    check(is_problem(st, resp, b, 403, "volunteer_id"), "nobody spends someone else's points")
    st, _, pts = lb.get("/api/v1/volunteer-points")
    check_eq((pts["balance"], pts["redeemed"], pts["total"]), (1.16, 4, 5), "the ledger: three earned, two redeemed")
    check_eq([i["offer_title"] for i in pts["items"] if i["kind"] == "redeem"], ["爱心理发", "爱心理发"], "what was bought")
    check_eq(len(sql_rows("SELECT id FROM events WHERE kind = 'volunteers.points.redeemed'")), 2, "two events")
    st, resp, b = x.get("/api/v1/volunteer-points?volunteer_id=%d" % ctx["lb"]["id"])
    check(is_problem(st, resp, b, 403), "a volunteer of another team does not read B's points")
    st, _, _ = ctx["vol_wu"].get("/api/v1/volunteer-points")
    check_eq(st, 404, "a resident who never volunteered has no points record")


def pdf_text(data):
    d = tempfile.mkdtemp()
    try:
        p = os.path.join(d, "doc.pdf")
        with open(p, "wb") as f:
            f.write(data)
        return subprocess.run(["pdftotext", "-enc", "UTF-8", p, "-"], capture_output=True, timeout=60).stdout.decode()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_certificate_from_ledger():
    """志愿服务证明: the form no longer takes hours; the certificate prints the approved ledger's."""
    staff, zhou = ctx["vol_staff"], ctx["vol_zhou"]
    st, _, lst = staff.get("/api/v1/volunteers?limit=200")
    mine = [v for v in lst["items"] if v["resident_id"] == ctx["res"][0]["id"]]
    check_eq(len(mine), 1, "the resident became a volunteer at their first sign-up")
    vid = mine[0]["id"]
    day = local_now().strftime("%Y-%m-%d")
    st, _, e1 = staff.post("/api/v1/volunteer-hours", {"volunteer_id": vid, "hours": 2.5, "served_on": day,
                                                        "reason": "敬老院探访补录"})
    st, _, e2 = staff.post("/api/v1/volunteer-hours", {"volunteer_id": vid, "hours": 7, "served_on": day,
                                                        "reason": "未审批的不计入"})
    check_eq(st, 201, "two entries")
    staff.post(f"/api/v1/volunteer-hours/{e1['id']}/approve", {})
    st, _, items = zhou.get("/api/v1/service-items")
    item = [i for i in items["items"] if i["code"] == "volunteer_certificate"][0]
    check("hours" not in [f["key"] for f in item["form"]], "the form has no hours field")
    st, resp, b = zhou.post("/api/v1/service-applications", {"item_id": item["id"], "form": {"hours": 999}})
    check(is_problem(st, resp, b, 422, "form.hours"), f"typed hours refused ({st} {b})")
    st, _, a = zhou.post("/api/v1/service-applications", {"item_id": item["id"],
                                                          "form": {"period": "2026年", "purpose": "评优"}})
    check_eq(st, 201, f"application {a}")
    st, _, _ = zhou.post(f"/api/v1/service-applications/{a['id']}/submit", {})
    check_eq(st, 200, "submitted")
    st, _, r = staff.post(f"/api/v1/service-applications/{a['id']}/review", {"action": "approve"})
    check_eq(st, 200, f"approved {r}")
    st, resp, data = zhou.get(f"/api/v1/service-applications/{a['id']}/documents/certificate")
    check(st == 200 and data[:5] == b"%PDF-", f"certificate PDF ({st})")
    text = pdf_text(data)
    check("累计服务2.5小时" in text.replace(" ", "").replace("\n", ""), f"the ledger's 2.5 hours: {text[:400]!r}")
    check(mine[0]["number"] in text, "the volunteer number printed")
    check("999" not in text and "9.5" not in text, "neither typed nor unapproved hours")


def test_certificate_refused_without_hours():
    """志愿服务证明 is refused when it is applied for by someone with no approved hours (the item's
    eligibility rule, in Chinese), so it never reaches the print; if the approved total later falls to
    zero (a correction), the print is still refused rather than saying 0 hours."""
    staff, wu = ctx["vol_staff"], ctx["vol_wu"]
    st, _, items = wu.get("/api/v1/service-items")
    item = [i for i in items["items"] if i["code"] == "volunteer_certificate"][0]
    check({"rule": "volunteer_hours"} in item["eligibility"], f"the rule is data {item['eligibility']}")
    form = {"item_id": item["id"], "form": {"period": "2026年", "purpose": "求职"}}
    before = wu.get("/api/v1/service-applications")[2].get("total")
    st, resp, b = wu.post("/api/v1/service-applications", form)
    check(is_problem(st, resp, b, 422, "eligibility"), f"no approved hours: refused when applied for ({st} {b})")
    check("志愿服务时长" in b.get("detail", ""), f"the reason is said {b}")
    check_eq(wu.get("/api/v1/service-applications")[2].get("total"), before, "nothing created")
    # with approved hours she may apply; a correction to zero after approval still prints nothing
    st, _, v = staff.post("/api/v1/volunteers", {"resident_id": ctx["res"][1]["id"]})
    check_eq(st, 201, f"吴德厚 registered as a volunteer {v}")
    day = local_now().strftime("%Y-%m-%d")
    st, _, h = staff.post("/api/v1/volunteer-hours", {"volunteer_id": v["id"], "hours": 1, "served_on": day,
                                                       "reason": "补录"})
    staff.post(f"/api/v1/volunteer-hours/{h['id']}/approve", {})
    st, _, a = wu.post("/api/v1/service-applications", form)
    check_eq(st, 201, f"applied for once there are approved hours {a}")
    st, _, _ = wu.post(f"/api/v1/service-applications/{a['id']}/submit", {})
    check_eq(st, 200, "submitted")
    st, _, _ = staff.post(f"/api/v1/service-applications/{a['id']}/review", {"action": "approve"})
    check_eq(st, 200, "approved")
    st, _, c = staff.post("/api/v1/volunteer-hours", {"corrects_id": h["id"], "hours": 0, "reason": "误记，实际未到场"})
    check_eq(st, 201, f"a correction to zero {c}")
    staff.post(f"/api/v1/volunteer-hours/{c['id']}/approve", {})
    st, resp, b = wu.get(f"/api/v1/service-applications/{a['id']}/documents/certificate")
    check(is_problem(st, resp, b, 409, "kind"), f"no certificate of zero hours ({st} {b})")
    check("志愿服务时长" in b.get("detail", ""), f"the reason is said {b}")
    st, _, form = wu.get(f"/api/v1/service-applications/{a['id']}/documents/application")
    check_eq(st, 200, "the application form still prints")


def test_reminder_reaches_the_volunteer():
    """The shift reminder (volunteers.signup.reminder) reaches the volunteer's inbox through the default
    rules of migration 026: a resident volunteer's own inbox (resident_id), a volunteer without a
    resident record their account's (assignee_user_id). SIGUSR1 runs the reminder tick now; the
    sign-ups are for activities starting within the day (敬老院探访: 周桂兰 the resident; 明日清扫: 王小明,
    a volunteer account)."""
    S.proc.send_signal(signal.SIGUSR1)
    want = {"vol_zhou": "敬老院探访", "vol_x": "明日清扫"}
    got = {}
    end = time.time() + 10
    while time.time() < end and len(got) < len(want):
        for who, title in want.items():
            st, _, inbox = ctx[who].get("/api/v1/notifications?limit=50")
            for m in inbox.get("items", []) if st == 200 else []:
                if m.get("title") == "志愿服务提醒" and title in (m.get("body") or ""):
                    got[who] = m
        time.sleep(0.2)
    check_eq(sorted(got), sorted(want), f"both volunteers hear of their shift ({got})")
    check("签到" in got.get("vol_zhou", {}).get("body", ""), f"the message's words {got.get('vol_zhou')}")


def test_upcoming():
    """The one date filter of the volunteers' lists: upcoming=1 keeps the activities and partner sessions
    that have not ended (sqlq_range_ms on ends_at from the server's now, inclusive); 0 or absent keeps
    every one; anything else is 422 naming the parameter, in Chinese, as docs/openapi.json's enum ["0",
    "1"] says (it was read as "absent" before), and changes nothing. An activity that ended an hour ago
    and one that is running are moved there in the database, the way the demo writes its past season."""
    staff = ctx["vol_staff"]
    made = {}
    for name, days in (("已结束的清扫", 5), ("进行中的探访", 6), ("下周的义诊", 7)):
        st, _, a = staff.post("/api/v1/volunteer-activities", {"title": name, "place": "社区广场", "capacity": 5,
                                                             "starts_at": at(60 * 24 * days), "ends_at": at(60 * 24 * days + 120)})
        check_eq(st, 201, f"activity {name} ({a})")
        made[name] = a["id"]
    hour = 3600 * 1000
    now = int(time.time() * 1000)
    sql_exec(f"UPDATE volunteer_activities SET starts_at = {now - 3 * hour}, ends_at = {now - hour} "
             f"WHERE id = {made['已结束的清扫']}")
    sql_exec(f"UPDATE volunteer_activities SET starts_at = {now - hour}, ends_at = {now + hour} "
             f"WHERE id = {made['进行中的探访']}")

    def ids(path, query):
        st, _, body = staff.get(f"{path}?limit=200{query}")
        check_eq(st, 200, f"{path}{query}")
        return {x["id"]: x for x in body.get("items", [])}

    path = "/api/v1/volunteer-activities"
    every = ids(path, "")
    check(set(made.values()) <= set(every), "every activity without the filter")
    check_eq(set(ids(path, "&upcoming=0")), set(every), "upcoming=0: every activity")
    up = ids(path, "&upcoming=1")
    check(made["已结束的清扫"] not in up, "upcoming=1: not the one that ended")
    check(made["进行中的探访"] in up and made["下周的义诊"] in up, "upcoming=1: the running one and the next")
    ended = {int(i) for i in sql_rows(f"SELECT id FROM volunteer_activities WHERE ends_at < {now}")}
    check_eq({i for i in every if i not in up}, ended & set(every), "upcoming=1 leaves out exactly the ones that ended")
    sessions = ids("/api/v1/partner-sessions", "")
    past = {i for i, x in sessions.items() if x["ends_at"] < local_now().isoformat()}
    check(past, f"sessions that are over ({len(sessions)})")
    check(not past & set(ids("/api/v1/partner-sessions", "&upcoming=1")), "upcoming=1: no session that is over")
    for bad in ("yes", "true", "2", "-1", ""):
        for p in (path, "/api/v1/partner-sessions"):
            st, resp, body = staff.get(f"{p}?upcoming={bad}")
            check(is_problem(st, resp, body, 422, "upcoming"), f"{p}?upcoming={bad!r} is 422 ({st} {body})")
    check_eq(set(ids(path, "")), set(every), "nothing changed")


def test_status_filter():
    """?status= of the volunteer, activity, hours and partner booking lists follows the one rule of the kit
    (app_query_enum): empty was read as "all" here and unknown words as "no rows" (hours: 422)."""
    for path, words in (("/api/v1/volunteers", ["active", "inactive"]),
                        ("/api/v1/volunteer-activities", ["open", "cancelled"]),
                        ("/api/v1/volunteer-hours", ["pending", "approved", "rejected"]),
                        ("/api/v1/partner-bookings", ["booked", "cancelled", "attended", "no_show"])):
        check_enum_filter(admin, path + "?limit=200", "status", words)


def test_bad_json():
    staff = ctx["vol_staff"]
    st, resp, b = staff.request("POST", "/api/v1/volunteer-teams", raw=b"{not json", headers={"Content-Type": "application/json"})
    check(is_problem(st, resp, b, 400), f"malformed JSON ({st})")
    st, resp, b = staff.post("/api/v1/volunteer-teams", {"name": 5})
    check(is_problem(st, resp, b, 422, "name"), "wrong type")
    st, resp, b = staff.get("/api/v1/volunteer-activities?limit=abc")
    check(st in (400, 422), f"bad limit ({st})")


run([test_setup, test_teams_and_volunteers, test_waiting_list, test_check_in_and_hours, test_cancel_rules,
     test_time_bank, test_partners_and_bookings, test_thanks_letter, test_street_oversight, test_certificate_from_ledger, test_certificate_refused_without_hours,
     test_reminder_reaches_the_volunteer, test_upcoming, test_status_filter, test_bad_json])
S.stop()
S.cleanup()
