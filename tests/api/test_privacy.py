"""Black-box tests of personal data that stays hidden (issue 21, item 5, the records half): the ID mask
against what the same screen shows, audited and rate-limited exact searches, the keyed tail index,
the reduced self view of resident and family accounts, the neutral answer of the unique ID index,
and the scope of tags, household members and the community's audit view."""
import datetime
import io
import re
import zipfile

import os

from nxtest import (PG, Server, check, check_eq, is_problem, make_id, psql, run, run_cli)

EXACT_LIMIT = 8
S = Server(extra=["--exact-search-per-hour", str(EXACT_LIMIT)])
S.start()
admin = S.login()
PW = "Privacy2026pass"
ctx = {}


def sql(query):
    """Rows of a query on the server's database (both backends), as lists of strings."""
    if PG:
        out = psql(S.database, query)
        return [line.split("|") for line in out.splitlines() if line]
    import sqlite3
    db = sqlite3.connect(os.path.join(S.data, "nuanxin.db"))
    try:
        return [[("" if v is None else str(v)) for v in row] for row in db.execute(query).fetchall()]
    finally:
        db.close()


def account(name, role, *extra):
    p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
    check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
    return S.login(name, PW)


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "隐私街道"})
    comms, grids, rooms = [], [], []
    for cn in ("甲社区", "乙社区"):
        st, _, c = admin.post("/api/v1/communities", {"street_id": street["id"], "name": cn})
        check_eq(st, 201, f"community {c}")
        comms.append(c)
    for gn in ("一网格", "二网格"):
        st, _, g = admin.post("/api/v1/grids", {"community_id": comms[0]["id"], "name": gn})
        check_eq(st, 201, f"grid {g}")
        grids.append(g)
    st, _, g = admin.post("/api/v1/grids", {"community_id": comms[1]["id"], "name": "乙一网格"})
    grids.append(g)
    st, _, est = admin.post("/api/v1/estates", {"community_id": comms[0]["id"], "name": "安宁里"})
    for i in range(2):
        st, _, b = admin.post("/api/v1/buildings", {"estate_id": est["id"], "grid_id": grids[i]["id"],
                                                     "name": f"{i + 1}号楼", "floors": 6})
        st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"unit": "1单元", "number": "101"})
        check_eq(st, 201, f"room {room}")
        rooms.append(room)
    ctx.update(street=street, comms=comms, grids=grids, rooms=rooms)


# ---- 1. the mask against what the same screen shows ----

PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53,
             54, 61, 62, 63, 64, 65, 71, 81, 82}
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def candidates(masked, birth_date, sex, age=None, today=None):
    """How many valid 18-digit ID numbers agree with everything a screen shows: the masked number (its
    visible characters in place, '*' hidden), the birth date (YYYY-MM-DD, or a year YYYY), the sex, and
    the age on the server's date. Counted by dynamic programming over the MOD 11-2 check sum, so hidden
    check digits, counties and sequences are all weighed."""
    check(len(masked) == 18, f"an ID card's mask keeps its length: {masked!r}")
    if len(masked) != 18:
        return 0
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth_date or ""):
        dates = [birth_date.replace("-", "")]
    else:
        y = int(birth_date[:4])
        d, dates = datetime.date(y, 1, 1), []
        while d.year == y:
            dates.append(d.strftime("%Y%m%d"))
            d += datetime.timedelta(days=1)
    if age is not None and today is not None:
        def age_on(b):
            b = datetime.date(int(b[:4]), int(b[4:6]), int(b[6:]))
            return today.year - b.year - ((today.month, today.day) < (b.month, b.day))
        dates = [b for b in dates if age_on(b) == age]
    # sum mod 11 → count, over positions 0..16
    def digits_at(i):
        c = masked[i]
        if c != "*":
            return [int(c)] if c.isdigit() else []
        if i == 16:  # the sequence's last digit carries the sex
            return [x for x in range(10) if (x % 2 == 1) == (sex == "male")]
        return list(range(10))
    counts = {0: 1}
    # region (0..5); the province must be real
    region = {}
    for p in PROVINCES:
        a, b = divmod(p, 10)
        if masked[0] not in ("*", str(a)) or masked[1] not in ("*", str(b)):
            continue
        s = (a * WEIGHTS[0] + b * WEIGHTS[1]) % 11
        region[s] = region.get(s, 0) + 1
    counts = region
    for i in range(2, 6):
        nxt = {}
        for s, n in counts.items():
            for x in digits_at(i):
                k = (s + x * WEIGHTS[i]) % 11
                nxt[k] = nxt.get(k, 0) + n
        counts = nxt
    # the birth date block (6..13), constrained by what is visible of it
    block = {}
    for b in dates:
        if any(masked[6 + j] not in ("*", b[j]) for j in range(8)):
            continue
        s = sum(int(b[j]) * WEIGHTS[6 + j] for j in range(8)) % 11
        block[s] = block.get(s, 0) + 1
    nxt = {}
    for s, n in counts.items():
        for t, m in block.items():
            nxt[(s + t) % 11] = nxt.get((s + t) % 11, 0) + n * m
    counts = nxt
    for i in range(14, 17):
        nxt = {}
        for s, n in counts.items():
            for x in digits_at(i):
                k = (s + x * WEIGHTS[i]) % 11
                nxt[k] = nxt.get(k, 0) + n
        counts = nxt
    total = 0
    for s, n in counts.items():
        cd = "10X98765432"[s]
        if masked[17] in ("*", cd):
            total += n
    return total


