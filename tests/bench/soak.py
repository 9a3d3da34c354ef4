#!/usr/bin/env python3
"""Soak benchmark: N requests of mixed keep-alive, close, pipelined and hostile traffic against
tests/hostile/hostile_app.py, reporting errors, the heap (start, end, low-water mark) and the
server process's memory. Figures, not assertions (the exit status is 1 only when requests
failed or the server died).

    python3 tests/bench/soak.py                         # 1,000,000 requests, build/unix
    python3 tests/bench/soak.py --quick                 # 2,000 requests (CI)
    python3 tests/bench/soak.py --binary build/unix-pure/micropython --heapsize 192k
    python3 tests/bench/soak.py --binary python3        # the package on CPython
    python3 tests/bench/soak.py --url http://192.168.7.2:80 -n 20000   # a running server
    python3 tests/bench/soak.py --frozen --heapsize 150k --big 0.2     # under memory pressure
    python3 tests/bench/soak.py -n 20000 --mix attack   # while 100 + 100 attackers hold the pool

Traffic mix per worker step: keep-alive session of 1-20 requests (55 %), pipelined burst of 10
(10 %), one request with Connection: close (25 %), one hostile-corpus case sent with a
half-close (10 %); plus one slowloris connection every 2 s (a partial head, then silence, until
the server's header timeout closes it). Every answer is checked (status, and the closing
behaviour); each hostile case counts as one request. `--big P`: a fraction P of the steps is
instead one POST of a large body (1 byte to --big-max, 16 KB by default, uniformly), answered
200 with its length, or 503 when the server has no room for it (counted as `big-503`, not an
error: that is the answer to memory pressure).

`--mix attack` (issue 15): for the whole run, tests/bench/attack.py's attackers hold
--attack-slow slowloris and --attack-silent silent connections (reopened a second after the
server drops one), so the pool is always full and every new connection takes a slot back. The
hostile-corpus steps become Connection: close requests (the attackers are the hostile part),
and a keep-alive request that finds its idle connection taken back (a reset or close before
any answer, on a connection that has answered already) is sent again on a new connection, as
browsers do for a reused connection (`ka-retried`); so is a request whose new connection was
reset before any answer (taken back while the request was on its way: `new-retried`). Both
are counted, not errors; a second failure is an error.

Heap figures (MicroPython only): `mem_free` after gc.collect() at the start (after warm-up) and
the end, its minimum over periodic samples, and the low-water mark of gc.mem_free() without a
collection, sampled by the app's loop every 64 steps (how close the heap came to full between
collections).
"""
import argparse
import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
HOSTILE = ROOT / "tests" / "hostile"
sys.path[:0] = [str(HOSTILE), str(ROOT)]
import sim  # noqa: E402
from tests.support import (exchange, free_port, proc_status_kb, read_response,  # noqa: E402
                           read_to_eof, wait_listening)

TIMEOUT = 10.0
GET = b"GET / HTTP/1.1\r\nHost: soak\r\n\r\n"
GET_CLOSE = b"GET / HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n"
POST = (b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
        b"Content-Length: 13\r\n\r\n{\"a\": [1, 2]}")
MISS = b"GET /missing?x=1 HTTP/1.1\r\nHost: soak\r\n\r\n"
KEEP = [(GET, 200), (GET, 200), (POST, 200), (MISS, 404)]


class Conn:
    """A client connection with a receive buffer and a minimal response reader."""

    def __init__(self, addr):
        self.s = socket.create_connection(addr, timeout=TIMEOUT)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _fill(self):
        x = self.s.recv(65536)
        if not x:
            raise EOFError("server closed the connection")
        self.buf += x

    def response(self):
        """(status, close: bool) of the next final response."""
        while True:
            while True:
                i = self.buf.find(b"\r\n\r\n")
                if i >= 0:
                    break
                self._fill()
            head = self.buf[:i + 2]
            status = int(head[9:12])
            rest = i + 4
            if 100 <= status < 200:
                self.buf = self.buf[rest:]
                continue
            lower = head.lower()
            j = lower.find(b"\r\ncontent-length:")
            n = int(head[j + 17:head.find(b"\r\n", j + 2)]) if j >= 0 else 0
            while len(self.buf) < rest + n:
                self._fill()
            self.buf = self.buf[rest + n:]
            return status, b"\r\nconnection: close" in lower

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def http_get(addr, path, timeout=TIMEOUT):
    """(status, body) of one GET, read by Content-Length."""
    with Conn(addr) as c:
        c.s.sendall(("GET %s HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n"
                     % path).encode())
        head, body, _ = read_response(c.s)
        return int(head[9:12]), body


