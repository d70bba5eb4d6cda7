"""Black-box tests of party building (issue 16): the organisation tree with secretaries; members
linked to residents (or outsiders); a branch secretary sees and manages their own branch only (another
branch's rows are 404); a transfer moves the member and keeps their history; 三会一课 with attendance,
leave with reasons, minutes submitted by the branch and reviewed by the community, and the yearly
calendar of held and missing; dues from rate rules (data), a month opened, a payment of exactly the
amount due closes it (a wrong amount is a 422 naming amount_fen and changes nothing), paid by another
member, arrears and the yearly statement (JSON and Excel). Dates are looked up or chosen in the past,
never typed from today."""
import datetime
import io
import re
import signal
import time
import zipfile

from nxtest import check_enum_filter, Server, check, check_eq, is_problem, make_id, run, run_cli, tiny_png

S = Server()
S.start()
admin = S.login()
ctx = {}
PW = "Party2026pass"
YEAR = "2024"  # a past year: every period of its calendar has ended


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "党建街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "岔河社区"})
    check_eq(st, 201, "community")
    st, _, other = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "邻社区"})
    people = [("王建国", "19500312", 11), ("李秀英", "19520620", 22), ("张卫东", "19481101", 31),
              ("赵红梅", "19600909", 42), ("刘志强", "19700101", 51)]
    res = []
    for name, birth, seq in people:
        st, _, r = admin.post("/api/v1/residents", {"name": name, "id_number": make_id("110105", birth, seq),
                                                    "community_id": comm["id"]})
        check_eq(st, 201, f"resident {name} {r}")
        res.append(r)
    st, _, outsider = admin.post("/api/v1/residents", {"name": "孙外人", "id_number": make_id("110105", "19580101", 61),
                                                       "community_id": other["id"]})
    check_eq(st, 201, f"resident of another community {outsider}")
    for name, role, extra in [("p_staff", "staff", ["--community", str(comm["id"])]),
                              ("p_sec1", "resident", ["--resident", str(res[0]["id"])]),
                              ("p_mem", "resident", ["--resident", str(res[1]["id"])]),
                              ("p_sec2", "resident", ["--resident", str(res[2]["id"])])]:
        p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
        ctx[name] = S.login(name, PW)
    ctx.update(comm=comm, other=other, res=res, outsider=outsider)


