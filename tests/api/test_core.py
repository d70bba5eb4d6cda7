"""Black-box tests of the core platform: health, login and lockout, organisation, residents with
encrypted personal data, search, reveal and audit, scopes, bad input, import and export."""
import io
import os
import zipfile

from nxtest import (Server, check, check_eq, is_problem, make_id, oversized_post, run, run_cli)

S = Server()
S.start()
admin = S.login()
ctx = {}


def test_health():
    c = S.client()
    st, _, body = c.get("/healthz")
    check_eq(st, 200, "healthz")
    st, _, body = c.get("/readyz")
    check_eq(st, 200, "readyz")
    st, resp, body = c.get("/api/v1/residents")
    check(is_problem(st, resp, body, 401), "unauthenticated list is 401 problem+json")
    st, resp, body = c.get("/api/v1/openapi.json")
    check(st == 200 and "paths" in body, "openapi served")


def test_login_errors_and_lockout():
    ok_user = "lockme"
    p = run_cli(S.data, "user", "add", ok_user, "--role", "admin", stdin="Lock2026pass\n", check_rc=False)
    check_eq(p.returncode, 0, "user add from stdin: " + p.stderr)
    c = S.client()
    st, resp, body = c.post("/api/v1/auth/login", {"username": ok_user, "password": "wrong-password1"})
    check(is_problem(st, resp, body, 401), "wrong password is 401")
    st, resp, body = c.post("/api/v1/auth/login", {"username": "nobody", "password": "whatever123"})
    check(is_problem(st, resp, body, 401), "unknown user is 401")
    for _ in range(4):
        st, resp, body = c.post("/api/v1/auth/login", {"username": ok_user, "password": "wrong-password1"})
    check(is_problem(st, resp, body, 429), f"locked after 5 failures ({st} {body})")
    st, resp, body = c.post("/api/v1/auth/login", {"username": ok_user, "password": "Lock2026pass"})
    check(is_problem(st, resp, body, 429), "right password refused while locked")
    st, resp, body = c.post("/api/v1/auth/login", {"username": ok_user})
    check(is_problem(st, resp, body, 422, "password") or is_problem(st, resp, body, 400, "password"),
          f"missing password names the field ({st} {body})")


def test_me_and_cookie_csrf():
    c = S.client()
    st, resp, body = c.post("/api/v1/auth/login", {"username": "admin", "password": S.admin_password})
    check_eq(st, 200, "login")
    cookie = resp.getheader("Set-Cookie", "")
    check("HttpOnly" in cookie and "SameSite=Strict" in cookie, "session cookie flags: " + cookie)
    c.cookie = cookie.split(";")[0]
    st, _, me = c.get("/api/v1/me")
    check_eq(st, 200, "me via cookie")
    check_eq(me.get("role"), "admin", "me role")
    check("csrf_token" in me, "me carries csrf token for cookie sessions")
    # unsafe method with the cookie but without the CSRF header
    st, resp, body = c.post("/api/v1/streets", {"name": "CSRF街道"})
    check(is_problem(st, resp, body, 403), f"cookie POST without CSRF is 403 ({st})")
    c.csrf = me["csrf_token"]
    st, _, body = c.post("/api/v1/auth/logout")
    check_eq(st, 204, "logout with CSRF")
    st, _, _ = c.get("/api/v1/me")
    check_eq(st, 401, "session gone after logout")


