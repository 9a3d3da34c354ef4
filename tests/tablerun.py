"""What the case scripts share (tests/multipart/mp_cases.py, tests/ws/ws_cases.py,
tests/parser/parser_cases.py): how a case table runs through one implementation.

Each case script is imported by its pytest files (CPython) and also run as a script by the unix
MicroPython binaries (`micropython X_cases.py cases.json`, through
tests.support.run_case_script, which puts tests/ on MICROPYPATH for this module); there `main`
runs the case file and prints one JSON document. The same code runs everywhere, so the results
compare with ==. So this module keeps to what MicroPython has too (no pathlib, subprocess or
random.Random: those host-side helpers are in tests/support.py).

A plan is a list of cut positions (the input is fed in the slices between them), or "all": fed
whole, split in two at every byte, and one byte at a time. Plan i feeds its slices as bytes,
bytearray and memoryview in turn (kind i % 3).
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


def expand_plans(plans, n):
    """A case's plans for an input of n bytes, "all" spelled out."""
    if plans != "all":
        return plans
    out = [[]]
    for k in range(1, n):
        out.append([k])
    if n > 2:
        out.append(list(range(1, n)))
    return out


def pieces(data, cuts, kind):
    """The slices of `data` between the positions `cuts`, as bytes (kind 0), bytearray (1) or
    memoryview (2)."""
    bounds = [0] + cuts + [len(data)]
    for j in range(len(bounds) - 1):
        piece = data[bounds[j]:bounds[j + 1]]
        if kind == 1:
            piece = bytearray(piece)
        elif kind == 2:
            piece = memoryview(piece)
        yield piece


def run_plans(impl, case, run_plan):
    """Every plan of `case` (its "plans" over its "hex" input) through
    run_plan(impl, case, data, cuts, kind), which returns the outcome (JSON-able):
    {"outcomes": the distinct outcomes, "plans": the index of each plan's outcome}."""
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


class Impl:
    """An implementation under test: `name` and the names its case script uses."""


def micropython_impl(pure, names, probe=None):
    """The implementation in this MicroPython binary: `_mfa` when it has it (with `probe` in
    it, when given), else the frozen microfastapi.`pure`; an Impl with `names` taken from that
    module. Returns (impl, module)."""
    impl = Impl()
    try:
        import _mfa as mod
        if probe:
            getattr(mod, probe)
        impl.name = "_mfa"
    except (ImportError, AttributeError):
        mod = getattr(__import__("microfastapi." + pure), pure)
        impl.name = "microfastapi." + pure
    for n in names:
        setattr(impl, n, getattr(mod, n))
    return impl, mod


def main(run_all, impl):
    """A case script on MicroPython: the case file sys.argv[1] through run_all(impl, cases),
    printed as one JSON document with "impl" (which implementation ran) added."""
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    res = run_all(impl, cases)
    res["impl"] = impl.name
    print(json.dumps(res))
