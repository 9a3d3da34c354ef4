#!/usr/bin/env python3
"""WebSocket echo benchmark (issue 13), each server side by side in one run.

    python tests/bench/ws_bench.py [--seconds 5] [--quick] [--no-emu] [--json FILE]
    (also tests/bench/run.py's "ws" section, which puts the rows into results.json/report.md)

Servers: tests/bench/apps/ws_mfa_app.py (microfastapi on `_mfa`, and forced pure with
MFA_BACKEND=pure) and ws_microdot_app.py (Microdot 2.7's microdot.websocket, from the venv's
site-packages on MICROPYPATH), all on the same binary, build/unix/micropython, served by
apps/serve.py on 127.0.0.1. Both echo each text message back as a text message. Figures only:
nothing here checks that anything is fast.

On the host (this CPython process is the client: raw sockets, one pre-built masked frame):

  messages/s   N connections (1 and 16), each in a closed loop for T seconds: send one 32-byte
               text frame, wait for its echo (checked byte for byte), send the next. Messages/s
               = echoes received / T, all connections together; p50/p99 = round-trip latency.
               The client's own CPU time over the run is recorded (client_cpu, share of one
               core). The client's ceiling is measured the same way against a CPython server
               that answers each 38-byte frame with the expected 34-byte echo and does nothing
               else (impl "ceiling"): when a server's rate is well below that, the client is
               not what limits it. The servers take turns, `rounds` times (3; 1 with --quick):
               a figure is the round with the median messages/s of its cell.
  heap/conn    gc.mem_alloc() after gc.collect() (GET /_mem, a fresh connection each time) with
               16 WebSockets open and idle (each echoed one message, so its handler waits in
               receive), minus the same with none open (after one WebSocket was opened, used and
               closed, so that what a first WebSocket imports is in both), divided by 16.
  heap/msg     on one open WebSocket: GET /_gc_off (gc.collect(), then gc.disable(), and its
               gc.mem_alloc()), k echoes, GET /_gc_on (gc.mem_alloc(), then gc.enable()); the
               growth between the two is measured for k = k1 and k = k2, and
               (growth(k2) - growth(k1)) / (k2 - k1) is the heap allocated per echoed message by
               the whole server process (its loop, socket layer, WebSocket code and handler). The
               two HTTP requests and everything else that does not depend on k cancel out.

On the emulated RP2040 (rp2040py; cycles = simulated ticks_us x 125), in-process, no network
(tests/bench/apps/ws_inproc.py says exactly which code runs): cycles and heap bytes per echoed
message, GC off during the measured messages; `_mfa` on MFA_PICO, pure and Microdot on
MFA_PICO-pure (Microdot's package compiled with mpy-cross, written to the chip's flash).
The same driver also runs on the unix binary (rows with firmware "unix", microseconds).
"""
import argparse
import base64
import hashlib
import json
import os
import pathlib
import select
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
from tests.support import free_port, get_close, wait_listening  # noqa: E402

IMPLS = ["mfa", "pure", "microdot"]
FIRMWARE = {"mfa": "MFA_PICO", "pure": "MFA_PICO-pure", "microdot": "MFA_PICO-pure"}
SIZE = 32
PAYLOAD = bytes(97 + i % 26 for i in range(SIZE))
MASK = b"\x37\xfa\x21\x3d"
FRAME = bytes((0x81, 0x80 | SIZE)) + MASK + bytes(PAYLOAD[i] ^ MASK[i & 3] for i in range(SIZE))
ECHO = bytes((0x81, SIZE)) + PAYLOAD
CLOSE = bytes((0x88, 0x82)) + MASK + bytes(b ^ MASK[i] for i, b in enumerate(b"\x03\xe8"))
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
UPGRADE = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % KEY).encode()
ACCEPT = base64.b64encode(hashlib.sha1(KEY.encode() + GUID).digest())


def log(*a):
    print("[ws-bench %s]" % time.strftime("%H:%M:%S"), *a, flush=True)


def microdot_dir():
    try:
        import microdot
    except ImportError:
        return None
    return os.path.dirname(os.path.dirname(os.path.abspath(microdot.__file__)))


# ---- servers --------------------------------------------------------------------------------

