"""fake_wecom — a local stand-in for WeCom's application-message API: GET cgi-bin/gettoken
(corpid and corpsecret checked exactly; a token that lives expires_in seconds) and POST
cgi-bin/message/send?access_token=… (the token checked; touser, msgtype text, agentid and
text.content checked). The test sets `mode`: "expire" answers the next send 42001 once and
forgets the token (the sender must fetch a new one and send again), "throttle" answers 45009 once;
"html" (a body that is not JSON) and "unknown" (errcode 0 with the member in invaliduser) last
until the mode is changed; "" answers success. Runs in a thread."""
import json
import secrets
from urllib.parse import parse_qs, urlparse

from fake_http import FakeHTTP


class Fake(FakeHTTP):
    def __init__(self, corp_id, secret, agent_id):
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.tokens = set()
        self.token_fetches = 0
        self.bad_requests = 0
        self.sent = []  # (touser, content)
        self.mode = ""
        super().__init__()

    def handle_get(self, path, headers):
        return self.gettoken(urlparse(path))

    def handle_post(self, path, headers, body):
        return self.send(urlparse(path), body)

    @staticmethod
    def answer(**kw):
        return 200, json.dumps(kw).encode()

    def gettoken(self, u):
        q = parse_qs(u.query)
        if u.path != "/cgi-bin/gettoken" or q.get("corpid") != [self.corp_id] or q.get("corpsecret") != [self.secret]:
            with self.lock:
                self.bad_requests += 1
            return self.answer(errcode=40001, errmsg="invalid credential")
        tok = secrets.token_hex(16)
        with self.lock:
            self.tokens.add(tok)
            self.token_fetches += 1
        return self.answer(errcode=0, errmsg="ok", access_token=tok, expires_in=7200)

    def send(self, u, body):
        tok = parse_qs(u.query).get("access_token", [""])[0]
        with self.lock:
            mode = self.mode
            if mode in ("expire", "throttle"):  # once; "html" and "unknown" last until changed
                self.mode = ""
            if u.path != "/cgi-bin/message/send" or tok not in self.tokens:
                return self.answer(errcode=40014, errmsg="invalid access_token")
            if mode == "expire":
                self.tokens.discard(tok)
                return self.answer(errcode=42001, errmsg="access_token expired")
        m = json.loads(body)
        if m.get("msgtype") != "text" or m.get("agentid") != int(self.agent_id) or not m.get("text", {}).get("content"):
            with self.lock:
                self.bad_requests += 1
            return self.answer(errcode=40008, errmsg="invalid message type")
        if mode == "throttle":
            return self.answer(errcode=45009, errmsg="api freq out of limit")
        if mode == "html":
            return 502, b"<html>Bad Gateway</html>"
        if mode == "unknown":
            return self.answer(errcode=0, errmsg="ok", invaliduser=m["touser"], msgid="")
        with self.lock:
            self.sent.append((m["touser"], m["text"]["content"]))
            return self.answer(errcode=0, errmsg="ok", invaliduser="", msgid=f"msg-{len(self.sent)}")
