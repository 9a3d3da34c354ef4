"""Runs a WebSocket case file through one implementation of the frame layer and reports what it
did.

Imported by tests/ws/test_wsframe.py (CPython: microfastapi.wsframe) and run as a script by the
unix MicroPython binaries (`micropython ws_cases.py cases.json`: `_mfa` when the binary has it,
else the frozen microfastapi.wsframe), which print one JSON document. The same code runs
everywhere, so the results compare with ==; how a case table runs (plans, slices, outcomes, the
script's entry point) is tests/tablerun.py's.

Case file: {"readers": [{"name", "client", "max", "hex", "plans"}], "accept": [key, ...],
"frames": [[opcode, payload_length, payload_kind, fin, mask_hex_or_null], ...]} (payloads made
by pattern()); plans as in tests/tablerun.py (the stream is fed in the slices between the
cuts).
"""
import binascii

import tablerun
from tablerun import digest


def event_json(ev):
    if ev[0] == 1:
        return [1, digest(ev[1].encode())]
    if ev[0] == 8:
        return [8, ev[1], ev[2]]
    return [ev[0], digest(ev[1])]


def run_plan(impl, case, data, cuts, kind):
    """Feed data cut at `cuts`; kind 0/1/2 feeds bytes/bytearray/memoryview slices. The outcome:
    [events, error or None, what one more feed did, the same slices through feed_one]."""
    r = impl.WsReader(max_message=case["max"], client=case["client"])
    events = []
    error = None
    try:
        for piece in tablerun.pieces(data, cuts, kind):
            for ev in r.feed(piece):
                events.append(event_json(ev))
    except impl.WsError as e:
        error = [e.args[0], e.args[1]]
    # One more feed: the same error again, or [] after a close (or nothing more).
    try:
        after = [event_json(ev) for ev in r.feed(b"\x81\x00")]
    except impl.WsError as e:
        after = ["error", e.args[0], e.args[1]]
    return [events, error, after, run_feed_one(impl, case, data, cuts, kind)]


def run_feed_one(impl, case, data, cuts, kind):
    """The events feed_one gave, a bare message (not a list) marked "one"; then the error."""
    r = impl.WsReader(max_message=case["max"], client=case["client"])
    out = []
    try:
        for piece in tablerun.pieces(data, cuts, kind):
            got = r.feed_one(piece)
            if type(got) is list:
                out.extend(event_json(ev) for ev in got)
            else:
                out.append(["one"] + event_json((1 if type(got) is str else 2, got)))
    except impl.WsError as e:
        out.append(["error", e.args[0], e.args[1]])
    return out


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
        res["readers"].append(tablerun.run_plans(impl, c, run_plan))
    for key in cases.get("accept", []):
        res["accept"].append([impl.ws_accept(key), impl.ws_accept(key.encode())])
    for spec in cases.get("frames", []):
        res["frames"].append(run_frame(impl, spec))
    return res


def micropython_impl():
    return tablerun.micropython_impl("wsframe", ("WsReader", "WsError", "ws_frame", "ws_accept"),
                                     probe="WsReader")[0]


if __name__ == "__main__":
    tablerun.main(run_all, micropython_impl())
