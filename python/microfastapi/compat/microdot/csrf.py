"""microdot.csrf: CSRF(app, cors) refuses (403) unsafe cross-site requests, judged by the
Sec-Fetch-Site header, else by Origin against the CORS object's allowed_origins."""

from .core import abort


class CSRF:
    SAFE_METHODS = ["GET", "HEAD", "OPTIONS"]

    def __init__(self, app=None, cors=None, protect_all=True, allow_subdomains=False):
        self.cors = None
        self.protect_all = protect_all
        self.allow_subdomains = allow_subdomains
        self.exempt_routes = []
        self.protected_routes = []
        if app is not None:
            self.initialize(app, cors)

    def initialize(self, app, cors=None):
        self.cors = cors
        app.before_request(self._check)

    def _origin_allowed(self, origin):
        allowed = self.cors.allowed_origins
        if not self.allow_subdomains:
            return origin in allowed
        if "://" not in origin:
            return False
        scheme, host = origin.split("://", 1)
        for a in allowed:
            a_scheme, a_host = a.split("://", 1)
            if origin == a or (host.endswith("." + a_host) and scheme == a_scheme):
                return True
        return False

    def _check(self, request):
        route = request.route
        if not ((self.protect_all and request.method not in self.SAFE_METHODS
                 and route not in self.exempt_routes) or route in self.protected_routes):
            return None
        allow = False
        sfs = request.headers.get("Sec-Fetch-Site")
        origin = request.headers.get("Origin")
        if sfs:
            allow = sfs in ("same-origin", "none") or (
                sfs == "same-site" and self.allow_subdomains)
            if allow:
                if not hasattr(request.g, "_vary"):
                    request.g._vary = set()
                request.g._vary.add("Sec-Fetch-Site")
        if not allow and origin and self.cors and self.cors.allowed_origins != "*":
            allow = self._origin_allowed(origin)
        if not allow and not sfs and not origin:
            allow = True  # (nothing to judge by: not a browser's cross-site request)
        if not allow:
            abort(403, "Forbidden")
        return None

    def exempt(self, f):
        self.exempt_routes.append(f)
        return f

    def protect(self, f):
        self.protected_routes.append(f)
        return f
