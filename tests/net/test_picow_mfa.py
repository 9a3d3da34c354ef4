"""MFA_PICO_W on emulated WiFi: the cases in tests/net/picow_cases.py, on one chip joined once."""
import json
import time

from tests.emu.wifi_bridge import CHIP_MAC
from tests.net.picow_cases import *  # noqa: F401,F403 - the test functions
from tests.net import attack_cases, upload_cases, ws_cases
from tests.net.picow_cases import _curl, _stopped, pico_fixture
from tests.net.picow_net import SSID

pico = pico_fixture("firmware_w_mfa", "MFA_PICO_W")


def test_pool_held_by_attackers_serves_a_real_client(pico):
    """Issue 15's pool attack on the product (pyserver's is in test_emu_attack.py)."""
    try:
        attack_cases.pool_attack(pico, "mfa", requests=10, hold=0.5)
    finally:
        _stopped(pico)


def test_websocket_over_wifi(pico):
    """Issue 13 on the product: tests/net/ws_cases.py (echo, 100 round trips, a client that
    vanishes mid-message frees its slot, 1002 for an unmasked frame). The pure twin runs the
    same cases over SLIP (test_ws_slip.py), not here too: 80 s of CI's time."""
    try:
        ws_cases.run(pico, "MFA_PICO_W", start_timeout=600)
    finally:
        _stopped(pico)


def test_upload_to_flash_over_wifi(pico):
    """Issue 14 on the product: tests/net/upload_cases.py (256 KB multipart upload saved to
    the chip's flash in pieces, byte-identical, the heap within a few KB of idle)."""
    try:
        upload_cases.run(pico, "MFA_PICO_W", start_timeout=600)
    finally:
        _stopped(pico)


def test_guide_board_programs(pico):
    """The user guide's Pico W programs (```python board blocks, tests/guide_blocks.py) as they
    are on the page: each joins WiFi (at once: the chip is joined already), serves, prints the
    URL and answers GET / with 200."""
    from tests.guide_blocks import board_programs
    from tests.net.picow_cases import _curl
    programs = board_programs()
    assert programs
    for page, code in programs:
        try:
            banner = pico.start_app(code, ready="http://", timeout=300)
            assert "http://10.0.0.2/" in banner, (page, banner)
            status, body = _curl(pico, pico.url("/"))
            assert status == 200, (page, status, body)
            print("\n%s: its Pico W program serves: GET / -> %d %s" % (page, status, body[:60]))
        finally:
            _stopped(pico)


# The setup portal on the chip (docs/wifi-setup.md): PicoRadio's real scan and join, the
# credentials saved on the chip's flash, DNS and the setup page served over WiFi. The access point
# itself is left off: no client can join the emulated one (the doc's last section says why), and
# turning it on and off costs over a minute of wall time on the emulator, so the portal runs at
# the station's address here. Its hostname is the one the sensor example gave the chip: another
# would rename the mDNS responder, and the mDNS case below would wait minutes for its probes.
WIFI_SETUP_APP = r"""
from microfastapi.wifi_setup import SetupPortal, PicoRadio, CredentialStore, networks, ap_name
class StationOnly(PicoRadio):
    def start_ap(self, ssid, password):
        return self.sta.ifconfig()[0]
    def stop_ap(self):
        pass
store = CredentialStore()
store.clear()
radio = StationOnly()
print("@@nets", networks(radio.scan()))
p = SetupPortal(radio, store, ap_name(radio.mac()), hostname="pico-relay", linger=0.05)
import asyncio
print("@@setup", asyncio.run(p.serve()))
"""

DNS_CLIENT = r"""
import sys, dns.message, dns.query
q = dns.message.make_query("connectivitycheck.gstatic.com", "A")
print(dns.query.udp(q, sys.argv[1], port=53, timeout=60).answer[0][0])
"""


