#!/usr/bin/env python3
"""Writes the seed corpus of the codec fuzzers (tests/fuzz/corpus/<target>/) from the examples of
shared/protocols/watch.md and iw.md and their documented quirks. Run it again after changing the list;
libFuzzer may add its own finds to the same folders (keep those small)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

POS = "041126,081530,A,22.570733,N,113.8626083,E,0.00,249.5,0.0,6,100,66,1520,0,00000000"
WATCH = {
    "lk_plain": b"[SG*5678901234*0002*LK]",
    "lk_counters": b"[3G*5678901234*000B*LK,812,3,76]",
    "lk_lower": b"[3G*5678901234*0002*lk]",
    "lk_idx": b"[ZJ*5678901234*00A1*0002*LK]",
    "lk_imei": b"[CS*867584031234567*0002*LK]",
    "al_sos_nofix": b"[3G*5678901234*006F*AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000,1,255,460,0,25871,13042,140,0,12.0]",
    "al_fall_fix": ("[3G*5678901234*0100*AL_LTE," + POS.replace("00000000", "00200000") + ",2,1,460,0,9520,3671,-70,9520,3672,-60,1,[Home AP],74:de:2b:44:88:8c,-55,20]").encode(),
    "al_general": b"[3G*5678901234*0030*ALCUSTOMER1,,,V,,,,,,,,,,,,,0]",
    "al_garbled": b"[3G*5678901234*0030*AL,xx,yy,Q,north,,,,]",
    "ud_fix": ("[3G*5678901234*0079*UD," + POS + ",0]").encode(),
    "ud2_cells_hex": ("[3G*5678901234*0079*UD2," + POS + ",2,0,460,0,25a1,3f0c,,25872,13043,-80,0]").encode(),
    "ud_wifi": ("[3G*5678901234*0099*UD_WCDMA," + POS + ",0,3,,00:11:22:33:44:55,-60,my ssid,AA-BB-CC-DD-EE-FF,-70,a]b[c,001122334455,]").encode(),
    "ud_south_west": b"[SG*123456789*0050*UD,010125,235959,A,-33.868820,S,151.209290,W,3.5,90,12,7,60,100,10,0,0]",
    "ud_leading_space": b"[3G*5678901234*0050*UD3,041126,081530,A, 22.570733,,+113.8626083,,0,0,0,0,0,0,0,0,0000]",
    "wt": ("[3G*5678901234*0079*WT," + POS + "]").encode(),
    "ud_lte_short": b"[3G*5678901234*0020*UD_LTE,041126,081530,V,0,N,0,E]",
    "bphrt": b"[3G*5678901234*0014*bphrt,158,96,104,,,,]",
    "bphrt_upper": b"[3G*5678901234*0014*BPHRT,120,80,0,170,1,80,60]",
    "blood": b"[3G*5678901234*000C*BLOOD,130,85]",
    "pulse": b"[3G*5678901234*0008*PULSE,72]",
    "heart": b"[3G*5678901234*0008*heart,0]",
    "oxygen": b"[3G*5678901234*000A*oxygen,1,97]",
    "oxygen_low": b"[3G*5678901234*000A*OXYGEN,1,85]",
    "btemp2": b"[3G*5678901234*000E*btemp2,1,36.55]",
    "temp": b"[3G*5678901234*0009*TEMP,36.8]",
    "config": b"[3G*5678901234*0020*CONFIG,TY:g36,UL:60,SY:0,CM:0,WT:0,HR:1,TB:5,CS:0,PP:1,AB:0,HH:1,TR:0]",
    "ccid": b"[3G*5678901234*0019*CCID,89860117851014783481]",
    "tkq": b"[3G*5678901234*0003*TKQ]",
    "tkq2": b"[3G*5678901234*0004*TKQ2]",
    "tk_voice": b"[3G*5678901234*0010*TK,#!AMR\n\x3c\x7d\x01\x7d\x02\x7d\x03\x7d\x04\x7d\x05\x00\xff]",
    "tk_ack": b"[3G*5678901234*0004*TK,1]",
    "tk_bad_escape": b"[3G*5678901234*0010*TK,#!AMR\x7d\x06]",
    "init": b"[3G*5678901234*0010*INIT,13800138000,1,1,gc66]",
    "cmd_reply_cr": b"[3G*5678901234*0002*CR]",
    "cmd_reply_upload": b"[3G*5678901234*0006*UPLOAD]",
    "unknown": b"[3G*5678901234*0009*WHATEVER,1,2]",
    "bad_header": b"[3G*56789x1234*0002*LK]",
    "bad_no_len": b"[3G*5678901234*LK]",
    "empty_type": b"[3G*5678901234*0000*]",
}

IW_BLOCK = "261126A3627.4412N11617.9050E000.0081530000.0006001008800102"
IW = {
    "login": b"IWAP00353456789012345#",
    "login_full": b"IWAP00353456789012345,89860117851014783481,460011234567890#",
    "login_trv": b"TRVAP00353456789012345#",
    "ap01": ("IWAP01" + IW_BLOCK + ",460,0,9520,3671#").encode(),
    "ap01_wifi": ("IWAP01" + IW_BLOCK + ",460,0,9520,3671,Home|74-DE-2B-44-88-8C|-55&a|b|c|00-11-22-33-44-55|-70#").encode(),
    "ap01_nofix": b"IWAP01261126V0000.0000N00000.0000E000.0081530000.0006000008800102,460,0,,#",
    "ap01_south_west": b"IWAP01250101A3351.1292S15112.5574W012.3235959090.5006008010000102,505,1,1234,5678#",
    "ap10_sos": ("IWAP10" + IW_BLOCK + ",460,0,9520,3671,01,zh-cn,00#").encode(),
    "ap10_fall_nofix": b"IWAP10261126V0000.0000N00000.0000E000.0081530000.0006000008800102,460,0,9520,3671,05,zh-cn,00#",
    "ap10_none": ("IWAP10" + IW_BLOCK + ",460,0,9520,3671,00,zh-cn,00#").encode(),
    "ap10_other": ("IWAP10" + IW_BLOCK + ",460,0,9520,3671,03,zh-cn,00,x|74-DE-2B-44-88-8C|-40#").encode(),
    "ap10_garbled": b"IWAP10garbage,460,0,9520,3671,01,zh-cn,00#",
    "ap02": b"IWAP02,zh_cn,0,3,460,0,9520|3671|13,9520|3672|12,9520|3673|11,2,abc|74-DE-2B-44-88-8C|-55&def|00-11-22-33-44-55|-60#",
    "ap03": b"IWAP03,06000908000102,5555,1#",
    "ap49": b"IWAP49,68#",
    "apht": b"IWAPHT,60,130,85#",
    "aphp": b"IWAPHP,60,130,85,95,5.6,36.5,,#",
    "aphp_blank": b"IWAPHP,,,,,,#",
    "ap50": b"IWAP50,36.7,85#",
    "answer_serial": b"IWAP16,080835#",
    "answer_12": b"IWAP12,080835,13800138000#",
    "unknown": b"IWAPZZ,1,2,3#",
    "bad_direction": b"IWBP00,20261129083000,8#",
    "bad_hash": b"IWAP49,6#8#",
}

def chunked(frames, garbage=b""):
    return garbage.join(frames)

FRAME = {
    # first byte: bit0 protocol (0 watch, 1 IW), bit1 default cap, bits 2-7 small cap; second: chunk
    "watch_many": b"\x02\x03" + chunked([WATCH["lk_plain"], WATCH["al_sos_nofix"], WATCH["bphrt"]], b"\r\n"),
    "watch_garbage": b"\x02\x00" + b"junk]]" + WATCH["lk_counters"] + b"\x00\xff" + WATCH["ud_wifi"] + b"tail",
    "watch_nested": b"\x02\x05[a[b[c]d]e]" + WATCH["ud_wifi"],
    "watch_bytewise": b"\x02\x00" + WATCH["al_fall_fix"],
    "watch_endless": b"\x40\x01[3G*5678901234*0000*LK,[[[[" + b"x" * 40,
    "watch_small_cap": b"\x20\x02" + WATCH["lk_plain"] + WATCH["lk_plain"],
    "watch_voice": b"\x02\x07" + WATCH["tk_voice"] + WATCH["tk_ack"],
    "iw_many": b"\x03\x03" + IW["login"] + IW["ap03"] + b"\r\n" + IW["ap10_sos"],
    "iw_garbage": b"\x03\x00" + b"I\r\nTR" + IW["login_trv"] + b"xxIWAP49,68#",
    "iw_split_prefix": b"\x03\x00" + b"IIWTTRVAP49,70#",
    "iw_endless": b"\x41\x02IWAP01" + b"9" * 60,
    "iw_wifi": b"\x03\x04" + IW["ap02"] + IW["ap01_wifi"],
}

for target, seeds in (("fuzz_watch", WATCH), ("fuzz_iw", IW), ("fuzz_frame", FRAME)):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(target, len(seeds))

# ---- the other parsers fed from outside (issue 21): HTTP path and query, JSON bodies per route, CSV
# and xlsx import, uploads, the configuration file.
import io
import json
import zipfile

HTTP = {
    "residents_query": b"api/v1/residents?q=%E7%8E%8B&limit=20&status=all&sort=-age&cursor=abc",
    "resident_id": b"api/v1/residents/42?fields=phone",
    "bad_escape": b"api/v1/residents/%zz?limit=%",
    "nul_path": b"api/v1/residents/%00?q=%E7%8E%8B%00zzz",
    "dotdot": b"api/v1/../residents/./1?limit=99999999999999999999",
    "plus_id": b"api/v1/residents/+1?limit=-1&limit=0&x=%FF",
    "material": b"api/v1/service-applications/7/materials/3?download=true&a=1&b=&&=",
    "many_params": b"healthz?" + b"&".join(b"p%d=%d" % (i, i) for i in range(200)),
    "long_segs": b"/".join([b"a"] * 40),
    "utf8_seg": "api/v1/households/一号?q=张三+李四".encode(),
}

def rid(first17):
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w[i] for i, c in enumerate(first17)) % 11]

ROUTES = ["resident_create", "resident_update", "item", "item_update", "application", "tiers", "rules", "member",
          "member_update", "incident", "incident_dispatch", "incident_handle", "vocab", "policy", "policy_update",
          "care_file", "care_file_update", "visit", "problem", "problem_note", "task_update", "search"]
R = {n: i for i, n in enumerate(ROUTES)}

def api(route, body):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return bytes([R[route]]) + raw

API = {
    "resident": api("resident_create", {"name": "李秀英", "id_number": rid("37010219600305002"), "community_id": 1,
                                        "grid_id": 1, "phone": "13800138000", "notes": "多行\n备注"}),
    "resident_nul": api("resident_create", b'{"name": "\\u738b\\u0000zzz", "id_number": "1", "community_id": 99}'),
    "resident_null_fields": api("resident_create", {"name": None, "id_number": None, "community_id": None}),
    "resident_bad_community": api("resident_create", {"name": "张三", "id_number": rid("11010519500101003"),
                                                      "community_id": 999}),
    "resident_update": api("resident_update", {"notes": "改", "version": 1, "household_id": None, "room_id": None}),
    "resident_dup_key": api("resident_update", b'{"notes": "a", "notes": "b"}'),
    "item": api("item", {"code": "test_item", "name": "测试事项", "form": [{"key": "a", "label": "甲", "type": "text"}],
                         "steps": [{"code": "s1", "name": "审核", "role": "community", "days": 3}]}),
    "item_bad": api("item_update", {"materials": [{"key": "x", "name": "材料", "types": ["gif"], "max_kb": 0}],
                                    "eligibility": [{"rule": "age_min", "value": "80"}]}),
    "application": api("application", {"form": {"purpose": "子女入学", "since": "2012-09-01", "copies": 2}}),
    "tiers": api("tiers", {"region": "default", "tiers": [{"age": 80, "monthly_amount": 10000}, {"age": 90}]}),
    "rules": api("rules", {"heart_rate": {"min": 40, "max": 150}, "spo2": {"min": 90}, "geofence": None}),
    "member": api("member", {"name": "网格员", "phone": "13900139000", "grid_id": 1, "duty": "巡查"}),
    "incident": api("incident", {"title": "楼道堆物", "category": "safety", "grid_id": 1, "description": "描述",
                                 "lat": 22.5, "lon": 113.9}),
    "incident_dispatch": api("incident_dispatch", {"member_id": 1, "note": "请处理"}),
    "incident_handle": api("incident_handle", {"note": "已处理", "photos": []}),
    "vocab": api("vocab", {"kind": "need", "code": "meal", "label": "助餐"}),
    "policy": api("policy", {"name": "每月探访", "care_level": "key", "every": 1, "unit": "month", "escalate_days": 3}),
    "policy_update": api("policy_update", {"every": 13, "unit": "day"}),
    "care_file": api("care_file", {"resident_id": 1, "level": "key", "needs": ["meal"], "notes": "独居"}),
    "care_file_update": api("care_file_update", {"level": "urgent", "version": 1}),
    "visit": api("visit", {"resident_id": 1, "at": "2026-01-05T10:00:00+08:00", "kind": "home", "notes": "好"}),
    "problem": api("problem", {"resident_id": 1, "title": "漏水", "category": "housing"}),
    "problem_note": api("problem_note", {"note": "已联系"}),
    "task_update": api("task_update", {"status": "done", "note": "完成"}),
    "deep_nesting": api("item", b"[" * 64 + b"]" * 64),
    "huge_numbers": api("rules", b'{"heart_rate": {"min": 1e308, "max": -9223372036854775809}}'),
    "search_name": bytes([R["search"]]) + "王".encode(),
    "search_pinyin": bytes([R["search"]]) + b"wangss",
    "search_id": bytes([R["search"]]) + rid("11010519360315001").encode(),
    "search_tail": bytes([R["search"]]) + b"001X",
    "search_phone": bytes([R["search"]]) + b"13800138000",
    "search_like": bytes([R["search"]]) + b"%_\\'",
}

CSV = {
    "utf8": "姓名,证件号码,性别,联系电话\n王寿山,11010519360315001X,男,13800138000\n".encode(),
    "bom": b"\xef\xbb\xbf" + "姓名,证件号码\r\n李四,110105195001010037\r\n".encode(),
    "gbk": "姓名,证件号码,住址\n张三,110105195001010037,\"北京市,朝阳区\"\n".encode("gbk"),
    "quotes": b'a,"b ""quoted"" c","multi\nline"\n"unterminated\n',
    "ragged": b"a,b,c\n1\n1,2,3,4,5\n\n,,\n",
    "bare_cr": b"a\rb\r\nc",
    "invalid_utf8": b"\xff\xfe\x00a,b\n\xc3\x28,\xe2\x82\n",
    "wide": (",".join(["x"] * 70) + "\n").encode(),
}

def xlsx(rows, store=False, shared=True):
    """A minimal workbook: rows of strings (shared or inline) and numbers."""
    comp = zipfile.ZIP_STORED if store else zipfile.ZIP_DEFLATED
    strings, sheet_rows = [], []
    for r, row in enumerate(rows, 1):
        cells = []
        for c, v in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if isinstance(v, (int, float)):
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            elif shared:
                strings.append(v)
                cells.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", comp) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {ns} {rns}><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        if strings:
            si = "".join(f"<si><t>{s}</t></si>" for s in strings)
            z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst {ns} count="{len(strings)}">{si}</sst>')
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet {ns}><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>')
    return b.getvalue()

ROWS = [["姓名", "证件号码", "年龄"], ["王寿山", "11010519360315001X", 90], ["李四", "3.71402199001011E+17", 3.5]]
XLSX = {
    "shared": xlsx(ROWS),
    "shared_stored": xlsx(ROWS, store=True),
    "inline_stored": xlsx(ROWS, store=True, shared=False),
    "escapes_stored": xlsx([["a_x000D_b", "&lt;&amp;&gt;", "<r><t>run</t></r>"]], store=True, shared=False),
    "empty": xlsx([], store=True),
    "not_zip": b"PK\x03\x04" + b"\x00" * 60,
    "ole": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500,
}

UPLOAD = {
    "pdf": b"\x0f%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n",
    "jpeg": b"\x0f\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01",
    "png": b"\x0f\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "png_random": b"\x04\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "webp": b"\x0fRIFF\x24\x00\x00\x00WEBPVP8 ",
    "webp_short": b"\x08RIFF\x24\x00\x00\x00WEB",
    "text": b"\x0fhello, this is text",
    "pdf_not_accepted": b"\x0e%PDF-1.7",
}

CONFIG = {
    "typical": b"listen = 127.0.0.1:8080\nlog_level = info\nmax_body = 10M\naccess_log = true\n",
    "postgres": b"database = postgres://nuanxin:s3cretpass@db.example:5432/nuanxin?sslmode=require\n",
    "section": b"[server]\nlisten = [::1]:8443\n; comment\n# another\n",
    "unknown_key": b"colour = red\n",
    "data_in_file": b"data = /var/lib/nuanxin\n",
    "bad_values": b"max_body = 10Q\nlog_level = loud\n",
    "long_line": b"web_root = " + b"x" * 3000 + b"\n",
    "no_equals": b"listen\n",
    "bom_crlf": b"\xef\xbb\xbflisten = 127.0.0.1:0\r\nwatch_listen = off\r\n",
    "outbound": b"outbound_allow = 10.0.0.0/8, ::1\n",
}

for target, seeds in (("fuzz_http", HTTP), ("fuzz_api", API), ("fuzz_csv", CSV), ("fuzz_xlsx", XLSX),
                      ("fuzz_upload", UPLOAD), ("fuzz_config", CONFIG)):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(target, len(seeds))
