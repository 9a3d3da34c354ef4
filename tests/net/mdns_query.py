"""A one-shot mDNS query for `<name>.local`'s A record, as a client on the host sends it.

    python -m tests.net.mdns_query NAME.local [--to 224.0.0.251] [--via 10.0.0.1] [--wait S]

prints {"addrs": [...], "rtt_s": ...} as JSON ("addrs" empty when nothing answered in time).

RFC 6762 section 5.1's one-shot query: a plain DNS query sent from an ephemeral port (not 5353)
to the mDNS group 224.0.0.251:5353 (or to a host's own address, port 5353). A responder answers
such a "legacy unicast" query by unicast, to the port it came from, echoing the query ID, which
is what lets a test see the answer: tests/emu/wifi_bridge.py hands the chip every frame of the
namespace (multicast included) but drops the chip's multicast frames (its own mDNS
announcements never leave the chip), and forwards unicast to the namespace. Resends every
0.5 s until `--wait` seconds have passed: the responder answers only once it has probed for
the name (about a second of the chip's time after a rename).
"""
import argparse
import json
import os
import socket
import struct
import time

MDNS_GROUP = "224.0.0.251"
MDNS_PORT = 5353
TYPE_A = 1
CLASS_IN = 1


def build_query(name, qid):
    """A DNS query (RFC 1035 4.1) for name's A record, class IN, no recursion wanted."""
    q = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + q + b"\0" + struct.pack("!HH", TYPE_A,
                                                                                 CLASS_IN)


def _skip_name(msg, i):
    """The offset after the (possibly compressed) name at msg[i]."""
    while True:
        n = msg[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:  # a pointer ends the name
            return i + 2
        i += 1 + n


def _read_name(msg, i, hops=0):
    labels = []
    while hops < 20:
        n = msg[i]
        if n == 0:
            break
        if n & 0xC0 == 0xC0:
            labels.append(_read_name(msg, ((n & 0x3F) << 8) | msg[i + 1], hops + 1))
            break
        labels.append(msg[i + 1:i + 1 + n].decode())
        i += 1 + n
        hops += 1
    return ".".join(labels)


def parse_answer(msg, qid, name):
    """The IPv4 addresses of name's A records in the reply msg to query qid; None when msg is
    not a response to that query."""
    rid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    if rid != qid or not flags & 0x8000:
        return None
    i = 12
    for _ in range(qd):
        i = _skip_name(msg, i) + 4
    addrs = []
    for _ in range(an):
        rname = _read_name(msg, i)
        i = _skip_name(msg, i)
        rtype, rclass, _, rdlen = struct.unpack("!HHIH", msg[i:i + 10])
        i += 10
        if (rtype == TYPE_A and rclass & 0x7FFF == CLASS_IN and rdlen == 4
                and rname.lower() == name.rstrip(".").lower()):
            addrs.append(socket.inet_ntoa(msg[i:i + 4]))
        i += rdlen
    return addrs


def query(name, to=MDNS_GROUP, via=None, wait=5.0):
    """(addresses, seconds to the first answer) for name; ([], None) when none came."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(((via or ""), 0))
        if via:  # the multicast leaves by the interface of that address (the namespace's TAP)
            s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(via))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        qid = struct.unpack("!H", os.urandom(2))[0]
        pkt = build_query(name, qid)
        t0 = time.monotonic()
        deadline = t0 + wait
        while time.monotonic() < deadline:
            s.sendto(pkt, (to, MDNS_PORT))
            resend = min(deadline, time.monotonic() + 0.5)
            while True:
                left = resend - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    msg, _ = s.recvfrom(1500)
                except socket.timeout:
                    break
                addrs = parse_answer(msg, qid, name)
                if addrs:
                    return addrs, time.monotonic() - t0
        return [], None
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--to", default=MDNS_GROUP)
    ap.add_argument("--via", default=None)
    ap.add_argument("--wait", type=float, default=5.0)
    a = ap.parse_args()
    addrs, rtt = query(a.name, a.to, a.via, a.wait)
    print(json.dumps({"addrs": addrs, "rtt_s": rtt}))


if __name__ == "__main__":
    main()
