"""Runs tests/parser/cases.json through one parser implementation and reports what it did.

Imported by the pytest files (CPython: the C parser via ctypes, parser.py) and run as a script
by the unix MicroPython binaries (`micropython parser_cases.py cases.json`: `_mfa` when the
binary has it, else the frozen microfastapi.parser), which print one JSON document. The same
summarising code runs everywhere, so the results compare with ==; the script's entry point is
tests/tablerun.py's.
"""
import tablerun

ATTRS = ("method", "path", "query", "version", "header_len", "content_length", "chunked",
         "keep_alive", "expect_continue")


def to_bytes(s):
    return bytes([ord(c) for c in s])


def summarize_head(impl, buf, last_len=0):
    """None, [status, reason] or a dict of the head's attributes."""
    try:
        r = impl.parse_request(buf, last_len)
    except impl.ParseError as e:
        return [e.args[0], e.args[1]]
    if r is None:
        return None
    out = {}
    for a in ATTRS:
        out[a] = getattr(r, a)
    hs = []
    for k, v in r.headers:
        hs.append([k, v])
    out["headers"] = hs
    # header(): case-insensitive, first of that name, default otherwise.
    look = []
    for k, v in r.headers:
        look.append(r.header(k.upper()))
    look.append(r.header("X-Not-There", "dflt"))
    look.append(r.header("x-not-there"))
    out["lookup"] = look
    return out


def summarize_chunked(impl, data, step):
    d = impl.ChunkedDecoder()
    body = b""
    off = 0
    try:
        while off < len(data):
            piece = data[off:off + step]
            out, used = d.feed(piece)
            body += out
            off += used
            if d.done:
                break
    except impl.ParseError as e:
        return [e.args[0], e.args[1]]
    return {"body": "".join([chr(c) for c in body]), "consumed": off if d.done else None}


def run_all(impl, cases):
    res = {"head": [], "chunked": [], "unquote": [], "parse_qsl": []}
    for c in cases["cases"]:
        res["head"].append(summarize_head(impl, to_bytes(c["raw"])))
    for name, raw, expect in cases["chunked"]:
        data = to_bytes(raw)
        res["chunked"].append([summarize_chunked(impl, data, 1 << 20),
                               summarize_chunked(impl, data, 1)])
    for s, expect in cases["unquote"]:
        res["unquote"].append([impl.unquote(s), impl.unquote(s.encode())])
    for s, expect in cases["parse_qsl"]:
        res["parse_qsl"].append([[k, v] for k, v in impl.parse_qsl(s)])
    return res


def micropython_impl():
    return tablerun.micropython_impl(
        "parser", ("parse_request", "ParseError", "ChunkedDecoder", "unquote", "parse_qsl"))[0]


if __name__ == "__main__":
    tablerun.main(run_all, micropython_impl())
