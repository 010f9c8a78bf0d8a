"""The settings camfleet manages on a camera, in one vendor-neutral vocabulary, and the diff between two.

Why a vendor-neutral model: the Ansible module, the audit (check mode) and the drivers compare
"what the inventory wants" (built by :mod:`camfleet.config.camera`) with "what the device has"
in one vocabulary; each driver maps it to its vendor's words (ISAPI XML, Dahua ``key=value``)
and fits it to what the device can hold (:meth:`camfleet.drivers.base.ConfigurableCamera.fit`).

Nothing here is secret; :func:`diff` also drops any key that looks like one.

    .venv/bin/python -c "from camfleet.drivers.desired import *; print(offset_label(25200), label_offset('UTC+07:00'))"
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

MASK_TOLERANCE = 0.002  # device grids (704x576, 8192 steps) round a mask by less than this
SECRET_WORDS = ("password", "secret", "token", "verificationcode", "key")


@dataclass(frozen=True)
class StreamSettings:
    """One encoder stream: codec ``h264``/``h265``/``mjpeg``, kbit/s, ``cbr``/``vbr``, GOP in frames.

    ``smart_codec`` is H.264+/H.265+ (Hikvision ``SmartCodec``, Dahua ``SmartEncode``); with it on,
    ``average_kbps`` is the average the encoder keeps (Hikvision ``vbrAverageCap``) while
    ``bitrate_kbps`` stays the cap. ``average_kbps`` is None with it off: a device keeps a value there
    that means nothing then (docs/reference/devices.md §6).
    """

    codec: str
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    bitrate_mode: str
    gop: int
    smart_codec: bool = False
    average_kbps: int | None = None


@dataclass(frozen=True, eq=False)
class Mask:
    """A privacy-mask rectangle in 0..1 of the frame. Equal within :data:`MASK_TOLERANCE`,
    because each device stores it on its own grid.
    """

    x: float
    y: float
    w: float
    h: float

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mask):
            return NotImplemented
        return all(abs(a - b) <= MASK_TOLERANCE for a, b in zip(self.edges(), other.edges(), strict=True))

    __hash__ = None  # type: ignore[assignment]  # equality with a tolerance cannot hash

    def edges(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.x + self.w, self.y + self.h

    def as_dict(self) -> dict[str, float]:
        return {"x": round(self.x, 4), "y": round(self.y, 4), "w": round(self.w, 4), "h": round(self.h, 4)}


#: Date orders of the date/time overlay, in one vocabulary for every driver (a device's own word
#: for one outside it is read as that word, so it differs and is rewritten).
DATE_FORMATS: tuple[str, ...] = ("YYYY-MM-DD", "DD-MM-YYYY", "MM-DD-YYYY")
TIME_FORMATS: tuple[str, ...] = ("24h", "12h")


@dataclass(frozen=True)
class OsdTime:
    """The date/time overlay burnt into the video: on, its format, where (``x``, ``y``: its top-left
    corner in 0..1 of the frame, origin top left). Footage handed over as evidence carries its time
    in the picture; a camera with it switched off records pictures that say nothing of when.
    """

    enabled: bool = True
    date_format: str = "YYYY-MM-DD"
    time_format: str = "24h"
    show_week: bool = False
    x: float = 0.0
    y: float = 0.0556

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["x"], out["y"] = round(self.x, 4), round(self.y, 4)
        return out


@dataclass(frozen=True)
class ServiceSwitches:
    """Network services that widen the attack surface; the fleet policy wants all of them off."""

    upnp: bool = False
    p2p: bool = False
    telnet: bool = False
    ssh: bool = False


@dataclass(frozen=True)
class DesiredConfig:
    """Every setting camfleet manages on a camera, as the inventory wants it or as a device has it."""

    device_name: str
    timezone: str  # "UTC+07:00"
    ntp_servers: tuple[str, ...]  # empty: NTP off
    osd_text: str
    main: StreamSettings
    sub: StreamSettings | None = None
    services: ServiceSwitches = field(default_factory=ServiceSwitches)
    masks: tuple[Mask, ...] = ()
    osd_time: OsdTime | None = None  # None: not managed (or, read from a device, not there)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (Ansible's ``diff.before``/``diff.after``)."""
        return {
            "device_name": self.device_name,
            "timezone": self.timezone,
            "ntp_servers": list(self.ntp_servers),
            "osd_text": self.osd_text,
            "main": dataclasses.asdict(self.main),
            "sub": dataclasses.asdict(self.sub) if self.sub is not None else None,
            "services": dataclasses.asdict(self.services),
            "masks": [m.as_dict() for m in self.masks],
            "osd_time": self.osd_time.as_dict() if self.osd_time is not None else None,
        }


