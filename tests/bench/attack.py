#!/usr/bin/env python3
"""A real client against a pool held by slow and silent attackers (issue 15): figures, not
assertions (exit status 1 only when a real request was not answered 200 or the server died).

    python3 tests/bench/attack.py                         # build/unix (_mfa), 30 s
    python3 tests/bench/attack.py --server py             # pyserver on the unix-pure build
    python3 tests/bench/attack.py --binary python3 --server py   # pyserver on CPython
    python3 tests/bench/attack.py --url http://192.168.7.2:80     # a running mfa_server_app

The server is tests/net/mfa_server_app.py with its default limits (max_conns 8, header timeout
10 s, min_rate 500 B/s after 3 s) unless --limit KEY=VALUE says otherwise. For --hold seconds
(30) the attackers keep --slow (100) slowloris connections (a partial head, then one more
header byte every --slow-period s, 2) and --silent (100) connections that send nothing; one the
server drops is opened again after --reconnect s (1). Meanwhile the real client makes
--requests (200) sequential requests, each on a new connection with its whole request in one
write, spread over the hold time. Printed: the real client's statuses and latency (connect to
last byte: p50, p90, p99, max), what happened to the attackers (dropped by a reset, answered
408, closed, and after how long), and the server's stats.
"""
import argparse
import errno
import json
import os
import pathlib
import selectors
import socket
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from tests.support import free_port, get_close, read_to_eof  # noqa: E402

APP = ROOT / "tests" / "net" / "mfa_server_app.py"


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


