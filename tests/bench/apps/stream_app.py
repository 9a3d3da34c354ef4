"""The streaming benchmark's app (tests/bench/stream_bench.py): python stream_app.py PORT FILE

    GET /file      FILE as a FileResponse (the default block size)
    GET /file1k    FILE in 1 KB blocks (the block size before issue 13)
    GET /bytes     FILE read into one bytes object, answered whole (the reference)
    GET /gen?n=N   a generator of N short lines (one chunk each)
"""
import sys

from microfastapi import MicroFastApi, StreamingResponse, FileResponse

app = MicroFastApi(title="stream bench", openapi_url=None)
PATH = sys.argv[2]
with open(PATH, "rb") as f:
    WHOLE = f.read()


@app.get("/file")
def whole_file(req):
    return FileResponse(PATH)


@app.get("/file1k")
def file_1k(req):
    return FileResponse(PATH, chunk_size=1024)


@app.get("/bytes")
def whole_bytes(req):
    return WHOLE


@app.get("/gen")
def lines(req):
    n = int(req.query.get("n", "20000"))

    def gen():
        for i in range(n):
            yield "line %d\n" % i
    return StreamingResponse(gen())


app.run("127.0.0.1", int(sys.argv[1]))
