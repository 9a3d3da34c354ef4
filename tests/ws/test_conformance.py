"""WebSocket conformance (issue 13's proof): the Autobahn-modelled corpus in autobahn_cases.py,
run over real sockets against tests/api/ws_app.py on the unix `_mfa` build, the unix pure
build and CPython. Each case goes over a new connection with a small client of our own that
masks its frames and reads the server's; the case's frames, pongs, close code and the end of
the TCP connection are checked, and then that the server still answers GET /json. A subset
runs again through two independent clients: the `websockets` package (sync client) and
wsproto's connection state machine.

The per-section summary (cases passed per backend) is printed at the end of the session
(conftest.py), with or without -n.
"""
import base64
import hashlib
import os
import pathlib
import socket
import struct
import sys
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "api")]

from api_util import HTTP_BACKENDS, serve_on_first_use  # noqa: E402
import autobahn_cases as ab  # noqa: E402

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WAIT = 5.0        # longest wait for an expected frame or the end of the connection
OCTET_GAP = 0.0002  # between the writes of an octet-wise send (each its own segment)
FRAME_GAP = 0.002   # between frames sent frame-wise


@pytest.fixture(scope="module")
def servers(request):
    yield from serve_on_first_use(request, app=ROOT / "tests" / "api" / "ws_app.py")


# ---- the client ------------------------------------------------------------------------------

class Peer:
    """One WebSocket connection over a raw socket: the opening handshake (checked: 101, the
    accept key, no extension), then writes as the case says and reads the server's frames,
    checking that each is final, unmasked, without RSV bits and with the shortest length
    form."""

    def __init__(self, port, path, headers=()):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16))
        extra = b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in headers)
        self.sock.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                          b"Sec-WebSocket-Version: 13\r\n%s\r\n"
                          % (path.encode(), port, key, extra))
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(4096)
            assert d, "connection closed during the handshake: %r" % self.buf
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 101 "), head
        self.headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        want = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        assert self.headers.get("sec-websocket-accept") == want, head
        # permessage-deflate (and every other extension) is not offered
        assert "sec-websocket-extensions" not in self.headers, head
        self.bad = []   # what was wrong with the server's frames

    def send(self, frames, chop):
        """Write `frames` as `chop` says. False when the server had closed (a reset or a
        broken pipe: data after a failed connection may be refused)."""
        data = b"".join(frames)
        try:
            if chop == "whole":
                self.sock.sendall(data)
            elif chop == "frames":
                for f in frames:
                    self.sock.sendall(f)
                    time.sleep(FRAME_GAP)
            elif chop == "octets":
                for i in range(len(data)):
                    self.sock.sendall(data[i:i + 1])
                    time.sleep(OCTET_GAP)
            else:
                for i in range(0, len(data), chop):
                    self.sock.sendall(data[i:i + chop])
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                return "timeout"
            except ConnectionResetError:
                return "reset"
            if not d:
                return "eof"
            self.buf += d
        return None

    def read(self, deadline):
        """(opcode, payload) of the server's next frame, or "eof", "reset", "timeout"
        (with whatever partial frame remained noted in self.bad)."""
        end = self._fill(2, deadline)
        if end:
            if self.buf:
                self.bad.append("%d stray bytes before %s" % (len(self.buf), end))
            return end
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        ext = 2 if n == 126 else 8 if n == 127 else 0
        end = self._fill(2 + ext, deadline)
        if end:
            self.bad.append("frame header cut: %s" % end)
            return end
        if ext:
            n = int.from_bytes(self.buf[2:2 + ext], "big")
        end = self._fill(2 + ext + n, deadline)
        if end:
            self.bad.append("frame of %d bytes cut: %s" % (n, end))
            return end
        payload = self.buf[2 + ext:2 + ext + n]
        self.buf = self.buf[2 + ext + n:]
        op = b0 & 0x0F
        if not b0 & 0x80:
            self.bad.append("opcode %d frame not final" % op)
        if b0 & 0x70:
            self.bad.append("opcode %d frame with RSV bits" % op)
        if b1 & 0x80:
            self.bad.append("opcode %d frame masked" % op)
        if op >= 8 and n > 125:
            self.bad.append("control frame of %d bytes" % n)
        if ext != (0 if n < 126 else 2 if n < 65536 else 8):
            self.bad.append("%d-byte frame with a %d-byte length" % (n, ext))
        return op, payload

    def close(self):
        self.sock.close()


def opcodes(stream):
    """The opcodes of the frames that start in `stream` (client frames, masked)."""
    ops = []
    i = 0
    while i + 2 <= len(stream):
        ops.append(stream[i] & 0x0F)
        n = stream[i + 1] & 0x7F
        ext = 2 if n == 126 else 8 if n == 127 else 0
        if i + 2 + ext > len(stream):
            break
        if ext:
            n = int.from_bytes(stream[i + 2:i + 2 + ext], "big")
        i += 2 + ext + (4 if stream[i + 1] & 0x80 else 0) + n
    return ops


