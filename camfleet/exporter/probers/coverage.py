"""``coverage`` (an ``inventory`` module with ``coverage: true``): how much of each route the cameras
that are up now see, for the dashboards.

Which cameras are up is what this exporter's own stream probes last saw (:data:`STREAMS`, written by
the ``stream`` prober): a camera counts when its last stream probe, at most ``up_within_s`` old, got
frames. A camera the exporter never stream-probes (a community camera has no address or login in
the inventory) counts by its inventory status (installed, commissioned), as ``camfleet report
coverage`` counts it; ``camfleet_coverage_cameras{state="unprobed"}`` says how many did. A camera
the exporter probes but has no fresh answer for (just started, its probes time out) counts as down.
The geometry is :func:`camfleet.inventory.coverage.coverage`, run off the event loop.

Sample output (``curl '127.0.0.1:9830/probe?target=ngoc-lac&module=coverage'``)::

    camfleet_route_coverage_ratio{priority="3",route="minh-khai",site="kp-05"} 0.022
    camfleet_route_length_meters{route="minh-khai"} 1365.2
    camfleet_route_covered_meters{route="minh-khai"} 30.0
    camfleet_coverage_ratio 0.031
    camfleet_coverage_cameras{state="up"} 38.0
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from camfleet.exporter.probers.base import Metrics, Outcome, ProbeRequest, device_key
from camfleet.exporter.targets import build_targets
from camfleet.inventory.coverage import COUNTED, coverage


@dataclass
class StreamsSeen:
    """The last stream-probe verdict per camera, with when it was given (monotonic seconds)."""

    last: dict[str, tuple[float, bool]] = field(default_factory=dict)

    def record(self, camera: str, up: bool) -> None:
        self.last[camera] = (time.monotonic(), up)

    def up(self, camera: str, within_s: float) -> bool:
        seen = self.last.get(camera)
        return seen is not None and seen[1] and time.monotonic() - seen[0] <= within_s


#: This exporter process's stream verdicts (the event loop's thread writes and reads it).
STREAMS = StreamsSeen()


async def probe(req: ProbeRequest, out: Metrics) -> Outcome:
    fleet = req.fleet
    probed = {t.id for t in build_targets(fleet).values() if t.role == "camera"}
    states = {"up": 0, "down": 0, "unprobed": 0}
    counted = []
    for camera in fleet.cameras.values():
        if camera.id in probed:
            up = STREAMS.up(device_key(fleet, camera.id), req.module.up_within_s)
            states["up" if up else "down"] += 1
        else:
            up = camera.status in COUNTED
            states["unprobed"] += up
        if up:
            counted.append(camera)
    result = await asyncio.to_thread(coverage, fleet, counted)
    for route in result.routes:
        out.gauge(
            "camfleet_route_coverage_ratio",
            "Share of the route's length inside the view of at least one camera that is up now.",
            route.share,
            route=route.route.id,
            site=",".join(route.route.sites),
            priority=str(route.route.priority),
        )
    for route in result.routes:
        out.gauge("camfleet_route_length_meters", "Length of the surveyed route.", route.length_m, route=route.route.id)
    for route in result.routes:
        out.gauge(
            "camfleet_route_covered_meters",
            "Metres of the route inside the view of a camera that is up now.",
            route.covered_m,
            route=route.route.id,
        )
    out.gauge("camfleet_coverage_ratio", "Share of all routes' length seen by cameras that are up now.", result.share)
    for state, count in states.items():
        out.gauge(
            "camfleet_coverage_cameras",
            "Cameras by how the coverage counted them: up or down by this exporter's stream probes, or "
            "unprobed and counted from the inventory's status.",
            count,
            state=state,
        )
    return Outcome.ok()
