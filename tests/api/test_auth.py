"""Black-box tests of the login and the session edge (docs/security.md §3): throttling per typed
name and address, per name and per address with locks that double, an answer that never tells
whether a name exists, a Retry-After that is the real wait, failed-login audit rows without the
typed text, the attempt limit of /me/password, must_change_password enforced, and event streams
that end with their session and are capped per account.

Each scenario talks from its own loopback source address (127.0.0.X), so the address counters of
one scenario do not touch another, and the tests prove that one address's failures stay its own."""
import http.client
import json
import socket
import threading
import time

from nxtest import Server, check, check_eq, is_problem, run

S = Server()
S.start()
admin = S.login()
PW = "Auth2026pass"


def post(src, path, body, token=None, headers=None):
    """POST from source address src (127.0.0.X); returns (status, response, parsed body)."""
    c = http.client.HTTPConnection("127.0.0.1", S.port, timeout=60, source_address=(src, 0))
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = "Bearer " + token
    c.request("POST", path, body=json.dumps(body), headers=h)
    resp = c.getresponse()
    data = resp.read()
    c.close()
    parsed = json.loads(data) if data and "json" in resp.getheader("Content-Type", "") else data
    return resp.status, resp, parsed


def get(src, path, token):
    c = http.client.HTTPConnection("127.0.0.1", S.port, timeout=60, source_address=(src, 0))
    c.request("GET", path, headers={"Authorization": "Bearer " + token})
    resp = c.getresponse()
    data = resp.read()
    c.close()
    parsed = json.loads(data) if data and "json" in resp.getheader("Content-Type", "") else data
    return resp.status, resp, parsed


def login(src, username, password):
    return post(src, "/api/v1/auth/login", {"username": username, "password": password})


def make_user(name, role="admin", **extra):
    st, _, u = admin.post("/api/v1/users", {"username": name, "display_name": name, "password": PW,
                                            "role": role, **extra})
    check_eq(st, 201, f"create {name}: {u}")
    return u


def retry_after(resp):
    v = resp.getheader("Retry-After")
    return int(v) if v and v.isdigit() else None


def test_same_answer_for_every_refusal():
    make_user("alice")
    bob = make_user("bob")
    st, _, _ = admin.patch(f"/api/v1/users/{bob['id']}", {"disabled": True})
    check_eq(st, 200, "bob disabled")
    answers = [login("127.0.0.11", "nobody_here", "Whatever2026"),   # unknown name
               login("127.0.0.11", "alice", "Wrong2026pass"),          # wrong password
               login("127.0.0.11", "bob", PW)]                         # disabled, right password
    for st, resp, body in answers:
        check(is_problem(st, resp, body, 401), f"refusal is 401 problem+json ({st} {body})")
        check("还可尝试" not in json.dumps(body, ensure_ascii=False), f"no attempts-left hint: {body}")
    details = {(b["title"], b["detail"]) for _, _, b in answers}
    check_eq(len(details), 1, f"one message for unknown, wrong and disabled: {details}")


def test_lock_is_the_same_for_real_and_unknown_names_and_retry_after_is_real():
    make_user("carol")
    res, ends = {}, []
    for name in ("carol", "no_such_name"):
        for i in range(5):
            st, resp, body = login("127.0.0.12", name, f"Wrong2026pass{i}")
        res[name] = (st, resp, body)
        check(is_problem(st, resp, body, 429), f"5th failure for {name} is 429 ({st} {body})")
        ra = retry_after(resp)
        check(ra is not None and 28 <= ra <= 30, f"Retry-After is the lock's 30 s, not a fixed 60 ({ra})")
        ends.append(time.time() + (ra or 30))
    check_eq(res["carol"][2]["detail"], res["no_such_name"][2]["detail"], "a lock tells nothing about the name")
    st, resp, body = login("127.0.0.12", "carol", PW)
    check(is_problem(st, resp, body, 429), f"the right password is refused while slowed ({st})")
    ra = retry_after(resp)
    check(ra is not None and ra <= 30, f"Retry-After counts down ({ra})")
    # the lock of one name from one address does not reach the same name from another address
    st, _, body = login("127.0.0.13", "carol", PW)
    check_eq(st, 200, f"carol logs in from another address ({body})")
    # wait the announced times: then the same address may try again
    time.sleep(max(ends) - time.time() + 1)
    st, _, body = login("127.0.0.12", "carol", PW)
    check_eq(st, 200, f"after Retry-After the right password works ({body})")
    # and the next failure of an address that is still counted locks twice as long
    st, resp, body = login("127.0.0.12", "no_such_name", "Wrong2026again")
    ra = retry_after(resp)
    check(st == 429 and ra is not None and 58 <= ra <= 60, f"the second lock doubles to 60 s ({st} {ra})")


