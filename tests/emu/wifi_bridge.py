"""The emulated Pico W's WiFi link, ours instead of rp2040py's stock NAT bridge.

rp2040py 0.3.6's `pico_w` board models the CYW43439: an open access point (any SSID joins), and
every Ethernet frame the firmware sends goes to `bus.nat_bridge.handle_outbound_ethernet_frame()`.
Its stock bridge (`rp2040py.external.cyw43.nat.NatBridge`) relays the chip's UDP and TCP to the
real network from the host: the firmware's mDNS announcements and anything a test did by mistake
would leave the machine. So it must never exist in a test. `pico_w_board()` is the `pico_w` board
with the CYW43439 attaching a `WifiBridge` instead; the stock bridge is never constructed.

A `WifiBridge`:
- answers DHCP itself (the fixed lease rp2040py's access point hands out: 10.0.0.2/24,
  gateway and DNS 10.0.0.1), with rp2040py's own DHCP responder;
- with a TAP device (`tap_fd`, 10.0.0.1/24 inside a network namespace a test made; see
  tests/net/picow_chip.py): swaps every other frame for the chip's subnet with it, so the
  namespace's kernel (ARP, TCP) and its clients talk to lwIP on the chip;
- without one (the in-process emulator, tests/emu): answers ARP for the gateway and drops the rest;
- drops and records (`dropped`, `stats["dropped"]`) every frame addressed anywhere else: other
  subnets, multicast (mDNS), IPv6, other EtherTypes. Nothing is ever relayed to a socket.

Runs on the emulator's engine thread only (rp2040py calls handle_outbound_ethernet_frame there,
in the middle of an emulated SPI write; the TAP reader is an asyncio reader on the engine loop).
"""
import collections
import dataclasses
import errno
import ipaddress
import os
import struct

from rp2040py.boards import BOARDS
from rp2040py.external.cyw43 import Cyw43439, net
from rp2040py.external.cyw43.bus import _GUEST_MAC, SDPCM_HEADER_LEN, GSPIBus
from rp2040py.external.cyw43.nat import GATEWAY_IP, GATEWAY_MAC, GUEST_IP, ArpResponder, DhcpServer
from rp2040py.gpio_pin import GPIOPinState

__all__ = ["WifiBridge", "pico_w_board", "SUBNET", "GATEWAY", "CHIP", "GATEWAY_MAC", "CHIP_MAC"]

SUBNET = ipaddress.ip_network("10.0.0.0/24")
GATEWAY = str(ipaddress.ip_address(GATEWAY_IP))   # 10.0.0.1: the TAP device's address
CHIP = str(ipaddress.ip_address(GUEST_IP))        # 10.0.0.2: the chip's DHCP lease
CHIP_MAC = _GUEST_MAC                              # what the model answers for cur_etheraddr


class WifiBridge:
    # Frames from the TAP waiting in the chip's model; beyond this they are dropped, as a busy
    # radio would, so a stalled chip cannot grow the host's memory without bound.
    MAX_QUEUED = 256
    KEEP_DROPPED = 200

    def __init__(self, bus, tap_fd=None):
        self.bus = bus
        self.fd = tap_fd
        self._arp = ArpResponder()
        self._dhcp = DhcpServer()
        self.dropped = collections.deque(maxlen=self.KEEP_DROPPED)
        self.stats = dict(to_tap=0, to_chip=0, dhcp=0, arp_answered=0, dropped=0,
                          dropped_to_chip=0, resets=0)
        self._loop = None
        # Benchmarks (tests/bench/emu_net_bench.py): when a list, every TCP frame is noted as
        # (simulated ns, to_chip, client port, flags, first 200 payload bytes, payload length,
        # sequence number),
        # the shape the SLIP TapBridge records; `now` is set by the Emulator to its clock.
        self.log = None
        self.now = None
        # A radio delivers nothing before it has joined: frames from the TAP device are dropped
        # until the chip sends one itself (its DHCP request, an ARP), and again after it
        # leaves the access point or loses power; rp2040py's chip model would otherwise hand
        # them to a driver that is still loading its firmware after a reset.
        self.associated = False

    # -- lifecycle (engine thread) -------------------------------------------------------------

    def start(self, loop):
        """Begin reading the TAP device on the engine loop."""
        if self.fd is not None:
            self._loop = loop
            loop.add_reader(self.fd, self._on_tap_readable)

    def stop(self):
        if self._loop is not None:
            self._loop.remove_reader(self.fd)
            self._loop = None

    def reset(self):
        """The chip left the access point (WLC_DISASSOC) or lost power (WL_ON low)."""
        self.stats["resets"] += 1
        self.associated = False

    # -- chip -> host --------------------------------------------------------------------------

    def handle_outbound_ethernet_frame(self, frame):
        self.associated = True
        frame = bytes(frame)
        eth = net.parse_ethernet(frame)
        if eth is None:
            return self._drop(frame, "not ethernet")
        if eth.ethertype == net.ETHERTYPE_ARP:
            if self.fd is not None:
                return self._to_tap(frame)
            reply = self._arp.maybe_handle(eth)
            if reply is None:
                return self._drop(frame, "ARP (no TAP)")
            self.stats["arp_answered"] += 1
            return self.bus.queue_rx_ethernet_frame(reply)
        if eth.ethertype != net.ETHERTYPE_IPV4:
            return self._drop(frame, "ethertype 0x%04x" % eth.ethertype)
        ip = net.parse_ipv4(eth.payload)
        if ip is None:
            return self._drop(frame, "bad IPv4")
        reply = self._dhcp.maybe_handle(eth)
        if reply is not None:
            self.stats["dhcp"] += 1
            return self.bus.queue_rx_ethernet_frame(reply)
        if self.fd is None:
            return self._drop(frame, "no TAP", ip)
        if ipaddress.ip_address(ip.dst_ip) not in SUBNET:
            return self._drop(frame, "outside %s" % SUBNET, ip)
        return self._to_tap(frame)

    def _note(self, frame, to_chip):
        pkt = frame[14:]
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or pkt[9] != 6:
            return
        ihl = (pkt[0] & 15) * 4
        tcp = pkt[ihl:]
        if len(tcp) < 20:
            return
        sport, dport, seq, _, off, flags = struct.unpack("!HHIIBB", tcp[:14])
        total = struct.unpack("!H", pkt[2:4])[0]
        payload = tcp[(off >> 4) * 4:][:max(0, total - ihl - (off >> 4) * 4)]
        self.log.append((self.now(), to_chip, sport if to_chip else dport, flags,
                         bytes(payload[:200]), len(payload), seq))

    def _to_tap(self, frame):
        if self.log is not None:
            self._note(frame, False)
        try:
            os.write(self.fd, frame)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EINVAL, errno.EIO):
                raise
            self.stats["dropped"] += 1
            return
        self.stats["to_tap"] += 1

    def _drop(self, frame, why, ip=None):
        rec = {"why": why, "len": len(frame)}
        if ip is not None:
            rec.update(src=str(ipaddress.ip_address(ip.src_ip)),
                       dst=str(ipaddress.ip_address(ip.dst_ip)), proto=ip.proto)
            if ip.proto in (net.IP_PROTO_UDP, net.IP_PROTO_TCP) and len(ip.payload) >= 4:
                rec["dport"] = int.from_bytes(ip.payload[2:4], "big")
        self.dropped.append(rec)
        self.stats["dropped"] += 1

    # -- host -> chip --------------------------------------------------------------------------

    def _on_tap_readable(self):
        for _ in range(64):
            try:
                frame = os.read(self.fd, 65536)
            except (BlockingIOError, OSError):
                break
            if not frame:
                break
            if not self.associated or len(self.bus._rx_queue) >= self.MAX_QUEUED:
                self.stats["dropped_to_chip"] += 1
                continue
            if self.log is not None:
                self._note(frame, True)
            self.bus.queue_rx_ethernet_frame(frame)
            self.stats["to_chip"] += 1


