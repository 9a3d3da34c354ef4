from typing import List, Optional, Tuple, Union

# Events: (MP_PART, name, filename, content_type, headers), (MP_DATA, data), (MP_PART_END,),
# (MP_END,). data is a memoryview slice of the buffer given to feed (valid until the caller
# reuses it) or bytes (held-back bytes).
Header = Tuple[str, str]
PartEvent = Tuple[int, str, Optional[str], Optional[str], List[Header]]
DataEvent = Tuple[int, Union[memoryview, bytes]]
Event = Union[PartEvent, DataEvent, Tuple[int]]

MP_PART: int
MP_DATA: int
MP_PART_END: int
MP_END: int
MAX_BOUNDARY: int

class MultipartError(ValueError):
    # args == (HTTP status, message), e.g. (400, "multipart: bad part headers")
    ...

class MultipartReader:
    def __init__(self, boundary: Union[bytes, str], max_parts: int = ..., max_header: int = ...) -> None: ...
    def feed(self, data: Union[bytes, bytearray, memoryview]) -> List[Event]: ...
    def finish(self) -> None: ...

def multipart_boundary(content_type: str) -> bytes: ...
