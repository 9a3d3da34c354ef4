# Serve one benchmark app on the unix build: micropython serve.py mfa|microdot PORT [MAX_CONNS]
# (MICROPYPATH must reach this directory, and Microdot's package for "microdot").
import sys

which, port = sys.argv[1], int(sys.argv[2])
max_conns = int(sys.argv[3]) if len(sys.argv) > 3 else 128
mod = __import__(which + "_app")
mod.serve("127.0.0.1", port, max_conns)
