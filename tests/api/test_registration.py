"""registration_checks.py on CPython and both unix MicroPython binaries: every check passes."""
import os
import subprocess
import sys

import pytest

from api_util import HERE, PYDIR


@pytest.mark.parametrize("interp", ["cpython", "unix-pure", "unix"])
def test_registration_checks(request, interp):
    env = dict(os.environ)
    if interp == "cpython":
        env["PYTHONPATH"] = "%s:%s" % (PYDIR, HERE)
        exe = sys.executable
    else:
        exe = str(request.getfixturevalue("unix_mfa" if interp == "unix" else "unix_pure"))
        env["MICROPYPATH"] = "%s:%s:.frozen" % (PYDIR, HERE)
    out = subprocess.run([exe, str(HERE / "registration_checks.py")], env=env,
                         capture_output=True, text=True, timeout=60)
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stdout + out.stderr
    failed = [l for l in lines if not l.startswith(("ok ", "done "))]
    assert not failed, "\n".join(failed)
    done = [l for l in lines if l.startswith("done ")]
    assert done and int(done[0].split()[1]) == sum(l.startswith("ok ") for l in lines) > 8
