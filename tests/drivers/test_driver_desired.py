"""Unit tests of the desired-config model, the diff, the driver map, error wording and the
vendor parsers on recorded reply text: no sockets.

    .venv/bin/pytest tests/drivers/test_driver_desired.py -q
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from camfleet.config.camera import desired_camera_config
from camfleet.drivers import driver_class, open_driver
from camfleet.drivers.dahua import DahuaCamera, _error_reason, _firmware, zone_index
from camfleet.drivers.desired import Mask, diff, label_offset
from camfleet.drivers.errors import DeviceError, LockedOut, MalformedReply
from camfleet.drivers.hikvision import HikvisionCamera, posix_zone, zone_label
from camfleet.inventory import load
from camfleet.inventory.fleet import EndpointError
from camfleet.model import KNOWN_DRIVERS

TOWN = Path(__file__).resolve().parents[2] / "inventory" / "ngoc-lac"


@pytest.fixture(scope="module")
def fleet():  # type: ignore[no-untyped-def]
    return load(TOWN).fleet


def test_time_zone_mappings() -> None:
    assert label_offset("UTC+07:00") == 25200 and label_offset("UTC-03:30") == -12600 and label_offset("CST") is None
    assert posix_zone(25200) == "CST-7:00:00" and zone_label("CST-7:00:00") == "UTC+07:00"
    assert zone_label("CST+5:30:00") == "UTC-05:30" and zone_label("not a zone").startswith("POSIX")
    # Daylight saving is read in full, not as "POSIX ..." (the test of the rules is in test_real_replies.py)
    assert zone_label("CET-1CEST,M3.5.0,M10.5.0/3") == "UTC+01:00 DST UTC+02:00 M3.5.0/02:00:00,M10.5.0/03:00:00"
    assert zone_index(25200) == 12 and zone_index(0) == 0
    with pytest.raises(ValueError, match="UTC\\+07:15"):
        zone_index(7 * 3600 + 900)


def test_diff_lines_and_unmanaged_sub_stream(fleet) -> None:  # type: ignore[no-untyped-def]
    wanted = desired_camera_config(fleet, fleet.cameras["cam-05-t01"])
    have = dataclasses.replace(
        wanted,
        main=dataclasses.replace(wanted.main, fps=25),
        masks=(Mask(0.0505, 0.0795, 0.2, 0.25),),  # the device's grid: equal within tolerance
        sub=None,
    )
    d = diff(have, wanted)
    assert d.changed == ("main", "sub")
    assert d.lines[0] == "main.fps: 25 -> 12" and d.lines[1].startswith("sub: none -> {codec: 'h264'")
    assert d.before["main"]["fps"] == 25 and d.after["main"]["fps"] == 12
    assert diff(wanted, dataclasses.replace(wanted, sub=None)).changed == ()  # no sub profile: not managed
    assert Mask(0.1, 0.1, 0.2, 0.2) != Mask(0.11, 0.1, 0.2, 0.2)
    # Secrets never reach a diff, at any depth (a key named like one is dropped from both sides).
    assert "password" not in repr(diff(have, wanted).before) and diff(wanted, wanted).lines == ()


def test_errors_are_one_line_with_what_the_device_said() -> None:
    err = DeviceError("cam-01-t01", "PUT /ISAPI/System/time\nrefused", "Invalid XML Content,\n badParameters")
    assert (
        str(err)
        == "cam-01-t01: thiết bị từ chối / PUT /ISAPI/System/time refused (device said: Invalid XML Content, badParameters)"
    )
    assert str(LockedOut("nvr-01", "locked out")) == "nvr-01: tài khoản bị khóa / locked out"
    assert str(MalformedReply("x", "y", "<Respo")) == "x: trả lời không đọc được / y (device said: <Respo)"


def test_driver_map_and_recorded_reply_parsers(fleet) -> None:  # type: ignore[no-untyped-def]
    assert {driver_class(n).name for n in KNOWN_DRIVERS} == set(KNOWN_DRIVERS)
    assert _firmware("2.800.0000016.0.R,build:2020-06-05")[0] == "V2.800.0000016.0.R.200605"
    assert _firmware("2.800.0000016.0.R") == ("V2.800.0000016.0.R", None)
    assert _error_reason("Error\r\nBad Request!\r\n") == "Bad Request!" and _error_reason("OK\r\n") is None
    assert _error_reason("Error: No Events\r\n") == "No Events"
    with DahuaCamera("c", "127.0.0.1", 80, "admin", "x") as d:
        assert d.kv("table.NTP.Enable=true\r\ntable.NTP.Address=10.0.0.1\r\n", "t") == {
            "table.NTP.Enable": "true",
            "table.NTP.Address": "10.0.0.1",
        }
        with pytest.raises(MalformedReply, match="c: trả lời không đọc được / reply to t is not key=value text"):
            d.kv("table.NTP.Enable=true\r\ntable.NT", "t")
    cam = fleet.cameras["cam-05-t01"]
    with open_driver(fleet, cam.id, "admin", "secret") as d:
        assert isinstance(d, HikvisionCamera)
        assert (d.device_id, d.host, d.port) == ("cam-05-t01", cam.network.address, 80)
    no_address = dataclasses.replace(
        fleet,
        cameras={
            **fleet.cameras,
            cam.id: cam.model_copy(update={"network": cam.network.model_copy(update={"address": None})}),
        },
    )
    with pytest.raises(EndpointError, match=r"no network\.address"):
        open_driver(no_address, cam.id, "a", "b")
