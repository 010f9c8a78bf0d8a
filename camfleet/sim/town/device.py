"""One device of the simulated town: its state, its faults, the servers that speak for it, and
what ``camfleet sim status`` shows of it; and the error that stops a town from starting.

Reproduce by hand::

    .venv/bin/camfleet sim status --format json --state .state/sim | jq '.devices[0]'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from camfleet.sim.devices import CameraState, NvrState
from camfleet.sim.faults import Faults
from camfleet.sim.routeros import RouterOsServer, RouterOsState
from camfleet.sim.rtsp import RtspServer

Role = Literal["camera", "recorder", "router"]
MAIN, SUB = 101, 102


class SimError(Exception):
    """Something stops the simulated town from starting; the message says what to do."""


@dataclass
class SimDevice:
    """One simulated device: its state, its faults and the servers that speak for it."""

    id: str
    role: Role
    vendor: str
    model: str
    address: str
    state: CameraState | NvrState | RouterOsState
    faults: Faults = field(default_factory=Faults)
    ports: dict[str, int] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    site: web.TCPSite | None = None
    rtsp: RtspServer | None = None
    ssh: RouterOsServer | None = None
    dirty: bool = False  # changed (config, faults, firmware): saved within SAVE_INTERVAL_S
    progressed: bool = False  # only recorded on (a recorder's disks filled): saved within PROGRESS_SAVE_INTERVAL_S
    behind: str | None = None  # the link router a camera rides

    def to_status(self) -> dict[str, Any]:
        firmware = getattr(self.state, "firmware", None) or getattr(
            getattr(self.state, "board", None), "firmware", None
        )
        return {
            "id": self.id,
            "role": self.role,
            "vendor": self.vendor,
            "model": self.model,
            "address": self.address,
            "ports": self.ports,
            "firmware": firmware,
            "reachable": not self.faults.unreachable,
            "faults": self.faults.as_dict(),
            "refused_logins": getattr(getattr(self.state, "login_lock", None), "refused_total", None),
            "link_router": self.behind,
        }