def run_case(port, case):
    """Play `case` against the server on `port`. Returns the outcome: {"frames": the server's
    frames before its close, "close": its close code (or None), "reason": its close reason,
    "after": frames after its close, "end": how the connection ended ("eof" expected),
    "close_at": the part after which its close was read, "first": whether the server's close
    came before the client sent one, "bad": malformed server frames}."""
    peer = Peer(port, case.path, case.headers)
    out = {"frames": [], "close": None, "reason": None, "after": [], "end": None,
           "close_at": None, "first": None, "bad": peer.bad}
    sent_close = False

    def take(f):
        if isinstance(f, str):
            out["end"] = f
        elif out["close"] is not None:
            out["after"].append(f)
        elif f[0] == ab.CLOSE:
            p = f[1]
            out["close"] = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
            out["first"] = not sent_close
            try:
                out["reason"] = p[2:].decode()
            except UnicodeDecodeError:
                peer.bad.append("close reason not UTF-8: %r" % p[2:])
        else:
            out["frames"].append(f)

    def pump(want, deadline):
        """Read until `want` frames arrived, or the close, or the end."""
        while out["end"] is None and out["close"] is None and len(out["frames"]) < want:
            take(peer.read(deadline))

    want = 0
    sent = b""
    try:
        for i, part in enumerate(case.parts):
            if out["end"] is not None:
                break
            # (also after the server's close: what comes then must be ignored)
            if not peer.send(part.frames, part.chop):
                break
            sent += b"".join(part.frames)
            sent_close = ab.CLOSE in opcodes(sent)
            want += len(part.expect)
            pump(want, time.monotonic() + WAIT)
            if part.closes and out["close"] is None and out["end"] is None:
                take(peer.read(time.monotonic() + WAIT))
            if out["close"] is not None and out["close_at"] is None:
                out["close_at"] = i
        if case.close is None and out["close"] is None and out["end"] is None:
            sent_close = True
            peer.send([bytes(ab.wp().close(1000))], "whole")
        deadline = time.monotonic() + WAIT
        while out["close"] is None and out["end"] is None:
            take(peer.read(deadline))
        if out["close"] is not None and out["end"] is None and not sent_close and case.answer:
            # a close from the server is answered, as a client must (RFC 6455 5.5.1)
            peer.send([bytes(ab.wp().close(out["close"] if out["close"] != 1005 else None))],
                      "whole")
        deadline = time.monotonic() + WAIT
        while out["end"] is None:
            take(peer.read(deadline))
    finally:
        peer.close()
    return out


def show(frames):
    """Frames for an assertion message: long payloads by length and digest."""
    def one(f):
        p = f[1]
        if len(p) > 48:
            p = "%d bytes %s" % (len(p), hashlib.sha256(p).hexdigest()[:12])
        return (f[0], p)
    return [one(f) for f in frames]


# Close codes with which the server fails a connection (RFC 6455 7.1.7). After such a close
# the server may end the TCP connection with a reset instead of a FIN (Autobahn: "clean close
# with protocol error code or dropped TCP"): the pure server on MicroPython cannot half-close
# (no socket.shutdown), so where nothing is pending it closes at once and the client's answering
# close frame, arriving after that, draws a RST. (The close frame itself was received first.)
# Clean closes (the client's close echoed, or the server's own close answered) must end with
# a FIN.
FAIL_CODES = (1002, 1003, 1007, 1009)


def check(case, out):
    want_close = case.close if case.close is not None else 1000
    failed = out["first"] and out["close"] in FAIL_CODES
    problems = []
    if out["frames"] != case.expect and out["frames"] not in case.lenient:
        problems.append("frames %s, expected %s" % (show(out["frames"]), show(case.expect)))
    if out["close"] != want_close:
        problems.append("close %s, expected %s" % (out["close"], want_close))
    if out["after"]:
        problems.append("frames after the close: %s" % show(out["after"]))
    if out["end"] != "eof" and not (failed and out["end"] == "reset"):
        problems.append("the connection ended by %s, expected the server's FIN" % out["end"])
    closes = [i for i, p in enumerate(case.parts) if p.closes]
    if closes and out["close_at"] != closes[0]:
        problems.append("the close came after part %s, expected after part %d"
                        % (out["close_at"], closes[0]))
    if out["bad"]:
        problems.append("malformed server frames: %s" % out["bad"])
    return problems


# ---- the corpus -------------------------------------------------------------------------------

