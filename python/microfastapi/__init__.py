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
from .exceptions import HTTPException, RequestValidationError, WebSocketDisconnect
from .request import Request
from .response import (Response, JSONResponse, HTMLResponse, PlainTextResponse,
                       RedirectResponse, StreamingResponse, FileResponse)

__version__ = "0.1.0"
