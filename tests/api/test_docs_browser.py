"""The docs page in a real browser: headless Chromium opens /docs of the sensor/relay example
(served by build/unix/micropython), a protected operation answers 401 from "Try it out", then
the Authorize dialog takes the HTTP Basic password and the same operation answers 200 with the
identity. Swagger UI normally loads from a CDN, which the test machines cannot reach, so the app
serves the npm package swagger-ui-dist itself (installed into .cache/npm on first use);
tests/api/cdp.py drives the browser over the DevTools protocol."""
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from api_util import HERE, ROOT, app_argv, free_port, spawn, stop
from cdp import Browser

SWAGGER_UI = "swagger-ui-dist@5.35.0"
NPM_DIR = ROOT / ".cache" / "npm"
OP = "document.getElementById('operations-default-secure_set_relay_secure_relay__n___state__put')"
STATUS = OP + ".querySelector('.live-responses-table tbody .response-col_status')"


@pytest.fixture(scope="module")
def swagger_dir():
    d = NPM_DIR / "node_modules" / "swagger-ui-dist"
    if not (d / "swagger-ui-bundle.js").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot fetch %s for the docs page" % SWAGGER_UI)
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        out = subprocess.run([npm, "install", "--prefix", str(NPM_DIR), "--ignore-scripts", "--no-audit",
                              "--no-fund", SWAGGER_UI], capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
    return d


def execute(b):
    b.js(OP + ".querySelector('.execute').click(); true")
    return b.wait_js(STATUS + " && " + STATUS + ".textContent.trim()").split()[0]


def test_authorize_and_call_protected_operation(unix_mfa, swagger_dir, chromium, tmp_path):
    argv, env = app_argv("unix", HERE / "docs_browser_app.py", unix_mfa,
                         [HERE, ROOT / "python" / "examples"])
    port = free_port()
    proc = spawn("unix", argv + [str(port), str(swagger_dir)], env, port)
    b = Browser(chromium, str(tmp_path / "profile"))
    try:
        b.attach_page()
        b.send("Page.navigate", url="http://127.0.0.1:%d/docs" % port)
        b.wait_js("!!document.querySelector('.btn.authorize')", 60)
        # open the protected operation, fill its path parameters and run it: refused
        b.js(OP + ".querySelector('button.opblock-summary-control').click(); true")
        b.wait_js("!!" + OP + ".querySelector('.try-out__btn')")
        b.js(OP + ".querySelector('.try-out__btn').click(); true")
        for ph, val in (("n", "1"), ("state", "on")):
            b.wait_js("!!" + OP + ".querySelector('input[placeholder=%s]')" % ph)
            b.js(OP + ".querySelector('input[placeholder=%s]').focus(); true" % ph)
            b.send("Input.insertText", text=val)
            b.wait_js(OP + ".querySelector('input[placeholder=%s]').value == '%s'" % (ph, val))
        time.sleep(1)  # Swagger UI's parameter inputs are debounced
        assert execute(b) == "401"  # ("401 Undocumented": the schema lists no 401)
        body = b.js(OP + ".querySelector('.live-responses-table').innerText")
        assert "Not authenticated" in body and "basic realm" in body.lower()
        # Authorize: the dialog lists both schemes; log in with HTTP Basic
        b.js("document.querySelector('.btn.authorize').click(); true")
        b.wait_js("!!document.querySelector('.modal-ux input[type=password]')")
        names = b.js("[...document.querySelectorAll('.modal-ux .auth-container h4')]"
                     ".map(e => e.textContent).join('|')")
        assert "HTTPBasic" in names and "HTTPBearer" in names
        box = ("[...document.querySelectorAll('.modal-ux .auth-container')]"
               ".find(e => e.querySelector('h4').textContent.includes('HTTPBasic'))")
        for sel, val in (("input[name=username]", "admin"), ("input[type=password]", "change-me")):
            b.js("%s.querySelector('%s').focus(); true" % (box, sel))
            b.send("Input.insertText", text=val)
        b.js("[...%s.querySelectorAll('button')].find(x => x.textContent.trim() == 'Authorize')"
             ".click(); true" % box)
        assert "Authorized" in b.wait_js("%s.innerText.includes('Authorized') && %s.innerText"
                                         % (box, box))
        b.js("[...document.querySelectorAll('.modal-ux button')]"
             ".find(x => x.textContent.trim() == 'Close').click(); true")
        b.wait_js("!document.querySelector('.modal-ux')")
        b.js(OP + ".querySelector('.execute').click(); true")
        b.wait_js(STATUS + " && " + STATUS + ".textContent.trim() == '200'")
        body = b.js(OP + ".querySelector('.live-responses-table').innerText")
        assert '"by": "admin"' in body and '"on": true' in body, body
        curl = b.js(OP + ".querySelector('.curl').innerText")
        assert "Authorization: Basic" in curl, curl
    finally:
        b.close()
        stop(proc)
