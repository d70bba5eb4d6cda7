"""Black-box tests of the activity rooms (issue 14, part 3): a room with opening hours, closed days,
capacity and rules; bookings refused outside the opening hours, longer than allowed, on a closed day,
beyond the horizon, over capacity (422 naming the field, nothing booked); eight concurrent requests for
one slot — exactly one wins, the rest answer 409; a weekly booking skips a clash and a closed date and
says so; a resident's per-person cap; approval; a waiting list offered the slot a cancellation frees;
the week calendar hides others' titles from residents; the ICS feed is RFC 5545 text."""
import datetime
import threading
import urllib.parse

from nxtest import check_date_filter, check_enum_filter, check_flag_filter, Server, check, check_eq, is_problem, make_id, run, run_cli

S = Server()
S.start()
admin = S.login()
ctx = {}
PW = "Venue2026pass"


def local_today():
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()


def next_weekday(iso, min_days=2):
    """The first date at least min_days after today (Shanghai) falling on ISO weekday iso."""
    d = local_today() + datetime.timedelta(days=min_days)
    while d.isoweekday() != iso:
        d += datetime.timedelta(days=1)
    return d


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "场馆街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "场馆社区"})
    st, _, comm2 = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "隔壁社区"})
    st, _, g = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": "一网格"})
    st, _, estate = admin.post("/api/v1/estates", {"community_id": comm["id"], "name": "书香小区"})
    st, _, b = admin.post("/api/v1/buildings", {"estate_id": estate["id"], "grid_id": g["id"], "name": "1号楼"})
    st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "101"})
    res = []
    for i, (name, birth) in enumerate((("周桂兰", "19480512"), ("吴德厚", "19520101"))):
        st, _, r = admin.post("/api/v1/residents", {"name": name, "id_number": make_id("110105", birth, 40 + i),
                                                    "room_id": room["id"]})
        check_eq(st, 201, f"resident {name} {r}")
        res.append(r)
    for name, role, extra in (("v_staff", "staff", ["--community", str(comm["id"])]),
                              ("v_staff2", "staff", ["--community", str(comm2["id"])]),
                              ("v_zhou", "resident", ["--resident", str(res[0]["id"])]),
                              ("v_wu", "resident", ["--resident", str(res[1]["id"])])):
        p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
        ctx[name] = S.login(name, PW)
    ctx.update(comm=comm, res=res)


def count_bookings():
    st, _, page = ctx["v_staff"].get("/api/v1/venue-bookings?limit=200")
    return len(page["items"])


def test_room_bad_input():
    staff = ctx["v_staff"]
    base = {"name": "阅览室", "capacity": 20, "open_from": "08:00", "open_to": "21:00"}
    for bad, field in ((dict(base, capacity=0), "capacity"), (dict(base, open_from="8点"), "open_from"),
                       (dict(base, open_to="07:00"), "open_to"), (dict(base, closed_weekdays=[8]), "closed_weekdays"),
                       (dict(base, colour="红"), "colour"), (dict(base, max_minutes=5), "max_minutes")):
        st, resp, body = staff.post("/api/v1/venues", bad)
        check(is_problem(st, resp, body, 422, field) or is_problem(st, resp, body, 400, field), f"bad room {field}: {st} {body}")
    st, _, page = staff.get("/api/v1/venues")
    check_eq(page["items"], [], "no room made by bad input")
    st, resp, body = staff.get("/api/v1/venues?q=" + urllib.parse.quote("长" * 400))
    check(is_problem(st, resp, body, 422, "q"), f"a search longer than 50: {st} {body}")
    st, resp, body = ctx["v_zhou"].post("/api/v1/venues", base)
    check_eq(st, 403, "a resident cannot make rooms")