class Attackers:
    """Holds `slow` slowloris and `silent` connections open against addr from one thread
    (non-blocking sockets, one selector), reopening each one the server drops after
    `reconnect` s. Counts what happened to them in `drops` (how -> list of seconds held)."""

    def __init__(self, addr, slow=100, silent=100, slow_period=2.0, reconnect=1.0, ramp_step=0.05):
        self.addr = addr
        self.slow, self.silent = slow, silent
        self.slow_period = slow_period
        self.reconnect = reconnect
        self.ramp_step = ramp_step
        self.sel = selectors.DefaultSelector()
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.drops = {}       # "reset" | "408" | "closed" | "other answer" -> [seconds held]
        self.first_drop = None
        self.opened = 0
        self.connect_failures = 0
        self.t0 = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.t0 = time.monotonic()
        self.thread.start()

    def stop(self):
        self.stop_ev.set()
        self.thread.join(10)

    def held(self):
        """Attacker connections open now."""
        with self.lock:
            return sum(1 for k in self.sel.get_map().values() if k.data["up"])

    def _open(self, kind, now):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(self.addr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            s.close()
            self.connect_failures += 1
            return None
        st = {"kind": kind, "since": now, "up": False, "next": now, "n": 0, "buf": b""}
        with self.lock:
            self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, st)
        self.opened += 1
        return s

    def _drop(self, s, st, how, now):
        with self.lock:
            self.sel.unregister(s)
            held = now - st["since"]
            self.drops.setdefault(how, []).append(held)
            if self.first_drop is None:
                self.first_drop = now - self.t0
        s.close()
        self.pending.append((now + self.reconnect, st["kind"]))

    def _run(self):
        self.pending = []
        now = time.monotonic()
        # Ramp up: a burst of 200 connects overflows the listen queue (SYNs dropped and retried
        # a second later); 20 every 50 ms lets the server accept them as they come.
        kinds = ["slow"] * self.slow + ["silent"] * self.silent
        kinds = [k for pair in zip(kinds[:self.slow], kinds[self.slow:]) for k in pair] + \
            kinds[2 * min(self.slow, self.silent):]
        for i, k in enumerate(kinds):
            self.pending.append((now + (i // 20) * self.ramp_step, k))
        while not self.stop_ev.is_set():
            now = time.monotonic()
            due = [p for p in self.pending if p[0] <= now]
            if due:
                self.pending = [p for p in self.pending if p[0] > now]
                for _, kind in due:
                    self._open(kind, now)
            with self.lock:
                events = self.sel.select(timeout=0.05) if self.sel.get_map() else []
            if not events:
                time.sleep(0.01)
            now = time.monotonic()
            for key, ev in events:
                s, st = key.fileobj, key.data
                if ev & selectors.EVENT_WRITE and not st["up"]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        # (ECONNRESET: taken back before this side saw the handshake end)
                        self.connect_failures += 1
                        self._drop(s, st, "at connect " + errno.errorcode.get(err, str(err)), now)
                        continue
                    st["up"] = True
                    st["since"] = now
                    with self.lock:
                        self.sel.modify(s, selectors.EVENT_READ, st)
                    if st["kind"] == "slow":
                        try:
                            s.send(b"GET / HTTP/1.1\r\nHost: attack\r\nX-Slow: ")
                        except OSError:
                            self._drop(s, st, "reset", now)
                            continue
                        st["next"] = now + self.slow_period
                    continue
                if ev & selectors.EVENT_READ:
                    try:
                        d = s.recv(4096)
                    except ConnectionResetError:
                        self._drop(s, st, "reset", now)
                        continue
                    except OSError:
                        self._drop(s, st, "reset", now)
                        continue
                    if d:
                        st["buf"] += d
                        continue
                    b = st["buf"]
                    how = "closed" if not b else "408" if b.startswith(b"HTTP/1.1 408") else \
                        "other answer " + b[:12].decode("latin-1")
                    self._drop(s, st, how, now)
            # the slowloris trickle: one more byte of the never-ending header line
            with self.lock:
                keys = list(self.sel.get_map().values())
            for key in keys:
                st = key.data
                if st["up"] and st["kind"] == "slow" and now >= st["next"]:
                    st["next"] = now + self.slow_period
                    try:
                        key.fileobj.send(b"a")
                    except OSError:
                        pass  # noticed on the next read
        with self.lock:
            for key in list(self.sel.get_map().values()):
                key.fileobj.close()
            self.sel.close()

    def report(self):
        with self.lock:
            out = {"opened": self.opened, "connect_failures": self.connect_failures,
                   "first_drop_s": self.first_drop and round(self.first_drop, 2)}
            for how, xs in sorted(self.drops.items()):
                out["dropped_" + how.replace(" ", "_")] = {
                    "n": len(xs), "held_p50_s": round(pct(xs, 50), 2),
                    "held_max_s": round(max(xs), 2)}
        return out


def real_request(addr, timeout=10.0):
    """One whole request on a new connection: (status or error name, seconds)."""
    t = time.monotonic()
    try:
        s = socket.create_connection(addr, timeout=timeout)
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(b"GET / HTTP/1.1\r\nHost: real\r\nConnection: close\r\n\r\n")
            data = read_to_eof(s, 4096)
        finally:
            s.close()
        st = int(data.split()[1]) if data.startswith(b"HTTP/1.1 ") else "no answer"
    except OSError as e:
        st = type(e).__name__
    return st, time.monotonic() - t


def server_stats(addr, timeout=10.0, tries=5):
    """The server's /stats. Asked again after a reset: right after the attackers stop, their
    closes can still fill a board's listen queue (the figures are not the subject here; the
    real client's requests, which are never retried, are)."""
    for i in range(tries):
        try:
            return json.loads(get_close(addr, "/stats", timeout=timeout).split(b"\r\n\r\n", 1)[1])
        except ConnectionResetError:
            if i == tries - 1:
                raise
            time.sleep(1)


def start_server(args):
    port = args.port or free_port()
    env = dict(os.environ)
    binary = args.binary
    argv = [binary, str(APP)]
    if args.server == "py":
        argv.append("server=py")
        if os.path.basename(binary).startswith("python"):
            env["PYTHONPATH"] = str(ROOT / "python")
        else:
            env["MICROPYPATH"] = "%s:.frozen" % (ROOT / "python")
    argv += ["port=%d" % port] + list(args.limit)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    line = proc.stdout.readline()
    if not line.startswith("listening"):
        proc.kill()
        raise SystemExit("server did not start: %r" % line)
    return proc, ("127.0.0.1", port)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=str(ROOT / "build" / "unix" / "micropython"))
    ap.add_argument("--server", choices=("mfa", "py"), default="mfa")
    ap.add_argument("--url", help="a running tests/net/mfa_server_app.py")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--limit", action="append", default=[], help="server KEY=VALUE")
    ap.add_argument("--hold", type=float, default=30.0)
    ap.add_argument("--slow", type=int, default=100)
    ap.add_argument("--silent", type=int, default=100)
    ap.add_argument("--slow-period", type=float, default=2.0)
    ap.add_argument("--reconnect", type=float, default=1.0)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="multiply the attackers' times (ramp, trickle, reconnect) and the hold "
                    "by this: an emulated chip that runs K times slower than real time meets "
                    "the same attack in its own time with K")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="the real client's socket timeout, s (longer for an emulated board)")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()

    proc = None
    if args.url:
        h, _, p = args.url.split("//", 1)[-1].rstrip("/").partition(":")
        addr = (h, int(p or 80))
    else:
        proc, addr = start_server(args)
    try:
        st0 = server_stats(addr, args.timeout)
        k = args.time_scale
        att = Attackers(addr, args.slow, args.silent, args.slow_period * k, args.reconnect * k,
                        0.05 * k)
        att.start()
        t_ramp = time.monotonic()
        while att.opened < args.slow + args.silent and time.monotonic() - t_ramp < 5 * k:
            time.sleep(0.05)  # every attacker tried once
        time.sleep(0.5 * k)
        print("attackers: %d of %d connected at %.1f s (the server holds max_conns=%s; the "
              "rest wait in its listen queue, or are being taken back and reopened)"
              % (att.held(), args.slow + args.silent, time.monotonic() - t_ramp,
                 st0.get("max_conns")), flush=True)
        t0 = time.monotonic()
        hold = args.hold * k
        interval = hold / max(args.requests, 1)
        results = []
        for i in range(args.requests):
            results.append(real_request(addr, args.timeout))
            wait = t0 + (i + 1) * interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        while time.monotonic() - t0 < hold:
            time.sleep(0.1)
        att.stop()
        died = proc is not None and proc.poll() is not None
        st1 = None if died else server_stats(addr, args.timeout)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait(5)
    lat = [t * 1000 for s, t in results]
    ok = [t * 1000 for s, t in results if s == 200]
    statuses = {}
    for s, _ in results:
        statuses[str(s)] = statuses.get(str(s), 0) + 1
    res = {
        "server": args.url or "%s (%s)" % (args.binary, args.server),
        "hold_s": args.hold, "time_scale": args.time_scale, "slowloris": args.slow,
        "silent": args.silent,
        "real_requests": len(results), "real_statuses": statuses,
        "real_ms_p50": round(pct(lat, 50), 2), "real_ms_p90": round(pct(lat, 90), 2),
        "real_ms_p99": round(pct(lat, 99), 2), "real_ms_max": round(max(lat), 2),
        "real_200_within_50ms": sum(1 for t in ok if t <= 50),
        "attackers": att.report(), "server_died": died,
        "server_stats": {k: (st1[k] - st0[k] if isinstance(st0.get(k), int) and k not in
                             ("connections", "max_conns", "ready", "unsent", "mem_alloc")
                             else st1[k]) for k in st1} if st1 else None,
    }
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    sys.exit(0 if statuses == {"200": len(results)} and not died else 1)


if __name__ == "__main__":
    main()
