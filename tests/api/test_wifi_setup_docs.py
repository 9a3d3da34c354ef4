"""docs/wifi-setup.md: its ```python blocks run with the rest of the guide (tests/api/test_guide.py,
on CPython and both unix builds); its ```py blocks are Pico W programs that open the setup access
point, which no client can join on the emulated Pico W (the page's last section says why), so
here they must compile and call wifi.setup()."""
from tests.guide_blocks import DOCS

DOC = DOCS / "wifi-setup.md"


def board_blocks():
    out, cur = [], None
    for line in DOC.read_text().splitlines():
        if cur is None and line.strip() == "```py":
            cur = []
        elif cur is not None and line.strip() == "```":
            out.append("\n".join(cur))
            cur = None
        elif cur is not None:
            cur.append(line)
    assert cur is None, "an unclosed ```py block"
    return out


def test_board_blocks_compile():
    board = board_blocks()
    assert len(board) >= 2
    for b in board:
        compile(b, "wifi-setup.md", "exec")
        assert "wifi.setup(" in b


def test_the_page_is_in_the_guide():
    from tests.guide_blocks import blocks, chapters
    assert "wifi-setup.md" in chapters()
    assert sum(k == "python" for k, _ in blocks(DOC)) >= 2
