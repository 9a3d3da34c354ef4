"""Authentication: HTTP Basic, Bearer tokens and API keys, declared on routes, routers or the app.

    from microfastapi.security import HTTPBasic, HTTPBearer, APIKeyHeader, APIKeyQuery

    basic = HTTPBasic(users={"admin": "s3cret"})            # or verify=fn(user, password)
    bearer = HTTPBearer(tokens={"t0k3n": "sensor-reader"})  # token -> identity, or verify=fn
    key = APIKeyHeader("X-API-Key", keys={"k3y": "cron"})

    @app.put("/relay/{n:int}", security=basic)              # one scheme
    def relay(req, n): return {"by": req.user}              # req.user: the identity

    @app.get("/data", security=[bearer, key])               # any one of them
    router = APIRouter(prefix="/admin", security=basic)     # every route of the router
    app = MicroFastApi(security=basic)                      # every route; security=None opts out

Route options read here (routecheck.ROUTE_OPTIONS):
  security=      a scheme or a list of alternatives; the identity goes to `req.user`
  dependencies=  [fn(req), ...] run before the handler, in order; one raises HTTPException to
                 refuse (their return values are ignored), as FastAPI's `dependencies=`
  depends=       {"name": fn(req), ...}: each result reaches the handler as keyword `name`
                 (the small Depends of this package); a scheme is such a fn (its identity)
  csrf=False     this route skips the sessions module's Origin/Referer check
Dependencies are plain functions (not async) that take the request.

Failures: Basic and Bearer answer 401 with `WWW-Authenticate` (`Basic realm="..."`, `Bearer`,
`Bearer error="invalid_token"` for a wrong token); an API key (no HTTP challenge scheme exists
for it) answers 403 "Not authenticated", as FastAPI does. A check that knows who the client is
but refuses it raises HTTPException(403) itself.

Credentials are compared with `compare_digest` (time independent of where they differ). A
scheme with `users`/`tokens`/`keys`/`verify` counts wrong credentials per client address in a
`Throttle` (shared `default_throttle` unless `throttle=` is given; None switches it off): after
`max_failures` the client gets 429 with `Retry-After` until `lockout_s` have passed, without its
credentials being looked at. A scheme without a verifier only extracts the credentials (the
identity is then the HTTPBasicCredentials, or the token/key string) for your own check.
"""

try:
    import hashlib
except ImportError:  # pragma: no cover
    import uhashlib as hashlib

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

try:
    import binascii
except ImportError:  # pragma: no cover
    import ubinascii as binascii

try:
    import time
except ImportError:  # pragma: no cover
    import utime as time

from .exceptions import HTTPException


# A random key for compare_digest, new at every start (never stored, never sent).
try:
    _KEY = os.urandom(32)
except (AttributeError, NotImplementedError):  # pragma: no cover (no urandom on this port)
    _KEY = hashlib.sha256(str(time.ticks_us() if hasattr(time, "ticks_us") else
                              time.time()).encode()).digest()


def compare_digest(a, b):
    """True when `a` == `b` (str or bytes), in time that does not depend on where they differ.

    Both are hashed with SHA-256 under a random key made at start-up and the digests compared:
    the comparison of digests may stop at their first difference, but where keyed digests
    differ says nothing about the values (the "double HMAC" comparison). A byte loop in Python
    is five times slower on the RP2040: for 44 characters 339,000 cycles against 66,000
    (`tests/emu/mem_emu.py security`)."""
    if type(a) is str:
        a = a.encode()
    if type(b) is str:
        b = b.encode()
    return hashlib.sha256(_KEY + a).digest() == hashlib.sha256(_KEY + b).digest()


def _sync(r, what):
    """`r`, refusing what an `async def` returns: a coroutine is truthy, so an async verify or
    dependency would let every request through unchecked (fail closed instead)."""
    if hasattr(r, "send") and hasattr(r, "throw"):
        r.close()
        raise TypeError("%s is async: verify functions and dependencies must be plain "
                        "functions" % (getattr(what, "__name__", what),))
    return r


