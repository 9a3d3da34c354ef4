"""Issue 19 on the emulated board over SLIP (MFA_PICO: _mfa.Server on lwIP; MFA_PICO-pure:
pyserver on lwIP sockets), with the frozen microfastapi and MicroPython's own asyncio: a handler
that awaits another request, a client that goes away during an awaiting handler, a stream that
fails, a stream whose async iterator awaits. Checks are by order of events, not by time (the
chip's clock is simulated and runs ahead while it idles)."""
import json

import pytest

APP = """
import asyncio
from microfastapi import MicroFastApi, StreamingResponse
app = MicroFastApi()
state = {"cancelled": 0, "running": 0}
ev = asyncio.Event()

@app.get("/wait")
async def wait(req):
    await ev.wait()
    return {"waited": True}

@app.get("/set")
def set_(req):
    ev.set()
    return {"set": True}

@app.get("/hang")
async def hang(req):
    state["running"] += 1
    try:
        await asyncio.sleep(600)
    except asyncio.CancelledError:
        state["cancelled"] += 1
        raise
    finally:
        state["running"] -= 1

@app.get("/state")
def st(req):
    d = dict(state)
    d["tasks"] = len(app._tasks)
    d["connections"] = app.server.stats()["connections"]
    return d

@app.get("/boom")
def boom(req):
    def gen():
        yield "one\\n"
        yield "two\\n"
        raise ValueError("generator failed")
    return StreamingResponse(gen())

class Ticks:
    def __init__(self):
        self.n = 3
    def __aiter__(self):
        return self
    async def __anext__(self):
        if self.n == 0:
            raise StopAsyncIteration
        self.n -= 1
        await asyncio.sleep_ms(20)
        return "tick %d\\n" % self.n

@app.get("/ticks")
def ticks(req):
    return StreamingResponse(Ticks())

app.run(port=80)
"""

CLIENT = r"""
import json, socket, struct, time
from tests.support import read_until_closed as read_all
A = {addr!r}
def conn():
    return socket.create_connection((A, 80), timeout=60)
def get(path):
    s = conn()
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    d, _ = read_all(s)
    s.close()
    return d.split(b"\r\n\r\n", 1)[1]
res = {{}}
w = conn()
w.sendall(b"GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
time.sleep(0.5)
res["set"] = get("/set").decode()
res["wait"] = read_all(w)[0].decode()
w.close()
h = conn()
h.sendall(b"GET /hang HTTP/1.1\r\nHost: x\r\n\r\n")
for i in range(100):
    if json.loads(get("/state"))["running"] == 1:
        break
    time.sleep(0.1)
h.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
h.close()
for i in range(100):
    st = json.loads(get("/state"))
    if st["cancelled"] == 1 and st["tasks"] == 0:
        break
    time.sleep(0.1)
res["state"] = st
b = conn()
b.sendall(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
d, how = read_all(b)
b.close()
res["boom"], res["boom_end"] = d.decode(), how
res["ticks"] = get("/ticks").decode()
print(json.dumps(res))
"""


@pytest.mark.parametrize("fw", ["mfa", "pure"])
def test_concurrency_on_chip(request, fw):
    pico = request.getfixturevalue("slip_pico" if fw == "mfa" else "slip_pico_pure")
    pico.start_app(APP, ready="http://", timeout=120)
    cp = pico.ns.python(CLIENT.format(addr=pico.addr), timeout=300)
    out = pico.emu.output()
    assert cp.returncode == 0, cp.stderr + out[-3000:]
    res = json.loads(cp.stdout.strip().splitlines()[-1])
    assert res["set"] == '{"set": true}'
    assert res["wait"].startswith("HTTP/1.1 200 OK") and res["wait"].endswith('{"waited": true}')
    st = res["state"]
    assert st["cancelled"] == 1 and st["running"] == 0 and st["tasks"] == 0, st
    assert "GET /hang: client 192.168.7.1:" in out and "handler cancelled" in out
    boom = res["boom"]
    assert "Transfer-Encoding: chunked" in boom and "one\n" in boom and "two\n" in boom
    assert not boom.endswith("0\r\n\r\n") and res["boom_end"] in ("reset", "closed")
    assert out.count("GET /boom: stream failed after 2 chunks: ValueError: generator failed") == 1
    assert res["ticks"] == "".join("7\r\ntick %d\n\r\n" % i for i in (2, 1, 0)) + "0\r\n\r\n"