def test_candidate_counter_is_sound():
    # the counter itself: the full number leaves one candidate; the old mask (first and last four
    # with the birth date in clear) left about nine, which is the defect
    idn = make_id("371402", "19450312", 31)
    check_eq(candidates(idn, "1945-03-12", "male"), 1, "a number in clear is one candidate")
    old = idn[:4] + "*" * 10 + idn[-4:]
    n_old = candidates(old, "1945-03-12", "male")
    check(1 <= n_old < 20, f"the old mask with the birth date leaves few candidates ({n_old})")


def xlsx_rows(body):
    z = zipfile.ZipFile(io.BytesIO(body))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        shared = [re.sub(r"<[^>]+>", "", s) for s in
                  re.findall(r"<si>(.*?)</si>", z.read("xl/sharedStrings.xml").decode(), re.S)]
    sheet = z.read("xl/worksheets/sheet1.xml").decode()
    rows = []
    for row in re.findall(r"<row[^>]*>(.*?)</row>", sheet, re.S):
        cells = []
        for attrs, inner in re.findall(r"<c([^>]*)>(.*?)</c>", row, re.S):
            v = re.search(r"<v>(.*?)</v>", inner, re.S)
            t = re.search(r"<t[^>]*>(.*?)</t>", inner, re.S)
            if 't="s"' in attrs and v:
                cells.append(shared[int(v.group(1))])
            else:
                cells.append((t or v).group(1) if (t or v) else "")
        rows.append(cells)
    return rows


def test_mask_with_the_same_screen_does_not_determine_the_number():
    """Must show: a masked ID with the same screen's data does not determine the number."""
    idn = make_id("371402", "19450312", 31)
    st, _, r = admin.post("/api/v1/residents", {"name": "郑秋实", "id_number": idn, "room_id": ctx["rooms"][0]["id"],
                                                 "phone": "13912340001"})
    check_eq(st, 201, f"resident {r}")
    ctx["zheng"] = r
    today = datetime.date.today()
    screens = []
    st, _, rec = admin.get(f"/api/v1/residents/{r['id']}")
    screens.append(("record", rec.get("id_number"), rec.get("birth_date"), rec.get("sex"), rec.get("age")))
    st, _, page = admin.get("/api/v1/residents?q=%E9%83%91%E7%A7%8B%E5%AE%9E")
    row = page["items"][0]
    screens.append(("list", row.get("id_number"), row.get("birth_date"), row.get("sex"), row.get("age")))
    st, _, body = admin.get("/api/v1/residents/export")
    check_eq(st, 200, "export")
    rows = xlsx_rows(body)
    head, mine = rows[0], next((x for x in rows if x and x[0] == "郑秋实"), None)
    check(mine is not None, f"the resident is in the export {rows[:3]}")
    if mine:
        cell = dict(zip(head, mine))
        screens.append(("export", cell.get("证件号码"), cell.get("出生日期"),
                        "male" if cell.get("性别") == "男" else "female", int(cell.get("年龄") or -1)))
    for name, masked, birth, sex, age in screens:
        check(masked and idn not in masked, f"{name}: the number is masked ({masked})")
        n = candidates(masked or "", birth or "1945", sex, age, today)
        check(n >= 1000, f"{name}: {masked} with birth {birth}, {sex}, age {age} leaves {n} candidates (>= 1000)")
    # the same for the masked form other modules print (people_id_masked): a service application's
    # resident, and a household's members carry no ID at all
    st, _, hh = admin.post("/api/v1/households", {"community_id": ctx["comms"][0]["id"], "number": "P-1"})
    check_eq(st, 201, f"household {hh}")


