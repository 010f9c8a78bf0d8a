"""Simulated Dahua cameras speaking the HTTP CGI API with digest auth.

Why this exists: Dahua drivers are tested against it, so it answers like the devices in
device-apis.md §2 and §6: ``key=value`` lines with CRLF, ``table.`` on getConfig, ``OK`` on
a good set, ``Error\\r\\nBad Request!\\r\\n`` (HTTP 400) on bad input, realm ``Login to <serial>``,
``LockLoginTimes=5`` / ``LoginFailLockTime=1800`` s lock-out per account, and the faults.

Choices where the reference is unsure [?]:

- An uninitialised device answers every CGI with 401 and ``Error\\r\\nInvalid Authority!`` (no
  challenge) [L], and is initialised as the web wizard does it: anonymous JSON-RPC on
  ``POST /OutsideCmd`` — ``DevInit.getStatus``, ``Security.getEncryptInfo`` (a 2048-bit RSA key
  made on first use), ``DevInit.setProtocolAgree`` (must come first, and must carry ``session``),
  ``DevInit.account`` and ``DevInit.access`` (RPAC-256 envelopes, which must not carry
  ``session``); see :mod:`camfleet.drivers.dahua_init` for the protocol [L]. Error codes [?].
- Bad logins: 401 with a new challenge; once locked, the body says ``Error\\r\\nUser locked!``.
- A non-admin calling a setter: 403 ``Error\\r\\nNo Authority!``.
- ``upgrader.cgi?action=getState`` idle state is ``Idle``; a finished upgrade reboots by itself.
- ``NTP.TimeZone`` is Dahua's zone index (12 = GMT+07:00) [M]; ``SSHD.Enable`` drives ssh.

Reproduce by hand::

    curl --digest -u admin:<password> 'http://127.77.0.20/cgi-bin/magicBox.cgi?action=getSystemInfo'
    curl --digest -u admin:<password> \\
        'http://127.77.0.20/cgi-bin/configManager.cgi?action=setConfig&NTP.Enable=true&NTP.Address=10.0.0.1'
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import time
from collections.abc import Callable
from typing import ClassVar

from aiohttp import BodyPartReader, web
from cryptography.hazmat.primitives.asymmetric import rsa

from camfleet.drivers import dahua_init
from camfleet.sim.devices import CameraState, MaskRect, StreamConfig, parse_firmware, password_is_strong
from camfleet.sim.digest import AuthOutcome, DigestAuth, LockPolicy
from camfleet.sim.faults import Fault, Faults
from camfleet.sim.httpserve import RealDeadline, Timings, drop_connection, serve, snapshot_jpeg, truncate

__all__ = ["DEVICE", "Timings", "camera_app", "serve"]

Clock = Callable[[], float]
CRLF = "\r\n"
RECT_MAX = 8191
# Dahua's time-zone table, index -> minutes east of UTC [M]
ZONES = [0, 60, 120, 180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 540, 570, 600, 660, 720, 780]
ZONES += [-60, -120, -180, -210, -240, -300, -360, -420, -480, -540, -600, -660, -720]
CODECS = {"h264": "H.264", "h265": "H.265", "mjpeg": "MJPG"}
CODECS_BACK = {v: k for k, v in CODECS.items()}
STREAM_KEYS = {101: "MainFormat[0]", 102: "ExtraFormat[0]", 103: "ExtraFormat[1]"}


class CgiError(Exception):
    """A refused request: ``Error`` plus a reason line."""

    def __init__(self, reason: str = "Bad Request!", http: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.http = reason, http


def kv(pairs: list[tuple[str, object]]) -> str:
    return "".join(f"{k}={_fmt(v)}{CRLF}" for k, v in pairs)


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool(value: str) -> bool:
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise CgiError()


def _int(value: str, lo: int, hi: int) -> int:
    try:
        number = int(float(value))
    except ValueError as exc:
        raise CgiError() from exc
    if not lo <= number <= hi:
        raise CgiError()
    return number


def _zone_offset(state: CameraState) -> int:
    return state.utc_offset_s() // 60


def _zone_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _posix_zone(minutes: int) -> str:
    sign = "-" if minutes >= 0 else "+"  # POSIX sign is inverted
    return f"CST{sign}{abs(minutes) // 60}:{abs(minutes) % 60:02d}:00"


class ConfigTable:
    """getConfig/setConfig for one camera: each name renders flat keys and stores them back."""

    NAMES: ClassVar[tuple[str, ...]] = (
        "Encode",
        "NTP",
        "Locales",
        "ChannelTitle",
        "VideoWidget",
        "General",
        "Network",
        "UPnP",
        "Telnet",
        "SSHD",
        "T2UServer",
    )

    def __init__(self, state: CameraState) -> None:
        self.state = state

    def render(self, name: str) -> dict[str, str]:
        s = self.state
        pairs: list[tuple[str, object]] = []
        if name == "Encode":
            for sid, key in STREAM_KEYS.items():
                st = s.streams.get(sid)
                if st is None:
                    continue
                p = f"Encode[0].{key}"
                pairs += [
                    (f"{p}.Video.Compression", CODECS.get(st.codec, "H.264")),
                    (f"{p}.Video.Width", st.width),
                    (f"{p}.Video.Height", st.height),
                    (f"{p}.Video.resolution", f"{st.width}x{st.height}"),
                    (f"{p}.Video.FPS", st.fps),
                    (f"{p}.Video.BitRate", st.bitrate_kbps),
                    (f"{p}.Video.BitRateControl", st.bitrate_mode.upper()),
                    (f"{p}.Video.GOP", st.gop),
                    (f"{p}.Video.Profile", "Main"),
                    (f"{p}.Video.Quality", 4),
                    (f"{p}.VideoEnable", st.enabled),
                    (f"{p}.AudioEnable", False),
                ]
        elif name == "NTP":
            minutes = _zone_offset(s)
            index = ZONES.index(minutes) if minutes in ZONES else 0
            pairs += [
                ("NTP.Enable", s.ntp.enabled),
                ("NTP.Address", s.ntp.server),
                ("NTP.Port", s.ntp.port),
                ("NTP.TimeZone", index),
                ("NTP.TimeZoneDesc", _zone_label(ZONES[index])),
                ("NTP.UpdatePeriod", s.ntp.interval_min),
            ]
        elif name == "Locales":
            pairs += [("Locales.TimeFormat", "yyyy-MM-dd HH:mm:ss"), ("Locales.DSTEnable", False)]
        elif name == "ChannelTitle":
            pairs += [("ChannelTitle[0].Name", s.osd.text)]
        elif name == "VideoWidget":
            pairs += self._widget()
        elif name == "General":
            pairs += [
                ("General.MachineName", s.device_name),
                ("General.LockLoginEnable", s.login_lock.enabled),
                ("General.LockLoginTimes", s.login_lock.max_failures),
                ("General.LoginFailLockTime", int(s.login_lock.lock_s)),
            ]
        elif name == "Network":
            pairs += [
                ("Network.Hostname", s.device_name),
                ("Network.eth0.IPAddress", s.network.address),
                ("Network.eth0.SubnetMask", s.network.netmask),
                ("Network.eth0.DefaultGateway", s.network.gateway),
                ("Network.eth0.DhcpEnable", s.network.dhcp),
                ("Network.eth0.PhysicalAddress", s.mac),
            ]
        elif name == "UPnP":
            pairs += [
                ("UPnP.Enable", s.services.upnp),
                ("UPnP.MapTable[0].Enable", s.services.upnp),
                ("UPnP.MapTable[0].InnerPort", 80),
                ("UPnP.MapTable[0].OuterPort", 8080),
                ("UPnP.MapTable[0].Protocol", "TCP"),
                ("UPnP.MapTable[0].ServiceName", "HTTP"),
            ]
        elif name == "Telnet":
            pairs += [("Telnet.Enable", s.services.telnet)]
        elif name == "SSHD":
            pairs += [("SSHD.Enable", s.services.ssh)]
        elif name == "T2UServer":
            pairs += [("T2UServer.Enable", s.services.p2p), ("T2UServer.RegisterServer", "www.easy4ipcloud.com")]
        else:
            raise CgiError()
        return {k: _fmt(v) for k, v in pairs}

    def _widget(self) -> list[tuple[str, object]]:
        o, masks = self.state.osd, self.state.masks
        p = "VideoWidget[0]"

        def rect(prefix: str, left: float, top: float, right: float, bottom: float) -> list[tuple[str, object]]:
            return [(f"{prefix}.Rect[{i}]", round(v * RECT_MAX)) for i, v in enumerate((left, top, right, bottom))]

        pairs: list[tuple[str, object]] = [(f"{p}.ChannelTitle.EncodeBlend", o.show_name)]
        pairs += rect(f"{p}.ChannelTitle", o.name_x, o.name_y, min(1.0, o.name_x + 0.25), min(1.0, o.name_y + 0.05))
        pairs += [(f"{p}.TimeTitle.EncodeBlend", o.show_datetime)]
        pairs += rect(
            f"{p}.TimeTitle", o.datetime_x, o.datetime_y, min(1.0, o.datetime_x + 0.3), min(1.0, o.datetime_y + 0.05)
        )
        pairs += [(f"{p}.CustomTitle[0].EncodeBlend", bool(o.custom_text)), (f"{p}.CustomTitle[0].Text", o.custom_text)]
        for i in range(4):
            region = masks.regions[i] if i < len(masks.regions) else None
            pairs += [(f"{p}.Covers[{i}].EncodeBlend", bool(region) and masks.enabled)]
            r = region or MaskRect(0, 0, 0, 0)
            pairs += rect(f"{p}.Covers[{i}]", r.x, r.y, r.x + r.w, r.y + r.h)
        return pairs

    def store(self, name: str, flat: dict[str, str]) -> None:
        """Write a name's (merged) keys back to the state; CgiError on any bad value."""
        s = self.state
        if name == "Encode":
            streams = dict(s.streams)
            for sid, key in STREAM_KEYS.items():
                if sid in s.streams:
                    streams[sid] = self._stream(flat, f"Encode[0].{key}", s.streams[sid], sid)
            s.streams = streams
        elif name == "NTP":
            index = _int(flat["NTP.TimeZone"], 0, len(ZONES) - 1)
            server = flat["NTP.Address"]
            if not server or len(server) > 64:
                raise CgiError()
            s.ntp.enabled = _bool(flat["NTP.Enable"])
            s.ntp.server = server
            s.ntp.port = _int(flat["NTP.Port"], 1, 65535)
            s.ntp.interval_min = _int(flat["NTP.UpdatePeriod"], 1, 65535)
            if ZONES[index] != _zone_offset(s):
                s.time_zone = _posix_zone(ZONES[index])
            if s.ntp.enabled:
                s.clock_offset_s = 0.0
        elif name == "Locales":
            _bool(flat["Locales.DSTEnable"])
        elif name == "ChannelTitle":
            title = flat["ChannelTitle[0].Name"]
            if len(title) > 64:
                raise CgiError()
            s.osd.text = title
        elif name == "VideoWidget":
            self._store_widget(flat)
        elif name == "General":
            machine = flat["General.MachineName"]
            if not 1 <= len(machine) <= 64:
                raise CgiError()
            s.device_name = machine
            s.login_lock.enabled = _bool(flat["General.LockLoginEnable"])
            s.login_lock.max_failures = _int(flat["General.LockLoginTimes"], 1, 30)
            s.login_lock.lock_s = float(_int(flat["General.LoginFailLockTime"], 60, 86400))
        elif name == "Network":
            if flat["Network.eth0.PhysicalAddress"] != s.mac:
                raise CgiError()
            for key, attr in (("IPAddress", "address"), ("SubnetMask", "netmask"), ("DefaultGateway", "gateway")):
                value = flat[f"Network.eth0.{key}"]
                if not re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}", value):
                    raise CgiError()
                setattr(s.network, attr, value)
            s.network.dhcp = _bool(flat["Network.eth0.DhcpEnable"])
        elif name == "UPnP":
            s.services.upnp = _bool(flat["UPnP.Enable"])
        elif name == "Telnet":
            s.services.telnet = _bool(flat["Telnet.Enable"])
        elif name == "SSHD":
            s.services.ssh = _bool(flat["SSHD.Enable"])
        elif name == "T2UServer":
            s.services.p2p = _bool(flat["T2UServer.Enable"])

    def _stream(self, flat: dict[str, str], p: str, old: StreamConfig, sid: int) -> StreamConfig:
        codec = CODECS_BACK.get(flat[f"{p}.Video.Compression"])
        if codec is None or (codec == "mjpeg" and sid == 101):
            raise CgiError()
        if flat[f"{p}.Video.resolution"] != f"{old.width}x{old.height}":
            m = re.fullmatch(r"(\d+)x(\d+)", flat[f"{p}.Video.resolution"])
            if not m:
                raise CgiError()
            width, height = int(m.group(1)), int(m.group(2))
        else:
            width, height = _int(flat[f"{p}.Video.Width"], 1, 7680), _int(flat[f"{p}.Video.Height"], 1, 4320)
        max_w, max_h = (max(old.width, 3840), max(old.height, 2160)) if sid == 101 else (1280, 720)
        if not (160 <= width <= max_w and 120 <= height <= max_h):
            raise CgiError()
        mode = flat[f"{p}.Video.BitRateControl"].upper()
        if mode not in ("CBR", "VBR"):
            raise CgiError()
        return StreamConfig(
            codec=codec,
            width=width,
            height=height,
            fps=_int(flat[f"{p}.Video.FPS"], 1, 30),
            bitrate_kbps=_int(flat[f"{p}.Video.BitRate"], 32, 16384),
            bitrate_mode=mode.lower(),
            gop=_int(flat[f"{p}.Video.GOP"], 1, 400),
            enabled=_bool(flat[f"{p}.VideoEnable"]),
        )

    def _store_widget(self, flat: dict[str, str]) -> None:
        o = self.state.osd
        p = "VideoWidget[0]"

        def rect(prefix: str) -> tuple[float, float, float, float]:
            values = [_int(flat[f"{prefix}.Rect[{i}]"], 0, RECT_MAX) / RECT_MAX for i in range(4)]
            return values[0], values[1], values[2], values[3]

        o.show_name = _bool(flat[f"{p}.ChannelTitle.EncodeBlend"])
        o.name_x, o.name_y, _, _ = rect(f"{p}.ChannelTitle")
        o.show_datetime = _bool(flat[f"{p}.TimeTitle.EncodeBlend"])
        o.datetime_x, o.datetime_y, _, _ = rect(f"{p}.TimeTitle")
        custom = flat[f"{p}.CustomTitle[0].Text"]
        o.custom_text = custom if _bool(flat[f"{p}.CustomTitle[0].EncodeBlend"]) else ""
        regions, blended = [], False
        for i in range(4):
            left, top, right, bottom = rect(f"{p}.Covers[{i}]")
            on = _bool(flat[f"{p}.Covers[{i}].EncodeBlend"])
            if right > left and bottom > top:
                regions.append(MaskRect(round(left, 4), round(top, 4), round(right - left, 4), round(bottom - top, 4)))
                blended = blended or on
        self.state.masks.regions = regions
        self.state.masks.enabled = blended


