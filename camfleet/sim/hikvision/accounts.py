"""ISAPI ``/Security`` accounts of a simulated Hikvision device: the user list and the lock-out
after bad logins (``illegalLoginLock``).

Why: password rotation and the channel user an NVR pulls with go through these, and the lock-out
settings here are the ones :class:`~camfleet.sim.digest.DigestAuth` enforces on every login.
Rules as on real firmware: at most 32 users, user 1 (admin) is never deleted nor demoted, a new
password must be strong (4 ``riskPassword``), and the level ``Viewer`` is the model's ``User``.

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/Security/users
    curl --digest -u admin:<password> -X POST http://127.77.0.10/ISAPI/Security/users \\
        -d '<User><userName>viewer</userName><password>View-2024x</password><userLevel>Viewer</userLevel></User>'
"""

from __future__ import annotations

import re
from typing import ClassVar
from xml.etree.ElementTree import Element

from aiohttp import web

from camfleet.sim.devices import LEVELS, UserAccount, password_is_strong
from camfleet.sim.hikvision.dispatch import IsapiBase, routes
from camfleet.sim.hikvision.xml import IsapiError, get_bool, get_int, parse_body, text, x

LEVEL_TO_HIK = {"Administrator": "Administrator", "Operator": "Operator", "User": "Viewer"}
LEVEL_FROM_HIK = {"administrator": "Administrator", "operator": "Operator", "viewer": "User", "user": "User"}

ACCOUNT_ROUTES = routes(
    ("GET", r"/ISAPI/Security/users", "get_users"),
    ("POST", r"/ISAPI/Security/users", "post_user"),
    ("GET", r"/ISAPI/Security/users/(?P<id>\d+)", "get_user"),
    ("PUT", r"/ISAPI/Security/users/(?P<id>\d+)", "put_user"),
    ("DELETE", r"/ISAPI/Security/users/(?P<id>\d+)", "delete_user"),
    ("GET", r"/ISAPI/Security/illegalLoginLock", "get_login_lock"),
    ("PUT", r"/ISAPI/Security/illegalLoginLock", "put_login_lock"),
)


class Accounts(IsapiBase):
    """Users and the bad-login lock-out."""

    MAX_USERS: ClassVar[int] = 32

    def _user_inner(self, name: str) -> str:
        u = self.state.users[name]
        return x("id", u.id) + x("userName", name) + x("userLevel", LEVEL_TO_HIK.get(u.level, "Viewer"))

    def _user(self, m: re.Match[str]) -> tuple[str, UserAccount]:
        found = self.state.user_by_id(int(m.group("id")))
        if found is None:
            raise IsapiError(4, "invalidOperation", http=404)
        return found

    async def get_users(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        users = sorted(self.state.users, key=lambda n: self.state.users[n].id)
        inner = "".join(f"<User>{self._user_inner(n)}</User>" for n in users)
        return self.xml("UserList", inner, f' size="{self.MAX_USERS}"')

    async def get_user(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        name, _ = self._user(m)
        return self.xml("User", self._user_inner(name))

    @staticmethod
    def _level(el: Element, default: str) -> str:
        given = text(el, "userLevel")
        if given is None:
            return default
        level = LEVEL_FROM_HIK.get(given.lower())
        if level is None or level not in LEVELS:
            raise IsapiError(6, "badParameters")
        return level

    async def post_user(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "User")
        name, password = text(el, "userName"), text(el, "password")
        if not name or not password or name in self.state.users or not re.fullmatch(r"[\w.@-]{1,32}", name):
            raise IsapiError(6, "badParameters")
        if len(self.state.users) >= self.MAX_USERS:
            raise IsapiError(4, "invalidOperation")
        if not password_is_strong(password):
            raise IsapiError(4, "riskPassword")
        account = self.state.add_user(name, password, self._level(el, "User"))
        self.changed()
        return self.status(request, new_id=account.id)

    async def put_user(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        _, account = self._user(m)
        el = parse_body(body, "User")
        password = text(el, "password")
        level = self._level(el, account.level)
        if account.id == 1 and level != "Administrator":
            raise IsapiError(4, "invalidOperation")
        if password is not None:
            if not password_is_strong(password):
                raise IsapiError(4, "riskPassword")
            account.password = password
        account.level = level
        self.changed()
        return self.status(request)

    async def delete_user(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        name, account = self._user(m)
        if account.id == 1:
            raise IsapiError(4, "invalidOperation")
        del self.state.users[name]
        self.changed()
        return self.status(request)

    async def get_login_lock(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        lock = self.state.login_lock
        inner = (
            x("enabled", lock.enabled)
            + x("maxIllegalLoginTimes", lock.max_failures)
            + x("lockDuration", int(lock.lock_s // 60))
        )
        return self.xml("IllegalLoginLock", inner)

    async def put_login_lock(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "IllegalLoginLock")
        lock = self.state.login_lock
        enabled = get_bool(el, "enabled")
        times = get_int(el, "maxIllegalLoginTimes", 3, 20)
        minutes = get_int(el, "lockDuration", 1, 120)
        lock.enabled = lock.enabled if enabled is None else enabled
        lock.max_failures = lock.max_failures if times is None else times
        lock.lock_s = lock.lock_s if minutes is None else minutes * 60.0
        self.changed()
        return self.status(request)
