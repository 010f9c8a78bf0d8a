"""Hung devices must not starve healthy probes (issue 15, item 3).

The exporter runs as a real subprocess over the reference town with an overlay of our own: every
managed camera but one points at a loopback server that accepts and never answers (some send a
status line first, then stall), each on its own 127.205.0.x; ``cam-01-t01`` is a healthy fake
Hikvision camera (``tests/drivers/driver_sim.py``, a random 127.77.x.y). A flood of 300 concurrent
``device`` probes at the hung cameras runs while healthy probes are sent: every healthy one answers
``camfleet_probe_success 1`` inside its ``X-Prometheus-Scrape-Timeout-Seconds``, every hung one a 0
with reason ``timeout`` or ``busy`` inside the same header; ``/metrics`` shows each hung device
holding at most its share of blocking calls, and none left once the drivers' own timeouts end them.
A second test follows one call stuck past its probe (``camfleet_exporter_blocked_calls``) in-process.

With one shared 64-thread pool (before this test), the flood fills every thread and the healthy
probes wait behind it until their deadline: they answer ``reason="timeout"``.

    .venv/bin/pytest tests/exporter/test_hung_targets.py -q
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import pytest
import yaml

from camfleet.exporter.probers.base import PER_TARGET, BlockingCalls, TargetBusy
from camfleet.inventory import load
from camfleet.sim import hikvision
from camfleet.sim.devices import CameraState
from tests.conftest import ROOT, TOWN
from tests.drivers.driver_sim import served
from tests.exporter.test_exporter import value
from tests.integration.simtown import running_exporter

NET = 205  # the hung servers' addresses: 127.205.0.x
PASSWORD = "Ngoc-Lac-2023"
HEALTHY = "cam-01-t01"
SCRAPE_TIMEOUT = 3.0
HUNG_PROBES = 300
HEALTHY_PROBES = 12

pytestmark = pytest.mark.slow


class HungServers:
    """Loopback TCP servers that accept and never answer (``stall_after`` bytes sent first, if any)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hung-devices", daemon=True)
        self.thread.start()
        self.servers: list[asyncio.Server] = []

    def add(self, host: str, stall_after: bytes = b"") -> int:
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if stall_after:
                writer.write(stall_after)
            try:
                await reader.read(1 << 20)  # the request; then nothing until the client gives up
                await reader.read()
            finally:
                writer.close()

        async def start() -> int:
            server = await asyncio.start_server(hold, host, 0, backlog=512)
            self.servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(5)

    def close(self) -> None:
        async def stop() -> None:
            for server in self.servers:
                server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def healthy_camera() -> CameraState:
    return CameraState.configured(
        "hikvision",
        "DS-2CD1023G2-LIU",
        "DS-2CD1023G2-LIU20230101AAWRJ83813",
        "c0:56:e3:00:00:01",
        "V5.7.15 build 230519",
        admin_password=PASSWORD,
        name=HEALTHY,
        ntp_server="10.20.0.1",
    )


@pytest.fixture(scope="module")
def devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """The overlay (healthy camera, hung ones) and the hung cameras' ids."""
    fleet = load(TOWN, overlay=False).fleet
    cameras = [c.id for c in fleet.cameras.values() if c.is_managed and c.network.address and c.id != HEALTHY]
    hung = HungServers()
    try:
        with served(hikvision.camera_app, healthy_camera()) as dev:
            entries: dict[str, dict[str, object]] = {HEALTHY: {"address": dev.host, "http_port": dev.port}}
            for i, cam in enumerate(cameras):
                host = f"127.{NET}.0.{10 + i}"
                # One in four sends a status line and stalls: a reply that starts, then never ends.
                stall = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n" if i % 4 == 3 else b""
                entries[cam] = {"address": host, "http_port": hung.add(host, stall)}
            overlay = tmp_path_factory.mktemp("hung") / "overlay.yml"
            overlay.write_text(yaml.safe_dump({"town": fleet.town.id, "devices": entries}), encoding="utf-8")
            yield overlay, cameras
    finally:
        hung.close()


