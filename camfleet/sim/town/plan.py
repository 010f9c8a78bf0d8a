"""Where each simulated device answers: the address plan on loopback, and the overlay file that
tells the loader, the inventory plugin and the exporter about it.

Addresses: cameras 127.<net>.x.y, recorders 127.<net+1>.x.y, link routers 127.<net+2>.x.y
(``net`` 20 by default), 250 devices per third octet, on the real ports (80, 554, 22) when the
process may bind them, else on 8080, 8554 and 2222. Devices are numbered by sorted id, so a
device keeps its address from one run to the next.

Reproduce by hand::

    cat .state/sim/overlay.yml
"""

from __future__ import annotations

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


def address(net: int, role: Role, index: int) -> str:
    """The loopback address of the ``index``-th device (by sorted id) of a role."""
    return f"127.{net + _ROLE_OFFSET[role]}.{index // 250}.{index % 250 + 1}"


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
