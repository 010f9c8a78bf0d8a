"""Whether a recorder channel records the inventory's camera (:func:`camfleet.jobs.recorders.identity_ok`):
serial first (a full Hikvision serial ending in the short one an installer wrote is the same camera),
else MAC in any case or separator, else model and address; None when nothing can be compared. And
the audit's line (:func:`wrong_cameras`), Vietnamese first, naming the camera really recorded.

    .venv/bin/pytest tests/unit/test_channel_identity.py -q
"""

from __future__ import annotations

import dataclasses

import pytest

from camfleet.drivers.base import ChannelIdentity
from camfleet.inventory import load
from camfleet.inventory.fleet import Fleet
from camfleet.jobs.recorders import identity_ok, wrong_cameras
from tests.conftest import TOWN

A, B = "cam-01-t01", "cam-01-t02"  # nvr-01 channels 1 and 2


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return load(TOWN, overlay=False).fleet


def test_the_serial_decides_and_a_short_serial_matches_the_full_one(fleet: Fleet) -> None:
    a = fleet.cameras[A].device
    assert a is not None and a.serial is not None
    assert identity_ok(fleet, A, ChannelIdentity(1, serial=a.serial)) is True
    assert identity_ok(fleet, A, ChannelIdentity(1, serial=a.serial.lower(), mac="00:00:00:00:00:01")) is True
    assert identity_ok(fleet, B, ChannelIdentity(2, serial=a.serial, mac=fleet.cameras[B].device.mac)) is False  # type: ignore[union-attr]
    short = a.model_copy(update={"serial": a.serial[-9:]})
    cams = {**fleet.cameras, A: fleet.cameras[A].model_copy(update={"device": short})}
    assert identity_ok(dataclasses.replace(fleet, cameras=cams), A, ChannelIdentity(1, serial=a.serial)) is True


def test_without_a_serial_the_mac_then_model_and_address_decide(fleet: Fleet) -> None:
    a = fleet.cameras[A].device
    assert a is not None and a.mac is not None
    assert identity_ok(fleet, A, ChannelIdentity(1, mac=a.mac.upper().replace(":", "-"))) is True
    assert identity_ok(fleet, A, ChannelIdentity(1, mac="02:00:00:00:00:09")) is False
    where = fleet.endpoint(A).host
    assert identity_ok(fleet, A, ChannelIdentity(1, model=a.model, address=where)) is True
    assert identity_ok(fleet, A, ChannelIdentity(1, model=a.model, address="10.99.0.1")) is False
    assert identity_ok(fleet, A, ChannelIdentity(1, model=a.model)) is None  # nothing to compare with


def test_the_audit_names_the_channel_the_recorder_and_the_camera_really_recorded(fleet: Fleet) -> None:
    a, b = fleet.cameras[A].device, fleet.cameras[B].device
    assert a is not None and b is not None
    seen = {1: ChannelIdentity(1, serial=b.serial), 2: ChannelIdentity(2, serial=a.serial), 3: ChannelIdentity(3)}
    lines = wrong_cameras(fleet, "nvr-01", seen)
    assert len(lines) == 2
    assert lines[0].startswith(f"kênh 1 của nvr-01 đang ghi camera khác: {B} thay vì {A}")
    assert " / channel 1 of nvr-01 records another camera: " in lines[0]
    assert wrong_cameras(fleet, "nvr-01", {1: ChannelIdentity(1, serial=a.serial)}) == []
