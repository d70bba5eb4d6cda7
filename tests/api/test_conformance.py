"""API conformance: every operation of docs/openapi.json, generated and mutated, against a live server.

A demo server (a few hundred residents, the demo's accounts) is driven as the administrator through
every operation the document lists. For each operation, case 0 is a valid request generated from its
schemas (path IDs that exist, looked up through the list operations; query parameters within their
bounds; a JSON body with every required field, or a small file for upload operations); the further
cases mutate one thing the schema refuses: a body field of the wrong type, null where the schema does
not say nullable, a string over maxLength, a number out of range, a required field missing, an
unknown property, a path ID that does not exist or is not a number, a query value of the wrong type.

Every answer must (1) not be a 5xx, (2) carry a status the operation documents, with a content type
it documents, (3) have a body that validates against the documented schema, and (4) for a body the
request schema refuses, not be a 2xx: the server refuses what the document refuses (422 or 400), so a
client that trusts the document is never surprised by a null stored or a wrong type coerced. Then
every unsafe operation is called with a cookie session and no X-CSRF-Token, and must answer 403.

Bounded for `make test`: seed NX_CONFORMANCE_SEED (default 21) and NX_CONFORMANCE_CASES requests per
operation (default 30). A longer run (docs/reliability.md, "API conformance"):
    NX_CONFORMANCE_CASES=300 NX_CONFORMANCE_SEED=7 ctest -R api.test_conformance
Findings are grouped by operation and kind; each prints one reproducer (method, path, body).
"""
import http.client
import json
import os
import random
import sys
import time
import traceback
import zlib
import struct
from urllib.parse import quote

from nxtest import PG, Server, check, done, make_id, unique_birth
from oaschema import DOC, Gen, deref, doc_operations, operation_parameters, validate

SEED = int(os.environ.get("NX_CONFORMANCE_SEED", "21"))
CASES = int(os.environ.get("NX_CONFORMANCE_CASES", "30"))
SAFE = ("GET", "HEAD", "OPTIONS")

S = None
admin = None
findings = {}   # (method, template, kind) -> first reproducer
counts = {"requests": 0, "2xx": 0, "4xx": 0, "refused_mutations": 0}
id_cache = {}
spare_tokens = []
admin_id = None


