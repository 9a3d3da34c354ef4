"""Fixtures for the hostile-client, corpus and fault tests; the helpers are in hostile_util.py."""
import pytest

from hostile_util import BACKENDS, Server, server_argv


@pytest.fixture(scope="session")
def _servers(request):
    running = {}

    def get(name):
        srv = running.get(name)
        if srv is not None and srv.alive():
            return srv
        binary = None
        if name in ("unix", "unix-pure"):
            binary = request.getfixturevalue("unix_mfa" if name == "unix" else "unix_pure")
        argv, env = server_argv(name, binary)
        srv = running[name] = Server(name, argv, env)
        return srv
    yield get
    for srv in running.values():
        srv.stop()


@pytest.fixture(params=BACKENDS)
def server(request, _servers):
    """The hostile test app on one backend (shared by the tests of a session)."""
    return _servers(request.param)


@pytest.fixture
def fresh_server(request):
    """factory(name, **limits): a server of its own (stopped at the end of the test)."""
    started = []

    def make(name, **limits):
        binary = None
        if name in ("unix", "unix-pure"):
            binary = request.getfixturevalue("unix_mfa" if name == "unix" else "unix_pure")
        argv, env = server_argv(name, binary)
        srv = Server(name, argv, env, limits)
        started.append(srv)
        return srv
    yield make
    for srv in started:
        srv.stop()
