"""Static file serving must refuse path traversal: `..`, its percent-encoded forms, encoded
slashes, absolute paths and NUL bytes must never reach a file outside the static root.

The test app mounts microfastapi.staticfiles.StaticFiles(directory=STATIC_ROOT) at /static.
/naive/{path:path} is a user route without the helper (FileResponse(STATIC_ROOT + "/" + path)):
traversal is the user's problem there, but FileResponse itself refuses NUL.
"""
import pytest

SECRET = b"TOP-SECRET-OUTSIDE-STATIC"

TRAVERSALS = [
    "/static/../secret.txt",
    "/static/sub/../../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/.%2e/secret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/sub%2f..%2f..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/%252e%252e/secret.txt",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/../../../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/../secret.txt%00.html",
    "/static/index.html%00",
    "/static/%00",
]


def _get(srv, path):
    status, headers, body = srv.get(path)
    return status, body


def test_static_serves_files(server):
    status, body = _get(server, "/static/index.html")
    assert status == 200 and body == b"<h1>index</h1>\n"
    status, body = _get(server, "/static/sub/a.txt")
    assert status == 200 and body == b"sub\n"
    assert _get(server, "/static/missing.txt")[0] == 404


def test_static_refuses_traversal(server):
    bad = []
    for path in TRAVERSALS:
        status, body = _get(server, path)
        if SECRET in body or b"root:" in body or status not in (400, 403, 404):
            bad.append("%s -> %d %r" % (path, status, body[:40]))
    assert server.alive()
    assert not bad, "\n".join(bad)


def test_static_content_type_and_head(server):
    status, headers, body = server.get("/static/index.html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert server.get("/static/sub/a.txt")[1]["content-type"].startswith("text/plain")
    data, end = server.exchange(b"HEAD /static/sub/a.txt HTTP/1.1\r\nHost: t\r\n"
                                b"Connection: close\r\n\r\n", half_close=False)
    assert data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\n"), data
    for path in ("/static/sub", "/static/sub/", "/static/index.html/"):
        assert server.get(path)[0] == 404, path  # directories need html=True


def test_file_response_refuses_nul(server):
    """FileResponse on its own: a decoded NUL never reaches the filesystem (MicroPython's
    open() would cut the path at the NUL and serve index.html)."""
    assert server.get("/naive/index.html")[0] == 200
    for path in ("/naive/index.html%00", "/naive/index.html%00.png"):
        status, headers, body = server.get(path)
        assert status == 404 and b"<h1>" not in body, (path, status, body)
    assert server.alive()


def test_nul_and_traversal_in_raw_target_rejected_by_parser(server):
    """Raw NUL, backslash-free controls and non-ASCII in the target never reach the router."""
    for raw in (b"GET /static/index.html\x00.png HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET /static/\xc0\xae\xc0\xae/secret.txt HTTP/1.1\r\nHost: t\r\n\r\n"):
        data, end = server.exchange(raw)
        assert data.startswith(b"HTTP/1.1 400 "), data[:60]
        assert SECRET not in data
