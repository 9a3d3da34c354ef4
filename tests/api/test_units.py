"""Pieces of the package on their own (CPython, in-process)."""
import pytest

from microfastapi import MicroFastApi, HTTPException, Response, JSONResponse
from microfastapi.request import QueryParams, MultiDict
from microfastapi.response import guess_type
from microfastapi.routing import compile_template, Router
from microfastapi.testclient import TestClient
from microfastapi import backend

QUERIES = ["q=hello", "a=1&a=2&b=", "flag&x=1", "a=b=c", "", "&&a=1&", "x+y=1+2", "k=%41%zz",
           "a=1&ab=2&b=3", "ab=1&a=2", "q=", "=v&q=1"]


@pytest.mark.parametrize("qs", QUERIES)
def test_query_fast_path_agrees_with_parse_qsl(qs):
    ref = MultiDict(backend.parse_qsl(qs) if qs else [])
    for key in ("q", "a", "b", "ab", "x", "flag", "k", "x y", "", "zz"):
        assert QueryParams(qs).get(key) == ref.get(key), (qs, key)
        assert (key in QueryParams(qs)) == (key in ref), (qs, key)
    assert QueryParams(qs).getlist("a") == ref.getlist("a")
    assert QueryParams(qs).keys() == ref.keys()


def test_templates():
    assert compile_template("/a/b") == ["/a/b"]
    parts = compile_template("/a/{x:int}/b")
    assert parts[0] == "/a/" and parts[1][0] == "x" and parts[2] == "/b"
    for bad in ("a/b", "/a/{x", "/a/{x:nope}", "/a/{}", "/{a}{b}", "/{p:path}x"):
        with pytest.raises(ValueError):
            compile_template(bad)


def test_router_match_and_405_allow():
    r = Router()
    r.add("/a/{x}", ["GET"], "f1", {})
    r.add("/a/{x}", ["POST"], "f2", {})
    r.add("/b/{p:path}/end", ["GET"], "f3", {})
    ep, params, route = r.find("POST", "/a/1")
    assert ep.fn == "f2" and params == {"x": "1"}
    assert r.find("GET", "/a/")[0] is None
    assert r.find("GET", "/a/1/2")[0] is None
    assert r.find("GET", "/b/x/y/end")[1] == {"p": "x/y"}
    ep, allowed, _ = r.find("DELETE", "/a/1")
    assert ep is None and sorted(allowed) == ["GET", "POST"]
    assert r.find("HEAD", "/a/1")[0].fn == "f1"


def test_custom_converter_and_hooks():
    app = MicroFastApi()

    def hexint(s):
        return int(s, 16)
    app.register_converter("hex", hexint, "hex_parsing", "Input should be hexadecimal")

    @app.get("/h/{v:hex}")
    def h(req, v):
        return {"v": v}

    seen = []

    @app.before_request
    def before(req):
        seen.append(req.path)
        if req.path == "/h/dead":
            return "blocked", 403

    @app.after_request
    def after(req, resp):
        resp.set_header("X-After", "1")

    @app.exception_handler(404)
    def nf(req, exc):
        return {"custom": "404", "path": req.path}, 404

    c = TestClient(app)
    assert c.get("/h/ff").json() == {"v": 255}
    r = c.get("/h/zz")
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "hex_parsing"
    r = c.get("/h/dead")
    assert r.status_code == 403 and r.text == "blocked" and r.headers["x-after"] == "1"
    r = c.get("/nothing")
    assert r.status_code == 404 and r.json() == {"custom": "404", "path": "/nothing"}
    assert seen == ["/h/ff", "/h/zz", "/h/dead", "/nothing"]


def test_status_handlers_get_the_request_without_hooks():
    """A 404/405 handler of an app with no hooks or middleware (the fast path, where the
    request object is made only for a route) still gets the request, as in FastAPI."""
    app = MicroFastApi()

    @app.get("/only-get")
    def only_get(req):
        return "ok"

    @app.exception_handler(404)
    def nf(req, exc):
        return {"missing": req.path, "q": req.query.get("q")}, 404

    @app.exception_handler(405)
    def na(req, exc):
        return {"method": req.method}, 405

    c = TestClient(app)
    assert c.get("/nothing?q=1").json() == {"missing": "/nothing", "q": "1"}
    assert c.post("/only-get").json() == {"method": "POST"}


