"""microdot.jinja: `Template(name).render(...)` over Jinja2 where it can be imported (CPython);
elsewhere (MicroPython) over minijinja, our small Jinja subset (docs/migrating-from-microdot.md,
Templates), which raises TemplateSyntaxError for anything outside it."""

try:
    from jinja2 import Environment, FileSystemLoader, select_autoescape
except ImportError:
    Environment = None

from .utemplate import _SyncToAsync  # (utemplate itself is imported only when a template loads)


class Template:
    """A template, by its file name relative to the template directory; `kwargs` go to
    Jinja's `get_template()`."""

    #: The Jinja Environment, made by initialize() (on the first Template if not before).
    jinja_env = None

    @classmethod
    def initialize(cls, template_dir="templates", enable_async=False, **kwargs):
        """Where templates are (default `templates`); `enable_async` for render_async() and
        generate_async(); other keywords go to Jinja's Environment."""
        if Environment is None:
            if kwargs:
                raise TypeError("minijinja takes no Environment options (%s)"
                                % ", ".join(kwargs))
            from .minijinja import Environment as MiniEnvironment
            cls.jinja_env = MiniEnvironment(template_dir)
            return
        cls.jinja_env = Environment(loader=FileSystemLoader(template_dir),
                                    autoescape=select_autoescape(),
                                    enable_async=enable_async, **kwargs)

    def __init__(self, template, **kwargs):
        if self.jinja_env is None:
            self.initialize()
        self.name = template
        self.template = self.jinja_env.get_template(template, **kwargs)

    def generate(self, *args, **kwargs):
        """A generator of the rendered text, chunk by chunk."""
        return self.template.generate(*args, **kwargs)

    def render(self, *args, **kwargs):
        """The rendered text, as one str."""
        return self.template.render(*args, **kwargs)

    def generate_async(self, *args, **kwargs):
        """An async generator of the rendered chunks (needs enable_async=True)."""
        if Environment is None:
            return _SyncToAsync(self.template.generate(*args, **kwargs))
        return self.template.generate_async(*args, **kwargs)

    async def render_async(self, *args, **kwargs):
        """The rendered text, as one str (needs enable_async=True)."""
        if Environment is None:
            return self.template.render(*args, **kwargs)
        return await self.template.render_async(*args, **kwargs)
