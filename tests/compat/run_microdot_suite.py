"""Microdot 2.7.0's own test suite against microfastapi.compat.microdot.

The pinned source distribution (it carries tests/) is downloaded once into .cache/dl,
checked against its SHA-256 and unpacked into .cache/src/microdot-2.7.0; its `microdot`
imports resolve to tests/compat/shim/microdot (a package that re-exports the compat layer).
md_driver.py runs the files; this prints the pass count per file.

    python tests/compat/run_microdot_suite.py [cpython|build/unix/micropython ...]
"""

import os
import pathlib
import subprocess
import sys

import pinned_sdist
import templates_support

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYDIR = ROOT / "python"

SDIST = "microdot-2.7.0.tar.gz"
SDIST_SHA256 = "e11f39f0f5564bb5db69f728902740ed592d632ae7a03e24ca3a88cd59ad2f53"

# The test files, and what each needs that is not there. Files of extensions the compat
# layer does not provide (and why) are listed in EXCLUDED_FILES; they are not run.
FILES = ["test_microdot", "test_multidict", "test_request", "test_response", "test_urlencode",
         "test_url_pattern", "test_multipart", "test_websocket", "test_sse", "test_cors",
         "test_session", "test_auth", "test_csrf", "test_login", "test_utemplate"]
# CPython only: the ASGI and WSGI adapters' files (Microdot's suite skips them on MicroPython,
# and they import unittest.mock, which MicroPython has not), and Jinja's (its class is
# skipIf micropython, so it would count nothing there; minijinja, which microdot.jinja uses on
# MicroPython, is checked against Jinja2 by tests/compat/test_minijinja.py).
CPYTHON_FILES = ["test_asgi", "test_wsgi", "test_jinja"]
EXCLUDED_FILES = {
    "test_end2end": "starts Microdot's own asyncio server in-process and talks HTTP/1.0 to "
                    "it; our servers are covered by tests/api",
}
# Tests of Microdot's private internals, not counted (they run, and are reported).
EXCLUDED_TESTS = {
    ("test_websocket", "TestWebSocket.test_process_websocket_frame"):
        "calls WebSocket._process_websocket_frame, Microdot's private frame handler (our "
        "frames are read by microfastapi.websocket)",
}


def sdist_path():
    """The verified sdist in the download cache (downloaded when missing)."""
    def fetch(dl, path):
        # (pip: the registry's own client, with the index configuration of this machine)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                        ":all:", "microdot==2.7.0", "-d", str(dl)], check=True,
                       stdout=subprocess.DEVNULL, timeout=300)
    return pinned_sdist.sdist_path(SDIST, SDIST_SHA256, fetch)


def unpacked():
    """The unpacked sdist (its tests/ package made importable file by file: the original
    tests/__init__.py imports every file at once, so one missing extension would stop all)."""
    def fix(dest):
        (dest / "tests" / "__init__.py").write_text("")
    return pinned_sdist.unpacked(sdist_path, SDIST_SHA256, "microdot-2.7.0", fix)


def run(interp, files=None, timeout=60):
    """{module: [(test, status, why)]} of one interpreter ('cpython' or a micropython path)."""
    src = unpacked()
    files = files or (FILES + CPYTHON_FILES if interp == "cpython" else FILES)
    driver = str(HERE / "md_driver.py")
    # (utemplate: the pinned engine that microdot.utemplate wraps, as a user copies it)
    path = [str(HERE / "shim"), str(PYDIR), str(src), str(templates_support.utemplate_dir())]
    env = dict(os.environ)
    if interp == "cpython":
        cmd = [sys.executable, driver] + files
        env["PYTHONPATH"] = os.pathsep.join(path)
    else:
        cmd = [str(pathlib.Path(interp).resolve()), driver] + files
        env["MICROPYPATH"] = ":".join(path + [str(HERE / "upy"), ".frozen"])
    p = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True, timeout=timeout)
    results = {f: [] for f in files}
    for line in p.stdout.splitlines():
        if line.startswith("MDTEST "):
            parts = line.split(" ", 4)
            mod, name, status, why = parts[1], parts[2], parts[3], (
                parts[4] if len(parts) > 4 else "")
            if name == "<import>":
                # a file that cannot be imported: each of its tests counts as failed
                for t in test_names(src / "tests" / (mod + ".py")):
                    results[mod].append((t, status, why))
                continue
            results.setdefault(mod, []).append((name, status, why))
    if p.returncode != 0:
        results["<driver>"] = [("exit", "error", "rc %d: %s" % (p.returncode,
                                                             p.stderr.strip()[-300:]))]
    return results


def test_names(path):
    """Class.method of every test in a file, read from its text (for a file that cannot
    be imported)."""
    out = []
    cls = None
    for line in path.read_text().splitlines():
        if line.startswith("class "):
            cls = line[6:].split("(")[0].split(":")[0].strip()
        elif line.startswith("    def test"):
            out.append("%s.%s" % (cls, line.split("def ")[1].split("(")[0]))
    return out


def counts(results):
    """(passed, total) over all files; excluded tests and the suite's own skips (its
    skipIf for MicroPython) not counted."""
    ok = total = 0
    for mod, rows in results.items():
        for name, status, why in rows:
            if (mod, name) in EXCLUDED_TESTS or status == "skip":
                continue
            total += 1
            ok += status == "ok"
    return ok, total


def report(label, results, verbose=True):
    lines = ["Microdot 2.7.0 test suite on %s:" % label]
    for mod, rows in results.items():
        n = sum(1 for r in rows if r[1] == "ok")
        lines.append("  %-18s %3d/%-3d passed" % (mod, n, len(rows)))
        if verbose:
            for name, status, why in rows:
                if status != "ok":
                    lines.append("      %s %s: %s" % (status.upper(), name, why))
    ok, total = counts(results)
    lines.append("  %-18s %3d/%-3d passed (%.0f%%), not counting skips and the excluded:" % (
        "total", ok, total, 100.0 * ok / max(total, 1)))
    for (mod, name), why in sorted(EXCLUDED_TESTS.items()):
        lines.append("  (excluded: %s %s: %s)" % (mod, name, why))
    for f, why in sorted(EXCLUDED_FILES.items()):
        lines.append("  (not run: %s: %s)" % (f, why))
    return "\n".join(lines)


if __name__ == "__main__":
    targets = sys.argv[1:] or ["cpython"]
    for t in targets:
        print(report(t, run(t)))
