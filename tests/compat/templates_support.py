"""The pinned utemplate (pfalcon's template engine, that microdot.utemplate wraps): its PyPI
source distribution, downloaded once into .cache/dl, checked against its SHA-256 and
unpacked into .cache/src/utemplate-1.4.1 (a directory to put on sys.path / MICROPYPATH)."""

import fcntl
import hashlib
import os
import pathlib
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CACHE = pathlib.Path(os.environ.get("MFA_CACHE", ROOT / ".cache"))

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
    dl = CACHE / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    path = dl / SDIST

    def ok():
        return path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == SDIST_SHA256
    if not ok():
        path.write_bytes(urllib.request.urlopen(_link(), timeout=120).read())
        if not ok():
            path.unlink()
            raise RuntimeError("%s: sha256 mismatch (expected %s)" % (SDIST, SDIST_SHA256))
    return path


def utemplate_dir():
    """The directory holding the `utemplate` package."""
    dest = CACHE / "src" / ("utemplate-" + VERSION)
    stamp = dest / ".mfa-unpacked"
    if stamp.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / (".utemplate-%s.lock" % VERSION), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # (pytest workers: one unpacks, the others wait)
        if not stamp.exists():
            with tarfile.open(sdist_path()) as t:
                t.extractall(dest.parent, filter="data")
            stamp.write_text(SDIST_SHA256 + "\n")
    return dest
