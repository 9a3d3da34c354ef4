"""A small subset of Jinja2, for microdot.jinja where jinja2 cannot be imported (MicroPython).

Templates are compiled once into lists of closures (cached per file, compiled again when the
file changes) and expressions are parsed here, not given to eval(). What is supported, and
what is not, is listed in docs/migrating-from-microdot.md (Templates); anything outside the
subset raises TemplateSyntaxError naming the construct and the template line, so a template
never renders differently from Jinja without saying so.
"""

import os


class TemplateError(Exception):
    pass


class TemplateSyntaxError(TemplateError):
    def __init__(self, message, name=None, lineno=None):
        super().__init__("%s, line %s: %s" % (name, lineno, message))
        self.lineno = lineno
        self.name = name


class UndefinedError(TemplateError):
    pass


class TemplateNotFound(TemplateError):
    pass


class Undefined:
    """A missing name or attribute: renders as nothing, is false and empty, as Jinja's."""

    def __init__(self, name):
        self._name = name

    def __str__(self):
        return ""

    def __bool__(self):
        return False

    def __len__(self):
        return 0

    def __iter__(self):
        return iter(())

    def __getattr__(self, attr):
        raise UndefinedError("'%s' is undefined" % self._name)


class Markup:
    """Text already safe for HTML (the `safe` filter, escaped text, super())."""

    def __init__(self, s):
        self.s = s

    def __str__(self):
        return self.s


def escape(value):
    if isinstance(value, Markup):
        return value
    s = str(value)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&#34;"), ("'", "&#39;")):
        s = s.replace(a, b)
    return Markup(s)


def _text(v):
    return v.s if isinstance(v, Markup) else str(v)


def _keep_safe(f):
    # String filters keep Markup safe, as Markup's str methods do in Jinja.
    def filt(v, *args):
        r = f(_text(v), *args)
        return Markup(r) if isinstance(v, Markup) else r
    return filt


def _default(v, d="", boolean=False):
    if isinstance(v, Undefined) or (boolean and not v):
        return d
    return v


def _join(v, sep="", attribute=None):
    return _text(sep).join(_text(x) for x in v)


def _capitalize(s):
    return s[:1].upper() + s[1:].lower()


FILTERS = {
    "e": escape, "escape": escape, "safe": lambda v: Markup(_text(v)),
    "upper": _keep_safe(lambda s: s.upper()), "lower": _keep_safe(lambda s: s.lower()),
    "trim": _keep_safe(lambda s: s.strip()), "capitalize": _keep_safe(_capitalize),
    "replace": _keep_safe(lambda s, a, b: s.replace(a, b)),
    "default": _default, "d": _default, "length": len, "count": len, "join": _join,
    "string": _text, "int": lambda v, d=0: _to(int, v, d), "first": lambda v: next(iter(v)),
    "last": lambda v: list(v)[-1], "list": list,
}

TESTS = {
    "defined": lambda v: not isinstance(v, Undefined),
    "undefined": lambda v: isinstance(v, Undefined),
    "none": lambda v: v is None, "even": lambda v: v % 2 == 0, "odd": lambda v: v % 2 == 1,
}


def _to(kind, v, d):
    try:
        return kind(v)
    except (TypeError, ValueError):
        return d


def _getattr(obj, name):
    # `a.b`: the attribute first, then the item, as Jinja.
    if isinstance(obj, Undefined):
        raise UndefinedError("'%s' is undefined" % obj._name)
    try:
        return getattr(obj, name)
    except AttributeError:
        pass
    try:
        return obj[name]
    except (TypeError, LookupError):
        return Undefined(name)


def _getitem(obj, key):
    # `a[k]`: the item first, then (for a str key) the attribute, as Jinja.
    if isinstance(obj, Undefined):
        raise UndefinedError("'%s' is undefined" % obj._name)
    try:
        return obj[key]
    except (TypeError, LookupError):
        pass
    if isinstance(key, str):
        try:
            return getattr(obj, key)
        except AttributeError:
            pass
    return Undefined(str(key))


# ---- expressions: tokens, then a recursive-descent parser building closures f(ctx, st)

