"""A representative part of the API suite (tests/api) inside the emulated firmwares (MFA_PICO_W and
MFA_PICO with _mfa, their -pure builds without), through the frozen package's shipped TestClient.

The cases are tests/api's own, not copies:
- test_api.py functions (routing, converters and their 422, JSON in and out, 404/405/500,
  HTTPException and custom handlers, middleware, CORS, return types, streaming) run on the host
  twice. First against a recording TestClient on CPython, which notes the raw request bytes
  each call builds; those bytes go to the chip in a few batches, where the frozen TestClient
  dispatches them through tests/api/apitest_app.py; then the same functions run again against
  a replaying client that hands them the chip's answers, so every assertion of the function
  checks what the chip answered.
- validation_cases.CASES (validation 422 shapes, defaults, status codes) run on the chip with
  validation_cases.run_all, checked on the host with validation_cases.same.
- GET /openapi.json of tests/api/openapi_app.py on the chip equals CPython's document.

Wall time: about 25 s for MFA_PICO and 35 s for MFA_PICO-pure on an idle machine (the emulated
RP2040 runs about 30x slower than real time; writing the three modules, as .mpy, to the chip's
flash takes a quarter of it).
"""
import binascii
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from tests.emu.emulator import Emulator

ROOT = pathlib.Path(__file__).resolve().parents[2]
API = ROOT / "tests" / "api"
for p in (str(API), str(ROOT / "python")):
    if p not in sys.path:
        sys.path.insert(0, p)

from microfastapi.testclient import TestClient  # noqa: E402
from microfastapi import testclient as _tc  # noqa: E402  (TestResponse: not a pytest class)
import test_api  # noqa: E402
from openapi_helpers import normalize  # noqa: E402
import validation_cases as vc  # noqa: E402

# The test_api.py functions that run on the chip (those needing the host's filesystem, a
# 20 KB body or the package's file path are left to the host backends).
CASES = [
    "test_root_json", "test_path_int_and_query", "test_converter_mismatch_is_422",
    "test_404_and_405", "test_static_route_beats_template", "test_path_converter_and_suffix",
    "test_post_json_and_async_handler", "test_invalid_json_is_422", "test_http_exception",
    "test_custom_exception_handler", "test_500_keeps_serving", "test_unserialisable_is_500",
    "test_json_body_surrogate_pairs", "test_router_prefix", "test_streaming_generator",
    "test_cors", "test_json_scalars_are_json", "test_non_finite_floats_are_500",
    "test_trailing_slash_redirects",
]
# validation_cases.CASES that run on the chip (the rest run on every host backend).
VALIDATION = [
    "query defaults", "query missing", "query wrong int", "query empty int",
    "query extra forbidden", "path + query both wrong", "body defaults", "body missing field",
    "body wrong types", "body invalid json", "nested errors", "optional body absent",
    "surrogate pair", "status 204",
]
FILES = ("apitest_app.py", "openapi_app.py", "validation_cases.py")
BATCH = 16  # requests per raw-REPL exchange

DEVICE_SETUP = """
import sys, json, binascii, gc
if '/apitest' not in sys.path:
    sys.path.append('/apitest')
from microfastapi.testclient import TestClient
def _go(reqs):
    for b in reqs:
        r = _C.send_raw(binascii.a2b_base64(b))
        print('@@' + json.dumps([r.status_code, r.header_list,
                                 binascii.b2a_base64(r.content).decode().strip(), r.chunked]))
"""


class Recorder(TestClient):
    """CPython TestClient that notes the raw bytes of every request."""

    def __init__(self, app):
        TestClient.__init__(self, app, cookies=False)
        self.sent = []

    def send_raw(self, buf):
        self.sent.append(bytes(buf))
        return TestClient.send_raw(self, buf)


class Replayer(TestClient):
    """Hands out the chip's answers, checking that the same requests come in the same order."""

    def __init__(self, app, sent, answers):
        TestClient.__init__(self, app, cookies=False)
        self.sent = sent
        self.answers = answers
        self.i = 0

    def send_raw(self, buf):
        assert bytes(buf) == self.sent[self.i], "the test built a different request"
        r = self.answers[self.i]
        self.i += 1
        return r


def _compiled(name, tmp):
    """(device file name, bytes): .mpy from mpy-cross when the build has it (no compiling on
    the chip), else the source."""
    src = API / name
    mc = pathlib.Path(os.environ.get("MFA_CACHE", ROOT / ".cache")) / "obj/mpy-cross/mpy-cross"
    if mc.exists():
        out = pathlib.Path(tmp) / (src.stem + ".mpy")
        if subprocess.run([str(mc), "-o", str(out), str(src)]).returncode == 0:
            return src.stem + ".mpy", out.read_bytes()
    return name, src.read_bytes()


def put_files(emu, names, tmp):
    emu.run("import os, binascii\ntry:\n    os.mkdir('/apitest')\nexcept OSError:\n    pass\n"
            "for _n in os.listdir('/apitest'):\n    os.remove('/apitest/' + _n)\n")
    for name in names:
        dev, data = _compiled(name, tmp)
        emu.run("with open('/apitest/%s', 'wb') as _f:\n    _f.write(binascii.a2b_base64(%r))"
                % (dev, binascii.b2a_base64(data, newline=False).decode()), timeout=120)


def fresh(emu):
    """A soft reset (an empty heap for the next test), then the device-side helpers."""
    emu.soft_reset()
    emu.run(DEVICE_SETUP)


