"""A microfastapi app on the emulated chip, reached with curl over the SLIP link: the template for
end-to-end tests against firmware (see tests/net/conftest.py for the fixtures)."""
import json

import pytest

APP = """
from microfastapi import MicroFastApi
app = MicroFastApi()

@app.get("/hello/{name}")
def hello(req, name):
    return {"hello": name, "q": req.query.get("q")}

@app.post("/echo")
def echo(req):
    return req.json()

app.run(port=80)
"""


def _curl(pico, *args):
    r = pico.ns.run(["curl", "-sS", "--max-time", "120", "-w", "\\n%{http_code}"] + list(args),
                    timeout=180)
    assert r.returncode == 0, r.stderr + "\nchip output:\n" + pico.emu.output()
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


@pytest.mark.parametrize("fixture", ["slip_pico", "slip_pico_pure"])
def test_app_over_slip(fixture, request):
    pico = request.getfixturevalue(fixture)
    banner = pico.start_app(APP, ready="http://")
    code, body = _curl(pico, pico.url("/hello/pico?q=1"))
    assert code == 200 and json.loads(body) == {"hello": "pico", "q": "1"}, body
    code, body = _curl(pico, "-X", "POST", "-H", "Content-Type: application/json",
                       "--data", '{"a": [1, 2]}', pico.url("/echo"))
    assert code == 200 and json.loads(body) == {"a": [1, 2]}, body
    code, body = _curl(pico, pico.url("/nope"))
    assert code == 404 and json.loads(body) == {"detail": "Not Found"}
    print("\n" + banner.strip())
