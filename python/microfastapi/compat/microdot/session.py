"""microdot.session: signed cookie sessions, Session(app, secret_key=...) and @with_session.

The cookie is a JSON Web Token signed with HS256, as Microdot's (so a Microdot app's session
cookies stay valid across the switch); signed and checked with microfastapi.sessions'
HMAC-SHA256, without PyJWT (which MicroPython does not have). A token whose signature is
wrong, or whose `exp` has passed, reads as an empty session.
"""

import binascii

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

try:
    from time import time as _now
except ImportError:  # pragma: no cover
    from utime import time as _now

from ...security import compare_digest
from ...sessions import Signer
from .core import invoke_handler
from .helpers import wraps

_JWT_HEAD = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"  # {"alg":"HS256","typ":"JWT"}


def _b64url(b):
    return binascii.b2a_base64(b).decode().rstrip("\n").rstrip("=").replace(
        "+", "-").replace("/", "_")


def _unb64url(s):
    s = s.replace("-", "+").replace("_", "/")
    return binascii.a2b_base64(s + "=" * (-len(s) % 4))


def jwt_encode(payload, key):
    text = _JWT_HEAD + "." + _b64url(json.dumps(payload).encode())
    return text + "." + _b64url(Signer(key).mac(text.encode()))


def jwt_decode(token, key):
    """The payload of an HS256 token signed with `key` and not expired, else None."""
    try:
        head, body, sig = token.split(".")
        if json.loads(_unb64url(head)).get("alg") != "HS256":
            return None
        text = head + "." + body
        if not compare_digest(_b64url(Signer(key).mac(text.encode())), sig):
            return None
        payload = json.loads(_unb64url(body))
    except Exception:  # (not a token at all)
        return None
    if not isinstance(payload, dict):
        return None
    exp = payload.get("exp")
    if exp is not None and (not isinstance(exp, (int, float)) or exp < _now()):
        return None
    return payload


class SessionDict(dict):
    """The session of one request; save() or delete() change the cookie of the answer."""

    def __init__(self, request, session_dict):
        super().__init__()
        self.update(session_dict)
        self.request = request

    def save(self):
        self.request.app._session.update(self.request, self)

    def delete(self):
        self.request.app._session.delete(self.request)


class Session:
    secret_key = None

    def __init__(self, app=None, secret_key=None, cookie_options=None):
        self.secret_key = secret_key
        self.cookie_options = cookie_options or {}
        if app is not None:
            self.initialize(app)

    def initialize(self, app, secret_key=None, cookie_options=None):
        if secret_key is not None:
            self.secret_key = secret_key
        if cookie_options is not None:
            self.cookie_options = cookie_options
        self.cookie_options.setdefault("path", "/")
        self.cookie_options.setdefault("http_only", True)
        app._session = self

    def _key(self):
        if not self.secret_key:
            raise ValueError("The session secret key is not configured")
        return self.secret_key

    def get(self, request):
        """The request's session (a SessionDict; the same one on each call)."""
        self._key()
        if hasattr(request.g, "_session"):
            return request.g._session
        if not hasattr(request.g, "_vary"):
            request.g._vary = set()
        request.g._vary.add("Cookie")
        cookie = request.cookies.get("session")
        data = {} if cookie is None else self.decode(cookie)
        request.g._session = SessionDict(request, data)
        return request.g._session

    def update(self, request, session):
        value = self.encode(session)
        opts = self.cookie_options

        @request.after_request
        def _set(request, response):
            response.set_cookie("session", value, **opts)
            return response

    def delete(self, request):
        opts = self.cookie_options

        @request.after_request
        def _delete(request, response):
            response.delete_cookie("session", **opts)
            return response

    def encode(self, payload, secret_key=None):
        # (a plain dict: MicroPython cannot dict() a dict subclass)
        return jwt_encode({k: v for k, v in payload.items()}, secret_key or self._key())

    def decode(self, session, secret_key=None):
        return jwt_decode(session, secret_key or self._key()) or {}


def with_session(f):
    """Decorator: the handler gets the session as its second argument."""
    @wraps(f)
    async def wrapper(request, *args, **kwargs):
        return await invoke_handler(f, request, request.app._session.get(request), *args,
                                    **kwargs)
    return wrapper
