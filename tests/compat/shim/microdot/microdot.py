from microfastapi.compat.microdot.core import *  # noqa: F401,F403
