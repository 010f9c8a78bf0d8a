"""The exporter's HTTP face: ``/probe`` (multi-target), ``/metrics`` (its own health), ``/sd``.

One asyncio process serves every probe; aiohttp sets ``TCP_NODELAY`` on each connection, so a
keep-alive scrape does not stall ~40 ms on Nagle + delayed ACK, and the listen backlog (1,024)
holds a whole town's first scrape at once. Each ``/probe`` gets a fresh set of series of its own
(:class:`~camfleet.exporter.probers.base.Metrics`, rendered without a registry: ~50 µs, not
~0.2 ms) and always answers 200 with ``camfleet_probe_success`` and
``camfleet_probe_duration_seconds``: a dead, hung, slow or lying device is a 0 with a
``camfleet_probe_failure_info{reason=...}``, never a 500. Only a request the exporter cannot
honour (unknown module, unknown or unsuitable target, bad timeout header) is a 400 with one
line saying why. The budget is Prometheus' ``X-Prometheus-Scrape-Timeout-Seconds`` minus a
margin, capped by the module's ``timeout_s``, counted from the moment the request began to arrive
(:mod:`camfleet.exporter.listener`), so the time a flood of requests waits for the event loop is
inside it; the whole probe runs under it (``asyncio.timeout_at``), so the answer leaves inside the
scrape even while a thread is still stuck in a hung device. A
device that already has its share of blocking calls in flight answers ``reason="busy"`` at once
(:mod:`camfleet.exporter.probers.base`); ``/metrics`` counts those calls
(``camfleet_exporter_blocking_calls``) and the ones left stuck after their probe answered
(``camfleet_exporter_blocked_calls``).

By hand, on the simulated town::

    .venv/bin/camfleet sim up inventory/ngoc-lac --state .state/sim --detach
    CAMFLEET_OVERLAY=.state/sim/overlay.yml .venv/bin/python -m camfleet.exporter \\
        --config exporters/camfleet.yml --inventory inventory/ngoc-lac --listen 127.0.0.1:9830 &
    curl '127.0.0.1:9830/probe?target=cam-01-t01&module=stream'
    curl '127.0.0.1:9830/sd?module=stream'
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from camfleet.exporter.config import ExporterConfig, Module, Prober
from camfleet.exporter.listener import GuardedSite, HeadDeadline
from camfleet.exporter.probers import BLOCKING, PROBERS, Metrics, Outcome, ProbeRequest
from camfleet.exporter.probers.base import CALLS, TargetBusy
from camfleet.exporter.targets import Snapshot, Towns, TownView, UnknownTarget
from camfleet.exporter.web import WebGuard

log = logging.getLogger("camfleet.exporter")

TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
MIN_BUDGET_S = 0.05
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)


def arrived(request: web.Request) -> float:
    """Loop time the request began to arrive: a flood of requests waits for the event loop before
    its handlers run, and that wait counts against the scrape's timeout too."""
    now = asyncio.get_running_loop().time()
    protocol = request.transport.get_protocol() if request.transport is not None else None
    if isinstance(protocol, HeadDeadline) and 0 < protocol.head_started <= now:
        return protocol.head_started
    return now


class BadRequest(Exception):
    """A request the exporter cannot honour: answered 400 with this one line."""


