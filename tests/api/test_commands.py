"""Black-box tests of device commands (issue 5, "queued until the device is online, result tracked"),
the wristband dashboard numbers and the daily steps: staff queue commands for an offline watch and
an IW band; bad kinds, arguments and protocols are refused with the field named and nothing queued;
phone numbers are masked in every answer and never stored in clear; when the device connects the
gateway sends the queued commands in order, the device's echo (watch keyword, IW serial) closes them;
a queued command can be cancelled, a sent one cannot; a command whose time runs out expires; a grid
worker of another grid sees none of it."""
import socket
import sqlite3
import time
import urllib.parse

from nxtest import check, check_eq, is_problem, make_id, psql, recv_frames, run, run_cli, Server, wframe

PW = "Cmd2026pass"
S = Server()
S.start()
admin = S.login()
ctx = {}
PORTS = S.gateway_ports()






def wait_for(pred, what, timeout=8.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.1)
    check(False, f"{what} (last: {last})")


def command(dev_id, cid):
    st, _, c = ctx["staff"].get(f"/api/v1/devices/{dev_id}/commands")
    check_eq(st, 200, "list commands")
    return next((x for x in c["items"] if x["id"] == cid), None)


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "指令街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "指令社区"})
    grids = [admin.post("/api/v1/grids", {"community_id": comm["id"], "name": n})[2] for n in ("一网格", "二网格")]
    st, _, estate = admin.post("/api/v1/estates", {"community_id": comm["id"], "name": "和平小区"})
    st, _, b = admin.post("/api/v1/buildings", {"estate_id": estate["id"], "grid_id": grids[0]["id"], "name": "2号楼"})
    st, _, room = admin.post(f"/api/v1/buildings/{b['id']}/rooms", {"number": "201"})
    st, _, elder = admin.post("/api/v1/residents", {"name": "钱秀英", "id_number": make_id("110105", "19380519", 26),
                                                    "room_id": room["id"]})
    check_eq(st, 201, f"resident {elder}")
    for name, role, extra in (("cmd_staff", "staff", ["--community", str(comm["id"])]),
                              ("cmd_g2", "grid", ["--grid", str(grids[1]["id"])])):
        p = run_cli(S.data, "user", "add", name, "--role", role, *extra, stdin=PW + "\n", check_rc=False)
        check_eq(p.returncode, 0, f"user {name}: {p.stderr}")
    ctx.update(staff=S.login("cmd_staff", PW), g2=S.login("cmd_g2", PW), elder=elder, comm=comm["id"])
    st, _, w = ctx["staff"].post("/api/v1/devices", {"imei": "6600000001", "protocol": "watch",
                                                     "resident_id": elder["id"]})
    check_eq(st, 201, f"watch {w}")
    st, _, iw = ctx["staff"].post("/api/v1/devices", {"imei": "860000000000077", "protocol": "iw",
                                                      "resident_id": elder["id"]})
    check_eq(st, 201, f"iw band {iw}")
    ctx.update(watch=w, iw=iw)


def test_bad_commands_refused():
    staff, wid = ctx["staff"], ctx["watch"]["id"]
    cases = [({"kind": "selfdestruct"}, "kind"),
             ({"kind": "upload_interval", "args": {"seconds": 5}}, "seconds"),
             ({"kind": "upload_interval", "args": {"seconds": "60"}}, "seconds"),
             ({"kind": "upload_interval", "args": {"seconds": 60, "extra": 1}}, "extra"),
             ({"kind": "sos_numbers", "args": {"phones": ["13800000000", "12ab"]}}, "phones"),
             ({"kind": "sos_numbers", "args": {"phones": []}}, "phones"),
             ({"kind": "fall_level", "args": {"level": 10}}, "level"),
             ({"kind": "message", "args": {"text": ""}}, "text"),
             ({"kind": "message", "args": {"text": "长" * 121}}, "text"),
             ({"kind": "locate", "args": []}, "args"),
             ({"kind": "locate", "expires_in_s": 5}, "expires_in_s"),
             ({"kind": "locate", "colour": "red"}, "colour")]
    for body, field in cases:
        st, resp, b = staff.post(f"/api/v1/devices/{wid}/commands", body)
        check(is_problem(st, resp, b, 422, field), f"{body}: {st} {b}")
    st, resp, b = staff.post(f"/api/v1/devices/{wid}/commands", "{not json")
    check_eq(st, 400, f"malformed JSON: {st} {b}")
    # IW has no centre number: refused for the IW band, accepted for the watch
    st, resp, b = staff.post(f"/api/v1/devices/{ctx['iw']['id']}/commands", {"kind": "center",
                                                                            "args": {"phone": "13800000000"}})
    check(is_problem(st, resp, b, 422, "kind"), f"centre number on IW: {st} {b}")
    st, _, lst = staff.get(f"/api/v1/devices/{wid}/commands")
    check_eq(lst["items"], [], "nothing queued by refused commands")
    st, _, b = ctx["g2"].post(f"/api/v1/devices/{wid}/commands", {"kind": "locate"})
    check(st in (403, 404), f"grid worker of another grid: {st}")
    st, _, b = ctx["g2"].get(f"/api/v1/devices/{wid}/commands")
    check(st in (403, 404), f"another grid cannot list: {st}")
    st, _, b = staff.post("/api/v1/devices/999999/commands", {"kind": "locate"})
    check_eq(st, 404, "unknown device")


