"""WiFi setup from a phone, then your app (docs/wifi-setup.md).

On the Pico W:  copy this file as main.py (with _port.py). The first boot opens the access
                point mfa-setup-XXXX; join it with a phone, which opens the setup page by
                itself: pick your network, type its password. The page shows the board's new
                address and http://plant.local/; the board then serves this app there. Every
                later boot joins the saved network at once.
On a host:      PORT=8000 DNS_PORT=5353 ./build.sh serve python/examples/wifi_setup.py
                there is no WiFi chip, so a simulated radio stands in (networks "home" and
                "cafe"; "home" takes any password of 8 or more characters); the setup page and
                DNS are real: open http://127.0.0.1:8000/, and `dig @127.0.0.1 -p 5353 x.com`.
"""
from microfastapi import MicroFastApi, wifi

from _port import HOST, PORT

HOSTNAME = "plant"
SETUP_PASSWORD = None   # or 8+ characters: the setup access point then asks for it


class SimulatedRadio:
    """For a host: what PicoRadio does with network.WLAN, without a radio."""

    def mac(self):
        return b"\x28\xcd\xc1\x0a\xb1\xc2"

    def scan(self):
        return [(b"home", b"\x02" * 6, 6, -48, 3, 0), (b"cafe", b"\x03" * 6, 1, -71, 0, 0)]

    def join(self, ssid, password, timeout, hostname=None):
        if ssid == "cafe":
            return "10.1.2.3"
        if ssid != "home":
            raise wifi.WiFiError("WiFi %r: no access point with that SSID in range" % ssid)
        if not password or len(password) < 8:
            raise wifi.WiFiError("WiFi %r: wrong password" % ssid)
        return "192.168.1.50"

    def start_ap(self, ssid, password):
        print("setup access point %r (simulated): open http://127.0.0.1:%d/" % (ssid, PORT))
        return "127.0.0.1"

    def stop_ap(self):
        pass


app = MicroFastApi()
joined = {"ip": None}


@app.get("/")
def index(req):
    return {"hello": "from %s.local" % HOSTNAME, "ip": joined["ip"]}


def main():
    try:
        import network  # noqa: F401 - the Pico W: the real radio (wifi.setup's default)
        radio, host, dns_port, linger = None, HOST, 53, 30
    except ImportError:
        import os
        radio, host, linger = SimulatedRadio(), "127.0.0.1", 1
        dns_port = int(os.getenv("DNS_PORT") or 5353)
    joined["ip"] = wifi.setup(hostname=HOSTNAME, ap_password=SETUP_PASSWORD, radio=radio,
                              host=host, port=PORT, dns_port=dns_port, linger=linger)
    print("on WiFi as", joined["ip"])
    app.run(host, PORT)


if __name__ == "__main__":
    main()
