from microfastapi.compat.microdot.test_client import *  # noqa: F401,F403
