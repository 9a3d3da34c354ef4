from typing import Any, Mapping, Optional

class HTTPException(Exception):
    status_code: int
    detail: Any
    headers: Optional[Mapping[str, str]]
    def __init__(self, status_code: int, detail: Any = ..., headers: Optional[Mapping[str, str]] = ...) -> None: ...

class RequestValidationError(Exception):
    errors: list[dict[str, Any]]
    def __init__(self, errors: list[dict[str, Any]]) -> None: ...

class WebSocketDisconnect(Exception):
    code: int
    reason: str
    def __init__(self, code: int = ..., reason: str = ...) -> None: ...
