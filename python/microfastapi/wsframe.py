"""Pure-Python WebSocket (RFC 6455) frames: the twin of `_mfa.WsReader`, `_mfa.WsError`,
`_mfa.ws_frame` and `_mfa.ws_accept` (cmodules/mfa/mfa_ws.c).

Both implement the contract in docs/internals.md ("WebSocket frames") and take the same
decisions with the same (code, reason); tests/ws runs one case table through both. Runs on
MicroPython 1.25 (unix and rp2: arbitrary-precision ints, used for masking) and CPython 3.11
(no annotations, no `re`). MicroPython's str(b, "utf-8") does not reject overlongs or
surrogates, so text is validated here, byte by byte, as it arrives.

Rules (mfa_ws.h says the same, with the reasons behind them), in the order they are checked:

1. First two header bytes: no RSV bit (no extension is negotiated), a known opcode, masked
   frames to a server and unmasked ones to a client, control frames final and at most 125
   bytes, a continuation only inside a fragmented message and a new message only outside one,
   no 1-byte close payload: 1002.
2. A 64-bit length with the top bit set: 1002; a data frame that would take the message beyond
   max_message: 1009, from the header alone, before any payload is kept.
3. Text is validated as it arrives (1007 at the bad byte, or at the end of the message for a
   sequence left open). A close payload: a valid code (else 1002), a UTF-8 reason (else 1007).

Errors are sticky. A close frame ends the stream: what follows is ignored.
"""

try:
    import hashlib
    _sha1 = hashlib.sha1
except (ImportError, AttributeError):  # unix MicroPython without ssl has only sha256
    _sha1 = None
import binascii

OP_CONT = 0
OP_TEXT = 1
OP_BINARY = 2
OP_CLOSE = 8
OP_PING = 9
OP_PONG = 10

MAX_CONTROL = 125
CLOSE_NO_STATUS = 1005

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# (close code, reason), as in mfa_ws.h's MFA_WS_ERRORS.
E_RSV = (1002, "reserved bits set")
E_OPCODE = (1002, "unknown opcode")
E_NOT_MASKED = (1002, "frame not masked")
E_MASKED = (1002, "masked frame")
E_CONTROL_FRAGMENTED = (1002, "fragmented control frame")
E_CONTROL_TOO_LONG = (1002, "control frame too long")
E_CONTINUATION = (1002, "continuation frame without a message")
E_UNFINISHED = (1002, "new message before the last one ended")
E_CLOSE_LENGTH = (1002, "close frame with a 1-byte payload")
E_LENGTH = (1002, "invalid frame length")
E_TOO_BIG = (1009, "message too big")
E_UTF8 = (1007, "invalid UTF-8 in text message")
E_CLOSE_CODE = (1002, "invalid close code")
E_CLOSE_UTF8 = (1007, "invalid UTF-8 in close reason")
E_NOMEM = (1011, "out of memory")


class WsError(ValueError):
    """A protocol error: args == (close code to send, short English reason)."""


def close_code_valid(code):
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _buf(x):
    """The bytes of a str (UTF-8) or of anything with the buffer protocol."""
    if isinstance(x, str):
        return x.encode()
    return bytes(memoryview(x))


# ---- masking -------------------------------------------------------------------------------------

def apply_mask(data, key, offset=0):
    """data XOR the 4-byte mask key, data[0] being byte `offset` of the payload. One big-int
    XOR, not a loop over the bytes."""
    n = len(data)
    if n == 0:
        return b""
    k = offset & 3
    if k:
        key = key[k:] + key[:k]
    m = int.from_bytes((key * ((n + 3) >> 2))[:n], "big")
    return (int.from_bytes(data, "big") ^ m).to_bytes(n, "big")


# ---- UTF-8 ---------------------------------------------------------------------------------------

def utf8_feed(state, data):
    """Validate data incrementally; state is [need, lo, hi] (need -1 once invalid), carried from
    one call to the next. Returns False at the first invalid byte. RFC 3629: no overlongs, no
    surrogates, nothing above U+10FFFF."""
    need, lo, hi = state
    if need < 0:
        return False
    if need == 0 and (not data or max(data) < 0x80):
        return True
    for b in data:
        if need == 0:
            if b < 0x80:
                continue
            lo = 0x80
            hi = 0xBF
            if 0xC2 <= b <= 0xDF:
                need = 1
            elif 0xE0 <= b <= 0xEF:
                need = 2
                if b == 0xE0:
                    lo = 0xA0
                elif b == 0xED:
                    hi = 0x9F
            elif 0xF0 <= b <= 0xF4:
                need = 3
                if b == 0xF0:
                    lo = 0x90
                elif b == 0xF4:
                    hi = 0x8F
            else:
                state[0] = -1
                return False
        else:
            if b < lo or b > hi:
                state[0] = -1
                return False
            need -= 1
            lo = 0x80
            hi = 0xBF
    state[0] = need
    state[1] = lo
    state[2] = hi
    return True


def utf8_valid(data):
    st = [0, 0x80, 0xBF]
    return utf8_feed(st, data) and st[0] == 0