class _CreditWindowBus(GSPIBus):
    """rp2040py's gSPI bus, granting the driver a window of send credit as a real chip does.

    SDPCM flow control: every frame the chip hands the driver carries `bus_data_credit`, and the
    driver may send while its next sequence number differs from the last credit it read
    (cyw43_ll.c, cyw43_sdpcm_send_common). rp2040py 0.3.6 keeps the credit exactly one frame
    ahead, so a second send right after the first (an ACK, then the answer) stalls until the
    driver has read the first send's flow-control reply. That reply is queued behind whatever
    the host sent meanwhile, and the driver discards every data frame it reads while stalled
    ("Don't process it due to possible reentrancy issues", cyw43_ll.c); each loss also showed
    a copy of the lost frame coming back out of the chip. In a 1,500-request three-client
    soak, 6 of 3,403 frames to the chip were lost this way, and the host's wall-clock
    retransmits then ran into the server's simulated-time timeouts. The driver takes credit up
    to 20 frames ahead; this bus always grants WINDOW frames past the last sequence number the
    driver used."""

    WINDOW = 8
    _next_seq = 0  # the driver's next SDPCM sequence number, as far as its writes have shown

    @property
    def _bus_data_credit(self):
        return (self._next_seq + self.WINDOW) & 0xFF

    @_bus_data_credit.setter
    def _bus_data_credit(self, value):
        pass  # (the stock bus counts its own frames: the window replaces that count)

    def _write_wlan(self, data):
        if len(data) >= SDPCM_HEADER_LEN:
            self._next_seq = (data[4] + 1) & 0xFF  # sdpcm_header_t.sequence
        super()._write_wlan(data)

    def power_off(self):
        self._next_seq = 0  # (the driver starts again from sequence 0)
        super().power_off()


class _SafeCyw43439(Cyw43439):
    """rp2040py's CYW43439 with our bridge attached instead of the stock NAT bridge, on a bus
    that grants a window of send credit (_CreditWindowBus)."""

    def __init__(self, tap_fd, made):
        super().__init__()
        self.bus = _CreditWindowBus()
        self._tap_fd = tap_fd
        self._made = made

    def attach(self, rp2040):
        # Cyw43439.attach() of rp2040py 0.3.6 without its NatBridge(): the same GPIO wiring and
        # WL_ON power listener, then our bridge.
        self.bus.attach_gpio(rp2040, clk=self._clk, data=self._data, cs=self._cs)
        self.bus.nat_bridge = WifiBridge(self.bus, self._tap_fd)
        self._made.append(self.bus.nat_bridge)
        bus = self.bus

        def _power_listener(new_state, old_state):
            if old_state == GPIOPinState.HIGH and new_state != GPIOPinState.HIGH:
                bus.power_off()
                bus.nat_bridge.reset()

        rp2040.gpio[self._power].add_listener(_power_listener)


def pico_w_board(tap_fd=None):
    """(BoardSpec, bridges): rp2040py's `pico_w` board with a WifiBridge; `bridges` receives the
    bridge when the board is built."""
    made = []
    stock = BOARDS["pico_w"]
    extras = tuple(f for f in stock.extras if f is not Cyw43439)
    if len(extras) != len(stock.extras) - 1:
        raise RuntimeError("rp2040py's pico_w board no longer lists Cyw43439 as expected: "
                           "check tests/emu/wifi_bridge.py against this rp2040py version")
    spec = dataclasses.replace(stock, extras=extras + (lambda: _SafeCyw43439(tap_fd, made),))
    return spec, made

