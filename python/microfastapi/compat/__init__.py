"""Compatibility layers: other frameworks' APIs on top of microfastapi's app and servers.

    from microfastapi.compat.microdot import Microdot   # instead of: from microdot import ...

See docs/migrating-from-microdot.md.
"""
