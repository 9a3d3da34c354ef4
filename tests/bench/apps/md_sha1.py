# hashlib.sha1 for Microdot's WebSocket handshake where MicroPython lacks it: the unix build has
# no ssl, so its hashlib has only sha256. Importing this module before microdot.websocket puts a
# hashlib with sha1 into sys.modules; where hashlib has sha1 it does nothing. The handshake
# hashes once per connection, never in a measured message. (The SHA-1 is microfastapi.wsframe's.)
import sys

import hashlib

if not hasattr(hashlib, "sha1"):
    from microfastapi.wsframe import sha1 as _digest  # (its pure-Python SHA-1)

    class sha1:
        def __init__(self, data=b""):
            self._data = bytes(data)

        def update(self, data):
            self._data += data

        def digest(self):
            return _digest(self._data)

    class _Hashlib:
        pass

    _m = _Hashlib()
    for _k in dir(hashlib):
        if not _k.startswith("__"):
            setattr(_m, _k, getattr(hashlib, _k))
    _m.sha1 = sha1
    sys.modules["hashlib"] = _m