def test_header_injection_refused():
    with pytest.raises(ValueError):
        Response(b"", 200, {"X": "a\nb"})
    r = Response(b"")
    with pytest.raises(ValueError):
        r.set_header("X\r\nY", "1")
    with pytest.raises(ValueError):
        r.set_cookie("a", "b\r\nSet-Cookie: evil=1")


def test_guess_type():
    assert guess_type("/www/index.html").startswith("text/html")
    assert guess_type("a.JS") == "application/javascript"
    assert guess_type("x.tar/readme") == "application/octet-stream"
    assert guess_type("logo.png") == "image/png"


def test_poll_loop_and_handle_in_process():
    app = MicroFastApi()

    @app.get("/x")
    def x(req):
        return {"x": 1}

    assert "not started" in str(app)
    c = TestClient(app, cookies=True)

    @app.get("/set")
    def s(req):
        r = JSONResponse({})
        r.set_cookie("sid", "42")
        return r

    @app.get("/who")
    def who(req):
        return {"sid": req.cookies.get("sid")}
    c.get("/set")
    assert c.get("/who").json() == {"sid": "42"}


def test_async_handler_that_suspends_in_poll_mode_is_500():
    app = MicroFastApi()

    class Suspend:
        def __await__(self):
            yield None

    @app.get("/s")
    async def s(req):
        await Suspend()
        return {}
    c = TestClient(app)
    c._dispatch = lambda raw: app.handle_sync(raw, c)  # what app.poll() does
    r = c.get("/s")
    assert r.status_code == 500


def test_testclient_runs_async_handlers_in_an_event_loop():
    """The TestClient answers like app.serve(): an async handler may really await."""
    import asyncio
    app = MicroFastApi()

    @app.get("/s")
    async def s(req):
        await asyncio.sleep(0.01)
        return {"slept": True}
    assert TestClient(app).get("/s").json() == {"slept": True}


def test_async_pieces_awaits_each_index_once():
    import asyncio
    from microfastapi.pieces import AsyncPieces
    seen = []

    async def piece(i):
        await asyncio.sleep(0)
        seen.append(i)
        return "p%d" % i

    async def collect(it):
        return [p async for p in it]

    assert asyncio.run(collect(AsyncPieces(3, piece))) == ["p0", "p1", "p2"]
    assert seen == [0, 1, 2]
    assert asyncio.run(collect(AsyncPieces(0, piece))) == [] and seen == [0, 1, 2]


def test_http_exception_detail_types():
    app = MicroFastApi()

    @app.get("/e")
    def e(req):
        raise HTTPException(400, {"field": "bad"})
    assert TestClient(app).get("/e").json() == {"detail": {"field": "bad"}}


def test_int_converter_empty_is_value_error():
    from microfastapi.routing import converters
    for s in ("", "-", "1.5", "abc"):
        with pytest.raises(ValueError):
            converters["int"].fn(s)
    assert converters["int"].fn("-12") == -12


def test_safe_path():
    from microfastapi.staticfiles import safe_path
    for p in ("a.txt", "sub/a.txt", "a..b", "a.", "%2e%2e"):
        assert safe_path(p) == p
    # dot files and directories are never served (".mfa_secret", ".git/...")
    for p in ("", "/etc/passwd", "../x", "sub/../../x", "a//b", "./a", "a/.", "a\\b", "a\0b",
              "sub/", "..", "..a", ".hidden", "sub/.git/config"):
        assert safe_path(p) is None, p
    assert safe_path("", True) == "" and safe_path("sub/", True) == "sub/"
    assert safe_path("sub//", True) is None and safe_path("../", True) is None


def test_static_files_missing_directory():
    from microfastapi.staticfiles import StaticFiles
    with pytest.raises(RuntimeError):
        StaticFiles(directory="/nonexistent-dir-xyz")
    StaticFiles(directory="/nonexistent-dir-xyz", check_dir=False)