def test_org_tree_and_members():
    staff = ctx["p_staff"]
    st, _, com = staff.post("/api/v1/party-orgs", {"name": "岔河社区党委", "kind": "committee"})
    check_eq(st, 201, f"committee {com}")
    st, _, b1 = staff.post("/api/v1/party-orgs", {"name": "银领先锋党支部", "kind": "branch", "parent_id": com["id"]})
    check_eq((st, b1.get("kind_label")), (201, "党支部"), f"branch {b1}")
    st, _, b2 = staff.post("/api/v1/party-orgs", {"name": "第二党支部", "kind": "branch", "parent_id": com["id"]})
    st, _, g1 = staff.post("/api/v1/party-orgs", {"name": "银领第一党小组", "kind": "group", "parent_id": b1["id"]})
    check_eq(st, 201, "group under a branch")
    st, resp, body = staff.post("/api/v1/party-orgs", {"name": "错位小组", "kind": "group", "parent_id": com["id"]})
    check(is_problem(st, resp, body, 422, "parent_id"), f"a group under a committee is refused ({st} {body})")
    st, resp, body = staff.post("/api/v1/party-orgs", {"name": "银领先锋党支部", "kind": "branch", "parent_id": com["id"]})
    check(is_problem(st, resp, body, 409, "name"), "duplicate name")
    res = ctx["res"]
    members = {}
    for key, r, org, stage in [("wang", res[0], b1, "full"), ("li", res[1], g1, "probationary"),
                               ("zhang", res[2], b2, "full"), ("zhao", res[3], b1, "full")]:
        st, _, m = staff.post("/api/v1/party-members", {"org_id": org["id"], "resident_id": r["id"], "stage": stage,
                                                        "joined_on": "1990-07-01", "income_fen": 400000})
        check_eq(st, 201, f"member {key} {m}")
        members[key] = m
    check_eq((members["li"]["stage_label"], members["li"]["name"]), ("预备党员", "李秀英"), "linked to the resident")
    st, _, m = staff.post("/api/v1/party-members", {"org_id": b1["id"], "name": "周外来", "joined_on": "2001-07-01",
                                                    "mobile": True, "mobile_note": "在外务工", "transferred_from": "某县党支部",
                                                    "income_fen": 0})
    check_eq((st, m.get("resident_id"), m.get("mobile")), (201, None, True), f"an outsider, mobile, transferred in {m}")
    st, _, m = staff.get(f"/api/v1/party-members/{m['id']}")
    check_eq([(t["direction"], t["outside_org"]) for t in m["transfers"]], [("in", "某县党支部")], "arrival recorded")
    members["zhou"] = m
    st, resp, body = staff.post("/api/v1/party-members", {"org_id": b1["id"], "resident_id": ctx["outsider"]["id"],
                                                          "joined_on": "2000-01-01"})
    check(is_problem(st, resp, body, 422, "resident_id"), f"a resident of another community is refused ({st} {body})")
    st, resp, body = staff.post("/api/v1/party-members", {"org_id": b1["id"], "resident_id": res[0]["id"],
                                                          "joined_on": "2000-01-01"})
    check(is_problem(st, resp, body, 409, "resident_id"), "one active membership per resident")
    for org, m in [(b1, members["wang"]), (b2, members["zhang"])]:
        st, _, o = staff.patch(f"/api/v1/party-orgs/{org['id']}", {"secretary_member_id": m["id"]})
        check_eq((st, o.get("secretary_name")), (200, m["name"]), "secretary set")
    st, resp, body = staff.patch(f"/api/v1/party-orgs/{b2['id']}", {"secretary_member_id": members["zhao"]["id"]})
    check(is_problem(st, resp, body, 422, "secretary_member_id"), "a secretary from another branch is refused")
    ctx.update(com=com, b1=b1, b2=b2, g1=g1, members=members)


def test_member_file_shows_volunteer_hours():
    """The member file shows the member's approved volunteer hours (from the volunteers module)."""
    staff, m = ctx["p_staff"], ctx["members"]
    st, _, f = staff.get(f"/api/v1/party-members/{m['wang']['id']}")
    check_eq((f["volunteer_hours"]["minutes"], f["volunteer_hours"]["volunteer_id"]), (0, None), "no volunteer yet")
    st, _, v = staff.post("/api/v1/volunteers", {"resident_id": ctx["res"][0]["id"]})
    check_eq(st, 201, f"the member registers as a volunteer {v}")
    for hours in (2, 1.5):
        st, _, h = staff.post("/api/v1/volunteer-hours", {"volunteer_id": v["id"], "hours": hours,
                                                           "served_on": f"{YEAR}-03-05", "reason": "党员志愿服务"})
        check_eq(st, 201, f"hours {h}")
        if hours == 2:
            staff.post(f"/api/v1/volunteer-hours/{h['id']}/approve", {})
    st, _, f = staff.get(f"/api/v1/party-members/{m['wang']['id']}")
    check_eq((f["volunteer_hours"]["minutes"], f["volunteer_hours"]["hours"], f["volunteer_hours"]["number"]),
             (120, 2, v["number"]), "approved hours only, in the file")
    st, _, own = ctx["p_sec1"].get(f"/api/v1/party-members/{m['wang']['id']}")
    check_eq(own["volunteer_hours"]["minutes"], 120, "the member sees them on their own card")


