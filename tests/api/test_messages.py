"""Messages that reach people (modules/messages): the message service fed by events, the inboxes of
residents and staff, notices with read receipts, quiet hours, the SOS call chain and the SMS and
voice providers (a local fake of Tencent Cloud that verifies the TC3 signature).

One server, no demo: a community with two grids, three residents (one with three emergency contacts),
a grid worker, community staff, a street officer, resident and family accounts. The sender ticks
every 0.3 s, retries after 1 s, gives up after 2 attempts, and an SOS call chain calls the next
family phone after 2 s."""
import datetime
import http.client
import json
import os
import queue
import socket
import struct
import subprocess
import threading
import time
import zlib
from urllib.parse import quote

import fake_aliyun
import fake_wecom
from fake_tencent import Fake
from nxtest import BIN, Server, check, check_eq, is_problem, make_id, recv_frames, run, run_cli, wframe

SECRET_ID, SECRET_KEY = "AKIDnuanxinTest", "fake-secret-key-Zt3"
CALLBACK_TOKEN = "cb-token-" + os.urandom(8).hex()
fake = Fake(SECRET_ID, SECRET_KEY)
base = f"http://127.0.0.1:{fake.port}"
S = Server(extra=["--msg-tick-ms", "300", "--msg-retry-base-s", "1", "--msg-retry-max", "2", "--msg-voice-gap-s", "2",
                  "--outbound-allow", "127.0.0.1/32", "--tencent-secret-id", SECRET_ID,
                  "--tencent-secret-key", SECRET_KEY, "--tencent-sms-url", base + "/sms",
                  "--tencent-sms-app-id", "1400000001", "--tencent-sms-sign", "暖心社区",
                  "--tencent-sms-template", "100001", "--tencent-voice-url", base + "/vms",
                  "--tencent-voice-app-id", "1400000002", "--tencent-voice-template", "200001",
                  "--msg-price-sms-fen", "7", "--tencent-voice-callback-token", CALLBACK_TOKEN,
                  "--msg-callback-per-min", "30"])
BASE_FLAGS = list(S.extra)
S.start()
admin = S.login()
PW = "Msg2026pass!"
ctx = {}


def put(c, path, body):
    return c.request("PUT", path, body=body)


def local_today():
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()


def sql(query):
    """One value from the database, on either backend."""
    return S.sql(query)


def sql_exec(query):
    S.sql_exec(query)


def wait_for(fn, timeout=8.0, what=""):
    """Poll fn until it returns a true value (returned) or timeout (returns the last value)."""
    end = time.time() + timeout
    v = fn()
    while not v and time.time() < end:
        time.sleep(0.15)
        v = fn()
    return v


