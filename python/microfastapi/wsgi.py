"""The app under a WSGI server on CPython (gunicorn, waitress, wsgiref, mod_wsgi, ...): plain
HTTP, the same routes and answers as on the board (docs/deploying.md).

    from microfastapi.wsgi import WSGIApp
    wsgi_app = WSGIApp(app)          # gunicorn mymodule:wsgi_app

Each request is rebuilt as HTTP/1.1 bytes and answered by the in-process TestClient's machinery
(the board's parser, then the app in an event loop of its own, so handlers may await). WSGI has
no way to send while the app produces, so a streamed answer is gathered and sent whole: an
endless stream (server-sent events) never ends here, and WebSocket routes answer 426. Use the
ASGI adapter (microfastapi.asgi) for those.
"""
import threading

from .asgi import head_bytes, target_of
from .testclient import TestClient


class WSGIApp:
    """A WSGI application serving a MicroFastApi app."""

    def __init__(self, app):
        self.app = app
        # One request at a time: the app keeps its pending answers in one list, which the
        # event loop of each request drives (a threaded server's requests queue here).
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return self._call(environ, start_response)

    def _call(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        # The target as the client sent it when the server keeps it (REQUEST_URI, RAW_URI);
        # else PATH_INFO, which is decoded (latin-1 wrapped, PEP 3333), quoted back.
        uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if uri and not uri.startswith("http"):
            path, _, query = uri.partition("?")
        else:
            from urllib.parse import quote  # (CPython only, like WSGI)
            path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
            path = quote(path.encode("latin-1"), safe="/:@!$&'()*+,;=~")
            query = environ.get("QUERY_STRING", "")
        headers = []
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers.append((key[5:].replace("_", "-").title().encode("latin-1"),
                                value.encode("latin-1")))
        if environ.get("CONTENT_TYPE"):
            headers.append((b"Content-Type", environ["CONTENT_TYPE"].encode("latin-1")))
        n = environ.get("CONTENT_LENGTH") or "0"
        n = int(n) if n.isdigit() else 0
        limit = self.app.max_body
        if n > limit:
            # (the route's own limit is checked by the app; this keeps a huge body off the heap)
            limit = self._route_limit(method, target_of(path, query))
            if n > limit:
                text = b"request body too large (limit %d)" % limit
                start_response("413 Content Too Large", [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(text)))])
                return [text]
        body = environ["wsgi.input"].read(n) if n else b""
        client = (environ.get("REMOTE_ADDR", "wsgi"), int(environ.get("REMOTE_PORT") or 0))
        tc = TestClient(self.app, client=client, cookies=False)
        r = tc.send_raw(head_bytes(method, target_of(path, query), headers, len(body)) + body)
        if r.aborted:
            # (a stream that failed: the server must cut the connection, not end the answer)
            raise ConnectionAbortedError("the answer was aborted (a stream failed)")
        hdrs = [(k, v) for k, v in r.header_list if k.lower() not in ("connection",
                                                                         "transfer-encoding")]
        if not any(k.lower() == "content-length" for k, _ in hdrs):
            # (the board's server frames the body itself; a gathered stream too has a length)
            hdrs.append(("Content-Length", str(len(r.content))))
        start_response("%d %s" % (r.status_code, r.reason or "Unknown"), hdrs)
        return [r.content]

    def _route_limit(self, method, target):
        from . import backend
        from .wire import Request
        head = backend.parse_request(head_bytes(method, target, [(b"Host", b"wsgi")], 0))
        return self.app.body_limit(Request(head, b"", None))
