"""microdot.sse: `@with_sse` handlers `async def h(request, sse)` that `await sse.send(...)`.

The handler runs as a task of its own; what it sends is queued and streamed as the answer's
body (text/event-stream) by our server's stream sender, one event per piece. When the
handler raises, the stream ends there: our server logs it and resets the connection (an
event stream has no status left to change), where Microdot re-raises it into the request.
"""

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

from .helpers import wraps

try:
    _StopAsync = StopAsyncIteration
except NameError:  # pragma: no cover
    _StopAsync = StopIteration


class SSE:
    """The sending side handed to a @with_sse handler."""

    def __init__(self):
        self.event = asyncio.Event()
        self.queue = []

    async def send(self, data, event=None, event_id=None, retry=None, comment=False):
        """One event: `data` a str, bytes, dict/list (as JSON) or anything else (str()ed);
        `event`, `event_id`, `retry` (seconds) its fields; `comment` sends it as a comment."""
        if isinstance(data, (dict, list)):
            data = json.dumps(data)
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, bytes):
            data = str(data).encode()
        if comment:
            out = b": " + data + b"\n\n"
        else:
            out = b""
            if event:
                out += b"event: " + event.encode() + b"\n"
            if event_id:
                out += b"id: " + event_id.encode() + b"\n"
            if retry:
                out += b"retry: " + str(int(retry * 1000)).encode() + b"\n"
            out += b"data: " + data + b"\n\n"
        self.queue.append(out)
        self.event.set()


class _Events:
    """The body iterator: the queued events until the handler's task has ended."""

    def __init__(self, sse, task):
        self.sse = sse
        self.task = task

    def __aiter__(self):
        return self

    async def __anext__(self):
        sse = self.sse
        while not sse.queue:
            if self.task.done():
                raise _StopAsync
            await sse.event.wait()
            sse.event.clear()
        ev = sse.queue.pop(0)
        if isinstance(ev, Exception):
            raise ev
        return ev

    async def aclose(self):
        self.task.cancel()


def sse_response(request, event_function, *args, **kwargs):
    sse = SSE()

    async def run():
        try:
            await event_function(request, sse, *args, **kwargs)
        except asyncio.CancelledError:
            pass
        except Exception as e:
            sse.queue.append(e)  # (raised by the body iterator, where the stream is)
        sse.event.set()

    task = asyncio.create_task(run())
    return _Events(sse, task), 200, {"Content-Type": "text/event-stream"}


def with_sse(f):
    """Decorator: the route answers with an event stream fed by `f(request, sse, ...)`."""
    @wraps(f)
    async def sse_handler(request, *args, **kwargs):
        return sse_response(request, f, *args, **kwargs)
    return sse_handler
