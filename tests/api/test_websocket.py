"""WebSocket endpoints (issue 13) over real sockets, on the unix `_mfa` build, the unix pure
build and CPython: the `websockets` package as the client, and hand-made frames on raw sockets
for the handshake errors and the protocol errors. In-process, TestClient.websocket_connect().
"""
import json
import os
import socket
import struct
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from api_util import HERE, HTTP_BACKENDS, serve_on_first_use


@pytest.fixture(scope="module")
def _ws_servers(request):
    yield from serve_on_first_use(request, app=HERE / "ws_app.py")


@pytest.fixture(params=HTTP_BACKENDS)
def srv(request, _ws_servers):
    return _ws_servers(request.param)


def url(srv, path):
    return "ws://127.0.0.1:%d%s" % (srv.port, path)


def state(srv):
    return srv.request("GET", "/state").json()


def wait_for(cond, limit=10.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    return cond()


# ---- hand-made frames ------------------------------------------------------------------------

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def handshake(srv, path="/ws/echo", extra=b"", key=KEY, version=b"13", http=b"1.1",
              upgrade=b"websocket", connection=b"Upgrade", rcvbuf=None):
    s = socket.socket()
    s.settimeout(5)
    if rcvbuf:  # (before connecting: the window the client offers is set by then)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", srv.port))
    req = (b"GET %s HTTP/%s\r\nHost: x\r\nUpgrade: %s\r\nConnection: %s\r\n"
           b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: %s\r\n\r\n"
           % (path.encode(), http, upgrade, connection, key.encode(), version))
    s.sendall(req + extra)
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(1)
        if not d:
            break
        head += d
    return s, head


def frame(opcode, payload=b"", fin=True, mask=b"\x11\x22\x33\x44", rsv=0, length=None):
    """A client frame (masked unless mask is None)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    m = 0x80 if mask is not None else 0
    if n < 126:
        head = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, m | 126, n)
    else:
        head = struct.pack("!BBQ", b0, m | 127, n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(s):
    """(opcode, payload) of the server's next frame; None when the connection ended."""
    def exact(n):
        out = b""
        while len(out) < n:
            d = s.recv(n - len(out))
            if not d:
                return None
            out += d
        return out
    try:
        h = exact(2)
    except (ConnectionResetError, socket.timeout):
        return None
    if h is None:
        return None
    assert not h[1] & 0x80, "server frames are not masked"
    n = h[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", exact(8))[0]
    return h[0] & 0x0F, exact(n) if n else b""


def close_code(s):
    """The code of the server's close frame (skipping other frames), or None."""
    while True:
        f = read_frame(s)
        if f is None:
            return None
        if f[0] == 8:
            return struct.unpack("!H", f[1][:2])[0] if len(f[1]) >= 2 else 1005


# ---- the API ---------------------------------------------------------------------------------

def test_echo_text_and_binary_and_round_trips(srv):
    with connect(url(srv, "/ws/echo"), open_timeout=5) as ws:
        for m in ["hello", "", "ünïcödé ✓", b"\x00\xff binary", "x" * 4000, bytes(range(256)) * 15]:
            ws.send(m)
            assert ws.recv(timeout=5) == m
        for i in range(100):
            ws.send("m%d" % i)
            assert ws.recv(timeout=5) == "m%d" % i


def test_json_path_parameter_and_close_code(srv):
    with connect(url(srv, "/ws/json/7"), open_timeout=5) as ws:
        ws.send(json.dumps({"a": [1, 2]}))
        assert json.loads(ws.recv(timeout=5)) == {"n": 7, "got": {"a": [1, 2]}}
        with pytest.raises(ConnectionClosed) as e:
            ws.recv(timeout=5)
    assert e.value.rcvd.code == 4000 and e.value.rcvd.reason == "bye"


def test_subprotocol_selection(srv):
    with connect(url(srv, "/ws/sub"), subprotocols=["other", "chat"], open_timeout=5) as ws:
        assert ws.subprotocol == "chat" and ws.recv(timeout=5) == "chat"
    with connect(url(srv, "/ws/sub"), open_timeout=5) as ws:
        assert ws.subprotocol is None and ws.recv(timeout=5) == "none"


@pytest.mark.parametrize("path,status", [("/ws/refuse", 403), ("/ws/fail", 500),
                                         ("/ws/nowhere", 404)])
def test_refused_handshakes(srv, path, status):
    with pytest.raises(InvalidStatus) as e:
        connect(url(srv, path), open_timeout=5)
    assert e.value.response.status_code == status
    assert srv.request("GET", "/json").json() == {"ok": True}


def test_handler_failing_after_accept_closes_1011(srv):
    with connect(url(srv, "/ws/crash"), open_timeout=5) as ws:
        ws.send("go")
        with pytest.raises(ConnectionClosed) as e:
            ws.recv(timeout=5)
    assert e.value.rcvd.code == 1011


def test_text_expected_binary_closes_1003(srv):
    with connect(url(srv, "/ws/text"), open_timeout=5) as ws:
        ws.send("a")
        assert ws.recv(timeout=5) == "got a"
        ws.send(b"bin")
        with pytest.raises(ConnectionClosed) as e:
            ws.recv(timeout=5)
    assert e.value.rcvd.code == 1003


def test_plain_get_to_a_websocket_route(srv):
    r = srv.request("GET", "/ws/echo")
    assert r.status_code == 426 and r.headers["Sec-WebSocket-Version"] == "13"
    assert r.headers["Upgrade"] == "websocket"


@pytest.mark.parametrize("kw,status", [
    ({"version": b"8"}, 426),
    ({"key": "short"}, 400),
    ({"key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 400),  # base64 of 24 bytes, not 16
    ({"http": b"1.0"}, 400),
    ({"connection": b"keep-alive"}, 400),
])
def test_bad_handshakes(srv, kw, status):
    s, head = handshake(srv, **kw)
    assert head.startswith(b"HTTP/1.1 %d " % status), head
    if status == 426:
        assert b"Sec-WebSocket-Version: 13\r\n" in head
    s.close()


def test_accept_key_and_bytes_behind_the_handshake(srv):
    s, head = handshake(srv, extra=frame(1, b"early"))
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in head  # RFC 6455 1.3
    assert read_frame(s) == (1, b"early")
    s.close()


# ---- protocol: the close codes of RFC 6455 7.4.1 ---------------------------------------------

@pytest.mark.parametrize("data,code", [
    (frame(1, b"unmasked", mask=None), 1002),
    (frame(1, b"rsv", rsv=4), 1002),
    (frame(3, b"op 3"), 1002),
    (frame(0, b"continuation first"), 1002),
    (frame(9, b"p" * 126), 1002),             # control frame over 125 bytes
    (frame(9, b"frag", fin=False), 1002),     # fragmented control frame
    (frame(1, b"\xff\xfe"), 1007),            # invalid UTF-8
    (frame(1, "é".encode()[:1]), 1007),       # truncated UTF-8
    (frame(2, b"x" * 65), 1009),              # over /ws/small's max_message
    (frame(2, length=1 << 62)[:14], 1009),    # a huge length: refused from the header alone
    (frame(2, length=1 << 63)[:14], 1002),    # top bit of a 64-bit length set
    (frame(8, b"\x03\xe8"[:1]), 1002),        # close payload of 1 byte
    (frame(8, struct.pack("!H", 1005)), 1002),  # a close code not allowed on the wire
])
def test_protocol_errors_close_with_their_code(srv, data, code):
    s, head = handshake(srv, "/ws/small")
    assert head.startswith(b"HTTP/1.1 101")
    s.sendall(data)
    assert close_code(s) == code
    s.close()
    assert srv.request("GET", "/json").status_code == 200


def test_fragments_ping_and_a_frame_split_at_every_byte(srv):
    s, _ = handshake(srv)
    s.sendall(frame(1, b"Hel", fin=False) + frame(9, b"ping!") + frame(0, b"lo"))
    assert read_frame(s) == (10, b"ping!")   # the pong, between the fragments' message
    assert read_frame(s) == (1, b"Hello")
    data = frame(2, bytes(range(200))) + frame(1, "ü".encode() * 30)
    for i in range(len(data)):
        s.sendall(data[i:i + 1])
        time.sleep(0.001)
    assert read_frame(s) == (2, bytes(range(200)))
    assert read_frame(s) == (1, "ü".encode() * 30)
    s.sendall(frame(8, struct.pack("!H", 1000) + b"done"))
    assert read_frame(s)[0] == 8      # our close is answered with the server's
    assert read_frame(s) is None      # and the server closes the connection
    s.close()


def test_client_that_vanishes_mid_message_frees_its_slot(srv):
    base = state(srv)["websockets"]
    socks = []
    for _ in range(3):
        s, _ = handshake(srv)
        s.sendall(frame(2, b"x" * 1000)[:300])  # a third of a message, then gone
        socks.append(s)
    assert wait_for(lambda: state(srv)["websockets"] >= base + 3)
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # reset
    assert wait_for(lambda: state(srv)["websockets"] == base), state(srv)
    with connect(url(srv, "/ws/echo"), open_timeout=5) as ws:
        ws.send("still here")
        assert ws.recv(timeout=5) == "still here"


def test_silent_peer_is_pinged_then_dropped(srv):
    """A peer that answers nothing (its WiFi dropped) gets a ping after ws_ping_interval_ms
    (1.5 s in ws_app) and is reset after ws_ping_timeout_ms more: its slot is free again."""
    base = state(srv)["websockets"]
    s, _ = handshake(srv)
    s.settimeout(6)
    assert read_frame(s) == (9, b"")   # the keep-alive ping; we do not answer it
    assert wait_for(lambda: state(srv)["websockets"] == base, 6), state(srv)
    assert read_frame(s) is None
    s.close()


def test_push_at_link_speed_and_a_client_that_never_reads(srv):
    with connect(url(srv, "/ws/push?n=2000&size=1000"), open_timeout=5, max_size=None) as ws:
        got = 0
        try:
            while True:
                got += len(ws.recv(timeout=10))
        except ConnectionClosed as e:
            assert e.rcvd.code == 1000
    assert got == 2000 * 1000
    # A client that never reads: the server's queue fills, the handler waits (it is not
    # buffered in RAM), the write timeout resets the connection, everyone else is served.
    before = state(srv)
    s, _ = handshake(srv, "/ws/push?n=100000&size=1000", rcvbuf=4096)
    for _ in range(20):
        assert srv.request("GET", "/json").status_code == 200
    mid = state(srv)
    if "mem_alloc" in before:  # MicroPython: the heap did not grow with what is unsent
        assert mid["mem_alloc"] - before["mem_alloc"] < 64 * 1024, (before, mid)
    assert wait_for(lambda: state(srv)["websockets"] == before["websockets"], 10), state(srv)
    s.close()


def test_handshakes_to_plain_routes_then_sse_then_get(srv):
    """The sequence from issue 13 that once took the unix _mfa server down: 38 WebSocket
    handshakes answered 404, three server-sent-event streams that really await, a GET."""
    for _ in range(38):
        s, head = handshake(srv, "/json-nowhere")
        assert head.startswith(b"HTTP/1.1 404")
        s.close()
    for _ in range(3):
        r = srv.request("GET", "/events?n=3")
        assert r.status_code == 200 and r.text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"
    assert srv.request("GET", "/json").json() == {"ok": True}
    assert srv.proc.poll() is None


# ---- in-process: TestClient.websocket_connect ------------------------------------------------

def test_testclient_websocket():
    from microfastapi import WebSocketDisconnect
    from microfastapi.testclient import TestClient, WebSocketRejected
    import ws_app
    client = TestClient(ws_app.app)
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"\x00\x01"
        ws.send_json({"a": 1})
        assert ws.receive_json() == {"a": 1}
    with client.websocket_connect("/ws/json/3") as ws:
        ws.send_json([1])
        assert ws.receive_json() == {"n": 3, "got": [1]}
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive()
        assert e.value.code == 4000 and ws.close_reason == "bye"
    with client.websocket_connect("/ws/sub", subprotocols=["chat"]) as ws:
        assert ws.subprotocol == "chat" and ws.receive_text() == "chat"
    with pytest.raises(WebSocketRejected) as e:
        with client.websocket_connect("/ws/refuse"):
            pass
    assert e.value.response.status_code == 403
    with client.websocket_connect("/ws/small") as ws:
        ws.send_bytes(b"x" * 65)
        with pytest.raises(WebSocketDisconnect) as e:
            ws.receive()
        assert e.value.code == 1009
    assert client.get("/json").json() == {"ok": True}


# ---- server-sent events and broadcast ----------------------------------------------------------

def sse_lines(srv, path, until, timeout=5):
    """The raw text of an event stream, read until `until` is in it (or the stream ends)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
    data = b""
    t0 = time.monotonic()
    while until.encode() not in data and time.monotonic() - t0 < timeout:
        d = s.recv(65536)
        if not d:
            break
        data += d
    return s, data


def test_event_stream_kinds(srv):
    r = srv.request("GET", "/sse/kinds")
    assert r.headers["Content-Type"] == "text/event-stream"
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.text == ("data: plain\n\n" "data: two\ndata: lines\n\n" 'data: {"t": 21.5}\n\n'
                      'event: relay\nid: 7\nretry: 2000\ndata: {"on": true}\n\n'
                      ": hello\nevent: note\ndata: x\n\n")


def test_broadcast_to_websocket_and_sse_clients_and_keep_alive(srv):
    socks = [sse_lines(srv, "/sse/hub", "\r\n\r\n")[0] for _ in range(2)]
    with connect(url(srv, "/ws/hub"), open_timeout=5) as w1, \
            connect(url(srv, "/ws/hub"), open_timeout=5) as w2:
        assert wait_for(lambda: srv.request("POST", "/publish?msg=probe").json()["hub"] == 4)
        for w in (w1, w2):
            while w.recv(timeout=5) != "probe":
                pass
        assert srv.request("POST", "/publish?msg=reading").json()["subscribers"] == 4
        assert w1.recv(timeout=5) == "reading" and w2.recv(timeout=5) == "reading"
        w1.send("relay on")   # a command from one client reaches every one
        assert w1.recv(timeout=5) == "echo: relay on" and w2.recv(timeout=5) == "echo: relay on"
        for s in socks:
            data = b""
            while b"echo: relay on" not in data:
                data += s.recv(65536)
            assert b"data: reading\n\n" in data
        time.sleep(0.5)
        for s in socks:  # nothing published for 300 ms: a keep-alive comment
            assert b":\n\n" in s.recv(65536)
    for s in socks:  # the SSE clients go away: their subscriptions end, their slots free
        s.close()
    assert wait_for(lambda: srv.request("POST", "/publish?msg=x").json()["hub"] == 0)


def test_broadcast_drops_a_client_that_does_not_keep_up(srv):
    """One WebSocket client never reads: its queue (4 messages) fills, it is dropped, the
    others get every message; publishing never waits for it."""
    s, head = handshake(srv, "/ws/hub", rcvbuf=4096)
    with connect(url(srv, "/ws/hub"), open_timeout=5) as fast:
        assert wait_for(lambda: srv.request("POST", "/publish?msg=probe").json()["hub"] == 2)
        while fast.recv(timeout=5) != "probe":
            pass
        got = 0
        hub = 2
        for burst in range(400):  # (bursts within the queue's 4: a fast client keeps up)
            t0 = time.monotonic()
            hub = srv.request("POST", "/publish?msg=z&times=16000&n=3").json()["hub"]
            assert time.monotonic() - t0 < 5  # publishing never waits for the slow one
            for i in range(3):
                assert fast.recv(timeout=5).endswith(" %d" % i)
                got += 1
            if hub == 1:
                break  # the slow one is gone (once the kernel's buffers were full)
        assert hub == 1 and got == 3 * (burst + 1)
        assert state(srv)["unsent"] < 1 << 20
    s.close()
