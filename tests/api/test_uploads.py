"""Streamed request bodies and multipart uploads (issue 14) with real clients: curl -F,
python requests (files=) and raw sockets, against python/examples/uploads.py (through
tests/api/uploads_app.py) on the unix `_mfa` build, the unix pure build and CPython. The files
that land in the upload directory are compared with the originals byte for byte."""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import time

import pytest
import requests

from api_util import HERE, HTTP_BACKENDS, ROOT, app_argv, free_port, spawn, stop, unix_binary

EXAMPLES = ROOT / "python" / "examples"

# Content that a sloppy scanner gets wrong: CRLFs, dashes, the boundary's start without its
# CRLF, a CR at the end, and every byte value.
NASTY = (b"\r\n--\r\n----------------------------\r\n--mfa\r\n\r\n--" + bytes(range(256)) * 4
         + b"\r\n------WebKitFormBoundary\r\n\r")


class UploadServer:
    def __init__(self, name, request, tmp):
        self.dir = tmp / ("up-" + name)
        self.dir.mkdir()
        argv, env = app_argv(name, HERE / "uploads_app.py", unix_binary(request, name),
                             [HERE, EXAMPLES])
        env["UPLOAD_DIR"] = str(self.dir)
        self.port = free_port()
        self.proc = spawn(name, argv + [str(self.port)], env, self.port)
        self.url = "http://127.0.0.1:%d" % self.port

    def files(self):
        """{name: content} of the upload directory. A file the server removes between the
        listing and the read (a partial file being cleaned up) is not in it."""
        out = {}
        for p in self.dir.iterdir():
            try:
                out[p.name] = p.read_bytes()
            except FileNotFoundError:
                pass
        return out

    def clear(self):
        for p in self.dir.iterdir():
            p.unlink()


@pytest.fixture(scope="module", params=HTTP_BACKENDS)
def up(request, tmp_path_factory):
    s = UploadServer(request.param, request, tmp_path_factory.mktemp("uploads"))
    yield s
    stop(s.proc)


@pytest.fixture
def srv(up):
    up.clear()
    yield up
    assert requests.get(up.url + "/spool", timeout=5).json() == []  # no spool file left


def sha(b):
    return hashlib.sha256(b).hexdigest()


def test_curl_form_upload_byte_identical(srv, tmp_path):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    a = tmp_path / "nasty.bin"
    a.write_bytes(NASTY * 50)
    b = tmp_path / "photo.jpg"
    b.write_bytes(os.urandom(200_000))
    out = subprocess.run([curl, "-sS", "-F", "file=@%s" % a, "-F", "file=@%s" % b,
                          "-F", "note=ignored", srv.url + "/upload"],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    saved = json.loads(out.stdout)["saved"]
    assert saved == [{"name": "nasty.bin", "size": len(NASTY) * 50},
                     {"name": "photo.jpg", "size": 200_000}]
    files = srv.files()
    assert sha(files["nasty.bin"]) == sha(a.read_bytes())
    assert sha(files["photo.jpg"]) == sha(b.read_bytes())
    # and back through StaticFiles
    r = requests.get(srv.url + "/files/photo.jpg", timeout=10)
    assert r.status_code == 200 and sha(r.content) == sha(b.read_bytes())
    assert [f["name"] for f in requests.get(srv.url + "/list", timeout=5).json()] == \
        ["nasty.bin", "photo.jpg"]


def test_requests_files_on_the_declared_route(srv):
    data = os.urandom(70_000) + NASTY
    r = requests.post(srv.url + "/api/files", files={"file": ("report.pdf", data,
                                                             "application/pdf")},
                      data={"name": "kept.pdf"}, timeout=30)
    assert r.status_code == 201, r.text
    assert r.json() == {"name": "kept.pdf", "size": len(data),
                        "content_type": "application/pdf"}
    assert sha(srv.files()["kept.pdf"]) == sha(data)
    # the declarations answer 422 for a missing file, as FastAPI
    r = requests.post(srv.url + "/api/files", data={"name": "x"}, timeout=10)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "file"]


