"""The live dashboard example (python/examples/dashboard.py) in a real browser (issue 13):
headless Chromium opens its page served by build/unix/micropython (_mfa), receives pushed
readings over the WebSocket, switches the relay with the page's button (the server sees the
command: a second client, over plain WebSocket, gets the new state), then the same page over
server-sent events (?sse). tests/api/cdp.py drives the browser over the DevTools protocol."""
import json
import os
import time

from websockets.sync.client import connect

from api_util import HERE, ROOT, app_argv, free_port, spawn, stop
from cdp import Browser

EXAMPLES = ROOT / "python" / "examples"


def el(name):
    """A JS expression for an element's text that is '' while the page is still loading."""
    return "(document.getElementById('%s') || {}).textContent" % name


def text(b, name):
    return b.js(el(name))


def test_dashboard_live_over_websocket_and_sse(unix_mfa, chromium, tmp_path):
    argv, env = app_argv("unix", EXAMPLES / "dashboard.py", unix_mfa, [EXAMPLES])
    port = free_port()
    env["PORT"] = str(port)
    proc = spawn("unix", argv, env, port)
    b = Browser(chromium, str(tmp_path / "profile"))
    try:
        b.attach_page()
        b.send("Page.navigate", url="http://127.0.0.1:%d/" % port)
        b.wait_js(el("via") + " == 'WebSocket'", 20)
        n0 = int(b.wait_js("+%s > 0 && %s" % (el("n"), el("n"))))
        # pushed every second: the page's count goes up without a reload
        b.wait_js("+%s >= %d" % (el("n"), n0 + 2), 10)
        assert text(b, "t").endswith("\u00b0C") and text(b, "r") == "off"
        with connect("ws://127.0.0.1:%d/ws" % port, open_timeout=5) as other:
            assert json.loads(other.recv(timeout=5))["relay"] is False
            b.js("document.getElementById('b').click(); true")  # the page's command
            b.wait_js(el("r") + " == 'on'", 10)
            while not json.loads(other.recv(timeout=5))["relay"]:
                pass  # the server got the browser's command: every client sees relay on
        # the fallback: the same page over server-sent events
        b.send("Page.navigate", url="http://127.0.0.1:%d/?sse" % port)
        b.wait_js(el("via") + " == 'server-sent events'", 20)
        n1 = int(b.wait_js("+%s > 0 && %s" % (el("n"), el("n"))))
        b.wait_js("+%s >= %d" % (el("n"), n1 + 2), 10)
        assert text(b, "r") == "on"
    finally:
        b.close()
        stop(proc)
