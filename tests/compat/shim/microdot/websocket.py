from microfastapi.compat.microdot.websocket import *  # noqa: F401,F403