def start_server(impl, port, max_conns=40, app="ws", ceiling=None):
    """One benchmark server on the unix build: apps/<app>_mfa.py (impl "mfa", or "pure" with
    MFA_BACKEND=pure) or apps/<app>_microdot.py, served by apps/serve.py; impl "ceiling" runs
    `ceiling` + [port] (default: this module's echo server). Also upload_bench.py's."""
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    path = [".frozen", str(APPS_DIR)]
    if impl == "ceiling":
        args = (ceiling or [sys.executable, __file__, "--echo-server"]) + [str(port)]
    else:
        if impl == "microdot":
            path.append(microdot_dir())
        if impl == "pure":
            env["MFA_BACKEND"] = "pure"
        args = [str(BUILD / "unix" / "micropython"), str(APPS_DIR / "serve.py"),
                app + ("_microdot" if impl == "microdot" else "_mfa"), str(port), str(max_conns)]
    env["MICROPYPATH"] = ":".join(path)
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    why = wait_listening(p, port)
    if why:
        raise RuntimeError("%s server %s: %s" % (impl, why, p.stderr.read().decode()[-2000:]))
    return p


def echo_server(port):
    """The client's ceiling: answers the handshake, then each FRAME with ECHO, nothing else
    (no unmasking, no parsing beyond the frame length). Runs until killed."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    ls.setblocking(False)
    ep = select.epoll()
    ep.register(ls.fileno(), select.EPOLLIN)
    conns = {}
    answer = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + ACCEPT + b"\r\n\r\n")
    while True:
        for fd, _ in ep.poll():
            if fd == ls.fileno():
                try:
                    s, _ = ls.accept()
                except BlockingIOError:
                    continue
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conns[s.fileno()] = [s, b"", False]
                ep.register(s.fileno(), select.EPOLLIN)
                continue
            c = conns[fd]
            try:
                d = c[0].recv(65536)
            except OSError:
                d = b""
            if not d:
                ep.unregister(fd)
                c[0].close()
                del conns[fd]
                continue
            c[1] += d
            if not c[2]:
                if b"\r\n\r\n" in c[1]:
                    c[1] = c[1].partition(b"\r\n\r\n")[2]
                    c[2] = True
                    c[0].send(answer)
                continue
            n = 0
            while c[1][n * len(FRAME):n * len(FRAME) + 1] == FRAME[:1]:
                n += 1
            if n:
                c[1] = c[1][n * len(FRAME):]
                c[0].send(ECHO * n)
            if c[1][:1] == CLOSE[:1]:  # the client's close frame: close
                ep.unregister(fd)
                c[0].close()
                del conns[fd]


# ---- the client -----------------------------------------------------------------------------

def connect(port, timeout=10.0):
    """A WebSocket to ws://127.0.0.1:port/ws after the handshake (blocking socket)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(UPGRADE)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise RuntimeError("closed during the handshake: %r" % buf[:200])
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101") or ACCEPT not in head:
        raise RuntimeError("handshake answered %r" % head[:300])
    if rest:
        raise RuntimeError("bytes after the 101: %r" % rest[:100])
    return s


def echo_once(s):
    s.sendall(FRAME)
    buf = b""
    while len(buf) < len(ECHO):
        d = s.recv(4096)
        if not d:
            raise RuntimeError("closed while waiting for an echo")
        buf += d
    if buf != ECHO:
        raise RuntimeError("echo was %r" % buf[:80])


def close_ws(s):
    """A close frame (1000), then wait (briefly) for the server to close."""
    try:
        s.sendall(CLOSE)
        s.settimeout(2)
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()


def closed_loop(port, conns, seconds, warm=20):
    """`conns` WebSockets, each in a closed loop (one message in flight) for `seconds`; returns
    {msgs_s, p50_ms, p99_ms, n, client_cpu}."""
    socks = [connect(port) for _ in range(conns)]
    for s in socks:
        for _ in range(warm):
            echo_once(s)
        s.setblocking(False)
    ep = select.epoll()
    st = {}
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
        st[s.fileno()] = [s, b"", 0.0]
    lat = []
    n = 0
    elen = len(ECHO)
    clock = time.perf_counter
    c0 = time.process_time()
    t0 = clock()
    end = t0 + seconds
    for c in st.values():
        c[2] = clock()
        c[0].send(FRAME)
    try:
        while True:
            now = clock()
            if now >= end:
                break
            for fd, _ in ep.poll(end - now):
                c = st[fd]
                d = c[0].recv(4096)
                if not d:
                    raise RuntimeError("the server closed a connection")
                buf = c[1] + d
                if len(buf) < elen:
                    c[1] = buf
                    continue
                if buf != ECHO:
                    raise RuntimeError("unexpected bytes from the server: %r" % buf[:80])
                c[1] = b""
                t = clock()
                lat.append(t - c[2])
                n += 1
                c[2] = t
                c[0].send(FRAME)
        elapsed = clock() - t0
        cpu = time.process_time() - c0
    finally:
        ep.close()
        for s in socks:
            s.setblocking(True)
            close_ws(s)
    lat.sort()
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [float("nan")] * 99
    return {"msgs_s": n / elapsed, "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "n": n,
            "client_cpu": cpu / elapsed}


