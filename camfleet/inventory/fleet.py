"""A loaded town: every entity of the inventory, indexed, with where it came from."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from camfleet.inventory.problems import DocPath
from camfleet.model import (
    Camera,
    CameraKind,
    Equipment,
    FirmwareEntry,
    Household,
    Link,
    LinkRouter,
    Recorder,
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
    link_routers: dict[str, LinkRouter] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    cameras: dict[str, Camera] = field(default_factory=dict)
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def copy(self) -> Fleet:
        """A fleet whose device tables can be changed (the address overlay) without touching this one."""
        return dataclasses.replace(
            self,
            cameras=dict(self.cameras),
            recorders=dict(self.recorders),
            link_routers=dict(self.link_routers),
            files=list(self.files),
        )

    def origin(self, section: str, item_id: str) -> Origin:
        return self.origins[(section, item_id)]

    def section(self, name: str) -> dict[str, Strict]:
        return getattr(self, name)  # type: ignore[no-any-return]

    # ---------------------------------------------------------------- queries
    # Indexes hold ids only, so an entry replaced later (the address overlay) is still
    # found as its current object; they are built once, on first use.

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
