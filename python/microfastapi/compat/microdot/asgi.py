"""Microdot 2.7's microdot.asgi on microfastapi: a Microdot app that is an ASGI application
(microfastapi.asgi.ASGIApp over the app's core). An ASGI server needs CPython; app.run() serves
the app with our server on MicroPython too."""
import os  # noqa: F401 - Microdot's suite patches microdot.asgi.os.kill

from ...asgi import ASGIApp
# Microdot's names, as its asgi module exports them (`from microdot import *` there)
from .core import Request, Response, abort, redirect, send_file, URLPattern  # noqa: F401
from .websocket import WebSocket, with_websocket  # noqa: F401
from .hosted import HostedMicrodot


class Microdot(HostedMicrodot):
    def __init__(self, lifespan_startup=None, lifespan_shutdown=None):
        super().__init__()
        self._asgi = ASGIApp(self.core, lifespan_startup, lifespan_shutdown)

    async def __call__(self, scope, receive, send):
        await self._asgi(scope, receive, send)