def test_login_burst_does_not_starve():
    import threading
    from nxtest import Client
    results, other = [], []

    def login():
        c = Client(S.port)
        st, resp, body = c.post("/api/v1/auth/login", {"username": "admin", "password": S.admin_password})
        results.append((st, resp.getheader("Retry-After")))

    def reader():
        for _ in range(20):
            st, _, _ = admin.get("/api/v1/me")
            other.append(st)

    threads = [threading.Thread(target=login) for _ in range(12)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = [st for st, _ in results]
    check(len(results) == 12 and set(statuses) <= {200, 503}, f"burst logins answer 200 or 503: {statuses}")
    check(200 in statuses, "some logins of the burst succeed")
    check(all(ra for st, ra in results if st == 503), "503 carries Retry-After")
    check(other == [200] * 20, f"other requests served during the burst: {other}")


def test_roles_and_me_names():
    st, _, roles = admin.get("/api/v1/roles")
    codes = [x["role"] for x in roles.get("items", [])]
    check(st == 200 and "grid" in codes and "admin" in codes, f"roles listed {codes}")
    grid = next(x for x in roles["items"] if x["role"] == "grid")
    check(grid["label"] == "网格员" and grid["default_scope"] == "grid" and "people.read" in grid["rights"], f"{grid}")


def test_preferences():
    st, _, body = admin.patch("/api/v1/me/preferences", {"elder_mode": True})
    check(st == 200 and body.get("elder_mode") is True, f"set elder mode {body}")
    st, _, me = admin.get("/api/v1/me")
    check_eq(me.get("preferences", {}).get("elder_mode"), True, "elder mode remembered for the user")
    st, resp, body = admin.patch("/api/v1/me/preferences", {"elder_mode": "yes"})
    check(is_problem(st, resp, body, 422, "elder_mode"), f"wrong type refused ({st} {body})")
    st, resp, body = admin.patch("/api/v1/me/preferences", {"font": 30})
    check(is_problem(st, resp, body, 422, "font"), f"unknown preference refused ({st} {body})")
    st, _, me = admin.get("/api/v1/me")
    check_eq(me["preferences"], {"elder_mode": True}, "refused changes changed nothing")


def test_org_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "测试街道"})
    check_eq(st, 201, f"create street {street}")
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "测试社区"})
    check_eq(st, 201, f"create community {comm}")
    grids = []
    for name in ("第一网格", "第二网格"):
        st, _, g = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": name})
        check_eq(st, 201, f"create grid {g}")
        grids.append(g)
    st, _, estate = admin.post("/api/v1/estates", {"community_id": comm["id"], "name": "和平里小区"})
    check_eq(st, 201, f"create estate {estate}")
    b = []
    for i, g in enumerate(grids):
        st, _, bld = admin.post("/api/v1/buildings", {"estate_id": estate["id"], "grid_id": g["id"],
                                                       "name": f"{i + 1}号楼", "floors": 6})
        check_eq(st, 201, f"create building {bld}")
        b.append(bld)
    rooms = []
    for bld in b:
        st, _, room = admin.post(f"/api/v1/buildings/{bld['id']}/rooms", {"unit": "1单元", "number": "101"})
        check_eq(st, 201, f"create room {room}")
        rooms.append(room)
    ctx.update(street=street, community=comm, grids=grids, estate=estate, buildings=b, rooms=rooms)
    st, resp, body = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": ""})
    check(st in (400, 422) and body.get("field") == "name", f"empty grid name names the field ({st} {body})")


WANG_ID = make_id("110105", "19450312", 31)   # male, born 1945-03-12


def resident_count():
    st, _, body = admin.get("/api/v1/residents?status=all&limit=1")
    return body.get("total")


def test_create_residents():
    comm = ctx["community"]
    body = {"name": "王建国", "id_number": WANG_ID, "phone": "13812345678", "room_id": ctx["rooms"][0]["id"],
            "address": "和平里小区1号楼1单元101室", "tags": ["living_alone", "party_member"],
            "contacts": [{"name": "王小明", "relation": "儿子", "phone": "13900001111"}], "relation": "head"}
    st, resp, r = admin.post("/api/v1/residents", body)
    check_eq(st, 201, f"create resident {r}")
    ctx["wang"] = r
    check_eq(r.get("birth_date"), "1945-03-12", "birth date derived from the ID")
    check_eq(r.get("sex"), "male", "sex derived from the ID")
    check_eq(r.get("grid_id"), ctx["grids"][0]["id"], "grid follows the room's building")
    check(r.get("id_number") == WANG_ID[:4] + "*" * 14, f"ID masked: {r.get('id_number')}")
    check_eq(r.get("phone"), "138****5678", "phone masked")
    check(WANG_ID not in str(r) and "13812345678" not in str(r), "no plain personal data in the response")
    codes = {t["code"] for t in r.get("tags", [])}
    check({"elderly_80", "living_alone", "party_member"} <= codes, f"tags incl. computed 高龄: {codes}")
    check_eq(len(r.get("contacts", [])), 1, "emergency contact kept")
    others = [("李秀英", make_id("110105", "19380704", 42), 1), ("張偉", make_id("370102", "19900101", 15), 1),
              ("单丽", make_id("370102", "19850505", 22), 0)]
    for name, idn, grid in others:
        st, _, r2 = admin.post("/api/v1/residents", {"name": name, "id_number": idn,
                                                     "room_id": ctx["rooms"][grid]["id"],
                                                     "phone": "1370000" + idn[-4:].replace("X", "0")})
        check_eq(st, 201, f"create {name}: {r2}")
        ctx[name] = r2


