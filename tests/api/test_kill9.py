"""Crash campaign: `kill -9` of the server at a random moment under mixed load, then a restart, again
and again on one data directory (or PostgreSQL database). The load, each on its own thread and
connection:

- resident creates (POST /residents; each has a unique name) and resident edits (PATCH /residents/{id}, notes set to a counter);
- service applications made by staff for a resident and submitted (POST, then POST …/submit);
- SOS alarms from registered wristbands through the gateway's watch port (3G protocol), each device on
  its own connection (the gateway answers an alarm only after its commit).

After every kill: the database passes its integrity check; after the restart, every write that was
answered 2xx is there (a create by its name in the community's list, an edit with the acknowledged notes or the one in
flight when the server died, an application in review), every SOS frame the device saw acknowledged is
counted in the device's alerts (an alert plus its repeats), and every outbox subscriber (the dispatcher
cursors of notify/dispatcher.c: "delivered" means the subscriber's handler returned 0 and its cursor
row moved past the event) reaches the last event of its kinds, so no event committed before the kill
is skipped. The live SSE feed is not durable by design (it starts at the newest event in each
process) and is not part of this check.

Cycles: NX_CRASH_CYCLES (default 3, what `make test` runs: about 20 s per backend); `make crash-long`
runs many more (docs/reliability.md). The moment of each kill is random between 0.5 and 2.5 s after
the load starts; NX_CRASH_SEED makes a run repeatable."""
import os
import random
import socket
import sqlite3
import sys
import threading
import time
import urllib.parse

import nxtest
from nxtest import Client, Server, check, check_eq, make_id, recv_frames, run, unique_birth, wframe

CYCLES = int(os.environ.get("NX_CRASH_CYCLES", "3"))
SEED = int(os.environ.get("NX_CRASH_SEED", str(int(time.time()))))
rng = random.Random(SEED)
DEVICES = 4
# Subscribers of the outbox and the kind prefix each one takes (dispatcher_subscribe in the modules).
SUBSCRIBERS = {
    "services.channels": "services.application.",
    "devices.webhooks": "devices.alert.",
    "visits.resident_status": "people.resident.status_changed",
    "visits.device_alert_resolved": "devices.alert.resolved",
}
SOS = "AL,041126,081530,V,0.000000,N,0.000000,E,0.0,0.0,0.0,0,88,64,1520,0,00010000"

S = Server()
S.start()
admin = S.login()
lock = threading.Lock()
counter = [0]
ctx = {}
created = []      # ID numbers of residents whose create was answered 201
edits = {}        # resident id -> (acknowledged notes or None, notes in flight or None)
apps = []         # ids of applications whose submit was answered 200
alarms = {}       # imei -> SOS frames acknowledged
stats = {"kills": 0, "edits": 0}


def query(sql):
    """Rows of sql (one value per row, as text) read straight from the database."""
    if S.database:
        return [line for line in nxtest.psql(S.database, sql).splitlines() if line]
    db = sqlite3.connect(os.path.join(S.data, "nuanxin.db"), timeout=10)
    try:
        return [str(r[0]) for r in db.execute(sql).fetchall()]
    finally:
        db.close()


def next_n():
    with lock:
        counter[0] += 1
        return counter[0]


def as_client(token):
    c = Client(S.port)
    c.token = token
    return c


def setup():
    st, _, street = admin.post("/api/v1/streets", {"name": "耐久街道"})
    st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "耐久社区"})
    check_eq(st, 201, "community")
    st, _, grid = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": "第一网格"})
    ctx.update(comm=comm, grid=grid)
    st, _, item = admin.post("/api/v1/service-items", {
        "code": "crash_item", "name": "耐久测试事项", "form": [{"key": "a", "label": "甲", "type": "text"}],
        "steps": [{"code": "s1", "name": "审核", "role": "community", "days": 3}]})
    check_eq(st, 201, f"service item {item}")
    ctx["item"] = item
    people = []
    for k in range(DEVICES + 3):
        n = next_n()
        st, _, r = admin.post("/api/v1/residents", {"name": f"长者{n}", "id_number": make_id("110105", unique_birth(n), n % 1000),
                                                    "grid_id": grid["id"], "community_id": comm["id"]})
        check_eq(st, 201, f"resident {r}")
        people.append(r)
    ctx["people"] = people
    ctx["devices"] = []
    for k in range(DEVICES):
        imei = f"56780{k:05d}"
        st, _, d = admin.post("/api/v1/devices", {"imei": imei, "protocol": "watch", "resident_id": people[k]["id"]})
        check_eq(st, 201, f"device {d}")
        ctx["devices"].append(imei)
    ctx["editable"] = [r["id"] for r in people[DEVICES:]]


def creator(c, stop):
    while not stop.is_set():
        n = next_n()
        idn = make_id("110105", unique_birth(n), n % 1000)
        try:
            st, _, _ = c.post("/api/v1/residents", {"name": f"测试{n}", "id_number": idn, "grid_id": ctx["grid"]["id"],
                                                    "community_id": ctx["comm"]["id"]})
        except Exception:
            return  # the server died under us: this write was never acknowledged
        if st == 201:
            with lock:
                created.append(f"测试{n}")


def editor(c, stop, rid):
    while not stop.is_set():
        try:
            st, _, r = c.get(f"/api/v1/residents/{rid}")
            if st != 200:
                return
            notes = f"第{next_n()}次修改"
            with lock:
                edits[rid] = (edits.get(rid, (None, None))[0], notes)
            st, _, _ = c.patch(f"/api/v1/residents/{rid}", {"notes": notes, "version": r["version"]})
        except Exception:
            return
        with lock:
            if st == 200:
                edits[rid] = (notes, None)
                stats["edits"] += 1
            elif edits[rid][1] == notes:  # refused (a version race): nothing in flight
                edits[rid] = (edits[rid][0], None)