def get_json(port, path):
    raw = get_close(("127.0.0.1", port), path)
    head, _, body = raw.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n")[0]:
        raise RuntimeError("%s answered %r" % (path, head[:100]))
    return json.loads(body)


def heap_per_conn(port, n=16):
    s = connect(port)
    echo_once(s)
    close_ws(s)
    time.sleep(0.3)
    get_json(port, "/_mem")
    idle = get_json(port, "/_mem")["alloc"]
    socks = [connect(port) for _ in range(n)]
    try:
        for s in socks:
            echo_once(s)
        time.sleep(0.2)
        loaded = get_json(port, "/_mem")["alloc"]
    finally:
        for s in socks:
            close_ws(s)
    return {"heap_per_conn_b": (loaded - idle) / n, "idle_alloc_b": idle,
            "open_alloc_b": loaded, "open_ws": n}


def heap_per_msg(port, k1, k2):
    s = connect(port)
    try:
        for _ in range(20):
            echo_once(s)
        growth = {}
        for k in (k1, k2):
            a0 = get_json(port, "/_gc_off")["alloc"]
            try:
                for _ in range(k):
                    echo_once(s)
            finally:
                a1 = get_json(port, "/_gc_on")["alloc"]
            growth[k] = a1 - a0
    finally:
        close_ws(s)
    return {"heap_per_msg_b": (growth[k2] - growth[k1]) / (k2 - k1), "k1": k1, "k2": k2,
            "growth_k1_b": growth[k1], "growth_k2_b": growth[k2]}


