"""Microdot 2.7's microdot.wsgi on microfastapi: a Microdot app that is a WSGI application
(microfastapi.wsgi.WSGIApp over the app's core). CPython only, like any WSGI server."""
import os  # noqa: F401 - Microdot's suite patches microdot.wsgi.os.kill

from ...wsgi import WSGIApp
from .core import Request, Response  # noqa: F401 - Microdot's names
from .hosted import HostedMicrodot


class Microdot(HostedMicrodot):
    def __init__(self):
        super().__init__()
        self._wsgi = WSGIApp(self.core)

    def __call__(self, environ, start_response):
        return self._wsgi(environ, start_response)
