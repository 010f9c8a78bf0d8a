"""What only the Hikvision drivers do, against the simulated devices over real HTTP with digest auth:
the NVR, time zones and masks as ISAPI writes them, redirects, activation's password rules. The
contract every camera driver keeps is tests/drivers/test_contract.py.

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
from camfleet.drivers.errors import (
    AuthError,
    DeviceError,
    NotActivated,
)
from camfleet.drivers.hikvision import HikvisionCamera, HikvisionNvr, hik_zone
from camfleet.inventory import load
from camfleet.sim.devices import CameraState, MaskRect, NvrState, ProxyChannel, zone_offset
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
# What every camera driver does is tests/drivers/test_contract.py; here, what only Hikvision's does.


def test_driver_map_names_the_nvr_and_refuses_an_unknown_driver() -> None:
    assert driver_class("hikvision_isapi") is HikvisionCamera and driver_class("hikvision_isapi_nvr") is HikvisionNvr
    fleet = load(TOWN).fleet
    assert driver_for(next(iter(fleet.recorders.values()))) is HikvisionNvr
    with pytest.raises(ValueError, match="unknown driver 'nope'; known drivers: dahua_cgi"):
        driver_class("nope")


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


def test_activation_refuses_a_risky_password_and_a_fresh_camera_reads_not_activated() -> None:
    fresh = CameraState.factory_fresh("hikvision", MODEL, SERIAL, MAC, BUILD)
    with served(camera_app, fresh) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        with pytest.raises(NotActivated, match="not activated"):
            d.read_config()
        with pytest.raises(DeviceError, match="riskPassword"):
            d.activate("12345678")
        assert d.activate(PASSWORD) is True and fresh.activated


def test_a_password_changed_elsewhere_is_tried_once_with_the_cached_nonce() -> None:
    new = "Moi-Mat-Khau-24"
    with served(camera_app, camera()) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        d.set_password("admin", new)
        assert d.facts().model == MODEL
        dev.state.users["admin"].password = "Changed-Elsewhere-1"
        mark = dev.mark()
        with pytest.raises(AuthError):
            d.facts()
        # the cached nonce was sent once with the old password; no second try on a fresh challenge
        assert [s.authorised for s in dev.since(mark)] == [True]


# --------------------------------------------------------------------------- faults


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


def test_a_schedule_switched_off_on_the_recorder_reads_none_and_is_switched_back_on() -> None:
    """The simulated recorder answers as real ones do (Track/Enable false on every track, the switch in
    CustomExtension/enableSchedule): a channel whose switch is off records nothing and audits as such."""
    state = nvr()
    with served(nvr_app, state) as dev, dev.driver(HikvisionNvr, PASSWORD) as d:
        assert d.set_channel(3, "10.78.1.2", 8000, "admin", "Cam-pass-2024", "cam-01-t01") is True
        assert d.recording_schedule(3) == "continuous"
        state.schedule_switch[3] = False  # someone unticked "Enable Schedule" in the recorder's web page
        state.tick(time.time(), 10, lambda n: True, lambda n: 1024)
        assert d.channel_status()[3].recording is False and d.recording_schedule(3) == "none"
        assert d.set_recording_schedule(3) is True and state.schedule_switch[3] is True
        assert d.recording_schedule(3) == "continuous" and d.set_recording_schedule(3) is False
        state.tick(time.time() + 10, 10, lambda n: True, lambda n: 1024)
        assert d.channel_status()[3].recording is True


def test_a_zone_with_daylight_saving_reads_its_offset_at_the_moment_asked() -> None:
    """The simulated camera keeps the DST rule it is given and answers localTime with the offset in force."""
    state = camera()
    south = "CST-10:00:00DST01:00:00,M10.1.0/02:00:00,M4.1.0/03:00:00"  # saving from October to April
    north = "CST+5:00:00DST01:00:00,M3.2.0/02:00:00,M11.1.0/02:00:00"
    with served(camera_app, state) as dev, dev.driver(HikvisionCamera, PASSWORD) as d:
        for zone, label in ((south, "UTC+10:00 DST UTC+11:00"), (north, "UTC-05:00 DST UTC-04:00")):
            state.time_zone = zone
            clock = d.time()
            local = clock.device_utc.astimezone(dt.timezone(dt.timedelta(seconds=clock.utc_offset_s)))
            zone_now = hik_zone(zone).utcoffset(clock.device_utc)
            assert clock.utc_offset_s == zone_now and local.utcoffset() == dt.timedelta(seconds=zone_now)
            assert d.read_config().timezone.startswith(label)
        desired = dataclasses.replace(
            d.read_config(), timezone="UTC+01:00 DST UTC+02:00 M3.5.0/02:00:00,M10.5.0/03:00:00"
        )
        d.apply_config(desired)
    assert state.time_zone == "CST-1:00:00DST01:00:00,M3.5.0/02:00:00,M10.5.0/03:00:00"
    assert zone_offset(state.time_zone, dt.datetime(2026, 7, 1, tzinfo=dt.UTC).timestamp()) == 7200
    assert zone_offset(state.time_zone, dt.datetime(2026, 12, 1, tzinfo=dt.UTC).timestamp()) == 3600
    assert zone_offset(south, dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()) == 11 * 3600


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
