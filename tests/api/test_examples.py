"""The examples in python/examples, in-process on CPython and inside both unix binaries (which
also runs the shipped TestClient under MicroPython)."""
import os
import subprocess
import sys

from api_util import PYDIR, ROOT

EXAMPLES = ROOT / "python" / "examples"
sys.path.insert(0, str(EXAMPLES))

CHECK = r"""
import sys
from microfastapi.testclient import TestClient
import hello, streaming, pico_sensor_relay, slow_sensor
c = TestClient(hello.app)
assert c.get("/items/3?q=x").json() == {"item_id": 3, "q": "x"}
assert c.post("/items/3", json={"name": "n"}).status_code == 201
assert c.get("/items/3").json() == {"name": "n"}
assert c.delete("/items/3").json() == {"deleted": 3}
assert c.delete("/items/3").status_code == 404
assert c.get("/items/x").status_code == 422
s = TestClient(streaming.app)
assert s.get("/count?n=3").text == "0\n1\n2\n"
assert b"Streaming responses" in s.get("/self").content
p = TestClient(pico_sensor_relay.app)
assert "simulated" in p.get("/board").json()["board"]
assert p.put("/relay/1/on").json() == {"relay": 1, "on": True}
assert p.get("/relay").json() == {"1": True, "2": False}
assert p.put("/relay/9/on").status_code == 404
assert p.put("/relay/1/maybe").status_code == 422
assert isinstance(p.get("/temperature").json()["celsius"], float)
w = TestClient(slow_sensor.app)
assert w.get("/reading").json() == {"celsius": 21.5}
assert w.get("/live?n=2").text == "21.5\n21.5\n"
assert w.get("/live?n=0").status_code == 400
assert "data: " in s.get("/events?n=2").text
r = p.put("/secure/relay/2/on")
assert r.status_code == 401 and r.headers.get("www-authenticate") == 'Basic realm="pico relay", Bearer'
assert p.get("/relay/2").json()["on"] is False
import binascii
auth = {"Authorization": "Basic " + binascii.b2a_base64(b"admin:change-me").decode().strip()}
assert p.put("/secure/relay/2/on", headers=auth).json() == {"relay": 2, "on": True, "by": "admin"}
tok = {"Authorization": "Bearer change-this-token"}
assert p.put("/secure/relay/2/off", headers=tok).json() == {"relay": 2, "on": False, "by": "home-automation"}
assert p.put("/secure/relay/2/on", headers={"Authorization": "Bearer nope"}).status_code == 401
assert p.get("/relay/2").json()["on"] is False
import dashboard
d = TestClient(dashboard.app)
assert "Pico dashboard" in d.get("/").text and "new WebSocket" in d.get("/").text
with d.websocket_connect("/ws") as ws:
    first = ws.receive_json()
    assert isinstance(first["celsius"], float) and first["relay"] is False
    ws.send_text('{"relay": true}')
    assert ws.receive_json()["relay"] is True
    ws.send_text("not json")            # ignored
    dashboard.readings.publish(dashboard.reading())
    assert ws.receive_json()["relay"] is True
    assert d.put("/relay/false").json() == {"relay": False}
    assert ws.receive_json()["relay"] is False
assert d.put("/relay/maybe").status_code == 400
import uploads
u = TestClient(uploads.app)
content = b"line 1\r\n--boundary-like\r\n" + bytes(range(256))
r = u.post("/upload", files={"file": ("../../etc/my notes.txt", content, "text/plain")})
assert r.json() == {"saved": [{"name": "my notes.txt", "size": len(content)}]}, r.json()
assert u.get("/list").json() == [{"name": "my notes.txt", "size": len(content)}]
assert u.get("/files/my%20notes.txt").content == content
assert "my notes.txt" in u.get("/").text
r = u.post("/api/files", files={"file": ("x.bin", b"\x00" * 3000)}, data={"name": "y.bin"})
assert r.status_code == 201 and r.json()["size"] == 3000, r.json()
assert u.post("/api/files", data={"name": "z"}).status_code == 422
rb = u.get("/openapi.json").json()["paths"]["/api/files"]["post"]["requestBody"]
assert rb["content"]["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
assert sorted(n["name"] for n in u.get("/list").json()) == ["my notes.txt", "y.bin"]
print("EXAMPLES OK")
"""


def test_examples_cpython(tmp_path, monkeypatch):
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path))  # (python/examples/uploads.py's files)
    sys.modules.pop("uploads", None)
    ns = {}
    exec(CHECK, ns)


def test_examples_micropython(unix_binary, tmp_path):
    env = dict(os.environ, MICROPYPATH="%s:%s:.frozen" % (PYDIR, EXAMPLES),
               UPLOAD_DIR=str(tmp_path))
    out = subprocess.run([str(unix_binary), "-c", CHECK], env=env, capture_output=True,
                         text=True, timeout=60, cwd=str(EXAMPLES))
    assert out.returncode == 0 and "EXAMPLES OK" in out.stdout, out.stdout + out.stderr