def _params():
    for backend in HTTP_BACKENDS:
        for c in ab.CASES:
            marks = [pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else []
            yield pytest.param(backend, c, id="%s-%s" % (backend, c.id), marks=marks)


@pytest.mark.parametrize("backend,case", list(_params()))
def test_case(servers, backend, case, record_property):
    srv = servers(backend)
    out = run_case(srv.port, case)
    record_property("end", out["end"])  # (counted in the summary: resets after a failure)
    problems = check(case, out)
    assert not problems, "%s %s:\n  %s" % (case.id, case.title, "\n  ".join(problems))
    assert srv.request("GET", "/json").json() == {"ok": True}


def test_corpus_shape():
    """Every Autobahn section in scope has cases, and the ids are unique."""
    sec = ab.sections()
    assert sorted(sec, key=int) == ["1", "2", "3", "4", "5", "6", "7", "9", "12"]
    assert len({c.id for c in ab.CASES}) == len(ab.CASES)


# ---- second clients: websockets (sync) and wsproto's state machine ---------------------------

def url(srv, path):
    return "ws://127.0.0.1:%d%s" % (srv.port, path)


@pytest.mark.parametrize("backend", HTTP_BACKENDS)
def test_websockets_client(servers, backend):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect
    srv = servers(backend)
    # websockets offers permessage-deflate by default: the server must not take it
    with connect(url(srv, ab.BIG), open_timeout=5, max_size=None) as ws:
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        for n in ab.LENGTHS:
            for m in (("BAsd7&jh23" * (n // 10 + 1))[:n], bytes(n)):
                ws.send(m)
                assert ws.recv(timeout=5) == m
        ws.send(["frag", "ment", "ed ✓"])            # one message in three frames
        assert ws.recv(timeout=5) == "fragmented ✓"
        ws.send([b"\x00" * 30000, b"\x01" * 35536])
        assert ws.recv(timeout=5) == b"\x00" * 30000 + b"\x01" * 35536
        assert ws.ping(b"\xfe" * 125).wait(5)
        ws.close(3000, "bye")
    assert ws.protocol.close_rcvd.code == 3000        # the server echoes the client's code
    for code in (1001, 4999):
        with connect(url(srv, ab.ECHO), open_timeout=5) as ws:
            ws.close(code)
        assert ws.protocol.close_rcvd.code == code
    for path in (ab.SMALL, ab.ECHO):
        with connect(url(srv, path), open_timeout=5) as ws:
            ws.send("*" * ab.MAX[path])
            assert ws.recv(timeout=5) == "*" * ab.MAX[path]
            ws.send(b"*" * (ab.MAX[path] + 1))
            with pytest.raises(ConnectionClosed) as e:
                ws.recv(timeout=5)
        assert e.value.rcvd.code == 1009
    assert srv.request("GET", "/json").json() == {"ok": True}


class WsprotoClient:
    """wsproto's WSConnection (the client side's state machine) over a socket."""

    def __init__(self, srv, path, extensions=()):
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, Request
        self.conn = WSConnection(ConnectionType.CLIENT)
        self.sock = socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT)
        self.pending = []
        self.send(Request(host="127.0.0.1", target=path, extensions=list(extensions)))
        ev = self.next()
        assert isinstance(ev, AcceptConnection), ev
        self.accepted = ev

    def send(self, event):
        self.sock.sendall(self.conn.send(event))

    def next(self):
        """The next event (messages whole: wsproto may hand them in pieces)."""
        from wsproto.events import Message
        while True:
            while self.pending:
                ev = self.pending.pop(0)
                if isinstance(ev, Message) and not ev.message_finished:
                    rest = self.next()
                    ev = type(ev)(data=ev.data + rest.data, frame_finished=True,
                                  message_finished=rest.message_finished)
                    if not ev.message_finished:
                        self.pending.insert(0, ev)
                        continue
                return ev
            d = self.sock.recv(65536)
            self.conn.receive_data(d or None)
            self.pending.extend(self.conn.events())
            if not d and not self.pending:
                return None

    def closed_by_server(self):
        """After the close handshake: the server closes TCP."""
        self.sock.settimeout(WAIT)
        return self.sock.recv(1) == b""


@pytest.mark.parametrize("backend", HTTP_BACKENDS)
def test_wsproto_client(servers, backend):
    from wsproto.connection import ConnectionState
    from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
    from wsproto.extensions import PerMessageDeflate
    srv = servers(backend)
    c = WsprotoClient(srv, ab.BIG, extensions=[PerMessageDeflate()])
    assert c.accepted.extensions == []           # the offer is ignored
    for m in ("", "Hello-µ@ßöäüàá-UTF-8!!", "x" * 65536):
        c.send(TextMessage(data=m))
        ev = c.next()
        assert isinstance(ev, TextMessage) and ev.data == m
    c.send(BytesMessage(data=b"\x00" * 100, message_finished=False))
    c.send(Ping(payload=b"between"))
    c.send(BytesMessage(data=b"\xff" * 100, message_finished=True))
    ev = c.next()
    assert isinstance(ev, Pong) and ev.payload == b"between"
    ev = c.next()
    assert isinstance(ev, BytesMessage) and ev.data == b"\x00" * 100 + b"\xff" * 100
    c.send(CloseConnection(code=4000, reason="done"))
    ev = c.next()
    assert isinstance(ev, CloseConnection) and ev.code == 4000
    assert c.conn.state == ConnectionState.CLOSED and c.closed_by_server()
    c.sock.close()
    # over the limit: the server closes 1009, wsproto answers
    c = WsprotoClient(srv, ab.SMALL)
    c.send(BytesMessage(data=b"x" * 65))
    ev = c.next()
    assert isinstance(ev, CloseConnection) and ev.code == 1009
    c.send(ev.response())
    assert c.closed_by_server()
    c.sock.close()
    assert srv.request("GET", "/json").json() == {"ok": True}
