"""fake_aliyun — a local stand-in for Aliyun SMS (Dysmsapi SendSms) and voice notification (Dyvmsapi
SingleCallByTts), RPC style.

It VERIFIES every request's signature as Aliyun documents it ("签名机制"): every parameter but
Signature, sorted by name, names and values percent-encoded (RFC 3986 unreserved characters kept,
space as %20), joined as k=v with &; StringToSign = "POST&%2F&" + percentEncode(that); Signature =
Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)). It also checks the common parameters
(SignatureMethod HMAC-SHA1, SignatureVersion 1.0, a fresh SignatureNonce, a Timestamp within five
minutes, Version 2017-05-25) and the action's own (SignName, TemplateCode, TemplateParam as JSON). It
answers by the number's last digit: 9 a refusal (isv.MOBILE_NUMBER_ILLEGAL), 8 a body that is not
JSON, 7 throttling the first time (isv.BUSINESS_LIMIT_CONTROL) and success after, else success. A
bad signature answers SignatureDoesNotMatch and counts in bad_signatures. QuerySendDetails (the
delivery report, signed alike) answers the record of a BizId only for the number it was sent to,
as the test sets receipts[number]: delivered (SendStatus 3), failed (2,
MOBILE_NOT_ON_SERVICE), pending (1, the default) or html (a body that is not JSON).
QueryCallDetailByCallId (a voice call's result, Dyvmsapi, signed alike; ProdId 11000000300006 and a
QueryDate in milliseconds required) answers the record of a CallId it placed, its Data a JSON object
in a string with state and stateDesc, as the test sets results[number] (a list, one entry used per
question, the last one kept): answered (200000), noanswer (200003), pending (no Data yet) or html.
Runs in a thread."""
import base64
import calendar
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, quote

from fake_http import FakeHTTP


def pct(s):
    return quote(s, safe="-_.~")


