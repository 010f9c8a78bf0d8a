"""The exporter's ``inventory`` module: every camera's status and street position, no household data.

No sockets: the prober reads only the loaded inventory.

    .venv/bin/pytest tests/unit/test_inventory_prober.py -q
    curl '127.0.0.1:9830/probe?target=ngoc-lac&module=inventory'   # the same, through the exporter
"""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, generate_latest

from camfleet.exporter.config import Module, Prober
from camfleet.exporter.probers import PROBERS, Metrics, ProbeRequest
from camfleet.exporter.targets import build_targets, sd_labels
from camfleet.inventory import load
from tests.conftest import TOWN


def run_probe() -> tuple[CollectorRegistry, bool]:
    fleet = load(TOWN).fleet
    target = build_targets(fleet)[fleet.town.id]
    registry = CollectorRegistry(auto_describe=False)

    async def go() -> bool:
        req = ProbeRequest(target, "inventory", Module(prober=Prober.inventory), "", "", 0.0, fleet)
        return (await PROBERS[Prober.inventory](req, Metrics(registry))).success

    return registry, asyncio.run(go())


def test_every_camera_with_status_site_and_coordinates() -> None:
    fleet = load(TOWN).fleet
    registry, ok = run_probe()
    assert ok
    cam = fleet.cameras["cam-01-t01"]
    labels = {"camera": cam.id, "site": cam.site, "kind": cam.kind.value, "status": "commissioned"}
    assert registry.get_sample_value("camfleet_camera_info", {**labels, "street": cam.location.street}) == 1
    assert registry.get_sample_value("camfleet_camera_latitude_degrees", {"camera": cam.id}) == cam.location.lat
    assert registry.get_sample_value("camfleet_camera_longitude_degrees", {"camera": cam.id}) == cam.location.lon
    planned = next(c for c in fleet.cameras.values() if c.status.value == "planned")
    assert registry.get_sample_value("camfleet_camera_latitude_degrees", {"camera": planned.id}) == planned.location.lat
    text = generate_latest(registry).decode()
    assert text.count("camfleet_camera_info{") == sum(1 for c in fleet.cameras.values() if c.status.value != "retired")


def test_no_household_data_and_the_town_target_has_no_clashing_labels() -> None:
    fleet = load(TOWN).fleet
    registry, _ = run_probe()
    text = generate_latest(registry).decode()
    assert [h for h in fleet.households if f'"{h}"' in text] == []
    for cam in fleet.cameras.values():
        for private in (cam.location.landmark, cam.location.address):
            assert not private or private not in text
    # site/kind labels on the target would rename the series' own labels to exported_site/kind.
    assert sd_labels(fleet, build_targets(fleet)[fleet.town.id]) == {"role": "town"}
