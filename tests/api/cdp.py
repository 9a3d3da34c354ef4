"""A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (JSON messages ended
by NUL on file descriptors 3 and 4 of the browser): no websocket library needed."""
import json
import os
import subprocess
import time

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-debugging-pipe"]


class Browser:
    def __init__(self, exe, user_data_dir, flags=()):
        to_r, self._to_w = os.pipe()      # we write commands, the browser reads fd 3
        self._from_r, from_w = os.pipe()  # the browser writes fd 4, we read

        def fds():  # in the child: the two pipe ends as 3 and 4, whatever numbers they had
            r, w = os.dup(to_r), os.dup(from_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [exe] + FLAGS + list(flags) + ["--user-data-dir=%s" % user_data_dir, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=fds)
        os.close(to_r)
        os.close(from_w)
        self._buf = b""
        self._id = 0
        self.session = None
        self.events = []  # DevTools events (method, params) seen while waiting for answers

    def _read(self, timeout):
        import select
        deadline = time.time() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self._from_r], [], [], left)[0]:
                raise TimeoutError("no answer from the browser")
            data = os.read(self._from_r, 65536)
            if not data:
                raise EOFError("the browser closed the pipe")
            self._buf += data
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, timeout=20, **params):
        self._id += 1
        m = {"id": self._id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            m["sessionId"] = self.session
        os.write(self._to_w, json.dumps(m).encode() + b"\0")
        while True:
            r = self._read(timeout)
            if "method" in r and "id" not in r:
                self.events.append((r["method"], r.get("params", {})))
            if r.get("id") == self._id:
                if "error" in r:
                    raise RuntimeError("%s: %s" % (method, r["error"]))
                return r.get("result", {})

    def attach_page(self):
        targets = self.send("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"][0]
        self.session = self.send("Target.attachToTarget", targetId=page["targetId"],
                                 flatten=True)["sessionId"]

    def js(self, expr):
        r = self.send("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("JS: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def wait_js(self, expr, timeout=20):
        deadline = time.time() + timeout
        while True:
            try:
                v = self.js(expr)
            except RuntimeError as e:
                # a form submitted a moment ago navigates the page: an evaluation that meets
                # the old document going away is asked again of the new one
                if "navigated or closed" not in str(e) and \
                        "Cannot find context" not in str(e):
                    raise
                v = None
            if v:
                return v
            if time.time() > deadline:
                raise TimeoutError("waited %ss for %s" % (timeout, expr))
            time.sleep(0.1)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self._to_w)
        os.close(self._from_r)
