"""A WebSocket conformance corpus modelled on the Autobahn|Testsuite's case list (its sections 1-7
and 9, and 12/13 as far as they apply: an offer of permessage-deflate is ignored), run by
tests/ws/test_conformance.py against the echo endpoints of tests/api/ws_app.py.

Autobahn itself needs Python 2.7. The cases here follow its descriptions and expected outcomes
(autobahntestsuite/case/case*.py), numbered as there where there is a counterpart, and adapted
where our server differs: a message is at most the endpoint's max_message (Autobahn's 16 MB
messages become section 9's limits), and permessage-deflate is not offered.

A case is data:

- `parts`: what the client sends, in order. Each part is a list of frames (bytes) and how they go
  out (`chop`): "whole" (one write), "frames" (one write a frame, a pause between), "octets" (a
  byte a write) or a number (writes of that many bytes). A part's `expect` is what the server
  must answer before the next part is sent, and `closes` that the server's close must come
  before the next part is sent (so "the server answers the first ping before the message ends"
  and "fails fast at the bad byte" are checked, not just the final result).
- `expect`: the server's frames, in order, over the whole case: (opcode, payload), 1 text,
  2 binary, 10 pong. Nothing else may come. `lenient`: other acceptable lists, as Autobahn's
  NON-STRICT outcomes (a message completed in the same read as a protocol error is dropped with
  the failed connection, RFC 6455 7.1.7).
- `close`: the code of the server's close frame. None: the server is not to close, so the
  client closes with 1000 after the last part and the server must echo 1000.
  Either way the server then closes the TCP connection (RFC 6455 7.1.1).
- `path`, `headers`: the endpoint, and extra handshake headers. `answer=False`: the client does
  not answer the server's close (the server must close TCP anyway, after its wait).

Frames come from wsproto's frame builder where it can make them (FrameProtocol(client=True)
masks with a random key); invalid ones are built by hand (`raw`).
"""
import struct

from wsproto.frame_protocol import FrameProtocol

SMALL, ECHO, BIG = "/ws/small", "/ws/echo", "/ws/big"
MAX = {SMALL: 64, ECHO: 4096, BIG: 65536}   # their max_message (ws_app.py)

TEXT, BINARY, CLOSE, PING, PONG = 1, 2, 8, 9, 10


# ---- building frames ------------------------------------------------------------------------

def wp():
    """wsproto as a client, no extensions: it builds masked frames."""
    return FrameProtocol(client=True, extensions=[])


def msg(payload):
    """One unfragmented message: str -> text, bytes -> binary."""
    return bytes(wp().send_data(payload, True))


def frags(pieces):
    """A message in fragments, one frame a piece (the last final), as a list of frames."""
    fp = wp()
    return [bytes(fp.send_data(p, i == len(pieces) - 1)) for i, p in enumerate(pieces)]


def between(pieces, *controls):
    """A message in fragments (as frags) with control frames between them: controls[i] (a
    frame, or None for none) goes after fragment i."""
    out = []
    for i, f in enumerate(frags(pieces)):
        out.append(f)
        if i < len(controls) and controls[i] is not None:
            out.append(controls[i])
    return out


def ping(payload=b""):
    return bytes(wp().ping(payload))


def pong(payload=b""):
    return bytes(wp().pong(payload))


def close(code=None, reason=None):
    """A close frame from wsproto (which refuses to send 1005, 1006 and 1015: see raw_close)."""
    return bytes(wp().close(code, reason))


MASK = b"\x5a\xc3\x0f\x96"


