"""Helpers every test directory and benchmark shares: free ports, how to run an app on a backend,
raw-socket exchanges and readers, how a case table runs on CPython and the unix binaries. Import as `tests.support` (pytest runs from the repository
root; the scripts under tests/bench put the root on sys.path themselves). Standard library only,
so the clients that run inside a network namespace can import it too (`script()`,
`NetNS.python`).
"""
import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYDIR = ROOT / "python"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(proc, port, timeout=15.0):
    """Wait until a server started as `proc` accepts connections on 127.0.0.1:`port`. None
    once it does; else why not ("exited early (rc)" or "did not listen on PORT"), with the
    process then killed, so that its output can be read to the end."""
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            return "exited early (%s)" % proc.returncode
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return None
        except OSError:
            if time.time() > deadline:
                proc.kill()
                proc.wait()
                return "did not listen on %d" % port
            time.sleep(0.05)


def proc_status_kb(pid, field):
    """A kB figure of /proc/PID/status (e.g. "VmRSS", "VmHWM"), None when it cannot be read."""
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def app_argv(backend, app, binary=None, path=()):
    """(argv, env) that run the script `app` on a backend: "cpython" (this interpreter) or a
    unix MicroPython `binary` ("unix", "unix-pure"), with python/ and the directories `path`
    importable and the frozen modules behind them."""
    dirs = [str(PYDIR)] + [str(p) for p in path]
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    if backend == "cpython":
        env["PYTHONPATH"] = ":".join(dirs)
        return [sys.executable, str(app)], env
    env["MICROPYPATH"] = ":".join(dirs + [".frozen"])
    return [str(binary), str(app)], env


def script(code):
    """Python `code` for `python -c` (a client run on the host or inside a network namespace)
    with the repository root first on sys.path, so that it can import tests.support."""
    return "import sys\nsys.path.insert(0, %r)\n" % str(ROOT) + code


def exchange(addr, raw, timeout=5.0, half_close=True):
    """Send `raw` on a new connection to `addr` (half-closing after it unless told not to) and
    read until the server closes. Returns (bytes received, how it ended: 'closed', 'reset' or
    'timeout')."""
    s = socket.create_connection(addr, timeout=timeout)
    try:
        try:
            s.sendall(raw)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed early; read what it sent
        return read_until_closed(s, time.time() + timeout)
    finally:
        s.close()


def read_until_closed(sock, deadline=None):
    """What `sock` receives until the server closes or resets it, or the socket's timeout (or
    the time.time() `deadline`) passes: (bytes, how it ended: 'closed', 'reset' or 'timeout')."""
    data = b""
    while deadline is None or time.time() <= deadline:
        try:
            x = sock.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except ConnectionResetError:
            return data, "reset"
        if not x:
            return data, "closed"
        data += x
    return data, "timeout"


def read_to_eof(sock, size=65536):
    """Everything `sock` receives until the peer closes (errors are the caller's)."""
    data = b""
    while True:
        x = sock.recv(size)
        if not x:
            return data
        data += x


def get_close(addr, path, timeout=5.0):
    """GET `path` from `addr` on a new connection with `Connection: close`; the raw answer once
    the server closes (errors are the caller's)."""
    s = socket.create_connection(addr, timeout=timeout)
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path.encode())
        return read_to_eof(s)
    finally:
        s.close()


def read_response(sock, buf=b"", head_only=False):
    """One HTTP/1.1 answer framed by Content-Length (none: no body) from `sock`, `buf` being
    what was already received: (head bytes, body bytes, the bytes after the body). A 1xx, 204
    or 304 has no body, nor does anything with `head_only` (the answer to a HEAD). EOFError
    when the server closes first."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise EOFError(buf)
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = head[9:12]
    if head_only or status[:1] == b"1" or status in (b"204", b"304"):
        return head, b"", rest
    cl = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            cl = int(v)
    while len(rest) < cl:
        d = sock.recv(65536)
        if not d:
            raise EOFError(buf + rest)
        rest += d
    return head, rest[:cl], rest[cl:]


# ---- case tables (tests/tablerun.py) on CPython and the unix MicroPython binaries ---------------

def split_plans(name, n, long_cuts):
    """The plans for an input of n bytes: "all" up to 600 bytes; a longer one 16 ways: whole,
    after its first byte, before its last, at `long_cuts`, and 12 random sets of cuts seeded by
    the case's `name` (the same every run)."""
    if n <= 600:
        return "all"
    rng = random.Random(name)
    plans = [[], [1], [n - 1], list(long_cuts)]
    for _ in range(12):
        plans.append(sorted(set(rng.randrange(1, n) for _ in range(rng.randint(1, 40)))))
    return plans


def split_count(n):
    """How many plans split_plans gives an input of n bytes, once spelled out."""
    return max((n + 1 if n > 2 else n) if n <= 600 else 16, 1)


def run_case_script(binary, script, casefile, impl, heap=None, timeout=600):
    """The case file `casefile` through the case script `script` on a unix MicroPython
    `binary` (with -X heapsize=`heap` when given), the frozen modules first on MICROPYPATH, then
    tests/ for tablerun.py: the results it printed, after checking that `impl` ran ("_mfa" or the
    frozen microfastapi module)."""
    argv = [str(binary)] + (["-X", "heapsize=" + heap] if heap else []) + [str(script),
                                                                            str(casefile)]
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join([".frozen", str(ROOT / "tests")])
    p = subprocess.run(argv, capture_output=True, timeout=timeout, env=env)
    assert p.returncode == 0, (str(binary), p.stderr.decode()[-3000:], p.stdout.decode()[-2000:])
    res = json.loads(p.stdout)
    assert res.pop("impl") == impl, (str(binary), impl)
    return res


def run_three(tmp_path, cases, module, cpython, unix_mfa, unix_pure, heap, timeout=600):
    """The case file `cases` (a dict, written to tmp_path/cases.json) through the case script
    `module` on CPython (its run_all with the implementation `cpython`, whose `name` is the pure
    module's), `_mfa` on build/unix and the frozen pure module on build/unix-pure:
    {"cpython": results, "unix": results, "unix-pure": results}."""
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases))
    out = {"cpython": module.run_all(cpython, cases)}
    for name, binary, impl in (("unix", unix_mfa, "_mfa"), ("unix-pure", unix_pure, cpython.name)):
        out[name] = run_case_script(binary, module.__file__, path, impl, heap, timeout)
    return out


def same_on_three(table, section, i, name):
    """Case i of `section` as CPython ran it, once both unix binaries gave the same."""
    got = table["cpython"][section][i]
    for impl in ("unix", "unix-pure"):
        assert table[impl][section][i] == got, "%s: %s differs from CPython" % (name, impl)
    return got
