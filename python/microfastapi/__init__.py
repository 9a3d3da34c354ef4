"""microfastapi: FastAPI-style web APIs for MicroPython (Raspberry Pi Pico W) and CPython.

    from microfastapi import MicroFastApi
    app = MicroFastApi()

    @app.get("/items/{item_id:int}")
    def read_item(req, item_id):
        return {"item_id": item_id, "q": req.query.get("q")}

    app.run(port=80)

The HTTP parser and the network loop are the C module `_mfa` when the firmware has it, else
pure Python (microfastapi.parser, microfastapi.pyserver); see microfastapi.backend.
"""

from .app import MicroFastApi, APIRouter
from . import log
from .exceptions import (HTTPException, RequestValidationError, WebSocketDisconnect,
                         ClientDisconnect)
from .request import Request
from .response import (Response, JSONResponse, HTMLResponse, PlainTextResponse,
                       RedirectResponse, StreamingResponse, FileResponse)

__version__ = "0.1.0"

# Imported on first use (module __getattr__), so an app without them does not pay their RAM.
_LAZY = {"Param": "validation", "Query": "validation", "Body": "validation",
         "Form": "validation", "File": "validation", "UploadFile": "uploads",
         "FormData": "uploads"}


def __getattr__(name):
    m = _LAZY.get(name)
    if m is not None:
        return getattr(__import__("microfastapi." + m, None, None, (name,)), name)
    # MicroPython's `from . import submodule` asks this hook first and does not go on to the
    # import when it raises: so a submodule is imported here.
    try:
        return __import__("microfastapi." + name, None, None, ("_",))
    except ImportError:
        raise AttributeError(name)
