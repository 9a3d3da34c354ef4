"""Microdot 2.7's microdot.asgi on microfastapi: a Microdot app that is an ASGI application
(microfastapi.asgi.ASGIApp over the app's core). CPython only, like any ASGI server."""
import os
import signal

from ...asgi import ASGIApp
from .core import Microdot as _Microdot, Request, Response  # noqa: F401 - Microdot's names


class Microdot(_Microdot):
    http_version_prefix = "HTTP/"  # req.http_version as Microdot's adapter gives it

    def __init__(self, lifespan_startup=None, lifespan_shutdown=None):
        super().__init__()
        self.embedded_server = False
        self._asgi = ASGIApp(self.core, lifespan_startup, lifespan_shutdown)

    async def __call__(self, scope, receive, send):
        await self._asgi(scope, receive, send)

    def shutdown(self):
        """As Microdot: under an ASGI server, stop the server's process (SIGTERM)."""
        if self.embedded_server:
            super().shutdown()
        else:
            os.kill(os.getpgrp() if hasattr(os, "getpgrp") else os.getpid(), signal.SIGTERM)

    def run(self, host="0.0.0.0", port=5000, debug=False, **options):
        self.embedded_server = True
        super().run(host=host, port=port, debug=debug, **options)
