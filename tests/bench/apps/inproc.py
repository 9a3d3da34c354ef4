# In-process cost of one request through a benchmark app, on unix MicroPython or on the emulated
# RP2040 (tests/bench/run.py sends `import inproc; inproc.main(...)`). Prints one line per app:
#   RESULT|impl|app|heap bytes per request|nanoseconds per request (simulated clock on the chip)
# microfastapi: parse -> server request object -> route -> handler -> JSON -> respond; the
# framing of the status line and headers is included for the pure build (pyserver does it in
# Python) and not for _mfa (its Server.respond frames in C, which needs a live connection).
# Microdot: Request.create -> dispatch -> Response.write into a writer that keeps nothing.
import api_mem_bench as B


def main(impl, n, reqs, warm=3):
    if impl == "microdot":
        import microdot_app as m

        def make(raw):
            return B.microdot_step(m.app, raw)
    else:
        import mfa_app as m
        from microfastapi import backend
        framed = backend.server_class()[1] != "_mfa"

        def make(raw):
            return B.mfa_step(m.app, raw, framed)
    for name, raw in reqs:
        heap, us = B.cost(make(raw), n, warm)
        print("RESULT|%s|%s|%d|%d" % (impl, name, int(heap), int(us * 1000)))
    print("INPROC-DONE")
