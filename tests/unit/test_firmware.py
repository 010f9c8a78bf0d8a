"""The firmware catalogue and store without sockets: catalogue lookups, file verification, the vulnerable-build list."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from camfleet.cli import main as camfleet
from camfleet.drivers import live_url
from camfleet.inventory import load
from camfleet.inventory.catalogue import FirmwareError, status_of, vulnerable_devices
from camfleet.jobs.firmware import ProgressLog, verified_file, verify_store
from camfleet.sim.devices import make_firmware, parse_firmware
from camfleet.sim.firmware import fetch_sim
from tests.conftest import TOWN


@pytest.fixture(scope="module")
def fleet():  # type: ignore[no-untyped-def]
    return load(TOWN, overlay=False).fleet


def test_status_names_the_approved_build_and_the_cves_of_a_known_bad_one(fleet) -> None:  # type: ignore[no-untyped-def]
    old = status_of(fleet, "cam-03-t04", None)
    assert (old.current, old.approved, old.up_to_date) == ("V5.6.3 build 190923", "V5.7.15 build 230519", False)
    assert old.vulnerable is not None and old.vulnerable.cves == ("CVE-2021-36260",)
    current = status_of(fleet, "cam-03-t04", "V5.7.15 build 230519")
    assert current.up_to_date and current.vulnerable is None
    assert status_of(fleet, "nvr-01", None).approved == "V4.62.210 build 230306"


def test_a_model_missing_from_the_catalogue_says_where_to_add_it(fleet) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FirmwareError, match=r"no approved firmware for hikvision DS-2CD1023G0E-I in .*firmware.yml"):
        status_of(fleet, "cam-01-c02", None)


def test_vulnerable_devices_are_the_three_old_builds_of_the_reference_town(fleet) -> None:  # type: ignore[no-untyped-def]
    found = {s.device: s.vulnerable.cves for s in vulnerable_devices(fleet) if s.vulnerable}
    assert found == {
        "cam-01-t04": ("CVE-2021-33044", "CVE-2021-33045"),
        "cam-03-t04": ("CVE-2021-36260",),
        "cam-05-t03": ("CVE-2021-36260",),
    }


def test_sim_files_match_the_reference_catalogue_and_carry_the_approved_build(fleet, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    written = fetch_sim(fleet, tmp_path)
    assert len(written) == 3
    check = verify_store(fleet, tmp_path)
    assert check.problems == [] and len(check.good) == 3
    image = parse_firmware((tmp_path / "digicap_DS-2CD1023G2_V5.7.15_230519.dav").read_bytes())
    assert image is not None and image.build == "V5.7.15 build 230519"


def test_a_tampered_or_missing_file_is_refused_with_both_digests(tmp_path: Path) -> None:
    data = make_firmware("DS-2CD1023G2-LIU", "V5.7.15 build 230519")
    good = hashlib.sha256(data).hexdigest()
    (tmp_path / "a.dav").write_bytes(data + b"x")
    with pytest.raises(FirmwareError, match=f"has sha256 [0-9a-f]{{64}}, the catalogue approves {good}"):
        verified_file(tmp_path, "a.dav", good)
    with pytest.raises(FirmwareError, match="is missing"):
        verified_file(tmp_path, "b.dav", good)
    with pytest.raises(FirmwareError, match="plain file name"):
        verified_file(tmp_path, "../a.dav", good)
    (tmp_path / "a.dav").write_bytes(data)
    assert verified_file(tmp_path, "a.dav", good) == tmp_path / "a.dav"


def test_stream_urls_per_vendor() -> None:
    assert live_url("hikvision", "127.1.0.1", 554, sub=True) == "rtsp://127.1.0.1:554/Streaming/Channels/102"
    assert live_url("dahua", "127.1.0.1", 8554).endswith("/cam/realmonitor?channel=1&subtype=0")


def test_progress_log_keeps_distinct_samples_and_appends_to_the_file(tmp_path: Path) -> None:
    log = ProgressLog("cam-01-t01", tmp_path / "p.log")
    for p in (0, 0, 40, 40, 100):
        log(p)
    assert log.samples == [0, 40, 100]
    assert (tmp_path / "p.log").read_text().count("cam-01-t01 flash") == 3


def test_cli_verify_fails_on_an_empty_store_and_vulnerable_lists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert camfleet(["firmware", "verify", str(TOWN), "--store", str(tmp_path)]) == 1
    assert "is missing" in capsys.readouterr().err
    assert camfleet(["firmware", "vulnerable", str(TOWN)]) == 0
    assert "cam-05-t03" in capsys.readouterr().out