def test_queue_send_and_confirm_watch():
    staff, wid = ctx["staff"], ctx["watch"]["id"]
    made = []
    for body in ({"kind": "sos_numbers", "args": {"phones": ["13912345678", "", "+8613800001111"]}},
                 {"kind": "upload_interval", "args": {"seconds": 300}},
                 {"kind": "message", "args": {"text": "按时吃药"}},
                 {"kind": "fall_detect", "args": {"on": True, "call_centre": False}}):
        st, _, c = staff.post(f"/api/v1/devices/{wid}/commands", body)
        check_eq(st, 201, f"queue {body}: {c}")
        check_eq((c["state"], c["state_label"]), ("queued", "等待设备在线"), "queued while offline")
        made.append(c)
    phones = made[0]["args"]["phones"]
    check("13912345678" not in str(phones) and phones[0].startswith("139") and "*" in phones[0],
          f"phones masked: {phones}")
    check_eq(phones[1], "", "an empty slot stays empty")
    # nothing in clear in the database either
    if S.database is None:
        db = sqlite3.connect(f"file:{S.data}/nuanxin.db?mode=ro", uri=True)
        raw = db.execute("SELECT args, secret FROM device_commands WHERE id = ?", (made[0]["id"],)).fetchone()
        db.close()
        raw = (raw[0], bytes(raw[1]) if raw[1] is not None else None)
    else:
        out = psql(S.database, f"SELECT args || '|' || encode(secret, 'escape') FROM device_commands "
                               f"WHERE id = {made[0]['id']}", capture=True)
        a, _, b = out.partition("|")
        raw = (a, b.encode() if b.strip() else None)
    check("13912345678" not in raw[0] and raw[1] is not None and b"13912345678" not in raw[1],
          f"phones stored encrypted only: {raw[0]}")
    st, _, c = staff.post(f"/api/v1/devices/{wid}/commands/{made[3]['id']}/cancel")
    check_eq((st, c["state"], c["state_label"]), (200, "cancelled", "已撤销"), f"cancel queued: {c}")
    st, resp, b = staff.post(f"/api/v1/devices/{wid}/commands/{made[3]['id']}/cancel")
    check(is_problem(st, resp, b, 409, "state"), f"cancel twice: {st} {b}")
    check("“已撤销”" in b.get("detail", "") + b.get("title", ""), f"cancel twice names the state's label: {b}")
    time.sleep(1.2)
    check_eq(command(wid, made[0]["id"])["state"], "queued", "still queued: the device is offline")
    # the watch connects: the three live commands arrive in order, the cancelled one never
    s = socket.create_connection(("127.0.0.1", PORTS["watch"]), timeout=5)
    s.sendall(wframe("6600000001", "LK,100,3,80") + wframe("6600000001", "LK,350,3,80"))
    frames = recv_frames(s, 5, timeout=6)
    check_eq(frames[:2], [b"[3G*6600000001*0002*LK]"] * 2, "keep-alives answered")
    frames = frames[1:]
    check_eq(len(frames), 4, f"three commands sent: {frames}")
    check(frames[1].startswith(b"[SG*6600000001*") and b"*SOS,13912345678,,+8613800001111]" in frames[1],
          f"SOS numbers with the real phones: {frames[1]}")
    check(frames[2].endswith(b"*UPLOAD,300]"), f"upload interval: {frames[2]}")
    check(b"*MESSAGE," in frames[3], f"message: {frames[3]}")
    wait_for(lambda: command(wid, made[1]["id"])["state"] == "sent", "marked sent")
    c = command(wid, made[1]["id"])
    check_eq(c["wire"], "UPLOAD", "the keyword sent is recorded")
    check(c["sent_at"] is not None and c["done_at"] is None, f"sent, not done: {c}")
    # the watch echoes two of them
    s.sendall(wframe("6600000001", "UPLOAD") + wframe("6600000001", "SOS"))
    wait_for(lambda: command(wid, made[1]["id"])["state"] == "done", "UPLOAD confirmed")
    wait_for(lambda: command(wid, made[0]["id"])["state"] == "done", "SOS numbers confirmed")
    check_eq(command(wid, made[2]["id"])["state"], "sent", "the message is still waiting for its echo")
    check_eq(command(wid, made[3]["id"])["state"], "cancelled", "the cancelled command stayed cancelled")
    # an echo of a keyword nobody sent changes nothing
    s.sendall(wframe("6600000001", "FIND"))
    time.sleep(0.5)
    check_eq(command(wid, made[2]["id"])["state"], "sent", "unrelated echo")
    # a command queued while online goes out within a poll
    st, _, c = staff.post(f"/api/v1/devices/{wid}/commands", {"kind": "locate"})
    check_eq(st, 201, "locate while online")
    frames = recv_frames(s, 1, timeout=5)
    check_eq(len(frames), 1, "locate sent while online")
    check(frames and frames[0].endswith(b"*CR]"), f"CR: {frames}")
    st, resp, b = staff.post(f"/api/v1/devices/{wid}/commands/{c['id']}/cancel")
    wait_for(lambda: command(wid, c["id"])["state"] == "sent", "locate marked sent")
    st, resp, b = staff.post(f"/api/v1/devices/{wid}/commands/{c['id']}/cancel")
    check(is_problem(st, resp, b, 409, "state"), f"a sent command cannot be cancelled: {st} {b}")
    s.close()
    # audit: queueing is recorded without the phone numbers
    st, _, au = admin.get("/api/v1/audit?object_type=device_command")
    if st == 200:
        check(any(x.get("object_id") == made[0]["id"] for x in au.get("items", [])), "audited")
        check("13912345678" not in str(au), "no clear phone in the audit log")


