"""Microdot 2.7's microdot.wsgi on microfastapi: a Microdot app that is a WSGI application
(microfastapi.wsgi.WSGIApp over the app's core). A WSGI server needs CPython; app.run() serves
the app with our server on MicroPython too."""
import os  # noqa: F401 - Microdot's suite patches microdot.wsgi.os.kill

# Microdot's names, as its wsgi module exports them (`from microdot import *` there)
from .core import Request, Response, abort, redirect, send_file, URLPattern  # noqa: F401
from .websocket import WebSocket, with_websocket  # noqa: F401
from .hosted import HostedMicrodot


class Microdot(HostedMicrodot):
    def __init__(self):
        super().__init__()
        self._wsgi = None

    def __call__(self, environ, start_response):
        if self._wsgi is None:
            # (imported here: microfastapi.wsgi needs threading, which MicroPython has not,
            # and app.run() there needs no WSGI)
            from ...wsgi import WSGIApp
            self._wsgi = WSGIApp(self.core)
        return self._wsgi(environ, start_response)
