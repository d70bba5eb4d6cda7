"""Black-box tests of model-resident elections (issue 16): stages in order (no 公示 before every
nomination is reviewed, no vote before 公示 ends and every objection is answered, no result before the
vote closes); nominees are residents of the community only (a non-resident is a 422 naming
resident_id); one vote per resident per category (a second is a 409 naming category_id, the count is
unchanged); exact counts, turnout and the seats; a vote outside the window is refused and changes
nothing; too low a turnout elects nobody; the honour list and the certificates (PDF). Dates are
computed from today (Shanghai) and set through the API: 公示 recorded as started days ago, a vote window
in the past — nothing waits."""
import datetime

from nxtest import Server, check, check_eq, is_problem, make_id, run, run_cli

S = Server()
S.start()
admin = S.login()
ctx = {}
PW = "Elect2026pass"


def day(offset):
    today = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()
    return (today + datetime.timedelta(days=offset)).isoformat()


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "评选街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "四德社区"})
    st, _, other = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "外社区"})
    res = []
    for n, (name, birth) in enumerate([("孝敬", "19500101"), ("诚信", "19520202"), ("公益", "19540303"),
                                       ("美善", "19560404"), ("和睦", "19580505")]):
        st, _, r = admin.post("/api/v1/residents", {"name": name, "id_number": make_id("110105", birth, 11 + n),
                                                    "community_id": comm["id"]})
        check_eq(st, 201, f"resident {r}")
        res.append(r)
    st, _, x = admin.post("/api/v1/residents", {"name": "外人", "id_number": make_id("110105", "19600606", 21),
                                                "community_id": other["id"]})
    for name, role, extra in [("e_staff", "staff", ["--community", str(comm["id"])]),
                              ("e_a", "resident", ["--resident", str(res[0]["id"])]),
                              ("e_b", "resident", ["--resident", str(res[1]["id"])]),
                              ("e_c", "resident", ["--resident", str(res[2]["id"])]),
                              ("e_x", "resident", ["--resident", str(x["id"])])]:
        p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
        ctx[name] = S.login(name, PW)
    ctx.update(comm=comm, res=res, x=x)


def new_election(title, turnout=50):
    st, _, el = ctx["e_staff"].post("/api/v1/elections", {"title": title, "publicity_days": 5, "min_turnout_pct": turnout,
                                                          "categories": [{"name": "孝德标兵", "seats": 1},
                                                                         {"name": "诚德标兵", "seats": 2}]})
    check_eq((st, el.get("stage")), (201, "nomination"), f"election {el}")
    return el, {c["name"]: c["id"] for c in el["categories"]}


