"""microdot.websocket: `@with_websocket` handlers `async def h(request, ws)` with
`await ws.receive()`, `await ws.send(data)`, `await ws.close()`, on microfastapi's WebSocket
(the handshake, frames, pings and keep-alive of microfastapi.websocket; `_mfa`'s frame code
in C on the firmware).

A message longer than WebSocket.max_message_length (or, when that is -1, than
Request.max_body_length) closes the connection with 1009. When the peer closes, receive()
and send() raise WebSocketError, which ends the handler quietly.
"""

from ...app import WsStart
from ...request import Request as _NativeRequest
from ...websocket import WebSocketDisconnect
from .core import Request, Response, abort, invoke_handler, _print_exception
from .helpers import wraps


class WebSocketError(Exception):
    """The WebSocket is closed (or a message broke the protocol)."""


class WebSocket:
    CONT = 0
    TEXT = 1
    BINARY = 2
    CLOSE = 8
    PING = 9
    PONG = 10

    max_message_length = -1

    def __init__(self, request, ws=None):
        self.request = request
        self._ws = ws
        self.closed = False

    async def handshake(self):
        """(Done by our server before the handler runs.)"""

    async def receive(self):
        """The next message: str (text) or bytes (binary)."""
        try:
            return await self._ws.receive()
        except WebSocketDisconnect:
            self.closed = True
            raise WebSocketError("Websocket connection closed")

    async def send(self, data, opcode=None):
        try:
            if opcode == self.TEXT or opcode is None and isinstance(data, str):
                await self._ws.send_text(data if isinstance(data, str) else data.decode())
            else:
                await self._ws.send_bytes(data.encode() if isinstance(data, str) else data)
        except WebSocketDisconnect:
            self.closed = True
            raise WebSocketError("Websocket connection closed")

    async def close(self):
        if not self.closed:
            self.closed = True
            await self._ws.close(1000)


def _max_message():
    n = WebSocket.max_message_length
    return Request.max_body_length if n == -1 else n


def _check_handshake(request):
    """Microdot's handshake rules: Connection with 'upgrade', 'Upgrade: websocket' and a
    Sec-WebSocket-Key, else 400 (our server then checks the rest: version, key format)."""
    h = request.headers
    conn = [t.strip().lower() for t in h.get("Connection", "").split(",")]
    if "upgrade" not in conn or h.get("Upgrade", "").lower() != "websocket" or \
            not h.get("Sec-WebSocket-Key"):
        abort(400)


def websocket_wrapper(f, upgrade_function=None):
    @wraps(f)
    async def wrapper(request, *args, **kwargs):
        _check_handshake(request)
        app = request.app

        async def run(native_ws):
            await native_ws.accept()
            ws = WebSocket(request, native_ws)
            try:
                await invoke_handler(f, request, ws, *args, **kwargs)
            except (WebSocketError, WebSocketDisconnect):
                pass
            except OSError as e:
                if e.args and e.args[0] not in (32, 54, 104, 128):
                    _print_exception(e)
            except Exception as e:
                _print_exception(e)
            if not ws.closed and native_ws.close_code is None:
                try:
                    await native_ws.close(1000)
                except Exception:
                    pass

        request._ws_start = lambda raw: WsStart(run, _NativeRequest(app.core, raw, {}), {},
                                                _max_message())
        return Response.already_handled
    return wrapper


def with_websocket(f):
    """Decorator: the route is a WebSocket endpoint, `f(request, ws, ...)`."""
    return websocket_wrapper(f)
