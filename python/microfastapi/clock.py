"""ticks_ms() and ticks_diff(): MicroPython's, or the same on CPython (monotonic milliseconds;
there the difference never wraps)."""
try:
    from time import ticks_ms, ticks_diff
except ImportError:
    import time as _time

    def ticks_ms():
        return int(_time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b