def test_print_app_uses_active_interface(monkeypatch):
    """print(app) shows the address of the interface that is up (SLIP on MFA_PICO, WLAN on
    the Pico W), found without creating or activating anything."""
    import sys
    import types
    calls = []

    class SLIP:
        def __init__(self, *a):
            calls.append(("SLIP", a))

        def isconnected(self):
            return True

        def ifconfig(self):
            return ("192.168.7.2", "255.255.255.0", "192.168.7.1", "0.0.0.0")

    class WLAN:
        def __init__(self, itf):
            calls.append(("WLAN", itf))

        def isconnected(self):
            return False

        def active(self, *a):
            assert not a, "must not switch interfaces on or off"
            return False

    net = types.ModuleType("network")
    net.SLIP, net.WLAN, net.STA_IF, net.AP_IF = SLIP, WLAN, 0, 1
    monkeypatch.setitem(sys.modules, "network", net)
    app = MicroFastApi(title="t")
    app.host, app.port, app.backend = "0.0.0.0", 80, "_mfa"
    assert "http://192.168.7.2/" in str(app)
    assert ("SLIP", ()) in calls  # no arguments: the existing link, untouched
    assert ".local" not in str(app)  # SLIP: no mDNS name, no MAC
    net.WLAN.isconnected = lambda self: True
    net.WLAN.ifconfig = lambda self: ("10.0.0.5", "", "", "")
    assert "http://10.0.0.5/" in str(app)
    # On WiFi: the name.local URL (network.hostname()), the IP and the MAC address too.
    net.WLAN.config = lambda self, what: {"mac": b"\x28\xcd\xc1\x0a\x0b\xfc"}[what]
    net.hostname = lambda: "my-pico"
    assert str(app).endswith(", listening on 0.0.0.0:80, http://10.0.0.5/ or "
                             "http://my-pico.local/ (WiFi: IP 10.0.0.5, MAC 28:cd:c1:0a:0b:fc)")
    app.port = 8080
    assert "http://10.0.0.5:8080/ or http://my-pico.local:8080/ " in str(app)
    app.host = "127.0.0.1"  # not listening on WiFi: no WiFi names
    assert str(app).endswith("listening on 127.0.0.1:8080, http://127.0.0.1:8080/")
    app.host, app.port = "0.0.0.0", 80
    monkeypatch.delitem(sys.modules, "network")
    monkeypatch.setattr(sys, "path", [])  # no importable network module at all
    assert "http://127.0.0.1/" in str(app)
    app.port = 8000
    assert "http://127.0.0.1:8000/" in str(app)


def test_wifi_connect_hostname(monkeypatch):
    """wifi.connect(hostname=...): a bad name is refused before anything changes; a new name
    goes to network.hostname() and to the mDNS responder (_mfa.mdns_rename, MFA_PICO_W), the
    same name again only to the former. (The real firmware: tests/net/test_picow_mfa.py.)"""
    import sys
    import types
    from microfastapi import wifi
    names, renamed = ["mfa-picow"], []

    class WLAN:
        def __init__(self, itf):
            pass

        def active(self, *a):
            return True

        def isconnected(self):
            return True

        def ifconfig(self):
            return ("10.0.0.5", "", "", "")

    def hostname(*a):
        if a:
            names.append(a[0])
        return names[-1]

    net = types.ModuleType("network")
    net.WLAN, net.STA_IF, net.hostname = WLAN, 0, hostname
    mfa = types.ModuleType("_mfa")
    mfa.mdns_rename = renamed.append
    monkeypatch.setitem(sys.modules, "network", net)
    monkeypatch.setitem(sys.modules, "_mfa", mfa)
    for bad in ("", "my.pico", "-pico", "pico-", "x" * 33, "pico w", "pic\u00f6"):
        with pytest.raises(ValueError, match="hostname"):
            wifi.connect("ssid", "pw", hostname=bad)
    assert names == ["mfa-picow"] and renamed == []
    assert wifi.connect("ssid", "pw", hostname="Pico-2") == "10.0.0.5"
    assert wifi.connect("ssid", "pw", hostname="Pico-2") == "10.0.0.5"
    assert names == ["mfa-picow", "Pico-2", "Pico-2"] and renamed == ["Pico-2"]
