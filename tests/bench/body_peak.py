"""Heap bytes one request takes on its way through the server, by body size (issue 19).

    python3 tests/bench/body_peak.py             # both unix binaries (MFA_BUILD or build/)
    build/unix/micropython tests/bench/body_peak.py mfa|py [PORT]   # one server

Under MicroPython: a server (`_mfa.Server`, or `microfastapi.pyserver.Server` with `py`) on a
loopback port and a client socket in the same process. Per case the client sends the request
(Connection: close) and poll() runs until the request is handed out. `peak`: the highest
micropython.mem_peak() reached meanwhile above micropython.mem_current() before (the unix
port's allocation counters: bytes asked of the heap, explicit frees subtracted, garbage not),
i.e. the most heap the request needed at once from its first byte read to the request object in
the app's hands, body included, before the app's own work. `held`: gc.mem_alloc() after
gc.collect() with the request still referenced, minus the same before: what stays while the
handler runs (GC blocks, so rounded up). `keep-alive GET`: heap allocated per request (GC
off, gc.mem_alloc() over 200 requests) of a small GET answered with a small JSON body on one
keep-alive connection, through poll() and respond(): the server's own per-request cost.
Then the request is answered and the client closed.
"""
import sys

SIZES = [0, 1000, 4000, 8000, 16384]


def run(kind, port):
    import gc
    import micropython
    import socket
    if kind == "mfa":
        from _mfa import Server
    else:
        from microfastapi.pyserver import Server
    srv = Server("127.0.0.1", port, max_conns=2)
    addr = socket.getaddrinfo("127.0.0.1", srv.port)[0][-1]
    print("server %s (body bytes: peak allocated while reading and handing out / held after "
          "collect)" % kind)
    cases = [("len", n) for n in SIZES] + [("chunked", 16384)]
    for mode, n in cases * 2:  # the first pass warms up (sockets, lazy caches)
        if mode == "len":
            req = b"POST /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % n
            req += b"b" * n
        else:
            req = (b"POST /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n")
            for _ in range(n // 4096):
                req += b"1000\r\n" + b"c" * 4096 + b"\r\n"
            req += b"0\r\n\r\n"
        cl = socket.socket()
        cl.connect(addr)
        gc.collect()
        base = gc.mem_alloc()
        cur0, peak0 = micropython.mem_current(), micropython.mem_peak()
        cl.send(req)  # fits the loopback socket buffer
        r = None
        for _ in range(100000):
            r = srv.poll()
            if r is not None:
                break
        peak1 = micropython.mem_peak()
        # A new high-water mark: the request's own peak. Otherwise an earlier one was higher
        # and only a bound is known (printed negative).
        peak = peak1 - cur0 if peak1 > peak0 else -(peak0 - cur0)
        gc.collect()
        held = gc.mem_alloc() - base
        assert r is not None and len(r.body) == n, (mode, n)
        srv.respond(r, 200, [], b"ok")
        for _ in range(100):
            srv.poll()
        cl.close()
        r = None
        if mode_done(mode, n):
            print("RESULT %s %s %d %d %d" % (kind, mode, n, peak, held))
    cl = socket.socket()
    cl.connect(addr)
    get = b"GET /items/42?q=hello HTTP/1.1\r\nHost: t\r\n\r\n"

    def one():
        cl.send(get)
        r = None
        while r is None:
            r = srv.poll()
        srv.respond(r, 200, [("Content-Type", "application/json")], b'{"a": 1}')
        for _ in range(3):
            srv.poll()
        cl.recv(1000)
    for _ in range(20):
        one()
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for _ in range(200):
        one()
    per = (gc.mem_alloc() - a) // 200
    gc.enable()
    print("RESULT %s keep-alive-GET 0 %d %d" % (kind, per, per))
    cl.close()
    srv.close()


_seen = set()


def mode_done(mode, n):
    # The second pass prints.
    if (mode, n) in _seen:
        return True
    _seen.add((mode, n))
    return False


def main():
    import os
    import pathlib
    import socket
    import subprocess
    root = pathlib.Path(__file__).resolve().parent.parent.parent
    build = pathlib.Path(os.environ.get("MFA_BUILD", root / "build"))
    rows = {}
    for kind, binary in (("mfa", "unix"), ("py", "unix-pure")):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        env = dict(os.environ, MICROPYPATH=".frozen")
        out = subprocess.run([str(build / binary / "micropython"), __file__, kind, str(port)], env=env,
                             capture_output=True, text=True, timeout=120)
        if out.returncode:
            sys.exit("%s failed:\n%s%s" % (kind, out.stdout, out.stderr))
        for line in out.stdout.splitlines():
            if line.startswith("RESULT"):
                _, k, mode, n, peak, held = line.split()
                rows.setdefault((mode, int(n)), {})[k] = (int(peak), int(held))
    print("%-16s %22s %22s" % ("body", "_mfa peak / held", "pure peak / held"))
    for (mode, n), d in sorted(rows.items(), key=lambda kv: (kv[0][0] == "keep-alive-GET", kv[0])):
        cells = ["%10d / %-10d" % d[k] if k in d else "-" for k in ("mfa", "py")]
        print("%-16s %22s %22s" % ("%s %d" % (mode, n), cells[0], cells[1]))


if __name__ == "__main__":
    if sys.implementation.name == "micropython":
        run(sys.argv[1] if len(sys.argv) > 1 else "mfa", int(sys.argv[2]) if len(sys.argv) > 2 else 8087)
    else:
        main()
