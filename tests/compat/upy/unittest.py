"""The part of unittest that Microdot's test suite uses, for the unix MicroPython builds
(MicroPython ships no unittest; micropython-lib is not in this tree). md_driver.py runs the
tests; this only provides TestCase's assertions and the skip decorators."""


class SkipTest(Exception):
    pass


def skip(reason):
    def deco(fn):
        def skipped(*a, **kw):
            raise SkipTest(reason)
        return skipped
    return deco


def skipIf(cond, reason):
    return skip(reason) if cond else (lambda fn: fn)


def skipUnless(cond, reason):
    return skipIf(not cond, reason)


class _Raises:
    def __init__(self, exc):
        self.expected = exc
        self.exception = None

    def __enter__(self):
        return self

    def __exit__(self, t, v, tb):
        if t is None:
            raise AssertionError("%r not raised" % (self.expected,))
        if issubclass(t, self.expected):
            self.exception = v
            return True
        return False


class TestCase:
    def __init__(self, methodName="runTest"):
        self._method = methodName

    def setUp(self):
        pass

    def tearDown(self):
        pass

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def fail(self, msg=None):
        raise AssertionError(msg or "fail")

    def assertEqual(self, a, b, msg=None):
        if not a == b:
            raise AssertionError(msg or "%r != %r" % (a, b))

    def assertNotEqual(self, a, b, msg=None):
        if a == b:
            raise AssertionError(msg or "%r == %r" % (a, b))

    def assertTrue(self, x, msg=None):
        if not x:
            raise AssertionError(msg or "%r is not true" % (x,))

    def assertFalse(self, x, msg=None):
        if x:
            raise AssertionError(msg or "%r is not false" % (x,))

    def assertIs(self, a, b, msg=None):
        if a is not b:
            raise AssertionError(msg or "%r is not %r" % (a, b))

    def assertIsNot(self, a, b, msg=None):
        if a is b:
            raise AssertionError(msg or "%r is %r" % (a, b))

    def assertIsNone(self, x, msg=None):
        self.assertIs(x, None, msg)

    def assertIsNotNone(self, x, msg=None):
        self.assertIsNot(x, None, msg)

    def assertIn(self, a, b, msg=None):
        if a not in b:
            raise AssertionError(msg or "%r not in %r" % (a, b))

    def assertNotIn(self, a, b, msg=None):
        if a in b:
            raise AssertionError(msg or "%r in %r" % (a, b))

    def assertIsInstance(self, x, cls, msg=None):
        if not isinstance(x, cls):
            raise AssertionError(msg or "%r is not a %r" % (x, cls))

    def assertGreater(self, a, b, msg=None):
        if not a > b:
            raise AssertionError(msg or "%r <= %r" % (a, b))

    def assertLess(self, a, b, msg=None):
        if not a < b:
            raise AssertionError(msg or "%r >= %r" % (a, b))

    def assertRaises(self, exc, fn=None, *args, **kwargs):
        cm = _Raises(exc)
        if fn is None:
            return cm
        with cm:
            fn(*args, **kwargs)
