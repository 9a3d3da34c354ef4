"""python/examples/pool_limits.py (docs/connections.md) served for real, by the unix build
(`_mfa`) and by CPython (pyserver): its limits reach the server, slow heads are answered 408
early, and a real client is served while slow and silent connections hold the pool."""
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.support import free_port, get_close, wait_listening

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXAMPLES = os.path.join(ROOT, "python", "examples")


@pytest.fixture(params=["mfa", "cpython"])
def example(request):
    port = free_port()
    env = dict(os.environ, PORT=str(port))
    if request.param == "mfa":
        binary = request.getfixturevalue("unix_mfa")
        env["MICROPYPATH"] = EXAMPLES + ":.frozen"
        args = [str(binary), "pool_limits.py"]
    else:
        env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + EXAMPLES
        args = [sys.executable, "pool_limits.py"]
    proc = subprocess.Popen(args, cwd=EXAMPLES, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    why = wait_listening(proc, port)
    if why:
        pytest.fail("example %s: %s" % (why, proc.stdout.read()))
    yield port
    proc.kill()
    proc.wait(5)
    out = proc.stdout.read()
    proc.stdout.close()
    assert "Traceback" not in out, out


def get(port, path="/"):
    return get_close(("127.0.0.1", port), path)


def test_pool_limits_example(example):
    port = example
    slow = socket.create_connection(("127.0.0.1", port), timeout=5)
    slow.sendall(b"GET / HTTP/1.1\r\n")  # then nothing: 1.5 s grace + 16 bytes at 500 B/s
    # attackers: twice the pool (6) of silent connections and partial heads
    held = []
    for i in range(6):
        held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        h = socket.create_connection(("127.0.0.1", port), timeout=5)
        h.sendall(b"GET / HTTP/1.1\r\nX-%d: " % i)
        held.append(h)
    time.sleep(0.2)
    for _ in range(5):
        assert get(port).startswith(b"HTTP/1.1 200 OK\r\n")
    # `slow` was either taken back for a newcomer (a reset) or answered 408 when too slow
    slow2 = socket.create_connection(("127.0.0.1", port), timeout=15)  # (a loaded machine)
    t1 = time.monotonic()
    slow2.sendall(b"GET / HTTP/1.1\r\n")
    data = slow2.recv(4096)
    assert b"408 Request Timeout" in data and data.endswith(b"request header too slow"), data
    assert time.monotonic() - t1 > 1.2  # not before the grace period (no upper bound: load)
    for s in held + [slow, slow2]:
        s.close()
