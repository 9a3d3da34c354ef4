"""The hello API (hello.py) served from a PC or a server, through an ASGI or a WSGI server
(docs/deploying.md): the same app that runs on the board.

    pip install uvicorn
    PYTHONPATH=python:python/examples uvicorn on_a_pc:asgi_app --port 8000
    PYTHONPATH=python:python/examples gunicorn on_a_pc:wsgi_app      # or any WSGI server
"""
from microfastapi.asgi import ASGIApp
from microfastapi.wsgi import WSGIApp

from hello import app

asgi_app = ASGIApp(app)
wsgi_app = WSGIApp(app)
