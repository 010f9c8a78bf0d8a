"""The simulated town: every device of an inventory alive on its own loopback address.

One asyncio process holds every managed camera (ISAPI or Dahua CGI over HTTP
with digest auth, plus RTSP with real H.264), every recorder (ISAPI or Dahua CGI NVR that
records its channels, disks filling at the cameras' bitrates) and every link
router (RouterOS CLI over SSH). Device state lives in memory and in a state
folder, so a restart keeps it; time runs at a settable speed so days of
recording pass in seconds.

    .venv/bin/camfleet sim up inventory/ngoc-lac --state .state/sim --detach
    .venv/bin/camfleet sim status --state .state/sim
    .venv/bin/camfleet sim fault cam-01-t01 frozen --state .state/sim

Addresses: cameras 127.<net>.x.y, recorders 127.<net+1>.x.y, link routers
127.<net+2>.x.y (``net`` 20 by default), x.y derived from the device's id and kept from
one run to the next (``plan.allocate``), on the real ports (80, 554, 22) when
the process may bind them, else on 8080, 8554 and 2222. The overlay
(``<state>/overlay.yml``) tells the loader, the inventory plugin and the
exporter where each device answers.

Where things are: :class:`SimTown` (here) is the facade the CLI, the control endpoint and the
benchmarks use; it delegates to ``plan`` (addresses and the overlay), ``build`` (device states
from inventory and vault), ``recording`` (the recorders' tick and channel → camera),
``listeners`` (HTTP/RTSP/SSH per device, following faults), ``faults`` (changing them at run
time), ``persistence`` (the state folder), ``clock`` and ``device``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from camfleet.inventory.fleet import Fleet
from camfleet.sim.faults import Fault
from camfleet.sim.town.build import TownBuilder, simulated
from camfleet.sim.town.clock import SimClock
from camfleet.sim.town.device import SimDevice, SimError
from camfleet.sim.town.faults import checked_params, propagate_links
from camfleet.sim.town.listeners import Listeners, prepare_clips
from camfleet.sim.town.persistence import StateFolder
from camfleet.sim.town.plan import (
    MAPPED_PORTS,
    REAL_PORTS,
    TownPlan,
    allocate,
    overlay,
    previous_addresses,
    write_overlay,
)
from camfleet.sim.town.recording import ChannelSource

__all__ = ["MAPPED_PORTS", "PREFILL_DAYS", "REAL_PORTS", "SimClock", "SimDevice", "SimError", "SimTown", "TownPlan"]

log = logging.getLogger("camfleet.sim")

PREFILL_DAYS = 60.0


class SimTown:
    """Every device of a fleet, alive on loopback. ``await start()``, then ``await stop()``."""

    def __init__(
        self,
        fleet: Fleet,
        credentials: dict[str, dict[str, str]],
        state_dir: Path,
        *,
        net: int = 20,
        speed: float = 1.0,
        prefill_days: float = PREFILL_DAYS,
        ports: dict[str, int] | None = None,
    ) -> None:
        if not 1 <= net <= 252:
            raise SimError(f"--net {net}: pick a second octet from 1 to 252 (devices use 127.<net>..127.<net+2>)")
        self.fleet = fleet
        self.credentials = credentials
        self.state_dir = state_dir
        self.net = net
        self.prefill_days = prefill_days
        self.clock = SimClock(speed=speed)
        self.ports = dict(ports) if ports else dict(REAL_PORTS)
        self.devices: dict[str, SimDevice] = {}
        self._by_address: dict[str, SimDevice] = {}
        self._folder = StateFolder(state_dir)
        self._builder = TownBuilder(fleet, credentials, self._folder, self.clock)
        self._channels = ChannelSource(self._by_address, self.clock)
        self._listeners = Listeners(
            self.devices,
            self.clock,
            state_dir,
            camera_at=self._channels.camera_at,
            connected=self._channels.connected,
            zone=fleet.town.timezone,
        )
        self._tasks: list[asyncio.Task[None]] = []

    # ---------------------------------------------------------------- building

    def plan(self) -> TownPlan:
        b = self._builder
        before = previous_addresses(self.state_dir)
        cams = {c.id: c for c in self.fleet.cameras.values() if simulated(c)}
        for cam_id, at in allocate(self.net, "camera", cams, before).items():
            self._add(b.camera(cams[cam_id], at))
        recorders = self.fleet.recorders
        for rec_id, at in allocate(self.net, "recorder", recorders, before).items():
            self._add(b.recorder(recorders[rec_id], at))
        routers = self.fleet.link_routers
        for router_id, at in allocate(self.net, "router", routers, before).items():
            self._add(b.router(routers[router_id], at))
        b.link_cameras_to_routers(self.devices)
        return TownPlan(list(self.devices.values()), self._overlay())

    def _add(self, device: SimDevice) -> None:
        self.devices[device.id] = device
        self._by_address[device.address] = device

    def _overlay(self) -> dict[str, Any]:
        return overlay(self.fleet.town.id, self.devices.values(), self.ports)

    # ---------------------------------------------------------------- faults

    def set_fault(
        self, device_id: str, fault: Fault, params: dict[str, Any] | None = None, *, clear: bool = False
    ) -> None:
        dev = self.devices.get(device_id)
        if dev is None:
            raise SimError(f"no simulated device '{device_id}'")
        if clear:
            dev.faults.clear(fault)
        else:
            dev.faults.set(fault, **checked_params(fault, params or {}))
        dev.dirty = True
        propagate_links(self.devices)

    def power_cycle(self, device_id: str) -> None:
        dev = self.devices.get(device_id)
        if dev is None:
            raise SimError(f"no simulated device '{device_id}'")
        dev.faults.clear()
        dev.dirty = True
        propagate_links(self.devices)

    async def swap(self, first: str, second: str) -> None:
        """Two cameras trade addresses, as when an installer swaps two cameras or their DHCP leases:
        each answers at the other's address, the overlay (the inventory's belief) is left as it was,
        so whatever records or probes one reaches the other. Swapping again puts them back; a restart
        of the simulator does too (addresses come back from the overlay)."""
        devs = [self.devices.get(first), self.devices.get(second)]
        for device_id, dev in zip((first, second), devs, strict=True):
            if dev is None or dev.role != "camera":
                raise SimError(f"'{device_id}' is not a simulated camera; swap takes two camera ids")
        a, b = devs
        assert a is not None and b is not None
        if a is b:
            raise SimError(f"'{first}' twice: swap takes two different cameras")
        async with self._listeners.changing():
            for dev in (a, b):
                await self._listeners.stop(dev)
            a.address, b.address = b.address, a.address
            self._by_address[a.address], self._by_address[b.address] = a, b
            for dev in (a, b):
                await self._listeners.serve_camera(dev, self.ports)
                dev.dirty = True

    async def sync_listeners(self) -> None:
        """Open or close each device's HTTP listener as its faults say, now."""
        await self._listeners.sync()

    # ---------------------------------------------------------------- life cycle

    async def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._folder.restore_clock(self.clock)
        self.plan()
        propagate_links(self.devices)
        await asyncio.to_thread(prepare_clips, self.devices)
        self._builder.first_fill(
            self.devices, self._channels, http_port=self.ports["http"], prefill_days=self.prefill_days
        )
        try:
            await self._listeners.serve_all(self.ports)
        except PermissionError:
            if self.ports == MAPPED_PORTS:
                raise
            log.info("cannot bind the real ports; using %s", MAPPED_PORTS)
            await self._listeners.stop_all()
            self.ports = dict(MAPPED_PORTS)
            await self._listeners.serve_all(self.ports)
        write_overlay(self.state_dir, self._overlay())
        self._folder.save(self.devices.values(), self.clock, all_devices=True)
        self._listeners.follow_faults()
        for coro in (
            self._channels.tick_recorders(self.devices),
            self._listeners.watch(),
            self._folder.autosave(self.devices, self.clock),
        ):
            self._tasks.append(asyncio.create_task(coro))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self._listeners.stop_all()
        self._folder.save(self.devices.values(), self.clock, all_devices=True)

    def status(self) -> dict[str, Any]:
        return {
            "town": self.fleet.town.id,
            "clock": {"now": self.clock(), "speed": self.clock.speed},
            "ports": self.ports,
            "devices": [d.to_status() for d in sorted(self.devices.values(), key=lambda d: (d.role, d.id))],
        }
