# How many templated routes fit in the heap (issue 18), in-process on the emulated RP2040 or on
# unix: `import routes_fit; routes_fit.main(router, step, limit)` registers routes
# '/r{i}/items/{item_id:int}' (each with a handler function of its own, as an app's routes have)
# on a MicroFastApi app in steps of `step`, and after each step answers its first request to the
# last one (the tree is rebuilt then, as after an app's imports). Prints one line per step
#   FIT|router|routes|status|free heap after the request
# and stops at the first step whose registration raises MemoryError or whose request is not
# answered 200 (a MemoryError while answering is a 503: docs/internals.md). No server runs:
# its buffers come on top of what is left.
import gc

import api_mem_bench as B
from microfastapi import MicroFastApi
from microfastapi.routing import Router, LinearRouter


def handler_for(i):
    def read_item(req, item_id):
        return {"route": i, "item_id": item_id}
    return read_item


def main(router="tree", step=25, limit=2000):
    app = MicroFastApi()
    app.router = Router() if router == "tree" else LinearRouter()
    n = 0
    while n < limit:
        try:
            for i in range(n, n + step):
                app.add_route("/r%d/items/{item_id:int}" % i, handler_for(i))
        except MemoryError:
            print("FIT|%s|%d|registration MemoryError|%d" % (router, n + step, gc.mem_free()))
            break
        n += step
        raw = b"GET /r%d/items/42 HTTP/1.1\r\nHost: pico.local\r\n\r\n" % (n - 1)
        try:
            status = 0
            B.mfa_step(app, raw)
            status = 200
        except MemoryError:
            status = "MemoryError"
        except RuntimeError as e:  # mfa_step's 'status %d for ...'
            status = str(e).split()[1]
        print("FIT|%s|%d|%s|%d" % (router, n, status, gc.mem_free()))
        if status != 200:
            break
    print("FIT-DONE")
