"""The multipart case table (docs/internals.md, "Multipart bodies"): bodies and what the reader
must report for them. test_multipart.py runs every case through `_mfa` on the unix build, the
twin on the unix-pure build and the twin on CPython (and adds bodies made by requests).

A case: Case(name, boundary, body, events, error=None, max_parts=64, max_header=1024).
`events` are the events in order with data merged: (1, name, filename, content_type, headers),
(2, bytes), (3,), (4,). `error` is MultipartError's args, raised by feed or by finish (None: the
body is complete and finish returns None).
"""

CD = b"Content-Disposition: form-data; name="


class Case:
    def __init__(self, name, boundary, body, events, error=None, max_parts=64, max_header=1024):
        self.name = name
        self.boundary = boundary
        self.body = bytes(body)
        self.events = list(events)
        self.error = error
        self.max_parts = max_parts
        self.max_header = max_header


def part(name, content, filename=None, ct=None, headers=None):
    """The events of one part whose only headers are the usual ones (or `headers`)."""
    if headers is None:
        cd = 'form-data; name="%s"' % name
        if filename is not None:
            cd += '; filename="%s"' % filename
        headers = [("content-disposition", cd)]
        if ct is not None:
            headers.append(("content-type", ct))
    ev = [(1, name, filename, ct, headers)]
    if content:
        ev.append((2, content))
    ev.append((3,))
    return ev


def body(boundary, parts, end=b"--\r\n"):
    """A well-formed body: parts are (name, content, filename, content_type)."""
    b = boundary.encode() if isinstance(boundary, str) else boundary
    out = b""
    for name, content, filename, ct in parts:
        h = b'Content-Disposition: form-data; name="' + name.encode() + b'"'
        if filename is not None:
            h += b'; filename="' + filename.encode() + b'"'
        out += b"--" + b + b"\r\n" + h + b"\r\n"
        if ct is not None:
            out += b"Content-Type: " + ct.encode() + b"\r\n"
        out += b"\r\n" + content + b"\r\n"
    return out + b"--" + b + end


def events_of(parts):
    ev = []
    for name, content, filename, ct in parts:
        ev += part(name, content, filename, ct)
    return ev + [(4,)]


def binary(n, seed=1):
    """n varied bytes (every value, CRs and LFs among them), no randomness module needed."""
    x = seed
    out = bytearray()
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7fffffff
        out.append((x >> 16) & 255)
    return bytes(out)


BAD_HEADERS = (400, "multipart: bad part headers")
NO_NAME = (400, "multipart: part without a Content-Disposition form-data name")
NO_START = (400, "multipart: body does not start with the boundary")
DELIM = (400, "multipart: bad delimiter")
MISSING = (400, "multipart: missing final boundary")
BAD_BOUNDARY = (400, "multipart: bad boundary")

# A form posted by Chromium (HeadlessChrome 156 on Linux, captured from a real submission of an
# HTML form: a text field with UTF-8, a textarea, a file whose name has quotes and a backslash,
# set through DataTransfer, and a file input left empty). Chromium sends `"` in a filename as
# %22 and a backslash as it is (the HTML standard's rule), an empty file input as filename=""
# with application/octet-stream and no content.
CHROMIUM_BOUNDARY = "----WebKitFormBoundary33tZP6vxyzqyVNYA"
CHROMIUM = (
    b'------WebKitFormBoundary33tZP6vxyzqyVNYA\r\n'
    b'Content-Disposition: form-data; name="title"\r\n'
    b'\r\n'
    b'Hello, \xce\xba\xcf\x8c\xcf\x83\xce\xbc\xce\xb5\r\n'
    b'------WebKitFormBoundary33tZP6vxyzqyVNYA\r\n'
    b'Content-Disposition: form-data; name="note"\r\n'
    b'\r\n'
    b'line 1\r\n'
    b'line 2\r\n'
    b'------WebKitFormBoundary33tZP6vxyzqyVNYA\r\n'
    b'Content-Disposition: form-data; name="upload"; filename="report %22final%22\\v2.bin"\r\n'
    b'Content-Type: application/octet-stream\r\n'
    b'\r\n'
    b'\x7fELF\r\n'
    b'--\r\n'
    b'\x00\xff\r\n'
    b'------WebKitFormBoundary\r\n'
    b'\r\n'
    b'------WebKitFormBoundary33tZP6vxyzqyVNYA\r\n'
    b'Content-Disposition: form-data; name="nothing"; filename=""\r\n'
    b'Content-Type: application/octet-stream\r\n'
    b'\r\n'
    b'\r\n'
    b'------WebKitFormBoundary33tZP6vxyzqyVNYA--\r\n')
