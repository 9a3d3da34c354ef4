"""The unix binaries that build.sh makes: one with _mfa, one without, both with the package."""
import subprocess


def run(binary, code):
    # Only ".frozen" on the path, from an empty directory: what imports must be frozen into
    # the binary itself (frozen modules have no __file__ to check instead).
    env = {"MICROPYPATH": ".frozen", "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(binary), "-c", code], capture_output=True, text=True,
                          timeout=30, env=env, cwd="/")


def test_mfa_build_has_c_module(unix_mfa):
    out = run(unix_mfa, "import _mfa; print(_mfa.__version__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().count(".") == 2  # a version like 0.1.0


def test_pure_build_has_no_c_module(unix_pure):
    out = run(unix_pure, "import _mfa")
    assert out.returncode != 0
    assert "ImportError" in out.stderr + out.stdout


def test_package_is_frozen_into_both(unix_binary):
    out = run(unix_binary, "import microfastapi; print(microfastapi.MicroFastApi)")
    assert out.returncode == 0, out.stderr + out.stdout
    assert "MicroFastApi" in out.stdout


def test_asyncio_is_frozen_into_both(unix_binary):
    out = run(unix_binary, "import asyncio; print(asyncio.sleep_ms)")
    assert out.returncode == 0, out.stderr + out.stdout
    assert "function" in out.stdout
