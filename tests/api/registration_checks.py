"""Mistakes in registering routes are errors at registration, and what can work does.

Runs on CPython and on both unix MicroPython binaries (test_registration.py); prints one line per
check, "ok NAME" or "FAIL NAME: why", then "done N".
"""
from microfastapi import MicroFastApi, APIRouter, FileResponse, JSONResponse
from microfastapi.testclient import TestClient
from checklib import check, raises, run_checks

def handler(req):
    return {"ok": True}


@check
def unknown_option():
    app = MicroFastApi()
    raises(TypeError, lambda: app.get("/x", tyop=1)(handler), "tyop", "summary")
    raises(TypeError, lambda: app.route("/x", methods=["GET"], sumary="s")(handler), "sumary")
    raises(TypeError, lambda: APIRouter(prefix="/r", tagz=["x"]), "tagz")
    raises(TypeError, lambda: MicroFastApi(bogus=1), "bogus")
    assert app.router.endpoints[-1].template != "/x"  # nothing half-registered


@check
def known_options_still_work():
    app = MicroFastApi()
    @app.get("/x", summary="s", tags=["t"], status_code=201, query={"q": (str, None)})
    def x(req, q):
        return {"ok": q is None}
    r = TestClient(app).get("/x")
    assert r.status_code == 201 and r.json() == {"ok": True}


@check
def body_options():
    app = MicroFastApi()
    raises(TypeError, lambda: app.post("/x", stream_body=True, body={"a": int})(handler),
           "stream_body", "req.stream()")
    raises(TypeError, lambda: app.post("/y", body={"a": int}, form={"b": str})(handler),
           "body= or form=")
    raises(TypeError, lambda: app.post("/z", form={"b": {"c": int}})(handler), "form field")
    @app.post("/ok", stream_body=True, max_body=10)
    async def ok(req):
        return {"n": len(await req.stream().readall())}
    c = TestClient(app)
    assert c.post("/ok", body=b"123").json() == {"n": 3}
    assert c.post("/ok", body=b"x" * 11).status_code == 413


@check
def path_declaration():
    app = MicroFastApi()
    raises(TypeError, lambda: app.get("/items/{id:int}", path={"id": int})(handler),
           "path=", "{item_id:int}")


@check
def path_as_keyword():
    app = MicroFastApi()
    app.get(path="/kw")(handler)  # FastAPI's keyword form
    assert TestClient(app).get("/kw").json() == {"ok": True}
    raises(TypeError, lambda: app.get()(handler), "path as a str")
    raises(TypeError, lambda: app.get(b"/bytes")(handler), "path as a str")


@check
def methods_as_str():
    app = MicroFastApi()
    raises(TypeError, lambda: app.route("/m", methods="POST")(handler), "methods=['POST']")


@check
def microdot_template():
    app = MicroFastApi()
    raises(ValueError, lambda: app.get("/old/<int:id>")(handler), "{id:int}", "<int:id>")
    raises(ValueError, lambda: app.get("/old/<name>/x")(handler), "{name}")


@check
def mount_app():
    sub = MicroFastApi(title="sub")

    @sub.get("/hello/{name}")
    def hello(req, name):
        return {"hello": name}
    app = MicroFastApi()
    app.mount("/sub", sub)
    c = TestClient(app)
    assert c.get("/sub/hello/bob").json() == {"hello": "bob"}
    assert c.get("/sub/openapi.json").status_code == 404  # the sub-app's own pages stay behind
    paths = c.get("/openapi.json").json()["paths"]
    assert "/sub/hello/{name}" in paths, paths
    raises(TypeError, lambda: app.mount("/x", object()), "StaticFiles", "object")


@check
def include_app():
    sub = MicroFastApi()
    sub.get("/a")(handler)
    app = MicroFastApi()
    app.include_router(sub, prefix="/p")
    assert TestClient(app).get("/p/a").json() == {"ok": True}
    raises(TypeError, lambda: app.include_router("/nope"), "APIRouter", "str")


@check
def include_app_with_handlers_refused():
    sub = MicroFastApi(title="withhooks")

    @sub.before_request
    def hook(req):
        return None
    sub.get("/a")(handler)
    raises(ValueError, lambda: MicroFastApi().include_router(sub), "withhooks", "hooks")


@check
def missing_file_goes_through_404_handler():
    app = MicroFastApi()
    seen = []

    @app.exception_handler(404)
    def nf(req, exc):
        return JSONResponse({"custom": req.path}, 404)

    @app.after_request
    def after(req, resp):
        seen.append(resp.status_code)

    @app.get("/f")
    def f(req):
        return FileResponse("/nonexistent/file.txt")
    r = TestClient(app).get("/f")
    assert r.status_code == 404 and r.json() == {"custom": "/f"}, (r.status_code, r.text)
    assert seen == [404], seen


run_checks()