def device_answers(emu, sent):
    out = []
    for i in range(0, len(sent), BATCH):
        batch = [binascii.b2a_base64(b, newline=False).decode() for b in sent[i:i + BATCH]]
        text = emu.run("_go(%r)" % batch, timeout=120)
        for line in text.splitlines():
            if line.startswith("@@"):
                st, hdrs, b64, chunked = json.loads(line[2:])
                out.append(_tc.TestResponse(st, [tuple(h) for h in hdrs],
                                        binascii.a2b_base64(b64), chunked))
    assert len(out) == len(sent), "the chip answered %d of %d requests" % (len(out), len(sent))
    return out


FIRMWARE = {"MFA_PICO": "firmware_mfa", "MFA_PICO-pure": "firmware_pure",
            "MFA_PICO_W": "firmware_w_mfa", "MFA_PICO_W-pure": "firmware_w_pure"}


@pytest.fixture(scope="module", params=list(FIRMWARE))
def chip(request, tmp_path_factory):
    """A booted emulator of its own (closed after its tests: an idle emulator still burns
    about half a core, which would slow the next firmware's run) with the files in flash.
    The Pico W images run on rp2040py's pico_w board with our WiFi bridge (no network needed
    here: the cases go through the shipped TestClient)."""
    fw = request.getfixturevalue(FIRMWARE[request.param])
    with Emulator(fw) as emu:
        put_files(emu, FILES, tmp_path_factory.mktemp("mpy"))
        emu.fw = request.param
        yield emu


def test_api_cases_on_chip(chip):
    import apitest_app
    t0 = time.time()
    fresh(chip)
    rec = Recorder(apitest_app.app)
    for name in CASES:
        getattr(test_api, name)(rec)  # on CPython: the cases pass here first
    chip.run("import apitest_app\n_C = TestClient(apitest_app.app, cookies=False)\n"
             "from microfastapi import backend\nprint(backend.describe())", timeout=120)
    answers = device_answers(chip, rec.sent)
    rep = Replayer(apitest_app.app, rec.sent, answers)
    failed = []
    for name in CASES:
        try:
            getattr(test_api, name)(rep)
        except AssertionError as e:
            failed.append("%s: %s" % (name, str(e)[:300]))
    assert rep.i == len(rec.sent)
    print("%s: %d cases, %d requests in %.1f s wall" % (chip.fw, len(CASES), len(rec.sent),
                                                         time.time() - t0))
    assert not failed, "\n".join(failed)
    # the right backend answered
    want = "server: _mfa, parser: _mfa" if not chip.fw.endswith("-pure") else "pure Python"
    assert want in chip.run("print(backend.describe())")


def test_openapi_and_validation_on_chip(chip):
    import openapi_app
    # the previous test's app out of the heap (cheaper than a soft reset and a new setup)
    chip.run("_C = None\nsys.modules.pop('apitest_app', None)\ngc.collect()")
    host_doc = TestClient(openapi_app.app).get("/openapi.json").json()
    out = chip.run("import openapi_app\n_r = TestClient(openapi_app.app).get('/openapi.json')\n"
                   "print('@@%d' % _r.status_code)\nprint('@@' + _r.content.decode())\n"
                   "del _r", timeout=120)
    lines = [ln[2:] for ln in out.splitlines() if ln.startswith("@@")]
    assert lines[0] == "200"
    assert normalize(json.loads(lines[1])) == normalize(host_doc)  # (dict order differs)
    out = chip.run("import validation_cases as vc\n"
                   "vc.CASES = [c for c in vc.CASES if c[0] in %r]\n"
                   "print('@@' + json.dumps(vc.run_all(TestClient(openapi_app.app))))"
                   % (VALIDATION,), timeout=300)
    results = json.loads([ln for ln in out.splitlines() if ln.startswith("@@")][0][2:])
    cases = [c for c in vc.CASES if c[0] in VALIDATION]
    assert len(results) == len(cases) == len(VALIDATION)
    bad = [(case[0], st, got) for (name, st, got), case in zip(results, cases)
           if not vc.same(st, got, case[5], case[6])]
    assert not bad, json.dumps(bad, indent=1)


def test_print_app_shows_slip_address(chip):
    """print(app) names the address of the active interface (the SLIP link), not 127.0.0.1,
    and looking does not bring an interface up. (The Pico W's WiFi address: tests/net.)"""
    if chip.fw.startswith("MFA_PICO_W"):
        # WiFi not joined: the loopback address, and the radio left off.
        out = chip.run(
            "import network\nfrom microfastapi import MicroFastApi\n_a = MicroFastApi(title='t')\n"
            "_a.host, _a.port, _a.backend = '0.0.0.0', 80, 'x'\n"
            "print(_a.url(), network.WLAN(network.STA_IF).active())\ndel _a\n")
        assert out.strip() == "http://127.0.0.1/ False"
        return
    out = chip.run(
        "import network\nfrom microfastapi import MicroFastApi\n_a = MicroFastApi(title='t')\n"
        "_a.host, _a.port, _a.backend = '0.0.0.0', 80, 'x'\n"
        "print(_a.url(), network.SLIP().active())\n"
        "network.SLIP('192.168.7.2', '255.255.255.0', '192.168.7.1')\n"
        "print(_a.url())\nprint(_a)\nnetwork.SLIP().active(False)\ndel _a\n")
    lines = out.strip().splitlines()
    assert lines[0] == "http://127.0.0.1/ False"
    assert lines[1] == "http://192.168.7.2/"
    assert "http://192.168.7.2/" in lines[2]
