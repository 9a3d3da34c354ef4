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

Dot files and directories ('.mfa_secret', '.git/...') are never served, and neither is a file
registered with `protect(path)` (the sessions secret is), whatever directory is mounted.
"""

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

from .exceptions import HTTPException
from .response import FileResponse

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


class StaticFiles:
    """A directory served under a mount point (`app.mount(prefix, StaticFiles(...))`).

    `directory`: the root on the device's filesystem. `html=True`: a directory (or the mount
    point itself) answers its index.html. `chunk_size`: the FileResponse block size.
    `check_dir`: refuse a missing directory when created (Starlette does the same).
    """

    def __init__(self, directory, html=False, chunk_size=None, check_dir=True):
        self.directory = directory.rstrip("/")  # "/" -> "" so joins give "/name"
        self.html = html
        self.chunk_size = chunk_size
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

    def get_response(self, path):
        full = self.lookup(path)
        if full is None:
            raise HTTPException(404, "Not Found")
        return FileResponse(full, chunk_size=self.chunk_size)

    def mount_on(self, router, prefix):
        """Called by `router.mount(prefix, self)`: GET and HEAD routes, kept out of the
        OpenAPI schema."""
        prefix = prefix.rstrip("/")

        def serve(req, path=""):
            return self.get_response(path)

        router.add_route(prefix + "/{path:path}", serve, ("GET", "HEAD"),
                         include_in_schema=False)
        if self.html:
            router.add_route(prefix + "/", serve, ("GET", "HEAD"), include_in_schema=False)
