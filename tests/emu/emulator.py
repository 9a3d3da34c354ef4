"""Run our real RP2040 firmware (.uf2) in the rp2040py emulator and run MicroPython code on it.

    from tests.emu.emulator import Emulator

    with Emulator("build/MFA_PICO/firmware.uf2") as emu:     # boots once (about 1 s wall)
        print(emu.run("import _mfa; print(_mfa.__version__)"))   # -> "0.1.0\\n"
        emu.run("x = 1"); emu.run("print(x)")                 # state persists between runs...
        emu.soft_reset()                                      # ...until a soft reset

    emu.run(src, timeout=30, sim_timeout_ms=5000)   # wall-clock and simulated-time limits
    emu.start_script(src); emu.wait_for_output("ready"); ...; emu.interrupt()   # long-running app

`run()` returns the script's stdout ("\\r\\n" turned into "\\n") and raises `ScriptError` (with
`.stdout`, `.stderr`) when the script raised, `EmulatorTimeout` when a limit was hit. After a
timeout the chip is hard-reset before the next script, so one stuck script does not poison the
next. `shared(uf2)` hands out one booted emulator per image per process (tests reuse it); the
pytest fixtures in tests/conftest.py use that.

How it works: rp2040py's `MicroPythonDevice` boots the image and enumerates its USB-CDC console
(the REPL is on USB CDC; UART0/UART1 stay free, and UART0 carries our SLIP link). The emulator's
event loop (its "engine room") runs on a private thread owned by this object; every touch of
emulated state (USB FIFO, UARTs, clock alarms) is done on that thread through `call_soon()` /
`submit()`. Scripts go through the raw REPL (Ctrl-A, source, Ctrl-D) exactly like mpremote.
The simulated clock (`sim_ns`) advances with emulated CPU cycles and jumps ahead when the chip
sleeps in WFI, so it is deterministic but not tied to wall time.

Because nothing ties it to wall time, an idle chip would be simulated as fast as the host allows,
holding the GIL of whatever process owns it. So the engine is paused whenever no exchange or
background script is running, and resumed by the next one: a shared emulator kept
for a whole pytest session costs nothing between tests. Pausing is invisible to the firmware.
"""
import asyncio
import atexit
import pathlib
import threading
import time

import dataclasses

from rp2040py.boards import BOARDS
from rp2040py.device import MicroPythonDevice
from rp2040py.device.base_device import ResetCause
from rp2040py.device.repl_runner import BaseReplRunner
from rp2040py.external.cyw43 import Cyw43439

from tests.emu.wifi_bridge import WifiBridge, pico_w_board

__all__ = ["Emulator", "EmulatorError", "EmulatorTimeout", "ScriptError", "shared", "run_script",
           "board_for"]

CTRL_A, CTRL_B, CTRL_C, CTRL_D = 1, 2, 3, 4
_RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
_SOFT_REBOOT = b"soft reboot"


class EmulatorError(RuntimeError):
    """The emulator or the raw-REPL protocol misbehaved."""


class EmulatorTimeout(EmulatorError, TimeoutError):
    """A wall-clock or simulated-time limit was reached. `.output` holds what was printed."""

    def __init__(self, msg, output=""):
        super().__init__(msg)
        self.output = output


class ScriptError(EmulatorError):
    """The script raised on the device. `.stdout` and `.stderr` (the traceback) are str."""

    def __init__(self, stdout, stderr):
        super().__init__("script raised on the device:\n" + stderr.strip()
                         + ("\n--- stdout ---\n" + stdout if stdout else ""))
        self.stdout = stdout
        self.stderr = stderr


def board_for(uf2):
    """The rp2040py board an image runs on: build/MFA_PICO_W*/ images need the Pico W."""
    return "pico_w" if pathlib.Path(uf2).resolve().parent.name.startswith("MFA_PICO_W") else "pico"


def _text(b):
    return bytes(b).decode("utf-8", "replace").replace("\r\n", "\n")


