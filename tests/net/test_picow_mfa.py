"""MFA_PICO_W on emulated WiFi: the cases in tests/net/picow_cases.py, on one chip joined once."""
import pytest

from tests.net.picow_cases import *  # noqa: F401,F403 - the test functions
from tests.net import attack_cases
from tests.net.picow_cases import _stopped, pico_fixture

pico = pico_fixture("firmware_w_mfa", "MFA_PICO_W")


# Open in issue 15: under this attack the pool's last rule (a connection younger than a second
# that has sent nothing yet) can take back a real client's new connection before its request
# arrives; on the emulated Pico W 2 of 10 real requests were reset in one run of three.
@pytest.mark.xfail(reason="issue 15: a real client's new connection can be taken back before "
                          "its request arrives", strict=False)
def test_pool_held_by_attackers_serves_a_real_client(pico):
    """Issue 15's pool attack on the product (pyserver's is in test_emu_attack.py)."""
    try:
        attack_cases.pool_attack(pico, "mfa", requests=10, hold=0.5)
    finally:
        _stopped(pico)
