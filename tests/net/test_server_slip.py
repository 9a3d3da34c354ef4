"""_mfa.Server with the lwIP transport, on MFA_PICO firmware in the emulator, over the SLIP link.

A representative part of tests/net/test_server_unix.py (emulated time is slow): keep-alive,
pipelining, a POST body, a parse error, HEAD and a streamed response, with curl and raw sockets
from inside the test's network namespace.
"""
import json

APP = """
import _mfa
srv = _mfa.Server("0.0.0.0", 80, max_conns=4)
print("listening")
J = [("Content-Type", "application/json")]
srv.add_constant("/k", ("GET", "HEAD"), 200, J, '{"k": 1}')  # answered inside poll(), in C
while True:
    r = srv.poll()
    if r is None:
        srv.wait(100)
        continue
    if r.path == "/stream":
        srv.stream_start(r, 200, [])
        for i in range(5):
            while not srv.stream_send(r, b"z" * 500):
                srv.poll(); srv.wait(5)
        srv.stream_end(r)
    elif r.path == "/stats":
        srv.respond(r, 200, J, repr(srv.stats()).replace("'", '"'))
    else:
        srv.respond(r, 200, J, '{"m": "%s", "p": "%s", "n": %d, "c": "%s"}'
                    % (r.method, r.path, len(r.body), r.client[0]))
"""

CLIENT = r"""
import json, socket
from tests.support import read_to_eof as read_all
def conn():
    return socket.create_connection(({addr!r}, 80), timeout=60)
res = {{}}
s = conn()
s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
          b"HEAD /c HTTP/1.1\r\nHost: x\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
res["pipelined"] = read_all(s).decode()
s.close()
s = conn()
s.sendall(b"GET / HTTP/1.1\r\n\r\n")
res["error"] = read_all(s).decode()
s.close()
s = conn()
s.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
res["stream"] = read_all(s).decode()
s.close()
s = conn()
s.sendall(b"GET /k HTTP/1.1\r\nHost: x\r\n\r\nHEAD /k HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
          b"GET /k?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
res["constant"] = read_all(s).decode()
s.close()
print(json.dumps(res))
"""


def test_mfa_server_over_slip(slip_pico):
    slip_pico.start_app(APP, ready="listening")
    cp = slip_pico.ns.python(CLIENT.format(addr=slip_pico.addr), timeout=120)
    assert cp.returncode == 0, cp.stderr
    out = cp.stdout
    res = json.loads(out.strip().splitlines()[-1])
    p = res["pipelined"]
    assert p.count("HTTP/1.1 200 OK") == 4
    assert p.index('"p": "/a"') < p.index('"p": "/b", "n": 5') < p.index('"p": "/d"')
    assert "192.168.7.1" in p
    assert res["error"].startswith("HTTP/1.1 400 Bad Request\r\n")
    assert "missing Host header" in res["error"]
    assert "Transfer-Encoding: chunked" in res["stream"]
    assert res["stream"].count("z" * 500) == 5 and res["stream"].endswith("0\r\n\r\n")
    # A constant route (Server.add_constant) on lwIP: GET, HEAD (headers only), a request for
    # the app between them, the query ignored, keep-alive until the client's close.
    k = res["constant"]
    one = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n'
    assert k.startswith(one + '{"k": 1}' + one + "HTTP/1.1 200 OK\r\n"), k
    last = k.rsplit("HTTP/1.1 ", 1)[1]
    assert '"p": "/a"' in k and k.count('{"k": 1}') == 2, k
    assert "Connection: close\r\n" in last and last.endswith('\r\n\r\n{"k": 1}'), k