def test_full_election_in_order():
    staff, a, b, c, x = ctx["e_staff"], ctx["e_a"], ctx["e_b"], ctx["e_c"], ctx["e_x"]
    res = ctx["res"]
    el, cats = new_election("2026年度四德标兵评选")
    eid, xiao, cheng = el["id"], cats["孝德标兵"], cats["诚德标兵"]
    url = f"/api/v1/elections/{eid}"
    st, _, e1 = a.post(url + "/nominations", {"category_id": xiao, "resident_id": res[1]["id"], "reason": "照顾瘫痪老母亲十年"})
    check_eq(st, 201, f"a resident nominates {e1}")
    st, _, e2 = staff.post(url + "/nominations", {"category_id": xiao, "resident_id": res[2]["id"], "reason": "孝老爱亲"})
    st, _, e3 = staff.post(url + "/nominations", {"category_id": cheng, "resident_id": res[3]["id"], "reason": "拾金不昧"})
    st, _, e4 = staff.post(url + "/nominations", {"category_id": cheng, "resident_id": res[4]["id"], "reason": "诚信经营"})
    check_eq(st, 201, "staff nominate")
    noms = {n["resident_id"]: n["id"] for n in e4["nominations"]}
    st, resp, body = staff.post(url + "/nominations", {"category_id": xiao, "resident_id": ctx["x"]["id"], "reason": "外来"})
    check(is_problem(st, resp, body, 422, "resident_id"), f"a non-resident cannot be nominated ({st} {body})")
    st, resp, body = a.post(url + "/nominations", {"category_id": xiao, "resident_id": 999999, "reason": "查无此人"})
    check(is_problem(st, resp, body, 422, "resident_id"), "nor an unknown id")
    st, resp, body = a.post(url + "/nominations", {"category_id": xiao, "resident_id": res[1]["id"], "reason": "再提"})
    check(is_problem(st, resp, body, 409, "resident_id"), "the same person twice in a category")
    st, resp, body = a.post(url + "/nominations", {"category_id": xiao, "resident_id": res[0]["id"]})
    check(is_problem(st, resp, body, 422, "reason"), "a reason is required")
    st, resp, body = x.post(url + "/nominations", {"category_id": xiao, "resident_id": res[0]["id"], "reason": "x"})
    check(is_problem(st, resp, body, 404), "another community's resident does not see the election")
    st, _, mine = a.get(url)
    check_eq([n["resident_id"] for n in mine["nominations"]], [res[1]["id"]], "a resident sees their own nominations")
    st, resp, body = a.post(url + "/ballots", {"category_id": xiao, "nomination_id": noms[res[1]["id"]]})
    check(is_problem(st, resp, body, 409, "vote_from"), "no vote in the nomination stage")
    st, resp, body = staff.post(url + "/stage", {"to": "publicity"})
    check(is_problem(st, resp, body, 409, "to"), "stages in order")
    st, _, _ = staff.post(url + "/stage", {"to": "review"})
    check_eq(st, 200, "to review")
    st, resp, body = staff.post(url + "/stage", {"to": "publicity", "publicity_from": day(-10)})
    check(is_problem(st, resp, body, 409, "to"), "not before every nomination is reviewed")
    st, resp, body = staff.post(f"{url}/nominations/{noms[res[1]['id']]}/review", {"eligible": True})
    check(is_problem(st, resp, body, 422, "reason"), "a review records its reason")
    for rid, ok, why in [(res[1]["id"], True, "符合条件"), (res[2]["id"], True, "符合条件"), (res[3]["id"], True, "符合条件"),
                         (res[4]["id"], False, "不符合评选条件：近一年有违规经营记录")]:
        st, _, _ = staff.post(f"{url}/nominations/{noms[rid]}/review", {"eligible": ok, "reason": why})
        check_eq(st, 200, f"review {rid}")
    st, resp, body = staff.post(url + "/stage", {"to": "publicity", "publicity_from": day(1)})
    check(is_problem(st, resp, body, 422, "publicity_from"), "公示 cannot start tomorrow")
    st, _, e = staff.post(url + "/stage", {"to": "publicity", "publicity_from": day(-10)})
    check_eq((st, e["stage"], e["publicity_until"]), (200, "publicity", day(-6)), "公示 recorded from ten days ago, five days")
    st, _, pub = b.get(url)
    check_eq(sorted(n["resident_id"] for n in pub["nominations"]), sorted([res[1]["id"], res[2]["id"], res[3]["id"]]),
             "the 公示 list shows the eligible")
    st, resp, body = b.post(url + "/objections", {"nomination_id": noms[res[2]["id"]], "body": "此人不孝"})
    check(is_problem(st, resp, body, 409), "online objections only during the notice")
    st, _, e = staff.post(url + "/objections", {"nomination_id": noms[res[2]["id"]], "body": "书面异议：情况不实",
                                                "received_on": day(-7)})
    check_eq(st, 201, f"a paper objection received during the notice {e}")
    oid = e["created_id"]
    st, resp, body = staff.post(url + "/stage", {"to": "voting", "vote_from": day(-5), "vote_until": day(1)})
    check(is_problem(st, resp, body, 409, "to"), "no vote while an objection is unanswered")
    st, _, e = staff.post(f"{url}/objections/{oid}/answer", {"answer": "经核实，情况属实，异议不成立", "upheld": False})
    check_eq(st, 200, "answered")
    st, resp, body = staff.post(f"{url}/objections/{oid}/answer", {"answer": "again", "upheld": True})
    check(is_problem(st, resp, body, 409), "answered once")
    st, resp, body = staff.post(url + "/stage", {"to": "voting", "vote_from": day(-6), "vote_until": day(1)})
    check(is_problem(st, resp, body, 422, "vote_from"), "the window starts after the notice")
    st, _, e = staff.post(url + "/stage", {"to": "voting", "vote_from": day(-5), "vote_until": day(1)})
    check_eq((st, e["stage"], e["eligible_voters"]), (200, "voting", 5), "voting open; 5 residents may vote")
    n_b, n_c, n_d = noms[res[1]["id"]], noms[res[2]["id"]], noms[res[3]["id"]]
    st, _, v = a.post(url + "/ballots", {"category_id": xiao, "nomination_id": n_b})
    check_eq((st, [m["category_id"] for m in v["my_votes"]]), (201, [xiao]), "a votes")
    st, resp, body = a.post(url + "/ballots", {"category_id": xiao, "nomination_id": n_c})
    check(is_problem(st, resp, body, 409, "category_id"), "one vote per resident per category")
    st, resp, body = a.post(url + "/ballots", {"category_id": cheng, "nomination_id": n_b})
    check(is_problem(st, resp, body, 422, "nomination_id"), "a candidate of another category")
    st, resp, body = a.post(url + "/ballots", {"category_id": cheng, "nomination_id": noms[res[4]["id"]]})
    check(is_problem(st, resp, body, 422, "nomination_id"), "an ineligible nomination")
    a.post(url + "/ballots", {"category_id": cheng, "nomination_id": n_d})
    b.post(url + "/ballots", {"category_id": xiao, "nomination_id": n_c})
    st, _, _ = c.post(url + "/ballots", {"category_id": xiao, "nomination_id": n_b})
    check_eq(st, 201, "c votes")
    st, resp, body = staff.post(url + "/ballots", {"category_id": cheng, "nomination_id": n_d})
    check(is_problem(st, resp, body, 403), "staff accounts are not voters")
    st, resp, body = x.post(url + "/ballots", {"category_id": cheng, "nomination_id": n_d})
    check(is_problem(st, resp, body, 404), "another community's resident cannot vote")
    st, resp, body = b.get(url + "/result")
    check(is_problem(st, resp, body, 409), "no result before the close")
    st, _, e = staff.post(url + "/stage", {"to": "closed"})
    check_eq((st, e["stage"], e["voters"], e["valid"]), (200, "closed", 3, True), f"closed {e}")
    st, resp, body = b.post(url + "/ballots", {"category_id": cheng, "nomination_id": n_d})
    check(is_problem(st, resp, body, 409), "no vote after the close")
    st, _, r = b.get(url + "/result")
    check_eq((r["eligible_voters"], r["voters"], r["turnout_pct"], r["valid"]), (5, 3, 60.0, True), "turnout")
    by = {c["name"]: [(x["name"], x["votes"], x["elected"]) for x in c["candidates"]] for c in r["categories"]}
    check_eq(by["孝德标兵"], [("诚信", 2, True), ("公益", 1, False)], "孝德: exact counts, one seat")
    check_eq(by["诚德标兵"], [("美善", 1, True)], "诚德: the ineligible are not candidates")
    st, _, h = c.get("/api/v1/elections/honours")
    check_eq([(x["name"], x["category"]) for x in h["items"]], [("诚信", "孝德标兵"), ("美善", "诚德标兵")], "honour list")
    st, resp, pdf = staff.get(f"{url}/nominations/{n_b}/certificate.pdf")
    check_eq((st, resp.getheader("Content-Type"), pdf[:4]), (200, "application/pdf", b"%PDF"), "certificate")
    st, resp, pdf = b.get(f"{url}/nominations/{n_b}/certificate.pdf")
    check_eq(st, 200, "the honoured resident downloads their own certificate")
    st, resp, body = a.get(f"{url}/nominations/{n_b}/certificate.pdf")
    check(is_problem(st, resp, body, 404), "not another's")
    st, resp, body = staff.get(f"{url}/nominations/{n_c}/certificate.pdf")
    check(is_problem(st, resp, body, 409), "no certificate for a candidate not elected")


