"""Black-box tests of the online service hall (issue 7): the catalogue, a 居住证明 applied for by a
resident, returned for correction, corrected and approved, its PDF (Chinese text, serial, verification
code) and the public /verify check; 高龄津贴 refused for an under-80 resident with the reason and
approved through both review levels for an 85-year-old; the coming-of-age list; statistics; and bad
input — a form violating its schema, a wrong material type, an oversized upload, a review by the wrong
role or of another community's application, forged and altered document codes — with clear errors and
nothing changed; a read failing mid-stream (NX_STORE_FAULT) fails the allowance roster (503, no audit
entry, no file) and the recipients list (503, not a short 200). Date rules under a controlled clock are unit-tested (tests/unit/modules/test_services.c).
"""
import datetime
import io
import os
import re
import shutil
import subprocess
import tempfile
import time
import zipfile

from nxtest import check_enum_filter, Server, check, check_eq, is_problem, make_id, run

S = Server()
S.start()
admin = S.login()
ctx = {}
PASSWORD = "Svc2026pass!"
# A well-formed 1x1 grey baseline JPEG (SOI, JFIF, tables, frame, one scan, EOI): uploads are walked
# by their structure, so a JFIF header followed by zeros is no longer a picture.
JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xdb\x00\x43\x00" + b"\x01" * 64 + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
        + b"\xff\xc4\x00\x14\x00\x01" + b"\x00" * 16 + b"\xff\xc4\x00\x14\x10\x01" + b"\x00" * 16
        + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x3f\xff\xd9")
PDF = b"%PDF-1.4\n%fake but sniffable\n" + b"0" * 100

TODAY = datetime.date.today()


def inbox_until(c, pred, timeout=10.0):
    """c's inbox (GET /api/v1/notifications?limit=100) once pred(body) holds, polling: the list answers at
    once and the message service writes a step's message shortly after the step commits. Returns the
    last body read (pred may still be false: the caller's check fails)."""
    end = time.time() + timeout
    while True:
        st, _, body = c.get("/api/v1/notifications?limit=100")
        body = body if st == 200 and isinstance(body, dict) else {"items": []}
        if pred(body) or time.time() >= end:
            return body
        time.sleep(0.1)


def next_month(d):
    return (d.year + (d.month // 12), d.month % 12 + 1)


def user(username, role, scope, **ids):
    body = {"username": username, "display_name": username, "password": PASSWORD, "role": role, "scope": scope,
            "must_change_password": False, **ids}
    st, _, u = admin.post("/api/v1/users", body)
    check_eq(st, 201, f"create user {username}: {u}")
    return S.login(username, PASSWORD)


def resident(name, id_number, community, **extra):
    body = {"name": name, "id_number": id_number, "community_id": community["id"], **extra}
    st, _, r = admin.post("/api/v1/residents", body)
    check_eq(st, 201, f"create resident {name}: {r}")
    return r


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "幸福街道"})
    check_eq(st, 201, "street")
    st, _, ca = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "和平社区"})
    check_eq(st, 201, "community A")
    st, _, cb = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "光明社区"})
    check_eq(st, 201, "community B")
    ctx.update(street=street, ca=ca, cb=cb)
    ctx["li"] = resident("李秀英", make_id("370102", "19600305", 22), ca, residence="registered")
    ctx["young"] = resident("张国强", make_id("370102", "19500612", 31), ca, residence="registered")
    old_birth = datetime.date(TODAY.year - 85, 1, 15)
    ctx["old"] = resident("刘德明", make_id("370102", old_birth.strftime("%Y%m%d"), 51), ca, residence="registered")
    ctx["bres"] = resident("陈桂兰", make_id("370102", "19400101", 62), cb, residence="registered")
    y, m = next_month(TODAY)
    ctx["turning80"] = resident("周玉梅", make_id("370102", f"{y - 80:04d}{m:02d}10", 42), ca)
    ctx["turning90"] = resident("吴振华", make_id("370102", f"{y - 90:04d}{m:02d}03", 71), ca)
    ctx["not_turning"] = resident("郑淑珍", make_id("370102", f"{y - 80:04d}{TODAY.month:02d}01", 82), ca)
    ctx["jumin"] = user("jumin_li", "resident", "self", resident_id=ctx["li"]["id"], community_id=ca["id"])
    ctx["staff_a"] = user("staff_a", "staff", "community", street_id=street["id"], community_id=ca["id"])
    ctx["staff_b"] = user("staff_b", "staff", "community", street_id=street["id"], community_id=cb["id"])
    ctx["jiedao"] = user("jiedao_x", "street", "street", street_id=street["id"])


def test_catalogue():
    jm = ctx["jumin"]
    st, _, body = jm.get("/api/v1/service-items")
    check_eq(st, 200, "catalogue readable by a resident")
    names = [i["name"] for i in body["items"]]
    check_eq(len(names), 12, f"twelve built-in items: {names}")
    for n in ("高龄津贴申领", "生育登记", "居住证明", "低保申请初审", "残疾人两项补贴", "老年优待证", "临时救助",
              "独生子女父母奖励", "就业失业登记", "城乡居民医保参保登记", "困难群众救助申请", "志愿服务证明"):
        check(n in names, f"item {n} present")
    items = {i["code"]: i for i in body["items"]}
    ctx["items"] = items
    ea = items["elderly_allowance"]
    check_eq([s["role"] for s in ea["steps"]], ["community", "street"], "高龄津贴: community then street review")
    check({"rule": "age_min", "value": 80} in ea["eligibility"], "高龄津贴 age rule is data")
    # admins edit the catalogue; others may not
    st, resp, body = jm.patch(f"/api/v1/service-items/{ea['id']}", {"description": "x"})
    check(is_problem(st, resp, body, 403), f"resident cannot edit an item ({st})")
    bad = {"code": "test_item", "name": "测试事项", "form": [{"key": "a", "label": "甲", "type": "text"}],
           "steps": [{"code": "s1", "name": "审核", "role": "mayor", "days": 3}]}
    st, resp, body = admin.post("/api/v1/service-items", bad)
    check(is_problem(st, resp, body, 422, "steps"), f"unknown step role refused ({st} {body})")
    bad["steps"][0]["role"] = "community"
    bad["form"][0]["type"] = "colour"
    st, resp, body = admin.post("/api/v1/service-items", bad)
    check(is_problem(st, resp, body, 422, "form"), f"unknown field type refused ({st} {body})")
    bad["form"][0]["type"] = "text"
    st, _, item = admin.post("/api/v1/service-items", bad)
    check_eq(st, 201, f"new item added without code ({item})")
    st, _, item = admin.patch(f"/api/v1/service-items/{item['id']}", {"active": False, "version": item["version"]})
    check(st == 200 and item["active"] is False, "item deactivated")
    st, _, body = jm.get("/api/v1/service-items")
    check_eq(len(body["items"]), 12, "inactive items hidden from residents")


