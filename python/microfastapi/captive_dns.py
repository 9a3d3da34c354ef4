"""A catch-all DNS responder for the WiFi setup access point (microfastapi.wifi_setup).

    dns = CaptiveDNS("192.168.4.1")        # every A query answered with this address
    asyncio.create_task(dns.serve())       # beside `await app.serve()`; dns.stop() ends it

A phone that joins the setup access point asks DNS for its connectivity-check host
(connectivitycheck.gstatic.com, captive.apple.com, www.msftconnecttest.com); the answer sends it
to the board, whose HTTP server answers the probe so that the phone opens the setup page.

`answer(packet, ip)` is the whole protocol, a pure function (RFC 1035 4.1):
- a query (QR=0, opcode 0) with exactly one question, class IN or ANY: type A or ANY gets one
  A record with `ip` (TTL `TTL`); any other type (AAAA, MX, HTTPS, ...) NOERROR with no records,
  so a client falls back to A instead of waiting for a timeout;
- another opcode (status, notify, update): NOTIMP, header only;
- zero or several questions, a name with a compression pointer (a question has nothing to
  point back to; never followed, so no loop), a reserved label type, a name over 255 bytes,
  another class: FORMERR, header only;
- shorter than a header, a response (QR=1), or a question cut short: None (no answer).
Answers are never longer than the question plus 16 bytes, and anything after the question
(EDNS records, garbage, huge counts) is never read, so a spoofed source gains no
amplification. Nothing in a packet can raise: every read is bounds-checked.
"""

try:
    import socket
except ImportError:  # pragma: no cover
    import usocket as socket

from . import log

TTL = 10  # seconds: short, so that phones ask again once the board is on the real network
MAX_PACKET = 512  # RFC 1035's UDP limit; longer datagrams are read cut short (and FORMERR)

_A, _AAAA, _ANY, _IN = 1, 28, 255, 1
_NOERROR, _FORMERR, _NOTIMP = 0, 1, 4


def _header(pkt, rcode, qd, an):
    """A response header for query `pkt`: its id, QR=1, its opcode, AA, its RD, `rcode`."""
    flags = 0x8400 | (pkt[2] & 0x79) << 8 | rcode  # opcode (0x78) and RD (0x01) of the query
    return bytes((pkt[0], pkt[1], flags >> 8, flags & 0xFF, 0, qd, 0, an, 0, 0, 0, 0))


def _question_end(pkt):
    """The offset just past the first question's QTYPE/QCLASS, -1 when the name is malformed
    (FORMERR), None when the packet ends inside the question (no answer)."""
    i = 12
    n = len(pkt)
    while True:
        if i >= n:
            return None
        ln = pkt[i]
        if ln == 0:
            i += 1
            break
        if ln & 0xC0:  # 0xC0 a pointer, 0x40/0x80 reserved label types
            return -1
        i += 1 + ln
        if i - 12 > 254:  # RFC 1035 2.3.4: a name is at most 255 bytes, its final 0 included
            return -1
    if i + 4 > n:
        return None
    return i + 4


def answer(pkt, ip):
    """The response to the DNS packet `pkt` (bytes), or None when there is none to send.
    `ip`: the address every A query gets, as a dotted str."""
    if len(pkt) < 12 or pkt[2] & 0x80:
        return None  # not even a header, or a response (a reflection loop if answered)
    if pkt[2] & 0x78:
        return _header(pkt, _NOTIMP, 0, 0)
    if pkt[4] != 0 or pkt[5] != 1:
        return _header(pkt, _FORMERR, 0, 0)
    end = _question_end(pkt)
    if end is None:
        return None
    if end < 0:
        return _header(pkt, _FORMERR, 0, 0)
    qtype = pkt[end - 4] << 8 | pkt[end - 3]
    qclass = pkt[end - 2] << 8 | pkt[end - 1]
    if qclass != _IN and qclass != _ANY:
        return _header(pkt, _FORMERR, 0, 0)
    question = pkt[12:end]
    if qtype != _A and qtype != _ANY:
        return _header(pkt, _NOERROR, 1, 0) + question
    addr = bytes(int(x) for x in ip.split("."))
    # The name as a pointer to the question (offset 12), type A, class IN, TTL, 4 bytes.
    rr = b"\xc0\x0c\x00\x01\x00\x01" + TTL.to_bytes(4, "big") + b"\x00\x04" + addr
    return _header(pkt, _NOERROR, 1, 1) + question + rr


class CaptiveDNS:
    """A UDP server on `host`:`port` answering every A query with `ip` (see answer()).

    `serve()` is a coroutine for the event loop (it waits in asyncio's poller); `stop()` ends
    it within `_STOP_CHECK_MS`. `port`: 53 on the board; tests use a high port on 127.0.0.1.
    `answered`, `ignored`: counters, for tests and for a status page."""

    _STOP_CHECK_MS = 250

    def __init__(self, ip, host="0.0.0.0", port=53):
        self.ip = ip
        self.host = host
        self.port = port
        self.sock = None
        self.answered = self.ignored = 0
        self._stopping = False

    def start(self):
        """Open the socket (non-blocking); `serve()` does it when not done yet."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        except (AttributeError, OSError):
            pass
        s.bind(socket.getaddrinfo(self.host, self.port)[0][-1])
        s.setblocking(False)
        self.sock = s
        if self.port == 0:
            try:
                self.port = s.getsockname()[1]  # (CPython; MicroPython has no getsockname)
            except AttributeError:
                pass
        return s

    def poll(self):
        """Answer the datagrams waiting now (never blocks). The number answered."""
        n = 0
        while True:
            try:
                pkt, addr = self.sock.recvfrom(MAX_PACKET)
            except OSError:  # EAGAIN: nothing waiting (or an ICMP error from a past send)
                return n
            try:
                out = answer(pkt, self.ip)
                if out is None:
                    self.ignored += 1
                    continue
                self.sock.sendto(out, addr)
                self.answered += 1
                n += 1
            except Exception as e:  # noqa: BLE001 - one bad datagram must not end the server
                self.ignored += 1
                log.info("captive DNS: %r from %r", e, addr)

    async def serve(self):
        """Answer queries until stop()."""
        from .app import _wait_readable
        if self.sock is None:
            self.start()
        self._stopping = False
        try:
            while not self._stopping:
                await _wait_readable(self.sock, self._STOP_CHECK_MS)
                self.poll()
        finally:
            self.close()

    def stop(self):
        self._stopping = True

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
