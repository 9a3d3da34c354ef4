"""StaticFiles in a real browser (issue 16): headless Chromium loads a page from StaticFiles
(index.html, html=True) whose script (app.js, served from app.js.gz: Chromium accepts gzip)
writes into it, on the three servers. The mount says Cache-Control: no-cache, so the second
load revalidates: the server's counter (static_app.py's /counts, from an after_request hook)
shows a 304 for the page and for the script, and the page shows the same content."""
import gzip

import pytest
import requests

from api_util import HERE, HTTP_BACKENDS, app_argv, free_port, spawn, stop, unix_binary
from cdp import Browser

PAGE = b"<!doctype html><html><body><p id=out>...</p><script src=app.js></script></body></html>"
JS = b"document.getElementById('out').textContent = 'static ' + (6 * 7);\n" + b"//pad\n" * 300


@pytest.mark.parametrize("backend", HTTP_BACKENDS)
def test_second_load_revalidates(request, backend, chromium, tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_bytes(PAGE)
    (www / "app.js").write_bytes(JS)
    (www / "app.js.gz").write_bytes(gzip.compress(JS))
    argv, env = app_argv(backend, HERE / "static_app.py", unix_binary(request, backend), [HERE])
    env["STATIC_DIR"] = str(www)
    port = free_port()
    proc = spawn(backend, argv + [str(port)], env, port)
    base = "http://127.0.0.1:%d" % port
    br = Browser(chromium, str(tmp_path / "profile"))
    try:
        br.attach_page()
        for _ in range(2):
            br.send("Page.navigate", url=base + "/s/")
            br.wait_js("document.readyState == 'complete' && "
                       "document.getElementById('out').textContent == 'static 42'")
        counts = requests.get(base + "/counts", timeout=5).json()
        assert counts.get("/s/ 200") == 1 and counts.get("/s/ 304", 0) >= 1, counts
        assert counts.get("/s/app.js 200 gz") == 1, counts
        assert counts.get("/s/app.js 304 gz", 0) >= 1, counts
    finally:
        br.close()
        stop(proc)
