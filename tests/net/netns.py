"""A private network namespace with one TUN device, for talking to the emulated chip.

    with NetNS() as ns:                      # root only; see NetNS.available()
        tun_fd = ns.open_tun()               # the host end: raw IPv4 packets (IFF_TUN|IFF_NO_PI)
        ns.run(["ping", "-c1", ns.peer])     # a command inside the namespace
        sock = ns.call(socket.create_connection, (ns.peer, 80))   # a socket made inside it

Addresses (192.168.7.1 here, 192.168.7.2 the chip) exist only inside the namespace: nothing is
routed to or from the machine's real interfaces, and the namespace (with its TUN device) is
deleted on exit, also when the test fails. Namespaces left by a killed run are removed by the
next one (their names carry the owning pid).
"""
import ctypes
import fcntl
import os
import shutil
import struct
import subprocess
import threading

__all__ = ["NetNS", "NetNSUnavailable"]

_PREFIX = "mfa-emu-"
_CLONE_NEWNET = 0x40000000
_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000

_libc = ctypes.CDLL(None, use_errno=True)


class NetNSUnavailable(RuntimeError):
    pass


def _setns(fd):
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


def _ip(*args, ns=None, check=True):
    cmd = ["ip"] + (["-n", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stderr.strip()))
    return r


def _cleanup_stale():
    r = _ip("netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(_PREFIX):
            continue
        try:
            pid = int(name[len(_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if not os.path.exists("/proc/%d" % pid):
            _ip("netns", "del", name, check=False)


class NetNS:
    _count = 0

    def __init__(self, host="192.168.7.1", peer="192.168.7.2", tun="sl0", mtu=1500, rto_min_ms=1000):
        self.host, self.peer, self.tun, self.mtu = host, peer, tun, mtu
        self.rto_min_ms = rto_min_ms
        NetNS._count += 1
        self.name = "%s%d-%d" % (_PREFIX, os.getpid(), NetNS._count)
        self._fd = None
        self._created = False

    @staticmethod
    def available():
        """None when namespaces can be used here, else the reason why not."""
        if os.geteuid() != 0:
            return "needs root (ip netns, /dev/net/tun)"
        if not shutil.which("ip"):
            return "needs iproute2 (ip)"
        if not os.path.exists("/dev/net/tun"):
            return "needs /dev/net/tun"
        return None

    def __enter__(self):
        why = self.available()
        if why:
            raise NetNSUnavailable(why)
        _cleanup_stale()
        _ip("netns", "add", self.name)
        self._created = True
        try:
            _ip("link", "set", "lo", "up", ns=self.name)
            # An emulated chip runs 20-40x slower than real time, but the host's SYN retries
            # run on the wall clock: the default 6 (about 2 minutes) can be about 3 s on the
            # chip, less than its busy pcbs need to free up. 10 retries wait about 17 minutes.
            self.run(["sysctl", "-qw", "net.ipv4.tcp_syn_retries=10"], check=True)
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
        if self._created:
            self._created = False
            _ip("netns", "del", self.name, check=False)

    # -- inside the namespace ----------------------------------------------------------------

    def call(self, fn, *args, **kw):
        """Run fn(*args, **kw) in a thread that has joined the namespace; return its result.

        Sockets created there belong to the namespace and keep working from any thread.
        """
        box = {}

        def body():
            try:
                with open("/run/netns/" + self.name) as f:
                    _setns(f.fileno())
                box["value"] = fn(*args, **kw)
            except BaseException as exc:  # handed to the caller
                box["error"] = exc

        t = threading.Thread(target=body, name="netns-" + self.name)
        t.start()
        t.join()
        if "error" in box:
            raise box["error"]
        return box["value"]

    def run(self, cmd, **kw):
        """subprocess.run(cmd) inside the namespace (text output captured by default)."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(["ip", "netns", "exec", self.name] + list(cmd), **kw)

    def python(self, code, *args, timeout=120, **kw):
        """Run Python `code` with the arguments `args` (sys.argv[1:]) in a fresh interpreter
        inside the namespace (repo root on sys.path, for tests.support); return the
        CompletedProcess. The way to run a Python client against the chip."""
        import sys
        from tests.support import script
        return self.run([sys.executable, "-c", script(code)] + [str(a) for a in args],
                        timeout=timeout, **kw)

    def popen(self, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name] + list(cmd), **kw)

    def open_tun(self):
        """Create the TUN device inside the namespace, address it, bring it up; return its fd.

        The device lives as long as the fd (closed by close()).
        """
        def make():
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
            try:
                fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", self.tun.encode(), _IFF_TUN | _IFF_NO_PI))
            except OSError:
                os.close(fd)
                raise
            return fd

        self._fd = self.call(make)
        # Only IPv4 on the link: no router solicitations or MLD reports for the chip to chew on.
        self.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % self.tun])
        _ip("link", "set", self.tun, "mtu", str(self.mtu), ns=self.name)
        _ip("addr", "add", self.host, "peer", self.peer + "/32", "dev", self.tun, ns=self.name)
        _ip("link", "set", self.tun, "up", ns=self.name)
        if self.rto_min_ms:
            # The chip runs ~20x slower than real time, so its ACKs come late in wall time; a
            # higher minimum RTO keeps the host from flooding the slow link with retransmits.
            _ip("route", "replace", self.peer, "dev", self.tun, "src", self.host, "rto_min",
                "%dms" % self.rto_min_ms, ns=self.name)
        return self._fd


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def icmp_ping(addr, count=1, timeout=5.0, payload=b"microfastapi-ping"):
    """ICMP echo to `addr` with a raw socket (root); returns a list of round-trip times in
    seconds, None for each lost reply. Call it inside a namespace: ns.call(icmp_ping, addr)."""
    import socket
    import time
    ident = os.getpid() & 0xFFFF
    rtts = []
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        for seq in range(1, count + 1):
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
            pkt = struct.pack("!BBHHH", 8, 0, _checksum(hdr + payload), ident, seq) + payload
            t0 = time.monotonic()
            s.sendto(pkt, (addr, 0))
            rtt = None
            while time.monotonic() - t0 < timeout:
                s.settimeout(max(0.01, timeout - (time.monotonic() - t0)))
                try:
                    data, src = s.recvfrom(65536)
                except socket.timeout:
                    break
                ihl = (data[0] & 0x0F) * 4
                typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if src[0] == addr and typ == 0 and rid == ident and rseq == seq:
                    if data[ihl + 8:] != payload:
                        raise AssertionError("echo reply payload differs")
                    rtt = time.monotonic() - t0
                    break
            rtts.append(rtt)
    return rtts
