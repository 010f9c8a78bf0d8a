"""The exporter over HTTP against the simulated town (``camfleet sim`` on 127.121-123.x.y).

Healthy devices give ``camfleet_probe_success 1`` with the inventory profile's resolution; every
injected fault gives 0 with a reason, never a 500, always inside the scrape timeout header's
budget; bad requests are 400; ``/sd`` carries no household data.

    .venv/bin/pytest tests/exporter -q
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from camfleet.drivers.hikvision import HikvisionCamera
from camfleet.jobs.base import Credentials, connect_router
from camfleet.sim.devices import make_firmware
from tests.conftest import ROOT, TOWN
from tests.integration.simtown import Town, running_exporter, running_town

NET = 121
SCRAPE_TIMEOUT = 2.0

pytestmark = pytest.mark.slow


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("sim"), NET) as t:
        yield t


@pytest.fixture(scope="module")
def exporter(town: Town, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = yaml.safe_load((ROOT / "exporters" / "camfleet.yml").read_text(encoding="utf-8"))
    config["credentials"]["wrong"] = {"source": "static", "username": "admin", "password": "not-the-password"}
    config["modules"]["stream_wrong_password"] = {"prober": "stream", "credentials": "wrong"}
    path = tmp_path_factory.mktemp("exporter") / "camfleet.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with running_exporter(town.overlay, config=path) as base:
        yield base


#: One keep-alive client: a new httpx client per call costs ~0.1-0.3 s (TLS context) and would be timed too.
CLIENT = httpx.Client(timeout=10, trust_env=False)


def probe(base: str, target: str, module: str, budget: float = SCRAPE_TIMEOUT) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    headers = {"X-Prometheus-Scrape-Timeout-Seconds": str(budget)}
    resp = CLIENT.get(f"{base}/probe", params={"target": target, "module": module}, headers=headers, timeout=budget + 5)
    return resp, time.monotonic() - start


def test_healthy_camera_streams_at_its_profile_resolution(town: Town, exporter: str) -> None:
    simulated = yaml.safe_load(town.overlay.read_text(encoding="utf-8"))["devices"]
    dahua = next(
        c.id for c in town.fleet.cameras.values() if c.device and c.device.vendor.value == "dahua" and c.id in simulated
    )
    for cam_id in ("cam-01-t01", dahua):
        resp, took = probe(exporter, cam_id, "stream")
        assert resp.status_code == 200
        cam = town.fleet.cameras[cam_id]
        assert cam.stream is not None and cam.stream.sub is not None
        profile = town.fleet.profiles[cam.stream.sub]
        assert value(resp.text, "camfleet_probe_success") == 1, resp.text
        assert value(resp.text, "camfleet_stream_width_pixels") == profile.width
        assert value(resp.text, "camfleet_stream_height_pixels") == profile.height
        fps = value(resp.text, "camfleet_stream_fps")
        assert fps is not None and abs(fps - profile.fps) <= 1
        assert took < SCRAPE_TIMEOUT


def test_main_stream_module_checks_the_main_profile(town: Town, exporter: str) -> None:
    resp, _ = probe(exporter, "cam-01-t01", "stream_main")
    profile = town.fleet.profiles["main-1080p"]
    assert value(resp.text, "camfleet_probe_success") == 1
    assert value(resp.text, "camfleet_stream_width_pixels") == profile.width


@pytest.mark.parametrize(
    ("device", "fault", "params", "module", "reasons"),
    [
        ("cam-01-t02", "frozen", (), "stream", {"no_frames"}),
        ("cam-01-t03", "offline", (), "stream", {"refused"}),
        ("cam-01-t04", "slow", ("--param", "delay_s=5"), "stream", {"timeout"}),
        ("cam-01-t05", "hang", (), "stream", {"timeout"}),
        ("cam-02-t01", "locked", (), "stream", {"auth"}),
        ("nvr-02", "malformed", (), "recorder", {"malformed"}),
        ("cam-02-t02", "hang", (), "device", {"timeout"}),
        ("lr-03-01", "hang", (), "link", {"timeout"}),
        ("lr-03-02", "offline", (), "link", {"refused"}),
    ],
)
def test_a_fault_is_a_zero_with_a_reason_inside_the_budget(
    town: Town, exporter: str, device: str, fault: str, params: tuple[str, ...], module: str, reasons: set[str]
) -> None:
    town.fault(device, fault, *params)
    try:
        resp, took = probe(exporter, device, module)
    finally:
        town.fault(device, fault, "--clear")
    assert resp.status_code == 200, resp.text
    assert value(resp.text, "camfleet_probe_success") == 0, resp.text
    got = {dict(labels)["reason"] for (name, labels) in samples(resp.text) if name == "camfleet_probe_failure_info"}
    assert got & reasons, resp.text
    assert took < SCRAPE_TIMEOUT, f"{took:.2f}s"


def test_frozen_camera_recovers_when_the_fault_clears(town: Town, exporter: str) -> None:
    town.fault("cam-02-t03", "frozen")
    resp, _ = probe(exporter, "cam-02-t03", "stream")
    assert value(resp.text, "camfleet_probe_success") == 0
    town.fault("cam-02-t03", "frozen", "--clear")
    resp, _ = probe(exporter, "cam-02-t03", "stream")
    assert value(resp.text, "camfleet_probe_success") == 1


def test_wrong_password_profile_is_an_auth_failure(exporter: str) -> None:
    resp, _took = probe(exporter, "cam-03-t01", "stream_wrong_password")
    assert value(resp.text, "camfleet_probe_success") == 0
    assert value(resp.text, "camfleet_probe_failure_info", reason="auth") == 1
    assert "not-the-password" not in resp.text


def test_recorder_reports_disks_channels_and_retention(town: Town, exporter: str) -> None:
    resp, _took = probe(exporter, "nvr-01", "recorder", budget=10.0)  # a healthy answer, not the budget, is tested
    assert value(resp.text, "camfleet_probe_success") == 1, resp.text
    disks = town.fleet.recorders["nvr-01"].disks
    assert value(resp.text, "camfleet_recorder_disk_healthy", slot="1") == 1
    assert len([k for k in samples(resp.text) if k[0] == "camfleet_recorder_disk_capacity_bytes"]) == len(disks)
    assert (
        value(
            resp.text, "camfleet_recorder_channel_recording", channel="1", camera="cam-01-t01", link_router="lr-01-01"
        )
        == 1
    )
    retention = value(
        resp.text, "camfleet_recorder_retention_days", channel="1", camera="cam-01-t01", link_router="lr-01-01"
    )
    assert retention is not None and retention > 20  # the simulator prefills 60 days on disks that hold ~50
    assert value(resp.text, "camfleet_recorder_retention_target_days") == town.fleet.town.storage.retention_days


def test_recorder_disk_failure_shows_on_its_slot(town: Town, exporter: str) -> None:
    town.fault("nvr-01", "disk_failed", "--param", "slot=2")
    try:
        resp, _ = probe(exporter, "nvr-01", "recorder")
    finally:
        town.fault("nvr-01", "disk_failed", "--clear")
    assert value(resp.text, "camfleet_recorder_disk_healthy", slot="2") == 0
    assert value(resp.text, "camfleet_recorder_disk_healthy", slot="1") == 1


def test_device_module_firmware_clock_and_services(town: Town, exporter: str) -> None:
    resp, _ = probe(exporter, "cam-01-t01", "device")
    assert value(resp.text, "camfleet_probe_success") == 1, resp.text
    assert value(resp.text, "camfleet_device_firmware_vulnerable") == 0
    assert value(resp.text, "camfleet_device_service_enabled", service="p2p") == 0
    skew = value(resp.text, "camfleet_device_clock_skew_seconds")
    assert skew is not None and abs(skew) < 2
    town.fault("cam-01-t01", "clock_drift", "--param", "seconds=600")
    try:
        resp, _ = probe(exporter, "cam-01-t01", "device")
    finally:
        town.fault("cam-01-t01", "clock_drift", "--clear")
    skew = value(resp.text, "camfleet_device_clock_skew_seconds")
    assert skew is not None and 590 < skew < 610


def test_device_module_flags_a_build_older_than_the_catalogue_names(town: Town, exporter: str) -> None:
    """The gauge judges as the firmware job does: by version order against the catalogue's vulnerable
    ranges, so a build no list names (older than every one) still reads vulnerable."""
    cam = "cam-07-t01"
    before, _ = probe(exporter, cam, "device")
    assert value(before.text, "camfleet_device_firmware_vulnerable") == 0, before.text
    cred = town.creds[cam]
    with HikvisionCamera(cam, town.address(cam), 80, cred["username"], cred["password"]) as d:
        model = d.facts().model
        d.firmware_upload(make_firmware(model, "V5.4.5 build 160530"))
        d.reboot()
        assert d.wait_online(timeout_s=30, poll_s=0.2).firmware == "V5.4.5 build 160530"
    after, _ = probe(exporter, cam, "device")
    assert value(after.text, "camfleet_device_firmware_vulnerable") == 1, after.text
    assert value(after.text, "camfleet_device_firmware_approved") == 0


def test_link_module_sees_the_router(town: Town, exporter: str) -> None:
    resp, _ = probe(exporter, "lr-01-01", "link")
    assert value(resp.text, "camfleet_probe_success") == 1
    assert value(resp.text, "camfleet_link_up") == 1
    # The exporter never pins a router's SSH host key: until a job a person runs has met the router, it
    # does not log in.
    resp, _ = probe(exporter, "lr-01-01", "link_wireguard")
    assert value(resp.text, "camfleet_probe_failure_info", reason="host_key_unknown") == 1
    cred = town.creds["lr-01-01"]
    with connect_router(town.fleet, "lr-01-01", Credentials(cred["username"], cred["password"]), timeout=5) as r:
        assert r.facts().version and "recorded SSH host key" in r.host_key.note
    resp, _ = probe(exporter, "lr-01-01", "link_wireguard")
    assert value(resp.text, "camfleet_probe_success") == 1, resp.text


def test_bad_requests_are_400_with_one_line(exporter: str) -> None:
    for params, words in (
        ({"target": "cam-01-t01", "module": "nope"}, "unknown module"),
        ({"target": "cam-99-t99", "module": "stream"}, "unknown target"),
        ({"target": "cam-01-t01", "module": "recorder"}, "is a camera"),
        ({"module": "stream"}, "missing target"),
    ):
        resp = httpx.get(f"{exporter}/probe", params=params, timeout=5)
        assert resp.status_code == 400 and words in resp.text and resp.text.count("\n") == 1, resp.text


def test_sd_lists_devices_per_module_without_household_data(town: Town, exporter: str) -> None:
    from camfleet.inventory.vault import read_vault

    groups = httpx.get(f"{exporter}/sd", params={"module": "stream"}, timeout=5).json()
    ids = {g["labels"]["__param_target"] for g in groups}
    assert "cam-01-t01" in ids and all(g["labels"]["__param_module"] == "stream" for g in groups)
    cam = next(g for g in groups if g["labels"]["__param_target"] == "cam-01-t01")["labels"]
    assert cam["link_router"] == "lr-01-01" and cam["recorder"] == "nvr-01" and cam["site"] == "kp-01"
    everything = httpx.get(f"{exporter}/sd", timeout=5).text
    contacts = read_vault(TOWN, "contacts")["vault_contacts"]
    secrets = read_vault(TOWN, "secrets")["vault_device_credentials"]
    leaked = [v for p in contacts.values() for v in (str(p["name"]), str(p["phone"])) if v in everything]
    leaked += [c["password"] for c in secrets.values() if c["password"] in everything]
    leaked += [h for h in town.fleet.households if f'"{h}"' in everything]
    assert len(contacts) > 60 and leaked == []


def test_metrics_is_the_exporters_own_health_only(exporter: str) -> None:
    text = httpx.get(f"{exporter}/metrics", timeout=5).text
    assert "camfleet_exporter_probes_total" in text
    assert "camfleet_probe_success" not in text and "camfleet_stream_" not in text


def test_coverage_counts_the_cameras_the_stream_probes_saw_up(town: Town, exporter: str) -> None:
    """cam-05-t03 is the only camera that sees Đường Minh Khai (30 m of it); cam-08-t02 the only one on Lê Hoàn
    and never stream-probed here; community cam-06-c03 (not probed: no address) the only one on Phạm Văn Đồng."""
    from camfleet.inventory.coverage import coverage

    def covered(text: str, route: str) -> float | None:
        return value(text, "camfleet_route_covered_meters", route=route)

    alone = {r.route.id: r.covered_m for r in coverage(town.fleet, [town.fleet.cameras["cam-05-t03"]]).routes}
    assert alone["minh-khai"] > 25
    town.fault("cam-05-t03", "frozen")
    try:
        resp, _ = probe(exporter, "cam-05-t03", "stream")
        assert value(resp.text, "camfleet_probe_success") == 0
        resp, _ = probe(exporter, "ngoc-lac", "coverage")
    finally:
        town.fault("cam-05-t03", "frozen", "--clear")
    assert value(resp.text, "camfleet_probe_success") == 1, resp.text
    assert covered(resp.text, "minh-khai") == 0
    assert value(resp.text, "camfleet_route_coverage_ratio", route="minh-khai", site="kp-05", priority="3") == 0
    assert covered(resp.text, "le-hoan") == 0  # never probed: not known to be up
    assert covered(resp.text, "pham-van-dong") == pytest.approx(30, abs=0.1)  # unprobed: counted by its status
    assert (value(resp.text, "camfleet_coverage_cameras", state="unprobed") or 0) >= 1

    resp, _ = probe(exporter, "cam-05-t03", "stream")
    assert value(resp.text, "camfleet_probe_success") == 1
    resp, _ = probe(exporter, "ngoc-lac", "coverage")
    assert covered(resp.text, "minh-khai") == pytest.approx(alone["minh-khai"], abs=0.01)
    length = value(resp.text, "camfleet_route_length_meters", route="minh-khai")
    ratio = value(resp.text, "camfleet_route_coverage_ratio", route="minh-khai", site="kp-05", priority="3")
    assert length and ratio == pytest.approx(alone["minh-khai"] / length)
    assert "hh-" not in resp.text


def test_a_shared_onvif_camera_is_probed_through_its_stream_uri(town: Town, exporter: str) -> None:
    """cam-05-c01, an owner's Imou shared with the station (``managed: true``, driver ``onvif``): the stream
    module gets its URL from the camera's GetStreamUri and finds frames; the device module reads it
    through ONVIF; the inventory module marks it shared."""
    resp, took = probe(exporter, "cam-05-c01", "stream")
    assert value(resp.text, "camfleet_probe_success") == 1, resp.text
    assert (value(resp.text, "camfleet_stream_width_pixels"), value(resp.text, "camfleet_stream_height_pixels")) == (
        640,
        360,
    )
    assert took < SCRAPE_TIMEOUT
    resp, _ = probe(exporter, "cam-05-c01", "device")
    assert value(resp.text, "camfleet_probe_success") == 1, resp.text
    info = [k for k in samples(resp.text) if k[0] == "camfleet_device_info"]
    assert info and dict(info[0][1])["vendor"] == "imou" and dict(info[0][1])["model"] == "IPC-F22P"
    resp, _ = probe(exporter, "ngoc-lac", "inventory")
    assert value(resp.text, "camfleet_camera_shared", camera="cam-05-c01") == 1
    assert value(resp.text, "camfleet_camera_shared", camera="cam-05-c02") == 0
    resp, _ = probe(exporter, "cam-05-c01", "stream_wrong_password")
    assert value(resp.text, "camfleet_probe_failure_info", reason="auth") == 1, resp.text