CHROMIUM_EVENTS = (
    part("title", "Hello, κόσμε".encode()) + part("note", b"line 1\r\nline 2")
    + part("upload", b"\x7fELF\r\n--\r\n\x00\xff\r\n------WebKitFormBoundary\r\n",
           'report %22final%22\\v2.bin', "application/octet-stream")
    + part("nothing", b"", "", "application/octet-stream") + [(4,)])

# curl -F 'name=value' -F 'file=@a"b.txt;type=text/plain' (curl 7.68: backslash escapes;
# curl 7.81 and later send %22 like a browser).
CURL_BOUNDARY = "------------------------d74496d66958873e"
CURL = (
    b"--------------------------d74496d66958873e\r\n"
    b"Content-Disposition: form-data; name=\"name\"\r\n\r\nvalue\r\n"
    b"--------------------------d74496d66958873e\r\n"
    b"Content-Disposition: form-data; name=\"file\"; filename=\"a\\\"b.txt\"\r\n"
    b"Content-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n\r\n"
    b"--------------------------d74496d66958873e--\r\n")
CURL_EVENTS = (
    part("name", b"value")
    + part("file", b"line 1\r\nline 2\r\n", 'a"b.txt', "text/plain",
           headers=[("content-disposition", 'form-data; name="file"; filename="a\\"b.txt"'),
                    ("content-type", "text/plain")])
    + [(4,)])
CURL_NEW = CURL.replace(b'a\\"b.txt', b"a%22b.txt")
CURL_NEW_EVENTS = (
    part("name", b"value") + part("file", b"line 1\r\nline 2\r\n", "a%22b.txt", "text/plain")
    + [(4,)])

BIG = binary(20000, 7)
NEAR = b"".join([b"\r\n--XyZ"[:k] + b"!" for k in range(7)] + [b"--XyZ\r\n", b"\r--XyZ--"])


