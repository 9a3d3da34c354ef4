"""python/examples/uploads.py for tests/api/test_uploads.py: the example's app as it is, with
short body timeouts (a hostile client's stalled body is answered in 1.5 s, not 10) and a
route that says what a streamed body looked like. Port from argv[1] (api_util.spawn)."""
import sys

import uploads
from microfastapi import HTTPException

app = uploads.app
app.body_timeout_ms = 1500


@app.post("/count", stream_body=True, max_body=1 << 30)
async def count(req):
    """Bytes and a 32-bit additive checksum of a streamed body, and the most bytes one piece
    held (pieces are bounded by the connection's input buffer; ?size=N: by a buffer of N bytes
    they are copied into)."""
    n = s = most = 0
    size = req.query.get("size")
    async for piece in req.stream(int(size) if size else None):
        n += len(piece)
        most = max(most, len(piece))
        for b in bytes(piece):
            s += b
    return {"len": n, "sum": s & 0xFFFFFFFF, "most": most}


@app.post("/fields", max_body=4096)
async def fields(req):
    """A buffered (not streamed) multipart or urlencoded form, fields and file sizes."""
    f = await req.form()
    out = {}
    for k, v in f.items():
        out[k] = v if type(v) is str else {"filename": v.filename, "size": v.size,
                                            "content_type": v.content_type}
    return out


@app.get("/spool")
def spool(req):
    """Spool files left in the upload directory (there must be none between requests)."""
    import os
    return [n for n in os.listdir(uploads.DIR) if n.startswith(".mfa-upload")]


if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]))
