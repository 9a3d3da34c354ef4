#!/usr/bin/env python3
"""Writes tests/hostile/corpus/*.http: the hostile-input corpus (committed data; rerun this after
changing a case and commit both). Each expected outcome comes from the rules in
cmodules/mfa/mfa_http.h / docs/internals.md, written down here case by case, never from running
a parser. Record format: see tests/hostile/sim.py.

    python3 tests/hostile/gen_corpus.py          # rewrite the corpus
    python3 tests/hostile/gen_corpus.py --check  # exit 1 if the files are not what it writes
"""
import pathlib
import random
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sim import format_record  # noqa: E402

CORPUS = HERE / "corpus"
TCHAR = set(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
SEPARATORS = b'"(),/:;<=>?@[\\]{}'


def req(line=b"GET / HTTP/1.1", headers=((b"Host", b"x"),), body=b""):
    out = line + b"\r\n"
    for k, v in headers:
        out += k + b": " + v + b"\r\n"
    return out + b"\r\n" + body


GET = req()
H = ((b"Host", b"x"),)


def post(body, extra=(), path=b"/echo"):
    return req(b"POST " + path + b" HTTP/1.1",
               H + ((b"Content-Length", str(len(body)).encode()),) + tuple(extra), body)


def chunked(body_wire, extra=(), path=b"/echo"):
    return req(b"POST " + path + b" HTTP/1.1",
               H + ((b"Transfer-Encoding", b"chunked"),) + tuple(extra), body_wire)


def request_line():
    c = []
    a = c.append
    a(("double-space", "400", b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"))
    a(("trailing-space", "400", b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n"))
    a(("leading-space", "400", b" GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    a(("tabs", "400", b"GET\t/\tHTTP/1.1\r\nHost: x\r\n\r\n"))
    a(("http09", "400", b"GET /\r\n\r\n"))
    a(("method-only", "400", b"GET\r\n\r\n"))
    # RFC 9112 2.2: up to 4 empty lines before a request line are ignored; more are a 400
    a(("empty-line-first", "200", b"\r\n" + GET))
    a(("four-empty-lines-first", "200", b"\r\n" * 4 + GET))
    a(("five-empty-lines-first", "400", b"\r\n" * 5 + GET))
    a(("two-empty-lines", "close", b"\r\n\r\n"))
    a(("six-empty-lines", "400", b"\r\n" * 6))
    a(("lf-request-line", "400", b"GET / HTTP/1.1\nHost: x\r\n\r\n"))
    a(("all-lf", "400", b"GET / HTTP/1.1\nHost: x\n\n"))
    a(("cr-in-line", "400", b"GET /\r HTTP/1.1\r\nHost: x\r\n\r\n"))
    a(("crcrlf", "400", b"GET / HTTP/1.1\r\r\nHost: x\r\n\r\n"))
    for v in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.2", b"HTTP/3.0", b"HTTP/9.9", b"HTTP/0.0",
              b"HTTP/2.1"):
        a(("version-" + v[5:].decode(), "505", req(b"GET / " + v)))
    for i, v in enumerate((b"HTTP/1.10", b"HTTP/1", b"http/1.1", b"HTTP/1.x", b"HTTP/11",
                           b"HTTPS/1.1", b"HTTP/1,1", b"HTTP/1.1.1", b"HTTP/a.1", b"HTTP1.1",
                           b"HTTP/-1.1", b"HTTP/\xd9\xa1.1", b"HTTP/01.1")):
        a(("version-bad-%d" % i, "400", req(b"GET / " + v)))
    for ch in sorted(set(SEPARATORS)):
        a(("method-sep-%02x" % ch, "400", req(b"GE" + bytes([ch]) + b"T / HTTP/1.1")))
    for ch in (0x00, 0x01, 0x7f, 0x80, 0xff):
        a(("method-ctl-%02x" % ch, "400", req(b"GE" + bytes([ch]) + b"T / HTTP/1.1")))
    # any token is a method for the parser; the router answers 405 for unknown ones
    for m in (b"get", b"FOO", b"PROPFIND", b"CONNECT", b"TRACE", b"M" * 200,
              b"!#$%&'*+-.^_`|~"):
        a(("method-token-%s" % m[:12].decode().replace("%", "pct").replace("!", "x")[:12],
           "405", req(m + b" / HTTP/1.1")))
    a(("target-relative", "400", req(b"GET foo HTTP/1.1")))
    a(("target-absolute", "400", req(b"GET http://x/ HTTP/1.1")))
    a(("target-authority", "400", req(b"CONNECT x:443 HTTP/1.1")))
    a(("target-star-get", "400", req(b"GET * HTTP/1.1")))
    a(("target-star-options", "404", req(b"OPTIONS * HTTP/1.1")))
    a(("target-empty-path-query", "400", req(b"GET ?a=b HTTP/1.1")))
    for ch in list(range(0x00, 0x20)) + [0x7f, 0x80, 0xc3, 0xff]:
        a(("target-byte-%02x" % ch, "400", req(b"GET /a" + bytes([ch]) + b"b HTTP/1.1")))
    a(("target-utf8", "400", req("GET /caf\u00e9 HTTP/1.1".encode())))
    # legal targets: the parser keeps them raw; only / and /echo exist
    a(("target-query", "200", req(b"GET /?a=b&c=%zz&&=&%00 HTTP/1.1")))
    a(("target-pct-nul", "404", req(b"GET /%00 HTTP/1.1")))
    a(("target-fragment", "404", req(b"GET /# HTTP/1.1")))
    a(("target-dotdot", "404", req(b"GET /../../etc/passwd HTTP/1.1")))
    a(("target-double-slash", "307", req(b"GET // HTTP/1.1")))
    a(("target-many-questions", "200", req(b"GET /??? HTTP/1.1")))
    a(("http10-no-host", "200", b"GET / HTTP/1.0\r\n\r\n"))
    return c


def headers():
    c = []
    a = c.append
    a(("host-missing", "400", b"GET / HTTP/1.1\r\n\r\n"))
    a(("host-missing-other", "400", b"GET / HTTP/1.1\r\nHosts: x\r\n\r\n"))
    a(("host-twice", "400", req(headers=H + H)))
    a(("host-twice-case", "400", req(headers=H + ((b"HOST", b"y"),))))
    a(("host-twice-http10", "400", req(b"GET / HTTP/1.0", H + H)))
    a(("host-empty", "200", b"GET / HTTP/1.1\r\nHost:\r\n\r\n"))
    a(("host-no-space", "200", b"GET / HTTP/1.1\r\nHost:x\r\n\r\n"))
    a(("host-upper", "200", b"GET / HTTP/1.1\r\nHOST: x\r\n\r\n"))
    a(("space-before-colon", "400", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"))
    a(("tab-before-colon", "400", b"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n"))
    a(("obs-fold-space", "400", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"))
    a(("obs-fold-tab", "400", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n"))
    a(("obs-fold-first", "400", b"GET / HTTP/1.1\r\n Host: x\r\n\r\n"))
    a(("obs-fold-host", "400", b"GET / HTTP/1.1\r\nHost:\r\n x\r\n\r\n"))
    a(("no-colon", "400", b"GET / HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n"))
    a(("empty-name", "400", b"GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n"))
    a(("name-space-inside", "400", b"GET / HTTP/1.1\r\nHost: x\r\nX A: v\r\n\r\n"))
    a(("colon-in-value", "200", b"GET / HTTP/1.1\r\nHost: x\r\nX:Y: z\r\n\r\n"))
    for ch in sorted(set(SEPARATORS) - {ord(":")}):
        a(("name-sep-%02x" % ch, "400",
           b"GET / HTTP/1.1\r\nHost: x\r\nX" + bytes([ch]) + b"Y: v\r\n\r\n"))
    for ch in (0x00, 0x01, 0x09, 0x0b, 0x7f, 0x80, 0xc3, 0xff):
        a(("name-byte-%02x" % ch, "400",
           b"GET / HTTP/1.1\r\nHost: x\r\nX" + bytes([ch]) + b"Y: v\r\n\r\n"))
    for ch in list(range(0x00, 0x09)) + list(range(0x0a, 0x20)) + [0x7f]:
        a(("value-ctl-%02x" % ch, "400",
           b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a" + bytes([ch]) + b"b\r\n\r\n"))
    a(("value-tab", "200", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\n\r\n"))
    a(("value-ows", "200", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: \t a b \t \r\n\r\n"))
    a(("value-empty", "200", b"GET / HTTP/1.1\r\nHost: x\r\nX-A:\r\n\r\n"))
    a(("value-utf8", "200", "GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\u00e9 \u2603 \U0001F600\r\n\r\n".encode()))
    for i, bad in enumerate((b"\xff", b"\xe9", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80",
                             b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xc3", b"\xe2\x98",
                             b"\x80", b"\xbf", b"\xfe\xfe")):
        a(("value-bad-utf8-%d" % i, "400",
           b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a" + bad + b"b\r\n\r\n"))
    a(("lf-in-middle", "400", b"GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"))
    a(("lf-lf-end", "400", b"GET / HTTP/1.1\r\nHost: x\r\n\n"))
    # CR CR LF is no empty line: the head never ends, the client leaves
    a(("cr-cr-lf-end", "close", b"GET / HTTP/1.1\r\nHost: x\r\n\r\r\n"))
    a(("headers-32", "200", req(headers=H + tuple((b"X-%d" % i, b"v") for i in range(31)))))
    a(("headers-33", "431", req(headers=H + tuple((b"X-%d" % i, b"v") for i in range(32)))))
    a(("headers-100", "431", req(headers=H + tuple((b"X-%d" % i, b"v") for i in range(99)))))
    a(("connection-close", "200", req(headers=H + ((b"Connection", b"close"),))))
    a(("connection-list", "200", req(headers=H + ((b"Connection", b"keep-alive, , CLOSE"),))))
    a(("expect-continue", "200",
       req(b"POST /echo HTTP/1.1", H + ((b"Expect", b"100-continue"),
                                        (b"Content-Length", b"3")), b"abc")))
    a(("expect-other", "200", req(headers=H + ((b"Expect", b"200-ok"),))))
    a(("lowercase-names", "200", b"GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n"))
    a(("tchar-name", "200", b"GET / HTTP/1.1\r\nHost: x\r\nX-!#$%&'*+-.^_`|~: v\r\n\r\n"))
    return c


def smuggling():
    c = []
    a = c.append
    body = b"5\r\nhello\r\n0\r\n\r\n"
    for i, (k1, v1, k2, v2) in enumerate((
            (b"Content-Length", b"17", b"Transfer-Encoding", b"chunked"),
            (b"Transfer-Encoding", b"chunked", b"Content-Length", b"17"),
            (b"Content-Length", b"0", b"Transfer-Encoding", b"chunked"),
            (b"Transfer-Encoding", b"chunked", b"Content-Length", b"0"),
            (b"content-length", b"6", b"transfer-encoding", b"CHUNKED"),
            (b"Content-Length", b"4", b"Transfer-Encoding", b"identity"),
    )):
        exp = "501" if v2 == b"identity" else "400"
        a(("cl-te-%d" % i, exp,
           req(b"POST /echo HTTP/1.1", H + ((k1, v1), (k2, v2)), body)))
    a(("cl-te-classic", "400", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
       b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"))
    a(("cl-dup-conflict", "400", req(b"POST /echo HTTP/1.1",
                                      H + ((b"Content-Length", b"5"), (b"Content-Length", b"6")),
                                      b"hello!")))
    a(("cl-dup-same", "200", req(b"POST /echo HTTP/1.1",
                                  H + ((b"Content-Length", b"5"), (b"Content-Length", b"5")),
                                  b"hello")))
    a(("cl-dup-zero-five", "400", req(b"POST /echo HTTP/1.1",
                                       H + ((b"Content-Length", b"0"), (b"Content-Length", b"5")),
                                       b"hello")))
    a(("cl-dup-leading-zero", "200", req(b"POST /echo HTTP/1.1",
                                          H + ((b"Content-Length", b"5"),
                                               (b"Content-Length", b"005")), b"hello")))
    for i, v in enumerate((b"5, 5", b"5,6", b"-1", b"+5", b"0x10", b"5 5", b"", b"1e3", b"5.0",
                           "\uff15".encode(), b"5;q=1", b"abc", b"\"5\"", b"5\x0b", b"-0",
                           b"\xd9\xa5")):
        a(("cl-invalid-%d" % i, "400",
           req(b"POST /echo HTTP/1.1", H + ((b"Content-Length", v),), b"hello")))
    a(("cl-ows", "200", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \t5 \t\r\n\r\nhello"))
    a(("cl-space-before-colon", "400",
       b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello"))
    a(("cl-obs-fold", "400",
       b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n 5\r\n\r\nhello"))
    # Transfer-Encoding variants
    for i, v in enumerate((b"chunked, identity", b"identity", b"gzip, chunked", b"chunked, gzip",
                           b"xchunked", b"chunked;q=1", b"chunkedx", b"deflate", b"compress",
                           b"chunked, identity, chunked", b"\"chunked\"")):
        a(("te-unsupported-%d" % i, "501", chunked(body, ()).replace(b"chunked\r\n",
                                                                   v + b"\r\n", 1)))
    for i, v in enumerate((b"chunked, chunked", b"", b",", b" , ,")):
        a(("te-invalid-%d" % i, "400", chunked(body).replace(b"chunked\r\n", v + b"\r\n", 1)))
    a(("te-twice", "400", chunked(body, ((b"Transfer-Encoding", b"chunked"),))))
    a(("te-chunked-then-gzip-header", "501",
       chunked(body, ((b"Transfer-Encoding", b"gzip"),))))
    for i, v in enumerate((b"Chunked", b"CHUNKED", b"chunked ", b"\tchunked", b", chunked",
                           b"chunked ,")):
        a(("te-ok-%d" % i, "200", chunked(body).replace(b"chunked\r\n", v + b"\r\n", 1)))
    a(("te-space-before-colon", "400",
       b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n" + body))
    a(("te-obs-fold", "400",
       b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n" + body))
    a(("te-vtab", "400",
       b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \x0bchunked\r\n\r\n" + body))
    a(("te-http10", "400", b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + body))
    # a header that is not Transfer-Encoding: the body bytes become the next request
    a(("te-underscore", "200,400",
       b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer_Encoding: chunked\r\n\r\n" + body))
    a(("te-lf-name", "400",
       b"POST /echo HTTP/1.1\r\nHost: x\r\nX: y\nTransfer-Encoding: chunked\r\n\r\n" + body))
    # pipelining: the body of one request must never be read as a request, nor the reverse
    inner = b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
    a(("body-holds-request", "200", post(inner)))
    a(("cl0-then-request", "200,404", post(b"") + inner))
    a(("get-with-body", "200", req(b"GET / HTTP/1.1", H + ((b"Content-Length", b"%d" % len(inner)),),
                                  inner)))
    a(("chunked-then-request", "200,404", chunked(body) + inner))
    a(("chunked-body-holds-request", "200",
       chunked(b"%x\r\n" % len(inner) + inner + b"\r\n0\r\n\r\n")))
    a(("empty-line-between", "200,200", GET + b"\r\n" + GET))  # RFC 9112 2.2
    a(("lf-between", "200,400", GET + b"\n" + GET))
    a(("pipeline-then-garbage", "200,400", GET + b"garbage\r\n\r\n"))
    a(("pipeline-close-stops", "200", req(headers=H + ((b"Connection", b"close"),)) + inner))
    a(("http10-stops", "200", b"GET / HTTP/1.0\r\n\r\n" + inner))
    a(("http10-keepalive", "200,404", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + inner))
    a(("short-cl-then-garbage", "200,400", post(b"ab") + b"cdef\r\n\r\n"))
    return c


def chunks():
    c = []
    a = c.append
    ok = [
        ("simple", b"5\r\nhello\r\n0\r\n\r\n"),
        ("two", b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        ("hex-lower", b"a\r\n0123456789\r\n0\r\n\r\n"),
        ("hex-upper", b"A\r\n0123456789\r\n0\r\n\r\n"),
        ("leading-zeros", b"0000000000000000000000000005\r\nhello\r\n0\r\n\r\n"),
        ("zero-zeros", b"5\r\nhello\r\n000\r\n\r\n"),
        ("empty-body", b"0\r\n\r\n"),
        ("ext", b"5;foo=bar\r\nhello\r\n0\r\n\r\n"),
        ("ext-name-only", b"5;foo\r\nhello\r\n0\r\n\r\n"),
        ("ext-quoted", b"5;foo=\"a b;c\\\"d\"\r\nhello\r\n0\r\n\r\n"),
        ("ext-bws", b"5 ;\tfoo = bar ; baz\r\nhello\r\n0;x=y\r\n\r\n"),
        ("ext-many", b"5;a;b;c=d;e=\"f\"\r\nhello\r\n0\r\n\r\n"),
        ("trailer", b"5\r\nhello\r\n0\r\nX-T: v\r\n\r\n"),
        ("trailers-two", b"5\r\nhello\r\n0\r\nX-T: v\r\nY: \r\n\r\n"),
        ("binary-data", b"6\r\n\r\n\r\n\x00\xff\r\n0\r\n\r\n"),
        ("data-looks-like-end", b"5\r\n0\r\n\r\n\r\n0\r\n\r\n"),
        ("one-byte-chunks", b"".join(b"1\r\n%c\r\n" % ch for ch in b"hello") + b"0\r\n\r\n"),
    ]
    for name, wire in ok:
        a(("ok-" + name, "200", chunked(wire)))
    bad = [
        ("size-empty", b"\r\nhello\r\n0\r\n\r\n"),
        ("size-negative", b"-5\r\nhello\r\n0\r\n\r\n"),
        ("size-plus", b"+5\r\nhello\r\n0\r\n\r\n"),
        ("size-0x", b"0x5\r\nhello\r\n0\r\n\r\n"),
        ("size-leading-space", b" 5\r\nhello\r\n0\r\n\r\n"),
        ("size-trailing-space", b"5 \r\nhello\r\n0\r\n\r\n"),
        ("size-underscore", b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n"),
        ("size-g", b"g\r\nhello\r\n0\r\n\r\n"),
        ("size-nul", b"5\x00\r\nhello\r\n0\r\n\r\n"),
        ("size-unicode", "\uff15\r\nhello\r\n0\r\n\r\n".encode()),
        ("size-lf", b"5\nhello\r\n0\r\n\r\n"),
        ("size-cr-only", b"5\rhello\r\n0\r\n\r\n"),
        ("final-lf", b"5\r\nhello\r\n0\n\r\n"),
        ("end-lf", b"5\r\nhello\r\n0\r\n\n"),
        ("data-lf", b"5\r\nhello\n0\r\n\r\n"),
        ("data-no-crlf", b"5\r\nhelloX\r\n0\r\n\r\n"),
        ("data-short", b"5\r\nhel\r\n0\r\n\r\n"),
        ("data-cr-only", b"5\r\nhello\r0\r\n\r\n"),
        ("ext-empty", b"0;\r\n\r\n"),
        ("ext-bad-char", b"5;fo@o\r\nhello\r\n0\r\n\r\n"),
        ("ext-eq-empty", b"5;foo=\r\nhello\r\n0\r\n\r\n"),
        ("ext-quote-open", b"5;foo=\"bar\r\nhello\r\n0\r\n\r\n"),
        ("ext-quote-ctl", b"5;foo=\"b\x01r\"\r\nhello\r\n0\r\n\r\n"),
        ("ext-after-quote", b"5;foo=\"bar\"x\r\nhello\r\n0\r\n\r\n"),
        ("ext-lf", b"5;foo=bar\nhello\r\n0\r\n\r\n"),
        ("ext-too-long", b"5;" + b"a" * 300 + b"\r\nhello\r\n0\r\n\r\n"),
        ("ext-long-value", b"5;a=" + b"b" * 400 + b"\r\nhello\r\n0\r\n\r\n"),
        ("size-too-long-zeros", b"0" * 300 + b"5\r\nhello\r\n0\r\n\r\n"),
        ("trailer-space-colon", b"5\r\nhello\r\n0\r\nX-T : v\r\n\r\n"),
        ("trailer-obs-fold", b"5\r\nhello\r\n0\r\nX-T: v\r\n w\r\n\r\n"),
        ("trailer-lf", b"5\r\nhello\r\n0\r\nX-T: v\n\r\n"),
        ("trailer-no-colon", b"5\r\nhello\r\n0\r\nX-T\r\n\r\n"),
        ("trailer-ctl", b"5\r\nhello\r\n0\r\nX-T: a\x01b\r\n\r\n"),
        ("trailer-bad-name", b"5\r\nhello\r\n0\r\nX@T: v\r\n\r\n"),
        ("trailer-too-large", b"5\r\nhello\r\n0\r\n" + b"X-T: " + b"v" * 5000 + b"\r\n\r\n"),
    ]
    for name, wire in bad:
        exp = "431" if name == "trailer-too-large" else "400"
        a(("bad-" + name, exp, chunked(wire)))
    # more than max_body (16384) of decoded payload
    a(("too-large", "413", chunked(b"2328\r\n" + b"z" * 9000 + b"\r\n2328\r\n" + b"z" * 9000
                                  + b"\r\n0\r\n\r\n")))
    # framing beyond the data by more than 1 KB (MFA_HTTP_MAX_CHUNK_OVERHEAD): 413, early
    a(("framing-overhead", "413", chunked(b"1\r\nx\r\n" * 400 + b"0\r\n\r\n")))
    a(("framing-overhead-ext", "413", chunked((b"1;" + b"e" * 250 + b"\r\nx\r\n") * 5
                                              + b"0\r\n\r\n")))
    return c


def numbers():
    c = []
    a = c.append
    for i, v in enumerate((b"99999999999999999999", b"9223372036854775808",
                           b"18446744073709551615", b"18446744073709551616",
                           b"18446744073709551621", b"36893488147419103237",
                           b"1" * 40, b"9" * 100, b"340282366920938463463374607431768211461")):
        a(("cl-overflow-%d" % i, "400", req(b"POST /echo HTTP/1.1",
                                             H + ((b"Content-Length", v),), b"hello")))
    for i, v in enumerate((b"9223372036854775807", b"4294967296", b"4294967301", b"2147483648",
                           b"16385", b"1000000", b"65536", b"65541")):
        a(("cl-large-%d" % i, "413", req(b"POST /echo HTTP/1.1",
                                          H + ((b"Content-Length", v),), b"hello")))
    a(("cl-zeros-30", "200", req(b"POST /echo HTTP/1.1",
                                 H + ((b"Content-Length", b"0" * 29 + b"5"),), b"hello")))
    a(("cl-zero", "200", req(b"POST /echo HTTP/1.1", H + ((b"Content-Length", b"0"),))))
    a(("cl-00", "200", req(b"POST /echo HTTP/1.1", H + ((b"Content-Length", b"00"),))))
    for i, v in enumerate((b"FFFFFFFFFFFFFFFFF", b"8000000000000000", b"FFFFFFFFFFFFFFFF",
                           b"10000000000000000", b"100000000000000005", b"1" * 40,
                           b"f" * 64, b"10000000000000005")):
        a(("chunk-overflow-%d" % i, "400", chunked(v + b"\r\nhello\r\n0\r\n\r\n")))
    # a legal but absurd size: the body never arrives, the client goes away
    # (a server may also refuse at once a chunk larger than max_body: 413)
    a(("chunk-max", "close|413", chunked(b"7FFFFFFFFFFFFFFF\r\nhello")))
    a(("chunk-2-32", "close|413", chunked(b"100000000\r\nhello")))
    a(("chunk-2-32-plus-5", "close|413", chunked(b"100000005\r\nhello")))
    return c


def oversized():
    c = []
    a = c.append
    a(("target-2048", "404", req(b"GET /" + b"a" * 2047 + b" HTTP/1.1")))
    a(("target-2049", "414", req(b"GET /" + b"a" * 2048 + b" HTTP/1.1")))
    a(("target-4000", "414", req(b"GET /" + b"a" * 4000 + b" HTTP/1.1")))
    a(("target-no-lf-5000", "414", b"GET /" + b"a" * 5000))
    a(("target-2049-bad-version", "414", req(b"GET /" + b"a" * 2048 + b" HTTP/2.0")))
    a(("garbage-no-lf-4096", "414", b"x" * 4096))
    a(("garbage-no-lf-8000", "414", b"\x00" * 8000))
    a(("header-5000", "431", req(headers=H + ((b"X-Big", b"v" * 5000),))))
    a(("headers-no-end-5000", "431",
       b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 700))
    a(("bad-line-then-huge", "400", b"GET / HTTP/9\r\n" + b"X-A: b\r\n" * 700))
    a(("version-then-huge", "505", b"GET / HTTP/2.0\r\n" + b"X-A: b\r\n" * 700))
    # the head is at most 4096 bytes including the empty line
    base = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: \r\n\r\n"
    a(("head-4096", "200", base.replace(b"X-Pad: ", b"X-Pad: " + b"p" * (4096 - len(base)))))
    a(("head-4097", "431", base.replace(b"X-Pad: ", b"X-Pad: " + b"p" * (4097 - len(base)))))
    a(("body-16384", "200", post(b"b" * 16384)))
    a(("body-16385", "413", req(b"POST /echo HTTP/1.1", H + ((b"Content-Length", b"16385"),),
                                b"b" * 100)))
    a(("many-small-headers", "431", req(headers=H + ((b"A", b""),) * 40)))
    a(("pipeline-50", ",".join(["200"] * 50), GET * 50))
    a(("pipeline-mixed", "200,200,404,405,200",
       GET + post(b"abc") + req(b"GET /nope HTTP/1.1") + req(b"DELETE /echo HTTP/1.1") + GET))
    return c


def truncated():
    c = []
    a = c.append
    full = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    a(("empty", "close", b""))
    for n in (1, 3, 4, 5, 14, 15, 16, 20, 23, 24, 25, len(full) - 1):
        a(("get-prefix-%d" % n, "close", full[:n]))
    a(("get-lf-prefix", "close", b"GET / HTTP/1.1\n"))
    a(("bad-line-unfinished", "close", b"GET  / HTTP/9.9\r\nHost: x\r\n"))
    a(("nul-unfinished", "close", b"\x00\x00\x00\r\n"))
    p = post(b"0123456789")
    for n in (len(p) - 10, len(p) - 9, len(p) - 1):
        a(("post-body-%d" % (n - len(p) + 10), "close", p[:n]))
    ch = chunked(b"5;e=\"q\"\r\nhello\r\n0\r\nX-T: v\r\n\r\n")
    hl = ch.index(b"\r\n\r\n") + 4
    for k in range(1, len(ch) - hl):
        a(("chunked-%d" % k, "close", ch[:hl + k]))
    a(("second-request-truncated", "200", GET + full[:20]))
    a(("expect-no-body", "close",
       req(b"POST /echo HTTP/1.1", H + ((b"Expect", b"100-continue"), (b"Content-Length", b"5")))))
    return c


def binary():
    c = []
    a = c.append
    a(("http2-preface", "400", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
    a(("tls-clienthello", "close", bytes.fromhex(
        "16030100a5010000a10303") + bytes(range(32)) + b"\x00\x20" + bytes(range(0x20, 0x40))))
    a(("nul-100", "close", b"\x00" * 100))
    a(("nul-then-end", "400", b"\x00" * 100 + b"\r\n\r\n"))
    a(("ff-then-end", "400", b"\xff" * 100 + b"\r\n\r\n"))
    a(("ssh-banner", "close", b"SSH-2.0-OpenSSH_9.2\r\n"))
    a(("smtp-helo", "close", b"HELO x\r\n"))
    a(("websocket-frame", "close", b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"))
    a(("get-then-binary", "200", GET + b"\x16\x03\x01\x00"))
    a(("utf16-request", "400", "GET / HTTP/1.1\r\nHost: x\r\n\r\n".encode("utf-16-le")
       + b"\r\n\r\n"))
    rnd = random.Random(7)
    for i in range(24):
        n = rnd.choice((1, 7, 64, 300, 1000))
        blob = bytes(rnd.randrange(256) for _ in range(n))
        if i % 2:
            blob += b"\r\n\r\n"
        # the head ends at the first empty line (LF [CR] LF); no blob can be a valid head
        ends = b"\n\n" in blob or b"\n\r\n" in blob
        a(("random-%02d" % i, "400" if ends else "close", blob))
    return c


CATEGORIES = {
    "request_line": request_line,
    "headers": headers,
    "smuggling": smuggling,
    "chunked": chunks,
    "numbers": numbers,
    "oversized": oversized,
    "truncated": truncated,
    "binary": binary,
}


def render():
    files = {}
    names = set()
    for cat, fn in CATEGORIES.items():
        out = b""
        for name, expect, raw in fn():
            name = cat + "/" + name
            assert name not in names, name
            assert " " not in name, name
            names.add(name)
            out += format_record(name, expect, raw)
        files[cat + ".http"] = out
    return files, len(names)


def main():
    files, n = render()
    if "--check" in sys.argv:
        bad = [f for f, data in files.items() if (CORPUS / f).read_bytes() != data]
        if bad:
            print("corpus out of date:", bad)
            sys.exit(1)
        return
    CORPUS.mkdir(exist_ok=True)
    for f, data in files.items():
        (CORPUS / f).write_bytes(data)
    print("%d cases in %d files" % (n, len(files)))


if __name__ == "__main__":
    main()
