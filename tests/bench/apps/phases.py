# Cost of each phase of one request through the framework, driven one phase after another
# the way the app runs them (tests/bench/profile_emu.py sends `import phases; phases.main(...)`;
# also runs on unix MicroPython). Nothing in the product is instrumented: each phase is a call
# to the same function app.handle() makes, timed alone over n calls with the GC off, the cost
# of an empty call taken off. Prints one line per phase:
#   PHASE|app|phase|nanoseconds per request (the simulated clock on the chip: cycles = ns/8)
# Phases (their sum beside "whole", the same request through app.handle() into a sink):
#   parse       backend.parse_request(raw bytes)          (_mfa: C; pure: parser.py)
#   raw         the server's request object (wire.Request over the parsed head)
#   route       app.router.find() + the route's parameter conversion
#   request     the app's Request (microfastapi.request.Request)
#   handler     the endpoint's call (ep.call: the handler, req.json() for echo included)
#   dumps       json.dumps of the handler's result
#   respond     app.send() minus its json.dumps: headers chosen, srv.respond() into a sink
# The C server's own work (poll, framing the answer, lwIP) is not in these: profile_emu.py
# takes it from the SLIP figures (whole request on the wire minus "whole" here).
import gc
import json
import time

import api_mem_bench as B


def _per_call(fn, n):
    """ns per call of fn(), each call after a collection with the GC off (as B.cost: no
    collection is timed, and the echo's 2 KB bodies never fill the chip's heap)."""
    fn()
    us = 0
    for _ in range(n):
        gc.collect()
        gc.disable()
        try:
            t0 = time.ticks_us()
            fn()
            t1 = time.ticks_us()
        finally:
            gc.enable()
        us += time.ticks_diff(t1, t0)
    return us * 1000 // n


def phases(app, raw, n):
    """[(phase, ns per request)] for the request bytes `raw` through `app`."""
    from microfastapi import backend
    from microfastapi.wire import Request as Raw
    from microfastapi.request import Request

    class Conn:  # the server's per-connection state that wire.Request reads
        keep_alive = True
        close_after = False
        closed = False
        defer = False
        pull = 0
        dbuf = None

    class Sink:
        _hc = (0, None, "")

        def respond(self, req, status, headers, body):
            self.status = status

    conn = Conn()
    sink = Sink()
    client = ("192.168.4.2", 50000)
    parse = backend.parse_request
    unquote = backend.unquote
    head = parse(raw)
    body = raw[head.header_len:]
    rawreq = Raw(head, body, client, conn)
    router = app.router
    ep, params, route = router.find(rawreq.method, rawreq.path)
    if params is None:
        params = {}  # a static route (app._route passes no keywords then: the same cost)

    def find_convert():
        e, p, r = router.find(rawreq.method, rawreq.path)
        if r is not None:
            r.convert(p, unquote)

    if route is not None:
        route.convert(params, unquote)
    req = Request(app, rawreq, params)
    result = ep.call(req, **params)

    def request_and_handler():
        ep.call(Request(app, rawreq, params), **params)

    whole = B.mfa_step(app, raw)
    t = {}
    n0 = _per_call(lambda: None, n)
    t["parse"] = _per_call(lambda: parse(raw), n)
    t["raw"] = _per_call(lambda: Raw(head, body, client, conn), n)
    t["route"] = _per_call(find_convert, n)
    t["request"] = _per_call(lambda: Request(app, rawreq, params), n)
    t["handler"] = _per_call(request_and_handler, n) - t["request"] + n0
    t["dumps"] = _per_call(lambda: json.dumps(result), n)
    t["respond"] = _per_call(lambda: app.send(rawreq, sink, result), n) - t["dumps"] + n0
    t["whole"] = _per_call(whole, n)
    out = []
    for k in ("parse", "raw", "route", "request", "handler", "dumps", "respond", "whole"):
        out.append((k, max(0, t[k] - n0)))
    return out


def main(n, reqs):
    import mfa_app as m
    for name, raw in reqs:
        for phase, ns in phases(m.app, raw, n):
            print("PHASE|%s|%s|%d" % (name, phase, ns))
    print("PHASES-DONE")
