# The upload benchmark app on Microdot 2.7, the same routes and answers as up_mfa_app.py (see
# there), each the way Microdot's documentation gives for a body larger than RAM:
#   POST /raw   the body is over Request.max_body_length (16 KB), so Microdot does not read it:
#               `await request.stream.read(4096)` until Content-Length bytes are read
#   POST /mp    microdot.multipart.FormDataIter (its streaming parser; with_form_data would copy
#               each file to a temporary file first), the file saved by FileUpload.save(PATH);
#               heap=1: save()'s own loop by hand (read(FormDataIter.buffer_size), write) with
#               the samples
# Request.max_content_length is raised to 8 MB (its default, 16 KB, refuses a larger body).
import time

import up_probe

from microdot import Microdot, Request
from microdot.multipart import FileUpload, FormDataIter

Request.max_content_length = 8 * 1024 * 1024
app = Microdot()
PIECE = 4096


@app.post("/raw")
async def raw(request):
    t0 = time.ticks_us()
    s = up_probe.Sampler(request.args.get("heap"))
    to = request.args.get("to")
    left = request.content_length
    f = open(to, "wb") if to else None
    n = 0
    while left > 0:
        d = await request.stream.read(min(PIECE, left))
        if not d:
            break
        s.at(n)
        if f:
            f.write(d)
        n += len(d)
        left -= len(d)
    if f:
        f.close()
    return up_probe.answer(n, t0, s)


@app.post("/mp")
async def mp(request):
    t0 = time.ticks_us()
    s = up_probe.Sampler(request.args.get("heap"))
    to = request.args.get("to")
    n = 0
    async for name, value in FormDataIter(request):
        if not isinstance(value, FileUpload):
            continue
        if not s.on:
            await value.save(to)
            continue
        with open(to, "wb") as f:
            while True:
                d = await value.read(FormDataIter.buffer_size)
                if not d:
                    break
                s.at(n)
                f.write(d)
                n += len(d)
    out = up_probe.answer(n, t0, s)
    if not s.on and to:  # (save() does not say how much it wrote)
        import os
        out["size"] = os.stat(to)[6]
    return out


@app.get("/_mem")
def mem(request):
    return up_probe.mem()


@app.get("/_sha")
def sha(request):
    return up_probe.sha(request.args.get("path"))


@app.get("/_idle")
def idle(request):
    return up_probe.idle_start()


@app.get("/_idle_result")
def idle_result(request):
    return up_probe.idle_result()


def serve(host, port, max_conns):
    # Microdot has no connection limit; max_conns is accepted for the same call signature.
    print("listening", port)
    app.run(host=host, port=port)