def test_secretary_sees_own_branch_only():
    sec1, sec2, mem = ctx["p_sec1"], ctx["p_sec2"], ctx["p_mem"]
    b1, b2, m = ctx["b1"], ctx["b2"], ctx["members"]
    st, _, orgs = sec1.get("/api/v1/party-orgs")
    check_eq(sorted(o["name"] for o in orgs["items"]), sorted(["银领先锋党支部", "银领第一党小组"]), "secretary's orgs")
    st, _, lst = sec1.get("/api/v1/party-members")
    check_eq(sorted(x["name"] for x in lst["items"]), sorted(["王建国", "李秀英", "赵红梅", "周外来"]),
             "secretary 1 lists branch 1 (and its group)")
    st, resp, body = sec1.get(f"/api/v1/party-members/{m['zhang']['id']}")
    check(is_problem(st, resp, body, 404), f"secretary 1 cannot read branch 2's member ({st})")
    st, resp, body = sec2.get(f"/api/v1/party-members/{m['wang']['id']}")
    check(is_problem(st, resp, body, 404), "secretary 2 cannot read branch 1's member")
    st, resp, body = sec2.get(f"/api/v1/party-orgs/{b1['id']}")
    check(is_problem(st, resp, body, 404), "nor branch 1 itself")
    st, resp, body = sec1.post("/api/v1/party-members", {"org_id": b2["id"], "name": "越权", "joined_on": "2000-01-01"})
    check(is_problem(st, resp, body, 404, "org_id"), "secretary 1 cannot add to branch 2")
    st, resp, body = sec1.post("/api/v1/party-orgs", {"name": "自建", "kind": "group", "parent_id": b1["id"]})
    check(is_problem(st, resp, body, 403), "organisations are the community's")
    st, _, lst = mem.get("/api/v1/party-members")
    check_eq([x["name"] for x in lst["items"]], ["李秀英"], "a member sees only their own record")
    st, _, lst = ctx["p_staff"].get("/api/v1/party-members")
    check_eq(lst["total"], 5, "staff see the community")


def test_transfer_moves_and_keeps_history():
    staff, b1, b2, m = ctx["p_staff"], ctx["b1"], ctx["b2"], ctx["members"]
    zhao = m["zhao"]
    st, resp, body = staff.post(f"/api/v1/party-members/{zhao['id']}/transfers", {"direction": "internal",
                                                                                 "on_date": "2024-03-01"})
    check(is_problem(st, resp, body, 422, "to_org_id"), "internal needs a destination")
    st, _, f = staff.post(f"/api/v1/party-members/{zhao['id']}/transfers",
                          {"direction": "internal", "to_org_id": b2["id"], "on_date": "2024-03-01", "reason": "搬家"})
    check_eq((st, f.get("org_id")), (201, b2["id"]), f"moved to branch 2 {f}")
    st, _, f = staff.post(f"/api/v1/party-members/{zhao['id']}/transfers",
                          {"direction": "out", "outside_org": "外区某党支部", "on_date": "2024-06-01"})
    check_eq((st, f.get("status")), (201, "transferred_out"), "transferred out")
    check_eq([(t["direction"], t["from_org_id"], t["to_org_id"], t["on_date"]) for t in f["transfers"]],
             [("internal", b1["id"], b2["id"], "2024-03-01"), ("out", b2["id"], None, "2024-06-01")],
             "history kept, in date order")
    st, resp, body = staff.post(f"/api/v1/party-members/{zhao['id']}/transfers",
                                {"direction": "out", "outside_org": "又一处", "on_date": "2024-07-01"})
    check(is_problem(st, resp, body, 409), "cannot transfer out twice")
    st, _, lst = staff.get("/api/v1/party-members?status=transferred_out")
    check_eq([x["name"] for x in lst["items"]], ["赵红梅"], "listed as transferred out")
    st, _, lst = ctx["p_sec1"].get("/api/v1/party-members")
    check("赵红梅" not in [x["name"] for x in lst["items"]], "no longer in branch 1's roll")