_OPS2 = ("==", "!=", "<=", ">=", "//", "**")
_OPS1 = "()[].,|<>+-*/%~=:"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


def _is_name_char(c):
    return c.isalpha() or c.isdigit() or c == "_"


def _tokenize(src, fail):
    toks = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            i += 1
        elif c.isalpha() or c == "_":
            j = i
            while j < n and _is_name_char(src[j]):
                j += 1
            toks.append(("name", src[i:j]))
            i = j
        elif c.isdigit():
            j = i
            while j < n and (src[j].isdigit() or src[j] == "_"):
                j += 1
            if j + 1 < n and src[j] == "." and src[j + 1].isdigit():
                j += 1
                while j < n and src[j].isdigit():
                    j += 1
                toks.append(("const", float(src[i:j])))
            else:
                toks.append(("const", int(src[i:j].replace("_", ""))))
            i = j
        elif c in "'\"":
            j, s = i + 1, []
            while j < n and src[j] != c:
                if src[j] == "\\" and j + 1 < n:
                    j += 1
                    s.append(_ESCAPES.get(src[j], "\\" + src[j]))
                else:
                    s.append(src[j])
                j += 1
            if j >= n:
                fail("unterminated string")
            toks.append(("const", "".join(s)))
            i = j + 1
        elif src[i:i + 2] in _OPS2:
            toks.append(("op", src[i:i + 2]))
            i += 2
        elif c in _OPS1:
            toks.append(("op", c))
            i += 1
        else:
            fail("unexpected character %r" % c)
    toks.append(("end", None))
    return toks


_KEYWORD_CONSTS = {"true": True, "false": False, "none": None,
                   "True": True, "False": False, "None": None}
_COMPARE = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}
_ARITH = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
    "~": lambda a, b: _text(a) + _text(b), "**": lambda a, b: a ** b,
}


def _binary(op, left, right):
    f = _ARITH[op]
    return lambda ctx, st: f(left(ctx, st), right(ctx, st))


