"""Microdot 2.7's microdot.wsgi on microfastapi: a Microdot app that is a WSGI application
(microfastapi.wsgi.WSGIApp over the app's core). CPython only, like any WSGI server."""
import os
import signal

from ...wsgi import WSGIApp
from .core import Microdot as _Microdot, Request, Response  # noqa: F401 - Microdot's names


class Microdot(_Microdot):
    http_version_prefix = "HTTP/"  # req.http_version as Microdot's adapter gives it

    def __init__(self):
        super().__init__()
        self.embedded_server = False
        self._wsgi = WSGIApp(self.core)

    def __call__(self, environ, start_response):
        return self._wsgi(environ, start_response)

    def shutdown(self):
        """As Microdot: under a WSGI server, stop the server's process (SIGTERM)."""
        if self.embedded_server:
            super().shutdown()
        else:
            os.kill(os.getpgrp() if hasattr(os, "getpgrp") else os.getpid(), signal.SIGTERM)

    def run(self, host="0.0.0.0", port=5000, debug=False, **options):
        self.embedded_server = True
        super().run(host=host, port=port, debug=debug, **options)
