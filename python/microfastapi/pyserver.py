"""Pure-Python network loop: the twin of `_mfa.Server` (docs/internals.md, "Server").

Non-blocking sockets and one select.poll (epoll on CPython, so the server's fileno() can be
waited on by asyncio). Keep-alive, pipelining (the next request of a connection is handed out
only after the previous one is answered), `100 Continue`, chunked request bodies, 413 / 503 /
408 and parse errors answered here. Nothing a client does raises out of poll(), and memory
is a resource like any other: a request that cannot be held (MemoryError while reading,
parsing or queueing its answer) is answered 503 and its connection closed, the others go on.
"""

try:
    import socket
except ImportError:  # pragma: no cover
    import usocket as socket
try:
    import select
except ImportError:  # pragma: no cover
    import uselect as select
from .clock import ticks_ms, ticks_diff
from .wire import REASONS, Request, check_headers, check_status, encode_body
from . import log

try:
    import io
    _IOBase = io.IOBase
except (ImportError, AttributeError):
    _IOBase = object

POLLIN = getattr(select, "POLLIN", 1)
POLLOUT = getattr(select, "POLLOUT", 4)
POLLERR = getattr(select, "POLLERR", 8)
POLLHUP = getattr(select, "POLLHUP", 16)

# Lingering close after the last answer (see Server._linger), as _mfa's MFA_CONN_LINGER_MS:
# drain until the input has been quiet for LINGER_MS, at most body_timeout_ms + LINGER_MS in
# all; where the socket cannot half-close (MicroPython), the client sees no EOF until the
# close, so there the drain ends once the input was quiet for LINGER_QUIET_MS.
LINGER_MS = 1000
LINGER_QUIET_MS = 200
# Pool pressure (see _make_room): a connection that has sent nothing since it connected is
# "fresh" this long, and taken back only after every partial head (as MFA_CONN_FRESH_MS), and
# never in its first GRACE_MS: its request may be a round trip behind (as MFA_CONN_GRACE_MS).
FRESH_MS = 1000
GRACE_MS = 100
# Whether a newcomer may wait in the listen queue (for a grace time to end). Not on MicroPython's
# lwIP sockets: modlwip resets a connection that finds its accept queue (`backlog` long) full
# (_lwip_tcp_accept returns ERR_BUF), so a queue that is not drained at once costs newcomers,
# real clients among them, a reset. There a newcomer takes the oldest connection in its grace
# time, as _mfa's lwIP transport does once its backlog is full (docs/internals.md, a documented
# difference).
try:
    import lwip  # noqa: F401 - MicroPython with lwIP sockets (rp2, and any port like it)
    _QUEUE_WAITS = False
except ImportError:
    _QUEUE_WAITS = True
MAX_EMPTY_LINES = 4  # CRLFs before a request line that leave a connection idle (the parser's)

_EPOLL = hasattr(select, "epoll")
_RECV = 2048
_OUT_HIGH = 4096  # stream_send refuses more while this much is unsent
_CONST_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
_CONST_ROUTES = 16   # add_constant: as _mfa's MFA_SERVER_CONSTS
_CONST_HEADERS = 8   # ... and MFA_CONST_HEADERS
_OUT_FLUSH = 1460  # stream_send sends at once from this much on (one segment), else at poll()
_EVENTS = 4  # client-side failures kept for events() (as _mfa's MFA_SERVER_EVENTS)

# connection states
_HEAD = 0   # reading a request head
_BODY = 1   # reading a body
_READY = 2  # complete request handed to (or waiting for) the app
_CLOSING = 3  # answering an error, closing once sent
_RAW = 4   # upgraded (101, e.g. WebSocket): a byte pipe held by the app
_RAW_IN = 4096 + 512  # an upgraded connection's input held for the app (as MFA_CONN_IN_BUF)


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


