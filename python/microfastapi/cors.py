"""CORS for MicroFastApi: answers preflight requests and adds Access-Control-* headers.

    from microfastapi.cors import CORS
    CORS(app, allow_origins=["http://localhost:3000"], allow_credentials=True)

Installs a before-request hook (preflight: OPTIONS with Origin and
Access-Control-Request-Method, answered 200 or 400) and an after-request hook (adds
Access-Control-Allow-Origin and friends to responses for allowed origins).
"""

from .response import Response, PlainTextResponse

_SAFE = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class CORS:
    def __init__(self, app, allow_origins=("*",), allow_methods=_SAFE, allow_headers=("*",),
                 allow_credentials=False, expose_headers=(), max_age=600):
        self.origins = list(allow_origins)
        self.any_origin = "*" in self.origins
        self.methods = ", ".join(allow_methods)
        self.allow_methods = [m.upper() for m in allow_methods]
        self.any_header = "*" in allow_headers
        self.headers = ", ".join(allow_headers)
        self.credentials = allow_credentials
        self.expose = ", ".join(expose_headers)
        self.max_age = max_age
        app.before_request(self.preflight)
        app.after_request(self.add_headers)

    def allowed(self, origin):
        return self.any_origin or origin in self.origins

    def _origin_value(self, origin):
        # With credentials the origin must be echoed, never '*'.
        if self.any_origin and not self.credentials:
            return "*"
        return origin

    def preflight(self, req):
        if req.method != "OPTIONS":
            return None
        origin = req.header("origin")
        want = req.header("access-control-request-method")
        if origin is None or want is None:
            return None
        if not self.allowed(origin) or want.upper() not in self.allow_methods:
            return PlainTextResponse("Disallowed CORS request", 400)
        r = PlainTextResponse("OK", 200)
        r.append_header("Access-Control-Allow-Origin", self._origin_value(origin))
        r.append_header("Access-Control-Allow-Methods", self.methods)
        asked = req.header("access-control-request-headers")
        if asked:
            r.append_header("Access-Control-Allow-Headers",
                            asked if self.any_header else self.headers)
        if self.credentials:
            r.append_header("Access-Control-Allow-Credentials", "true")
        r.append_header("Access-Control-Max-Age", str(self.max_age))
        r.append_header("Vary", "Origin")
        return r

    def add_headers(self, req, resp):
        origin = req.header("origin")
        if origin is None or not self.allowed(origin):
            return None
        if resp.get_header("access-control-allow-origin") is not None:
            return None
        resp.append_header("Access-Control-Allow-Origin", self._origin_value(origin))
        if self.credentials:
            resp.append_header("Access-Control-Allow-Credentials", "true")
        if self.expose:
            resp.append_header("Access-Control-Expose-Headers", self.expose)
        if not self.any_origin or self.credentials:
            resp.append_header("Vary", "Origin")
        return None
