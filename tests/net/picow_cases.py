"""The Pico W over emulated WiFi: the cases both firmwares run (tests/net/test_picow_mfa.py with
MFA_PICO_W, test_picow_pure.py with MFA_PICO_W-pure; one file each so the two pytest workers
run them side by side).

Every module that imports these provides a module-scoped `pico` fixture: one PicoW
(tests/net/picow_net.py) joined to WiFi once, shared by the cases in file order, because joining
costs about a minute of wall time (the CYW43439 firmware goes over the emulated SPI bus). Each
case starts its own app and stops it at the end, so a failing case leaves the next a clean REPL.
Clients run in separate processes inside the namespace (see tests/net/conftest.py on why).
"""
import json
import os
import pathlib
import re
import sys
import time

import pytest

from tests.emu.emulator import put_file
from tests.emu.wifi_bridge import CHIP_MAC
from tests.net import attack_cases
from tests.net.netns import NetNS
from tests.net.picow_net import SSID, PicoW
from tests.net.test_emu_hostile import (DOWNUP_CLIENT, HOSTILE, HOSTILE_APP_PRE, corpus_exchange,
                                        downup_app, serving_again, _get, _settled,
                                        pick_cases)
from tests.net.test_slip_http import APP as HTTP_APP, check_app, curl

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "python" / "examples"


def pico_fixture(firmware_fixture, fw):
    """The module-scoped `pico` fixture of a file that runs these cases: the firmware from the
    fixture named `firmware_fixture`, joined to WiFi once; `fw` names it in the output."""
    @pytest.fixture(scope="module")
    def pico(request):
        why = NetNS.available()
        if why:
            pytest.skip("Pico W WiFi tests " + why)
        with PicoW(request.getfixturevalue(firmware_fixture)) as chip:
            chip.fw = fw
            yield chip
    return pico


# Room for an emulated Pico W on a busy machine (a request took over 120 s of wall time at
# load 11).
CURL_MAX_S = 600


def _curl(pico, *args):
    """test_slip_http's curl with CURL_MAX_S: (status, body)."""
    return curl(pico, *args, max_time=CURL_MAX_S)


def _stopped(pico):
    """Stop the running app (if any), then a soft reset: its server object (still listening on
    port 80 until collected) goes with the heap, and the next case starts clean. WiFi stays
    joined across a soft reset, as on the board."""
    try:
        pico.stop_app(timeout=30)
    except Exception:  # noqa: BLE001 - nothing running, or it already ended
        pass
    pico.emu.soft_reset(timeout=300)


# ---- joined, and what it says about itself ---------------------------------------------------

def test_wifi_connect_returns_the_address(pico):
    assert pico.ip == "10.0.0.2"
    out = pico.run("import sys, gc\nprint(sys.implementation._build)\n"
                   "from microfastapi import MicroFastApi\n_a = MicroFastApi()\n"
                   "_a.host, _a.port = '0.0.0.0', 80\nprint(_a)\ndel _a\ngc.collect()\n"
                   "print(gc.mem_free())")
    build, banner, free = out.strip().splitlines()
    assert build == pico.fw.upper()
    # On WiFi also the name mDNS answers for (network.hostname(): tests/net/test_picow_mfa.py
    # queries it), the IP and the chip's MAC address.
    mac = ":".join("%02x" % b for b in CHIP_MAC)
    assert re.search(r", http://10\.0\.0\.2/ or http://[a-z0-9-]+\.local/ "
                     r"\(WiFi: IP 10\.0\.0\.2, MAC %s\)$" % mac, banner), banner
    backend = "backend: _mfa" if pico.fw == "MFA_PICO_W" else "backend: pure"
    assert backend in banner, banner
    print("\n%s: joined in %.1f s wall (%.0f ms simulated); %s; free heap %s"
          % (pico.fw, pico.connect_wall_s, pico.connect_sim_ms, banner, free))


def test_nothing_leaves_the_namespace(pico):
    """The stock NAT bridge is not there, the chip process is in the namespace, and a datagram
    the chip sends to an outside address is dropped and recorded by our bridge."""
    assert pico.info["nat_bridge"] == "WifiBridge"
    ours = os.stat("/proc/self/ns/net").st_ino
    assert os.stat("/proc/%d/ns/net" % pico.proc.pid).st_ino != ours
    before = pico.wifi()["stats"]["dropped"]
    # 8.8.8.8 twice, 50 ms apart: lwIP keeps only the newest packet while it resolves the
    # gateway's MAC address, so the first datagram may be replaced before it is sent. (Short
    # sleeps: an idle emulated Pico W runs about 20x slower than real time.)
    pico.run("import socket, time\n_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "for _a in (('8.8.8.8', 53), ('8.8.8.8', 53), ('192.0.2.9', 9)):\n"
             "    _s.sendto(b'must not leave', _a)\n"
             "    time.sleep_ms(50)\n"
             "_s.close()\n", timeout=300)
    w = pico.wifi()
    outside = [d for d in w["dropped"] if d.get("dst") in ("8.8.8.8", "192.0.2.9")]
    assert {(d["dst"], d["proto"], d["dport"]) for d in outside} == {
        ("8.8.8.8", 17, 53), ("192.0.2.9", 17, 9)}, w["dropped"]
    assert all(d["why"].startswith("outside") for d in outside)
    assert w["stats"]["dropped"] >= before + 2


