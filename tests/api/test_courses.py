"""Black-box tests of courses (issue 14, part 1, 人人授课): bad input (a capacity of 0, a newcomer quota
over the capacity, a lottery without a window, a session ending before it starts) answers 422 naming
the field and makes nothing; a resident's proposal waits for staff approval; first come first served
beyond the capacity waits in order and moves up on a withdrawal; eligibility by age and residence; a
relative (family account) enrols the elder; a pre-registration lottery whose result anyone can re-run
from the published seed (recomputed here with hashlib) and which honours the newcomer quota;
attendance, leave and feedback."""
import datetime
import hashlib

from nxtest import check_enum_filter, check_flag_filter, Server, check, check_eq, is_problem, make_id, run, run_cli

S = Server()
S.start()
admin = S.login()
ctx = {}
PW = "Course2026pass"


def local_today():
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()


def day(n):
    return (local_today() + datetime.timedelta(days=n)).isoformat()


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "课堂街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "课堂社区"})
    st, _, comm2 = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "邻近社区"})
    rooms = []
    for c in (comm, comm2):
        st, _, g = admin.post("/api/v1/grids", {"community_id": c["id"], "name": "一网格"})
        st, _, est = admin.post("/api/v1/estates", {"community_id": c["id"], "name": f"小区{c['id']}"})
        st, _, b = admin.post("/api/v1/buildings", {"estate_id": est["id"], "grid_id": g["id"], "name": "1号楼"})
        st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "101"})
        rooms.append(room)
    people = []
    # ten elders (born 1940s-50s), one child, one elder of the other community
    for i in range(10):
        people.append((f"老人{i}", f"19{45 + i}0301", 0))
    people.append(("小明", "20150601", 0))
    people.append(("邻居", "19500101", 1))
    res = []
    for i, (name, birth, r) in enumerate(people):
        st, _, x = admin.post("/api/v1/residents", {"name": name, "id_number": make_id("110105", birth, 100 + i),
                                                    "room_id": rooms[r]["id"]})
        check_eq(st, 201, f"resident {name} {x}")
        res.append(x)
    for name, role, extra in (("c_staff", "staff", ["--community", str(comm["id"])]),
                              ("c_staff2", "staff", ["--community", str(comm2["id"])]),
                              ("c_teacher", "resident", ["--resident", str(res[0]["id"])]),
                              ("c_elder", "resident", ["--resident", str(res[1]["id"])]),
                              ("c_kid", "resident", ["--resident", str(res[10]["id"])]),
                              ("c_daughter", "family", ["--resident", str(res[2]["id"])])):
        p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
        ctx[name] = S.login(name, PW)
    ctx.update(comm=comm, res=res)


def count_courses():
    st, _, page = ctx["c_staff"].get("/api/v1/courses?limit=200")
    return len(page["items"])


BASE = {"title": "智能手机课", "teacher_name": "王老师", "capacity": 2, "audience": "elders"}


def test_bad_input():
    staff = ctx["c_staff"]
    for bad, field in ((dict(BASE, capacity=0), "capacity"), (dict(BASE, newcomer_quota=3), "newcomer_quota"),
                       (dict(BASE, mode="lottery"), "prereg_until"), (dict(BASE, audience="猫"), "audience"),
                       (dict(BASE, min_age=70, max_age=60), "max_age"), (dict(BASE, title=""), "title"),
                       (dict(BASE, sessions=[{"date": day(3), "start": "10:00", "end": "09:00"}]), "sessions"),
                       (dict(BASE, venue_id=99999), "venue_id"), (dict(BASE, price=5), "price")):
        st, resp, body = staff.post("/api/v1/courses", bad)
        check(is_problem(st, resp, body, 422, field), f"bad course {field}: {st} {body}")
    check_eq(count_courses(), 0, "nothing made by bad input")


