"""Which implementation of the parser, the network loop, WebSocket frames and the multipart
reader is in use.

`_mfa` (the C module compiled into the firmware / unix binary) when it imports, else the
package's pure-Python twins (microfastapi.parser, microfastapi.pyserver, microfastapi.wsframe,
microfastapi.multipart).
Both have the same surface (docs/internals.md), so nothing above this module asks which one it
got.

Set `MFA_BACKEND=pure` in the environment (CPython, unix MicroPython) to force pure Python.
"""

_force_pure = False
try:
    import os
    _force_pure = os.getenv("MFA_BACKEND") == "pure"
except (ImportError, AttributeError):  # MicroPython without os.getenv (bare-metal ports)
    pass

_mfa = None
if not _force_pure:
    try:
        import _mfa
    except ImportError:
        _mfa = None

if _mfa is not None and hasattr(_mfa, "parse_request"):
    parse_request = _mfa.parse_request
    ParseError = _mfa.ParseError
    unquote = _mfa.unquote if hasattr(_mfa, "unquote") else None
    parse_qsl = _mfa.parse_qsl if hasattr(_mfa, "parse_qsl") else None
    PARSER = "_mfa"
else:
    unquote = parse_qsl = None
    PARSER = "pure Python"

if PARSER != "_mfa" or unquote is None or parse_qsl is None:
    from . import parser as _pyparser
    if PARSER != "_mfa":
        parse_request = _pyparser.parse_request
        ParseError = _pyparser.ParseError
    if unquote is None:
        unquote = _pyparser.unquote
    if parse_qsl is None:
        parse_qsl = _pyparser.parse_qsl


if _mfa is not None and hasattr(_mfa, "ChunkedDecoder"):
    ChunkedDecoder = _mfa.ChunkedDecoder
else:
    from .parser import ChunkedDecoder


# WebSocket frames: WsReader, WsError, ws_frame, ws_accept. The pure twin is imported on first
# use (module __getattr__), so an app without WebSockets does not pay its RAM (about 1 KB).
_WS_NAMES = ("WsReader", "WsError", "ws_frame", "ws_accept")
if _mfa is not None and hasattr(_mfa, "WsReader"):
    WsReader = _mfa.WsReader
    WsError = _mfa.WsError
    ws_frame = _mfa.ws_frame
    ws_accept = _mfa.ws_accept
    WsAwait = getattr(_mfa, "WsAwait", None)
    ws_done = getattr(_mfa, "ws_done", None)
    WS = "_mfa"
    _WS_NAMES = ()
else:
    WsAwait = ws_done = None  # (websocket.py then uses coroutines: the same behaviour)
    WS = "pure Python"

# multipart/form-data: MultipartReader, MultipartError (C when _mfa has them), the event kinds
# MP_PART, MP_DATA, MP_PART_END, MP_END, and multipart_boundary (pure Python on both backends,
# raising the same MultipartError). The twin, microfastapi.multipart, is imported on first use.
MP_PART = 1
MP_DATA = 2
MP_PART_END = 3
MP_END = 4
_MP_NAMES = ("MultipartReader", "MultipartError", "multipart_boundary")
if _mfa is not None and hasattr(_mfa, "MultipartReader"):
    MultipartReader = _mfa.MultipartReader
    MultipartError = _mfa.MultipartError
    MULTIPART = "_mfa"
    _MP_NAMES = ("multipart_boundary",)
else:
    MULTIPART = "pure Python"


def __getattr__(name):
    if name in _WS_NAMES:
        from . import wsframe
        return getattr(wsframe, name)
    if name in _MP_NAMES:
        from . import multipart
        return getattr(multipart, name)
    raise AttributeError(name)


def chunked_decoder():
    """A fresh ChunkedDecoder (C when _mfa has one)."""
    return ChunkedDecoder()


class _Parser:
    """parse_request, ParseError and ChunkedDecoder as chosen above, for pyserver."""


parser = _Parser()
parser.parse_request = parse_request
parser.ParseError = ParseError
parser.ChunkedDecoder = ChunkedDecoder


def server_class():
    """(Server class, backend name): `_mfa.Server` when the C module has it, else pyserver
    (which takes the parser above as its `parser` argument)."""
    if _mfa is not None and hasattr(_mfa, "Server"):
        return _mfa.Server, "_mfa"
    from .pyserver import Server
    return Server, "pure Python"


def describe():
    """One line for print(app) and bug reports."""
    cls, name = server_class()
    return "server: %s, parser: %s" % (name, PARSER)
