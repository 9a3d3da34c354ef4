"""Constant routes (app.add_constant_route) beside normal routes and a middleware, for
test_constant_routes.py. Runs on CPython and MicroPython.

Served over HTTP with:  <python or micropython> constant_app.py PORT
"""
import sys

from microfastapi import MicroFastApi

app = MicroFastApi(title="constants")

# Answered by the server inside poll(); the middleware below never sees them over HTTP.
app.add_constant_route("/health", {"ok": True})
app.add_constant_route("/ping", "pong", content_type="text/plain",
                       headers={"X-Const": "1"}, methods=("GET", "HEAD", "POST"))


@app.middleware()
async def mark(req, call_next):
    resp = await call_next(req)
    resp.set_header("X-Middleware", "1")
    return resp


@app.get("/normal")
def normal(req):
    return {"normal": True}


# A route with its own body limit makes the server hand out requests whose body has not
# arrived yet (stream_bodies): those go to the app, constant path or not.
@app.post("/upload", max_body=1024)
def upload(req):
    return {"n": len(req.body)}


if __name__ == "__main__":
    app.max_conns = 4
    app.run("127.0.0.1", int(sys.argv[1]))