def test_one_address_does_not_lock_out_another():
    make_user("erin")
    for i in range(21):
        st, resp, body = login("127.0.0.15", f"guess{i}", f"Wrong2026pass{i}")
    check(is_problem(st, resp, body, 429), f"the guessing address is slowed after 20 failures ({st})")
    st, _, _ = login("127.0.0.15", "erin", PW)
    check_eq(st, 429, "even with a right password, from the slowed address")
    st, _, body = login("127.0.0.16", "erin", PW)
    check_eq(st, 200, f"another address logs in at once ({body})")


def test_behind_a_trusted_proxy_one_address_does_not_lock_out_another():
    """The documented nginx in front: every request comes from the proxy, the client is in
    X-Forwarded-For. Before, 20 bad logins locked the whole platform (the proxy's address)."""
    P = Server(extra=["--trusted-proxies", "127.0.0.1, ::1"])
    P.start()
    try:
        padmin = P.login()
        st, _, _ = padmin.post("/api/v1/users", {"username": "lena", "display_name": "lena", "password": PW,
                                                 "role": "admin"})
        check_eq(st, 201, "lena created behind the proxy")
        c = P.client()

        def via(client_ip, username, password):
            return c.post("/api/v1/auth/login", {"username": username, "password": password},
                          headers={"X-Forwarded-For": client_ip})
        for i in range(21):
            st, resp, body = via("198.51.100.50", f"guess{i}", f"Wrong2026pass{i}")
        check(is_problem(st, resp, body, 429), f"21 bad logins slow the guessing client ({st} {body})")
        st, _, _ = via("198.51.100.50", "lena", PW)
        check_eq(st, 429, "the guessing client waits even with a right password")
        st, _, body = via("198.51.100.51", "lena", PW)
        check_eq(st, 200, f"another client behind the same proxy logs in at once ({body})")
        st, _, body = c.post("/api/v1/auth/login", {"username": "lena", "password": PW})
        check_eq(st, 200, f"and so does the proxy's own address ({body})")
    finally:
        P.cleanup()


def test_a_stranger_cannot_keep_the_owner_out():
    make_user("frank")
    st, _, _ = login("127.0.0.99", "frank", PW)
    check_eq(st, 200, "frank's usual address")
    # a stranger spreads 24 guesses over 24 addresses: each address's own counter stays low, the
    # name-wide counter locks
    for i in range(24):
        st, resp, body = login(f"127.0.1.{i + 1}", "frank", f"Wrong2026pass{i}")
    check(is_problem(st, resp, body, 429), f"guessing at one name from many addresses is slowed ({st} {body})")
    st, _, _ = login("127.0.1.1", "frank", PW)
    check_eq(st, 429, "an address that guessed at frank waits, even with the right password")
    st, _, body = login("127.0.0.99", "frank", "Wrong2026typo")
    check_eq(st, 401, f"frank's known address is not slowed by the stranger, even after a typo ({body})")
    st, _, body = login("127.0.2.1", "frank", PW)
    check_eq(st, 200, f"nor is a new address's first try ({body})")
    st, _, body = login("127.0.0.99", "frank", PW)
    check_eq(st, 200, f"frank logs in from his usual address ({body})")


def test_failed_login_audit_keeps_no_typed_text():
    secret = "Hunter2-Secret-9"   # a password typed into the user-name field
    st, _, _ = login("127.0.0.17", secret, "x")
    check_eq(st, 401, "unknown name refused")
    st, _, _ = login("127.0.0.17", "alice", "Wrong2026pass")
    check_eq(st, 401, "wrong password refused")
    st, _, page = admin.get("/api/v1/audit?action=login_failed&limit=200")
    check_eq(st, 200, "audit read")
    text = json.dumps(page, ensure_ascii=False)
    check(secret not in text, "the typed text of an unknown name is not in the audit log")
    unknown = [e for e in page["items"] if (e.get("detail") or {}).get("reason") == "unknown_user"]
    check(unknown and all(not e.get("username") for e in unknown),
          f"an unknown name is recorded as such, without the text ({unknown[:2]})")
    check(any(e.get("username") == "alice" for e in page["items"]), "an existing account's name is kept")


def test_password_change_is_throttled():
    make_user("gina")
    st, _, body = login("127.0.0.18", "gina", PW)
    token = body["token"]
    for i in range(5):
        st, resp, body = post("127.0.0.18", "/api/v1/me/password",
                              {"old_password": f"Wrong2026pass{i}", "new_password": "Gina2027newpass"}, token)
        if i < 4:
            check(is_problem(st, resp, body, 422, "old_password") or is_problem(st, resp, body, 400, "old_password"),
                  f"wrong current password {i + 1} names the field ({st} {body})")
    check(is_problem(st, resp, body, 429), f"5 wrong current passwords slow the account ({st} {body})")
    ra = retry_after(resp)
    check(ra is not None and 28 <= ra <= 30, f"Retry-After on /me/password ({ra})")
    st, resp, body = post("127.0.0.18", "/api/v1/me/password",
                          {"old_password": PW, "new_password": "Gina2027newpass"}, token)
    check(is_problem(st, resp, body, 429), f"even the right current password waits ({st})")


