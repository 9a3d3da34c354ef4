from .app import MicroFastApi as MicroFastApi, APIRouter as APIRouter
from . import log as log
from .exceptions import HTTPException as HTTPException, RequestValidationError as RequestValidationError, WebSocketDisconnect as WebSocketDisconnect
from .request import Request as Request
from .response import (Response as Response, JSONResponse as JSONResponse,
                       HTMLResponse as HTMLResponse, PlainTextResponse as PlainTextResponse,
                       RedirectResponse as RedirectResponse,
                       StreamingResponse as StreamingResponse, FileResponse as FileResponse)

__version__: str
