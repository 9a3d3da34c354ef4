"""microdot.multipart: multipart/form-data bodies, with microfastapi's multipart scanner
(`_mfa.MultipartReader` in C when the build has it) instead of Microdot's own.

    @app.post('/upload')
    @with_form_data
    async def upload(req):   # req.form: the fields, req.files: FileUpload objects
        await req.files['f'].save('/data/f.bin')

The request body is whole in RAM here (up to Request.max_content_length), so the parts are
scanned at once; a malformed body is answered 400 (too many parts, or part headers too
large: 413), with the scanner's reason.
"""

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

from ... import backend
from .core import abort, iscoroutine, AsyncBytesIO
from .helpers import wraps

try:
    _StopAsync = StopAsyncIteration
except NameError:  # pragma: no cover
    _StopAsync = StopIteration


def _parts(request):
    """[(name, filename or None, content type or None, bytes)] of a multipart body, None
    when the request is not multipart/form-data."""
    ct = request.content_type or ""
    if ct.split(";", 1)[0].strip().lower() != "multipart/form-data":
        return None
    try:
        r = backend.MultipartReader(backend.multipart_boundary(ct))
        events = r.feed(request.body)
        err = r.finish()
        if err is not None:
            raise err
    except backend.MultipartError as e:
        abort(e.args[0], e.args[1])
    out = []
    cur = None
    for ev in events:
        if ev[0] == backend.MP_PART:
            cur = [ev[1], ev[2], ev[3], []]
        elif ev[0] == backend.MP_DATA:
            cur[3].append(bytes(ev[1]))
        elif ev[0] == backend.MP_PART_END:
            out.append((cur[0], cur[1], cur[2], b"".join(cur[3])))
            cur = None
    return out


class FormDataIter:
    """`async for name, value in FormDataIter(request)`: str values for fields, FileUpload
    objects for files, in body order."""

    buffer_size = 256

    def __init__(self, request):
        self.request = request
        self._parts = None
        self._started = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        if not self._started:
            self._started = True
            self._parts = _parts(self.request)
        if not self._parts:
            raise _StopAsync
        name, filename, ctype, data = self._parts.pop(0)
        if filename is None:
            return name, data.decode()
        return name, FileUpload(filename, ctype, AsyncBytesIO(data).read)


class FileUpload:
    """An uploaded file: filename, content_type, `await read(n)`, `await save(path or
    file)`, `await copy()`, `await close()`."""

    max_memory_size = 1024

    def __init__(self, filename, content_type, read):
        self.filename = filename
        self.content_type = content_type
        self._read = read
        self._close = None

    async def read(self, n=-1):
        return await self._read(n)

    async def save(self, path_or_file):
        f = open(path_or_file, "wb") if isinstance(path_or_file, str) else path_or_file
        try:
            while True:
                data = await self.read(FormDataIter.buffer_size)
                if not data:
                    break
                f.write(data)
        finally:
            if f is not path_or_file:
                f.close()

    async def copy(self, max_memory_size=None):
        """Keep the content past the request (here it is in memory already)."""
        return self

    async def close(self):
        if self._close:
            await self._close()
            self._close = None


def with_form_data(f):
    """Decorator: request.form and request.files from a multipart/form-data body."""
    @wraps(f)
    async def wrapper(request, *args, **kwargs):
        form = {}
        files = {}
        async for name, value in FormDataIter(request):
            if isinstance(value, FileUpload):
                files[name] = await value.copy()
            else:
                form[name] = value
        if form or files:
            request._form = form
            request._files = files
        try:
            ret = f(request, *args, **kwargs)
            if iscoroutine(ret):
                ret = await ret
        finally:
            if request.files:
                for file in request.files.values():
                    await file.close()
        return ret
    return wrapper
