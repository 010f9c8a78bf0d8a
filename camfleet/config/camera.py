"""A camera's baseline, from the inventory: the settings :mod:`camfleet.drivers` write and audit.

Mapping from the inventory (:func:`desired_camera_config`):

- ``device_name`` = the camera id (``cam-05-t02``): what the NVR, the web UI and discovery show.
- ``osd_text`` = the channel name burned into the video: the camera's landmark, else its street,
  folded to ASCII (``Trước chợ Minh Khai`` → ``Truoc cho Minh Khai``) and cut to 32 characters.
  Why ASCII: the OSD fonts of the cameras in the field render few Vietnamese letters, and
  Hikvision limits channel names to 32 characters [?, vendor UIs]; footage handed to the police
  must stay readable.
- ``timezone`` = the town's IANA zone as a label: ``Asia/Ho_Chi_Minh`` → ``UTC+07:00`` (Viet Nam has
  no daylight saving); a zone with daylight saving carries its rule, from the zone file's POSIX
  footer: ``America/New_York`` → ``UTC-05:00 DST UTC-04:00 M3.2.0/02:00:00,M11.1.0/02:00:00``
  (:class:`camfleet.drivers.desired.PosixZone`). Drivers write it as Hikvision's POSIX string
  ``CST-7:00:00`` / ``CST+5:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00`` (docs/reference/devices.md §3)
  and Dahua's zone index ``NTP.TimeZone=12`` (GMT+07:00 in Dahua's table [M]; Dahua refuses DST labels).
- ``ntp_servers`` = ``town.ntp_servers`` in order (devices keep only the first; see ``fit``).
- ``main``/``sub`` = the camera's stream profiles; ``sub`` None leaves the sub stream alone.
- ``services``: UPnP, P2P cloud, telnet and SSH all off (device-apis.md §6.4, §6.5).
- ``masks`` = ``privacy_masks`` (0..1 of the frame, origin top left).
- ``main``/``sub`` also carry H.264+/H.265+ (``smart_codec``) and its ``average_kbps`` from the profile.
- ``osd_time`` = the town's ``osd_clock``: the date/time overlay on, ``YYYY-MM-DD`` (no day/month
  ambiguity in a statement), 24-hour, no weekday, at the top left (Hikvision's factory place) unless
  the town sets otherwise. It is evidence: footage whose picture carries no time proves little, and
  a technician can switch it off in the web UI without anyone noticing but this audit.

Reproduce by hand::

    .venv/bin/python -c "from camfleet.inventory import load; from camfleet.config.camera import *; \\
        f = load('inventory/ngoc-lac').fleet; print(desired_camera_config(f, f.cameras['cam-05-t01']))"
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import zoneinfo
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from camfleet.drivers.desired import (
    DesiredConfig,
    Mask,
    OsdTime,
    ServiceSwitches,
    StreamSettings,
    offset_label,
    parse_posix_tz,
)
from camfleet.inventory.fleet import Fleet
from camfleet.model import Camera, OsdClock, StreamProfile

OSD_MAX = 32


def stream_settings(profile: StreamProfile) -> StreamSettings:
    """An inventory stream profile as the encoder settings drivers compare."""
    return StreamSettings(
        codec=str(profile.codec.value),
        width=profile.width,
        height=profile.height,
        fps=profile.fps,
        bitrate_kbps=profile.bitrate_kbps,
        bitrate_mode=profile.bitrate_mode,
        gop=profile.gop,
        smart_codec=profile.smart_codec,
        average_kbps=profile.average_kbps if profile.smart_codec else None,
    )


def utc_offset_label(iana: str) -> str:
    """``Asia/Ho_Chi_Minh`` → ``UTC+07:00``; a zone with daylight saving → its full label
    (``UTC+01:00 DST UTC+02:00 M3.5.0/02:00:00,M10.5.0/03:00:00``); ValueError where the zone's rule
    cannot be written as a POSIX TZ string."""
    zone = zoneinfo.ZoneInfo(iana)
    year = dt.datetime.now(dt.UTC).year
    offsets = {dt.datetime(year, month, 15, tzinfo=zone).utcoffset() for month in (1, 7)}
    if len(offsets) == 1:
        offset = offsets.pop() or dt.timedelta(0)
        return offset_label(int(offset.total_seconds()))
    footer = posix_footer(iana)
    try:
        posix = parse_posix_tz(footer or "")
    except ValueError:
        raise ValueError(f"time zone {iana} has daylight saving but no POSIX rule camfleet can write") from None
    return posix.label()


def posix_footer(iana: str) -> str | None:
    """The POSIX TZ string at the end of the zone's TZif (version 2+) file, where the system keeps one."""
    for root in zoneinfo.TZPATH:
        path = Path(root) / iana
        if path.is_file():
            lines = path.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)
            return lines[-1].decode("ascii", "replace").strip() or None if len(lines) == 2 else None
    try:
        data = resources.files("tzdata.zoneinfo").joinpath(iana).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return None
    lines = data.rstrip(b"\n").rsplit(b"\n", 1)
    return lines[-1].decode("ascii", "replace").strip() or None if len(lines) == 2 else None


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
        main=stream_settings(fleet.profiles[camera.stream.main]),
        sub=stream_settings(sub) if sub is not None else None,
        services=ServiceSwitches(),
        masks=masks_of(camera.privacy_masks),
        osd_time=osd_time_of(fleet.town.osd_clock),
    )


def osd_time_of(clock: OsdClock) -> OsdTime:
    """The town's date/time overlay policy as the setting drivers compare."""
    return OsdTime(clock.enabled, clock.date_format, clock.time_format, clock.show_week, clock.x, clock.y)


def masks_of(masks: Iterable[Any]) -> tuple[Mask, ...]:
    return tuple(Mask(m.x, m.y, m.w, m.h) for m in masks)
