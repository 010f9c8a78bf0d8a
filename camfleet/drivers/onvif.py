"""A generic ONVIF Profile S camera: the town's community cameras of brands it does not administer
(Imou, Ezviz, KBVision, TP-Link …) whose owners share a stream with the station.

What it does, and only that: who the camera is (``GetDeviceInformation``), its clock
(``GetSystemDateAndTime``), the RTSP URI of its main or sub stream (``GetStreamUri`` for the profile
of the largest or the smallest picture) and a snapshot (``GetSnapshotUri``, then an HTTP digest GET
through :class:`~camfleet.drivers.http.DeviceSession`, capped and under a deadline like every other
snapshot). Configuration, users, firmware and reboots are not camfleet's to touch on a shared
camera: they raise :class:`~camfleet.drivers.errors.Unsupported` with :data:`NOT_MANAGED`.

SOAP goes through a maintained client library (``onvif-zeep-async``, zeep + aiohttp, its WSDLs
shipped in the wheel: nothing is fetched at run time), not hand-built envelopes. It is asynchronous
and this interface is not: each call runs on the driver's own event loop under one total deadline
(:data:`~camfleet.drivers.http.DEADLINE_FACTOR` × the timeout). The WS-UsernameToken clock-skew
rule is the library's ``adjust_time``: the camera's time is read first (``GetSystemDateAndTime``
needs no login) and every token's ``Created`` is shifted by the offset, so a camera whose clock is
minutes off still accepts us. A refused login is remembered: the driver sends it no second time.

URIs the camera hands out name its own idea of its address (a LAN address behind NAT, or the
real one when the station reaches it through the simulator's overlay): only their path and query
are kept; :func:`camfleet.drivers.onvif_stream_url` puts them on the camera's endpoint, and the
snapshot is fetched from the device the driver was opened on, never from a host the camera names.

Reproduce by hand (a camera of a running ``camfleet sim`` on 127.77.0.10)::

    .venv/bin/python -c "from camfleet.drivers.onvif import OnvifCamera as C; \\
        c = C('cam-x', '127.77.0.10', 80, 'admin', '<password>'); print(c.facts(), c.time(), c.stream_uri(sub=True))"
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import aiohttp
import zeep.exceptions
from lxml import etree  # type: ignore[import-untyped]  # no stubs in the lock; used for one strict parse

from camfleet.drivers import NOT_MANAGED
from camfleet.drivers.base import DeviceClock, Driver, Facts, Progress, UpgradeStatus, User
from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    DeviceTimeout,
    DriverError,
    MalformedReply,
    Unreachable,
    Unsupported,
)
from camfleet.drivers.http import DEADLINE_FACTOR, DOCUMENT_MAX, SNAPSHOT_MAX, too_large

if TYPE_CHECKING:
    from onvif import ONVIFCamera  # type: ignore[import-untyped]

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    """A media profile with video: its token and picture."""

    token: str
    encoding: str
    width: int
    height: int


_CHECKED: type[ONVIFCamera] | None = None


def _library() -> type[ONVIFCamera]:
    """The library's camera class, each SOAP reply of which is bounded and must be well-formed XML."""
    global _CHECKED
    if _CHECKED is not None:
        return _CHECKED
    # Imported on first use, and here: the library calls logging.basicConfig() at import, which would
    # give the importing process (the exporter, an Ansible worker) a root handler it never asked for.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    from onvif import ONVIFCamera  # see above

    root.handlers[:], root.level = handlers, level

    class Checked(ONVIFCamera):  # type: ignore[misc]  # the library is untyped
        device_id = "device"

        async def create_onvif_service(self, *args: Any, **kwargs: Any) -> Any:
            service = await super().create_onvif_service(*args, **kwargs)
            _guard(service.transport, self.device_id)
            return service

    _CHECKED = Checked
    return Checked


