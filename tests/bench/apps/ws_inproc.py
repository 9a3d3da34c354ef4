# In-process cost of one WebSocket echo through the benchmark apps (ws_mfa_app.py,
# ws_microdot_app.py), on unix MicroPython or on the emulated RP2040 (tests/bench/ws_bench.py
# sends `import ws_inproc; ws_inproc.main(...)`). No network: each server's socket layer is
# replaced by an in-memory object that asyncio's poller can wait on (an io.IOBase with ioctl,
# as a socket is), and everything above it is the real code.
#
#   microfastapi: app.serve() itself, on MemServer instead of _mfa.Server / pyserver.Server
#     (backend.server_class is pointed at it). The upgrade request comes out of poll(), so the
#     route, websocket.run and the handler's accept() run as when serving. Per message: the
#     frame into MemServer's buffer -> the poller finds it readable -> the serve loop wakes
#     (its wait, poll(), events(), _ws_notes -> readable()) -> WebSocket.wake -> the handler's
#     receive() -> recv -> WsReader.feed -> send() -> ws_frame -> stream_send, which queues the
#     frame; it leaves at the serve loop's next poll(), as in the real servers.
#   Microdot: app.handle_request over asyncio's own Stream (as asyncio.start_server makes it)
#     around MemSocket instead of a socket: Request.create, routing, with_websocket's
#     handshake, then per message: the frame into MemSocket -> ws.receive() -> _read_frame
#     (Stream.read(2), readexactly(4), readexactly(32), each through the poller as on a
#     socket; unmasking) -> ws.send() -> _encode_websocket_frame -> Stream.awrite (write,
#     drain).
# Left out for both: the TCP/IP stack and the socket calls (lwIP or the kernel), and, for
# microfastapi, the C or pure-Python server's own work in poll()/recv()/stream_send() (its
# buffers and sockets). The in-memory objects' ioctl is a Python method where a socket's is
# C: each poll of it costs both servers a little more than a socket would.
# The driver is a third task: per message it puts the frame in, then waits on an Event that
# the in-memory object sets when the echo is written (the same for both).
#
# Prints one line per impl:
#   WSRESULT|impl|heap bytes per message|nanoseconds per message (simulated clock on the chip)
# over n messages after `warm`, with gc.collect() before and the GC disabled during the n
# (so no collection is in either figure), and checks that every echo is the expected frame.
import gc
import io
import time

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

