"""The OpenAPI document (docs/openapi.json) kept in step with the server.

Checks, in order: the document parses and is OpenAPI 3.0.x and valid against the official OpenAPI 3.0
meta-schema (tests/api/openapi-3.0-schema.json, the OpenAPI Initiative's JSON Schema of 2021-09-28,
committed as spec text; checked with Debian's python3-jsonschema); its (method, path) pairs are exactly the
routes `nuanxin routes` prints (HEAD is implied by GET), public routes declare `security: []` and the
others a non-empty security, where unsafe methods pair the cookie with the CSRF header the server
demands; every $ref resolves; every operation has a summary and a 2xx response;
the served /api/v1/openapi.json is the file's content; and live answers of a real server (the current
user, organisation objects, a resident created through the API, lists, a household, statistics, the
audit log, problem answers) validate against the schemas the document gives for that operation and
status. The validator is the small JSON-schema subset of oaschema.py; it is itself tested on
instances that must fail, so a lax validator cannot pass silently.
"""
import json
import os
import re
import subprocess
import sys
import traceback

from nxtest import BIN, Server, check, check_eq, done, make_id
from oaschema import DOC, DOC_TEXT, HERE, SRC, doc_operations, resolve, validate

S = None
admin = None
ctx = {}


# ---- the document ----

META_PATH = os.path.join(HERE, "openapi-3.0-schema.json")


def meta_errors(doc):
    """Errors of doc against the official OpenAPI 3.0 meta-schema, each as "path: message". A failed
    oneOf (Schema or Reference) is reported by its deepest branch error, which names the real fault."""
    try:
        import jsonschema
    except ImportError:
        return ["python3-jsonschema is not installed (scripts/deps.sh test installs it)"]
    with open(META_PATH, encoding="utf-8") as f:
        meta = json.load(f)
    out = []
    for err in jsonschema.Draft4Validator(meta).iter_errors(doc):
        deepest = err
        while deepest.context:
            deepest = max(deepest.context, key=lambda e: len(e.absolute_path))
        where = "/".join(str(p) for p in deepest.absolute_path)
        out.append(f"{where}: {deepest.message[:160]}")
    return out


def test_meta_schema():
    with open(META_PATH, encoding="utf-8") as f:
        check_eq(json.load(f).get("id"), "https://spec.openapis.org/oas/3.0/schema/2021-09-28", "meta-schema id")
    errs = meta_errors(DOC)
    check(not errs, f"docs/openapi.json against the OpenAPI 3.0 meta-schema: {errs[:10]}")
    # the check can fail: the defect the black-box run found, an empty required list, and a bad status key
    bad = json.loads(DOC_TEXT)
    bad["components"]["schemas"]["Problem"]["required"] = []
    errs = meta_errors(bad)
    check(any("components/schemas/Problem/required" in e for e in errs), f"empty required refused: {errs[:3]}")
    bad = json.loads(DOC_TEXT)
    bad["paths"]["/healthz"]["get"]["responses"]["2000"] = {"description": "x"}
    check(meta_errors(bad) != [], "a response code 2000 refused")


def test_csrf_declared():
    """Every authenticated unsafe operation offers the cookie only together with X-CSRF-Token (the
    server answers 403 without it; test_conformance.py checks that live)."""
    for m, path, o in doc_operations():
        sec = o.get("security")
        if m in ("GET", "HEAD", "OPTIONS") or not sec:
            continue
        for req in sec:
            if "cookieAuth" in req:
                check("csrfToken" in req, f"{m} {path}: cookieAuth without csrfToken")

def server_routes():
    p = subprocess.run([BIN, "routes"], capture_output=True, text=True, timeout=60)
    check_eq(p.returncode, 0, "nuanxin routes exit code: " + p.stderr)
    routes = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        check(len(parts) in (2, 3) and (len(parts) == 2 or parts[2] == "public"), f"routes line {line!r}")
        routes[(parts[0], parts[1])] = len(parts) == 3
    gets = {path for (m, path) in routes if m == "GET"}
    return {k: v for k, v in routes.items() if not (k[0] == "HEAD" and k[1] in gets)}


