"""Heap figures measured on the emulated RP2040 (rp2040py), printed as a small report.

    python3 tests/emu/mem_emu.py [requests|openapi|security|all]

requests: heap bytes allocated per JSON GET (tests/bench/api_mem_bench.py's request and app:
    GET /items/42?q=hello, handler returning {"item_id": ..., "q": ...}), in-process, with
    api_mem_bench.cost() (a gc.collect() before each request, the GC off during it):
    microfastapi on MFA_PICO (_mfa parser; `dispatch`: parse + route + handler + JSON + the
    app's respond() call), on MFA_PICO-pure (`framed`: plus the pure server's response framing,
    i.e. its whole per-request path) and Microdot 2.7 on MFA_PICO-pure (Request.create ->
    dispatch -> Response.write). api_mem_bench.py and Microdot's package are compiled with
    mpy-cross and written to the chip's flash over the raw REPL (tests/bench/run.py's helpers).
openapi: on MFA_PICO, the RAM cost of importing microfastapi.openapi + microfastapi.validation
    (gc.mem_free after gc.collect, before and after) and the heap needed to generate
    /openapi.json for python/examples/hello.py: the total allocated while streaming it (GC
    off) and the smallest free heap it runs in (a binary search with the rest of the heap
    held by filler blocks).
security: on MFA_PICO, heap bytes and cycles per request (api_mem_bench.cost(), dispatch) of
    the same GET with HTTP Basic, with a Bearer token, and with sessions (microfastapi.sessions,
    a 32-byte secret): no cookie, a valid cookie read, a valid cookie changed (the answer
    carries a new signed cookie); the heap that importing security + sessions costs; the
    cycles of one SHA-256, one HMAC-SHA256 and one compare_digest.
"""
import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("MFA_BUILD", ROOT / "build"))
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "bench")]

from tests.emu.emulator import Emulator  # noqa: E402

N, WARM = 20, 3

MFA_APP = """
import api_mem_bench as B
from microfastapi import MicroFastApi, backend
app = MicroFastApi()
@app.get("/items/{item_id:int}")
def read_item(req, item_id):
    return {"item_id": item_id, "q": req.query.get("q")}
framed = backend.server_class()[1] != "_mfa"
for kind, fr, pre in (("app-only", False, True), ("dispatch", False, False),
                      ("framed", True, False)):
    heap, us = B.cost(B.mfa_step(app, B.RAW, fr, pre), %d, %d)
    print("RESULT %%s %%d %%d %%s" %% (kind, heap, us * 125, backend.describe()))
"""

MICRODOT_APP = """
import api_mem_bench as B
from microdot import Microdot
app = Microdot()
@app.get("/items/<int:item_id>")
def read_item(req, item_id):
    return {"item_id": item_id, "q": req.args.get("q")}
heap, us = B.cost(B.microdot_step(app, B.RAW), %d, %d)
print("RESULT microdot %%d %%d microdot" %% (heap, us * 125))
"""


def requests():
    import run as bench_run  # tests/bench/run.py: mpy-cross + raw-REPL file upload
    rows = []
    tmp = tempfile.mkdtemp(prefix="mfa-mem-")
    for fw, impls in (("MFA_PICO", ["mfa"]), ("MFA_PICO-pure", ["pure", "microdot"])):
        with Emulator(BUILD / fw / "firmware.uf2") as emu:
            with_md = "microdot" in impls and bool(bench_run.microdot_dir())
            bench_run.put_files(emu, bench_run.device_files(tmp, with_md))
            for impl in impls:
                if impl == "microdot" and not with_md:
                    continue
                emu.soft_reset()
                emu.run("import sys\nsys.path.append('/bench')")
                src = (MICRODOT_APP if impl == "microdot" else MFA_APP) % (N, WARM)
                for line in emu.run(src, timeout=1200).splitlines():
                    if line.startswith("RESULT "):
                        _, kind, heap, cycles, desc = line.split(" ", 4)
                        rows.append((fw, kind, int(heap), int(cycles), desc))
    md = [r[2] for r in rows if r[1] == "microdot"]
    print("RP2040 (emulated), heap bytes per JSON GET, %d requests, api_mem_bench.cost()" % N)
    for fw, kind, heap, cycles, desc in rows:
        pct = " %5.1f%% of Microdot" % (100.0 * heap / md[0]) if md else ""
        print("  %-14s %-9s %6d B %9d cycles%s  [%s]" % (fw, kind, heap, cycles, pct, desc))
    return rows


OPENAPI = """
import gc, sys
sys.path.append('/oa')
gc.collect()
f0 = gc.mem_free()
import microfastapi
gc.collect()
f1 = gc.mem_free()
import microfastapi.openapi, microfastapi.validation
gc.collect()
f2 = gc.mem_free()
print("IMPORT package %d openapi+validation %d" % (f0 - f1, f1 - f2))
import hello
from microfastapi.openapi import iter_json

def gen():
    n = 0
    for piece in iter_json(hello.app):
        n += len(piece)
    return n

size = gen()
gc.collect()
gc.disable()
a0 = gc.mem_alloc()
gen()
a1 = gc.mem_alloc()
gc.enable()
print("ALLOC total %d doc %d" % (a1 - a0, size))

def fits(x):
    gc.collect()
    hold = []
    try:
        for blk in (4096, 1024, 256, 64, 16):
            while gc.mem_free() > x + blk + 64:
                hold.append(bytearray(blk - 16))
        free = gc.mem_free()
        try:
            gen()
            return free
        except MemoryError:
            return 0
    finally:
        hold = None
        gc.collect()

lo, hi = 0, 65536
while hi - lo > 256:
    mid = (lo + hi) // 2
    if fits(mid):
        hi = mid
    else:
        lo = mid
print("PEAK free heap needed <= %d B (fails with <= %d B)" % (hi, lo))
"""


