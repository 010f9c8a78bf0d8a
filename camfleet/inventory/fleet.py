"""A loaded town: every entity of the inventory, indexed, with where it came from."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from camfleet.inventory.problems import DocPath
from camfleet.model import (
    Authority,
    Camera,
    CameraKind,
    Equipment,
    FirmwareEntry,
    Household,
    Link,
    LinkRouter,
    Officer,
    Recorder,
    Route,
    Site,
    StreamProfile,
    Strict,
    Town,
)


@dataclass(frozen=True)
class Origin:
    """Where an entity was written: file and path inside the document."""

    file: Path
    path: DocPath

    def at(self, *more: str | int) -> tuple[Path, DocPath]:
        return self.file, self.path + more


@dataclass(frozen=True)
class Endpoint:
    """Where camfleet reaches a device: the inventory's address and ports, or the simulator's loopback ones."""

    device: str
    host: str
    http_port: int | None = None
    rtsp_port: int | None = None
    ssh_port: int | None = None


class EndpointError(ValueError):
    """camfleet must not reach this device: it has no address, or the simulator's overlay lacks it."""


@dataclass
class Fleet:
    """Everything a town folder describes, merged from its files."""

    folder: Path
    town: Town
    town_origin: Origin
    sites: dict[str, Site] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    profiles: dict[str, StreamProfile] = field(default_factory=dict)
    firmware: dict[str, FirmwareEntry] = field(default_factory=dict)
    recorders: dict[str, Recorder] = field(default_factory=dict)
    equipment: dict[str, Equipment] = field(default_factory=dict)
    authorities: dict[str, Authority] = field(default_factory=dict)
    officers: dict[str, Officer] = field(default_factory=dict)
    link_routers: dict[str, LinkRouter] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    cameras: dict[str, Camera] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    #: The simulator's address overlay, when one applies (:mod:`camfleet.inventory.overlay`): device id →
    #: where it answers. Entries keep the town's real addresses (what configs are rendered from);
    #: :meth:`endpoint` is the one place that says where to send a packet.
    overlay: dict[str, Endpoint] | None = None
    overlay_file: Path | None = None

    def with_overlay(self, endpoints: dict[str, Endpoint], file: Path) -> Fleet:
        """This fleet, reached through the simulator's loopback addresses (the entries are shared, not copied)."""
        return dataclasses.replace(self, overlay=endpoints, overlay_file=file)

    def endpoint(self, device_id: str) -> Endpoint:
        """Where to reach a camera, recorder or link router; :class:`EndpointError` when camfleet must not.

        With an overlay, a device the overlay does not know is refused: a simulated run never sends
        a packet to a device's real address.
        """
        if self.overlay is not None:
            found = self.overlay.get(device_id)
            if found is None:
                raise EndpointError(
                    f"{device_id}: không có trong overlay của trình mô phỏng, không bao giờ kết nối địa chỉ thật; "
                    f"khởi động lại trình mô phỏng (camfleet sim up) hoặc bỏ CAMFLEET_OVERLAY / {device_id}: not in "
                    f"the simulator's overlay {self.overlay_file}; camfleet never reaches a device "
                    "at its real address while CAMFLEET_OVERLAY is set: restart the simulator for this inventory "
                    "(camfleet sim up) or unset CAMFLEET_OVERLAY"
                )
            return found
        if device_id in self.cameras:
            net = self.cameras[device_id].network
            if net.address is None:
                raise EndpointError(f"{device_id}: no network.address in the inventory; cannot reach it")
            return Endpoint(device_id, str(net.address), http_port=net.http_port, rtsp_port=net.rtsp_port)
        if device_id in self.recorders:
            rec = self.recorders[device_id]
            return Endpoint(device_id, str(rec.address), http_port=rec.http_port, rtsp_port=rec.rtsp_port)
        if device_id in self.link_routers:
            router = self.link_routers[device_id]
            return Endpoint(device_id, str(router.address), ssh_port=router.ssh_port)
        raise EndpointError(f"{device_id}: no camera, recorder or link router with this id in the inventory")

    def reachable(self, device_id: str) -> bool:
        """Whether :meth:`endpoint` would give an address."""
        try:
            self.endpoint(device_id)
        except EndpointError:
            return False
        return True

    def device(self, device_id: str) -> Camera | Recorder:
        """The camera or recorder with this id (KeyError names it otherwise)."""
        found = self.cameras.get(device_id) or self.recorders.get(device_id)
        if found is None:
            raise KeyError(f"{device_id}: no camera or recorder with this id in the inventory")
        return found

    def origin(self, section: str, item_id: str) -> Origin:
        return self.origins[(section, item_id)]

    def section(self, name: str) -> dict[str, Strict]:
        return getattr(self, name)  # type: ignore[no-any-return]

    # ---------------------------------------------------------------- queries
    # Indexes hold ids only, so an entry replaced later is still found as its current object;
    # they are built once, on first use.

    @functools.cached_property
    def _index(self) -> dict[str, dict[str, list[str]]]:
        index: dict[str, dict[str, list[str]]] = {"site": {}, "link": {}, "recorder": {}, "router_site": {}}
        for cam in self.cameras.values():
            index["site"].setdefault(cam.site, []).append(cam.id)
            if cam.network.link is not None:
                index["link"].setdefault(cam.network.link, []).append(cam.id)
            if cam.recorder is not None:
                index["recorder"].setdefault(cam.recorder.id, []).append(cam.id)
        for router in self.link_routers.values():
            index["router_site"].setdefault(router.site or "", []).append(router.id)
        index["router_links"] = {}
        for link in self.links.values():
            index["router_links"].setdefault(link.router, []).append(link.id)
        return index

    def cameras_of_site(self, site_id: str) -> list[Camera]:
        return [self.cameras[i] for i in self._index["site"].get(site_id, ())]

    def cameras_on_recorder(self, recorder_id: str) -> list[Camera]:
        cams = [self.cameras[i] for i in self._index["recorder"].get(recorder_id, ())]
        return sorted(cams, key=lambda c: c.recorder.channel if c.recorder else 0)

    def cameras_on_link(self, link_id: str) -> list[Camera]:
        return [self.cameras[i] for i in self._index["link"].get(link_id, ())]

    def links_of_router(self, router_id: str) -> list[Link]:
        return [self.links[i] for i in self._index["router_links"].get(router_id, ())]

    def routers_of_site(self, site_id: str | None) -> list[LinkRouter]:
        """Link routers at a site (None: the station's core routers)."""
        return [self.link_routers[i] for i in self._index["router_site"].get(site_id or "", ())]

    def town_cameras(self) -> Iterator[Camera]:
        return (c for c in self.cameras.values() if c.kind is CameraKind.town)

    def firmware_for(self, vendor: str, model: str) -> FirmwareEntry | None:
        return self.firmware.get(firmware_key(vendor, model))

    def summary(self) -> dict[str, int]:
        kinds = {k: sum(1 for c in self.cameras.values() if c.kind is k) for k in CameraKind}
        return {
            "sites": len(self.sites),
            "cameras": len(self.cameras),
            "community_cameras": kinds[CameraKind.community],
            "town_cameras": kinds[CameraKind.town],
            "recorders": len(self.recorders),
            "disks": sum(len(r.disks) for r in self.recorders.values()),
            "links": len(self.links),
            "link_routers": len(self.link_routers),
            "households": len(self.households),
            "profiles": len(self.profiles),
            "firmware_models": len(self.firmware),
        }


def firmware_key(vendor: str, model: str) -> str:
    return f"{vendor}/{model}"