def test_activities_attendance_minutes_calendar():
    staff, sec1, sec2, mem = ctx["p_staff"], ctx["p_sec1"], ctx["p_sec2"], ctx["p_mem"]
    b1, g1, m = ctx["b1"], ctx["g1"], ctx["members"]
    st, _, a = sec1.post("/api/v1/party-activities", {"org_id": b1["id"], "kind": "lesson", "title": "学习党章",
                                                      "held_on": f"{YEAR}-02-20", "place": "活动室"})
    check_eq((st, a.get("status"), a.get("kind_label")), (201, "planned", "党课"), f"secretary schedules {a}")
    st, resp, body = sec2.post("/api/v1/party-activities", {"org_id": b1["id"], "kind": "lesson", "title": "x",
                                                            "held_on": f"{YEAR}-02-20"})
    check(is_problem(st, resp, body, 404, "org_id"), "another branch's secretary cannot")
    st, resp, body = sec1.post("/api/v1/party-activities", {"org_id": b1["id"], "kind": "party", "title": "x",
                                                            "held_on": f"{YEAR}-02-20"})
    check(is_problem(st, resp, body, 422, "kind"), "unknown kind")
    st, resp, body = sec1.post(f"/api/v1/party-activities/{a['id']}/attendance",
                               {"items": [{"member_id": m["li"]["id"], "status": "leave"}]})
    check(is_problem(st, resp, body, 422, "reason"), "leave needs a reason")
    st, resp, body = sec1.post(f"/api/v1/party-activities/{a['id']}/attendance",
                               {"items": [{"member_id": m["zhang"]["id"], "status": "present"}]})
    check(is_problem(st, resp, body, 422, "member_id"), "a member of another branch")
    st, _, a2 = sec1.post(f"/api/v1/party-activities/{a['id']}/attendance",
                          {"items": [{"member_id": m["wang"]["id"], "status": "present"},
                                     {"member_id": m["li"]["id"], "status": "leave", "reason": "住院"},
                                     {"member_id": m["zhou"]["id"], "status": "absent"}]})
    check_eq((st, a2["present"], a2["leave"], a2["absent"]), (200, 1, 1, 1), f"attendance {a2}")
    check_eq([x["reason"] for x in a2["attendance"] if x["status"] == "leave"], ["住院"], "the reason kept")
    st, _, lst = mem.get("/api/v1/party-activities")
    check_eq([x["id"] for x in lst["items"]], [a["id"]], "a member of the group sees the branch's activities")
    st, resp, body = sec1.post(f"/api/v1/party-activities/{a['id']}/review", {"approved": True})
    check(is_problem(st, resp, body, 403), "the branch does not review itself")
    st, resp, body = staff.post(f"/api/v1/party-activities/{a['id']}/review", {"approved": True})
    check(is_problem(st, resp, body, 409), "nothing submitted yet")
    st, _, a3 = sec1.post(f"/api/v1/party-activities/{a['id']}/minutes", {"minutes": "学习了党章第一章。"})
    check_eq((st, a3["status"]), (200, "submitted"), "minutes submitted")
    st, resp, body = staff.post(f"/api/v1/party-activities/{a['id']}/review", {"approved": False})
    check(is_problem(st, resp, body, 422, "note"), "a return needs a note")
    st, _, a4 = staff.post(f"/api/v1/party-activities/{a['id']}/review", {"approved": True})
    check_eq((st, a4["status"]), (200, "approved"), "approved")
    st, resp, body = sec1.post(f"/api/v1/party-activities/{a['id']}/attendance",
                               {"items": [{"member_id": m["zhou"]["id"], "status": "present"}]})
    check(is_problem(st, resp, body, 409), "attendance frozen once approved")
    # a committee meeting held in January by the group (counts for the branch), one planned in March
    st, _, c = sec1.post("/api/v1/party-activities", {"org_id": g1["id"], "kind": "committee_meeting",
                                                      "title": "一月支委会", "held_on": f"{YEAR}-01-10"})
    sec1.post(f"/api/v1/party-activities/{c['id']}/minutes", {"minutes": "研究工作。"})
    sec1.post("/api/v1/party-activities", {"org_id": b1["id"], "kind": "committee_meeting", "title": "三月支委会",
                                           "held_on": f"{YEAR}-03-10"})
    st, _, cal = staff.get(f"/api/v1/party-calendar?year={YEAR}&org_id={b1['id']}")
    check_eq(st, 200, f"calendar {cal}")
    br = cal["branches"][0]
    check_eq((br["months"][0]["held"], br["months"][1]["held"], br["months"][2]["planned"]),
             ({"committee_meeting": 1}, {"lesson": 1}, {"committee_meeting": 1}), "held and planned by month")
    miss = {(x["kind"], x["period"]) for x in br["missing"]}
    check(("committee_meeting", f"{YEAR}-02") in miss and ("committee_meeting", f"{YEAR}-01") not in miss,
          "a monthly meeting missing in February, not in January")
    check(("lesson", f"{YEAR}-Q1") not in miss and ("lesson", f"{YEAR}-Q2") in miss, "lessons by quarter")
    check_eq((br["held_total"], br["missing_total"]), (2, 12 * 3 + 4 * 2 - 2), "totals")
    st, _, cal = sec2.get(f"/api/v1/party-calendar?year={YEAR}")
    check_eq([b["name"] for b in cal["branches"]], ["第二党支部"], "secretary 2's calendar is their branch")
    st, resp, body = staff.get("/api/v1/party-calendar?year=20x4")
    check(is_problem(st, resp, body, 422, "year"), "bad year")


