from typing import Any, Sequence

class CORS:
    def __init__(self, app: Any, allow_origins: Sequence[str] = ..., allow_methods: Sequence[str] = ..., allow_headers: Sequence[str] = ..., allow_credentials: bool = ..., expose_headers: Sequence[str] = ..., max_age: int = ...) -> None: ...