def test_proposal_approval():
    teacher = ctx["c_teacher"]
    st, _, c = teacher.post("/api/v1/courses", {"title": "书法入门", "teacher_name": "老人0", "capacity": 10,
                                                "sessions": [{"date": day(8), "start": "09:00", "end": "10:30", "topic": "握笔"}]})
    check_eq((st, c.get("status"), c.get("teacher_resident_id")), (201, "proposed", ctx["res"][0]["id"]), f"a proposal {c}")
    st, _, page = ctx["c_elder"].get("/api/v1/courses")
    check(all(x["id"] != c["id"] for x in page["items"]), "a proposal is not shown to others")
    st, _, _ = teacher.post(f"/api/v1/courses/{c['id']}/approve")
    check_eq(st, 403, "a resident cannot approve")
    st, _, a = ctx["c_staff"].post(f"/api/v1/courses/{c['id']}/approve", {"note": "欢迎"})
    check_eq((st, a.get("status")), (200, "approved"), "staff approve")
    st, _, page = ctx["c_elder"].get("/api/v1/courses")
    check(any(x["id"] == c["id"] for x in page["items"]), "approved courses are shown")
    st, _, _ = ctx["c_staff2"].get(f"/api/v1/courses/{c['id']}")
    check_eq(st, 404, "another community's staff")
    ctx["calligraphy"] = a


def test_fcfs_waiting_list():
    staff, res = ctx["c_staff"], ctx["res"]
    st, _, c = staff.post("/api/v1/courses", dict(BASE, min_age=60, residents_only=True,
                                                  sessions=[{"date": day(9), "start": "14:00", "end": "15:00"}]))
    check_eq(st, 201, f"course {c}")
    got = []
    for r in res[3:7]:
        st, _, en = staff.post(f"/api/v1/courses/{c['id']}/enrolments", {"resident_id": r["id"]})
        check_eq(st, 201, f"enrol {en}")
        got.append(en)
    check_eq([e["status"] for e in got], ["enrolled", "enrolled", "waiting", "waiting"], "beyond the capacity waits")
    check_eq([e["wait_pos"] for e in got[2:]], [1, 2], "in order")
    st, _, _ = staff.post(f"/api/v1/courses/{c['id']}/enrolments", {"resident_id": res[3]["id"]})
    check_eq(st, 409, "enrolled twice")
    st, resp, body = ctx["c_kid"].post(f"/api/v1/courses/{c['id']}/enrolments", {})
    check(is_problem(st, resp, body, 422, "resident_id") and "年龄" in body.get("detail", body.get("title", "")) or
          is_problem(st, resp, body, 422, "resident_id"), f"a child is too young: {st} {body}")
    st, resp, body = staff.post(f"/api/v1/courses/{c['id']}/enrolments", {"resident_id": res[11]["id"]})
    check(is_problem(st, resp, body, 422, "resident_id"), f"another community's resident: {st} {body}")
    st, _, _ = staff.post(f"/api/v1/course-enrolments/{got[0]['id']}/withdraw")
    check_eq(st, 204, "withdraw")
    st, _, ens = staff.get(f"/api/v1/courses/{c['id']}/enrolments")
    status = {e["id"]: e["status"] for e in ens["items"]}
    check_eq([status[e["id"]] for e in got], ["withdrawn", "enrolled", "enrolled", "waiting"], "the first waiter moved up")
    st, _, cc = staff.get(f"/api/v1/courses/{c['id']}")
    check_eq((cc["enrolled"], cc["waiting"]), (2, 1), "seat counts")
    # a relative enrols the elder her account is bound to
    st, _, en = ctx["c_daughter"].post(f"/api/v1/courses/{c['id']}/enrolments", {})
    check_eq((st, en.get("resident_id"), en.get("status")), (201, res[2]["id"], "waiting"), f"family enrols the elder {en}")
    st, _, _ = ctx["c_daughter"].post(f"/api/v1/courses/{c['id']}/enrolments", {"resident_id": res[5]["id"]})
    check_eq(st, 403, "family cannot enrol someone else")
    ctx["fcfs"] = c


def expected_draw(seed, applicants, seated, seats, quota):
    """The published algorithm, re-run independently: sha256("<seed>:<resident_id>") ascending."""
    order = sorted(applicants, key=lambda rid: (hashlib.sha256(f"{seed}:{rid}".encode()).hexdigest(), rid))
    taken = []
    for rid in order:
        if len(taken) < quota and rid not in seated:
            taken.append(rid)
    for rid in order:
        if len(taken) < seats and rid not in taken:
            taken.append(rid)
    return order, set(taken)


