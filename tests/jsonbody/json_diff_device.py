# Run by test_json_diff.py on unix MicroPython (the build with _mfa): for each document in the
# case file (one hex-encoded document a line), one output line, a JSON array:
#   [mfa, mp, same, value]
# mfa: "ok" or the ValueError message of _mfa.json_loads; mp: "ok" or "err" for json.loads;
# same: both accepted and gave equal values of equal types (floats by bits, NaN equal to NaN);
# value: _mfa's value, tagged (see tag) so that CPython can compare it exactly.
# Then one line "DUMPS <n> <bad>" for the json_dumps checks (bad: a list of failing reprs).
import sys
import json
import binascii
import _mfa


def tag(v):
    t = type(v)
    if t is dict:
        return {"d": sorted([[k, tag(x)] for k, x in v.items()])}
    if t is list:
        return {"l": [tag(x) for x in v]}
    if t is str:
        return {"s": v}
    if t is bool or v is None:
        return v
    if t is int:
        return {"i": str(v)}
    if t is float:
        return {"f": repr(v)}
    raise TypeError(t)


def same(a, b):
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        if len(a) != len(b):
            return False
        for k in a:
            if k not in b or not same(a[k], b[k]):
                return False
        return True
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is float and a != a:
        return b != b
    return a == b


def plain(v):
    """True when json.dumps' text is sure JSON (what json_dumps(v, True) must not refuse)."""
    t = type(v)
    if t is float:
        return v == v and v not in (float("inf"), float("-inf"))
    if t is str or t is int or t is bool or v is None:
        return True
    if t is dict:
        return all(type(k) is str and plain(x) for k, x in v.items())
    if t is list or t is tuple:
        return all(plain(x) for x in v)
    return False


class Thing:
    pass


dumps_n = 0
dumps_bad = []


def check_dumps(v):
    global dumps_n
    dumps_n += 1
    want = json.dumps(v)
    got = _mfa.json_dumps(v)
    checked = _mfa.json_dumps(v, True)
    if got != want or (checked is None) == plain(v) or (checked is not None and checked != want):
        dumps_bad.append(repr(v)[:200])


def main(path):
    for line in open(path):
        doc = binascii.unhexlify(line.strip())
        try:
            v = _mfa.json_loads(doc)
            mfa = "ok"
        except ValueError as e:
            mfa = str(e)
            v = None
        try:
            w = json.loads(doc)
            mp = "ok"
        except Exception:
            mp = "err"
            w = None
        ok = mfa == "ok" and mp == "ok" and same(v, w)
        print(json.dumps([mfa, mp, ok, tag(v) if mfa == "ok" else None]))
        if mfa == "ok":
            check_dumps(v)
    thing = Thing()
    ctrl = "".join(chr(i) for i in range(32)) + "\"\\/\x7f é€😀"
    extra = [(1, 2, (3, "x")), {1: 2}, {None: 1, True: 2, 1.5: 3}, {"a": (1,)}, float("inf"),
             float("nan"), [float("-inf")], b"bytes", {"k": b"v"}, thing, [thing], {"t": thing},
             2 ** 100, -2 ** 70, [2 ** 64, -1, 0], ctrl, {ctrl: ctrl}, 1e22, 1e-7, -0.0,
             123456789.125, [], {}, [[]], {"a": {}}, bytearray(b"ab"), {b"k": 1}, "",
             -1073741824, 1073741823, 4611686018427387903, -4611686018427387904]
    # whole floats (written without the float formatter) around the limits of that path
    extra += [float(k) for k in range(-300, 300)] + [999999.0, -999999.0, 1e6, -1e6, 1e6 - 0.5,
                                                    123456.0, 0.5, -0.5, 2.0 ** 40, 1e16]
    for v in extra:
        check_dumps(v)
    # a cycle: json.dumps and json_dumps both end in RuntimeError (maximum recursion depth)
    cyc = []
    cyc.append(cyc)
    for f in (json.dumps, _mfa.json_dumps):
        try:
            f(cyc)
            dumps_bad.append("cycle accepted by %r" % f)
        except RuntimeError:
            pass
    print("DUMPS %d %s" % (dumps_n, json.dumps(dumps_bad)))


main(sys.argv[1])