#: The fields of :class:`DesiredConfig`, in the order drivers write them.
FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(DesiredConfig))


@dataclass(frozen=True)
class ConfigDiff:
    """What differs: the fields (``changed``), both sides as dicts, and one readable line per value."""

    changed: tuple[str, ...]
    before: dict[str, Any]
    after: dict[str, Any]
    lines: tuple[str, ...]


def diff(before: DesiredConfig, after: DesiredConfig) -> ConfigDiff:
    """Compare two configs field by field; lines read ``main.fps: 25 -> 12``.

    A field whose desired side is None (no sub profile) is not managed and never differs.
    """
    changed = tuple(
        name for name in FIELDS if getattr(after, name) is not None and getattr(before, name) != getattr(after, name)
    )
    b, a = _public(before.as_dict()), _public(after.as_dict())
    lines: list[str] = []
    for name in changed:
        lines += _lines(name, b.get(name), a.get(name))
    return ConfigDiff(changed, b, a, tuple(lines))


def _public(data: dict[str, Any]) -> dict[str, Any]:
    """Drop anything named like a secret, at any depth."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if any(word in key.lower() for word in SECRET_WORDS):
            continue
        out[key] = _public(value) if isinstance(value, dict) else value
    return out


def _lines(path: str, before: Any, after: Any) -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in after:
            if before.get(key) != after[key]:
                out += _lines(f"{path}.{key}", before.get(key), after[key])
        return out
    return [f"{path}: {_show(before)} -> {_show(after)}"]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    return "none" if value is None else str(value)


# --------------------------------------------------------------------------- time-zone labels


def offset_label(seconds_east: int) -> str:
    """+25200 → ``UTC+07:00``."""
    sign = "+" if seconds_east >= 0 else "-"
    minutes = abs(seconds_east) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def label_offset(label: str) -> int | None:
    """``UTC+07:00`` → +25200 (None if ``label`` is not an offset label)."""
    if not (label.startswith("UTC") and len(label) == 9 and label[3] in "+-" and label[6] == ":"):
        return None
    try:
        seconds = int(label[4:6]) * 3600 + int(label[7:9]) * 60
    except ValueError:
        return None
    return seconds if label[3] == "+" else -seconds


# --------------------------------------------------------------------------- POSIX TZ strings (daylight saving)
#
# The POSIX ``TZ`` form (IEEE 1003.1 §8.3): ``std offset [dst [offset] [,start[/time],end[/time]]]``.
# Offsets are hours west of UTC (``CET-1`` is UTC+1), ``[+-]hh[:mm[:ss]]``; names are letters or
# ``<...>``; a rule is ``Mm.w.d`` (month, week 1-5 with 5 the last, weekday 0 = Sunday), ``Jn``
# (1..365, 29 February never counted) or ``n`` (0..365, counted); ``/time`` defaults to 02:00:00.
# A zone is labelled ``UTC+07:00`` when it has no daylight saving (as before) and
# ``UTC-05:00 DST UTC-04:00 M3.2.0/02:00:00,M11.1.0/02:00:00`` when it has: one vocabulary the
# inventory side and every driver produce, names left out (devices rename zones at will).

_NAME = r"(?:<[^>]+>|[A-Za-z]{3,})"
_OFFSET = r"[+-]?\d{1,3}(?::\d{1,2}){0,2}"
_RULE = r"(?:M\d{1,2}\.\d\.\d|J\d{1,3}|\d{1,3})(?:/[+-]?\d{1,3}(?::\d{1,2}){0,2})?"
_TZ = re.compile(
    rf"(?P<std>{_NAME})(?P<stdoff>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dstoff>{_OFFSET})?(?:,(?P<start>{_RULE}),(?P<end>{_RULE}))?)?"
)


def _hms(text: str) -> int:
    """``[+-]h[:mm[:ss]]`` → seconds (sign kept)."""
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _hms_text(seconds: int, *, signed: bool = False) -> str:
    sign = "-" if seconds < 0 else ("+" if signed else "")
    s = abs(seconds)
    return f"{sign}{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass(frozen=True)
class DstRule:
    """One POSIX transition: ``Mm.w.d`` (``kind`` "M"), ``Jn`` ("J") or ``n`` ("n"), at local ``time_s``."""

    kind: str
    month: int = 0
    week: int = 0
    weekday: int = 0
    day: int = 0
    time_s: int = 7200

    @classmethod
    def parse(cls, text: str) -> DstRule:
        rule, _, at = text.partition("/")
        time_s = _hms(at) if at else 7200
        if rule.startswith("M"):
            month, week, weekday = (int(p) for p in rule[1:].split("."))
            if not (1 <= month <= 12 and 1 <= week <= 5 and 0 <= weekday <= 6):
                raise ValueError(f"POSIX rule {text!r} is out of range")
            return cls("M", month=month, week=week, weekday=weekday, time_s=time_s)
        if rule.startswith("J"):
            day = int(rule[1:])
            if not 1 <= day <= 365:
                raise ValueError(f"POSIX rule {text!r} is out of range")
            return cls("J", day=day, time_s=time_s)
        day = int(rule)
        if not 0 <= day <= 365:
            raise ValueError(f"POSIX rule {text!r} is out of range")
        return cls("n", day=day, time_s=time_s)

    def text(self) -> str:
        if self.kind == "M":
            rule = f"M{self.month}.{self.week}.{self.weekday}"
        else:
            rule = f"J{self.day}" if self.kind == "J" else str(self.day)
        return f"{rule}/{_hms_text(self.time_s)}"

    def date(self, year: int) -> dt.date:
        if self.kind == "M":
            first = dt.date(year, self.month, 1)
            day = 1 + (self.weekday - (first.isoweekday() % 7)) % 7 + 7 * (self.week - 1)
            last = (dt.date(year + self.month // 12, self.month % 12 + 1, 1) - dt.timedelta(days=1)).day
            while day > last:  # week 5 means "the last"
                day -= 7
            return dt.date(year, self.month, day)
        if self.kind == "J":
            leap = calendar.isleap(year) and self.day >= 60
            return dt.date(year, 1, 1) + dt.timedelta(days=self.day - 1 + leap)
        return dt.date(year, 1, 1) + dt.timedelta(days=self.day)

    def local(self, year: int) -> dt.datetime:
        """The transition's wall-clock moment in ``year`` (naive)."""
        return dt.datetime.combine(self.date(year), dt.time()) + dt.timedelta(seconds=self.time_s)


