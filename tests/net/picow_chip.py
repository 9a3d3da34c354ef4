"""The emulated Pico W as a process of its own, inside a test's network namespace.

    ip netns exec NS python -m tests.net.picow_chip UF2 --outer-netns INODE

Started by tests/net/picow_net.py (`PicoW`), never by hand. It
1. refuses to run unless it is in another network namespace than its parent (INODE is the
   parent's /proc/self/ns/net inode) and dies with its parent (PR_SET_PDEATHSIG);
2. creates the TAP device `wl0` there (10.0.0.1/24, the emulated access point's gateway, with
   the MAC address rp2040py's DHCP answers carry), a route with a raised rto_min (the emulated
   chip answers tens of times slower than real time), and checks that the namespace has no
   other interface and no default route;
3. boots the image on rp2040py's `pico_w` board with our WifiBridge on that TAP device
   (tests/emu/wifi_bridge.py; the stock NAT bridge is never constructed);
4. serves the Emulator's methods to the parent as JSON lines: requests on stdin, answers on the
   stdout it had at start (the emulator's own prints go to stderr). EOF on stdin ends it.

So nothing the chip sends can reach an address outside the namespace: our bridge passes only
frames for 10.0.0.0/24 to the TAP device (the rest is dropped and recorded), and even a bridge that
did relay would find nothing but `lo` and `wl0` to send to.
"""
import argparse
import ctypes
import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import traceback

_TUNSETIFF = 0x400454CA
_IFF_TAP = 0x0002
_IFF_NO_PI = 0x1000
_PR_SET_PDEATHSIG = 1
TAP = "wl0"


def _sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


def open_tap(gateway, mac, rto_min_ms, chip, chip_mac, mtu=1500):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", TAP.encode(), _IFF_TAP | _IFF_NO_PI))
    _sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % TAP)
    _sh("ip", "link", "set", TAP, "address", mac, "mtu", str(mtu))
    _sh("ip", "addr", "add", gateway + "/24", "dev", TAP)
    _sh("ip", "link", "set", TAP, "up")
    _sh("ip", "route", "replace", "10.0.0.0/24", "dev", TAP, "proto", "kernel", "scope", "link",
        "src", gateway, "rto_min", "%dms" % rto_min_ms)
    # The chip's address resolved for good: the kernel's ARP gives up after about 3 s of wall
    # time, which a loaded machine's emulated chip can take to answer (connects then failed
    # with "No route to host"). The chip still resolves the gateway by ARP itself.
    _sh("ip", "neigh", "replace", chip, "lladdr", chip_mac, "dev", TAP, "nud", "permanent")
    return fd


def check_isolated(outer_inode):
    """Refuse to run anywhere but in a namespace of our own with nothing but lo and the TAP."""
    if os.stat("/proc/self/ns/net").st_ino == outer_inode:
        raise SystemExit("picow_chip: not inside a network namespace of its own: refusing to run")
    links = sorted(line.split(":")[1].strip().split("@")[0]
                   for line in _sh("ip", "-o", "link", "show").splitlines())
    if links != sorted(["lo", TAP]):
        raise SystemExit("picow_chip: unexpected interfaces in the namespace: %s" % links)
    routes = _sh("ip", "-4", "route", "show") + _sh("ip", "-6", "route", "show")
    if "default" in routes:
        raise SystemExit("picow_chip: the namespace has a default route: refusing to run")


def _error(exc):
    d = {"exc": type(exc).__name__, "msg": str(exc)}
    for k in ("stdout", "stderr", "output"):
        if hasattr(exc, k):
            d[k] = getattr(exc, k)
    return d


def _tap(bridge, on):
    log, bridge.log = bridge.log, ([] if on else None)
    return [(t, c, p, f, head.decode("latin-1"), n, seq)
            for t, c, p, f, head, n, seq in (log or [])]


def serve(emu, reply):
    for line in sys.stdin:
        req = json.loads(line)
        op, args, kw = req["op"], req.get("args", []), req.get("kw", {})
        try:
            if op == "sim_ns":
                value = emu.sim_ns
            elif op == "wifi":
                value = emu.call(lambda: {"stats": dict(emu.wifi.stats),
                                          "dropped": list(emu.wifi.dropped)})
            elif op == "tap":  # TCP frame log on (args [True]) or off, returning it
                value = emu.call(_tap, emu.wifi, args[0])
            elif op == "attr":
                value = getattr(emu, args[0])
            elif op == "info":
                value = {"boot_wall_s": emu.boot_wall_s, "boot_sim_ms": emu.boot_sim_ms,
                         "board": emu.board, "bridge": type(emu.wifi).__name__,
                         "nat_bridge": type(emu.wifi.bus.nat_bridge).__name__}
            elif op in ("run", "soft_reset", "hard_reset", "start_script", "start_main", "output",
                        "wait_for_output", "interrupt"):
                value = getattr(emu, op)(*args, **kw)
            elif op == "close":
                reply({"ok": None})
                return
            else:
                raise ValueError("unknown op %r" % op)
        except Exception as exc:
            reply(_error(exc))
            continue
        reply({"ok": value})


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("uf2")
    ap.add_argument("--outer-netns", type=int, required=True)
    ap.add_argument("--rto-min-ms", type=int, default=1000)
    a = ap.parse_args(argv)
    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent is already gone
        return 1
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever else prints goes to the log, not into the answers

    def reply(d):
        out.write(json.dumps(d) + "\n")
        out.flush()

    from tests.emu.emulator import Emulator
    from tests.emu.wifi_bridge import CHIP, CHIP_MAC, GATEWAY, GATEWAY_MAC
    mac = lambda b: ":".join("%02x" % x for x in b)  # noqa: E731
    try:
        fd = open_tap(GATEWAY, mac(GATEWAY_MAC), a.rto_min_ms, CHIP, mac(CHIP_MAC))
        check_isolated(a.outer_netns)
        emu = Emulator(a.uf2, board="pico_w", tap_fd=fd, pause_when_idle=False).start()
    except BaseException as exc:
        traceback.print_exc()
        reply(_error(exc) if isinstance(exc, Exception) else {"exc": "SystemExit", "msg": str(exc)})
        return 1
    reply({"ok": "ready"})
    try:
        serve(emu, reply)
    finally:
        emu.close()
        os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
