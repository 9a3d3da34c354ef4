from microfastapi.compat.microdot.utemplate import *  # noqa: F401,F403
