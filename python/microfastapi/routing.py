"""Path templates, converters and the route table.

Static paths ("/status") are found with one dict lookup. Templates with parameters
("/items/{item_id:int}") are compiled once, at registration, into a list of literal strings and
parameter slots; matching walks the raw path with str.startswith/find, so no regex is compiled
or run per request. Path parameter values are percent-decoded (only when they contain '%') and
converted after the structural match.

Order: static routes win over dynamic ones; dynamic ones are tried in registration order.
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


# Keyword arguments a route decorator (or APIRouter) accepts, and who reads them: openapi.py
# (documentation), validation.py (declarations), security.py (security, dependencies,
# depends) and sessions.py (csrf). A new option is added here too, so that a misspelt one is
# an error at registration instead of being ignored.
ROUTE_OPTIONS = ("summary", "description", "tags", "operation_id", "deprecated",
                 "include_in_schema", "response", "response_description", "responses",
                 "media_type", "query", "body", "extra", "status_code", "security",
                 "dependencies", "depends", "csrf")


_SECURITY = ("security", "dependencies", "depends")


def check_options(meta):
    for k in meta:
        if k in _SECURITY:
            from .security import check
            check(meta)
        if k == "path":
            raise TypeError("path=%r: path parameters are declared in the template, as in "
                            "'/items/{item_id:int}' (converters: %s)"
                            % (meta[k], ", ".join(sorted(converters))))
        if k not in ROUTE_OPTIONS:
            raise TypeError("unknown route option %r (known: %s)"
                            % (k, ", ".join(ROUTE_OPTIONS)))


def check_route(path, fn, methods, meta):
    """What add_route is given, checked at registration: a clear TypeError/ValueError names the
    mistake (compile_template checks the template itself when the route is added)."""
    if type(path) is not str:
        raise TypeError("a route needs its path as a str, as in @app.get('/items'), not %r"
                        % (path,))
    if not callable(fn):
        raise TypeError("route %r: the handler must be callable, not %r" % (path, fn))
    if type(methods) is str:
        raise TypeError("route %r: methods must be a list of str, as in methods=[%r]"
                        % (path, methods))
    check_options(meta)


def _refuse_microdot(template):
    """Microdot and Flask write parameters as <int:id>; here '<' could never match (a client
    must percent-encode it), so such a route would silently answer 404: say how to write it."""
    i = template.find("<")
    while i >= 0:
        j = template.find(">", i)
        if j < 0:
            return
        spec = template[i + 1:j]
        if spec and spec.count(":") <= 1 and \
                all(c == ":" or c == "_" or c.isalpha() or c.isdigit() for c in spec):
            k = spec.find(":")
            name, kind = (spec, "") if k < 0 else (spec[k + 1:], ":" + spec[:k])
            raise ValueError("%r: write path parameters as {%s%s}, not <%s>"
                             % (template, name, kind, spec))
        i = template.find("<", i + 1)


def compile_template(template):
    """'/a/{x:int}/b' -> ['/a/', ('x', Converter), '/b']; a list of str only when static."""
    if not template.startswith("/"):
        raise ValueError("path must start with '/': %r" % template)
    _refuse_microdot(template)
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


class Router:
    """Route table: exact paths in a dict, templates in a list."""

    def __init__(self):
        self.static = {}    # path -> {method: Endpoint}
        self.dynamic = []   # [Route]
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
            table = route.by_method
        for m in methods:
            table[m] = ep
        self.endpoints.append(ep)
        return ep

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