def test_bad_input_changes_nothing():
    before = resident_count()
    good = {"name": "赵六", "id_number": make_id("110105", "19700101", 11), "room_id": ctx["rooms"][0]["id"]}
    wrong_digit = dict(good, id_number=good["id_number"][:17] + ("0" if good["id_number"][17] != "0" else "1"))
    st, resp, body = admin.post("/api/v1/residents", wrong_digit)
    check(is_problem(st, resp, body, 422, "id_number"), f"wrong check digit → 422 id_number ({st} {body})")
    st, resp, body = admin.post("/api/v1/residents", dict(good, birth_date="1971-01-01"))
    check(is_problem(st, resp, body, 422, "birth_date"), f"birth date contradicting the ID ({st} {body})")
    st, resp, body = admin.post("/api/v1/residents", dict(good, sex="female"))
    check(is_problem(st, resp, body, 422, "sex"), f"sex contradicting the ID ({st} {body})")
    st, resp, body = admin.post("/api/v1/residents", '{"name": "赵六", "id_number": ')
    check(is_problem(st, resp, body, 400), f"malformed JSON → 400 ({st} {body})")
    st, resp, body = admin.post("/api/v1/residents", dict(good, name=123))
    check(is_problem(st, resp, body, 422, "name") or is_problem(st, resp, body, 400, "name"),
          f"wrong type names the field ({st} {body})")
    st, resp, body = admin.post("/api/v1/residents", dict(good, salary=5000))
    check(st in (400, 422) and body.get("field") == "salary", f"unknown field rejected ({st} {body})")
    st, resp, body = admin.post("/api/v1/residents", dict(good, phone="12345"))
    check(is_problem(st, resp, body, 422, "phone"), f"bad phone ({st} {body})")
    st, resp, body = admin.post("/api/v1/residents", b"[1,2,3]")
    check(is_problem(st, resp, body, 400), f"non-object JSON ({st})")
    st, body, sent = oversized_post(S.port, "/api/v1/residents", admin.token, 10 * 1024 * 1024)
    check_eq(st, 413, "10 MiB body → 413")
    check("请求体过大".encode() in body or b"too_large" in body, f"413 is problem+json: {body[:200]!r}")
    st, resp, body = admin.post("/api/v1/residents", dict(good, id_number=WANG_ID))
    check(is_problem(st, resp, body, 409, "id_number"), f"duplicate ID → 409 ({st} {body})")
    st, resp, body = admin.request("POST", "/api/v1/residents", raw=b"name=x",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st in (400, 415), f"form body refused ({st})")
    check_eq(resident_count(), before, "nothing was created by bad input")


def search(q, **extra):
    import urllib.parse
    params = {"q": q, **extra}
    st, _, body = admin.get("/api/v1/residents?" + urllib.parse.urlencode(params))
    check_eq(st, 200, f"search {q}")
    return [r["name"] for r in body.get("items", [])]


