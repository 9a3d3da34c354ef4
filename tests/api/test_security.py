"""Authentication, sessions, CSRF and the brute-force throttle (issue 17), on every backend:
security_app.py in-process (TestClient on CPython) and over real HTTP, served by CPython and by
both unix MicroPython binaries. Cookies are forged here with CPython's hmac module, so the
servers' HMAC-SHA256 (our own on MicroPython) is checked against it on the wire."""
import base64
import hashlib
import hmac
import http.cookiejar
import json
import os
import sys
import time

import pytest

from api_util import BACKENDS, HERE, serve_on_first_use


@pytest.fixture(scope="module")
def secret_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("secret")
    (d / "visible.txt").write_text("visible")
    (d / ".hidden").write_text("hidden")
    (d / "sub").mkdir()
    return d


@pytest.fixture(scope="module")
def _servers(request, secret_dir):
    def setup(c):
        # cookies travel only where a test puts them
        c.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        c.origin = c.base
    yield from serve_on_first_use(request, HERE / "security_app.py",
                                  {"MFA_SECRET_DIR": str(secret_dir)}, setup)


@pytest.fixture(params=BACKENDS)
def sec(request, _servers, secret_dir):
    if request.param == "testclient":
        os.environ["MFA_SECRET_DIR"] = str(secret_dir)
        import security_app
        from microfastapi.testclient import TestClient
        c = TestClient(security_app.app, cookies=False)
        c.origin = "http://testserver"
        return c
    return _servers(request.param)


def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, pw)).encode()).decode()}


def raw_status(c, path):
    """Status of a GET sent byte for byte (HTTP clients would normalise '..' and '.')."""
    req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
    if hasattr(c, "send_raw"):
        return c.send_raw(req).status_code
    return int(c.raw(req).split(b" ", 2)[1])


# ---- schemes --------------------------------------------------------------------------------

def test_basic(sec):
    assert sec.get("/basic", headers=basic("admin", "s3cret")).json() == {"user": "admin"}
    # a non-ASCII password with a ':' in it (only the first ':' separates)
    assert sec.get("/basic", headers=basic("ann", "p\u00e4ss:wort")).json() == {"user": "ann"}
    for h, detail in ((basic("admin", "wrong"), "Incorrect username or password"),
                      (basic("nobody", "s3cret"), "Incorrect username or password"),
                      (basic("admin", ""), "Incorrect username or password"),
                      ({}, "Not authenticated"),
                      ({"Authorization": "Bearer s3cret"}, "Not authenticated"),  # wrong scheme
                      ({"Authorization": "Basic"}, "Not authenticated"),
                      ({"Authorization": "Basic !!!not*base64"},
                       "Invalid authentication credentials"),
                      ({"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
                       "Invalid authentication credentials"),
                      ({"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:x").decode()},
                       "Invalid authentication credentials")):
        r = sec.get("/basic", headers=h)
        assert r.status_code == 401, (h, r.text)
        assert r.json() == {"detail": detail}, h
        assert r.headers["www-authenticate"] == 'Basic realm="relay"'


def test_bearer(sec):
    h = {"Authorization": "Bearer tok-reader"}
    assert sec.get("/bearer", headers=h).json() == {"user": "reader"}
    assert sec.get("/bearer", headers={"Authorization": "bearer tok-reader"}).status_code == 200
    r = sec.get("/bearer", headers={"Authorization": "Bearer tok-readex"})
    assert r.status_code == 401 and r.json() == {"detail": "Invalid token"}
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    for h in ({}, basic("admin", "s3cret"), {"Authorization": "Bearer "}):
        r = sec.get("/bearer", headers=h)
        assert r.status_code == 401 and r.json() == {"detail": "Not authenticated"}, h
        assert r.headers["www-authenticate"] == "Bearer"


