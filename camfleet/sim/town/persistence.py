"""The town's state folder: every device's state and faults as JSON, the simulator clock, written
atomically so a crash never leaves half a file, and read back on the next start.

Why: a restart must keep what playbooks configured (passwords, channels, footage) and the
faults a test set; simulated time goes on while the simulator is down, at its speed.

Layout (``<state>/``): ``devices/<id>.json`` (``role``, ``state``, ``faults``), ``clock.json``,
``overlay.yml`` (see :mod:`~camfleet.sim.town.plan`). Reproduce by hand::

    jq .faults .state/sim/devices/cam-01-t01.json
    jq . .state/sim/clock.json
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from camfleet.sim.faults import Fault, Faults
from camfleet.sim.town.clock import SimClock
from camfleet.sim.town.device import SimDevice, SimError

SAVE_INTERVAL_S = 1.0
PROGRESS_SAVE_INTERVAL_S = 30.0


class StateFolder:
    """Saving and restoring one town's devices and clock under ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def saved(self, device_id: str) -> dict[str, Any] | None:
        """What the last run saved of a device, or None for a device never run."""
        path = self.path / "devices" / f"{device_id}.json"
        if not path.is_file():
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SimError(f"{path}: unreadable saved state ({exc}); delete it to start the device afresh") from None
        return data

    def restore_clock(self, clock: SimClock) -> None:
        path = self.path / "clock.json"
        if path.is_file():
            with contextlib.suppress(OSError, ValueError, KeyError):
                saved = json.loads(path.read_text(encoding="utf-8"))
                # Simulated time went on while the simulator was down, at its speed.
                clock.reset_to(saved["sim_time"] + (time.time() - saved["saved_at"]) * clock.speed)

    def save(self, devices: Iterable[SimDevice], clock: SimClock, *, all_devices: bool = False) -> None:
        """Write the devices changed since the last save (``all_devices``: every device, and every
        recorder that only recorded on), and the clock."""
        folder = self.path / "devices"
        folder.mkdir(parents=True, exist_ok=True)
        for dev in devices:
            if dev.dirty or all_devices:
                dev.dirty = dev.progressed = False
                data = {"role": dev.role, "state": dev.state.to_dict(), "faults": faults_to_dict(dev.faults)}
                write_atomic(folder / f"{dev.id}.json", json.dumps(data))
        write_atomic(
            self.path / "clock.json",
            json.dumps({"sim_time": clock(), "saved_at": time.time(), "speed": clock.speed}),
        )

    async def autosave(self, devices: dict[str, SimDevice], clock: SimClock) -> None:
        """What changed, every :data:`SAVE_INTERVAL_S`; recorders that only recorded on, every
        :data:`PROGRESS_SAVE_INTERVAL_S` (each recorder's whole state every second was a fifth of a
        1,000-camera simulator's CPU); everything at a clean stop."""
        since_progress = 0.0
        while True:
            await asyncio.sleep(SAVE_INTERVAL_S)
            since_progress += SAVE_INTERVAL_S
            if since_progress >= PROGRESS_SAVE_INTERVAL_S:
                since_progress = 0.0
                for dev in devices.values():
                    if dev.progressed:
                        dev.dirty = True
            self.save(devices.values(), clock)


def faults_to_dict(faults: Faults) -> dict[str, Any]:
    return {"active": {f.value: p for f, p in faults.active.items()}, "bricked": faults.bricked}


def restore_faults(device: SimDevice, saved: dict[str, Any] | None) -> None:
    if not saved:
        return
    data = saved.get("faults") or {}
    for name, params in (data.get("active") or {}).items():
        with contextlib.suppress(ValueError):
            device.faults.set(Fault(name), **params)
    device.faults.bricked = bool(data.get("bricked"))


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
