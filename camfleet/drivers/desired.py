"""The settings camfleet manages on a camera, built from the inventory, and the diff between two of them.

Why a vendor-neutral model: the Ansible module, the audit (check mode) and the drivers compare
"what the inventory wants" with "what the device has" in one vocabulary; each driver maps it to
its vendor's words (ISAPI XML, Dahua ``key=value``) and fits it to what the device can hold
(:meth:`camfleet.drivers.base.ConfigurableCamera.fit`).

Mapping from the inventory (:func:`desired_camera_config`):

- ``device_name`` = the camera id (``cam-05-t02``): what the NVR, the web UI and discovery show.
- ``osd_text`` = the channel name burned into the video: the camera's landmark, else its street,
  folded to ASCII (``Trước chợ Minh Khai`` → ``Truoc cho Minh Khai``) and cut to 32 characters.
  Why ASCII: the OSD fonts of the cameras in the field render few Vietnamese letters, and
  Hikvision limits channel names to 32 characters [?, vendor UIs]; footage handed to the police
  must stay readable.
- ``timezone`` = the town's IANA zone as a fixed offset label, ``Asia/Ho_Chi_Minh`` →
  ``UTC+07:00`` (Viet Nam has no daylight saving). Drivers write it as Hikvision's POSIX string
  ``CST-7:00:00`` (sign inverted, device-apis.md §1.5) and Dahua's zone index ``NTP.TimeZone=12``
  (GMT+07:00 in Dahua's table [M]). Zones with daylight saving are refused (ValueError).
- ``ntp_servers`` = ``town.ntp_servers`` in order (devices keep only the first; see ``fit``).
- ``main``/``sub`` = the camera's stream profiles; ``sub`` None leaves the sub stream alone.
- ``services``: UPnP, P2P cloud, telnet and SSH all off (device-apis.md §6.4, §6.5).
- ``masks`` = ``privacy_masks`` (0..1 of the frame, origin top left).

Nothing here is secret; :func:`diff` also drops any key that looks like one.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.inventory import load; from camfleet.drivers.desired import *; \\
        f = load('inventory/ngoc-lac').fleet; print(desired_camera_config(f, f.cameras['cam-05-t01']))"
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from camfleet.inventory.fleet import Fleet
    from camfleet.model import Camera, StreamProfile

OSD_MAX = 32
MASK_TOLERANCE = 0.002  # device grids (704x576, 8192 steps) round a mask by less than this
SECRET_WORDS = ("password", "secret", "token", "verificationcode", "key")


@dataclass(frozen=True)
class StreamSettings:
    """One encoder stream: codec ``h264``/``h265``/``mjpeg``, kbit/s, ``cbr``/``vbr``, GOP in frames."""

    codec: str
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    bitrate_mode: str
    gop: int

    @classmethod
    def from_profile(cls, profile: StreamProfile) -> StreamSettings:
        return cls(
            codec=str(profile.codec.value),
            width=profile.width,
            height=profile.height,
            fps=profile.fps,
            bitrate_kbps=profile.bitrate_kbps,
            bitrate_mode=profile.bitrate_mode,
            gop=profile.gop,
        )


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


# --------------------------------------------------------------------------- from the inventory


def utc_offset_label(iana: str) -> str:
    """``Asia/Ho_Chi_Minh`` → ``UTC+07:00``; ValueError for zones with daylight saving."""
    zone = zoneinfo.ZoneInfo(iana)
    year = dt.datetime.now(dt.UTC).year
    offsets = {dt.datetime(year, month, 15, tzinfo=zone).utcoffset() for month in (1, 7)}
    if len(offsets) != 1:
        raise ValueError(f"time zone {iana} has daylight saving; camfleet writes fixed offsets only")
    offset = offsets.pop() or dt.timedelta(0)
    return offset_label(int(offset.total_seconds()))


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


def ascii_text(text: str, limit: int = OSD_MAX) -> str:
    """Fold Vietnamese to plain ASCII (``Đường`` → ``Duong``), collapse spaces, cut to ``limit``."""
    text = text.replace("Đ", "D").replace("đ", "d")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(folded.split())[:limit].rstrip()


def osd_text_for(camera: Camera) -> str:
    return ascii_text(camera.location.landmark or camera.location.street)


def desired_camera_config(fleet: Fleet, camera: Camera) -> DesiredConfig:
    """What ``camera`` should have, from the inventory; ValueError if it has no stream profile."""
    if camera.stream is None:
        raise ValueError(f"{camera.id}: no stream profiles (stream.main) in the inventory; nothing to configure")
    sub = fleet.profiles[camera.stream.sub] if camera.stream.sub else None
    return DesiredConfig(
        device_name=camera.id,
        timezone=utc_offset_label(fleet.town.timezone),
        ntp_servers=tuple(fleet.town.ntp_servers),
        osd_text=osd_text_for(camera),
        main=StreamSettings.from_profile(fleet.profiles[camera.stream.main]),
        sub=StreamSettings.from_profile(sub) if sub is not None else None,
        services=ServiceSwitches(),
        masks=masks_of(camera.privacy_masks),
    )


def masks_of(masks: Iterable[Any]) -> tuple[Mask, ...]:
    return tuple(Mask(m.x, m.y, m.w, m.h) for m in masks)
