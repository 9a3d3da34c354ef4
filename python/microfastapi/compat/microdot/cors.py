"""microdot.cors: CORS(app, allowed_origins=..., ...) on the Microdot surface (the app's
options handler and after-request hooks). Microdot's keyword names: `allowed_origins` ('*'
or a list), `allowed_methods`, `allowed_headers`, `expose_headers`, `allow_credentials`,
`max_age` (microfastapi.cors.CORS, the native one, takes Starlette's `allow_origins`)."""


class CORS:
    def __init__(self, app=None, allowed_origins=None, allow_credentials=False,
                 allowed_methods=None, expose_headers=None, allowed_headers=None,
                 max_age=None, handle_cors=True):
        self.allowed_origins = allowed_origins
        self.allow_credentials = allow_credentials
        self.allowed_methods = allowed_methods
        self.expose_headers = expose_headers
        self.allowed_headers = None if allowed_headers is None else [
            h.lower() for h in allowed_headers]
        self.max_age = max_age
        if app is not None:
            self.initialize(app, handle_cors=handle_cors)

    def initialize(self, app, handle_cors=True):
        self.default_options_handler = app.options_handler
        if handle_cors:
            app.options_handler = self.options_handler
            app.after_request(self.after_request)
            app.after_error_request(self.after_request)

    def options_handler(self, request):
        headers = self.default_options_handler(request)
        headers.update(self.get_cors_headers(request))
        return headers

    def get_cors_headers(self, request):
        out = {}
        origin = request.headers.get("Origin")
        vary = False
        if self.allowed_origins == "*":
            out["Access-Control-Allow-Origin"] = origin or "*"
            vary = bool(origin)
        elif origin in (self.allowed_origins or []):
            out["Access-Control-Allow-Origin"] = origin
            vary = True
        if vary:
            if not hasattr(request.g, "_vary"):
                request.g._vary = set()
            request.g._vary.add("Origin")
        if self.allow_credentials and "Access-Control-Allow-Origin" in out:
            out["Access-Control-Allow-Credentials"] = "true"
        if self.expose_headers:
            out["Access-Control-Expose-Headers"] = ", ".join(self.expose_headers)
        if request.method == "OPTIONS":
            if self.max_age:
                out["Access-Control-Max-Age"] = str(self.max_age)
            method = request.headers.get("Access-Control-Request-Method")
            if method:
                method = method.upper()
                if self.allowed_methods is None or method in self.allowed_methods:
                    out["Access-Control-Allow-Methods"] = method
            asked = request.headers.get("Access-Control-Request-Headers")
            if asked:
                if self.allowed_headers is None:
                    out["Access-Control-Allow-Headers"] = asked
                else:
                    ok = [h.strip() for h in asked.split(",")
                          if h.strip().lower() in self.allowed_headers]
                    out["Access-Control-Allow-Headers"] = ", ".join(ok)
        return out

    def after_request(self, request, response):
        if request:
            response.headers.update(self.get_cors_headers(request))
