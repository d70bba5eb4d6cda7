"""nxtest — the harness of the black-box API tests.

Each test module starts its own nuanxin: a fresh data directory (`nuanxin init`), a server on a free
loopback port (`--listen 127.0.0.1:0`, the port read from the server's first stdout line), and talks
to it over HTTP like any client. Nothing here knows nuanxin's internals. Checks count; the run ends
with the plain "N passed, N failed" line and a non-zero exit when anything failed.

Backends: with NX_API_BACKEND=postgres (the api.pg.* ctest entries) every Server gets a fresh
PostgreSQL database (CREATE DATABASE on the cluster of NX_TEST_PG, dropped at cleanup) named in its
data directory's nuanxin.conf; without NX_TEST_PG those runs exit 77 (ctest: skipped). Tests that look
at the database itself use Server.db_bytes() and Server.integrity_ok(), which work on both.
"""
import atexit
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

# Every server and CLI run of the suites hashes new passwords at libsodium's minimum cost (src/cli/app.c;
# never on a real box). NX_TEST_HASH_COST=0 runs a suite at the real cost.
os.environ.setdefault("NX_TEST_HASH_COST", "1")
BIN = os.environ.get("NUANXIN_BIN") or os.path.join(os.path.dirname(__file__), "../../build/nuanxin")
PASSED = 0
FAILED = 0
PG_URL = None
if os.environ.get("NX_API_BACKEND") == "postgres":
    PG_URL = os.environ.get("NX_TEST_PG")
    if not PG_URL:
        print("skipped: NX_TEST_PG is not set (make test starts a throw-away PostgreSQL)")
        sys.exit(77)
PG = PG_URL is not None
_dbseq = [0]


def pg_url_for(base, dbname):
    """The URL of database dbname on the cluster of base (a postgres:// URL)."""
    head, _, tail = base.partition("://")
    hostpart = tail.split("/", 1)[0]
    query = tail.split("?", 1)[1] if "?" in tail else ""
    return f"{head}://{hostpart}/{dbname}" + (f"?{query}" if query else "")


def psql(url, sql, capture=False):
    p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"psql failed: {p.stderr}")
    return p.stdout


def pg_create_db(base=None):
    """A fresh database on the test cluster; returns its URL."""
    base = base or PG_URL
    _dbseq[0] += 1
    mod = re.sub(r"[^a-z0-9_]", "_", os.path.splitext(os.path.basename(sys.argv[0]))[0].lower())[:30]
    name = f"nxapi_{mod}_{os.getpid()}_{_dbseq[0]}"
    psql(base, f'DROP DATABASE IF EXISTS "{name}"')
    psql(base, f'CREATE DATABASE "{name}"')
    return pg_url_for(base, name)