class _RawRepl(BaseReplRunner):
    """One raw-REPL exchange over the emulated USB CDC; runs on the engine-room thread only.

    Stages: "prompt" (wait for the raw REPL banner), "ok", "stdout", "stderr", "done". With
    `soft_reset=True` it sends Ctrl-D at the raw prompt instead of a script and finishes when the
    banner appears again after "soft reboot".
    """

    def __init__(self, cdc, source, done, soft_reset=False):
        super().__init__(cdc)
        self.source = source
        self.done = done
        self.soft_reset = soft_reset
        self.stage = "prompt"
        self.tail = bytearray()
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.rebooted = False
        self.error = None

    async def _on_start(self):
        self._cdc.send_serial_byte(CTRL_C)
        self._cdc.send_serial_byte(CTRL_C)
        self._cdc.send_serial_byte(CTRL_A)

    def _fail(self, msg):
        self.error = EmulatorError(msg)
        self.stage = "done"
        self.done.set()

    def feed(self, data):
        for byte in data:
            st = self.stage
            if st == "prompt":
                self.tail.append(byte)
                del self.tail[:-64]
                if self.soft_reset and _SOFT_REBOOT in self.tail:
                    self.rebooted = True
                    self.tail.clear()
                elif self.tail.endswith(_RAW_BANNER):
                    self.tail.clear()
                    if self.soft_reset:
                        if self.rebooted:
                            self.stage = "done"
                            self.done.set()
                        else:
                            self._queue(bytes([CTRL_D]))
                            self.pump()
                    else:
                        self.stage = "ok"
                        self._queue(self.source + bytes([CTRL_D]))
                        self.pump()
            elif st == "ok":
                self.tail.append(byte)
                if len(self.tail) == 2:
                    if bytes(self.tail) != b"OK":
                        self._fail("raw REPL: expected b'OK' after the script, got %r" % bytes(self.tail))
                    else:
                        self.stage = "stdout"
            elif st == "stdout":
                if byte == CTRL_D:
                    self.stage = "stderr"
                else:
                    self.stdout.append(byte)
            elif st == "stderr":
                if byte == CTRL_D:
                    self.stage = "done"
                    self.done.set()
                else:
                    self.stderr.append(byte)


class _MainPy(BaseReplRunner):
    """Leave the raw REPL and soft-reset from the friendly REPL, which (unlike a raw-REPL soft
    reset) runs boot.py and main.py, as a board does at power-up; collect everything printed
    until the friendly prompt comes back (main.py ended or was interrupted)."""

    def __init__(self, cdc, done):
        super().__init__(cdc)
        self.done = done
        self.stage = "reset"
        self.tail = bytearray()
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.error = None

    async def _on_start(self):
        if self.stage == "reset":
            for b in (CTRL_C, CTRL_C, CTRL_B, CTRL_D):
                self._cdc.send_serial_byte(b)

    def feed(self, data):
        if self.stage == "done":
            return
        self.stdout += data
        self.tail += data
        del self.tail[:-64]
        if self.stage == "reset" and _SOFT_REBOOT in self.tail:
            self.stage = "main"
            self.tail.clear()
        elif self.stage == "main" and self.tail.endswith(b"\r\n>>> "):
            self.stage = "done"
            self.done.set()


