"""State of simulated cameras and NVRs: what a device remembers across requests and restarts.

Why this exists: the HTTP apps (:mod:`camfleet.sim.hikvision`, :mod:`camfleet.sim.dahua`) are
views over this state, and the orchestrator persists it (``to_dict``/``from_dict``, plain JSON)
and advances the NVRs' recordings with :meth:`NvrState.tick`, so thirty days of recording can
pass in seconds. Values
are vendor-neutral (codec ``h264``, bitrate mode ``vbr``, masks in 0..1 of the frame); each app
renders them in its vendor's words.

Simulated firmware files are plain bytes whose first line names the model and build::

    CAMFLEET-SIM-FIRMWARE model=DS-2CD1023G2-LIU build=V5.7.15 build 230519\\n<padding>

Reproduce by hand::

    .venv/bin/python -c "from camfleet.sim.devices import *; \\
        s = CameraState.factory_fresh('hikvision', 'DS-2CD1023G2-LIU', 'SN1', 'c0:56:e3:00:00:01', \\
        'V5.7.15 build 230519'); print(s.to_dict())"
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import re
import types
import typing
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from camfleet.sim.faults import Fault, Faults

T = TypeVar("T")

_ZONE = re.compile(
    r"[A-Za-z]*([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?"
    r"(?:[A-Za-z]{3,}(?:([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?,([^,]+),([^,]+))?"
)


def zone_offset(zone: str, at: float | None = None) -> int:
    """Seconds east of UTC of a device's POSIX zone string at UTC timestamp ``at`` (standard time if None).

    Written from IEEE 1003.1 §8.3 (hours west; rules ``Mm.w.d``, ``Jn``, ``n`` with ``/time``, 02:00 by
    default) and the devices' reading of the number after the daylight-saving name as the saving.
    """
    m = _ZONE.match(zone.strip())
    if not m:
        return 0
    std = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0)
    std = std if m.group(1) == "-" else -std
    if at is None or m.group(9) is None:
        return std
    saving = 3600
    if m.group(6) is not None:
        saving = int(m.group(6)) * 3600 + int(m.group(7) or 0) * 60 + int(m.group(8) or 0)
        saving = -saving if m.group(5) == "-" else saving
    try:
        year = (_dt.datetime.fromtimestamp(at, _dt.UTC) + _dt.timedelta(seconds=std)).year
        begins = _rule_utc(m.group(9), year, std)
        ends = _rule_utc(m.group(10), year, std + saving)
    except ValueError:
        return std
    inside = begins <= at < ends if begins < ends else not ends <= at < begins
    return std + saving if inside else std


def _rule_utc(rule: str, year: int, offset: int) -> float:
    """The UTC timestamp of a POSIX transition rule in ``year``, its time said at ``offset``."""
    date_part, _, time_part = rule.partition("/")
    secs = 7200
    if time_part:
        sign = -1 if time_part.startswith("-") else 1
        hms = [int(p) for p in time_part.lstrip("+-").split(":")] + [0, 0]
        secs = sign * (hms[0] * 3600 + hms[1] * 60 + hms[2])
    if date_part.startswith("M"):
        month, week, weekday = (int(p) for p in date_part[1:].split("."))
        first = _dt.date(year, month, 1)
        day = 1 + (weekday - first.isoweekday() % 7) % 7 + 7 * (week - 1)
        while True:
            try:
                date = _dt.date(year, month, day)
                break
            except ValueError:
                day -= 7  # week 5: the last such weekday
    elif date_part.startswith("J"):
        n = int(date_part[1:])
        date = _dt.date(year, 1, 1) + _dt.timedelta(
            days=n - 1 + (n >= 60 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))
        )
    else:
        date = _dt.date(year, 1, 1) + _dt.timedelta(days=int(date_part))
    midnight = _dt.datetime(date.year, date.month, date.day, tzinfo=_dt.UTC).timestamp()
    return midnight + secs - offset


LEVELS = ("Administrator", "Operator", "User")
FIRMWARE_MAGIC = b"CAMFLEET-SIM-FIRMWARE"
CONFIG_MAGIC = b"CAMFLEET-SIM-CONFIG 1\n"


# --------------------------------------------------------------------------- JSON round trip


def _convert(tp: Any, value: Any) -> Any:
    """Rebuild a value of type ``tp`` from its JSON form (dict keys come back as strings)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(inner[0], value)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_convert(item, v) for v in value]
    if origin is dict:
        key_t, val_t = typing.get_args(tp)
        return {_convert(key_t, k): _convert(val_t, v) for k, v in value.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _from_dict(tp, value)
    if tp is int:
        return int(value)
    if tp is float:
        return float(value)
    return value


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _convert(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}  # type: ignore[arg-type]
    return cls(**kwargs)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# --------------------------------------------------------------------------- parts


@dataclass
class UserAccount:
    """A device login. ``level`` is Administrator, Operator or User (Hikvision shows User as Viewer)."""

    id: int
    password: str
    level: str = "Administrator"


@dataclass
class StreamConfig:
    """One encoder stream (Hikvision 101/102/103, Dahua MainFormat[0]/ExtraFormat[0..])."""

    codec: str = "h264"  # h264 | h265 | mjpeg
    width: int = 1920
    height: int = 1080
    fps: int = 25
    bitrate_kbps: int = 4096
    bitrate_mode: str = "vbr"  # cbr | vbr
    gop: int = 50
    enabled: bool = True
    smart_codec: bool = False  # H.264+/H.265+ (main streams)
    average_kbps: int = 0  # the average it keeps with smart_codec on (Hikvision keeps one with it off too)


@dataclass
class NtpConfig:
    """NTP client settings; ``interval_min`` is the sync period in minutes."""

    enabled: bool = False
    server: str = "time.windows.com"
    port: int = 123
    interval_min: int = 1440


@dataclass
class OsdConfig:
    """On-screen text: the channel name, the date/time, positions in 0..1 of the frame."""

    text: str = "Camera 01"
    show_name: bool = True
    show_datetime: bool = True
    name_x: float = 0.727
    name_y: float = 0.111
    datetime_x: float = 0.0
    datetime_y: float = 0.056
    custom_text: str = ""
    date_style: str = "YYYY-MM-DD"  # YYYY-MM-DD | DD-MM-YYYY | MM-DD-YYYY
    time_style: str = "24h"  # 24h | 12h
    show_week: bool = False


@dataclass
class MaskRect:
    """A privacy mask rectangle in 0..1 of the frame, origin top left."""

    x: float
    y: float
    w: float
    h: float


@dataclass
class PrivacyMasks:
    enabled: bool = False
    regions: list[MaskRect] = field(default_factory=list)


#: The motion grid every camera recorded here has: 22 columns by 18 rows (Hikvision ``Grid``, Dahua ``Region[0..17]``).
MOTION_COLS, MOTION_ROWS = 22, 18
MOTION_ROW_ALL = (1 << MOTION_COLS) - 1


@dataclass
class MotionDetection:
    """Video motion detection: on or off, how sensitive (0..100), Dahua's area ``threshold`` (0..100), and
    the grid of cells watched: one 22-bit mask per row, bit ``c`` set when column ``c`` (from the left) is."""

    enabled: bool = True
    sensitivity: int = 60
    threshold: int = 5
    rows: list[int] = field(default_factory=lambda: [MOTION_ROW_ALL] * MOTION_ROWS)


@dataclass
class Services:
    """Network services a fleet policy wants off (device-apis.md §6.4, §6.5)."""

    upnp: bool = True
    p2p: bool = True
    ssh: bool = False
    telnet: bool = False


@dataclass
class NetworkInfo:
    """Addressing as configured on the device (informational: the sim listens on loopback)."""

    address: str = "192.168.1.64"
    netmask: str = "255.255.255.0"
    gateway: str = "192.168.1.1"
    dhcp: bool = False


@dataclass
class UpgradeStatus:
    """Firmware upgrade progress: idle, upgrading, succeeded, failed (progress in %)."""

    state: str = "idle"
    progress: int = 0
    pending_build: str | None = None


@dataclass
class LoginLock:
    """Lock-out after bad logins (Hikvision ``illegalLoginLock``, Dahua ``General.LockLogin*``)."""

    enabled: bool = True
    max_failures: int = 5
    lock_s: float = 1800.0
    #: Every refused login since the town started (the simulator's own tally, shown by ``camfleet sim
    #: status``, so a test sees how many wrong passwords an audit sent; the lock-out counts apart).
    refused_total: int = 0


# --------------------------------------------------------------------------- firmware files


class FirmwareImage(NamedTuple):
    model: str
    build: str


def make_firmware(model: str, build: str, size: int = 4096) -> bytes:
    """A simulated firmware file for ``model`` carrying ``build`` (see the module docstring)."""
    head = FIRMWARE_MAGIC + f" model={model} build={build}\n".encode()
    return head + b"\0" * max(0, size - len(head))


def parse_firmware(data: bytes) -> FirmwareImage | None:
    """Model and build of a simulated firmware file, or None if it is not one."""
    line = data[:512].split(b"\n", 1)[0]
    if not line.startswith(FIRMWARE_MAGIC + b" "):
        return None
    m = re.fullmatch(r"model=(\S+) build=(.+)", line[len(FIRMWARE_MAGIC) + 1 :].decode("utf-8", "replace"))
    return FirmwareImage(m.group(1), m.group(2).strip()) if m else None


# --------------------------------------------------------------------------- defaults per model

_MAIN_RESOLUTION = {
    "DS-2CD2386G2-IU": (3840, 2160),
    "DS-2CD2143G2-I": (2688, 1520),
    "DS-2CD1023G2-LIU": (1920, 1080),
    "IPC-HFW1230S1-S5": (1920, 1080),
    "IPC-HDW5831R-ZE": (3840, 2160),
}
_THIRD_STREAM = {"DS-2CD2386G2-IU", "DS-2CD2143G2-I"}


def default_streams(vendor: str, model: str) -> dict[int, StreamConfig]:
    """Factory stream settings: main at the sensor's resolution, sub at SD (device-apis.md §1.7) [M]."""
    w, h = _MAIN_RESOLUTION.get(model, (1920, 1080))
    main_kbps = 8192 if w >= 3840 else 4096
    if vendor == "dahua":
        streams = {
            101: StreamConfig("h264", w, h, 25, main_kbps, "cbr", 50),
            102: StreamConfig("h264", 704, 576, 15, 512, "cbr", 30),
        }
    else:
        streams = {
            101: StreamConfig("h264", w, h, 25, main_kbps, "vbr", 50),
            102: StreamConfig("h264", 640, 360, 10, 256, "vbr", 20),
        }
    if model in _THIRD_STREAM:
        streams[103] = StreamConfig("h264", 1280, 720, 10, 1024, "vbr", 20)
    return streams


def password_is_strong(password: str, max_len: int = 16) -> bool:
    """8 to ``max_len`` characters of at least two classes (Hikvision 16, Dahua 32) [V]."""
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^a-zA-Z0-9]"))
    return 8 <= len(password) <= max_len and classes >= 2


