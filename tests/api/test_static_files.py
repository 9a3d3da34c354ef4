"""StaticFiles done right (issue 16) over real HTTP on the three servers ("cpython",
"unix-pure", "unix"): a Content-Length (not chunked) for a 200 KB file, ETag / Last-Modified
revalidation (304) with If-None-Match and If-Modified-Since, HEAD, Range 206 / 416, a
precompressed name.gz with and without Accept-Encoding, traversal still 404; with python
requests, curl and raw sockets. The browser's side: test_static_browser.py."""
import gzip
import os
import shutil
import socket
import subprocess

import pytest
import requests

from api_util import HERE, HTTP_BACKENDS, app_argv, free_port, spawn, stop, unix_binary

BIG = bytes(range(256)) * 800  # 204,800 bytes
CSS = b"body { color: #333; }\n" * 200


@pytest.fixture(scope="module")
def www(tmp_path_factory):
    d = tmp_path_factory.mktemp("www")
    (d / "big.bin").write_bytes(BIG)
    (d / "site.css").write_bytes(CSS)
    (d / "site.css.gz").write_bytes(gzip.compress(CSS))
    (d / "index.html").write_bytes(b"<html><body>hi</body></html>")
    (d / "sub").mkdir()
    (d / "sub" / "a.txt").write_bytes(b"A")
    (d / ".secret").write_bytes(b"no")
    return d


@pytest.fixture(scope="module", params=HTTP_BACKENDS)
def srv(request, www):
    argv, env = app_argv(request.param, HERE / "static_app.py",
                         unix_binary(request, request.param), [HERE])
    env["STATIC_DIR"] = str(www)
    port = free_port()
    proc = spawn(request.param, argv + [str(port)], env, port)
    yield "http://127.0.0.1:%d" % port, port
    stop(proc)


def get(srv, path, **headers):
    return requests.get(srv[0] + path, headers=headers, timeout=10)


def test_content_length_not_chunked_and_keep_alive(srv):
    with requests.Session() as s:
        for _ in range(2):  # the second on the same connection: kept alive after the body
            r = s.get(srv[0] + "/s/big.bin", timeout=10)
            assert r.status_code == 200 and r.content == BIG
            assert r.headers["Content-Length"] == str(len(BIG))
            assert "Transfer-Encoding" not in r.headers
            assert r.headers["Accept-Ranges"] == "bytes"
            assert r.headers["Cache-Control"] == "no-cache"
            assert r.headers["Content-Type"] == "application/octet-stream"
    # HTTP/1.0 gets the length too (no close-delimited body)
    s = socket.create_connection(("127.0.0.1", srv[1]), timeout=5)
    s.sendall(b"GET /s/sub/a.txt HTTP/1.0\r\n\r\n")
    out = b""
    while True:
        x = s.recv(65536)
        if not x:
            break
        out += x
    s.close()
    assert out.startswith(b"HTTP/1.1 200") and b"Content-Length: 1\r\n" in out
    assert out.endswith(b"\r\n\r\nA")


