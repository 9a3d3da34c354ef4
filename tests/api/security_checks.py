"""Unit checks of security.py and sessions.py, run on CPython and on both unix MicroPython
binaries (test_security_units.py); prints "ok NAME" or "FAIL NAME: why" per check, then
"done N". argv[1]: a scratch directory."""
import sys

try:
    import binascii
except ImportError:  # pragma: no cover
    import ubinascii as binascii

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

from microfastapi import MicroFastApi, APIRouter
from microfastapi.security import (HTTPBasic, HTTPBearer, APIKeyHeader, Throttle,
                                   compare_digest)
from microfastapi.sessions import Sessions, Signer, hmac_sha256, load_secret
from microfastapi.openapi import openapi
from microfastapi.testclient import TestClient
from checklib import check, raises, run_checks

SCRATCH = sys.argv[1] if len(sys.argv) > 1 else "."

# RFC 4231 HMAC-SHA256 test cases 1-4, 6 and 7 (key, data, MAC); test_security_units.py
# checks these against CPython's hmac module, so both agree with the RFC and each other.
VECTORS = [
    ("0b" * 20, "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    ("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    ("aa" * 20, "dd" * 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    ("0102030405060708090a0b0c0d0e0f10111213141516171819", "cd" * 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    ("aa" * 131, "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579"
     "202d2048617368204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ("aa" * 131, "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c"
     "6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a652064"
     "6174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e"
     "6720757365642062792074686520484d414320616c676f726974686d2e",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]


def h(s):
    return binascii.unhexlify(s)


class FakeReq:
    def __init__(self, addr):
        self.client = (addr, 1)


@check
def hmac_rfc4231():
    for key, data, mac in VECTORS:
        assert binascii.hexlify(hmac_sha256(h(key), h(data))).decode() == mac, mac
    s = Signer(h(VECTORS[1][0]))  # one Signer, many messages
    assert binascii.hexlify(s.mac(h(VECTORS[1][1]))).decode() == VECTORS[1][2]
    assert binascii.hexlify(s.mac(h(VECTORS[1][1]))).decode() == VECTORS[1][2]


@check
def compare():
    assert compare_digest("abc", "abc") and compare_digest(b"abc", "abc")
    assert not compare_digest("abc", "abd") and not compare_digest("abc", "abcd")
    assert not compare_digest("", "a") and compare_digest("", "")


@check
def throttle_table_forgets_oldest():
    t = Throttle(max_failures=2, window_s=60, lockout_s=60, size=2)
    a, b, c = FakeReq("10.0.0.1"), FakeReq("10.0.0.2"), FakeReq("10.0.0.3")
    t.fail(a)
    t.fail(b)
    t.fail(c)  # the table is full: a (the oldest) is forgotten
    assert len(t.table) == 2 and "10.0.0.1" not in t.table and t.order == ["10.0.0.2", "10.0.0.3"]
    t.fail(a)  # a starts again from one failure
    assert t.table["10.0.0.1"][0] == 1
    t.fail(a)
    raises(Exception, lambda: t.check(a), "Too many")
    t.check(c)  # others are not locked
    for i in range(100):
        t.fail(FakeReq("10.1.0.%d" % i))
    assert len(t.table) == 2 and len(t.order) == 2


@check
def throttle_window():
    t = Throttle(max_failures=2, window_s=0, lockout_s=60)
    a = FakeReq("10.0.0.9")
    t.fail(a)
    import time
    time.sleep(0.01)
    t.fail(a)  # the first failure is out of the (empty) window: counting starts again
    t.check(a)
    assert t.table["10.0.0.9"][0] == 1


@check
def app_wide_security_and_opt_out():
    b = HTTPBasic(users={"u": "p"}, throttle=None)
    app = MicroFastApi(security=b)

    @app.get("/x")
    def x(req):
        return {"user": req.user}

    @app.get("/health", security=None)
    def health(req):
        return {"ok": True}

    r = APIRouter(prefix="/r")

    @r.get("/y")
    def y(req):
        return {"user": req.user}
    app.include_router(r)
    c = TestClient(app)
    assert c.get("/x").status_code == 401 and c.get("/health").json() == {"ok": True}
    auth = {"Authorization": "Basic " + binascii.b2a_base64(b"u:p").decode().strip()}
    assert c.get("/x", headers=auth).json() == {"user": "u"}
    assert c.get("/r/y").status_code == 401, "included router: app-wide security applies"
    assert c.get("/openapi.json").status_code == 200 and c.get("/docs").status_code == 200
    doc = openapi(app)
    assert doc["paths"]["/x"]["get"]["security"] == [{"HTTPBasic": []}]
    assert doc["paths"]["/health"]["get"]["security"] == []
    assert doc["components"]["securitySchemes"] == {"HTTPBasic": {"type": "http",
                                                                  "scheme": "basic"}}


@check
def scheme_names_unique():
    app = MicroFastApi()
    k1, k2 = APIKeyHeader("X-A", keys={"a": 1}), APIKeyHeader("X-B", keys={"b": 2})

    @app.get("/a", security=[k1, k2])
    def a(req):
        return {}
    doc = openapi(app)
    assert doc["paths"]["/a"]["get"]["security"] == [{"APIKeyHeader": []}, {"APIKeyHeader_2": []}]
    assert doc["components"]["securitySchemes"]["APIKeyHeader_2"]["name"] == "X-B"


@check
def registration_errors():
    app = MicroFastApi()

    def hnd(req):
        return {}
    n = len(app.router.endpoints)
    raises(TypeError, lambda: app.get("/x", security="admin")(hnd), "security", "HTTPBasic")
    raises(TypeError, lambda: app.get("/x", security=[HTTPBearer(), 3])(hnd), "security")
    raises(TypeError, lambda: app.get("/x", dependencies=hnd)(hnd), "dependencies", "list")
    raises(TypeError, lambda: app.get("/x", dependencies=[1])(hnd), "not callable")
    raises(TypeError, lambda: app.get("/x", depends={"u": "x"})(hnd), "depends", "callable")
    raises(TypeError, lambda: app.get("/x", depends=[hnd])(hnd), "depends", "dict")
    raises(TypeError, lambda: APIRouter(security=1), "security")
    raises(ValueError, lambda: HTTPBasic(users={"a:b": "c"}), "':'")
    raises(TypeError, lambda: app.get("/x", securty=HTTPBearer())(hnd), "securty")
    assert len(app.router.endpoints) == n  # nothing half-registered


@check
def secret_file_made_once():
    path = SCRATCH + "/made.key"
    try:
        os.remove(path)
    except OSError:
        pass
    app = MicroFastApi()
    s1 = Sessions(app, secret_file=path)
    k = load_secret(path)
    s2 = Sessions(MicroFastApi(), secret_file=path)
    assert len(k) == 32 and s1.signer.ipad == s2.signer.ipad
    v = s1.encode({"a": 1})
    assert s2.decode(v) == {"a": 1}
    with open(SCRATCH + "/short.key", "wb") as f:
        f.write(b"short")
    raises(RuntimeError, lambda: load_secret(SCRATCH + "/short.key"), "short.key", "delete")
    raises(ValueError, lambda: Sessions(MicroFastApi(), secret=b"short"), "16 bytes")


@check
def session_values():
    s = Sessions(MicroFastApi(), secret=b"k" * 32, max_size=200, max_age=100)
    v = s.encode({"a": [1, "x"], "b": None}, now=1000)
    assert s.decode(v, now=1099) == {"a": [1, "x"], "b": None}
    assert s.decode(v, now=1100) == {}  # expired exactly at now + max_age
    for junk in ("", ".", "..", "a.b", v + "x", "x" + v, v.replace(".", ""), "\xff.\xff",
                 v[:len(v) // 2]):
        assert s.decode(junk, now=1000) == {}, junk
    from microfastapi.sessions import Session
    sess = Session(s, {})
    raises(ValueError, lambda: sess.__setitem__("big", "x" * 300), "session too large",
           "max_size=200")
    assert "big" not in sess and not sess.modified
    raises(TypeError, lambda: sess.__setitem__("o", object()), "JSON")
    raises(TypeError, lambda: sess.__setitem__(1, 2), "str")
    sess["k"] = "v"
    assert sess.modified and sess["k"] == "v" and dict(sess.items()) == {"k": "v"}
    sess.update({"m": 2})
    assert sess.pop("m") == 2 and len(sess) == 1 and "k" in sess and list(sess) == ["k"]
    assert sess.setdefault("z", 3) == 3 and sess.get("nope", 4) == 4
    sess.clear()
    assert sess == {}


@check
def secure_cookie():
    app = MicroFastApi()
    Sessions(app, secret=b"k" * 32, secure=True, cookie_name="sid", max_age=60)

    @app.post("/in", csrf=False)
    def login(req):
        req.session["u"] = 1
        return {"ok": True}

    @app.get("/async")
    async def a(req):
        req.session["a"] = 2
        return {"async": True}
    c = TestClient(app, cookies=False)
    sc = c.post("/in").headers["set-cookie"]
    assert sc.startswith("sid=") and "; Secure" in sc and "Max-Age=60" in sc
    r = c.get("/async")
    assert r.json() == {"async": True} and r.headers["set-cookie"].startswith("sid=")


@check
def async_checks_fail_closed():
    async def verify(user, pw):
        return None  # would refuse, but a coroutine object is truthy

    async def dep(req):
        raise Exception("never awaited")
    app = MicroFastApi()

    @app.get("/v", security=HTTPBasic(verify=verify, throttle=None))
    def v(req):
        return {"in": True}

    @app.get("/d", dependencies=[dep])
    def d(req):
        return {"in": True}

    @app.get("/n", depends={"x": dep})
    def n(req, x):
        return {"in": True}
    c = TestClient(app)
    auth = {"Authorization": "Basic " + binascii.b2a_base64(b"u:p").decode().strip()}
    for path in ("/v", "/d", "/n"):
        r = c.get(path, headers=auth)
        assert r.status_code == 500 and r.json() == {"detail": "Internal Server Error"}, path


@check
def trusted_origins():
    app = MicroFastApi()
    s = Sessions(app, secret=b"k" * 32, trusted_origins=["https://front.example:8443"])

    @app.post("/p")
    def p(req):
        return {"n": len(req.session)}
    c = TestClient(app, cookies=False)
    ck = "session=" + s.encode({"u": 1})
    assert c.post("/p", headers={"Cookie": ck, "Origin": "https://front.example:8443"}).json() \
        == {"n": 1}
    assert c.post("/p", headers={"Cookie": ck, "Origin": "https://front.example"}).status_code \
        == 403


if __name__ == "__main__":  # (test_security_units.py also imports this file for VECTORS)
    run_checks()
