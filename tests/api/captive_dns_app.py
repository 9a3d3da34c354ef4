"""The captive DNS responder (microfastapi.captive_dns) on 127.0.0.1:PORT, answering every A
query with 192.168.4.1: run by tests/api/test_captive_dns.py on CPython and both unix builds.
Prints "ready" once the socket is bound, then serves until killed."""
import sys

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from microfastapi.captive_dns import CaptiveDNS

dns = CaptiveDNS("192.168.4.1", "127.0.0.1", int(sys.argv[1]))
dns.start()
print("ready")
try:
    sys.stdout.flush()
except AttributeError:
    pass
asyncio.run(dns.serve())
