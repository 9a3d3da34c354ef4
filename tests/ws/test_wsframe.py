"""WebSocket frames (docs/internals.md, "WebSocket frames"): one table of cases run through
`_mfa` on build/unix/micropython, microfastapi.wsframe on build/unix-pure/micropython and
microfastapi.wsframe on CPython. Each reader case is fed whole, split in two at every byte and
one byte at a time (long ones: random splits), as bytes, bytearray and memoryview; every
implementation must give the same events and errors for every split, and the expected ones.
Frames come from wsproto where it can build them, hand-built bytes for the errors. Then a
differential run: a few hundred random frame sequences, valid and corrupted, through all three.
"""
import base64
import binascii
import hashlib
import json
import random
import struct
import subprocess

import pytest
from wsproto.frame_protocol import FrameProtocol

import ws_cases
from microfastapi import wsframe
from tests.support import run_three, same_on_three, split_count, split_plans

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY = b"\x37\xfa\x21\x3d"
M0 = b"\x00\x00\x00\x00"
E1002 = 1002


# ---- building frames ----------------------------------------------------------------------------

def frame(op, payload=b"", fin=True, mask=KEY, rsv=0, length=None):
    """One frame by hand (independent of ws_frame): masked with `mask` unless it is None; the
    header's length is `length` when given (a frame that lies about its size)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | op
    m = 0 if mask is None else 0x80
    if n < 126:
        h = bytes([b0, m | n])
    elif n < 65536:
        h = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if mask is None:
        return h + payload
    return h + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


def cli(op, payload=b"", fin=True, **kw):
    """A frame as a server sends it (unmasked), for a client-side reader."""
    return frame(op, payload, fin, mask=None, **kw)


def from_client():
    """wsproto as a client: its frames are masked (what a server reads)."""
    return FrameProtocol(client=True, extensions=[])


def from_server():
    return FrameProtocol(client=False, extensions=[])


def wp_fragments(fp, pieces):
    """A message in fragments: send_data for each piece, the last one final."""
    out = b""
    for i, p in enumerate(pieces):
        out += bytes(fp.send_data(p, i == len(pieces) - 1))
    return out


# ---- the case table -----------------------------------------------------------------------------

class Case:
    def __init__(self, name, data, events=(), error=None, client=False, max_message=4096):
        self.name = name
        self.data = bytes(data)
        self.events = list(events)
        self.error = error
        self.client = client
        self.max = max_message


def _payload():
    return bytes((i * 7 + (i >> 8)) & 255 for i in range(65536))


BIG = _payload()
KOSME = "κόσμε".encode()
MIXED = "Hello κόσμε € 𝄞 !".encode()


def reader_cases():
    c = []
    add = c.append
    # RFC 6455 section 5.7, to a client (unmasked) and to a server (masked).
    add(Case("rfc unmasked text", b"\x81\x05Hello", [(1, "Hello")], client=True))
    add(Case("rfc masked text", b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", [(1, "Hello")]))
    add(Case("rfc fragmented text", b"\x01\x03Hel\x80\x02lo", [(1, "Hello")], client=True))
    add(Case("rfc unmasked ping", b"\x89\x05Hello", [(9, b"Hello")], client=True))
    add(Case("rfc masked pong", b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
             [(10, b"Hello")]))
    add(Case("rfc 256 bytes", b"\x82\x7e\x01\x00" + BIG[:256], [(2, BIG[:256])], client=True))
    add(Case("rfc 64 KiB", b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00" + BIG, [(2, BIG)],
             client=True, max_message=65536))

    # wsproto's client frames to a server.
    fp = from_client()
    add(Case("wsproto text", fp.send_data("Hello"), [(1, "Hello")]))
    add(Case("wsproto unicode text", fp.send_data(MIXED.decode()), [(1, MIXED.decode())]))
    add(Case("wsproto binary", fp.send_data(bytes(range(256))), [(2, bytes(range(256)))]))
    add(Case("wsproto ping", fp.ping(b"are you there"), [(9, b"are you there")]))
    add(Case("wsproto pong empty", fp.pong(b""), [(10, b"")]))
    add(Case("wsproto fragments", wp_fragments(from_client(), ["Hel", "lo", ", ", "world"]),
             [(1, "Hello, world")]))
    add(Case("wsproto binary fragments", wp_fragments(from_client(), [b"\x00", b"", b"\xff"]),
             [(2, b"\x00\xff")]))
    add(Case("wsproto 64 KiB masked", from_client().send_data(BIG), [(2, BIG)],
             max_message=65536))
    add(Case("wsproto 64 KiB over max", from_client().send_data(BIG), [],
             (1009, "message too big"), max_message=65535))
    add(Case("wsproto close with reason", from_client().close(1000, "bye"), [(8, 1000, "bye")]))
    add(Case("wsproto close 3000 unicode", from_client().close(3000, "κόσμε"),
             [(8, 3000, "κόσμε")]))
    add(Case("wsproto close empty", from_client().close(), [(8, 1005, "")]))
    fp = from_client()
    add(Case("wsproto conversation",
             fp.send_data("a") + fp.ping(b"1") + fp.send_data(b"b") + fp.pong(b"2")
             + fp.close(1001, "going"),
             [(1, "a"), (9, b"1"), (2, b"b"), (10, b"2"), (8, 1001, "going")]))
    # wsproto's server frames to a client.
    fp = from_server()
    add(Case("wsproto server text", fp.send_data("Hi there"), [(1, "Hi there")], client=True))
    add(Case("wsproto server frames", fp.send_data(b"\x01\x02") + fp.ping(b"") +
             wp_fragments(from_server(), ["κό", "σμε"]) + fp.close(1000),
             [(2, b"\x01\x02"), (9, b""), (1, "κόσμε"), (8, 1000, "")], client=True))
    add(Case("wsproto masked to a client", from_client().send_data("x"), [],
             (E1002, "masked frame"), client=True))
    add(Case("wsproto unmasked to a server", from_server().send_data("x"), [],
             (E1002, "frame not masked")))

    # Events, by hand.
    add(Case("empty text", frame(1), [(1, "")]))
    add(Case("empty binary", frame(2), [(2, b"")]))
    add(Case("empty fragments", frame(1, fin=False) + frame(0, fin=False) + frame(0),
             [(1, "")]))
    add(Case("ping 125", frame(9, b"p" * 125), [(9, b"p" * 125)]))
    add(Case("two messages", frame(1, b"a") + frame(2, b"b"), [(1, "a"), (2, b"b")]))
    add(Case("control frames inside fragments",
             frame(1, b"he", False) + frame(9, b"p") + frame(0, b"l", False) + frame(10)
             + frame(0, b"lo") + frame(9),
             [(9, b"p"), (10, b""), (1, "hello"), (9, b"")]))
    add(Case("utf8 one byte per fragment",
             b"".join(frame(1 if i == 0 else 0, bytes([b]), i == len(MIXED) - 1)
                      for i, b in enumerate(MIXED)), [(1, MIXED.decode())]))
    add(Case("16-bit length for a short payload", b"\x82\xfe\x00\x03" + M0 + b"abc",
             [(2, b"abc")]))
    add(Case("64-bit length for a short payload",
             b"\x82\xff" + struct.pack(">Q", 3) + M0 + b"abc", [(2, b"abc")]))
    add(Case("close ends the stream", frame(8) + frame(1, b"hi") + b"\xff\xff\xff",
             [(8, 1005, "")]))
    add(Case("close drops an unfinished message", frame(1, b"a", False) + frame(8, b"\x03\xe8"),
             [(8, 1000, "")]))
    add(Case("binary is not checked", frame(2, b"\xff\xc0"), [(2, b"\xff\xc0")]))
    add(Case("noncharacters are valid", frame(1, "\ufffe\uffff\U0010ffff".encode()),
             [(1, "\ufffe\uffff\U0010ffff")]))
    add(Case("max exact", frame(1, b"a", False) + frame(0, b"bc"), [(1, "abc")], max_message=3))
    add(Case("max 0, empty", frame(1) + frame(2), [(1, ""), (2, b"")], max_message=0))
    add(Case("control frames do not count", frame(1, b"a", False) + frame(9, b"abcde")
             + frame(0), [(9, b"abcde"), (1, "a")], max_message=1))
    add(Case("incomplete frame", frame(1, b"abc")[:-1], []))
    for code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                 3999, 4000, 4999):
        add(Case("close code %d" % code, frame(8, struct.pack(">H", code)), [(8, code, "")]))

    # 1002
    def bad(name, data, reason, code=E1002, client=False, events=(), max_message=4096):
        add(Case(name, data, events, (code, reason), client, max_message))

    bad("not masked", cli(1, b"hi"), "frame not masked")
    bad("masked to a client", frame(1, b"hi"), "masked frame", client=True)
    for rsv in (0x40, 0x20, 0x10, 0x70):
        bad("rsv %02x" % rsv, frame(1, b"a", rsv=rsv), "reserved bits set")
        bad("rsv %02x on a ping" % rsv, frame(9, rsv=rsv), "reserved bits set")
    bad("rsv before the opcode", frame(3, rsv=0x40), "reserved bits set")
    for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
        bad("opcode %d" % op, frame(op, b"x"), "unknown opcode")
        bad("opcode %d to a client" % op, cli(op), "unknown opcode", client=True)
    bad("opcode before the mask", cli(3), "unknown opcode")
    bad("ping 126", frame(9, b"p" * 126), "control frame too long")
    bad("pong 64-bit", b"\x8a\xff" + struct.pack(">Q", 1) + M0 + b"x", "control frame too long")
    bad("close 126", frame(8, b"\x03\xe8" + b"r" * 124), "control frame too long")
    bad("ping not final", frame(9, b"p", fin=False), "fragmented control frame")
    bad("close not final", frame(8, fin=False), "fragmented control frame")
    bad("pong not final", cli(10, fin=False), "fragmented control frame", client=True)
    bad("continuation first", frame(0, b"a"), "continuation frame without a message")
    bad("continuation after a message", frame(1, b"a") + frame(0, b"a"),
        "continuation frame without a message", events=[(1, "a")])
    bad("text inside text", frame(1, b"a", False) + frame(1, b"b"),
        "new message before the last one ended")
    bad("binary inside text", frame(1, b"a", False) + frame(9) + frame(2, b"b"),
        "new message before the last one ended", events=[(9, b"")])
    bad("64-bit top bit", b"\x82\xff\x80" + bytes(7), "invalid frame length")
    bad("64-bit all ones", b"\x82\xff" + b"\xff" * 8, "invalid frame length")
    bad("close length 1", frame(8, b"\x03"), "close frame with a 1-byte payload")
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535):
        bad("close code %d" % code, frame(8, struct.pack(">H", code)), "invalid close code")
    bad("close code before reason", frame(8, b"\x03\xec\xff"), "invalid close code")

    # 1007
    def bad_utf8(name, payload, **kw):
        bad(name, frame(1, payload), "invalid UTF-8 in text message", 1007, **kw)

    bad_utf8("text ff", b"\xff")
    bad_utf8("text surrogate", b"\xed\xa0\x80")
    bad_utf8("text overlong /", b"\xc0\xaf")
    bad_utf8("text overlong NUL 3 bytes", b"\xe0\x80\x80")
    bad_utf8("text above U+10FFFF", b"\xf4\x90\x80\x80")
    bad_utf8("text 5-byte", b"\xf8\x88\x80\x80\x80")
    bad_utf8("text lone continuation", b"a\x80")
    bad_utf8("text truncated at the end", b"\xe2\x82")
    bad_utf8("kosme then a surrogate", KOSME + b"\xed\xa0\x80edited")
    bad("fragments truncated at the end", frame(1, b"\xe2", False) + frame(0, b"\x82"),
        "invalid UTF-8 in text message", 1007)
    # Fail fast: the frame claims 100 bytes, the stream stops after the bad byte.
    bad("bad byte before the frame ends", frame(1, b"ab\xff", length=100),
        "invalid UTF-8 in text message", 1007)
    bad("bad byte early in a later fragment",
        frame(1, b"a", False) + frame(0, b"\xc0", length=50),
        "invalid UTF-8 in text message", 1007)
    bad("client: bad utf8", cli(1, KOSME[:3] + b"\xff"), "invalid UTF-8 in text message", 1007,
        client=True)
    bad("close reason ff", frame(8, b"\x03\xe8\xff"), "invalid UTF-8 in close reason", 1007)
    bad("close reason truncated", frame(8, b"\x03\xe8\xe2\x82"),
        "invalid UTF-8 in close reason", 1007)

    # 1009: from the header, before any payload.
    bad("too big", frame(2, b"abcde"), "message too big", 1009, max_message=4)
    bad("too big, header only", frame(1, b"abcde")[:2], "message too big", 1009, max_message=4)
    bad("too big fragments", frame(1, b"ab", False) + frame(0, b"cde"), "message too big", 1009,
        max_message=4)
    bad("too big 16-bit", b"\x82\xfe\x01\x00", "message too big", 1009, max_message=255)
    bad("too big 2^63-1", b"\x82\xff\x7f" + b"\xff" * 7, "message too big", 1009)
    bad("too big 2^32 to a client", b"\x82\x7f" + struct.pack(">Q", 1 << 32),
        "message too big", 1009, client=True)
    bad("max 0", frame(1, b"a"), "message too big", 1009, max_message=0)
    return c


READERS = reader_cases()


def plans_for(case):
    return split_plans(case.name, len(case.data), [2, 10, 14])


def want_accept(key):
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(key) != 24 or len(raw) != 16:
        return None
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


_krng = random.Random(6455)
ACCEPT = ["dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAA==", "dGhlIHNhbXBsZSBub25jZR==",
          "////////////////////////", "++++++++++++++++++++++==",
          "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZQ",
          "AAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAA", "dGhlIHNhbXBsZSBub25jZ!==",
          "dGhlIHNhbXBsZSBub25jZ-==", "dGhlIHNhbXBsZSBub25jZ_==", "dGhlIHNhbXBs ZSBub25jZQ=",
          "dGhlIHNhbXBsZSBub25j=Q==", "=GhlIHNhbXBsZSBub25jZQ==", "", "éééééééééééé",
          " dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ==\r\n"]
ACCEPT += [base64.b64encode(bytes(_krng.randrange(256) for _ in range(16))).decode()
           for _ in range(20)]


def frame_specs():
    """[opcode, payload length, kind, fin (None: default), mask hex or None] and what ws_frame
    must return: the hand-built frame's digest, or the exception's name."""
    rng = random.Random(1)
    specs = []
    for op in (0, 1, 2, 8, 9, 10, 15):
        for n in (0, 1, 125, 126, 127, 65535, 65536, 70000):
            if op >= 8 and n > 125 and n != 126:
                continue
            payload = ws_cases.pattern(n, op == 1)
            for kind in ("bytes", "bytearray", "memoryview", "str"):
                if kind == "str" and op != 1:
                    continue
                for fin in (None, True, False):
                    for mask in (None, bytes(rng.randrange(256) for _ in range(4))):
                        want = ws_cases.digest(frame(op, payload, fin is not False, mask))
                        specs.append(([op, n, kind, fin,
                                       None if mask is None else mask.hex()], want))
    for op, n, mask, want in ((16, 0, None, "ValueError"), (-1, 0, None, "ValueError"),
                              (1, 0, "010203", "ValueError"), (1, 1, "0102030405", "ValueError")):
        specs.append(([op, n, "bytes", True, mask], want))
    return specs


FRAMES = frame_specs()


def casefile(readers, accept=(), frames=()):
    return {
        "readers": [{"name": c.name, "client": c.client, "max": c.max, "hex": c.data.hex(),
                     "plans": plans_for(c)} for c in readers],
        "accept": list(accept),
        "frames": [s for s, w in frames],
    }


# ---- running the three implementations ----------------------------------------------------------

class _CPython:
    name = "microfastapi.wsframe"
    WsReader = wsframe.WsReader
    WsError = wsframe.WsError
    ws_frame = staticmethod(wsframe.ws_frame)
    ws_accept = staticmethod(wsframe.ws_accept)


def run_ws(tmp_path, unix_mfa, unix_pure, cases):
    # A larger heap than the default: the case file holds two 64 KiB frames.
    return run_three(tmp_path, cases, ws_cases, _CPython, unix_mfa, unix_pure, heap="64M",
                     timeout=900)


@pytest.fixture(scope="module")
def table(tmp_path_factory, unix_mfa, unix_pure):
    return run_ws(tmp_path_factory.mktemp("ws"), unix_mfa, unix_pure,
                  casefile(READERS, ACCEPT, FRAMES))


def check_outcome(case, outcome):
    events, error, after, one = outcome
    # feed_one gives the same events (a bare message stands for [(kind, message)]), a bare
    # one only for a message that ended where its slice did, and the same error.
    plain = [e[1:] if e[0] == "one" else e for e in one]
    assert plain == events + ([["error"] + error] if error else []), case.name
    want = [ws_cases.event_json(e) for e in case.events]
    if case.error is None:
        assert error is None, (case.name, error)
        assert events == want, case.name
        if want and want[-1][0] == 8:
            assert after == [], case.name
    else:
        assert error == list(case.error), (case.name, error)
        # Events completed by earlier feeds come out; those of the failing feed do not.
        assert events == want[:len(events)], case.name
        assert after == ["error"] + list(case.error), case.name


@pytest.mark.parametrize("i", range(len(READERS)), ids=[c.name for c in READERS])
def test_reader_case(table, i):
    case = READERS[i]
    got = same_on_three(table, "readers", i, case.name)
    for outcome in got["outcomes"]:
        check_outcome(case, outcome)
    # Fed whole, the error (if any) comes with no events: that feed raised.
    whole = got["outcomes"][got["plans"][0]]
    if case.error is not None:
        assert whole[0] == [], case.name
    elif len(case.events) == 1 and case.events[0][0] in (1, 2):
        assert whole[3][0][0] == "one", case.name  # one message fed whole: feed_one's fast way


def test_every_split_counted(table):
    """Short cases ran whole, split at each byte and byte by byte; long ones 16 ways."""
    for case, r in zip(READERS, table["cpython"]["readers"]):
        assert len(r["plans"]) == split_count(len(case.data)), case.name


def test_accept(table):
    want = [[want_accept(k), want_accept(k)] for k in ACCEPT]
    assert want[0][0] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="   # RFC 6455 section 1.3
    for impl in ("cpython", "unix", "unix-pure"):
        assert table[impl]["accept"] == want, impl


def test_frames(table):
    want = [w for s, w in FRAMES]
    for impl in ("cpython", "unix", "unix-pure"):
        got = table[impl]["frames"]
        bad = [(FRAMES[i][0][:1] + FRAMES[i][0][2:], g, w)
               for i, (g, w) in enumerate(zip(got, want)) if g != w]
        assert not bad and len(got) == len(want), (impl, bad[:5])


def test_frame_matches_wsproto():
    """ws_frame's server frames are byte for byte what wsproto's server sends."""
    for n in (0, 5, 125, 126, 65535, 65536):
        payload = bytes(range(256)) * (n // 256) + bytes(range(n % 256))
        assert wsframe.ws_frame(2, payload) == bytes(from_server().send_data(payload)), n
    assert wsframe.ws_frame(1, "κόσμε") == bytes(from_server().send_data("κόσμε"))
    assert wsframe.ws_frame(9, b"x") == bytes(from_server().ping(b"x"))
    assert wsframe.ws_frame(8, b"\x03\xe8bye") == bytes(from_server().close(1000, "bye"))


def test_wserror_is_value_error():
    assert issubclass(wsframe.WsError, ValueError)
    r = wsframe.WsReader()
    with pytest.raises(ValueError) as e:
        r.feed(b"\x81\x00")
    assert e.value.args == (1002, "frame not masked")
    with pytest.raises(ValueError):
        wsframe.WsReader(max_message=-1)


def test_pure_sha1_fallback(monkeypatch):
    """unix MicroPython without ssl has no hashlib.sha1: the twin's own SHA-1 stands in."""
    monkeypatch.setattr(wsframe, "_sha1", None)
    for data in (b"", b"abc", b"a" * 55, b"a" * 56, b"a" * 64, bytes(range(256)) * 5):
        assert wsframe.sha1(data) == hashlib.sha1(data).digest(), len(data)
    assert wsframe.ws_accept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_backend_exports(unix_binary):
    """backend exports the implementation in use: _mfa's on build/unix, the twin otherwise."""
    code = ("from microfastapi import backend\n"
            "from microfastapi.backend import WsReader, WsError, ws_frame, ws_accept\n"
            "print(backend.WS, WsReader.__name__, issubclass(WsError, ValueError),"
            " ws_accept('dGhlIHNhbXBsZSBub25jZQ=='), ws_frame(9, b'x'), sep='|')\n")
    p = subprocess.run([str(unix_binary), "-c", code], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    want = "_mfa" if "pure" not in str(unix_binary) else "pure Python"
    assert p.stdout.decode().strip().split("|") == [want, "WsReader", "True",
                                                    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                                                    "b'\\x89\\x01x'"]


# ---- differential: random frame sequences --------------------------------------------------------

def random_text(rng, n):
    alphabet = "aZ09 ~κόσμε€𝄞\u07ff\u0800\ud7ff\ue000\ufffd\U00010000\U0010ffff"
    return "".join(rng.choice(alphabet) for _ in range(n))


def random_stream(rng, client):
    """(bytes, the events a correct reader reports) for a valid random frame sequence."""
    def mk(op, payload, fin=True):
        mask = None if client else bytes(rng.randrange(256) for _ in range(4))
        return frame(op, payload, fin, mask)

    out = b""
    events = []
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.25:
            op = rng.choice((9, 10))
            payload = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 5, 125))))
            out += mk(op, payload)
            events.append((op, payload))
            continue
        text = rng.random() < 0.6
        n = rng.choice((0, 1, 3, 20, 125, 126, 300, 1000))
        if rng.random() < 0.03:
            n = 70000
        data = random_text(rng, n // 3 + 1).encode() if text else \
            bytes(rng.randrange(256) for _ in range(n))
        cuts = sorted(set(rng.randrange(0, len(data) + 1) for _ in range(rng.randint(0, 3))))
        pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
        for i, p in enumerate(pieces):
            op = (1 if text else 2) if i == 0 else 0
            out += mk(op, p, i == len(pieces) - 1)
            # Control frames may come between fragments.
            if i < len(pieces) - 1 and rng.random() < 0.3:
                out += mk(9, b"mid")
                events.append((9, b"mid"))
        events.append((1, data.decode()) if text else (2, data))
    if rng.random() < 0.3:
        code = rng.choice((1000, 1001, 1011, 3000, 4999))
        reason = random_text(rng, rng.randint(0, 10)).encode()[:100]
        while True:
            try:
                reason.decode()
                break
            except UnicodeDecodeError:
                reason = reason[:-1]
        out += mk(8, struct.pack(">H", code) + reason)
        events.append((8, code, reason.decode()))
        out += mk(1, b"after the close")
    return out, events


def corrupt(rng, data):
    k = rng.randrange(7)
    i = rng.randrange(len(data))
    if k == 0:      # flip a bit anywhere
        return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
    if k == 1:      # a random byte
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    if k == 2:      # cut short
        return data[:i]
    if k == 3:      # bytes inserted
        return data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + data[i:]
    if k == 4:      # a byte dropped
        return data[:i] + data[i + 1:]
    if k == 5:      # the first header byte replaced (RSV, opcode, FIN)
        return bytes([rng.randrange(256)]) + data[1:]
    return data[:i] + b"\xed\xa0\x80\xff\xc0" + data[i:]


def differential_cases():
    rng = random.Random(20250101)
    cases = []
    for k in range(320):
        client = k % 2 == 1
        data, events = random_stream(rng, client)
        max_message = rng.choice((0, 16, 125, 300, 4096, 100000))
        corrupted = k % 3 != 0
        if corrupted:
            data = corrupt(rng, data)
            events = None
        else:
            max_message = 100000
        c = Case("random %d" % k, data, client=client, max_message=max_message)
        c.want = events
        n = len(data)
        plans = [[], list(range(1, n))] if n <= 3000 else [[], [1, 2, 3, 11]]
        for _ in range(2):
            plans.append(sorted(set(rng.randrange(1, n) for _ in range(rng.randint(1, 30))))
                         if n > 1 else [])
        c.plans = plans
        cases.append(c)
    return cases


def test_differential(tmp_path, unix_mfa, unix_pure):
    cases = differential_cases()
    cf = {"readers": [{"name": c.name, "client": c.client, "max": c.max, "hex": c.data.hex(),
                       "plans": c.plans} for c in cases]}
    out = run_ws(tmp_path, unix_mfa, unix_pure, cf)
    errors = valid = 0
    for i, c in enumerate(cases):
        got = same_on_three(out, "readers", i, c.name)
        # Every split gives the same error (the events before it depend on the split).
        assert len(set(json.dumps(o[1]) for o in got["outcomes"])) == 1, c.name
        if got["outcomes"][0][1] is not None:
            errors += 1
        if c.want is not None:
            want = [ws_cases.event_json(e) for e in c.want]
            for o in got["outcomes"]:
                assert o[1] is None and o[0] == want, c.name
            valid += 1
    # The corruptions mostly do break the stream, and the valid third all parse.
    print("\ndifferential: %d sequences (%d valid), %d ended in an error, %d ways of feeding them"
          % (len(cases), valid, errors, sum(len(c.plans) for c in cases)))
    assert valid > 100 and errors > 100, (valid, errors)


GC_SCRIPT = """
import gc
from microfastapi.backend import WsReader, ws_frame
key = b"\\x01\\x02\\x03\\x04"
msg = ws_frame(2, bytes(range(256)) * 40, mask=key)       # 10 KiB
text = ws_frame(1, "\\u00e9" * 3000, fin=False, mask=key) + ws_frame(9, b"p", mask=key) \\
    + ws_frame(0, "z" * 100, mask=key)
readers = [WsReader(max_message=20000) for _ in range(20)]
for r in readers:                     # every reader holds half a message
    assert r.feed(msg[:5000]) == []
gc.collect()
junk = [bytearray(100) for _ in range(2000)]   # the heap reused around them
del junk
gc.collect()
for r in readers:
    ev = r.feed(msg[5000:])
    assert ev == [(2, bytes(range(256)) * 40)], ev
    out = []
    for i in range(0, len(text), 777):
        out += r.feed(text[i:i + 777])
        gc.collect()
    assert out == [(9, b"p"), (1, "\\u00e9" * 3000 + "z" * 100)], out


def rounds(r, n):
    for k in range(n):                # a message a round
        assert r.feed(msg) == [(2, bytes(range(256)) * 40)]


r = WsReader(max_message=20000)
rounds(r, 10)
gc.collect()
base = gc.mem_free()
rounds(r, 300)
gc.collect()
print("ok", base - gc.mem_free())
"""


def test_heap_and_gc(unix_binary):
    """Readers holding half a message survive collections and a reused heap; a message's
    buffer goes with the message: 300 more messages of 10 KiB leave the heap as 10 did."""
    p = subprocess.run([str(unix_binary), "-c", GC_SCRIPT], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    word, grown = p.stdout.decode().split()
    assert word == "ok" and int(grown) < 1024, grown
