#!/usr/bin/env python3
"""The soak (tests/bench/soak.py) against firmware in the emulator: the hostile test app runs on
the emulated chip (frozen microfastapi, _mfa.Server on lwIP) and soak.py runs inside the private
network namespace. Root only (network namespaces, TUN/TAP).

    sudo python3 tests/bench/soak_emu.py -n 20000 [--firmware build/MFA_PICO/firmware.uf2]
    sudo python3 tests/bench/soak_emu.py -n 20000 --picow --workers 3 [--firmware build/MFA_PICO_W/firmware.uf2]

MFA_PICO is reached over its SLIP link (tests/net/slip_bridge.py); with --picow the Pico W
image joins emulated WiFi first (tests/net/picow_net.py).
    sudo python3 tests/bench/soak_emu.py -n 2000 --free-kb 40 --big 0.2   # memory pressure

--free-kb N: the app first fills the heap with its own data (bytearrays kept in a list) until
about N KB stay free once the server runs, as an app with its own data on a Pico W would.
--big P: soak.py's mix of large bodies (up to 16 KB, answered 200 or 503).
--tap FILE (--picow): log every TCP frame through the WiFi bridge to FILE (JSON) and print the
segments that were sent more than once, by direction: a lost frame shows up as a retransmit.
--mix attack: soak.py's attack mix (100 slowloris + 100 silent connections hold the board's
pool for the whole run; --attack-slow / --attack-silent change the numbers). The attackers'
times are stretched by the chip's slowdown, measured before the run (soak.py --time-scale), so
the chip meets the attack rate a board would.
"""
import argparse
import collections
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from tests.net.attack_cases import slowdown  # noqa: E402
from tests.net.picow_net import PicoW  # noqa: E402
from tests.net.slip_bridge import SlipPico  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", "--requests", type=int, default=20000)
    ap.add_argument("--picow", action="store_true", help="the Pico W over emulated WiFi")
    ap.add_argument("--firmware", help="default: build/MFA_PICO_W/ with --picow, else build/MFA_PICO/")
    ap.add_argument("--json", default="/tmp/soak_emu.json")
    ap.add_argument("--timeout", type=float, default=6 * 3600)
    ap.add_argument("--free-kb", type=int, default=0, help="leave about this much heap free")
    ap.add_argument("--big", type=float, default=0.0, help="soak.py --big")
    # More than one client keeps the chip busy while another client waits on the emulated
    # link (the chip process runs at about half a core with one).
    ap.add_argument("--workers", type=int, default=1, help="soak.py --workers")
    ap.add_argument("--mix", choices=("default", "attack"), default="default", help="soak.py --mix")
    ap.add_argument("--attack-slow", type=int, default=100)
    ap.add_argument("--attack-silent", type=int, default=100)
    ap.add_argument("--tap", metavar="FILE", help="(--picow) log the TCP frames to FILE")
    args = ap.parse_args()
    if args.tap and not args.picow:
        ap.error("--tap needs --picow")
    board = "MFA_PICO_W" if args.picow else "MFA_PICO"
    firmware = args.firmware or str(ROOT / "build" / board / "firmware.uf2")
    src = (ROOT / "tests" / "hostile" / "hostile_app.py").read_text()
    src = src.replace('HOST = "127.0.0.1"', 'HOST = "0.0.0.0"')
    if args.free_kb:
        # Fill the heap right before the server starts; the pool (allocated by app.start)
        # is measured first, with a throwaway server.
        fill = ("    gc.collect()\n    _f0 = gc.mem_free()\n"
                "    app.start(host=HOST, port=port, **limits)\n    gc.collect()\n"
                "    _pool = _f0 - gc.mem_free()\n    app.shutdown()\n    gc.collect()\n"
                "    while gc.mem_free() > %d + _pool + 2048:\n"
                "        _BALLAST.append(bytearray(1024))\n" % (args.free_kb * 1024))
        marker = "    app.start(host=HOST, port=port, **limits)\n"
        assert marker in src
        src = src.replace(marker, fill + marker, 1)
        src = "_BALLAST = []\n" + src
    pre = ("import sys\nsys.argv[:] = ['app', '80', 'max_conns=8', 'header_timeout_ms=1000', "
           "'body_timeout_ms=1000', 'idle_timeout_ms=2000']\n")
    with (PicoW if args.picow else SlipPico)(firmware) as pico:
        if args.picow:
            print("joined WiFi in %.0f s wall" % pico.connect_wall_s, flush=True)
        out = pico.start_app(pre + src, ready="listening", timeout=300)  # (slow when loaded)
        print(out.strip().splitlines()[-1] if out.strip() else "app started")
        if args.tap:
            pico.emu.tap(True)
        scale = []
        if args.mix == "attack":
            k = round(slowdown(pico), 1)
            print("chip slowdown: %.1fx real time (the attackers' times are scaled by it)" % k)
            scale = ["--time-scale", str(k)]
        t0 = time.time()
        r = pico.ns.run([sys.executable, str(ROOT / "tests" / "bench" / "soak.py"), "--url",
                         pico.url(), "-n", str(args.requests), "--workers", str(args.workers),
                         # The chip's 1 s header timeout is simulated time: at the emulator's
                         # pace a slowloris client waits far longer in wall time for its 408.
                         "--client-timeout", "180", "--json", args.json, "--big", str(args.big),
                         "--mix", args.mix, "--attack-slow", str(args.attack_slow),
                         "--attack-silent", str(args.attack_silent)] + scale,
                        capture_output=False, timeout=args.timeout)
        print("soak exit %d after %.0f s wall" % (r.returncode, time.time() - t0))
        if args.picow:
            print("bridge:", pico.wifi()["stats"])
        if args.tap:
            frames = pico.emu.tap(False)
            pathlib.Path(args.tap).write_text(json.dumps(frames))
            print("frames: %d, resent: %s" % (len(frames), resent(frames)))
        return r.returncode


def resent(frames):
    """{"to chip": n, "from chip": n}: data segments seen again with the same sequence number
    on the same connection (a retransmit: the first copy, or its ACK, was lost or late)."""
    seen = collections.Counter((e[1], e[2], e[6]) for e in frames if e[5])
    out = {"to chip": 0, "from chip": 0}
    for (to_chip, _, _), n in seen.items():
        out["to chip" if to_chip else "from chip"] += n - 1
    return out


if __name__ == "__main__":
    sys.exit(main())