def _lookup(table, given):
    """The value of the entry of `table` whose key equals `given`, comparing every key in
    constant time (so neither timing nor a dict lookup tells how close a guess was)."""
    found = None
    for k in table:
        if compare_digest(k, given) and found is None:
            found = table[k]
    return found


# ---- brute-force throttle -------------------------------------------------------------------

if hasattr(time, "ticks_ms"):
    def _now_ms():
        return time.ticks_ms()

    def _ms_since(t):
        return time.ticks_diff(time.ticks_ms(), t)
else:
    def _now_ms():
        return int(time.monotonic() * 1000)

    def _ms_since(t):
        return _now_ms() - t


class Throttle:
    """Failed authentications per client address, in a table of at most `size` addresses (the
    oldest is forgotten when a new one needs room). After `max_failures` failures within
    `window_s` seconds, `check` refuses the address with 429 for `lockout_s` seconds."""

    def __init__(self, max_failures=5, window_s=60, lockout_s=60, size=16):
        self.max_failures = max_failures
        self.window_ms = int(window_s * 1000)
        self.lockout_ms = int(lockout_s * 1000)
        self.size = size
        self.table = {}   # addr -> [failures, first failure ms, locked since ms or None]
        self.order = []   # addresses, oldest first

    def _addr(self, req):
        c = req.client
        return c[0] if c else ""

    def check(self, req):
        """Raise HTTPException(429, Retry-After) while the client is locked out."""
        e = self.table.get(self._addr(req))
        if e is None or e[2] is None:
            return
        left = self.lockout_ms - _ms_since(e[2])
        if left <= 0:
            self._forget(self._addr(req))
            return
        raise HTTPException(429, "Too many failed authentication attempts",
                            {"Retry-After": str((left + 999) // 1000)})

    def fail(self, req):
        """Count one failure of this client; the failure that reaches the limit locks it."""
        addr = self._addr(req)
        e = self.table.get(addr)
        if e is not None and e[2] is None and _ms_since(e[1]) > self.window_ms:
            self._forget(addr)
            e = None
        if e is None:
            if len(self.order) >= self.size:
                self._forget(self.order[0])
            e = self.table[addr] = [0, _now_ms(), None]
            self.order.append(addr)
        e[0] += 1
        if e[0] >= self.max_failures and e[2] is None:
            e[2] = _now_ms()

    def ok(self, req):
        """A successful authentication clears the client's count."""
        addr = self._addr(req)
        if addr in self.table:
            self._forget(addr)

    def _forget(self, addr):
        self.table.pop(addr, None)
        if addr in self.order:
            self.order.remove(addr)


default_throttle = Throttle()
_DEFAULT = object()


# ---- schemes --------------------------------------------------------------------------------

class AuthFailed(Exception):
    """Raised by Scheme.extract/verify; `status`, `detail`, `challenge` (or None), and `wrong`
    (credentials were given but are wrong: counts for the throttle)."""

    def __init__(self, status, detail, challenge=None, wrong=False):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.challenge = challenge
        self.wrong = wrong


class Scheme:
    """Base of the security schemes: `__call__(req)` gives the identity or raises
    HTTPException; `openapi()` is its OpenAPI securityScheme object."""
    scheme_name = None
    description = None

    def _setup(self, table, verify, throttle, scheme_name, description):
        self.table = table
        self.verify = verify
        self.throttle = default_throttle if throttle is _DEFAULT else throttle
        if table is None and verify is None:
            self.throttle = None  # nothing is checked here: nothing to count
        self.scheme_name = scheme_name or type(self).__name__
        self.description = description

    def identity(self, cred, *args):
        """Identity for credentials `cred` (verify/table), raising AuthFailed when wrong."""
        if self.verify is not None:
            who = _sync(self.verify(*args), self.verify)
        elif self.table is not None:
            who = self.check_table(cred)
        else:
            return cred
        if who is None or who is False:
            raise self.wrong()
        return who

    def check_table(self, cred):
        return _lookup(self.table, cred)

    def __call__(self, req):
        t = self.throttle
        if t is not None:
            t.check(req)
        try:
            who = self.authenticate(req)
        except AuthFailed as e:
            if e.wrong and t is not None:
                t.fail(req)
            raise self.http_error(e)
        if t is not None:
            t.ok(req)
        return who

    def http_error(self, e):
        h = {"WWW-Authenticate": e.challenge} if e.challenge else None
        return HTTPException(e.status, e.detail, h)

    def openapi(self):
        s = self.schema()
        if self.description:
            s["description"] = self.description
        return s


class HTTPBasicCredentials:
    def __init__(self, username, password):
        self.username = username
        self.password = password

    def __repr__(self):
        return "HTTPBasicCredentials(%r, ***)" % self.username


def _authorization(req, scheme):
    """The credentials after `scheme ` in the Authorization header, '' when the header is
    absent, None when another scheme is used."""
    h = req.header("authorization")
    if not h:
        return ""
    i = h.find(" ")
    if i < 0 or h[:i].lower() != scheme:
        return None
    return h[i + 1:].strip()


class HTTPBasic(Scheme):
    """HTTP Basic (RFC 7617). `users`: {username: password}; or `verify(username, password)`
    returning the identity (None/False: refused). The identity is the username."""

    def __init__(self, users=None, verify=None, realm=None, throttle=_DEFAULT, scheme_name=None,
                 description=None):
        self._setup(users, verify, throttle, scheme_name, description)
        for u in users or ():
            if ":" in u:  # RFC 7617; it also keeps "user:password" below unambiguous
                raise ValueError("HTTPBasic: a user name cannot contain ':' (%r)" % u)
        self.realm = realm
        self.challenge = 'Basic realm="%s"' % realm.replace('"', "'") if realm else "Basic"

    def wrong(self):
        return AuthFailed(401, "Incorrect username or password", self.challenge, True)

    def authenticate(self, req):
        cred = _authorization(req, "basic")
        if not cred:
            # absent, or another scheme: the client has to be told how to authenticate
            raise AuthFailed(401, "Not authenticated", self.challenge)
        try:
            text = binascii.a2b_base64(cred).decode()
            i = text.index(":")
        except Exception:  # bad base64, not UTF-8, no ':'
            raise AuthFailed(401, "Invalid authentication credentials", self.challenge, True)
        user, pw = text[:i], text[i + 1:]
        c = HTTPBasicCredentials(user, pw)
        if self.verify is not None:
            return self.identity(c, user, pw)
        if self.table is None:
            return c
        # every entry is compared, user and password at once, so timing tells nothing about
        # which part was wrong; the given user holds no ':' (split at the first)
        given = user + ":" + pw
        found = None
        for u in self.table:
            if compare_digest(u + ":" + self.table[u], given) and found is None:
                found = u
        if found is None:
            raise self.wrong()
        return found

    def schema(self):
        return {"type": "http", "scheme": "basic"}


class HTTPBearer(Scheme):
    """Bearer tokens (RFC 6750). `tokens`: {token: identity}; or `verify(token)`."""

    def __init__(self, tokens=None, verify=None, bearer_format=None, throttle=_DEFAULT,
                 scheme_name=None, description=None):
        self._setup(tokens, verify, throttle, scheme_name, description)
        self.bearer_format = bearer_format

    def wrong(self):
        return AuthFailed(401, "Invalid token", 'Bearer error="invalid_token"', True)

    def authenticate(self, req):
        cred = _authorization(req, "bearer")
        if not cred:
            raise AuthFailed(401, "Not authenticated", "Bearer")
        return self.identity(cred, cred)

    def schema(self):
        s = {"type": "http", "scheme": "bearer"}
        if self.bearer_format:
            s["bearerFormat"] = self.bearer_format
        return s


class APIKey(Scheme):
    """An API key in a header (`APIKeyHeader`) or the query string (`APIKeyQuery`).
    `keys`: {key: identity}; or `verify(key)`."""
    where = None

    def __init__(self, name, keys=None, verify=None, throttle=_DEFAULT, scheme_name=None,
                 description=None):
        self._setup(keys, verify, throttle, scheme_name, description)
        self.name = name

    def wrong(self):
        return AuthFailed(403, "Invalid API key", None, True)

    def authenticate(self, req):
        if self.where == "header":
            key = req.header(self.name)
        else:
            key = req.query.get(self.name)
        if not key:
            raise AuthFailed(403, "Not authenticated")
        return self.identity(key, key)

    def schema(self):
        return {"type": "apiKey", "in": self.where, "name": self.name}


class APIKeyHeader(APIKey):
    where = "header"


class APIKeyQuery(APIKey):
    where = "query"


# ---- installing on a route ------------------------------------------------------------------

def _as_list(s):
    if s is None:
        return []
    if isinstance(s, (list, tuple)):
        return list(s)
    return [s]


def route_schemes(meta):
    """The schemes a route's security=/dependencies=/depends= name, for the OpenAPI document."""
    out = []
    for s in _as_list(meta.get("security")) + list(meta.get("dependencies") or ()) + \
            list((meta.get("depends") or {}).values()):
        if isinstance(s, Scheme) and s not in out:
            out.append(s)
    return out


def authenticate(req, schemes):
    """The identity from the first of `schemes` that accepts the request. When none does, the
    error of a scheme whose credentials were given (wrong) wins over 'not authenticated';
    401 challenges of all schemes are offered together."""
    first = None
    challenges = []
    for s in schemes:
        try:
            return s(req)
        except HTTPException as e:
            if e.status_code == 429:
                raise
            c = e.headers.get("WWW-Authenticate") if e.headers else None
            if c:
                challenges.append(c)
            if first is None or (e.detail != "Not authenticated" and
                                 first.detail == "Not authenticated"):
                first = e
    if first.status_code == 401 and len(challenges) > 1:
        first = HTTPException(401, first.detail, {"WWW-Authenticate": ", ".join(challenges)})
    raise first


def check(meta):
    """Registration-time checks of the options read here (a TypeError names the mistake)."""
    for s in _as_list(meta.get("security")):
        if not isinstance(s, Scheme):
            raise TypeError("security=%r: give a security scheme (HTTPBasic, HTTPBearer, "
                            "APIKeyHeader, APIKeyQuery) or a list of them" % (s,))
    deps = meta.get("dependencies")
    if deps is not None:
        if not isinstance(deps, (list, tuple)):
            raise TypeError("dependencies= is a list of functions fn(req), not %r" % (deps,))
        for d in deps:
            if not callable(d):
                raise TypeError("dependencies=: %r is not callable" % (d,))
    named = meta.get("depends")
    if named is not None:
        if not isinstance(named, dict):
            raise TypeError("depends= is a dict {keyword: fn(req)}, not %r" % (named,))
        for k in named:
            if not callable(named[k]):
                raise TypeError("depends=%r: %r is not callable" % (k, named[k]))


def install(ep):
    """Wrap `ep.call` so that the route's security and dependencies run before it."""
    meta = ep.meta  # checked by routecheck.check_options at registration
    schemes = _as_list(meta.get("security"))
    deps = meta.get("dependencies") or ()
    named = meta.get("depends")
    if not schemes and not deps and not named:
        return
    inner = ep.call

    def call(req, **kw):
        if schemes:
            req.user = authenticate(req, schemes)
        for d in deps:
            _sync(d(req), d)
        if named:
            for k in named:
                kw[k] = _sync(named[k](req), named[k])
        return inner(req, **kw)

    ep.call = call