def run_host(cfg):
    """cfg: seconds, conns (list), rounds, k1, k2. Returns (throughput rows, heap rows).

    The servers take turns: each round starts every server in turn and runs each connection
    count against it, so a change in the machine's load touches all of them. A row is the
    round with the median messages/s of its (impl, conns) cell; "rounds" lists them all. The
    heap figures (exact counts, not timings) are taken once, in the first round."""
    runs, heap = {}, []
    impls = ["ceiling"] + [i for i in IMPLS if i != "microdot" or microdot_dir()]
    for rnd in range(cfg["rounds"]):
        for impl in impls:
            port = free_port()
            p = start_server(impl, port)
            try:
                for conns in cfg["conns"]:
                    r = closed_loop(port, conns, cfg["seconds"])
                    r.update(impl=impl, conns=conns, seconds=cfg["seconds"], round=rnd)
                    runs.setdefault((impl, conns), []).append(r)
                    log("host %-8s c=%-2d %8.0f msg/s  p50 %.3f p99 %.3f ms  (client CPU %.0f%%)"
                        % (impl, conns, r["msgs_s"], r["p50_ms"], r["p99_ms"],
                           100 * r["client_cpu"]))
                if impl != "ceiling" and rnd == 0:
                    h = heap_per_conn(port)
                    h.update(heap_per_msg(port, cfg["k1"], cfg["k2"]))
                    h["impl"] = impl
                    heap.append(h)
                    log("host %-8s heap %6.0f B per idle WebSocket, %6.0f B per echoed message"
                        % (impl, h["heap_per_conn_b"], h["heap_per_msg_b"]))
                if p.poll() is not None:
                    raise RuntimeError("%s server exited: %s" % (
                        impl, p.stderr.read().decode()[-1500:]))
            finally:
                p.kill()
                p.wait()
    rows = []
    for (impl, conns), rs in runs.items():
        med = sorted(rs, key=lambda r: r["msgs_s"])[(len(rs) - 1) // 2]
        row = dict(med)
        row["rounds"] = [round(r["msgs_s"], 1) for r in rs]
        rows.append(row)
    return rows, heap


# ---- in-process: unix and the emulated RP2040 -------------------------------------------------

def inproc_script(impl, n, warm):
    return "import ws_inproc\nws_inproc.main(%r, %d, %d, %d)\n" % (impl, n, warm, SIZE)


def parse_results(out):
    rows = []
    for line in out.splitlines():
        if line.startswith("WSRESULT|"):
            _, impl, heap, ns = line.strip().split("|")
            rows.append({"impl": impl, "heap_per_msg_b": int(heap), "us": int(ns) / 1000.0})
    return rows


def run_inproc_unix(cfg):
    rows = []
    for impl in IMPLS:
        if impl == "microdot" and not microdot_dir():
            continue
        env = dict(os.environ)
        env.pop("MFA_BACKEND", None)
        path = [".frozen", str(APPS_DIR)]
        if impl == "microdot":
            path.append(microdot_dir())
        if impl == "pure":
            env["MFA_BACKEND"] = "pure"
        env["MICROPYPATH"] = ":".join(path)
        cp = subprocess.run([str(BUILD / "unix" / "micropython"), "-X", "heapsize=16M", "-c",
                             inproc_script(impl, cfg["unix_n"], 50)], env=env,
                            capture_output=True, text=True, timeout=300)
        got = parse_results(cp.stdout)
        if not got:
            raise RuntimeError("unix in-process %s: %s%s" % (impl, cp.stdout[-1500:],
                                                            cp.stderr[-1500:]))
        for g in got:
            g["firmware"] = "unix"
            log("unix in-process %-8s %7.1f us %6d B per message" % (
                impl, g["us"], g["heap_per_msg_b"]))
        rows += got
    return rows


def device_files(tmp, with_microdot):
    """{device path: bytes}: the WebSocket apps and driver, and (optionally) Microdot."""
    import run
    files = {}
    srcs = [APPS_DIR / "ws_mfa_app.py", APPS_DIR / "ws_inproc.py"]
    if with_microdot:
        srcs += [APPS_DIR / "ws_microdot_app.py", APPS_DIR / "md_sha1.py"]
    for src in srcs:
        data, ext = run._compile(str(src), tmp)
        files["/bench/" + src.stem + ext] = data
    if with_microdot:
        mdir = os.path.join(microdot_dir(), "microdot")
        for name in ("__init__.py", "microdot.py", "helpers.py", "websocket.py"):
            data, ext = run._compile(os.path.join(mdir, name), tmp)
            files["/bench/microdot/" + name[:-3] + ext] = data
    return files


def run_emu(cfg, tmp):
    import run
    from tests.emu.emulator import Emulator
    rows = []
    for fw in ("MFA_PICO", "MFA_PICO-pure"):
        impls = [i for i in IMPLS if FIRMWARE[i] == fw and (i != "microdot" or microdot_dir())]
        t0 = time.time()
        with Emulator(BUILD / fw / "firmware.uf2") as emu:
            run.put_files(emu, device_files(tmp, "microdot" in impls))
            log("emu %s booted, files written in %.1f s" % (fw, time.time() - t0))
            for impl in impls:
                emu.soft_reset()
                emu.run("import sys\nsys.path.append('/bench')")
                w0 = time.time()
                s0 = emu.sim_ns
                out = emu.run(inproc_script(impl, cfg["emu_n"], cfg["emu_warm"]), timeout=1200)
                got = parse_results(out)
                if not got:
                    raise RuntimeError("emu %s %s: %s" % (fw, impl, out[-2000:]))
                for g in got:
                    g["firmware"] = fw
                    g["cycles"] = int(round(g["us"] * 125))
                    log("rp2040 %-13s %-8s %9d cycles %6d B per message  (%.1f s wall, %.0f ms "
                        "simulated)" % (fw, impl, g["cycles"], g["heap_per_msg_b"],
                                        time.time() - w0, (emu.sim_ns - s0) / 1e6))
                rows += got
    return rows


def run_all(cfg, tmp, res, emu=True):
    """The whole measurement into res["ws"] (run.py's "ws" section)."""
    ws = res["ws"] = {"size": SIZE, "config": {k: cfg[k] for k in (
        "seconds", "rounds", "conns", "k1", "k2", "unix_n", "emu_n", "emu_warm")}}
    ws["host"], ws["heap"] = run_host(cfg)
    ws["inproc"] = run_inproc_unix(cfg)
    if emu:
        ws["inproc"] += run_emu(cfg, tmp)
    return ws


CONFIG = {"seconds": 4, "rounds": 3, "conns": [1, 16], "k1": 50, "k2": 250, "unix_n": 1000,
          "emu_n": 20, "emu_warm": 3}
QUICK = {"seconds": 1, "rounds": 1, "conns": [1, 16], "k1": 10, "k2": 60, "unix_n": 200,
         "emu_n": 3, "emu_warm": 1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-emu", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--echo-server", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.echo_server:
        return echo_server(a.echo_server)
    cfg = dict(QUICK if a.quick else CONFIG)
    if a.seconds:
        cfg["seconds"] = a.seconds
    import tempfile
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        run_all(cfg, tmp, res, emu=not a.no_emu)
    sys.path.insert(0, str(HERE))
    import report
    print("\n".join(report.ws_tables(res)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res["ws"], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
