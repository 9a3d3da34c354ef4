"""The MFA_PICO firmware boots in the rp2040py emulator; the pure build has no _mfa.

One booted emulator per image serves every test here (tests.emu.emulator.shared), so the boot is
paid once: about 0.2-0.8 s of wall time, about 20 ms of simulated time.
"""
import re
import time

import pytest

from tests.emu.emulator import Emulator, ScriptError, shared

ROOT_VERSION_H = "cmodules/mfa/mfa_version.h"


def _mfa_version():
    import pathlib
    text = (pathlib.Path(__file__).resolve().parents[2] / ROOT_VERSION_H).read_text()
    return re.search(r'#define MFA_VERSION "([^"]+)"', text).group(1)


def test_mfa_boots_and_reports_version(firmware_mfa):
    out = shared(firmware_mfa).run(
        "import sys, _mfa\nprint(_mfa.__version__)\nprint(sys.implementation._build)")
    version, build = out.split()
    assert version == _mfa_version()
    assert build == "MFA_PICO"


def test_microfastapi_imports_on_mfa(firmware_mfa):
    out = shared(firmware_mfa).run("import microfastapi\nprint(microfastapi.__name__)")
    assert out.strip() == "microfastapi"


def test_pure_firmware_has_no_mfa(firmware_pure):
    emu = shared(firmware_pure)
    out = emu.run("import sys\nprint(sys.implementation._build)")
    assert out.strip() == "MFA_PICO-PURE"
    with pytest.raises(ScriptError) as exc:
        emu.run("import _mfa")
    assert "ImportError" in exc.value.stderr
    assert emu.run("import microfastapi\nprint(microfastapi.__name__)").strip() == "microfastapi"


def test_boot_time(firmware_mfa, record_property):
    """A fresh boot plus one small script, in wall-clock time (a figure, loosely bounded)."""
    t0 = time.monotonic()
    with Emulator(firmware_mfa) as emu:
        out = emu.run("import _mfa\nprint(_mfa.__version__)")
        wall = time.monotonic() - t0
        record_property("boot_wall_s", round(emu.boot_wall_s, 3))
        record_property("boot_and_script_wall_s", round(wall, 3))
        record_property("boot_sim_ms", round(emu.boot_sim_ms, 1))
    print("boot %.2f s wall (%.1f ms simulated); boot + script %.2f s wall"
          % (emu.boot_wall_s, emu.boot_sim_ms, wall))
    assert out.strip() == _mfa_version()
    assert wall < 60


def test_script_errors_and_limits(firmware_mfa):
    emu = shared(firmware_mfa)
    with pytest.raises(ScriptError) as exc:
        emu.run("raise ValueError('boom')")
    assert "ValueError: boom" in exc.value.stderr
    with pytest.raises(TimeoutError):
        emu.run("while True:\n    pass", timeout=2)
    # The emulator recovers (hard reset) and runs the next script.
    assert emu.run("print(6 * 7)").strip() == "42"
    emu.run("leftover = 1")
    emu.soft_reset()
    with pytest.raises(ScriptError):
        emu.run("leftover")


def test_idle_emulator_is_paused(firmware_mfa):
    """Between scripts the shared chip is not simulated: its clock stands still (an idle chip
    simulated flat out once held the GIL of the pytest process and slowed every later test)."""
    emu = shared(firmware_mfa)
    assert emu.run("print(6 * 7)").strip() == "42"
    before = emu.sim_ns
    time.sleep(0.5)
    assert emu.sim_ns == before
    assert emu.run("print(7 * 6)").strip() == "42"  # and it resumes for the next script
    assert emu.sim_ns > before