def app_of(client, app_id):
    st, _, a = client.get(f"/api/v1/service-applications/{app_id}")
    check_eq(st, 200, f"get application {app_id}")
    return a


def test_residence_certificate_flow():
    jm, sa = ctx["jumin"], ctx["staff_a"]
    item = ctx["items"]["residence_certificate"]
    st, _, a = jm.post("/api/v1/service-applications",
                       {"item_id": item["id"], "form": {"purpose": "子女入学", "since": "2012-09-01"}})
    check_eq(st, 201, f"resident creates a draft ({a})")
    check_eq(a.get("status"), "draft", "draft")
    check_eq(a.get("proxy"), False, "applied by the resident")
    aid = a["id"]
    ctx["cert_app"] = aid
    # a resident cannot apply for someone else
    st, resp, body = jm.post("/api/v1/service-applications", {"item_id": item["id"], "resident_id": ctx["young"]["id"]})
    check(is_problem(st, resp, body, 403), f"resident applying for another person is 403 ({st})")

    # bad form values: the schema speaks, nothing changes
    version = a["version"]
    for form, field in (({"purpose": "买房"}, "form.purpose"), ({"since": "2099-01-01"}, "form.since"),
                        ({"since": "2012-13-01"}, "form.since"), ({"copies": 9}, "form.copies"),
                        ({"copies": "两份"}, "form.copies"), ({"salary": 1}, "form.salary")):
        st, resp, body = jm.patch(f"/api/v1/service-applications/{aid}", {"form": form})
        check(is_problem(st, resp, body, 422, field), f"bad form {form} refused naming {field} ({st} {body})")
    check_eq(app_of(jm, aid)["version"], version, "nothing changed by refused updates")

    # submitting without the required material says exactly what is missing
    st, resp, body = jm.post(f"/api/v1/service-applications/{aid}/submit")
    check(is_problem(st, resp, body, 422), f"submit without materials is 422 ({st} {body})")
    fields = [p["field"] for p in body.get("errors", [])]
    check("materials.id_card" in fields, f"missing ID card named: {body}")
    check(any("身份证" in p["message"] for p in body.get("errors", [])), "message names the material in Chinese")

    # uploads: wrong type, oversized, unknown key
    st, resp, body = jm.post(f"/api/v1/service-applications/{aid}/materials?key=id_card&filename=a.txt",
                             raw=b"hello, this is text", headers={"Content-Type": "application/octet-stream"})
    check(is_problem(st, resp, body, 415), f"text file as ID card refused ({st} {body})")
    big = JPEG + b"\x00" * (5 * 1024 * 1024)
    st, resp, body = jm.post(f"/api/v1/service-applications/{aid}/materials?key=id_card&filename=big.jpg",
                             raw=big, headers={"Content-Type": "image/jpeg"})
    check(is_problem(st, resp, body, 413), f"oversized ID card refused ({st} {body})")
    st, resp, body = jm.post(f"/api/v1/service-applications/{aid}/materials?key=passport&filename=p.jpg",
                             raw=JPEG, headers={"Content-Type": "image/jpeg"})
    check(is_problem(st, resp, body, 422, "key"), f"unknown material key refused ({st} {body})")
    check_eq(len(app_of(jm, aid)["materials"]), 0, "no material stored by refused uploads")
    uploads = os.path.join(S.data, "uploads")
    check(not os.path.isdir(uploads) or len(os.listdir(uploads)) == 0, "no file left behind by refused uploads")

    st, _, body = jm.post(f"/api/v1/service-applications/{aid}/materials?key=id_card&filename=%E8%BA%AB%E4%BB%BD%E8%AF%81.jpg",
                          raw=JPEG, headers={"Content-Type": "image/jpeg"})
    check_eq(st, 201, f"ID card uploaded ({body})")
    mats = body["materials"]
    check(len(mats) == 1 and mats[0]["content_type"] == "image/jpeg", f"material sniffed as JPEG: {mats}")
    st, resp, data = jm.get(f"/api/v1/service-applications/{aid}/materials/{mats[0]['id']}")
    check(st == 200 and data == JPEG, "material downloads byte for byte")

    st, _, a = jm.post(f"/api/v1/service-applications/{aid}/submit")
    check_eq(st, 200, f"submitted ({a})")
    check_eq(a["status"], "in_review", "in review")
    check_eq(a["step_role"], "community", "at the community step")
    check_eq(a["due_state"], "on_time", "within its time limit")

    # wrong reviewers: nothing changes
    st, resp, body = ctx["jiedao"].post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    check(is_problem(st, resp, body, 403), f"street officer at the community step is 403 ({st} {body})")
    check("社区" in body.get("detail", "") + body.get("title", ""), "the message names the step's role")
    st, resp, body = ctx["staff_b"].post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    check(is_problem(st, resp, body, 404), f"staff of another community get 404 ({st})")
    st, resp, body = jm.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    check(is_problem(st, resp, body, 403), f"the resident cannot review ({st})")
    st, resp, body = ctx["staff_a"].post(f"/api/v1/service-applications/{aid}/review", {"action": "return"})
    check(is_problem(st, resp, body, 422, "note"), f"return without what to correct is refused ({st} {body})")
    check_eq(app_of(jm, aid)["status"], "in_review", "still in review after refused reviews")

    # staff return it for correction
    st, _, a = sa.post(f"/api/v1/service-applications/{aid}/review",
                       {"action": "return", "note": "请补充房产证或租赁合同"})
    check_eq(st, 200, f"returned ({a})")
    check_eq(a["status"], "returned", "returned")
    check_eq(a["correction"], "请补充房产证或租赁合同", "what to correct")
    notes = inbox_until(jm, lambda b: any("补正" in n["title"] for n in b["items"]))
    check(any("补正" in n["title"] for n in notes["items"]), f"resident told to correct: {notes}")
    check(notes.get("unread", 0) >= 2, "unread notifications counted")

    # the resident corrects and resubmits
    st, _, a = jm.patch(f"/api/v1/service-applications/{aid}",
                        {"form": {"purpose": "子女入学", "since": "2011-03-01"}, "version": a["version"]})
    check_eq(st, 200, f"corrected ({a})")
    st, _, a = jm.post(f"/api/v1/service-applications/{aid}/materials?key=lease&filename=lease.pdf",
                       raw=PDF, headers={"Content-Type": "application/pdf"})
    check_eq(st, 201, "lease uploaded")
    st, _, a = jm.post(f"/api/v1/service-applications/{aid}/submit")
    check(st == 200 and a["status"] == "in_review", f"resubmitted ({st} {a})")

    st, _, q = sa.get("/api/v1/service-applications?queue=true")
    check(st == 200 and any(x["id"] == aid for x in q["items"]), "in the community staff's queue")
    st, _, q = ctx["jiedao"].get("/api/v1/service-applications?queue=true")
    check(st == 200 and not any(x["id"] == aid for x in q["items"]), "not in the street's queue")

    st, _, a = sa.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve", "note": "材料齐全"})
    check_eq(st, 200, f"approved ({a})")
    check_eq(a["status"], "approved", "approved")
    actions = [t["action"] for t in a["timeline"]]
    check_eq(actions, ["created", "material_added", "submitted", "returned", "updated", "material_added",
                       "resubmitted", "approved", "document_issued"], "the time line records every change")
    # the time line names the reviewer by display name (as it reads now), not by user name
    st, _, users = admin.get("/api/v1/users?limit=100")
    uid = next(x["id"] for x in users["items"] if x["username"] == "staff_a")
    st, _, u = admin.patch(f"/api/v1/users/{uid}", {"display_name": "王芳"})
    check_eq(st, 200, f"display name changed ({u})")
    approved = [t for t in app_of(jm, aid)["timeline"] if t["action"] == "approved"]
    check(approved and approved[0]["by"] == "王芳", f"the approval names 王芳, not staff_a: {approved}")
    certs = [d for d in a["documents"] if d["kind"] == "certificate"]
    check_eq(len(certs), 1, "a certificate was issued")
    ctx["cert_code"] = certs[0]["verify_code"] if certs else ""


