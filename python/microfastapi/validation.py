"""Route declarations (query parameters, request body, response status) and request validation.

MicroPython drops annotations and docstrings, so everything is a plain value on the decorator:

    @app.get("/items", query={"q": (str, None), "limit": (int, 10), "tag": [str]},
             summary="List items", tags=["items"])
    def list_items(req, q, limit, tag): ...

    class Item:                        # a body "model": class attributes are the fields
        name = str
        price = float
        tax = (float, None)            # (type, default): optional
        tags = ([str], [])

    @app.post("/items", body=Item, status_code=201)
    def create(req, body): ...         # body: an Item instance with validated attributes

A field (query parameter or body field) is declared as one of:
  T                 required; T is str, int, float, bool, list, dict, [T] (list of T), a
                    dict of fields (a JSON object) or a class of fields (body only)
  (T, default)      optional; `default` is used when absent (None also accepts JSON null)
  Param(T, default=REQUIRED, description=None, ge=None, le=None, enum=None)
                    the same with documentation and constraints (Query and Field are aliases)
The body itself is any T above, or Body(T, name="body", description=None, required=True).

Validated values reach the handler as keyword arguments (query parameters by name, the body as
`body` or Body's name). Failures raise RequestValidationError, answered 422 with FastAPI's
`{"detail": [{"type", "loc", "msg", "input"}, ...]}`. Extra query parameters and body fields
are ignored, as in FastAPI, unless the route says `extra="forbid"`.

`status_code=` on the decorator applies to plain return values (dict, list, str, bytes, None);
a returned Response or (body, status) tuple keeps its own status.

Nothing here runs for a route without declarations: app.py imports this module only when a
route has decorator keywords, and `install` replaces the endpoint's `call` only when there is
something to check or a status to set.
"""

from .exceptions import RequestValidationError
from .request import json_loads
from .routing import _to_int, _to_float

REQUIRED = ...  # the default of a required Param

# Kinds of schema nodes (small ints: compared on every validated value).
K_ANY = 0
K_STR = 1
K_INT = 2
K_FLOAT = 3
K_BOOL = 4
K_LIST = 5   # list, items checked with .item when it is set
K_DICT = 6   # any JSON object
K_OBJ = 7    # an object with declared fields (a dict of fields or a class)

_SCALARS = {str: K_STR, int: K_INT, float: K_FLOAT, bool: K_BOOL, list: K_LIST, dict: K_DICT,
            object: K_ANY}

_TRUE = ("true", "1", "yes", "on", "t", "y")
_FALSE = ("false", "0", "no", "off", "f", "n")

# (type, message) by kind, for JSON values and for query strings.
_TYPE_ERR = {
    K_STR: ("string_type", "Input should be a valid string"),
    K_INT: ("int_type", "Input should be a valid integer"),
    K_FLOAT: ("float_type", "Input should be a valid number"),
    K_BOOL: ("bool_type", "Input should be a valid boolean"),
    K_LIST: ("list_type", "Input should be a valid list"),
    K_DICT: ("dict_type", "Input should be a valid dictionary"),
}
_FINITE = ("finite_number", "Input should be a finite number")
# Numbers must be finite: on the RP2040 (single-precision floats) JSON numbers beyond 3.4e38
# parse as inf, which json.dumps would answer as `inf`, which is not JSON. (On the unix port,
# doubles near 1.8e308 still print as overflowing values: MicroPython prints 16 digits.)
_INF = float("inf")
_PARSE_ERR = {
    K_INT: ("int_parsing", "Input should be a valid integer, unable to parse string as an integer"),
    K_FLOAT: ("float_parsing", "Input should be a valid number, unable to parse string as a number"),
    K_BOOL: ("bool_parsing", "Input should be a valid boolean, unable to interpret input"),
}


class Param:
    """A declared field: type, default (REQUIRED when it must be present) and documentation."""

    def __init__(self, type=str, default=REQUIRED, description=None, ge=None, le=None,
                 enum=None, title=None):
        self.type = type
        self.default = default
        self.description = description
        self.ge = ge
        self.le = le
        self.enum = enum
        self.title = title
        self.spec = None  # the compiled Spec, set by compile_field

    @property
    def required(self):
        return self.default is REQUIRED


Query = Param
Field = Param
Form = Param  # a field of a form body (form=), documented as such


class File:
    """A file part of a multipart/form-data body, declared in `form=`: the handler gets its
    UploadFile (microfastapi.uploads), or None when it is optional and absent."""

    def __init__(self, description=None, required=True, media_type=None):
        self.description = description
        self.required = required
        self.media_type = media_type  # documentation: the content type expected


