from microfastapi.compat.microdot.multipart import *  # noqa: F401,F403
