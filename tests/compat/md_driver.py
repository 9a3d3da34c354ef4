"""Runs Microdot's unittest files one test at a time and prints one line per test:

    MDTEST <module> <Class.method> <ok|fail|error|skip> <first line of the reason>

The same script under CPython (the standard unittest) and under the unix MicroPython builds
(upy/unittest.py, a small stand-in: no micropython-lib here). Each test runs as unittest
would run it: setUpClass once per class, then setUp, the method, tearDown.

    python md_driver.py test_microdot test_response ...   (cwd: the unpacked sdist)
"""

import sys
import unittest

try:
    from sys import print_exception as _print_exc
except ImportError:
    import traceback

    def _print_exc(e):
        traceback.print_exception(type(e), e, e.__traceback__)

_SKIP = getattr(unittest, "SkipTest", None)


def _why(e):
    s = "%s: %s" % (type(e).__name__, e)
    return s.replace("\n", " ")[:200]


def _report(mod, name, status, why=""):
    print("MDTEST %s %s %s %s" % (mod, name, status, why))


def run_module(mod):
    try:
        m = __import__("tests." + mod, None, None, ["*"])
    except Exception as e:
        _report(mod, "<import>", "error", _why(e))
        return
    for cname in sorted(dir(m)):
        cls = getattr(m, cname)
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
            continue
        if getattr(cls, "__module__", "tests." + mod) != "tests." + mod:
            continue
        methods = sorted(n for n in dir(cls) if n.startswith("test"))
        try:
            if hasattr(cls, "setUpClass"):
                cls.setUpClass()
        except Exception as e:
            for n in methods:
                _report(mod, cname + "." + n, "error", "setUpClass: " + _why(e))
            continue
        for n in methods:
            name = cname + "." + n
            try:
                t = cls(n)
            except TypeError:
                t = cls()
            try:
                t.setUp()
                try:
                    getattr(t, n)()
                finally:
                    t.tearDown()
                _report(mod, name, "ok")
            except AssertionError as e:
                _report(mod, name, "fail", _why(e))
            except Exception as e:
                if _SKIP is not None and isinstance(e, _SKIP):
                    _report(mod, name, "skip", _why(e))
                else:
                    if "-v" in sys.argv:
                        _print_exc(e)
                    _report(mod, name, "error", _why(e))
        if hasattr(cls, "tearDownClass"):
            try:
                cls.tearDownClass()
            except Exception:
                pass


for a in sys.argv[1:]:
    if not a.startswith("-"):
        run_module(a)
