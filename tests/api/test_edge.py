"""Black-box tests of the HTTP edge: the client address behind a trusted proxy (X-Forwarded-For read
only from a peer in trusted_proxies), and what one client cannot do to the others."""
import os
import re

from nxtest import (Server, check, check_eq, is_problem, run, run_cli)

# Two servers: one behind a "proxy" on 127.0.0.1 (every test client connects from there), one that
# trusts nobody.
P = Server(extra=["--trusted-proxies", "127.0.0.1, ::1"])
P.start()
padmin = P.login()
N = Server()
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
    ips = access_ips(P, "/healthz")
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


try:
    run([test_client_address_behind_trusted_proxy, test_client_address_without_trusted_proxy,
         test_bad_trusted_proxies_refused])
finally:
    P.cleanup()
    N.cleanup()
