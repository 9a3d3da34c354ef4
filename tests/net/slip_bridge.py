"""Carry SLIP frames between the emulated RP2040's UART0 and a TUN device.

    with SlipPico(firmware_uf2) as pico:            # namespace + TUN + emulator + bridge + link up
        pico.start_app(APP_SOURCE, ready="listening")  # a script that keeps running (a server)
        pico.ns.run(["curl", "-s", pico.url("/")])     # a client inside the namespace
        pico.ns.call(requests.get, pico.url("/"))      # or a Python client made in the namespace

Direction chip -> host: rp2040py calls `uart.on_byte(b)` for every byte the firmware writes to
UART0's data register (on the emulator's engine thread, in the middle of an instruction); we
SLIP-decode and write each whole frame (one IPv4 packet) to the TUN fd.
Direction host -> chip: the engine loop watches the TUN fd (`loop.add_reader`), SLIP-encodes each
packet into a queue, and a simulated-clock alarm feeds the queue into the UART's 32-byte RX FIFO
(`feed_byte`) at the line rate (3 Mbaud, the firmware's default), never overfilling the FIFO.
The emulated UART has no TX timing, so chip -> host is not rate-limited (the CPU is the limit there).

Everything that touches emulated state runs on the engine thread, as rp2040py requires.
"""
import errno
import os
import time

from tests.emu.emulator import Emulator
from tests.net.netns import NetNS

__all__ = ["SlipBridge", "SlipPico", "slip_encode"]

END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD


def slip_encode(packet):
    out = bytearray([END])
    for b in packet:
        if b == END:
            out += bytes((ESC, ESC_END))
        elif b == ESC:
            out += bytes((ESC, ESC_ESC))
        else:
            out.append(b)
    out.append(END)
    return bytes(out)


class SlipBridge:
    """Moves packets between `emu.uart(uart)` and the TUN file descriptor `tun_fd`."""

    # Host -> chip bytes waiting for the FIFO; beyond this, whole packets are dropped (as a
    # real serial link's send queue would), so a stalled chip cannot grow memory without bound.
    MAX_PENDING = 256 * 1024

    def __init__(self, emu, tun_fd, uart=0, baud=3_000_000):
        self.emu = emu
        self.fd = tun_fd
        self.uart_no = uart
        self.uart = emu.uart(uart)
        self.baud = baud              # host -> chip line rate; MFA_SLIP_BAUDRATE in the firmware
        self._rx = bytearray()        # chip -> host frame being decoded
        self._esc = False
        self._pending = bytearray()   # host -> chip SLIP bytes
        self._alarm = None
        self._feeding = False
        self.stats = dict(to_host_packets=0, to_host_bytes=0, to_chip_packets=0, to_chip_bytes=0,
                          dropped_to_chip=0, dropped_to_host=0, bad_frames=0)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self):
        self.emu.call(self._start)
        return self

    def _start(self):
        self._alarm = self.emu.clock.create_alarm(self._feed)
        self.uart.on_byte = self._on_byte
        self.emu.loop.add_reader(self.fd, self._on_tun_readable)

    def stop(self):
        try:
            self.emu.call(self._stop)
        except Exception:
            pass  # the engine is already gone

    def _stop(self):
        self.emu.loop.remove_reader(self.fd)
        if self.uart.on_byte == self._on_byte:
            self.uart.on_byte = None
        if self._alarm is not None:
            self._alarm.cancel()

    # -- chip -> host (engine thread, inside an emulated store to UARTDR) ----------------------

    def _on_byte(self, b):
        if self._esc:
            self._esc = False
            self._rx.append(END if b == ESC_END else ESC if b == ESC_ESC else b)
        elif b == END:
            if self._rx:
                self._to_host(bytes(self._rx))
                self._rx.clear()
        elif b == ESC:
            self._esc = True
        else:
            self._rx.append(b)

    def _to_host(self, frame):
        if (frame[0] >> 4) != 4 or len(frame) < 20:
            self.stats["bad_frames"] += 1
            return
        try:
            os.write(self.fd, frame)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EINVAL, errno.EIO):
                raise
            self.stats["dropped_to_host"] += 1
            return
        self.stats["to_host_packets"] += 1
        self.stats["to_host_bytes"] += len(frame)

    # -- host -> chip (engine thread) ----------------------------------------------------------

    def _on_tun_readable(self):
        for _ in range(64):
            try:
                pkt = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                break
            if not pkt or (pkt[0] >> 4) != 4:
                continue  # IPv4 only
            if not self.uart.enabled or len(self._pending) > self.MAX_PENDING:
                self.stats["dropped_to_chip"] += 1
                continue
            self._to_chip(pkt)
        if self._pending and not self._feeding:
            self._feeding = True
            self._alarm.schedule(0)

    def _to_chip(self, pkt):
        """Queue one IPv4 packet for the chip's UART (a subclass may look at it first)."""
        self._pending += slip_encode(pkt)
        self.stats["to_chip_packets"] += 1
        self.stats["to_chip_bytes"] += len(pkt)

    def _byte_ns(self):
        # 8N1: 10 bit times a byte. Not from the emulated UART's divisor registers: rp2040py
        # turns them into a rate assuming clk_peri = 125 MHz, while the firmware programs them for
        # the 48 MHz clk_peri it runs with, so that figure is 2.6x too high.
        return 10e9 / self.baud
    def _feed(self):
        uart = self.uart
        if not uart.enabled:
            self._pending.clear()
            self._feeding = False
            return
        fifo = uart.rx_fifo
        n = min(fifo.size - fifo.item_count, len(self._pending))
        for b in self._pending[:n]:
            uart.feed_byte(b)
        del self._pending[:n]
        if self._pending:
            self._alarm.schedule(max(n, 1) * self._byte_ns())
        else:
            self._feeding = False


