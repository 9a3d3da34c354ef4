# The `microdot` package of Microdot's test suite, pointed at microfastapi's compat layer.
from microfastapi.compat.microdot import *  # noqa: F401,F403
from microfastapi.compat.microdot import __version__  # noqa: F401
