"""The user guide (docs/guide.md and every page it lists) cannot rot: each page's snippets run.

tests/guide_blocks.py says how a page's blocks are read. A page's code (its ```python blocks and
its hidden `<!-- python -->` ones, in order) runs as one script on CPython and inside both unix
MicroPython binaries; its Pico W programs run in tests/net/test_picow_mfa.py.
"""
import gzip
import subprocess

import pytest

from api_util import HTTP_BACKENDS, ROOT, app_argv, unix_binary
from tests.support import free_port
from tests.guide_blocks import DOCS, blocks, board_programs, chapters, runs_on

DONE = "the page's snippets ran"


def _static_files(tmp_path):
    """What docs/static.md serves: www/ with a page, a stylesheet and its .gz, a large file."""
    www = tmp_path / "www"
    www.mkdir()
    css = b"body { color: #333; }\n" * 100
    (www / "index.html").write_bytes(b"<html>hi</html>")
    (www / "site.css").write_bytes(css)
    (www / "site.css.gz").write_bytes(gzip.compress(css))
    (www / "big.bin").write_bytes(bytes(range(256)) * 800)


# Files a page's snippets read, made on the host (gzip has no compressor on the unix port).
FILES = {"static.md": _static_files}


def test_the_guide_is_linked_and_whole():
    assert "docs/guide.md" in (ROOT / "README.md").read_text()
    names = chapters()
    assert len(names) >= 12, names
    for name in names:
        assert (DOCS / name).exists(), name
    # The topics issue 16 asks for, each a page of the guide.
    for page in ("first-steps.md", "routing.md", "requests.md", "responses.md", "errors.md",
                 "middleware.md", "static.md", "live.md", "uploads.md", "concurrency.md",
                 "limits.md", "troubleshooting.md"):
        assert page in names, page


def test_every_page_has_code_that_runs():
    """No page of the guide without a snippet that runs (or a Pico W program)."""
    for name in chapters():
        assert any(k in ("python", "board") for k, _ in blocks(DOCS / name)), name
    assert board_programs(), "the first steps have a Pico W program"


@pytest.mark.parametrize("page,backend", [
    (n, b) for n in chapters() if (DOCS / n).exists() and
    any(k != "board" for k, _ in blocks(DOCS / n)) for b in runs_on(DOCS / n, HTTP_BACKENDS)])
def test_page_snippets_run(request, tmp_path, backend, page):
    FILES.get(page, lambda p: None)(tmp_path)
    code = "\n\n".join(c for k, c in blocks(DOCS / page) if k != "board")
    script = tmp_path / ("guide_" + page.replace(".md", ".py").replace("-", "_"))
    script.write_text(code + "\n\nprint(%r)\n" % DONE)
    argv, env = app_argv(backend, script, unix_binary(request, backend),
                         [ROOT / "python" / "examples"])
    env["GUIDE_PORT"] = str(free_port())  # (for a page whose snippets serve for real)
    p = subprocess.run(argv, env=env, cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and DONE in p.stdout, "%s on %s:\n%s%s" % (
        page, backend, p.stdout[-3000:], p.stderr[-3000:])
