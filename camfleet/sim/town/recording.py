"""The town's recorders at work: which camera a recorder channel pulls from and whether it gets a
picture, the once-a-second recording tick, and the footage a town in service starts with.

Why in the town and not in the NVR: whether a channel records depends on another device (the
camera at the channel's address: reachable, not frozen, not rebooting, and accepting the NVR's
login), which only the town knows. :meth:`~camfleet.sim.devices.NvrState.tick` does the disk
arithmetic; this module feeds it.

Reproduce by hand::

    .venv/bin/camfleet sim fault cam-01-t01 frozen --state .state/sim
    curl --digest -u admin:<password> http://127.21.0.1/ISAPI/ContentMgmt/record/status   # recording false
"""

from __future__ import annotations

import asyncio
import functools

from camfleet.sim.devices import CameraState, NvrState
from camfleet.sim.faults import Fault
from camfleet.sim.town.clock import SimClock
from camfleet.sim.town.device import MAIN, SimDevice

TICK_INTERVAL_S = 1.0
#: What a recorder can pull each simulated camera family with (a channel's ``protocol``, upper-cased):
#: every camera answers ONVIF (:mod:`camfleet.sim.onvif`), a Hikvision or Dahua its maker's own too.
SPEAKS: dict[str, frozenset[str]] = {
    "hikvision": frozenset({"HIKVISION", "ONVIF"}),
    "dahua": frozenset({"DAHUA", "ONVIF"}),
    "onvif": frozenset({"ONVIF"}),
}
PREFILL_STEP_S = 3600.0


class ChannelSource:
    """Recorder channel → the simulated camera at its address, by the town's address book."""

    def __init__(self, by_address: dict[str, SimDevice], clock: SimClock) -> None:
        self.by_address = by_address
        self.clock = clock

    def camera_at(self, address: str) -> SimDevice | None:
        dev = self.by_address.get(address)
        return dev if dev is not None and dev.role == "camera" else None

    def online(self, nvr: NvrState, number: int) -> bool:
        """The recorder receives the channel: camera reachable, streaming, speaking the channel's protocol,
        and it accepts the NVR's login."""
        channel = nvr.channels.get(number)
        cam = self.camera_at(channel.address) if channel else None
        if channel is None or cam is None or cam.faults.unreachable or cam.faults.has(Fault.frozen):
            return False
        if channel.protocol.upper() not in SPEAKS.get(cam.vendor, frozenset()):
            return False
        state = cam.state
        assert isinstance(state, CameraState)
        if state.rebooting_until > self.clock():
            return False
        return state.passwords().get(channel.username) == channel.password

    def connected(self, nvr: NvrState, number: int) -> CameraState | None:
        """The camera a channel is connected to now (what the recorder learns its serial, MAC and model
        from): whatever device answers at the channel's address, not the one the inventory meant."""
        if not self.online(nvr, number):
            return None
        channel = nvr.channels.get(number)
        cam = self.camera_at(channel.address) if channel else None
        return cam.state if cam is not None and isinstance(cam.state, CameraState) else None

    def bitrate(self, nvr: NvrState, number: int) -> int:
        channel = nvr.channels.get(number)
        cam = self.camera_at(channel.address) if channel else None
        if cam is None:
            return 0
        state = cam.state
        assert isinstance(state, CameraState)
        main = state.streams.get(MAIN)
        return main.bitrate_kbps if main else 0

    def prefill(self, nvr: NvrState, days: float) -> None:
        """``days`` of footage recorded up to now, an hour a step (the last one shorter: none after
        now), as if the town had run."""
        now = self.clock()
        t = now - days * 86400
        while t < now:
            step = min(PREFILL_STEP_S, now - t)
            t += step
            nvr.tick(
                t,
                step,
                functools.partial(self.online, nvr),
                functools.partial(self.bitrate, nvr),
            )

    async def tick_recorders(self, devices: dict[str, SimDevice]) -> None:
        """Record what each reachable recorder received since the last tick, once a second."""
        last = self.clock()
        while True:
            await asyncio.sleep(TICK_INTERVAL_S)
            now = self.clock()
            dt, last = now - last, now
            for dev in devices.values():
                if dev.role == "recorder" and not dev.faults.unreachable:
                    nvr = dev.state
                    assert isinstance(nvr, NvrState)
                    nvr.tick(
                        now,
                        dt,
                        functools.partial(self.online, nvr),
                        functools.partial(self.bitrate, nvr),
                        dev.faults,
                    )
                    dev.progressed = True
