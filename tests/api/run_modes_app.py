"""Serve a tiny app in one of the three ways DESIGN.md promises:
    run_modes_app.py PORT poll    app.start() + app.poll() in a hand-written loop
    run_modes_app.py PORT serve   await app.serve() as an asyncio task beside a ticker task
    run_modes_app.py PORT run     app.run() (blocking)
"""
import sys

from microfastapi import MicroFastApi

app = MicroFastApi(title="modes")
state = {"ticks": 0, "loops": 0}


@app.get("/state")
def get_state(req):
    return state


@app.get("/repr")
def get_repr(req):
    return {"app": str(app)}


@app.get("/sleepy")
async def sleepy(req):
    import asyncio
    await asyncio.sleep(0.05)
    return {"slept": True}


def main():
    port = int(sys.argv[1])
    mode = sys.argv[2]
    if mode == "poll":
        srv = app.start("127.0.0.1", port)
        print(app)
        while True:
            state["loops"] += 1
            if not app.poll():
                srv.wait(100)
    elif mode == "serve":
        import asyncio

        async def ticker():
            while True:
                state["ticks"] += 1
                await asyncio.sleep(0.05)

        async def both():
            asyncio.create_task(ticker())
            await app.serve("127.0.0.1", port)
        asyncio.run(both())
    else:
        app.run("127.0.0.1", port)


main()
