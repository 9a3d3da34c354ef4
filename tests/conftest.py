"""Shared fixtures: where build.sh put the binaries and firmware.

Tests that need a build artifact fail (not skip) when it is missing: `./build.sh test` builds
everything first, so a missing artifact is a broken build, not a reason to pass quietly.
"""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("MFA_BUILD", ROOT / "build"))


def _artifact(rel):
    path = BUILD / rel
    if not path.exists():
        pytest.fail("missing build artifact %s: run ./build.sh first" % path)
    return path


@pytest.fixture(scope="session")
def unix_mfa():
    """The unix MicroPython binary with _mfa and the frozen microfastapi package."""
    return _artifact("unix/micropython")


@pytest.fixture(scope="session")
def unix_pure():
    """The same unix binary without _mfa (the pure-Python build)."""
    return _artifact("unix-pure/micropython")


@pytest.fixture(scope="session", params=["unix", "unix-pure"])
def unix_binary(request):
    """Both unix binaries, one after the other."""
    return _artifact(request.param + "/micropython")


@pytest.fixture(scope="session")
def firmware_mfa():
    return _artifact("MFA_PICO/firmware.uf2")


@pytest.fixture(scope="session")
def firmware_pure():
    return _artifact("MFA_PICO-pure/firmware.uf2")


def _pico_w_artifact(rel):
    """A Pico W image. Where build.sh found no cyw43-driver it says why in MFA_PICO_W_SKIP and
    the Pico W tests skip with that one line; otherwise a missing image is a broken build."""
    why = os.environ.get("MFA_PICO_W_SKIP")
    if why:
        pytest.skip("Pico W: " + why)
    return _artifact(rel)


@pytest.fixture(scope="session")
def firmware_w_mfa():
    """The Pico W firmware (MFA_PICO_W, with _mfa): the product."""
    return _pico_w_artifact("MFA_PICO_W/firmware.uf2")


@pytest.fixture(scope="session")
def firmware_w_pure():
    return _pico_w_artifact("MFA_PICO_W-pure/firmware.uf2")


from tests.heavy_first import pytest_xdist_make_scheduler  # noqa: E402,F401 - the hook