def test_rooms():
    staff = ctx["v_staff"]
    st, _, v = staff.post("/api/v1/venues", {"name": "阅览室", "capacity": 20, "open_from": "08:00", "open_to": "21:00",
                                             "closed_weekdays": [1], "max_minutes": 120, "max_ahead_days": 30,
                                             "per_person_max": 2, "equipment": "投影仪, 书架", "rules": "保持安静"})
    check_eq(st, 201, f"room {v}")
    check_eq(v["closed_weekdays"], [1], "closed on Mondays")
    check_eq((v["open_from"], v["open_to"]), ("08:00", "21:00"), "opening hours")
    st, _, hall = staff.post("/api/v1/venues", {"name": "邻里大厅", "capacity": 80, "open_from": "09:00", "open_to": "18:00",
                                                "needs_approval": True})
    check_eq(st, 201, "hall")
    ctx.update(room=v, hall=hall)
    st, _, _ = staff.post("/api/v1/venues", {"name": "阅览室", "capacity": 5, "open_from": "08:00", "open_to": "09:00"})
    check_eq(st, 409, "a name taken in the community")
    st, _, page = ctx["v_zhou"].get("/api/v1/venues")
    check_eq(sorted(x["name"] for x in page["items"]), ["邻里大厅", "阅览室"], "a resident sees the community's rooms")
    st, _, _ = ctx["v_staff2"].get(f"/api/v1/venues/{v['id']}")
    check_eq(st, 404, "another community's staff do not see the room")


def test_booking_bad_input():
    zhou, room = ctx["v_zhou"], ctx["room"]
    tue = next_weekday(2).isoformat()
    mon = next_weekday(1).isoformat()
    far = (local_today() + datetime.timedelta(days=60)).isoformat()
    base = {"venue_id": room["id"], "date": tue, "start": "09:00", "end": "10:00", "title": "读书会"}
    cases = ((dict(base, start="07:00"), "start"), (dict(base, start="20:00", end="22:00"), "end"),
             (dict(base, start="09:00", end="12:00"), "end"), (dict(base, start="09:10"), "start"),
             (dict(base, end="08:30"), "end"), (dict(base, attendees=21), "attendees"), (dict(base, date=mon), "date"),
             (dict(base, date=far), "date"), (dict(base, date="2020-01-07"), "date"), (dict(base, date="明天"), "date"),
             (dict(base, venue_id=999999), "venue_id"), (dict(base, extra=1), "extra"))
    for bad, field in cases:
        st, resp, body = zhou.post("/api/v1/venue-bookings", bad)
        check(is_problem(st, resp, body, 422, field), f"bad booking {field}: {st} {body}")
    check_eq(count_bookings(), 0, "nothing booked by bad input")
    st, resp, body = zhou.post("/api/v1/venue-bookings", dict(base, repeat_weeks=3))
    check_eq(st, 403, "a resident cannot book weekly")


def test_concurrent_one_wins():
    room = ctx["room"]
    day = next_weekday(3).isoformat()
    clients = [S.login("v_staff", PW) for _ in range(8)]
    results = [None] * len(clients)
    gate = threading.Barrier(len(clients))

    def fire(i):
        gate.wait()
        st, _, body = clients[i].post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": day, "start": "14:00",
                                                                  "end": "15:30", "title": f"请求{i}"})
        results[i] = (st, body)

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if r[0] == 201]
    check_eq(len(wins), 1, f"exactly one of eight concurrent requests wins: {[r[0] for r in results]}")
    check(all(r[0] == 409 and r[1].get("title") for r in results if r[0] != 201), "the others answer 409")
    st, _, page = ctx["v_staff"].get(f"/api/v1/venue-bookings?venue_id={room['id']}&from={day}&to={day}")
    check_eq(len(page["items"]), 1, "one booking stored")
    # an overlapping, not identical, request loses too; the adjacent one is free
    st, _, _ = ctx["v_staff"].post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": day, "start": "15:15",
                                                              "end": "16:00", "title": "重叠"})
    check_eq(st, 409, "an overlap is refused")
    st, _, adj = ctx["v_staff"].post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": day, "start": "15:30",
                                                                "end": "16:00", "title": "紧接"})
    check_eq(st, 201, f"the adjacent slot is free {adj}")
    ctx.update(win=wins[0][1], day=day)


