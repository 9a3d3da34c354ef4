from microfastapi.compat.microdot.login import *  # noqa: F401,F403
