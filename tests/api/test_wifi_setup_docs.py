"""docs/wifi-setup.md: every ```python block, in order, as one script, run on CPython and inside
both unix MicroPython binaries in a fresh directory; the ```py blocks (Pico W only) compile."""
import subprocess

import pytest

from api_util import HTTP_BACKENDS, ROOT, app_argv, unix_binary

DOC = ROOT / "docs" / "wifi-setup.md"


def blocks(lang):
    out, cur = [], None
    for line in DOC.read_text().splitlines():
        if cur is None and line.strip() == "```" + lang:
            cur = []
        elif cur is not None and line.strip() == "```":
            out.append("\n".join(cur))
            cur = None
        elif cur is not None:
            cur.append(line)
    assert cur is None, "an unclosed ```%s block" % lang
    return out


def test_board_blocks_compile():
    board = blocks("py")
    assert len(board) >= 2
    for b in board:
        compile(b, "wifi-setup.md", "exec")
        assert "wifi.setup(" in b


@pytest.mark.parametrize("backend", HTTP_BACKENDS)
def test_snippets_run(request, backend, tmp_path):
    code = blocks("python")
    assert len(code) >= 2
    script = tmp_path / "wifi_setup_doc.py"
    script.write_text("\n\n".join(code) + '\n\nprint("all snippets ran")\n')
    argv, env = app_argv(backend, script, unix_binary(request, backend))
    p = subprocess.run(argv, env=env, cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and "all snippets ran" in p.stdout, p.stdout + p.stderr
