"""Which route answers (docs/routing.md), on every backend; and Router's prefix tree against the
plain scan it replaced (LinearRouter), on random route tables (tests/api/routing_diff.py)."""
import pytest

from api_util import run_checks_script
from microfastapi.routing import Router, LinearRouter, build_index
import routing_diff


def test_static_first_then_templates_in_registration_order(api):
    # '/rt/{kind}/list' was registered before '/rt/files/{name}': it answers although the
    # other's literal prefix is longer
    assert api.get("/rt/files/list").json() == {"route": "kind-list", "kind": "files"}
    assert api.get("/rt/files/a.txt").json() == {"route": "file", "name": "a.txt"}
    # a later template never answers a path an earlier one fits ('/files/latest' is static
    # here, so it is looked up first)
    assert api.get("/rt/files/latest").json() == {"route": "latest"}


def test_a_converter_that_fails_is_422_not_the_next_template(api):
    assert api.get("/rt/n/5").json() == {"route": "int", "v": 5}
    r = api.get("/rt/n/abc")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "v"]
    assert api.get("/rt/n/abc/x").json() == {"route": "str-x", "w": "abc"}


def test_method_goes_on_to_later_templates_and_405_lists_all(api):
    assert api.get("/rt/m/1").json() == {"route": "m-get", "x": "1"}
    assert api.post("/rt/m/1").json() == {"route": "any-post", "a": "m", "b": "1"}
    r = api.delete("/rt/m/1")
    assert r.status_code == 405
    assert [m.strip() for m in r.headers["allow"].split(",")] == ["GET", "POST"]
    assert api.head("/rt/m/1").status_code == 200  # HEAD falls back to GET


def test_literal_after_a_parameter_and_many_siblings(api):
    assert api.get("/rt/r7.json").json() == {"route": "report", "n": 7}
    assert api.get("/rt/r7.xml").status_code == 404
    for i in (0, 1, 9, 10, 19, 23):
        assert api.get("/rt/t%d/q" % i).json() == {"route": "many", "i": i, "x": "q"}
    # no '/rt/t24/{x}': only '/rt/{a}/{b}' fits, for POST
    r = api.get("/rt/t24/q")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert api.get("/rt/t1").status_code == 404


def test_tree_is_rebuilt_after_a_route_is_added():
    r = Router()
    r.add("/a/{x}", ["GET"], "first", {})
    assert r.find("GET", "/a/1")[0].fn == "first"
    tree = r.tree
    assert tree is not None and r.find("GET", "/b/1") == (None, None, None)
    r.add("/{y}/1", ["GET"], "second", {})
    assert r.tree is None
    assert r.find("GET", "/b/1")[0].fn == "second"
    assert r.find("GET", "/a/1")[0].fn == "first"
    r.add("/a/{x}", ["POST"], "same template", {})  # no new template: the tree stays
    assert r.tree is not None


def test_tree_shape():
    r = Router()
    for t in ("/items/{id}", "/items/{id}/tags", "/{page}", "/images/{n:int}.png"):
        r.add(t, ["GET"], t, {})
    root = build_index(r.dynamic)
    # '/' has a route of its own ('/{page}'); it branches at 'i' into a bare node ('/i')
    prefix, kids = root[:2]
    assert prefix == "/" and [x.template for x in root[2:]] == ["/{page}"]
    bare = kids["i"]
    assert bare[0] == 2 and len(bare) == 2 and sorted(bare[1]) == ["m", "t"]
    leaf = bare[1]["t"]
    # a leaf's prefix is its routes' own first part (no copy); the route above comes with them
    assert leaf[0] is r.dynamic[0].parts[0]
    assert [x.template for x in leaf[1:]] == ["/items/{id}", "/items/{id}/tags", "/{page}"]
    assert build_index([]) == (0, {})


SEEDS = 400


def test_index_answers_as_the_scan_on_random_tables():
    stats = [0, 0, 0]
    bad = [d for d in (routing_diff.compare(s, stats=stats) for s in range(SEEDS)) if d]
    assert not bad, "\n".join(bad[:5])
    # every kind of answer was compared, many times
    assert min(stats) > 5000, stats


def test_the_comparison_sees_a_wrong_tree():
    """A tree whose nodes forget the routes of the nodes above them (e.g. '/{page}' above
    '/items/'): the comparison must notice."""
    class Forgetful(Router):
        def index(self):
            if self.tree is None:
                self.tree = _forget(build_index(self.dynamic))
            return self.tree

    bad = [d for d in (routing_diff.compare(s, new=Forgetful) for s in range(100)) if d]
    assert len(bad) > 20, len(bad)


def _forget(node):
    """`node` keeping only the routes whose first literal part is its own prefix."""
    start = 1
    if type(node[1]) is dict:
        start = 2
        for ch, child in list(node[1].items()):
            node[1][ch] = _forget(child)
    if len(node) == start:
        return node
    return node[:start] + tuple(r for r in node[start:] if r.parts[0] == node[0])


@pytest.mark.parametrize("interp", ["unix-pure", "unix"])
def test_index_answers_as_the_scan_on_micropython(request, interp):
    run_checks_script(request, interp, "routing_checks.py", 120, at_least=1)
