"""The SLIP link end to end: ICMP echo and TCP to a plain MicroPython socket server running on the
emulated MFA_PICO, from clients inside the test's private network namespace.

test_tcp_throughput prints link figures (wall and simulated time); see the module's report.
"""
import json

# A tiny server over MicroPython's own `socket` (lwIP); one connection at a time.
#   "echo\n"       -> echoes every byte until the client closes
#   "sink N\n"     -> reads N bytes, answers {"n": N, "us": simulated microseconds}
#   "source N\n"   -> sends N bytes, then closes
SERVER = """
import socket, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8080))
srv.listen(2)
print("listening")
buf = bytearray(1460)
while True:
    c, addr = srv.accept()
    line = b""
    while not line.endswith(b"\\n"):
        d = c.recv(1)
        if not d:
            break
        line += d
    cmd = line.split()
    if cmd and cmd[0] == b"echo":
        while True:
            d = c.recv(512)
            if not d:
                break
            c.write(d)
    elif cmd and cmd[0] == b"sink":
        want = int(cmd[1]); got = 0; t0 = time.ticks_us()
        mv = memoryview(buf)
        while got < want:
            # readinto fills the whole buffer before returning: ask only for what is left
            n = c.readinto(mv[:min(len(mv), want - got)])
            if not n:
                break
            got += n
        c.write(b'{"n": %d, "us": %d}\\n' % (got, time.ticks_diff(time.ticks_us(), t0)))
    elif cmd and cmd[0] == b"source":
        want = int(cmd[1]); sent = 0
        blk = b"x" * 1024
        while sent < want:
            sent += c.write(blk[:min(1024, want - sent)])
    c.close()
"""

CLIENT = """
import json, socket, time
def conn():
    s = socket.create_connection(({addr!r}, 8080), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s
out = {{}}
# echo: one round trip per message
s = conn(); s.sendall(b"echo\\n")
t0 = time.monotonic()
for i in range(5):
    msg = b"hello %d" % i
    s.sendall(msg); got = b""
    while len(got) < len(msg):
        got += s.recv(64)
    assert got == msg, got
out["echo_rtt_ms"] = (time.monotonic() - t0) / 5 * 1000
s.close()
# host -> chip
N = {n}
s = conn(); t0 = time.monotonic(); s.sendall(b"sink %d\\n" % N + b"y" * N)
reply = b""
while not reply.endswith(b"\\n"):
    d = s.recv(100)
    if not d: break
    reply += d
out["up_wall_s"] = time.monotonic() - t0; out["up"] = json.loads(reply); s.close()
# chip -> host
s = conn(); t0 = time.monotonic(); s.sendall(b"source %d\\n" % N); got = 0
while True:
    d = s.recv(65536)
    if not d: break
    got += len(d)
out["down_wall_s"] = time.monotonic() - t0; out["down_bytes"] = got; s.close()
print(json.dumps(out))
"""


def test_ping(slip_pico):
    r = slip_pico.ns.python(
        "from tests.net.netns import icmp_ping\nprint(icmp_ping(%r, count=3, timeout=10))" % slip_pico.addr)
    assert r.returncode == 0, r.stderr
    rtts = eval(r.stdout)
    assert None not in rtts, rtts


def test_tcp_to_micropython_socket_server(slip_pico):
    slip_pico.start_app(SERVER, ready="listening")
    n = 16384
    s0 = slip_pico.emu.sim_ns
    r = slip_pico.ns.python(CLIENT.format(addr=slip_pico.addr, n=n), timeout=300)
    sim_s = (slip_pico.emu.sim_ns - s0) / 1e9
    assert r.returncode == 0, r.stderr + slip_pico.emu.output()
    res = json.loads(r.stdout)
    assert res["up"]["n"] == n
    assert res["down_bytes"] == n
    up_sim_s = res["up"]["us"] / 1e6
    print("\nSLIP link (emulated MFA_PICO, 3 Mbaud programmed): echo RTT %.0f ms wall; "
          "host->chip %d B in %.2f s wall (%.1f KB/s), %.3f s simulated on the chip (%.1f KB/s); "
          "chip->host %d B in %.2f s wall (%.1f KB/s); whole client run %.2f s simulated"
          % (res["echo_rtt_ms"], n, res["up_wall_s"], n / res["up_wall_s"] / 1024, up_sim_s,
             n / up_sim_s / 1024 if up_sim_s else 0, n, res["down_wall_s"],
             n / res["down_wall_s"] / 1024, sim_s))
    print("bridge:", slip_pico.bridge.stats)
    print("chip:", slip_pico.emu.output()[-200:])


def _ping_ok(pico, count=1):
    r = pico.ns.python("from tests.net.netns import icmp_ping\nprint(icmp_ping(%r, count=%d, timeout=10))"
                       % (pico.addr, count))
    assert r.returncode == 0, r.stderr
    return None not in eval(r.stdout)


def test_slip_api_and_soft_reset(slip_pico):
    out = slip_pico.run("import network\nn = network.SLIP()\nprint(n.active(), n.isconnected())\n"
                        "print(n.ifconfig())\nprint(sorted(n.stats()))")
    assert out.splitlines() == [
        "True True",
        "('192.168.7.2', '255.255.255.0', '192.168.7.1', '0.0.0.0')",
        "['baudrate', 'rx_bytes', 'rx_dropped', 'tx_bytes', 'uart']"]
    # Down, then up again.
    slip_pico.run("import network\nnetwork.SLIP().active(False)\nprint(network.SLIP().active())")
    slip_pico.run("import network\nnetwork.SLIP('192.168.7.2', '255.255.255.0', '192.168.7.1')")
    assert _ping_ok(slip_pico)
    # A soft reset takes the link down cleanly; it comes back with network.SLIP(...).
    slip_pico.emu.soft_reset()
    assert slip_pico.run("import network\nprint(network.SLIP().active())").strip() == "False"
    slip_pico.run("import network\nnetwork.SLIP('192.168.7.2', '255.255.255.0', '192.168.7.1')")
    assert _ping_ok(slip_pico)