# --------------------------------------------------------------------------- common device state


@dataclass(kw_only=True)
class DeviceState:
    """Identity, logins, time and maintenance state shared by cameras and NVRs."""

    vendor: str
    model: str
    serial: str
    mac: str
    firmware: str
    activated: bool = False
    users: dict[str, UserAccount] = field(default_factory=dict)
    device_name: str = "IP CAMERA"
    time_zone: str = "CST-7:00:00"  # POSIX sign: UTC+7
    ntp: NtpConfig = field(default_factory=NtpConfig)
    clock_offset_s: float = 0.0
    network: NetworkInfo = field(default_factory=NetworkInfo)
    upgrade: UpgradeStatus = field(default_factory=UpgradeStatus)
    rebooting_until: float = 0.0
    login_lock: LoginLock = field(default_factory=LoginLock)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (integer keys become strings)."""
        data: dict[str, Any] = _jsonable(self)
        return data

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        return _from_dict(cls, data)

    # ----------------------------------------------------------- users

    def passwords(self) -> dict[str, str]:
        return {name: u.password for name, u in self.users.items()}

    def add_user(self, name: str, password: str, level: str = "User") -> UserAccount:
        account = UserAccount(max((u.id for u in self.users.values()), default=0) + 1, password, level)
        self.users[name] = account
        return account

    def user_by_id(self, user_id: int) -> tuple[str, UserAccount] | None:
        return next(((n, u) for n, u in self.users.items() if u.id == user_id), None)

    def activate(self, password: str, admin: str = "admin") -> None:
        self.activated = True
        self.users = {admin: UserAccount(1, password, "Administrator")}

    def provision(self, admin_password: str, name: str, tz: str, ntp_server: str | None) -> None:
        """What provisioning does to every device kind: activated, named, in the town's zone, on its NTP."""
        self.activate(admin_password)
        self.device_name = name
        self.time_zone = tz
        if ntp_server:
            self.ntp = NtpConfig(enabled=True, server=ntp_server, interval_min=60)

    # ----------------------------------------------------------- time

    def utc_offset_s(self, at: float | None = None) -> int:
        """Offset east of UTC from the POSIX ``time_zone`` (``CST-7:00:00`` → +25200); with ``at`` (a UTC
        timestamp) the daylight-saving part counts too, read as Hikvision writes it
        (``CST+5:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00``: the number after ``DST`` is the saving)."""
        return zone_offset(self.time_zone, at)

    def device_time(self, now: float, faults: Faults | None = None) -> float:
        """The device's idea of UTC now: sim time plus its offset plus any clock_drift fault."""
        drift = float(faults.param(Fault.clock_drift, "seconds")) if faults and faults.has(Fault.clock_drift) else 0.0
        return now + self.clock_offset_s + drift

    # ----------------------------------------------------------- firmware

    def hik_version(self) -> tuple[str, str]:
        """(``firmwareVersion``, ``firmwareReleasedDate``) from ``V5.7.15 build 230519``."""
        version, _, build = self.firmware.partition(" build ")
        return version, f"build {build}" if build else ""

    def config_blob(self) -> bytes:
        """Opaque config export (``/ISAPI/System/configurationData``): magic line + zlib JSON."""
        data = self._settings()
        return CONFIG_MAGIC + zlib.compress(json.dumps(data, sort_keys=True).encode())

    def _settings(self) -> dict[str, Any]:
        """What a configuration export holds: settings, not live state (a backup taken twice is the same)."""
        data = self.to_dict()
        for volatile in ("upgrade", "rebooting_until", "login_lock"):
            data.pop(volatile, None)
        return data

    def restore_config(self, blob: bytes) -> bool:
        """Load a blob made by :meth:`config_blob` of the same model; False if it is not one."""
        if not blob.startswith(CONFIG_MAGIC):
            return False
        try:
            data = json.loads(zlib.decompress(blob[len(CONFIG_MAGIC) :]))
            other = type(self).from_dict(data)
        except (ValueError, KeyError, TypeError, zlib.error):
            return False
        if other.model != self.model:
            return False
        keep = {"serial", "mac", "firmware", "upgrade", "rebooting_until", "vendor", "model"}
        for f in dataclasses.fields(self):
            if f.name not in keep:
                setattr(self, f.name, getattr(other, f.name))
        return True