def test_lottery():
    staff, res = ctx["c_staff"], ctx["res"]
    st, _, c = staff.post("/api/v1/courses", dict(BASE, title="太极拳", capacity=3, mode="lottery", prereg_until=day(5),
                                                  newcomer_quota=1, sessions=[{"date": day(10), "start": "08:00", "end": "09:00"}]))
    check_eq(st, 201, f"lottery course {c}")
    applicants = [r["id"] for r in res[1:10]]
    for rid in applicants:
        st, _, en = staff.post(f"/api/v1/courses/{c['id']}/enrolments", {"resident_id": rid})
        check_eq((st, en.get("status")), (201, "applied"), "pre-registration")
    # seated before: the two who got seats in the first-come course (res 4, 5) and res 3 (withdrawn, was seated)
    seated = {res[3]["id"], res[4]["id"], res[5]["id"]}
    # a seed whose three best keys are all non-newcomers, so the quota must change the result
    seed = next(f"nx-quota-{i}" for i in range(100000)
                if set(expected_draw(f"nx-quota-{i}", applicants, seated, 0, 0)[0][:3]) <= seated)
    st, _, _ = ctx["c_elder"].post(f"/api/v1/courses/{c['id']}/lottery", {"seed": seed})
    check_eq(st, 403, "a resident cannot draw")
    st, resp, body = staff.post(f"/api/v1/courses/{c['id']}/lottery", {"seed": "有 空格"})
    check(is_problem(st, resp, body, 422, "seed"), f"a bad seed: {st} {body}")
    st, _, draw = staff.post(f"/api/v1/courses/{c['id']}/lottery", {"seed": seed})
    check_eq(st, 200, f"draw {draw}")
    order, taken = expected_draw(seed, applicants, seated, 3, 1)
    check_eq([x["resident_id"] for x in draw["order"]], order, "the order re-run from the published seed")
    check_eq({x["resident_id"] for x in draw["order"] if x["status"] == "enrolled"}, taken, "the same winners")
    winners = [x for x in draw["order"] if x["status"] == "enrolled"]
    check(sum(1 for x in winners if x["newcomer"]) == 1 and order[0] in taken and order[1] in taken,
          "the newcomer quota took a seat from the third best key")
    check_eq({x["resident_id"] for x in draw["order"] if x["newcomer"]}, set(applicants) - seated, "newcomers known")
    check_eq(draw["order"][0]["key"], hashlib.sha256(f"{seed}:{order[0]}".encode()).hexdigest(), "keys published")
    st, _, cc = staff.get(f"/api/v1/courses/{c['id']}")
    check_eq((cc["lottery_seed"], cc["enrolled"], cc["waiting"], cc["applied"]), (seed, 3, 6, 0), "the course after the draw")
    st, _, _ = staff.post(f"/api/v1/courses/{c['id']}/lottery", {"seed": seed})
    check_eq(st, 409, "drawn once")
    st, _, en = staff.post(f"/api/v1/courses/{c['id']}/enrolments", {"resident_id": res[0]["id"]})
    check_eq((st, en.get("status"), en.get("wait_pos")), (201, "waiting", 7), "after the draw, late comers wait")
    ctx["lottery"] = c


def test_attendance_leave_feedback():
    staff = ctx["c_staff"]
    c = ctx["fcfs"]
    st, _, cc = staff.get(f"/api/v1/courses/{c['id']}")
    session = cc["sessions"][0]["id"]
    st, _, ens = staff.get(f"/api/v1/courses/{c['id']}/enrolments")
    enrolled = [e for e in ens["items"] if e["status"] == "enrolled"]
    st, _, att = staff.post(f"/api/v1/course-sessions/{session}/attendance",
                            {"items": [{"enrolment_id": enrolled[0]["id"], "status": "present"},
                                       {"enrolment_id": enrolled[1]["id"], "status": "absent"}]})
    check_eq(st, 200, f"attendance {att}")
    check_eq(sorted(x["status"] for x in att["items"]), ["absent", "present"], "attendance recorded")
    waiting = next(e for e in ens["items"] if e["status"] == "waiting")
    st, resp, body = staff.post(f"/api/v1/course-sessions/{session}/attendance",
                                {"items": [{"enrolment_id": waiting["id"], "status": "present"}]})
    check(is_problem(st, resp, body, 422, "items"), f"a waiter has no attendance: {st} {body}")
    st, resp, body = staff.post(f"/api/v1/course-sessions/{session}/attendance", {"items": [{"enrolment_id": 1, "status": "迟到"}]})
    check(is_problem(st, resp, body, 422, "items"), "a bad status")
    # the elder of the family account asks for leave from the calligraphy course after enrolling in it
    cal = ctx["calligraphy"]
    st, _, en = ctx["c_elder"].post(f"/api/v1/courses/{cal['id']}/enrolments", {})
    check_eq((st, en.get("status")), (201, "enrolled"), "the elder enrols herself")
    st, _, cc = ctx["c_elder"].get(f"/api/v1/courses/{cal['id']}")
    check_eq(cc["my_enrolment"]["status"], "enrolled", "my enrolment shown")
    s2 = cc["sessions"][0]["id"]
    st, _, _ = ctx["c_elder"].post(f"/api/v1/course-sessions/{s2}/leave", {"note": "复诊"})
    check_eq(st, 204, "leave asked")
    st, _, att = staff.get(f"/api/v1/course-sessions/{s2}/attendance")
    check_eq([x["status"] for x in att["items"]], ["leave"], "leave shows on the sheet")
    st, _, _ = ctx["c_kid"].post(f"/api/v1/course-sessions/{s2}/leave")
    check_eq(st, 409, "no enrolment, no leave")
    st, resp, body = ctx["c_elder"].post(f"/api/v1/courses/{cal['id']}/feedback", {"rating": 6})
    check(is_problem(st, resp, body, 422, "rating"), "rating 1-5")
    st, _, _ = ctx["c_elder"].post(f"/api/v1/courses/{cal['id']}/feedback", {"rating": 5, "comment": "老师耐心"})
    check_eq(st, 204, "feedback")
    st, _, _ = ctx["c_elder"].post(f"/api/v1/courses/{cal['id']}/feedback", {"rating": 4})
    check_eq(st, 409, "feedback once")
    st, _, _ = ctx["c_kid"].post(f"/api/v1/courses/{cal['id']}/feedback", {"rating": 1})
    check_eq(st, 409, "only participants give feedback")