class _Expr:
    """One tag's expression text, parsed by the methods below (Jinja's precedence)."""

    def __init__(self, src, fail):
        self.fail = fail
        self.toks = _tokenize(src, fail)
        self.pos = 0

    def peek(self, kind=None, value=None):
        k, v = self.toks[self.pos]
        return (kind is None or k == kind) and (value is None or v == value)

    def next(self):
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def accept(self, kind, value=None):
        if self.peek(kind, value):
            return self.next()[1]
        return None

    def expect(self, kind, value=None):
        if not self.peek(kind, value):
            self.unexpected()
        return self.next()[1]

    def unexpected(self):
        k, v = self.toks[self.pos]
        self.fail("unexpected end of expression" if k == "end" else "unexpected %r" % (v,))

    def done(self):
        if not self.peek("end"):
            self.unexpected()

    def name(self):
        return self.expect("name")

    def expression(self):
        left = self.and_expr()
        while self.accept("name", "or"):
            left = (lambda a, b: lambda ctx, st: a(ctx, st) or b(ctx, st))(left, self.and_expr())
        if self.peek("name", "if"):
            self.fail("conditional expressions ('x if c else y') are not supported")
        return left

    def and_expr(self):
        left = self.not_expr()
        while self.accept("name", "and"):
            left = (lambda a, b: lambda ctx, st: a(ctx, st) and b(ctx, st))(left, self.not_expr())
        return left

    def not_expr(self):
        if self.accept("name", "not"):
            operand = self.not_expr()
            return lambda ctx, st: not operand(ctx, st)
        return self.compare()

    def compare(self):
        first = self.concat()
        chain = []
        while True:
            if self.peek("op") and self.toks[self.pos][1] in _COMPARE:
                op = self.next()[1]
            elif self.accept("name", "in"):
                op = "in"
            elif self.peek("name", "not") and self.toks[self.pos + 1] == ("name", "in"):
                self.pos += 2
                op = "not in"
            else:
                break
            chain.append((_COMPARE[op], self.concat()))
        if not chain:
            return first

        def compare(ctx, st):
            a = first(ctx, st)
            for f, right in chain:
                b = right(ctx, st)
                if not f(a, b):
                    return False
                a = b
            return True
        return compare

    def concat(self):
        left = self.additive()
        while self.accept("op", "~"):
            left = _binary("~", left, self.additive())
        return left

    def additive(self):
        left = self.term()
        while self.peek("op", "+") or self.peek("op", "-"):
            left = _binary(self.next()[1], left, self.term())
        return left

    def term(self):
        left = self.unary()
        while self.peek("op") and self.toks[self.pos][1] in ("*", "/", "//", "%"):
            left = _binary(self.next()[1], left, self.unary())
        return left

    def unary(self):
        if self.accept("op", "-"):
            operand = self.unary()
            return self.filters(lambda ctx, st: -operand(ctx, st))
        if self.accept("op", "+"):
            return self.unary()
        return self.filters(self.power())

    def power(self):
        left = self.postfix(self.primary())
        if self.accept("op", "**"):
            left = _binary("**", left, self.unary())
        return left

    def primary(self):
        kind, value = self.next()
        if kind == "const":
            return lambda ctx, st: value
        if kind == "name":
            if value in _KEYWORD_CONSTS:
                const = _KEYWORD_CONSTS[value]
                return lambda ctx, st: const
            if value == "super" and self.peek("op", "("):
                self.next()
                self.expect("op", ")")
                return lambda ctx, st: st.super_block(ctx)
            return lambda ctx, st: ctx[value] if value in ctx else Undefined(value)
        if (kind, value) == ("op", "("):
            inner = self.expression()
            if self.peek("op", ","):
                self.fail("tuples are not supported")
            self.expect("op", ")")
            return inner
        if (kind, value) == ("op", "["):
            items = self.arguments("]")
            return lambda ctx, st: [f(ctx, st) for f in items]
        self.pos -= 1
        self.unexpected()

    def arguments(self, close):
        args = []
        while not self.accept("op", close):
            if args:
                self.expect("op", ",")
                if self.accept("op", close):
                    break
            if self.peek("name") and self.toks[self.pos + 1] == ("op", "="):
                self.fail("keyword arguments are not supported")
            args.append(self.expression())
        return args

    def postfix(self, node):
        while True:
            if self.accept("op", "."):
                attr = self.name()
                node = (lambda obj, attr: lambda ctx, st: _getattr(obj(ctx, st), attr))(node, attr)
            elif self.accept("op", "["):
                key = self.expression()
                self.expect("op", "]")
                node = (lambda obj, key: lambda ctx, st: _getitem(obj(ctx, st), key(ctx, st)))(
                    node, key)
            elif self.accept("op", "("):
                args = self.arguments(")")
                node = (lambda f, args: lambda ctx, st: f(ctx, st)(*[a(ctx, st) for a in args]))(
                    node, args)
            else:
                return node

    def filters(self, node):
        while True:
            if self.accept("op", "|"):
                node = self.filter(node)
            elif self.accept("name", "is"):
                negate = bool(self.accept("name", "not"))
                name = self.name()
                if name not in TESTS:
                    self.fail("unknown test '%s'" % name)
                test = TESTS[name]
                node = (lambda v, t, neg: lambda ctx, st: t(v(ctx, st)) != neg)(node, test, negate)
            else:
                return node

    def filter(self, node):
        name = self.name()
        if name not in FILTERS:
            self.fail("unknown filter '%s'" % name)
        f = FILTERS[name]
        args = self.arguments(")") if self.accept("op", "(") else []
        return lambda ctx, st: f(node(ctx, st), *[a(ctx, st) for a in args])


# ---- templates: the lexer splits text from tags, the parser builds a list of ops


class _Loop:
    """The `loop` variable of a for."""

    def __init__(self, length):
        self.length = length
        self.index0 = -1

    def next(self):
        self.index0 += 1
        self.index = self.index0 + 1
        self.revindex0 = self.length - self.index
        self.revindex = self.revindex0 + 1
        self.first = self.index0 == 0
        self.last = self.index == self.length


