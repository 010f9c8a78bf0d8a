"""The probers, one small module each, found by name like blackbox's ``prober/handler.go``.

Each is ``async def probe(req: ProbeRequest, out: Metrics) -> Outcome`` (see :mod:`.base`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from camfleet.exporter.config import Prober
from camfleet.exporter.probers import device, inventory, link, recorder, stream
from camfleet.exporter.probers.base import Metrics, Outcome, ProbeRequest

ProbeFn = Callable[[ProbeRequest, Metrics], Awaitable[Outcome]]

PROBERS: dict[Prober, ProbeFn] = {
    Prober.stream: stream.probe,
    Prober.recorder: recorder.probe,
    Prober.device: device.probe,
    Prober.link: link.probe,
    Prober.inventory: inventory.probe,
}

#: Probers whose driver calls block (run through ``base.CALLS``): a device with its share of calls in
#: flight is answered ``busy`` before one of these even starts.
BLOCKING: frozenset[Prober] = frozenset({Prober.device, Prober.recorder})

__all__ = ["BLOCKING", "PROBERS", "Metrics", "Outcome", "ProbeFn", "ProbeRequest"]
