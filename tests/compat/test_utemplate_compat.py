"""microdot.utemplate on the compat layer, compiling templates at run time (Microdot's own
test_utemplate ships its template already compiled): CPython and both unix builds, with the
pinned utemplate (templates_support.py) on the path as a user copies it onto the board."""

import os
import subprocess
import sys

import pytest

import templates_support

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.join(HERE, "..", "..", "python")

SCRIPT = r"""
import asyncio
from microfastapi.compat.microdot import Microdot
from microfastapi.compat.microdot.test_client import TestClient
from microfastapi.compat.microdot.utemplate import Template

Template.initialize("pages")
print("render", repr(Template("page.html").render(name="<b>", items=[1, 2])))
print("generate", repr(list(Template("page.html").generate(name=None, items=[]))[:2]))

app = Microdot()

@app.route("/")
async def index(req):
    return Template("page.html").generate(name=req.args.get("name"), items=[3])

@app.route("/async")
async def index_async(req):
    return await Template("page.html").render_async(name="a", items=[])

async def main():
    client = TestClient(app)
    res = await client.get("/?name=q")
    print("app", res.status_code, repr(res.text))
    res = await client.get("/async")
    print("async", res.status_code, repr(res.text))
asyncio.run(main())
"""

PAGE = """{% args name, items %}
{% include 'head.html' %}{% if name %}Hello, {{ name }}!{% else %}Hello!{% endif %}
{% for i in items %}[{{ i }}]{% endfor %}
"""


def run(interp, tmp_path):
    path = [PYDIR, str(templates_support.utemplate_dir())]
    env = dict(os.environ)
    if interp == "cpython":
        argv = [sys.executable, "app.py"]
        env["PYTHONPATH"] = os.pathsep.join(path + [str(tmp_path)])
    else:
        argv = [interp, "app.py"]
        env["MICROPYPATH"] = ":".join(path + [str(tmp_path), ".frozen"])
    p = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


@pytest.mark.parametrize("interp", ["cpython", "unix", "unix-pure"])
def test_templates_compile_render_and_recompile(interp, request, tmp_path):
    if interp != "cpython":
        interp = request.getfixturevalue("unix_mfa" if interp == "unix" else "unix_pure")
    (tmp_path / "app.py").write_text(SCRIPT)
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "head.html").write_text("<h1>T</h1>\n")
    (pages / "page.html").write_text(PAGE)
    out = run(interp, tmp_path)
    # utemplate does not escape (as with Microdot): the name comes out as given
    # (utemplate drops the newline that ends a line with a {% %} statement)
    assert "render '<h1>T</h1>\\nHello, <b>![1][2]'" in out, out
    assert "generate ['<h1>T</h1>\\n', 'Hello!']" in out, out
    assert "app 200 '<h1>T</h1>\\nHello, q![3]'" in out, out
    assert "async 200 '<h1>T</h1>\\nHello, a!'" in out, out
    assert (pages / "page_html.py").exists()  # compiled at run time, beside the template
    # a newer template is compiled again (recompile.Loader compares the files' mtimes)
    (pages / "page.html").write_text(PAGE.replace("Hello", "Bye"))
    st = os.stat(pages / "page_html.py")
    os.utime(pages / "page.html", (st.st_atime + 10, st.st_mtime + 10))
    out = run(interp, tmp_path)
    assert "app 200 '<h1>T</h1>\\nBye, q![3]'" in out, out