def debug(addr):
    for _ in range(20):
        status, body = http_get(addr, "/_debug")
        if status != 503:  # 503: no room for it this moment (memory pressure): again
            break
        time.sleep(0.1)
    if status != 200:
        raise RuntimeError("/_debug answered %d" % status)
    return json.loads(body)


def load_hostile():
    cases = []
    for f in sorted((HOSTILE / "corpus").glob("*.http")):
        for name, exps, raw in sim.parse_corpus(f.read_bytes()):
            if len(raw) > 8192:
                continue  # keep the mix light: the big ones are in the corpus suite
            cases.append((name, exps, raw))
    return cases


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.kinds = {}
        self.errors = {}
        self.examples = []

    def ok(self, kind, n=1):
        with self.lock:
            self.requests += n
            self.kinds[kind] = self.kinds.get(kind, 0) + n

    def tally(self, kind, good, what):
        """ok(kind) if `good`, else error(kind, what)."""
        if good:
            self.ok(kind)
        else:
            self.error(kind, what)

    def count(self, kind):
        """An event that is not a request (a retry)."""
        with self.lock:
            self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def error(self, kind, what):
        with self.lock:
            self.requests += 1
            key = "%s: %s" % (kind, what.split(":")[0])
            self.errors[key] = self.errors.get(key, 0) + 1
            if len(self.examples) < 20:
                self.examples.append("%s: %s" % (kind, what))
                # (also as they happen: a long run's errors are seen before it ends)
                print("error at request %d: %s: %s" % (self.requests, kind, what),
                      file=sys.stderr, flush=True)


def exchange_hostile(addr, raw):
    data, _ = exchange(addr, raw, TIMEOUT)
    statuses = []
    while data:
        i = data.find(b"\r\n\r\n")
        if i < 0:
            break
        head = data[:i + 2]
        st = int(head[9:12])
        j = head.lower().find(b"\r\ncontent-length:")
        n = int(head[j + 17:head.find(b"\r\n", j + 2)]) if j >= 0 else 0
        data = data[i + 4 + n:]
        if st >= 200:
            statuses.append(st)
    return statuses


def big_post(addr, n, stats):
    with Conn(addr) as c:
        try:
            c.s.sendall(b"POST /echo HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n"
                        b"Content-Length: %d\r\n\r\n" % n + b"b" * n)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (503) before the body was all sent: read the answer
        while b"\r\n\r\n" not in c.buf:
            c._fill()
        st = int(c.buf[9:12])
        if st == 200:
            while not c.buf.endswith(b"}"):
                c._fill()
            if not c.buf.endswith(b'{"len": %d}' % n):
                stats.error("big", "wrong answer %r" % c.buf[-40:])
                return
        if st == 200:
            stats.ok("big-200")
        elif st == 503:
            stats.ok("big-503")
        else:
            stats.error("big", "status %d" % st)


RESET = (ConnectionResetError, BrokenPipeError, EOFError)


def first_answer(addr, c, data, stats, attack):
    """Send data on the new connection c and read the first answer; with attack, a connection
    reset before any answer (taken back by the full pool while the request was on its way) is
    tried once more on a new one, counted as `new-retried`. Returns (conn, status, close)."""
    try:
        c.s.sendall(data)
        return (c,) + c.response()
    except RESET:
        if not attack or c.buf:
            raise
    stats.count("new-retried")
    c.close()
    c = Conn(addr)
    c.s.sendall(data)
    return (c,) + c.response()


