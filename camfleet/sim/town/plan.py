"""Where each simulated device answers: the address plan on loopback, and the overlay file that
tells the loader, the inventory plugin and the exporter about it.

Addresses: cameras 127.<net>.x.y, recorders 127.<net+1>.x.y, link routers 127.<net+2>.x.y
(``net`` 20 by default), on the real ports (80, 554, 22) when the process may bind them, else on
8080, 8554 and 2222. Each device's x.y is derived from a hash of its id (one of 256 × 254 slots per
role); two ids on one slot are resolved by taking the next free slot, in sorted id order. A device
keeps the address the last run's overlay gave it (when it is still in its role's range), so
neither a restart nor a device added to or removed from the inventory moves another device: a
numbering by position would shift every later device, and a recorder would then record its
neighbour's camera while every status read "recording".

Reproduce by hand::

    cat .state/sim/overlay.yml
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from camfleet.sim.town.device import Role, SimDevice
from camfleet.sim.town.persistence import write_atomic

REAL_PORTS = {"http": 80, "rtsp": 554, "ssh": 22}
MAPPED_PORTS = {"http": 8080, "rtsp": 8554, "ssh": 2222}
_ROLE_OFFSET: dict[Role, int] = {"camera": 0, "recorder": 1, "router": 2}


@dataclass
class TownPlan:
    """Which devices to bring up and where: the pure part, testable without sockets."""

    devices: list[SimDevice]
    overlay: dict[str, Any]


#: Slots per role: third octet 0–255, fourth 1–254.
SLOTS = 256 * 254


def address(net: int, role: Role, slot: int) -> str:
    """The loopback address of a role's ``slot``."""
    return f"127.{net + _ROLE_OFFSET[role]}.{slot // 254}.{slot % 254 + 1}"


def home_slot(device_id: str) -> int:
    """Where a device's address starts: a hash of its id, whatever else the inventory holds."""
    return int.from_bytes(hashlib.sha256(device_id.encode()).digest()[:8], "big") % SLOTS


def _slot_of(net: int, role: Role, addr: str) -> int | None:
    """The slot of ``addr`` if it lies in the role's range for ``net``, else None."""
    parts = addr.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    a, b, c, d = (int(p) for p in parts)
    if (a, b) != (127, net + _ROLE_OFFSET[role]) or not (0 <= c <= 255 and 1 <= d <= 254):
        return None
    return c * 254 + d - 1


def allocate(net: int, role: Role, ids: Iterable[str], previous: dict[str, str] | None = None) -> dict[str, str]:
    """Each id's address: the one it had last run (``previous``, if in range and not already
    taken), else its hash slot or the next free one, ids taken in sorted order."""
    ordered = sorted(set(ids))
    if len(ordered) > SLOTS:
        raise ValueError(f"{len(ordered)} {role}s: at most {SLOTS} fit in one --net range")
    taken: set[int] = set()
    out: dict[str, str] = {}
    for device_id in ordered:
        slot = _slot_of(net, role, (previous or {}).get(device_id, ""))
        if slot is not None and slot not in taken:
            taken.add(slot)
            out[device_id] = address(net, role, slot)
    for device_id in ordered:
        if device_id in out:
            continue
        slot = home_slot(device_id)
        while slot in taken:
            slot = (slot + 1) % SLOTS
        taken.add(slot)
        out[device_id] = address(net, role, slot)
    return out


def previous_addresses(state_dir: Path) -> dict[str, str]:
    """Where each device answered last run, from the overlay that run wrote ({} if none or unreadable)."""
    with contextlib.suppress(OSError, yaml.YAMLError, AttributeError, TypeError):
        content = yaml.safe_load((state_dir / "overlay.yml").read_text(encoding="utf-8"))
        devices = content.get("devices") or {}
        return {str(k): str(v["address"]) for k, v in devices.items() if isinstance(v, dict) and "address" in v}
    return {}


def overlay(town: str, devices: Iterable[SimDevice], ports: dict[str, int]) -> dict[str, Any]:
    entries: dict[str, dict[str, Any]] = {}
    for d in devices:
        entry: dict[str, Any] = {"address": d.address}
        if d.role == "router":
            entry["ssh_port"] = ports["ssh"]
        else:
            entry["http_port"] = ports["http"]
            entry["rtsp_port"] = ports["rtsp"]
        entries[d.id] = entry
    return {"town": town, "devices": entries}


def write_overlay(state_dir: Path, content: dict[str, Any]) -> None:
    header = "# Written by `camfleet sim up`: where each simulated device answers. Do not edit.\n"
    write_atomic(state_dir / "overlay.yml", header + yaml.safe_dump(content, sort_keys=True))
