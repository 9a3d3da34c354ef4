"""pyserver's head cache (Server._head_bytes): a header tuple's status line and headers are
checked and formatted once and kept for the next answer with the same status and tuple. Runs
pyserver in-process on CPython against a real loopback client."""
import os
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from microfastapi import pyserver  # noqa: E402

REQ = b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.fixture
def pair():
    srv = pyserver.Server("127.0.0.1", 0)
    cli = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    yield srv, cli
    cli.close()
    srv.close()


def next_request(srv):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r = srv.poll()
        if r is not None:
            return r
        srv.wait(10)
    raise AssertionError("no request")


def answers(srv, cli, n):
    """The first n answer heads the client reads (the server is polled meanwhile)."""
    data = b""
    deadline = time.monotonic() + 5
    cli.setblocking(False)
    while data.count(b"\r\n\r\n") < n and time.monotonic() < deadline:
        srv.poll()
        srv.wait(10)
        try:
            data += cli.recv(65536)
        except BlockingIOError:
            pass
    cli.setblocking(True)
    return [h for h in data.split(b"\r\n\r\n") if h][:n]


def test_the_same_tuple_with_another_status_gets_its_own_status_line(pair):
    srv, cli = pair
    h = (("Content-Type", "text/plain"), ("X-A", "1"))
    cli.sendall(REQ * 3)
    srv.respond(next_request(srv), 200, h, "a")
    srv.respond(next_request(srv), 404, h, "b")
    srv.respond(next_request(srv), 200, h, "c")
    got = answers(srv, cli, 3)
    assert got[0].startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\n")
    heads = b"\r\n\r\n".join(got).split(b"HTTP/1.1 ")[1:]
    assert [x[:3] for x in heads] == [b"200", b"404", b"200"]
    assert all(b"Content-Type: text/plain\r\nX-A: 1\r\n" in x for x in heads)


def test_a_tuple_holding_lists_is_checked_every_time(pair):
    srv, cli = pair
    inner = ["X-A", "1"]
    h = (inner,)
    cli.sendall(REQ * 2)
    srv.respond(next_request(srv), 200, h, "a")
    inner[1] = "1\r\nSet-Cookie: evil=1"  # a list can change between answers
    with pytest.raises(ValueError):
        srv.respond(next_request(srv), 200, h, "b")


def test_a_list_is_checked_every_time(pair):
    srv, cli = pair
    h = [("X-A", "1")]
    cli.sendall(REQ * 2)
    srv.respond(next_request(srv), 200, h, "a")
    h[0] = ("X-A", "1\r\nSet-Cookie: evil=1")
    with pytest.raises(ValueError):
        srv.respond(next_request(srv), 200, h, "b")
