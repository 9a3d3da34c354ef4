"""security_checks.py on CPython and both unix MicroPython binaries: every check passes; its
HMAC-SHA256 test vectors (RFC 4231) are what CPython's hmac module computes."""
import hashlib
import hmac
import os
import sys

import pytest

from api_util import run_checks_script, HERE

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
    run_checks_script(request, interp, "security_checks.py", tmp_path, at_least=11)