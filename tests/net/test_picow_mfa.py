"""MFA_PICO_W on emulated WiFi: the cases in tests/net/picow_cases.py, on one chip joined once."""
from tests.net.picow_cases import *  # noqa: F401,F403 - the test functions
from tests.net import attack_cases, upload_cases, ws_cases
from tests.net.picow_cases import _stopped, pico_fixture

pico = pico_fixture("firmware_w_mfa", "MFA_PICO_W")


def test_pool_held_by_attackers_serves_a_real_client(pico):
    """Issue 15's pool attack on the product (pyserver's is in test_emu_attack.py)."""
    try:
        attack_cases.pool_attack(pico, "mfa", requests=10, hold=0.5)
    finally:
        _stopped(pico)


def test_websocket_over_wifi(pico):
    """Issue 13 on the product: tests/net/ws_cases.py (echo, 100 round trips, a client that
    vanishes mid-message frees its slot, 1002 for an unmasked frame). The pure twin runs the
    same cases over SLIP (test_ws_slip.py), not here too: 80 s of CI's time."""
    try:
        ws_cases.run(pico, "MFA_PICO_W", start_timeout=600)
    finally:
        _stopped(pico)


def test_upload_to_flash_over_wifi(pico):
    """Issue 14 on the product: tests/net/upload_cases.py (256 KB multipart upload saved to
    the chip's flash in pieces, byte-identical, the heap within a few KB of idle)."""
    try:
        upload_cases.run(pico, "MFA_PICO_W", start_timeout=600)
    finally:
        _stopped(pico)
