"""The whole simulated town through `camfleet sim`, checked with real clients (ffprobe, httpx, netmiko, Ansible).

The town runs detached on 127.100-102.x.y (the demo uses 127.20-22), as a user would start it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from defusedxml import ElementTree
from netmiko import ConnectHandler

from camfleet.inventory import load
from camfleet.model import CameraStatus
from tests.conftest import BIN, REFERENCE_ANSIBLE_ENV, ROOT, TOWN
from tests.integration.simtown import Town, camfleet, local, running_town

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("sim"), 100) as running:
        yield running


def ffprobe(url: str, frames: int = 0, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    args = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-timeout", "4000000", "-of", "json"]
    if frames:
        args += ["-select_streams", "v", "-show_entries", "frame=pict_type", "-read_intervals", f"%+#{frames}"]
    else:
        args += ["-show_streams"]
    return subprocess.run([*args, url], capture_output=True, text=True, timeout=timeout)


def first_camera(town: Town, vendor: str, status: CameraStatus = CameraStatus.commissioned) -> str:
    return next(
        c.id
        for c in sorted(town.fleet.cameras.values(), key=lambda c: c.id)
        if c.device and c.device.vendor.value == vendor and c.status is status and c.is_managed
    )


def test_status_lists_every_device_on_its_own_loopback_address(town: Town) -> None:
    status = town.status()
    roles = [d["role"] for d in status["devices"]]
    simulated = [
        c
        for c in town.fleet.cameras.values()
        if c.status in (CameraStatus.installed, CameraStatus.commissioned) and c.is_managed
    ]
    assert roles.count("camera") == len(simulated)
    assert roles.count("recorder") == len(town.fleet.recorders)
    assert roles.count("router") == len(town.fleet.link_routers)
    addresses = [d["address"] for d in status["devices"]]
    assert len(set(addresses)) == len(addresses)
    assert all(re.fullmatch(r"127\.10[0-2]\.\d+\.\d+", a) for a in addresses)


def test_overlay_is_honoured_by_ansible(town: Town) -> None:
    env = {**os.environ, **REFERENCE_ANSIBLE_ENV, "CAMFLEET_OVERLAY": str(town.overlay)}
    out = subprocess.run(
        [str(BIN / "ansible-inventory"), "--host", "nvr-01"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ansible_host"] == town.address("nvr-01")


@pytest.mark.parametrize("vendor", ["hikvision", "dahua"])
def test_ffprobe_reads_main_and_sub_stream_at_the_profile_size(town: Town, vendor: str) -> None:
    camera = first_camera(town, vendor)
    cam = town.fleet.cameras[camera]
    assert cam.stream is not None and cam.stream.sub is not None
    for sub, profile in ((False, cam.stream.main), (True, cam.stream.sub)):
        out = ffprobe(town.rtsp_url(camera, sub))
        assert out.returncode == 0, out.stderr
        (stream,) = json.loads(out.stdout)["streams"]
        spec = town.fleet.profiles[profile]
        assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", spec.width, spec.height)


def test_isapi_and_dahua_cgi_identity_match_the_inventory(town: Town) -> None:
    hik = first_camera(town, "hikvision")
    with town.http(hik) as client:
        info = ElementTree.fromstring(client.get("/ISAPI/System/deviceInfo").content)
    device = town.fleet.cameras[hik].device
    assert device is not None
    assert local(info, "serialNumber") == [device.serial]
    assert local(info, "model") == [device.model]
    dah = first_camera(town, "dahua")
    with town.http(dah) as client:
        reply = client.get("/cgi-bin/magicBox.cgi", params={"action": "getSystemInfo"})
    assert reply.status_code == 200
    assert f"deviceType={town.fleet.cameras[dah].device.model}" in reply.text  # type: ignore[union-attr]


def test_installed_camera_is_factory_fresh(town: Town) -> None:
    camera = next(c.id for c in town.fleet.town_cameras() if c.status is CameraStatus.installed)
    reply = httpx.get(f"http://{town.address(camera)}/ISAPI/Security/activateStatus", timeout=5)
    assert reply.status_code == 200 and "<Activated>false</Activated>" in reply.text.replace(" ", "")
    assert camera not in town.creds  # provisioning generates its password


def test_netmiko_drives_a_link_router(town: Town) -> None:
    cred = town.creds["lr-02-01"]
    conn = ConnectHandler(
        device_type="mikrotik_routeros",
        host=town.address("lr-02-01"),
        port=22,
        username=cred["username"],
        password=cred["password"],
        conn_timeout=10,
    )
    try:
        assert "/ip firewall filter" in conn.send_command("/export")
        conn.send_config_set(
            ['/queue simple add name=camfleet-test target=10.78.5.0/29 max-limit=3M/3M comment="camfleet: test"']
        )
        assert "name=camfleet-test" in conn.send_command("/queue simple export")
    finally:
        conn.disconnect()


def test_recorder_has_the_inventory_disks_and_weeks_of_footage(town: Town) -> None:
    rec = town.fleet.recorders["nvr-01"]
    with town.http("nvr-01") as client:
        hdds = ElementTree.fromstring(client.get("/ISAPI/ContentMgmt/Storage/hdd").content)
        body = (
            "<CMSearchDescription><searchID>C0FFEE00-0000-0000-0000-000000000002</searchID>"
            "<trackIDList><trackID>101</trackID></trackIDList><timeSpanList><timeSpan>"
            "<startTime>2000-01-01T00:00:00Z</startTime><endTime>2100-01-01T00:00:00Z</endTime></timeSpan></timeSpanList>"
            "<maxResults>1</maxResults><searchResultPostion>0</searchResultPostion>"
            "<metadataList><metadataDescriptor>//recordType.meta.std-cgi.com</metadataDescriptor></metadataList></CMSearchDescription>"
        )
        found = ElementTree.fromstring(client.post("/ISAPI/ContentMgmt/search", content=body).content)
    capacities = [int(c) for c in local(hdds, "capacity")]
    assert len(capacities) == len(rec.disks)
    assert capacities[0] == pytest.approx(rec.disks[0].capacity_bytes / 2**20, rel=0.01)  # MiB, as the device reports
    oldest = dt.datetime.fromisoformat(local(found, "startTime")[0].replace("Z", "+00:00"))
    age_days = (dt.datetime.now(dt.UTC) - oldest).total_seconds() / 86400
    # Prefilled 60 days on disks that hold fewer at these bitrates: overwrite has moved the oldest
    # recording to what the raw capacity holds at the recorded cameras' bitrates.
    recorded = [c for c in town.fleet.cameras_on_recorder(rec.id) if c.status is CameraStatus.commissioned and c.stream]
    per_day = sum(town.fleet.profiles[c.stream.main].bitrate_kbps for c in recorded if c.stream) * 125 * 86400
    expected = sum(d.capacity_bytes for d in rec.disks) / per_day
    assert expected < 60
    assert age_days == pytest.approx(expected, rel=0.05)


def test_faults_frozen_offline_and_link_down(town: Town) -> None:
    camera = first_camera(town, "hikvision")
    cam = town.fleet.cameras[camera]
    assert cam.network.link is not None
    router = town.fleet.links[cam.network.link].router
    assert ffprobe(town.rtsp_url(camera, sub=True), frames=2).stdout.count("pict_type") == 2

    town.fault(camera, "frozen")
    frozen = ffprobe(town.rtsp_url(camera, sub=True), frames=2, timeout=30)
    assert frozen.stdout.count("pict_type") == 0
    town.fault(camera, "frozen", "--clear")
    assert ffprobe(town.rtsp_url(camera, sub=True), frames=2).stdout.count("pict_type") == 2

    # Off (the camera, or the router in front of it) refuses at once; a dead link swallows the connect.
    for fault, device, error in (
        ("offline", camera, ConnectionRefusedError),
        ("router_off", router, ConnectionRefusedError),
        ("link_down", router, TimeoutError),
    ):
        town.fault(device, fault)
        with pytest.raises(error):
            socket.create_connection((town.address(camera), 80), timeout=2).close()
        states = {d["id"]: d["reachable"] for d in town.status()["devices"]}
        assert states[camera] is False
        town.fault(device, fault, "--clear")
        socket.create_connection((town.address(camera), 80), timeout=2).close()


def test_bad_fault_requests_are_one_line_errors(town: Town) -> None:
    out = camfleet("sim", "fault", "cam-99-t99", "frozen", "--state", str(town.state), check=False)
    assert out.returncode == 1 and "no simulated device 'cam-99-t99'" in out.stderr and "Traceback" not in out.stderr
    out = camfleet("sim", "fault", "nvr-01", "slow", "--param", "delay_s=soon", "--state", str(town.state), check=False)
    assert out.returncode == 1 and "delay_s must be a float" in out.stderr


def test_state_survives_a_restart(town: Town, tmp_path: Path) -> None:
    camera = first_camera(town, "hikvision")
    with town.http(camera) as client:
        doc = client.get("/ISAPI/System/deviceInfo").text
        renamed = re.sub(r"<deviceName>[^<]*</deviceName>", "<deviceName>renamed-by-test</deviceName>", doc)
        assert client.put("/ISAPI/System/deviceInfo", content=renamed).status_code == 200
    time.sleep(1.5)  # autosave
    camfleet("sim", "down", "--state", str(town.state))
    assert not (town.state / "control.json").exists()
    camfleet("sim", "up", str(TOWN), "--state", str(town.state), "--net", "100", "--detach")
    with town.http(camera) as client:
        assert "<deviceName>renamed-by-test</deviceName>" in client.get("/ISAPI/System/deviceInfo").text


def test_more_faults_reach_the_protocols(town: Town) -> None:
    camera = first_camera(town, "dahua")
    town.fault(camera, "locked")
    with town.http(camera) as client:
        assert client.get("/cgi-bin/magicBox.cgi", params={"action": "getDeviceType"}).status_code == 401
    town.fault(camera, "locked", "--clear")
    with town.http(camera) as client:
        assert client.get("/cgi-bin/magicBox.cgi", params={"action": "getDeviceType"}).status_code == 200

    town.fault("nvr-02", "disk_failed", "--param", "slot=2")
    with town.http("nvr-02") as client:
        hdds = ElementTree.fromstring(client.get("/ISAPI/ContentMgmt/Storage/hdd").content)
    assert local(hdds, "status")[:3] == ["ok", "error", "ok"]
    town.fault("nvr-02", "disk_failed", "--clear")

    hik = first_camera(town, "hikvision")
    with town.http(hik) as client:
        before = local(ElementTree.fromstring(client.get("/ISAPI/System/time").content), "localTime")[0]
    town.fault(hik, "clock_drift", "--param", "seconds=3600")
    with town.http(hik) as client:
        after = local(ElementTree.fromstring(client.get("/ISAPI/System/time").content), "localTime")[0]
    town.fault(hik, "clock_drift", "--clear")
    skew = dt.datetime.fromisoformat(after) - dt.datetime.fromisoformat(before)
    assert 3590 < skew.total_seconds() < 3700

    town.fault(hik, "slow", "--param", "delay_s=1.0")
    start = time.monotonic()
    with town.http(hik) as client:
        assert client.get("/ISAPI/System/deviceInfo").status_code == 200
    assert time.monotonic() - start >= 1.0
    town.fault(hik, "slow", "--clear")

    town.fault(hik, "hang")
    with pytest.raises(httpx.ReadTimeout), httpx.Client(timeout=1.0) as client:
        client.get(f"http://{town.address(hik)}/ISAPI/System/deviceInfo")
    town.fault(hik, "hang", "--clear")


def test_foreground_up_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    import signal

    proc = subprocess.Popen(
        [
            str(BIN / "camfleet"),
            "sim",
            "up",
            str(TOWN),
            "--state",
            str(tmp_path),
            "--net",
            "103",
            "--prefill-days",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "control.json").exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "simulated ngoc-lac:" in out and "Traceback" not in err
    assert not (tmp_path / "control.json").exists() and (tmp_path / "overlay.yml").exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.103.0.1", 80), timeout=2).close()


def test_loader_applies_the_overlay_from_the_environment(town: Town, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMFLEET_OVERLAY", str(town.overlay))
    fleet = load(TOWN).fleet
    assert fleet.endpoint("nvr-01").host == town.address("nvr-01")
    assert fleet.recorders["nvr-01"].address.startswith("192.168.")  # the entry keeps the real address
    assert load(TOWN, overlay=False).fleet.endpoint("nvr-01").host.startswith("192.168.")


def test_status_table_shows_frames_channels_and_links(town: Town) -> None:
    camera = first_camera(town, "hikvision")
    town.fault(camera, "frozen")
    try:
        out = subprocess.run(
            [str(BIN / "camfleet"), "status", str(TOWN), "--format", "json", "--timeout", "2"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env={**os.environ, "CAMFLEET_OVERLAY": str(town.overlay)},
        )
    finally:
        town.fault(camera, "frozen", "--clear")
    assert out.returncode == 1  # a frozen camera and unprovisioned ones are failures
    health = json.loads(out.stdout)
    assert health["streams"][camera] == "no_frames"
    installed = next(c.id for c in town.fleet.town_cameras() if c.status is CameraStatus.installed)
    assert health["streams"][installed] == "not provisioned"
    ok = [c for c, s in health["streams"].items() if s.startswith("ok")]
    assert len(ok) >= 30 and all(health["streams"][c] == "ok 640x360" for c in ok)
    assert all(health["routers"].values()) and health["recorders"] == {"nvr-01": "ok", "nvr-02": "ok"}
    assert sum(1 for ch in health["channels"].values() if ch and ch["recording"]) >= 30
