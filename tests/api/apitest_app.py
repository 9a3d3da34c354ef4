"""The app every API test runs against. Runs on CPython and MicroPython.

Served over HTTP with:  <python or micropython> apitest_app.py PORT
(MICROPYPATH / sys.path must hold python/ and this directory).
"""
import sys

from microfastapi import (MicroFastApi, APIRouter, HTTPException, JSONResponse, HTMLResponse,
                          PlainTextResponse, RedirectResponse, StreamingResponse, FileResponse,
                          Response)
from microfastapi.cors import CORS
from microfastapi.pieces import AsyncPieces
from microfastapi.staticfiles import StaticFiles

app = MicroFastApi(title="apitest")
CORS(app, allow_origins=["http://allowed.example"], allow_credentials=True)


class TeapotError(Exception):
    pass


@app.exception_handler(TeapotError)
def teapot(req, exc):
    return JSONResponse({"detail": "teapot", "path": req.path}, 418)


@app.get("/")
def root(req):
    return {"hello": "world"}


@app.get("/items/{item_id:int}")
def read_item(req, item_id):
    return {"item_id": item_id, "q": req.query.get("q")}


@app.put("/items/{item_id:int}")
def put_item(req, item_id):
    return {"item_id": item_id, "body": req.json()}


@app.delete("/items/{item_id:int}")
def delete_item(req, item_id):
    return Response(b"", 204)


@app.post("/items")
async def create_item(req):
    return JSONResponse(req.json(), status_code=201)


@app.get("/users/me")
def me(req):
    return {"user": "me"}


@app.get("/users/{name}")
def user(req, name):
    return {"user": name}


@app.get("/price/{value:float}")
def price(req, value):
    return {"value": value}


@app.get("/files/{p:path}")
def files(req, p):
    return {"path": p}


@app.get("/report/{name}.json")
def report(req, name):
    return {"report": name}


@app.get("/query")
def query(req):
    q = req.query
    return {"a": q.get("a"), "all": q.getlist("a"), "b": q.get("b", "none"),
            "keys": list(q.keys())}


@app.get("/headers")
def headers(req):
    return {"x_custom": req.headers.get("X-Custom"), "ua_present": "user-agent" in req.headers,
            "host": req.header("HOST")}


@app.get("/cookies")
def cookies(req):
    return req.cookies


@app.get("/setcookie")
def setcookie(req):
    r = JSONResponse({"ok": True})
    r.set_cookie("session", "abc123", max_age=60, httponly=True)
    return r


@app.post("/form")
async def form(req):
    f = await req.form()
    return {"name": f.get("name"), "tags": f.getlist("tag")}


@app.post("/echo")
def echo(req):
    return req.body


@app.get("/text")
def text(req):
    return "plain text"


@app.get("/html")
def html(req):
    return HTMLResponse("<h1>hi</h1>")


@app.get("/plain")
def plain(req):
    return PlainTextResponse("explicit", status_code=202)


@app.get("/bytes")
def raw_bytes(req):
    return b"\x00\x01\x02"


@app.get("/tuple")
def tup(req):
    return {"created": 1}, 201, {"X-Extra": "yes"}


@app.get("/none")
def none(req):
    return None


@app.get("/redirect")
def redirect(req):
    return RedirectResponse("/items/1")


@app.get("/missing")
def missing(req):
    raise HTTPException(404, "Item not found")


@app.get("/auth")
def auth(req):
    raise HTTPException(401, "Login first", headers={"WWW-Authenticate": "Bearer"})


@app.get("/boom")
def boom(req):
    raise RuntimeError("boom")


@app.get("/async-boom")
async def async_boom(req):
    raise HTTPException(409, "async conflict")


@app.get("/teapot")
def teapot_route(req):
    raise TeapotError()


@app.get("/badheader")
def badheader(req):
    return Response(b"x", 200, {"X-Bad": "a\r\nInjected: yes"})


@app.get("/stream")
def stream(req):
    n = int(req.query.get("n", "3"))

    def gen():
        for i in range(n):
            yield "chunk %d\n" % i
    return StreamingResponse(gen())


