"""A 256 KB upload to the emulated chip's flash (issue 14), for tests/net/test_upload_slip.py
(MFA_PICO over SLIP) and the Pico W cases: a multipart upload from python requests (inside the
test's network namespace) is saved by `req.parts()` to the chip's littlefs, in pieces, and
must land byte-identical (the chip's SHA-256 of the file against the client's). The free heap
is sampled (after gc.collect()) every 8 pieces while the file arrives; the lowest is reported
beside the idle figure before the upload."""
import json

APP = """
import gc, hashlib, os, binascii
from microfastapi import MicroFastApi
app = MicroFastApi()
heap = {}


@app.post("/upload", stream_body=True, max_body=512 * 1024)
async def upload(req):
    gc.collect()
    heap["idle"] = low = gc.mem_free()
    n = i = 0
    async for part in req.parts():
        with open("/upload.bin", "wb") as f:
            async for piece in part:
                f.write(piece)
                n += len(piece)
                i += 1
                if i % 8 == 0:
                    gc.collect()
                    low = min(low, gc.mem_free())
    heap["low"] = low
    heap["pieces"] = i
    return {"size": n}


@app.get("/check")
def check(req):
    h = hashlib.sha256()
    buf = bytearray(1024)
    with open("/upload.bin", "rb") as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            h.update(memoryview(buf)[:k])
    gc.collect()
    return {"sha256": binascii.hexlify(h.digest()).decode(), "size": os.stat("/upload.bin")[6],
            "heap": heap, "free": gc.mem_free()}


app.run(port=80)
"""

CLIENT = r"""
import hashlib, json, random, sys, time
import requests
A = sys.argv[1]
random.seed(14)
data = bytes(random.getrandbits(8) for _ in range(256 * 1024))
data = data[:1000] + b"\r\n--boundary-ish\r\n" + data[1000:]  # (a look-alike inside)
t0 = time.monotonic()
r = requests.post("http://%s/upload" % A, files={"file": ("fw.bin", data)}, timeout=600)
wall = time.monotonic() - t0
c = requests.get("http://%s/check" % A, timeout=600).json()
print(json.dumps({"status": r.status_code, "answer": r.json(), "check": c, "wall_s": wall,
                  "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}))
"""


def run(pico, fw, start_timeout=120):
    pico.start_app(APP, ready="http://", timeout=start_timeout)
    cp = pico.ns.python(CLIENT, pico.addr, timeout=900)
    out = pico.emu.output()
    assert cp.returncode == 0, cp.stderr[-3000:] + out[-3000:]
    res = json.loads(cp.stdout.strip().splitlines()[-1])
    heap = res["check"]["heap"]
    print("\n%s upload: %d bytes in %.1f s wall, %d pieces; free heap idle %d, lowest during "
          "the upload %d (%d below idle)" % (fw, res["size"], res["wall_s"], heap["pieces"],
                                             heap["idle"], heap["low"], heap["idle"] - heap["low"]))
    assert res["status"] == 200 and res["answer"] == {"size": res["size"]}, res
    assert res["check"]["sha256"] == res["sha256"] and res["check"]["size"] == res["size"]
    assert "Traceback" not in out, out[-3000:]
    # what the upload needs beyond idle: the stream's 4 KB buffer, the multipart reader and a
    # piece's objects; never the file (256 KB)
    assert heap["idle"] - heap["low"] < 12 * 1024, heap
    return res
