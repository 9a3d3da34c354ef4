#!/usr/bin/env python3
"""Streaming throughput (issue 13), side by side in one run: a 3 MB FileResponse (default and
1 KB blocks), the same 3 MB as one bytes answer (the reference: what the server does without
streaming), and a 20,000-chunk generator, fetched with curl from microfastapi on the unix
`_mfa` build, the unix pure build (MFA_BACKEND=pure) and CPython. Prints the best of
`--runs` wall times per case and each FileResponse's throughput as a share of the bytes
answer's. Never asserts a speed.

    python tests/bench/stream_bench.py [--runs 5] [--json FILE]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = pathlib.Path(os.environ.get("MFA_BUILD", ROOT / "build"))
sys.path.insert(0, str(ROOT))
from tests.support import free_port, wait_listening  # noqa: E402

SIZE = 3 * 1000 * 1000
CASES = [("file", "/file"), ("file1k", "/file1k"), ("bytes", "/bytes"), ("gen20k", "/gen?n=20000")]


def impls():
    out = []
    unix = BUILD / "unix" / "micropython"
    if unix.exists():
        out.append(("mfa", [str(unix), "-X", "heapsize=32M"], {}))
        out.append(("pure", [str(unix), "-X", "heapsize=32M"], {"MFA_BACKEND": "pure"}))
    out.append(("cpython", [sys.executable], {}))
    return out


def fetch(port, path):
    t0 = time.perf_counter()
    cp = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                         "http://127.0.0.1:%d%s" % (port, path)],
                        capture_output=True, text=True, timeout=120)
    dt = time.perf_counter() - t0
    code, size = cp.stdout.split()
    if code != "200":
        raise RuntimeError("%s answered %s" % (path, code))
    return dt, int(size)


def run(runs):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(SIZE))
        for name, cmd, extra in impls():
            port = free_port()
            env = dict(os.environ, **extra)
            env.pop("MFA_BACKEND", None) if not extra else None
            env["MICROPYPATH"] = str(ROOT / "python") + ":.frozen"
            env["PYTHONPATH"] = str(ROOT / "python")
            p = subprocess.Popen(cmd + [str(HERE / "apps" / "stream_app.py"), str(port), path],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            try:
                why = wait_listening(p, port)
                if why:
                    raise RuntimeError("%s: %s %s" % (name, why, p.stderr.read().decode()[-800:]))
                for case, url in CASES:
                    best, size = None, 0
                    for _ in range(runs):
                        dt, size = fetch(port, url)
                        best = dt if best is None else min(best, dt)
                    rows.append({"impl": name, "case": case, "seconds": best, "bytes": size})
            finally:
                p.kill()
                p.wait()
    return rows


def table(rows):
    by = {(r["impl"], r["case"]): r for r in rows}
    lines = ["| server | 3 MB FileResponse | 1 KB blocks | 3 MB bytes answer | FileResponse / "
             "bytes throughput | 20,000-chunk generator |", "|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["impl"] for r in rows):
        f, f1, b, g = (by[(name, c)]["seconds"] for c, _ in CASES)
        lines.append("| %s | %.3f s (%.0f MB/s) | %.3f s | %.3f s | %.0f%% | %.3f s |" % (
            name, f, SIZE / f / 1e6, f1, b, 100 * b / f, g))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = run(a.runs)
    print(table(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
