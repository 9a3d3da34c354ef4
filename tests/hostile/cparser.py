"""The C parser (cmodules/mfa/mfa_http.c) through ctypes, with the pure-Python parser's surface
(parse_request, ParseError, ChunkedDecoder) as a module, so tests/hostile/sim.py can drive
either one. The binding is tests/parser/mfa_ctypes.py's CParser (one ctypes copy of
mfa_http.h), with its chunked decoder writing to another buffer, as modmfa_http.c's does (the
parser tests decode in place, as mfa_conn.c does).

Uses build/host/libmfa_http.so (CMakeLists.txt) when it is newer than the sources, otherwise
compiles mfa_http.c into a private shared library with the system C compiler (one file, < 1 s).
"""
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SRC = ROOT / "cmodules" / "mfa"
sys.path.insert(0, str(ROOT / "tests" / "parser"))
from mfa_ctypes import CParser  # noqa: E402


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
_parser = CParser(LIB_PATH, chunked_in_place=False)
ParseError = _parser.ParseError
parse_request = _parser.parse_request
ChunkedDecoder = _parser.ChunkedDecoder
