"""Upload files from a browser into a directory on flash, list them, serve them back.

The body is streamed (stream_body=True): each part goes to its file in pieces as it arrives,
so a 1 MB upload needs a few KB of heap, and the client is slowed while flash writes are slow
(docs/uploads.md).

    ./build.sh serve python/examples/uploads.py      # then open http://127.0.0.1:8000/
    curl -F file=@picture.jpg http://127.0.0.1:8000/upload

On the board the files go to /uploads; elsewhere to $UPLOAD_DIR (default ./uploads).
"""
import os

from microfastapi import MicroFastApi, HTMLResponse, RedirectResponse, HTTPException
from microfastapi.staticfiles import StaticFiles
from microfastapi.validation import File, Form

from _port import HOST, PORT

try:
    DIR = os.getenv("UPLOAD_DIR") or "uploads"
except AttributeError:  # bare-metal ports have no os.getenv: the flash filesystem
    DIR = "/uploads"
MAX_UPLOAD = 2 * 1024 * 1024  # bytes per request (all its files); more is answered 413

app = MicroFastApi(title="uploads")
app.upload_dir = DIR  # form()'s spool files go here: save() then only renames them
# (the directory is made at the first upload: importing this module creates nothing)
app.mount("/files", StaticFiles(directory=DIR, check_dir=False))


def ensure_dir():
    try:
        os.mkdir(DIR)
    except OSError:
        pass  # (there already)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Uploads</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Uploads</h1>
<form method="post" action="/upload" enctype="multipart/form-data">
<input type="file" name="file" multiple required>
<button type="submit">Upload</button></form>
<ul id="files">%s</ul></body></html>"""


def safe_name(name):
    """The last path segment of a client's file name, with nothing a path could be made of:
    the file lands in DIR, never elsewhere."""
    name = name.replace("\\", "/").split("/")[-1]
    keep = "".join(c for c in name if c.isalpha() or c.isdigit() or c in "._- ")
    keep = keep.strip(". ")
    return keep[:64]


def listing():
    out = []
    try:
        names = os.listdir(DIR)
    except OSError:
        return out  # (nothing uploaded yet)
    for name in sorted(names):
        if name.startswith("."):
            continue  # (not served: dot files)
        out.append((name, os.stat(DIR + "/" + name)[6]))
    return out


@app.get("/", include_in_schema=False)
def index(req):
    items = "".join('<li><a href="/files/%s">%s</a> (%d bytes)</li>' % (n, n, s)
                    for n, s in listing())
    return HTMLResponse(PAGE % items)


@app.get("/list")
def files(req):
    return [{"name": n, "size": s} for n, s in listing()]


@app.post("/upload", stream_body=True, max_body=MAX_UPLOAD, summary="Upload files")
async def upload(req):
    ensure_dir()
    saved = []
    async for part in req.parts():
        if part.filename is None:
            continue  # (a plain field: skipped)
        name = safe_name(part.filename)
        if not name:
            raise HTTPException(400, "file name %r not allowed" % (part.filename,))
        size = await part.save(DIR + "/" + name)
        saved.append({"name": name, "size": size})
    if "text/html" in req.header("accept", ""):
        return RedirectResponse("/", 303)  # (the browser's form: back to the listing)
    return {"saved": saved}


@app.post("/api/files", max_body=MAX_UPLOAD, status_code=201, summary="Store a file",
          form={"file": File(description="the file to store"),
                "name": Form(str, None, description="store it under this name instead")})
async def add_file(req, file, name):
    """The declared way (shown with an upload form in /docs): the part waits in a spool file
    in DIR until save() renames it into place."""
    target = safe_name(name or file.filename or "")
    if not target:
        raise HTTPException(400, "file name %r not allowed" % (name or file.filename,))
    ensure_dir()
    size = await file.save(DIR + "/" + target)
    return {"name": target, "size": size, "content_type": file.content_type}


if __name__ == "__main__":
    app.run(HOST, PORT)
