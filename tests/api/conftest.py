"""Fixtures for the API suite; servers and clients are in api_util.py."""
import shutil

import pytest

from api_util import ADAPTERS, BACKENDS, HTTP_BACKENDS, serve_on_first_use


@pytest.fixture(scope="session")
def _servers(request):
    """Servers of apitest_app.py started on first use, shared by every test of the session."""
    yield from serve_on_first_use(request)


@pytest.fixture(params=BACKENDS + ADAPTERS)
def api(request, _servers):
    """A client for the test app on one backend (the adapters included)."""
    if request.param == "testclient":
        from microfastapi.testclient import TestClient
        import apitest_app
        return TestClient(apitest_app.app, cookies=False)
    return _servers(request.param)


@pytest.fixture(params=HTTP_BACKENDS)
def http(request, _servers):
    """Only the real-HTTP backends (raw-socket protocol tests)."""
    return _servers(request.param)


@pytest.fixture(scope="session")
def chromium():
    """The headless browser of the browser tests (tests/api/cdp.py drives it)."""
    exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("chromium is not installed (build.sh installs it when run as root)")
    return exe
