from microfastapi.compat.microdot.auth import *  # noqa: F401,F403
