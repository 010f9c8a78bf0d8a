"""A town's worth of scrapes at once: 300 concurrent ``/probe?module=stream`` all answer 200 with success.

Prometheus' first scrape of a town (or a restart of it) sends every camera's request at once.
Each must be accepted (listen backlog), probed concurrently and answered with a frame-verified
success, and the exporter must be back to nothing in flight afterwards. A generated 300-camera
town (:func:`camfleet.inventory.synthetic.simulable_town`) is simulated on 127.146-148.x.y; the client is httpx, one connection
per request as Prometheus opens them.

    .venv/bin/pytest tests/exporter/test_burst.py -q
    .venv/bin/python bench/exporter.py --cameras 1000 --soak 0      # the same, measured, at 1,000
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from camfleet.inventory import load
from camfleet.inventory.synthetic import DEMO_PASSWORD_FILE, simulable_town
from tests.exporter.test_exporter import value
from tests.integration.simtown import running_exporter, running_town

NET = 146
CAMERAS = 300

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    work = tmp_path_factory.mktemp("burst")
    folder = simulable_town(work / "town", CAMERAS)
    vault = ("--vault-password-file", str(folder / DEMO_PASSWORD_FILE))
    with running_town(work / "state", NET, "--prefill-days", "0", *vault, folder=folder) as town:
        overlay = town.overlay
        fleet = load(folder, overlay=False).fleet
        cameras = [c.id for c in fleet.cameras.values() if c.is_managed and c.network.address][:CAMERAS]
        with running_exporter(overlay, inventory=folder) as base:
            yield base, cameras


async def burst(base: str, cameras: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(cameras), max_keepalive_connections=0)
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": "10"}
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=20, trust_env=False) as client:
        return await asyncio.gather(
            *(client.get("/probe", params={"target": c, "module": "stream"}, headers=headers) for c in cameras)
        )


def test_300_concurrent_stream_probes_all_succeed(exporter: tuple[str, list[str]]) -> None:
    base, cameras = exporter
    assert len(cameras) == CAMERAS
    answers = asyncio.run(burst(base, cameras))
    statuses = {r.status_code for r in answers}
    assert statuses == {200}, statuses
    failed = [r.text for r in answers if value(r.text, "camfleet_probe_success") != 1]
    assert failed == [], f"{len(failed)} failed, first: {failed[0][:400] if failed else ''}"
    widths = {value(r.text, "camfleet_stream_width_pixels") for r in answers}
    assert widths == {640.0}  # every answer is its own camera's frame-verified sub stream
    health = httpx.get(f"{base}/metrics", timeout=5).text
    assert value(health, "camfleet_exporter_probes_total", module="stream", result="success") == CAMERAS
    assert value(health, "camfleet_exporter_probes_in_flight") == 0
