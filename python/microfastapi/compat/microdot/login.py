"""microdot.login: Login (user sessions on top of microdot.session): @login (a route for
logged-in users), @login.fresh, login_user(), logout_user(), get_current_user(), and a
'remember me' cookie."""

try:
    from time import time as _now
except ImportError:  # pragma: no cover
    from utime import time as _now

from .core import redirect, urlencode, invoke_handler

_DAY = 24 * 60 * 60


class Login:
    def __init__(self, login_url="/login"):
        self.login_url = login_url
        self.user_loader_callback = None

    def user_loader(self, f):
        """Decorator: f(user_id) returns the user (or None)."""
        self.user_loader_callback = f

    def _get_session(self, request):
        return request.app._session.get(request)

    def _update_remember_cookie(self, request, days, user_id=None):
        value = request.app._session.encode({"user_id": user_id, "days": days,
                                             "exp": _now() + days * _DAY})

        @request.after_request
        async def _set(request, response):
            response.set_cookie("_remember", value, max_age=days * _DAY)
            return response

    def _get_user_id_from_session(self, request):
        session = self._get_session(request)
        if session and "_user_id" in session:
            return session["_user_id"]
        if "_remember" in request.cookies:
            remembered = request.app._session.decode(request.cookies["_remember"])
            user_id = remembered.get("user_id")
            if user_id:
                self._update_remember_cookie(request, remembered.get("_days", 30), user_id)
                session["_user_id"] = user_id
                session["_fresh"] = False
                session.save()
                return user_id
        return None

    async def _redirect_to_login(self, request):
        return "", 302, {"Location": self.login_url + "?next=" + urlencode(request.url)}

    async def login_user(self, request, user, remember=False, redirect_url="/"):
        session = self._get_session(request)
        session["_user_id"] = user.id
        session["_fresh"] = True
        session.save()
        request.g.current_user = user
        if remember:
            days = 30 if remember is True else int(remember)
            self._update_remember_cookie(request, days, session["_user_id"])
        next_url = request.args.get("next", redirect_url)
        if not next_url.startswith("/"):
            next_url = redirect_url  # (never to another site)
        return redirect(next_url)

    async def logout_user(self, request):
        session = self._get_session(request)
        session.pop("_user_id", None)
        session.pop("_fresh", None)
        session.save()
        request.g.current_user = None
        if "_remember" in request.cookies:
            self._update_remember_cookie(request, 0)

    async def get_current_user(self, request):
        if not hasattr(request.g, "current_user"):
            user_id = self._get_user_id_from_session(request)
            request.g.current_user = await invoke_handler(
                self.user_loader_callback, user_id) if user_id else None
        return request.g.current_user

    def __call__(self, f):
        async def wrapper(request, *args, **kwargs):
            if not await self.get_current_user(request):
                return await self._redirect_to_login(request)
            return await invoke_handler(f, request, *args, **kwargs)
        return wrapper

    def fresh(self, f):
        inner = self.__call__(f)

        async def wrapper(request, *args, **kwargs):
            if self._get_session(request).get("_fresh"):
                return await inner(request, *args, **kwargs)
            return await self._redirect_to_login(request)
        return wrapper