class _Conn:
    def __init__(self, sock, client, now):
        self.sock = sock
        self.client = client
        self.buf = bytearray()
        self.last_len = 0
        self.state = _HEAD
        self.head = None
        self.dec = None
        self.body = None     # chunked: the decoded body so far; Content-Length: bytearray(cl)
        self.got = 0         # bytes of a Content-Length body received into `body`
        self.out = bytearray()
        self.off = 0         # bytes of `out` already sent (sending never copies `out`)
        self.close_after = False
        self.keep_alive = True
        self.streaming = False
        self.chunked_out = False
        self.out_left = None  # a stream with the app's Content-Length: bytes still owed
        self.started = now   # start of the current phase (for timeouts)
        self.closed = False
        self.linger = None   # ticks when lingering close started
        self.quiet = None    # ticks of the last bytes drained while lingering
        self.eof = False     # the peer half-closed: answer what it sent, then close
        self.error = False   # closing after a protocol-error answer (always lingers)
        self.reused = False  # has answered a request: may be evicted while idle (see _accept)
        self.shut = False    # half-closed (shutdown(SHUT_WR)) while lingering
        self.rx = 0          # _BODY: bytes received since the body stage began (min rate)
        self.req = None      # _RAW: the upgraded request (readable() hands it back)
        self.note = False    # _RAW: input (or the EOF) the app has not been told of
        self.sent_at = now   # _RAW: the last time bytes left (write timeout)
        self.limit = 0       # _BODY, pulled body: most body bytes this request may have
        # Streamed request bodies (stream_bodies=True; docs/internals.md):
        self.defer = False   # _READY, handed with its body still on the wire
        self.pull = 0        # _READY: 1 the app reads the body (body_read), 2 all read
        self.left = 0        # pulled: Content-Length bytes to come; chunked: bytes allowed
        self.dbuf = None     # pulled chunked body: decoded bytes not taken yet
        self.collected = False  # _BODY/_READY again after body_collect (counted once)


