"""Multipart bodies (docs/internals.md, "Multipart bodies"): one table of cases (mp_table.py,
plus bodies made by requests here) run through `_mfa` on build/unix/micropython,
microfastapi.multipart on build/unix-pure/micropython and microfastapi.multipart on CPython.
Each case is fed whole, split in two at every byte and one byte at a time (long ones: random
splits), as bytes, bytearray and memoryview; every implementation must give the same events,
errors and finish results for every split, and the expected ones.
"""
import subprocess

import pytest
import requests

import mp_cases
import mp_table
from microfastapi import multipart
from tests.support import run_three, same_on_three, split_count, split_plans


def requests_cases():
    """Bodies as requests (urllib3 2.x) encodes them: a random hex boundary, `"` in a filename
    as %22, UTF-8 as it is."""
    specs = [
        ({"a": "1", "b": "κόσμε"}, {"file": ("naïve \"q\".txt", b"abc\r\n--x\r\n", "text/plain")}),
        ({}, {"bin": ("data.bin", mp_table.binary(3000, 3), "application/octet-stream"),
              "nofile": (None, b"plain value"), "empty": ("e.txt", b"")}),
    ]
    out = []
    for k, (data, files) in enumerate(specs):
        req = requests.Request("POST", "http://t/", data=data, files=files).prepare()
        boundary = multipart.multipart_boundary(req.headers["Content-Type"])
        events = []
        for name, value in data.items():
            events += mp_table.part(name, value.encode())
        for name, spec in files.items():
            filename, content = spec[0], spec[1]
            ct = spec[2] if len(spec) > 2 else None
            fn = None if filename is None else filename.replace('"', "%22")
            # (requests sends no Content-Type for a file given without one)
            events += mp_table.part(name, content, fn, ct)
        out.append(mp_table.Case("requests %d" % k, boundary.decode(), req.body, events + [(4,)]))
    return out


CASES = mp_table.cases() + requests_cases()


def plans_for(case):
    n = len(case.body)
    return split_plans(case.name, n, range(4096, n, 4096))


def case_json(c, plans=None):
    b = c.boundary
    return {"name": c.name, "boundary": b.decode() if isinstance(b, bytes) else b,
            "as_bytes": isinstance(b, bytes), "hex": c.body.hex(), "max_parts": c.max_parts,
            "max_header": c.max_header, "plans": plans_for(c) if plans is None else plans}


class _CPython:
    name = "microfastapi.multipart"
    MultipartReader = multipart.MultipartReader
    MultipartError = multipart.MultipartError
    multipart_boundary = staticmethod(multipart.multipart_boundary)


def run_mp(tmp_path, unix_mfa, unix_pure, cases):
    """The case file `cases` through mp_cases.py on CPython, build/unix and build/unix-pure."""
    return run_three(tmp_path, cases, mp_cases, _CPython, unix_mfa, unix_pure, heap="128M")


@pytest.fixture(scope="module")
def table(tmp_path_factory, unix_mfa, unix_pure):
    cf = {"cases": [case_json(c) for c in CASES], "boundaries": [v for v, w in mp_table.BOUNDARIES]}
    return run_mp(tmp_path_factory.mktemp("mp"), unix_mfa, unix_pure, cf)


def want_json(events):
    c = mp_cases.Collector()
    for e in events:
        c.add(e)
    return c.done(), c.events


def is_prefix(got, want_raw):
    """got (digested events) is what a feed that raised can have let out: a prefix of the
    expected events, the last data possibly cut short."""
    if len(got) > len(want_raw):
        return False
    for i, g in enumerate(got):
        w = want_raw[i]
        if w[0] == 2 and g[0] == 2:
            # hex for short data (which must start the content), a digest for long
            if ":" not in g[1] and not w[1].hex().startswith(g[1]):
                return False
            continue
        if g != w:
            return False
    return True


def check_outcome(case, outcome):
    events, error, fin, after, bad = outcome
    want, want_raw = want_json(case.events)
    assert bad == [], (case.name, bad)
    if case.error is None:
        assert error is None and fin is None, (case.name, error, fin)
        assert events == want, case.name
        assert after == [], case.name
        return
    err = list(case.error)
    if error is None:   # the body parsed as far as it went, finish found it incomplete
        assert fin == err, (case.name, fin)
        assert events == want, case.name
    elif after is None:     # the constructor raised
        assert error == err and fin is None, (case.name, error)
    else:
        assert error == err and fin == err, (case.name, error, fin)
        assert is_prefix(events, want_raw), (case.name, events, want)
    if after is not None:   # None: the constructor raised
        assert after == ["error"] + err, (case.name, after)


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c.name for c in CASES])
def test_case(table, i):
    case = CASES[i]
    got = same_on_three(table, "cases", i, case.name)
    for outcome in got["outcomes"]:
        check_outcome(case, outcome)
    # Fed whole, an error raised by feed comes with no events: that feed raised.
    whole = got["outcomes"][got["plans"][0]]
    if case.error is not None and whole[1] is not None:
        assert whole[0] == [], case.name