@dataclass(frozen=True)
class PosixZone:
    """A time zone as POSIX ``TZ`` describes it; offsets in seconds **east** of UTC."""

    std_offset_s: int
    dst_offset_s: int | None = None
    start: DstRule | None = None
    end: DstRule | None = None
    std_name: str = "STD"
    dst_name: str = "DST"

    @property
    def has_dst(self) -> bool:
        return self.dst_offset_s is not None and self.start is not None and self.end is not None

    def in_dst(self, when: dt.datetime) -> bool:
        """Whether daylight saving is in force at the aware instant ``when``."""
        if not self.has_dst:
            return False
        assert self.dst_offset_s is not None and self.start is not None and self.end is not None
        utc = when.astimezone(dt.UTC).replace(tzinfo=None)
        year = (utc + dt.timedelta(seconds=self.std_offset_s)).year
        begins = self.start.local(year) - dt.timedelta(seconds=self.std_offset_s)  # said in standard time
        ends = self.end.local(year) - dt.timedelta(seconds=self.dst_offset_s)  # said in daylight time
        if begins < ends:  # northern hemisphere
            return begins <= utc < ends
        return not ends <= utc < begins  # southern: saving spans the new year

    def utcoffset(self, when: dt.datetime) -> int:
        """Seconds east of UTC in force at the aware instant ``when``."""
        if self.in_dst(when):
            assert self.dst_offset_s is not None
            return self.dst_offset_s
        return self.std_offset_s

    def localize(self, naive: dt.datetime) -> dt.datetime:
        """A wall-clock time read in this zone, made aware (an ambiguous hour reads as standard time)."""
        std = naive.replace(tzinfo=dt.timezone(dt.timedelta(seconds=self.std_offset_s)))
        if self.has_dst and self.dst_offset_s is not None and self.in_dst(std):
            dst = naive.replace(tzinfo=dt.timezone(dt.timedelta(seconds=self.dst_offset_s)))
            if self.in_dst(dst):  # (else the hour the clock skips: read as standard time)
                return dst
        return std

    def normalized(self) -> PosixZone:
        """The same zone with its saving forward: a zone whose "daylight" time is behind its standard
        time (``Europe/Dublin``: ``IST-1GMT0,M10.5.0,M3.5.0/1``) told the other way round
        (``GMT0IST,M3.5.0/1,M10.5.0``). Each rule's time stays in the offset in force before it."""
        if not self.has_dst or self.dst_offset_s is None or self.dst_offset_s >= self.std_offset_s:
            return self
        return PosixZone(self.dst_offset_s, self.std_offset_s, self.end, self.start, self.dst_name, self.std_name)

    def label(self) -> str:
        """``UTC+07:00``, or ``UTC-05:00 DST UTC-04:00 M3.2.0/02:00:00,M11.1.0/02:00:00`` (saving forward)."""
        zone = self.normalized()
        base = offset_label(zone.std_offset_s)
        if not zone.has_dst:
            return base
        assert zone.dst_offset_s is not None and zone.start is not None and zone.end is not None
        return f"{base} DST {offset_label(zone.dst_offset_s)} {zone.start.text()},{zone.end.text()}"

    def posix(self) -> str:
        """The standard POSIX ``TZ`` string (``EST5:00:00EDT4:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00``)."""
        out = f"{_tz_name(self.std_name)}{_posix_offset(self.std_offset_s)}"
        if self.has_dst:
            assert self.dst_offset_s is not None and self.start is not None and self.end is not None
            out += f"{_tz_name(self.dst_name)}{_posix_offset(self.dst_offset_s)},{self.start.text()},{self.end.text()}"
        return out


