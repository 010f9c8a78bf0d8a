"""A simulated Dahua camera's HTTP CGI API: the login, the privilege check and each ``*.cgi``.

Why: Dahua drivers are tested against it, so it answers like the devices in device-apis.md §2
and §6: ``key=value`` lines with CRLF, ``table.`` on getConfig, ``OK`` on a good set,
``Error\\r\\nBad Request!\\r\\n`` (HTTP 400) on bad input, realm ``Login to <serial>``,
``LockLoginTimes=5`` / ``LoginFailLockTime=1800`` s lock-out per account, and the faults.
A CGI is the method ``cgi_<name>`` of :class:`DahuaCamera`; ``/OutsideCmd`` belongs to the
initialisation wizard (:mod:`~camfleet.sim.dahua.wizard`).

Choices where the reference is unsure [?]:

- An uninitialised device answers every CGI with 401 and ``Error\\r\\nInvalid Authority!`` (no
  challenge) [L].
- Bad logins: 401 with a new challenge; once locked, the body says ``Error\\r\\nUser locked!``.
- A non-admin calling a setter: 403 ``Error\\r\\nNo Authority!``.
- ``upgrader.cgi?action=getState`` idle state is ``Idle``; a finished upgrade reboots by itself.

Reproduce by hand::

    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/magicBox.cgi?action=getSystemInfo'
    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/upgrader.cgi?action=getState'
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from collections.abc import Callable

from aiohttp import BodyPartReader, web

from camfleet.sim.dahua.cgi import CRLF, CgiError, kv
from camfleet.sim.dahua.config import ConfigTable
from camfleet.sim.dahua.wizard import InitWizard
from camfleet.sim.devices import CameraState, parse_firmware, password_is_strong
from camfleet.sim.digest import AuthOutcome
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.httpdevice import Clock, FlashOutcome, HttpDevice
from camfleet.sim.httpserve import Timings, snapshot_jpeg, truncate


class DahuaCamera(HttpDevice):
    """One Dahua camera's CGI API over a :class:`CameraState`."""

    LOCK_BY = "user"
    state: CameraState

    def __init__(
        self, state: CameraState, faults: Faults, *, clock: Clock, on_change: Callable[[], None], timings: Timings
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
        self.config = ConfigTable(state)
        self.wizard = InitWizard(state, on_change)
        self._flash: asyncio.Task[None] | None = None

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

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/OutsideCmd" and request.method == "POST":
            return await self.wizard.answer(request)
        m = re.fullmatch(r"/cgi-bin/(\w+)\.cgi", request.path)
        if not m:
            return web.Response(
                status=404, text="<html><body><h1>404 Not Found</h1></body></html>", content_type="text/html"
            )
        cgi, action = m.group(1), request.query.get("action", "")
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
        handler = getattr(self, f"cgi_{cgi}", None)
        if handler is None:
            return web.Response(
                status=404, text="<html><body><h1>404 Not Found</h1></body></html>", content_type="text/html"
            )
        resp: web.StreamResponse = await handler(request, action, is_admin)
        return resp

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
                ("processor", "S3LM"),
                ("serialNumber", s.serial),
                ("updateSerial", s.model),
            ],
        }
        if action in replies:
            return self.text(kv(replies[action]))
        if action == "getProductDefinition" and request.query.get("name") == "MaxExtraStream":
            return self.text(kv([("table.MaxExtraStream", sum(1 for sid in s.streams if sid != 101))]))
        if action == "reboot":
            self._admin(is_admin)
            resp = self.text(f"OK{CRLF}")
            self.start_reboot()
            return resp
        raise CgiError()

    async def cgi_configManager(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if action == "getConfig":
            name = request.query.get("name", "")
            if name not in ConfigTable.NAMES:
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
            if name not in ConfigTable.NAMES:
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
            restored = CameraState.from_dict(before)
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

    async def cgi_storageDevice(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if action in ("getDeviceAllInfo", "factory.getCollect"):
            return self.text("")  # no SD card fitted
        raise CgiError()

    async def cgi_snapshot(self, request: web.Request, action: str, is_admin: bool) -> web.StreamResponse:
        if request.query.get("channel", "1") != "1":
            raise CgiError()
        st = self.state.streams[101]
        return web.Response(body=await snapshot_jpeg(st.width, st.height), content_type="image/jpeg")

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
