"""The hostile-input corpus (tests/hostile/corpus, see sim.py for the format) through every
parser and over real sockets against every server backend.

Parser level: each case is replayed through the parser the way the server uses it (sim.py) and
must give the expected statuses: the pure-Python parser on CPython and inside MicroPython, the
C parser through ctypes, and `_mfa.parse_request` inside build/unix/micropython.

Server level: each case is sent on its own connection, the client half-closes, and the
responses (1xx skipped) must be exactly the expected statuses, then the connection closes.
After each file (a batch) the server must still answer and have no connection left open.
"""
import pathlib
import subprocess
import sys

import pytest

# Imported at collection time: later, the name 'conftest' may be another directory's.
from hostile_util import HERE, ROOT, parse_responses, server_argv
import sim

CORPUS = HERE / "corpus"
FILES = sorted(p.name for p in CORPUS.glob("*.http"))


def load(fname):
    return sim.parse_corpus((CORPUS / fname).read_bytes())


def fmt(statuses):
    return ",".join(str(s) for s in statuses) if statuses else "close"


def fmt_exp(exps):
    return "|".join(fmt(e) for e in exps)


def test_corpus_is_generated_and_large_enough():
    r = subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    names = [name for f in FILES for name, _, _ in load(f)]
    assert len(names) >= 300
    assert len(set(names)) == len(names)
    expected = {"request_line", "headers", "smuggling", "chunked", "numbers", "oversized",
                "truncated", "binary"}
    assert expected <= {f[:-5] for f in FILES}


def _check_parser(fname, parse_request, parse_error, new_decoder):
    bad = []
    for name, exps, raw in load(fname):
        got = sim.simulate(raw, parse_request, parse_error, new_decoder)
        if got not in exps:
            bad.append("%s: expected %s, got %s" % (name, fmt_exp(exps), fmt(got)))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("fname", FILES)
def test_python_parser(fname):
    from microfastapi import parser
    _check_parser(fname, parser.parse_request, parser.ParseError, parser.ChunkedDecoder)


@pytest.mark.parametrize("fname", FILES)
def test_c_parser_ctypes(fname):
    import cparser
    _check_parser(fname, cparser.parse_request, cparser.ParseError, cparser.ChunkedDecoder)


def _mp_run(binary, which):
    argv, env = server_argv("unix", binary, app=HERE / "mp_corpus.py")
    r = subprocess.run(argv + [which] + [str(CORPUS / f) for f in FILES], env=env,
                       cwd=str(ROOT), capture_output=True, timeout=120)
    assert r.returncode == 0, r.stdout.decode(errors="replace")[-3000:] + r.stderr.decode(
        errors="replace")[-3000:]
    got = {}
    for line in r.stdout.decode().splitlines():
        name, _, res = line.partition(" ")
        got[name] = res
    bad = []
    for f in FILES:
        for name, exps, raw in load(f):
            res = got.get(name)
            if res is None or res not in [fmt(e) for e in exps]:
                bad.append("%s: expected %s, got %s" % (name, fmt_exp(exps), res))
    assert not bad, "\n".join(bad)


def test_python_parser_on_micropython(unix_pure):
    _mp_run(unix_pure, "pure")


def test_mfa_parse_request(unix_mfa):
    argv, env = server_argv("unix", unix_mfa, app=HERE / "mp_corpus.py")
    probe = subprocess.run(argv[:1] + ["-c", "import _mfa; print(hasattr(_mfa, 'parse_request'))"],
                           env=env, capture_output=True, timeout=30)
    if probe.stdout.strip() != b"True":
        pytest.skip("build/unix/micropython: _mfa has no parse_request yet")
    _mp_run(unix_mfa, "mfa")


@pytest.mark.parametrize("fname", FILES)
def test_server(server, fname):
    bad = []
    for name, exps, raw in load(fname):
        data, end = server.exchange(raw)
        resps, rest = parse_responses(data)
        got = [r[0] for r in resps]
        if rest:
            bad.append("%s: unparsable answer %r" % (name, rest[:200]))
        elif end == "timeout":
            bad.append("%s: the server did not close (got %s)" % (name, fmt(got)))
        elif got not in exps:
            bad.append("%s: expected %s, got %s (%s)" % (name, fmt_exp(exps), fmt(got), end))
        if not server.alive():
            bad.append("%s: server died" % name)
            break
    server.check_healthy()
    assert not bad, "%s:\n%s" % (server.name, "\n".join(bad))