def test_iw_serial_reply():
    staff, iid = ctx["staff"], ctx["iw"]["id"]
    st, _, c = staff.post(f"/api/v1/devices/{iid}/commands", {"kind": "hr_interval", "args": {"seconds": 600}})
    check_eq(st, 201, f"IW command: {c}")
    s = socket.create_connection(("127.0.0.1", PORTS["iw"]), timeout=5)
    s.sendall(b"IWAP00860000000000077,460001234567890,89860012345678901234#")
    frames = recv_frames(s, 2, timeout=6, end=b"#")
    check(frames and frames[0].startswith(b"IWBP00,"), f"login answered: {frames}")
    check_eq(len(frames), 2, f"command after login: {frames}")
    serial = c["id"] % 1000000
    check_eq(frames[1], f"IWBP86,860000000000077,{serial:06d},1,10#".encode(), "heart-rate interval frame")
    wait_for(lambda: command(iid, c["id"])["state"] == "sent", "IW sent")
    check_eq(command(iid, c["id"])["serial"], serial, "serial recorded")
    # an answer with another serial does not close it; the right one does
    s.sendall(f"IWAP86,{(serial + 1) % 1000000:06d}#".encode())
    time.sleep(0.5)
    check_eq(command(iid, c["id"])["state"], "sent", "wrong serial")
    s.sendall(f"IWAP86,{serial:06d}#".encode())
    wait_for(lambda: command(iid, c["id"])["state"] == "done", "IW confirmed by serial")
    s.close()


