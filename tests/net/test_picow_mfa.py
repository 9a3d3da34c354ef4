"""MFA_PICO_W on emulated WiFi: the cases in tests/net/picow_cases.py, on one chip joined once."""
import pytest

from tests.net.netns import NetNS
from tests.net.picow_cases import *  # noqa: F401,F403 - the test functions
from tests.net.picow_net import PicoW


@pytest.fixture(scope="module")
def pico(firmware_w_mfa):
    why = NetNS.available()
    if why:
        pytest.skip("Pico W WiFi tests " + why)
    with PicoW(firmware_w_mfa) as chip:
        chip.fw = "MFA_PICO_W"
        yield chip