def inbox(c, **q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    st, _, body = c.get("/api/v1/notifications?limit=200" + ("&" + qs if qs else ""))
    check_eq(st, 200, "inbox")
    return body


def titles(c):
    return [m["title"] for m in inbox(c)["items"]]


def deliveries(**q):
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    st, _, body = admin.get("/api/v1/message-deliveries?limit=200" + ("&" + qs if qs else ""))
    check_eq(st, 200, f"delivery log {body}")
    return body["items"]


class InboxStream:
    """An account's inbox stream (GET /api/v1/notifications/stream) read on its own thread: every event
    is kept, in order, with its data parsed."""

    def __init__(self, c):
        self.q, self.seen = queue.Queue(), []
        self.conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=60)
        self.conn.request("GET", "/api/v1/notifications/stream", headers={"Authorization": "Bearer " + c.token})
        self.resp = self.conn.getresponse()
        self.status, self.ctype = self.resp.status, self.resp.getheader("Content-Type", "")
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        ev = {}
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line == "":
                    if "data" in ev:
                        ev["data"] = json.loads(ev["data"])
                        self.q.put(ev)
                    ev = {}
                elif not line.startswith(":"):
                    k, _, v = line.partition(": ")
                    ev[k] = v
        except Exception:
            pass

    def signals(self, account_id, n, timeout=10):
        """Read until n inbox signals for account_id came (or timeout); those signals."""
        end = time.time() + timeout
        own = lambda: [ev for ev in self.seen if ev.get("event") == "messages.inbox.changed"
                       and ev["data"].get("account_id") == account_id]
        while len(own()) < n and time.time() < end:
            try:
                self.seen.append(self.q.get(timeout=max(0.05, end - time.time())))
            except queue.Empty:
                break
        return own()

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass
        self.conn.close()


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "消息街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "消息社区"})
    check_eq(st, 201, "community")
    grids = [admin.post("/api/v1/grids", {"community_id": comm["id"], "name": n})[2] for n in ("一网格", "二网格", "空网格")]
    st, _, estate = admin.post("/api/v1/estates", {"community_id": comm["id"], "name": "和睦小区"})
    rooms = []
    for i, g in enumerate(grids[:2]):
        st, _, b = admin.post("/api/v1/buildings", {"estate_id": estate["id"], "grid_id": g["id"], "name": f"{i + 1}号楼"})
        rooms.append(admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "101"})[2])
    people = [("林桂芳", make_id("110105", "19380301", 12), 0, "13800000001",
               [{"name": "林一", "relation": "子女", "phone": "13900000001", "is_primary": True},
                {"name": "林二", "relation": "子女", "phone": "13900000002"},
                {"name": "林三", "relation": "子女", "phone": "13900000003"}]),
              ("高德明", make_id("110105", "19400101", 21), 0, "13800000008", []),
              ("许秀英", make_id("110105", "19420202", 32), 1, "13800000007", [])]
    res = []
    for name, idn, g, phone, contacts in people:
        body = {"name": name, "id_number": idn, "room_id": rooms[g]["id"], "phone": phone}
        if contacts:
            body["contacts"] = contacts
        st, _, r = admin.post("/api/v1/residents", body)
        check_eq(st, 201, f"resident {name} {r}")
        res.append(r)
    # accounts cost a password hash each (64 MiB): the grid worker only receives, and is looked at
    # through the delivery log
    accounts = [("msg_g1", "grid", ["--grid", str(grids[0]["id"])], False),
                ("msg_staff", "staff", ["--community", str(comm["id"])], True),
                ("msg_lin", "resident", ["--resident", str(res[0]["id"])], True),
                ("msg_lin_son", "family", ["--resident", str(res[0]["id"])], True)]
    procs = [(name, subprocess.Popen([BIN, "--data", S.data, "user", "add", name, "--role", role, *extra],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
             for name, role, extra, _ in accounts]  # in parallel: each hashes a password
    for name, p in procs:
        _, err = p.communicate(PW + "\n", timeout=120)
        check_eq(p.returncode, 0, f"user {name}: {err}")
    for name, _, _, login in accounts:
        if login:
            ctx[name] = S.login(name, PW)
    st, _, users = admin.get("/api/v1/users?limit=100")
    ctx["uid"] = {u["username"]: u["id"] for u in users["items"]}
    # a grid police officer without an account: told by SMS (the fake refuses numbers ending in 9)
    st, _, m = ctx["msg_staff"].post("/api/v1/grid-members", {"grid_id": grids[0]["id"], "role": "grid_police",
                                                               "name": "网格警员", "phone": "13700000009"})
    check_eq(st, 201, f"grid member {m}")
    ctx.update(comm=comm, grids=grids, res=res, member=m, estate=estate)


def user_titles(username):
    """The in-app messages an account received, from the delivery log."""
    uid = ctx["uid"][username]
    return [d["title"] for d in deliveries(channel="inapp") if d["user_id"] == uid]


def resident_kinds(rid):
    return [d["kind"] for d in deliveries(channel="inapp") if d["resident_id"] == rid]


def test_incident_every_step():
    lin, staff = ctx["msg_lin"], ctx["msg_staff"]
    st, _, inc = lin.post("/api/v1/incidents", {"category": "safety", "title": "楼道灯坏了", "place": "1号楼2单元"})
    check_eq(st, 201, f"the resident reports {inc}")
    got = wait_for(lambda: "事件已受理" in titles(lin))
    check(got, f"reported: the resident hears it {titles(lin)}")
    check(wait_for(lambda: any(t.startswith("网格新事件") for t in user_titles("msg_g1"))), "the grid worker hears of it")
    st, _, _ = staff.post(f"/api/v1/incidents/{inc['id']}/dispatch", {"assignee_user_id": ctx["uid"]["msg_g1"]})
    check_eq(st, 200, "dispatched")
    check(wait_for(lambda: "事件已派单" in titles(lin)), "dispatched: the resident hears it")
    check(wait_for(lambda: "派单：楼道灯坏了" in user_titles("msg_g1")), "the assignee hears it")
    st, _, _ = staff.post(f"/api/v1/incidents/{inc['id']}/handle", {"result": "已更换灯泡"})
    check_eq(st, 200, "handled")
    st, _, _ = staff.post(f"/api/v1/incidents/{inc['id']}/close", {})
    check_eq(st, 200, "closed")
    check(wait_for(lambda: "事件已办结" in titles(lin)), "closed: the resident hears it")
    mine = [m for m in inbox(lin)["items"] if m["kind"].startswith("grid.incident.")]
    check_eq([m["title"] for m in reversed(mine)], ["事件已受理", "事件已派单", "事件已处置", "事件已办结"],
             "every step, in order")
    handled = [m for m in mine if m["title"] == "事件已处置"]
    check(handled and "已更换灯泡" in handled[0]["body"], f"the template's {{result}} {handled}")
    check(all(m["link"] == "/m/incidents" for m in mine), "links to the resident's page")
    # the family account reads the elder's inbox
    check_eq([m["title"] for m in inbox(ctx["msg_lin_son"])["items"] if m["kind"].startswith("grid.incident.")],
             [m["title"] for m in mine], "the family hears the same")
    # another resident hears nothing of it
    check_eq([k for k in resident_kinds(ctx["res"][2]["id"]) if k.startswith("grid.incident.")], [], "others do not")
    # a dispatch to a grid police officer without an account goes by SMS; the fake refuses the number:
    # retried once, then shown failed with the provider's code
    st, _, inc2 = staff.post("/api/v1/incidents", {"category": "safety", "title": "电动车楼道充电",
                                                   "place": "1号楼", "grid_id": ctx["grids"][0]["id"]})
    st, _, _ = staff.post(f"/api/v1/incidents/{inc2['id']}/dispatch", {"assignee_member_id": ctx["member"]["id"]})
    check_eq(st, 200, "dispatched to the police officer")
    d = wait_for(lambda: [x for x in deliveries(channel="sms", status="failed") if x["subject"] == f"incident:{inc2['id']}"],
                 timeout=10)
    check(d and d[0]["attempts"] == 2 and "IncorrectPhoneNumber" in (d[0]["last_error"] or ""),
          f"a provider failure is retried, then shown failed {d}")
    check_eq(len(fake.calls("sms", "+8613700000009")), 2, "two attempts reached the provider")


def test_problem_every_step():
    lin, staff = ctx["msg_lin"], ctx["msg_staff"]
    st, _, p = lin.post("/api/v1/problems", {"category": "housing", "title": "厨房水管漏水"})
    check_eq(st, 201, f"raised {p}")
    check(wait_for(lambda: "诉求已受理" in titles(lin)), "raised: heard")
    due = (local_today() + datetime.timedelta(days=3)).isoformat()
    st, _, _ = staff.patch(f"/api/v1/problems/{p['id']}", {"assignee_user_id": ctx["uid"]["msg_g1"], "deadline": due})
    check_eq(st, 200, "assigned")
    check(wait_for(lambda: "诉求已分派" in titles(lin)), "assigned: heard")
    check(wait_for(lambda: "诉求待办：厨房水管漏水" in user_titles("msg_g1")), "the assignee hears it")
    st, _, _ = staff.post(f"/api/v1/problems/{p['id']}/notes", {"note": "已联系物业"})
    check(wait_for(lambda: "诉求办理进展" in titles(lin)), "progress: heard")
    st, _, _ = staff.post(f"/api/v1/problems/{p['id']}/resolve", {"resolution": "已更换水管"})
    check(wait_for(lambda: "诉求已办结" in titles(lin)), "resolved: heard")
    mine = [m["title"] for m in reversed(inbox(lin)["items"]) if m["kind"].startswith("visits.problem.")]
    check_eq(mine, ["诉求已受理", "诉求已分派", "诉求办理进展", "诉求已办结"], "every step of the problem")
    assigned = [d for d in deliveries(channel="inapp") if d["title"] == "诉求待办：厨房水管漏水"]
    check(assigned and due in assigned[0]["body"] and assigned[0]["link"] == f"/care/problems/{p['id']}",
          f"the assignee's message names the deadline and links to the problem {assigned}")
    # a second problem that will be overdue
    st, _, p2 = staff.post("/api/v1/problems", {"category": "meals", "title": "助餐配送中断",
                                                "resident_id": ctx["res"][1]["id"], "deadline": due})
    check_eq(st, 201, f"second problem {p2}")
    ctx["p2"] = p2


def test_escalation_into_next_inbox():
    staff = ctx["msg_staff"]
    st, _, f = staff.post("/api/v1/care-files", {"resident_id": ctx["res"][0]["id"], "category": "living_alone",
                                             "level": "frequent"})
    check_eq(st, 201, f"care file {f}")
    before = len([t for t in titles(staff) if t == "走访任务逾期上报"])
    later = local_today() + datetime.timedelta(days=21)
    p = run_cli(S.data, "visits", "schedule", "--now", later.isoformat() + "T10:00:00+08:00")
    check(p.returncode == 0, "schedule")
    got = wait_for(lambda: len([t for t in titles(staff) if t == "走访任务逾期上报"]) > before)
    check(got, f"an overdue visit task escalates into the community staff's inbox {titles(staff)}")
    esc = [m for m in inbox(staff)["items"] if m["kind"] == "visits.task.escalated"]
    check(esc and esc[0]["link"] == f"/care/files/{f['id']}" and not esc[0]["read"], f"links to the care file, unread {esc[:1]}")
    check(wait_for(lambda: "诉求逾期上报：助餐配送中断" in titles(staff)), "an overdue problem escalates too")
    check_eq([d for d in deliveries(channel="inapp") if d["kind"] == "visits.task.escalated"
              and d["user_id"] == ctx["uid"]["msg_g1"]], [],
             "the escalation goes to the next person, not back to the grid worker")
    ctx["esc"] = esc[0] if esc else None


def test_read_and_counts():
    staff = ctx["msg_staff"]
    st, _, c = staff.get("/api/v1/notifications/unread-count")
    check(st == 200 and c["unread"] >= 2, f"unread count {c}")
    esc = ctx["esc"]
    st, _, _ = staff.post(f"/api/v1/notifications/{esc['id']}/read")
    check_eq(st, 204, "read one")
    st, _, c2 = staff.get("/api/v1/notifications/unread-count")
    check_eq(c2["unread"], c["unread"] - 1, "one fewer unread")
    st, resp, body = ctx["msg_lin"].post(f"/api/v1/notifications/{esc['id']}/read")
    check(is_problem(st, resp, body, 404), "another's message is not found")
    check_eq(len(inbox(staff, unread="true")["items"]), c2["unread"], "the unread filter")
    st, _, r = staff.post("/api/v1/notifications/read-all")
    check(st == 200 and r["read"] == c2["unread"], f"read all {r}")
    check_eq(staff.get("/api/v1/notifications/unread-count")[2]["unread"], 0, "nothing unread")
    inapp = [d for d in deliveries(channel="inapp") if d["user_id"] == ctx["uid"]["msg_staff"]]
    check(inapp and all(d["status"] == "read" for d in inapp), "the delivery log shows them read")


def test_same_event_twice_one_message():
    # counted in the tables, not in the first page of a list (the delivery log has more than one page);
    # a message reaches a provider only through its delivery row, sent once, so no new row is no second send
    def counts():
        return int(sql("SELECT count(*) FROM notifications")), int(sql("SELECT count(*) FROM message_deliveries"))
    last = int(sql("SELECT max(id) FROM events"))
    caught_up = wait_for(lambda: int(sql("SELECT last_id FROM event_cursors WHERE subscriber = 'messages.service'") or 0)
                         >= last, timeout=15)
    check(caught_up, "the dispatcher has delivered every event once before the rewind")
    n_inbox, n_deliv = counts()
    check(n_inbox > 0 and n_deliv > 0, f"messages to repeat ({n_inbox} in inboxes, {n_deliv} deliveries)")
    # the dispatcher keeps its cursor in memory: stop, rewind the stored cursor, start again
    S.stop()
    sql_exec("UPDATE event_cursors SET last_id = 0 WHERE subscriber = 'messages.service'")
    S.start()
    for c in [admin] + [v for v in ctx.values() if hasattr(v, "conn")]:
        c.conn.close()
        c.port = S.port
        c.conn = __import__("http.client").client.HTTPConnection("127.0.0.1", S.port, timeout=60)
    back = wait_for(lambda: int(sql("SELECT last_id FROM event_cursors WHERE subscriber = 'messages.service'") or 0) >= last,
                    timeout=15)
    check(back, "the outbox delivered every event again")
    inboxes, deliv = counts()
    check_eq(inboxes, n_inbox, "no second message in any inbox")
    check_eq(deliv, n_deliv, "no second delivery")


def test_rules_as_data():
    st, _, rules = admin.get("/api/v1/message-rules")
    check(st == 200 and len(rules["items"]) >= 10 and "title" in rules["placeholders"], "seeded rules")
    st, resp, body = ctx["msg_staff"].get("/api/v1/message-rules")
    check(st == 200, "staff have RIGHT_MESSAGE_ADMIN")
    st, resp, body = ctx["msg_lin"].get("/api/v1/message-rules")
    check(is_problem(st, resp, body, 403), "a resident may not read the rules")
    items = [{k: r[k] for k in ("kind", "recipient", "match_on", "channels", "title", "template", "urgent", "enabled")}
             for r in rules["items"]]
    bad = items + [{"kind": "canteen.order.missed", "recipient": "resident", "channels": ["inapp"],
                    "title": "订餐未取", "template": "您 {titel} 的餐未取"}]
    st, resp, body = put(admin, "/api/v1/message-rules", {"rules": bad})
    check(is_problem(st, resp, body, 422, f"rules[{len(items)}].template") and "titel" in body.get("title", "")
          + body.get("detail", ""), f"an unknown placeholder is refused, naming it ({st} {body})")
    st, resp, body = put(admin, "/api/v1/message-rules", {"rules": items + [dict(bad[-1], template="x", recipient="boss")]})
    check(is_problem(st, resp, body, 422, f"rules[{len(items)}].recipient"), "an unknown recipient is refused")
    check_eq(len(admin.get("/api/v1/message-rules")[2]["items"]), len(items), "nothing changed")
    good = items + [dict(bad[-1], template="您 {time} 预订的餐未取，请联系食堂。")]
    st, _, body = put(admin, "/api/v1/message-rules", {"rules": good})
    check(st == 200 and len(body["items"]) == len(items) + 1, f"a later module's event added as a row ({st})")
    # past the old fixed cap of 32 rules of one kind: the 34th rule of visits.problem.progress still sends
    rid = ctx["res"][1]["id"]
    many = good + [{"kind": "visits.problem.progress", "recipient": "resident", "match_on": f"no_such={k}",
                    "channels": ["inapp"], "title": "不会匹配", "template": "x"} for k in range(32)]
    many.append({"kind": "visits.problem.progress", "recipient": "resident", "match_on": f"resident_id={rid}",
                 "channels": ["inapp"], "title": "第三十四条规则", "template": "诉求「{title}」有进展"})
    st, _, body = put(admin, "/api/v1/message-rules", {"rules": many})
    check_eq(st, 200, f"34 rules of one kind {body}")
    st, _, _ = ctx["msg_staff"].post(f"/api/v1/problems/{ctx['p2']['id']}/notes", {"note": "已联系配送员"})
    check(st in (200, 201), f"noted {st}")
    got = wait_for(lambda: [d for d in deliveries(channel="inapp", kind="visits.problem.progress")
                            if d["title"] == "第三十四条规则" and d["resident_id"] == rid])
    check(got, "a rule past the 32nd of its kind is not skipped")
    st, _, body = put(admin, "/api/v1/message-rules", {"rules": good})
    check_eq(st, 200, "the extra rules removed again")


def test_notice_to_one_grid():
    staff = ctx["msg_staff"]
    g1, g2, empty = ctx["grids"]
    st, resp, body = staff.post("/api/v1/notices", {"title": "停水通知", "body": "明日停水", "audience": {"grids": [empty["id"]]}})
    check(is_problem(st, resp, body, 422, "audience"), f"an audience that matches nobody ({st} {body})")
    st, resp, body = staff.post("/api/v1/notices", {"title": "停水通知", "body": "明日停水", "audience": {}})
    check(is_problem(st, resp, body, 422, "audience"), "an empty audience")
    check_eq(staff.get("/api/v1/notices")[2]["items"], [], "nothing written")
    st, _, n = staff.post("/api/v1/notices", {"title": "一网格停水通知", "body": "明日 9:00-12:00 一网格停水，请提前储水。",
                                              "audience": {"grids": [g1["id"]]}})
    check(st == 201 and n["status"] == "published" and n["recipients"] == 2, f"published to grid one {n}")
    lin_msgs = [m for m in inbox(ctx["msg_lin"])["items"] if m.get("notice_id") == n["id"]]
    check(len(lin_msgs) == 1 and not lin_msgs[0]["read"], "the resident of grid one has it")
    check_eq([d for d in deliveries(channel="inapp") if d["notice_id"] == n["id"] and d["resident_id"] == ctx["res"][2]["id"]],
             [], "grid two has not")
    st, _, r = staff.get(f"/api/v1/notices/{n['id']}/receipts")
    check(st == 200 and r["total"] == 2 and r["read"] == 0, f"receipts {r}")
    check_eq(sorted(x["resident_id"] for x in r["unread"]), sorted([ctx["res"][0]["id"], ctx["res"][1]["id"]]),
             "the exact unread list")
    check(all("*" in x["name"] for x in r["unread"]), "names masked")
    st, _, got = ctx["msg_lin"].get(f"/api/v1/notices/{n['id']}")
    check(st == 200 and got["title"] == "一网格停水通知", "the resident opens it")
    st, _, r = staff.get(f"/api/v1/notices/{n['id']}/receipts")
    check_eq([x["resident_id"] for x in r["unread"]], [ctx["res"][1]["id"]], "now only the other one is unread")
    check_eq(r["read"], 1, "one read")
    st, resp, body = ctx["msg_lin"].get(f"/api/v1/notices/{n['id']}/receipts")
    check(is_problem(st, resp, body, 403), "residents do not read receipts")
    # at a time: a few seconds ahead, published by the sender
    at = (datetime.datetime.utcnow() + datetime.timedelta(hours=8, seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
    st, _, n2 = staff.post("/api/v1/notices", {"title": "二网格议事会", "body": "周六议事", "publish_at": at,
                                               "audience": {"grids": [g2["id"]]}})
    check(st == 201 and n2["status"] == "scheduled", f"scheduled {n2}")
    check(wait_for(lambda: [d for d in deliveries(channel="inapp") if d["notice_id"] == n2["id"]
                            and d["resident_id"] == ctx["res"][2]["id"]]), "published when its time came")
    st, resp, body = ctx["msg_lin"].get(f"/api/v1/notices/{n2['id']}")
    check(is_problem(st, resp, body, 404), "a resident outside the audience cannot read it")


def test_quiet_hours_hold_a_notice_not_an_sos():
    lin = ctx["msg_lin"]
    now = datetime.datetime.utcnow() + datetime.timedelta(hours=8)
    qs, qe = (now - datetime.timedelta(hours=1)).strftime("%H:%M"), (now + datetime.timedelta(hours=2)).strftime("%H:%M")
    st, _, pf = put(lin, "/api/v1/message-preferences", {"quiet_start": qs, "quiet_end": qe})
    check(st == 200 and pf["quiet_start"] == qs, f"quiet hours set {pf}")
    st, resp, body = put(lin, "/api/v1/message-preferences", {"quiet_start": "25:00", "quiet_end": "07:00"})
    check(is_problem(st, resp, body, 422, "quiet_start"), "bad quiet hours")
    st, _, n = ctx["msg_staff"].post("/api/v1/notices", {"title": "燃气检修", "body": "本周检修", "channels": ["inapp", "sms"],
                                                         "audience": {"grids": [ctx["grids"][0]["id"]]}})
    check_eq(st, 201, f"a notice by SMS too {n}")
    subj = f"notice:{n['id']}"
    time.sleep(1.5)
    sms = {d["resident_id"]: d for d in deliveries(channel="sms") if d["subject"] == subj}
    held = sms.get(ctx["res"][0]["id"])
    check(held and held["status"] == "queued", f"quiet hours hold the notice back {held}")
    check(not fake.calls("sms", "+8613800000001"), "nothing sent to the resident in quiet hours")
    # the other resident's phone answers not-JSON: retried, then failed, said so
    other = wait_for(lambda: [d for d in deliveries(channel="sms", status="failed") if d["subject"] == subj], timeout=10)
    check(other and "JSON" in (other[0]["last_error"] or ""), f"an answer that is not JSON is a clear failure {other}")
    # an SOS of the same resident in the same quiet hours calls the family at once, in order
    st, _, dev = ctx["msg_staff"].post("/api/v1/devices", {"imei": "5670001234", "protocol": "watch",
                                                           "resident_id": ctx["res"][0]["id"]})
    check_eq(st, 201, f"device {dev}")
    port = S.gateway_ports()["watch"]
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(wframe("5670001234", "LK"))
    recv_frames(s, 1)
    s.sendall(wframe("5670001234", "AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000"))
    check_eq(recv_frames(s, 1), [b"[3G*5670001234*0002*AL]"], "SOS acknowledged by the gateway")
    first = wait_for(lambda: fake.calls("vms", "+8613900000001"), timeout=6)
    check(first, "the first family phone is called despite quiet hours")
    check(not fake.calls("vms", "+8613900000002"), "not yet the second")
    second = wait_for(lambda: fake.calls("vms", "+8613900000002"), timeout=8)
    check(second, "no acknowledgement: the second family phone is called")
    st, _, alerts = ctx["msg_staff"].get("/api/v1/alerts?state=open&kind=sos")
    aid = alerts["items"][0]["id"]
    st, _, _ = ctx["msg_staff"].post(f"/api/v1/alerts/{aid}/acknowledge", {})
    check_eq(st, 200, "acknowledged")
    time.sleep(3)
    check_eq(fake.calls("vms", "+8613900000003"), [], "the chain stops when someone acknowledges")
    voice = sorted((d for d in deliveries(channel="voice") if d["subject"] == f"alert:{aid}"), key=lambda d: d["seq"])
    check_eq([d["status"] for d in voice], ["sent", "sent", "cancelled"], "the call chain in the delivery log")
    check(wait_for(lambda: len(fake.calls("sms", "+8613900000003")) == 1), "the family gets the SOS by SMS as well")
    check("紧急呼叫" in fake.calls("vms", "+8613900000001")[0][3], "the text read out")
    check(any(m["title"] == "紧急呼叫（SOS）" for m in inbox(ctx["msg_lin_son"])["items"]), "the family's inbox")
    s.close()
    check_eq(fake.bad_signatures, 0, "every request carried a valid TC3 signature")
    check(SECRET_KEY not in S.tail_log() and "13900000001" not in S.tail_log(), "no secret or phone in the log")


def local_ahead(**kw):
    """Beijing time kw from now as "YYYY-MM-DDTHH:MM"."""
    return (datetime.datetime.utcnow() + datetime.timedelta(hours=8) + datetime.timedelta(**kw)).strftime("%Y-%m-%dT%H:%M")


def test_tencent_voice_callback():
    """Tencent's voice messages have no query of a call's result, only a push (语音通知状态通知) to our
    callback address, authenticated by the operator's token in its query string. The fake provider
    pushes the SOS chain's calls: not answered → failed with the code, answered → delivered; bad input
    changes nothing; too many callbacks from one address are refused (429)."""
    calls = sorted((d for d in deliveries(channel="voice") if d["subject"].startswith("alert:") and d["status"] == "sent"),
                   key=lambda d: d["id"])
    check(len(calls) >= 2, f"the SOS chain's two calls are sent, their results unknown {calls}")
    if len(calls) < 2:
        return
    first, second = calls[0], calls[1]
    ref = {d["id"]: sql(f"SELECT provider_ref FROM message_deliveries WHERE id = {d['id']}") for d in (first, second)}
    check(all(str(v).startswith("call-") for v in ref.values()), f"each call has Tencent's CallId {ref}")
    url = f"http://127.0.0.1:{S.port}/api/v1/message-callbacks/tencent-voice?token={CALLBACK_TOKEN}"

    def states():
        return {d["id"]: (d["status"], d["last_error"]) for d in deliveries(channel="voice") if d["id"] in ref}
    was = states()
    bad = [(url.replace(CALLBACK_TOKEN, "wrong-token-0000000"), None, "1", 403, "token"),
           (url.split("?")[0], None, "1", 403, "token"),
           (url, b"<xml>not json</xml>", "1", 400, None),
           (url, b'{"result": "0"}', "0", 422, "voiceprompt_callback"),
           (url, None, "5", 422, "voiceprompt_callback.result")]
    for u, raw, result, want, field in bad:
        st, hdrs, body = fake.push_call_status(u, ref[first["id"]], result, raw=raw)
        check(st == want and isinstance(body, dict) and (field is None or body.get("field") == field)
              and body.get("title"), f"refused {want} {field}: {st} {body}")
    st, _, body = fake.push_call_status(url, "call-999999", "0")
    check(st == 404 and body.get("field") == "voiceprompt_callback.callid", f"an unknown call id: 404 ({st} {body})")
    check_eq(states(), was, "nothing changed by bad callbacks")
    # the first family phone did not pick up; the second did
    st, _, body = fake.push_call_status(url, ref[first["id"]], "1")
    check_eq((st, body), (200, {"result": 0, "errmsg": "OK"}), "the provider's documented answer")
    st, _, body = fake.push_call_status(url, ref[second["id"]], "0")
    check_eq(st, 200, f"answered ({body})")
    now = states()
    check_eq(now[first["id"]], ("failed", "未接听（1 用户未接听）"), "not answered: failed with the provider's code")
    check_eq(now[second["id"]][0], "delivered", "answered: delivered")
    st, _, body = fake.push_call_status(url, ref[second["id"]], "2")
    check(st == 200 and states() == now, f"a repeated callback changes nothing ({st})")
    # at most msg_callback_per_min (30 here) a minute from one address; a minute boundary in between
    # resets the count, so flood again then
    for _ in range(2):
        codes = [fake.push_call_status(url, "call-999999", "0") for _ in range(31)]
        limited = [c for c in codes if c[0] == 429]
        st, hdrs, body = fake.push_call_status(url, ref[first["id"]], "0")
        if limited and st == 429:
            break
    check(limited and limited[0][1].get("Retry-After"), f"too many from one address: 429 with Retry-After")
    check_eq(st, 429, "a valid callback over the limit is refused too")
    check_eq(states(), now, "and changes nothing")
    with open(os.path.join(S.data, "server.log"), "rb") as f:
        check(CALLBACK_TOKEN.encode() not in f.read(), "the token is not logged")


def test_briefings():
    staff, lin, son = ctx["msg_staff"], ctx["msg_lin"], ctx["msg_lin_son"]
    g1, g2, empty = ctx["grids"]
    r0, r1, r2 = (r["id"] for r in ctx["res"])
    base = {"title": "城乡居民医保新政", "topic": "2027 年度医保缴费与报销的变化", "speaker": "王书记",
            "place": "社区二楼会议室", "starts_at": local_ahead(days=3)}
    for bad, field in ((dict(base, starts_at=local_ahead(hours=-1)), "starts_at"), (dict(base, starts_at="明天"), "starts_at"),
                       ({k: v for k, v in base.items() if k != "place"}, "place"), (dict(base, speaker=""), "speaker"),
                       (dict(base, audience={"grids": [empty["id"]]}), "audience"), (dict(base, capacity=-1), "capacity"),
                       (dict(base, venue_id=999999), "venue_id"), (dict(base, room="101"), "room")):
        st, resp, body = staff.post("/api/v1/briefings", bad)
        check(is_problem(st, resp, body, 422, field), f"bad {field} refused ({st} {body})")
    check_eq(staff.get("/api/v1/briefings")[2]["items"], [], "nothing written")
    st, resp, body = lin.post("/api/v1/briefings", base)
    check(is_problem(st, resp, body, 403), "residents do not hold briefings")
    st, _, b = staff.post("/api/v1/briefings", dict(base, capacity=1, audience={"grids": [g1["id"]]}))
    check(st == 201 and b["status"] == "open" and b["signups"] == 0 and b["speaker"] == "王书记", f"briefing {b}")
    bid = b["id"]
    st, _, rc = staff.get(f"/api/v1/notices/{b['notice_id']}/receipts")
    check_eq(sorted(x["resident_id"] for x in rc["unread"]), sorted([r0, r1]), "announced to grid one by a notice")
    st, _, other = staff.post("/api/v1/briefings", dict(base, title="二网格宣讲", audience={"grids": [g2["id"]]}))
    check_eq(st, 201, "a briefing for grid two")
    # the resident sees the one they were invited to, and signs up from the phone
    mine = lin.get("/api/v1/briefings")[2]["items"]
    check_eq([(x["id"], x["signed_up"]) for x in mine], [(bid, False)], "only grid one's briefing, not signed up")
    st, resp, body = lin.post(f"/api/v1/briefings/{other['id']}/signups", {})
    check(is_problem(st, resp, body, 404), "not invited: not found")
    st, _, got = lin.post(f"/api/v1/briefings/{bid}/signups", {})
    check(st == 200 and got["signed_up"] is True and got["signups"] == 1, f"signed up {got}")
    st, resp, body = son.post(f"/api/v1/briefings/{bid}/signups", {})
    check(is_problem(st, resp, body, 409), "the family signs up the same resident: already")
    st, resp, body = staff.post(f"/api/v1/briefings/{bid}/signups", {"resident_id": r1})
    check(is_problem(st, resp, body, 409) and "名额已满" in body.get("title", "") + body.get("detail", ""),
          f"the one place is taken ({body})")
    st, resp, body = lin.post(f"/api/v1/briefings/{bid}/signups", {"resident_id": r1})
    check(is_problem(st, resp, body, 403), "a resident signs up only themselves")
    msg = wait_for(lambda: [m for m in inbox(lin)["items"] if m["title"] == "宣讲报名成功：城乡居民医保新政"])
    check(msg and msg[0]["link"] == f"/m/briefings/{bid}" and "社区二楼会议室" in msg[0]["body"], f"the confirmation {msg}")
    # the reminder a day before, once
    check_eq([m for m in inbox(lin)["items"] if m["title"].startswith("宣讲提醒")], [], "no reminder three days ahead")
    sql_exec(f"UPDATE briefings SET starts_at = starts_at - 2 * 86400000 WHERE id = {bid}")
    check(wait_for(lambda: [m for m in inbox(lin)["items"] if m["title"] == "宣讲提醒：城乡居民医保新政"]), "reminded")
    time.sleep(0.8)
    check_eq(len([m for m in inbox(lin)["items"] if m["title"].startswith("宣讲提醒")]), 1, "reminded once")
    # attendance at the door: the signed-up resident and a walk-in from grid two
    st, _, got = staff.post(f"/api/v1/briefings/{bid}/attendance", {"resident_id": r0})
    check(st == 200 and got["attended"] == 1, f"attended {got}")
    st, _, got = staff.post(f"/api/v1/briefings/{bid}/attendance", {"resident_id": r2})
    check(st == 200 and (got["attended"], got["signups"]) == (2, 1), f"a walk-in counts as attended, not signed up {got}")
    for body, code, field in (({"resident_id": 99999999}, 422, "resident_id"), ({"resident_id": r0, "attended": "yes"}, 422, "attended"),
                              ({}, 422, "resident_id")):
        st, resp, p = staff.post(f"/api/v1/briefings/{bid}/attendance", body)
        check(is_problem(st, resp, p, code, field), f"attendance {body}: {st} {p}")
    st, resp, body = lin.post(f"/api/v1/briefings/{bid}/attendance", {"resident_id": r0})
    check(is_problem(st, resp, body, 403), "residents take no attendance")
    st, _, su = staff.get(f"/api/v1/briefings/{bid}/signups")
    check_eq(sorted((x["resident_id"], x["attended"], x["walk_in"]) for x in su["items"]), sorted([(r0, True, False), (r2, True, True)]),
             "the list at the door")
    check(all("*" in x["name"] for x in su["items"]), "names masked")
    st, _, got = staff.post(f"/api/v1/briefings/{bid}/attendance", {"resident_id": r2, "attended": False})
    check(st == 200 and got["attended"] == 1, "a walk-in unmarked")
    check_eq([x["resident_id"] for x in staff.get(f"/api/v1/briefings/{bid}/signups")[2]["items"]], [r0], "and gone from the list")
    st, resp, data = staff.get(f"/api/v1/briefings/{bid}/attendance.xlsx")
    check(st == 200 and data[:2] == b"PK" and resp.getheader("X-Row-Count") == "1", f"the attendance sheet ({st})")
    st, resp, body = lin.get(f"/api/v1/briefings/{bid}/signups")
    check(is_problem(st, resp, body, 403), "residents do not read the list")
    # a started briefing takes no more sign-ups
    sql_exec(f"UPDATE briefings SET starts_at = 1000 WHERE id = {other['id']}")
    st, resp, body = staff.post(f"/api/v1/briefings/{other['id']}/signups", {"resident_id": r2})
    check(is_problem(st, resp, body, 409), "started: closed")


def test_briefing_withdraw_and_cancel():
    staff, lin = ctx["msg_staff"], ctx["msg_lin"]
    g1 = ctx["grids"][0]
    r0, r1, r2 = (r["id"] for r in ctx["res"])
    st, _, b = staff.post("/api/v1/briefings", {"title": "养老服务补贴政策", "speaker": "李主任", "place": "社区活动中心",
                                                "starts_at": local_ahead(days=5), "capacity": 1,
                                                "audience": {"grids": [g1["id"]]}})
    check_eq(st, 201, f"briefing {b}")
    bid = b["id"]
    st, _, got = lin.post(f"/api/v1/briefings/{bid}/signups", {})
    check(st == 200 and got["signups"] == 1, "signed up, the one place taken")
    st, resp, body = lin.post(f"/api/v1/briefings/{bid}/withdraw", {"resident_id": r1})
    check(is_problem(st, resp, body, 403), "a resident withdraws only themselves")
    st, _, got = lin.post(f"/api/v1/briefings/{bid}/withdraw", {})
    check(st == 200 and got["signed_up"] is False and got["signups"] == 0, f"withdrawn {got}")
    st, resp, body = lin.post(f"/api/v1/briefings/{bid}/withdraw", {})
    check(is_problem(st, resp, body, 409), "not signed up any more")
    st, _, got = staff.post(f"/api/v1/briefings/{bid}/signups", {"resident_id": r1})
    check(st == 200 and got["signups"] == 1, "the place is free again: staff sign the neighbour up")
    st, _, got = staff.post(f"/api/v1/briefings/{bid}/withdraw", {"resident_id": r1})
    check(st == 200 and got["signups"] == 0, "staff withdraw a resident")
    for who, body in ((lin, {}), (staff, {"resident_id": r1})):
        st, _, _ = who.post(f"/api/v1/briefings/{bid}/signups", body)
        check_eq(st, 200 if who is lin else 409, "signed up again (the second is full)")
    st, resp, body = lin.post(f"/api/v1/briefings/{bid}/cancel", {})
    check(is_problem(st, resp, body, 403), "residents do not call briefings off")
    for bad in ({"reason": 5}, {}):
        st, resp, body = staff.post(f"/api/v1/briefings/{bid}/cancel", bad)
        check(is_problem(st, resp, body, 422, "reason"), f"a reason is text, and required ({bad})")
    st, _, got = staff.post(f"/api/v1/briefings/{bid}/cancel", {"reason": "场地临时维修，另行通知。"})
    check(st == 200 and got["status"] == "cancelled", f"called off {got}")
    msg = wait_for(lambda: [m for m in inbox(lin)["items"] if m["title"] == "宣讲已取消：养老服务补贴政策"])
    check(msg and "场地临时维修" in msg[0]["body"] and msg[0]["link"] == f"/m/briefings/{bid}",
          f"the signed-up resident hears it, with the reason {msg}")
    check_eq([k for k in resident_kinds(r2) + resident_kinds(r1) if k == "messages.briefing.cancelled"], [],
             "residents not signed up hear nothing")
    for path, body in (("signups", {}), ("withdraw", {}), ("cancel", {"reason": "再取消一次"})):
        st, resp, p = (lin if path != "cancel" else staff).post(f"/api/v1/briefings/{bid}/{path}", body)
        check(is_problem(st, resp, p, 409), f"{path} of a cancelled briefing: 409")
    st, _, started = staff.post("/api/v1/briefings", {"title": "已开始的宣讲", "speaker": "李主任", "place": "社区活动中心",
                                                      "starts_at": local_ahead(days=2)})
    sql_exec(f"UPDATE briefings SET starts_at = 1000 WHERE id = {started['id']}")
    st, resp, body = staff.post(f"/api/v1/briefings/{started['id']}/cancel", {"reason": "主讲人有事"})
    check(is_problem(st, resp, body, 409), "a briefing that has begun is not called off")


def test_briefing_room():
    """A briefing that names a room books it through the venues module: a clash is a 409 naming the
    booking and nothing is written; moving the briefing moves the booking (a clash changes nothing);
    cancelling it releases the room."""
    staff = ctx["msg_staff"]
    st, _, v = staff.post("/api/v1/venues", {"community_id": ctx["comm"]["id"], "name": "宣讲活动室", "capacity": 60,
                                             "open_from": "08:00", "open_to": "21:00", "closed_weekdays": [],
                                             "max_minutes": 240, "max_ahead_days": 60})
    check_eq(st, 201, f"a room {v}")
    day = (local_today() + datetime.timedelta(days=4)).isoformat()
    nxt = (local_today() + datetime.timedelta(days=5)).isoformat()
    base = {"title": "养老服务补贴政策", "speaker": "李主任", "venue_id": v["id"], "starts_at": f"{day}T14:00",
            "ends_at": f"{day}T16:00", "capacity": 30}
    st, resp, body = staff.post("/api/v1/briefings", dict(base, ends_at=f"{day}T13:00"))
    check(is_problem(st, resp, body, 422, "ends_at"), f"an end before the start is refused ({st} {body})")
    st, _, b = staff.post("/api/v1/briefings", base)
    check(st == 201 and b["venue_booking_id"] and b["ends_at"], f"a briefing in the room {b}")

    def booking(bid):
        st, _, x = staff.get(f"/api/v1/venue-bookings/{bid}")
        check_eq(st, 200, f"booking {bid}")
        return x
    first = booking(b["venue_booking_id"])
    check(first["status"] == "confirmed" and first["venue_id"] == v["id"] and "养老服务补贴政策" in first["title"],
          f"the room is booked, confirmed {first}")
    n_before = len(staff.get("/api/v1/briefings?limit=200")[2]["items"])
    st, resp, body = staff.post("/api/v1/briefings", dict(base, title="另一场宣讲", starts_at=f"{day}T15:00",
                                                          ends_at=f"{day}T17:00"))
    check(is_problem(st, resp, body, 409, "venue_id") and f"#{first['id']}" in body.get("detail", "")
          and "（" + day + " 14:00–16:00）" in body.get("detail", ""),
          f"a clash: 409 naming the booking that holds the room ({st} {body})")
    check_eq(len(staff.get("/api/v1/briefings?limit=200")[2]["items"]), n_before, "nothing written")
    st, _, b2 = staff.post("/api/v1/briefings", dict(base, title="晚场宣讲", starts_at=f"{day}T17:00", ends_at=f"{day}T18:00"))
    check_eq(st, 201, f"a later briefing in the same room {b2}")
    # moving onto the later one's time: 409, the briefing and its booking as they were
    st, resp, body = staff.patch(f"/api/v1/briefings/{b['id']}", {"starts_at": f"{day}T16:30", "ends_at": f"{day}T17:30"})
    check(is_problem(st, resp, body, 409, "venue_id"), f"a move onto a taken time is refused ({st} {body})")
    again = staff.get(f"/api/v1/briefings/{b['id']}")[2]
    check(again["starts_at"] == b["starts_at"] and again["venue_booking_id"] == first["id"]
          and booking(first["id"])["status"] == "confirmed", f"nothing changed {again}")
    st, _, moved = staff.patch(f"/api/v1/briefings/{b['id']}", {"starts_at": f"{nxt}T09:00", "ends_at": f"{nxt}T10:30"})
    check(st == 200 and moved["venue_booking_id"] != first["id"], f"moved {st} {moved}")
    check_eq(booking(first["id"])["status"], "cancelled", "the old time is released")
    new = booking(moved["venue_booking_id"])
    check(new["status"] == "confirmed" and new["starts_at"].startswith(nxt), f"the new time is booked {new}")
    st, resp, body = ctx["msg_lin"].patch(f"/api/v1/briefings/{b['id']}", {"starts_at": f"{nxt}T11:00"})
    check(is_problem(st, resp, body, 403), "residents do not move briefings")
    st, _, _ = staff.post(f"/api/v1/briefings/{b['id']}/cancel", {"reason": "场地改作防汛物资仓库"})
    check_eq(st, 200, "cancelled")
    check_eq(booking(moved["venue_booking_id"])["status"], "cancelled", "cancelling the briefing releases the room")
    staff.post(f"/api/v1/briefings/{b2['id']}/cancel", {"reason": "合并到下周"})


def test_briefing_moved():
    """Moving a briefing to another time or place (PATCH) tells each resident signed up — the default rule
    of migration 032: the inbox, and SMS under their preferences (林桂芳's quiet hours hold hers back) —
    and nobody else; bad input and a change to the same place change nothing and tell nobody."""
    staff, lin = ctx["msg_staff"], ctx["msg_lin"]
    g1 = ctx["grids"][0]
    r0, r1, r2 = (r["id"] for r in ctx["res"])
    st, _, b = staff.post("/api/v1/briefings", {"title": "低保政策解读", "speaker": "王科长", "place": "社区二楼会议室",
                                                "starts_at": local_ahead(days=6), "audience": {"grids": [g1["id"]]}})
    check_eq(st, 201, f"briefing {b}")
    bid = b["id"]
    check_eq(lin.post(f"/api/v1/briefings/{bid}/signups", {})[0], 200, "林桂芳 signs up")
    check_eq(staff.post(f"/api/v1/briefings/{bid}/signups", {"resident_id": r1})[0], 200, "staff sign 高德明 up")

    invitation = staff.get(f"/api/v1/notices/{b['notice_id']}")[2]["body"]
    check("地点：社区二楼会议室" in invitation and "原定" not in invitation, f"the invitation {invitation!r}")

    def told():
        return int(sql(f"SELECT count(*) FROM events WHERE kind = 'messages.briefing.changed' AND subject = 'briefing:{bid}'"))
    for bad, field in (({}, "starts_at"), ({"place": ""}, "place"), ({"place": 5}, "place"),
                       ({"ends_at": local_ahead(days=7)}, "starts_at"), ({"starts_at": local_ahead(hours=-1)}, "starts_at"),
                       ({"place": "礼堂", "venue_id": 1}, None), ({"starts_at": None, "place": "礼堂"}, "starts_at"),
                       ({"place": None}, "place")):
        st, resp, body = staff.patch(f"/api/v1/briefings/{bid}", bad)
        check(is_problem(st, resp, body, 422, field), f"refused {bad}: {st} {body}")
    st, resp, body = lin.patch(f"/api/v1/briefings/{bid}", {"place": "我家"})
    check(is_problem(st, resp, body, 403), "a resident does not move a briefing")
    again = staff.get(f"/api/v1/briefings/{bid}")[2]
    check((again["place"], again["starts_at"]) == (b["place"], b["starts_at"]), f"nothing changed {again}")
    st, _, same = staff.patch(f"/api/v1/briefings/{bid}", {"place": "社区二楼会议室"})
    check_eq(st, 200, "the same place again")
    check_eq(staff.get(f"/api/v1/notices/{b['notice_id']}")[2]["body"], invitation, "the notice is as it was")
    check_eq(told(), 0, "nothing to tell: no event for bad input or for the same place")
    # another place
    st, _, moved = staff.patch(f"/api/v1/briefings/{bid}", {"place": "社区一楼大厅"})
    check(st == 200 and moved["place"] == "社区一楼大厅" and moved["starts_at"] == b["starts_at"], f"moved {moved}")
    msg = wait_for(lambda: [m for m in inbox(lin)["items"] if m["kind"] == "messages.briefing.changed"])
    check(msg and msg[0]["title"] == "宣讲时间地点变更：低保政策解读" and "社区一楼大厅" in msg[0]["body"]
          and msg[0]["link"] == f"/m/briefings/{bid}", f"the signed-up resident hears of the new place {msg}")
    # the invitation itself now names the new place and what it was, in the notice and in every inbox
    notice = staff.get(f"/api/v1/notices/{b['notice_id']}")[2]
    check("地点：社区一楼大厅" in notice["body"] and "原定" in notice["body"] and "社区二楼会议室" in notice["body"],
          f"the announcing notice is restated {notice['body']!r}")
    invite = [m for m in inbox(lin)["items"] if m["title"] == "政策宣讲：低保政策解读"]
    check(len(invite) == 1 and "地点：社区一楼大厅" in invite[0]["body"] and "原定" in invite[0]["body"],
          f"and so is the invitation in her inbox {invite}")
    # another time
    later = local_ahead(days=8)
    st, _, moved = staff.patch(f"/api/v1/briefings/{bid}", {"starts_at": later})
    check(st == 200 and moved["place"] == "社区一楼大厅" and moved["starts_at"] != b["starts_at"], f"moved again {moved}")
    when = later[:10] + " " + later[11:16]
    msg = wait_for(lambda: [m for m in inbox(lin)["items"] if m["kind"] == "messages.briefing.changed" and when in m["body"]])
    check(msg, f"and of the new time ({when})")
    notice = staff.get(f"/api/v1/notices/{b['notice_id']}")[2]
    check(f"时间：{when}" in notice["body"] and "地点：社区一楼大厅" in notice["body"], f"the notice has the new time {notice['body']!r}")
    check_eq(told(), 4, "one event per signed-up resident and change")
    inapp = wait_for(lambda: (lambda d: d if len(d) == 4 else None)(
        [d for d in deliveries(channel="inapp", kind="messages.briefing.changed") if d["subject"] == f"briefing:{bid}"]))
    check_eq(sorted(d["resident_id"] for d in inapp or []), sorted([r0, r0, r1, r1]), "both residents, twice, in the inbox")
    sms = [d for d in deliveries(channel="sms", kind="messages.briefing.changed") if d["subject"] == f"briefing:{bid}"]
    check_eq(sorted(d["resident_id"] for d in sms), sorted([r0, r0, r1, r1]), "and by SMS")
    held = int(sql("SELECT count(*) FROM message_deliveries WHERE kind = 'messages.briefing.changed' AND channel = 'sms' "
                   f"AND subject = 'briefing:{bid}' AND resident_id = {r0} AND status = 'queued' "
                   f"AND next_at > {int(time.time() * 1000)}"))
    check_eq(held, 2, "林桂芳's quiet hours hold her SMS back")
    check_eq([k for k in resident_kinds(r2) if k == "messages.briefing.changed"], [], "a resident not signed up hears nothing")


def test_default_rules_027():
    """The events migration 027 gives a rule reach their people: the outbox rows are written as
    the emitting modules document them (venues.h, council.h)."""
    comm = ctx["comm"]["id"]
    r0 = ctx["res"][0]["id"]
    now = int(time.time() * 1000)
    # the staff member's, the resident's and her son's open pages (inbox streams); the events below
    # alternate between the staff member and the resident, so each stream's own signals come after
    # another account's
    streams = {u: InboxStream(ctx[u]) for u in ("msg_staff", "msg_lin", "msg_lin_son")}
    check(all(s.status == 200 and s.ctype.startswith("text/event-stream") for s in streams.values()),
          "every account may open its inbox stream")
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=10)
    conn.request("GET", "/api/v1/notifications/stream")
    check_eq(conn.getresponse().status, 401, "not without signing in")
    conn.close()
    rows = [("council.progress.overdue", "decision:77", {"decision_id": 77, "progress_id": 5, "estate_id": 1,
                                                         "due_on": "2026-01-31", "link": "/council/decisions/77"}),
            ("venues.booking.released", "venue_booking:9001", {"booking_id": 9001, "venue_id": 1, "resident_id": r0,
                                                                "user_id": None, "status": "no_show"}),
            ("venues.booking.released", "venue_booking:9002", {"booking_id": 9002, "venue_id": 1, "resident_id": r0,
                                                                "user_id": None, "status": "cancelled"}),
            # a resident page as the link of a staff message is not theirs to open: dropped
            ("council.topic.step_overdue", "topic:88", {"topic_id": 88, "estate_id": 1, "step": 2,
                                                        "step_name": "征求意见", "due_on": "2026-02-01",
                                                        "link": "/m/council"})]
    import json as _json
    for kind, subject, payload in rows:
        sql_exec("INSERT INTO events (at, community_id, kind, subject, payload) VALUES "
                 f"({now}, {comm}, '{kind}', '{subject}', '{_json.dumps(payload, ensure_ascii=False)}')")
    lin_msgs = wait_for(lambda: {m["title"]: m for m in inbox(ctx["msg_lin"])["items"]
                                 if m["kind"] == "venues.booking.released"} if len(
        [m for m in inbox(ctx["msg_lin"])["items"] if m["kind"] == "venues.booking.released"]) == 2 else None)
    check(lin_msgs and "#9001" in lin_msgs["活动室预约未签到"]["body"] and "#9002" in lin_msgs["活动室预约已取消"]["body"],
          f"a released booking reaches the resident it was for, as a no-show or a cancellation {lin_msgs}")
    staff_full = wait_for(lambda: (lambda d: d if len(d) == 2 else None)(
        {m["title"]: m for m in inbox(ctx["msg_staff"])["items"] if m["kind"].startswith("council.")}))
    staff_msgs = {t: m["body"] for t, m in (staff_full or {}).items()}
    check(staff_msgs and "2026-01-31" in staff_msgs.get("督办节点逾期", "")
          and "征求意见" in staff_msgs.get("议题协商环节逾期", ""), f"council's overdue events reach the duty staff {staff_msgs}")
    check(staff_full and staff_full["督办节点逾期"].get("link") == "/council/decisions/77"
          and not staff_full["议题协商环节逾期"].get("link"),
          f"a staff message opens the console page its event names, never a resident page {staff_full}")
    check_eq([d for d in deliveries(channel="inapp") if d["kind"].startswith("council.")
              and d["user_id"] == ctx["uid"]["msg_g1"]], [], "not the grid worker")
    # each open page heard of its own two messages, and of nothing else: a signal for another account,
    # published before the stream's own second one, would have come first
    for u, stream in streams.items():
        uid = ctx["uid"][u]
        check_eq(len(stream.signals(uid, 2)), 2, f"{u}'s inbox stream tells of both messages")
        foreign = [ev for ev in stream.seen if ev.get("event") != "messages.inbox.changed"
                   or ev["data"].get("account_id") != uid]
        check_eq(foreign, [], f"{u}'s stream carries no other account's signal")
        stream.close()


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# A well-formed 1x1 PNG with a text chunk (which the upload store drops), and a small PDF.
PNG = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", b"\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00")
       + _png_chunk(b"tEXt", b"Comment\x00secret") + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\xff"))
       + _png_chunk(b"IEND", b""))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def attach(c, nid, data, name=None, ctype="application/octet-stream"):
    q = f"?name={quote(name)}" if name else ""
    return c.request("POST", f"/api/v1/notices/{nid}/attachments{q}", raw=data, headers={"Content-Type": ctype})


def test_notice_files():
    staff, lin = ctx["msg_staff"], ctx["msg_lin"]
    g1, g2, _ = ctx["grids"]
    st, _, n = staff.post("/api/v1/notices", {"title": "垃圾分类新规", "body": "自下月起实行垃圾分类，详见附件。",
                                              "audience": {"grids": [g1["id"]]}})
    check_eq(st, 201, f"notice {n}")
    nid = n["id"]
    st, resp, a1 = attach(staff, nid, PDF, "垃圾分类实施办法.pdf", "application/pdf")
    check(st == 201 and resp.getheader("Location") == a1["url"], f"a PDF attached {a1}")
    st, _, a2 = attach(staff, nid, PNG, ctype="image/jpeg")  # the claimed type is not believed
    check_eq(st, 201, f"a picture attached {a2}")
    for data, code, field, why in ((b"hello, not a picture", 415, "file", "a text file refused"), (b"", 422, "file", "an empty body"),
                                   (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 422, "file", "a file that only starts like a PNG")):
        st, resp, body = attach(staff, nid, data, ctype="image/png")
        check(is_problem(st, resp, body, code, field), f"{why} ({st} {body})")
    st, resp, body = attach(staff, nid, PDF, "a/b.pdf")
    check(is_problem(st, resp, body, 422, "name"), "a name with a slash")
    st, resp, body = attach(lin, nid, PDF)
    check(is_problem(st, resp, body, 403), "residents attach nothing")
    # the resident reads the notice with its attachments on the phone
    st, _, got = lin.get(f"/api/v1/notices/{nid}")
    check_eq([(x["label"], x["content_type"]) for x in got["attachments"]],
             [("垃圾分类实施办法.pdf", "application/pdf"), ("附件2.png", "image/png")], "the attachments, sniffed")
    st, resp, data = lin.get(a1["url"])
    check(st == 200 and data == PDF and resp.getheader("Content-Type") == "application/pdf", "the PDF as it was")
    st, resp, data = lin.get(a2["url"])
    check(st == 200 and data.startswith(b"\x89PNG") and b"secret" not in data, "the picture, its text chunk dropped")
    # not for residents it did not reach
    st, _, other = staff.post("/api/v1/notices", {"title": "二网格通知", "body": "见附件", "audience": {"grids": [g2["id"]]}})
    st, _, a3 = attach(staff, other["id"], PDF)
    st, resp, body = lin.get(a3["url"])
    check(is_problem(st, resp, body, 404), "an attachment of a notice that did not reach me")
    for i in range(8):
        attach(staff, nid, PDF)
    st, resp, body = attach(staff, nid, PDF)
    check(is_problem(st, resp, body, 409, "file"), "at most ten a notice")
    # the printable notice
    st, resp, pdf = staff.get(f"/api/v1/notices/{nid}/notice.pdf")
    check(st == 200 and resp.getheader("Content-Type") == "application/pdf" and pdf.startswith(b"%PDF") and len(pdf) > 2000,
          f"the printable notice ({st})")
    st, resp, body = lin.get(f"/api/v1/notices/{nid}/notice.pdf")
    check(is_problem(st, resp, body, 403), "residents do not print notices")
    st, resp, body = staff.get("/api/v1/notices/99999999/notice.pdf")
    check(is_problem(st, resp, body, 404), "no such notice")


def test_costs():
    st, _, c = admin.get("/api/v1/message-costs")
    check_eq(st, 200, f"this month's count {c}")
    by = {x["channel"]: x for x in c["items"]}
    sms_sent = len([d for d in deliveries(channel="sms") if d["status"] == "sent"])
    check(sms_sent > 0 and by["sms"]["sent"] == sms_sent, f"the SMS sent, counted ({by['sms']} vs {sms_sent})")
    check_eq(by["sms"]["cost_fen"], sms_sent * by["sms"]["unit_fen"], "priced per message in fen")
    check_eq(c["total_fen"], sum(x["cost_fen"] for x in c["items"]), "the total")
    check_eq(sorted(by), ["inapp", "sms", "voice", "wecom"], "every channel, sent or not")
    check_eq((by["sms"]["unit_fen"], by["sms"]["cost_fen"]), (7, 7 * sms_sent),
             "the price is configuration (msg_price_sms_fen 7, not the placeholder 5)")
    check_eq(by["voice"]["unit_fen"], 12, "an unset price is the documented placeholder")
    st, _, old = admin.get("/api/v1/message-costs?month=2001-01")
    check(st == 200 and old["month"] == "2001-01" and all(x["sent"] == 0 for x in old["items"]), f"another month {old}")
    for bad in ("2026-13", "2026-1", "abc"):
        st, resp, body = admin.get(f"/api/v1/message-costs?month={bad}")
        check(is_problem(st, resp, body, 422, "month"), f"bad month {bad}")
    st, resp, body = ctx["msg_lin"].get("/api/v1/message-costs")
    check(is_problem(st, resp, body, 403), "residents see no costs")


def receipt_grid():
    """A grid of three residents whose phones end in 1, 2 and 3: delivered, failed and an answer that
    is not JSON when their delivery reports are pulled (made once, used with both providers)."""
    if "rgrid" in ctx:
        return ctx["rgrid"]
    st, _, g = admin.post("/api/v1/grids", {"community_id": ctx["comm"]["id"], "name": "回执网格"})
    st, _, b = admin.post("/api/v1/buildings", {"estate_id": ctx["estate"]["id"], "grid_id": g["id"], "name": "9号楼"})
    room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "901"})[2]
    people = []
    for i, name in enumerate(("回执甲", "回执乙", "回执丙")):
        st, _, r = admin.post("/api/v1/residents", {"name": name, "id_number": make_id("110105", f"1950010{i + 1}", 40 + i),
                                                    "room_id": room["id"], "phone": f"1360000000{i + 1}"})
        check_eq(st, 201, f"resident {name} {r}")
        people.append(r)
    ctx["rgrid"] = (g, people)
    return ctx["rgrid"]