def test_api_keys(sec):
    assert sec.get("/hkey", headers={"X-API-Key": "key-cron"}).json() == {"user": "cron"}
    assert sec.get("/qkey?api_key=key-cron").json() == {"user": "cron"}
    for path, h, detail in (("/hkey", {"X-API-Key": "key-crox"}, "Invalid API key"),
                            ("/hkey", {}, "Not authenticated"),
                            ("/hkey", {"X-Other": "key-cron"}, "Not authenticated"),
                            ("/qkey?api_key=nope", {}, "Invalid API key"),
                            ("/qkey", {"X-API-Key": "key-cron"}, "Not authenticated")):
        r = sec.get(path, headers=h)
        assert r.status_code == 403 and r.json() == {"detail": detail}, (path, h)
        assert "www-authenticate" not in r.headers


def test_alternatives_and_dependencies(sec):
    assert sec.get("/any", headers={"X-API-Key": "key-cron"}).json() == {"user": "cron"}
    assert sec.get("/any", headers={"Authorization": "Bearer tok-reader"}).json() == \
        {"user": "reader"}
    r = sec.get("/any")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    # a wrong key beats "not authenticated" from the other scheme
    r = sec.get("/any", headers={"X-API-Key": "bad"})
    assert r.status_code == 403 and r.json() == {"detail": "Invalid API key"}
    # two schemes, then a dependency that needs the admin, then the query declaration
    ok = sec.put("/relay/2?on=true", headers=basic("admin", "s3cret"))
    assert ok.json() == {"relay": 2, "on": True, "by": "admin"}
    assert sec.put("/relay/2?on=1", headers={"Authorization": "Bearer tok-admin"}).json()["by"] \
        == "admin"
    r = sec.put("/relay/2?on=true", headers=basic("ann", "p\u00e4ss:wort"))
    assert r.status_code == 403 and r.json() == {"detail": "Only admin may do this"}
    r = sec.put("/relay/2")  # authentication comes before validation
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Basic realm="relay", Bearer'
    assert sec.put("/relay/2", headers=basic("admin", "s3cret")).status_code == 422
    r = sec.get("/whoami", headers={"Authorization": "Bearer tok-reader"})
    assert r.json() == {"who": "reader", "addr_is_str": True}
    assert sec.get("/whoami").status_code == 401
    assert sec.get("/open").json() == {"user": None}


def test_router_security(sec):
    assert sec.get("/admin/ping").status_code == 401
    assert sec.get("/admin/ping", headers=basic("admin", "s3cret")).json() == {"pong": "admin"}
    assert sec.get("/admin/public").json() == {"public": True}


# ---- sessions -------------------------------------------------------------------------------

def secret(secret_dir):
    return (secret_dir / "session.key").read_bytes()


def forge(key, payload_bytes):
    text = base64.b64encode(payload_bytes).decode()
    mac = base64.b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode()
    return text + "." + mac


def cookie_of(r):
    sc = r.headers["set-cookie"]
    return sc.split(";", 1)[0].split("=", 1)[1], sc


def login(sec):
    r = sec.post("/login", json={"user": "admin", "password": "s3cret"})
    assert r.status_code == 200 and r.json() == {"logged_in": "admin"}
    return cookie_of(r)


def test_secret_file(sec, secret_dir):
    assert sec.get("/open").status_code == 200
    key = secret(secret_dir)
    assert len(key) == 32 and key != b"\0" * 32
    assert sec.get("/files/visible.txt").text == "visible"
    assert raw_status(sec, "/files/visible.txt") == 200  # the mount works byte for byte too
    for p in ("/files/session.key", "/files/./session.key", "/files/%73ession.key",
              "/files/session%2ekey", "/files/sub/../session.key", "/files/sub/%2e%2e/session.key",
              "/files/sub%2f..%2fsession.key", "/files//session.key", "/files/SESSION.KEY",
              "/files/session.key%00", "/files/sub/..%5csession.key", "/files/.hidden",
              "/files/%2ehidden"):
        assert raw_status(sec, p) == 404, p
    assert secret(secret_dir) == key  # made once: every backend read the same file


