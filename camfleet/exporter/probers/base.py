"""What every prober shares: the request it gets, the outcome it returns, how it writes metrics,
and how it runs a blocking driver call inside the scrape budget.

Every prober has one signature (blackbox ``prober/handler.go``)::

    async def probe(req: ProbeRequest, out: Metrics) -> Outcome

It writes its own series into ``out`` and returns success or a failure with a short ``reason``
from a small, stable set (it becomes a label). It never raises for anything a device does; the
server turns a blown budget into ``reason="timeout"`` and adds ``camfleet_probe_success`` and
``camfleet_probe_duration_seconds``.

Blocking drivers (httpx, netmiko) run in a thread pool sized for hung devices: a thread stuck
on a hung device until its own timeout must not starve the next scrape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    DeviceTimeout,
    DriverError,
    LockedOut,
    MalformedReply,
    NotActivated,
    Unreachable,
    Unsupported,
)
from camfleet.exporter.config import Module
from camfleet.exporter.targets import Target
from camfleet.inventory.fleet import Fleet

T = TypeVar("T")

#: Enough threads that a town's worth of hung devices cannot block the other probes.
POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="camfleet-probe")


@dataclass(frozen=True)
class Outcome:
    """A probe's verdict. ``reason`` is a label value (small set); ``detail`` one human line."""

    success: bool
    reason: str = ""
    detail: str = ""

    @classmethod
    def ok(cls) -> Outcome:
        return cls(True)

    @classmethod
    def fail(cls, reason: str, detail: str = "") -> Outcome:
        return cls(False, reason, detail)


@dataclass(frozen=True)
class ProbeRequest:
    """One ``/probe`` call, resolved: the device, the module, the login and the deadline."""

    target: Target
    module_name: str
    module: Module
    username: str
    password: str
    deadline: float  # event-loop time by which the probe must be done
    fleet: Fleet

    def remaining(self) -> float:
        return max(0.0, self.deadline - asyncio.get_running_loop().time())


class Metrics:
    """The series one probe reports, as a collector for the request's fresh registry.

    Families are built directly (no Gauge objects, no locks): a probe writes a dozen values and
    the registry is rendered once, so this is the cheap path at a thousand probes a second.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.families: dict[str, GaugeMetricFamily] = {}
        if registry is not None:
            registry.register(self)  # a duck-typed collector

    def gauge(self, name: str, doc: str, value: float, **labels: str) -> None:
        family = self.families.get(name)
        if family is None:
            family = self.families[name] = GaugeMetricFamily(name, doc, labels=list(labels))
        family.add_metric(list(labels.values()), float(value))

    def collect(self) -> Iterator[Metric]:
        return iter(list(self.families.values()))


async def run_blocking(req: ProbeRequest, fn: Callable[[], T]) -> T:
    """Run ``fn`` in the probe pool; the caller's budget (asyncio timeout) still bounds the wait."""
    return await asyncio.get_running_loop().run_in_executor(POOL, fn)


def driver_failure(err: DriverError) -> Outcome:
    """A driver error as a probe failure: reason from the error's kind, detail its one line."""
    reason = "error"
    if isinstance(err, LockedOut):
        reason = "locked"
    elif isinstance(err, NotActivated):
        reason = "not_activated"
    elif isinstance(err, AuthError):
        reason = "auth"
    elif isinstance(err, Unreachable):
        reason = "unreachable"
    elif isinstance(err, DeviceTimeout):
        reason = "timeout"
    elif isinstance(err, MalformedReply):
        reason = "malformed"
    elif isinstance(err, Unsupported):
        reason = "unsupported"
    elif isinstance(err, DeviceError):
        reason = "device_error"
    return Outcome.fail(reason, str(err))


def driver_timeout(req: ProbeRequest) -> float:
    """Per-request timeout for a driver: what is left of the budget (at least a little)."""
    return max(0.2, req.remaining())
