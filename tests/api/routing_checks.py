"""routing_diff.compare on the interpreter it runs on (MicroPython's str and dict under the same
tree): `routing_checks.py SEEDS`. Prints checklib's ok/FAIL lines."""
import sys

from checklib import check, run_checks
import routing_diff

SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 100


@check
def index_answers_as_the_scan():
    stats = [0, 0, 0]
    for seed in range(SEEDS):
        d = routing_diff.compare(seed, stats=stats)
        assert d is None, d
    assert min(stats) > 500, stats


run_checks()
