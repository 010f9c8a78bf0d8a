"""Playbooks that tell the truth when devices fail or lie (issue 15 item 7), through ansible-playbook
against one simulated copy of the reference town (--net 196).

Each test breaks one thing and reads what the operator is told: a refused activation's reason (never
a password), a recorder that stopped recording, an audit that could not reach every camera, a run
killed with SIGKILL, an inventory left on the old build by a killed flash.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfleet.inventory import load
from camfleet.inventory.edit import record_firmware
from camfleet.inventory.vault import device_credentials
from camfleet.model import CameraStatus
from tests.conftest import BIN, ROOT, TOWN
from tests.integration.simtown import Town, ansible_env, playbook, recap, running_town

pytestmark = pytest.mark.slow

APPROVED_HIK = "V5.7.15 build 230519"
OLD_HIK = "V5.6.3 build 190923"


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    """A writable copy (provisioning writes the vault, the firmware survey the inventory), simulated."""
    folder = tmp_path_factory.mktemp("town") / "ngoc-lac"
    shutil.copytree(TOWN, folder)
    with running_town(tmp_path_factory.mktemp("sim"), 196, "--prefill-days", "0", folder=folder) as running:
        yield running


def flat(run: subprocess.CompletedProcess[str]) -> str:
    """Everything the operator saw, YAML line wrapping undone, for phrase searches."""
    return " ".join((run.stdout + run.stderr).replace("'", " ").split())


def cameras(town: Town, vendor: str, status: CameraStatus) -> list[str]:
    return sorted(
        c.id
        for c in town.fleet.cameras.values()
        if c.status is status and c.is_managed and c.device and c.device.vendor.value == vendor
    )


def test_a_refused_activation_shows_its_reason_and_never_the_password(town: Town, tmp_path: Path) -> None:
    camera = cameras(town, "hikvision", CameraStatus.installed)[0]
    town.fault(camera, "activation_refused")
    try:
        run = playbook(
            town,
            "provision.yml",
            "-vvv",
            "-l",
            camera,
            "-e",
            f"provision_report_dir={tmp_path}",
            "-e",
            f"provision_vault_password_file={town.folder / 'vault-password.DEMO-ONLY'}",
        )
    finally:
        town.fault(camera, "activation_refused", "--clear")
    assert run.returncode != 0
    fatal = run.stdout.split(f"fatal: [{camera}]", 1)[1].split("\n\n", 1)[0]
    said = " ".join(fatal.split())
    assert "the output has been hidden" not in said
    assert f"{camera}: camera không nhận kích hoạt" in said and "/ activation failed:" in said
    assert "riskPassword" in said and f"provision.yml -l {camera}" in said
    password = device_credentials(town.folder)[camera]["password"]  # in the vault before the camera had it
    assert len(password) == 16 and password not in run.stdout + run.stderr
    assert "Traceback" not in run.stdout


def test_the_audit_counts_cameras_it_could_not_reach_apart_from_those_that_do_not_differ(town: Town) -> None:
    """Three cameras offline: "3 could not be audited; 0 of the others differ", never "0 of <all>"."""
    offline = (
        cameras(town, "hikvision", CameraStatus.commissioned)[7:9]
        + cameras(town, "dahua", CameraStatus.commissioned)[1:2]
    )
    for cam in offline:
        town.fault(cam, "offline")
    try:
        some = (
            cameras(town, "hikvision", CameraStatus.commissioned)[5:9]
            + cameras(town, "dahua", CameraStatus.commissioned)[:2]
        )
        run = playbook(town, "configure.yml", "--check", "-e", "camera_config_timeout=3", "-l", ",".join(some))
    finally:
        for cam in offline:
            town.fault(cam, "offline", "--clear")
    hosts = recap(run.stdout)
    assert {h for h, r in hosts.items() if r["failed"]} == set(offline)
    said = " ".join(run.stdout.split())
    reached = len(hosts) - len(offline)
    assert f"3 không kiểm tra được / could not be audited ({', '.join(sorted(offline))});" in said, said[-1500:]
    assert f" 0/{reached} camera sẽ được chỉnh theo inventory / 0 of {reached} cameras differ" in said
    assert f"of {len(hosts)} cameras" not in said


def test_an_entry_left_on_the_old_build_is_corrected_to_what_the_device_runs_without_a_flash(
    town: Town, tmp_path: Path
) -> None:
    """A flash killed after the device took the new build leaves its entry on the old one: the next run
    reads the device first, corrects the entry (comments kept) and flashes nothing."""
    cam = "cam-06-t04"
    assert town.status()["devices"] and {d["id"]: d["firmware"] for d in town.status()["devices"]}[cam] == APPROVED_HIK
    assert record_firmware(load(town.folder, overlay=False).fleet, cam, OLD_HIK)  # what the killed run left
    site = next(p for p in (town.folder / "sites").glob("*.yml") if f"id: {cam}\n" in p.read_text(encoding="utf-8"))
    comments = [line for line in site.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("#")]
    store = tmp_path / "store"  # no file is needed: nothing is flashed
    # Alertmanager at a closed loopback port: a demo's pager on :9093 must not get this test's silences.
    pager = ("-e", "firmware_alertmanager_url=http://127.0.0.1:9")
    args = ("-e", f"firmware_store={store}", "-e", f"firmware_report_dir={tmp_path}", *pager, "-l", cam)

    check = playbook(town, "firmware.yml", "--check", *args)
    assert check.returncode == 0, check.stdout[-3000:]
    assert load(town.folder, overlay=False).fleet.cameras[cam].device.firmware == OLD_HIK  # type: ignore[union-attr]

    run = playbook(town, "firmware.yml", *args)
    assert run.returncode == 0, run.stdout[-3000:]
    said = flat(run)
    assert (
        f"kho đã được sửa theo thiết bị / inventory corrected to what the device runs: {OLD_HIK} -> {APPROVED_HIK}"
        in said
    )
    assert "0 of 1 devices need the approved build" in said and "Upload the approved build" not in said  # no flash
    assert load(town.folder, overlay=False).fleet.cameras[cam].device.firmware == APPROVED_HIK  # type: ignore[union-attr]
    assert [line for line in site.read_text(encoding="utf-8").splitlines() if line.lstrip().startswith("#")] == comments


def test_full_disks_with_overwrite_off_fail_the_recorder_and_name_the_option_that_fixes_it(town: Town) -> None:
    """Recording has stopped: recorders.yml fails the recorder (never ok) and says which -e switches overwrite on."""
    town.fault("nvr-02", "disk_full")  # full, and overwrite switched off at the recorder's screen
    try:
        stopped = playbook(town, "recorders.yml", "-l", "nvr-02")
        assert stopped.returncode != 0 and recap(stopped.stdout)["nvr-02"]["failed"] == 1
        said = " ".join(stopped.stdout.split("fatal: [nvr-02]", 1)[1].split("\n\n", 1)[0].split())
        assert "nvr-02: ổ cứng đầy và chế độ ghi đè đang tắt, đầu ghi ĐÃ NGỪNG GHI HÌNH" in said
        assert "/ disks full and overwrite is off: recording has STOPPED" in said
        assert "-e recorders_overwrite=true" in said

        fixed = playbook(town, "recorders.yml", "-l", "nvr-02", "-e", "recorders_overwrite=true")
        assert fixed.returncode == 0, fixed.stdout[-3000:]
        assert recap(fixed.stdout)["nvr-02"]["changed"] == 1
        with town.http("nvr-02") as nvr:
            assert "<LoopEnable>false</LoopEnable>" not in nvr.get("/ISAPI/ContentMgmt/record/tracks").text
    finally:
        town.fault("nvr-02", "disk_full", "--clear")


def descendants(pid: int) -> set[int]:
    """Every live process under ``pid`` (from /proc: children of children...)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        this = todo.pop()
        kids = [p for p, parent in parents.items() if parent == this]
        found.update(kids)
        todo += kids
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_sigkill_of_ansible_playbook_leaves_no_worker_talking_to_a_hung_camera(town: Town) -> None:
    """A worker stuck in a device call (a hung camera, a 120 s timeout) dies with ansible-playbook."""
    cam = cameras(town, "hikvision", CameraStatus.commissioned)[10]
    town.fault(cam, "hang")
    args = ["-i", str(town.folder / "town.camfleet.yml"), "playbooks/configure.yml", "-l", cam]
    run = subprocess.Popen(
        [str(BIN / "ansible-playbook"), *args, "-e", "camera_config_timeout=120"],
        cwd=ROOT,
        env=ansible_env(town),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the worker of the device call: a child that stays
            first = descendants(run.pid)
            time.sleep(2)
            workers = first & descendants(run.pid)
            if workers:
                break
        assert workers, "no worker ever waited on the hung camera"
        run.kill()
        run.wait(10)
        time.sleep(1)
        left = {pid for pid in workers if alive(pid)}
        deadline = time.monotonic() + 10
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = {pid for pid in left if alive(pid)}
        assert not left, f"workers {sorted(left)} outlived ansible-playbook by 10 s"
    finally:
        for pid in workers:  # ours (children of the ansible-playbook this test started)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if run.poll() is None:
            run.kill()
        town.fault(cam, "hang", "--clear")