def _lex(src, fail):
    """[(kind, text, line)], kind "text", "var" or "stmt"; comments dropped, `-` applied."""
    if src.endswith("\n"):  # Jinja drops one trailing newline (keep_trailing_newline=False)
        src = src[:-1]
    out = []
    i, line, strip_next = 0, 1, False
    ends = {"{{": "}}", "{%": "%}", "{#": "#}"}
    while i < len(src):
        starts = [p for p in (src.find("{{", i), src.find("{%", i), src.find("{#", i)) if p >= 0]
        p = min(starts) if starts else len(src)
        text = src[i:p]
        if strip_next:
            text = text.lstrip()
        if p < len(src) and src[p + 2:p + 3] == "-":
            text = text.rstrip()
        if text:
            out.append(("text", text, line))
        line += src.count("\n", i, p)
        if p >= len(src):
            break
        opener = src[p:p + 2]
        e = src.find(ends[opener], p + 2)
        if e < 0:
            fail("'%s' is never closed" % opener, line)
        body = src[p + 2:e]
        if body[:1] in "-+" and body:
            body = body[1:]
        strip_next = body.endswith("-")
        if strip_next or body.endswith("+"):
            body = body[:-1]
        if opener != "{#":
            out.append(("var" if opener == "{{" else "stmt", body.strip(), line))
        line += src.count("\n", p, e)
        i = e + 2
    return out


class Template:
    """One compiled template: `render(**context)`, `generate(**context)`."""

    def __init__(self, source, name, env, autoescape):
        self.name = name
        self.env = env
        self.autoescape = autoescape
        self.blocks = {}
        self.parent = None  # the extends expression
        self.pre = 0  # ops before {% extends %}, rendered before the parent template
        self.line = 0
        self.toks = _lex(source, self.fail)
        self.pos = 0
        self.body = self.parse_body(())[0]
        del self.toks

    def fail(self, message, line=None):
        raise TemplateSyntaxError(message, self.name, line or self.line)

    def parse_body(self, ends):
        """Ops up to one of the `ends` tags: (ops, end tag word, its rest)."""
        body = []
        opener = self.line
        while self.pos < len(self.toks):
            kind, text, self.line = self.toks[self.pos]
            self.pos += 1
            if kind == "text":
                body.append((lambda t: lambda ctx, st, out: out.append(t))(text))
            elif kind == "var":
                body.append(self.output(self.expr(text)))
            else:
                word, _, rest = text.partition(" ")
                if word in ends:
                    return body, word, rest.strip()
                parse = getattr(self, "tag_" + word, None)
                if parse is None or not word.isalpha():
                    self.fail("unknown or unsupported tag '%s'" % word if word else "empty tag")
                op = parse(rest.strip(), body)
                if op is not None:
                    body.append(op)
        if ends:
            self.fail("missing '{%% %s %%}'" % ends[-1], opener)
        return body, None, None

    def expr(self, src):
        p = _Expr(src, self.fail)
        f = p.expression()
        p.done()
        return f

    def output(self, f):
        if self.autoescape:
            return lambda ctx, st, out: out.append(escape(f(ctx, st)).s)
        return lambda ctx, st, out: out.append(_text(f(ctx, st)))

    def tag_if(self, rest, body):
        branches = []
        cond, word = self.expr(rest), "if"
        while word in ("if", "elif"):
            ops, word, rest = self.parse_body(("elif", "else", "endif"))
            branches.append((cond, ops))
            if word == "elif":
                cond = self.expr(rest)
        other = self.parse_body(("endif",))[0] if word == "else" else []

        def if_op(ctx, st, out):
            for c, ops in branches:
                if c(ctx, st):
                    return _run(ops, ctx, st, out)
            _run(other, ctx, st, out)
        return if_op

    def tag_for(self, rest, body):
        p = _Expr(rest, self.fail)
        names = [p.name()]
        while p.accept("op", ","):
            names.append(p.name())
        p.expect("name", "in")
        items = p.expression()
        if p.peek("name", "if") or p.peek("name", "recursive"):
            self.fail("'for ... %s' is not supported" % p.toks[p.pos][1])
        p.done()
        ops, word, _ = self.parse_body(("else", "endfor"))
        other = self.parse_body(("endfor",))[0] if word == "else" else []

        def for_op(ctx, st, out):
            seq = list(items(ctx, st))
            if not seq:
                return _run(other, ctx, st, out)
            inner = dict(ctx)  # loop variables and sets do not leak out, as in Jinja
            inner["loop"] = loop = _Loop(len(seq))
            for item in seq:
                loop.next()
                if len(names) == 1:
                    inner[names[0]] = item
                else:
                    for n, v in zip(names, item):
                        inner[n] = v
                _run(ops, inner, st, out)
        return for_op

    def tag_set(self, rest, body):
        name, eq, value = rest.partition("=")
        name = name.strip()
        if not eq or not name or not all(_is_name_char(c) for c in name):
            self.fail("only '{% set name = expression %}' is supported")
        f = self.expr(value)

        def set_op(ctx, st, out):
            ctx[name] = f(ctx, st)
        return set_op

    def tag_block(self, rest, body):
        name = rest
        if not name or not all(_is_name_char(c) for c in name):
            self.fail("block needs one name, not '%s'" % rest)
        if name in self.blocks:
            self.fail("block '%s' defined twice" % name)
        self.blocks[name] = self.parse_body(("endblock",))[0]
        return lambda ctx, st, out: st.block(name, 0, ctx, out)

    def tag_extends(self, rest, body):
        if self.parent is not None:
            self.fail("extends used twice")
        self.parent = self.expr(rest)
        self.pre = len(body)
        return None

    def tag_include(self, rest, body):
        name = self.expr(rest)
        env = self.env

        def include_op(ctx, st, out):
            env.get_template(name(ctx, st)).render_into(dict(ctx), out)
        return include_op

    def render_into(self, ctx, out):
        st = _State(self.env)
        t = self
        while True:
            for n, ops in t.blocks.items():
                st.blocks.setdefault(n, []).append(ops)
            if t.parent is None:
                return _run(t.body, ctx, st, out)
            # a child: what comes before {% extends %} is output, the rest only defines blocks
            _run(t.body[:t.pre], ctx, st, out)
            t = self.env.get_template(t.parent(ctx, st))

    def _context(self, args, kwargs):
        ctx = dict(self.env.globals)
        if args:
            ctx.update(*args)
        ctx.update(kwargs)
        return ctx

    def render(self, *args, **kwargs):
        out = []
        self.render_into(self._context(args, kwargs), out)
        return "".join(out)

    def generate(self, *args, **kwargs):
        # Rendered whole, then handed out piece by piece (Jinja streams as it renders).
        out = []
        self.render_into(self._context(args, kwargs), out)
        for chunk in out:
            yield chunk