def _guard(transport: Any, device_id: str) -> None:
    """Read every SOAP reply of ``transport`` ourselves: at most :data:`DOCUMENT_MAX` bytes (issue 15: an
    endless body must not fill memory), and well-formed (the library parses in lxml's recover mode, so a
    reply cut in the middle would give half the facts — a serial cut short — without a word).

    Replaces the transport's ``_post_internal`` (onvif-zeep-async 4.3: ``(address, message, headers)`` →
    ``(response, content)``), the one place its SOAP posts read a body.
    """
    if getattr(transport, "_camfleet_guarded", False):
        return
    session = transport.session

    async def post_internal(address: str, message: str | bytes, headers: dict[str, str]) -> tuple[Any, bytes]:
        data = message.encode("utf-8") if isinstance(message, str) else message
        response = await session.post(address, data=data, headers=headers or {})
        parts: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > DOCUMENT_MAX:
                response.close()
                raise too_large(device_id, f"POST {urlsplit(address).path}", DOCUMENT_MAX, size)
            parts.append(chunk)
        content = b"".join(parts)
        if content.strip():
            try:
                etree.fromstring(content, _STRICT)
            except etree.XMLSyntaxError as err:
                raise MalformedReply(
                    device_id, f"POST {urlsplit(address).path}: the reply is not well-formed XML", str(err)
                ) from None
        return response, content

    transport._post_internal = post_internal
    transport._camfleet_guarded = True


#: A strict parser (no recovery), no entities, no network, no huge trees.
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


