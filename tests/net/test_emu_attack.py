"""Issue 15's attacks on MFA_PICO over SLIP, with _mfa.Server and with the pure build's
pyserver (tests/net/attack_cases.py has the cases; the Pico W runs them in picow_cases.py).
One chip per image, booted once for the module."""
import pytest

from tests.net import attack_cases
from tests.net.netns import NetNS
from tests.net.slip_bridge import SlipPico


@pytest.fixture(scope="module", params=["mfa", "py"])
def board(request):
    why = NetNS.available()
    if why:
        pytest.skip("SLIP tests " + why)
    server = request.param
    uf2 = request.getfixturevalue("firmware_mfa" if server == "mfa" else "firmware_pure")
    with SlipPico(uf2) as pico:
        yield pico, server


def test_syn_flood_then_a_real_client(board):
    pico, server = board
    attack_cases.syn_flood(pico, server)


def test_pool_held_by_attackers_serves_a_real_client(board):
    pico, server = board
    attack_cases.pool_attack(pico, server, requests=10, hold=0.5)  # (CI: the bench has more)


def test_stray_crlf_after_a_body_on_keep_alive(board):
    pico, server = board
    attack_cases.stray_crlf(pico, server)
