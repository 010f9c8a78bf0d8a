"""Audits that never clear a vulnerable device (issue 15 item 6), through ansible-playbook against the
simulated town (--net 163): playbooks/audit.yml finds cameras on their maker's factory password with
one try and no lock-out; firmware.yml --check flags a build older than any the catalogue names and
says what it WOULD do, never "upgraded" or "fixed".
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from camfleet.drivers.hikvision import HikvisionCamera
from camfleet.jobs.default_logins import audit_default_login
from camfleet.sim.devices import make_firmware
from tests.conftest import TOWN
from tests.integration.simtown import Town, camfleet, playbook, recap, running_town

pytestmark = pytest.mark.slow

NET = 163
FACTORY = ["cam-01-t01", "cam-01-t04"]  # Hikvision (admin/12345) and Dahua (admin/admin)
PROPER = ["cam-01-t02", "cam-01-t03", "nvr-01"]
COMMUNITY = ["cam-01-c01", "cam-01-c02"]  # an Imou (no driver) and a Hikvision without an address
OLD_BUILD = "V5.4.5 build 160530"  # older than every build firmware.yml names


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    folder = tmp_path_factory.mktemp("town") / "ngoc-lac"
    shutil.copytree(TOWN, folder)  # nothing here should write the inventory; a copy proves it cannot matter
    with running_town(tmp_path_factory.mktemp("sim"), NET, "--prefill-days", "0", "--speed", "60", folder=folder) as t:
        yield t


def flat(run: subprocess.CompletedProcess[str]) -> str:
    return " ".join(run.stdout.replace("'", " ").split())


def refused(town: Town) -> dict[str, int | None]:
    return {d["id"]: d.get("refused_logins") for d in town.status()["devices"]}


def test_factory_passwords_are_found_with_one_try_and_proper_ones_are_never_tried(town: Town) -> None:
    for cam in FACTORY:
        town.fault(cam, "factory_password")
    before = refused(town)
    try:
        run = playbook(town, "audit.yml", "-l", ",".join(FACTORY + PROPER + COMMUNITY))
    finally:
        for cam in FACTORY:
            town.fault(cam, "factory_password", "--clear")
    after = refused(town)
    out = flat(run)

    assert run.returncode != 0  # each camera on a factory password fails, after the summary
    assert sorted(h for h, r in recap(run.stdout).items() if r["failed"]) == FACTORY
    assert "Still on the factory-default password: cam-01-t01, cam-01-t04." in out
    assert "Còn mật khẩu mặc định của hãng" in out.split("Still on the factory-default password")[0]  # Vietnamese first
    assert "Not on a default: 3 thiết bị / devices" in out
    skipped = out[out.find("Not audited") :][:1500]
    assert (
        "cam-01-c01 (camera của chủ nhà, chỉ đọc qua ONVIF: không thử mật khẩu mặc định / "
        "a shared owner camera read through ONVIF only, no factory login tried" in out
    ), skipped
    assert "cam-01-c02 (no address in the inventory; a community camera" in out

    # A camera whose admin answers the vault's password is proven clean without one wrong password:
    # its refused-login count and lock-out are untouched.
    for device in PROPER:
        assert after[device] == before[device] == 0, device
    # The factory cameras refused the vault's login (the reset broke it) and took their default at the
    # first try: one refused login in all, far from a lock-out.
    for cam in FACTORY:
        assert after[cam] == (before[cam] or 0) + 1, cam
    assert "12345" not in run.stdout  # no password is ever printed
    assert town.creds["cam-01-t02"]["password"] not in run.stdout


def test_a_proper_camera_refuses_the_default_once_when_the_station_has_no_login_for_it(town: Town) -> None:
    """A device the station has no login for (a community camera's case) gets the default once:
    one refused login, the audit stops there, and the device is far from locking."""
    assert refused(town)["cam-01-t05"] == 0
    audit = audit_default_login(town.fleet, "cam-01-t05", None, timeout=5)
    assert (audit.outcome, audit.attempts, audit.vulnerable) == ("not_default", 1, False)
    assert refused(town)["cam-01-t05"] == 1  # exactly one wrong password reached the device
    with town.http("cam-01-t05") as http:  # not locked: the station's own login still works
        assert http.get("/ISAPI/System/deviceInfo").status_code == 200


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("firmware")
    camfleet("firmware", "fetch-sim", str(TOWN), "--store", str(folder))
    return folder


def test_firmware_check_flags_an_older_build_and_says_what_it_would_do(town: Town, store: Path, tmp_path: Path) -> None:
    cam = "cam-07-t01"
    cred = town.creds[cam]
    with HikvisionCamera(cam, town.address(cam), 80, cred["username"], cred["password"]) as d:
        d.firmware_upload(make_firmware("DS-2CD1023G2-LIU", OLD_BUILD))
        d.reboot()
        assert d.wait_online(timeout_s=30, poll_s=0.2).firmware == OLD_BUILD

    scope = [cam, "cam-03-t04", "cam-01-t02"]  # the old build, a known-bad one, a current one
    run = playbook(
        town,
        "firmware.yml",
        "--check",
        "-l",
        ",".join(scope),
        "-e",
        f"firmware_store={store}",
        "-e",
        f"firmware_report_dir={tmp_path}",
    )
    out = flat(run)
    assert run.returncode == 0, run.stdout[-4000:]
    assert f"{cam} DS-2CD1023G2-LIU {OLD_BUILD}: CVE-2017-7921, CVE-2021-36260" in out
    assert "Sẽ nâng cấp / Would upgrade: cam-03-t04, cam-07-t01." in out
    assert "Still vulnerable until a real run upgrades them: cam-03-t04, cam-07-t01" in out
    assert "Upgraded / Đã nâng cấp" not in out and "fixed / đã khắc phục" not in out
    report = next(tmp_path.glob("firmware-*.md")).read_text(encoding="utf-8")
    assert "fixed / đã khắc phục" not in report and "upgraded, healthy" not in report
    assert "VẪN CÒN LỖ HỔNG, sẽ nâng cấp / STILL VULNERABLE, would upgrade" in report
    assert "sẽ nâng cấp / would upgrade" in report.split("## Devices")[1]
    builds = {d["id"]: d["firmware"] for d in town.status()["devices"]}
    assert builds[cam] == OLD_BUILD  # nothing was flashed
