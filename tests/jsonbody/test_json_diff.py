"""Differential test of _mfa.json_loads and _mfa.json_dumps (issue 18) on the unix build.

(The folder is not tests/json: MicroPython scripts of the suite run with tests/ on their
MICROPYPATH, where a json folder is imported in place of the json module.)

Thousands of generated JSON documents, valid ones and mutated ones, go through
json_diff_device.py on build/unix/micropython. For each one:
- _mfa.json_loads accepts exactly what CPython's json.loads accepts (on the bytes as UTF-8:
  CPython's own guess of UTF-16/32 for bytes with NULs up front is not ours), and gives the
  same value; lone surrogate escapes are U+FFFD on our side (docs/limits.md), and floats may
  differ from CPython's in the last bits (MicroPython's own float parser, as json.loads uses).
- where MicroPython's json.loads accepts a valid document too, the values are identical
  (floats by value: the same parser). MicroPython's json.loads is lax (it takes much invalid
  JSON) and knows neither NaN nor Infinity, and keeps surrogate halves: those are not compared.
- _mfa.json_dumps gives json.dumps' exact text for every decoded value and for a list of other
  objects (tuples, non-str keys, inf, nan, bytes, objects, big ints), and json_dumps(v, True)
  is None exactly when the text is not plain JSON.
"""
import binascii
import json
import math
import os
import random
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COUNT_VALID = 2500
COUNT_MUTATED = 4000
SEED = 20261202

WORDS = ["id", "name", "value", "on", "a", "b", "k\u00e9y", "\u20ac", "", "x y", "q\"uote"]
CHARS = "ab \"\\/\b\f\n\r\t\u00e9\u20ac\U0001F600\x00\x1f\x7f"


def rand_str(r):
    n = r.randrange(0, 12)
    return "".join(r.choice(CHARS) if r.random() < 0.3 else chr(r.randrange(32, 127))
                   for _ in range(n))


def rand_float(r):
    k = r.randrange(6)
    if k == 0:
        return r.uniform(-1e6, 1e6)
    if k == 1:
        return r.randrange(-1000, 1000) / 8.0
    if k == 2:
        return r.uniform(-1, 1) * 10 ** r.randrange(-30, 30)
    return float(r.randrange(-100, 100)) * 1.5


def rand_value(r, depth=0):
    k = r.randrange(10 if depth < 6 else 7)
    if k == 0:
        return r.randrange(-2 ** 31, 2 ** 31)
    if k == 1:
        return r.choice([0, -1, 1, 10 ** 9 - 1, 10 ** 9, -10 ** 9, 2 ** 62, -2 ** 63,
                         10 ** 25, -(10 ** 30)])
    if k == 2:
        return rand_float(r)
    if k == 3:
        return rand_str(r)
    if k == 4:
        return r.choice([True, False, None])
    if k in (5, 6):
        return r.choice(WORDS) + rand_str(r)[:2]
    if k in (7, 8):
        return {r.choice(WORDS) if r.random() < 0.7 else rand_str(r): rand_value(r, depth + 1)
                for _ in range(r.randrange(0, 6))}
    return [rand_value(r, depth + 1) for _ in range(r.randrange(0, 6))]


def spell(r, v):
    """JSON text for v in one of several spellings CPython accepts."""
    sep = r.choice([(", ", ": "), (",", ":"), (" ,\n", " :\t")])
    s = json.dumps(v, separators=sep, ensure_ascii=r.random() < 0.5)
    if r.random() < 0.2:
        s = " \n\t" + s + "\r\n "
    return s


HAND = [
    "NaN", "[Infinity, -Infinity, NaN]", '"\\ud83d\\ude00"', '"\\ud800"', '"\\udc00x"',
    '"\\ud83dx"', '["\\u0000", "\\u00E9", "\\/"]', "1E400", "-1e-400", "0.0", "-0", "1e5",
    "1E+5", "1.5e-05", '{"a": 1, "a": 2}', "[" * 64 + "]" * 64, "[" * 65 + "]" * 65,
    '{"a":' * 64 + "1" + "}" * 64, "\ufeff[1]", "\ufeff\ufeff[1]", "12345678901234567890123",
    "-999999999", "-1000000000", "999999999", "1000000000", "  ", "", "01", "1.", ".5", "-",
    "[1,]", "{,}", "[,1]", '{"a"}', '{"a":}', "tru", "nul", "falsey", '"\x7f"', '"\x1f"',
    "[1] x", "[1]]", "{}}", "\u00e9", '"\\x"', '"\\u12"', '"abc', "[\"a\" \"b\"]",
]


