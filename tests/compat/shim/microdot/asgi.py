from microfastapi.compat.microdot.asgi import *  # noqa: F401,F403
from microfastapi.compat.microdot.asgi import os  # noqa: F401 - the suite patches microdot.asgi.os.kill