def pdf_text(data):
    d = tempfile.mkdtemp()
    try:
        p = os.path.join(d, "doc.pdf")
        with open(p, "wb") as f:
            f.write(data)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", p, "-"], capture_output=True, timeout=60).stdout.decode()
        info = subprocess.run(["pdfinfo", p], capture_output=True, timeout=60).stdout.decode()
        return text, info
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_masked_values_kept_on_correction():
    """An ID number or phone comes back masked; sent back unchanged it keeps the stored value (the
    applicant correcting a form need not type them again); a changed one is checked as usual."""
    jm = ctx["jumin"]
    item = ctx["items"]["birth_registration"]
    spouse = make_id("110105", "19950203", 22)
    st, _, a = jm.post("/api/v1/service-applications",
                       {"item_id": item["id"], "form": {"spouse_name": "赵敏", "spouse_id_number": spouse,
                                                        "child_order": "一孩", "expected_date": "2027-03-01",
                                                        "contact_phone": "13900001111"}})
    check_eq(st, 201, f"birth registration draft ({a})")
    shown = app_of(jm, a["id"])["form"]
    check(shown["spouse_id_number"] != spouse and "*" in shown["spouse_id_number"], f"masked: {shown}")
    check(shown["contact_phone"] != "13900001111" and "*" in shown["contact_phone"], "phone masked")
    for _ in range(2):  # twice: the first must have kept the real values, or the second fails its check
        st, _, b = jm.patch(f"/api/v1/service-applications/{a['id']}", {"form": {**shown, "child_order": "二孩"}})
        check_eq(st, 200, f"the form sent back as shown ({b})")
    again = app_of(jm, a["id"])["form"]
    check_eq((again["spouse_id_number"], again["contact_phone"], again["child_order"]),
             (shown["spouse_id_number"], shown["contact_phone"], "二孩"), "kept, and the change applied")
    bad = shown["spouse_id_number"].replace("*", "0", 1)
    st, resp, body = jm.patch(f"/api/v1/service-applications/{a['id']}", {"form": {**shown, "spouse_id_number": bad}})
    check(is_problem(st, resp, body, 422, "form.spouse_id_number"), f"an edited mask is checked as a new value ({st})")
    other = make_id("310104", "19940708", 35)  # another city: its mask differs (the mask keeps 4 digits)
    st, _, b = jm.patch(f"/api/v1/service-applications/{a['id']}", {"form": {**shown, "spouse_id_number": other}})
    check_eq(st, 200, "a new ID number")
    check(app_of(jm, a["id"])["form"]["spouse_id_number"] != shown["spouse_id_number"], "the new number is stored")
    st, _, _ = jm.request("DELETE", f"/api/v1/service-applications/{a['id']}")


