"""Validation cases against openapi_app.py, shared by CPython and MicroPython runs.

Each case: (name, method, path, json body or None, raw body bytes or None, status, expected).
`expected` is the exact JSON answer; for 422 it is the `detail` list, compared without regard
to order (MicroPython's dicts do not keep declaration order, so errors may come in another
order). Run `run_all(client)` to get [(name, status, json)].
"""

INT_MSG = "Input should be a valid integer, unable to parse string as an integer"
MISSING = "Field required"


def e(typ, loc, msg, inp, ctx=None):
    d = {"type": typ, "loc": loc, "msg": msg, "input": inp}
    if ctx is not None:
        d["ctx"] = ctx
    return d


DEFAULTS = {"q": None, "limit": 10, "skip": 0, "tag": [], "ids": [], "sort": "asc",
            "exact": False, "min_price": None}


def _items(**kw):
    d = dict(DEFAULTS)
    d.update(kw)
    return [d]


CASES = [
    # ---- query: defaults, conversion, lists, constraints --------------------------------
    ("query defaults", "GET", "/items", None, None, 200, _items()),
    ("query values", "GET", "/items?q=bolt&limit=5&skip=2&exact=yes&min_price=1.5&sort=desc",
     None, None, 200, _items(q="bolt", limit=5, skip=2, exact=True, min_price=1.5,
                             sort="desc")),
    ("query lists", "GET", "/items?tag=a&tag=b%20c&ids=1&ids=-2", None, None, 200,
     _items(tag=["a", "b c"], ids=[1, -2])),
    ("query bool false", "GET", "/items?exact=0", None, None, 200, _items()),
    ("query extra ignored", "GET", "/items?nope=1&limit=3", None, None, 200, _items(limit=3)),
    ("query missing", "GET", "/search", None, None, 422,
     [e("missing", ["query", "term"], MISSING, None),
      e("missing", ["query", "page"], MISSING, None)]),
    ("query missing one", "GET", "/search?term=x", None, None, 422,
     [e("missing", ["query", "page"], MISSING, None)]),
    ("query ok", "GET", "/search?term=x&page=3", None, None, 200, {"term": "x", "page": 3}),
    ("query wrong int", "GET", "/search?term=x&page=two", None, None, 422,
     [e("int_parsing", ["query", "page"], INT_MSG, "two")]),
    ("query empty int", "GET", "/search?term=x&page=", None, None, 422,
     [e("int_parsing", ["query", "page"], INT_MSG, "")]),
    ("query wrong float", "GET", "/items?min_price=cheap", None, None, 422,
     [e("float_parsing", ["query", "min_price"],
        "Input should be a valid number, unable to parse string as a number", "cheap")]),
    ("query wrong bool", "GET", "/items?exact=maybe", None, None, 422,
     [e("bool_parsing", ["query", "exact"],
        "Input should be a valid boolean, unable to interpret input", "maybe")]),
    ("query wrong list item", "GET", "/items?ids=1&ids=x", None, None, 422,
     [e("int_parsing", ["query", "ids", 1], INT_MSG, "x")]),
    ("query ge", "GET", "/items?limit=0", None, None, 422,
     [e("greater_than_equal", ["query", "limit"], "Input should be greater than or equal to 1",
        0, {"ge": 1})]),
    ("query le", "GET", "/items?limit=101", None, None, 422,
     [e("less_than_equal", ["query", "limit"], "Input should be less than or equal to 100",
        101, {"le": 100})]),
    ("query enum", "GET", "/items?sort=up", None, None, 422,
     [e("enum", ["query", "sort"], "Input should be 'asc' or 'desc'", "up",
        {"expected": "'asc' or 'desc'"})]),
    ("query infinite", "GET", "/items?min_price=1e999", None, None, 422,
     [e("finite_number", ["query", "min_price"], "Input should be a finite number", "1e999")]),
    ("query extra forbidden", "GET", "/strict?a=1&b=2", None, None, 422,
     [e("extra_forbidden", ["query", "b"], "Extra inputs are not permitted", "2")]),
    ("query forbid ok", "GET", "/strict?a=4", None, None, 200, {"a": 4}),
    ("path + query", "GET", "/items/1?verbose=on", None, None, 200,
     {"item_id": 1, "verbose": True, "item": {"name": "bolt", "price": 0.5}}),
    ("path + query both wrong", "GET", "/items/x?verbose=2", None, None, 422,
     [e("int_parsing", ["path", "item_id"], INT_MSG, "x")]),
    ("router route", "GET", "/v2/echo?word=hi", None, None, 200, {"word": "hi"}),
    ("router route missing", "GET", "/v2/echo", None, None, 422,
     [e("missing", ["query", "word"], MISSING, None)]),
    ("undeclared route untouched", "GET", "/undeclared/x?q=1", None, None, 200,
     {"name": "x", "q": "1"}),

    # ---- body: class model ----------------------------------------------------------------
    ("body defaults", "POST", "/items", {"name": "nut", "price": 2}, None, 201,
     {"name": "nut", "price": 2.0, "tax": None, "tags": [], "count": 1}),
    ("body values", "POST", "/items",
     {"name": "nut", "price": 2.5, "tax": 7, "tags": ["a"], "count": 3.0}, None, 201,
     {"name": "nut", "price": 2.5, "tax": 7.0, "tags": ["a"], "count": 3}),
    ("body null optional", "POST", "/items", {"name": "nut", "price": 1, "tax": None}, None,
     201, {"name": "nut", "price": 1.0, "tax": None, "tags": [], "count": 1}),
    ("body extra ignored", "POST", "/items", {"name": "nut", "price": 1, "zzz": 1}, None, 201,
     {"name": "nut", "price": 1.0, "tax": None, "tags": [], "count": 1}),
    ("body missing field", "POST", "/items", {"price": 1}, None, 422,
     [e("missing", ["body", "name"], MISSING, {"price": 1})]),
    ("body wrong types", "POST", "/items",
     {"name": 5, "price": "x", "tags": ["a", 1], "count": 1.5}, None, 422,
     [e("string_type", ["body", "name"], "Input should be a valid string", 5),
      e("float_type", ["body", "price"], "Input should be a valid number", "x"),
      e("string_type", ["body", "tags", 1], "Input should be a valid string", 1),
      e("int_from_float", ["body", "count"],
        "Input should be a valid integer, got a number with a fractional part", 1.5)]),
    ("body bool is not int", "POST", "/items", {"name": "n", "price": 1, "count": True}, None,
     422, [e("int_type", ["body", "count"], "Input should be a valid integer", True)]),
    ("body not a list", "POST", "/items", {"name": "n", "price": 1, "tags": "a"}, None, 422,
     [e("list_type", ["body", "tags"], "Input should be a valid list", "a")]),
    ("body constraint", "POST", "/items", {"name": "n", "price": -1}, None, 422,
     [e("greater_than_equal", ["body", "price"], "Input should be greater than or equal to 0",
        -1.0, {"ge": 0})]),
    ("body absent", "POST", "/items", None, None, 422,
     [e("missing", ["body"], MISSING, None)]),
    ("body json null", "POST", "/items", None, b"null", 422,
     [e("missing", ["body"], MISSING, None)]),
    ("body not an object", "POST", "/items", [1, 2], None, 422,
     [e("model_attributes_type", ["body"],
        "Input should be a valid dictionary or object to extract fields from", [1, 2])]),
    ("body invalid json", "POST", "/items", None, b"{bad", 422,
     [e("json_invalid", ["body", 0], "JSON decode error", {})]),
    ("body named + async", "PUT", "/items/3", {"name": "a", "price": 1}, None, 200,
     {"item_id": 3, "name": "a", "price": 1.0}),
    ("body named + path wrong", "PUT", "/items/x", {"name": "a", "price": 1}, None, 422,
     [e("int_parsing", ["path", "item_id"], INT_MSG, "x")]),
    # ---- nested model, extra="forbid" -----------------------------------------------------
    ("nested ok", "POST", "/boxes", {"label": "b", "size": {"w": 1, "h": 2.5}}, None, 201,
     {"label": "b", "w": 1.0, "h": 2.5, "fragile": False}),
    ("nested errors", "POST", "/boxes", {"label": "b", "size": {"w": "1"}}, None, 422,
     [e("float_type", ["body", "size", "w"], "Input should be a valid number", "1"),
      e("missing", ["body", "size", "h"], MISSING, {"w": "1"})]),
    ("nested extra forbidden", "POST", "/boxes",
     {"label": "b", "size": {"w": 1, "h": 1, "d": 1}, "x": True}, None, 422,
     [e("extra_forbidden", ["body", "size", "d"], "Extra inputs are not permitted", 1),
      e("extra_forbidden", ["body", "x"], "Extra inputs are not permitted", True)]),
    # ---- dict of types, list body, optional body -------------------------------------------
    ("dict body default", "POST", "/points", {"x": 1, "y": 2}, None, 200,
     {"sum": 3, "label": "origin"}),
    ("dict body wrong", "POST", "/points", {"x": "1"}, None, 422,
     [e("int_type", ["body", "x"], "Input should be a valid integer", "1"),
      e("missing", ["body", "y"], MISSING, {"x": "1"})]),
    ("dict body not object", "POST", "/points", "s", None, 422,
     [e("dict_type", ["body"], "Input should be a valid dictionary", "s")]),
    ("list body", "POST", "/numbers", [1, 2, 3], None, 200, {"total": 6, "n": 3}),
    ("list body wrong item", "POST", "/numbers", [1, "2"], None, 422,
     [e("int_type", ["body", 1], "Input should be a valid integer", "2")]),
    ("optional body absent", "POST", "/notes", None, None, 200, {"text": None}),
    ("optional body given", "POST", "/notes", {"text": "hi"}, None, 200, {"text": "hi"}),
    ("surrogate pair", "POST", "/notes", None, b'{"text": "\\ud83d\\ude00 \\\\ud83d"}', 200,
     {"text": "\U0001F600 \\ud83d"}),
    # ---- status codes ---------------------------------------------------------------------
    ("status 204", "DELETE", "/items/1", None, None, 204, None),
    ("status 404 after delete", "DELETE", "/items/1", None, None, 404,
     {"detail": "Item not found"}),
]


def run_all(client):
    """[(name, status, parsed JSON or None)] for every case, in order."""
    out = []
    for name, method, path, body, raw, status, expected in CASES:
        if raw is not None:
            r = client.request(method, path, content=raw,
                               headers={"Content-Type": "application/json"})
        elif body is not None:
            r = client.request(method, path, json=body)
        else:
            r = client.request(method, path)
        out.append((name, r.status_code, r.json() if r.content else None))
    return out


def key(err):
    return repr(err["loc"]) + err["type"]


def same(status, got, exp_status, expected):
    """True when a result matches its case (422 details compared as sets)."""
    if status != exp_status:
        return False
    if status == 422:
        if not isinstance(got, dict) or "detail" not in got:
            return False
        return sorted(got["detail"], key=key) == sorted(expected, key=key)
    return got == expected