class Fake(FakeHTTP):
    def __init__(self, key_id, secret):
        self.key_id, self.secret = key_id, secret
        self.requests = []  # (service, action, number, text)
        self.bad_signatures = 0
        self.nonces = set()
        self.throttled = set()
        self.sent = {}      # BizId -> number
        self.receipts = {}  # number -> "delivered", "failed", "pending" (default) or "html"
        self.queries = []   # (BizId, number) of the delivery-report questions
        self.placed = {}    # CallId -> number
        self.results = {}   # number -> [mode, ...] for QueryCallDetailByCallId
        self.call_queries = []  # CallIds asked about
        super().__init__()

    def signature(self, params):
        canonical = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(params.items()) if k != "Signature")
        to_sign = "POST&%2F&" + pct(canonical)
        mac = hmac.new((self.secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
        return base64.b64encode(mac).decode()

    def refuse(self):
        with self.lock:
            self.bad_signatures += 1
        return 400, json.dumps({"Code": "SignatureDoesNotMatch", "Message": "signature", "RequestId": "x"}).encode()

    def handle_post(self, path, headers, body):
        service = "sms" if path.startswith("/sms") else "vms"
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        action = params.get("Action", "")
        if action not in (("SendSms", "QuerySendDetails") if service == "sms"
                          else ("SingleCallByTts", "QueryCallDetailByCallId")):
            return self.refuse()
        try:
            ts = calendar.timegm(time.strptime(params.get("Timestamp", ""), "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            return self.refuse()
        common = (params.get("AccessKeyId") == self.key_id and params.get("Action") == action
                  and params.get("SignatureMethod") == "HMAC-SHA1" and params.get("SignatureVersion") == "1.0"
                  and params.get("Version") == "2017-05-25" and params.get("Format") == "JSON"
                  and abs(time.time() - ts) < 300 and params.get("SignatureNonce") not in self.nonces
                  and headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"))
        if not common or not hmac.compare_digest(self.signature(params), params.get("Signature", "")):
            return self.refuse()
        with self.lock:
            self.nonces.add(params["SignatureNonce"])
        if action == "QuerySendDetails":
            return self.report(params)
        if action == "QueryCallDetailByCallId":
            return self.call_result(params)
        if service == "sms":
            number, text = params["PhoneNumbers"], json.loads(params["TemplateParam"])["text"]
            if not params.get("SignName") or not params.get("TemplateCode"):
                return self.refuse()
        else:
            number, text = params["CalledNumber"], json.loads(params["TtsParam"])["text"]
            if not params.get("CalledShowNumber") or not params.get("TtsCode"):
                return self.refuse()
        with self.lock:
            self.requests.append((service, action, number, text))
            n = len(self.requests)
            last = number[-1]
            if last == "7" and number not in self.throttled:
                self.throttled.add(number)
                return 200, json.dumps({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控",
                                        "RequestId": "x"}).encode()
        if last == "9":
            return 200, json.dumps({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "x"}).encode()
        if last == "8":
            return 502, b"<html>Bad Gateway</html>"
        if service == "sms":
            with self.lock:
                self.sent[f"biz-{n}"] = number
            return 200, json.dumps({"Code": "OK", "Message": "OK", "BizId": f"biz-{n}", "RequestId": "x"}).encode()
        with self.lock:
            self.placed[f"call-{n}"] = number
        return 200, json.dumps({"Code": "OK", "Message": "OK", "CallId": f"call-{n}", "RequestId": "x"}).encode()

    def call_result(self, params):
        """QueryCallDetailByCallId: the record of a call this fake placed, by the number's results."""
        call = params.get("CallId", "")
        if params.get("ProdId") != "11000000300006" or not params.get("QueryDate", "").isdigit():
            return self.refuse()
        with self.lock:
            self.call_queries.append(call)
            number = self.placed.get(call)
            modes = self.results.get(number) or ["pending"]
            mode = modes.pop(0) if len(modes) > 1 else modes[0]
        if number is None:
            return self.json_answer({"Code": "OK", "Message": "OK", "RequestId": "x", "Data": ""})
        if mode == "html":
            return 502, b"<html>Bad Gateway</html>"
        if mode == "pending":
            return self.json_answer({"Code": "OK", "Message": "OK", "RequestId": "x", "Data": ""})
        state, desc = {"answered": ("200000", "用户听完语音"), "noanswer": ("200003", "用户收到呼叫但未接听")}[mode]
        data = {"caller": "057100000000", "callee": number, "state": state, "stateDesc": desc, "duration": 0,
                "gmtCreate": "2026-12-07 08:00:00", "startDate": "", "endDate": ""}
        return self.json_answer({"Code": "OK", "Message": "OK", "RequestId": "x", "Data": json.dumps(data)})

    def report(self, params):
        """QuerySendDetails: the record of BizId when it was sent to PhoneNumber (else none)."""
        biz, number = params.get("BizId", ""), params.get("PhoneNumber", "")
        if not params.get("SendDate", "").isdigit() or len(params["SendDate"]) != 8:
            return self.refuse()
        with self.lock:
            self.queries.append((biz, number))
            mode = self.receipts.get(number, "pending")
            known = self.sent.get(biz) == number
        if mode == "html":
            return 502, b"<html>Bad Gateway</html>"
        dtos = []
        if known:
            status, err = {"delivered": (3, "DELIVERED"), "failed": (2, "MOBILE_NOT_ON_SERVICE"),
                           "pending": (1, "")}[mode]
            dtos.append({"PhoneNum": number, "SendStatus": status, "ErrCode": err, "TemplateCode": "SMS_1",
                         "Content": "", "SendDate": "", "ReceiveDate": "", "OutId": ""})
        return self.json_answer({"Code": "OK", "Message": "OK", "RequestId": "x", "TotalCount": len(dtos),
                                 "SmsSendDetailDTOs": {"SmsSendDetailDTO": dtos}})

    def calls(self, service=None, number=None):
        with self.lock:
            return [r for r in self.requests if (service is None or r[0] == service) and (number is None or r[2] == number)]
