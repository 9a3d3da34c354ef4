"""Signed-cookie sessions and the CSRF check that goes with them.

    from microfastapi.sessions import Sessions
    Sessions(app)                        # secret: made once, kept in the file .mfa_secret
    Sessions(app, secret=b"...32 random bytes...", max_age=3600, secure=True)

    @app.post("/login")
    def login(req):
        ...
        req.session["user"] = "admin"    # a dict of JSON values, sent back as a cookie
    @app.post("/logout")
    def logout(req):
        req.session.clear()              # an empty session deletes the cookie

Every route's handler finds `req.session`. The cookie holds the session itself (nothing is kept
on the device): `base64(payload) "." base64(HMAC-SHA256(secret, base64(payload)))`, the payload
being the JSON `[expiry (time.time() seconds), {the session}]`. A cookie that is tampered with,
truncated, signed with another secret, expired or malformed in any way is an empty session,
never an error. The cookie is `HttpOnly; SameSite=Lax; Path=/` (plus `Secure` with
secure=True, for a board behind HTTPS) and is sent only when the session changed. A session
whose cookie would be longer than `max_size` is refused when the value is set (ValueError, so
the mistake shows where it is made), since browsers drop cookies beyond 4 KB.

The secret is `secret=` or the content of `secret_file`: 32 bytes from os.urandom, written on
first use. That file is registered with staticfiles.protect(), so no StaticFiles mount serves it
even when its directory is served (and StaticFiles never serves dot files at all).

CSRF: with `csrf=True` (the default), a POST/PUT/PATCH/DELETE that carries the session cookie is
refused with 403 unless its Origin header (or, without one, its Referer) names the host the
request was sent to (the Host header) or one of `trusted_origins` ("http://name:port"). A route
declared with `csrf=False` is not checked (e.g. an endpoint for scripts that send the cookie
without an Origin). Browsers send Origin with every cross-site unsafe request.

Expiry uses the device's clock: on a Pico W set it first (ntptime.settime()), or a reboot takes
the clock back to 2021 and makes old cookies live longer than `max_age`.
"""

try:
    import hashlib
except ImportError:  # pragma: no cover
    import uhashlib as hashlib

try:
    import binascii
except ImportError:  # pragma: no cover
    import ubinascii as binascii

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

try:
    import time
except ImportError:  # pragma: no cover
    import utime as time

from .exceptions import HTTPException
from .response import dumps
from .security import compare_digest
from . import staticfiles

_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def hmac_sha256(key, msg):
    """HMAC-SHA256 (RFC 2104) of bytes `msg` under bytes `key`: MicroPython has hashlib.sha256
    but no hmac module. Signer keeps the padded keys to save work per message."""
    return Signer(key).mac(msg)


class Signer:
    def __init__(self, key):
        if type(key) is str:
            key = key.encode()
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key + b"\0" * (64 - len(key))
        self.ipad = bytes(b ^ 0x36 for b in key)
        self.opad = bytes(b ^ 0x5C for b in key)

    def mac(self, msg):
        h = hashlib.sha256(self.ipad)
        h.update(msg)
        o = hashlib.sha256(self.opad)
        o.update(h.digest())
        return o.digest()

    def sign(self, text):
        """'text.signature' (text: base64, so it holds no '.')."""
        return text + "." + _b64(self.mac(text.encode()))

    def unsign(self, value):
        """The text of a 'text.signature' whose signature is right, else None."""
        i = value.rfind(".")
        if i <= 0:
            return None
        text = value[:i]
        if not compare_digest(_b64(self.mac(text.encode())), value[i + 1:]):
            return None
        return text


def _b64(b):
    return binascii.b2a_base64(b).decode().rstrip("\n")


def b64_len(n):
    return (n + 2) // 3 * 4


def load_secret(path):
    """The secret kept in `path`, made (32 bytes of os.urandom) when the file is missing."""
    try:
        with open(path, "rb") as f:
            key = f.read()
    except OSError:
        key = None
    if key is None:
        if not hasattr(os, "urandom"):
            raise RuntimeError("sessions: this port has no os.urandom; pass secret= yourself")
        key = os.urandom(32)
        with open(path, "wb") as f:
            f.write(key)
    if len(key) < 16:
        raise RuntimeError("sessions: secret file %r holds %d bytes (16 at least); delete it "
                           "to make a new secret" % (path, len(key)))
    return key


