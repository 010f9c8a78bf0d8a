"""Changing a town device's faults at run time: the parameters each fault takes, and link routers
taking the cameras behind them off the network.

Reproduce by hand::

    .venv/bin/camfleet sim fault cam-01-t01 slow --param delay_s=5 --state .state/sim
    .venv/bin/camfleet sim fault lr-02-01 link_down --state .state/sim   # its cameras go dark too (time out)
    .venv/bin/camfleet sim fault lr-02-01 router_off --state .state/sim  # refused at once
    .venv/bin/camfleet sim fault lr-02-01 uplink_saturated --param loss=0.5 --state .state/sim
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from camfleet.sim.faults import Fault
from camfleet.sim.town.device import SimDevice, SimError

#: The parameters each fault takes, with their type.
FAULT_PARAMS: dict[Fault, dict[str, type]] = {
    Fault.slow: {"delay_s": float},
    Fault.disk_failed: {"slot": int},
    Fault.clock_drift: {"seconds": float},
    Fault.uplink_saturated: {"delay_s": float, "loss": float},
}


def checked_params(fault: Fault, params: dict[str, Any]) -> dict[str, Any]:
    allowed = FAULT_PARAMS.get(fault, {})
    out: dict[str, Any] = {}
    for key, value in params.items():
        kind = allowed.get(key)
        if kind is None:
            takes = ", ".join(allowed) or "no parameters"
            raise SimError(f"{fault.value} takes {takes}, not '{key}'")
        try:
            out[key] = kind(value)
        except (TypeError, ValueError):
            raise SimError(f"{fault.value}: {key} must be a {kind.__name__}, not {value!r}") from None
    return out


def propagate_links(devices: Mapping[str, SimDevice]) -> None:
    """A link router that is down takes every camera behind it off the network: refused when it is
    off, a blackhole when its link is down; its saturated uplink makes them slow and lossy too."""
    for dev in devices.values():
        if dev.behind is not None:
            router = devices.get(dev.behind)
            dev.faults.upstream_down = bool(router and router.faults.unreachable)
            dev.faults.upstream_blackhole = bool(router and router.faults.blackholed)
            dev.faults.upstream_saturated = router.faults.saturation if router else None
