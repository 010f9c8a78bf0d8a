"""Device drivers: one class per device family behind one interface (:mod:`camfleet.drivers.base`).

This module names the drivers, so the inventory can say which one each device needs and an
unknown override is caught at validation, and maps each name to its class the way netmiko's
``ssh_dispatcher`` maps a ``device_type`` (classes are imported on first use, so loading the
inventory does not import httpx).

    .venv/bin/python -c "from camfleet.drivers import driver_class; print(driver_class('dahua_cgi'))"
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from camfleet.model import Vendor

if TYPE_CHECKING:
    from camfleet.drivers.base import Driver
    from camfleet.model import Camera, Recorder

#: Camera driver per vendor; vendors without one are cameras camfleet cannot administer.
CAMERA_DRIVERS: dict[Vendor, str] = {
    Vendor.hikvision: "hikvision_isapi",
    Vendor.dahua: "dahua_cgi",
    Vendor.kbvision: "dahua_cgi",  # KBVision cameras are Dahua OEM builds
}
RECORDER_DRIVERS: dict[Vendor, str] = {
    Vendor.hikvision: "hikvision_isapi_nvr",
}
KNOWN_DRIVERS = frozenset(CAMERA_DRIVERS.values()) | frozenset(RECORDER_DRIVERS.values())

#: Driver name -> "module:Class" (imported on first use).
DRIVER_CLASSES: dict[str, str] = {
    "hikvision_isapi": "camfleet.drivers.hikvision:HikvisionCamera",
    "hikvision_isapi_nvr": "camfleet.drivers.hikvision:HikvisionNvr",
    "dahua_cgi": "camfleet.drivers.dahua:DahuaCamera",
}


def driver_class(name: str) -> type[Driver]:
    """The driver class for a driver name; ValueError naming the known ones if there is none."""
    target = DRIVER_CLASSES.get(name)
    if target is None:
        raise ValueError(f"unknown driver {name!r}; known drivers: {', '.join(sorted(DRIVER_CLASSES))}")
    module, _, cls = target.partition(":")
    found: type[Driver] = getattr(importlib.import_module(module), cls)
    return found


def preload() -> None:
    """Import every driver now, httpx and netmiko with them.

    ``ansible-playbook`` calls this once, through the inventory plugin, so each worker it forks to
    run a camfleet module inherits the imports instead of paying them again (≈0.2 CPU-s of a
    one-device task; see the collection's ``plugin_utils/inprocess.py``).
    """
    for name in DRIVER_CLASSES:
        driver_class(name)
    for module in ("httpcore", "camfleet.drivers.routeros"):  # httpx imports httpcore on its first client
        importlib.import_module(module)


def driver_name_for(entry: Camera | Recorder) -> str:
    """The driver an inventory camera or recorder needs: its ``device.driver`` override, else its vendor's."""
    from camfleet.model import Camera

    if isinstance(entry, Camera):
        if entry.device is None:
            raise ValueError(f"{entry.id}: no device in the inventory; nothing to drive")
        name = entry.device.driver or CAMERA_DRIVERS.get(entry.device.vendor)
        vendor = entry.device.vendor
    else:
        name, vendor = RECORDER_DRIVERS.get(entry.vendor), entry.vendor
    if name is None:
        raise ValueError(f"{entry.id}: camfleet has no driver for {vendor.value} devices")
    return name


def driver_for(entry: Camera | Recorder) -> type[Driver]:
    """The driver class for an inventory camera or recorder (build it with ``cls.from_inventory``)."""
    return driver_class(driver_name_for(entry))


#: RTSP paths (main, sub) of a vendor's live streams; Hikvision's scheme is also EZVIZ's and most ONVIF
#: cameras'. Drivers, probes and the exporter all build stream URLs here (device-apis.md §4).
STREAM_PATHS: dict[str, tuple[str, str]] = {
    "dahua": ("/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=1"),
    "kbvision": ("/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=1"),
    "imou": ("/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=1"),
    "tplink": ("/stream1", "/stream2"),
}
DEFAULT_STREAM_PATHS = ("/Streaming/Channels/101", "/Streaming/Channels/102")


def live_url(vendor: str, host: str, rtsp_port: int = 554, *, sub: bool = False) -> str:
    """A camera's live RTSP URL, without credentials (probes pass them apart from the URL)."""
    paths = STREAM_PATHS.get(str(vendor), DEFAULT_STREAM_PATHS)
    host_part = f"[{host}]" if ":" in host else host
    return f"rtsp://{host_part}:{rtsp_port}{paths[1 if sub else 0]}"