def test_search():
    check("王建国" in search("wjg"), "pinyin initials wjg")
    check("王建国" in search("wangjianguo"), "full pinyin")
    check("王建国" in search("王建"), "name prefix")
    check("王建国" in search("建国"), "given name")
    check("张伟" in search("張偉") or "張偉" in search("張偉"), "traditional finds simplified")
    check("张伟" in search("张伟") or "張偉" in search("张伟"), "simplified finds the resident entered traditional")
    check("王建国" in search("5678"), "phone tail")
    check("王建国" in search(WANG_ID[-4:]), "ID tail")
    check_eq(search(WANG_ID), ["王建国"], "full ID exact")
    check_eq(search("13812345678"), ["王建国"], "full phone exact")
    check("单丽" in search("sl"), "surname 单 read shan")
    names = search("", sort="name", limit=50)
    check(names.index("李秀英") < names.index("王建国"), f"pinyin order {names}")
    st, _, body = admin.get("/api/v1/residents?tag=elderly_80")
    got = {r["name"] for r in body["items"]}
    check("王建国" in got and "李秀英" in got and "单丽" not in got, f"computed tag filter {got}")
    st, _, body = admin.get("/api/v1/residents?tag=living_alone")
    check_eq([r["name"] for r in body["items"]], ["王建国"], "assigned tag filter")
    st, _, body = admin.get("/api/v1/residents?age_min=80")
    check("单丽" not in [r["name"] for r in body["items"]], "age filter")
    # paging: limit 1 walks all four with cursors and no repeats
    seen, cursor = [], None
    for _ in range(10):
        q = "/api/v1/residents?limit=1" + (f"&cursor={cursor}" if cursor else "")
        st, _, body = admin.get(q)
        seen += [r["id"] for r in body["items"]]
        cursor = body.get("next_cursor")
        if not cursor:
            break
    check(len(seen) == len(set(seen)) and len(seen) >= 4, f"cursor paging {seen}")
    st, resp, body = admin.get("/api/v1/residents?limit=100000")
    check(is_problem(st, resp, body, 422, "limit") or is_problem(st, resp, body, 400, "limit"), "limit capped")
    st, resp, body = admin.get("/api/v1/residents?cursor=garbage")
    check(st in (400, 422) and body.get("field") == "cursor", "bad cursor")


def test_reveal_audited():
    rid = ctx["wang"]["id"]
    st, _, body = admin.post(f"/api/v1/residents/{rid}/reveal", {"fields": ["id_number", "phone"]})
    check_eq(st, 200, "reveal")
    check_eq(body.get("id_number"), WANG_ID, "revealed ID")
    check_eq(body.get("phone"), "13812345678", "revealed phone")
    st, _, audit = admin.get(f"/api/v1/audit?action=reveal&object_type=resident&object_id={rid}")
    check(st == 200 and len(audit["items"]) >= 1, f"reveal audited {audit}")
    check(audit["items"][0].get("action_label") == "查看敏感信息" and audit["items"][0].get("object_label") == "居民",
          "audit entries carry Chinese labels")
    check(audit.get("total", 0) >= 1, "audit first page has a total")
    st, _, mine = admin.get("/api/v1/audit?username=admin&action=reveal")
    check(len(mine["items"]) >= 1 and all(i["username"] == "admin" for i in mine["items"]), "filter by username")
    st, _, none = admin.get("/api/v1/audit?username=nobody-at-all")
    check_eq(none["items"], [], "unknown username matches nothing")
    check(WANG_ID not in str(audit), "audit holds no plain ID")
    st, resp, body = admin.post(f"/api/v1/residents/{rid}/reveal", {"fields": ["salary"]})
    check(st in (400, 422), "unknown reveal field refused")


