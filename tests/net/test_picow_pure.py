"""MFA_PICO_W-pure on emulated WiFi: the cases in tests/net/picow_cases.py, on one chip joined
once."""
from tests.net.picow_cases import *  # noqa: F401,F403 - the test functions
from tests.net.picow_cases import pico_fixture

pico = pico_fixture("firmware_w_pure", "MFA_PICO_W-pure")
