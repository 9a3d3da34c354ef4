"""The uploads example (python/examples/uploads.py) in a real browser (issue 14): headless
Chromium opens its page (served by the unix `_mfa` build, the unix pure build and CPython), picks two files in the page's
file input (DevTools' DOM.setFileInputFiles, as a user's file dialog would), submits the form,
and is sent back to the listing, which shows both; the files on disk are the originals, byte
for byte. tests/api/cdp.py drives the browser over the DevTools protocol."""
import hashlib
import os

import pytest

from api_util import HTTP_BACKENDS, ROOT, app_argv, free_port, spawn, stop, unix_binary
from cdp import Browser

EXAMPLES = ROOT / "python" / "examples"


@pytest.mark.parametrize("backend", HTTP_BACKENDS)
def test_upload_form_in_chromium(request, backend, chromium, tmp_path):
    up = tmp_path / "uploads"
    up.mkdir()
    picked = tmp_path / "picked"
    picked.mkdir()
    a = picked / "notes.txt"
    a.write_bytes(b"line one\r\n--not-a-boundary\r\n" * 100)
    b = picked / "image.bin"
    b.write_bytes(os.urandom(300_000))
    argv, env = app_argv(backend, EXAMPLES / "uploads.py", unix_binary(request, backend),
                         [EXAMPLES])
    port = free_port()
    env["PORT"] = str(port)
    env["UPLOAD_DIR"] = str(up)
    proc = spawn(backend, argv, env, port)
    br = Browser(chromium, str(tmp_path / "profile"))
    try:
        br.attach_page()
        br.send("Page.navigate", url="http://127.0.0.1:%d/" % port)
        br.wait_js("document.readyState == 'complete' && !!document.querySelector('input')")
        br.send("DOM.enable")
        root = br.send("DOM.getDocument")["root"]["nodeId"]
        node = br.send("DOM.querySelector", nodeId=root, selector="input[type=file]")["nodeId"]
        br.send("DOM.setFileInputFiles", files=[str(a), str(b)], nodeId=node)
        assert br.js("document.querySelector('input[type=file]').files.length") == 2
        br.js("document.querySelector('button').click(); true")
        # the form's answer (303) brings the browser back to the listing, which has both
        br.wait_js("document.readyState == 'complete' && "
                   "(document.getElementById('files') || {}).textContent.indexOf('image.bin') >= 0",
                   30)
        listing = br.js("document.getElementById('files').textContent")
        assert "notes.txt (%d bytes)" % a.stat().st_size in listing
        assert "image.bin (300000 bytes)" in listing
        for f in (a, b):
            got = (up / f.name).read_bytes()
            assert hashlib.sha256(got).digest() == hashlib.sha256(f.read_bytes()).digest()
    finally:
        br.close()
        stop(proc)