def test_scopes():
    g1, g2 = ctx["grids"]
    for name, grid in (("wg1", g1), ("wg2", g2)):
        p = run_cli(S.data, "user", "add", name, "--role", "grid", "--grid", str(grid["id"]),
                    stdin="Grid2026pass\n", check_rc=False)
        check_eq(p.returncode, 0, f"add grid worker {name}: {p.stderr}")
    w1 = S.login("wg1", "Grid2026pass")
    st, _, me = w1.get("/api/v1/me")
    check(me.get("grid_name") == "第一网格" and me.get("community_name") == "测试社区", f"me names the places {me}")
    st, resp, body = w1.get("/api/v1/roles")
    check(is_problem(st, resp, body, 403), "grid worker cannot list roles")
    wang = ctx["wang"]["id"]           # in grid 1
    li = ctx["李秀英"]["id"]            # in grid 2
    st, _, _ = w1.get(f"/api/v1/residents/{wang}")
    check_eq(st, 200, "grid worker reads own grid's resident")
    st, resp, body = w1.get(f"/api/v1/residents/{li}")
    check(is_problem(st, resp, body, 404), f"other grid's resident is 404 ({st})")
    check("李秀英" not in str(body), "no record leaked in the 404")
    st, _, body = w1.get("/api/v1/residents?limit=100")
    names = {r["name"] for r in body["items"]}
    check("王建国" in names and "李秀英" not in names, f"list restricted to the grid {names}")
    st, resp, body = w1.patch(f"/api/v1/residents/{li}", {"notes": "x"})
    check(is_problem(st, resp, body, 404), "cannot change another grid's resident")
    st, resp, body = w1.post(f"/api/v1/residents/{li}/reveal", {"fields": ["phone"]})
    check(is_problem(st, resp, body, 404), "cannot reveal another grid's resident")
    st, resp, body = w1.get("/api/v1/users")
    check(is_problem(st, resp, body, 403), "grid worker cannot list accounts")
    st, _, users = admin.get("/api/v1/users")
    uid = next(u["id"] for u in users["items"] if u["username"] == "wg1")
    # the account list pages like every other list: limit, cursor, total, and a search
    st, _, p1 = admin.get("/api/v1/users?limit=1")
    check(st == 200 and len(p1["items"]) == 1 and p1["total"] == len(users["items"]) and p1["next_cursor"],
          f"first page of one account ({st} {p1})")
    st, _, p2 = admin.get(f"/api/v1/users?limit=1&cursor={p1['next_cursor']}")
    check(st == 200 and len(p2["items"]) == 1 and p2["items"][0]["id"] > p1["items"][0]["id"],
          f"the cursor continues after the first page ({st} {p2})")
    st, _, found = admin.get("/api/v1/users?q=wg1")
    check(st == 200 and [u["username"] for u in found["items"]] == ["wg1"] and found["total"] == 1,
          f"search by user name ({st} {found})")
    st, resp, body = admin.get("/api/v1/users?limit=100000")
    check(is_problem(st, resp, body, 422), "a page larger than page_max is refused")
    st, _, u = admin.patch(f"/api/v1/users/{uid}", {"display_name": "第一网格 王网格员"})
    check(st == 200 and u["display_name"] == "第一网格 王网格员" and u["grid_id"] == g1["id"],
          f"renaming keeps the grid ({st} {u})")
    st, _, me = admin.get("/api/v1/me")
    st, resp, body = admin.patch(f"/api/v1/users/{me['id']}", {"disabled": True})
    check(is_problem(st, resp, body, 422, "disabled"), f"an admin cannot disable themselves ({st})")
    st, _, u = admin.patch(f"/api/v1/users/{uid}", {"must_change_password": True})
    check(st == 200 and u["must_change_password"] is True, "must_change_password set")


def test_update_and_status():
    rid = ctx["wang"]["id"]
    v = ctx["wang"]["version"]
    st, _, r = admin.patch(f"/api/v1/residents/{rid}", {"care_level": "frequent", "version": v})
    check(st == 200 and r["care_level"] == "frequent", "update care level")
    st, resp, body = admin.patch(f"/api/v1/residents/{rid}", {"care_level": "key", "version": v})
    check(is_problem(st, resp, body, 409), "stale version is 409")
    # contacts edited by id keep their phone (the client only saw it masked); a new one needs a phone
    cid = r["contacts"][0]["id"]
    st, _, r = admin.patch(f"/api/v1/residents/{rid}", {"contacts": [
        {"id": cid, "name": "王小明", "relation": "长子"},
        {"name": "王小红", "relation": "女儿", "phone": "13900002222"}]})
    check(st == 200 and [c["relation"] for c in r["contacts"]] == ["长子", "女儿"], f"contacts edited {r.get('contacts')}")
    st, _, rev = admin.post(f"/api/v1/residents/{rid}/reveal", {"fields": ["contacts"]})
    check_eq([c["phone"] for c in rev.get("contacts", [])], ["13900001111", "13900002222"], "kept and new phones")
    st, resp, body = admin.patch(f"/api/v1/residents/{rid}", {"contacts": [{"id": 999999, "name": "某", "relation": "子"}]})
    check(is_problem(st, resp, body, 422), f"unknown contact id without a phone refused ({st} {body})")
    st, resp, body = admin.patch(f"/api/v1/residents/{rid}", {"contacts": [{"name": "某", "relation": "子"}]})
    check(is_problem(st, resp, body, 422), f"a new contact needs a phone ({st} {body})")
    st, _, r = admin.patch(f"/api/v1/residents/{ctx['单丽']['id']}", {"status": "moved_out",
                                                                      "status_date": "2026-10-01"})
    check(st == 200 and r["status"] == "moved_out" and r["moved_out_on"] == "2026-10-01", f"moved out {r}")
    check("单丽" not in search("sl"), "moved-out residents hidden by default")
    check("单丽" in search("sl", status="all"), "but kept")