# ---- the handshake -------------------------------------------------------------------------------

def _b64_char(c):
    return (65 <= c <= 90 or 97 <= c <= 122 or 48 <= c <= 57 or c == 43 or c == 47)


def _rol(x, n):
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def sha1(data):
    """SHA-1 digest: hashlib's when the port has it, else this pure-Python one."""
    if _sha1 is not None:
        return _sha1(data).digest()
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    n = len(data)
    data = bytes(data) + b"\x80" + bytes((55 - n) % 64) + (n * 8).to_bytes(8, "big")
    for off in range(0, len(data), 64):
        w = [int.from_bytes(data[off + 4 * i:off + 4 * i + 4], "big") for i in range(16)]
        for i in range(16, 80):
            w.append(_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1))
        a, b, c, d, e = h
        for i in range(80):
            if i < 20:
                f = (b & c) | (~b & d)
                k = 0x5A827999
            elif i < 40:
                f = b ^ c ^ d
                k = 0x6ED9EBA1
            elif i < 60:
                f = (b & c) | (b & d) | (c & d)
                k = 0x8F1BBCDC
            else:
                f = b ^ c ^ d
                k = 0xCA62C1D6
            t = (_rol(a, 5) + (f & 0xFFFFFFFF) + e + k + w[i]) & 0xFFFFFFFF
            e = d
            d = c
            c = _rol(b, 30)
            b = a
            a = t
        h = [(x + y) & 0xFFFFFFFF for x, y in zip(h, (a, b, c, d, e))]
    return b"".join([x.to_bytes(4, "big") for x in h])


