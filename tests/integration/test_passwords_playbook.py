"""playbooks/passwords.yml through ansible-playbook against a simulated COPY of the reference town (--net 71).

The playbook rewrites the town's vault, so the sim and Ansible both run from a copy in a temporary
folder (``-i <copy>/town.camfleet.yml``): the repository's vault is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from camfleet.drivers.hikvision import HikvisionNvr
from camfleet.inventory import load
from camfleet.inventory.overlay import apply_overlay
from camfleet.inventory.vault import VaultFile
from tests.conftest import TOWN
from tests.integration.am import running_alertmanager, silences
from tests.integration.simtown import Town, camfleet, playbook, recap

pytestmark = pytest.mark.slow

HIK, DAHUA, OTHER_NVR = "cam-05-t01", "cam-05-t02", "cam-05-t03"  # nvr-01 ch 20, nvr-01 ch 21, nvr-02 ch 1
ROTATED = [HIK, DAHUA, OTHER_NVR]


class CopiedTown(Town):
    """A running sim of a copy of the reference town; ``vault()`` decrypts the copy's vault as it is now."""

    def __init__(self, state: Path, folder: Path) -> None:
        self.state = state
        self.folder = folder
        self.overlay = state / "overlay.yml"
        self.fleet = apply_overlay(load(folder, overlay=False).fleet, self.overlay)
        self.creds = {}
        self.alertmanager = ""  # the test's own Alertmanager: the rotation silences what it interrupts there

    def vault(self) -> dict[str, Any]:
        return VaultFile(self.folder / "vault" / "secrets.yml", self.folder / "vault-password.DEMO-ONLY").read()

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return playbook(
            self, "passwords.yml", "-i", str(self.folder / "town.camfleet.yml"),
            "-e", f"passwords_alertmanager_url={self.alertmanager}", *args,
        )  # fmt: skip


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CopiedTown]:
    folder = tmp_path_factory.mktemp("town") / "ngoc-lac"
    shutil.copytree(TOWN, folder)
    state = tmp_path_factory.mktemp("sim")
    camfleet("sim", "up", str(folder), "--state", str(state), "--net", "118", "--detach", "--prefill-days", "0")
    try:
        with running_alertmanager(tmp_path_factory.mktemp("alertmanager")) as url:
            copied = CopiedTown(state, folder)
            copied.alertmanager = url
            yield copied
    finally:
        camfleet("sim", "down", "--state", str(state), check=False)


def rotation_silences(town: CopiedTown, devices: str) -> list[dict[str, Any]]:
    """The silences a rotation of ``devices`` (dev1|dev2, the ``instance`` matcher) made."""
    matcher = {"name": "instance", "value": devices, "isRegex": True, "isEqual": True}
    return [s for s in silences(town.alertmanager) if s["createdBy"] == "camfleet" and matcher in s["matchers"]]


def accepts(town: CopiedTown, device: str, username: str, password: str) -> bool:
    """One digest login (a refused one counts once towards the device's lock-out)."""
    vendor = town.fleet.cameras[device].device.vendor.value  # type: ignore[union-attr]
    path = "/cgi-bin/magicBox.cgi?action=getSystemInfo" if vendor == "dahua" else "/ISAPI/System/deviceInfo"
    resp = httpx.get(f"http://{town.address(device)}{path}", auth=httpx.DigestAuth(username, password), timeout=5)
    assert resp.status_code in (200, 401), resp.text
    return resp.status_code == 200


def channels_online(town: CopiedTown, recorder: str, wanted: list[int]) -> dict[int, bool]:
    cred = town.vault()["vault_device_credentials"][recorder]
    with HikvisionNvr(recorder, town.address(recorder), 80, cred["username"], cred["password"]) as nvr:
        deadline = time.monotonic() + 10
        while True:
            status = nvr.channel_status()
            found = {n: bool(status[n].online) for n in wanted}
            if all(found.values()) or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


