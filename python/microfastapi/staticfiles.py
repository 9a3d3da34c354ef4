"""Serving a directory of files, FastAPI's way:

    from microfastapi.staticfiles import StaticFiles
    app.mount("/static", StaticFiles(directory="/www"))             # GET /static/css/site.css
    app.mount("/", StaticFiles(directory="/www", html=True))        # index.html for directories

Files are streamed in fixed-size blocks (FileResponse), with the content type from the
extension. The part of the URL after the mount point is percent-decoded once by the router,
then refused (404, like Starlette) unless it is a plain relative path inside the directory: no
'..' or '.' segment, no empty segment (so no absolute path and no '//'), no backslash and no NUL
(MicroPython's file functions would cut the path there). Checking the decoded text covers every
encoding of those ('%2e%2e', '..%2f', '%2F', '%00', ...); a doubly encoded '%252e%252e' decodes
to the literal name '%2e%2e', which is only ever looked up inside the directory.

Answers (docs/static.md): a Content-Length (not chunked), ETag and Last-Modified from os.stat,
304 to If-None-Match (a list, weak comparison, '*'; it wins over If-Modified-Since, RFC 9110
13.2.2) and If-Modified-Since, `cache_control=` as Cache-Control, HEAD without the body, a
precompressed `name.gz` beside `name` when Accept-Encoding takes gzip (Content-Encoding: gzip,
the content type of `name`, Vary: Accept-Encoding), and one Range `bytes=a-b`, `a-` or `-n`
(206; 416 when it starts beyond the end). Several ranges get the whole file (200); If-Range is
honoured (an ETag compared strongly, or the exact Last-Modified date); a Range is always served
from `name` itself, never from `name.gz` (the ranges count uncompressed bytes).

Dot files and directories ('.mfa_secret', '.git/...') are never served, and neither is a file
registered with `protect(path)` (the sessions secret is), whatever directory is mounted.
"""

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

from .exceptions import HTTPException
from .response import FileResponse, StreamingResponse, guess_type, MONTHS

_S_IFDIR = 0o040000


def _is_dir(path):
    try:
        return bool(os.stat(path)[0] & _S_IFDIR)
    except OSError:
        return None  # missing


_protected = []  # normalised absolute paths that are never served (protect())


def _norm(path):
    """An absolute, lower-cased path without '//' or '/./' (for comparing, not for opening:
    lower-cased because FAT, which flash may carry, ignores case)."""
    if not path.startswith("/"):
        try:
            path = os.getcwd().rstrip("/") + "/" + path
        except (AttributeError, OSError):
            path = "/" + path
    out = []
    for seg in path.split("/"):
        if seg and seg != ".":
            out.append(seg)
    return "/" + "/".join(out).lower()


def protect(path):
    """Never serve the file `path` from any StaticFiles mount (e.g. a secret key on flash)."""
    p = _norm(path)
    if p not in _protected:
        _protected.append(p)


def safe_path(path, allow_dir=False):
    """`path` (decoded, relative) when every segment is a plain name, else None.
    With `allow_dir`, an empty path or a trailing '/' (a directory) is accepted."""
    if "\0" in path or "\\" in path:
        return None
    if allow_dir:
        if not path:
            return path
        check = path[:-1] if path[-1] == "/" else path
    else:
        check = path
    for seg in check.split("/"):
        if not seg or seg[0] == ".":  # '', '.', '..' and every dot file
            return None
    return path


def parse_http_date(s):
    """Seconds since 1970 for an HTTP date in any of its three forms (IMF-fixdate
    'Sun, 06 Nov 1994 08:49:37 GMT', RFC 850 'Sunday, 06-Nov-94 08:49:37 GMT', asctime
    'Sun Nov  6 08:49:37 1994'), or None when it is none of them."""
    day = month = year = hms = None
    for tok in s.replace(",", " ").replace("-", " ").split():
        if ":" in tok:
            hms = tok.split(":")
        elif tok.isdigit():
            if day is None and len(tok) <= 2:
                day = int(tok)
            else:
                year = int(tok)
        elif tok[:3] in MONTHS and len(tok) == 3:
            month = MONTHS.index(tok) + 1
    if day is None or month is None or year is None or hms is None or len(hms) != 3:
        return None
    if year < 100:
        year += 2000 if year < 70 else 1900  # (RFC 850's two digits: RFC 9110 5.6.7)
    try:
        h, mi, sec = int(hms[0]), int(hms[1]), int(hms[2])
    except ValueError:
        return None
    # days_from_civil (Howard Hinnant), the inverse of response.http_date's
    y = year - (1 if month <= 2 else 0)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + sec


def etag_match(header, etag):
    """If-None-Match's weak comparison: `header` is '*' or a list of (possibly weak) tags."""
    if header.strip() == "*":
        return True
    tag = etag[2:] if etag.startswith("W/") else etag
    for t in header.split(","):
        t = t.strip()
        if t.startswith("W/"):
            t = t[2:]
        if t == tag:
            return True
    return False


def accepts_gzip(header):
    """Whether an Accept-Encoding value takes gzip: named (or '*') with a q above 0."""
    star = None
    for part in header.split(","):
        bits = part.split(";")
        name = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b[:2].lower() == "q=":
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if name == "gzip" or name == "x-gzip":
            return q > 0
        if name == "*":
            star = q > 0
    return bool(star)