def test_move_resident():
    """Issue 19: a resident moved to another household or room, with history and audit; bad input
    names the field and changes nothing."""
    rid = ctx["張偉"]["id"]
    comm = ctx["community"]
    st, _, hh = admin.post("/api/v1/households", {"community_id": comm["id"], "room_id": ctx["rooms"][0]["id"],
                                                 "number": "M001"})
    check_eq(st, 201, f"household for the move {hh}")
    # a room of another community
    st, _, s2 = admin.post("/api/v1/streets", {"name": "迁移测试街道"})
    st, _, c2 = admin.post("/api/v1/communities", {"street_id": s2["id"], "name": "迁移测试社区"})
    st, _, e2 = admin.post("/api/v1/estates", {"community_id": c2["id"], "name": "远方小区"})
    st, _, b2 = admin.post("/api/v1/buildings", {"estate_id": e2["id"], "name": "9号楼"})
    st, _, r2 = admin.post(f"/api/v1/buildings/{b2['id']}/rooms", {"number": "901"})
    check_eq(st, 201, f"room of another community {r2}")
    st, _, before = admin.get(f"/api/v1/residents/{rid}")
    bad = [({"household_id": hh["id"]}, "reason"),
           ({"reason": "搬家"}, "household_id"),
           ({"household_id": hh["id"], "reason": "搬家", "grid_id": 1}, "grid_id"),
           ({"household_id": 99999999, "reason": "搬家"}, "household_id"),
           ({"household_id": "x", "reason": "搬家"}, "household_id"),
           ({"room_id": r2["id"], "reason": "搬家"}, "room_id"),
           ({"room_id": ctx["rooms"][1]["id"], "reason": "搬家"}, "room_id"),
           ({"household_id": hh["id"], "reason": "搬家", "relation": "boss"}, "relation"),
           ({"household_id": hh["id"], "reason": "x" * 201}, "reason")]
    for body, field in bad:
        st, resp, err = admin.post(f"/api/v1/residents/{rid}/move", body)
        check(is_problem(st, resp, err, 422, field) and any("\u4e00" <= ch <= "\u9fff" for ch in err.get("detail", "")),
              f"move {body} refused naming {field} in Chinese ({st} {err})")
    st, _, after = admin.get(f"/api/v1/residents/{rid}")
    check_eq((after["version"], after.get("household_id"), after.get("room_id")),
             (before["version"], before.get("household_id"), before.get("room_id")), "bad moves changed nothing")
    st, _, moves = admin.get(f"/api/v1/residents/{rid}/moves")
    check(st == 200 and moves["items"] == [], f"no history yet ({st} {moves})")
    st, _, r = admin.post(f"/api/v1/residents/{rid}/move", {"household_id": hh["id"], "reason": "随子女居住"})
    check(st == 200 and r["household_id"] == hh["id"] and r["room_id"] == ctx["rooms"][0]["id"]
          and r["grid_id"] == ctx["grids"][0]["id"], f"moved into the household and its room ({st} {r})")
    st, _, moves = admin.get(f"/api/v1/residents/{rid}/moves")
    m = moves["items"][0] if st == 200 and moves.get("items") else {}
    check(len(moves.get("items", [])) == 1 and m["from_room_id"] == ctx["rooms"][1]["id"]
          and m["to_household_id"] == hh["id"] and m["reason"] == "随子女居住" and "2号楼" in m["from_label"]
          and "M001" in m["to_label"] and "1号楼" in m["to_label"] and m["moved_by_name"] and m["moved_at"],
          f"the history says who, when, from, to and why: {moves}")
    st, _, log = admin.get(f"/api/v1/audit?object_type=resident&object_id={rid}&action=move")
    check(st == 200 and len(log.get("items", [])) == 1, f"the move is audited ({st} {log})")
    st, resp, err = admin.post(f"/api/v1/residents/{rid}/move", {"household_id": hh["id"], "reason": "再搬"})
    check(is_problem(st, resp, err, 422, "household_id"), f"a move to where they are is refused ({st} {err})")
    # back to the room alone, leaving the household
    st, _, r = admin.post(f"/api/v1/residents/{rid}/move", {"household_id": None, "room_id": ctx["rooms"][1]["id"],
                                                           "reason": "回原住处"})
    check(st == 200 and r.get("household_id") is None and r["room_id"] == ctx["rooms"][1]["id"]
          and r["grid_id"] == ctx["grids"][1]["id"], f"moved back ({st} {r})")
    st, _, moves = admin.get(f"/api/v1/residents/{rid}/moves")
    check_eq([x["reason"] for x in moves.get("items", [])], ["回原住处", "随子女居住"], "newest first")
    st, resp, err = admin.post(f"/api/v1/residents/{ctx['单丽']['id']}/move", {"household_id": hh["id"], "reason": "搬"})
    check(is_problem(st, resp, err, 422), f"a moved-out resident is not moved ({st} {err})")


