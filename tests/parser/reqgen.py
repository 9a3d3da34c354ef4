"""Generated HTTP requests for the differential test: valid ones built from parts, and
invalid ones made by mutating valid ones (random bytes, and the classic smuggling shapes)."""
import random

METHODS = [b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"HEAD", b"OPTIONS"]
PCHARS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%"
NAMES = [b"Accept", b"User-Agent", b"Accept-Language", b"Cookie", b"X-Request-Id", b"Referer",
         b"Content-Type", b"Cache-Control", b"Origin", b"X-Custom-Header", b"Authorization"]
VALUE_CHARS = (b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
               b" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\t")
SPECIAL = [b"\x00", b"\r", b"\n", b" ", b"\t", b":", b"\x7f", b"\x80", b"\xff", b"(", b"\x0b",
           b"\x01", b"/", b"?", b"\xc3\xa9", b",", b";", b"=", b"\r\n", b"\r\n ", b"\n\n"]


def _seg(r):
    return bytes(r.choice(PCHARS) for _ in range(r.randint(0, 8))).replace(b"%", b"%2F")


def _body_chunked(r, body):
    out = b""
    i = 0
    while i < len(body):
        n = r.randint(1, 10)
        piece = body[i:i + n]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
        i += n
    return out + b"0\r\n\r\n"


def valid_request(r):
    """(raw bytes, body bytes): a request the parser must accept."""
    method = r.choice(METHODS)
    path = b"/" + b"/".join(_seg(r) for _ in range(r.randint(0, 4)))
    if r.random() < 0.5:
        path += b"?" + b"&".join(_seg(r) + b"=" + _seg(r) for _ in range(r.randint(0, 3)))
    version = b"1.1" if r.random() < 0.85 else b"1.0"
    headers = []
    if version == b"1.1" or r.random() < 0.5:
        headers.append((b"Host", b"example.com"))
    for _ in range(r.randint(0, 10)):
        name = r.choice(NAMES)
        if r.random() < 0.3:
            name = name.lower()
        value = bytes(r.choice(VALUE_CHARS) for _ in range(r.randint(0, 30))).strip(b" \t")
        headers.append((name, value))
    if r.random() < 0.3:
        headers.append((b"Connection", r.choice([b"close", b"keep-alive", b"Keep-Alive",
                                                  b"upgrade, close", b"foo"])))
    body = b""
    framing = r.random()
    if method in (b"POST", b"PUT", b"PATCH") and framing < 0.8:
        body = bytes(r.randint(32, 126) for _ in range(r.randint(0, 40)))
        if framing < 0.5 or version == b"1.0":
            headers.append((b"Content-Length", b"%d" % len(body)))
            wire_body = body
        else:
            headers.append((b"Transfer-Encoding", b"chunked"))
            wire_body = _body_chunked(r, body)
    else:
        wire_body = b""
    r.shuffle(headers)
    ows = [b"", b" ", b"  ", b"\t"]
    raw = method + b" " + path + b" HTTP/" + version + b"\r\n"
    for k, v in headers:
        raw += k + b":" + r.choice(ows) + v + r.choice(ows[:2]) + b"\r\n"
    raw += b"\r\n"
    return raw, body, wire_body


SMUGGLE = [
    lambda raw: raw.replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 1),
    lambda raw: raw.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", 1),
    lambda raw: raw.replace(b"\r\n\r\n", b"\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 1),
    lambda raw: raw.replace(b"\r\n\r\n", b"\r\nContent-Length: +1\r\n\r\n", 1),
    lambda raw: raw.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding : chunked\r\n\r\n", 1),
    lambda raw: raw.replace(b"\r\n\r\n", b"\r\nX: y\r\n folded\r\n\r\n", 1),
    lambda raw: raw.replace(b"\r\n", b"\n"),
    lambda raw: raw.replace(b"HTTP/1.1", b"HTTP/1.2", 1),
    lambda raw: raw.replace(b"HTTP/1.", b"HTTP/2.", 1),
    lambda raw: raw.replace(b"HTTP/1.", b"HTTP/0.", 1),
    lambda raw: raw.replace(b" /", b" http://example.com/", 1),
    lambda raw: raw.replace(b"Host: example.com\r\n", b"", 1),
    lambda raw: raw.replace(b"Host: example.com\r\n", b"Host: a\r\nHost: b\r\n", 1),
    lambda raw: raw.replace(b"\r\n\r\n", b"\r\nTransfer-Encoding: gzip\r\n\r\n", 1),
    lambda raw: raw.replace(b"\r\n\r\n", b"\r\nContent-Length: 99999999999999999999\r\n\r\n", 1),
    lambda raw: b"\r\n" + raw,
    lambda raw: raw.replace(b" ", b"  ", 1),
]


def mutate(r, raw):
    """An invalid-looking variant of a valid head (it may still be valid)."""
    k = r.random()
    if k < 0.3:
        return r.choice(SMUGGLE)(raw)
    n = len(raw) - 4  # keep the final CRLFCRLF so the head stays complete
    out = raw
    for _ in range(r.randint(1, 3)):
        i = r.randint(0, max(0, n - 1))
        op = r.random()
        if op < 0.5:
            out = out[:i] + r.choice(SPECIAL) + out[i:]
        elif op < 0.8:
            out = out[:i] + r.choice(SPECIAL) + out[i + 1:]
        else:
            out = out[:i] + out[i + 1:]
        n = len(out) - 4
    if not out.endswith(b"\r\n\r\n"):
        out += b"\r\n\r\n"
    return out


def generate(seed, count):
    """count (raw, body, wire_body, kind) tuples; kind 'valid' or 'mutated'."""
    r = random.Random(seed)
    out = []
    for i in range(count):
        raw, body, wire = valid_request(r)
        if i % 2:
            out.append((mutate(r, raw), None, wire, "mutated"))
        else:
            out.append((raw, body, wire, "valid"))
    return out
