from microfastapi.compat.microdot.wsgi import *  # noqa: F401,F403
from microfastapi.compat.microdot.wsgi import os  # noqa: F401 - the suite patches microdot.wsgi.os.kill
