"""A pinned source distribution: downloaded once into .cache/dl, checked against its SHA-256,
unpacked once into .cache/src (templates_support.py: utemplate; run_microdot_suite.py: Microdot).
"""

import fcntl
import hashlib
import os
import pathlib
import shutil
import tarfile

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CACHE = pathlib.Path(os.environ.get("MFA_CACHE", ROOT / ".cache"))


def sdist_path(name, sha256, fetch):
    """The verified sdist `name` in the download cache; fetch(dl, path) gets it there when
    missing (dl: the cache directory, path: dl / name)."""
    dl = CACHE / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    path = dl / name

    def ok():
        return path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    if not ok():
        fetch(dl, path)
        if not ok():
            path.unlink()
            raise RuntimeError("%s: sha256 mismatch (expected %s)" % (name, sha256))
    return path


def unpacked(sdist, sha256, top, fix=None):
    """.cache/src/`top`, the directory the sdist (a function giving its path) unpacks into;
    fix(dest) is run on it once unpacked."""
    dest = CACHE / "src" / top
    stamp = dest / ".mfa-unpacked"
    if stamp.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / (".%s.lock" % top), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # (pytest workers: one unpacks, the others wait)
        if not stamp.exists():
            src = sdist()
            if dest.exists():
                shutil.rmtree(dest)
            with tarfile.open(src) as t:
                t.extractall(dest.parent, filter="data")
            if fix is not None:
                fix(dest)
            stamp.write_text(sha256 + "\n")
    return dest
