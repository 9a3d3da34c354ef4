"""WiFi setup from a phone (docs/wifi-setup.md):

    from microfastapi import wifi
    ip = wifi.setup(hostname="plant")   # saved credentials, else the setup access point
    app.run(port=80)

With no saved credentials (or when joining with them fails, or `force=True`), the board opens an
access point `mfa-setup-XXXX` (the last two bytes of its MAC; `ap_password=` for WPA2), answers
every DNS A query with its own address (captive_dns.py), and serves a setup page: the networks
it sees and a form for SSID and password. Phones open that page by themselves: their
connectivity probes (/generate_204, /hotspot-detect.html, /ncsi.txt, /connecttest.txt, any
other host) are redirected to it. On submit the board joins that network; when it has an
address, the credentials are saved (`CredentialStore`, `.wifi.json` on flash) and the page
shows the new address and `http://<hostname>.local/`; `linger` seconds later the access point
goes down and setup() returns the address. Later boots join with the saved credentials.

The radio is behind `PicoRadio` (network.WLAN), five calls; a host passes an object with the
same methods (tests script one; python/examples/wifi_setup.py has a simulated one).
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json
try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

from . import log
from .wifi import WiFiError

CRED_FILE = ".wifi.json"  # relative: "/.wifi.json" on the board (its working directory is /)
LINGER = 30  # seconds the success page stays reachable before the access point goes down


# ---- the credentials on flash ----------------------------------------------------------------

class CredentialStore:
    """The SSID and password to join, in a JSON file. The name starts with a dot, which
    StaticFiles never serves, and the path is registered with staticfiles.protect(): no mount
    of any directory serves it. It is plain text on flash, as a password written in main.py
    would be: whoever has the board (USB, mpremote) can read it."""

    def __init__(self, path=CRED_FILE):
        self.path = path
        from .staticfiles import protect
        protect(path)
        protect(path + ".tmp")

    def load(self):
        """(ssid, password) (password None for an open network), or None when nothing usable
        is saved (no file, not JSON, no SSID). Without the file, the temporary one of a save
        that a power cut interrupted between its two steps (save())."""
        d = self._read(self.path)
        if d is False:
            d = self._read(self.path + ".tmp")
        try:
            ssid = d["ssid"]
            pw = d.get("password")
        except (KeyError, TypeError, AttributeError):
            return None
        if not isinstance(ssid, str) or not ssid or not (pw is None or isinstance(pw, str)):
            return None
        return ssid, pw

    @staticmethod
    def _read(path):
        """The JSON in `path`; None when it is not JSON, False when there is no such file."""
        try:
            f = open(path)
        except OSError:
            return False
        try:
            return json.loads(f.read())
        except (OSError, ValueError):
            return None
        finally:
            f.close()

    def save(self, ssid, password):
        """Write through a temporary file and rename it, so a power cut leaves the old file or
        the new one, never half of one."""
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps({"ssid": ssid, "password": password}))
        try:
            os.remove(self.path)  # (FAT's rename does not replace)
        except OSError:
            pass
        os.rename(tmp, self.path)

    def clear(self):
        for p in (self.path, self.path + ".tmp"):
            try:
                os.remove(p)
            except OSError:
                pass


# ---- the radio -------------------------------------------------------------------------------

class PicoRadio:
    """The Pico W's network.WLAN, as setup() uses it."""

    def __init__(self):
        try:
            import network
        except ImportError:
            raise WiFiError("this MicroPython has no `network` module: not a Pico W firmware "
                            "(on a host, pass wifi.setup() a radio=; docs/wifi-setup.md)")
        self.network = network
        self.sta = network.WLAN(network.STA_IF)
        self.ap = network.WLAN(network.AP_IF)

    def mac(self):
        return self.sta.config("mac")

    def scan(self):
        """wlan.scan(): (ssid, bssid, channel, rssi, security, hidden) tuples."""
        self.sta.active(True)
        return self.sta.scan()

    def join(self, ssid, password, timeout, hostname=None):
        from .wifi import connect
        return connect(ssid, password, timeout=timeout, hostname=hostname)

    def start_ap(self, ssid, password):
        """Open the access point; its address (192.168.4.1; MicroPython's DHCP server hands
        out the rest of 192.168.4.0/24)."""
        ap = self.ap
        if password:
            ap.config(ssid=ssid, key=password, security=_WPA2_AES_PSK)
        else:
            ap.config(ssid=ssid, security=0)
        ap.active(True)
        return ap.ifconfig()[0]

    def stop_ap(self):
        self.ap.active(False)


_WPA2_AES_PSK = 0x00400004  # CYW43_AUTH_WPA2_AES_PSK


