"""StaticFiles over real HTTP for tests/api/test_static_files.py: STATIC_DIR mounted at /s
(html=True, Cache-Control: no-cache, so browsers revalidate every load); GET /counts says how
many answers of each status /s gave (' gz': of the gzip variant) (the browser test's proof of a 304). Port from argv[1]."""
import os
import sys

from microfastapi import MicroFastApi
from microfastapi.staticfiles import StaticFiles

app = MicroFastApi()
app.mount("/s", StaticFiles(os.getenv("STATIC_DIR"), html=True, cache_control="no-cache"))
counts = {}


@app.after_request
def count(req, resp):
    if req.path.startswith("/s"):
        k = "%s %d" % (req.path, resp.status_code)
        if resp.get_header("content-encoding") == "gzip" or \
                resp.get_header("etag", "")[-4:] == '-gz"':
            k += " gz"
        counts[k] = counts.get(k, 0) + 1
    return resp


@app.get("/counts")
def get_counts(req):
    return counts


if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]))
