"""Runs a WebSocket case file through one implementation of the frame layer and reports what it
did.

Imported by tests/ws/test_wsframe.py (CPython: microfastapi.wsframe) and run as a script by the
unix MicroPython binaries (`micropython ws_cases.py cases.json`: `_mfa` when the binary has it,
else the frozen microfastapi.wsframe), which print one JSON document. The same code runs
everywhere, so the results compare with ==.

Case file: {"readers": [{"name", "client", "max", "hex", "plans"}], "accept": [key, ...],
"frames": [[opcode, payload_length, payload_kind, fin, mask_hex_or_null], ...]} (payloads made
by pattern()). A plan is a list
of cut positions (the stream is fed in the slices between them), or "all": fed whole, split in
two at every byte, and one byte at a time.
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


def event_json(ev):
    if ev[0] == 1:
        return [1, digest(ev[1].encode())]
    if ev[0] == 8:
        return [8, ev[1], ev[2]]
    return [ev[0], digest(ev[1])]


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
    """Feed data cut at `cuts`; kind 0/1/2 feeds bytes/bytearray/memoryview slices. The outcome:
    [events, error or None, what one more feed did]."""
    r = impl.WsReader(max_message=case["max"], client=case["client"])
    events = []
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
                events.append(event_json(ev))
    except impl.WsError as e:
        error = [e.args[0], e.args[1]]
    # One more feed: the same error again, or [] after a close (or nothing more).
    try:
        after = [event_json(ev) for ev in r.feed(b"\x81\x00")]
    except impl.WsError as e:
        after = ["error", e.args[0], e.args[1]]
    return [events, error, after]


def run_reader_case(impl, case):
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


def pattern(n, text):
    """A payload of n bytes: UTF-8 text (2-byte characters) or varied bytes."""
    if text:
        return ("\u00e9" * (n // 2) + "a" * (n % 2)).encode()
    return bytes([(i * 7 + (i >> 8)) & 255 for i in range(n)])


def run_frame(impl, spec):
    opcode, n, kind, fin, mask_hex = spec
    payload = pattern(n, kind == "str" or opcode == 1)
    if kind == "str":
        payload = str(payload, "utf-8")
    elif kind == "bytearray":
        payload = bytearray(payload)
    elif kind == "memoryview":
        payload = memoryview(payload)
    mask = None if mask_hex is None else binascii.unhexlify(mask_hex)
    try:
        if fin is None:
            out = impl.ws_frame(opcode, payload) if mask is None else impl.ws_frame(
                opcode, payload, mask=mask)
        else:
            out = impl.ws_frame(opcode, payload, fin, mask)
    except ValueError:
        return "ValueError"
    except TypeError:
        return "TypeError"
    return digest(out)


def run_all(impl, cases):
    res = {"readers": [], "accept": [], "frames": []}
    for c in cases.get("readers", []):
        res["readers"].append(run_reader_case(impl, c))
    for key in cases.get("accept", []):
        res["accept"].append([impl.ws_accept(key), impl.ws_accept(key.encode())])
    for spec in cases.get("frames", []):
        res["frames"].append(run_frame(impl, spec))
    return res


class _Impl:
    pass


def micropython_impl():
    impl = _Impl()
    try:
        import _mfa as mod
        mod.WsReader
        impl.name = "_mfa"
    except (ImportError, AttributeError):
        from microfastapi import wsframe as mod
        impl.name = "microfastapi.wsframe"
    for n in ("WsReader", "WsError", "ws_frame", "ws_accept"):
        setattr(impl, n, getattr(mod, n))
    return impl


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    impl = micropython_impl()
    res = run_all(impl, cases)
    res["impl"] = impl.name
    print(json.dumps(res))
