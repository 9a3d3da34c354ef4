"""The API contract (DESIGN.md "Python API"), on every backend: in-process TestClient,
CPython + pyserver over HTTP, and both unix MicroPython binaries over HTTP."""


def test_root_json(api):
    r = api.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"hello": "world"}
    assert r.headers["x-middleware"] == "1"


def test_path_int_and_query(api):
    r = api.get("/items/42?q=hello%20world")
    assert r.status_code == 200
    assert r.json() == {"item_id": 42, "q": "hello world"}
    assert api.get("/items/-3").json()["item_id"] == -3
    assert api.get("/items/7").json() == {"item_id": 7, "q": None}


def test_converter_mismatch_is_422(api):
    r = api.get("/items/abc")
    assert r.status_code == 422
    assert r.json() == {"detail": [{
        "type": "int_parsing", "loc": ["path", "item_id"],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "abc"}]}
    r = api.get("/price/x1")
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "float_parsing"
    assert api.get("/price/2.5").json() == {"value": 2.5}


def test_404_and_405(api):
    r = api.get("/nowhere")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}
    r = api.post("/items/3")
    assert r.status_code == 405
    assert r.json() == {"detail": "Method Not Allowed"}
    allow = [m.strip() for m in r.headers["allow"].split(",")]
    assert sorted(allow) == ["DELETE", "GET", "PUT"]


def test_static_route_beats_template(api):
    assert api.get("/users/me").json() == {"user": "me"}
    assert api.get("/users/ann").json() == {"user": "ann"}
    assert api.get("/users/a%20b").json() == {"user": "a b"}


def test_path_converter_and_suffix(api):
    assert api.get("/files/a/b/c.txt").json() == {"path": "a/b/c.txt"}
    assert api.get("/report/q3.json").json() == {"report": "q3"}
    assert api.get("/report/q3.xml").status_code == 404


def test_query_repeated_and_defaults(api):
    r = api.get("/query?a=1&a=2&c=&a=x+y")
    assert r.json() == {"a": "1", "all": ["1", "2", "x y"], "b": "none", "keys": ["a", "c"]}


def test_headers_case_insensitive(api):
    r = api.get("/headers", headers={"x-CUSTOM": "v1", "User-Agent": "t"})
    assert r.json() == {"x_custom": "v1", "ua_present": True, "host": r.json()["host"]}
    assert r.json()["host"]


def test_cookies(api):
    r = api.get("/cookies", headers={"Cookie": "a=1; b=\"two\"; c=3"})
    assert r.json() == {"a": "1", "b": "two", "c": "3"}
    r = api.get("/setcookie")
    sc = r.headers["set-cookie"]
    assert sc.startswith("session=abc123;")
    assert "Max-Age=60" in sc and "HttpOnly" in sc and "Path=/" in sc


def test_post_json_and_async_handler(api):
    r = api.post("/items", json={"name": "x", "n": [1, 2]})
    assert r.status_code == 201
    assert r.json() == {"name": "x", "n": [1, 2]}


