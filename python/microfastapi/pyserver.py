"""Pure-Python network loop: the twin of `_mfa.Server` (docs/internals.md, "Server").

Non-blocking sockets and one select.poll (epoll on CPython, so the server's fileno() can be
waited on by asyncio). Keep-alive, pipelining (the next request of a connection is handed out
only after the previous one is answered), `100 Continue`, chunked request bodies, 413 / 503 /
408 and parse errors answered here. Nothing a client does raises out of poll().
"""

try:
    import socket
except ImportError:  # pragma: no cover
    import usocket as socket
try:
    import select
except ImportError:  # pragma: no cover
    import uselect as select
try:
    from time import ticks_ms, ticks_diff
except ImportError:
    import time as _time

    def ticks_ms():
        return int(_time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b

from . import backend
from . import log

try:
    import io
    _IOBase = io.IOBase
except (ImportError, AttributeError):
    _IOBase = object

REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    206: "Partial Content", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
    417: "Expectation Failed", 422: "Unprocessable Content", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}

POLLIN = getattr(select, "POLLIN", 1)
POLLOUT = getattr(select, "POLLOUT", 4)
POLLERR = getattr(select, "POLLERR", 8)
POLLHUP = getattr(select, "POLLHUP", 16)

_EPOLL = hasattr(select, "epoll")
_RECV = 2048
_OUT_HIGH = 4096  # stream_send refuses more while this much is unsent
_EVENTS = 4  # client-side failures kept for events() (as _mfa's MFA_SERVER_EVENTS)

# connection states
_HEAD = 0   # reading a request head
_BODY = 1   # reading a body
_READY = 2  # complete request handed to (or waiting for) the app
_CLOSING = 3  # answering an error, closing once sent