def test_session_round_trip(sec, secret_dir):
    value, sc = login(sec)
    attrs = [a.strip() for a in sc.split(";")[1:]]
    assert "HttpOnly" in attrs and "SameSite=Lax" in attrs and "Path=/" in attrs
    assert "Max-Age=1209600" in attrs and "Secure" not in attrs
    # the server's signature is CPython's HMAC-SHA256 of the payload under the secret file
    assert forge(secret(secret_dir), base64.b64decode(value.split(".")[0])) == value
    exp, data = json.loads(base64.b64decode(value.split(".")[0]))
    assert data == {"user": "admin", "n": 0} and -2 < exp - time.time() - 1209600 < 30
    cookie = {"Cookie": "session=" + value}
    assert sec.get("/me", headers=cookie).json() == {"session": {"user": "admin", "n": 0}}
    assert "set-cookie" not in sec.get("/me", headers=cookie).headers  # unchanged: not sent
    same = dict(cookie, Origin=sec.origin)
    r = sec.post("/count", headers=same)
    assert r.json() == {"user": "admin", "n": 1}
    value2, _ = cookie_of(r)
    r = sec.post("/count", headers={"Cookie": "session=" + value2, "Origin": sec.origin})
    assert r.json() == {"user": "admin", "n": 2}
    r = sec.post("/logout", headers=same)
    assert r.json() == {"logged_out": True}
    assert r.headers["set-cookie"].startswith("session=;") and "Max-Age=0" in r.headers["set-cookie"]
    assert sec.post("/login", json={"user": "admin", "password": "no"}).status_code == 401
    assert sec.get("/me").json() == {"session": {}}


def test_session_tampering(sec, secret_dir):
    value, _ = login(sec)
    key = secret(secret_dir)
    text, mac = value.split(".")
    payload = base64.b64decode(text)
    now = int(time.time())
    bad = {
        "payload changed": base64.b64encode(payload.replace(b"admin", b"admix")).decode() + "." + mac,
        "one character flipped": text[:5] + ("A" if text[5] != "A" else "B") + text[6:] + "." + mac,
        "signature flipped": text + "." + mac[:3] + ("A" if mac[3] != "A" else "B") + mac[4:],
        "truncated": value[:-4],
        "truncated at the dot": text + ".",
        "no signature": text,
        "payload only dot": "." + mac,
        "other secret": forge(b"another secret, 32 bytes long!!!", payload),
        "expired": forge(key, json.dumps([now - 5, {"user": "admin"}]).encode()),
        "expiry not a number": forge(key, json.dumps(["9999999999", {"user": "admin"}]).encode()),
        "not a list": forge(key, json.dumps({"user": "admin"}).encode()),
        "session not a dict": forge(key, json.dumps([now + 99, ["admin"]]).encode()),
        "not JSON": forge(key, b"\xff[not json"),
        "not base64": "@@@." + mac,
        "empty": "",
        "quoted": '"' + value[:-1],
    }
    for name, v in bad.items():
        h = {"Cookie": "session=" + v}
        r = sec.get("/me", headers=h)
        assert r.status_code == 200 and r.json() == {"session": {}}, name
        r = sec.post("/count", headers=dict(h, Origin=sec.origin))
        assert r.status_code == 403 and r.json() == {"detail": "Not logged in"}, name
    # the same forgery with a future expiry is accepted: the cases above fail for their reason
    good = forge(key, json.dumps([now + 99, {"user": "admin"}]).encode())
    assert sec.get("/me", headers={"Cookie": "session=" + good}).json() == \
        {"session": {"user": "admin"}}


def test_session_size_limit(sec):
    value, _ = login(sec)
    h = {"Cookie": "session=" + value, "Origin": sec.origin}
    r = sec.post("/big", headers=h).json()
    assert r["kept"] is True
    assert "session too large" in r["error"] and "max_size=1000" in r["error"]


