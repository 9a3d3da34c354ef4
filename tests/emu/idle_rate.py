"""How fast simulated time passes while the emulated chip idles, in simulated ms per wall second.

    python3 tests/emu/idle_rate.py [build/MFA_PICO/firmware.uf2] [seconds]

rp2040py skips ahead when the core sleeps, but an idle MicroPython still wakes often enough that
the chip's own waits (idle and header timeouts, lwIP timers) cost many wall seconds each: this
is why tests that wait for the chip's timeouts take long, and vary with what the host is doing.
The chip runs unpaused here (as on a SLIP link), with and without the SLIP interface up.
"""
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from tests.emu.emulator import Emulator  # noqa: E402

IDLE = "import time\nprint('ready')\nwhile True:\n    time.sleep(1)\n"
SLIP_UP = ("import network\n"
           "_nic = network.SLIP('192.168.7.2', '255.255.255.0', '192.168.7.1')\n")


def main(argv):
    uf2 = argv[1] if len(argv) > 1 else str(ROOT / "build" / "MFA_PICO" / "firmware.uf2")
    seconds = float(argv[2]) if len(argv) > 2 else 4.0
    with Emulator(uf2, pause_when_idle=False) as emu:
        for label, setup in (("time.sleep loop", ""), ("time.sleep loop, SLIP up", SLIP_UP)):
            if setup:
                emu.run(setup)
            emu.start_script(IDLE)
            emu.wait_for_output("ready")
            s0, w0 = emu.sim_ns, time.monotonic()
            time.sleep(seconds)
            rate = (emu.sim_ns - s0) / 1e6 / (time.monotonic() - w0)
            print("%-26s %7.1f simulated ms per wall second" % (label, rate))
            emu.interrupt()


if __name__ == "__main__":
    main(sys.argv)
