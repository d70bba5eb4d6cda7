#!/usr/bin/env python3
"""Where an SOS waits: joins the stage lines of NX_SOS_TRACE (src/base/trace.h) alarm by alarm and
prints n, p50, p90, p99 and max in ms of each hand-off. Usage: bench/sos_trace.py TRACE-FILE
(bench/sos.sh keeps one as sos-trace.txt with TRACE=1).

Lines: STAGE KEY VALUE MICROSECONDS THREAD. The gateway names an alarm by its number (gw.read: value =
when the loop's read began; gw.tok maps the token handed to ingest to the number), the writer by the
token (gw.picked), the store transaction by the writer thread's next tx.begun / tx.commit /
tx.committed lines, the commit names the alert (gw.commit), the feed maps the alert to its outbox
event (feed.publish), and the live stream names the event (hub.resumed, sse.read)."""
import sys
from collections import defaultdict

al = defaultdict(dict)   # alarm number -> stage -> us
ptr = {}                 # token pointer -> alarm number (latest)
pending_tx = {}          # writer tid -> alarm numbers picked, waiting for their tx lines
ev = defaultdict(dict)
ev_alert = {}
alert_num = {}
held = defaultdict(list)  # thread name -> write-lock hold times (SQLite)
urgent_wait = []          # SQLite: urgent (alarm) waits at the write gate, us
durable = defaultdict(list)  # SQLite durable commits: after lazy commits or not -> durations, us
lazy_before = []          # lazy commits before a durable commit (when any)
lazy_commit = []          # SQLite: lazy (telemetry, cursor) COMMIT durations, us
ckpt = defaultdict(list)  # SQLite: WAL checkpoints by thread (the writer's own, or nx-store-sync), us
writeback = []            # SQLite: the syncer's writeback of lazy commits' WAL pages, us
batch_waits = 0           # alarm thread waited for the telemetry batch in flight (same device)
detach = []               # alarm thread: (rows queued, us to take its batch out of the queue)
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) != 5:
        continue
    stage, key, val, us, tid = f[0], int(f[1]), int(f[2]), int(f[3]), f[4]
    if stage == "gw.read":
        al[key]["read"] = val or us
        al[key]["decoded"] = us
    elif stage == "gw.tok":
        ptr[key] = val
    elif stage == "gw.picked" and key in ptr:
        a = ptr[key]
        al[a].setdefault("picked", us)
        pending_tx.setdefault(tid, []).append(a)
    elif stage in ("tx.begun", "tx.commit", "tx.committed"):
        for a in pending_tx.get(tid, []):
            al[a].setdefault(stage, us)
        if stage == "tx.committed":
            pending_tx[tid] = []
    elif stage == "gw.commit":
        al[key].setdefault("commit", us)
        alert_num[val] = key
    elif stage == "gw.ack":
        al[key].setdefault("ack", us)
    elif stage == "feed.publish":
        ev[key].setdefault("publish", us)
        if val in alert_num:
            ev_alert[alert_num[val]] = key
    elif stage in ("hub.resumed", "sse.read"):
        ev[key].setdefault(stage, us)
    elif stage == "sq.wlock_held":
        held[tid.split(":", 1)[-1]].append(val)
    elif stage == "sq.wlock_wait" and key == 1:
        urgent_wait.append(val)
    elif stage == "sq.durable_commit":
        durable["after lazy commits" if key > 0 else "none since the last"].append(val)
        if key > 0:
            lazy_before.append(key)
    elif stage == "sq.lazy_commit":
        lazy_commit.append(val)
    elif stage in ("sq.ckpt", "sq.ckpt_gated"):
        ckpt[("in the gate, " if stage == "sq.ckpt_gated" else "") + tid.split(":", 1)[-1]].append(val)
    elif stage == "sq.writeback":
        writeback.append(val)
    elif stage == "gw.alarm_waits_batch":
        batch_waits += 1
    elif stage == "gw.alarm_detach":
        detach.append((key, val))

rows = defaultdict(list)
def span(name, a, b, d):
    if a in d and b in d:
        rows[name].append(d[b] - d[a])