def test_no_vote_before_notice_ends():
    staff, a, b = ctx["e_staff"], ctx["e_a"], ctx["e_b"]
    el, cats = new_election("2026年度好邻居评选")
    url = f"/api/v1/elections/{el['id']}"
    st, _, e = a.post(url + "/nominations", {"category_id": cats["孝德标兵"], "resident_id": ctx["res"][0]["id"],
                                             "reason": "自荐"})
    nid = e["nominations"][0]["id"]
    staff.post(url + "/stage", {"to": "review"})
    staff.post(f"{url}/nominations/{nid}/review", {"eligible": True, "reason": "符合"})
    st, _, e = staff.post(url + "/stage", {"to": "publicity"})
    check_eq((st, e["publicity_from"], e["publicity_until"]), (200, day(0), day(4)), "公示 from today")
    st, _, e = b.post(url + "/objections", {"nomination_id": nid, "body": "有意见"})
    check_eq(st, 201, "a resident objects during the notice")
    st, _, mine = b.get(url)
    check_eq(len(mine["objections"]), 1, "and sees their objection")
    st, resp, body = staff.post(url + "/stage", {"to": "voting", "vote_from": day(5), "vote_until": day(9)})
    check(is_problem(st, resp, body, 409, "to"), "no vote before the notice ends")
    st, resp, body = a.post(url + "/ballots", {"category_id": cats["孝德标兵"], "nomination_id": nid})
    check(is_problem(st, resp, body, 409), "no ballot during the notice")


