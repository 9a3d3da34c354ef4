"""Runs a multipart case file through one implementation of the reader and reports what it did.

Imported by tests/multipart/test_multipart.py (CPython: microfastapi.multipart) and run as a
script by the unix MicroPython binaries (`micropython mp_cases.py cases.json`: `_mfa` when the
binary has it, else the frozen microfastapi.multipart), which print one JSON document. The same
code runs everywhere, so the results compare with ==; how a case table runs (plans, slices,
outcomes, the script's entry point) is tests/tablerun.py's.

Case file: {"cases": [{"name", "boundary", "as_bytes", "hex", "max_parts", "max_header",
"plans"}], "boundaries": [Content-Type value, ...]}; plans as in tests/tablerun.py (the body
is fed in the slices between the cuts).
"""
import binascii

import tablerun
from tablerun import digest


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
    try:
        for piece in tablerun.pieces(data, cuts, kind):
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


def run_boundaries(impl, values):
    out = []
    for v in values:
        try:
            out.append(binascii.hexlify(impl.multipart_boundary(v)).decode())
        except impl.MultipartError as e:
            out.append([e.args[0], e.args[1]])
    return out


def run_all(impl, cases):
    return {"cases": [tablerun.run_plans(impl, c, run_plan) for c in cases.get("cases", [])],
            "boundaries": run_boundaries(impl, cases.get("boundaries", []))}


def micropython_impl():
    from microfastapi import backend
    impl, mod = tablerun.micropython_impl("multipart", ("MultipartReader", "MultipartError"),
                                          probe="MultipartReader")
    impl.multipart_boundary = backend.multipart_boundary
    assert backend.MultipartReader is mod.MultipartReader
    assert backend.MultipartError is mod.MultipartError
    for k, v in (("MP_PART", 1), ("MP_DATA", 2), ("MP_PART_END", 3), ("MP_END", 4)):
        assert getattr(mod, k) == v and getattr(backend, k) == v
    return impl


if __name__ == "__main__":
    tablerun.main(run_all, micropython_impl())
