"""A live dashboard: the page shows the board's temperature as it changes and switches a relay.

    ./build.sh serve python/examples/dashboard.py        then open http://localhost:8000/

- GET /            the page (HTML and JavaScript, no external files)
- WS  /ws          pushes {"celsius", "relay", "n"} every second and takes commands
                   {"relay": true|false}; every client sees every change at once
- GET /events      the same readings as server-sent events: the page falls back to it when
                   its WebSocket cannot connect (or with ?sse in its URL)
- PUT /relay/{on}  the same command over plain HTTP (curl -X PUT localhost:8000/relay/true)

On a Pico W the reading is the on-chip temperature sensor and the relay is the LED; on a host
both are simulated. One `Broadcast` feeds every client: a browser tab that stops reading is
dropped (microfastapi.broadcast), the others never wait for it.
"""
try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from microfastapi import MicroFastApi, HTMLResponse, HTTPException
from microfastapi.broadcast import Broadcast
from microfastapi.sse import EventSourceResponse

from _port import HOST, PORT

PERIOD_S = 1.0


class Board:
    def __init__(self):
        self.relay = False
        try:
            import machine
            self.adc = machine.ADC(4)  # on-chip temperature sensor
            self.led = machine.Pin("LED", machine.Pin.OUT)
        except (ImportError, AttributeError, ValueError, TypeError):
            self.adc = self.led = None  # a host: simulated
            self.t = 21.0

    def celsius(self):
        if self.adc is None:
            self.t = 21.0 + (self.t - 20.9) % 0.5
            return round(self.t, 2)
        volts = self.adc.read_u16() * 3.3 / 65535
        return round(27 - (volts - 0.706) / 0.001721, 2)

    def set_relay(self, on):
        self.relay = on
        if self.led is not None:
            self.led.value(1 if on else 0)


board = Board()
readings = Broadcast(max_queue=4)
app = MicroFastApi(title="dashboard")
count = 0


def reading():
    global count
    count += 1
    return {"celsius": board.celsius(), "relay": board.relay, "n": count}


def command(msg):
    """A message from a page: {"relay": true|false}. Anything else is ignored."""
    try:
        import json
        cmd = json.loads(msg)
        on = cmd["relay"]
    except (ValueError, KeyError, TypeError):
        return
    if on is True or on is False:
        board.set_relay(on)
        readings.publish(reading())  # every page sees the switch at once


@app.get("/")
def page(req):
    return HTMLResponse(PAGE)


@app.websocket("/ws")
async def live(websocket):
    await websocket.accept()
    await websocket.send_json(reading())
    await readings.serve(websocket, on_message=command)


@app.get("/events")
def events(req):
    return EventSourceResponse(readings.subscribe())


@app.put("/relay/{on}")
def relay(req, on):
    if on not in ("true", "false"):
        raise HTTPException(400, "on must be true or false")
    board.set_relay(on == "true")
    readings.publish(reading())
    return {"relay": board.relay}


async def produce():
    while True:
        readings.publish(reading())
        await asyncio.sleep(PERIOD_S)


async def main():
    asyncio.create_task(produce())
    await app.serve(HOST, PORT)


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Pico dashboard</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:30em}
#t{font-size:3em}
button{font-size:1.2em;padding:.4em 1em}
.off{color:#888}
</style></head><body>
<h1>Pico dashboard</h1>
<div id="t">--.-- &deg;C</div>
<p>Relay: <b id="r">?</b> <button id="b">switch</button></p>
<p class="off">via <span id="via">connecting</span>, update <span id="n">0</span></p>
<script>
var relay = false, ws = null;
function show(d) {
  document.getElementById("t").textContent = d.celsius.toFixed(2) + " \\u00b0C";
  relay = d.relay;
  document.getElementById("r").textContent = relay ? "on" : "off";
  document.getElementById("n").textContent = d.n;
}
function sse() {
  document.getElementById("via").textContent = "server-sent events";
  var es = new EventSource("/events");
  es.onmessage = function (e) { show(JSON.parse(e.data)); };
}
document.getElementById("b").onclick = function () {
  var cmd = JSON.stringify({relay: !relay});
  if (ws && ws.readyState === 1) ws.send(cmd);
  else fetch("/relay/" + !relay, {method: "PUT"});
};
if (location.search.indexOf("sse") >= 0 || !window.WebSocket) sse();
else {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = function () { document.getElementById("via").textContent = "WebSocket"; };
  ws.onmessage = function (e) { show(JSON.parse(e.data)); };
  ws.onerror = function () { if (ws.readyState !== 1) { ws = null; sse(); } };
}
</script></body></html>
"""

if __name__ == "__main__":
    asyncio.run(main())
