"""AsyncPieces: an async iterator of n pieces for a StreamingResponse.

    from microfastapi.pieces import AsyncPieces

    async def reading(i):                  # piece i, 0 to n-1
        await asyncio.sleep(1)
        return "data: %d\n\n" % read_sensor()

    return StreamingResponse(AsyncPieces(60, reading), media_type="text/event-stream")

A module of its own: only an app that imports it pays its heap (512 bytes on the unix build, the
module and the class).
"""


class AsyncPieces:
    """An async iterator of `n` pieces, where a generator cannot await (MicroPython 1.25 has no
    async generators): piece i (0 to n-1) is `await piece(i)`, with `piece` an async function,
    which may await a sensor or a timer while other requests go on. The class one would
    otherwise write each time (__aiter__, __anext__, a counter)."""

    def __init__(self, n, piece):
        self.i = 0
        self.n = n
        self.piece = piece

    def __aiter__(self):
        return self

    async def __anext__(self):
        i = self.i
        if i >= self.n:
            raise StopAsyncIteration
        self.i = i + 1
        return await self.piece(i)
