"""The fleet as Ansible sees it: hosts, their groups and hostvars.

Kept apart from the inventory plugin so it is plain, testable Python; the
plugin only hands the result to Ansible. Hostvars carry what drivers need and
nothing personal: a household appears nowhere, not even by id.

    .venv/bin/ansible-inventory --host cam-01-t01
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from camfleet.inventory.fleet import Fleet
from camfleet.inventory.loader import load
from camfleet.model import CAMERA_DRIVERS, RECORDER_DRIVERS, Camera, CameraStatus, LinkRouter, Recorder

#: Every host runs its modules on the control node with the playbook's own Python.
CONNECTION_VARS = {
    "ansible_connection": "local",
    "ansible_python_interpreter": "{{ ansible_playbook_python }}",
}


@functools.lru_cache(maxsize=65536)
def group_name(prefix: str, value: str) -> str:
    """A valid Ansible group name: kp-01 → site_kp_01."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', value)}"


def fleet_hosts(
    folder: Path | str, *, overlay: Path | str | None = None, include_retired: bool = False, reuse: bool = False
) -> list[dict[str, Any]]:
    """Load a town (plus the overlay, if any) and describe every host as name, groups and vars.

    ``reuse``: see :func:`camfleet.inventory.load` (the inventory plugin shares its town with the
    modules that run in Ansible's forked workers).
    """
    return hosts_of(load(folder, overlay=overlay, reuse=reuse).fleet, include_retired=include_retired)


def hosts_of(fleet: Fleet, *, include_retired: bool = False) -> list[dict[str, Any]]:
    hosts = [_recorder(fleet, r) for r in fleet.recorders.values()]
    hosts += [_router(fleet, r) for r in fleet.link_routers.values()]
    hosts += [
        _camera(fleet, c) for c in fleet.cameras.values() if include_retired or c.status is not CameraStatus.retired
    ]
    return hosts


def _camera(fleet: Fleet, cam: Camera) -> dict[str, Any]:
    groups = [
        "cameras",
        f"{cam.kind.value}_cameras",
        group_name("site", cam.site),
        group_name("status", cam.status.value),
    ]
    device = cam.device
    driver = None
    if device is not None:
        groups.append(group_name("vendor", device.vendor.value))
        driver = device.driver or CAMERA_DRIVERS.get(device.vendor)
    if cam.is_managed:
        # A shared camera (ONVIF only) is watched, never configured: the playbooks that change cameras
        # target managed_cameras; snapshots.yml and the audit take shared_cameras too.
        groups.append("shared_cameras" if driver == "onvif" else "managed_cameras")
    if cam.recorder is not None:
        groups.append(group_name("recorder", cam.recorder.id))
    if cam.network.link is not None:
        groups.append(group_name("via", cam.network.link))
    hostvars: dict[str, Any] = {
        **CONNECTION_VARS,
        "camfleet_role": "camera",
        "camfleet_kind": cam.kind.value,
        "camfleet_status": cam.status.value,
        "camfleet_site": cam.site,
        "camfleet_street": cam.location.street,
        "camfleet_lat": cam.location.lat,
        "camfleet_lon": cam.location.lon,
        "camfleet_managed": cam.is_managed,
        "camfleet_vendor": device.vendor.value if device else None,
        "camfleet_model": device.model if device else None,
        "camfleet_firmware": device.firmware if device else None,
        "camfleet_driver": driver if cam.is_managed else None,
        "camfleet_http_port": cam.network.http_port,
        "camfleet_rtsp_port": cam.network.rtsp_port,
        "camfleet_link": cam.network.link,
        "camfleet_recorder": cam.recorder.id if cam.recorder else None,
        "camfleet_channel": cam.recorder.channel if cam.recorder else None,
        "camfleet_profiles": {"main": cam.stream.main, "sub": cam.stream.sub} if cam.stream else None,
    }
    if link := fleet.links.get(cam.network.link or ""):
        hostvars["camfleet_link_router"] = link.router
    _reach(fleet, cam.id, hostvars)
    return {"name": cam.id, "groups": groups, "vars": hostvars}


def _reach(fleet: Fleet, device_id: str, hostvars: dict[str, Any]) -> None:
    """``ansible_host`` and the ports, where camfleet reaches the device (the overlay's, in a simulated
    town). For people and ad-hoc tasks only: camfleet's modules look the device up themselves."""
    if not fleet.reachable(device_id):
        return  # no address yet, or not in the simulator's overlay: never its real address then
    where = fleet.endpoint(device_id)
    hostvars["ansible_host"] = where.host
    for port in ("http_port", "rtsp_port", "ssh_port"):
        if getattr(where, port) is not None:
            hostvars[f"camfleet_{port}"] = getattr(where, port)


def _recorder(fleet: Fleet, rec: Recorder) -> dict[str, Any]:
    hostvars: dict[str, Any] = {
        **CONNECTION_VARS,
        "camfleet_role": "recorder",
        "camfleet_vendor": rec.vendor.value,
        "camfleet_model": rec.model,
        "camfleet_firmware": rec.firmware,
        "camfleet_driver": RECORDER_DRIVERS.get(rec.vendor),
        "camfleet_http_port": rec.http_port,
        "camfleet_rtsp_port": rec.rtsp_port,
        "camfleet_channels": rec.channels,
        "camfleet_disk_bays": rec.disk_bays,
    }
    _reach(fleet, rec.id, hostvars)
    return {
        "name": rec.id,
        "groups": ["recorders", "station", group_name("vendor", rec.vendor.value)],
        "vars": hostvars,
    }


def _router(fleet: Fleet, router: LinkRouter) -> dict[str, Any]:
    groups = ["link_routers", group_name("router_role", router.role.value)]
    groups.append(group_name("site", router.site) if router.site else "station")
    links = sorted(link.id for link in fleet.links_of_router(router.id))
    cameras = sorted(c.id for link_id in links for c in fleet.cameras_on_link(link_id))
    hostvars: dict[str, Any] = {
        **CONNECTION_VARS,
        "camfleet_role": "link_router",
        "camfleet_router_role": router.role.value,
        "camfleet_site": router.site,
        "camfleet_vendor": router.vendor,
        "camfleet_model": router.model,
        "camfleet_firmware": router.firmware,
        "camfleet_netmiko_device_type": router.device_type,
        "camfleet_ssh_port": router.ssh_port,
        "camfleet_links": links,
        "camfleet_cameras_behind": cameras,
    }
    _reach(fleet, router.id, hostvars)
    return {"name": router.id, "groups": groups, "vars": hostvars}
