"""Microdot 2.7.0's own unittest suite against microfastapi.compat.microdot (issue 20), on
CPython and on both unix builds. run_microdot_suite.py fetches, runs and counts; here the
counts are held to what the compat layer reached, so a regression fails. Every failing test
and its reason: docs/migrating-from-microdot.md ("What Microdot's test suite says")."""

import pytest

import run_microdot_suite as suite

# The tests that fail, on every interpreter, each a documented difference or a missing piece
# (docs/migrating-from-microdot.md).
KNOWN_FAILURES = {
    ("test_sse", "TestWebSocket.test_sse_exception"),       # a stream error resets the connection
    ("test_websocket", "TestWebSocket.test_websocket_echo"),  # no microdot.websocket yet
    ("test_websocket", "TestWebSocket.test_websocket_large_message"),
    ("test_websocket", "TestWebSocket.test_bad_websocket_request"),
    ("test_websocket", "TestWebSocket.test_process_websocket_frame"),
}
FLOOR = 115  # of 120 run (96%); the goal is 90%


@pytest.fixture(scope="module", params=["cpython", "unix", "unix-pure"])
def results(request):
    if request.param == "cpython":
        interp = "cpython"
    else:
        interp = request.getfixturevalue("unix_mfa" if request.param == "unix" else "unix_pure")
    res = suite.run(interp)
    print(suite.report(request.param, res))
    return res


def test_suite_pass_count(results):
    ok, total = suite.counts(results)
    assert "<driver>" not in results, results["<driver>"]
    assert total >= 120, "fewer tests ran than the suite has: %d" % total
    assert ok >= FLOOR, suite.report("this run", results)


def test_only_known_failures(results):
    failed = {(mod, name) for mod, rows in results.items() for name, status, why in rows
              if status != "ok"}
    assert failed <= KNOWN_FAILURES, sorted(failed - KNOWN_FAILURES)