def test_household_patch_clears():
    """Issue 19: a household PATCH with null clears the field (the web's dialog sends null for a field
    emptied); before, null was read as "unchanged" and the number, notes, address, room and grid stayed.
    A null kind (which cannot be empty) is refused naming it, and changes nothing."""
    comm = ctx["community"]
    st, _, hh = admin.post("/api/v1/households", {"community_id": comm["id"], "room_id": ctx["rooms"][0]["id"],
                                                 "number": "C001", "notes": "临时备注", "address": "幸福路1号"})
    check(st == 201 and hh["number"] == "C001" and hh["notes"] and hh["address"] and hh["room_id"]
          and hh["grid_id"], f"household to clear ({st} {hh})")
    path = f"/api/v1/households/{hh['id']}"
    st, resp, err = admin.patch(path, {"kind": None, "number": None})
    check(is_problem(st, resp, err, 422, "kind"), f"a null kind is refused naming it ({st} {err})")
    st, _, same = admin.get(path)
    check_eq(same["number"], "C001", "the refused PATCH changed nothing")
    st, _, r = admin.patch(path, {"number": None, "notes": None, "address": None, "room_id": None})
    check_eq(st, 200, f"PATCH with nulls {r}")
    st, _, r = admin.get(path)
    check(st == 200 and r["number"] is None and r["notes"] is None and r["address"] is None
          and r["room_id"] is None and r["grid_id"] == hh["grid_id"] and r["kind"] == hh["kind"],
          f"number, notes, address and room cleared; grid and kind kept ({st} {r})")
    st, _, r = admin.patch(path, {"grid_id": None})
    st, _, r = admin.get(path)
    check(st == 200 and r["grid_id"] is None, f"grid cleared ({st} {r})")