class OnvifCamera(Driver):
    """An ONVIF Profile S camera, read-only: facts, time, stream and snapshot URIs, a snapshot."""

    name: ClassVar[str] = "onvif"
    vendor: ClassVar[str] = "onvif"

    def __init__(
        self,
        device_id: str,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        timeout: float = 5.0,
        scheme: str = "http",
        verify: bool | str = True,
    ) -> None:
        super().__init__(device_id, host, port, username, password, timeout=timeout, scheme=scheme, verify=verify)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._camera: ONVIFCamera | None = None
        self._refused: AuthError | None = None

    # ----------------------------------------------------------------- the loop and its errors

    def close(self) -> None:
        loop, camera, self._loop, self._camera = self._loop, self._camera, None, None
        if loop is not None:

            def finish() -> None:
                if camera is not None:
                    with contextlib.suppress(Exception):  # closing a dead connection fails; nothing is lost
                        loop.run_until_complete(asyncio.wait_for(camera.close(), self.timeout))
                loop.close()

            if _loop_running():  # called from an event loop's thread (the exporter's probes): not on it
                closer = threading.Thread(target=finish, name=f"onvif-close-{self.device_id}", daemon=True)
                closer.start()
                closer.join(self.timeout)
            else:
                finish()
        super().close()

    def _run(self, what: str, call: Callable[[ONVIFCamera], Awaitable[T]]) -> T:
        """``call`` on the logged-in camera, within the deadline; library errors become driver errors."""
        if self._refused is not None:
            raise AuthError(
                self.device_id, f"not sending the refused credentials again ({what})", self._refused.device_said
            )
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        deadline = DEADLINE_FACTOR * self.timeout

        async def run() -> T:
            return await call(await self._connected())

        try:
            return self._loop.run_until_complete(asyncio.wait_for(run(), deadline))
        except DriverError:
            raise
        except Exception as exc:
            err = self._translate(exc, what, deadline)
            if isinstance(err, AuthError):
                self._refused = err
            if self._camera is not None:  # start afresh next time (a new clock offset, new connections)
                camera, self._camera = self._camera, None
                with contextlib.suppress(Exception):  # closing what broke; the error that broke it is reported
                    self._loop.run_until_complete(asyncio.wait_for(camera.close(), self.timeout))
            raise err from None

    async def _connected(self) -> ONVIFCamera:
        if self._camera is None:
            # adjust_time: tokens on the camera's clock (the skew rule); nat_override: every service address
            # it names is put back on the host:port we were given (a LAN address behind NAT, or the real one
            # behind the simulator's overlay, is never contacted).
            camera = _library()(
                self.host, self.port, self.username, self._password, no_cache=True, adjust_time=True, nat_override=True
            )
            camera.device_id = self.device_id
            self._camera = camera  # closed by _run or close() whatever happens next
            await camera.update_xaddrs()
        return self._camera

    def _translate(self, exc: BaseException, what: str, deadline: float) -> DriverError:
        cause: BaseException | None = exc
        seen = 0
        while cause is not None and seen < 5:  # the library wraps errors (ONVIFError from ...)
            if isinstance(cause, TimeoutError | asyncio.TimeoutError):
                return DeviceTimeout(self.device_id, f"no reply within {deadline:g} s ({what})")
            if isinstance(cause, zeep.exceptions.Fault):
                said = " ".join(str(x) for x in (cause.message, *(cause.subcodes or ())) if x)
                if "notauthorized" in said.replace(" ", "").lower() or "unauthorized" in said.lower():
                    return AuthError(self.device_id, f"ONVIF login refused ({what})", said)
                return DeviceError(self.device_id, f"the camera refused {what}", said)
            if isinstance(cause, zeep.exceptions.TransportError):
                if cause.status_code == 401:
                    return AuthError(self.device_id, f"ONVIF login refused ({what})", "HTTP 401")
                return MalformedReply(
                    self.device_id, f"{what}: not a SOAP reply (HTTP {cause.status_code})", _snippet(cause.content)
                )
            if isinstance(cause, zeep.exceptions.XMLSyntaxError | zeep.exceptions.XMLParseError):
                return MalformedReply(self.device_id, f"{what}: the reply is not valid XML", str(cause))
            if isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError | ConnectionError):
                return Unreachable(self.device_id, f"connection failed ({what}; {type(cause).__name__})")
            if isinstance(cause, aiohttp.ClientError):
                return MalformedReply(self.device_id, f"{what}: HTTP failed ({type(cause).__name__})", str(cause))
            cause = cause.__cause__ or cause.__context__
            seen += 1
        return MalformedReply(self.device_id, f"{what}: unexpected reply ({type(exc).__name__})", str(exc))

    # ----------------------------------------------------------------- what an ONVIF camera tells

    def facts(self) -> Facts:
        async def call(camera: ONVIFCamera) -> Any:
            return await (await camera.create_devicemgmt_service()).GetDeviceInformation()

        info = self._run("GetDeviceInformation", call)
        maker = _text(info, "Manufacturer")
        return Facts(
            vendor=maker.lower() if maker else self.vendor,
            activated=True,
            model=_text(info, "Model"),
            serial=_text(info, "SerialNumber"),
            firmware=_text(info, "FirmwareVersion"),
            device_type="IPCamera",
        )

    def time(self) -> DeviceClock:
        async def call(camera: ONVIFCamera) -> tuple[Any, float, float]:
            service = await camera.create_devicemgmt_service()
            before = time.time()
            answer = await service.authless_GetSystemDateAndTime()
            return answer, before, time.time()

        answer, before, after = self._run("GetSystemDateAndTime", call)
        utc = _date_time(getattr(answer, "UTCDateTime", None))
        if utc is None:
            raise MalformedReply(self.device_id, "GetSystemDateAndTime has no UTCDateTime", _snippet(str(answer)))
        local = _date_time(getattr(answer, "LocalDateTime", None))
        offset = 0 if local is None else int(round((local - utc).total_seconds() / 900) * 900)
        device_utc = utc.replace(tzinfo=dt.UTC)
        return DeviceClock(device_utc, offset, device_utc.timestamp() - (before + after) / 2)

    def profiles(self) -> list[Profile]:
        """The media profiles that carry video, largest picture first."""

        async def call(camera: ONVIFCamera) -> Any:
            return await (await camera.create_media_service()).GetProfiles()

        found = []
        for p in self._run("GetProfiles", call) or []:
            encoder = getattr(p, "VideoEncoderConfiguration", None)
            resolution = getattr(encoder, "Resolution", None)
            token = getattr(p, "token", None)
            if encoder is None or resolution is None or not token:
                continue
            found.append(
                Profile(
                    str(token),
                    str(getattr(encoder, "Encoding", "") or ""),
                    int(getattr(resolution, "Width", 0) or 0),
                    int(getattr(resolution, "Height", 0) or 0),
                )
            )
        if not found:
            raise MalformedReply(self.device_id, "GetProfiles lists no profile with video")
        return sorted(found, key=lambda p: p.width * p.height, reverse=True)

    def profile(self, *, sub: bool = False) -> Profile:
        """The main stream's profile (the largest picture) or the sub stream's (the smallest of several)."""
        found = self.profiles()
        if not sub:
            return found[0]
        if len(found) < 2:
            raise Unsupported(self.device_id, "the camera offers one video profile only: no sub stream")
        return found[-1]

    def stream_uri(self, *, sub: bool = False) -> str:
        """The RTSP URI the camera gives for its main or sub stream (its own address; no credentials)."""
        token = self.profile(sub=sub).token

        async def call(camera: ONVIFCamera) -> Any:
            media = await camera.create_media_service()
            setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
            return await media.GetStreamUri({"StreamSetup": setup, "ProfileToken": token})

        uri = _text(self._run("GetStreamUri", call), "Uri")
        if not uri or urlsplit(uri).scheme.lower() != "rtsp":
            raise MalformedReply(self.device_id, "GetStreamUri gave no rtsp:// URI", uri)
        return uri

    def stream_path(self, *, sub: bool = False) -> str:
        """Path and query of :meth:`stream_uri` (``/cam/realmonitor?channel=1&subtype=1…``)."""
        return _path(self.stream_uri(sub=sub))

    def snapshot_uri(self, *, sub: bool = False) -> str:
        token = self.profile(sub=sub).token

        async def call(camera: ONVIFCamera) -> Any:
            return await (await camera.create_media_service()).GetSnapshotUri({"ProfileToken": token})

        uri = _text(self._run("GetSnapshotUri", call), "Uri")
        if not uri or urlsplit(uri).scheme.lower() not in ("http", "https"):
            raise Unsupported(self.device_id, "the camera gives no HTTP snapshot URI", uri)
        return uri

    def snapshot(self) -> bytes:
        """A JPEG of the main stream: the snapshot URI's path, fetched from this device with digest."""
        path = _path(self.snapshot_uri())
        resp = self.session.request("GET", path, max_bytes=SNAPSHOT_MAX)
        if resp.status_code == 401:
            raise self.session.refuse(AuthError(self.device_id, "snapshot login refused", "HTTP 401"))
        if resp.status_code != 200:
            raise DeviceError(
                self.device_id, f"snapshot refused (HTTP {resp.status_code})", http_status=resp.status_code
            )
        if not (resp.content.startswith(b"\xff\xd8") and resp.content.rstrip(b"\0").endswith(b"\xff\xd9")):
            raise MalformedReply(self.device_id, "the snapshot URI did not return a whole JPEG")
        return resp.content

    # ----------------------------------------------------------------- not ours to change

    def activation_status(self) -> bool:
        raise Unsupported(self.device_id, NOT_MANAGED)

    def activate(self, password: str) -> bool:
        raise Unsupported(self.device_id, NOT_MANAGED)

    def users(self) -> list[User]:
        raise Unsupported(self.device_id, NOT_MANAGED)

    def set_password(self, user: str, new: str) -> None:
        raise Unsupported(self.device_id, NOT_MANAGED)

    def add_user(self, name: str, password: str, level: str = "viewer") -> User:
        raise Unsupported(self.device_id, NOT_MANAGED)

    def reboot(self) -> None:
        raise Unsupported(self.device_id, NOT_MANAGED)

    def firmware_upload(self, data: bytes, progress: Progress | None = None) -> UpgradeStatus:
        raise Unsupported(self.device_id, NOT_MANAGED)

    def firmware_status(self) -> UpgradeStatus:
        raise Unsupported(self.device_id, NOT_MANAGED)

    def config_export(self) -> bytes:
        raise Unsupported(self.device_id, NOT_MANAGED)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _text(obj: Any, name: str) -> str | None:
    value = getattr(obj, name, None) if obj is not None else None
    return " ".join(str(value).split()) or None if value is not None else None


def _path(uri: str) -> str:
    parts = urlsplit(uri.strip())
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _date_time(value: Any) -> dt.datetime | None:
    date, clock = getattr(value, "Date", None), getattr(value, "Time", None)
    if date is None or clock is None:
        return None
    try:
        return dt.datetime(
            int(date.Year), int(date.Month), int(date.Day), int(clock.Hour), int(clock.Minute), int(clock.Second)
        )
    except (TypeError, ValueError):
        return None


def _snippet(content: Any) -> str:
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content or "")
    return " ".join(text.split())[:120]
