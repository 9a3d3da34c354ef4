from microfastapi.compat.microdot.cors import *  # noqa: F401,F403