def test_export_and_import():
    st, resp, body = admin.get("/api/v1/residents/export")
    check_eq(st, 200, "export")
    check("spreadsheetml" in resp.getheader("Content-Type", ""), "xlsx content type")
    z = zipfile.ZipFile(io.BytesIO(body))
    check(z.testzip() is None and "xl/workbook.xml" in z.namelist(), "export is a valid xlsx")
    text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    check("王建国" in text and WANG_ID not in text, "export masked by default")
    st, _, audit = admin.get("/api/v1/audit?action=export")
    check(len(audit.get("items", [])) >= 1, "export audited")
    st, resp, body = admin.get("/api/v1/residents/import/template")
    check(st == 200 and body[:2] == b"PK", "template is an xlsx")
    # the template read back as an import: its example row names an estate that does not exist
    st, _, rep = admin.request("POST", "/api/v1/residents/import?dry_run=true", raw=body, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    check(st == 200 and rep.get("total_rows") == 1 and rep.get("valid_rows") == 0, f"xlsx dry run {rep}")
    errs = rep.get("errors", [])
    check(len(errs) == 1 and errs[0]["row"] == 2 and "示例小区" in errs[0]["reason"], f"xlsx row error {errs}")
    good1 = make_id("110105", "19520203", 51)
    good2 = make_id("110105", "19600909", 62)
    bad = good2[:17] + ("1" if good2[17] != "1" else "2")
    csv = ("姓名,性别,证件号码,联系电话,小区,楼栋,单元,房号,户号,标签\n"
           f"孙大爷,,{good1},13600001234,和平里小区,1号楼,1单元,102,H900,独居\n"
           f"错号码,,{bad},,,,,,,\n"
           f"周阿姨,,{good2},,和平里小区,2号楼,1单元,101,H901,\n"
           f"重复王,,{WANG_ID},,和平里小区,1号楼,1单元,103,,\n")
    before = resident_count()
    st, _, rep = admin.request("POST", "/api/v1/residents/import?dry_run=true", raw=csv.encode(),
                               headers={"Content-Type": "text/csv"})
    check(st == 200 and rep["total_rows"] == 4 and rep["valid_rows"] == 2, f"dry run report {rep}")
    rows = {e["row"]: e for e in rep.get("errors", [])}
    check(3 in rows and rows[3]["column"] == "证件号码" and "校验" in rows[3]["reason"], f"bad row 3 {rows}")
    check(5 in rows and "已登记" in rows[5]["reason"], f"duplicate row 5 {rows}")
    check_eq(resident_count(), before, "dry run imports nothing")
    st, _, rep = admin.request("POST", "/api/v1/residents/import?dry_run=false", raw=csv.encode("gb18030"),
                               headers={"Content-Type": "text/csv"})
    check(st == 200 and rep["imported"] == 2, f"commit imports the valid rows (GBK file) {rep}")
    check_eq(resident_count(), before + 2, "two residents added")
    check("孙大爷" in search("sdy"), "imported resident searchable")
    st, resp, body = admin.request("POST", "/api/v1/residents/import", raw=b"\x00garbage\xff" * 10,
                                   headers={"Content-Type": "application/octet-stream"})
    check(st in (400, 415, 422), f"garbage upload refused ({st})")


def test_no_plain_personal_data_in_db():
    S.stop()
    raw = S.db_bytes()
    check(len(raw) > 10000, "the database was read")
    check(WANG_ID.encode() not in raw, "plain ID number absent from the database")
    check(b"13812345678" not in raw, "plain phone absent")
    check("和平里小区1号楼1单元101室".encode() not in raw, "plain detailed address absent")
    check(S.integrity_ok(), "integrity")
    log = S.tail_log()
    check(WANG_ID not in log and "13812345678" not in log, "no personal data in the server log")
    S.start()


def test_backup_restore():
    bk = os.path.join(S.data, "backup.db")
    p = run_cli(S.data, "backup", bk, check_rc=False)
    check_eq(p.returncode, 0, "online backup while serving: " + p.stderr)
    S.stop()
    junk = os.path.join(S.data, "junk.db")
    open(junk, "wb").write(b"not a database" * 100)
    p = run_cli(S.data, "restore", junk, check_rc=False)
    check(p.returncode != 0 and "备份" in p.stderr, f"restore refuses junk: {p.stderr}")
    p = run_cli(S.data, "restore", bk, check_rc=False)
    check_eq(p.returncode, 0, "restore: " + p.stderr)
    S.start()
    global admin
    admin = S.login()
    check("王建国" in search("wjg"), "data back after restore")


try:
    run([test_health, test_login_errors_and_lockout, test_me_and_cookie_csrf, test_login_burst_does_not_starve, test_roles_and_me_names, test_preferences, test_org_setup,
         test_create_residents, test_bad_input_changes_nothing, test_search, test_reveal_audited, test_scopes,
         test_update_and_status, test_move_resident, test_household_patch_clears, test_export_and_import, test_no_plain_personal_data_in_db,
         test_backup_restore])
finally:
    S.cleanup()
