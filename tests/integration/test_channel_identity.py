"""Issue 13 against a running simulated town (``camfleet sim`` on 127.229-231.x.y): each recorder channel
records the right camera, the NVR's own streaming channels, and no device outside the overlay is reached.

- Two cameras trade addresses (``camfleet sim swap``): the recorder now logs in to the other camera on
  each channel and reports its serial, so the exporter's ``camfleet_recorder_channel_identity_ok`` is 0
  for both channels (1 for the rest) and ``recorders.yml --check`` fails naming both; swapped back, 1.
- The Hikvision NVR lists ``/ISAPI/Streaming/channels`` (101, 102, 201, ...) and relays channel 1's
  camera on ``rtsp://nvr/Streaming/Channels/101``, read by ffprobe.
- With an overlay that lacks one camera, ``camfleet status`` and a playbook name it and refuse it, and
  (``tests/integration/nethook/sitecustomize.py`` on ``PYTHONPATH``) no process opens a connection to a
  non-loopback address.

    .venv/bin/pytest tests/integration/test_channel_identity.py -q
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from defusedxml import ElementTree
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import BIN, REFERENCE_ANSIBLE_ENV, ROOT, TOWN
from tests.integration.simtown import Town, camfleet, local, playbook, running_exporter, running_town

NET = 229
NETHOOK = Path(__file__).parent / "nethook"
A, B, C = "cam-01-t01", "cam-01-t02", "cam-01-t03"  # channels 1, 2, 3 of nvr-01
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    with running_town(tmp_path_factory.mktemp("sim"), NET, "--prefill-days", "0") as t:
        yield t


@pytest.fixture(scope="module")
def exporter(town: Town) -> Iterator[str]:
    with running_exporter(town.overlay) as base:
        yield base


def identity_ok(exporter: str, recorder: str) -> dict[str, float]:
    """camera → camfleet_recorder_channel_identity_ok of one recorder probe."""
    resp = httpx.get(f"{exporter}/probe", params={"target": recorder, "module": "recorder"}, timeout=30)
    assert resp.status_code == 200, resp.text
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            if s.name == "camfleet_recorder_channel_identity_ok":
                out[s.labels["camera"]] = s.value
    return out


def swap(town: Town, first: str, second: str) -> None:
    camfleet("sim", "swap", first, second, "--state", str(town.state))


def test_two_swapped_cameras_are_found_by_the_exporter_and_the_audit_and_clear_when_swapped_back(
    town: Town, exporter: str
) -> None:
    before = identity_ok(exporter, "nvr-01")
    assert (before.get(A), before.get(B), before.get(C)) == (1.0, 1.0, 1.0), before
    swap(town, A, B)
    try:
        swapped = identity_ok(exporter, "nvr-01")
        assert (swapped.get(A), swapped.get(B), swapped.get(C)) == (0.0, 0.0, 1.0), swapped
        audit = playbook(town, "recorders.yml", "--check", "-l", "nvr-01")
        out = audit.stdout + audit.stderr
        assert audit.returncode != 0, out[-3000:]
        assert f"kênh 1 của nvr-01 đang ghi camera khác: {B} thay vì {A}" in out, out[-3000:]
        assert f"kênh 2 của nvr-01 đang ghi camera khác: {A} thay vì {B}" in out, out[-3000:]
        assert "channel 1 of nvr-01 records another camera" in out
        assert "Traceback" not in out
    finally:
        swap(town, A, B)
    after = identity_ok(exporter, "nvr-01")
    assert (after.get(A), after.get(B), after.get(C)) == (1.0, 1.0, 1.0), after


def test_the_nvr_lists_its_streaming_channels_and_relays_a_channels_camera_over_rtsp(town: Town) -> None:
    with town.http("nvr-01") as nvr:
        listed = nvr.get("/ISAPI/Streaming/channels")
        one = nvr.get("/ISAPI/Streaming/channels/101")
    assert listed.status_code == 200 and one.status_code == 200
    ids = [int(i) for i in local(ElementTree.fromstring(listed.content), "id")]
    assert {101, 102, 201, 202, 2101} <= set(ids), ids[:10]
    profile = town.fleet.profiles[town.fleet.cameras[A].stream.main]  # type: ignore[union-attr]
    width = int(local(ElementTree.fromstring(one.content), "videoResolutionWidth")[0])
    assert width == profile.width
    entry = yaml.safe_load(town.overlay.read_text())["devices"]["nvr-01"]
    cred = town.creds["nvr-01"]
    url = f"rtsp://{cred['username']}:{cred['password']}@{entry['address']}:{entry['rtsp_port']}/Streaming/Channels/101"
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "json",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert probe.returncode == 0, probe.stderr
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == (
        profile.codec.value,
        profile.width,
        profile.height,
    )
    missing = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", url.replace("/101", "/9901")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode != 0  # no channel 99: 404, not another camera's picture


def test_a_device_outside_the_overlay_is_refused_by_name_and_no_real_address_is_ever_reached(
    town: Town, tmp_path: Path
) -> None:
    content = yaml.safe_load(town.overlay.read_text())
    del content["devices"][C]
    overlay = tmp_path / "overlay.yml"
    overlay.write_text(yaml.safe_dump(content))
    netlog = tmp_path / "connects.log"
    netlog.touch()
    env = {
        **os.environ,
        **REFERENCE_ANSIBLE_ENV,
        "CAMFLEET_OVERLAY": str(overlay),
        "CAMFLEET_NETLOG": str(netlog),
        "PYTHONPATH": os.pathsep.join([str(NETHOOK), str(ROOT)]),
    }
    # The hook sees a connect to a non-loopback address (0.0.0.0 lands on this machine: no packet leaves it).
    hooked = subprocess.run(
        [
            str(BIN / "python"),
            "-c",
            "import socket; s = socket.socket(); s.settimeout(1); s.connect_ex(('0.0.0.0', 9))",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert hooked.returncode == 0 and "'0.0.0.0'" in netlog.read_text(), hooked.stderr
    netlog.write_text("")
    status = subprocess.run(
        [str(BIN / "camfleet"), "status", str(TOWN), "--timeout", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    said = status.stdout + status.stderr
    assert status.returncode == 1, said[-2000:]
    lines = [line for line in said.splitlines() if C in line]
    assert lines and any("overlay" in line for line in lines), said[-2000:]
    assert "Traceback" not in said
    run = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(TOWN / "town.camfleet.yml"),
            "playbooks/configure.yml",
            "--check",
            "-l",
            f"{C},{A}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-3000:]
    refusal = [line for line in out.splitlines() if C in line and "overlay" in line]
    assert refusal, out[-3000:]
    assert "Traceback" not in out
    # The exporter (/probe and /sd) under the same overlay: a 400 naming the camera, never listed.
    with running_exporter(overlay, env=env) as base:
        refused = httpx.get(f"{base}/probe", params={"target": C, "module": "stream"}, timeout=30)
        assert refused.status_code == 400 and C in refused.text and "overlay" in refused.text, refused.text
        assert len(refused.text.strip().splitlines()) == 1, refused.text
        listed = httpx.get(f"{base}/sd", params={"module": "stream"}, timeout=30)
        assert listed.status_code == 200 and C not in listed.text and A in listed.text, listed.text[:500]
    assert netlog.read_text() == "", netlog.read_text()[:2000]
