from microfastapi.compat.microdot.session import *  # noqa: F401,F403
