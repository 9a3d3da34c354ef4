#!/usr/bin/env python3
"""Network figures for the emulated RP2040 (MFA_PICO firmware, lwIP over SLIP), in simulated time.

    sudo python3 tests/bench/emu_net_bench.py [-n 20] [--servers mfa,pure,microdot] [--mem] [--json F]

What is measured, and how (root only: network namespace + TUN, see tests/net/slip_bridge.py):
- A tap on the SLIP bridge stamps every IPv4/TCP packet with the emulator's simulated clock
  (`emu.sim_ns`) as it enters the chip's UART (host -> chip) or leaves it (chip -> host). That is
  what the chip sees: the times include the 3 Mbaud serial line but not the host.
- The host client runs N sequential GET / requests, once on one keep-alive connection and once
  with a new connection and `Connection: close` per request.
- Device latency per request = simulated time from the first byte of the request entering the
  chip to the last byte of the response leaving it. For close, the connection set-up work
  (SYN in -> SYN-ACK out) is added. Host think time is excluded on purpose: while the chip
  waits for the host its simulated clock jumps ahead (WFI), so "wall" gaps mean nothing.
- Requests per simulated second = 1 / mean device time per request: what a client with zero
  round-trip time would get from one connection at a time.
- `--mem`: gc.mem_free() after gc.collect() on the chip with the server up and 0, 1 and 8 open
  keep-alive connections (the same raw Server loop for `_mfa` and pyserver).

Servers (the same tiny JSON app, GET / -> {"hello": "world"}):
  mfa       microfastapi app on MFA_PICO (`_mfa.Server`, C parser)
  pure      microfastapi app on MFA_PICO-pure (pyserver, Python parser)
  microdot  Microdot 2.7 (pip package, compiled with our mpy-cross and copied to the chip's
            filesystem) on MFA_PICO-pure
For tests/bench/run.py: `bench(servers=..., n=...)` and `mem(...)` return dicts.
"""
import argparse
import json
import pathlib
import statistics
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from tests.net.slip_bridge import SlipBridge, SlipPico  # noqa: E402
from tests.support import script  # noqa: E402

FIRMWARE = {"mfa": ROOT / "build" / "MFA_PICO" / "firmware.uf2",
            "pure": ROOT / "build" / "MFA_PICO-pure" / "firmware.uf2"}
FIRMWARE["microdot"] = FIRMWARE["pure"]

MFA_APP = """
from microfastapi import MicroFastApi
app = MicroFastApi()

@app.get("/")
def index(req):
    return {"hello": "world"}

app.run(port=80)
"""

MICRODOT_APP = """
from microdot import Microdot
app = Microdot()

@app.get("/")
async def index(req):
    return {"hello": "world"}

print("listening microdot")
app.run(host="0.0.0.0", port=80)
"""

# The raw Server surface (docs/internals.md), same loop for _mfa.Server and pyserver.
MEM_APP = """
import gc
try:
    from _mfa import Server
    B = "_mfa"
except ImportError:
    from microfastapi.pyserver import Server
    B = "pyserver"
srv = Server("0.0.0.0", 80, max_conns=8, idle_timeout_ms=600000, header_timeout_ms=600000)
J = [("Content-Type", "application/json")]
gc.collect()
M0 = gc.mem_free()
print("mem", B, M0, "listening")  # "listening" last: the host waits for it
while True:
    r = srv.poll()
    if r is None:
        srv.wait(1000)
        continue
    if r.path == "/mem":
        gc.collect()
        st = srv.stats()
        body = '{"free": %d, "base": %d, "open": %d}' % (gc.mem_free(), M0, st.get("connections", -1))
    else:
        body = '{"hello": "world"}'
    srv.respond(r, 200, J, body)
"""

CLIENT = script(r"""
import json, socket, sys, time
from tests.support import read_response
addr, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def connect():
    for i in range(300):  # Microdot prints before its server listens
        try:
            return socket.create_connection((addr, 80), timeout=60)
        except ConnectionRefusedError:
            time.sleep(0.1)
    raise ConnectionRefusedError(addr)

t0 = time.time()
if mode == "keepalive":
    s = connect()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    for i in range(n):
        s.sendall(b"GET / HTTP/1.1\r\nHost: pico\r\n\r\n")
        head, body, buf = read_response(s, buf)
        assert head[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 ") and head[9:12] == b"200", head
    s.close()
else:
    for i in range(n):
        s = connect()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"GET / HTTP/1.1\r\nHost: pico\r\nConnection: close\r\n\r\n")
        head, body, _ = read_response(s, b"")
        assert head[:9] in (b"HTTP/1.1 ", b"HTTP/1.0 ") and head[9:12] == b"200", head
        s.close()
print(json.dumps({"wall_s": time.time() - t0}))
""")

