"""Durability: `kill -9` of the server during a stream of resident writes loses no write that was
answered 2xx, and the database passes PRAGMA integrity_check. Repeated three times on one data
directory, each time with writers racing the kill."""
import os
import random
import threading
import time
import urllib.parse

from nxtest import Server, check, check_eq, make_id, run, unique_birth

S = Server()
S.start()
admin = S.login()
st, _, street = admin.post("/api/v1/streets", {"name": "耐久街道"})
st, _, comm = admin.post("/api/v1/communities", {"street_id": street["id"], "name": "耐久社区"})
st, _, grid = admin.post("/api/v1/grids", {"community_id": comm["id"], "name": "第一网格"})
acknowledged = []   # ID numbers of residents whose create was answered 201
lock = threading.Lock()
counter = [0]


def writer(port, token, stop):
    from nxtest import Client
    c = Client(port)
    c.token = token
    while not stop.is_set():
        with lock:
            counter[0] += 1
            n = counter[0]
        idn = make_id("110105", unique_birth(n), n % 1000)
        try:
            st, _, body = c.post("/api/v1/residents", {"name": f"测试{n}", "id_number": idn,
                                                       "grid_id": grid["id"], "community_id": comm["id"]})
        except Exception:
            return          # the server died under us: this write was never acknowledged
        if st == 201:
            with lock:
                acknowledged.append(idn)


def one_round(rnd):
    global admin
    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(S.port, admin.token, stop)) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(1.0 + random.random())
    S.kill9()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    check(S.integrity_ok(), f"round {rnd}: integrity after kill -9")
    S.start()
    admin = S.login()
    missing = 0
    for idn in acknowledged:
        st, _, body = admin.get("/api/v1/residents?status=all&q=" + urllib.parse.quote(idn))
        if st != 200 or len(body.get("items", [])) != 1:
            missing += 1
    check(len(acknowledged) > 0, f"round {rnd}: some writes were acknowledged ({len(acknowledged)})")
    check_eq(missing, 0, f"round {rnd}: acknowledged writes missing after kill -9")


def test_kill9_rounds():
    # the counter makes ID numbers; keep them unique within the check digit's reach
    for rnd in range(3):
        one_round(rnd)


try:
    run([test_kill9_rounds])
finally:
    S.cleanup()