class Body:
    """The request body: `schema` (any declared type), the handler's keyword `name`."""

    def __init__(self, schema, name="body", description=None, required=True,
                 media_type="application/json"):
        self.schema = schema
        self.name = name
        self.description = description
        self.required = required
        self.media_type = media_type
        self.spec = None


class Spec:
    """A compiled type: kind, item Spec (lists), fields [(name, Param)] and cls (objects)."""

    def __init__(self, kind, item=None, fields=None, cls=None, forbid=False):
        self.kind = kind
        self.item = item
        self.fields = fields
        self.cls = cls
        self.forbid = forbid


def _class_fields(cls):
    """Declared fields of a class: public attributes that are types or declarations."""
    out = {}
    for base in getattr(cls, "__bases__", ()):
        if base is not object:
            out.update(_class_fields(base))
    for k, v in cls.__dict__.items():
        if k[0] == "_":
            continue
        if isinstance(v, (type, list, tuple, dict, Param)):
            out[k] = v
    return out


def compile_spec(t, forbid=False):
    """A declared type -> Spec (raises TypeError for what cannot be declared)."""
    if isinstance(t, Spec):
        return t
    k = _SCALARS.get(t) if not isinstance(t, (list, dict)) else None
    if k is not None:
        return Spec(k)
    if isinstance(t, list):
        if len(t) != 1:
            raise TypeError("a list type is [T] with one item type: %r" % (t,))
        return Spec(K_LIST, compile_spec(t[0], forbid))
    if isinstance(t, dict):
        return Spec(K_OBJ, None, [(n, compile_field(v, forbid)) for n, v in t.items()], None,
                    forbid)
    if isinstance(t, type):
        fields = _class_fields(t)
        if not fields:
            raise TypeError("class %s declares no fields" % t.__name__)
        return Spec(K_OBJ, None, [(n, compile_field(v, forbid)) for n, v in fields.items()], t,
                    forbid)
    raise TypeError("cannot declare a field of type %r" % (t,))


def compile_field(d, forbid=False):
    """A field declaration (T, (T, default) or Param) -> Param with .spec set."""
    if isinstance(d, Param):
        p = d
    elif type(d) is tuple:
        if len(d) != 2:
            raise TypeError("an optional field is (type, default): %r" % (d,))
        p = Param(d[0], d[1])
    else:
        p = Param(d)
    p.spec = compile_spec(p.type, forbid)
    return p


# ---- checking values ----------------------------------------------------------------------

def _err(errors, typ, loc, msg, inp, ctx=None):
    e = {"type": typ, "loc": loc, "msg": msg, "input": inp}
    if ctx is not None:
        e["ctx"] = ctx
    errors.append(e)


def _constraints(p, v, loc, errors):
    """ge / le / enum of a Param on a converted value: True when it passes."""
    if p.enum is not None and v not in p.enum:
        exp = ", ".join(repr(x) if type(x) is not str else "'%s'" % x for x in p.enum)
        i = exp.rfind(", ")
        if i >= 0:
            exp = exp[:i] + " or " + exp[i + 2:]
        _err(errors, "enum", loc, "Input should be " + exp, v, {"expected": exp})
        return False
    if p.ge is not None and v < p.ge:
        _err(errors, "greater_than_equal", loc,
             "Input should be greater than or equal to %s" % p.ge, v, {"ge": p.ge})
        return False
    if p.le is not None and v > p.le:
        _err(errors, "less_than_equal", loc,
             "Input should be less than or equal to %s" % p.le, v, {"le": p.le})
        return False
    return True


def check(spec, v, loc, errors):
    """A JSON value against `spec`: the (converted) value; problems appended to `errors`."""
    k = spec.kind
    t = type(v)
    if k == K_STR:
        if t is str:
            return v
    elif k == K_INT:
        if t is int:
            return v
        if t is float and v == v and v not in (float("inf"), float("-inf")):
            if v == int(v):
                return int(v)
            _err(errors, "int_from_float", loc,
                 "Input should be a valid integer, got a number with a fractional part", v)
            return None
    elif k == K_FLOAT:
        if t is int:
            v = float(v)
            t = float
        if t is float:
            if v == v and v != _INF and v != -_INF:
                return v
            _err(errors, _FINITE[0], loc, _FINITE[1], v)
            return None
    elif k == K_BOOL:
        if t is bool:
            return v
    elif k == K_LIST:
        if t is list:
            item = spec.item
            if item is None:
                return v
            out = []
            for i in range(len(v)):
                out.append(check(item, v[i], loc + [i], errors))
            return out
    elif k == K_DICT:
        if t is dict:
            return v
    elif k == K_OBJ:
        if t is dict:
            return check_object(spec, v, loc, errors)
        _err(errors, "model_attributes_type" if spec.cls is not None else "dict_type", loc,
             "Input should be a valid dictionary or object to extract fields from"
             if spec.cls is not None else "Input should be a valid dictionary", v)
        return None
    else:
        return v
    typ, msg = _TYPE_ERR[k]
    _err(errors, typ, loc, msg, v)
    return None


