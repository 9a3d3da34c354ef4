"""The offline /docs page (tools/docs_page.html, stored compressed in
python/microfastapi/docs_page.py): its size, the committed bytes against the source, gzip and
plain answers, and headless Chromium with no network but the server rendering every operation
of the examples' schemas and sending "Try it" requests (on the unix _mfa build and CPython)."""
import base64
import gzip
import json
import sys
import time

import pytest

from api_util import HERE, ROOT, app_argv, free_port, spawn, stop
from cdp import Browser
from microfastapi import MicroFastApi, openapi as oa
from microfastapi.testclient import TestClient

sys.path.insert(0, str(ROOT / "tools"))
import gen_docs_page  # noqa: E402

LIMIT = 16384


def test_committed_page_matches_source():
    from microfastapi import docs_page
    import zlib
    data = gen_docs_page.page_text()
    assert zlib.decompress(docs_page.DEFLATE, -docs_page.WBITS) == data, \
        "python/microfastapi/docs_page.py is stale: run python3 tools/gen_docs_page.py"
    assert docs_page.SIZE == len(data) and docs_page.CRC == zlib.crc32(data)


def gz_get(app, enc):
    return TestClient(app).get("/docs", headers={"Accept-Encoding": enc})


def test_gzip_size_and_answers():
    app = MicroFastApi(title="t")
    r = gz_get(app, "gzip, deflate, br")
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"].startswith("text/html")
    print("\noffline /docs page: %d bytes gzip (limit %d), %d bytes of HTML"
          % (len(r.content), LIMIT, len(gzip.decompress(r.content))))
    assert len(r.content) <= LIMIT
    plain = gz_get(app, "identity")
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(r.content) == plain.content
    assert plain.content.endswith(b'<script>go("/openapi.json")</script></body></html>\n')
    assert b"http://" not in plain.content and b"https://" not in plain.content  # no CDN
    # the schema URL is the one part that is not stored: escaped, and in the gzip trailer's CRC
    app = MicroFastApi(openapi_url="/s</script>.json")
    page = gzip.decompress(gz_get(app, "gzip").content)
    assert b'go("/s\\u003c/script>.json")' in page and b"</script>.json" not in page


def test_crc32_fallback():
    import zlib
    for data, start in ((b"", 0), (b"<script>go(1)</script>", 0), (b"abc", 0x12345678)):
        assert oa._crc32(data, start) == zlib.crc32(data, start)


@pytest.mark.parametrize("enc,ok", [
    ("gzip", True), ("GZip;q=0.5", True), ("deflate, gzip", True), ("*", True),
    ("x-gzip", True), ("", False), ("identity", False), ("gzip;q=0", False),
    ("br, *;q=0", False), ("gzip;q=0, *", False), ("deflate", False)])
def test_accepts_gzip(enc, ok):
    assert oa.accepts_gzip(enc) is ok


def test_no_way_to_decompress_is_406(monkeypatch):
    monkeypatch.setattr(oa, "_inflater", lambda: None)
    r = gz_get(MicroFastApi(), "identity")
    assert r.status_code == 406 and b"/openapi.json" in r.content
    assert gz_get(MicroFastApi(), "gzip").status_code == 200


