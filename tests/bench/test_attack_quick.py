"""tests/bench/attack.py in a few seconds against the unix build: it runs, every real request
is answered 200 (its exit status), and it prints its figures. Never checks that anything is
fast (the figures are for docs/connections.md and the issue's closing note)."""
import json
import subprocess
import sys


HERE = __import__("pathlib").Path(__file__).resolve().parent


def test_attack_quick(unix_mfa, tmp_path):
    out = tmp_path / "attack.json"
    cp = subprocess.run([sys.executable, str(HERE / "attack.py"), "--binary", str(unix_mfa),
                         "--hold", "2", "--slow", "20", "--silent", "20", "--requests", "20",
                         "--json", str(out)], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stdout[-3000:] + cp.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["real_statuses"] == {"200": 20}
    assert all(isinstance(res[k], float) for k in ("real_ms_p50", "real_ms_p99"))
    assert res["attackers"]["opened"] >= 40 and res["server_stats"]["evicted"] > 0, res