# ---- 3. the tail index is keyed ----

def found(client, q):
    from urllib.parse import quote
    st, _, page = client.get(f"/api/v1/residents?q={quote(q)}&status=all")
    check_eq(st, 200, f"search {q}")
    return [x["id"] for x in page.get("items", [])]


def test_tail_index_is_keyed():
    r = ctx["zheng"]
    idn = make_id("371402", "19450312", 31)
    st, _, _ = admin.patch(f"/api/v1/residents/{r['id']}", {"contacts": [{"name": "郑一", "relation": "子女",
                                                                         "phone": "13900007777"}]})
    check_eq(st, 200, "a contact")
    rows = sql(f"SELECT id_tail, phone_tail FROM residents WHERE id = {r['id']}")
    id_tail, phone_tail = rows[0]
    check(id_tail != idn[-4:] and re.fullmatch(r"[0-9a-f]{32}", id_tail), f"id_tail is keyed, not {idn[-4:]}: {id_tail}")
    check(phone_tail != "0001" and re.fullmatch(r"[0-9a-f]{32}", phone_tail), f"phone_tail is keyed: {phone_tail}")
    (ct,), = sql(f"SELECT phone_tail FROM emergency_contacts WHERE resident_id = {r['id']}")
    check(ct != "7777" and re.fullmatch(r"[0-9a-f]{32}", ct), f"the contact's tail is keyed: {ct}")
    check(r["id"] in found(admin, idn[-4:]), "an ID tail still finds the resident")
    check(r["id"] in found(admin, "0001"), "a phone tail still finds the resident")
    check(r["id"] in found(admin, idn[-6:]), "a longer tail (checked on the decrypted value) too")
    check(r["id"] not in found(admin, "0002"), "another tail does not")


def test_upgrade_rewrites_clear_tails():
    """A database from before migration 009 holds clear tails: the migration clears them and the
    start-up writes the keyed ones, so search works and no clear tail is left."""
    r = ctx["zheng"]
    idn = make_id("371402", "19450312", 31)
    S.stop()
    sql_exec = (lambda q: psql(S.database, q)) if PG else None
    stmts = [f"UPDATE residents SET id_tail = '{idn[-4:]}', phone_tail = '0001' WHERE id = {r['id']}",
             f"UPDATE emergency_contacts SET phone_tail = '7777' WHERE resident_id = {r['id']}",
             # only 009 is unrecorded: the runner applies it although later ones are recorded
             "DELETE FROM schema_migrations WHERE version = 9"]
    if PG:
        for q in stmts:
            sql_exec(q)
    else:
        import sqlite3
        db = sqlite3.connect(os.path.join(S.data, "nuanxin.db"))
        for q in stmts:
            db.execute(q)
        db.commit()
        db.close()
    S.start()
    global admin
    admin = S.login()
    id_tail, phone_tail = sql(f"SELECT id_tail, phone_tail FROM residents WHERE id = {r['id']}")[0]
    check(re.fullmatch(r"[0-9a-f]{32}", id_tail) and re.fullmatch(r"[0-9a-f]{32}", phone_tail),
          f"the upgrade rewrote the clear tails: {id_tail} {phone_tail}")
    (ct,), = sql(f"SELECT phone_tail FROM emergency_contacts WHERE resident_id = {r['id']}")
    check(re.fullmatch(r"[0-9a-f]{32}", ct), f"and the contact's: {ct}")
    clear = sql("SELECT count(*) FROM residents WHERE length(id_tail) < 32 OR length(phone_tail) < 32")
    check_eq(clear[0][0], "0", "no clear tail left")
    check(r["id"] in found(admin, idn[-4:]) and r["id"] in found(admin, "0001"), "search works after the upgrade")


