"""What an installation relies on (issue #20), on both backends: `nuanxin doctor` on a good and a
deliberately broken set-up; the nightly `backup --dir` (a named, verified file, its outcome recorded
for doctor and the health API, old files rotated, foreign files left alone); `upgrade` taking a backup
before a migration that fails, which leaves the database as it was and says how to go back; a
downgrade refused before anything is touched; and `serve` telling systemd READY / RELOADING /
STOPPING over $NOTIFY_SOCKET, with SIGHUP re-reading the log level."""
import os
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import tempfile

from nxtest import BIN, PG, Server, check, check_eq, psql, run

S = Server()
KEYDIR = tempfile.mkdtemp(prefix="nxkey-")
BACKUPS = os.path.join(S.data, "backups")


def nx(*args, env=None, srv=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("NUANXIN_") or k == "NUANXIN_BIN"}
    e.update(env or {})
    return subprocess.run([BIN, "--data", (srv or S).data, *args], capture_output=True, text=True, env=e,
                          timeout=300)


def sql(q, srv=None):
    """Run q on the test's database (SQLite file or PostgreSQL); the first value of its first row."""
    srv = srv or S
    if PG:
        return psql(srv.database, q).strip().split("\n")[0]
    db = sqlite3.connect(os.path.join(srv.data, "nuanxin.db"))
    try:
        row = db.execute(q).fetchone()
        db.commit()
        return "" if row is None else str(row[0])
    finally:
        db.close()


def verdicts(out):
    """{check name: verdict} from doctor's lines "[正常] 名称 …"."""
    return {m.group(2): m.group(1) for m in re.finditer(r"^\[(正常|警告|错误)\] (\S+)", out, re.M)}


def test_good_setup():
    # the key file moved out of the data directory, as the package installs it
    key = os.path.join(KEYDIR, "nuanxin.key")
    shutil.move(os.path.join(S.data, "nuanxin.key"), key)
    with open(os.path.join(S.data, "nuanxin.conf"), "a") as f:
        f.write(f"key_file = {key}\nweb_root =\nwatch_listen = off\niw_listen = off\n")
    os.chmod(S.data, 0o700)
    p = nx("backup", "--dir", BACKUPS)
    check_eq(p.returncode, 0, f"backup --dir: {p.stderr}")
    files = os.listdir(BACKUPS)
    check(len(files) == 1 and re.fullmatch(r"nuanxin-\d{8}-\d{6}\.(db|dump)", files[0]), f"one named backup: {files}")
    check("已校验" in p.stdout, f"the backup is verified: {p.stdout}")
    check_eq(stat.S_IMODE(os.stat(os.path.join(BACKUPS, files[0])).st_mode), 0o600, "backup file mode")
    p = nx("doctor")
    v = verdicts(p.stdout)
    check_eq(p.returncode, 0, f"doctor on a good set-up: {p.stdout}")
    for name in ("数据目录", "密钥文件", "数据库", "备份", "时钟"):
        check_eq(v.get(name), "正常", f"doctor's {name} line in {p.stdout}")
    check("0 个错误" in p.stdout, p.stdout)


def test_broken_setup():
    key = os.path.join(KEYDIR, "nuanxin.key")
    os.chmod(key, 0o644)
    p = nx("doctor")
    check_eq(p.returncode, 1, "doctor fails on a world-readable key file")
    check_eq(verdicts(p.stdout).get("密钥文件"), "错误", p.stdout)
    check(f"chmod 600 {key}" in p.stdout, f"says what to do: {p.stdout}")
    os.chmod(key, 0o600)
    os.rename(key, key + ".away")
    p = nx("doctor")
    check(p.returncode == 1 and verdicts(p.stdout).get("密钥文件") == "错误", f"missing key file: {p.stdout}")
    os.rename(key + ".away", key)
    check_eq(nx("doctor").returncode, 0, "doctor is green again once the key file is back")
    # a failed nightly backup (here: its directory is a plain file) is an error until one succeeds
    not_dir = os.path.join(S.data, "not-a-dir")
    open(not_dir, "w").close()
    p = nx("backup", "--dir", not_dir)
    check(p.returncode == 1 and "备份失败" in p.stderr, f"the backup fails: {p.stderr}")
    p = nx("doctor")
    check(p.returncode == 1 and verdicts(p.stdout).get("备份") == "错误", f"doctor shows the failure: {p.stdout}")
    check_eq(nx("backup", "--dir", BACKUPS).returncode, 0, "the next backup")
    check_eq(nx("doctor").returncode, 0, "doctor is green again")


def test_rotation_and_foreign_files():
    os.makedirs(BACKUPS, exist_ok=True)
    old = ["nuanxin-20200101-020000.db", "nuanxin-20200102-020000.db", "nuanxin-20200103-020000.dump"]
    for name in old + ["README.txt"]:
        with open(os.path.join(BACKUPS, name), "w") as f:
            f.write("x")
    p = nx("backup", "--dir", BACKUPS, "--keep-daily", "1", "--keep-weekly", "0", "--keep-monthly", "0")
    check_eq(p.returncode, 0, p.stderr)
    left = sorted(os.listdir(BACKUPS))
    check("README.txt" in left, f"a file that is not a backup is never deleted: {left}")
    check(not any(n in left for n in old), f"old backups rotated away: {left}")
    check_eq(len([n for n in left if n.startswith("nuanxin-")]), 1, f"one day kept: {left}")


