"""Device drivers: one class per device family behind one interface (:mod:`camfleet.drivers.base`).

This is the only package that speaks a device protocol (ISAPI, Dahua CGI, RouterOS' console,
RTSP URL paths). It maps each driver name of the inventory (:data:`camfleet.model.KNOWN_DRIVERS`)
to its class the way netmiko's ``ssh_dispatcher`` maps a ``device_type``, and connects a driver to
a device of a loaded town: the address comes from :meth:`camfleet.inventory.Fleet.endpoint`
(the simulator's loopback one when an overlay applies), never from a caller.

    .venv/bin/python -c "from camfleet.inventory import load; from camfleet.drivers import stream_url; \\
        print(stream_url(load('inventory/ngoc-lac').fleet, 'cam-05-t02', sub=True))"
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from camfleet.inventory.fleet import Fleet
from camfleet.model import Camera, Recorder, driver_name

if TYPE_CHECKING:
    from camfleet.drivers.base import Driver
    from camfleet.drivers.routeros.driver import RouterOsDriver
    from camfleet.drivers.routeros.hostkeys import Mode as HostKeyMode

#: Driver name -> "module:Class". Imported on first use, deliberately: the CLI's inventory commands
#: and the exporter's start need none of httpx, netmiko or the crypto the drivers pull in.
DRIVER_CLASSES: dict[str, str] = {
    "hikvision_isapi": "camfleet.drivers.hikvision:HikvisionCamera",
    "hikvision_isapi_nvr": "camfleet.drivers.hikvision:HikvisionNvr",
    "dahua_cgi_nvr": "camfleet.drivers.dahua:DahuaNvr",
    "dahua_cgi": "camfleet.drivers.dahua:DahuaCamera",
    "onvif": "camfleet.drivers.onvif:OnvifCamera",
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
        if name != "onvif":  # zeep, lxml and aiohttp (≈0.35 s): only a shared camera's task pays for them
            driver_class(name)
    for module in ("httpcore", "camfleet.drivers.routeros", "netmiko"):  # httpx imports httpcore on its first client
        importlib.import_module(module)


def driver_for(entry: Camera | Recorder) -> type[Driver]:
    """The driver class for an inventory camera or recorder; ValueError when camfleet has none."""
    return driver_class(driver_name(entry))


def has_driver(entry: Camera | Recorder) -> bool:
    try:
        driver_name(entry)
    except ValueError:
        return False
    return True


def open_driver(fleet: Fleet, device_id: str, username: str, password: str, *, timeout: float = 5.0) -> Driver:
    """A driver for a camera or recorder of ``fleet``, logged in as ``username`` at the device's endpoint.

    ValueError when camfleet has no driver for it; :class:`~camfleet.inventory.fleet.EndpointError`
    when it must not be reached (no address, or not in the simulator's overlay). Nothing is sent yet.
    """
    entry = fleet.device(device_id)
    cls = driver_for(entry)
    where = fleet.endpoint(device_id)
    port = where.http_port if where.http_port is not None else 80
    driver = cls(device_id, where.host, port, username, password, timeout=timeout)
    if isinstance(entry, Recorder) and hasattr(driver, "time_basis"):
        driver.time_basis = entry.footage_time_basis
    return driver


def open_router(
    fleet: Fleet,
    router_id: str,
    username: str,
    password: str,
    *,
    timeout: float = 10.0,
    host_keys: HostKeyMode | None = None,
) -> RouterOsDriver:
    """The RouterOS driver for a link router of ``fleet`` (nothing is sent before the first command).

    Its SSH host key is checked against the town's pinned keys (:mod:`camfleet.drivers.routeros.hostkeys`):
    ``host_keys`` says whether an unknown one is pinned at first contact or a changed one accepted
    (default: only check).
    """
    from camfleet.drivers.routeros.driver import RouterOsDriver  # netmiko, imported on first use (see DRIVER_CLASSES)
    from camfleet.drivers.routeros.hostkeys import Mode, Pin  # with the driver it serves

    router = fleet.link_routers.get(router_id)
    if router is None:
        raise KeyError(f"{router_id}: no link router with this id in the inventory")
    if router.device_type != RouterOsDriver.device_type:
        raise ValueError(f"{router_id}: device_type {router.device_type} has no driver in camfleet")
    where = fleet.endpoint(router_id)
    return RouterOsDriver(
        router_id,
        where.host,
        port=where.ssh_port or 22,
        username=username,
        password=password,
        host_key=Pin.for_fleet(fleet, router_id, host_keys or Mode.CHECK),
        conn_timeout=timeout,
    )


#: RTSP paths (main, sub) of a vendor's live streams; Hikvision's scheme is also EZVIZ's and most ONVIF
#: cameras' (device-apis.md §4).
STREAM_PATHS: dict[str, tuple[str, str]] = {
    "dahua": ("/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=1"),
    "kbvision": ("/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=1"),
    "imou": ("/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=1"),
    "tplink": ("/stream1", "/stream2"),
}
DEFAULT_STREAM_PATHS = ("/Streaming/Channels/101", "/Streaming/Channels/102")


def live_url(vendor: str, host: str, rtsp_port: int = 554, *, sub: bool = False) -> str:
    """A live RTSP URL by vendor, without credentials (probes pass them apart from the URL)."""
    paths = STREAM_PATHS.get(str(vendor), DEFAULT_STREAM_PATHS)
    host_part = f"[{host}]" if ":" in host else host
    return f"rtsp://{host_part}:{rtsp_port}{paths[1 if sub else 0]}"


#: What a shared camera (the ``onvif`` driver) answers to anything that would change it.
NOT_MANAGED = "không quản lý cấu hình / configuration not managed (ONVIF, shared camera)"


def speaks_onvif_only(entry: Camera | Recorder) -> bool:
    """Whether camfleet reads the device through ONVIF alone (a shared consumer camera): its stream URL
    comes from the camera (:func:`onvif_stream_url`), not from a vendor's fixed paths."""
    return isinstance(entry, Camera) and has_driver(entry) and driver_name(entry) == "onvif"


def onvif_stream_url(
    fleet: Fleet, camera_id: str, username: str, password: str, *, sub: bool = False, timeout: float = 5.0
) -> str:
    """The live RTSP URL of an ONVIF camera of ``fleet``: the path and query its ``GetStreamUri`` gives,
    at the camera's endpoint (the address it names for itself is never used). Driver errors as raised."""
    with open_driver(fleet, camera_id, username, password, timeout=timeout) as driver:
        path = driver.stream_path(sub=sub)  # type: ignore[attr-defined]  # OnvifCamera (speaks_onvif_only)
    where = fleet.endpoint(camera_id)
    host_part = f"[{where.host}]" if ":" in where.host else where.host
    return f"rtsp://{host_part}:{where.rtsp_port or 554}{path}"


def stream_url(fleet: Fleet, camera_id: str, *, sub: bool = False) -> str:
    """The live RTSP URL of a camera of ``fleet`` at its endpoint: every caller builds stream URLs here."""
    camera = fleet.cameras[camera_id]
    vendor = camera.device.vendor.value if camera.device is not None else "other"
    where = fleet.endpoint(camera_id)
    return live_url(vendor, where.host, where.rtsp_port or 554, sub=sub)
