"""The order in which `./build.sh test` hands whole test files to its pytest-xdist workers.

xdist's --dist loadfile queues files by how many tests they hold, most first, so the emulator
files (few tests, minutes each) came last, and one worker ran a five-minute file alone while the
other had nothing left: minutes of CI's time. Here the files known to be slow go first, slowest
first (the seconds are what CI's --durations showed: a stale figure costs only balance, never a
result), then the rest as xdist orders them, many small tests filling both workers at the end.
"""
import pytest

# Seconds per file in CI (2 workers, the sum of its tests' durations), the slow ones only.
SLOW_FILES = {
    "tests/net/test_picow_mfa.py": 500,
    "tests/net/test_picow_pure.py": 230,
    "tests/bench/test_bench_quick.py": 220,
    "tests/net/test_emu_attack.py": 200,
    "tests/emu/test_api_emu.py": 190,
    "tests/net/test_ws_slip.py": 105,
    "tests/net/test_emu_hostile.py": 100,
    "tests/net/test_emu_memory.py": 80,
    "tests/net/test_upload_slip.py": 65,
    "tests/hostile/test_faults.py": 60,
    "tests/net/test_conc_slip.py": 40,
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None  # (xdist's own scheduler for the other modes)
    from xdist.scheduler import LoadFileScheduling

    class SlowFilesFirst(LoadFileScheduling):
        ordered = False

        def _assign_work_unit(self, node):
            # The first call comes once the queue is complete: reorder it then, once.
            if not self.ordered:
                self.ordered = True
                units = list(self.workqueue.items())
                units.sort(key=lambda u: -SLOW_FILES.get(u[0], 0))  # (stable: xdist's order)
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return SlowFilesFirst(config, log)