def check_reports(provider, plus):
    """A notice by SMS to the receipt grid; the reports pulled from provider (a fake) end as delivered,
    failed with the provider's reason, and sent with the reason the report could not be read."""
    g, people = receipt_grid()
    modes = ("delivered", "failed", "html")
    for i, mode in enumerate(modes):
        provider.receipts[f"{plus}1360000000{i + 1}"] = mode
    st, _, n = ctx["msg_staff"].post("/api/v1/notices", {"title": "回执测试", "body": "明日停水", "channels": ["inapp", "sms"],
                                                         "audience": {"grids": [g["id"]]}})
    check_eq(st, 201, f"a notice by SMS {n}")
    subj = f"notice:{n['id']}"

    def report(rid, done):
        got = [d for d in deliveries(channel="sms") if d["subject"] == subj and d["resident_id"] == rid]
        return got[0] if got and done(got[0]) else None
    ok = wait_for(lambda: report(people[0]["id"], lambda d: d["status"] == "delivered"), timeout=10)
    check(ok and not ok["last_error"], f"a delivered report: delivered {ok}")
    bad = wait_for(lambda: report(people[1]["id"], lambda d: d["status"] == "failed"), timeout=10)
    check(bad and bad["last_error"] == f"未送达（{'MK:0001' if plus else 'MOBILE_NOT_ON_SERVICE'}）",
          f"a failed report: failed with the provider's reason {bad}")
    odd = wait_for(lambda: report(people[2]["id"], lambda d: "JSON" in (d["last_error"] or "")), timeout=10)
    check(odd and odd["status"] == "sent", f"a report that is not JSON: still sent, said so, asked again later {odd}")
    check(all(f"{plus}1360000000{i + 1}" in [q if isinstance(q, str) else q[1] for q in provider.queries]
              for i in range(3)), "each report asked for that phone")


