"""HikvisionCamera and HikvisionNvr against the simulated devices, over real HTTP with digest auth.

Each test serves its device on a random 127.77.x.y address (tests/drivers/driver_sim.py), drives
it with the synchronous driver and asserts on the simulator's state and on the requests it saw.

    .venv/bin/pytest tests/drivers/test_driver_hikvision.py -q
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest
from aiohttp import web
from driver_sim import served

from camfleet.drivers import driver_class, driver_for
from camfleet.drivers.base import RecordingRange
from camfleet.drivers.desired import desired_camera_config
from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    DeviceTimeout,
    LockedOut,
    MalformedReply,
    NotActivated,
    Unreachable,
)
from camfleet.drivers.hikvision import HikvisionCamera, HikvisionNvr
from camfleet.inventory import load
from camfleet.sim.devices import CameraState, MaskRect, NvrState, ProxyChannel, make_firmware
from camfleet.sim.faults import Fault
from camfleet.sim.hikvision import camera_app, nvr_app

TOWN = Path(__file__).resolve().parents[2] / "inventory" / "ngoc-lac"
MODEL, SERIAL, MAC = "DS-2CD1023G2-LIU", "DS-2CD1023G2-LIU20230101AAWRJ83813", "c0:56:e3:00:00:01"
BUILD, NEW_BUILD = "V5.6.3 build 190923", "V5.7.15 build 230519"
PASSWORD = "Ngoc-Lac-2023"


def camera(**kw: object) -> CameraState:
    return CameraState.configured(
        "hikvision", MODEL, SERIAL, MAC, BUILD, admin_password=PASSWORD, name="kp01-cho", ntp_server="10.20.0.1", **kw
    )  # type: ignore[arg-type]


def nvr(disks: list[int] | None = None) -> NvrState:
    return NvrState.configured(
        "hikvision",
        "DS-7732NI-K4",
        "DS-7732NI-K40420230318CCRR288757892",
        "c0:56:e3:a4:55:c5",
        "V4.62.210 build 230306",
        admin_password=PASSWORD,
        name="nvr-01",
        disk_bytes=disks or [4 * 10**12, 4 * 10**12],
    )


# --------------------------------------------------------------------------- identity and config


def test_facts_and_driver_map() -> None:
    with served(camera_app, camera()) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        facts = d.facts()
        assert (facts.vendor, facts.activated, facts.model, facts.serial, facts.mac) == (
            "hikvision",
            True,
            MODEL,
            SERIAL,
            MAC,
        )
        assert facts.firmware == BUILD and facts.build_date == dt.date(2019, 9, 23)
        assert facts.device_name == "kp01-cho" and facts.device_type == "IPCamera"
    assert driver_class("hikvision_isapi") is HikvisionCamera and driver_class("hikvision_isapi_nvr") is HikvisionNvr
    fleet = load(TOWN).fleet
    assert driver_for(fleet.cameras["cam-05-t01"]) is HikvisionCamera
    assert driver_for(next(iter(fleet.recorders.values()))) is HikvisionNvr
    with pytest.raises(ValueError, match="unknown driver 'nope'; known drivers: dahua_cgi"):
        driver_class("nope")


def test_apply_config_writes_only_differences_check_mode_writes_nothing() -> None:
    fleet = load(TOWN).fleet
    cam = fleet.cameras["cam-05-t01"]
    desired = desired_camera_config(fleet, cam)
    state = CameraState.factory_fresh("hikvision", MODEL, SERIAL, MAC, BUILD)
    state.activate(PASSWORD)  # activated but never configured: factory streams, UPnP and P2P on
    with served(camera_app, state) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        untouched = state.to_dict()
        mark = dev.mark()
        audit = d.apply_config(desired, check=True)
        assert audit.changed and audit.check and not dev.writes()
        assert state.to_dict() == untouched
        assert {s.method for s in dev.since(mark)} == {"GET"}
        assert "device_name: 'IP CAMERA' -> 'cam-05-t01'" in audit.diff_lines
        assert "main.fps: 25 -> 12" in audit.diff_lines and "services.upnp: true -> false" in audit.diff_lines
        assert "ntp_servers: [] -> ['192.168.10.1']" in audit.diff_lines  # one server: the device holds one
        assert audit.before["services"] == {"upnp": True, "p2p": True, "telnet": False, "ssh": False}
        assert set(audit.written) == {"device_name", "ntp_servers", "osd_text", "main", "sub", "services", "masks"}

        first = d.apply_config(desired)
        assert first.changed and not first.check and first.written == audit.written
        assert state.device_name == "cam-05-t01" and state.osd.text == "Nga ba Minh Khai"
        assert state.ntp.enabled and state.ntp.server == "192.168.10.1" and state.time_zone == "CST-7:00:00"
        assert dataclasses.astuple(state.streams[101])[:7] == ("h264", 1920, 1080, 12, 1536, "vbr", 24)
        assert dataclasses.astuple(state.streams[102])[:7] == ("h264", 640, 360, 12, 384, "vbr", 24)
        assert (state.services.upnp, state.services.p2p, state.services.ssh, state.services.telnet) == (False,) * 4
        assert state.masks.enabled and len(state.masks.regions) == 1
        region = state.masks.regions[0]
        assert abs(region.x - 0.05) < 0.002 and abs(region.w - 0.2) < 0.002 and abs(region.h - 0.25) < 0.002
        puts = {s.path for s in dev.writes()}
        assert "/ISAPI/System/Network/ssh" not in puts and "/ISAPI/System/Network/UPnP" in puts  # ssh was off already

        mark = dev.mark()
        second = d.apply_config(desired)
        assert not second.changed and second.diff_lines == () and second.written == ()
        assert {s.method for s in dev.since(mark)} == {"GET"}
        assert second.before == second.after


def test_read_config_reports_time_zone_masks_and_off_services() -> None:
    state = camera(masks=[MaskRect(0.1, 0.2, 0.3, 0.1)], tz="CST+5:00:00")
    state.services.ssh = True
    with served(camera_app, state) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        cfg = d.read_config()
    assert cfg.timezone == "UTC-05:00" and cfg.ntp_servers == ("10.20.0.1",) and cfg.services.ssh
    (mask,) = cfg.masks
    assert abs(mask.x - 0.1) < 0.002 and abs(mask.y - 0.2) < 0.002 and abs(mask.w - 0.3) < 0.002


def _redirecting_app(state: object, faults: object, **kw: object) -> web.Application:
    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://198.51.100.7/ISAPI/System/deviceInfo")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", away)
    return app


def test_a_redirect_is_reported_not_followed() -> None:
    with served(_redirecting_app, None) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        with pytest.raises(DeviceError, match=r"redirected to 198\.51\.100\.7; redirects are not followed") as err:
            d.facts()
        assert err.value.http_status == 302 and len(dev.seen) == 1


# --------------------------------------------------------------------------- activation and passwords


def test_activation_of_a_factory_fresh_camera() -> None:
    fresh = CameraState.factory_fresh("hikvision", MODEL, SERIAL, MAC, BUILD)
    with served(camera_app, fresh) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        assert d.facts().activated is False and d.activation_status() is False
        with pytest.raises(NotActivated, match="not activated"):
            d.read_config()
        with pytest.raises(DeviceError, match="riskPassword"):
            d.activate("12345678")
        assert d.activate(PASSWORD) is True
        assert fresh.activated and fresh.users["admin"].password == PASSWORD
        assert d.facts().activated and d.activation_status()
        assert d.activate(PASSWORD) is False


def test_password_change_then_the_old_password_is_refused() -> None:
    new = "Moi-Mat-Khau-24"
    with served(camera_app, camera()) as dev:
        with dev.driver(HikvisionCamera, PASSWORD) as d:
            assert [u.name for u in d.users()] == ["admin"]
            added = d.add_user("truc-ban", "Xem-Camera-01", "viewer")
            assert (added.id, added.level) == (2, "viewer")
            assert dev.state.users["truc-ban"].level == "User"
            d.set_password("admin", new)
            assert dev.state.users["admin"].password == new
            assert d.facts().model == MODEL  # the driver switched to the new password
            dev.state.users["admin"].password = "Changed-Elsewhere-1"
            mark = dev.mark()
            with pytest.raises(AuthError):
                d.facts()
            # the cached nonce was sent once with the old password; no second try on a fresh challenge
            assert [s.authorised for s in dev.since(mark)] == [True]
            dev.state.users["admin"].password = new
        with dev.driver(HikvisionCamera, PASSWORD) as old, pytest.raises(AuthError) as err:
            old.facts()
        assert PASSWORD not in str(err.value) and new not in str(err.value)
        assert str(err.value).startswith("dev-under-test: login refused") and "\n" not in str(err.value)


def test_wrong_password_locks_out_without_driver_retries() -> None:
    with served(camera_app, camera()) as dev:
        outcomes = []
        for i in range(5):
            mark = dev.mark()
            with dev.driver(HikvisionCamera, f"Wrong-pass-{i}") as d:
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
        with dev.driver(HikvisionCamera, PASSWORD) as good, pytest.raises(LockedOut) as locked:
            good.facts()
        assert "lockStatus=locked" in str(locked.value)
        dev.clock.offset += 1801
        with dev.driver(HikvisionCamera, PASSWORD) as good:
            assert good.facts().activated


# --------------------------------------------------------------------------- faults


def test_faults_offline_hang_malformed_slow() -> None:
    with served(camera_app, camera()) as dev:
        dev.faults.set(Fault.offline)
        with dev.driver(HikvisionCamera, PASSWORD) as d, pytest.raises(Unreachable):
            d.facts()
        dev.faults.clear()

        dev.faults.set(Fault.hang)
        start = time.monotonic()
        with (
            dev.driver(HikvisionCamera, PASSWORD, timeout=0.5) as d,
            pytest.raises(DeviceTimeout, match=r"within 0\.5 s"),
        ):
            d.facts()
        assert time.monotonic() - start < 2.0
        dev.faults.clear()

        with dev.driver(HikvisionCamera, PASSWORD) as d:
            assert d.facts().activated  # prime the digest challenge, then break the replies
            dev.faults.set(Fault.malformed)
            with pytest.raises(MalformedReply, match="not valid XML"):
                d.facts()
            dev.faults.clear()

            dev.faults.set(Fault.slow, delay_s=0.3)
            start = time.monotonic()
            assert d.facts().model == MODEL
            assert time.monotonic() - start >= 0.3
            dev.faults.clear()


def test_clock_snapshot_config_export() -> None:
    with served(camera_app, camera()) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        clock = d.time()
        assert clock.utc_offset_s == 7 * 3600 and abs(clock.skew_s) < 2
        dev.faults.set(Fault.clock_drift, seconds=300)
        assert 298 < d.time().skew_s < 302
        jpeg = d.snapshot()
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9" and len(jpeg) > 1000
        blob = d.config_export()
        assert blob.startswith(b"CAMFLEET-SIM-CONFIG")


@pytest.mark.slow
def test_firmware_upload_then_reboot_runs_the_new_build_and_flash_fail_is_an_error() -> None:
    with served(camera_app, camera()) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        d.progress_poll_s = 0.05  # type: ignore[misc]
        seen: list[int] = []
        result = d.firmware_upload(make_firmware(MODEL, NEW_BUILD), seen.append)
        assert result.state == "succeeded" and result.reboot_required
        assert seen[-1] == 100 and any(0 <= p < 100 for p in seen[:-1])
        assert d.facts().firmware == BUILD  # flashed, not yet running
        d.reboot()
        with pytest.raises(Unreachable):
            d.facts()
        assert d.wait_online(timeout_s=10, poll_s=0.1).firmware == NEW_BUILD

        dev.faults.set(Fault.flash_fail)
        with pytest.raises(DeviceError) as err:
            d.firmware_upload(make_firmware(MODEL, "V5.7.20 build 240101"))
        assert (err.value.status_code, err.value.sub_status) == (3, "badFlash")
        dev.faults.clear()
        with pytest.raises(DeviceError, match="upgrade packet mismatch"):
            d.firmware_upload(make_firmware("DS-7732NI-K4", "V4.62.210 build 230306"))
        assert dev.state.firmware == NEW_BUILD and d.firmware_status().state == "idle"


# --------------------------------------------------------------------------- NVR


def test_nvr_channels_are_idempotent_and_report_status() -> None:
    state = nvr()
    with served(nvr_app, state) as dev, dev.driver(HikvisionNvr, PASSWORD) as d:
        assert d.set_channel(3, "10.78.1.2", 8000, "admin", "Cam-pass-2024", "cam-01-t01") is True
        assert state.channels[3].password == "Cam-pass-2024" and state.schedules[3] == "continuous"
        mark = dev.mark()
        assert d.set_channel(3, "10.78.1.2", 8000, "admin", "Cam-pass-2024", "cam-01-t01") is False
        assert {s.method for s in dev.since(mark)} == {"GET"}
        assert d.set_channel(3, "10.78.1.9", 8000, "admin", "Other-pass-2024", "cam-01-t01") is True
        assert state.channels[3].address == "10.78.1.9" and state.channels[3].password == "Cam-pass-2024"
        assert d.set_channel(3, "10.78.1.9", 8000, "admin", "Other-pass-2024", "cam-01-t01", rewrite_password=True)
        assert state.channels[3].password == "Other-pass-2024"
        (ch,) = d.channels()
        assert (ch.number, ch.name, ch.address, ch.port, ch.protocol, ch.username) == (
            3,
            "cam-01-t01",
            "10.78.1.9",
            8000,
            "HIKVISION",
            "admin",
        )
        assert d.channel_status()[3].online is False
        state.tick(time.time(), 10, lambda n: True, lambda n: 1024)
        status = d.channel_status()[3]
        assert (status.online, status.recording, status.detail) == (True, True, "connect")

        assert d.recording_schedule(3) == "continuous"
        assert d.set_recording_schedule(3, continuous=True) is False
        assert d.set_recording_schedule(3, continuous=False) is True and state.schedules[3] == "none"
        assert d.recording_schedule(3) == "none"
        assert d.set_recording_schedule(3) is True and state.schedules[3] == "continuous"

        assert d.delete_channel(3) is True and not state.channels
        assert d.delete_channel(3) is False


def test_nvr_disks_format_and_recording_search() -> None:
    state = nvr(disks=[2 * 10**12, 2 * 10**12])
    state.add_channel(ProxyChannel(address="10.78.1.2"), 1)
    state.add_channel(ProxyChannel(address="10.78.1.3"), 2)
    now = time.time()
    start = now - 3 * 86400
    for hour in range(72):  # three days of 24/7 recording on channel 1; channel 2's camera is dead
        state.tick(start + (hour + 1) * 3600, 3600, lambda n: n == 1, lambda n: 2048)
    with served(nvr_app, state) as dev, dev.driver(HikvisionNvr, PASSWORD) as d:
        disks = d.disks()
        assert [(k.slot, k.status, k.capacity_bytes // 2**20) for k in disks] == [
            (1, "ok", 2 * 10**12 // 2**20),
            (2, "ok", 2 * 10**12 // 2**20),
        ]
        used = 2048 * 125 * 72 * 3600
        assert abs((disks[0].capacity_bytes - disks[0].free_bytes) - used) <= 2 * 2**20

        oldest, newest = d.search_recordings(1)
        assert oldest is not None and newest is not None
        assert abs(oldest.timestamp() - start) < 1 and abs(newest.timestamp() - (start + 72 * 3600)) < 1
        assert d.search_recordings(2) == RecordingRange(None, None)

        dev.faults.set(Fault.disk_failed, slot=2)
        assert [k.status for k in d.disks()] == ["ok", "error"]
        with pytest.raises(DeviceError) as err:
            d.format_disk(2)
        assert err.value.sub_status == "deviceError"
        dev.faults.clear()
        assert [k.status for k in d.disks()] == ["ok", "unformatted"]
        d.format_disk(2)
        assert [k.status for k in d.disks()] == ["ok", "ok"]
        assert d.facts().device_type == "NVR"