def pg_drop_db(url, base=None):
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    try:
        psql(base or PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as exc:  # best effort: the cluster is thrown away anyway
        print(f"note: could not drop {name}: {exc}", file=sys.stderr)


def check(cond, what):
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        frame = traceback.extract_stack()[-2]
        print(f"FAIL {frame.filename}:{frame.lineno}: {what}", file=sys.stderr)
    return cond


def check_eq(got, want, what):
    return check(got == want, f"{what}: got {got!r}, want {want!r}")


# Servers started and not yet stopped. Most files stop theirs in a `finally` after run(), which is
# after done() has printed the summary and chosen the exit code: the checks of a graceful stop (exit 0,
# no sanitizer report) would count for nothing. done() therefore cleans up every server still running
# first, so that those checks count; the exit handler kills what a file that never reached done() left.
# A server is also started under `setpriv --pdeathsig TERM`: when ctest kills a test that ran out of
# time, the kernel stops its servers instead of leaving them running for ever.
_LIVE = {}
_PDEATH = ["setpriv", "--pdeathsig", "TERM"] if shutil.which("setpriv") else []


def _kill_live():
    for srv in list(_LIVE):
        proc = srv.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()
        _LIVE.pop(srv, None)


atexit.register(_kill_live)


def done():
    for srv in list(_LIVE):
        srv.cleanup()
    _kill_live()
    print(f"{PASSED} passed, {FAILED} failed")
    sys.exit(1 if FAILED or not PASSED else 0)


def run_cli(data, *args, stdin=None, check_rc=True):
    p = subprocess.run([BIN, "--data", data, *args], input=stdin, capture_output=True, text=True, timeout=300)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"nuanxin {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


class Server:
    """A nuanxin serve process on its own data directory."""

    def __init__(self, data=None, extra=(), demo=False, init=True, database=None):
        """database: a postgres:// URL to use (several servers on one database); by default a fresh
        database when the run is on PostgreSQL, else the SQLite file in the data directory."""
        self.own_dir = data is None
        self.data = data or tempfile.mkdtemp(prefix="nxapi-")
        self.extra = list(extra)
        self.proc = None
        self.port = None
        self.admin_password = None
        self.own_db = False
        self.database = database
        conf = os.path.join(self.data, "nuanxin.conf")
        # A data directory the test made itself keeps whatever database it was initialised with.
        if self.database is None and PG and self.own_dir and not os.path.exists(conf):
            self.database = pg_create_db()
            self.own_db = True
        if self.database and not os.path.exists(conf):
            with open(conf, "w") as f:
                f.write(f"database = {self.database}\n")
        if self.database is None and os.path.exists(conf):
            m = re.search(r"^database = (\S+)", open(conf).read(), re.M)
            self.database = m.group(1) if m else None
        marker = "nuanxin.key" if self.database else "nuanxin.db"
        if init and not os.path.exists(os.path.join(self.data, marker)):
            out = run_cli(self.data, "init").stdout
            m = re.search(r"初始密码[^：]*：(\S+)", out)
            self.admin_password = m.group(1) if m else None
            if demo:
                run_cli(self.data, "demo", "--residents", str(demo if isinstance(demo, int) else 400))

    def start(self, env=None):
        self.log = open(os.path.join(self.data, "server.log"), "ab")
        # the parent-death signal belongs to the thread that starts the process: only the main one
        pdeath = _PDEATH if threading.current_thread() is threading.main_thread() else []
        self.proc = subprocess.Popen(
            [*pdeath, BIN, "--data", self.data, "serve", "--listen", "127.0.0.1:0", "--web-root", "",
             # the wristband gateway on free ports too (tests run in parallel); see gateway_ports()
             "--watch-listen", "127.0.0.1:0", "--iw-listen", "127.0.0.1:0", *self.extra],
            stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"listening on http://[^:]+:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("server did not start: " + line + self.tail_log())
        self.port = int(m.group(1))
        _LIVE[self] = True
        return self

    def gateway_ports(self):
        """The wristband gateway's ports ({'watch': …, 'iw': …}), from the lines serve prints after
        the HTTP one. Read once per start."""
        if getattr(self, "_gw", None) is None or self._gw_proc is not self.proc:
            ports = {}
            while len(ports) < 2:
                line = self.proc.stdout.readline().decode()
                if not line:
                    raise RuntimeError("server ended before printing the gateway ports")
                if "nuanxin: gateway " in line:
                    ports[line.split()[2]] = int(line.rsplit(":", 1)[1])
            self._gw, self._gw_proc = ports, self.proc
        return self._gw

    def tail_log(self):
        try:
            with open(os.path.join(self.data, "server.log"), "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        """Stop the server. A graceful stop (SIGTERM) must exit 0 with no sanitizer report: under
        the ASan build that is where leaks and undefined behaviour show up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stacks = self.stacks()
                self.proc.kill()
                self.proc.wait()
                check(False, f"server did not stop within 30 s of SIGTERM; its threads:\n{stacks}\nits log:\n{self.tail_log()[-1500:]}")
            if sig == signal.SIGTERM:
                log = self.tail_log()
                check(self.proc.returncode == 0, f"server exit code {self.proc.returncode}: {log[-1500:]}")
                check("Sanitizer" not in log and "runtime error:" not in log, "sanitizer report: " + log[-3000:])
        self.proc = None
        _LIVE.pop(self, None)

    def stacks(self):
        """Every thread's stack of the running server (gdb, when there is one): what a server that does
        not stop is waiting for."""
        if not shutil.which("gdb"):
            return "(no gdb here to show them)"
        try:
            out = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-nx", "-ex", "thread apply all bt 12"],
                                 capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"(gdb failed: {e})"
        return "\n".join(l for l in out.splitlines() if l.startswith(("Thread ", "#")))[-6000:]

    def kill9(self):
        self.stop(signal.SIGKILL)

    def cleanup(self):
        """Stop the server (its graceful exit is checked) and remove what it owned; a second call does
        nothing. Call it before run()'s summary (run() exits): as the last test, or in a finally."""
        self.stop()
        if self.own_db and not os.environ.get("NX_KEEP"):
            pg_drop_db(self.database)
            self.own_db = False
        if self.own_dir and not os.environ.get("NX_KEEP"):
            shutil.rmtree(self.data, ignore_errors=True)
            self.own_dir = False

    def db_bytes(self):
        """Everything the database holds, as bytes: the SQLite files, or a plain pg_dump."""
        if self.database:
            return subprocess.run(["pg_dump", "--no-owner", "-d", self.database], capture_output=True,
                                  timeout=300, check=True).stdout
        raw = b""
        for suffix in ("", "-wal"):
            p = os.path.join(self.data, "nuanxin.db" + suffix)
            if os.path.exists(p):
                raw += open(p, "rb").read()
        return raw

    def integrity_ok(self):
        """SQLite: PRAGMA integrity_check says ok. PostgreSQL: amcheck is not assumed; the tables
        can be read end to end (a count of every user table)."""
        if self.database:
            tables = psql(self.database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").split()
            # one psql for all the tables (a psql per table took ~17 s for fifty of them)
            if tables:
                psql(self.database, "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables))
            return len(tables) > 0
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data, "nuanxin.db"))
        try:
            return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            db.close()

    def sql(self, query):
        """One value of a query on the server's database (either backend), as text; "" for no row."""
        if self.database:
            return psql(self.database, query).strip()
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data, "nuanxin.db"), timeout=10)
        try:
            row = db.execute(query).fetchone()
            return "" if row is None else str(row[0])
        finally:
            db.close()

    def sql_exec(self, query):
        """Run one statement on the server's database (either backend) and commit it."""
        if self.database:
            psql(self.database, query)
            return
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data, "nuanxin.db"), timeout=10)
        try:
            db.execute(query)
            db.commit()
        finally:
            db.close()

    def client(self):
        return Client(self.port)

    def login(self, username="admin", password=None):
        c = self.client()
        st, _, body = c.post("/api/v1/auth/login", {"username": username, "password": password or self.admin_password})
        if st != 200:
            raise RuntimeError(f"login {username} failed: {st} {body}")
        c.token = body["token"]
        if body.get("must_change_password") and username == "admin" and password is None:
            # The one-time password of `nuanxin init` opens only the password change (the server
            # enforces it): change it, as a person would, and log in with the new one from now on.
            new = "Nx" + secrets.token_hex(8) + "a1"
            st, _, body = c.post("/api/v1/me/password", {"old_password": self.admin_password, "new_password": new})
            if st != 204:
                raise RuntimeError(f"first password change of admin failed: {st} {body}")
            self.admin_password = new
        return c


