"""Clients and handlers that misbehave. After every test the server must still answer, its
connection pool must be empty again (Server.stats()["connections"] is only our own /_debug
connection) and, on MicroPython, gc.mem_free() after gc.collect() must be back to its level
before the test within HEAP_TOLERANCE bytes.

The servers run with max_conns=8 and 1 s header/body/idle timeouts (conftest.LIMITS).
"""
import socket
import struct
import threading
import time

import pytest

from hostile_util import parse_responses
from tests import support

HEAP_TOLERANCE = 4096
_warm = set()

GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
POST = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789"
CHUNKED = (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;x=y\r\nhello\r\n5\r\nworld\r\n0\r\nX-T: v\r\n\r\n")


@pytest.fixture
def srv(server):
    """The backend's server, warmed up; checked for health and heap after the test."""
    if server.name not in _warm:
        server.heap_baseline()
        _warm.add(server.name)
    base = server.settle()["mem_free"]
    yield server
    server.check_healthy(base, HEAP_TOLERANCE)


def rst_close(s):
    """Close with RST instead of FIN (SO_LINGER 0)."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def read_until_closed(s, timeout=5.0):
    s.settimeout(timeout)
    return support.read_until_closed(s)[0]


def read_responses(s, n, timeout=5.0):
    s.settimeout(timeout)
    data = b""
    while True:
        resps, rest = parse_responses(data)
        if len(resps) >= n:
            return resps
        x = s.recv(65536)
        if not x:
            return resps
        data += x


# ---- clients that go away -------------------------------------------------------------

@pytest.mark.parametrize("raw", [GET, POST, CHUNKED], ids=["get", "post", "chunked"])
def test_disconnect_at_every_byte_of_a_request(srv, raw):
    for k in range(len(raw)):
        s = srv.connect()
        s.sendall(raw[:k])
        if k % 2:
            rst_close(s)
        else:
            s.close()
    # a full request after all that
    assert srv.get_ok("/")[0] == 200


@pytest.mark.parametrize("path", ["/big?n=300000", "/stream?n=300"])
def test_disconnect_at_every_stage_of_a_response(srv, path):
    req = ("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode()
    for stage in ("before-read", "one-byte", "head", "half", "rst-half"):
        s = srv.connect()
        s.sendall(req)
        if stage != "before-read":
            want = {"one-byte": 1, "head": 200, "half": 150000, "rst-half": 150000}[stage]
            got = 0
            while got < want:
                x = s.recv(min(65536, want - got))
                if not x:
                    break
                got += len(x)
        if stage.startswith("rst"):
            rst_close(s)
        else:
            s.close()
    assert srv.get_ok("/")[0] == 200


def test_disconnect_while_handler_is_slow(srv):
    s = srv.connect()
    s.sendall(b"GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.05)
    rst_close(s)
    assert srv.get("/")[0] == 200


def test_never_reads_the_response(srv):
    s = srv.connect()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /big?n=400000 HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.3)
        # meanwhile the server serves others
        t0 = time.time()
        assert srv.get("/")[0] == 200
        assert time.time() - t0 < 2
    finally:
        s.close()


def test_pipelined_big_responses_never_read(srv):
    """100 pipelined requests for 100 kB answers from a client that reads nothing: the server
    must not queue them all (10 MB) in RAM, and must stay up."""
    base = srv.debug()["mem_free"]
    s = srv.connect()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"GET /big?n=100000 HTTP/1.1\r\nHost: t\r\n\r\n" * 100)
        time.sleep(1.0)
        assert srv.alive()
        d = srv.debug()
        if d["mem_free"] is not None:
            # Held while the client does not read: one answer and the pipelined bytes, never
            # a queue of answers (the pure server once queued 700 kB and died of MemoryError).
            assert base - d["mem_free"] < 250000, (base, d["mem_free"])
            assert d["low_free"] is None or d["low_free"] > 0
        assert srv.get("/")[0] == 200
    finally:
        rst_close(s)


# ---- slow and idle clients ----------------------------------------------------------------

def test_idle_connections_are_closed(srv):
    """Connections that send nothing are closed after idle_timeout_ms (1 s)."""
    socks = [srv.connect() for _ in range(4)]
    t0 = time.time()
    for s in socks:
        assert read_until_closed(s, timeout=5) == b""
        s.close()
    assert time.time() - t0 < 3.5


def test_slowloris_header_timeout(srv):
    """A head trickling in slower than header_timeout_ms (1 s) gets 408 and is closed."""
    socks = [srv.connect() for _ in range(3)]
    t0 = time.time()
    for s in socks:
        s.sendall(b"GET / HTTP/1.1\r\n")
    deadline = time.time() + 5
    answers = []
    for s in socks:
        s.settimeout(0.2)
        data = b""
        while time.time() < deadline:
            try:
                s.sendall(b"X")  # one more byte of a header name now and then
            except OSError:
                pass
            try:
                x = s.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if not x:
                break
            data += x
        answers.append(data)
        s.close()
    assert time.time() - t0 < 4
    for a in answers:
        assert a == b"" or a.startswith(b"HTTP/1.1 408 "), a[:80]


def test_full_pool_of_idle_clients_does_not_block_others(srv):
    """max_conns idle connections: a new client is answered at once (503, or 200 when a slot
    is free), never left hanging, and gets 200 once the idle ones timed out."""
    socks = [srv.connect() for _ in range(8)]
    try:
        time.sleep(0.1)
        t0 = time.time()
        s = srv.connect()
        s.sendall(GET)
        resps = read_responses(s, 1, timeout=5)
        s.close()
        assert resps and resps[0][0] in (200, 503)
        assert time.time() - t0 < 1.0
        time.sleep(1.5)
        assert srv.get("/")[0] == 200
    finally:
        for x in socks:
            x.close()


def test_one_byte_at_a_time(srv):
    for raw, status in ((GET, 200), (POST, 200), (CHUNKED, 200)):
        s = srv.connect()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # One byte per segment, spread over 0.4 s at most: the server's header timeout is 1 s,
        # and on a loaded machine fixed sleeps per byte would add up past it.
        start, pace = time.monotonic(), 0.4 / len(raw)
        for i in range(len(raw)):
            s.sendall(raw[i:i + 1])
            ahead = start + (i + 1) * pace - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        resps = read_responses(s, 1)
        s.close()
        assert [r[0] for r in resps] == [status]


# ---- too many, too fast ----------------------------------------------------------------------

def test_more_connections_than_the_pool(srv):
    n = 24
    results = [None] * n
    barrier = threading.Barrier(n)

    def client(i):
        try:
            # All at once, each sending as soon as it is connected: a client that waited for the
            # others after connecting could sit past the 1 s header timeout on a loaded machine,
            # and be closed unanswered for that rather than for the flood.
            barrier.wait(5)
            s = srv.connect()
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            data = read_until_closed(s, timeout=5)
            s.close()
            resps, _ = parse_responses(data)
            results[i] = resps[0][0] if resps else ("closed", data[:40])
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = repr(e)
    ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(15)
    # Beyond the pool a client gets 503, or (when its request arrives after the server's
    # lingering close gave up) a close without an answer, or a reset (a full pool takes back a
    # connection whose request has not arrived yet for a newcomer: docs/internals.md); never
    # a hang or another status.
    assert all(r in (200, 503) or (isinstance(r, tuple) and r[1] == b"")
               or (isinstance(r, str) and r.startswith("ConnectionResetError")) for r in results), \
        results
    assert results.count(200) >= 8, results


def test_pipeline_100(srv):
    reqs = []
    for i in range(100):
        reqs.append(GET if i % 3 else POST)
    s = srv.connect()
    s.sendall(b"".join(reqs))
    resps = read_responses(s, 100, timeout=10)
    s.close()
    assert [r[0] for r in resps] == [200] * 100
    assert [r[2] for r in resps[:3]] == [b'{"len": 10}', b'{"ok": true}', b'{"ok": true}']


def test_pipeline_100_half_closed(srv):
    data, end = srv.exchange(GET * 100)
    resps, rest = parse_responses(data)
    assert [r[0] for r in resps] == [200] * 100 and not rest, end


# ---- handlers that misbehave ---------------------------------------------------------------

@pytest.mark.parametrize("path", ["/raise", "/unserialisable", "/unserialisable2"])
def test_bad_handler_gives_500_and_keeps_the_connection(srv, path):
    s = srv.connect()
    s.sendall(("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode() + GET)
    resps = read_responses(s, 2)
    s.close()
    assert [r[0] for r in resps] == [500, 200]
    assert b"Internal Server Error" in resps[0][2]


def test_handler_out_of_memory_gives_503_and_keeps_the_connection(srv):
    """A handler whose allocation fails is the board running short, not a bug: 503 (as for a
    request the server cannot hold), one log line without a traceback, the connection kept."""
    s = srv.connect()
    s.sendall(b"GET /oom HTTP/1.1\r\nHost: t\r\n\r\n" + GET)
    resps = read_responses(s, 2)
    s.close()
    assert [r[0] for r in resps] == [503, 200]
    assert resps[0][2] == b"out of memory"
    line = "GET /oom: out of memory, answered 503"
    deadline = time.time() + 5  # (the server's output is read by a thread)
    while line not in srv.output.decode(errors="replace") and time.time() < deadline:
        time.sleep(0.02)
    out = srv.output.decode(errors="replace")
    assert line in out, out
    assert "Traceback" not in out.split("/oom: out of memory")[-1], out


def test_slow_handler(srv):
    """A handler that blocks the (single-threaded) loop delays others but loses nothing."""
    s = srv.connect()
    s.sendall(b"GET /slow?ms=400 HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.05)
    t0 = time.time()
    assert srv.get("/")[0] == 200
    assert time.time() - t0 < 3
    resps = read_responses(s, 1)
    s.close()
    assert [r[0] for r in resps] == [200]


def test_close_is_prompt(srv):
    """After a `Connection: close` answer the server closes at once: a client waiting for EOF
    must not wait, and the pool slot must come free."""
    worst = 0.0
    for _ in range(5):
        s = srv.connect()
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        t0 = time.time()
        read_until_closed(s)
        worst = max(worst, time.time() - t0)
        s.close()
    assert worst < 0.15, "EOF after %.0f ms" % (worst * 1000)


def test_close_with_pipelined_input_keeps_the_answer(srv):
    """Requests pipelined behind a `Connection: close` one are never answered, but their
    unread bytes must not make the close a reset that destroys the answer already sent
    (the reason the server drains input before closing when the client sent more)."""
    CLOSE = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    for extra in (GET * 200, POST * 100, b"x" * 20000):
        s = srv.connect()
        s.sendall(CLOSE + extra)
        s.settimeout(5)
        data, reset = b"", False
        while True:
            try:
                x = s.recv(65536)
            except ConnectionResetError:
                reset = True
                break
            if not x:
                break
            data += x
        s.close()
        resps, rest = parse_responses(data)
        assert [r[0] for r in resps] == [200] and not rest and not reset, (len(extra), data[:80])
