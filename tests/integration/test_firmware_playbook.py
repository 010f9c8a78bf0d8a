"""playbooks/firmware.yml through ansible-playbook against the simulated town (--net 70).

The reference town has three cameras on vulnerable builds (cam-01-t04 Dahua V2.800, cam-03-t04 and
cam-05-t03 Hikvision V5.6.3). The rollout tests downgrade a few more cameras through the driver
so canary and waves have something to do. The sim runs 60x fast, so a flash (90 simulated seconds)
and a reboot (60) take about a real second each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from camfleet.drivers.hikvision import HikvisionCamera
from camfleet.inventory import load
from camfleet.sim.devices import make_firmware
from tests.conftest import BIN, ROOT, TOWN
from tests.integration.simtown import Town, camfleet, playbook, recap

pytestmark = pytest.mark.slow

HIK_MODEL = "DS-2CD1023G2-LIU"
OLD_HIK = "V5.6.3 build 190923"
APPROVED_HIK = "V5.7.15 build 230519"
OLD_ON_ARRIVAL = {"cam-01-t04", "cam-03-t04", "cam-05-t03"}
CURRENT = ["cam-01-t01", "cam-02-t03"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the town: the rollout writes the builds it proved into the inventory."""
    copy = tmp_path_factory.mktemp("town") / "ngoc-lac"
    shutil.copytree(TOWN, copy)
    return copy


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, folder: Path) -> Iterator[Town]:
    state = tmp_path_factory.mktemp("sim")
    camfleet("sim", "up", str(folder), "--state", str(state), "--net", "115", "--detach", "--prefill-days", "0",
             "--speed", "60")  # fmt: skip
    try:
        yield Town(state, folder)
    finally:
        camfleet("sim", "down", "--state", str(state), check=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("firmware")
    out = subprocess.run(
        [str(BIN / "camfleet"), "firmware", "fetch-sim", str(TOWN), "--store", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return folder


def builds(town: Town) -> dict[str, str]:
    return {d["id"]: d["firmware"] for d in town.status()["devices"]}


def rollout(town: Town, store: Path, reports: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return playbook(
        town, "firmware.yml", "-e", f"firmware_store={store}", "-e", f"firmware_report_dir={reports}", *args
    )


def flat(run: subprocess.CompletedProcess[str]) -> str:
    """The output with YAML line wrapping undone, for phrase searches."""
    return " ".join(run.stdout.replace("'", " ").split())


def downgrade(town: Town, cameras: list[str]) -> None:
    """Flash an old (vulnerable) build onto Hikvision cameras, as a technician's mistake would."""

    def one(cam: str) -> str | None:
        cred = town.creds[cam]
        with HikvisionCamera(cam, town.address(cam), 80, cred["username"], cred["password"]) as d:
            d.firmware_upload(make_firmware(HIK_MODEL, OLD_HIK))
            d.reboot()
            return d.wait_online(timeout_s=30, poll_s=0.2).firmware

    with ThreadPoolExecutor(len(cameras)) as pool:
        assert list(pool.map(one, cameras)) == [OLD_HIK] * len(cameras)


def test_first_run_upgrades_the_old_builds_and_names_them_then_a_second_run_changes_nothing(
    town: Town, store: Path, tmp_path: Path
) -> None:
    scope = sorted(OLD_ON_ARRIVAL) + CURRENT
    before = builds(town)
    assert {c for c in scope if before[c] != town.fleet.firmware_for(*_key(town, c)).approved.build} == OLD_ON_ARRIVAL

    first = rollout(town, store, tmp_path, "-l", ",".join(scope))
    assert first.returncode == 0, first.stdout[-4000:]
    hosts = recap(first.stdout)
    assert {h for h, r in hosts.items() if r["changed"]} == OLD_ON_ARRIVAL
    after = builds(town)
    recorded = load(town.folder, overlay=False).fleet.cameras
    for cam in scope:
        assert after[cam] == town.fleet.firmware_for(*_key(town, cam)).approved.build
        assert recorded[cam].device.firmware == after[cam]  # type: ignore[union-attr]  # the inventory follows
    assert "flash 100%" in flat(first) and "healthy (build" in flat(first)
    assert "recorder channel 14 online" in flat(first)  # cam-03-t04 is nvr-01 channel 14
    assert "stream ok: " in flat(first)

    report = next(tmp_path.glob("firmware-*.md")).read_text(encoding="utf-8")
    for cam in OLD_ON_ARRIVAL:
        assert cam in report.split("## Devices")[0]  # named in the vulnerable section
    assert "CVE-2021-36260" in report and "CVE-2021-33044" in report
    assert "Firmware có lỗ hổng bảo mật" in report and "fixed / đã khắc phục" in report
    assert town.creds["cam-03-t04"]["password"] not in first.stdout + report

    second = rollout(town, store, tmp_path, "-l", ",".join(scope))
    assert second.returncode == 0
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap(second.stdout).values())
    assert builds(town) == after


def test_a_tampered_file_stops_everything_before_any_device_is_contacted(
    town: Town, store: Path, tmp_path: Path
) -> None:
    bad_store = tmp_path / "store"
    bad_store.mkdir()
    for f in store.iterdir():
        (bad_store / f.name).write_bytes(f.read_bytes())
    image = next(bad_store.glob("digicap_DS-2CD1023G2*"))
    image.write_bytes(image.read_bytes() + b"tampered")
    downgrade(town, ["cam-07-t01"])

    run = rollout(town, bad_store, tmp_path / "reports", "-l", "cam-07-t01")
    assert run.returncode != 0
    assert "the catalogue approves" in flat(run) and "Nothing was sent to any device" in flat(run)
    assert builds(town)["cam-07-t01"] == OLD_HIK
    assert "Upload the approved build" not in flat(run)


def test_flash_failure_on_the_canary_halts_before_the_first_wave(town: Town, store: Path, tmp_path: Path) -> None:
    cams = ["cam-01-t01", "cam-01-t02", "cam-01-t03"]
    downgrade(town, cams)
    town.fault("cam-01-t01", "flash_fail")
    try:
        run = rollout(town, store, tmp_path, "-l", ",".join(cams), "-e", "firmware_canary=cam-01-t01")
    finally:
        town.fault("cam-01-t01", "flash_fail", "--clear")
    assert run.returncode != 0
    assert "ROLLOUT HALTED: the canary (cam-01-t01) failed" in flat(run)
    assert "No wave was started" in flat(run) and "DỪNG NÂNG CẤP" in flat(run)
    assert "badFlash" in flat(run)
    now = builds(town)
    assert [now[c] for c in cams] == [OLD_HIK] * 3  # nobody else was touched
    hosts = recap(run.stdout)
    assert [h for h, r in hosts.items() if r["failed"]] == ["cam-01-t01"]
    assert all(r["changed"] == 0 for r in hosts.values())


def test_a_bricked_camera_fails_alone_its_wave_finishes_and_the_rollout_halts(
    town: Town, store: Path, tmp_path: Path
) -> None:
    cams = ["cam-02-t01", "cam-02-t02", "cam-04-t01", "cam-04-t02"]
    downgrade(town, cams)
    town.fault("cam-02-t02", "flash_brick")
    try:
        run = rollout(
            town,
            store,
            tmp_path,
            "-l",
            ",".join(cams),
            "-e",
            "firmware_canary=cam-02-t01",
            "-e",
            json.dumps({"firmware_waves": [1, 2]}),
        )
    finally:
        camfleet("sim", "power-cycle", "cam-02-t02", "--state", str(town.state))
    assert run.returncode != 0
    now = builds(town)
    assert now["cam-02-t01"] == APPROVED_HIK  # canary
    assert now["cam-04-t01"] == APPROVED_HIK  # the other device of the failing wave finished
    assert now["cam-04-t02"] == OLD_HIK  # the next wave never started
    assert "ROLLOUT HALTED: a wave (cam-02-t02, cam-04-t01) failed: 1 of 2 > 20% allowed" in flat(run)
    assert "Not touched: cam-04-t02" in flat(run) and "may be bricked" in flat(run)
    hosts = recap(run.stdout)
    assert [h for h, r in hosts.items() if r["failed"]] == ["cam-02-t02"]
    report = next(tmp_path.glob("firmware-*.md")).read_text(encoding="utf-8")
    assert "Rollout halted / Đã dừng nâng cấp" in report and "STILL VULNERABLE" in report


def _key(town: Town, cam: str) -> tuple[str, str]:
    device = town.fleet.cameras[cam].device
    assert device is not None
    return device.vendor.value, device.model