def test_minutes_photos():
    """Photos of the minutes: an image stored by the upload store, a non-image refused (415), listed
    with the activity and served to who may read it, none added once the minutes are approved."""
    staff, sec1, sec2, mem = ctx["p_staff"], ctx["p_sec1"], ctx["p_sec2"], ctx["p_mem"]
    st, _, a = sec1.post("/api/v1/party-activities", {"org_id": ctx["b1"]["id"], "kind": "theme_day",
                                                      "title": "主题党日：社区清扫", "held_on": f"{YEAR}-04-15"})
    check_eq(st, 201, f"activity {a}")
    path = f"/api/v1/party-activities/{a['id']}/photos"
    img = tiny_png()
    st, resp, body = sec1.request("POST", path, raw=b"%PDF-1.4\n1 0 obj\n", headers={"Content-Type": "image/png"})
    check(is_problem(st, resp, body, 415, "file"), f"a PDF claiming to be an image is refused ({st} {body})")
    st, resp, body = sec1.request("POST", path, raw="会议纪要正文".encode(), headers={"Content-Type": "image/jpeg"})
    check(is_problem(st, resp, body, 415, "file"), "text is refused")
    st, resp, body = sec2.request("POST", path, raw=img, headers={"Content-Type": "image/png"})
    check(is_problem(st, resp, body, 404), "another branch's secretary")
    check_eq(staff.get(f"/api/v1/party-activities/{a['id']}")[2]["photos"], [], "nothing stored")
    st, resp, ph = sec1.request("POST", path, raw=img, headers={"Content-Type": "image/png"})
    check_eq((st, ph.get("url")), (201, f"/api/v1/party-photos/{ph.get('id')}"), f"a photo {ph}")
    st, _, full = mem.get(f"/api/v1/party-activities/{a['id']}")
    check_eq([(p["id"], p["content_type"]) for p in full["photos"]], [(ph["id"], "image/png")], "listed")
    st, resp, data = mem.get(ph["url"])
    check_eq((st, resp.getheader("Content-Type"), data[:8]), (200, "image/png", img[:8]), "served to a member")
    st, _, _ = sec2.get(ph["url"])
    check_eq(st, 404, "not to another branch")
    sec1.post(f"/api/v1/party-activities/{a['id']}/minutes", {"minutes": "清扫楼道三处。"})
    staff.post(f"/api/v1/party-activities/{a['id']}/review", {"approved": True})
    st, resp, body = sec1.request("POST", path, raw=img, headers={"Content-Type": "image/png"})
    check(is_problem(st, resp, body, 409), "no photo after approval")


