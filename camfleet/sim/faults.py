"""Faults a simulated device can be told to have, shared by every protocol server.

The orchestrator owns one :class:`Faults` per device and hands it to each of
that device's servers (HTTP API, RTSP, SSH); servers consult it on every
connection and request, so a fault set or cleared at run time takes effect at
once.

    .venv/bin/camfleet sim fault cam-01-t01 frozen
    .venv/bin/camfleet sim fault cam-01-t01 frozen --clear
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_UNSET = object()


class Fault(StrEnum):
    """What can go wrong with a device, and how each server shows it."""

    offline = "offline"  # every listener refuses connections; open ones are dropped
    slow = "slow"  # every reply is delayed by params['delay_s'] (default 2 s)
    hang = "hang"  # connections are accepted and never answered
    malformed = "malformed"  # HTTP bodies are truncated / not valid XML or key=value
    locked = "locked"  # the device is locked out after bad logins: every login fails
    disk_failed = "disk_failed"  # NVR: a disk (params['slot'], default 1) reports an error
    disk_full = "disk_full"  # NVR: no free space, and overwrite switched off (switching it on again is the cure)
    flash_fail = "flash_fail"  # firmware upload fails; the device stays on its old build
    flash_brick = "flash_brick"  # firmware upload bricks the device until power-cycled (fault cleared)
    clock_drift = "clock_drift"  # device clock off by params['seconds'] (default 300)
    frozen = "frozen"  # RTSP answers and PLAYs, but no video frames are sent
    # Hikvision activation answers riskPassword whatever the password (a build whose password rules are
    # stricter than the installer's): the camera stays inactive
    activation_refused = "activation_refused"
    # a link router's radio link is down: it and every camera behind it are a blackhole (connects time
    # out, nothing is refused), as from the station across a dead link
    link_down = "link_down"
    router_off = "router_off"  # a link router is powered off: it and the cameras behind it refuse at once
    # a link router's uplink is saturated: it and the cameras behind it answer late (params['delay_s'],
    # default 1.5) and lose a share of their RTP P-frames (params['loss'], default 0.3)
    uplink_saturated = "uplink_saturated"
    # a frozen encoder that stalls: DESCRIBE and SETUP answer, PLAY never does, no video
    play_stall = "play_stall"
    # admin answers to the maker's factory-default password (Hikvision 12345 on builds before the
    # activation wizard, Dahua admin), as a camera reset on old firmware does; the vault's no longer works
    factory_password = "factory_password"  # noqa: S105 - a fault's name
    # something moves in front of a camera: with motion detection on, its event streams say so (Hikvision
    # alertStream ``VMD active`` each second, Dahua ``Code=VideoMotion;action=Start``) until cleared (inactive/Stop)
    motion = "motion"


DEFAULTS: dict[Fault, dict[str, Any]] = {
    Fault.slow: {"delay_s": 2.0},
    Fault.disk_failed: {"slot": 1},
    Fault.clock_drift: {"seconds": 300},
    Fault.uplink_saturated: {"delay_s": 1.5, "loss": 0.3},
}


@dataclass
class Faults:
    """The faults active on one device (plus whether its upstream link router is down)."""

    active: dict[Fault, dict[str, Any]] = field(default_factory=dict)
    upstream_down: bool = False
    upstream_blackhole: bool = False  # the link router in front is link_down: connects time out
    upstream_saturated: dict[str, Any] | None = None  # the link router in front has uplink_saturated (its params)
    bricked: bool = False
    _listeners: list[Callable[[], None]] = field(default_factory=list, repr=False, compare=False)

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change (a fault set or cleared, bricked, upstream down):
        servers that open or close a port on reachability react at once instead of polling."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener`` (a server that stopped: a swapped camera gets a new one)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def __setattr__(self, name: str, value: Any) -> None:
        before = self.__dict__.get(name, _UNSET)
        object.__setattr__(self, name, value)
        if (
            name in ("bricked", "upstream_down", "upstream_blackhole", "upstream_saturated")
            and before is not _UNSET
            and before != value
        ):
            self._changed()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def set(self, fault: Fault, **params: Any) -> None:
        self.active[fault] = {**DEFAULTS.get(fault, {}), **params}
        self._changed()

    def clear(self, fault: Fault | None = None) -> None:
        """Clear one fault, or all of them (a power cycle also un-bricks)."""
        if fault is None:
            self.active.clear()
            self.bricked = False
        else:
            self.active.pop(fault, None)
            if fault is Fault.flash_brick:
                self.bricked = False
        self._changed()

    def has(self, fault: Fault) -> bool:
        return fault in self.active

    def param(self, fault: Fault, key: str) -> Any:
        return self.active.get(fault, DEFAULTS.get(fault, {})).get(key, DEFAULTS.get(fault, {}).get(key))

    @property
    def unreachable(self) -> bool:
        """Nothing answers: offline, bricked, or behind a link that is down."""
        return (
            self.has(Fault.offline)
            or self.has(Fault.link_down)
            or self.has(Fault.router_off)
            or self.bricked
            or self.upstream_down
        )

    @property
    def blackholed(self) -> bool:
        """Unreachable across a dead link: connects time out instead of being refused."""
        return self.has(Fault.link_down) or self.upstream_blackhole

    @property
    def saturation(self) -> dict[str, Any] | None:
        """``{"delay_s", "loss"}`` while this device's uplink (or its router's) is saturated, else None."""
        if self.has(Fault.uplink_saturated):
            return {k: self.param(Fault.uplink_saturated, k) for k in ("delay_s", "loss")}
        return self.upstream_saturated

    async def delay(self) -> None:
        """Sleep as a slow device would before answering; never returns while hung."""
        if self.has(Fault.hang):
            await asyncio.Event().wait()
        if self.has(Fault.slow):
            await asyncio.sleep(float(self.param(Fault.slow, "delay_s")))
        if (saturated := self.saturation) is not None:
            await asyncio.sleep(float(saturated["delay_s"]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "active": {f.value: p for f, p in self.active.items()},
            "upstream_down": self.upstream_down,
            "upstream_blackhole": self.upstream_blackhole,
            "upstream_saturated": self.upstream_saturated is not None,
            "bricked": self.bricked,
        }