def _tz_name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z]{3,}", name) else f"<{name}>"


def _posix_offset(seconds_east: int) -> str:
    """+25200 → ``-7``, -19800 → ``5:30``, -12345 → ``3:25:45`` (POSIX counts west)."""
    west = -seconds_east
    sign, s = ("-" if west < 0 else ""), abs(west)
    out = f"{sign}{s // 3600}"
    if s % 3600:
        out += f":{s % 3600 // 60:02d}" + (f":{s % 60:02d}" if s % 60 else "")
    return out


def parse_posix_tz(text: str, *, dst_offset: str = "posix") -> PosixZone:
    """A POSIX ``TZ`` string; ValueError if it is not one.

    ``dst_offset`` says what a number after the daylight-saving name means: ``posix`` (the standard:
    that zone's own offset, west of UTC, default one hour ahead of standard time) or ``saving``
    (Hikvision's ``CST-1:00:00DST01:00:00,...``: how far the clock moves forward, docs/reference/devices.md §3).
    A zone naming daylight saving without rules gets the United States' (POSIX leaves it to the system).
    """
    m = _TZ.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text.strip()!r} is not a POSIX TZ string")
    std = -_hms(m.group("stdoff"))
    if m.group("dst") is None:
        return PosixZone(std, std_name=m.group("std").strip("<>"))
    if m.group("dstoff") is None:
        dst = std + 3600
    elif dst_offset == "saving":
        dst = std + _hms(m.group("dstoff"))
    else:
        dst = -_hms(m.group("dstoff"))
    start = DstRule.parse(m.group("start") or "M3.2.0")
    end = DstRule.parse(m.group("end") or "M11.1.0")
    return PosixZone(std, dst, start, end, m.group("std").strip("<>"), m.group("dst").strip("<>"))


_LABEL = re.compile(r"(UTC[+-]\d\d:\d\d)(?: DST (UTC[+-]\d\d:\d\d) (\S+),(\S+))?")


def zone_from_label(label: str) -> PosixZone | None:
    """The zone a label (:meth:`PosixZone.label`) names; None if ``label`` is not one."""
    m = _LABEL.fullmatch(label.strip())
    if m is None:
        return None
    std = label_offset(m.group(1))
    if std is None:
        return None
    if m.group(2) is None:
        return PosixZone(std)
    dst = label_offset(m.group(2))
    try:
        return PosixZone(std, dst, DstRule.parse(m.group(3)), DstRule.parse(m.group(4)))
    except ValueError:
        return None