def worker(addr, quota, seed, stats, hostile, stop, big=0.0, big_max=16384, attack=False):
    rnd = random.Random(seed)
    done = 0
    while done < quota and not stop.is_set():
        if big and rnd.random() < big:
            try:
                big_post(addr, rnd.randint(1, big_max), stats)
            except (OSError, EOFError, ValueError) as e:
                stats.error("big", "%s: %s" % (type(e).__name__, e))
            done += 1
            continue
        r = rnd.random()
        step = "keepalive" if r < 0.55 else "pipelined" if r < 0.65 else "close" if r < 0.90 \
            else "hostile"
        try:
            if r < 0.55:
                k = min(rnd.randint(1, 20), quota - done)
                c = Conn(addr)  # (not `with`: a retry replaces c)
                try:
                    for i in range(k):
                        req, exp = KEEP[rnd.randrange(len(KEEP))]
                        try:
                            if i == 0:
                                c, st, closing = first_answer(addr, c, req, stats, attack)
                            else:
                                c.s.sendall(req)
                                st, closing = c.response()
                        except RESET:
                            if not attack or i == 0:
                                raise
                            # the idle connection was taken back for a newcomer: again
                            stats.count("ka-retried")
                            c.close()
                            c = Conn(addr)
                            c.s.sendall(req)
                            st, closing = c.response()
                        stats.tally("keepalive", st == exp and not closing,
                                    "status %d close %s" % (st, closing))
                        done += 1
                finally:
                    c.close()
            elif r < 0.65:
                k = min(10, quota - done)
                c = Conn(addr)
                try:
                    reqs = [KEEP[rnd.randrange(len(KEEP))] for _ in range(k)]
                    c, st, closing = first_answer(addr, c, b"".join(q for q, _ in reqs), stats,
                                                  attack)
                    for j, (_, exp) in enumerate(reqs):
                        if j:
                            st, closing = c.response()
                        stats.tally("pipelined", st == exp, "status %d" % st)
                        done += 1
                finally:
                    c.close()
            elif r < 0.90 or attack:
                # (under attack the hostile share is plain closes too: a taken-back new
                # connection is retried once, which a hostile case cannot be)
                c = Conn(addr)
                try:
                    if r < 0.90:
                        c.s.sendall(GET_CLOSE)
                        st, closing = c.response()
                    else:
                        c, st, closing = first_answer(addr, c, GET_CLOSE, stats, attack)
                    # like real clients, close once the answer (Content-Length) is in; the
                    # fault tests check that the server closes by itself
                    stats.tally("close", st == 200 and closing,
                                "status %d close %s" % (st, closing))
                    done += 1
                finally:
                    c.close()
            else:
                name, exps, raw = hostile[rnd.randrange(len(hostile))]
                got = exchange_hostile(addr, raw)
                stats.tally("hostile", got in exps,
                            "%s: expected %s, got %s" % (name, exps, got))
                done += 1
        except (OSError, EOFError, ValueError) as e:
            stats.error("io", "%s in a %s step: %s" % (type(e).__name__, step, e))
            done += 1


def slowloris(addr, stats, stop, period=2.0):
    while not stop.wait(period):
        try:
            s = socket.create_connection(addr, timeout=TIMEOUT)
            try:
                s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: ")
                try:
                    data = read_to_eof(s, 4096)
                except ConnectionResetError:
                    data = b""  # taken back by a full pool for a newcomer: fine too
                # 408, or a plain close (or a reset), are all fine; never a 200
                if data and not data.startswith(b"HTTP/1.1 408"):
                    stats.error("slowloris", "answer %r" % data[:40])
                else:
                    with stats.lock:
                        stats.kinds["slowloris"] = stats.kinds.get("slowloris", 0) + 1
            finally:
                s.close()
        except OSError as e:
            stats.error("slowloris", "%s: %s" % (type(e).__name__, e))


def start_server(args):
    port = args.port or free_port()
    binary = args.binary
    app = str(HOSTILE / "hostile_app.py")
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    limits = ["max_conns=%d" % args.max_conns, "header_timeout_ms=1000", "body_timeout_ms=1000",
              "idle_timeout_ms=2000"]
    if os.path.basename(binary).startswith("python"):
        env["PYTHONPATH"] = "%s:%s" % (ROOT / "python", HOSTILE)
        argv = [binary, app]
    else:
        if args.frozen:
            env["MICROPYPATH"] = ".frozen:%s" % HOSTILE
        else:
            env["MICROPYPATH"] = "%s:%s:.frozen" % (ROOT / "python", HOSTILE)
        argv = [binary] + (["-X", "heapsize=" + args.heapsize] if args.heapsize else []) + [app]
    log = open(args.server_log, "wb") if args.server_log else subprocess.DEVNULL
    proc = subprocess.Popen(argv + [str(port)] + limits, env=env, cwd=str(ROOT), stdout=log,
                            stderr=subprocess.STDOUT)
    why = wait_listening(proc, port, timeout=20)
    if why:
        raise SystemExit("server " + why)
    return proc, ("127.0.0.1", port)


