"""Constant routes (docs/routing.md, "Constant routes"): answered by the server itself, on
every HTTP backend (the C server of build/unix, the pure-Python server on build/unix-pure and
on CPython), and by their mirror route in the TestClient."""
import pathlib
import socket
import time

import pytest

from api_util import HTTP_BACKENDS, serve_on_first_use
from tests.support import read_response, read_to_eof

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def _servers(request):
    yield from serve_on_first_use(request, app=HERE / "constant_app.py")


@pytest.fixture(params=HTTP_BACKENDS)
def srv(request, _servers):
    return _servers(request.param)


def connect(srv):
    return socket.create_connection((srv.host, srv.port), timeout=5)


def headers_of(head):
    """{lower-case name: value} of a response head, and its status line."""
    lines = head.decode().split("\r\n")
    return lines[0], {k.strip().lower(): v.strip() for k, _, v in
                      (line.partition(":") for line in lines[1:])}


def get(sock, req, buf=b"", head_only=False):
    sock.sendall(req)
    return read_response(sock, buf, head_only)


def test_constant_answer(srv):
    with connect(srv) as s:
        head, body, rest = get(s, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    status, h = headers_of(head)
    assert status == "HTTP/1.1 200 OK"
    assert body == b'{"ok": true}' and rest == b""
    assert h["content-type"] == "application/json"
    assert h["content-length"] == "12"
    assert "x-middleware" not in h  # constant routes bypass the middleware
    assert "connection" not in h    # HTTP/1.1 keep-alive is the default


def test_headers_and_text_body(srv):
    with connect(srv) as s:
        head, body, _ = get(s, b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
    status, h = headers_of(head)
    assert body == b"pong"
    assert h["content-type"] == "text/plain" and h["x-const"] == "1"


def test_head_sends_headers_only(srv):
    with connect(srv) as s:
        head, _, _ = get(s, b"HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n", head_only=True)
        _, h = headers_of(head)
        assert h["content-length"] == "12"
        # Nothing of a body came: the next answer on the connection starts right away.
        head2, body2, rest = get(s, b"GET /normal HTTP/1.1\r\nHost: t\r\n\r\n")
    assert head2.startswith(b"HTTP/1.1 200 ") and body2 == b'{"normal": true}' and rest == b""


def test_pipelined_with_normal_routes(srv):
    reqs = (b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /normal HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n"
            b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    with connect(srv) as s:
        s.sendall(reqs)
        got = []
        buf = b""
        for _ in range(4):
            head, body, buf = read_response(s, buf)
            got.append((headers_of(head)[1].get("x-middleware"), body))
        assert s.recv(100) == b""  # closed after the last one, as it asked
    assert got == [(None, b'{"ok": true}'), ("1", b'{"normal": true}'), (None, b"pong"),
                   (None, b'{"ok": true}')]


def test_query_string_is_ignored(srv):
    with connect(srv) as s:
        _, body, _ = get(s, b"GET /health?verbose=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert body == b'{"ok": true}'


def test_request_with_a_body(srv):
    with connect(srv) as s:
        head, body, _ = get(s, b"POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        assert body == b"pong" and "x-middleware" not in headers_of(head)[1]
        # The body was taken with its request, not read as the next one.
        _, body2, _ = get(s, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    assert body2 == b'{"ok": true}'


def test_body_still_arriving(srv):
    # The head alone first: the server hands the request to the app with its body still on
    # the wire (stream_bodies, because of /upload's max_body); the app has the server collect
    # it under the route's limit, and the whole request is then answered as constant. Never
    # is the body left on the wire to be read as the next request.
    with connect(srv) as s:
        s.sendall(b"POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n")
        time.sleep(0.3)
        s.sendall(b"hello")
        head, body, rest = read_response(s)
        assert body == b"pong" and rest == b""
        _, body2, _ = get(s, b"GET /normal HTTP/1.1\r\nHost: t\r\n\r\n")
    assert body2 == b'{"normal": true}'


def test_body_too_large_for_the_route(srv):
    # A body above the app's limit for the path is refused before the constant answer.
    with connect(srv) as s:
        s.sendall(b"POST /ping HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        head, _, _ = read_response(s)
    assert head.startswith(b"HTTP/1.1 413 ")


def test_other_method_is_the_apps(srv):
    with connect(srv) as s:
        head, _, _ = get(s, b"DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n")
    status, h = headers_of(head)
    assert status.startswith("HTTP/1.1 405 ") and h["allow"] == "GET"


def test_http10_closes(srv):
    with connect(srv) as s:
        s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        data = read_to_eof(s)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b'\r\n\r\n{"ok": true}')


def test_testclient_and_openapi():
    from microfastapi.testclient import TestClient
    import constant_app
    c = TestClient(constant_app.app)
    r = c.get("/health")
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert r.headers["content-type"] == "application/json"
    r = c.post("/ping", content=b"x")
    assert r.text == "pong" and r.headers["x-const"] == "1"
    paths = c.get("/openapi.json").json()["paths"]
    assert "get" in paths["/health"] and sorted(paths["/ping"]) == ["get", "post"]


def test_refused_registrations():
    from microfastapi import MicroFastApi
    app = MicroFastApi(openapi_url=None)
    with pytest.raises(ValueError):
        app.add_constant_route("/items/{id}", b"x")
    with pytest.raises(ValueError):
        app.add_constant_route("/x", b"x", headers={"Content-Length": "1"})
    with pytest.raises(ValueError):
        app.add_constant_route("/x", b"x", status=99)
    with pytest.raises(ValueError):
        app.add_constant_route("/x", b"x", headers={"X-A": "a\r\nInjected: 1"})
    with pytest.raises(ValueError):  # (as a JSONResponse: NaN has no JSON form)
        app.add_constant_route("/x", {"v": float("nan")})
    app.add_constant_route("/y", b"<p>", headers={"Content-Type": "text/html"})
    assert app._constants["/y"][2] == (("Content-Type", "text/html"),)