DEFAULT_SETUP = """\
import network
_nic = network.SLIP({ip!r}, "255.255.255.0", {gw!r})
"""


class SlipPico:
    """A booted emulated MFA_PICO whose SLIP link is up and reachable as `self.addr` from inside
    the private namespace `self.ns`. Fresh namespace and fresh chip per instance."""

    def __init__(self, uf2, host_ip="192.168.7.1", chip_ip="192.168.7.2", baud=3_000_000):
        self.uf2 = uf2
        self.host_ip, self.addr = host_ip, chip_ip
        self.baud = baud
        self.ns = self.emu = self.bridge = None

    def __enter__(self):
        try:
            self.ns = NetNS(host=self.host_ip, peer=self.addr).__enter__()
            fd = self.ns.open_tun()
            t0 = time.monotonic()
            # Never paused: lwIP answers (ping, TCP timers) while the REPL is idle.
            self.emu = Emulator(self.uf2, pause_when_idle=False).start()
            self.bridge = SlipBridge(self.emu, fd, baud=self.baud).start()
            self.emu.run(DEFAULT_SETUP.format(ip=self.addr, gw=self.host_ip))
            self.setup_wall_s = time.monotonic() - t0
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.emu is not None:
            try:
                self.emu.interrupt(timeout=10)
            except Exception:
                pass
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge = None
        if self.emu is not None:
            self.emu.close()
            self.emu = None
        if self.ns is not None:
            self.ns.close()
            self.ns = None

    def run(self, source, **kw):
        """Run a script to completion on the chip (the link stays up)."""
        return self.emu.run(source, **kw)

    def start_app(self, source, ready=None, timeout=60.0):
        """Start a long-running script (a server); wait until it prints `ready` if given."""
        self.emu.start_script(source)
        if ready is not None:
            return self.emu.wait_for_output(ready, timeout)
        return ""

    def stop_app(self, timeout=30.0):
        return self.emu.interrupt(timeout)

    def url(self, path="/", port=80):
        return "http://%s%s%s" % (self.addr, "" if port == 80 else ":%d" % port, path)