@app.get("/astream")
def astream(req):
    async def countdown(i):  # an async iterator (MicroPython 1.25 has no async generators)
        return ("%d\n" % (2 - i)).encode()
    return StreamingResponse(AsyncPieces(3, countdown), media_type="text/plain")


class Text(str):
    """A str subclass, as template engines yield (Jinja's Markup)."""


@app.get("/stream-text")
def stream_text(req):
    def gen():
        yield Text("<b>")
        yield "x"
        yield Text("</b>")
    return StreamingResponse(gen(), media_type="text/html")


@app.get("/file")
def file(req):
    name = req.query.get("name", __file__)
    return FileResponse(name, chunk_size=256)


@app.get("/client")
def client(req):
    c = req.client
    return {"host": c[0], "port_is_int": isinstance(c[1], int)}


@app.route("/multi", methods=["GET", "POST"])
def multi(req):
    return {"method": req.method}


@app.get("/big")
def big(req):
    return {"data": "x" * 20000}


@app.get("/backend")
def which_backend(req):
    import microfastapi
    from microfastapi import backend
    return {"describe": backend.describe(), "has_mfa": backend._mfa is not None,
            "app": str(app), "file": getattr(microfastapi, "__file__", "")}


class Opaque:
    pass


@app.get("/unserialisable")
def unserialisable(req):
    return JSONResponse({"x": Opaque()})


@app.get("/unserialisable-list")
def unserialisable_list(req):
    return [1, {"y": Opaque}]


@app.get("/json-ok-with-markup")
def json_ok_with_markup(req):
    return {"html": "<b>(x)</b>", "t": (1, "<")}


@app.get("/todos")
def todos(req):
    return ["write tests"]


@app.get("/dir/")
def dir_slash(req):
    return {"dir": True}


@app.post("/json-echo")
def json_echo(req):
    return req.json()


router = APIRouter(prefix="/v1")


@router.get("/ping")
def ping(req):
    return {"pong": True}


@router.get("/echo/{word}")
def echo_word(req, word):
    return {"word": word}


app.include_router(router)

# Which route answers (tests/api/test_routing.py, docs/routing.md): templates whose first literal
# parts nest ('/rt/', '/rt/files/', '/rt/n/'), tried in registration order.
rt = APIRouter(prefix="/rt")


@rt.get("/{kind}/list")
def rt_kind_list(req, kind):
    return {"route": "kind-list", "kind": kind}


@rt.get("/files/{name}")
def rt_file(req, name):
    return {"route": "file", "name": name}


@rt.get("/files/latest")
def rt_latest(req):
    return {"route": "latest"}


@rt.get("/n/{v:int}")
def rt_int(req, v):
    return {"route": "int", "v": v}


@rt.get("/n/{w}/x")
def rt_str_x(req, w):
    return {"route": "str-x", "w": w}


@rt.get("/m/{x}")
def rt_m_get(req, x):
    return {"route": "m-get", "x": x}


@rt.post("/{a}/{b}")
def rt_any_post(req, a, b):
    return {"route": "any-post", "a": a, "b": b}


@rt.get("/r{n:int}.json")
def rt_report(req, n):
    return {"route": "report", "n": n}


def _rt_many(i):
    def handler(req, x):
        return {"route": "many", "i": i, "x": x}
    return handler


# enough routes under one prefix that the tree branches at every digit
for _i in range(24):
    rt.add_route("/t%d/{x}" % _i, _rt_many(_i))


app.include_router(rt)

_HERE = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
# check_dir=False: the emulator runs this app from a chip without that directory.
app.mount("/static", StaticFiles(directory=_HERE + "/static", check_dir=False))
app.mount("/site", StaticFiles(directory=_HERE + "/static", html=True, check_dir=False))


@app.middleware("http")
async def add_header(req, call_next):
    resp = await call_next(req)
    resp.set_header("X-Middleware", "1")
    return resp


if __name__ == "__main__":
    port = int(sys.argv[1])
    # Small limits so the protocol tests reach them quickly.
    app.max_conns = 4
    app.max_body = 65536
    app.header_timeout_ms = 1000
    app.body_timeout_ms = 1000
    app.idle_timeout_ms = 3000
    app.run("127.0.0.1", port)
