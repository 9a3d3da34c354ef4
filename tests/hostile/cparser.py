"""The C parser (cmodules/mfa/mfa_http.c) through ctypes, with the pure-Python parser's surface
(parse_request, ParseError, ChunkedDecoder) so tests/hostile/sim.py can drive either one.

Uses build/host/libmfa_http.so (CMakeLists.txt) when it is newer than the sources, otherwise
compiles mfa_http.c into a private shared library with the system C compiler (one file, < 1 s).
"""
import ctypes
import os
import pathlib
import shutil
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SRC = ROOT / "cmodules" / "mfa"
MAX_HEADERS = 32


class ParseError(ValueError):
    pass


class _Req(ctypes.Structure):
    _fields_ = [("method", ctypes.c_void_p), ("method_len", ctypes.c_size_t),
                ("path", ctypes.c_void_p), ("path_len", ctypes.c_size_t),
                ("query", ctypes.c_void_p), ("query_len", ctypes.c_size_t),
                ("minor_version", ctypes.c_int), ("flags", ctypes.c_uint),
                ("content_length", ctypes.c_uint64), ("error", ctypes.c_int)]


class _Hdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("name_len", ctypes.c_size_t),
                ("value", ctypes.c_void_p), ("value_len", ctypes.c_size_t)]


class _Chunked(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint64), ("count", ctypes.c_uint32),
                ("data", ctypes.c_uint64), ("framing", ctypes.c_uint64),
                ("state", ctypes.c_uint8), ("error", ctypes.c_uint8)]


def _library():
    sources = [SRC / "mfa_http.c", SRC / "mfa_http.h"]
    newest = max(p.stat().st_mtime for p in sources)
    built = ROOT / "build" / "host" / "libmfa_http.so"
    if built.exists() and built.stat().st_mtime >= newest:
        return str(built)
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise RuntimeError("no C compiler to build mfa_http.c for the ctypes tests")
    out = pathlib.Path(tempfile.mkdtemp(prefix="mfa-hostile-")) / "libmfa_http.so"
    subprocess.run([cc, "-std=c99", "-O1", "-g", "-shared", "-fPIC", "-I", str(SRC), "-o",
                    str(out), str(SRC / "mfa_http.c")], check=True, timeout=120)
    return str(out)


LIB_PATH = _library()
_lib = ctypes.CDLL(LIB_PATH)
_lib.mfa_http_parse_request.restype = ctypes.c_int
_lib.mfa_http_parse_request.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                        ctypes.POINTER(_Req), ctypes.POINTER(_Hdr),
                                        ctypes.POINTER(ctypes.c_size_t)]
_lib.mfa_http_err_reason.restype = ctypes.c_char_p
_lib.mfa_http_err_reason.argtypes = [ctypes.c_int]
_lib.mfa_http_err_status.restype = ctypes.c_int
_lib.mfa_http_err_status.argtypes = [ctypes.c_int]
_lib.mfa_chunked_init.argtypes = [ctypes.POINTER(_Chunked)]
_lib.mfa_chunked_decode.restype = ctypes.c_ssize_t
_lib.mfa_chunked_decode.argtypes = [ctypes.POINTER(_Chunked), ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t)]
_lib.mfa_chunked_done.restype = ctypes.c_bool
_lib.mfa_chunked_done.argtypes = [ctypes.POINTER(_Chunked)]

F_CONTENT_LENGTH, F_CHUNKED, F_KEEP_ALIVE, F_EXPECT = 1, 2, 4, 8


def _error(code):
    return ParseError(_lib.mfa_http_err_status(code), _lib.mfa_http_err_reason(code).decode())


class Head:
    pass


def parse_request(buf, last_len=0):
    buf = bytes(buf)
    # Copy into an exactly sized C buffer, so that an over-read touches memory that is not the
    # request (ASan is in the parser engineer's sanitized unit tests; this catches logic only).
    cbuf = ctypes.create_string_buffer(buf, len(buf))
    base = ctypes.addressof(cbuf)
    req = _Req()
    hdrs = (_Hdr * MAX_HEADERS)()
    n = ctypes.c_size_t(MAX_HEADERS)
    r = _lib.mfa_http_parse_request(cbuf, len(buf), last_len, ctypes.byref(req), hdrs,
                                    ctypes.byref(n))
    if r == -2:
        return None
    if r == -1:
        raise _error(req.error)
    assert 0 < r <= len(buf), r

    def span(p, ln):
        off = p - base
        assert 0 <= off and off + ln <= len(buf)
        return buf[off:off + ln]
    h = Head()
    h.method = span(req.method, req.method_len).decode()
    h.path = span(req.path, req.path_len).decode()
    h.query = span(req.query, req.query_len).decode() if req.query_len else ""
    h.version = "1.%d" % req.minor_version
    h.header_len = r
    h.chunked = bool(req.flags & F_CHUNKED)
    h.content_length = req.content_length if req.flags & F_CONTENT_LENGTH else None
    h.keep_alive = bool(req.flags & F_KEEP_ALIVE)
    h.expect_continue = bool(req.flags & F_EXPECT)
    h.headers = [(span(x.name, x.name_len).decode().lower(), span(x.value, x.value_len).decode())
                 for x in hdrs[:n.value]]
    return h


class ChunkedDecoder:
    def __init__(self):
        self._d = _Chunked()
        _lib.mfa_chunked_init(ctypes.byref(self._d))
        self.done = False

    def feed(self, data):
        data = bytes(data)
        src = ctypes.create_string_buffer(data, len(data))
        dst = ctypes.create_string_buffer(max(len(data), 1))
        dl = ctypes.c_size_t(0)
        r = _lib.mfa_chunked_decode(ctypes.byref(self._d), src, len(data), dst, ctypes.byref(dl))
        if r == -1:
            raise _error(self._d.error)
        assert dl.value <= len(data)
        payload = dst.raw[:dl.value]
        if r == -2:
            return payload, len(data)
        assert 0 <= r <= len(data), r
        self.done = bool(_lib.mfa_chunked_done(ctypes.byref(self._d)))
        assert self.done
        return payload, r
