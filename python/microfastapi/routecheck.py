"""What a route may be given, checked when it is registered (never per request): the route
options, the path, the handler. A module of its own, apart from routing.py's per-request code:
on MicroPython, names added to routing.py's globals made every lookup of a builtin there (a
miss in the module's dict first) cost more on each request.
"""

from .routing import converters


# Keyword arguments a route decorator (or APIRouter) accepts, and who reads them: openapi.py
# (documentation), validation.py (declarations), security.py (security, dependencies,
# depends), sessions.py (csrf) and app.py (stream_body, max_body: docs/uploads.md; form= is
# validation.py's). A new option is added here too, so that a misspelt one is
# an error at registration instead of being ignored.
ROUTE_OPTIONS = ("summary", "description", "tags", "operation_id", "deprecated",
                 "include_in_schema", "response", "response_description", "responses",
                 "media_type", "query", "body", "extra", "status_code", "security",
                 "dependencies", "depends", "csrf", "stream_body", "max_body", "form")


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


def refuse_microdot(template):
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
