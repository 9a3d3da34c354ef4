"""multipart/form-data bodies: `await req.form()` (fields and UploadFile objects) and
`req.parts()` (the parts one after another, as they arrive). docs/uploads.md has the guide.

The boundary scan is backend.MultipartReader (C in _mfa, else microfastapi.multipart): it is
fed the body piece by piece from req.stream(), so a file part never has to be in RAM whole.
- parts(): each Part is read (read(n), save(path), text()) before the next one is asked for;
  what a handler leaves unread of a part is skipped. Nothing is kept.
- form(): every part is taken at once. Fields become str values (at most max_field bytes
  each); files become UploadFile objects whose content waits in RAM up to `spool` bytes and
  beyond that in a spool file on the filesystem (the app's upload_dir), written in pieces.
  UploadFile.save(path) renames the spool file there (no copy) or writes what is in RAM.
  Spool files a handler did not save are removed once its answer is sent.
Bad bodies are answered with a status and a message naming the problem: 400 (no boundary,
malformed parts, a body that ends early), 413 (too many parts, part headers or a field over
their limits, or the route's max_body). A file being saved when its body fails is removed.
"""

import os

from . import backend
from .exceptions import ClientDisconnect, HTTPException
from .request import MultiDict

# (the reader's event kinds; the same in both twins)
_PART = 1
_DATA = 2
_PART_END = 3
_END = 4

_counter = 0


def _error(e):
    return HTTPException(e.args[0], e.args[1])


class Part:
    """One part of a multipart body, read as it arrives (from req.parts())."""

    def __init__(self, parts, name, filename, content_type, headers):
        self._parts = parts
        self.name = name
        self.filename = filename          # None for a plain field
        self.content_type = content_type  # None when the part has no Content-Type
        self.headers = headers            # [(lower-case name, value), ...]
        self.size = 0                     # bytes read so far
        self.done = False

    async def read(self, n=-1):
        """The next at most n bytes of the part (all the rest with n < 0); b"" at its end."""
        out = bytearray()
        while n < 0 or len(out) < n:
            p = await self._parts._data(n - len(out) if n >= 0 else -1)
            if p is None:
                break
            out += p
        self.size += len(out)
        return bytes(out)

    def __aiter__(self):
        return self

    async def __anext__(self):
        """`async for piece in part`: its pieces as they arrive (memoryviews, valid until the
        next one)."""
        p = await self._parts._data(-1)
        if p is None:
            raise StopAsyncIteration
        self.size += len(p)
        return p

    async def text(self, limit=None):
        """The rest of the part as str (UTF-8); over `limit` bytes: 413."""
        out = bytearray()
        while True:
            p = await self._parts._data(-1)
            if p is None:
                break
            out += p
            if limit is not None and len(out) > limit:
                raise HTTPException(413, "form field %r too large (limit %d)" % (self.name, limit))
        self.size += len(out)
        try:
            return out.decode()
        except UnicodeError:
            raise HTTPException(400, "form field %r is not UTF-8" % (self.name,))

    async def save(self, path):
        """Write the rest of the part to `path` in pieces; returns its size. The file is
        removed if the body fails before the part's end."""
        f = open(path, "wb")
        n = 0
        ok = False
        try:
            while True:
                p = await self._parts._data(-1)
                if p is None:
                    break
                f.write(p)
                n += len(p)
            ok = True
        finally:
            f.close()
            if not ok:
                _remove(path)
        self.size += n
        return n


class Parts:
    """Async iterator over the parts of a multipart body (req.parts())."""

    def __init__(self, req, max_parts=64, max_header=1024):
        ct = req.content_type
        if not ct.lower().startswith("multipart/form-data"):
            raise HTTPException(415, "expected a multipart/form-data body, got %r" % (ct,))
        try:
            boundary = backend.multipart_boundary(ct)
            self._reader = backend.MultipartReader(boundary, max_parts=max_parts,
                                                   max_header=max_header)
        except backend.MultipartError as e:
            raise _error(e)
        self._stream = req.stream()
        self._events = []
        self._i = 0
        self._part = None
        self._ended = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        p = await self.next()
        if p is None:
            raise StopAsyncIteration
        return p

    async def next(self):
        """The next Part (what is left of the current one is skipped), or None at the end."""
        if self._part is not None and not self._part.done:
            while await self._data(-1) is not None:
                pass
        while True:
            ev = await self._event()
            if ev is None:
                return None
            if ev[0] == _PART:
                self._part = Part(self, ev[1], ev[2], ev[3], ev[4])
                return self._part

    async def _fill(self):
        """Feed the next piece of the body to the reader; False at the body's end."""
        if self._ended:
            return False
        piece = await self._stream.read()
        try:
            if piece is None:
                self._ended = True
                self._reader.finish()  # (400 unless the final boundary came)
                return False
            self._events = self._reader.feed(piece)
            self._i = 0
        except backend.MultipartError as e:
            raise _error(e)
        return True

    async def _event(self):
        while self._i >= len(self._events):
            if not await self._fill():
                return None
        ev = self._events[self._i]
        self._i += 1
        if ev[0] == _END:
            # The final boundary: what may follow is an epilogue (ignored), read to the end so
            # that the connection can carry the next request.
            self._events = []
            self._i = 0
            while await self._stream.read() is not None:
                pass
            self._ended = True
            return None
        return ev

    async def _data(self, n):
        """The next bytes of the current part (at most n when n >= 0; a memoryview into the
        body's buffer, valid until the next call, or bytes), None at its end."""
        part = self._part
        if part is None or part.done:
            return None
        while self._i >= len(self._events):
            if not await self._fill():
                part.done = True
                raise HTTPException(400, "multipart: missing final boundary")
        ev = self._events[self._i]
        if ev[0] == _DATA:
            d = ev[1]
            if 0 <= n < len(d):
                self._events[self._i] = (_DATA, d[n:])  # (the rest stays for the next read)
                return d[:n]
            self._i += 1
            return d
        # (the reader sends PART_END before anything else that follows a part's data)
        self._i += 1
        part.done = True
        return None


