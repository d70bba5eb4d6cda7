"""Black-box tests of alarms reaching people through webhook channels (issue 5, item 5): channels are
configured per community through the API (bad input refused, family members may not), an SOS from a
simulated watch reaches a WeCom robot, a signed DingTalk robot and a generic JSON receiver — a tiny
HTTP server on a loopback port — with the exact bodies those robots expect, naming who should act;
escalation (grid worker → duty staff) sends again to the channels of the next level; a receiver that
fails at first is retried with back-off until it answers, one that never answers is given up after a
bounded number of attempts and recorded as failed; each (event, channel) is delivered once; and the
family sees their elder's alarm.

Outbound requests cannot reach inside (issue 21, item 4): internal targets — literals, names that
resolve there (the server's test resolver hook NX_TEST_RESOLVE_FILE stands in for DNS), names with
one internal address among public ones — and plain http are refused with 422 when saved; a name
that points inside only when the alarm leaves (DNS rebinding) is refused then, recorded as "refused:
internal address" without a request or an HTTP status; robot keys and signing secrets are stored
encrypted (not in the database's bytes, also for a channel written in clear before migration 008)
and never returned; a receiver that times out is retried and delivered. The local receiver is
reached because the test allows 127.0.0.1 with outbound_allow, as a deployment would allow its
intranet gateway."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import socket
import sqlite3
import tempfile
import threading
import time
import urllib.parse

from nxtest import check, check_eq, make_id, psql, run, run_cli, Server, wframe

PW = "Hook2026pass"
ESCALATE_S = 10
# the test's DNS: the server reads this file at every resolution (a test-only hook)
RESOLVE = tempfile.NamedTemporaryFile("w", prefix="nx-resolve-", delete=False)
RESOLVE.close()
os.environ["NX_TEST_RESOLVE_FILE"] = RESOLVE.name


def dns(**names):
    with open(RESOLVE.name, "w") as f:
        for name, addrs in names.items():
            f.write(name.replace("_", ".") + " " + " ".join(addrs) + "\n")


DNS = {"meta_test": ["169.254.169.254"], "mixed_test": ["8.8.8.8", "192.168.0.1"], "pub_test": ["8.8.8.8"],
       "rebind_test": ["8.8.4.4"], "cgnat_test": ["100.100.100.200"], "loop_test": ["127.0.0.2"]}
dns(**DNS)
S = Server(extra=["--alert_escalate_s", str(ESCALATE_S), "--outbound_allow", "127.0.0.1"])
S.start()
admin = S.login()
ctx = {}


def gateway_port(srv):
    while True:
        line = srv.proc.stdout.readline().decode()
        if not line:
            raise RuntimeError("server ended before printing the gateway ports")
        if "nuanxin: gateway watch " in line:
            return int(line.rsplit(":", 1)[1])


WATCH = gateway_port(S)


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []              # (path, query dict, body dict) of every request
    fail_left = {"/flaky": 2}
    slow_left = {"/slow": 1}  # answers after the server's 5 s timeout, once
    lock = threading.Lock()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        path, _, query = self.path.partition("?")
        with Receiver.lock:
            Receiver.got.append((path, urllib.parse.parse_qs(query), json.loads(raw), self.headers.get("Content-Type")))
            failing = path == "/dead" or Receiver.fail_left.get(path, 0) > 0
            if path in Receiver.fail_left and Receiver.fail_left[path] > 0:
                Receiver.fail_left[path] -= 1
            slow = Receiver.slow_left.get(path, 0) > 0
            if slow:
                Receiver.slow_left[path] -= 1
        if slow:
            time.sleep(7)
            return  # the sender gave up long ago
        if failing:
            self.send_response(503)
            self.end_headers()
            return
        answer = b"{}" if path == "/json" else b'{"errcode":0,"errmsg":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *a):
        pass


RECV = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=RECV.serve_forever, daemon=True).start()
BASE = f"http://127.0.0.1:{RECV.server_address[1]}"


def received(path, pred=lambda b: True, want=1, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with Receiver.lock:
            got = [g for g in Receiver.got if g[0] == path and pred(g[2])]
        if len(got) >= want:
            return got
        time.sleep(0.1)
    with Receiver.lock:
        return [g for g in Receiver.got if g[0] == path and pred(g[2])]




def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "通知街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "通知社区"})
    st, _, other = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "别的社区"})
    st, _, grid = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": "三网格"})
    st, _, ogrid = admin.post("/api/v1/grids", {"community_id": other["id"], "name": "外网格"})
    st, _, estate = admin.post("/api/v1/estates", {"community_id": comm["id"], "name": "安康小区"})
    st, _, b = admin.post("/api/v1/buildings", {"estate_id": estate["id"], "grid_id": grid["id"], "name": "2号楼"})
    st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "202"})
    st, _, elder = admin.post("/api/v1/residents", {"name": "孙桂芳", "id_number": make_id("110105", "19370415", 31),
                                                    "room_id": room["id"]})
    check_eq(st, 201, f"resident {elder}")
    for name, role, extra in [("hook_staff", "staff", ["--community", str(comm["id"])]),
                              ("hook_family", "family", ["--resident", str(elder["id"])])]:
        p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
        ctx[name] = S.login(name, PW)
    ctx.update(comm=comm, other=other, grid=grid, ogrid=ogrid, elder=elder)


def test_channels_api():
    staff, comm = ctx["hook_staff"], ctx["comm"]
    bad = [({"name": "x", "format": "sms", "url": BASE + "/x"}, "format"),
           ({"name": "x", "format": "wecom", "url": "ftp://127.0.0.1/x"}, "url"),
           ({"name": "x", "format": "wecom", "url": "http:// space"}, "url"),
           ({"name": "x", "format": "wecom", "url": BASE + "/x", "levels": [3]}, "levels"),
           ({"name": "x", "format": "wecom", "url": BASE + "/x", "levels": []}, "levels"),
           ({"name": "x", "format": "wecom", "url": BASE + "/x", "colour": "red"}, "colour"),
           ({"format": "wecom", "url": BASE + "/x"}, "name"),
           ({"name": "x", "format": "wecom", "url": BASE + "/x", "grid_id": ctx["ogrid"]["id"]}, "grid_id")]
    for body, field in bad:
        st, _, p = staff.post("/api/v1/webhooks", body)
        check_eq((st, p.get("field")), (422, field), f"refused: {body}")
    st, _, _ = staff.post("/api/v1/webhooks", {"name": "x", "format": "wecom", "url": BASE + "/x",
                                               "community_id": ctx["other"]["id"]})
    check_eq(st, 403, "another community's channel: refused")
    st, _, _ = ctx["hook_family"].post("/api/v1/webhooks", {"name": "x", "format": "wecom", "url": BASE + "/x"})
    check_eq(st, 403, "a family member cannot configure channels")
    st, _, _ = ctx["hook_family"].get("/api/v1/webhooks")
    check_eq(st, 403, "nor list them")

    chans = {}
    for name, fmt, path, levels, extra in [
            ("三网格企业微信群", "wecom", "/wecom", [0], {"grid_id": ctx["grid"]["id"]}),
            ("值班钉钉群", "dingtalk", "/ding", [0, 1], {"secret": "SECtest123"}),
            ("值班系统", "json", "/json", [1], {}),
            ("时好时坏", "wecom", "/flaky", [0], {}),
            ("已失效", "wecom", "/dead", [0], {}),
            ("超时", "wecom", "/slow", [0], {}),
            ("停用", "wecom", "/off", [0, 1, 2], {"enabled": False})]:
        st, resp, c = staff.post("/api/v1/webhooks", {"name": name, "format": fmt, "url": BASE + path,
                                                      "levels": levels, **extra})
        check_eq(st, 201, f"channel {name}: {c}")
        chans[path] = c
    d = chans["/ding"]
    check_eq((d["community_id"], d["format"], d["levels"], d["has_secret"], d["enabled"], d["grid_id"]),
             (comm["id"], "dingtalk", [0, 1], True, True, None), "channel as stored")
    check("secret" not in d, "the signing secret is never returned")
    check_eq(chans["/wecom"]["grid_id"], ctx["grid"]["id"], "grid channel")
    st, _, lst = staff.get("/api/v1/webhooks")
    check_eq([c["id"] for c in lst["items"]], [c["id"] for c in chans.values()], "listed in order")
    st, _, lst = admin.get(f"/api/v1/webhooks?community_id={ctx['other']['id']}")
    check_eq(lst["items"], [], "filter by community")
    st, _, c = staff.request("PATCH", f"/api/v1/webhooks/{chans['/off']['id']}", body={"name": "停用的群"})
    check_eq((st, c["name"], c["enabled"], c["levels"]), (200, "停用的群", False, [0, 1, 2]), "patch keeps the rest")
    st, _, tmp = staff.post("/api/v1/webhooks", {"name": "临时", "format": "json", "url": BASE + "/tmp"})
    check_eq(tmp["levels"], [0, 1, 2], "every level by default")
    st, _, _ = staff.request("DELETE", f"/api/v1/webhooks/{tmp['id']}")
    check_eq(st, 204, "deleted")
    st, _, _ = staff.get(f"/api/v1/webhooks/{tmp['id']}")
    check_eq(st, 404, "gone")
    ctx["chans"] = chans


def test_outbound_refused():
    """Internal targets and plain http are refused when saved (422 on url, a clear message)."""
    staff = ctx["hook_staff"]
    internal = ["https://127.0.0.2/x", "https://169.254.169.254/latest/meta-data/", "http://169.254.169.254/",
                "https://100.100.100.200/latest/meta-data", "https://10.0.0.5/hook", "https://192.168.1.1/",
                "https://[::1]:8443/x", "https://[fd00::5]/x", "https://[::ffff:169.254.169.254]/",
                "https://0xa9fea9fe/", "https://localhost/x", "https://meta.test/x", "https://mixed.test/x",
                "https://cgnat.test/x", "https://loop.test/x"]
    for url in internal:
        st, _, p = staff.post("/api/v1/webhooks", {"name": "内网", "format": "wecom", "url": url})
        check_eq((st, p.get("field")), (422, "url"), f"internal target refused: {url}")
        check("内部网络" in p.get("detail", ""), f"the message says why: {p}")
    st, _, p = staff.post("/api/v1/webhooks", {"name": "明文", "format": "wecom", "url": "http://pub.test/x"})
    check_eq((st, p.get("field")), (422, "url"), "plain http to the internet refused")
    check("https://" in p.get("detail", ""), f"the message names https: {p}")
    st, _, p = staff.post("/api/v1/webhooks", {"name": "无名", "format": "wecom", "url": "https://nx-none.invalid/x"})
    check_eq((st, p.get("field")), (422, "url"), "a name that does not resolve refused")
    # a public https robot is accepted; its key and secret are not returned nor stored in clear
    url = "https://pub.test/cgi-bin/webhook/send?key=ROBOTKEY-5e1f-77ab"
    st, _, c = staff.post("/api/v1/webhooks", {"name": "公网", "format": "dingtalk", "url": url,
                                               "secret": "SECpublic987", "levels": [2]})
    check_eq(st, 201, f"public https robot accepted: {c}")
    check_eq((c.get("url"), c.get("has_secret"), "secret" in c), ("https://pub.test/…77ab", True, False),
             "the URL is shown masked, the secret only as set")
    st, _, g = staff.get(f"/api/v1/webhooks/{c['id']}")
    check("ROBOTKEY" not in json.dumps(g, ensure_ascii=False), "GET does not echo the robot key")
    st, _, lst = staff.get("/api/v1/webhooks")
    check("ROBOTKEY" not in json.dumps(lst, ensure_ascii=False), "the list does not echo the robot key")
    dump = S.db_bytes()
    check(b"ROBOTKEY" not in dump and b"SECpublic987" not in dump, "key and secret encrypted at rest")
    # the masked URL sent back unchanged keeps the stored one; an internal one is refused
    st, _, c2 = staff.request("PATCH", f"/api/v1/webhooks/{c['id']}", body={"url": c["url"], "name": "公网群"})
    check_eq((st, c2.get("url"), c2.get("name")), (200, c["url"], "公网群"), "masked URL echoed back: kept")
    st, _, p = staff.request("PATCH", f"/api/v1/webhooks/{c['id']}", body={"url": "https://pub.test/…beef"})
    check_eq((st, p.get("field")), (422, "url"), "another masked-looking URL refused")
    st, _, p = staff.request("PATCH", f"/api/v1/webhooks/{c['id']}", body={"url": "https://meta.test/x"})
    check_eq((st, p.get("field")), (422, "url"), "PATCH to an internal name refused")
    st, _, _ = staff.request("DELETE", f"/api/v1/webhooks/{c['id']}")
    check_eq(st, 204, "the public robot removed (the test has no internet)")
    # a name public when saved, internal when the alarm leaves
    st, _, c = staff.post("/api/v1/webhooks", {"name": "换了解析", "format": "json", "url": "https://rebind.test/hook",
                                               "levels": [0]})
    check_eq(st, 201, f"rebind.test public when saved: {c}")
    ctx["rebind"] = c
    dns(**{**DNS, "rebind_test": ["169.254.169.254"]})


def test_default_refuses_loopback():
    """Without outbound_allow, 127.0.0.1 itself is refused (the server above allows it for its
    local receiver)."""
    srv = Server()
    srv.start()
    try:
        adm = srv.login()
        for url in ["http://127.0.0.1:8080/x", "https://127.0.0.1/x", "https://localhost/x"]:
            st, _, p = adm.post("/api/v1/webhooks", {"name": "x", "format": "wecom", "url": url, "community_id": 1})
            check_eq((st, p.get("field")), (422, "url"), f"loopback refused by default: {url}")
    finally:
        srv.cleanup()


def expected_text(alert, level, escalated):
    t = alert["opened_at"]
    when = t[:10] + " " + t[11:19]
    who = "网格员（三网格）" if level == 0 else "社区值班人员"
    act = f"请处理：{who}（超时未确认，已升级）" if escalated else f"请处理：{who}"
    title = ("【报警升级】" if escalated else "【暖心报警】") + "紧急呼叫（SOS）"
    text = (f"居民：孙*芳\n社区：通知社区\n网格：三网格\n时间：{when}\n位置：无定位\n级别：紧急\n{act}\n"
            f"报警编号：{alert['id']}")
    return title, text


def test_sos_reaches_the_robots():
    staff = ctx["hook_staff"]
    st, _, dev = staff.post("/api/v1/devices", {"imei": "7766554433", "protocol": "watch",
                                                "resident_id": ctx["elder"]["id"]})
    check_eq(st, 201, f"device {dev}")
    s = socket.create_connection(("127.0.0.1", WATCH), timeout=5)
    s.sendall(wframe("7766554433", "AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000"))
    s.settimeout(5)
    check_eq(s.recv(100), b"[3G*7766554433*0002*AL]", "SOS acknowledged")
    s.close()
    got = received("/wecom")
    check_eq(len(got), 1, "the grid's WeCom robot got one message")
    st, _, lst = staff.get("/api/v1/alerts?kind=sos")
    alert = lst["items"][0]
    ctx["alert"] = alert
    title, text = expected_text(alert, 0, False)
    if got:
        check_eq(got[0][2], {"msgtype": "text", "text": {"content": title + "\n" + text}}, "exact WeCom body")
        check(got[0][3].startswith("application/json"), f"content type {got[0][3]}")
    got = received("/ding")
    check_eq(len(got), 1, "the DingTalk robot got one message")
    if got:
        check_eq(got[0][2], {"msgtype": "text", "text": {"content": title + "\n" + text}}, "exact DingTalk body")
        q = got[0][1]
        ts = q.get("timestamp", ["0"])[0]
        want = base64.b64encode(hmac.new(b"SECtest123", f"{ts}\nSECtest123".encode(), hashlib.sha256).digest()).decode()
        check_eq(q.get("sign", [""])[0], want, "DingTalk signature")
        check(abs(int(ts) - time.time() * 1000) < 60000, "timestamp is now, in ms")
    check_eq(received("/json", timeout=0.5), [], "the level-1 JSON channel waits for the escalation")
    check_eq(received("/off", timeout=0.1), [], "a disabled channel gets nothing")
    # the flaky robot fails twice and is retried until it answers
    got = received("/flaky", want=3)
    check_eq(len(got), 3, "flaky robot: two failures, then delivered")
    # family members see their elder's alarm
    st, _, fam = ctx["hook_family"].get("/api/v1/alerts")
    check_eq((st, [a["id"] for a in fam["items"]]), (200, [alert["id"]]), "the family sees the alarm")


def test_escalation_reaches_duty_staff():
    alert = ctx["alert"]
    got = received("/json", want=1, timeout=ESCALATE_S + 15)
    check_eq(len(got), 1, "escalated to the duty staff's JSON receiver")
    title, text = expected_text(alert, 1, True)
    if got:
        b = got[0][2]
        check_eq((b["title"], b["text"]), (title, text), "JSON title and text")
        d = b["data"]
        check_eq((d["event"], d["alert_id"], d["kind"], d["severity"], d["level"], d["act"], d["community_id"],
                  d["grid_id"], d["resident_id"], d["lat"], d["opened_at"]),
                 ("devices.alert.escalated", alert["id"], "sos", "critical", 1, "duty_staff", ctx["comm"]["id"],
                  ctx["grid"]["id"], ctx["elder"]["id"], None, alert["opened_at"]), "JSON data")
    got = received("/ding", want=2, timeout=5)
    check_eq(len(got), 2, "the DingTalk duty group gets the escalation too")
    if len(got) == 2:
        check_eq(got[1][2]["text"]["content"], title + "\n" + text, "escalation text")
    check_eq(len(received("/wecom", timeout=0.1)), 1, "the grid-level WeCom robot is not sent the level-1 message")


def test_deliveries_recorded():
    staff, chans = ctx["hook_staff"], ctx["chans"]
    deadline = time.time() + 20
    while time.time() < deadline:
        st, _, dl = staff.get(f"/api/v1/webhooks/{chans['/dead']['id']}/deliveries")
        if dl["items"] and dl["items"][0]["state"] == "failed":
            break
        time.sleep(0.3)
    check_eq([(x["state"], x["attempts"], x["http_status"]) for x in dl["items"]], [("failed", 6, 503)],
             "a dead robot is given up after 6 attempts")
    check_eq(len(received("/dead", timeout=0.1)), 6, "six requests reached it")
    st, _, dl = staff.get(f"/api/v1/webhooks/{chans['/flaky']['id']}/deliveries")
    check_eq([(x["state"], x["attempts"], x["alert_id"]) for x in dl["items"]], [("sent", 3, ctx["alert"]["id"])],
             "flaky: sent at the third attempt")
    st, _, dl = staff.get(f"/api/v1/webhooks/{chans['/ding']['id']}/deliveries")
    check_eq([(x["state"], x["attempts"]) for x in dl["items"]], [("sent", 1), ("sent", 1)], "ding: two events once each")
    st, _, dl = staff.get(f"/api/v1/webhooks/{chans['/slow']['id']}/deliveries")
    check_eq([(x["state"], x["attempts"], x["http_status"]) for x in dl["items"]], [("sent", 2, 200)],
             "a receiver that timed out got it at the next attempt")
    check_eq(len(received("/slow", want=2, timeout=0.1)), 2, "two requests reached the slow receiver")
    st, _, dl = staff.get(f"/api/v1/webhooks/{ctx['rebind']['id']}/deliveries")
    check_eq([(x["state"], x["attempts"], x["http_status"], "refused: internal address" in (x["error"] or ""))
              for x in dl["items"]], [("failed", 1, None, True)],
             "re-resolved at send time: refused at once, no status, the same words for any address")
    # a restart redelivers nothing already sent
    global WATCH
    S.stop()
    # a channel written in clear before migration 008: sealed when the server starts
    now = int(time.time() * 1000)
    sql = ("INSERT INTO webhook_channels (community_id, name, format, url, secret, levels, enabled, created_at, "
           f"updated_at) VALUES ({ctx['other']['id']}, '旧渠道', 'dingtalk', '{BASE}/legacy?access_token=OLDTOKEN', "
           f"'LEGACYSEC', 1, 1, {now}, {now})")
    if S.database:
        psql(S.database, sql)
    else:
        db = sqlite3.connect(os.path.join(S.data, "nuanxin.db"))
        db.execute(sql)
        db.commit()
        db.close()
    S.start()
    WATCH = gateway_port(S)
    time.sleep(2)
    check_eq(len(received("/wecom", timeout=0.1)), 1, "no duplicate after restart")
    check_eq(len(received("/flaky", timeout=0.1)), 3, "no duplicate after restart (flaky)")


def test_more_channels_than_one_round():
    """A community with more channels than one round of the subscriber sends to (32): every one of
    them gets the alarm once, none is left out."""
    other, ogrid = ctx["other"], ctx["ogrid"]
    admin = S.login()  # the server was restarted
    st, _, estate = admin.post("/api/v1/estates", {"community_id": other["id"], "name": "多群小区"})
    st, _, b = admin.post("/api/v1/buildings", {"estate_id": estate["id"], "grid_id": ogrid["id"], "name": "3号楼"})
    st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "303"})
    st, _, elder = admin.post("/api/v1/residents", {"name": "钱玉兰", "id_number": make_id("110105", "19380521", 47),
                                                    "room_id": room["id"]})
    check_eq(st, 201, f"resident {elder}")
    n = 40
    for i in range(n):
        st, _, c = admin.post("/api/v1/webhooks", {"name": f"楼长群{i}", "format": "json", "url": BASE + f"/many{i}",
                                                   "levels": [0], "community_id": other["id"]})
        check_eq(st, 201, f"channel {i}: {c}")
    st, _, dev = admin.post("/api/v1/devices", {"imei": "7766554499", "protocol": "watch", "resident_id": elder["id"]})
    check_eq(st, 201, f"device {dev}")
    s = socket.create_connection(("127.0.0.1", WATCH), timeout=5)
    s.sendall(wframe("7766554499", "AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000"))
    s.settimeout(5)
    check_eq(s.recv(100), b"[3G*7766554499*0002*AL]", "SOS acknowledged")
    s.close()
    got = received("/legacy")
    check_eq(len(got), 1, "the channel sealed at start-up still gets the alarm")
    if got:
        q = got[0][1]
        ts = q.get("timestamp", ["0"])[0]
        want = base64.b64encode(hmac.new(b"LEGACYSEC", f"{ts}\nLEGACYSEC".encode(), hashlib.sha256).digest()).decode()
        check_eq((q.get("access_token"), q.get("sign", [""])[0]), (["OLDTOKEN"], want), "with its key and signature")
    st, _, lst = admin.get(f"/api/v1/webhooks?community_id={other['id']}")
    old = [c for c in lst["items"] if c["name"] == "旧渠道"]
    check_eq([(c["url"], c["has_secret"]) for c in old], [(BASE + "/…OKEN", True)],
             "shown masked")
    missing = [i for i in range(n) if len(received(f"/many{i}", timeout=15)) != 1]
    check_eq(missing, [], f"all {n} channels got the alarm once")
    time.sleep(1)
    check_eq([i for i in range(n) if len(received(f"/many{i}", timeout=0)) != 1], [], "and only once")


def test_sealed_at_rest():
    """After the server stops (SQLite checkpoints its log), no byte of the old clear channel's key or
    secret is left in the database."""
    S.stop()
    dump = S.db_bytes()
    check(b"OLDTOKEN" not in dump and b"LEGACYSEC" not in dump, "the old clear channel is encrypted at rest")
    check(b"ROBOTKEY" not in dump and b"SECtest123" not in dump, "no robot key or secret in clear")


try:
    run([test_setup, test_channels_api, test_outbound_refused, test_default_refuses_loopback,
         test_sos_reaches_the_robots, test_escalation_reaches_duty_staff,
         test_deliveries_recorded, test_more_channels_than_one_round, test_sealed_at_rest])
finally:
    S.cleanup()
    RECV.shutdown()
    os.unlink(RESOLVE.name)
