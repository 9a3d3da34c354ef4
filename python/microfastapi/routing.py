"""Path templates, converters and the route table.

Static paths ("/status") are found with one dict lookup. Templates with parameters
("/items/{item_id:int}") are compiled once, at registration, into a list of literal strings and
parameter slots; matching walks the raw path with str.startswith/find, so no regex is compiled
or run per request. Path parameter values are percent-decoded (only when they contain '%') and
converted after the structural match.

Order: static routes win over dynamic ones; dynamic ones are tried in registration order.
Router finds the templates that can fit a path in a prefix tree of their first literal parts
(see Router); LinearRouter is the plain scan it must agree with (the tests compare them).
"""

from .exceptions import RequestValidationError


class Converter:
    """How a `{name:kind}` path parameter is turned into a value.

    `fn(str) -> value` raises ValueError when the text does not fit; `error_type` and
    `error_msg` go into the 422 detail. A `greedy` converter may span '/' (like `path`).
    `schema` is the OpenAPI type for the parameter.
    """

    def __init__(self, fn, error_type="value_error", error_msg="Invalid value", greedy=False,
                 schema=None):
        self.fn = fn
        self.error_type = error_type
        self.error_msg = error_msg
        self.greedy = greedy
        self.schema = schema or {"type": "string"}


def _to_int(s):
    t = s[1:] if s.startswith("-") else s
    if not t or not t.isdigit():
        raise ValueError(s)
    return int(s)


def _to_float(s):
    for ch in s:
        if ch not in "0123456789.-+eE":
            raise ValueError(s)
    return float(s)


def _to_str(s):
    return s


converters = {
    "str": Converter(_to_str),
    "path": Converter(_to_str, greedy=True),
    "int": Converter(_to_int, "int_parsing",
                     "Input should be a valid integer, unable to parse string as an integer",
                     schema={"type": "integer"}),
    "float": Converter(_to_float, "float_parsing",
                       "Input should be a valid number, unable to parse string as a number",
                       schema={"type": "number"}),
}


def register_converter(name, fn, error_type="value_error", error_msg="Invalid value",
                       greedy=False, schema=None):
    """Make `{param:name}` available in every path template registered afterwards."""
    converters[name] = Converter(fn, error_type, error_msg, greedy, schema)


def compile_template(template):
    """'/a/{x:int}/b' -> ['/a/', ('x', Converter), '/b']; a list of str only when static."""
    if not template.startswith("/"):
        raise ValueError("path must start with '/': %r" % template)
    if "<" in template:
        from .routecheck import refuse_microdot
        refuse_microdot(template)
    parts = []
    pos = 0
    while True:
        i = template.find("{", pos)
        if i < 0:
            if pos < len(template):
                parts.append(template[pos:])
            break
        j = template.find("}", i)
        if j < 0:
            raise ValueError("unclosed '{' in %r" % template)
        if i > pos:
            parts.append(template[pos:i])
        elif parts and not isinstance(parts[-1], str):
            raise ValueError("two parameters must be separated in %r" % template)
        spec = template[i + 1:j]
        k = spec.find(":")
        name, kind = (spec, "str") if k < 0 else (spec[:k], spec[k + 1:])
        if kind not in converters:
            raise ValueError("unknown converter %r in %r" % (kind, template))
        if not name:
            raise ValueError("empty parameter name in %r" % template)
        conv = converters[kind]
        if conv.greedy and j + 1 < len(template) and template[j + 1] != "/":
            raise ValueError("a greedy parameter must end its segment in %r" % template)
        parts.append((name, conv))
        pos = j + 1
    return parts


class Endpoint:
    """One handler at one template for a set of methods.

    `call` is what the dispatcher invokes (the handler itself unless a registration hook, e.g.
    request validation, replaced it); `meta` keeps the decorator's extra keyword arguments
    (summary, tags, query declarations, ...) for tools such as an OpenAPI generator.
    """

    def __init__(self, template, methods, fn, meta):
        self.template = template
        self.methods = methods
        self.fn = fn
        self.call = fn
        self.meta = meta
        self.internal = False  # the app's own pages (schema, docs): not carried by include