MEM_CLIENT = script(r"""
import json, socket, sys, time
from tests.support import read_response
addr = sys.argv[1]

def req(s, path):
    s.sendall(("GET %s HTTP/1.1\r\nHost: pico\r\n\r\n" % path).encode())
    return json.loads(read_response(s)[1])

out = {}
socks = []
for i in range(8):
    s = socket.create_connection((addr, 80), timeout=60)
    socks.append(s)
    if i == 0:
        out["1"] = req(s, "/mem")
    else:
        req(s, "/")
out["8"] = req(socks[0], "/mem")
for s in socks[1:]:
    s.close()
time.sleep(1)
out["after_close"] = req(socks[0], "/mem")
socks[0].close()
print(json.dumps(out))
""")


# ---- packet tap ------------------------------------------------------------------------------

class TapBridge(SlipBridge):
    """SlipBridge that records (sim_ns, direction, tcp summary) for every TCP packet."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.log = []

    def _note(self, pkt, to_chip):
        if len(pkt) < 20 or pkt[9] != 6:
            return
        ihl = (pkt[0] & 15) * 4
        tcp = pkt[ihl:]
        if len(tcp) < 20:
            return
        sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", tcp[:14])
        payload = tcp[(off >> 4) * 4:]
        total = struct.unpack("!H", pkt[2:4])[0]
        payload = payload[:max(0, total - ihl - (off >> 4) * 4)]
        client = sport if to_chip else dport
        self.log.append((self.emu.sim_ns, to_chip, client, flags, bytes(payload[:200]), len(payload)))

    def _to_chip(self, pkt):
        # Stamped as it is queued: the queue is empty when the client waits for us, so the
        # packet starts entering the UART now.
        self._note(pkt, True)
        super()._to_chip(pkt)

    def _to_host(self, frame):
        self._note(frame, False)
        super()._to_host(frame)


SYN, FIN, RST = 0x02, 0x01, 0x04


def answer_size(head):
    """The size of a whole answer (head and Content-Length body) from the tap's copy of its
    first segment, which holds the head."""
    hl = head.find(b"\r\n\r\n")
    cl = 0
    for line in head[:hl].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            cl = int(line.split(b":")[1])
    return hl + 4 + cl


def connections(log):
    """The tap log's events, one list per client connection (by its port), in order."""
    by_conn = {}
    for e in log:
        by_conn.setdefault(e[2], []).append(e)
    return by_conn.values()


def exchanges(evs, methods=(b"GET ", b"POST")):
    """(the request's first segment, sim time its first byte came in, sim time the answer's
    last byte went out) for each request on one connection's events."""
    req = None
    for t, to_chip, _, flags, head, plen in evs:
        if to_chip and plen and req is None and head[:4] in methods and not flags & SYN:
            req, t_in, need, got = head, t, None, 0
        elif not to_chip and plen and req is not None:
            if need is None:
                need = answer_size(head)
            got += plen
            if got >= need:
                yield req, t_in, t
                req = None


def analyse(log, mode):
    """Per-request device times (us) from the tap log; with mode "close" (one request per
    connection) the connection's set-up (SYN in to SYN-ACK out) counts too."""
    times = []
    for evs in connections(log):
        syn_in = synack_out = None
        setup = 0.0
        for t, to_chip, _, flags, _, _ in evs:
            if to_chip and flags & SYN:
                syn_in = t
            elif not to_chip and flags & SYN and syn_in is not None and synack_out is None:
                synack_out = t
                setup = (synack_out - syn_in) / 1000.0
        for _, t_in, t_out in exchanges(evs):
            times.append((t_out - t_in) / 1000.0 + (setup if mode == "close" else 0.0))
    return times