def applicant(c, stop):
    while not stop.is_set():
        rid = rng.choice(ctx["people"])["id"]
        try:
            st, _, a = c.post("/api/v1/service-applications", {"item_id": ctx["item"]["id"], "resident_id": rid,
                                                                "form": {"a": "耐久"}})
            if st != 201:
                return
            st, _, b = c.post(f"/api/v1/service-applications/{a['id']}/submit")
        except Exception:
            return
        if st == 200:
            with lock:
                apps.append(a["id"])


def wristband(stop, imei, port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return
    try:
        while not stop.is_set():
            s.sendall(wframe(imei, SOS))
            if recv_frames(s, 1, timeout=3) != [wframe(imei, "AL")]:
                return
            with lock:
                alarms[imei] = alarms.get(imei, 0) + 1
            time.sleep(0.05)
    except OSError:
        return
    finally:
        s.close()


def check_after_restart(rnd):
    c = admin
    # Every resident of the community, page by page (exact ID searches are rate-limited, lists are not).
    names, cursor = set(), ""
    for _ in range(1000):
        st, _, body = c.get(f"/api/v1/residents?status=all&community_id={ctx['comm']['id']}&limit=100"
                            + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
        if not check_eq(st, 200, f"cycle {rnd}: resident list"):
            break
        names.update(r["name"] for r in body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    missing = [name for name in created if name not in names]
    check_eq(len(missing), 0, f"cycle {rnd}: acknowledged resident creates missing ({missing[:5]})")
    for rid, (acked, flying) in edits.items():
        st, _, r = c.get(f"/api/v1/residents/{rid}")
        check(st == 200 and r["notes"] in (acked, flying) and (acked is None or r["notes"] is not None),
              f"cycle {rnd}: resident {rid} notes {r.get('notes')!r}, acknowledged {acked!r}, in flight {flying!r}")
        if st == 200:  # what is stored is now the acknowledged state
            edits[rid] = (r["notes"], None)
    bad = 0
    for aid in apps:
        st, _, a = c.get(f"/api/v1/service-applications/{aid}")
        if st != 200 or a["status"] != "in_review":
            bad += 1
    check_eq(bad, 0, f"cycle {rnd}: submitted applications missing or not in review")
    st, _, devs = c.get("/api/v1/devices?limit=200")
    ids = {d["imei"]: d["id"] for d in devs.get("items", [])}
    for imei, n in alarms.items():
        st, _, lst = c.get(f"/api/v1/alerts?kind=sos&device_id={ids.get(imei)}&limit=200")
        stored = sum(1 + a["repeats"] for a in lst.get("items", []))
        check(stored >= n, f"cycle {rnd}: {imei}: {n} SOS frames acknowledged, {stored} in the database")
    # Every subscriber catches up with every event committed before the kill (and since).
    deadline = time.time() + 20
    behind = {}
    while time.time() < deadline:
        behind = {}
        for sub, prefix in SUBSCRIBERS.items():
            top = query(f"SELECT COALESCE(MAX(id), 0) FROM events WHERE kind LIKE '{prefix}%'")
            cur = query(f"SELECT last_id FROM event_cursors WHERE subscriber = '{sub}'")
            if int(top[0]) > 0 and (not cur or int(cur[0]) < int(top[0])):
                behind[sub] = (int(cur[0]) if cur else None, int(top[0]))
        if not behind:
            break
        time.sleep(0.3)
    check_eq(behind, {}, f"cycle {rnd}: subscribers behind the outbox (cursor, last event)")


def one_cycle(rnd):
    global admin
    stop = threading.Event()
    port = S.gateway_ports()["watch"]
    threads = [threading.Thread(target=creator, args=(as_client(admin.token), stop)) for _ in range(2)]
    threads += [threading.Thread(target=editor, args=(as_client(admin.token), stop, rid)) for rid in ctx["editable"]]
    threads += [threading.Thread(target=applicant, args=(as_client(admin.token), stop))]
    threads += [threading.Thread(target=wristband, args=(stop, imei, port)) for imei in ctx["devices"]]
    for t in threads:
        t.start()
    time.sleep(0.5 + 2 * rng.random())
    S.kill9()
    stats["kills"] += 1
    stop.set()
    for t in threads:
        t.join(timeout=30)
    check(S.integrity_ok(), f"cycle {rnd}: integrity after kill -9")
    S.start()
    admin = S.login()
    check_after_restart(rnd)


def test_crash_cycles():
    print(f"note: {CYCLES} kill -9 cycles, NX_CRASH_SEED={SEED}", file=sys.stderr)
    setup()
    t0 = time.time()
    for rnd in range(CYCLES):
        one_cycle(rnd)
    check(len(created) > 0 and len(apps) > 0 and sum(alarms.values()) > 0 and stats["edits"] > 0,
          f"each kind of write was acknowledged: {len(created)} creates, {len(apps)} applications, "
          f"{sum(alarms.values())} alarms, edits {edits}")
    events = query("SELECT COUNT(*) FROM events")[0]
    print(f"note: crash campaign ({'postgres' if S.database else 'sqlite'}): {CYCLES} cycles in {time.time() - t0:.0f} s; "
          f"acknowledged: {len(created)} resident creates, {stats['edits']} resident edits, "
          f"{len(apps)} applications submitted, {sum(alarms.values())} SOS frames; {events} events; "
          f"lost: see FAIL lines (none when this test passes)", file=sys.stderr)


try:
    run([test_crash_cycles])
finally:
    S.cleanup()