def test_invalid_json_is_422(api):
    r = api.post("/items", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


def test_put_and_delete(api):
    r = api.put("/items/5", json={"a": 1})
    assert r.json() == {"item_id": 5, "body": {"a": 1}}
    r = api.delete("/items/5")
    assert r.status_code == 204
    assert r.content == b""


def test_form(api):
    r = api.post("/form", data={"name": "Zoë & co", "tag": "x"})
    assert r.json() == {"name": "Zoë & co", "tags": ["x"]}
    r = api.post("/form", content=b"name=a&tag=1&tag=2",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.json() == {"name": "a", "tags": ["1", "2"]}


def test_echo_bytes(api):
    body = bytes(range(256)) * 4
    r = api.post("/echo", content=body)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.content == body


def test_return_types(api):
    r = api.get("/text")
    assert r.headers["content-type"].startswith("text/plain") and r.text == "plain text"
    r = api.get("/html")
    assert r.headers["content-type"].startswith("text/html") and r.text == "<h1>hi</h1>"
    r = api.get("/plain")
    assert r.status_code == 202 and r.text == "explicit"
    assert api.get("/bytes").content == b"\x00\x01\x02"
    r = api.get("/tuple")
    assert r.status_code == 201 and r.json() == {"created": 1}
    assert r.headers["x-extra"] == "yes"
    r = api.get("/none")
    assert r.status_code == 200 and r.json() is None


def test_redirect(api):
    r = api.get("/redirect")
    assert r.status_code == 307
    assert r.headers["location"] == "/items/1"


def test_http_exception(api):
    r = api.get("/missing")
    assert r.status_code == 404 and r.json() == {"detail": "Item not found"}
    r = api.get("/auth")
    assert r.status_code == 401 and r.json() == {"detail": "Login first"}
    assert r.headers["www-authenticate"] == "Bearer"
    r = api.get("/async-boom")
    assert r.status_code == 409 and r.json() == {"detail": "async conflict"}


def test_custom_exception_handler(api):
    r = api.get("/teapot")
    assert r.status_code == 418
    assert r.json() == {"detail": "teapot", "path": "/teapot"}


def test_500_keeps_serving(api):
    for _ in range(3):
        r = api.get("/boom")
        assert r.status_code == 500
        assert r.json() == {"detail": "Internal Server Error"}
    assert api.get("/").status_code == 200


def test_crlf_in_header_refused(api):
    r = api.get("/badheader")
    assert r.status_code == 500
    assert "injected" not in r.headers
    assert api.get("/").status_code == 200


def test_streaming_generator(api):
    r = api.get("/stream?n=5")
    assert r.status_code == 200
    assert r.text == "".join("chunk %d\n" % i for i in range(5))


def test_streaming_async_iterator(api):
    r = api.get("/astream")
    assert r.status_code == 200
    assert r.text == "2\n1\n0\n"


def test_streaming_str_subclass_pieces(api):
    # pieces that are str subclasses are encoded like str, not handed to the server raw
    r = api.get("/stream-text")
    assert r.status_code == 200
    assert r.text == "<b>x</b>"


def test_file_response(api):
    r = api.get("/file")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"  # .py: unknown type
    assert b"The app every API test runs against" in r.content
    assert len(r.content) > 1024  # several blocks of 256
    r = api.get("/file?name=/nonexistent/x.txt")
    assert r.status_code == 404
    # answered through the app's own error path: the middleware saw it
    assert r.json() == {"detail": "Not Found"} and r.headers["x-middleware"] == "1"


def test_head_has_no_body(api):
    r = api.head("/items/1")
    assert r.status_code == 200
    assert r.content == b""


def test_route_with_methods_list(api):
    assert api.get("/multi").json() == {"method": "GET"}
    assert api.post("/multi").json() == {"method": "POST"}


def test_router_prefix(api):
    assert api.get("/v1/ping").json() == {"pong": True}
    assert api.get("/v1/echo/hi").json() == {"word": "hi"}
    assert api.get("/ping").status_code == 404


def test_client_address(api):
    r = api.get("/client")
    assert r.json()["port_is_int"] is True
    assert r.json()["host"]


def test_big_response(api):
    r = api.get("/big")
    assert r.json() == {"data": "x" * 20000}


def test_cors(api):
    r = api.options("/items/1", headers={"Origin": "http://allowed.example",
                                          "Access-Control-Request-Method": "PUT",
                                          "Access-Control-Request-Headers": "X-Token"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://allowed.example"
    assert "PUT" in r.headers["access-control-allow-methods"]
    assert r.headers["access-control-allow-headers"] == "X-Token"
    assert r.headers["access-control-allow-credentials"] == "true"
    r = api.options("/items/1", headers={"Origin": "http://evil.example",
                                          "Access-Control-Request-Method": "PUT"})
    assert r.status_code == 400
    r = api.get("/", headers={"Origin": "http://allowed.example"})
    assert r.headers["access-control-allow-origin"] == "http://allowed.example"
    r = api.get("/", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_backend_report(api):
    info = api.get("/backend").json()
    assert "apitest" in info["app"]
    assert "parser:" in info["describe"]
    # the live package under test, not a stale frozen copy
    assert "python/microfastapi/__init__.py" in info["file"]
    name = getattr(api, "name", "testclient")
    if name == "unix":
        assert info["has_mfa"] is True
        # both halves of the hot path are C: _mfa.Server and _mfa.parse_request
        assert info["describe"] == "server: _mfa, parser: _mfa"
        assert "(backend: _mfa; parser: _mfa)" in info["app"]
    if name in ("unix-pure", "cpython", "testclient"):
        assert info["has_mfa"] is False


def test_static_files(api):
    r = api.get("/static/index.html")
    assert r.status_code == 200 and r.content == b"<h1>api index</h1>\n"
    assert r.headers["content-type"].startswith("text/html")
    assert api.get("/static/style.css").headers["content-type"] == "text/css"
    r = api.get("/static/data.json")
    assert r.headers["content-type"] == "application/json" and r.json() == {"a": 1}
    assert api.get("/static/sub/index.html").content == b"<p>sub index</p>\n"
    assert api.head("/static/style.css").content == b""
    for path in ("/static/missing.css", "/static/sub", "/static/sub/", "/static/"):
        assert api.get(path).status_code == 404, path
    assert api.post("/static/index.html").status_code == 405


def test_static_files_html_index(api):
    assert api.get("/site/").content == b"<h1>api index</h1>\n"
    assert api.get("/site/sub/").content == b"<p>sub index</p>\n"
    assert api.get("/site/sub").content == b"<p>sub index</p>\n"
    assert api.get("/site/style.css").status_code == 200
    assert api.get("/site/index.html/").status_code == 404


# Targets that leave the static directory once decoded (the router decodes path parameters).
# The HTTP client may normalise the plain '..' forms itself: tests/hostile/test_static.py sends
# these and more over raw sockets.
STATIC_ESCAPES = ["/static/%2e%2e/apitest_app.py", "/static/..%2fapitest_app.py",
                  "/static/sub%2f..%2f..%2fapitest_app.py", "/static/%2fetc%2fpasswd",
                  "/static/.%2findex.html", "/static/sub%2f%2e%2e%2findex.html",
                  "/static/index.html%00", "/static/index.html%00.png", "/static/..%5cx",
                  "/site/%2e%2e/apitest_app.py", "/site/%2e%2e%2f", "/site/%00"]


def test_static_files_refuse_traversal(api):
    for path in STATIC_ESCAPES:
        r = api.get(path)
        assert r.status_code == 404, (path, r.status_code, r.content[:60])
        assert b"The app every API test" not in r.content and b"root:" not in r.content
    assert api.get("/file?name=" + "tests/api/static/index.html%00").status_code == 404


def test_unserialisable_is_500(api):
    """MicroPython's json.dumps writes unknown objects with their repr; the app answers 500
    like on CPython, for JSONResponse and for plain return values."""
    for path in ("/unserialisable", "/unserialisable-list"):
        r = api.get(path)
        assert r.status_code == 500, (path, r.content[:80])
        assert r.json() == {"detail": "Internal Server Error"}
    r = api.get("/json-ok-with-markup")  # '<' and '(' inside strings are fine
    assert r.status_code == 200 and r.json() == {"html": "<b>(x)</b>", "t": [1, "<"]}


def test_json_body_surrogate_pairs(api):
    """MicroPython's json.loads keeps the halves of an escaped surrogate pair; Request.json()
    returns the real character, so the echo is valid UTF-8."""
    body = b'{"s": "\\ud83d\\ude00 \\u00e9", "lone": "\\ud83d", "esc": "\\\\ud83d"}'
    r = api.post("/items", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201
    r.content.decode("utf-8")  # strict: no CESU-8 surrogate halves
    got = r.json()
    assert got["s"] == "\U0001F600 \u00e9" and got["esc"] == "\\ud83d"
    assert got["lone"] in ("\ufffd", "\ud83d")  # MicroPython: U+FFFD; CPython keeps it


def test_trailing_slash_redirects(api):
    r = api.get("/todos/?x=1")
    assert r.status_code == 307 and r.headers["location"] == "/todos?x=1"
    r = api.head("/todos/")
    assert r.status_code == 307 and r.headers["location"] == "/todos"
    r = api.get("/dir")
    assert r.status_code == 307 and r.headers["location"] == "/dir/"
    assert api.get("/dir/").json() == {"dir": True}
    assert api.post("/todos/").status_code == 404  # only GET and HEAD are redirected
    assert api.get("/nothing/").status_code == 404


def test_json_scalars_are_json(api):
    for body, want in (("5", 5), ("true", True), ("-1.5", -1.5), ("null", None)):
        r = api.post("/json-echo", content=body)
        assert r.status_code == 200, body
        assert r.headers["content-type"] == "application/json" and r.json() == want, body
    r = api.post("/json-echo", content='"text"')
    assert r.status_code == 200 and r.text == "text"  # a str stays text/plain
    assert r.headers["content-type"].startswith("text/plain")


def test_non_finite_floats_are_500(api):
    for body in ('{"a": 1e999}', "[-1e999]", "1e999"):
        r = api.post("/json-echo", content=body)
        assert r.status_code == 500, (body, r.text)
        assert r.json() == {"detail": "Internal Server Error"}
    r = api.post("/json-echo", content='{"a": "inf", "b": "nan"}')
    assert r.status_code == 200 and r.json() == {"a": "inf", "b": "nan"}