class Session:
    """The session of one request: a dict of JSON values (`[]`, get, in, keys, items, values,
    len, pop, setdefault, update, clear). `modified` tells whether the cookie is sent back."""

    def __init__(self, store, data):
        self._store = store
        self._d = data
        self.modified = False

    def __getitem__(self, k):
        return self._d[k]

    def get(self, k, default=None):
        return self._d.get(k, default)

    def __contains__(self, k):
        return k in self._d

    def __iter__(self):
        return iter(self._d)

    def __len__(self):
        return len(self._d)

    def keys(self):
        return self._d.keys()

    def items(self):
        return self._d.items()

    def values(self):
        return self._d.values()

    def __eq__(self, other):
        return self._d == (other._d if isinstance(other, Session) else other)

    def __repr__(self):
        return "Session(%r)" % (self._d,)

    def __setitem__(self, k, v):
        if type(k) is not str:
            raise TypeError("session keys are str, not %s" % type(k).__name__)
        d = dict(self._d)
        d[k] = v
        self._store.check_size(d)
        self._d = d
        self.modified = True

    def update(self, other=(), **kw):
        d = dict(self._d)
        d.update(other, **kw) if kw else d.update(other)
        for k in d:
            if type(k) is not str:
                raise TypeError("session keys are str, not %s" % type(k).__name__)
        self._store.check_size(d)
        self._d = d
        self.modified = True

    def setdefault(self, k, default=None):
        if k not in self._d:
            self[k] = default
        return self._d[k]

    def __delitem__(self, k):
        del self._d[k]
        self.modified = True

    def pop(self, k, *default):
        if k in self._d:
            self.modified = True
        return self._d.pop(k, *default)

    def clear(self):
        if self._d:
            self.modified = True
        self._d = {}

    def to_dict(self):
        return dict(self._d)


def _netloc(url):
    """'host:port' of 'scheme://host:port/path?q', lower-cased; None when not a URL."""
    i = url.find("://")
    if i <= 0:
        return None
    rest = url[i + 3:]
    end = len(rest)
    for c in "/?#":
        j = rest.find(c)
        if 0 <= j < end:
            end = j
    return rest[:end].lower()


class Sessions:
    """Signed-cookie sessions for every route of `app` (see the module docstring).

    Limits and settings: cookie_name, max_age (seconds, inside the signed payload and the
    cookie's Max-Age), max_size (bytes of the cookie value), secure, csrf, trusted_origins."""

    def __init__(self, app, secret=None, secret_file=".mfa_secret", cookie_name="session",
                 max_age=14 * 24 * 3600, max_size=3800, secure=False, csrf=True,
                 trusted_origins=()):
        if secret is None:
            staticfiles.protect(secret_file)
            secret = load_secret(secret_file)
        elif len(secret) < 16:
            raise ValueError("sessions: the secret must have 16 bytes at least (32 random "
                             "bytes, e.g. os.urandom(32), are best)")
        self.signer = Signer(secret)
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.max_size = max_size
        self.secure = secure
        self.csrf = csrf
        self.trusted = [_netloc(o) or o.lower() for o in trusted_origins]
        app.add_route_hook(self._hook)

    # ---- cookie <-> session ----

    def encode(self, data, now=None):
        if now is None:
            now = int(time.time())
        payload = _b64(dumps([now + self.max_age, data]).encode())
        return self.signer.sign(payload)

    def check_size(self, data):
        s = dumps([2000000000, data])  # the same length as a real expiry
        n = b64_len(len(s.encode())) + 45  # '.' + 44 characters of signature
        if n > self.max_size:
            raise ValueError("session too large: its cookie would be %d bytes, more than "
                             "max_size=%d (browsers keep at most 4096); keep less in "
                             "req.session" % (n, self.max_size))

    def decode(self, value, now=None):
        """The session dict in a cookie value; {} for anything but a valid, unexpired one."""
        try:
            text = self.signer.unsign(value)
            if text is None:
                return {}
            exp, data = json.loads(binascii.a2b_base64(text))
            if now is None:
                now = int(time.time())
            if type(data) is not dict or not (type(exp) is int and exp > now):
                return {}
            return data
        except Exception:
            return {}

    def load(self, req):
        value = req.cookies.get(self.cookie_name) if req.header("cookie") else None
        return Session(self, self.decode(value) if value else {}), value is not None

    def save(self, req, session, had_cookie, r):
        if not session.modified:
            return r
        r = req.app.to_response(r)
        if session._d:
            r.set_cookie(self.cookie_name, self.encode(session._d), max_age=self.max_age,
                         secure=self.secure, httponly=True, samesite="Lax")
        elif had_cookie:
            r.set_cookie(self.cookie_name, "", max_age=0,
                         expires="Thu, 01 Jan 1970 00:00:00 GMT", secure=self.secure,
                         httponly=True, samesite="Lax")
        return r

    # ---- CSRF ----

    def check_origin(self, req):
        o = req.header("origin")
        what = "Origin"
        if o is None:
            o = req.header("referer")
            what = "Referer"
        if o is None:
            raise HTTPException(403, "CSRF check failed: a cookie-authenticated %s needs an "
                                "Origin or Referer header" % req.method)
        n = _netloc(o)
        host = req.header("host")
        if n is not None and ((host is not None and n == host.lower()) or n in self.trusted):
            return
        raise HTTPException(403, "CSRF check failed: %s %s is not this host (%s)"
                            % (what, o, host))

    # ---- installing on routes ----

    def _hook(self, app, ep):
        if ep.internal:
            return
        inner = ep.call
        csrf = self.csrf and ep.meta.get("csrf", True) is not False
        store = self

        def call(req, **kw):
            session, had = store.load(req)
            req.session = session
            if had and csrf and req.method in _UNSAFE:
                store.check_origin(req)
            r = inner(req, **kw)
            if hasattr(r, "send") and hasattr(r, "throw"):
                return store._save_async(req, session, had, r)
            return store.save(req, session, had, r)

        ep.call = call

    async def _save_async(self, req, session, had, co):
        return self.save(req, session, had, await co)