class DahuaCamera:
    """One Dahua camera's CGI API over a :class:`CameraState`."""

    def __init__(
        self, state: CameraState, faults: Faults, *, clock: Clock, on_change: Callable[[], None], timings: Timings
    ) -> None:
        self.state = state
        self.faults = faults
        self.clock = clock
        self.on_change = on_change
        self.timings = timings
        self.config = ConfigTable(state)
        self.auth = DigestAuth(
            f"Login to {state.serial}",
            state.passwords,
            clock=clock,
            policy=self._lock_policy,
            opaque=os.urandom(16).hex(),
        )
        self._reboot: RealDeadline | None = None
        self._flash: asyncio.Task[None] | None = None
        self._agreed = False  # DevInit.setProtocolAgree seen (until the next restart)
        self._just_initialised = False  # DevInit.access accepted once, right after DevInit.account
        self._rsa: rsa.RSAPrivateKey | None = None

    def _lock_policy(self) -> LockPolicy:
        lock = self.state.login_lock
        return LockPolicy(lock.enabled, lock.max_failures, lock.lock_s, "user")

    # ----------------------------------------------------------------- plumbing

    def rebooting(self) -> bool:
        if self._reboot is None:
            return False
        if not self._reboot.passed(self.clock()):
            return True
        self._reboot = None
        return False

    def start_reboot(self) -> None:
        s = self.state
        if s.upgrade.state == "succeeded" and s.upgrade.pending_build:
            s.firmware = s.upgrade.pending_build
            s.upgrade.pending_build = None
        s.rebooting_until = self.clock() + self.timings.reboot_s
        self._reboot = RealDeadline(s.rebooting_until, min(self.timings.max_real_s, self.timings.reboot_s))
        self.auth.reset()
        self.on_change()

    @staticmethod
    def text(body: str, status: int = 200) -> web.Response:
        return web.Response(status=status, text=body, content_type="text/plain")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults.unreachable or self.rebooting():
            return drop_connection(request)
        await self.faults.delay()
        if self.faults.unreachable:
            return drop_connection(request)
        try:
            resp = await self._dispatch(request)
        except CgiError as err:
            resp = self.text(f"Error{CRLF}{err.reason}{CRLF}", err.http)
        if self.faults.has(Fault.malformed) and isinstance(resp, web.Response) and isinstance(resp.body, bytes):
            resp.body = truncate(resp.body)
        return resp

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/OutsideCmd" and request.method == "POST":
            return await self._outside_cmd(request)
        m = re.fullmatch(r"/cgi-bin/(\w+)\.cgi", request.path)
        if not m:
            return web.Response(
                status=404, text="<html><body><h1>404 Not Found</h1></body></html>", content_type="text/html"
            )
        cgi, action = m.group(1), request.query.get("action", "")
        if not self.state.activated:
            raise CgiError("Invalid Authority!", 401)
        result = self.auth.check(
            request.method,
            request.headers.get("Authorization"),
            request.remote or "",
            forced_lock=self.faults.has(Fault.locked),
        )
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

    # ----------------------------------------------------------------- initialisation (/OutsideCmd)

    #: Methods the wizard sends with a ``session`` field, and those it must not carry one [L].
    WITH_SESSION: ClassVar[frozenset[str]] = frozenset({"DevInit.setProtocolAgree", "DevInit.getProtocolAgree"})
    RPC_ERRORS: ClassVar[dict[str, tuple[int, str]]] = {  # codes [?]
        "bad_request": (268894209, "Invalid request"),
        "no_method": (268894210, "Method not found"),
        "initialised": (268632080, "Device already initialized"),
        "agree_first": (268632081, "Protocol not agreed"),
        "weak": (268632082, "Password does not meet the policy"),
        "envelope": (268632083, "Decryption failed"),
    }

    async def _outside_cmd(self, request: web.Request) -> web.Response:
        try:
            call = json.loads(await request.read())
        except ValueError:
            call = None
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return self._rpc_reply(None, error="bad_request")
        method, params, rpc_id = call["method"], call.get("params"), call.get("id")
        if ("session" in call) != (method in self.WITH_SESSION):
            return self._rpc_reply(rpc_id, error="bad_request")
        s = self.state
        if method == "DevInit.getStatus":
            return self._rpc_reply(rpc_id, {"Init": 2 if s.activated else 1, "Find": "AB"})
        if method == "Security.getEncryptInfo":
            n = (await self._init_key()).public_key().public_numbers()
            pub = f"N:{n.n:X},E:{n.e:06X}"
            info = {"asymmetric": "RSA", "cipher": ["AES", "RPAC"], "AESPadding": ["ZERO", "PKCS7"], "pub": pub}
            return self._rpc_reply(rpc_id, info)
        if method not in ("DevInit.setProtocolAgree", "DevInit.account", "DevInit.access"):
            return self._rpc_reply(rpc_id, error="no_method")
        if method == "DevInit.access":  # the wizard's last step, right after the account
            if not self._just_initialised:
                return self._rpc_reply(rpc_id, error="initialised" if s.activated else "agree_first")
            try:
                payload = dahua_init.open_envelope(params, await self._init_key())
            except ValueError:
                return self._rpc_reply(rpc_id, error="envelope")
            self._just_initialised = False
            if isinstance(payload, dict) and payload.get("NetAccess") == 0:
                s.services.p2p = False  # NetAccess 0: no P2P cloud
                self.on_change()
            return self._rpc_reply(rpc_id, {})
        if s.activated:
            return self._rpc_reply(rpc_id, error="initialised")
        if method == "DevInit.setProtocolAgree":
            self._agreed = isinstance(params, dict) and params.get("ProtocolEnable") is True
            return self._rpc_reply(rpc_id, {}, error=None if self._agreed else "bad_request")
        if not self._agreed:
            return self._rpc_reply(rpc_id, error="agree_first")
        try:
            payload = dahua_init.open_envelope(params, await self._init_key())
        except ValueError:
            return self._rpc_reply(rpc_id, error="envelope")
        user = payload.get("name", "") if isinstance(payload, dict) else ""
        password = payload.get("pwd", "") if isinstance(payload, dict) else ""
        if not isinstance(password, str) or not password_is_strong(password, 32):
            return self._rpc_reply(rpc_id, error="weak")
        if not isinstance(user, str) or not re.fullmatch(r"\w{1,31}", user):
            return self._rpc_reply(rpc_id, error="bad_request")
        s.activate(password, user)
        self._just_initialised = True
        self.on_change()
        return self._rpc_reply(rpc_id, {})

    async def _init_key(self) -> rsa.RSAPrivateKey:
        """The device's RSA key, made on first use in a thread (tens of ms: the other devices go on)."""
        if self._rsa is None:
            self._rsa = await asyncio.to_thread(rsa.generate_private_key, public_exponent=65537, key_size=2048)
        return self._rsa

    @classmethod
    def _rpc_reply(cls, rpc_id: object, params: object = None, *, error: str | None = None) -> web.Response:
        body: dict[str, object] = {"id": rpc_id, "result": error is None}
        if error is None:
            body["params"] = params
        else:
            code, message = cls.RPC_ERRORS[error]
            body["error"] = {"code": code, "message": message}
        return web.json_response(body)

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
        up, t = self.state.upgrade, self.timings
        start, real_start = self.clock(), time.monotonic()
        real_s = max(min(t.max_real_s, t.flash_s), 1e-9)
        deadline = RealDeadline(start + t.flash_s, real_s)
        while not deadline.passed(self.clock()):
            frac = max((self.clock() - start) / max(t.flash_s, 1e-9), (time.monotonic() - real_start) / real_s)
            up.progress = min(99, int(100 * frac))
            await asyncio.sleep(0.02)
        if self.faults.has(Fault.flash_brick):
            up.state, up.progress, up.pending_build = "failed", 0, None
            self.faults.bricked = True
        elif self.faults.has(Fault.flash_fail):
            up.state, up.progress, up.pending_build = "failed", 0, None
        else:
            up.state, up.progress, up.pending_build = "succeeded", 100, build
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


DEVICE = web.AppKey("dahua_device", DahuaCamera)


def camera_app(
    state: CameraState,
    faults: Faults,
    *,
    clock: Clock,
    on_change: Callable[[], None],
    timings: Timings | None = None,
) -> web.Application:
    """A Dahua camera's CGI API over ``state``; ``clock`` returns simulator UNIX time."""
    device = DahuaCamera(state, faults, clock=clock, on_change=on_change, timings=timings or Timings())
    app = web.Application(client_max_size=64 * 2**20)
    app.router.add_route("*", "/{tail:.*}", device.handle)
    app[DEVICE] = device
    return app