def test_revalidation_304(srv):
    r = get(srv, "/s/big.bin")
    etag, lm = r.headers["ETag"], r.headers["Last-Modified"]
    assert etag.startswith('"') and lm.endswith(" GMT")
    for h in ({"If-None-Match": etag}, {"If-None-Match": "W/" + etag},
              {"If-None-Match": '"x", ' + etag}, {"If-None-Match": "*"},
              {"If-Modified-Since": lm},
              {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}):
        r = get(srv, "/s/big.bin", **h)
        assert r.status_code == 304 and r.content == b"", h
        assert r.headers["ETag"] == etag and r.headers["Cache-Control"] == "no-cache"
        assert "Content-Length" not in r.headers and "Transfer-Encoding" not in r.headers
    for h in ({"If-None-Match": '"other"'}, {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
              {"If-Modified-Since": "not a date"},
              # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
              {"If-None-Match": '"other"', "If-Modified-Since": lm}):
        r = get(srv, "/s/big.bin", **h)
        assert r.status_code == 200 and r.content == BIG, h


def test_head(srv):
    r = requests.head(srv[0] + "/s/big.bin", timeout=10)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Length"] == str(len(BIG)) and "ETag" in r.headers
    r = requests.head(srv[0] + "/s/site.css", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Content-Length"] == str(len(gzip.compress(CSS)))


def test_range(srv):
    for rng, part in (("bytes=0-99", BIG[:100]), ("bytes=1000-", BIG[1000:]),
                      ("bytes=-500", BIG[-500:]), ("bytes=204000-999999", BIG[204000:])):
        r = get(srv, "/s/big.bin", Range=rng)
        assert r.status_code == 206 and r.content == part, rng
        start = len(BIG) - len(part) if rng.startswith("bytes=-") else int(rng[6:].split("-")[0])
        assert r.headers["Content-Range"] == "bytes %d-%d/%d" % (start, start + len(part) - 1,
                                                                len(BIG))
        assert r.headers["Content-Length"] == str(len(part))
    r = get(srv, "/s/big.bin", Range="bytes=204800-")
    assert r.status_code == 416 and r.headers["Content-Range"] == "bytes */204800"
    # several ranges, or a malformed one: the whole file
    for rng in ("bytes=0-1,5-6", "bytes=5-1", "items=0-1"):
        r = get(srv, "/s/big.bin", Range=rng)
        assert r.status_code == 200 and r.content == BIG, rng
    # If-Range: the current ETag keeps the range, another one gets the whole file
    etag = get(srv, "/s/big.bin").headers["ETag"]
    assert get(srv, "/s/big.bin", Range="bytes=0-9", **{"If-Range": etag}).status_code == 206
    r = get(srv, "/s/big.bin", Range="bytes=0-9", **{"If-Range": '"old"'})
    assert r.status_code == 200 and len(r.content) == len(BIG)


def test_gzip_variant(srv):
    r = get(srv, "/s/site.css", **{"Accept-Encoding": "gzip, deflate"})
    assert r.status_code == 200 and r.content == CSS  # (requests decodes it)
    assert r.headers["Content-Encoding"] == "gzip" and r.headers["Vary"] == "Accept-Encoding"
    assert r.headers["Content-Type"] == "text/css"
    gz_etag = r.headers["ETag"]
    assert get(srv, "/s/site.css", **{"Accept-Encoding": "gzip",
                                      "If-None-Match": gz_etag}).status_code == 304
    for ae in ("identity", "gzip;q=0", "br"):
        r = get(srv, "/s/site.css", **{"Accept-Encoding": ae})
        assert r.status_code == 200 and r.content == CSS, ae
        assert "Content-Encoding" not in r.headers and r.headers["Vary"] == "Accept-Encoding"
        assert r.headers["ETag"] != gz_etag
    # a Range is served from the uncompressed file
    r = get(srv, "/s/site.css", Range="bytes=0-3", **{"Accept-Encoding": "gzip"})
    assert r.status_code == 206 and r.content == CSS[:4] and "Content-Encoding" not in r.headers


def test_traversal_still_404(srv):
    for p in ("/s/../static_app.py", "/s/%2e%2e/static_app.py", "/s/..%2fstatic_app.py",
              "/s/.secret", "/s/sub/../.secret", "/s//etc/passwd", "/s/%2Fetc%2Fpasswd",
              "/s/sub%5c..%5c.secret", "/s/a%00.txt", "/s/missing.txt", "/s/site.css/"):
        r = get(srv, p)
        assert r.status_code == 404, p
    r = get(srv, "/s/.secret", Range="bytes=0-1", **{"If-None-Match": "*"})
    assert r.status_code == 404


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl(srv, tmp_path):
    url = srv[0] + "/s/big.bin"
    out = tmp_path / "big.bin"

    def curl(*args):
        p = subprocess.run(["curl", "-sS", "-D", "-", "-o", str(out)] + list(args) + [url],
                           capture_output=True, timeout=20, text=True)
        assert p.returncode == 0, p.stderr
        return p.stdout.lower()
    head = curl()
    assert head.startswith("http/1.1 200") and "content-length: 204800" in head
    assert out.read_bytes() == BIG
    etag = [ln.split(": ", 1)[1].strip() for ln in head.splitlines()
            if ln.startswith("etag:")][0]
    assert curl("-H", "If-None-Match: " + etag).startswith("http/1.1 304")
    # curl -z: If-Modified-Since from the file's own mtime (set to the server's Last-Modified)
    lm = get(srv, "/s/big.bin").headers["Last-Modified"]
    assert curl("-H", "If-Modified-Since: " + lm).startswith("http/1.1 304")
    head = curl("-r", "100-199")
    assert head.startswith("http/1.1 206") and out.read_bytes() == BIG[100:200]
    curl("--compressed")
    assert out.read_bytes() == BIG
    p = subprocess.run(["curl", "-sS", "--compressed", "-D", "-", "-o", str(out),
                        srv[0] + "/s/site.css"], capture_output=True, timeout=20, text=True)
    assert "content-encoding: gzip" in p.stdout.lower() and out.read_bytes() == CSS
    p = subprocess.run(["curl", "-sS", "-D", "-", "-o", str(out), srv[0] + "/s/site.css"],
                       capture_output=True, timeout=20, text=True)
    assert "content-encoding" not in p.stdout.lower() and out.read_bytes() == CSS
    p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                        "--path-as-is", srv[0] + "/s/../static_app.py"],
                       capture_output=True, timeout=20, text=True)
    assert p.stdout == "404"


def test_http_dates_against_the_stdlib():
    """response.http_date (arithmetic, no gmtime/strftime: the same code runs on the board)
    against email.utils, and staticfiles.parse_http_date's three forms."""
    import email.utils
    import random
    from microfastapi.response import http_date
    from microfastapi.staticfiles import parse_http_date
    rnd = random.Random(16)
    for t in [0, 86399, 86400, 951782400, 4107542399] + [rnd.randrange(0, 1 << 33)
                                                          for _ in range(2000)]:
        d = http_date(t)
        assert d == email.utils.formatdate(t, usegmt=True), t
        assert parse_http_date(d) == t
    t = 784111777  # RFC 9110 5.6.7's example
    for s in ("Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
              "Sun Nov  6 08:49:37 1994"):
        assert parse_http_date(s) == t, s
    for s in ("", "yesterday", "Sun, 06 Nov 1994", "06 Foo 1994 08:49:37 GMT"):
        assert parse_http_date(s) is None, s


@pytest.mark.parametrize("backend", ["unix-pure", "unix"])
def test_http_date_on_micropython_matches_gmtime(request, backend):
    code = ("import time\nfrom microfastapi.response import http_date, MONTHS\n"
            "for t in (0, 951782400, 1796176089, 2147483647, 4107542399):\n"
            "    g = time.gmtime(t)\n"
            "    assert http_date(t)[5:] == '%02d %s %04d %02d:%02d:%02d GMT' % "
            "(g[2], MONTHS[g[1] - 1], g[0], g[3], g[4], g[5]), t\n"
            "print('ok')\n")
    argv, env = app_argv(backend, "-c", unix_binary(request, backend))
    argv = [argv[0], "-c", code]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert p.stdout.strip() == "ok", p.stdout + p.stderr
