"""On-device parser benchmark (issue 3): run inside the emulated RP2040 (rp2040py) on both
firmware builds and print cycles and heap bytes per parse.

    python3 tests/bench/parse_bench.py [--mfa build/MFA_PICO/firmware.uf2]
                                       [--pure build/MFA_PICO-pure/firmware.uf2] [-n 20]

Cycles = simulated ticks_us x 125 (125 MHz, deterministic clock). Heap bytes = gc.mem_alloc()
growth per parse with the GC disabled. Parsers: `_mfa.parse_request` (C), the frozen
`microfastapi.parser` (pure Python; measured on both images) and Microdot 2.7's request-head
loop (Request.create: readline, split, NoCaseDict, Content-Length; made synchronous over an
io.BytesIO, and Request.__init__'s url/query split), embedded below because Microdot is not
frozen into our firmware. A benchmark, not a test: it asserts nothing.
"""
import argparse
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

REQUESTS = {
    "browser GET (11 headers)": (
        b"GET /index.html?lang=en HTTP/1.1\r\nHost: 192.168.4.1\r\nConnection: keep-alive\r\n"
        b"Upgrade-Insecure-Requests: 1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) "
        b"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
        b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
        b"image/webp,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate\r\n"
        b"Accept-Language: en-US,en;q=0.9\r\nCookie: session=abc123; theme=dark\r\n"
        b"Cache-Control: max-age=0\r\nDNT: 1\r\nReferer: http://192.168.4.1/\r\n\r\n"),
    "curl GET": (b"GET /items/42 HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: curl/8.5.0\r\n"
                 b"Accept: */*\r\n\r\n"),
    "JSON POST": (b"POST /items HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: curl/8.5.0\r\n"
                  b"Accept: */*\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
                  b'{"name":"led","value":true}'),
}

DEVICE = r'''
import gc, time, io
REQS = %(reqs)r
N = %(n)d

class NoCaseDict(dict):
    # microdot.helpers.NoCaseDict, reduced to what Request.create uses
    def __init__(self):
        super().__init__()
        self.keymap = {}
    def __setitem__(self, key, value):
        kl = key.lower()
        key = self.keymap.get(kl, key)
        if kl != key:
            self.keymap[kl] = key
        super().__setitem__(key, value)

def microdot_parse(buf):
    # microdot 2.7 Request.create, synchronous over a stream
    r = io.BytesIO(buf)
    line = r.readline().strip().decode()
    method, url, http_version = line.split()
    http_version = http_version.split('/', 1)[1]
    headers = NoCaseDict()
    content_length = 0
    while True:
        line = r.readline().strip().decode()
        if line == '':
            break
        header, value = line.split(':', 1)
        value = value.strip()
        headers[header] = value
        if header.lower() == 'content-length':
            content_length = int(value)
    # Request.__init__: path and query string
    if '?' in url:
        path, query_string = url.split('?', 1)
    else:
        path, query_string = url, None
    return method, path, query_string, http_version, headers, content_length

parsers = []
try:
    import _mfa
    parsers.append(("_mfa", _mfa.parse_request))
except ImportError:
    pass
from microfastapi import parser as pyparser
parsers.append(("pure", pyparser.parse_request))
parsers.append(("microdot", microdot_parse))

for name, fn in parsers:
    for label, req in REQS:
        fn(req)
        gc.collect()
        gc.disable()
        a0 = gc.mem_alloc()
        t0 = time.ticks_us()
        for i in range(N):
            fn(req)
        t1 = time.ticks_us()
        a1 = gc.mem_alloc()
        gc.enable()
        print("RESULT|%%s|%%s|%%d|%%d" %% (name, label, time.ticks_diff(t1, t0) * 1000 // N, (a1 - a0) // N))
print("BENCH-DONE")
'''


def run(image, n):
    script = DEVICE % {"reqs": list(REQUESTS.items()), "n": n}
    path = ROOT / "build" / "bench_parse_device.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(script)
    out = subprocess.run(["rp2040py", "micropython", "--image", str(image), str(path)],
                         capture_output=True, text=True, timeout=1800)
    rows = []
    for m in re.finditer(r"RESULT\|([^|]+)\|([^|]+)\|(\d+)\|(\d+)", out.stdout):
        rows.append((m.group(1), m.group(2), int(m.group(3)) / 1000.0, int(m.group(4))))
    if not rows:
        sys.exit("no results from %s:\n%s\n%s" % (image, out.stdout[-3000:], out.stderr[-3000:]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mfa", default=str(ROOT / "build/MFA_PICO/firmware.uf2"))
    ap.add_argument("--pure", default=str(ROOT / "build/MFA_PICO-pure/firmware.uf2"))
    ap.add_argument("-n", type=int, default=20)
    a = ap.parse_args()
    table = {}
    for fw, image in (("MFA_PICO", a.mfa), ("MFA_PICO-pure", a.pure)):
        for name, label, us, heap in run(image, a.n):
            table[(fw, name, label)] = (us, heap)
    print("%-14s %-9s %-26s %10s %10s %10s" % ("firmware", "parser", "request", "us/parse",
                                                "cycles", "heap B"))
    for (fw, name, label), (us, heap) in table.items():
        print("%-14s %-9s %-26s %10.1f %10d %10d" % (fw, name, label, us, us * 125, heap))
    print()
    for label in REQUESTS:
        c = table.get(("MFA_PICO", "_mfa", label))
        p = table.get(("MFA_PICO-pure", "pure", label))
        if c and p:
            print("%-26s _mfa vs pure: %.1fx fewer cycles, %.1fx fewer heap bytes" % (
                label, p[0] / c[0], p[1] / max(c[1], 1)))


if __name__ == "__main__":
    main()
