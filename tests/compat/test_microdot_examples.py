"""Microdot's example apps, unchanged, on the compat layer (check_microdot_examples.py does
the work). They are not in the PyPI sdist, so this runs only where a copy of Microdot's
examples/ directory is named by MICRODOT_EXAMPLES; the counts it holds are those listed in
docs/migrating-from-microdot.md ("Microdot's example apps")."""

import os

import pytest

import check_microdot_examples as examples

EXAMPLES = os.environ.get("MICRODOT_EXAMPLES")
pytestmark = pytest.mark.skipif(not (EXAMPLES and os.path.isdir(EXAMPLES)),
                                reason="MICRODOT_EXAMPLES (Microdot's examples/) not given")

# What does not run, and why (the guide's table).
ASGI_WSGI = {"hello/hello_asgi.py", "hello/hello_wsgi.py", "websocket/echo_asgi.py",
             "websocket/echo_wsgi.py", "templates/jinja/hello_asgi.py",
             "templates/jinja/hello_wsgi.py", "templates/utemplate/hello_asgi.py",
             "templates/utemplate/hello_wsgi.py"}
JINJA = {"templates/jinja/%s.py" % a for a in ("hello", "async_template", "streaming",
                                               "bootstrap")}
EXPECTED_NOT_OK = {
    "cpython": {"gpio/gpio.py", "tls/hello.py", "websocket/echo_wsgi.py"},
    "unix": {"tls/hello.py"} | ASGI_WSGI | JINJA,
}


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("interp", ["cpython", "unix", "unix-pure"])
def test_examples_run_unchanged(interp, request):
    binary = interp if interp == "cpython" else request.getfixturevalue(
        "unix_mfa" if interp == "unix" else "unix_pure")
    results = examples.run_all(EXAMPLES, binary)
    not_ok = {rel for rel, result in results if not result.startswith("ok:")}
    assert len(results) == 35, results
    assert not_ok == EXPECTED_NOT_OK["cpython" if interp == "cpython" else "unix"], results
