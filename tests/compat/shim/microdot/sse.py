from microfastapi.compat.microdot.sse import *  # noqa: F401,F403