def test_expiry():
    staff, wid = ctx["staff"], ctx["watch"]["id"]
    st, _, c = staff.post(f"/api/v1/devices/{wid}/commands", {"kind": "find", "expires_in_s": 60})
    check_eq(st, 201, "short-lived command")
    check(c["expires_at"] is not None, "expiry shown")
    # let it run out: move its expiry into the past through the database (the clock is real)
    if S.database is None:
        db = sqlite3.connect(f"{S.data}/nuanxin.db", timeout=10)
        db.execute("UPDATE device_commands SET expires_at = 1 WHERE id = ?", (c["id"],))
        db.commit()
        db.close()
    else:
        psql(S.database, f"UPDATE device_commands SET expires_at = 1 WHERE id = {c['id']}")
    # the ticker sweeps every 30 s
    wait_for(lambda: command(wid, c["id"])["state"] == "expired", "expired by the ticker", timeout=40)
    c = command(wid, c["id"])
    check(c["done_at"] is not None and c["result"], f"expiry recorded: {c}")


def test_stats_and_steps():
    staff, wid = ctx["staff"], ctx["watch"]["id"]
    st, _, s = staff.get("/api/v1/stats/devices")
    check_eq(st, 200, "device stats")
    check_eq(s["devices"], 2, "two registered devices in this community")
    check(s["online"] in (0, 1, 2) and s["open_alerts"] >= 0, f"stats: {s}")
    check("by_kind" in s and s["ack_ms_median"] is None, f"no acknowledged alert yet: {s}")
    st, _, s2 = ctx["g2"].get("/api/v1/stats/devices")
    check_eq((st, s2["devices"]), (200, 0), "another grid counts none of them")
    st, _, steps = staff.get(f"/api/v1/devices/{wid}/steps")
    check_eq(st, 200, "steps")
    check(len(steps["items"]) == 1 and steps["items"][0]["steps"] == 250, f"steps of today from the counter: {steps}")


def test_device_list_filters():
    staff = ctx["staff"]
    for i in range(3):  # three more watches of the same elder, for paging
        st, _, _ = staff.post("/api/v1/devices", {"imei": f"66000001{i:02d}", "protocol": "watch",
                                                  "resident_id": ctx["elder"]["id"]})
        check_eq(st, 201, "extra watch")
    st, _, p1 = staff.get("/api/v1/devices?limit=2")
    check_eq((st, len(p1["items"]), p1["total"]), (200, 2, 5), f"first page of five: {p1}")
    check(p1["next_cursor"] is not None, "a next page")
    st, _, p2 = staff.get(f"/api/v1/devices?limit=2&cursor={p1['next_cursor']}")
    st, _, p3 = staff.get(f"/api/v1/devices?limit=2&cursor={p2['next_cursor']}")
    ids = [d["id"] for d in p1["items"] + p2["items"] + p3["items"]]
    check_eq((len(ids), len(set(ids)), p3["next_cursor"]), (5, 5, None), "pages cover all once")
    st, _, q = staff.get("/api/v1/devices?q=66000001")
    check_eq(sorted(d["imei"] for d in q["items"]), ["6600000100", "6600000101", "6600000102"], "IMEI prefix")
    st, _, q = staff.get("/api/v1/devices?q=" + urllib.parse.quote("秀英"))
    check_eq(q["total"], 5, "part of the resident's name: her five wristbands")
    st, _, q = staff.get("/api/v1/devices?q=qxy")
    check_eq(q["total"], 5, "pinyin initials")
    st, _, q = staff.get("/api/v1/devices?q=" + urllib.parse.quote("100%"))
    check_eq(q["total"], 0, "a % is searched for, not a wildcard")
    st, _, q = staff.get("/api/v1/devices?low_battery=true")
    check_eq((st, q["total"]), (200, 0), "no battery reported at or below 20 %")
    st, resp, b = staff.get("/api/v1/devices?q=" + "x" * 41)
    check(is_problem(st, resp, b, 422, "q"), "search too long")
    st, resp, b = staff.get("/api/v1/devices?cursor=abc")
    check_eq(st, 422, "bad cursor")


