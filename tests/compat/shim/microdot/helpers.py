from microfastapi.compat.microdot.helpers import *  # noqa: F401,F403