def test_large_upload_streams_in_bounded_pieces(srv):
    data = os.urandom(1 << 20)
    r = requests.post(srv.url + "/upload", files={"file": ("big.bin", data)}, timeout=60)
    assert r.status_code == 200
    assert sha(srv.files()["big.bin"]) == sha(data)
    r = requests.post(srv.url + "/count", data=data[:300_000], timeout=60)
    assert r.json()["len"] == 300_000 and r.json()["sum"] == sum(data[:300_000]) & 0xFFFFFFFF
    # pieces lent from the connection's input buffer (4,608 bytes: MFA_CONN_IN_BUF, pyserver's
    # _RAW_IN), never the body
    assert 0 < r.json()["most"] <= 4608
    r = requests.post(srv.url + "/count?size=1000", data=data[:300_000], timeout=60)
    assert r.json()["len"] == 300_000 and r.json()["sum"] == sum(data[:300_000]) & 0xFFFFFFFF
    assert 0 < r.json()["most"] <= 1000  # req.stream(size): copied into its own buffer
    # chunked transfer-encoding, decoded on the way
    r = requests.post(srv.url + "/count", data=iter([data[:1000], data[1000:9000]]), timeout=30)
    assert r.json()["len"] == 9000 and r.json()["sum"] == sum(data[:9000]) & 0xFFFFFFFF


def test_buffered_form_route(srv):
    r = requests.post(srv.url + "/fields", data={"a": "1", "b": "é"}, timeout=10)
    assert r.json() == {"a": "1", "b": "é"}
    r = requests.post(srv.url + "/fields", data={"a": "1"},
                      files={"f": ("t.txt", b"hello", "text/plain")}, timeout=10)
    assert r.json() == {"a": "1", "f": {"filename": "t.txt", "size": 5,
                                        "content_type": "text/plain"}}
    r = requests.post(srv.url + "/fields", files={"f": ("t.txt", b"x" * 5000)}, timeout=10)
    assert r.status_code == 413  # the route's max_body


def _raw(srv, body, ctype=b"multipart/form-data; boundary=XyZ", length=None, pieces=None):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)  # (a loaded machine)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
              b"\r\n" % (ctype, len(body) if length is None else length))
    if pieces:
        for i in range(0, len(body), pieces):
            s.sendall(body[i:i + pieces])
    else:
        s.sendall(body)
    return s


def _answer(s):
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not d:
            break
        out += d
        if b"\r\n\r\n" in out:
            head, _, rest = out.partition(b"\r\n\r\n")
            n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                 if l.lower().startswith(b"content-length:")]
            if n and len(rest) >= n[0]:
                break
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split()[1]) if head else None, body


def _part(name, filename, content):
    return (b'--XyZ\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
            b'Content-Type: application/octet-stream\r\n\r\n%s\r\n' % (name, filename, content))


def test_boundary_split_at_every_byte(srv):
    body = _part(b"file", b"split.bin", NASTY) + b"--XyZ--\r\n"
    status, _ = _answer(_raw(srv, body, pieces=1))
    assert status == 200
    assert srv.files()["split.bin"] == NASTY


@pytest.mark.parametrize("body,ctype,status,says", [
    (b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nabc",
     None, 400, b"missing final boundary"),
    (b"whatever", b"multipart/form-data", 400, b"no boundary"),
    (b"--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--\r\n", None, 400, b"bad part headers"),
    (b"".join(b'--XyZ\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i
              for i in range(10000)) + b"--XyZ--\r\n", None, 413,
     b"too many parts"),
], ids=["unterminated", "no-boundary", "bad-headers", "10000-parts"])
def test_malformed_bodies_named(srv, body, ctype, status, says):
    got, text = _answer(_raw(srv, body, ctype or b"multipart/form-data; boundary=XyZ"))
    assert got == status and says in text, text
    assert srv.files() == {}  # a file begun and cut short is removed
    assert requests.get(srv.url + "/list", timeout=5).status_code == 200


def test_body_that_never_ends_and_client_gone_mid_part(srv):
    head = _part(b"file", b"stall.bin", b"")[:-2]  # the part's content follows
    s = _raw(srv, head + b"x" * 5000, length=1 << 20)
    status, text = _answer(s)
    assert status == 408, text  # (the server's own answer: body_timeout_ms, 1.5 s here)
    s = _raw(srv, head + b"y" * 20000, length=1 << 20)
    time.sleep(0.3)
    s.close()  # mid-part
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and srv.files():
        time.sleep(0.1)
    assert list(srv.files()) == []  # partial files are removed
    assert requests.get(srv.url + "/list", timeout=5).json() == []
