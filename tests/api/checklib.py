"""A tiny check runner for scripts that test the package inside an interpreter (CPython and the
unix MicroPython binaries alike): `@check` collects functions, `raises` asserts an exception
with words in its message, `run_checks()` prints "ok NAME" or "FAIL NAME: why" per check and
then "done N" (N: how many passed). `run_script` in api_util.py runs such a script and reads
that output."""

checks = []


def check(fn):
    checks.append(fn)
    return fn


def raises(exc, fn, *words):
    """fn() raises exc with every one of `words` in its message."""
    try:
        fn()
    except exc as e:
        msg = str(e)
        for w in words:
            assert w in msg, "%r not in %r" % (w, msg)
        return
    raise AssertionError("no %s" % exc.__name__)


def run_checks():
    n = 0
    for fn in checks:
        try:
            fn()
            print("ok", fn.__name__)
            n += 1
        except Exception as e:
            print("FAIL %s: %s: %s" % (fn.__name__, type(e).__name__, e))
    print("done", n)
