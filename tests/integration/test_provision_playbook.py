"""playbooks/provision.yml on factory-fresh cameras of a copy of the reference town, with the simulator."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from camfleet.inventory import load
from camfleet.inventory.vault import device_credentials
from camfleet.model import CameraStatus
from tests.conftest import BIN, ROOT, TOWN
from tests.integration.simtown import Town, ansible_env, camfleet, recap

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Town]]:
    """A writable copy of the town (provisioning writes its vault and inventory) and its simulation."""
    folder = tmp_path_factory.mktemp("town") / "ngoc-lac"
    shutil.copytree(TOWN, folder)
    state = tmp_path_factory.mktemp("sim")
    camfleet("sim", "up", str(folder), "--state", str(state), "--net", "112", "--detach", "--prefill-days", "0")
    try:
        yield folder, Town(state)
    finally:
        camfleet("sim", "down", "--state", str(state), check=False)


def provision(folder: Path, town: Town, limit: str, reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(folder / "town.camfleet.yml"),
            "playbooks/provision.yml",
            "-l",
            limit,
            "-e",
            f"provision_report_dir={reports}",
            "-e",
            f"provision_vault_password_file={folder / 'vault-password.DEMO-ONLY'}",
        ],
        cwd=ROOT,
        env=ansible_env(town),
        capture_output=True,
        text=True,
        timeout=600,
    )


def fresh_cameras(folder: Path, vendor: str | None = None) -> list[str]:
    fleet = load(folder, overlay=False).fleet
    return sorted(
        c.id
        for c in fleet.town_cameras()
        if c.status is CameraStatus.installed and (vendor is None or (c.device and c.device.vendor.value == vendor))
    )


#: A device-info page per vendor, to prove the vault's new password opens the camera.
INFO_PAGE = {"hikvision": "/ISAPI/System/deviceInfo", "dahua": "/cgi-bin/magicBox.cgi?action=getSystemInfo"}


@pytest.mark.parametrize("vendor", ["hikvision", "dahua"])
def test_factory_fresh_camera_ends_recorded_with_a_record(copy: tuple[Path, Town], tmp_path: Path, vendor: str) -> None:
    folder, town = copy
    camera = fresh_cameras(folder, vendor)[0]
    assert camera not in device_credentials(folder)
    run = provision(folder, town, camera, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert recap(run.stdout)[camera]["changed"] == 4

    login = device_credentials(folder)[camera]  # the vault holds the new, unique password
    assert login["username"] == "admin" and len(login["password"]) == 16
    assert login["password"] not in run.stdout
    address = town.address(camera)
    assert (
        httpx.get(
            f"http://{address}{INFO_PAGE[vendor]}", auth=httpx.DigestAuth("admin", login["password"]), timeout=5
        ).status_code
        == 200
    )

    fleet = load(folder, overlay=False).fleet
    slot = fleet.cameras[camera].recorder
    assert slot is not None
    with town.http(slot.id) as nvr:
        status = nvr.get("/ISAPI/ContentMgmt/InputProxy/channels/status").text
    assert re.search(rf"<id>{slot.channel}</id>.*?<online>true</online>", status, re.S)

    assert (tmp_path / f"{camera}.jpg").read_bytes()[:2] == b"\xff\xd8"
    record = (tmp_path / f"{camera}.md").read_text(encoding="utf-8")
    assert "Biên bản nghiệm thu camera / Commissioning record" in record and "not recorded" in record
    assert fleet.cameras[camera].status is CameraStatus.installed  # no sign yet: the record says how to finish

    again = provision(folder, town, camera, tmp_path)
    assert again.returncode == 0 and recap(again.stdout)[camera]["changed"] == 0  # re-running changes nothing


def test_a_camera_with_its_sign_becomes_commissioned(copy: tuple[Path, Town], tmp_path: Path) -> None:
    folder, town = copy
    camera = fresh_cameras(folder)[-1]
    site_file = next(p for p in (folder / "sites").glob("*.yml") if f"id: {camera}\n" in p.read_text(encoding="utf-8"))
    text = site_file.read_text(encoding="utf-8")
    block_start = text.index(f"id: {camera}\n")
    status_at = text.index("  status: installed\n", block_start)
    site_file.write_text(
        text[:status_at] + "  sign:\n      installed_on: 2024-05-02\n" + text[status_at:], encoding="utf-8"
    )
    run = provision(folder, town, camera, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "status set to commissioned" in " ".join(run.stdout.split())
    assert load(folder, overlay=False).fleet.cameras[camera].status is CameraStatus.commissioned
    assert camfleet("validate", str(folder)).returncode == 0


def test_an_unreachable_camera_fails_at_the_first_step_and_leaves_the_vault_alone(
    copy: tuple[Path, Town], tmp_path: Path
) -> None:
    folder, town = copy
    camera = fresh_cameras(folder, "dahua")[1]  # the other tests provision the first of each vendor
    town.fault(camera, "offline")
    try:
        run = provision(folder, town, camera, tmp_path)
    finally:
        town.fault(camera, "offline", "--clear")
    assert run.returncode != 0
    assert "Step 1 - activate the camera" in run.stdout.split("fatal:", 1)[0].rsplit("TASK", 1)[1]
    assert camera not in device_credentials(folder) and "Traceback" not in run.stdout