def test_check_mode_changes_nothing(town: CopiedTown) -> None:
    vault_bytes = (town.folder / "vault" / "secrets.yml").read_bytes()
    before = town.vault()["vault_device_credentials"]
    run = town.run("--check", "-l", ",".join(ROTATED))
    assert run.returncode == 0, run.stdout[-3000:]
    assert all(r["changed"] >= 1 for r in recap(run.stdout).values())  # due: never rotated by camfleet
    assert (town.folder / "vault" / "secrets.yml").read_bytes() == vault_bytes
    assert accepts(town, HIK, "admin", before[HIK]["password"])
    assert accepts(town, DAHUA, "admin", before[DAHUA]["password"])
    assert silences(town.alertmanager) == []  # nothing silenced, only said
    assert "sẽ tạm ẩn cảnh báo cam-05-t01, cam-05-t02, cam-05-t03" in " ".join(run.stdout.split())
    assert "would silence the alerts of cam-05-t01" in " ".join(run.stdout.split())


def test_rotation_sets_proves_updates_channels_and_the_vault_then_a_second_run_changes_nothing(
    town: CopiedTown,
) -> None:
    old = town.vault()["vault_device_credentials"]
    first = town.run("-l", ",".join(ROTATED))
    assert first.returncode == 0, first.stdout[-3000:]
    assert all(r["changed"] == 2 and r["failed"] == 0 for r in recap(first.stdout).values())

    vault = town.vault()
    new = vault["vault_device_credentials"]
    rotation = vault["vault_password_rotation"]
    for cam in ROTATED:
        assert new[cam]["password"] != old[cam]["password"]
        assert accepts(town, cam, "admin", new[cam]["password"])
        assert not accepts(town, cam, "admin", old[cam]["password"])
        assert accepts(town, cam, "admin", new[cam]["password"])  # and the bad-login count is cleared
        assert "rotated" in rotation[cam]
    # The recorder's pull account moved on these cameras only: the vault holds both passwords
    # (current for the cameras not rotated yet, pending for these) until every camera has it.
    pull = rotation["nvr-01-channel-user"]
    assert sorted(pull["done"]) == [HIK, DAHUA]
    assert new["nvr-01-channel-user"] == old["nvr-01-channel-user"]
    for cam in (HIK, DAHUA):
        assert accepts(town, cam, "nvrpull", pull["pending_password"])
    assert accepts(town, "cam-01-t01", "nvrpull", old["nvr-01-channel-user"]["password"])
    assert rotation["nvr-02-channel-user"]["done"] == [OTHER_NVR]
    assert channels_online(town, "nvr-01", [20, 21]) == {20: True, 21: True}
    assert channels_online(town, "nvr-02", [1]) == {1: True}
    for secret in [new[c]["password"] for c in ROTATED] + [pull["pending_password"]]:
        assert secret not in first.stdout

    second = town.run("-l", ",".join(ROTATED))
    assert second.returncode == 0
    assert all(r["changed"] == 0 for r in recap(second.stdout).values())
    assert town.vault() == vault


def test_an_offline_camera_fails_alone_and_keeps_its_vault_entry(town: CopiedTown) -> None:
    down, up = "cam-06-t01", "cam-06-t02"
    before = town.vault()
    town.fault(down, "offline")
    try:
        run = town.run("-l", f"{down},{up}")
    finally:
        town.fault(down, "offline", "--clear")
    assert run.returncode != 0
    hosts = recap(run.stdout)
    assert [h for h, r in hosts.items() if r["failed"] or r["unreachable"]] == [down]
    assert hosts[up]["changed"] == 2
    after = town.vault()
    assert after["vault_device_credentials"][down] == before["vault_device_credentials"][down]
    assert down not in after.get("vault_password_rotation", {})
    assert down not in after["vault_password_rotation"]["nvr-02-channel-user"]["done"]
    assert accepts(town, down, "admin", before["vault_device_credentials"][down]["password"])
    assert "Traceback" not in run.stdout
    # Both were silenced while the rotation ran (their probes' logins and their recorder channels), and the silences
    # were expired when it ended: the camera that failed pages.
    [own] = rotation_silences(town, f"{down}|{up}")
    assert own["comment"].startswith(f"đổi mật khẩu: {down}, {up}; hết hạn khi đổi xong / password rotation")
    channel = {"name": "camera", "value": f"{down}|{up}", "isRegex": True, "isEqual": True}
    [recorded] = [s for s in silences(town.alertmanager) if channel in s["matchers"]]
    assert own["status"]["state"] == recorded["status"]["state"] == "expired"
    assert f"{down} không qua kiểm tra, cảnh báo sẽ được gửi" in " ".join(run.stdout.split())