class Route:
    """A compiled dynamic template and its endpoints by method."""

    def __init__(self, template, parts):
        self.template = template
        self.parts = parts
        self.by_method = {}

    def match(self, path):
        """Raw parameter strings by name, or None when the path does not fit the template."""
        parts = self.parts
        n = len(parts)
        plen = len(path)
        pos = 0
        params = None
        i = 0
        while i < n:
            part = parts[i]
            if isinstance(part, str):
                if not path.startswith(part, pos):
                    return None
                pos += len(part)
            else:
                nxt = parts[i + 1] if i + 1 < n else None
                if part[1].greedy:
                    if nxt is None:
                        end = plen
                    else:
                        end = path.rfind(nxt, pos)
                        if end < 0:
                            return None
                else:
                    end = path.find("/", pos)
                    if end < 0:
                        end = plen
                    if nxt is not None and nxt[0] != "/":
                        end = path.rfind(nxt, pos, end)
                        if end < 0:
                            return None
                if end <= pos:
                    return None
                if params is None:
                    params = {}
                params[part[0]] = path[pos:end]
                pos = end
            i += 1
        if pos != plen:
            return None
        return params if params is not None else {}

    def convert(self, params, unquote):
        """Convert matched strings in place; raise RequestValidationError listing failures."""
        errors = None
        for part in self.parts:
            if isinstance(part, str):
                continue
            name, conv = part
            raw = params[name]
            if "%" in raw:
                raw = unquote(raw)
            try:
                params[name] = conv.fn(raw)
            except (ValueError, TypeError):
                if errors is None:
                    errors = []
                errors.append({"type": conv.error_type, "loc": ["path", name],
                               "msg": conv.error_msg, "input": raw})
        if errors:
            raise RequestValidationError(errors)
        return params


class LinearRouter:
    """Route table: exact paths in a dict, templates in a list tried one after another.

    The reference for Router's answers (tests/api/test_routing.py compares the two)."""

    def __init__(self):
        self.static = {}    # path -> {method: Endpoint}
        self.dynamic = []   # [Route], in registration order
        self.endpoints = []  # every Endpoint, in registration order

    def add(self, template, methods, fn, meta):
        ep = Endpoint(template, methods, fn, meta)
        parts = compile_template(template)
        if len(parts) <= 1 and (not parts or isinstance(parts[0], str)):
            table = self.static.get(template)
            if table is None:
                table = self.static[template] = {}
        else:
            route = None
            for r in self.dynamic:
                if r.template == template:
                    route = r
                    break
            if route is None:
                route = Route(template, parts)
                self.dynamic.append(route)
                self._changed()
            table = route.by_method
        for m in methods:
            table[m] = ep
        self.endpoints.append(ep)
        return ep

    def _changed(self):
        pass

    def find(self, method, path):
        """(endpoint, raw params, route) | (None, allowed methods list, None) | (None, None, None).

        HEAD falls back to GET.
        """
        table = self.static.get(path)
        if table is not None:
            ep = table.get(method)
            if ep is None and method == "HEAD":
                ep = table.get("GET")
            if ep is not None:
                return ep, None, None
            allowed = list(table)
        else:
            allowed = None
        for route in self.dynamic:
            params = route.match(path)
            if params is None:
                continue
            table = route.by_method
            ep = table.get(method)
            if ep is None and method == "HEAD":
                ep = table.get("GET")
            if ep is not None:
                return ep, params, route
            if allowed is None:
                allowed = []
            for m in table:
                if m not in allowed:
                    allowed.append(m)
        return None, allowed, None