def test_must_change_password_is_enforced():
    u = make_user("henry", must_change_password=True)
    st, _, body = login("127.0.0.19", "henry", PW)
    check(st == 200 and body["must_change_password"] is True, "login reports must_change_password")
    token = body["token"]
    for path in ("/api/v1/residents", "/api/v1/users", "/api/v1/events/stream", f"/api/v1/users/{u['id']}"):
        st, resp, b = get("127.0.0.19", path, token)
        check(is_problem(st, resp, b, 403) and "修改" in b.get("detail", ""),
              f"{path} is 403 until the password is changed ({st} {b})")
    st, resp, b = post("127.0.0.19", "/api/v1/streets", {"name": "不该建成"}, token)
    check(is_problem(st, resp, b, 403), f"writes are refused too ({st})")
    st, _, me = get("127.0.0.19", "/api/v1/me", token)
    check(st == 200 and me["must_change_password"] is True, f"/me answers ({st})")
    st, _, b = post("127.0.0.19", "/api/v1/me/password", {"old_password": PW, "new_password": "Pw2027-newSecret"},
                    token)
    check_eq(st, 204, f"password changed ({b})")
    st, _, b = get("127.0.0.19", "/api/v1/residents", token)
    check_eq(st, 200, f"after the change the account works ({b})")
    # logout stays reachable for such a session
    u2 = make_user("ivy", must_change_password=True)
    st, _, body = login("127.0.0.19", "ivy", PW)
    st, _, _ = post("127.0.0.19", "/api/v1/auth/logout", {}, body["token"])
    check_eq(st, 204, "logout works before the change")
    check(u2["must_change_password"] is True, "ivy created with must_change_password")


class Stream:
    """An event stream read on its own thread; ended is set when the server closes it."""

    def __init__(self, token):
        self.conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=120)
        self.conn.request("GET", "/api/v1/events/stream", headers={"Authorization": "Bearer " + token})
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self.loop, daemon=True).start()
        else:
            self.body = self.resp.read()

    def loop(self):
        try:
            while self.resp.readline():
                pass
        except Exception:
            pass
        self.ended.set()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread at once
        except OSError:
            pass
        self.conn.close()


def test_streams_end_with_their_session():
    make_user("jack")
    sessions = [login("127.0.0.20", "jack", PW)[2]["token"] for _ in range(3)]
    streams = [Stream(t) for t in sessions]
    check(all(s.status == 200 for s in streams), f"streams open ({[s.status for s in streams]})")
    time.sleep(0.5)
    check(not any(s.ended.is_set() for s in streams), "streams stay open while their sessions hold")
    # logout ends that session's stream, and only that one
    st, _, _ = post("127.0.0.20", "/api/v1/auth/logout", {}, sessions[0])
    check_eq(st, 204, "logout")
    check(streams[0].ended.wait(5), "the stream of a logged-out session ends")
    check(not streams[1].ended.is_set() and not streams[2].ended.is_set(), "other sessions' streams go on")
    # a password change ends the other sessions and their streams
    st, _, b = post("127.0.0.20", "/api/v1/me/password", {"old_password": PW, "new_password": "Pw2027-newSecret"},
                    sessions[1])
    check_eq(st, 204, f"password change ({b})")
    check(streams[2].ended.wait(5), "the stream of a session ended by a password change ends")
    # disabling the account ends the rest
    fresh = Stream(sessions[1])
    check_eq(fresh.status, 200, "the session that changed the password streams again")
    st, _, users = admin.get("/api/v1/users?q=jack")
    st, _, _ = admin.patch(f"/api/v1/users/{users['items'][0]['id']}", {"disabled": True})
    check_eq(st, 200, "jack disabled")
    check(fresh.ended.wait(5), "the stream of a disabled account ends")
    for s in streams + [fresh]:
        s.close()


def test_streams_are_capped_per_account():
    make_user("kate")
    token = login("127.0.0.21", "kate", PW)[2]["token"]
    streams = [Stream(token) for _ in range(8)]
    check(all(s.status == 200 for s in streams), f"8 streams open ({[s.status for s in streams]})")
    extra = Stream(token)
    check_eq(extra.status, 429, "the 9th stream of one account is refused")
    check(extra.resp.getheader("Retry-After"), "with Retry-After")
    other = Stream(admin.token)
    check_eq(other.status, 200, "another account still streams")
    streams[0].close()
    time.sleep(0.2)
    for s in streams[1:] + [other]:
        s.close()


try:
    run([test_same_answer_for_every_refusal,
         test_lock_is_the_same_for_real_and_unknown_names_and_retry_after_is_real,
         test_one_address_does_not_lock_out_another,
         test_behind_a_trusted_proxy_one_address_does_not_lock_out_another,
         test_a_stranger_cannot_keep_the_owner_out,
         test_failed_login_audit_keeps_no_typed_text, test_password_change_is_throttled,
         test_must_change_password_is_enforced, test_streams_end_with_their_session,
         test_streams_are_capped_per_account])
finally:
    S.cleanup()
