"""MicroFastApi: decorator routing, dispatch, exception handlers, middleware, running.

The per-request path (no middleware, plain return value) is: dict lookup or template match ->
one Request object -> handler -> json.dumps -> server.respond(). Header lists for plain return
values are module constants, so nothing else is allocated in Python.
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

from . import backend
from . import log
from .exceptions import HTTPException, RequestValidationError
from .request import Request
from .response import (Response, JSONResponse, RedirectResponse, StreamingResponse,
                       FileResponse, JSON_TYPE, TEXT_TYPE, BYTES_TYPE, header_pairs, check_json,
                       json_dumps, json_suspect, _LAX, check_status, dumps)
from .routing import Router, register_converter
from .routecheck import check_route, check_options
from .streaming import Stream, run_sync, route_name as _route_name, client_name as _client_name

# Header lists shared by every plain return value; the server only reads them.
_JSON_H = (("Content-Type", JSON_TYPE),)
_TEXT_H = (("Content-Type", TEXT_TYPE),)
_BYTES_H = (("Content-Type", BYTES_TYPE),)
_NO_PARAMS = {}  # path_params of static routes (shared; treat as read-only)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def is_coro(r):
    """True for what an `async def` call returns (a generator object on MicroPython)."""
    return hasattr(r, "send") and hasattr(r, "throw")


class APIRouter:
    """A group of routes under a prefix, included into an app (or another router) later.

    router = APIRouter(prefix="/items")
    @router.get("/{item_id:int}")
    def read(req, item_id): ...
    app.include_router(router)
    """

    def __init__(self, prefix="", **meta):
        check_options(meta)  # route options every route of this router gets
        self.prefix = prefix.rstrip("/")
        self.meta = meta
        self.routes = []  # (path, methods, fn, meta)

    def add_route(self, template, fn, methods=("GET",), **meta):
        path = template
        if path is None and type(meta.get("path")) is str:
            path = meta.pop("path")  # FastAPI's keyword form: app.get(path="/x")
        check_route(path, fn, methods, meta)
        if self.meta:
            m = dict(self.meta)
            m.update(meta)
            meta = m
        self._add(self.prefix + path, [m.upper() for m in methods], fn, meta)
        return fn

    def _add(self, path, methods, fn, meta):
        self.routes.append((path, methods, fn, meta))

    # The template is positional; it is not called `path` so that a `path=` keyword reaches
    # check_route (FastAPI's `app.get(path="/x")` works; a `path={...}` declaration gets a
    # clear error instead of Python's "multiple values for argument").
    def route(self, template=None, methods=("GET",), **meta):
        """Decorator: `fn` answers `methods` at `path`. Extra keyword arguments (summary, tags,
        query/body declarations, ...; see routecheck.ROUTE_OPTIONS) are kept on the Endpoint as
        `meta`; an unknown one is a TypeError here, at registration."""
        def deco(fn):
            return self.add_route(template, fn, methods, **meta)
        return deco

    def get(self, template=None, **meta):
        return self.route(template, ("GET",), **meta)

    def post(self, template=None, **meta):
        return self.route(template, ("POST",), **meta)

    def put(self, template=None, **meta):
        return self.route(template, ("PUT",), **meta)

    def patch(self, template=None, **meta):
        return self.route(template, ("PATCH",), **meta)

    def delete(self, template=None, **meta):
        return self.route(template, ("DELETE",), **meta)

    def head(self, template=None, **meta):
        return self.route(template, ("HEAD",), **meta)

    def options(self, template=None, **meta):
        return self.route(template, ("OPTIONS",), **meta)

    def websocket(self, template=None, max_message=None, **meta):
        """Decorator for `async def handler(websocket, **path_params)`: a WebSocket endpoint
        at `path` (microfastapi.websocket). `max_message`: the largest message accepted, in
        bytes (the app's `ws_max_message` by default); larger ones close with 1009."""
        def deco(fn):
            def endpoint(req, **params):
                return WsStart(fn, req, params, max_message or req.app.ws_max_message)
            m = dict(meta)
            m.setdefault("include_in_schema", False)  # (OpenAPI has no WebSocket operations)
            self.add_route(template, endpoint, ("GET",), **m)
            return fn
        return deco

    def include_router(self, router, prefix=""):
        """Add the routes of an APIRouter, or of another MicroFastApi app, under `prefix`.
        Options given to this router or app (e.g. an app-wide security=) apply to them too,
        under the routes' own."""
        prefix = prefix.rstrip("/")
        for path, methods, fn, meta in routes_of(router):
            if self.meta:
                m = dict(self.meta)
                m.update(meta)
                meta = m
            self._add(prefix + path, methods, fn, meta)

    def mount(self, path, app, name=None):
        """Serve `app` under `path`: a staticfiles.StaticFiles directory
        (`app.mount("/static", StaticFiles(directory="/www"))`), or an APIRouter or another
        MicroFastApi app, whose routes are added under `path` (as include_router does). Mount
        after the routes it should not shadow (dynamic routes are tried in registration
        order)."""
        if hasattr(app, "mount_on"):
            app.mount_on(self, path)
        elif isinstance(app, APIRouter):
            self.include_router(app, path)
        else:
            raise TypeError("mount() takes a StaticFiles, an APIRouter or a MicroFastApi app, "
                            "not %s" % type(app).__name__)


class WsStart:
    """What a WebSocket route's endpoint returns: the handler to run once the handshake is
    checked, with its request and path parameters (send() starts it: websocket.run)."""

    def __init__(self, fn, req, params, max_message):
        self.fn = fn
        self.req = req
        self.params = params
        self.max_message = max_message


def routes_of(router):
    """(path, methods, fn, meta) of every route of an APIRouter or a MicroFastApi app."""
    if not isinstance(router, APIRouter):
        raise TypeError("include_router() takes an APIRouter or a MicroFastApi app, not %s"
                        % type(router).__name__)
    if not isinstance(router, MicroFastApi):
        return router.routes
    # An app keeps its routes in its Router. What belongs to the app itself (its schema and
    # docs pages) stays behind, and so would its middleware, hooks and exception handlers:
    # refuse rather than serve its routes without them.
    if router.middlewares or router.before_hooks or router.after_hooks or \
            router.exception_handlers:
        raise ValueError("included app %r has middleware, hooks or exception handlers, which "
                         "would not apply to its routes here: register them on the including "
                         "app, or include an APIRouter" % router.title)
    return [(ep.template, ep.methods, ep.fn, ep.meta)
            for ep in router.router.endpoints if not ep.internal]


class MicroFastApi(APIRouter):
    """The application: routes, error handling, middleware, and the server loop.

    Limits (class attributes, override per instance or subclass), passed to the server:
    """
    max_conns = 8             # simultaneous connections; more are answered 503
    max_body = 16384          # request body bytes; more are answered 413 (per route: max_body=)
    header_timeout_ms = 10000  # request line + headers must arrive within this
    body_timeout_ms = 10000    # body must arrive within this after the headers
    idle_timeout_ms = 5000     # keep-alive connections idle longer are closed
    min_rate = 500             # bytes/s a head or body must keep up after rate_grace_ms (0: off)
    rate_grace_ms = 3000       # (docs/connections.md, "The minimum data rate")
    stream_budget = 8          # chunks sent per streaming response per poll step
    ws_max_message = 4096      # WebSocket: the largest message accepted (bytes; 1009 beyond)
    ws_ping_interval_ms = 20000  # WebSocket: a ping after this long without a byte from the peer
    ws_ping_timeout_ms = 20000   # ... and a reset when still nothing has come this long after
    upload_dir = None          # form()'s spool files (made if missing; docs/uploads.md); None: /tmp, else "/"

    def __init__(self, title="microfastapi", version="0.1.0", debug=False, description=None,
                 openapi_url="/openapi.json", docs_url="/docs", docs="offline", **meta):
        APIRouter.__init__(self, **meta)
        self.title = title
        self.version = version
        self.description = description
        self.openapi_url = openapi_url  # None: no schema route (and no docs page)
        self.docs_url = docs_url        # None: no docs page
        # the docs page: "offline" (ours, served from flash) or "swagger" (Swagger UI from a
        # CDN); read on each request (docs/api-docs.md)
        self.docs = docs
        self.debug = debug
        self.router = Router()
        self.exception_handlers = {}
        self.middlewares = []
        self.before_hooks = []
        self.after_hooks = []
        # Called with each Endpoint as it is registered (e.g. to install a validating `call`
        # for OpenAPI declarations). Routes added before a hook was added are replayed.
        self.route_hooks = []
        self.server = None
        self.backend = None
        self.host = None
        self.port = None
        self._streams = []  # poll() mode streams (see _pump)
        self._tasks = []    # serve() mode: (request, task, what) of each answer being awaited
        # What waits for its connection's bytes (readable()): open WebSockets
        # (websocket.WebSocket) and streamed request bodies waiting for more (bodies.BodyStream).
        self._wss = []
        self._bodies = False  # a route has stream_body= or max_body=: see _handle_bodies
        self._loop = False  # running under an event loop (serve(), the TestClient)
        self._serving = False  # inside serve()
        self._stopping = False  # shutdown() asked serve() to stop
        self._slow = False  # middleware or hooks present: take the full (coroutine) path
        self._constants = {}  # path -> (methods, status, headers, body): add_constant_route
        if openapi_url:
            from .openapi import setup
            setup(self)

    # ---- registration -------------------------------------------------------------------

    def _add(self, path, methods, fn, meta):
        ep = self.router.add(path, methods, fn, meta)
        if meta:  # decorator keywords: validation.install wraps ep.call only if it must
            from .validation import install
            install(ep)
            if "max_body" in meta or meta.get("stream_body"):
                # Bodies by route: the server hands out requests whose body has not arrived
                # (stream_bodies), and this app's handle decides for each (an instance
                # attribute: apps without such routes keep the plain path).
                self._bodies = True
                self.handle = self._handle_bodies
        for hook in self.route_hooks:
            hook(self, ep)

    def add_constant_route(self, path, body, status=200, content_type=JSON_TYPE, headers=None,
                           methods=("GET", "HEAD"), **meta):
        """A route whose answer never changes (a health check), answered by the server itself
        inside its poll(): no Request, no handler, no middleware, hooks or exception handlers
        (docs/routing.md, "Constant routes"). `body`: bytes, str, or a dict/list sent as JSON.
        The path is matched as the client sent it, the query string ignored. A normal route
        with the same answer is registered too (TestClient, OpenAPI, a request the server
        leaves to the app: one whose body is still arriving)."""
        if "{" in path or not path.startswith("/"):
            raise ValueError("a constant route needs a fixed path starting with /: %r" % path)
        t = type(body)
        if t is dict or t is list:
            body = dumps(body)  # (raises, as a JSONResponse would, for what JSON cannot hold)
        if type(body) is str:
            body = body.encode()
        elif type(body) is not bytes:
            raise TypeError("body must be bytes, str, dict or list")
        check_status(status)
        hs = header_pairs(headers)
        for k, v in hs:
            low = k.lower()
            if low in ("content-length", "transfer-encoding", "connection"):
                raise ValueError("the server frames constant answers itself: no %s header" % k)
            if low == "content-type":
                content_type = None  # the headers' own wins, as in Response
        if content_type is not None:
            hs.insert(0, ("Content-Type", content_type))
        from .wire import check_headers
        check_headers(hs)  # (here, not first when the server starts)
        hs = tuple(hs)
        methods = tuple([m.upper() for m in methods])
        self._constants[path] = (methods, status, hs, body)
        if self.server is not None:
            self.server.add_constant(path, methods, status, hs, body)

        def constant(req):
            return Response(body, status, list(hs))
        # HEAD is answered by the GET route in the router (and in OpenAPI it has no operation).
        rm = [m for m in methods if m != "HEAD" or "GET" not in methods]
        self.add_route(path, constant, methods=rm, **meta)

    def add_route_hook(self, hook):
        """hook(app, endpoint) for every endpoint, present and future."""
        self.route_hooks.append(hook)
        for ep in self.router.endpoints:
            hook(self, ep)

    @property
    def endpoints(self):
        return self.router.endpoints

    def register_converter(self, name, fn, error_type="value_error", error_msg="Invalid value",
                           greedy=False, schema=None):
        """Add `{param:name}`: `fn(str)` returns the value or raises ValueError (-> 422)."""
        register_converter(name, fn, error_type, error_msg, greedy, schema)

    def exception_handler(self, key):
        """Decorator: `fn(req, exc)` answers for an exception class or an HTTP status code
        (404, 405, 422, 500, ... including the built-in answers)."""
        def deco(fn):
            self.exception_handlers[key] = fn
            return fn
        return deco

    def middleware(self, kind="http"):
        """Decorator for `async def mw(req, call_next)`; `await call_next(req)` gives the
        Response of the rest of the chain, which the middleware may change or replace."""
        if kind != "http":
            raise ValueError("only 'http' middleware exists")

        def deco(fn):
            self.middlewares.append(fn)
            self._slow = True
            return fn
        return deco

    def add_middleware(self, fn):
        self.middlewares.append(fn)
        self._slow = True

    def before_request(self, fn):
        """Decorator: `fn(req)` runs before routing; a non-None return value is the answer."""
        self.before_hooks.append(fn)
        self._slow = True
        return fn

    def after_request(self, fn):
        """Decorator: `fn(req, response)` may change the Response or return a new one."""
        self.after_hooks.append(fn)
        self._slow = True
        return fn

    # ---- dispatch -----------------------------------------------------------------------

    def _route(self, raw, req, found=None):
        """Find (unless `found` is the router's answer already) and call the endpoint; returns
        (req, handler result)."""
        ep, params, route = found or self.router.find(raw.method, raw.path)
        if ep is None:
            if params is None:
                to = self._slash_redirect(raw)
                if to is not None:
                    return req or Request(self, raw, _NO_PARAMS), to
                raise HTTPException(404, "Not Found")
            raise HTTPException(405, "Method Not Allowed", {"Allow": ", ".join(params)})
        if route is not None:
            route.convert(params, backend.unquote)
            if req is None:
                req = Request(self, raw, params)
            else:
                req.path_params = params
            return req, ep.call(req, **params)
        if req is None:
            req = Request(self, raw, _NO_PARAMS)
        return req, ep.call(req)

    def body_limit(self, raw):
        """The most body bytes the route of `raw` accepts: its max_body=, else the app's."""
        ep = self.router.find(raw.method, raw.path)[0]
        if ep is None:
            return self.max_body
        return ep.meta.get("max_body", self.max_body)

    def _handle_bodies(self, raw, srv):
        """handle() for an app with stream_body= or max_body= routes (docs/uploads.md). A
        request whose body is still on the wire (body None) goes to its handler when the route
        streams it (req.stream()); otherwise the server collects it under the route's limit
        and hands the request out again whole. A whole body is held to the route's limit."""
        b = raw.body
        found = self.router.find(raw.method, raw.path)
        ep = found[0]
        if ep is not None:
            limit = ep.meta.get("max_body", self.max_body)
            if b is None:
                if not ep.meta.get("stream_body"):
                    srv.body_collect(raw, limit)
                    return None
            elif len(b) > limit:
                self.send(raw, srv, self.error_response(None, HTTPException(
                    413, "request body too large (limit %d)" % limit), raw))
                return None
        return MicroFastApi.handle(self, raw, srv, found)

    def _slash_redirect(self, raw):
        """FastAPI's redirect_slashes: a GET/HEAD for '/todos/' when only '/todos' exists (or
        the other way round) is answered 307 to the form that exists, query kept."""
        if raw.method != "GET" and raw.method != "HEAD":
            return None
        path = raw.path
        other = path[:-1] if path.endswith("/") else path + "/"
        # '//host' would be read by the client as another host: never redirect there.
        if not other or other.startswith("//") or self.router.find(raw.method, other)[0] is None:
            return None
        if raw.query:
            other += "?" + raw.query
        return RedirectResponse(other)

    def handle(self, raw, srv, found=None):
        """Answer one request taken from `srv`. Returns None when it is answered (or being
        streamed), or a coroutine that answers it when awaited (async handler/middleware).
        `found`: the router's answer for it, when the caller looked it up already."""
        if self._slow:
            return self._full(raw, srv)
        req = None
        try:
            req, r = self._route(raw, None, found)
            t = type(r)
            # (the plain return values first: is_coro's hasattr misses are dear on MicroPython)
            if t is not dict and t is not list and t is not str and is_coro(r):
                return self._finish(raw, srv, req, r)
        except Exception as e:
            r = self.error_response(req, e, raw)
            if is_coro(r):
                return self._finish(raw, srv, req, r)
        self.send(raw, srv, r)
        return None

    async def _finish(self, raw, srv, req, coro):
        try:
            r = await coro
        except Exception as e:
            r = self.error_response(req, e)
            if is_coro(r):
                try:
                    r = await r
                except Exception as e2:
                    r = self._internal_error(e2, raw)
        finally:
            if req is not None and req._uploads:
                _discard_uploads(req)
        self.send(raw, srv, r)
        if self._loop:
            self._task_done(raw, srv)  # (this coroutine is the task: no wrapper, less heap)

    async def _full(self, raw, srv):
        req = Request(self, raw, _NO_PARAMS)
        try:
            resp = await self._chain(req, 0)
        except Exception as e:
            resp = self._internal_error(e, raw)
        finally:
            if req._uploads:
                _discard_uploads(req)
        self.send(raw, srv, resp)
        if self._loop:
            self._task_done(raw, srv)

    async def _chain(self, req, i):
        if i < len(self.middlewares):
            async def call_next(request):
                return await self._chain(request, i + 1)
            r = self.middlewares[i](req, call_next)
            if is_coro(r):
                r = await r
            return self.to_response(r)
        try:
            r = None
            for hook in self.before_hooks:
                r = hook(req)
                if is_coro(r):
                    r = await r
                if r is not None:
                    break
            if r is None:
                req, r = self._route(req.raw, req)
                if is_coro(r):
                    r = await r
            resp = self.to_response(r)
        except Exception as e:
            r = self.error_response(req, e)
            if is_coro(r):
                r = await r
            resp = self.to_response(r)
        for hook in self.after_hooks:
            r = hook(req, resp)
            if is_coro(r):
                r = await r
            if r is not None:
                resp = self.to_response(r)
        return resp

    def _handler_for(self, e):
        handlers = self.exception_handlers
        if not handlers:
            return None
        if isinstance(e, HTTPException):
            h = handlers.get(e.status_code)
            if h is not None:
                return h
        h = handlers.get(type(e))
        if h is not None:
            return h
        for key in handlers:
            if not isinstance(key, int) and isinstance(e, key):
                return handlers[key]
        if isinstance(e, RequestValidationError):
            return handlers.get(422)
        if not isinstance(e, HTTPException):
            return handlers.get(500)
        return None

    def error_response(self, req, e, raw=None):
        """What to answer for an exception raised while handling `req` (may be a coroutine
        when a custom async handler answers). `raw` names the route in the log when the
        exception came before `req` was made (in routing or in a plain handler)."""
        if req is not None:
            raw = req.raw
        h = self._handler_for(e)
        if h is not None:
            try:
                if req is None and raw is not None:
                    # (a 404/405/413 comes before the request object: the handler gets one,
                    # as in FastAPI, made only on this path)
                    req = Request(self, raw, _NO_PARAMS)
                return h(req, e)
            except Exception as e2:
                return self._internal_error(e2, raw)
        try:
            if isinstance(e, HTTPException):
                return JSONResponse({"detail": e.detail}, e.status_code, e.headers)
            if isinstance(e, RequestValidationError):
                return JSONResponse({"detail": e.errors}, 422)
        except Exception as e2:  # e.g. HTTPException(99): not a status we can send
            return self._internal_error(e2, raw)
        return self._internal_error(e, raw)

    def _internal_error(self, e, raw=None):
        """Log a handler's exception (one line naming the route, then the traceback) and
        return the 500 answer. MemoryError is the board running short, not a bug in the
        route: one warning line and 503, the answer the server gives when it cannot hold a
        request (docs/memory.md), so a client may retry later."""
        where = _route_name(raw) if raw is not None else "handler"
        if isinstance(e, MemoryError):
            log.warning("%s: out of memory, answered 503", where)
            return Response("out of memory", 503, None, TEXT_TYPE)
        log.exception(e, "%s: %s: %s", where, type(e).__name__, e)
        detail = "Internal Server Error"
        if self.debug:
            detail = "%s: %s" % (type(e).__name__, e)
        return JSONResponse({"detail": detail}, 500)

    def to_response(self, r):
        """Any accepted handler return value -> a Response object."""
        if isinstance(r, Response):
            return r
        t = type(r)
        if t is dict or t is list or r is None or t is int or t is float or t is bool:
            return JSONResponse(r)  # JSON scalars too, as FastAPI; a str stays text/plain
        if t is str:
            return Response(r, 200, None, TEXT_TYPE)
        if t is bytes or t is bytearray or t is memoryview:
            return Response(bytes(r), 200, None, BYTES_TYPE)
        if t is tuple:
            resp = self.to_response(r[0])
            if len(r) > 1:
                resp.status_code = r[1]
            if len(r) > 2:
                for k, v in header_pairs(r[2]):
                    resp.set_header(k, v)
            return resp
        raise TypeError("handler returned %s: return dict, list, str, bytes or a Response"
                        % t.__name__)

    def send(self, raw, srv, r):
        """Hand a handler's return value to the server."""
        try:
            t = type(r)
            if t is dict or t is list:
                # response.dumps, inlined (a call costs on the RP2040)
                if json_dumps is not None:
                    s = json_dumps(r, True)
                    if s is None:
                        check_json(r)
                        s = json_dumps(r)
                    srv.respond(raw, 200, _JSON_H, s)
                    return
                s = json.dumps(r)
                if json_suspect is not None:
                    if json_suspect(s):
                        check_json(r)
                elif _LAX:
                    if "<" in s or "(" in s or "inf" in s or "nan" in s:
                        check_json(r)
                elif "Infinity" in s or "NaN" in s:
                    check_json(r)
                srv.respond(raw, 200, _JSON_H, s)
                return
            if t is str:
                srv.respond(raw, 200, _TEXT_H, r)
                return
            if t is bytes:
                srv.respond(raw, 200, _BYTES_H, r)
                return
            if t is WsStart:
                self._start_websocket(raw, srv, r)
                return
            if not isinstance(r, Response):
                r = self.to_response(r)
            if isinstance(r, StreamingResponse):
                self._start_stream(raw, srv, r)
                return
            srv.respond(raw, r.status_code, r.headers, r.body)
        except Exception as e:
            self._answer_500(raw, srv, e)

    def _answer_500(self, raw, srv, e):
        """The one way an exception becomes a 500 on the wire (logged, naming the route). When
        even that cannot be sent (the answer was started already, the client is gone), the
        connection is aborted, so the client never takes a cut answer for a whole one."""
        r = self._internal_error(e, raw)
        try:
            srv.respond(raw, r.status_code, r.headers, r.body)
        except Exception:
            try:
                srv.abort(raw)
            except Exception:
                pass

    # ---- streaming (streaming.py) --------------------------------------------------------

    def _start_stream(self, raw, srv, resp):
        if isinstance(resp, FileResponse) and not resp.exists():
            # (it existed when the handler made the response: answered as the app's 404)
            self.send(raw, srv, self.error_response(None, HTTPException(404, "Not Found")))
            return
        st = Stream(raw, srv, resp.iterator(), self.stream_budget)
        srv.stream_start(raw, resp.status_code, resp.headers)
        if self._loop:
            self._spawn(raw, srv, self._stream_task(st), "streaming (stream cancelled)")
        elif not st.pump():
            self._streams.append(st)

    def _start_websocket(self, raw, srv, start):
        if not self._loop:
            raise RuntimeError("a WebSocket route needs an event loop: serve with app.run() "
                               "or await app.serve()")
        from . import websocket
        ws_task = websocket.run(self, raw, srv, start)
        self._spawn(raw, srv, ws_task, _WS_WHAT)

    def _ws_notes(self, srv):
        """Wake the WebSockets whose connections received bytes; True when there were any."""
        rl = srv.readable()
        if not rl:
            return False
        for r in rl:
            for ws in self._wss:
                if ws.raw is r:
                    ws.wake()
                    break
        return True

    def _pump_all(self):
        streams = self._streams
        i = 0
        while i < len(streams):
            if streams[i].pump():
                streams.pop(i)
            else:
                i += 1

    async def _stream_task(self, st):
        try:
            await st.run()
        finally:
            self._task_done(st.raw, st.srv)

    # ---- handler tasks (serve() mode) ---------------------------------------------------
    #
    # An answer that needs awaiting (async handler, middleware, a streamed body) runs in a task
    # of its own; the serve() loop keeps taking requests meanwhile. The servers hand out the
    # next request of a connection only once the previous one is answered, so answers on one
    # connection stay in order and there is at most one task per connection: at most
    # max_conns tasks. When the client of a pending task has gone (reset, closed, or
    # half-closed: srv.gone()), the task is cancelled and the connection reset.

    def _dispatch(self, raw, srv):
        co = self.handle(raw, srv)
        if co is not None:
            self._spawn(raw, srv, co)

    def _spawn(self, raw, srv, co, what="its handler ran (handler cancelled)"):
        # what: the end of the log line if the client goes away (see _reap)
        self._tasks.append((raw, asyncio.create_task(co), what))

    def _task_done(self, raw, srv):
        tasks = self._tasks
        for i in range(len(tasks)):
            if tasks[i][0] is raw:
                tasks.pop(i)
                break
        if self.server is srv:
            # The answer may have made a pipelined request of this connection ready, which does
            # not wake the serve() loop: take what is ready now.
            for _ in range(4):
                nxt = srv.poll()
                if nxt is None:
                    break
                self._dispatch(nxt, srv)

    def _reap(self, srv):
        """Cancel the tasks whose client has gone (and reset their connections)."""
        for t in list(self._tasks):
            raw, task, what = t
            if what is _WS_WHAT:
                continue  # (a WebSocket watches its own connection: see _ws_tick)
            if not srv.gone(raw):
                continue
            self._tasks.remove(t)
            log.info("%s: client %s gone while %s", _route_name(raw), _client_name(raw), what)
            task.cancel()
            try:
                srv.abort(raw)
            except Exception:
                pass

    def _ws_tick(self, srv):
        """Keep-alive pings and dead peers (WebSocket.tick); a connection that went is
        woken so its handler sees the disconnect."""
        now = _ticks()
        for ws in self._wss:
            if srv.gone(ws.raw):
                ws.wake()
            else:
                ws.tick(now, self.ws_ping_interval_ms, self.ws_ping_timeout_ms)

    def _cancel_all(self):
        for raw, task, what in self._tasks:
            task.cancel()
        self._tasks = []

    # ---- running ------------------------------------------------------------------------

    def start(self, host="0.0.0.0", port=80, **limits):
        """Open the listening socket (no blocking); then call poll() from your loop."""
        cls, name = backend.server_class()
        kw = {"max_conns": self.max_conns, "max_body": self.max_body,
              "header_timeout_ms": self.header_timeout_ms,
              "body_timeout_ms": self.body_timeout_ms, "idle_timeout_ms": self.idle_timeout_ms,
              "min_rate": self.min_rate, "rate_grace_ms": self.rate_grace_ms}
        kw.update(limits)
        if name != "_mfa":
            kw["parser"] = backend.parser  # pyserver parses with what backend chose
        if self._bodies:
            kw["stream_bodies"] = True
        self.server = cls(host=host, port=port, **kw)
        for path, k in self._constants.items():
            self.server.add_constant(path, *k)
        self.backend = name
        self.host = host
        self.port = getattr(self.server, "port", port)
        return self.server

    def poll(self):
        """One step of the loop, never blocking: advance streams, answer at most one request.
        True when a request was answered. Async handlers must not suspend here."""
        srv = self.server
        if self._streams:
            self._pump_all()
        raw = srv.poll()
        if raw is None:
            _log_events(srv)
            return False
        self.handle_sync(raw, srv)
        return True

    def handle_sync(self, raw, srv):
        """handle() to the end without an event loop (async handlers must not suspend)."""
        co = self.handle(raw, srv)
        if co is not None:
            try:
                run_sync(co)
            except Exception as e:
                self._answer_500(raw, srv, e)

    def run(self, host="0.0.0.0", port=80, **limits):
        """Serve forever (blocking). Uses asyncio when available, so async handlers may await."""
        if asyncio is not None:
            asyncio.run(self.serve(host, port, **limits))
            return
        srv = self.start(host, port, **limits)
        print(self)
        try:
            while True:
                if not self.poll():
                    srv.wait(10 if self._streams else 1000)
        finally:
            self.shutdown()

    async def serve(self, host="0.0.0.0", port=80, **limits):
        """Serve as an asyncio task; sleeps in the event loop's poller while idle. Handlers
        that await run in tasks of their own (see "handler tasks" above). Returns after
        shutdown()."""
        srv = self.start(host, port, **limits)
        print(self)
        self._loop = self._serving = True
        self._stopping = False
        n = 0
        reaped = _ticks()
        waiter = _ServeWait(srv)
        try:
            while not self._stopping:
                raw = srv.poll()
                if raw is not None:
                    co = self.handle(raw, srv)  # (self._dispatch, inlined: the hot path)
                    if co is not None:
                        self._spawn(raw, srv, co)
                    n += 1
                    if n & 7 == 0:
                        if self._wss:
                            self._ws_notes(srv)
                        await asyncio.sleep(0)  # let the tasks run
                        if self._tasks and _ticks_diff(_ticks(), reaped) >= _REAP_MS:
                            reaped = _ticks()  # (also under a steady stream of requests)
                            self._reap(srv)
                            if self._wss:
                                self._ws_tick(srv)
                    continue
                _log_events(srv)
                woke = self._wss and self._ws_notes(srv)
                if self._tasks:
                    now = _ticks()
                    if _ticks_diff(now, reaped) >= _REAP_MS:
                        reaped = now
                        self._reap(srv)
                        if self._wss:
                            self._ws_tick(srv)
                    if woke:
                        # The woken handlers run now; the poll() after it sends what they
                        # queued (small pieces gather until a poll), instead of a second
                        # wake-up of this loop for each message.
                        await asyncio.sleep(0)
                        continue
                    await waiter.wait(_REAP_MS)
                    continue
                await waiter.wait(_STOP_CHECK_MS)
            # shutdown(): the answers being awaited get a moment to finish
            t0 = _ticks()
            while self._tasks and _ticks_diff(_ticks(), t0) < _DRAIN_MS:
                await asyncio.sleep(0.01)
        finally:
            waiter.close()
            self._loop = self._serving = False
            self._cancel_all()
            self._close_server()

    def shutdown(self):
        """Stop serving. Under serve()/run() (from a handler or another task) the loop stops
        taking requests, lets the answers in flight go out and serve()/run() return, the port
        freed; otherwise (start() + poll()) the same happens at once."""
        if self._serving:
            self._stopping = True  # serve() sees it within _STOP_CHECK_MS
            return
        self._close_server()

    def _close_server(self):
        srv = self.server
        if srv is None:
            return
        self.server = None
        try:
            _drain(srv, _DRAIN_MS)
        finally:
            srv.close()

    # ---- display ------------------------------------------------------------------------

    def url(self):
        if self.port is None:
            return None
        host = self.host
        if host in ("0.0.0.0", "", None):
            host = _local_nic()[0]
        return _http_url(host, self.port)

    def __str__(self):
        name = self.backend
        if name is None:
            name = backend.server_class()[1]
        s = "%s (backend: %s; parser: %s)" % (self.title, name, backend.PARSER)
        if self.port is None:
            return s + ", not started"
        s += ", listening on %s:%d, %s" % (self.host, self.port, self.url())
        ip, wifi = _local_nic()
        if wifi is not None and self.host in ("0.0.0.0", "", None, ip):
            # On WiFi: also the name lwIP's mDNS responder answers for, and the board's MAC
            # address (what a router's client list shows).
            s += " or %s (WiFi: IP %s, MAC %s)" % (
                _http_url(wifi[0] + ".local", self.port), ip, wifi[1])
        return s

    __repr__ = __str__


def _discard_uploads(req):
    """The spool files of the uploads a handler did not save (uploads.py)."""
    from .uploads import discard
    discard(req._uploads)
    req._uploads = None


def _log_events(srv):
    """One INFO line per client-side failure the server saw (reset, timeouts)."""
    ev = srv.events()
    if ev:
        for kind, addr, port in ev:
            if kind == "more":
                log.info("%d more client failures not shown", port)
            else:
                log.info("client %s:%d: %s", addr, port, kind)


from .clock import ticks_ms as _ticks, ticks_diff as _ticks_diff, ticks_add as _ticks_add

_WS_WHAT = "its WebSocket was open"  # (the _tasks entry of a WebSocket: not reaped)
_REAP_MS = 50  # how often serve() asks the server whether pending tasks' clients are there
_STOP_CHECK_MS = 250  # the longest serve() sleeps while idle: how soon it sees shutdown()
_DRAIN_MS = 1000  # how long a shutdown waits for answers in flight (tasks, then bytes)


def _drain(srv, ms):
    """Let the answers queued on `srv` leave, for at most `ms`. A request that becomes ready
    meanwhile is answered 503 (the server is going away)."""
    t0 = _ticks()
    while _ticks_diff(_ticks(), t0) < ms:
        try:
            raw = srv.poll()
            if raw is not None:
                srv.respond(raw, 503, _TEXT_H, "server shutting down")
                continue
            if not srv.stats()["unsent"]:
                return
            srv.wait(10)
        except Exception:  # (a server that cannot go on: close it as it is)
            return


def _http_url(host, port):
    if port == 80:  # the default port is left out, as a browser shows it
        return "http://%s/" % host
    return "http://%s:%d/" % (host, port)


def _local_nic():
    """(address, wifi) of the network interface that is up: the Pico W's WiFi station (or its
    access point), MFA_PICO's SLIP link; ("127.0.0.1", None) when there is none (unix,
    CPython). wifi: (network.hostname(), MAC address as "aa:bb:..") of a WLAN interface, else
    None. Only looks: WLAN(...) and SLIP() without arguments return the existing interface
    objects and neither power up nor configure anything."""
    try:
        import network
    except ImportError:
        return "127.0.0.1", None
    for kind, arg in (("WLAN", "STA_IF"), ("WLAN", "AP_IF"), ("SLIP", None)):
        cls = getattr(network, kind, None)
        if cls is None:
            continue
        try:
            if arg is None:
                nic = cls()
                up = nic.isconnected()
            else:
                if not hasattr(network, arg):
                    continue
                nic = cls(getattr(network, arg))
                up = nic.isconnected() if arg == "STA_IF" else nic.active()
            if up:
                ip = nic.ifconfig()[0]
                if ip and ip != "0.0.0.0":
                    return ip, (_wifi_names(network, nic) if arg else None)
        except Exception:
            pass
    return "127.0.0.1", None


def _wifi_names(network, nic):
    try:
        mac = ":".join("%02x" % b for b in nic.config("mac"))
    except Exception:  # noqa: BLE001 - a port without config("mac")
        mac = "unknown"
    try:
        return network.hostname(), mac
    except Exception:  # noqa: BLE001 - no network.hostname (MicroPython before 1.20)
        return None


# ---- waiting in the event loop --------------------------------------------------------

try:
    import asyncio
except ImportError:  # pragma: no cover
    try:
        import uasyncio as asyncio
    except ImportError:
        asyncio = None

if asyncio is not None and hasattr(asyncio, "get_running_loop") and \
        not hasattr(asyncio, "wait_for_ms"):
    # CPython: the server has fileno(); wait for it with the loop's selector.
    class _ServeWait:
        """serve()'s wait for its server to be readable, at most `ms`: `await w.wait(ms)`."""

        def __init__(self, srv):
            self.srv = srv

        def wait(self, ms):
            return _wait_readable(self.srv, ms)

        def close(self):
            pass

    async def _wait_readable(srv, timeout_ms):
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        fd = srv.fileno()

        def ready():
            if not fut.done():
                fut.set_result(None)
        loop.add_reader(fd, ready)
        try:
            await asyncio.wait_for(fut, timeout_ms / 1000)
        except asyncio.TimeoutError:
            pass
        finally:
            loop.remove_reader(fd)
else:
    # MicroPython: register the server (a pollable stream) with asyncio's poller.
    def _io_wait(srv):
        yield asyncio.core._io_queue.queue_read(srv)

    async def _wait_readable(srv, timeout_ms):
        try:
            await asyncio.wait_for_ms(_io_wait(srv), timeout_ms)
        except asyncio.TimeoutError:
            pass

    class _ServeWait:
        """serve()'s wait for its server to be readable, at most `ms`: `await w.wait(ms)`.
        The same object every time and no heap per wait: wait_for_ms makes two tasks, two
        coroutines and a CancelledError each time (about 1 KB), which is paid once per message
        by a WebSocket echo (each one wakes this loop). The timeout comes from a helper task
        (_ServeWait.tick) that wakes the waiting loop itself, as Task.cancel would but
        without the exception."""

        def __init__(self, srv):
            self.srv = srv
            self.task = None    # the task waiting on srv's readability, else None
            self.queued = False
            self.ms = _STOP_CHECK_MS
            self.t0 = 0
            self.ticker = None
            self.due = 0        # when the ticker wakes next
            self.exc = StopIteration()

        def wait(self, ms):
            self.ms = ms
            self.t0 = t0 = _ticks()
            end = _ticks_add(t0, ms)
            if self.ticker is None:
                self.ticker = asyncio.create_task(self.tick())
                self.due = t0
            elif _ticks_diff(self.due, end) > 0:
                # The ticker sleeps past this wait's end (a task became pending during an idle
                # wait): wake it at this end instead, as a sleeping task is rescheduled.
                q = asyncio.core._task_queue
                q.remove(self.ticker)
                q.push(self.ticker, end)
                self.due = end
            self.queued = True
            return self

        def __iter__(self):
            return self

        def __next__(self):
            if self.queued:  # (first step: into the poller, like asyncio's own streams)
                self.queued = False
                self.task = asyncio.core.cur_task
                asyncio.core._io_queue.queue_read(self.srv)
                return None
            self.task = None  # (resumed: readable, or woken by tick())
            self.exc.__traceback__ = None
            raise self.exc

        async def tick(self):
            core = asyncio.core
            while True:
                t = self.task
                if t is not None and _ticks_diff(_ticks(), self.t0) >= self.ms:
                    sm = core._io_queue.map.get(id(self.srv))
                    if sm is not None and sm[0] is t:  # still in the poller: the timeout
                        core._io_queue.remove(t)
                        t.data = None
                        core._task_queue.push(t)
                # Asleep until the current wait ends (a whole wait when none is on); wait()
                # brings that forward when a shorter wait begins meanwhile.
                left = self.ms
                if self.task is not None:
                    left -= _ticks_diff(_ticks(), self.t0)
                    if left <= 0:
                        left = self.ms
                self.due = _ticks_add(_ticks(), left)
                await asyncio.sleep_ms(left)

        def close(self):
            if self.ticker is not None:
                self.ticker.cancel()
                self.ticker = None