# ---- 2. exact searches are audited and rate-limited ----

def test_exact_searches_audited_and_limited():
    idn = make_id("371402", "19450312", 31)
    staff = account("p_staff", "staff", "--community", str(ctx["comms"][0]["id"]))
    ctx["p_staff"] = staff
    check_eq(found(staff, idn), [ctx["zheng"]["id"]], "an exact ID search finds the resident")
    check_eq(found(staff, "13912340001"), [ctx["zheng"]["id"]], "an exact phone search too")
    check_eq(found(staff, make_id("371402", "19450312", 33)), [], "a number not registered finds nothing")
    st, _, audit = admin.get("/api/v1/audit?action=search_exact&limit=50")
    mine = [a for a in audit.get("items", []) if a.get("username") == "p_staff"]
    check_eq(len(mine), 3, f"each exact search is audited, with who searched ({audit})")
    kinds = sorted(a["detail"].get("by") for a in mine)
    check_eq(kinds, ["id_number", "id_number", "phone"], "and by what kind of number")
    check_eq(sorted(a["detail"].get("matches") for a in mine), [0, 1, 1], "and whether it matched")
    text = str(audit)
    check(idn not in text and "13912340001" not in text and idn[-4:] not in text and "340001" not in text,
          "the searched numbers are not in the audit log")
    # a name or tail search is not an exact one: not counted, not audited
    found(staff, "郑秋实")
    found(staff, idn[-4:])
    st, _, audit2 = admin.get("/api/v1/audit?action=search_exact&limit=50")
    check_eq(len(audit2["items"]), len(audit["items"]), "name and tail searches are not exact searches")
    # the limit, per account
    from urllib.parse import quote
    statuses = []
    for i in range(EXACT_LIMIT):
        st, resp, body = staff.get(f"/api/v1/residents?q={quote(make_id('371402', '19450312', 41 + 2 * i))}")
        statuses.append(st)
    check_eq(statuses[:EXACT_LIMIT - 3], [200] * (EXACT_LIMIT - 3), "within the limit")
    check(is_problem(st, resp, body, 429), f"past the limit: 429 problem+json ({st} {body})")
    st, resp, body = staff.get("/api/v1/residents/export?q=13912340001")
    check(is_problem(st, resp, body, 429), f"an export by a whole number is limited too ({st})")
    check(found(staff, "郑秋实") == [ctx["zheng"]["id"]], "other searches still answer")
    check_eq(found(admin, idn), [ctx["zheng"]["id"]], "another account has its own count")


# ---- 5. the unique ID index is no oracle; the black-box defects ----

def test_unknown_community_is_422():
    st, resp, body = admin.post("/api/v1/households", {"community_id": 999999, "number": "X-1"})
    check(is_problem(st, resp, body, 422, "community_id"), f"household in a community that does not exist ({st} {body})")
    st, resp, body = admin.post("/api/v1/residents", {"name": "钱无名", "id_number": make_id("110105", "19600101", 91),
                                                       "community_id": 999999})
    check(is_problem(st, resp, body, 422, "community_id"), f"resident in a community that does not exist ({st} {body})")
    check("已登记" not in str(body), "and it does not claim the number is registered")


