# hashlib.sha1 for Microdot's WebSocket handshake where MicroPython lacks it: the unix build has
# no ssl, so its hashlib has only sha256. Importing this module before microdot.websocket puts a
# hashlib with sha1 into sys.modules; where hashlib has sha1 it does nothing. The handshake
# hashes once per connection, never in a measured message. (SHA-1 as in microfastapi/wsframe.py.)
import sys

import hashlib

if not hasattr(hashlib, "sha1"):
    def _rol(x, n):
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF

    def _digest(data):
        h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
        n = len(data)
        data = bytes(data) + b"\x80" + bytes((55 - n) % 64) + (n * 8).to_bytes(8, "big")
        for off in range(0, len(data), 64):
            w = [int.from_bytes(data[off + 4 * i:off + 4 * i + 4], "big") for i in range(16)]
            for i in range(16, 80):
                w.append(_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1))
            a, b, c, d, e = h
            for i in range(80):
                if i < 20:
                    f = (b & c) | (~b & d)
                    k = 0x5A827999
                elif i < 40:
                    f = b ^ c ^ d
                    k = 0x6ED9EBA1
                elif i < 60:
                    f = (b & c) | (b & d) | (c & d)
                    k = 0x8F1BBCDC
                else:
                    f = b ^ c ^ d
                    k = 0xCA62C1D6
                t = (_rol(a, 5) + (f & 0xFFFFFFFF) + e + k + w[i]) & 0xFFFFFFFF
                e = d
                d = c
                c = _rol(b, 30)
                b = a
                a = t
            h = [(x + y) & 0xFFFFFFFF for x, y in zip(h, (a, b, c, d, e))]
        return b"".join([x.to_bytes(4, "big") for x in h])

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
