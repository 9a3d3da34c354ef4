"""docs/static.md: every ```python block, in order, as one script, run on CPython and inside
both unix MicroPython binaries in a directory holding the files the page talks of (the
snippets assert what they show with the TestClient)."""
import gzip
import subprocess

import pytest

from api_util import HTTP_BACKENDS, ROOT, app_argv, unix_binary

DOC = ROOT / "docs" / "static.md"


def snippets():
    blocks, cur = [], None
    for line in DOC.read_text().splitlines():
        if cur is None and line.strip() == "```python":
            cur = []
        elif cur is not None and line.strip() == "```":
            blocks.append("\n".join(cur))
            cur = None
        elif cur is not None:
            cur.append(line)
    assert cur is None, "an unclosed ```python block"
    return blocks


def test_the_page_has_snippets():
    assert len(snippets()) >= 7


@pytest.mark.parametrize("backend", HTTP_BACKENDS)
def test_snippets_run(request, backend, tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    css = b"body { color: #333; }\n" * 100
    (www / "index.html").write_bytes(b"<html>hi</html>")
    (www / "site.css").write_bytes(css)
    (www / "site.css.gz").write_bytes(gzip.compress(css))
    (www / "big.bin").write_bytes(bytes(range(256)) * 800)
    code = "\n\n".join(snippets()) + '\n\nprint("all snippets ran")\n'
    script = tmp_path / "static_doc.py"
    script.write_text(code)
    argv, env = app_argv(backend, script, unix_binary(request, backend))
    p = subprocess.run(argv, env=env, cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and "all snippets ran" in p.stdout, p.stdout + p.stderr