def test_every_split_counted(table):
    """Short cases ran whole, split at each byte and byte by byte; long ones 16 ways."""
    for case, r in zip(CASES, table["cpython"]["cases"]):
        assert len(r["plans"]) == split_count(len(case.body)), case.name


def test_boundaries(table):
    want = [w.hex() if w is not None else [400, "multipart: no boundary"]
            for v, w in mp_table.BOUNDARIES]
    for impl in ("cpython", "unix", "unix-pure"):
        assert table[impl]["boundaries"] == want, impl


def test_data_pieces_and_types(unix_binary):
    """Content comes out as memoryview slices of the fed buffer (C: read-only; the twin: of its
    bytes copy) and held-back bytes as bytes; a 1 MB part fed in 4 KB pieces comes out in one
    piece per feed (C) and whole."""
    code = r"""
from microfastapi.backend import MultipartReader, MP_DATA
r = MultipartReader("XyZ")
head = b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\n'
ev = r.feed(head)
assert len(ev) == 1 and ev[0][:4] == (1, "f", "a", None), ev
buf = bytearray(b"x" * 4090 + b"\r\n--Xy")
ev = r.feed(buf)
assert len(ev) == 1 and ev[0][0] == MP_DATA and type(ev[0][1]) is memoryview, ev
assert bytes(ev[0][1]) == b"x" * 4090
ev = r.feed(b"!")
assert [type(e[1]).__name__ for e in ev] == ["bytes", "memoryview"], ev
assert bytes(ev[0][1]) + bytes(ev[1][1]) == b"\r\n--Xy!"
chunk = bytes(range(256)) * 16
total = 0
pieces = 0
for i in range(256):
    for e in r.feed(chunk):
        total += len(e[1])
        pieces += 1
assert r.feed(b"\r\n--XyZ--") == [(3,), (4,)]
r.finish()
print(total, pieces)
"""
    p = subprocess.run([str(unix_binary), "-c", code], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    total, pieces = map(int, p.stdout.split())
    assert total == 1 << 20 and pieces == 256


def test_readonly_memoryview(unix_mfa):
    code = r"""
import _mfa
r = _mfa.MultipartReader("b")
r.feed(b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\n')
mv = r.feed(bytearray(b"abc"))[0][1]
try:
    mv[0] = 1
    print("writable")
except TypeError:
    print("read-only")
"""
    p = subprocess.run([str(unix_mfa), "-c", code], capture_output=True, timeout=60)
    assert p.stdout.decode().strip() == "read-only", p.stderr.decode()


def test_backend_exports(unix_binary):
    code = ("from microfastapi import backend\n"
            "import microfastapi.backend as b\n"
            "e = None\n"
            "try:\n"
            "    b.multipart_boundary('text/plain')\n"
            "except b.MultipartError as x:\n"
            "    e = x.args\n"
            "print(b.MULTIPART, b.MultipartReader.__name__, issubclass(b.MultipartError, ValueError),"
            " b.MP_PART, b.MP_DATA, b.MP_PART_END, b.MP_END, e, sep='|')\n")
    p = subprocess.run([str(unix_binary), "-c", code], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    want = "_mfa" if "pure" not in str(unix_binary) else "pure Python"
    assert p.stdout.decode().strip().split("|") == [
        want, "MultipartReader", "True", "1", "2", "3", "4", "(400, 'multipart: no boundary')"]


def test_cpython_surface():
    assert issubclass(multipart.MultipartError, ValueError)
    with pytest.raises(ValueError):
        multipart.MultipartReader("b", max_parts=-1)
    with pytest.raises(ValueError):
        multipart.MultipartReader("b", max_header=-1)
    with pytest.raises(multipart.MultipartError) as e:
        multipart.MultipartReader("")
    assert e.value.args == (400, "multipart: bad boundary")
    r = multipart.MultipartReader("b")
    assert r.feed(b"--b--") == [(4,)]
    assert r.finish() is None