def _run(ops, ctx, st, out):
    for op in ops:
        op(ctx, st, out)


class _State:
    """One render's blocks (most derived first), and the block being rendered, for super()."""

    def __init__(self, env):
        self.env = env
        self.blocks = {}
        self.stack = []

    def block(self, name, level, ctx, out):
        self.stack.append((name, level))
        try:
            _run(self.blocks[name][level], ctx, self, out)
        finally:
            self.stack.pop()

    def super_block(self, ctx):
        if not self.stack:
            raise TemplateError("super() outside a block")
        name, level = self.stack[-1]
        if level + 1 >= len(self.blocks[name]):
            raise TemplateError("no parent block '%s' for super()" % name)
        out = []
        self.block(name, level + 1, ctx, out)
        return Markup("".join(out))


class Environment:
    """Templates from one directory, compiled on first use and again when the file changes.
    Autoescape as Jinja's select_autoescape(): on for .html, .htm and .xml."""

    def __init__(self, template_dir="templates", autoescape_extensions=("html", "htm", "xml")):
        self.template_dir = template_dir
        self.extensions = autoescape_extensions
        self.globals = {}
        self.cache = {}

    def get_template(self, name):
        path = self.template_dir + "/" + name
        try:
            mtime = os.stat(path)[8]
        except OSError:
            raise TemplateNotFound(name)
        cached = self.cache.get(name)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        with open(path) as f:
            source = f.read()
        t = self.from_string(source, name)
        self.cache[name] = (mtime, t)
        return t

    def from_string(self, source, name="<string>"):
        ext = name.rpartition(".")[2] if "." in name else None
        return Template(source, name, self, ext in self.extensions)
