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
from typing import TypeVar, cast

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.utils import floatToGoString

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
from camfleet.inventory.fleet import Endpoint, Fleet

T = TypeVar("T")

#: prometheus_client's own value formatting (``+Inf``, ``NaN``, Go-style exponents), typed.
_go_float = cast(Callable[[float], str], floatToGoString)

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

    @property
    def endpoint(self) -> Endpoint:
        """Where the target answers (every device target has one; the town target is never asked)."""
        assert self.target.endpoint is not None, self.target.id
        return self.target.endpoint


class Metrics:
    """The series one probe reports: rendered straight to the exposition format, or collected by a registry.

    A probe writes a dozen gauges and they are rendered once, so they are kept as plain tuples
    and :meth:`render` writes the text format itself: building ``GaugeMetricFamily`` objects
    and running ``generate_latest`` over a fresh registry costs ~0.2 ms a probe, a sixth of
    the exporter's CPU in a burst of 1,000 (``bench/exporter.py``). Given a registry, it
    registers as a collector too, so ``registry.get_sample_value(...)`` and
    ``generate_latest(registry)`` see the same series (byte for byte when labels are given in
    sorted order, as prometheus_client sorts them; Prometheus itself does not care: tests/exporter).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        #: name -> (help, label names, [(label values, value)])
        self.families: dict[str, tuple[str, tuple[str, ...], list[tuple[tuple[str, ...], float]]]] = {}
        if registry is not None:
            registry.register(self)  # a duck-typed collector

    def gauge(self, name: str, doc: str, value: float, **labels: str) -> None:
        family = self.families.get(name)
        if family is None:
            family = self.families[name] = (doc, tuple(labels), [])
        family[2].append((tuple(labels.values()), float(value)))

    def collect(self) -> Iterator[Metric]:
        out = []
        for name, (doc, keys, samples) in self.families.items():
            family = GaugeMetricFamily(name, doc, labels=list(keys))
            for values, value in samples:
                family.add_metric(list(values), value)
            out.append(family)
        return iter(out)

    def render(self) -> bytes:
        """The text exposition format, as ``generate_latest`` writes it for these gauges."""
        parts: list[str] = []
        for name, (doc, keys, samples) in self.families.items():
            parts.append(f"# HELP {name} {_escape_help(doc)}\n# TYPE {name} gauge\n")
            for values, value in samples:
                if keys:
                    pairs = ",".join(f'{k}="{_escape_label(v)}"' for k, v in zip(keys, values, strict=True))
                    parts.append(f"{name}{{{pairs}}} {_go_float(value)}\n")
                else:
                    parts.append(f"{name} {_go_float(value)}\n")
        return "".join(parts).encode()


def _escape_help(doc: str) -> str:
    return doc.replace("\\", r"\\").replace("\n", r"\n")


def _escape_label(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


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