# ---- HTTP ------------------------------------------------------------------------------------

def test_app_over_wifi(pico):
    banner = pico.start_app(HTTP_APP, ready="http://")
    try:
        assert "http://10.0.0.2/" in banner, banner
        check_app(pico, "picow", max_time=CURL_MAX_S)
    finally:
        _stopped(pico)


def test_sensor_relay_example_as_main_py(pico):
    """python/examples/pico_sensor_relay.py booted as main.py (a soft reset from the friendly
    REPL runs it, as at power-up): it joins WiFi with its own SSID/password and serves."""
    put_file(pico, "_port.py", (EXAMPLES / "_port.py").read_bytes())
    put_file(pico, "main.py", (EXAMPLES / "pico_sensor_relay.py").read_bytes())
    try:
        pico.emu.start_main()
        out = pico.emu.wait_for_output("http://", timeout=600)
        assert "WiFi address: 10.0.0.2" in out, out
        code, body = _curl(pico, pico.url("/board"))
        assert code == 200 and json.loads(body) == {
            "board": "Raspberry Pi Pico W (machine)", "relays": [1, 2]}, body
        code, body = _curl(pico, pico.url("/temperature"))
        assert code == 200 and isinstance(json.loads(body)["celsius"], float), body
        code, body = _curl(pico, "-X", "PUT", pico.url("/relay/1/on"))
        assert code == 200 and json.loads(body) == {"relay": 1, "on": True}, body
        code, body = _curl(pico, pico.url("/relay"))
        assert code == 200 and json.loads(body) == {"1": True, "2": False}, body
        code, body = _curl(pico, "-X", "PUT", pico.url("/relay/3/on"))
        assert code == 404, body
    finally:
        _stopped(pico)
        pico.run("import os\nfor _n in ('main.py', '_port.py'):\n    os.remove(_n)")


HOSTILE_SRC = (HOSTILE / "hostile_app.py").read_text().replace('HOST = "127.0.0.1"',
                                                               'HOST = "0.0.0.0"')

# In the namespace: N connections at once, each sends a request with Connection: close.
FLOOD = r"""
import json, sys, threading
from tests.support import get_close
addr, n = sys.argv[1], int(sys.argv[2])
res = [None] * n
barrier = threading.Barrier(n)
def client(i):
    try:
        barrier.wait(30)
        data = get_close((addr, 80), "/", timeout=300)
        res[i] = int(data.split()[1]) if data else "closed"
    except ConnectionResetError:
        res[i] = "reset"
    except Exception as e:
        res[i] = repr(e)
ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
[t.start() for t in ts]
[t.join(120) for t in ts]
print(json.dumps(res))
"""