def test_recurring_skips():
    staff, room = ctx["v_staff"], ctx["room"]
    first = next_weekday(4)
    clash = first + datetime.timedelta(days=7)
    closed = first + datetime.timedelta(days=14)
    st, _, _ = staff.post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": clash.isoformat(), "start": "10:30",
                                                     "end": "11:00", "title": "已有活动"})
    check_eq(st, 201, "the clashing booking")
    st, _, _ = staff.post(f"/api/v1/venues/{room['id']}/closures", {"day": closed.isoformat(), "reason": "消防检查"})
    check_eq(st, 200, "a closed date")
    st, _, b = staff.post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": first.isoformat(), "start": "10:00",
                                                     "end": "11:30", "title": "书法班", "attendees": 15, "repeat_weeks": 3})
    check_eq(st, 201, f"the series {b}")
    series = b.get("series", {})
    check_eq(len(series.get("created", [])), 2, "two weeks booked")
    check_eq(series.get("skipped"), [{"date": clash.isoformat(), "reason": "clash"},
                                     {"date": closed.isoformat(), "reason": "closed"}], "the clash and the closed day reported")
    st, _, one = staff.get(f"/api/v1/venue-bookings/{series['created'][1]}")
    check_eq((one["series_id"], one["date"], one["start"], one["end"]),
             (b["id"], (first + datetime.timedelta(days=21)).isoformat(), "10:00", "11:30"), "the last week")
    st, resp, body = ctx["v_zhou"].post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": closed.isoformat(),
                                                                   "start": "15:00", "end": "16:00"})
    check(is_problem(st, resp, body, 422, "date"), f"a single booking on a closed date: {st} {body}")


def test_cap_and_approval():
    zhou, room, hall = ctx["v_zhou"], ctx["room"], ctx["hall"]
    day = next_weekday(5).isoformat()
    made = []
    for start, end in (("08:00", "09:00"), ("09:00", "10:00")):
        st, _, b = zhou.post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": day, "start": start, "end": end})
        check_eq(st, 201, f"booking {start} {b}")
        made.append(b)
    check_eq(made[0]["resident_id"], ctx["res"][0]["id"], "booked for the bound resident")
    st, _, body = zhou.post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": day, "start": "11:00", "end": "12:00"})
    check(st == 409 and body.get("field") == "resident_id", f"the per-person cap: {st} {body}")
    st, _, b = zhou.post(f"/api/v1/venue-bookings/{made[1]['id']}/cancel")
    check_eq((st, b.get("status")), (200, "cancelled"), "cancel frees a place under the cap")
    st, _, b = zhou.post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": day, "start": "11:00", "end": "12:00"})
    check_eq(st, 201, "booking again after cancelling")
    st, _, p = zhou.post("/api/v1/venue-bookings", {"venue_id": hall["id"], "date": day, "start": "09:00", "end": "10:00",
                                                    "title": "合唱排练", "attendees": 30})
    check_eq((st, p.get("status")), (201, "pending"), "a room that needs approval")
    st, _, _ = zhou.post(f"/api/v1/venue-bookings/{p['id']}/approve")
    check_eq(st, 403, "a resident cannot approve")
    st, _, a = ctx["v_staff"].post(f"/api/v1/venue-bookings/{p['id']}/approve")
    check_eq((st, a.get("status")), (200, "confirmed"), "staff approve")
    st, _, page = ctx["v_wu"].get(f"/api/v1/venue-bookings/{p['id']}")
    check_eq(st, 404, "another resident does not see the booking")


def test_waitlist_offer():
    wu, room, day, win = ctx["v_wu"], ctx["room"], ctx["day"], ctx["win"]
    st, _, body = wu.post("/api/v1/venue-waits", {"venue_id": room["id"], "date": day, "start": "14:00", "end": "15:00",
                                                 "title": "下棋"})
    check_eq(st, 201, f"waiting for a taken slot {body}")
    wid = body["id"]
    st, _, body = wu.post("/api/v1/venue-waits", {"venue_id": room["id"], "date": day, "start": "19:00", "end": "20:00"})
    check_eq(st, 409, "a free slot is booked, not waited for")
    st, _, _ = wu.post(f"/api/v1/venue-waits/{wid}/accept")
    check_eq(st, 409, "nothing to accept before the slot is freed")
    st, _, c = ctx["v_staff"].post(f"/api/v1/venue-bookings/{win['id']}/cancel", {"note": "活动取消"})
    check_eq((st, c.get("status")), (200, "cancelled"), "the winner cancels")
    st, _, page = wu.get("/api/v1/venue-waits")
    w = next(x for x in page["items"] if x["id"] == wid)
    check(w["status"] == "offered" and w["offer_until"], f"the freed slot is offered: {w}")
    st, _, b = wu.post(f"/api/v1/venue-waits/{wid}/accept")
    check_eq((st, b.get("start"), b.get("end"), b.get("resident_id")), (201, "14:00", "15:00", ctx["res"][1]["id"]),
             f"the offer taken {b}")