def test_sms_delivery_reports():
    """Delivery reports of SMS pulled from Tencent (PullSmsSendStatusByPhoneNumber, TC3-signed): the
    fake answers by serial number and phone; "sent" becomes delivered or failed."""
    check_reports(fake, "+86")
    check_eq(fake.bad_signatures, 0, "every report request carried a valid TC3 signature")
    check("13600000001" not in S.tail_log(), "no phone in the log")


def restart(extra):
    """Start the same server again with other provider flags (the database and accounts stay)."""
    S.stop()
    S.extra = extra
    S.start()
    for c in [admin] + [v for v in ctx.values() if hasattr(v, "conn")]:
        c.conn.close()
        c.port = S.port
        c.conn = __import__("http.client").client.HTTPConnection("127.0.0.1", S.port, timeout=60)


def test_aliyun_and_wecom():
    """Aliyun SMS and calls, WeCom messages to staff: the same server started again with the Tencent
    keys gone and Aliyun's and WeCom's set, against local fakes that check the signature (Aliyun) and
    the credentials and token (WeCom) as the providers document them."""
    ali = fake_aliyun.Fake("LTAInuanxinTest", "aliyun-secret-Q9")
    wc = fake_wecom.Fake("ww-nuanxin", "wecom-secret-K7", "1000002")
    base_flags = S.extra[:S.extra.index("--tencent-secret-id")]
    restart(base_flags + ["--msg-price-sms-fen", "7", "--aliyun-access-key-id", "LTAInuanxinTest",
                          "--aliyun-access-key-secret", "aliyun-secret-Q9",
                          "--aliyun-sms-url", f"http://127.0.0.1:{ali.port}/sms", "--aliyun-sms-sign", "暖心社区",
                          "--aliyun-sms-template", "SMS_100001", "--aliyun-voice-url", f"http://127.0.0.1:{ali.port}/vms",
                          "--aliyun-voice-show-number", "057100000000", "--aliyun-voice-template", "TTS_200001",
                          "--wecom-corp-id", "ww-nuanxin", "--wecom-agent-id", "1000002",
                          "--wecom-secret", "wecom-secret-K7", "--wecom-url", f"http://127.0.0.1:{wc.port}/"])
    staff = ctx["msg_staff"]
    g1, g2, _ = ctx["grids"]
    try:
        # SMS: grid two's resident (…7) is throttled once, then sent; grid one's 高德明 (…8) gets a body
        # that is not JSON twice, then failed; the police officer (…9) is refused
        st, _, n = staff.post("/api/v1/notices", {"title": "阿里云短信通知", "body": "周末停电检修", "channels": ["inapp", "sms"],
                                                  "audience": {"grids": [g1["id"], g2["id"]]}})
        check_eq(st, 201, f"a notice by SMS {n}")
        subj = f"notice:{n['id']}"
        r1, r2 = ctx["res"][1]["id"], ctx["res"][2]["id"]

        def sms_of(rid):
            got = [d for d in deliveries(channel="sms") if d["subject"] == subj and d["resident_id"] == rid]
            return got[0] if got and got[0]["status"] != "queued" else None
        thr = wait_for(lambda: sms_of(r2), timeout=10)
        check(thr and thr["status"] == "sent" and thr["attempts"] == 2,
              f"throttled (isv.BUSINESS_LIMIT_CONTROL), retried, then sent {thr}")
        bad = wait_for(lambda: sms_of(r1), timeout=10)
        check(bad and bad["status"] == "failed" and "JSON" in (bad["last_error"] or ""), f"not JSON: failed, said so {bad}")
        check_eq(len(ali.calls("sms", "13800000007")), 2, "the throttled number was tried twice, without +86")
        st, _, inc = staff.post("/api/v1/incidents", {"category": "safety", "title": "井盖松动", "place": "2号楼",
                                                      "grid_id": g1["id"]})
        st, _, _ = staff.post(f"/api/v1/incidents/{inc['id']}/dispatch", {"assignee_member_id": ctx["member"]["id"]})
        refused = wait_for(lambda: [d for d in deliveries(channel="sms", status="failed") if d["subject"] == f"incident:{inc['id']}"],
                           timeout=10)
        check(refused and "isv.MOBILE_NUMBER_ILLEGAL" in (refused[0]["last_error"] or ""), f"a refusal names the code {refused}")
        # delivery reports through QuerySendDetails (signed alike), by BizId and phone
        check_reports(ali, "")
        # a voice call through SingleCallByTts: an SOS calls the first family phone
        port = S.gateway_ports()["watch"]
        before = max([d["id"] for d in deliveries(channel="voice")] or [0])
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(wframe("5670001234", "LK"))
        recv_frames(s, 1)
        s.sendall(wframe("5670001234", "AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000"))
        recv_frames(s, 1)
        ali.results["13900000001"] = ["html", "noanswer"]
        ali.results["13900000002"] = ["answered"]
        call = wait_for(lambda: ali.calls("vms", "13900000001"), timeout=8)
        check(call and "紧急呼叫" in call[0][3], f"the family phone is called through Aliyun {call}")
        # the calls' results pulled through QueryCallDetailByCallId: the first phone's answer is not
        # JSON once (said so, the call still "sent", asked again), then "not answered"; the second
        # phone, called after the gap, answered

        def voice_of(number_index):
            got = [d for d in deliveries(channel="voice") if d["contact_kind"] == "emergency" and d["seq"] == number_index
                   and d["id"] > before]
            return got[0] if got else None
        odd = wait_for(lambda: (lambda d: d if d and "JSON" in (d["last_error"] or "") else None)(voice_of(0)), timeout=8)
        check(odd and odd["status"] == "sent", f"a call result that is not JSON: still sent, said so {odd}")
        missed = wait_for(lambda: (lambda d: d if d and d["status"] == "failed" else None)(voice_of(0)), timeout=8)
        check(missed and missed["last_error"] == "未接听（200003 用户收到呼叫但未接听）",
              f"not answered: failed with the provider's code and words {missed}")
        answered = wait_for(lambda: (lambda d: d if d and d["status"] == "delivered" else None)(voice_of(1)), timeout=8)
        check(answered and not answered["last_error"], f"answered: delivered {answered}")
        st, _, alerts = staff.get("/api/v1/alerts?state=open&kind=sos")
        for a in alerts.get("items", []):
            staff.post(f"/api/v1/alerts/{a['id']}/acknowledge", {})
        s.close()
        check_eq(ali.bad_signatures, 0, "every Aliyun request carried a valid HMAC-SHA1 signature")
        # WeCom: the rule for council's overdue milestones also goes by WeCom to the duty staff
        rules = admin.get("/api/v1/message-rules")[2]["items"]
        items = [{k: r[k] for k in ("kind", "recipient", "match_on", "channels", "title", "template", "urgent", "enabled")}
                 for r in rules]
        for r in items:
            if r["kind"] == "council.progress.overdue":
                r["channels"] = ["inapp", "wecom"]
        st, _, _ = put(admin, "/api/v1/message-rules", {"rules": items})
        check_eq(st, 200, "the rule gains the wecom channel")
        now = int(time.time() * 1000)
        comm = ctx["comm"]["id"]

        def overdue(i):
            sql_exec("INSERT INTO events (at, community_id, kind, subject, payload) VALUES "
                     f"({now}, {comm}, 'council.progress.overdue', 'decision:{500 + i}', "
                     f"'{{\"decision_id\": {500 + i}, \"progress_id\": {i}, \"estate_id\": 1, \"due_on\": \"2026-03-0{i}\"}}')")
            subject = f"decision:{500 + i}"
            return wait_for(lambda: [d for d in deliveries(channel="wecom") if d["subject"] == subject
                                     and d["status"] != "queued"], timeout=10)
        got = overdue(1)
        check(got and got[0]["status"] == "sent" and got[0]["user_id"] == ctx["uid"]["msg_staff"]
              and wc.sent and wc.sent[0][0] == "msg_staff" and "2026-03-01" in wc.sent[0][1],
              f"a WeCom message to the staff member (UserID = user name) {got} {wc.sent}")
        check_eq(wc.token_fetches, 1, "one access token fetched")
        overdue(2)
        check_eq(wc.token_fetches, 1, "the token is cached until it expires")
        wc.mode = "expire"
        got = overdue(3)
        check(got and got[0]["status"] == "sent" and got[0]["attempts"] == 1 and wc.token_fetches == 2,
              f"42001: a fresh token is fetched and the message sent at once {got} fetches={wc.token_fetches}")
        wc.mode = "throttle"
        got = overdue(4)
        check(got and got[0]["status"] == "sent" and got[0]["attempts"] == 2, f"45009 throttled: retried, then sent {got}")
        wc.mode = "html"
        got = overdue(5)
        check(got and got[0]["status"] == "failed" and "JSON" in (got[0]["last_error"] or ""),
              f"an answer that is not JSON: retried, then failed, said so {got}")
        wc.mode = "unknown"
        got = overdue(6)
        check(got and got[0]["status"] == "failed" and "invaliduser" in (got[0]["last_error"] or ""),
              f"a member WeCom does not know: failed, said so {got}")
        wc.mode = ""
        check_eq(wc.bad_requests, 0, "every WeCom request carried the configured corp ID, secret and agent")
        log = S.tail_log()
        check("aliyun-secret-Q9" not in log and "wecom-secret-K7" not in log and "13900000001" not in log,
              "no secret, token or phone in the log")
    finally:
        ali.close()
        wc.close()


