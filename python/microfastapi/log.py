"""One place for the lines microfastapi writes: levels, and where the lines go.

    from microfastapi import log
    log.level = log.WARNING              # hide the INFO lines (clients that went away, ...)
    log.sinks.append(log.FileSink("/log.txt", max_bytes=8192))   # also keep them on flash

What is logged, and at which level (docs/logging.md):
- ERROR: a handler (or a streamed body's iterator) raised: one line naming the route, then the
  traceback; the server's own unexpected errors (pure server: an exception inside poll()).
- INFO: one line per client-side failure the app sees: a client that went away while its
  handler was running or its answer was streaming (reset, closed), a stream that stalled.
  No traceback: the client did it, not the code.
- DEBUG: nothing today (free for apps).

A sink is any callable `sink(level, text)`; `text` is one line, or a line followed by a
traceback (several lines, no trailing newline). A sink that raises is dropped from `sinks`, so
a full flash cannot take the server down.
"""

try:
    import sys
except ImportError:  # pragma: no cover
    sys = None

try:
    import io
except ImportError:  # pragma: no cover
    io = None

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR"}

level = INFO  # lines below this level are not even formatted


def console(lvl, text):
    """The default sink: print (stdout, the USB/UART REPL on a board)."""
    print("%s: %s" % (NAMES.get(lvl, lvl), text))


sinks = [console]


def _emit(lvl, text):
    for s in list(sinks):
        try:
            s(lvl, text)
        except Exception:
            try:
                sinks.remove(s)  # a broken sink (flash full, ...) is dropped, not retried
            except ValueError:
                pass


def log(lvl, msg, *args):
    if lvl < level:
        return
    if args:
        msg = msg % args
    _emit(lvl, msg)


def debug(msg, *args):
    log(DEBUG, msg, *args)


def info(msg, *args):
    log(INFO, msg, *args)


def warning(msg, *args):
    log(WARNING, msg, *args)


def error(msg, *args):
    log(ERROR, msg, *args)


def format_exc(e):
    """The traceback of `e` as text (no trailing newline)."""
    if sys is not None and hasattr(sys, "print_exception") and io is not None:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        return buf.getvalue().rstrip("\n")
    import traceback
    return "".join(traceback.format_exception(type(e), e, e.__traceback__)).rstrip("\n")


def exception(e, msg, *args):
    """An ERROR line followed by the traceback of `e`."""
    if ERROR < level:
        return
    if args:
        msg = msg % args
    _emit(ERROR, msg + "\n" + format_exc(e))


class FileSink:
    """Append lines to a file, keeping at most about 2 x max_bytes on the filesystem: when the
    file would grow past max_bytes it is renamed to `path + ".1"` (replacing the older one) and
    a new file is started. Each line is written and flushed on its own, so a reset loses at
    most the line being written. `min_level` filters what this sink keeps."""

    def __init__(self, path, max_bytes=16384, min_level=INFO, clock=None):
        self.path = path
        self.max_bytes = max_bytes
        self.min_level = min_level
        self.clock = clock  # optional () -> str prefix (e.g. a timestamp)
        try:
            self.size = os.stat(path)[6]
        except OSError:
            self.size = 0

    def __call__(self, lvl, text):
        if lvl < self.min_level:
            return
        prefix = self.clock() + " " if self.clock is not None else ""
        line = "%s%s: %s\n" % (prefix, NAMES.get(lvl, lvl), text)
        data = line.encode()
        if self.size and self.size + len(data) > self.max_bytes:
            old = self.path + ".1"
            try:
                os.remove(old)
            except OSError:
                pass
            os.rename(self.path, old)
            self.size = 0
        with open(self.path, "ab") as f:
            f.write(data)
        self.size += len(data)
