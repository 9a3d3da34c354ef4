"""Differential test: our reader (`_mfa` on the unix build, the twin on unix-pure and on CPython)
against python-multipart (pinned in tests/requirements.txt) on generated bodies: random parts
(names, filenames, content types, extra headers), random binary content with near-boundary
sequences, random splits; and corrupted bodies. Both must agree on the parts (name, filename,
content type, content) or both reject, except for the deliberate differences below (the same
list is in docs/internals.md, "Multipart bodies"), each recognised from the body by `explain`
and counted.

Deliberate differences (ours first, python-multipart second):
- "text after a delimiter": CRLF--boundary followed by anything but "--", SP/HT padding then
  CRLF is 400 bad delimiter (RFC 2046: the delimiter may not occur in content, and its line is
  "--" or padding + CRLF); python-multipart takes it as content.
- "padding after the first boundary": accepted (RFC 2046 transport padding);
  python-multipart refuses it on the first delimiter line only.
- "blank lines before the first boundary": only one CRLF is accepted before the first
  delimiter (no preamble); python-multipart skips any CRs and LFs (and after one, anything up
  to the next "-").
- "refused header bytes": a NUL or other control, a bare LF (python-multipart keeps it in the
  value) or invalid UTF-8 (we hand out str) in a header value is 400 bad part headers.
- "repeated header or parameter": a second Content-Disposition, Content-Type, name or filename
  is 400 bad part headers (two parsers could see two names); python-multipart keeps the last.
- "not form-data": a Content-Disposition type other than form-data is 400 (RFC 7578 4.2);
  python-multipart does not look at the type.
- "parameter syntax": a parameter without '=', a quote inside an unquoted value, text after a
  closing quote or an unterminated quote is 400; python-multipart keeps what it can.
- "IE path in filename": a filename like "C:\\dir\\f" is kept as sent; python-multipart cuts it
  to the last component (an IE6 workaround).
- "missing final boundary": finish() raises; python-multipart's finalize() does not check, so
  here a python-multipart run that did not reach its END state counts as a rejection (no
  difference is left).
- Content-Transfer-Encoding (base64, quoted-printable) is not decoded (RFC 7578 4.7 deprecates
  it); python-multipart's FormParser decodes it. The generator does not send it.
"""
import json
import logging
import random

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

import mp_cases
from test_multipart import run_mp
from tests.support import same_on_three

N_BODIES = 1000

logging.getLogger("python_multipart").setLevel(logging.CRITICAL)   # it warns on each rejection

# ---- python-multipart as the reference --------------------------------------------------------


class _Reject(Exception):
    pass


def pm_parse(boundary, body, cuts):
    """[(name, filename, content_type, content)] as python-multipart's parser and FormParser's
    rules see the body fed in the slices between cuts, or None for a rejection."""
    parts = []
    st = {}

    def on_part_begin():
        st.update(headers={}, hname=[], hval=[], data=[])

    def on_header_field(d, a, b):
        st["hname"].append(d[a:b])

    def on_header_value(d, a, b):
        st["hval"].append(d[a:b])

    def on_header_end():
        st["headers"][b"".join(st["hname"]).lower()] = b"".join(st["hval"]).strip(b" \t")
        st["hname"], st["hval"] = [], []

    def on_headers_finished():
        h = st["headers"]
        disp, opts = parse_options_header(h.get(b"content-disposition"))
        if opts.get(b"name") is None:       # FormParser: "Field name not found"
            raise _Reject()
        st["part"] = (opts[b"name"], opts.get(b"filename"), h.get(b"content-type"))

    def on_part_data(d, a, b):
        st["data"].append(d[a:b])

    def on_part_end():
        name, filename, ct = st["part"]
        parts.append((name, filename, ct, b"".join(st["data"])))

    cb = dict(on_part_begin=on_part_begin, on_header_field=on_header_field,
              on_header_value=on_header_value, on_header_end=on_header_end,
              on_headers_finished=on_headers_finished, on_part_data=on_part_data,
              on_part_end=on_part_end)
    p = MultipartParser(boundary, cb, max_header_count=10000, max_header_size=1 << 20)
    bounds = [0] + cuts + [len(body)]
    try:
        for a, b in zip(bounds, bounds[1:]):
            p.write(body[a:b])
        p.finalize()
    except (_Reject, MultipartParseError, FormParserError):
        return None
    if p.state != MultipartState.END:
        return None
    out = []
    for name, filename, ct, data in parts:
        try:
            out.append([name.decode(), None if filename is None else filename.decode(),
                        None if ct is None else ct.decode(), mp_cases.digest(data)])
        except UnicodeDecodeError:
            return "undecodable"
    return out