def test_duplicate_elsewhere_is_not_confirmed():
    other = make_id("320102", "19520606", 17)
    st, _, r = admin.post("/api/v1/residents", {"name": "冯远方", "id_number": other, "community_id": ctx["comms"][1]["id"]})
    check_eq(st, 201, f"a resident of the other community {r}")
    staff_b = account("p_staff_b", "staff", "--community", str(ctx["comms"][1]["id"]))
    st, resp, body = staff_b.post("/api/v1/residents", {"name": "冯远方", "id_number": other})
    check(is_problem(st, resp, body, 409, "id_number") and "已登记" in body.get("detail", body.get("title", "")),
          f"staff who can see the record are told it is registered ({st} {body})")
    staff_a = account("p_staff_a", "staff", "--community", str(ctx["comms"][0]["id"]))
    st, resp, body = staff_a.post("/api/v1/residents", {"name": "冯远方", "id_number": other,
                                                         "room_id": ctx["rooms"][0]["id"]})
    check(st in (409, 422) and body.get("field") == "id_number", f"refused elsewhere ({st} {body})")
    check("已登记" not in str(body), f"without saying the number is registered ({body})")
    # the same through an import dry run
    csv = f"姓名,证件号码\n冯远方,{other}\n"
    st, _, rep = staff_a.request("POST", "/api/v1/residents/import?dry_run=true", raw=csv.encode(),
                                 headers={"Content-Type": "text/csv"})
    check_eq(st, 200, f"dry run {rep}")
    reasons = " ".join(x.get("reason", "") for x in rep.get("errors", []))
    check(rep.get("valid_rows") == 0 and "已登记" not in reasons, f"the dry run does not confirm it either ({rep})")
    # and the refusals count as exact look-ups: a sweep runs into the limit
    statuses = []
    for i in range(EXACT_LIMIT + 1):
        st, resp, body = staff_a.post("/api/v1/residents", {"name": "冯远方", "id_number": other,
                                                             "room_id": ctx["rooms"][0]["id"]})
        statuses.append(st)
    check(statuses[-1] == 429, f"refusals past the limit answer 429 ({statuses})")


# ---- 4. the reduced self view; 6. household members in grid scope ----

def test_household_for_views():
    st, _, hh = admin.post("/api/v1/households", {"community_id": ctx["comms"][0]["id"], "room_id": ctx["rooms"][0]["id"],
                                                   "number": "H-7", "notes": "户内情况：员工备注"})
    check_eq(st, 201, f"household {hh}")
    people = {}
    for key, name, idn, extra in (
            ("elder", "褚德明", make_id("110105", "19400405", 13), {"relation": "head", "notes": "老人备注：员工可见"}),
            ("member", "褚小梅", make_id("110105", "19700808", 24), {"relation": "child", "notes": "低保审核中：员工备注"}),
            ("far", "褚远", make_id("110105", "19750909", 35), {"relation": "child", "room_id": ctx["rooms"][1]["id"]})):
        body = {"name": name, "id_number": idn, "household_id": hh["id"], **extra}
        if "room_id" not in body:
            body["room_id"] = ctx["rooms"][0]["id"]
        st, _, r = admin.post("/api/v1/residents", body)
        check_eq(st, 201, f"{name} {r}")
        people[key] = r
    check_eq(people["far"]["grid_id"], ctx["grids"][1]["id"], "one member is registered in the other grid")
    ctx.update(hh=hh, people=people)


def test_family_does_not_see_another_members_notes():
    """Must show: a family account does not see another member's notes."""
    p, hh = ctx["people"], ctx["hh"]
    fam = account("p_family", "family", "--resident", str(p["elder"]["id"]))
    st, _, mine = fam.get(f"/api/v1/residents/{p['elder']['id']}")
    check_eq(st, 200, f"the family account reads its elder ({mine})")
    check(mine.get("notes") is None and "员工" not in str(mine), f"without staff notes ({mine.get('notes')})")
    names = [m["name"] for m in mine.get("household_members", [])]
    check("褚小梅" in names, f"the household's members are listed ({names})")
    st, resp, other = fam.get(f"/api/v1/residents/{p['member']['id']}")
    check(is_problem(st, resp, other, 404), f"another member's record is not readable ({st})")
    check("低保审核中" not in str(other), "nor their notes")
    st, _, h = fam.get(f"/api/v1/households/{hh['id']}")
    check_eq(st, 200, f"the household ({h})")
    check(h.get("notes") is None and "员工备注" not in str(h), f"the household's staff notes are left out ({h})")
    check(all(set(m) <= {"id", "name", "relation", "relation_label", "sex", "sex_label", "age", "status",
                         "status_label", "self"} for m in h.get("members", [])), f"members in the reduced form {h}")
    # a resident account reads itself, also without notes
    res = account("p_resident", "resident", "--resident", str(p["member"]["id"]))
    st, _, me = res.get(f"/api/v1/residents/{p['member']['id']}")
    check(st == 200 and me.get("notes") is None, f"a resident reads itself without staff notes ({st} {me.get('notes')})")
    st, resp, body = res.get(f"/api/v1/residents/{p['elder']['id']}")
    check(is_problem(st, resp, body, 404), f"nor another member's record ({st})")
    # staff still read the notes
    st, _, full = admin.get(f"/api/v1/residents/{p['member']['id']}")
    check_eq(full.get("notes"), "低保审核中：员工备注", "staff read the notes")


