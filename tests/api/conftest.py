"""Fixtures for the API suite; servers and clients are in api_util.py."""
import pytest

from api_util import BACKENDS, HTTP_BACKENDS, HTTPClient, free_port, server_argv, spawn, stop


@pytest.fixture(scope="session")
def _servers(request):
    """Servers started on first use, shared by every test of the session."""
    running = {}

    def get(name):
        if name not in running:
            binary = None
            if name in ("unix", "unix-pure"):
                binary = request.getfixturevalue("unix_mfa" if name == "unix" else "unix_pure")
            argv, env = server_argv(name, binary)
            port = free_port()
            proc = spawn(name, argv + [str(port)], env, port)
            running[name] = HTTPClient(name, proc, port)
        return running[name]
    yield get
    for client in running.values():
        client.session.close()
        stop(client.proc)


@pytest.fixture(params=BACKENDS)
def api(request, _servers):
    """A client for the test app on one backend."""
    if request.param == "testclient":
        from microfastapi.testclient import TestClient
        import apitest_app
        return TestClient(apitest_app.app, cookies=False)
    return _servers(request.param)


@pytest.fixture(params=HTTP_BACKENDS)
def http(request, _servers):
    """Only the real-HTTP backends (raw-socket protocol tests)."""
    return _servers(request.param)