def test_daily_cap():
    """One person gets at most msg_daily_cap non-urgent SMS a day (Beijing time): one more is kept in
    the delivery log as cancelled with the reason and never sent; cancelled ones do not count. The
    cap is set to what 林 has had today plus one, so the test does not depend on the tests before it."""
    lin_id = ctx["res"][0]["id"]
    bj = datetime.timezone(datetime.timedelta(hours=8))
    day_start = datetime.datetime.combine(local_today(), datetime.time(), tzinfo=bj)

    def lin_sms():
        return [d for d in deliveries(channel="sms") if d["resident_id"] == lin_id
                and datetime.datetime.fromisoformat(d["created_at"].replace("Z", "+00:00")) >= day_start]
    had = [d for d in lin_sms() if not d["urgent"] and d["status"] != "cancelled"]
    check(len(had) < 200, "the delivery log's first page holds 林's messages of today")
    restart(BASE_FLAGS + ["--msg-daily-cap", str(len(had) + 1)])
    now = datetime.datetime.utcnow() + datetime.timedelta(hours=8)  # quiet hours away from now: sent at once
    qs, qe = (now + datetime.timedelta(hours=3)).strftime("%H:%M"), (now + datetime.timedelta(hours=4)).strftime("%H:%M")
    st, _, pf = put(ctx["msg_lin"], "/api/v1/message-preferences", {"quiet_start": qs, "quiet_end": qe})
    check_eq(st, 200, f"quiet hours moved away from now {pf}")
    subjects = []
    for title in ("停水通知", "停电通知"):
        st, _, n = ctx["msg_staff"].post("/api/v1/notices", {"title": title, "body": "明天上午", "channels": ["inapp", "sms"],
                                                             "audience": {"grids": [ctx["grids"][0]["id"]]}})
        check_eq(st, 201, f"a notice by SMS {n}")
        subjects.append(f"notice:{n['id']}")
    got = {d["subject"]: d for d in lin_sms() if d["subject"] in subjects}
    check(got.get(subjects[0]) and got[subjects[0]]["status"] != "cancelled", f"the last one under the cap goes {got}")
    over = got.get(subjects[1])
    check(over and over["status"] == "cancelled" and "每人每日上限" in (over["last_error"] or ""),
          f"one more is cancelled, the reason said {over}")
    check(wait_for(lambda: fake.calls("sms", "+8613800000001") and
                   any("停水通知" in str(c) for c in fake.calls("sms", "+8613800000001"))), "the first is sent")
    time.sleep(1)  # the sender's tick is 300 ms here: a cancelled message would have been sent by now
    check(not any("停电通知" in str(c) for c in fake.calls("sms", "+8613800000001")), "the capped one is never sent")
    inapp = [m["title"] for m in inbox(ctx["msg_lin"])["items"]]
    check("停电通知" in inapp, "the inbox is never capped")


def test_end():
    S.cleanup()
    fake.close()


if os.environ.get("NX_TIMING"):
    def timed(f):
        def w():
            t = time.time()
            f()
            print(f"{f.__name__}: {time.time() - t:.1f}s")
        w.__name__ = f.__name__
        return w
else:
    def timed(f):
        return f

run([timed(t) for t in [test_setup, test_incident_every_step, test_problem_every_step, test_escalation_into_next_inbox,
     test_read_and_counts, test_same_event_twice_one_message, test_rules_as_data, test_notice_to_one_grid,
     test_quiet_hours_hold_a_notice_not_an_sos, test_tencent_voice_callback, test_briefings, test_briefing_withdraw_and_cancel,
     test_briefing_room, test_briefing_moved, test_default_rules_027, test_notice_files, test_costs, test_sms_delivery_reports, test_aliyun_and_wecom,
     test_daily_cap, test_end]])
