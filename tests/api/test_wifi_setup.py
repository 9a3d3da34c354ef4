"""WiFi setup from a phone (microfastapi/wifi_setup.py, issue 16) through the real HTTP server
on CPython and both unix builds: tests/api/wifi_setup_app.py runs wifi.setup() with a scripted
radio (the one stand-in: no WiFi chip on a host) in a fresh directory. A real HTTP client
(requests) answers the captive-portal probes, reads the setup page, submits the form (bad
input, a wrong password, the right one), sees the new address and name.local, and setup()
returns; the credentials are in ./.wifi.json and StaticFiles over that directory refuses them;
the next boot joins with them without an access point. DNS from the same process: dnspython.
Headless Chromium submits the form once (unix)."""
import json
import subprocess
import time

import dns.message
import dns.query
import pytest
import requests

from api_util import HERE, HTTP_BACKENDS, unix_binary
from tests.support import app_argv, free_port, wait_listening
from test_captive_dns import _udp_port

from microfastapi import wifi_setup
from microfastapi.staticfiles import StaticFiles
from microfastapi.testclient import TestClient


class Setup:
    """wifi_setup_app.py on one backend, in directory `cwd`."""

    def __init__(self, request, backend, cwd, mode="fresh"):
        self.port, self.dns_port = free_port(), _udp_port()
        argv, env = app_argv(backend, HERE / "wifi_setup_app.py",
                             unix_binary(request, backend), [HERE])
        self.proc = subprocess.Popen(argv + [str(self.port), str(self.dns_port), mode], env=env,
                                     cwd=str(cwd), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        why = wait_listening(self.proc, self.port)
        assert why is None, why + "\n" + self.proc.stdout.read()
        self.base = "http://127.0.0.1:%d" % self.port
        self.lines = []

    def get(self, path, **kw):
        return requests.get(self.base + path, allow_redirects=False, timeout=10, **kw)

    def post(self, path, **kw):
        return requests.post(self.base + path, allow_redirects=False, timeout=30, **kw)

    def wait_line(self, prefix, timeout=15):
        """The first output line starting with `prefix` (reading on until it comes)."""
        deadline = time.time() + timeout
        for ln in self.lines:
            if ln.startswith(prefix):
                return ln
        while time.time() < deadline:
            ln = self.proc.stdout.readline()
            if not ln:
                break
            self.lines.append(ln.rstrip("\n"))
            if ln.startswith(prefix):
                return ln.rstrip("\n")
        raise AssertionError("no %r line:\n%s" % (prefix, "\n".join(self.lines)))

    def stop(self):
        self.proc.kill()
        self.proc.wait(5)
        self.proc.stdout.close()


PROBES = {"/generate_204": "connectivitycheck.gstatic.com",
          "/hotspot-detect.html": "captive.apple.com",
          "/ncsi.txt": "www.msftncsi.com", "/connecttest.txt": "www.msftconnecttest.com",
          "/canonical.html": "detectportal.firefox.com"}


@pytest.mark.parametrize("backend", HTTP_BACKENDS)
def test_setup_from_a_phone_then_later_boots(request, backend, tmp_path):
    s = Setup(request, backend, tmp_path)
    try:
        page = s.base + "/"
        assert s.wait_line("@@radio start_ap") == "@@radio start_ap mfa-setup-B1C2 None"
        # the probes, at their own hosts and at the board's: a redirect to the setup page
        for path, host in PROBES.items():
            for h in (host, "127.0.0.1:%d" % s.port):
                r = s.get(path, headers={"Host": h})
                assert r.status_code == 302 and r.headers["location"] == page, (path, h, r)
        r = s.get("/some/page?x=1", headers={"Host": "example.com"})
        assert r.status_code == 302 and r.headers["location"] == page
        assert s.get("/", headers={"Host": "neverssl.com"}).headers["location"] == page
        assert s.get("/anything").headers["location"] == page
        # DNS from the same process: every A query is the board (127.0.0.1 here)
        q = dns.message.make_query("connectivitycheck.gstatic.com", "A")
        a = dns.query.udp(q, "127.0.0.1", port=s.dns_port, timeout=5)
        assert [str(x[0]) for x in a.answer] == ["127.0.0.1"]
        # the setup page: the networks, strongest first, one per name, escaped, no hidden ones
        r = s.get("/")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        t = r.text
        assert t.index('data-ssid="home"') < t.index("neighbour"), t
        assert t.count('data-ssid="home"') == 1 and "-50 dBm, locked" in t
        assert "<img" not in t and "&lt;img src=x onerror=alert(1)&gt;" in t
        assert t.count("data-ssid=") == 3 and 'data-ssid=""' not in t
        assert "<form method=post action=/connect>" in t
        assert s.get("/status").json() == {"ap": "mfa-setup-B1C2", "ssid": None, "ip": None,
                                           "url": None}
        # bad input: 400 with the reason; nothing joined, nothing saved
        for form, why in (({"ssid": "", "password": "x" * 8}, "1 to 32 bytes"),
                          ({"ssid": "x" * 33, "password": ""}, "1 to 32 bytes"),
                          ({"ssid": "home", "password": "short"}, "8 to 63 characters"),
                          ({"ssid": "home", "password": "p" * 64}, "8 to 63 characters")):
            r = s.post("/connect", data=form)
            assert r.status_code == 400 and why in r.text, (form, r.status_code, r.text)
        assert s.post("/connect", data=b"ssid=%zz", headers={
            "Content-Type": "application/x-www-form-urlencoded"}).status_code == 400
        # a wrong password: the form again, with the reason and the SSID kept
        r = s.post("/connect", data={"ssid": "home", "password": "wrong-password"})
        assert r.status_code == 200 and "Could not join home: wrong password" in r.text
        assert 'value="home"' in r.text
        assert not (tmp_path / ".wifi.json").exists()
        # the right one: the new address and name.local, then setup() returns
        r = s.post("/connect", data={"ssid": "home", "password": "correct-horse"})
        assert r.status_code == 200, r.text
        assert "<b id=ip>192.168.1.77</b>" in r.text
        assert "http://192.168.1.77/" in r.text and "http://plant.local/" in r.text
        assert s.get("/status").json()["url"] == ["http://192.168.1.77/", "http://plant.local/"]
        assert s.wait_line("@@setup") == "@@setup 192.168.1.77"
        assert "@@radio stop_ap" in s.lines
        assert s.wait_line("@@saved") == "@@saved ('home', 'correct-horse')"
        assert json.loads((tmp_path / ".wifi.json").read_text()) == {
            "ssid": "home", "password": "correct-horse"}
        joins = [ln for ln in s.lines if ln.startswith("@@radio join")]
        assert joins == ["@@radio join home wrong-password plant",
                         "@@radio join home correct-horse plant"]
        # the app after setup serves this directory: never the credentials
        wait_listening(s.proc, s.port)
        (tmp_path / "note.txt").write_text("hello")
        for _ in range(50):  # (the setup server has closed; the files app binds the port)
            try:
                if s.get("/files/note.txt").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        assert s.get("/files/note.txt").text == "hello"
        for p in ("/files/.wifi.json", "/files/%2ewifi.json", "/files/.wifi.json.tmp",
                  "/files/./.wifi.json"):
            assert s.get(p).status_code == 404, p
    finally:
        s.stop()
    # the next boot: the saved network, no access point
    s = Setup(request, backend, tmp_path, mode="fresh")
    try:
        assert s.wait_line("@@setup") == "@@setup 192.168.1.77"
        assert [ln for ln in s.lines if ln.startswith("@@radio")] == [
            "@@radio join home correct-horse plant"]
    finally:
        s.stop()


def test_saved_network_gone_starts_setup(request, tmp_path):
    """Joining with the saved credentials fails (the router moved): the access point opens."""
    (tmp_path / ".wifi.json").write_text('{"ssid": "home", "password": "correct-horse"}')
    s = Setup(request, "unix", tmp_path, mode="moved")
    try:
        assert s.wait_line("@@radio join") == "@@radio join home correct-horse plant"
        assert s.wait_line("@@radio start_ap") == "@@radio start_ap mfa-setup-B1C2 None"
        assert s.get("/").status_code == 200
    finally:
        s.stop()


def test_setup_page_in_a_browser(request, chromium, tmp_path):
    """Headless Chromium: a tap on the network fills the name, the form is submitted, the
    answer shows the new address; the hostile SSID stayed text."""
    from cdp import Browser
    s = Setup(request, "unix", tmp_path)
    br = Browser(chromium, str(tmp_path / "profile"))
    try:
        br.attach_page()
        br.send("Page.navigate", url=s.base + "/generate_204")  # as a phone would start
        br.wait_js("document.readyState == 'complete' && !!document.getElementById('ssid')")
        assert br.js("location.href") == s.base + "/"
        assert br.js("document.querySelectorAll('img').length") == 0
        br.js("document.querySelector('[data-ssid=\"home\"]').click()")
        assert br.js("document.getElementById('ssid').value") == "home"
        br.js("document.getElementById('password').value = 'correct-horse';"
              "document.getElementById('join').click()")
        assert br.wait_js("document.getElementById('ip') && "
                          "document.getElementById('ip').textContent") == "192.168.1.77"
        assert "http://plant.local/" in br.js("document.body.innerHTML")
        assert s.wait_line("@@setup") == "@@setup 192.168.1.77"
    finally:
        br.close()
        s.stop()


# ---- the parts, in-process (CPython) --------------------------------------------------------

def test_networks_and_checks():
    scan = [(b"a", b"", 1, -70, 0, 0), (b"a", b"", 1, -40, 4, 0), (b"b", b"", 1, -60, 3, 0),
            (b"", b"", 1, -1, 0, 0), (b"h", b"", 1, -1, 0, 2), (b"\xff", b"", 1, -1, 0, 0),
            ("short",)]
    # (the Pico W puts a count of sightings in the sixth field: "h" is seen twice, not hidden)
    assert wifi_setup.networks(scan) == [("h", -1, False), ("a", -40, True), ("b", -60, True)]
    assert wifi_setup.ap_name(b"\x00\x10\x18\x00\x00\x02") == "mfa-setup-0002"
    ok = wifi_setup.check_credentials
    assert ok("home", None) is None and ok("home", "12345678") is None
    assert ok("h" * 32, "a" * 63) is None and ok("home", "0a" * 32) is None
    assert ok("é" * 17, None) and ok("home", "1234567") and ok("home", "z" * 64)


def test_credential_store(tmp_path):
    path = str(tmp_path / "creds.json")   # a name StaticFiles would serve: protect() refuses it
    st = wifi_setup.CredentialStore(path)
    assert st.load() is None
    st.save("home", "pw-12345")
    assert st.load() == ("home", "pw-12345")
    st.save("open-net", None)
    assert st.load() == ("open-net", None)
    c = TestClient(_files_app(tmp_path))
    (tmp_path / "other.json").write_text("{}")
    assert c.get("/f/other.json").status_code == 200
    assert c.get("/f/creds.json").status_code == 404 and c.get("/f/CREDS.JSON").status_code == 404
    for bad in ("not json", "[]", '{"password": "x"}', '{"ssid": ""}', '{"ssid": 5}',
                '{"ssid": "a", "password": 5}'):
        (tmp_path / "creds.json").write_text(bad)
        assert st.load() is None, bad
    # a power cut between save()'s two steps: the temporary file is read (and never served)
    (tmp_path / "creds.json").unlink()
    (tmp_path / "creds.json.tmp").write_text('{"ssid": "new", "password": null}')
    assert st.load() == ("new", None)
    assert c.get("/f/creds.json.tmp").status_code == 404
    st.clear()
    assert not (tmp_path / "creds.json").exists() and not (tmp_path / "creds.json.tmp").exists()
    st.clear()  # (nothing to remove: no error)


def _files_app(d):
    from microfastapi import MicroFastApi
    app = MicroFastApi()
    app.mount("/f", StaticFiles(directory=str(d)))
    return app


def test_example_on_unix(request, tmp_path):
    """python/examples/wifi_setup.py on the unix build (its simulated radio): setup, then the
    app at the same port; the next start goes straight to the app."""
    examples = HERE.parent.parent / "python" / "examples"
    argv, env = app_argv("unix", examples / "wifi_setup.py", unix_binary(request, "unix"),
                         [examples])
    for boot in (1, 2):
        port, dns_port = free_port(), _udp_port()
        env.update(PORT=str(port), DNS_PORT=str(dns_port))
        proc = subprocess.Popen(argv, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            assert wait_listening(proc, port) is None
            base = "http://127.0.0.1:%d/" % port
            if boot == 1:
                t = requests.get(base, timeout=10).text
                assert 'data-ssid="home"' in t and 'data-ssid="cafe"' in t
                a = dns.query.udp(dns.message.make_query("captive.apple.com", "A"), "127.0.0.1",
                                  port=dns_port, timeout=5)
                assert str(a.answer[0][0]) == "127.0.0.1"
                r = requests.post(base + "connect", data={"ssid": "home", "password": "1234567"},
                                  timeout=10)
                assert r.status_code == 400
                r = requests.post(base + "connect", data={"ssid": "home",
                                                          "password": "my-home-wifi"}, timeout=10)
                assert "<b id=ip>192.168.1.50</b>" in r.text and "http://plant.local/" in r.text
                deadline = time.time() + 10
                while True:  # setup lingers 1 s, then the app takes the port
                    try:
                        r = requests.get(base, timeout=5)
                        if r.headers["content-type"].startswith("application/json"):
                            break
                    except requests.ConnectionError:
                        pass
                    assert time.time() < deadline, "the app did not follow setup"
                    time.sleep(0.1)
            else:
                r = requests.get(base, timeout=10)
            assert r.json() == {"hello": "from plant.local", "ip": "192.168.1.50"}
        finally:
            proc.kill()
            out = proc.communicate(timeout=5)[0]
        assert "on WiFi as 192.168.1.50" in out, out
        assert ("setup access point 'mfa-setup-B1C2'" in out) == (boot == 1), out
