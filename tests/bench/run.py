#!/usr/bin/env python3
"""The benchmark report (issue 8): everything side by side, in one run.

    ./build.sh bench [--quick]          # builds, then runs this with MFA_BUILD set
    python tests/bench/run.py [--quick] [--out DIR]
        [--only host,inproc,emu,routes,parse,ws,upload,slip,profile,picow]

Writes DIR (default build/bench/): results.json (raw numbers, saved after every section),
report.md and *.png (tests/bench/report.py; `python tests/bench/report.py DIR/results.json`
rebuilds them from the JSON).

Sections:
  host    wrk against the three apps (tests/bench/apps) on one unix binary (build/unix/
          micropython): microfastapi on _mfa, microfastapi forced pure (MFA_BACKEND=pure),
          Microdot 2.7 (from the venv's site-packages via MICROPYPATH); 1/16/64 connections,
          keep-alive and Connection: close; req/s, p50/p99 (wrk --latency), peak RSS (VmHWM).
          Plus the floor reference: the bare _mfa.Server loop (tests/net/mfa_server_app.py).
  inproc  the same apps in-process on unix: heap bytes and us per request.
  emu     the same apps in-process on the emulated RP2040 (rp2040py): cycles (simulated
          ticks_us x 125) and heap bytes per request; MFA_PICO (_mfa), MFA_PICO-pure (pure and
          Microdot, whose package is compiled with mpy-cross and written to the chip's flash
          filesystem over the raw REPL).
  routes  issue 18: the last of 100 templated routes against the same request in a 1-route
          app (tests/bench/apps/routes_inproc.py), with the prefix tree (Router) and the scan it
          replaced (LinearRouter), in-process on unix (_mfa and pure: us) and on the emulated
          RP2040 (MFA_PICO: cycles); heap per request, heap the routes and the tree hold.
  parse   tests/bench/parse_bench.py (parser alone, issue 3) on both firmware images.
  ws      tests/bench/ws_bench.py (issue 13): WebSocket echo (tests/bench/apps/ws_*_app.py) on
          the unix binary, _mfa, pure and Microdot 2.7's microdot.websocket: messages/s and
          p50/p99 with 1 and 16 clients, heap per open WebSocket and per echoed message; then
          in-process on unix (us) and on the emulated RP2040 (cycles and heap per message).
  upload  tests/bench/upload_bench.py (issue 14): a 1 MiB upload (raw streamed body, and
          multipart/form-data) saved to a file by _mfa, pure and Microdot 2.7 on the unix binary:
          MB/s, peak heap and heap allocated per upload, each file checked by SHA-256; root
          only, a 256 KB multipart upload to the emulated chip's flash over SLIP (quick: 64 KB,
          _mfa only): simulated ms, cycles per KB, heap, and the link's own time beside them.
  slip    root only: each server on the emulated chip, real HTTP over the SLIP link from a
          network namespace (tests/net): requests per simulated second, free heap idle and with
          8 open keep-alive connections.
  profile cycles per phase of one request through the framework on the emulated RP2040
          (tests/bench/profile_emu.py, MFA_PICO): parse, request objects, route, handler,
          JSON, respond; with the slip section's figures, the server's and lwIP's remainder.
  picow   root only, with the Pico W images: the same over emulated WiFi on MFA_PICO_W and
          MFA_PICO_W-pure (tests/net/picow_net.py), plus the time to boot, to join and from
          the app's start to its first answer (together: power-on to first answer). Not in
          the quick run.
Firmware sizes (arm-none-eabi-size) and the machine are recorded in every run.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = pathlib.Path(os.environ.get("MFA_BUILD", ROOT / "build"))
APPS_DIR = HERE / "apps"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import parse_bench  # noqa: E402
import server_bench  # noqa: E402
import upload_bench  # noqa: E402
import ws_bench  # noqa: E402
from tests.support import proc_status_kb, wait_listening  # noqa: E402

# ---- what is measured ---------------------------------------------------------------------

IMPLS = ["mfa", "pure", "microdot"]
IMPL_LABEL = {"mfa": "microfastapi (_mfa)", "pure": "microfastapi (pure)",
              "microdot": "Microdot 2.7", "raw": "bare _mfa.Server loop (floor ref.)",
              "const": "constant route (app.add_constant_route, answered in C)"}
APPS = ["hello", "items", "echo"]
APP_LABEL = {"hello": "tiny JSON GET", "items": "path params + query",
             "echo": "2 KB JSON POST echo"}
APP_PATH = {"hello": "/hello", "items": "/items/42?q=hello", "echo": "/echo"}
CONST_PATH = "/hello-const"  # mfa_app.py's constant route: hello's answer, answered in C
# firmware each implementation runs on, on the emulated RP2040
FIRMWARE = {"mfa": "MFA_PICO", "pure": "MFA_PICO-pure", "microdot": "MFA_PICO-pure"}


def body2k():
    """The 2 KB JSON document the echo app gets (the same everywhere)."""
    items = []
    i = 0
    while True:
        items.append({"id": i, "name": "sensor-%02d" % i, "value": i * 1.5, "on": i % 2 == 0})
        doc = json.dumps({"device": "pico-w", "items": items})
        if len(doc) > 2000:
            return doc.encode()
        i += 1


def raw_request(app):
    """The request bytes used in-process and over SLIP (headers like curl's)."""
    head = "%s %s HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n" % (
        "POST" if app == "echo" else "GET", APP_PATH[app])
    if app == "echo":
        body = body2k()
        return (head + "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % len(body)).encode() + body
    return (head + "\r\n").encode()


# ---- helpers ------------------------------------------------------------------------------

def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, flush=True)


def sh(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    try:
        return subprocess.run(args, **kw)
    except (OSError, subprocess.SubprocessError) as e:
        return subprocess.CompletedProcess(args, 1, "", str(e))


def microdot_dir():
    return server_bench.microdot_path()


def mpy_cross():
    cache = pathlib.Path(os.environ.get("MFA_CACHE", ROOT / ".cache"))
    p = cache / "obj" / "mpy-cross" / "mpy-cross"
    return str(p) if p.exists() else None


def meta():
    m = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
         "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    m["cpu"] = cpu
    m["cores"] = os.cpu_count()
    osname = platform.system()
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    m["os"] = "%s (kernel %s)" % (osname, platform.release())
    r = sh([str(BUILD / "unix" / "micropython"), "-c",
            "import sys; v = sys.implementation.version; "
            "print('MicroPython %d.%d.%d, %s' % (v[0], v[1], v[2], sys.implementation._machine))"])
    m["micropython"] = r.stdout.strip() or "?"
    r = sh(["wrk", "-v"])
    m["wrk"] = ((r.stdout + r.stderr).strip().splitlines() or ["not installed"])[0]
    try:
        from importlib.metadata import version
        m["microdot"] = version("microdot")
        m["rp2040py"] = version("rp2040py")
        m["matplotlib"] = version("matplotlib")
    except Exception as e:  # noqa: BLE001
        m["microdot"] = "? (%s)" % e
    m["python"] = platform.python_version()
    r = sh(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    m["commit"] = r.stdout.strip()
    m["root"] = os.geteuid() == 0
    return m


def firmware_sizes():
    rows = []
    for b in ("MFA_PICO_W", "MFA_PICO_W-pure", "MFA_PICO", "MFA_PICO-pure", "unix", "unix-pure"):
        elf = BUILD / b / ("firmware.elf" if b.startswith("MFA") else "micropython")
        if not elf.exists():
            continue
        tool = "arm-none-eabi-size" if b.startswith("MFA") else "size"
        r = sh([tool, str(elf)])
        lines = r.stdout.strip().splitlines()
        if r.returncode or len(lines) < 2:
            continue
        text, data, bss = (int(x) for x in lines[1].split()[:3])
        rows.append({"build": b, "text": text, "data": data, "bss": bss, "flash": text + data})
    return rows


# ---- host: wrk against servers on the unix binary -----------------------------------------

def start_server(impl, port, max_conns):
    binary = str(BUILD / "unix" / "micropython")
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    path = [".frozen", str(APPS_DIR)]
    if impl == "const":
        impl = "mfa"  # the same app; wrk asks for its constant route
    if impl == "raw":
        args = [binary, str(ROOT / "tests/net/mfa_server_app.py"), "port=%d" % port,
                "max_conns=%d" % max_conns]
    else:
        if impl == "microdot":
            path.append(microdot_dir())
        if impl == "pure":
            env["MFA_BACKEND"] = "pure"
        args = [binary, str(APPS_DIR / "serve.py"), "microdot" if impl == "microdot" else "mfa",
                str(port), str(max_conns)]
    env["MICROPYPATH"] = ":".join(path)
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    why = wait_listening(p, port)
    if why:
        raise RuntimeError("%s server %s: %s" % (impl, why, p.stderr.read().decode()[-2000:]))
    return p


def check_answer(port, app, path=None):
    """One request by hand before wrk: the app answers 200 with the expected JSON."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    path = path or (APP_PATH[app] if app in APP_PATH else "/")
    if app == "echo":
        c.request("POST", path, body2k(), {"Content-Type": "application/json"})
    else:
        c.request("GET", path)
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError("%s answered %d %r" % (path, r.status, data[:200]))
    if app == "echo" and json.loads(data) != json.loads(body2k()):
        raise RuntimeError("echo answered a different document")
    return data


def run_host(cfg, tmp, res):
    lua = os.path.join(tmp, "post2k.lua")
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                "wrk.body = [[%s]]\n" % body2k().decode())
    wrk_rows, rss_rows = [], []
    jobs = [(impl, app) for impl in IMPLS for app in APPS] + [("raw", "hello"), ("const", "hello")]
    for impl, app in jobs:
        if impl == "microdot" and not microdot_dir():
            continue
        port = server_bench.free_port()
        p = start_server(impl, port, cfg["max_conns"])
        try:
            path = "/" if impl == "raw" else CONST_PATH if impl == "const" else APP_PATH[app]
            check_answer(port, app if impl != "raw" else "raw",
                         CONST_PATH if impl == "const" else None)
            for close in (False, True):
                for conns in cfg["conns"]:
                    rps, p50, p99, errs = server_bench.wrk(
                        port, conns, close, cfg["seconds"], path=path,
                        script=lua if app == "echo" else None)
                    row = {"impl": impl, "app": app, "mode": "close" if close else "keep-alive",
                           "conns": conns, "rps": rps, "p50_ms": p50, "p99_ms": p99,
                           "errors": errs}
                    wrk_rows.append(row)
                    log("host %-8s %-5s %-10s c=%-2d %9.0f req/s p50 %.3f p99 %.3f ms %s" % (
                        impl, app, row["mode"], conns, rps, p50, p99, errs))
            rss_rows.append({"impl": impl, "app": app, "vmhwm_kb": proc_status_kb(p.pid, "VmHWM")})
        finally:
            p.kill()
            p.wait()
    res["host_wrk"] = wrk_rows
    res["host_rss"] = rss_rows


# ---- in-process: unix and the emulated RP2040 ---------------------------------------------

def inproc_script(impl, n, warm):
    reqs = [(app, raw_request(app)) for app in APPS]
    return "import inproc\ninproc.main(%r, %d, %r, %d)\n" % (impl, n, reqs, warm)


def parse_results(out):
    rows = []
    for m in re.finditer(r"RESULT\|([^|]+)\|([^|]+)\|(\d+)\|(\d+)", out):
        rows.append({"impl": m.group(1), "app": m.group(2), "heap_b": int(m.group(3)),
                     "us": int(m.group(4)) / 1000.0})
    return rows


def run_inproc_unix(cfg, tmp, res):
    rows = []
    for impl in IMPLS:
        if impl == "microdot" and not microdot_dir():
            continue
        script = os.path.join(tmp, "inproc_%s.py" % impl)
        with open(script, "w") as f:
            f.write(inproc_script(impl, cfg["inproc_n"], 10))
        env = dict(os.environ)
        env.pop("MFA_BACKEND", None)
        path = [".frozen", str(APPS_DIR), str(HERE)]
        if impl == "microdot":
            path.append(microdot_dir())
        if impl == "pure":
            env["MFA_BACKEND"] = "pure"
        env["MICROPYPATH"] = ":".join(path)
        r = sh([str(BUILD / "unix" / "micropython"), "-X", "heapsize=16M", script], env=env,
               timeout=300)
        got = parse_results(r.stdout)
        if not got:
            raise RuntimeError("inproc %s: %s%s" % (impl, r.stdout[-2000:], r.stderr[-2000:]))
        rows += got
        for g in got:
            log("unix in-process %-8s %-5s %6d B %8.1f us" % (impl, g["app"], g["heap_b"], g["us"]))
    res["host_inproc"] = rows


def _compile(src, tmp):
    """Source file -> (bytes to upload, extension): .mpy via mpy-cross when available."""
    mc = mpy_cross()
    if mc:
        out = os.path.join(tmp, "mc_" + os.path.basename(src) + ".mpy")
        r = sh([mc, "-o", out, src])
        if r.returncode == 0:
            return open(out, "rb").read(), ".mpy"
    return open(src, "rb").read(), ".py"


def device_files(tmp, with_microdot):
    """{device path: bytes}: the apps, the in-process driver and (optionally) Microdot."""
    files = {}
    for src in (APPS_DIR / "mfa_app.py", APPS_DIR / "inproc.py", HERE / "api_mem_bench.py"):
        data, ext = _compile(str(src), tmp)
        files["/bench/" + src.stem + ext] = data
    if with_microdot:
        data, ext = _compile(str(APPS_DIR / "microdot_app.py"), tmp)
        files["/bench/microdot_app" + ext] = data
        mdir = os.path.join(microdot_dir(), "microdot")
        for name in ("__init__.py", "microdot.py", "helpers.py"):
            data, ext = _compile(os.path.join(mdir, name), tmp)
            files["/bench/microdot/" + name[:-3] + ext] = data
    return files


def put_files(emu, files):
    """Write files to the emulated chip's flash filesystem over the raw REPL."""
    import binascii
    emu.run("import os\nfor d in ('/bench', '/bench/microdot'):\n"
            "    try:\n        os.mkdir(d)\n    except OSError:\n        pass\n")
    for path, data in files.items():
        emu.run("_f = open(%r, 'wb')" % path)
        for i in range(0, len(data), 4096):
            b64 = binascii.b2a_base64(data[i:i + 4096], newline=False).decode()
            emu.run("import binascii\n_f.write(binascii.a2b_base64(%r))" % b64, timeout=120)
        emu.run("_f.close()\nimport os\nprint(os.stat(%r)[6])" % path)
    emu.run("import sys\nif '/bench' not in sys.path:\n    sys.path.append('/bench')\n")


def run_emu(cfg, tmp, res):
    from tests.emu.emulator import Emulator
    rows = []
    for fw in ("MFA_PICO", "MFA_PICO-pure"):
        uf2 = BUILD / fw / "firmware.uf2"
        impls = [i for i in IMPLS if FIRMWARE[i] == fw]
        if "microdot" in impls and not microdot_dir():
            impls.remove("microdot")
        t0 = time.time()
        with Emulator(uf2) as emu:
            put_files(emu, device_files(tmp, "microdot" in impls))
            log("emu %s booted, files written in %.1f s" % (fw, time.time() - t0))
            for impl in impls:
                emu.soft_reset()
                emu.run("import sys\nsys.path.append('/bench')")
                s0 = emu.sim_ns
                w0 = time.time()
                out = emu.run(inproc_script(impl, cfg["emu_n"], cfg["emu_warm"]), timeout=1200)
                got = parse_results(out)
                if not got:
                    raise RuntimeError("emu %s %s: %s" % (fw, impl, out[-2000:]))
                for g in got:
                    g["firmware"] = fw
                    g["cycles"] = int(round(g["us"] * 125))
                    log("rp2040 %-13s %-8s %-5s %8d cycles %6d B" % (
                        fw, impl, g["app"], g["cycles"], g["heap_b"]))
                log("  (%.1f s wall, %.0f ms simulated)" % (time.time() - w0,
                                                           (emu.sim_ns - s0) / 1e6))
                rows += got
    res["emu_inproc"] = rows


def parse_routes(out, fw):
    rows, mem = [], []
    for m in re.finditer(r"ROUTES\|([^|]+)\|([^|]+)\|([^|]+)\|([^|]+)\|(\d+)\|(\d+)\|(\d+)", out):
        r = {"firmware": fw, "impl": m.group(1), "router": m.group(2), "app": m.group(3),
             "request": m.group(4), "heap_b": int(m.group(5)),
             "us_each": int(m.group(6)) / 1000.0, "us_batch": int(m.group(7)) / 1000.0}
        if fw != "unix":
            r["cycles_each"] = int(round(r["us_each"] * 125))
            r["cycles_batch"] = int(round(r["us_batch"] * 125))
        rows.append(r)
    for m in re.finditer(r"ROUTEMEM\|([^|]+)\|([^|]+)\|([^|]+)\|(\d+)\|(-?\d+)\|(-?\d+)", out):
        mem.append({"firmware": fw, "impl": m.group(1), "router": m.group(2),
                    "app": m.group(3), "routes": int(m.group(4)),
                    "registered_b": int(m.group(5)), "index_b": int(m.group(6))})
    if "ROUTES-DONE" not in out:
        raise RuntimeError("routes %s: %s" % (fw, out[-2000:]))
    return rows, mem


def _log_routes(rows):
    for g in rows:
        unit = ("%8d cycles" % g["cycles_each"]) if "cycles_each" in g else (
            "%8.1f us" % g["us_each"])
        unit2 = ("%8d" % g["cycles_batch"]) if "cycles_batch" in g else ("%8.1f" % g["us_batch"])
        log("routes %-8s %-4s %-6s %-6s %-9s %s each, %s batch, %6d B" % (
            g["firmware"], g["impl"], g["router"], g["app"], g["request"], unit, unit2,
            g["heap_b"]))


def run_routes(cfg, tmp, res):
    """tests/bench/apps/routes_inproc.py on unix (_mfa and pure) and on MFA_PICO."""
    rows, mem = [], []
    n, warm, repeat = cfg["routes_n"], 10, 5
    for impl in ("mfa", "pure"):
        env = dict(os.environ)
        env.pop("MFA_BACKEND", None)
        if impl == "pure":
            env["MFA_BACKEND"] = "pure"
        env["MICROPYPATH"] = ":".join([".frozen", str(APPS_DIR), str(HERE)])
        r = sh([str(BUILD / "unix" / "micropython"), "-X", "heapsize=16M", "-c",
                "import routes_inproc\nroutes_inproc.main(%r, %d, %d, %d)" % (
                    impl, n, warm, repeat)], env=env, timeout=600)
        got, m = parse_routes(r.stdout + r.stderr, "unix")
        rows += got
        mem += m
        _log_routes(got)
    from tests.emu.emulator import Emulator
    files = {}
    for src in (APPS_DIR / "routes_inproc.py", HERE / "api_mem_bench.py"):
        data, ext = _compile(str(src), tmp)
        files["/bench/" + src.stem + ext] = data
    t0 = time.time()
    with Emulator(BUILD / "MFA_PICO" / "firmware.uf2") as emu:
        put_files(emu, files)
        out = emu.run("import routes_inproc\nroutes_inproc.main('mfa', %d, %d, 1)" % (
            cfg["emu_n"], cfg["emu_warm"]), timeout=1800)
    got, m = parse_routes(out, "MFA_PICO")
    rows += got
    mem += m
    _log_routes(got)
    log("  (MFA_PICO: %.1f s wall)" % (time.time() - t0))
    res["routes"] = {"rows": rows, "mem": mem}


def run_parse(cfg, res):
    rows = []
    for fw in ("MFA_PICO", "MFA_PICO-pure"):
        for name, label, us, heap in parse_bench.run(BUILD / fw / "firmware.uf2", cfg["parse_n"]):
            rows.append({"firmware": fw, "parser": name, "request": label, "us": us,
                         "cycles": int(round(us * 125)), "heap_b": heap})
    res["emu_parse"] = rows
    log("parse bench: %d rows" % len(rows))


# ---- SLIP: real HTTP to the emulated chip -------------------------------------------------

SERVE_ON_CHIP = """
import sys
if '/bench' not in sys.path:
    sys.path.append('/bench')
import %s as m
m.serve('0.0.0.0', 80, 8)
"""


def _skipped(res, section, what, why):
    """Record (and log) why a section of the results was not measured."""
    res[section] = {"skipped": "%s measurements skipped: %s" % (what, why)}
    log(res[section]["skipped"])


def _body2k_file(tmp):
    """body2k() in a file under `tmp`, for the clients in the namespace; its path."""
    path = os.path.join(tmp, "body2k.json")
    with open(path, "wb") as f:
        f.write(body2k())
    return path


def run_slip(cfg, tmp, res):
    from tests.net.netns import NetNS
    why = NetNS.available()
    if why:
        return _skipped(res, "slip", "SLIP", why)
    body_file = _body2k_file(tmp)
    rows, heap, errors = [], [], {}
    for impl in cfg["slip_impls"]:
        if impl == "microdot" and not microdot_dir():
            continue
        try:
            r, h = _slip_one(impl, cfg, tmp, body_file)
            rows += r
            heap.append(h)
        except Exception as e:  # noqa: BLE001 - keep the other servers' figures
            errors[impl] = "%s: %s" % (type(e).__name__, str(e)[-1500:])
            log("slip %s failed: %s" % (impl, errors[impl]))
    res["slip"] = {"rows": rows, "heap": heap, "n": cfg["slip_n"], "errors": errors}
    if errors:
        raise RuntimeError("SLIP failed for %s" % ", ".join(errors))


def _slip_one(impl, cfg, tmp, body_file):
    from tests.net.slip_bridge import SlipPico
    fw = FIRMWARE[impl]
    t0 = time.time()
    with SlipPico(BUILD / fw / "firmware.uf2") as pico:
        put_files(pico.emu, device_files(tmp, impl == "microdot"))
        return _measure_on(pico, impl, fw, cfg["slip_n"], cfg["slip_modes"], cfg["slip_apps"],
                           body_file, t0, "slip")


def _measure_on(pico, impl, fw, n, modes, apps, body_file, t0, tag):
    """Serve `impl` on a chip that has the files (SlipPico or PicoW) and run slip_client.py
    against it; returns (rows, heap) and leaves the app stopped."""
    rows = []
    if impl == "mfa" and "hello" in apps:
        apps = list(apps) + ["const"]  # hello's constant route beside it: the floor
    pico.start_app(SERVE_ON_CHIP % ("microdot_app" if impl == "microdot" else "mfa_app"),
                   ready="listening", timeout=120)
    try:
        cp = pico.ns.run([sys.executable, str(HERE / "slip_client.py"), pico.addr, str(n),
                          ",".join(modes), body_file, ",".join(apps)], timeout=1800)
        if cp.returncode != 0:
            raise RuntimeError("%s client: %s%s\n--- chip output ---\n%s" % (
                tag, cp.stdout[-1500:], cp.stderr[-1500:], pico.emu.output()[-1500:]))
        out = json.loads(cp.stdout.strip().splitlines()[-1])
    finally:
        pico.stop_app()
    for r in out["runs"]:
        r.update(impl=impl, firmware=fw)
        if r["app"] == "const":
            r.update(impl="const", app="hello")  # (a column of its own, as on the host)
        rows.append(r)
        log("%s %-8s %-5s %-10s n=%d %.1f req/sim-s (%.1f req/wall-s, %d reconnects)" % (
            tag, r["impl"], r["app"], r["mode"], r["n"], r["rps_sim"], r["n"] / r["wall_s"],
            r["reconnects"]))
    h = out["heap"]
    h.update(impl=impl, firmware=fw)
    log("%s %-8s free heap idle %s, with %d conns %s %s(%.0f s wall)" % (
        tag, impl, h["free_idle"], h["open_conns"], h["free_8conns"], h["conn_error"] or "",
        time.time() - t0))
    return rows, h


# ---- profile: where the cycles of one request go ------------------------------------------

def run_profile(cfg, tmp, res):
    import profile_emu
    rows = profile_emu.measure(BUILD / "MFA_PICO" / "firmware.uf2", cfg["profile_n"], tmp)
    slip = (res.get("slip") or {}).get("rows") or []
    rows = profile_emu.with_slip(rows, slip)
    res["profile"] = {"rows": rows, "n": cfg["profile_n"]}
    for line in profile_emu.table(rows):
        log(line)


# ---- Pico W: the same over emulated WiFi ------------------------------------------------------

PICO_W = {"mfa": "MFA_PICO_W", "pure": "MFA_PICO_W-pure", "microdot": "MFA_PICO_W-pure"}

# In the namespace: GET /hello until the first answer (the app is starting meanwhile). Short
# waits between tries: while the client sleeps the chip runs on, so a long wait would be counted
# as start-up time.
FIRST_ANSWER = r"""
import socket, sys, time
t0 = time.time()
while time.time() - t0 < float(sys.argv[2]):
    try:
        s = socket.create_connection((sys.argv[1], 80), timeout=5)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        d = s.recv(4096)
        s.close()
        if d.startswith(b"HTTP/1.1 200"):
            print(round(time.time() - t0, 1))
            sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit(1)
"""


def run_picow(cfg, tmp, res):
    """Each server on the emulated Pico W, real HTTP over emulated WiFi (tests/net/picow_net.py):
    the SLIP section's figures, one joined chip per firmware (pure and Microdot share one), plus
    the join time and, on MFA_PICO_W, the simulated time from power-on to the first answer."""
    from tests.net.netns import NetNS
    from tests.net.picow_net import PicoW
    why = os.environ.get("MFA_PICO_W_SKIP") or NetNS.available()
    if not why and not (BUILD / "MFA_PICO_W" / "firmware.uf2").exists():
        why = "no build/MFA_PICO_W/firmware.uf2 (cyw43-driver missing?)"
    if not why and cfg["quick"]:
        # A minute of CI's time, 40 s of it joining WiFi; the SLIP section runs the same
        # measuring code, and tests/net/test_picow_*.py the same chip over the same WiFi.
        why = "not in the quick run (joining WiFi alone takes 40 s of emulation): " \
              "./build.sh bench measures it"
    if why:
        return _skipped(res, "picow", "Pico W", why)
    body_file = _body2k_file(tmp)
    by_fw = {}
    for impl in cfg["picow_impls"]:
        if impl != "microdot" or microdot_dir():
            by_fw.setdefault(PICO_W[impl], []).append(impl)
    rows, heap, errors, chips = [], [], {}, {}
    for fw, impls in by_fw.items():
        t0 = time.time()
        try:
            with PicoW(BUILD / fw / "firmware.uf2") as pico:
                c = chips[fw] = {"join_wall_s": round(pico.connect_wall_s, 1),
                                 "join_sim_ms": round(pico.connect_sim_ms, 1),
                                 "boot_sim_ms": round(pico.info["boot_sim_ms"], 1)}
                log("picow %s joined WiFi in %.1f s wall (%.0f ms simulated)"
                    % (fw, c["join_wall_s"], c["join_sim_ms"]))
                put_files(pico.emu, device_files(tmp, "microdot" in impls))
                for impl in impls:
                    r, h = _measure_on(pico, impl, fw, cfg["picow_n"], cfg["picow_modes"],
                                       cfg["picow_apps"], body_file, t0, "picow")
                    rows += r
                    heap.append(h)
                if fw == "MFA_PICO_W" and cfg["picow_boot"]:
                    c.update(start_to_answer(pico))
                    c["boot_to_answer_sim_ms"] = round(
                        c["boot_sim_ms"] + c["join_sim_ms"] + c["start_to_answer_sim_ms"], 1)
                    log("picow %s power-on to first answer: %.0f ms simulated (boot %.0f + "
                        "join %.0f + app start to answer %.0f; %.0f s wall)"
                        % (fw, c["boot_to_answer_sim_ms"], c["boot_sim_ms"], c["join_sim_ms"],
                           c["start_to_answer_sim_ms"], c["start_to_answer_wall_s"]))
        except Exception as e:  # noqa: BLE001 - keep the other firmware's figures
            errors[fw] = "%s: %s" % (type(e).__name__, str(e)[-1500:])
            log("picow %s failed: %s" % (fw, errors[fw]))
    res["picow"] = {"rows": rows, "heap": heap, "chips": chips, "n": cfg["picow_n"],
                    "errors": errors}
    if errors:
        raise RuntimeError("Pico W failed for %s" % ", ".join(errors))


def start_to_answer(pico):
    """Simulated ms from starting the app (as main.py would, WiFi joined) to the chip sending
    its first HTTP answer to a client that keeps trying: the import, the server's start and
    one request. With the boot and the join measured beside it, this gives power-on to first
    answer. (The chip cannot simply be reset with the app as main.py: in rp2040py 0.3.6 the
    emulated CYW43439 does not come back after a RUN-pin reset, "[CYW43] Failed to start
    CYW43", so the parts are measured on one boot.)"""
    t0 = time.time()
    pico.emu.tap(True)
    s0 = pico.emu.sim_ns
    try:
        pico.start_app(SERVE_ON_CHIP % "mfa_app")
        cp = pico.ns.run([sys.executable, "-c", FIRST_ANSWER, pico.addr, "900"], timeout=960)
        frames = pico.emu.tap(False)
        if cp.returncode != 0:
            raise RuntimeError("no answer after the start: %s\n%s" % (cp.stderr[-1000:],
                                                                       pico.emu.output()[-1000:]))
        first = min(e[0] for e in frames if not e[1] and e[4].startswith("HTTP/1.1 200"))
        return {"start_to_answer_sim_ms": round((first - s0) / 1e6, 1),
                "start_to_answer_wall_s": round(time.time() - t0, 1)}
    finally:
        pico.stop_app()


# ---- main -----------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="each measurement briefly (CI)")
    ap.add_argument("--out", default=str(BUILD / "bench"))
    ap.add_argument("--only", default="host,inproc,emu,routes,parse,ws,upload,slip,profile,picow",
                    help="comma-separated sections to run")
    ap.add_argument("--no-slip", action="store_true", help="skip the SLIP section")
    a = ap.parse_args(argv)
    sections = set(a.only.split(","))
    if a.no_slip:
        sections.discard("slip")
    if a.quick:
        cfg = {"seconds": 1, "conns": [16], "max_conns": 68, "inproc_n": 20, "emu_n": 2,
               "emu_warm": 1, "routes_n": 50, "parse_n": 2, "profile_n": 3, "slip_n": 3,
               "slip_modes": ["keep-alive"], "slip_apps": ["hello"],
               # One server over SLIP: the pipeline is the same for all three, and each costs
               # about a minute of emulation (boot, file upload, eight-connection heap probe).
               "slip_impls": ["mfa"],
               # (the Pico W section is left out: see run_picow)
               "picow_n": 3, "picow_modes": ["keep-alive"], "picow_apps": ["hello"],
               "picow_impls": ["mfa"], "picow_boot": False}
    else:
        cfg = {"seconds": 4, "conns": [1, 16, 64], "max_conns": 68, "inproc_n": 200,
               "emu_n": 5, "emu_warm": 2, "routes_n": 500, "parse_n": 10, "profile_n": 10,
               "slip_n": 20,
               "slip_modes": ["keep-alive", "close"], "slip_apps": APPS,
               "slip_impls": IMPLS,
               "picow_n": 20, "picow_modes": ["keep-alive", "close"], "picow_apps": ["hello"],
               "picow_impls": IMPLS, "picow_boot": True}
    cfg["ws"] = dict(ws_bench.QUICK if a.quick else ws_bench.CONFIG)
    cfg["upload"] = dict(upload_bench.QUICK if a.quick else upload_bench.CONFIG)
    cfg["quick"] = a.quick
    cfg["sections"] = sorted(sections)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res = {"meta": meta(), "config": cfg, "firmware": firmware_sizes(),
           "apps": {k: {"label": APP_LABEL[k], "request": raw_request(k).decode()[:300]}
                    for k in APPS}, "impls": IMPL_LABEL}
    res["meta"]["echo_body_bytes"] = len(body2k())
    log("machine:", res["meta"]["cpu"], "x", res["meta"]["cores"], "load",
        " ".join(res["meta"]["loadavg_start"]))
    t_start = time.time()
    timings = res["section_seconds"] = {}
    jpath = out / "results.json"

    def save():
        res["meta"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        res["meta"]["wall_s"] = round(time.time() - t_start, 1)
        jpath.write_text(json.dumps(res, indent=1))

    tmp = tempfile.mkdtemp(prefix="mfa-bench-")
    steps = [("host", lambda: run_host(cfg, tmp, res)),
             ("inproc", lambda: run_inproc_unix(cfg, tmp, res)),
             ("emu", lambda: run_emu(cfg, tmp, res)),
             ("routes", lambda: run_routes(cfg, tmp, res)),
             ("parse", lambda: run_parse(cfg, res)),
             ("ws", lambda: ws_bench.run_all(cfg["ws"], tmp, res)),
             ("upload", lambda: upload_bench.run_all(cfg["upload"], tmp, res)),
             ("slip", lambda: run_slip(cfg, tmp, res)),
             ("profile", lambda: run_profile(cfg, tmp, res)),
             ("picow", lambda: run_picow(cfg, tmp, res))]
    failed = []
    try:
        for name, fn in steps:
            if name not in sections:
                continue
            if name == "host" and not shutil.which("wrk"):
                res["host_skipped"] = "wrk not installed"
                continue
            log("== %s" % name)
            t0 = time.time()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - record it, go on with the other sections
                import traceback
                traceback.print_exc()
                res.setdefault("errors", {})[name] = "%s: %s" % (type(e).__name__, e)
                failed.append(name)
            timings[name] = round(time.time() - t0, 1)
            save()
    finally:
        save()
        shutil.rmtree(tmp, ignore_errors=True)
    import report
    md = report.write_report(res, out)
    log("wrote %s, %s (%.0f s)" % (md, jpath, time.time() - t_start))
    if failed:
        log("sections failed: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
