"""The settings camfleet manages on a camera, in one vendor-neutral vocabulary, and the diff between two.

Why a vendor-neutral model: the Ansible module, the audit (check mode) and the drivers compare
"what the inventory wants" (built by :mod:`camfleet.config.camera`) with "what the device has"
in one vocabulary; each driver maps it to its vendor's words (ISAPI XML, Dahua ``key=value``)
and fits it to what the device can hold (:meth:`camfleet.drivers.base.ConfigurableCamera.fit`).

Nothing here is secret; :func:`diff` also drops any key that looks like one.

    .venv/bin/python -c "from camfleet.drivers.desired import *; print(offset_label(25200), label_offset('UTC+07:00'))"
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

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
