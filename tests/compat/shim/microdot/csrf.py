from microfastapi.compat.microdot.csrf import *  # noqa: F401,F403
