"""Simulated Hikvision cameras and NVRs speaking ISAPI over HTTP with digest auth.

Why this exists: drivers, probes and playbooks are tested against these apps, so they answer
the way real devices do (device-apis.md §1, §6, §7): XML with a namespace (cameras
``hikvision.com/ver20``, NVRs ``isapi.org/ver20``), a ``ResponseStatus`` on every write
(1 OK, 7 Reboot Required, or the error), 403 + ``notSupport`` for resources the model lacks,
401 + ``notActivated`` until activation, a digest lock-out after bad logins, and the
faults in :mod:`camfleet.sim.faults`.

Choices where the reference is unsure, tagged [?] there and here:

- Lock-out: cameras lock a client address after 5 bad logins, NVRs after 7, for 30 minutes
  (``/ISAPI/Security/illegalLoginLock``). Bad-login and locked replies are 401 with a digest
  challenge and a ``ResponseStatus`` carrying ``lockStatus``, ``retryTimes``, ``resLockTime``.
- Activation: the real challenge flow (RSA + AES-128-ECB, §1.4) is implemented; while no
  challenge is outstanding a plain ``<ActivateInfo><password>`` is also accepted.
- Error HTTP codes: 4 → 403, 5 and 6 → 400, 3 → 500, 2 → 503.
- ``GET /ISAPI/ContentMgmt/record/status`` (per-track recording state) is a simulator resource.
- Firmware: ``PUT /ISAPI/System/updateFirmware`` blocks while flashing (poll
  ``/ISAPI/System/upgradeStatus`` meanwhile), then answers 7; the new build runs after
  ``PUT /ISAPI/System/reboot``. Another model's file: 6 ``badDevType`` ("upgrade packet mismatch").

Reproduce by hand (after ``camfleet sim`` put a camera on 127.77.0.10)::

    curl --digest -u admin:<password> http://127.77.0.10/ISAPI/System/deviceInfo
    curl --digest -u admin:<password> -X PUT -d '<SSH><enabled>false</enabled></SSH>' \\
        http://127.77.0.10/ISAPI/System/Network/ssh
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import datetime as dt
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from aiohttp import web
from defusedxml import ElementTree as SafeET

from camfleet.sim.devices import (
    LEVELS,
    CameraState,
    DeviceState,
    MaskRect,
    NvrState,
    ProxyChannel,
    RecordingSpan,
    StreamConfig,
    parse_firmware,
    password_is_strong,
)
from camfleet.sim.digest import AuthOutcome, AuthResult, DigestAuth, LockPolicy
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.httpserve import RealDeadline, Timings, drop_connection, serve, snapshot_jpeg, truncate

__all__ = ["DEVICE", "Timings", "camera_app", "nvr_app", "serve"]

Clock = Callable[[], float]
NS_CAMERA = "http://www.hikvision.com/ver20/XMLSchema"
NS_NVR = "http://www.isapi.org/ver20/XMLSchema"
STATUS_STRINGS = {
    1: "OK",
    2: "Device Busy",
    3: "Device Error",
    4: "Invalid Operation",
    5: "Invalid XML Format",
    6: "Invalid XML Content",
    7: "Reboot Required",
}
HTTP_FOR_STATUS = {1: 200, 7: 200, 2: 503, 3: 500, 4: 403, 5: 400, 6: 400}
FRAME_W, FRAME_H = 704, 576  # the normalised frame of overlays and masks
XML = "application/xml; charset=UTF-8"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SEGMENT_S = 3600  # one search match per hour of footage


class IsapiError(Exception):
    """A request the device refuses; rendered as a ResponseStatus."""

    def __init__(self, code: int, sub: str, *, http: int | None = None, description: str | None = None) -> None:
        super().__init__(f"{code} {sub}")
        self.code, self.sub, self.description = code, sub, description
        self.http = http if http is not None else HTTP_FOR_STATUS.get(code, 400)


# --------------------------------------------------------------------------- XML helpers


def x(tag: str, value: object) -> str:
    """``<tag>value</tag>`` with booleans as true/false and text escaped."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{escape(str(value))}</{tag}>"


def document(root: str, inner: str, ns: str, attrs: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} version="2.0" xmlns="{ns}"{attrs}>{inner}</{root}>\n'.encode()
    )


def parse_body(body: bytes, *roots: str) -> Element:
    """Parse a request body, namespace or not; 5 badXmlFormat if it is not XML, 6 if the root is wrong."""
    try:
        el: Element = SafeET.fromstring(body)
    except Exception as exc:  # defusedxml raises ParseError or its own DefusedXmlException
        raise IsapiError(5, "badXmlFormat") from exc
    if roots and local(el.tag) not in roots:
        raise IsapiError(6, "badXmlContent")
    return el


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find(el: Element, path: str) -> Element | None:
    return el.find("/".join(f"{{*}}{p}" for p in path.split("/")))


def findall(el: Element, path: str) -> list[Element]:
    return el.findall("/".join(f"{{*}}{p}" for p in path.split("/")))


def text(el: Element, path: str) -> str | None:
    found = find(el, path)
    return None if found is None or found.text is None else found.text.strip()


def get_bool(el: Element, path: str) -> bool | None:
    value = text(el, path)
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise IsapiError(6, "badParameters")


def get_int(el: Element, path: str, lo: int | None = None, hi: int | None = None) -> int | None:
    value = text(el, path)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise IsapiError(6, "badParameters") from exc
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        raise IsapiError(6, "badParameters")
    return number


def utc_z(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str, default_offset_s: int) -> float:
    """ISO 8601 (``Z``, ``+07:00`` or naive = device local time) to UTC seconds."""
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise IsapiError(6, "badParameters") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone(dt.timedelta(seconds=default_offset_s)))
    return when.timestamp()


CODEC_TO_HIK = {"h264": "H.264", "h265": "H.265", "mjpeg": "MJPEG"}
CODEC_FROM_HIK = {v.upper(): k for k, v in CODEC_TO_HIK.items()}
LEVEL_TO_HIK = {"Administrator": "Administrator", "Operator": "Operator", "User": "Viewer"}
LEVEL_FROM_HIK = {"administrator": "Administrator", "operator": "Operator", "viewer": "User", "user": "User"}


# --------------------------------------------------------------------------- activation crypto