def test_failed_migration_leaves_database_and_backup():
    newest = int(sql("SELECT max(version) FROM schema_migrations"))
    previous = int(sql(f"SELECT max(version) FROM schema_migrations WHERE version < {newest}"))
    # a database one version behind, as after installing a newer package: made by a release that
    # knew only the migrations before the newest (NX_TEST_MIGRATE_UPTO, store.c)
    os.environ["NX_TEST_MIGRATE_UPTO"] = str(previous)
    try:
        old = Server()
    finally:
        del os.environ["NX_TEST_MIGRATE_UPTO"]
    backups = os.path.join(old.data, "backups")
    os.makedirs(backups, exist_ok=True)
    users = sql("SELECT count(*) FROM users", old)
    behind = int(sql("SELECT max(version) FROM schema_migrations", old))
    check_eq(behind, previous, "the old release's database is one behind")
    before = set(os.listdir(backups))
    # … and the migration fails (the check before it fails: NX_STORE_FAULT, store.h)
    p = nx("upgrade", "--backup-dir", backups, env={"NX_STORE_FAULT": "FROM schema_migrations WHERE version@1"},
           srv=old)
    check_eq(p.returncode, 1, f"upgrade reports the failed migration: {p.stdout} {p.stderr}")
    check("数据库未被改动" in p.stderr and backups in p.stderr, f"says where the backup is and how back: {p.stderr}")
    new = set(os.listdir(backups)) - before
    check_eq(len(new), 1, f"a backup was taken before migrating: {new}")
    check_eq(int(sql("SELECT max(version) FROM schema_migrations", old)), behind, "the database stays one behind")
    check_eq(sql("SELECT count(*) FROM users", old), users, "its rows are all there")
    p = nx("doctor", srv=old)
    check_eq(verdicts(p.stdout).get("数据库"), "警告", f"doctor: behind, run upgrade: {p.stdout}")
    # without the fault the same upgrade goes through (and takes its own backup first)
    p = nx("upgrade", "--backup-dir", backups, srv=old)
    check_eq(p.returncode, 0, p.stderr)
    check_eq(int(sql("SELECT max(version) FROM schema_migrations", old)), newest, "upgraded")
    p = nx("upgrade", "--backup-dir", backups, srv=old)
    check(p.returncode == 0 and "无需迁移" in p.stdout, f"nothing to do the second time: {p.stdout}")
    old.stop()


def test_downgrade_refused():
    sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '999_future', 0)")
    n = len(os.listdir(BACKUPS))
    p = nx("upgrade", "--backup-dir", BACKUPS)
    check(p.returncode == 1 and "不能降级" in p.stderr, f"a database from a newer nuanxin is refused: {p.stderr}")
    check_eq(len(os.listdir(BACKUPS)), n, "nothing done: no backup, no migration")
    p = nx("doctor")
    check(p.returncode == 1 and verdicts(p.stdout).get("数据库") == "错误", f"doctor: {p.stdout}")
    sql("DELETE FROM schema_migrations WHERE version = 999")


def test_systemd_notify_and_reload():
    path = os.path.join(tempfile.mkdtemp(prefix="nxsd-"), "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    S.start(env=env)
    msg = sock.recv(4096).decode()
    check(msg.startswith("READY=1") and "STATUS=listening on 127.0.0.1:" in msg, f"READY once listening: {msg!r}")
    with open(os.path.join(S.data, "nuanxin.conf"), "a") as f:
        f.write("log_level = debug\n")
    S.proc.send_signal(signal.SIGHUP)
    check_eq(sock.recv(4096).decode(), "RELOADING=1", "reload announced")
    check_eq(sock.recv(4096).decode(), "READY=1", "ready again after the reload")
    check("serve.reloaded log_level=debug" in S.tail_log(), f"the log level re-read: {S.tail_log()[-500:]}")
    c = S.client()
    st, _, _ = c.get("/api/v1/system/health", auth=False)
    check_eq(st, 401, "still serving after the reload (and the health card needs a login)")
    admin = S.login()
    st, _, body = admin.get("/api/v1/system/health")
    check_eq(st, 200, f"health: {body}")
    b = body.get("backup", {})
    check(b.get("status") == "ok" and b.get("last_ok_at") and "/" not in (b.get("file") or "/"),
          f"the console's card sees the last good backup, by file name only: {b}")
    check_eq(body.get("database", {}).get("schema_version"), body.get("database", {}).get("schema_newest"), "schema")
    # a failed nightly backup shows on the card, with its reason
    not_dir = os.path.join(S.data, "not-a-dir")
    nx("backup", "--dir", not_dir)
    st, _, body = admin.get("/api/v1/system/health")
    check(body["backup"]["status"] == "failed" and body["backup"]["error"], f"a failure is shown: {body['backup']}")
    S.stop()
    check_eq(sock.recv(4096).decode(), "STOPPING=1", "STOPPING on SIGTERM")
    sock.close()


try:
    run([test_good_setup, test_broken_setup, test_rotation_and_foreign_files,
         test_failed_migration_leaves_database_and_backup, test_downgrade_refused, test_systemd_notify_and_reload])
finally:
    S.cleanup()
    shutil.rmtree(KEYDIR, ignore_errors=True)
