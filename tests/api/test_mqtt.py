"""Black-box tests of the wristband gateway's MQTT input (issue 5): a real mosquitto started here on a
free loopback port (password file and ACL, no anonymous clients), nuanxin pointed at it with mqtt_url, and the
devices played by a minimal MQTT 3.1.1 client written below with sockets. Checked: a watch position
split across two messages is stored; an SOS without a GPS fix becomes an alert whose ack arrives on the
down topic with QoS 1 and only once the alert is stored (none while SQLite's write lock is held
elsewhere); an IW login and alarm; garbage, an oversized
payload, a frame over the cap, a bad topic and a frame naming another device than its topic store
nothing and do not disturb the next device; half frames are bounded in number and age; the password is never in the log or the config dump; the
broker restarting: nuanxin reconnects and the next frame is stored; a queued command published to a
device that has spoken and closed by its echo; a graceful stop. Skipped (77) only
when mosquitto is not installed (`make test` installs it)."""
import os
import queue
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")
if not MOSQUITTO or not MOSQUITTO_PASSWD:
    print("skipped: mosquitto is not installed (scripts/deps.sh test installs it)")
    sys.exit(77)

from nxtest import check, check_eq, PG, run, run_cli, Server, wframe  # noqa: E402 (after the skip)

PREFIX = "nxtest/band"
MQ_USER = "nuanxin"
MQ_PASS = "Mq-pass-91357"
DEV_USER = "band"
DEV_PASS = "Band-pass-24680"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Broker:
    """mosquitto in the foreground on a loopback port, from a generated config with a password file."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nxmqtt-")
        os.chmod(self.dir, 0o755)  # as root, mosquitto drops to its own user before reading the files
        self.port = free_port()
        pw = os.path.join(self.dir, "passwd")
        subprocess.run([MOSQUITTO_PASSWD, "-c", "-b", pw, MQ_USER, MQ_PASS], check=True, capture_output=True)
        subprocess.run([MOSQUITTO_PASSWD, "-b", pw, DEV_USER, DEV_PASS], check=True, capture_output=True)
        os.chmod(pw, 0o644)
        # nuanxin gets exactly the rights docs/operations.md asks for: read the up topics, write the
        # down topics; the test's device client may do anything under the prefix
        acl = os.path.join(self.dir, "acl")
        with open(acl, "w") as f:
            f.write(f"user {MQ_USER}\ntopic read {PREFIX}/+/+/up\ntopic write {PREFIX}/+/+/down\n\n"
                    f"user {DEV_USER}\ntopic readwrite {PREFIX}/#\n")
        os.chmod(acl, 0o644)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous false\npassword_file {pw}\n"
                    f"acl_file {acl}\npersistence false\nlog_dest stderr\n")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "mosquitto.log"), "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start: " + open(os.path.join(self.dir, "mosquitto.log")).read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _enc_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def _enc_len(n):
    out = b""
    while True:
        d = n % 128
        n //= 128
        out += bytes([d | (0x80 if n else 0)])
        if not n:
            return out


class Device:
    """A minimal MQTT 3.1.1 client: CONNECT, SUBSCRIBE, PUBLISH QoS 0/1, PUBACK both ways. Received
    PUBLISH packets land in a queue as (topic, payload, qos, arrival time)."""

    def __init__(self, port, client_id, user=DEV_USER, password=DEV_PASS):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.q = queue.Queue()
        self.acks = queue.Queue()
        self.pid = 0
        self.lock = threading.Lock()
        flags = 0x02 | 0x80 | 0x40  # clean session, user name, password
        var = _enc_str("MQTT") + bytes([4, flags]) + struct.pack("!H", 0)
        payload = _enc_str(client_id) + _enc_str(user) + _enc_str(password)
        self._send(0x10, var + payload)
        ptype, body = self._read_packet()
        if ptype != 0x20 or body[1] != 0:
            raise RuntimeError(f"CONNACK refused: {ptype:#x} {body!r}")
        self.alive = True
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _send(self, first, body):
        with self.lock:
            self.sock.sendall(bytes([first]) + _enc_len(len(body)) + body)

    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            part = self.sock.recv(n - len(buf))
            if not part:
                raise ConnectionError("broker closed the connection")
            buf += part
        return buf

    def _read_packet(self):
        first = self._read_exact(1)[0]
        n, mult = 0, 1
        while True:
            d = self._read_exact(1)[0]
            n += (d & 0x7F) * mult
            mult *= 128
            if not d & 0x80:
                break
        return first, self._read_exact(n)

    def _loop(self):
        self.sock.settimeout(None)
        try:
            while True:
                first, body = self._read_packet()
                kind = first & 0xF0
                if kind == 0x30:
                    qos = (first >> 1) & 3
                    tl = struct.unpack("!H", body[:2])[0]
                    topic = body[2:2 + tl].decode()
                    rest = body[2 + tl:]
                    if qos:
                        pid = rest[:2]
                        rest = rest[2:]
                        self._send(0x40, pid)
                    self.q.put((topic, rest, qos, time.time()))
                elif kind in (0x40, 0x90):
                    self.acks.put((kind, body))
        except (OSError, ConnectionError):
            pass
        self.alive = False

    def _next_pid(self):
        self.pid = self.pid % 65535 + 1
        return self.pid

    def subscribe(self, topic, qos=1):
        self._send(0x82, struct.pack("!H", self._next_pid()) + _enc_str(topic) + bytes([qos]))
        kind, body = self.acks.get(timeout=10)
        if kind != 0x90 or body[2] == 0x80:
            raise RuntimeError(f"SUBACK refused: {body!r}")

    def publish(self, topic, payload, qos=0, retain=False):
        var = _enc_str(topic)
        if qos:
            var += struct.pack("!H", self._next_pid())
        self._send(0x30 | (qos << 1) | (1 if retain else 0), var + payload)
        if qos:
            kind, _ = self.acks.get(timeout=10)
            if kind != 0x40:
                raise RuntimeError("no PUBACK")

    def expect(self, topic, timeout=5.0):
        """The next message on topic within timeout (others are kept aside), or None."""
        deadline = time.time() + timeout
        aside = []
        got = None
        while time.time() < deadline:
            try:
                m = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if m[0] == topic:
                got = m
                break
            aside.append(m)
        for m in aside:
            self.q.put(m)
        return got

    def drain(self):
        while not self.q.empty():
            self.q.get_nowait()

    def close(self):
        try:
            self._send(0xE0, b"")
        except OSError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()




def up(proto, dev):
    return f"{PREFIX}/{proto}/{dev}/up"


def down(proto, dev):
    return f"{PREFIX}/{proto}/{dev}/down"


B = Broker().start()
S = Server(extra=["--mqtt-url", f"mqtt://127.0.0.1:{B.port}", "--mqtt-topic-prefix", PREFIX,
                  "--mqtt-username", MQ_USER, "--log-level", "debug"])
# the password through the environment, as a deployment would (never on a command line)
S.start(env={**os.environ, "NUANXIN_MQTT_PASSWORD": MQ_PASS})
admin = S.login()
DEV = None
counter = [0]


def new_device():
    counter[0] += 1
    d = Device(B.port, f"nxtest-dev-{os.getpid()}-{counter[0]}")
    d.subscribe(f"{PREFIX}/+/+/down", 1)
    return d


def wait_ready(dev, timeout=45):
    """Publish a keep-alive until nuanxin answers it: nuanxin is connected and subscribed."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        dev.publish(up("watch", "5678900001"), wframe("5678900001", "LK"))
        m = dev.expect(down("watch", "5678900001"), timeout=0.5)
        if m:
            dev.drain()
            return True
    return False