SECURITY_APP = """
import gc
gc.collect()
f0 = gc.mem_free()
import microfastapi.security, microfastapi.sessions
gc.collect()
print("IMPORT security+sessions %%d" %% (f0 - gc.mem_free()))
import api_mem_bench as B
from microfastapi import MicroFastApi, backend
from microfastapi.security import HTTPBasic, HTTPBearer
from microfastapi.sessions import Sessions
H = b"GET /items/42?q=hello HTTP/1.1\\r\\nHost: pico.local\\r\\nUser-Agent: bench/1.0\\r\\nAccept: */*\\r\\n"
def app_with(sessions):
    app = MicroFastApi()
    basic = HTTPBasic(users={"admin": "change-me"})
    bearer = HTTPBearer(tokens={"0123456789abcdef0123456789abcdef": "ha"})
    @app.get("/items/{item_id:int}")
    def read_item(req, item_id):
        return {"item_id": item_id, "q": req.query.get("q")}
    @app.get("/basic/{item_id:int}", security=basic)
    def b(req, item_id):
        return {"item_id": item_id, "q": req.query.get("q")}
    @app.get("/bearer/{item_id:int}", security=bearer)
    def t(req, item_id):
        return {"item_id": item_id, "q": req.query.get("q")}
    @app.get("/count/{item_id:int}")
    def c(req, item_id):
        req.session["n"] = req.session.get("n", 0) + 1
        return {"item_id": item_id, "n": req.session["n"]}
    st = Sessions(app, secret=b"k" * 32) if sessions else None
    return app, st
app, _ = app_with(False)
sapp, st = app_with(True)
ck = b"Cookie: session=" + st.encode({"user": "admin", "n": 1}).encode() + b"\\r\\n"
cases = (("plain", app, H),
         ("basic", app, H.replace(b"/items", b"/basic") + b"Authorization: Basic YWRtaW46Y2hhbmdlLW1l\\r\\n"),
         ("bearer", app, H.replace(b"/items", b"/bearer") + b"Authorization: Bearer 0123456789abcdef0123456789abcdef\\r\\n"),
         ("sessions-no-cookie", sapp, H),
         ("session-read", sapp, H + ck),
         ("session-write", sapp, H.replace(b"/items", b"/count") + ck))
for kind, a, raw in cases:
    heap, us = B.cost(B.mfa_step(a, raw + b"\\r\\n", False, False), %d, %d)
    print("RESULT %%s %%d %%d %%s" %% (kind, heap, us * 125, backend.describe()))
import time, hashlib
from microfastapi.security import compare_digest
def cyc(fn, n=20):
    fn()
    t0 = time.ticks_us()
    for _ in range(n):
        fn()
    return time.ticks_diff(time.ticks_us(), t0) * 125 // n
m = b"x" * 60
a = "A" * 44
def loop(x, y):
    d = 0
    for i in range(len(x)):
        d |= ord(x[i]) ^ ord(y[i])
    return d == 0
print("cycles: sha256(60 B) %%d, HMAC-SHA256(60 B) %%d, compare_digest(44 chars) %%d, a Python "
      "byte loop over 44 chars %%d" %% (cyc(lambda: hashlib.sha256(m).digest()),
      cyc(lambda: st.signer.mac(m)), cyc(lambda: compare_digest(a, a)), cyc(lambda: loop(a, a))))
"""


def security_cost():
    import run as bench_run
    tmp = tempfile.mkdtemp(prefix="mfa-sec-")
    with Emulator(BUILD / "MFA_PICO" / "firmware.uf2") as emu:
        bench_run.put_files(emu, bench_run.device_files(tmp, False))
        emu.soft_reset()
        emu.run("import sys\nsys.path.append('/bench')")
        out = emu.run(SECURITY_APP % (N, WARM), timeout=1200)
    print("RP2040 (emulated, MFA_PICO), per request (dispatch, %d requests, "
          "api_mem_bench.cost()):" % N)
    for line in out.splitlines():
        if line.startswith("RESULT "):
            _, kind, heap, cycles, desc = line.split(" ", 4)
            print("  %-19s %6d B %9d cycles  [%s]" % (kind, int(heap), int(cycles), desc))
        elif line.strip():
            print("  " + line)
    return out


def openapi_cost():
    with Emulator(BUILD / "MFA_PICO" / "firmware.uf2") as emu:
        emu.run("import os\ntry:\n    os.mkdir('/oa')\nexcept OSError:\n    pass\n")
        hello = (ROOT / "python" / "examples" / "hello.py").read_text()
        emu.run("open('/oa/hello.py', 'w').write(%r)" % hello)
        emu.run("open('/oa/_port.py', 'w').write('HOST = \"0.0.0.0\"\\nPORT = 80\\n')")
        emu.soft_reset()
        out = emu.run(OPENAPI, timeout=1200)
    print("RP2040 (emulated, MFA_PICO), OpenAPI/validation RAM cost:")
    for line in out.splitlines():
        print("  " + line)
    return out


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("requests", "all"):
        requests()
    if what in ("openapi", "all"):
        openapi_cost()
    if what in ("security", "all"):
        security_cost()