def test_rules_defaults_and_reset():
    staff, rid = ctx["staff"], ctx["elder"]["id"]
    st, _, r = staff.get(f"/api/v1/residents/{rid}/alert-rules")
    check_eq((st, r["custom"], r["defaults"]["hr_max"], r["defaults"]["temp_min"]), (200, False, 120, 35.0),
             f"defaults returned: {r}")
    st, resp, b = staff.request("PUT", f"/api/v1/residents/{rid}/alert-rules", body={"hr_min": 130})
    check(is_problem(st, resp, b, 422, "hr_max"), f"a lower end above the default upper end: {st} {b}")
    st, resp, b = staff.request("PUT", f"/api/v1/residents/{rid}/alert-rules", body={"temp_min": 37, "temp_max": 36.5})
    check(is_problem(st, resp, b, 422, "temp_max"), f"temperature band upside down: {st} {b}")
    st, _, r = staff.request("PUT", f"/api/v1/residents/{rid}/alert-rules", body={"hr_min": 55, "hr_max": 110})
    check_eq((st, r["custom"], r["hr_min"]), (200, True, 55), "saved")
    st, _, r = staff.request("PUT", f"/api/v1/residents/{rid}/alert-rules", body={})
    check_eq((st, r["custom"], r["hr_min"]), (200, False, 50), f"reset to the defaults: {r}")


def test_alert_export():
    staff = ctx["staff"]
    s = socket.create_connection(("127.0.0.1", PORTS["watch"]), timeout=5)
    s.sendall(wframe("6600000001", "AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,"
                                   "00010000,1,255,460,0,25871,13042,140,0,12.0"))
    check_eq(len(recv_frames(s, 1)), 1, "SOS acknowledged")
    s.close()
    st, resp, body = staff.get("/api/v1/alerts/export?kind=sos")
    check_eq(st, 200, f"export: {st}")
    check(resp.getheader("Content-Type", "").startswith("application/vnd.openxmlformats"), "xlsx type")
    check(isinstance(body, bytes) and body[:2] == b"PK", "a zip (xlsx) file")
    check_eq(resp.getheader("X-Row-Count"), "1", "one SOS")
    import io
    import zipfile
    z = zipfile.ZipFile(io.BytesIO(body))
    strings = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else \
        z.read("xl/worksheets/sheet1.xml").decode()
    check("一键呼救" in strings or "SOS" in strings, "the kind in Chinese")
    check("钱秀英" in strings, "the resident")
    st, resp, body = staff.get("/api/v1/alerts/export?kind=fall")
    check_eq((st, resp.getheader("X-Row-Count")), (200, "0"), "no falls: an empty sheet")
    st, resp, b = staff.get("/api/v1/alerts/export?state=bogus")
    check(is_problem(st, resp, b, 422, "state"), "bad filter refused")
    st, _, b = ctx["g2"].get("/api/v1/alerts/export")
    check_eq((st, b[:2] if isinstance(b, bytes) else b), (200, b"PK"), "another grid: a file")
    st, _, au = admin.get("/api/v1/audit?object_type=alert")
    if st == 200:
        check(any(x.get("action") == "export" for x in au.get("items", [])), "the export is audited")
    st, _, lst = staff.get(f"/api/v1/alerts?community_id={ctx['comm']}&limit=1")
    check_eq((st, lst["total"], len(lst["items"])), (200, 1, 1), f"alerts of the community, with a total: {lst}")
    aid = lst["items"][0]["id"]
    st, _, lst = staff.get(f"/api/v1/alerts?community_id={ctx['comm']}&cursor={aid}")
    check_eq((lst["total"], lst["items"]), (1, []), "past the cursor: no items, the same total")
    st, _, lst = staff.get("/api/v1/alerts?community_id=999999")
    check_eq((lst["total"], lst["items"]), (0, []), "another community: none")
    st, resp, _ = staff.get("/api/v1/alerts/export?community_id=999999")
    check_eq(resp.getheader("X-Row-Count"), "0", "export of another community: empty")
    st, _, s1 = staff.get("/api/v1/stats/devices")
    st, _, s2 = staff.get(f"/api/v1/stats/devices?community_id={ctx['comm']}")
    st3, _, s3 = staff.get("/api/v1/stats/devices?community_id=999999")
    check_eq((s1["devices"], s2["devices"], s3["devices"]), (5, 5, 0), "stats of one community")
    check(s1["open_alerts"] >= 1, "the SOS is open")


def test_clean_stop():
    S.cleanup()  # a graceful stop with no sanitizer report, checked before the summary


try:
    run([test_setup, test_bad_commands_refused, test_queue_send_and_confirm_watch, test_iw_serial_reply, test_expiry,
         test_stats_and_steps, test_device_list_filters, test_rules_defaults_and_reset, test_alert_export,
         test_clean_stop])
finally:
    S.cleanup()
