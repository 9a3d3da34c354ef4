"""Differential test: mfa_http.c (through ctypes) against llhttp (PyPI httptools) over
generated valid and mutated requests, and parser.py against mfa_http.c on the same inputs.

Both parsers must take the same accept/reject decision for the first request head in the
input, and when both accept, agree on method, path, query, version, headers, keep-alive and
body framing (the body llhttp decodes is the body our framing announces). Where we differ on
purpose, DELIBERATE below says why; a disagreement no entry explains fails the test.
"""
import collections

import httptools
import pytest

from reqgen import generate

COUNT = 12000
SEED = 20250601


def _first_line(raw):
    return raw.split(b"\n", 1)[0]


def _head(raw):
    i = raw.find(b"\r\n\r\n")
    return raw if i < 0 else raw[:i + 4]


def _header_lines(raw):
    return _head(raw).split(b"\r\n")[1:]


def _has_obs_text_value(raw):
    for line in _header_lines(raw):
        name, sep, value = line.partition(b":")
        if sep and any(c >= 0x80 for c in value):
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return True
    return False


def _names(raw):
    return [line.partition(b":")[0].strip().lower() for line in _header_lines(raw)
            if b":" in line]


LLHTTP_METHODS = {b"DELETE", b"GET", b"HEAD", b"POST", b"PUT", b"CONNECT", b"OPTIONS", b"TRACE",
                  b"COPY", b"LOCK", b"MKCOL", b"MOVE", b"PROPFIND", b"PROPPATCH", b"SEARCH",
                  b"UNLOCK", b"BIND", b"REBIND", b"UNBIND", b"ACL", b"REPORT", b"MKACTIVITY",
                  b"CHECKOUT", b"MERGE", b"M-SEARCH", b"NOTIFY", b"SUBSCRIBE", b"UNSUBSCRIBE",
                  b"PATCH", b"PURGE", b"MKCALENDAR", b"LINK", b"UNLINK", b"SOURCE", b"QUERY"}

# (name, applies(raw, ours, theirs) -> bool, why). ours/theirs: "ok" or a reason string.
DELIBERATE = [
    ("leading empty line", lambda raw, o, t: raw[:1] in (b"\r", b"\n") and o != "ok",
     "RFC 9112 2.2 only says SHOULD ignore an empty line before the request line; a device "
     "never needs it and refusing keeps the grammar one-pass (llhttp skips them)."),
    ("request line spacing", lambda raw, o, t: o == "malformed request line"
     and len(_first_line(raw).rstrip(b"\r").split(b" ")) != 3,
     "exactly one SP between method, target and version (RFC 9112 3); llhttp skips runs of "
     "spaces and reads a line without a version as HTTP/0.9."),
    ("absolute-form target", lambda raw, o, t: o == "invalid request target"
     and _first_line(raw).split(b" ")[1:2] != [] and b"://" in _first_line(raw),
     "absolute-form is for proxies; we are an origin server and accept only origin-form "
     "(and * for OPTIONS)."),
    ("obs-text in a header value", lambda raw, o, t: o == "invalid header value"
     and _has_obs_text_value(raw),
     "values are handed to Python as str, so they must be UTF-8; llhttp passes any byte >= 0x80."),
    ("unregistered method", lambda raw, o, t: o == "ok" and t == "Invalid method encountered"
     and _first_line(raw).split(b" ")[0] not in LLHTTP_METHODS,
     "any token is a method (RFC 9110 9.1); the router answers 405/501. llhttp knows a fixed list."),
    ("Host rules", lambda raw, o, t: o in ("missing Host header", "multiple Host headers"),
     "RFC 9112 3.2: a server MUST answer 400 to HTTP/1.1 without Host and to any request with "
     "more than one; llhttp leaves that to the application."),
    ("other HTTP versions", lambda raw, o, t: o == "HTTP version not supported",
     "we answer 505 for anything but 1.0/1.1 (RFC 9110 15.6.6); llhttp parses any digit.digit."),
    ("Transfer-Encoding in HTTP/1.0", lambda raw, o, t: o == "Transfer-Encoding in HTTP/1.0",
     "RFC 9112 6.1: the framing of such a message is faulty; we refuse instead of guessing."),
    ("transfer codings other than chunked", lambda raw, o, t: o == "unsupported Transfer-Encoding",
     "we implement chunked only and must answer 501 (RFC 9112 6.1); llhttp reads such a body "
     "until close."),
]