def next_open(min_days, closed=7):
    """The first date at least min_days from today (Shanghai) that is not ISO weekday closed."""
    d = local_today() + datetime.timedelta(days=min_days)
    while d.isoweekday() == closed:
        d += datetime.timedelta(days=1)
    return d.isoformat()


def room_bookings(room):
    st, _, page = ctx["c_staff"].get(f"/api/v1/venue-bookings?venue_id={room['id']}&limit=200")
    check_eq(st, 200, "room bookings")
    return page["items"]


def test_course_books_its_room():
    """A course with a room books it for each session in the course's transaction; a clash answers 409
    naming the booking that holds the time and leaves nothing behind; approval of a proposal books the
    room; a room smaller than the capacity is refused; cancelling the course frees the time."""
    staff = ctx["c_staff"]
    st, _, room = staff.post("/api/v1/venues", {"name": "书画室", "capacity": 8, "open_from": "08:00", "open_to": "20:00",
                                                "closed_weekdays": [7], "max_minutes": 180, "max_ahead_days": 60})
    check_eq(st, 201, f"room {room}")
    d1, d2 = next_open(12), next_open(19)
    st, _, held = staff.post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": d2, "start": "09:30",
                                                        "end": "11:00", "title": "合唱排练"})
    check_eq(st, 201, f"a booking already there {held}")
    before, nc = room_bookings(room), count_courses()
    course = dict(BASE, capacity=6, venue_id=room["id"],
                  sessions=[{"date": d1, "start": "09:00", "end": "10:30"}, {"date": d2, "start": "09:00", "end": "10:30"}])
    st, resp, body = staff.post("/api/v1/courses", course)
    check(is_problem(st, resp, body, 409, "sessions"), f"a clash is 409: {st} {body}")
    check("第 2 次课" in body.get("title", "") + body.get("detail", "") and
          f"#{held['id']}" in body.get("title", "") + body.get("detail", "") and "合唱排练" in str(body),
          f"the clash names the session and the booking: {body}")
    check_eq((len(room_bookings(room)), count_courses()), (len(before), nc), "nothing made by a clash")
    st, resp, body = staff.post("/api/v1/courses", dict(course, capacity=20, sessions=course["sessions"][:1]))
    check(is_problem(st, resp, body, 422, "capacity"), f"a room too small for the class: {st} {body}")
    course["sessions"][1]["date"] = next_open(26)
    st, _, c = staff.post("/api/v1/courses", course)
    check_eq(st, 201, f"the course without the clash {c}")
    mine = [b for b in room_bookings(room) if b.get("course_id") == c["id"]]
    check_eq(sorted((b["date"], b["start"], b["end"], b["status"]) for b in mine),
             sorted((s["date"], "09:00", "10:30", "confirmed") for s in course["sessions"]), "one booking per session")
    # someone else cannot take the course's time now
    st, _, _ = staff.post("/api/v1/venue-bookings", {"venue_id": room["id"], "date": d1, "start": "10:00", "end": "11:00"})
    check_eq(st, 409, "the course's time is taken")
    # a resident's proposal books the room only when approved, and a clash keeps it proposed
    st, _, p = ctx["c_teacher"].post("/api/v1/courses", {"title": "国画", "teacher_name": "老人0", "capacity": 5,
                                                         "venue_id": room["id"],
                                                         "sessions": [{"date": d1, "start": "10:00", "end": "11:30"}]})
    check_eq((st, p.get("status")), (201, "proposed"), f"a proposal with a room {p}")
    check_eq([b for b in room_bookings(room) if b.get("course_id") == p["id"]], [], "a proposal books nothing")
    st, resp, body = staff.post(f"/api/v1/courses/{p['id']}/approve")
    check(is_problem(st, resp, body, 409, "sessions"), f"approving into a clash is 409: {st} {body}")
    st, _, got = staff.get(f"/api/v1/courses/{p['id']}")
    check_eq(got["status"], "proposed", "still proposed after the clash")
    st, _, _ = staff.post(f"/api/v1/courses/{c['id']}/cancel", {"note": "老师有事"})
    check_eq(st, 200, "cancel the course")
    check_eq({b["status"] for b in room_bookings(room) if b.get("course_id") == c["id"]}, {"cancelled"},
             "the cancelled course's bookings are cancelled")
    st, _, a = staff.post(f"/api/v1/courses/{p['id']}/approve")
    check_eq((st, a.get("status")), (200, "approved"), f"the freed time lets the proposal through {a}")
    check_eq(len([b for b in room_bookings(room) if b.get("course_id") == p["id"]]), 1, "approval booked the room")


