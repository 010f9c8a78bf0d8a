"""The camera baseline rendered from the inventory (camfleet.config.camera): no sockets.

.venv/bin/pytest tests/unit/test_config_camera.py -q
"""

from __future__ import annotations

import dataclasses

import pytest

from camfleet.config.camera import ascii_text, desired_camera_config, utc_offset_label
from camfleet.drivers.desired import Mask
from camfleet.inventory import load
from tests.conftest import TOWN


@pytest.fixture(scope="module")
def fleet():  # type: ignore[no-untyped-def]
    return load(TOWN).fleet


def test_desired_config_from_the_inventory(fleet) -> None:  # type: ignore[no-untyped-def]
    cam = fleet.cameras["cam-05-t02"]  # landmark "Trước chợ Minh Khai", no masks
    cfg = desired_camera_config(fleet, cam)
    assert (cfg.device_name, cfg.osd_text, cfg.timezone) == ("cam-05-t02", "Truoc cho Minh Khai", "UTC+07:00")
    assert cfg.ntp_servers == ("192.168.10.1", "vn.pool.ntp.org") and cfg.masks == ()
    assert dataclasses.astuple(cfg.main) == ("h264", 1920, 1080, 12, 1536, "vbr", 24, False, None)
    assert cfg.sub is not None and (cfg.sub.width, cfg.sub.height) == (640, 360)
    assert not any(dataclasses.astuple(cfg.services))
    masked = desired_camera_config(fleet, fleet.cameras["cam-05-t01"])
    assert masked.masks == (Mask(0.05, 0.08, 0.2, 0.25),)
    no_stream = cam.model_copy(update={"stream": None})
    with pytest.raises(ValueError, match="cam-05-t02: no stream profiles"):
        desired_camera_config(fleet, no_stream)


def test_text_and_time_zone_labels() -> None:
    assert ascii_text("Đường Lê Lợi") == "Duong Le Loi"
    assert ascii_text("Ngã tư   chợ  Ngọc Lặc, trước cổng trường THCS") == "Nga tu cho Ngoc Lac, truoc cong"
    assert utc_offset_label("Asia/Ho_Chi_Minh") == "UTC+07:00" and utc_offset_label("America/Lima") == "UTC-05:00"
    # A town with daylight saving gets its rule from the zone file's POSIX footer (issue 13)
    assert utc_offset_label("Europe/Berlin") == "UTC+01:00 DST UTC+02:00 M3.5.0/02:00:00,M10.5.0/03:00:00"
    # Dublin's zone file calls winter the "daylight" time (IST-1GMT0): the label turns it the usual way round
    assert utc_offset_label("Europe/Dublin") == "UTC+00:00 DST UTC+01:00 M3.5.0/01:00:00,M10.5.0/02:00:00"
