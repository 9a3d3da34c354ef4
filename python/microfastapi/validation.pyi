from typing import Any, Optional, Sequence, Union

from .routing import Endpoint

REQUIRED: Any
K_ANY: int
K_STR: int
K_INT: int
K_FLOAT: int
K_BOOL: int
K_LIST: int
K_DICT: int
K_OBJ: int

# A declared type: str, int, float, bool, list, dict, object, [T], a dict of fields, a class of
# fields. A field: T, (T, default) or Param.
Declared = Any

class Param:
    type: Declared
    default: Any
    description: Optional[str]
    ge: Optional[float]
    le: Optional[float]
    enum: Optional[Sequence[Any]]
    title: Optional[str]
    spec: Optional["Spec"]
    def __init__(self, type: Declared = ..., default: Any = ..., description: Optional[str] = ..., ge: Optional[float] = ..., le: Optional[float] = ..., enum: Optional[Sequence[Any]] = ..., title: Optional[str] = ...) -> None: ...
    @property
    def required(self) -> bool: ...

Query = Param
Field = Param
Form = Param

class File:
    description: Optional[str]
    required: bool
    media_type: Optional[str]
    def __init__(self, description: Optional[str] = ..., required: bool = ..., media_type: Optional[str] = ...) -> None: ...

class Body:
    schema: Declared
    name: str
    description: Optional[str]
    required: bool
    media_type: str
    spec: Optional["Spec"]
    def __init__(self, schema: Declared, name: str = ..., description: Optional[str] = ..., required: bool = ..., media_type: str = ...) -> None: ...

class Spec:
    kind: int
    item: Optional["Spec"]
    fields: Optional[list[tuple[str, Param]]]
    cls: Optional[type]
    forbid: bool

def compile_spec(t: Declared, forbid: bool = ...) -> Spec: ...
def compile_field(d: Declared, forbid: bool = ...) -> Param: ...
def check(spec: Spec, v: Any, loc: list[Union[str, int]], errors: list[dict[str, Any]]) -> Any: ...
def declarations(meta: dict[str, Any]) -> tuple[Optional[list[tuple[str, Param]]], Optional[Body], bool, Optional[int]]: ...
def install(ep: Endpoint) -> None: ...
