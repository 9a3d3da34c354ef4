"""microdot.auth: BasicAuth and TokenAuth route decorators (`@auth` and `@auth.optional`),
with the user the callback returns in request.g.current_user."""

import binascii

from .core import abort, invoke_handler


class BaseAuth:
    def __init__(self):
        self.auth_callback = None
        self.error_callback = None

    def __call__(self, f):
        async def wrapper(request, *args, **kwargs):
            auth = self._get_auth(request)
            if not auth:
                return await invoke_handler(self.error_callback, request)
            request.g.current_user = await invoke_handler(self.auth_callback, request, *auth)
            if not request.g.current_user:
                return await invoke_handler(self.error_callback, request)
            return await invoke_handler(f, request, *args, **kwargs)
        return wrapper

    def optional(self, f):
        async def wrapper(request, *args, **kwargs):
            auth = self._get_auth(request)
            request.g.current_user = None if not auth else await invoke_handler(
                self.auth_callback, request, *auth)
            return await invoke_handler(f, request, *args, **kwargs)
        return wrapper


class BasicAuth(BaseAuth):
    def __init__(self, realm="Please login", charset="UTF-8", scheme="Basic",
                 error_status=401):
        BaseAuth.__init__(self)
        self.realm = realm
        self.charset = charset
        self.scheme = scheme
        self.error_status = error_status
        self.error_callback = self.authentication_error

    def _get_auth(self, request):
        auth = request.headers.get("Authorization")
        if auth and auth.startswith("Basic "):
            try:
                user, password = binascii.a2b_base64(auth[6:]).decode().split(":", 1)
            except Exception:
                return None
            return user, password
        return None

    async def authentication_error(self, request):
        return "", self.error_status, {"WWW-Authenticate": '%s realm="%s", charset="%s"' % (
            self.scheme, self.realm, self.charset)}

    def authenticate(self, f):
        """Decorator: f(request, username, password) returns the user, or None."""
        self.auth_callback = f


class TokenAuth(BaseAuth):
    def __init__(self, header="Authorization", scheme="Bearer", error_status=401):
        BaseAuth.__init__(self)
        self.header = header
        self.scheme = scheme.lower()
        self.error_status = error_status
        self.error_callback = self.authentication_error

    def _get_auth(self, request):
        auth = request.headers.get(self.header)
        if not auth:
            return None
        if self.header != "Authorization":
            return (auth,)
        parts = auth.split(" ", 1)
        if len(parts) == 2 and parts[0].lower() == self.scheme:
            return (parts[1].strip(),)
        return None

    def authenticate(self, f):
        """Decorator: f(request, token) returns the user, or None."""
        self.auth_callback = f

    def errorhandler(self, f):
        self.error_callback = f

    async def authentication_error(self, request):
        abort(self.error_status)