def ws_accept(key):
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (str or bytes), or None unless the key is
    exactly 24 chars of base64 (standard alphabet, '=' padding) decoding to 16 bytes."""
    key = _buf(key)
    if len(key) != 24 or key[22:] != b"==":
        return None
    for c in key[:22]:
        if not _b64_char(c):
            return None
    return binascii.b2a_base64(sha1(key + GUID))[:28].decode()


# ---- frames --------------------------------------------------------------------------------------

def ws_frame(opcode, payload, fin=True, mask=None):
    """One frame: opcode 0-15, payload bytes/bytearray/memoryview or str (UTF-8); unmasked (a
    server's) unless `mask` is a 4-byte key (a client's)."""
    if not 0 <= opcode <= 15:
        raise ValueError("opcode must be 0-15")
    payload = _buf(payload)
    if mask is not None:
        mask = _buf(mask)
        if len(mask) != 4:
            raise ValueError("mask must be 4 bytes")
    n = len(payload)
    b0 = (0x80 if fin else 0) | opcode
    m = 0 if mask is None else 0x80
    if n < 126:
        h = bytes((b0, m | n))
    elif n < 65536:
        h = bytes((b0, m | 126, n >> 8, n & 255))
    else:
        h = bytes((b0, m | 127)) + n.to_bytes(8, "big")
    if mask is None:
        return h + payload
    return h + mask + apply_mask(payload, mask)


# ---- reader --------------------------------------------------------------------------------------

class WsReader:
    """Incremental frame reader. feed(data) takes any slice of the byte stream and returns the
    events it completed: (1, str) text, (2, bytes) binary, (9, bytes) ping, (10, bytes) pong,
    (8, code, reason) close (code 1005 without payload). A protocol error raises
    WsError(code, reason), now and at every later feed (events earlier in that call are
    dropped: the connection is failed). After a close, feed returns [].

    client=False: a server reading a browser (frames must be masked); client=True: a client
    reading a server (frames must not be masked). max_message bounds a message's total length
    (its fragments added up); control frames do not count."""

    def __init__(self, max_message=4096, client=False):
        if max_message < 0:
            raise ValueError("max_message must be >= 0")
        self.max_message = max_message
        self.client = bool(client)
        self._err = None        # (code, reason), sticky
        self._closed = False
        self._at = 0  # where the last event ended in the data of the last feed
        self._hdr = b""         # header bytes of the current frame so far
        self._need = 2          # header bytes in all
        self._ext = 0           # extended length bytes: 0, 2 or 8
        self._op = 0
        self._fin = False
        self._key = None        # mask key of the current frame
        self._left = 0          # payload bytes of the frame still to come
        self._moff = 0          # payload bytes of the frame so far, modulo 4
        self._in_payload = False
        self._msg_op = 0        # TEXT or BINARY while a message is open
        self._msg = []          # unmasked pieces of the message
        self._msg_len = 0
        self._ctl = b""
        self._utf8 = [0, 0x80, 0xBF]

    def _fail(self, err):
        self._err = err
        self._msg = []
        self._msg_len = 0
        raise WsError(err[0], err[1])

    def _check_start(self):
        b0 = self._hdr[0]
        b1 = self._hdr[1]
        op = b0 & 0x0F
        masked = b1 & 0x80
        l7 = b1 & 0x7F
        if b0 & 0x70:
            return E_RSV
        if not (op <= OP_BINARY or OP_CLOSE <= op <= OP_PONG):
            return E_OPCODE
        if not self.client and not masked:
            return E_NOT_MASKED
        if self.client and masked:
            return E_MASKED
        if op >= OP_CLOSE:
            if not b0 & 0x80:
                return E_CONTROL_FRAGMENTED
            if l7 > MAX_CONTROL:
                return E_CONTROL_TOO_LONG
            if op == OP_CLOSE and l7 == 1:
                return E_CLOSE_LENGTH
        elif op == OP_CONT:
            if self._msg_op == 0:
                return E_CONTINUATION
        elif self._msg_op != 0:
            return E_UNFINISHED
        self._op = op
        self._fin = bool(b0 & 0x80)
        self._ext = 2 if l7 == 126 else 8 if l7 == 127 else 0
        self._need = 2 + self._ext + (4 if masked else 0)
        return None

    def _check_length(self):
        h = self._hdr
        if self._ext == 8 and h[2] & 0x80:
            return E_LENGTH
        n = h[1] & 0x7F if self._ext == 0 else int.from_bytes(h[2:2 + self._ext], "big")
        if self._op < OP_CLOSE:
            if n > self.max_message - self._msg_len:
                return E_TOO_BIG
            if self._op != OP_CONT:
                self._msg_op = self._op
                self._msg = []
                self._msg_len = 0
                self._utf8 = [0, 0x80, 0xBF]
        self._left = n
        return None

    def _next_frame(self):
        self._in_payload = False
        self._hdr = b""
        self._need = 2
        self._ext = 0
        self._moff = 0
        self._ctl = b""

    # The frame's payload is complete: the event it makes, or None.
    def _frame_done(self):
        op = self._op
        if op >= OP_CLOSE:
            ctl = self._ctl
            if op != OP_CLOSE:
                self._next_frame()
                return (op, ctl)
            code = CLOSE_NO_STATUS
            reason = ""
            if len(ctl) >= 2:
                code = (ctl[0] << 8) | ctl[1]
                if not close_code_valid(code):
                    self._fail(E_CLOSE_CODE)
                if not utf8_valid(ctl[2:]):
                    self._fail(E_CLOSE_UTF8)
                reason = str(ctl[2:], "utf-8")
            self._closed = True
            self._msg = []
            self._msg_len = 0
            self._msg_op = 0
            return (OP_CLOSE, code, reason)
        self._next_frame()
        if not self._fin:
            return None
        msg_op = self._msg_op
        if msg_op == OP_TEXT and self._utf8[0] != 0:
            self._fail(E_UTF8)
        parts = self._msg
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        self._msg = []
        self._msg_len = 0
        self._msg_op = 0
        if msg_op == OP_TEXT:
            return (OP_TEXT, str(data, "utf-8"))
        return (OP_BINARY, data)

    def feed_one(self, data):
        """feed(data), but when `data` is exactly one whole message, that str or bytes itself
        (instead of [(kind, message)])."""
        ev = self.feed(data)
        if len(ev) == 1 and (ev[0][0] == 1 or ev[0][0] == 2) and self._at == len(data):
            return ev[0][1]  # (it ended where data did)
        return ev

    def feed(self, data):
        if self._err is not None:
            raise WsError(self._err[0], self._err[1])
        if self._closed:
            return []
        mv = memoryview(data)
        n = len(mv)
        i = 0
        events = []
        while i < n:
            if not self._in_payload:
                have = len(self._hdr)
                # Checks fall on fixed header bytes (2, then 2 + extended length), as in C.
                stop = 2 if have < 2 else 2 + self._ext if have < 2 + self._ext else self._need
                k = min(stop - have, n - i)
                self._hdr += bytes(mv[i:i + k])
                i += k
                have += k
                err = None
                if have == 2 and stop == 2:
                    err = self._check_start()
                    if err is None and self._ext == 0:
                        err = self._check_length()
                elif have == stop and stop == 2 + self._ext and self._ext:
                    err = self._check_length()
                if err is not None:
                    self._fail(err)
                if have < self._need:
                    continue
                self._key = self._hdr[-4:] if self._hdr[1] & 0x80 else None
                self._in_payload = True
                if self._left == 0:
                    ev = self._frame_done()
                    if ev is not None:
                        events.append(ev)
                        self._at = i  # (where the last event ended: feed_one)
                        if self._closed:
                            return events
                continue
            k = min(n - i, self._left)
            piece = mv[i:i + k]
            try:
                if self._key is None:
                    piece = bytes(piece)
                else:
                    piece = apply_mask(piece, self._key, self._moff)
                if self._op >= OP_CLOSE:
                    self._ctl += piece
                else:
                    self._msg.append(piece)
                    self._msg_len += k
            except MemoryError:
                self._fail(E_NOMEM)
            if self._op < OP_CLOSE and self._msg_op == OP_TEXT:
                if not utf8_feed(self._utf8, piece):
                    self._fail(E_UTF8)
            i += k
            self._left -= k
            self._moff = (self._moff + k) & 3
            if self._left == 0:
                ev = self._frame_done()
                if ev is not None:
                    events.append(ev)
                    self._at = i
                    if self._closed:
                        return events
        return events
