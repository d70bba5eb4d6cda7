"""fake_tencent — a local stand-in for Tencent Cloud SMS (SendSms) and voice messages (SendTtsVoice).

It VERIFIES every request's TC3-HMAC-SHA256 signature as the provider documents it ("Signature
v3": the canonical request over the content-type, host and x-tc-action headers and the SHA-256 of
the body; the string to sign with the credential scope date/service/tc3_request; the key derived
from "TC3" + SecretKey through the date, the service and "tc3_request") and answers by the called
number's last digit: 9 a refusal ({"Response": {"Error": ...}}), 8 a body that is not JSON, 7
throttling the first time and success after, anything else success. A request with a bad signature
gets AuthFailure.SignatureFailure and is counted in bad_signatures. PullSmsSendStatusByPhoneNumber
(the delivery reports, signed alike) answers the reports of the SMS sent to that number, as the
test sets receipts[number]: delivered (SUCCESS), failed (FAIL, MK:0001), pending (none yet, the
default) or html (a body that is not JSON). Voice calls get the CallId call-<n>; push_call_status
does what Tencent does when a call ends (语音通知状态通知): POST {"voiceprompt_callback": {...}} to the
callback address the operator configured. Runs in a thread of the test."""
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from fake_http import FakeHTTP


class Fake(FakeHTTP):
    def __init__(self, secret_id, secret_key):
        self.secret_id, self.secret_key = secret_id, secret_key
        self.requests = []          # (service, action, number, text) of accepted-signature requests
        self.bad_signatures = 0
        self.throttled = set()
        self.sent = []              # (SerialNo, number) of the SMS accepted
        self.receipts = {}          # number -> "delivered", "failed", "pending" (default) or "html"
        self.queries = []           # numbers whose delivery reports were pulled
        super().__init__()

    def expected_auth(self, service, host, action, ts, body, content_type):
        date = time.strftime("%Y-%m-%d", time.gmtime(int(ts)))
        canonical = "\n".join(["POST", "/", "", f"content-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n",
                               "content-type;host;x-tc-action", hashlib.sha256(body).hexdigest()])
        scope = f"{date}/{service}/tc3_request"
        to_sign = "\n".join(["TC3-HMAC-SHA256", str(ts), scope, hashlib.sha256(canonical.encode()).hexdigest()])

        def h(key, msg):
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()
        k = h(h(h(("TC3" + self.secret_key).encode(), date), service), "tc3_request")
        sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        return (f"TC3-HMAC-SHA256 Credential={self.secret_id}/{scope}, "
                f"SignedHeaders=content-type;host;x-tc-action, Signature={sig}")

    def handle_post(self, path, headers, body):
        service = "sms" if path.startswith("/sms") else "vms"
        action = headers.get("X-TC-Action", "")
        ts = headers.get("X-TC-Timestamp", "0")
        want = self.expected_auth(service, headers.get("Host", ""), action, ts, body, headers.get("Content-Type", ""))
        ok = (hmac.compare_digest(want, headers.get("Authorization", "")) and abs(time.time() - int(ts)) < 300
              and headers.get("X-TC-Version") == ("2021-01-11" if service == "sms" else "2020-09-02")
              and action in (("SendSms", "PullSmsSendStatusByPhoneNumber") if service == "sms" else ("SendTtsVoice",)))
        if not ok:
            with self.lock:
                self.bad_signatures += 1
            return 200, json.dumps({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure",
                                                           "Message": "signature"}, "RequestId": "x"}}).encode()
        req = json.loads(body)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self.report(req)
        number = req["PhoneNumberSet"][0] if service == "sms" else req["CalledNumber"]
        text = req["TemplateParamSet"][0]
        with self.lock:
            self.requests.append((service, action, number, text))
            n = len(self.requests)
            last = number[-1]
            if last == "7" and number not in self.throttled:
                self.throttled.add(number)
                return 200, json.dumps({"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"},
                                                     "RequestId": "x"}}).encode()
        if last == "9":
            return 200, json.dumps({"Response": {"Error": {"Code": "InvalidParameterValue.IncorrectPhoneNumber",
                                                           "Message": "bad number"}, "RequestId": "x"}}).encode()
        if last == "8":
            return 502, b"<html>Bad Gateway</html>"
        if service == "sms":
            with self.lock:
                self.sent.append((f"sn-{n}", number))
            return 200, json.dumps({"Response": {"SendStatusSet": [{"SerialNo": f"sn-{n}", "PhoneNumber": number,
                                                                    "Code": "Ok", "Message": "send success"}],
                                                 "RequestId": "x"}}).encode()
        return 200, json.dumps({"Response": {"SendStatus": {"CallId": f"call-{n}", "SessionContext": ""},
                                             "RequestId": "x"}}).encode()

    def report(self, req):
        """PullSmsSendStatusByPhoneNumber: the reports of the SMS sent to PhoneNumber."""
        number = req.get("PhoneNumber", "")
        if not req.get("SmsSdkAppId") or not isinstance(req.get("BeginTime"), int) or req.get("Limit", 0) > 100:
            return self.json_answer({"Response": {"Error": {"Code": "InvalidParameter", "Message": "bad"},
                                                  "RequestId": "x"}})
        with self.lock:
            self.queries.append(number)
            mode = self.receipts.get(number, "pending")
            serials = [sn for sn, to in self.sent if to == number]
        if mode == "html":
            return 502, b"<html>Bad Gateway</html>"
        if mode == "pending":
            serials = []
        status, desc = ("SUCCESS", "DELIVRD") if mode == "delivered" else ("FAIL", "MK:0001")
        return self.json_answer({"Response": {"PullSmsSendStatusSet": [
            {"SerialNo": sn, "PhoneNumber": number, "CountryCode": "86", "SubscriberNumber": number[3:],
             "ReportStatus": status, "Description": desc, "UserReceiveTime": int(time.time()), "SessionContext": ""}
            for sn in serials], "RequestId": "x"}})

    def push_call_status(self, url, callid, result, raw=None):
        """Push the status of call callid to url as the provider documents it: result "0" answered, "1" not
        answered, "2" call failed, with the call's number and times (raw: send these bytes instead).
        Returns (status, headers, parsed body or the raw bytes)."""
        with self.lock:
            number = next((r[2] for i, r in enumerate(self.requests) if r[0] == "vms" and f"call-{i + 1}" == callid), "")
        now = int(time.time())
        body = raw if raw is not None else json.dumps({"voiceprompt_callback": {
            "result": result, "accept_time": str(now - 20) if result == "0" else "0", "call_from": "", "callid": callid,
            "end_calltime": str(now), "fee": "1" if result == "0" else "0", "mobile": number.removeprefix("+86"),
            "nationcode": "86", "start_calltime": str(now - 30)}}).encode()
        req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                st, hdrs, data = r.status, r.headers, r.read()
        except urllib.error.HTTPError as err:
            st, hdrs, data = err.code, err.headers, err.read()
        try:
            return st, hdrs, json.loads(data)
        except ValueError:
            return st, hdrs, data

    def calls(self, service=None, number=None):
        with self.lock:
            return [r for r in self.requests if (service is None or r[0] == service) and (number is None or r[2] == number)]
