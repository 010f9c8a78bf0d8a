"""``camfleet sign``: the sign recorded in the khu phố file, comments and lines kept, refusals in one line.

.venv/bin/pytest -q -p no:cacheprovider tests/unit/test_sign_command.py
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest

from camfleet.cli import main
from camfleet.inventory import load
from camfleet.inventory.edit import EditError, set_block
from camfleet.inventory.signs import SignError, _validator, record_sign
from tests.conftest import ROOT

MINI = ROOT / "tests" / "fixtures" / "mini-town"
TODAY = "2024-01-15"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64

#: A block-style khu phố file as installers write them: comments above, beside and after the camera.
KP02 = """\
# Khu phố 2 — surveyed 2023-08
cameras:
  # The market corner: mounted on the host's balcony.
  - id: cam-t05
    kind: town
    status: installed   # waiting for its sign
    site: kp-01
    household: hh-01
    location:
      street: Đường Lê Lợi
      lat: 20.0936
      lon: 105.3761
      bearing_deg: 180
    device: {vendor: hikvision, model: DS-2CD1023G2-LIU, mac: 44:19:b6:00:01:05, serial: S5}
    network: {link: link-01, address: 10.78.1.5}
    stream: {main: main-1080p, sub: sub-360p}
    recorder: {id: nvr-01, channel: 3}
    cost:
      amount_vnd: 0
      funding: donation
  # next camera goes here
"""


@pytest.fixture
def town(tmp_path: Path) -> Path:
    dest = tmp_path / "mini"
    shutil.copytree(MINI, dest)
    (dest / "kp-02.yml").write_text(KP02, encoding="utf-8")
    load(dest)
    return dest


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def sign(*args: str) -> int:
    return main(["sign", *args, "--today", TODAY])


def test_a_new_sign_block_is_inserted_with_every_comment_and_line_kept(
    town: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sign("cam-t05", "--installed-on", "2024-01-10", "--inventory", str(town)) == 0
    assert "cam-t05: đã ghi biển lắp ngày / sign recorded, put up on 2024-01-10" in capsys.readouterr().out
    after = (town / "kp-02.yml").read_text(encoding="utf-8")
    before_lines, after_lines = KP02.splitlines(), after.splitlines()
    at = before_lines.index("      funding: donation") + 1
    assert after_lines == [*before_lines[:at], "    sign:", "      installed_on: 2024-01-10", *before_lines[at:]]
    cam = load(town).fleet.cameras["cam-t05"]
    assert cam.sign is not None and cam.sign.installed_on == dt.date(2024, 1, 10) and cam.sign.photo is None
    assert not list(town.rglob("*.tmp"))


def test_the_positional_form_and_a_second_run_change_nothing(town: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sign("cam-t05", str(town), "--installed-on", "2024-01-10") == 0
    first = snapshot(town)
    assert sign("cam-t05", str(town), "--installed-on", "2024-01-10") == 0
    assert "already recorded, nothing changed" in capsys.readouterr().out
    assert snapshot(town) == first


def test_an_existing_block_changes_its_own_line_and_gains_the_photo(
    town: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sign("cam-t05", str(town), "--installed-on", "2024-01-10") == 0
    photo = tmp_path / "IMG_0412.JPG"
    photo.write_bytes(JPEG)
    assert sign("cam-t05", str(town), "--installed-on", "2024-01-11", "--photo", str(photo)) == 0
    lines = (town / "kp-02.yml").read_text(encoding="utf-8").splitlines()
    at = lines.index("    sign:")
    assert lines[at + 1 : at + 3] == ["      installed_on: 2024-01-11", "      photo: photos/signs/cam-t05.jpg"]
    assert len(lines) == len(KP02.splitlines()) + 3
    assert (town / "photos" / "signs" / "cam-t05.jpg").read_bytes() == JPEG
    assert load(town).fleet.cameras["cam-t05"].sign.photo == "photos/signs/cam-t05.jpg"  # type: ignore[union-attr]


def test_a_one_line_flow_sign_is_rewritten_on_its_line(town: Path, tmp_path: Path) -> None:
    photo = tmp_path / "sign.png"
    photo.write_bytes(PNG)
    assert sign("cam-t01", str(town), "--installed-on", "2023-09-02", "--photo", str(photo)) == 0
    text = (town / "cameras.yml").read_text(encoding="utf-8")
    assert "    sign: {installed_on: 2023-09-02, photo: photos/signs/cam-t01.png}\n" in text
    assert text.replace("2023-09-02, photo: photos/signs/cam-t01.png", "2023-09-01") == (
        MINI / "cameras.yml"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("camera", "date", "message"),
    [
        (
            "cam-t5",
            "2024-01-10",
            "cam-t5: không có camera này trong {town} / no such camera; có phải / did you mean: cam-t05",
        ),
        (
            "cam-c01",
            "2024-01-10",
            "cam-c01: camera loại hình 1 (của chủ hộ) không có biển / a community camera has no sign",
        ),
        (
            "cam-t05",
            "2024-01-16",
            "cam-t05: ngày 2024-01-16 ở tương lai (hôm nay 2024-01-15) / the date is in the future",
        ),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    town: Path, camera: str, date: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(town)
    assert sign(camera, str(town), "--installed-on", date) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message.format(town=town)), err
    assert snapshot(town) == before


def test_a_planned_camera_and_a_photo_that_is_not_one_are_refused(
    town: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (town / "kp-02.yml").write_text(KP02.replace("status: installed", "status: planned"), encoding="utf-8")
    before = snapshot(town)
    assert sign("cam-t05", str(town), "--installed-on", "2024-01-10") == 1
    assert "cam-t05: camera dự kiến, chưa lắp đặt" in capsys.readouterr().err
    fake = tmp_path / "photo.jpg"
    fake.write_text("<html>not a photo</html>")
    assert sign("cam-t01", str(town), "--installed-on", "2024-01-10", "--photo", str(fake)) == 1
    assert capsys.readouterr().err == f"{fake}: không phải ảnh JPEG hay PNG / not a JPEG or PNG photo\n"
    assert snapshot(town) == before


def test_an_edit_the_town_would_refuse_is_never_written(town: Path) -> None:
    """The whole town is validated with the edit first: a value the schema refuses leaves the file alone."""
    fleet = load(town).fleet
    origin = fleet.origin("cameras", "cam-t05")
    before = snapshot(town)
    with pytest.raises(SignError, match=r"kp-02\.yml:\d+: cam-t05\.sign\.installed_on"):
        set_block(origin.file, origin.path, "sign", {"installed_on": "someday"}, validate=_validator(town, origin.file))
    assert snapshot(town) == before
    with pytest.raises(EditError, match=r"kp-02\.yml:6: status: a block mapping expected"):
        set_block(origin.file, origin.path, "status", {"x": "y"})


def test_record_sign_uses_the_towns_day_by_default(town: Path) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    with pytest.raises(SignError, match="ở tương lai"):
        record_sign(town, "cam-t05", tomorrow)