def ap_name(mac, prefix="mfa-setup-"):
    """`prefix` and the last two bytes of `mac` in hex: mfa-setup-A1B2."""
    return prefix + "".join("%02X" % b for b in bytes(mac)[-2:])


def networks(scan):
    """wlan.scan()'s tuples as [(ssid, rssi, secured)], strongest first, one per SSID, those
    without a name (hidden networks) left out. (The sixth field is not read: MicroPython
    documents it as "hidden", but the Pico W's driver puts a count of sightings there.)"""
    best = {}
    for t in scan:
        try:
            name = t[0].decode() if isinstance(t[0], (bytes, bytearray)) else str(t[0])
            rssi = int(t[3])
            secured = bool(t[4])
        except (IndexError, TypeError, ValueError, UnicodeError):
            continue
        if not name or "\0" in name:
            continue
        if name not in best or rssi > best[name][1]:
            best[name] = (name, rssi, secured)
    return sorted(best.values(), key=lambda n: -n[1])


def check_credentials(ssid, password):
    """None when `ssid`/`password` can be joined (802.11: an SSID is 1-32 bytes; a WPA2
    passphrase 8-63 characters or 64 hex digits; empty: an open network), else why not."""
    if not ssid or len(ssid.encode()) > 32:
        return "the network name must be 1 to 32 bytes long"
    if password and not (8 <= len(password) <= 63 or
                         (len(password) == 64 and all(c in "0123456789abcdefABCDEF"
                                                      for c in password))):
        return "a WiFi password is 8 to 63 characters long (or empty for an open network)"
    return None


# ---- the setup pages -------------------------------------------------------------------------

def _esc(s):
    """Text for HTML (SSIDs are chosen by whoever runs a network nearby)."""
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


_STYLE = ("<meta name=viewport content='width=device-width,initial-scale=1'><style>"
          "body{font-family:sans-serif;max-width:28em;margin:1em auto;padding:0 1em}"
          "button,input{font-size:1.1em;width:100%;margin:.3em 0;padding:.4em;"
          "box-sizing:border-box}.n{text-align:left}.e{color:#b00}</style>")

# Connectivity checks (Android, Apple, Windows, Firefox): answered with a redirect to the setup
# page, which is what makes a phone open it. Requests for any other host get the same.
PROBES = ("/generate_204", "/gen_204", "/hotspot-detect.html", "/library/test/success.html",
          "/ncsi.txt", "/connecttest.txt", "/redirect", "/canonical.html", "/success.txt")


