"""Exceptions a handler may raise, and the 422 error raised by path converters."""


class HTTPException(Exception):
    """Answer with `status_code` and `{"detail": detail}` (FastAPI's shape).

    raise HTTPException(404, "Item not found")
    raise HTTPException(401, "Login first", headers={"WWW-Authenticate": "Bearer"})
    """

    def __init__(self, status_code, detail=None, headers=None):
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers

    def __repr__(self):
        return "HTTPException(%d, %r)" % (self.status_code, self.detail)


class RequestValidationError(Exception):
    """A request did not match what the route declared (answered with 422).

    `errors` is FastAPI's detail list: [{"type", "loc", "msg", "input"}, ...].
    """

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


class WebSocketDisconnect(Exception):
    """A WebSocket is closed (raised by its receive and send calls): `code` is the close code
    (1000 normal, 1001 going away, 1006 gone without a close frame, ...), `reason` the
    peer's or ours."""

    def __init__(self, code=1000, reason=""):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class ClientDisconnect(HTTPException):
    """A request body that will never be complete: the client went, or the server refused the
    body (400 for bad chunked framing, 408 when it stopped arriving, 413 over the route's
    max_body) and has answered already. Raised by `req.stream()` and what reads through it
    (`form()`, uploads); a handler may let it propagate: nothing more reaches that client."""

    def __init__(self, detail="client disconnected"):
        super().__init__(400, detail)