@dataclass(kw_only=True)
class CameraState(DeviceState):
    """A camera: identity, logins, streams, OSD, masks, services."""

    streams: dict[int, StreamConfig] = field(default_factory=dict)
    osd: OsdConfig = field(default_factory=OsdConfig)
    masks: PrivacyMasks = field(default_factory=PrivacyMasks)
    services: Services = field(default_factory=Services)
    motion: MotionDetection = field(default_factory=MotionDetection)

    @classmethod
    def factory_fresh(cls, vendor: str, model: str, serial: str, mac: str, firmware: str) -> CameraState:
        """Out of the box: not activated, no users, UPnP and P2P on [?], default streams."""
        return cls(
            vendor=vendor,
            model=model,
            serial=serial,
            mac=mac,
            firmware=firmware,
            device_name="IP CAMERA" if vendor == "hikvision" else model,
            network=NetworkInfo(address="192.168.1.64" if vendor == "hikvision" else "192.168.1.108"),
            streams=default_streams(vendor, model),
        )

    @classmethod
    def configured(
        cls,
        vendor: str,
        model: str,
        serial: str,
        mac: str,
        firmware: str,
        *,
        admin_password: str,
        name: str,
        ntp_server: str | None = None,
        tz: str = "CST-7:00:00",
        streams: dict[int, StreamConfig] | None = None,
        osd_text: str | None = None,
        masks: list[MaskRect] | None = None,
        services_off: bool = True,
    ) -> CameraState:
        """A camera already provisioned: activated, admin password set, named, NTP and streams set."""
        state = cls.factory_fresh(vendor, model, serial, mac, firmware)
        state.provision(admin_password, name, tz, ntp_server)
        if streams:
            state.streams.update({k: dataclasses.replace(v) for k, v in streams.items()})
        state.osd.text = osd_text if osd_text is not None else name
        if masks:
            state.masks = PrivacyMasks(enabled=True, regions=[dataclasses.replace(m) for m in masks])
        if services_off:
            state.services = Services(upnp=False, p2p=False, ssh=False, telnet=False)
        return state


