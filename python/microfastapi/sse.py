"""Server-sent events (the HTML `EventSource`): a streamed `text/event-stream` answer.

    from microfastapi.sse import EventSourceResponse, ServerSentEvent

    @app.get("/events")
    def events(req):
        return EventSourceResponse(readings.subscribe(), ping_ms=15000)  # a Broadcast's

`source` is an async iterator (a broadcast.Subscription, a pieces.AsyncPieces, your own class
with __anext__) or a plain iterable. Each item becomes one event:
- a str: its `data` (a multi-line str becomes one `data:` line per line);
- a dict or list: JSON as its data;
- a ServerSentEvent(data, event=, id=, retry=, comment=), or a dict with those keys under
  "sse" (e.g. {"sse": True, "event": "reading", "data": {...}, "id": 7}).
While the source has nothing, a comment line (`:`) goes out every `ping_ms` (default 15 s), so
proxies and browsers keep the stream open and a client that went away is noticed (its send
fails, the stream ends and its connection slot is free). A source that is waited on across a
ping is not cancelled: the same piece is awaited after the ping.
"""

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

from .response import StreamingResponse

try:
    _StopAsync = StopAsyncIteration
except NameError:  # pragma: no cover
    _StopAsync = StopIteration


class ServerSentEvent:
    def __init__(self, data=None, event=None, id=None, retry=None, comment=None):
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self):
        """The event's lines, ending with the blank line (str)."""
        out = []
        if self.comment is not None:
            for line in str(self.comment).split("\n"):
                out.append(": " + line)
        if self.event is not None:
            out.append("event: " + _one_line(self.event, "event"))
        if self.id is not None:
            out.append("id: " + _one_line(self.id, "id"))
        if self.retry is not None:
            out.append("retry: %d" % int(self.retry))
        d = self.data
        if d is not None:
            t = type(d)
            if t is dict or t is list or t is int or t is float or t is bool:
                d = json.dumps(d)
            elif t is bytes:
                d = d.decode()
            for line in d.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
                out.append("data: " + line)
        return "\n".join(out) + "\n\n"


def _one_line(v, what):
    v = str(v)
    if "\n" in v or "\r" in v:
        raise ValueError("an event's %s cannot hold a line break: %r" % (what, v))
    return v


def encode(item):
    """One source item as event-stream text."""
    t = type(item)
    if t is str:
        return ServerSentEvent(item).encode()
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if t is dict and item.get("sse"):
        return ServerSentEvent(item.get("data"), item.get("event"), item.get("id"),
                               item.get("retry"), item.get("comment")).encode()
    return ServerSentEvent(item).encode()


class _Events:
    """The async iterator of encoded events and keep-alive comments over `source`."""

    def __init__(self, source, ping_ms):
        if hasattr(source, "__anext__"):
            self.src = source
        elif hasattr(source, "__aiter__"):
            self.src = source.__aiter__()
        else:
            self.src = None
            self.it = iter(source)
        self.ping_ms = ping_ms
        self.task = None   # the pending __anext__ of the source
        self.result = None
        self.ready = asyncio.Event()

    def __aiter__(self):
        return self

    async def _pull(self):
        try:
            self.result = (True, await self.src.__anext__())
        except _StopAsync:
            self.result = (False, None)
        except Exception as e:
            self.result = (None, e)
        self.ready.set()

    async def __anext__(self):
        if self.src is None:
            try:
                return encode(next(self.it))
            except StopIteration:
                raise _StopAsync
        if self.task is None:
            self.result = None
            self.ready.clear()
            self.task = asyncio.create_task(self._pull())
        if self.ping_ms:
            try:
                await asyncio.wait_for(self.ready.wait(), self.ping_ms / 1000)
            except asyncio.TimeoutError:
                return ":\n\n"  # keep-alive comment; the pull goes on
        else:
            await self.ready.wait()
        self.task = None
        ok, v = self.result
        if ok:
            return encode(v)
        if ok is None:
            raise v
        raise _StopAsync

    def close(self):
        """The stream ended (the client went, the app stopped): stop the pull and the source."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
        src = self.src
        for name in ("close", "aclose"):
            f = getattr(src, name, None)
            if f is not None:
                try:
                    r = f()
                    if hasattr(r, "close"):  # aclose()'s coroutine: it is not awaited
                        r.close()
                except Exception:
                    pass
                break


class EventSourceResponse(StreamingResponse):
    """A text/event-stream answer of the events of `source` (see the module)."""

    media_type = "text/event-stream"

    def __init__(self, source, status_code=200, headers=None, ping_ms=15000):
        StreamingResponse.__init__(self, None, status_code, headers, "text/event-stream")
        self.source = source
        self.ping_ms = ping_ms
        self.append_header("Cache-Control", "no-cache")
        self.append_header("X-Accel-Buffering", "no")  # (nginx: do not hold events back)

    def iterator(self):
        return _Events(self.source, self.ping_ms)
