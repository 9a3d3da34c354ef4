#!/usr/bin/env python3
"""The HTTP client of run.py's SLIP section; runs (CPython) inside the network namespace.

    python slip_client.py ADDR N MODES BODY_FILE [APPS]   # MODES: keep-alive[,close]

Against one of the benchmark apps (tests/bench/apps) served on the emulated chip at ADDR:80.
Time is the chip's simulated clock: GET /_t (ticks_us) before and after N requests, so the
figure is requests per simulated second, independent of how slow the emulator is in wall time.
Then the free heap (GET /_heap, after gc.collect on the chip) on a fresh connection, and again
with 8 keep-alive connections open (7 idle after a request each, the 8th asking).
Prints one JSON line: {"runs": [...], "heap": {...}}.
"""
import json
import socket
import sys
import time

PATHS = {"hello": "/hello", "items": "/items/42?q=hello", "echo": "/echo",
         "const": "/hello-const"}  # (const: mfa_app.py's constant route, hello's answer)
TICKS_PERIOD = 1 << 30  # MicroPython's ticks_us wraps at 2**30


def connect(addr, timeout=120):
    s = socket.create_connection((addr, 80), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request(s, method, path, body=b"", close=False, want_keep=False):
    """One request on socket s; returns (status, body bytes), or with want_keep (status, body,
    whether the server keeps the connection open: HTTP/1.1 without Connection: close)."""
    head = "%s %s HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n" % (
        method, path)
    if body:
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    if close:
        head += "Connection: close\r\n"
    s.sendall(head.encode() + b"\r\n" + body)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed before the response head: %r" % buf[:200])
        buf += d
    hdr, rest = buf.split(b"\r\n\r\n", 1)
    lines = hdr.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    keep = lines[0].startswith("HTTP/1.1")
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k, v = k.strip().lower(), v.strip().lower()
        if k == "content-length":
            length = int(v)
        elif k == "connection":
            keep = v == "keep-alive" or (keep and v != "close")
    if length is None:  # read to EOF
        while True:
            d = s.recv(65536)
            if not d:
                break
            rest += d
        return (status, rest, False) if want_keep else (status, rest)
    while len(rest) < length:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed mid-body")
        rest += d
    return (status, rest[:length], keep) if want_keep else (status, rest[:length])


class Client:
    """A keep-alive client that reconnects when the server closed after its answer (Microdot
    2.7 answers HTTP/1.0 and closes every connection); counts those reconnects."""

    def __init__(self, addr):
        self.addr, self.sock, self.reconnects = addr, None, 0

    def req(self, method, path, body=b""):
        if self.sock is None:
            self.sock = connect(self.addr)
        st, b, keep = request(self.sock, method, path, body, want_keep=True)
        if not keep:
            self.sock.close()
            self.sock = None
            self.reconnects += 1
        return st, b

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def get_json(addr_or_sock, path, close=False):
    if isinstance(addr_or_sock, str):
        s = connect(addr_or_sock)
        try:
            st, b = request(s, "GET", path, close=True)
        finally:
            s.close()
    else:
        st, b = addr_or_sock.req("GET", path)
    if st != 200:
        raise RuntimeError("%s: %d %r" % (path, st, b[:200]))
    return json.loads(b)


def one(addr, s, app, body, close):
    """One request of `app`; a new connection per request when close."""
    method = "POST" if app == "echo" else "GET"
    if close:
        c = connect(addr)
        try:
            st, b = request(c, method, PATHS[app], body if app == "echo" else b"", close=True)
        finally:
            c.close()
    else:
        st, b = s.req(method, PATHS[app], body if app == "echo" else b"")
    if st != 200:
        raise RuntimeError("%s: %d %r" % (app, st, b[:200]))
    if app == "echo" and json.loads(b) != json.loads(body):
        raise RuntimeError("echo answered a different document")


def main():
    addr, n, modes, body_file = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4]
    body = open(body_file, "rb").read()
    apps = sys.argv[5].split(",") if len(sys.argv) > 5 else list(PATHS)
    runs = []
    deadline = time.time() + 60
    while True:  # the app may print its banner a moment before it listens
        try:
            free_idle = get_json(addr, "/_heap")
            break
        except OSError:  # refused or reset while the server is still starting
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    for mode in modes:
        for app in apps:
            close = mode == "close"
            s = Client(addr)
            one(addr, s, app, body, close)  # warm-up (first-call costs, ARP, TCP windows)
            w0 = time.time()
            t0 = get_json(s, "/_t")["t"]
            for _ in range(n):
                one(addr, s, app, body, close)
            t1 = get_json(s, "/_t")["t"]
            wall = time.time() - w0
            s.close()
            sim_us = (t1 - t0) % TICKS_PERIOD
            runs.append({"app": app, "mode": mode, "n": n, "sim_us": sim_us,
                         "rps_sim": n / (sim_us / 1e6), "wall_s": wall,
                         "reconnects": s.reconnects})
    time.sleep(0.5)
    # 7 connections open and idle (after one request when the server keeps connections
    # alive; else opened again and left idle), then the 8th asks for the free heap.
    socks, why, kept = [], None, 0
    for _ in range(7):
        try:  # a chip short of TCP pcbs never answers the SYN: do not wait minutes for it
            s = connect(addr, timeout=20)
            st, _b, keep = request(s, "GET", "/hello", want_keep=True)
            if not keep:
                s.close()
                s = connect(addr, timeout=20)
            kept += keep
        except OSError as e:
            why = "connection %d: %s" % (len(socks) + 1, e)
            break
        if st != 200:
            why = "connection %d: HTTP %d" % (len(socks) + 1, st)
            break
        socks.append(s)
    if why is None:
        try:
            c = Client(addr)
            c.sock = connect(addr, timeout=20)
            socks.append(c.sock)
            free8 = get_json(c, "/_heap")
        except OSError as e:
            why = "connection 8: %s" % e
    if why is not None:
        free8 = {"free": None, "alloc": None}
    for s in socks:
        s.close()
    print(json.dumps({"runs": runs, "heap": {"free_idle": free_idle["free"],
                                             "alloc_idle": free_idle["alloc"],
                                             "free_8conns": free8["free"],
                                             "alloc_8conns": free8["alloc"],
                                             "open_conns": len(socks), "conn_error": why,
                                             "idle_after_request": kept}}))


if __name__ == "__main__":
    main()
