"""Serve the app of python/examples/<argv[1]>.py (or tests/api's) on 127.0.0.1:<argv[2]>, as
it is (the offline /docs page is the default): what test_offline_docs.py opens in Chromium."""
import sys

# python/examples first: a directory named like an example (uploads.py made ./uploads before
# main's 75346f5) beside this script would otherwise be imported as a namespace package.
sys.path.insert(0, __file__.rsplit("/", 3)[0] + "/python/examples")
app = __import__(sys.argv[1]).app

if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[2]))
