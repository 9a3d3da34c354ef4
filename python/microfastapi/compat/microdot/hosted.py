"""What microdot.asgi's and microdot.wsgi's Microdot have in common: an app that a CPython
server (ASGI or WSGI) runs, and that stops that server's process on shutdown(). Its
`run()` serves it with our own server, as Microdot's does: the examples' `__main__` blocks
do that, on CPython and on MicroPython alike."""
import os

from .core import Microdot as _Microdot


class HostedMicrodot(_Microdot):
    http_version_prefix = "HTTP/"  # req.http_version as Microdot's adapters give it

    def __init__(self):
        super().__init__()
        self.embedded_server = False

    def shutdown(self):
        """As Microdot: under an ASGI/WSGI server, stop the server's process (SIGTERM)."""
        if self.embedded_server:
            super().shutdown()
        else:
            import signal  # (here: MicroPython has none, and its app.run() needs none)
            os.kill(os.getpgrp() if hasattr(os, "getpgrp") else os.getpid(), signal.SIGTERM)

    def run(self, host="0.0.0.0", port=5000, debug=False, **options):
        self.embedded_server = True
        super().run(host=host, port=port, debug=debug, **options)