def test_household_members_in_grid_scope():
    p, hh = ctx["people"], ctx["hh"]
    g1 = account("p_grid1", "grid", "--grid", str(ctx["grids"][0]["id"]))
    st, _, h = g1.get(f"/api/v1/households/{hh['id']}")
    check_eq(st, 200, f"the grid worker reads the household ({h})")
    names = [m["name"] for m in h.get("members", [])]
    check("褚小梅" in names and "褚远" not in names, f"only the members in their grid ({names})")
    st, _, rec = g1.get(f"/api/v1/residents/{p['elder']['id']}")
    names = [m["name"] for m in rec.get("household_members", [])]
    check("褚远" not in names, f"also in a record's member list ({names})")
    st, _, h = admin.get(f"/api/v1/households/{hh['id']}")
    check_eq(len(h.get("members", [])), 3, "the city sees all three")


def test_city_tags_only_by_city_scope():
    staff = account("p_tagstaff", "staff", "--community", str(ctx["comms"][0]["id"]))
    st, resp, body = staff.post("/api/v1/tags", {"code": "p_local", "name": "社区自建"})
    check(is_problem(st, resp, body, 403), f"a community's staff cannot add a city-wide tag ({st} {body})")
    st, _, tag = admin.post("/api/v1/tags", {"code": "p_city", "name": "全市标签"})
    check_eq(st, 201, f"the city adds one ({tag})")
    st, resp, body = staff.patch(f"/api/v1/tags/{tag['id']}", {"name": "被社区改名"})
    check(is_problem(st, resp, body, 403), f"nor rename one ({st} {body})")
    st, _, tags = staff.get("/api/v1/tags")
    check(any(t.get("name") == "全市标签" for t in tags.get("items", [])), "the tag is unchanged and still readable")


def test_community_audit_sees_exports_of_its_residents():
    st, _, _ = admin.get("/api/v1/residents/export")
    check_eq(st, 200, "the city exports everyone")
    seen = {}
    for key, comm in (("a", ctx["comms"][0]), ("b", ctx["comms"][1])):
        viewer = account(f"p_audit_{key}", "staff", "--community", str(comm["id"]))
        st, _, audit = viewer.get("/api/v1/audit?action=export&limit=50")
        check_eq(st, 200, f"the community's audit view ({audit})")
        rows = [a for a in audit.get("items", []) if a.get("username") == "admin"]
        check(rows, f"community {comm['name']} sees the city account's exports of its residents ({audit})")
        check(all(a.get("community_id") == comm["id"] for a in rows), "only its own community's entries")
        seen[key] = rows
    if seen.get("a") and seen.get("b"):
        a, b = seen["a"][0]["detail"], seen["b"][0]["detail"]
        check(a.get("count", 0) >= 1 and b.get("count", 0) >= 1 and a.get("total") == b.get("total") and
              a["count"] + b["count"] <= a["total"], f"each sees its own count and the export's total ({a} {b})")


TESTS = [test_setup, test_candidate_counter_is_sound, test_mask_with_the_same_screen_does_not_determine_the_number,
         test_tail_index_is_keyed, test_upgrade_rewrites_clear_tails, test_exact_searches_audited_and_limited,
         test_unknown_community_is_422, test_duplicate_elsewhere_is_not_confirmed, test_household_for_views,
         test_family_does_not_see_another_members_notes, test_household_members_in_grid_scope,
         test_city_tags_only_by_city_scope, test_community_audit_sees_exports_of_its_residents]

if __name__ == "__main__":
    try:
        run(TESTS)
    finally:
        S.cleanup()
