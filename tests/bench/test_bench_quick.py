"""`tests/bench/run.py --quick` into a temporary directory: every section produces numbers, the
report and its plots are written. Never checks that anything is fast (issue 8).

Needs the four builds (./build.sh) and wrk; the SLIP section runs only as root, and the quick run
leaves the Pico W section out (the report must say why it was skipped).
"""
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = pathlib.Path(os.environ.get("MFA_BUILD", ROOT / "build"))
NEEDED = ["unix/micropython", "MFA_PICO/firmware.uf2", "MFA_PICO-pure/firmware.uf2",
          "MFA_PICO/firmware.elf", "MFA_PICO-pure/firmware.elf"]


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    missing = [p for p in NEEDED if not (BUILD / p).exists()]
    if missing:
        pytest.skip("needs the builds (./build.sh): missing %s" % ", ".join(missing))
    if not shutil.which("wrk"):
        pytest.skip("needs wrk")
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, MFA_BUILD=str(BUILD))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    cp = subprocess.run([sys.executable, str(HERE / "run.py"), "--quick", "--out", str(out)],
                        capture_output=True, text=True, timeout=900, env=env)
    assert cp.returncode == 0, cp.stdout[-4000:] + cp.stderr[-4000:]
    return out, json.loads((out / "results.json").read_text())


def test_host_wrk_has_numbers(quick_run):
    _, res = quick_run
    rows = res["host_wrk"]
    for impl in ("mfa", "pure", "microdot"):
        for app in ("hello", "items", "echo"):
            for mode in ("keep-alive", "close"):
                got = [r for r in rows if (r["impl"], r["app"], r["mode"]) == (impl, app, mode)]
                assert got, (impl, app, mode)
                for r in got:
                    assert _number(r["rps"]) and r["rps"] > 0, r
                    assert _number(r["p50_ms"]) and _number(r["p99_ms"]), r
    assert any(r["impl"] == "raw" for r in rows)  # the floor reference
    assert any(r["impl"] == "const" and r["rps"] > 0 for r in rows)  # the constant route
    for r in res["host_rss"]:
        assert _number(r["vmhwm_kb"]) and r["vmhwm_kb"] > 0, r


def test_inproc_has_numbers(quick_run):
    _, res = quick_run
    for section, metrics in (("host_inproc", ("heap_b", "us")),
                             ("emu_inproc", ("heap_b", "us", "cycles"))):
        rows = res[section]
        assert {(r["impl"], r["app"]) for r in rows} == {
            (i, a) for i in ("mfa", "pure", "microdot") for a in ("hello", "items", "echo")}
        for r in rows:
            for k in metrics:
                assert _number(r[k]) and r[k] > 0, (section, r)


def test_routes_has_numbers(quick_run):
    out, res = quick_run
    rows = res["routes"]["rows"]
    got = {(r["firmware"], r["impl"], r["router"], r["app"], r["request"]) for r in rows}
    assert got == {(fw, impl, router, app, req) for fw, impl in (
        ("unix", "mfa"), ("unix", "pure"), ("MFA_PICO", "mfa")) for router in ("tree", "linear")
        for app in ("1", "100", "shared") for req in ("templated", "static")}, got
    for r in rows:
        for k in ("heap_b", "us_each", "us_batch") + (
                ("cycles_each", "cycles_batch") if r["firmware"] != "unix" else ()):
            assert _number(r[k]) and r[k] > 0, r
    for m in res["routes"]["mem"]:
        assert m["registered_b"] > 0, m
        assert m["router"] == "linear" or m["index_b"] > 0, m
    assert "## Route lookup as the app grows (issue 18)" in (out / "report.md").read_text()


def test_parse_and_firmware_have_numbers(quick_run):
    _, res = quick_run
    assert res["emu_parse"]
    for r in res["emu_parse"]:
        assert _number(r["cycles"]) and r["cycles"] > 0, r
    builds = {r["build"]: r for r in res["firmware"]}
    for b in ("MFA_PICO", "MFA_PICO-pure"):
        assert _number(builds[b]["flash"]) and builds[b]["flash"] > 0


