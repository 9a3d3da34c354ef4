"""OpenAPI 3.1 schema of an app, `GET /openapi.json` and the Swagger UI page `GET /docs`.

    app = MicroFastApi(title="Sensors", version="1.0", description="...")
    # openapi_url="/openapi.json" and docs_url="/docs" by default; None switches either off
    # (without openapi_url there is no docs page either).

What goes into the schema comes from the routes: path parameter types from the converters
(`{id:int}` -> integer), and the decorator keywords that validation.py reads (`query=`, `body=`,
`status_code=`) plus these, for documentation only:
  summary, description, tags, deprecated, operation_id, include_in_schema=False,
  response= (a declared type: the schema of the success response), response_description,
  media_type= (of the success response, "application/json" by default),
  responses={404: "Item not found", 409: {...an OpenAPI response object...}}
Security schemes a route uses (security=, or in dependencies=/depends=, see security.py) are
listed in `components.securitySchemes` and in the operation's `security` (alternatives), so
the docs page shows a lock and its Authorize dialog; `security=None` on a route of a secured
router or app writes `"security": []` (no authentication).

The schema is generated on request and streamed (chunked), one path item at a time, so the
device never holds the whole document: nothing is kept between requests and the peak is one
path item. Measured on the unix port (64-bit) for the 16-operation test app: a cache would
keep 10.7 KB for ever; dict + json.dumps peaks at 39.6 KB; streaming peaks at 15.5 KB.
On the RP2040 (MFA_PICO in the emulator, tests/emu/mem_emu.py openapi): importing this module
and validation.py (frozen) costs 2,240 bytes of heap; streaming python/examples/hello.py's
2.2 KB document allocates 14.4 KB in all and runs in 14.3 KB of free heap. In flash the two
modules are 10.7 KB as .mpy (7.9 KB of frozen bytecode and tables, plus their qstrs).
`openapi(app)` returns the whole document as a dict, for tests and tools.

`GET /docs` serves one of two pages (`app.docs`, read on each request):
- "offline" (the default): our own page (tools/docs_page.html: one HTML file, inline JS and
  CSS, no request but the schema's), stored compressed in docs_page.py (frozen: flash, not
  RAM) and sent as it is with `Content-Encoding: gzip` to a client that accepts gzip; others
  get it decompressed in pieces (MicroPython's `deflate` module with a 1 KB window, zlib on
  CPython) or, without either, a 406 page that says so (docs/api-docs.md).
- "swagger": a few hundred bytes of HTML; the Swagger UI scripts and styles load from a
  public CDN in the user's browser, as FastAPI does.
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

from .routing import compile_template, converters
from .response import StreamingResponse, HTMLResponse, JSON_TYPE, HTML_TYPE
from . import validation as v

OPENAPI_VERSION = "3.1.0"
# Where the browser loads Swagger UI from (change to self-host or pin another CDN).
SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
SWAGGER_FAVICON = "https://fastapi.tiangolo.com/img/favicon.png"

_REF = "#/components/schemas/"
_HIDDEN = {"include_in_schema": False}
_STR_FN = converters["str"].fn


def setup(app):
    """Register the schema and docs routes of `app` (called by MicroFastApi.__init__)."""
    app.router.add(app.openapi_url, ["GET"], _schema_route, _HIDDEN).internal = True
    if app.docs_url:
        app.router.add(app.docs_url, ["GET"], _docs_route, _HIDDEN).internal = True


def _schema_route(req):
    return StreamingResponse(iter_json(req.app), media_type=JSON_TYPE)


def _docs_route(req):
    app = req.app
    if getattr(app, "docs", "offline") == "swagger":
        return HTMLResponse(docs_html(app.title + " - Swagger UI", app.openapi_url))
    return offline_docs(req.header("accept-encoding", ""), app.openapi_url)


def accepts_gzip(accept_encoding):
    """Whether an Accept-Encoding value takes gzip (by name or `*`, with a q above 0)."""
    gz = star = None
    for item in accept_encoding.split(","):
        parts = item.split(";")
        name = parts[0].strip().lower()
        q = 1.0
        for p in parts[1:]:
            p = p.strip()
            if p[:2] == "q=":
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if name == "gzip" or name == "x-gzip":
            gz = q
        elif name == "*":
            star = q
    if gz is not None:
        return gz > 0
    return star is not None and star > 0


_GZIP_HEAD = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, no mtime
_DOCS_HEADERS = [("Vary", "Accept-Encoding")]


def _tail(openapi_url):
    # what ends the page: the call that loads the schema (the one part that is not constant)
    return ("<script>go(%s)</script></body></html>\n" % _js(openapi_url)).encode()


def _crc32(data, crc=0):
    """CRC-32 (gzip's), bit by bit: only ever run over the page's short tail."""
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def gzip_pieces(tail):
    """The page as a gzip stream: the stored deflate bytes without their empty final block,
    then a final stored block holding `tail`, then the trailer (CRC-32 and size of the whole
    page, continued from the stored ones): nothing is recompressed or copied."""
    from . import docs_page as d
    from struct import pack
    try:
        from binascii import crc32
    except ImportError:  # (a build without MICROPY_PY_BINASCII_CRC32)
        crc32 = _crc32
    n = len(tail)
    yield _GZIP_HEAD
    yield memoryview(d.DEFLATE)[:-2]
    yield pack("<BHH", 1, n, n ^ 0xFFFF) + tail + \
        pack("<II", crc32(tail, d.CRC) & 0xFFFFFFFF, (d.SIZE + n) & 0xFFFFFFFF)


def _inflater():
    """A function that returns the page's pieces decompressed, or None when this interpreter
    has no way to decompress."""
    from . import docs_page as d
    try:
        import deflate
        import io

        def pieces():
            f = deflate.DeflateIO(io.BytesIO(d.DEFLATE), deflate.RAW, d.WBITS)
            buf = bytearray(512)
            mv = memoryview(buf)
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                yield mv[:n]  # (the server copies each piece before asking for the next)
        return pieces
    except ImportError:
        pass
    try:
        import zlib
    except ImportError:
        return None

    def pieces():
        z = zlib.decompressobj(-d.WBITS)
        mv = memoryview(d.DEFLATE)
        for i in range(0, len(mv), 512):
            out = z.decompress(mv[i:i + 512])
            if out:
                yield out
    return pieces


def plain_pieces(tail, inflate):
    for p in inflate():
        yield p
    yield tail


NO_GZIP = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>API docs</title></head>"
           "<body><h1>406: this page needs gzip</h1><p>The docs page is stored gzip-compressed "
           "and your client did not accept gzip (its Accept-Encoding), and this firmware has no "
           "<code>deflate</code> module to decompress it. Open it in a web browser, or read the "
           "schema at <a href=\"%s\">%s</a>.</p></body></html>")


def offline_docs(accept_encoding, openapi_url):
    """The response of the offline docs page for a request with this Accept-Encoding."""
    tail = _tail(openapi_url)
    if accepts_gzip(accept_encoding):
        return StreamingResponse(gzip_pieces(tail), headers=_DOCS_HEADERS + [
            ("Content-Encoding", "gzip")], media_type=HTML_TYPE)
    inflate = _inflater()
    if inflate is None:
        u = openapi_url.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        return HTMLResponse(NO_GZIP % (u, u), 406, _DOCS_HEADERS)
    return StreamingResponse(plain_pieces(tail, inflate), headers=_DOCS_HEADERS,
                             media_type=HTML_TYPE)


def _js(s):
    """A JS string literal that cannot end the <script> element."""
    return json.dumps(s).replace("<", "\\u003c")


def docs_html(title, openapi_url):
    t = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s</title><link rel="shortcut icon" href="%s">'
            '<link type="text/css" rel="stylesheet" href="%s"></head><body>'
            '<div id="swagger-ui"></div><script src="%s"></script><script>'
            'window.ui=SwaggerUIBundle({url:%s,dom_id:"#swagger-ui",layout:"BaseLayout",'
            'deepLinking:true,showExtensions:true,showCommonExtensions:true,'
            'presets:[SwaggerUIBundle.presets.apis,SwaggerUIBundle.SwaggerUIStandalonePreset]})'
            '</script></body></html>') % (t, SWAGGER_FAVICON, SWAGGER_CSS, SWAGGER_JS,
                                          _js(openapi_url))


# ---- schemas of declared types --------------------------------------------------------------

_KIND_TYPE = {v.K_STR: "string", v.K_INT: "integer", v.K_FLOAT: "number", v.K_BOOL: "boolean",
              v.K_LIST: "array", v.K_DICT: "object"}


def spec_schema(spec, comps):
    """JSON Schema of a compiled Spec; declared classes go into `comps` and are referenced."""
    k = spec.kind
    if k == v.K_ANY:
        return {}
    if k != v.K_OBJ:
        s = {"type": _KIND_TYPE[k]}
        if k == v.K_LIST and spec.item is not None:
            s["items"] = spec_schema(spec.item, comps)
        return s
    cls = spec.cls
    if cls is not None:
        name = cls.__name__
        if name in comps:
            return {"$ref": _REF + name}
        comps[name] = {}  # reserve (recursive references)
    props = {}
    req = []
    for fname, p in spec.fields:
        props[fname] = field_schema(fname, p, comps, True)
        if p.default is v.REQUIRED:
            req.append(fname)
    s = {"type": "object", "properties": props}
    if req:
        s["required"] = req
    if spec.forbid:
        s["additionalProperties"] = False
    if cls is None:
        return s
    s["title"] = cls.__name__
    comps[cls.__name__] = s
    return {"$ref": _REF + cls.__name__}


def _jsonable(x):
    t = type(x)
    if t in (str, int, float, bool) or x is None:
        return True
    if t is list or t is tuple:
        for i in x:
            if not _jsonable(i):
                return False
        return True
    if t is dict:
        for k in x:
            if type(k) is not str or not _jsonable(x[k]):
                return False
        return True
    return False


def _nullable(s):
    if "type" in s:
        s["type"] = [s["type"], "null"]
    elif "$ref" in s:
        s = {"anyOf": [s, {"type": "null"}]}
    return s


def field_schema(name, p, comps, nullable):
    """Schema of a declared field (a body property when `nullable`, else a query parameter)."""
    s = spec_schema(p.spec, comps)
    d = p.default
    if nullable and d is None:
        s = _nullable(s)
    if "$ref" not in s:
        s["title"] = p.title or _title(name)
    if p.description:
        s["description"] = p.description
    if d is not v.REQUIRED and (d is not None or nullable) and _jsonable(d):
        s["default"] = d
    if p.ge is not None:
        s["minimum"] = p.ge
    if p.le is not None:
        s["maximum"] = p.le
    if p.enum is not None:
        s["enum"] = list(p.enum)
    return s


def _title(name):
    return " ".join(w[:1].upper() + w[1:] for w in name.split("_") if w)


# ---- operations and the document ---------------------------------------------------------

def _oa_path(parts):
    return "".join(p if type(p) is str else "{" + p[0] + "}" for p in parts)


def _op_id(name, path, method):
    s = name + path
    return "".join(c if c.isalpha() or c.isdigit() or c == "_" else "_" for c in s) + \
        "_" + method.lower()


def _validation_components(comps):
    if "HTTPValidationError" in comps:
        return
    comps["ValidationError"] = {
        "title": "ValidationError", "type": "object", "required": ["loc", "msg", "type"],
        "properties": {
            "loc": {"title": "Location", "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"}}}
    comps["HTTPValidationError"] = {
        "title": "HTTPValidationError", "type": "object",
        "properties": {"detail": {"title": "Detail", "type": "array",
                                  "items": {"$ref": _REF + "ValidationError"}}}}


def _security(meta, secs):
    """The operation's `security` list; each scheme named in `secs` (name -> scheme). Two
    different schemes with the same name get '_2', '_3', ... added to the later ones."""
    from .security import route_schemes
    out = []
    for sch in route_schemes(meta):
        base = name = sch.scheme_name
        n = 1
        while name in secs and secs[name] is not sch:
            n += 1
            name = "%s_%d" % (base, n)
        secs[name] = sch
        out.append({name: []})
    return out


def form_body(form, comps):
    """The requestBody of a form= route: multipart/form-data when it has a File (files as
    `format: binary`, so that Swagger UI shows a file input), else urlencoded."""
    fields, files = v.compile_form(form)
    props = {}
    required = []
    for name, p in fields:
        props[name] = field_schema(name, p, comps, False)
        if p.default is v.REQUIRED:
            required.append(name)
    for name, f in files:
        fs = {"type": "string", "format": "binary", "title": _title(name)}
        if f.description:
            fs["description"] = f.description
        if f.media_type:
            fs["contentMediaType"] = f.media_type
        props[name] = fs
        if f.required:
            required.append(name)
    schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    media = "multipart/form-data" if files else "application/x-www-form-urlencoded"
    return {"content": {media: {"schema": schema}}, "required": bool(required)}


def operation(ep, path, parts, method, comps, secs=None):
    """The OpenAPI operation object of one endpoint and method (security schemes it uses are
    added to `secs`)."""
    meta = ep.meta
    qfields, body, forbid, status = v.declarations(meta)
    name = getattr(ep.fn, "__name__", "handler")
    op = {}
    if meta.get("tags"):
        op["tags"] = list(meta["tags"])
    op["summary"] = meta.get("summary") or _title(name)
    if meta.get("description"):
        op["description"] = meta["description"]
    op["operationId"] = meta.get("operation_id") or _op_id(name, path, method)
    if meta.get("deprecated"):
        op["deprecated"] = True
    params = []
    form = meta.get("form")
    can_fail = qfields is not None or body is not None or forbid or form is not None
    for p in parts:
        if type(p) is str:
            continue
        conv = p[1]
        if conv.fn is not _STR_FN:
            can_fail = True
        params.append({"name": p[0], "in": "path", "required": True,
                       "schema": dict(conv.schema, title=_title(p[0]))})
    for qname, p in qfields or ():
        q = {"name": qname, "in": "query", "required": p.default is v.REQUIRED,
             "schema": field_schema(qname, p, comps, False)}
        if p.description:
            q["description"] = p.description
        params.append(q)
    if params:
        op["parameters"] = params
    if body is not None:
        s = spec_schema(body.spec, comps)
        if not body.required:
            s = _nullable(s)  # absent or JSON null
        rb = {"content": {body.media_type: {"schema": s}}, "required": bool(body.required)}
        if body.description:
            rb["description"] = body.description
        op["requestBody"] = rb
    if form is not None:
        op["requestBody"] = form_body(form, comps)
    status = status or 200
    ok = {"description": meta.get("response_description") or "Successful Response"}
    if status != 204 and status != 304:
        rs = meta.get("response")
        rs = spec_schema(v.compile_spec(rs), comps) if rs is not None else {}
        ok["content"] = {meta.get("media_type") or JSON_TYPE: {"schema": rs}}
    responses = {str(status): ok}
    if can_fail:
        _validation_components(comps)
        responses["422"] = {"description": "Validation Error", "content": {JSON_TYPE: {
            "schema": {"$ref": _REF + "HTTPValidationError"}}}}
    extra = meta.get("responses")
    if extra:
        for code in extra:
            r = extra[code]
            if type(r) is str:
                r = {"description": r, "content": {JSON_TYPE: {"schema": {
                    "type": "object", "properties": {"detail": {"title": "Detail"}}}}}}
            responses[str(code)] = r
    op["responses"] = responses
    if secs is not None and ("security" in meta or "dependencies" in meta or
                             "depends" in meta):
        sec = _security(meta, secs)
        if sec or "security" in meta:
            op["security"] = sec
    return op


def _visible(app):
    """[(openapi path, template parts, endpoint)] of the documented endpoints."""
    out = []
    for ep in app.router.endpoints:
        if ep.meta.get("include_in_schema", True) is False:
            continue
        parts = compile_template(ep.template)
        out.append((_oa_path(parts), parts, ep))
    return out


def _path_item(items, path, comps, secs=None):
    item = {}
    for p, parts, ep in items:
        if p != path:
            continue
        for m in ep.methods:
            item[m.lower()] = operation(ep, path, parts, m, comps, secs)
    return item


def _paths(items):
    seen = []
    for p, parts, ep in items:
        if p not in seen:
            seen.append(p)
    return seen


def info(app):
    i = {"title": app.title, "version": app.version}
    if getattr(app, "description", None):
        i["description"] = app.description
    return i


def openapi(app):
    """The whole OpenAPI document of `app` as a dict."""
    comps = {}
    secs = {}
    items = _visible(app)
    paths = {}
    for p in _paths(items):
        paths[p] = _path_item(items, p, comps, secs)
    doc = {"openapi": OPENAPI_VERSION, "info": info(app), "paths": paths}
    c = _components(comps, secs)
    if c:
        doc["components"] = c
    return doc


def _components(comps, secs):
    c = {}
    if comps:
        c["schemas"] = comps
    if secs:
        c["securitySchemes"] = {name: secs[name].openapi() for name in secs}
    return c


def iter_json(app):
    """The document as JSON text, one path item per piece (what GET /openapi.json streams)."""
    dumps = json.dumps
    comps = {}
    secs = {}
    items = _visible(app)
    yield '{"openapi": "%s", "info": %s, "paths": {' % (OPENAPI_VERSION, dumps(info(app)))
    sep = ""
    for p in _paths(items):
        yield sep + dumps(p) + ": " + dumps(_path_item(items, p, comps, secs))
        sep = ", "
    c = _components(comps, secs)
    if c:
        yield '}, "components": ' + dumps(c) + "}"
    else:
        yield "}}"
