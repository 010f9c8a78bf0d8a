"""What every prober shares: the request it gets, the outcome it returns, how it writes metrics,
and how it runs a blocking driver call inside the scrape budget.

Every prober has one signature (blackbox ``prober/handler.go``)::

    async def probe(req: ProbeRequest, out: Metrics) -> Outcome

It writes its own series into ``out`` and returns success or a failure with a short ``reason``
from a small, stable set (it becomes a label). It never raises for anything a device does; the
server turns a blown budget into ``reason="timeout"`` and adds ``camfleet_probe_success`` and
``camfleet_probe_duration_seconds``.

Blocking drivers (httpx, netmiko) run through :data:`CALLS` (:class:`BlockingCalls`), built so
that hung devices cannot starve healthy ones (issue 15, item 3), as blackbox_exporter would:

* at most :data:`PER_TARGET` blocking calls of one device in flight; a further probe of it (a
  hung device scraped again, a burst of probes at it) answers ``reason="busy"`` at once instead
  of queueing behind a call that may never return (:class:`TargetBusy`, turned into the outcome
  by the server);
* one pool of :data:`WORKERS` threads, more than :data:`PER_TARGET` times the hung devices it is
  built to survive (100 hung devices hold at most 300 threads, the rest serve healthy ones); the
  per-device cap bounds its queue (never more than ``PER_TARGET`` calls per device), so memory
  stays bounded;
* the probe's deadline bounds the wait, not the call: when it passes, the server answers
  ``reason="timeout"`` at once while the thread may still be stuck in the device until the
  driver's own timeout. That thread keeps its device's slot (the device stays ``busy``) and is
  counted in :attr:`BlockingCalls.blocked` (``camfleet_exporter_blocked_calls`` on ``/metrics``);
  a call whose probe gave up before a thread took it is never started.

By hand (a camera that accepts and never answers: ``camfleet sim fault cam-01-t02 hang``)::

    for i in $(seq 10); do curl -s -H 'X-Prometheus-Scrape-Timeout-Seconds: 3' \\
        '127.0.0.1:9830/probe?target=cam-01-t02&module=device' | grep failure & done; wait
    curl -s 127.0.0.1:9830/metrics | grep -E 'blocked_calls|blocking_calls'
"""

from __future__ import annotations

import asyncio
import threading
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
    ReplyTooLarge,
    Unreachable,
    Unsupported,
)
from camfleet.exporter.config import Module
from camfleet.exporter.targets import Target
from camfleet.inventory.fleet import Endpoint, Fleet

T = TypeVar("T")

#: prometheus_client's own value formatting (``+Inf``, ``NaN``, Go-style exponents), typed.
_go_float = cast(Callable[[float], str], floatToGoString)


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

    @property
    def key(self) -> str:
        """The device across every town this exporter serves (:func:`device_key`)."""
        return device_key(self.fleet, self.target.id)

    def remaining(self) -> float:
        return max(0.0, self.deadline - asyncio.get_running_loop().time())

    @property
    def endpoint(self) -> Endpoint:
        """Where the target answers (every device target has one; the town target is never asked)."""
        assert self.target.endpoint is not None, self.target.id
        return self.target.endpoint


def device_key(fleet: Fleet, device_id: str) -> str:
    """A device across every town one exporter serves: ids repeat from town to town (each has a cam-01-t01), so the
    per-device state (blocking calls, streams seen, cached URLs and searches) is keyed by town and id."""
    return f"{fleet.town.id}/{device_id}"


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


#: Blocking calls one device may have in flight: a probe per gated module (``device``, ``recorder``)
#: from each of an HA pair of Prometheus servers overlaps rarely; a hung device holds no more.
PER_TARGET = 3
#: Threads for blocking calls, every device together: 100 hung devices (300 threads) and the healthy
#: rest beside them. A waiting thread costs ~20 KiB of RSS; the pool starts them only when needed.
WORKERS = 384


class TargetBusy(Exception):
    """The device already has :data:`PER_TARGET` blocking calls in flight: the probe answers ``busy``."""

    def __init__(self, target: str, held: int) -> None:
        self.target = target
        super().__init__(f"{target}: {held} calls to the device still in flight (hung or probed too often)")


@dataclass
class _Call:
    target: str
    started: bool = False
    finished: bool = False
    abandoned: bool = False  # its probe gave up (deadline) before it returned


class BlockingCalls:
    """Blocking calls in a bounded pool, at most ``per_target`` of one device in flight at once.

    ``running`` counts the calls admitted and not yet returned (waiting for a thread or in one);
    ``blocked`` those of them still in a thread after their probe gave up: threads held by hung devices.
    """

    def __init__(self, workers: int = WORKERS, per_target: int = PER_TARGET) -> None:
        self.per_target = per_target
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="camfleet-probe")
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}  # device -> calls in flight (entries at 0 removed: bounded)
        self.running = 0
        self.blocked = 0

    def held(self, target: str) -> int:
        """Calls of ``target`` in flight now."""
        return self._held.get(target, 0)

    def check(self, target: str) -> None:
        """:class:`TargetBusy` if ``target`` has its share in flight: the server asks before a prober
        builds a driver (~1 ms of the event loop each, 0.3 s for a flood of 300 at hung devices)."""
        held = self._held.get(target, 0)
        if held >= self.per_target:
            raise TargetBusy(target, held)

    async def run(self, target: str, fn: Callable[[], T]) -> T:
        """``fn()`` in a pool thread, or :class:`TargetBusy` at once if ``target`` has its share in flight."""
        call = _Call(target)
        with self._lock:
            held = self._held.get(target, 0)
            if held >= self.per_target:
                raise TargetBusy(target, held)
            self._held[target] = held + 1
            self.running += 1
        try:
            future = self._pool.submit(self._work, call, fn)
        except BaseException:
            self._release(call)
            raise
        future.add_done_callback(lambda _: self._release(call))  # also when cancelled before a thread took it
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:  # the probe's deadline (or a closed connection): the thread may stay
            with self._lock:
                if not call.finished:
                    call.abandoned = True
                    if call.started:
                        self.blocked += 1
            raise

    def _work(self, call: _Call, fn: Callable[[], T]) -> T:
        with self._lock:
            if call.abandoned:  # nobody waits for it any more: never reach the device for nothing
                raise asyncio.CancelledError
            call.started = True
        return fn()

    def _release(self, call: _Call) -> None:
        with self._lock:
            if call.finished:
                return
            call.finished = True
            self.running -= 1
            if call.abandoned and call.started:
                self.blocked -= 1
            left = self._held[call.target] - 1
            if left:
                self._held[call.target] = left
            else:
                del self._held[call.target]


#: The exporter's one pool of blocking calls (its counts are on ``/metrics``).
CALLS = BlockingCalls()


async def run_blocking(req: ProbeRequest, fn: Callable[[], T]) -> T:
    """Run ``fn`` through :data:`CALLS`: :class:`TargetBusy` at once if the device has its share of calls
    in flight; the caller's budget (asyncio timeout) bounds the wait, a stuck thread stays counted."""
    return await CALLS.run(req.key, fn)


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
    elif isinstance(err, ReplyTooLarge):  # an endless or huge reply, cut at its cap
        reason = "too_large"
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