def ours(outcome):
    """[(name, filename, content_type, content digest)] from one of our outcomes, or None."""
    events, error, fin, after, bad = outcome
    assert bad == []
    if error is not None or fin is not None:
        return None
    out = []
    for e in events:
        if e[0] == 1:
            out.append([e[1], e[2], e[3], mp_cases.digest(b"")])
        elif e[0] == 2:
            out[-1][3] = e[1]
    return out


def our_error(outcome):
    return outcome[1] or outcome[2]


# ---- generated bodies ------------------------------------------------------------------------

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BCHARS = ALNUM + "'()+_,-./:=? "


def gen_boundary(rng):
    k = rng.randrange(5)
    if k == 0:
        return "%032x" % rng.getrandbits(128)                         # requests
    if k == 1:
        return "----WebKitFormBoundary" + "".join(rng.choice(ALNUM) for _ in range(16))
    if k == 2:
        return "-" * 24 + "%016x" % rng.getrandbits(64)                # curl
    if k == 3:
        return "----geckoformboundary%032x" % rng.getrandbits(128)     # Firefox
    n = rng.randint(1, 12)
    b = "".join(rng.choice(BCHARS) for _ in range(n))
    return b[:-1] + rng.choice(ALNUM)


NAME_CHARS = ALNUM + " _-.;[]κόσμε€"
FILE_CHARS = ALNUM + " _-.;,()%κόσμε€𝄞"


def gen_text(rng, chars, lo, hi):
    return "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))


def gen_content(rng, delim):
    """Random bytes with CR, LF, dashes and pieces of the delimiter planted, never the whole
    delimiter."""
    pieces = []
    for _ in range(rng.randint(0, 12)):
        k = rng.randrange(6)
        if k == 0:
            pieces.append(bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))))
        elif k == 1:
            pieces.append(delim[:rng.randint(1, len(delim) - 1)])
        elif k == 2:
            pieces.append(delim[2:] + rng.choice([b"", b"--", b"\r\n", b"x"]))
        elif k == 3:
            pieces.append(rng.choice([b"\r", b"\n", b"\r\n", b"--", b"\r\n\r\n", b"-"]))
        elif k == 4:
            pieces.append(delim[:-1] + rng.choice([b"\r\n", b"--", b""]))
        else:
            pieces.append(gen_text(rng, ALNUM + " \r\n", 0, 80).encode())
    c = b"".join(pieces)
    while delim in c:
        c = c.replace(delim, delim[:-1] + b"!" + delim[-1:])
    return c


def quote(s, rng):
    """(a parameter value as clients send it, what a reader must make of it): HTML-style (`"`
    as %22, backslashes as they are) or curl's old backslash escapes."""
    if rng.random() < 0.5:
        v = s.replace('"', "%22")
        return '"' + v + '"', v
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"', s


def gen_body(rng):
    """(boundary, a valid body, its parts as ours() reports them)."""
    boundary = gen_boundary(rng)
    b = boundary.encode()
    delim = b"\r\n--" + b
    parts = []
    out = b"--" + b
    for _ in range(rng.randint(0, 5)):
        qn, name = quote(gen_text(rng, NAME_CHARS + '"', 0, 12), rng)
        cd = "form-data; name=" + qn
        filename = None
        if rng.random() < 0.5:
            f = gen_text(rng, FILE_CHARS + '"', 0, 16)
            if rng.random() < 0.15:
                f = f + "\\x" + f       # a backslash that escapes nothing
            qf, filename = quote(f, rng)
            cd += "; filename=" + qf
        ct = rng.choice([None, None, "text/plain", "application/octet-stream",
                         "text/plain; charset=utf-8", "image/png"])
        content = gen_content(rng, delim)
        headers = [("Content-Disposition", cd)]
        if ct:
            headers.append(("Content-Type", ct))
        if rng.random() < 0.3:
            headers.insert(rng.randrange(len(headers) + 1),
                           ("X-Extra", gen_text(rng, ALNUM, 0, 9)))
        out += b"\r\n" + b"".join(("%s: %s\r\n" % hv).encode() for hv in headers) + b"\r\n"
        out += content + delim
        parts.append([name, filename, ct, mp_cases.digest(content)])
    out += b"--" + rng.choice([b"", b"\r\n", b"\r\nepilogue"])
    return boundary, out, parts


