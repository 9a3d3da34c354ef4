"""Serve an app module through an adapter on CPython, for the API suite's "asgi" and "wsgi"
backends (tests/api/api_util.py): the module's `app` under uvicorn (ASGI) or wsgiref (WSGI).

    python adapter_serve.py asgi|wsgi APP.py PORT
"""
import importlib.util
import sys


def load(path):
    spec = importlib.util.spec_from_file_location("served_app", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["served_app"] = mod
    spec.loader.exec_module(mod)
    return mod.app


def main(kind, path, port):
    app = load(path)
    if kind == "asgi":
        import uvicorn
        from microfastapi.asgi import ASGIApp
        uvicorn.run(ASGIApp(app), host="127.0.0.1", port=port, log_level="warning",
                    lifespan="on")
    elif kind == "wsgi":
        from wsgiref.simple_server import WSGIRequestHandler, make_server
        from microfastapi.wsgi import WSGIApp

        class Quiet(WSGIRequestHandler):
            def log_request(self, *a):
                pass
        srv = make_server("127.0.0.1", port, WSGIApp(app), handler_class=Quiet)
        print("listening on", port, flush=True)
        srv.serve_forever()
    else:
        raise SystemExit("kind must be asgi or wsgi, not %r" % kind)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