def png_bytes(w=2, h=2):
    """A small valid PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def finding(method, template, kind, detail):
    key = (method, template, kind)
    if key not in findings:
        findings[key] = detail


def send(method, path, body=None, ctype=None, token=None, cookie=None, csrf=None):
    """One request on a fresh connection. Returns (status, content type, parsed body or bytes);
    an event stream is not read past its headers."""
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=60)
    h = {}
    tok = admin.token if token is None else token
    if tok:
        h["Authorization"] = "Bearer " + tok
    if cookie:
        h["Cookie"] = cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    data = None
    if body is not None:
        if ctype is None or ctype == "application/json":
            data = json.dumps(body, ensure_ascii=False).encode() if not isinstance(body, bytes) else body
            h["Content-Type"] = "application/json"
        else:
            data = body
            h["Content-Type"] = ctype
    try:
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        rtype = resp.getheader("Content-Type", "").split(";")[0].strip()
        if rtype == "text/event-stream":
            return resp.status, rtype, b""
        payload = resp.read()
    finally:
        conn.close()
    counts["requests"] += 1
    parsed = payload
    if "json" in rtype and payload:
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = payload
    return resp.status, rtype, parsed


# ---- values that exist ----

def list_ids(path):
    """IDs of the items a GET of path lists (first page), [] when the path has no such list."""
    if path in id_cache:
        return id_cache[path]
    ids = []
    template_ok = any(m == "GET" and t == path for m, t, _ in doc_operations())
    if template_ok:
        st, _, body = send("GET", path + ("&" if "?" in path else "?") + "limit=50")
        if st == 200:
            items = body.get("items") if isinstance(body, dict) else body
            if isinstance(items, list):
                ids = [x["id"] for x in items if isinstance(x, dict) and isinstance(x.get("id"), int)]
    if path == "/api/v1/users":
        ids = [i for i in ids if i != admin_id]
    id_cache[path] = ids
    return ids


def ids_for_name(name):
    base = name[:-3]
    for cand in (f"/api/v1/{base}s", f"/api/v1/{base[:-1]}ies", f"/api/v1/{base.replace('_', '-')}s"):
        ids = list_ids(cand)
        if ids:
            return ids
    return []


def make_hint(rnd):
    def hint(name, schema):
        t = schema.get("type")
        if t == "integer" and name.endswith("_id") and rnd.random() < 0.9:
            ids = ids_for_name(name)
            if ids:
                return rnd.choice(ids)
        if t == "string" and "enum" not in schema:
            if name in ("phone", "contact_phone", "mobile") or name.endswith("_phone"):
                return "13" + "".join(rnd.choice("0123456789") for _ in range(9))
            if name == "id_number":
                return make_id("110105", unique_birth(rnd.randint(0, 20000)), rnd.randint(0, 999))
        return None
    return hint


def path_values(template, rnd):
    """The template with every {param} replaced by an ID that exists (looked up through the GET list
    of the prefix, or the detail of the parent), or a generated value."""
    parts = template.split("/")
    out = []
    for i, seg in enumerate(parts):
        if seg.startswith("{"):
            prefix = "/".join(out)
            ids = list_ids(prefix)
            if not ids and i >= 2:
                # a nested list inside the parent's detail: /x/{id}/materials/{mid}
                st, _, body = send("GET", "/".join(out[:-1]))
                if st == 200 and isinstance(body, dict) and isinstance(body.get(out[-1]), list):
                    ids = [x["id"] for x in body[out[-1]] if isinstance(x, dict) and isinstance(x.get("id"), int)]
            if ids:
                out.append(str(rnd.choice(ids)))
            else:
                o = DOC["paths"][template]
                sch = {}
                for op in o.values():
                    for p in operation_parameters(op) if isinstance(op, dict) else []:
                        if p.get("in") == "path" and "{" + p["name"] + "}" == seg:
                            sch = p.get("schema", {})
                v = Gen(rnd).valid(sch) if sch else rnd.randint(1, 50)
                out.append(str(v) if not isinstance(v, str) else quote(v))
        else:
            out.append(seg)
    return "/".join(out)


# ---- one operation ----

def request_body(o, gen, rnd):
    """(content type, body, schema or None) of a valid request for operation o."""
    rb = o.get("requestBody")
    if not rb:
        return None, None, None
    content = rb.get("content", {})
    if "application/json" in content:
        sch = content["application/json"].get("schema", {})
        return "application/json", gen.valid(sch), sch
    ctype = rnd.choice(sorted(content))
    if ctype.startswith("image/") or ctype == "application/octet-stream":
        return "image/png" if ctype != "application/octet-stream" else ctype, png_bytes(), None
    if ctype == "text/csv":
        return ctype, ("姓名,性别,证件号码,联系电话\n"
                       f"孙大爷,,{make_id('110105', unique_birth(rnd.randint(0, 9000)), rnd.randint(0, 999))},13600001234\n").encode(), None
    if ctype == "application/pdf":
        return ctype, b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", None
    return ctype, bytes(rnd.getrandbits(8) for _ in range(64)), None


def query_string(o, gen, rnd, mutate=False):
    qs = []
    for p in operation_parameters(o):
        if p.get("in") != "query":
            continue
        if not p.get("required") and rnd.random() < 0.5:
            continue
        sch = deref(p.get("schema", {}))
        v = gen.valid(sch, p["name"])
        if mutate and rnd.random() < 0.5:
            v = rnd.choice(["abc", "-1", "99999999999999999999", "长" * 300, "", "1e3", "%00"])
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, list):
            v = ",".join(str(x) for x in v)
        qs.append(f"{p['name']}={quote(str(v), safe='%')}")
    return ("?" + "&".join(qs)) if qs else ""


def check_answer(method, template, o, st, rtype, body, what, sent):
    repro = f"{method} {sent[0]} {json.dumps(sent[1], ensure_ascii=False)[:300] if sent[1] is not None and not isinstance(sent[1], bytes) else ''}"
    if st >= 500:
        finding(method, template, f"{st}", f"{what}: {repro} -> {str(body)[:200]}")
        return
    if 200 <= st < 300:
        counts["2xx"] += 1
    elif 400 <= st < 500:
        counts["4xx"] += 1
    r = o.get("responses", {}).get(str(st))
    if r is None:
        finding(method, template, f"status {st} undocumented", f"{what}: {repro} -> {str(body)[:200]}")
        return
    r = deref(r)
    content = r.get("content", {})
    if not content:
        if body not in (b"", None):
            finding(method, template, f"{st} body where none documented", f"{what}: {repro}")
        return
    if rtype not in content:
        finding(method, template, f"{st} content type {rtype}", f"{what}: {repro} (documented {list(content)})")
        return
    sch = content[rtype].get("schema", {})
    if sch.get("format") == "binary" or rtype == "text/event-stream":
        return
    errs = validate(sch, body)
    if errs:
        finding(method, template, f"{st} body does not match", f"{what}: {repro} -> {errs[:4]}")


def run_operation(method, template, o, rnd):
    gen = Gen(rnd, make_hint(rnd))
    for case in range(CASES):
        path = path_values(template, rnd)
        token = None
        if template == "/api/v1/auth/logout":
            token = spare_tokens.pop() if spare_tokens else ""
        ctype, body, sch = request_body(o, gen, rnd)
        what, must_refuse = "valid", False
        q = query_string(o, gen, rnd)
        if case > 0:
            kinds = []
            if sch is not None:
                kinds += ["body"] * 3
            if "{" in template:
                kinds.append("path")
            if any(p.get("in") == "query" for p in operation_parameters(o)):
                kinds.append("query")
            if ctype and sch is None:
                kinds.append("file")
            kind = rnd.choice(kinds or ["none"])
            if kind == "body":
                muts = gen.mutations(sch, body)
                what, body = rnd.choice(muts)
                must_refuse = validate(sch, body) != []
            elif kind == "path":
                segs = path.split("/")
                idx = [i for i, s in enumerate(template.split("/")) if s.startswith("{")]
                segs[rnd.choice(idx)] = rnd.choice(["0", "-1", "99999999", "abc", "9223372036854775808", "1.5", "%E7%8E%8B"])
                path, what = "/".join(segs), "path parameter mutated"
            elif kind == "query":
                q, what = query_string(o, gen, rnd, mutate=True), "query mutated"
            elif kind == "file":
                body = rnd.choice([b"", b"\x89PNG\r\n\x1a\n" + bytes(rnd.getrandbits(8) for _ in range(200)),
                                   bytes(rnd.getrandbits(8) for _ in range(300)), b"\xff\xd8\xff\xe0" + b"\x00" * 50])
                what = "file mutated"
        st, rtype, rbody = send(method, path + q, body=body, ctype=ctype, token=token)
        check_answer(method, template, o, st, rtype, rbody, what, (path + q, body))
        if must_refuse:
            if 200 <= st < 300:
                finding(method, template, f"accepted: {what}",
                        f"{method} {path} {json.dumps(body, ensure_ascii=False)[:300]} -> {st}")
            else:
                counts["refused_mutations"] += 1


def test_every_operation():
    rnd = random.Random(SEED)
    ops = sorted(doc_operations(), key=lambda x: (x[0] == "DELETE", x[1], x[0]))
    t0 = time.time()
    for method, template, o in ops:
        if method == "HEAD":
            continue
        try:
            run_operation(method, template, o, random.Random(f"{SEED}:{method}:{template}"))
        except Exception:
            finding(method, template, "raised", traceback.format_exc()[-600:])
    print(f"conformance: seed={SEED} cases={CASES} operations={len(ops)} {counts} "
          f"seconds={time.time() - t0:.1f} backend={'postgres' if PG else 'sqlite'}", file=sys.stderr)
    check(counts["2xx"] >= len(ops) // 2, f"enough valid requests succeeded ({counts['2xx']} of {counts['requests']})")
    for (method, template, kind), detail in sorted(findings.items()):
        check(False, f"{method} {template}: {kind}\n      {detail}")
    del rnd


def test_csrf_enforced():
    """Every unsafe authenticated operation refuses a cookie session without X-CSRF-Token (403,
    documented), before it looks at the body."""
    conn = http.client.HTTPConnection("127.0.0.1", S.port, timeout=60)
    conn.request("POST", "/api/v1/auth/login", body=json.dumps({"username": "admin", "password": S.admin_password}),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    cookie = (resp.getheader("Set-Cookie") or "").split(";")[0]
    conn.close()
    check(cookie.startswith("nx_session="), f"cookie session ({cookie[:20]})")
    rnd = random.Random(SEED)
    n = 0
    for method, template, o in doc_operations():
        if method in SAFE or o.get("security") == []:
            continue
        path = path_values(template, rnd)
        st, rtype, body = send(method, path, body={}, token="", cookie=cookie)
        n += 1
        check(st == 403, f"{method} {path} with a cookie and no CSRF token: {st}")
        check("403" in o.get("responses", {}), f"{method} {template}: 403 documented")
    check(n >= 60, f"unsafe operations tried ({n})")


def test_submit_problems():
    """A submit refused for missing materials is a 422 listing every problem — and, like every problem
    answer, with the request_id the Problem schema requires (the long run found it missing)."""
    o = DOC["paths"]["/api/v1/service-applications/{id}/submit"]["post"]
    st, _, page = send("GET", "/api/v1/service-applications?limit=200")
    seen = 0
    for app in page.get("items", []) if isinstance(page, dict) else []:
        if app.get("status") != "draft":
            continue
        st, rtype, body = send("POST", f"/api/v1/service-applications/{app['id']}/submit")
        if st == 422 and isinstance(body, dict) and body.get("errors"):
            seen += 1
            check_answer("POST", "/api/v1/service-applications/{id}/submit", o, st, rtype, body, "materials missing",
                         (f"/api/v1/service-applications/{app['id']}/submit", None))
            check(isinstance(body.get("request_id"), str), f"request_id in the submit problem: {body}")
    check(seen > 0, "a draft refused for missing materials was found")


def main():
    global S, admin, admin_id
    S = Server(demo=300)
    S.start()
    try:
        admin = S.login()
        st, _, me = admin.get("/api/v1/me")
        admin_id = me.get("id") if isinstance(me, dict) else None
        for _ in range(min(CASES, 5)):  # logins hash with argon2: a few, the other logout cases go without
            spare_tokens.append(S.login().token)
        for t in (test_submit_problems, test_csrf_enforced, test_every_operation):
            try:
                t()
                print(f"ok   {t.__name__}", file=sys.stderr)
            except Exception:
                check(False, f"{t.__name__} raised:\n{traceback.format_exc()}")
    finally:
        S.cleanup()
    done()


main()