def device_by_imei(imei):
    st, _, lst = admin.get("/api/v1/devices?limit=200")
    for d in lst.get("items", []):
        if d["imei"] == imei:
            return d
    return None


def wait_device(imei, pred=lambda d: True, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = device_by_imei(imei)
        if d and pred(d):
            return d
        time.sleep(0.1)
    return device_by_imei(imei)


def test_connect_and_keepalive():
    global DEV
    DEV = new_device()
    check(wait_ready(DEV), "nuanxin answers a keep-alive published to the broker")
    DEV.publish(up("watch", "5678900001"), wframe("5678900001", "LK,812,3,76"), qos=1)
    m = DEV.expect(down("watch", "5678900001"))
    check(m is not None and m[1] == b"[3G*5678900001*0002*LK]", f"LK reply on the down topic: {m}")
    d = wait_device("5678900001")
    check(d is not None, "the keep-alive's device is listed (seen)")
    check(d is not None and d["registered"] is False, f"an unregistered device waiting for binding: {d}")


def test_position_split_across_messages():
    dev = "5678900002"
    frame = wframe(dev, "UD,041126,081530,A,36.457400,N,116.298400,E,1.2,90.0,30.0,6,80,75,900,0,00000008")
    # two frames in one message, the second one split across two messages
    DEV.publish(up("watch", dev), wframe(dev, "LK") + frame[:40], qos=1)
    DEV.publish(up("watch", dev), frame[40:], qos=1)
    m = DEV.expect(down("watch", dev))
    check_eq(m and m[1], b"[3G*5678900002*0002*LK]", "LK answered")
    d = wait_device(dev, lambda d: d.get("last_fix") is not None)
    check(d is not None and d.get("last_fix") is not None, f"position stored {d}")
    if d and d.get("last_fix"):
        check(abs(d["last_fix"]["lat"] - 36.4574) < 1e-6 and abs(d["last_fix"]["lon"] - 116.2984) < 1e-6,
              f"coordinates {d['last_fix']}")
        check_eq(d["battery"], 75, "battery from the position")
        st, _, pos = admin.get(f"/api/v1/devices/{d['id']}/positions")
        check_eq(len(pos["items"]), 1, "exactly one position (no duplicate from the split)")
    check_eq(DEV.expect(down("watch", dev), timeout=0.5), None, "a position needs no reply")


def test_sos_without_fix_acked_after_commit():
    dev = "5678900003"
    st, _, before = admin.get("/api/v1/alerts?kind=sos")
    n0 = len(before["items"])
    DEV.publish(up("watch", dev), wframe(dev, "AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,"
                                              "00010000,1,255,460,0,25871,13042,140,0,12.0"), qos=1)
    m = DEV.expect(down("watch", dev), timeout=10)
    check(m is not None, "the SOS is acknowledged on the down topic")
    if m:
        check_eq(m[1], b"[3G*5678900003*0002*AL]", "ack bytes as over TCP")
        check_eq(m[2], 1, "the alarm ack is published with QoS 1")
    # the ack came after the commit: the alert is there at once, no waiting
    st, _, lst = admin.get("/api/v1/alerts?kind=sos")
    mine = [a for a in lst["items"] if a["imei"] == dev]
    check_eq(len(lst["items"]), n0 + 1, "one new SOS alert")
    check(len(mine) == 1 and mine[0]["fix"] is False and mine[0]["position"] is None and mine[0]["state"] == "open",
          f"an open SOS without a fix: {mine}")


def test_no_ack_before_commit():
    """SQLite: while another connection holds the database's write lock the alarm cannot commit, so no
    ack may arrive; once the lock is released the alarm commits and only then is acknowledged."""
    if PG:
        return
    import sqlite3
    dev = "5678900004"
    db = sqlite3.connect(os.path.join(S.data, "nuanxin.db"), timeout=10, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        DEV.publish(up("watch", dev), wframe(dev, "AL,041126,081530,V,0,N,0,E,0,0,0,0,88,64,1520,0,00010000"), qos=1)
        check_eq(DEV.expect(down("watch", dev), timeout=1.5), None, "no ack while the alert cannot be committed")
    finally:
        db.execute("ROLLBACK")
        db.close()
    m = DEV.expect(down("watch", dev), timeout=10)
    check_eq(m and m[1], b"[3G*5678900004*0002*AL]", "acknowledged once committed")
    st, _, lst = admin.get("/api/v1/alerts?kind=sos")
    check(any(a["imei"] == dev for a in lst["items"]), "the acknowledged alarm is stored")


def test_iw_login_and_alarm():
    imei = "353456789012399"
    DEV.publish(up("iw", imei), b"IWAP00353456789012399,89860000000000000000,460000000000000#", qos=1)
    m = DEV.expect(down("iw", imei))
    check(m is not None and m[1].startswith(b"IWBP00,") and m[1].endswith(b",8#"), f"login reply {m}")
    DEV.publish(up("iw", imei), b"IWAPHT,60,130,85#"
                b"IWAP10261126V0000.0000N00000.0000E000.0081530000.0006000008800102,460,0,9520,3671,01,zh-cn,00#",
                qos=1)
    m1 = DEV.expect(down("iw", imei))
    m2 = DEV.expect(down("iw", imei), timeout=10)
    check_eq(m1 and m1[1], b"IWBPHT#", "health reading acked")
    check_eq(m2 and (m2[1], m2[2]), (b"IWBP10#", 1), "IW alarm acked with QoS 1")
    st, _, lst = admin.get("/api/v1/alerts?kind=sos")
    check(any(a["imei"] == imei and not a["fix"] for a in lst["items"]), "IW SOS without fix is an alert")
    d = wait_device(imei, lambda d: d.get("last_readings") is not None)
    check(d is not None and d["protocol"] == "iw", f"IW device listed {d}")
    check(d is not None and (d.get("last_readings") or {}).get("sys") == 130, f"IW reading stored {d}")
    # the topic vouches for the device: a heartbeat from another IMEI needs no login on MQTT
    DEV.publish(up("iw", "353456789012388"), b"IWAP03,06000908000102,5555,30#", qos=1)
    m = DEV.expect(down("iw", "353456789012388"))
    check_eq(m and m[1], b"IWBP03#", "IW heartbeat answered by topic")
    check(wait_device("353456789012388") is not None, "IW device from its topic listed")


def test_bad_input_stores_nothing():
    n_dev = len(admin.get("/api/v1/devices?limit=200")[2]["items"])
    n_alert = len(admin.get("/api/v1/alerts?limit=200")[2]["items"])
    # garbage
    DEV.publish(up("watch", "5678900010"), b"\x00\xff\xfe garbage ] [ not a frame", qos=1)
    # an oversized payload (over 4 x 32 KiB) that holds good frames: dropped whole
    big = wframe("5678900011", "LK") + wframe("5678900011", "AL,041126,081530,V,0,N,0,E,0,0,0,0,88,64,1,0,00010000")
    DEV.publish(up("watch", "5678900011"), big + b" " * (140 * 1024), qos=1)
    # a frame over the frame cap (40 KB without a closing bracket), then its topic is clean again
    DEV.publish(up("watch", "5678900012"), b"[3G*5678900012*0002*LK," + b"x" * 40000, qos=1)
    # a bad topic: unknown protocol, letters in the id, wrong direction, extra level
    DEV.publish(f"{PREFIX}/gps/5678900013/up", wframe("5678900013", "LK"), qos=1)
    DEV.publish(f"{PREFIX}/watch/56789000ab/up", wframe("56789000ab", "LK"), qos=1)
    DEV.publish(f"{PREFIX}/watch/5678900014/up/x", wframe("5678900014", "LK"), qos=1)
    # a frame whose id is not its topic's: nothing stored for either, no reply
    DEV.publish(up("watch", "5678900015"), wframe("5678900016", "LK") + wframe("5678900016", "AL,041126,081530,V,0,N,0,"
                                                                             "E,0,0,0,0,88,64,1,0,00010000"), qos=1)
    # an IW login naming another IMEI than the topic
    DEV.publish(up("iw", "353456789012377"), b"IWAP00353456789012366#", qos=1)
    # the next good frame from another device is served
    DEV.publish(up("watch", "5678900017"), wframe("5678900017", "LK"), qos=1)
    m = DEV.expect(down("watch", "5678900017"))
    check_eq(m and m[1], b"[3G*5678900017*0002*LK]", "another device is still served")
    # the topic whose frame was too long is served again afterwards
    DEV.publish(up("watch", "5678900012"), wframe("5678900012", "LK"), qos=1)
    m = DEV.expect(down("watch", "5678900012"))
    check_eq(m and m[1], b"[3G*5678900012*0002*LK]", "the over-cap topic starts clean")
    check(wait_device("5678900017") is not None, "good device stored")
    time.sleep(0.5)
    imeis = {d["imei"] for d in admin.get("/api/v1/devices?limit=200")[2]["items"]}
    for bad in ("5678900010", "5678900011", "5678900013", "56789000ab", "5678900014", "5678900015", "5678900016",
                "353456789012377", "353456789012366"):
        check(bad not in imeis, f"nothing stored for {bad}")
    check_eq(len(imeis), n_dev + 2, "only the two good devices were added")
    check_eq(len(admin.get("/api/v1/alerts?limit=200")[2]["items"]), n_alert, "no alert from bad input")
    for t in ("5678900010", "5678900011", "5678900015", "5678900016"):
        check_eq(DEV.expect(down("watch", t), timeout=0.2), None, f"no reply to {t}")
    check_eq(DEV.expect(down("iw", "353456789012377"), timeout=0.2), None, "no reply to the mismatched login")


def test_password_never_logged():
    log = open(os.path.join(S.data, "server.log"), "rb").read().decode(errors="replace")
    check("mqtt.connected" in log, "the connection is logged")
    check(MQ_PASS not in log, "the MQTT password is not in the log")
    p = run_cli(S.data, "config", "--mqtt-password", MQ_PASS, check_rc=False)
    check("mqtt_password = <redacted>" in p.stdout and MQ_PASS not in p.stdout, f"config dump redacts it: {p.stdout}")
    p = run_cli(S.data, "serve", "--listen", "127.0.0.1:0", "--watch-listen", "off", "--iw-listen", "off", "--web-root", "",
                "--mqtt-url", "mqtt://u:p@127.0.0.1:1", check_rc=False)
    check(p.returncode != 0 and "mqtt_password" in p.stderr, f"a password in the URL is refused: {p.stderr}")


def test_broker_restart():
    global DEV
    DEV.close()
    B.stop()
    time.sleep(1.5)
    B.start()
    DEV = new_device()
    check(wait_ready(DEV, timeout=60), "nuanxin reconnected and subscribed again")
    dev = "5678900020"
    DEV.publish(up("watch", dev), wframe(dev, "UD,041126,091530,A,39.900000,N,116.400000,E,0,0,0,6,80,70,10,0,00000008"),
                qos=1)
    d = wait_device(dev, lambda d: d.get("last_fix") is not None)
    check(d is not None and d.get("last_fix") is not None, f"a frame after the restart is stored {d}")
    log = open(os.path.join(S.data, "server.log"), "rb").read().decode(errors="replace")
    check("mqtt.connection_lost" in log, "the lost connection is logged")
    check(log.count("mqtt.connected") >= 2, "the reconnection is logged")


def test_half_frames_bounded():
    """Half frames are kept per topic up to mqtt_max_topics (the oldest is dropped) and for at most
    gw_idle_timeout_s; a dropped half frame's rest is garbage, other devices are served."""
    global DEV
    S.stop()
    S.extra += ["--mqtt-max-topics", "2", "--gw-idle-timeout-s", "5"]
    S.start(env={**os.environ, "NUANXIN_MQTT_PASSWORD": MQ_PASS})
    DEV.close()
    DEV = new_device()
    check(wait_ready(DEV), "ready after the restart")
    a, b, c, d, e = ("567890003%d" % i for i in range(1, 6))
    for dev in (a, b, c):
        DEV.publish(up("watch", dev), f"[3G*{dev}*0002*".encode(), qos=1)
    for dev in (b, c, a):
        DEV.publish(up("watch", dev), b"LK]", qos=1)
    check_eq(DEV.expect(down("watch", b)) and True, True, "second half frame completed")
    check_eq(DEV.expect(down("watch", c)) and True, True, "third half frame completed")
    check_eq(DEV.expect(down("watch", a), timeout=0.5), None, "the oldest half frame was dropped at the cap")
    DEV.publish(up("watch", d), f"[3G*{d}*0002*".encode(), qos=1)
    time.sleep(6)
    DEV.publish(up("watch", e), wframe(e, "LK"), qos=1)
    check_eq(DEV.expect(down("watch", e)) and True, True, "another device served")
    DEV.publish(up("watch", d), b"LK]", qos=1)
    check_eq(DEV.expect(down("watch", d), timeout=0.5), None, "an idle half frame was dropped")
    DEV.publish(up("watch", d), wframe(d, "LK"), qos=1)
    check_eq(DEV.expect(down("watch", d)) and True, True, "that device's next whole frame is served")


def test_commands_over_mqtt():
    """A command queued for a device behind the broker is published on its down topic (QoS 1) once the
    device has spoken, and the device's echo on the up topic closes it; a device silent on MQTT gets
    nothing and its command stays queued."""
    dev = "5678900021"
    st, _, d = admin.post("/api/v1/devices", {"imei": dev, "protocol": "watch"})
    check_eq(st, 201, f"register {d}")
    st, _, c = admin.post(f"/api/v1/devices/{d['id']}/commands", {"kind": "upload_interval", "args": {"seconds": 120}})
    check_eq((st, c["state"]), (201, "queued"), f"queued: {c}")
    DEV.drain()
    time.sleep(1.2)
    check_eq(DEV.expect(down("watch", dev), timeout=0.3), None, "nothing sent before the device speaks")
    DEV.publish(up("watch", dev), wframe(dev, "LK,10,3,70", mf="CS"), qos=1)
    got = []
    deadline = time.time() + 6
    while time.time() < deadline and len(got) < 2:
        m = DEV.expect(down("watch", dev), timeout=0.5)
        if m:
            got.append(m)
    check_eq([m[1] for m in got], [b"[CS*5678900021*0002*LK]", b"[CS*5678900021*000a*UPLOAD,120]"],
             "keep-alive answered, then the command with the device's manufacturer code")
    check(len(got) == 2 and got[1][2] == 1, f"the command is published with QoS 1: {got}")

    def state():
        items = admin.get(f"/api/v1/devices/{d['id']}/commands")[2]["items"]
        return items[0]["state"] if items else None
    deadline = time.time() + 5
    while time.time() < deadline and state() != "sent":
        time.sleep(0.1)
    check_eq(state(), "sent", "marked sent")
    DEV.publish(up("watch", dev), wframe(dev, "UPLOAD", mf="CS"), qos=1)
    deadline = time.time() + 5
    while time.time() < deadline and state() != "done":
        time.sleep(0.1)
    check_eq(state(), "done", "the echo closes it")


def test_graceful_stop():
    DEV.close()
    t0 = time.time()
    S.stop()
    check(time.time() - t0 < 10, "stops promptly")
    log = open(os.path.join(S.data, "server.log"), "rb").read().decode(errors="replace")
    check("mqtt.stopped" in log, "the MQTT input stopped")

def test_out_of_range_health_answered():
    """Black-box run (issue 21): a health frame with out-of-range values is answered as the protocol
    requires, over MQTT as over TCP, and nothing of it is stored."""
    dev = "5678900002"
    d = wait_device(dev)
    before = len(admin.get(f"/api/v1/devices/{d['id']}/readings")[2]["items"]) if d else 0
    DEV.drain()
    DEV.publish(up("watch", dev), wframe(dev, "bphrt,400,96,104,,,,"), qos=1)
    m = DEV.expect(down("watch", dev))
    check_eq(m and m[1], wframe(dev, "bphrt"), "out-of-range bphrt answered")
    time.sleep(0.5)
    if d:
        check_eq(len(admin.get(f"/api/v1/devices/{d['id']}/readings")[2]["items"]), before, "nothing stored")


try:
    run([test_connect_and_keepalive, test_position_split_across_messages, test_sos_without_fix_acked_after_commit,
         test_no_ack_before_commit, test_iw_login_and_alarm, test_bad_input_stores_nothing, test_out_of_range_health_answered,
         test_commands_over_mqtt, test_password_never_logged, test_broker_restart, test_half_frames_bounded, test_graceful_stop])
finally:
    try:
        S.cleanup()
    finally:
        B.cleanup()
