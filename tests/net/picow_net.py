"""An emulated Pico W on WiFi, reachable from a private network namespace.

    with PicoW("build/MFA_PICO_W/firmware.uf2") as pico:   # namespace, TAP, chip, WiFi joined
        pico.ip                                            # what wifi.connect() returned
        pico.start_app(APP_SOURCE, ready="http://")        # a server that keeps running
        pico.ns.run(["curl", "-s", pico.url("/")])         # a client inside the namespace
        pico.wifi()["dropped"]                             # frames our bridge kept from leaving

The chip runs in a process of its own inside the namespace (tests/net/picow_chip.py), with
rp2040py's WiFi chip model attached to our bridge (tests/emu/wifi_bridge.py) and a TAP device
(10.0.0.1/24) instead of rp2040py's stock NAT bridge, which would relay to the real network.
`pico.emu` has the Emulator methods tests use (run, soft_reset, start_script, output,
wait_for_output, interrupt, sim_ns), carried over a pipe.

Cleanup: close() (also on any failure in __enter__) ends the chip process (it also dies with
this one: PR_SET_PDEATHSIG), which takes its TAP device with it, then deletes the namespace;
namespaces left by a killed run are removed by the next one (NetNS, names carry the pid).
Joining the access point loads the CYW43439's 230 KB firmware over the emulated SPI bus: about
a minute of wall time on an idle machine, so tests share one joined chip per firmware where
they can (tests/net/conftest.py).
"""
import json
import os
import pathlib
import select
import subprocess
import sys
import tempfile
import time

from tests.emu.emulator import EmulatorError, EmulatorTimeout, ScriptError
from tests.emu.wifi_bridge import CHIP, GATEWAY
from tests.net.netns import NetNS

__all__ = ["PicoW", "RemoteEmulator", "SSID", "CONNECT"]

ROOT = pathlib.Path(__file__).resolve().parents[2]
SSID = "RP2040PY-GUEST"  # rp2040py's access point; any SSID and password join it
CONNECT = ("from microfastapi import wifi\n"
           "print('@@ip', wifi.connect(%r, 'any-password', timeout=%d))\n")


class RemoteEmulator:
    """The Emulator in the chip process, method for method (see tests/emu/emulator.py)."""

    def __init__(self, proc, log):
        self.proc = proc
        self.log = log

    def _call(self, op, *args, wait=60.0, **kw):
        if self.proc.poll() is not None:
            raise EmulatorError("the chip process has ended (rc %s):\n%s"
                                % (self.proc.returncode, self.log_tail()))
        self.proc.stdin.write(json.dumps({"op": op, "args": args, "kw": kw}) + "\n")
        self.proc.stdin.flush()
        return self._answer(op, wait)

    def _answer(self, op, wait):
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.proc.kill()
                raise EmulatorTimeout("the chip process did not answer %r within %.0f s "
                                      "(killed):\n%s" % (op, wait, self.log_tail()))
            r, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if r:
                line = self.proc.stdout.readline()
                if not line:
                    raise EmulatorError("the chip process ended during %r:\n%s"
                                        % (op, self.log_tail()))
                d = json.loads(line)
                if "ok" in d:
                    return d["ok"]
                raise _rebuild(d)

    def log_tail(self, n=3000):
        try:
            return pathlib.Path(self.log.name).read_text(errors="replace")[-n:]
        except OSError:
            return ""

    @property
    def sim_ns(self):
        return self._call("sim_ns")

    def run(self, source, *, timeout=30.0, sim_timeout_ms=None, check=True):
        return self._call("run", source, timeout=timeout, sim_timeout_ms=sim_timeout_ms,
                          check=check, wait=timeout + 90)

    def soft_reset(self, timeout=30.0):
        return self._call("soft_reset", timeout=timeout, wait=timeout + 30)

    def hard_reset(self, timeout=None):
        return self._call("hard_reset", timeout=timeout, wait=(timeout or 60) + 90)

    def start_script(self, source):
        return self._call("start_script", source, wait=120)

    def start_main(self, power_on=False):
        return self._call("start_main", power_on=power_on, wait=180)

    def tap(self, on):
        """Start (on=True) or end a log of every TCP frame through the bridge; returns the log
        so far: (simulated ns, to_chip, client port, flags, payload head as latin-1, length,
        sequence number)."""
        return self._call("tap", on)

    def attr(self, name):
        return self._call("attr", name)

    def output(self):
        return self._call("output")

    def wait_for_output(self, text, timeout=30.0):
        return self._call("wait_for_output", text, timeout=timeout, wait=timeout + 30)

    def interrupt(self, timeout=30.0):
        return tuple(self._call("interrupt", timeout=timeout, wait=timeout + 30))

    def wifi(self):
        return self._call("wifi")

    def info(self):
        return self._call("info")


