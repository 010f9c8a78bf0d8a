"""The exporter's view of the town: which device a ``target=`` names, and the service discovery it offers.

Why the exporter resolves targets itself: Prometheus passes only a device id; address, ports,
vendor, stream paths and credentials come from the inventory (with the simulator's address
overlay applied when ``$CAMFLEET_OVERLAY`` is set) and the vault, both read on the station.

The inventory is read once and read again when one of its files, its vault files or the
overlay changes (checked every ``reload_interval_s`` off the event loop); a broken edit keeps
the last good view and is logged, so a typo never blinds monitoring.

``/sd`` labels say where a device is and what it hangs off (site, role, kind, street,
recorder, link, link_router) and never who lives there: no household id, landmark, mounting
address, name or phone.

    .venv/bin/python -c "from camfleet.exporter.targets import TownView; \\
        v = TownView('inventory/ngoc-lac'); v.load(); print(v.service_discovery({'stream': 'stream'})[:2])"
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from camfleet.drivers import has_driver
from camfleet.exporter.config import Prober
from camfleet.inventory import InventoryError, load
from camfleet.inventory.fleet import Endpoint, Fleet
from camfleet.inventory.loader import inventory_files
from camfleet.inventory.overlay import overlay_paths
from camfleet.inventory.vault import device_credentials
from camfleet.model import DEPLOYED, Camera, LinkRouter, Recorder, Town

log = logging.getLogger("camfleet.exporter")

Role = Literal["camera", "recorder", "router", "town"]
#: Which device roles each prober can be pointed at.
ROLES: dict[Prober, frozenset[Role]] = {
    Prober.stream: frozenset({"camera"}),
    Prober.recorder: frozenset({"recorder"}),
    Prober.device: frozenset({"camera", "recorder"}),
    Prober.link: frozenset({"router"}),
    Prober.inventory: frozenset({"town"}),
}


@dataclass(frozen=True)
class Target:
    """One probe-able device: its inventory entry and where it answers."""

    id: str
    role: Role
    entry: Camera | Recorder | LinkRouter | Town
    endpoint: Endpoint | None  # None for the town itself

    @property
    def camera(self) -> Camera:
        assert isinstance(self.entry, Camera)
        return self.entry

    @property
    def recorder(self) -> Recorder:
        assert isinstance(self.entry, Recorder)
        return self.entry

    @property
    def router(self) -> LinkRouter:
        assert isinstance(self.entry, LinkRouter)
        return self.entry


class UnknownTarget(Exception):
    """The target is not in the inventory, or cannot be probed by that module (a 400, one line)."""


@dataclass(frozen=True)
class Snapshot:
    """One consistent reading of the inventory, vault and overlay."""

    fleet: Fleet
    credentials: dict[str, dict[str, str]]
    targets: dict[str, Target]


def build_targets(fleet: Fleet) -> dict[str, Target]:
    """Devices the exporter can probe: deployed cameras with an address, recorders, link routers —
    each where :meth:`Fleet.endpoint` says (in a simulated town, only the devices of its overlay).

    Plus the town itself (its id, e.g. ``ngoc-lac``), the one target of the ``inventory`` prober.
    """
    out: dict[str, Target] = {fleet.town.id: Target(fleet.town.id, "town", fleet.town, None)}
    devices: list[tuple[Role, Camera | Recorder | LinkRouter]] = [
        ("camera", c) for c in fleet.cameras.values() if c.status in DEPLOYED and c.device is not None
    ]
    devices += [("recorder", r) for r in fleet.recorders.values()]
    devices += [("router", r) for r in fleet.link_routers.values()]
    for role, entry in devices:
        if fleet.reachable(entry.id):
            out[entry.id] = Target(entry.id, role, entry, fleet.endpoint(entry.id))
    return out


def sd_labels(fleet: Fleet, target: Target) -> dict[str, str]:
    """Where a device is and what it hangs off; never who lives there."""
    labels: dict[str, str] = {"role": target.role}
    entry = target.entry
    if isinstance(entry, Town):
        # Nothing more: the inventory prober's series carry their own site/kind/status labels.
        return labels
    if isinstance(entry, Camera):
        labels |= {"site": entry.site, "kind": entry.kind.value, "street": entry.location.street}
        if entry.device is not None:
            labels["vendor"] = entry.device.vendor.value
        if entry.recorder is not None:
            labels["recorder"] = entry.recorder.id
        link = fleet.links.get(entry.network.link or "")
        if link is not None:
            labels |= {"link": link.id, "link_router": link.router}
    elif isinstance(entry, Recorder):
        labels |= {"site": "station", "kind": "recorder", "recorder": entry.id, "vendor": entry.vendor.value}
    else:
        labels |= {"site": entry.site or "station", "kind": f"{entry.role.value}_router", "link_router": entry.id}
        labels["vendor"] = entry.vendor
    return labels


class TownView:
    """The inventory as the exporter sees it, reloaded when its files change."""

    def __init__(self, folder: Path | str, vault_password_file: Path | str | None = None) -> None:
        self.folder = Path(folder)
        self.vault_password_file = vault_password_file
        self._snapshot: Snapshot | None = None
        self._signature: tuple[tuple[str, float], ...] = ()
        self.reloads = 0
        self.reload_errors = 0

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            raise RuntimeError("TownView.load() first")
        return self._snapshot

    def _watched(self) -> list[Path]:
        files = inventory_files(self.folder.resolve())
        files += sorted((self.folder / "vault").glob("*.y*ml"))
        files += overlay_paths()
        return files

    def signature(self) -> tuple[tuple[str, float], ...]:
        out = []
        for path in self._watched():
            try:
                out.append((str(path), os.stat(path).st_mtime))
            except OSError:
                out.append((str(path), -1.0))
        return tuple(out)

    def load(self) -> None:
        """Read everything now; raises :class:`InventoryError` (the first load must succeed)."""
        signature = self.signature()
        fleet = load(self.folder).fleet  # applies $CAMFLEET_OVERLAY when set
        creds = device_credentials(self.folder, self.vault_password_file)
        self._snapshot = Snapshot(fleet, creds, build_targets(fleet))
        self._signature = signature
        self.reloads += 1

    def refresh(self) -> bool:
        """Reload if a file changed; keep the last good view on errors. True when reloaded."""
        if self.signature() == self._signature:
            return False
        try:
            self.load()
        except InventoryError as exc:
            self.reload_errors += 1
            self._signature = self.signature()  # do not retry the same broken files every tick
            first = exc.problems[0] if exc.problems else "unknown problem"
            log.error("inventory reload failed, keeping the last good one: %s", first)
            return False
        log.info("inventory reloaded: %d targets", len(self.snapshot.targets))
        return True

    def resolve(self, target_id: str, prober: Prober, module_name: str) -> Target:
        snap = self.snapshot
        target = snap.targets.get(target_id)
        if target is None:
            fleet = snap.fleet
            known = target_id in fleet.cameras or target_id in fleet.recorders or target_id in fleet.link_routers
            if known and fleet.overlay is not None and target_id not in fleet.overlay:
                raise UnknownTarget(
                    f"target {target_id!r} is not in the simulator's overlay; not probing its real address"
                )
            raise UnknownTarget(f"unknown target {target_id!r}: not a deployed device of the inventory")
        if target.role not in ROLES[prober]:
            wants = " or ".join(sorted(ROLES[prober]))
            raise UnknownTarget(f"module {module_name!r} probes a {wants}; {target_id!r} is a {target.role}")
        if prober is Prober.device and isinstance(target.entry, Camera | Recorder) and not has_driver(target.entry):
            raise UnknownTarget(f"module {module_name!r}: camfleet has no driver for {target_id!r}")
        return target

    def service_discovery(self, modules: dict[str, Prober]) -> list[dict[str, object]]:
        """Prometheus HTTP SD groups: one per device and module."""
        snap = self.snapshot
        groups: list[dict[str, object]] = []
        for name, prober in modules.items():
            for target in snap.targets.values():
                if target.role not in ROLES[prober]:
                    continue
                entry = target.entry
                if prober is Prober.device and isinstance(entry, Camera | Recorder) and not has_driver(entry):
                    continue
                if isinstance(entry, Camera) and target.id not in snap.credentials:
                    continue  # mounted but not provisioned yet: nothing to log in with, nothing to page about
                # The town (a __meta_ label: dropped after relabelling) for a Prometheus that shards or scrapes
                # several towns' exporters (camfleet.config.prometheus: hashmod over town and device, town label).
                labels = {
                    "__param_target": target.id,
                    "__param_module": name,
                    "__meta_camfleet_town": snap.fleet.town.id,
                    **sd_labels(snap.fleet, target),
                }
                groups.append({"targets": [target.id], "labels": labels})
        return groups


class Towns:
    """The towns one exporter serves: one (a station), or several (an exporter shard of a district or province,
    ``--inventory`` given once per town). Ids repeat from town to town, so with several towns ``/sd`` adds
    ``__param_town`` to every target and ``/probe`` takes ``town=``; without it, a target id found in one town only
    is that town's."""

    def __init__(self, views: list[TownView]) -> None:
        self.views: dict[str, TownView] = {}
        for view in views:
            town = view.snapshot.fleet.town.id
            if town in self.views:
                raise ValueError(f"--inventory: hai thư mục cùng một địa bàn '{town}' / two folders of the same town")
            self.views[town] = view

    @property
    def several(self) -> bool:
        return len(self.views) > 1

    @property
    def targets(self) -> int:
        return sum(len(v.snapshot.targets) for v in self.views.values())

    @property
    def reload_errors(self) -> int:
        return sum(v.reload_errors for v in self.views.values())

    def snapshots(self) -> tuple[Snapshot, ...]:
        return tuple(v.snapshot for v in self.views.values())

    def refresh(self) -> bool:
        """Reload each town whose files changed; True when any did."""
        return any([v.refresh() for v in self.views.values()])  # a list: every town, not up to the first

    def pick(self, town: str | None, target_id: str) -> TownView:
        """The town a probe is for: ``town=`` when given, the only town, or the one town that has the target."""
        if town:
            view = self.views.get(town)
            if view is None:
                raise UnknownTarget(f"unknown town {town!r}; this exporter serves {', '.join(self.views)}")
            return view
        if not self.several:
            return next(iter(self.views.values()))
        having = [v for v in self.views.values() if target_id in v.snapshot.targets]
        if len(having) > 1:
            towns = ", ".join(v.snapshot.fleet.town.id for v in having)
            raise UnknownTarget(f"target {target_id!r} is in several towns ({towns}): add town=")
        return having[0] if having else next(iter(self.views.values()))  # not found: that town's own message

    def service_discovery(self, modules: dict[str, Prober]) -> list[dict[str, object]]:
        groups: list[dict[str, object]] = []
        for town, view in self.views.items():
            mine = view.service_discovery(modules)
            if self.several:
                for group in mine:
                    labels = group["labels"]
                    assert isinstance(labels, dict)
                    labels["__param_town"] = town
            groups += mine
        return groups
