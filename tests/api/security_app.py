"""The app test_security.py runs on every backend: each security scheme, a secured router, named
dependencies, sessions with CSRF, a throttled login, and the session secret kept in a served
directory. MFA_SECRET_DIR (environment) is that directory."""
import sys

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

from microfastapi import MicroFastApi, APIRouter, HTTPException
from microfastapi.security import (HTTPBasic, HTTPBearer, APIKeyHeader, APIKeyQuery, Throttle,
                                   compare_digest)
from microfastapi.sessions import Sessions
from microfastapi.staticfiles import StaticFiles

SECRET_DIR = os.getenv("MFA_SECRET_DIR") or "."
USERS = {"admin": "s3cret", "ann": "p\u00e4ss:wort"}

# A throttle that the bad-credential tests never reach; /strict has its own, which they do.
loose = Throttle(max_failures=10000)
basic = HTTPBasic(users=USERS, realm="relay", throttle=loose)
bearer = HTTPBearer(tokens={"tok-reader": "reader", "tok-admin": "admin"}, throttle=loose)
hkey = APIKeyHeader("X-API-Key", keys={"key-cron": "cron"}, throttle=loose)
qkey = APIKeyQuery("api_key", keys={"key-cron": "cron"}, throttle=loose)
strict_throttle = Throttle(max_failures=3, window_s=60, lockout_s=1)
strict = HTTPBasic(users=USERS, throttle=strict_throttle, scheme_name="StrictBasic")

app = MicroFastApi(title="security test app", docs="swagger")
# The secret file is made in SECRET_DIR, which is also served below: it must never come out.
sessions = Sessions(app, secret_file=SECRET_DIR + "/session.key", max_size=1000)


@app.get("/basic", security=basic)
def r_basic(req):
    return {"user": req.user}


@app.get("/bearer", security=bearer)
def r_bearer(req):
    return {"user": req.user}


@app.get("/hkey", security=hkey)
def r_hkey(req):
    return {"user": req.user}


@app.get("/qkey", security=qkey)
def r_qkey(req):
    return {"user": req.user}


@app.get("/any", security=[bearer, hkey])
def r_any(req):
    return {"user": req.user}


@app.get("/strict", security=strict)
def r_strict(req):
    return {"user": req.user}


@app.get("/open")
def r_open(req):
    return {"user": req.user}


def admin_only(req):
    if req.user != "admin":
        raise HTTPException(403, "Only admin may do this")


@app.put("/relay/{n:int}", security=[basic, bearer], dependencies=[admin_only],
         query={"on": bool})
def r_relay(req, n, on):
    return {"relay": n, "on": on, "by": req.user}


def client_addr(req):
    return req.client[0]


@app.get("/whoami", depends={"who": bearer, "addr": client_addr})
def r_whoami(req, who, addr):
    return {"who": who, "addr_is_str": type(addr) is str}


router = APIRouter(prefix="/admin", security=basic)


@router.get("/ping")
def r_ping(req):
    return {"pong": req.user}


@router.get("/public", security=None)
def r_public(req):
    return {"public": True}


app.include_router(router)


# ---- sessions -------------------------------------------------------------------------------

login_throttle = Throttle(max_failures=10000)


@app.post("/login")
def r_login(req):
    login_throttle.check(req)
    f = req.json()
    pw = USERS.get(f.get("user"), "")
    if not compare_digest(pw, f.get("password", "")) or not pw:
        login_throttle.fail(req)
        raise HTTPException(401, "Incorrect username or password", {"WWW-Authenticate": "Basic"})
    login_throttle.ok(req)
    req.session["user"] = f["user"]
    req.session["n"] = 0
    return {"logged_in": f["user"]}


def session_user(req):
    u = req.session.get("user")
    if u is None:
        raise HTTPException(403, "Not logged in")
    return u


@app.get("/me")
def r_me(req):
    return {"session": req.session.to_dict()}


@app.post("/count", depends={"user": session_user})
def r_count(req, user):
    req.session["n"] = req.session.get("n", 0) + 1
    return {"user": user, "n": req.session["n"]}


@app.post("/hook", csrf=False, depends={"user": session_user})
def r_hook(req, user):
    return {"hook": user}


@app.post("/logout")
def r_logout(req):
    req.session.clear()
    return {"logged_out": True}


@app.post("/big")
def r_big(req):
    try:
        req.session["blob"] = "x" * 2000
    except ValueError as e:
        return {"error": str(e), "kept": "blob" not in req.session}
    return {"error": None}


app.mount("/files", StaticFiles(directory=SECRET_DIR))


if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]))
