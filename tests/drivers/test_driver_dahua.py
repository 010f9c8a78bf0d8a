"""DahuaCamera against the simulated Dahua camera (CGI, key=value, digest auth) over real HTTP.

.venv/bin/pytest tests/drivers/test_driver_dahua.py -q
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest
from driver_sim import served

from camfleet.drivers import driver_class, driver_for
from camfleet.drivers.dahua import DahuaCamera
from camfleet.drivers.desired import desired_camera_config
from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    DeviceTimeout,
    LockedOut,
    MalformedReply,
    NotActivated,
    Unreachable,
    Unsupported,
)
from camfleet.inventory import load
from camfleet.sim.dahua import camera_app
from camfleet.sim.devices import CameraState, MaskRect, make_firmware
from camfleet.sim.faults import Fault

TOWN = Path(__file__).resolve().parents[2] / "inventory" / "ngoc-lac"
MODEL, SERIAL, MAC = "IPC-HFW1230S1-S5", "7K0F52177252PAZ", "3c:ef:8c:79:51:e3"
BUILD, NEW_BUILD = "V2.800.0000016.0.R.200605", "V2.840.0000000.11.R.230412"
PASSWORD = "Ngoc-Lac-2023"


def camera(**kw: object) -> CameraState:
    return CameraState.configured(
        "dahua", MODEL, SERIAL, MAC, BUILD, admin_password=PASSWORD, name="kp05-cho", ntp_server="10.20.0.1", **kw
    )  # type: ignore[arg-type]


def test_facts_and_read_config() -> None:
    state = camera(masks=[MaskRect(0.1, 0.2, 0.3, 0.1)])
    state.services.telnet = True
    with served(camera_app, state) as dev, dev.driver(DahuaCamera, PASSWORD) as d:
        facts = d.facts()
        assert (facts.vendor, facts.model, facts.serial, facts.mac, facts.device_name) == (
            "dahua",
            MODEL,
            SERIAL,
            MAC,
            "kp05-cho",
        )
        assert facts.firmware == BUILD and facts.build_date == dt.date(2020, 6, 5)
        cfg = d.read_config()
    assert (cfg.device_name, cfg.timezone, cfg.ntp_servers, cfg.osd_text) == (
        "kp05-cho",
        "UTC+07:00",
        ("10.20.0.1",),
        "kp05-cho",
    )
    assert dataclasses.astuple(cfg.main) == ("h264", 1920, 1080, 25, 4096, "cbr", 50)
    assert cfg.sub is not None and (cfg.sub.width, cfg.sub.height, cfg.sub.fps) == (704, 576, 15)
    assert cfg.services.telnet and not cfg.services.upnp
    (mask,) = cfg.masks
    assert abs(mask.x - 0.1) < 0.002 and abs(mask.w - 0.3) < 0.002
    assert driver_class("dahua_cgi") is DahuaCamera
    assert driver_for(load(TOWN).fleet.cameras["cam-05-t04"]) is DahuaCamera


def test_apply_config_writes_only_differences_check_mode_writes_nothing() -> None:
    fleet = load(TOWN).fleet
    desired = desired_camera_config(fleet, fleet.cameras["cam-05-t04"])
    state = CameraState.factory_fresh("dahua", MODEL, SERIAL, MAC, BUILD)
    state.activate(PASSWORD)
    state.time_zone = "CST+0:00:00"  # set to UTC at the factory
    with served(camera_app, state) as dev, dev.driver(DahuaCamera, PASSWORD) as d:
        untouched = state.to_dict()
        audit = d.apply_config(desired, check=True)
        assert audit.changed and not dev.writes() and {s.path for s in dev.seen} >= {"/cgi-bin/configManager.cgi"}
        assert all("setConfig" not in s.path for s in dev.seen)
        assert state.to_dict() == untouched
        assert "timezone: 'UTC+00:00' -> 'UTC+07:00'" in audit.diff_lines
        assert "main.bitrate_mode: 'cbr' -> 'vbr'" in audit.diff_lines
        assert "services.p2p: true -> false" in audit.diff_lines

        first = d.apply_config(desired)
        assert first.changed and first.written == audit.written
        assert state.device_name == desired.device_name and state.osd.text == desired.osd_text
        assert state.time_zone == "CST-7:00" + ":00" and state.ntp.enabled and state.ntp.server == "192.168.10.1"
        assert dataclasses.astuple(state.streams[101])[:7] == ("h264", 1920, 1080, 12, 1536, "vbr", 24)
        assert dataclasses.astuple(state.streams[102])[:7] == ("h264", 640, 360, 12, 384, "vbr", 24)
        assert not (state.services.upnp or state.services.p2p or state.services.telnet or state.services.ssh)
        assert state.masks.enabled and len(state.masks.regions) == len(desired.masks) == 1

        changes_seen = dev.mark()
        second = d.apply_config(desired)
        assert not second.changed and second.written == () and second.diff_lines == ()
        assert not any("setConfig" in s.path for s in dev.since(changes_seen))


def test_setconfig_is_sent_with_only_the_changed_keys() -> None:
    with served(camera_app, camera()) as dev, dev.driver(DahuaCamera, PASSWORD) as d:
        current = d.read_config()
        wanted = dataclasses.replace(current, osd_text="Nga tu cho")
        result = d.apply_config(wanted)
        assert result.written == ("osd_text",) and result.diff_lines == ("osd_text: 'kp05-cho' -> 'Nga tu cho'",)
        assert dev.state.osd.text == "Nga tu cho" and dev.state.device_name == "kp05-cho"


def test_initialisation_of_a_fresh_camera_and_password_change() -> None:
    fresh = CameraState.factory_fresh("dahua", MODEL, SERIAL, MAC, BUILD)
    with served(camera_app, fresh) as dev:
        with dev.driver(DahuaCamera, PASSWORD) as d:
            assert d.activation_status() is False and d.facts().activated is False
            with pytest.raises(NotActivated):
                d.users()
            assert fresh.services.p2p is True  # out of the box [?]
            assert d.activate(PASSWORD) is True and fresh.users["admin"].password == PASSWORD
            assert fresh.services.p2p is False  # the wizard's last step: NetAccess 0
            assert d.activation_status() is True and d.activate(PASSWORD) is False
            assert [(u.name, u.level) for u in d.users()] == [("admin", "administrator")]
            added = d.add_user("truc_ban", "Xem-Camera-01", "viewer")
            assert (added.name, added.level) == ("truc_ban", "viewer") and fresh.users["truc_ban"].level == "User"
            with pytest.raises(Unsupported, match="old one"):
                d.set_password("truc_ban", "Another-Pass-1")
            d.set_password("admin", "Moi-Mat-Khau-24")
            assert fresh.users["admin"].password == "Moi-Mat-Khau-24" and d.facts().model == MODEL
            with pytest.raises(DeviceError, match="Bad Request"):
                d.add_user("truc_ban", "Xem-Camera-01")  # exists already
        with dev.driver(DahuaCamera, PASSWORD) as old, pytest.raises(AuthError) as err:
            old.facts()
        assert PASSWORD not in str(err.value) and "Moi-Mat-Khau-24" not in str(err.value)


def test_wrong_password_locks_the_account_without_driver_retries() -> None:
    with served(camera_app, camera()) as dev:
        outcomes = []
        for i in range(5):
            mark = dev.mark()
            with dev.driver(DahuaCamera, f"Wrong-pass-{i}") as d:
                with pytest.raises(AuthError) as err:
                    d.read_config()
                outcomes.append(type(err.value))
                assert [s.authorised for s in dev.since(mark)] == [False, True]
        assert outcomes == [AuthError] * 4 + [LockedOut]
        with dev.driver(DahuaCamera, PASSWORD) as good, pytest.raises(LockedOut, match="User locked"):
            good.facts()


def test_faults_offline_hang_malformed_slow() -> None:
    with served(camera_app, camera()) as dev:
        dev.faults.set(Fault.offline)
        with dev.driver(DahuaCamera, PASSWORD) as d, pytest.raises(Unreachable):
            d.facts()
        dev.faults.clear()
        dev.faults.set(Fault.hang)
        start = time.monotonic()
        with dev.driver(DahuaCamera, PASSWORD, timeout=0.5) as d, pytest.raises(DeviceTimeout):
            d.facts()
        assert time.monotonic() - start < 2.0
        dev.faults.clear()
        with dev.driver(DahuaCamera, PASSWORD) as d:
            assert d.facts().activated
            dev.faults.set(Fault.malformed)
            with pytest.raises(MalformedReply, match="not key=value"):
                d.read_config()
            dev.faults.clear()
            dev.faults.set(Fault.slow, delay_s=0.2)
            start = time.monotonic()
            assert d.facts().device_name == "kp05-cho"
            assert time.monotonic() - start >= 0.2
            dev.faults.clear()


def test_clock_snapshot_export() -> None:
    with served(camera_app, camera()) as dev, dev.driver(DahuaCamera, PASSWORD) as d:
        clock = d.time()
        assert clock.utc_offset_s == 7 * 3600 and abs(clock.skew_s) < 2.5
        dev.faults.set(Fault.clock_drift, seconds=-600)
        assert -602.5 < d.time().skew_s < -597.5
        jpeg = d.snapshot()
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
        export = d.config_export().decode()
        assert "table.General.MachineName=kp05-cho" in export and PASSWORD not in export


@pytest.mark.slow
def test_firmware_upload_reboots_into_the_new_build_and_flash_fail_is_an_error() -> None:
    with served(camera_app, camera()) as dev, dev.driver(DahuaCamera, PASSWORD) as d:
        d.progress_poll_s = 0.05  # type: ignore[misc]
        seen: list[int] = []
        result = d.firmware_upload(make_firmware(MODEL, NEW_BUILD), seen.append)
        assert result.rebooting and seen[-1] == 100 and any(0 <= p < 100 for p in seen[:-1])
        assert d.wait_online(timeout_s=10, poll_s=0.1).firmware == NEW_BUILD

        dev.faults.set(Fault.flash_fail)
        with pytest.raises(DeviceError, match="flash failed"):
            d.firmware_upload(make_firmware(MODEL, "V2.840.0000000.12.R.240101"))
        assert dev.state.firmware == NEW_BUILD
        dev.faults.clear()
        with pytest.raises(DeviceError, match="Invalid firmware"):
            d.firmware_upload(make_firmware("DS-2CD1023G2-LIU", "V5.7.15 build 230519"))
