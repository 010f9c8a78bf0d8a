"""playbooks/firmware.yml through ansible-playbook against the simulated town (--net 70).

The reference town has three cameras on vulnerable builds (cam-01-t04 Dahua V2.800, cam-03-t04 and
cam-05-t03 Hikvision V5.6.3). The rollout tests downgrade a few more cameras through the driver
so canary and waves have something to do. The sim runs 60x fast, so a flash (90 simulated seconds)
and a reboot (60) take about a real second each.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from camfleet.drivers.hikvision import HikvisionCamera
from camfleet.inventory import load
from camfleet.sim.devices import make_firmware
from tests.conftest import BIN, ROOT, TOWN
from tests.integration.am import running_alertmanager, silences
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


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The station's pager: every rollout here silences its waves in this one, never in one on 127.0.0.1:9093."""
    with running_alertmanager(tmp_path_factory.mktemp("alertmanager")) as url:
        yield url


class ActiveSilences:
    """Polls Alertmanager while a rollout runs: which device sets (the ``instance`` matcher) were silenced at once."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            for s in silences(self.url):
                if s["status"]["state"] == "active":
                    self.seen.update(m["value"] for m in s["matchers"] if m["name"] == "instance")
            time.sleep(0.1)

    def __enter__(self) -> ActiveSilences:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def wave_silences(url: str, devices: str) -> list[dict[str, Any]]:
    """The silences camfleet made for a wave whose ``instance`` matcher is ``devices`` (dev1|dev2)."""
    matcher = {"name": "instance", "value": devices, "isRegex": True, "isEqual": True}
    return [s for s in silences(url) if s["createdBy"] == "camfleet" and matcher in s["matchers"]]


def builds(town: Town) -> dict[str, str]:
    return {d["id"]: d["firmware"] for d in town.status()["devices"]}


def rollout(town: Town, store: Path, reports: Path, am: str, *args: str) -> subprocess.CompletedProcess[str]:
    return playbook(
        town, "firmware.yml", "-e", f"firmware_store={store}", "-e", f"firmware_report_dir={reports}",
        "-e", f"firmware_alertmanager_url={am}", *args,
    )  # fmt: skip


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


def test_check_mode_silences_nothing_and_says_what_it_would_silence(
    town: Town, store: Path, tmp_path: Path, alertmanager: str
) -> None:
    run = rollout(town, store, tmp_path, alertmanager, "--check", "-l", ",".join(sorted(OLD_ON_ARRIVAL)))
    assert run.returncode == 0, run.stdout[-4000:]
    assert silences(alertmanager) == []
    out = flat(run)
    assert "sẽ tạm ẩn cảnh báo cam-01-t04 tối đa 17 phút / would silence the alerts of cam-01-t04" in out  # the canary
    assert (
        f"Would silence the alerts, during their wave, of: cam-01-t04, cam-03-t04, cam-05-t03 (Alertmanager {alertmanager})"
        in out
    )


def test_first_run_upgrades_the_old_builds_and_names_them_then_a_second_run_changes_nothing(
    town: Town, store: Path, tmp_path: Path, alertmanager: str
) -> None:
    scope = sorted(OLD_ON_ARRIVAL) + CURRENT
    before = builds(town)
    assert {c for c in scope if before[c] != town.fleet.firmware_for(*_key(town, c)).approved.build} == OLD_ON_ARRIVAL

    first = rollout(town, store, tmp_path, alertmanager, "-l", ",".join(scope))
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

    # Each wave was silenced while it rebooted (its devices, the channels recording its cameras), then expired.
    made = [s for s in silences(alertmanager) if s["createdBy"] == "camfleet"]
    waved = [m["value"] for s in made for m in s["matchers"] if m["name"] == "instance"]
    assert sorted(d for w in waved for d in w.split("|")) == sorted(OLD_ON_ARRIVAL)
    assert all(s["status"]["state"] == "expired" for s in made)
    assert "nâng cấp firmware đợt 1: " in " ".join(s["comment"] for s in made)
    assert "đã tạm ẩn cảnh báo" in flat(first) and "đã kết thúc tạm ẩn cảnh báo" in flat(first)

    second = rollout(town, store, tmp_path, alertmanager, "-l", ",".join(scope))
    assert second.returncode == 0
    assert all(r["changed"] == 0 and r["failed"] == 0 for r in recap(second.stdout).values())
    assert builds(town) == after


def test_a_tampered_file_stops_everything_before_any_device_is_contacted(
    town: Town, store: Path, tmp_path: Path, alertmanager: str
) -> None:
    bad_store = tmp_path / "store"
    bad_store.mkdir()
    for f in store.iterdir():
        (bad_store / f.name).write_bytes(f.read_bytes())
    image = next(bad_store.glob("digicap_DS-2CD1023G2*"))
    image.write_bytes(image.read_bytes() + b"tampered")
    downgrade(town, ["cam-07-t01"])

    run = rollout(town, bad_store, tmp_path / "reports", alertmanager, "-l", "cam-07-t01")
    assert run.returncode != 0
    assert "the catalogue approves" in flat(run) and "Nothing was sent to any device" in flat(run)
    assert builds(town)["cam-07-t01"] == OLD_HIK
    assert "Upload the approved build" not in flat(run)


def test_flash_failure_on_the_canary_halts_before_the_first_wave(
    town: Town, store: Path, tmp_path: Path, alertmanager: str
) -> None:
    cams = ["cam-01-t01", "cam-01-t02", "cam-01-t03"]
    downgrade(town, cams)
    town.fault("cam-01-t01", "flash_fail")
    try:
        run = rollout(town, store, tmp_path, alertmanager, "-l", ",".join(cams), "-e", "firmware_canary=cam-01-t01")
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
    # the one change on each: the survey wrote the build the downgraded camera really runs into its entry
    assert all(r["changed"] == 1 for r in hosts.values())
    recorded = load(town.folder, overlay=False).fleet.cameras
    assert [recorded[c].device.firmware for c in cams] == [OLD_HIK] * 3  # type: ignore[union-attr]
    [canary] = wave_silences(alertmanager, "cam-01-t01")  # the failed canary pages: its silence is gone
    assert canary["status"]["state"] == "expired"


def test_a_bricked_camera_fails_alone_its_wave_finishes_and_the_rollout_halts(
    town: Town, store: Path, tmp_path: Path, alertmanager: str
) -> None:
    cams = ["cam-02-t01", "cam-02-t02", "cam-04-t01", "cam-04-t02"]
    downgrade(town, cams)
    town.fault("cam-02-t02", "flash_brick")
    try:
        with ActiveSilences(alertmanager) as active:
            run = rollout(
                town,
                store,
                tmp_path,
                alertmanager,
                "-l",
                ",".join(cams),
                "-e",
                "firmware_canary=cam-02-t01",
                "-e",
                json.dumps({"firmware_waves": [1, 2]}),
            )
        finished = time.time()
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

    # While each wave ran, exactly its devices were silenced; the wave that never started never was.
    assert {"cam-02-t01", "cam-02-t02|cam-04-t01"} <= active.seen
    assert not any("cam-04-t02" in seen for seen in active.seen)
    [wave] = wave_silences(alertmanager, "cam-02-t02|cam-04-t01")
    assert wave["comment"].startswith("nâng cấp firmware đợt 2: cam-02-t02, cam-04-t01; hết hạn khi đợt qua cổng")
    assert "/ firmware wave 2: cam-02-t02, cam-04-t01" in wave["comment"]
    [channels] = [
        s for s in silences(alertmanager)
        if {"name": "camera", "value": "cam-02-t02|cam-04-t01", "isRegex": True, "isEqual": True} in s["matchers"]
    ]  # fmt: skip
    assert {"name": "alertname", "value": "RecorderChannelNotRecording", "isRegex": False, "isEqual": True} in (
        channels["matchers"]
    )
    # The bricked camera pages at once: its wave's silences were expired when the wave was judged, long before the
    # 17 minutes they were planned for (reboot 300 s + 2 x 60 s health + 600 s margin) and before the run ended.
    for silence in (wave, channels):
        starts, ends = (dt.datetime.fromisoformat(silence[k]) for k in ("startsAt", "endsAt"))
        assert silence["status"]["state"] == "expired"
        assert ends.timestamp() <= finished + 1 and (ends - starts).total_seconds() < 1020 - 60
    assert "cam-02-t02 không qua kiểm tra, cảnh báo sẽ được gửi" in flat(run)


def _key(town: Town, cam: str) -> tuple[str, str]:
    device = town.fleet.cameras[cam].device
    assert device is not None
    return device.vendor.value, device.model
