"""Fixtures for the parser tests: the C parser through ctypes and the pure-Python parser;
python/, this directory and tests/ (tablerun.py) importable."""
import os
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT / "python"), str(HERE), str(HERE.parent)]

BUILD = pathlib.Path(os.environ.get("MFA_BUILD", ROOT / "build"))  # as in tests/conftest.py


@pytest.fixture(scope="session")
def cparser():
    """mfa_http.c via build/host/libmfa_http.so (cmake -S . -B build/host && cmake --build
    build/host)."""
    from mfa_ctypes import CParser
    lib = BUILD / "host" / "libmfa_http.so"
    if not lib.exists():
        pytest.fail("missing %s: run cmake -S . -B build/host && cmake --build build/host" % lib)
    return CParser(lib)


@pytest.fixture(scope="session")
def pyparser():
    from microfastapi import parser
    return parser


@pytest.fixture(scope="session", params=["c", "py"])
def impl(request, cparser, pyparser):
    return cparser if request.param == "c" else pyparser
