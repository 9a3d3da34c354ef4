"""security_checks.py on CPython and both unix MicroPython binaries: every check passes; its
HMAC-SHA256 test vectors (RFC 4231) are what CPython's hmac module computes."""
import hashlib
import hmac
import os
import subprocess
import sys

import pytest

from api_util import HERE, PYDIR

sys.path.insert(0, str(HERE))


def test_vectors_are_cpythons_hmac():
    import security_checks
    assert len(security_checks.VECTORS) == 6
    for key, data, mac in security_checks.VECTORS:
        assert hmac.new(bytes.fromhex(key), bytes.fromhex(data), hashlib.sha256).hexdigest() == mac


def test_our_hmac_is_cpythons_on_random_input():
    from microfastapi.sessions import hmac_sha256
    for n in (0, 1, 31, 32, 63, 64, 65, 200):
        key, msg = os.urandom(n), os.urandom(3 * n + 1)
        assert hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


@pytest.mark.parametrize("interp", ["cpython", "unix-pure", "unix"])
def test_security_checks(request, interp, tmp_path):
    env = dict(os.environ)
    if interp == "cpython":
        env["PYTHONPATH"] = "%s:%s" % (PYDIR, HERE)
        exe = sys.executable
    else:
        exe = str(request.getfixturevalue("unix_mfa" if interp == "unix" else "unix_pure"))
        env["MICROPYPATH"] = "%s:%s:.frozen" % (PYDIR, HERE)
    out = subprocess.run([exe, str(HERE / "security_checks.py"), str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=60)
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stdout + out.stderr
    # (MicroPython prints the tracebacks of the deliberate 500s to stdout: only FAIL counts)
    failed = [l for l in lines if l.startswith("FAIL ")]
    assert not failed, "\n".join(failed)
    done = [l for l in lines if l.startswith("done ")]
    assert done and int(done[0].split()[1]) == sum(l.startswith("ok ") for l in lines) >= 11
