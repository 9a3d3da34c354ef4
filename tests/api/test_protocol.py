"""HTTP/1.1 behaviour of the real servers, over raw sockets (CPython pyserver and both unix
binaries). The served app runs with max_conns=4, max_body=65536, 1 s header/body timeouts."""
import socket
import time

import requests


def test_keep_alive_reuses_connection(http):
    s = socket.create_connection((http.host, http.port), timeout=5)
    try:
        for i in range(3):
            s.sendall(b"GET /items/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
            data = b""
            while b'"q": null}' not in data:
                chunk = s.recv(4096)
                assert chunk, "server closed a keep-alive connection"
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"Connection: close" not in data
            assert b'"item_id": %d' % i in data
    finally:
        s.close()


def test_pipelined_requests_answered_in_order(http):
    req = b"".join(b"GET /items/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(5))
    req += b"GET /items/99 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    data = http.raw(req)
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 6
    pos = [data.find(b'"item_id": %d' % i) for i in (0, 1, 2, 3, 4, 99)]
    assert all(p > 0 for p in pos) and pos == sorted(pos)
    assert data.count(b"Connection: close") == 1


def test_http10_closes(http):
    data = http.raw(b"GET / HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" in data
    assert data.endswith(b'{"hello": "world"}')


def test_expect_100_continue(http):
    s = socket.create_connection((http.host, http.port), timeout=5)
    try:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        first = s.recv(4096)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"hello")
        data = first[25:]
        while not data.endswith(b"hello"):
            chunk = s.recv(4096)
            assert chunk
            data += chunk
        assert b"HTTP/1.1 200 OK" in data
    finally:
        s.close()


def test_chunked_request_body(http):
    body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    data = http.raw(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                    b"Connection: close\r\n\r\n" + body)
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert data.endswith(b"\r\n\r\nhello world")


def test_chunked_request_with_requests(http):
    def gen():
        yield b"abc"
        yield b"def"
    r = requests.post(http.base + "/echo", data=gen(), timeout=5)
    assert r.status_code == 200 and r.content == b"abcdef"


def test_streaming_is_chunked_on_the_wire(http):
    data = http.raw(b"GET /stream?n=2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert b"Content-Length" not in head
    assert body == b"8\r\nchunk 0\n\r\n8\r\nchunk 1\n\r\n0\r\n\r\n"


def test_body_too_large_is_413(http):
    data = http.raw(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in data


def test_parse_errors_answered_by_server(http):
    assert http.raw(b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert http.raw(b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400 ")  # no Host
    assert http.raw(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n")[:12] in (b"HTTP/1.1 505", b"HTTP/1.1 400")
    assert http.get("/").status_code == 200


def test_header_timeout_408(http):
    t0 = time.time()
    data = http.raw(b"GET / HTTP/1.1\r\nHost: t\r\n", timeout=8)
    assert data.startswith(b"HTTP/1.1 408 ")
    assert time.time() - t0 < 6


def test_body_timeout_408(http):
    data = http.raw(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc", timeout=8)
    assert data.startswith(b"HTTP/1.1 408 ")


def test_pool_full_is_503(http):
    """max_conns=4: a pool busy with requests (bodies arriving) answers a newcomer 503; one held
    by connections that sent nothing takes a slot back for it (docs/connections.md)."""
    held = [socket.create_connection((http.host, http.port), timeout=5) for _ in range(4)]
    try:
        for s in held:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
        time.sleep(0.2)
        data = http.raw(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", timeout=5)
        assert data.startswith(b"HTTP/1.1 503 ")
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    assert http.get("/").status_code == 200
    silent = [socket.create_connection((http.host, http.port), timeout=5) for _ in range(4)]
    try:
        time.sleep(0.2)
        assert http.get("/").status_code == 200
    finally:
        for s in silent:
            s.close()


def test_survives_abrupt_clients(http):
    for payload in (b"GET /items/1 HTTP/1.1\r\nHost", b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                    b"Content-Length: 100\r\n\r\nabc", b"GET /stream?n=2000 HTTP/1.1\r\nHost: t\r\n\r\n",
                    b"\x00\xff" * 100):
        s = socket.create_connection((http.host, http.port), timeout=5)
        s.sendall(payload)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST
    time.sleep(0.3)
    for _ in range(3):
        assert http.get("/").json() == {"hello": "world"}


def test_head_keeps_content_length(http):
    data = http.raw(b"HEAD /items/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 25" in head
    assert body == b""


def test_concurrent_clients(http):
    import threading
    errors = []

    def worker(n):
        try:
            with requests.Session() as s:
                for i in range(10):
                    r = s.get(http.base + "/items/%d" % (n * 100 + i), timeout=10)
                    assert r.json()["item_id"] == n * 100 + i
        except Exception as e:  # noqa
            errors.append(e)
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not errors