UPGRADE = (b"GET /ws HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: bench/1.0\r\n"
           b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
CLIENT = ("192.168.4.2", 50000)
_POLL, _RD, _WR = 3, 1, 4  # MP_STREAM_POLL, MP_STREAM_POLL_RD, MP_STREAM_POLL_WR


def frames(size):
    """(the client's masked text frame of `size` bytes, the server's unmasked echo of it)."""
    payload = bytes((97 + i % 26) for i in range(size))
    mask = b"\x37\xfa\x21\x3d"
    masked = bytes(payload[i] ^ mask[i & 3] for i in range(size))
    return bytes((0x81, 0x80 | size)) + mask + masked, bytes((0x81, size)) + payload


class MemServer(io.IOBase):
    """The server contract (docs/internals.md) for one connection, in memory: poll() hands
    out `pending` once; the upgraded pipe's input is `inbox`. Output gathers as in both real
    servers (a piece under MFA_CONN_FLUSH_AT / _OUT_FLUSH waits for the next poll()): poll()
    "sends" what stream_send queued, counting it (`sent`, `last`) and setting `ev`. Pollable
    as theirs is: readable while a request, a note or queued output is waiting."""

    current = None

    def __init__(self, host=None, port=None, **kw):
        self.port = port
        self.pending = None
        self.inbox = b""
        self.note = None
        self.queued = None
        self.sent = 0
        self.last = None
        self.upgraded = False
        self.ev = asyncio.Event()
        MemServer.current = self

    def ioctl(self, req, arg):
        if req == _POLL:
            return arg & _RD if self.pending is not None or self.note is not None or \
                self.queued is not None else 0
        return 0

    def poll(self):
        if self.queued is not None:
            self.last = self.queued
            self.queued = None
            self.sent += 1
            self.ev.set()
        r = self.pending
        self.pending = None
        return r

    def events(self):
        return None

    def readable(self):
        n = self.note
        self.note = None
        return n

    def upgrade(self, req, headers):
        self.upgraded = True

    def recv(self, req):
        d = self.inbox
        self.inbox = b""
        return d

    def stream_send(self, req, data):
        if self.queued is not None:  # (one frame per message here; never more)
            raise RuntimeError("a second frame before the first left")
        self.queued = data
        return True

    def stream_end(self, req):
        pass

    def abort(self, req):
        pass

    def gone(self, req):
        return False

    def respond(self, req, status, headers, body):
        raise RuntimeError("answered %s instead of upgrading" % status)

    def stats(self):
        return {"unsent": 0}

    def wait(self, ms):
        pass

    def close(self):
        pass


class MemSocket(io.IOBase):
    """A non-blocking socket in memory, for asyncio.Stream: read/readline give what was put
    in (None while there is nothing: "would block"), write keeps the bytes, counts them and
    sets `ev`. Pollable like a socket: readable while input is waiting, always writable."""

    def __init__(self, data):
        self.buf = data
        self.pos = 0
        self.sent = 0
        self.last = None
        self.ev = asyncio.Event()

    def put(self, data):
        self.buf = data
        self.pos = 0

    def ioctl(self, req, arg):
        if req == _POLL:
            return (arg & _RD if self.pos < len(self.buf) else 0) | (arg & _WR)
        return 0

    def read(self, n=-1):
        if self.pos >= len(self.buf):
            return None
        end = len(self.buf) if n < 0 else self.pos + n
        out = self.buf[self.pos:end]
        self.pos += len(out)
        return out

    def readline(self):
        if self.pos >= len(self.buf):
            return None
        i = self.buf.find(b"\n", self.pos) + 1 or len(self.buf)
        line = self.buf[self.pos:i]
        self.pos = i
        return line

    def write(self, data):
        self.last = data
        self.sent += 1
        self.ev.set()
        return len(data)

    def close(self):
        pass


async def _measure(n, warm, frame, echo, io_obj, put, out):
    """The driver: n echoes (after `warm`), each put in with `put` and awaited on io_obj.ev."""
    bad = 0
    ev = io_obj.ev
    for measured in (False, True):
        if measured:
            gc.collect()
            gc.disable()
            a0 = gc.mem_alloc()
            t0 = time.ticks_us()
        for _ in range(n if measured else warm):
            s0 = io_obj.sent
            ev.clear()
            put(frame)
            while io_obj.sent == s0:
                await ev.wait()
                ev.clear()
            if io_obj.last != echo:
                bad += 1
    t1 = time.ticks_us()
    a1 = gc.mem_alloc()
    gc.enable()
    out.append((a1 - a0, time.ticks_diff(t1, t0), bad))


async def _mfa(n, warm, frame, echo, out):
    import ws_mfa_app as m
    from microfastapi import backend
    from microfastapi.wire import Request
    app = m.app
    backend.server_class = lambda: (MemServer, "in-memory")
    raw = Request(backend.parse_request(UPGRADE), b"", CLIENT)
    task = asyncio.create_task(app.serve("127.0.0.1", 80))
    await asyncio.sleep_ms(0)
    srv = MemServer.current
    srv.pending = raw
    for _ in range(50):
        if srv.upgraded and app._wss:
            break
        await asyncio.sleep_ms(1)
    else:
        raise RuntimeError("microfastapi did not upgrade")
    await asyncio.sleep_ms(5)
    note = [raw]

    def put(frame):
        srv.inbox = frame
        srv.note = note

    await _measure(n, warm, frame, echo, srv, put, out)
    task.cancel()
    await asyncio.sleep_ms(0)


async def _microdot(n, warm, frame, echo, out):
    import ws_microdot_app as m
    sock = MemSocket(UPGRADE)
    st = asyncio.StreamReader(sock, {"peername": CLIENT})  # (asyncio.Stream)
    task = asyncio.create_task(m.app.handle_request(st, st))
    for _ in range(50):
        if sock.sent:
            break
        await asyncio.sleep_ms(1)
    else:
        raise RuntimeError("Microdot did not answer the upgrade")
    await asyncio.sleep_ms(5)
    if not bytes(sock.last).endswith(b"\r\n\r\n"):
        raise RuntimeError("Microdot's handshake ended with %r" % bytes(sock.last))
    await _measure(n, warm, frame, echo, sock, sock.put, out)
    task.cancel()
    await asyncio.sleep_ms(0)


def main(impl, n, warm=3, size=32):
    frame, echo = frames(size)
    out = []
    asyncio.run((_microdot if impl == "microdot" else _mfa)(n, warm, frame, echo, out))
    heap, us, bad = out[0]
    if bad:
        raise RuntimeError("%s: %d echoes were not the expected frame" % (impl, bad))
    print("WSRESULT|%s|%d|%d" % (impl, heap // n, us * 1000 // n))
    print("WSINPROC-DONE")
