"""WebSocket on the emulated RP2040 over SLIP (issue 13): MFA_PICO (_mfa.Server on lwIP, the C
frame layer) and MFA_PICO-pure (pyserver on lwIP sockets, wsframe.py); tests/net/ws_cases.py.
(On the Pico W images only MFA_PICO_W runs the cases, test_picow_mfa.py: CI's time.)"""
import pytest

from tests.net import ws_cases


@pytest.mark.parametrize("fw", ["mfa", "pure"])
def test_websocket_on_chip(request, fw):
    pico = request.getfixturevalue("slip_pico" if fw == "mfa" else "slip_pico_pure")
    ws_cases.run(pico, "MFA_PICO" if fw == "mfa" else "MFA_PICO-pure")