def test_vote_outside_window_and_low_turnout():
    staff, a = ctx["e_staff"], ctx["e_a"]
    el, cats = new_election("往年评选", turnout=50)
    url = f"/api/v1/elections/{el['id']}"
    st, _, e = staff.post(url + "/nominations", {"category_id": cats["孝德标兵"], "resident_id": ctx["res"][3]["id"],
                                                 "reason": "孝顺"})
    nid = e["nominations"][0]["id"]
    staff.post(url + "/stage", {"to": "review"})
    staff.post(f"{url}/nominations/{nid}/review", {"eligible": True, "reason": "符合"})
    staff.post(url + "/stage", {"to": "publicity", "publicity_from": day(-20)})
    st, resp, body = staff.post(url + "/stage", {"to": "voting", "vote_from": day(-14), "vote_until": day(-15)})
    check(is_problem(st, resp, body, 422, "vote_until"), "the window's end before its start")
    st, _, e = staff.post(url + "/stage", {"to": "voting", "vote_from": day(-14), "vote_until": day(-10)})
    check_eq(st, 200, "a window in the past")
    st, resp, body = a.post(url + "/ballots", {"category_id": cats["孝德标兵"], "nomination_id": nid})
    check(is_problem(st, resp, body, 409, "vote_until"), f"a vote outside the window ({st} {body})")
    st, _, e = a.get(url)
    check_eq(e["my_votes"], [], "nothing recorded")
    st, _, e = staff.post(url + "/stage", {"to": "closed"})
    st, _, r = staff.get(url + "/result")
    check_eq((r["voters"], r["valid"], [c["elected"] for c in r["categories"][0]["candidates"]]), (0, False, [False]),
             "below the minimum turnout nobody is elected")
    st, _, h = staff.get("/api/v1/elections/honours")
    check("往年评选" not in [x["title"] for x in h["items"]], "an invalid election is not on the honour list")


def test_bad_input():
    staff = ctx["e_staff"]
    st, resp, body = staff.post("/api/v1/elections", {"title": "x", "categories": []})
    check(is_problem(st, resp, body, 422, "categories"), "categories required")
    st, resp, body = staff.post("/api/v1/elections", {"title": "x", "categories": [{"name": "a", "seats": 0}]})
    check(is_problem(st, resp, body, 422, "categories[0].seats"), "seats at least 1")
    st, resp, body = staff.post("/api/v1/elections", {"title": "x", "categories": [{"name": "a", "seats": 1}], "x": 1})
    check(is_problem(st, resp, body, 422, "x"), "unknown field")
    st, resp, body = ctx["e_a"].post("/api/v1/elections", {"title": "x", "categories": [{"name": "a", "seats": 1}]})
    check(is_problem(st, resp, body, 403), "residents do not create elections")
    st, _, lst = staff.get("/api/v1/elections")
    check_eq(lst["total"], 3, "nothing created by bad input")
    el, cats = new_election("按姓名提名")
    url = f"/api/v1/elections/{el['id']}/nominations"
    st, _, e = ctx["e_a"].post(url, {"category_id": cats["诚德标兵"], "name": "和睦", "reason": "邻里和睦"})
    check_eq((st, [n["resident_id"] for n in e.get("nominations", [])]), (201, [ctx["res"][4]["id"]]),
             "a resident names a neighbour")
    st, resp, body = ctx["e_a"].post(url, {"category_id": cats["诚德标兵"], "name": "外人", "reason": "x"})
    check(is_problem(st, resp, body, 422, "name"), "a name that is not a resident of the community")
    st, resp, body = ctx["e_a"].post(url, {"category_id": cats["诚德标兵"], "reason": "x"})
    check(is_problem(st, resp, body, 422, "resident_id"), "a nominee is required")


try:
    run([test_setup, test_full_election_in_order, test_no_vote_before_notice_ends, test_vote_outside_window_and_low_turnout,
         test_bad_input])
finally:
    S.cleanup()
