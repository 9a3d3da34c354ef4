"""The Pico W firmware (MFA_PICO_W, MFA_PICO_W-pure) boots in the emulator on rp2040py's pico_w
board, with our WiFi bridge in place of rp2040py's stock NAT bridge (tests/emu/wifi_bridge.py).

In-process and offline: joining WiFi and serving over it is tests/net/test_picow_*.py (root).
"""
import pytest

from rp2040py.external.cyw43.nat import NatBridge

from tests.emu.emulator import Emulator, ScriptError
from tests.emu.wifi_bridge import WifiBridge
from tests.emu.test_firmware_boot import _mfa_version


@pytest.fixture(scope="module", params=["MFA_PICO_W", "MFA_PICO_W-pure"])
def chip_w(request):
    fw = request.getfixturevalue("firmware_w_mfa" if request.param == "MFA_PICO_W"
                                 else "firmware_w_pure")
    with Emulator(fw) as emu:
        emu.fw = request.param
        yield emu


def test_boots_with_our_bridge(chip_w):
    assert chip_w.board == "pico_w"
    bridge = chip_w.wifi.bus.nat_bridge
    assert isinstance(bridge, WifiBridge) and not isinstance(bridge, NatBridge)
    out = chip_w.run("import sys, gc\nprint(sys.implementation._build)\ngc.collect()\n"
                     "print(gc.mem_free())\nimport network\nprint(hasattr(network, 'WLAN'))")
    build, free, wlan = out.split()
    assert build == chip_w.fw.upper()  # MFA_PICO_W, MFA_PICO_W-PURE
    assert wlan == "True"
    print("\n%s: boot %.2f s wall, %.1f ms simulated; free heap %s bytes"
          % (chip_w.fw, chip_w.boot_wall_s, chip_w.boot_sim_ms, free))


def test_mfa_present_or_absent(chip_w):
    if chip_w.fw == "MFA_PICO_W":
        assert chip_w.run("import _mfa\nprint(_mfa.__version__)").strip() == _mfa_version()
        assert "server: _mfa" in chip_w.run("from microfastapi import backend\n"
                                            "print(backend.describe())")
    else:
        with pytest.raises(ScriptError) as exc:
            chip_w.run("import _mfa")
        assert "ImportError" in exc.value.stderr
        assert "pure Python" in chip_w.run("from microfastapi import backend\n"
                                           "print(backend.describe())")
