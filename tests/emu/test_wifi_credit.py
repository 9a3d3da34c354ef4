"""The emulated CYW43439's SDPCM send credit (tests/emu/wifi_bridge.py, _CreditWindowBus).

The cyw43 driver may send while its next sequence number differs from the last bus_data_credit
it read, and while stalled it discards the data frames it reads (cyw43_ll.c). With rp2040py's
stock bus the credit is one frame ahead, so the driver's second send in a row stalled and the
host's frames read meanwhile were lost; our bus keeps the credit WINDOW frames ahead.
"""
from rp2040py.external.cyw43.bus import DATA_HEADER, SDPCM_HEADER_LEN

from tests.emu.wifi_bridge import _SafeCyw43439

ETH = bytes(6) + bytes(6) + b"\x08\x00" + bytes(46)  # a minimal Ethernet frame


def _send(bus, seq):
    """What cyw43_sdpcm_send_common writes for one Ethernet frame with sequence number seq."""
    payload = bytes(2) + bytes([0x20, 0, 0, 0]) + ETH  # pad, BDC header, frame
    size = SDPCM_HEADER_LEN + len(payload)
    head = (size.to_bytes(2, "little") + (~size & 0xFFFF).to_bytes(2, "little")
            + bytes([seq & 0xFF, DATA_HEADER, 0, SDPCM_HEADER_LEN + 2, 0, 0]) + bytes(2))
    bus._write_wlan(head + payload)


def _last_credit(bus):
    """The bus_data_credit of the newest frame waiting for the driver (None if none)."""
    frames = ([bus._rx_packet] if bus._rx_packet else []) + list(bus._rx_queue)
    return frames[-1][9] if frames else None


def test_the_driver_can_send_a_window_of_frames_without_reading():
    bus = _SafeCyw43439(None, []).bus
    bus.nat_bridge = None
    last, seq = 1, 0  # cyw43_ll_init's starting values
    _send(bus, seq)
    seq += 1
    last = _last_credit(bus)  # the driver reads the flow-control reply of its first send
    for _ in range(bus.WINDOW - 1):
        # the next sends go out before the driver reads anything (an ACK, then the answer...)
        assert last != seq & 0xFF, "the driver would stall (credit %d, sequence %d)" % (last, seq)
        _send(bus, seq)
        seq += 1


def test_host_frames_carry_credit_ahead_of_the_driver():
    bus = _SafeCyw43439(None, []).bus
    bus.nat_bridge = None
    for seq in range(300):  # across the 8-bit wrap
        _send(bus, seq)
        bus.queue_rx_ethernet_frame(ETH)
        credit = _last_credit(bus)
        assert credit == (seq + 1 + bus.WINDOW) & 0xFF
        # the driver takes a credit at most 20 ahead of the last one it read (cyw43_ll.c)
        assert (credit - seq) & 0xFF <= 20
        bus._rx_packet, bus._rx_queue = b"", []


def test_power_off_starts_the_count_again():
    bus = _SafeCyw43439(None, []).bus
    bus.nat_bridge = None
    for seq in range(5):
        _send(bus, seq)
    bus.power_off()
    bus.queue_rx_ethernet_frame(ETH)
    assert _last_credit(bus) == bus.WINDOW