def test_calendar_and_ics():
    room, day = ctx["room"], ctx["day"]
    st, _, cal = ctx["v_zhou"].get(f"/api/v1/venues/{room['id']}/calendar?from={day}&days=7")
    check_eq(st, 200, "calendar")
    check_eq(len(cal["days"]), 7, "a week of days")
    check(any(d["closed"] for d in cal["days"]), "the Monday shows closed")
    others = [x for x in cal["items"] if not x["mine"]]
    check(others and all(x["title"] == "已预约" for x in others), "others' titles hidden from a resident")
    st, _, cal = ctx["v_staff"].get(f"/api/v1/venues/{room['id']}/calendar?from={day}&days=1")
    check("下棋" in [x["title"] for x in cal["items"]], "staff see titles")
    st, resp, _ = ctx["v_staff"].get(f"/api/v1/venues/{room['id']}/calendar?days=90")
    check_eq(st, 422, "days over 42")
    st, resp, body = ctx["v_staff"].get(f"/api/v1/venues/{room['id']}/calendar.ics")
    check_eq(st, 200, "ics")
    check(resp.getheader("Content-Type", "").startswith("text/calendar"), "text/calendar")
    text = body.decode("utf-8")
    check(text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n"), "calendar frame")
    check("\n" not in text.replace("\r\n", ""), "every line ends with CRLF")
    check(all(len(line.encode()) <= 75 for line in text.split("\r\n")), "lines folded at 75 octets")
    unfolded = text.replace("\r\n ", "")
    check("SUMMARY:下棋" in unfolded and "LOCATION:阅览室" in unfolded, "events with summary and location")
    check("投影仪" not in unfolded, "rules are not events")
    check(unfolded.count("BEGIN:VEVENT") == unfolded.count("END:VEVENT") >= 5, "events balanced")
    check(any(line.startswith("DTSTART:") and line.endswith("Z") and len(line) == len("DTSTART:20260101T000000Z")
              for line in unfolded.split("\r\n")), "UTC times")
    st, resp, body = ctx["v_zhou"].get(f"/api/v1/venues/{room['id']}/calendar.ics")
    check("SUMMARY:下棋" not in body.decode() and "SUMMARY:已预约" in body.decode(), "a resident's feed hides others' titles")
    st, _, _ = ctx["v_staff2"].get(f"/api/v1/venues/{room['id']}/calendar.ics")
    check_eq(st, 404, "another community's feed")


def test_status_filter():
    """?status= of the booking and waiting lists follows the one rule of the kit (app_query_enum)."""
    check_enum_filter(admin, "/api/v1/venue-bookings?limit=200", "status",
                      ["pending", "confirmed", "cancelled", "rejected", "no_show"])
    check_enum_filter(admin, "/api/v1/venue-waits?limit=200", "status", ["waiting", "offered", "booked", "expired", "cancelled"])
    # mine is "0" or "1" as docs/openapi.json says (any other value was read as 0)
    check_flag_filter(admin, "/api/v1/venue-bookings?limit=200", "mine")
    # from and to of the booking list and from of a room's calendar are dates (app_query_date)
    day = ctx["day"]
    for name in ("from", "to"):
        check_date_filter(admin, "/api/v1/venue-bookings?limit=200", name, day)
    check_date_filter(ctx["v_staff"], f"/api/v1/venues/{ctx['room']['id']}/calendar?days=1", "from", day)


if __name__ == "__main__":
    try:
        run([test_setup, test_room_bad_input, test_rooms, test_booking_bad_input, test_concurrent_one_wins,
             test_recurring_skips, test_cap_and_approval, test_waitlist_offer, test_calendar_and_ics, test_status_filter])
    finally:
        S.stop()
        S.cleanup()