def encode_body(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return body


def _check(s):
    if "\r" in s or "\n" in s or "\0" in s:
        raise ValueError("CR, LF or NUL in header %r" % (s,))


def _addr(addr):
    if isinstance(addr, tuple):
        return (str(addr[0]), addr[1])
    try:
        a = socket.sockaddr(addr)  # MicroPython unix port: raw sockaddr bytes
        ip = a[1]
        if not isinstance(ip, str):
            ip = ".".join(str(b) for b in ip)
        return (ip, a[2])
    except Exception:
        return (str(addr), 0)


class Request:
    """A complete request: the parser's attributes (read through to the head object) plus
    body and client. Four instance attributes only, to keep the per-request allocation small."""

    def __init__(self, head, body, client, conn):
        self._head = head
        self.body = body
        self.client = client
        self._conn = conn

    method = property(lambda self: self._head.method)
    path = property(lambda self: self._head.path)
    query = property(lambda self: self._head.query)
    version = property(lambda self: self._head.version)
    header_len = property(lambda self: self._head.header_len)
    content_length = property(lambda self: self._head.content_length)
    chunked = property(lambda self: self._head.chunked)
    keep_alive = property(lambda self: self._head.keep_alive)
    expect_continue = property(lambda self: self._head.expect_continue)
    headers = property(lambda self: self._head.headers)

    def header(self, name, default=None):
        return self._head.header(name, default)

    def __repr__(self):
        return "<Request %s %s>" % (self.method, self.path)


class _Conn:
    def __init__(self, sock, client, now):
        self.sock = sock
        self.client = client
        self.buf = bytearray()
        self.last_len = 0
        self.state = _HEAD
        self.head = None
        self.dec = None
        self.body = None
        self.out = bytearray()
        self.close_after = False
        self.keep_alive = True
        self.streaming = False
        self.chunked_out = False
        self.started = now   # start of the current phase (for timeouts)
        self.closed = False
        self.linger = None   # ticks when lingering close started
        self.quiet = None    # ticks of the last bytes drained while lingering
        self.eof = False     # the peer half-closed: answer what it sent, then close
        self.error = False   # closing after a protocol-error answer (always lingers)


class Server(_IOBase):
    """See docs/internals.md. Also `port` (the bound port, useful with port=0)."""

    def __init__(self, host="0.0.0.0", port=80, max_conns=8, max_body=16384,
                 header_timeout_ms=10000, body_timeout_ms=10000, idle_timeout_ms=5000,
                 backlog=4):
        self.max_conns = max_conns
        self.max_body = max_body
        self.header_timeout_ms = header_timeout_ms
        self.body_timeout_ms = body_timeout_ms
        self.idle_timeout_ms = idle_timeout_ms
        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        s = socket.socket(ai[0], socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        except (OSError, AttributeError):
            pass
        s.bind(ai[-1])
        s.listen(backlog)
        s.setblocking(False)
        self._lsock = s
        self.port = port
        try:
            self.port = s.getsockname()[1]
        except Exception:
            pass
        self._conns = {}   # key (fd on CPython, socket on MicroPython) -> _Conn
        self._ready = []   # complete requests not handed out yet
        if _EPOLL:
            self._poller = select.epoll()
        else:
            self._poller = select.poll()
        self._poller.register(s if not _EPOLL else s.fileno(), POLLIN)
        self._events = []  # client-side failures not taken by events() yet
        self._lost = 0
        self._stats = {"connections": 0, "accepted": 0, "requests": 0, "responses": 0,
                       "errors": 0, "rejected": 0, "timeouts": 0}

    # ---- helpers ----------------------------------------------------------------------

    def _key(self, sock):
        return sock.fileno() if _EPOLL else sock

    def _want(self, c):
        if len(c.out) > _OUT_HIGH:
            ev = POLLOUT  # a client that does not read: stop reading its pipelined requests
        else:
            ev = POLLIN | POLLOUT if c.out else POLLIN
        try:
            self._poller.modify(self._key(c.sock), ev)
        except Exception:
            pass

    def _close(self, c):
        if c.closed:
            return
        c.closed = True
        try:
            self._poller.unregister(self._key(c.sock))
        except Exception:
            pass
        self._conns.pop(self._key(c.sock), None)
        try:
            c.sock.close()
        except Exception:
            pass
        self._stats["connections"] = len(self._conns)

    def _write(self, c, data):
        c.out += data
        self._flush(c)

    def _flush(self, c):
        # (MicroPython's bytearray has no slice deletion: slices replace the buffer)
        while c.out:
            try:
                n = c.sock.send(c.out)
            except OSError as e:
                if _again(e):
                    break
                self._event("reset", c)
                self._close(c)
                return
            if not n:
                break
            c.out = c.out[n:] if n < len(c.out) else bytearray()
        if c.state == _HEAD and not c.closed and not c.close_after and len(c.out) <= _OUT_HIGH:
            # Between requests, with the answers leaving: parse a pipelined request (held back
            # while the backlog was high, see _want), or close if the peer half-closed.
            if c.buf:
                self._advance(c, ticks_ms())
                if c.closed:
                    return
            if c.eof and c.state in (_HEAD, _BODY):
                c.close_after = True  # nothing more will come: answer what is owed, then close
                c.state = _CLOSING
        if not c.out and c.close_after and not c.streaming:
            if c.state == _CLOSING and c.linger is None:
                if self._linger(c):
                    return
            elif c.linger is None:
                self._close(c)
                return
        self._want(c)

    def _linger(self, c):
        """After a last answer the client may still be sending (an error answered mid-body,
        or requests pipelined behind a `Connection: close` one): closing with unread input
        makes the kernel send RST, which can destroy the answer before the client reads it.
        So stop writing, drain the input until it has been quiet for a moment, then close.

        CPython's socket has shutdown(SHUT_WR), so the client sees EOF at once while the
        input is drained. MicroPython's sockets (unix port and lwIP) have no shutdown(): the
        EOF would only come with the close, 200 ms later. There, a normal answer whose client
        has nothing more pending (no unread bytes now, nothing buffered) is closed at once,
        which is the common case; only a client that did send more is lingered on.
        Returns True when the connection was closed."""
        c.linger = c.quiet = ticks_ms()
        try:
            c.sock.shutdown(1)  # SHUT_WR where the socket has it (CPython)
            return False
        except (AttributeError, OSError):
            pass
        if c.error or c.buf:
            return False
        try:
            data = c.sock.recv(_RECV)
        except OSError as e:
            if _again(e):
                self._close(c)  # nothing pending: a plain close sends FIN, not RST
                return True
            self._close(c)
            return True
        if not data:
            self._close(c)  # the peer closed its side too
            return True
        return False  # more input arrived: drain it (see _read in _CLOSING state)

    def _error(self, c, status, reason):
        """Answer a protocol error and close."""
        self._stats["errors"] += 1
        body = reason.encode()
        c.state = _CLOSING
        c.close_after = True
        c.error = True
        self._write(c, ("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                        "Connection: close\r\n\r\n" % (status, REASONS.get(status, ""),
                                                       len(body))).encode() + body)

    def _event(self, kind, c):
        """A client-side failure, kept for events() (at most _EVENTS, more are counted).
        Not for a connection whose request the app holds: the app sees that one itself."""
        if c.state == _READY:
            return
        if len(self._events) < _EVENTS:
            self._events.append((kind, c.client[0], c.client[1]))
        else:
            self._lost += 1

    # ---- the network work -------------------------------------------------------------

    def _accept(self, now):
        while True:
            try:
                sock, addr = self._lsock.accept()
            except OSError:
                return
            sock.setblocking(False)
            c = _Conn(sock, _addr(addr), now)
            self._stats["accepted"] += 1
            self._conns[self._key(sock)] = c
            self._poller.register(self._key(sock), POLLIN)
            self._stats["connections"] = len(self._conns)
            if len(self._conns) > self.max_conns:
                self._stats["rejected"] += 1
                self._error(c, 503, "server busy")

    def _read(self, c, now):
        try:
            data = c.sock.recv(_RECV)
        except OSError as e:
            if not _again(e):
                self._event("reset", c)
                self._close(c)
            return
        if not data:
            self._close(c)
            return
        if c.state == _CLOSING:
            c.quiet = now
            return
        if not c.buf and c.state == _HEAD:
            c.started = now  # header timeout runs from the first byte of a request
        c.buf += data
        self._advance(c, now)

    def _advance(self, c, now):
        """Parse what the buffer holds; hand out a request when one is complete."""
        if c.state == _HEAD:
            if not c.buf:
                return
            try:
                head = backend.parse_request(c.buf, c.last_len)
            except backend.ParseError as e:
                self._error(c, e.args[0], e.args[1])
                return
            except Exception:
                self._error(c, 400, "bad request")
                return
            if head is None:
                c.last_len = len(c.buf)
                return
            c.head = head
            c.last_len = 0
            c.buf = c.buf[head.header_len:]
            cl = head.content_length
            if cl is not None and cl > self.max_body:
                self._error(c, 413, "request body too large")
                return
            c.state = _BODY
            c.started = now
            c.body = None
            if head.chunked:
                c.dec = backend.chunked_decoder()
                c.body = bytearray()
            if head.expect_continue and (head.chunked or cl):
                if head.version == "1.1":
                    self._write(c, b"HTTP/1.1 100 Continue\r\n\r\n")
                if c.closed:
                    return
        if c.state == _BODY:
            head = c.head
            if c.dec is not None:
                if c.buf:
                    try:
                        data, used = c.dec.feed(c.buf)
                    except backend.ParseError as e:
                        self._error(c, e.args[0], e.args[1])
                        return
                    c.buf = c.buf[used:]
                    c.body += data
                    if len(c.body) > self.max_body:
                        self._error(c, 413, "request body too large")
                        return
                if not c.dec.done:
                    return
                body = bytes(c.body)
                c.dec = None
            else:
                cl = head.content_length or 0
                if len(c.buf) < cl:
                    return
                body = bytes(c.buf[:cl])
                c.buf = c.buf[cl:]
            c.body = None
            c.state = _READY
            c.keep_alive = head.keep_alive
            self._stats["requests"] += 1
            self._ready.append(Request(head, body, c.client, c))
            self._want(c)

    def _timeouts(self, now):
        for c in list(self._conns.values()):
            age = ticks_diff(now, c.started)
            if c.state == _HEAD:
                if c.buf:
                    if age > self.header_timeout_ms:
                        self._stats["timeouts"] += 1
                        self._event("header timeout", c)
                        self._error(c, 408, "request header timeout")
                elif age > self.idle_timeout_ms and not c.out:
                    self._close(c)
            elif c.state == _BODY:
                if age > self.body_timeout_ms:
                    self._stats["timeouts"] += 1
                    self._event("body timeout", c)
                    self._error(c, 408, "request body timeout")
            elif c.state == _CLOSING:
                if c.linger is not None:
                    if ticks_diff(now, c.quiet) > 200 or ticks_diff(now, c.linger) > 2000:
                        self._close(c)
                elif age > self.idle_timeout_ms + self.header_timeout_ms:
                    self._event("write timeout", c)
                    self._close(c)  # a client that never reads its error

    def _io(self, timeout_ms):
        now = ticks_ms()
        if _EPOLL:
            events = self._poller.poll(timeout_ms / 1000 if timeout_ms >= 0 else -1)
        else:
            events = self._poller.poll(timeout_ms)
        now = ticks_ms()
        lkey = self._key(self._lsock)
        for obj, ev in events:
            if obj == lkey if _EPOLL else obj is self._lsock:
                self._accept(now)
                continue
            c = self._conns.get(obj)
            if c is None:
                continue
            if ev & POLLOUT and c.out:
                self._flush(c)
                if c.closed:
                    continue
            if ev & (POLLIN | POLLERR | POLLHUP):
                if c.state == _READY and not (ev & (POLLERR | POLLHUP)):
                    # leave pipelined bytes in the kernel until the answer is out; but a
                    # closed peer is noticed by recv() returning b''
                    self._peek_close(c)
                else:
                    self._read(c, now)
        return now

    def _peek_close(self, c):
        try:
            data = c.sock.recv(_RECV)
        except OSError as e:
            if not _again(e):
                self._event("reset", c)
                self._close(c)
            return
        if not data:
            # The peer half-closed: answer what we owe (pipelined requests already received
            # included, see _done), then close.
            c.eof = True
            return
        c.buf += data
        if len(c.buf) > 65536:
            self._error(c, 431, "too much pipelined data")

    # ---- the contract -----------------------------------------------------------------

    def poll(self):
        try:
            now = self._io(0)
            self._timeouts(now)
        except Exception as e:  # never let a client take the loop down
            self._stats["errors"] += 1
            log.exception(e, "pyserver: poll error: %r", e)
        while self._ready:
            req = self._ready.pop(0)
            if not req._conn.closed:
                return req
        return None

    def wait(self, timeout_ms):
        if self._ready:
            return
        try:
            if _EPOLL:
                self._poller.poll(timeout_ms / 1000)
            else:
                # MicroPython's poll returns events but does not consume them: poll again in
                # poll().
                self._poller.poll(timeout_ms)
        except OSError:
            pass

    def _head_bytes(self, req, status, headers, extra):
        _check_status(status)
        _check_headers(headers)
        c = req._conn
        keep = c.keep_alive and not c.close_after
        lines = ["HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, "Unknown"))]
        for k, v in headers:
            lines.append("%s: %s\r\n" % (k, v))
        lines.append(extra)
        if not keep:
            lines.append("Connection: close\r\n")
        elif req.version == "1.0":
            lines.append("Connection: keep-alive\r\n")
        lines.append("\r\n")
        return "".join(lines).encode(), keep

    def respond(self, req, status, headers, body):
        body = encode_body(body)
        c = req._conn
        head, keep = self._head_bytes(req, status, headers, "Content-Length: %d\r\n" % len(body))
        if c.closed:
            return
        self._stats["responses"] += 1
        try:
            c.out += head
            if not (req.method == "HEAD" or status == 304 or status == 204 or status < 200):
                c.out += body
        except MemoryError:
            # Not enough RAM to queue it: drop this connection, keep serving the others.
            self._stats["errors"] += 1
            c.out = bytearray()
            self._close(c)
            return
        self._done(c, keep)

    def _done(self, c, keep):
        c.streaming = False
        if not keep:
            c.close_after = True
            c.state = _CLOSING
            self._flush(c)
            return
        c.state = _HEAD
        c.head = None
        c.started = ticks_ms()
        self._flush(c)  # (parses a pipelined request, or closes after a half-close)

    def stream_start(self, req, status, headers):
        c = req._conn
        chunked = req.version == "1.1"
        if not chunked:
            c.keep_alive = False  # HTTP/1.0: the end of the body is the end of the connection
        head, keep = self._head_bytes(req, status, headers,
                                      "Transfer-Encoding: chunked\r\n" if chunked else "")
        if c.closed:
            return
        c.streaming = True
        c.chunked_out = chunked
        c.out += head
        if req.method == "HEAD":
            c.chunked_out = None
        self._flush(c)

    def stream_send(self, req, data):
        c = req._conn
        if c.closed:
            raise OSError(104, "connection closed by the client")
        if len(c.out) > _OUT_HIGH:
            self._flush(c)
            if len(c.out) > _OUT_HIGH:
                return False
        if not data or c.chunked_out is None:
            return True
        if c.chunked_out:
            c.out += ("%x\r\n" % len(data)).encode()
            c.out += data
            c.out += b"\r\n"
        else:
            c.out += data
        self._flush(c)
        return True

    def stream_end(self, req):
        c = req._conn
        if c.closed:
            return
        if c.chunked_out:
            c.out += b"0\r\n\r\n"
        self._stats["responses"] += 1
        self._done(c, c.keep_alive and not c.close_after)

    def events(self):
        """None, or the client-side failures since the last call: (kind, addr, port) tuples
        ("reset", "header timeout", "body timeout", "write timeout"), then ("more", "", n) when
        n did not fit."""
        if not self._events and not self._lost:
            return None
        out = self._events
        if self._lost:
            out.append(("more", "", self._lost))
        self._events = []
        self._lost = 0
        return out

    def gone(self, req):
        """True when `req` can no longer be answered: its connection was reset or closed, the
        client closed (or half-closed) its side, or the request was answered already."""
        c = req._conn
        return c.closed or c.eof or c.state != _READY

    def abort(self, req):
        """Reset the connection of `req` now (what is queued is dropped); no-op when gone."""
        c = req._conn
        if c.closed:
            return
        if _SO_LINGER is not None:
            try:
                c.sock.setsockopt(socket.SOL_SOCKET, _SO_LINGER, _LINGER_0)
            except Exception:
                pass  # (then the close sends FIN: the client still sees a cut answer)
        c.out = bytearray()
        c.streaming = False
        self._close(c)

    def close(self):
        for c in list(self._conns.values()):
            self._close(c)
        try:
            self._poller.unregister(self._key(self._lsock))
        except Exception:
            pass
        self._lsock.close()
        if _EPOLL:
            self._poller.close()

    def stats(self):
        d = dict(self._stats)
        d["connections"] = len(self._conns)
        d["ready"] = len(self._ready)
        return d

    # ---- pollable ---------------------------------------------------------------------

    def fileno(self):
        """CPython: the epoll fd, readable when any socket of the server has an event."""
        return self._poller.fileno()

    def ioctl(self, req, arg):
        """MicroPython stream ioctl, so select.poll()/asyncio can wait on the server."""
        if req == 3:  # MP_STREAM_POLL
            if self._ready:
                return arg & 1
            try:
                for obj, ev in self._poller.poll(0):
                    return arg & 1  # some socket has work: poll() may produce a request
            except OSError:
                pass
            return 0
        if req == 4:  # MP_STREAM_CLOSE
            return 0
        if req == 10 and not self._conns and not self._ready:  # MP_STREAM_GET_FILENO
            # Idle: let the OS poller sleep on the listening socket alone.
            try:
                return self._lsock.fileno()
            except Exception:
                return -1
        return -1


def _again(e):
    code = e.args[0] if e.args else 0
    return code in (11, 35, 115)  # EAGAIN/EWOULDBLOCK (Linux, lwIP; BSD), EINPROGRESS


def _so_linger():
    v = getattr(socket, "SO_LINGER", None)
    if v is None:
        try:
            import sys
            if sys.platform == "linux":
                v = 13  # MicroPython's unix port has the option but not the name
        except Exception:
            pass
    return v


_SO_LINGER = _so_linger()
_LINGER_0 = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # struct linger {1, 0}: close = reset


def _check_status(status):
    if not isinstance(status, int) or isinstance(status, bool) or status < 200 or status > 599:
        raise ValueError("status must be an int from 200 to 599, not %r" % (status,))


def _check_headers(headers):
    for k, v in headers:
        _check(k)
        _check(v)