# --------------------------------------------------------------------------- NVR


@dataclass
class DiskState:
    """One hard drive: ``status`` ok | error | unformatted."""

    slot: int
    capacity_bytes: int
    free_bytes: int
    status: str = "ok"
    formatted: bool = True
    model: str = "WD43PURZ"
    serial: str = ""

    @property
    def usable(self) -> bool:
        return self.status == "ok" and self.formatted


@dataclass
class ProxyChannel:
    """An IP camera channel of the NVR (``InputProxy``); ``online``/``recording`` are live status."""

    address: str
    port: int = 8000
    protocol: str = "HIKVISION"  # HIKVISION | ONVIF
    username: str = "admin"
    password: str = ""
    name: str = ""
    enabled: bool = True
    online: bool = False
    recording: bool = False


@dataclass
class RecordingSpan:
    """Footage kept for one channel: oldest start, newest end (UTC seconds), bytes on disk, and the
    holes in between (the camera was offline, the recorder could not reach it), oldest first.

    One span per channel keeps tick() cheap; at most :data:`MAX_GAPS` holes are kept (the oldest
    are forgotten, as a recorder's index of a busy channel would be).
    """

    start: float | None = None
    end: float | None = None
    bytes: int = 0
    gaps: list[list[float]] = field(default_factory=list)

    def note_gap(self, since: float, until: float) -> None:
        if until - since >= GAP_MIN_S:
            self.gaps.append([since, until])
            del self.gaps[:-MAX_GAPS]

    def trim(self) -> None:
        """Forget holes before the (moved) oldest footage."""
        if self.start is None:
            self.gaps.clear()
            return
        kept = []
        for a, b in self.gaps:
            if b <= self.start:
                continue
            kept.append([max(a, self.start), b])
        self.gaps = kept

    def pieces(self) -> list[tuple[float, float]]:
        """The recorded stretches: the span minus its holes."""
        if self.start is None or self.end is None or self.bytes <= 0:
            return []
        out, cursor = [], self.start
        for a, b in self.gaps:
            if a > cursor:
                out.append((cursor, min(a, self.end)))
            cursor = max(cursor, b)
        if cursor < self.end:
            out.append((cursor, self.end))
        return [(a, b) for a, b in out if b > a]