def cases():
    c = []
    add = c.append
    A = part("a", b"hello")
    add(Case("one field", "b", body("b", [("a", b"hello", None, None)]), A + [(4,)]))
    add(Case("chromium", CHROMIUM_BOUNDARY, CHROMIUM, CHROMIUM_EVENTS))
    add(Case("curl, backslash escape", CURL_BOUNDARY, CURL, CURL_EVENTS))
    add(Case("curl, percent escape", CURL_BOUNDARY, CURL_NEW, CURL_NEW_EVENTS))
    add(Case("boundary as bytes", b"b", body("b", [("a", b"hello", None, None)]), A + [(4,)]))
    add(Case("empty content", "b", body("b", [("a", b"", None, None)]), part("a", b"") + [(4,)]))
    add(Case("no parts", "b", b"--b--", [(4,)]))
    add(Case("no parts, CRLF first", "b", b"\r\n--b--\r\n", [(4,)]))
    add(Case("CRLF before the first boundary", "b",
             b"\r\n" + body("b", [("a", b"hello", None, None)]), A + [(4,)]))
    add(Case("epilogue", "b", body("b", [("a", b"hello", None, None)], b"--junk\r\n--b\r\nx"),
             A + [(4,)]))
    add(Case("no CRLF after the final boundary", "b",
             body("b", [("a", b"hello", None, None)], b"--"), A + [(4,)]))
    parts = [("f%d" % i, binary(i * 37 % 300, i), "f%d.bin" % i if i % 2 else None,
              "application/octet-stream" if i % 3 == 0 else None) for i in range(6)]
    add(Case("six parts of binary", "XyZ", body("XyZ", parts), events_of(parts)))
    add(Case("content like the delimiter", "XyZ", body("XyZ", [("n", NEAR, None, None)]),
             events_of([("n", NEAR, None, None)])))
    add(Case("boundary in the content without CRLF", "XyZ",
             body("XyZ", [("n", b"--XyZ\n--XyZ\r--XyZ--\r\n\n--XyZ", None, None)]),
             events_of([("n", b"--XyZ\n--XyZ\r--XyZ--\r\n\n--XyZ", None, None)])))
    # The header block's empty line is not the CRLF of a delimiter: "--b" right after it is
    # content (as python-multipart has it too).
    add(Case("boundary right after the headers", "b",
             b"--b\r\n" + CD + b"a\r\n\r\n--b--\r\n--b--",
             part("a", b"--b--", headers=[("content-disposition", "form-data; name=a")])
             + [(4,)]))
    add(Case("content ends in CR", "b", body("b", [("a", b"x\r", None, None)]),
             part("a", b"x\r") + [(4,)]))
    add(Case("content ends in CRLF", "b", body("b", [("a", b"x\r\n", None, None)]),
             part("a", b"x\r\n") + [(4,)]))
    add(Case("20 KB binary file", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
             body("----WebKitFormBoundary7MA4YWxkTrZu0gW", [("f", BIG, "b.bin", "image/png")]),
             events_of([("f", BIG, "b.bin", "image/png")])))
    add(Case("transport padding", "b",
             b"--b \t\r\n" + CD + b"a\r\n\r\nx\r\n--b  \r\n" + CD + b"c\r\n\r\ny\r\n--b--",
             part("a", b"x", headers=[("content-disposition", "form-data; name=a")])
             + part("c", b"y", headers=[("content-disposition", "form-data; name=c")])
             + [(4,)]))
    # Content-Disposition and other headers.
    add(Case("params any case and spacing", "b",
             b"--b\r\nCONTENT-disposition:Form-Data ;NAME = \"x;y\" ; FileName= f.txt ;;\r\n"
             b"Content-Type:  image/png  \r\n\r\n\r\n--b--",
             [(1, "x;y", "f.txt", "image/png",
               [("content-disposition", 'Form-Data ;NAME = "x;y" ; FileName= f.txt ;;'),
                ("content-type", "image/png")]), (3,), (4,)]))
    add(Case("quoted escapes", "b",
             b'--b\r\n' + CD + b'"a\\"q\\\\b\\c"; filename="C:\\\\x\\y.txt"\r\n\r\n\r\n--b--',
             [(1, 'a"q\\b\\c', "C:\\x\\y.txt", None,
               [("content-disposition",
                 'form-data; name="a\\"q\\\\b\\c"; filename="C:\\\\x\\y.txt"')]),
              (3,), (4,)]))
    add(Case("empty name and filename", "b",
             b'--b\r\n' + CD + b'""; filename=""\r\n\r\n\r\n--b--',
             [(1, "", "", None, [("content-disposition", 'form-data; name=""; filename=""')]),
              (3,), (4,)]))
    add(Case("filename* ignored", "b",
             b"--b\r\n" + CD + b"a; filename*=UTF-8''%e2%82%ac.txt\r\n\r\n\r\n--b--",
             [(1, "a", None, None,
               [("content-disposition", "form-data; name=a; filename*=UTF-8''%e2%82%ac.txt")]),
              (3,), (4,)]))
    add(Case("utf-8 name and filename", "b",
             b'--b\r\n' + CD + '"κόσμε"; filename="€ 𝄞.txt"'.encode() + b"\r\n\r\n\r\n--b--",
             [(1, "κόσμε", "€ 𝄞.txt", None,
               [("content-disposition", 'form-data; name="κόσμε"; filename="€ 𝄞.txt"')]),
              (3,), (4,)]))
    add(Case("other headers kept in order", "b",
             b"--b\r\nX-A: 1\r\n" + CD + b"a\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n\r\n--b--",
             [(1, "a", None, None, [("x-a", "1"), ("content-disposition", "form-data; name=a"),
                                    ("x-empty", ""), ("x-tab", "v")]), (3,), (4,)]))
    # Errors: the start and delimiters.
    add(Case("preamble", "b", b"preamble\r\n--b--", [], NO_START))
    add(Case("wrong boundary", "b", b"--c\r\n", [], NO_START))
    add(Case("two CRLFs first", "b", b"\r\n\r\n--b--", [], NO_START))
    add(Case("LF first", "b", b"\n--b--", [], NO_START))
    add(Case("empty body", "b", b"", [], MISSING))
    add(Case("delimiter then text", "b", body("b", [("a", b"hello", None, None)], b"x\r\n"),
             A[:2], DELIM))
    add(Case("first delimiter then text", "b", b"--bb\r\n", [], DELIM))
    add(Case("one dash", "b", body("b", [("a", b"hello", None, None)], b"-\r\n"), A[:2], DELIM))
    add(Case("padding then text", "b", b"--b  x\r\n", [], DELIM))
    add(Case("CR without LF", "b", b"--b\rx", [], DELIM))
    add(Case("LF only after the boundary", "b", b"--b\n", [], DELIM))
    add(Case("missing final boundary", "b", body("b", [("a", b"hello", None, None)], b"\r\n"),
             A, MISSING))
    add(Case("cut in the content", "b", body("b", [("a", b"hello", None, None)])[:-11],
             A[:1] + [(2, b"hel")], MISSING))
    add(Case("cut in the headers", "b", b"--b\r\n" + CD + b"a", [], MISSING))
    # Errors: headers.
    add(Case("no headers", "b", b"--b\r\n\r\nx\r\n--b--", [], NO_NAME))
    add(Case("no name", "b", b"--b\r\nContent-Disposition: form-data; filename=a\r\n\r\n", [],
             NO_NAME))
    add(Case("not form-data", "b", b"--b\r\nContent-Disposition: attachment; name=a\r\n\r\n",
             [], NO_NAME))
    add(Case("no Content-Disposition", "b", b"--b\r\nContent-Type: text/plain\r\n\r\n", [],
             NO_NAME))
    for name, h in (("line without colon", b"foo"), ("space before colon", b"X-A : 1"),
                    ("empty header name", b": x"), ("obs-fold", b"X-A: 1\r\n 2"),
                    ("bad name char", b"X(A): 1"), ("NUL in a value", b"X: a\x00b"),
                    ("DEL in a value", b"X: \x7f"), ("bad UTF-8", b"X: \xc0\xaf"),
                    ("surrogate", b"X: \xed\xa0\x80"), ("truncated UTF-8", b"X: \xe2\x82"),
                    ("two Content-Dispositions", CD + b"b"),
                    ("two Content-Types", b"Content-Type: a\r\ncontent-type: b")):
        add(Case(name, "b", b"--b\r\n" + CD + b"a\r\n" + h + b"\r\n\r\nx\r\n--b--", [],
                 BAD_HEADERS))
    for name, v in (("two names", b"a; name=b"), ("two filenames", b"a; filename=x; FILENAME=y"),
                    ("unterminated quote", b'"a'), ("escaped closing quote", b'"a\\"'),
                    ("text after the quote", b'"a"b'), ("quote in a token", b'a"b'),
                    ("parameter without =", b"a; foo"), ("bad parameter key", b"a; f@o=1"),
                    ("empty parameter key", b"a; =1")):
        add(Case(name, "b", b"--b\r\n" + CD + v + b"\r\n\r\nx\r\n--b--", [], BAD_HEADERS))
    add(Case("bare LF in headers", "b", b"--b\r\n" + CD + b"a\n\r\n", [], BAD_HEADERS))
    add(Case("LF-only headers", "b", b"--b\r\n" + CD + b"a\n\nx\n--b--", [], BAD_HEADERS))
    add(Case("bare CR in headers", "b", b"--b\r\n" + CD + b"a\rb\r\n\r\n", [], BAD_HEADERS))
    # Limits.
    two = body("b", [("a", b"", None, None), ("a", b"", None, None)])
    add(Case("max_parts exactly", "b", two, part("a", b"") * 2 + [(4,)], max_parts=2))
    add(Case("max_parts + 1", "b", two, part("a", b"")[:1],
             (413, "multipart: too many parts (limit 1)"), max_parts=1))
    add(Case("max_parts 0", "b", two, [], (413, "multipart: too many parts (limit 0)"),
             max_parts=0))
    add(Case("max_parts 0, no parts", "b", b"--b--", [(4,)], max_parts=0))
    add(Case("max_header exactly", "b", two, part("a", b"") * 2 + [(4,)], max_header=44))
    add(Case("max_header - 1", "b", two, [], (413, "multipart: part headers too large (limit 43)"),
             max_header=43))
    add(Case("max_header before a bad byte", "b", b"--b\r\nabc\ndef", [],
             (413, "multipart: part headers too large (limit 3)"), max_header=3))
    add(Case("bad byte before max_header", "b", b"--b\r\nab\ndef", [], BAD_HEADERS,
             max_header=3))
    add(Case("max_header 0", "b", two, [], (413, "multipart: part headers too large (limit 0)"),
             max_header=0))
    # Boundaries (the constructor raises).
    for name, b in (("empty boundary", ""), ("boundary with a quote", 'a"b'),
                    ("boundary ending in space", "ab "), ("boundary of 71", "x" * 71),
                    ("boundary with CR", "a\rb"), ("non-ASCII boundary", "é")):
        add(Case(name, b, b"--" + b.encode() + b"--", [], BAD_BOUNDARY))
    b70 = "'()+_,-./:=? azAZ09" + "0123456789" * 5 + "0"
    add(Case("boundary of 70 with every bchar", b70, b"--" + b70.encode() + b"--", [(4,)]))
    return c


# multipart_boundary(Content-Type value) -> bytes, or MultipartError (400, "multipart: no boundary").
BOUNDARIES = [
    ("multipart/form-data; boundary=----WebKitFormBoundaryePkpFF7tjBAqx29L",
     b"----WebKitFormBoundaryePkpFF7tjBAqx29L"),
    ('multipart/form-data; boundary="quoted; with space"', b"quoted; with space"),
    ("Multipart/Form-Data;BOUNDARY=abc", b"abc"),
    ("multipart/form-data; charset=utf-8; boundary = x ", b"x"),
    ("multipart/form-data; boundary=x; boundary=y", b"y"),
    ("multipart/form-data", None),
    ("multipart/form-data; boundary=", None),
    ('multipart/form-data; boundary=""', None),
    ("multipart/form-data; boundary", None),
    ('multipart/form-data; boundary="abc', None),
    ("", None),
    ("text/plain; boundary=abc", b"abc"),
]