def test_dues_rules_payment_arrears_statement():
    staff, sec1, sec2, mem = ctx["p_staff"], ctx["p_sec1"], ctx["p_sec2"], ctx["p_mem"]
    m = ctx["members"]
    for body in [{"name": "3000元以下", "min_income_fen": 0, "max_income_fen": 300000, "rate_bp": 50},
                 {"name": "3000-5000元", "min_income_fen": 300001, "max_income_fen": 500000, "rate_bp": 100},
                 {"name": "5000元以上", "min_income_fen": 500001, "rate_bp": 150}]:
        st, _, r = staff.post("/api/v1/party-dues-rules", body)
        check_eq(st, 201, f"rule {r}")
    st, resp, body = staff.post("/api/v1/party-dues-rules", {"name": "两者皆有", "min_income_fen": 0, "rate_bp": 1,
                                                             "fixed_fen": 20})
    check(is_problem(st, resp, body, 422, "rate_bp"), "rate or fixed, not both")
    staff.patch(f"/api/v1/party-members/{m['li']['id']}", {"income_fen": 612345})
    st, _, op = staff.post("/api/v1/party-dues/cycles", {"month": f"{YEAR}-05"})
    check_eq((st, op["created"]), (200, 4), f"month opened for the 4 active members {op}")
    st, _, op2 = staff.post("/api/v1/party-dues/cycles", {"month": f"{YEAR}-05"})
    check_eq(op2["created"], 0, "opening again creates nothing")
    staff.post("/api/v1/party-dues/cycles", {"month": f"{YEAR}-06"})
    st, _, lst = staff.get(f"/api/v1/party-dues?month={YEAR}-05&limit=50")
    by = {d["member_name"]: d for d in lst["items"]}
    check_eq((by["王建国"]["amount_fen"], by["李秀英"]["amount_fen"], by["周外来"]["amount_fen"]),
             (4000, 9185, 0), "1 % of 4000 yuan; 1.5 % of 6123.45 yuan rounded half up; 0.5 % of nothing")
    wang = by["王建国"]
    st, resp, body = sec1.post(f"/api/v1/party-dues/{wang['id']}/payments", {"amount_fen": 3999})
    check(is_problem(st, resp, body, 422, "amount_fen"), f"wrong amount refused ({st} {body})")
    st, _, d = staff.get(f"/api/v1/party-dues/{wang['id']}")
    check_eq((d["status"], d["paid_fen"]), ("due", None), "nothing changed")
    st, resp, body = sec2.post(f"/api/v1/party-dues/{wang['id']}/payments", {"amount_fen": 4000})
    check(is_problem(st, resp, body, 404), "another branch's secretary cannot record it")
    st, _, d = sec1.post(f"/api/v1/party-dues/{wang['id']}/payments",
                         {"amount_fen": 4000, "paid_by_member_id": m["zhou"]["id"], "paid_on": f"{YEAR}-05-20"})
    check_eq((st, d["status"], d["paid_fen"], d["paid_by_name"]), (201, "paid", 4000, "周外来"),
             f"paid on his behalf closes the month {d}")
    st, resp, body = sec1.post(f"/api/v1/party-dues/{wang['id']}/payments", {"amount_fen": 4000})
    check(is_problem(st, resp, body, 409), "paid once")
    st, _, mine = mem.get("/api/v1/party-dues")
    check_eq(sorted(x["month"] for x in mine["items"]), [f"{YEAR}-05", f"{YEAR}-06"], "a member sees their own dues")
    st, _, arr = staff.get("/api/v1/party-dues/arrears")
    ab = {x["name"]: x for x in arr["items"]}
    check_eq((ab["王建国"]["months"], ab["李秀英"]["months"], ab["李秀英"]["amount_fen"]), (1, 2, 18370), "arrears")
    st, _, s = staff.get(f"/api/v1/party-dues/statement?year={YEAR}")
    sw = {x["name"]: x for x in s["members"]}["王建国"]
    check_eq((sw["due_fen"], sw["paid_fen"], sw["arrears_fen"], sw["months"][4]["status"], sw["months"][0]),
             (8000, 4000, 4000, "paid", None), "the member's year")
    check_eq((s["due_fen"], s["paid_fen"]), (2 * (4000 + 9185 + 0 + 4000), 4000), "the totals")
    st, resp, body = staff.get(f"/api/v1/party-dues/statement.xlsx?year={YEAR}&org_id={ctx['b1']['id']}")
    check_eq(st, 200, "Excel statement")
    z = zipfile.ZipFile(io.BytesIO(body))
    shared = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else ""
    sheet = z.read("xl/worksheets/sheet1.xml").decode()
    check("王建国" in shared + sheet and "合计" in shared + sheet, "names and the total row in the file")
    check_eq(resp.getheader("X-Row-Count"), "3", "one row per member of branch 1 and its group")
    # whose dues were exported is audited: the year, the branch and the count, never the rows
    st, _, log = admin.get("/api/v1/audit?object_type=party_dues&action=export")
    got = [e.get("detail", {}) for e in log.get("items", []) if e.get("action") == "export"]
    check(st == 200 and got and got[0].get("year") == YEAR and got[0].get("count") == 3
          and got[0].get("org_id") == ctx["b1"]["id"] and "王建国" not in str(log),
          f"the Excel statement is audited as an export: {st} {log}")


