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


def curl(pico, *args, max_time=120):
    """curl with `args` inside the chip's namespace: (status, body)."""
    r = pico.ns.run(["curl", "-sS", "--max-time", str(max_time), "-w", "\\n%{http_code}"]
                    + list(args), timeout=max_time + 60)
    assert r.returncode == 0, r.stderr + "\nchip output:\n" + pico.emu.output()
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def check_app(pico, name, max_time=120):
    """APP, started on `pico`, answers its two routes and a 404 (its /hello/`name`)."""
    code, body = curl(pico, pico.url("/hello/%s?q=1" % name), max_time=max_time)
    assert code == 200 and json.loads(body) == {"hello": name, "q": "1"}, body
    code, body = curl(pico, "-X", "POST", "-H", "Content-Type: application/json",
                      "--data", '{"a": [1, 2]}', pico.url("/echo"), max_time=max_time)
    assert code == 200 and json.loads(body) == {"a": [1, 2]}, body
    code, body = curl(pico, pico.url("/nope"), max_time=max_time)
    assert code == 404 and json.loads(body) == {"detail": "Not Found"}


@pytest.mark.parametrize("fixture", ["slip_pico", "slip_pico_pure"])
def test_app_over_slip(fixture, request):
    pico = request.getfixturevalue(fixture)
    banner = pico.start_app(APP, ready="http://")
    check_app(pico, "pico")
    print("\n" + banner.strip())