def main():
    global TIMEOUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--requests", type=int, default=1000000)
    ap.add_argument("--quick", action="store_true", help="2,000 requests")
    ap.add_argument("--binary", default=str(ROOT / "build" / "unix" / "micropython"))
    ap.add_argument("--heapsize", default=None, help="MicroPython -X heapsize (e.g. 192k)")
    ap.add_argument("--frozen", action="store_true", help="use the frozen package")
    ap.add_argument("--workers", type=int, default=4, help="concurrent client threads")
    ap.add_argument("--max-conns", type=int, default=8)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--url", help="soak a server already running the hostile app")
    ap.add_argument("--samples", type=int, default=20, help="heap samples during the run")
    ap.add_argument("--big", type=float, default=0.0,
                    help="fraction of steps that POST a large body (see above)")
    ap.add_argument("--big-max", type=int, default=16384, help="largest body of --big")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--mix", choices=("default", "attack"), default="default",
                    help="attack: the pool held by slow and silent attackers (see above)")
    ap.add_argument("--attack-slow", type=int, default=100)
    ap.add_argument("--attack-silent", type=int, default=100)
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="(attack) multiply the attackers' times by this, as attack.py's "
                         "--time-scale: an emulated chip K times slower than real time meets "
                         "the attack rate a board would with K")
    ap.add_argument("--server-log")
    ap.add_argument("--client-timeout", type=float, default=TIMEOUT,
                    help="seconds a client waits for the server (wall clock; raise it for an "
                         "emulated server, whose timeouts run on a slower simulated clock)")
    args = ap.parse_args()
    TIMEOUT = args.client_timeout
    n = 2000 if args.quick else args.requests

    proc = None
    if args.url:
        hostport = args.url.split("//", 1)[-1].rstrip("/")
        h, _, p = hostport.partition(":")
        addr = (h, int(p or 80))
    else:
        proc, addr = start_server(args)
    hostile = load_hostile()
    stats = Stats()
    stop = threading.Event()
    try:
        for _ in range(20):  # warm-up: every kind once, so caches are filled
            for path in ("/", "/missing", "/_debug"):
                http_get(addr, path)
        d0 = debug(addr)
        rss0 = proc_status_kb(proc.pid, "VmRSS") if proc else None
        print("server: %s (%s, backend %s), %d requests, %d workers" % (
            args.url or args.binary, d0.get("impl"), d0.get("backend"), n, args.workers))
        att = None
        if args.mix == "attack":
            sys.path.insert(0, str(ROOT / "tests" / "bench"))
            from attack import Attackers
            k = args.time_scale
            att = Attackers(addr, args.attack_slow, args.attack_silent, 2.0 * k, 1.0 * k,
                            0.05 * k)
            att.start()
            time.sleep(2 * k)  # (ramping up: all opened after 0.05 * k s each)
        t0 = time.time()
        threads = [threading.Thread(target=slowloris, args=(addr, stats, stop), daemon=True)]
        per = n // args.workers
        for i in range(args.workers):
            q = per + (n - per * args.workers if i == 0 else 0)
            threads.append(threading.Thread(target=worker, daemon=True,
                                            args=(addr, q, 1000 + i, stats, hostile, stop,
                                                  args.big, args.big_max, att is not None)))
        for t in threads:
            t.start()
        samples = []
        step = max(n // args.samples, 1)
        next_mark = step
        while any(t.is_alive() for t in threads[1:]):
            time.sleep(0.5)
            if proc is not None and proc.poll() is not None:
                stop.set()
                break
            if stats.requests >= next_mark:
                next_mark += step
                try:
                    d = debug(addr)
                    samples.append(d["mem_free"])
                    el = time.time() - t0
                    print("  %9d requests  %7.0f req/s  errors %d  mem_free %s  low %s  conns %s"
                          % (stats.requests, stats.requests / el, sum(stats.errors.values()),
                             d["mem_free"], d["low_free"], d["stats"].get("connections")),
                          flush=True)
                except (OSError, ValueError, RuntimeError) as e:
                    stats.error("debug", "%s: %s" % (type(e).__name__, e))
        stop.set()
        elapsed = time.time() - t0
        if att is not None:
            att.stop()
        died = proc is not None and proc.poll() is not None
        time.sleep(1.5)  # let slowloris and idle connections time out
        d1 = None if died else debug(addr)
        if d1 is not None:
            for _ in range(30):  # wait until only our debug connection is left
                if d1["stats"].get("connections", 0) <= 1:
                    break
                time.sleep(0.2)
                d1 = debug(addr)
        rss1 = proc_status_kb(proc.pid, "VmRSS") if proc and not died else None
    finally:
        stop.set()
        if proc is not None:
            proc.kill()
            proc.wait(5)
    mf = [s for s in samples if s is not None]
    res = {
        "requests": stats.requests, "seconds": round(elapsed, 1),
        "req_per_s": round(stats.requests / elapsed), "by_kind": stats.kinds,
        "errors": sum(stats.errors.values()), "error_kinds": stats.errors,
        "error_examples": stats.examples, "server_died": died,
        "mem_free_start": d0["mem_free"], "mem_free_end": d1 and d1["mem_free"],
        "mem_free_min_sampled": min(mf) if mf else None,
        "heap_low_water_no_collect": d1 and d1["low_free"],
        "rss_kb_start": rss0, "rss_kb_end": rss1,
        "server_stats_end": d1 and d1["stats"], "binary": args.url or args.binary,
        "heapsize": args.heapsize, "impl": d0.get("impl"), "backend": d0.get("backend"),
        "mix": args.mix, "attackers": att.report() if att is not None else None,
    }
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    sys.exit(1 if res["errors"] or died else 0)


if __name__ == "__main__":
    main()
