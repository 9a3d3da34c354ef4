"""The example in docs/security.md, run as written (on CPython and inside both unix MicroPython
binaries), then driven with the TestClient."""
import os
import subprocess
import sys

import pytest

from api_util import HERE, PYDIR, ROOT

DOC = ROOT / "docs" / "security.md"

CHECKS = r'''
import binascii
from microfastapi.testclient import TestClient

def b64(s):
    return binascii.b2a_base64(s.encode()).decode().strip()

c = TestClient(app, cookies=False)
ADMIN = {"Authorization": "Basic " + b64("admin:change-me")}
TOKEN = {"Authorization": "Bearer a-long-random-token"}
assert c.get("/pump").json() == {"on": False}
r = c.put("/pump/on")
assert r.status_code == 401 and r.headers.get("www-authenticate") == 'Basic realm="garden", Bearer'
assert c.put("/pump/on", headers=ADMIN).json() == {"on": True, "by": "admin"}
assert c.put("/pump/off", headers=TOKEN).json() == {"on": False, "by": "home-automation"}
assert c.post("/admin/reboot", headers=ADMIN).json() == {"rebooting": True}
r = c.post("/admin/reboot", headers=TOKEN)
assert r.status_code == 403 and r.json() == {"detail": "Only admin may do this"}
assert c.get("/log", headers={"X-API-Key": "another-random-key"}).json() == {"for": "cron", "lines": []}
assert c.get("/log").status_code == 403
form = {"Content-Type": "application/x-www-form-urlencoded"}
for i in range(5):
    assert c.post("/login", content="user=admin&password=guess", headers=form).status_code == 401
r = c.post("/login", content="user=admin&password=change-me", headers=form)
assert r.status_code == 429 and r.headers.get("retry-after") == "60"
class Client:  # the TestClient's address, as a request would carry it
    client = ("testclient", 50000)
login_throttle.ok(Client())  # (an admin lifting the lockout by hand)
r = c.post("/login", content="user=admin&password=change-me", headers=form)
assert r.json() == {"logged_in": "admin"}
cookie = r.headers.get("set-cookie").split(";")[0]
same = {"Cookie": cookie, "Origin": "http://testserver"}
assert c.post("/water", headers=same).json() == {"watering": True, "by": "admin"}
r = c.post("/water", headers={"Cookie": cookie, "Origin": "http://evil.example"})
assert r.status_code == 403 and r.json()["detail"].startswith("CSRF check failed")
assert c.post("/water").status_code == 403
r = c.post("/logout", headers=same)
assert "Max-Age=0" in r.headers.get("set-cookie")
from microfastapi.openapi import openapi
doc = openapi(app)
assert doc["paths"]["/pump/{state}"]["put"]["security"] == [{"HTTPBasic": []}, {"HTTPBearer": []}]
print("DOC EXAMPLE OK")
'''


def example():
    text = DOC.read_text()
    start = text.index("```python\n", text.index("## An example")) + len("```python\n")
    return text[start:text.index("```\n", start)]


@pytest.fixture
def script(tmp_path):
    p = tmp_path / "doc_example.py"
    p.write_text(example() + CHECKS)
    return p


def test_doc_example_cpython(script):
    env = dict(os.environ, PYTHONPATH=str(PYDIR))
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                         timeout=60)
    assert "DOC EXAMPLE OK" in out.stdout, out.stdout + out.stderr


def test_doc_example_micropython(unix_binary, script):
    env = dict(os.environ, MICROPYPATH="%s:.frozen" % PYDIR)
    out = subprocess.run([str(unix_binary), str(script)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert "DOC EXAMPLE OK" in out.stdout, out.stdout + out.stderr