class Server(_IOBase):
    """See docs/internals.md. Also `port` (the bound port, useful with port=0)."""

    def __init__(self, host="0.0.0.0", port=80, max_conns=8, max_body=16384,
                 header_timeout_ms=10000, body_timeout_ms=10000, idle_timeout_ms=5000,
                 min_rate=500, rate_grace_ms=3000, backlog=4, stream_bodies=False,
                 parser=None):
        # `parser`: what parses heads and chunked bodies (parse_request, ParseError,
        # ChunkedDecoder): backend.parser as the app passes it, else the pure-Python twin.
        if parser is None:
            from . import parser
        self._parser = parser
        self.max_conns = max_conns
        self.max_body = max_body
        self.header_timeout_ms = header_timeout_ms
        self.body_timeout_ms = body_timeout_ms
        self.idle_timeout_ms = idle_timeout_ms
        if min_rate < 0 or rate_grace_ms < 0:
            raise ValueError("negative limit")
        self.min_rate = min_rate
        self.rate_grace_ms = rate_grace_ms
        self.stream_bodies = stream_bodies
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
        self._hc = (0, None, "")  # the last head top built from a header tuple (_head_bytes)
        self._consts = None  # path -> (methods, status, headers, body): add_constant
        self._lost = 0
        self._raw_note = False  # some upgraded connection has news for readable()
        # The keys of _mfa.Server.stats() (docs/internals.md); "connections", "max_conns" and
        # "ready" are filled in by stats().
        self._stats = {"accepted": 0, "requests": 0, "responses": 0, "errors": 0,
                       "rejected": 0, "evicted": 0, "timeouts": 0, "resets": 0}

    # ---- helpers ----------------------------------------------------------------------

    def _key(self, sock):
        return sock.fileno() if _EPOLL else sock

    def _want(self, c):
        if c.state == _RAW or c.pull == 1:
            # Read while the app keeps up (backpressure, as mfa_conn's full input buffer).
            ev = POLLIN if not c.eof and len(c.buf) < _RAW_IN else 0
            if c.out:
                ev |= POLLOUT
        elif len(c.out) - c.off > _OUT_HIGH:
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

    def _reset(self, c):
        """The transport failed (reset by the peer, ...): counted in stats()["resets"] and
        reported by events()."""
        self._stats["resets"] += 1
        self._event("reset", c)
        self._close(c)

    def _write(self, c, data):
        c.out += data
        self._flush(c)

    def _flush(self, c):
        # Sent bytes are skipped by an offset, not sliced off (a slice is a copy of the rest,
        # and could fail for want of memory after its bytes left). `out` is empty whenever
        # nothing is pending; compacted when the sent part grows large.
        while c.off < len(c.out):
            try:
                n = c.sock.send(memoryview(c.out)[c.off:] if c.off else c.out)
            except OSError as e:
                if _again(e):
                    break
                self._reset(c)
                return
            if not n:
                break
            c.off += n
            if c.state == _RAW:
                c.sent_at = ticks_ms()  # (the write timeout of a pipe, see _timeout)
        if c.off >= len(c.out):
            c.out = bytearray()
            c.off = 0
        elif c.off > _OUT_HIGH:
            c.out = c.out[c.off:]
            c.off = 0
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
            c.shut = True
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
        c.body = c.dec = c.dbuf = None  # what was read of the request is not needed any more
        c.defer = False
        c.pull = 0
        c.state = _CLOSING
        c.close_after = True
        c.error = True
        self._write(c, ("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                        "Connection: close\r\n\r\n" % (status, REASONS.get(status, ""),
                                                       len(body))).encode() + body)

    def _event(self, kind, c):
        """A client-side failure, kept for events() (at most _EVENTS, more are counted).
        Not for a connection whose request the app holds: the app sees that one itself."""
        if c.state == _READY or c.state == _RAW:
            return
        if len(self._events) < _EVENTS:
            self._events.append((kind, c.client[0], c.client[1]))
        else:
            self._lost += 1

    # ---- the network work -------------------------------------------------------------

    def _accept(self, now):
        first = True
        while True:
            room = None
            if _QUEUE_WAITS and len(self._conns) >= self.max_conns:
                if not first:
                    return  # (making room takes one back: only for a newcomer known to be there)
                room = self._make_room(now)
                if room is None:
                    # The newcomers wait in the listen queue until a grace time ends (the poll
                    # comes back at once meanwhile: a busy wait of at most GRACE_MS).
                    return
            first = False
            try:
                sock, addr = self._lsock.accept()
            except (OSError, MemoryError):
                return
            try:
                sock.setblocking(False)
                c = _Conn(sock, _addr(addr), now)
                self._poller.register(self._key(sock), POLLIN)
            except MemoryError:
                # No room even for the connection's state: refuse it (a close, not an answer).
                self._stats["errors"] += 1
                try:
                    self._poller.unregister(self._key(sock))
                except Exception:
                    pass
                sock.close()
                continue
            if room is None:
                # MicroPython's lwIP sockets: the accept queue is drained at once (see
                # _QUEUE_WAITS), and room made once the newcomer is here (never a wait there).
                room = len(self._conns) < self.max_conns or self._make_room(now)
            self._conns[self._key(sock)] = c
            if room:
                self._stats["accepted"] += 1
            else:
                self._stats["rejected"] += 1  # (accepted counts those given a slot, as _mfa)
                self._error(c, 503, "server busy")

    def _read_heads(self, now):
        """A full pool first reads what its head-stage connections have received: a request
        that has arrived is not given up, and a closed one frees its slot."""
        for c in list(self._conns.values()):
            if c.state == _HEAD and not c.out and not c.closed:
                try:
                    self._read(c, now)
                except MemoryError:
                    self._oom(c)

    def _candidate(self, now):
        """The connection a full pool would take back, as _mfa's take_candidate: the cheapest
        kind to lose first and the oldest of that kind: an idle keep-alive connection (0); a
        closing one whose answer is sent and which only drains (1); one silent for FRESH_MS
        since it connected (2); the one whose head began earliest (3); a fresh silent one
        past its GRACE_MS (4). Returns (conn, kind); kind 5: in its grace time, not to be
        taken; (None, 6): every connection is busy with a request."""
        best = None
        best_kind = 6
        best_since = 0
        for c in self._conns.values():
            if c.closed or c.out:
                continue
            kind = 6
            since = c.started
            if c.state == _CLOSING:
                if c.linger is not None:
                    kind = 1
                    since = c.linger
            elif c.state == _HEAD:
                if _head_started(c.buf):
                    kind = 3
                elif c.reused:
                    kind = 0
                else:
                    age = ticks_diff(now, c.started)
                    kind = 2 if age > FRESH_MS else 4 if age > GRACE_MS else 5
            if kind < best_kind or (kind == best_kind and kind < 6 and
                                    ticks_diff(since, best_since) < 0):
                best, best_kind, best_since = c, kind, since
        return best, best_kind

    def _make_room(self, now):
        """A newcomer is there and the pool is full: make room for it as _mfa's
        mfa_pool_make_room does (docs/internals.md): read the head-stage connections, then
        reset the one _candidate names. True: there is room now; None: wait (only connections
        in their grace time could be taken; where newcomers cannot wait, _QUEUE_WAITS false,
        the oldest of those is taken instead); False: every connection is busy with a
        request. (Before the accept where newcomers wait, as _mfa: a request arriving in
        between cannot turn a wait into a rejection.)"""
        self._read_heads(now)
        if len(self._conns) < self.max_conns:
            return True
        best, kind = self._candidate(now)
        if kind == 5 and _QUEUE_WAITS:
            return None
        if kind == 6:
            return False
        self._stats["evicted"] += 1
        self._drop(best)
        # A newcomer answered 503 stays in _conns while it lingers, beyond max_conns: taking
        # that one back may not have made room yet.
        return len(self._conns) < self.max_conns or self._make_room(now)

    def _drop(self, c):
        """Close c with a reset (SO_LINGER 0), dropping what is queued: no TIME_WAIT left."""
        if _SO_LINGER is not None:
            try:
                c.sock.setsockopt(socket.SOL_SOCKET, _SO_LINGER, _LINGER_0)
            except Exception:
                pass  # (then the close sends FIN)
        c.out = bytearray()
        c.streaming = False
        self._close(c)

    def _oom(self, c):
        """MemoryError while this connection's input was read, parsed or held: drop what it
        had and answer 503 (behind any answer still queued, so the order stays right), then
        close. When the app still owes an answer on it (READY, or streaming), what was read
        ahead (pipelined bytes) is dropped and the connection closes after that answer."""
        c.buf = bytearray()
        c.body = None
        c.dec = None
        c.last_len = 0
        c.got = 0
        if c.closed:
            return
        if c.state == _RAW:
            self._drop(c)  # a pipe that lost bytes cannot go on
            return
        if c.pull == 1 or c.defer:
            try:
                self._error(c, 503, "out of memory")  # a body that lost bytes cannot go on
            except MemoryError:
                self._close(c)
            return
        if c.state == _READY:
            c.eof = True
            return
        if c.state == _CLOSING:
            self._close(c)
            return
        try:
            self._error(c, 503, "out of memory")
        except MemoryError:
            self._close(c)

    def _read(self, c, now):
        if c.state == _BODY and c.dec is None and c.body is not None:
            self._read_body(c, now)
            return
        if c.state == _RAW or c.pull == 1:
            self._read_raw(c)
            if c.pull:
                c.started = now  # a pulled body's timeout counts from its last byte
            return
        try:
            data = c.sock.recv(_RECV)
        except OSError as e:
            if not _again(e):
                self._reset(c)
            return
        if not data:
            self._close(c)
            return
        if c.state == _CLOSING:
            c.quiet = now
            return
        if c.state == _HEAD and not _head_started(c.buf):
            c.started = now  # header timeout runs from the first byte of a request
        elif c.state == _BODY:
            c.rx += len(data)
        c.buf += data
        self._advance(c, now)

    def _read_raw(self, c):
        if c.eof or len(c.buf) >= _RAW_IN:
            return
        try:
            data = c.sock.recv(_RAW_IN - len(c.buf))
        except OSError as e:
            if not _again(e):
                self._reset(c)
            return
        if not data:
            c.eof = True  # the app sees it after the bytes before it
        else:
            c.buf += data
        c.note = True
        self._raw_note = True
        self._want(c)

    def _read_body(self, c, now):
        """A Content-Length body too big for one recv(): straight into its own buffer."""
        try:
            n = _recv_into(c.sock, memoryview(c.body)[c.got:])
        except OSError as e:
            if not _again(e):
                self._close(c)
            return
        if n is None:
            return
        if not n:
            self._close(c)
            return
        c.got += n
        c.rx += n
        if c.got == len(c.body):
            self._advance(c, now)

    def _advance(self, c, now):
        """Parse what the buffer holds; hand out a request when one is complete. MemoryError
        on the way: 503 for this connection (see _oom)."""
        try:
            self._advance1(c, now)
        except MemoryError:
            self._oom(c)

    def _advance1(self, c, now):
        if c.state == _HEAD:
            if not c.buf:
                return
            try:
                head = self._parser.parse_request(c.buf, c.last_len)
            except self._parser.ParseError as e:
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
            if self.stream_bodies and (head.chunked or (cl and len(c.buf) < cl)):
                # Its body is still on the wire: the app decides (body_pull or body_collect)
                # before a byte more is read or 100 Continue sent.
                c.defer = True
                self._hand(c, Request(head, None, c.client, c))
                return
            c.limit = self.max_body
            self._body_start(c, now)
        if c.state == _BODY:
            self._body(c)

    def _hand(self, c, req):
        c.state = _READY
        c.keep_alive = c.head.keep_alive
        self._want(c)
        if not c.collected:
            self._stats["requests"] += 1  # (a collected body's request counted when deferred)
        self._ready.append(req)

    def _body_start(self, c, now):
        """The head is complete: check the body's size against c.limit, ask for it (100
        Continue) and give it a place."""
        head = c.head
        cl = head.content_length
        if cl is not None and cl > c.limit:
            self._error(c, 413, "request body too large")
            return
        c.state = _BODY
        c.started = now
        c.rx = len(c.buf)  # body bytes that came with the head
        c.body = None
        if head.chunked:
            c.dec = self._parser.ChunkedDecoder()
            c.body = bytearray()
        elif cl and len(c.buf) < cl:
            # Not all here yet: one buffer of the body's size, received into in place
            # (growing `buf` recv by recv would need the old and the new copy each time).
            c.body = bytearray(cl)
            c.got = len(c.buf)
            if c.got:
                memoryview(c.body)[:c.got] = c.buf
            c.buf = bytearray()
        if head.expect_continue and (head.chunked or cl):
            if head.version == "1.1":
                self._write(c, b"HTTP/1.1 100 Continue\r\n\r\n")
            if c.closed:
                return

    def _body(self, c):
        """Collect what arrived of the body; hand the request out once it is complete."""
        head = c.head
        if c.dec is not None:
            if c.buf:
                try:
                    data, used = c.dec.feed(c.buf)
                except self._parser.ParseError as e:
                    self._error(c, e.args[0], e.args[1])
                    return
                c.buf = c.buf[used:]
                c.body += data
                if len(c.body) > c.limit:
                    self._error(c, 413, "request body too large")
                    return
            if not c.dec.done:
                return
            body = bytes(c.body)
            c.dec = None
        elif c.body is not None:
            if c.got < len(c.body):
                return
            body = bytes(c.body)  # the one copy (bytes for the app); the buffer goes
        else:
            cl = head.content_length or 0
            if len(c.buf) < cl:
                return
            if len(c.buf) == cl:
                body = bytes(c.buf) if cl else b""
                c.buf = bytearray()
            else:
                body = bytes(memoryview(c.buf)[:cl])
                c.buf = c.buf[cl:]
        c.body = None
        self._hand(c, Request(head, body, c.client, c))

    def _timeouts(self, now):
        for c in list(self._conns.values()):
            try:
                self._timeout(c, now)
            except MemoryError:
                self._close(c)  # could not even queue the 408

    def _timeout(self, c, now):
        age = ticks_diff(now, c.started)
        if c.state == _HEAD:
            if _head_started(c.buf):
                if age > self.header_timeout_ms:
                    self._stats["timeouts"] += 1
                    self._event("header timeout", c)
                    self._error(c, 408, "request header timeout")
                elif self._too_slow(age, len(c.buf)):
                    self._stats["timeouts"] += 1
                    self._event("header timeout", c)
                    self._error(c, 408, "request header too slow")
            elif age > self.idle_timeout_ms and not c.out:
                self._close(c)
        elif c.state == _BODY:
            if age > self.body_timeout_ms:
                self._stats["timeouts"] += 1
                self._event("body timeout", c)
                self._error(c, 408, "request body timeout")
            elif self._too_slow(age, c.rx):
                self._stats["timeouts"] += 1
                self._event("body timeout", c)
                self._error(c, 408, "request body too slow")
        elif c.pull == 1:
            # A pulled body whose client sends nothing while there is room for it and bytes are
            # still owed (a full buffer, or a body all there, waits for the app, whatever its
            # pace; as mfa_conn.c's body_awaits_client).
            owed = not c.buf and not c.dbuf if c.dec is not None else len(c.buf) < c.left
            if owed and len(c.buf) < _RAW_IN and not c.eof and age > self.body_timeout_ms:
                self._stats["timeouts"] += 1
                self._error(c, 408, "request body timeout")
        elif c.state == _RAW:
            if len(c.out) > c.off and ticks_diff(now, c.sent_at) > self.body_timeout_ms:
                # The peer stopped reading what the app sends (as mfa_conn's write timeout).
                self._stats["timeouts"] += 1
                self._event("write timeout", c)
                self._drop(c)
        elif c.state == _CLOSING:
            if c.linger is not None:
                quiet = LINGER_MS if c.shut else LINGER_QUIET_MS
                if ticks_diff(now, c.quiet) > quiet or \
                        ticks_diff(now, c.linger) > self.body_timeout_ms + LINGER_MS:
                    self._close(c)
            elif age > self.idle_timeout_ms + self.header_timeout_ms:
                self._event("write timeout", c)
                self._close(c)  # a client that never reads its error

    def _too_slow(self, age, got):
        """The minimum data rate (as mfa_conn.c's too_slow): a stage `age` ms old that has
        delivered `got` bytes is too slow past the grace period plus the time those bytes
        buy at min_rate bytes per second."""
        return self.min_rate > 0 and \
            age > self.rate_grace_ms + got * 1000 // self.min_rate

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
            try:
                if ev & POLLOUT and c.out:
                    self._flush(c)
                    if c.closed:
                        continue
                if ev & (POLLIN | POLLERR | POLLHUP):
                    if c.state == _RAW and ev & (POLLERR | POLLHUP) and not ev & POLLIN and \
                            c.eof:
                        self._reset(c)  # both sides done or reset: nothing more will come
                    elif c.state == _READY and c.pull != 1 and not (ev & (POLLERR | POLLHUP)):
                        # leave pipelined bytes in the kernel until the answer is out; but a
                        # closed peer is noticed by recv() returning b''
                        self._peek_close(c)
                    else:
                        self._read(c, now)
            except MemoryError:
                self._oom(c)  # this connection's request; the others' events go on
        return now

    def _peek_close(self, c):
        try:
            data = c.sock.recv(_RECV)
        except OSError as e:
            if not _again(e):
                self._reset(c)
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
                if self._consts is not None and self._constant(req):
                    continue  # answered here (a pipelined request may be ready now)
                return req
        return None

    # ---- constant routes (docs/internals.md, "Constant routes") -----------------------

    def add_constant(self, path, methods, status, headers, body):
        """Answer `methods` on `path` (matched as sent, the query not looked at) with this
        fixed response inside poll(), without handing the request out (_mfa's twin)."""
        if type(path) is not str:
            path = str(path, "utf-8")
        if not path.startswith("/"):
            raise ValueError("path must start with /")
        for m in methods:
            if m not in _CONST_METHODS:
                raise ValueError("unknown method")
        check_status(status)
        headers = tuple(headers or ())
        if len(headers) > _CONST_HEADERS:
            raise ValueError("too many response headers")
        check_headers(headers)
        if type(body) is not bytes and type(body) is not str:
            raise TypeError("body must be bytes or str")
        consts = self._consts or {}
        if path not in consts and len(consts) == _CONST_ROUTES:
            raise ValueError("too many constant routes")
        consts[path] = (tuple(methods), status, headers, body)
        self._consts = consts

    def _constant(self, req):
        """Answer req here when it is for a constant route (its body, when it has one, has
        arrived: one still on the wire is the app's to decide about)."""
        k = self._consts.get(req.path)
        if k is None or req.method not in k[0] or req._conn.defer:
            return False
        self.respond(req, k[1], k[2], k[3])
        return True

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
        hc = self._hc
        if hc[1] is headers and hc[0] is status:
            top = hc[2]
        else:
            if type(status) is not int or status < 200 or status > 599:
                check_status(status)  # (raises; the common case is checked inline: a call costs)
            check_headers(headers)
            lines = ["HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, "Unknown"))]
            for k, v in headers:
                lines.append("%s: %s\r\n" % (k, v))
            top = "".join(lines)
            if type(headers) is tuple:
                # A tuple of (str, str) tuples cannot change: the app's own header sets (app.py's
                # _JSON_H and its kin) are checked and formatted once, not on every answer.
                # (A loop, not all(): a generator is heap, under pressure too.)
                for h in headers:
                    if type(h) is not tuple:
                        break
                else:
                    self._hc = (status, headers, top)
        c = req._conn
        # A body left unread on the wire ends the connection after the answer (the linger
        # drains it): its bytes must never be read as the next request.
        keep = c.keep_alive and not c.close_after and not c.defer and c.pull != 1 and \
            not c.dbuf
        if not keep:
            conn = "Connection: close\r\n"
        elif req._head.version == "1.0":  # (the head's attribute: not through the property)
            conn = "Connection: keep-alive\r\n"
        else:
            conn = ""
        return ("%s%s%s\r\n" % (top, extra, conn)).encode(), keep

    def respond(self, req, status, headers, body):
        c = req._conn
        if c.state != _READY:
            # Answered already, by the app or by the server (e.g. 408 for a streamed body that
            # stopped): the handle is stale, as _mfa's, and nothing is sent.
            return
        mark = len(c.out)
        try:
            body = encode_body(body)
            # RFC 9110 8.6: no Content-Length on 1xx and 204 answers (a 304 keeps it, as _mfa).
            cl = "Content-Length: %d\r\n" % len(body) if status >= 200 and status != 204 else ""
            head, keep = self._head_bytes(req, status, headers, cl)
            if c.closed:
                return
            c.out += head
            if not (req.method == "HEAD" or status == 304 or status == 204 or status < 200):
                c.out += body
        except MemoryError:
            # Not enough RAM to frame or queue the answer: the client gets 503 instead and
            # the connection closes; the app and the other connections go on.
            if c.closed:
                return
            c.buf = bytearray()
            try:
                if len(c.out) != mark:
                    c.out = c.out[:mark] if mark else bytearray()
                self._error(c, 503, "out of memory")
            except MemoryError:
                self._close(c)
            return
        self._stats["responses"] += 1
        self._done(c, keep)

    def _done(self, c, keep):
        c.streaming = False
        c.defer = c.collected = False
        c.pull = 0
        c.dbuf = None
        if not keep:
            c.close_after = True
            c.state = _CLOSING
            self._flush(c)
            return
        c.state = _HEAD
        c.head = None
        c.reused = True
        c.started = ticks_ms()
        self._flush(c)  # (parses a pipelined request, or closes after a half-close)

    def stream_start(self, req, status, headers):
        c = req._conn
        if c.state != _READY:
            return  # (answered already: see respond)
        # The app's Content-Length (a file of known size): the body goes unframed and the
        # connection stays open; c.left counts what it still owes (see stream_send/_end).
        length = None
        for k, v in headers:
            if len(k) == 14 and k.lower() == "content-length":
                if not v.isdigit():
                    raise ValueError("bad Content-Length %r" % (v,))
                length = int(v)
        no_body = req.method == "HEAD" or status < 200 or status == 204 or status == 304
        chunked = length is None and req.version == "1.1"
        if not chunked and length is None and not no_body:
            c.keep_alive = False  # HTTP/1.0: the end of the body is the end of the connection
        head, keep = self._head_bytes(req, status, headers,
                                      "Transfer-Encoding: chunked\r\n"
                                      if chunked and status >= 200 and status != 204 and
                                      status != 304 else "")
        if c.closed:
            return
        c.streaming = True
        c.chunked_out = chunked
        c.out_left = length
        c.out += head
        if no_body:
            c.chunked_out = None
        self._flush(c)

    def stream_send(self, req, data):
        c = req._conn
        if c.closed:
            raise OSError(104, "connection closed by the client")
        if len(c.out) - c.off > _OUT_HIGH:
            self._flush(c)
            if len(c.out) - c.off > _OUT_HIGH:
                return False
        if not data or c.chunked_out is None:
            return True
        if c.out_left is not None:
            if len(data) > c.out_left:
                data = data[:c.out_left]  # (beyond the Content-Length: dropped)
                if not data:
                    return True
            c.out_left -= len(data)
        if c.chunked_out:
            c.out += b"%x\r\n" % len(data)
            c.out += data
            c.out += b"\r\n"
        else:
            c.out += data
        if len(c.out) - c.off >= _OUT_FLUSH:
            self._flush(c)
        else:
            self._want(c)  # small pieces gather; they leave at the next poll() (POLLOUT)
        return True

    def stream_end(self, req):
        c = req._conn
        if c.closed:
            return
        if c.state == _RAW:
            # The app is done with the pipe: what is queued leaves, then the lingering close.
            c.state = _CLOSING
            c.streaming = False
            c.close_after = True
            c.buf = bytearray()
            c.started = ticks_ms()
            self._flush(c)
            return
        if c.out_left and c.chunked_out is not None:
            # Fewer bytes than the Content-Length said: the client must not wait for the
            # rest, nor read the next answer as body.
            c.out_left = None
            self.abort(req)
            return
        c.out_left = None
        if c.chunked_out:
            c.out += b"0\r\n\r\n"
        self._stats["responses"] += 1
        self._done(c, c.keep_alive and not c.close_after)

    # ---- upgraded connections (docs/internals.md, "Upgraded connections") -------------

    def upgrade(self, req, headers):
        """Answer `req` 101 Switching Protocols with `headers`; its connection becomes a byte
        pipe: recv() takes what arrives, stream_send() sends unframed, stream_end() closes."""
        check_headers(headers)
        c = req._conn
        if c.closed:
            raise OSError(104, "connection closed by the client")
        if c.state != _READY or c.streaming:
            raise ValueError("request already answered")
        lines = ["HTTP/1.1 101 Switching Protocols\r\n"]
        for k, v in headers:
            lines.append("%s: %s\r\n" % (k, v))
        lines.append("\r\n")
        c.out += "".join(lines).encode()
        self._stats["responses"] += 1
        c.state = _RAW
        c.streaming = True
        c.chunked_out = False
        c.head = None
        c.req = req
        c.sent_at = ticks_ms()
        if c.buf or c.eof:  # bytes the client sent behind the upgrade request
            c.note = self._raw_note = True
        self._flush(c)

    def recv(self, req):
        """The bytes that arrived on an upgraded connection since the last call (b"": none
        now), None once the peer closed its side and every byte before was taken; OSError
        when the connection is gone."""
        c = req._conn
        if c.closed or c.state != _RAW:
            raise OSError(104, "connection closed")
        if not c.buf:
            return None if c.eof else b""
        data = bytes(c.buf)
        full = len(c.buf) >= _RAW_IN
        c.buf = bytearray()
        c.note = False
        if full:
            self._want(c)  # reading resumes
        return data

    def readable(self):
        """None, or the upgraded requests (and those whose body is pulled) whose connections received bytes (or the EOF)
        since they were last reported."""
        if not self._raw_note:
            return None
        self._raw_note = False
        out = None
        for c in self._conns.values():
            if c.note and (c.state == _RAW or c.pull):
                c.note = False
                if out is None:
                    out = []
                out.append(c.req)
        return out

    # ---- streamed request bodies (docs/internals.md, "Streamed request bodies") -------

    def _deferred(self, req, limit):
        if limit < 0:
            raise ValueError("negative limit")
        c = req._conn
        if c.closed or c.state != _READY:
            return None
        if not c.defer:
            raise ValueError("body not deferred, or already pulled or collected")
        c.defer = False
        return c

    def body_pull(self, req, limit):
        """The body of a request handed out with body None is read by the app (body_read).
        False when it was refused (Content-Length above limit: 413, the connection closes)."""
        c = self._deferred(req, limit)
        if c is None:
            raise OSError(104, "connection closed by the client")
        head = c.head
        if not head.chunked and head.content_length > limit:
            self._error(c, 413, "request body too large")
            return False
        c.pull = 1
        if head.chunked:
            c.dec = self._parser.ChunkedDecoder()
            c.left = limit
            c.dbuf = bytearray()
        else:
            c.left = head.content_length
        c.started = ticks_ms()
        c.req = req
        if c.buf:
            c.note = self._raw_note = True  # bytes that came with the head
        if head.expect_continue and head.version == "1.1":
            c.out += b"HTTP/1.1 100 Continue\r\n\r\n"
        self._flush(c)
        return True

    def body_collect(self, req, limit):
        """The server collects the body of a request handed out with body None (413 above
        limit) and poll() hands the request out again, as a new object with its body."""
        c = self._deferred(req, limit)
        if c is None:
            return
        c.collected = True
        c.limit = limit
        now = ticks_ms()
        try:
            self._body_start(c, now)
            if c.state == _BODY and not c.closed:
                self._body(c)
        except MemoryError:
            self._oom(c)

    def body_read(self, req, buf):
        """The next bytes of a pulled body (chunked framing decoded) copied into buf: their
        count; 0 when none are there now (readable() lists req when more arrive); None once
        the whole body was read. OSError when it never will be (the client went, or its body
        was answered 400/408/413)."""
        p = self._body_take(req, len(buf))
        if not p:
            return p
        n = len(p)
        buf[:n] = p
        return n

    def body_view(self, req):
        """As body_read, but the bytes are handed over, not copied: a bytes-like piece of what
        is there now (valid until the next body_view or body_read on req), 0 or None."""
        return self._body_take(req, _RAW_IN)

    def _body_take(self, req, n):
        c = req._conn
        if c.closed or c.state != _READY or not c.pull:
            raise OSError(104, "connection closed")
        full = len(c.buf) >= _RAW_IN
        piece = None
        if c.dec is not None:
            src = c.dbuf
            if not src and c.pull == 1 and c.buf:
                try:
                    data, used = c.dec.feed(c.buf)
                except self._parser.ParseError as e:
                    self._error(c, e.args[0], e.args[1])
                    raise OSError(104, "request body refused")
                if len(data) > c.left:
                    self._error(c, 413, "request body too large")
                    raise OSError(104, "request body refused")
                c.left -= len(data)
                c.buf = c.buf[used:]
                src = c.dbuf = data
                if c.dec.done:
                    c.pull = 2
            if src:
                if n >= len(src):
                    piece, c.dbuf = src, b""
                else:
                    piece, c.dbuf = src[:n], src[n:]
        else:
            take = min(n, len(c.buf), c.left)
            if take:
                if take == len(c.buf):
                    piece, c.buf = c.buf, bytearray()
                else:
                    piece, c.buf = c.buf[:take], c.buf[take:]
                c.left -= take
            if not c.left:
                c.pull = 2
        if piece:
            c.started = ticks_ms()  # (the body timeout waits for the client, not for us)
            if full:
                self._want(c)  # reading resumes
            return piece
        if c.pull == 2:
            return None
        if c.eof:
            self._close(c)  # cut short: the body will never be complete
            raise OSError(104, "connection closed by the client")
        return 0

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
        return c.closed or c.eof or (c.state != _READY and c.state != _RAW)

    def abort(self, req):
        """Reset the connection of `req` now (what is queued is dropped); no-op when gone."""
        c = req._conn
        if c.closed:
            return
        if c.streaming and c.out:
            # Pieces gathered by stream_send go first (as _mfa, which sends each at once): the
            # client sees the body cut where the stream failed, not earlier.
            self._flush(c)
            if c.closed:
                return
        self._drop(c)

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
        d["max_conns"] = self.max_conns
        d["unsent"] = sum(len(c.out) - c.off for c in self._conns.values())
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


def _head_started(buf):
    """Whether a head-stage buffer holds the start of a request: up to MAX_EMPTY_LINES empty
    lines (CRLF) before a request line are ignored (RFC 9112 2.2), so a connection holding only
    those is idle (no header timeout, no rate rule), as in mfa_conn.c."""
    n = len(buf)
    if n == 0:
        return False
    if n % 2 or n > 2 * MAX_EMPTY_LINES:
        return True
    return bytes(buf) != b"\r\n" * (n // 2)


def _recv_into(sock, mv):
    """Bytes read into mv; None when none are there now; 0 at EOF."""
    f = getattr(sock, "recv_into", None)  # CPython (raises BlockingIOError when none)
    if f is None:
        return sock.readinto(mv)  # MicroPython: None when none (non-blocking)
    return f(mv)


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