CORRUPTIONS = ("flip", "cut", "insert", "drop", "delim text", "delim padding", "lf headers",
               "no colon", "preamble", "dup header", "no name", "nul", "first padding")


def corrupt(rng, boundary, body):
    b = boundary.encode()
    k = rng.choice(CORRUPTIONS)
    i = rng.randrange(len(body))
    if k == "flip":
        return k, body[:i] + bytes([body[i] ^ (1 << rng.randrange(8))]) + body[i + 1:]
    if k == "cut":
        return k, body[:i]
    if k == "insert":
        return k, body[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + body[i:]
    if k == "drop":
        return k, body[:i] + body[i + 1:]
    delim = b"\r\n--" + b
    if k in ("delim text", "delim padding"):
        j = body.find(delim, rng.randrange(len(body)))
        if j < 0:
            j = body.find(delim)
        if j < 0:
            return k, body + b"x"
        j += len(delim)
        extra = rng.choice([b"x", b"-x", b"\rx", b" x"]) if k == "delim text" else b" \t "
        return k, body[:j] + extra + body[j:]
    if k == "lf headers":
        return k, body.replace(b"\r\nContent-Type", b"\nContent-Type", 1)
    if k == "no colon":
        return k, body.replace(b"Content-Disposition:", b"Content-Disposition", 1)
    if k == "preamble":
        return k, rng.choice([b"\r\n\r\n", b"\n", b"junk\r\n", b"\r\njunk"]) + body
    if k == "dup header":
        return k, body.replace(b"Content-Disposition: ", b"Content-Disposition: form-data; "
                                                         b"name=\"dup\"\r\nContent-Disposition: ", 1)
    if k == "no name":
        return k, body.replace(b"; name=", b"; nam=", 1)
    if k == "nul":
        return k, body.replace(b"form-data", b"form\x00data", 1)
    return k, body.replace(b"--" + b + b"\r\n", b"--" + b + b" \r\n", 1)


E_DELIM = [400, "multipart: bad delimiter"]
E_HEADERS = [400, "multipart: bad part headers"]
E_NO_NAME = [400, "multipart: part without a Content-Disposition form-data name"]
E_NO_START = [400, "multipart: body does not start with the boundary"]


def fits(reason, err, mine, theirs):
    """Whether a deliberate difference accounts for these two answers: it must be the one side
    rejecting with the error that the difference says, the other side accepting."""
    took = theirs is not None and theirs != "undecodable"
    if reason == "padding after the first boundary":
        return mine is not None and theirs is None
    if reason == "IE path in filename":
        return mine is not None and took and len(mine) == len(theirs) and any(
            a[1] != b[1] and a[:1] + a[2:] == b[:1] + b[2:] for a, b in zip(mine, theirs))
    want = {"text after a delimiter": E_DELIM, "blank lines before the first boundary": E_NO_START,
            "not form-data": E_NO_NAME}.get(reason, E_HEADERS)
    return err == want and (took or reason == "refused header bytes" and theirs == "undecodable")


def explain(boundary, body):
    """The deliberate differences (module docstring) that the body shows, if any."""
    b = boundary.encode()
    delim = b"\r\n--" + b
    reasons = []
    if not (body.startswith(b"--" + b) or body.startswith(delim)) and body[:1] in (b"\r", b"\n"):
        reasons.append("blank lines before the first boundary")
    start = 0 if body.startswith(b"--" + b) else 2 if body.startswith(delim) else None
    if start is not None:
        j = start + 2 + len(b)
        if body[j:j + 1] in (b" ", b"\t"):
            reasons.append("padding after the first boundary")
    # Any later delimiter followed by something else than "--" or padding and CRLF.
    j = body.find(delim, 1)
    while j >= 0:
        rest = body[j + len(delim):]
        r = rest.lstrip(b" \t")
        if not rest.startswith(b"--") and not r.startswith(b"\r\n") and (r or rest != r):
            reasons.append("text after a delimiter")
            break
        j = body.find(delim, j + 1)
    # Header blocks.
    for blk in header_blocks(body, b):
        if any(c < 0x20 and c not in (9, 10, 13) or c == 0x7f for c in blk) \
                or blk.replace(b"\r\n", b"").find(b"\n") >= 0:
            reasons.append("refused header bytes")
        try:
            blk.decode()
        except UnicodeDecodeError:
            reasons.append("refused header bytes")
        lines = blk.split(b"\r\n")
        names = [ln.split(b":", 1)[0].strip().lower() for ln in lines if b":" in ln]
        if names.count(b"content-disposition") > 1 or names.count(b"content-type") > 1:
            reasons.append("repeated header or parameter")
        for ln in lines:
            if ln.lower().startswith(b"content-disposition:"):
                v = ln.split(b":", 1)[1].strip()
                if v.split(b";")[0].strip().lower() != b"form-data":
                    reasons.append("not form-data")
                if v.lower().count(b"name=") - v.lower().count(b"filename=") > 1 \
                        or v.lower().count(b"filename=") > 1:
                    reasons.append("repeated header or parameter")
                if b"\\\\" in v or b':\\' in v:
                    reasons.append("IE path in filename")
                if v.count(b'"') % 2 or any(b"=" not in s for s in v.split(b";")[1:] if s.strip()):
                    reasons.append("parameter syntax")
    return reasons


def header_blocks(body, b):
    """The header blocks of the body, roughly (for explain only)."""
    out = []
    for piece in body.split(b"--" + b)[1:]:
        k = piece.find(b"\r\n\r\n")
        out.append(piece[:k + 2] if k >= 0 else piece)
    return out


def test_differential(tmp_path, unix_mfa, unix_pure):
    rng = random.Random(7578)
    cases = []
    for k in range(N_BODIES):
        boundary, body, parts = gen_body(rng)
        how = None
        if k % 5 >= 3:
            how, body = corrupt(rng, boundary, body)
        n = len(body)
        plans = [[]]
        for _ in range(2):
            plans.append(sorted(set(rng.randrange(1, n) for _ in range(rng.randint(1, 12))))
                         if n > 1 else [])
        cases.append(dict(name="gen %d" % k, boundary=boundary, hex=body.hex(), max_parts=64,
                          max_header=1024, plans=plans, how=how, parts=parts))
    out = run_mp(tmp_path, unix_mfa, unix_pure, {"cases": cases})
    agree = reject = pm_split = 0
    differ = {}
    for i, c in enumerate(cases):
        got = same_on_three(out, "cases", i, c["name"])
        body = bytes.fromhex(c["hex"])
        # Ours: the same for every split (the events before an error depend on the split).
        mine = {json.dumps(ours(o)) for o in got["outcomes"]}
        assert len(mine) == 1, c["name"]
        mine = json.loads(mine.pop())
        err = our_error(got["outcomes"][0])
        theirs = [pm_parse(c["boundary"], body, cuts) for cuts in c["plans"]]
        if not all(json.dumps(t) == json.dumps(theirs[0]) for t in theirs):
            # python-multipart skips leading CRs/LFs and then jumps to the first "-" of the
            # slice; a slice with none is dropped whole, so its answer depends on the split.
            assert body[:1] in (b"\r", b"\n"), c["name"]
            pm_split += 1
        theirs = theirs[0]
        if c["how"] is None:
            # Valid bodies: both take them, with the parts the generator put in.
            assert mine == c["parts"], (c["name"], mine, c["parts"])
            assert theirs == mine, (c["name"], theirs)
            agree += 1
            continue
        if mine == theirs:
            agree += 1
            reject += mine is None
            continue
        why = [w for w in explain(c["boundary"], body) if fits(w, err, mine, theirs)]
        assert why, (c["name"], c["how"], err, mine, theirs, body[:400])
        differ[why[0]] = differ.get(why[0], 0) + 1
    print("\ndifferential: %d bodies (%d corrupted), %d agree (%d both rejected), deliberate "
          "differences: %s; python-multipart split-dependent on %d" % (
              len(cases), sum(c["how"] is not None for c in cases), agree, reject, differ,
              pm_split))
    assert reject > 50 and agree > len(cases) * 0.7, (agree, reject)