def test_documents_and_verification():
    jm = ctx["jumin"]
    aid = ctx["cert_app"]
    st, resp, data = jm.get(f"/api/v1/service-applications/{aid}/documents/certificate")
    check_eq(st, 200, "certificate PDF")
    check(resp.getheader("Content-Type") == "application/pdf" and data[:5] == b"%PDF-", "it is a PDF")
    if shutil.which("pdftotext") is None:
        check(False, "pdftotext missing (scripts/deps.sh test installs poppler-utils)")
        return
    text, info = pdf_text(data)
    check("和平社区" in text, f"the community's name is in the PDF text: {text[:300]!r}")
    check("居住证明" in text and "李秀英" in text, "title and holder in the PDF")
    check("子女入学" in text, "the form's purpose is filled into the certificate")
    m = re.search(r"核验码：(\d+-[a-z2-7]{16})", text)
    check(m is not None, f"verification code printed: {text!r}")
    code = m.group(1) if m else ""
    check_eq(code, ctx["cert_code"], "printed code is the application's document code")
    check(code in info, "verification code also in the PDF metadata (Keywords)")
    check(re.search(r"编号：ZM\d{4}-\d{6}", text) is not None, "serial number printed")

    anon = S.client()
    st, _, v = anon.get(f"/verify/{code}")
    check_eq(st, 200, f"public verification ({v})")
    check(v.get("valid") is True and v.get("community") == "和平社区" and v.get("title") == "居住证明",
          f"genuine certificate: {v}")
    check("秀英" not in v.get("holder", "秀英"), "holder's name is masked in the public answer")
    # altered and forged codes fail
    last = code[-1]
    altered = code[:-1] + ("a" if last != "a" else "b")
    st, resp, body = anon.get(f"/verify/{altered}")
    check(is_problem(st, resp, body, 404), f"altered code fails ({st} {body})")
    doc_id, mac = code.split("-")
    st, resp, body = anon.get(f"/verify/{int(doc_id) + 1}-{mac}")
    check(is_problem(st, resp, body, 404), f"code moved to another id fails ({st})")
    st, resp, body = anon.get("/verify/1-aaaaaaaaaaaaaaaa")
    check(is_problem(st, resp, body, 404), "forged code fails")
    st, resp, body = anon.get("/verify/not-a-code")
    check(is_problem(st, resp, body, 404), "garbage fails")
    st, resp, html = anon.get(f"/verify/{code}", headers={"Accept": "text/html"})
    check(st == 200 and "文书真实有效" in html.decode(), "HTML answer for a phone's browser")
    page = html.decode()
    check(re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", page) is None, "no raw ISO timestamp on the page")
    check(re.search(r"出具日期</dt><dd>\d{4}年\d{1,2}月\d{1,2}日</dd>", page) is not None, f"the day in Chinese: {page[-900:]}")
    check('class="card ok"' in page and "background:#16a34a" in page, "a styled card with the verdict in colour")
    check(v.get("issued_on", "").endswith("日"), f"issued_on in the JSON answer: {v}")

    st, resp, data = jm.get(f"/api/v1/service-applications/{aid}/documents/application")
    check(st == 200 and data[:5] == b"%PDF-", "application form PDF")
    text, _ = pdf_text(data)
    check("居住证明申请表" in text and "和平社区" in text, "application form in Chinese with the community")
    st, resp, body = jm.get(f"/api/v1/service-applications/{aid}/documents/receipt")
    check(is_problem(st, resp, body, 422, "kind") or is_problem(st, resp, body, 400), f"unknown kind refused ({st})")


def full_allowance_form():
    return {"bank_name": "中国工商银行", "bank_account": "6222020200112233445", "contact_phone": "13800001111"}


def allowance_app(client, resident_id):
    item = ctx["items"]["elderly_allowance"]
    st, _, a = client.post("/api/v1/service-applications",
                           {"item_id": item["id"], "resident_id": resident_id, "form": full_allowance_form()})
    check_eq(st, 201, f"高龄津贴 draft ({a})")
    for key in ("id_card", "hukou", "bank_card"):
        st, _, _ = client.post(f"/api/v1/service-applications/{a['id']}/materials?key={key}&filename={key}.jpg",
                               raw=JPEG, headers={"Content-Type": "image/jpeg"})
        check_eq(st, 201, f"material {key}")
    return a["id"]


def test_allowance_refused_under_80():
    sa = ctx["staff_a"]
    aid = allowance_app(sa, ctx["young"]["id"])
    st, resp, body = sa.post(f"/api/v1/service-applications/{aid}/submit")
    check(is_problem(st, resp, body, 422), f"under-80 application refused ({st} {body})")
    rules = {p.get("rule"): p["message"] for p in body.get("errors", [])}
    check("age_min" in rules and "80" in rules.get("age_min", ""), f"the reason names the age: {body}")
    check("现年" in rules.get("age_min", ""), "and the applicant's age")
    check_eq(app_of(sa, aid)["status"], "draft", "still a draft")
    # staff cannot apply on behalf of another community's resident
    st, resp, body = sa.post("/api/v1/service-applications",
                             {"item_id": ctx["items"]["elderly_allowance"]["id"], "resident_id": ctx["bres"]["id"]})
    check(is_problem(st, resp, body, 404), f"proxy outside the community is 404 ({st})")


def test_eligibility_before_the_form():
    """Issue 19 item 6: the hall says who may apply before any form, and a resident's draft that could
    never be submitted is not kept (refused with the reason)."""
    jm, sa = ctx["jumin"], ctx["staff_a"]
    ea = ctx["items"]["elderly_allowance"]
    st, _, el = jm.get(f"/api/v1/service-items/{ea['id']}/eligibility")
    check(st == 200 and el["eligible"] is False and el["resident_id"] == ctx["li"]["id"], f"李秀英 (66) may not ({el})")
    check(any(x["rule"] == "age_min" and "80" in x["message"] and "现年" in x["message"] for x in el["reasons"]),
          f"the reason names the age: {el}")
    st, _, body = jm.get("/api/v1/service-items?eligibility=true")
    check_eq(st, 200, "the resident's list with eligibility")
    by = {i["code"]: i["may_apply"] for i in body["items"]}
    check(by["elderly_allowance"]["eligible"] is False and by["residence_certificate"]["eligible"] is True,
          f"per item: {by['elderly_allowance']} {by['residence_certificate']}")
    before = len(jm.get("/api/v1/service-applications?limit=100")[2]["items"])
    st, resp, body = jm.post("/api/v1/service-applications", {"item_id": ea["id"], "form": {}})
    check(is_problem(st, resp, body, 422, "eligibility") and "80" in body["detail"], f"no dead draft ({st} {body})")
    check_eq(len(jm.get("/api/v1/service-applications?limit=100")[2]["items"]), before, "nothing kept")
    # staff ask for a resident in their scope; another community's resident is not found
    st, _, el = sa.get(f"/api/v1/service-items/{ea['id']}/eligibility?resident_id={ctx['old']['id']}")
    check(st == 200 and el["eligible"] is True, f"刘德明 (85) may ({el})")
    st, resp, body = sa.get(f"/api/v1/service-items/{ea['id']}/eligibility?resident_id={ctx['bres']['id']}")
    check(is_problem(st, resp, body, 404), f"outside the scope is 404 ({st})")
    st, resp, body = sa.get(f"/api/v1/service-items/{ea['id']}/eligibility")
    check(is_problem(st, resp, body, 422, "resident_id"), f"staff must name the resident ({st})")
    st, resp, body = jm.get(f"/api/v1/service-items/{ea['id']}/eligibility?resident_id={ctx['old']['id']}")
    check(is_problem(st, resp, body, 403, "resident_id"), f"a resident asks only for themselves ({st})")


def test_allowance_two_levels():
    sa, jd = ctx["staff_a"], ctx["jiedao"]
    aid = allowance_app(sa, ctx["old"]["id"])
    st, _, a = sa.post(f"/api/v1/service-applications/{aid}/submit")
    check(st == 200 and a["proxy"] is True and a["status"] == "in_review", f"proxy submission ({st} {a})")
    st, _, a = sa.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    check(st == 200 and a["step_role"] == "street" and a["status"] == "in_review", f"to the street step ({a})")
    st, resp, body = sa.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    check(is_problem(st, resp, body, 403), f"community staff cannot do the street step ({st})")
    st, _, q = jd.get("/api/v1/service-applications?queue=true")
    check(any(x["id"] == aid for x in q["items"]), "in the street officer's queue across communities")
    st, _, a = jd.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    check(st == 200 and a["status"] == "approved", f"approved by the street ({st} {a})")
    st, _, rec = sa.get("/api/v1/allowance/recipients")
    mine = [r for r in rec.get("items", []) if r["resident_id"] == ctx["old"]["id"]]
    check(len(mine) == 1 and mine[0]["tier_age"] == 80 and mine[0]["monthly_amount"] == 10000,
          f"recipient at the 80 tier, 100 yuan: {rec}")
    # applying again is refused: already receiving
    aid2 = allowance_app(sa, ctx["old"]["id"])
    st, resp, body = sa.post(f"/api/v1/service-applications/{aid2}/submit")
    check(is_problem(st, resp, body, 422) and any(p.get("rule") == "not_receiving" for p in body.get("errors", [])),
          f"second application refused: already receiving ({body})")
    # roster of next month lists the recipient
    y, m = next_month(TODAY)
    st, resp, data = sa.get(f"/api/v1/allowance/roster?month={y:04d}-{m:02d}")
    check(st == 200 and data[:2] == b"PK", f"roster xlsx ({st})")
    if st == 200:
        z = zipfile.ZipFile(io.BytesIO(data))
        strings = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() else ""
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        check("刘德明" in strings + sheet and "80-89周岁" in strings + sheet, "roster row with name and tier")
        check_eq(resp.getheader("X-Row-Count"), "1", "one recipient in the roster")
    st, resp, body = sa.get("/api/v1/allowance/roster?month=2026-13")
    check(is_problem(st, resp, body, 422, "month") or is_problem(st, resp, body, 400), "bad month refused")


def test_coming_of_age():
    st, _, body = ctx["staff_a"].get("/api/v1/allowance/coming-of-age")
    check_eq(st, 200, "coming-of-age list")
    y, m = next_month(TODAY)
    check_eq(body.get("month"), f"{y:04d}-{m:02d}", "for next month")
    by = {i["resident_id"]: i for i in body.get("items", [])}
    check(ctx["turning80"]["id"] in by and by[ctx["turning80"]["id"]]["turning"] == 80, "turning 80 listed")
    check(ctx["turning90"]["id"] in by and by[ctx["turning90"]["id"]]["turning"] == 90, "turning 90 listed")
    check(ctx["not_turning"]["id"] not in by, "a resident turning 80 this month is not listed")
    check(ctx["old"]["id"] not in by, "an 85-year-old is not listed")
    st, _, body = ctx["staff_b"].get("/api/v1/allowance/coming-of-age")
    check(all(i["resident_id"] != ctx["turning80"]["id"] for i in body.get("items", [])), "scoped to the community")
    st, resp, body = ctx["jumin"].get("/api/v1/allowance/coming-of-age")
    check(is_problem(st, resp, body, 403), "residents cannot read the outreach list")
    # over 80 and not receiving: the 85-year-old approved above is not listed, an unreached 89-year-old is
    st, _, miss = ctx["staff_a"].get("/api/v1/allowance/missing")
    ids = [i["resident_id"] for i in miss.get("items", [])]
    check(st == 200 and ctx["turning90"]["id"] in ids and ctx["old"]["id"] not in ids and miss["total"] == len(ids),
          f"the outreach list of over-80s not receiving ({st} {miss})")
    check(ctx["young"]["id"] not in ids and ctx["bres"]["id"] not in ids, "under 80 and other communities are not")
    st, resp, body = ctx["jumin"].get("/api/v1/allowance/missing")
    check(is_problem(st, resp, body, 403), "residents cannot read it")


def test_stats_and_sweep():
    st, _, s = ctx["staff_a"].get("/api/v1/stats/services")
    check_eq(st, 200, f"statistics ({s})")
    check(s.get("by_status", {}).get("approved") == 2, f"two approved in community A: {s.get('by_status')}")
    check(any(i["name"] == "居住证明" and i["total"] == 1 for i in s.get("by_item", [])), "by item")
    check(s.get("overdue") == 0 and isinstance(s.get("avg_handling_hours"), (int, float)), "overdue and average")
    st, _, sb = ctx["staff_b"].get("/api/v1/stats/services")
    check_eq(sb.get("total"), 0, "community B sees none of A's applications")
    st, resp, body = ctx["jumin"].get("/api/v1/stats/services")
    check(is_problem(st, resp, body, 403), "residents cannot read statistics")
    st, _, sw = ctx["staff_a"].post("/api/v1/services/sweep")
    check(st == 200 and sw.get("escalated") == 0, f"sweep runs ({sw})")


def test_messages_through_rules():
    """The service hall's inbox messages come from its events through the message service's rules
    (migration 030): the applicant hears every step with a link to the resident's page, the reviewers
    of a step (a rule added as data) and the next in the review chain when a step is overdue."""
    jm, sa, jd, aid = ctx["jumin"], ctx["staff_a"], ctx["jiedao"], ctx["cert_app"]
    serial = app_of(jm, aid)["serial"]
    def mine_of(b):
        return [m for m in reversed(b["items"]) if m["link"] == f"/m/services/{aid}"]
    notes = inbox_until(jm, lambda b: len(mine_of(b)) >= 4)
    mine = mine_of(notes)
    check_eq([m["kind"] for m in mine], ["services.application.submitted", "services.application.returned",
                                         "services.application.submitted", "services.application.approved"],
             "the applicant heard every step, each opening the application on the phone")
    if len(mine) == 4:
        check_eq(mine[0]["title"], "您的“居住证明”申请已提交，等待社区受理审核", "submitted: the item and the step")
        check_eq(mine[1]["body"], "请补充房产证或租赁合同", "returned: what to correct")
        check_eq(mine[3]["title"], "您的“居住证明”申请已办结（审核通过），可下载证明文书", "approved with a certificate")
        check_eq(mine[3]["body"], serial, "the serial number")

    # the reviewers of the step hear of a new application once a rule says so (rules are data)
    st, _, rules = admin.get("/api/v1/message-rules")
    items = [{k: r[k] for k in ("kind", "recipient", "match_on", "channels", "title", "template", "urgent", "enabled")}
             for r in rules["items"]]
    extra = {"kind": "services.application.submitted", "recipient": "reviewers", "channels": ["inapp"],
             "title": "新的服务申请待审核：{title}", "template": "{serial}，{step_name}"}
    st, _, body = admin.request("PUT", "/api/v1/message-rules", body={"rules": items + [extra]})
    check_eq(st, 200, f"a reviewers rule added ({body})")
    item = ctx["items"]["residence_certificate"]
    st, _, a = jm.post("/api/v1/service-applications",
                       {"item_id": item["id"], "form": {"purpose": "子女入学", "since": "2012-09-01"}})
    check_eq(st, 201, f"another application ({a})")
    bid = a["id"]
    st, _, _ = jm.post(f"/api/v1/service-applications/{bid}/materials?key=id_card&filename=id.jpg",
                       raw=JPEG, headers={"Content-Type": "image/jpeg"})
    st, _, a = jm.post(f"/api/v1/service-applications/{bid}/submit")
    check(st == 200 and a["status"] == "in_review", f"submitted ({st} {a})")
    # read before the rule goes again (the service applies the rules as they are when it handles the event)
    def submitted(b):
        return [m for m in b["items"] if m["kind"] == "services.application.submitted"]
    new = submitted(inbox_until(sa, submitted))
    st, _, body = admin.request("PUT", "/api/v1/message-rules", body={"rules": items})
    check_eq(st, 200, "the rules as they were")
    check(len(new) == 1 and new[0]["title"] == "新的服务申请待审核：居住证明" and
          new[0]["link"] == f"/services/applications/{bid}", f"the community's reviewers heard of it ({new})")
    check(not [m for m in ctx["staff_b"].get("/api/v1/notifications?limit=100")[2]["items"]
               if m["kind"] == "services.application.submitted"], "another community's staff did not")

    # overdue at the community step: the street's officers are told, with the console link
    S.sql_exec(f"UPDATE service_applications SET due_at = 1000 WHERE id = {bid}")
    st, _, sw = sa.post("/api/v1/services/sweep")
    check(st == 200 and sw.get("escalated") == 1, f"one escalated ({sw})")
    bserial = a.get("serial", "")
    def overdue(b):
        return [m for m in b["items"] if m["kind"] == "services.application.overdue"]
    esc = overdue(inbox_until(jd, overdue))
    check(len(esc) == 1 and esc[0]["title"] == f"申请 {bserial}（居住证明）已超过办理时限，请督办"
          and esc[0]["link"] == f"/services/applications/{bid}" and "社区受理审核" in esc[0]["body"]
          and not esc[0]["read"], f"the street officer is told ({esc})")
    check(not [m for m in sa.get("/api/v1/notifications?limit=100")[2]["items"]
               if m["kind"] == "services.application.overdue"], "not the community step's own staff")
    st, _, _ = jm.post(f"/api/v1/service-applications/{bid}/withdraw", {"note": "不再需要"})
    check_eq(st, 200, "withdrawn again")


def test_lists_and_scope():
    st, _, mine = ctx["jumin"].get("/api/v1/service-applications")
    check(st == 200 and all(a["resident_id"] == ctx["li"]["id"] for a in mine["items"]) and mine["items"],
          "a resident lists only their own applications")
    st, _, b = ctx["staff_b"].get("/api/v1/service-applications")
    check_eq(b.get("items"), [], "community B sees no applications of A")
    st, resp, body = ctx["staff_b"].get(f"/api/v1/service-applications/{ctx['cert_app']}")
    check(is_problem(st, resp, body, 404), "another community's application is not found")
    st, _, page = ctx["staff_a"].get("/api/v1/service-applications?limit=1")
    check(st == 200 and len(page["items"]) == 1 and page["next_cursor"], "paged by cursor")
    st, _, page2 = ctx["staff_a"].get(f"/api/v1/service-applications?limit=1&cursor={page['next_cursor']}")
    check(page2["items"] and page2["items"][0]["id"] < page["items"][0]["id"], "next page continues")
    st, _, every = ctx["staff_a"].get("/api/v1/service-applications?limit=200")
    check_eq((page["total"], page2["total"]), (len(every["items"]), len(every["items"])), "total: all that match, any page")
    # the street officer narrows the list to one community
    jd = ctx["jiedao"]
    st, _, all_street = jd.get("/api/v1/service-applications?limit=200")
    st, _, in_a = jd.get(f"/api/v1/service-applications?limit=200&community_id={ctx['ca']['id']}")
    st, _, in_b = jd.get(f"/api/v1/service-applications?limit=200&community_id={ctx['cb']['id']}")
    check(in_a["items"] and all(x["community_id"] == ctx["ca"]["id"] for x in in_a["items"]), "community A only")
    check_eq(in_a["total"] + in_b["total"], all_street["total"], "A and B make up the street")
    st, _, none = ctx["staff_b"].get(f"/api/v1/service-applications?community_id={ctx['ca']['id']}")
    check_eq((st, none["total"], none["items"]), (200, 0, []), "a filter never widens the scope")
    st, resp, body = ctx["staff_a"].get("/api/v1/service-applications?status=bogus")
    check(is_problem(st, resp, body, 422, "status") or is_problem(st, resp, body, 400), "bad status filter")


# Text found only in the roster's query and only in the recipients list's query (allowance.c).
ROSTER_SQL = "ar.stop_date, ar.id, ar.community_id FROM allowance_recipients"
RECIPIENTS_SQL = "ar.application_id FROM allowance_recipients"


def restart(fault=None, tmpdir=None):
    """Restart S, with NX_STORE_FAULT (test-only: the Nth row of a query containing TEXT fails as a lost
    connection) and TMPDIR when given; returns a new admin client."""
    S.stop()
    env = dict(os.environ)
    env.pop("NX_STORE_FAULT", None)
    if fault:
        env["NX_STORE_FAULT"] = fault
    if tmpdir:
        env["TMPDIR"] = tmpdir
    S.start(env=env)
    return S.login()


def roster_audits(client):
    st, _, au = client.get("/api/v1/audit?action=export&object_type=allowance_roster&limit=200")
    check_eq(st, 200, f"audit list ({au})")
    return len(au.get("items", []))


def test_read_fault_fails_roster_and_list():
    """A read that fails mid-stream is the answer (503), never a short roster audited as complete or a
    short list with 200 (issue 11)."""
    sb, jd = ctx["staff_b"], ctx["jiedao"]
    aid = allowance_app(sb, ctx["bres"]["id"])  # a second recipient, in community B
    st, _, a = sb.post(f"/api/v1/service-applications/{aid}/submit")
    check_eq(st, 200, f"B's allowance submitted ({a})")
    st, _, a = sb.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    st, _, a = jd.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    check(st == 200 and a["status"] == "approved", f"B's allowance approved ({st} {a})")
    y, m = next_month(TODAY)
    month = f"{y:04d}-{m:02d}"
    st, resp, _ = admin.get(f"/api/v1/allowance/roster?month={month}")
    check(st == 200 and resp.getheader("X-Row-Count") == "2", f"the whole roster has two rows ({st})")
    st, _, rec = admin.get("/api/v1/allowance/recipients")
    check_eq(len(rec.get("items", [])), 2, "two recipients")
    tmp = tempfile.mkdtemp(prefix="nxroster-")
    try:
        ad = restart(f"{ROSTER_SQL}@2", tmp)
        audits = roster_audits(ad)
        st, resp, body = ad.get(f"/api/v1/allowance/roster?month={month}")
        check(is_problem(st, resp, body, 503), f"roster whose second row fails: 503, not a short file ({st})")
        check_eq(roster_audits(ad), audits, "no audit entry for the failed roster")
        check_eq(os.listdir(tmp), [], "no export file left behind")
        st, _, rec = ad.get("/api/v1/allowance/recipients")
        check_eq((st, len(rec.get("items", []))), (200, 2), "other reads are not touched by the fault")
        ad = restart(f"{RECIPIENTS_SQL}@2")
        st, resp, body = ad.get("/api/v1/allowance/recipients")
        check(is_problem(st, resp, body, 503), f"recipients list whose second row fails: 503, not 200 with one ({st})")
    finally:
        restart()
        shutil.rmtree(tmp, ignore_errors=True)


def test_tier_recorded_is_promised_and_account_masked():
    """Issue 19: the tier recorded at approval is the tier the coming-of-age list promised (吴振华 turns
    90 next month: 90-99周岁, not 80+), and a reviewer reads the bank account masked."""
    sa, jd = S.login("staff_a", PASSWORD), S.login("jiedao_x", PASSWORD)
    st, _, body = sa.get("/api/v1/allowance/coming-of-age")
    promise = {i["resident_id"]: i for i in body.get("items", [])}.get(ctx["turning90"]["id"])
    check(promise is not None and promise["tier_label"] == "90-99周岁", f"the list promises the 90 tier: {promise}")
    aid = allowance_app(sa, ctx["turning90"]["id"])
    st, _, a = sa.get(f"/api/v1/service-applications/{aid}")
    acct = a.get("form", {}).get("bank_account", "")
    check(acct != full_allowance_form()["bank_account"] and acct.endswith("3445") and "*" in acct,
          f"the reviewer sees the bank account masked ({acct})")
    st, _, a = sa.post(f"/api/v1/service-applications/{aid}/submit")
    check_eq(st, 200, f"submitted ({a})")
    sa.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    st, _, a = jd.post(f"/api/v1/service-applications/{aid}/review", {"action": "approve"})
    check(st == 200 and a["status"] == "approved", f"approved ({st} {a})")
    st, _, rec = sa.get("/api/v1/allowance/recipients")
    mine = [r for r in rec.get("items", []) if r["resident_id"] == ctx["turning90"]["id"]]
    check(len(mine) == 1 and promise is not None and mine[0]["tier_age"] == 90
          and mine[0]["monthly_amount"] == promise["monthly_amount"],
          f"recorded at the promised tier ({mine} vs {promise})")


def test_disability_subsidy_tags_and_opens_file():
    """Issue 19: approving 残疾人两项补贴 tags the resident 残疾 and opens a 残疾 care file."""
    sa, jd = S.login("staff_a", PASSWORD), S.login("jiedao_x", PASSWORD)
    item = ctx["items"]["disability_subsidy"]
    rid = ctx["li"]["id"]
    st, _, a = sa.post("/api/v1/service-applications", {"item_id": item["id"], "resident_id": rid, "form": {
        "disability_cert_no": "37010219600305221", "level": "二级", "subsidy": "两项补贴"}})
    check_eq(st, 201, f"draft ({a})")
    for key in ("id_card", "disability_cert"):
        sa.post(f"/api/v1/service-applications/{a['id']}/materials?key={key}&filename={key}.jpg", raw=JPEG,
                headers={"Content-Type": "image/jpeg"})
    st, _, b = sa.post(f"/api/v1/service-applications/{a['id']}/submit")
    check_eq(st, 200, f"submitted ({b})")
    sa.post(f"/api/v1/service-applications/{a['id']}/review", {"action": "approve"})
    st, _, b = jd.post(f"/api/v1/service-applications/{a['id']}/review", {"action": "approve"})
    check(st == 200 and b["status"] == "approved", f"approved ({st} {b})")
    st, _, r = sa.get(f"/api/v1/residents/{rid}")
    codes = [t.get("code") if isinstance(t, dict) else t for t in r.get("tags", [])]
    check("disabled" in codes, f"the approval tags the resident 残疾 ({r.get('tags')})")
    files = []
    for _ in range(50):
        st, _, fl = sa.get(f"/api/v1/care-files?resident_id={rid}")
        files = fl.get("items", [])
        if files:
            break
        time.sleep(0.1)
    check(len(files) == 1 and files[0]["category"] == "disabled", f"a 残疾 care file is opened ({files})")


def test_no_open_application():
    """The no_open_application rule of the catalogue: while an application of an item is open (in review
    or returned) another one of the same item for the same resident is refused with the rule's message
    (before the form and at submission); once the open one is closed (withdrawn here), the next is
    accepted. An open application of another item does not count."""
    sa, adm = S.login("staff_a", PASSWORD), S.login()  # the server was restarted by the read-fault test
    item = ctx["items"]["residence_certificate"]
    check({"rule": "no_open_application"} in item["eligibility"], f"居住证明 has the rule ({item['eligibility']})")
    st, _, res = adm.post("/api/v1/residents", {"name": "孙志远", "id_number": make_id("370102", "19780412", 35),
                                                "community_id": ctx["ca"]["id"], "residence": "registered"})
    check_eq(st, 201, f"resident ({res})")
    form = {"purpose": "就业", "since": "2015-03-01"}

    def draft():
        st, _, a = sa.post("/api/v1/service-applications", {"item_id": item["id"], "resident_id": res["id"], "form": form})
        check_eq(st, 201, f"draft ({a})")
        st, _, _ = sa.post(f"/api/v1/service-applications/{a['id']}/materials?key=id_card&filename=id.jpg", raw=JPEG,
                           headers={"Content-Type": "image/jpeg"})
        check_eq(st, 201, "material id_card")
        return a["id"]

    def eligibility(item_id):
        st, _, el = sa.get(f"/api/v1/service-items/{item_id}/eligibility?resident_id={res['id']}")
        check_eq(st, 200, f"eligibility ({el})")
        return el

    check_eq(eligibility(item["id"])["eligible"], True, "no application yet: eligible")
    first = draft()
    check_eq(eligibility(item["id"])["eligible"], True, "a draft is not open")
    st, _, a = sa.post(f"/api/v1/service-applications/{first}/submit")
    check(st == 200 and a["status"] == "in_review", f"the first is in review ({st} {a})")
    el = eligibility(item["id"])
    check(el["eligible"] is False and {"rule": "no_open_application", "message": "申请人已有一件同类申请正在办理中"}
          in [{"rule": x["rule"], "message": x["message"]} for x in el["reasons"]], f"refused before the form ({el})")
    other = ctx["items"]["employment_registration"]
    check({"rule": "no_open_application"} in other["eligibility"], "就业失业登记 has the rule too")
    check(not any(x["rule"] == "no_open_application" for x in eligibility(other["id"])["reasons"]),
          "an open application of another item does not count")
    second = draft()
    st, resp, body = sa.post(f"/api/v1/service-applications/{second}/submit")
    check(is_problem(st, resp, body, 422) and {"field": "eligibility", "rule": "no_open_application",
                                                "message": "申请人已有一件同类申请正在办理中"} in body.get("errors", []),
          f"the second is refused at submission ({st} {body})")
    check_eq(app_of(sa, second)["status"], "draft", "the second is still a draft")
    # returned for correction is still open
    st, _, a = sa.post(f"/api/v1/service-applications/{first}/review", {"action": "return", "note": "请补充租赁合同"})
    check(st == 200 and a["status"] == "returned", f"the first is returned ({st} {a})")
    check_eq(eligibility(item["id"])["eligible"], False, "returned is open")
    # closed: the next one is accepted
    st, _, a = sa.post(f"/api/v1/service-applications/{first}/withdraw", {"note": "重新申请"})
    check(st == 200 and a["status"] == "withdrawn", f"the first is withdrawn ({st} {a})")
    check_eq(eligibility(item["id"])["eligible"], True, "only a closed one: eligible")
    st, _, a = sa.post(f"/api/v1/service-applications/{second}/submit")
    check(st == 200 and a["status"] == "in_review", f"the second is accepted ({st} {a})")


def test_status_filter():
    """?status= of the application and allowance recipient lists: the kit's rule (app_query_enum)."""
    adm = S.login()  # the server was restarted by the read-fault test
    check_enum_filter(adm, "/api/v1/service-applications?limit=200", "status",
                      ["draft", "in_review", "returned", "approved", "rejected", "withdrawn"])
    check_enum_filter(adm, "/api/v1/allowance/recipients?limit=200", "status", ["active", "stopped"])


def test_clean_stop():
    S.cleanup()  # a graceful stop with no sanitizer report, checked before the summary


try:
    run([test_setup, test_catalogue, test_residence_certificate_flow, test_masked_values_kept_on_correction,
         test_documents_and_verification,
         test_allowance_refused_under_80, test_eligibility_before_the_form, test_allowance_two_levels, test_coming_of_age, test_stats_and_sweep,
         test_messages_through_rules,
         test_lists_and_scope, test_read_fault_fails_roster_and_list,
         test_tier_recorded_is_promised_and_account_masked, test_disability_subsidy_tags_and_opens_file,
         test_no_open_application, test_status_filter, test_clean_stop])
finally:
    S.cleanup()
