"""microdot.helpers: wraps() (MicroPython has no functools.wraps)."""

try:
    from functools import wraps
except ImportError:  # pragma: no cover
    def wraps(wrapped):
        def deco(wrapper):
            return wrapper
        return deco