class SetupPortal:
    """The setup app (`self.app`, a MicroFastApi) and what it needs: the radio, the store."""

    def __init__(self, radio, store, ap_ssid, hostname=None, timeout=15, linger=LINGER):
        from .app import MicroFastApi
        self.radio = radio
        self.store = store
        self.ap_ssid = ap_ssid
        self.hostname = hostname
        self.timeout = timeout
        self.linger = linger
        self.ip = None        # the access point's address (start())
        self.joined = None    # (ssid, address) once a network is joined
        self._nets = None
        self._port = 80
        self.app = app = MicroFastApi(title="WiFi setup", openapi_url=None)
        app.before_request(self._other_host)
        app.get("/")(self._page)
        app.post("/connect")(self._connect)
        app.get("/status")(self._status)
        for p in PROBES:
            app.get(p)(self._to_page)
        app.get("/{path:path}")(self._to_page)

    def url(self):
        return "http://%s%s/" % (self.ip, "" if self._port == 80 else ":%d" % self._port)

    def _other_host(self, req):
        host = (req.headers.get("host") or "").split(":")[0].lower()
        own = (self.ip, self.hostname and self.hostname.lower() + ".local")
        if host and host not in own:
            return self._to_page(req)
        return None

    def _to_page(self, req, path=None):
        from .response import RedirectResponse
        return RedirectResponse(self.url(), 302)

    def _status(self, req):
        j = self.joined
        return {"ap": self.ap_ssid, "ssid": j and j[0], "ip": j and j[1],
                "url": j and self._urls(j[1])}

    def _urls(self, ip):
        u = ["http://%s/" % ip]
        if self.hostname:
            u.append("http://%s.local/" % self.hostname)
        return u

    def _html(self, body, status=200):
        from .response import HTMLResponse
        return HTMLResponse("<!doctype html><html><head><meta charset=utf-8><title>WiFi setup"
                            "</title>" + _STYLE + "</head><body>" + body + "</body></html>",
                            status)

    def _page(self, req, error=None, ssid="", status=200):
        if self.joined:
            return self._done()
        if self._nets is None or req.query.get("rescan"):
            try:
                self._nets = networks(self.radio.scan())
            except Exception as e:  # noqa: BLE001 - a failed scan still leaves the form
                log.warning("WiFi setup: scan failed: %r", e)
                self._nets = []
        out = ["<h1>WiFi setup</h1><p>Choose the network this board should join.</p>"]
        if error:
            out.append("<p class=e id=error>%s</p>" % _esc(error))
        for name, rssi, secured in self._nets:
            out.append("<button class=n type=button onclick=\"pick(this)\" data-ssid=\"%s\">"
                       "%s <small>(%d dBm%s)</small></button>"
                       % (_esc(name), _esc(name), rssi, ", locked" if secured else ""))
        if not self._nets:
            out.append("<p>No networks found.</p>")
        out.append("<p><a href='/?rescan=1'>Scan again</a></p>"
                   "<form method=post action=/connect>"
                   "<label>Network<input name=ssid id=ssid required maxlength=32 value=\"%s\">"
                   "</label><label>Password<input name=password id=password type=password "
                   "maxlength=64></label><button id=join>Join</button></form>"
                   "<script>function pick(b){document.getElementById('ssid').value="
                   "b.dataset.ssid;document.getElementById('password').focus()}</script>"
                   % _esc(ssid))
        return self._html("".join(out), status)

    def _done(self):
        ssid, ip = self.joined
        links = " or ".join("<a href='%s'>%s</a>" % (u, u) for u in self._urls(ip))
        return self._html("<h1>Connected</h1><p id=done>Joined <b>%s</b>; the board's address "
                          "is <b id=ip>%s</b>.</p><p>This setup network closes in %s s. Join "
                          "<b>%s</b> on your phone again, then open %s.</p>"
                          % (_esc(ssid), ip, self.linger, _esc(ssid), links))

    async def _connect(self, req):
        if self.joined:
            return self._done()
        form = await req.form()
        ssid = form.get("ssid") or ""
        password = form.get("password") or None
        why = check_credentials(ssid, password)
        if why:
            return self._page(req, why, ssid, 400)
        try:
            ip = self.radio.join(ssid, password, self.timeout, self.hostname)
        except (WiFiError, OSError) as e:
            log.info("WiFi setup: joining %r failed: %s", ssid, e)
            return self._page(req, "Could not join %s: %s" % (ssid, _reason(e)), ssid)
        self.store.save(ssid, password)
        self.joined = (ssid, ip)
        log.info("WiFi setup: joined %r as %s; credentials saved", ssid, ip)
        import asyncio
        asyncio.create_task(self._close_later())
        return self._done()

    async def _close_later(self):
        import asyncio
        await asyncio.sleep(self.linger)
        self.app.shutdown()

    async def serve(self, host="0.0.0.0", port=80, dns_port=53, ap_password=None):
        """Open the access point, answer DNS and HTTP until a network is joined (and `linger`
        seconds more); close the access point. The joined address."""
        import asyncio
        from .captive_dns import CaptiveDNS
        self._port = port
        self.ip = self.radio.start_ap(self.ap_ssid, ap_password)
        log.info("WiFi setup: join %r and open %s", self.ap_ssid, self.url())
        dns = CaptiveDNS(self.ip, host, dns_port)
        dns.start()
        task = asyncio.create_task(dns.serve())
        try:
            await self.app.serve(host, port)
        finally:
            dns.stop()
            try:
                await task
            except Exception:  # noqa: BLE001
                pass
            dns.close()
            self.radio.stop_ap()
        return self.joined[1] if self.joined else None


def _reason(e):
    s = str(e)
    return s.split(": ", 1)[1] if s.startswith("WiFi ") and ": " in s else s


def setup(ap_password=None, hostname=None, force=False, timeout=15, linger=LINGER,
          radio=None, store=None, host="0.0.0.0", port=80, dns_port=53, ap_ssid=None):
    """Join WiFi with the saved credentials and return the address; with none (or when
    joining fails, or `force`), run the setup access point until a phone has given working
    ones (see the module docstring). `radio`/`store`: PicoRadio()/CredentialStore() unless
    given (a host passes its own radio; tests a scripted one)."""
    if radio is None:
        radio = PicoRadio()
    if store is None:
        store = CredentialStore()
    saved = None if force else store.load()
    if saved:
        try:
            return radio.join(saved[0], saved[1], timeout, hostname)
        except (WiFiError, OSError) as e:
            log.warning("WiFi: the saved network did not work (%s): starting WiFi setup", e)
    if ap_password and not 8 <= len(ap_password) <= 63:
        raise ValueError("ap_password must be 8 to 63 characters (or None: an open network)")
    portal = SetupPortal(radio, store, ap_ssid or ap_name(radio.mac()), hostname, timeout,
                         linger)
    import asyncio
    return asyncio.run(portal.serve(host, port, dns_port, ap_password))
