"""Runs a multipart case file through one implementation of the reader and reports what it did.

Imported by tests/multipart/test_multipart.py (CPython: microfastapi.multipart) and run as a
script by the unix MicroPython binaries (`micropython mp_cases.py cases.json`: `_mfa` when the
binary has it, else the frozen microfastapi.multipart), which print one JSON document. The same
code runs everywhere, so the results compare with ==.

Case file: {"cases": [{"name", "boundary", "as_bytes", "hex", "max_parts", "max_header",
"plans"}], "boundaries": [Content-Type value, ...]}. A plan
is a list of cut positions (the body is fed in the slices between them), or "all": fed whole,
split in two at every byte, and one byte at a time. Slices go in as bytes, bytearray and
memoryview in turn.
"""
import binascii
import hashlib
import json
import sys


def digest(b):
    """bytes as hex, or for long ones their length and SHA-256 (keeps the JSON small)."""
    if len(b) <= 64:
        return binascii.hexlify(b).decode()
    return "%d:%s" % (len(b), binascii.hexlify(hashlib.sha256(b).digest()).decode())


class Collector:
    """Events with adjacent data merged (data as bytes until `done`)."""

    def __init__(self):
        self.events = []
        self.bad = []       # contract violations seen (empty data, wrong types)

    def add(self, ev):
        k = ev[0]
        if k == 2:
            d = ev[1]
            if not isinstance(d, (bytes, memoryview)):
                self.bad.append("data of type %s" % type(d).__name__)
            d = bytes(d)
            if not d:
                self.bad.append("empty data")
            if self.events and self.events[-1][0] == 2:
                self.events[-1][1] += d
            else:
                self.events.append([2, d])
        elif k == 1:
            if len(ev) != 5:
                self.bad.append("part tuple of %d" % len(ev))
            self.events.append([1, ev[1], ev[2], ev[3], [[h[0], h[1]] for h in ev[4]]])
        else:
            if len(ev) != 1:
                self.bad.append("tuple of %d" % len(ev))
            self.events.append([k])

    def done(self):
        return [[2, digest(e[1])] if e[0] == 2 else e for e in self.events]


def expand_plans(plans, n):
    if plans != "all":
        return plans
    out = [[]]
    for k in range(1, n):
        out.append([k])
    if n > 2:
        out.append(list(range(1, n)))
    return out


def run_plan(impl, case, data, cuts, kind):
    """[events, error or None, finish's error or None, what one more feed did, violations]."""
    boundary = case["boundary"]
    if case.get("as_bytes"):
        boundary = boundary.encode()
    try:
        r = impl.MultipartReader(boundary, max_parts=case["max_parts"],
                                 max_header=case["max_header"])
    except impl.MultipartError as e:
        return [[], [e.args[0], e.args[1]], None, None, []]
    c = Collector()
    error = None
    bounds = [0] + cuts + [len(data)]
    try:
        for j in range(len(bounds) - 1):
            piece = data[bounds[j]:bounds[j + 1]]
            if kind == 1:
                piece = bytearray(piece)
            elif kind == 2:
                piece = memoryview(piece)
            for ev in r.feed(piece):
                c.add(ev)
    except impl.MultipartError as e:
        error = [e.args[0], e.args[1]]
    try:
        r.finish()
        fin = None
    except impl.MultipartError as e:
        fin = [e.args[0], e.args[1]]
    try:
        after = [list(ev) for ev in r.feed(b"--x\r\n")]
    except impl.MultipartError as e:
        after = ["error", e.args[0], e.args[1]]
    return [c.done(), error, fin, after, c.bad]


def run_case(impl, case):
    """{"outcomes": distinct outcomes, "plans": index of each plan's outcome}."""
    data = binascii.unhexlify(case["hex"])
    outcomes = []
    index = []
    seen = {}
    plans = expand_plans(case["plans"], len(data))
    for i, cuts in enumerate(plans):
        o = run_plan(impl, case, data, cuts, i % 3)
        key = json.dumps(o)
        if key not in seen:
            seen[key] = len(outcomes)
            outcomes.append(o)
        index.append(seen[key])
    return {"outcomes": outcomes, "plans": index}


def run_boundaries(impl, values):
    out = []
    for v in values:
        try:
            out.append(binascii.hexlify(impl.multipart_boundary(v)).decode())
        except impl.MultipartError as e:
            out.append([e.args[0], e.args[1]])
    return out


def run_all(impl, cases):
    return {"cases": [run_case(impl, c) for c in cases.get("cases", [])],
            "boundaries": run_boundaries(impl, cases.get("boundaries", []))}


class _Impl:
    pass


def micropython_impl():
    from microfastapi import backend
    impl = _Impl()
    try:
        import _mfa as mod
        mod.MultipartReader
        impl.name = "_mfa"
    except (ImportError, AttributeError):
        from microfastapi import multipart as mod
        impl.name = "microfastapi.multipart"
    impl.MultipartReader = mod.MultipartReader
    impl.MultipartError = mod.MultipartError
    impl.multipart_boundary = backend.multipart_boundary
    assert backend.MultipartReader is mod.MultipartReader
    assert backend.MultipartError is mod.MultipartError
    for k, v in (("MP_PART", 1), ("MP_DATA", 2), ("MP_PART_END", 3), ("MP_END", 4)):
        assert getattr(mod, k) == v and getattr(backend, k) == v
    return impl


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    impl = micropython_impl()
    res = run_all(impl, cases)
    res["impl"] = impl.name
    print(json.dumps(res))
