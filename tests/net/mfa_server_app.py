# A small app driving a server directly (no routing), for the server contract suite
# (tests/net/test_server_unix.py) and tests/bench/server_bench.py.
# Usage: micropython|python3 mfa_server_app.py [server=mfa|py] KEY=VALUE...
# server=mfa (the default) is _mfa.Server, server=py microfastapi.pyserver.Server (on MicroPython
# or CPython; python/ must be on the path). The other keys are the servers' own (port,
# max_conns, max_body, header_timeout_ms, body_timeout_ms, idle_timeout_ms; port=0 picks a free
# one). Prints "listening PORT" when ready.
#   GET /            {"hello": "world"}
#   ANY /echo        {"method", "path", "query", "len", "sum", "headers"} of the request
#   GET /big?n=N     N bytes of 'x'
#   GET /stream?n=N  N chunks of 1000 bytes, chunked
#   GET /sized?n=N&send=M  a stream with the app's Content-Length: N, M bytes sent (default N;
#                    in pieces of 1000): unframed, M > N cut at N, M < N resets
#   GET /status?n=N  an empty answer with status N
#   GET /stats       the server's stats() plus gc figures (after gc.collect())
#   GET /quit        answers, then the script exits
#   GET /pipe        upgraded (101, Upgrade: echo): an echo pipe; what arrives goes back
#                    upper-cased, "quit" closes it; ?hold=1 reads nothing (backpressure)
# With stream_bodies=1, a request whose body has not arrived with its head comes with body
# None (docs/internals.md, "Streamed request bodies"):
#   POST /sink?limit=N  body_pull(limit) (default 1 MB), read in pieces of at most 1000 bytes:
#                       {"len", "sum", "reads"}; ?hold=1 never reads (backpressure);
#                       ?view=1 reads with body_view (the bytes lent in place, no copy)
#   POST /early         answered at once, the body unread (the connection must close after)
#   any other path      body_collect(limit) (?limit=N, default max_body): handled again whole
import sys
import gc

opts = {"port": 0}
kind = "mfa"
for a in sys.argv[1:]:
    k, v = a.split("=")
    if k == "server":
        kind = v
    else:
        opts[k] = int(v)
if kind == "mfa":
    from _mfa import Server
else:
    from microfastapi.pyserver import Server
srv = Server("127.0.0.1", **opts)
print("listening", srv.port)
if hasattr(sys.stdout, "flush"):
    sys.stdout.flush()  # CPython buffers a pipe

JSON = [("Content-Type", "application/json")]
HELLO = b'{"hello": "world"}'
streams = []
pipes = []  # upgraded requests (GET /pipe)
held = []   # upgraded requests the app does not read (GET /pipe?hold=1)


def qint(q, name, default):
    for part in q.split("&"):
        if part.startswith(name + "="):
            return int(part[len(name) + 1:])
    return default


sinks = []  # [request, bytes, sum, reads] of pulled bodies (POST /sink)
held_bodies = []
PIECE = bytearray(1000)


def deferred(r):
    p = r.path
    if p == "/sink":
        if not srv.body_pull(r, qint(r.query, "limit", 1 << 20)):
            return  # (answered 413 by the server)
        (held_bodies if qint(r.query, "hold", 0) else sinks).append(
            [r, 0, 0, 0, qint(r.query, "view", 0)])
        read_sinks()
    elif p == "/early":
        srv.respond(r, 200, JSON, '{"early": true}')
    else:
        srv.body_collect(r, qint(r.query, "limit", opts.get("max_body", 16384)))


def read_sinks():
    for sk in sinks[:]:
        try:
            while True:
                if sk[4]:
                    v = srv.body_view(sk[0])
                    n = len(v) if v else v
                else:
                    v = PIECE
                    n = srv.body_read(sk[0], PIECE)
                if n is None:
                    srv.respond(sk[0], 200, JSON, '{"len": %d, "sum": %d, "reads": %d}'
                                % (sk[1], sk[2], sk[3]))
                    sinks.remove(sk)
                    break
                if not n:
                    break
                sk[1] += n
                sk[3] += 1
                for i in range(n):
                    sk[2] += v[i]
        except OSError:
            sinks.remove(sk)


def handle(r):
    p = r.path
    if r.body is None:
        deferred(r)
    elif p == "/":
        srv.respond(r, 200, JSON, HELLO)
    elif p == "/echo":
        b = r.body
        s = 0
        for x in b:
            s += x
        srv.respond(r, 200, JSON, '{"method": "%s", "path": "%s", "query": "%s", "len": %d, '
                    '"sum": %d, "nheaders": %d, "chunked": %s}'
                    % (r.method, r.path, r.query, len(b), s, len(r.headers),
                       "true" if r.chunked else "false"))
    elif p == "/big":
        srv.respond(r, 200, [], b"x" * qint(r.query, "n", 100000))
    elif p == "/stream":
        srv.stream_start(r, 200, [("Content-Type", "text/plain")])
        streams.append([r, qint(r.query, "n", 10)])
    elif p == "/sized":
        n = qint(r.query, "n", 10)
        srv.stream_start(r, 200, [("Content-Type", "text/plain"), ("Content-Length", str(n))])
        m = qint(r.query, "send", n)
        streams.append([r, m // 1000] + ([m % 1000] if m % 1000 else []))
    elif p == "/status":
        srv.respond(r, qint(r.query, "n", 200), [], b"")
    elif p == "/stats":
        gc.collect()
        st = srv.stats()
        if hasattr(gc, "mem_alloc"):  # MicroPython only
            st["mem_alloc"] = gc.mem_alloc()
        srv.respond(r, 200, JSON, repr(st).replace("'", '"'))
    elif p == "/pipe":
        srv.upgrade(r, [("Upgrade", "echo"), ("Connection", "Upgrade")])
        (held if qint(r.query, "hold", 0) else pipes).append(r)
    elif p == "/quit":
        srv.respond(r, 200, [], "bye")
        return False
    else:
        srv.respond(r, 404, JSON, '{"detail": "Not Found"}')
    return True


CHUNK = b"y" * 1000
running = True
while running:
    r = srv.poll()
    if r is not None:
        running = handle(r)
        continue
    for st in streams[:]:
        try:
            while st[1] > 0 and srv.stream_send(st[0], CHUNK):
                st[1] -= 1
            if st[1] == 0 and len(st) > 2:  # (/sized: the last piece's bytes)
                if not srv.stream_send(st[0], CHUNK[:st[2]]):
                    continue
                st.pop()
            if st[1] == 0:
                srv.stream_end(st[0])
                streams.remove(st)
        except OSError:
            streams.remove(st)
    ready = srv.readable() or ()
    if sinks:
        read_sinks()
    for u in ready:
        if u not in pipes:
            continue
        try:
            d = srv.recv(u)
            if d is None or d.strip() == b"quit":
                srv.stream_end(u)
                pipes.remove(u)
            elif d:
                srv.stream_send(u, d.upper())
        except OSError:
            pipes.remove(u)
    srv.wait(5 if streams or sinks else 1000)
for _ in range(50):  # let the last answer leave
    srv.poll()
    srv.wait(2)
srv.close()