def test_wifi_setup_on_the_chip(pico):
    t0 = time.monotonic()
    out = pico.start_app(WIFI_SETUP_APP, ready="listening on")
    try:
        assert "@@nets [('%s', -87, False)]" % SSID in out, out
        marks = [("started", time.monotonic() - t0)]
        r = pico.ns.python(DNS_CLIENT, pico.addr, timeout=120)
        assert r.returncode == 0 and r.stdout.strip() == pico.addr, r.stdout + r.stderr
        code, body = _curl(pico, "-D", "-", "-H", "Host: connectivitycheck.gstatic.com",
                           pico.url("/generate_204"))
        assert code == 302 and "Location: http://%s/" % pico.addr in body, body
        code, body = _curl(pico, pico.url("/"))
        assert code == 200 and 'data-ssid="%s"' % SSID in body, body
        code, body = _curl(pico, "-d", "ssid=%s&password=any-password" % SSID,
                           pico.url("/connect"))
        assert code == 200 and "<b id=ip>10.0.0.2</b>" in body and "pico-relay.local" in body, body
        marks.append(("answered", time.monotonic() - t0))
        # (setup() returning after `linger` is tested on the unix builds: here its last
        # second of simulated time, the shutdown's waits, would cost 15 s of wall time)
        _stopped(pico)
        # the saved network: wifi.connect() with no arguments joins it after a disconnect
        t1 = time.monotonic()
        got = pico.run("import network, time\nfrom microfastapi import wifi\n"
                       "print(open('.wifi.json').read())\n"
                       "w = network.WLAN(network.STA_IF)\nw.disconnect()\n"
                       "while w.isconnected():\n    time.sleep_ms(10)\n"
                       "print('@@joined', wifi.connect(timeout=60))\n", timeout=300)
        assert '"ssid": "%s"' % SSID in got and "@@joined 10.0.0.2" in got, got
        print("\nMFA_PICO_W: setup portal %s s wall; rejoin with the saved network %.1f s"
              % (" ".join("%s %.1f" % m for m in marks), time.monotonic() - t1))
    finally:
        _stopped(pico)
        pico.run("from microfastapi.wifi_setup import CredentialStore\n"
                 "CredentialStore().clear()\n")


# In the namespace: tests/net/mdns_query.py's one-shot query, sent to the mDNS group by the TAP
# device's address (the chip answers by unicast: see there).
MDNS_QUERY = "from tests.net.mdns_query import main\nmain()\n"
RELAY_NAME = "pico-relay"  # python/examples/pico_sensor_relay.py's HOSTNAME


def _mdns(pico, name, wait):
    r = pico.ns.python(MDNS_QUERY, name, "--via", pico.host_ip, "--wait", wait, timeout=wait + 60)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


def test_hostname_local_over_mdns_and_print_app(pico):
    """Issue 16's name.local, last in this file on purpose. The chip joined as mfa-picow (the
    firmware's default name); test_sensor_relay_example_as_main_py ran the example, whose
    wifi.connect(hostname="pico-relay") on the joined chip renamed lwIP's mDNS responder
    (_mfa.mdns_rename). The responder probes for a new name for about a second of the chip's
    time before it answers, 100-250 s of wall time here (the emulated chip ran 100x or more
    slower than real time on a loaded machine): the cases in between give it that time. Then a
    real query from the namespace for pico-relay.local gets the chip's address, mfa-picow.local
    is not answered any more, and print(app) shows both URLs, the IP and the MAC. Run alone
    (-k), this case renames first and waits the probing out."""
    old = "mfa-picow"
    mac = ":".join("%02x" % b for b in CHIP_MAC)
    if pico.run("import network\nprint(network.hostname())").strip() != RELAY_NAME:
        got = _mdns(pico, old + ".local", 300)
        assert got["addrs"] == [pico.ip], got
        pico.run("from microfastapi import wifi\nwifi.connect(%r, 'x', hostname=%r)"
                 % (SSID, RELAY_NAME))
    banner = pico.run("from microfastapi import MicroFastApi\n_a = MicroFastApi()\n"
                      "_a.host, _a.port = '0.0.0.0', 80\nprint(_a)\ndel _a").strip()
    assert banner.endswith(", http://10.0.0.2/ or http://%s.local/ (WiFi: IP 10.0.0.2, MAC %s)"
                           % (RELAY_NAME, mac)), banner
    new = _mdns(pico, RELAY_NAME + ".local", 300)
    assert new["addrs"] == [pico.ip], (new, pico.wifi()["stats"])
    # How long an answer takes once the name is the responder's (the first may have waited for
    # the probes): the old name gets four times that to show it is not answered.
    again = _mdns(pico, RELAY_NAME + ".local", 60)
    assert again["addrs"] == [pico.ip], again
    gone = _mdns(pico, old + ".local", max(4.0, 4 * again["rtt_s"]))
    assert gone["addrs"] == [], gone
    print("\nMFA_PICO_W mDNS: %s.local answered in %.1f s wall (then in %.1f s), "
          "%s.local no more" % (RELAY_NAME, new["rtt_s"], again["rtt_s"], old))