def test_ws_has_numbers(quick_run):
    _, res = quick_run
    ws = res["ws"]
    got = {(r["impl"], r["conns"]) for r in ws["host"]}
    assert got == {(i, c) for i in ("ceiling", "mfa", "pure", "microdot") for c in (1, 16)}, got
    for r in ws["host"]:
        assert _number(r["msgs_s"]) and r["msgs_s"] > 0, r
        assert _number(r["p50_ms"]) and r["p50_ms"] > 0 and _number(r["p99_ms"]), r
    assert {h["impl"] for h in ws["heap"]} == {"mfa", "pure", "microdot"}
    for h in ws["heap"]:
        assert _number(h["heap_per_conn_b"]) and h["heap_per_conn_b"] > 0, h
        assert _number(h["heap_per_msg_b"]) and h["heap_per_msg_b"] > 0, h
    got = {(r["impl"], r["firmware"]) for r in ws["inproc"]}
    assert got == {("mfa", "unix"), ("pure", "unix"), ("microdot", "unix"), ("mfa", "MFA_PICO"),
                   ("pure", "MFA_PICO-pure"), ("microdot", "MFA_PICO-pure")}, got
    for r in ws["inproc"]:
        assert _number(r["heap_per_msg_b"]) and r["heap_per_msg_b"] > 0, r
        assert _number(r["us"]) and r["us"] > 0, r
        if r["firmware"] != "unix":
            assert _number(r["cycles"]) and r["cycles"] > 0, r


def test_upload_has_numbers(quick_run):
    out, res = quick_run
    up = res["upload"]
    got = {(r["impl"], r["kind"]) for r in up["host"]}
    assert got == {(i, k) for i in ("ceiling", "mfa", "pure", "microdot") for k in ("raw", "mp")}
    for r in up["host"]:
        assert _number(r["mb_s"]) and r["mb_s"] > 0, r
    assert {(h["impl"], h["kind"]) for h in up["heap"]} == {
        (i, k) for i in ("mfa", "pure", "microdot") for k in ("raw", "mp")}
    for h in up["heap"]:
        assert _number(h["peak_b"]) and _number(h["allocated_b"]) and h["allocated_b"] > 0, h
    report = (out / "report.md").read_text()
    assert "## Uploads (issue 14)" in report and "### Goals (issue 14)" in report
    # (the quick run measures no chip: tests/net/test_upload_slip.py proves that path)
    assert "skipped" in up["emu"] and "quick run" in up["emu"]["skipped"], up["emu"]


def test_slip_measured_or_skipped_with_reason(quick_run):
    out, res = quick_run
    slip = res["slip"]
    report = (out / "report.md").read_text()
    if os.geteuid() != 0:
        assert "skipped" in slip and "needs root" in slip["skipped"]
        assert "SLIP measurements skipped" in report
        return
    assert slip.get("rows"), slip
    for r in slip["rows"]:
        assert _number(r["rps_sim"]) and r["rps_sim"] > 0, r
    for h in slip["heap"]:
        assert _number(h["free_idle"]) and _number(h["free_8conns"]), h


def test_profile_has_every_phase(quick_run):
    out, res = quick_run
    rows = res["profile"]["rows"]
    for app in ("hello", "items", "echo"):
        got = {r["phase"]: r["cycles"] for r in rows if r["app"] == app}
        for phase in ("parse", "raw", "route", "request", "handler", "dumps", "respond",
                      "whole", "glue"):
            assert _number(got.get(phase)), (app, phase, got)
        assert got["whole"] > 0 and got["handler"] > 0, (app, got)
    assert "### Where the cycles go" in (out / "report.md").read_text()


def test_picow_skipped_with_reason(quick_run):
    out, res = quick_run
    pw = res["picow"]
    report = (out / "report.md").read_text()
    assert "### The Pico W over emulated WiFi" in report
    # (the quick run leaves the Pico W out, saying why: ./build.sh bench measures it)
    why = os.environ.get("MFA_PICO_W_SKIP") or ("needs root" if os.geteuid() != 0 else
                                                "not in the quick run")
    assert "Pico W measurements skipped" in pw["skipped"], pw
    assert why in pw["skipped"], pw
    assert "Pico W measurements skipped" in report


def test_report_and_plots_written(quick_run):
    out, res = quick_run
    assert not res.get("errors"), res.get("errors")
    report = (out / "report.md").read_text()
    for heading in ("## Goals (issue 8)", "### Throughput, requests/s", "### Latency",
                    "### Peak RSS", "### In-process cycles and heap bytes per request",
                    "## WebSocket echo (issue 13)", "### Goals (issue 13)",
                    "### Messages per second", "cycles per message, RP2040",
                    "## The floor", "_mfa/Microdot", "_mfa/pure"):
        assert heading in report, heading
    assert "no data" not in report
    for png in ("host_rps.png", "host_p99.png", "host_rss.png", "rp2040_inproc.png"):
        assert (out / png).stat().st_size > 1000, png
        assert "(%s)" % png in report
