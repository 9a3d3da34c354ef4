"""Where the cycles of one keep-alive request go, on the emulated RP2040 (issue 18).

    python tests/bench/profile_emu.py [--n N] [--results build/bench/results.json]

Boots MFA_PICO (the `_mfa` firmware) in rp2040py, writes the benchmark app and the phase
driver (tests/bench/apps/phases.py) to its flash and runs, for each benchmark app (hello,
items, echo), each phase of the request in turn: the same calls app.handle() makes, each
timed alone on the chip's simulated clock (cycles = simulated us x 125). No timer is added to
the product. With a results.json whose `slip` section has the same app over SLIP (keep-alive),
the rest of the request (server poll and asyncio wake-up, C framing, lwIP, SLIP driver, and
the chip's idle time while the host's client sends the next request: slip_client.py's rate is
a floor) is that whole request's device time minus the in-process "whole". tests/bench/run.py runs this as its
`profile` section, after `slip`.
"""
import argparse
import json
import pathlib
import re
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE))

PHASES = ["parse", "raw", "route", "request", "handler", "dumps", "respond"]
PHASE_LABEL = {
    "parse": "HTTP parse (_mfa.parse_request)",
    "raw": "server request object",
    "route": "router find + param conversion",
    "request": "app Request",
    "handler": "handler call (incl. req.json())",
    "dumps": "json.dumps of the result",
    "respond": "app.send minus dumps (into a sink)",
    "glue": "app.handle's own glue (whole - sum)",
    "server": "server, asyncio, lwIP, link, idle (SLIP - whole)",
}
CYCLES_PER_US = 125


def measure(uf2, n, tmp):
    """[{app, phase, cycles}] measured in-process on the emulated chip booted from `uf2`."""
    import run
    from tests.emu.emulator import Emulator
    files = run.device_files(tmp, False)
    data, ext = run._compile(str(run.APPS_DIR / "phases.py"), tmp)
    files["/bench/phases" + ext] = data
    reqs = [(app, run.raw_request(app)) for app in run.APPS]
    with Emulator(uf2) as emu:
        run.put_files(emu, files)
        emu.soft_reset()
        emu.run("import sys\nsys.path.append('/bench')")
        out = emu.run("import phases\nphases.main(%d, %r)\n" % (n, reqs), timeout=1800)
    rows = []
    for m in re.finditer(r"PHASE\|([^|]+)\|([^|]+)\|(\d+)", out):
        rows.append({"app": m.group(1), "phase": m.group(2),
                     "cycles": int(round(int(m.group(3)) * CYCLES_PER_US / 1000.0))})
    if "PHASES-DONE" not in out or not rows:
        raise RuntimeError("profile: %s" % out[-2000:])
    return rows


def with_slip(rows, slip_rows):
    """rows plus, per app, the glue (whole - sum of the phases) and, when the SLIP section
    measured the app on _mfa with keep-alive, the server's remainder and the SLIP total."""
    out = [r for r in rows if r["phase"] != "glue"]
    for app in sorted({r["app"] for r in rows}):
        mine = {r["phase"]: r["cycles"] for r in rows if r["app"] == app}
        whole = mine.get("whole", 0)
        out.append({"app": app, "phase": "glue",
                    "cycles": whole - sum(mine.get(p, 0) for p in PHASES)})
        for s in slip_rows:
            if s.get("impl") == "mfa" and s.get("app") == app and s.get("mode") == "keep-alive" \
                    and s.get("rps_sim"):
                total = int(round(CYCLES_PER_US * 1e6 / s["rps_sim"]))
                out.append({"app": app, "phase": "server", "cycles": total - whole})
                out.append({"app": app, "phase": "slip_total", "cycles": total})
    return out


def table(rows):
    """Text lines: per app, cycles and share of each phase (of the SLIP total when there is
    one, else of the in-process whole)."""
    lines = []
    for app in [a for a in ("hello", "items", "echo") if any(r["app"] == a for r in rows)]:
        mine = {r["phase"]: r["cycles"] for r in rows if r["app"] == app}
        total = mine.get("slip_total") or mine.get("whole") or 1
        lines.append("%s: %s cycles per request (%s)" % (
            app, "{:,}".format(total), "over SLIP, keep-alive" if "slip_total" in mine
            else "in-process whole; no SLIP figure"))
        for p in PHASES + ["glue", "server"]:
            if p in mine:
                lines.append("  %-52s %10s  %5.1f%%" % (PHASE_LABEL[p], "{:,}".format(mine[p]),
                                                        100.0 * mine[p] / total))
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10, help="calls per phase")
    ap.add_argument("--results", help="a results.json of run.py with a slip section")
    a = ap.parse_args(argv)
    import run
    slip = []
    if a.results:
        slip = (json.loads(open(a.results).read()).get("slip") or {}).get("rows") or []
    t0 = time.time()
    rows = with_slip(measure(run.BUILD / "MFA_PICO" / "firmware.uf2", a.n,
                             tempfile.mkdtemp(prefix="mfa-prof-")), slip)
    for line in table(rows):
        print(line)
    print("(%.0f s wall)" % (time.time() - t0))


if __name__ == "__main__":
    main()
