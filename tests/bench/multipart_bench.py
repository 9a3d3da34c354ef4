"""Multipart reader benchmark (issue 14): MB/s of `_mfa.MultipartReader` (C) and of the pure
twin (microfastapi.multipart) on the unix build, for one 1 MB file part fed in 4 KB pieces, with
binary content (a CR every 256 bytes on average, each one a candidate delimiter) and with text
(lines of 64 bytes ending in CRLF). The consumer touches each piece (len) and drops it, as a
streamed upload does. Not wired anywhere; a benchmark, not a test: it asserts nothing.

    python3 tests/bench/multipart_bench.py [--binary build/unix/micropython] [-n 3]
"""
import argparse
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]

SCRIPT = r'''
import time
import _mfa
from microfastapi import multipart

B = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
HEAD = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n" % B).encode()
TAIL = ("\r\n--%s--\r\n" % B).encode()


def content(kind):
    if kind == "binary":
        x = 12345
        out = bytearray(4096)
        for i in range(4096):
            x = (x * 1103515245 + 12345) & 0x7fffffff
            out[i] = (x >> 16) & 255
        return bytes(out) * 256
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
    return line * (1 << 20 >> 6)


def run(cls, body, piece):
    r = cls(B)
    got = 0
    t0 = time.ticks_us()
    for i in range(0, len(body), piece):
        for ev in r.feed(body[i:i + piece]):
            if ev[0] == 2:
                got += len(ev[1])
    r.finish()
    return time.ticks_diff(time.ticks_us(), t0), got


for kind in ("binary", "text"):
    c = content(kind)
    body = HEAD + c + TAIL
    for name, cls in (("C (_mfa)", _mfa.MultipartReader), ("pure twin", multipart.MultipartReader)):
        best = None
        for _ in range(N):
            us, got = run(cls, body, 4096)
            assert got == len(c), (got, len(c))
            best = us if best is None else min(best, us)
        print("%-7s %-10s %8.1f MB/s  (%d us for %d bytes)" % (kind, name, len(body) / best,
                                                               best, len(body)))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "build/unix/micropython"))
    ap.add_argument("-n", type=int, default=3, help="runs each; the best is printed")
    a = ap.parse_args()
    p = subprocess.run([a.binary, "-X", "heapsize=64M", "-c", "N = %d\n" % a.n + SCRIPT],
                       capture_output=True, text=True)
    print(p.stdout, end="")
    if p.returncode:
        print(p.stderr)
        raise SystemExit(p.returncode)


if __name__ == "__main__":
    main()
