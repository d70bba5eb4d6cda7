"""Black-box tests of what people upload and what leaves as a document (issue 21, item 5):

- the verification link printed on a PDF (text, link annotation and QR payload) is built from the
  configured public_url, never from the request's Host header: a forged Host does not appear in it;
- uploads (a service material, a visit photo) are encrypted at rest: no file under the data directory
  holds the uploaded bytes or a tell-tale string from them, and the download gives the bytes back;
- a file written by an older version (plain bytes under a stored name) is encrypted at start-up and
  still downloads the same;
- downloading a material is audited (who, which application and material, when);
- content is checked by its structure: a PNG signature followed by random bytes, a PNG whose chunk
  CRC is wrong and a JPEG without its markers are refused, nothing is stored;
- EXIF (with a GPS block) is removed from a JPEG photo and from a JPEG material, the picture itself
  (its other segments) kept;
- photos and materials are answered with Cache-Control: no-store.
"""
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

from nxtest import Server, check, check_eq, is_problem, make_id, run

PUBLIC = "https://nuanxin.example.org/hall"
FORGED = "evil-forged-host.example"
S = Server(extra=["--public-url", PUBLIC])
S.start()
admin = S.login()
ctx = {}
PASSWORD = "Upl2026pass!"
OCTET = {"Content-Type": "application/octet-stream"}


# ---- fixtures: small but well-formed files, built here so that every byte is known ----

def jpeg(app_segments=b""):
    """A 1x1 grey baseline JPEG (DC-only, one-symbol Huffman tables) with app_segments after APP0."""
    soi = b"\xff\xd8"
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb\x00\x43\x00" + b"\x01" * 64
    sof = b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    dht_dc = b"\xff\xc4\x00\x14\x00" + b"\x01" + b"\x00" * 15 + b"\x00"
    dht_ac = b"\xff\xc4\x00\x14\x10" + b"\x01" + b"\x00" * 15 + b"\x00"
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return soi + app0 + app_segments + dqt + sof + dht_dc + dht_ac + sos + b"\x3f" + b"\xff\xd9"


GPS_TELL = b"GPS-SECRET-39.9042N-116.4074E"


