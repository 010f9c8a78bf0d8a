"""The contract every camera driver keeps, one suite run over every family (Hikvision ISAPI, Dahua CGI).

Each test serves the family's simulated camera on a random 127.77.x.y address
(tests/drivers/driver_sim.py), drives it with the synchronous driver, and asserts on the simulator's
state and on the requests it saw. What differs between families (their words, their models,
whether a flash reboots by itself) is data in :class:`Family`; what only one family does lives in
its own file (test_driver_hikvision.py, test_driver_dahua.py).

    .venv/bin/pytest tests/drivers/test_contract.py -q
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from driver_sim import Served, served

from camfleet.config.camera import desired_camera_config
from camfleet.drivers import driver_class, driver_for
from camfleet.drivers.base import ConfigurableCamera
from camfleet.drivers.dahua import DahuaCamera
from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    DeviceTimeout,
    LockedOut,
    MalformedReply,
    NotActivated,
    Unreachable,
)
from camfleet.drivers.hikvision import HikvisionCamera
from camfleet.inventory import load
from camfleet.sim import dahua, hikvision
from camfleet.sim.devices import CameraState, make_firmware
from camfleet.sim.faults import Fault

TOWN = Path(__file__).resolve().parents[2] / "inventory" / "ngoc-lac"
PASSWORD = "Ngoc-Lac-2023"
NEW_PASSWORD = "Moi-Mat-Khau-24"


@dataclass(frozen=True)
class Family:
    """One camera family as the contract sees it."""

    driver: type[ConfigurableCamera]
    app: Callable[..., web.Application]
    vendor: str
    model: str
    serial: str
    mac: str
    build: str
    new_build: str
    build_date: dt.date
    device_type: str
    name: str  # the device name the configured camera has
    inventory_camera: str  # a camera of the reference town of this family
    audit_lines: tuple[str, ...]  # lines the audit of a factory-fresh camera must show
    malformed: str  # what MalformedReply says about a garbled reply
    slow_s: float
    lock_says: str  # what the lock-out says to the right password
    lock_s: float  # how long the lock holds
    skew_tolerance_s: float
    drift_s: float
    export_marker: bytes
    export_has_no_password: bool
    reboots_itself: bool  # Dahua reboots after a flash; Hikvision waits for reboot()
    flash_fail: str  # what a failed flash says
    flash_fail_codes: tuple[int | None, str | None]  # its (status_code, sub_status)
    other_model: tuple[str, str]  # a firmware image for another model...
    other_model_refused: str  # ... and what the camera says to it
    upgrade_state_after_refusal: str  # what firmware_status() reads after that
    factory_time_zone: str | None  # set at the factory, if not the device's default
    #: What only this family's audit and apply show (called with audit, first apply, state, server).
    apply_details: Callable[[Any, Any, CameraState, Served], None]

    def camera(self, **kw: Any) -> CameraState:
        return CameraState.configured(
            self.vendor,
            self.model,
            self.serial,
            self.mac,
            self.build,
            admin_password=PASSWORD,
            name=self.name,
            ntp_server="10.20.0.1",
            **kw,
        )

    def fresh(self) -> CameraState:
        return CameraState.factory_fresh(self.vendor, self.model, self.serial, self.mac, self.build)


def _hikvision_apply_details(audit: Any, first: Any, state: CameraState, dev: Served) -> None:
    assert audit.before["services"] == {"upnp": True, "p2p": True, "telnet": False, "ssh": False}
    assert set(audit.written) == {"device_name", "ntp_servers", "osd_text", "main", "sub", "services", "masks"}
    assert state.device_name == "cam-05-t01" and state.osd.text == "Nga ba Minh Khai"
    region = state.masks.regions[0]
    assert abs(region.x - 0.05) < 0.002 and abs(region.w - 0.2) < 0.002 and abs(region.h - 0.25) < 0.002
    puts = {s.path for s in dev.writes()}
    assert "/ISAPI/System/Network/ssh" not in puts and "/ISAPI/System/Network/UPnP" in puts  # ssh was off already


def _dahua_apply_details(audit: Any, first: Any, state: CameraState, dev: Served) -> None:
    assert {s.path for s in dev.seen} >= {"/cgi-bin/configManager.cgi"}
    assert any("action=setConfig" in s.query for s in dev.seen)  # the apply wrote with setConfig


HIKVISION = Family(
    driver=HikvisionCamera,
    app=hikvision.camera_app,
    vendor="hikvision",
    model="DS-2CD1023G2-LIU",
    serial="DS-2CD1023G2-LIU20230101AAWRJ83813",
    mac="c0:56:e3:00:00:01",
    build="V5.6.3 build 190923",
    new_build="V5.7.15 build 230519",
    build_date=dt.date(2019, 9, 23),
    device_type="IPCamera",
    name="kp01-cho",
    inventory_camera="cam-05-t01",
    audit_lines=(
        "device_name: 'IP CAMERA' -> 'cam-05-t01'",
        "main.fps: 25 -> 12",
        "services.upnp: true -> false",
        "ntp_servers: [] -> ['192.168.10.1']",  # one server: the device holds one
    ),
    malformed="not valid XML",
    slow_s=0.3,
    lock_says="lockStatus=locked",
    lock_s=1801,
    skew_tolerance_s=2.0,
    drift_s=300,
    export_marker=b"CAMFLEET-SIM-CONFIG",
    export_has_no_password=False,
    reboots_itself=False,
    flash_fail="badFlash",
    flash_fail_codes=(3, "badFlash"),
    other_model=("DS-7732NI-K4", "V4.62.210 build 230306"),
    other_model_refused="upgrade packet mismatch",
    upgrade_state_after_refusal="idle",
    factory_time_zone=None,
    apply_details=_hikvision_apply_details,
)
DAHUA = Family(
    driver=DahuaCamera,
    app=dahua.camera_app,
    vendor="dahua",
    model="IPC-HFW1230S1-S5",
    serial="7K0F52177252PAZ",
    mac="3c:ef:8c:79:51:e3",
    build="V2.800.0000016.0.R.200605",
    new_build="V2.840.0000000.11.R.230412",
    build_date=dt.date(2020, 6, 5),
    device_type="IPC",
    name="kp05-cho",
    inventory_camera="cam-05-t04",
    audit_lines=(
        "timezone: 'UTC+00:00' -> 'UTC+07:00'",
        "main.bitrate_mode: 'cbr' -> 'vbr'",
        "services.p2p: true -> false",
    ),
    malformed="not key=value",
    slow_s=0.2,
    lock_says="User locked",
    lock_s=1801,
    skew_tolerance_s=2.5,
    drift_s=-600,
    export_marker=b"table.General.MachineName=kp05-cho",
    export_has_no_password=True,
    reboots_itself=True,
    flash_fail="flash failed",
    flash_fail_codes=(None, "Failed"),
    other_model=("DS-2CD1023G2-LIU", "V5.7.15 build 230519"),
    other_model_refused="Invalid firmware",
    upgrade_state_after_refusal="failed",
    factory_time_zone="CST+0:00:00",  # set to UTC at the factory
    apply_details=_dahua_apply_details,
)
FAMILIES = [pytest.param(HIKVISION, id="hikvision"), pytest.param(DAHUA, id="dahua")]


@pytest.fixture(params=FAMILIES)
def family(request: pytest.FixtureRequest) -> Family:
    found: Family = request.param
    return found


def drive(dev: Served, family: Family, password: str = PASSWORD, **kw: Any) -> Any:
    return dev.driver(family.driver, password, **kw)


# --------------------------------------------------------------------------- identity and config


def test_facts_name_the_device_and_the_driver_map_finds_it(family: Family) -> None:
    with served(family.app, family.camera()) as dev, drive(dev, family) as d:
        facts = d.facts()
        assert (facts.vendor, facts.activated, facts.model, facts.serial, facts.mac) == (
            family.vendor,
            True,
            family.model,
            family.serial,
            family.mac,
        )
        assert facts.firmware == family.build and facts.build_date == family.build_date
        assert facts.device_name == family.name and facts.device_type == family.device_type
    assert driver_class(family.driver.name) is family.driver
    assert driver_for(load(TOWN).fleet.cameras[family.inventory_camera]) is family.driver


def test_apply_config_writes_only_differences_check_mode_writes_nothing(family: Family) -> None:
    fleet = load(TOWN).fleet
    desired = desired_camera_config(fleet, fleet.cameras[family.inventory_camera])
    state = family.fresh()
    state.activate(PASSWORD)  # activated but never configured: factory settings
    if family.factory_time_zone is not None:
        state.time_zone = family.factory_time_zone
    with served(family.app, state) as dev, drive(dev, family) as d:
        untouched = state.to_dict()
        mark = dev.mark()
        audit = d.apply_config(desired, check=True)
        assert audit.changed and audit.check and not dev.writes()
        assert state.to_dict() == untouched
        assert {s.method for s in dev.since(mark)} == {"GET"}
        for line in family.audit_lines:
            assert line in audit.diff_lines

        first = d.apply_config(desired)
        assert first.changed and not first.check and first.written == audit.written
        assert state.device_name == desired.device_name and state.osd.text == desired.osd_text
        assert state.ntp.enabled and state.ntp.server == "192.168.10.1" and state.time_zone == "CST-7:00:00"
        assert dataclasses.astuple(state.streams[101])[:7] == ("h264", 1920, 1080, 12, 1536, "vbr", 24)
        assert dataclasses.astuple(state.streams[102])[:7] == ("h264", 640, 360, 12, 384, "vbr", 24)
        assert (state.services.upnp, state.services.p2p, state.services.ssh, state.services.telnet) == (False,) * 4
        assert state.masks.enabled and len(state.masks.regions) == len(desired.masks) == 1
        family.apply_details(audit, first, state, dev)

        mark = dev.mark()
        second = d.apply_config(desired)
        assert not second.changed and second.written == () and second.diff_lines == ()
        assert dev.writes(since=mark) == []
        assert second.before == second.after


# --------------------------------------------------------------------------- activation and passwords


def test_activation_of_a_factory_fresh_camera(family: Family) -> None:
    fresh = family.fresh()
    with served(family.app, fresh) as dev, drive(dev, family) as d:
        assert d.facts().activated is False and d.activation_status() is False
        with pytest.raises(NotActivated):
            d.users()
        assert d.activate(PASSWORD) is True
        assert fresh.users["admin"].password == PASSWORD
        assert d.facts().activated and d.activation_status() is True
        assert d.activate(PASSWORD) is False
        assert [(u.name, u.level) for u in d.users()] == [("admin", "administrator")]


def test_password_change_then_the_old_password_is_refused(family: Family) -> None:
    with served(family.app, family.camera()) as dev:
        with drive(dev, family) as d:
            assert [u.name for u in d.users()] == ["admin"]
            added = d.add_user("truc_ban", "Xem-Camera-01", "viewer")
            assert (added.id, added.name, added.level) == (2, "truc_ban", "viewer")
            assert dev.state.users["truc_ban"].level == "User"
            d.set_password("admin", NEW_PASSWORD)
            assert dev.state.users["admin"].password == NEW_PASSWORD
            assert d.facts().model == family.model  # the driver switched to the new password
        with drive(dev, family) as old, pytest.raises(AuthError) as err:
            old.facts()
        assert PASSWORD not in str(err.value) and NEW_PASSWORD not in str(err.value)
        assert str(err.value).startswith("dev-under-test: sai mật khẩu / login refused") and "\n" not in str(err.value)


def test_wrong_password_locks_the_account_without_driver_retries(family: Family) -> None:
    with served(family.app, family.camera()) as dev:
        outcomes = []
        for i in range(5):
            mark = dev.mark()
            with drive(dev, family, f"Wrong-pass-{i}") as d:
                with pytest.raises(AuthError) as err:
                    d.facts()
                outcomes.append(type(err.value))
                # one challenge, one login: the refused password was not tried again
                assert [s.authorised for s in dev.since(mark)] == [False, True]
                again = dev.mark()
                with pytest.raises(AuthError, match="not sending the refused credentials again"):
                    d.read_config()
                assert dev.since(again) == []
        assert outcomes == [AuthError] * 4 + [LockedOut]
        with drive(dev, family) as good, pytest.raises(LockedOut) as locked:
            good.facts()
        assert family.lock_says in str(locked.value)
        dev.clock.offset += family.lock_s
        with drive(dev, family) as good:
            assert good.facts().activated


def test_login_lock_reads_the_policy_and_a_factory_reset_answers_the_makers_default(family: Family) -> None:
    """What the default-password audit (jobs/default_logins.py) relies on: the lock-out policy read
    with the station's login, and a camera on ``factory_password`` taking its maker's default once."""
    state = family.camera()
    state.login_lock.max_failures = 7
    with served(family.app, state) as dev:
        with drive(dev, family) as d:
            lock = d.login_lock()
        assert (lock.enabled, lock.max_failures) == (True, 7) and lock.lock_s
        dev.faults.set(Fault.factory_password)
        default = "12345" if family.vendor == "hikvision" else "admin"
        with drive(dev, family, default) as d:
            assert d.facts().activated
        with drive(dev, family) as d, pytest.raises(AuthError):
            d.facts()  # the vault's password no longer works
        assert state.login_lock.refused_total == 1


# --------------------------------------------------------------------------- faults and maintenance


def test_faults_offline_hang_malformed_slow(family: Family) -> None:
    with served(family.app, family.camera()) as dev:
        dev.faults.set(Fault.offline)
        with drive(dev, family) as d, pytest.raises(Unreachable):
            d.facts()
        dev.faults.clear()

        dev.faults.set(Fault.hang)
        start = time.monotonic()
        with drive(dev, family, timeout=0.5) as d, pytest.raises(DeviceTimeout, match=r"within 0\.5 s"):
            d.facts()
        assert time.monotonic() - start < 2.0
        dev.faults.clear()

        with drive(dev, family) as d:
            assert d.facts().activated  # prime the digest challenge, then break the replies
            dev.faults.set(Fault.malformed)
            with pytest.raises(MalformedReply, match=family.malformed):
                d.facts()
            with pytest.raises(MalformedReply, match=family.malformed):
                d.read_config()
            dev.faults.clear()

            dev.faults.set(Fault.slow, delay_s=family.slow_s)
            start = time.monotonic()
            assert d.facts().device_name == family.name
            assert time.monotonic() - start >= family.slow_s
            dev.faults.clear()


def test_clock_snapshot_config_export(family: Family) -> None:
    with served(family.app, family.camera()) as dev, drive(dev, family) as d:
        clock = d.time()
        assert clock.utc_offset_s == 7 * 3600 and abs(clock.skew_s) < family.skew_tolerance_s
        dev.faults.set(Fault.clock_drift, seconds=family.drift_s)
        assert abs(d.time().skew_s - family.drift_s) < family.skew_tolerance_s
        jpeg = d.snapshot()
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9" and len(jpeg) > 1000
        export = d.config_export()
        assert family.export_marker in export
        if family.export_has_no_password:
            assert PASSWORD.encode() not in export


@pytest.mark.slow
def test_firmware_upload_runs_the_new_build_and_a_failed_flash_is_an_error(family: Family) -> None:
    with served(family.app, family.camera()) as dev, drive(dev, family) as d:
        d.progress_poll_s = 0.05  # type: ignore[misc]
        seen: list[int] = []
        result = d.firmware_upload(make_firmware(family.model, family.new_build), seen.append)
        assert result.state in ("succeeded", "rebooting") and seen[-1] == 100 and any(0 <= p < 100 for p in seen[:-1])
        assert result.rebooting is family.reboots_itself and result.reboot_required is not family.reboots_itself
        if not family.reboots_itself:
            assert d.facts().firmware == family.build  # flashed, not yet running
            d.reboot()
            with pytest.raises(Unreachable):
                d.facts()
        assert d.wait_online(timeout_s=10, poll_s=0.1).firmware == family.new_build

        dev.faults.set(Fault.flash_fail)
        with pytest.raises(DeviceError, match=family.flash_fail) as failed:
            d.firmware_upload(make_firmware(family.model, "V9.9.9 build 991231"))
        assert (failed.value.status_code, failed.value.sub_status) == family.flash_fail_codes
        assert dev.state.firmware == family.new_build
        dev.faults.clear()
        with pytest.raises(DeviceError, match=family.other_model_refused):
            d.firmware_upload(make_firmware(*family.other_model))
        assert (
            dev.state.firmware == family.new_build and d.firmware_status().state == family.upgrade_state_after_refusal
        )
