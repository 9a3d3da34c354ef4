"""microdot.utemplate: `Template(name).render(...)` over pfalcon's `utemplate` engine.

utemplate is not part of microfastapi: copy its package (PyPI `utemplate`, pure Python, runs on
MicroPython) onto the board beside your app. A template file is compiled to a Python module
the first time it is loaded (`templates/index.html` -> `templates/index_html.py`, imported
from then on), and compiled again when the .html is newer (the default `recompile.Loader`), so
the directory must be writable on the board, or hold the compiled modules already (pass
`utemplate.compiled.Loader`).
"""

try:
    _StopAsync = StopAsyncIteration
except NameError:  # pragma: no cover
    _StopAsync = StopIteration

_loader = None


def _default_loader():
    # Imported here, not at import time, so that importing this module with no utemplate
    # installed fails only when a template is used, with utemplate's name in the error.
    from utemplate import recompile
    return recompile.Loader


class _SyncToAsync:
    """An async iterator over a (sync) generator of chunks."""

    def __init__(self, gen):
        self.gen = gen

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return next(self.gen)
        except StopIteration:
            raise _StopAsync


class Template:
    """A template, by its file name relative to the template directory."""

    @classmethod
    def initialize(cls, template_dir="templates", loader_class=None):
        """Where templates are (default `templates`, relative to the current directory) and
        which utemplate loader reads them (default `utemplate.recompile.Loader`)."""
        global _loader
        _loader = (loader_class or _default_loader())(None, template_dir)

    def __init__(self, template):
        if _loader is None:
            self.initialize()
        self.name = template
        self.template = _loader.load(template)

    def generate(self, *args, **kwargs):
        """A generator of the rendered text, chunk by chunk (a body Response streams)."""
        return self.template(*args, **kwargs)

    def render(self, *args, **kwargs):
        """The rendered text, as one str."""
        return "".join(self.generate(*args, **kwargs))

    def generate_async(self, *args, **kwargs):
        """An async iterator of the rendered chunks."""
        return _SyncToAsync(self.generate(*args, **kwargs))

    async def render_async(self, *args, **kwargs):
        """The rendered text, as one str (awaitable)."""
        out = []
        async for chunk in self.generate_async(*args, **kwargs):
            out.append(chunk)
        return "".join(out)
