"""Where camfleet sends a packet is decided in one place, Fleet.endpoint(): the inventory's address, or
with an overlay the simulator's loopback one, and a device the overlay does not know is refused
(never reached at its real address). No sockets: a refusal must come before any connection.

    .venv/bin/pytest tests/unit/test_endpoints.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

from camfleet.drivers import open_driver, open_router, stream_url
from camfleet.exporter.config import Prober
from camfleet.exporter.targets import TownView, UnknownTarget
from camfleet.inventory import load
from camfleet.inventory.fleet import EndpointError, Fleet
from camfleet.jobs.base import Credentials, JobError, connect
from tests.conftest import TOWN

LOGIN = Credentials("admin", "x")


@pytest.fixture
def simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fleet:
    overlay = tmp_path / "overlay.yml"
    overlay.write_text(
        "town: ngoc-lac\ndevices:\n"
        "  cam-01-t01: {address: 127.10.1.2, http_port: 8080, rtsp_port: 8554}\n"
        "  nvr-01: {address: 127.10.0.11}\n"
        "  lr-01-01: {address: 127.10.2.1, ssh_port: 2222}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CAMFLEET_OVERLAY", str(overlay))
    return load(TOWN).fleet


def test_without_an_overlay_devices_are_reached_at_their_inventory_address() -> None:
    fleet = load(TOWN, overlay=False).fleet
    cam = fleet.cameras["cam-05-t02"]
    assert fleet.endpoint(cam.id).host == cam.network.address
    assert (
        stream_url(fleet, cam.id, sub=True) == f"rtsp://{cam.network.address}:554/cam/realmonitor?channel=1&subtype=1"
    )
    planned = next(c for c in fleet.cameras.values() if c.network.address is None)
    with pytest.raises(EndpointError, match=r"no network\.address"):
        fleet.endpoint(planned.id)


def test_the_overlay_gives_loopback_endpoints_and_keeps_the_real_entries(simulated: Fleet) -> None:
    where = simulated.endpoint("cam-01-t01")
    assert (where.host, where.http_port, where.rtsp_port) == ("127.10.1.2", 8080, 8554)
    assert simulated.endpoint("nvr-01").http_port == 80  # a port the overlay leaves out is the inventory's
    assert simulated.endpoint("lr-01-01").ssh_port == 2222
    assert simulated.cameras["cam-01-t01"].network.address.startswith("10.")  # configs render from these
    assert stream_url(simulated, "cam-01-t01").startswith("rtsp://127.10.1.2:8554/")
    with open_driver(simulated, "cam-01-t01", "admin", "x") as driver:
        assert (driver.host, driver.port) == ("127.10.1.2", 8080)
    assert open_router(simulated, "lr-01-01", "admin", "x").host == "127.10.2.1"


def test_a_device_the_overlay_does_not_know_is_refused_everywhere(simulated: Fleet) -> None:
    outside = "cam-01-t02"
    with pytest.raises(EndpointError, match="not in the simulator's overlay"):
        simulated.endpoint(outside)
    with pytest.raises(EndpointError, match="never reaches a device at its real address"):
        open_driver(simulated, outside, "admin", "x")
    with pytest.raises(EndpointError):
        stream_url(simulated, outside)
    with pytest.raises(EndpointError):
        open_router(simulated, "lr-01-02", "admin", "x")
    with pytest.raises(JobError, match=f"{outside}: not in the simulator's overlay"):
        connect(simulated, outside, LOGIN, timeout=1)


def test_the_exporter_refuses_a_target_outside_the_overlay(simulated: Fleet) -> None:
    view = TownView(TOWN)
    view.load()
    assert view.resolve("cam-01-t01", Prober.stream, "stream").endpoint is not None
    with pytest.raises(UnknownTarget, match="not in the simulator's overlay"):
        view.resolve("cam-01-t02", Prober.stream, "stream")
    listed = {g["targets"][0] for g in view.service_discovery({"stream": Prober.stream})}
    assert "cam-01-t02" not in listed
