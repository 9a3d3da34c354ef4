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


def test_guide_board_programs(pico):
    """The user guide's Pico W programs (```python board blocks, tests/guide_blocks.py) as they
    are on the page: each joins WiFi (at once: the chip is joined already), serves, prints the
    URL and answers GET / with 200."""
    from tests.guide_blocks import board_programs
    from tests.net.picow_cases import _curl
    programs = board_programs()
    assert programs
    for page, code in programs:
        try:
            banner = pico.start_app(code, ready="http://", timeout=300)
            assert "http://10.0.0.2/" in banner, (page, banner)
            status, body = _curl(pico, pico.url("/"))
            assert status == 200, (page, status, body)
            print("\n%s: its Pico W program serves: GET / -> %d %s" % (page, status, body[:60]))
        finally:
            _stopped(pico)
