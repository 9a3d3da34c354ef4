"""Broadcast: one message to every subscriber (WebSocket or server-sent-event clients) without
ever waiting for a slow one.

    from microfastapi.broadcast import Broadcast
    readings = Broadcast(max_queue=8)

    @app.websocket("/ws")
    async def ws(websocket):
        await websocket.accept()
        await readings.serve(websocket, on_message=command)   # until either side closes

    @app.get("/events")
    def events(req):
        return EventSourceResponse(readings.subscribe())        # microfastapi.sse

    readings.publish({"t": 21.5})                              # from any task; never blocks

Each subscriber has a queue of at most `max_queue` messages, emptied by its own connection's
task as fast as its client reads. `publish` only appends to the queues, so one client that
reads slowly (or not at all) costs the others nothing. The rule for a subscriber whose queue
is full when a message comes: with `slow="disconnect"` (the default) it is dropped: its
subscription ends (a WebSocket served by `serve()` is closed with 1008, an event stream ends
and the browser's EventSource reconnects); with `slow="drop"` its oldest queued message is
dropped instead (for dashboards where only the latest values matter).
"""

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

try:
    _StopAsync = StopAsyncIteration
except NameError:  # pragma: no cover
    _StopAsync = StopIteration

TOO_SLOW = 1008  # the close code of a WebSocket dropped for not keeping up


class Subscription:
    """One subscriber's queue: an async iterator of the messages published since it
    subscribed. It ends when the broadcast drops it (too slow) or it is closed."""

    def __init__(self, hub):
        self.hub = hub
        self.queue = []
        self.dropped = False  # dropped by the hub for not keeping up
        self.closed = False
        self._flag = asyncio.Event()

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self.queue:
            if self.closed:
                raise _StopAsync
            self._flag.clear()
            await self._flag.wait()
        return self.queue.pop(0)

    def _put(self, msg):
        q = self.queue
        if len(q) >= self.hub.max_queue:
            if self.hub.slow == "drop":
                q.pop(0)
            else:
                self.dropped = True
                self.close()
                return
        q.append(msg)
        self._flag.set()

    def close(self):
        """Unsubscribe; the iterator ends once what is queued was taken (at once if dropped)."""
        if self.dropped:
            self.queue = []
        if not self.closed:
            self.closed = True
            self.hub.subscribers.remove(self)
        self._flag.set()


class Broadcast:
    def __init__(self, max_queue=8, slow="disconnect"):
        if slow not in ("disconnect", "drop"):
            raise ValueError("slow must be 'disconnect' or 'drop', not %r" % (slow,))
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.max_queue = max_queue
        self.slow = slow
        self.subscribers = []

    def __len__(self):
        return len(self.subscribers)

    def subscribe(self):
        s = Subscription(self)
        self.subscribers.append(s)
        return s

    def publish(self, msg):
        """Queue `msg` (str, bytes, or a dict/list sent as JSON) for every subscriber. Never
        blocks. Returns how many subscribers it was queued for."""
        n = 0
        for s in list(self.subscribers):
            s._put(msg)
            if not s.closed:
                n += 1
        return n

    async def serve(self, websocket, on_message=None):
        """Send every published message to an accepted `websocket` until either side closes
        (returns then). `on_message(msg)`: called (awaited if it is a coroutine function's
        result) with each message the client sends; without it they are read and dropped.
        A client that does not keep up is closed with 1008 (see the module's rule)."""
        sub = self.subscribe()
        pusher = asyncio.create_task(self._push(websocket, sub))
        try:
            async for msg in websocket:
                if on_message is not None:
                    r = on_message(msg)
                    if hasattr(r, "send"):  # (a coroutine)
                        await r
                if pusher.done() if hasattr(pusher, "done") else False:
                    break
        finally:
            sub.close()
            pusher.cancel()
        if sub.dropped:
            await websocket.close(TOO_SLOW, "too slow")

    async def _push(self, websocket, sub):
        from .exceptions import WebSocketDisconnect
        try:
            async for msg in sub:
                t = type(msg)
                if t is dict or t is list:
                    await websocket.send_json(msg)
                else:
                    await websocket.send(msg)
            if sub.dropped:
                await websocket.close(TOO_SLOW, "too slow")
        except WebSocketDisconnect:
            pass