def exif_gps():
    """An APP1 Exif segment: IFD0 with Orientation 6 (rotate), an ImageDescription holding GPS_TELL
    and a GPS IFD with latitude 39/1 54/1 1500/100 N."""
    desc = GPS_TELL + b"\x00"
    # TIFF, big-endian: header (8), IFD0 at 8 with 3 entries (2 + 3*12 + 4 = 42) -> ends at 50
    ifd0_at, n0 = 8, 3
    desc_at = ifd0_at + 2 + n0 * 12 + 4
    gps_at = desc_at + len(desc)
    gps_n = 2
    lat_at = gps_at + 2 + gps_n * 12 + 4
    t = b"MM\x00\x2a" + struct.pack(">I", ifd0_at)
    t += struct.pack(">H", n0)
    t += struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0)                  # Orientation = 6
    t += struct.pack(">HHII", 0x010E, 2, len(desc), desc_at)       # ImageDescription
    t += struct.pack(">HHII", 0x8825, 4, 1, gps_at)                # GPSInfo IFD pointer
    t += struct.pack(">I", 0)
    t += desc
    t += struct.pack(">H", gps_n)
    t += struct.pack(">HHI4s", 0x0001, 2, 2, b"N\x00\x00\x00")      # GPSLatitudeRef
    t += struct.pack(">HHII", 0x0002, 5, 3, lat_at)                # GPSLatitude
    t += struct.pack(">I", 0)
    t += struct.pack(">IIIIII", 39, 1, 54, 1, 1500, 100)
    body = b"Exif\x00\x00" + t
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(extra_chunks=b""):
    """A 1x1 RGBA PNG; extra_chunks go between IHDR and IDAT."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00\x11\x22\x33\x44")
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra_chunks + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def stored_files():
    d = os.path.join(S.data, "uploads")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def data_dir_holds(needle):
    """Whether any file under the data directory (database files included) contains needle."""
    for root, _, files in os.walk(S.data):
        for f in files:
            try:
                with open(os.path.join(root, f), "rb") as fh:
                    if needle in fh.read():
                        return os.path.join(root, f)
            except OSError:
                pass
    return None


def user(username, role, scope, **ids):
    body = {"username": username, "display_name": username, "password": PASSWORD, "role": role, "scope": scope,
            "must_change_password": False, **ids}
    st, _, u = admin.post("/api/v1/users", body)
    check_eq(st, 201, f"create user {username}: {u}")
    return S.login(username, PASSWORD)


def test_setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "上传街道"})
    check_eq(st, 201, "street")
    st, _, ca = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "安宁社区"})
    check_eq(st, 201, "community")
    st, _, r = admin.post("/api/v1/residents", {"name": "韩素梅", "id_number": make_id("370102", "19580304", 17),
                                                "community_id": ca["id"], "residence": "registered"})
    check_eq(st, 201, f"resident {r}")
    ctx.update(street=street, ca=ca, res=r)
    ctx["jumin"] = user("jumin_han", "resident", "self", resident_id=r["id"], community_id=ca["id"])
    ctx["staff"] = user("staff_an", "staff", "community", street_id=street["id"], community_id=ca["id"])
    st, _, items = ctx["jumin"].get("/api/v1/service-items")
    check_eq(st, 200, "catalogue")
    item = {i["code"]: i for i in items["items"]}["residence_certificate"]
    st, _, a = ctx["jumin"].post("/api/v1/service-applications",
                                 {"item_id": item["id"], "form": {"purpose": "子女入学", "since": "2010-05-01"}})
    check_eq(st, 201, f"draft application ({a})")
    ctx["app"] = a
    st, _, g = admin.post("/api/v1/grids", {"community_id": ca["id"], "name": "第一网格"})
    check_eq(st, 201, f"grid {g}")
    st, _, inc = ctx["staff"].post("/api/v1/incidents", {"category": "facility", "title": "路灯不亮", "place": "3号楼",
                                                         "grid_id": g["id"]})
    check_eq(st, 201, f"incident {inc}")
    ctx["incident"] = inc.get("id")


def test_pdf_link_from_public_url():
    """The QR link is built from public_url: a forged Host appears nowhere in the PDF."""
    aid = ctx["app"]["id"]
    st, resp, data = ctx["jumin"].get(f"/api/v1/service-applications/{aid}/documents/application",
                                      headers={"Host": FORGED, "X-Forwarded-Proto": "http"})
    check_eq(st, 200, "application form PDF")
    check(data[:5] == b"%PDF-", "it is a PDF")
    check(FORGED.encode() not in data, "the forged Host is nowhere in the PDF's bytes")
    uris = [re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), u).decode()
            for u in re.findall(rb"/URI \(([^)]*)\)", data)]
    check(len(uris) == 1 and uris[0].startswith(f"{PUBLIC}/verify/"), f"the link annotation is public_url's: {uris}")
    if shutil.which("pdftotext") is None:
        check(False, "pdftotext missing (scripts/deps.sh test installs poppler-utils)")
        return
    d = tempfile.mkdtemp()
    try:
        p = os.path.join(d, "doc.pdf")
        with open(p, "wb") as f:
            f.write(data)
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", p, "-"], capture_output=True, timeout=60).stdout.decode()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    check(FORGED not in text, "the forged Host is not in the PDF's text")
    check(f"核验地址：{PUBLIC}/verify/" in text, f"the printed address is public_url's: {text[-400:]!r}")


def test_public_url_validated():
    """A public_url that is not an http(s) URL is refused at start-up with a message naming the key."""
    p = subprocess.run([os.environ.get("NUANXIN_BIN") or os.path.join(os.path.dirname(__file__), "../../build/nuanxin"),
                        "--data", S.data, "--public-url", "javascript:alert(1)", "config"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode != 0 and "public_url" in p.stderr, f"bad public_url refused ({p.returncode} {p.stderr!r})")


ID_SCAN_TELL = b"ID-CARD-SCAN-370102195803041700-HAN-SUMEI"


def id_scan():
    """A "scan" of an ID card: a valid JPEG whose kept APP0 JFIF thumbnail area carries a tell-tale
    string, so that the plaintext has bytes to look for on disk."""
    body = b"JFXX\x00\x10" + ID_SCAN_TELL  # an APP0 JFXX extension is kept by the structure walk
    seg = b"\xff\xe0" + struct.pack(">H", len(body) + 2) + body
    return jpeg(seg)


def upload_material(client, aid, key, data, filename="scan.jpg"):
    return client.post(f"/api/v1/service-applications/{aid}/materials?key={key}&filename={filename}",
                       raw=data, headers={"Content-Type": "image/jpeg"})


def test_material_sealed_and_audited():
    jm, staff = ctx["jumin"], ctx["staff"]
    aid = ctx["app"]["id"]
    scan = id_scan()
    st, _, body = upload_material(jm, aid, "id_card", scan)
    check_eq(st, 201, f"ID card scan uploaded ({body})")
    mid = body.get("material_id")
    ctx["mid"] = mid
    names = stored_files()
    check_eq(len(names), 1, f"one stored file {names}")
    raw = open(os.path.join(S.data, "uploads", names[0]), "rb").read() if names else b""
    check(ID_SCAN_TELL not in raw and b"JFIF" not in raw and b"\xff\xd8\xff" not in raw[:8],
          "the stored file holds neither the scan's bytes nor a JPEG header")
    check(len(raw) == len(scan) + 46, f"sealed: the scan plus 46 bytes of header, nonce and tag ({len(raw)})")
    hit = data_dir_holds(ID_SCAN_TELL)
    check(hit is None, f"no file under the data directory holds the scan in clear ({hit})")
    st, resp, data = staff.get(f"/api/v1/service-applications/{aid}/materials/{mid}")
    check(st == 200 and data == scan, "the download gives the scan back byte for byte")
    check_eq(resp.getheader("Cache-Control"), "no-store", "a material is not cached")
    # the download is audited: who, which application and material, when
    st, _, audit = admin.get(f"/api/v1/audit?action=download&object_type=service_application&object_id={aid}")
    check_eq(st, 200, "audit readable")
    items = audit.get("items", [])
    check(len(items) == 1, f"one download audited: {items}")
    if items:
        a = items[0]
        check_eq(a.get("username"), "staff_an", "who downloaded")
        check(a.get("action_label") == "下载材料", f"the entry carries a Chinese label: {a}")
        detail = a.get("detail") or {}
        check(detail.get("material_id") == mid and detail.get("key") == "id_card", f"which material: {a}")
        check(bool(a.get("at") or a.get("created_at")), f"when: {a}")
    st, _, _ = jm.get(f"/api/v1/service-applications/{aid}/materials/{mid}")
    check_eq(st, 200, "the applicant downloads too")
    st, _, audit = admin.get(f"/api/v1/audit?action=download&object_type=service_application&object_id={aid}")
    check_eq(len(audit.get("items", [])), 2, "each download is one audit entry")
    # a refused download (another community's staff would get 404) writes nothing; a missing one neither
    st, resp, body = staff.get(f"/api/v1/service-applications/{aid}/materials/{mid + 1000}")
    check(is_problem(st, resp, body, 404), "an unknown material is 404")
    st, _, audit = admin.get(f"/api/v1/audit?action=download&object_type=service_application&object_id={aid}")
    check_eq(len(audit.get("items", [])), 2, "no audit entry for a refused download")


def test_content_checked():
    jm = ctx["jumin"]
    aid = ctx["app"]["id"]
    before = stored_files()
    import random
    rnd = random.Random(21)
    junk_png = b"\x89PNG\r\n\x1a\n" + bytes(rnd.randrange(256) for _ in range(4000))
    st, resp, body = ctx["staff"].request("POST", f"/api/v1/incidents/{ctx['incident']}/photos", raw=junk_png,
                                          headers=OCTET)
    check(is_problem(st, resp, body, 422, "file"), f"a PNG signature and random bytes refused as a photo ({st} {body})")
    bad_crc = bytearray(png())
    bad_crc[-20] ^= 1  # inside IDAT
    st, resp, body = ctx["staff"].request("POST", f"/api/v1/incidents/{ctx['incident']}/photos", raw=bytes(bad_crc),
                                          headers=OCTET)
    check(is_problem(st, resp, body, 422, "file"), f"a PNG with a wrong CRC refused ({st} {body})")
    fake_jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 300
    st, resp, body = upload_material(jm, aid, "id_card", fake_jpeg)
    check(is_problem(st, resp, body, 422, "file"), f"a JPEG header and zeros refused as a material ({st} {body})")
    check_eq(stored_files(), before, "nothing stored by refused uploads")


def test_photo_exif_stripped():
    staff = ctx["staff"]
    photo = jpeg(exif_gps())
    check(GPS_TELL in photo and b"Exif" in photo, "the fixture carries Exif with a GPS block")
    st, _, body = staff.request("POST", f"/api/v1/incidents/{ctx['incident']}/photos", raw=photo, headers=OCTET)
    check(st == 201 and body.get("content_type") == "image/jpeg", f"photo stored ({st} {body})")
    url = body.get("url", "/none")
    st, resp, data = staff.get(url)
    check_eq(st, 200, "photo served")
    check(GPS_TELL not in data and struct.pack(">IIII", 39, 1, 54, 1) not in data, "the GPS block is gone")
    check(data[:2] == b"\xff\xd8" and data.endswith(b"\xff\xd9"), "still a JPEG")
    check(b"Exif\x00\x00MM\x00\x2a" in data and len(data) == len(jpeg()) + 36,
          "only a minimal Exif (the orientation) is left")
    check_eq(body.get("size"), len(data), "the size answered is the size kept")
    cc = resp.getheader("Cache-Control") or ""
    check("no-store" in cc and "max-age=3600" not in cc, f"a photo is not cached an hour ({cc})")
    check(data_dir_holds(GPS_TELL) is None, "the GPS tell-tale is nowhere under the data directory")
    # a JPEG material (a scan taken with a phone) loses its EXIF too
    st, _, body = upload_material(ctx["jumin"], ctx["app"]["id"], "id_card", photo, "phone.jpg")
    check_eq(st, 201, f"phone scan uploaded ({body})")
    mid = body.get("material_id")
    st, _, data = ctx["jumin"].get(f"/api/v1/service-applications/{ctx['app']['id']}/materials/{mid}")
    check(st == 200 and GPS_TELL not in data and data[:2] == b"\xff\xd8", "the material's GPS block is gone")


def test_legacy_clear_file_sealed_at_start():
    """A file an older version stored in clear: still downloads, and the next start seals it."""
    names = stored_files()
    scan = id_scan()
    # the first material (the ID scan): put it back in clear, as a version before sealing wrote it
    target = None
    for n in names:
        p = os.path.join(S.data, "uploads", n)
        if not n.endswith(".jpg"):
            target = p
            break
    check(target is not None, f"the material's file found among {names}")
    if target is None:
        return
    S.stop()
    with open(target, "wb") as f:
        f.write(scan)
    S.start()
    raw = open(target, "rb").read()
    check(ID_SCAN_TELL not in raw and raw[:4] == b"\x00NXE", "the clear file was sealed at start-up")
    check("uploads.sealed_legacy sealed=1" in S.tail_log(), "the start-up pass is logged")
    staff = S.login("staff_an", PASSWORD)
    st, _, data = staff.get(f"/api/v1/service-applications/{ctx['app']['id']}/materials/{ctx['mid']}")
    check(st == 200 and data == scan, "the sealed file downloads the same bytes")
    ctx["staff"] = staff
    ctx["jumin"] = S.login("jumin_han", PASSWORD)


def test_key_file_warning():
    """The default key file (in the data directory) draws a start-up warning; one kept elsewhere does not."""
    check("security.key_file_beside_data" in S.tail_log(), "warning for the key file in the data directory")
    outside = tempfile.mkdtemp(prefix="nxkey-")
    data = tempfile.mkdtemp(prefix="nxapi-key-")
    try:
        with open(os.path.join(data, "nuanxin.conf"), "w") as f:
            f.write(f"key_file = {outside}/nuanxin.key\n")
        other = Server(data=data)
        other.start()
        log = other.tail_log()
        other.stop()
        check(os.path.exists(os.path.join(outside, "nuanxin.key")), "init wrote the key file outside")
        check("security.key_file_beside_data" not in log, f"no warning with the key file outside: {log[-500:]}")
    finally:
        shutil.rmtree(outside, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


def test_cleanup():
    S.cleanup()


run([test_setup, test_pdf_link_from_public_url, test_public_url_validated, test_material_sealed_and_audited,
     test_content_checked, test_photo_exif_stripped, test_legacy_clear_file_sealed_at_start, test_key_file_warning,
     test_cleanup])
