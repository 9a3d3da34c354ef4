"""The setup access point's catch-all DNS responder (microfastapi/captive_dns.py): a real UDP
server on 127.0.0.1, on CPython and both unix builds, asked by a real DNS client (dnspython)
and sent malformed packets built by hand (truncated, compression loops, huge counts, other
opcodes, garbage). Every A query gets the board's address; nothing a client sends stops it."""
import random
import socket
import struct
import subprocess

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from api_util import HERE, unix_binary
from tests.support import app_argv

from microfastapi.captive_dns import answer

BOARD = "192.168.4.1"
NAMES = ("connectivitycheck.gstatic.com", "captive.apple.com", "www.msftconnecttest.com",
         "example.com")


def _udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module", params=["cpython", "unix", "unix-pure"])
def dns_server(request):
    """(backend, port) of captive_dns_app.py, started once per backend."""
    port = _udp_port()
    argv, env = app_argv(request.param, HERE / "captive_dns_app.py",
                         unix_binary(request, request.param), [HERE])
    proc = subprocess.Popen(argv + [str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", line + proc.stdout.read()
        yield request.param, port, proc
    finally:
        proc.kill()
        proc.wait(5)
        proc.stdout.close()


def _ask(port, name, rdtype, **kw):
    q = dns.message.make_query(name, rdtype, **kw)
    return q, dns.query.udp(q, "127.0.0.1", port=port, timeout=5)


def test_every_a_query_gets_the_board(dns_server):
    _, port, _ = dns_server
    for name in NAMES:
        q, r = _ask(port, name, "A")
        assert r.id == q.id and r.rcode() == dns.rcode.NOERROR
        assert r.flags & dns.flags.QR and r.flags & dns.flags.AA
        assert r.flags & dns.flags.RD  # copied from the query
        assert [str(x) for x in r.answer] == ["%s. 10 IN A %s" % (name, BOARD)]
        assert r.question == q.question
    # ANY is answered as A; EDNS in the query (an OPT record) is ignored, not an error
    assert [str(x) for x in _ask(port, "a.b", "ANY")[1].answer] == ["a.b. 10 IN A " + BOARD]
    assert str(_ask(port, "a.b", "A", use_edns=0)[1].answer[0][0]) == BOARD


def test_other_types_get_no_records(dns_server):
    """AAAA (phones ask it beside A), MX, HTTPS: NOERROR and no answer, so the client goes on
    with the A record instead of waiting for a timeout."""
    _, port, _ = dns_server
    for t in ("AAAA", "MX", "HTTPS", "TXT"):
        q, r = _ask(port, "captive.apple.com", t)
        assert r.rcode() == dns.rcode.NOERROR and r.answer == [], (t, r)
        assert r.question == q.question


def _q(name=b"\x07example\x03com\x00", qtype=1, qclass=1, ident=0x1234, flags=0x0100,
       counts=(1, 0, 0, 0)):
    return struct.pack("!HHHHHH", ident, flags, *counts) + name + struct.pack("!HH", qtype,
                                                                               qclass)


HEADER_ONLY = "header only"
# (name, packet, what comes back: None (nothing), or (rcode, "header only"))
MALFORMED = [
    ("empty", b"", None),
    ("shorter than a header", b"\x12\x34\x01\x00\x00\x01\x00", None),
    ("header, no question", _q()[:12], None),
    ("question cut in the name", _q()[:17], None),
    ("question cut in type/class", _q()[:-1], None),
    ("a response (QR=1)", _q(flags=0x8180), None),
    ("compression pointer loop", _q(name=b"\xc0\x0c"), (dns.rcode.FORMERR, HEADER_ONLY)),
    ("pointer forward", _q(name=b"\x01a\xc0\x40"), (dns.rcode.FORMERR, HEADER_ONLY)),
    ("reserved label type 0x40", _q(name=b"\x41" + b"a" * 65 + b"\x00"),
     (dns.rcode.FORMERR, HEADER_ONLY)),
    ("name over 255 bytes", _q(name=(b"\x3f" + b"a" * 63) * 5 + b"\x00"),
     (dns.rcode.FORMERR, HEADER_ONLY)),
    ("name of 256 bytes", _q(name=(b"\x3f" + b"a" * 63) * 3 + b"\x3e" + b"a" * 62 + b"\x00"),
     (dns.rcode.FORMERR, HEADER_ONLY)),
    ("label runs past the end", _q(name=b"\x3fabc"), None),
    ("qdcount 65535", _q(counts=(65535, 65535, 65535, 65535)), (dns.rcode.FORMERR, HEADER_ONLY)),
    ("qdcount 0", _q(counts=(0, 0, 0, 0)), (dns.rcode.FORMERR, HEADER_ONLY)),
    ("qdcount 2", _q(counts=(2, 0, 0, 0)), (dns.rcode.FORMERR, HEADER_ONLY)),
    ("class CH", _q(qclass=3), (dns.rcode.FORMERR, HEADER_ONLY)),
    ("opcode STATUS", _q(flags=2 << 11), (dns.rcode.NOTIMP, HEADER_ONLY)),
    ("opcode NOTIFY", _q(flags=4 << 11), (dns.rcode.NOTIMP, HEADER_ONLY)),
    ("opcode UPDATE", _q(flags=5 << 11), (dns.rcode.NOTIMP, HEADER_ONLY)),
    ("IQUERY with huge counts", _q(flags=1 << 11, counts=(65535,) * 4),
     (dns.rcode.NOTIMP, HEADER_ONLY)),
]


def _check(got, want, pkt, name):
    if want is None:
        assert got is None, name
        return
    rcode, _ = want
    assert got is not None and len(got) == 12, (name, got)
    m = dns.message.from_wire(got)
    assert m.id == struct.unpack("!H", pkt[:2])[0] and m.flags & dns.flags.QR, name
    assert m.rcode() == rcode and m.question == [] and m.answer == [], (name, m)
    assert dns.opcode.from_flags(m.flags) == (pkt[2] >> 3) & 15, name


def test_malformed_in_process():
    """answer() itself (CPython), case by case."""
    longest = (b"\x3f" + b"a" * 63) * 3 + b"\x3d" + b"a" * 61 + b"\x00"  # 255 bytes: valid
    assert dns.message.from_wire(answer(_q(name=longest), BOARD)).answer[0][0].address == BOARD
    for name, pkt, want in MALFORMED:
        _check(answer(pkt, BOARD), want, pkt, name)
    # and random damage to a valid query: never raises, never answers more than it was asked
    rnd = random.Random(16)
    base = _q()
    for _ in range(3000):
        b = bytearray(base)
        for _ in range(rnd.randrange(1, 6)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        b = bytes(b[:rnd.randrange(len(b) + 1)]) if rnd.random() < 0.3 else bytes(b)
        out = answer(b, BOARD)
        assert out is None or len(out) <= len(b) + 16


def test_malformed_over_udp_then_still_answering(dns_server):
    """The same cases sent to the server, each followed by a good query on the same socket:
    the first datagram back is the case's answer (or, for a case with none, the good query's),
    so the test never waits for an answer that should not come."""
    backend, port, proc = dns_server
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    try:
        for i, (name, pkt, want) in enumerate(MALFORMED):
            good = dns.message.make_query("after-%d.test" % i, "A")
            s.sendto(pkt, ("127.0.0.1", port))
            s.sendto(good.to_wire(), ("127.0.0.1", port))
            first = s.recv(1024)
            if want is not None:
                _check(first, want, pkt, name)
                first = s.recv(1024)
            r = dns.message.from_wire(first)
            assert r.id == good.id and str(r.answer[0][0]) == BOARD, (name, r)
        # a datagram over 512 bytes, then 300 random ones: still answering
        s.sendto(_q(name=(b"\x3f" + b"a" * 63) * 12 + b"\x00"), ("127.0.0.1", port))
        assert dns.message.from_wire(s.recv(1024)).rcode() == dns.rcode.FORMERR
        rnd = random.Random(53)
        for _ in range(300):
            s.sendto(bytes(rnd.randrange(256) for _ in range(rnd.randrange(60))),
                     ("127.0.0.1", port))
        s.settimeout(0.3)
        try:
            while True:
                s.recv(1024)  # the FORMERR/NOTIMP answers some of them got
        except socket.timeout:
            pass
    finally:
        s.close()
    assert proc.poll() is None, backend
    assert str(_ask(port, "still.there", "A")[1].answer[0][0]) == BOARD
