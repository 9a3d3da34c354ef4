#!/usr/bin/env python3
"""Upload benchmark (issue 14), each server side by side in one run.

    python tests/bench/upload_bench.py [--quick] [--no-emu] [--json FILE]
    (also tests/bench/run.py's "upload" section, which puts the rows into results.json/report.md)

Servers: tests/bench/apps/up_mfa_app.py (microfastapi on `_mfa`, and forced pure with
MFA_BACKEND=pure) and up_microdot_app.py (Microdot 2.7, from the venv's site-packages on
MICROPYPATH), all on the same binary, build/unix/micropython, served by apps/serve.py on
127.0.0.1. Figures only: nothing here checks that anything is fast.

Two ways to upload a file of `size` bytes (1 MiB; seeded random bytes with boundary look-alikes
inside), each written to a file by the server:
  raw  the file as the request body (Content-Length). Ours: stream_body=True and
       `async for piece in req.stream(): f.write(piece)`. Microdot: a body over
       Request.max_body_length is not read; `await request.stream.read(4096)` in a loop.
  mp   multipart/form-data, one file part. Ours: req.parts() and part.save(path). Microdot:
       microdot.multipart.FormDataIter and FileUpload.save(path) (its streaming way; its
       buffer_size is 256 bytes, Microdot's default, recorded as md_buffer_size).

On the host (this CPython process is the client: one raw socket per upload, the whole request
sent with sendall, as fast as the server takes it):
  MB/s       file bytes / 1e6 / seconds from connect to the whole answer read. The servers take
             turns, `rounds` times, `per_round` uploads of each kind each time; a figure is the
             median of its cell's uploads. Every saved file is compared (SHA-256) with what was
             sent: a broken upload fails the section. Impl "ceiling" is the client against a
             CPython server that reads the bytes and discards them (no check, no file): when a
             server is well below it, the client and loopback are not what limits it.
  peak heap  one more upload of each kind with heap=1: the handler runs the same loop as save()
             by hand, and gc.collect() and gc.mem_alloc() at its start and every 16 KB of
             content; peak = the highest sample minus the one at the start: what reading and
             saving the body holds at once beyond the request as handed to the handler (stream
             buffer, parser, the piece in hand, the open file), sampled between pieces. Beside
             it, the idle server's gc.mem_alloc() with no connection open (GET /_idle).
  allocated  micropython.mem_total() growth over the first timed upload of a kind (GET /_mem
             before and after): heap bytes allocated by the whole upload, garbage included.

On the emulated RP2040 (rp2040py, simulated clock; tests/net/slip_bridge.py: a network namespace
and a SLIP link at 3 Mbaud into UART0), a multipart upload of `emu_size` bytes (256 KB; quick:
64 KB) from a CPython client in the namespace, saved to /up.bin on the chip's flash (littlefs):
  chip ms    the handler's own time.ticks_us() from its start (the request's head is read, the
             body is not) to the file closed, simulated; cycles/KB = that x 125 / KB. This
             includes waiting on the link when the link is the bottleneck: the link's share is
             measured beside it as "link": ours, the same body as a raw stream to a handler
             that discards it (`async for piece in req.stream(): pass`), and the line rate's
             floor (SLIP-encoded packets at 10 bits a byte) is computed.
  heap       the heap=1 upload on the chip: lowest gc.mem_free() after gc.collect() sampled
             every 16 KB of content, against the same at the handler's start: what the upload
             needs beyond the request (the idle free heap, no connection open, beside it).
The file's SHA-256 is computed on the chip (GET /_sha) and compared with the client's.
`_mfa` runs on MFA_PICO, pure and Microdot on MFA_PICO-pure (Microdot's package compiled with
mpy-cross, written to flash as run.py's device_files does).
"""
import argparse
import hashlib
import json
import os
import pathlib
import random
import socket
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = pathlib.Path(os.environ.get("MFA_BUILD", ROOT / "build"))
APPS_DIR = HERE / "apps"
sys.path.insert(0, str(ROOT))
from tests.support import free_port, wait_listening  # noqa: E402

IMPLS = ["mfa", "pure", "microdot"]
KINDS = ["raw", "mp"]
FIRMWARE = {"mfa": "MFA_PICO", "pure": "MFA_PICO-pure", "microdot": "MFA_PICO-pure"}
BOUNDARY = "mfabench6f1c0e3a9b8d4e2f7a5c1b0d"
MD_BUFFER_SIZE = 256  # microdot.multipart.FormDataIter.buffer_size (2.7's default; checked)
SLIP_BAUD = 3_000_000