def parse_range(header, size):
    """(start, stop) of a single 'bytes=' range, 'whole' when the header is to be ignored
    (not bytes, malformed, several ranges), None when unsatisfiable (416)."""
    if not header.startswith("bytes="):
        return "whole"
    spec = header[6:].strip()
    if "," in spec or "-" not in spec:
        return "whole"  # several ranges: the whole file (no multipart/byteranges)
    a, b = spec.split("-", 1)
    a, b = a.strip(), b.strip()
    if not a:
        if not b.isdigit():
            return "whole"
        n = int(b)
        if n == 0 or size == 0:
            return None
        return (max(0, size - n), size)
    if not a.isdigit() or (b and not b.isdigit()):
        return "whole"
    start = int(a)
    if b and int(b) < start:
        return "whole"  # (invalid: RFC 9110 14.1.1 says ignore it)
    if start >= size:
        return None
    stop = min(int(b) + 1, size) if b else size
    return (start, stop)


class _NotModified(StreamingResponse):
    """A 304: streamed with no body, so the servers add no Content-Length (RFC 9110 8.6 allows
    one only when it is the 200's length)."""

    media_type = None


class StaticFiles:
    """A directory served under a mount point (`app.mount(prefix, StaticFiles(...))`).

    `directory`: the root on the device's filesystem. `html=True`: a directory (or the mount
    point itself) answers its index.html. `chunk_size`: the FileResponse block size.
    `check_dir`: refuse a missing directory when created (Starlette does the same).
    `cache_control`: the Cache-Control value of every answer (e.g. "max-age=3600"; default
    none: browsers revalidate with ETag / Last-Modified as they see fit). `gzip`: serve a
    `name.gz` found beside `name` to clients that accept gzip (default True).
    """

    def __init__(self, directory, html=False, chunk_size=None, check_dir=True,
                 cache_control=None, gzip=True):
        self.directory = directory.rstrip("/")  # "/" -> "" so joins give "/name"
        self.html = html
        self.chunk_size = chunk_size
        self.cache_control = cache_control
        self.gzip = gzip
        if check_dir and not _is_dir(directory):
            raise RuntimeError("Directory '%s' does not exist" % directory)

    def lookup(self, path):
        """The filesystem path for the decoded URL path `path`, or None (refused or missing)."""
        if safe_path(path, self.html) is None:
            return None
        full = self.directory + "/" + path if path else self.directory
        kind = _is_dir(full)
        if kind is None:
            return None
        if kind:
            if not self.html:
                return None
            full = full.rstrip("/") + "/index.html"
            if _is_dir(full) is not False:
                return None
        elif path.endswith("/"):
            return None  # "name.txt/" is not a directory
        if _protected and _norm(full) in _protected:
            return None
        return full

    def _gz(self, full):
        """`full`.gz when it is a file that may be served, else None."""
        gz = full + ".gz"
        if _is_dir(gz) is not False:
            return None
        if _protected and _norm(gz) in _protected:
            return None
        return gz

    def get_response(self, path, req=None):
        """The answer for the decoded URL path `path`; `req` (its headers and method) for the
        conditional, Range, gzip and HEAD handling (without it: the whole file)."""
        full = self.lookup(path)
        if full is None:
            raise HTTPException(404, "Not Found")
        h = req.headers if req is not None else {}
        rng = h.get("range") if req is not None and req.method == "GET" else None
        gz = self._gz(full) if self.gzip else None
        extra = []
        if self.cache_control:
            extra.append(("Cache-Control", self.cache_control))
        if gz is not None:
            extra.append(("Vary", "Accept-Encoding"))
        chosen = full
        if gz is not None and rng is None and accepts_gzip(h.get("accept-encoding") or ""):
            chosen = gz
        r = FileResponse(chosen, headers=extra, chunk_size=self.chunk_size,
                         media_type=guess_type(full))
        if chosen is gz:
            r.etag = r.etag[:-1] + '-gz"'
            r.set_header("ETag", r.etag)
            r.append_header("Content-Encoding", "gzip")
        # RFC 9110 13.2.2: If-None-Match, else If-Modified-Since; then Range (If-Range).
        inm = h.get("if-none-match")
        if inm is not None:
            fresh = etag_match(inm, r.etag)
        else:
            ims = h.get("if-modified-since")
            t = parse_http_date(ims) if ims else None
            fresh = t is not None and r.mtime <= t
        if fresh:
            nm = _NotModified((), 304, extra)
            nm.append_header("ETag", r.etag)
            nm.append_header("Last-Modified", r.last_modified)
            return nm
        if rng is not None:
            ir = h.get("if-range")
            if ir is None or (ir == r.etag if ir[:1] == '"' else ir == r.last_modified):
                sel = parse_range(rng.strip(), r.size)
                if sel is None:
                    raise HTTPException(416, "Range Not Satisfiable",
                                        {"Content-Range": "bytes */%d" % r.size})
                if sel != "whole":
                    r.select(sel[0], sel[1])
        if chosen is full:
            r.append_header("Accept-Ranges", "bytes")
        if req is not None and req.method == "HEAD":
            r.length = 0  # (the headers say the size; nothing is read)
        return r

    def mount_on(self, router, prefix):
        """Called by `router.mount(prefix, self)`: GET and HEAD routes, kept out of the
        OpenAPI schema."""
        prefix = prefix.rstrip("/")

        def serve(req, path=""):
            return self.get_response(path, req)

        router.add_route(prefix + "/{path:path}", serve, ("GET", "HEAD"),
                         include_in_schema=False)
        if self.html:
            router.add_route(prefix + "/", serve, ("GET", "HEAD"), include_in_schema=False)
