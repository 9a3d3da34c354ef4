"""wifi.setup() with a scripted radio (the one stand-in: there is no WiFi chip on a host), run
by tests/api/test_wifi_setup.py on CPython and both unix builds, in the test's directory (the
credentials file is ./.wifi.json).

    wifi_setup_app.py PORT DNS_PORT [MODE]

MODE "fresh" (default): setup() as on a first boot; "moved": the saved network is gone (every
join fails until setup has run). Every radio call prints "@@radio ...", setup()'s result
"@@setup ...". Then a StaticFiles app over this directory on PORT: the credentials must not be
among the files it serves.
"""
import sys

from microfastapi import MicroFastApi, wifi
from microfastapi.staticfiles import StaticFiles
from microfastapi.wifi import WiFiError
from microfastapi.wifi_setup import CredentialStore


def say(*a):
    print(*a)
    try:
        sys.stdout.flush()
    except AttributeError:
        pass


class ScriptedRadio:
    """scan()/join() answer from a script; start_ap() 'opens' an access point on loopback."""
    HOME, PASSWORD, ADDRESS = "home", "correct-horse", "192.168.1.77"

    def __init__(self, mode):
        self.mode = mode

    def mac(self):
        return b"\x28\xcd\xc1\x0a\xb1\xc2"

    def scan(self):
        say("@@radio scan")
        return [(b"neighbour", b"\x01" * 6, 1, -80, 3, 0),
                (b"home", b"\x02" * 6, 6, -70, 3, 0),
                (b"home", b"\x03" * 6, 11, -50, 3, 0),      # the same SSID, stronger
                (b"<img src=x onerror=alert(1)>", b"\x04" * 6, 1, -60, 0, 0),
                (b"", b"\x05" * 6, 1, -40, 0, 0),           # hidden: no name
                (b"\x00" * 6, b"\x06" * 6, 1, -30, 3, 1)]   # hidden: NULs for a name

    def join(self, ssid, password, timeout, hostname=None):
        say("@@radio join", ssid, password, hostname)
        if self.mode == "moved":
            raise WiFiError("WiFi %r: no access point with that SSID in range" % ssid)
        if ssid != self.HOME:
            raise WiFiError("WiFi %r: no access point with that SSID in range" % ssid)
        if password != self.PASSWORD:
            raise WiFiError("WiFi %r: wrong password" % ssid)
        return self.ADDRESS

    def start_ap(self, ssid, password):
        say("@@radio start_ap", ssid, password)
        self.mode = "fresh"  # (joins work from now on)
        return "127.0.0.1"

    def stop_ap(self):
        say("@@radio stop_ap")


port, dns_port = int(sys.argv[1]), int(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else "fresh"
ip = wifi.setup(radio=ScriptedRadio(mode), hostname="plant", host="127.0.0.1", port=port,
                dns_port=dns_port, linger=0.3)
say("@@setup", ip)
say("@@saved", CredentialStore().load())
files = MicroFastApi()
files.mount("/files", StaticFiles(directory="."))
files.run("127.0.0.1", port)