class SelfMetrics:
    """The exporter's own health, on ``/metrics`` only (never mixed into a probe's output)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            # The default collectors are already registered globally; share them, do not duplicate.
            self.registry.register(collector)
        r = self.registry
        self.probes = Counter(
            "camfleet_exporter_probes_total", "Probes run, by module and result.", ["module", "result"], registry=r
        )
        self.failures = Counter(
            "camfleet_exporter_probe_failures_total",
            "Failed probes by module and reason.",
            ["module", "reason"],
            registry=r,
        )
        self.durations = Histogram(
            "camfleet_exporter_probe_duration_seconds",
            "Time to answer /probe, by module.",
            ["module"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.bad_requests = Counter(
            "camfleet_exporter_bad_requests_total", "Requests answered 400, by endpoint.", ["endpoint"], registry=r
        )
        self.errors = Counter(
            "camfleet_exporter_internal_errors_total",
            "Prober bugs caught (reported as failed probes).",
            ["module"],
            registry=r,
        )
        self.in_flight = Gauge("camfleet_exporter_probes_in_flight", "Probes running now.", registry=r)
        self.blocking_calls = Gauge(
            "camfleet_exporter_blocking_calls",
            "Blocking driver calls in flight (in a pool thread or waiting for one).",
            registry=r,
        )
        self.blocking_calls.set_function(lambda: CALLS.running)
        self.blocked_calls = Gauge(
            "camfleet_exporter_blocked_calls",
            "Blocking driver calls still holding a thread after their probe answered (hung devices).",
            registry=r,
        )
        self.blocked_calls.set_function(lambda: CALLS.blocked)
        self.targets = Gauge("camfleet_exporter_inventory_targets", "Devices the exporter can probe.", registry=r)
        self.reloads = Counter("camfleet_exporter_inventory_reloads_total", "Inventory reloads.", registry=r)
        self.reload_errors = Counter(
            "camfleet_exporter_inventory_reload_errors_total",
            "Inventory reloads that failed (last good kept).",
            registry=r,
        )
        self.last_reload = Gauge(
            "camfleet_exporter_inventory_last_reload_timestamp_seconds", "When the inventory was last read.", registry=r
        )
        self.late_requests = Counter(
            "camfleet_exporter_late_requests_total",
            "Connections closed because a request's head (or TLS handshake) did not arrive within head_timeout_s.",
            registry=r,
        )
        self.web_config_ok = Gauge(
            "camfleet_exporter_web_config_last_reload_successful",
            "0 when the last change to --web.config.file was refused (the last good one is in use).",
            registry=r,
        )


@dataclass
class Exporter:
    """Configuration, the towns it serves and the exporter's own metrics; builds the aiohttp app."""

    config: ExporterConfig
    view: TownView | Towns  # one town (a station), or several (an exporter shard of a district or province)
    #: TLS and basic auth from ``--web.config.file`` (:mod:`camfleet.exporter.web`); None: plain HTTP, open.
    guard: WebGuard | None = field(default=None)

    def __post_init__(self) -> None:
        self.towns = self.view if isinstance(self.view, Towns) else Towns([self.view])
        self.health = SelfMetrics()
        self._watcher: asyncio.Task[None] | None = None
        self._sd_snapshot: tuple[Snapshot, ...] = ()  # the snapshots the cached /sd bodies were built from
        self._sd_bodies: dict[str, bytes] = {}  # ?module= ("" for all) -> JSON
        self._noted_reload()
        if self.guard is not None:
            self.health.web_config_ok.set(1)
            self.guard.on_reload = lambda ok: self.health.web_config_ok.set(1 if ok else 0)

    def _noted_reload(self) -> None:
        self.health.targets.set(self.towns.targets)
        self.health.last_reload.set(time.time())
        # The town (tens of thousands of long-lived objects) out of the cyclic collector's sight until the next
        # reload: its full collections had to walk all of it, a few % of a busy exporter's CPU. The last town is
        # let go first (unfreeze, collect), so reloads do not pile towns up.
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    # ------------------------------------------------------------------ budget and request

    def budget(self, request: web.Request, module: Module) -> float:
        raw = request.headers.get(TIMEOUT_HEADER)
        if raw is None:
            return min(module.timeout_s, self.config.default_timeout_s)
        try:
            scrape = float(raw)
        except ValueError:
            raise BadRequest(f"{TIMEOUT_HEADER}: not a number: {raw[:30]!r}") from None
        if not scrape > 0:
            raise BadRequest(f"{TIMEOUT_HEADER}: must be positive, got {raw[:30]!r}")
        margin = min(self.config.scrape_timeout_margin_s, scrape / 2)
        return max(MIN_BUDGET_S, min(module.timeout_s, scrape - margin))

    def resolve(self, request: web.Request) -> tuple[str, Module, ProbeRequest]:
        query = request.query
        module_name = query.get("module", "")
        target_id = query.get("target", "")
        if not module_name:
            raise BadRequest("missing module=; known modules: " + ", ".join(sorted(self.config.modules)))
        module = self.config.modules.get(module_name)
        if module is None:
            raise BadRequest(f"unknown module {module_name!r}; known modules: {', '.join(sorted(self.config.modules))}")
        if not target_id:
            raise BadRequest("missing target=<device id>")
        try:
            view = self.towns.pick(query.get("town"), target_id)
            target = view.resolve(target_id, module.prober, module_name)
        except UnknownTarget as exc:
            raise BadRequest(str(exc)) from None
        budget = self.budget(request, module)
        snap = view.snapshot
        profile = self.config.credentials[module.credentials]
        if profile.source == "static":
            username, password = profile.username or "", profile.static_password()
        else:
            login = snap.credentials.get(target.id, {})
            username, password = profile.username or login.get("username", ""), login.get("password", "")
        deadline = arrived(request) + budget
        return module_name, module, ProbeRequest(target, module_name, module, username, password, deadline, snap.fleet)

    # ------------------------------------------------------------------ handlers

    async def probe(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            module_name, module, req = self.resolve(request)
        except BadRequest as exc:
            self.health.bad_requests.labels("probe").inc()
            return web.Response(status=400, text=f"{exc}\n")
        out = Metrics()  # this request's own series, rendered by itself (never the exporter's registry)
        self.health.in_flight.inc()
        try:
            if module.prober is not Prober.inventory and not req.password and not req.username:
                outcome = Outcome.fail("no_credentials", f"{req.target.id}: no login in the vault or config profile")
            else:
                if module.prober in BLOCKING:
                    CALLS.check(req.key)  # a device with its calls all in flight: busy before any work
                async with asyncio.timeout_at(req.deadline):
                    outcome = await PROBERS[module.prober](req, out)
        except TimeoutError:
            outcome = Outcome.fail("timeout", f"{req.target.id}: no result within {req.deadline - start:.2f} s")
        except TargetBusy as exc:  # the device's calls are all still in flight: answer now, never queue behind them
            outcome = Outcome.fail("busy", str(exc))
        except Exception as exc:  # a prober bug must not become a 500 and a missing series
            log.exception("probe %s of %s failed", module_name, req.target.id)
            self.health.errors.labels(module_name).inc()
            outcome = Outcome.fail("exporter_error", f"{type(exc).__name__}: {exc}")
        finally:
            self.health.in_flight.dec()
        duration = loop.time() - start
        out.gauge("camfleet_probe_success", "1 if the probe succeeded.", outcome.success)
        out.gauge("camfleet_probe_duration_seconds", "How long the probe took.", duration)
        if not outcome.success:
            out.gauge("camfleet_probe_failure_info", "Why the probe failed (one reason).", 1, reason=outcome.reason)
            self.health.failures.labels(module_name, outcome.reason).inc()
            log.debug("probe %s %s: %s %s", module_name, req.target.id, outcome.reason, outcome.detail)
        self.health.probes.labels(module_name, "success" if outcome.success else "failure").inc()
        self.health.durations.labels(module_name).observe(duration)
        body = out.render()
        if request.query.get("debug") in ("1", "true"):
            detail = outcome.detail.replace("\n", " ")
            body = f"# probe {module_name} {req.target.id}: {outcome.reason or 'ok'} {detail}\n".encode() + body
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.health.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def service_discovery(self, request: web.Request) -> web.Response:
        wanted = request.query.get("module")
        if wanted is not None and wanted not in self.config.modules:
            self.health.bad_requests.labels("sd").inc()
            return web.Response(status=400, text=f"unknown module {wanted!r}\n")
        modules = {
            name: m.prober for name, m in self.config.modules.items() if (name == wanted) or (wanted is None and m.sd)
        }
        # The same answer until the inventory reloads: every Prometheus (shards, an HA pair) asks for every job at
        # each refresh, and a town's list is a few hundred KB of JSON to build.
        snaps, key = self.towns.snapshots(), wanted or ""
        held = self._sd_snapshot
        if not (len(held) == len(snaps) and all(a is b for a, b in zip(held, snaps, strict=True))):
            self._sd_snapshot, self._sd_bodies = snaps, {}
        body = self._sd_bodies.get(key)
        if body is None:
            body = json.dumps(self.towns.service_discovery(modules), ensure_ascii=False).encode()
            self._sd_bodies[key] = body
        return web.Response(body=body, content_type="application/json", charset="utf-8")

    async def index(self, request: web.Request) -> web.Response:
        modules = ", ".join(sorted(self.config.modules))
        return web.Response(
            text=(
                "camfleet exporter\n"
                "  /probe?target=<device id>&module=<module>   probe one device ([&town=<town>] when it serves several)\n"
                "  /sd[?module=<module>]                        Prometheus HTTP service discovery\n"
                "  /metrics                                     the exporter's own health\n"
                f"modules: {modules}\n"
            )
        )

    # ------------------------------------------------------------------ lifecycle

    async def _watch(self) -> None:
        """Re-read the inventory when its files change (off the event loop)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.config.reload_interval_s)
            errors_before = self.towns.reload_errors
            try:
                reloaded = await loop.run_in_executor(None, self.towns.refresh)
            except Exception:  # never let the watcher die: monitoring must outlive a bad edit
                log.exception("inventory watcher")
                continue
            if reloaded:
                self.health.reloads.inc()
                self._noted_reload()
            if self.towns.reload_errors > errors_before:
                self.health.reload_errors.inc()

    async def _start_watch(self, app: web.Application) -> None:
        self._watcher = asyncio.create_task(self._watch())

    async def _stop_watch(self, app: web.Application) -> None:
        if self._watcher is not None:
            self._watcher.cancel()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard.middleware] if self.guard is not None else [])
        app.router.add_get("/", self.index)
        app.router.add_get("/probe", self.probe)
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/sd", self.service_discovery)
        app.on_startup.append(self._start_watch)
        app.on_cleanup.append(self._stop_watch)
        return app


async def start(exporter: Exporter, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve the exporter on ``host:port`` (0: any free port); returns the runner and the port.

    Each request's head must arrive within ``head_timeout_s`` (:mod:`camfleet.exporter.listener`);
    an idle kept-alive connection is closed after ``idle_timeout_s``; a request body left unread
    gets 2 s after the answer (``lingering_time``), not aiohttp's 10.
    """
    config = exporter.config
    runner = web.AppRunner(
        exporter.app(),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=1.0,
        keepalive_timeout=config.idle_timeout_s,
        lingering_time=2.0,
    )
    await runner.setup()
    site = GuardedSite(
        runner,
        host,
        port,
        head_timeout_s=config.head_timeout_s,
        on_timeout=exporter.health.late_requests.inc,
        ssl_context=exporter.guard.ssl_context if exporter.guard is not None else None,
    )
    await site.start()
    return runner, int(runner.addresses[0][1])
