"""Corpus reader and a parser-level model of the server, shared by CPython and MicroPython.

Corpus file format (tests/hostile/corpus/*.http): a sequence of records

    %%% <name> <expect> <nbytes>\n
    <exactly nbytes raw bytes>\n

`expect` is what the server answers when the whole record is sent on one connection and the
client then half-closes: a comma-separated list of statuses in order ("400", "200,400"), or
"close" for no response at all (the connection is closed without a byte); "a|b" when either
outcome is correct (the first one is what the parser-level model predicts).

`simulate()` replays a record through a parser (Python, C via ctypes, or `_mfa`) the way the
network loop uses it (head, then Content-Length or chunked body, then the next pipelined
request) and predicts the statuses; the router part is the hostile test app's route table.
"""

MAX_BODY = 16384  # the test servers run with the default max_body

_ROUTES = {"/": ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
           "/echo": ("POST", "PUT")}


def parse_corpus(data):
    """bytes of one corpus file -> list of (name, expectations, raw bytes); expectations is a
    list of acceptable outcomes, each a list of statuses ([] = closed without an answer)."""
    out = []
    pos = 0
    n = len(data)
    while pos < n:
        nl = data.find(b"\n", pos)
        if nl < 0 or data[pos:pos + 4] != b"%%% ":
            raise ValueError("bad record header at byte %d" % pos)
        parts = data[pos + 4:nl].decode().split(" ")
        if len(parts) != 3:
            raise ValueError("bad record header %r" % data[pos:nl])
        name, expect, size = parts[0], parts[1], int(parts[2])
        start = nl + 1
        end = start + size
        if data[end:end + 1] != b"\n":
            raise ValueError("record %s: length does not match" % name)
        out.append((name, [expect_list(e) for e in expect.split("|")], data[start:end]))
        pos = end + 1
    return out


def expect_list(expect):
    if expect == "close":
        return []
    return [int(s) for s in expect.split(",")]


def format_record(name, expect, raw):
    return b"%%%%%% %s %s %d\n" % (name.encode(), expect.encode(), len(raw)) + raw + b"\n"


def route_status(method, path):
    methods = _ROUTES.get(path)
    if methods is None:
        # the app's trailing-slash redirect (GET/HEAD to the form that exists)
        other = path[:-1] if path.endswith("/") else path + "/"
        if method in ("GET", "HEAD") and other and not other.startswith("//") and \
                "GET" in _ROUTES.get(other, ()):
            return 307
        return 404
    if method not in methods:
        return 405
    return 200


def simulate(raw, parse_request, parse_error, new_decoder, max_body=MAX_BODY):
    """Statuses the server should send for `raw` followed by EOF (see the module docstring).
    new_decoder() -> object with feed(bytes) -> (payload, consumed) and .done, raising
    parse_error like the parser."""
    out = []
    buf = raw
    while buf:
        try:
            head = parse_request(buf, 0)
        except parse_error as e:
            out.append(e.args[0])
            return out
        if head is None:
            return out  # truncated: EOF -> close, no answer
        buf = buf[head.header_len:]
        if head.chunked:
            dec = new_decoder()
            try:
                body, used = dec.feed(buf)
            except parse_error as e:
                out.append(e.args[0])
                return out
            if len(body) > max_body:
                out.append(413)
                return out
            if not dec.done:
                return out
            buf = buf[used:]
        else:
            cl = head.content_length or 0
            if cl > max_body:
                out.append(413)
                return out
            if len(buf) < cl:
                return out
            buf = buf[cl:]
        out.append(route_status(head.method, head.path))
        if not head.keep_alive:
            return out
    return out