def test_validator_can_fail():
    person = {"type": "object", "required": ["id", "name"], "additionalProperties": False,
              "properties": {"id": {"type": "integer", "minimum": 1}, "name": {"type": "string", "maxLength": 3},
                             "sex": {"type": "string", "enum": ["male", "female"]},
                             "born": {"type": "string", "format": "date"},
                             "phone": {"type": "string", "nullable": True},
                             "tags": {"type": "array", "items": {"type": "string"}}}}
    check_eq(validate(person, {"id": 1, "name": "王", "sex": "male", "born": "1945-03-12", "phone": None,
                               "tags": ["a"]}), [], "a conforming instance")
    bad = [({"name": "王"}, "missing required"), ({"id": "1", "name": "王"}, "is not integer"),
           ({"id": True, "name": "王"}, "is not integer"), ({"id": 0, "name": "王"}, "minimum"),
           ({"id": 1, "name": "王建国家"}, "longer"), ({"id": 1, "name": "王", "sex": "男"}, "not in"),
           ({"id": 1, "name": None}, "not nullable"), ({"id": 1, "name": "王", "born": "1945/3/12"}, "not a date"),
           ({"id": 1, "name": "王", "tags": [1]}, "is not string"), ({"id": 1, "name": "王", "x": 1}, "not in the schema"),
           ([], "is not object")]
    for inst, want in bad:
        errs = validate(person, inst)
        check(any(want in e for e in errs), f"{inst!r} must fail with {want!r}: {errs}")
    check(validate({"allOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1}) != [], "allOf applies every part")


def test_document_basics():
    check(str(DOC.get("openapi", "")).startswith("3.0."), f"openapi 3.0.x: {DOC.get('openapi')}")
    info = DOC.get("info", {})
    check(info.get("title") and info.get("version"), "info has title and version")
    cml = open(os.path.join(SRC, "CMakeLists.txt"), encoding="utf-8").read()
    m = re.search(r"project\(nuanxin VERSION ([0-9.]+)", cml)
    check(m is not None and info.get("version") == m.group(1), f"info.version follows CMakeLists ({info.get('version')})")
    check_eq(DOC.get("servers"), [{"url": "/"}], "servers")
    schemes = DOC.get("components", {}).get("securitySchemes", {})
    check(any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values()), "bearer scheme")
    check(any(s.get("in") == "cookie" and s.get("name") == "nx_session" for s in schemes.values()), "cookie scheme")
    check(any(s.get("in") == "header" and s.get("name") == "X-CSRF-Token" for s in schemes.values()), "CSRF header")
    for name in ("Problem", "Page", "Resident", "ResidentInput", "Household", "Grid", "Estate", "Building", "Room",
                 "Shop", "Tag", "Street", "Community", "User", "UserInput", "AuditEntry", "Overview",
                 "ImportReport", "Me"):
        check(name in DOC.get("components", {}).get("schemas", {}), f"component schema {name}")
    check(DOC_TEXT.startswith("{\n  \""), "two-space indented JSON")
    check("\\u" not in DOC_TEXT, "UTF-8 text as is, no \\u escapes")


def test_paths_match_routes():
    routes = server_routes()
    documented = {}
    for m, path, o in doc_operations():
        documented[(m, path)] = o
    missing = sorted(set(routes) - set(documented))
    extra = sorted(set(documented) - set(routes))
    check(not missing, f"routes without documentation: {missing}")
    check(not extra, f"documented operations the server does not have: {extra}")
    check(len(routes) >= 50, f"routes were read ({len(routes)})")
    for key, public in routes.items():
        o = documented.get(key)
        if o is None:
            continue
        sec = o.get("security")
        if public:
            check(sec == [], f"{key}: public route declares security: [] ({sec})")
        else:
            check(isinstance(sec, list) and len(sec) > 0 and all(isinstance(r, dict) and r for r in sec),
                  f"{key}: authenticated route declares security")


def test_refs_resolve():
    bad = []

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    try:
                        resolve(v)
                    except (KeyError, IndexError, ValueError, TypeError):
                        bad.append(f"{where}: {v}")
                else:
                    walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}/{i}")

    walk(DOC, "#")
    check(not bad, f"unresolved $ref: {bad[:10]}")
    # and the security requirements name declared schemes
    schemes = DOC.get("components", {}).get("securitySchemes", {})
    for m, path, o in doc_operations():
        for req in o.get("security", []):
            for name in req:
                check(name in schemes, f"{m} {path}: security scheme {name} declared")


def test_operations_complete():
    ids = set()
    tags = {t["name"] for t in DOC.get("tags", [])}
    for m, path, o in doc_operations():
        what = f"{m} {path}"
        check(isinstance(o.get("summary"), str) and re.search(r"[\u4e00-\u9fff]", o["summary"]),
              f"{what}: Chinese summary")
        codes = list(o.get("responses", {}))
        check(any(c.startswith("2") for c in codes), f"{what}: a 2xx response ({codes})")
        check(o.get("tags") and all(t in tags for t in o["tags"]), f"{what}: tags declared at top level")
        oid = o.get("operationId")
        check(oid and oid not in ids, f"{what}: unique operationId {oid}")
        ids.add(oid)
        names = set(re.findall(r"\{(\w+)\}", path))
        params = []
        for p in o.get("parameters", []):
            params.append(resolve(p["$ref"]) if "$ref" in p else p)
        for p in params:
            check(p.get("name") and p.get("in") in ("path", "query", "header", "cookie") and "schema" in p,
                  f"{what}: parameter {p.get('name')} has name, in and schema")
            check(p.get("in") != "path" or p.get("required") is True, f"{what}: path parameter required")
        declared = {p["name"] for p in params if p.get("in") == "path"}
        check_eq(declared, names, f"{what}: path parameters")
        for c, r in o.get("responses", {}).items():
            r = resolve(r["$ref"]) if "$ref" in r else r
            check(isinstance(r.get("description"), str) and r["description"], f"{what} {c}: response description")
            if c.startswith("4") or c.startswith("5"):
                sch = r.get("content", {}).get("application/problem+json", {}).get("schema", {})
                check(sch.get("$ref") == "#/components/schemas/Problem", f"{what} {c}: Problem schema")
            elif c.startswith("2") and c != "204":
                check(r.get("content"), f"{what} {c}: response content")


def test_served_document():
    c = S.client()
    st, resp, body = c.get("/api/v1/openapi.json")
    check_eq(st, 200, "GET /api/v1/openapi.json")
    check("json" in resp.getheader("Content-Type", ""), "served as JSON")
    check(body == DOC, "served document equals docs/openapi.json (rebuild after editing it)")


# ---- live answers against the document ----

def operation(method, template):
    o = DOC.get("paths", {}).get(template, {}).get(method.lower())
    check(o is not None, f"{method} {template} documented")
    return o or {}


def conforms(method, template, st, resp, body, what=""):
    """The answer (status, body) is documented for the operation and validates against its schema."""
    o = operation(method, template)
    r = o.get("responses", {}).get(str(st))
    if not check(r is not None, f"{method} {template}: status {st} documented {what}"):
        return False
    if "$ref" in r:
        r = resolve(r["$ref"])
    ctype = resp.getheader("Content-Type", "").split(";")[0].strip()
    content = r.get("content", {})
    if not content:
        return check(body in (b"", None), f"{method} {template} {st}: no body expected")
    if not check(ctype in content, f"{method} {template} {st}: content type {ctype} documented ({list(content)})"):
        return False
    schema = content[ctype].get("schema", {})
    if schema.get("format") == "binary":
        return check(isinstance(body, bytes) and len(body) > 0, f"{method} {template} {st}: a file")
    errs = validate(schema, body)
    return check(not errs, f"{method} {template} {st} {what}: {errs[:8]}")


def request_conforms(method, template, body, what=""):
    o = operation(method, template)
    sch = o.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if not check(sch is not None, f"{method} {template}: JSON request body documented"):
        return
    errs = validate(sch, body)
    check(not errs, f"{method} {template} request {what}: {errs[:8]}")


def call(method, template, path, body=None, client=None, want=None):
    c = client or admin
    if body is not None:
        request_conforms(method, template, body)
    st, resp, out = c.request(method, path, body=body)
    if want is not None:
        check_eq(st, want, f"{method} {path} status ({out if isinstance(out, dict) else ''})")
    conforms(method, template, st, resp, out, path)
    return st, out


def test_live_system_and_me():
    c = S.client()
    for p in ("/healthz", "/readyz"):
        st, resp, body = c.get(p)
        conforms("GET", p, st, resp, body)
    login = {"username": "admin", "password": S.admin_password}
    request_conforms("POST", "/api/v1/auth/login", login)
    st, resp, body = c.post("/api/v1/auth/login", login)
    check_eq(st, 200, "login")
    conforms("POST", "/api/v1/auth/login", st, resp, body)
    st, resp, body = c.post("/api/v1/auth/login", {"username": "admin", "password": "wrong-password-1"})
    check_eq(st, 401, "wrong password")
    conforms("POST", "/api/v1/auth/login", st, resp, body, "(401)")
    st, resp, body = c.get("/api/v1/me")
    check_eq(st, 401, "me without credentials")
    conforms("GET", "/api/v1/me", st, resp, body, "(401)")
    st, me = call("GET", "/api/v1/me", "/api/v1/me", want=200)
    check("people.reveal" in me.get("rights", []), f"admin rights listed: {me.get('rights')}")
    call("PATCH", "/api/v1/me/preferences", "/api/v1/me/preferences", {"elder_mode": False, "language": "zh-CN"},
         want=200)
    call("GET", "/api/v1/users", "/api/v1/users", want=200)
    call("GET", "/api/v1/users/{id}", f"/api/v1/users/{me['id']}", want=200)


def test_live_org():
    st, street = call("POST", "/api/v1/streets", "/api/v1/streets", {"name": "文档街道"}, want=201)
    st, comm = call("POST", "/api/v1/communities", "/api/v1/communities",
                    {"street_id": street["id"], "name": "文档社区", "phone": "0531-86123456"}, want=201)
    st, grid = call("POST", "/api/v1/grids", "/api/v1/grids", {"community_id": comm["id"], "name": "第一网格"}, want=201)
    st, estate = call("POST", "/api/v1/estates", "/api/v1/estates",
                      {"community_id": comm["id"], "name": "幸福里小区", "kind": "old", "built_year": 1988}, want=201)
    st, bld = call("POST", "/api/v1/buildings", "/api/v1/buildings",
                   {"estate_id": estate["id"], "grid_id": grid["id"], "name": "3号楼", "floors": 6,
                    "has_elevator": False}, want=201)
    st, room = call("POST", "/api/v1/buildings/{id}/rooms", f"/api/v1/buildings/{bld['id']}/rooms",
                    {"unit": "2单元", "number": "401", "floor": 4, "area": 58.5}, want=201)
    st, shop = call("POST", "/api/v1/shops", "/api/v1/shops",
                    {"community_id": comm["id"], "name": "老街烧饼", "kind": "market_stall", "phone": "13812345678"},
                    want=201)
    check_eq(shop.get("phone"), "138****5678", "shop phone masked")
    call("PATCH", "/api/v1/grids/{id}", f"/api/v1/grids/{grid['id']}", {"description": None}, want=200)
    call("PATCH", "/api/v1/rooms/{id}", f"/api/v1/rooms/{room['id']}", {"area": 60}, want=200)
    for coll in ("streets", "communities", "grids", "estates", "buildings", "shops", "tags"):
        st, page = call("GET", f"/api/v1/{coll}", f"/api/v1/{coll}?limit=5", want=200)
        check(len(page.get("items", [])) >= 1, f"{coll} listed")
    call("GET", "/api/v1/buildings/{id}/rooms", f"/api/v1/buildings/{bld['id']}/rooms", want=200)
    for coll, obj in (("streets", street), ("communities", comm), ("grids", grid), ("estates", estate),
                      ("buildings", bld), ("rooms", room), ("shops", shop)):
        call("GET", f"/api/v1/{coll}/{{id}}", f"/api/v1/{coll}/{obj['id']}", want=200)
    ctx.update(street=street, community=comm, grid=grid, estate=estate, building=bld, room=room)


WANG_ID = make_id("110105", "19450312", 31)


def test_live_residents():
    room = ctx["room"]
    body = {"name": "王建国", "id_number": WANG_ID, "phone": "13812345678", "room_id": room["id"],
            "address": "幸福里小区3号楼2单元401室", "tags": ["living_alone"], "relation": "head",
            "contacts": [{"name": "王小明", "relation": "儿子", "phone": "13900001111", "is_primary": True}]}
    st, wang = call("POST", "/api/v1/residents", "/api/v1/residents", body, want=201)
    ctx["wang"] = wang
    check(WANG_ID not in json.dumps(wang, ensure_ascii=False), "created resident is masked")
    st, page = call("GET", "/api/v1/residents", "/api/v1/residents", want=200)
    check(any(r.get("id") == wang.get("id") for r in page.get("items", [])), "new resident listed")
    check("total" in page, "first page has total")
    call("GET", "/api/v1/residents", "/api/v1/residents?status=all&sort=-age&limit=1&age_min=60", want=200)
    st, detail = call("GET", "/api/v1/residents/{id}", f"/api/v1/residents/{wang['id']}", want=200)
    for k in ("contacts", "household_members", "created_at", "can_reveal"):
        check(k in detail, f"resident detail has {k}")
    call("PATCH", "/api/v1/residents/{id}", f"/api/v1/residents/{wang['id']}",
         {"care_level": "key", "version": detail.get("version", 1)}, want=200)
    call("POST", "/api/v1/residents/{id}/reveal", f"/api/v1/residents/{wang['id']}/reveal",
         {"fields": ["id_number", "contacts"]}, want=200)
    st, hh = call("POST", "/api/v1/households", "/api/v1/households",
                  {"room_id": room["id"], "number": "H0001", "kind": "registered"}, want=201)
    call("PATCH", "/api/v1/residents/{id}", f"/api/v1/residents/{wang['id']}", {"household_id": hh["id"]}, want=200)
    call("PATCH", "/api/v1/households/{id}", f"/api/v1/households/{hh['id']}", {"head_resident_id": wang["id"]},
         want=200)
    call("GET", "/api/v1/households/{id}", f"/api/v1/households/{hh['id']}", want=200)
    call("GET", "/api/v1/households", "/api/v1/households", want=200)
    call("GET", "/api/v1/stats/overview", "/api/v1/stats/overview", want=200)
    call("GET", "/api/v1/audit", "/api/v1/audit?limit=20", want=200)


def test_live_accounts_and_io():
    st, user = call("POST", "/api/v1/users", "/api/v1/users",
                    {"username": "doc.staff", "password": "Docs2026pass", "role": "staff",
                     "community_id": ctx["community"]["id"], "display_name": "文档员"}, want=201)
    # the scope's id is sent again: PATCH does not keep it (see UserPatch in the document)
    call("PATCH", "/api/v1/users/{id}", f"/api/v1/users/{user['id']}",
         {"display_name": "文档员二", "community_id": ctx["community"]["id"]}, want=200)
    call("POST", "/api/v1/users/{id}/password", f"/api/v1/users/{user['id']}/password",
         {"password": "Docs2027pass", "must_change_password": False}, want=204)
    staff = S.login("doc.staff", "Docs2027pass")
    call("POST", "/api/v1/me/password", "/api/v1/me/password",
         {"old_password": "Docs2027pass", "new_password": "Docs2028pass"}, client=staff, want=204)
    st, resp, body = staff.get("/api/v1/users")
    check_eq(st, 403, "staff cannot list accounts")
    conforms("GET", "/api/v1/users", st, resp, body, "(403)")
    call("POST", "/api/v1/auth/logout", "/api/v1/auth/logout", client=staff, want=204)
    # a cookie session without the CSRF header: 403 on an unsafe method
    c = S.client()
    st, resp, body = c.post("/api/v1/auth/login", {"username": "doc.staff", "password": "Docs2028pass"})
    c.cookie = (resp.getheader("Set-Cookie") or "").split(";")[0]
    st, resp, body = c.post("/api/v1/grids", {"name": "无令牌网格"})
    check_eq(st, 403, "cookie POST without X-CSRF-Token")
    conforms("POST", "/api/v1/grids", st, resp, body, "(403 CSRF)")
    st, resp, body = admin.get("/api/v1/residents/export")
    check_eq(st, 200, "export")
    conforms("GET", "/api/v1/residents/export", st, resp, body)
    check(body[:2] == b"PK", "export is a zip (xlsx)")
    st, resp, body = admin.get("/api/v1/residents/import/template")
    check_eq(st, 200, "template")
    conforms("GET", "/api/v1/residents/import/template", st, resp, body)
    csv = ("姓名,性别,证件号码,联系电话,小区,楼栋,单元,房号,户号,备用列\n"
           f"孙大爷,,{make_id('110105', '19520203', 51)},13600001234,幸福里小区,3号楼,2单元,402,H902,x\n"
           f"错号码,,{make_id('110105', '19600909', 62)[:17]}0,,,,,,,\n")
    st, resp, rep = admin.request("POST", "/api/v1/residents/import?dry_run=true", raw=csv.encode(),
                                  headers={"Content-Type": "text/csv"})
    check_eq(st, 200, f"import dry run {rep}")
    conforms("POST", "/api/v1/residents/import", st, resp, rep)
    check(isinstance(rep, dict) and rep.get("total_rows") == 2 and rep.get("ignored_columns") == ["备用列"],
          f"import report counts {rep}")
    st, resp, body = admin.request("POST", "/api/v1/residents/import", raw=b"\x00garbage\xff" * 10,
                                   headers={"Content-Type": "application/octet-stream"})
    conforms("POST", "/api/v1/residents/import", st, resp, body, "(garbage)")


def test_live_problems():
    good = {"name": "赵六", "id_number": make_id("110105", "19700101", 11), "room_id": ctx["room"]["id"]}
    st, resp, body = admin.post("/api/v1/residents", dict(good, phone="12345"))
    check_eq(st, 422, "bad phone is 422")
    check(resp.getheader("Content-Type", "").startswith("application/problem+json"), "problem content type")
    check_eq(body.get("field") if isinstance(body, dict) else None, "phone", "422 names the field")
    conforms("POST", "/api/v1/residents", st, resp, body, "(422)")
    st, resp, body = admin.post("/api/v1/residents", dict(good, id_number=WANG_ID))
    check_eq(st, 409, "duplicate ID is 409")
    conforms("POST", "/api/v1/residents", st, resp, body, "(409)")
    st, resp, body = admin.post("/api/v1/residents", '{"name": ')
    check_eq(st, 400, "malformed JSON is 400")
    conforms("POST", "/api/v1/residents", st, resp, body, "(400)")
    st, resp, body = admin.get("/api/v1/residents/999999")
    check_eq(st, 404, "absent resident is 404")
    conforms("GET", "/api/v1/residents/{id}", st, resp, body, "(404)")
    st, resp, body = admin.get("/api/v1/residents?limit=0")
    check_eq(st, 422, "limit 0 is 422")
    conforms("GET", "/api/v1/residents", st, resp, body, "(422)")


def main():
    """Like nxtest.run, but the server is stopped before the count is printed, so that its clean exit
    (and the absence of sanitizer reports) counts too."""
    global S, admin
    S = Server()
    S.start()
    try:
        admin = S.login()
        for t in (test_validator_can_fail, test_document_basics, test_meta_schema, test_csrf_declared, test_paths_match_routes, test_refs_resolve,
                  test_operations_complete, test_served_document, test_live_system_and_me, test_live_org,
                  test_live_residents, test_live_accounts_and_io, test_live_problems):
            try:
                t()
                print(f"ok   {t.__name__}", file=sys.stderr)
            except Exception:
                check(False, f"{t.__name__} raised:\n{traceback.format_exc()}")
    finally:
        S.cleanup()
    done()


main()
