"""Black-box tests of the HTTP edge: the client address behind a trusted proxy (X-Forwarded-For read
only from a peer in trusted_proxies), and what one client cannot do to the others."""
import json
import os
import re
import resource
import socket
import time

from nxtest import (Server, check, check_eq, is_problem, make_id, run, run_cli)

# Two servers: one behind a "proxy" on 127.0.0.1 (every test client connects from there), one that
# trusts nobody.
P = Server(extra=["--trusted-proxies", "127.0.0.1, ::1"])
P.start()
padmin = P.login()
N = Server(extra=["--header-timeout-s", "2"])
N.start()
nadmin = N.login()


def access_ips(srv, path):
    """The ip= of every access-log line for path, in order."""
    log = open(os.path.join(srv.data, "server.log"), "rb").read().decode(errors="replace")
    return re.findall(r"http\.access .*path=" + re.escape(path) + r" .*ip=(\S+)", log)


def test_client_address_behind_trusted_proxy():
    c = P.client()
    st, _, _ = c.get("/healthz?who=1", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    check_eq(st, 200, "healthz through the proxy")
    st, _, _ = c.get("/healthz?who=2", headers={"X-Forwarded-For": "not-an-address"})
    st, _, _ = c.get("/healthz?who=3")
    for _ in range(40):  # the access line is written once the answer has gone out
        ips = access_ips(P, "/healthz")
        if len(ips) >= 3:
            break
        time.sleep(0.05)
    check_eq(ips[-3:], ["203.0.113.9", "127.0.0.1", "127.0.0.1"],
             "rightmost X-Forwarded-For entry; the peer for a malformed or absent header")
    # the audit row of a failed login records the client, not the proxy
    st, resp, body = c.post("/api/v1/auth/login", {"username": "admin", "password": "wrong-password-9"},
                            headers={"X-Forwarded-For": "203.0.113.77"})
    check(is_problem(st, resp, body, 401), f"wrong password is 401 ({st})")
    st, _, audit = padmin.get("/api/v1/audit?limit=200")
    check_eq(st, 200, "audit list")
    ips = [a.get("ip") for a in audit.get("items", [])]
    check("203.0.113.77" in ips, f"failed login audited with the client's address ({ips[:5]})")


def test_client_address_without_trusted_proxy():
    c = N.client()
    st, resp, body = c.post("/api/v1/auth/login", {"username": "admin", "password": "wrong-password-9"},
                            headers={"X-Forwarded-For": "203.0.113.78"})
    check(is_problem(st, resp, body, 401), f"wrong password is 401 ({st})")
    st, _, audit = nadmin.get("/api/v1/audit?limit=200")
    ips = [a.get("ip") for a in audit.get("items", [])]
    check("203.0.113.78" not in ips, "X-Forwarded-For from an untrusted peer is ignored")
    check("127.0.0.1" in ips, f"the peer is recorded ({ips[:5]})")


def test_bad_trusted_proxies_refused():
    p = run_cli(N.data, "serve", "--listen", "127.0.0.1:0", "--trusted-proxies", "10.0.0.1/8", check_rc=False)
    check(p.returncode != 0 and "trusted_proxies" in p.stderr, f"bad trusted_proxies refused: {p.stderr}")


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def half_open(port, source, n, first=b"GET /healthz HTTP/1.1\r\nHost: x\r\n"):
    """n connections from source that send the start of a request and never finish its headers."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(first)
        except OSError:
            pass
        socks.append(s)
    return socks


def healthz_time(port, source="127.0.0.1"):
    """Seconds until /healthz answers 200 from source (None when it does not within 5 s)."""
    t = time.time()
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            part = s.recv(4096)
            if not part:
                break
            data += part
        return time.time() - t if data.startswith(b"HTTP/1.1 200") else None
    except OSError:
        return None
    finally:
        s.close()


def test_one_address_cannot_fill_the_server():
    """1 100 connections from 127.0.0.2 that never finish their headers (more than max_connections,
    1 024) leave /healthz answering at once for 127.0.0.1."""
    raise_fd_limit(4096)
    socks = half_open(N.port, "127.0.0.2", 1100)
    try:
        took = healthz_time(N.port)
        check(took is not None and took < 2, f"/healthz answers for another address ({took})")
        log = open(os.path.join(N.data, "server.log"), "rb").read().decode(errors="replace")
        check("http.conn_refused reason=per_address_cap ip=127.0.0.2" in log, "the refusals are logged")
    finally:
        for s in socks:
            s.close()


def test_header_deadline():
    """A connection that trickles its headers (a line every 0.3 s, never idle) is closed after
    header_timeout_s (2 s here), not kept for ever."""
    s = socket.create_connection(("127.0.0.1", N.port), timeout=1)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    t = time.time()
    closed = None
    while time.time() - t < 8:
        try:
            s.sendall(b"X-Slow: 1\r\n")
            s.settimeout(0.3)
            if s.recv(4096) == b"":
                closed = time.time() - t
                break
        except socket.timeout:
            continue
        except OSError:
            closed = time.time() - t
            break
    s.close()
    check(closed is not None and 1.5 < closed < 5, f"closed after the header deadline ({closed})")
    # a connection that finished its headers in time is answered (keep-alive requests too)
    c = N.client()
    for _ in range(2):
        st, _, _ = c.get("/healthz")
        check_eq(st, 200, "a prompt client is answered")
    time.sleep(0.5)


def test_trusted_proxy_not_capped():
    """The proxy holds every client's connections: 100 unfinished ones from it (above the cap of 64)
    do not lock the proxy itself out."""
    socks = half_open(P.port, "127.0.0.1", 100)
    try:
        took = healthz_time(P.port)
        check(took is not None and took < 2, f"/healthz answers through the proxy ({took})")
    finally:
        for s in socks:
            s.close()


def raw(port, data, timeout=10):
    """Send data on a fresh connection; (status, content type, parsed JSON or None, seconds)."""
    t = time.time()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            part = s.recv(65536)
            if not part:
                break
            out += part
            head, sep, body = out.partition(b"\r\n\r\n")
            m = re.search(rb"Content-Length: (\d+)", head)
            if sep and m and len(body) >= int(m.group(1)):
                break
    except OSError:
        pass
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    m = re.search(rb"Content-Type: ([^\r]+)", head)
    try:
        j = json.loads(body)
    except ValueError:
        j = None
    return status, (m.group(1).decode() if m else ""), j, time.time() - t


def problem_ok(got, status):
    st, ctype, j, _ = got
    return (st == status and ctype == "application/problem+json" and isinstance(j, dict)
            and j.get("status") == status and re.search(r"[\u4e00-\u9fff]", j.get("title", "")) is not None)


def test_too_many_query_parameters():
    q = "&".join(f"p{i}=v" for i in range(1000))
    got = raw(N.port, f"GET /api/v1/residents?{q} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    check(problem_ok(got, 400) and got[3] < 2, f"1 000 query parameters: a prompt 400 problem ({got})")
    st, _, _ = nadmin.get("/api/v1/residents?" + "&".join(f"p{i}=v" for i in range(60)))
    check_eq(st, 200, "60 parameters are fine")


def test_library_errors_are_problems():
    got = raw(N.port, b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n")
    check(problem_ok(got, 505), f"505 as problem+json ({got})")
    got = raw(N.port, b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    check(problem_ok(got, 414), f"414 as problem+json ({got})")
    hs = "".join(f"X-H{i}: v\r\n" for i in range(5000))
    got = raw(N.port, f"GET /healthz HTTP/1.1\r\nHost: x\r\n{hs}\r\n".encode())
    check(problem_ok(got, 431), f"431 as problem+json ({got})")
    got = raw(N.port, b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    check(problem_ok(got, 400), f"400 as problem+json ({got})")


def test_header_limit():
    """max_header (16 KiB by default) holds the request line and headers: a 14 KiB header and a 7 KiB
    Cookie (libmicrohttpd keeps a second copy of it to parse the cookies; nginx refuses a header line
    over 8 KiB by default) are served; 20 KiB of headers are a clear 431; the server answers the next
    request."""
    got = raw(N.port, f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * (14 << 10)}\r\n\r\n".encode())
    check(got[0] == 200 and got[2] == {"status": "ok"}, f"a 14 KiB header is served ({got[:3]})")
    got = raw(N.port, f"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: other_app={'a' * (7 << 10)}\r\n\r\n".encode())
    check(got[0] == 200 and got[2] == {"status": "ok"}, f"a 7 KiB cookie is served ({got[:3]})")
    got = raw(N.port, f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * (12 << 10)}\r\n"
              f"X-More: {'b' * (8 << 10)}\r\n\r\n".encode())
    check(problem_ok(got, 431), f"20 KiB of headers: 431 as problem+json ({got})")
    st, _, _ = nadmin.get("/healthz")
    check_eq(st, 200, "server fine afterwards")


def test_chunked_body_over_cap_is_413():
    chunk = b" " * 65536
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(160)) + b"0\r\n\r\n"  # 10 MiB
    head = (f"POST /api/v1/residents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {nadmin.token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    got = raw(N.port, head + body, timeout=30)
    check(problem_ok(got, 413), f"a 10 MiB chunked body is answered 413 problem+json ({got[:3]})")
    st, _, _ = nadmin.get("/healthz")
    check_eq(st, 200, "server fine afterwards")


def test_nul_bytes_and_strict_ids():
    """NUL bytes are refused, never a truncated value; /residents/+1 and friends are not resident 1."""
    st, _, street = nadmin.post("/api/v1/streets", {"name": "边界街道"})
    st, _, comm = nadmin.post("/api/v1/communities", {"street_id": street["id"], "name": "边界社区"})
    st, _, res = nadmin.post("/api/v1/residents", {"name": "王边界", "id_number": make_id("110101", "19500101", 5),
                                                   "community_id": comm["id"]})
    check_eq(st, 201, "a resident")
    rid = res["id"]
    auth = f"Authorization: Bearer {nadmin.token}\r\n".encode()
    ok = raw(N.port, f"GET /api/v1/residents/{rid} HTTP/1.1\r\nHost: x\r\n".encode() + auth + b"\r\n")
    check_eq(ok[0], 200, "the resident by its id")
    for p in ["+", "-", "0", " ", "%20", "%09", "%2B"]:
        for path in [f"/api/v1/residents/{p}{rid}", f"/api/v1/residents/{rid}{p}" if p not in "+-0" else None]:
            if path is None:
                continue
            got = raw(N.port, f"GET {path.replace(' ', '%20')} HTTP/1.1\r\nHost: x\r\n".encode() + auth + b"\r\n")
            check(got[0] in (400, 404) and got[1] == "application/problem+json", f"{path!r} is not the resident ({got[:2]})")
    got = raw(N.port, f"GET /api/v1/residents/{rid}e0 HTTP/1.1\r\nHost: x\r\n".encode() + auth + b"\r\n")
    check_eq(got[0], 404, "1e0 is not an id")
    for path in [f"/api/v1/residents/{rid}%00", f"/api/v1/residents/{rid}%00junk"]:
        got = raw(N.port, f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + auth + b"\r\n")
        check(problem_ok(got, 400), f"{path}: 400 ({got[:2]})")
    got = raw(N.port, f"GET /api/v1/residents/{rid}\0junk HTTP/1.1\r\nHost: x\r\n".encode() + auth + b"\r\n")
    check(problem_ok(got, 400), f"a raw NUL in the path: 400, not the resident ({got[:2]})")
    # q=王%00zzz searched for 王
    got = raw(N.port, b"GET /api/v1/residents?q=%E7%8E%8B%00zzz HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n")
    check(problem_ok(got, 400), f"q=王%00zzz: 400 ({got[:3]})")
    # a token with \0junk appended was accepted as the token
    for tail in [b"\r\n", b"\r\nX-After: 1\r\n"]:
        got = raw(N.port, b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + nadmin.token.encode()
                  + b"\0junk" + tail + b"\r\n")
        check(got[0] in (400, 401) and got[1] == "application/problem+json", f"token\\0junk refused ({got[:3]})")
    got = raw(N.port, b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + nadmin.token.encode()
              + b"\r\n\r\n")
    check_eq(got[0], 200, "the token itself works")


def test_warning_beyond_loopback_without_cookie_secure():
    """Listening beyond loopback without cookie_secure is warned about at start (stderr, the log)."""
    w = Server()
    seen = 0
    try:
        for listen, secure, warned in [("0.0.0.0:0", "false", True), ("0.0.0.0:0", "true", False),
                                       ("127.0.0.1:0", "false", False)]:
            w.extra = ["--listen", listen, "--cookie-secure", secure]
            w.start()
            st, _, _ = w.client().get("/healthz")
            w.stop()
            n = open(os.path.join(w.data, "server.log"), "rb").read().decode(errors="replace").count("cookie_secure")
            check_eq(st, 200, f"serves on {listen}")
            check_eq(n > seen, warned, f"a warning for {listen} with cookie_secure={secure}")
            seen = n
    finally:
        w.cleanup()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_reference_deployment_nginx():
    """docs/nginx/nuanxin.conf, only ports and paths rewritten, with a throw-away certificate, in front
    of a nuanxin set up as its header says: HTTPS with HSTS, HTTP sent to HTTPS, the client's address
    reaching the audit log, the session cookie Secure."""
    import shutil
    import ssl
    import subprocess
    import tempfile
    import http.client
    if not shutil.which("nginx") or not shutil.which("openssl"):
        print("note: nginx or openssl missing, reference deployment not tried")
        return
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../docs/nginx/nuanxin.conf")
    conf = open(src).read()
    check("trusted_proxies = 127.0.0.1, ::1" in conf and "cookie_secure = true" in conf,
          "the file says how nuanxin is configured behind it")
    T = Server(extra=["--trusted-proxies", "127.0.0.1, ::1", "--cookie-secure", "true"])
    T.start()
    d = tempfile.mkdtemp(prefix="nxnginx-")
    ng = None
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                        "-days", "2", "-keyout", f"{d}/k.pem", "-out", f"{d}/c.pem"], check=True, capture_output=True)
        p80, p443 = free_port(), free_port()
        conf = conf.replace("/run/nuanxin-nginx.pid", f"{d}/nginx.pid")
        conf = conf.replace("/var/log/nginx/nuanxin-error.log", f"{d}/error.log").replace("/var/lib/nginx/", f"{d}/")
        conf = conf.replace("/etc/nginx/tls/nuanxin.crt", f"{d}/c.pem").replace("/etc/nginx/tls/nuanxin.key", f"{d}/k.pem")
        conf = conf.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{T.port};")
        conf = conf.replace("listen 80;", f"listen 127.0.0.1:{p80};").replace("listen 443 ssl", f"listen 127.0.0.1:{p443} ssl")
        conf = conf.replace("worker_processes auto;", "worker_processes 1;")
        open(f"{d}/nginx.conf", "w").write(conf)
        ng = subprocess.Popen(["nginx", "-c", f"{d}/nginx.conf", "-g", "daemon off;"], stderr=subprocess.PIPE)
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", p443), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        # the client connects from 127.0.0.2: that is the address nuanxin must record, not nginx's
        c = http.client.HTTPSConnection("127.0.0.1", p443, context=ctx, timeout=10, source_address=("127.0.0.2", 0))
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        check_eq(r.status, 200, "healthz over HTTPS")
        check_eq(r.headers.get_all("Strict-Transport-Security"), ["max-age=31536000"], "one HSTS header")
        c.request("POST", "/api/v1/auth/login", body=json.dumps({"username": "admin", "password": T.admin_password}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        check_eq(r.status, 200, "login through nginx")
        check("Secure" in (r.getheader("Set-Cookie") or ""), f"session cookie Secure: {r.getheader('Set-Cookie')}")
        c.request("POST", "/api/v1/auth/login", body=json.dumps({"username": "admin", "password": "wrong-password-7"}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        check_eq(r.status, 401, "wrong password through nginx")
        st, _, audit = T.login().get("/api/v1/audit?limit=50")
        ips = {a.get("ip") for a in audit.get("items", [])}
        check("127.0.0.2" in ips, f"the client's address is audited, not the proxy's ({ips})")
        h = http.client.HTTPConnection("127.0.0.1", p80, timeout=10)
        h.request("GET", "/residents")
        r = h.getresponse()
        r.read()
        check(r.status == 301 and (r.getheader("Location") or "").startswith("https://"), f"HTTP → HTTPS ({r.status})")
    finally:
        if ng:
            ng.terminate()
            ng.wait(timeout=10)
        T.cleanup()
        shutil.rmtree(d, ignore_errors=True)


try:
    run([test_client_address_behind_trusted_proxy, test_client_address_without_trusted_proxy,
         test_bad_trusted_proxies_refused, test_one_address_cannot_fill_the_server, test_header_deadline,
         test_trusted_proxy_not_capped, test_too_many_query_parameters, test_library_errors_are_problems,
         test_header_limit, test_chunked_body_over_cap_is_413, test_nul_bytes_and_strict_ids,
         test_warning_beyond_loopback_without_cookie_secure, test_reference_deployment_nginx])
finally:
    P.cleanup()
    N.cleanup()
