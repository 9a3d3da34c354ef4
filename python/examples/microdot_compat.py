"""A Microdot 2.7 app, served by microfastapi: only the import lines differ from the app as
written for Microdot (`from microdot import ...` -> `from microfastapi.compat.microdot ...`).
docs/migrating-from-microdot.md is the guide; tests/compat/test_microdot_example.py serves this
file with real Microdot and with microfastapi (CPython and the unix builds) and compares.

    ./build.sh serve python/examples/microdot_compat.py     (Microdot's default port: 5000)
"""

from microfastapi.compat.microdot import Microdot, Response, abort, redirect
from microfastapi.compat.microdot.cors import CORS

app = Microdot()
CORS(app, allowed_origins=["http://localhost:8080"])

todos = {1: {"id": 1, "title": "water the plants", "done": False}}


@app.before_request
def count(req):
    req.g.user = req.cookies.get("user", "anonymous")


@app.after_request
def tag(req, res):
    res.headers["X-User"] = req.g.user


@app.route("/")
def index(req):
    return redirect("/todos")


@app.get("/todos")
def list_todos(req):
    done = req.args.get("done")
    items = list(todos.values())
    if done is not None:
        items = [t for t in items if t["done"] == (done == "1")]
    return items


@app.get("/todos/<int:todo_id>")
def get_todo(req, todo_id):
    if todo_id not in todos:
        abort(404)
    return todos[todo_id]


@app.post("/todos")
def add_todo(req):
    data = req.json or req.form  # a JSON body or a form
    if not data or not data.get("title"):
        return {"error": "title is required"}, 400
    todo_id = max(todos) + 1 if todos else 1
    todos[todo_id] = {"id": todo_id, "title": data.get("title"), "done": False}
    return todos[todo_id], 201, {"Location": "/todos/%d" % todo_id}


@app.route("/todos/<int:todo_id>/done", methods=["PUT"])
async def mark_done(req, todo_id):
    if todo_id not in todos:
        abort(404)
    todos[todo_id]["done"] = True
    return "", 204


@app.get("/files/<path:name>")
def file_name(req, name):
    return "you asked for " + name


@app.get("/login/<user>")
def login(req, user):
    res = Response("hello " + user)
    res.set_cookie("user", user, http_only=True)
    return res


@app.errorhandler(404)
def not_found(req):
    return {"error": "not found"}, 404


@app.errorhandler(ZeroDivisionError)
def zero(req, exc):
    return "division by zero", 500


@app.get("/div/<int:a>/<int:b>")
def div(req, a, b):
    return str(a // b)


@app.get("/shutdown")
def shutdown(req):
    req.app.shutdown()
    return "The server is shutting down..."


if __name__ == "__main__":
    app.run(debug=True)
