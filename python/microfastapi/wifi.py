"""Pico W WiFi helper.

    from microfastapi.wifi import connect
    ip = connect("my-ssid", "my-password", timeout=15)
    app.run(port=80)

`connect()` with no SSID joins the network saved by WiFi setup from a phone (`setup()`,
microfastapi/wifi_setup.py, docs/wifi-setup.md).

Raises WiFiError with a message that says what went wrong (wrong password, no such network,
timeout, no WiFi on this board) instead of leaving the caller with a silent status number.
"""

try:
    import time
    _sleep_ms = time.sleep_ms
    _ticks_ms = time.ticks_ms
    _ticks_diff = time.ticks_diff
except (ImportError, AttributeError):  # CPython: only useful for the error message
    import time
    _sleep_ms = lambda ms: time.sleep(ms / 1000)  # noqa: E731
    _ticks_ms = lambda: int(time.monotonic() * 1000)  # noqa: E731
    _ticks_diff = lambda a, b: a - b  # noqa: E731


class WiFiError(OSError):
    pass


def _status_text(network, status):
    names = {
        "STAT_IDLE": "idle (not connecting)",
        "STAT_CONNECTING": "still connecting",
        "STAT_WRONG_PASSWORD": "wrong password",
        "STAT_NO_AP_FOUND": "no access point with that SSID in range",
        "STAT_CONNECT_FAIL": "connection failed",
        "STAT_GOT_IP": "connected",
    }
    for attr, text in names.items():
        if getattr(network, attr, object()) == status:
            return text
    if status == -3:
        return "wrong password"  # CYW43_LINK_BADAUTH on rp2
    return "status %r" % (status,)


def _set_hostname(network, hostname):
    """network.hostname(hostname), and the same name for lwIP's mDNS responder. MicroPython
    hands the responder the hostname only when the interface first comes up after power-on
    (the cyw43 driver's CYW43_CB_TCPIP_INIT_EXTRA); it stays up across a soft reset and
    wlan.active(False), so without a rename the board would answer to its old name.local until
    power-off. _mfa.mdns_rename does that on MFA_PICO_W (and renames nothing before the
    interface has first come up); the -pure firmware has no _mfa, and there a new name reaches
    mDNS at the next power-up."""
    # One label for DHCP and "<hostname>.local": letters, digits and '-' not at either end
    # (RFC 1123); MicroPython keeps at most 32 bytes (MICROPY_PY_NETWORK_HOSTNAME_MAX_LEN).
    ok = 0 < len(hostname) <= 32 and hostname[0] != "-" and hostname[-1] != "-"
    for c in hostname:
        if not (c.isalpha() or c.isdigit() or c == "-") or ord(c) > 127:
            ok = False
    if not ok:
        raise ValueError("hostname %r: 1-32 letters, digits or '-' (not first or last)"
                         % (hostname,))
    try:
        old = network.hostname()
        network.hostname(hostname)
    except AttributeError:  # a MicroPython before 1.20: no network.hostname()
        return
    if old != hostname:
        try:
            from _mfa import mdns_rename
        except ImportError:
            return
        mdns_rename(hostname)


def connect(ssid=None, password=None, timeout=15, hostname=None, country=None):
    """Join `ssid` as a station and return the IP address (a str). No `ssid`: the network
    saved by setup() (.wifi.json), WiFiError when there is none.

    timeout: seconds to wait for an address. hostname: the name DHCP sends and mDNS answers
    for, as "<hostname>.local" (set before joining; renamed when already joined).
    country: optional, set before joining.
    """
    if ssid is None:
        from .wifi_setup import CredentialStore
        saved = CredentialStore().load()
        if saved is None:
            raise WiFiError("no SSID given and no saved network: run wifi.setup() once "
                            "(docs/wifi-setup.md)")
        ssid, password = saved
    try:
        import network
    except ImportError:
        raise WiFiError("this MicroPython has no `network` module: not a Pico W firmware "
                        "(on a host, the OS is already on the network; just run the app)")
    if not hasattr(network, "WLAN"):
        raise WiFiError("this board has no WiFi (network.WLAN missing): use a Pico W firmware")
    if country:
        try:
            network.country(country)
        except (AttributeError, ValueError):
            pass
    if hostname is not None:
        _set_hostname(network, hostname)
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if wlan.isconnected():
        return wlan.ifconfig()[0]
    try:
        wlan.config(pm=0xA11140)  # no power save: lower latency for a server
    except (ValueError, TypeError, OSError):
        pass
    if password is None:
        wlan.connect(ssid)
    else:
        wlan.connect(ssid, password)
    t0 = _ticks_ms()
    status = None
    while _ticks_diff(_ticks_ms(), t0) < timeout * 1000:
        if wlan.isconnected():
            return wlan.ifconfig()[0]
        status = wlan.status()
        stat_fail = [getattr(network, n, None) for n in
                     ("STAT_WRONG_PASSWORD", "STAT_NO_AP_FOUND", "STAT_CONNECT_FAIL")]
        if status in stat_fail or (isinstance(status, int) and status < 0):
            wlan.active(False)
            raise WiFiError("WiFi %r: %s" % (ssid, _status_text(network, status)))
        _sleep_ms(200)
    wlan.active(False)
    raise WiFiError("WiFi %r: no address after %ss (%s)" % (ssid, timeout,
                                                          _status_text(network, status)))


def setup(**kw):
    """WiFi setup from a phone: the saved network, else an access point with a setup page
    until one is given. The address joined. See microfastapi.wifi_setup.setup."""
    from .wifi_setup import setup
    return setup(**kw)