def _rebuild(d):
    exc, msg = d.get("exc"), d.get("msg", "")
    if exc == "ScriptError":
        return ScriptError(d.get("stdout", ""), d.get("stderr", ""))
    if exc == "EmulatorTimeout":
        return EmulatorTimeout(msg, d.get("output", ""))
    if exc in ("EmulatorError", "TimeoutError"):
        return EmulatorError(msg)
    return EmulatorError("%s in the chip process: %s" % (exc, msg))


class PicoW:
    """A booted emulated Pico W (MFA_PICO_W or -pure) joined to WiFi, at `self.addr` from
    inside `self.ns`. Fresh namespace and chip per instance."""

    addr = CHIP
    host_ip = GATEWAY

    def __init__(self, uf2, *, connect=True, rto_min_ms=1000, connect_timeout=600):
        self.uf2 = str(uf2)
        self.connect = connect
        self.rto_min_ms = rto_min_ms
        self.connect_timeout = connect_timeout
        self.ns = self.emu = self.proc = self._log = None
        self.ip = None
        self.connect_wall_s = self.connect_sim_ms = None

    def __enter__(self):
        try:
            self.ns = NetNS(host=GATEWAY, peer=CHIP, tun="wl0").__enter__()
            self._log = tempfile.NamedTemporaryFile("w+", prefix="picow-chip-", suffix=".log",
                                                    delete=False)
            outer = os.stat("/proc/self/ns/net").st_ino
            self.proc = self.ns.popen(
                [sys.executable, "-m", "tests.net.picow_chip", self.uf2, "--outer-netns",
                 str(outer), "--rto-min-ms", str(self.rto_min_ms)],
                cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._log, text=True, bufsize=1)
            self.emu = RemoteEmulator(self.proc, self._log)
            assert self.emu._answer("boot", 180) == "ready"
            self.info = self.emu.info()
            if self.connect:
                self.join()
        except BaseException:
            self.close()
            raise
        return self

    def join(self, timeout_s=None):
        """wifi.connect() on the chip; returns (and keeps) the address it returned."""
        t0, s0 = time.monotonic(), self.emu.sim_ns
        out = self.emu.run(CONNECT % (SSID, 60), timeout=timeout_s or self.connect_timeout)
        self.ip = [ln.split()[1] for ln in out.splitlines() if ln.startswith("@@ip")][0]
        self.connect_wall_s = time.monotonic() - t0
        self.connect_sim_ms = (self.emu.sim_ns - s0) / 1e6
        return self.ip

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.emu.interrupt(timeout=10)
                except Exception:
                    pass
                try:
                    self.emu._call("close", wait=20)
                except Exception:
                    pass
                try:
                    self.proc.stdin.close()
                    self.proc.wait(10)
                except Exception:
                    self.proc.kill()
                    self.proc.wait(10)
            self.proc = None
        if self.ns is not None:
            self.ns.close()
            self.ns = None
        if self._log is not None:
            self._log.close()
            os.unlink(self._log.name)
            self._log = None

    # -- the SlipPico surface (tests/net/slip_bridge.py), so helpers work on both -------------

    def run(self, source, **kw):
        kw.setdefault("timeout", 300)  # wall seconds: an emulated Pico W on a busy machine is slow
        return self.emu.run(source, **kw)

    def start_app(self, source, ready=None, timeout=600.0):
        """Start a long-running script; wait until it prints `ready` if given. If it ends or
        times out before, it is stopped (the REPL is free again) and the error raised."""
        self.emu.start_script(source)
        if ready is not None:
            try:
                return self.emu.wait_for_output(ready, timeout)
            except BaseException:
                try:
                    self.stop_app(timeout=30)
                except Exception:  # noqa: BLE001 - the first error is the one to see
                    pass
                raise
        return ""

    def stop_app(self, timeout=600.0):
        return self.emu.interrupt(timeout)

    def wifi(self):
        """{"stats": ..., "dropped": [...]} of the bridge."""
        return self.emu.wifi()

    def url(self, path="/", port=80):
        return "http://%s%s%s" % (self.addr, "" if port == 80 else ":%d" % port, path)
