from typing import Any, Optional

from .response import StreamingResponse

class ServerSentEvent:
    data: Any
    event: Optional[str]
    id: Any
    retry: Optional[int]
    comment: Optional[str]
    def __init__(self, data: Any = ..., event: Optional[str] = ..., id: Any = ..., retry: Optional[int] = ..., comment: Optional[str] = ...) -> None: ...
    def encode(self) -> str: ...

def encode(item: Any) -> str: ...

class EventSourceResponse(StreamingResponse):
    source: Any
    ping_ms: int
    def __init__(self, source: Any, status_code: int = ..., headers: Any = ..., ping_ms: int = ...) -> None: ...