def check_object(spec, d, loc, errors):
    """A JSON object against declared fields: a dict, or an instance of the declared class."""
    out = {}
    fields = spec.fields
    for name, p in fields:
        if name in d:
            v = d[name]
            if v is None and p.default is None:
                out[name] = None
                continue
            n = len(errors)
            v = check(p.spec, v, loc + [name], errors)
            if len(errors) == n and (p.ge is not None or p.le is not None or
                                     p.enum is not None):
                _constraints(p, v, loc + [name], errors)
            out[name] = v
        elif p.default is REQUIRED:
            _err(errors, "missing", loc + [name], "Field required", d)
        else:
            out[name] = _copy(p.default)
    if spec.forbid:
        for name in d:
            if not _has(fields, name):
                _err(errors, "extra_forbidden", loc + [name], "Extra inputs are not permitted",
                     d[name])
    cls = spec.cls
    if cls is None:
        return out
    obj = object.__new__(cls)
    for name in out:
        setattr(obj, name, out[name])
    return obj


def _has(fields, name):
    for n, p in fields:
        if n == name:
            return True
    return False


def _copy(d):
    t = type(d)
    if t is list or t is dict:
        return t(d)
    return d


def parse_str(spec, s, loc, errors):
    """A query-string value against a scalar `spec`."""
    k = spec.kind
    if k == K_STR or k == K_ANY:
        return s
    try:
        if k == K_INT:
            return _to_int(s)
        if k == K_FLOAT:
            v = _to_float(s)
            if v == v and v != _INF and v != -_INF:
                return v
            _err(errors, _FINITE[0], loc, _FINITE[1], s)
            return None
        if k == K_BOOL:
            low = s.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(s)
    except ValueError:
        pass
    typ, msg = _PARSE_ERR[k]
    _err(errors, typ, loc, msg, s)
    return None


def check_query(qfields, query, forbid, errors, where="query"):
    """Declared query parameters (or form fields: where="body") from the request's MultiDict
    -> {name: value}."""
    out = {}
    for name, p in qfields:
        spec = p.spec
        if spec.kind == K_LIST:
            vals = query.getlist(name)
            if not vals:
                if p.default is REQUIRED:
                    _err(errors, "missing", [where, name], "Field required", None)
                else:
                    out[name] = _copy(p.default)
                continue
            item = spec.item
            if item is not None:
                n = len(vals)
                conv = []
                for i in range(n):
                    conv.append(parse_str(item, vals[i], [where, name, i], errors))
                vals = conv
            out[name] = vals
            continue
        s = query.get(name)
        if s is None:
            if p.default is REQUIRED:
                _err(errors, "missing", [where, name], "Field required", None)
            else:
                out[name] = p.default
            continue
        n = len(errors)
        v = parse_str(spec, s, [where, name], errors)
        if len(errors) == n and (p.ge is not None or p.le is not None or p.enum is not None):
            _constraints(p, v, [where, name], errors)
        out[name] = v
    if forbid:
        for name in query.keys():
            if not _has(qfields, name):
                _err(errors, "extra_forbidden", [where, name], "Extra inputs are not permitted",
                     query.get(name))
    return out


def check_body(body, req, errors):
    """The request body (JSON) against a Body declaration -> the value for the handler.
    An absent body is "missing" when required; JSON null is accepted only when it is not."""
    raw = req.body
    if not raw:
        if body.required:
            _err(errors, "missing", ["body"], "Field required", None)
        return None
    try:
        v = json_loads(raw)
    except ValueError:
        _err(errors, "json_invalid", ["body", 0], "JSON decode error", {})
        return None
    if v is None:
        if body.required:
            _err(errors, "missing", ["body"], "Field required", None)
        return None
    return check(body.spec, v, ["body"], errors)


# ---- installing on an endpoint --------------------------------------------------------------

