"""Microdot 2.7's microdot.wsgi on microfastapi: a Microdot app that is a WSGI application
(microfastapi.wsgi.WSGIApp over the app's core). CPython only, like any WSGI server."""
import os  # noqa: F401 - Microdot's suite patches microdot.wsgi.os.kill

from ...wsgi import WSGIApp
# Microdot's names, as its wsgi module exports them (`from microdot import *` there)
from .core import Request, Response, abort, redirect, send_file, URLPattern  # noqa: F401
from .websocket import WebSocket, with_websocket  # noqa: F401
from .hosted import HostedMicrodot


class Microdot(HostedMicrodot):
    def __init__(self):
        super().__init__()
        self._wsgi = WSGIApp(self.core)

    def __call__(self, environ, start_response):
        return self._wsgi(environ, start_response)
