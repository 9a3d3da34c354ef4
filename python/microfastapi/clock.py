"""ticks_ms(), ticks_diff() and ticks_add(): MicroPython's, or the same on CPython (monotonic
milliseconds; there they never wrap)."""
try:
    from time import ticks_ms, ticks_diff, ticks_add
except ImportError:
    import time as _time

    def ticks_ms():
        return int(_time.monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b

    def ticks_add(a, b):
        return a + b