class Client:
    def __init__(self, port):
        self.port = port
        self.token = None
        self.cookie = None
        self.csrf = None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, body=None, headers=None, raw=None, auth=True):
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
            if isinstance(data, str):
                data = data.encode()
            h.setdefault("Content-Type", "application/json")
        if auth and self.token:
            h.setdefault("Authorization", "Bearer " + self.token)
        if auth and self.cookie:
            h.setdefault("Cookie", self.cookie)
            if self.csrf:
                h.setdefault("X-CSRF-Token", self.csrf)
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=h)
                resp = self.conn.getresponse()
                payload = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        ctype = resp.getheader("Content-Type", "")
        parsed = payload
        if "json" in ctype and payload:
            parsed = json.loads(payload)
        return resp.status, resp, parsed

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)



def wframe(dev, content, mf="3G"):
    """A 3G-watch frame "[MF*ID*LLLL*content]" (LLLL: the content's length, 4 hex digits)."""
    body = content.encode()
    return b"[" + mf.encode() + b"*" + dev.encode() + b"*" + f"{len(body):04x}".encode() + b"*" + body + b"]"


def recv_frames(sock, want, timeout=5.0, end=b"]"):
    """Read from a device socket until want complete frames (ending in end) arrived or timeout;
    returns the list of frames."""
    import socket as _socket
    sock.settimeout(timeout)
    buf, frames = b"", []
    deadline = time.time() + timeout
    while len(frames) < want and time.time() < deadline:
        try:
            part = sock.recv(4096)
        except _socket.timeout:
            break
        if not part:
            break
        buf += part
        while end in buf:
            f, buf = buf.split(end, 1)
            frames.append(f + end)
    return frames

def oversized_post(port, path, token, size):
    """POST a body of size bytes the way a client that does not wait would: headers, then body until
    the server answers or closes. Returns (status, body) of the server's answer."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n")
    s.sendall(head.encode())
    chunk = b"x" * 65536
    sent = 0
    try:
        while sent < size:
            s.sendall(chunk[: min(len(chunk), size - sent)])
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while b"\r\n\r\n" not in data or len(data) < 200:
            part = s.recv(65536)
            if not part:
                break
            data += part
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    return status, body, sent


def tiny_png(w=2, h=2):
    """A small valid PNG (the upload store walks its chunks and CRCs), for the upload tests."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def is_problem(status, resp, body, code, field=None):
    """A problem+json answer with the status, a Chinese title and (optionally) the field."""
    ok = status == code and resp.getheader("Content-Type", "").startswith("application/problem+json")
    ok = ok and isinstance(body, dict) and re.search(r"[\u4e00-\u9fff]", body.get("title", "")) is not None
    if field is not None:
        ok = ok and body.get("field") == field
    return ok


