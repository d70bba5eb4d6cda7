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


def test_cleanup():
    S.cleanup()


run([test_setup, test_pdf_link_from_public_url, test_public_url_validated, test_cleanup])
