"""The user guide's pages and their code blocks (tests/api/test_guide.py runs them; the Pico W
programs run in tests/net/test_picow_mfa.py).

On a page, in order:
- every ```python block is code a reader runs;
- every `<!-- python ... -->` comment (invisible on GitHub) is code the reader would have
  around it (a file to serve, a stand-in for a sensor) or a check of what the page claims,
  usually with the TestClient;
- a ```python board block is a whole program for the Pico W: it must join WiFi and serve
  GET / with 200 on the emulated MFA_PICO_W.
A page about CPython only (an ASGI server, say) says so with `<!-- runs on: cpython -->`.
"""
import pathlib
import re

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
GUIDE = DOCS / "guide.md"


def chapters():
    """The pages guide.md links to, in its order (each once)."""
    names = []
    for name in re.findall(r"\]\(([\w-]+\.md)(?:#[\w-]*)?\)", GUIDE.read_text()):
        if name not in names:
            names.append(name)
    return names


def blocks(path):
    """[(kind, code)] of a page, kind "python" (a visible block), "hidden" or "board"."""
    out, cur, kind = [], None, None
    for line in path.read_text().splitlines():
        s = line.strip()
        if cur is None:
            if s in ("```python", "```python board"):
                cur, kind = [], "board" if s.endswith("board") else "python"
            elif s == "<!-- python":
                cur, kind = [], "hidden"
        elif (kind == "hidden" and s == "-->") or (kind != "hidden" and s == "```"):
            out.append((kind, "\n".join(cur)))
            cur = None
        else:
            cur.append(line)
    assert cur is None, "%s: an unclosed %s block" % (path.name, kind)
    return out


def board_programs():
    """[(page, code)]: the guide's Pico W programs."""
    return [(name, code) for name in chapters() if (DOCS / name).exists()
            for kind, code in blocks(DOCS / name) if kind == "board"]


def runs_on(path, backends):
    """The backends a page's code runs on: all of `backends` unless the page names some."""
    m = re.search(r"<!-- runs on: ([\w, -]+) -->", path.read_text())
    if m is None:
        return list(backends)
    named = [b.strip() for b in m.group(1).split(",")]
    return [b for b in backends if b in named]
