"""The shared case table (cases.json) through the C parser (ctypes), parser.py and, on the unix
MicroPython builds, `_mfa` and the frozen pure parser: every implementation must give exactly
the expected result, and C and Python must agree on every prefix of every case."""
import json
import pathlib

import pytest

import parser_cases
from parser_cases import ATTRS, run_all, summarize_chunked, summarize_head, to_bytes
from tests.support import run_case_script

HERE = pathlib.Path(__file__).resolve().parent
CASES = json.loads((HERE / "cases.json").read_text())
HEAD = CASES["cases"]


def _check_head(name, got, expect):
    if expect is None or isinstance(expect, list):
        assert got == expect, name
        return
    assert isinstance(got, dict), "%s: %r" % (name, got)
    if expect != "ok":
        for k, v in expect.items():
            assert got[k] == v, "%s: %s = %r, expected %r" % (name, k, got[k], v)
    # header() finds the first header of each name, case-insensitively.
    first = {}
    for k, v in got["headers"]:
        first.setdefault(k, v)
    assert got["lookup"] == [first[k] for k, v in got["headers"]] + ["dflt", None], name


@pytest.mark.parametrize("case", HEAD, ids=[c["name"] for c in HEAD])
def test_head_case(impl, case):
    got = summarize_head(impl, to_bytes(case["raw"]))
    _check_head(case["name"], got, case["expect"])


@pytest.mark.parametrize("case", HEAD, ids=[c["name"] for c in HEAD])
def test_head_case_buffer_types(impl, case):
    raw = to_bytes(case["raw"])
    want = summarize_head(impl, raw)
    assert summarize_head(impl, bytearray(raw)) == want
    assert summarize_head(impl, memoryview(raw)) == want


def test_every_prefix_agrees(cparser, pyparser):
    """C and Python give the same answer (incomplete, error, head) for every prefix of every
    case, and every proper prefix of a valid head is incomplete."""
    n = 0
    for case in HEAD:
        raw = to_bytes(case["raw"])
        full = summarize_head(cparser, raw)
        hl = full["header_len"] if isinstance(full, dict) else None
        for k in range(len(raw) + 1):
            c = summarize_head(cparser, raw[:k])
            p = summarize_head(pyparser, raw[:k])
            assert c == p, "%s, prefix %d: C %r, Python %r" % (case["name"], k, c, p)
            if hl is not None and k < hl:
                assert c is None, "%s, prefix %d of a valid head: %r" % (case["name"], k, c)
            n += 1
    assert n > 10000


def test_last_len_resume(impl):
    """Feeding byte by byte with last_len gives the one-shot result."""
    for case in HEAD:
        raw = to_bytes(case["raw"])
        want = summarize_head(impl, raw)
        last = 0
        got = None
        for k in range(len(raw) + 1):
            got = summarize_head(impl, raw[:k], last)
            if got is not None:
                break
            last = k
        assert got == want, case["name"]


def test_limits_match_header(cparser, pyparser):
    from mfa_ctypes import header_defaults
    d = header_defaults()
    assert d["MFA_HTTP_MAX_HEAD"] == pyparser.MAX_HEAD
    assert d["MFA_HTTP_MAX_TARGET"] == pyparser.MAX_TARGET
    assert d["MFA_HTTP_MAX_HEADERS"] == pyparser.MAX_HEADERS
    assert d["MFA_HTTP_MAX_CHUNK_LINE"] == pyparser.MAX_CHUNK_LINE


def test_parse_error_is_value_error(pyparser):
    assert issubclass(pyparser.ParseError, ValueError)
    with pytest.raises(ValueError) as e:
        pyparser.parse_request(b"GET / HTTP/2.0\r\n\r\n")
    assert e.value.args == (505, "HTTP version not supported")


@pytest.mark.parametrize("case", CASES["chunked"], ids=[c[0] for c in CASES["chunked"]])
@pytest.mark.parametrize("step", [1 << 20, 1, 2, 7])
def test_chunked_case(impl, case, step):
    name, raw, expect = case
    assert summarize_chunked(impl, to_bytes(raw), step) == expect, name


def test_chunked_sticky_and_done(impl):
    d = impl.ChunkedDecoder()
    with pytest.raises(impl.ParseError):
        d.feed(b"x\r\n")
    with pytest.raises(impl.ParseError) as e:
        d.feed(b"0\r\n\r\n")
    assert e.value.args == (400, "invalid chunk size")
    d = impl.ChunkedDecoder()
    assert d.feed(b"0\r\n\r\nrest") == (b"", 5) and d.done
    assert d.feed(b"more") == (b"", 0)


@pytest.mark.parametrize("case", CASES["unquote"], ids=[c[0] for c in CASES["unquote"]])
def test_unquote(impl, case):
    s, want = case
    assert impl.unquote(s) == want
    assert impl.unquote(s.encode()) == want


@pytest.mark.parametrize("case", CASES["parse_qsl"], ids=[c[0] for c in CASES["parse_qsl"]])
def test_parse_qsl(impl, case):
    s, want = case
    assert [[k, v] for k, v in impl.parse_qsl(s)] == want


def test_unix_builds_agree(unix_binary, cparser):
    """The same cases through the unix MicroPython binaries: `_mfa` in build/unix, the frozen
    microfastapi.parser in build/unix-pure. Both must match the C parser exactly."""
    expect_impl = "microfastapi.parser" if "pure" in str(unix_binary) else "_mfa"
    got = run_case_script(unix_binary, parser_cases.__file__, HERE / "cases.json", expect_impl,
                          timeout=300)
    want = run_all(cparser, CASES)
    for section in want:
        for i, (g, w) in enumerate(zip(got[section], want[section])):
            assert g == w, "%s #%d: %r != %r" % (section, i, g, w)
        assert len(got[section]) == len(want[section])
