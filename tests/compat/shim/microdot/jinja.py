from microfastapi.compat.microdot.jinja import *  # noqa: F401,F403
