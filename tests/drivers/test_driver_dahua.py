"""What only the Dahua driver does, against the simulated Dahua camera (CGI, key=value, digest auth) over
real HTTP: setConfig of only the changed keys, the initialisation wizard's last steps, passwords of
other logins. The contract every camera driver keeps is tests/drivers/test_contract.py.

.venv/bin/pytest tests/drivers/test_driver_dahua.py -q
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from driver_sim import served

from camfleet.drivers.dahua import DahuaCamera
from camfleet.drivers.errors import (
    DeviceError,
    Unsupported,
)
from camfleet.sim.dahua import camera_app
from camfleet.sim.devices import CameraState, MaskRect

TOWN = Path(__file__).resolve().parents[2] / "inventory" / "ngoc-lac"
MODEL, SERIAL, MAC = "IPC-HFW1230S1-S5", "7K0F52177252PAZ", "3c:ef:8c:79:51:e3"
BUILD, NEW_BUILD = "V2.800.0000016.0.R.200605", "V2.840.0000000.11.R.230412"
PASSWORD = "Ngoc-Lac-2023"


def camera(**kw: object) -> CameraState:
    return CameraState.configured(
        "dahua", MODEL, SERIAL, MAC, BUILD, admin_password=PASSWORD, name="kp05-cho", ntp_server="10.20.0.1", **kw
    )  # type: ignore[arg-type]


def test_read_config_of_a_configured_camera() -> None:
    state = camera(masks=[MaskRect(0.1, 0.2, 0.3, 0.1)])
    state.services.telnet = True
    with served(camera_app, state) as dev, dev.driver(DahuaCamera, PASSWORD) as d:
        cfg = d.read_config()
    assert (cfg.device_name, cfg.timezone, cfg.ntp_servers, cfg.osd_text) == (
        "kp05-cho",
        "UTC+07:00",
        ("10.20.0.1",),
        "kp05-cho",
    )
    assert dataclasses.astuple(cfg.main) == ("h264", 1920, 1080, 25, 4096, "cbr", 50, False, None)
    assert cfg.sub is not None and (cfg.sub.width, cfg.sub.height, cfg.sub.fps) == (704, 576, 15)
    assert cfg.services.telnet and not cfg.services.upnp
    (mask,) = cfg.masks
    assert abs(mask.x - 0.1) < 0.002 and abs(mask.w - 0.3) < 0.002


def test_setconfig_is_sent_with_only_the_changed_keys() -> None:
    with served(camera_app, camera()) as dev, dev.driver(DahuaCamera, PASSWORD) as d:
        current = d.read_config()
        wanted = dataclasses.replace(current, osd_text="Nga tu cho")
        result = d.apply_config(wanted)
        assert result.written == ("osd_text",) and result.diff_lines == ("osd_text: 'kp05-cho' -> 'Nga tu cho'",)
        assert dev.state.osd.text == "Nga tu cho" and dev.state.device_name == "kp05-cho"


def test_initialisation_turns_p2p_off_and_only_the_own_password_changes_here() -> None:
    fresh = CameraState.factory_fresh("dahua", MODEL, SERIAL, MAC, BUILD)
    with served(camera_app, fresh) as dev, dev.driver(DahuaCamera, PASSWORD) as d:
        assert fresh.services.p2p is True  # out of the box [?]
        assert d.activate(PASSWORD) is True
        assert fresh.services.p2p is False  # the wizard's last step: NetAccess 0
        d.add_user("truc_ban", "Xem-Camera-01", "viewer")
        with pytest.raises(Unsupported, match="old one"):
            d.set_password("truc_ban", "Another-Pass-1")
        d.set_user_password("truc_ban", "Another-Pass-1", "Xem-Camera-01")  # another login: with its old password
        assert fresh.users["truc_ban"].password == "Another-Pass-1"
        with pytest.raises(DeviceError, match="Bad Request"):
            d.add_user("truc_ban", "Xem-Camera-01")  # exists already
