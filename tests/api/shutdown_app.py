"""app.shutdown() while serving, for test_shutdown.py. Runs on CPython and MicroPython.

    <python or micropython> shutdown_app.py PORT MODE
MODE "task": `await app.serve()` beside a task that calls app.shutdown() once GET /go was
answered; "handler": GET /stop calls app.shutdown() inside the handler under app.run();
"async-handler": the same from an async handler that awaits first; "poll": start() + poll()
in a hand-written loop, shutdown() from the loop. Prints "returned" when serve()/run()/the loop
is over, then binds the port again to show it is free ("port free").
"""
import sys

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio
import socket

from microfastapi import MicroFastApi

port, mode = int(sys.argv[1]), sys.argv[2]
app = MicroFastApi(title="shutdown")
went = []


@app.get("/go")
def go(req):
    went.append(1)
    return {"go": True}


@app.get("/stop")
def stop(req):
    app.shutdown()
    return {"stopping": True, "body": "x" * 20000}  # an answer bigger than one send


@app.get("/astop")
async def astop(req):
    await asyncio.sleep(0.05)
    app.shutdown()
    return {"stopping": True, "body": "y" * 20000}


async def stopper():
    while not went:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    app.shutdown()


async def main():
    asyncio.create_task(stopper())
    await app.serve("127.0.0.1", port)


if mode == "task":
    asyncio.run(main())
elif mode == "poll":
    app.start("127.0.0.1", port)
    print("listening")
    while not went:
        if not app.poll():
            app.server.wait(20)
    app.shutdown()
else:
    app.run("127.0.0.1", port)
print("returned")
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
s.listen(1)
s.close()
print("port free")
