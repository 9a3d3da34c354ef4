from typing import Any, Callable, Optional

class Converter:
    fn: Callable[[str], Any]
    error_type: str
    error_msg: str
    greedy: bool
    schema: dict[str, Any]

converters: dict[str, Converter]

def register_converter(name: str, fn: Callable[[str], Any], error_type: str = ..., error_msg: str = ..., greedy: bool = ..., schema: Optional[dict[str, Any]] = ...) -> None: ...
def compile_template(template: str) -> list[Any]: ...

class Endpoint:
    template: str
    methods: list[str]
    fn: Callable[..., Any]
    call: Callable[..., Any]
    meta: dict[str, Any]

class Route:
    template: str
    parts: list[Any]
    by_method: dict[str, Endpoint]
    def match(self, path: str) -> Optional[dict[str, str]]: ...

class LinearRouter:
    static: dict[str, dict[str, Endpoint]]
    dynamic: list[Route]
    endpoints: list[Endpoint]
    def add(self, template: str, methods: list[str], fn: Callable[..., Any], meta: dict[str, Any]) -> Endpoint: ...
    def find(self, method: str, path: str) -> tuple[Any, Any, Any]: ...

class Router(LinearRouter):
    tree: Optional[tuple[Any, ...]]
    def index(self) -> tuple[Any, ...]: ...

def build_index(routes: list[Route]) -> tuple[Any, ...]: ...
