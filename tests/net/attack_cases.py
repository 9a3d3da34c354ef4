"""Issue 15's attacks on emulated firmware, shared by the SLIP (tests/net/test_emu_attack.py) and
Pico W (tests/net/picow_cases.py; the pool attack in test_picow_mfa.py) tests. Each takes a started board object (SlipPico or PicoW:
`.ns`, `.addr`, `.start_app`, `.stop_app`) and the server kind ("mfa" for _mfa.Server, "py"
for microfastapi.pyserver.Server), runs tests/net/mfa_server_app.py on the chip, and returns
the figures after asserting what must hold:

- syn_flood: SYNs from spoofed addresses (tests/net/syn_flood.py; 64, three times the chip's 20
  TCP PCBs, the bench's attack has more), then a real client's GET / is answered 200;
- pool_attack: slowloris and silent connections holding the pool (40 of each in the tests: four
  times the chip's 20 TCP PCBs) while a real client makes sequential requests
  (tests/bench/attack.py --url), every one answered 200;
- stray_crlf: a keep-alive POST followed by a stray CRLF, then a GET, answered twice 200.

The figures are printed (pytest -s shows them) so a run doubles as a measurement.
"""
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP_SRC = (ROOT / "tests" / "net" / "mfa_server_app.py").read_text()


# One port per case: a server stopped by an interrupt leaves its listener bound.
FLOOD_PORT, ATTACK_PORT, CRLF_PORT = 8001, 8002, 8003


def start_server(pico, server, port):
    """mfa_server_app.py on the chip (its default limits), on `port` of every interface."""
    assert 'Server("127.0.0.1"' in APP_SRC
    argv = ["app", "server=%s" % server, "port=%d" % port]
    src = "import sys\nsys.argv[:] = %r\n" % argv + APP_SRC.replace(
        'Server("127.0.0.1"', 'Server("0.0.0.0"')
    pico.start_app(src, ready="listening", timeout=300)


def syn_flood(pico, server, n=64):
    start_server(pico, server, FLOOD_PORT)
    try:
        s0 = pico.emu.sim_ns
        # (the real client waits up to 540 s of wall time: the emulated chip has answered it
        # within a simulated second, but at 35 s of wall time on a quiet machine and over
        # 120 s on a loaded one)
        cp = pico.ns.run([sys.executable, str(ROOT / "tests" / "net" / "syn_flood.py"),
                          pico.addr, str(FLOOD_PORT), str(n), pico.addr.rsplit(".", 1)[0],
                          "540"], timeout=600)
        assert cp.returncode == 0, cp.stderr
        res = json.loads(cp.stdout.strip().splitlines()[-1])
        # (an upper bound in the chip's time: from before the flood to after the answer)
        res["flood_to_answer_sim_ms"] = round((pico.emu.sim_ns - s0) / 1e6, 1)
        print("syn flood (%s):" % server, res)
        assert res["real_status"] == 200, res
        return res
    finally:
        pico.stop_app()


def slowdown(pico, wall_s=2.0):
    """How many times slower than real time the emulated chip runs now (wall / simulated)."""
    s0, t0 = pico.emu.sim_ns, time.monotonic()
    time.sleep(wall_s)
    return (time.monotonic() - t0) / max((pico.emu.sim_ns - s0) / 1e9, 1e-6)


def pool_attack(pico, server, slow=40, silent=40, requests=50, hold=1.0):
    """attack.py's scenario in the chip's own time: the attackers' times (a header byte every
    2 s, reconnect after 1 s, the ramp) and the `hold` (simulated seconds) are stretched by the
    chip's measured slowdown, so the chip meets the attack rate a board would."""
    start_server(pico, server, ATTACK_PORT)
    try:
        k = round(slowdown(pico), 1)
        # (the client's timeouts are wall time: the emulated chip runs far slower than a board)
        cp = pico.ns.run([sys.executable, str(ROOT / "tests" / "bench" / "attack.py"), "--url",
                          "http://%s:%d" % (pico.addr, ATTACK_PORT), "--slow", str(slow),
                          "--silent", str(silent), "--requests", str(requests), "--hold",
                          str(hold), "--time-scale", str(k), "--timeout", "300"],
                         timeout=3600)
        out = cp.stdout
        assert "{" in out, (out[-2000:], cp.stderr[-2000:])
        res = json.loads(out[out.index("{"):])
        print("pool attack (%s):" % server, json.dumps(res))
        assert res["real_statuses"] == {"200": requests}, res
        assert not res["server_died"] and cp.returncode == 0, (res, cp.stderr[-2000:])
        return res
    finally:
        pico.stop_app()


STRAY_CRLF = r"""
import sys
from tests.support import read_to_eof
import socket
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=120)
s.sendall(b"POST /echo HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\nhello\r\n")
first = b""
while b'"chunked"' not in first:
    d = s.recv(4096)
    if not d:
        break
    first += d
s.sendall(b"GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
rest = read_to_eof(s, 4096)
print((first + rest).decode("latin-1"))
"""


def stray_crlf(pico, server):
    start_server(pico, server, CRLF_PORT)
    try:
        cp = pico.ns.python(STRAY_CRLF, pico.addr, CRLF_PORT, timeout=300)
        assert cp.returncode == 0, cp.stderr
        assert cp.stdout.count("HTTP/1.1 200 OK") == 2, cp.stdout
        assert '"len": 5' in cp.stdout and '{"hello": "world"}' in cp.stdout, cp.stdout
    finally:
        pico.stop_app()
