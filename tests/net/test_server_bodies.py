"""Streamed request bodies in the server contract (docs/internals.md, "Streamed request
bodies"), on all three servers, through tests/net/mfa_server_app.py with stream_bodies=1: a
request whose body has not arrived with its head is handed out with body None; the app pulls
it (body_pull, body_read) or has it collected (body_collect) under its own limit."""
import hashlib
import os
import socket
import time

import pytest
import requests

from tests.net.test_server_unix import server_factory, read_response, recv_all  # noqa: F401


@pytest.fixture
def bodies(server_factory):  # noqa: F811
    return server_factory(max_conns=4, stream_bodies=1, body_timeout_ms=1500)


def _post(port, path, body, extra=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n"
              % (path, len(body), extra))
    return s


@pytest.mark.parametrize("how", ["read", "view"])
def test_pulled_body_in_pieces(bodies, how):
    data = os.urandom(300_000)
    r = requests.post(bodies.url + "/sink" + ("?view=1" if how == "view" else ""), data=data,
                      timeout=30)
    assert r.status_code == 200
    got = r.json()
    assert got["len"] == len(data) and got["sum"] == sum(data)
    # read in pieces, never gathered (a view: at most the input buffer, 4,608 bytes)
    assert got["reads"] >= len(data) // (1000 if how == "read" else 4608)


@pytest.mark.parametrize("how", ["read", "view"])
def test_pulled_chunked_body_decoded(bodies, how):
    pieces = [os.urandom(n) for n in (1, 4000, 17, 9000, 3)]
    r = requests.post(bodies.url + "/sink" + ("?view=1" if how == "view" else ""),
                      data=iter(pieces), timeout=30)  # chunked
    assert r.status_code == 200
    data = b"".join(pieces)
    assert r.json()["len"] == len(data) and r.json()["sum"] == sum(data)


def test_pulled_body_limits(bodies):
    # Content-Length above the route's limit: 413 before a byte of the body is read
    s = _post(bodies.port, b"/sink?limit=1000", b"x" * 5000, b"Expect: 100-continue\r\n")
    status, _, body = read_response(s)
    assert status == 413 and b"too large" in body
    s.close()
    # chunked: 413 once the decoded bytes pass it
    r = requests.post(bodies.url + "/sink?limit=1000", data=iter([b"a" * 600, b"b" * 600]),
                      timeout=10)
    assert r.status_code == 413


@pytest.mark.parametrize("how", ["read", "view"])
def test_pulled_body_keeps_the_connection_and_pipelining(bodies, how):
    s = socket.create_connection(("127.0.0.1", bodies.port), timeout=10)
    body = b"z" * 20000
    s.sendall(b"POST /sink%s HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n"
              % (b"?view=1" if how == "view" else b""))
    time.sleep(0.05)
    s.sendall(body + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    parts = recv_all(s).split(b"HTTP/1.1 200 OK")[1:]
    assert len(parts) == 2 and b'"len": 20000' in parts[0]
    assert b"Connection: close" not in parts[0]
    assert parts[1].endswith(b'{"hello": "world"}')  # the pipelined request after the body
    s.close()


def test_backpressure_stops_the_sender(bodies):
    s = _post(bodies.port, b"/sink?hold=1&limit=1000000000", b"x" * (64 << 20))
    s.setblocking(False)
    sent = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0:
        try:
            sent += s.send(b"x" * 65536)
        except BlockingIOError:
            time.sleep(0.05)
    assert 0 < sent < 32 << 20  # what the kernel's buffers hold, not the body
    s.close()


def test_collected_body_and_continue(bodies):
    # the head alone: deferred, then collected, which sends 100 Continue
    s = socket.create_connection(("127.0.0.1", bodies.port), timeout=10)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
              b"Expect: 100-continue\r\n\r\n")
    assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    s.sendall(b"hello")
    status, _, got = read_response(s)
    assert status == 200 and b'"len": 5' in got and b'"sum": %d' % sum(b"hello") in got
    s.close()
    before = bodies.stats()["requests"]
    r = requests.post(bodies.url + "/echo?limit=100000", data=iter([b"q" * 40000]), timeout=10)
    assert r.status_code == 200 and r.json()["len"] == 40000 and r.json()["chunked"]
    assert bodies.stats()["requests"] == before + 2  # (counted once, and the stats request)
    # the route's limit, not the server's, decides
    s = _post(bodies.port, b"/echo?limit=10", b"x" * 5000)
    assert read_response(s)[0] == 413
    s.close()


def test_answer_before_the_body_closes_the_connection(bodies):
    s = _post(bodies.port, b"/early", b"x" * 100000)
    status, headers, got = read_response(s)
    assert status == 200 and got == b'{"early": true}'
    assert headers.get("connection") == "close"
    s.sendall(b"GET / HTTP/1.1\r\n" + b"x" * 10000)  # never parsed as a request
    assert recv_all(s) == b""
    s.close()
    assert requests.get(bodies.url + "/", timeout=5).status_code == 200


def test_body_that_stops_is_answered_408(bodies):
    s = _post(bodies.port, b"/sink", b"x" * 100000)
    s.sendall(b"x" * 3000)
    t0 = time.monotonic()
    status, _, body = read_response(s)
    assert status == 408 and b"body timeout" in body
    assert time.monotonic() - t0 < 10
    s.close()
    st = bodies.stats()
    assert st["timeouts"] >= 1
    assert requests.get(bodies.url + "/", timeout=5).status_code == 200


def test_client_gone_mid_body(bodies):
    for _ in range(3):
        s = _post(bodies.port, b"/sink", b"x" * 100000)
        s.sendall(b"x" * 2000)
        s.close()
    time.sleep(0.3)
    assert requests.get(bodies.url + "/", timeout=5).status_code == 200
    for _ in range(50):
        if bodies.stats()["connections"] <= 1:
            break
        time.sleep(0.05)
    assert bodies.stats()["connections"] <= 1


def test_without_stream_bodies_nothing_changes(server_factory):  # noqa: F811
    srv = server_factory(max_conns=2)
    r = requests.post(srv.url + "/sink", data=b"x" * 20000, timeout=10)
    assert r.status_code == 413  # collected by the server under max_body, as before
    r = requests.post(srv.url + "/echo", data=b"x" * 10000, timeout=10)
    assert r.json()["len"] == 10000
