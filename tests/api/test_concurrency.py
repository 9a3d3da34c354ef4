"""Issue 19: handlers that await run concurrently, clients that go away, streams that fail,
status codes, undecodable bodies, log lines. Served by CPython (pyserver) and both unix
binaries (unix-pure: pyserver on MicroPython; unix: _mfa.Server) through app.run(); the
in-process TestClient runs the cases that do not need a network."""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import requests

from api_util import HERE, PYDIR, ROOT, free_port, spawn, stop
from tests.support import read_until_closed, wait_listening

INTERPRETERS = ["cpython", "unix-pure", "unix"]


class Served:
    def __init__(self, name, proc, port, logpath):
        self.name = name
        self.proc = proc
        self.port = port
        self.base = "http://127.0.0.1:%d" % port
        self.logpath = logpath

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.get(self.base + path, **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 10)
        return requests.post(self.base + path, **kw)

    def state(self):
        """The app's counters; {} while the server answers 503 (pool full)."""
        r = self.get("/state")
        return r.json() if r.status_code == 200 else {}

    def conn(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


def _start(request, name, *extra):
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    if name == "cpython":
        env["PYTHONPATH"] = "%s:%s" % (PYDIR, HERE)
        env["PYTHONUNBUFFERED"] = "1"
        exe = sys.executable
    else:
        exe = str(request.getfixturevalue("unix_mfa" if name == "unix" else "unix_pure"))
        env["MICROPYPATH"] = "%s:%s:.frozen" % (PYDIR, HERE)
    port = free_port()
    fd, logpath = tempfile.mkstemp(prefix="conc-%s-" % name, suffix=".log")
    out = os.fdopen(fd, "wb")
    proc = subprocess.Popen([exe, str(HERE / "conc_app.py"), str(port)] + list(extra),
                            env=env, cwd=str(ROOT), stdout=out, stderr=subprocess.STDOUT)
    out.close()
    why = wait_listening(proc, port)
    assert not why, "server %s:\n%s" % (why, open(logpath).read())
    return Served(name, proc, port, logpath)


@pytest.fixture(params=INTERPRETERS)
def srv(request):
    s = _start(request, request.param)
    yield s
    s.proc.kill()
    s.proc.wait(5)
    os.unlink(s.logpath)


def wait_for(pred, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def read_all(s, timeout=5.0):
    """Everything until the server closes or resets; (data, how it ended)."""
    s.settimeout(timeout)
    return read_until_closed(s)


# ---- handlers run concurrently ----------------------------------------------------------


def test_awaiting_handlers_overlap(srv):
    """Three 1 s handlers and a plain GET at once: served one after the other they would
    take 3 s and the GET would wait behind them."""
    srv.get("/json")  # warm up
    done = {}
    t0 = time.time()

    def slow(i):
        r = srv.get("/sleep?ms=1000&tag=%d" % i)
        done[i] = (r.json()["tag"], time.time() - t0)
    ts = [threading.Thread(target=slow, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    time.sleep(0.15)
    r = srv.get("/json")
    t_json = time.time() - t0
    for t in ts:
        t.join()
    assert r.json() == {"ok": True}
    assert sorted(done) == [0, 1, 2] and all(done[i][0] == str(i) for i in done)
    last = max(v[1] for v in done.values())
    assert t_json < min(v[1] for v in done.values()), (t_json, done)
    assert last < 2.2, "handlers ran one after the other: %.2f s" % last


def test_handler_waits_for_another_request(srv):
    """/wait awaits an event that only /set sets: served one at a time, /set would never run."""
    a = srv.conn()
    try:
        a.sendall(b"GET /wait HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        time.sleep(0.2)
        assert srv.get("/set", timeout=5).json() == {"set": True}
        data, how = read_all(a)
    finally:
        a.close()
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b'{"waited": true}'), data


def test_one_connection_answers_in_order(srv):
    """Pipelined: a slow request, then fast ones, on one connection: answered in order."""
    s = srv.conn()
    try:
        s.sendall(b"GET /sleep?ms=300&tag=first HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /json HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /sleep?ms=10&tag=third HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data, how = read_all(s)
    finally:
        s.close()
    assert data.count(b"HTTP/1.1 200 OK") == 3, data
    a, b, c = data.find(b'"first"'), data.find(b'"ok": true'), data.find(b'"third"')
    assert 0 < a < b < c, data


def test_async_iterator_stream_awaits(srv):
    """A stream whose async iterator awaits, served while other requests go on."""
    got = {}

    def stream():
        got["r"] = srv.get("/ticks?n=2&ms=1000")
    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.1)
    t0 = time.time()
    assert srv.get("/json").json() == {"ok": True}
    t_json = time.time() - t0
    t.join()
    assert got["r"].text == "tick 1\ntick 0\n"
    # Awaited inline, the 1 s tick the stream is in would hold the GET for about 0.9 s.
    assert t_json < 0.6, "the stream's awaiting held up other requests: %.2f s" % t_json
    r = srv.get("/async-ticks")
    assert r.text == "tick 2\ntick 1\ntick 0\n"


@pytest.mark.parametrize("how", ["close", "reset"])
def test_gone_client_cancels_its_handler(srv, how):
    s = srv.conn()
    s.sendall(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
    assert wait_for(lambda: srv.state().get("running") == 1)
    if how == "reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    st = wait_for(lambda: (lambda d: d if d.get("cancelled") == 1 else None)(srv.state()))
    assert st, srv.state()
    assert st["running"] == 0 and st["finished"] == 0 and st["tasks"] == 0
    assert wait_for(lambda: srv.state().get("connections") == 1)  # only the /state client
    assert wait_for(lambda: "GET /hang: client" in srv.log() and "handler cancelled" in srv.log())
    assert "Traceback" not in srv.log()


def test_handler_tasks_bounded_by_pool(srv):
    """max_conns=6: at most 6 handlers run; the other connections get 503, or a reset when the
    full pool took their slot back for a newer connection before their request had arrived
    (docs/connections.md)."""
    socks = [srv.conn() for _ in range(8)]
    try:
        busy = 0
        for s in socks:
            try:
                s.sendall(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
            except (ConnectionResetError, BrokenPipeError):
                pass  # counted below
        time.sleep(1.0)
        for s in socks:
            s.settimeout(0.2)
            try:
                d = s.recv(100)
                if d.startswith(b"HTTP/1.1 503") or d == b"":
                    busy += 1
            except ConnectionResetError:
                busy += 1
            except socket.timeout:
                pass
    finally:
        for s in socks:
            s.close()
    st = wait_for(lambda: (lambda d: d if d.get("running") == 0 else None)(srv.state()))
    # (a connection of the readiness probe may still hold a slot: then 5 ran and 3 got 503)
    assert st and st["peak"] <= 6 and st["peak"] + busy == 8, (busy, srv.state())
    assert st["cancelled"] == st["peak"] and st["peak"] >= 5


# ---- streams end honestly -----------------------------------------------------------------


def cut_stream(srv, path):
    """GET `path` (a stream that fails) on a raw connection: what came before the server cut
    it, after checking that it was cut (no final chunk; closed or reset)."""
    s = srv.conn()
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())
        data, how = read_all(s)
    finally:
        s.close()
    assert not data.endswith(b"0\r\n\r\n"), data
    assert how in ("reset", "closed")
    return data


def test_failing_stream_is_cut_not_ended(srv):
    data = cut_stream(srv, "/boom")
    assert data.startswith(b"HTTP/1.1 200 OK") and b"Transfer-Encoding: chunked" in data
    assert b"one\n" in data and b"two\n" in data
    log = wait_for(lambda: "GET /boom: stream failed" in srv.log() and srv.log())
    assert log.count("GET /boom: stream failed after 2 chunks: ValueError: generator failed") == 1
    assert srv.get("/json").status_code == 200


def test_stream_piece_the_server_cannot_send_cuts_the_stream(srv):
    """A piece of the wrong type (or one there is no memory to copy) fails in the server's
    stream_send, not in the iterator: the same honest end, not an exception out of serve()."""
    assert b"one\n" in cut_stream(srv, "/badpiece")
    assert wait_for(lambda: "GET /badpiece: stream failed after 1 chunks: TypeError" in srv.log())
    assert srv.get("/json").status_code == 200


def test_client_reset_mid_stream_is_one_line(srv):
    for _ in range(3):
        s = srv.conn()
        s.sendall(b"GET /forever HTTP/1.1\r\nHost: t\r\n\r\n")
        s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    assert wait_for(lambda: srv.log().count("GET /forever: client") == 3), srv.log()
    log = srv.log()
    assert log.count("gone while streaming") == 3
    assert "Traceback" not in log and "ECONNRESET" not in log
    assert ": reset" not in log  # (the server does not report what the app reports)
    assert wait_for(lambda: srv.state().get("connections") == 1)


def test_server_side_client_failures_are_one_line_each(srv):
    """Timeouts and resets that only the server sees: one INFO line each, no traceback."""
    s = srv.conn()
    s.sendall(b"GET /json HTTP/1.1\r\nHost: t\r\n")  # the head never ends
    port = s.getsockname()[1]
    data, how = read_all(s, timeout=5)
    s.close()
    assert data.startswith(b"HTTP/1.1 408"), data
    s = srv.conn()
    s.sendall(b"POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
    port2 = s.getsockname()[1]
    data, how = read_all(s, timeout=5)
    s.close()
    assert data.startswith(b"HTTP/1.1 408"), data
    s = srv.conn()
    port3 = s.getsockname()[1]
    s.sendall(b"GET /json HTTP/1.1\r\nHost: t\r\n\r\n")
    s.recv(1000)
    s.sendall(b"GET /js")
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    srv.get("/json")  # (the pure server notices the reset when it next polls)
    want = ["client 127.0.0.1:%d: header timeout" % port,
            "client 127.0.0.1:%d: body timeout" % port2,
            "client 127.0.0.1:%d: reset" % port3]
    assert wait_for(lambda: all(w in srv.log() for w in want)), srv.log()
    log = srv.log()
    assert all(log.count(w) == 1 for w in want) and "Traceback" not in log


def test_quiet_level_hides_client_lines(request):
    srv = _start(request, "unix", "quiet")
    try:
        s = srv.conn()
        s.sendall(b"GET /forever HTTP/1.1\r\nHost: t\r\n\r\n")
        s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        assert wait_for(lambda: srv.state().get("connections") == 1)
        s = srv.conn()
        s.sendall(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\n")
        read_all(s)
        s.close()
        assert wait_for(lambda: "GET /boom: stream failed" in srv.log())
        assert "GET /forever" not in srv.log()
    finally:
        srv.proc.kill()
        srv.proc.wait(5)
        os.unlink(srv.logpath)


# ---- status codes and undecodable bodies (also in-process) --------------------------------


@pytest.fixture(params=["testclient"] + INTERPRETERS)
def any_srv(request):
    if request.param == "testclient":
        from microfastapi.testclient import TestClient
        import conc_app
        yield TestClient(conc_app.app)
        return
    s = _start(request, request.param)
    yield s
    s.proc.kill()
    s.proc.wait(5)
    os.unlink(s.logpath)


@pytest.mark.parametrize("path", ["/status/100", "/status/-1", "/status/600", "/status/199",
                                  "/tuple-status/101", "/http-exc/99"])
def test_status_out_of_range_is_500(any_srv, path):
    r = any_srv.get(path)
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal Server Error"}
    if isinstance(any_srv, Served):
        assert wait_for(lambda: "status_code must be an int from 200 to 599" in any_srv.log())
        assert any_srv.get("/json").status_code == 200


@pytest.mark.parametrize("code", [200, 201, 299, 404, 418, 599])
def test_status_in_range(any_srv, code):
    assert any_srv.get("/status/%d" % code).status_code == code


@pytest.mark.parametrize("body,detail", [
    (b"a=\xff\xfe", "form body is not valid UTF-8"),
    (b"a=%zz", "form field 'a': invalid percent-escape '%zz'"),
    (b"a=1&b=%f", "form field 'b': invalid percent-escape '%f'"),
    (b"a=%ff%fe", "form field 'a': percent-escapes are not UTF-8"),
])
def test_undecodable_form_is_400(any_srv, body, detail):
    r = any_srv.post("/form", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    assert r.json() == {"detail": detail}


def test_form_decodes(any_srv):
    r = any_srv.post("/form", data=b"n%C3%A9=%E2%82%AC&x=a+b&e",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.json() == {"form": [["n\u00e9", "\u20ac"], ["x", "a b"], ["e", ""]]}


@pytest.mark.parametrize("body", [b'{"a": "\xff"}', b"\xff\xfe", b'"\xc3"'])
def test_undecodable_json_is_422(any_srv, body):
    r = any_srv.post("/json", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


# ---- the TestClient and the log module, inside each interpreter ---------------------------

IN_PROCESS = r"""
import os, sys
from microfastapi.testclient import TestClient
from microfastapi import log
import conc_app
lines = []
log.sinks[:] = [lambda lvl, text: lines.append((lvl, text))]
c = TestClient(conc_app.app)
assert c.get("/sleep?ms=30&tag=t").json() == {"slept": 30, "tag": "t"}
assert c.get("/ticks?n=2&ms=10").text == "tick 1\ntick 0\n"
assert c.get("/async-ticks").text == "tick 2\ntick 1\ntick 0\n"
r = c.get("/boom")
assert r.aborted and r.content == b"one\ntwo\n", (r.aborted, r.content)
assert not c.get("/ticks?n=1&ms=1").aborted
assert lines[-1][0] == log.ERROR and lines[-1][1].startswith(
    "GET /boom: stream failed after 2 chunks: ValueError: generator failed\n"), lines
assert "Traceback" in lines[-1][1]
assert c.get("/status/100").status_code == 500
log.level = log.WARNING
log.info("hidden")
assert lines[-1][1] != "hidden"
log.level = log.INFO

# FileSink: at most max_bytes per file, one older file kept, lines whole.
path = sys.argv[1]
sink = log.FileSink(path, max_bytes=1000)
for i in range(200):
    sink(log.INFO, "line %03d " % i + "x" * 30)
a, b = open(path).read(), open(path + ".1").read()
assert 0 < len(a) <= 1000 and 900 < len(b) <= 1000, (len(a), len(b))
assert a.endswith("line 199 " + "x" * 30 + "\n") and a.startswith("INFO: line ")
sink2 = log.FileSink(path, max_bytes=1000)  # picks up the existing size
assert sink2.size == len(a)
sink(log.DEBUG, "below the sink's level")
assert "below" not in open(path).read()
def broken(lvl, text):
    raise OSError(28, "no space")
log.sinks.append(broken)
log.error("still fine")
assert broken not in log.sinks and lines[-1][1] == "still fine"
print("IN-PROCESS OK")
"""


@pytest.mark.parametrize("kind", INTERPRETERS)
def test_testclient_and_log_in_process(request, kind, tmp_path):
    """The TestClient runs awaiting handlers and async iterators in a real event loop (on
    MicroPython this used to crash the VM), and the log module behaves the same everywhere."""
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    if kind == "cpython":
        env["PYTHONPATH"] = "%s:%s" % (PYDIR, HERE)
        exe = sys.executable
    else:
        exe = str(request.getfixturevalue("unix_mfa" if kind == "unix" else "unix_pure"))
        env["MICROPYPATH"] = "%s:%s:.frozen" % (PYDIR, HERE)
    out = subprocess.run([exe, "-c", IN_PROCESS, str(tmp_path / "log.txt")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "IN-PROCESS OK" in out.stdout, out.stdout + out.stderr
