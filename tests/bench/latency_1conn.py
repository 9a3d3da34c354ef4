"""Latency of one client, one request at a time, against the hello app on a unix binary.

    python3 tests/bench/latency_1conn.py [BINARY] [N]

Prints p50/p99 for Connection: close and for keep-alive. This is the measurement behind the
_mfa.Server MP_STREAM_GET_FILENO change (an idle server polled once a millisecond added up to a
millisecond per request). Figures only; nothing is asserted.
"""
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("MFA_BUILD", os.path.join(ROOT, "build"))
APPS = os.path.join(ROOT, "tests", "bench", "apps")


def percentiles(lat):
    lat.sort()
    return lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(BUILD, "unix", "micropython")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, MICROPYPATH=APPS + ":" + os.path.join(ROOT, "python"))
    p = subprocess.Popen([binary, os.path.join(APPS, "serve.py"), "mfa", str(port)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        req = b"GET /hello HTTP/1.1\r\nHost: x\r\n"
        lat = []
        for _ in range(n):
            t = time.perf_counter()
            c = socket.create_connection(("127.0.0.1", port))
            c.sendall(req + b"Connection: close\r\n\r\n")
            data = c.recv(4096)
            c.close()
            lat.append(time.perf_counter() - t)
            if not data.startswith(b"HTTP/1.1 200"):
                raise SystemExit("unexpected answer %r" % data[:60])
        print("close:      p50 %.3f ms  p99 %.3f ms" % percentiles(lat))
        c = socket.create_connection(("127.0.0.1", port))
        lat = []
        for _ in range(n):
            t = time.perf_counter()
            c.sendall(req + b"\r\n")
            c.recv(4096)
            lat.append(time.perf_counter() - t)
        c.close()
        print("keep-alive: p50 %.3f ms  p99 %.3f ms" % percentiles(lat))
    finally:
        p.kill()
        p.wait()


if __name__ == "__main__":
    main()