def _summary(times):
    if not times:
        return {"n": 0}
    times = sorted(times)
    mean = statistics.mean(times)
    return {"n": len(times), "mean_us": round(mean), "p50_us": round(times[len(times) // 2]),
            "max_us": round(times[-1]), "req_per_sim_s": round(1e6 / mean, 1)}


def _tapped_pico(uf2):
    pico = SlipPico(str(uf2)).__enter__()
    fd = pico.bridge.fd
    pico.bridge.stop()
    pico.bridge = TapBridge(pico.emu, fd, baud=pico.baud).start()
    return pico


def _mpy_cross():
    for p in (ROOT / ".cache" / "obj" / "mpy-cross" / "mpy-cross",
              ROOT / ".cache" / "src" / "micropython" / "mpy-cross" / "build" / "mpy-cross"):
        if p.exists():
            return p
    raise RuntimeError("mpy-cross not found: run ./build.sh first")


def upload_microdot(pico):
    """Compile the pip-installed Microdot with our mpy-cross and write it to the chip's flash."""
    import microdot
    src = pathlib.Path(microdot.__file__).parent
    with tempfile.TemporaryDirectory() as td:
        out = pathlib.Path(td) / "microdot.mpy"
        subprocess.run([str(_mpy_cross()), "-o", str(out), str(src / "microdot.py")], check=True)
        files = {"microdot/__init__.py": (src / "__init__.py").read_bytes(),
                 "microdot/microdot.mpy": out.read_bytes()}
    pico.run("import os\ntry:\n    os.mkdir('microdot')\nexcept OSError:\n    pass\n")
    for name, data in files.items():
        pico.run("f = open(%r, 'wb'); f.close()" % name)
        for i in range(0, len(data), 2048):
            pico.run("f = open(%r, 'ab'); f.write(%r); f.close()" % (name, data[i:i + 2048]))
    return {k: len(v) for k, v in files.items()}


def bench_one(server, n=20, modes=("keepalive", "close"), firmware=None):
    """One server: {mode: {n, mean_us, p50_us, max_us, req_per_sim_s, wall_s}}."""
    uf2 = firmware or FIRMWARE[server]
    pico = _tapped_pico(uf2)
    try:
        if server == "microdot":
            upload_microdot(pico)
            pico.start_app(MICRODOT_APP, ready="listening", timeout=180)
        else:
            pico.start_app(MFA_APP, ready="http://", timeout=120)
        res = {}
        if server == "microdot" and "keepalive" in modes:
            # Microdot 2.7 answers HTTP/1.0 and closes every connection: no keep-alive figure.
            res["keepalive"] = {"note": "Microdot 2.7 closes every connection (HTTP/1.0)"}
            modes = tuple(m for m in modes if m != "keepalive")
        warm = "close" if server == "microdot" else "keepalive"
        # A warm-up pass first (first-use allocations on the chip), then the measured modes.
        for mode, count in [(warm, 2)] + [(m, n) for m in modes]:
            pico.bridge.log = []
            r = pico.ns.run([sys.executable, "-c", CLIENT, pico.addr, str(count), mode],
                            timeout=600)
            if r.returncode != 0:
                raise RuntimeError("client failed (%s %s): %s\nchip:\n%s"
                                   % (server, mode, r.stderr, pico.emu.output()[-2000:]))
            if not res.get("_w"):
                res["_w"] = True
                continue
            log = pico.emu.call(lambda: list(pico.bridge.log))
            res[mode] = _summary(analyse(log, mode))
            res[mode]["wall_s"] = round(json.loads(r.stdout)["wall_s"], 1)
        res.pop("_w", None)
        return res
    finally:
        pico.close()


def bench(servers=("mfa", "pure", "microdot"), n=20, modes=("keepalive", "close"), firmware=None):
    """{server: {mode: figures}} for each server (see bench_one)."""
    out = {}
    for s in servers:
        try:
            out[s] = bench_one(s, n, modes, (firmware or {}).get(s))
        except Exception as e:  # a figure missing is reported, not fatal for the others
            out[s] = {"error": str(e)[:2000]}
    return out


def mem(builds=("mfa", "pure"), firmware=None):
    """{build: {"base": free with server up, "1": .., "8": .., "after_close": ..}} (bytes)."""
    out = {}
    for b in builds:
        uf2 = (firmware or {}).get(b) or FIRMWARE[b]
        with SlipPico(str(uf2)) as pico:
            banner = pico.start_app(MEM_APP, ready="listening", timeout=120)
            r = pico.ns.run([sys.executable, "-c", MEM_CLIENT, pico.addr], timeout=600)
            if r.returncode != 0:
                out[b] = {"error": r.stderr[-2000:] + pico.emu.output()[-2000:]}
                continue
            d = json.loads(r.stdout)
            line = [ln for ln in banner.splitlines() if ln.startswith("mem ")][-1]
            o = {"backend": line.split()[1], "base": int(line.split()[2])}
            for k in ("1", "8", "after_close"):
                o[k] = d[k]["free"]
                o["open_" + k] = d[k]["open"]
            o["per_conn"] = round((o["1"] - o["8"]) / 7)
            out[b] = o
    return out


def _table(res):
    lines = ["%-9s %-9s %5s %10s %10s %10s %14s %8s" % ("server", "mode", "n", "mean_us", "p50_us",
                                                     "max_us", "req/sim_s", "wall_s")]
    for s, modes in res.items():
        if "error" in modes:
            lines.append("%-9s ERROR %s" % (s, modes["error"].splitlines()[0] if modes["error"] else ""))
            continue
        for m, f in modes.items():
            if "note" in f:
                lines.append("%-9s %-9s %s" % (s, m, f["note"]))
                continue
            lines.append("%-9s %-9s %5d %10s %10s %10s %14s %8s" % (
                s, m, f.get("n", 0), f.get("mean_us"), f.get("p50_us"), f.get("max_us"),
                f.get("req_per_sim_s"), f.get("wall_s")))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--servers", default="mfa,pure,microdot")
    ap.add_argument("--modes", default="keepalive,close")
    ap.add_argument("--mem", action="store_true", help="also the heap with 0/1/8 connections")
    ap.add_argument("--mem-only", action="store_true")
    ap.add_argument("--firmware-mfa")
    ap.add_argument("--firmware-pure")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    fw = {}
    if a.firmware_mfa:
        fw["mfa"] = a.firmware_mfa
    if a.firmware_pure:
        fw["pure"] = fw["microdot"] = a.firmware_pure
    out = {}
    if not a.mem_only:
        out["bench"] = bench(tuple(a.servers.split(",")), a.n, tuple(a.modes.split(",")), fw)
        print(_table(out["bench"]))
    if a.mem or a.mem_only:
        out["mem"] = mem(firmware=fw)
        for b, o in out["mem"].items():
            print("mem %-5s %s" % (b, json.dumps(o)))
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