class ActivationChallenge:
    """The §1.4 key exchange: RSA-encrypt a random 32-hex key for the client, AES-decrypt its password."""

    def __init__(self) -> None:
        self.secret = os.urandom(16).hex()  # 32 lower-case hex characters

    def encrypted_for(self, key_b64: str) -> str:
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        try:
            modulus = int(base64.b64decode(key_b64, validate=True).decode().strip(), 16)
            public = rsa.RSAPublicNumbers(65537, modulus).public_key()
            cipher = public.encrypt(self.secret.encode(), padding.PKCS1v15())
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise IsapiError(6, "badParameters") from exc
        return base64.b64encode(cipher.hex().encode()).decode()

    def decrypt_password(self, value_b64: str) -> str | None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        try:
            data = bytes.fromhex(base64.b64decode(value_b64, validate=True).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if not data or len(data) % 16:
            return None
        decryptor = Cipher(algorithms.AES(bytes.fromhex(self.secret)), modes.ECB()).decryptor()  # noqa: S305 - the vendor protocol
        plain = (decryptor.update(data) + decryptor.finalize()).rstrip(b"\0")
        if not plain.startswith(self.secret[:16].encode()):
            return None
        try:
            return plain[16:].decode()
        except UnicodeDecodeError:
            return None


# --------------------------------------------------------------------------- the device

Route = tuple[str, re.Pattern[str], str]


def _routes(*table: tuple[str, str, str]) -> tuple[Route, ...]:
    return tuple((method, re.compile(pattern + r"/?", re.IGNORECASE), name) for method, pattern, name in table)


class IsapiDevice:
    """What cameras and NVRs share: auth, activation, time, users, maintenance, faults."""

    ROUTES: ClassVar[tuple[Route, ...]] = _routes(
        ("GET", r"/SDK/activateStatus", "get_activate_status"),
        ("GET", r"/ISAPI/Security/activateStatus", "get_activate_status"),
        ("POST", r"/ISAPI/Security/challenge", "post_challenge"),
        ("PUT", r"/ISAPI/System/activate", "put_activate"),
        ("GET", r"/ISAPI/System/deviceInfo", "get_device_info"),
        ("PUT", r"/ISAPI/System/deviceInfo", "put_device_info"),
        ("GET", r"/ISAPI/System/status", "get_status"),
        ("GET", r"/ISAPI/System/time", "get_time"),
        ("PUT", r"/ISAPI/System/time", "put_time"),
        ("GET", r"/ISAPI/System/time/ntpServers", "get_ntp_list"),
        ("PUT", r"/ISAPI/System/time/ntpServers", "put_ntp"),
        ("GET", r"/ISAPI/System/time/ntpServers/1", "get_ntp"),
        ("PUT", r"/ISAPI/System/time/ntpServers/1", "put_ntp"),
        ("GET", r"/ISAPI/System/Network/interfaces", "get_interfaces"),
        ("GET", r"/ISAPI/System/Network/interfaces/1", "get_interface"),
        ("GET", r"/ISAPI/System/Network/interfaces/1/ipAddress", "get_ip_address"),
        ("PUT", r"/ISAPI/System/Network/interfaces/1/ipAddress", "put_ip_address"),
        ("PUT", r"/ISAPI/System/Network/interfaces/1", "put_interface"),
        ("GET", r"/ISAPI/Security/users", "get_users"),
        ("POST", r"/ISAPI/Security/users", "post_user"),
        ("GET", r"/ISAPI/Security/users/(?P<id>\d+)", "get_user"),
        ("PUT", r"/ISAPI/Security/users/(?P<id>\d+)", "put_user"),
        ("DELETE", r"/ISAPI/Security/users/(?P<id>\d+)", "delete_user"),
        ("GET", r"/ISAPI/Security/illegalLoginLock", "get_login_lock"),
        ("PUT", r"/ISAPI/Security/illegalLoginLock", "put_login_lock"),
        ("PUT", r"/ISAPI/System/reboot", "put_reboot"),
        ("PUT", r"/ISAPI/System/factoryReset", "put_factory_reset"),
        ("PUT", r"/ISAPI/System/updateFirmware", "put_firmware"),
        ("POST", r"/ISAPI/System/updateFirmware", "put_firmware"),
        ("GET", r"/ISAPI/System/upgradeStatus", "get_upgrade_status"),
        ("GET", r"/ISAPI/System/configurationData", "get_config_data"),
        ("PUT", r"/ISAPI/System/configurationData", "put_config_data"),
        ("POST", r"/ISAPI/System/configurationData", "put_config_data"),
    )
    OPEN: ClassVar[frozenset[str]] = frozenset({"get_activate_status", "post_challenge", "put_activate"})
    NS: ClassVar[str] = NS_CAMERA
    DEVICE_TYPE: ClassVar[str] = "IPCamera"
    MAX_USERS: ClassVar[int] = 32

    def __init__(
        self,
        state: DeviceState,
        faults: Faults,
        *,
        clock: Clock,
        on_change: Callable[[], None],
        timings: Timings,
        realm: str,
    ) -> None:
        self.state = state
        self.faults = faults
        self.clock = clock
        self.on_change = on_change
        self.timings = timings
        self.auth = DigestAuth(realm, state.passwords, clock=clock, policy=self._lock_policy)
        self._challenge: ActivationChallenge | None = None
        self._reboot: RealDeadline | None = None
        self._booted = clock()
        self._flashing = False

    # ----------------------------------------------------------------- plumbing

    def _lock_policy(self) -> LockPolicy:
        lock = self.state.login_lock
        return LockPolicy(lock.enabled, lock.max_failures, lock.lock_s, "address")

    def rebooting(self) -> bool:
        if self._reboot is None:
            return False
        if not self._reboot.passed(self.clock()):
            return True
        self._reboot = None
        self._booted = self.clock()
        return False

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

    def changed(self) -> None:
        self.on_change()

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

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Every request: faults, reboot, activation, digest, privilege, route, malformed."""
        if self.faults.unreachable or self.rebooting():
            return drop_connection(request)
        await self.faults.delay()
        if self.faults.unreachable:
            return drop_connection(request)
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
        body = await request.read() if request.method in ("PUT", "POST") else b""
        if matched is not None and matched[0] in self.OPEN:
            return await self._call(matched, request, body)
        if not self.state.activated:
            raise IsapiError(4, "notActivated", http=401)
        result = self.auth.check(
            request.method,
            request.headers.get("Authorization"),
            request.remote or "",
            forced_lock=self.faults.has(Fault.locked),
        )
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
        handler: Callable[[web.Request, re.Match[str], bytes], Awaitable[web.StreamResponse]] = getattr(self, name)
        return await handler(request, m, body)

    # ----------------------------------------------------------------- activation

    async def get_activate_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("ActivateStatus", x("Activated", self.state.activated))

    async def post_challenge(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "PublicKey", "Challenge")
        key = text(el, "key")
        if not key:
            raise IsapiError(6, "badXmlContent")
        challenge = ActivationChallenge()
        reply = challenge.encrypted_for(key)
        self._challenge = challenge
        return self.xml("Challenge", x("key", reply))

    async def put_activate(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        if self.state.activated:
            raise IsapiError(4, "hasActivated")
        el = parse_body(body, "ActivateInfo")
        given = text(el, "password")
        if not given:
            raise IsapiError(6, "badXmlContent")
        password = self._challenge.decrypt_password(given) if self._challenge else given
        if password is None:
            raise IsapiError(6, "badParameters")
        if not password_is_strong(password):
            raise IsapiError(4, "riskPassword")
        self._challenge = None
        self.state.activate(password)
        self.auth.reset()
        self.changed()
        return self.status(request)

    # ----------------------------------------------------------------- system

    def device_info_inner(self) -> str:
        s = self.state
        version, released = s.hik_version()
        digits = re.sub(r"\D", "", s.serial)[-8:] or "0"
        return (
            x("deviceName", s.device_name)
            + x("deviceID", str(uuid.uuid5(uuid.NAMESPACE_OID, s.serial)))
            + x("deviceDescription", self.DEVICE_TYPE)
            + x("deviceLocation", "hangzhou")
            + x("systemContact", "Hikvision.China")
            + x("model", s.model)
            + x("serialNumber", s.serial)
            + x("macAddress", s.mac)
            + x("firmwareVersion", version)
            + x("firmwareReleasedDate", released)
            + x("encoderVersion", "V7.3")
            + x("encoderReleasedDate", "build 240110")
            + x("bootVersion", "V1.3.4")
            + x("hardwareVersion", "0x0")
            + x("deviceType", self.DEVICE_TYPE)
            + x("telecontrolID", int(digits) % 255 or 88)
            + x("manufacturer", "hikvision")
        )

    async def get_device_info(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("DeviceInfo", self.device_info_inner())

    async def put_device_info(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "DeviceInfo")
        name = text(el, "deviceName")
        if name is not None:
            if not 1 <= len(name) <= 32:
                raise IsapiError(6, "badParameters")
            self.state.device_name = name
            self.changed()
        return self.status(request)

    async def get_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        now = self.clock()
        inner = (
            x("currentDeviceTime", self._local_iso(now))
            + x("deviceUpTime", int(max(0.0, now - self._booted)))
            + "<CPUList><CPU><cpuDescription>ARM</cpuDescription><cpuUtilization>12</cpuUtilization></CPU></CPUList>"
            + "<MemoryList><Memory><memoryDescription>DDR Memory</memoryDescription><memoryUsage>96.0</memoryUsage><memoryAvailable>160.0</memoryAvailable></Memory></MemoryList>"
        )
        return self.xml("DeviceStatus", inner)

    # ----------------------------------------------------------------- time

    def _local_iso(self, now: float) -> str:
        offset = self.state.utc_offset_s()
        when = dt.datetime.fromtimestamp(
            self.state.device_time(now, self.faults), dt.timezone(dt.timedelta(seconds=offset))
        )
        return when.isoformat(timespec="seconds")

    async def get_time(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        s = self.state
        inner = (
            x("timeMode", "NTP" if s.ntp.enabled else "manual")
            + x("localTime", self._local_iso(self.clock()))
            + x("timeZone", s.time_zone)
        )
        return self.xml("Time", inner)

    async def put_time(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "Time")
        mode, local_time, zone = text(el, "timeMode"), text(el, "localTime"), text(el, "timeZone")
        if mode is not None and mode.lower() not in ("ntp", "manual"):
            raise IsapiError(6, "badParameters")
        if zone is not None:
            if not re.fullmatch(r"[A-Za-z]{3,}[+-]?\d{1,2}(:\d{2}){0,2}([A-Za-z]{3,}.*)?", zone):
                raise IsapiError(6, "badParameters")
            self.state.time_zone = zone
        if mode is not None:
            self.state.ntp.enabled = mode.lower() == "ntp"
            if self.state.ntp.enabled:
                self.state.clock_offset_s = 0.0  # synchronised at once
        if local_time is not None and not self.state.ntp.enabled:
            target = parse_time(local_time, self.state.utc_offset_s())
            self.state.clock_offset_s = (
                target - self.state.device_time(self.clock(), self.faults) + self.state.clock_offset_s
            )
        self.changed()
        return self.status(request)

    def _ntp_inner(self) -> str:
        n = self.state.ntp
        is_ip = bool(re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+:[0-9a-fA-F:]*", n.server))
        addr = (
            x("addressingFormatType", "ipaddress") + x("ipAddress", n.server)
            if is_ip
            else x("addressingFormatType", "hostname") + x("hostName", n.server)
        )
        return x("id", 1) + addr + x("portNo", n.port) + x("synchronizeInterval", n.interval_min)

    async def get_ntp_list(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("NTPServerList", f"<NTPServer>{self._ntp_inner()}</NTPServer>", ' size="1"')

    async def get_ntp(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("NTPServer", self._ntp_inner())

    async def put_ntp(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "NTPServer", "NTPServerList")
        if local(el.tag) == "NTPServerList":
            servers = findall(el, "NTPServer")
            if not servers:
                raise IsapiError(6, "badXmlContent")
            el = servers[0]
        kind = (text(el, "addressingFormatType") or "hostname").lower()
        server = text(el, "ipAddress") if kind == "ipaddress" else text(el, "hostName")
        if kind not in ("hostname", "ipaddress") or not server or len(server) > 64:
            raise IsapiError(6, "badParameters")
        port = get_int(el, "portNo", 1, 65535)
        interval = get_int(el, "synchronizeInterval", 1, 10080)
        n = self.state.ntp
        n.server = server
        n.port = port if port is not None else n.port
        n.interval_min = interval if interval is not None else n.interval_min
        self.changed()
        return self.status(request)

    # ----------------------------------------------------------------- network

    def _ip_inner(self) -> str:
        net = self.state.network
        return (
            x("ipVersion", "dual")
            + x("addressingType", "dynamic" if net.dhcp else "static")
            + x("ipAddress", net.address)
            + x("subnetMask", net.netmask)
            + f"<DefaultGateway>{x('ipAddress', net.gateway)}</DefaultGateway>"
            + f"<PrimaryDNS>{x('ipAddress', '8.8.8.8')}</PrimaryDNS><SecondaryDNS>{x('ipAddress', '0.0.0.0')}</SecondaryDNS>"  # noqa: S104 - an address in a document
        )

    def _interface_inner(self) -> str:
        return (
            x("id", 1)
            + f"<IPAddress>{self._ip_inner()}</IPAddress>"
            + f"<Link>{x('MACAddress', self.state.mac)}{x('autoNegotiation', True)}{x('speed', 100)}{x('duplex', 'full')}{x('MTU', 1500)}</Link>"
        )

    async def get_interfaces(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml(
            "NetworkInterfaceList", f"<NetworkInterface>{self._interface_inner()}</NetworkInterface>", ' size="1"'
        )

    async def get_interface(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("NetworkInterface", self._interface_inner())

    async def get_ip_address(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("IPAddress", self._ip_inner())

    def _apply_ip(self, el: Element) -> None:
        ipv4 = r"(\d{1,3}\.){3}\d{1,3}"
        net = self.state.network
        kind = text(el, "addressingType")
        values = {
            "address": text(el, "ipAddress"),
            "netmask": text(el, "subnetMask"),
            "gateway": text(el, "DefaultGateway/ipAddress"),
        }
        for key, value in values.items():
            if value is not None:
                if not re.fullmatch(ipv4, value):
                    raise IsapiError(6, "badIPv4Address")
                setattr(net, key, value)
        if kind is not None:
            net.dhcp = kind.lower() == "dynamic"

    async def put_ip_address(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        self._apply_ip(parse_body(body, "IPAddress"))
        self.changed()
        return self.status(request, 7, "rebootRequired")

    async def put_interface(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "NetworkInterface")
        ip = find(el, "IPAddress")
        if ip is not None:
            self._apply_ip(ip)
            self.changed()
        return self.status(request, 7, "rebootRequired")

    # ----------------------------------------------------------------- users

    def _user_inner(self, name: str) -> str:
        u = self.state.users[name]
        return x("id", u.id) + x("userName", name) + x("userLevel", LEVEL_TO_HIK.get(u.level, "Viewer"))

    def _user(self, m: re.Match[str]) -> tuple[str, Any]:
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

    # ----------------------------------------------------------------- maintenance

    def start_reboot(self) -> None:
        """Go offline for ``timings.reboot_s`` sim seconds; a finished upgrade takes effect now."""
        s = self.state
        if s.upgrade.state == "succeeded" and s.upgrade.pending_build:
            s.firmware = s.upgrade.pending_build
        s.upgrade = dataclasses.replace(s.upgrade, state="idle", progress=0, pending_build=None)
        s.rebooting_until = self.clock() + self.timings.reboot_s
        self._reboot = RealDeadline(s.rebooting_until, min(self.timings.max_real_s, self.timings.reboot_s))
        self.auth.reset()
        self.changed()

    async def put_reboot(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        resp = self.status(request)
        self.start_reboot()
        return resp

    async def put_factory_reset(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        mode = request.query.get("mode", "basic").lower()
        if mode not in ("basic", "full", "part"):
            raise IsapiError(6, "badParameters")
        s = self.state
        fresh: DeviceState
        if isinstance(s, CameraState):
            fresh = CameraState.factory_fresh(s.vendor, s.model, s.serial, s.mac, s.firmware)
        else:
            assert isinstance(s, NvrState)
            fresh = NvrState.factory_fresh(s.vendor, s.model, s.serial, s.mac, s.firmware, max_channels=s.max_channels)
            fresh.disks, fresh.recordings = s.disks, s.recordings
        keep = {"network", "users", "activated"} if mode == "basic" else set()
        for f in dataclasses.fields(fresh):
            if f.name not in keep:
                setattr(s, f.name, getattr(fresh, f.name))
        resp = self.status(request)
        self.start_reboot()
        return resp

    async def put_firmware(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        if self._flashing:
            raise IsapiError(4, "upgrading")
        if request.content_type.startswith("multipart/"):
            body = _first_multipart_file(body, request.content_type)
        image = parse_firmware(body)
        if image is None:
            raise IsapiError(6, "fileFormatError", description="upgrade packet mismatch")
        if image.model != self.state.model:
            raise IsapiError(6, "badDevType", description="upgrade packet mismatch")
        self._flashing = True
        up = self.state.upgrade
        up.state, up.progress, up.pending_build = "upgrading", 0, None
        try:
            start = self.clock()
            deadline = RealDeadline(start + self.timings.flash_s, min(self.timings.max_real_s, self.timings.flash_s))
            real_start = time.monotonic()
            while not deadline.passed(self.clock()):
                sim_part = (self.clock() - start) / max(self.timings.flash_s, 1e-9)
                real_part = (time.monotonic() - real_start) / max(
                    min(self.timings.max_real_s, self.timings.flash_s), 1e-9
                )
                up.progress = min(99, int(100 * max(sim_part, real_part)))
                await asyncio.sleep(0.02)
        finally:
            self._flashing = False
        if self.faults.has(Fault.flash_brick):
            up.state, up.progress = "failed", 0
            self.faults.bricked = True
            self.changed()
            return drop_connection(request)
        if self.faults.has(Fault.flash_fail):
            up.state, up.progress = "failed", 0
            self.changed()
            raise IsapiError(3, "badFlash")
        up.state, up.progress, up.pending_build = "succeeded", 100, image.build
        self.changed()
        return self.status(request, 7, "rebootRequired")

    async def get_upgrade_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        up = self.state.upgrade
        return self.xml("upgradeStatus", x("upgrading", up.state == "upgrading") + x("percent", up.progress))

    async def get_config_data(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return web.Response(body=self.state.config_blob(), content_type="application/octet-stream")

    async def put_config_data(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        if request.content_type.startswith("multipart/"):
            body = _first_multipart_file(body, request.content_type)
        if not self.state.restore_config(body):
            raise IsapiError(6, "importErrorData")
        resp = self.status(request)
        self.start_reboot()
        return resp


def _first_multipart_file(body: bytes, content_type: str) -> bytes:
    """The first part of a multipart/form-data body (clients that POST the firmware as a form)."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise IsapiError(5, "badXmlFormat")
    boundary = b"--" + m.group(1).encode()
    for part in body.split(boundary)[1:]:
        head, sep, data = part.partition(b"\r\n\r\n")
        if sep and b"\r\n" in head + b"\r\n":
            return data[:-2] if data.endswith(b"\r\n") else data
    raise IsapiError(5, "badXmlFormat")


# --------------------------------------------------------------------------- camera


class IsapiCamera(IsapiDevice):
    """A Hikvision IP camera."""

    ROUTES = IsapiDevice.ROUTES + _routes(
        ("GET", r"/ISAPI/Streaming/channels", "get_streams"),
        ("GET", r"/ISAPI/Streaming/channels/(?P<id>\d+)", "get_stream"),
        ("PUT", r"/ISAPI/Streaming/channels/(?P<id>\d+)", "put_stream"),
        ("GET", r"/ISAPI/Streaming/channels/(?P<id>\d+)/picture", "get_picture"),
        ("GET", r"/ISAPI/System/Video/inputs/channels", "get_video_inputs"),
        ("GET", r"/ISAPI/System/Video/inputs/channels/1", "get_video_input"),
        ("PUT", r"/ISAPI/System/Video/inputs/channels/1", "put_video_input"),
        ("GET", r"/ISAPI/System/Video/inputs/channels/1/overlays", "get_overlays"),
        ("PUT", r"/ISAPI/System/Video/inputs/channels/1/overlays", "put_overlays"),
        ("GET", r"/ISAPI/System/Video/inputs/channels/1/privacyMask", "get_privacy_mask"),
        ("PUT", r"/ISAPI/System/Video/inputs/channels/1/privacyMask", "put_privacy_mask"),
        ("GET", r"/ISAPI/System/Network/(?P<svc>UPnP|EZVIZ|ssh|telnetd)", "get_service"),
        ("PUT", r"/ISAPI/System/Network/(?P<svc>UPnP|EZVIZ|ssh|telnetd)", "put_service"),
    )
    state: CameraState

    # ----------------------------------------------------------------- streams

    def _stream(self, m: re.Match[str]) -> tuple[int, StreamConfig]:
        sid = int(m.group("id"))
        stream = self.state.streams.get(sid)
        if stream is None:
            raise IsapiError(4, "notSupport", http=403)
        return sid, stream

    def _stream_inner(self, sid: int, st: StreamConfig) -> str:
        video = (
            x("enabled", st.enabled)
            + x("videoInputChannelID", 1)
            + x("videoCodecType", CODEC_TO_HIK.get(st.codec, "H.264"))
            + x("videoScanType", "progressive")
            + x("videoResolutionWidth", st.width)
            + x("videoResolutionHeight", st.height)
            + x("videoQualityControlType", st.bitrate_mode.upper())
            + x("constantBitRate", st.bitrate_kbps)
            + x("fixedQuality", 60)
            + x("vbrUpperCap", st.bitrate_kbps)
            + x("vbrLowerCap", 32)
            + x("maxFrameRate", st.fps * 100)
            + x("keyFrameInterval", int(1000 * st.gop / max(st.fps, 1)))
            + x("GovLength", st.gop)
            + x("H264Profile", "Main")
            + x("H265Profile", "Main")
            + "<SmartCodec><enabled>false</enabled></SmartCodec>"
            + x("snapShotImageType", "JPEG")
        )
        transport = (
            "<ControlProtocolList><ControlProtocol><streamingTransport>RTSP</streamingTransport></ControlProtocol>"
            "<ControlProtocol><streamingTransport>HTTP</streamingTransport></ControlProtocol></ControlProtocolList>"
            "<Unicast><enabled>true</enabled><rtpTransportType>RTP/TCP</rtpTransportType></Unicast>"
            "<Security><enabled>true</enabled><certificateType>digest</certificateType></Security>"
        )
        return (
            x("id", sid)
            + x("channelName", self.state.osd.text)
            + x("enabled", st.enabled)
            + f"<Transport>{transport}</Transport><Video>{video}</Video>"
            + "<Audio><enabled>false</enabled><audioCompressionType>G.711ulaw</audioCompressionType></Audio>"
        )

    async def get_streams(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        inner = "".join(
            f"<StreamingChannel>{self._stream_inner(sid, st)}</StreamingChannel>"
            for sid, st in sorted(self.state.streams.items())
        )
        return self.xml("StreamingChannelList", inner)

    async def get_stream(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        sid, st = self._stream(m)
        return self.xml("StreamingChannel", self._stream_inner(sid, st))

    async def put_stream(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        sid, st = self._stream(m)
        el = parse_body(body, "StreamingChannel")
        given_id = get_int(el, "id")
        if given_id is not None and given_id != sid:
            raise IsapiError(6, "badXmlContent")
        new = dataclasses.replace(st)
        max_w, max_h = self.state.streams[101].width, self.state.streams[101].height
        if sid == 101:
            max_w, max_h = (3840, 2160) if max_w >= 3840 else (max(max_w, 1920), max(max_h, 1080))
        else:
            max_w, max_h = 1280, 720
        codec = text(el, "Video/videoCodecType")
        if codec is not None:
            name = CODEC_FROM_HIK.get(codec.upper())
            if name is None or (name == "mjpeg" and sid == 101):
                raise IsapiError(6, "badParameters")
            new.codec = name
        width = get_int(el, "Video/videoResolutionWidth", 160, max_w)
        height = get_int(el, "Video/videoResolutionHeight", 120, max_h)
        new.width = width if width is not None else new.width
        new.height = height if height is not None else new.height
        mode = text(el, "Video/videoQualityControlType")
        if mode is not None:
            if mode.upper() not in ("CBR", "VBR"):
                raise IsapiError(6, "badParameters")
            new.bitrate_mode = mode.lower()
        cbr = get_int(el, "Video/constantBitRate", 32, 16384)
        vbr = get_int(el, "Video/vbrUpperCap", 32, 16384)
        chosen = (cbr if cbr is not None else vbr) if new.bitrate_mode == "cbr" else (vbr if vbr is not None else cbr)
        new.bitrate_kbps = chosen if chosen is not None else new.bitrate_kbps
        fps100 = get_int(el, "Video/maxFrameRate", 100, 3000)
        new.fps = fps100 // 100 if fps100 is not None else new.fps
        gop = get_int(el, "Video/GovLength", 1, 400)
        new.gop = gop if gop is not None else new.gop
        enabled = get_bool(el, "enabled")
        new.enabled = new.enabled if enabled is None else enabled
        self.state.streams[sid] = new
        self.changed()
        return self.status(request)

    async def get_picture(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        sid = int(m.group("id"))
        st = self.state.streams.get(sid)
        if st is None:
            raise IsapiError(4, "notSupport", http=403)
        try:
            width = int(request.query.get("videoResolutionWidth", request.query.get("width", st.width)))
            height = int(request.query.get("videoResolutionHeight", request.query.get("height", st.height)))
        except ValueError as exc:
            raise IsapiError(6, "badParameters") from exc
        return web.Response(body=await snapshot_jpeg(width, height), content_type="image/jpeg")

    # ----------------------------------------------------------------- OSD

    def _video_input_inner(self) -> str:
        return (
            x("id", 1)
            + x("inputPort", 1)
            + x("videoInputEnabled", True)
            + x("name", self.state.osd.text)
            + x("videoFormat", "PAL")
        )

    async def get_video_inputs(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("VideoInputChannelList", f"<VideoInputChannel>{self._video_input_inner()}</VideoInputChannel>")

    async def get_video_input(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("VideoInputChannel", self._video_input_inner())

    async def put_video_input(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "VideoInputChannel")
        name = text(el, "name")
        if name is not None:
            if len(name) > 32:
                raise IsapiError(6, "badParameters")
            self.state.osd.text = name
            self.changed()
        return self.status(request)

    async def get_overlays(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        o = self.state.osd

        def pos(fx: float, fy: float) -> str:
            return x("positionX", round(fx * FRAME_W)) + x("positionY", round(fy * FRAME_H))

        inner = (
            f"<normalizedScreenSize>{x('normalizedScreenWidth', FRAME_W)}{x('normalizedScreenHeight', FRAME_H)}</normalizedScreenSize>"
            "<attribute><transparent>false</transparent><flashing>false</flashing></attribute><fontSize>adaptive</fontSize>"
            f'<TextOverlayList size="4"><TextOverlay>{x("id", 1)}{x("enabled", bool(o.custom_text))}{x("positionX", 16)}{x("positionY", 64)}{x("displayText", o.custom_text)}</TextOverlay></TextOverlayList>'
            f"<DateTimeOverlay>{x('enabled', o.show_datetime)}{pos(o.datetime_x, o.datetime_y)}{x('dateStyle', 'YYYY-MM-DD')}{x('timeStyle', '24hour')}{x('displayWeek', False)}</DateTimeOverlay>"
            f"<channelNameOverlay>{x('enabled', o.show_name)}{pos(o.name_x, o.name_y)}</channelNameOverlay>"
            "<frontColorMode>auto</frontColorMode>"
        )
        return self.xml("VideoOverlay", inner)

    async def put_overlays(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "VideoOverlay")
        o = dataclasses.replace(self.state.osd)
        for block, flag, fx, fy in (
            ("DateTimeOverlay", "show_datetime", "datetime_x", "datetime_y"),
            ("channelNameOverlay", "show_name", "name_x", "name_y"),
        ):
            enabled = get_bool(el, f"{block}/enabled")
            if enabled is not None:
                setattr(o, flag, enabled)
            px = get_int(el, f"{block}/positionX", 0, FRAME_W)
            py = get_int(el, f"{block}/positionY", 0, FRAME_H)
            if px is not None:
                setattr(o, fx, px / FRAME_W)
            if py is not None:
                setattr(o, fy, py / FRAME_H)
        texts = findall(el, "TextOverlayList/TextOverlay")
        if texts:
            first = texts[0]
            shown = get_bool(first, "enabled")
            display = text(first, "displayText") or ""
            if len(display) > 44:
                raise IsapiError(6, "badParameters")
            o.custom_text = display if shown is not False else ""
        self.state.osd = o
        self.changed()
        return self.status(request)

    # ----------------------------------------------------------------- privacy mask

    async def get_privacy_mask(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        pm = self.state.masks
        regions = ""
        for i, r in enumerate(pm.regions, 1):
            corners = ((r.x, r.y), (r.x + r.w, r.y), (r.x + r.w, r.y + r.h), (r.x, r.y + r.h))
            coords = "".join(
                f"<RegionCoordinates>{x('positionX', round(cx * FRAME_W))}{x('positionY', round(cy * FRAME_H))}</RegionCoordinates>"
                for cx, cy in corners
            )
            regions += f"<PrivacyMaskRegion>{x('id', i)}{x('enabled', True)}<RegionCoordinatesList>{coords}</RegionCoordinatesList></PrivacyMaskRegion>"
        inner = (
            x("enabled", pm.enabled)
            + f"<normalizedScreenSize>{x('normalizedScreenWidth', FRAME_W)}{x('normalizedScreenHeight', FRAME_H)}</normalizedScreenSize>"
            + f'<PrivacyMaskRegionList size="4">{regions}</PrivacyMaskRegionList>'
        )
        return self.xml("PrivacyMask", inner)

    async def put_privacy_mask(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "PrivacyMask")
        enabled = get_bool(el, "enabled")
        region_list = find(el, "PrivacyMaskRegionList")
        regions = self.state.masks.regions
        if region_list is not None:
            regions = []
            for region in findall(region_list, "PrivacyMaskRegion"):
                if get_bool(region, "enabled") is False:
                    continue
                points = [
                    (get_int(c, "positionX", 0, FRAME_W), get_int(c, "positionY", 0, FRAME_H))
                    for c in findall(region, "RegionCoordinatesList/RegionCoordinates")
                ]
                xs = [p[0] for p in points if p[0] is not None]
                ys = [p[1] for p in points if p[1] is not None]
                if len(xs) < 3 or len(ys) < 3 or max(xs) == min(xs) or max(ys) == min(ys):
                    raise IsapiError(6, "badParameters")
                regions.append(
                    MaskRect(
                        min(xs) / FRAME_W,
                        min(ys) / FRAME_H,
                        (max(xs) - min(xs)) / FRAME_W,
                        (max(ys) - min(ys)) / FRAME_H,
                    )
                )
            if len(regions) > 4:
                raise IsapiError(6, "badParameters")
        self.state.masks.regions = regions
        if enabled is not None:
            self.state.masks.enabled = enabled
        self.changed()
        return self.status(request)

    # ----------------------------------------------------------------- services

    SERVICE_ROOTS: ClassVar[dict[str, tuple[str, str]]] = {
        "upnp": ("UPnP", "upnp"),
        "ezviz": ("EZVIZ", "p2p"),
        "ssh": ("SSH", "ssh"),
        "telnetd": ("Telnetd", "telnet"),
    }

    async def get_service(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        root, attr = self.SERVICE_ROOTS[m.group("svc").lower()]
        enabled = bool(getattr(self.state.services, attr))
        inner = x("enabled", enabled)
        if root == "UPnP":
            inner += x("name", self.state.device_name)
        elif root == "EZVIZ":
            inner += (
                x("registerStatus", "online" if enabled else "offline")
                + "<serverAddress><addressingFormatType>hostname</addressingFormatType><hostName>dev.hik-connect.com</hostName></serverAddress>"
                + x("verificationCode", "ABCDEF")
            )
        return self.xml(root, inner)

    async def put_service(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        root, attr = self.SERVICE_ROOTS[m.group("svc").lower()]
        el = parse_body(body, root)
        enabled = get_bool(el, "enabled")
        if enabled is None:
            raise IsapiError(6, "badXmlContent")
        setattr(self.state.services, attr, enabled)
        self.changed()
        return self.status(request)


# --------------------------------------------------------------------------- NVR


class IsapiNvr(IsapiDevice):
    """A Hikvision NVR: disks, IP camera channels, schedules, footage search."""

    ROUTES = IsapiDevice.ROUTES + _routes(
        ("GET", r"/ISAPI/ContentMgmt/Storage", "get_storage"),
        ("GET", r"/ISAPI/ContentMgmt/Storage/hdd", "get_hdds"),
        ("GET", r"/ISAPI/ContentMgmt/Storage/hdd/(?P<id>\d+)", "get_hdd"),
        ("PUT", r"/ISAPI/ContentMgmt/Storage/hdd/(?P<id>\d+)", "put_hdd"),
        ("PUT", r"/ISAPI/ContentMgmt/Storage/hdd/(?P<id>\d+)/format", "put_format"),
        ("GET", r"/ISAPI/ContentMgmt/Storage/hdd/(?P<id>\d+)/formatStatus", "get_format_status"),
        ("GET", r"/ISAPI/ContentMgmt/InputProxy/channels", "get_channels"),
        ("POST", r"/ISAPI/ContentMgmt/InputProxy/channels", "post_channel"),
        ("GET", r"/ISAPI/ContentMgmt/InputProxy/channels/status", "get_channels_status"),
        ("GET", r"/ISAPI/ContentMgmt/InputProxy/channels/(?P<id>\d+)", "get_channel"),
        ("PUT", r"/ISAPI/ContentMgmt/InputProxy/channels/(?P<id>\d+)", "put_channel"),
        ("DELETE", r"/ISAPI/ContentMgmt/InputProxy/channels/(?P<id>\d+)", "delete_channel"),
        ("GET", r"/ISAPI/ContentMgmt/record/tracks", "get_tracks"),
        ("GET", r"/ISAPI/ContentMgmt/record/tracks/(?P<id>\d+)", "get_track"),
        ("PUT", r"/ISAPI/ContentMgmt/record/tracks/(?P<id>\d+)", "put_track"),
        ("GET", r"/ISAPI/ContentMgmt/record/status", "get_record_status"),
        ("POST", r"/ISAPI/ContentMgmt/search", "post_search"),
        ("GET", r"/ISAPI/Streaming/channels/(?P<id>\d+)/picture", "get_picture"),
        ("GET", r"/ISAPI/ContentMgmt/StreamingProxy/channels/(?P<id>\d+)/picture", "get_picture"),
    )
    NS = NS_NVR
    DEVICE_TYPE = "NVR"
    state: NvrState

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.state.apply_faults(self.faults):
            self.changed()
        return await super().handle(request)

    # ----------------------------------------------------------------- storage

    def _hdd_inner(self, slot: int) -> str:
        s = self.state
        d = next(d for d in s.disks if d.slot == slot)
        free = 0 if (s.fault_disk_full or not d.usable) else d.free_bytes
        return (
            x("id", d.slot)
            + x("hddName", f"hdd{d.slot}")
            + "<hddPath></hddPath>"
            + x("hddType", "SATA")
            + x("status", d.status)
            + x("capacity", d.capacity_bytes // 2**20)
            + x("freeSpace", free // 2**20)
            + x("property", "RW")
            + x("group", 1)
        )

    def _disk_slot(self, m: re.Match[str]) -> int:
        slot = int(m.group("id"))
        if not any(d.slot == slot for d in self.state.disks):
            raise IsapiError(4, "notSupport", http=403)
        return slot

    def _hdd_list(self) -> str:
        items = "".join(f"<hdd>{self._hdd_inner(d.slot)}</hdd>" for d in self.state.disks)
        return f'<hddList size="{len(self.state.disks)}">{items}</hddList>'

    async def get_storage(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("storage", self._hdd_list() + '<nasList/><workMode opt="group,quota">group</workMode>')

    async def get_hdds(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = "".join(f"<hdd>{self._hdd_inner(d.slot)}</hdd>" for d in self.state.disks)
        return self.xml("hddList", items, f' size="{len(self.state.disks)}"')

    async def get_hdd(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("hdd", self._hdd_inner(self._disk_slot(m)))

    async def put_hdd(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        self._disk_slot(m)
        el = parse_body(body, "hdd")
        overwrite = get_bool(el, "overWrite")
        if overwrite is not None:
            self.state.overwrite = overwrite
            self.changed()
        return self.status(request)

    async def put_format(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        if not self.state.format_disk(self._disk_slot(m)):
            raise IsapiError(3, "deviceError")
        self.changed()
        return self.status(request)

    async def get_format_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        self._disk_slot(m)
        return self.xml("formatStatus", x("formating", False) + x("percent", 100))

    # ----------------------------------------------------------------- channels

    def _channel(self, m: re.Match[str]) -> tuple[int, ProxyChannel]:
        n = int(m.group("id"))
        ch = self.state.channels.get(n)
        if ch is None:
            raise IsapiError(4, "notSupport", http=403)
        return n, ch

    def _channel_inner(self, n: int, ch: ProxyChannel) -> str:
        src = (
            x("proxyProtocol", ch.protocol)
            + x("addressingFormatType", "ipaddress")
            + x("ipAddress", ch.address)
            + x("managePortNo", ch.port)
            + x("srcInputPort", 1)
            + x("userName", ch.username)
            + x("streamType", "auto")
        )
        return (
            x("id", n)
            + x("name", ch.name or f"IPCamera {n:02d}")
            + f"<sourceInputPortDescriptor>{src}</sourceInputPortDescriptor>"
            + x("enableTiming", True)
        )

    @staticmethod
    def _apply_channel(el: Element, ch: ProxyChannel) -> None:
        name = text(el, "name")
        src = find(el, "sourceInputPortDescriptor")
        if name is not None:
            if len(name) > 32:
                raise IsapiError(6, "badParameters")
            ch.name = name
        if src is None:
            return
        protocol = text(src, "proxyProtocol")
        if protocol is not None:
            if protocol.upper() not in ("HIKVISION", "ONVIF"):
                raise IsapiError(6, "badParameters")
            ch.protocol = protocol.upper()
        address = text(src, "ipAddress") or text(src, "hostName")
        if address is not None:
            if not address or len(address) > 64:
                raise IsapiError(6, "badParameters")
            ch.address = address
        port = get_int(src, "managePortNo", 1, 65535)
        ch.port = port if port is not None else ch.port
        user, password = text(src, "userName"), text(src, "password")
        ch.username = user if user is not None else ch.username
        ch.password = password if password is not None else ch.password

    async def get_channels(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = "".join(
            f"<InputProxyChannel>{self._channel_inner(n, ch)}</InputProxyChannel>"
            for n, ch in sorted(self.state.channels.items())
        )
        return self.xml("InputProxyChannelList", items, f' size="{self.state.max_channels}"')

    async def get_channel(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n, ch = self._channel(m)
        return self.xml("InputProxyChannel", self._channel_inner(n, ch))

    async def post_channel(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "InputProxyChannel")
        wanted = get_int(el, "id", 1, self.state.max_channels)
        if wanted is not None and wanted in self.state.channels:
            raise IsapiError(4, "invalidOperation")
        if wanted is None and len(self.state.channels) >= self.state.max_channels:
            raise IsapiError(4, "invalidOperation")
        ch = ProxyChannel(address="")
        self._apply_channel(el, ch)
        if not ch.address:
            raise IsapiError(6, "badXmlContent")
        n = self.state.add_channel(ch, wanted)
        self.changed()
        return self.status(request, new_id=n)

    async def put_channel(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n, ch = self._channel(m)
        updated = dataclasses.replace(ch)
        self._apply_channel(parse_body(body, "InputProxyChannel"), updated)
        self.state.channels[n] = updated
        self.changed()
        return self.status(request)

    async def delete_channel(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n, _ = self._channel(m)
        self.state.remove_channel(n)
        self.changed()
        return self.status(request)

    async def get_channels_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = ""
        for n, ch in sorted(self.state.channels.items()):
            items += (
                f"<InputProxyChannelStatus>{x('id', n)}{x('online', ch.online)}"
                f"<sourceInputPortDescriptor>{x('proxyProtocol', ch.protocol)}{x('addressingFormatType', 'ipaddress')}{x('ipAddress', ch.address)}{x('managePortNo', ch.port)}</sourceInputPortDescriptor>"
                f"<streamingProxyChannelIdList>{x('streamingProxyChannelId', n * 100 + 1)}{x('streamingProxyChannelId', n * 100 + 2)}</streamingProxyChannelIdList>"
                f"{x('chanDetectResult', 'connect' if ch.online else 'netUnreachable')}</InputProxyChannelStatus>"
            )
        return self.xml("InputProxyChannelStatusList", items)

    # ----------------------------------------------------------------- schedules

    def _track_channel(self, m: re.Match[str]) -> int:
        track = int(m.group("id"))
        n, stream = divmod(track, 100)
        if stream != 1 or not 1 <= n <= self.state.max_channels:
            raise IsapiError(4, "notSupport", http=403)
        return n

    def _track_inner(self, n: int) -> str:
        schedule = self.state.schedules.get(n, "none")
        actions = ""
        if schedule != "none":
            mode = "CMR" if schedule == "continuous" else "MOTION"
            for i, day in enumerate(DAYS, 1):
                actions += (
                    f"<ScheduleAction>{x('id', i)}"
                    f"<ScheduleActionStartTime>{x('DayOfWeek', day)}{x('TimeOfDay', '00:00:00')}</ScheduleActionStartTime>"
                    f"<ScheduleActionEndTime>{x('DayOfWeek', day)}{x('TimeOfDay', '24:00:00')}</ScheduleActionEndTime>"
                    f"{x('ScheduleDSTEnable', False)}{x('Description', 'nothing')}"
                    f"<Actions>{x('Record', True)}{x('ActionRecordingMode', mode)}</Actions></ScheduleAction>"
                )
        count = 0 if schedule == "none" else len(DAYS)
        block = (
            f'<ScheduleBlock ScheduleActionSize="{count}">'
            "<ScheduleBlockGUID>{00000000-0000-0000-0000-000000000000}</ScheduleBlockGUID>"
            f"{x('ScheduleBlockType', 'www.std-cgi.com/racm/schedule/ver10')}{actions}</ScheduleBlock>"
        )
        return (
            x("id", n * 100 + 1)
            + x("Channel", n * 100 + 1)
            + x("Enable", schedule != "none")
            + x("LoopEnable", self.state.overwrite)
            + f"<TrackSchedule><ScheduleBlockList>{block}</ScheduleBlockList></TrackSchedule>"
            + "<CustomExtensionList><CustomExtension><enableSchedule>true</enableSchedule><PreRecordTimeSeconds>5</PreRecordTimeSeconds><PostRecordTimeSeconds>5</PostRecordTimeSeconds></CustomExtension></CustomExtensionList>"
        )

    async def get_tracks(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = "".join(f"<Track>{self._track_inner(n)}</Track>" for n in sorted(self.state.channels))
        return self.xml("TrackList", items)

    async def get_track(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        return self.xml("Track", self._track_inner(self._track_channel(m)))

    async def put_track(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n = self._track_channel(m)
        el = parse_body(body, "Track")
        enable = get_bool(el, "Enable")
        loop = get_bool(el, "LoopEnable")
        covered: dict[str, set[str]] = {}
        modes: set[str] = set()
        for block in findall(el, "TrackSchedule/ScheduleBlockList/ScheduleBlock"):
            actions = findall(block, "ScheduleAction")
            declared = block.get("ScheduleActionSize")
            if declared is not None and declared != str(len(actions)):
                raise IsapiError(6, "badXmlContent")
            for action in actions:
                if get_bool(action, "Actions/Record") is False:
                    continue
                day = text(action, "ScheduleActionStartTime/DayOfWeek") or ""
                span = f"{text(action, 'ScheduleActionStartTime/TimeOfDay')}-{text(action, 'ScheduleActionEndTime/TimeOfDay')}"
                if day not in DAYS:
                    raise IsapiError(6, "badParameters")
                covered.setdefault(day, set()).add(span)
                modes.add((text(action, "Actions/ActionRecordingMode") or "CMR").upper())
        if enable is False or not covered:
            schedule = "none"
        elif modes == {"CMR"} and all("00:00:00-24:00:00" in covered.get(d, set()) for d in DAYS):
            schedule = "continuous"
        else:
            schedule = "event"
        self.state.schedules[n] = schedule
        if loop is not None:
            self.state.overwrite = loop
        self.changed()
        return self.status(request)

    async def get_record_status(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        items = ""
        for n, ch in sorted(self.state.channels.items()):
            items += f"<RecordStatus>{x('id', n * 100 + 1)}{x('recording', ch.recording)}{x('online', ch.online)}{x('schedule', self.state.schedules.get(n, 'none'))}</RecordStatus>"
        return self.xml("RecordStatusList", items)

    # ----------------------------------------------------------------- search

    async def post_search(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        el = parse_body(body, "CMSearchDescription")
        search_id = text(el, "searchID") or str(uuid.uuid4())
        track = get_int(el, "trackIDList/trackID")
        start_text, end_text = text(el, "timeSpanList/timeSpan/startTime"), text(el, "timeSpanList/timeSpan/endTime")
        if track is None or start_text is None or end_text is None:
            raise IsapiError(6, "badXmlContent")
        window = (parse_time(start_text, 0), parse_time(end_text, 0))
        max_results = get_int(el, "maxResults", 1, 10000) or 40
        max_results = min(max_results, 50)
        position = get_int(el, "searchResultPostion", 0) or get_int(el, "searchResultPosition", 0) or 0
        n, stream = divmod(track, 100)
        span = self.state.recordings.get(n) if stream == 1 else None
        matches, total = _segments(span, window, position, max_results)
        items = ""
        host = request.host.split(":")[0]
        for seg_start, seg_end in matches:
            a, b = utc_z(seg_start), utc_z(seg_end)
            uri = f"rtsp://{host}/Streaming/tracks/{track}/?starttime={a.replace('-', '').replace(':', '')}&endtime={b.replace('-', '').replace(':', '')}"
            items += (
                f"<searchMatchItem>{x('sourceID', '{0000-0000}')}{x('trackID', track)}"
                f"<timeSpan>{x('startTime', a)}{x('endTime', b)}</timeSpan>"
                f"<mediaSegmentDescriptor>{x('contentType', 'video')}{x('codecType', 'H.264-BP')}{x('playbackURI', uri)}</mediaSegmentDescriptor>"
                f"<metadataMatches>{x('metadataDescriptor', 'recordType.meta.hikvision.com/timing')}</metadataMatches></searchMatchItem>"
            )
        state = "NO MATCHES" if not matches else "MORE" if position + len(matches) < total else "OK"
        inner = (
            x("searchID", search_id)
            + x("responseStatus", True)
            + x("responseStatusStrg", state)
            + x("numOfMatches", len(matches))
            + f"<matchList>{items}</matchList>"
        )
        return self.xml("CMSearchResult", inner)

    async def get_picture(self, request: web.Request, m: re.Match[str], body: bytes) -> web.StreamResponse:
        n, _ = divmod(int(m.group("id")), 100)
        ch = self.state.channels.get(n)
        if ch is None:
            raise IsapiError(4, "notSupport", http=403)
        if not ch.online:
            raise IsapiError(3, "deviceError")
        return web.Response(body=await snapshot_jpeg(1920, 1080), content_type="image/jpeg")


def _segments(
    span: RecordingSpan | None, window: tuple[float, float], position: int, limit: int
) -> tuple[list[tuple[float, float]], int]:
    """Hour-long files covering ``span`` inside ``window``: (page from ``position``, total count)."""
    if span is None or span.start is None or span.end is None or span.bytes <= 0:
        return [], 0
    lo, hi = max(span.start, window[0]), min(span.end, window[1])
    if hi <= lo:
        return [], 0
    first = int(lo // SEGMENT_S)
    last = int((hi - 1e-9) // SEGMENT_S)
    total = last - first + 1
    page = []
    for k in range(first + position, min(last, first + position + limit - 1) + 1):
        page.append((max(lo, k * SEGMENT_S), min(hi, (k + 1) * SEGMENT_S)))
    return page, total


# --------------------------------------------------------------------------- app factories


DEVICE = web.AppKey("isapi_device", IsapiDevice)


def _realm(kind: str, serial: str) -> str:
    digits = re.sub(r"\D", "", serial)[-5:] or "00000"
    return f"{kind}({digits})"


def _app(device: IsapiDevice) -> web.Application:
    app = web.Application(client_max_size=64 * 2**20, handler_args={"max_field_size": 16384})
    app.router.add_route("*", "/{tail:.*}", device.handle)
    app[DEVICE] = device
    return app


def camera_app(
    state: CameraState,
    faults: Faults,
    *,
    clock: Clock,
    on_change: Callable[[], None],
    timings: Timings | None = None,
) -> web.Application:
    """An ISAPI camera over ``state``. ``clock`` returns simulator UNIX time; ``on_change`` runs after each change."""
    device = IsapiCamera(
        state,
        faults,
        clock=clock,
        on_change=on_change,
        timings=timings or Timings(),
        realm=_realm("IP Camera", state.serial),
    )
    return _app(device)


def nvr_app(
    state: NvrState,
    faults: Faults,
    *,
    clock: Clock,
    on_change: Callable[[], None],
    timings: Timings | None = None,
) -> web.Application:
    """An ISAPI NVR over ``state`` (realm ``NVR(<digits>)`` [?])."""
    device = IsapiNvr(
        state, faults, clock=clock, on_change=on_change, timings=timings or Timings(), realm=_realm("NVR", state.serial)
    )
    return _app(device)