def log(*a):
    print("[upload-bench %s]" % time.strftime("%H:%M:%S"), *a, flush=True)


from ws_bench import microdot_dir  # noqa: E402 (one copy: where Microdot 2.7 is installed)


# ---- the request ------------------------------------------------------------------------------

def content(size, seed=14):
    """`size` seeded random bytes, with look-alikes of the multipart delimiter inside (a CRLF
    and all of the boundary but its last byte, a CRLF and "--"), which the scanners must pass.
    (Not the whole boundary without its CRLF, which RFC 2046 allows inside a part: Microdot
    2.7's FormDataIter splits on "--" + boundary alone and answers such a body 400.)"""
    data = bytearray(random.Random(seed).randbytes(size))
    fakes = [b"\r\n--" + BOUNDARY[:-1].encode(), b"\r\n--\r\n"]
    for i, f in enumerate(fakes):
        at = (i + 1) * size // (len(fakes) + 1)
        data[at:at + len(f)] = f
    return bytes(data[:size])


def mp_body(data):
    """A multipart/form-data body of one file part (name "file", filename "up.bin")."""
    return (("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"up.bin\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n" % BOUNDARY).encode() + data
            + ("\r\n--%s--\r\n" % BOUNDARY).encode())


def request(kind, data, path, host="127.0.0.1", query=""):
    """The whole request, head and body, for `kind` ("raw" or "mp")."""
    if kind == "raw":
        ctype, body = "application/octet-stream", data
    else:
        ctype, body = "multipart/form-data; boundary=" + BOUNDARY, mp_body(data)
    target = "/%s?%s" % (kind, "&".join(q for q in ("to=" + path if path else "", query) if q))
    head = ("POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: upload-bench/1.0\r\nAccept: */*\r\n"
            "Connection: close\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (target, host, ctype, len(body)))
    return head.encode() + body


def exchange(host, port, req, timeout=600.0):
    """Send `req` on a new connection as fast as the server takes it; (status, JSON answer,
    seconds from connect to the whole answer read)."""
    t0 = time.perf_counter()
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                raise RuntimeError("closed before the answer's head: %r" % buf[:200])
            buf += d
        head, _, body = buf.partition(b"\r\n\r\n")
        n = None
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while n is None or len(body) < n:
            d = s.recv(65536)
            if not d:
                break
            body += d
        dt = time.perf_counter() - t0
    finally:
        s.close()
    status = int(head.split(b" ", 2)[1])
    try:
        ans = json.loads(body)
    except ValueError:
        ans = body[:300].decode("latin-1")
    return status, ans, dt


def get_json(host, port, path):
    status, ans, _ = exchange(host, port, ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                                           "\r\n" % (path, host)).encode(), timeout=120)
    if status != 200:
        raise RuntimeError("GET %s answered %s %r" % (path, status, ans))
    return ans


def upload(host, port, kind, data, path, query=""):
    """One upload; its answer checked (200, the size written). (answer, seconds)."""
    status, ans, dt = exchange(host, port, request(kind, data, path, host, query))
    if status != 200 or not isinstance(ans, dict) or ans.get("size") != len(data):
        raise RuntimeError("%s upload answered %s %r (sent %d bytes)" % (kind, status, ans,
                                                                       len(data)))
    return ans, dt


def idle_heap(host, port, wait_s=0.3, timeout_s=300):
    """The server's idle heap {"alloc", "free"}: GET /_idle has a task measure it (gc.collect())
    after its answer, when no connection is open; then GET /_idle_result until it is there."""
    get_json(host, port, "/_idle")
    t0 = time.time()
    while True:
        time.sleep(wait_s)
        r = get_json(host, port, "/_idle_result")
        if "alloc" in r:
            return r
        if time.time() - t0 > timeout_s:
            raise RuntimeError("the idle heap was never measured")


def client_main(argv):
    """In the network namespace (the chip's side): upload_bench.py --client ADDR JSON, where
    JSON is a list of {kind, size, path, query, sha}; prints one JSON line of the results."""
    addr, jobs = argv[0], json.loads(argv[1])
    out = []
    t0 = time.time()
    while True:  # (Microdot prints "listening" before its server listens)
        try:
            get_json(addr, 80, "/_mem")
            break
        except ConnectionRefusedError:
            if time.time() - t0 > 120:
                raise
            time.sleep(0.5)
    for job in jobs:
        data = content(job["size"])
        r = {"job": job}
        print("client: %r" % job, file=sys.stderr, flush=True)
        if job.get("idle"):
            r["idle"] = idle_heap(addr, 80, wait_s=1.0)
        r["answer"], r["wall_s"] = upload(addr, 80, job["kind"], data, job["path"],
                                          job.get("query", ""))
        if job.get("sha"):
            got = get_json(addr, 80, "/_sha?path=" + job["path"])
            r["sha_ok"] = got == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            if not r["sha_ok"]:
                r["sha_got"] = got
        out.append(r)
    print(json.dumps(out))
    return 0


# ---- on the unix build --------------------------------------------------------------------------

def start_server(impl, port):
    import ws_bench
    return ws_bench.start_server(impl, port, 8, "up",
                                 ceiling=[sys.executable, __file__, "--sink-server"])


def sink_server(port):
    """The client's ceiling (impl "ceiling"): a CPython server that reads each request's head
    and Content-Length bytes into one reused buffer and answers {"size": ...} (the file's size,
    from the body's length minus the multipart framing this benchmark sends), nothing else.
    One connection at a time; runs until killed."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    buf = bytearray(65536)
    frame = len(mp_body(b""))
    while True:
        s, _ = ls.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            d = s.recv(4096)
            if not d:
                break
            head += d
        head, _, rest = head.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n"):
            k, _, v = line.partition(b":")
            if k.lower() == b"content-length":
                n = int(v)
        left = n - len(rest)
        while left > 0:
            k = s.recv_into(buf, min(left, len(buf)))
            if not k:
                break
            left -= k
        size = n - frame if head.startswith(b"POST /mp") else n
        body = json.dumps({"size": size, "us": 0}).encode()
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d"
                  b"\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        s.close()


def _sha_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_host(cfg, tmp):
    """Throughput rows (median over all uploads of a cell) and heap rows, per (impl, kind)."""
    data = content(cfg["size"])
    sha = hashlib.sha256(data).hexdigest()
    impls = ["ceiling"] + [i for i in IMPLS if i != "microdot" or microdot_dir()]
    runs, heap = {}, []
    local = "127.0.0.1"
    for rnd in range(cfg["rounds"]):
        for impl in impls:
            port = free_port()
            p = start_server(impl, port)
            try:
                for kind in KINDS:
                    dest = os.path.join(tmp, "up-%s-%s.bin" % (impl, kind))
                    first = rnd == 0 and impl != "ceiling"
                    m0 = get_json(local, port, "/_mem") if first else None
                    for j in range(cfg["per_round"]):
                        if os.path.exists(dest):
                            os.remove(dest)
                        ans, dt = upload(local, port, kind, data, dest)
                        if impl != "ceiling" and _sha_file(dest) != sha:
                            raise RuntimeError("%s %s: the saved file differs from the upload"
                                               % (impl, kind))
                        r = {"impl": impl, "kind": kind, "round": rnd, "s": dt,
                             "mb_s": len(data) / 1e6 / dt, "handler_s": ans["us"] / 1e6}
                        runs.setdefault((impl, kind), []).append(r)
                        if j == 0 and first:
                            m1 = get_json(local, port, "/_mem")
                    log("host %-8s %-3s %s MB/s" % (impl, kind, " ".join(
                        "%.1f" % r["mb_s"] for r in runs[(impl, kind)][-cfg["per_round"]:])))
                    if not first:
                        continue
                    os.remove(dest)
                    idle = idle_heap(local, port)
                    hans, _ = upload(local, port, kind, data, dest, "heap=1")
                    if _sha_file(dest) != sha:
                        raise RuntimeError("%s %s heap run: the saved file differs" % (impl, kind))
                    os.remove(dest)
                    h = {"impl": impl, "kind": kind, "idle_alloc_b": idle["alloc"],
                         "entry_alloc_b": hans["entry"][0], "alloc_max_b": hans["alloc_max"],
                         "peak_b": hans["alloc_max"] - hans["entry"][0],
                         "allocated_b": (m1["total"] - m0["total"]
                                         if m0.get("total") is not None else None)}
                    heap.append(h)
                    log("host %-8s %-3s peak heap %6d B above the handler's start (idle %d, "
                        "start %d, peak %d), %9s B allocated per upload" % (
                            impl, kind, h["peak_b"], idle["alloc"], h["entry_alloc_b"],
                            h["alloc_max_b"], h["allocated_b"]))
                if p.poll() is not None:
                    raise RuntimeError("%s server exited: %s" % (
                        impl, p.stderr.read().decode()[-1500:]))
            finally:
                p.kill()
                p.wait()
    rows = []
    for (impl, kind), rs in runs.items():
        row = {"impl": impl, "kind": kind, "size": len(data), "n": len(rs),
               "mb_s": statistics.median(r["mb_s"] for r in rs),
               "s": statistics.median(r["s"] for r in rs),
               "handler_s": statistics.median(r["handler_s"] for r in rs),
               "all_mb_s": [round(r["mb_s"], 2) for r in rs]}
        rows.append(row)
    return rows, heap


# ---- on the emulated RP2040 over SLIP -------------------------------------------------------------

SERVE_ON_CHIP = """
import sys
if '/bench' not in sys.path:
    sys.path.append('/bench')
import %s as m
m.serve('0.0.0.0', 80, 4)
"""


def device_files(tmp, with_microdot):
    """{device path: bytes}: the upload apps and (optionally) Microdot with its multipart."""
    import run
    files = {}
    srcs = [APPS_DIR / "up_probe.py", APPS_DIR / "up_mfa_app.py"] + (
        [APPS_DIR / "up_microdot_app.py"] if with_microdot else [])
    for src in srcs:
        data, ext = run._compile(str(src), tmp)
        files["/bench/" + src.stem + ext] = data
    if with_microdot:
        mdir = os.path.join(microdot_dir(), "microdot")
        for name in ("__init__.py", "microdot.py", "helpers.py", "multipart.py"):
            data, ext = run._compile(os.path.join(mdir, name), tmp)
            files["/bench/microdot/" + name[:-3] + ext] = data
    return files


def line_floor_ms(nbytes, mss=1460):
    """The SLIP line's floor for `nbytes` of TCP payload to the chip: full segments of `mss`
    bytes with 40 bytes of IP and TCP headers and SLIP's two END bytes (escapes not counted),
    10 bits a byte at SLIP_BAUD."""
    segs = -(-nbytes // mss)
    return (nbytes + segs * 42) * 10 / SLIP_BAUD * 1000


def run_emu(cfg, tmp):
    from tests.net.netns import NetNS
    why = NetNS.available()
    if why:
        return {"skipped": "emulated RP2040 upload measurements skipped: %s" % why}
    from tests.net.slip_bridge import SlipPico
    size = cfg["emu_size"]
    impls = [i for i in cfg["emu_impls"] if i != "microdot" or microdot_dir()]
    rows, links, errors = [], [], {}
    for fw in ("MFA_PICO", "MFA_PICO-pure"):
        fw_impls = [i for i in impls if FIRMWARE[i] == fw]
        if not fw_impls:
            continue
        t0 = time.time()
        try:
            with SlipPico(BUILD / fw / "firmware.uf2") as pico:
                import run
                run.put_files(pico.emu, device_files(tmp, "microdot" in fw_impls))
                log("emu %s up, files written in %.1f s" % (fw, time.time() - t0))
                for impl in fw_impls:
                    jobs = [{"kind": "mp", "size": size, "path": "/up.bin", "sha": True},
                            {"kind": "mp", "size": size, "path": "/up.bin", "query": "heap=1",
                             "idle": True, "sha": True}]
                    if impl != "microdot" and cfg["emu_link"]:
                        jobs.insert(0, {"kind": "raw", "size": size, "path": ""})
                    w0 = time.time()
                    pico.start_app(SERVE_ON_CHIP % ("up_microdot_app" if impl == "microdot"
                                                    else "up_mfa_app"),
                                   ready="listening", timeout=180)
                    try:
                        cp = pico.ns.run([sys.executable, str(HERE / "upload_bench.py"),
                                          "--client", pico.addr, json.dumps(jobs)], timeout=1800)
                        if cp.returncode != 0:
                            raise RuntimeError("client: %s%s\n--- chip output ---\n%s" % (
                                cp.stdout[-1500:], cp.stderr[-1500:], pico.emu.output()[-1500:]))
                        out = json.loads(cp.stdout.strip().splitlines()[-1])
                    finally:
                        pico.stop_app()
                    wall = time.time() - w0
                    by = {("link" if r["job"]["kind"] == "raw" else
                           "heap" if r["job"].get("query") else "timed"): r for r in out}
                    for k in ("timed", "heap"):
                        if not by[k]["sha_ok"]:
                            raise RuntimeError("%s %s upload: the file on the chip differs: %r"
                                               % (impl, k, by[k].get("sha_got")))
                    if "link" in by:
                        us = by["link"]["answer"]["us"]
                        links.append({"firmware": fw, "impl": impl, "size": size,
                                      "chip_ms": us / 1000, "kb_s": size / 1024 / (us / 1e6),
                                      "floor_ms": line_floor_ms(size + 200)})
                        log("rp2040 %-13s link (raw stream, discarded) %8.1f ms simulated, "
                            "%.0f KB/s (line floor %.0f ms)" % (fw, us / 1000, links[-1]["kb_s"],
                                                                links[-1]["floor_ms"]))
                    us = by["timed"]["answer"]["us"]
                    idle = by["heap"]["idle"]["free"]
                    entry = by["heap"]["answer"]["entry"][1]
                    low = by["heap"]["answer"]["free_min"]
                    row = {"firmware": fw, "impl": impl, "size": size, "chip_ms": us / 1000,
                           "cycles_per_kb": us * 125 / (size / 1024),
                           "kb_s": size / 1024 / (us / 1e6),
                           "wall_s": by["timed"]["wall_s"], "free_idle": idle,
                           "free_entry": entry, "free_low": low, "heap_b": entry - low, "heap_run_chip_ms": by["heap"]["answer"]["us"]
                           / 1000, "wall_all_s": round(wall, 1)}
                    rows.append(row)
                    log("rp2040 %-13s %-8s %d B multipart to flash: %8.1f ms simulated, %7.0f "
                        "cycles/KB; free heap idle %d, at the start %d, low %d (%d below the "
                        "start); %.1f s wall for the upload, %.0f s for all" % (
                            fw, impl, size, row["chip_ms"], row["cycles_per_kb"], idle, entry, low,
                                                         row["heap_b"], row["wall_s"], wall))
        except Exception as e:  # noqa: BLE001 - keep the other firmware's figures
            errors[fw] = "%s: %s" % (type(e).__name__, str(e)[-1500:])
            log("emu %s failed: %s" % (fw, errors[fw]))
    res = {"rows": rows, "link": links, "size": size, "baud": SLIP_BAUD, "errors": errors}
    if errors:
        res["failed"] = True
    return res


# ---- the section ----------------------------------------------------------------------------

def run_all(cfg, tmp, res, emu=True):
    """The whole measurement into res["upload"] (run.py's "upload" section)."""
    up = res["upload"] = {"config": dict(cfg), "md_buffer_size": MD_BUFFER_SIZE}
    _check_microdot()
    up["host"], up["heap"] = run_host(cfg, tmp)
    if emu and not cfg["emu_impls"]:
        up["emu"] = {"skipped": "quick run: the chip's upload is measured by the full bench "
                                "and proven by tests/net/test_upload_slip.py"}
    elif emu:
        up["emu"] = run_emu(cfg, tmp)
        if up["emu"].get("failed"):
            raise RuntimeError("emulated RP2040 upload failed: %s" % up["emu"]["errors"])
    return up


def _check_microdot():
    if not microdot_dir():
        return
    src = open(os.path.join(microdot_dir(), "microdot", "multipart.py")).read()
    if "buffer_size = %d" % MD_BUFFER_SIZE not in src:
        raise RuntimeError("microdot.multipart's buffer_size is no longer %d" % MD_BUFFER_SIZE)


CONFIG = {"size": 1024 * 1024, "rounds": 5, "per_round": 3, "emu_size": 64 * 1024,
          "emu_impls": ["mfa", "pure", "microdot"], "emu_link": True}
# Quick (CI): the unix figures only. The chip's upload path is proven by the test suite
# (tests/net/test_upload_slip.py, test_picow_mfa.py: 256 KB each), and a chip here costs a
# minute of CI's 30.
QUICK = {"size": 1024 * 1024, "rounds": 1, "per_round": 3, "emu_size": 64 * 1024,
         "emu_impls": [], "emu_link": False}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-emu", action="store_true")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--emu-size", type=int)
    ap.add_argument("--emu-impls")
    ap.add_argument("--json")
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        return client_main(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "--sink-server":
        return sink_server(int(sys.argv[2]))
    a = ap.parse_args()
    cfg = dict(QUICK if a.quick else CONFIG)
    if a.rounds:
        cfg["rounds"] = a.rounds
    if a.emu_size:
        cfg["emu_size"] = a.emu_size
    if a.emu_impls:
        cfg["emu_impls"] = a.emu_impls.split(",")
    import tempfile
    sys.path.insert(0, str(HERE))
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            run_all(cfg, tmp, res, emu=not a.no_emu)
        finally:
            if a.json:
                with open(a.json, "w") as f:
                    json.dump(res.get("upload"), f, indent=1)
    import report
    print("\n".join(report.upload_tables(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
