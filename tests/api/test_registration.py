"""registration_checks.py on CPython and both unix MicroPython binaries: every check passes."""
import pytest

from api_util import run_checks_script


@pytest.mark.parametrize("interp", ["cpython", "unix-pure", "unix"])
def test_registration_checks(request, interp):
    run_checks_script(request, interp, "registration_checks.py", at_least=10)
