"""Dahua (and KBVision OEM) camera driver over the HTTP CGI API: :class:`DahuaCamera`.

Why this shape: everything is ``GET /cgi-bin/<name>.cgi?action=...`` with digest auth, replies are
``key=value`` lines, a good set answers ``OK`` and a bad one ``Error\\r\\nBad Request!``
(device-apis.md §2). Config names are read with ``getConfig`` and written with ``setConfig``
of only the keys that change.

Mappings (see :mod:`camfleet.drivers.desired`):

- device name ↔ ``General.MachineName``; OSD text ↔ ``ChannelTitle[0].Name``.
- time zone ``UTC+07:00`` ↔ ``NTP.TimeZone=12`` (Dahua's zone table, index → offset, [M]);
  NTP ↔ ``NTP.Enable`` + ``NTP.Address`` (one server).
- streams ↔ ``Encode[0].MainFormat[0]`` / ``ExtraFormat[0]`` ``.Video.*`` (kbit/s, FPS, GOP).
- services ↔ ``UPnP.Enable``, ``T2UServer.Enable`` (P2P cloud), ``Telnet.Enable``, ``SSHD.Enable``;
  a config name the firmware lacks counts as off.
- masks ↔ ``VideoWidget[0].Covers[0..3]`` (``Rect`` on the 0..8191 grid, ``EncodeBlend`` on).
- H.264+/H.265+ ↔ ``SmartEncode[0].Enable`` (its own table, not ``Encode``; main stream); Dahua has no
  average bitrate to set, so ``main.average_kbps`` (and the sub stream's switch) are reported not
  supported; firmware without the table reports ``main.smart_codec`` too (devices.md §6).
- date/time overlay ↔ ``VideoWidget[0].TimeTitle`` (``EncodeBlend`` on, ``ShowWeek``, ``Rect`` top left
  on the 0..8191 grid, its size kept) and the device-wide ``Locales.TimeFormat``
  (``yyyy-MM-dd HH:mm:ss`` = ``YYYY-MM-DD`` 24h; devices.md §7).

Secrets: Dahua's CGI takes passwords in the query string (``modifyPassword``, ``addUser``); errors
name the CGI and action, never the query. A factory-fresh camera is initialised over the web
wizard's encrypted JSON-RPC (:mod:`camfleet.drivers.dahua_init`).

Reproduce by hand (a simulated camera on 127.77.0.20)::

    .venv/bin/python -c "from camfleet.drivers.dahua import DahuaCamera as C; \\
        d = C('cam-05-t02', '127.77.0.20', 80, 'admin', '<password>'); print(d.read_config())"
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO, ClassVar
from urllib.parse import quote

from camfleet.drivers import dahua_init
from camfleet.drivers.base import (
    Channel,
    ChannelIdentity,
    ChannelState,
    ConfigurableCamera,
    DeviceClock,
    Disk,
    Driver,
    Facts,
    LoginLock,
    Progress,
    RecorderDriver,
    Recording,
    RecordingRange,
    UpgradeStatus,
    User,
)
from camfleet.drivers.desired import (
    DesiredConfig,
    Mask,
    OsdTime,
    ServiceSwitches,
    StreamSettings,
    label_offset,
    offset_label,
)
from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    DeviceTimeout,
    DriverError,
    LockedOut,
    MalformedReply,
    NotActivated,
    ReplyTooLarge,
    Unreachable,
    Unsupported,
)
from camfleet.drivers.http import (
    BACKUP_DEADLINE_S,
    DEADLINE_FACTOR,
    DOCUMENT_MAX,
    SNAPSHOT_MAX,
    STATUS_MAX,
    MiB,
    body_chunks,
)

#: Dahua's ``NTP.TimeZone`` table: index -> minutes east of UTC [M] (12 = GMT+07:00).
ZONES: tuple[int, ...] = (
    0, 60, 120, 180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 540, 570, 600, 660, 720, 780,
    -60, -120, -180, -210, -240, -300, -360, -420, -480, -540, -600, -660, -720,
)  # fmt: skip
STREAMS = {"main": "Encode[0].MainFormat[0]", "sub": "Encode[0].ExtraFormat[0]"}
CODECS = {"H.264": "h264", "H.265": "h265", "MJPG": "mjpeg"}
CODECS_BACK = {v: k for k, v in CODECS.items()}
SERVICES = {"upnp": "UPnP", "p2p": "T2UServer", "telnet": "Telnet", "ssh": "SSHD"}
GROUPS = {"administrator": "admin", "operator": "user", "viewer": "user"}
RECT_MAX = 8191
MAX_MASKS = 4
TIME_TITLE = "VideoWidget[0].TimeTitle"
#: ``Locales.TimeFormat`` halves ↔ the vocabulary (date order; clock): ``yyyy-MM-dd HH:mm:ss`` [M].
DATE_PATTERNS = {"yyyy-MM-dd": "YYYY-MM-DD", "dd-MM-yyyy": "DD-MM-YYYY", "MM-dd-yyyy": "MM-DD-YYYY"}
DATE_PATTERNS_BACK = {v: k for k, v in DATE_PATTERNS.items()}
CLOCK_PATTERNS = {"HH:mm:ss": "24h", "hh:mm:ss": "12h"}
CLOCK_PATTERNS_BACK = {v: k for k, v in CLOCK_PATTERNS.items()}
EXPORT_NAMES: tuple[str, ...] = ("General", "Network", "NTP", "Locales", "Encode", "ChannelTitle", "VideoWidget")
EXPORT_NAMES += tuple(SERVICES.values())
_KEY = re.compile(r"[A-Za-z0-9_.\[\]]+")
#: Dahua's local time format (``global.cgi``, ``mediaFileFind``, ``loadfile.cgi``): no zone.
LOCAL = "%Y-%m-%d %H:%M:%S"
#: Files asked for per ``findNextFile`` (python-amcrest asks 100).
FIND_PAGE = 100
FIND_MAX_PAGES = 200


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1")


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(float(value)) if value is not None else default
    except ValueError:
        return default


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def zone_index(seconds_east: int) -> int:
    minutes = seconds_east // 60
    if minutes not in ZONES:
        raise ValueError(f"UTC offset {offset_label(seconds_east)} is not in Dahua's time-zone table")
    return ZONES.index(minutes)


class DahuaDevice(Driver):
    """CGI plumbing plus what Dahua cameras and recorders share: identity, initialisation, users,
    time, maintenance."""

    vendor = "dahua"
    device_type: ClassVar[str] = "IPC"
    flash_timeout_s: ClassVar[float] = 600.0
    progress_poll_s: ClassVar[float] = 0.25
    #: ``facts()`` makes four calls: all of them together finish within this many timeouts.
    facts_timeouts: ClassVar[float] = 3.0
    _rpc_id: int = 0

    # ----------------------------------------------------------------- plumbing

    def cgi(
        self,
        cgi: str,
        action: str,
        params: Mapping[str, object] | None = None,
        *,
        method: str = "GET",
        files: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        auth: bool = True,
        max_bytes: int = DOCUMENT_MAX,
        deadline: float | None = None,
    ) -> str:
        """Call ``/cgi-bin/<cgi>.cgi?action=<action>&<params>``; error replies raise. ``max_bytes`` and
        ``deadline`` bound the reply (:meth:`DeviceSession.request`: text documents by default)."""
        query = "&".join(
            [f"action={quote(action, safe='')}"]
            + [f"{_checked_key(k)}={quote(_fmt(v), safe=':')}" for k, v in (params or {}).items()]
        )
        what = f"{cgi}.cgi?action={action}"
        resp = self.session.request(
            method,
            f"/cgi-bin/{cgi}.cgi?{query}",
            files=files,
            timeout=timeout,
            auth=auth,
            max_bytes=max_bytes,
            deadline=deadline,
        )
        body = resp.content.decode("utf-8", "replace")
        reason = _error_reason(body)
        if resp.status_code == 401:
            raise self._auth_error(reason, what, sent_credentials=auth)
        if resp.status_code == 404:
            raise Unsupported(self.device_id, f"{what}: not offered", reason, http_status=404)
        if resp.status_code == 403:
            raise DeviceError(
                self.device_id, f"{what} refused: the login lacks authority", reason, sub_status=reason, http_status=403
            )
        if resp.status_code >= 400 or body.startswith("Error"):
            raise DeviceError(
                self.device_id, f"{what} refused", reason or f"HTTP {resp.status_code}", sub_status=reason,
                http_status=resp.status_code,
            )  # fmt: skip
        return body

    def _auth_error(self, reason: str | None, what: str, *, sent_credentials: bool = True) -> AuthError:
        """NotActivated, LockedOut or AuthError; the last two end the session's use of the
        credentials, if they were sent.
        """
        text = (reason or "").lower()
        if "not initialized" in text or "uninitiali" in text or ("invalid authority" in text and self._factory_fresh()):
            return NotActivated(self.device_id, "device is not initialised; run activate() first", reason)
        if "locked" in text:
            error: AuthError = LockedOut(self.device_id, f"locked out after bad logins ({what})", reason)
        else:
            error = AuthError(self.device_id, f"login refused ({what})", reason or "Unauthorized")
        return self.session.refuse(error) if sent_credentials else error

    def _factory_fresh(self) -> bool:
        """Whether a 401 ``Invalid Authority!`` means "uninitialised" (every CGI says so then)."""
        try:
            return self.init_state() == dahua_init.FACTORY_FRESH
        except DriverError:
            return False

    def kv(self, body: str, what: str) -> dict[str, str]:
        """``key=value`` lines to a dict; a line without ``=`` means a truncated reply."""
        pairs: dict[str, str] = {}
        for line in body.splitlines():
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise MalformedReply(self.device_id, f"reply to {what} is not key=value text", line[:80])
            pairs[key.strip()] = value.strip()
        return pairs

    def ask(self, cgi: str, action: str, params: Mapping[str, object] | None = None) -> dict[str, str]:
        return self.kv(self.cgi(cgi, action, params), f"{cgi}.cgi?action={action}")

    def ok(self, cgi: str, action: str, params: Mapping[str, object] | None = None, **kw: Any) -> None:
        body = self.cgi(cgi, action, params, **kw)
        if body.strip() != "OK":
            raise MalformedReply(self.device_id, f"{cgi}.cgi?action={action} did not answer OK", body[:80])

    def config(self, name: str) -> dict[str, str]:
        """``getConfig&name=<name>`` without the ``table.`` prefix. Every key must belong to that table
        (``table.<name>.`` or ``table.<name>[``): a reply with another key, or none, is MalformedReply,
        never read as an empty or default table."""
        what = f"configManager.cgi?action=getConfig&name={name}"
        pairs = self.kv(self.cgi("configManager", "getConfig", {"name": name}), what)
        if not pairs:
            raise MalformedReply(self.device_id, f"reply to {what} is empty")
        out: dict[str, str] = {}
        for key, value in pairs.items():
            bare = key.removeprefix("table.")
            if not (bare.startswith(f"{name}.") or bare.startswith(f"{name}[")):
                raise MalformedReply(self.device_id, f"reply to {what} holds a key of another table", key[:80])
            out[bare] = value
        return out

    def set_config(self, values: Mapping[str, object]) -> None:
        self.ok("configManager", "setConfig", values)

    # ----------------------------------------------------------------- identity

    def facts(self) -> Facts:
        """Who the device is. Only ``getSystemInfo`` must answer; the version, the name and the MAC
        address (``Network``: refused to a login without the right, or not offered by some firmware)
        each read as None when their call fails. A refused password, an oversized reply or a blown
        deadline still raises: the four calls together get :attr:`facts_timeouts` × the timeout."""
        with self.session.budget(self.facts_timeouts * self.timeout, "facts()"):
            try:
                info = self.ask("magicBox", "getSystemInfo")
            except NotActivated:
                return Facts(vendor=self.vendor, activated=False)
            version = self._fact(lambda: self.ask("magicBox", "getSoftwareVersion").get("version")) or ""
            name = self._fact(lambda: self.ask("magicBox", "getMachineName").get("name"))
            mac = self._fact(self._mac)
        firmware, build_date = _firmware(version)
        return Facts(
            vendor=self.vendor,
            activated=True,
            model=info.get("deviceType") or info.get("updateSerial"),
            serial=info.get("serialNumber"),
            mac=mac.lower() if mac else None,
            firmware=firmware,
            build_date=build_date,
            device_name=name,
            device_type=self.device_type,
        )

    def _fact(self, read: Callable[[], str | None]) -> str | None:
        """One fact, or None where its call is refused, missing or malformed (never a login failure, nor a
        device flooding us: that is no missing fact)."""
        try:
            return read()
        except (AuthError, ReplyTooLarge):
            raise
        except (DeviceError, MalformedReply):
            return None

    def _mac(self) -> str | None:
        """The MAC address of the interface ``Network.DefaultInterface`` names (eth0 if none)."""
        network = self.config("Network")
        interface = network.get("Network.DefaultInterface") or "eth0"
        return network.get(f"Network.{interface}.PhysicalAddress") or network.get("Network.eth0.PhysicalAddress")

    def rpc(self, method: str, params: Any = None, *, session: bool = False) -> dict[str, Any]:
        """One anonymous JSON-RPC call to ``/OutsideCmd`` (the initialisation wizard's endpoint);
        the reply's ``params``. A refusal raises DeviceError with the device's error message.
        """
        self._rpc_id += 1
        body: dict[str, Any] = {"method": method, "params": params, "id": self._rpc_id}
        if session:
            body["session"] = 0
        resp = self.session.request(
            "POST", "/OutsideCmd", content=json.dumps(body), headers={"Content-Type": "application/json"}, auth=False
        )
        if resp.status_code == 404:
            raise Unsupported(self.device_id, f"{method}: no /OutsideCmd on this firmware", http_status=404)
        try:
            reply = json.loads(resp.content)
        except ValueError:
            raise MalformedReply(self.device_id, f"{method}: reply is not JSON", resp.text[:80]) from None
        if not isinstance(reply, dict):
            raise MalformedReply(self.device_id, f"{method}: reply is not a JSON object", resp.text[:80])
        if reply.get("result") is not True:
            error = reply.get("error")
            error = error if isinstance(error, dict) else {}
            said = f"{error.get('code', '?')} {error.get('message', '')}".strip()
            raise DeviceError(self.device_id, f"{method} refused", said, http_status=resp.status_code)
        params_out = reply.get("params")
        return params_out if isinstance(params_out, dict) else {}

    def init_state(self) -> int:
        """``DevInit.getStatus``'s ``Init``: 1 factory-fresh, 2 initialised."""
        state = self.rpc("DevInit.getStatus").get("Init")
        if not isinstance(state, int):
            raise MalformedReply(self.device_id, "DevInit.getStatus: no Init number", str(state)[:80])
        return state

    def activation_status(self) -> bool:
        try:
            return self.init_state() != dahua_init.FACTORY_FRESH
        except ReplyTooLarge:
            raise
        except (Unsupported, MalformedReply):  # firmware before the initialisation wizard (about 2017)
            resp = self.session.request("GET", "/cgi-bin/magicBox.cgi?action=getDeviceType", auth=False)
            reason = (_error_reason(resp.content.decode("utf-8", "replace")) or "").lower()
            return not (resp.status_code == 401 and "not initiali" in reason)

    def activate(self, password: str) -> bool:
        """Initialise the admin account the way the web wizard does (:mod:`camfleet.drivers.dahua_init`):
        licence, encrypted account, then P2P cloud off. False if the camera was initialised already.
        """
        if self.activation_status():
            return False
        pub = str(self.rpc("Security.getEncryptInfo").get("pub", ""))
        try:
            account = dahua_init.envelope({"name": self.username, "pwd": password, "CellPhone": "", "Mail": ""}, pub)
            access = dahua_init.envelope({"NetAccess": 0, "UpgradeCheck": 2}, pub)
        except ValueError as err:
            raise MalformedReply(self.device_id, f"Security.getEncryptInfo: {err}", pub[:80]) from None
        self.rpc("DevInit.setProtocolAgree", {"ProtocolEnable": True}, session=True)
        self.rpc("DevInit.account", account)
        with contextlib.suppress(DriverError):  # the wizard goes on without it too; audit turns P2P off
            self.rpc("DevInit.access", access)
        self._set_password(password)
        return True

    # ----------------------------------------------------------------- users

    def login_lock(self) -> LoginLock:
        """``General.LockLoginEnable``, ``LockLoginTimes``, ``LoginFailLockTime`` (seconds)."""
        general = self.config("General")
        times, seconds = general.get("General.LockLoginTimes"), general.get("General.LoginFailLockTime")
        return LoginLock(
            enabled=general.get("General.LockLoginEnable", "true").strip().lower() == "true",
            max_failures=_int(times) if times is not None else None,
            lock_s=float(_int(seconds)) if seconds is not None else None,
        )

    def users(self) -> list[User]:
        pairs = self.ask("userManager", "getUserInfoAll")
        found: dict[int, dict[str, str]] = {}
        for key, value in pairs.items():
            m = re.fullmatch(r"users\[(\d+)\]\.(\w+)", key)
            if m:
                found.setdefault(int(m.group(1)), {})[m.group(2)] = value
        return [
            User(
                _int(u.get("Id"), i + 1), u.get("Name", ""), "administrator" if u.get("Group") == "admin" else "viewer"
            )
            for i, u in sorted(found.items())
        ]

    def set_password(self, user: str, new: str) -> None:
        """Dahua's ``modifyPassword`` needs the user's old password, so only the driver's own login
        can be changed here.
        """
        if user != self.username:
            raise Unsupported(self.device_id, f"changing {user!r}'s password needs their old one; log in as them")
        self.ok("userManager", "modifyPassword", {"name": user, "pwd": new, "pwdOld": self._password})
        self._set_password(new)

    def set_user_password(self, user: str, new: str, old: str) -> None:
        """``modifyPassword`` of another login, with its old password (Dahua checks it)."""
        if user == self.username:
            self.set_password(user, new)
            return
        self.ok("userManager", "modifyPassword", {"name": user, "pwd": new, "pwdOld": old})

    def add_user(self, name: str, password: str, level: str = "viewer") -> User:
        group = GROUPS.get(level.lower())
        if group is None:
            raise ValueError(f"{self.device_id}: user level must be one of {', '.join(GROUPS)}, not {level!r}")
        self.ok(
            "userManager",
            "addUser",
            {
                "user.Name": name,
                "user.Password": password,
                "user.Group": group,
                "user.Sharable": True,
                "user.Reserved": False,
            },
        )
        added = next((u for u in self.users() if u.name == name), None)
        if added is None:
            raise DeviceError(self.device_id, f"user {name!r} missing after addUser answered OK")
        return added

    # ----------------------------------------------------------------- time and maintenance

    def _offset(self) -> int:
        index = _int(self.config("NTP").get("NTP.TimeZone"), -1)
        if not 0 <= index < len(ZONES):
            raise MalformedReply(self.device_id, "NTP.TimeZone is not an index of the zone table", str(index))
        return ZONES[index] * 60

    def time(self) -> DeviceClock:
        offset = self._offset()
        before = time.time()
        raw = self.ask("global", "getCurrentTime").get("result", "")
        after = time.time()
        try:
            naive = dt.datetime.strptime(raw, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise MalformedReply(self.device_id, "device time is not YYYY-MM-DD HH:MM:SS", raw) from None
        device_utc = naive.replace(tzinfo=dt.timezone(dt.timedelta(seconds=offset))).astimezone(dt.UTC)
        return DeviceClock(device_utc, offset, device_utc.timestamp() - (before + after) / 2)

    def reboot(self) -> None:
        self.ok("magicBox", "reboot")

    def snapshot(self) -> bytes:
        return self._jpeg(1)

    def _jpeg(self, channel: int) -> bytes:
        resp = self.session.request("GET", f"/cgi-bin/snapshot.cgi?channel={channel}", max_bytes=SNAPSHOT_MAX)
        if resp.status_code != 200:
            body = resp.content.decode("utf-8", "replace")
            if resp.status_code == 401:
                raise self._auth_error(_error_reason(body), "snapshot.cgi")
            raise DeviceError(self.device_id, "snapshot.cgi refused", _error_reason(body), http_status=resp.status_code)
        if not (resp.content.startswith(b"\xff\xd8") and resp.content.rstrip(b"\0").endswith(b"\xff\xd9")):
            raise MalformedReply(self.device_id, "snapshot.cgi did not return a whole JPEG")
        return resp.content

    def firmware_status(self) -> UpgradeStatus:
        state = self.kv(self.cgi("upgrader", "getState", max_bytes=STATUS_MAX), "upgrader.cgi?action=getState")
        words = {"idle": "idle", "upgrading": "upgrading", "preparing": "upgrading", "downloading": "upgrading"}
        words |= {"succeeded": "succeeded", "failed": "failed"}
        return UpgradeStatus(words.get(state.get("state", "").lower(), "unknown"), _int(state.get("progress")))

    def firmware_upload(self, data: bytes, progress: Progress | None = None) -> UpgradeStatus:
        """POST the image, then poll ``getState`` until it fails, succeeds, or the device goes away
        to reboot into the new build (check with :meth:`wait_online` and ``facts().firmware``).
        """
        self.firmware_status()  # a cheap request first, so the image is not sent twice for the digest challenge
        files = {"file": ("firmware.bin", data, "application/octet-stream")}
        self.ok(
            "upgrader", "uploadFirmware", method="POST", files=files, timeout=max(self.flash_timeout_s, self.timeout)
        )
        deadline = time.monotonic() + self.flash_timeout_s
        last = -1
        while time.monotonic() < deadline:
            try:
                status = self.firmware_status()
            except (Unreachable, DeviceTimeout):
                if progress is not None:
                    progress(100)
                return UpgradeStatus("rebooting", 100, rebooting=True)
            if status.state == "failed":
                raise DeviceError(self.device_id, "firmware flash failed", "state=Failed", sub_status="Failed")
            if status.state == "succeeded":
                if progress is not None:
                    progress(100)
                return UpgradeStatus("succeeded", 100, rebooting=True)
            if progress is not None and status.percent != last:
                last = status.percent
                progress(status.percent)
            time.sleep(self.progress_poll_s)
        raise DeviceTimeout(self.device_id, f"firmware flash not finished within {self.flash_timeout_s:g} s")

    def config_export(self) -> bytes:
        """A readable dump of the config names camfleet knows (``getConfig`` text, one name after
        another). Not Dahua's encrypted backup file: that needs the RPC2 API.
        """
        parts = []
        with self.session.budget(max(BACKUP_DEADLINE_S, DEADLINE_FACTOR * self.timeout), "config export"):
            for name in EXPORT_NAMES:
                try:
                    part = self.cgi("configManager", "getConfig", {"name": name})
                except (Unsupported, DeviceError) as err:
                    if isinstance(err, Unsupported) or err.http_status == 400:
                        continue
                    raise
                parts.append(self._whole_table(part, name))
        if not parts:
            raise MalformedReply(self.device_id, "no config name could be read for the export")
        return "".join(parts).encode()

    def _whole_table(self, body: str, name: str) -> str:
        """A ``getConfig`` reply kept for the export only when it is whole: ``key=value`` lines of
        table ``name`` alone, the last one ended (a reply cut mid-line would run into the next table's)."""
        what = f"configManager.cgi?action=getConfig&name={name}"
        pairs = self.kv(body, what)
        if not pairs or not body.endswith("\n"):
            raise MalformedReply(self.device_id, f"reply to {what} is cut short", body[-80:])
        for key in pairs:
            bare = key.removeprefix("table.")
            if not (bare.startswith(f"{name}.") or bare.startswith(f"{name}[")):
                raise MalformedReply(self.device_id, f"reply to {what} holds a key of another table", key[:80])
        return body


class DahuaCamera(DahuaDevice, ConfigurableCamera):
    """A Dahua IP camera (channel 1, main stream and first extra stream)."""

    name = "dahua_cgi"
    max_ntp_servers: ClassVar[int] = 1
    _time_rect: tuple[int, int, int, int] = (0, 0, 2458, 410)  # TimeTitle's Rect as read (left, top, right, bottom)

    # ----------------------------------------------------------------- config

    def _optional(self, name: str) -> dict[str, str]:
        try:
            return self.config(name)
        except Unsupported:
            return {}
        except DeviceError as err:
            if err.http_status == 400:
                return {}  # firmware without this config name answers Bad Request
            raise

    def read_config(self) -> DesiredConfig:
        general = self.config("General")
        ntp = self.config("NTP")
        title = self.config("ChannelTitle")
        encode = self.config("Encode")
        widget = self.config("VideoWidget")
        index = _int(ntp.get("NTP.TimeZone"), -1)
        timezone = offset_label(ZONES[index] * 60) if 0 <= index < len(ZONES) else f"Dahua zone {index}"
        servers = (ntp.get("NTP.Address", ""),) if _bool(ntp.get("NTP.Enable")) and ntp.get("NTP.Address") else ()
        services = {k: _bool(self._optional(name).get(f"{name}.Enable")) for k, name in SERVICES.items()}
        if f"{STREAMS['main']}.Video.Compression" not in encode:
            raise MalformedReply(self.device_id, "no MainFormat[0] in the Encode config")
        smart = self._optional("SmartEncode").get("SmartEncode[0].Enable")
        self.unsupported = ("main.average_kbps", "sub.smart_codec", "sub.average_kbps")
        if smart is None:
            self.unsupported = ("main.smart_codec", *self.unsupported)
        main = dataclasses.replace(_stream(encode, STREAMS["main"]), smart_codec=_bool(smart))
        return DesiredConfig(
            device_name=general.get("General.MachineName", ""),
            timezone=timezone,
            ntp_servers=servers,
            osd_text=title.get("ChannelTitle[0].Name", ""),
            main=main,
            sub=_stream(encode, STREAMS["sub"]) if f"{STREAMS['sub']}.Video.Compression" in encode else None,
            services=ServiceSwitches(**services),
            masks=_masks(widget),
            osd_time=self._osd_time(widget),
        )

    def _osd_time(self, widget: dict[str, str]) -> OsdTime | None:
        """``TimeTitle`` and ``Locales.TimeFormat``; None, and ``osd_time`` unsupported, where either is missing."""
        locales = self._optional("Locales")
        pattern = locales.get("Locales.TimeFormat")
        if f"{TIME_TITLE}.EncodeBlend" not in widget or pattern is None:
            self.unsupported += ("osd_time",)
            return None
        date, _, clock = pattern.strip().partition(" ")
        rect = tuple(_int(widget.get(f"{TIME_TITLE}.Rect[{i}]")) for i in range(4))
        self._time_rect = (rect[0], rect[1], rect[2], rect[3])
        return OsdTime(
            enabled=_bool(widget.get(f"{TIME_TITLE}.EncodeBlend")),
            date_format=DATE_PATTERNS.get(date, date),
            time_format=CLOCK_PATTERNS.get(clock, clock),
            show_week=_bool(widget.get(f"{TIME_TITLE}.ShowWeek")),
            x=rect[0] / RECT_MAX,
            y=rect[1] / RECT_MAX,
        )

    def fit(self, desired: DesiredConfig) -> DesiredConfig:
        if len(desired.masks) > MAX_MASKS:
            raise ValueError(
                f"{self.device_id}: {len(desired.masks)} privacy masks wanted; the camera holds {MAX_MASKS}"
            )
        masks = []
        for m in desired.masks:
            left, top, right, bottom = (round(min(1.0, v) * RECT_MAX) for v in m.edges())
            masks.append(Mask(left / RECT_MAX, top / RECT_MAX, (right - left) / RECT_MAX, (bottom - top) / RECT_MAX))
        return DesiredConfig(
            device_name=desired.device_name,
            timezone=desired.timezone,
            ntp_servers=desired.ntp_servers[: self.max_ntp_servers],
            osd_text=desired.osd_text,
            main=desired.main,
            sub=desired.sub,
            services=desired.services,
            masks=tuple(masks),
            osd_time=_fit_time(desired.osd_time),
        )

    def write(self, resource: str, before: DesiredConfig, after: DesiredConfig) -> bool:
        if resource == "device_name":
            self.set_config({"General.MachineName": after.device_name})
        elif resource == "timezone":
            offset = label_offset(after.timezone)
            if offset is None:
                raise ValueError(f"{self.device_id}: time zone {after.timezone!r} is not a UTC offset label")
            self.set_config({"NTP.TimeZone": zone_index(offset)})
        elif resource == "ntp_servers":
            values: dict[str, object] = {"NTP.Enable": bool(after.ntp_servers)}
            if after.ntp_servers:
                values["NTP.Address"] = after.ntp_servers[0]
            self.set_config(values)
        elif resource == "osd_text":
            self.set_config({"ChannelTitle[0].Name": after.osd_text})
        elif resource in STREAMS:
            settings = after.main if resource == "main" else after.sub
            assert settings is not None
            self.set_config(_stream_values(STREAMS[resource], settings))
            toggles = resource == "main" and "main.smart_codec" not in self.unsupported
            if toggles and settings.smart_codec != before.main.smart_codec:
                self.set_config({"SmartEncode[0].Enable": settings.smart_codec})
        elif resource == "services":
            for switch, name in SERVICES.items():
                wanted = getattr(after.services, switch)
                if getattr(before.services, switch) != wanted:
                    self.set_config({f"{name}.Enable": wanted})
        elif resource == "masks":
            self.set_config(_mask_values(after.masks))
        elif resource == "osd_time":
            assert after.osd_time is not None
            self._write_osd_time(before.osd_time, after.osd_time)
        else:
            raise ValueError(f"unknown resource {resource!r}")
        return False

    def _write_osd_time(self, before: OsdTime | None, after: OsdTime) -> None:
        """``TimeTitle`` (moved with its size kept) and, where the format changes, ``Locales.TimeFormat``."""
        date, clock = DATE_PATTERNS_BACK.get(after.date_format), CLOCK_PATTERNS_BACK.get(after.time_format)
        if date is None or clock is None:
            raise ValueError(f"{self.device_id}: {after.date_format} {after.time_format} has no Dahua TimeFormat")
        left, top, right, bottom = self._time_rect
        x, y = round(after.x * RECT_MAX), round(after.y * RECT_MAX)
        width, height = max(0, right - left), max(0, bottom - top)
        self.set_config(
            {
                f"{TIME_TITLE}.EncodeBlend": after.enabled,
                f"{TIME_TITLE}.ShowWeek": after.show_week,
                f"{TIME_TITLE}.Rect[0]": x,
                f"{TIME_TITLE}.Rect[1]": y,
                f"{TIME_TITLE}.Rect[2]": min(RECT_MAX, x + width),
                f"{TIME_TITLE}.Rect[3]": min(RECT_MAX, y + height),
            }
        )
        if before is None or (before.date_format, before.time_format) != (after.date_format, after.time_format):
            self.set_config({"Locales.TimeFormat": f"{date} {clock}"})


# --------------------------------------------------------------------------- helpers


class DahuaNvr(DahuaDevice, RecorderDriver):
    """A Dahua NVR: identity, time, disks and footage (``mediaFileFind``, ``RPC_Loadfile``).

    Channel management and recording schedules are not built: the ``RemoteDevice`` and ``Record``
    config tables of Dahua recorders were not confirmed from any recorded reply, so those calls
    say so (Unsupported) instead of guessing; configure them in the recorder's web UI.
    Times: Dahua's CGI speaks the device's wall clock without a zone (device-apis.md §2.1), turned
    into UTC with the zone the recorder reports (``NTP.TimeZone``).
    """

    name = "dahua_cgi_nvr"
    device_type: ClassVar[str] = "NVR"
    _offset_s: int | None = None

    def protocol_for(self, vendor: str) -> str:
        return "Dahua" if vendor == "dahua" else "Onvif"

    def _unbuilt(self, what: str) -> Unsupported:
        return Unsupported(
            self.device_id,
            f"{what} on Dahua recorders is not built in camfleet (RemoteDevice/Record tables unconfirmed); "
            "use the recorder's web interface",
        )

    def channels(self) -> list[Channel]:
        raise self._unbuilt("reading channels")

    def set_channel(
        self,
        n: int,
        address: str,
        port: int,
        username: str,
        password: str,
        name: str,
        *,
        protocol: str = "Dahua",
        rewrite_password: bool = False,
    ) -> bool:
        raise self._unbuilt("channel management")

    def delete_channel(self, n: int) -> bool:
        raise self._unbuilt("channel management")

    def channel_status(self) -> dict[int, ChannelState]:
        raise self._unbuilt("channel status")

    def channel_identities(self) -> dict[int, ChannelIdentity]:
        """What each channel's camera is, from the read-only ``RemoteDevice`` table (slot
        ``System_CONFIG_NETCAMERA_INFO_<i>`` is channel i + 1; ``SerialNo``, ``Mac``, ``DeviceType``,
        ``Address``; docs/reference/devices.md §9). Switched-off slots, the ``192.168.0.0`` placeholder
        and the ``ff:ff:ff:ff:ff:ff``/empty MAC of a camera that did not say are left out."""
        slots: dict[int, dict[str, str]] = {}
        for key, value in self.config("RemoteDevice").items():
            found = re.fullmatch(r"RemoteDevice\.uuid:System_CONFIG_NETCAMERA_INFO_(\d+)\.(\w+)", key)
            if found is not None:
                slots.setdefault(int(found.group(1)), {})[found.group(2)] = value.strip()
        out: dict[int, ChannelIdentity] = {}
        for slot, f in sorted(slots.items()):
            # An address never connected to, not bound: the table's placeholders for an empty slot.
            if f.get("Enable", "").lower() != "true" or f.get("Address", "") in ("", "0.0.0.0", "192.168.0.0"):  # noqa: S104
                continue
            mac = f.get("Mac", "").lower()
            serial, model = f.get("SerialNo") or None, f.get("DeviceType") or None
            mac_known = mac if mac and mac not in ("ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00") else None
            if serial or mac_known or model:
                out[slot + 1] = ChannelIdentity(slot + 1, serial, mac_known, model, f.get("Address"))
        return out

    def recording_schedule(self, n: int) -> str:
        raise self._unbuilt("reading recording schedules")

    def set_recording_schedule(self, n: int, continuous: bool = True) -> bool:
        raise self._unbuilt("recording schedules")

    def snapshot(self, channel: int = 1) -> bytes:
        return self._jpeg(channel)

    # ----------------------------------------------------------------- disks

    def disks(self) -> list[Disk]:
        """``storageDevice.cgi?action=getDeviceAllInfo`` (device-apis.md §2.4): one disk per ``list.info[i]``,
        its partitions' bytes summed."""
        pairs = self.ask("storageDevice", "getDeviceAllInfo")
        found: dict[int, dict[str, str]] = {}
        for key, value in pairs.items():
            m = re.fullmatch(r"list\.info\[(\d+)\]\.(.+)", key)
            if m:
                found.setdefault(int(m.group(1)), {})[m.group(2)] = value
        out = []
        for i, info in sorted(found.items()):
            total = sum(_int(v) for k, v in info.items() if re.fullmatch(r"Detail\[\d+\]\.TotalBytes", k))
            used = sum(_int(v) for k, v in info.items() if re.fullmatch(r"Detail\[\d+\]\.UsedBytes", k))
            broken = any(_bool(v) for k, v in info.items() if re.fullmatch(r"Detail\[\d+\]\.IsError", k))
            state = info.get("State", "")
            status = "ok" if state.lower() == "success" and not broken else ("error" if state else "unknown")
            kind = info.get("Detail[0].Type")
            out.append(Disk(i + 1, total, max(0, total - used), status, kind))
        return out

    def format_disk(self, slot: int) -> None:
        raise self._unbuilt("formatting disks")

    # ----------------------------------------------------------------- footage

    def _basis_offset(self) -> int:
        if self._offset_s is None:
            self._offset_s = self._offset()
        return self._offset_s

    def _local(self, when: dt.datetime) -> str:
        return (when.astimezone(dt.UTC) + dt.timedelta(seconds=self._basis_offset())).strftime(LOCAL)

    def _from_local(self, value: str) -> dt.datetime:
        naive = dt.datetime.strptime(value.strip(), LOCAL)
        return naive.replace(tzinfo=dt.UTC) - dt.timedelta(seconds=self._basis_offset())

    def find_footage(self, channel: int, start: dt.datetime, end: dt.datetime) -> list[Recording]:
        """``mediaFileFind.cgi``: ``factory.create``, ``findFile`` (channel 1-based, main stream, ``dav``
        files, local times), ``findNextFile`` until ``found=0``, then ``factory.close`` and
        ``factory.destroy`` (device-apis.md §2.6, footage.md §4.1). A ``findFile`` that does not answer
        OK means nothing matched, as python-amcrest reads it [L]."""
        obj = self.ask("mediaFileFind", "factory.create").get("result", "")
        if not obj.strip():
            raise MalformedReply(self.device_id, "mediaFileFind.cgi?action=factory.create gave no object id")
        found: dict[tuple[str, dt.datetime], Recording] = {}
        try:
            condition = {
                "object": obj,
                "condition.Channel": channel,
                "condition.StartTime": self._local(start),
                "condition.EndTime": self._local(end),
                "condition.Types[0]": "dav",
                "condition.VideoStream": "Main",
            }
            try:
                self.ok("mediaFileFind", "findFile", condition)
            except DeviceError as err:
                if err.http_status in (400, 200):
                    return []
                raise
            for _ in range(FIND_MAX_PAGES):
                try:
                    page = self.ask("mediaFileFind", "findNextFile", {"object": obj, "count": FIND_PAGE})
                except DeviceError as err:
                    if err.http_status in (400, 200):  # "Error" once there is nothing more (python-amcrest)
                        break
                    raise
                items = self._items(page, channel)
                before = len(found)
                for item in items:
                    found.setdefault((item.handle, item.start), item)
                if not items or len(found) == before:
                    break
        finally:
            for action in ("factory.close", "factory.destroy"):
                with contextlib.suppress(DriverError):  # some firmware answer Error here; the object goes anyway
                    self.cgi("mediaFileFind", action, {"object": obj})
        return sorted((r for r in found.values() if r.end > start and r.start < end), key=lambda r: r.start)

    def _items(self, page: dict[str, str], channel: int) -> list[Recording]:
        count = _int(page.get("found"), -1)
        if count < 0:
            raise MalformedReply(self.device_id, "findNextFile answered without found=", str(page)[:80])
        items: dict[int, dict[str, str]] = {}
        for key, value in page.items():
            m = re.fullmatch(r"items\[(\d+)\]\.(.+)", key)
            if m:
                items.setdefault(int(m.group(1)), {})[m.group(2)] = value
        out = []
        for _, item in sorted(items.items()):
            path = item.get("FilePath", "")
            try:
                a, b = self._from_local(item.get("StartTime", "")), self._from_local(item.get("EndTime", ""))
            except ValueError:
                raise MalformedReply(
                    self.device_id, "findNextFile item time is not YYYY-MM-DD HH:MM:SS", str(item)[:120]
                ) from None
            if not path or b <= a:
                continue
            length = _int(item.get("Length"), -1)
            kind = (item.get("Type") or path.rsplit(".", 1)[-1]).lower()
            out.append(
                Recording(
                    channel=channel,
                    start=a,
                    end=b,
                    handle=path,
                    name=path.rsplit("/", 1)[-1],
                    size_bytes=length if length >= 0 else None,
                    container="dav" if kind == "dav" else "mp4" if kind == "mp4" else kind,
                )
            )
        return out

    def search_recordings(self, channel: int) -> RecordingRange:
        """Oldest start and newest end: the first and the last file of a search over everything (2000 to a
        day ahead of the recorder's clock)."""
        now = self.time().device_utc
        files = self.find_footage(channel, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), now + dt.timedelta(days=1))
        if not files:
            return RecordingRange(None, None)
        return RecordingRange(files[0].start, max(f.end for f in files))

    def download_footage(
        self, recording: Recording, sink: BinaryIO, *, within: tuple[dt.datetime, dt.datetime] | None = None
    ) -> Recording:
        """``GET /cgi-bin/RPC_Loadfile/<FilePath>``: the stored file as it is (DHAV for ``.dav``), streamed to
        ``sink``; always the whole file (footage.md §4.2: by-time download, ``loadfile.cgi``, is one
        library's word only), cut on export."""
        # The path appended as it is (``RPC_Loadfile//mnt/dvr/...``), brackets unescaped, as python-amcrest sends it.
        path = "/cgi-bin/RPC_Loadfile/" + recording.handle
        what = "RPC_Loadfile"
        written = 0
        # A known size bounds the download (generously: the search's size is the device's word);
        # an unknown one only by the read timeout between chunks.
        cap = None if recording.size_bytes is None else 2 * recording.size_bytes + 64 * MiB
        with self.session.stream("GET", path, max_bytes=cap) as resp:
            if resp.status_code >= 400:
                body = resp.read().decode("utf-8", "replace")
                reason = _error_reason(body)
                if resp.status_code == 401:
                    raise self._auth_error(reason, what)
                if resp.status_code == 404:
                    raise DeviceError(
                        self.device_id, f"{what}: no file {recording.name or recording.handle}", reason, http_status=404
                    )
                raise DeviceError(self.device_id, f"{what} refused", reason or f"HTTP {resp.status_code}",
                                  http_status=resp.status_code)  # fmt: skip
            for chunk in body_chunks(resp):
                if written == 0 and chunk.startswith(b"Error"):  # an error text where the file should be
                    said = _error_reason(chunk[:200].decode("utf-8", "replace"))
                    raise DeviceError(self.device_id, f"{what} refused", said)
                sink.write(chunk)
                written += len(chunk)
        if recording.size_bytes is not None and written < recording.size_bytes:
            raise MalformedReply(
                self.device_id, f"download of {recording.name} stopped at {written} of {recording.size_bytes} bytes"
            )
        return dataclasses.replace(recording, size_bytes=written)

    def lock_footage(self, channel: int, start: dt.datetime, end: dt.datetime) -> None:
        raise Unsupported(
            self.device_id,
            "no CGI call locks Dahua recordings (only NetSDK's CLIENT_SetMarkFileByTime over port 37777, "
            "footage.md §4.4): export before the recorder overwrites them",
        )


def _checked_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a Dahua config key: {key!r}")
    return key


def _error_reason(body: str) -> str | None:
    """``Error\\r\\nBad Request!\\r\\n`` → ``Bad Request!``; None for a non-error body."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("Error"):
        return None
    rest = lines[0][len("Error") :].lstrip(": ").strip()
    return rest or (lines[1] if len(lines) > 1 else "Error")


def _firmware(version: str) -> tuple[str | None, dt.date | None]:
    """``2.840.0000000.11.R,build:2023-04-12`` → (``V2.840.0000000.11.R.230412``, 2023-04-12)."""
    if not version:
        return None, None
    number, _, build = version.partition(",")
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", build)
    if not m:
        return f"V{number.lstrip('V')}", None
    try:
        date = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return f"V{number.lstrip('V')}", None
    return f"V{number.lstrip('V')}.{date:%y%m%d}", date


def _stream(encode: dict[str, str], prefix: str) -> StreamSettings:
    p = f"{prefix}.Video"
    codec = encode.get(f"{p}.Compression", "")
    return StreamSettings(
        codec=CODECS.get(codec, codec.lower()),
        width=_int(encode.get(f"{p}.Width")),
        height=_int(encode.get(f"{p}.Height")),
        fps=_int(encode.get(f"{p}.FPS")),
        bitrate_kbps=_int(encode.get(f"{p}.BitRate")),
        bitrate_mode=encode.get(f"{p}.BitRateControl", "").lower(),
        gop=_int(encode.get(f"{p}.GOP")),
    )


def _stream_values(prefix: str, s: StreamSettings) -> dict[str, object]:
    codec = CODECS_BACK.get(s.codec)
    if codec is None:
        raise ValueError(f"codec {s.codec!r} has no Dahua name")
    p = f"{prefix}.Video"
    return {
        f"{p}.Compression": codec,
        f"{p}.resolution": f"{s.width}x{s.height}",
        f"{p}.Width": s.width,
        f"{p}.Height": s.height,
        f"{p}.FPS": s.fps,
        f"{p}.BitRate": s.bitrate_kbps,
        f"{p}.BitRateControl": s.bitrate_mode.upper(),
        f"{p}.GOP": s.gop,
    }


def _fit_time(wanted: OsdTime | None) -> OsdTime | None:
    """The overlay's corner on the 0..8191 grid, as it will read back."""
    if wanted is None:
        return None
    return dataclasses.replace(
        wanted, x=round(min(1.0, wanted.x) * RECT_MAX) / RECT_MAX, y=round(min(1.0, wanted.y) * RECT_MAX) / RECT_MAX
    )


def _masks(widget: dict[str, str]) -> tuple[Mask, ...]:
    masks = []
    for i in range(MAX_MASKS):
        p = f"VideoWidget[0].Covers[{i}]"
        if not _bool(widget.get(f"{p}.EncodeBlend")):
            continue
        left, top, right, bottom = (_int(widget.get(f"{p}.Rect[{j}]")) / RECT_MAX for j in range(4))
        if right > left and bottom > top:
            masks.append(Mask(left, top, right - left, bottom - top))
    return tuple(masks)


def _mask_values(masks: tuple[Mask, ...]) -> dict[str, object]:
    values: dict[str, object] = {}
    for i in range(MAX_MASKS):
        p = f"VideoWidget[0].Covers[{i}]"
        edges = masks[i].edges() if i < len(masks) else (0.0, 0.0, 0.0, 0.0)
        values[f"{p}.EncodeBlend"] = i < len(masks)
        for j, v in enumerate(edges):
            values[f"{p}.Rect[{j}]"] = round(min(1.0, v) * RECT_MAX)
    return values
