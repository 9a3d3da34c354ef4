"""microdot.jinja: `Template(name).render(...)` over Jinja2. CPython only: Jinja2 does not
run on MicroPython (on the board, use microdot.utemplate)."""

from jinja2 import Environment, FileSystemLoader, select_autoescape


class Template:
    """A template, by its file name relative to the template directory; `kwargs` go to
    Jinja's `get_template()`."""

    #: The Jinja Environment, made by initialize() (on the first Template if not before).
    jinja_env = None

    @classmethod
    def initialize(cls, template_dir="templates", enable_async=False, **kwargs):
        """Where templates are (default `templates`); `enable_async` for render_async() and
        generate_async(); other keywords go to Jinja's Environment."""
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
        return self.template.generate_async(*args, **kwargs)

    async def render_async(self, *args, **kwargs):
        """The rendered text, as one str (needs enable_async=True)."""
        return await self.template.render_async(*args, **kwargs)
