"""Run the corpus through a parser inside MicroPython and print one line per case:
    <name> <statuses or close>
    micropython mp_corpus.py pure|mfa CORPUS_FILE...
`pure`: microfastapi.parser; `mfa`: _mfa.parse_request and _mfa.ChunkedDecoder (falls back to
the pure decoder when _mfa has none)."""
import sys

import sim

which = sys.argv[1]
if which == "mfa":
    import _mfa
    parse_request = _mfa.parse_request
    ParseError = _mfa.ParseError
    if hasattr(_mfa, "ChunkedDecoder"):
        new_decoder = _mfa.ChunkedDecoder
    else:
        from microfastapi.parser import ChunkedDecoder as new_decoder
else:
    from microfastapi.parser import parse_request, ParseError, ChunkedDecoder as new_decoder

for path in sys.argv[2:]:
    with open(path, "rb") as f:
        data = f.read()
    for name, exps, raw in sim.parse_corpus(data):
        try:
            r = sim.simulate(raw, parse_request, ParseError, new_decoder)
            r = ",".join(str(s) for s in r) if r else "close"
        except Exception as e:
            r = "EXC:%s:%s" % (type(e).__name__, str(e).replace(" ", "_"))
        print(name, r)