def documents():
    r = random.Random(SEED)
    docs = [s.encode("utf-8", "surrogatepass") for s in HAND]
    valid = [spell(r, rand_value(r)).encode() for _ in range(COUNT_VALID)]
    docs += valid
    alphabet = b'{}[],:"\\ 0123456789.eE+-tfnulNIa\x00\x1f\x80\xc3\xa9\xff'
    for _ in range(COUNT_MUTATED):
        d = bytearray(r.choice(valid))
        for _ in range(r.randrange(1, 4)):
            op = r.randrange(4)
            i = r.randrange(len(d) + 1)
            if op == 0 and d:
                del d[min(i, len(d) - 1)]
            elif op == 1:
                d[i:i] = bytes([r.choice(alphabet)])
            elif op == 2 and d:
                d[min(i, len(d) - 1)] = r.choice(alphabet)
            else:
                d = d[:i]
        docs.append(bytes(d))
    # bytes that are not UTF-8, inside strings and out
    docs += [b'"\xff"', b'"\xc3"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"', b'["\xe2\x82"]',
             b'\xff', b'"\xc0\x80"']
    return docs


def untag(t):
    if t is None or isinstance(t, bool):
        return t
    (k, v), = t.items()
    if k == "d":
        return {key: untag(x) for key, x in v}
    if k == "l":
        return [untag(x) for x in v]
    if k == "s":
        return v
    if k == "i":
        return int(v)
    return float(v)


def cpython_loads(doc):
    """("ok", value) or ("err", None): CPython's json.loads on the document as UTF-8."""
    try:
        return "ok", json.loads(doc.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return "err", None


def _fffd_str(s):
    """CPython's str with lone surrogates as U+FFFD (as a MicroPython str has them)."""
    return "".join("\ufffd" if 0xd800 <= ord(c) <= 0xdfff else c for c in s)


def close(a, b):
    """Our value against CPython's: equal, floats within MicroPython's parser's rounding."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or math.isclose(a, b, rel_tol=1e-14, abs_tol=1e-300)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        b = {_fffd_str(k): x for k, x in b.items()}
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, str):
        return a == _fffd_str(b)
    return a == b


def mp_should_agree(doc):
    """Valid documents whose value MicroPython's json.loads must give as well."""
    low = doc.lower()
    return not (b"nan" in low or b"infinity" in low or doc.startswith(b"\xef\xbb\xbf")
                or b"\\ud8" in low or b"\\ud9" in low or b"\\uda" in low or b"\\udb" in low
                or b"\\udc" in low or b"\\udd" in low or b"\\ude" in low or b"\\udf" in low)


@pytest.fixture(scope="module")
def results(unix_mfa, tmp_path_factory):
    docs = documents()
    path = tmp_path_factory.mktemp("json") / "docs.txt"
    path.write_text("".join(binascii.hexlify(d).decode() + "\n" for d in docs))
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    p = subprocess.run([str(unix_mfa), "-X", "heapsize=64M",
                        os.path.join(HERE, "json_diff_device.py"), str(path)],
                       capture_output=True, timeout=600, env=env)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    lines = p.stdout.decode().splitlines()
    assert len(lines) == len(docs) + 1, lines[-3:]
    return docs, [json.loads(x) for x in lines[:-1]], lines[-1]


def test_loads_agrees_with_cpython(results):
    docs, rows, _ = results
    accepted = rejected = 0
    bad = []
    for doc, (mfa, mp, same, tagged) in zip(docs, rows):
        want, value = cpython_loads(doc)
        if mfa.startswith("Nesting too deep") and want == "ok":
            continue  # our depth limit (docs/limits.md); CPython's is its recursion limit
        if (mfa == "ok") != (want == "ok"):
            bad.append((doc[:120], mfa, want))
        elif want == "ok":
            accepted += 1
            if not close(untag(tagged), value):
                bad.append((doc[:300], "value", untag(tagged)))
        else:
            rejected += 1
            assert ": line " in mfa and "(char " in mfa, mfa
    assert not bad, bad[:10]
    assert accepted > COUNT_VALID and rejected > COUNT_MUTATED // 4, (accepted, rejected)


def test_loads_agrees_with_micropython(results):
    docs, rows, _ = results
    compared = 0
    bad = []
    for doc, (mfa, mp, same, tagged) in zip(docs, rows):
        if mfa == "ok" and mp_should_agree(doc):
            compared += 1
            if not same:
                bad.append((doc[:120], mp))
    assert not bad, bad[:10]
    assert compared > COUNT_VALID


def test_dumps_same_text(results):
    _, _, last = results
    word, n, bad = last.split(" ", 2)
    assert word == "DUMPS" and int(n) > COUNT_VALID
    assert json.loads(bad) == []
