"""The app the OpenAPI/validation tests run against (CPython and MicroPython).

Served over HTTP with:  <python or micropython> openapi_app.py PORT
(MICROPYPATH / sys.path must hold python/ and this directory).
"""
import sys

from microfastapi import MicroFastApi, APIRouter, HTTPException, JSONResponse
from microfastapi.validation import Param, Body

app = MicroFastApi(title="Inventory", version="1.2.0", description="Validation test app")


class Item:
    name = str
    price = Param(float, ge=0, le=1000000, description="Unit price")
    tax = Param(float, None, ge=0, le=100)
    tags = ([str], [])
    count = (int, 1)


class Dimensions:
    w = Param(float, ge=0, le=1000)
    h = Param(float, ge=0, le=1000)


class Box:
    label = str
    size = Dimensions
    fragile = (bool, False)


ITEMS = {1: {"name": "bolt", "price": 0.5}}


@app.get("/", summary="Hello", tags=["misc"], response={"hello": str})
def root(req):
    return {"hello": "world"}


@app.get("/items", tags=["items"],
         query={"q": (str, None), "limit": Param(int, 10, ge=1, le=100),
                "skip": (int, 0), "tag": ([str], []), "ids": ([int], []),
                "sort": Param(str, "asc", enum=("asc", "desc")), "exact": (bool, False),
                "min_price": Param(float, None, ge=0, le=1000000)},
         response=[dict])
def list_items(req, q, limit, skip, tag, ids, sort, exact, min_price):
    return [{"q": q, "limit": limit, "skip": skip, "tag": tag, "ids": ids, "sort": sort,
             "exact": exact, "min_price": min_price}]


@app.get("/search", query={"term": str, "page": int})
def search(req, term, page):
    return {"term": term, "page": page}


@app.get("/items/{item_id:int}", tags=["items"], query={"verbose": (bool, False)},
         responses={404: "Item not found"})
def read_item(req, item_id, verbose):
    if item_id not in ITEMS:
        raise HTTPException(404, "Item not found")
    return {"item_id": item_id, "verbose": verbose, "item": ITEMS[item_id]}


@app.post("/items", body=Item, status_code=201, tags=["items"], summary="Create an item",
          description="Stores nothing; echoes the validated item.", response=Item)
def create_item(req, body):
    d = {"name": body.name, "price": body.price, "tax": body.tax, "tags": body.tags,
         "count": body.count}
    return d


@app.put("/items/{item_id:int}", body=Body(Item, name="item"), tags=["items"])
async def replace_item(req, item_id, item):
    return {"item_id": item_id, "name": item.name, "price": item.price}


@app.post("/boxes", body=Box, extra="forbid", status_code=201)
def create_box(req, body):
    return {"label": body.label, "w": body.size.w, "h": body.size.h, "fragile": body.fragile}


@app.post("/points", body={"x": int, "y": int, "label": (str, "origin")})
def add_point(req, body):
    return {"sum": body["x"] + body["y"], "label": body["label"]}


@app.post("/numbers", body=[int])
def total(req, body):
    return {"total": sum(body), "n": len(body)}


@app.post("/notes", body=Body({"text": str}, required=False))
def note(req, body):
    return {"text": body["text"] if body is not None else None}


@app.get("/strict", query={"a": (int, 0)}, extra="forbid")
def strict(req, a):
    return {"a": a}


@app.delete("/items/{item_id:int}", status_code=204, tags=["items"],
            responses={404: "Item not found"})
def delete_item(req, item_id):
    if ITEMS.pop(item_id, None) is None:
        raise HTTPException(404, "Item not found")
    return None


@app.get("/plain", media_type="text/plain; charset=utf-8", summary="Plain text")
def plain(req):
    return "just text"


@app.get("/hidden", include_in_schema=False)
def hidden(req):
    return {"hidden": True}


@app.get("/undeclared/{name}")
def undeclared(req, name):
    return {"name": name, "q": req.query.get("q")}


@app.get("/price/{value:float}", deprecated=True)
def price(req, value):
    return {"value": value}


router = APIRouter(prefix="/v2", tags=["v2"])


@router.get("/echo", query={"word": str})
def echo(req, word):
    return JSONResponse({"word": word})


app.include_router(router)


if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]))
