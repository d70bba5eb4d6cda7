"""Black-box tests of the neighbourhood library and book drifting (issue 14, part 2): a catalogue by ISBN
(check digit validated) or by hand; copies with label codes; check-out and return by the label; a copy
on loan is not lent again; holds served in the order placed, with the place in the queue shown; a
resident searches, holds and renews for themselves only; the public drift page (HTML and JSON) shows
where a drifting copy has been with 王某-style names, never a full name; bad input (an invalid ISBN, an
unknown label, unknown fields, malformed JSON) answers a clear 4xx naming the field and changes
nothing. One server, no demo: the fixture is made through the API and `nuanxin user add`."""
import json
import time
from urllib.parse import quote

from nxtest import check_enum_filter, Server, check, check_eq, is_problem, make_id, run, run_cli

S = Server()
S.start()
admin = S.login()
ctx = {}
PW = "Library2026pass"
NAMES = ("王建国", "欧阳秀英", "李梅")


def count(path):
    st, _, body = admin.get(path + ("&" if "?" in path else "?") + "limit=1")
    return body.get("total") if st == 200 else None


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "书香街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "书香社区"})
    check_eq(st, 201, "community")
    st, _, g = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": "一网格"})
    st, _, est = admin.post("/api/v1/estates", {"community_id": comm["id"], "name": "书香小区"})
    st, _, b = admin.post("/api/v1/buildings", {"estate_id": est["id"], "grid_id": g["id"], "name": "1号楼"})
    st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "101"})
    res = []
    for i, name in enumerate(NAMES):
        st, _, r = admin.post("/api/v1/residents", {"name": name, "id_number": make_id("110105", f"195{i}0101", 11 + i),
                                                     "room_id": room["id"]})
        check_eq(st, 201, f"resident {name} {r}")
        res.append(r["id"])
    # the desk is the administrator (with the community named); two resident accounts (each account
    # costs a password hash at the CLI and at login: the test budget)
    for user, role, extra in (("lib_wang", "resident", ["--resident", str(res[0])]),
                              ("lib_li", "resident", ["--resident", str(res[2])])):
        p = run_cli(S.data, "user", "add", user, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {user}: {p.stderr}")
    ctx.update(comm=comm["id"], res=res, staff=admin, wang=S.login("lib_wang", PW),
               li=S.login("lib_li", PW))


def test_catalogue_and_bad_isbn():
    staff = ctx["staff"]
    before = count("/api/v1/books")
    st, resp, body = staff.post("/api/v1/books", {"title": "错号的书", "isbn": "978-7-02-000220-8"})
    check(is_problem(st, resp, body, 422, "isbn"), f"invalid ISBN check digit: {st} {body}")
    st, resp, body = staff.post("/api/v1/books", {"title": "错号的书", "isbn": "12345"})
    check(is_problem(st, resp, body, 422, "isbn"), f"ISBN of the wrong length: {st} {body}")
    st, resp, body = staff.post("/api/v1/books", {"title": "书", "colour": "red"})
    check(is_problem(st, resp, body, 422, "colour"), f"unknown field: {st} {body}")
    st, resp, body = staff.request("POST", "/api/v1/books", raw=b"{not json", headers={"Content-Type": "application/json"})
    check(is_problem(st, resp, body, 400), f"malformed JSON: {st} {body}")
    st, resp, body = staff.post("/api/v1/books", {"isbn": "9787020002207"})
    check(is_problem(st, resp, body, 422, "title"), f"no title: {st} {body}")
    check_eq(count("/api/v1/books"), before, "nothing made by bad input")
    # an ISBN-10 is stored as its ISBN-13; the same book typed as ISBN-13 is a conflict
    st, _, book = staff.post("/api/v1/books", {"title": "红楼梦", "isbn": "7-02-000220-X", "author": "曹雪芹",
                                               "community_id": ctx["comm"]})
    check_eq(st, 201, f"book by ISBN-10 {book}")
    check_eq(book.get("isbn"), "9787020002207", "normalised to ISBN-13")
    st, resp, body = staff.post("/api/v1/books", {"title": "红楼梦", "isbn": "978-7-02-000220-7", "community_id": ctx["comm"]})
    check(is_problem(st, resp, body, 409, "isbn"), f"duplicate ISBN: {st} {body}")
    st, _, hand = staff.post("/api/v1/books", {"title": "社区老照片集", "author": "居民合编", "community_id": ctx["comm"]})
    check_eq(st, 201, f"book by hand {hand}")
    check(hand.get("isbn") is None, "no ISBN")
    st, resp, body = staff.patch(f"/api/v1/books/{hand['id']}", {"title": None})
    check(is_problem(st, resp, body, 422, "title"), f"a title cannot be cleared: {st} {body}")
    copies = []
    for kind, code in (("shelf", "HL-0001"), ("shelf", None), ("drift", "PIAO-001")):
        body = {"book_id": book["id"] if kind == "shelf" else hand["id"], "kind": kind}
        if code:
            body["code"] = code
        st, _, c = staff.post("/api/v1/book-copies", body)
        check_eq(st, 201, f"copy {c}")
        check_eq((c.get("status"), c.get("status_label")), ("available", "在架"), "a new copy stands on the shelf")
        copies.append(c)
    check(len(copies[1].get("code", "")) == 8, f"a random label code: {copies[1].get('code')}")
    st, resp, body = staff.post("/api/v1/book-copies", {"book_id": book["id"], "kind": "shelf", "code": "hl-0001"})
    check(is_problem(st, resp, body, 409, "code"), f"a label code used twice: {st} {body}")
    st, resp, body = staff.post("/api/v1/book-copies", {"book_id": book["id"], "kind": "attic"})
    check(is_problem(st, resp, body, 422, "kind"), f"bad kind: {st} {body}")
    ctx.update(book=book["id"], hand=hand["id"], codes=[c["code"] for c in copies])
    # a resident searches the catalogue but cannot add to it or see the copies list
    st, _, found = ctx["wang"].get("/api/v1/books?q=" + quote("红楼"))
    check_eq([b["title"] for b in found.get("items", [])], ["红楼梦"], "resident searches the catalogue")
    check_eq(found["items"][0].get("available"), 2, "two copies on the shelf")
    st, resp, body = ctx["wang"].post("/api/v1/books", {"title": "不行"})
    check(is_problem(st, resp, body, 403), "resident cannot catalogue")
    st, resp, body = ctx["wang"].get("/api/v1/book-copies")
    check(is_problem(st, resp, body, 403), "resident cannot list copies")


def test_copy_on_loan_not_lent_again():
    staff, (wang, ouyang, li) = ctx["staff"], ctx["res"]
    st, _, loan = staff.post("/api/v1/loans", {"code": "hl-0001", "resident_id": wang})
    check_eq(st, 201, f"check-out by the scanned label {loan}")
    check_eq(loan.get("code"), "HL-0001", "the copy")
    check(loan.get("reader_name") == "王建国" and loan.get("returned_at") is None, "open loan of 王建国")
    before = count("/api/v1/loans")
    st, resp, body = staff.post("/api/v1/loans", {"code": "HL-0001", "resident_id": li})
    check(is_problem(st, resp, body, 409, "code"), f"a copy on loan is not lent again: {st} {body}")
    st, resp, body = staff.post("/api/v1/loans", {"code": "NO-SUCH-1", "resident_id": li})
    check(is_problem(st, resp, body, 422, "code"), f"unknown copy: {st} {body}")
    st, resp, body = staff.post("/api/v1/loans", {"code": ctx["codes"][1], "resident_id": 999999})
    check(is_problem(st, resp, body, 422, "resident_id"), f"unknown reader: {st} {body}")
    check_eq(count("/api/v1/loans"), before, "no loan made by the refusals")
    st, resp, body = ctx["wang"].post("/api/v1/loans", {"code": ctx["codes"][1], "resident_id": wang})
    check(is_problem(st, resp, body, 403), "a reader does not check out at the desk's API")
    # the reader sees their own loan; the other resident sees none
    st, _, mine = ctx["wang"].get("/api/v1/loans")
    check_eq([x["id"] for x in mine.get("items", [])], [loan["id"]], "my loans")
    st, _, theirs = ctx["li"].get("/api/v1/loans")
    check_eq(theirs.get("items"), [], "nobody else's loans")
    st, resp, body = ctx["li"].get(f"/api/v1/loans/{loan['id']}")
    check(is_problem(st, resp, body, 404), "another reader's loan is not found")
    ctx["loan_wang"] = loan["id"]


def test_hold_queue_in_order():
    staff, (wang, ouyang, li) = ctx["staff"], ctx["res"]
    # the second copy goes out too: nothing on the shelf
    st, _, l2 = staff.post("/api/v1/loans", {"code": ctx["codes"][1], "resident_id": ouyang})
    check_eq(st, 201, "second copy out")
    st, _, h_li = ctx["li"].post("/api/v1/holds", {"book_id": ctx["book"]})
    check_eq(st, 201, f"李梅 holds {h_li}")
    check_eq((h_li.get("status"), h_li.get("position")), ("waiting", 1), "number 1")
    check_eq(h_li.get("status_label"), "排队中", "the hold's status in words")
    st, resp, body = ctx["li"].post("/api/v1/holds", {"book_id": ctx["book"], "resident_id": wang})
    check(is_problem(st, resp, body, 422, "resident_id"), "a reader holds only for themselves")
    st, _, h_third = staff.post("/api/v1/holds", {"book_id": ctx["book"], "resident_id": wang})
    check(st == 409, f"王建国 has it on loan already: {st} {h_third}")
    st, _, l1 = staff.post(f"/api/v1/loans/{ctx['loan_wang']}/return", {})
    check_eq(st, 200, "王建国 returns")
    check(l1.get("returned_at") is not None, "returned")
    # now 王建国 may queue; 李梅 got the returned copy on the hold shelf
    st, _, h_wang = ctx["wang"].post("/api/v1/holds", {"book_id": ctx["book"]})
    check_eq(st, 201, f"王建国 holds {h_wang}")
    check_eq((h_wang.get("status"), h_wang.get("position")), ("waiting", 1), "王建国 is number 1 of those waiting")
    st, _, got = ctx["li"].get(f"/api/v1/holds/{h_li['id']}")
    check_eq((got.get("status"), got.get("copy_code")), ("ready", "HL-0001"), "first in line gets the returned copy")
    check(got.get("pickup_by") is not None, "with a pick-up deadline")
    # and she hears of it: the default rule (migration 024) turns library.hold.ready into her message
    end, titles = time.time() + 10, []
    while time.time() < end and "预约的图书已到馆" not in titles:
        st, _, inbox = ctx["li"].get("/api/v1/notifications?limit=50")
        titles = [m.get("title") for m in inbox.get("items", [])] if st == 200 else []
        time.sleep(0.2)
    check("预约的图书已到馆" in titles, f"李梅's inbox tells her the hold is ready ({titles})")
    st, resp, body = staff.post("/api/v1/loans", {"code": "HL-0001", "resident_id": wang})
    check(is_problem(st, resp, body, 409, "code"), "a copy kept for 李梅 is not lent to 王建国")
    st, resp, body = staff.post(f"/api/v1/loans/{l2['id']}/renew", {})
    check(is_problem(st, resp, body, 409), "no renewal while someone waits")
    st, _, l3 = staff.post("/api/v1/loans", {"code": "HL-0001", "resident_id": li})
    check_eq(st, 201, "李梅 collects")
    st, _, got = ctx["li"].get(f"/api/v1/holds/{h_li['id']}")
    check_eq(got.get("status"), "fulfilled", "her hold fulfilled")
    # the next copy back (by scanning its label at the returns desk) goes to 王建国, second in the queue
    st, _, back = staff.post("/api/v1/returns", {"code": ctx["codes"][1]})
    check_eq((st, back.get("id")), (200, l2["id"]), "return by label")
    st, resp, body = staff.post("/api/v1/returns", {"code": ctx["codes"][1]})
    check(is_problem(st, resp, body, 409, "code"), "returning a copy that is not out")
    st, _, got = ctx["wang"].get(f"/api/v1/holds/{h_wang['id']}")
    check_eq(got.get("status"), "ready", "served in order")
    st, _, mine = ctx["wang"].get("/api/v1/holds?state=active")
    check_eq([h["id"] for h in mine.get("items", [])], [h_wang["id"]], "my active holds")
    st, _, cancelled = ctx["wang"].post(f"/api/v1/holds/{h_wang['id']}/cancel", {})
    check_eq((st, cancelled.get("status")), (200, "cancelled"), "cancel")
    st, _, book = staff.get(f"/api/v1/books/{ctx['book']}")
    check_eq(book.get("available"), 1, "the cancelled hold's copy went back on the shelf")
    staff.post(f"/api/v1/loans/{l3['id']}/return", {})


def test_drift_page_no_full_name():
    staff, (wang, ouyang, li) = ctx["staff"], ctx["res"]
    code = ctx["codes"][2]
    st, _, a = staff.post("/api/v1/loans", {"code": code, "resident_id": wang})
    staff.post(f"/api/v1/loans/{a['id']}/return", {})
    st, _, b = staff.post("/api/v1/loans", {"code": code.lower(), "resident_id": ouyang})
    check_eq(st, 201, "the drifting copy travels on")
    anon = S.client()
    st, resp, html = anon.get(f"/drift/{code}", auth=False)
    text = html.decode() if isinstance(html, bytes) else str(html)
    check_eq(st, 200, "public page without login")
    check(resp.getheader("Content-Type", "").startswith("text/html"), "HTML by default")
    check("漂流" in text and "王某" in text and "欧阳某" in text, "journey with surnames and 某")
    for n in NAMES:
        check(n not in text, f"no full name on the page ({n})")
    check("建国" not in text and "秀英" not in text, "no given name either")
    st, resp, body = anon.get(f"/drift/{code}", auth=False, headers={"Accept": "application/json"})
    check_eq(st, 200, "JSON")
    check_eq([s["holder"] for s in body.get("journey", [])], ["王某", "欧阳某"], "holders in order")
    check_eq(body.get("stops"), 2, "two stops")
    check_eq((body.get("status"), body.get("status_label")), ("on_loan", "已借出"), "the copy is out, in words")
    check(body["journey"][-1].get("to") is None, "the current reader still has it")
    raw = json.dumps(body, ensure_ascii=False)
    check(all(n not in raw for n in NAMES), "no full name in the JSON")
    st, resp, body = anon.get("/drift/NOSUCH-1", auth=False, headers={"Accept": "application/json"})
    check(is_problem(st, resp, body, 404), "unknown code")
    st, resp, body = anon.get("/drift/HL-0001", auth=False)
    check_eq(st, 404, "a shelf copy has no public page")
    # a reader lists the drifting copies of their community (the resident page), and no other copies
    st, _, body = ctx["li"].get("/api/v1/book-copies?kind=drift")
    check(st == 200 and [c["code"] for c in body.get("items", [])] == [code], f"a reader sees the drifting copies {st} {body}")
    raw = json.dumps(body, ensure_ascii=False)
    check(all(n not in raw for n in NAMES), "no name in the drifting list")
    st, resp, body = ctx["li"].get("/api/v1/book-copies")
    check(is_problem(st, resp, body, 403), "the shelf copies are staff's")
    st, resp, body = ctx["li"].get("/api/v1/book-copies?kind=shelf")
    check(is_problem(st, resp, body, 403), "the shelf copies are staff's, named or not")
    staff.post(f"/api/v1/loans/{b['id']}/return", {})


def test_reader_stats_and_rules():
    staff, (wang, ouyang, li) = ctx["staff"], ctx["res"]
    st, _, rd = ctx["wang"].get(f"/api/v1/library/readers/{wang}")
    check_eq((st, rd.get("blocked"), rd.get("open_loans")), (200, False, 0), f"a reader reads their own record {rd}")
    st, resp, body = ctx["wang"].get(f"/api/v1/library/readers/{li}")
    check(is_problem(st, resp, body, 404), "not another's")
    st, _, cats = staff.get("/api/v1/library/categories")
    check(len(cats.get("items", [])) == 1 and cats["items"][0]["is_default"], f"default category made on first loan {cats}")
    st, _, elders = staff.post("/api/v1/library/categories", {"name": "长者", "loan_days": 60, "renewals": 2,
                                                               "max_loans": 3, "max_holds": 2,
                                                               "community_id": ctx["comm"]})
    check_eq(st, 201, f"category {elders}")
    st, resp, body = staff.post("/api/v1/library/categories", {"name": "坏", "loan_days": 0, "renewals": 0,
                                                                "max_loans": 1, "max_holds": 0, "community_id": ctx["comm"]})
    check(is_problem(st, resp, body, 422, "loan_days"), "loan_days must be at least 1")
    st, _, rd = staff.patch(f"/api/v1/library/readers/{ouyang}", {"category_id": elders["id"]})
    check_eq((st, rd.get("category_name"), rd.get("loan_days")), (200, "长者", 60), "reader category set")
    st, _, don = staff.post("/api/v1/library/donations", {"donor_resident_id": ouyang, "books": 12, "note": "家中藏书"})
    check_eq((st, don.get("books")), (201, 12), f"donation {don}")
    st, resp, body = staff.post("/api/v1/library/donations", {"books": 3})
    check(is_problem(st, resp, body, 422, "donor_label"), "a donation names its donor")
    st, _, s = staff.get("/api/v1/library/stats")
    check_eq((s.get("books"), s.get("copies"), s.get("drifting"), s.get("open_loans")), (2, 3, 1, 0), f"figures {s}")
    check(s.get("loans_this_month", 0) >= 5, "loans this month counted")
    # the loans of this test were made seconds ago, so today's count holds them all
    check(s.get("loans_today", 0) >= 5 and s.get("loans_today") <= s.get("loans_this_month"), f"loans today counted {s}")
    st, resp, pdf = staff.get(f"/api/v1/library/labels?book_id={ctx['book']}")
    check(st == 200 and resp.getheader("Content-Type") == "application/pdf" and pdf[:5] == b"%PDF-",
          f"label sheet PDF: {st} {resp.getheader('Content-Type')}")
    st, resp, body = ctx["wang"].get(f"/api/v1/library/labels?book_id={ctx['book']}")
    check(is_problem(st, resp, body, 403), "labels are staff's")
    st, resp, body = ctx["wang"].get("/api/v1/library/stats")
    check(is_problem(st, resp, body, 403), "figures are staff's")


def test_status_filter():
    """?status= of the copy list follows the one rule of the kit (app_query_enum): an unknown or empty
    word was compared as it was and answered an empty list."""
    check_enum_filter(admin, "/api/v1/book-copies?limit=200", "status",
                      ["available", "on_loan", "on_hold_shelf", "lost", "withdrawn"])


def test_cleanup():
    S.cleanup()


run([test_setup, test_catalogue_and_bad_isbn, test_copy_on_loan_not_lent_again, test_hold_queue_in_order,
     test_drift_page_no_full_name, test_reader_stats_and_rules, test_status_filter, test_cleanup])
