"""Hello API: path parameters, query, JSON body, errors.

    ./build.sh serve python/examples/hello.py        # then: curl localhost:8000/items/3?q=x
"""
from microfastapi import MicroFastApi, HTTPException, JSONResponse

from _port import HOST, PORT

app = MicroFastApi(title="hello")
items = {}


@app.get("/")
def index(req):
    return {"message": "Hello from microfastapi", "docs": "GET /items/{item_id}"}


@app.get("/items/{item_id:int}")
def read_item(req, item_id):
    if item_id in items:
        return items[item_id]
    return {"item_id": item_id, "q": req.query.get("q")}


@app.post("/items/{item_id:int}")
async def create_item(req, item_id):
    data = req.json()
    if not isinstance(data, dict) or "name" not in data:
        raise HTTPException(400, "body must be a JSON object with a name")
    items[item_id] = data
    return JSONResponse(data, status_code=201)


@app.delete("/items/{item_id:int}")
def delete_item(req, item_id):
    if items.pop(item_id, None) is None:
        raise HTTPException(404, "Item not found")
    return {"deleted": item_id}


if __name__ == "__main__":
    app.run(HOST, PORT)
