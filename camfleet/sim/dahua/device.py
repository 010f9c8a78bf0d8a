"""What every simulated Dahua device's HTTP CGI API shares: the login, the privilege check, the
``Error`` replies and the CGIs of identity (``magicBox``), time (``global``), settings
(``configManager`` over a :class:`~camfleet.sim.dahua.config.DeviceConfig`), users
(``userManager``) and firmware (``upgrader``).

Why apart: a Dahua camera (:mod:`~camfleet.sim.dahua.camera`) and a Dahua recorder
(:mod:`~camfleet.sim.dahua.nvr`) speak the same CGI plumbing (device-apis.md §2.1-§2.5) and differ
in the CGIs they add. A CGI is the method ``cgi_<name>`` of the device class; a subclass adds
its own, or routes a path that is not ``/cgi-bin/<name>.cgi`` in :meth:`DahuaCgiDevice.route`.
Facts and [?] choices: see :mod:`~camfleet.sim.dahua.camera`.

Reproduce by hand::

    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/magicBox.cgi?action=getSystemInfo'
    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/global.cgi?action=getCurrentTime'
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from collections.abc import Awaitable, Callable
from typing import ClassVar

from aiohttp import BodyPartReader, web

from camfleet.sim.dahua.cgi import CRLF, CgiError, kv
from camfleet.sim.dahua.config import DeviceConfig
from camfleet.sim.devices import DeviceState, parse_firmware, password_is_strong
from camfleet.sim.digest import AuthOutcome
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.httpdevice import Clock, FlashOutcome, HttpDevice
from camfleet.sim.httpserve import Timings, truncate

#: A CGI handler: ``(request, action, is_admin)`` → the reply.
Cgi = Callable[[web.Request, str, bool], Awaitable[web.StreamResponse]]


def not_found() -> web.Response:
    return web.Response(status=404, text="<html><body><h1>404 Not Found</h1></body></html>", content_type="text/html")


class DahuaCgiDevice(HttpDevice):
    """One Dahua device's CGI API over a :class:`~camfleet.sim.devices.DeviceState` and its config table."""

    LOCK_BY = "user"
    FACTORY_PASSWORD = "admin"  # noqa: S105 - the maker's published default, simulated; builds before the initialisation wizard (device-apis.md §6.4)
    #: What ``getSystemInfo`` says the device runs on [?].
    PROCESSOR: ClassVar[str] = "S3LM"

    def __init__(
        self,
        state: DeviceState,
        faults: Faults,
        *,
        clock: Clock,
        on_change: Callable[[], None],
        timings: Timings,
        config: DeviceConfig,
    ) -> None:
        super().__init__(
            state,
            faults,
            clock=clock,
            on_change=on_change,
            timings=timings,
            realm=f"Login to {state.serial}",
            opaque=os.urandom(16).hex(),
        )
        self.config = config
        self._flash: asyncio.Task[None] | None = None

    def product_definition(self, name: str) -> list[tuple[str, object]]:
        """``magicBox.cgi?action=getProductDefinition&name=<name>``: none known by default."""
        raise CgiError()

    # ----------------------------------------------------------------- plumbing

    @staticmethod
    def text(body: str, status: int = 200) -> web.Response:
        return web.Response(status=status, text=body, content_type="text/plain")

    async def answer(self, request: web.Request) -> web.StreamResponse:
        try:
            resp = await self._dispatch(request)
        except CgiError as err:
            resp = self.text(f"Error{CRLF}{err.reason}{CRLF}", err.http)
        if self.faults.has(Fault.malformed) and isinstance(resp, web.Response) and isinstance(resp.body, bytes):
            resp.body = truncate(resp.body)
        return resp

    def route(self, request: web.Request) -> tuple[Cgi | None, str] | None:
        """The handler of a path and its action: ``/cgi-bin/<name>.cgi`` is ``cgi_<name>`` (None when the
        device has no such CGI: 404 after the login); None for a path the device does not serve (404)."""
        m = re.fullmatch(r"/cgi-bin/(\w+)\.cgi", request.path)
        if not m:
            return None
        handler: Cgi | None = getattr(self, f"cgi_{m.group(1)}", None)
        return handler, request.query.get("action", "")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        found = self.route(request)
        if found is None:
            return not_found()
        handler, action = found
        if not self.state.activated:
            raise CgiError("Invalid Authority!", 401)
        result = self.authenticate(request)
        if result.outcome is not AuthOutcome.ok:
            headers = {"WWW-Authenticate": self.auth.challenge(stale=result.outcome is AuthOutcome.stale)}
            reason = "User locked!" if result.outcome is AuthOutcome.locked else "Unauthorized!"
            return web.Response(
                status=401, text=f"Error{CRLF}{reason}{CRLF}", content_type="text/plain", headers=headers
            )
        user = self.state.users.get(result.user or "")
        is_admin = user is not None and user.level == "Administrator"
        if handler is None:
            return not_found()
        return await handler(request, action, is_admin)

    @staticmethod
    def _admin(is_admin: bool) -> None:
        if not is_admin:
            raise CgiError("No Authority!", 403)

    def _version(self) -> str:
        m = re.fullmatch(r"V?(.+)\.(\d{2})(\d{2})(\d{2})", self.state.firmware)
        if not m:
            return f"{self.state.firmware.lstrip('V')},build:unknown"
        return f"{m.group(1)},build:20{m.group(2)}-{m.group(3)}-{m.group(4)}"

    # ----------------------------------------------------------------- CGIs

    async def cgi_magicBox(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        s = self.state
        replies: dict[str, list[tuple[str, object]]] = {
            "getDeviceType": [("type", s.model)],
            "getSoftwareVersion": [("version", self._version())],
            "getSerialNo": [("sn", s.serial)],
            "getHardwareVersion": [("version", "1.00")],
            "getMachineName": [("name", s.device_name)],
            "getVendor": [("vendor", "Dahua")],
            "getSystemInfo": [
                ("appAutoStart", True),
                ("deviceType", s.model),
                ("hardwareVersion", "1.00"),
                ("processor", self.PROCESSOR),
                ("serialNumber", s.serial),
                ("updateSerial", s.model),
            ],
        }
        if action in replies:
            return self.text(kv(replies[action]))
        if action == "getProductDefinition":
            return self.text(kv(self.product_definition(request.query.get("name", ""))))
        if action == "reboot":
            self._admin(is_admin)
            resp = self.text(f"OK{CRLF}")
            self.start_reboot()
            return resp
        raise CgiError()

    async def cgi_configManager(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if action == "getConfig":
            name = request.query.get("name", "")
            if name not in self.config.NAMES:
                raise CgiError()
            return self.text(kv([(f"table.{k}", v) for k, v in self.config.render(name).items()]))
        if action != "setConfig":
            raise CgiError()
        self._admin(is_admin)
        updates = {k: v for k, v in request.query.items() if k != "action"}
        if not updates:
            raise CgiError()
        merged: dict[str, dict[str, str]] = {}
        for key, value in updates.items():
            name = re.split(r"[.\[]", key, maxsplit=1)[0]
            if name not in self.config.NAMES:
                raise CgiError()
            flat = merged.setdefault(name, self.config.render(name))
            if key not in flat:
                raise CgiError()
            flat[key] = value
        before = self.state.to_dict()
        try:
            for name, flat in merged.items():
                self.config.store(name, flat)
        except (CgiError, KeyError) as exc:
            restored = type(self.state).from_dict(before)
            for field_name in before:
                setattr(self.state, field_name, getattr(restored, field_name))
            raise CgiError() from exc
        self.on_change()
        return self.text(f"OK{CRLF}")

    async def cgi_global(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        offset = dt.timezone(dt.timedelta(seconds=self.state.utc_offset_s()))
        if action == "getCurrentTime":
            now = dt.datetime.fromtimestamp(self.state.device_time(self.clock(), self.faults), offset)
            return self.text(kv([("result", now.strftime("%Y-%m-%d %H:%M:%S"))]))
        if action == "setCurrentTime":
            self._admin(is_admin)
            try:
                when = dt.datetime.strptime(request.query.get("time", ""), "%Y-%m-%d %H:%M:%S").replace(tzinfo=offset)
            except ValueError as exc:
                raise CgiError() from exc
            current = self.state.device_time(self.clock(), self.faults)
            self.state.clock_offset_s += when.timestamp() - current
            self.on_change()
            return self.text(f"OK{CRLF}")
        raise CgiError()

    async def cgi_userManager(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        s, q = self.state, request.query

        def describe(i: int, name: str) -> list[tuple[str, object]]:
            u = s.users[name]
            group = "admin" if u.level == "Administrator" else "user"
            return [
                (f"users[{i}].Id", u.id),
                (f"users[{i}].Name", name),
                (f"users[{i}].Group", group),
                (f"users[{i}].Sharable", True),
                (f"users[{i}].Reserved", u.id == 1),
            ]

        if action == "getUserInfoAll":
            names = sorted(s.users, key=lambda n: s.users[n].id)
            return self.text(kv([p for i, n in enumerate(names) for p in describe(i, n)]))
        if action == "getUserInfo":
            name = q.get("name", "")
            if name not in s.users:
                raise CgiError()
            return self.text(kv([(k.split(".", 1)[1], v) for k, v in describe(0, name)]))
        self._admin(is_admin)
        if action == "modifyPassword":
            name, new, old = q.get("name", ""), q.get("pwd", ""), q.get("pwdOld", "")
            if name not in s.users or s.users[name].password != old or not password_is_strong(new, 32):
                raise CgiError()
            s.users[name].password = new
        elif action == "addUser":
            name, password, group = q.get("user.Name", ""), q.get("user.Password", ""), q.get("user.Group", "user")
            if (
                not re.fullmatch(r"\w{1,31}", name)
                or name in s.users
                or group not in ("admin", "user")
                or not password_is_strong(password, 32)
            ):
                raise CgiError()
            s.add_user(name, password, "Administrator" if group == "admin" else "User")
        elif action == "deleteUser":
            name = q.get("name", "")
            if name not in s.users or s.users[name].id == 1:
                raise CgiError()
            del s.users[name]
        else:
            raise CgiError()
        self.on_change()
        return self.text(f"OK{CRLF}")

    async def cgi_upgrader(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        up = self.state.upgrade
        if action == "getState":
            names = {"idle": "Idle", "upgrading": "Upgrading", "succeeded": "Succeeded", "failed": "Failed"}
            return self.text(kv([("state", names.get(up.state, "Idle")), ("progress", up.progress)]))
        self._admin(is_admin)
        if action == "cancel":
            if self._flash is not None:
                self._flash.cancel()
            up.state, up.progress = "idle", 0
            return self.text(f"OK{CRLF}")
        if action != "uploadFirmware" or request.method != "POST":
            raise CgiError()
        if up.state == "upgrading":
            raise CgiError("Upgrading!")
        data = await _read_upload(request)
        image = parse_firmware(data)
        if image is None or image.model != self.state.model:
            raise CgiError("Invalid firmware!")
        up.state, up.progress, up.pending_build = "upgrading", 0, image.build
        self._flash = asyncio.get_running_loop().create_task(self._flashing(image.build))
        self.on_change()
        return self.text(f"OK{CRLF}")

    async def _flashing(self, build: str) -> None:
        """Write the image in the background; the device reboots by itself when done."""
        if await self.flash(self.state.upgrade, build) is FlashOutcome.written:
            self.start_reboot()
        self.on_change()


async def _read_upload(request: web.Request) -> bytes:
    """The firmware bytes: the file part of a multipart form, or the raw body."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader):
                return bytes(await part.read())
        raise CgiError()
    return await request.read()