@pytest.fixture(scope="module")
def exporter(devices: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    overlay, _ = devices
    config = yaml.safe_load((ROOT / "exporters" / "camfleet.yml").read_text(encoding="utf-8"))
    config["credentials"]["fake"] = {"source": "static", "username": "admin", "password": PASSWORD}
    config["modules"]["device_fake"] = {"prober": "device", "credentials": "fake", "timeout_s": 10}
    path = tmp_path_factory.mktemp("exporter") / "camfleet.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with running_exporter(overlay, config=path) as base:
        yield base


@dataclass
class Answer:
    status: int
    text: str
    took: float  # request sent to answer read, client side


async def timed_probe(client: aiohttp.ClientSession, base: str, target: str) -> Answer:
    """One scrape as Prometheus sends it: its own connection, the timeout header."""
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": str(SCRAPE_TIMEOUT)}
    start = time.monotonic()
    async with client.get(f"{base}/probe", params={"target": target, "module": "device_fake"}, headers=headers) as r:
        return Answer(r.status, await r.text(), time.monotonic() - start)


async def flood(base: str, hung: list[str]) -> tuple[list[Answer], list[Answer], list[float]]:
    # aiohttp, one connection per request: httpx's async pool spends seconds of this process's CPU
    # on 300 connections at once, and that would be timed as the exporter's.
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=SCRAPE_TIMEOUT + 10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        first = await timed_probe(client, base, HEALTHY)  # the exporter's imports and first login, before timing
        assert value(first.text, "camfleet_probe_success") == 1, first.text
        flooding = asyncio.gather(*(timed_probe(client, base, hung[i % len(hung)]) for i in range(HUNG_PROBES)))
        calls: list[float] = []  # camfleet_exporter_blocking_calls, read while the flood runs

        async def watch() -> None:
            while not flooding.done():
                async with client.get(f"{base}/metrics") as r:
                    calls.append(value(await r.text(), "camfleet_exporter_blocking_calls") or 0.0)
                await asyncio.sleep(0.2)

        watching = asyncio.create_task(watch())
        await asyncio.sleep(0.5)  # the flood is in: every hung device holds what it can
        healthy = []
        for _ in range(HEALTHY_PROBES // 2):  # rounds of two at once (a device and a recorder module), across the flood
            healthy += await asyncio.gather(*(timed_probe(client, base, HEALTHY) for _ in range(2)))
            await asyncio.sleep(0.25)
        hung_answers = await flooding
        await watching
        return healthy, hung_answers, calls


def test_a_flood_of_hung_devices_does_not_starve_a_healthy_one(devices: tuple[Path, list[str]], exporter: str) -> None:
    _, hung = devices
    healthy, hung_answers, calls = asyncio.run(flood(exporter, hung))

    seen = [(round(a.took, 2), reason_of(a)) for a in healthy]
    assert all(a.status == 200 and value(a.text, "camfleet_probe_success") == 1 for a in healthy), seen
    assert max(a.took for a in healthy) < SCRAPE_TIMEOUT, seen

    assert {a.status for a in hung_answers} == {200}
    assert all(value(a.text, "camfleet_probe_success") == 0 for a in hung_answers)
    reasons = [reason_of(a) for a in hung_answers]
    # the first calls of each device wait out the deadline, the rest are turned away at once
    assert set(reasons) == {"timeout", "busy"}, set(reasons)
    assert len(hung) <= reasons.count("timeout") <= PER_TARGET * len(hung)
    slowest = sorted(round(a.took, 2) for a in hung_answers)[-5:]
    assert slowest[-1] < SCRAPE_TIMEOUT, slowest

    # each hung device holds its share of calls, no more (and the healthy camera at most its own)
    assert len(hung) <= max(calls) <= PER_TARGET * (len(hung) + 1), calls
    deadline = time.monotonic() + 15
    while True:  # the drivers' own timeouts end the stuck calls: nothing is left held
        health = httpx.get(f"{exporter}/metrics", timeout=5).text
        left = value(health, "camfleet_exporter_blocking_calls"), value(health, "camfleet_exporter_blocked_calls")
        if left == (0, 0):
            break
        assert time.monotonic() < deadline, f"calls still in flight, blocked: {left}"
        time.sleep(0.3)
    busy = value(health, "camfleet_exporter_probe_failures_total", module="device_fake", reason="busy")
    assert busy == reasons.count("busy")


def reason_of(answer: Answer) -> str:
    found = re.search(r'camfleet_probe_failure_info\{reason="([^"]+)"\}', answer.text)
    return found.group(1) if found else "ok"


def test_a_call_stuck_past_its_probe_is_counted_until_it_returns() -> None:
    """In-process, real threads: the probe gives up at its deadline, the call holds its thread and its
    device's share (the device is ``busy``) and is counted as blocked until it really returns."""
    calls = BlockingCalls(workers=4, per_target=2)
    release = threading.Event()

    async def scenario() -> list[object]:
        seen: list[object] = []
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await calls.run("cam-hung", release.wait)
        seen.append((calls.running, calls.blocked, calls.held("cam-hung")))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await calls.run("cam-hung", release.wait)
        with pytest.raises(TargetBusy):  # its share is held by the stuck calls: turned away at once
            await calls.run("cam-hung", release.wait)
        seen.append((calls.running, calls.blocked))
        seen.append(await calls.run("cam-ok", lambda: "answered"))  # another device is not held up
        release.set()
        for _ in range(100):
            if calls.running == 0:
                break
            await asyncio.sleep(0.02)
        seen.append((calls.running, calls.blocked, calls.held("cam-hung")))
        return seen

    assert asyncio.run(scenario()) == [(1, 1, 1), (2, 2), "answered", (0, 0, 0)]