class Router(LinearRouter):
    """LinearRouter's answers, without trying every template.

    A template can fit a path only if its first literal part (parts[0], '/items/' of
    '/items/{id}') starts the path: Route.match checks exactly that first. The first literal
    parts are kept in a radix tree (a prefix tree whose edges are strings), so one walk down
    the path finds every template that can fit, already in registration order; they are tried
    as the scan would try them, so the same route answers (or the same 405 Allow list comes
    out). The tree is built on the first lookup after a template is added (apps register
    everything before serving). Its nodes are tuples, as small as the heap of an RP2040 wants:
      leaf           (prefix, route, ...)              no children
      inner          (prefix, {char: node}, route, ...) with routes of its own
      inner, bare    (len(prefix), {char: node})        only a branching point: its prefix is
                     not kept (a string less); a node below it, or none, checks the path.
    A node's routes are those whose parts[0] is its prefix plus those of the nodes above it
    (merged at build time in registration order), so a lookup needs only the deepest node
    that fits, and allocates nothing.
    """

    def __init__(self):
        LinearRouter.__init__(self)
        self.tree = None  # built by index(); None: to be (re)built

    def _changed(self):
        self.tree = None

    def index(self):
        """The tree of self.dynamic (built now if a route was added since the last one)."""
        if self.tree is None:
            self.tree = build_index(self.dynamic)
        return self.tree

    def find(self, method, path):
        table = self.static.get(path)
        if table is not None:
            ep = table.get(method)
            if ep is None and method == "HEAD":
                ep = table.get("GET")
            if ep is not None:
                return ep, None, None
            allowed = list(table)
        else:
            allowed = None
        node = self.tree
        if node is None:
            node = self.index()
        # Down the tree: `best`, the deepest node that fits the path and has routes.
        best = None
        plen = len(path)
        while True:
            kids = node[1]
            if type(kids) is not dict:  # a leaf
                if path.startswith(node[0]):
                    best = node
                break
            if len(node) > 2:
                p = node[0]
                if not path.startswith(p):
                    break
                best = node
                e = len(p)
            else:
                e = node[0]
            if e >= plen:
                break
            node = kids.get(path[e])
            if node is None:
                break
        if best is None:
            return None, allowed, None
        i = 2 if type(best[1]) is dict else 1
        n = len(best)
        while i < n:
            route = best[i]
            i += 1
            params = route.match(path)
            if params is None:
                continue
            table = route.by_method
            ep = table.get(method)
            if ep is None and method == "HEAD":
                ep = table.get("GET")
            if ep is not None:
                return ep, params, route
            if allowed is None:
                allowed = []
            for m in table:
                if m not in allowed:
                    allowed.append(m)
        return None, allowed, None


def build_index(routes):
    """The radix tree (see Router) of `routes` by their first literal part."""
    # Built with lists [prefix, [route numbers], {char: node}], then frozen into tuples.
    root = ["", [], {}]
    for k, route in enumerate(routes):
        key = route.parts[0]  # templates start with '/': always a literal
        node = root
        while True:
            p = node[0]
            if len(p) == len(key):
                node[1].append(k)
                break
            ch = key[len(p)]
            child = node[2].get(ch)
            if child is None:
                # key itself, not a copy: a leaf's prefix is its route's own string
                node[2][ch] = [key, [k], {}]
                break
            q = child[0]
            n = len(p) + 1
            m = min(len(q), len(key))
            while n < m and q[n] == key[n]:
                n += 1
            if n == len(q):
                node = child
                continue
            mid = [key[:n], [], {q[n]: child}]  # split the edge where key leaves it
            node[2][ch] = mid
            node = mid
    # A bare root with one child adds a step to every lookup: start at the child.
    while not root[1] and len(root[2]) == 1:
        root = list(root[2].values())[0]
    return _freeze(root, [], routes)


def _freeze(node, above, routes):
    prefix, own, kids = node
    if own:
        above = sorted(above + own)
    tail = tuple(routes[k] for k in above) if own else ()
    if not kids:
        # (an empty tree is a bare root without children: nothing fits)
        return (prefix,) + tail if own else (len(prefix), {})
    frozen = {}
    for ch, child in kids.items():
        frozen[ch] = _freeze(child, above, routes)
    if own:
        return (prefix, frozen) + tail
    return (len(prefix), frozen)
