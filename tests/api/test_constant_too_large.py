"""A constant answer that does not fit the C server's output buffer is still an answer: the
client is not left waiting on a request nobody holds, and the connection's slot comes back
(the C server fails it with 500 and closes; the pure-Python server has no such buffer)."""
import pathlib
import socket

import pytest

from api_util import HTTP_BACKENDS, serve_on_first_use
from tests.support import read_response

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def _servers(request):
    yield from serve_on_first_use(request, app=HERE / "constant_too_large_app.py")


@pytest.fixture(params=HTTP_BACKENDS)
def srv(request, _servers):
    return _servers(request.param)


def get(srv, req):
    with socket.create_connection((srv.host, srv.port), timeout=5) as s:
        s.sendall(req)
        head, body, _ = read_response(s, b"", False)
    return head.split(b"\r\n")[0], body


def test_too_large_constant_answers_and_frees_its_slot(srv):
    # More requests than the server has slots (max_conns 2): a slot left handed to nobody
    # would make the last ones wait (timeout) or get 503.
    for _ in range(3):
        status, _ = get(srv, b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        assert status.split(b" ")[1] in (b"200", b"500")
    status, body = get(srv, b"GET /normal HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == b"HTTP/1.1 200 OK" and body == b'{"normal": true}'
