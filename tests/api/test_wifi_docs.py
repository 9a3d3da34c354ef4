"""docs/wifi.md quotes python/examples/pico_sensor_relay.py (the Pico W runs it in
tests/net/test_picow_mfa.py; a host cannot join WiFi): every line of its ```python blocks must
still be a line of the example."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_wifi_doc_quotes_the_example():
    doc = (ROOT / "docs" / "wifi.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert blocks
    example = (ROOT / "python" / "examples" / "pico_sensor_relay.py").read_text().splitlines()
    for line in "".join(blocks).splitlines():
        assert line in example, line
