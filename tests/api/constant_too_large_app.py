"""A constant route whose head cannot fit the C server's output buffer (MFA_CONN_OUT_BUF), for
test_constant_too_large.py. Runs on CPython and MicroPython.

Served over HTTP with:  <python or micropython> constant_too_large_app.py PORT
"""
import sys

from microfastapi import MicroFastApi

app = MicroFastApi(title="constant too large")

app.add_constant_route("/big", b"x", content_type="text/plain", headers={"X-Big": "a" * 5000})


@app.get("/normal")
def normal(req):
    return {"normal": True}


if __name__ == "__main__":
    app.max_conns = 2
    app.run("127.0.0.1", int(sys.argv[1]))
