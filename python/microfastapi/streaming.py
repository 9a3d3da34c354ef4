"""Sending a StreamingResponse: one `Stream` per streamed answer in progress.

Under serve() (and the TestClient) every stream is pumped by a task of its own (`run`), so an
async iterator may really await. Under poll() there is no event loop: the app pumps streams a
few pieces per poll() step (`pump`), and an async iterator must not suspend there.

The next piece is pulled only once the previous one was queued by the server, so a slow client
slows the producer instead of filling RAM. When the iterator raises, the connection is aborted
(no final chunk, so the client sees a cut body, not a complete one) and one log line names the
route; when the client goes away, one line says so.
"""

from . import log

try:
    import asyncio
except ImportError:  # pragma: no cover
    asyncio = None

from .clock import ticks_ms as _ticks, ticks_diff as _ticks_diff

# serve() mode: the longest a stream keeps the event loop before the other tasks run (the
# serve loop among them: other clients wait at most this long for a stream that never blocks)
_SLICE_MS = 4

try:
    _StopAsync = StopAsyncIteration
except NameError:  # pragma: no cover
    _StopAsync = StopIteration


def run_sync(coro):
    """Run a coroutine that never suspends (no real awaiting) to completion."""
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    coro.close()
    raise RuntimeError("an async handler suspended: serve with app.run() or await app.serve()")


def route_name(raw):
    """'GET /path' of a request, for log lines."""
    try:
        return "%s %s" % (raw.method, raw.path)
    except Exception:
        return "?"


def client_name(raw):
    try:
        c = raw.client
        return "%s:%s" % (c[0], c[1])
    except Exception:
        return "?"


def oserror(e):
    """'reset', 'closed', ... for the OSError a server raises when a client has gone."""
    code = e.args[0] if e.args else None
    return {104: "reset", 32: "closed", 110: "timed out"}.get(code, repr(e))


class Stream:
    """One streamed answer: the request and server it goes to, the body's iterator, a piece
    produced but not yet queued, and how many pieces were sent."""

    def __init__(self, raw, srv, it, budget):
        self.raw = raw
        self.srv = srv
        self.it = it
        self.aio = hasattr(it, "__anext__")  # an async iterator
        self.pending = None
        self.sent = 0
        self.budget = budget  # pieces per poll() step, or between yields to other tasks

    def failed(self, e):
        log.exception(e, "%s: stream failed after %d chunks: %s: %s", route_name(self.raw),
                      self.sent, type(e).__name__, e)
        self.close(True)

    def gone(self, why):
        log.info("%s: client %s gone while streaming (%s)", route_name(self.raw),
                 client_name(self.raw), why)
        self.close(True)

    def close(self, abort):
        """Close the iterator; with `abort`, reset the connection too (nothing more of this
        answer can be sent)."""
        if hasattr(self.it, "close"):
            try:
                self.it.close()
            except Exception:
                pass
        if abort:
            try:
                self.srv.abort(self.raw)
            except Exception:
                pass

    def _next_piece(self):
        """The next non-empty piece (bytes) of an iterator that does not suspend, or None at
        its end."""
        it = self.it
        while True:
            try:
                p = run_sync(it.__anext__()) if self.aio else next(it)
            except (StopIteration, _StopAsync):
                return None
            if isinstance(p, str):  # (a str subclass too: Jinja's Markup chunks)
                p = p.encode()
            if p:
                return p

    def _end(self):
        try:
            self.srv.stream_end(self.raw)
        except OSError as e:
            self.gone(oserror(e))

    def pump(self):
        """poll() mode: send up to `budget` pieces. True when the stream is finished."""
        raw, srv = self.raw, self.srv
        budget = self.budget
        while budget:
            p = self.pending
            if p is None:
                try:
                    p = self._next_piece()
                except Exception as e:
                    self.failed(e)
                    return True
                if p is None:
                    self._end()
                    return True
            try:
                queued = srv.stream_send(raw, p)
            except OSError as e:
                self.gone(oserror(e))
                return True
            except Exception as e:  # MemoryError copying the piece, a piece of a wrong type
                self.failed(e)
                return True
            if not queued:
                self.pending = p
                return False
            self.pending = None
            self.sent += 1
            budget -= 1
        return False

    async def _anext_piece(self):
        while True:
            try:
                p = await self.it.__anext__()
            except _StopAsync:
                return None
            if isinstance(p, str):  # (a str subclass too: Jinja's Markup chunks)
                p = p.encode()
            if p:
                return p

    async def run(self):
        """serve() mode: the whole body. Awaits the iterator (async ones may suspend), waits a
        little while the connection's queue is full, yields to the other tasks once it has had
        the loop for _SLICE_MS (looked at every `budget` pieces). A CancelledError (serve() aborted the connection) closes the iterator and
        goes on up."""
        raw, srv = self.raw, self.srv
        budget = self.budget
        since = _ticks()
        try:
            while True:
                try:
                    p = await self._anext_piece() if self.aio else self._next_piece()
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    self.failed(e)
                    return
                if p is None:
                    break
                try:
                    while not srv.stream_send(raw, p):
                        await asyncio.sleep(0.002)  # the server sends from its queue meanwhile
                        since = _ticks()
                except OSError as e:
                    self.gone(oserror(e))
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # as in pump()
                    self.failed(e)
                    return
                self.sent += 1
                budget -= 1
                if not budget:
                    # Every `budget` pieces: if this stream has had the loop for _SLICE_MS,
                    # let the others run. (Yielding every few pieces instead cost a trip
                    # through the serve loop each time: most of a generator's time.)
                    budget = self.budget
                    now = _ticks()
                    if _ticks_diff(now, since) >= _SLICE_MS:
                        await asyncio.sleep(0)
                        since = _ticks()
            self._end()
        except asyncio.CancelledError:
            self.close(False)
            raise
