"""MFA_PICO_W-pure on emulated WiFi: the cases in tests/net/picow_cases.py, on one chip joined
once."""
from tests.net.picow_cases import *  # noqa: F401,F403 - the test functions
from tests.net.picow_cases import pico_fixture

pico = pico_fixture("firmware_w_pure", "MFA_PICO_W-pure")

# Not here: the SYN flood. The half-open connections never reach the app's server (the
# firmware's lwIP and its SYN queue, mfa_syn_queue.c, deal with them, the same in both images);
# test_picow_mfa.py meets it over WiFi, and pyserver meets it over SLIP (test_emu_attack.py).
# On this image it cost a minute to a minute and a half of CI's time.
del test_syn_flood_then_a_real_client  # noqa: F821 - from the import above
