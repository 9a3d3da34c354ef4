"""Fixtures for the WebSocket frame tests: python/, this directory and tests/ (tablerun.py)
importable (ws_cases.py is also run as a script by the unix MicroPython binaries). After test_conformance.py, a summary
of its cases per Autobahn section and backend."""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT / "python"), str(HERE), str(HERE.parent)]


def pytest_terminal_summary(terminalreporter):
    """After a run of test_conformance.py: cases passed per section and backend (from the test
    reports, so it works with -n too)."""
    counts = {}   # (section, backend) -> [passed, run]
    resets = {}   # backend -> connections that ended with a reset (after a failure)
    for key in ("passed", "failed", "xfailed", "xpassed", "error"):
        for rep in terminalreporter.stats.get(key, []):
            nodeid = getattr(rep, "nodeid", "")
            if "test_conformance.py::test_case[" not in nodeid or rep.when != "call" \
                    and key != "error":
                continue
            backend, cid = nodeid.split("[", 1)[1].rstrip("]").rsplit("-", 1)
            c = counts.setdefault((cid.split(".")[0], backend), [0, 0])
            c[0] += key == "passed"
            c[1] += 1
            if ("end", "reset") in getattr(rep, "user_properties", ()):
                resets[backend] = resets.get(backend, 0) + 1
    if not counts:
        return
    backends = [b for b in ("unix", "unix-pure", "cpython") if any(k[1] == b for k in counts)]
    tr = terminalreporter
    tr.section("WebSocket conformance (Autobahn sections): passed / cases")
    tr.write_line("section " + "".join("%12s" % b for b in backends))
    for sec in sorted({k[0] for k in counts}, key=int):
        tr.write_line("%-8s" % sec + "".join(
            "%12s" % ("%d/%d" % tuple(counts.get((sec, b), (0, 0)))) for b in backends))
    tot = [[sum(v[i] for k, v in counts.items() if k[1] == b) for i in (0, 1)]
           for b in backends]
    tr.write_line("%-8s" % "all" + "".join("%12s" % ("%d/%d" % tuple(t)) for t in tot))
    tr.write_line("%-8s" % "RST" + "".join("%12d" % resets.get(b, 0) for b in backends)
                  + "   (failed connections that ended with a reset, not a FIN)")