def _is_coro(r):
    return hasattr(r, "send") and hasattr(r, "throw")


def with_status(r, status):
    """Apply the route's status_code to a plain return value."""
    t = type(r)
    if t is dict or t is list or t is str or t is bytes or r is None:
        if status == 204 or status == 304:
            from .response import Response
            return Response(b"", status)
        return (r, status)
    return r


async def _await_status(co, status):
    return with_status(await co, status)


def compile_form(d):
    """form= -> (fields [(name, Param)], files [(name, File)])."""
    fields = []
    files = []
    for name, x in (d.items() if hasattr(d, "items") else d):
        if isinstance(x, File):
            files.append((name, x))
            continue
        p = compile_field(x)
        k = p.spec.kind
        if k == K_DICT or k == K_OBJ or (k == K_LIST and p.spec.item is not None and
                                          p.spec.item.kind >= K_LIST):
            raise TypeError("form field %r must be a scalar, a list of scalars or File()" % name)
        fields.append((name, p))
    return fields, files


async def check_form(form, req, forbid, errors):
    """The request's form (await req.form()) against form= -> {name: value}."""
    fields, files = form
    f = await req.form()
    texts = []
    uploads = {}
    for k, v in f.items():
        if type(v) is str:
            texts.append((k, v))
        elif k not in uploads:
            uploads[k] = v
    from .request import MultiDict
    out = check_query(fields, MultiDict(texts), False, errors, "body")
    for name, d in files:
        up = uploads.get(name)
        if up is None and d.required:
            _err(errors, "missing", ["body", name], "Field required", None)
        out[name] = up
    if forbid:
        for k in f.keys():
            if not _has(fields, k) and not _has(files, k):
                _err(errors, "extra_forbidden", ["body", k], "Extra inputs are not permitted",
                     None)
    return out


async def _call_form(form, forbid, fn, status, req, kw, errors):
    kw.update(await check_form(form, req, forbid, errors))
    if errors:
        raise RequestValidationError(errors)
    r = fn(req, **kw)
    if _is_coro(r):
        r = await r
    return r if status is None else with_status(r, status)


def declarations(meta):
    """(query fields, Body, forbid, status) compiled from a route's decorator keywords."""
    forbid = meta.get("extra", "ignore") == "forbid"
    q = meta.get("query")
    qfields = None
    if q:
        qfields = []
        for name, d in (q.items() if hasattr(q, "items") else q):
            p = compile_field(d)
            k = p.spec.kind
            if k == K_DICT or k == K_OBJ or (k == K_LIST and p.spec.item is not None and
                                              p.spec.item.kind >= K_LIST):
                raise TypeError("query parameter %r must be a scalar or a list of scalars"
                                % name)
            qfields.append((name, p))
    b = meta.get("body")
    if b is not None:
        if not isinstance(b, Body):
            b = Body(b)
        b.spec = compile_spec(b.schema, forbid)
    return qfields, b, forbid, meta.get("status_code")


_SECURITY = ("security", "dependencies", "depends")


def install(ep):
    """Give `ep` a validating `call` when its meta declares query/body/status_code; security
    and dependencies (security.py) then wrap that, so that they run first (a client without
    credentials gets 401/403, not 422)."""
    _install_checks(ep)
    meta = ep.meta
    for k in _SECURITY:
        if k in meta:
            from .security import install as install_security
            install_security(ep)
            return


def _install_checks(ep):
    meta = ep.meta
    qfields, body, forbid, status = declarations(meta)
    if body is not None and meta.get("stream_body"):
        raise TypeError("body= needs the body whole: a stream_body=True route reads it with "
                        "req.stream(), req.parts() or form=")
    form = meta.get("form")
    if form is not None:
        if body is not None:
            raise TypeError("a route declares body= or form=, not both")
        form = compile_form(form)
    if qfields is None and body is None and form is None and status is None and not forbid:
        return
    fn = ep.fn
    bname = body.name if body is not None else None

    def call(req, **kw):
        errors = []
        if qfields is not None or forbid:
            kw.update(check_query(qfields or (), req.query, forbid, errors))
        if form is not None:
            # (the form is awaited: the handler's call becomes a coroutine)
            return _call_form(form, forbid, fn, status, req, kw, errors)
        if body is not None:
            kw[bname] = check_body(body, req, errors)
        if errors:
            raise RequestValidationError(errors)
        r = fn(req, **kw)
        if status is None:
            return r
        if _is_coro(r):
            return _await_status(r, status)
        return with_status(r, status)

    ep.call = call