class Emulator:
    """One emulated RP2040 running a .uf2. See the module docstring."""

    def __init__(self, uf2, *, boot_timeout=60.0, board=None, pause_when_idle=True, tap_fd=None):
        self.uf2 = pathlib.Path(uf2)
        if not self.uf2.exists():
            raise FileNotFoundError(self.uf2)
        self.board = board or board_for(self.uf2)
        if self.board == "pico_w":
            # Never rp2040py's stock board: its NAT bridge relays to the real network.
            base, bridges = pico_w_board(tap_fd)
        elif any(f is Cyw43439 for f in BOARDS[self.board].extras):
            raise EmulatorError("board %r has a CYW43439 with rp2040py's NAT bridge: use 'pico_w'"
                                % self.board)
        else:
            base, bridges = BOARDS[self.board], []
        spec = dataclasses.replace(base, image=str(self.uf2), firmware=None)
        self.device = MicroPythonDevice(board=spec)
        # The Pico W's WiFi link (tests/emu/wifi_bridge.py), None on other boards.
        self.wifi = bridges[0] if bridges else None
        if self.board == "pico_w" and not isinstance(self.wifi, WifiBridge):
            raise EmulatorError("the emulated CYW43439 has no WifiBridge: refusing to run")
        self.sim = self.device.simulator
        self.mcu = self.device.mcu
        self.clock = self.sim.clock
        self.boot_timeout = boot_timeout
        self.boot_wall_s = None
        self.boot_sim_ms = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rp2040py-engine",
                                        daemon=True)
        self._thread.start()
        self.sim.bind_loop(self._loop)
        if self.wifi is not None:
            self.wifi.now = lambda: self.clock.nanos
            self.call(self.wifi.start, self._loop)
        self._lock = None          # asyncio.Lock, created on the engine loop
        self._dirty = False        # a script timed out: hard-reset before the next one
        self._bg = None            # the running background script (start_script)
        self._closed = False
        self.reset_sim_ns = None   # sim_ns when start_main(power_on=True) reset the chip
        # False for a chip that must answer the network at its REPL (SLIP: ping, lwIP timers).
        self.pause_when_idle = pause_when_idle

    # -- lifecycle -----------------------------------------------------------------------

    def start(self):
        t0 = time.monotonic()
        try:
            self.device.start_async(self.boot_timeout).result(self.boot_timeout + 5)
        except Exception as exc:
            self.close()
            raise EmulatorError("%s did not boot (USB enumeration) within %.0f s: %r"
                                % (self.uf2, self.boot_timeout, exc)) from exc
        # The first raw-REPL exchange also waits for the boot banner and the first prompt.
        self.run("pass", timeout=self.boot_timeout)
        self.boot_wall_s = time.monotonic() - t0
        self.boot_sim_ms = self.sim_ns / 1e6
        return self

    def close(self):
        if self._closed:
            return
        self._closed = True
        if self.wifi is not None:
            try:
                self.call(self.wifi.stop)
            except Exception:
                pass
        self.device.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- engine-room access --------------------------------------------------------------

    @property
    def sim_ns(self):
        """Simulated time since power-on, in nanoseconds."""
        return self.clock.nanos

    def call_soon(self, fn, *args):
        """Run fn(*args) on the engine-room thread (fire and forget)."""
        self._loop.call_soon_threadsafe(fn, *args)

    def call(self, fn, *args, timeout=10.0):
        """Run fn(*args) on the engine-room thread and return its result."""
        async def _c():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(_c(), self._loop).result(timeout)

    @property
    def loop(self):
        return self._loop

    def uart(self, n):
        """rp2040py's RPUART n (`on_byte`, `feed_byte`, `rx_fifo`); touch it on the engine thread."""
        return self.mcu.uart[n]

    async def _resume(self):
        """Run the simulation (engine thread only). Waits for a stopping execute() to end, so
        two of them never run at once."""
        task = self.sim._execute_task
        if task is not None and not task.done():
            if not self.sim.stopped:
                return
            await asyncio.wait([task])
        self.sim.start_execution()
        await asyncio.sleep(0)  # its task exists once this returns: wait_for() watches it

    async def _pause(self):
        """Stop simulating (engine thread only) until the next _resume()."""
        self.sim.stop()
        task = self.sim._execute_task
        if task is not None and not task.done():
            await asyncio.wait([task])

    # -- scripts -------------------------------------------------------------------------

    async def _exchange(self, source, timeout, sim_timeout_ms, soft_reset=False, on_start=None,
                        main=False):
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            await self._resume()
            try:
                return await self._exchange_running(source, timeout, sim_timeout_ms, soft_reset,
                                                    on_start, main)
            finally:
                if self.pause_when_idle:
                    await self._pause()

    async def _exchange_running(self, source, timeout, sim_timeout_ms, soft_reset, on_start, main):
        if self._dirty:
            await self.device._ahard_reset(self.boot_timeout, ResetCause.RUN_PIN)
            self._dirty = False
        done = asyncio.Event()
        if main:
            runner = _MainPy(self.device.cdc, done)
            if main == "power-on":
                # A reset (RUN pin) boots straight into main.py: nothing to type.
                self.reset_sim_ns = self.sim_ns
                await self.device._ahard_reset(self.boot_timeout, ResetCause.RUN_PIN)
                runner.stage = "main"
        else:
            runner = _RawRepl(self.device.cdc, source, done, soft_reset=soft_reset)
        reason = []

        def pump():
            if done.is_set():
                return
            runner.pump()
            pump_alarm.schedule(1_000_000)  # 1 ms simulated: let the firmware drain the FIFO

        def sim_limit():
            if not done.is_set():
                reason.append("simulated-time limit of %s ms" % sim_timeout_ms)
                done.set()

        pump_alarm = self.clock.create_alarm(pump)
        limit_alarm = self.clock.create_alarm(sim_limit)
        await runner.start()
        pump_alarm.schedule(1_000_000)
        if sim_timeout_ms is not None:
            limit_alarm.schedule(sim_timeout_ms * 1e6)
        if on_start is not None:
            on_start(runner)
        try:
            await self.sim.wait_for(done, timeout)
        except asyncio.TimeoutError:
            reason.append("wall-clock limit of %s s" % timeout)
        except RuntimeError as exc:  # the engine crashed or was stopped
            self._dirty = True
            raise EmulatorError("emulator engine stopped: %s (%r)"
                                % (exc, self.sim.engine_room_error)) from exc
        finally:
            pump_alarm.cancel()
            limit_alarm.cancel()
            await runner.stop()
        if reason or runner.stage != "done":
            self._dirty = True
            out = _text(runner.stdout)
            raise EmulatorTimeout("script did not finish within the %s (stage %r); output so far:\n%s"
                                  % (reason[0] if reason else "limit", runner.stage, out[-2000:]), out)
        if runner.error is not None:
            self._dirty = True
            raise runner.error
        return _text(runner.stdout), _text(runner.stderr)

    def run(self, source, *, timeout=30.0, sim_timeout_ms=None, check=True):
        """Run `source` on the device; return its stdout as str.

        timeout: wall-clock seconds. sim_timeout_ms: simulated milliseconds (None: no limit).
        check: raise ScriptError when the script raised (else return stdout + stderr).
        """
        if self._closed:
            raise EmulatorError("emulator is closed")
        if self._bg is not None:
            raise EmulatorError("a background script is running: interrupt() it first")
        if isinstance(source, str):
            source = source.encode()
        fut = asyncio.run_coroutine_threadsafe(
            self._exchange(source, timeout, sim_timeout_ms), self._loop)
        try:
            out, err = fut.result(timeout + self.boot_timeout + 10)
        except TimeoutError as exc:
            if isinstance(exc, EmulatorTimeout):
                raise
            fut.cancel()
            self._dirty = True
            raise EmulatorTimeout("emulator engine did not answer within %s s" % timeout) from exc
        if err and check:
            raise ScriptError(out, err)
        return out + err if err else out

    def soft_reset(self, timeout=30.0):
        """Ctrl-D at the raw REPL: fresh Python heap, same chip (much cheaper than a reboot)."""
        fut = asyncio.run_coroutine_threadsafe(
            self._exchange(b"", timeout, None, soft_reset=True), self._loop)
        fut.result(timeout + 10)

    def hard_reset(self, timeout=None):
        """Reset the chip (RUN pin) and wait until the REPL answers again."""
        self._dirty = True
        self.run("pass", timeout=timeout or self.boot_timeout)

    # -- long-running scripts (servers) --------------------------------------------------

    def start_main(self, power_on=False):
        """Soft-reset into main.py, as a board boots (see _MainPy), and return at once; like
        start_script() from there on (output(), wait_for_output(), interrupt()). power_on:
        reset the chip instead (RUN pin; `reset_sim_ns` notes the simulated time of the reset)."""
        return self.start_script(b"", main="power-on" if power_on else True)

    def start_script(self, source, main=False):
        """Start `source` and return at once; it keeps running (e.g. a server loop).

        Read its output with `output()` / `wait_for_output()`; stop it with `interrupt()`.
        """
        if self._bg is not None:
            raise EmulatorError("a background script is already running")
        if isinstance(source, str):
            source = source.encode()
        started = threading.Event()
        holder = {}

        def on_start(runner):
            holder["runner"] = runner
            started.set()

        fut = asyncio.run_coroutine_threadsafe(
            self._exchange(source, None, None, on_start=on_start, main=main), self._loop)
        if not started.wait(self.boot_timeout):
            raise EmulatorError("could not start the script")
        self._bg = (fut, holder["runner"])

    def output(self):
        """stdout of the background script so far."""
        if self._bg is None:
            return ""
        return _text(self._bg[1].stdout)

    def wait_for_output(self, text, timeout=30.0):
        """Wait until the background script printed `text`; return its output so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            if text in out:
                return out
            fut, runner = self._bg
            if fut.done():
                err = _text(runner.stderr)
                raise ScriptError(out, err or "script ended without printing %r" % text)
            time.sleep(0.01)
        raise EmulatorTimeout("background script did not print %r within %s s" % (text, timeout),
                              self.output())

    def interrupt(self, timeout=30.0):
        """Ctrl-C the background script and wait for it to end; return (stdout, stderr)."""
        if self._bg is None:
            return "", ""
        fut, runner = self._bg
        self._bg = None
        if not fut.done():
            self.call_soon(runner._cdc.send_serial_byte, CTRL_C)
        try:
            return fut.result(timeout)
        except KeyboardInterrupt:
            raise
        except EmulatorError:
            raise
        except Exception as exc:
            self._dirty = True
            raise EmulatorTimeout("background script did not stop after Ctrl-C: %r" % exc) from exc


_SHARED = {}


def shared(uf2):
    """One booted Emulator per image (path + mtime) per process, closed at exit."""
    uf2 = pathlib.Path(uf2).resolve()
    key = (str(uf2), uf2.stat().st_mtime_ns)
    emu = _SHARED.get(key)
    if emu is None or emu._closed:
        emu = _SHARED[key] = Emulator(uf2).start()
    return emu


@atexit.register
def close_shared():
    for emu in _SHARED.values():
        emu.close()
    _SHARED.clear()


def put_file(device, path, data, timeout=300):
    """Write `data` to `path` on the device's filesystem through its REPL: any object with
    run() (an Emulator, or tests.net.picow_net.PicoW), in 4 KB pieces of base64."""
    import binascii
    device.run("import binascii\n_f = open(%r, 'wb')" % path, timeout=timeout)
    for i in range(0, len(data), 4096):
        b64 = binascii.b2a_base64(data[i:i + 4096], newline=False).decode()
        device.run("_f.write(binascii.a2b_base64(%r))" % b64, timeout=timeout)
    device.run("_f.close()", timeout=timeout)


def run_script(uf2, source, **kw):
    """Boot `uf2` (or reuse the shared emulator for it) and run one script; return stdout."""
    return shared(uf2).run(source, **kw)


def _main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="Run a MicroPython script on a .uf2 in rp2040py.")
    ap.add_argument("uf2")
    ap.add_argument("script", help="a .py file, or - for stdin, or -c CODE")
    ap.add_argument("-c", action="store_true", help="SCRIPT is code, not a file")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--sim-timeout-ms", type=float, default=None)
    a = ap.parse_args(argv)
    import sys
    src = a.script if a.c else (sys.stdin.read() if a.script == "-" else open(a.script).read())
    t0 = time.monotonic()
    with Emulator(a.uf2) as emu:
        t1 = time.monotonic()
        s0 = emu.sim_ns
        try:
            out = emu.run(src, timeout=a.timeout, sim_timeout_ms=a.sim_timeout_ms)
        except ScriptError as e:
            sys.stdout.write(e.stdout)
            sys.stderr.write(e.stderr)
            return 1
        sys.stdout.write(out)
        sys.stderr.write("[emulator] boot %.2f s wall (%.0f ms simulated), script %.2f s wall "
                         "(%.1f ms simulated)\n" % (t1 - t0, emu.boot_sim_ms, time.monotonic() - t1,
                                                    (emu.sim_ns - s0) / 1e6))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
