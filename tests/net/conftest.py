"""Fixtures: an emulated MFA_PICO reachable over SLIP from inside a private network namespace.

    def test_x(slip_pico):                      # fresh namespace + chip, link up at slip_pico.addr
        slip_pico.start_app(SOURCE, ready="listening")
        r = slip_pico.ns.run(["curl", "-s", slip_pico.url("/")])

Run clients in a separate process inside the namespace (`ns.run`, `ns.popen`, `ns.python`):
a client thread inside the pytest process competes with the emulator's engine thread for the
GIL and sees seconds of latency instead of milliseconds.
Needs root (network namespaces, /dev/net/tun): skipped elsewhere, with the reason.
"""
import pytest

from tests.net.netns import NetNS
from tests.net.slip_bridge import SlipPico


def _need_netns():
    why = NetNS.available()
    if why:
        pytest.skip("SLIP tests " + why)


@pytest.fixture
def slip_pico(firmware_mfa):
    """MFA_PICO (with _mfa) booted in the emulator, SLIP link up at .addr (192.168.7.2)."""
    _need_netns()
    with SlipPico(firmware_mfa) as pico:
        yield pico


@pytest.fixture
def slip_pico_pure(firmware_pure):
    """The same with MFA_PICO-pure (no _mfa)."""
    _need_netns()
    with SlipPico(firmware_pure) as pico:
        yield pico


@pytest.fixture
def make_slip_pico():
    """Factory: make_slip_pico(uf2, **kw) -> a started SlipPico, closed after the test."""
    _need_netns()
    made = []

    def make(uf2, **kw):
        pico = SlipPico(uf2, **kw).__enter__()
        made.append(pico)
        return pico

    yield make
    for pico in made:
        pico.close()