class UploadFile:
    """A file part taken by form(): its content in RAM (small) or in a spool file."""

    def __init__(self, name, filename, content_type, headers):
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.headers = headers
        self.size = 0
        self._mem = bytearray()
        self._path = None   # the spool file, once the content outgrew `spool`
        self._f = None      # open for reading (read()) or writing (while form() takes it)
        self._pos = 0

    def _spool_write(self, data, spool, upload_dir):
        if self._path is None and len(self._mem) + len(data) <= spool:
            self._mem += data
        else:
            if self._path is None:
                self._path = _spool_name(upload_dir)
                try:
                    self._f = open(self._path, "wb")
                except OSError:
                    # (upload_dir is made when it does not exist yet)
                    os.mkdir(self._path[:self._path.rindex("/")])
                    self._f = open(self._path, "wb")
                if self._mem:
                    self._f.write(self._mem)
                    self._mem = bytearray()
            self._f.write(data)
        self.size += len(data)

    def _written(self):
        if self._f is not None:
            self._f.close()
            self._f = None

    async def read(self, n=-1):
        """The next at most n bytes (all the rest with n < 0); b"" at the end."""
        if self._path is None:
            end = len(self._mem) if n < 0 else min(len(self._mem), self._pos + n)
            out = bytes(self._mem[self._pos:end])
            self._pos = end
            return out
        if self._f is None:
            self._f = open(self._path, "rb")
            self._f.seek(self._pos)
        out = self._f.read() if n < 0 else self._f.read(n)
        self._pos += len(out)
        return out

    async def seek(self, pos):
        self._pos = pos
        if self._f is not None:
            self._f.seek(pos)

    async def save(self, path):
        """Put the content at `path` (the spool file is renamed there, else written in
        pieces); returns the size. The UploadFile is empty afterwards."""
        self.close()
        if self._path is not None:
            try:
                os.rename(self._path, path)
            except OSError:
                _copy(self._path, path)
                _remove(self._path)
            self._path = None
        else:
            with open(path, "wb") as f:
                f.write(self._mem)
            self._mem = bytearray()
        return self.size

    def close(self):
        if self._f is not None:
            self._f.close()
            self._f = None

    def _discard(self):
        self.close()
        if self._path is not None:
            _remove(self._path)
            self._path = None

    def __repr__(self):
        return "UploadFile(%r, %r, %d bytes)" % (self.name, self.filename, self.size)


class FormData(MultiDict):
    """The fields (str) and files (UploadFile) of a form, by name, in body order."""

    def files(self):
        return [v for k, v in self.items() if isinstance(v, UploadFile)]


async def read_form(req, max_parts, max_field, spool):
    app = req.app
    upload_dir = app.upload_dir
    parts = Parts(req, max_parts=max_parts)
    pairs = []
    files = []
    req._uploads = files
    try:
        while True:
            part = await parts.next()
            if part is None:
                break
            if part.filename is None:
                pairs.append((part.name, await part.text(max_field)))
                continue
            up = UploadFile(part.name, part.filename, part.content_type, part.headers)
            files.append(up)
            try:
                while True:
                    d = await parts._data(-1)
                    if d is None:
                        break
                    up._spool_write(d, spool, upload_dir)
            finally:
                up._written()
            pairs.append((part.name, up))
    except BaseException:
        discard(files)
        raise
    return FormData(pairs)


def discard(files):
    """Remove the spool files of a request's uploads that were not saved."""
    for up in files:
        try:
            up._discard()
        except OSError:
            pass


def _spool_name(upload_dir):
    global _counter
    _counter += 1
    d = upload_dir
    if d is None:
        d = _default_dir()
    try:
        from time import ticks_ms
        t = ticks_ms()
    except ImportError:
        from time import monotonic
        t = int(monotonic() * 1000)
    return "%s/.mfa-upload-%d-%d" % (d.rstrip("/"), t & 0xFFFFFF, _counter)


def _default_dir():
    try:
        os.stat("/tmp")  # unix, CPython on Linux
        return "/tmp"
    except OSError:
        return ""  # the board's flash: the filesystem's root


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _copy(src, dst):
    buf = bytearray(1024)
    with open(src, "rb") as a, open(dst, "wb") as b:
        while True:
            n = a.readinto(buf)
            if not n:
                break
            b.write(memoryview(buf)[:n])


__all__ = ("Part", "Parts", "UploadFile", "FormData", "ClientDisconnect")
