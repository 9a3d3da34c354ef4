"""Pico W sensor / relay API: read the on-chip temperature sensor, switch a relay (or the LED).

On the Pico W:  copy this file (and _port.py) as main.py's neighbours, set SSID/PASSWORD,
                and it connects to WiFi and serves on port 80, at http://pico-relay.local/
                too (HOSTNAME; docs/wifi.md).
On a host:      ./build.sh serve python/examples/pico_sensor_relay.py
                there is no `machine` with real pins, so a simulated board is used and
                GET /board says so.

    curl <ip>/temperature     curl -X PUT <ip>/relay/1/on     curl <ip>/relay

Who may switch: PUT /secure/relay/{n}/{state} needs the password (HTTP Basic) or the token
(Bearer); wrong guesses from one address are answered 429 after five tries. Change RELAY_USERS
and RELAY_TOKENS, and set OPEN_RELAY = False so that the open PUT /relay/... is gone:

    curl -u admin:change-me -X PUT <ip>/secure/relay/1/on
    curl -H "Authorization: Bearer change-this-token" -X PUT <ip>/secure/relay/1/off

/docs has an Authorize button for both (docs/security.md).
"""
from microfastapi import MicroFastApi, HTTPException
from microfastapi.security import HTTPBasic, HTTPBearer

from _port import HOST, PORT

SSID = "your-ssid"
PASSWORD = "your-password"
HOSTNAME = "pico-relay"       # answers as http://pico-relay.local/ (mDNS)
RELAY_PINS = {1: 15, 2: 14}   # relay number -> GPIO
RELAY_USERS = {"admin": "change-me"}                 # HTTP Basic: user -> password
RELAY_TOKENS = {"change-this-token": "home-automation"}  # Bearer: token -> who it is
OPEN_RELAY = True   # the unauthenticated PUT /relay/{n}/{state} of the quick start


class RealBoard:
    name = "Raspberry Pi Pico W (machine)"

    def __init__(self):
        import machine
        self.adc = machine.ADC(4)  # on-chip temperature sensor
        self.pins = {n: machine.Pin(g, machine.Pin.OUT, value=0) for n, g in RELAY_PINS.items()}
        # What we switched each relay to: reading an output pin back gives the pad's level,
        # which a relay module's driver (or an emulator) does not always let follow the output.
        self.state = {n: False for n in RELAY_PINS}
        try:
            self.led = machine.Pin("LED", machine.Pin.OUT)
        except (TypeError, ValueError):
            self.led = None

    def temperature_c(self):
        volts = self.adc.read_u16() * 3.3 / 65535
        return 27 - (volts - 0.706) / 0.001721

    def set_relay(self, n, on):
        self.pins[n].value(1 if on else 0)
        self.state[n] = on

    def relay(self, n):
        return self.state[n]

    def set_led(self, on):
        if self.led is not None:
            self.led.value(1 if on else 0)


class SimulatedBoard:
    name = "simulated (no machine.ADC/Pin on this host: values are made up)"

    def __init__(self):
        self.state = {n: False for n in RELAY_PINS}
        self.t = 21.0

    def temperature_c(self):
        self.t = 21.0 + (self.t - 20.5) % 1.0
        return self.t

    def set_relay(self, n, on):
        self.state[n] = on

    def relay(self, n):
        return self.state[n]

    def set_led(self, on):
        pass


def make_board():
    try:
        return RealBoard()
    except (ImportError, AttributeError, ValueError, TypeError) as e:
        print("pico_sensor_relay: no usable machine pins (%r): using a simulated board" % (e,))
        return SimulatedBoard()


board = make_board()
app = MicroFastApi(title="pico sensor/relay")


def _check(n):
    if n not in RELAY_PINS:
        raise HTTPException(404, "No relay %d (have %s)" % (n, sorted(RELAY_PINS)))


@app.get("/board")
def board_info(req):
    return {"board": board.name, "relays": sorted(RELAY_PINS)}


@app.get("/temperature")
def temperature(req):
    return {"celsius": round(board.temperature_c(), 2)}


@app.get("/relay")
def relays(req):
    return {str(n): board.relay(n) for n in RELAY_PINS}


@app.get("/relay/{n:int}")
def relay(req, n):
    _check(n)
    return {"relay": n, "on": board.relay(n)}


def set_relay(req, n, state):
    _check(n)
    if state not in ("on", "off"):
        raise HTTPException(422, "state must be 'on' or 'off'")
    board.set_relay(n, state == "on")
    board.set_led(any(board.relay(k) for k in RELAY_PINS))
    return {"relay": n, "on": board.relay(n)}


if OPEN_RELAY:
    app.put("/relay/{n:int}/{state}")(set_relay)

# Either scheme will do; req.user is the user name or the token's owner.
relay_guard = [HTTPBasic(users=RELAY_USERS, realm="pico relay"), HTTPBearer(tokens=RELAY_TOKENS)]


@app.put("/secure/relay/{n:int}/{state}", security=relay_guard,
         summary="Switch a relay (password or token)")
def secure_set_relay(req, n, state):
    r = set_relay(req, n, state)
    r["by"] = req.user
    return r


def main():
    host, port = HOST, PORT
    if isinstance(board, RealBoard):
        try:
            from microfastapi.wifi import connect
            print("WiFi address:", connect(SSID, PASSWORD, timeout=20, hostname=HOSTNAME))
            port = 80
        except ImportError:
            pass
    app.run(host, port)


if __name__ == "__main__":
    main()
