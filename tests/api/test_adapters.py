"""microfastapi.asgi and microfastapi.wsgi (issue 20) beyond the API cases that test_api.py runs
through them ("asgi", "wsgi" backends): the example python/examples/on_a_pc.py under uvicorn and
wsgiref, a body over the route's limit, a client that goes away mid-stream, a failing stream,
WebSocket routes under uvicorn, and lifespan. Real servers on loopback, real clients (requests, raw sockets)."""
import socket
import subprocess
import sys
import time

import pytest
import requests

from api_util import EXAMPLES_DIR, HERE, PYDIR, free_port, spawn, stop

APP = HERE / "adapter_app.py"


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def served(request):
    port = free_port()
    env = dict(__import__("os").environ, PYTHONPATH="%s:%s" % (PYDIR, HERE))
    proc = spawn(request.param, [sys.executable, str(HERE / "adapter_serve.py"), request.param,
                                 str(APP), str(port)], env, port)
    yield request.param, "http://127.0.0.1:%d" % port, port
    stop(proc)


def test_example_on_a_pc(tmp_path):
    """on_a_pc.py's asgi_app under uvicorn and wsgi_app under wsgiref answer as hello.py
    does on the board."""
    env = dict(__import__("os").environ, PYTHONPATH="%s:%s" % (PYDIR, EXAMPLES_DIR))
    for kind, argv in (
            ("asgi", [sys.executable, "-m", "uvicorn", "on_a_pc:asgi_app", "--port", "{port}",
                      "--log-level", "warning"]),
            ("wsgi", [sys.executable, "-c",
                      "import sys; from wsgiref.simple_server import make_server; "
                      "from on_a_pc import wsgi_app; "
                      "make_server('127.0.0.1', int(sys.argv[1]), wsgi_app).serve_forever()",
                      "{port}"])):
        port = free_port()
        proc = spawn(kind, [a.replace("{port}", str(port)) for a in argv], env, port)
        try:
            base = "http://127.0.0.1:%d" % port
            assert requests.get(base + "/items/3?q=x").json() == {"item_id": 3, "q": "x"}
            r = requests.post(base + "/items/3", json={"name": "lamp"})
            assert r.status_code == 201 and r.json() == {"name": "lamp"}, (kind, r.text)
            assert requests.get(base + "/items/3").json() == {"name": "lamp"}
            assert requests.get(base + "/items/x").status_code == 422
            assert requests.delete(base + "/items/9").status_code == 404
        finally:
            stop(proc)


def test_body_over_the_route_limit_is_413(served):
    kind, base, _ = served
    r = requests.post(base + "/small", data=b"x" * 100)
    assert r.status_code == 413, (kind, r.status_code, r.text)
    r = requests.post(base + "/small", data=b"x" * 10)
    assert r.status_code == 200 and r.json() == {"len": 10}, (kind, r.text)


def test_stream_that_fails_is_cut(served):
    """A stream whose iterator raises after the answer started: the client sees a cut body,
    never a complete one (requests raises ChunkedEncodingError / the length is short)."""
    kind, base, _ = served
    with pytest.raises(requests.exceptions.RequestException):
        r = requests.get(base + "/broken-stream", timeout=10)
        r.content  # noqa: B018 - reading it is the point
    assert requests.get(base + "/ok").json() == {"ok": True}  # and the server goes on


def test_client_gone_mid_stream_frees_the_stream(served):
    """ASGI: the client goes away in the middle of an endless stream; the stream's task is
    cancelled (its finally runs: /gone-count counts it). WSGI gathers a stream whole, so an
    endless one cannot be served there: that route answers only on ASGI."""
    kind, base, port = served
    if kind == "wsgi":
        pytest.skip("WSGI sends an answer whole: no endless streams (docs/deploying.md)")
    before = requests.get(base + "/gone-count").json()["gone"]
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /endless?pause=600 HTTP/1.1\r\nHost: t\r\n\r\n")
    got = b""
    while got.count(b"tick") < 3:
        got += s.recv(4096)
    s.close()
    for _ in range(100):
        if requests.get(base + "/gone-count").json()["gone"] > before:
            break
        time.sleep(0.05)
    assert requests.get(base + "/gone-count").json()["gone"] == before + 1


def test_asgi_websocket(served):
    """The app's WebSocket routes under uvicorn, with a real client (websockets): echo of text
    and binary, the subprotocol, a close code from the handler, 1009 for a message over the
    route's max_message (the app's frame layer decides it), a refused handshake (403)."""
    kind, base, port = served
    if kind == "wsgi":
        pytest.skip("no WebSocket under WSGI (426; docs/deploying.md)")
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect
    url = "ws://127.0.0.1:%d" % port
    with connect(url + "/ws", subprotocols=["echo"], open_timeout=10) as ws:
        assert ws.subprotocol == "echo"
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        ws.send(b"\x00\x01binary")
        assert ws.recv(timeout=10) == b"\x00\x01binary"
        ws.send("close please")
        with pytest.raises(ConnectionClosed) as e:
            ws.recv(timeout=10)
        assert e.value.rcvd.code == 4001 and e.value.rcvd.reason == "asked to"
    with connect(url + "/ws", open_timeout=10) as ws:
        ws.send("x" * 2000)
        with pytest.raises(ConnectionClosed) as e:
            ws.recv(timeout=10)
        assert e.value.rcvd.code == 1009, e.value
    with pytest.raises(InvalidStatus) as e:
        connect(url + "/ws-refuse", open_timeout=10)
    assert e.value.response.status_code == 403
    assert requests.get(base + "/ok").json() == {"ok": True}


def test_asgi_lifespan():
    """uvicorn's lifespan handshake completes (lifespan="on" fails the start otherwise)."""
    import asyncio
    sys.path.insert(0, str(PYDIR))
    from microfastapi import MicroFastApi
    from microfastapi.asgi import ASGIApp
    sent = []
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive():
        return incoming.pop(0)

    async def send(msg):
        sent.append(msg)
    asyncio.run(ASGIApp(MicroFastApi())({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete",
                                         "lifespan.shutdown.complete"]
