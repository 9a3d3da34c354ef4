"""pyserver's timeouts across the wrap of MicroPython's millisecond ticks (issue 15).

`time.ticks_ms()` on MicroPython wraps every 2**30 ms (12.4 days); pyserver must only compare
ticks through `ticks_diff`. Here pyserver runs in-process on CPython with a fake clock that
wraps like MicroPython's and starts just before the wrap, against real loopback sockets. (The C
core's twin of this test is test_clock_wrap in tests/c/test_mfa_conn.c.)
"""
import os
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from microfastapi import pyserver  # noqa: E402

PERIOD = 1 << 30  # MicroPython's TICKS_PERIOD


class Clock:
    t = 0

    def ticks_ms(self):
        return self.t & (PERIOD - 1)

    @staticmethod
    def ticks_diff(a, b):
        return ((a - b + PERIOD // 2) & (PERIOD - 1)) - PERIOD // 2


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    c.t = PERIOD - 300
    monkeypatch.setattr(pyserver, "ticks_ms", c.ticks_ms)
    monkeypatch.setattr(pyserver, "ticks_diff", c.ticks_diff)
    return c


def settle(srv):
    """Let the sockets' bytes arrive and the server take them, without moving the fake clock."""
    for _ in range(10):
        srv.poll()
        time.sleep(0.01)


def answer(s):
    s.settimeout(0.05)
    try:
        return s.recv(1000)
    except socket.timeout:
        return None
    except ConnectionResetError:
        return b""


def test_timeouts_across_the_wrap(clock):
    srv = pyserver.Server("127.0.0.1", 0, max_conns=3, header_timeout_ms=1000,
                          idle_timeout_ms=500, min_rate=100, rate_grace_ms=500)
    try:
        idle = socket.create_connection(("127.0.0.1", srv.port))
        slow = socket.create_connection(("127.0.0.1", srv.port))
        slow.sendall(b"GET / HTTP/1.1\r\n")  # 16 bytes: 660 ms allowed at 100 B/s
        head = socket.create_connection(("127.0.0.1", srv.port))
        head.sendall(b"GET / HTTP/1.1\r\nX: " + b"y" * 1000)  # enough for the rate rule
        settle(srv)
        clock.t += 400  # wrapped: ticks_ms() is 100 now
        assert clock.ticks_ms() < 1000
        settle(srv)
        assert answer(idle) is None and answer(slow) is None and answer(head) is None
        clock.t += 150  # 550 ms: past the idle timeout
        settle(srv)
        assert answer(idle) == b""
        clock.t += 150  # 700 ms: past the rate rule
        settle(srv)
        assert b"request header too slow" in answer(slow)
        assert answer(head) is None
        clock.t += 400  # 1100 ms: past the header timeout
        settle(srv)
        assert b"request header timeout" in answer(head)
        for s in (idle, slow, head):
            s.close()
    finally:
        srv.close()


def test_pool_take_back_picks_the_oldest_across_the_wrap(clock):
    clock.t = PERIOD - 20
    srv = pyserver.Server("127.0.0.1", 0, max_conns=2)
    try:
        first = socket.create_connection(("127.0.0.1", srv.port))
        first.sendall(b"GET / HTTP/1.1\r\n")  # began before the wrap
        settle(srv)
        clock.t += 40  # wrapped
        second = socket.create_connection(("127.0.0.1", srv.port))
        second.sendall(b"GET / HTTP/1.1\r\n")
        settle(srv)
        third = socket.create_connection(("127.0.0.1", srv.port))
        settle(srv)
        assert answer(first) == b""  # the head that began earliest was taken back
        assert answer(second) is None
        for s in (first, second, third):
            s.close()
    finally:
        srv.close()
