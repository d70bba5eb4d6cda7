"""The `nuanxin` command: init (key file mode, one-time admin password, refusal to overwrite),
configuration precedence file < environment < flags with range errors and redacted secrets,
user administration from standard input, --version and unknown commands."""
import os
import stat
import subprocess
import tempfile

from nxtest import BIN, Server, check, check_eq, run


def nx(*args, env=None, stdin=None):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("NUANXIN_") and k != "NUANXIN_BIN":
            del e[k]
    e.update(env or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=e, input=stdin, timeout=120)


D = tempfile.mkdtemp(prefix="nxcli-")


def test_version_and_help():
    p = nx("--version")
    check(p.returncode == 0 and p.stdout.startswith("nuanxin "), f"--version: {p.stdout!r}")
    p = nx("frobnicate")
    check(p.returncode == 2 and "未知命令" in p.stderr, f"unknown command: {p.stderr!r}")
    p = nx("--help")
    check(p.returncode == 0 and "serve" in p.stdout and "--listen" in p.stdout, "help lists commands and keys")


def test_init():
    p = nx("--data", D, "init")
    check_eq(p.returncode, 0, "init: " + p.stderr)
    check("初始密码" in p.stdout, "one-time admin password printed")
    mode = stat.S_IMODE(os.stat(os.path.join(D, "nuanxin.key")).st_mode)
    check_eq(mode, 0o600, "key file mode")
    p = nx("--data", D, "init")
    check(p.returncode != 0 and "已存在" in p.stderr, f"init refuses an existing database: {p.stderr!r}")
    os.chmod(os.path.join(D, "nuanxin.key"), 0o644)
    p = nx("--data", D, "user", "list")
    check(p.returncode != 0 and "600" in p.stderr, f"a key file readable by others is refused: {p.stderr!r}")
    os.chmod(os.path.join(D, "nuanxin.key"), 0o600)


def conf_value(out, key):
    for line in out.splitlines():
        k, _, v = line.partition(" = ")
        if k == key:
            return v
    return None


def test_config_precedence_and_redaction():
    with open(os.path.join(D, "nuanxin.conf"), "w") as f:
        f.write("; a comment\nlisten = 127.0.0.1:9001\npage_max = 300\nmax_body = 2M\n")
    out = nx("--data", D, "config").stdout
    check_eq(conf_value(out, "listen"), "127.0.0.1:9001", "file sets listen")
    check_eq(conf_value(out, "max_body"), str(2 * 1024 * 1024), "sizes with units")
    out = nx("--data", D, "config", env={"NUANXIN_LISTEN": "127.0.0.1:9002"}).stdout
    check_eq(conf_value(out, "listen"), "127.0.0.1:9002", "environment beats the file")
    out = nx("--data", D, "config", "--listen", "127.0.0.1:9003", env={"NUANXIN_LISTEN": "127.0.0.1:9002"}).stdout
    check_eq(conf_value(out, "listen"), "127.0.0.1:9003", "flag beats the environment")
    out = nx("--data", D, "config", "--database", "postgres://nx:TopSecret99@db.local/nuanxin").stdout
    check("TopSecret99" not in out and "<redacted>" in out, f"database password redacted: {out!r}")
    d2 = tempfile.mkdtemp(prefix="nxcli-pg-")
    p = nx("--data", d2, "--database", "postgres://nx:TopSecret99@127.0.0.1:1/nuanxin", "init")
    check(p.returncode != 0 and "TopSecret99" not in p.stdout + p.stderr,
          f"an unreachable database fails without showing its password: {p.stderr!r}")
    p = nx("--data", D, "config", "--page-max", "999999")
    check(p.returncode == 2 and "page_max" in p.stderr, f"out of range flag: {p.stderr!r}")
    p = nx("--data", D, "config", env={"NUANXIN_MAX_BODY": "lots"})
    check(p.returncode == 2 and "max_body" in p.stderr, f"bad environment value: {p.stderr!r}")
    with open(os.path.join(D, "nuanxin.conf"), "a") as f:
        f.write("colour = blue\n")
    p = nx("--data", D, "config")
    check(p.returncode == 2 and "colour" in p.stderr, f"unknown key in the file: {p.stderr!r}")
    os.remove(os.path.join(D, "nuanxin.conf"))


def test_users_from_stdin():
    p = nx("--data", D, "user", "add", "zhangsan", "--role", "staff", stdin="Zhang2026pass\n")
    check(p.returncode != 0 and "社区" in p.stderr, f"staff needs a community: {p.stderr!r}")
    p = nx("--data", D, "user", "add", "lisi", "--role", "admin", stdin="short\n")
    check(p.returncode != 0 and "8" in p.stderr, f"weak password refused: {p.stderr!r}")
    p = nx("--data", D, "user", "add", "lisi", "--role", "chef", stdin="Shan2026pass\n")
    check(p.returncode == 2, "unknown role refused")
    p = nx("--data", D, "user", "add", "lisi", "--role", "admin", "--display", "李四", stdin="Shan2026pass\n")
    check_eq(p.returncode, 0, "user add: " + p.stderr)
    p = nx("--data", D, "user", "add", "lisi", "--role", "admin", stdin="Shan2026pass\n")
    check(p.returncode != 0 and "已存在" in p.stderr, f"duplicate user: {p.stderr!r}")
    out = nx("--data", D, "user", "list").stdout
    check("lisi" in out and "李四" in out, "user list")
    S = Server(data=D)
    S.start()
    try:
        c = S.login("lisi", "Shan2026pass")
        check(c.token is not None, "new account logs in")
        d3 = tempfile.mkdtemp(prefix="nxcli-port-")
        nx("--data", d3, "init")
        p = subprocess.run([BIN, "--data", d3, "serve", "--listen", f"127.0.0.1:{S.port}", "--web-root", ""],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and "无法监听" in p.stderr, f"a second server on a port in use fails: {p.stderr!r}")
        p = nx("--data", D, "user", "passwd", "lisi", stdin="Shan2027pass\n")
        check_eq(p.returncode, 0, "passwd: " + p.stderr)
        p = nx("--data", D, "user", "disable", "lisi")
        check_eq(p.returncode, 0, "disable: " + p.stderr)
        st, _, _ = S.client().post("/api/v1/auth/login", {"username": "lisi", "password": "Shan2027pass"})
        check_eq(st, 401, "disabled account cannot log in")
        p = nx("--data", D, "user", "enable", "lisi")
        st, _, _ = S.client().post("/api/v1/auth/login", {"username": "lisi", "password": "Shan2027pass"})
        check_eq(st, 200, "enabled again, new password works")
    finally:
        S.stop()


try:
    run([test_version_and_help, test_init, test_config_precedence_and_redaction, test_users_from_stdin])
finally:
    import shutil
    shutil.rmtree(D, ignore_errors=True)
