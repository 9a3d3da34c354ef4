"""minijinja (microdot.jinja without jinja2, as on MicroPython): each template of the table,
rendered on the unix build, must come out exactly as Jinja2 renders it on CPython with
Microdot's setup (FileSystemLoader, select_autoescape); templates outside the subset must
raise TemplateSyntaxError naming the construct and the line."""

import json
import os
import subprocess

import pytest

jinja2 = pytest.importorskip("jinja2")

HERE = os.path.dirname(os.path.abspath(__file__))
PYDIR = os.path.join(HERE, "..", "..", "python")

TEMPLATES = {
    "base.html": "<title>{% block title %}Base{% endblock %}</title>\n"
                 "{% block content %}{% endblock %}\n",
    "inc.html": "inc {{ name }}\n",
    "names.html": "{{ name }} {{ d.k }} {{ d['k'] }} {{ obj.n }} {{ missing }}|"
                  "{{ 'lit' }} {{ 3 }} {{ 2.5 }} {{ none }} {{ true }}\n",
    "filters.html": "{{ name|e }} {{ html|safe }} {{ name|upper }} {{ 'AbC'|lower }} "
                    "{{ missing|default('dflt') }} {{ ''|default('x', true) }} "
                    "{{ xs|length }} {{ xs|join(', ') }} {{ ' t '|trim }} "
                    "{{ html|safe|upper }} {{ 'ab'|replace('a', '<') }}\n",
    "if.html": "{% if a and not b %}1{% endif %}{% if b or c > 2 %}2{% else %}x{% endif %}"
               "{% if 'k' in d %}3{% endif %}{% if 5 not in xs %}4{% endif %}"
               "{% if a == 1 != b %}5{% endif %}{% if b %}no{% elif c >= 3 %}6{% endif %}"
               "{% if missing is defined %}no{% else %}7{% endif %}\n",
    "for.html": "{% for x in xs %}{{ loop.index }}:{{ x }}{% if not loop.last %},{% endif %}"
                "{% endfor %} {% for x in [] %}no{% else %}empty{% endfor %} "
                "{% for k, v in pairs %}{{ k }}={{ v }};{% endfor %}"
                "{% for x in xs %}{% set y = x ~ '!' %}{{ y }}{% endfor %}{{ y }}\n",
    "arith.html": "{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ -c }} {{ 'a' ~ 1 }} "
                  "{{ (1 + 2) * 3 }} {{ xs|length + 1 }}\n",
    "space.html": "a  {{- name -}}  b\n  {%- if a %} c {% endif -%}\n  d {#- gone -#} e\n"
                  "{# a comment #}f\n\n",
    "child.html": "{% extends 'base.html' %}\n{% block title %}{{ super() }} + {{ name }}"
                  "{% endblock %}\n{% block content %}<p>{% include 'inc.html' %}</p>"
                  "{% endblock %}\n",
    "grandchild.html": "{% extends 'child.html' %}{% block title %}[{{ super() }}]"
                       "{% endblock %}",
    "plain.txt": "Hello, {{ name }}!\n",
    "undefined.html": "{% if missing %}no{% else %}ok{% endif %}|{{ missing|length }}|"
                      "{% for x in missing %}x{% endfor %}|{{ missing }}|{{ d.nokey }}",
}
CONTEXT = {"name": "<Ann & 'Bo'>", "html": "<b>x</b>", "d": {"k": "v"}, "xs": ["x", "<y>"],
           "a": 1, "b": 0, "c": 3, "pairs": [["p", 1], ["q", 2]]}
ERRORS = {
    "macro.html": ("a\n{% macro m() %}{% endmacro %}", "line 2: unknown or unsupported tag 'macro'"),
    "filter.html": ("{{ x|wordcount }}", "line 1: unknown filter 'wordcount'"),
    "open.html": ("\n\n{% if a %}x", "line 3: missing '{% endif %}'"),
    "cond.html": ("{{ a if b else c }}", "conditional expressions"),
    "kw.html": ("{{ x|default(boolean=true) }}", "keyword arguments are not supported"),
}

SCRIPT = r"""
import json, sys
from microfastapi.compat.microdot import jinja
from microfastapi.compat.microdot.minijinja import TemplateSyntaxError

class Obj:
    n = 42

jinja.Template.initialize("pages")
ctx = json.loads(sys.argv[1])
ctx["obj"] = Obj()
for name in sys.argv[2].split(","):
    print(json.dumps([name, jinja.Template(name).render(**ctx)]))
print(json.dumps(["generate", "".join(jinja.Template("child.html").generate(ctx))]))
for name in sys.argv[3].split(","):
    try:
        jinja.Template(name).render()
        print(json.dumps([name, "rendered"]))
    except TemplateSyntaxError as e:
        print(json.dumps([name, str(e)]))
"""


class Obj:
    n = 42


def jinja2_renders(pages):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(pages)),
                             autoescape=jinja2.select_autoescape())
    out = {name: env.get_template(name).render(CONTEXT, obj=Obj()) for name in TEMPLATES}
    out["generate"] = out["child.html"]
    return out


def test_jinja_subset_renders_as_jinja2(unix_mfa, tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    for name, text in TEMPLATES.items():
        (pages / name).write_text(text)
    for name, (text, _) in ERRORS.items():
        (pages / name).write_text(text)
    (tmp_path / "app.py").write_text(SCRIPT)
    env = dict(os.environ, MICROPYPATH=":".join([PYDIR, str(tmp_path), ".frozen"]))
    p = subprocess.run([str(unix_mfa), "app.py", json.dumps(CONTEXT), ",".join(TEMPLATES),
                        ",".join(ERRORS)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    got = dict(json.loads(line) for line in p.stdout.splitlines())
    want = jinja2_renders(pages)
    for name in want:
        assert got[name] == want[name], name
    for name, (_, message) in ERRORS.items():
        assert message in got[name], (name, got[name])
        assert got[name].startswith(name + ", line "), got[name]