def test_dues_reminder_reaches_member():
    """party.dues.reminder names the member's resident record, and the default rule of migration 026
    puts it in the member's own inbox, once per unpaid month (李秀英: 2024-05 and 2024-06; 王建国 paid
    May). SIGUSR1 runs the reminder tick now."""
    accounts = {"王建国": "p_sec1", "李秀英": "p_mem", "张卫东": "p_sec2"}
    st, _, lst = ctx["p_staff"].get("/api/v1/party-dues?limit=100")
    want = {who: [] for who in accounts.values()}
    for d in lst["items"]:
        if d["status"] == "due" and d["amount_fen"] > 0 and d["member_name"] in accounts:
            want[accounts[d["member_name"]]].append("%s年%s月党费 %d.%02d 元" % (d["month"][:4], d["month"][5:],
                                                                              d["amount_fen"] // 100, d["amount_fen"] % 100))
    want = {k: sorted(v) for k, v in want.items()}
    check_eq(want["p_mem"], ["2024年05月党费 91.85 元", "2024年06月党费 91.85 元"], "李秀英 owes two months")
    check_eq(want["p_sec1"], ["2024年06月党费 40.00 元"], "王建国 owes June only")
    S.proc.send_signal(signal.SIGUSR1)

    def reminders(who):
        """The month each 党费缴纳提醒 in who's inbox names (its body), in order."""
        st, _, inbox = ctx[who].get("/api/v1/notifications?limit=50")
        bodies = [m.get("body") or "" for m in inbox.get("items", [])] if st == 200 else []
        return sorted(re.search(r"\d{4}年\d{2}月党费 [\d.]+ 元", b).group(0) for b in bodies if "党费 " in b)
    got = {}
    end = time.time() + 10
    while time.time() < end and got != want:
        got = {who: reminders(who) for who in want}
        time.sleep(0.2)
    check_eq(got, want, "each member hears of each of their own unpaid months, once")


def test_bad_input_changes_nothing():
    staff = ctx["p_staff"]
    st, resp, body = staff.post("/api/v1/party-members", {"org_id": ctx["b1"]["id"], "name": "x", "joined_on": "2024-13-01"})
    check(is_problem(st, resp, body, 422, "joined_on"), "bad date")
    st, resp, body = staff.post("/api/v1/party-orgs", {"name": "x", "kind": "branch", "colour": "red"})
    check(is_problem(st, resp, body, 422, "colour"), "unknown field")
    st, resp, body = staff.post("/api/v1/party-dues/cycles", {"month": "2024-5"})
    check(is_problem(st, resp, body, 422, "month"), "bad month")
    st, _, lst = staff.get("/api/v1/party-members")
    check_eq(lst["total"], 4, "nothing added")
    st, resp, body = ctx["p_mem"].post("/api/v1/party-dues/cycles", {"month": "2024-07"})
    check(is_problem(st, resp, body, 403), "members do not open months")


def test_status_filter():
    """?status= of the activity list follows the one rule of the kit (app_query_enum): an unknown or empty
    word was compared as it was and answered an empty list. Members and dues check theirs in the rules
    (422 too)."""
    check_enum_filter(admin, "/api/v1/party-activities?limit=200", "status", ["planned", "submitted", "approved", "returned"])
    for path in ("/api/v1/party-members", "/api/v1/party-dues"):
        for bad in ("", "bogus"):
            st, resp, body = admin.get(f"{path}?status={bad}")
            check(is_problem(st, resp, body, 422, "status"), f"{path}?status={bad!r} is 422 ({st} {body})")


try:
    run([test_setup, test_org_tree_and_members, test_member_file_shows_volunteer_hours,
         test_secretary_sees_own_branch_only, test_transfer_moves_and_keeps_history,
         test_activities_attendance_minutes_calendar, test_minutes_photos, test_dues_rules_payment_arrears_statement,
         test_dues_reminder_reaches_member, test_bad_input_changes_nothing, test_status_filter])
finally:
    S.cleanup()
