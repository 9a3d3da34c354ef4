"""MicroFastApi: decorator routing, dispatch, exception handlers, middleware, running.

The per-request path (no middleware, plain return value) is: dict lookup or template match ->
one Request object -> handler -> json.dumps -> server.respond(). Header lists for plain return
values are module constants, so nothing else is allocated in Python.
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

try:
    import sys
except ImportError:  # pragma: no cover
    sys = None

from . import backend
from .exceptions import HTTPException, RequestValidationError
from .request import Request
from .response import (Response, JSONResponse, RedirectResponse, StreamingResponse,
                       FileResponse, JSON_TYPE, TEXT_TYPE, BYTES_TYPE, header_pairs, check_json,
                       _LAX)
from .routing import Router, register_converter, check_route, check_options

try:
    _StopAsync = StopAsyncIteration
except NameError:  # pragma: no cover
    _StopAsync = StopIteration

# Header lists shared by every plain return value; the server only reads them.
_JSON_H = [("Content-Type", JSON_TYPE)]
_TEXT_H = [("Content-Type", TEXT_TYPE)]
_BYTES_H = [("Content-Type", BYTES_TYPE)]
_NO_PARAMS = {}  # path_params of static routes (shared; treat as read-only)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def is_coro(r):
    """True for what an `async def` call returns (a generator object on MicroPython)."""
    return hasattr(r, "send") and hasattr(r, "throw")


def run_sync(coro):
    """Run a coroutine that never suspends (no real awaiting) to completion."""
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    coro.close()
    raise RuntimeError("an async handler suspended: serve with app.run() or await app.serve()")


def _print_exc(e):
    if sys is not None and hasattr(sys, "print_exception"):
        sys.print_exception(e)
    else:
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__)


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
        query/body declarations, ...; see routing.ROUTE_OPTIONS) are kept on the Endpoint as
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
    max_body = 16384          # request body bytes; more are answered 413
    header_timeout_ms = 10000  # request line + headers must arrive within this
    body_timeout_ms = 10000    # body must arrive within this after the headers
    idle_timeout_ms = 5000     # keep-alive connections idle longer are closed
    stream_budget = 8          # chunks sent per streaming response per poll step

    def __init__(self, title="microfastapi", version="0.1.0", debug=False, description=None,
                 openapi_url="/openapi.json", docs_url="/docs", **meta):
        APIRouter.__init__(self, **meta)
        self.title = title
        self.version = version
        self.description = description
        self.openapi_url = openapi_url  # None: no schema route (and no docs page)
        self.docs_url = docs_url        # None: no Swagger UI page
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
        self._streams = []
        self._slow = False  # middleware or hooks present: take the full (coroutine) path
        if openapi_url:
            from .openapi import setup
            setup(self)

    # ---- registration -------------------------------------------------------------------

    def _add(self, path, methods, fn, meta):
        ep = self.router.add(path, methods, fn, meta)
        if meta:  # decorator keywords: validation.install wraps ep.call only if it must
            from .validation import install
            install(ep)
        for hook in self.route_hooks:
            hook(self, ep)

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

    def _route(self, raw, req):
        """Find and call the endpoint; returns (req, handler result)."""
        ep, params, route = self.router.find(raw.method, raw.path)
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

    def handle(self, raw, srv):
        """Answer one request taken from `srv`. Returns None when it is answered (or being
        streamed), or a coroutine that answers it when awaited (async handler/middleware)."""
        if self._slow:
            return self._full(raw, srv)
        req = None
        try:
            req, r = self._route(raw, None)
            if is_coro(r):
                return self._finish(raw, srv, req, r)
        except Exception as e:
            r = self.error_response(req, e)
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
                    r = self._internal_error(e2)
        self.send(raw, srv, r)

    async def _full(self, raw, srv):
        try:
            resp = await self._chain(Request(self, raw, _NO_PARAMS), 0)
        except Exception as e:
            resp = self._internal_error(e)
        self.send(raw, srv, resp)

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

    def error_response(self, req, e):
        """What to answer for an exception raised while handling `req` (may be a coroutine
        when a custom async handler answers)."""
        h = self._handler_for(e)
        if h is not None:
            try:
                return h(req, e)
            except Exception as e2:
                return self._internal_error(e2)
        if isinstance(e, HTTPException):
            return JSONResponse({"detail": e.detail}, e.status_code, e.headers)
        if isinstance(e, RequestValidationError):
            return JSONResponse({"detail": e.errors}, 422)
        return self._internal_error(e)

    def _internal_error(self, e):
        _print_exc(e)
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
                s = json.dumps(r)  # response.dumps, inlined (a call costs on the RP2040)
                if _LAX:
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
            if not isinstance(r, Response):
                r = self.to_response(r)
            if isinstance(r, StreamingResponse):
                self._start_stream(raw, srv, r)
                return
            srv.respond(raw, r.status_code, r.headers, r.body)
        except Exception as e:
            r = self._internal_error(e)
            srv.respond(raw, r.status_code, r.headers, r.body)

    # ---- streaming ----------------------------------------------------------------------

    def _start_stream(self, raw, srv, resp):
        if isinstance(resp, FileResponse) and not resp.exists():
            srv.respond(raw, 404, _JSON_H, '{"detail": "Not Found"}')
            return
        it = resp.iterator()
        srv.stream_start(raw, resp.status_code, resp.headers)
        st = [raw, srv, it, None, hasattr(it, "__anext__")]
        if not self._pump(st):
            self._streams.append(st)

    def _pump(self, st, nxt=None):
        """Send up to stream_budget pieces; True when the stream is finished.

        `nxt` is a piece already produced by the caller (async iterators in serve())."""
        raw, srv, it, pending, aio = st
        budget = self.stream_budget
        if nxt is not None:
            pending = nxt
        try:
            while budget:
                if pending is None:
                    try:
                        if aio:
                            if nxt is not None:
                                break  # serve() awaits the next piece itself
                            pending = run_sync(it.__anext__())
                        else:
                            pending = next(it)
                    except (StopIteration, _StopAsync):
                        srv.stream_end(raw)
                        return True
                    if type(pending) is str:
                        pending = pending.encode()
                    if not pending:
                        pending = None
                        continue
                if not srv.stream_send(raw, pending):
                    st[3] = pending
                    return False
                pending = None
                budget -= 1
        except Exception as e:
            # The producer failed or the client went away: end what was sent.
            _print_exc(e)
            if hasattr(it, "close"):
                try:
                    it.close()
                except Exception:
                    pass
            try:
                srv.stream_end(raw)
            except Exception:
                pass
            return True
        st[3] = None
        return False

    def _pump_all(self):
        streams = self._streams
        i = 0
        while i < len(streams):
            if self._pump(streams[i]):
                streams.pop(i)
            else:
                i += 1

    async def _apump_all(self):
        streams = self._streams
        i = 0
        while i < len(streams):
            st = streams[i]
            nxt = None
            if st[4] and st[3] is None:
                try:
                    nxt = await st[2].__anext__()
                    if type(nxt) is str:
                        nxt = nxt.encode()
                except _StopAsync:
                    st[1].stream_end(st[0])
                    streams.pop(i)
                    continue
                except Exception as e:
                    _print_exc(e)
                    st[1].stream_end(st[0])
                    streams.pop(i)
                    continue
            if self._pump(st, nxt or None):
                streams.pop(i)
            else:
                i += 1

    # ---- running ------------------------------------------------------------------------

    def start(self, host="0.0.0.0", port=80, **limits):
        """Open the listening socket (no blocking); then call poll() from your loop."""
        cls, name = backend.server_class()
        kw = {"max_conns": self.max_conns, "max_body": self.max_body,
              "header_timeout_ms": self.header_timeout_ms,
              "body_timeout_ms": self.body_timeout_ms, "idle_timeout_ms": self.idle_timeout_ms}
        kw.update(limits)
        self.server = cls(host=host, port=port, **kw)
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
                r = self._internal_error(e)
                srv.respond(raw, r.status_code, r.headers, r.body)

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
        """Serve as an asyncio task; sleeps in the event loop's poller while idle."""
        srv = self.start(host, port, **limits)
        print(self)
        n = 0
        try:
            while True:
                raw = srv.poll()
                if raw is not None:
                    co = self.handle(raw, srv)
                    if co is not None:
                        try:
                            await co
                        except Exception as e:
                            r = self._internal_error(e)
                            srv.respond(raw, r.status_code, r.headers, r.body)
                    n += 1
                    if n & 7 == 0:
                        await asyncio.sleep(0)
                    continue
                if self._streams:
                    await self._apump_all()
                    if self._streams:
                        await _wait_readable(srv, 5)
                    continue
                await _wait_readable(srv, 1000)
        finally:
            self.shutdown()

    def shutdown(self):
        if self.server is not None:
            self.server.close()
            self.server = None

    # ---- display ------------------------------------------------------------------------

    def url(self):
        if self.port is None:
            return None
        host = self.host
        if host in ("0.0.0.0", "", None):
            host = _local_ip()
        return "http://%s:%d/" % (host, self.port)

    def __str__(self):
        name = self.backend
        if name is None:
            name = backend.server_class()[1]
        s = "%s (backend: %s; parser: %s)" % (self.title, name, backend.PARSER)
        if self.port is None:
            return s + ", not started"
        return s + ", listening on %s:%d, %s" % (self.host, self.port, self.url())

    __repr__ = __str__


def _local_ip():
    """The address of the network interface that is up: the Pico W's WiFi station (or its
    access point), MFA_PICO's SLIP link; 127.0.0.1 when there is none (unix, CPython).
    Only looks: WLAN(...) and SLIP() without arguments return the existing interface objects
    and neither power up nor configure anything."""
    try:
        import network
    except ImportError:
        return "127.0.0.1"
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
                    return ip
        except Exception:
            pass
    return "127.0.0.1"


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