class _Collect:
    def __init__(self):
        self.url = b""
        self.headers = []
        self.body = b""
        self.heads = 0
        self.done = 0

    def on_url(self, u):
        self.url += u

    def on_header(self, n, v):
        if self.heads == 0:
            self.headers.append((n, v))

    def on_headers_complete(self):
        if self.heads == 0:
            p = self.parser
            self.info = dict(method=p.get_method(), version=p.get_http_version(),
                             keep_alive=p.should_keep_alive())
        self.heads += 1

    def on_body(self, b):
        if self.done == 0:
            self.body += b

    def on_message_complete(self):
        self.done += 1


def llhttp(raw):
    """("ok", info) if llhttp accepted the first head in raw, else ("error reason", None)."""
    c = _Collect()
    p = c.parser = httptools.HttpRequestParser(c)
    err = None
    try:
        p.feed_data(raw)
    except httptools.HttpParserUpgrade:
        pass
    except httptools.HttpParserError as e:
        err = str(e)
    if c.heads == 0:
        return (err or "incomplete"), None
    if err is not None and c.done == 0:
        return err, None
    info = c.info
    info.update(url=c.url, headers=c.headers, body=c.body, complete=c.done > 0)
    if err is not None:
        info["late_error"] = err
    return "ok", info


def _ours(parser, raw):
    try:
        h = parser.parse_request(raw)
    except parser.ParseError as e:
        return e.args[1], None
    if h is None:
        return "incomplete", None
    return "ok", h


@pytest.fixture(scope="module")
def corpus():
    cases = generate(SEED, COUNT)
    assert len(cases) >= 10000
    return cases


def test_against_llhttp(cparser, corpus):
    stats = collections.Counter()
    unexplained = []
    for raw, body, wire, kind in corpus:
        o, head = _ours(cparser, raw)
        feed = raw + wire if (o == "ok" and kind == "valid") else raw
        t, info = llhttp(feed)
        # An error after the first message completed belongs to the bytes after it: not ours.
        if o == t or (o != "ok" and t != "ok"):
            stats["same decision"] += 1
            if o == "ok":
                _compare_heads(raw, head, info, body, kind)
            continue
        why = [d[0] for d in DELIBERATE if d[1](raw, o, t)]
        if why:
            stats[why[0]] += 1
        else:
            unexplained.append((raw, o, t))
    print("\n".join("%6d  %s" % (v, k) for k, v in stats.most_common()))
    assert not unexplained, "\n".join("%r\n  ours: %s / llhttp: %s" % u for u in unexplained[:10])
    assert stats["same decision"] > COUNT * 0.7
    # The generator must exercise both sides: plenty of accepted and of rejected heads.


def _compare_heads(raw, head, info, body, kind):
    assert info["method"].decode() == head.method, raw
    url = info["url"].decode()
    path, _, query = url.partition("?")
    assert (path, query) == (head.path, head.query), raw
    assert info["version"] == head.version, raw
    theirs = [(n.decode("latin-1").lower(), v.decode("latin-1").strip(" \t").encode("latin-1")
               .decode("utf-8")) for n, v in info["headers"]]
    assert theirs == head.headers, raw
    assert info["keep_alive"] == head.keep_alive, raw
    if kind == "valid":
        # Framing: llhttp decoded exactly the body our Content-Length / chunked announces.
        assert info["complete"], raw
        assert info["body"] == body, raw
        if head.chunked:
            assert b"chunked" in raw.lower()
        elif body:
            assert head.content_length == len(body)


def test_python_matches_c(cparser, pyparser, corpus):
    """parser.py takes the same decision with the same (status, reason) and the same head as
    the C parser on every generated input, and on every 7th prefix of it."""
    def summary(parser, raw):
        try:
            h = parser.parse_request(raw)
        except parser.ParseError as e:
            return tuple(e.args)
        if h is None:
            return None
        return (h.method, h.path, h.query, h.version, h.header_len, h.content_length,
                h.chunked, h.keep_alive, h.expect_continue, list(map(tuple, h.headers)))

    accepted = rejected = 0
    for raw, body, wire, kind in corpus:
        c = summary(cparser, raw)
        assert summary(pyparser, raw) == c, raw
        if isinstance(c, tuple) and isinstance(c[0], int):
            rejected += 1
        else:
            accepted += 1
        for k in range(0, len(raw), 7):
            assert summary(pyparser, raw[:k]) == summary(cparser, raw[:k]), raw[:k]
    assert accepted > 3000 and rejected > 3000, (accepted, rejected)


def test_chunked_bodies_match_llhttp(cparser, pyparser, corpus):
    """Our decoders produce llhttp's body for every generated chunked body."""
    n = 0
    for raw, body, wire, kind in corpus:
        if kind != "valid" or b"Transfer-Encoding: chunked" not in raw:
            continue
        for parser in (cparser, pyparser):
            d = parser.ChunkedDecoder()
            out, used = d.feed(wire + b"GET")
            assert d.done and used == len(wire) and out == body
        n += 1
    assert n > 100