def raw(op, payload=b"", fin=True, rsv=0, length=None, mask=MASK, form=None):
    """A frame by hand, for what wsproto will not build: `rsv` the three RSV bits as a number
    (4 = RSV1, 2 = RSV2, 1 = RSV3), `length` a header that lies about the payload, `mask`
    None for an unmasked frame, `form` 16 or 64 to force a longer length form than needed."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv << 4 | op
    m = 0 if mask is None else 0x80
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    if form == 7:
        h = struct.pack("!BB", b0, m | n)
    elif form == 16:
        h = struct.pack("!BBH", b0, m | 126, n)
    else:
        h = struct.pack("!BBQ", b0, m | 127, n)
    if mask is None:
        return h + payload
    return h + mask + bytes(c ^ mask[i & 3] for i, c in enumerate(payload))


def raw_close(code, reason=b""):
    return raw(CLOSE, struct.pack("!H", code) + reason)


def T(s):
    """An expected text frame."""
    return (TEXT, s.encode() if isinstance(s, str) else s)


def B(b):
    return (BINARY, b)


def P(b):
    """An expected pong."""
    return (PONG, b.encode() if isinstance(b, str) else b)


def echo_of(payload):
    return T(payload) if isinstance(payload, str) else B(payload)


# ---- the case type --------------------------------------------------------------------------

class Part:
    def __init__(self, frames, chop="whole", expect=(), closes=False):
        self.frames = [frames] if isinstance(frames, bytes) else list(frames)
        self.chop = chop
        self.expect = list(expect)
        self.closes = closes  # the server's close must come now, before the next part


class Case:
    def __init__(self, cid, title, frames=None, chop="whole", expect=(), close=None,
                 parts=None, lenient=(), path=ECHO, headers=(), answer=True, xfail=None):
        self.id = cid
        self.section = cid.split(".")[0]
        self.title = title
        self.parts = parts if parts is not None else [Part(frames, chop, expect)]
        self.expect = [e for p in self.parts for e in p.expect]
        self.lenient = [list(x) for x in lenient]
        self.close = close
        self.path = path
        self.headers = list(headers)
        self.answer = answer  # whether the client answers a close from the server
        self.xfail = xfail

    def __repr__(self):
        return "Case(%s %s)" % (self.id, self.title)


CASES = []


def case(*a, **kw):
    CASES.append(Case(*a, **kw))


# ---- 1 framing: payload lengths and the three length forms ---------------------------------

LENGTHS = [0, 125, 126, 127, 128, 4096, 65535, 65536]


def _payload(n, text):
    # (ASCII for text: a long non-ASCII message would time the pure build's validator, not
    # the framing)
    if text:
        return ("BAsd7&jh23" * (n // 10 + 1))[:n]
    return bytes(range(256)) * (n // 256) + bytes(range(n % 256))


for _j, (_kind, _text) in enumerate((("text", True), ("binary", False))):
    for _i, _n in enumerate(LENGTHS):
        _p = _payload(_n, _text)
        case("1.%d.%d" % (_j + 1, _i + 1), "%s message, payload %d bytes" % (_kind, _n),
             msg(_p), expect=[echo_of(_p)], path=BIG)
    _p = _payload(65536, _text)
    case("1.%d.%d" % (_j + 1, len(LENGTHS) + 1),
         "%s message of 65536 bytes, sent in chops of 997 octets" % _kind,
         msg(_p), chop=997, expect=[echo_of(_p)], path=BIG)
    _p = _payload(200, _text)
    case("1.%d.%d" % (_j + 1, len(LENGTHS) + 2),
         "%s message of 200 bytes, sent octet by octet" % _kind,
         msg(_p), chop="octets", expect=[echo_of(_p)], path=BIG)

# RFC 6455 5.2 asks the sender for the shortest length form; a longer one is still a valid
# length, and the server takes it (its own frames use the shortest form: checked on every
# frame the client reads).
case("1.3.1", "5-byte text message with a 16-bit length", raw(TEXT, b"Hello", form=16),
     expect=[T("Hello")])
case("1.3.2", "5-byte text message with a 64-bit length", raw(TEXT, b"Hello", form=64),
     expect=[T("Hello")])
case("1.3.3", "300-byte binary message with a 64-bit length",
     raw(BINARY, bytes(300), form=64), expect=[B(bytes(300))])
case("1.3.4", "64-bit length with its most significant bit set",
     raw(BINARY, length=1 << 63)[:14], close=1002)
case("1.3.5", "mask key 00000000 (payload in the clear)", raw(TEXT, b"clear", mask=bytes(4)),
     expect=[T("clear")])
case("1.3.6", "unmasked client frame", raw(TEXT, b"unmasked", mask=None), close=1002)
case("1.3.7", "two messages in one write", [msg("one"), msg(b"two")],
     expect=[T("one"), B(b"two")])

# ---- 2 pings and pongs -----------------------------------------------------------------------

case("2.1", "ping without payload", ping(), expect=[P(b"")])
case("2.2", "ping with a small text payload", ping(b"Hello, world!"),
     expect=[P("Hello, world!")])
_NB = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
case("2.3", "ping with a small binary (non UTF-8) payload", ping(_NB), expect=[P(_NB)])
case("2.4", "ping with a 125-byte binary payload", ping(b"\xfe" * 125), expect=[P(b"\xfe" * 125)])
case("2.5", "ping with a 126-byte payload", raw(PING, b"\xfe" * 126), close=1002)
case("2.6", "ping with a 125-byte payload, sent octet by octet", ping(b"\xfe" * 125),
     chop="octets", expect=[P(b"\xfe" * 125)])
case("2.7", "unsolicited pong without payload: nothing comes back", pong())
case("2.8", "unsolicited pong with payload: nothing comes back", pong(b"unsolicited pong payload"))
case("2.9", "unsolicited pong, then a ping: only the ping's pong",
     [pong(b"unsolicited pong payload"), ping(b"ping payload")], expect=[P("ping payload")])
case("2.10", "10 pings with payload",
     [ping(b"payload-%d" % i) for i in range(10)],
     expect=[P(b"payload-%d" % i) for i in range(10)])
case("2.11", "10 pings with payload, sent octet by octet",
     [ping(b"payload-%d" % i) for i in range(10)], chop="octets",
     expect=[P(b"payload-%d" % i) for i in range(10)])
case("2.12", "126 pings with payloads of 0 to 125 bytes, answered in order",
     [ping(bytes(range(n))) for n in range(126)],
     expect=[P(bytes(range(n))) for n in range(126)])
case("2.13", "a 125-byte ping on /ws/small (max_message 64): control frames do not count",
     ping(b"\xfe" * 125), expect=[P(b"\xfe" * 125)], path=SMALL)

# ---- 3 reserved bits ---------------------------------------------------------------------------

_HELLO = "Hello, world!"
case("3.1", "text message with RSV = 1", raw(TEXT, b"Hello, world!", rsv=1), close=1002)
for _cid, _rsv, _chop in (("3.2", 2, "whole"), ("3.3", 3, "frames"), ("3.4", 4, "octets")):
    case(_cid, "text message, then again with RSV = %d, then a ping (%s): the echo, no pong"
         % (_rsv, _chop),
         parts=[Part(msg(_HELLO), _chop, [T(_HELLO)]),
                Part([raw(TEXT, _HELLO.encode(), rsv=_rsv), ping()], _chop)], close=1002)
case("3.5", "binary message with RSV = 5", raw(BINARY, b"\x00\xff" * 4, rsv=5), close=1002)
case("3.6", "ping with RSV = 6", raw(PING, b"ping", rsv=6), close=1002)
case("3.7", "close with RSV = 7", raw(CLOSE, struct.pack("!H", 1000), rsv=7), close=1002)
case("3.8", "valid message, then RSV = 4 (RSV1, a compressed frame) in the same write: the "
     "echo may go down with the failed connection",
     [msg(_HELLO), raw(TEXT, _HELLO.encode(), rsv=4), ping()], expect=[T(_HELLO)],
     lenient=[[]], close=1002)

# ---- 4 opcodes -----------------------------------------------------------------------------------

for _i, _op in enumerate([3, 4, 5, 6, 7]):
    case("4.1.%d" % (_i + 1), "reserved non-control opcode %d" % _op,
         raw(_op, b"reserved opcode payload" if _i % 2 else b""), close=1002)
    case("4.1.%d" % (_i + 6), "text message, then opcode %d, then a ping: the echo, no pong" % _op,
         parts=[Part(msg(_HELLO), expect=[T(_HELLO)]),
                Part([raw(_op, b"reserved opcode payload"), ping()])], close=1002)
for _i, _op in enumerate([11, 12, 13, 14, 15]):
    case("4.2.%d" % (_i + 1), "reserved control opcode %d" % _op,
         raw(_op, b"reserved opcode payload" if _i % 2 else b""), close=1002)
    case("4.2.%d" % (_i + 6), "text message, then opcode %d, then a ping: the echo, no pong" % _op,
         parts=[Part(msg(_HELLO), expect=[T(_HELLO)]),
                Part([raw(_op, b"reserved opcode payload"), ping()])], close=1002)

# ---- 5 fragmentation -----------------------------------------------------------------------------

_F = ["fragment1", "fragment2"]
case("5.1", "ping in 2 fragments", [raw(PING, b"frag", fin=False), raw(0, b"ment")], close=1002)
case("5.2", "pong in 2 fragments", [raw(PONG, b"frag", fin=False), raw(0, b"ment")], close=1002)
for _cid, _chop in (("5.3", "whole"), ("5.4", "frames"), ("5.5", "octets")):
    case(_cid, "text message in 2 fragments (%s)" % _chop, frags(_F), chop=_chop,
         expect=[T("".join(_F))])
for _cid, _chop in (("5.6", "whole"), ("5.7", "frames"), ("5.8", "octets")):
    _fr = frags(_F)
    case(_cid, "text message in 2 fragments, a ping in between (%s): the pong first" % _chop,
         [_fr[0], ping(b"ping payload"), _fr[1]], chop=_chop,
         expect=[P("ping payload"), T("".join(_F))])
for _i, _chop in enumerate(("whole", "frames", "octets")):
    case("5.%d" % (9 + _i), "continuation (FIN) with nothing to continue, then a text message "
         "(%s)" % _chop, [raw(0, b"non-continuation payload"), msg(_HELLO)], chop=_chop,
         close=1002)
    case("5.%d" % (12 + _i), "continuation (not FIN) with nothing to continue, then a text "
         "message (%s)" % _chop, [raw(0, b"non-continuation payload", fin=False), msg(_HELLO)],
         chop=_chop, close=1002)
_F4 = ["fragment1", "fragment2", "fragment3", "fragment4"]
case("5.15", "text message in 2 fragments, then a continuation (not FIN) with nothing to "
     "continue, then a text frame",
     parts=[Part(frags(_F4[:2]), expect=[T("fragment1fragment2")]),
            Part([raw(0, b"fragment3", fin=False), raw(TEXT, b"fragment4")])], close=1002)
case("5.16", "twice: a continuation (not FIN) with nothing to continue, then a text message "
     "in 2 fragments", [raw(0, b"fragment1", fin=False)] + frags(_F4[1:3])
     + [raw(0, b"fragment1", fin=False)] + frags(_F4[1:3]), close=1002)
case("5.17", "twice: a continuation (FIN) with nothing to continue, then a text message in "
     "2 fragments", [raw(0, b"fragment1")] + frags(_F4[1:3]) + [raw(0, b"fragment1")]
     + frags(_F4[1:3]), close=1002)
case("5.18", "text message in 2 fragments, both with the text opcode",
     [raw(TEXT, b"fragment1", fin=False), raw(TEXT, b"fragment2")], close=1002)
_F5 = ["fragment1", "fragment2", "fragment3", "fragment4", "fragment5"]
for _cid, _chop in (("5.19", "whole"), ("5.20", "frames")):
    _fr = frags(_F5)
    case(_cid, "text message in 5 fragments with pings after the 2nd and the 4th (%s): the "
         "first pong comes before the message ends" % _chop,
         parts=[Part([_fr[0], _fr[1], ping(b"pongme 1!")], _chop, [P("pongme 1!")]),
                Part([_fr[2], _fr[3], ping(b"pongme 2!"), _fr[4]], _chop,
                     [P("pongme 2!"), T("".join(_F5))])])
case("5.21", "binary message in 2 fragments", frags([b"\x00\x01", b"\x02\xff"]),
     expect=[B(b"\x00\x01\x02\xff")])
case("5.22", "binary message in 3 fragments with a ping and a pong in between (frames)",
     between([b"a" * 100, b"b" * 200, b"c"], ping(b"x"), pong(b"y")),
     chop="frames", expect=[P("x"), B(b"a" * 100 + b"b" * 200 + b"c")])
case("5.23", "a binary frame inside a fragmented text message",
     [raw(TEXT, b"frag", fin=False), raw(BINARY, b"ment")], close=1002)
case("5.24", "close in 2 fragments", [raw(CLOSE, b"\x03", fin=False), raw(0, b"\xe8")],
     close=1002)
case("5.25", "binary message in 1000 fragments of 1 byte", frags([b"%c" % (i & 255)
                                                                  for i in range(1000)]),
     expect=[B(bytes(i & 255 for i in range(1000)))])
_KS = "κόσμε ünïcödé ✓ 𝄞"
case("5.26", "text message in 1-byte fragments, cut inside its code points (frames)",
     [raw(TEXT if i == 0 else 0, bytes([c]), fin=i == len(_KS.encode()) - 1)
      for i, c in enumerate(_KS.encode())], chop="frames", expect=[T(_KS)])
case("5.27", "text message: a 0-byte first fragment, then 2 fragments (ping between them)",
     between(["", "abc", "def"], None, ping()),
     expect=[P(b""), T("abcdef")])

# ---- 6 UTF-8 -------------------------------------------------------------------------------------

case("6.1.1", "text message of length 0", msg(""), expect=[T("")])
case("6.1.2", "text message in 3 fragments of length 0", frags(["", "", ""]), expect=[T("")])
case("6.1.3", "text message in 3 fragments, first and last empty", frags(["", "middle", ""]),
     expect=[T("middle")])

_U = "Hello-µ@ßöäüàá-UTF-8!!"
_KAPPA = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"   # κόσμε
case("6.2.1", "valid UTF-8 text message in one frame", msg(_U), expect=[T(_U)])
case("6.2.2", "valid UTF-8 text message in 2 fragments, cut on a code point boundary",
     frags(["Hello-µ@ßöä", "üàá-UTF-8!!"]), expect=[T(_U)])
case("6.2.3", "valid UTF-8 text message in 1-byte fragments",
     [raw(TEXT if i == 0 else 0, bytes([c]), fin=i == len(_U.encode()) - 1)
      for i, c in enumerate(_U.encode())], expect=[T(_U)])
case("6.2.4", "κόσμε in 1-byte fragments",
     [raw(TEXT if i == 0 else 0, bytes([c]), fin=i == len(_KAPPA) - 1)
      for i, c in enumerate(_KAPPA)], expect=[T(_KAPPA)])

_BAD = _KAPPA + b"\xed\xa0\x80" + b"edited"   # a surrogate: invalid at byte 12 (0xa0)
case("6.3.1", "invalid UTF-8 text message (a surrogate inside), one frame", raw(TEXT, _BAD),
     close=1007)
case("6.3.2", "the same in 1-byte fragments",
     [raw(TEXT if i == 0 else 0, bytes([c]), fin=i == len(_BAD) - 1)
      for i, c in enumerate(_BAD)], chop="frames", close=1007)

# 6.4: fail fast. The part that makes the text invalid must be answered with 1007 before the
# rest is sent (the message is never complete when the server decides).
_P1, _P2, _P3 = _KAPPA, b"\xf4\x90\x80\x80", b"edited"   # F4 90: above U+10FFFF
case("6.4.1", "3 fragments: valid, then the one making it invalid (> U+10FFFF), then the rest",
     parts=[Part(raw(TEXT, _P1, fin=False)), Part(raw(0, _P2, fin=False), closes=True),
            Part(raw(0, _P3))], close=1007)
case("6.4.2", "the same, the 2nd fragment ending at the invalid byte",
     parts=[Part(raw(TEXT, _P1 + b"\xf4", fin=False)),
            Part(raw(0, b"\x90", fin=False), closes=True),
            Part(raw(0, b"\x80\x80" + _P3))], close=1007)
_W = raw(TEXT, _P1 + _P2 + _P3)
_a = len(_W) - len(_P2 + _P3)   # where _P2 starts in the frame
case("6.4.3", "one frame in 3 chops: valid, the chop making it invalid, the rest",
     parts=[Part(_W[:_a]), Part(_W[_a:_a + 4], closes=True), Part(_W[_a + 4:])], close=1007)
case("6.4.4", "the same, the 2nd chop ending at the invalid byte",
     parts=[Part(_W[:_a + 1]), Part(_W[_a + 1:_a + 2], closes=True), Part(_W[_a + 2:])],
     close=1007)
_bad = _KAPPA + b"\xc0"
case("6.4.5", "one frame declaring 4096 bytes, invalid in its first 12: 1007 before the rest "
     "arrives", parts=[Part(raw(TEXT, length=4096)[:8]
                            + bytes(c ^ MASK[i & 3] for i, c in enumerate(_bad)), closes=True)],
     close=1007)

def kuhn_sequences():
    """Markus Kuhn's UTF-8 decoder stress test (www.cl.cam.ac.uk/~mgk25/ucs/examples/
    UTF-8-test.txt) as Autobahn's case6_x_x.py groups it: [(group title, [(valid, bytes)])]."""
    g = []
    g.append(("Some valid UTF-8 sequences", [
        (True, b"hello\x24world"), (True, b"hello\xc2\xa2world"),
        (True, b"hello\xe2\x82\xacworld"), (True, b"hello\xf0\xa4\xad\xa2world"),
        (True, _KAPPA)]))
    # every prefix of κόσμε: valid where it ends on a code point boundary
    g.append(("All prefixes of a valid UTF-8 string with multi-byte code points",
              [(_valid(_KAPPA[:i]), _KAPPA[:i]) for i in range(1, len(_KAPPA) + 1)]))
    g.append(("First possible sequence of a certain length", [
        (True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"),
        (True, b"\xf0\x90\x80\x80")]))
    g.append(("First possible sequence length 5/6 (invalid code points)", [
        (False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]))
    g.append(("Last possible sequence of a certain length", [
        (True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"),
        (True, b"\xf4\x8f\xbf\xbf")]))
    g.append(("Last possible sequence length 4/5/6 (invalid code points)", [
        (False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"),
        (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]))
    g.append(("Other boundary conditions", [
        (True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"), (True, b"\xef\xbf\xbd"),
        (True, b"\xf4\x8f\xbf\xbf"), (False, b"\xf4\x90\x80\x80")]))
    g.append(("Unexpected continuation bytes", [
        (False, b"\x80"), (False, b"\xbf"), (False, b"\x80\xbf"), (False, b"\x80\xbf\x80"),
        (False, b"\x80\xbf\x80\xbf"), (False, b"\x80\xbf\x80\xbf\x80"),
        (False, b"\x80\xbf\x80\xbf\x80\xbf"), (False, bytes(range(0x80, 0xbf)))]))
    g.append(("Lonely start characters", [
        (False, b"".join(bytes([c, 0x20]) for c in range(lo, hi)))
        for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb), (0xfc, 0xfd))]))
    missing = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80",
               b"\xfc\x80\x80\x80\x80", b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf",
               b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    g.append(("Sequences with the last continuation byte missing",
              [(False, k) for k in missing]))
    g.append(("Concatenation of incomplete sequences", [(False, b"".join(missing))]))
    g.append(("Impossible bytes", [(False, b"\xfe"), (False, b"\xff"),
                                   (False, b"\xfe\xfe\xff\xff")]))
    g.append(("Overlong ASCII character", [
        (False, b"\xc0\xaf"), (False, b"\xe0\x80\xaf"), (False, b"\xf0\x80\x80\xaf"),
        (False, b"\xf8\x80\x80\x80\xaf"), (False, b"\xfc\x80\x80\x80\x80\xaf")]))
    g.append(("Maximum overlong sequences", [
        (False, b"\xc1\xbf"), (False, b"\xe0\x9f\xbf"), (False, b"\xf0\x8f\xbf\xbf"),
        (False, b"\xf8\x87\xbf\xbf\xbf"), (False, b"\xfc\x83\xbf\xbf\xbf\xbf")]))
    g.append(("Overlong NUL", [
        (False, b"\xc0\x80"), (False, b"\xe0\x80\x80"), (False, b"\xf0\x80\x80\x80"),
        (False, b"\xf8\x80\x80\x80\x80"), (False, b"\xfc\x80\x80\x80\x80\x80")]))
    g.append(("Single UTF-16 surrogates", [(False, b) for b in (
        b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf", b"\xed\xb0\x80",
        b"\xed\xbe\x80", b"\xed\xbf\xbf")]))
    g.append(("Paired UTF-16 surrogates", [(False, a + b) for a in (
        b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf")
        for b in (b"\xed\xb0\x80", b"\xed\xbf\xbf")]))
    nonchars = [b"\xef\xbf\xbe", b"\xef\xbf\xbf"]
    for z1 in (0xf0, 0xf1, 0xf2, 0xf3, 0xf4):
        for z2 in (0x8f, 0x9f, 0xaf, 0xbf):
            if z1 == 0xf4 and z2 != 0x8f:
                continue  # above U+10FFFF
            for z3 in (0xbe, 0xbf):
                zz = bytes([z1, z2, 0xbf, z3])
                if z1 != 0xf0 or z2 != 0x8f:  # (F0 8F: overlong)
                    nonchars.append(zz)
    g.append(("Non-character code points (valid UTF-8)", [(True, z) for z in nonchars]))
    g.append(("Unicode specials (i.e. the replacement char)", [
        (True, bytes([0xef, 0xbf, c])) for c in range(0xb9, 0xc0)]))
    return g


def _valid(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# Each sequence is one text message in one frame (Autobahn's 6.5-6.23). The valid ones of a
# group go on one connection (the group's own case); every invalid one is a case of its own.
for _gi, (_title, _seqs) in enumerate(kuhn_sequences()):
    _g = "6.%d" % (_gi + 5)
    _ok = [s for v, s in _seqs if v]
    for _v, _s in _seqs:
        assert _v == _valid(_s), (_title, _s)  # (CPython's decoder agrees with the list)
    if _ok:
        case(_g + ".1", "%s: %d valid sequences, echoed" % (_title, len(_ok)),
             [raw(TEXT, s) for s in _ok], expect=[T(s) for s in _ok])
    _j = 2 if _ok else 1
    for _v, _s in _seqs:
        if not _v:
            case("%s.%d" % (_g, _j), "%s: %s" % (_title, _s.hex()), raw(TEXT, _s), close=1007)
            _j += 1
case("6.24.1", "a message left open in a truncated code point at its end (é cut)",
     frags(["caf", "é"])[:1] + [raw(0, "é".encode()[:1])], close=1007)
case("6.24.2", "an invalid byte in the 3rd of 4 fragments, then the 4th (frames)",
     [raw(TEXT, b"abc", fin=False), raw(0, b"def", fin=False), raw(0, b"g\xffh", fin=False),
      raw(0, b"ijk")], chop="frames", close=1007)

# ---- 7 closing -----------------------------------------------------------------------------------

case("7.1.1", "a message, then a close", [msg("Hello World!"), close(1000)],
     expect=[T("Hello World!")], close=1000)
case("7.1.2", "two close frames: the second ignored", [close(1000), raw(CLOSE)], close=1000)
case("7.1.3", "a ping after the close: no pong", [close(1000), ping()], close=1000)
case("7.1.4", "a text message after the close: ignored", [close(1000), msg("Hello World!")],
     close=1000)
case("7.1.5", "fragment 1, a close, fragment 2", between(["fragment1", "fragment2"], close(1000)),
     close=1000)
case("7.1.6", "a 4096-byte message, a text message, a close, a ping: both echoes, the close, "
     "no pong", [msg("BAsd7&jh23" * 409 + "BAsd7&"), msg("Hello World!"), close(1000), ping()],
     expect=[T("BAsd7&jh23" * 409 + "BAsd7&"), T("Hello World!")], close=1000)
case("7.1.7", "a close, then a frame too long to be read, then data: ignored",
     [close(1000), raw(BINARY, length=1 << 40)[:14], b"\x00" * 100], close=1000)
case("7.1.8", "a 65536-byte message, a close, a ping: the echo, the close, no pong",
     [msg(b"\xfe" * 65536), close(1000), ping()], expect=[B(b"\xfe" * 65536)], close=1000,
     path=BIG)
case("7.2.1", "the server closes (4000 'bye' after one JSON message), the client answers, "
     "the server closes TCP", msg("1"), expect=[T('{"n": 1, "got": 1}')], close=4000,
     lenient=[[T('{"got": 1, "n": 1}')]], path="/ws/json/1")  # (MicroPython's dict order)
case("7.2.2", "the server closes and the client never answers: the server closes TCP "
     "after its wait (1 s)", msg("1"), expect=[T('{"n": 1, "got": 1}')], close=4000,
     lenient=[[T('{"got": 1, "n": 1}')]], path="/ws/json/1", answer=False)
case("7.3.1", "a close with no payload (1005): answered 1000", raw(CLOSE), close=1000)
case("7.3.2", "a close with a 1-byte payload", raw(CLOSE, b"\x03"), close=1002)
case("7.3.3", "a close with a code only", close(1000), close=1000)
case("7.3.4", "a close with a code and a reason", close(1000, "Hello World!"), close=1000)
case("7.3.5", "a close with a 123-byte reason (the most that fits)", close(1000, "*" * 123),
     close=1000)
case("7.3.6", "a close with a 124-byte reason (payload 126)", raw_close(1000, b"*" * 124),
     close=1002)
case("7.5.1", "a close with a reason that is not UTF-8",
     raw_close(1000, _KAPPA + b"\xed\xa0\x80edited"), close=1007)
case("7.5.2", "a close with a reason cut in a code point", raw_close(1000, "é".encode()[:1]),
     close=1007)
for _i, _code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                            1014, 3000, 3999, 4000, 4999]):
    case("7.7.%d" % (_i + 1), "a close with valid code %d: echoed" % _code, close(_code),
         close=_code)
# 1005, 1006 and 1015 are for reporting, never sent (RFC 6455 7.4.1); wsproto will not build
# them, so they are made by hand.
for _i, _code in enumerate([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999]):
    case("7.9.%d" % (_i + 1), "a close with invalid code %d" % _code,
         raw_close(_code) if _code in (1005, 1006, 1015) else close(_code), close=1002)
case("7.13.1", "a close with code 5000", close(5000), close=1002)
case("7.13.2", "a close with code 65535", close(65535), close=1002)

# ---- 9 limits: max_message -----------------------------------------------------------------------
# Autobahn's section 9 sends 64 KB - 16 MB messages to time them. Here the point is the bound:
# a message of exactly max_message echoes, one byte more is 1009, decided from the header.

for _k, _path in enumerate((SMALL, ECHO, BIG)):
    _m = MAX[_path]
    _s = "9.%d" % (_k + 1)
    _txt = ("*" * _m)
    case(_s + ".1", "%s: text message of max_message (%d) bytes" % (_path, _m), msg(_txt),
         expect=[T(_txt)], path=_path)
    case(_s + ".2", "%s: binary message of max_message bytes" % _path, msg(b"\xfe" * _m),
         expect=[B(b"\xfe" * _m)], path=_path)
    case(_s + ".3", "%s: text message of max_message + 1 bytes" % _path, msg(_txt + "*"),
         close=1009, path=_path)
    case(_s + ".4", "%s: binary message of max_message + 1 bytes, only its header sent" % _path,
         raw(BINARY, length=_m + 1)[:14 if _m + 1 >= 65536 else 8], close=1009, path=_path)
    _fs = max(_m // 16, 1)
    _pieces = [b"\xfe" * _fs] * (_m // _fs)
    case(_s + ".5", "%s: binary message of max_message bytes in %d fragments" % (
        _path, len(_pieces)), frags(_pieces), expect=[B(b"\xfe" * _m)], path=_path)
    case(_s + ".6", "%s: the same, one byte more in the last fragment: 1009 at its header"
         % _path,
         frags(_pieces[:-1] + [_pieces[-1] + b"\xfe"]), close=1009, path=_path)
    case(_s + ".7", "%s: text message of max_message bytes in chops of 997 octets" % _path,
         msg(_txt), chop=997, expect=[T(_txt)], path=_path)
    case(_s + ".8", "%s: a message of 2^62 bytes announced" % _path,
         raw(BINARY, length=1 << 62)[:14], close=1009, path=_path)
    case(_s + ".9", "%s: pings between fragments do not count toward max_message" % _path,
         between([b"a" * (_m // 2), b"b" * (_m - _m // 2)], ping(b"p" * 125)),
         expect=[P(b"p" * 125), B(b"a" * (_m // 2) + b"b" * (_m - _m // 2))], path=_path)

# ---- 12/13 permessage-deflate: not offered -------------------------------------------------------

_PMD = (("Sec-WebSocket-Extensions",
         "permessage-deflate; client_max_window_bits, permessage-deflate"),)
case("12.1.1", "permessage-deflate offered: the 101 has no Sec-WebSocket-Extensions and "
     "messages go uncompressed", [msg("Hello, world!"), msg(b"\x00" * 200)],
     expect=[T("Hello, world!"), B(b"\x00" * 200)], headers=_PMD)
case("12.1.2", "permessage-deflate offered and not accepted: a compressed (RSV1) frame",
     raw(TEXT, b"\xf2\x48\xcd\xc9\xc9\x07\x00", rsv=4), close=1002, headers=_PMD)


def sections():
    """Section number -> its cases, in order."""
    out = {}
    for c in CASES:
        out.setdefault(c.section, []).append(c)
    return out


_ids = [c.id for c in CASES]
assert len(_ids) == len(set(_ids)), "duplicate case ids"
