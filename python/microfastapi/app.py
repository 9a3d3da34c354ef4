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
from .response import (Response, JSONResponse, StreamingResponse, FileResponse, JSON_TYPE,
                       TEXT_TYPE, BYTES_TYPE, header_pairs, check_json, _LAX)
from .routing import Router, register_converter

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


def _route_name(raw):
    try:
        return "%s %s" % (raw.method, raw.path)
    except Exception:
        return "?"


class APIRouter:
    """A group of routes under a prefix, included into an app (or another router) later.

    router = APIRouter(prefix="/items")
    @router.get("/{item_id:int}")
    def read(req, item_id): ...
    app.include_router(router)
    """

    def __init__(self, prefix="", **meta):
        self.prefix = prefix.rstrip("/")
        self.meta = meta
        self.routes = []  # (path, methods, fn, meta)

    def add_route(self, path, fn, methods=("GET",), **meta):
        if self.meta:
            m = dict(self.meta)
            m.update(meta)
            meta = m
        self._add(self.prefix + path, [m.upper() for m in methods], fn, meta)
        return fn

    def _add(self, path, methods, fn, meta):
        self.routes.append((path, methods, fn, meta))

    def route(self, path, methods=("GET",), **meta):
        """Decorator: `fn` answers `methods` at `path`. Extra keyword arguments (summary, tags,
        query/body declarations, ...) are kept on the Endpoint as `meta`."""
        def deco(fn):
            return self.add_route(path, fn, methods, **meta)
        return deco

    def get(self, path, **meta):
        return self.route(path, ("GET",), **meta)

    def post(self, path, **meta):
        return self.route(path, ("POST",), **meta)

    def put(self, path, **meta):
        return self.route(path, ("PUT",), **meta)

    def patch(self, path, **meta):
        return self.route(path, ("PATCH",), **meta)

    def delete(self, path, **meta):
        return self.route(path, ("DELETE",), **meta)

    def head(self, path, **meta):
        return self.route(path, ("HEAD",), **meta)

    def options(self, path, **meta):
        return self.route(path, ("OPTIONS",), **meta)

    def include_router(self, router, prefix=""):
        prefix = prefix.rstrip("/")
        for path, methods, fn, meta in router.routes:
            self._add(prefix + path, methods, fn, meta)

    def mount(self, path, app, name=None):
        """Serve `app` under `path`; today a staticfiles.StaticFiles directory:
        `app.mount("/static", StaticFiles(directory="/www"))`. Mount after the routes it
        should not shadow (dynamic routes are tried in registration order)."""
        if not hasattr(app, "mount_on"):
            raise TypeError("mount() takes a StaticFiles (or an object with mount_on)")
        app.mount_on(self, path)


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
        APIRouter.__init__(self)
        self.title = title
        self.version = version
        self.description = description
        self.openapi_url = openapi_url  # None: no schema route (and no docs page)
        self.docs_url = docs_url        # None: no Swagger UI page
        self.debug = debug
        self.meta = meta
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
        self._loop = False  # running under an event loop (serve(), the TestClient)
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
                    r = self._internal_error(e2, raw)
        self.send(raw, srv, r)
        if self._loop:
            self._task_done(raw, srv)  # (this coroutine is the task: no wrapper, less heap)

    async def _full(self, raw, srv):
        try:
            resp = await self._chain(Request(self, raw, _NO_PARAMS), 0)
        except Exception as e:
            resp = self._internal_error(e, raw)
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

    def error_response(self, req, e):
        """What to answer for an exception raised while handling `req` (may be a coroutine
        when a custom async handler answers)."""
        raw = req.raw if req is not None else None
        h = self._handler_for(e)
        if h is not None:
            try:
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
        return the 500 answer."""
        log.exception(e, "%s: %s: %s", _route_name(raw) if raw is not None else "handler",
                      type(e).__name__, e)
        detail = "Internal Server Error"
        if self.debug:
            detail = "%s: %s" % (type(e).__name__, e)
        return JSONResponse({"detail": detail}, 500)

    def to_response(self, r):
        """Any accepted handler return value -> a Response object."""
        if isinstance(r, Response):
            return r
        t = type(r)
        if t is dict or t is list or r is None:
            return JSONResponse(r)
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
                s = json.dumps(r)
                if _LAX and ("<" in s or "(" in s):
                    check_json(r)  # response.dumps, inlined: MicroPython does not raise
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
            r = self._internal_error(e, raw)
            srv.respond(raw, r.status_code, r.headers, r.body)

    # ---- streaming ----------------------------------------------------------------------
    #
    # A stream is [raw, srv, iterator, pending piece, is-async, chunks sent]. Under serve()
    # (and the TestClient) every stream is pumped by a task of its own (_stream_task), so an
    # async iterator may really await. Under poll() there is no event loop: streams are pumped
    # a few pieces per poll() step (_pump), and an async iterator must not suspend.

    def _start_stream(self, raw, srv, resp):
        if isinstance(resp, FileResponse) and not resp.exists():
            srv.respond(raw, 404, _JSON_H, '{"detail": "Not Found"}')
            return
        it = resp.iterator()
        srv.stream_start(raw, resp.status_code, resp.headers)
        st = [raw, srv, it, None, hasattr(it, "__anext__"), 0]
        if self._loop:
            self._spawn(raw, srv, self._stream_task(st), "streaming (stream cancelled)")
        elif not self._pump(st):
            self._streams.append(st)

    def _stream_failed(self, st, e):
        """The body's iterator raised: abort the connection (no final chunk, so the client
        sees a cut body, not a complete one) and say which route failed."""
        raw = st[0]
        log.exception(e, "%s: stream failed after %d chunks: %s: %s", _route_name(raw), st[5],
                      type(e).__name__, e)
        self._stream_close(st, True)

    def _stream_gone(self, st, why):
        log.info("%s: client %s gone while streaming (%s)", _route_name(st[0]),
                 _client_name(st[0]), why)
        self._stream_close(st, True)

    def _stream_close(self, st, abort):
        raw, srv, it = st[0], st[1], st[2]
        if hasattr(it, "close"):
            try:
                it.close()
            except Exception:
                pass
        if abort:
            try:
                srv.abort(raw)
            except Exception:
                pass

    def _next_piece(self, st):
        """The next non-empty piece of a sync iterator (bytes), or None at its end."""
        it = st[2]
        while True:
            try:
                p = run_sync(it.__anext__()) if st[4] else next(it)
            except (StopIteration, _StopAsync):
                return None
            if type(p) is str:
                p = p.encode()
            if p:
                return p

    def _pump(self, st):
        """poll() mode: send up to stream_budget pieces; True when the stream is finished."""
        raw, srv = st[0], st[1]
        budget = self.stream_budget
        while budget:
            p = st[3]
            if p is None:
                try:
                    p = self._next_piece(st)
                except Exception as e:
                    self._stream_failed(st, e)
                    return True
                if p is None:
                    try:
                        srv.stream_end(raw)
                    except OSError as e:
                        self._stream_gone(st, _oserror(e))
                    return True
            try:
                sent = srv.stream_send(raw, p)
            except OSError as e:
                self._stream_gone(st, _oserror(e))
                return True
            if not sent:
                st[3] = p
                return False
            st[3] = None
            st[5] += 1
            budget -= 1
        return False

    def _pump_all(self):
        streams = self._streams
        i = 0
        while i < len(streams):
            if self._pump(streams[i]):
                streams.pop(i)
            else:
                i += 1

    async def _stream_task(self, st):
        """serve() mode: one task per stream. Awaits the iterator (async ones may suspend),
        waits a little while the connection's queue is full, yields to the other tasks every
        stream_budget pieces."""
        raw, srv = st[0], st[1]
        try:
            await self._stream_body(st)
        except asyncio.CancelledError:
            self._stream_close(st, False)  # (serve() aborted the connection)
            raise
        finally:
            self._task_done(raw, srv)

    async def _stream_body(self, st):
        raw, srv, it, aio = st[0], st[1], st[2], st[4]
        budget = self.stream_budget
        while True:
            try:
                if aio:
                    try:
                        p = await it.__anext__()
                    except _StopAsync:
                        p = None
                    if type(p) is str:
                        p = p.encode()
                    if p is not None and not p:
                        continue
                else:
                    p = self._next_piece(st)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self._stream_failed(st, e)
                return
            if p is None:
                break
            try:
                while not srv.stream_send(raw, p):
                    await asyncio.sleep(0.005)  # the server sends from its queue meanwhile
            except OSError as e:
                self._stream_gone(st, _oserror(e))
                return
            st[5] += 1
            budget -= 1
            if not budget:
                budget = self.stream_budget
                await asyncio.sleep(0)
        try:
            srv.stream_end(raw)
        except OSError as e:
            self._stream_gone(st, _oserror(e))

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
            if not srv.gone(raw):
                continue
            self._tasks.remove(t)
            log.info("%s: client %s gone while %s", _route_name(raw), _client_name(raw), what)
            task.cancel()
            try:
                srv.abort(raw)
            except Exception:
                pass

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
                r = self._internal_error(e, raw)
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
        """Serve as an asyncio task; sleeps in the event loop's poller while idle. Handlers
        that await run in tasks of their own (see "handler tasks" above)."""
        srv = self.start(host, port, **limits)
        print(self)
        self._loop = True
        n = 0
        reaped = _ticks()
        try:
            while True:
                raw = srv.poll()
                if raw is not None:
                    co = self.handle(raw, srv)  # (self._dispatch, inlined: the hot path)
                    if co is not None:
                        self._spawn(raw, srv, co)
                    n += 1
                    if n & 7 == 0:
                        await asyncio.sleep(0)  # let the tasks run
                        if self._tasks and _ticks_diff(_ticks(), reaped) >= _REAP_MS:
                            reaped = _ticks()  # (also under a steady stream of requests)
                            self._reap(srv)
                    continue
                _log_events(srv)
                if self._tasks:
                    now = _ticks()
                    if _ticks_diff(now, reaped) >= _REAP_MS:
                        reaped = now
                        self._reap(srv)
                    await _wait_readable(srv, _REAP_MS)
                    continue
                await _wait_readable(srv, 1000)
        finally:
            self._loop = False
            self._cancel_all()
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


def _client_name(raw):
    try:
        c = raw.client
        return "%s:%s" % (c[0], c[1])
    except Exception:
        return "?"


def _log_events(srv):
    """One INFO line per client-side failure the server saw (reset, timeouts)."""
    ev = srv.events()
    if ev:
        for kind, addr, port in ev:
            if kind == "more":
                log.info("%d more client failures not shown", port)
            else:
                log.info("client %s:%d: %s", addr, port, kind)


def _oserror(e):
    """'reset', 'closed', ... for the OSError a server raises when a client has gone."""
    code = e.args[0] if e.args else None
    return {104: "reset", 32: "closed", 110: "timed out"}.get(code, repr(e))


try:
    from time import ticks_ms as _ticks, ticks_diff as _ticks_diff
except ImportError:
    import time as _time

    def _ticks():
        return int(_time.monotonic() * 1000)

    def _ticks_diff(a, b):
        return a - b

_REAP_MS = 50  # how often serve() asks the server whether pending tasks' clients are there


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
