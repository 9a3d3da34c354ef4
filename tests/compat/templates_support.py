"""The pinned utemplate (pfalcon's template engine, that microdot.utemplate wraps): its PyPI
source distribution, downloaded once into .cache/dl, checked against its SHA-256 and
unpacked into .cache/src/utemplate-1.4.1 (a directory to put on sys.path / MICROPYPATH)."""

import re
import subprocess
import sys
import tempfile
import urllib.request

import pinned_sdist

VERSION = "1.4.1"
SDIST = "utemplate-%s.tar.gz" % VERSION
SDIST_SHA256 = "43fde7c8b38dda1ff9c82cd829d22ec445f1e9d631455de705873051f83a0b20"


def _link():
    """The sdist's address as pip resolves it with this machine's index configuration.
    (utemplate's sdist is a MicroPython-style one, without setup.py or pyproject.toml, so
    `pip download` fetches it and then refuses it, naming the link it took: we take that.)"""
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                            "--no-binary", ":all:", "utemplate==" + VERSION, "-d", tmp],
                           capture_output=True, text=True, timeout=300)
    m = re.search(r"from (\S+/%s)" % re.escape(SDIST), p.stdout + p.stderr)
    if not m:
        raise RuntimeError("pip did not resolve %s:\n%s" % (SDIST, p.stdout + p.stderr))
    return m.group(1)


def sdist_path():
    def fetch(dl, path):
        path.write_bytes(urllib.request.urlopen(_link(), timeout=120).read())
    return pinned_sdist.sdist_path(SDIST, SDIST_SHA256, fetch)


def utemplate_dir():
    """The directory holding the `utemplate` package."""
    return pinned_sdist.unpacked(sdist_path, SDIST_SHA256, "utemplate-" + VERSION)
