"""Microdot 2.7's API on microfastapi: a Microdot app switches with its import lines
(`microdot` -> `microfastapi.compat.microdot`) and is served by our server (the `_mfa` C core
when the firmware has it). What differs, and why: docs/migrating-from-microdot.md."""

from .core import (Microdot, Request, Response, HTTPException, URLPattern, MultiDict,  # noqa
                   NoCaseDict, AsyncBytesIO, abort, redirect, send_file, urlencode, urldecode,
                   iscoroutine)

__version__ = "2.7.0"
