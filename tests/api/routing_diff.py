"""Random route tables for the differential test of Router against LinearRouter (the plain
scan it must answer like), on CPython and on the unix MicroPython binaries alike.

A seed gives a table of templates built from a few short literals (so first literal parts
share prefixes, nest and coincide), parameters of every built-in converter, static paths,
repeated templates with other methods; and paths to look up: filled-in templates, their
prefixes and extensions, random strings of the same pieces. Lookups are made between
registrations too, so the lazily rebuilt tree is checked after every change.
"""
from microfastapi.routing import Router, LinearRouter

LITERALS = ("a", "ab", "abc", "b", "1", "a.", "x-", "")
VALUES = ("a", "ab", "1", "-2", "1.5", "x", "a.b", "%41", "ab/1", "", "b", "12", "abc")
CONVERTERS = ("", ":int", ":float", ":path", ":str")
METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD")


class Rand:
    """xorshift32: the same sequence on every interpreter (MicroPython's random differs)."""

    def __init__(self, seed):
        self.x = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n

    def pick(self, seq):
        return seq[self.below(len(seq))]


def template(rnd):
    """A template compile_template accepts: segments of literals and parameters."""
    segs = []
    k = 0
    for _ in range(1 + rnd.below(4)):
        kind = rnd.below(6)
        if kind < 2:
            seg = rnd.pick(LITERALS) or "a"
        else:
            conv = rnd.pick(CONVERTERS)
            before = rnd.pick(LITERALS) if kind == 4 else ""
            # a literal after a parameter, inside its segment (not after a greedy one)
            after = rnd.pick((".json", "x", "-a")) if kind == 5 and conv != ":path" else ""
            seg = "%s{p%d%s}%s" % (before, k, conv, after)
            k += 1
        segs.append(seg)
    t = "/" + "/".join(segs)
    if rnd.below(8) == 0:
        t += "/"
    return t


def fill(rnd, t):
    """A path made from template `t`, its parameters replaced by random values."""
    out = ""
    pos = 0
    while True:
        i = t.find("{", pos)
        if i < 0:
            return out + t[pos:]
        out += t[pos:i] + rnd.pick(VALUES)
        pos = t.find("}", i) + 1


def paths(rnd, templates):
    out = ["/", "", "//"]
    for t in templates:
        p = fill(rnd, t)
        out.append(p)
        out.append(p[:rnd.below(len(p) + 1)])
        out.append(p + rnd.pick(("/", "a", "/1", "x")))
        out.append(fill(rnd, t))
    for _ in range(10):
        out.append("/" + "/".join(rnd.pick(VALUES + LITERALS) for _ in range(1 + rnd.below(4))))
    return out


def answer(found):
    """find()'s answer in a form two routers can be compared by."""
    ep, params, route = found
    if ep is None:
        return None, params, None
    return ep.fn, params, route.template if route is not None else None


def compare(seed, new=Router, ref=LinearRouter, stats=None):
    """None when `new` answers every lookup of this seed's table as `ref` does, else the first
    difference (a string). `stats`, a list of 3 ints, counts the lookups answered by a
    template, by a 405 (or a static path), and not found."""
    rnd = Rand(seed)
    a, b = new(), ref()
    templates = []
    n = 2 + rnd.below(30)
    for i in range(n):
        if templates and rnd.below(6) == 0:
            t = rnd.pick(templates)  # the same template again, other methods
        elif rnd.below(8) == 0:
            t = "/" + rnd.pick(LITERALS)  # a static path
        else:
            t = template(rnd)
        templates.append(t)
        methods = [m for m in METHODS[:4] if rnd.below(3) == 0] or ["GET"]
        fn = "%s#%d" % (t, i)
        a.add(t, methods, fn, {})
        b.add(t, methods, fn, {})
        if rnd.below(8) == 0 or i == n - 1:
            for p in paths(rnd, templates):
                m = rnd.pick(METHODS)
                x, y = answer(a.find(m, p)), answer(b.find(m, p))
                if x != y:
                    return "seed %d, %s %r after %r: %r, scan says %r" % (
                        seed, m, p, templates, x, y)
                if stats is not None:
                    stats[0 if x[2] else 1 if x[1] else 2] += 1
    return None