def test_teacher_hours_are_volunteer_hours():
    """Recording the attendance of a session that has begun puts its length once into the volunteer
    ledger of the teacher (a resident with a volunteer record), pending approval."""
    staff, res = ctx["c_staff"], ctx["res"]
    st, _, vol = staff.post("/api/v1/volunteers", {"resident_id": res[9]["id"]})
    check_eq(st, 201, f"the teacher is a volunteer {vol}")
    st, _, c = staff.post("/api/v1/courses", dict(BASE, title="剪纸", teacher_name="老人9", teacher_resident_id=res[9]["id"],
                                                  sessions=[{"date": day(-2), "start": "09:00", "end": "10:30", "topic": "窗花"},
                                                            {"date": day(20), "start": "09:00", "end": "10:30"}]))
    check_eq(st, 201, f"a course with a session held {c}")
    st, _, en = staff.post(f"/api/v1/courses/{c['id']}/enrolments", {"resident_id": res[8]["id"]})
    check_eq(st, 201, f"enrol {en}")
    st, _, cc = staff.get(f"/api/v1/courses/{c['id']}")
    held, coming = cc["sessions"][0]["id"], cc["sessions"][1]["id"]
    for s in (held, held, coming):
        st, _, _ = staff.post(f"/api/v1/course-sessions/{s}/attendance", {"items": [{"enrolment_id": en["id"], "status": "present"}]})
        check_eq(st, 200, "attendance recorded")
    st, _, page = staff.get(f"/api/v1/volunteer-hours?volunteer_id={vol['id']}")
    check_eq(st, 200, "the ledger")
    check_eq([(h["minutes"], h["status"], h["served_on"]) for h in page["items"]], [(90, "pending", day(-2))],
             f"one entry for the session held, none for the one to come: {page['items']}")
    check("剪纸" in page["items"][0]["reason"], "the reason names the course")


def test_status_filter():
    """?status= follows the one rule of the kit (app_query_enum): a word of the courses' vocabulary, never
    empty (the web app leaves an unset filter out)."""
    check_enum_filter(admin, "/api/v1/courses?limit=200", "status", ["proposed", "approved", "rejected", "cancelled"])
    # mine is "0" or "1" as docs/openapi.json says (any other value was read as 0)
    check_flag_filter(admin, "/api/v1/courses?limit=200", "mine")


if __name__ == "__main__":
    try:
        run([test_setup, test_bad_input, test_proposal_approval, test_fcfs_waiting_list, test_lottery,
             test_attendance_leave_feedback, test_course_books_its_room,
             test_teacher_hours_are_volunteer_hours, test_status_filter])
    finally:
        S.stop()
        S.cleanup()