def check_enum_filter(client, path, name, words):
    """The one rule of a list's enumerated filter (modules/app_http.h app_query_enum, docs/module-template.md
    §5): absent keeps every row; each word of the vocabulary is accepted and keeps only rows with that value
    (together they keep every row listed); any other value — the empty text, a word in capitals, a word
    with a space, an unknown word — is 422 naming the parameter, with the whole vocabulary in the Chinese
    message. path must list every row on one page (a large enough limit)."""
    import urllib.parse
    sep = "&" if "?" in path else "?"
    st, _, every = client.get(path)
    check_eq(st, 200, f"{path} without {name}")
    every = {x["id"] for x in every.get("items", [])}
    union = set()
    for w in words:
        st, _, body = client.get(f"{path}{sep}{name}={w}")
        items = body.get("items", []) if isinstance(body, dict) else []
        check(st == 200 and all(x.get(name) == w for x in items), f"{path} {name}={w}: only {w} ({st})")
        union |= {x["id"] for x in items}
    check_eq(union, every, f"{path}: the vocabulary {words} covers every row")
    for bad in ("", "bogus", words[0].upper(), words[0] + " "):
        st, resp, body = client.get(f"{path}{sep}{name}={urllib.parse.quote(bad)}")
        check(is_problem(st, resp, body, 422, name) and all(w in body.get("detail", "") for w in words)
              and re.search(r"[\u4e00-\u9fff]", body.get("detail", "")) is not None,
              f"{path} {name}={bad!r} is 422 naming {name} ({st} {body})")


def check_flag_filter(client, path, name):
    """A list's yes/no filter read with app_query_enum(r, name, "0 1"), as docs/openapi.json gives it: "0"
    answers what no filter answers, "1" is 200, any other value — the empty text included — is 422 naming
    the parameter. path must list every row on one page (a large enough limit)."""
    sep = "&" if "?" in path else "?"
    every = client.get(path)[2]
    check_eq(client.get(f"{path}{sep}{name}=0")[2], every, f"{path} {name}=0: every row")
    st, _, body = client.get(f"{path}{sep}{name}=1")
    check_eq(st, 200, f"{path} {name}=1")
    for bad in ("yes", "true", "2", ""):
        st, resp, body = client.get(f"{path}{sep}{name}={bad}")
        check(is_problem(st, resp, body, 422, name), f"{path} {name}={bad!r} is 422 ({st} {body})")


def check_date_filter(client, path, name, day):
    """A list's optional date filter read with app_query_date (modules/app_http.h): a calendar day
    YYYY-MM-DD (day, looked up by the caller) is 200; the empty text, a month 13, a day without its
    zeros and a word are 422 naming the parameter with the Chinese message 日期格式应为 YYYY-MM-DD."""
    import urllib.parse
    sep = "&" if "?" in path else "?"
    st, _, body = client.get(f"{path}{sep}{name}={day}")
    check_eq(st, 200, f"{path} {name}={day}")
    y = day[:4]
    for bad in ("", f"{y}-13-01", f"{y}-1-1", "yesterday"):
        st, resp, body = client.get(f"{path}{sep}{name}={urllib.parse.quote(bad)}")
        check(is_problem(st, resp, body, 422, name) and "日期格式" in body.get("detail", body.get("title", "")),
              f"{path} {name}={bad!r} is 422 naming {name} ({st} {body})")


def run(tests):
    """Run test functions in order; an exception in one counts as a failure and the rest go on."""
    for t in tests:
        t0 = time.monotonic()
        try:
            t()
            print(f"ok   {t.__name__} ({time.monotonic() - t0:.1f} s)", file=sys.stderr)
        except Exception:
            check(False, f"{t.__name__} raised:\n{traceback.format_exc()}")
    done()


def id_check_digit(first17):
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    s = sum(int(c) * w[i] for i, c in enumerate(first17))
    return "10X98765432"[s % 11]


def make_id(region, birth, seq):
    """A valid fictional ID number: region (6 digits), birth YYYYMMDD, seq (3 digits; odd = male)."""
    first = f"{region}{birth}{seq:03d}"
    return first + id_check_digit(first)


def unique_birth(n):
    """A birth date (YYYYMMDD) for the n-th generated resident: with make_id's sequence n % 1000, the ID
    numbers of n = 0, 1, 2 … never repeat (a new day every thousand)."""
    import datetime
    return (datetime.date(1940, 1, 1) + datetime.timedelta(days=n // 1000)).strftime("%Y%m%d")