def test_hostile_subset_and_pool_flood(pico):
    pico.start_app(HOSTILE_APP_PRE + HOSTILE_SRC, ready="listening")
    try:
        for path in ("/", "/_debug", "/nope", "/raise"):  # warm-up: lazy caches filled
            _get(pico, path)
        base = _settled(pico)
        cases = pick_cases()[::3]  # a third of MFA_PICO's subset: WiFi is slower to emulate
        got, bad = corpus_exchange(pico, cases)
        assert not bad, "\n".join(bad) + "\nchip:\n" + pico.emu.output()[-2000:]
        # More connections than the pool (max_conns=8), all at once.
        r = pico.ns.python(FLOOD, pico.addr, 16, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        res = json.loads(r.stdout)
        # Beyond the pool a client gets 503 or a reset (how many are served at once depends on
        # how fast the emulated chip takes them in); never a hang or another status.
        assert all(x in (200, 503, "reset", "closed") for x in res), res
        assert 200 in res, res
        # Survived: answers, every connection released, the heap where it was.
        status, _, body = _get(pico, "/")
        assert status == 200 and json.loads(body) == {"ok": True}
        after = _settled(pico, tries=20)
        assert after["stats"].get("connections", 0) <= 1, after
        assert after["mem_free"] >= base["mem_free"] - 4096, (base["mem_free"], after["mem_free"])
        print("\n%s: %d corpus cases, then a flood of 16 -> %s; mem_free %d -> %d"
              % (pico.fw, len(cases), {str(x): res.count(x) for x in set(res)},
                 base["mem_free"], after["mem_free"]))
    finally:
        _stopped(pico)


# ---- issue 15's attacks (tests/net/attack_cases.py) ------------------------------------------
# (The pool attack runs on MFA_PICO_W only, in test_picow_mfa.py: pyserver meets it over SLIP in
# test_emu_attack.py, the same code, and it costs minutes of emulation per image.)


def _server_kind(pico):
    """The server mfa_server_app.py runs on this image."""
    return "mfa" if pico.fw == "MFA_PICO_W" else "py"


def test_syn_flood_then_a_real_client(pico):
    try:
        attack_cases.syn_flood(pico, _server_kind(pico))
    finally:
        _stopped(pico)


def test_stray_crlf_after_a_body_on_keep_alive(pico):
    try:
        attack_cases.stray_crlf(pico, _server_kind(pico))
    finally:
        _stopped(pico)


# ---- WiFi lost and back, soft reset -----------------------------------------------------------

# The loop takes WiFi away on request: GET /down?ms=N&how=disconnect|inactive answers, then the
# loop calls wlan.disconnect() (or wlan.active(False)), keeps polling the server for N simulated
# ms, and joins again with wifi.connect(). The app never restarts its server: the listener must
# survive (or come back by itself).
WIFI_DOWNUP_APP = downup_app(
    "wlan = network.WLAN(network.STA_IF)",
    """        if S["how"] == "inactive":
            wlan.active(False)
        else:
            wlan.disconnect()""",
    '        print("rejoined", wifi.connect(%r, "any-password", timeout=60))' % SSID,
    "wifi back", imports=", wifi")


def test_wifi_lost_and_back(pico):
    pico.start_app(WIFI_DOWNUP_APP, ready="listening")
    try:
        _get(pico, "/")
        base = _settled(pico)
        # wlan.disconnect(): the radio stays up. wlan.active(False): the radio is powered off,
        # and wifi.connect() loads its firmware again (another minute of wall time).
        hows = ["disconnect", "inactive"]
        if pico.fw != "MFA_PICO_W":
            # The radio powered off and back is the WiFi driver's and lwIP's business, the same
            # in both images: once, on the product (40 s of CI's time).
            hows = ["disconnect"]
        for cycle, how in enumerate(hows, 1):
            # DOWNUP_CLIENT keeps keep-alive and half-sent requests open across the outage.
            client = DOWNUP_CLIENT.replace('"/down?ms=%s" % sys.argv[2]',
                                           '"/down?ms=%s&how=' + how + '" % sys.argv[2]')
            r = pico.ns.python(client, pico.addr, 300, 0.5, timeout=300)
            assert r.returncode == 0, r.stderr[-3000:] + "\nchip:\n" + pico.emu.output()[-3000:]
            out = pico.emu.wait_for_output("wifi back %d" % cycle, timeout=600)
            assert "rejoined 10.0.0.2" in out, out[-2000:]
            d = serving_again(pico, cycle)
        assert d["mem_free"] >= base["mem_free"] - 4096, (base["mem_free"], d["mem_free"])
        print("\n%s: WiFi %s and back, serving again without a restart; mem_free %d -> %d"
              % (pico.fw, " / ".join(hows), base["mem_free"], d["mem_free"]))
    finally:
        _stopped(pico)


# In the namespace: a keep-alive connection that is left open (the server is reset under it).
HOLD = r"""
import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), timeout=60)
s.sendall(b"GET /hello/x HTTP/1.1\r\nHost: t\r\n\r\n")
print(s.recv(4096).split(b"\r\n")[0].decode(), flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_soft_reset_with_a_live_server_then_run_again(pico):
    import subprocess
    pico.start_app(HTTP_APP, ready="http://")
    hold = pico.ns.popen([sys.executable, "-c", HOLD, pico.addr, "120"], stdout=subprocess.PIPE,
                         text=True)
    try:
        assert hold.stdout.readline().strip() == "HTTP/1.1 200 OK"
        # Answers with Connection: close: the chip closes first, so those connections sit in
        # TIME_WAIT on port 80 (minutes) when the next server binds it.
        for _ in range(2):
            code, _ = _curl(pico, "-H", "Connection: close", pico.url("/hello/close"))
            assert code == 200
        _stopped(pico)  # Ctrl-C, then Ctrl-D
        # WiFi survives a soft reset (as on the board): connect() returns at once.
        t0 = time.monotonic()
        assert pico.run("from microfastapi import wifi\nprint(wifi.connect(%r, 'x'))"
                        % SSID, timeout=300).strip() == "10.0.0.2"
        rejoin = time.monotonic() - t0
        banner = pico.start_app(HTTP_APP, ready="http://")
        assert "http://10.0.0.2/" in banner
        code, body = _curl(pico, pico.url("/hello/again"))
        assert code == 200 and json.loads(body)["hello"] == "again", body
        print("\n%s: soft reset with a client connected, wifi.connect() after it took %.1f s "
              "wall, serving again" % (pico.fw, rejoin))
    finally:
        hold.kill()
        hold.wait()
        _stopped(pico)