#: A stretch without recording shorter than this is not a hole (a tick's jitter).
GAP_MIN_S = 2.0
MAX_GAPS = 2000


class ChannelStatus(NamedTuple):
    online: bool
    recording: bool


SCHEDULES = ("continuous", "event", "none")


@dataclass(kw_only=True)
class NvrState(DeviceState):
    """A recorder: disks, camera channels, schedules and the footage on disk."""

    max_channels: int = 32
    disks: list[DiskState] = field(default_factory=list)
    channels: dict[int, ProxyChannel] = field(default_factory=dict)
    schedules: dict[int, str] = field(default_factory=dict)  # continuous | event | none: what the actions say
    #: A track's ``enableSchedule`` (the recording schedule's on/off switch); missing means on.
    schedule_switch: dict[int, bool] = field(default_factory=dict)
    overwrite: bool = True
    recordings: dict[int, RecordingSpan] = field(default_factory=dict)
    fault_disk_full: bool = False
    fault_failed_slot: int | None = None

    @classmethod
    def factory_fresh(
        cls,
        vendor: str,
        model: str,
        serial: str,
        mac: str,
        firmware: str,
        *,
        disk_bytes: list[int] | None = None,
        max_channels: int = 32,
    ) -> NvrState:
        """Out of the box: not activated, disks fitted but unformatted, no channels."""
        disks = [DiskState(i + 1, c, c, "unformatted", False) for i, c in enumerate(disk_bytes or [])]
        return cls(
            vendor=vendor,
            model=model,
            serial=serial,
            mac=mac,
            firmware=firmware,
            device_name="Network Video Recorder",
            network=NetworkInfo(address="192.168.1.64", dhcp=True),
            disks=disks,
            max_channels=max_channels,
            login_lock=LoginLock(max_failures=7),
        )

    @classmethod
    def configured(
        cls,
        vendor: str,
        model: str,
        serial: str,
        mac: str,
        firmware: str,
        *,
        admin_password: str,
        name: str,
        disk_bytes: list[int],
        max_channels: int = 32,
        ntp_server: str | None = None,
        tz: str = "CST-7:00:00",
        overwrite: bool = True,
    ) -> NvrState:
        """A recorder in service: activated, disks formatted, overwrite on; add channels after."""
        state = cls.factory_fresh(
            vendor, model, serial, mac, firmware, disk_bytes=disk_bytes, max_channels=max_channels
        )
        state.provision(admin_password, name, tz, ntp_server)
        state.overwrite = overwrite
        for d in state.disks:
            d.status, d.formatted, d.free_bytes = "ok", True, d.capacity_bytes
        return state

    def _settings(self) -> dict[str, Any]:
        data = super()._settings()
        for volatile in ("recordings", "fault_disk_full", "fault_failed_slot"):
            data.pop(volatile, None)
        data["disks"] = [{k: v for k, v in d.items() if k not in ("free_bytes", "status")} for d in data["disks"]]
        for channel in data["channels"].values():
            channel.pop("online", None)
            channel.pop("recording", None)
        return data

    def add_channel(self, channel: ProxyChannel, number: int | None = None, *, schedule: str = "continuous") -> int:
        """Add a camera channel (the first free number if none given); it records 24/7 by default."""
        if number is None:
            number = next(n for n in range(1, self.max_channels + 2) if n not in self.channels)
        if not 1 <= number <= self.max_channels:
            raise ValueError(f"channel {number} outside 1..{self.max_channels}")
        self.channels[number] = channel
        self.schedules.setdefault(number, schedule)
        return number

    def remove_channel(self, number: int) -> None:
        self.channels.pop(number, None)
        self.schedules.pop(number, None)
        self.schedule_switch.pop(number, None)

    def records_continuously(self, number: int) -> bool:
        """The channel's schedule is switched on and is CMR around the week."""
        return self.schedules.get(number) == "continuous" and self.schedule_switch.get(number, True)

    def channel_status(self, number: int) -> ChannelStatus:
        c = self.channels.get(number)
        return ChannelStatus(c.online, c.recording) if c else ChannelStatus(False, False)

    # ----------------------------------------------------------- faults and disks

    def apply_faults(self, faults: Faults) -> bool:
        """Mirror the disk faults into the state; True if anything changed."""
        changed = False
        slot = int(faults.param(Fault.disk_failed, "slot")) if faults.has(Fault.disk_failed) else None
        if slot != self.fault_failed_slot:
            for d in self.disks:
                if d.slot == self.fault_failed_slot and d.status == "error":
                    d.status, d.formatted, d.free_bytes = "unformatted", False, d.capacity_bytes
                if d.slot == slot:
                    d.status = "error"
            self.fault_failed_slot = slot
            changed = True
        full = faults.has(Fault.disk_full)
        if full != self.fault_disk_full:
            self.fault_disk_full = full
            if full:  # the fault is "full, with overwrite switched off": turning overwrite on is the cure
                self.overwrite = False
            changed = True
        return changed

    def format_disk(self, slot: int) -> bool:
        """Format a disk: its footage is gone. False if there is no such disk or it has failed."""
        disk = next((d for d in self.disks if d.slot == slot), None)
        if disk is None or disk.status == "error":
            return False
        disk.status, disk.formatted, disk.free_bytes = "ok", True, disk.capacity_bytes
        self._reconcile()
        return True

    def capacity_bytes(self) -> int:
        return sum(d.capacity_bytes for d in self.disks if d.usable)

    def free_bytes(self) -> int:
        return 0 if self.fault_disk_full else sum(d.free_bytes for d in self.disks if d.usable)

    def _used_on_disks(self) -> int:
        return sum(d.capacity_bytes - d.free_bytes for d in self.disks if d.usable)

    def _reconcile(self) -> None:
        """Footage on disks that failed or were formatted is lost: drop the oldest to match."""
        recorded = sum(s.bytes for s in self.recordings.values())
        lost = recorded - self._used_on_disks()
        if lost > 0:
            self._drop_oldest(lost)

    # ----------------------------------------------------------- recording

    def tick(
        self,
        now: float,
        dt: float,
        channel_online: Callable[[int], bool],
        channel_bitrate_kbps: Callable[[int], int],
        faults: Faults | None = None,
    ) -> None:
        """Record ``dt`` seconds ending at ``now`` on every enabled 24/7 channel whose camera is online.

        Full disks with overwrite on move every channel's oldest footage forward (oldest first,
        across channels); with overwrite off recording stops (the disk_full fault: full, overwrite
        switched off; switched back on, the recorder records over its oldest footage again).
        O(channels), plus a bounded bisection when overwriting.
        """
        if faults is not None:
            self.apply_faults(faults)
        self._reconcile()
        wants: dict[int, int] = {}
        for n, ch in self.channels.items():
            ch.online = bool(ch.enabled and channel_online(n))
            ch.recording = False
            if ch.online and self.records_continuously(n) and dt > 0:
                wants[n] = int(channel_bitrate_kbps(n) * 125 * dt)  # kbit/s -> bytes
        total = sum(wants.values())
        if not wants or total <= 0:
            return
        free = self.free_bytes()
        if total > free and self.overwrite:
            self._drop_oldest(min(total - free, sum(s.bytes for s in self.recordings.values())), from_disks=True)
            free = total if self.fault_disk_full else self.free_bytes()
        scale = 1.0 if total <= free else free / total
        for n, want in wants.items():
            written = int(want * scale)
            if written <= 0:
                continue
            span = self.recordings.setdefault(n, RecordingSpan())
            began = now - dt * scale
            if span.start is None or span.bytes == 0:
                span.start = began
            elif span.end is not None:
                span.note_gap(span.end, began)
            span.end = now
            span.bytes += written
            self._write_to_disks(written)
            self.channels[n].recording = scale >= 1.0

    def _write_to_disks(self, amount: int) -> None:
        for d in self.disks:
            if amount <= 0:
                return
            if d.usable:
                put = min(d.free_bytes, amount)
                d.free_bytes -= put
                amount -= put

    def _drop_oldest(self, amount: int, *, from_disks: bool = False) -> None:
        """Delete ``amount`` bytes of the oldest footage across channels (a water line in time)."""
        spans = [s for s in self.recordings.values() if s.bytes > 0 and s.start is not None and s.end is not None]
        if amount <= 0 or not spans:
            return

        def rate(s: RecordingSpan) -> float:
            return s.bytes / max(float(s.end or 0) - float(s.start or 0), 1e-6)

        def freed(cut: float) -> float:
            return sum(min(s.bytes, rate(s) * (cut - float(s.start or 0))) for s in spans if cut > float(s.start or 0))

        lo = min(float(s.start or 0) for s in spans)
        hi = max(float(s.end or 0) for s in spans)
        for _ in range(48):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if freed(mid) < amount else (lo, mid)
        dropped = 0
        for s in spans:
            start = float(s.start or 0)
            if hi <= start:
                continue
            gone = min(s.bytes, int(rate(s) * (hi - start)) + 1)
            s.bytes -= gone
            dropped += gone
            s.start = hi if s.bytes > 0 else None
            if s.bytes == 0:
                s.end = None
            s.trim()
        if from_disks:
            for d in self.disks:
                if dropped <= 0:
                    break
                if d.usable:
                    give = min(d.capacity_bytes - d.free_bytes, dropped)
                    d.free_bytes += give
                    dropped -= give
