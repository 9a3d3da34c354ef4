"""A 256 KB multipart upload to the emulated RP2040's flash over SLIP (issue 14): MFA_PICO
(_mfa.Server on lwIP, the C multipart scanner); tests/net/upload_cases.py."""
from tests.net import upload_cases


def test_upload_to_flash_on_chip(slip_pico):
    upload_cases.run(slip_pico, "MFA_PICO")
