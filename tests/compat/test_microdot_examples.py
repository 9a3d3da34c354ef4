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
# On MicroPython: the two whose __main__ only says to use a CPython server (the Jinja apps run
# there over minijinja)
PRINT_ONLY = {"hello/hello_asgi.py", "hello/hello_wsgi.py"}
EXPECTED_NOT_OK = {
    "cpython": {"gpio/gpio.py", "tls/hello.py", "websocket/echo_wsgi.py"},
    "unix": {"tls/hello.py"} | PRINT_ONLY,
}


@pytest.mark.timeout(1800)
def test_examples_run_unchanged(unix_mfa, unix_pure):
    # one test, the interpreters one after the other: the apps listen on fixed ports (5000...)
    for interp in ("cpython", unix_mfa, unix_pure):
        results = examples.run_all(EXAMPLES, interp)
        not_ok = {rel for rel, result in results if not result.startswith("ok:")}
        assert len(results) == 35, results
        assert not_ok == EXPECTED_NOT_OK["cpython" if interp == "cpython" else "unix"], (
            interp, [r for r in results if not r[1].startswith("ok:")])
