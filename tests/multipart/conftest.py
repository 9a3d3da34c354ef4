"""Fixtures for the multipart tests: python/, this directory and tests/ (tablerun.py) importable
(mp_cases.py is also run as a script by the unix MicroPython binaries)."""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT / "python"), str(HERE), str(HERE.parent)]