for a, d in al.items():
    e = ev.get(ev_alert.get(a), {})
    d = dict(d)
    for k in ("publish", "hub.resumed", "sse.read"):
        if k in e:
            d[k] = e[k]
    span("loop read → decoded", "read", "decoded", d)
    span("decoded → writer picked", "decoded", "picked", d)
    span("picked → write lock (BEGIN)", "picked", "tx.begun", d)
    span("BEGIN → COMMIT starts", "tx.begun", "tx.commit", d)
    span("COMMIT (fsync)", "tx.commit", "tx.committed", d)
    span("committed → ack sent", "tx.committed", "ack", d)
    span("committed → feed publish", "tx.committed", "publish", d)
    span("publish → hub resumed", "publish", "hub.resumed", d)
    span("hub resumed → stream written", "hub.resumed", "sse.read", d)
    span("TOTAL read → ack sent", "read", "ack", d)
    span("TOTAL read → stream written", "read", "sse.read", d)

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))]

print("%-32s %5s %8s %8s %8s %8s" % ("stage (ms)", "n", "p50", "p90", "p99", "max"))
for k, v in rows.items():
    print("%-32s %5d %8.1f %8.1f %8.1f %8.1f" % (k, len(v), pct(v, .5) / 1e3, pct(v, .9) / 1e3, pct(v, .99) / 1e3, max(v) / 1e3))
if held:
    print("\nSQLite write lock held (ms), by thread:")
    print("%-32s %5s %8s %8s %8s %8s %9s" % ("thread", "n", "p50", "p90", "p99", "max", "total"))
    for k, v in sorted(held.items(), key=lambda kv: -sum(kv[1])):
        print("%-32s %5d %8.1f %8.1f %8.1f %8.1f %9.0f" % (k, len(v), pct(v, .5) / 1e3, pct(v, .9) / 1e3,
                                                        pct(v, .99) / 1e3, max(v) / 1e3, sum(v) / 1e3))
if urgent_wait:
    print("\nSQLite write gate, urgent (alarm) entrants' wait (ms):")
    print("%-32s %5d %8.1f %8.1f %8.1f %8.1f" % ("urgent wait", len(urgent_wait), pct(urgent_wait, .5) / 1e3,
                                                pct(urgent_wait, .9) / 1e3, pct(urgent_wait, .99) / 1e3, max(urgent_wait) / 1e3))
if durable:
    print("\nSQLite durable commits (fsync), by lazy commits before them (ms; lazy commits before: median %s):"
          % (pct(lazy_before, .5) if lazy_before else "-"))
    for k, v in durable.items():
        print("%-32s %5d %8.1f %8.1f %8.1f %8.1f" % (k, len(v), pct(v, .5) / 1e3, pct(v, .9) / 1e3, pct(v, .99) / 1e3, max(v) / 1e3))
if lazy_commit:
    print("\nSQLite lazy commits (no fsync; a checkpoint when the committing writer runs one), ms:")
    print("%-32s %5d %8.1f %8.1f %8.1f %8.1f" % ("lazy COMMIT", len(lazy_commit), pct(lazy_commit, .5) / 1e3,
                                                pct(lazy_commit, .9) / 1e3, pct(lazy_commit, .99) / 1e3, max(lazy_commit) / 1e3))
if ckpt or writeback:
    print("\nSQLite WAL checkpoints by thread, and the syncer's writebacks (ms):")
    for k, v in sorted(ckpt.items(), key=lambda kv: -len(kv[1])):
        print("%-32s %5d %8.1f %8.1f %8.1f %8.1f" % ("checkpoint, " + k, len(v), pct(v, .5) / 1e3, pct(v, .9) / 1e3,
                                                    pct(v, .99) / 1e3, max(v) / 1e3))
    if writeback:
        print("%-32s %5d %8.1f %8.1f %8.1f %8.1f" % ("writeback, nx-store-sync", len(writeback), pct(writeback, .5) / 1e3,
                                                    pct(writeback, .9) / 1e3, pct(writeback, .99) / 1e3, max(writeback) / 1e3))
if batch_waits:
    print("\nalarm thread waited for a telemetry batch holding its device's rows: %d times" % batch_waits)
if detach:
    q = [k for k, _ in detach]
    d = [v for _, v in detach]
    print("\nalarm thread, taking its batch out of the queue (walks under the queue's lock): n %d, ms p50 %.2f p99 %.2f"
          " max %.2f; rows queued p50 %d max %d" % (len(d), pct(d, .5) / 1e3, pct(d, .99) / 1e3, max(d) / 1e3, pct(q, .5), max(q)))
