"""How a simulated ISAPI device takes a request: the route table, the activation gate, digest login,
the Administrator check on writes, and the ``ResponseStatus`` every answer or refusal is written in.

Why apart from the resources: the plumbing is the same for every resource of a camera or an NVR,
and the order of its checks is what clients see first (activation before login, login before
``notSupport``, ``lowPrivilege`` on any write by a non-admin). Resource classes
(:mod:`~camfleet.sim.hikvision.system`, ``accounts``, ``maintenance``, ``camera``, ``nvr``) add
routes and their handlers; a route names its handler method.

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    curl -i http://127.77.0.10/ISAPI/System/deviceInfo                       # 401 + digest challenge
    curl -i --digest -u admin:<password> http://127.77.0.10/ISAPI/Nothing/here   # 403 notSupport
    curl -i --digest -u admin:<password> -X DELETE http://127.77.0.10/ISAPI/System/time   # 405
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import ClassVar

from aiohttp import web

from camfleet.sim.digest import AuthOutcome, AuthResult
from camfleet.sim.faults import Fault
from camfleet.sim.hikvision.xml import HTTP_FOR_STATUS, NS_CAMERA, STATUS_STRINGS, IsapiError, document, x
from camfleet.sim.httpdevice import HttpDevice
from camfleet.sim.httpserve import drop_connection, truncate

Route = tuple[str, re.Pattern[str], str]
Handler = Callable[[web.Request, re.Match[str], bytes], Awaitable[web.StreamResponse]]


def routes(*table: tuple[str, str, str]) -> tuple[Route, ...]:
    """(method, path pattern, handler name) rows; paths match case-insensitively, a trailing ``/`` too."""
    return tuple((method, re.compile(pattern + r"/?", re.IGNORECASE), name) for method, pattern, name in table)


class IsapiBase(HttpDevice):
    """Routing, auth and ResponseStatus for one ISAPI device; subclasses bring the resources."""

    ROUTES: ClassVar[tuple[Route, ...]] = ()
    OPEN: ClassVar[frozenset[str]] = frozenset()  # handlers answered without activation or login
    NS: ClassVar[str] = NS_CAMERA
    DEVICE_TYPE: ClassVar[str] = "IPCamera"
    FACTORY_PASSWORD: ClassVar[str | None] = "12345"  # noqa: S105 - the maker's published default; builds before activation (device-apis.md §6.4)

    # ----------------------------------------------------------------- replies

    def xml(self, root: str, inner: str, attrs: str = "", status: int = 200) -> web.Response:
        return web.Response(
            status=status, body=document(root, inner, self.NS, attrs), content_type="application/xml", charset="UTF-8"
        )

    def status(
        self,
        request: web.Request,
        code: int = 1,
        sub: str = "ok",
        *,
        new_id: int | None = None,
        extra: str = "",
        http: int | None = None,
    ) -> web.Response:
        inner = (
            x("requestURL", request.path)
            + x("statusCode", code)
            + x("statusString", STATUS_STRINGS[code])
            + x("subStatusCode", sub)
        )
        if new_id is not None:
            inner += x("id", new_id)
        return self.xml("ResponseStatus", inner + extra, status=http if http is not None else HTTP_FOR_STATUS[code])

    def _unauthorized(self, result: AuthResult, request: web.Request) -> web.Response:
        headers = {"WWW-Authenticate": self.auth.challenge(stale=result.outcome is AuthOutcome.stale)}
        if result.outcome in (AuthOutcome.bad, AuthOutcome.locked):
            locked = result.outcome is AuthOutcome.locked
            extra = (
                x("lockStatus", "locked" if locked else "unlock")
                + x("retryTimes", 0 if locked else result.retries_left)
                + x("resLockTime", int(result.lock_remaining_s))
            )
            resp = self.status(request, 4, "badAuthorization", extra=extra, http=401)
            resp.headers.update(headers)
            return resp
        body = b"<!DOCTYPE html>\n<html><head><title>Document Error: Unauthorized</title></head><body><h2>Access Error: 401 -- Unauthorized</h2><p>Authentication Error</p></body></html>\n"
        return web.Response(status=401, body=body, content_type="text/html", headers=headers)

    # ----------------------------------------------------------------- dispatch

    def _match(self, method: str, path: str) -> tuple[str, re.Match[str]] | None:
        allowed = False
        for route_method, pattern, name in self.ROUTES:
            m = pattern.fullmatch(path)
            if m:
                if route_method == method:
                    return name, m
                allowed = True
        if allowed:
            raise IsapiError(4, "methodNotAllowed", http=405)
        return None

    async def answer(self, request: web.Request) -> web.StreamResponse:
        """A request that reached the device: activation, digest, privilege, route, malformed."""
        try:
            resp = await self._dispatch(request)
        except IsapiError as err:
            extra = x("description", err.description) if err.description else ""
            resp = self.status(request, err.code, err.sub, extra=extra, http=err.http)
        if self.faults.unreachable:  # bricked while flashing
            return drop_connection(request)
        if self.faults.has(Fault.malformed) and isinstance(resp, web.Response) and resp.body:
            body = resp.body if isinstance(resp.body, bytes) else b""
            resp.body = truncate(body)
        resp.headers["Server"] = "App-webs/"
        return resp

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if not request.path.upper().startswith(("/ISAPI/", "/SDK/")):
            return web.Response(
                status=404,
                text="<html><head><title>Document Error: Page not found</title></head><body><h2>Access Error: 404 -- Not Found</h2></body></html>",
                content_type="text/html",
            )
        try:
            matched = self._match(request.method, request.path)
        except IsapiError:
            matched, not_allowed = None, True
        else:
            not_allowed = False
        # A GET may carry a body too: the footage download is a GET with its XML (cameras, most NVRs).
        body = await request.read() if request.method in ("PUT", "POST") or request.can_read_body else b""
        if matched is not None and matched[0] in self.OPEN:
            return await self._call(matched, request, body)
        if not self.state.activated:
            raise IsapiError(4, "notActivated", http=401)
        result = self.authenticate(request)
        if result.outcome is not AuthOutcome.ok:
            return self._unauthorized(result, request)
        if not_allowed:
            raise IsapiError(4, "methodNotAllowed", http=405)
        if matched is None:
            raise IsapiError(4, "notSupport", http=403)
        user = self.state.users.get(result.user or "")
        if request.method != "GET" and (user is None or user.level != "Administrator"):
            raise IsapiError(4, "lowPrivilege", http=403)
        return await self._call(matched, request, body)

    async def _call(self, matched: tuple[str, re.Match[str]], request: web.Request, body: bytes) -> web.StreamResponse:
        name, m = matched
        handler: Handler = getattr(self, name)
        return await handler(request, m, body)