def test_micropython_answers_both(unix_mfa):
    """The unix build sends the same page gzip and decompressed (deflate.DeflateIO)."""
    argv, env = app_argv("unix", HERE / "offline_docs_app.py", unix_mfa,
                         [HERE, ROOT / "python" / "examples"])
    port = free_port()
    proc = spawn("unix", argv + ["hello", str(port)], env, port)
    try:
        import requests
        u = "http://127.0.0.1:%d/docs" % port
        r = requests.get(u, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
        raw = r.raw.read(decode_content=False)
        assert r.headers["content-encoding"] == "gzip" and len(raw) <= LIMIT
        p = requests.get(u, headers={"Accept-Encoding": "identity"}, timeout=10)
        assert p.status_code == 200 and "content-encoding" not in p.headers
        assert gzip.decompress(raw) == p.content and p.content.startswith(b"<!DOCTYPE html>")
    finally:
        stop(proc)


# ---- in Chromium -----------------------------------------------------------------------------

# Names resolve to nothing but 127.0.0.1 (no DNS, no proxy): the page can reach the server only.
NO_NET = ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--no-proxy-server"]


def ops_of(doc):
    return [(m, p) for p in doc["paths"] for m in doc["paths"][p]]


def open_docs(b, port, tmp_path, name):
    b.send("Network.enable")
    b.send("Page.enable")
    b.send("Page.navigate", url="http://127.0.0.1:%d/docs" % port)
    b.wait_js("document.querySelectorAll('details.op').length > 0", 30)
    doc = b.js("fetch('/openapi.json').then(r => r.json())")
    text = b.js("document.body.innerText")
    ops = ops_of(doc)
    assert ops
    for m, p in ops:
        sel = "[...document.querySelectorAll('details.op')].find(e => e.dataset.method == %s" \
              " && e.dataset.path == %s)" % (json.dumps(m), json.dumps(p))
        assert b.js("!!" + sel), (m, p)
        assert b.js(sel + ".querySelector('summary').innerText").split()[:2] == [m.upper(), p]
    # open every operation, then a screenshot of the whole page (checked by its DOM's text)
    b.js("document.querySelectorAll('details.op').forEach(d => d.open = true); true")
    h = b.js("document.documentElement.scrollHeight")
    b.send("Emulation.setDeviceMetricsOverride", width=1000, height=min(h, 8000),
           deviceScaleFactor=1, mobile=False)
    shot = base64.b64decode(b.send("Page.captureScreenshot", format="png",
                                   captureBeyondViewport=True)["data"])
    (tmp_path / ("%s.png" % name)).write_bytes(shot)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10000
    for m, p in ops:
        assert "%s\n" % m.upper() in text + "\n" and p in text
    check_screenshot(b, tmp_path / ("%s.png" % name), ops)
    return doc


BADGE = {"get": (42, 122, 184), "post": (58, 157, 93), "put": (199, 125, 20),
         "delete": (192, 57, 43), "patch": (124, 77, 191)}


def check_screenshot(b, png, ops):
    """Each operation is in the picture where the DOM puts it: its method badge in the
    method's colour, its path as dark text (no OCR here: the pixels at the elements' boxes)."""
    try:
        from PIL import Image
    except ImportError:  # (Pillow comes with the test requirements' dependencies)
        return
    im = Image.open(png).convert("RGB")
    for m, p in ops:
        r = b.js("(() => { var s = %s.querySelector('summary'), a = s.querySelector('.m')"
                 ".getBoundingClientRect(), c = s.querySelector('.p').getBoundingClientRect();"
                 " return [a.left, a.top, a.width, a.height, c.left, c.top, c.width, c.height]"
                 "})()" % op_sel(m, p))
        ax, ay, aw, ah, cx, cy, cw, ch = r
        assert cy + ch <= im.height, (m, p, "below the screenshot")
        px = im.getpixel((int(ax + 2), int(ay + ah / 2)))
        want = BADGE.get(m, (102, 102, 102))
        assert all(abs(x - y) < 12 for x, y in zip(px, want)), (m, p, px)
        dark = sum(1 for x in range(int(cx), int(cx + cw)) for y in range(int(cy), int(cy + ch))
                   if sum(im.getpixel((x, y))) < 300)
        assert dark > 3 * len(p), (m, p, dark)  # the path's glyphs are drawn


def op_sel(m, p):
    return "document.getElementById(%s)" % json.dumps("op-%s-%s" % (m, p))


def try_it(b, m, p, fields=(), body=None):
    op = op_sel(m, p)
    b.js(op + ".open = true; true")
    for name, val in fields:
        b.js("%s.querySelector('.try [name=%s]').value = %s; true" % (op, name, json.dumps(val)))
    if body is not None:
        b.js("%s.querySelector('.try textarea').value = %s; true" % (op, json.dumps(body)))
    b.js(op + ".querySelector('.try').requestSubmit(); true")
    st = b.wait_js("(%s.querySelector('.out .status') || {}).textContent" % op)
    return st, b.js(op + ".querySelector('.out').innerText")


def only_local(b, port):
    urls = [e[1]["request"]["url"] for e in b.events if e[0] == "Network.requestWillBeSent"]
    assert urls and all(u.startswith("http://127.0.0.1:%d/" % port) for u in urls), urls
    return urls


@pytest.fixture(params=["unix", "cpython"])
def backend(request):
    return request.param, (request.getfixturevalue("unix_mfa") if request.param == "unix"
                           else None)


def serve(backend, name, tmp_path):
    kind, binary = backend
    argv, env = app_argv(kind, HERE / "offline_docs_app.py", binary,
                         [HERE, ROOT / "python" / "examples"])
    env["UPLOAD_DIR"] = str(tmp_path)
    port = free_port()
    return spawn(kind, argv + [name, str(port)], env, port), port


def test_examples_render_and_try_it(backend, chromium, tmp_path):
    b = Browser(chromium, str(tmp_path / "profile"), NO_NET)
    procs = []
    try:
        b.attach_page()
        # the sensor/relay example: every operation, GET with a path parameter, the lock
        proc, port = serve(backend, "pico_sensor_relay", tmp_path)
        procs.append(proc)
        doc = open_docs(b, port, tmp_path, "pico_sensor_relay")
        assert "/relay/{n}" in doc["paths"]
        assert b.js("document.title") == "pico sensor/relay - API docs"
        assert b.js("!!document.querySelector('#authorize [data-scheme=HTTPBasic] "
                    "input[type=password]')")
        st, out = try_it(b, "get", "/relay/{n}", [("n", "2")])
        assert st == "200" and '"relay": 2' in out and '"on": false' in out, out
        assert "GET /relay/2" in out and "content-type: application/json" in out
        st, out = try_it(b, "get", "/relay/{n}", [("n", "7")])
        assert st == "404" and "No relay 7" in out, out
        # the protected PUT: 401, then with the password from the Authorize box 200
        sp = "/secure/relay/{n}/{state}"
        st, out = try_it(b, "put", sp, [("n", "1"), ("state", "on")])
        assert st == "401", out
        box = "document.querySelector('#authorize [data-scheme=HTTPBasic]')"
        for n, v in (("username", "admin"), ("password", "change-me")):
            b.js("%s.querySelector('[name=%s]').value = %s; %s.querySelector('[name=%s]')"
                 ".dispatchEvent(new Event('input')); true" % (box, n, json.dumps(v), box, n))
        st, out = try_it(b, "put", sp, [("n", "1"), ("state", "on")])
        assert st == "200" and '"by": "admin"' in out, out
        only_local(b, port)
        stop(procs.pop())
        # hello: a POST with a JSON body, then the GET shows what it stored
        b.events.clear()
        proc, port = serve(backend, "hello", tmp_path)
        procs.append(proc)
        open_docs(b, port, tmp_path, "hello")
        st, out = try_it(b, "post", "/items/{item_id}", [("item_id", "5")],
                         '{"name": "lamp", "watts": 7}')
        assert st == "201" and '"name": "lamp"' in out, out
        st, out = try_it(b, "get", "/items/{item_id}", [("item_id", "5")])
        assert st == "200" and '"watts": 7' in out, out
        only_local(b, port)
        stop(procs.pop())
        # uploads: a multipart form with a file input; the declared test app: JSON bodies
        for name in ("uploads", "openapi_app"):
            b.events.clear()
            proc, port = serve(backend, name, tmp_path)
            procs.append(proc)
            doc = open_docs(b, port, tmp_path, name)
            if name == "uploads":
                assert b.js("!!%s.querySelector('.try input[type=file][name=file]')"
                            % op_sel("post", "/api/files"))
            for p in doc["paths"]:
                for m, op in doc["paths"][p].items():
                    c = op.get("requestBody", {}).get("content", {})
                    if "application/json" in c:  # the prefilled example is JSON
                        json.loads(b.js("%s.querySelector('.try textarea').value" % op_sel(m, p)))
            only_local(b, port)
            stop(procs.pop())
    finally:
        b.close()
        for p in procs:
            stop(p)