def test_csrf(sec):
    value, _ = login(sec)
    cookie = {"Cookie": "session=" + value}
    host = sec.origin.split("://")[1]
    for h, why in (({"Origin": "http://evil.example"}, "Origin http://evil.example is not"),
                   ({"Origin": "http://" + host + ".evil.example"}, "is not this host"),
                   ({"Origin": "null"}, "Origin null is not"),
                   ({"Referer": "http://evil.example/" + host + "/"}, "Referer"),
                   ({}, "needs an Origin or Referer")):
        r = sec.post("/count", headers=dict(cookie, **h))
        assert r.status_code == 403 and why in r.json()["detail"], (h, r.text)
        assert r.json()["detail"].startswith("CSRF check failed")
    assert sec.post("/count", headers=dict(cookie, Origin=sec.origin)).json()["n"] == 1
    assert sec.post("/count", headers=dict(cookie, Referer=sec.origin + "/page?x=1")).json()["n"] == 1
    # csrf=False on the route: another origin is let through (the route still needs the login)
    assert sec.post("/hook", headers=dict(cookie, Origin="http://evil.example")).json() == \
        {"hook": "admin"}
    # without the cookie there is nothing to forge: login from anywhere is not refused here
    assert sec.post("/login", json={"user": "admin", "password": "s3cret"},
                    headers={"Origin": "http://evil.example"}).status_code == 200
    # safe methods are never checked
    assert sec.get("/me", headers=dict(cookie, Origin="http://evil.example")).status_code == 200


# ---- throttle -------------------------------------------------------------------------------

def test_throttle(sec):
    good = basic("admin", "s3cret")
    assert sec.get("/strict", headers=good).status_code == 200
    assert sec.get("/strict").status_code == 401  # no credentials: not counted
    for i in range(3):
        assert sec.get("/strict", headers=basic("admin", "guess%d" % i)).status_code == 401
    r = sec.get("/strict", headers=good)  # locked out: even the right password
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert r.json() == {"detail": "Too many failed authentication attempts"}
    assert sec.get("/basic", headers=good).status_code == 200  # other throttles unaffected
    time.sleep(1.1)
    assert sec.get("/strict", headers=good).json() == {"user": "admin"}
    # the success cleared the count: three more failures are needed again
    for i in range(2):
        assert sec.get("/strict", headers=basic("admin", "x")).status_code == 401
    assert sec.get("/strict", headers=good).status_code == 200


# ---- OpenAPI ---------------------------------------------------------------------------------

def test_openapi_security(sec):
    from openapi_spec_validator import validate
    doc = sec.get("/openapi.json").json()
    validate(doc)
    assert doc["components"]["securitySchemes"] == {
        "HTTPBasic": {"type": "http", "scheme": "basic"},
        "HTTPBearer": {"type": "http", "scheme": "bearer"},
        "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "APIKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
        "StrictBasic": {"type": "http", "scheme": "basic"}}
    p = doc["paths"]
    assert p["/basic"]["get"]["security"] == [{"HTTPBasic": []}]
    assert p["/any"]["get"]["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}]
    assert p["/relay/{n}"]["put"]["security"] == [{"HTTPBasic": []}, {"HTTPBearer": []}]
    assert p["/whoami"]["get"]["security"] == [{"HTTPBearer": []}]  # from depends=
    assert p["/admin/ping"]["get"]["security"] == [{"HTTPBasic": []}]  # from the router
    assert p["/admin/public"]["get"]["security"] == []  # security=None under a secured router
    assert "security" not in p["/open"]["get"] and "security" not in p["/me"]["get"]
    # the docs page offers the schema to Swagger UI and keeps the UI object reachable
    html = sec.get("/docs").text
    assert 'window.ui=SwaggerUIBundle({url:"/openapi.json"' in html
