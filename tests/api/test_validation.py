"""Request validation from route declarations (validation.py): every path (missing, wrong type,
extra, defaults, constraints, nested, status codes) on the in-process TestClient in CPython,
in-process inside both unix binaries, and over real HTTP served by both unix binaries.
The cases live in validation_cases.py; the app in openapi_app.py."""
import importlib
import json

import pytest

from openapi_helpers import HTTPClient, run_mp_json, served
import validation_cases as vc

from microfastapi import MicroFastApi, JSONResponse
from microfastapi.testclient import TestClient
from microfastapi.validation import Param, Body, install


def fresh_app():
    import openapi_app
    return importlib.reload(openapi_app).app  # DELETE cases change its state


def check_results(results):
    assert len(results) == len(vc.CASES)
    bad = []
    for (name, status, got), case in zip(results, vc.CASES):
        assert name == case[0]
        if not vc.same(status, got, case[5], case[6]):
            bad.append((name, status, got, case[5], case[6]))
    assert not bad, json.dumps(bad, indent=1)


def test_cases_testclient_cpython():
    check_results([tuple(r) for r in vc.run_all(TestClient(fresh_app()))])


RUN = """
import json, validation_cases as vc, openapi_app
from microfastapi.testclient import TestClient
print("@@" + json.dumps(vc.run_all(TestClient(openapi_app.app))))
"""


def test_cases_testclient_micropython(unix_binary):
    check_results([tuple(r) for r in run_mp_json(unix_binary, RUN)])


def test_cases_http_micropython(unix_binary):
    with served(unix_binary) as base:
        check_results(vc.run_all(HTTPClient(base)))


# ---- unit: what the declarations do --------------------------------------------------------

def test_undeclared_routes_are_not_wrapped():
    app = MicroFastApi()

    @app.get("/a")
    def a(req):
        return {}

    @app.get("/b", summary="only documentation", tags=["t"])
    def b(req):
        return {}

    @app.get("/c", query={"x": int})
    def c(req, x):
        return {}
    eps = {ep.template: ep for ep in app.endpoints}
    assert eps["/a"].call is a and eps["/b"].call is b
    assert eps["/c"].call is not c


@pytest.mark.parametrize("bad", [
    {"query": {"x": {"nested": int}}},
    {"query": {"x": [[int]]}},
    {"query": {"x": set}},
    {"body": [int, str]},
    {"body": (int, 1, 2)},
    {"body": type("Empty", (), {})},
])
def test_bad_declarations_fail_at_registration(bad):
    app = MicroFastApi()
    with pytest.raises(TypeError):
        app.get("/x", **bad)(lambda req, **kw: {})


def test_status_code_and_returns():
    app = MicroFastApi()

    @app.post("/plain", status_code=201)
    def plain(req):
        return {"ok": 1}

    @app.post("/async", status_code=202)
    async def asy(req):
        return "text"

    @app.post("/tuple", status_code=201)
    def tup(req):
        return {"t": 1}, 200

    @app.post("/resp", status_code=201)
    def resp(req):
        return JSONResponse({"r": 1}, 418)

    @app.post("/none", status_code=204)
    def none(req):
        return None
    c = TestClient(app)
    assert (c.post("/plain").status_code, c.post("/plain").json()) == (201, {"ok": 1})
    r = c.post("/async")
    assert (r.status_code, r.text) == (202, "text")
    assert c.post("/tuple").status_code == 200
    assert c.post("/resp").status_code == 418
    r = c.post("/none")
    assert (r.status_code, r.content) == (204, b"")


def test_query_declared_as_ordered_pairs_and_param_objects():
    app = MicroFastApi()

    @app.get("/p", query=[("b", Param(int, 2, description="B")), ("a", (str, "x"))])
    def p(req, a, b):
        return {"a": a, "b": b}
    c = TestClient(app)
    assert c.get("/p").json() == {"a": "x", "b": 2}
    assert c.get("/p?b=5&a=y").json() == {"a": "y", "b": 5}


def test_mutable_defaults_are_copied():
    app = MicroFastApi()

    @app.post("/m", body={"tags": ([str], [])})
    def m(req, body):
        body["tags"].append("x")
        return body
    c = TestClient(app)
    assert c.post("/m", json={}).json() == {"tags": ["x"]}
    assert c.post("/m", json={}).json() == {"tags": ["x"]}


def test_custom_422_handler_sees_errors():
    app = MicroFastApi()

    @app.exception_handler(422)
    def h(req, exc):
        return JSONResponse({"n": len(exc.errors)}, 400)

    @app.get("/q", query={"a": int, "b": int})
    def q(req, a, b):
        return {}
    r = TestClient(app).get("/q")
    assert (r.status_code, r.json()) == (400, {"n": 2})


def test_body_param_name_and_class_instance():
    class Point:
        x = int
        y = (int, 0)

    app = MicroFastApi()

    @app.post("/pt", body=Body(Point, name="pt"))
    def pt(req, pt):
        return {"cls": type(pt).__name__, "x": pt.x, "y": pt.y}
    assert TestClient(app).post("/pt", json={"x": 3}).json() == {"cls": "Point", "x": 3, "y": 0}
