"""Helpers every test directory and benchmark shares: free ports, how to run an app on a backend,
one raw-socket exchange. Import as `tests.support` (pytest runs from the repository root; the
scripts under tests/bench put the root on sys.path themselves). Standard library only, so the
scripts that run inside a network namespace can import it too.
"""
import os
import pathlib
import socket
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYDIR = ROOT / "python"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def app_argv(backend, app, binary=None, path=()):
    """(argv, env) that run the script `app` on a backend: "cpython" (this interpreter) or a
    unix MicroPython `binary` ("unix", "unix-pure"), with python/ and the directories `path`
    importable and the frozen modules behind them."""
    dirs = [str(PYDIR)] + [str(p) for p in path]
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    if backend == "cpython":
        env["PYTHONPATH"] = ":".join(dirs)
        return [sys.executable, str(app)], env
    env["MICROPYPATH"] = ":".join(dirs + [".frozen"])
    return [str(binary), str(app)], env


def exchange(addr, raw, timeout=5.0, half_close=True):
    """Send `raw` on a new connection to `addr` (half-closing after it unless told not to) and
    read until the server closes. Returns (bytes received, how it ended: 'eof', 'reset' or
    'timeout')."""
    s = socket.create_connection(addr, timeout=timeout)
    end = "eof"
    data = b""
    try:
        try:
            s.sendall(raw)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed early; read what it sent
        deadline = time.time() + timeout
        while True:
            if time.time() > deadline:
                end = "timeout"
                break
            try:
                x = s.recv(65536)
            except socket.timeout:
                end = "timeout"
                break
            except ConnectionResetError:
                end = "reset"
                break
            if not x:
                break
            data += x
    finally:
        s.close()
    return data, end
